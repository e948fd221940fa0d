/* test_settings.c - configuration from the environment and the config file, and its problems. */
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

#include "ih_error.h"
#include "settings.h"

#define TOKEN_A "first-token-0123456789abcdef"
#define TOKEN_B "second-token-0123456789abcdef"
#define TOKEN_C "third-token-0123456789abcdef"

static const char *const vars[] = {
	"IMAGEHOOK_CONFIG", "IMAGEHOOK_OUTPUT_DIR", "IMAGEHOOK_LOG", "IMAGEHOOK_TOKEN",
	"IMAGEHOOK_TOKEN_FILE", "IMAGEHOOK_ALLOW_OPEN", "IMAGEHOOK_MAX_BODY",
	"IMAGEHOOK_MAX_DEPTH", "IMAGEHOOK_MAX_IMAGES", "IMAGEHOOK_MAX_WIDTH",
	"IMAGEHOOK_MAX_HEIGHT", "IMAGEHOOK_MAX_PIXELS", "IMAGEHOOK_ADD_INFOTEXT",
	"IMAGEHOOK_STORE", "IMAGEHOOK_S3_ENDPOINT", "IMAGEHOOK_S3_REGION",
	"IMAGEHOOK_S3_ADDRESSING", "IMAGEHOOK_S3_CREDENTIALS", "IMAGEHOOK_S3_TIMEOUT",
};

/* Each test's temp dir for config and token files; the environment starts clean. */
struct fx {
	char dir[64];
	char files[4][160];
	int n_files;
	struct settings s;
};

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/ih-settings-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	clear_env();
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	settings_free(&fx->s);
	for (int i = 0; i < fx->n_files; i++)
		unlink(fx->files[i]);
	rmdir(fx->dir);
	clear_env();
	free(fx);
	return 0;
}

/* Writes text to a new file in the test's dir and returns its path. */
static const char *write_file(struct fx *fx, const char *name, const char *text)
{
	assert_true(fx->n_files < 4);
	char tmp[sizeof fx->files[0]];
	snprintf(tmp, sizeof tmp, "%s/%s", fx->dir, name);
	char *path = fx->files[fx->n_files++];
	memcpy(path, tmp, sizeof tmp);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void load(struct fx *fx)
{
	settings_free(&fx->s);
	assert_int_equal(settings_load(&fx->s), IH_OK);
}

/* Asserts that the problem list mentions needle (or, with NULL, that there is none). */
static void expect_problem(const struct settings *s, const char *needle)
{
	if (needle == NULL) {
		if (s->problems != NULL)
			fail_msg("unexpected problems: %s", s->problems);
		return;
	}
	if (s->problems == NULL || strstr(s->problems, needle) == NULL)
		fail_msg("problem \"%s\" not in \"%s\"", needle, s->problems ? s->problems : "(none)");
}

static void test_defaults(void **state)
{
	struct fx *fx = *state;
	setenv("IMAGEHOOK_TOKEN", TOKEN_A, 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_non_null(fx->s.output_dir);
	assert_non_null(fx->s.log_path);
	assert_true(fx->s.output_dir[0] == '/');
	assert_int_equal(fx->s.n_tokens, 1);
	assert_string_equal(fx->s.tokens[0], TOKEN_A);
	assert_int_equal(fx->s.allow_open, 0);
	assert_int_equal(fx->s.max_body, 64ULL << 20);
	assert_int_equal(fx->s.max_depth, 64);
	assert_int_equal(fx->s.max_images, 256);
	assert_int_equal(fx->s.add_infotext, 1);
	assert_null(fx->s.config_file);
}

static void test_env_values(void **state)
{
	struct fx *fx = *state;
	setenv("IMAGEHOOK_OUTPUT_DIR", "/srv/out", 1);
	setenv("IMAGEHOOK_LOG", "/srv/log/ih.log", 1);
	setenv("IMAGEHOOK_TOKEN", TOKEN_A, 1);
	setenv("IMAGEHOOK_MAX_BODY", "100000", 1);
	setenv("IMAGEHOOK_MAX_DEPTH", "32", 1);
	setenv("IMAGEHOOK_MAX_IMAGES", "10", 1);
	setenv("IMAGEHOOK_MAX_WIDTH", "4096", 1);
	setenv("IMAGEHOOK_MAX_HEIGHT", "2048", 1);
	setenv("IMAGEHOOK_MAX_PIXELS", "8m", 1);
	setenv("IMAGEHOOK_ADD_INFOTEXT", "no", 1);
	setenv("IMAGEHOOK_ALLOW_OPEN", "off", 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_string_equal(fx->s.output_dir, "/srv/out");
	assert_string_equal(fx->s.log_path, "/srv/log/ih.log");
	assert_int_equal(fx->s.max_body, 100000);
	assert_int_equal(fx->s.max_depth, 32);
	assert_int_equal(fx->s.max_images, 10);
	assert_int_equal(fx->s.image.max_width, 4096);
	assert_int_equal(fx->s.image.max_height, 2048);
	assert_int_equal(fx->s.image.max_pixels, 8ULL << 20);
	assert_int_equal(fx->s.add_infotext, 0);
	assert_int_equal(fx->s.allow_open, 0);
}

static void test_booleans(void **state)
{
	struct fx *fx = *state;
	static const char *const yes[] = { "1", "yes", "YES", "true", "On" };
	static const char *const no[] = { "0", "no", "False", "OFF" };
	setenv("IMAGEHOOK_TOKEN", TOKEN_A, 1);
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		setenv("IMAGEHOOK_ALLOW_OPEN", yes[i], 1);
		load(fx);
		expect_problem(&fx->s, NULL);
		assert_int_equal(fx->s.allow_open, 1);
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		setenv("IMAGEHOOK_ADD_INFOTEXT", no[i], 1);
		load(fx);
		expect_problem(&fx->s, NULL);
		assert_int_equal(fx->s.add_infotext, 0);
	}
	setenv("IMAGEHOOK_ALLOW_OPEN", "maybe", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_ALLOW_OPEN");
	assert_int_equal(fx->s.allow_open, 0);
}

static void test_number_suffixes(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *text;
		uint64_t want;
	} cases[] = {
		{ "1024", 1024 }, { "1k", 1024 }, { "1K", 1024 }, { "64k", 65536 },
		{ "3m", 3ULL << 20 }, { "3M", 3ULL << 20 }, { "1g", 1ULL << 30 },
		{ "1G", 1ULL << 30 }, { "1048576", 1ULL << 20 },
	};
	setenv("IMAGEHOOK_TOKEN", TOKEN_A, 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		setenv("IMAGEHOOK_MAX_BODY", cases[i].text, 1);
		load(fx);
		expect_problem(&fx->s, NULL);
		assert_int_equal(fx->s.max_body, cases[i].want);
	}
	setenv("IMAGEHOOK_MAX_PIXELS", "1g", 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_int_equal(fx->s.image.max_pixels, 1ULL << 30);
}

static void test_bad_numbers_are_problems(void **state)
{
	struct fx *fx = *state;
	/* Garbage, signs, spaces, fractions, unknown suffixes, overflow, out of range. */
	static const char *const bad_body[] = {
		"abc", "-1", "+5", " 5", "5 ", "1.5m", "10x", "10kb", "k", "1023", "2g", "0",
		"99999999999999999999", "18446744073709551615k", "0x100000",
	};
	setenv("IMAGEHOOK_TOKEN", TOKEN_A, 1);
	for (size_t i = 0; i < sizeof bad_body / sizeof bad_body[0]; i++) {
		setenv("IMAGEHOOK_MAX_BODY", bad_body[i], 1);
		load(fx);
		expect_problem(&fx->s, "IMAGEHOOK_MAX_BODY");
		/* The default stands in for the bad value. */
		assert_int_equal(fx->s.max_body, 64ULL << 20);
	}
	unsetenv("IMAGEHOOK_MAX_BODY");

	setenv("IMAGEHOOK_MAX_DEPTH", "3", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_MAX_DEPTH");
	assert_int_equal(fx->s.max_depth, 64);
	setenv("IMAGEHOOK_MAX_DEPTH", "1001", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_MAX_DEPTH");
	unsetenv("IMAGEHOOK_MAX_DEPTH");

	setenv("IMAGEHOOK_MAX_IMAGES", "0", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_MAX_IMAGES");
	assert_int_equal(fx->s.max_images, 256);
	unsetenv("IMAGEHOOK_MAX_IMAGES");

	/* 70000 must not wrap into a small width (spawn-fcgi's port bug). */
	setenv("IMAGEHOOK_MAX_WIDTH", "4294967297", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_MAX_WIDTH");
	assert_int_equal(fx->s.image.max_width, 16384);

	/* Every problem is reported, not just the first. */
	setenv("IMAGEHOOK_MAX_HEIGHT", "tall", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_MAX_WIDTH");
	expect_problem(&fx->s, "IMAGEHOOK_MAX_HEIGHT");
}

static void test_token_list(void **state)
{
	struct fx *fx = *state;
	setenv("IMAGEHOOK_TOKEN", TOKEN_A "," TOKEN_B " , " TOKEN_C ",,", 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_int_equal(fx->s.n_tokens, 3);
	assert_string_equal(fx->s.tokens[0], TOKEN_A);
	assert_string_equal(fx->s.tokens[1], TOKEN_B);
	assert_string_equal(fx->s.tokens[2], TOKEN_C);

	/* A short token is kept but reported; more than the maximum is reported. */
	setenv("IMAGEHOOK_TOKEN", "short", 1);
	load(fx);
	expect_problem(&fx->s, "shorter");
	assert_int_equal(fx->s.n_tokens, 1);

	/* Characters that JSON or a URL would escape could not be redacted: refused. */
	const char *bad[] = { "quote\"token-0123456789", "back\\slash-0123456789",
			      "tab\ttoken-0123456789", "spa ce-token-0123456789",
			      "percent%20token-01234567" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("IMAGEHOOK_TOKEN", bad[i], 1);
		load(fx);
		expect_problem(&fx->s, "characters other than");
	}
	setenv("IMAGEHOOK_TOKEN", "Url-Safe_token.0123~", 1);
	load(fx);
	expect_problem(&fx->s, NULL);

	char many[1024] = "";
	for (int i = 0; i < SETTINGS_MAX_TOKENS + 2; i++) {
		char one[64];
		snprintf(one, sizeof one, "%stoken-number-%02d-abcdefgh", i ? "," : "", i);
		strcat(many, one);
	}
	setenv("IMAGEHOOK_TOKEN", many, 1);
	load(fx);
	expect_problem(&fx->s, "more than");
	assert_int_equal(fx->s.n_tokens, SETTINGS_MAX_TOKENS);
}

static void test_token_file(void **state)
{
	struct fx *fx = *state;
	const char *tf = write_file(fx, "tokens", TOKEN_A "\n\n  " TOKEN_B "  \r\n" TOKEN_C);
	setenv("IMAGEHOOK_TOKEN_FILE", tf, 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_int_equal(fx->s.n_tokens, 3);
	assert_string_equal(fx->s.tokens[0], TOKEN_A);
	assert_string_equal(fx->s.tokens[1], TOKEN_B);
	assert_string_equal(fx->s.tokens[2], TOKEN_C);

	/* Both sources add up. */
	setenv("IMAGEHOOK_TOKEN", "env-token-0123456789abcdef", 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_int_equal(fx->s.n_tokens, 4);

	/* An unreadable token file is a problem that names it, and not a crash. */
	unsetenv("IMAGEHOOK_TOKEN");
	setenv("IMAGEHOOK_TOKEN_FILE", "/nonexistent/imagehook/tokens", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_TOKEN_FILE");
	expect_problem(&fx->s, "IMAGEHOOK_ALLOW_OPEN");
	assert_int_equal(fx->s.n_tokens, 0);
}

static void test_config_file_and_env_wins(void **state)
{
	struct fx *fx = *state;
	const char *cfg = write_file(fx, "imagehook.conf",
				     "# imagehook\n"
				     "\n"
				     "IMAGEHOOK_OUTPUT_DIR = /from/file\n"
				     "log=/from/file.log\n"
				     "  MAX_BODY = 2m  \n"
				     "IMAGEHOOK_MAX_IMAGES=7\n"
				     "token = " TOKEN_A "\n");
	setenv("IMAGEHOOK_CONFIG", cfg, 1);
	setenv("IMAGEHOOK_MAX_IMAGES", "9", 1);
	setenv("IMAGEHOOK_LOG", "/from/env.log", 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_string_equal(fx->s.config_file, cfg);
	assert_string_equal(fx->s.output_dir, "/from/file");
	assert_string_equal(fx->s.log_path, "/from/env.log");
	assert_int_equal(fx->s.max_body, 2ULL << 20);
	assert_int_equal(fx->s.max_images, 9);
	assert_int_equal(fx->s.n_tokens, 1);
	assert_string_equal(fx->s.tokens[0], TOKEN_A);
}

static void test_config_file_problems(void **state)
{
	struct fx *fx = *state;
	const char *cfg = write_file(fx, "bad.conf",
				     "IMAGEHOOK_TOKEN=" TOKEN_A "\n"
				     "IMAGEHOOK_COLOUR=blue\n"
				     "max_depth=deep\n");
	setenv("IMAGEHOOK_CONFIG", cfg, 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_COLOUR");
	expect_problem(&fx->s, "IMAGEHOOK_MAX_DEPTH");
	assert_int_equal(fx->s.n_tokens, 1);

	/* A config file that cannot be read is a problem naming it. */
	setenv("IMAGEHOOK_CONFIG", "/nonexistent/imagehook.conf", 1);
	setenv("IMAGEHOOK_TOKEN", TOKEN_A, 1);
	load(fx);
	expect_problem(&fx->s, "/nonexistent/imagehook.conf");
}

/* A config line without '=' may be a mistyped secret: it must not reach problems, which every log line carries. */
static void test_config_line_without_equals_not_echoed(void **state)
{
	struct fx *fx = *state;
	const char *cfg = write_file(fx, "typo.conf", "IMAGEHOOK_TOKEN " TOKEN_A "\n");
	setenv("IMAGEHOOK_CONFIG", cfg, 1);
	load(fx);
	assert_non_null(fx->s.problems);
	assert_null(strstr(fx->s.problems, "first-token"));
}

static void test_no_token_is_a_problem(void **state)
{
	struct fx *fx = *state;
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_ALLOW_OPEN");
	assert_int_equal(fx->s.n_tokens, 0);

	setenv("IMAGEHOOK_TOKEN", "", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_ALLOW_OPEN");

	setenv("IMAGEHOOK_ALLOW_OPEN", "1", 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_int_equal(fx->s.allow_open, 1);
}

static void test_print_masks_tokens(void **state)
{
	struct fx *fx = *state;
	const char *tf = write_file(fx, "tokens", TOKEN_C "\n");
	setenv("IMAGEHOOK_TOKEN", TOKEN_A "," TOKEN_B, 1);
	setenv("IMAGEHOOK_TOKEN_FILE", tf, 1);
	setenv("IMAGEHOOK_OUTPUT_DIR", "/srv/out", 1);
	load(fx);
	expect_problem(&fx->s, NULL);

	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	settings_print(&fx->s, out);
	fclose(out);
	assert_non_null(text);
	assert_true(len > 0);
	assert_null(strstr(text, TOKEN_A));
	assert_null(strstr(text, TOKEN_B));
	assert_null(strstr(text, TOKEN_C));
	/* Not even a recognisable piece of one. */
	assert_null(strstr(text, "first-token"));
	assert_null(strstr(text, "0123456789abcdef"));
	assert_non_null(strstr(text, "IMAGEHOOK_OUTPUT_DIR=/srv/out"));
	assert_non_null(strstr(text, "token 3:"));
	free(text);
}

static void test_free_zeroed_is_noop(void **state)
{
	(void)state;
	struct settings s;
	memset(&s, 0, sizeof s);
	settings_free(&s);
	settings_free(&s);
}

/* IMAGEHOOK_STORE=s3://...: the bucket's settings, keys from a file, every mistake a problem. */
static void test_s3_store(void **state)
{
	struct fx *fx = *state;
	setenv("IMAGEHOOK_TOKEN", TOKEN_A, 1);
	const char *cred = write_file(fx, "cred", "[default]\naws_access_key_id = AKIDEXAMPLE\n"
					 "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n");
	setenv("IMAGEHOOK_STORE", "s3://pics/in/coming", 1);
	setenv("IMAGEHOOK_S3_CREDENTIALS", cred, 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_string_equal(fx->s.s3_bucket, "pics");
	assert_string_equal(fx->s.s3_prefix, "in/coming/");
	/* No endpoint: AWS's own for the region, virtual-hosted. */
	assert_string_equal(fx->s.s3_region, "us-east-1");
	assert_string_equal(fx->s.s3_endpoint, "https://s3.us-east-1.amazonaws.com");
	assert_int_equal(fx->s.s3_virtual_host, 1);
	assert_int_equal(fx->s.s3_timeout_ms, 30000);
	assert_string_equal(fx->s.s3_access_key, "AKIDEXAMPLE");
	assert_string_equal(fx->s.s3_secret_key, "wJalrXUtnFEMI/K7MDENG");

	/* The secret is never printed. */
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	settings_print(&fx->s, out);
	fclose(out);
	assert_null(strstr(text, "wJalrXUtnFEMI"));
	assert_non_null(strstr(text, "IMAGEHOOK_STORE=s3://pics/in/coming/"));
	free(text);

	/* An endpoint of one's own (MinIO, Ceph): path-style unless told otherwise. */
	setenv("IMAGEHOOK_S3_ENDPOINT", "http://127.0.0.1:9000", 1);
	setenv("IMAGEHOOK_S3_REGION", "auto", 1);
	setenv("IMAGEHOOK_S3_TIMEOUT", "5", 1);
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_int_equal(fx->s.s3_virtual_host, 0);
	assert_int_equal(fx->s.s3_timeout_ms, 5000);
	setenv("IMAGEHOOK_S3_ADDRESSING", "virtual", 1);
	load(fx);
	assert_int_equal(fx->s.s3_virtual_host, 1);

	setenv("IMAGEHOOK_S3_ADDRESSING", "dns", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_S3_ADDRESSING");
	unsetenv("IMAGEHOOK_S3_ADDRESSING");
	setenv("IMAGEHOOK_S3_ENDPOINT", "127.0.0.1:9000", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_S3_ENDPOINT");
	unsetenv("IMAGEHOOK_S3_ENDPOINT");
	setenv("IMAGEHOOK_S3_TIMEOUT", "0", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_S3_TIMEOUT");
	unsetenv("IMAGEHOOK_S3_TIMEOUT");
	setenv("IMAGEHOOK_STORE", "s3://Bad_Bucket", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_STORE");
	setenv("IMAGEHOOK_STORE", "/var/lib/imagehook", 1);
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_OUTPUT_DIR");
	setenv("IMAGEHOOK_STORE", "s3://pics", 1);
	unsetenv("IMAGEHOOK_S3_CREDENTIALS");
	load(fx);
	expect_problem(&fx->s, "IMAGEHOOK_S3_CREDENTIALS");
	setenv("IMAGEHOOK_S3_CREDENTIALS", "/nonexistent/cred", 1);
	load(fx);
	expect_problem(&fx->s, "cannot be read");
	const char *half = write_file(fx, "half", "aws_access_key_id = AKIDEXAMPLE\n");
	setenv("IMAGEHOOK_S3_CREDENTIALS", half, 1);
	load(fx);
	expect_problem(&fx->s, "lacks");
	/* Without IMAGEHOOK_STORE nothing of S3 is read or required. */
	unsetenv("IMAGEHOOK_STORE");
	load(fx);
	expect_problem(&fx->s, NULL);
	assert_null(fx->s.s3_bucket);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_booleans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_number_suffixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_numbers_are_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_file_and_env_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_file_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_token_is_a_problem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_masks_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s3_store, setup, teardown),
		cmocka_unit_test(test_free_zeroed_is_noop),
		cmocka_unit_test_setup_teardown(test_config_line_without_equals_not_echoed, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
