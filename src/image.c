/* image.c - sniff a buffer's format by its magic bytes and hand it to that container's validator (media_*.c). */
#include "ih_config.h"

#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "ih_error.h"
#include "image.h"
#include "media.h"

static const unsigned char pngsig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
static const unsigned char ebml_magic[4] = { 0x1A, 0x45, 0xDF, 0xA3 };

struct image_limits media_limits(const struct image_limits *lim)
{
	struct image_limits l = { 0 };

	if (lim)
		l = *lim;
	if (!l.max_width)
		l.max_width = MEDIA_DEF_MAX_WIDTH;
	if (!l.max_height)
		l.max_height = MEDIA_DEF_MAX_HEIGHT;
	if (!l.max_pixels)
		l.max_pixels = MEDIA_DEF_MAX_PIXELS;
	if (!l.max_chunk)
		l.max_chunk = MEDIA_DEF_MAX_CHUNK;
	if (!l.max_text_chunk)
		l.max_text_chunk = MEDIA_DEF_MAX_TEXT_CHUNK;
	if (!l.max_inflated_text)
		l.max_inflated_text = MEDIA_DEF_MAX_INFLATED;
	return l;
}

enum image_format image_sniff(const unsigned char *data, size_t len)
{
	if (len >= 8 && memcmp(data, pngsig, 8) == 0)
		return IMAGE_PNG;
	if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
		return IMAGE_JPEG;
	if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
		return IMAGE_WEBP;
	if (len >= 6 && (memcmp(data, "GIF87a", 6) == 0 || memcmp(data, "GIF89a", 6) == 0))
		return IMAGE_GIF;
	if (len >= 12 && memcmp(data + 4, "ftyp", 4) == 0)
		return media_isobmff_sniff(data, len);
	if (len >= 4 && memcmp(data, ebml_magic, 4) == 0)
		return media_ebml_sniff(data, len);
	return IMAGE_UNKNOWN;
}

/* Enough for the magic of every format: PNG 8 bytes, an ftyp box, an EBML header. */
#define SNIFF_B64_CHARS 128

enum image_format image_sniff_base64(const char *text, size_t len)
{
	char chars[SNIFF_B64_CHARS];
	unsigned char head[SNIFF_B64_CHARS];   /* b64_decoded_max(128) and more */
	size_t i, n = 0, out_len;

	/* the first data characters, whitespace dropped; padding ends the data */
	for (i = 0; i < len && n < SNIFF_B64_CHARS && text[i] != '='; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
			chars[n++] = text[i];
	/* a cut inside a group of 4 leaves bits b64_decode rightly refuses */
	if (i < len && text[i] != '=')
		n -= n % 4;
	else if (n % 4 == 1)
		return IMAGE_UNKNOWN;
	if (n == 0 || b64_decoded_max(n) > sizeof head ||
	    b64_decode(chars, n, head, &out_len) != IH_OK)
		return IMAGE_UNKNOWN;
	return image_sniff(head, out_len);
}

const char *image_format_ext(enum image_format fmt)
{
	switch (fmt) {
	case IMAGE_PNG:
		return "png";
	case IMAGE_JPEG:
		return "jpg";
	case IMAGE_WEBP:
		return "webp";
	case IMAGE_GIF:
		return "gif";
	case IMAGE_AVIF:
		return "avif";
	case IMAGE_HEIF:
		return "heic";
	case IMAGE_MP4:
		return "mp4";
	case IMAGE_MOV:
		return "mov";
	case IMAGE_WEBM:
		return "webm";
	case IMAGE_MKV:
		return "mkv";
	default:
		return "bin";
	}
}

const char *image_format_mime(enum image_format fmt)
{
	switch (fmt) {
	case IMAGE_PNG:
		return "image/png";
	case IMAGE_JPEG:
		return "image/jpeg";
	case IMAGE_WEBP:
		return "image/webp";
	case IMAGE_GIF:
		return "image/gif";
	case IMAGE_AVIF:
		return "image/avif";
	case IMAGE_HEIF:
		return "image/heic";
	case IMAGE_MP4:
		return "video/mp4";
	case IMAGE_MOV:
		return "video/quicktime";
	case IMAGE_WEBM:
		return "video/webm";
	case IMAGE_MKV:
		return "video/x-matroska";
	default:
		return "application/octet-stream";
	}
}

const char *image_format_name(enum image_format fmt)
{
	switch (fmt) {
	case IMAGE_JPEG:
		return "jpeg";
	case IMAGE_HEIF:
		return "heif";
	case IMAGE_MKV:
		return "matroska";
	case IMAGE_UNKNOWN:
		return "unknown";
	default:
		return image_format_ext(fmt);
	}
}

int image_format_is_video(enum image_format fmt)
{
	return fmt == IMAGE_MP4 || fmt == IMAGE_MOV || fmt == IMAGE_WEBM || fmt == IMAGE_MKV;
}

/*
 * For a buffer too short or too damaged to sniff: the format whose magic it
 * starts like, so a cut-off or mangled file gets its format's error rather
 * than "unknown format" (a PNG whose CRLF became LF keeps "\x89PNG"; an MP4
 * with a brand we do not know, or a Matroska file with another DocType,
 * keeps its container's error).
 */
static int damaged_magic_error(const unsigned char *d, size_t len)
{
	if (len < 8 && memcmp(d, pngsig, len) == 0)
		return IH_ERR_PNG_TRUNCATED;
	if (len >= 4 && memcmp(d, pngsig, 4) == 0)
		return IH_ERR_PNG_SIGNATURE;
	if (len < 3 && memcmp(d, "\xFF\xD8\xFF", len) == 0)
		return IH_ERR_JPEG;
	if (len < 12 && memcmp(d, "RIFF", len < 4 ? len : 4) == 0 &&
	    (len <= 8 || memcmp(d + 8, "WEBP", len - 8) == 0))
		return IH_ERR_WEBP;
	if (memcmp(d, "GIF8", len < 4 ? len : 4) == 0)
		return IH_ERR_GIF;
	if (len >= 8 && memcmp(d + 4, "ftyp", 4) == 0)
		return IH_ERR_ISOBMFF;
	if (memcmp(d, ebml_magic, len < 4 ? len : 4) == 0)
		return IH_ERR_EBML;
	return IH_ERR_UNKNOWN_FORMAT;
}

int image_check(const unsigned char *data, size_t len, const struct image_limits *lim,
		struct image_info *info)
{
	struct image_limits l = media_limits(lim);
	int rc;

	memset(info, 0, sizeof(*info));
	info->color_type = -1;
	if (len == 0)
		return IH_ERR_EMPTY;
	info->format = image_sniff(data, len);
	info->ext = image_format_ext(info->format);
	info->mime = image_format_mime(info->format);
	switch (info->format) {
	case IMAGE_PNG:
		rc = media_png_check(data, len, &l, info);
		break;
	case IMAGE_JPEG:
		rc = media_jpeg_check(data, len, &l, info);
		break;
	case IMAGE_WEBP:
		rc = media_webp_check(data, len, &l, info);
		break;
	case IMAGE_GIF:
		rc = media_gif_check(data, len, &l, info);
		break;
	case IMAGE_AVIF:
	case IMAGE_HEIF:
	case IMAGE_MP4:
	case IMAGE_MOV:
		rc = media_isobmff_check(data, len, &l, info);
		break;
	case IMAGE_WEBM:
	case IMAGE_MKV:
		rc = media_ebml_check(data, len, &l, info);
		break;
	default:
		rc = damaged_magic_error(data, len);
		break;
	}
	/* A JPEG is a still image; the other validators say what they found. */
	if (rc == IH_OK && info->format == IMAGE_JPEG)
		info->frames = 1;
	return rc;
}
