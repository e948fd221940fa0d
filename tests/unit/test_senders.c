/* test_senders.c - Replicate and fal.ai bodies, fetch.json and job.json updates, fal signatures. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "ih_error.h"
#include "payload.h"
#include "payload_fetch.h"
#include "signature_fal.h"

static const struct payload_limits lim = { 64, 256, 0, 0 };

static struct payload *parse_ok(const char *body)
{
	struct payload *p = NULL;
	const char *why;
	assert_int_equal(payload_parse(body, strlen(body), &lim, &p, &why), IH_OK);
	return p;
}

static void test_replicate(void **state)
{
	(void)state;
	struct payload *p = parse_ok(
		"{\"id\":\"ufawqhfynnddngldkgtslldrkq\",\"version\":\"5c7d5dc6\","
		"\"status\":\"succeeded\",\"input\":{\"prompt\":\"a cat\"},"
		"\"output\":[\"https://replicate.delivery/pbxt/a/out-0.png\","
		"\"https://replicate.delivery/pbxt/a/out-1.png\"],\"error\":null,"
		"\"urls\":{\"get\":\"https://api.replicate.com/v1/predictions/u\"}}");
	assert_string_equal(payload_id(p), "ufawqhfynnddngldkgtslldrkq");
	assert_string_equal(payload_status(p), "COMPLETED");
	assert_string_equal(payload_sender(p), "replicate");
	assert_int_equal(payload_image_count(p), 2);
	assert_int_equal(payload_image(p, 0)->kind, PAYLOAD_URL);
	assert_string_equal(payload_image(p, 1)->where, "output[1]");
	assert_false(payload_output_missing(p));
	payload_free(p);

	/* One URL, not a list; a failure; a cancel; an abort; progress without links. */
	p = parse_ok("{\"id\":\"r1\",\"model\":\"black-forest-labs/flux-schnell\",\"status\":\"succeeded\","
		     "\"output\":\"https://replicate.delivery/x/out.webp\"}");
	assert_int_equal(payload_image_count(p), 1);
	assert_string_equal(payload_image(p, 0)->where, "output");
	payload_free(p);
	p = parse_ok("{\"id\":\"r2\",\"version\":\"v\",\"status\":\"failed\",\"output\":null,"
		     "\"error\":\"CUDA out of memory\"}");
	assert_string_equal(payload_status(p), "FAILED");
	assert_string_equal(payload_error_text(p), "CUDA out of memory");
	payload_free(p);
	p = parse_ok("{\"id\":\"r3\",\"version\":\"v\",\"status\":\"canceled\",\"output\":null}");
	assert_string_equal(payload_status(p), "CANCELLED");
	payload_free(p);
	p = parse_ok("{\"id\":\"r4\",\"version\":\"v\",\"status\":\"aborted\",\"output\":null}");
	assert_string_equal(payload_status(p), "CANCELLED");
	assert_non_null(strstr(payload_error_text(p), "aborted"));
	payload_free(p);
	p = parse_ok("{\"id\":\"r5\",\"version\":\"v\",\"status\":\"processing\","
		     "\"output\":[\"https://replicate.delivery/x/partial.png\"],\"logs\":\"step 3\"}");
	assert_string_equal(payload_status(p), "PROCESSING");
	assert_int_equal(payload_image_count(p), 0);
	struct job_facts f = { .status = payload_status(p) };
	assert_int_equal(answer_job_outcome(&f), OUTCOME_RECORDED);
	payload_free(p);
	/* RunPod's shape is untouched: upper-case statuses, no version/model/urls. */
	p = parse_ok("{\"id\":\"sync-1\",\"status\":\"COMPLETED\",\"output\":{\"images\":"
		     "[{\"type\":\"s3_url\",\"data\":\"https://b.s3.amazonaws.com/k.png\"}]}}");
	assert_string_equal(payload_sender(p), "runpod");
	assert_int_equal(payload_image_count(p), 1);
	payload_free(p);
}

static void test_fal(void **state)
{
	(void)state;
	struct payload *p = parse_ok(
		"{\"request_id\":\"123e4567-e89b-12d3-a456-426614174000\","
		"\"gateway_request_id\":\"123e4567-e89b-12d3-a456-426614174000\",\"status\":\"OK\","
		"\"payload\":{\"images\":[{\"url\":\"https://v3.fal.media/files/rabbit/a.png\","
		"\"content_type\":\"image/png\",\"width\":1024,\"height\":1024},"
		"{\"url\":\"https://v3.fal.media/files/rabbit/b.png\"}],"
		"\"video\":{\"url\":\"https://v3.fal.media/files/v.mp4\",\"content_type\":\"video/mp4\"},"
		"\"seed\":196619188014358660}}");
	assert_string_equal(payload_id(p), "123e4567-e89b-12d3-a456-426614174000");
	assert_string_equal(payload_status(p), "COMPLETED");
	assert_string_equal(payload_sender(p), "fal");
	assert_int_equal(payload_image_count(p), 3);
	assert_string_equal(payload_image(p, 0)->where, "payload.images[0].url");
	payload_free(p);
	p = parse_ok("{\"request_id\":\"e1\",\"status\":\"ERROR\",\"error\":\"Invalid status code: 422\","
		     "\"payload\":{\"detail\":[{\"msg\":\"field required\"}]}}");
	assert_string_equal(payload_status(p), "FAILED");
	assert_string_equal(payload_error_text(p), "Invalid status code: 422");
	payload_free(p);
	p = parse_ok("{\"request_id\":\"e2\",\"status\":\"OK\",\"payload\":null,"
		     "\"payload_error\":\"Object of type bytes is not JSON serializable\"}");
	assert_true(payload_output_missing(p));
	assert_non_null(strstr(payload_error_text(p), "serializable"));
	payload_free(p);
	/* Without a request_id a fal-like body is what it always was: no id. */
	struct payload *q = NULL;
	const char *why;
	const char *bad = "{\"status\":\"OK\",\"payload\":{}}";
	assert_int_equal(payload_parse(bad, strlen(bad), &lim, &q, &why), IH_ERR_NO_ID);
}

static void test_fetch_json(void **state)
{
	(void)state;
	struct payload_fetch_link l[2];
	memset(l, 0, sizeof l);
	snprintf(l[0].url, sizeof l[0].url, "https://replicate.delivery/a/out-0.png");
	snprintf(l[0].where, sizeof l[0].where, "output[0]");
	snprintf(l[0].sender, sizeof l[0].sender, "replicate");
	snprintf(l[0].state, sizeof l[0].state, "fetched");
	snprintf(l[0].file, sizeof l[0].file, "0.png");
	snprintf(l[0].format, sizeof l[0].format, "png");
	l[0].bytes = 1234;
	l[0].width = l[0].height = 64;
	l[0].expires = 1800000000;
	l[1] = l[0];
	snprintf(l[1].url, sizeof l[1].url, "https://replicate.delivery/a/out-1.png");
	snprintf(l[1].where, sizeof l[1].where, "output[1]");
	snprintf(l[1].state, sizeof l[1].state, "expired");
	snprintf(l[1].error, sizeof l[1].error, "expired 10 s ago");
	l[1].file[0] = '\0';
	l[1].attempts = 3;
	struct buf b = { 0 };
	assert_int_equal(payload_fetch_render(l, 2, &b), IH_OK);
	struct payload_fetch_link *back;
	size_t n;
	assert_int_equal(payload_fetch_parse(b.data, b.len, 100, &back, &n), IH_OK);
	assert_int_equal(n, 2);
	assert_string_equal(back[0].file, "0.png");
	assert_int_equal(back[0].bytes, 1234);
	assert_int_equal(back[0].expires, 1800000000);
	assert_string_equal(back[1].state, "expired");
	assert_int_equal(back[1].attempts, 3);
	assert_true(payload_fetch_final(&back[1]));
	free(back);
	assert_int_equal(payload_fetch_parse("[]", 2, 100, &back, &n), IH_ERR_NOT_JSON);

	const char *job = "{\"id\":\"r\",\"status\":\"succeeded\",\"imagehook\":{\"images\":["
			  "{\"where\":\"output[0]\",\"url\":\"https://replicate.delivery/a/out-0.png\"},"
			  "{\"where\":\"output[1]\",\"url\":\"https://replicate.delivery/a/out-1.png\"}]}}";
	struct buf j = { 0 };
	assert_int_equal(payload_record_fetched(job, strlen(job), l, 2, &j), IH_OK);
	assert_non_null(strstr(j.data, "\"file\": \"0.png\""));
	assert_non_null(strstr(j.data, "\"links_expired\": 1"));
	assert_non_null(strstr(j.data, "LINK EXPIRED"));
	/*
	 * The gallery reads it: the fetched file is a stored image, the expired one a
	 * lost link (not a rejected image) with the fetcher's reason.
	 */
	struct payload_card *c = malloc(sizeof *c);
	assert_non_null(c);
	assert_int_equal(payload_card_parse(j.data, j.len, c), IH_OK);
	assert_int_equal(c->n_images, 2);
	assert_string_equal(c->images[0].file, "0.png");
	assert_int_equal(c->images[0].link, PAYLOAD_LINK_FETCHED);
	assert_int_equal(c->images[1].link, PAYLOAD_LINK_EXPIRED);
	assert_string_equal(c->images[1].link_error, "expired 10 s ago");
	assert_string_equal(c->images[1].rejected, "");
	free(c);
	buf_free(&j);
	buf_free(&b);
}

static void test_fal_signature(void **state)
{
	(void)state;
	unsigned char priv[32], pub[32], other[32], keys[2][32];
	for (int i = 0; i < 32; i++) {
		priv[i] = (unsigned char)i;
		other[i] = (unsigned char)(255 - i);
	}
	assert_int_equal(signature_fal_public(priv, pub), IH_OK);
	assert_int_equal(signature_fal_public(other, keys[0]), IH_OK);
	memcpy(keys[1], pub, 32);
	const char *body = "{\"request_id\":\"r\",\"status\":\"OK\",\"payload\":{}}";
	char sig[SIGNATURE_FAL_HEX_LEN];
	assert_int_equal(signature_fal_sign(priv, "r", "u1", "1767225600", body, strlen(body), sig), IH_OK);
	struct signature_fal_headers h = { "r", "u1", "1767225600", sig, 0 };
	const char *why = NULL;
	assert_int_equal(signature_fal_verify((const unsigned char (*)[32])keys, 2, &h, body,
					      strlen(body), 1767225600 + 299, &why), IH_OK);
	/* Wrong key only, stale, tampered body, tampered user id, mangled hex, missing header. */
	assert_int_equal(signature_fal_verify((const unsigned char (*)[32])keys, 1, &h, body,
					      strlen(body), 1767225600, &why), IH_ERR_UNAUTHORIZED);
	assert_int_equal(signature_fal_verify((const unsigned char (*)[32])keys, 2, &h, body,
					      strlen(body), 1767225600 + 301, &why), IH_ERR_UNAUTHORIZED);
	h.tolerance = 600;
	assert_int_equal(signature_fal_verify((const unsigned char (*)[32])keys, 2, &h, body,
					      strlen(body), 1767225600 + 301, &why), IH_OK);
	assert_int_equal(signature_fal_verify((const unsigned char (*)[32])keys, 2, &h, body,
					      strlen(body) - 1, 1767225600, &why), IH_ERR_UNAUTHORIZED);
	h.user_id = "u2";
	assert_int_equal(signature_fal_verify((const unsigned char (*)[32])keys, 2, &h, body,
					      strlen(body), 1767225600, &why), IH_ERR_UNAUTHORIZED);
	h.user_id = "u1";
	sig[5] = 'z';
	assert_int_equal(signature_fal_verify((const unsigned char (*)[32])keys, 2, &h, body,
					      strlen(body), 1767225600, &why), IH_ERR_UNAUTHORIZED);
	h.signature = NULL;
	assert_int_equal(signature_fal_verify((const unsigned char (*)[32])keys, 2, &h, body,
					      strlen(body), 1767225600, &why), IH_ERR_UNAUTHORIZED);
	/* fal's JWKS: OKP/Ed25519 keys with x in base64url; others are skipped. */
	const char *jwks = "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"abc\",\"e\":\"AQAB\"},"
			   "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"k1\","
			   "\"x\":\"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg\"}]}";
	unsigned char got[4][32];
	int n;
	assert_int_equal(payload_jwks_ed25519(jwks, strlen(jwks), got, 4, &n), IH_OK);
	assert_int_equal(n, 1);
	assert_memory_equal(got[0], pub, 32);
	assert_int_equal(payload_jwks_ed25519("{\"keys\":[]}", 11, got, 4, &n), IH_ERR_NOT_JSON);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replicate),
		cmocka_unit_test(test_fal),
		cmocka_unit_test(test_fetch_json),
		cmocka_unit_test(test_fal_signature),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
