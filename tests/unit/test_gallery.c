/* test_gallery.c - HTML escaping, job cards, the job.json card model, thumbnails, the gallery's files. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <png.h>

#include "buf.h"
#include "gallery.h"
#include "ih_error.h"
#include "image.h"
#include "payload.h"
#include "settings.h"
#include "store.h"

/* ---- helpers ---------------------------------------------------------------- */

static char *escaped(const char *s, size_t n)
{
	struct buf b = { 0 };
	assert_int_equal(gallery_escape(&b, s, n), IH_OK);
	if (b.data == NULL)
		assert_int_equal(buf_puts(&b, ""), IH_OK);
	return b.data;
}

/* 1 when s[0..n) is valid UTF-8 (strict), as a browser must read the page. */
static int valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			     c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (len == 0 || i + len > n)
			return 0;
		uint32_t cp = len == 1 ? c : c & (0x7f >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* True when every '<' in html opens one of the tags a card may have, none with an event handler. */
static int only_known_tags(const char *html)
{
	static const char *const ok[] = { "!--ih ", "article ", "/article>", "h2>", "/h2>", "span ",
					  "/span>", "span>", "time ", "/time>", "a ", "/a>", "p ", "p>", "/p>",
					  "div ", "div>", "/div>", "img ", "b>", "/b>", "dl ",
					  "/dl>", "dt>", "/dt>", "dd>", "/dd>", "details>",
					  "/details>", "summary>", "/summary>", "pre>", "/pre>" };
	for (const char *p = strchr(html, '<'); p != NULL; p = strchr(p + 1, '<')) {
		int known = 0;
		for (size_t i = 0; i < sizeof ok / sizeof ok[0] && !known; i++)
			known = strncmp(p + 1, ok[i], strlen(ok[i])) == 0;
		const char *end = strchr(p, '>');
		if (!known || end == NULL) {
			print_error("unexpected markup at: %.60s\n", p);
			return 0;
		}
		/* Inside the tag: attributes only, none of them on...= */
		for (const char *q = p; q < end; q++) {
			if (strncmp(q, " on", 3) != 0)
				continue;
			const char *r = q + 3;
			while (r < end && *r >= 'a' && *r <= 'z')
				r++;
			if (r < end && *r == '=') {
				print_error("event handler attribute at: %.60s\n", q);
				return 0;
			}
		}
	}
	return 1;
}

struct pngbuf {
	unsigned char *data;
	size_t len, cap;
};

static void pb_write(png_structp png, png_bytep data, size_t n)
{
	struct pngbuf *b = png_get_io_ptr(png);
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->data = realloc(b->data, b->cap);
		assert_non_null(b->data);
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
}

static void pb_flush(png_structp png)
{
	(void)png;
}

/* pixel(x, y, out) fills one pixel of the given colour type (8 bits, or 16 for gray16). */
typedef void (*pixel_fn)(uint32_t x, uint32_t y, unsigned char *out);

static unsigned char *make_png(uint32_t w, uint32_t h, int ct, int depth, int interlace,
			       pixel_fn pixel, size_t *len)
{
	struct pngbuf b = { 0 };
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	assert_non_null(png);
	assert_non_null(info);
	if (setjmp(png_jmpbuf(png)))
		fail_msg("libpng could not write the test image");
	png_set_write_fn(png, &b, pb_write, pb_flush);
	png_set_IHDR(png, info, w, h, depth, ct, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, 1);
	if (ct == PNG_COLOR_TYPE_PALETTE) {
		png_color pal[2] = { { 255, 0, 0 }, { 0, 0, 255 } };
		png_byte trans[1] = { 0 };
		png_set_PLTE(png, info, pal, 2);
		png_set_tRNS(png, info, trans, 1, NULL);
	}
	png_write_info(png, info);
	size_t bpp = (ct == PNG_COLOR_TYPE_RGB ? 3 : ct == PNG_COLOR_TYPE_RGBA ? 4 : 1) * (depth / 8);
	unsigned char *rows = malloc((size_t)w * h * bpp);
	png_bytep *rp = malloc(h * sizeof *rp);
	assert_non_null(rows);
	assert_non_null(rp);
	for (uint32_t y = 0; y < h; y++) {
		rp[y] = rows + (size_t)y * w * bpp;
		for (uint32_t x = 0; x < w; x++)
			pixel(x, y, rp[y] + x * bpp);
	}
	png_write_image(png, rp);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(rows);
	free(rp);
	*len = b.len;
	return b.data;
}

/* Decodes a PNG to 8-bit RGBA with libpng's simplified API; the caller frees. */
static unsigned char *decode_rgba(const unsigned char *data, size_t len, uint32_t *w, uint32_t *h)
{
	png_image im;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_memory(&im, data, len));
	im.format = PNG_FORMAT_RGBA;
	unsigned char *px = malloc(PNG_IMAGE_SIZE(im));
	assert_non_null(px);
	assert_true(png_image_finish_read(&im, NULL, px, 0, NULL));
	*w = im.width;
	*h = im.height;
	return px;
}

static void px_solid(uint32_t x, uint32_t y, unsigned char *o)
{
	(void)x;
	(void)y;
	o[0] = 200;
	o[1] = 100;
	o[2] = 50;
}

static void px_columns(uint32_t x, uint32_t y, unsigned char *o)
{
	(void)y;
	o[0] = o[1] = o[2] = x % 2 ? 255 : 0;
}

/* In each 2x2 block one transparent red pixel, three opaque green ones. */
static void px_alpha(uint32_t x, uint32_t y, unsigned char *o)
{
	int red = x % 2 == 0 && y % 2 == 0;
	o[0] = red ? 255 : 0;
	o[1] = red ? 0 : 200;
	o[2] = 0;
	o[3] = red ? 0 : 255;
}

static void px_gray16(uint32_t x, uint32_t y, unsigned char *o)
{
	(void)x;
	(void)y;
	o[0] = 0x80;   /* 0x8000 strips to 0x80 */
	o[1] = 0x00;
}

static void px_palette(uint32_t x, uint32_t y, unsigned char *o)
{
	(void)y;
	o[0] = x < 300 ? 0 : 1;   /* index 0 is transparent red, 1 opaque blue */
}

static uint32_t seed;

static void px_noise(uint32_t x, uint32_t y, unsigned char *o)
{
	(void)x;
	(void)y;
	for (int c = 0; c < 3; c++) {
		seed = seed * 1103515245u + 12345u;
		/* Smooth with a little grain, like a photograph rather than static. */
		o[c] = (unsigned char)(((x + y) / 8 + c * 60) + (seed >> 28));
	}
}

/* ---- escaping ------------------------------------------------------------------ */

static void test_escape_specials(void **state)
{
	(void)state;
	const char in[] = "<script>alert('x' & \"y\")</script>";
	char *out = escaped(in, strlen(in));
	assert_string_equal(out, "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;");
	free(out);
	out = escaped("plain text, kept as is", 22);
	assert_string_equal(out, "plain text, kept as is");
	free(out);
	out = escaped("tab\tnewline\ncr\r", 15);
	assert_string_equal(out, "tab\tnewline\ncr\r");
	free(out);
	out = escaped("", 0);
	assert_string_equal(out, "");
	free(out);
}

static void test_escape_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
		{ "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80", 17,
		  "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80" },   /* é 日本 🚀 */
		{ "a\xff" "b", 3, "a\xef\xbf\xbd" "b" },                            /* not UTF-8 at all */
		{ "\xc0\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd" },                      /* overlong NUL */
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },      /* a surrogate */
		{ "\xf4\x90\x80\x80", 4,
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },             /* past U+10FFFF */
		{ "x\xe6\x97", 3, "x\xef\xbf\xbd\xef\xbf\xbd" },                    /* cut short */
		{ "a\0b", 3, "a\xef\xbf\xbd" "b" },                                 /* NUL */
		{ "\x01\x1b[31m\x7f", 7, "\xef\xbf\xbd\xef\xbf\xbd[31m\xef\xbf\xbd" }, /* controls */
		{ "\xc2\x85\xc2\x9f", 4, "\xef\xbf\xbd\xef\xbf\xbd" },              /* C1 controls */
		{ "<\xff>", 3, "&lt;\xef\xbf\xbd&gt;" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = escaped(cases[i].in, cases[i].n);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("case %zu: got \"%s\"", i, out);
		free(out);
	}
}

/* Every 1- and 2-byte input: the output is UTF-8, has no markup character and no control. */
static void check_safe(const unsigned char *in, size_t n)
{
	char *out = escaped((const char *)in, n);
	size_t len = strlen(out);
	if (!valid_utf8((const unsigned char *)out, len))
		fail_msg("invalid UTF-8 out of %02x %02x", in[0], n > 1 ? in[1] : 0);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c == '<' || c == '>' || c == '"' || c == '\'' ||
		    (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			fail_msg("byte %02x left in the output of %02x %02x", c, in[0],
				 n > 1 ? in[1] : 0);
		if (c == '&' && strncmp(out + i, "&amp;", 5) != 0 && strncmp(out + i, "&lt;", 4) != 0 &&
		    strncmp(out + i, "&gt;", 4) != 0 && strncmp(out + i, "&quot;", 6) != 0 &&
		    strncmp(out + i, "&#39;", 5) != 0)
			fail_msg("a bare & in the output of %02x %02x", in[0], n > 1 ? in[1] : 0);
	}
	free(out);
}

static void test_escape_exhaustive(void **state)
{
	(void)state;
	unsigned char in[2];
	for (int a = 0; a < 256; a++) {
		in[0] = (unsigned char)a;
		check_safe(in, 1);
		for (int b = 0; b < 256; b++) {
			in[1] = (unsigned char)b;
			check_safe(in, 2);
		}
	}
}

/* ---- cards ---------------------------------------------------------------------- */

#define DIR_OK "jobs/2026/11/27/sync-abc"

static struct payload_card *new_card(void)
{
	struct payload_card *c = calloc(1, sizeof *c);
	assert_non_null(c);
	snprintf(c->id, sizeof c->id, "sync-abc");
	snprintf(c->status, sizeof c->status, "COMPLETED");
	snprintf(c->outcome, sizeof c->outcome, "stored");
	snprintf(c->received, sizeof c->received, "2026-11-27T14:52:03.123Z");
	return c;
}

static void add_image(struct payload_card *c, const char *file, uint32_t w, uint32_t h,
		      const char *rejected)
{
	struct payload_card_image *im = &c->images[c->n_images++];
	snprintf(im->file, sizeof im->file, "%s", file);
	snprintf(im->format, sizeof im->format, "%s", rejected ? "" : "png");
	snprintf(im->rejected, sizeof im->rejected, "%s", rejected ? rejected : "");
	im->width = w;
	im->height = h;
}

static char *card(const struct payload_card *c, const struct gallery_thumb *th)
{
	struct buf b = { 0 };
	struct gallery_thumb none[PAYLOAD_CARD_MAX_IMAGES];
	memset(none, 0, sizeof none);
	assert_int_equal(gallery_card_html(c, DIR_OK, th ? th : none, &b), IH_OK);
	assert_true(valid_utf8((const unsigned char *)b.data, b.len));
	return b.data;
}

static void test_card_hostile_text_is_escaped(void **state)
{
	(void)state;
	struct payload_card *c = new_card();
	snprintf(c->id, sizeof c->id, "\"><script>alert(1)</script>");
	snprintf(c->status, sizeof c->status, "FAILED\"><img src=x onerror=alert(1)>");
	snprintf(c->prompt, sizeof c->prompt, "<script>alert(1)</script> & 'quotes' \xff");
	snprintf(c->negative, sizeof c->negative, "</p><iframe src=//evil>");
	snprintf(c->error, sizeof c->error, "<b onmouseover=alert(1)>boom</b>");
	snprintf(c->worker, sizeof c->worker, "w<1>");
	snprintf(c->infotext, sizeof c->infotext, "</pre></details><script>x</script>");
	c->n_params = 1;
	snprintf(c->params[0].name, sizeof c->params[0].name, "seed");
	snprintf(c->params[0].value, sizeof c->params[0].value, "<1>");
	c->has_delay = 1;
	c->delay_ms = 1500;
	add_image(c, "0.png", 64, 64, NULL);
	add_image(c, "../../../etc/passwd", 64, 64, NULL);       /* not a job file name */
	add_image(c, "x\" onerror=\"alert(1).png", 64, 64, NULL);
	add_image(c, "2.rejected.b64", 0, 0, "invalid <base64>");
	struct payload_card_image *u = &c->images[c->n_images++];
	snprintf(u->url, sizeof u->url, "javascript:alert(1)//<x>");
	char *html = card(c, NULL);
	assert_true(only_known_tags(html));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "passwd"));
	assert_null(strstr(html, "javascript:alert(1)//<"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;quotes&#39; \xef\xbf\xbd"));
	assert_non_null(strstr(html, "javascript:alert(1)//&lt;x&gt;"));
	assert_non_null(strstr(html, "invalid &lt;base64&gt;"));
	/* Only the job folder's own name appears in links, never the sender's id. */
	assert_non_null(strstr(html, "href=\"../jobs/2026/11/27/sync-abc/job.json\""));
	free(html);
	free(c);
}

static void test_card_marks(void **state)
{
	(void)state;
	struct payload_card *c = new_card();
	snprintf(c->status, sizeof c->status, "FAILED");
	snprintf(c->outcome, sizeof c->outcome, "failed");
	snprintf(c->error, sizeof c->error, "CUDA out of memory");
	char *html = card(c, NULL);
	assert_non_null(strstr(html, "<article class=\"job bad\""));
	assert_non_null(strstr(html, ">FAILED</span>"));
	assert_non_null(strstr(html, "CUDA out of memory"));
	assert_non_null(strstr(html, " bad=1 "));
	free(html);

	memset(c, 0, sizeof *c);
	free(c);
	c = new_card();
	snprintf(c->outcome, sizeof c->outcome, "lost_upstream");
	c->lost_upstream = 1;
	html = card(c, NULL);
	assert_non_null(strstr(html, "Result lost upstream"));
	assert_non_null(strstr(html, " bad=0 "));
	assert_non_null(strstr(html, " lost=1 "));
	assert_null(strstr(html, "No images in the output"));
	free(html);
	free(c);

	c = new_card();
	snprintf(c->outcome, sizeof c->outcome, "stored_partial");
	add_image(c, "0.png", 64, 64, NULL);
	add_image(c, "1.rejected.bin", 0, 0, "PNG chunk CRC mismatch");
	html = card(c, NULL);
	assert_non_null(strstr(html, "<article class=\"job warn\""));
	assert_non_null(strstr(html, "1 image rejected"));
	assert_non_null(strstr(html, "<div class=\"rej\"><b>rejected</b> PNG chunk CRC mismatch "
				     "<a href=\"../jobs/2026/11/27/sync-abc/1.rejected.bin\">"));
	assert_non_null(strstr(html, " images=1 bad=0 rejected=1 "));
	free(html);
	free(c);

	c = new_card();
	snprintf(c->outcome, sizeof c->outcome, "recorded");
	html = card(c, NULL);
	assert_non_null(strstr(html, "<article class=\"job ok\""));
	assert_non_null(strstr(html, "No images in the output"));
	free(html);
	free(c);
}

static void test_card_images_and_thumbnails(void **state)
{
	(void)state;
	struct payload_card *c = new_card();
	struct gallery_thumb th[PAYLOAD_CARD_MAX_IMAGES];
	memset(th, 0, sizeof th);
	add_image(c, "0.png", 1024, 512, NULL);
	th[0].made = 1;
	th[0].width = 256;
	th[0].height = 128;
	add_image(c, "1.png", 1024, 512, NULL);      /* no thumbnail: the original, sized */
	add_image(c, "2.png", 100, 80, NULL);        /* small: the original as it is */
	add_image(c, "input-0.png", 2048, 2048, NULL);
	c->images[3].input = 1;
	char *html = card(c, th);
	assert_non_null(strstr(html, "<a href=\"../jobs/2026/11/27/sync-abc/0.png\"><img "
				     "src=\"thumbs/2026-11-27/sync-abc/0.png\" width=\"256\" "
				     "height=\"128\""));
	assert_non_null(strstr(html, "<img src=\"../jobs/2026/11/27/sync-abc/1.png\" width=\"256\" "
				     "height=\"128\""));
	assert_non_null(strstr(html, "<img src=\"../jobs/2026/11/27/sync-abc/2.png\" width=\"100\" "
				     "height=\"80\""));
	assert_non_null(strstr(html, "input images: <a href=\"../jobs/2026/11/27/sync-abc/input-0.png\""));
	assert_null(strstr(html, "<img src=\"../jobs/2026/11/27/sync-abc/input-0.png\""));
	assert_non_null(strstr(html, "loading=\"lazy\""));
	assert_ptr_equal(strstr(html, "<!--ih t=2026-11-27T14:52:03.123Z images=3 bad=0 rejected=0 "
				      "lost=0 links=0 thumb=thumbs/2026-11-27/sync-abc/0.png -->\n<article "),
			 html);
	free(html);
	free(c);
}

/* Videos play in the card with the browser's controls; GIF and AVIF are pictures. */
static void test_card_videos_and_animations(void **state)
{
	(void)state;
	struct payload_card *c = new_card();
	add_image(c, "0.mp4", 512, 512, NULL);
	snprintf(c->images[0].format, sizeof c->images[0].format, "mp4");
	add_image(c, "1.webm", 1024, 576, NULL);
	snprintf(c->images[1].format, sizeof c->images[1].format, "webm");
	add_image(c, "2.gif", 200, 100, NULL);
	snprintf(c->images[2].format, sizeof c->images[2].format, "gif");
	add_image(c, "3.avif", 640, 640, NULL);
	snprintf(c->images[3].format, sizeof c->images[3].format, "avif");
	snprintf(c->warnings, sizeof c->warnings, "node 12: <VAE> fell back to tiled decoding");
	char *html = card(c, NULL);
	/* Warnings beside stored media: amber, escaped. */
	assert_non_null(strstr(html, "<article class=\"job warn\""));
	assert_non_null(strstr(html, "<p class=\"mark warn\">Warnings: node 12: &lt;VAE&gt; fell back"));
	assert_non_null(strstr(html, "<video controls preload=\"metadata\" "
				     "src=\"../jobs/2026/11/27/sync-abc/0.mp4\" width=\"256\" height=\"256\">"));
	assert_non_null(strstr(html, "src=\"../jobs/2026/11/27/sync-abc/1.webm\" width=\"256\" "
				     "height=\"144\">"));
	assert_null(strstr(html, "<img src=\"../jobs/2026/11/27/sync-abc/0.mp4\""));
	assert_non_null(strstr(html, "<img src=\"../jobs/2026/11/27/sync-abc/2.gif\" width=\"200\" "
				     "height=\"100\""));
	assert_non_null(strstr(html, "<img src=\"../jobs/2026/11/27/sync-abc/3.avif\""));
	assert_null(strstr(html, "<script"));
	assert_true(gallery_is_video("mp4") && gallery_is_video("webm") && gallery_is_video("mov"));
	assert_false(gallery_is_video("gif") || gallery_is_video("png") || gallery_is_video(""));
	free(html);
	free(c);
}

static struct payload_card_image *add_link(struct payload_card *c, const char *url, int link,
					   const char *why)
{
	struct payload_card_image *im = &c->images[c->n_images++];
	snprintf(im->url, sizeof im->url, "%s", url);
	snprintf(im->where, sizeof im->where, "output.images[%u].data", c->n_images - 1);
	im->link = link;
	snprintf(im->link_error, sizeof im->link_error, "%s", why ? why : "");
	return im;
}

/* A presigned URL's query, which must reach no gallery file. */
#define SIGNED_QUERY "?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeef"

static void test_card_links(void **state)
{
	(void)state;
	struct payload_card *c = new_card();
	snprintf(c->outcome, sizeof c->outcome, "recorded");
	add_link(c, "https://s3.example/b/0.png", PAYLOAD_LINK_EXPIRED,
		 "expired 12 s ago (X-Amz-Expires)");
	add_link(c, "http://10.0.0.1/1.png", PAYLOAD_LINK_REFUSED,
		 "not on IMAGEHOOK_FETCH_HOSTS <10.0.0.1>");
	struct payload_card_image *p = add_link(c, "https://replicate.delivery/x/2.webp",
						PAYLOAD_LINK_PENDING, "HTTP 404");
	p->link_attempts = 2;
	p->link_expires = 1795788000;   /* 2026-11-27 14:00 UTC */
	/* A card built elsewhere with the query still on: the page leaves it out anyway. */
	struct payload_card_image *f = add_link(c, "https://s3.example/b/3.png" SIGNED_QUERY "#frag",
						PAYLOAD_LINK_FETCHED, NULL);
	snprintf(f->file, sizeof f->file, "3.png");
	snprintf(f->format, sizeof f->format, "png");
	add_link(c, "https://s3.example/b/4.png", PAYLOAD_LINK_FAILED, "cannot resolve s3.example");
	char *html = card(c, NULL);
	assert_true(only_known_tags(html));
	/* Lost links are trouble of their own: not rejected images, not a failed job. */
	assert_non_null(strstr(html, " images=1 bad=0 rejected=0 lost=0 links=3 thumb="));
	assert_non_null(strstr(html, "<article class=\"job warn\""));
	assert_non_null(strstr(html, "<p class=\"mark bad\">3 result links lost: 1 EXPIRED before it "
				     "was fetched, 1 refused, 1 could not be fetched.</p>"));
	assert_non_null(strstr(html, "<div class=\"rej\"><b>link EXPIRED unfetched:</b> expired 12 s "
				     "ago (X-Amz-Expires)<span class=\"u\">https://s3.example/b/0.png"
				     "</span></div>"));
	assert_non_null(strstr(html, "<div class=\"rej\"><b>link refused:</b> not on "
				     "IMAGEHOOK_FETCH_HOSTS &lt;10.0.0.1&gt;"));
	assert_non_null(strstr(html, "<b>link fetch failed for good:</b> cannot resolve s3.example"));
	assert_non_null(strstr(html, "<div class=\"link\"><b>link waiting to be fetched</b> (2 "
				     "attempts failed, the last: HTTP 404); it expires 2026-11-27 "
				     "14:00 UTC<span class=\"u\">https://replicate.delivery/x/2.webp"));
	assert_non_null(strstr(html, "1 result link waiting to be fetched."));
	assert_non_null(strstr(html, "<a href=\"../jobs/2026/11/27/sync-abc/3.png\" title=\"fetched "
				     "from https://s3.example/b/3.png\"><img src=\"../jobs/2026/11/27/"
				     "sync-abc/3.png\""));
	assert_null(strstr(html, "X-Amz-Signature"));
	assert_null(strstr(html, "frag"));
	assert_null(strstr(html, "1 image rejected"));
	free(html);

	/* Nothing stored and a link lost: the card is red. */
	memset(c, 0, sizeof *c);
	free(c);
	c = new_card();
	snprintf(c->outcome, sizeof c->outcome, "recorded");
	add_link(c, "https://s3.example/b/0.png", PAYLOAD_LINK_EXPIRED, "");
	html = card(c, NULL);
	assert_non_null(strstr(html, "<article class=\"job bad\""));
	assert_non_null(strstr(html, " bad=0 rejected=0 lost=0 links=1 "));
	assert_non_null(strstr(html, "link EXPIRED unfetched:</b> (no reason recorded)"));
	free(html);

	/* A link nothing says was queued (a record from before links were fetched). */
	memset(c, 0, sizeof *c);
	free(c);
	c = new_card();
	add_link(c, "https://s3.example/b/0.png", PAYLOAD_LINK_NONE, NULL);
	html = card(c, NULL);
	assert_non_null(strstr(html, "<article class=\"job ok\""));
	assert_non_null(strstr(html, "link recorded, not queued to be fetched"));
	assert_non_null(strstr(html, " links=0 "));
	free(html);
	free(c);
}

static void test_card_refuses_odd_folders(void **state)
{
	(void)state;
	struct payload_card *c = new_card();
	struct gallery_thumb th[1] = { { 0, 0, 0 } };
	struct buf b = { 0 };
	static const char *const bad[] = { "jobs/2026/11/27/", "jobs/2026/11/27/../x", "jobs/2026/1/27/x",
					   "rejected/2026/11/27/x", "jobs/2026/11/27/a/b",
					   "jobs/2026/11/27/.hidden" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(gallery_card_html(c, bad[i], th, &b), IH_ERR_LIMIT);
	buf_free(&b);
	free(c);
}

/* ---- the card model read from job.json ------------------------------------------- */

static const char a1111_record[] =
	"{\"id\":\"sync-a1\",\"status\":\"COMPLETED\",\"delayTime\":1234,\"executionTime\":5678,"
	"\"workerId\":\"w-1\",\"input\":{\"api\":{\"endpoint\":\"/sdapi/v1/txt2img\"},"
	"\"payload\":{\"prompt\":\"a red fox\",\"negative_prompt\":\"blurry\",\"seed\":-1,"
	"\"steps\":30,\"cfg_scale\":7.5,\"width\":1024,\"height\":768,\"sampler_name\":\"Euler a\","
	"\"override_settings\":{\"sd_model_checkpoint\":\"sdxl_base\"}}},"
	"\"output\":{\"images\":[{\"file\":\"0.png\"},{\"file\":\"0.png\"}],"
	"\"info\":\"{\\\"all_seeds\\\":[4242],\\\"infotexts\\\":[\\\"a red fox\\\\nSteps: 30\\\"]}\"},"
	"\"imagehook\":{\"received\":\"2026-11-27T10:00:00.000Z\",\"outcome\":\"stored\","
	"\"images\":[{\"where\":\"output.images[0]\",\"role\":\"output\",\"file\":\"0.png\","
	"\"format\":\"png\",\"width\":1024,\"height\":768},"
	"{\"where\":\"output.images[1]\",\"role\":\"output\",\"file\":\"0.png\",\"format\":\"png\","
	"\"width\":1024,\"height\":768,\"same_as\":0}]}}";

static const char *param(const struct payload_card *c, const char *name)
{
	for (unsigned i = 0; i < c->n_params; i++)
		if (strcmp(c->params[i].name, name) == 0)
			return c->params[i].value;
	fail_msg("no parameter %s", name);
	return NULL;
}

static void test_card_parse_a1111(void **state)
{
	(void)state;
	struct payload_card *c = calloc(1, sizeof *c);
	assert_non_null(c);
	assert_int_equal(payload_card_parse(a1111_record, strlen(a1111_record), c), IH_OK);
	assert_string_equal(c->id, "sync-a1");
	assert_string_equal(c->status, "COMPLETED");
	assert_string_equal(c->outcome, "stored");
	assert_string_equal(c->received, "2026-11-27T10:00:00.000Z");
	assert_string_equal(c->prompt, "a red fox");
	assert_string_equal(c->negative, "blurry");
	assert_string_equal(c->infotext, "a red fox\nSteps: 30");
	assert_true(c->has_delay && c->delay_ms == 1234 && c->has_exec && c->exec_ms == 5678);
	/* The seed asked for was -1 (random): the one used comes from output.info. */
	assert_string_equal(param(c, "seed"), "4242");
	assert_string_equal(param(c, "steps"), "30");
	assert_string_equal(param(c, "cfg"), "7.5");
	assert_string_equal(param(c, "sampler"), "Euler a");
	assert_string_equal(param(c, "size"), "1024\xc3\x97" "768");
	assert_string_equal(param(c, "model"), "sdxl_base");
	assert_string_equal(c->params[0].name, "seed");
	/* The same file twice (same_as) is one image. */
	assert_int_equal(c->n_images, 1);
	assert_string_equal(c->images[0].file, "0.png");
	assert_int_equal(c->images[0].width, 1024);
	free(c);
}

static void test_card_parse_comfy_and_sdxl(void **state)
{
	(void)state;
	static const char comfy[] =
		"{\"id\":\"c1\",\"status\":\"COMPLETED\",\"input\":{\"workflow\":{"
		"\"3\":{\"class_type\":\"KSampler\",\"inputs\":{\"seed\":42,\"steps\":20,\"cfg\":8,"
		"\"sampler_name\":\"euler\",\"scheduler\":\"normal\",\"denoise\":1,"
		"\"positive\":[\"6\",0],\"negative\":[\"7\",0],\"model\":[\"4\",0]}},"
		"\"4\":{\"class_type\":\"CheckpointLoaderSimple\",\"inputs\":{\"ckpt_name\":\"v1-5.ckpt\"}},"
		"\"5\":{\"class_type\":\"EmptyLatentImage\",\"inputs\":{\"width\":512,\"height\":512}},"
		"\"7\":{\"class_type\":\"CLIPTextEncode\",\"inputs\":{\"text\":\"watermark\"}},"
		"\"6\":{\"class_type\":\"CLIPTextEncode\",\"inputs\":{\"text\":\"a castle\"}}}},"
		"\"imagehook\":{\"outcome\":\"stored\",\"images\":[]}}";
	static const char sdxl[] =
		"{\"id\":\"s1\",\"status\":\"COMPLETED\",\"input\":{\"prompt\":\"a lighthouse\","
		"\"num_inference_steps\":25,\"guidance_scale\":7.5,\"scheduler\":\"K_EULER\","
		"\"width\":1024,\"height\":1024,\"seed\":null},\"output\":{\"images\":"
		"[\"https://bucket.example/x.png\"],\"seed\":777},\"imagehook\":{\"outcome\":\"recorded\","
		"\"images\":[{\"role\":\"output\",\"url\":\"https://bucket.example/x.png\"}]}}";
	struct payload_card *c = calloc(1, sizeof *c);
	assert_non_null(c);
	assert_int_equal(payload_card_parse(comfy, strlen(comfy), c), IH_OK);
	assert_string_equal(c->prompt, "a castle");
	assert_string_equal(c->negative, "watermark");
	assert_string_equal(param(c, "seed"), "42");
	assert_string_equal(param(c, "steps"), "20");
	assert_string_equal(param(c, "cfg"), "8");
	assert_string_equal(param(c, "sampler"), "euler");
	assert_string_equal(param(c, "scheduler"), "normal");
	assert_string_equal(param(c, "size"), "512\xc3\x97" "512");
	assert_string_equal(param(c, "model"), "v1-5.ckpt");

	assert_int_equal(payload_card_parse(sdxl, strlen(sdxl), c), IH_OK);
	assert_string_equal(c->prompt, "a lighthouse");
	assert_string_equal(param(c, "steps"), "25");
	assert_string_equal(param(c, "seed"), "777");
	assert_string_equal(param(c, "scheduler"), "K_EULER");
	assert_int_equal(c->n_images, 1);
	assert_string_equal(c->images[0].file, "");
	assert_string_equal(c->images[0].url, "https://bucket.example/x.png");
	free(c);
}

/* job.json after a fetch pass, as payload_record_fetched() writes it. */
static const char links_record[] =
	"{\"id\":\"links-1\",\"status\":\"COMPLETED\",\"output\":{\"error\":\"upload to "
	"https://s3.example/b/9.png" SIGNED_QUERY " was slow\"},"
	"\"imagehook\":{\"received\":\"2026-11-27T10:00:00.000Z\",\"outcome\":\"recorded\","
	"\"warnings\":\"see https://user:secret@s3.example/b/9.png" SIGNED_QUERY " \\\"now\\\"\","
	"\"images\":["
	"{\"where\":\"output.images[0].data\",\"role\":\"output\",\"url\":"
	"\"https://s3.example/b/0.png" SIGNED_QUERY "\",\"fetch\":\"fetched\",\"file\":\"0.png\","
	"\"format\":\"png\",\"width\":64,\"height\":64,\"fetch_attempts\":1},"
	"{\"where\":\"output.images[1].data\",\"role\":\"output\",\"url\":"
	"\"https://s3.example/b/1.png" SIGNED_QUERY "\",\"fetch\":\"expired\",\"rejected\":"
	"\"LINK EXPIRED before it was fetched (expired 5 s ago (X-Amz-Expires))\","
	"\"fetch_error\":\"expired 5 s ago (X-Amz-Expires)\",\"fetch_attempts\":0},"
	"{\"where\":\"output.images[2].data\",\"role\":\"output\",\"url\":"
	"\"https://s3.example/b/2.png\",\"fetch\":\"refused\",\"rejected\":\"fetch refused: "
	"port\"},"
	"{\"where\":\"output.images[3].data\",\"role\":\"output\",\"url\":"
	"\"https://user:pw@s3.example/b/3.png?sig=1\"},"
	"{\"where\":\"output.images[4].data\",\"role\":\"output\",\"url\":"
	"\"https://s3.example/b/4.png\",\"fetch\":\"rejected\",\"file\":\"4.rejected.bin\","
	"\"rejected\":\"fetched, but not media\",\"fetch_error\":\"fetched, but not media\"}]}}";

/* Its fetch.json: link 3 queued, never attempted yet; 0 and 1 as job.json says. */
static const char links_queue[] =
	"{\"links\":["
	"{\"url\":\"https://s3.example/b/0.png" SIGNED_QUERY "\",\"where\":\"output.images[0].data\","
	"\"state\":\"fetched\",\"expires\":1795788000,\"file\":\"0.png\"},"
	"{\"url\":\"https://s3.example/b/1.png" SIGNED_QUERY "\",\"where\":\"output.images[1].data\","
	"\"state\":\"expired\",\"expires\":1,\"error\":\"expired 5 s ago (X-Amz-Expires)\"},"
	"{\"url\":\"https://user:pw@s3.example/b/3.png?sig=1\",\"where\":\"output.images[3].data\","
	"\"state\":\"pending\",\"expires\":1795788000,\"attempts\":0},"
	"{\"url\":\"https://s3.example/b/3.png?other\",\"where\":\"output.images[9].data\","
	"\"state\":\"refused\",\"error\":\"not this one\"}]}";

static void test_card_parse_links(void **state)
{
	(void)state;
	struct payload_card *c = calloc(1, sizeof *c);
	assert_non_null(c);
	assert_int_equal(payload_card_parse(links_record, strlen(links_record), c), IH_OK);
	assert_int_equal(c->n_images, 5);
	/* Shown URLs: scheme, host and path; never the query, the fragment or user info. */
	assert_string_equal(c->images[0].url, "https://s3.example/b/0.png");
	assert_string_equal(c->images[3].url, "https://s3.example/b/3.png");
	assert_int_equal(c->images[0].link, PAYLOAD_LINK_FETCHED);
	assert_string_equal(c->images[0].file, "0.png");
	assert_int_equal(c->images[1].link, PAYLOAD_LINK_EXPIRED);
	assert_string_equal(c->images[1].link_error, "expired 5 s ago (X-Amz-Expires)");
	assert_string_equal(c->images[1].rejected, "");   /* a lost link, not a rejected image */
	assert_int_equal(c->images[2].link, PAYLOAD_LINK_REFUSED);
	assert_string_equal(c->images[2].link_error, "fetch refused: port");   /* an older record */
	assert_int_equal(c->images[3].link, PAYLOAD_LINK_NONE);
	assert_int_equal(c->images[4].link, PAYLOAD_LINK_REJECTED);
	assert_string_equal(c->images[4].rejected, "fetched, but not media");
	/* A worker's text that names the presigned URL keeps only what may be shown. */
	assert_string_equal(c->warnings, "see https://s3.example/b/9.png?\xe2\x80\xa6 \"now\"");
	assert_null(strstr(c->warnings, "secret"));

	assert_int_equal(payload_card_add_links(c, "[]", 2), IH_ERR_NOT_JSON);
	assert_int_equal(payload_card_add_links(c, links_queue, strlen(links_queue)), IH_OK);
	assert_int_equal(c->images[3].link, PAYLOAD_LINK_PENDING);
	assert_int_equal(c->images[3].link_expires, 1795788000);
	assert_int_equal(c->images[0].link, PAYLOAD_LINK_FETCHED);   /* job.json's word stays */
	assert_int_equal(c->images[0].link_expires, 1795788000);
	assert_int_equal(c->images[2].link, PAYLOAD_LINK_REFUSED);
	assert_string_equal(c->images[2].link_error, "fetch refused: port");
	for (unsigned i = 0; i < c->n_images; i++) {
		assert_null(strstr(c->images[i].url, "?"));
		assert_null(strstr(c->images[i].link_error, "X-Amz-Signature"));
	}
	free(c);
}

/* Any scheme's query is cut, and a signed query no "scheme://" announces. */
static void test_card_scrubs_any_scheme_and_signed_queries(void **state)
{
	(void)state;
	static const char rec[] =
		"{\"id\":\"s3-1\",\"status\":\"COMPLETED\",\"input\":{\"prompt\":"
		"\"cat s3://bucket/key?X-Amz-Signature=SIG1 and gs+x.1://b/o?token=SIG2 "
		"HTTPS://h/p?X-Amz-Signature=SIG3 done\","
		"\"negative_prompt\":\"no https\\\\u003a//h/x?X-Amz-Signature=SIG4 \\\\u0026 "
		"X-Amz-Credential=SIG5&Expires=1 or /cdn/x.png?Expires=1&Signature=SIG6 end\"},"
		"\"imagehook\":{\"outcome\":\"recorded\",\"images\":[]}}";
	struct payload_card *c = calloc(1, sizeof *c);
	assert_non_null(c);
	assert_int_equal(payload_card_parse(rec, strlen(rec), c), IH_OK);
	assert_string_equal(c->prompt, "cat s3://bucket/key?\xe2\x80\xa6 and gs+x.1://b/o?\xe2\x80\xa6 "
				       "HTTPS://h/p?\xe2\x80\xa6 done");
	for (int i = 1; i <= 6; i++) {
		char sig[8];
		assert_true(snprintf(sig, sizeof sig, "SIG%d", i) > 0);
		if (strstr(c->prompt, sig) != NULL || strstr(c->negative, sig) != NULL)
			fail_msg("%s shown: %s | %s", sig, c->prompt, c->negative);
	}
	assert_non_null(strstr(c->negative, "x?\xe2\x80\xa6 "));
	assert_non_null(strstr(c->negative, " end"));
	free(c);
}

static void test_card_parse_limits_and_refusals(void **state)
{
	(void)state;
	struct payload_card *c = calloc(1, sizeof *c);
	struct buf b = { 0 };
	assert_non_null(c);
	static const char *const bad[] = { "", "[]", "{\"id\":\"x\"}", "{\"imagehook\":[]}", "{" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(payload_card_parse(bad[i], strlen(bad[i]), c), IH_ERR_NOT_JSON);

	/* 70 images (64 listed), a prompt longer than the card holds, cut at a character. */
	assert_int_equal(buf_puts(&b, "{\"id\":\"x\",\"input\":{\"prompt\":\""), IH_OK);
	for (int i = 0; i < 1500; i++)
		assert_int_equal(buf_puts(&b, "\xc3\xa9"), IH_OK);
	assert_int_equal(buf_puts(&b, "\"},\"imagehook\":{\"images\":["), IH_OK);
	for (int i = 0; i < 70; i++)
		assert_int_equal(buf_printf(&b, "%s{\"file\":\"%d.png\",\"format\":\"png\"}",
					    i ? "," : "", i), IH_OK);
	assert_int_equal(buf_puts(&b, "]}}"), IH_OK);
	assert_int_equal(payload_card_parse(b.data, b.len, c), IH_OK);
	assert_int_equal(c->n_images, PAYLOAD_CARD_MAX_IMAGES);
	assert_int_equal(c->more_images, 70 - PAYLOAD_CARD_MAX_IMAGES);
	size_t n = strlen(c->prompt);
	assert_true(n < sizeof c->prompt && n > 1000);
	assert_string_equal(c->prompt + n - 3, "...");
	assert_true(valid_utf8((const unsigned char *)c->prompt, n));
	assert_string_equal(c->status, "UNKNOWN");
	buf_free(&b);
	free(c);
}

/* ---- thumbnails ----------------------------------------------------------------- */

static unsigned char *thumb(const unsigned char *png, size_t len, uint32_t *w, uint32_t *h,
			    size_t *tlen)
{
	unsigned char *out = NULL;
	assert_int_equal(image_png_thumbnail(png, len, NULL, GALLERY_THUMB_SIDE, &out, tlen, w, h),
			 IH_OK);
	assert_non_null(out);
	struct image_info info;
	assert_int_equal(image_check(out, *tlen, NULL, &info), IH_OK);
	assert_int_equal(info.width, *w);
	assert_int_equal(info.height, *h);
	return out;
}

static void test_thumbnail_sizes_and_colours(void **state)
{
	(void)state;
	size_t len, tlen;
	uint32_t w, h, dw, dh;

	unsigned char *png = make_png(1000, 500, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, px_solid, &len);
	unsigned char *t = thumb(png, len, &w, &h, &tlen);
	assert_int_equal(w, 256);
	assert_int_equal(h, 128);
	unsigned char *px = decode_rgba(t, tlen, &dw, &dh);
	for (size_t i = 0; i < (size_t)dw * dh; i++)
		assert_true(px[4 * i] == 200 && px[4 * i + 1] == 100 && px[4 * i + 2] == 50 &&
			    px[4 * i + 3] == 255);
	free(px);
	free(t);
	free(png);

	/* Portrait, and each thumbnail pixel the average of the two columns it covers. */
	png = make_png(300, 600, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, px_columns, &len);
	t = thumb(png, len, &w, &h, &tlen);
	assert_int_equal(w, 128);
	assert_int_equal(h, 256);
	free(t);
	free(png);
	png = make_png(512, 100, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, px_columns, &len);
	t = thumb(png, len, &w, &h, &tlen);
	assert_int_equal(w, 256);
	assert_int_equal(h, 50);
	px = decode_rgba(t, tlen, &dw, &dh);
	for (size_t i = 0; i < (size_t)dw * dh; i++)
		assert_int_equal(px[4 * i], 128);
	free(px);
	free(t);
	free(png);

	/* Small already: the same size, re-encoded. */
	png = make_png(40, 30, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, px_solid, &len);
	t = thumb(png, len, &w, &h, &tlen);
	assert_true(w == 40 && h == 30);
	free(t);
	free(png);
}

static void test_thumbnail_colour_types(void **state)
{
	(void)state;
	size_t len, tlen;
	uint32_t w, h, dw, dh;

	/* Transparent pixels add no colour: the averages stay green, 3/4 opaque. */
	unsigned char *png = make_png(512, 512, PNG_COLOR_TYPE_RGBA, 8, PNG_INTERLACE_NONE, px_alpha, &len);
	unsigned char *t = thumb(png, len, &w, &h, &tlen);
	unsigned char *px = decode_rgba(t, tlen, &dw, &dh);
	assert_true(w == 256 && h == 256);
	for (size_t i = 0; i < (size_t)dw * dh; i++)
		assert_true(px[4 * i] == 0 && px[4 * i + 1] == 200 && px[4 * i + 3] == 191);
	free(px);
	free(t);
	free(png);

	png = make_png(600, 300, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE, px_gray16, &len);
	t = thumb(png, len, &w, &h, &tlen);
	px = decode_rgba(t, tlen, &dw, &dh);
	assert_true(px[0] == 0x80 && px[1] == 0x80 && px[2] == 0x80 && px[3] == 255);
	free(px);
	free(t);
	free(png);

	/* A palette with a transparent entry: left of x=300 transparent, right opaque blue. */
	png = make_png(600, 300, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, px_palette, &len);
	t = thumb(png, len, &w, &h, &tlen);
	px = decode_rgba(t, tlen, &dw, &dh);
	assert_int_equal(px[3], 0);
	assert_true(px[4 * (dw - 1) + 2] == 255 && px[4 * (dw - 1) + 3] == 255);
	free(px);
	free(t);
	free(png);

	/* Interlaced (Adam7): decoded whole, same result. */
	png = make_png(700, 700, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, px_solid, &len);
	t = thumb(png, len, &w, &h, &tlen);
	px = decode_rgba(t, tlen, &dw, &dh);
	assert_true(w == 256 && h == 256 && px[0] == 200 && px[4 * 1000 + 1] == 100);
	free(px);
	free(t);
	free(png);
}

static void test_thumbnail_refusals(void **state)
{
	(void)state;
	size_t len, tlen = 0;
	uint32_t w, h;
	unsigned char *out = (unsigned char *)"not null";
	unsigned char *png = make_png(400, 400, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, px_solid, &len);

	assert_int_equal(image_png_thumbnail((const unsigned char *)"GIF89a....", 10, NULL, 256, &out,
					     &tlen, &w, &h), IH_ERR_PNG_SIGNATURE);
	assert_null(out);
	assert_int_equal(image_png_thumbnail(png, len, NULL, 0, &out, &tlen, &w, &h), IH_ERR_LIMIT);
	struct image_limits small = { .max_width = 100 };
	assert_int_equal(image_png_thumbnail(png, len, &small, 256, &out, &tlen, &w, &h),
			 IH_ERR_PNG_HEADER);   /* libpng's own user limit refuses it first */
	/* Cut in the middle of the pixel data. */
	assert_int_equal(image_png_thumbnail(png, len / 2, NULL, 256, &out, &tlen, &w, &h),
			 IH_ERR_PNG_HEADER);
	assert_null(out);
	/* Pixel data that does not inflate. */
	for (size_t i = 60; i < len - 20; i++)
		png[i] ^= 0x5a;
	assert_int_equal(image_png_thumbnail(png, len, NULL, 256, &out, &tlen, &w, &h),
			 IH_ERR_PNG_HEADER);
	assert_null(out);
	free(png);
}

/* What a thumbnail costs: reported, not asserted (sanitizers and valgrind are slower). */
static void test_thumbnail_cost(void **state)
{
	(void)state;
	size_t len, tlen;
	uint32_t w, h;
	seed = 1;
	unsigned char *png = make_png(1024, 1024, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, px_noise, &len);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned char *t = thumb(png, len, &w, &h, &tlen);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# thumbnail of a 1024x1024 RGB PNG (%zu bytes): %.1f ms, %zu bytes\n", len,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6, tlen);
	free(t);
	free(png);
}

/* ---- the gallery's files ------------------------------------------------------------ */

struct fx {
	char dir[64];
	char root[128];
	struct settings s;
	struct store *st;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/ih-gallery-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->root, sizeof fx->root, "%s/out", fx->dir);
	fx->s.output_dir = fx->root;
	if (store_open(fx->root, &fx->st) != IH_OK)
		return -1;
	fx->s.gallery = 1;
	fx->s.thumbnails = 1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	store_close(fx->st);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static char *slurp(const struct fx *fx, const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", fx->root, rel);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), IH_OK);
	fclose(f);
	if (b.data == NULL)
		assert_int_equal(buf_puts(&b, ""), IH_OK);
	return b.data;
}

static int n_tmp;

static int count_tmp(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	n_tmp += strncmp(path + ftw->base, ".tmp.", 5) == 0;
	return 0;
}

/* Temporary files left anywhere below the output root. */
static int leftovers(const struct fx *fx)
{
	n_tmp = 0;
	nftw(fx->root, count_tmp, 16, FTW_PHYS);
	return n_tmp;
}

static int exists(const struct fx *fx, const char *rel)
{
	char path[512];
	struct stat sb;
	snprintf(path, sizeof path, "%s/%s", fx->root, rel);
	return lstat(path, &sb) == 0;
}

/*
 * Stores a job as the handler does (images, then job.json), then calls the gallery
 * as a delivery does, with busy from gallery_busy_begin() (-1: as the fetcher does).
 */
static void store_busy(struct fx *fx, const char *name, time_t when, const char *received,
		       const char *status, uint32_t w, int n_images, int busy)
{
	struct store_job *job;
	struct buf rec = { 0 };
	size_t len;
	assert_int_equal(store_job_begin(fx->st, name, NULL, when, &job), IH_OK);
	assert_int_equal(buf_printf(&rec, "{\"id\":\"%s\",\"status\":\"%s\",\"input\":{\"prompt\":"
					  "\"prompt of %s\"},\"imagehook\":{\"received\":\"%s\","
					  "\"outcome\":\"%s\",\"images\":[", name, status, name,
				    received, strcmp(status, "FAILED") == 0 ? "failed" : "stored"),
			 IH_OK);
	for (int i = 0; i < n_images; i++) {
		char file[32];
		unsigned char *png = make_png(w, w / 2, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE,
					      px_solid, &len);
		snprintf(file, sizeof file, "%d.png", i);
		assert_int_equal(store_job_write(job, file, png, len), IH_OK);
		free(png);
		assert_int_equal(buf_printf(&rec, "%s{\"role\":\"output\",\"file\":\"%s\",\"format\":"
						  "\"png\",\"width\":%u,\"height\":%u}",
					    i ? "," : "", file, w, w / 2), IH_OK);
	}
	assert_int_equal(buf_puts(&rec, "]}}\n"), IH_OK);
	assert_int_equal(store_job_write(job, "job.json", rec.data, rec.len), IH_OK);
	char stem[STORE_NAME_MAX], record[STORE_NAME_MAX + 16];
	store_status_name(status, NULL, stem, sizeof stem);
	snprintf(record, sizeof record, "delivery-%s.json", stem);
	assert_int_equal(store_job_commit(job, record, "job.json"), IH_OK);
	if (busy >= 0)
		gallery_delivery_done(&fx->s, store_job_dir(job), busy);
	else
		gallery_job_stored(&fx->s, store_job_dir(job));
	store_job_end(job);
	buf_free(&rec);
}

static void store(struct fx *fx, const char *name, time_t when, const char *received,
		  const char *status, uint32_t w, int n_images)
{
	store_busy(fx, name, when, received, status, w, n_images, -1);
}

#define T_NOV27 ((time_t)1795780800)   /* 2026-11-27 12:00:00 UTC */
#define T_NOV28 ((time_t)1795867200)

/*
 * While another delivery is in flight (between storing and its gallery step), a
 * delivery only queues its job; the one in flight, ending, places it and renders.
 */
static void test_refresh_left_to_the_delivery_in_flight(void **state)
{
	struct fx *fx = *state;
	/* A period no test run comes near, so that only the rule under test decides. */
	fx->s.gallery_stale_ms = 3600 * 1000;
	int other = gallery_busy_begin(&fx->s);
	assert_true(other >= 0);
	store_busy(fx, "job-a", T_NOV27, "2026-11-27T12:00:00.000Z", "COMPLETED", 200, 1,
		   gallery_busy_begin(&fx->s));
	assert_false(exists(fx, "gallery/2026-11-27.html"));
	char *q = slurp(fx, "gallery/.queue");
	assert_non_null(q);
	assert_string_equal(q, "jobs/2026/11/27/job-a\n");
	free(q);
	/* The fetcher (no mark of its own) defers to the delivery in flight too. */
	store(fx, "job-b", T_NOV27 + 1, "2026-11-27T12:00:01.000Z", "COMPLETED", 200, 1);
	assert_false(exists(fx, "gallery/2026-11-27.html"));

	/* The delivery in flight ends (a duplicate: nothing of its own to queue). */
	gallery_delivery_done(&fx->s, NULL, other);
	char *day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(day);
	assert_non_null(strstr(day, "id=\"job-a\""));
	assert_non_null(strstr(day, "id=\"job-b\""));
	free(day);
	q = slurp(fx, "gallery/.queue");
	assert_non_null(q);
	assert_string_equal(q, "");
	free(q);
	assert_int_equal(leftovers(fx), 0);
}

/* `imagehook gallery` places what deliveries left queued while it held the lock. */
static void test_rebuild_places_what_was_left_queued(void **state)
{
	struct fx *fx = *state;
	fx->s.gallery_stale_ms = 3600 * 1000;
	int other = gallery_busy_begin(&fx->s);
	assert_true(other >= 0);
	store_busy(fx, "job-a", T_NOV27, "2026-11-27T12:00:00.000Z", "COMPLETED", 200, 1,
		   gallery_busy_begin(&fx->s));
	assert_false(exists(fx, "gallery/2026-11-27.html"));
	char *argv[] = { "gallery", "--no-thumbnails", NULL };
	FILE *out = tmpfile(), *err = tmpfile();
	assert_non_null(out);
	assert_non_null(err);
	assert_int_equal(gallery_main(&fx->s, 2, argv, out, err), 0);
	fclose(out);
	fclose(err);
	char *q = slurp(fx, "gallery/.queue");
	assert_non_null(q);
	assert_string_equal(q, "");
	free(q);
	char *day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(day);
	assert_non_null(strstr(day, "id=\"job-a\""));
	free(day);
	gallery_delivery_done(&fx->s, NULL, other);
}

/* Under steady load someone is always in flight: pages a refresh period old are refreshed anyway. */
static void test_stale_pages_refreshed_while_others_in_flight(void **state)
{
	struct fx *fx = *state;
	char path[512];
	/* A period no test run comes near, so that only the rule under test decides. */
	fx->s.gallery_stale_ms = 3600 * 1000;
	int other = gallery_busy_begin(&fx->s);
	assert_true(other >= 0);
	store_busy(fx, "job-a", T_NOV27, "2026-11-27T12:00:00.000Z", "COMPLETED", 200, 1,
		   gallery_busy_begin(&fx->s));
	assert_false(exists(fx, "gallery/2026-11-27.html"));
	/* The last refresh (the stamp on .lock) was two refresh periods ago. */
	struct timespec ts[2];
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts[0]), 0);
	ts[0].tv_sec -= 2 * 3600;
	ts[1] = ts[0];
	snprintf(path, sizeof path, "%s/gallery/.lock", fx->root);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	store_busy(fx, "job-b", T_NOV27 + 1, "2026-11-27T12:00:01.000Z", "COMPLETED", 200, 1,
		   gallery_busy_begin(&fx->s));
	char *day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(day);
	assert_non_null(strstr(day, "id=\"job-a\""));
	assert_non_null(strstr(day, "id=\"job-b\""));
	free(day);
	/* And stamped: the next one, still not the last, waits again. */
	store_busy(fx, "job-c", T_NOV27 + 2, "2026-11-27T12:00:02.000Z", "COMPLETED", 200, 1,
		   gallery_busy_begin(&fx->s));
	day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(day);
	assert_null(strstr(day, "id=\"job-c\""));
	free(day);
	gallery_delivery_done(&fx->s, NULL, other);
	day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(day);
	assert_non_null(strstr(day, "id=\"job-c\""));
	free(day);
}

static void test_pages_after_stores(void **state)
{
	struct fx *fx = *state;
	store(fx, "job-old", T_NOV27, "2026-11-27T12:00:00.000Z", "COMPLETED", 600, 2);
	store(fx, "job-new", T_NOV27 + 60, "2026-11-27T12:01:00.000Z", "COMPLETED", 200, 1);
	store(fx, "job-failed", T_NOV27 + 30, "2026-11-27T12:00:30.000Z", "FAILED", 0, 0);
	store(fx, "job-next-day", T_NOV28, "2026-11-28T12:00:00.000Z", "COMPLETED", 600, 1);

	char *day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(day);
	/* Newest first, by receive time. */
	char *a = strstr(day, "id=\"job-new\""), *b = strstr(day, "id=\"job-failed\"");
	char *c = strstr(day, "id=\"job-old\"");
	assert_true(a != NULL && b != NULL && c != NULL && a < b && b < c);
	assert_null(strstr(day, "job-next-day"));
	assert_non_null(strstr(day, "3 jobs \xc2\xb7 3 images \xc2\xb7 <span class=\"bad-text\">1 failed"));
	assert_non_null(strstr(day, "<meta name=\"viewport\""));
	assert_non_null(strstr(day, "default-src 'none'"));
	assert_null(strstr(day, "<script"));
	assert_null(strstr(day, "<!--ih"));   /* the cards' sort lines stay in the cards */

	char *index = slurp(fx, "gallery/index.html");
	assert_non_null(index);
	a = strstr(index, "href=\"2026-11-28.html\"");
	b = strstr(index, "href=\"2026-11-27.html\"");
	assert_true(a != NULL && b != NULL && a < b);

	/* Thumbnails for the 600 px images, the originals for the 200 px one. */
	char *th = slurp(fx, "gallery/thumbs/2026-11-27/job-old/1.png");
	assert_non_null(th);
	assert_true(memcmp(th, "\x89PNG", 4) == 0);
	free(th);
	assert_false(exists(fx, "gallery/thumbs/2026-11-27/job-new"));
	assert_non_null(strstr(day, "src=\"../jobs/2026/11/27/job-new/0.png\""));
	assert_non_null(strstr(day, "src=\"thumbs/2026-11-27/job-old/0.png\" width=\"256\" height=\"128\""));
	assert_int_equal(leftovers(fx), 0);
	free(day);
	free(index);
}

static const char *secret_needle;
static int secret_hits;

static int find_secret(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag != FTW_F)
		return 0;
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), IH_OK);
	fclose(f);
	if (b.data != NULL && memmem(b.data, b.len, secret_needle, strlen(secret_needle)) != NULL) {
		print_message("# %s holds %s\n", path, secret_needle);
		secret_hits++;
	}
	buf_free(&b);
	return 0;
}

/* How many files below gallery/ hold needle. */
static int gallery_files_with(const struct fx *fx, const char *needle)
{
	char path[512];
	snprintf(path, sizeof path, "%s/gallery", fx->root);
	secret_needle = needle;
	secret_hits = 0;
	assert_int_equal(nftw(path, find_secret, 16, FTW_PHYS), 0);
	return secret_hits;
}

static void check_link_pages(struct fx *fx)
{
	char *day = slurp(fx, "gallery/2026-11-27.html"), *index = slurp(fx, "gallery/index.html");
	assert_non_null(day);
	assert_non_null(index);
	assert_non_null(strstr(day, "<b>link EXPIRED unfetched:</b> expired 5 s ago (X-Amz-Expires)"));
	assert_non_null(strstr(day, "<b>link refused:</b> fetch refused: port"));
	assert_non_null(strstr(day, "<b>link waiting to be fetched</b>; it expires 2026-11-27 14:00 UTC"));
	assert_non_null(strstr(day, "title=\"fetched from https://s3.example/b/0.png\""));
	assert_non_null(strstr(day, "<b>rejected</b> fetched, but not media"));
	/* Lost links are the day's trouble, in red on the day page and on the index. */
	assert_non_null(strstr(day, "1 job \xc2\xb7 1 image \xc2\xb7 <span class=\"bad-text\">1 rejected"
				    "</span> \xc2\xb7 <span class=\"bad-text\">2 links lost unfetched</span>"));
	assert_non_null(strstr(index, "<span class=\"bad-text\">2 links lost unfetched</span>"));
	static const char *const secrets[] = { "X-Amz-Signature", "X-Amz-Credential", "AKIAEXAMPLE",
					       "sig=1", "user:pw", "secret" };
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		assert_int_equal(gallery_files_with(fx, secrets[i]), 0);
	assert_true(gallery_files_with(fx, "https://s3.example/b/1.png<") > 0);   /* the scan sees */
	free(day);
	free(index);
}

static void test_pages_with_links(void **state)
{
	struct fx *fx = *state;
	struct store_job *job;
	size_t len;
	assert_int_equal(store_job_begin(fx->st, "links-1", NULL, T_NOV27, &job), IH_OK);
	unsigned char *png = make_png(64, 64, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, px_solid, &len);
	assert_int_equal(store_job_write(job, "0.png", png, len), IH_OK);
	free(png);
	assert_int_equal(store_job_write(job, "4.rejected.bin", "<html>", 6), IH_OK);
	assert_int_equal(store_job_write(job, "job.json", links_record, strlen(links_record)), IH_OK);
	assert_int_equal(store_job_write(job, "fetch.json", links_queue, strlen(links_queue)), IH_OK);
	assert_int_equal(store_job_commit(job, "delivery-completed.json", "job.json"), IH_OK);
	gallery_job_stored(&fx->s, store_job_dir(job));
	store_job_end(job);
	check_link_pages(fx);

	/* `imagehook gallery` rebuilds the same from the job folder. */
	FILE *devnull = fopen("/dev/null", "w");
	assert_non_null(devnull);
	char *argv[] = { "gallery", NULL };
	assert_int_equal(gallery_main(&fx->s, 1, argv, devnull, devnull), 0);
	fclose(devnull);
	check_link_pages(fx);
	assert_int_equal(leftovers(fx), 0);
}

static void test_options(void **state)
{
	struct fx *fx = *state;

	/* Thumbnails off: the card shows the original; gallery off: nothing is written. */
	fx->s.thumbnails = 0;
	store(fx, "job-a", T_NOV27, "2026-11-27T12:00:00.000Z", "COMPLETED", 600, 1);
	assert_false(exists(fx, "gallery/thumbs/2026-11-27/job-a/0.png"));
	char *day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(strstr(day, "src=\"../jobs/2026/11/27/job-a/0.png\" width=\"256\" height=\"128\""));
	free(day);
	fx->s.gallery = 0;
	fx->s.thumbnails = 1;
	store(fx, "job-b", T_NOV27, "2026-11-27T12:00:01.000Z", "COMPLETED", 600, 1);
	assert_false(exists(fx, "gallery/cards/2026-11-27/job-b.html"));
}

static void test_rebuild_prunes_and_makes_thumbnails(void **state)
{
	struct fx *fx = *state;
	char path[512];
	fx->s.thumbnails = 0;
	store(fx, "job-1", T_NOV27, "2026-11-27T12:00:00.000Z", "COMPLETED", 600, 1);
	store(fx, "job-2", T_NOV27 + 1, "2026-11-27T12:00:01.000Z", "COMPLETED", 600, 1);
	store(fx, "job-3", T_NOV28, "2026-11-28T12:00:00.000Z", "COMPLETED", 600, 1);
	assert_false(exists(fx, "gallery/thumbs/2026-11-27/job-1/0.png"));

	/* The operator deletes a job and a whole day. */
	snprintf(path, sizeof path, "%s/jobs/2026/11/27/job-2", fx->root);
	rm_rf(path);
	snprintf(path, sizeof path, "%s/jobs/2026/11/28", fx->root);
	rm_rf(path);
	/* What a crash mid-write leaves: swept after an hour, not before. */
	static const char *const tmps[] = { "gallery/.tmp.1.1.index.html",
					    "gallery/cards/2026-11-27/.tmp.1.2.job-1.html",
					    "gallery/.tmp.1.3.fresh.html" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", fx->root, tmps[i]);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fclose(f), 0);
		struct timespec old[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
		if (i < 2)
			assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
	}
	FILE *out = tmpfile(), *err = tmpfile();
	assert_non_null(out);
	assert_non_null(err);
	char *argv[] = { "gallery", NULL };
	assert_int_equal(gallery_main(&fx->s, 1, argv, out, err), 0);
	assert_false(exists(fx, tmps[0]));
	assert_false(exists(fx, tmps[1]));
	assert_true(exists(fx, tmps[2]));
	assert_true(exists(fx, "gallery/thumbs/2026-11-27/job-1/0.png"));
	assert_false(exists(fx, "gallery/cards/2026-11-27/job-2.html"));
	assert_false(exists(fx, "gallery/thumbs/2026-11-27/job-2"));
	assert_false(exists(fx, "gallery/2026-11-28.html"));
	assert_false(exists(fx, "gallery/cards/2026-11-28"));
	char *day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(strstr(day, "job-1"));
	assert_null(strstr(day, "job-2"));
	assert_non_null(strstr(day, "src=\"thumbs/2026-11-27/job-1/0.png\""));
	free(day);
	char *index = slurp(fx, "gallery/index.html");
	assert_null(strstr(index, "2026-11-28"));
	free(index);
	char text[512] = "";
	rewind(out);
	assert_non_null(fgets(text, sizeof text, out));
	assert_non_null(strstr(text, "1 job in 1 day, 1 thumbnail made, 2 cards of deleted jobs removed"));

	char *bad[] = { "gallery", "--days", "0", NULL };
	assert_int_equal(gallery_main(&fx->s, 3, bad, out, err), 2);
	char *bad2[] = { "gallery", "--what", NULL };
	assert_int_equal(gallery_main(&fx->s, 2, bad2, out, err), 2);
	char *days[] = { "gallery", "--days", "1", "--no-thumbnails", NULL };
	assert_int_equal(gallery_main(&fx->s, 4, days, out, err), 0);
	fclose(out);
	fclose(err);
}

/* Processes storing jobs of one day at once: the lock keeps every card on the page. */
static void test_concurrent_stores_keep_every_job(void **state)
{
	struct fx *fx = *state;
	enum { N = 8 };
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char name[32], when[40];
			snprintf(name, sizeof name, "job-%d", i);
			snprintf(when, sizeof when, "2026-11-27T12:00:%02d.000Z", i);
			store(fx, name, T_NOV27, when, "COMPLETED", 300, 1);
			_exit(0);
		}
	}
	for (int i = 0; i < N; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	char *day = slurp(fx, "gallery/2026-11-27.html");
	for (int i = 0; i < N; i++) {
		char id[40];
		snprintf(id, sizeof id, "id=\"job-%d\"", i);
		assert_non_null(strstr(day, id));
	}
	free(day);
}

/* Counts the <article>s of a page. */
static int articles(const char *page)
{
	int n = 0;
	for (const char *p = page; (p = strstr(p, "<article ")) != NULL; p++)
		n++;
	return n;
}

/*
 * A busy day: pages of GALLERY_PAGE_JOBS, the newest on <day>.html, a job keeps its
 * page when it is delivered again, and a delivery touches none of the full pages.
 */
static void test_pages_of_a_busy_day(void **state)
{
	struct fx *fx = *state;
	enum { N = 2 * GALLERY_PAGE_JOBS + 10 };
	fx->s.thumbnails = 0;
	for (int i = 0; i < N; i++) {
		char name[32], when[40];
		snprintf(name, sizeof name, "job-%03d", i);
		snprintf(when, sizeof when, "2026-11-27T12:%02d:%02d.000Z", i / 60, i % 60);
		store(fx, name, T_NOV27, when, "COMPLETED", 0, 0);
	}
	char *day = slurp(fx, "gallery/2026-11-27.html");
	char *p1 = slurp(fx, "gallery/2026-11-27-p1.html");
	char *p2 = slurp(fx, "gallery/2026-11-27-p2.html");
	assert_non_null(day);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_int_equal(articles(day), 10);
	assert_int_equal(articles(p1), GALLERY_PAGE_JOBS);
	assert_int_equal(articles(p2), GALLERY_PAGE_JOBS);
	assert_non_null(strstr(day, "130 jobs"));
	/* Newest first on every page; the oldest job on page 1. */
	assert_true(strstr(day, "id=\"job-129\"") < strstr(day, "id=\"job-120\""));
	assert_non_null(strstr(p1, "id=\"job-000\""));
	assert_non_null(strstr(p2, "id=\"job-060\""));
	assert_non_null(strstr(day, "href=\"2026-11-27-p2.html\""));
	assert_non_null(strstr(p2, "href=\"2026-11-27-p1.html\""));
	assert_non_null(strstr(p2, "href=\"2026-11-27.html\""));
	assert_false(exists(fx, "gallery/2026-11-27-p3.html"));

	/*
	 * The full pages are not read again: with page 1's list gone, a new job still
	 * lands on the newest page and page 1 stays as it was.
	 */
	char path[512];
	snprintf(path, sizeof path, "%s/gallery/cards/2026-11-27/page-1.list", fx->root);
	assert_int_equal(unlink(path), 0);
	store(fx, "job-new", T_NOV27, "2026-11-27T13:00:00.000Z", "COMPLETED", 0, 0);
	char *p1b = slurp(fx, "gallery/2026-11-27-p1.html");
	assert_string_equal(p1, p1b);
	free(day);
	day = slurp(fx, "gallery/2026-11-27.html");
	assert_int_equal(articles(day), 11);
	assert_non_null(strstr(day, "131 jobs"));

	/* Delivered again (another status): same page, counted once, marked. */
	store(fx, "job-005", T_NOV27, "2026-11-27T12:00:05.000Z", "FAILED", 0, 0);
	free(day);
	day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(strstr(day, "131 jobs"));
	assert_non_null(strstr(day, "1 failed"));
	assert_null(strstr(day, "id=\"job-005\""));

	/* `imagehook gallery` rebuilds the same pages from the job folders (page 1's list too). */
	FILE *out = tmpfile(), *err = tmpfile();
	char *argv[] = { "gallery", NULL };
	assert_int_equal(gallery_main(&fx->s, 1, argv, out, err), 0);
	fclose(out);
	fclose(err);
	free(p1);
	p1 = slurp(fx, "gallery/2026-11-27-p1.html");
	assert_int_equal(articles(p1), GALLERY_PAGE_JOBS);
	assert_non_null(strstr(p1, "id=\"job-005\">"));
	assert_non_null(strstr(p1, "FAILED"));
	assert_true(exists(fx, "gallery/cards/2026-11-27/page-1.list"));
	free(day);
	day = slurp(fx, "gallery/2026-11-27.html");
	assert_int_equal(articles(day), 11);
	assert_non_null(strstr(day, "131 jobs"));
	assert_int_equal(leftovers(fx), 0);
	char *queue = slurp(fx, "gallery/.queue");
	assert_true(queue != NULL && queue[0] == '\0');   /* every queued job placed */
	free(queue);
	free(day);
	free(p1);
	free(p1b);
	free(p2);
}

/*
 * Issue 10, item 6: hard links (and symlinks) planted where the gallery changes
 * files in place are never written through; the gallery goes on with files of its own.
 */
static void test_planted_links_are_not_written_through(void **state)
{
	struct fx *fx = *state;
	char outside[512], path[512];
	static const char precious[] = "precious bytes outside the output root\n";
	fx->s.thumbnails = 0;
	store(fx, "job-a", T_NOV27, "2026-11-27T12:00:00.000Z", "COMPLETED", 0, 0);
	snprintf(outside, sizeof outside, "%s/outside", fx->dir);
	FILE *f = fopen(outside, "w");
	assert_non_null(f);
	assert_int_equal(fputs(precious, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	static const char *const planted[] = { "gallery/.queue", "gallery/.lock", "gallery/.days",
					       "gallery/.pending", "gallery/cards/2026-11-27/.summary",
					       "gallery/cards/2026-11-27/page-1.list" };
	for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", fx->root, planted[i]);
		(void)unlink(path);
		assert_int_equal(link(outside, path), 0);
	}
	/* And a symlink where a day's summary goes. */
	snprintf(path, sizeof path, "%s/gallery/cards/2026-11-28", fx->root);
	assert_int_equal(mkdir(path, 0750), 0);
	snprintf(path, sizeof path, "%s/gallery/cards/2026-11-28/.summary", fx->root);
	assert_int_equal(symlink(outside, path), 0);

	store(fx, "job-b", T_NOV27, "2026-11-27T12:00:01.000Z", "COMPLETED", 0, 0);
	store(fx, "job-c", T_NOV28, "2026-11-28T12:00:00.000Z", "COMPLETED", 0, 0);
	char *text = NULL;
	{
		struct buf b = { 0 };
		int fd = open(outside, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(buf_read_fd(&b, fd, 1 << 20), IH_OK);
		close(fd);
		text = b.data;
	}
	assert_string_equal(text, precious);
	free(text);
	struct stat sb;
	assert_int_equal(stat(outside, &sb), 0);
	assert_int_equal(sb.st_nlink, 2);   /* the planted .pending, never opened, is the other */
	char *day = slurp(fx, "gallery/2026-11-27.html");
	assert_non_null(strstr(day, "id=\"job-b\""));
	free(day);
	day = slurp(fx, "gallery/2026-11-28.html");
	assert_non_null(strstr(day, "id=\"job-c\""));
	free(day);
}

/* A symlink planted as gallery/ must not lead the writes elsewhere. */
static void test_symlinked_gallery_is_refused(void **state)
{
	struct fx *fx = *state;
	char target[256], link[256];
	snprintf(target, sizeof target, "%s/elsewhere", fx->dir);
	snprintf(link, sizeof link, "%s/gallery", fx->root);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	store(fx, "job-x", T_NOV27, "2026-11-27T12:00:00.000Z", "COMPLETED", 600, 1);
	assert_int_equal(rmdir(target), 0);   /* still empty */
	/* The job itself is stored all the same. */
	assert_true(exists(fx, "jobs/2026/11/27/job-x/job.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_specials),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_exhaustive),
		cmocka_unit_test(test_card_hostile_text_is_escaped),
		cmocka_unit_test(test_card_marks),
		cmocka_unit_test(test_card_images_and_thumbnails),
		cmocka_unit_test(test_card_videos_and_animations),
		cmocka_unit_test(test_card_links),
		cmocka_unit_test(test_card_refuses_odd_folders),
		cmocka_unit_test(test_card_parse_a1111),
		cmocka_unit_test(test_card_parse_comfy_and_sdxl),
		cmocka_unit_test(test_card_parse_links),
		cmocka_unit_test(test_card_scrubs_any_scheme_and_signed_queries),
		cmocka_unit_test(test_card_parse_limits_and_refusals),
		cmocka_unit_test(test_thumbnail_sizes_and_colours),
		cmocka_unit_test(test_thumbnail_colour_types),
		cmocka_unit_test(test_thumbnail_refusals),
		cmocka_unit_test(test_thumbnail_cost),
		cmocka_unit_test_setup_teardown(test_pages_after_stores, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages_with_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_prunes_and_makes_thumbnails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_stores_keep_every_job, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_symlinked_gallery_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages_of_a_busy_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_left_to_the_delivery_in_flight, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_pages_refreshed_while_others_in_flight,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_places_what_was_left_queued, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_planted_links_are_not_written_through, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
