/* test_bigstr.c - lifting long base64 image strings out of JSON text. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bigstr.h"
#include "ih_error.h"

/* "iVBORw0KGgo" followed by filler to n characters. */
static char *png_b64(size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memcpy(s, "iVBORw0KGgo", 11);
	for (size_t i = 11; i < n; i++)
		s[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
	s[n] = '\0';
	return s;
}

/* Concatenates up to five pieces (NULL ends the list early). */
static char *cat(const char *p1, const char *p2, const char *p3, const char *p4, const char *p5)
{
	const char *parts[] = { p1, p2, p3, p4, p5 };
	size_t n = 1;
	for (size_t i = 0; i < 5 && parts[i]; i++)
		n += strlen(parts[i]);
	char *s = malloc(n);
	assert_non_null(s);
	s[0] = '\0';
	for (size_t i = 0; i < 5 && parts[i]; i++)
		strcat(s, parts[i]);
	return s;
}

static void test_lifts_values_not_keys(void **state)
{
	(void)state;
	char *img = png_b64(5000);
	char *body = cat("{\"id\":\"x\",\"", img, "\":1,\"output\":{\"images\":[\"", img, "\"]}}");
	struct bigstr b;
	assert_int_equal(bigstr_extract(body, strlen(body), 4096, &b), IH_OK);
	assert_int_equal(b.n, 1);
	/* The key stays; the value became a marker. */
	assert_non_null(strstr(b.compact, img));
	char marker[40];
	snprintf(marker, sizeof marker, "\"%s:0\"", b.nonce);
	assert_non_null(strstr(b.compact, marker));
	assert_true(b.compact_len < strlen(body) - 4000);
	assert_int_equal(bigstr_marker(&b, marker + 1, strlen(marker) - 2), 0);
	const char *t;
	size_t tl;
	assert_int_equal(bigstr_get(&b, body, 0, &t, &tl), IH_OK);
	assert_int_equal(tl, 5000);
	assert_memory_equal(t, img, 5000);
	/* Without escapes the text is the body's own bytes, and the body is unchanged. */
	assert_true(t > body && t < body + strlen(body));
	assert_non_null(strstr(body, img));
	bigstr_free(&b);
	free(body);
	free(img);
}

/* The new formats' base64 starts are lifted; generic starts are not. */
static void test_media_prefixes(void **state)
{
	(void)state;
	static const struct {
		const char *head;
		int lifted;
	} cases[] = {
		{ "R0lGODlh", 1 },                 /* GIF89a */
		{ "GkXfo59ChoEBQveBAULygQRC84EIQoKEd2VibQ", 1 }, /* EBML (WebM) */
		{ "AAAAIGZ0eXBpc29t", 1 },         /* ISO BMFF: size 0x20, ftyp isom */
		{ "AAAAHGZ0eXBhdmlm", 1 },         /* AVIF */
		{ "data:video/mp4;base64,AAAA", 1 },
		{ "data:application/octet-stream;base64,R0lG", 1 },
		{ "AAAAAAAAAAAAAAAA", 0 },         /* zeros: no ftyp */
		{ "AAAAIGZ1eXBpc29t", 0 },
		{ "data:text/plain,hello", 0 },
		{ "GkX", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *fill = png_b64(5000);
		size_t h = strlen(cases[i].head);
		memcpy(fill, cases[i].head, h);
		char *body = cat("{\"v\":\"", fill, "\"}", NULL, NULL);
		struct bigstr b;
		assert_int_equal(bigstr_extract(body, strlen(body), 4096, &b), IH_OK);
		if ((int)b.n != cases[i].lifted)
			fail_msg("%s: lifted %lu", cases[i].head, (unsigned long)b.n);
		bigstr_free(&b);
		free(body);
		free(fill);
	}
}

static void test_short_and_non_image_strings_stay(void **state)
{
	(void)state;
	char *img = png_b64(100);
	char *prompt = png_b64(6000);
	prompt[0] = 'X'; /* long, but not image-like */
	char *body = cat("{\"a\":\"", img, "\",\"b\":\"", prompt, "\"}");
	struct bigstr b;
	assert_int_equal(bigstr_extract(body, strlen(body), 4096, &b), IH_OK);
	assert_int_equal(b.n, 0);
	assert_string_equal(b.compact, body);
	bigstr_free(&b);
	free(body);
	free(img);
	free(prompt);
}

static void test_simple_escapes_unescaped(void **state)
{
	(void)state;
	/* PHP and json-c escape '/' as \/; base64 with line breaks carries \n. */
	char *img = png_b64(4200);
	char *esc = malloc(strlen(img) * 2 + 8);
	assert_non_null(esc);
	size_t o = 0;
	for (size_t i = 0; img[i]; i++) {
		if (img[i] == '/')
			esc[o++] = '\\';
		esc[o++] = img[i];
		if (i % 76 == 75) {
			esc[o++] = '\\';
			esc[o++] = 'n';
		}
	}
	esc[o] = '\0';
	char *body = cat("{\"images\":[\"", esc, "\"]}", NULL, NULL);
	struct bigstr b;
	assert_int_equal(bigstr_extract(body, strlen(body), 4096, &b), IH_OK);
	assert_int_equal(b.n, 1);
	const char *t;
	size_t tl;
	char *before = strdup(body);
	assert_non_null(before);
	assert_int_equal(bigstr_get(&b, body, 0, &t, &tl), IH_OK);
	assert_string_equal(body, before);
	free(before);
	const char *t2;
	size_t tl2;
	assert_int_equal(bigstr_get(&b, body, 0, &t2, &tl2), IH_OK);
	assert_ptr_equal(t, t2);
	size_t want = strlen(img) + (strlen(img) / 76);
	assert_int_equal(tl, want);
	size_t k = 0;
	for (size_t i = 0; i < tl; i++)
		if (t[i] != '\n')
			assert_int_equal(t[i], img[k++]);
	assert_int_equal(k, strlen(img));
	bigstr_free(&b);
	free(body);
	free(esc);
	free(img);
}

static void test_other_escapes_and_bytes_not_lifted(void **state)
{
	(void)state;
	const char *bad[] = { "\\u0041", "\\\"", "\\\\", "\xc3\xa9", "\x01" };
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		char *img = png_b64(5000);
		char *body = cat("[\"", img, bad[k], "\"]", NULL);
		struct bigstr b;
		assert_int_equal(bigstr_extract(body, strlen(body), 4096, &b), IH_OK);
		assert_int_equal(b.n, 0);
		assert_string_equal(b.compact, body);
		bigstr_free(&b);
		free(body);
		free(img);
	}
}

/*
 * Every byte outside 0x20..0x7e, at every offset of an 8-byte word (the scan reads
 * eight at a time) and in the tail, keeps the string in place; the edges 0x20 and
 * 0x7e do not.
 */
static void test_each_byte_at_each_offset(void **state)
{
	(void)state;
	for (size_t pos = 4990; pos < 5005; pos++) {
		for (int c = 1; c < 256; c++) {
			if (c == '"' || c == '\\')
				continue;
			char *img = png_b64(5005);
			img[pos] = (char)c;
			char *body = cat("[\"", img, "\"]", NULL, NULL);
			struct bigstr b;
			assert_int_equal(bigstr_extract(body, strlen(body), 4096, &b), IH_OK);
			int printable = c >= 0x20 && c <= 0x7e;
			if ((size_t)b.n != (printable ? 1u : 0u))
				fail_msg("byte 0x%02x at %zu: %zu strings lifted", c, pos, (size_t)b.n);
			bigstr_free(&b);
			free(body);
			free(img);
		}
	}
}

static void test_not_json_copied_as_is(void **state)
{
	(void)state;
	char *img = png_b64(5000);
	/* Unterminated string: nothing lifted, text unchanged for json-c to reject. */
	char *body = cat("{\"images\":[\"", img, NULL, NULL, NULL);
	struct bigstr b;
	assert_int_equal(bigstr_extract(body, strlen(body), 4096, &b), IH_OK);
	assert_int_equal(b.n, 0);
	assert_string_equal(b.compact, body);
	bigstr_free(&b);
	assert_int_equal(bigstr_extract("", 0, 4096, &b), IH_OK);
	assert_int_equal(b.compact_len, 0);
	bigstr_free(&b);
	free(body);
	free(img);
}

static void test_forged_markers_refused(void **state)
{
	(void)state;
	char *img = png_b64(5000);
	char *body = cat("[\"", img, "\",\"", img, "\"]");
	struct bigstr b;
	assert_int_equal(bigstr_extract(body, strlen(body), 4096, &b), IH_OK);
	assert_int_equal(b.n, 2);
	char s[64];
	snprintf(s, sizeof s, "%s:1", b.nonce);
	assert_int_equal(bigstr_marker(&b, s, strlen(s)), 1);
	snprintf(s, sizeof s, "%s:2", b.nonce);
	assert_int_equal(bigstr_marker(&b, s, strlen(s)), -1);
	snprintf(s, sizeof s, "%s:1x", b.nonce);
	assert_int_equal(bigstr_marker(&b, s, strlen(s)), -1);
	snprintf(s, sizeof s, "0000000000000000:1");
	if (strncmp(b.nonce, s, 16) != 0)
		assert_int_equal(bigstr_marker(&b, s, strlen(s)), -1);
	assert_int_equal(bigstr_marker(NULL, s, strlen(s)), -1);
	struct bigstr b2;
	assert_int_equal(bigstr_extract(body, strlen(body), 4096, &b2), IH_OK);
	assert_string_not_equal(b.nonce, b2.nonce);
	bigstr_free(&b2);
	bigstr_free(&b);
	free(body);
	free(img);
}

/* Many escapes in one string: the scan stays linear (it once re-searched for the quote after each). */
static void test_many_escapes_linear(void **state)
{
	(void)state;
	size_t reps = 400000;
	char *body = malloc(reps * 6 + 8);
	assert_non_null(body);
	size_t o = 0;
	body[o++] = '[';
	body[o++] = '"';
	for (size_t i = 0; i < reps; i++) {
		memcpy(body + o, "\\u0007", 6);
		o += 6;
	}
	body[o++] = '"';
	body[o++] = ']';
	body[o] = '\0';
	/* Quadratic, this takes minutes: the alarm turns a hang into a failure. */
	alarm(20);
	struct bigstr b;
	assert_int_equal(bigstr_extract(body, o, 4096, &b), IH_OK);
	alarm(0);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.compact_len, o);
	bigstr_free(&b);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifts_values_not_keys),
		cmocka_unit_test(test_media_prefixes),
		cmocka_unit_test(test_short_and_non_image_strings_stay),
		cmocka_unit_test(test_simple_escapes_unescaped),
		cmocka_unit_test(test_other_escapes_and_bytes_not_lifted),
		cmocka_unit_test(test_each_byte_at_each_offset),
		cmocka_unit_test(test_not_json_copied_as_is),
		cmocka_unit_test(test_forged_markers_refused),
		cmocka_unit_test(test_many_escapes_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
