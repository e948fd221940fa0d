/* test_logline.c - the one JSON log line per request, and the rotatable log file. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "ih_error.h"
#include "logline.h"

/* Every field the log line promises (docs/product.md), by its name in the line. */
static const char *const field_names[] = {
	"time", "id", "status", "outcome", "http", "images_stored", "images_rejected",
	"bytes", "delayTime", "executionTime", "workerId", "dir", "ms", "remote", "error",
	"host",
};
#define N_FIELDS (sizeof field_names / sizeof field_names[0])

static struct logline_fields sample(void)
{
	struct logline_fields f = {
		.when = { 1795780800, 123456789 },
		.id = "sync-102c2af4-8ea7-4abb-a9ec-c2a56cf80a16",
		.status = "COMPLETED",
		.outcome = OUTCOME_STORED,
		.http = 200,
		.images_stored = 2,
		.images_rejected = 1,
		.images_remote = 1,
		.bytes = 5000000000ULL,
		.has_delay = 1,
		.has_exec = 1,
		.delay_ms = 67461,
		.exec_ms = 21171,
		.worker_id = "w-abc",
		.dir = "jobs/2026/11/27/sync-102c2af4",
		.kept = NULL,
		.ms = 42,
		.remote = "203.0.113.9",
		.host = "receiver-2",
		.error = NULL,
	};
	return f;
}

/* Formats f; asserts exactly one line that json-c parses strictly; returns the object. */
static json_object *format_line(const struct logline_fields *f, struct buf *b)
{
	buf_reset(b);
	assert_int_equal(logline_format(f, b), IH_OK);
	assert_true(b->len >= 2);
	assert_int_equal(strlen(b->data), b->len);
	assert_int_equal(b->data[b->len - 1], '\n');
	assert_ptr_equal(strchr(b->data, '\n'), b->data + b->len - 1);
	json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, b->data, (int)b->len - 1);
	if (o == NULL || json_tokener_get_parse_end(tok) != b->len - 1)
		fail_msg("not one JSON value: %s", b->data);
	json_tokener_free(tok);
	assert_true(json_object_is_type(o, json_type_object));
	return o;
}

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("field %s missing", key);
	return v;
}

static void test_line_has_every_field(void **state)
{
	(void)state;
	struct buf b = { 0 };
	struct logline_fields f = sample();
	json_object *o = format_line(&f, &b);
	for (size_t i = 0; i < N_FIELDS; i++)
		field(o, field_names[i]);
	assert_string_equal(json_object_get_string(field(o, "time")), "2026-11-27T12:00:00.123Z");
	assert_string_equal(json_object_get_string(field(o, "id")), f.id);
	assert_string_equal(json_object_get_string(field(o, "status")), "COMPLETED");
	assert_string_equal(json_object_get_string(field(o, "outcome")), "stored");
	assert_int_equal(json_object_get_int(field(o, "http")), 200);
	assert_int_equal(json_object_get_int(field(o, "images_stored")), 2);
	assert_int_equal(json_object_get_int(field(o, "images_rejected")), 1);
	assert_int_equal(json_object_get_int64(field(o, "bytes")), 5000000000LL);
	assert_int_equal(json_object_get_int64(field(o, "delayTime")), 67461);
	assert_int_equal(json_object_get_int64(field(o, "executionTime")), 21171);
	assert_string_equal(json_object_get_string(field(o, "workerId")), "w-abc");
	assert_string_equal(json_object_get_string(field(o, "dir")), f.dir);
	assert_int_equal(json_object_get_int(field(o, "ms")), 42);
	assert_string_equal(json_object_get_string(field(o, "remote")), "203.0.113.9");
	assert_string_equal(json_object_get_string(field(o, "host")), "receiver-2");
	assert_true(json_object_is_type(field(o, "error"), json_type_null));
	json_object_put(o);
	buf_free(&b);
}

static void test_absent_values_are_null(void **state)
{
	(void)state;
	struct buf b = { 0 };
	struct logline_fields f = { .when = { 0, 0 }, .outcome = OUTCOME_UNAUTHORIZED, .http = 401,
				    .error = "token missing or wrong", .kept = "rejected/x.body" };
	json_object *o = format_line(&f, &b);
	for (size_t i = 0; i < N_FIELDS; i++)
		field(o, field_names[i]);
	assert_string_equal(json_object_get_string(field(o, "time")), "1970-01-01T00:00:00.000Z");
	static const char *const nulls[] = { "id", "status", "delayTime", "executionTime",
					     "workerId", "dir", "remote", "host" };
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
		assert_true(json_object_is_type(field(o, nulls[i]), json_type_null));
	assert_string_equal(json_object_get_string(field(o, "error")), "token missing or wrong");
	assert_string_equal(json_object_get_string(field(o, "kept")), "rejected/x.body");
	assert_string_equal(json_object_get_string(field(o, "outcome")), "unauthorized");
	json_object_put(o);

	/* Negative and huge numbers stay numbers. */
	f.has_delay = f.has_exec = 1;
	f.delay_ms = -5;
	f.exec_ms = INT64_MAX;
	o = format_line(&f, &b);
	assert_int_equal(json_object_get_int64(field(o, "delayTime")), -5);
	assert_true(json_object_get_int64(field(o, "executionTime")) == INT64_MAX);
	json_object_put(o);
	buf_free(&b);
}

static void test_hostile_values_escaped(void **state)
{
	(void)state;
	struct buf b = { 0 };
	static const char *const nasty[] = {
		"line\nbreak\r\n", "quote\" and \\ backslash", "ctl \x01\x02\x1b\x7f\t",
		"bad \xff\xfe\xc0\xaf utf8 \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82",
		"\"}\n{\"forged\":true", "caf\xc3\xa9 \xf0\x9f\x98\x80",
	};
	for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
		struct logline_fields f = sample();
		f.id = f.status = f.worker_id = f.remote = f.error = f.dir = nasty[i];
		json_object *o = format_line(&f, &b);
		for (size_t k = 0; k < N_FIELDS; k++)
			field(o, field_names[k]);
		json_object_put(o);
	}
	/* Valid UTF-8 passes unchanged; control bytes round-trip through the escapes. */
	struct logline_fields f = sample();
	f.id = "caf\xc3\xa9 \xf0\x9f\x98\x80";
	f.error = "a\nb\"c\\d\x01";
	json_object *o = format_line(&f, &b);
	assert_string_equal(json_object_get_string(field(o, "id")), f.id);
	assert_string_equal(json_object_get_string(field(o, "error")), f.error);
	json_object_put(o);
	buf_free(&b);
}

static void test_huge_value_capped(void **state)
{
	(void)state;
	struct buf b = { 0 };
	size_t n = 10 * 1024;
	char *big = malloc(n + 1);
	assert_non_null(big);
	/* Multi-byte characters and quotes, so a cut can fall mid-sequence. */
	for (size_t i = 0; i < n; i++)
		big[i] = "\xc3\xa9\"x"[i % 4];
	big[n] = '\0';
	struct logline_fields f = sample();
	f.id = f.error = big;
	json_object *o = format_line(&f, &b);
	size_t idlen = strlen(json_object_get_string(field(o, "id")));
	assert_true(idlen <= LOGLINE_MAX_VALUE + 8);
	assert_true(b.len < 4 * LOGLINE_MAX_VALUE + 1024);
	json_object_put(o);

	/* Every cut position within a multi-byte character still gives valid JSON. */
	for (size_t shift = 0; shift < 4; shift++) {
		f.id = big + shift;
		o = format_line(&f, &b);
		json_object_put(o);
	}
	free(big);
	buf_free(&b);
}

/* A private temp dir with a log file path in it. */
struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/ih-log-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof fx->path, "%s/imagehook.log", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char p[256];
	static const char *const names[] = { "imagehook.log", "imagehook.log.1", "imagehook.log.2" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", fx->dir, names[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *text = calloc(1, 65536);
	assert_non_null(text);
	size_t n = fread(text, 1, 65535, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void test_logfile_appends(void **state)
{
	struct fx *fx = *state;
	struct logfile lf;
	/* Lines already there are kept. */
	FILE *f = fopen(fx->path, "w");
	assert_non_null(f);
	fputs("old\n", f);
	fclose(f);

	assert_int_equal(logfile_open(&lf, fx->path), IH_OK);
	assert_int_equal(logfile_write(&lf, "one\n", 4), IH_OK);
	assert_int_equal(logfile_write(&lf, "two\n", 4), IH_OK);
	logfile_close(&lf);
	logfile_close(&lf);  /* a no-op the second time */

	assert_int_equal(logfile_open(&lf, fx->path), IH_OK);
	assert_int_equal(logfile_write(&lf, "three\n", 6), IH_OK);
	logfile_close(&lf);

	char *text = read_file(fx->path);
	assert_string_equal(text, "old\none\ntwo\nthree\n");
	free(text);

	/* After close, writes are refused rather than going nowhere silently. */
	assert_int_not_equal(logfile_write(&lf, "x\n", 2), IH_OK);
}

static void test_logfile_follows_rotation(void **state)
{
	struct fx *fx = *state;
	struct logfile lf;
	char rotated[256], rotated2[256];
	snprintf(rotated, sizeof rotated, "%s.1", fx->path);
	snprintf(rotated2, sizeof rotated2, "%s.2", fx->path);

	assert_int_equal(logfile_open(&lf, fx->path), IH_OK);
	assert_int_equal(logfile_write(&lf, "before\n", 7), IH_OK);

	/* logrotate renames the file away; the next write creates a new one at the path. */
	assert_int_equal(rename(fx->path, rotated), 0);
	assert_int_equal(logfile_write(&lf, "after\n", 6), IH_OK);
	assert_int_equal(logfile_write(&lf, "after2\n", 7), IH_OK);

	char *old = read_file(rotated);
	assert_string_equal(old, "before\n");
	free(old);
	char *cur = read_file(fx->path);
	assert_string_equal(cur, "after\nafter2\n");
	free(cur);
	/* The new file is created private to the group, like the first. */
	struct stat sb;
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);

	/* Removed outright (logrotate's delaycompress-less cleanup): recreated too. */
	assert_int_equal(rename(fx->path, rotated2), 0);
	assert_int_equal(unlink(rotated2), 0);
	assert_int_equal(logfile_write(&lf, "again\n", 6), IH_OK);
	cur = read_file(fx->path);
	assert_string_equal(cur, "again\n");
	free(cur);
	old = read_file(rotated);
	assert_string_equal(old, "before\n");
	free(old);
	logfile_close(&lf);
}

static void test_logfile_open_fails_cleanly(void **state)
{
	struct fx *fx = *state;
	struct logfile lf;
	char bad[256];
	snprintf(bad, sizeof bad, "%s/no/such/dir/imagehook.log", fx->dir);
	assert_int_not_equal(logfile_open(&lf, bad), IH_OK);
	assert_int_equal(lf.fd, -1);
	assert_int_not_equal(logfile_write(&lf, "x\n", 2), IH_OK);
	logfile_close(&lf);
}

/* A real line goes into the file whole and comes back as the same JSON. */
static void test_formatted_line_to_file(void **state)
{
	struct fx *fx = *state;
	struct logfile lf;
	struct buf b = { 0 };
	struct logline_fields f = sample();
	json_object *o = format_line(&f, &b);
	json_object_put(o);
	assert_int_equal(logfile_open(&lf, fx->path), IH_OK);
	assert_int_equal(logfile_write(&lf, b.data, b.len), IH_OK);
	assert_int_equal(logfile_write(&lf, b.data, b.len), IH_OK);
	logfile_close(&lf);
	char *text = read_file(fx->path);
	assert_int_equal(strlen(text), 2 * b.len);
	assert_memory_equal(text, b.data, b.len);
	assert_memory_equal(text + b.len, b.data, b.len);
	free(text);
	buf_free(&b);
}

int main(void)
{
	/* The file mode check needs a known umask. */
	umask(022);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_has_every_field),
		cmocka_unit_test(test_absent_values_are_null),
		cmocka_unit_test(test_hostile_values_escaped),
		cmocka_unit_test(test_huge_value_capped),
		cmocka_unit_test_setup_teardown(test_logfile_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logfile_follows_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logfile_open_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_formatted_line_to_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
