/* gallery.c - the gallery's entry points: a stored job's refresh (queued) and `imagehook gallery`. */
#include "ih_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gallery.h"
#include "gallery_impl.h"
#include "ih_error.h"
#include "store.h"

#define MAX_JOB_JSON (16u << 20)
#define MAX_QUEUE (4u << 20)

static int fail_errno(void)
{
	return ih_err_from_errno(errno);
}

/* ---- names ------------------------------------------------------------------- */

static int safe_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

int gallery_safe_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!safe_char((unsigned char)s[i]))
			return 0;
	return 1;
}

int gallery_shaped(const char *s, size_t n, const char *shape)
{
	if (n != strlen(shape))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == '0' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return 0;
	return 1;
}

int gallery_parse_job_dir(const char *dir, struct gallery_jobref *r)
{
	/* "jobs/" "YYYY/MM/DD" "/" name */
	if (strncmp(dir, "jobs/", 5) != 0 || strlen(dir) < 17 || !gallery_shaped(dir + 5, 10, "0000/00/00") ||
	    dir[15] != '/' || !gallery_safe_name(dir + 16, sizeof r->name))
		return IH_ERR_LIMIT;
	memcpy(r->ymd, dir + 5, 10);
	r->ymd[10] = '\0';
	memcpy(r->day, r->ymd, 10);
	r->day[4] = r->day[7] = '-';
	r->day[10] = '\0';
	snprintf(r->name, sizeof r->name, "%s", dir + 16);
	return IH_OK;
}

static unsigned field_u(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p ? (unsigned)strtoul(p + strlen(key), NULL, 10) : 0;
}

void gallery_parse_counts(const char *line, struct gallery_counts *k)
{
	/* Only the first line: a card's text below it comes from the sender. */
	char first[1024];
	size_t n = strcspn(line, "\n");
	snprintf(first, sizeof first, "%.*s", (int)(n < sizeof first ? n : sizeof first - 1), line);
	memset(k, 0, sizeof *k);
	k->jobs = field_u(first, " jobs=");
	k->images = field_u(first, " images=");
	k->bad = field_u(first, " bad=");
	k->rejected = field_u(first, " rejected=");
	k->lost = field_u(first, " lost=");
	k->links = field_u(first, " links=");
	k->page = field_u(first, " page=");
	const char *t = strstr(first, " t=");
	if (t != NULL) {
		size_t kn = strcspn(t + 3, " ");
		snprintf(k->key, sizeof k->key, "%.*s", (int)(kn < sizeof k->key ? kn : sizeof k->key - 1),
			 t + 3);
	}
	t = strstr(first, " thumb=");
	if (t != NULL) {
		t += 7;
		size_t tn = strcspn(t, " \n");
		int ok = tn > 0 && tn < sizeof k->thumb && strncmp(t, "thumbs/", 7) == 0;
		for (size_t i = 0; ok && i < tn; i++)
			ok = safe_char((unsigned char)t[i]) || t[i] == '/';
		if (ok && strstr(t, "..") == NULL) {
			memcpy(k->thumb, t, tn);
			k->thumb[tn] = '\0';
		}
	}
}

/* ---- files ------------------------------------------------------------------- */

int gallery_put_file(struct gal *g, int dirfd, const char *name, const void *data, size_t len)
{
	char tmp[320];
	if (g->pid == 0)
		g->pid = (long)getpid();
	snprintf(tmp, sizeof tmp, ".tmp.%ld.%lu.%.200s", g->pid, g->counter++, name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail_errno();
	int rc = IH_OK;
	if (store_write_all(fd, data, len) != 0) {
		rc = fail_errno();
		close(fd);
	} else if (close(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0) {
		rc = fail_errno();
	}
	if (rc != IH_OK)
		(void)unlinkat(dirfd, tmp, 0);   /* best effort: the error reported is rc */
	return rc;
}

int gallery_get_file(int dirfd, const char *name, size_t cap, char **data, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail_errno();
	struct buf b = { 0 };
	int rc = buf_read_fd(&b, fd, cap);
	close(fd);
	if (rc == IH_OK && b.data == NULL)
		rc = buf_puts(&b, "");
	if (rc != IH_OK) {
		buf_free(&b);
		return rc;
	}
	*data = b.data;
	*len = b.len;
	return IH_OK;
}

int gallery_open_private(int dirfd, const char *name, int flags)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0640);
		if (fd < 0 && errno != ELOOP)
			return -1;
		struct stat sb;
		if (fd >= 0 && fstat(fd, &sb) != 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		/*
		 * Ours only if it is a regular file with no other name: a hard link planted
		 * here would have us write into a file anywhere on the file system.
		 */
		/* O_NONBLOCK is only so that a planted FIFO cannot hang the open: a regular file ignores it. */
		if (fd >= 0 && S_ISREG(sb.st_mode) && sb.st_nlink == 1)
			return fd;
		if (fd >= 0)
			close(fd);
		/* Derived state: drop the name (never what it points at) and start afresh. */
		if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
			return -1;
		if (!(flags & O_CREAT)) {
			errno = ENOENT;
			return -1;
		}
		flags |= O_EXCL;   /* EEXIST: another process made it meanwhile; look again */
		fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -1;
		flags &= ~O_EXCL;
	}
	errno = EEXIST;
	return -1;
}

DIR *gallery_listing(int dirfd)
{
	/* fdopendir() takes a dup, which shares dirfd's position: an earlier listing left it at the end. */
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		return NULL;
	}
	rewinddir(d);
	return d;
}

static int by_string_desc(const void *a, const void *b)
{
	return strcmp(*(const char *const *)b, *(const char *const *)a);
}

int gallery_list_shaped(int dirfd, const char *shape, char ***out, size_t *count)
{
	DIR *d = gallery_listing(dirfd);
	char **v = NULL;
	size_t n = 0, cap = 0;
	int rc = IH_OK;
	*out = NULL;
	*count = 0;
	if (d == NULL)
		return fail_errno();
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!gallery_shaped(de->d_name, strlen(de->d_name), shape))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **nv = realloc(v, ncap * sizeof *nv);
			if (nv == NULL) {
				rc = IH_ERR_NOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		if ((v[n] = strdup(de->d_name)) == NULL) {
			rc = IH_ERR_NOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == IH_OK && n > 0)
		qsort(v, n, sizeof *v, by_string_desc);
	*out = v;
	*count = n;
	return rc;
}

void gallery_free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int gal_open(struct gal *g, const char *output_dir, const struct image_limits *lim)
{
	memset(g, 0, sizeof *g);
	g->lim = lim;
	g->galfd = -1;
	g->rootfd = open(output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (g->rootfd < 0)
		return fail_errno();
	g->galfd = store_open_dirs(g->rootfd, "gallery", 1, 0);
	return g->galfd < 0 ? fail_errno() : IH_OK;
}

static void gal_close(struct gal *g)
{
	if (g->galfd >= 0)
		close(g->galfd);
	if (g->rootfd >= 0)
		close(g->rootfd);
	g->galfd = g->rootfd = -1;
}

/* flock() that retries on EINTR. */
static int lock(int fd, int how)
{
	while (flock(fd, how) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* ---- a job's card ------------------------------------------------------------- */

/*
 * Adds fetch.json's word on the card's result links: a link queued but not yet
 * attempted is in no job.json. No fetch.json (a job without links, or from before
 * links were fetched) or an unreadable one leaves the card as job.json has it.
 */
static int card_links(int jobfd, struct payload_card *c)
{
	char *text = NULL;
	size_t len = 0;
	int any = 0;
	for (unsigned i = 0; i < c->n_images; i++)
		any |= c->images[i].url[0] != '\0';
	if (!any)
		return IH_OK;
	int rc = gallery_get_file(jobfd, "fetch.json", MAX_JOB_JSON, &text, &len);
	if (rc == IH_OK)
		rc = payload_card_add_links(c, text, len);
	free(text);
	return rc == IH_ERR_NOMEM ? rc : IH_OK;
}

/*
 * Reads the job's job.json: sets key and, when card is not NULL, makes the
 * thumbnails and appends the card. A gallery_card_fn.
 */
static int make_card(void *ctx, int jobfd, const struct gallery_jobref *r, struct buf *card,
		     char key[40])
{
	struct gal *g = ctx;
	char *text = NULL, dir[200];
	size_t len = 0;
	struct gallery_thumb *th = NULL;
	struct payload_card *c = malloc(sizeof *c);
	int rc = c ? gallery_get_file(jobfd, "job.json", MAX_JOB_JSON, &text, &len) : IH_ERR_NOMEM;
	if (rc == IH_OK)
		rc = payload_card_parse(text, len, c);
	if (rc == IH_OK)
		gallery_sort_key(c->received, key, 40);
	if (rc == IH_OK && card != NULL)
		rc = card_links(jobfd, c);
	if (rc == IH_OK && card != NULL) {
		g->budget = GALLERY_JOB_PIXEL_BUDGET;
		if ((th = calloc(c->n_images + 1, sizeof *th)) == NULL)
			rc = IH_ERR_NOMEM;
		if (rc == IH_OK)
			rc = gallery_make_thumbs(g, jobfd, r, c, th);
		snprintf(dir, sizeof dir, "jobs/%s/%s", r->ymd, r->name);
		if (rc == IH_OK)
			rc = gallery_card_html(c, dir, th, card);
	}
	free(th);
	free(text);
	free(c);
	return rc;
}

/* The lock-holding variant for `imagehook gallery`: no half-stored job is read. */
static int make_card_locked(void *ctx, int jobfd, const struct gallery_jobref *r, struct buf *card,
			    char key[40])
{
	/* The handler holds the job folder's lock while it stores. */
	if (card != NULL && lock(jobfd, LOCK_EX) != 0)
		return fail_errno();
	return make_card(ctx, jobfd, r, card, key);
}

/* Makes the card of job folder dir and puts it on its page (rendered with the batch). */
static int place_job(struct gal *g, const char *dir, struct gallery_dirty *d)
{
	struct gallery_jobref r;
	struct buf card = { 0 };
	char key[40];
	int rc = gallery_parse_job_dir(dir, &r);
	if (rc != IH_OK)
		return rc;
	int jobfd = store_open_dirs(g->rootfd, dir, 0, 0);
	if (jobfd < 0)
		return fail_errno();
	rc = make_card(g, jobfd, &r, &card, key);
	if (rc == IH_OK)
		rc = gallery_index_add(g, &r, card.data, card.len, d);
	close(jobfd);
	buf_free(&card);
	return rc;
}

/* ---- the queue ------------------------------------------------------------------ */

/*
 * Deliveries do not each wait for the pages: a delivery appends its job to
 * gallery/.queue, then takes the gallery lock only if it is free. Whoever holds
 * it places every queued job, renders each changed page once, and after letting
 * go looks at the queue again: a job queued while the lock was held was queued
 * before the holder let go, so the holder (or the next one) sees it, and the last
 * card is always on its page. A process never waits for another's rendering.
 */
static int queue_push(int qfd, const char *dir)
{
	char line[300];
	int n = snprintf(line, sizeof line, "%s\n", dir);
	if (n < 0 || (size_t)n >= sizeof line)
		return IH_ERR_LIMIT;
	if (lock(qfd, LOCK_EX) != 0)
		return fail_errno();
	int rc = store_write_all(qfd, line, (size_t)n) == 0 ? IH_OK : fail_errno();
	(void)flock(qfd, LOCK_UN);   /* close() would release it too */
	return rc;
}

/* Takes everything queued into out (NUL-terminated), leaving the queue empty. */
static int queue_take(int qfd, struct buf *out)
{
	buf_reset(out);
	if (lock(qfd, LOCK_EX) != 0)
		return fail_errno();
	int rc = lseek(qfd, 0, SEEK_SET) == 0 ? buf_read_fd(out, qfd, MAX_QUEUE) : fail_errno();
	if (rc == IH_OK && ftruncate(qfd, 0) != 0)
		rc = fail_errno();
	(void)flock(qfd, LOCK_UN);
	return rc;
}

static int queue_empty(int qfd)
{
	struct stat sb;
	return fstat(qfd, &sb) == 0 && sb.st_size == 0;
}

/* Places every queued job, each once, then renders; the gallery lock is held. */
static void drain(struct gal *g, int qfd, FILE *err)
{
	struct gallery_dirty d;
	struct buf q = { 0 };
	memset(&d, 0, sizeof d);
	while (queue_take(qfd, &q) == IH_OK && q.len > 0) {
		char *start = q.data;
		for (char *nl; (nl = strchr(start, '\n')) != NULL; start = nl + 1) {
			*nl = '\0';
			int seen = 0;
			/* The same job twice in one batch (two statuses at once): once is enough. */
			for (char *p = q.data; !seen && p < start; p += strlen(p) + 1)
				seen = strcmp(p, start) == 0;
			if (seen)
				continue;
			int rc = place_job(g, start, &d);
			if (rc != IH_OK)
				fprintf(err, "imagehook: gallery not updated for %s: %s\n", start,
					ih_strerror(rc));
		}
	}
	int rc = gallery_index_render(g, &d);
	if (rc != IH_OK)
		fprintf(err, "imagehook: gallery pages not rewritten: %s\n", ih_strerror(rc));
	buf_free(&q);
}

static int open_lock(struct gal *g)
{
	return gallery_open_private(g->galfd, ".lock", O_RDONLY | O_CREAT);
}

/* ---- who refreshes: the last delivery in flight, or one whose pages are stale ---------- */

/*
 * A delivery holds gallery/.busy shared (gallery_busy_begin()) from before it
 * stores until its own gallery step. There, once it has queued its job and let go,
 * it refreshes only when an exclusive try on .busy succeeds (no other delivery is
 * between storing and its gallery step, so none comes after it to do the work) or
 * when the last refresh, stamped on .lock's mtime, is GALLERY_STALE_MS old. Under
 * load the pages are refreshed every GALLERY_STALE_MS with whatever has queued,
 * instead of once per delivery; the last delivery of a burst refreshes at once.
 *
 * Why no job is left queued: a delivery that skips saw another's shared hold,
 * taken before that one's own queue push and let go only after it, so that
 * delivery reaches its gallery step after the skipped job was queued, and makes
 * the same choice in turn. An exclusive try that succeeded is held only for an
 * instant, and the one who holds it goes on to refresh. A delivery killed while
 * holding leaves the queue to the next delivery, the fetcher or `imagehook gallery`.
 */
static int busy_open(const char *output_dir)
{
	struct gal g;
	int fd = -1;
	if (gal_open(&g, output_dir, NULL) == IH_OK)
		fd = gallery_open_private(g.galfd, ".busy", O_RDONLY | O_CREAT);
	gal_close(&g);
	return fd;
}

int gallery_busy_begin(const struct settings *s)
{
	if (!s->gallery)
		return -1;
	int fd = busy_open(s->output_dir);
	/*
	 * Never waits: held exclusively (another's try, an instant) or unable to hold,
	 * this delivery refreshes when it is done, as if it were the last.
	 */
	int rc = 0;
	while (fd >= 0 && (rc = flock(fd, LOCK_SH | LOCK_NB)) != 0 && errno == EINTR)
		;
	if (fd >= 0 && rc != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* True when no delivery holds .busy: the exclusive try, let go at once. */
static int none_in_flight(int busyfd)
{
	if (busyfd < 0)
		return 1;
	int rc;
	while ((rc = flock(busyfd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
		;
	if (rc != 0)
		return errno != EWOULDBLOCK;   /* an error: refresh rather than leave it */
	(void)flock(busyfd, LOCK_UN);
	return 1;
}

/* True when the last refresh (lockfd's mtime) is stale_ms old, or as far in the future. */
static int pages_stale(int lockfd, long long stale_ms)
{
	struct stat sb;
	struct timespec now;
	if (fstat(lockfd, &sb) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return 1;
	long long ms = (long long)(now.tv_sec - sb.st_mtim.tv_sec) * 1000 +
		       (now.tv_nsec - sb.st_mtim.tv_nsec) / 1000000;
	return ms >= stale_ms || ms <= -stale_ms;
}

void gallery_delivery_done(const struct settings *s, const char *job_dir, int busyfd)
{
	struct gal g;
	struct gallery_jobref r;
	int qfd = -1, lockfd = -1, rc = IH_OK;

	g.rootfd = g.galfd = -1;
	if (!s->gallery)
		goto out;
	if (job_dir != NULL && job_dir[0] != '\0')
		rc = gallery_parse_job_dir(job_dir, &r);
	if (rc == IH_OK)
		rc = gal_open(&g, s->output_dir, &s->image);
	g.thumbnails = s->thumbnails;
	if (rc == IH_OK && (qfd = gallery_open_private(g.galfd, ".queue", O_RDWR | O_APPEND | O_CREAT)) < 0)
		rc = fail_errno();
	if (rc == IH_OK && job_dir != NULL && job_dir[0] != '\0')
		rc = queue_push(qfd, job_dir);
	/* Queued (or nothing to queue): this delivery is no longer one to wait for. */
	if (busyfd >= 0)
		(void)flock(busyfd, LOCK_UN);
	/* Even when our own job could not be queued: others may have left theirs to us. */
	if (qfd < 0 || queue_empty(qfd))
		goto out;
	long long stale_ms = s->gallery_stale_ms ? s->gallery_stale_ms : GALLERY_STALE_MS;
	int probe = busyfd >= 0 ? busyfd : busy_open(s->output_dir);
	int lrc = IH_OK;
	if ((lockfd = open_lock(&g)) < 0)
		lrc = fail_errno();
	while (lrc == IH_OK && (none_in_flight(probe) || pages_stale(lockfd, stale_ms))) {
		if (flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
			if (errno == EINTR)
				continue;
			if (errno != EWOULDBLOCK)
				lrc = fail_errno();
			break;   /* held: its holder places our job */
		}
		drain(&g, qfd, stderr);
		/* The stamp pages_stale() reads; a .lock not ours to stamp only means refreshing more often. */
		(void)futimens(lockfd, NULL);
		(void)flock(lockfd, LOCK_UN);
		if (queue_empty(qfd))
			break;
	}
	if (probe >= 0 && probe != busyfd)
		close(probe);
	if (rc == IH_OK)
		rc = lrc;
out:
	/* The job is stored and answered regardless: this is for the operator. */
	if (rc != IH_OK && job_dir != NULL && job_dir[0] != '\0')
		fprintf(stderr, "imagehook: gallery not updated for %s: %s\n", job_dir, ih_strerror(rc));
	if (lockfd >= 0)
		close(lockfd);
	if (qfd >= 0)
		close(qfd);
	if (busyfd >= 0)
		close(busyfd);
	gal_close(&g);
}

void gallery_job_stored(const struct settings *s, const char *job_dir)
{
	gallery_delivery_done(s, job_dir, -1);
}

/* ---- imagehook gallery ------------------------------------------------------- */

/* Removes temporary files older than an hour from dirfd: what a crash mid-write left. */
static void sweep_tmp(int dirfd)
{
	DIR *d = gallery_listing(dirfd);
	struct dirent *de;
	struct stat sb;
	time_t old = time(NULL) - 3600;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".tmp.", 5) == 0 &&
		    fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_mtime < old)
			(void)unlinkat(dirfd, de->d_name, 0);   /* best effort */
	closedir(d);
}

/* Lists the job days (YYYY/MM/DD) below jobs/, newest first. */
static int list_job_days(int jobsfd, char ***out, size_t *count)
{
	char **years = NULL, **months = NULL, **days = NULL, **v = NULL;
	size_t ny = 0, nm = 0, nd = 0, n = 0, cap = 0;
	char rel[16];
	int rc = gallery_list_shaped(jobsfd, "0000", &years, &ny);
	for (size_t y = 0; rc == IH_OK && y < ny; y++) {
		int yfd = store_open_dirs(jobsfd, years[y], 0, 0);
		if (yfd < 0)
			continue;
		rc = gallery_list_shaped(yfd, "00", &months, &nm);
		for (size_t m = 0; rc == IH_OK && m < nm; m++) {
			snprintf(rel, sizeof rel, "%s/%s", years[y], months[m]);
			int mfd = store_open_dirs(jobsfd, rel, 0, 0);
			if (mfd < 0)
				continue;
			rc = gallery_list_shaped(mfd, "00", &days, &nd);
			close(mfd);
			for (size_t d = 0; rc == IH_OK && d < nd; d++) {
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 64;
					char **nv = realloc(v, ncap * sizeof *nv);
					if (nv == NULL) {
						rc = IH_ERR_NOMEM;
						break;
					}
					v = nv;
					cap = ncap;
				}
				if ((v[n] = malloc(11)) == NULL) {
					rc = IH_ERR_NOMEM;
					break;
				}
				snprintf(v[n++], 11, "%s/%s/%s", years[y], months[m], days[d]);
			}
			gallery_free_list(days, nd);
			days = NULL;
			nd = 0;
		}
		close(yfd);
		gallery_free_list(months, nm);
		months = NULL;
		nm = 0;
	}
	gallery_free_list(years, ny);
	if (rc != IH_OK) {
		gallery_free_list(v, n);
		return rc;
	}
	*out = v;
	*count = n;
	return IH_OK;
}

static int usage_error(FILE *err, const char *msg)
{
	fprintf(err, "imagehook gallery: %s\nusage: imagehook gallery [--days N] [--no-thumbnails]\n",
		msg);
	return 2;
}

/* True when the card day "YYYY-MM-DD" is one of the job days ("YYYY/MM/DD") in days[0..n). */
static int among(const char *card_day, char *const *days, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (strncmp(card_day, days[j], 4) == 0 && strncmp(card_day + 5, days[j] + 5, 2) == 0 &&
		    strncmp(card_day + 8, days[j] + 8, 2) == 0)
			return 1;
	return 0;
}

int gallery_main(const struct settings *s, int argc, char **argv, FILE *out, FILE *err)
{
	long max_days = -1;
	int thumbnails = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-thumbnails") == 0) {
			thumbnails = 0;
		} else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			max_days = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || end == argv[i] || max_days < 1 || max_days > 100000)
				return usage_error(err, "--days takes a number of days, 1 or more");
		} else {
			return usage_error(err, "unknown argument");
		}
	}

	struct gal g;
	char **days = NULL, **pages = NULL;
	size_t ndays = 0, nall = 0, npages = 0;
	unsigned jobs = 0, removed = 0;
	int jobsfd = -1, lockfd = -1, qfd = -1;
	errno = 0;
	int rc = gal_open(&g, s->output_dir, &s->image);
	if (rc == IH_OK && (jobsfd = store_open_dirs(g.rootfd, "jobs", 0, 0)) < 0)
		rc = fail_errno();
	/* The system's word says more than ours here ("No such file or directory"). */
	int e = rc != IH_OK ? errno : 0;
	if (rc == IH_OK)
		rc = list_job_days(jobsfd, &days, &nall);
	if (rc != IH_OK) {
		fprintf(err, "imagehook gallery: %s: %s\n", s->output_dir,
			rc == IH_ERR_NOMEM || e == 0 ? ih_strerror(rc) : strerror(e));
		if (jobsfd >= 0)
			close(jobsfd);
		gal_close(&g);
		return 1;
	}
	ndays = max_days > 0 && (size_t)max_days < nall ? (size_t)max_days : nall;
	g.thumbnails = thumbnails;
	/* Deliveries meanwhile queue their jobs; they are placed at the end (below). */
	int locked = 0;
	if ((lockfd = open_lock(&g)) < 0 || lock(lockfd, LOCK_EX) != 0)
		rc = fail_errno();
	else
		locked = 1;
	for (size_t i = 0; rc == IH_OK && i < ndays; i++) {
		char rel[32];
		snprintf(rel, sizeof rel, "cards/%.4s-%.2s-%.2s", days[i], days[i] + 5, days[i] + 8);
		int cfd = store_open_dirs(g.galfd, rel, 0, 0);
		if (cfd >= 0) {
			sweep_tmp(cfd);
			close(cfd);
		}
		rc = gallery_index_rebuild_day(&g, jobsfd, days[i], make_card_locked, &g, &jobs, &removed,
					       err);
	}
	/* Days whose job folders are all gone: dropped, unless --days left them alone. */
	if (rc == IH_OK) {
		int cardsfd = store_open_dirs(g.galfd, "cards", 1, 0);
		rc = cardsfd < 0 ? fail_errno() : gallery_list_shaped(cardsfd, "0000-00-00", &pages, &npages);
		if (cardsfd >= 0)
			close(cardsfd);
	}
	for (size_t i = 0; rc == IH_OK && max_days < 0 && i < npages; i++)
		if (!among(pages[i], days, nall))
			removed += gallery_index_drop_day(&g, pages[i]);
	if (rc == IH_OK) {
		sweep_tmp(g.galfd);
		rc = gallery_index_rebuild_days(&g);
	}
	/*
	 * Deliveries that found the lock held left their jobs queued to us: placed
	 * now, also after a failure, and looked for again once the lock is let go.
	 */
	if (locked && (qfd = gallery_open_private(g.galfd, ".queue", O_RDWR | O_APPEND | O_CREAT)) >= 0) {
		do {
			drain(&g, qfd, err);
			(void)futimens(lockfd, NULL);
			(void)flock(lockfd, LOCK_UN);
		} while (!queue_empty(qfd) && flock(lockfd, LOCK_EX | LOCK_NB) == 0);
	}
	if (rc == IH_OK) {
		char *abs = realpath(s->output_dir, NULL);
		fprintf(out, "gallery: %u job%s in %lu day%s, %u thumbnail%s made, %u card%s of deleted "
			"jobs removed\nopen file://%s/gallery/index.html\n", jobs, jobs == 1 ? "" : "s",
			(unsigned long)ndays, ndays == 1 ? "" : "s", g.made, g.made == 1 ? "" : "s",
			removed, removed == 1 ? "" : "s", abs ? abs : s->output_dir);
		free(abs);
	} else {
		fprintf(err, "imagehook gallery: %s\n", ih_strerror(rc));
	}
	if (qfd >= 0)
		close(qfd);
	if (lockfd >= 0)
		close(lockfd);
	gallery_free_list(days, nall);
	gallery_free_list(pages, npages);
	close(jobsfd);
	gal_close(&g);
	return rc == IH_OK ? 0 : 1;
}
