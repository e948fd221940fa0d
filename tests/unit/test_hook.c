/* test_hook.c - the on_stored log line, and a hook run for real (no shell, argv verbatim). */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "hook.h"
#include "ih_error.h"

static void test_log_line(void **state)
{
	(void)state;
	struct buf b = { 0 };
	assert_int_equal(hook_log_line("jobs/2026/01/02/a", "a\"b", "stored", "/bin/true", 0, 0, 0, 12, &b),
			 IH_OK);
	json_object *o = json_tokener_parse(b.data);
	assert_non_null(o);
	json_object *v;
	assert_true(json_object_object_get_ex(o, "event", &v));
	assert_string_equal(json_object_get_string(v), "on_stored");
	assert_true(json_object_object_get_ex(o, "id", &v));
	assert_string_equal(json_object_get_string(v), "a\"b");
	assert_true(json_object_object_get_ex(o, "exit", &v));
	assert_int_equal(json_object_get_int(v), 0);
	json_object_put(o);
	/* "event" right after "time": stats tells these lines from deliveries by it. */
	assert_int_equal(memcmp(b.data + 34, ",\"event\":", 9), 0);
	buf_reset(&b);
	assert_int_equal(hook_log_line("d", NULL, "failed", "/x", -1, 9, 1, 1000, &b), IH_OK);
	assert_non_null(strstr(b.data, "\"exit\":null,\"signal\":9,\"timed_out\":true"));
	buf_free(&b);
}

static void test_run(void **state)
{
	(void)state;
	char dir[] = "/tmp/ih-hook-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char prog[300], out[300], log[300], cmd[700];
	snprintf(prog, sizeof prog, "%s/hook.sh", dir);
	snprintf(out, sizeof out, "%s/args", dir);
	snprintf(log, sizeof log, "%s/log", dir);
	FILE *f = fopen(prog, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nprintf '%%s|' \"$@\" > %s\nexit 5\n", out);
	fclose(f);
	assert_int_equal(chmod(prog, 0755), 0);
	struct settings s;
	memset(&s, 0, sizeof s);
	s.output_dir = dir;
	s.log_path = log;
	s.on_stored = prog;
	s.on_stored_timeout = 5;
	s.on_stored_max = 1;
	struct hook_runner hr = { { 0 }, 0 };
	struct hook_job j;
	memset(&j, 0, sizeof j);
	snprintf(j.dir, sizeof j.dir, "jobs/x");
	j.id = strdup("$(id); rm -rf /");
	j.id_redacted = strdup("r");
	snprintf(j.outcome, sizeof j.outcome, "stored");
	assert_int_equal(hook_run(&s, &hr, &j), IH_OK);
	assert_int_equal(hr.n, 1);
	assert_null(j.id);
	assert_true(waitpid(hr.pid[0], NULL, 0) == hr.pid[0]);
	char got[512] = "";
	f = fopen(out, "r");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof got, f));
	fclose(f);
	char want[512];
	snprintf(want, sizeof want, "%s/jobs/x|$(id); rm -rf /|stored|", dir);
	assert_string_equal(got, want);
	f = fopen(log, "r");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof got, f));
	fclose(f);
	assert_non_null(strstr(got, "\"exit\":5"));
	hook_reap(&hr);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
