/* media_ebml.c - EBML (WebM, Matroska): the header's DocType, the element walk, Info and video track facts; no decoding. */
#include "ih_config.h"

#include <stdint.h>
#include <string.h>

#include "ih_error.h"
#include "media.h"

#define ID_EBML            0x1A45DFA3u
#define ID_DOCTYPE         0x4282u
#define ID_MAX_ID_LENGTH   0x42F2u
#define ID_MAX_SIZE_LENGTH 0x42F3u
#define ID_SEGMENT         0x18538067u
#define ID_SEEKHEAD        0x114D9B74u
#define ID_INFO            0x1549A966u
#define ID_TIMECODE_SCALE  0x2AD7B1u
#define ID_DURATION        0x4489u
#define ID_TRACKS          0x1654AE6Bu
#define ID_TRACK_ENTRY     0xAEu
#define ID_TRACK_TYPE      0x83u
#define ID_VIDEO           0xE0u
#define ID_PIXEL_WIDTH     0xB0u
#define ID_PIXEL_HEIGHT    0xBAu
#define ID_CLUSTER         0x1F43B675u
#define ID_CUES            0x1C53BB6Bu
#define ID_CHAPTERS        0x1043A770u
#define ID_TAGS            0x1254C367u
#define ID_ATTACHMENTS     0x1941A469u
#define ID_TIMECODE        0xE7u
#define ID_SILENT_TRACKS   0x5854u
#define ID_POSITION        0xA7u
#define ID_PREV_SIZE       0xABu
#define ID_SIMPLE_BLOCK    0xA3u
#define ID_BLOCK_GROUP     0xA0u
#define ID_BLOCK           0xA1u
#define ID_ENCRYPTED_BLOCK 0xAFu
#define ID_VOID            0xECu
#define ID_CRC32           0xBFu

#define TRACK_TYPE_VIDEO 1

struct ebml {
	const unsigned char *d;
	size_t len;
	uint32_t n_elements;
	int n_info, n_tracks;
	uint32_t n_blocks;         /* frames (SimpleBlock, Block): a video without one is none */
	uint64_t timecode_scale;   /* ns per tick, default 1 ms */
	double duration;           /* ticks; < 0 when absent */
	/* the track entry being walked, and the first video track */
	uint64_t trk_type, trk_w, trk_h;
	int trk_has_video;
	uint32_t video_w, video_h;
	int have_video;
};

struct element {
	uint32_t id;
	size_t body;       /* offset of the data */
	size_t end;        /* offset after the data; the parent's end when size is unknown */
	int unknown;       /* the size was "unknown" (all ones) */
};

/*
 * Reads an element header at d[pos..end): the ID (1-4 bytes, its length
 * marker kept) and the size (a vint of 1-8 bytes, marker dropped; all ones
 * is "unknown"). Returns 0, or -1 when it is malformed or does not fit.
 */
static int read_element(const unsigned char *d, size_t pos, size_t end, struct element *e)
{
	unsigned n, i;
	uint64_t size;

	memset(e, 0, sizeof *e);
	if (pos >= end || d[pos] < 0x10)
		return -1;   /* an ID longer than 4 bytes, or a zero first byte */
	n = d[pos] >= 0x80 ? 1 : d[pos] >= 0x40 ? 2 : d[pos] >= 0x20 ? 3 : 4;
	if (end - pos < n + 1)
		return -1;
	e->id = 0;
	for (i = 0; i < n; i++)
		e->id = e->id << 8 | d[pos + i];
	pos += n;
	if (d[pos] == 0)
		return -1;   /* a size longer than 8 bytes */
	for (n = 1; !(d[pos] & (0x80 >> (n - 1))); n++)
		;
	if (end - pos < n)
		return -1;
	size = d[pos] & (0xFF >> n);
	for (i = 1; i < n; i++)
		size = size << 8 | d[pos + i];
	pos += n;
	e->unknown = size == (UINT64_C(1) << (7 * n)) - 1;
	e->body = pos;
	if (e->unknown) {
		e->end = end;
		return 0;
	}
	if (size > end - pos)
		return -1;
	e->end = pos + (size_t)size;
	return 0;
}

/* Unsigned integer element: 0-8 bytes, big-endian. */
static int get_uint(const struct ebml *s, const struct element *e, uint64_t *v)
{
	size_t n = e->end - e->body;

	if (n > 8)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v << 8 | s->d[e->body + i];
	return 0;
}

/* Float element: 0, 4 or 8 bytes of IEEE 754, big-endian. */
static int get_float(const struct ebml *s, const struct element *e, double *v)
{
	const unsigned char *p = s->d + e->body;
	size_t n = e->end - e->body;

	if (n == 4) {
		uint32_t u = media_be32(p);
		float f;

		memcpy(&f, &u, sizeof f);
		*v = f;
	} else if (n == 8) {
		uint64_t u = media_be64(p);

		memcpy(v, &u, sizeof *v);
	} else if (n == 0) {
		*v = 0;
	} else {
		return -1;
	}
	return 0;
}

/* Masters the walk enters; everything else is opaque data, already bounded. */
static int is_master(uint32_t id)
{
	switch (id) {
	case ID_SEGMENT:
	case ID_SEEKHEAD:
	case ID_INFO:
	case ID_TRACKS:
	case ID_TRACK_ENTRY:
	case ID_VIDEO:
	case ID_CLUSTER:
	case ID_BLOCK_GROUP:
	case ID_CUES:
	case ID_CHAPTERS:
	case ID_TAGS:
	case ID_ATTACHMENTS:
		return 1;
	default:
		return 0;
	}
}

/*
 * For the two masters whose size may be unknown, Segment and Cluster:
 * whether id can be their child. An unknown-size master ends where an
 * element that cannot be its child begins.
 */
static int is_child(uint32_t parent, uint32_t id)
{
	if (id == ID_VOID || id == ID_CRC32)
		return 1;
	if (parent == ID_SEGMENT)
		return id == ID_SEEKHEAD || id == ID_INFO || id == ID_TRACKS || id == ID_CLUSTER ||
		       id == ID_CUES || id == ID_CHAPTERS || id == ID_TAGS || id == ID_ATTACHMENTS;
	if (parent == ID_CLUSTER)
		return id == ID_TIMECODE || id == ID_SILENT_TRACKS || id == ID_POSITION ||
		       id == ID_PREV_SIZE || id == ID_SIMPLE_BLOCK || id == ID_BLOCK_GROUP ||
		       id == ID_ENCRYPTED_BLOCK;
	return 0;
}

/* A (Simple)Block: track number (a vint), a 16-bit timecode and flags at least. */
static int block_ok(struct ebml *s, const struct element *e)
{
	size_t n = e->end - e->body;
	unsigned len = 1;

	s->n_blocks++;
	if (n == 0 || s->d[e->body] == 0)
		return -1;
	while (!(s->d[e->body] & (0x80 >> (len - 1))))
		len++;
	return n >= len + 3 ? 0 : -1;
}

/* Checks one leaf element the walk knows, in its parent. */
static int leaf(struct ebml *s, const struct element *e, uint32_t parent)
{
	uint64_t v;

	switch (parent) {
	case ID_INFO:
		if (e->id == ID_TIMECODE_SCALE) {
			if (get_uint(s, e, &v) || v == 0)
				return -1;
			s->timecode_scale = v;
		} else if (e->id == ID_DURATION) {
			return get_float(s, e, &s->duration);
		}
		return 0;
	case ID_TRACK_ENTRY:
		if (e->id == ID_TRACK_TYPE)
			return get_uint(s, e, &s->trk_type);
		return 0;
	case ID_VIDEO:
		if (e->id == ID_PIXEL_WIDTH)
			return get_uint(s, e, &s->trk_w);
		if (e->id == ID_PIXEL_HEIGHT)
			return get_uint(s, e, &s->trk_h);
		return 0;
	case ID_CLUSTER:
		return e->id == ID_SIMPLE_BLOCK ? block_ok(s, e) : 0;
	case ID_BLOCK_GROUP:
		return e->id == ID_BLOCK ? block_ok(s, e) : 0;
	default:
		return 0;
	}
}

static int walk(struct ebml *s, uint32_t parent, size_t pos, size_t end, int unknown, int depth,
		size_t *stop);

/* One element in parent: masters are walked, leaves checked. *next is where the next one starts. */
static int one(struct ebml *s, const struct element *e, uint32_t parent, int depth, size_t *next)
{
	int rc;

	if (++s->n_elements > MEDIA_MAX_ELEMENTS)
		return -1;
	/* only Segment and Cluster may leave their size open (live streams) */
	if (e->unknown && e->id != ID_SEGMENT && e->id != ID_CLUSTER)
		return -1;
	if (e->id == ID_SEGMENT && parent != 0)
		return -1;
	*next = e->end;
	if (!is_master(e->id))
		return leaf(s, e, parent);
	if (e->id == ID_INFO && ++s->n_info > 1)
		return -1;
	if (e->id == ID_TRACKS && ++s->n_tracks > 1)
		return -1;
	if (e->id == ID_TRACK_ENTRY) {
		s->trk_type = 0;
		s->trk_w = s->trk_h = 0;
		s->trk_has_video = 0;
	}
	if (e->id == ID_VIDEO)
		s->trk_has_video = 1;
	rc = walk(s, e->id, e->body, e->end, e->unknown, depth + 1, next);
	if (rc == 0 && e->id == ID_TRACK_ENTRY && !s->have_video &&
	    (s->trk_type == TRACK_TYPE_VIDEO || s->trk_has_video)) {
		if (s->trk_w == 0 || s->trk_h == 0 || s->trk_w > UINT32_MAX || s->trk_h > UINT32_MAX)
			return -1;
		s->video_w = (uint32_t)s->trk_w;
		s->video_h = (uint32_t)s->trk_h;
		s->have_video = 1;
	}
	return rc;
}

/*
 * Walks the children of parent in d[pos..end). With a known size they tile
 * it exactly. With an unknown size the master ends at end or where an
 * element that cannot be its child starts: *stop says where.
 */
static int walk(struct ebml *s, uint32_t parent, size_t pos, size_t end, int unknown, int depth,
		size_t *stop)
{
	if (depth > MEDIA_MAX_DEPTH)
		return -1;
	while (pos < end) {
		struct element e;
		size_t next;

		if (read_element(s->d, pos, end, &e))
			return -1;
		if (unknown && !is_child(parent, e.id))
			break;
		if (one(s, &e, parent, depth, &next))
			return -1;
		pos = next;
	}
	*stop = pos;
	return 0;
}

/*
 * The EBML header's DocType, read without the rest: the header must come
 * first and fit, its children must fit it. Returns 0 with doctype and its
 * length set, or -1.
 */
static int header(const unsigned char *d, size_t len, const unsigned char **doctype, size_t *dlen,
		  size_t *after)
{
	struct element h, e;
	size_t pos;
	int have = 0;

	if (read_element(d, 0, len, &h) || h.id != ID_EBML || h.unknown)
		return -1;
	for (pos = h.body; pos < h.end; pos = e.end) {
		uint64_t v = 0;

		if (read_element(d, pos, h.end, &e) || e.unknown)
			return -1;
		if (e.id == ID_DOCTYPE) {
			*doctype = d + e.body;
			*dlen = e.end - e.body;
			have = 1;
		} else if (e.id == ID_MAX_ID_LENGTH || e.id == ID_MAX_SIZE_LENGTH) {
			size_t n = e.end - e.body;

			if (n > 8)
				return -1;
			for (size_t i = 0; i < n; i++)
				v = v << 8 | d[e.body + i];
			/* this reader handles IDs of 4 bytes and sizes of 8 at most */
			if (e.id == ID_MAX_ID_LENGTH ? v > 4 : v > 8)
				return -1;
		}
	}
	*after = h.end;
	return have ? 0 : -1;
}

/* DocType is a string, maybe NUL-padded. */
static int doctype_is(const unsigned char *p, size_t n, const char *want)
{
	size_t k = strlen(want);

	if (n < k || memcmp(p, want, k) != 0)
		return 0;
	for (; k < n; k++)
		if (p[k] != 0)
			return 0;
	return 1;
}

enum image_format media_ebml_sniff(const unsigned char *d, size_t len)
{
	const unsigned char *dt;
	size_t dlen, after;

	if (header(d, len, &dt, &dlen, &after))
		return IMAGE_UNKNOWN;
	if (doctype_is(dt, dlen, "webm"))
		return IMAGE_WEBM;
	if (doctype_is(dt, dlen, "matroska"))
		return IMAGE_MKV;
	return IMAGE_UNKNOWN;
}

int media_ebml_check(const unsigned char *d, size_t len, const struct image_limits *l,
		     struct image_info *info)
{
	struct ebml s;
	struct element seg;
	const unsigned char *dt;
	size_t dlen, pos, stop;

	memset(&s, 0, sizeof s);
	s.d = d;
	s.len = len;
	s.timecode_scale = 1000000;
	s.duration = -1;
	if (header(d, len, &dt, &dlen, &pos))
		return IH_ERR_EBML;
	/* one Segment, then nothing: a second one, or anything else, is refused */
	if (read_element(d, pos, len, &seg) || seg.id != ID_SEGMENT)
		return IH_ERR_EBML;
	if (one(&s, &seg, 0, 0, &stop) || stop != len)
		return IH_ERR_EBML;
	/*
	 * A live stream's open Segment ends where the bytes do, so a cut-off
	 * one looks whole: at least its first frame must be there.
	 */
	if (s.n_info != 1 || s.n_tracks != 1 || !s.have_video || s.n_blocks == 0)
		return IH_ERR_EBML;
	info->width = s.video_w;
	info->height = s.video_h;
	/* Duration counts ticks of TimecodeScale ns; NaN, negative or absurd is unknown */
	if (s.duration > 0 && s.duration * (double)s.timecode_scale / 1e6 < 1e15)
		info->duration_ms = (uint64_t)(s.duration * (double)s.timecode_scale / 1e6 + 0.5);
	return media_dims_within(info->width, info->height, l) ? IH_OK : IH_ERR_IMAGE_TOO_LARGE;
}
