/* image.h - identify images by their magic bytes and validate their structure. */
#ifndef IH_IMAGE_H
#define IH_IMAGE_H

#include <stddef.h>
#include <stdint.h>

enum image_format {
	IMAGE_UNKNOWN = 0,
	IMAGE_PNG,
	IMAGE_JPEG,
	IMAGE_WEBP
};

/* Limits on what a sender controls inside an image; 0 means the built-in default. */
struct image_limits {
	uint32_t max_width;       /* default 16384 */
	uint32_t max_height;      /* default 16384 */
	uint64_t max_pixels;      /* default 100000000 */
	uint32_t max_chunk;       /* longest PNG chunk, default 32 MiB */
	uint32_t max_text_chunk;  /* longest tEXt/zTXt/iTXt/iCCP chunk, default 1 MiB */
	uint32_t max_inflated_text; /* zTXt/iTXt/iCCP inflated, all chunks of one image together, default 8 MiB */
};

#define IMAGE_MAX_KEYWORDS 16

struct image_info {
	enum image_format format;
	uint32_t width;
	uint32_t height;
	int bit_depth;            /* PNG only; 0 otherwise */
	int color_type;           /* PNG only; -1 otherwise */
	int n_keywords;           /* PNG text chunk keywords, in stream order, the first 16 */
	char keywords[IMAGE_MAX_KEYWORDS][80]; /* NUL-terminated Latin-1 bytes as in the file */
	int has_parameters;       /* a text chunk with keyword "parameters" exists */
};

/* Returns the format the first bytes announce, or IMAGE_UNKNOWN. Borrows data. */
enum image_format image_sniff(const unsigned char *data, size_t len);

/* Returns the static file extension ("png", "jpg", "webp", "bin") for a format. */
const char *image_format_ext(enum image_format fmt);

/* Returns the static MIME type for a format ("application/octet-stream" if unknown). */
const char *image_format_mime(enum image_format fmt);

/*
 * Validates data[0..len) fully: PNG (signature, IHDR via libpng within lim, every
 * chunk's CRC, chunk lengths, IEND present and last), JPEG (marker structure from
 * SOI to EOI, SOF dimensions within lim), WebP (RIFF sizes consistent, dimensions
 * within lim). Pixel data is never decoded. Bytes after IEND, after EOI or past
 * the RIFF size are refused. Fills *info (may be partial on failure: dimensions
 * are set before they are refused). Returns IH_OK or a negative ih_err
 * (IH_ERR_UNKNOWN_FORMAT, IH_ERR_PNG_*, IH_ERR_IMAGE_TOO_LARGE, IH_ERR_JPEG,
 * IH_ERR_WEBP, IH_ERR_EMPTY for len 0, IH_ERR_NOMEM). A PNG text chunk that
 * breaks the rules or a decompression bomb gives IH_ERR_PNG_CHUNK; a buffer
 * that starts like a PNG, JPEG or WebP but is too short or mangled to sniff
 * gets that format's error. Borrows everything; lim may be NULL for defaults.
 */
int image_check(const unsigned char *data, size_t len, const struct image_limits *lim,
		struct image_info *info);

/*
 * Inserts one text chunk (keyword, text) right after IHDR of an already-validated
 * PNG, without touching any other byte: tEXt (text converted from UTF-8 to
 * Latin-1) when every character of text is in Latin-1, an uncompressed iTXt
 * carrying the UTF-8 as is otherwise. keyword is UTF-8 too and must be 1-79
 * printable Latin-1 characters without leading, trailing or doubled spaces.
 * Returns IH_OK, IH_ERR_LIMIT (invalid UTF-8, bad keyword, NULL keyword or
 * text, or a chunk over the default 1 MiB text chunk limit, which image_check
 * would refuse), IH_ERR_PNG_SIGNATURE / IH_ERR_PNG_HEADER (no signature or
 * IHDR where expected) or IH_ERR_NOMEM. On IH_OK *out is a new malloc'd buffer
 * of *out_len bytes the caller frees; otherwise *out is NULL. Borrows png,
 * keyword and text.
 */
int image_png_add_text(const unsigned char *png, size_t len, const char *keyword,
		       const char *text, unsigned char **out, size_t *out_len);

/*
 * Decodes the PNG data[0..len) (one image_check() accepted with the same lim) and
 * box-filters it down so that neither side exceeds max_side (aspect kept, never
 * enlarged), as an 8-bit RGB PNG, or RGBA when it has transparency. Rows are
 * streamed through one buffer; an interlaced PNG is decoded whole, up to 64 MiB.
 * Returns IH_OK, IH_ERR_PNG_SIGNATURE, IH_ERR_PNG_HEADER (libpng refused the data),
 * IH_ERR_IMAGE_TOO_LARGE (outside lim), IH_ERR_LIMIT (max_side 0, interlaced and
 * too large to decode whole) or IH_ERR_NOMEM. On IH_OK *out is a new malloc'd
 * buffer of *out_len bytes the caller frees, and *w, *h the thumbnail's size;
 * otherwise *out is NULL. Borrows data; lim may be NULL for defaults.
 */
int image_png_thumbnail(const unsigned char *data, size_t len, const struct image_limits *lim,
			uint32_t max_side, unsigned char **out, size_t *out_len, uint32_t *w,
			uint32_t *h);

#endif
