/* test_stats.c - the log summary: periods, counts, percentiles, text and JSON, the command. */
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

#include <json-c/json.h>

#include "buf.h"
#include "ih_error.h"
#include "payload.h"
#include "settings.h"
#include "stats.h"

/* 2026-11-27T00:00:00Z in ms. */
#define NOV27 1795737600000LL

static void test_parse_time(void **state)
{
	(void)state;
	int64_t ms;
	int date_only;
	assert_int_equal(stats_parse_time("1970-01-01T00:00:00Z", &ms, &date_only), IH_OK);
	assert_true(ms == 0 && !date_only);
	assert_int_equal(stats_parse_time("2026-11-27", &ms, &date_only), IH_OK);
	assert_true(ms == NOV27 && date_only);
	assert_int_equal(stats_parse_time("2026-11-27T14:52:03.123Z", &ms, &date_only), IH_OK);
	assert_true(ms == NOV27 + ((14 * 60 + 52) * 60 + 3) * 1000LL + 123);
	assert_int_equal(stats_parse_time("2026-11-27 14:52", &ms, &date_only), IH_OK);
	assert_true(ms == NOV27 + (14 * 60 + 52) * 60 * 1000LL);
	assert_int_equal(stats_parse_time("2026-11-27T14:52:03.5", &ms, &date_only), IH_OK);
	assert_true(ms % 1000 == 500);
	assert_int_equal(stats_parse_time("2024-02-29", &ms, &date_only), IH_OK);
	assert_int_equal(stats_parse_time("2000-03-01", &ms, &date_only), IH_OK);
	assert_true(ms == 951868800000LL);
	static const char *const bad[] = { "", "2026", "2026-11-27T", "2026-13-01", "2026-02-29",
					   "2026-11-31", "2026-11-27T24:00", "2026-11-27T10:60",
					   "2026-11-27T10:00:00.", "2026-11-27Z1", "27/11/2026",
					   "2026-11-27T10:00+02:00" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (stats_parse_time(bad[i], &ms, &date_only) != IH_ERR_LIMIT)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_parse_duration(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(stats_parse_duration("90s", &ms), IH_OK);
	assert_true(ms == 90000);
	assert_int_equal(stats_parse_duration("30m", &ms), IH_OK);
	assert_true(ms == 1800000);
	assert_int_equal(stats_parse_duration("24h", &ms), IH_OK);
	assert_true(ms == 86400000);
	assert_int_equal(stats_parse_duration("7d", &ms), IH_OK);
	assert_true(ms == 7 * 86400000LL);
	assert_int_equal(stats_parse_duration("2w", &ms), IH_OK);
	assert_true(ms == 14 * 86400000LL);
	static const char *const bad[] = { "", "h", "0h", "-1h", "1", "1x", "1hh", "1.5h",
					   "99999999999999999999d", "999999999w" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (stats_parse_duration(bad[i], &ms) != IH_ERR_LIMIT)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_log_line_parse(void **state)
{
	(void)state;
	struct payload_log_entry e;
	const char line[] = "{\"time\":\"2026-11-27T14:52:03.123Z\",\"id\":\"x\",\"status\":\"COMPLETED\","
			    "\"outcome\":\"stored\",\"http\":200,\"images_stored\":3,\"images_rejected\":1,"
			    "\"images_remote\":2,\"bytes\":10014408,\"ms\":226,\"error\":null}\n";
	assert_int_equal(payload_log_line_parse(line, strlen(line), &e), IH_OK);
	assert_string_equal(e.time, "2026-11-27T14:52:03.123Z");
	assert_string_equal(e.outcome, "stored");
	assert_string_equal(e.status, "COMPLETED");
	assert_int_equal(e.http, 200);
	assert_int_equal(e.images_stored, 3);
	assert_int_equal(e.images_rejected, 1);
	assert_int_equal(e.images_remote, 2);
	assert_true(e.bytes == 10014408 && e.has_ms && e.ms == 226);
	static const char *const bad[] = { "", "not json", "[1]", "{\"time\":5}", "{}",
					   "{\"time\":\"x\"} trailing" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(payload_log_line_parse(bad[i], strlen(bad[i]), &e), IH_ERR_NOT_JSON);
	/* Wrong types count as absent, never as garbage numbers. */
	const char odd[] = "{\"time\":\"t\",\"http\":\"200\",\"bytes\":-5,\"ms\":1.5,\"status\":7}";
	assert_int_equal(payload_log_line_parse(odd, strlen(odd), &e), IH_OK);
	assert_true(e.http == 0 && e.bytes == 0 && !e.has_ms && e.status[0] == '\0');
}

static void add(struct stats *st, const char *time, const char *outcome, int http, unsigned stored,
		unsigned rejected, uint64_t bytes, long ms, const char *status)
{
	char line[512];
	int n = snprintf(line, sizeof line,
			 "{\"time\":\"%s\",\"id\":\"j\",\"status\":%s%s%s,\"outcome\":\"%s\",\"http\":%d,"
			 "\"images_stored\":%u,\"images_rejected\":%u,\"images_remote\":0,"
			 "\"bytes\":%llu,\"ms\":%ld}\n",
			 time, status ? "\"" : "", status ? status : "null", status ? "\"" : "", outcome,
			 http, stored, rejected, (unsigned long long)bytes, ms);
	assert_int_equal(stats_add_line(st, line, (size_t)n), IH_OK);
}

/* A crafted day of deliveries, with lines outside the period and lines that are not ours. */
static void crafted(struct stats *st)
{
	add(st, "2026-11-26T23:59:59.999Z", "stored", 200, 9, 0, 999, 5, "COMPLETED");  /* before */
	add(st, "2026-11-27T00:00:00.000Z", "stored", 200, 4, 0, 1000, 10, "COMPLETED");
	add(st, "2026-11-27T01:00:00.000Z", "stored_partial", 200, 1, 2, 2000, 20, "COMPLETED");
	add(st, "2026-11-27T02:00:00.000Z", "duplicate", 200, 4, 0, 1000, 3, "COMPLETED");
	add(st, "2026-11-27T03:00:00.000Z", "failed", 200, 0, 0, 300, 4, "FAILED");
	add(st, "2026-11-27T04:00:00.000Z", "lost_upstream", 200, 0, 0, 200, 4, "COMPLETED");
	add(st, "2026-11-27T05:00:00.000Z", "unauthorized", 401, 0, 0, 5000, 1, NULL);
	add(st, "2026-11-27T06:00:00.000Z", "bad_request", 400, 0, 0, 12, 2, NULL);
	add(st, "2026-11-27T07:00:00.000Z", "too_large", 413, 0, 0, 99999999, 1, NULL);
	add(st, "2026-11-27T08:00:00.000Z", "storage_error", 503, 0, 0, 1000, 70000, "COMPLETED");
	add(st, "2026-11-27T09:00:00.000Z", "some_future_outcome", 200, 0, 0, 0, 6, "\\u001b[31mEVIL");
	add(st, "2026-11-28T00:00:00.000Z", "stored", 200, 9, 0, 999, 5, "COMPLETED");  /* after */
	const char *junk[] = { "not json at all\n", "{\"time\":\"yesterday\"}\n", "\n", "[]\n" };
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		assert_int_equal(stats_add_line(st, junk[i], strlen(junk[i])), IH_OK);
}

static void test_summary_of_a_crafted_log(void **state)
{
	(void)state;
	struct stats st;
	assert_int_equal(stats_init(&st, NOV27, NOV27 + 86400000LL), IH_OK);
	crafted(&st);
	assert_int_equal(st.lines, 15);   /* the blank line is not counted */
	assert_int_equal(st.unreadable, 3);
	assert_int_equal(st.deliveries, 10);
	assert_string_equal(st.first, "2026-11-27T00:00:00.000Z");
	assert_string_equal(st.last, "2026-11-27T09:00:00.000Z");
	assert_int_equal(st.outcome[OUTCOME_STORED], 1);
	assert_int_equal(st.outcome[OUTCOME_PARTIAL], 1);
	assert_int_equal(st.outcome[OUTCOME_DUPLICATE], 1);
	assert_int_equal(st.outcome[OUTCOME_FAILED], 1);
	assert_int_equal(st.outcome[OUTCOME_LOST_UPSTREAM], 1);
	assert_int_equal(st.outcome[OUTCOME_UNAUTHORIZED], 1);
	assert_int_equal(st.outcome_other, 1);
	assert_int_equal(st.http[200], 6);
	assert_int_equal(st.http[401], 1);
	assert_int_equal(st.http[503], 1);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.rejects, 3);
	assert_int_equal(st.server_errors, 1);
	assert_int_equal(st.images_stored, 4 + 1 + 4);
	assert_int_equal(st.images_rejected, 2);
	assert_int_equal(st.bytes, 1000 + 2000 + 1000 + 300 + 200 + 5000 + 12 + 99999999 + 1000);
	assert_int_equal(st.ms_count, 10);
	assert_int_equal(st.ms_max, 70000);
	/* Sorted: 1 1 2 3 4 4 6 10 20 70000. Nearest rank. */
	assert_int_equal(stats_percentile(&st, 50), 4);
	assert_int_equal(stats_percentile(&st, 90), 20);
	assert_int_equal(stats_percentile(&st, 99), 70000);
	assert_int_equal(stats_percentile(&st, 100), 70000);
	assert_int_equal(stats_percentile(&st, 10), 1);

	struct buf text = { 0 };
	assert_int_equal(stats_format_text(&st, &text), IH_OK);
	assert_non_null(strstr(text.data, "deliveries           10\n"));
	assert_non_null(strstr(text.data, "  stored_partial     1\n"));
	assert_non_null(strstr(text.data, "  401                1\n"));
	assert_non_null(strstr(text.data, "rejects (4xx)        3\n"));
	assert_non_null(strstr(text.data, "duplicates           1\n"));
	assert_non_null(strstr(text.data, "p50 4  p90 20  p99 70000  max 70000"));
	if (strstr(text.data, "bytes received       100.0 MB (100010511 bytes)") == NULL)
		fail_msg("%s", text.data);
	assert_null(strchr(text.data, '\x1b'));   /* the sender's status cannot drive the terminal */
	buf_free(&text);

	assert_int_equal(stats_format_json(&st, &text), IH_OK);
	json_object *o = json_tokener_parse(text.data);
	assert_non_null(o);
	json_object *v;
	assert_true(json_object_object_get_ex(o, "deliveries", &v) && json_object_get_int(v) == 10);
	assert_true(json_object_object_get_ex(o, "from", &v) &&
		    strcmp(json_object_get_string(v), "2026-11-27T00:00:00.000Z") == 0);
	json_object *ms, *outcomes, *http;
	assert_true(json_object_object_get_ex(o, "ms", &ms));
	assert_true(json_object_object_get_ex(ms, "p90", &v) && json_object_get_int(v) == 20);
	assert_true(json_object_object_get_ex(o, "outcomes", &outcomes));
	assert_true(json_object_object_get_ex(outcomes, "lost_upstream", &v) && json_object_get_int(v) == 1);
	assert_true(json_object_object_get_ex(outcomes, "other", &v) && json_object_get_int(v) == 1);
	assert_true(json_object_object_get_ex(o, "http", &http));
	assert_true(json_object_object_get_ex(http, "413", &v) && json_object_get_int(v) == 1);
	assert_true(json_object_object_get_ex(o, "rejects_4xx", &v) && json_object_get_int(v) == 3);
	json_object_put(o);
	buf_free(&text);
	stats_free(&st);
}

static void test_percentiles_exact(void **state)
{
	(void)state;
	struct stats st;
	assert_int_equal(stats_init(&st, INT64_MIN, INT64_MAX), IH_OK);
	assert_int_equal(stats_percentile(&st, 50), 0);
	struct buf text = { 0 };
	assert_int_equal(stats_format_json(&st, &text), IH_OK);
	assert_non_null(strstr(text.data, "\"ms\":null"));
	assert_non_null(strstr(text.data, "\"from\":null,\"to\":null"));
	buf_free(&text);
	/* 1..1000 ms, shuffled: p50 500, p90 900, p99 990, max 1000. */
	for (long i = 0; i < 1000; i++)
		add(&st, "2026-11-27T00:00:00.000Z", "stored", 200, 1, 0, 1, (i * 7919) % 1000 + 1,
		    "COMPLETED");
	assert_int_equal(stats_percentile(&st, 50), 500);
	assert_int_equal(stats_percentile(&st, 90), 900);
	assert_int_equal(stats_percentile(&st, 99), 990);
	assert_int_equal(st.ms_max, 1000);
	/* Past the histogram, the long list is sorted as it grows. */
	for (long i = 0; i < 1000; i++)
		add(&st, "2026-11-27T00:00:00.000Z", "stored", 200, 1, 0, 1, 100000 + (i * 7919) % 1000,
		    "COMPLETED");
	assert_int_equal(stats_percentile(&st, 75), 100499);
	assert_int_equal(stats_percentile(&st, 100), 100999);
	stats_free(&st);
	stats_free(&st);   /* twice is harmless */
}

static void test_command(void **state)
{
	(void)state;
	char path[] = "/tmp/ih-stats-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *log = fdopen(fd, "w");
	assert_non_null(log);
	fputs("{\"time\":\"2026-11-27T10:00:00.000Z\",\"outcome\":\"stored\",\"http\":200,"
	      "\"images_stored\":2,\"bytes\":100,\"ms\":7}\n"
	      "{\"time\":\"2026-11-28T10:00:00.000Z\",\"outcome\":\"stored\",\"http\":200,"
	      "\"images_stored\":3,\"bytes\":100,\"ms\":9}\n", log);
	assert_int_equal(fclose(log), 0);

	struct settings s;
	memset(&s, 0, sizeof s);
	s.log_path = path;
	FILE *out = tmpfile(), *err = tmpfile();
	assert_non_null(out);
	assert_non_null(err);
	char *all[] = { "stats", "--json", NULL };
	assert_int_equal(stats_main(&s, 2, all, out, err), 0);
	char *day[] = { "stats", "--from", "2026-11-27", "--to", "2026-11-27", "--log", path, NULL };
	assert_int_equal(stats_main(&s, 7, day, out, err), 0);
	char *twice[] = { "stats", "--json", "--log", path, "--log", path, NULL };
	assert_int_equal(stats_main(&s, 6, twice, out, err), 0);
	rewind(out);
	char line[4096];
	assert_non_null(fgets(line, sizeof line, out));
	assert_non_null(strstr(line, "\"deliveries\":2,"));
	assert_non_null(strstr(line, "\"images_stored\":5,"));
	int found_day = 0, found_twice = 0;
	while (fgets(line, sizeof line, out) != NULL) {
		found_day |= strstr(line, "deliveries           1\n") != NULL;
		found_twice |= strstr(line, "\"deliveries\":4,") != NULL;
	}
	assert_true(found_day);
	assert_true(found_twice);

	char *since[] = { "stats", "--since", "3650d", NULL };
	assert_int_equal(stats_main(&s, 3, since, out, err), 0);
	static const char *const usage_errors[][4] = {
		{ "stats", "--since", "soon", NULL },
		{ "stats", "--from", "yesterday", NULL },
		{ "stats", "--since", "1d", "--from" },
		{ "stats", "--from", "2026-11-28", NULL },   /* completed below with --to */
		{ "stats", "--bogus", NULL, NULL },
		{ "stats", "--log", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof usage_errors / sizeof usage_errors[0]; i++) {
		char *argv[6] = { NULL };
		int argc = 0;
		for (int k = 0; k < 4 && usage_errors[i][k] != NULL; k++)
			argv[argc++] = (char *)usage_errors[i][k];
		if (i == 3) {
			argv[argc++] = "--to";
			argv[argc++] = "2026-11-27T00:00";
		}
		if (stats_main(&s, argc, argv, out, err) != 2)
			fail_msg("usage error %zu was accepted", i);
	}
	char *missing[] = { "stats", "--log", "/nonexistent/imagehook.log", NULL };
	assert_int_equal(stats_main(&s, 3, missing, out, err), 1);
	fclose(out);
	fclose(err);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_log_line_parse),
		cmocka_unit_test(test_summary_of_a_crafted_log),
		cmocka_unit_test(test_percentiles_exact),
		cmocka_unit_test(test_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
