/* media_gif.c - GIF: header, logical screen, colour tables, every block and sub-block chain, the trailer; no LZW decoding. */
#include "ih_config.h"

#include <stdint.h>
#include <string.h>

#include "ih_error.h"
#include "media.h"

#define GIF_IMAGE     0x2C
#define GIF_EXTENSION 0x21
#define GIF_TRAILER   0x3B
#define GIF_GCE       0xF9   /* graphic control extension: the frame delay */

/* Size in bytes of the colour table a packed field announces, 0 for none. */
static size_t color_table(unsigned packed)
{
	return (packed & 0x80) ? 3u << ((packed & 7) + 1) : 0;
}

/*
 * Skips a chain of sub-blocks (a size byte, that many bytes) up to its
 * empty terminator. Returns the offset after it, or 0 when the chain runs
 * past the end.
 */
static size_t skip_sub_blocks(const unsigned char *d, size_t len, size_t pos)
{
	while (pos < len) {
		unsigned n = d[pos];

		if (n == 0)
			return pos + 1;
		if (n >= len - pos)
			return 0;
		pos += 1 + (size_t)n;
	}
	return 0;
}

int media_gif_check(const unsigned char *d, size_t len, const struct image_limits *l,
		    struct image_info *info)
{
	size_t pos = 13;
	uint32_t n_images = 0, n_blocks = 0;
	uint64_t delay_cs = 0;

	if (len < 13 || (memcmp(d, "GIF87a", 6) != 0 && memcmp(d, "GIF89a", 6) != 0))
		return IH_ERR_GIF;
	info->width = media_le16(d + 6);
	info->height = media_le16(d + 8);
	if (info->width == 0 || info->height == 0)
		return IH_ERR_GIF;
	if (!media_dims_within(info->width, info->height, l))
		return IH_ERR_IMAGE_TOO_LARGE;
	if (color_table(d[10]) > len - pos)
		return IH_ERR_GIF;
	pos += color_table(d[10]);

	while (pos < len) {
		unsigned type = d[pos++];

		if (++n_blocks > MEDIA_MAX_ELEMENTS)
			return IH_ERR_GIF;
		if (type == GIF_TRAILER) {
			/* Bytes after the trailer are refused, as after PNG's IEND. */
			if (pos != len || n_images == 0)
				return IH_ERR_GIF;
			info->frames = n_images;
			info->animated = n_images > 1;
			info->duration_ms = n_images > 1 ? delay_cs * 10 : 0;
			return IH_OK;
		}
		if (type == GIF_EXTENSION) {
			if (len - pos < 2)
				return IH_ERR_GIF;
			/* a graphic control extension is one block of exactly 4 bytes */
			if (d[pos] == GIF_GCE) {
				if (d[pos + 1] != 4 || len - pos < 7 || d[pos + 6] != 0)
					return IH_ERR_GIF;
				delay_cs += media_le16(d + pos + 3);
			}
			pos = skip_sub_blocks(d, len, pos + 1);
		} else if (type == GIF_IMAGE) {
			uint32_t fw, fh;
			unsigned packed, code_size;

			if (len - pos < 9)
				return IH_ERR_GIF;
			fw = media_le16(d + pos + 4);
			fh = media_le16(d + pos + 6);
			packed = d[pos + 8];
			pos += 9;
			/* frames may lie partly off the screen, but each is bounded like an image */
			if (!media_dims_within(fw, fh, l))
				return IH_ERR_IMAGE_TOO_LARGE;
			if (color_table(packed) >= len - pos)
				return IH_ERR_GIF;
			pos += color_table(packed);
			code_size = d[pos++];
			/* decoders take 1..11; LZW codes are at most 12 bits */
			if (code_size < 1 || code_size > 11)
				return IH_ERR_GIF;
			pos = skip_sub_blocks(d, len, pos);
			n_images++;
		} else {
			return IH_ERR_GIF;
		}
		if (pos == 0)
			return IH_ERR_GIF;
	}
	return IH_ERR_GIF;   /* no trailer */
}
