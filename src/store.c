/*
 * store.c - the job store on a local file system: durable writes under the output
 * root, relative to its directory descriptor.
 *
 * A delivery writes every file into a hidden stage folder beside the job,
 * jobs/YYYY/MM/DD/.stage-<name>, starts writeback of each as it is written, and at
 * the commit waits for all of them (fdatasync each; the waits overlap because
 * every file's writeback is already under way). A new job's stage then becomes
 * the job folder with one rename, after an fsync of the stage and before one
 * fsync of the date folder: the job appears whole or not at all. A later delivery
 * of an existing job moves its files from the stage into the folder, fsyncs it,
 * and only then links the delivery record (the commit point) and fsyncs again.
 * docs/storage.md says why this order is crash-safe on ext4, xfs and btrfs.
 */
#include "ih_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "ih_error.h"
#include "store.h"
#include "store_fs.h"
#include "store_s3.h"

#define MAX_SMALL_FILE (64 * 1024 * 1024)

_Static_assert(STORE_LOST == STORE_S3_LOST, "store_s3.c answers for store.c");
#define ID_FILE ".id"               /* a mapped id's exact bytes, in its job folder */
#define SHARDS_MARK ".shards"       /* in .ids/: all 256 shard folders made, then .ids synced */
#define N_SHARDS 256
#define MAX_OPEN_STAGED 64          /* files kept open for the commit's sync; more are synced at once */

struct store {
	struct store_s3 *s3;      /* set: every operation below goes to the bucket instead */
	int rootfd;
	int jobsfd;
	int rejectedfd;
	int idsfd;
	unsigned long counter;   /* makes temporary and rejected names unique in this process */
	/* The date folder this process last made durable (its entry and its parents'). */
	char day[16];
	int dayfd;
	/* Index shard folders known durable: .ids/<xx>, one bit each (all set by make_shards()). */
	unsigned char shard_ok[N_SHARDS / 8];
};

struct staged {
	char *name;
	int fd;                   /* open until the commit syncs it, or -1 when already synced */
};

struct store_job {
	struct store_s3_job *s3;  /* set: a job of the S3 store */
	struct store *st;
	int dayfd;                /* jobs/YYYY/MM/DD */
	int dirfd;                /* the committed job folder, or -1 for a new job before its commit */
	int stagefd;              /* the stage, or -1 */
	int shardfd;              /* .ids/<xx> when this delivery created the index entry, else -1 */
	int is_new;
	int committed;
	int mapped;               /* the name is a digest: the id is recorded in ID_FILE */
	char *id;                 /* what ID_FILE records: the id, or its redacted form */
	size_t id_len;
	char date[16];            /* of the job's folder, as its index entry says */
	struct staged *files;
	size_t n_files, cap_files, n_open;
	char name[STORE_NAME_MAX];
	char stage[STORE_NAME_MAX + sizeof STAGE_PREFIX];
	char dir[256];
};

static int fail_errno(void)
{
	return ih_err_from_errno(errno);
}

/* flock(LOCK_EX), retried on EINTR. */
static int lock_ex(int fd)
{
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/*
 * Makes the index shards .ids/00 .. .ids/ff once per output root, so that no
 * delivery creates one and waits for .ids to be synced. SHARDS_MARK is created
 * only after an fsync of .ids that followed the 256 mkdirs succeeded: a process
 * that finds the mark knows every shard's entry durable, whoever made it. Sets
 * every bit of shard_ok on success; on any failure (a full disk) it leaves them
 * clear and each shard is made and synced on first use, as open_shard() does for
 * one removed by hand. Never fails the store's opening.
 */
static void make_shards(struct store *st)
{
	struct stat sb;
	if (fstatat(st->idsfd, SHARDS_MARK, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode)) {
		memset(st->shard_ok, 0xff, sizeof st->shard_ok);
		return;
	}
	for (unsigned i = 0; i < N_SHARDS; i++) {
		char name[3] = { "0123456789abcdef"[i >> 4], "0123456789abcdef"[i & 15], '\0' };
		if (mkdirat(st->idsfd, name, 0750) != 0 && errno != EEXIST)
			return;
	}
	if (store_fsync(st->idsfd) != 0)
		return;
	/* This process synced them itself: the mark only spares the next processes. */
	memset(st->shard_ok, 0xff, sizeof st->shard_ok);
	int fd = openat(st->idsfd, SHARDS_MARK, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd >= 0)
		close(fd);
}

int store_open(const char *root, struct store **out)
{
	static const char *const subs[] = { "jobs", "rejected", ".ids" };
	struct store *st = calloc(1, sizeof *st);
	if (st == NULL)
		return IH_ERR_NOMEM;
	st->rootfd = st->jobsfd = st->rejectedfd = st->idsfd = st->dayfd = -1;
	int rc = store_mkdirs(root);
	/*
	 * The root's entry, then its three folders' entries: synced once per process,
	 * whoever made them (a process that made the root may have failed to sync it).
	 */
	if (rc == IH_OK)
		rc = store_sync_parent_of(root);
	if (rc != IH_OK)
		goto fail;
	st->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->rootfd < 0)
		goto fail_errno;
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (mkdirat(st->rootfd, subs[i], 0750) != 0 && errno != EEXIST)
			goto fail_errno;
	if (store_fsync(st->rootfd) != 0 ||
	    (st->jobsfd = store_open_dirs(st->rootfd, "jobs", 0, 0)) < 0 ||
	    (st->rejectedfd = store_open_dirs(st->rootfd, "rejected", 0, 0)) < 0 ||
	    (st->idsfd = store_open_dirs(st->rootfd, ".ids", 0, 0)) < 0)
		goto fail_errno;
	/* Opening is not enough: we must be able to create files here. */
	if (faccessat(st->rootfd, "jobs", W_OK | X_OK, AT_EACCESS) != 0)
		goto fail_errno;
	make_shards(st);
	store_sweep(st->idsfd, st->jobsfd, st->rejectedfd, time(NULL));
	*out = st;
	return IH_OK;
fail_errno:
	rc = fail_errno();
fail:
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_s3_close(st->s3);
	int fds[] = { st->rootfd, st->jobsfd, st->rejectedfd, st->idsfd, st->dayfd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(st);
}

/* True when text is a YYYY/MM/DD date, the only thing an index entry may say. */
static int valid_date(const char *d, size_t n)
{
	static const char shape[] = "0000/00/00";
	if (n != sizeof shape - 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == '/' ? d[i] != '/' : (d[i] < '0' || d[i] > '9'))
			return 0;
	return 1;
}

/*
 * Opens .ids/<shard>; one not known durable (make_shards() failed, or it was
 * removed by hand since) is created if missing and its entry in .ids synced.
 */
static int open_shard(struct store *st, const char *shard, unsigned idx)
{
	unsigned char bit = (unsigned char)(1u << (idx % 8));
	if (st->shard_ok[idx / 8] & bit) {
		int fd = store_open_dirs(st->idsfd, shard, 0, 0);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		/* Removed since (by hand): made again, and synced, below. */
		st->shard_ok[idx / 8] &= (unsigned char)~bit;
	}
	int fd = store_open_dirs(st->idsfd, shard, 1, 1);
	if (fd >= 0)
		st->shard_ok[idx / 8] |= bit;
	return fd;
}

/*
 * Looks up, or atomically claims, the date folder of a job. The index entry
 * .ids/<shard>/<name> is a symlink whose text is the date: symlinkat() creates it
 * or fails with EEXIST, so two processes receiving the same new id agree on one
 * folder. It is only ever read with readlinkat(), never followed. An entry found
 * is synced again (its creator's sync may have failed); an entry created here is
 * synced by the commit, before the job becomes visible: *shardfd is then set.
 */
static int job_date(struct store *st, const char *name, time_t now, char date[16], int *shardfd)
{
	char hex[DIGEST_HEX_LEN], shard[3];
	digest_sha256_hex(name, strlen(name), hex);
	shard[0] = hex[0];
	shard[1] = hex[1];
	shard[2] = '\0';
	unsigned idx = (unsigned)strtoul(shard, NULL, 16);
	int sfd = open_shard(st, shard, idx);
	if (sfd < 0)
		return fail_errno();
	int rc = IH_OK;
	for (int attempt = 0; attempt < 2; attempt++) {
		ssize_t n = readlinkat(sfd, name, date, 15);
		if (n >= 0) {
			date[n] = '\0';
			rc = !valid_date(date, (size_t)n) ? IH_ERR_IO :
			     store_fsync(sfd) == 0 ? IH_OK : fail_errno();
			goto out;
		}
		if (errno != ENOENT) {
			rc = fail_errno();
			goto out;
		}
		store_utc_date(now, date, 16, 0);
		if (symlinkat(date, sfd, name) == 0) {
			*shardfd = sfd;
			return IH_OK;
		}
		if (errno != EEXIST) {
			rc = fail_errno();
			goto out;
		}
		/* Another process claimed it first: read what it wrote. */
	}
	rc = IH_ERR_IO;
out:
	store_close_keep_errno(sfd);
	return rc;
}

/* Opens jobs/<date> creating it durably; the folder of today is kept open between jobs. */
static int open_day(struct store_job *job, const char *date)
{
	struct store *st = job->st;
	struct stat sb;
	/* A cached folder removed since (an operator pruning old days) is opened again. */
	if (st->dayfd < 0 || strcmp(st->day, date) != 0 || fstat(st->dayfd, &sb) != 0 ||
	    sb.st_nlink == 0) {
		int fd = store_open_dirs(st->jobsfd, date, 1, 1);
		if (fd < 0)
			return fail_errno();
		if (st->dayfd >= 0)
			close(st->dayfd);
		st->dayfd = fd;
		snprintf(st->day, sizeof st->day, "%s", date);
	}
	/* A copy: another job of this process may move the cache to another day. */
	job->dayfd = dup(st->dayfd);
	return job->dayfd >= 0 ? IH_OK : fail_errno();
}

/* 1 when the file name in dirfd holds exactly id[0..n), 0 when not, or an ih_err. */
static int file_holds(int dirfd, const char *name, const char *id, size_t n)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail_errno();
	struct stat sb;
	int same = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == n;
	char chunk[65536];
	size_t off = 0;
	while (same && off < n) {
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || (size_t)got > n - off || memcmp(chunk, id + off, (size_t)got) != 0)
			same = 0;
		else
			off += (size_t)got;
	}
	close(fd);
	return same;
}

/*
 * Takes the stage folder jobs/<date>/.stage-<name>: creates or opens it, locks it,
 * makes sure the lock is on the folder that still has that name (a holder may have
 * renamed it into place or removed it meanwhile), and empties it of anything a
 * killed process left. Returns the descriptor, or -1 with errno set (EAGAIN: look again).
 */
static int take_stage(struct store_job *job)
{
	if (mkdirat(job->dayfd, job->stage, 0750) != 0 && errno != EEXIST)
		return -1;
	int fd = openat(job->dayfd, job->stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			errno = EAGAIN;
		return -1;
	}
	struct stat held, named;
	if (lock_ex(fd) != 0 || fstat(fd, &held) != 0) {
		store_close_keep_errno(fd);
		return -1;
	}
	if (fstatat(job->dayfd, job->stage, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
	    named.st_ino != held.st_ino || named.st_dev != held.st_dev || held.st_nlink == 0) {
		close(fd);
		errno = EAGAIN;
		return -1;
	}
	if (store_clear_folder(fd) != 0) {
		store_close_keep_errno(fd);
		return -1;
	}
	return fd;
}

/* Empties and removes the stage this job holds (locked), then closes it. */
static void drop_stage(struct store_job *job)
{
	if (job->stagefd < 0)
		return;
	if (store_clear_folder(job->stagefd) == 0)
		(void)unlinkat(job->dayfd, job->stage, AT_REMOVEDIR);
	close(job->stagefd);
	job->stagefd = -1;
}

/* find_or_stage() and job_is_live(): what was found is gone, begin again from the index. */
#define START_OVER 1
/* Times store_job_begin() begins again before it gives up: each needs a prune to interfere. */
#define MAX_START_OVER 4

/*
 * Finds the committed folder or takes the stage of a new job; loops while others
 * move things. Returns IH_OK, START_OVER when the date folder was removed
 * meanwhile (a prune emptied it), or an ih_err.
 */
static int find_or_stage(struct store_job *job)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		int fd = openat(job->dayfd, job->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			/* Serialises deliveries of one job across processes; released by close(). */
			if (lock_ex(fd) != 0) {
				store_close_keep_errno(fd);
				return fail_errno();
			}
			job->dirfd = fd;
			return IH_OK;
		}
		if (errno != ENOENT)
			return fail_errno();
		int sfd = take_stage(job);
		if (sfd < 0) {
			if (errno == EAGAIN)
				continue;
			/* mkdirat() in a date folder that is no longer there. */
			if (errno == ENOENT)
				return START_OVER;
			return fail_errno();
		}
		job->stagefd = sfd;
		/* Committed while we waited for the stage: it is an existing job after all. */
		struct stat sb;
		if (fstatat(job->dayfd, job->name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			drop_stage(job);
			continue;
		}
		if (errno != ENOENT)
			return fail_errno();
		job->is_new = 1;
		return IH_OK;
	}
	return IH_ERR_IO;
}

/*
 * After the lock: whether what this job holds is still the job of its id. A prune
 * takes the index entry out and renames the folder away under the folder's lock,
 * so a delivery that found both before and locked after would write into a folder
 * being deleted (or kept hidden until the next prune deletes it). Live means: the
 * index entry still names this date, the date folder is still there, and a
 * committed folder is still linked and still the one under the job's name.
 * Returns 1, 0 (START_OVER), or an ih_err.
 */
static int job_is_live(struct store_job *job)
{
	char hex[DIGEST_HEX_LEN], shard[3], date[16];
	digest_sha256_hex(job->name, strlen(job->name), hex);
	shard[0] = hex[0];
	shard[1] = hex[1];
	shard[2] = '\0';
	int sfd = openat(job->st->idsfd, shard, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return errno == ENOENT ? 0 : fail_errno();
	ssize_t n = readlinkat(sfd, job->name, date, sizeof date - 1);
	int e = errno;
	close(sfd);
	if (n < 0)
		return e == ENOENT ? 0 : ih_err_from_errno(e);
	date[n] = '\0';
	if (strcmp(date, job->date) != 0)
		return 0;
	struct stat day, held, named;
	if (fstat(job->dayfd, &day) != 0)
		return fail_errno();
	if (day.st_nlink == 0)
		return 0;
	if (job->dirfd < 0)
		return 1;   /* the stage: take_stage() checked it is the one under its name */
	if (fstat(job->dirfd, &held) != 0)
		return fail_errno();
	if (fstatat(job->dayfd, job->name, &named, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : fail_errno();
	return held.st_nlink > 0 && named.st_ino == held.st_ino && named.st_dev == held.st_dev;
}

/* Lets go of what one attempt of store_job_begin() found, to begin again. */
static void job_release(struct store_job *job)
{
	drop_stage(job);
	int *fds[] = { &job->dirfd, &job->shardfd, &job->dayfd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	job->is_new = 0;
}

/*
 * One attempt: the date from the index (claiming it for a new id), the date
 * folder, the job's folder or stage under its lock, and the check that they are
 * still the job's. Returns IH_OK, START_OVER, or an ih_err.
 */
static int job_find(struct store_job *job, time_t now)
{
	int rc = job_date(job->st, job->name, now, job->date, &job->shardfd);
	if (rc != IH_OK)
		return rc;
	snprintf(job->dir, sizeof job->dir, "jobs/%s/%s", job->date, job->name);
	rc = open_day(job, job->date);
	if (rc == IH_OK)
		rc = find_or_stage(job);
	if (rc != IH_OK)
		return rc;
	rc = job_is_live(job);
	return rc == 1 ? IH_OK : rc == 0 ? START_OVER : rc;
}

int store_job_begin(struct store *st, const char *id, const char *shown, time_t now,
		    struct store_job **out)
{
	/*
	 * An id holding a secret is known from here on by its key: the redacted id and
	 * the SHA-256 of the real one. The name, the recorded id and the fetch queue's
	 * entry are made from the key, so that no part of the secret is written and a
	 * later reader (imagehook fetch) can find the job again without it.
	 */
	char *key = NULL;
	if (shown != NULL && strcmp(shown, id) != 0) {
		char hex[DIGEST_HEX_LEN];
		size_t kn = strlen(shown) + 2 + sizeof hex;
		digest_sha256_hex(id, strlen(id), hex);
		if ((key = malloc(kn)) == NULL)
			return IH_ERR_NOMEM;
		snprintf(key, kn, "%s~%s", shown, hex);
		id = key;
	}
	struct store_job *job = calloc(1, sizeof *job);
	if (job == NULL) {
		free(key);
		return IH_ERR_NOMEM;
	}
	job->st = st;
	if (st->s3 != NULL) {
		int rc = store_s3_job_begin(st->s3, id, now, &job->s3);
		free(key);
		if (rc != IH_OK) {
			free(job);
			return rc;
		}
		*out = job;
		return IH_OK;
	}
	job->dayfd = job->dirfd = job->stagefd = job->shardfd = -1;
	/* An id holding a secret is recorded, like its name is made, as its key. */
	job->id_len = strlen(id);
	job->id = strdup(id);
	if (job->id == NULL) {
		free(key);
		free(job);
		return IH_ERR_NOMEM;
	}
	job->mapped = store_safe_name(id, job->name, sizeof job->name);
	free(key);
	snprintf(job->stage, sizeof job->stage, STAGE_PREFIX "%s", job->name);
	int rc;
	for (int attempt = 0;; attempt++) {
		rc = job_find(job, now);
		if (rc != START_OVER)
			break;
		/* Pruned between our lookup and our lock: from the index again, as a new job. */
		job_release(job);
		if (attempt == MAX_START_OVER) {
			rc = IH_ERR_IO;
			break;
		}
	}
	if (rc != IH_OK)
		goto fail;
	if (!job->is_new) {
		/*
		 * Before anything is said about an existing job (above all "duplicate"),
		 * its entry and its files' entries are synced again: the delivery that
		 * made them may have answered 503 because exactly these syncs failed.
		 */
		if (store_fsync(job->dayfd) != 0 || store_fsync(job->dirfd) != 0 ||
		    /* An index entry made again here (it was lost) points at it from now on. */
		    (job->shardfd >= 0 && store_fsync(job->shardfd) != 0)) {
			rc = fail_errno();
			goto fail;
		}
		/* A digest name is trusted only with the id it records: a collision is never merged. */
		if (job->mapped) {
			rc = file_holds(job->dirfd, ID_FILE, job->id, job->id_len);
			if (rc == 0)
				rc = IH_ERR_BAD_ID;
			else if (rc == 1)
				rc = IH_OK;
			if (rc != IH_OK)
				goto fail;
		}
	}
	*out = job;
	return IH_OK;
fail:
	store_job_end(job);
	return rc;
}

int store_job_is_new(const struct store_job *job)
{
	if (job->s3 != NULL)
		return store_s3_job_is_new(job->s3);
	return job->is_new;
}

const char *store_job_key(const struct store_job *job)
{
	if (job->s3 != NULL)
		return NULL;
	return job->id;
}

const char *store_job_dir(const struct store_job *job)
{
	if (job->s3 != NULL)
		return store_s3_job_dir(job->s3);
	return job->dir;
}

int store_job_exists(struct store_job *job, const char *name)
{
	if (job->s3 != NULL)
		return store_s3_job_exists(job->s3, name);
	if (job->dirfd < 0)
		return 0;
	struct stat sb;
	if (fstatat(job->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT ? 0 : fail_errno();
}

/* temp file -> write -> fsync -> rename; the caller fsyncs dirfd afterwards. */
static int write_durable(struct store *st, int dirfd, const char *name, const void *data,
			 size_t len)
{
	char tmp[320];
	snprintf(tmp, sizeof tmp, ".tmp.%ld.%lu.%.200s", (long)getpid(), st->counter++, name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail_errno();
	if (store_write_all(fd, data, len) != 0 || store_fsync(fd) != 0) {
		int rc = fail_errno();
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	if (close(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0) {
		int rc = fail_errno();
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	return IH_OK;
}

/* Waits for one staged file's data (its writeback already started) and closes it. */
static int sync_staged(struct store_job *job, struct staged *f)
{
	if (f->fd < 0)
		return IH_OK;
	int rc = IH_OK;
	while (fdatasync(f->fd) != 0) {
		if (errno != EINTR) {
			rc = fail_errno();
			break;
		}
	}
	if (close(f->fd) != 0 && rc == IH_OK)
		rc = fail_errno();
	f->fd = -1;
	job->n_open--;
	return rc;
}

int store_job_write(struct store_job *job, const char *name, const void *data, size_t len)
{
	if (job->s3 != NULL)
		return store_s3_job_write(job->s3, name, data, len);
	if (job->committed || strchr(name, '/') != NULL || name[0] == '\0' ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return IH_ERR_IO;
	if (job->stagefd < 0) {
		/* A later delivery of an existing job: we hold its lock, so the stage is ours. */
		int sfd;
		do {
			sfd = take_stage(job);
		} while (sfd < 0 && errno == EAGAIN);
		if (sfd < 0)
			return fail_errno();
		job->stagefd = sfd;
	}
	if (job->n_files == job->cap_files) {
		size_t cap = job->cap_files ? job->cap_files * 2 : 8;
		struct staged *f = realloc(job->files, cap * sizeof *f);
		if (f == NULL)
			return IH_ERR_NOMEM;
		job->files = f;
		job->cap_files = cap;
	}
	/* Written twice in one delivery: the later write wins (the stage held nothing else). */
	for (size_t i = 0; i < job->n_files; i++) {
		if (strcmp(job->files[i].name, name) == 0) {
			if (job->files[i].fd >= 0) {
				close(job->files[i].fd);
				job->n_open--;
			}
			free(job->files[i].name);
			memmove(&job->files[i], &job->files[i + 1],
				(job->n_files - i - 1) * sizeof job->files[0]);
			job->n_files--;
			if (unlinkat(job->stagefd, name, 0) != 0 && errno != ENOENT)
				return fail_errno();
			break;
		}
	}
	struct staged f = { strdup(name), -1 };
	if (f.name == NULL)
		return IH_ERR_NOMEM;
	/* O_EXCL: always a new file of our own, never one a hard link planted. */
	f.fd = openat(job->stagefd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (f.fd < 0) {
		free(f.name);
		return fail_errno();
	}
	job->n_open++;
	int rc = IH_OK;
	if (store_write_all(f.fd, data, len) != 0)
		rc = fail_errno();
	/*
	 * Start writeback now and wait at the commit: every file's I/O is under way
	 * before the first wait, so the waits overlap. Only a hint (an error here
	 * shows again in the fdatasync that decides).
	 */
	if (rc == IH_OK && len > 0)
		(void)sync_file_range(f.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	job->files[job->n_files++] = f;
	if (rc == IH_OK && job->n_open > MAX_OPEN_STAGED)
		rc = sync_staged(job, &job->files[job->n_files - 1]);
	return rc;
}

int store_job_read(struct store_job *job, const char *name, char **data, size_t *len)
{
	if (job->s3 != NULL)
		return store_s3_job_read(job->s3, name, data, len);
	if (job->dirfd < 0)
		return IH_ERR_IO;
	int fd = openat(job->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail_errno();
	struct buf b = { 0 };
	int rc = buf_read_fd(&b, fd, MAX_SMALL_FILE);
	close(fd);
	if (rc != IH_OK) {
		buf_free(&b);
		return rc;
	}
	*data = b.data;
	*len = b.len;
	return IH_OK;
}

/* A new job: the record inside the stage, the stage's entries and the index entry synced. */
static int stage_durable(struct store_job *job, const char *record, const char *same_as)
{
	if (linkat(job->stagefd, same_as, job->stagefd, record, 0) != 0)
		return fail_errno();
	if (store_fsync(job->stagefd) != 0)
		return fail_errno();
	/* The index entry must be durable before the folder it points to can be. */
	if (job->shardfd >= 0 && store_fsync(job->shardfd) != 0)
		return fail_errno();
	return IH_OK;
}

/* A new job: the stage, whole and durable, becomes the job folder with one rename. */
static int commit_new(struct store_job *job)
{
	if (renameat(job->dayfd, job->stage, job->dayfd, job->name) != 0)
		return fail_errno();
	/* The descriptor (and its lock) is now the job folder's. */
	job->dirfd = job->stagefd;
	job->stagefd = -1;
	return store_fsync(job->dayfd) == 0 ? IH_OK : fail_errno();
}

/* A later delivery: files moved into place and synced, then the record, synced. */
static int commit_existing(struct store_job *job, const char *record, const char *same_as)
{
	for (size_t i = 0; i < job->n_files; i++)
		if (renameat(job->stagefd, job->files[i].name, job->dirfd, job->files[i].name) != 0)
			return fail_errno();
	if (store_fsync(job->dirfd) != 0)
		return fail_errno();
	if (record == NULL) {
		drop_stage(job);
		return IH_OK;
	}
	if (linkat(job->dirfd, same_as, job->dirfd, record, 0) != 0) {
		/* A record already there (the handler never asks for that) is replaced atomically. */
		char tmp[STORE_NAME_MAX + 64];
		if (errno != EEXIST)
			return fail_errno();
		snprintf(tmp, sizeof tmp, ".tmp.%ld.%lu.%s", (long)getpid(), job->st->counter++, record);
		if (linkat(job->dirfd, same_as, job->dirfd, tmp, 0) != 0)
			return fail_errno();
		if (renameat(job->dirfd, tmp, job->dirfd, record) != 0) {
			int rc = fail_errno();
			(void)unlinkat(job->dirfd, tmp, 0);
			return rc;
		}
	}
	if (store_fsync(job->dirfd) != 0)
		return fail_errno();
	drop_stage(job);
	return IH_OK;
}

int store_job_commit(struct store_job *job, const char *record, const char *same_as)
{
	if (job->s3 != NULL)
		return record != NULL ? store_s3_job_commit(job->s3, record, same_as) : IH_ERR_IO;
	if (job->committed || job->stagefd < 0 || (record == NULL && job->is_new))
		return IH_ERR_IO;
	int rc = IH_OK;
	/* A digest name's folder records the id it belongs to. */
	if (job->is_new && job->mapped)
		rc = store_job_write(job, ID_FILE, job->id, job->id_len);
	/*
	 * A new job's stage is synced first: on ext4 (data=ordered) that one journal
	 * commit carries every file's data too, so the fdatasyncs after it mostly
	 * find nothing left to wait for; the order among these syncs is free, as all
	 * of them complete before the rename that makes anything visible.
	 */
	if (rc == IH_OK && job->is_new)
		rc = stage_durable(job, record, same_as);
	for (size_t i = 0; rc == IH_OK && i < job->n_files; i++)
		rc = sync_staged(job, &job->files[i]);
	if (rc == IH_OK)
		rc = job->is_new ? commit_new(job) : commit_existing(job, record, same_as);
	if (rc == IH_OK)
		job->committed = 1;
	return rc;
}

void store_job_end(struct store_job *job)
{
	if (job == NULL)
		return;
	if (job->s3 != NULL) {
		store_s3_job_end(job->s3);
		free(job);
		return;
	}
	for (size_t i = 0; i < job->n_files; i++) {
		if (job->files[i].fd >= 0)
			close(job->files[i].fd);
		free(job->files[i].name);
	}
	free(job->files);
	/* Whatever was not committed goes: nothing of it was ever visible. */
	drop_stage(job);
	if (job->dirfd >= 0)
		close(job->dirfd);
	if (job->shardfd >= 0)
		close(job->shardfd);
	if (job->dayfd >= 0)
		close(job->dayfd);
	free(job->id);
	free(job);
}

int store_keep_rejected(struct store *st, time_t now, const char *ext, const void *data,
			size_t len, char *rel, size_t relsz)
{
	if (st->s3 != NULL)
		return store_s3_keep_rejected(st->s3, now, ext, data, len, rel, relsz);
	char date[16], hms[16], name[96];
	store_utc_date(now, date, sizeof date, 0);
	store_utc_date(now, hms, sizeof hms, 1);
	int fd = store_open_dirs(st->rejectedfd, date, 1, 1);
	if (fd < 0)
		return fail_errno();
	snprintf(name, sizeof name, "%s-%ld-%lu.%s", hms, (long)getpid(), st->counter, ext);
	int rc = write_durable(st, fd, name, data, len);
	if (rc == IH_OK && store_fsync(fd) != 0)
		rc = fail_errno();
	close(fd);
	if (rc == IH_OK)
		snprintf(rel, relsz, "rejected/%s/%s", date, name);
	return rc;
}

int store_open_s3(const struct s3_config *c, struct store **out)
{
	struct store *st = calloc(1, sizeof *st);
	if (st == NULL)
		return IH_ERR_NOMEM;
	st->rootfd = st->jobsfd = st->rejectedfd = st->idsfd = st->dayfd = -1;
	int rc = store_s3_open(c, &st->s3);
	if (rc != IH_OK) {
		free(st);
		return rc;
	}
	*out = st;
	return IH_OK;
}

const char *store_error(const struct store *st)
{
	return st != NULL && st->s3 != NULL ? store_s3_error(st->s3) : "";
}
