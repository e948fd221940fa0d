/* durable_responder.c - the durable limit: a FastCGI responder that does the least any
 * receiver must do before "200 means on disk" (body to a new file of a per-day folder:
 * temporary name, fsync, rename, folder fsync; one log line with fdatasync), no parsing.
 * imagehook is measured against it: what it spends above this is its own. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

/* Where it writes: the same variables imagehook reads, so one lighttpd config serves both. */
struct out {
	const char *root;         /* IMAGEHOOK_OUTPUT_DIR */
	int logfd;                /* IMAGEHOOK_LOG, O_APPEND */
	char day[16];             /* the folder dayfd is, YYYY/MM/DD */
	int dayfd;
	unsigned long n;          /* makes names unique in this process */
};

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* mkdir that syncs the parent when it made something, so the new name is durable. */
static int mkdir_durable(const char *path)
{
	if (mkdir(path, 0750) != 0)
		return errno == EEXIST ? 0 : -1;
	char parent[4096];
	snprintf(parent, sizeof parent, "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash == NULL)
		return 0;
	*slash = '\0';
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* The folder of today (UTC), opened once per day. */
static int day_folder(struct out *o, time_t now)
{
	struct tm tm;
	char day[16], path[4096];
	if (gmtime_r(&now, &tm) == NULL || strftime(day, sizeof day, "%Y/%m/%d", &tm) == 0)
		return -1;
	if (o->dayfd >= 0 && strcmp(day, o->day) == 0)
		return o->dayfd;
	if (o->dayfd >= 0)
		close(o->dayfd);
	o->dayfd = -1;
	snprintf(path, sizeof path, "%s/%.4s", o->root, day);
	if (mkdir_durable(path) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/%.7s", o->root, day);
	if (mkdir_durable(path) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/%s", o->root, day);
	if (mkdir_durable(path) != 0)
		return -1;
	o->dayfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(o->day, sizeof o->day, "%s", day);
	return o->dayfd;
}

/* Stores body[0..len) durably and logs it; 0 or -1. */
static int store(struct out *o, const char *body, size_t len)
{
	char tmp[96], name[96], line[256];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int dfd = day_folder(o, ts.tv_sec);
	if (dfd < 0)
		return -1;
	o->n++;
	snprintf(tmp, sizeof tmp, ".tmp.%ld.%lu", (long)getpid(), o->n);
	snprintf(name, sizeof name, "%lld.%09ld-%ld-%lu.json", (long long)ts.tv_sec, ts.tv_nsec,
		 (long)getpid(), o->n);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (write_all(fd, body, len) != 0 || fsync(fd) != 0) {
		close(fd);
		unlinkat(dfd, tmp, 0);
		return -1;
	}
	if (close(fd) != 0 || renameat(dfd, tmp, dfd, name) != 0 || fsync(dfd) != 0)
		return -1;
	int n = snprintf(line, sizeof line, "{\"time\":%lld,\"file\":\"%s/%s\",\"bytes\":%lu}\n",
			 (long long)ts.tv_sec, o->day, name, (unsigned long)len);
	if (n < 0 || (size_t)n >= sizeof line || write_all(o->logfd, line, (size_t)n) != 0 ||
	    fdatasync(o->logfd) != 0)
		return -1;
	return 0;
}

/* Reads the whole body into *buf (grown as needed); returns its length or -1. */
static long long read_body(FCGX_Stream *in, char **buf, size_t *cap)
{
	size_t len = 0;
	for (;;) {
		if (*cap - len < 65536) {
			size_t ncap = *cap ? *cap * 2 : 1 << 20;
			char *nb = realloc(*buf, ncap);
			if (nb == NULL)
				return -1;
			*buf = nb;
			*cap = ncap;
		}
		int n = FCGX_GetStr(*buf + len, (int)(*cap - len), in);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	return FCGX_GetError(in) != 0 ? -1 : (long long)len;
}

int main(void)
{
	FCGX_Request req;
	struct out o = { .dayfd = -1 };
	const char *log = getenv("IMAGEHOOK_LOG");
	char *buf = NULL;
	size_t cap = 0;

	o.root = getenv("IMAGEHOOK_OUTPUT_DIR");
	if (o.root == NULL || log == NULL) {
		fputs("durable_responder: needs IMAGEHOOK_OUTPUT_DIR and IMAGEHOOK_LOG\n", stderr);
		return 1;
	}
	if (mkdir(o.root, 0750) != 0 && errno != EEXIST) {
		perror("durable_responder: output folder");
		return 1;
	}
	o.logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (o.logfd < 0) {
		perror("durable_responder: log");
		return 1;
	}
	if (FCGX_Init() != 0 || FCGX_IsCGI() || FCGX_InitRequest(&req, 0, 0) != 0) {
		fputs("durable_responder: runs as a FastCGI responder only\n", stderr);
		return 1;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		long long len = read_body(req.in, &buf, &cap);
		int ok = len >= 0 && store(&o, buf, (size_t)len) == 0;
		static const char yes[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
					  "Content-Length: 12\r\n\r\n{\"ok\":true}\n";
		static const char no[] = "Status: 503 Service Unavailable\r\nContent-Type: "
					 "application/json\r\nContent-Length: 13\r\n\r\n{\"ok\":false}\n";
		const char *a = ok ? yes : no;
		if (FCGX_PutStr(a, (int)strlen(a), req.out) < 0)
			fputs("durable_responder: could not answer a request\n", stderr);
		FCGX_Finish_r(&req);
	}
	free(buf);
	return 0;
}
