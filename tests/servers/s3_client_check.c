/* s3_client_check.c - the S3 client against a real server (run by s3-client.test with S3_* set). */
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

#include "buf.h"
#include "ih_error.h"
#include "s3.h"
#include "store.h"
#include "store_s3.h"

static char *access_key, *secret_key;

static struct s3 *client(int virtual_host, const char *prefix)
{
	struct s3_config c = {
		.endpoint = getenv("S3_ENDPOINT"), .region = getenv("S3_REGION"),
		.bucket = getenv("S3_BUCKET"), .prefix = prefix, .virtual_host = virtual_host,
		.access_key = access_key, .secret_key = secret_key, .timeout_ms = 20000,
	};
	struct s3 *s = NULL;
	assert_int_equal(s3_new(&c, &s), IH_OK);
	return s;
}

struct listed {
	int n;
	char keys[16][128];
	unsigned long long sizes[16];
};

static int collect(void *ctx, const char *key, unsigned long long size)
{
	struct listed *l = ctx;
	if (l->n < 16) {
		snprintf(l->keys[l->n], sizeof l->keys[0], "%s", key);
		l->sizes[l->n] = size;
	}
	l->n++;
	return 0;
}

/* PUT, conditional PUT, GET back, HEAD, LIST, DELETE: one object's life. */
static void round_trip(int virtual_host)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "check-%d-%ld/", virtual_host, (long)getpid());
	struct s3 *s = client(virtual_host, prefix);
	struct s3_reply r = { 0 };
	size_t len = 3 * 1024 * 1024 + 17;   /* over libcurl's 1 MB Expect: 100-continue mark */
	unsigned char *data = malloc(len);
	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);

	assert_int_equal(s3_put(s, "a b/obj+1", data, len, S3_CREATE_ONLY, &r), IH_OK);
	assert_int_equal(r.status, 200);
	assert_true(strlen(r.etag) > 0);
	/* The key exists now: a create-only PUT is refused and nothing is overwritten. */
	assert_int_equal(s3_put(s, "a b/obj+1", "other", 5, S3_CREATE_ONLY, &r), IH_OK);
	assert_int_equal(r.status, 412);
	assert_string_equal(r.code, "PreconditionFailed");
	assert_int_equal(s3_get(s, "a b/obj+1", len + 1, &r), IH_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, len);
	assert_memory_equal(r.body.data, data, len);
	/* A cap smaller than the object is an error, not a silently short body. */
	assert_int_equal(s3_get(s, "a b/obj+1", 1000, &r), IH_ERR_LIMIT);
	assert_int_equal(s3_head(s, "a b/obj+1", &r), IH_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(s3_head(s, "missing", &r), IH_OK);
	assert_int_equal(r.status, 404);
	assert_int_equal(s3_get(s, "missing", 100, &r), IH_OK);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.code, "NoSuchKey");
	/* An unconditional PUT replaces. */
	assert_int_equal(s3_put(s, "a b/obj+1", "short", 5, 0, &r), IH_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(s3_put(s, "a b/two", "", 0, 0, &r), IH_OK);
	assert_int_equal(r.status, 200);

	/* The listing's query has a prefix with a space and '+': canonicalised, or 403. */
	struct listed l = { 0 };
	assert_int_equal(s3_list(s, "a b/", collect, &l, &r), IH_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.keys[0], "a b/obj+1");
	assert_int_equal(l.sizes[0], 5);
	assert_string_equal(l.keys[1], "a b/two");

	assert_int_equal(s3_delete(s, "a b/obj+1", &r), IH_OK);
	assert_int_equal(r.status, 204);
	assert_int_equal(s3_delete(s, "a b/two", &r), IH_OK);
	memset(&l, 0, sizeof l);
	assert_int_equal(s3_list(s, "", collect, &l, &r), IH_OK);
	assert_int_equal(l.n, 0);
	s3_reply_free(&r);
	free(data);
	s3_free(s);
}

static void test_path_style(void **state)
{
	(void)state;
	round_trip(0);
}

/* bucket.localhost: libcurl resolves *.localhost to the loopback itself. */
static void test_virtual_hosted(void **state)
{
	(void)state;
	const char *ep = getenv("S3_ENDPOINT_VHOST");
	if (ep == NULL) {
		skip();
		return;
	}
	char *saved = getenv("S3_ENDPOINT");
	setenv("S3_ENDPOINT", ep, 1);
	round_trip(1);
	setenv("S3_ENDPOINT", saved, 1);
}


static void test_wrong_secret_is_refused(void **state)
{
	(void)state;
	char *good = secret_key;
	secret_key = "not-the-secret";
	struct s3 *s = client(0, "check-wrong/");
	secret_key = good;
	struct s3_reply r = { 0 };
	assert_int_equal(s3_put(s, "x", "x", 1, 0, &r), IH_OK);
	assert_int_equal(r.status, 403);
	assert_true(strstr(r.error, "403") != NULL);
	s3_reply_free(&r);
	s3_free(s);
}

static struct s3_config config(const char *prefix)
{
	struct s3_config c = {
		.endpoint = getenv("S3_ENDPOINT"), .region = getenv("S3_REGION"),
		.bucket = getenv("S3_BUCKET"), .prefix = prefix, .access_key = access_key,
		.secret_key = secret_key, .timeout_ms = 20000,
	};
	return c;
}

/* The S3 store: a new job, its commit, a second receiver's commit of the same record lost. */
static void test_store_commit_once(void **state)
{
	(void)state;
	char prefix[64];
	snprintf(prefix, sizeof prefix, "store-%ld/", (long)getpid());
	struct s3_config c = config(prefix);
	struct store_s3 *a = NULL, *b = NULL;
	assert_int_equal(store_s3_open(&c, &a), IH_OK);
	assert_int_equal(store_s3_open(&c, &b), IH_OK);
	struct store_s3_job *ja = NULL, *jb = NULL;
	/* Two receivers begin the same new job at once: one of them created it. */
	assert_int_equal(store_s3_job_begin(a, "job-1", 0, &ja), IH_OK);
	assert_int_equal(store_s3_job_begin(b, "job-1", 0, &jb), IH_OK);
	assert_int_equal(store_s3_job_is_new(ja), 1);
	assert_int_equal(store_s3_job_is_new(jb), 0);
	assert_string_equal(store_s3_job_dir(ja), "jobs/job-1");
	assert_int_equal(store_s3_job_exists(jb, "delivery-completed.json"), 0);
	assert_int_equal(store_s3_job_write(ja, "0.png", "png-bytes", 9), IH_OK);
	assert_int_equal(store_s3_job_write(ja, "job.json", "{\"a\":1}", 7), IH_OK);
	assert_int_equal(store_s3_job_write(jb, "0.png", "png-bytes", 9), IH_OK);
	assert_int_equal(store_s3_job_write(jb, "job.json", "{\"b\":2}", 7), IH_OK);
	/* Before a commit there is no record; the first commit wins, the second is told so. */
	assert_int_equal(store_s3_job_exists(jb, "delivery-completed.json"), 0);
	assert_int_equal(store_s3_job_commit(ja, "delivery-completed.json", "job.json"), IH_OK);
	assert_int_equal(store_s3_job_commit(jb, "delivery-completed.json", "job.json"),
			 STORE_S3_LOST);
	assert_int_equal(store_s3_job_exists(jb, "delivery-completed.json"), 1);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(store_s3_job_read(jb, "delivery-completed.json", &text, &len), IH_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(text, "{\"a\":1}", 7);   /* the winner's record, never replaced */
	free(text);
	/* A record may copy any file of the job: one not kept in memory is read back. */
	assert_int_equal(store_s3_job_commit(jb, "delivery-failed.json", "0.png"), IH_OK);
	assert_int_equal(store_s3_job_read(jb, "delivery-failed.json", &text, &len), IH_OK);
	assert_int_equal(len, 9);
	assert_memory_equal(text, "png-bytes", 9);
	free(text);
	assert_int_equal(store_s3_job_commit(jb, "delivery-x.json", "missing.json"), IH_ERR_IO);
	store_s3_job_end(ja);
	store_s3_job_end(jb);

	/* A mapped id's name is never shared: the id object is checked. */
	const char *odd = "id with spaces/and slashes";
	assert_int_equal(store_s3_job_begin(a, odd, 0, &ja), IH_OK);
	assert_int_equal(store_s3_job_is_new(ja), 1);
	char key[256];
	snprintf(key, sizeof key, "%s/id", store_s3_job_dir(ja));
	store_s3_job_end(ja);
	struct s3 *raw = NULL;
	struct s3_reply r = { 0 };
	assert_int_equal(s3_new(&c, &raw), IH_OK);
	assert_int_equal(s3_put(raw, key, "another id", 10, 0, &r), IH_OK);
	assert_int_equal(store_s3_job_begin(b, odd, 0, &jb), IH_ERR_BAD_ID);
	assert_true(strlen(store_s3_error(b)) > 0);

	/* A body kept whole under rejected/, its key naming this host. */
	char rel[256];
	assert_int_equal(store_s3_keep_rejected(a, 1795780800, "body", "<html>", 6, rel,
						 sizeof rel), IH_OK);
	assert_true(strncmp(rel, "rejected/2026/11/27/", 20) == 0);
	assert_int_equal(s3_get(raw, rel, 100, &r), IH_OK);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body.data, "<html>", 6);
	s3_reply_free(&r);
	s3_free(raw);
	store_s3_close(a);
	store_s3_close(b);
}

int main(void)
{
	const char *cred = getenv("S3_CREDENTIALS");
	if (cred == NULL || getenv("S3_ENDPOINT") == NULL) {
		fprintf(stderr, "S3_ENDPOINT and S3_CREDENTIALS must be set\n");
		return 1;
	}
	FILE *f = fopen(cred, "r");
	char text[4096];
	size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	const char *why = "cannot read the file";
	if (n == 0 || s3_parse_credentials(text, &access_key, &secret_key, &why) != IH_OK) {
		fprintf(stderr, "%s: %s\n", cred, why);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_style),
		cmocka_unit_test(test_virtual_hosted),
		cmocka_unit_test(test_wrong_secret_is_refused),
		cmocka_unit_test(test_store_commit_once),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(access_key);
	free(secret_key);
	return rc;
}
