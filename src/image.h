/* image.h - identify images and videos by their magic bytes and validate their containers. */
#ifndef IH_IMAGE_H
#define IH_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Formats by container; animation is a property (image_info.animated), not a format. */
enum image_format {
	IMAGE_UNKNOWN = 0,
	IMAGE_PNG,                /* and APNG */
	IMAGE_JPEG,
	IMAGE_WEBP,               /* still or animated */
	IMAGE_GIF,                /* still or animated */
	IMAGE_AVIF,               /* ISO BMFF, brand avif or avis (a sequence) */
	IMAGE_HEIF,               /* ISO BMFF, brand heic, heix, mif1, ... */
	IMAGE_MP4,                /* ISO BMFF video: isom, mp41, mp42, avc1, dash, 3gp, ... */
	IMAGE_MOV,                /* ISO BMFF, QuickTime brand "qt  " */
	IMAGE_WEBM,               /* EBML, DocType webm */
	IMAGE_MKV                 /* EBML, DocType matroska */
};

/* Limits on what a sender controls inside an image; 0 means the built-in default. */
struct image_limits {
	uint32_t max_width;       /* default 16384 */
	uint32_t max_height;      /* default 16384 */
	uint64_t max_pixels;      /* default 100000000 */
	uint32_t max_chunk;       /* longest PNG chunk but plain text (tEXt, uncompressed iTXt), default 32 MiB */
	uint32_t max_text_chunk;  /* longest compressed text chunk (zTXt, compressed iTXt, iCCP), default 1 MiB */
	uint32_t max_inflated_text; /* zTXt/iTXt/iCCP inflated, all chunks of one image together, default 8 MiB */
};

#define IMAGE_MAX_KEYWORDS 16

struct image_info {
	enum image_format format;
	uint32_t width;           /* the canvas, or the first video track's picture */
	uint32_t height;
	uint64_t duration_ms;     /* of a video or an animation, as its container states it; 0 when unknown or still */
	uint32_t frames;          /* PNG, JPEG, WebP, GIF: frames (1 when still); 0 (not counted) for the others */
	int animated;             /* APNG, WebP or GIF with more than one frame, or an AVIF/HEIF sequence */
	const char *ext;          /* static: image_format_ext(format), set even when the check fails */
	const char *mime;         /* static: image_format_mime(format), likewise */
	int bit_depth;            /* PNG only; 0 otherwise */
	int color_type;           /* PNG only; -1 otherwise */
	int n_keywords;           /* PNG text chunk keywords, in stream order, the first 16 */
	char keywords[IMAGE_MAX_KEYWORDS][80]; /* NUL-terminated Latin-1 bytes as in the file */
	int has_parameters;       /* a text chunk with keyword "parameters" exists */
};

/*
 * Returns the format the first bytes announce, or IMAGE_UNKNOWN: the magic
 * bytes, and for ISO BMFF the ftyp brands, for EBML the header's DocType
 * (which must lie inside data). Borrows data.
 */
enum image_format image_sniff(const unsigned char *data, size_t len);

/*
 * Returns the format the base64 text[0..len) announces (standard alphabet,
 * whitespace skipped, no "data:" prefix), from its first 96 decoded bytes
 * only, or IMAGE_UNKNOWN (also when that prefix is not valid base64): a
 * cheap test for "is this string media?". Borrows text.
 */
enum image_format image_sniff_base64(const char *text, size_t len);

/*
 * Returns the static file extension for a format: "png", "jpg", "webp", "gif",
 * "avif", "heic", "mp4", "mov", "webm", "mkv", or "bin" for IMAGE_UNKNOWN.
 */
const char *image_format_ext(enum image_format fmt);

/* Returns the static MIME type for a format ("application/octet-stream" if unknown). */
const char *image_format_mime(enum image_format fmt);

/*
 * Returns the static name a record gives the format: "png", "jpeg", "webp",
 * "gif", "avif", "heif", "mp4", "mov", "webm", "matroska", or "unknown".
 */
const char *image_format_name(enum image_format fmt);

/* Returns 1 for the video containers (MP4, MOV, WebM, Matroska), 0 otherwise. */
int image_format_is_video(enum image_format fmt);

/*
 * Validates data[0..len) fully by walking its container, never decoding pixels
 * or frames:
 * - PNG: signature, IHDR via libpng within lim, every chunk's CRC and length,
 *   IEND present and last; APNG's acTL/fcTL/fdAT (sequence numbers, frames
 *   inside the canvas, frame count as announced). Uncompressed text (tEXt,
 *   uncompressed iTXt) is bounded only by PNG's 2^31-1; compressed text and
 *   iCCP by max_text_chunk and a shared inflate budget.
 * - JPEG: marker structure from SOI to EOI, SOF dimensions within lim.
 * - WebP: RIFF sizes consistent, VP8/VP8L/VP8X, ANIM/ANMF frames inside the canvas.
 * - GIF: header, logical screen, colour tables, every block and sub-block
 *   chain, the trailer last.
 * - AVIF/HEIF/MP4/MOV: ftyp first, every box (32- and 64-bit sizes, size 0 to
 *   the end of the file) inside its parent, pitm/ipma/ispe for the primary
 *   image, mvhd/tkhd/hdlr for the video track, item and chunk offsets in the file.
 * - WebM/Matroska: EBML header and DocType, every element's vint size inside
 *   its parent (unknown sizes for Segment and Cluster only), Info's
 *   TimecodeScale and Duration, the first video track's PixelWidth/PixelHeight.
 * Nesting is bounded by MEDIA_MAX_DEPTH, elements by MEDIA_MAX_ELEMENTS
 * (media.h). Bytes after IEND, EOI, the RIFF size, the GIF trailer, the last
 * box or the Segment are refused. Fills *info (may be partial on failure:
 * dimensions are set before they are refused). Returns IH_OK or a negative
 * ih_err (IH_ERR_UNKNOWN_FORMAT, IH_ERR_PNG_*, IH_ERR_IMAGE_TOO_LARGE,
 * IH_ERR_JPEG, IH_ERR_WEBP, IH_ERR_GIF, IH_ERR_ISOBMFF, IH_ERR_EBML,
 * IH_ERR_EMPTY for len 0, IH_ERR_NOMEM). A PNG text chunk that breaks the
 * rules or a decompression bomb gives IH_ERR_PNG_CHUNK; a buffer that starts
 * like a known format but is too short or mangled to sniff gets that
 * format's error. Borrows everything; lim may be NULL for defaults.
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
 * text, or a chunk over 1 MiB: an infotext is a few KiB), IH_ERR_PNG_SIGNATURE / IH_ERR_PNG_HEADER (no signature or
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
