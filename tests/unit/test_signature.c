/* test_signature.c - Standard Webhooks verification, HMAC-SHA256 vectors, signing-secret settings. */
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

#include "auth.h"
#include "digest.h"
#include "ih_error.h"
#include "settings.h"
#include "signature.h"

/*
 * Vectors computed with Python's hmac module (see the comments); the first is
 * the example of the Standard Webhooks / Svix documentation.
 */
static char doc_secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char doc_id[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
static const char doc_ts[] = "1614265330";
static const char doc_body[] = "{\"test\": 2432232314}";
static const char doc_sig[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

/* key = bytes(range(32)); id msg_imagehook_1, timestamp 1767225600. */
static char our_secret[] = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/* key = b"imagehook-rotated-secret-0123456789", same message. */
static char rot_secret[] = "whsec_aW1hZ2Vob29rLXJvdGF0ZWQtc2VjcmV0LTAxMjM0NTY3ODk=";
static const char our_id[] = "msg_imagehook_1";
static const char our_ts[] = "1767225600";
static const char our_body[] = "{\"id\": \"sync-1\", \"status\": \"COMPLETED\"}";
static const char our_sig[] = "v1,ycLpLy7w4SjA2kHpzPnPuGWJN0KvsDDtnhxIP0SXQwU=";
static const char rot_sig[] = "v1,PjjCRK8C4vE4iVhSLyxC6kX+Rj49UlTpb0KsL0OCrdw=";
#define OUR_NOW ((time_t)1767225600)

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static int verify(char **secrets, int n, const char *id, const char *ts, const char *sig,
		  const char *body, time_t now, const char **why)
{
	struct signature_headers h = { id, ts, sig, 0 };
	*why = NULL;
	return signature_verify(secrets, n, &h, body, strlen(body), now, why);
}

static void test_hmac_rfc4231(void **state)
{
	(void)state;
	unsigned char mac[DIGEST_LEN], key[131];
	char text[2 * DIGEST_LEN + 1];
	/* RFC 4231 test case 1. */
	memset(key, 0x0b, 20);
	struct digest_part p1 = { "Hi There", 8 };
	assert_int_equal(digest_hmac_sha256(key, 20, &p1, 1, mac), IH_OK);
	hex(mac, sizeof mac, text);
	assert_string_equal(text, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* Test case 2, the message in three parts. */
	struct digest_part p2[] = { { "what do ya", 10 }, { "", 0 }, { " want for nothing?", 18 } };
	assert_int_equal(digest_hmac_sha256("Jefe", 4, p2, 3, mac), IH_OK);
	hex(mac, sizeof mac, text);
	assert_string_equal(text, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Test case 6: a key longer than the block is hashed first. */
	memset(key, 0xaa, sizeof key);
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	struct digest_part p6 = { m6, strlen(m6) };
	assert_int_equal(digest_hmac_sha256(key, sizeof key, &p6, 1, mac), IH_OK);
	hex(mac, sizeof mac, text);
	assert_string_equal(text, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_documented_vector(void **state)
{
	(void)state;
	char *secrets[] = { doc_secret };
	const char *why;
	assert_int_equal(verify(secrets, 1, doc_id, doc_ts, doc_sig, doc_body, 1614265330, &why),
			 IH_OK);
	char out[SIGNATURE_TEXT_LEN];
	assert_int_equal(signature_sign(doc_secret, doc_id, doc_ts, doc_body, strlen(doc_body), out),
			 IH_OK);
	assert_string_equal(out, doc_sig);
	/* The prefix is optional. */
	char *bare[] = { doc_secret + 6 };
	assert_int_equal(verify(bare, 1, doc_id, doc_ts, doc_sig, doc_body, 1614265330, &why), IH_OK);
}

static void test_our_vectors(void **state)
{
	(void)state;
	char *secrets[] = { our_secret };
	const char *why;
	char out[SIGNATURE_TEXT_LEN];
	assert_int_equal(verify(secrets, 1, our_id, our_ts, our_sig, our_body, OUR_NOW, &why), IH_OK);
	assert_int_equal(signature_sign(rot_secret, our_id, our_ts, our_body, strlen(our_body), out),
			 IH_OK);
	assert_string_equal(out, rot_sig);
}

static void test_tolerance(void **state)
{
	(void)state;
	char *secrets[] = { our_secret };
	const char *why;
	/* Five minutes either way, inclusive. */
	assert_int_equal(verify(secrets, 1, our_id, our_ts, our_sig, our_body, OUR_NOW + 300, &why),
			 IH_OK);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, our_sig, our_body, OUR_NOW - 300, &why),
			 IH_OK);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, our_sig, our_body, OUR_NOW + 301, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_non_null(strstr(why, "IMAGEHOOK_SIGNATURE_TOLERANCE"));
	assert_int_equal(verify(secrets, 1, our_id, our_ts, our_sig, our_body, OUR_NOW - 301, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_non_null(strstr(why, "IMAGEHOOK_SIGNATURE_TOLERANCE"));
	/* IMAGEHOOK_SIGNATURE_TOLERANCE widens (or narrows) the window. */
	struct signature_headers h = { our_id, our_ts, our_sig, 600 };
	assert_int_equal(signature_verify(secrets, 1, &h, our_body, strlen(our_body), OUR_NOW + 301,
					  &why), IH_OK);
	assert_int_equal(signature_verify(secrets, 1, &h, our_body, strlen(our_body), OUR_NOW - 600,
					  &why), IH_OK);
	assert_int_equal(signature_verify(secrets, 1, &h, our_body, strlen(our_body), OUR_NOW + 601,
					  &why), IH_ERR_UNAUTHORIZED);
	h.tolerance = 10;
	assert_int_equal(signature_verify(secrets, 1, &h, our_body, strlen(our_body), OUR_NOW + 11,
					  &why), IH_ERR_UNAUTHORIZED);
	/* Far past and far future, without overflow. */
	assert_int_equal(verify(secrets, 1, our_id, "0", our_sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_int_equal(verify(secrets, 1, our_id, "9223372036854775807", our_sig, our_body,
				OUR_NOW, &why), IH_ERR_UNAUTHORIZED);
}

static void test_timestamp_syntax(void **state)
{
	(void)state;
	char *secrets[] = { our_secret };
	const char *why;
	const char *bad[] = { "", "-1767225600", "+1767225600", " 1767225600", "1767225600 ",
			      "1767225600.0", "0x69", "17672256001767225600", "99999999999999999999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(verify(secrets, 1, our_id, bad[i], our_sig, our_body, OUR_NOW, &why),
				 IH_ERR_UNAUTHORIZED);
		assert_non_null(why);
	}
}

static void test_several_signatures(void **state)
{
	(void)state;
	char *secrets[] = { our_secret };
	const char *why;
	char header[512];
	/* The valid one may come anywhere among others, separated by one or more spaces. */
	snprintf(header, sizeof header, "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= %s", our_sig);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, header, our_body, OUR_NOW, &why), IH_OK);
	snprintf(header, sizeof header, "  v1a,c29tZXRoaW5n   %s  v2,xyz ", our_sig);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, header, our_body, OUR_NOW, &why), IH_OK);
	/* Only v1 counts: the same bytes under another version are ignored. */
	snprintf(header, sizeof header, "v1a,%s", our_sig + 3);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, header, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_non_null(strstr(why, "no v1"));
	/* Commas are not separators. */
	snprintf(header, sizeof header, "v1,xyz,%s", our_sig);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, header, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
}

static void test_rotation(void **state)
{
	(void)state;
	char *both[] = { rot_secret, our_secret };
	char *rot_only[] = { rot_secret };
	const char *why;
	assert_int_equal(verify(both, 2, our_id, our_ts, our_sig, our_body, OUR_NOW, &why), IH_OK);
	assert_int_equal(verify(both, 2, our_id, our_ts, rot_sig, our_body, OUR_NOW, &why), IH_OK);
	assert_int_equal(verify(rot_only, 1, our_id, our_ts, our_sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_non_null(strstr(why, "matches no"));
	assert_int_equal(verify(both, 0, our_id, our_ts, our_sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
}

static void test_tampering(void **state)
{
	(void)state;
	char *secrets[] = { our_secret };
	const char *why;
	char sig[64];
	/* Body, id and timestamp are all covered. */
	assert_int_equal(verify(secrets, 1, our_id, our_ts, our_sig,
				"{\"id\": \"sync-2\", \"status\": \"COMPLETED\"}", OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_int_equal(verify(secrets, 1, "msg_imagehook_2", our_ts, our_sig, our_body, OUR_NOW,
				&why), IH_ERR_UNAUTHORIZED);
	assert_int_equal(verify(secrets, 1, our_id, "1767225601", our_sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	/* One bit flipped in the signature; the signature cut short; not base64; too long. */
	snprintf(sig, sizeof sig, "%s", our_sig);
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(secrets, 1, our_id, our_ts, sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	snprintf(sig, sizeof sig, "%.*s", (int)strlen(our_sig) - 4, our_sig);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, "v1,!!!!", our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	snprintf(sig, sizeof sig, "%sAAAA", our_sig);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	/* The hex digest or the raw secret is not a signature. */
	assert_int_equal(verify(secrets, 1, our_id, our_ts, "v1,", our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, our_secret, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
}

static void test_missing_and_huge_headers(void **state)
{
	(void)state;
	char *secrets[] = { our_secret };
	const char *why;
	assert_int_equal(verify(secrets, 1, NULL, our_ts, our_sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_non_null(strstr(why, "missing"));
	assert_int_equal(verify(secrets, 1, "", our_ts, our_sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_int_equal(verify(secrets, 1, our_id, NULL, our_sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, NULL, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	/* A header of 100 000 entries is refused before any work. */
	size_t big = 100000 * 4;
	char *header = malloc(big + strlen(our_sig) + 2);
	assert_non_null(header);
	for (size_t i = 0; i < big; i += 4)
		memcpy(header + i, "v1, ", 4);
	strcpy(header + big, our_sig);
	assert_int_equal(verify(secrets, 1, our_id, our_ts, header, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
	assert_non_null(strstr(why, "too long"));
	free(header);
	char id[400];
	memset(id, 'i', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	assert_int_equal(verify(secrets, 1, id, our_ts, our_sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
}

static void test_key_decode(void **state)
{
	(void)state;
	unsigned char key[SIGNATURE_MAX_KEY];
	size_t n;
	const char *why = NULL;
	assert_int_equal(signature_key_decode(our_secret, key, sizeof key, &n, &why), IH_OK);
	assert_int_equal(n, 32);
	assert_int_equal(key[31], 31);
	assert_int_equal(signature_key_decode("whsec_", key, sizeof key, &n, &why), IH_ERR_CONFIG);
	assert_non_null(strstr(why, "empty"));
	assert_int_equal(signature_key_decode("whsec_not base64!", key, sizeof key, &n, &why),
			 IH_ERR_CONFIG);
	assert_non_null(strstr(why, "base64"));
	assert_int_equal(signature_key_decode("whsec_c2hvcnQ=", key, sizeof key, &n, &why),
			 IH_ERR_CONFIG);
	assert_non_null(strstr(why, "shorter"));
	char huge[600];
	memset(huge, 'A', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	assert_int_equal(signature_key_decode(huge, key, sizeof key, &n, &why), IH_ERR_CONFIG);
	assert_non_null(strstr(why, "too long"));
	/* A secret that does not decode matches nothing (it was reported at start-up). */
	char *broken[] = { "whsec_***" };
	assert_int_equal(verify(broken, 1, our_id, our_ts, our_sig, our_body, OUR_NOW, &why),
			 IH_ERR_UNAUTHORIZED);
}

/* Runs settings_load with exactly these IMAGEHOOK_* variables set. */
static void load_with(struct settings *s, const char *token, const char *signing,
		      const char *signing_file)
{
	unsetenv("IMAGEHOOK_CONFIG");
	unsetenv("IMAGEHOOK_TOKEN_FILE");
	unsetenv("IMAGEHOOK_ALLOW_OPEN");
	if (token != NULL)
		setenv("IMAGEHOOK_TOKEN", token, 1);
	else
		unsetenv("IMAGEHOOK_TOKEN");
	if (signing != NULL)
		setenv("IMAGEHOOK_SIGNING_SECRET", signing, 1);
	else
		unsetenv("IMAGEHOOK_SIGNING_SECRET");
	if (signing_file != NULL)
		setenv("IMAGEHOOK_SIGNING_SECRET_FILE", signing_file, 1);
	else
		unsetenv("IMAGEHOOK_SIGNING_SECRET_FILE");
	assert_int_equal(settings_load(s), IH_OK);
}

static void test_settings(void **state)
{
	(void)state;
	struct settings s;
	/* A signing secret alone is enough configuration: auth then needs the signature. */
	load_with(&s, NULL, our_secret, NULL);
	assert_null(s.problems);
	assert_int_equal(s.n_signing, 1);
	assert_int_equal(auth_check(&s, NULL, NULL), AUTH_OPEN);
	settings_free(&s);
	/* Several, separated by commas or spaces; plus a file with one per line. */
	char path[] = "/tmp/ih-test-signing-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "%s\r\n\n%s\n", doc_secret, our_secret);
	assert_int_equal(fclose(f), 0);
	char list[256];
	snprintf(list, sizeof list, "%s, %s", our_secret, rot_secret);
	load_with(&s, "a-token-of-twenty-chars", list, path);
	assert_null(s.problems);
	assert_int_equal(s.n_signing, 4);
	/* The token is still required when both are configured. */
	assert_int_equal(auth_check(&s, NULL, NULL), AUTH_DENIED);
	assert_int_equal(auth_check(&s, "token=a-token-of-twenty-chars", NULL), AUTH_OK);
	/* --check-config masks the secret. */
	char *printed = NULL;
	size_t plen = 0;
	FILE *mem = open_memstream(&printed, &plen);
	assert_non_null(mem);
	settings_print(&s, mem);
	assert_int_equal(fclose(mem), 0);
	assert_null(strstr(printed, "AAECAwQF"));
	assert_non_null(strstr(printed, "signing secret 4: ********"));
	free(printed);
	settings_free(&s);
	unlink(path);
	/* A bad secret is a problem that never quotes it, and is not kept. */
	load_with(&s, NULL, "whsec_c2hvcnQtc2VjcmV0", NULL);
	assert_non_null(s.problems);
	assert_non_null(strstr(s.problems, "IMAGEHOOK_SIGNING_SECRET"));
	assert_null(strstr(s.problems, "c2hvcnQt"));
	assert_int_equal(s.n_signing, 0);
	settings_free(&s);
	load_with(&s, NULL, NULL, "/nonexistent/signing");
	assert_non_null(strstr(s.problems, "IMAGEHOOK_SIGNING_SECRET_FILE"));
	settings_free(&s);
	unsetenv("IMAGEHOOK_SIGNING_SECRET");
	unsetenv("IMAGEHOOK_SIGNING_SECRET_FILE");
	unsetenv("IMAGEHOOK_TOKEN");
}

static void test_redaction(void **state)
{
	(void)state;
	struct settings s;
	memset(&s, 0, sizeof s);
	s.signing[s.n_signing++] = our_secret;
	s.signing[s.n_signing++] = rot_secret + 6;  /* configured without the prefix */
	const char *text = "a whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= b "
			   "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= c "
			   "whsec_aW1hZ2Vob29rLXJvdGF0ZWQtc2VjcmV0LTAxMjM0NTY3ODk= d";
	size_t n;
	char *red = auth_redact(&s, text, strlen(text), &n);
	assert_non_null(red);
	assert_string_equal(red, "a whsec_REDACTED b REDACTED c whsec_REDACTED d");
	free(red);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_documented_vector),
		cmocka_unit_test(test_our_vectors),
		cmocka_unit_test(test_tolerance),
		cmocka_unit_test(test_timestamp_syntax),
		cmocka_unit_test(test_several_signatures),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_missing_and_huge_headers),
		cmocka_unit_test(test_key_decode),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_redaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
