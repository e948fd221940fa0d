/* media_png.c - PNG and APNG: the chunk walk, libpng's view of the header, text insertion, thumbnails; the only user of libpng. */
#include "ih_config.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#include "ih_error.h"
#include "media.h"
#include "utf8.h"

#define CT(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define CT_IHDR CT('I', 'H', 'D', 'R')
#define CT_PLTE CT('P', 'L', 'T', 'E')
#define CT_IDAT CT('I', 'D', 'A', 'T')
#define CT_IEND CT('I', 'E', 'N', 'D')
#define CT_TEXT CT('t', 'E', 'X', 't')
#define CT_ZTXT CT('z', 'T', 'X', 't')
#define CT_ITXT CT('i', 'T', 'X', 't')
#define CT_ICCP CT('i', 'C', 'C', 'P')
#define CT_ACTL CT('a', 'c', 'T', 'L')
#define CT_FCTL CT('f', 'c', 'T', 'L')
#define CT_FDAT CT('f', 'd', 'A', 'T')

static const unsigned char pngsig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* ---- PNG: libpng's view of the header ---------------------------------- */

struct memsrc {
	const unsigned char *data;
	size_t len;
	size_t pos;
};

static void mem_read(png_structp png, png_bytep out, size_t n)
{
	struct memsrc *src = png_get_io_ptr(png);

	if (n > src->len - src->pos)
		png_error(png, "read past end");
	memcpy(out, src->data + src->pos, n);
	src->pos += n;
}

/* libpng's default handlers print to stderr, which is the web server's error log. */
static void on_png_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

/*
 * Warnings are recoverable by definition (libpng read benign errors among
 * them): turning them into rejections would refuse images every viewer shows.
 */
static void on_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/*
 * Lets libpng read the signature and every chunk up to the first IDAT: a
 * second opinion on IHDR and the critical chunks, with the same size limits.
 * Ancillary chunks are discarded unread (PNG_HANDLE_CHUNK_NEVER), so libpng
 * never inflates text or profiles itself: chunk_walk() does that, bounded.
 * It runs after chunk_walk(), so whatever libpng still objects to is IHDR or
 * critical-chunk semantics: reported as IH_ERR_PNG_HEADER.
 */
static int libpng_check(const unsigned char *data, size_t len, const struct image_limits *l,
			struct image_info *info)
{
	struct memsrc src = { data, len, 0 };
	png_structp png;
	png_infop pinfo;
	png_uint_32 w, h;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, on_png_error, on_png_warning);
	if (!png)
		return IH_ERR_NOMEM;
	pinfo = png_create_info_struct(png);
	if (!pinfo) {
		png_destroy_read_struct(&png, NULL, NULL);
		return IH_ERR_NOMEM;
	}
	/* png and pinfo are not modified after setjmp, so they need no volatile. */
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &pinfo, NULL);
		return IH_ERR_PNG_HEADER;
	}
	png_set_user_limits(png, l->max_width > PNG_UINT_31_MAX ? PNG_UINT_31_MAX : l->max_width,
			    l->max_height > PNG_UINT_31_MAX ? PNG_UINT_31_MAX : l->max_height);
	/*
	 * chunk_walk() already held every chunk to its limit; libpng's one limit
	 * would also refuse a long tEXt, which the walk deliberately allows. It
	 * allocates nothing by length here: every ancillary chunk is skipped.
	 */
	png_set_chunk_malloc_max(png, PNG_UINT_31_MAX);
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
	png_set_read_fn(png, &src, mem_read);
	png_read_info(png, pinfo);

	w = png_get_image_width(png, pinfo);
	h = png_get_image_height(png, pinfo);
	info->bit_depth = png_get_bit_depth(png, pinfo);
	info->color_type = png_get_color_type(png, pinfo);
	png_destroy_read_struct(&png, &pinfo, NULL);
	/* Cannot differ after chunk_walk parsed the same CRC-checked IHDR; cheap to be sure. */
	if (w != info->width || h != info->height)
		return IH_ERR_PNG_HEADER;
	return IH_OK;
}

/* ---- PNG: our own walk over every chunk -------------------------------- */

struct walk {
	const struct image_limits *l;
	struct image_info *info;
	uint64_t inflate_left;   /* budget shared by all compressed text chunks of the image */
	int z_ready;
	z_stream zs;
	unsigned char scratch[16384];
};

/*
 * Inflates p[0..n) into a scratch buffer only to count the bytes: a zTXt or
 * iCCP of a few KiB can expand to gigabytes. The budget is per image, not
 * per chunk, or a thousand small bombs would each get the full allowance.
 */
static int bounded_inflate(struct walk *w, const unsigned char *p, size_t n)
{
	int ret;

	if (!w->z_ready) {
		memset(&w->zs, 0, sizeof(w->zs));
		if (inflateInit(&w->zs) != Z_OK)
			return IH_ERR_NOMEM;
		w->z_ready = 1;
	} else if (inflateReset(&w->zs) != Z_OK) {
		return IH_ERR_PNG_CHUNK;
	}
	w->zs.next_in = (Bytef *)(uintptr_t)p;  /* zlib's API is not const-clean */
	w->zs.avail_in = (uInt)n;               /* n < 2^31: chunk lengths are capped */
	do {
		size_t produced;

		w->zs.next_out = w->scratch;
		w->zs.avail_out = sizeof(w->scratch);
		ret = inflate(&w->zs, Z_NO_FLUSH);
		if (ret == Z_MEM_ERROR)
			return IH_ERR_NOMEM;
		if (ret != Z_OK && ret != Z_STREAM_END)
			return IH_ERR_PNG_CHUNK;  /* corrupt, needs a dictionary, or cut short */
		produced = sizeof(w->scratch) - w->zs.avail_out;
		if (produced > w->inflate_left)
			return IH_ERR_PNG_CHUNK;
		w->inflate_left -= produced;
	} while (ret != Z_STREAM_END);
	/* Bytes after the end of the zlib stream are not part of any valid chunk. */
	return w->zs.avail_in == 0 ? IH_OK : IH_ERR_PNG_CHUNK;
}

/* PNG keywords: 1-79 printable Latin-1 characters (32-126, 161-255). */
static int keyword_len(const unsigned char *p, size_t n)
{
	const unsigned char *nul = memchr(p, 0, n < 80 ? n : 80);
	size_t k, i;

	if (!nul || nul == p)
		return -1;
	k = (size_t)(nul - p);
	for (i = 0; i < k; i++)
		if (p[i] < 32 || (p[i] > 126 && p[i] < 161))
			return -1;
	return (int)k;
}

static void add_keyword(struct image_info *info, const unsigned char *kw, size_t k)
{
	if (k == 10 && memcmp(kw, "parameters", 10) == 0)
		info->has_parameters = 1;
	if (info->n_keywords < IMAGE_MAX_KEYWORDS) {
		memcpy(info->keywords[info->n_keywords], kw, k);
		info->keywords[info->n_keywords][k] = '\0';
		info->n_keywords++;
	}
}

/* tEXt, zTXt, iTXt and iCCP: keyword rules, compression fields, bounded inflate. */
static int text_chunk(struct walk *w, uint32_t type, const unsigned char *p, size_t n)
{
	int k = keyword_len(p, n);
	size_t pos;
	const unsigned char *nul;

	if (k < 0)
		return IH_ERR_PNG_CHUNK;
	pos = (size_t)k + 1;
	switch (type) {
	case CT_TEXT:
		break;
	case CT_ZTXT:
	case CT_ICCP:
		/* compression method 0 (zlib) is the only one defined */
		if (pos >= n || p[pos] != 0)
			return IH_ERR_PNG_CHUNK;
		pos++;
		{
			int err = bounded_inflate(w, p + pos, n - pos);

			if (err)
				return err;
		}
		break;
	case CT_ITXT: {
		int compressed;

		if (n - pos < 2)
			return IH_ERR_PNG_CHUNK;
		compressed = p[pos];
		if (compressed > 1 || (compressed && p[pos + 1] != 0))
			return IH_ERR_PNG_CHUNK;
		pos += 2;
		/* language tag, then translated keyword, each NUL-terminated */
		nul = memchr(p + pos, 0, n - pos);
		if (!nul)
			return IH_ERR_PNG_CHUNK;
		pos = (size_t)(nul - p) + 1;
		nul = memchr(p + pos, 0, n - pos);
		if (!nul)
			return IH_ERR_PNG_CHUNK;
		pos = (size_t)(nul - p) + 1;
		if (compressed) {
			int err = bounded_inflate(w, p + pos, n - pos);

			if (err)
				return err;
		}
		break;
	}
	default:
		return IH_ERR_PNG_CHUNK;
	}
	if (type != CT_ICCP)
		add_keyword(w->info, p, (size_t)k);
	return IH_OK;
}

/* Validates IHDR's fields as the PNG spec lists them; dimensions against limits. */
static int ihdr_chunk(struct walk *w, const unsigned char *p, size_t n)
{
	uint32_t width, height;
	int depth, ct;

	if (n != 13)
		return IH_ERR_PNG_HEADER;
	width = media_be32(p);
	height = media_be32(p + 4);
	depth = p[8];
	ct = p[9];
	if (width == 0 || height == 0 || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX)
		return IH_ERR_PNG_HEADER;
	switch (ct) {
	case 0:
		if (depth != 1 && depth != 2 && depth != 4 && depth != 8 && depth != 16)
			return IH_ERR_PNG_HEADER;
		break;
	case 3:
		if (depth != 1 && depth != 2 && depth != 4 && depth != 8)
			return IH_ERR_PNG_HEADER;
		break;
	case 2:
	case 4:
	case 6:
		if (depth != 8 && depth != 16)
			return IH_ERR_PNG_HEADER;
		break;
	default:
		return IH_ERR_PNG_HEADER;
	}
	/* compression 0, filter 0, interlace none or Adam7 */
	if (p[10] != 0 || p[11] != 0 || p[12] > 1)
		return IH_ERR_PNG_HEADER;
	w->info->width = width;
	w->info->height = height;
	w->info->bit_depth = depth;
	w->info->color_type = ct;
	if (!media_dims_within(width, height, w->l))
		return IH_ERR_IMAGE_TOO_LARGE;
	return IH_OK;
}

static int chunk_type_valid(const unsigned char *t)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
			return 0;
	return 1;
}

/*
 * Text costs nothing to check unless it is compressed: a tEXt or an
 * uncompressed iTXt is bounded by PNG's own 2^31-1 and the body alone
 * (ComfyUI writes its whole UI workflow, easily megabytes, into a tEXt).
 * Compressed text and iCCP are inflated, so they keep max_text_chunk.
 * Returns the limit for a chunk whose data p[0..n) is inside the buffer.
 */
static uint32_t chunk_limit(const struct image_limits *l, uint32_t type, const unsigned char *p,
			    size_t n)
{
	if (type == CT_TEXT)
		return PNG_UINT_31_MAX;
	if (type == CT_ITXT) {
		int k = keyword_len(p, n);

		/* keyword NUL flag: a flag of 0 is uncompressed */
		if (k >= 0 && (size_t)k + 1 < n && p[k + 1] == 0)
			return PNG_UINT_31_MAX;
	}
	if (type == CT_ITXT || type == CT_ZTXT || type == CT_ICCP)
		return l->max_text_chunk < l->max_chunk ? l->max_text_chunk : l->max_chunk;
	return l->max_chunk;
}

/* APNG's state: acTL's promise and the fcTL/fdAT sequence. */
struct apng {
	int seen_actl;
	uint32_t num_frames;
	uint32_t n_fctl;
	uint32_t next_seq;       /* fcTL and fdAT share one sequence from 0 */
	int frame_open;          /* an fcTL after IDAT still waits for its fdAT */
	uint64_t duration_ms;
};

/* acTL: once, before IDAT, at least one frame. */
static int actl_chunk(struct apng *a, const unsigned char *p, size_t n, unsigned long n_idat)
{
	if (a->seen_actl || n_idat || n != 8)
		return IH_ERR_PNG_CHUNK;
	a->num_frames = media_be32(p);
	if (a->num_frames == 0 || a->num_frames > PNG_UINT_31_MAX)
		return IH_ERR_PNG_CHUNK;
	a->seen_actl = 1;
	return IH_OK;
}

/* fcTL: in sequence, inside the canvas; the one before IDAT is the whole canvas. */
static int fctl_chunk(struct apng *a, const struct image_info *info, const unsigned char *p,
		      size_t n, unsigned long n_idat)
{
	uint32_t fw, fh, fx, fy, num, den;

	if (!a->seen_actl || n != 26 || a->frame_open || ++a->n_fctl > a->num_frames ||
	    media_be32(p) != a->next_seq++)
		return IH_ERR_PNG_CHUNK;
	fw = media_be32(p + 4);
	fh = media_be32(p + 8);
	fx = media_be32(p + 12);
	fy = media_be32(p + 16);
	num = media_be16(p + 20);
	den = media_be16(p + 22);
	if (fw == 0 || fh == 0 || (uint64_t)fx + fw > info->width ||
	    (uint64_t)fy + fh > info->height || p[24] > 2 || p[25] > 1)
		return IH_ERR_PNG_CHUNK;
	if (!n_idat && (fx || fy || fw != info->width || fh != info->height))
		return IH_ERR_PNG_CHUNK;
	/* a denominator of 0 means 1/100 s */
	a->duration_ms += (uint64_t)num * 1000 / (den ? den : 100);
	a->frame_open = n_idat != 0;
	return IH_OK;
}

/* fdAT: frame data after IDAT, for the fcTL before it, in sequence. */
static int fdat_chunk(struct apng *a, const unsigned char *p, size_t n, unsigned long n_idat)
{
	if (!a->seen_actl || !n_idat || a->n_fctl == 0 || n < 5 ||
	    media_be32(p) != a->next_seq++)
		return IH_ERR_PNG_CHUNK;
	a->frame_open = 0;
	return IH_OK;
}

/*
 * Walks every chunk from the signature to IEND. Lengths are checked against
 * the limits before anything is hashed, so a forged length costs nothing.
 */
static int chunk_walk(struct walk *w, const unsigned char *data, size_t len)
{
	size_t pos = 8;
	int seen_ihdr = 0, seen_plte = 0, idat_over = 0;
	unsigned long n_idat = 0;
	uint32_t n_chunks = 0;
	struct apng a = { 0 };
	int ct = -1;
	int err;

	while (pos < len) {
		const unsigned char *p;
		uint32_t clen, type;
		int text;

		if (len - pos < 12)
			return IH_ERR_PNG_TRUNCATED;
		if (++n_chunks > MEDIA_MAX_ELEMENTS)
			return IH_ERR_PNG_CHUNK;
		clen = media_be32(data + pos);
		type = media_be32(data + pos + 4);
		p = data + pos + 8;
		text = type == CT_TEXT || type == CT_ITXT;
		/* the spec caps lengths at 2^31-1; a length past the end is truncation */
		if (clen > PNG_UINT_31_MAX || (!text && clen > chunk_limit(w->l, type, p, 0)))
			return IH_ERR_PNG_CHUNK;
		if (clen > len - pos - 12)
			return IH_ERR_PNG_TRUNCATED;
		if (text && clen > chunk_limit(w->l, type, p, clen))
			return IH_ERR_PNG_CHUNK;
		if (!chunk_type_valid(data + pos + 4))
			return IH_ERR_PNG_CHUNK;
		/* clen + 4 < 2^31 fits zlib's uInt */
		if (crc32(0L, data + pos + 4, (uInt)clen + 4) != media_be32(data + pos + 8 + clen))
			return IH_ERR_PNG_CRC;

		if (!seen_ihdr && type != CT_IHDR)
			return IH_ERR_PNG_HEADER;
		if (n_idat && type != CT_IDAT)
			idat_over = 1;
		switch (type) {
		case CT_IHDR:
			if (seen_ihdr)
				return IH_ERR_PNG_CHUNK;
			seen_ihdr = 1;
			err = ihdr_chunk(w, p, clen);
			if (err)
				return err;
			ct = w->info->color_type;
			break;
		case CT_PLTE:
			if (seen_plte || n_idat || ct == 0 || ct == 4 ||
			    clen == 0 || clen % 3 || clen / 3 > 256)
				return IH_ERR_PNG_CHUNK;
			seen_plte = 1;
			break;
		case CT_IDAT:
			/* the spec requires IDATs to be consecutive; ct 3 needs PLTE first */
			if (idat_over || (ct == 3 && !seen_plte))
				return IH_ERR_PNG_CHUNK;
			n_idat++;
			break;
		case CT_IEND:
			if (clen != 0 || n_idat == 0)
				return IH_ERR_PNG_CHUNK;
			/* every frame acTL announced is there, each with its data */
			if (a.seen_actl && (a.n_fctl != a.num_frames || a.frame_open))
				return IH_ERR_PNG_CHUNK;
			/* Anything after IEND could smuggle a second file past every viewer. */
			if (len - pos != 12)
				return IH_ERR_PNG_CHUNK;
			if (a.seen_actl) {
				w->info->frames = a.num_frames;
				w->info->animated = a.num_frames > 1;
				w->info->duration_ms = a.num_frames > 1 ? a.duration_ms : 0;
			} else {
				w->info->frames = 1;
			}
			return IH_OK;
		case CT_TEXT:
		case CT_ZTXT:
		case CT_ITXT:
		case CT_ICCP:
			err = text_chunk(w, type, p, clen);
			if (err)
				return err;
			break;
		case CT_ACTL:
			err = actl_chunk(&a, p, clen, n_idat);
			if (err)
				return err;
			break;
		case CT_FCTL:
			err = fctl_chunk(&a, w->info, p, clen, n_idat);
			if (err)
				return err;
			break;
		case CT_FDAT:
			err = fdat_chunk(&a, p, clen, n_idat);
			if (err)
				return err;
			break;
		default:
			/* A critical chunk we do not know: decoders must refuse the file. */
			if (!(data[pos + 4] & 0x20))
				return IH_ERR_PNG_CHUNK;
			break;
		}
		pos += 12 + (size_t)clen;
	}
	return IH_ERR_PNG_TRUNCATED;
}

int media_png_check(const unsigned char *data, size_t len, const struct image_limits *l,
		    struct image_info *info)
{
	struct walk *w;
	int err;

	/* The walk is heap-allocated for its 16 KiB scratch buffer; off the stack of a server. */
	w = malloc(sizeof(*w));
	if (!w)
		return IH_ERR_NOMEM;
	w->l = l;
	w->info = info;
	w->inflate_left = l->max_inflated_text;
	w->z_ready = 0;
	err = chunk_walk(w, data, len);
	if (w->z_ready)
		inflateEnd(&w->zs);
	free(w);
	if (err)
		return err;
	return libpng_check(data, len, l, info);
}

/* ---- adding a text chunk ------------------------------------------------- */

/* One UTF-8 sequence of NUL-terminated s (the NUL fails utf8_seq's checks). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	return utf8_seq(s, strnlen((const char *)s, 4), cp);
}

/* Scans UTF-8 text: code point count in *ncp, largest code point in *max. */
static int utf8_scan(const char *text, size_t *ncp, uint32_t *max)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t cp;

	*ncp = 0;
	*max = 0;
	while (*s) {
		size_t n = utf8_next(s, &cp);

		if (!n)
			return -1;
		if (cp > *max)
			*max = cp;
		(*ncp)++;
		s += n;
	}
	return 0;
}

/* Writes the Latin-1 form of UTF-8 text known to hold only code points <= 0xFF. */
static unsigned char *put_latin1(unsigned char *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	uint32_t cp;

	while (*s) {
		size_t n = utf8_next(s, &cp);

		*out++ = (unsigned char)cp;
		s += n;
	}
	return out;
}

/*
 * The keyword we write follows the spec to the letter: Latin-1 printable,
 * 1-79 characters, no leading, trailing or doubled spaces.
 */
static int keyword_ok(const char *keyword, size_t *klen)
{
	const unsigned char *s = (const unsigned char *)keyword;
	uint32_t cp, prev = ' ';
	size_t n = 0;

	while (*s) {
		size_t k = utf8_next(s, &cp);

		if (!k || cp < 32 || (cp > 126 && cp < 161) || cp > 255 ||
		    (cp == ' ' && prev == ' '))
			return -1;
		prev = cp;
		n++;
		s += k;
	}
	if (n == 0 || n > 79 || prev == ' ')
		return -1;
	*klen = n;
	return 0;
}

int image_png_add_text(const unsigned char *png, size_t len, const char *keyword,
		       const char *text, unsigned char **out, size_t *out_len)
{
	size_t klen, ncp, tlen, dlen, at = 8 + 12 + 13;  /* signature + IHDR chunk */
	uint32_t maxcp;
	unsigned char *buf, *q;
	int itxt;

	*out = NULL;
	*out_len = 0;
	if (!keyword || !text)
		return IH_ERR_LIMIT;
	if (len < 8 || memcmp(png, pngsig, 8) != 0)
		return IH_ERR_PNG_SIGNATURE;
	if (len < at || media_be32(png + 8) != 13 || media_be32(png + 12) != CT_IHDR)
		return IH_ERR_PNG_HEADER;
	if (keyword_ok(keyword, &klen) || utf8_scan(text, &ncp, &maxcp))
		return IH_ERR_LIMIT;
	itxt = maxcp > 0xFF;
	tlen = itxt ? strlen(text) : ncp;
	/* keyword NUL [flag method language NUL translated NUL] text */
	dlen = klen + 1 + (itxt ? 4 : 0);
	/* An infotext is a few KiB: a megabyte is no infotext, and never costs one. */
	if (tlen > MEDIA_DEF_MAX_TEXT_CHUNK - dlen)
		return IH_ERR_LIMIT;
	dlen += tlen;
	if (len > SIZE_MAX - 12 - dlen)
		return IH_ERR_LIMIT;

	buf = malloc(len + 12 + dlen);
	if (!buf)
		return IH_ERR_NOMEM;
	memcpy(buf, png, at);
	q = buf + at;
	put_be32(q, (uint32_t)dlen);
	memcpy(q + 4, itxt ? "iTXt" : "tEXt", 4);
	q = put_latin1(q + 8, keyword);
	*q++ = 0;
	if (itxt) {
		/* uncompressed, method 0, empty language tag, empty translated keyword */
		memset(q, 0, 4);
		memcpy(q + 4, text, tlen);
		q += 4 + tlen;
	} else {
		q = put_latin1(q, text);
	}
	put_be32(q, (uint32_t)crc32(0L, buf + at + 4, (uInt)(dlen + 4)));
	memcpy(q + 4, png + at, len - at);
	*out = buf;
	*out_len = len + 12 + dlen;
	return IH_OK;
}

/* ---- thumbnails ------------------------------------------------------------ */

/* An interlaced PNG is decoded whole before it is scaled: cap that memory. */
#define THUMB_MAX_WHOLE_BYTES (64u << 20)

/* Everything a thumbnail accumulates, on the heap: libpng's longjmp cannot lose it. */
struct thumb {
	struct memsrc src;
	int err;                  /* set before png_error() when the cause is ours */
	uint32_t w, h, tw, th, ch;
	unsigned char *rows;      /* one decoded row, or the whole image when interlaced */
	unsigned char **rowp;     /* row pointers into rows, interlaced only */
	uint32_t *xmap;           /* source column -> thumbnail column */
	uint32_t *xcount;         /* source columns per thumbnail column */
	uint64_t *acc;            /* sums of the current band of rows */
	uint32_t band;            /* thumbnail row being accumulated */
	uint32_t band_rows;       /* source rows in it so far */
	unsigned char *pixels;    /* the thumbnail, tw * th * ch */
	unsigned char *out;       /* the encoded PNG */
	size_t out_len, out_cap;
};

static void thumb_free(struct thumb *t)
{
	free(t->rows);
	free(t->rowp);
	free(t->xmap);
	free(t->xcount);
	free(t->acc);
	free(t->pixels);
	free(t->out);
}

/* Writes the averages of the band being accumulated as thumbnail row t->band. */
static void thumb_emit(struct thumb *t)
{
	unsigned char *o = t->pixels + (size_t)t->band * t->tw * t->ch;
	uint64_t *a = t->acc;

	if (t->band_rows == 0 || t->band >= t->th)
		return;
	for (uint32_t x = 0; x < t->tw; x++, a += t->ch, o += t->ch) {
		uint64_t n = (uint64_t)t->xcount[x] * t->band_rows;
		if (t->ch == 3) {
			for (int c = 0; c < 3; c++)
				o[c] = (unsigned char)((a[c] + n / 2) / n);
		} else {
			/* Colours were summed premultiplied: transparent pixels add no colour. */
			uint64_t alpha = a[3];
			for (int c = 0; c < 3; c++)
				o[c] = alpha ? (unsigned char)((a[c] + alpha / 2) / alpha) : 0;
			o[3] = (unsigned char)((alpha + n / 2) / n);
		}
	}
	memset(t->acc, 0, (size_t)t->tw * t->ch * sizeof *t->acc);
	t->band_rows = 0;
}

/* Adds source row y to the box of thumbnail pixels it falls in. */
static void thumb_add_row(struct thumb *t, const unsigned char *row, uint32_t y)
{
	uint32_t band = (uint32_t)((uint64_t)y * t->th / t->h);

	if (band != t->band) {
		thumb_emit(t);
		t->band = band;
	}
	t->band_rows++;
	if (t->ch == 3) {
		for (uint32_t x = 0; x < t->w; x++, row += 3) {
			uint64_t *a = t->acc + (size_t)t->xmap[x] * 3;
			a[0] += row[0];
			a[1] += row[1];
			a[2] += row[2];
		}
	} else {
		for (uint32_t x = 0; x < t->w; x++, row += 4) {
			uint64_t *a = t->acc + (size_t)t->xmap[x] * 4;
			uint32_t alpha = row[3];
			a[0] += (uint32_t)row[0] * alpha;
			a[1] += (uint32_t)row[1] * alpha;
			a[2] += (uint32_t)row[2] * alpha;
			a[3] += alpha;
		}
	}
}

/* Sizes the thumbnail (aspect kept, never enlarged) and allocates its buffers. */
static int thumb_setup(struct thumb *t, size_t rowbytes, int interlaced, uint32_t max_side)
{
	uint32_t big = t->w > t->h ? t->w : t->h;

	if (big <= max_side) {
		t->tw = t->w;
		t->th = t->h;
	} else if (t->w >= t->h) {
		t->tw = max_side;
		t->th = (uint32_t)(((uint64_t)t->h * max_side + t->w / 2) / t->w);
	} else {
		t->th = max_side;
		t->tw = (uint32_t)(((uint64_t)t->w * max_side + t->h / 2) / t->h);
	}
	if (t->tw == 0)
		t->tw = 1;
	if (t->th == 0)
		t->th = 1;
	if (interlaced && (uint64_t)rowbytes * t->h > THUMB_MAX_WHOLE_BYTES)
		return IH_ERR_LIMIT;
	t->rows = malloc(interlaced ? rowbytes * t->h : rowbytes);
	t->rowp = interlaced ? malloc(t->h * sizeof *t->rowp) : NULL;
	t->xmap = malloc((size_t)t->w * sizeof *t->xmap);
	t->xcount = calloc(t->tw, sizeof *t->xcount);
	t->acc = calloc((size_t)t->tw * t->ch, sizeof *t->acc);
	t->pixels = calloc((size_t)t->tw * t->th, t->ch);
	if (!t->rows || (interlaced && !t->rowp) || !t->xmap || !t->xcount || !t->acc ||
	    !t->pixels)
		return IH_ERR_NOMEM;
	for (uint32_t x = 0; x < t->w; x++) {
		t->xmap[x] = (uint32_t)((uint64_t)x * t->tw / t->w);
		t->xcount[t->xmap[x]]++;
	}
	for (uint32_t y = 0; interlaced && y < t->h; y++)
		t->rowp[y] = t->rows + (size_t)y * rowbytes;
	return IH_OK;
}

/* Decodes data into t->pixels, scaled down; every row passes through one row buffer. */
static int thumb_decode(struct thumb *t, const struct image_limits *l, uint32_t max_side)
{
	png_structp png;
	png_infop pinfo;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, on_png_error, on_png_warning);
	if (!png)
		return IH_ERR_NOMEM;
	pinfo = png_create_info_struct(png);
	if (!pinfo) {
		png_destroy_read_struct(&png, NULL, NULL);
		return IH_ERR_NOMEM;
	}
	/* png and pinfo are not modified after setjmp; everything else lives in *t. */
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &pinfo, NULL);
		return t->err ? t->err : IH_ERR_PNG_HEADER;
	}
	png_set_user_limits(png, l->max_width > PNG_UINT_31_MAX ? PNG_UINT_31_MAX : l->max_width,
			    l->max_height > PNG_UINT_31_MAX ? PNG_UINT_31_MAX : l->max_height);
	/* As in libpng_check(): the chunk walk bounded every chunk already. */
	png_set_chunk_malloc_max(png, PNG_UINT_31_MAX);
	/* Text and profiles are skipped unread; tRNS (transparency) is exempt from this. */
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
	/* A speed hint only (image_check() verified every chunk's CRC): its answer does not matter. */
	(void)png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
	png_set_read_fn(png, &t->src, mem_read);
	png_read_info(png, pinfo);
	t->w = png_get_image_width(png, pinfo);
	t->h = png_get_image_height(png, pinfo);
	if (!media_dims_within(t->w, t->h, l)) {
		t->err = IH_ERR_IMAGE_TOO_LARGE;
		png_error(png, "too large");
	}
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_gray_to_rgb(png);
	int passes = png_set_interlace_handling(png);
	png_read_update_info(png, pinfo);
	t->ch = png_get_channels(png, pinfo);
	size_t rowbytes = png_get_rowbytes(png, pinfo);
	if ((t->ch != 3 && t->ch != 4) || rowbytes != (size_t)t->w * t->ch) {
		t->err = IH_ERR_PNG_HEADER;
		png_error(png, "unexpected layout");
	}
	int rc = thumb_setup(t, rowbytes, passes > 1, max_side);
	if (rc != IH_OK) {
		t->err = rc;
		png_error(png, "setup");
	}
	if (passes > 1) {
		png_read_image(png, t->rowp);
		for (uint32_t y = 0; y < t->h; y++)
			thumb_add_row(t, t->rowp[y], y);
	} else {
		for (uint32_t y = 0; y < t->h; y++) {
			png_read_row(png, t->rows, NULL);
			thumb_add_row(t, t->rows, y);
		}
	}
	thumb_emit(t);
	/* Whatever follows the last row (text, IEND) is not needed. */
	png_destroy_read_struct(&png, &pinfo, NULL);
	return IH_OK;
}

static void mem_write(png_structp png, png_bytep data, size_t n)
{
	struct thumb *t = png_get_io_ptr(png);

	if (n > t->out_cap - t->out_len) {
		size_t cap = t->out_cap ? t->out_cap : 16384;
		while (cap - t->out_len < n) {
			if (cap > SIZE_MAX / 2) {
				t->err = IH_ERR_NOMEM;
				png_error(png, "too large");
			}
			cap *= 2;
		}
		unsigned char *p = realloc(t->out, cap);
		if (!p) {
			t->err = IH_ERR_NOMEM;
			png_error(png, "out of memory");
		}
		t->out = p;
		t->out_cap = cap;
	}
	memcpy(t->out + t->out_len, data, n);
	t->out_len += n;
}

static void mem_flush(png_structp png)
{
	(void)png;
}

/* Encodes t->pixels as an 8-bit RGB or RGBA PNG into t->out. */
static int thumb_encode(struct thumb *t)
{
	png_structp png;
	png_infop pinfo;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, on_png_error, on_png_warning);
	if (!png)
		return IH_ERR_NOMEM;
	pinfo = png_create_info_struct(png);
	if (!pinfo) {
		png_destroy_write_struct(&png, NULL);
		return IH_ERR_NOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &pinfo);
		return t->err ? t->err : IH_ERR_NOMEM;
	}
	png_set_write_fn(png, t, mem_write, mem_flush);
	png_set_IHDR(png, pinfo, t->tw, t->th, 8,
		     t->ch == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	/* Sub alone at level 3: 4 % larger than libpng's default, a quarter of its time. */
	png_set_compression_level(png, 3);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
	png_write_info(png, pinfo);
	for (uint32_t y = 0; y < t->th; y++)
		png_write_row(png, t->pixels + (size_t)y * t->tw * t->ch);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &pinfo);
	return IH_OK;
}

int image_png_thumbnail(const unsigned char *data, size_t len, const struct image_limits *lim,
			uint32_t max_side, unsigned char **out, size_t *out_len, uint32_t *w,
			uint32_t *h)
{
	struct image_limits l = media_limits(lim);
	struct thumb t;

	*out = NULL;
	*out_len = 0;
	memset(&t, 0, sizeof t);
	if (max_side == 0)
		return IH_ERR_LIMIT;
	if (len < 8 || memcmp(data, pngsig, 8) != 0)
		return IH_ERR_PNG_SIGNATURE;
	t.src.data = data;
	t.src.len = len;
	int rc = thumb_decode(&t, &l, max_side);
	if (rc == IH_OK)
		rc = thumb_encode(&t);
	if (rc == IH_OK) {
		*out = t.out;
		*out_len = t.out_len;
		*w = t.tw;
		*h = t.th;
		t.out = NULL;
	}
	thumb_free(&t);
	return rc;
}
