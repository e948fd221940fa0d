/* media_webp.c - WebP: the RIFF container, VP8/VP8L/VP8X headers and ANIM/ANMF frames; no decoding. */
#include "ih_config.h"

#include <stdint.h>
#include <string.h>

#include "ih_error.h"
#include "media.h"

#define VP8X_ANIMATION 0x02

static int vp8_dims(const unsigned char *p, size_t n, uint32_t *w, uint32_t *h)
{
	uint32_t tag;

	if (n < 10)
		return -1;
	tag = media_le24(p);
	/* key frame (bit 0 clear), profile <= 3, shown, first partition inside the chunk */
	if ((tag & 1) || ((tag >> 1) & 7) > 3 || !((tag >> 4) & 1) || (tag >> 5) >= n)
		return -1;
	if (p[3] != 0x9D || p[4] != 0x01 || p[5] != 0x2A)
		return -1;
	*w = media_le16(p + 6) & 0x3FFF;   /* the top two bits are a scaling hint */
	*h = media_le16(p + 8) & 0x3FFF;
	return (*w && *h) ? 0 : -1;
}

static int vp8l_dims(const unsigned char *p, size_t n, uint32_t *w, uint32_t *h)
{
	uint32_t v;

	if (n < 5 || p[0] != 0x2F)
		return -1;
	v = media_le32(p + 1);
	if (v >> 29)   /* version must be 0 */
		return -1;
	*w = (v & 0x3FFF) + 1;
	*h = ((v >> 14) & 0x3FFF) + 1;
	return 0;
}

/*
 * One frame's data inside an ANMF chunk: an optional ALPH, exactly one
 * VP8 or VP8L whose dimensions are the frame's, unknown chunks skipped.
 */
static int anmf_frame(const unsigned char *p, size_t n, uint32_t fw, uint32_t fh)
{
	size_t pos = 0;
	int n_img = 0;

	while (pos < n) {
		const unsigned char *fourcc = p + pos;
		size_t csize;
		uint32_t iw, ih;

		if (n - pos < 8)
			return -1;
		csize = media_le32(p + pos + 4);
		if (csize > n - pos - 8)
			return -1;
		if (memcmp(fourcc, "VP8 ", 4) == 0 || memcmp(fourcc, "VP8L", 4) == 0) {
			int bad = fourcc[3] == 'L' ? vp8l_dims(p + pos + 8, csize, &iw, &ih)
						   : vp8_dims(p + pos + 8, csize, &iw, &ih);

			if (bad || ++n_img > 1 || iw != fw || ih != fh)
				return -1;
		} else if (memcmp(fourcc, "ALPH", 4) == 0) {
			if (n_img)
				return -1;   /* the alpha plane comes before the bitstream */
		}
		/* the pad byte of the frame's last odd chunk may be the ANMF's own */
		pos += 8 + csize;
		if ((csize & 1) && pos < n)
			pos++;
	}
	return n_img == 1 ? 0 : -1;
}

int media_webp_check(const unsigned char *d, size_t len, const struct image_limits *l,
		     struct image_info *info)
{
	size_t pos = 12, end;
	uint32_t rsize, cw = 0, ch = 0, iw = 0, ih = 0;
	uint64_t duration = 0;
	int have_vp8x = 0, have_anim = 0, anim_flag = 0, n_img = 0, first = 1;
	uint32_t n_anmf = 0;

	if (len < 12 || memcmp(d, "RIFF", 4) != 0 || memcmp(d + 8, "WEBP", 4) != 0)
		return IH_ERR_WEBP;
	rsize = media_le32(d + 4);
	/*
	 * An odd RIFF size means the last chunk is odd-sized and its pad byte,
	 * which the size does not count, follows: chunk data must end inside
	 * the RIFF size, chunk padding inside the buffer.
	 */
	if (rsize < 4 || ((uint64_t)rsize + 8 != len &&
			  !((rsize & 1) && (uint64_t)rsize + 9 == len)))
		return IH_ERR_WEBP;
	end = (size_t)rsize + 8;

	while (pos < len) {
		const unsigned char *fourcc = d + pos, *p = d + pos + 8;
		size_t csize, padded;

		if (end < pos + 8)
			return IH_ERR_WEBP;
		csize = media_le32(d + pos + 4);
		padded = csize + (csize & 1);
		if (csize > end - pos - 8 || padded > len - pos - 8)
			return IH_ERR_WEBP;
		if (memcmp(fourcc, "VP8X", 4) == 0) {
			if (!first || csize != 10)
				return IH_ERR_WEBP;
			anim_flag = (p[0] & VP8X_ANIMATION) != 0;
			cw = media_le24(p + 4) + 1;
			ch = media_le24(p + 7) + 1;
			if ((uint64_t)cw * ch > 0xFFFFFFFFu)   /* spec: canvas area fits 32 bits */
				return IH_ERR_WEBP;
			have_vp8x = 1;
		} else if (memcmp(fourcc, "VP8 ", 4) == 0 || memcmp(fourcc, "VP8L", 4) == 0) {
			int bad = fourcc[3] == 'L' ? vp8l_dims(p, csize, &iw, &ih)
						   : vp8_dims(p, csize, &iw, &ih);

			if (bad || ++n_img > 1 || anim_flag)
				return IH_ERR_WEBP;
			/* a still image fills the canvas exactly */
			if (have_vp8x && (iw != cw || ih != ch))
				return IH_ERR_WEBP;
		} else if (!have_vp8x) {
			/* simple format: the one chunk is VP8 or VP8L; others need VP8X */
			return IH_ERR_WEBP;
		} else if (memcmp(fourcc, "ANIM", 4) == 0) {
			if (!anim_flag || have_anim || n_anmf || csize != 6)
				return IH_ERR_WEBP;
			have_anim = 1;
		} else if (memcmp(fourcc, "ANMF", 4) == 0) {
			uint32_t fx, fy, fw, fh;

			if (!have_anim || csize < 16 || ++n_anmf > MEDIA_MAX_ELEMENTS)
				return IH_ERR_WEBP;
			fx = media_le24(p) * 2;
			fy = media_le24(p + 3) * 2;
			fw = media_le24(p + 6) + 1;
			fh = media_le24(p + 9) + 1;
			/* every frame lies inside the canvas */
			if ((uint64_t)fx + fw > cw || (uint64_t)fy + fh > ch ||
			    anmf_frame(p + 16, csize - 16, fw, fh))
				return IH_ERR_WEBP;
			duration += media_le24(p + 12);
		}
		first = 0;
		pos += 8 + padded;
	}
	if (have_vp8x) {
		if (anim_flag ? n_anmf == 0 : n_img == 0)
			return IH_ERR_WEBP;
		iw = cw;
		ih = ch;
	} else if (n_img == 0) {
		return IH_ERR_WEBP;
	}
	info->width = iw;
	info->height = ih;
	info->frames = anim_flag ? n_anmf : 1;
	info->animated = info->frames > 1;
	info->duration_ms = info->animated ? duration : 0;
	return media_dims_within(iw, ih, l) ? IH_OK : IH_ERR_IMAGE_TOO_LARGE;
}
