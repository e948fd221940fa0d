/* media_isobmff.c - ISO BMFF (AVIF, HEIF, MP4, MOV): ftyp brands, the box walk, primary image and video track facts; no decoding. */
#include "ih_config.h"

#include <stdint.h>
#include <string.h>

#include "ih_error.h"
#include "media.h"

/*
 * Properties one ipco may hold: encoders write a few dozen. The cap keeps
 * looking up the primary item's properties (at most 255, each a walk over
 * ipco) cheap whatever the file says.
 */
#define MAX_PROPERTIES 4096

#define BT(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* What the walk learns on its way; resolved once every box has been seen. */
struct iso {
	const unsigned char *d;
	size_t len;
	uint32_t n_boxes;
	/* the movie: the first video track's size, the movie's duration */
	int n_moov;
	uint64_t duration_ms;
	uint32_t timescale;        /* mvhd's */
	uint64_t fragment_units;   /* mehd, for a fragmented file whose mvhd says 0 */
	uint32_t trk_w, trk_h, trk_handler;   /* the trak being walked */
	uint32_t video_w, video_h;
	int have_video;
	/* the image items (AVIF, HEIF): the top-level meta box */
	int n_meta;
	uint32_t meta_handler;
	int have_pitm;
	uint32_t primary;
	size_t ipco_body, ipco_end, ipma_body, ipma_end;
	int have_ipco, have_ipma;
};

struct box {
	uint32_t type;
	size_t body;   /* offset of the payload */
	size_t end;    /* offset after the box */
};

/*
 * Reads the box header at d[pos..end): 32-bit size, 64-bit largesize
 * (size 1), size 0 ("to the end of the file": top level only) and the
 * uuid extended type. Returns 0, or -1 when the box does not fit.
 */
static int read_box(const unsigned char *d, size_t pos, size_t end, int top, struct box *b)
{
	uint64_t size;
	size_t hdr = 8;

	if (end - pos < 8)
		return -1;
	size = media_be32(d + pos);
	b->type = media_be32(d + pos + 4);
	if (size == 1) {
		if (end - pos < 16)
			return -1;
		size = media_be64(d + pos + 8);
		hdr = 16;
	} else if (size == 0) {
		if (!top)
			return -1;
		size = end - pos;
	}
	if (b->type == BT('u', 'u', 'i', 'd'))
		hdr += 16;
	if (size < hdr || size > end - pos)
		return -1;
	b->body = pos + hdr;
	b->end = pos + (size_t)size;
	return 0;
}

/* Boxes made only of boxes, that the walk enters. meta is entered at the top level only. */
static int is_container(uint32_t t)
{
	switch (t) {
	case BT('m', 'o', 'o', 'v'):
	case BT('t', 'r', 'a', 'k'):
	case BT('m', 'd', 'i', 'a'):
	case BT('m', 'i', 'n', 'f'):
	case BT('s', 't', 'b', 'l'):
	case BT('e', 'd', 't', 's'):
	case BT('d', 'i', 'n', 'f'):
	case BT('m', 'v', 'e', 'x'):
	case BT('m', 'o', 'o', 'f'):
	case BT('t', 'r', 'a', 'f'):
	case BT('m', 'f', 'r', 'a'):
	case BT('i', 'p', 'r', 'p'):
	case BT('i', 'p', 'c', 'o'):
		return 1;
	default:
		return 0;
	}
}

/* Unsigned big-endian integer of n bytes (0, 2, 4 or 8); p has n bytes. */
static uint64_t be_n(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* A duration in timescale units as milliseconds; 0 (unknown) when it cannot be one. */
static uint64_t to_ms(uint64_t duration, uint32_t timescale, int all_ones)
{
	if (timescale == 0 || all_ones || duration / timescale > UINT64_MAX / 1000)
		return 0;
	return duration / timescale * 1000 + duration % timescale * 1000 / timescale;
}

/* mvhd and mehd: version 0 has 32-bit times, version 1 64-bit. */
static int mvhd_box(struct iso *s, const unsigned char *p, size_t n)
{
	uint64_t dur;
	uint32_t ts;

	if (n < 4)
		return -1;
	if (p[0] == 1) {
		if (n < 32)
			return -1;
		s->timescale = ts = media_be32(p + 20);
		dur = media_be64(p + 24);
		s->duration_ms = to_ms(dur, ts, dur == UINT64_MAX);
	} else {
		if (n < 20 || p[0] != 0)
			return -1;
		s->timescale = ts = media_be32(p + 12);
		dur = media_be32(p + 16);
		s->duration_ms = to_ms(dur, ts, dur == 0xFFFFFFFFu);
	}
	return 0;
}

/* tkhd: the track's presentation size, 16.16 fixed point, after the matrix. */
static int tkhd_box(struct iso *s, const unsigned char *p, size_t n)
{
	size_t at;

	if (n < 4 || p[0] > 1)
		return -1;
	at = p[0] == 1 ? 88 : 76;
	if (n < at + 8)
		return -1;
	s->trk_w = media_be32(p + at) >> 16;
	s->trk_h = media_be32(p + at + 4) >> 16;
	return 0;
}

/* stco and co64: every chunk of samples starts inside the file. */
static int chunk_offsets(const struct iso *s, const unsigned char *p, size_t n, unsigned size)
{
	uint32_t count;

	if (n < 8)
		return -1;
	count = media_be32(p + 4);
	if (count > (n - 8) / size)
		return -1;
	for (uint32_t i = 0; i < count; i++)
		if (be_n(p + 8 + (size_t)i * size, size) >= s->len)
			return -1;
	return 0;
}

/* iloc's field widths: 0, 4 or 8 bytes. */
static int width_ok(unsigned w)
{
	return w == 0 || w == 4 || w == 8;
}

/*
 * iloc: every extent of an item stored in the file itself (construction
 * method 0, data reference 0) lies inside the file. Field widths are 0, 4
 * or 8 bytes, as the box announces them.
 */
static int iloc_box(const struct iso *s, const unsigned char *p, size_t n)
{
	unsigned v, off_size, len_size, base_size, idx_size;
	uint32_t items;
	size_t pos;

	if (n < 8)
		return -1;
	v = p[0];
	if (v > 2)
		return -1;
	off_size = p[4] >> 4;
	len_size = p[4] & 15;
	base_size = p[5] >> 4;
	idx_size = v ? p[5] & 15 : 0;
	if (!width_ok(off_size) || !width_ok(len_size) || !width_ok(base_size) || !width_ok(idx_size))
		return -1;
	if (v < 2) {
		items = media_be16(p + 6);
		pos = 8;
	} else {
		if (n < 10)
			return -1;
		items = media_be32(p + 6);
		pos = 10;
	}
	for (uint32_t i = 0; i < items; i++) {
		unsigned method = 0, dref;
		uint64_t base;
		uint32_t extents;
		size_t fixed = (v < 2 ? 2 : 4) + (v ? 2 : 0) + 2 + base_size + 2;

		if (n - pos < fixed)
			return -1;
		pos += v < 2 ? 2 : 4;
		if (v) {
			method = media_be16(p + pos) & 15;
			pos += 2;
		}
		dref = media_be16(p + pos);
		base = be_n(p + pos + 2, base_size);
		pos += 2 + base_size;
		extents = media_be16(p + pos);
		pos += 2;
		if (method > 2)
			return -1;
		for (uint32_t e = 0; e < extents; e++) {
			uint64_t off;

			if (n - pos < (size_t)idx_size + off_size + len_size)
				return -1;
			off = be_n(p + pos + idx_size, off_size);
			pos += idx_size + off_size + len_size;
			/* extent length 0 means "to the end": the start must be inside */
			if (method == 0 && dref == 0) {
				uint64_t elen = be_n(p + pos - len_size, len_size);

				if (off > UINT64_MAX - base || base + off > s->len ||
				    elen > s->len - (base + off))
					return -1;
			}
		}
	}
	return 0;
}

/* ispe: an image's width and height, 32 bits each, after version and flags. */
static int ispe_dims(const unsigned char *p, size_t n, uint32_t *w, uint32_t *h)
{
	if (n < 12 || p[0] != 0)
		return -1;
	*w = media_be32(p + 4);
	*h = media_be32(p + 8);
	return *w && *h ? 0 : -1;
}

/* Counts ipco's properties (boxes already checked by the walk); -1 over MAX_PROPERTIES. */
static int ipco_count(const struct iso *s, uint32_t *n)
{
	size_t pos = s->ipco_body;
	struct box b;

	for (*n = 0; pos < s->ipco_end; pos = b.end) {
		if (read_box(s->d, pos, s->ipco_end, 0, &b) || ++*n > MAX_PROPERTIES)
			return -1;
	}
	return 0;
}

/* The index-th (from 1) property in ipco, if it is an ispe: its dimensions. */
static int ipco_ispe(const struct iso *s, uint32_t index, uint32_t *w, uint32_t *h)
{
	size_t pos = s->ipco_body;
	struct box b;

	for (uint32_t i = 1; pos < s->ipco_end; i++, pos = b.end) {
		if (read_box(s->d, pos, s->ipco_end, 0, &b))
			return -1;
		if (i == index)
			return b.type == BT('i', 's', 'p', 'e')
				       ? ispe_dims(s->d + b.body, b.end - b.body, w, h)
				       : 1;
	}
	return -1;   /* an association to a property that does not exist */
}

/*
 * ipma: the properties of every item. Each association must name a
 * property ipco has; the primary item must have an ispe.
 */
static int primary_dims(const struct iso *s, uint32_t *w, uint32_t *h)
{
	const unsigned char *p = s->d + s->ipma_body;
	size_t n = s->ipma_end - s->ipma_body, pos = 8;
	unsigned v;
	int wide, found = 0, seen_primary = 0;
	uint32_t entries, n_props;

	if (n < 8 || ipco_count(s, &n_props))
		return -1;
	v = p[0];
	wide = p[3] & 1;   /* flags bit 0: 15-bit property indices */
	entries = media_be32(p + 4);
	for (uint32_t e = 0; e < entries; e++) {
		uint32_t item;
		unsigned count;

		if (n - pos < (v ? 4u : 2u) + 1)
			return -1;
		item = v ? media_be32(p + pos) : media_be16(p + pos);
		pos += v ? 4 : 2;
		count = p[pos++];
		if (n - pos < (size_t)count * (wide ? 2 : 1))
			return -1;
		/* an item is listed once: the primary's lookups stay bounded */
		if (item == s->primary && seen_primary++)
			return -1;
		for (unsigned a = 0; a < count; a++) {
			uint32_t idx = wide ? media_be16(p + pos) & 0x7FFF : p[pos] & 0x7Fu;
			uint32_t iw, ih;
			int r;

			pos += wide ? 2 : 1;
			if (idx > n_props)
				return -1;   /* a property ipco does not have */
			if (idx == 0 || item != s->primary || found)
				continue;   /* 0: no property */
			r = ipco_ispe(s, idx, &iw, &ih);
			if (r < 0)
				return -1;
			if (r == 0) {
				*w = iw;
				*h = ih;
				found = 1;
			}
		}
	}
	return found ? 0 : -1;
}

/* Checks one leaf box the walk knows; others are opaque bytes, already bounded. */
static int leaf_box(struct iso *s, const struct box *b, uint32_t parent, int depth)
{
	const unsigned char *p = s->d + b->body;
	size_t n = b->end - b->body;

	switch (b->type) {
	case BT('f', 't', 'y', 'p'):
		return depth == 0 ? 0 : -1;   /* its place was checked by the caller */
	case BT('m', 'v', 'h', 'd'):
		return parent == BT('m', 'o', 'o', 'v') ? mvhd_box(s, p, n) : 0;
	case BT('m', 'e', 'h', 'd'):
		if (n < 8)
			return -1;
		/* in mvhd's timescale: kept in units until the end */
		s->fragment_units = p[0] == 1 ? (n < 12 ? 0 : media_be64(p + 4)) : media_be32(p + 4);
		return 0;
	case BT('t', 'k', 'h', 'd'):
		return parent == BT('t', 'r', 'a', 'k') ? tkhd_box(s, p, n) : 0;
	case BT('h', 'd', 'l', 'r'):
		if (n < 12)
			return -1;
		if (parent == BT('m', 'd', 'i', 'a'))
			s->trk_handler = media_be32(p + 8);
		else if (parent == BT('m', 'e', 't', 'a') && depth == 1)
			s->meta_handler = media_be32(p + 8);
		return 0;
	case BT('s', 't', 'c', 'o'):
		return chunk_offsets(s, p, n, 4);
	case BT('c', 'o', '6', '4'):
		return chunk_offsets(s, p, n, 8);
	case BT('p', 'i', 't', 'm'):
		if (parent != BT('m', 'e', 't', 'a'))
			return 0;
		if (s->have_pitm || n < (p[0] ? 8u : 6u))
			return -1;
		s->primary = p[0] ? media_be32(p + 4) : media_be16(p + 4);
		s->have_pitm = 1;
		return 0;
	case BT('i', 'l', 'o', 'c'):
		return parent == BT('m', 'e', 't', 'a') ? iloc_box(s, p, n) : 0;
	case BT('i', 's', 'p', 'e'): {
		uint32_t w, h;

		/* every image's size is one; the primary's is looked up later */
		return parent == BT('i', 'p', 'c', 'o') ? ispe_dims(p, n, &w, &h) : 0;
	}
	case BT('i', 'p', 'm', 'a'):
		if (parent != BT('i', 'p', 'r', 'p'))
			return 0;
		if (s->have_ipma)
			return -1;
		s->have_ipma = 1;
		s->ipma_body = b->body;
		s->ipma_end = b->end;
		return 0;
	default:
		return 0;
	}
}

static int walk(struct iso *s, size_t pos, size_t end, uint32_t parent, int depth);

/* One box inside parent: containers are walked, leaves checked. */
static int one_box(struct iso *s, const struct box *b, uint32_t parent, int depth)
{
	int rc;

	if (++s->n_boxes > MEDIA_MAX_ELEMENTS)
		return -1;
	if (b->type == BT('m', 'e', 't', 'a') && depth == 0) {
		/* the top-level meta of an image file: a FullBox of boxes */
		if (++s->n_meta > 1 || b->end - b->body < 4 || s->d[b->body] != 0)
			return -1;
		return walk(s, b->body + 4, b->end, b->type, depth + 1);
	}
	if (!is_container(b->type))
		return leaf_box(s, b, parent, depth);
	if (b->type == BT('m', 'o', 'o', 'v') && (depth != 0 || ++s->n_moov > 1))
		return -1;
	if (b->type == BT('i', 'p', 'c', 'o') && parent == BT('i', 'p', 'r', 'p')) {
		if (s->have_ipco)
			return -1;
		s->have_ipco = 1;
		s->ipco_body = b->body;
		s->ipco_end = b->end;
	}
	if (b->type == BT('t', 'r', 'a', 'k')) {
		s->trk_w = s->trk_h = s->trk_handler = 0;
	}
	rc = walk(s, b->body, b->end, b->type, depth + 1);
	if (rc == 0 && b->type == BT('t', 'r', 'a', 'k') && !s->have_video &&
	    (s->trk_handler == BT('v', 'i', 'd', 'e') || s->trk_handler == BT('p', 'i', 'c', 't')) &&
	    s->trk_w && s->trk_h) {
		s->video_w = s->trk_w;
		s->video_h = s->trk_h;
		s->have_video = 1;
	}
	return rc;
}

/*
 * The boxes a file may hold at its top level. Anything else there is refused,
 * as bytes after PNG's IEND are: random trailing bytes rarely form a box, but
 * a forged header must still name one of these.
 */
static int top_level_ok(uint32_t t)
{
	switch (t) {
	case BT('m', 'o', 'o', 'v'):
	case BT('m', 'd', 'a', 't'):
	case BT('m', 'e', 't', 'a'):
	case BT('f', 'r', 'e', 'e'):
	case BT('s', 'k', 'i', 'p'):
	case BT('w', 'i', 'd', 'e'):
	case BT('u', 'u', 'i', 'd'):
	case BT('m', 'o', 'o', 'f'):
	case BT('m', 'f', 'r', 'a'):
	case BT('s', 't', 'y', 'p'):
	case BT('s', 'i', 'd', 'x'):
	case BT('s', 's', 'i', 'x'):
	case BT('p', 'r', 'f', 't'):
	case BT('e', 'm', 's', 'g'):
	case BT('p', 'd', 'i', 'n'):
	case BT('m', 'e', 'c', 'o'):
	case BT('i', 'd', 'a', 't'):
		return 1;
	default:
		return 0;
	}
}

/* The boxes of d[pos..end) tile it exactly; depth bounded. */
static int walk(struct iso *s, size_t pos, size_t end, uint32_t parent, int depth)
{
	if (depth > MEDIA_MAX_DEPTH)
		return -1;
	while (pos < end) {
		struct box b;

		if (read_box(s->d, pos, end, depth == 0, &b) ||
		    (depth == 0 && !top_level_ok(b.type)) || one_box(s, &b, parent, depth))
			return -1;
		pos = b.end;
	}
	return 0;
}

/* The format a brand names, or IMAGE_UNKNOWN. */
static enum image_format brand_format(uint32_t b)
{
	switch (b) {
	case BT('a', 'v', 'i', 'f'):
	case BT('a', 'v', 'i', 's'):
		return IMAGE_AVIF;
	case BT('h', 'e', 'i', 'c'):
	case BT('h', 'e', 'i', 'x'):
	case BT('h', 'e', 'v', 'c'):
	case BT('h', 'e', 'v', 'x'):
	case BT('h', 'e', 'i', 'm'):
	case BT('h', 'e', 'i', 's'):
	case BT('h', 'e', 'v', 'm'):
	case BT('h', 'e', 'v', 's'):
	case BT('m', 'i', 'f', '1'):
	case BT('m', 's', 'f', '1'):
		return IMAGE_HEIF;
	case BT('q', 't', ' ', ' '):
		return IMAGE_MOV;
	case BT('i', 's', 'o', 'm'):
	case BT('i', 's', 'o', '2'):
	case BT('i', 's', 'o', '3'):
	case BT('i', 's', 'o', '4'):
	case BT('i', 's', 'o', '5'):
	case BT('i', 's', 'o', '6'):
	case BT('i', 's', 'o', '7'):
	case BT('i', 's', 'o', '8'):
	case BT('i', 's', 'o', '9'):
	case BT('m', 'p', '4', '1'):
	case BT('m', 'p', '4', '2'):
	case BT('m', 'p', '7', '1'):
	case BT('a', 'v', 'c', '1'):
	case BT('d', 'a', 's', 'h'):
	case BT('c', 'm', 'f', 'c'):
	case BT('M', '4', 'V', ' '):
	case BT('M', '4', 'V', 'P'):
	case BT('3', 'g', 'p', '4'):
	case BT('3', 'g', 'p', '5'):
	case BT('3', 'g', 'p', '6'):
	case BT('3', 'g', '2', 'a'):
	case BT('f', '4', 'v', ' '):
	case BT('m', 'm', 'p', '4'):
	case BT('M', 'S', 'N', 'V'):
	case BT('X', 'A', 'V', 'C'):
		return IMAGE_MP4;
	default:
		return IMAGE_UNKNOWN;
	}
}

/* Preference among compatible brands: AVIF, then HEIF, MOV, MP4. */
static int brand_rank(enum image_format f)
{
	switch (f) {
	case IMAGE_AVIF:
		return 4;
	case IMAGE_HEIF:
		return 3;
	case IMAGE_MOV:
		return 2;
	case IMAGE_MP4:
		return 1;
	default:
		return 0;
	}
}

/*
 * The major brand decides, except that an AVIF brand anywhere wins over the
 * generic HEIF ones (mif1 as major with avif compatible is common); with an
 * unknown major brand, the best-ranked compatible brand.
 */
enum image_format media_isobmff_sniff(const unsigned char *d, size_t len)
{
	size_t size, i;
	enum image_format major, best = IMAGE_UNKNOWN;

	if (len < 16 || memcmp(d + 4, "ftyp", 4) != 0)
		return IMAGE_UNKNOWN;
	size = media_be32(d);
	if (size < 16 || (size - 16) % 4)
		return IMAGE_UNKNOWN;
	/* the brands that are there: a prefix of the file sniffs too (image_sniff_base64) */
	major = brand_format(media_be32(d + 8));
	for (i = 16; i < size && len - i >= 4; i += 4) {
		enum image_format f = brand_format(media_be32(d + i));

		if (brand_rank(f) > brand_rank(best))
			best = f;
	}
	if (major == IMAGE_HEIF && best == IMAGE_AVIF)
		return IMAGE_AVIF;
	return major != IMAGE_UNKNOWN ? major : best;
}

int media_isobmff_check(const unsigned char *d, size_t len, const struct image_limits *l,
			struct image_info *info)
{
	struct iso s;
	struct box ftyp;
	int still = info->format == IMAGE_AVIF || info->format == IMAGE_HEIF;

	memset(&s, 0, sizeof s);
	s.d = d;
	s.len = len;
	/* ftyp first, and once; media_isobmff_sniff() read its brands */
	if (read_box(d, 0, len, 1, &ftyp) || ftyp.type != BT('f', 't', 'y', 'p'))
		return IH_ERR_ISOBMFF;
	if (walk(&s, ftyp.end, len, 0, 0))
		return IH_ERR_ISOBMFF;
	if (s.duration_ms == 0 && s.fragment_units)
		s.duration_ms = to_ms(s.fragment_units, s.timescale, 0);
	if (still) {
		uint32_t w, h;

		/* an image file: a picture handler, a primary item with its size */
		if (s.n_meta != 1 || s.meta_handler != BT('p', 'i', 'c', 't') || !s.have_pitm ||
		    !s.have_ipco || !s.have_ipma || primary_dims(&s, &w, &h))
			return IH_ERR_ISOBMFF;
		info->width = w;
		info->height = h;
		/* an image sequence (avis, msf1) carries its frames in a track */
		info->animated = s.have_video;
		info->duration_ms = s.have_video ? s.duration_ms : 0;
	} else {
		if (s.n_moov != 1 || !s.have_video)
			return IH_ERR_ISOBMFF;
		info->width = s.video_w;
		info->height = s.video_h;
		info->duration_ms = s.duration_ms;
	}
	return media_dims_within(info->width, info->height, l) ? IH_OK : IH_ERR_IMAGE_TOO_LARGE;
}
