/* store_s3.h - the job store in an S3-compatible bucket: store.h's operations, for store.c to call. */
#ifndef IH_STORE_S3_H
#define IH_STORE_S3_H

#include <stddef.h>
#include <time.h>

#include "s3.h"

struct store_s3;
struct store_s3_job;

/*
 * Layout under the configured prefix, one job per id, no local state:
 *   jobs/<name>/id                      the job's id and first receipt (created once)
 *   jobs/<name>/0.png ... job.json      the delivery's files, each one PUT
 *   jobs/<name>/delivery-<status>.json  the delivery record: the commit, created
 *                                       with If-None-Match: * and written last
 *   rejected/YYYY/MM/DD/<time>-<host>-<pid>-<n>.<ext>
 * A reader takes a job, and a file of it, as stored only once a record names it.
 */

/* Opens the bucket described by c (copied); returns IH_OK or an ih_err; free with store_s3_close(). */
int store_s3_open(const struct s3_config *c, struct store_s3 **out);

/* Closes the client; NULL is a no-op. */
void store_s3_close(struct store_s3 *st);

/* What the last failed request said ("PUT jobs/x/0.png: HTTP 403 AccessDenied"), or "". */
const char *store_s3_error(const struct store_s3 *st);

/*
 * Begins a delivery of job id: creates jobs/<name>/id with If-None-Match: * (new
 * job) or finds it (existing job; IH_ERR_BAD_ID when it records another id). No
 * lock: receivers on other hosts cannot share one; the conditional record at
 * commit decides. id holds no secret (store_job_begin() passes an id that holds
 * one as its key). Returns IH_OK or an ih_err
 * (IH_ERR_IO when the store failed or timed out); the caller ends it with
 * store_s3_job_end().
 */
int store_s3_job_begin(struct store_s3 *st, const char *id, time_t now,
		       struct store_s3_job **out);

/* 1 when this delivery created the job, else 0. */
int store_s3_job_is_new(const struct store_s3_job *job);

/* "jobs/<name>", owned by job. */
const char *store_s3_job_dir(const struct store_s3_job *job);

/* 1 when the job holds an object of that name (HEAD 200), 0 when not (404), or an ih_err. */
int store_s3_job_exists(struct store_s3_job *job, const char *name);

/*
 * PUTs one file of the delivery, integrity checked by the store (Content-MD5 and
 * the signed SHA-256). A later PUT of the same name replaces it whole. Keeps a
 * copy of the last .json file, which a commit names as same_as. Returns IH_OK or an ih_err.
 */
int store_s3_job_write(struct store_s3_job *job, const char *name, const void *data, size_t len);

/* GETs a whole small object of the job into a malloc'd NUL-terminated buffer. */
int store_s3_job_read(struct store_s3_job *job, const char *name, char **data, size_t *len);

/*
 * Commits: creates record with the bytes written as same_as (read back from the
 * store when it was not the last .json written), with If-None-Match: *,
 * after every other PUT of the delivery was acknowledged. Returns IH_OK when this
 * delivery created it, STORE_S3_LOST (1) when another receiver's delivery of the
 * same record came first (412: this one is a duplicate), or an ih_err.
 */
int store_s3_job_commit(struct store_s3_job *job, const char *record, const char *same_as);
#define STORE_S3_LOST 1

/* Frees the job; NULL is a no-op. Objects written without a commit stay, unreferenced. */
void store_s3_job_end(struct store_s3_job *job);

/* PUTs a body that could not be understood as rejected/...; writes its key into rel. */
int store_s3_keep_rejected(struct store_s3 *st, time_t now, const char *ext, const void *data,
			   size_t len, char *rel, size_t relsz);

#endif
