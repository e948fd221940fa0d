/* store_fs.c - the file system helpers the local store (and the gallery) stand on. */
#include "ih_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ih_error.h"
#include "store.h"
#include "store_fs.h"

static int fail_errno(void)
{
	return ih_err_from_errno(errno);
}

int store_fsync(int fd)
{
	int rc;
	while ((rc = fsync(fd)) != 0 && errno == EINTR)
		;
	return rc;
}

void store_close_keep_errno(int fd)
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
		if (create && mkdirat(fd, comp, 0750) != 0 && errno != EEXIST) {
			store_close_keep_errno(fd);
			return -1;
		}
		/*
		 * The entry is durable only once its parent is synced, and finding it is
		 * no proof: its creator's fsync may have failed (and answered 503). So
		 * the parent is synced whoever created it; with nothing pending that
		 * costs about 50 us.
		 */
		if (create && durable && store_fsync(fd) != 0) {
			store_close_keep_errno(fd);
			return -1;
		}
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		store_close_keep_errno(fd);
		if (next < 0)
			return -1;
		fd = next;
		p += n;
		if (*p == '/')
			p++;
	}
	return fd;
}

int store_mkdirs(const char *path)
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

void store_utc_date(time_t now, char *out, size_t outsz, int clock)
{
	struct tm tm;
	if (gmtime_r(&now, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	size_t n = clock ? strftime(out, outsz, "%H%M%S", &tm) : strftime(out, outsz, "%Y/%m/%d", &tm);
	if (n == 0 && outsz > 0)
		out[0] = '\0';
}

int store_clear_folder(int dirfd)
{
	int fd = dup(dirfd);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		store_close_keep_errno(fd);
		return -1;
	}
	rewinddir(d);
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, e->d_name, 0) != 0 &&
		    (errno != EISDIR || unlinkat(dirfd, e->d_name, AT_REMOVEDIR) != 0) &&
		    errno != ENOENT)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int store_sync_parent_of(const char *path)
{
	char *p = strdup(path);
	if (p == NULL)
		return IH_ERR_NOMEM;
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	char *slash = strrchr(p, '/');
	const char *parent = slash == NULL ? "." : slash == p ? "/" : (*slash = '\0', p);
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd >= 0 && store_fsync(fd) == 0 ? IH_OK : fail_errno();
	if (fd >= 0)
		close(fd);
	free(p);
	return rc;
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
