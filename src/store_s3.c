/* store_s3.c - jobs as objects in one S3 bucket, shared by receivers on any number of hosts. */
#include "ih_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ih_error.h"
#include "s3.h"
#include "store.h"
#include "store_s3.h"

#define MAX_SMALL_OBJECT (64 * 1024 * 1024)

struct store_s3 {
	struct s3 *s3;
	struct s3_reply reply;    /* reused by every request */
	char host[64];            /* in rejected names: receivers on two hosts never collide */
	unsigned long counter;
	char error[256];
};

struct store_s3_job {
	struct store_s3 *st;
	int is_new;
	char dir[8 + STORE_NAME_MAX];   /* "jobs/<name>" */
	/* The last file written, kept for a commit that names it as same_as. */
	char last_name[STORE_NAME_MAX];
	char *last_data;
	size_t last_len;
};

int store_s3_open(const struct s3_config *c, struct store_s3 **out)
{
	struct store_s3 *st = calloc(1, sizeof *st);
	if (st == NULL)
		return IH_ERR_NOMEM;
	int rc = s3_new(c, &st->s3);
	if (rc != IH_OK) {
		free(st);
		return rc;
	}
	if (gethostname(st->host, sizeof st->host) != 0 || st->host[0] == '\0')
		snprintf(st->host, sizeof st->host, "host");
	st->host[sizeof st->host - 1] = '\0';
	/* Only name-safe characters of the host name go into object names. */
	for (char *p = st->host; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			*p = '_';
	*out = st;
	return IH_OK;
}

void store_s3_close(struct store_s3 *st)
{
	if (st == NULL)
		return;
	s3_reply_free(&st->reply);
	s3_free(st->s3);
	free(st);
}

const char *store_s3_error(const struct store_s3 *st)
{
	return st->error;
}

/* The outcome of a request as an ih_err: no answer or an unexpected status is IH_ERR_IO. */
static int failed(struct store_s3 *st, int rc)
{
	snprintf(st->error, sizeof st->error, "%s", st->reply.error);
	return rc != IH_OK ? rc : IH_ERR_IO;
}

static int key_of(const struct store_s3_job *job, const char *name, char *key, size_t keysz)
{
	int n = snprintf(key, keysz, "%s/%s", job->dir, name);
	return n > 0 && (size_t)n < keysz ? IH_OK : IH_ERR_LIMIT;
}

int store_s3_job_begin(struct store_s3 *st, const char *id, time_t now, struct store_s3_job **out)
{
	(void)now;
	char name[STORE_NAME_MAX], key[16 + STORE_NAME_MAX];
	int mapped = store_safe_name(id, name, sizeof name);
	st->error[0] = '\0';
	struct store_s3_job *job = calloc(1, sizeof *job);
	if (job == NULL)
		return IH_ERR_NOMEM;
	job->st = st;
	snprintf(job->dir, sizeof job->dir, "jobs/%s", name);
	snprintf(key, sizeof key, "%s/id", job->dir);
	/*
	 * The id object is created once, by whichever receiver comes first; it records
	 * the id so that a mapped name is never shared by two ids (the name's hash
	 * makes that impossible; this makes it checked).
	 */
	size_t idlen = strlen(id);
	/*
	 * Look before creating: radosgw's 412 answer comes about 40 ms late (its error
	 * document goes out in a second segment that waits for a delayed ACK), a HEAD
	 * answer does not, and most deliveries of a known job are retries.
	 */
	int rc = s3_head(st->s3, key, &st->reply);
	if (rc == IH_OK && st->reply.status == 404) {
		rc = s3_put(st->s3, key, id, idlen, S3_CREATE_ONLY, &st->reply);
		if (rc == IH_OK && s3_ok(&st->reply))
			job->is_new = 1;
		else if (rc == IH_OK && st->reply.status == 412)
			st->reply.status = 200;   /* created by another receiver just now */
	}
	if (rc != IH_OK || !s3_ok(&st->reply)) {
		rc = failed(st, rc);
		goto fail;
	}
	if (!job->is_new && mapped) {
		rc = s3_get(st->s3, key, STORE_NAME_MAX + 1024, &st->reply);
		if (rc != IH_OK || !s3_ok(&st->reply)) {
			rc = failed(st, rc);
			goto fail;
		}
		if (st->reply.body.len != idlen || memcmp(st->reply.body.data, id, idlen) != 0) {
			snprintf(st->error, sizeof st->error, "%s records another id", key);
			rc = IH_ERR_BAD_ID;
			goto fail;
		}
	}
	*out = job;
	return IH_OK;
fail:
	store_s3_job_end(job);
	return rc;
}

int store_s3_job_is_new(const struct store_s3_job *job)
{
	return job->is_new;
}

const char *store_s3_job_dir(const struct store_s3_job *job)
{
	return job->dir;
}

int store_s3_job_exists(struct store_s3_job *job, const char *name)
{
	char key[2 * STORE_NAME_MAX + 16];
	struct store_s3 *st = job->st;
	int rc = key_of(job, name, key, sizeof key);
	if (rc != IH_OK)
		return rc;
	/* A new job holds nothing yet: no request needed. */
	if (job->is_new)
		return 0;
	rc = s3_head(st->s3, key, &st->reply);
	if (rc == IH_OK && s3_ok(&st->reply))
		return 1;
	if (rc == IH_OK && st->reply.status == 404)
		return 0;
	return failed(st, rc);
}

int store_s3_job_write(struct store_s3_job *job, const char *name, const void *data, size_t len)
{
	char key[2 * STORE_NAME_MAX + 16];
	struct store_s3 *st = job->st;
	int rc = key_of(job, name, key, sizeof key);
	if (rc != IH_OK)
		return rc;
	rc = s3_put(st->s3, key, data, len, 0, &st->reply);
	if (rc != IH_OK || !s3_ok(&st->reply))
		return failed(st, rc);
	/*
	 * The JSON files (job.json) are kept: the commit's record is a copy of one. An
	 * image is not copied; a commit naming something not kept reads it back.
	 */
	free(job->last_data);
	job->last_data = NULL;
	job->last_name[0] = '\0';
	size_t n = strlen(name);
	if (n > 5 && strcmp(name + n - 5, ".json") == 0 && len <= MAX_SMALL_OBJECT) {
		if ((job->last_data = malloc(len + 1)) == NULL)
			return IH_ERR_NOMEM;
		memcpy(job->last_data, data, len);
		job->last_data[len] = '\0';
		job->last_len = len;
		snprintf(job->last_name, sizeof job->last_name, "%s", name);
	}
	return IH_OK;
}

int store_s3_job_read(struct store_s3_job *job, const char *name, char **data, size_t *len)
{
	char key[2 * STORE_NAME_MAX + 16];
	struct store_s3 *st = job->st;
	int rc = key_of(job, name, key, sizeof key);
	if (rc != IH_OK)
		return rc;
	rc = s3_get(st->s3, key, MAX_SMALL_OBJECT, &st->reply);
	if (rc != IH_OK || !s3_ok(&st->reply))
		return failed(st, rc);
	/* The reply's buffer becomes the caller's; the next request starts a new one. */
	*data = st->reply.body.data ? st->reply.body.data : strdup("");
	*len = st->reply.body.len;
	memset(&st->reply.body, 0, sizeof st->reply.body);
	return *data != NULL ? IH_OK : IH_ERR_NOMEM;
}

int store_s3_job_commit(struct store_s3_job *job, const char *record, const char *same_as)
{
	char key[2 * STORE_NAME_MAX + 16];
	struct store_s3 *st = job->st;
	if (same_as == NULL)
		return IH_ERR_IO;
	if (strcmp(job->last_name, same_as) != 0 || job->last_data == NULL) {
		/* Not kept (not the last JSON written): the store has it, acknowledged. */
		free(job->last_data);
		job->last_data = NULL;
		job->last_name[0] = '\0';
		int rc = store_s3_job_read(job, same_as, &job->last_data, &job->last_len);
		if (rc != IH_OK)
			return rc;
		snprintf(job->last_name, sizeof job->last_name, "%s", same_as);
	}
	int rc = key_of(job, record, key, sizeof key);
	if (rc != IH_OK)
		return rc;
	/*
	 * Every PUT before this one was acknowledged, so the record never names an
	 * object the store does not hold. If-None-Match: * makes exactly one delivery
	 * of this record the one that stored it, on whichever host it ran.
	 */
	rc = s3_put(st->s3, key, job->last_data, job->last_len, S3_CREATE_ONLY, &st->reply);
	if (rc == IH_OK && s3_ok(&st->reply))
		return IH_OK;
	if (rc == IH_OK && st->reply.status == 412)
		return STORE_S3_LOST;
	return failed(st, rc);
}

void store_s3_job_end(struct store_s3_job *job)
{
	if (job == NULL)
		return;
	free(job->last_data);
	free(job);
}

int store_s3_keep_rejected(struct store_s3 *st, time_t now, const char *ext, const void *data,
			   size_t len, char *rel, size_t relsz)
{
	struct tm tm;
	char when[32], key[256];
	if (gmtime_r(&now, &tm) == NULL || strftime(when, sizeof when, "%Y/%m/%d/%H%M%S", &tm) == 0)
		snprintf(when, sizeof when, "0000/00/00/000000");
	snprintf(key, sizeof key, "rejected/%s-%s-%ld-%lu.%s", when, st->host, (long)getpid(),
		 st->counter++, ext);
	/* Create-only: a name already taken is never overwritten (it cannot be, but check). */
	int rc = s3_put(st->s3, key, data, len, S3_CREATE_ONLY, &st->reply);
	if (rc != IH_OK || !s3_ok(&st->reply))
		return failed(st, rc);
	snprintf(rel, relsz, "%s", key);
	return IH_OK;
}
