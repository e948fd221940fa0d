/* store.h - durable files under the output root: job folders, rejected bodies. */
#ifndef IH_STORE_H
#define IH_STORE_H

#include <stddef.h>
#include <time.h>

struct store;
struct store_job;

/*
 * Opens (creating if missing) the output root and its jobs/ and rejected/ folders,
 * makes the 256 id-index shards once per root (durably, so no delivery waits for
 * one), and removes what killed processes left behind (hidden .tmp.* files and .stage-*
 * folders older than a day, in the folders of the last days; bounded work).
 * Returns IH_OK or an ih_err mapped from errno; the caller frees *out with store_close().
 */
int store_open(const char *root, struct store **out);

/*
 * File system helpers (also used by the gallery), not part of the job operations below.
 *
 * Opens the folder rel below base one component at a time with O_NOFOLLOW, so a
 * planted symlink can never lead outside; creates missing components when create
 * is set. When durable is set it fsyncs the parent of every component, new or
 * found: a component found may be one whose creator's sync failed. Returns a new
 * descriptor the caller closes, or -1 with errno set.
 */
int store_open_dirs(int base, const char *rel, int create, int durable);

/* Writes all of data to fd, retrying on EINTR and short writes. Returns 0, or -1 with errno set. */
int store_write_all(int fd, const void *data, size_t len);

struct s3_config;

/*
 * Opens the job store in an S3-compatible bucket instead of a folder (store_s3.h:
 * no local state, so receivers on several hosts can share it). Borrows c. Returns
 * IH_OK or an ih_err; the caller frees *out with store_close().
 */
int store_open_s3(const struct s3_config *c, struct store **out);

/* What the store's last failed request said, for the log line ("" when it has nothing to add). */
const char *store_error(const struct store *st);

/* Closes the root; store_close(NULL) is a no-op. */
void store_close(struct store *st);

/*
 * The job store. One backend-neutral set of operations (this file system store;
 * an S3 store implements the same): begin a delivery of a job under an exclusive
 * lock, ask what it already holds, write files, commit them all at once with the
 * delivery record last, end. Nothing written is visible before the commit, and a
 * commit makes the delivery's files visible whole or not at all.
 */

/* Longest name store_safe_name() and store_status_name() produce, with the NUL. */
#define STORE_NAME_MAX 160

/*
 * Maps an untrusted job id to its folder name, injectively: ids of 1..128
 * characters from [A-Za-z0-9._-] not starting with '.' are kept as they are; any
 * other id becomes its safe characters (others as '_', at most 64, never a leading
 * '.') + '~' + the 64 hex digits of its SHA-256. Kept names never hold '~', mapped
 * ones always do; the store also records a mapped id in its folder and never
 * reuses a folder that records another. An id that holds a secret is mapped from
 * its key (store_job_begin()), never from itself. outsz must be at least
 * STORE_NAME_MAX. Pure. Returns 1 if the id was mapped, 0 if kept.
 */
int store_safe_name(const char *id, char *out, size_t outsz);

/*
 * Maps a delivery status to the stem of its record and image names, injectively:
 * a status of 1..32 characters from [A-Z0-9_] (COMPLETED, FAILED, TIMED_OUT...)
 * becomes its lowercase ("completed": record delivery-completed.json); any other
 * status its safe characters (at most 16, others as '_') + '~' + the 64 hex digits
 * of its SHA-256 ("Completed" -> "Completed~<hex>"). shown as for
 * store_safe_name(): a status holding a secret is always mapped, readable part
 * from shown. outsz must be at least STORE_NAME_MAX. Pure. Returns 1 if the status
 * was mapped, 0 if only lowercased.
 */
int store_status_name(const char *status, const char *shown, char *out, size_t outsz);

/*
 * Begins a delivery of job id: finds the job (O(1) through the id index, in the
 * folder of its first receipt) or prepares a new one dated now (UTC), and takes an
 * exclusive lock on it that other imagehook processes wait for. A job pruned
 * between the lookup and the lock is looked up again (then it is a new job), so
 * a delivery never writes into a folder on its way out. An existing job's
 * folder is made durable again before anything is said about it (an earlier
 * delivery's sync may have failed). shown is the id redacted, or NULL when it
 * holds no secret; an id that holds one is known from then on by its key (the
 * redacted id, "~" and the SHA-256 of the id): the folder's name, the id it
 * records and store_job_key() are made from the key, never from the id. Borrows
 * id and shown. Returns IH_OK, IH_ERR_BAD_ID when the job's
 * folder records a different id (never reused), or another ih_err; the caller
 * ends it with store_job_end().
 */
int store_job_begin(struct store *st, const char *id, const char *shown, time_t now,
		    struct store_job **out);

/* 1 when the job was created by this delivery (nothing of it existed before), else 0. */
int store_job_is_new(const struct store_job *job);

/*
 * What finds this job again with store_job_begin(key, NULL, ...) and holds no
 * secret: the id, or an id's key (above); owned by job. NULL on the S3 store.
 */
const char *store_job_key(const struct store_job *job);

/* The job folder relative to the output root, e.g. "jobs/2026/11/27/sync-1"; owned by job. */
const char *store_job_dir(const struct store_job *job);

/* 1 when the committed job holds a file of that name, 0 when not, or an ih_err. */
int store_job_exists(struct store_job *job, const char *name);

/*
 * Writes a file of this delivery. It becomes visible (replacing a file of that
 * name) and durable only with store_job_commit(); until then nothing is seen
 * under name, and store_job_end() without a commit leaves nothing behind.
 * Returns IH_OK or an ih_err.
 */
int store_job_write(struct store_job *job, const char *name, const void *data, size_t len);

/* Reads a whole small committed file of the job into a malloc'd buffer (NUL-terminated). */
int store_job_read(struct store_job *job, const char *name, char **data, size_t *len);

/*
 * Commits the delivery: makes every file written since store_job_begin() durable,
 * then visible, and last makes record (the delivery record, the commit point that
 * store_job_exists() answers for) a copy of the written file same_as. For a new
 * job the whole folder appears at once; for an existing one the record appears
 * only after every other file is durable in place. Once it returns IH_OK all of it
 * survives a crash; on failure a later delivery still finds no record and stores
 * again. Returns IH_OK, STORE_LOST when another receiver created record first (S3,
 * where no lock spans hosts: this delivery is a duplicate), or an ih_err.
 */
#define STORE_LOST 1
int store_job_commit(struct store_job *job, const char *record, const char *same_as);
/*
 * (record NULL: commits an existing job's files in a folder store without a new
 * delivery record, for `imagehook fetch`'s updates; IH_ERR_IO for a new job or S3.)
 */

/* Releases the lock and frees the job, discarding what was not committed; NULL is a no-op. */
void store_job_end(struct store_job *job);

/*
 * Keeps a body that could not be understood, whole and durably, as
 * rejected/YYYY/MM/DD/<time>-<pid>-<n>.<ext>; writes its path relative to the
 * root into rel (relsz bytes). Returns IH_OK or an ih_err.
 */
int store_keep_rejected(struct store *st, time_t now, const char *ext, const void *data,
			size_t len, char *rel, size_t relsz);

#endif
