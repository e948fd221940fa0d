/* store.c - durable writes under the output root, relative to its directory descriptor. */
#include "ih_config.h"

#include <errno.h>
#include <fcntl.h>
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
#include "store_s3.h"

#define MAX_SMALL_FILE (64 * 1024 * 1024)

_Static_assert(STORE_LOST == STORE_S3_LOST, "store_s3.c answers for store.c");

struct store {
	struct store_s3 *s3;      /* set: every operation goes to the bucket instead */
	int rootfd;
	int jobsfd;
	int rejectedfd;
	int idsfd;
	unsigned long counter;   /* makes temporary and rejected names unique in this process */
};

struct store_job {
	struct store_s3_job *s3;
	int is_new;
	struct store *st;
	int dirfd;                /* also the lock: flock() on the folder itself */
	char dir[256];
};

static int fail_errno(void)
{
	return ih_err_from_errno(errno);
}

/* Closes fd keeping errno, as cleanup must not hide the error being reported. */
static void close_keep_errno(int fd)
{
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
}

int store_open_dirs(int base, const char *rel, int create, int durable)
{
	char comp[256];
	int fd = dup(base);
	if (fd < 0)
		return -1;
	const char *p = rel;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		if (n == 0 || n >= sizeof comp) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		if (create) {
			if (mkdirat(fd, comp, 0750) == 0) {
				/* The new entry is durable only once its parent is synced. */
				if (durable && fsync(fd) != 0) {
					close_keep_errno(fd);
					return -1;
				}
			} else if (errno != EEXIST) {
				close_keep_errno(fd);
				return -1;
			}
		}
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close_keep_errno(fd);
		if (next < 0)
			return -1;
		fd = next;
		p += n;
		if (*p == '/')
			p++;
	}
	return fd;
}

/* Creates an absolute or relative path and its parents as folders. */
static int mkdirs(const char *path)
{
	char *p = strdup(path);
	if (p == NULL)
		return IH_ERR_NOMEM;
	int rc = IH_OK;
	for (char *q = p + 1;; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char c = *q;
		*q = '\0';
		if (mkdir(p, 0750) != 0 && errno != EEXIST) {
			rc = fail_errno();
			break;
		}
		*q = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

int store_open(const char *root, struct store **out)
{
	struct store *st = calloc(1, sizeof *st);
	if (st == NULL)
		return IH_ERR_NOMEM;
	st->rootfd = st->jobsfd = st->rejectedfd = st->idsfd = -1;
	int rc = mkdirs(root);
	if (rc != IH_OK)
		goto fail;
	st->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->rootfd < 0 ||
	    (st->jobsfd = store_open_dirs(st->rootfd, "jobs", 1, 1)) < 0 ||
	    (st->rejectedfd = store_open_dirs(st->rootfd, "rejected", 1, 1)) < 0 ||
	    (st->idsfd = store_open_dirs(st->rootfd, ".ids", 1, 1)) < 0) {
		rc = fail_errno();
		goto fail;
	}
	/* Opening is not enough: we must be able to create files here. */
	if (faccessat(st->rootfd, "jobs", W_OK | X_OK, AT_EACCESS) != 0) {
		rc = fail_errno();
		goto fail;
	}
	*out = st;
	return IH_OK;
fail:
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_s3_close(st->s3);
	int fds[] = { st->rootfd, st->jobsfd, st->rejectedfd, st->idsfd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(st);
}

static int safe_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

int store_safe_name(const char *id, char *out, size_t outsz)
{
	size_t n = strlen(id);
	int keep = n >= 1 && n <= 128 && id[0] != '.';
	for (size_t i = 0; keep && i < n; i++)
		keep = safe_char((unsigned char)id[i]);
	if (keep) {
		snprintf(out, outsz, "%s", id);
		return 0;
	}
	char hex[DIGEST_HEX_LEN];
	size_t o = 0;
	for (size_t i = 0; i < n && o < 64 && o + 1 < outsz; i++)
		out[o++] = safe_char((unsigned char)id[i]) ? id[i] : '_';
	if (o > 0 && out[0] == '.')
		out[0] = '_';
	digest_sha256_hex(id, n, hex);
	snprintf(out + o, outsz - o, "~%.16s", hex);
	return 1;
}

/* Writes now (UTC) as YYYY/MM/DD, or as HHMMSS when clock is set. */
static void utc_date(time_t now, char *out, size_t outsz, int clock)
{
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	size_t n = clock ? strftime(out, outsz, "%H%M%S", &tm) : strftime(out, outsz, "%Y/%m/%d", &tm);
	if (n == 0 && outsz > 0)
		out[0] = '\0';
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
 * Looks up, or atomically claims, the date folder of a job. The index entry
 * .ids/<shard>/<name> is a symlink whose text is the date: symlinkat() creates it
 * or fails with EEXIST, so two processes receiving the same new id agree on one
 * folder. It is only ever read with readlinkat(), never followed.
 */
static int job_date(struct store *st, const char *name, time_t now, char date[16], int *is_new)
{
	char hex[DIGEST_HEX_LEN], shard[3];
	digest_sha256_hex(name, strlen(name), hex);
	shard[0] = hex[0];
	shard[1] = hex[1];
	shard[2] = '\0';
	int sfd = store_open_dirs(st->idsfd, shard, 1, 1);
	if (sfd < 0)
		return fail_errno();
	int rc = IH_OK;
	for (int attempt = 0; attempt < 2; attempt++) {
		ssize_t n = readlinkat(sfd, name, date, 15);
		if (n >= 0) {
			date[n] = '\0';
			rc = valid_date(date, (size_t)n) ? IH_OK : IH_ERR_IO;
			goto out;
		}
		if (errno != ENOENT) {
			rc = fail_errno();
			goto out;
		}
		utc_date(now, date, 16, 0);
		if (symlinkat(date, sfd, name) == 0) {
			*is_new = 1;
			rc = fsync(sfd) == 0 ? IH_OK : fail_errno();
			goto out;
		}
		if (errno != EEXIST) {
			rc = fail_errno();
			goto out;
		}
		/* Another process claimed it first: read what it wrote. */
	}
	rc = IH_ERR_IO;
out:
	close_keep_errno(sfd);
	return rc;
}

int store_job_begin(struct store *st, const char *id, time_t now, struct store_job **out)
{
	char date[16], name[STORE_NAME_MAX];
	int is_new = 0;
	struct store_job *job = calloc(1, sizeof *job);
	if (job == NULL)
		return IH_ERR_NOMEM;
	if (st->s3 != NULL) {
		int rc = store_s3_job_begin(st->s3, id, now, &job->s3);
		if (rc != IH_OK) {
			free(job);
			return rc;
		}
		*out = job;
		return IH_OK;
	}
	job->dirfd = -1;
	store_safe_name(id, name, sizeof name);
	int rc = job_date(st, name, now, date, &is_new);
	if (rc != IH_OK) {
		free(job);
		return rc;
	}
	job->is_new = is_new;
	job->st = st;
	snprintf(job->dir, sizeof job->dir, "jobs/%s/%s", date, name);
	char rel[200];
	snprintf(rel, sizeof rel, "%s/%s", date, name);
	job->dirfd = store_open_dirs(st->jobsfd, rel, 1, 1);
	if (job->dirfd < 0) {
		rc = fail_errno();
		goto fail;
	}
	/*
	 * Serialises deliveries of one job across processes; released by close(). The
	 * lock is on the folder's own descriptor: no lock file to create (a new inode
	 * costs about 1 ms here) and none to plant a symlink in place of.
	 */
	while (flock(job->dirfd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			rc = fail_errno();
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
	return job->s3 ? store_s3_job_is_new(job->s3) : job->is_new;
}

const char *store_job_dir(const struct store_job *job)
{
	return job->s3 ? store_s3_job_dir(job->s3) : job->dir;
}

int store_job_exists(struct store_job *job, const char *name)
{
	if (job->s3 != NULL)
		return store_s3_job_exists(job->s3, name);
	struct stat sb;
	if (fstatat(job->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT ? 0 : fail_errno();
}

int store_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
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
	if (store_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
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

int store_job_write(struct store_job *job, const char *name, const void *data, size_t len)
{
	if (job->s3 != NULL)
		return store_s3_job_write(job->s3, name, data, len);
	return write_durable(job->st, job->dirfd, name, data, len);
}

static int job_link(struct store_job *job, const char *from, const char *to)
{
	char tmp[320];
	snprintf(tmp, sizeof tmp, ".tmp.%ld.%lu.%.200s", (long)getpid(), job->st->counter++, to);
	if (linkat(job->dirfd, from, job->dirfd, tmp, 0) != 0)
		return fail_errno();
	if (renameat(job->dirfd, tmp, job->dirfd, to) != 0) {
		int rc = fail_errno();
		unlinkat(job->dirfd, tmp, 0);
		return rc;
	}
	return IH_OK;
}

int store_job_read(struct store_job *job, const char *name, char **data, size_t *len)
{
	if (job->s3 != NULL)
		return store_s3_job_read(job->s3, name, data, len);
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

int store_job_commit(struct store_job *job, const char *record, const char *same_as)
{
	if (job->s3 != NULL)
		return store_s3_job_commit(job->s3, record, same_as);
	if (fsync(job->dirfd) != 0)
		return fail_errno();
	int rc = job_link(job, same_as, record);
	if (rc == IH_OK && fsync(job->dirfd) != 0)
		rc = fail_errno();
	return rc;
}

void store_job_end(struct store_job *job)
{
	if (job == NULL)
		return;
	store_s3_job_end(job->s3);
	if (job->s3 == NULL && job->dirfd >= 0)
		close(job->dirfd);
	free(job);
}

int store_keep_rejected(struct store *st, time_t now, const char *ext, const void *data,
			size_t len, char *rel, size_t relsz)
{
	if (st->s3 != NULL)
		return store_s3_keep_rejected(st->s3, now, ext, data, len, rel, relsz);
	char date[16], hms[16], name[96];
	utc_date(now, date, sizeof date, 0);
	utc_date(now, hms, sizeof hms, 1);
	int fd = store_open_dirs(st->rejectedfd, date, 1, 1);
	if (fd < 0)
		return fail_errno();
	snprintf(name, sizeof name, "%s-%ld-%lu.%s", hms, (long)getpid(), st->counter, ext);
	int rc = write_durable(st, fd, name, data, len);
	if (rc == IH_OK && fsync(fd) != 0)
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
	st->rootfd = st->jobsfd = st->rejectedfd = st->idsfd = -1;
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

int store_status_name(const char *status, char *out, size_t outsz)
{
	char safe[STORE_NAME_MAX];
	int mapped = store_safe_name(status, safe, sizeof safe);
	size_t i = 0;
	for (; safe[i] != '\0' && i + 1 < outsz; i++)
		out[i] = (safe[i] >= 'A' && safe[i] <= 'Z') ? (char)(safe[i] - 'A' + 'a') : safe[i];
	out[i] = '\0';
	return mapped;
}
