/* logline.c - format the per-request JSON line and append it to a rotatable log. */
#include "ih_config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ih_error.h"
#include "logline.h"

static int add_str(struct buf *out, const char *key, const char *value)
{
	int rc = buf_printf(out, ",\"%s\":", key);
	if (rc != IH_OK)
		return rc;
	if (value == NULL)
		return buf_puts(out, "null");
	return buf_json_string(out, value, strlen(value), LOGLINE_MAX_VALUE);
}

static int add_i64(struct buf *out, const char *key, int present, int64_t v)
{
	if (!present)
		return buf_printf(out, ",\"%s\":null", key);
	return buf_printf(out, ",\"%s\":%" PRId64, key, v);
}

void logline_time(const struct timespec *ts, char *out, size_t outsz)
{
	struct tm tm;
	time_t sec = ts->tv_sec;
	if (gmtime_r(&sec, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	size_t n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outsz - n, ".%03ldZ", ts->tv_nsec / 1000000L);
}

int logline_format(const struct logline_fields *f, struct buf *out)
{
	char when[40];
	logline_time(&f->when, when, sizeof when);

	int rc = buf_printf(out, "{\"time\":\"%s\"", when);
	if (rc == IH_OK)
		rc = add_str(out, "id", f->id);
	if (rc == IH_OK)
		rc = add_str(out, "request_id", f->request_id);
	if (rc == IH_OK)
		rc = add_str(out, "status", f->status);
	if (rc == IH_OK)
		rc = buf_printf(out, ",\"outcome\":\"%s\",\"http\":%d,\"images_stored\":%u,"
				"\"images_rejected\":%u,\"images_remote\":%u,\"bytes\":%" PRIu64,
				answer_outcome_name(f->outcome), f->http, f->images_stored,
				f->images_rejected, f->images_remote, f->bytes);
	if (rc == IH_OK)
		rc = buf_printf(out, ",\"inputs_stored\":%u", f->inputs_stored);
	if (rc == IH_OK && f->id_derived)
		rc = buf_puts(out, ",\"id_derived\":true");
	if (rc == IH_OK)
		rc = add_i64(out, "delayTime", f->has_delay, f->delay_ms);
	if (rc == IH_OK)
		rc = add_i64(out, "executionTime", f->has_exec, f->exec_ms);
	if (rc == IH_OK)
		rc = add_str(out, "workerId", f->worker_id);
	if (rc == IH_OK)
		rc = add_str(out, "dir", f->dir);
	if (rc == IH_OK && f->kept != NULL)
		rc = add_str(out, "kept", f->kept);
	if (rc == IH_OK)
		rc = buf_printf(out, ",\"ms\":%ld", f->ms);
	if (rc == IH_OK)
		rc = add_str(out, "remote", f->remote);
	if (rc == IH_OK)
		rc = add_str(out, "host", f->host);
	if (rc == IH_OK)
		rc = add_str(out, "error", f->error);
	if (rc == IH_OK && f->warnings != NULL)
		rc = add_str(out, "warnings", f->warnings);
	if (rc == IH_OK)
		rc = buf_puts(out, "}\n");
	return rc;
}

int logfile_open(struct logfile *lf, const char *path)
{
	struct stat st;
	lf->fd = -1;
	lf->path = strdup(path);
	if (lf->path == NULL)
		return IH_ERR_NOMEM;
	/* Read access too: the last byte tells whether a crash left a line unfinished. */
	int flags = O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW;
	int fd = open(path, O_RDWR | flags, 0640);
	if (fd < 0 && errno == EACCES)
		fd = open(path, O_WRONLY | flags, 0640);
	if (fd < 0 && errno == ELOOP) {
		/* Someone replaced the log by a symlink: writing through it could reach any file. */
		fprintf(stderr, "imagehook: log %s is a symbolic link; refusing to write through it\n",
			path);
		return IH_ERR_LOG;
	}
	if (fd < 0)
		return ih_err_from_errno(errno);
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return ih_err_from_errno(e);
	}
	lf->fd = fd;
	lf->dev = st.st_dev;
	lf->ino = st.st_ino;
	return IH_OK;
}

/* Reopens the path when it no longer names the file we hold (rotated or removed). */
static int reopen_if_rotated(struct logfile *lf)
{
	struct stat st;
	if (lf->fd >= 0 && stat(lf->path, &st) == 0 && st.st_dev == lf->dev &&
	    st.st_ino == lf->ino)
		return IH_OK;
	char *path = lf->path;
	lf->path = NULL;
	if (lf->fd >= 0)
		close(lf->fd);
	int rc = logfile_open(lf, path);
	free(path);
	return rc;
}

int logfile_write(struct logfile *lf, const char *line, size_t len)
{
	if (lf->path == NULL)
		return IH_ERR_LOG;
	int rc = reopen_if_rotated(lf);
	if (rc != IH_OK)
		return rc;
	/*
	 * One write(2) on O_APPEND, under an exclusive lock that every imagehook process
	 * takes: where the file ends before the write is then where this line begins,
	 * so a short write (a full disk, an I/O error) can be cut off again without
	 * touching another process's line.
	 */
	while (flock(lf->fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return ih_err_from_errno(errno);
	struct stat st;
	int rc2 = IH_OK;
	if (fstat(lf->fd, &st) != 0) {
		rc2 = ih_err_from_errno(errno);
		goto unlock;
	}
	/* A line a crash left without its end (a kill between write and ftruncate): end it first. */
	char last = '\n';
	if (st.st_size > 0 && pread(lf->fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
		ssize_t nl;
		do {
			nl = write(lf->fd, "\n", 1);
		} while (nl < 0 && errno == EINTR);
		if (nl != 1) {
			rc2 = nl < 0 ? ih_err_from_errno(errno) : IH_ERR_NOSPACE;
			goto cut;
		}
	}
	ssize_t n;
	do {
		n = write(lf->fd, line, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len) {
		rc2 = n < 0 ? ih_err_from_errno(errno) : IH_ERR_NOSPACE;
		goto cut;
	}
	goto unlock;
cut:
	/* Whole or absent: what was written of this line goes again. */
	if (ftruncate(lf->fd, st.st_size) != 0)
		fprintf(stderr, "imagehook: log %s: cannot cut off a partial line: %s\n", lf->path,
			strerror(errno));
unlock:
	flock(lf->fd, LOCK_UN);
	if (rc2 != IH_OK)
		return rc2;
	if (fdatasync(lf->fd) != 0)
		return ih_err_from_errno(errno);
	return IH_OK;
}

void logfile_close(struct logfile *lf)
{
	if (lf->fd >= 0)
		close(lf->fd);
	lf->fd = -1;
	free(lf->path);
	lf->path = NULL;
}
