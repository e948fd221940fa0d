/* test_media.c - every container validator on real files (tests/fixtures/media) and on a hostile corpus made from them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "base64.h"
#include "ih_error.h"
#include "image.h"
#include "media.h"

/* What each fixture is; tests/fixtures/media/README says how it was made. */
struct fixture {
	const char *name;
	enum image_format format;
	uint32_t width, height;
	uint64_t duration_ms;
	uint32_t frames;
	int animated;
	const char *ext, *mime;
	int video;
};

static const struct fixture fixtures[] = {
	{ "still.png", IMAGE_PNG, 32, 24, 0, 1, 0, "png", "image/png", 0 },
	{ "anim.png", IMAGE_PNG, 32, 24, 1000, 5, 1, "png", "image/png", 0 },
	{ "still.jpg", IMAGE_JPEG, 32, 24, 0, 1, 0, "jpg", "image/jpeg", 0 },
	{ "lossy.webp", IMAGE_WEBP, 32, 24, 0, 1, 0, "webp", "image/webp", 0 },
	{ "lossless.webp", IMAGE_WEBP, 32, 24, 0, 1, 0, "webp", "image/webp", 0 },
	{ "alpha.webp", IMAGE_WEBP, 32, 24, 0, 1, 0, "webp", "image/webp", 0 },
	{ "anim.webp", IMAGE_WEBP, 32, 24, 1000, 5, 1, "webp", "image/webp", 0 },
	{ "still.gif", IMAGE_GIF, 32, 24, 0, 1, 0, "gif", "image/gif", 0 },
	{ "anim.gif", IMAGE_GIF, 32, 24, 1000, 5, 1, "gif", "image/gif", 0 },
	{ "still.avif", IMAGE_AVIF, 32, 24, 0, 0, 0, "avif", "image/avif", 0 },
	{ "anim.avif", IMAGE_AVIF, 32, 24, 600, 0, 1, "avif", "image/avif", 0 },
	{ "still.heic", IMAGE_HEIF, 32, 24, 0, 0, 0, "heic", "image/heic", 0 },
	{ "clip.mp4", IMAGE_MP4, 32, 24, 1000, 0, 0, "mp4", "video/mp4", 1 },
	{ "clip-audio.mp4", IMAGE_MP4, 32, 24, 1000, 0, 0, "mp4", "video/mp4", 1 },
	{ "clip.mov", IMAGE_MOV, 32, 24, 1000, 0, 0, "mov", "video/quicktime", 1 },
	{ "clip-vp8.webm", IMAGE_WEBM, 32, 24, 1000, 0, 0, "webm", "video/webm", 1 },
	{ "clip-vp9.webm", IMAGE_WEBM, 32, 24, 1000, 0, 0, "webm", "video/webm", 1 },
	{ "live.webm", IMAGE_WEBM, 32, 24, 1000, 0, 0, "webm", "video/webm", 1 },
	{ "clip.mkv", IMAGE_MKV, 32, 24, 1000, 0, 0, "mkv", "video/x-matroska", 1 },
};

#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

/* Reads tests/fixtures/media/name (under $TOP_SRCDIR, which make check sets); fails the test if absent. */
static unsigned char *load(const char *name, size_t *len)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[4096];
	FILE *f;
	unsigned char *buf;
	long n;

	snprintf(path, sizeof path, "%s/tests/fixtures/media/%s", top ? top : "..", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("fixture %s missing", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	/* room for tests to append */
	buf = malloc((size_t)n + 64);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int check(const unsigned char *d, size_t len)
{
	struct image_info info;

	return image_check(d, len, NULL, &info);
}

/* Offset of the first occurrence of the bytes pat[0..n) at or after from, or fails. */
static size_t find(const unsigned char *d, size_t len, const void *pat, size_t n, size_t from)
{
	for (size_t i = from; i + n <= len; i++)
		if (memcmp(d + i, pat, n) == 0)
			return i;
	fail_msg("pattern not found");
	return 0;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/* ---- EBML element helpers (the tests find what they mutate by walking, not by searching) ---- */

/* Length of the vint at d[off], from its marker bit. */
static size_t vint_len(const unsigned char *d, size_t off)
{
	size_t n = 1;

	while (!(d[off] & (0x80 >> (n - 1))))
		n++;
	return n;
}

static size_t el_id_len(unsigned char b)
{
	return b >= 0x80 ? 1 : b >= 0x40 ? 2 : b >= 0x20 ? 3 : 4;
}

/* Offset of the data of the element at off. */
static size_t el_body(const unsigned char *d, size_t off)
{
	size_t p = off + el_id_len(d[off]);

	return p + vint_len(d, p);
}

/* Offset after the element at off (known size). */
static size_t el_end(const unsigned char *d, size_t off)
{
	size_t p = off + el_id_len(d[off]), n = vint_len(d, p);
	uint64_t size = d[p] & (0xFF >> n);

	for (size_t i = 1; i < n; i++)
		size = size << 8 | d[p + i];
	return p + n + (size_t)size;
}

/* Offset of the first child with ID id of the master at off, or fails. */
static size_t el_child(const unsigned char *d, size_t off, uint32_t id)
{
	size_t end = el_end(d, off);

	for (size_t p = el_body(d, off); p < end; p = el_end(d, p)) {
		uint32_t v = 0;

		for (size_t i = 0; i < el_id_len(d[p]); i++)
			v = v << 8 | d[p + i];
		if (v == id)
			return p;
	}
	fail_msg("no element %x", id);
	return 0;
}

/* The Segment of an EBML file: right after the EBML header. */
static size_t el_segment(const unsigned char *d)
{
	return el_end(d, 0);
}

/* Offset of the first occurrence of pat at or after from, or SIZE_MAX. */
static size_t find_opt(const unsigned char *d, size_t len, const void *pat, size_t n, size_t from)
{
	for (size_t i = from; i + n <= len; i++)
		if (memcmp(d + i, pat, n) == 0)
			return i;
	return SIZE_MAX;
}

/* Rewrites the size of the element at off (ID idlen bytes) as "unknown", same length. */
static void set_unknown(unsigned char *d, size_t off, size_t idlen)
{
	size_t p = off + idlen, n = vint_len(d, p);

	d[p] = (unsigned char)(0xFF >> (n - 1));
	memset(d + p + 1, 0xFF, n - 1);
}

/* ---- the real files ---------------------------------------------------- */

static void test_fixtures_accepted(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		const struct fixture *f = &fixtures[i];
		struct image_info info;
		size_t len;
		unsigned char *d = load(f->name, &len);
		int rc = image_check(d, len, NULL, &info);

		if (rc != IH_OK)
			fail_msg("%s: %s", f->name, ih_strerror(rc));
		assert_int_equal(image_sniff(d, len), f->format);
		assert_int_equal(info.format, f->format);
		assert_int_equal(info.width, f->width);
		assert_int_equal(info.height, f->height);
		if (info.duration_ms != f->duration_ms)
			fail_msg("%s: duration %llu ms, expected %llu", f->name,
				 (unsigned long long)info.duration_ms,
				 (unsigned long long)f->duration_ms);
		assert_int_equal(info.frames, f->frames);
		assert_int_equal(info.animated, f->animated);
		assert_string_equal(info.ext, f->ext);
		assert_string_equal(info.mime, f->mime);
		assert_string_equal(image_format_ext(f->format), f->ext);
		assert_string_equal(image_format_mime(f->format), f->mime);
		assert_int_equal(image_format_is_video(f->format), f->video);
		free(d);
	}
}

static void test_format_names(void **state)
{
	static const struct {
		enum image_format f;
		const char *name;
	} names[] = {
		{ IMAGE_PNG, "png" },   { IMAGE_JPEG, "jpeg" }, { IMAGE_WEBP, "webp" },
		{ IMAGE_GIF, "gif" },   { IMAGE_AVIF, "avif" }, { IMAGE_HEIF, "heif" },
		{ IMAGE_MP4, "mp4" },   { IMAGE_MOV, "mov" },   { IMAGE_WEBM, "webm" },
		{ IMAGE_MKV, "matroska" }, { IMAGE_UNKNOWN, "unknown" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_string_equal(image_format_name(names[i].f), names[i].name);
	assert_string_equal(image_format_ext((enum image_format)99), "bin");
	assert_string_equal(image_format_mime((enum image_format)99), "application/octet-stream");
	assert_int_equal(image_format_is_video(IMAGE_GIF), 0);
	assert_int_equal(image_format_is_video(IMAGE_AVIF), 0);
	assert_int_equal(image_format_is_video(IMAGE_UNKNOWN), 0);
}

/*
 * Every proper prefix of every file is refused: cut anywhere, no file
 * passes. A live WebM (its Segment's size unknown) is the one container
 * whose end is where the bytes end: its cuts must fail until the first
 * Cluster (of known size, with the first frame) is whole.
 */
static void test_truncated_everywhere(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		size_t len, must_fail;
		unsigned char *d = load(fixtures[i].name, &len);

		must_fail = strcmp(fixtures[i].name, "live.webm") == 0
				    ? el_end(d, find(d, len, "\x1F\x43\xB6\x75", 4, 0))
				    : len;
		for (size_t n = 1; n < len; n++) {
			/* a copy of exactly n bytes, so ASan sees any read past it */
			unsigned char *cut = malloc(n);
			int rc;

			assert_non_null(cut);
			memcpy(cut, d, n);
			rc = check(cut, n);
			if (n < must_fail && rc == IH_OK)
				fail_msg("%s cut to %zu bytes was accepted", fixtures[i].name, n);
			free(cut);
		}
		free(d);
	}
}

/* Bytes after the end of the container are refused for every format. */
static void test_trailing_bytes(void **state)
{
	static const struct {
		const char *bytes;
		size_t n;
	} tails[] = {
		{ "\0", 1 }, { "x", 1 }, { "\0\0\0\0\0\0\0", 7 }, { "\0\0\0\x08junk", 8 },
		{ "\0\0\0\0junk", 8 }, { "\xEC\x80", 2 }, { "PK\3\4zipfile", 12 },
	};

	(void)state;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		size_t len;
		unsigned char *d = load(fixtures[i].name, &len);

		for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
			int rc;

			/* the live WebM's open Segment takes a Void element (EC 80) as its own */
			if (strcmp(fixtures[i].name, "live.webm") == 0 && tails[t].bytes[0] == '\xEC')
				continue;
			memcpy(d + len, tails[t].bytes, tails[t].n);
			rc = check(d, len + tails[t].n);
			if (rc == IH_OK)
				fail_msg("%s with %zu trailing bytes (tail %zu) accepted", fixtures[i].name,
					 tails[t].n, t);
		}
		free(d);
	}
}

/* Tight limits refuse each file by its dimensions, with the right error. */
static void test_dimension_limits(void **state)
{
	struct image_limits tight = { .max_width = 31 }, exact = { .max_width = 32, .max_height = 24,
								  .max_pixels = 768 };
	struct image_limits px = { .max_pixels = 767 };

	(void)state;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		struct image_info info;
		size_t len;
		unsigned char *d = load(fixtures[i].name, &len);

		assert_int_equal(image_check(d, len, &exact, &info), IH_OK);
		assert_int_equal(image_check(d, len, &tight, &info), IH_ERR_IMAGE_TOO_LARGE);
		assert_int_equal(image_check(d, len, &px, &info), IH_ERR_IMAGE_TOO_LARGE);
		free(d);
	}
}

/* ---- PNG: the ComfyUI workflow, APNG ----------------------------------- */

/* Inserts a chunk (type, data[0..n)) right after IHDR; returns the new buffer. */
static unsigned char *insert_chunk(const unsigned char *png, size_t len, const char *type,
				   const unsigned char *data, size_t n, size_t *out_len)
{
	size_t at = 33;
	unsigned char *out = malloc(len + 12 + n);

	assert_non_null(out);
	memcpy(out, png, at);
	put_be32(out + at, (uint32_t)n);
	memcpy(out + at + 4, type, 4);
	memcpy(out + at + 8, data, n);
	put_be32(out + at + 8 + n, (uint32_t)crc32(crc32(0L, (const Bytef *)type, 4), data, (uInt)n));
	memcpy(out + at + 12 + n, png + at, len - at);
	*out_len = len + 12 + n;
	return out;
}

/* ComfyUI's SaveImage writes the UI graph as tEXt "workflow" and the API graph as "prompt". */
static void test_png_comfyui_workflow(void **state)
{
	struct image_info info;
	size_t len, n = 1500000, l1, l2, tlen, thlen;
	unsigned char *png = load("still.png", &len), *text, *with1, *with2, *thumb;
	uint32_t tw, th;

	(void)state;
	text = malloc(n);
	assert_non_null(text);
	memcpy(text, "workflow\0{\"last_node_id\":9,\"nodes\":[", 37);
	for (size_t i = 37; i < n - 2; i++)
		text[i] = (unsigned char)"{\"id\": 3, \"type\": \"KSampler\"}, "[i % 32];
	memcpy(text + n - 2, "]}", 2);
	with1 = insert_chunk(png, len, "tEXt", text, n, &l1);
	memcpy(text, "prompt\0{\"3\":{", 13);
	with2 = insert_chunk(with1, l1, "tEXt", text, 200000, &l2);
	assert_int_equal(image_check(with2, l2, NULL, &info), IH_OK);
	assert_int_equal(info.width, 32);
	assert_int_equal(info.height, 24);
	assert_int_equal(info.n_keywords, 2);
	assert_string_equal(info.keywords[0], "prompt");
	assert_string_equal(info.keywords[1], "workflow");
	/* the gallery's thumbnail reads past the text too */
	assert_int_equal(image_png_thumbnail(with2, l2, NULL, 16, &thumb, &thlen, &tw, &th), IH_OK);
	assert_int_equal(tw, 16);
	assert_int_equal(th, 12);
	assert_int_equal(image_check(thumb, thlen, NULL, &info), IH_OK);
	free(thumb);
	/* infotext added beside it, as the handler does for A1111 */
	{
		unsigned char *out;
		size_t olen;

		assert_int_equal(image_png_add_text(with2, l2, "parameters", "a cat, Steps: 20", &out,
						    &olen),
				 IH_OK);
		assert_int_equal(image_check(out, olen, NULL, &info), IH_OK);
		assert_true(info.has_parameters);
		free(out);
	}
	(void)tlen;
	free(with2);
	free(with1);
	free(text);
	free(png);
}

/* A tEXt over the 32 MiB max_chunk: uncompressed text is bounded only by the body. */
static void test_png_text_over_max_chunk(void **state)
{
	struct image_info info;
	size_t len, n = (32u << 20) + 100, olen, thlen;
	unsigned char *png = load("still.png", &len), *text, *out, *thumb;
	uint32_t tw, th;

	(void)state;
	text = malloc(n);
	assert_non_null(text);
	memset(text, 'w', n);
	memcpy(text, "workflow\0", 9);
	out = insert_chunk(png, len, "tEXt", text, n, &olen);
	assert_int_equal(image_check(out, olen, NULL, &info), IH_OK);
	assert_int_equal(image_png_thumbnail(out, olen, NULL, 8, &thumb, &thlen, &tw, &th), IH_OK);
	free(thumb);
	/* the same bytes in a zTXt would be inflated: refused by size before that */
	free(out);
	text[9] = 0;
	out = insert_chunk(png, len, "zTXt", text, n, &olen);
	assert_int_equal(image_check(out, olen, NULL, &info), IH_ERR_PNG_CHUNK);
	free(out);
	free(text);
	free(png);
}

/* Offsets of APNG chunks: the n-th chunk of type t in png. */
static size_t png_chunk(const unsigned char *png, size_t len, const char *t, int nth)
{
	size_t pos = 8;

	while (pos + 12 <= len) {
		uint32_t clen = media_be32(png + pos);

		if (memcmp(png + pos + 4, t, 4) == 0 && nth-- == 0)
			return pos;
		pos += 12 + clen;
	}
	fail_msg("no chunk %s", t);
	return 0;
}

static void fix_crc(unsigned char *png, size_t off)
{
	uint32_t clen = media_be32(png + off);

	put_be32(png + off + 8 + clen, (uint32_t)crc32(0L, png + off + 4, clen + 4));
}

/* Mutates one byte of field at (chunk, offset in its data), fixes the CRC, expects a refusal. */
static void apng_refuses(const char *type, int nth, size_t at, const unsigned char *val, size_t n)
{
	size_t len;
	unsigned char *d = load("anim.png", &len);
	size_t off = png_chunk(d, len, type, nth);

	memcpy(d + off + 8 + at, val, n);
	fix_crc(d, off);
	if (check(d, len) != IH_ERR_PNG_CHUNK)
		fail_msg("APNG with %s #%d +%zu changed accepted", type, nth, at);
	free(d);
}

static void test_apng_hostile(void **state)
{
	unsigned char be[4];

	(void)state;
	/* acTL: more or fewer frames than fcTLs, zero frames */
	put_be32(be, 6);
	apng_refuses("acTL", 0, 0, be, 4);
	put_be32(be, 4);
	apng_refuses("acTL", 0, 0, be, 4);
	put_be32(be, 0);
	apng_refuses("acTL", 0, 0, be, 4);
	/* fcTL: sequence out of order, frame outside the canvas, bad ops, zero size */
	put_be32(be, 7);
	apng_refuses("fcTL", 1, 0, be, 4);
	put_be32(be, 33);
	apng_refuses("fcTL", 2, 4, be, 4);
	put_be32(be, 1);
	apng_refuses("fcTL", 2, 12, be, 4);       /* x 1 + width 32 > 32 */
	put_be32(be, 0xFFFFFFFFu);
	apng_refuses("fcTL", 2, 16, be, 4);       /* y overflow */
	apng_refuses("fcTL", 1, 24, (const unsigned char *)"\3", 1);
	apng_refuses("fcTL", 1, 25, (const unsigned char *)"\2", 1);
	put_be32(be, 0);
	apng_refuses("fcTL", 1, 4, be, 4);
	/* the first fcTL (before IDAT) must cover the canvas */
	put_be32(be, 16);
	apng_refuses("fcTL", 0, 4, be, 4);
	/* fdAT: sequence */
	put_be32(be, 99);
	apng_refuses("fdAT", 0, 0, be, 4);
}

/* The A1111 infotext added to an APNG keeps it a valid APNG; its thumbnail is the first frame. */
static void test_apng_add_text_and_thumbnail(void **state)
{
	struct image_info info;
	size_t len, olen, tlen;
	unsigned char *d = load("anim.png", &len), *out, *thumb;
	uint32_t tw, th;

	(void)state;
	assert_int_equal(image_png_add_text(d, len, "parameters", "a cat\nSteps: 20", &out, &olen), IH_OK);
	assert_int_equal(image_check(out, olen, NULL, &info), IH_OK);
	assert_true(info.animated);
	assert_int_equal(info.frames, 5);
	assert_int_equal(info.duration_ms, 1000);
	assert_true(info.has_parameters);
	assert_int_equal(image_png_thumbnail(out, olen, NULL, 16, &thumb, &tlen, &tw, &th), IH_OK);
	assert_int_equal(tw, 16);
	assert_int_equal(th, 12);
	free(thumb);
	free(out);
	free(d);
}

/* acTL after IDAT, and fdAT before it: reordered chunks. */
static void test_apng_order(void **state)
{
	size_t len, actl, idat, fctl1, fdat, alen, ilen, flen;
	unsigned char *d, *r;

	(void)state;
	d = load("anim.png", &len);
	actl = png_chunk(d, len, "acTL", 0);
	alen = 12 + media_be32(d + actl);
	idat = png_chunk(d, len, "IDAT", 0);
	ilen = 12 + media_be32(d + idat);
	/* move acTL to right after the (single) IDAT */
	r = malloc(len);
	assert_non_null(r);
	memcpy(r, d, actl);
	memcpy(r + actl, d + actl + alen, idat + ilen - actl - alen);
	memcpy(r + idat + ilen - alen, d + actl, alen);
	memcpy(r + idat + ilen, d + idat + ilen, len - idat - ilen);
	assert_int_equal(check(r, len), IH_ERR_PNG_CHUNK);
	free(r);
	/* drop the second frame's fdAT: its fcTL has no data */
	fctl1 = png_chunk(d, len, "fcTL", 1);
	fdat = png_chunk(d, len, "fdAT", 0);
	assert_true(fdat > fctl1);
	flen = 12 + media_be32(d + fdat);
	memmove(d + fdat, d + fdat + flen, len - fdat - flen);
	assert_int_equal(check(d, len - flen), IH_ERR_PNG_CHUNK);
	free(d);
}

/* ---- WebP animation ---------------------------------------------------- */

static void test_webp_anim_hostile(void **state)
{
	size_t len, anmf, anim;
	unsigned char *d;

	(void)state;
	/* a frame pushed outside the canvas: X offset (in units of 2) */
	d = load("anim.webp", &len);
	anmf = find(d, len, "ANMF", 4, 12);
	d[anmf + 8] = 1;
	assert_int_equal(check(d, len), IH_ERR_WEBP);
	free(d);
	/* a frame wider than the canvas */
	d = load("anim.webp", &len);
	anmf = find(d, len, "ANMF", 4, 12);
	d[anmf + 8 + 6] = 32;
	assert_int_equal(check(d, len), IH_ERR_WEBP);
	free(d);
	/* the frame header says one size, its bitstream another */
	d = load("anim.webp", &len);
	anmf = find(d, len, "ANMF", 4, 12);
	d[anmf + 8 + 6] = 30;
	assert_int_equal(check(d, len), IH_ERR_WEBP);
	free(d);
	/* ANIM missing (renamed), or the animation flag cleared */
	d = load("anim.webp", &len);
	anim = find(d, len, "ANIM", 4, 12);
	memcpy(d + anim, "XNIM", 4);
	assert_int_equal(check(d, len), IH_ERR_WEBP);
	free(d);
	d = load("anim.webp", &len);
	d[20] &= (unsigned char)~0x02;
	assert_int_equal(check(d, len), IH_ERR_WEBP);
	free(d);
	/* an ANMF size past the RIFF end */
	d = load("anim.webp", &len);
	anmf = find(d, len, "ANMF", 4, 12);
	d[anmf + 7] = 0x7F;
	assert_int_equal(check(d, len), IH_ERR_WEBP);
	free(d);
}

/* ---- GIF --------------------------------------------------------------- */

/* A minimal GIF: header, screen w x h with a 2-colour table, one 1x1 image, trailer. */
static size_t make_gif(unsigned char *g)
{
	static const unsigned char gif[] = {
		'G', 'I', 'F', '8', '9', 'a', 2, 0, 3, 0, 0x80, 0, 0,
		0, 0, 0, 255, 255, 255,                         /* global colour table */
		0x21, 0xF9, 4, 0, 10, 0, 0, 0,                  /* GCE, 100 ms */
		0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0,                /* image descriptor */
		2, 2, 0x4C, 0x01, 0,                            /* LZW, one sub-block */
		0x3B,
	};

	memcpy(g, gif, sizeof gif);
	return sizeof gif;
}

static void test_gif_hostile(void **state)
{
	unsigned char g[256];
	struct image_info info;
	struct image_limits lim = { .max_pixels = 100 };
	size_t n;

	(void)state;
	n = make_gif(g);
	assert_int_equal(image_check(g, n, NULL, &info), IH_OK);
	assert_int_equal(info.width, 2);
	assert_int_equal(info.height, 3);
	assert_int_equal(info.frames, 1);
	assert_int_equal(info.duration_ms, 0);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(check(g, i), IH_ERR_GIF);
	/* zero screen, colour table past the end */
	n = make_gif(g);
	g[6] = 0;
	assert_int_equal(check(g, n), IH_ERR_GIF);
	n = make_gif(g);
	g[10] = 0x87;   /* 256 colours: 768 bytes that are not there */
	assert_int_equal(check(g, n), IH_ERR_GIF);
	/* GCE with the wrong block size, or its terminator missing */
	n = make_gif(g);
	g[21] = 5;
	assert_int_equal(check(g, n), IH_ERR_GIF);
	n = make_gif(g);
	g[26] = 1;
	assert_int_equal(check(g, n), IH_ERR_GIF);
	/* LZW code size 0 or 12 */
	n = make_gif(g);
	g[37] = 0;
	assert_int_equal(check(g, n), IH_ERR_GIF);
	g[37] = 12;
	assert_int_equal(check(g, n), IH_ERR_GIF);
	/* a sub-block longer than what is left */
	n = make_gif(g);
	g[38] = 200;
	assert_int_equal(check(g, n), IH_ERR_GIF);
	/* an unknown block introducer */
	n = make_gif(g);
	g[19] = 0x99;
	assert_int_equal(check(g, n), IH_ERR_GIF);
	/* no image at all: header, table, trailer */
	n = make_gif(g);
	g[19] = 0x3B;
	assert_int_equal(check(g, 20), IH_ERR_GIF);
	/* a frame over the pixel limit, the screen within it */
	n = make_gif(g);
	g[33] = 1;   /* frame width 257 */
	assert_int_equal(image_check(g, n, &lim, &info), IH_ERR_IMAGE_TOO_LARGE);
	/* an extension whose sub-block chain never ends */
	n = make_gif(g);
	memcpy(g + 19, "\x21\xFE\x05hello", 8);
	assert_int_equal(check(g, 27), IH_ERR_GIF);
	/* a comment extension and a second frame: animated, with the delay summed */
	n = make_gif(g);
	memmove(g + n - 1, g + 19, 24);
	n += 23;
	g[n - 1] = 0x3B;
	assert_int_equal(image_check(g, n, NULL, &info), IH_OK);
	assert_int_equal(info.frames, 2);
	assert_true(info.animated);
	assert_int_equal(info.duration_ms, 200);
}

/* ---- ISO BMFF ---------------------------------------------------------- */

/* Offset of the box header whose type is t, searching from from. */
static size_t box_at(const unsigned char *d, size_t len, const char *t, size_t from)
{
	return find(d, len, t, 4, from) - 4;
}

static void test_isobmff_box_sizes(void **state)
{
	size_t len, moov, mdat, big_len;
	unsigned char *d, *big;
	struct image_info info;

	(void)state;
	/* a box one byte longer than its parent, or shorter than its header */
	d = load("clip.mp4", &len);
	moov = box_at(d, len, "moov", 0);
	put_be32(d + moov, media_be32(d + moov) + 1);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	put_be32(d + moov, 4);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	/* a child (mvhd) past its parent moov */
	free(d);
	d = load("clip.mp4", &len);
	moov = box_at(d, len, "mvhd", 0);
	put_be32(d + moov, 0x00FFFFFF);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	/* size 0 inside a container: only a top-level box may run to the end */
	put_be32(d + moov, 0);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* clip.mp4 ends with mdat: size 0 there means "to the end of the file" */
	d = load("clip.mp4", &len);
	mdat = box_at(d, len, "mdat", 0);
	put_be32(d + mdat, 0);
	assert_int_equal(image_check(d, len, NULL, &info), IH_OK);
	assert_int_equal(info.width, 32);
	/* the same mdat with a 64-bit size: 16-byte header (the 8-byte free box before mdat? none: rebuild) */
	big = malloc(len + 8);
	assert_non_null(big);
	memcpy(big, d, mdat);
	put_be32(big + mdat, 1);
	memcpy(big + mdat + 4, "mdat", 4);
	put_be64(big + mdat + 8, len - mdat + 8);
	memcpy(big + mdat + 16, d + mdat + 8, len - mdat - 8);
	big_len = len + 8;
	/* moov's chunk offsets now point 8 bytes early: still inside, so still valid */
	assert_int_equal(image_check(big, big_len, NULL, &info), IH_OK);
	/* a 64-bit size past the end, a huge one, one below its own header */
	put_be64(big + mdat + 8, len - mdat + 9);
	assert_int_equal(check(big, big_len), IH_ERR_ISOBMFF);
	put_be64(big + mdat + 8, UINT64_MAX);
	assert_int_equal(check(big, big_len), IH_ERR_ISOBMFF);
	put_be64(big + mdat + 8, 1ULL << 63);
	assert_int_equal(check(big, big_len), IH_ERR_ISOBMFF);
	put_be64(big + mdat + 8, 15);
	assert_int_equal(check(big, big_len), IH_ERR_ISOBMFF);
	/* a 64-bit header cut short */
	assert_int_equal(check(big, mdat + 12), IH_ERR_ISOBMFF);
	free(big);
	free(d);
}

static void test_isobmff_structure(void **state)
{
	size_t len, off;
	unsigned char *d;

	(void)state;
	/* no video track: the handler says sound */
	d = load("clip.mp4", &len);
	off = find(d, len, "vide", 4, 0);
	memcpy(d + off, "soun", 4);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* a chunk offset past the end of the file */
	d = load("clip.mp4", &len);
	off = box_at(d, len, "stco", 0);
	put_be32(d + off + 16, (uint32_t)len);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	/* an entry count larger than the box */
	put_be32(d + off + 12, 1000000);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* a tkhd too short for its version */
	d = load("clip.mov", &len);
	off = box_at(d, len, "tkhd", 0);
	d[off + 8] = 1;
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* an unknown brand (audio) and no brand at all */
	d = load("clip.mp4", &len);
	memcpy(d + 8, "M4A ", 4);
	memset(d + 16, 'x', media_be32(d) - 16);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* an unknown box at the top level */
	d = load("clip.mp4", &len);
	off = box_at(d, len, "mdat", 0);
	memcpy(d + off + 4, "junk", 4);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* two moov boxes */
	d = load("clip-audio.mp4", &len);
	off = box_at(d, len, "mdat", 0);
	memcpy(d + off + 4, "moov", 4);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
}

/*
 * Boxes nested far deeper than MEDIA_MAX_DEPTH (unbounded recursion would
 * run off the stack), and a valid file followed by more boxes than
 * MEDIA_MAX_ELEMENTS (valid without the bound).
 */
static void test_isobmff_depth_and_count(void **state)
{
	static const unsigned char ftyp[16] = { 0, 0, 0, 16, 'f', 't', 'y', 'p',
						'i', 's', 'o', 'm', 0, 0, 2, 0 };
	size_t depth = 200000, n = 16 + 8 * depth, count, len, flen;
	unsigned char *d = malloc(n), *f;

	(void)state;
	assert_non_null(d);
	memcpy(d, ftyp, 16);
	put_be32(d + 16, (uint32_t)(8 * depth));
	memcpy(d + 20, "moov", 4);
	for (size_t i = 1; i < depth; i++) {
		put_be32(d + 16 + 8 * i, (uint32_t)(8 * (depth - i)));
		memcpy(d + 20 + 8 * i, "trak", 4);
	}
	assert_int_equal(check(d, n), IH_ERR_ISOBMFF);
	free(d);

	f = load("clip.mp4", &flen);
	count = MEDIA_MAX_ELEMENTS;
	len = flen + 8 * count;
	d = malloc(len);
	assert_non_null(d);
	memcpy(d, f, flen);
	for (size_t i = 0; i < count; i++) {
		put_be32(d + flen + 8 * i, 8);
		memcpy(d + flen + 4 + 8 * i, "free", 4);
	}
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	/* a few are fine */
	assert_int_equal(check(d, flen + 8 * 1000), IH_OK);
	free(d);
	free(f);
}

static void test_avif_items(void **state)
{
	size_t len, off;
	unsigned char *d;

	(void)state;
	/* the primary item is one without an ispe */
	d = load("still.avif", &len);
	off = box_at(d, len, "pitm", 0);
	d[off + 13] = 77;
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* an item's extent past the end of the file */
	d = load("still.avif", &len);
	off = box_at(d, len, "iloc", 0);
	/* version 0, sizes 4/4/0: item id 2, dref 2, count 2, then offset and length */
	assert_int_equal(d[off + 8], 0);
	put_be32(d + off + 8 + 4 + 2 + 2 + 2 + 2 + 2 + 4, (uint32_t)len);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* an association to a property ipco does not have */
	d = load("still.avif", &len);
	off = box_at(d, len, "ipma", 0);
	d[off + 8 + 4 + 4 + 2 + 1] = 0x7F;
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* meta's handler is not a picture's */
	d = load("still.heic", &len);
	off = find(d, len, "pict", 4, 0);
	memcpy(d + off, "vide", 4);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
	/* ispe of width 0 */
	d = load("still.heic", &len);
	off = box_at(d, len, "ispe", 0);
	put_be32(d + off + 12, 0);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
}

/* still.avif with n empty properties added to its ipco (meta, iprp, ipco grown to fit). */
static unsigned char *avif_with_properties(size_t n, size_t *out_len)
{
	size_t len, meta, iprp, ipco, at, add = 8 * n;
	unsigned char *d = load("still.avif", &len), *r = malloc(len + add);

	assert_non_null(r);
	meta = box_at(d, len, "meta", 0);
	iprp = box_at(d, len, "iprp", meta);
	ipco = box_at(d, len, "ipco", iprp);
	at = ipco + media_be32(d + ipco);
	memcpy(r, d, at);
	for (size_t i = 0; i < n; i++) {
		put_be32(r + at + 8 * i, 8);
		memcpy(r + at + 8 * i + 4, "free", 4);
	}
	memcpy(r + at + add, d + at, len - at);
	put_be32(r + meta, (uint32_t)(media_be32(d + meta) + add));
	put_be32(r + iprp, (uint32_t)(media_be32(d + iprp) + add));
	put_be32(r + ipco, (uint32_t)(media_be32(d + ipco) + add));
	free(d);
	*out_len = len + add;
	return r;
}

/* ipco holds at most 4096 properties: looking up the primary's stays cheap. */
static void test_avif_property_cap(void **state)
{
	size_t len;
	unsigned char *d;

	(void)state;
	d = avif_with_properties(10, &len);
	assert_int_equal(check(d, len), IH_OK);
	free(d);
	d = avif_with_properties(4096, &len);
	assert_int_equal(check(d, len), IH_ERR_ISOBMFF);
	free(d);
}

/* ---- EBML -------------------------------------------------------------- */

static void test_ebml_unknown_sizes(void **state)
{
	struct image_info info;
	size_t len, off;
	unsigned char *d;

	(void)state;
	/* a Segment of unknown size, as a live stream writes it: fine */
	d = load("clip-vp8.webm", &len);
	off = find(d, len, "\x18\x53\x80\x67", 4, 0);
	set_unknown(d, off, 4);
	assert_int_equal(image_check(d, len, NULL, &info), IH_OK);
	assert_int_equal(info.width, 32);
	/* and every Cluster of unknown size too: each ends where the next begins */
	for (off = 0; (off = find_opt(d, len, "\x1F\x43\xB6\x75", 4, off)) != SIZE_MAX; off += 4)
		set_unknown(d, off, 4);
	assert_int_equal(image_check(d, len, NULL, &info), IH_OK);
	assert_int_equal(info.duration_ms, 1000);
	free(d);
	/* an unknown size anywhere else is refused: Info, Tracks */
	d = load("clip-vp9.webm", &len);
	off = el_child(d, el_segment(d), 0x1549A966);
	set_unknown(d, off, 4);
	assert_int_equal(check(d, len), IH_ERR_EBML);
	free(d);
	d = load("clip.mkv", &len);
	off = el_child(d, el_segment(d), 0x1654AE6B);
	set_unknown(d, off, 4);
	assert_int_equal(check(d, len), IH_ERR_EBML);
	free(d);
	/* two live streams back to back: the second EBML header is not the Segment's */
	{
		size_t l1;
		unsigned char *a = load("live.webm", &l1), *two = malloc(2 * l1);

		assert_non_null(two);
		memcpy(two, a, l1);
		memcpy(two + l1, a, l1);
		assert_int_equal(check(two, 2 * l1), IH_ERR_EBML);
		free(two);
		free(a);
	}
}

static void test_ebml_structure(void **state)
{
	struct image_info info;
	size_t len, off, n;
	unsigned char *d;

	(void)state;
	/* a Segment one byte longer or shorter than what follows */
	d = load("clip-vp9.webm", &len);
	off = find(d, len, "\x18\x53\x80\x67", 4, 0);
	n = vint_len(d, off + 4);
	d[off + 4 + n - 1]++;
	assert_int_equal(check(d, len), IH_ERR_EBML);
	d[off + 4 + n - 1] -= 2;
	assert_int_equal(check(d, len), IH_ERR_EBML);
	free(d);
	/* the EBML header's size past the end of the file */
	d = load("clip-vp8.webm", &len);
	d[4] = 0x01;
	memset(d + 5, 0xFF, 6);
	d[11] = 0xF0;
	assert_int_equal(check(d, len), IH_ERR_EBML);
	free(d);
	/* another DocType */
	d = load("clip-vp8.webm", &len);
	off = find(d, len, "webm", 4, 0);
	memcpy(d + off, "wxbm", 4);
	assert_int_equal(image_sniff(d, len), IMAGE_UNKNOWN);
	assert_int_equal(check(d, len), IH_ERR_EBML);
	free(d);
	/* PixelWidth 0, and PixelWidth over the limit */
	d = load("clip-vp9.webm", &len);
	off = el_child(d, el_child(d, el_child(d, el_child(d, el_segment(d), 0x1654AE6B), 0xAE), 0xE0),
		       0xB0);
	assert_int_equal(d[off + 1], 0x81);
	d[off + 2] = 0;
	assert_int_equal(check(d, len), IH_ERR_EBML);
	d[off + 2] = 0x7F;
	{
		struct image_limits lim = { .max_width = 100 };

		assert_int_equal(image_check(d, len, &lim, &info), IH_ERR_IMAGE_TOO_LARGE);
	}
	free(d);
	/* Duration NaN: unknown, not refused; Duration of 3 bytes: refused */
	d = load("clip.mkv", &len);
	off = el_child(d, el_child(d, el_segment(d), 0x1549A966), 0x4489);
	assert_int_equal(d[off + 2], 0x88);
	memcpy(d + off + 3, "\x7F\xF8\0\0\0\0\0\0", 8);
	assert_int_equal(image_check(d, len, NULL, &info), IH_OK);
	assert_int_equal(info.duration_ms, 0);
	memcpy(d + off + 3, "\xFF\xF0\0\0\0\0\0\0", 8);   /* -infinity */
	assert_int_equal(image_check(d, len, NULL, &info), IH_OK);
	assert_int_equal(info.duration_ms, 0);
	free(d);
	/* a TimecodeScale of 0 */
	d = load("clip.mkv", &len);
	off = el_child(d, el_child(d, el_segment(d), 0x1549A966), 0x2AD7B1);
	n = d[off + 3] & 0x7F;
	memset(d + off + 4, 0, n);
	assert_int_equal(check(d, len), IH_ERR_EBML);
	free(d);
	/* an ID with too many length bits, a size vint of 0 */
	d = load("clip-vp8.webm", &len);
	off = el_child(d, el_segment(d), 0x1549A966);
	d[off] = 0x05;
	assert_int_equal(check(d, len), IH_ERR_EBML);
	free(d);
	d = load("clip-vp8.webm", &len);
	off = el_child(d, el_segment(d), 0x1549A966);
	d[off + 4] = 0;
	assert_int_equal(check(d, len), IH_ERR_EBML);
	free(d);
	/* a SimpleBlock too short for its header */
	d = load("clip-vp8.webm", &len);
	off = el_child(d, el_child(d, el_segment(d), 0x1F43B675), 0xA3);
	{
		size_t sl = vint_len(d, off + 1);
		unsigned char *e = d + off + 1 + sl;

		/* turn it into a 2-byte block followed by a Void covering the rest */
		uint64_t size = d[off + 1] & (0xFF >> sl);

		for (size_t i = 1; i < sl; i++)
			size = size << 8 | d[off + 1 + i];
		assert_true(size > 12);
		d[off + 1] = (unsigned char)(0x80 >> (sl - 1));
		memset(d + off + 2, 0, sl - 1);
		d[off + sl] |= 2;
		e[2] = 0xEC;
		e[3] = 0x01;
		size -= 2 + 1 + 8;
		for (int i = 0; i < 7; i++)
			e[4 + i] = (unsigned char)(size >> (8 * (6 - i)));
		assert_int_equal(check(d, len), IH_ERR_EBML);
	}
	free(d);
	/* no video track: TrackType 2 (audio) and no Video element */
	d = load("clip-vp9.webm", &len);
	n = el_child(d, el_child(d, el_segment(d), 0x1654AE6B), 0xAE);
	off = el_child(d, n, 0x83);
	d[el_child(d, n, 0xE0)] = 0xEC;   /* the Video master becomes Void */
	assert_int_equal(d[off + 2], 1);
	d[off + 2] = 2;
	assert_int_equal(check(d, len), IH_ERR_EBML);
	free(d);
}

/*
 * Masters nested far deeper than MEDIA_MAX_DEPTH (unbounded recursion would
 * run off the stack); a live stream followed by more Void elements than
 * MEDIA_MAX_ELEMENTS (its open Segment would take them all).
 */
static void test_ebml_depth_and_count(void **state)
{
	static const unsigned char hdr[] = { 0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84,
					     'w', 'e', 'b', 'm' };
	size_t depth = 200000, n, count, pos, flen;
	unsigned char *d, *f;

	(void)state;
	/* Segment > Chapters > Chapters > ... each with an 8-byte size */
	n = sizeof hdr + 12 * (depth + 1);
	d = malloc(n);
	assert_non_null(d);
	memcpy(d, hdr, sizeof hdr);
	pos = sizeof hdr;
	for (size_t i = 0; i <= depth; i++) {
		uint64_t size = 12 * (uint64_t)(depth - i);

		memcpy(d + pos, i == 0 ? "\x18\x53\x80\x67" : "\x10\x43\xA7\x70", 4);
		put_be64(d + pos + 4, size | (1ULL << 56));
		pos += 12;
	}
	assert_int_equal(image_sniff(d, n), IMAGE_WEBM);
	assert_int_equal(check(d, n), IH_ERR_EBML);
	free(d);

	f = load("live.webm", &flen);
	count = MEDIA_MAX_ELEMENTS;
	n = flen + 2 * count;
	d = malloc(n);
	assert_non_null(d);
	memcpy(d, f, flen);
	for (size_t i = 0; i < count; i++) {
		d[flen + 2 * i] = 0xEC;
		d[flen + 2 * i + 1] = 0x80;
	}
	assert_int_equal(check(d, n), IH_ERR_EBML);
	assert_int_equal(check(d, flen + 2000), IH_OK);
	free(d);
	free(f);
}

/* The base64 of every fixture sniffs as the file does, wrapped or not; not-base64 sniffs as nothing. */
static void test_sniff_base64(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		size_t len, n, w = 0;
		unsigned char *d = load(fixtures[i].name, &len);
		char *b = malloc(4 * ((len + 2) / 3) + 1), *wrapped;

		assert_non_null(b);
		n = b64_encode(d, len, b);
		assert_int_equal(image_sniff_base64(b, n), fixtures[i].format);
		/* as MIME and PEM wrap it, every 76 characters */
		wrapped = malloc(n + n / 76 * 2 + 1);
		assert_non_null(wrapped);
		for (size_t k = 0; k < n; k++) {
			if (k && k % 76 == 0) {
				wrapped[w++] = '\r';
				wrapped[w++] = '\n';
			}
			wrapped[w++] = b[k];
		}
		assert_int_equal(image_sniff_base64(wrapped, w), fixtures[i].format);
		/* the first 100 characters are enough; 2 (one byte) are not */
		assert_int_equal(image_sniff_base64(b, 100), fixtures[i].format);
		assert_int_equal(image_sniff_base64(b, 2), IMAGE_UNKNOWN);
		b[5] = '*';
		assert_int_equal(image_sniff_base64(b, n), IMAGE_UNKNOWN);
		free(wrapped);
		free(b);
		free(d);
	}
	/* a short text with padding: GIF89a plus a little */
	assert_int_equal(image_sniff_base64("R0lGODlhAQABAA==", 16), IMAGE_GIF);
	assert_int_equal(image_sniff_base64("R0lGODlhAQABAA", 14), IMAGE_GIF);
	assert_int_equal(image_sniff_base64("", 0), IMAGE_UNKNOWN);
	assert_int_equal(image_sniff_base64("=", 1), IMAGE_UNKNOWN);
	assert_int_equal(image_sniff_base64("R", 1), IMAGE_UNKNOWN);
	assert_int_equal(image_sniff_base64("aGVsbG8gd29ybGQ=", 16), IMAGE_UNKNOWN);
}

/* Short and mangled magic: each container's own error, never a crash. */
static void test_damaged_magic(void **state)
{
	(void)state;
	assert_int_equal(check((const unsigned char *)"\x1A\x45\xDF", 3), IH_ERR_EBML);
	assert_int_equal(check((const unsigned char *)"\x1A\x45\xDF\xA3", 4), IH_ERR_EBML);
	assert_int_equal(check((const unsigned char *)"\0\0\0\x0C" "ftypisom", 12), IH_ERR_ISOBMFF);
	assert_int_equal(check((const unsigned char *)"\0\0\0\x10" "ftypisom\0\0\0\0", 16),
			 IH_ERR_ISOBMFF);
	assert_int_equal(check((const unsigned char *)"GIF89a", 6), IH_ERR_GIF);
	assert_int_equal(check((const unsigned char *)"GI", 2), IH_ERR_GIF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_accepted),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_dimension_limits),
		cmocka_unit_test(test_png_comfyui_workflow),
		cmocka_unit_test(test_png_text_over_max_chunk),
		cmocka_unit_test(test_apng_hostile),
		cmocka_unit_test(test_apng_order),
		cmocka_unit_test(test_apng_add_text_and_thumbnail),
		cmocka_unit_test(test_webp_anim_hostile),
		cmocka_unit_test(test_gif_hostile),
		cmocka_unit_test(test_isobmff_box_sizes),
		cmocka_unit_test(test_isobmff_structure),
		cmocka_unit_test(test_isobmff_depth_and_count),
		cmocka_unit_test(test_avif_items),
		cmocka_unit_test(test_avif_property_cap),
		cmocka_unit_test(test_ebml_unknown_sizes),
		cmocka_unit_test(test_ebml_structure),
		cmocka_unit_test(test_ebml_depth_and_count),
		cmocka_unit_test(test_sniff_base64),
		cmocka_unit_test(test_damaged_magic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
