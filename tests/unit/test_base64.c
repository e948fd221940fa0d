/* test_base64.c - exhaustive and hostile-input tests for the strict base64 codec. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "ih_error.h"

#define MAXRAW 64
#define MAXENC (4 * ((MAXRAW + 2) / 3) + 1)
/* Room for an encoding with a CRLF after every character, plus slack. */
#define MAXTXT (MAXENC * 3 + 16)

/* Deterministic generator so a failing sample can be reproduced (xorshift32). */
static uint32_t rng_state = 0x2545F491u;

static uint32_t rng(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return x;
}

/* Decodes txt and asserts it gives exactly raw[0..n); also checks the bound. */
static void expect_decodes_to(const char *txt, size_t tlen, const unsigned char *raw, size_t n)
{
	unsigned char out[MAXTXT];
	size_t olen = 12345;

	assert_true(b64_decoded_max(tlen) <= sizeof(out));
	assert_int_equal(b64_decode(txt, tlen, out, &olen), IH_OK);
	assert_int_equal(olen, n);
	assert_true(olen <= b64_decoded_max(tlen));
	assert_memory_equal(out, raw, n);
}

static void expect_error(const char *txt, size_t tlen, int want)
{
	unsigned char out[MAXTXT + 8];
	size_t olen = 12345;

	assert_true(b64_decoded_max(tlen) <= sizeof(out));
	assert_int_equal(b64_decode(txt, tlen, out, &olen), want);
	assert_int_equal(olen, 0);
}

static void expect_error_str(const char *txt, int want)
{
	expect_error(txt, strlen(txt), want);
}

/* Runs raw through every transport variant we promise to accept. */
static void round_trip(const unsigned char *raw, size_t n)
{
	char enc[MAXENC], txt[MAXTXT];
	size_t elen, tlen, i, j, unpadded;

	elen = b64_encode(raw, n, enc);
	assert_int_equal(elen, 4 * ((n + 2) / 3));
	assert_int_equal(enc[elen], '\0');
	assert_true(b64_decoded_max(elen) >= n);

	/* padded */
	expect_decodes_to(enc, elen, raw, n);

	/* unpadded */
	unpadded = elen;
	while (unpadded > 0 && enc[unpadded - 1] == '=')
		unpadded--;
	expect_decodes_to(enc, unpadded, raw, n);

	/* MIME-style CRLF every 4 characters, padding kept */
	for (i = 0, tlen = 0; i < elen; i++) {
		txt[tlen++] = enc[i];
		if (i % 4 == 3) {
			txt[tlen++] = '\r';
			txt[tlen++] = '\n';
		}
	}
	expect_decodes_to(txt, tlen, raw, n);

	/* a whitespace character before every character, breaking every fast-path group */
	for (i = 0, tlen = 0; i < unpadded; i++) {
		txt[tlen++] = " \t\r\n"[i % 4];
		txt[tlen++] = enc[i];
	}
	txt[tlen++] = '\n';
	expect_decodes_to(txt, tlen, raw, n);

	/* a line break at a random place, padding kept */
	j = rng() % (elen + 1);
	memcpy(txt, enc, j);
	txt[j] = '\n';
	memcpy(txt + j + 1, enc + j, elen - j);
	expect_decodes_to(txt, elen + 1, raw, n);
}

static void test_roundtrip_all_1_byte(void **state)
{
	unsigned char raw[1];
	unsigned v;

	(void)state;
	for (v = 0; v < 256; v++) {
		raw[0] = (unsigned char)v;
		round_trip(raw, 1);
	}
}

static void test_roundtrip_all_2_bytes(void **state)
{
	unsigned char raw[2];
	unsigned v;

	(void)state;
	for (v = 0; v < 65536; v++) {
		raw[0] = (unsigned char)(v >> 8);
		raw[1] = (unsigned char)v;
		round_trip(raw, 2);
	}
}

static void test_roundtrip_random_3_to_64(void **state)
{
	unsigned char raw[MAXRAW];
	size_t n, k;
	int rep;

	(void)state;
	rng_state = 0x2545F491u;
	for (n = 3; n <= MAXRAW; n++) {
		for (rep = 0; rep < 200; rep++) {
			for (k = 0; k < n; k++)
				raw[k] = (unsigned char)rng();
			round_trip(raw, n);
		}
	}
}

static void test_known_vectors(void **state)
{
	/* RFC 4648 section 10 */
	static const char *const plain[] = { "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char enc[16];
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		assert_int_equal(b64_encode((const unsigned char *)plain[i], strlen(plain[i]), enc),
				 strlen(coded[i]));
		assert_string_equal(enc, coded[i]);
		expect_decodes_to(coded[i], strlen(coded[i]),
				  (const unsigned char *)plain[i], strlen(plain[i]));
	}
	assert_int_equal(b64_encode((const unsigned char *)"", 0, enc), 0);
	assert_string_equal(enc, "");
	expect_decodes_to("+/+/", 4, (const unsigned char *)"\xfb\xff\xbf", 3);
}

static void test_decoded_max(void **state)
{
	(void)state;
	assert_int_equal(b64_decoded_max(0), 0);
	assert_int_equal(b64_decoded_max(1), 0);
	assert_int_equal(b64_decoded_max(2), 1);
	assert_int_equal(b64_decoded_max(3), 2);
	assert_int_equal(b64_decoded_max(4), 3);
	assert_int_equal(b64_decoded_max(8), 6);
	/* must not overflow for absurd lengths */
	assert_true(b64_decoded_max(SIZE_MAX) < SIZE_MAX);
	assert_true(b64_decoded_max(SIZE_MAX) >= SIZE_MAX / 4 * 3);
}

/* Every byte outside the alphabet, '=' and the four skipped whitespace bytes is rejected, wherever it sits. */
static void test_every_invalid_char(void **state)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char txt[9];
	unsigned v;
	size_t pos;
	int nbad = 0;

	(void)state;
	for (v = 0; v < 256; v++) {
		if ((v != 0 && strchr(alpha, (int)v)) || v == '=' ||
		    v == '\r' || v == '\n' || v == ' ' || v == '\t')
			continue;
		nbad++;
		for (pos = 0; pos < 8; pos++) {
			memcpy(txt, "QUJDREVG", 8); /* "ABCDEF" */
			txt[pos] = (char)v;
			expect_error(txt, 8, IH_ERR_BASE64);
		}
		/* alone, and after a complete group (slow path and fast path) */
		txt[0] = (char)v;
		expect_error(txt, 1, IH_ERR_BASE64);
	}
	assert_int_equal(nbad, 256 - 64 - 1 - 4);
	/* NUL inside the buffer is a bad character, not a terminator */
	expect_error("QUJD\0QUJD", 9, IH_ERR_BASE64);
}

static void test_whitespace_anywhere(void **state)
{
	(void)state;
	expect_decodes_to(" \tQ\r\nU J\tD \r\n", 13, (const unsigned char *)"ABC", 3);
	expect_decodes_to("QQ = =", 6, (const unsigned char *)"A", 1);
	expect_decodes_to("QQ==\r\n", 6, (const unsigned char *)"A", 1);
	expect_decodes_to("\n\n\nQUJD", 7, (const unsigned char *)"ABC", 3);
	/* vertical tab and form feed are not in the skip set */
	expect_error_str("QUJD\v", IH_ERR_BASE64);
	expect_error_str("QUJD\f", IH_ERR_BASE64);
}

static void test_empty(void **state)
{
	(void)state;
	expect_error("", 0, IH_ERR_EMPTY);
	expect_error_str(" ", IH_ERR_EMPTY);
	expect_error_str("\r\n", IH_ERR_EMPTY);
	expect_error_str(" \t\r\n \t\r\n \t\r\n", IH_ERR_EMPTY);
	/* NULL input is fine when there is nothing to read */
	{
		unsigned char out[1];
		size_t olen = 7;

		assert_int_equal(b64_decode(NULL, 0, out, &olen), IH_ERR_EMPTY);
		assert_int_equal(olen, 0);
	}
	/* padding without data is not "empty": it is malformed */
	expect_error_str("=", IH_ERR_BASE64);
	expect_error_str("==", IH_ERR_BASE64);
	expect_error_str("====", IH_ERR_BASE64);
	expect_error_str(" = ", IH_ERR_BASE64);
}

static void test_padding_misplaced(void **state)
{
	(void)state;
	/* padding in the middle */
	expect_error_str("QQ==QUJD", IH_ERR_BASE64);
	expect_error_str("QUI=QUJD", IH_ERR_BASE64);
	expect_error_str("QUJD=QUJD", IH_ERR_BASE64);
	expect_error_str("QU=JD", IH_ERR_BASE64);
	expect_error_str("Q=UJD", IH_ERR_BASE64);
	expect_error_str("=QUJD", IH_ERR_BASE64);
	/* padding after a complete group */
	expect_error_str("QUJD=", IH_ERR_BASE64);
	expect_error_str("QUJD==", IH_ERR_BASE64);
	/* wrong amount of padding */
	expect_error_str("QQ=", IH_ERR_BASE64);
	expect_error_str("QQ===", IH_ERR_BASE64);
	expect_error_str("QUI==", IH_ERR_BASE64);
	expect_error_str("Q===", IH_ERR_BASE64);
	expect_error_str("Q=", IH_ERR_BASE64);
	/* data after padding, even across whitespace */
	expect_error_str("QQ==\nQ", IH_ERR_BASE64);
	expect_error_str("QQ== x", IH_ERR_BASE64);
}

static void test_trailing_bits(void **state)
{
	unsigned v;
	char txt[5];

	(void)state;
	expect_error_str("QR==", IH_ERR_BASE64);
	expect_error_str("QR", IH_ERR_BASE64);
	expect_error_str("QUJ=", IH_ERR_BASE64);
	expect_error_str("QUJ", IH_ERR_BASE64);
	expect_error_str("QUJDQR", IH_ERR_BASE64);
	/* exactly the canonical last characters pass: 4 of 64 for 2 chars, 16 of 64 for 3 */
	for (v = 0; v < 64; v++) {
		static const char alpha[] =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		unsigned char out[4];
		size_t olen;

		memcpy(txt, "QA==", 5);
		txt[1] = alpha[v];
		assert_int_equal(b64_decode(txt, 4, out, &olen),
				 (v & 0x0F) ? IH_ERR_BASE64 : IH_OK);
		memcpy(txt, "QUA=", 5);
		txt[2] = alpha[v];
		assert_int_equal(b64_decode(txt, 4, out, &olen),
				 (v & 0x03) ? IH_ERR_BASE64 : IH_OK);
	}
}

static void test_impossible_length(void **state)
{
	(void)state;
	expect_error_str("Q", IH_ERR_BASE64);
	expect_error_str("QUJDQ", IH_ERR_BASE64);
	expect_error_str("QUJDQUJDQ", IH_ERR_BASE64);
	expect_error_str("Q\n", IH_ERR_BASE64);
	expect_error_str("QUJD\r\nQ\r\n", IH_ERR_BASE64);
}

static void test_in_place(void **state)
{
	unsigned char raw[3000];
	char *enc, *spaced;
	size_t i, n, elen, olen, slen;

	(void)state;
	rng_state = 12345u;
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)rng();
	enc = malloc(4 * ((sizeof(raw) + 2) / 3) + 1);
	spaced = malloc(2 * (4 * ((sizeof(raw) + 2) / 3) + 1));
	assert_non_null(enc);
	assert_non_null(spaced);
	for (n = 0; n <= sizeof(raw); n += (n < 70 ? 1 : 997)) {
		elen = b64_encode(raw, n, enc);
		if (n == 0) {
			assert_int_equal(b64_decode(enc, elen, (unsigned char *)enc, &olen), IH_ERR_EMPTY);
			continue;
		}
		/* plain, in place */
		assert_int_equal(b64_decode(enc, elen, (unsigned char *)enc, &olen), IH_OK);
		assert_int_equal(olen, n);
		assert_memory_equal(enc, raw, n);

		/* with a line break every 76 characters plus scattered spaces, in place */
		elen = b64_encode(raw, n, enc);
		for (i = 0, slen = 0; i < elen; i++) {
			spaced[slen++] = enc[i];
			if (i % 76 == 75)
				spaced[slen++] = '\n';
			else if (i % 13 == 5)
				spaced[slen++] = ' ';
		}
		assert_int_equal(b64_decode(spaced, slen, (unsigned char *)spaced, &olen), IH_OK);
		assert_int_equal(olen, n);
		assert_memory_equal(spaced, raw, n);
	}
	free(enc);
	free(spaced);
}

static void test_encode_not_overrunning(void **state)
{
	unsigned char raw[5] = { 1, 2, 3, 4, 5 };
	char out[4 * ((5 + 2) / 3) + 1 + 4];
	size_t n;

	(void)state;
	for (n = 0; n <= 5; n++) {
		memset(out, 0x7E, sizeof(out));
		assert_int_equal(b64_encode(raw, n, out), 4 * ((n + 2) / 3));
		/* exactly the documented size is written, nothing past it */
		assert_int_equal(out[4 * ((n + 2) / 3)], '\0');
		assert_int_equal(out[4 * ((n + 2) / 3) + 1], 0x7E);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_decoded_max),
		cmocka_unit_test(test_roundtrip_all_1_byte),
		cmocka_unit_test(test_roundtrip_all_2_bytes),
		cmocka_unit_test(test_roundtrip_random_3_to_64),
		cmocka_unit_test(test_every_invalid_char),
		cmocka_unit_test(test_whitespace_anywhere),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_padding_misplaced),
		cmocka_unit_test(test_trailing_bits),
		cmocka_unit_test(test_impossible_length),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_encode_not_overrunning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
