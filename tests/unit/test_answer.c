/* test_answer.c - every outcome's HTTP status and a JSON answer body for each. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "answer.h"
#include "buf.h"
#include "ih_error.h"

/* The table in docs/product.md, plus the two outcomes it implies. */
static const struct {
	enum outcome o;
	const char *name;
	int status;
} table[] = {
	{ OUTCOME_STORED, "stored", 200 },
	{ OUTCOME_PARTIAL, "stored_partial", 200 },
	{ OUTCOME_ALL_REJECTED, "images_rejected", 200 },
	{ OUTCOME_RECORDED, "recorded", 200 },
	{ OUTCOME_FAILED, "failed", 200 },
	{ OUTCOME_CANCELLED, "cancelled", 200 },
	{ OUTCOME_TIMED_OUT, "timed_out", 200 },
	{ OUTCOME_UNKNOWN_STATUS, "unknown_status", 200 },
	{ OUTCOME_LOST_UPSTREAM, "lost_upstream", 200 },
	{ OUTCOME_WORKER_ERROR, "worker_error", 200 },
	{ OUTCOME_DUPLICATE, "duplicate", 200 },
	{ OUTCOME_BAD_REQUEST, "bad_request", 400 },
	{ OUTCOME_UNAUTHORIZED, "unauthorized", 401 },
	{ OUTCOME_METHOD, "method_not_allowed", 405 },
	{ OUTCOME_TOO_LARGE, "too_large", 413 },
	/* Nobody is left to read it; a 4xx keeps the log honest. */
	{ OUTCOME_CLIENT_GONE, "client_gone", 400 },
	{ OUTCOME_STORAGE_ERROR, "storage_error", 503 },
	/* The operator's to fix: 503 makes the platform retry meanwhile. */
	{ OUTCOME_MISCONFIGURED, "misconfigured", 503 },
};
#define N_TABLE (sizeof table / sizeof table[0])

static void test_every_outcome_has_its_status(void **state)
{
	(void)state;
	assert_int_equal(N_TABLE, OUTCOME__COUNT);
	for (size_t i = 0; i < N_TABLE; i++) {
		assert_int_equal(answer_status(table[i].o), table[i].status);
		assert_string_equal(answer_outcome_name(table[i].o), table[i].name);
		const char *reason = answer_reason(table[i].status);
		assert_non_null(reason);
		assert_string_not_equal(reason, "Internal Server Error");
	}
	/* Names are unique: logs and answers can be grepped by them. */
	for (size_t i = 0; i < N_TABLE; i++)
		for (size_t j = i + 1; j < N_TABLE; j++)
			assert_string_not_equal(table[i].name, table[j].name);
	/* Out of range is never a 200. */
	assert_int_equal(answer_status(OUTCOME__COUNT), 500);
	assert_int_equal(answer_status((enum outcome)-1), 500);
	assert_string_equal(answer_outcome_name(OUTCOME__COUNT), "unknown");
}

static void test_reasons(void **state)
{
	(void)state;
	assert_string_equal(answer_reason(200), "OK");
	assert_string_equal(answer_reason(400), "Bad Request");
	assert_string_equal(answer_reason(401), "Unauthorized");
	assert_string_equal(answer_reason(405), "Method Not Allowed");
	assert_string_equal(answer_reason(413), "Payload Too Large");
	assert_string_equal(answer_reason(503), "Service Unavailable");
	assert_string_equal(answer_reason(500), "Internal Server Error");
	assert_true(ANSWER_RETRY_AFTER > 0 && ANSWER_RETRY_AFTER <= 120);
}

/* Renders info, checks it is one JSON object ending in "\n", and returns it parsed. */
static json_object *render(const struct answer_info *info)
{
	struct buf b = { 0 };
	assert_int_equal(answer_body(info, &b), IH_OK);
	assert_non_null(b.data);
	assert_true(b.len >= 2);
	assert_int_equal(b.data[b.len - 1], '\n');
	assert_int_equal(strlen(b.data), b.len);
	json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, b.data, (int)b.len - 1);
	if (o == NULL || json_tokener_get_parse_end(tok) != b.len - 1)
		fail_msg("not one JSON value: %s", b.data);
	json_tokener_free(tok);
	assert_true(json_object_is_type(o, json_type_object));
	buf_free(&b);
	return o;
}

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void test_every_body_is_json(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TABLE; i++) {
		struct answer_info info = {
			.outcome = table[i].o,
			.id = "sync-102c2af4-8ea7-4abb-a9ec-c2a56cf80a16",
			.dir = "jobs/2026/11/27/sync-102c2af4-8ea7-4abb-a9ec-c2a56cf80a16",
			.images_stored = 3,
			.images_rejected = 1,
			.rejected = "2: PNG chunk CRC mismatch",
			.error = "something",
		};
		json_object *o = render(&info);
		int ok = table[i].status == 200;
		json_object *v = field(o, "ok");
		assert_non_null(v);
		assert_true(json_object_is_type(v, json_type_boolean));
		assert_int_equal(json_object_get_boolean(v), ok);
		assert_string_equal(json_object_get_string(field(o, "outcome")), table[i].name);
		assert_string_equal(json_object_get_string(field(o, "id")), info.id);
		v = field(o, "duplicate");
		if (ok) {
			assert_non_null(v);
			assert_int_equal(json_object_get_boolean(v), table[i].o == OUTCOME_DUPLICATE);
			assert_int_equal(json_object_get_int(field(o, "images_stored")), 3);
			assert_int_equal(json_object_get_int(field(o, "images_rejected")), 1);
		} else {
			/* A failed delivery never claims to have stored anything. */
			assert_true(v == NULL || !json_object_get_boolean(v));
			assert_true(field(o, "images_stored") == NULL ||
				    json_object_get_int(field(o, "images_stored")) == 0);
		}
		json_object_put(o);
	}
}

static void test_body_without_optional_fields(void **state)
{
	(void)state;
	struct answer_info info = { .outcome = OUTCOME_UNAUTHORIZED };
	json_object *o = render(&info);
	assert_false(json_object_get_boolean(field(o, "ok")));
	assert_string_equal(json_object_get_string(field(o, "outcome")), "unauthorized");
	assert_null(field(o, "id"));
	json_object_put(o);

	struct answer_info dup = { .outcome = OUTCOME_DUPLICATE, .id = "x", .images_stored = 2 };
	o = render(&dup);
	assert_true(json_object_get_boolean(field(o, "ok")));
	assert_true(json_object_get_boolean(field(o, "duplicate")));
	assert_int_equal(json_object_get_int(field(o, "images_stored")), 2);
	json_object_put(o);
}

/* Ids and errors are untrusted: quotes, control bytes, bad UTF-8 and size stay contained. */
static void test_hostile_strings_stay_json(void **state)
{
	(void)state;
	static const char *const ids[] = {
		"\"}, \"ok\": true, \"x\": \"", "back\\slash", "ctl\x01\x1f\x7f\n\t\r",
		"bad\xff\xfe utf8 \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80", "caf\xc3\xa9 \xe2\x82\xac",
		"",
	};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		struct answer_info info = { .outcome = OUTCOME_BAD_REQUEST, .id = ids[i],
					    .error = ids[i], .rejected = ids[i] };
		json_object *o = render(&info);
		assert_false(json_object_get_boolean(field(o, "ok")));
		assert_string_equal(json_object_get_string(field(o, "outcome")), "bad_request");
		json_object_put(o);
	}
	/* Valid UTF-8 comes back unchanged. */
	struct answer_info u = { .outcome = OUTCOME_STORED, .id = "caf\xc3\xa9" };
	json_object *o = render(&u);
	assert_string_equal(json_object_get_string(field(o, "id")), "caf\xc3\xa9");
	json_object_put(o);

	/* A huge id is capped, and the body stays small. */
	size_t n = 100000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'A', n);
	big[n] = '\0';
	struct answer_info info = { .outcome = OUTCOME_STORED, .id = big, .error = big };
	struct buf b = { 0 };
	assert_int_equal(answer_body(&info, &b), IH_OK);
	assert_true(b.len < 8192);
	buf_free(&b);
	o = render(&info);
	assert_true(strlen(json_object_get_string(field(o, "id"))) < 2048);
	json_object_put(o);
	free(big);
}

static void test_body_appends(void **state)
{
	(void)state;
	struct buf b = { 0 };
	assert_int_equal(buf_puts(&b, "prefix:"), IH_OK);
	struct answer_info info = { .outcome = OUTCOME_TOO_LARGE };
	assert_int_equal(answer_body(&info, &b), IH_OK);
	assert_true(strncmp(b.data, "prefix:{", 8) == 0);
	buf_free(&b);
}

/* Each status and each shape of result gets its own outcome. */
static void test_job_outcome(void **state)
{
	(void)state;
	/* status, output missing, generation request, error, stored, rejected, remote, inputs rejected */
#define F(st, m, g, e, s, r, u, ir) { .status = st, .output_missing = m, .generation_request = g, \
				       .output_error = e, .stored = s, .rejected = r, .remote = u, \
				       .inputs_rejected = ir }
	static const struct {
		struct job_facts f;
		enum outcome want;
		int warning;
	} cases[] = {
		{ F("COMPLETED", 0, 1, 0, 3, 0, 0, 0), OUTCOME_STORED, 0 },
		{ F("COMPLETED", 0, 1, 0, 0, 0, 0, 0), OUTCOME_RECORDED, 0 },
		{ F("COMPLETED", 0, 0, 0, 2, 1, 0, 0), OUTCOME_PARTIAL, 0 },
		{ F("COMPLETED", 0, 0, 0, 0, 2, 0, 0), OUTCOME_ALL_REJECTED, 0 },
		/* Only a generation request without output is a lost result. */
		{ F("COMPLETED", 1, 1, 0, 0, 0, 0, 0), OUTCOME_LOST_UPSTREAM, 0 },
		/* A helper call (set-model, refresh) completes without output: recorded. */
		{ F("COMPLETED", 1, 0, 0, 0, 0, 0, 0), OUTCOME_RECORDED, 0 },
		/* Errors beside output media are warnings: stored. */
		{ F("COMPLETED", 0, 1, 1, 2, 0, 0, 0), OUTCOME_STORED, 1 },
		{ F("COMPLETED", 0, 1, 1, 2, 1, 0, 0), OUTCOME_PARTIAL, 1 },
		/* An error and no media (FastAPI's detail too): worker_error. */
		{ F("COMPLETED", 0, 1, 1, 0, 0, 0, 0), OUTCOME_WORKER_ERROR, 0 },
		{ F("COMPLETED", 1, 1, 1, 0, 0, 0, 0), OUTCOME_WORKER_ERROR, 0 },
		/* URLs only: recorded, an error beside them a warning. */
		{ F("COMPLETED", 0, 1, 0, 0, 0, 2, 0), OUTCOME_RECORDED, 0 },
		{ F("COMPLETED", 0, 1, 1, 0, 0, 2, 0), OUTCOME_RECORDED, 1 },
		/* Input media rejected beside stored output: partial; without output: recorded. */
		{ F("COMPLETED", 0, 1, 0, 1, 0, 0, 1), OUTCOME_PARTIAL, 0 },
		{ F("COMPLETED", 0, 0, 0, 0, 0, 0, 1), OUTCOME_RECORDED, 0 },
		{ F("FAILED", 0, 0, 0, 0, 0, 0, 0), OUTCOME_FAILED, 0 },
		{ F("FAILED", 0, 0, 1, 1, 0, 0, 0), OUTCOME_FAILED, 0 },
		{ F("CANCELLED", 0, 0, 0, 0, 0, 0, 0), OUTCOME_CANCELLED, 0 },
		{ F("TIMED_OUT", 0, 0, 0, 0, 0, 0, 0), OUTCOME_TIMED_OUT, 0 },
		{ F("IN_PROGRESS", 0, 0, 0, 0, 0, 0, 0), OUTCOME_UNKNOWN_STATUS, 0 },
		{ F("completed", 0, 0, 0, 1, 0, 0, 0), OUTCOME_UNKNOWN_STATUS, 0 },
		{ F(NULL, 0, 0, 0, 0, 0, 0, 0), OUTCOME_UNKNOWN_STATUS, 0 },
	};
#undef F
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum outcome got = answer_job_outcome(&cases[i].f);
		if (got != cases[i].want)
			fail_msg("case %lu: got %s, want %s", (unsigned long)i, answer_outcome_name(got),
				 answer_outcome_name(cases[i].want));
		assert_int_equal(answer_status(got), 200);
		if (answer_error_is_warning(got, &cases[i].f) != cases[i].warning)
			fail_msg("case %lu: warning should be %d", (unsigned long)i, cases[i].warning);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_outcome_has_its_status),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_every_body_is_json),
		cmocka_unit_test(test_body_without_optional_fields),
		cmocka_unit_test(test_hostile_strings_stay_json),
		cmocka_unit_test(test_body_appends),
		cmocka_unit_test(test_job_outcome),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
