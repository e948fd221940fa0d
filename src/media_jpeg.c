/* media_jpeg.c - JPEG: the marker structure from SOI to EOI, SOF dimensions; no entropy decoding. */
#include "ih_config.h"

#include <stdint.h>
#include <string.h>

#include "ih_error.h"
#include "media.h"

static int is_sof(unsigned m)
{
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/*
 * Skips entropy-coded data: it ends at the first 0xFF followed by a byte
 * that is neither 0x00 (a stuffed 0xFF) nor RST0-7 (restart markers live
 * inside the scan). Returns the offset of that 0xFF, or 0 when there is none.
 */
static size_t skip_entropy(const unsigned char *d, size_t len, size_t pos)
{
	while (pos < len) {
		const unsigned char *ff = memchr(d + pos, 0xFF, len - pos);
		size_t i;
		unsigned b;

		if (!ff)
			return 0;
		i = (size_t)(ff - d);
		if (i + 1 >= len)
			return 0;
		b = d[i + 1];
		if (b == 0x00 || (b >= 0xD0 && b <= 0xD7))
			pos = i + 2;
		else if (b == 0xFF)
			pos = i + 1;   /* fill byte: the marker starts at a later 0xFF */
		else
			return i;
	}
	return 0;
}

int media_jpeg_check(const unsigned char *d, size_t len, const struct image_limits *l,
		     struct image_info *info)
{
	size_t pos = 2;
	int have_sof = 0, have_sos = 0;

	if (len < 4 || d[0] != 0xFF || d[1] != 0xD8)
		return IH_ERR_JPEG;
	for (;;) {
		unsigned m;
		size_t seg;
		const unsigned char *body;

		if (pos >= len || d[pos] != 0xFF)
			return IH_ERR_JPEG;
		while (pos < len && d[pos] == 0xFF)   /* any number of fill bytes */
			pos++;
		if (pos >= len)
			return IH_ERR_JPEG;
		m = d[pos++];
		if (m == 0xD9) {
			/* Trailing bytes after EOI are refused, as after PNG's IEND. */
			if (!have_sof || !have_sos || pos != len)
				return IH_ERR_JPEG;
			return IH_OK;
		}
		if (m == 0x00 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7))
			return IH_ERR_JPEG;
		if (m == 0x01)   /* TEM: no length */
			continue;
		if (len - pos < 2)
			return IH_ERR_JPEG;
		seg = media_be16(d + pos);
		if (seg < 2 || seg > len - pos)
			return IH_ERR_JPEG;
		body = d + pos + 2;
		if (is_sof(m)) {
			uint32_t w, h;
			unsigned nf;

			if (have_sof || seg < 8)
				return IH_ERR_JPEG;
			nf = body[5];
			if (nf == 0 || seg != 8 + 3 * (size_t)nf)
				return IH_ERR_JPEG;
			h = media_be16(body + 1);
			w = media_be16(body + 3);
			/* height 0 (defined later by DNL) is legal JPEG that nothing we serve writes */
			if (w == 0 || h == 0)
				return IH_ERR_JPEG;
			info->width = w;
			info->height = h;
			if (!media_dims_within(w, h, l))
				return IH_ERR_IMAGE_TOO_LARGE;
			have_sof = 1;
		} else if (m == 0xDA) {
			unsigned ns;

			if (!have_sof || seg < 3)
				return IH_ERR_JPEG;
			ns = body[0];
			if (ns < 1 || ns > 4 || seg != 6 + 2 * (size_t)ns)
				return IH_ERR_JPEG;
			have_sos = 1;
			pos = skip_entropy(d, len, pos + seg);
			if (pos == 0)
				return IH_ERR_JPEG;
			continue;
		}
		pos += seg;
	}
}
