/* media.h - the per-container validators behind image_check(), and the byte readers they share. */
#ifndef IH_MEDIA_H
#define IH_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

/*
 * Bounds every container walk shares: nesting depth (boxes, EBML masters) and
 * the number of elements one file may hold (boxes, EBML elements, GIF blocks,
 * PNG chunks, WebP frames). Both are far above anything an encoder writes and
 * keep the cost of a hostile file linear and small.
 */
#define MEDIA_MAX_DEPTH     16
#define MEDIA_MAX_ELEMENTS  (1u << 20)

/* Built-in defaults of struct image_limits (0 there means these). */
#define MEDIA_DEF_MAX_WIDTH        16384u
#define MEDIA_DEF_MAX_HEIGHT       16384u
#define MEDIA_DEF_MAX_PIXELS       100000000u
#define MEDIA_DEF_MAX_CHUNK        (32u << 20)
#define MEDIA_DEF_MAX_TEXT_CHUNK   (1u << 20)
#define MEDIA_DEF_MAX_INFLATED     (8u << 20)

static inline uint32_t media_be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t media_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t media_be64(const unsigned char *p)
{
	return (uint64_t)media_be32(p) << 32 | media_be32(p + 4);
}

static inline uint32_t media_le16(const unsigned char *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

static inline uint32_t media_le24(const unsigned char *p)
{
	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint32_t media_le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Returns *lim (NULL for none) with every 0 field set to its default. Borrows lim. */
struct image_limits media_limits(const struct image_limits *lim);

/* Returns 1 when w x h is within the limits l (already filled with defaults). */
static inline int media_dims_within(uint32_t w, uint32_t h, const struct image_limits *l)
{
	return w <= l->max_width && h <= l->max_height && (uint64_t)w * h <= l->max_pixels;
}

/*
 * Each validator takes the whole buffer d[0..len) (already sniffed as its
 * format), limits with every default filled in, and *info zeroed with
 * format set; it fills dimensions (before refusing them), duration_ms,
 * frames and animated, and returns IH_OK or a negative ih_err. All borrow.
 */
int media_png_check(const unsigned char *d, size_t len, const struct image_limits *l,
		    struct image_info *info);
int media_jpeg_check(const unsigned char *d, size_t len, const struct image_limits *l,
		     struct image_info *info);
int media_webp_check(const unsigned char *d, size_t len, const struct image_limits *l,
		     struct image_info *info);
int media_gif_check(const unsigned char *d, size_t len, const struct image_limits *l,
		    struct image_info *info);
int media_isobmff_check(const unsigned char *d, size_t len, const struct image_limits *l,
			struct image_info *info);
int media_ebml_check(const unsigned char *d, size_t len, const struct image_limits *l,
		     struct image_info *info);

/*
 * Sniffers for the containers whose magic alone does not name the format:
 * the ftyp brands (AVIF, HEIF, MP4, MOV) and the EBML DocType (WebM,
 * Matroska). Each returns the format or IMAGE_UNKNOWN; borrows d.
 */
enum image_format media_isobmff_sniff(const unsigned char *d, size_t len);
enum image_format media_ebml_sniff(const unsigned char *d, size_t len);

#endif
