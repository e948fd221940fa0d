/* store.h - durable files under the output root: job folders, rejected bodies. */
#ifndef IH_STORE_H
#define IH_STORE_H

#include <stddef.h>
#include <time.h>

struct store;
struct store_job;

/*
 * Opens (creating if missing) the output root and its jobs/ and rejected/ folders.
 * Returns IH_OK or an ih_err mapped from errno; the caller frees *out with store_close().
 */
int store_open(const char *root, struct store **out);

/*
 * Opens the folder rel below base one component at a time with O_NOFOLLOW, so a
 * planted symlink can never lead outside; creates missing components when create
 * is set, fsyncing the parent of each new one when durable is set. Returns a new
 * descriptor the caller closes, or -1 with errno set.
 */
int store_open_dirs(int base, const char *rel, int create, int durable);

/* Writes all of data to fd, retrying on EINTR and short writes. Returns 0, or -1 with errno set. */
int store_write_all(int fd, const void *data, size_t len);

/* Closes the root; store_close(NULL) is a no-op. */
void store_close(struct store *st);

/*
 * Maps an untrusted job id to a folder name: ids of 1..128 characters from
 * [A-Za-z0-9._-] not starting with '.' are kept as they are; any other id becomes
 * its safe characters (others as '_', at most 64) + '~' + 16 hex digits of its
 * SHA-256, so distinct ids never share a folder. Writes at most outsz bytes with
 * the NUL; outsz must be at least 160. Pure. Returns 1 if the id was mapped, 0 if kept.
 */
int store_safe_name(const char *id, char *out, size_t outsz);

/*
 * Finds the job's folder (jobs/YYYY/MM/DD/<name>, the date of first receipt) or
 * creates it dated now (UTC), and takes an exclusive lock on it that other
 * imagehook processes wait for. Returns IH_OK or an ih_err; the caller ends it with
 * store_job_end(). name must come from store_safe_name().
 */
int store_job_begin(struct store *st, const char *name, time_t now, struct store_job **out);

/* The job folder relative to the output root, e.g. "jobs/2026/11/27/sync-1"; owned by job. */
const char *store_job_dir(const struct store_job *job);

/* 1 when the job folder already holds a file of that name, 0 when not, or an ih_err. */
int store_job_exists(struct store_job *job, const char *name);

/*
 * Writes a file into the job folder durably: temporary name, write, fsync, rename
 * over name. The folder itself is fsync'ed by store_job_commit(). Returns IH_OK or
 * an ih_err; on failure nothing is left under name or the temporary name.
 */
int store_job_write(struct store_job *job, const char *name, const void *data, size_t len);

/*
 * Makes name `to` in the job folder a second name of file `from` (a hard link,
 * replacing `to` atomically): job.json costs no second write and fsync. Durable
 * after store_job_commit(). Returns IH_OK or an ih_err.
 */
int store_job_link(struct store_job *job, const char *from, const char *to);

/* Reads a whole small file of the job folder into a malloc'd buffer (NUL-terminated). */
int store_job_read(struct store_job *job, const char *name, char **data, size_t *len);

/* fsyncs the job folder so every rename so far is durable. Returns IH_OK or an ih_err. */
int store_job_commit(struct store_job *job);

/* Releases the lock and frees the job; store_job_end(NULL) is a no-op. */
void store_job_end(struct store_job *job);

/*
 * Keeps a body that could not be understood, whole and durably, as
 * rejected/YYYY/MM/DD/<time>-<pid>-<n>.<ext>; writes its path relative to the
 * root into rel (relsz bytes). Returns IH_OK or an ih_err.
 */
int store_keep_rejected(struct store *st, time_t now, const char *ext, const void *data,
			size_t len, char *rel, size_t relsz);

#endif
