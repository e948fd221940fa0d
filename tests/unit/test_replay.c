/* test_replay.c - `imagehook replay`: kept bodies through the same pipeline, progress, summary. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handler.h"
#include "ih_error.h"
#include "replay.h"
#include "settings.h"

/* A 1x1 RGBA PNG (CRCs valid). */
#define PNG_B64 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

struct fx {
	char dir[64];
	char out[128];
	char log[128];
	struct settings s;
	struct handler h;
	char *tokens[1];
	char *signing[1];
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/ih-replay-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->out, sizeof fx->out, "%s/out", fx->dir);
	snprintf(fx->log, sizeof fx->log, "%s/imagehook.log", fx->dir);
	/* A token and a signing secret are configured: a replay needs neither. */
	fx->tokens[0] = "replay-test-token-0123456789";
	fx->signing[0] = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	fx->s.output_dir = fx->out;
	fx->s.log_path = fx->log;
	fx->s.tokens[0] = fx->tokens[0];
	fx->s.n_tokens = 1;
	fx->s.signing[0] = fx->signing[0];
	fx->s.n_signing = 1;
	fx->s.max_body = 1 << 20;
	fx->s.max_depth = 32;
	fx->s.max_images = 8;
	if (handler_init(&fx->h, &fx->s) != IH_OK || fx->h.store == NULL) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	handler_fini(&fx->h);
	nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* Writes text to <dir>/name and returns the path (static buffer per slot). */
static char *put(struct fx *fx, int slot, const char *name, const char *text)
{
	static char paths[8][192];
	snprintf(paths[slot], sizeof paths[slot], "%s/%s", fx->dir, name);
	FILE *f = fopen(paths[slot], "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return paths[slot];
}

/* Counts the regular files below dir (recursively). */
static int count_files(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[512];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			n += count_files(path);
		else
			n++;
	}
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *text = calloc(1, 1 << 16);
	assert_non_null(text);
	size_t n = fread(text, 1, (1 << 16) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void test_run_and_summary(void **state)
{
	struct fx *fx = *state;
	char *files[4];
	files[0] = put(fx, 0, "good.json",
		       "{\"id\": \"replay-1\", \"status\": \"COMPLETED\", \"output\": {\"images\": [\"" PNG_B64
		       "\"]}}");
	files[1] = put(fx, 1, "bad.body", "<html>not json</html>");
	files[2] = fx->dir;  /* a folder cannot be replayed */
	files[3] = files[0]; /* the same body again: a duplicate, which is fine */
	char *progress = NULL;
	size_t plen = 0;
	FILE *pf = open_memstream(&progress, &plen);
	assert_non_null(pf);
	struct replay_summary sum;
	replay_run(&fx->h, files, 4, pf, NULL, &sum);
	assert_int_equal(fclose(pf), 0);

	assert_int_equal(sum.total, 4);
	assert_int_equal(sum.ok, 2);
	assert_int_equal(sum.failed, 2);
	assert_int_equal(sum.unreadable, 1);
	assert_int_equal(sum.outcomes[OUTCOME_STORED], 1);
	assert_int_equal(sum.outcomes[OUTCOME_DUPLICATE], 1);
	assert_int_equal(sum.outcomes[OUTCOME_BAD_REQUEST], 1);
	assert_int_equal(replay_exit_code(&sum), 1);

	char want[512];
	snprintf(want, sizeof want, "[1/4] %s: stored\n", files[0]);
	assert_non_null(strstr(progress, want));
	snprintf(want, sizeof want, "[2/4] %s: bad_request: body is not valid JSON", files[1]);
	assert_non_null(strstr(progress, want));
	snprintf(want, sizeof want, "[3/4] %s: cannot be read", files[2]);
	assert_non_null(strstr(progress, want));
	snprintf(want, sizeof want, "[4/4] %s: duplicate\n", files[0]);
	assert_non_null(strstr(progress, want));
	free(progress);

	/* A body rejected again is not kept a second time; the log line names its file. */
	char rejected[192];
	snprintf(rejected, sizeof rejected, "%s/rejected", fx->out);
	assert_int_equal(count_files(rejected), 0);
	char *log = slurp(fx->log);
	snprintf(want, sizeof want, "\"kept\":\"%s\"", files[1]);
	assert_non_null(strstr(log, want));
	/* One line per body run (the folder is not a body), like deliveries. */
	int lines = 0;
	for (char *p = log; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, 3);
	assert_non_null(strstr(log, "\"remote\":\"replay\""));
	free(log);

	struct buf line = { 0 };
	assert_int_equal(replay_summary_line(&sum, &line), IH_OK);
	assert_string_equal(line.data, "replay: 4 bodies, 2 ok (stored 1, duplicate 1), 2 failed "
				       "(bad_request 1, unreadable 1)\n");
	buf_free(&line);
}

static void test_errors_without_terminal(void **state)
{
	struct fx *fx = *state;
	char *files[2];
	files[0] = put(fx, 0, "no-id.body", "{\"status\": \"COMPLETED\"}");
	files[1] = put(fx, 1, "failed.json", "{\"id\": \"replay-2\", \"status\": \"FAILED\"}");
	char *errors = NULL;
	size_t elen = 0;
	FILE *ef = open_memstream(&errors, &elen);
	assert_non_null(ef);
	struct replay_summary sum;
	replay_run(&fx->h, files, 2, NULL, ef, &sum);
	assert_int_equal(fclose(ef), 0);
	/* Only the failure is reported, one line, with its reason. */
	char want[512];
	snprintf(want, sizeof want, "imagehook: replay %s: bad_request (400): body has no usable id\n",
		 files[0]);
	assert_string_equal(errors, want);
	free(errors);
	assert_int_equal(sum.ok, 1);
	assert_int_equal(sum.failed, 1);
}

static void test_limit_raised_then_stored(void **state)
{
	struct fx *fx = *state;
	char *files[1];
	files[0] = put(fx, 0, "three.json",
		       "{\"id\": \"replay-3\", \"status\": \"COMPLETED\", \"output\": {\"images\": [\"" PNG_B64
		       "\", \"" PNG_B64 "\", \"" PNG_B64 "\"]}}");
	struct replay_summary sum;
	fx->s.max_images = 2;
	replay_run(&fx->h, files, 1, NULL, NULL, &sum);
	assert_int_equal(sum.outcomes[OUTCOME_BAD_REQUEST], 1);
	assert_int_equal(replay_exit_code(&sum), 1);
	fx->s.max_images = 3;
	replay_run(&fx->h, files, 1, NULL, NULL, &sum);
	assert_int_equal(sum.outcomes[OUTCOME_STORED], 1);
	assert_int_equal(replay_exit_code(&sum), 0);
	char *log = slurp(fx->log);
	char *last = strstr(log, "\"outcome\":\"stored\"");
	assert_non_null(last);
	assert_non_null(strstr(last, "\"images_stored\":"));
	assert_null(strstr(last, "\"images_stored\":0"));
	free(log);
}

static void test_summary_line(void **state)
{
	(void)state;
	struct replay_summary sum;
	struct buf line = { 0 };
	memset(&sum, 0, sizeof sum);
	sum.total = 1;
	sum.ok = 1;
	sum.outcomes[OUTCOME_RECORDED] = 1;
	assert_int_equal(replay_summary_line(&sum, &line), IH_OK);
	assert_string_equal(line.data, "replay: 1 body, 1 ok (recorded 1), 0 failed\n");
	assert_int_equal(replay_exit_code(&sum), 0);
	buf_free(&line);
	memset(&sum, 0, sizeof sum);
	sum.total = sum.failed = sum.outcomes[OUTCOME_STORAGE_ERROR] = 2;
	assert_int_equal(replay_summary_line(&sum, &line), IH_OK);
	assert_string_equal(line.data, "replay: 2 bodies, 0 ok, 2 failed (storage_error 2)\n");
	assert_int_equal(replay_exit_code(&sum), 1);
	buf_free(&line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_run_and_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_without_terminal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_raised_then_stored, setup, teardown),
		cmocka_unit_test(test_summary_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
