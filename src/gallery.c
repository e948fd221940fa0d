/* gallery.c - static HTML pages of the stored jobs: cards, thumbnails, day pages, index. */
#include "ih_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gallery.h"
#include "store.h"
#include "utf8.h"
#include "ih_error.h"
#include "image.h"

/*
 * Layout under <output>/gallery/, all derived from the job folders, so all of it
 * can be deleted and rebuilt with `imagehook gallery`:
 *
 *   index.html                       the days, newest first
 *   YYYY-MM-DD.html                  one day's jobs, newest first
 *   cards/YYYY-MM-DD/<name>.html     one job's card (a fragment of the day page)
 *   cards/YYYY-MM-DD/.summary        the day's counts, read by the index
 *   thumbs/YYYY-MM-DD/<name>/<file>  thumbnails of the job's PNG images
 *
 * Files are written to a temporary name and renamed into place, without fsync:
 * readers (browsers, the next rebuild) only ever see a whole old or a whole new
 * file, and what a power cut may lose is rebuilt from the durable job folders by
 * the next delivery of that day or by `imagehook gallery`. The job's own promise
 * (200 means durable) does not depend on any of it, so it pays for none of it.
 */

#define MAX_JOB_JSON (16u << 20)
#define MAX_IMAGE_FILE (64u << 20)
#define MAX_CARD (1u << 20)
#define MAX_SUMMARY 4096


/* ---- HTML text ------------------------------------------------------------- */


int gallery_escape(struct buf *out, const char *s, size_t n)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, plain = 0;   /* p[plain..i) is copied as it is */
	int rc = buf_reserve(out, n);
	while (rc == IH_OK && i < n) {
		const char *rep = NULL;
		size_t take = 1;
		uint32_t cp = 0;
		switch (p[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			take = utf8_seq(p + i, n - i, &cp);
			/* C0 and C1 controls are not text: HTML would show them as garbage or not at all. */
			if (take == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
			    (cp >= 0x7f && cp <= 0x9f)) {
				rep = fffd;
				if (take == 0)
					take = 1;
			}
			break;
		}
		if (rep != NULL) {
			rc = buf_append(out, p + plain, i - plain);
			if (rc == IH_OK)
				rc = buf_puts(out, rep);
			plain = i + take;
		}
		i += take;
	}
	if (rc == IH_OK)
		rc = buf_append(out, p + plain, n - plain);
	return rc;
}

/* An HTML writer whose first error sticks, so a page is built without a check per line. */
struct html {
	struct buf *b;
	int rc;
};

static void put(struct html *h, const char *s)
{
	if (h->rc == IH_OK)
		h->rc = buf_puts(h->b, s);
}

static void putf(struct html *h, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));

static void putf(struct html *h, const char *fmt, ...)
{
	va_list ap;
	if (h->rc != IH_OK)
		return;
	va_start(ap, fmt);
	h->rc = buf_vprintf(h->b, fmt, ap);
	va_end(ap);
}

static void esc(struct html *h, const char *s)
{
	if (h->rc == IH_OK)
		h->rc = gallery_escape(h->b, s, strlen(s));
}

/* ---- names and paths -------------------------------------------------------- */

/* A job folder, split: "jobs/2026/11/27/x" gives day "2026-11-27", ymd "2026/11/27", name "x". */
struct jobref {
	char day[11];
	char ymd[11];
	char name[160];
};

static int safe_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* A name store_safe_name() can produce: also safe in a URL path, unescaped. */
static int safe_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!safe_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* True for text shaped like shape, where '0' stands for any digit. */
static int shaped(const char *s, size_t n, const char *shape)
{
	if (n != strlen(shape))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == '0' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return 0;
	return 1;
}

static int parse_job_dir(const char *dir, struct jobref *r)
{
	/* "jobs/" "YYYY/MM/DD" "/" name */
	if (strncmp(dir, "jobs/", 5) != 0 || strlen(dir) < 17 || !shaped(dir + 5, 10, "0000/00/00") ||
	    dir[15] != '/' || !safe_name(dir + 16, sizeof r->name))
		return IH_ERR_LIMIT;
	memcpy(r->ymd, dir + 5, 10);
	r->ymd[10] = '\0';
	memcpy(r->day, r->ymd, 10);
	r->day[4] = r->day[7] = '-';
	r->day[10] = '\0';
	snprintf(r->name, sizeof r->name, "%s", dir + 16);
	return IH_OK;
}

/* ---- cards ------------------------------------------------------------------ */

static int is_status(const struct payload_card *c, const char *s)
{
	return strcmp(c->status, s) == 0;
}

/* "bad" for a job that failed or lost its result, "warn" for one partly right, else "ok". */
static const char *card_class(const struct payload_card *c)
{
	if (is_status(c, "FAILED") || is_status(c, "CANCELLED") || is_status(c, "TIMED_OUT") ||
	    c->lost_upstream || strcmp(c->outcome, "worker_error") == 0 ||
	    strcmp(c->outcome, "images_rejected") == 0)
		return "bad";
	if (!is_status(c, "COMPLETED") || strcmp(c->outcome, "stored_partial") == 0)
		return "warn";
	return "ok";
}

static void put_duration(struct html *h, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		putf(h, "%lld ms", (long long)ms);
	else if (ms < 60000)
		putf(h, "%.1f s", (double)ms / 1000.0);
	else
		putf(h, "%lld min %lld s", (long long)(ms / 60000), (long long)(ms % 60000 / 1000));
}

/* The receive time as a sort key: only the characters an ISO 8601 time has. */
static void sort_key(const char *received, char *key, size_t size)
{
	size_t n = strlen(received);
	int ok = n > 0 && n < size;
	for (size_t i = 0; ok && i < n; i++)
		ok = (received[i] >= '0' && received[i] <= '9') || strchr("-:.TZ", received[i]) != NULL;
	snprintf(key, size, "%s", ok ? received : "0");
}

/* Scales w x h into a box of GALLERY_THUMB_SIDE, for the size a browser reserves. */
static void fit(uint32_t w, uint32_t h, uint32_t *ow, uint32_t *oh)
{
	uint32_t big = w > h ? w : h;
	if (big <= GALLERY_THUMB_SIDE || big == 0) {
		*ow = w;
		*oh = h;
		return;
	}
	*ow = (uint32_t)(((uint64_t)w * GALLERY_THUMB_SIDE + big / 2) / big);
	*oh = (uint32_t)(((uint64_t)h * GALLERY_THUMB_SIDE + big / 2) / big);
	if (*ow == 0)
		*ow = 1;
	if (*oh == 0)
		*oh = 1;
}

static void card_image(struct html *h, const struct jobref *r, const struct payload_card_image *im,
		       const struct gallery_thumb *t)
{
	if (im->file[0] == '\0') {
		/* Recorded, never fetched: shown as text, for it is the sender's URL. */
		put(h, "<div class=\"rej remote\"><b>remote image, not fetched</b> ");
		esc(h, im->url);
		put(h, "</div>\n");
		return;
	}
	if (!safe_name(im->file, sizeof im->file))
		return;
	if (im->rejected[0] != '\0') {
		put(h, "<div class=\"rej\"><b>rejected</b> ");
		esc(h, im->rejected);
		putf(h, " <a href=\"../jobs/%s/%s/%s\">kept bytes</a></div>\n", r->ymd, r->name,
		     im->file);
		return;
	}
	uint32_t w = 0, hh = 0;
	putf(h, "<a href=\"../jobs/%s/%s/%s\"><img ", r->ymd, r->name, im->file);
	if (t->made) {
		putf(h, "src=\"thumbs/%s/%s/%s\"", r->day, r->name, im->file);
		w = t->width;
		hh = t->height;
	} else {
		putf(h, "src=\"../jobs/%s/%s/%s\"", r->ymd, r->name, im->file);
		fit(im->width, im->height, &w, &hh);
	}
	if (w > 0 && hh > 0)
		putf(h, " width=\"%u\" height=\"%u\"", w, hh);
	putf(h, " alt=\"%s\" loading=\"lazy\"></a>\n", im->file);
}

static void card_inputs(struct html *h, const struct jobref *r, const struct payload_card *c)
{
	int any = 0;
	for (unsigned i = 0; i < c->n_images; i++) {
		const struct payload_card_image *im = &c->images[i];
		if (!im->input || !safe_name(im->file, sizeof im->file))
			continue;
		put(h, any ? ", " : "<p class=\"meta\">input images: ");
		putf(h, "<a href=\"../jobs/%s/%s/%s\">%s</a>", r->ymd, r->name, im->file, im->file);
		if (im->rejected[0] != '\0')
			put(h, " (rejected)");
		else if (im->width > 0)
			putf(h, " (%u\xc3\x97%u)", im->width, im->height);
		any = 1;
	}
	if (any)
		put(h, "</p>\n");
}

int gallery_card_html(const struct payload_card *c, const char *job_dir,
		      const struct gallery_thumb *thumbs, struct buf *out)
{
	struct jobref r;
	struct html h = { out, IH_OK };
	char key[40];
	unsigned stored = 0, rejected = 0;
	const char *first_thumb = NULL;
	const char *cls = card_class(c);

	if (parse_job_dir(job_dir, &r) != IH_OK)
		return IH_ERR_LIMIT;
	for (unsigned i = 0; i < c->n_images; i++) {
		const struct payload_card_image *im = &c->images[i];
		if (im->rejected[0] != '\0')
			rejected++;
		else if (!im->input && im->file[0] != '\0')
			stored++;
		if (first_thumb == NULL && thumbs[i].made && !im->input && safe_name(im->file, sizeof im->file))
			first_thumb = im->file;
	}
	sort_key(c->received, key, sizeof key);
	/* The day page sorts and counts by this line; nothing in it comes from the sender unchecked. */
	/* A lost result is counted as lost, not also as failed. */
	putf(&h, "<!--ih t=%s images=%u bad=%d rejected=%u lost=%d thumb=", key, stored,
	     strcmp(cls, "bad") == 0 && !c->lost_upstream, rejected, c->lost_upstream);
	if (first_thumb != NULL)
		putf(&h, "thumbs/%s/%s/%s", r.day, r.name, first_thumb);
	else
		put(&h, "-");
	putf(&h, " -->\n<article class=\"job %s\" id=\"%s\">\n<h2><span class=\"st %s\">", cls, r.name,
	     cls);
	esc(&h, c->status);
	put(&h, "</span> ");
	if (shaped(c->received, strlen(c->received), "0000-00-00T00:00:00.000Z")) {
		put(&h, "<time datetime=\"");
		esc(&h, c->received);
		putf(&h, "\">%.8s UTC</time> ", c->received + 11);
	}
	putf(&h, "<a class=\"id\" href=\"../jobs/%s/%s/job.json\">", r.ymd, r.name);
	esc(&h, c->id[0] ? c->id : r.name);
	put(&h, "</a></h2>\n");

	if (c->lost_upstream)
		put(&h, "<p class=\"mark bad\">Result lost upstream: the platform reported COMPLETED "
			"without any output.</p>\n");
	if (strcmp(c->outcome, "worker_error") == 0)
		put(&h, "<p class=\"mark bad\">The worker reported an error with its result.</p>\n");
	if (rejected > 0)
		putf(&h, "<p class=\"mark %s\">%u image%s rejected (kept as received).</p>\n",
		     stored > 0 ? "warn" : "bad", rejected, rejected == 1 ? "" : "s");
	if (c->error[0] != '\0') {
		put(&h, "<p class=\"err\">");
		esc(&h, c->error);
		put(&h, "</p>\n");
	}

	int grid = 0;
	for (unsigned i = 0; i < c->n_images; i++) {
		if (c->images[i].input)
			continue;
		if (!grid)
			put(&h, "<div class=\"imgs\">\n");
		grid = 1;
		card_image(&h, &r, &c->images[i], &thumbs[i]);
	}
	if (grid)
		put(&h, "</div>\n");
	else if (!c->lost_upstream && is_status(c, "COMPLETED"))
		put(&h, "<p class=\"meta\">No images in the output.</p>\n");
	if (c->more_images > 0)
		putf(&h, "<p class=\"meta\">%u more images in <a href=\"../jobs/%s/%s/\">the job "
			 "folder</a>.</p>\n", c->more_images, r.ymd, r.name);
	card_inputs(&h, &r, c);

	if (c->prompt[0] != '\0') {
		put(&h, "<p class=\"prompt\">");
		esc(&h, c->prompt);
		put(&h, "</p>\n");
	}
	if (c->negative[0] != '\0') {
		put(&h, "<p class=\"neg\"><span>negative:</span> ");
		esc(&h, c->negative);
		put(&h, "</p>\n");
	}
	if (c->n_params > 0) {
		put(&h, "<dl class=\"params\">");
		for (unsigned i = 0; i < c->n_params; i++) {
			put(&h, "<div><dt>");
			esc(&h, c->params[i].name);
			put(&h, "</dt><dd>");
			esc(&h, c->params[i].value);
			put(&h, "</dd></div>");
		}
		put(&h, "</dl>\n");
	}
	if (c->has_delay || c->has_exec || c->worker[0] != '\0') {
		const char *sep = "";
		put(&h, "<p class=\"meta\">");
		if (c->has_delay) {
			put(&h, "queued ");
			put_duration(&h, c->delay_ms);
			sep = " \xc2\xb7 ";
		}
		if (c->has_exec) {
			put(&h, sep);
			put(&h, "ran ");
			put_duration(&h, c->exec_ms);
			sep = " \xc2\xb7 ";
		}
		if (c->worker[0] != '\0') {
			put(&h, sep);
			put(&h, "worker ");
			esc(&h, c->worker);
		}
		put(&h, "</p>\n");
	}
	if (c->infotext[0] != '\0') {
		put(&h, "<details><summary>parameters</summary><pre>");
		esc(&h, c->infotext);
		put(&h, "</pre></details>\n");
	}
	put(&h, "</article>\n");
	return h.rc;
}

/* ---- files ------------------------------------------------------------------ */

struct gal {
	int rootfd;               /* the output root */
	int galfd;                /* gallery/ */
	const struct image_limits *lim;
	int thumbnails;           /* make missing thumbnails */
	uint64_t budget;          /* pixels still to decode for this job's thumbnails */
	unsigned long counter;    /* makes temporary names unique in this process */
	unsigned made;            /* thumbnails made */
};

static int fail_errno(void)
{
	return ih_err_from_errno(errno);
}



/* Writes name in dirfd whole: temporary name, write, rename (no fsync: see the top). */
static int put_file(struct gal *g, int dirfd, const char *name, const void *data, size_t len)
{
	char tmp[320];
	snprintf(tmp, sizeof tmp, ".tmp.%ld.%lu.%.200s", (long)getpid(), g->counter++, name);
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

/* Reads a whole file of at most cap bytes into a malloc'd, NUL-terminated buffer. */
static int get_file(int dirfd, const char *name, size_t cap, char **data, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail_errno();
	struct buf b = { 0 };
	int rc = buf_read_fd(&b, fd, cap);
	close(fd);
	if (rc != IH_OK) {
		buf_free(&b);
		return rc;
	}
	*data = b.data;
	*len = b.len;
	return IH_OK;
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

/* Takes an exclusive lock, waiting; returns the descriptor that holds it, or -1. */
static int lock_file(int dirfd, const char *name, int create)
{
	int fd = openat(dirfd, name, (create ? O_CREAT : 0) | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

/* The size in an existing thumbnail's IHDR; 0 when it is not a whole PNG header. */
static int thumb_size(int dirfd, const char *name, uint32_t *w, uint32_t *h)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char b[24];
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n;
	do {
		n = pread(fd, b, sizeof b, 0);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n != (ssize_t)sizeof b || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
		return 0;
	*w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
	*h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
	return *w > 0 && *h > 0 && *w <= GALLERY_THUMB_SIDE && *h <= GALLERY_THUMB_SIDE;
}

/* True for an image worth a thumbnail: a stored output PNG larger than one. */
static int wants_thumb(const struct payload_card_image *im)
{
	uint32_t big = im->width > im->height ? im->width : im->height;
	return !im->input && im->rejected[0] == '\0' && strcmp(im->format, "png") == 0 &&
	       safe_name(im->file, sizeof im->file) && big > GALLERY_THUMB_SIDE &&
	       (uint64_t)im->width * im->height <= GALLERY_THUMB_MAX_PIXELS;
}

/*
 * Finds or makes the thumbnails of a card's images. A thumbnail that cannot be
 * made only means the card shows the original: only running out of memory fails.
 */
static int make_thumbs(struct gal *g, int jobfd, const struct jobref *r,
		       const struct payload_card *c, struct gallery_thumb *th)
{
	char rel[200];
	int dirfd = -1;
	int rc = IH_OK;
	for (unsigned i = 0; i < c->n_images && rc != IH_ERR_NOMEM; i++) {
		const struct payload_card_image *im = &c->images[i];
		uint64_t pixels = (uint64_t)im->width * im->height;
		if (!wants_thumb(im))
			continue;
		if (dirfd < 0) {
			snprintf(rel, sizeof rel, "thumbs/%s/%s", r->day, r->name);
			/* Not making thumbnails: only look for ones made earlier (a mkdir costs ~1 ms). */
			dirfd = store_open_dirs(g->galfd, rel, g->thumbnails, 0);
			if (dirfd < 0)
				break;
		}
		if (thumb_size(dirfd, im->file, &th[i].width, &th[i].height)) {
			th[i].made = 1;
			continue;
		}
		if (!g->thumbnails || pixels > g->budget)
			continue;
		g->budget -= pixels;
		char *data = NULL;
		unsigned char *png = NULL;
		size_t len = 0, plen = 0;
		rc = get_file(jobfd, im->file, MAX_IMAGE_FILE, &data, &len);
		if (rc == IH_OK)
			rc = image_png_thumbnail((const unsigned char *)data, len, g->lim,
						 GALLERY_THUMB_SIDE, &png, &plen, &th[i].width,
						 &th[i].height);
		if (rc == IH_OK)
			rc = put_file(g, dirfd, im->file, png, plen);
		th[i].made = rc == IH_OK;
		g->made += rc == IH_OK;
		free(data);
		free(png);
	}
	if (dirfd >= 0)
		close(dirfd);
	return rc == IH_ERR_NOMEM ? rc : IH_OK;
}

/* Rewrites the card of the job in jobfd from its job.json, making thumbnails first. */
static int refresh_job(struct gal *g, int jobfd, const struct jobref *r)
{
	char *text = NULL, rel[200], dir[200];
	size_t len = 0;
	struct gallery_thumb *th = NULL;
	struct buf card = { 0 };
	int cardsfd = -1;
	struct payload_card *c = malloc(sizeof *c);
	int rc = c ? get_file(jobfd, "job.json", MAX_JOB_JSON, &text, &len) : IH_ERR_NOMEM;
	if (rc == IH_OK)
		rc = payload_card_parse(text, len, c);
	if (rc == IH_OK && (th = calloc(c->n_images + 1, sizeof *th)) == NULL)
		rc = IH_ERR_NOMEM;
	g->budget = GALLERY_JOB_PIXEL_BUDGET;
	if (rc == IH_OK)
		rc = make_thumbs(g, jobfd, r, c, th);
	snprintf(dir, sizeof dir, "jobs/%s/%s", r->ymd, r->name);
	if (rc == IH_OK)
		rc = gallery_card_html(c, dir, th, &card);
	snprintf(rel, sizeof rel, "cards/%s", r->day);
	if (rc == IH_OK && (cardsfd = store_open_dirs(g->galfd, rel, 1, 0)) < 0)
		rc = fail_errno();
	snprintf(rel, sizeof rel, "%s.html", r->name);
	if (rc == IH_OK)
		rc = put_file(g, cardsfd, rel, card.data, card.len);
	if (cardsfd >= 0)
		close(cardsfd);
	buf_free(&card);
	free(th);
	free(text);
	free(c);
	return rc;
}

/* ---- pages ------------------------------------------------------------------ */

static const char css[] =
	":root{color-scheme:light dark;--bg:#f4f4f1;--fg:#1b1b1f;--card:#fff;--mute:#66666e;"
	"--line:#dcdcd8;--bad:#b3261e;--warn:#8a5300;--ok:#1f7a35}"
	"@media (prefers-color-scheme:dark){:root{--bg:#121214;--fg:#ececf0;--card:#1d1d21;"
	"--mute:#a0a0a8;--line:#34343a;--bad:#ff8a80;--warn:#ffc46b;--ok:#7bd88f}}"
	"*{box-sizing:border-box}"
	"body{margin:0 auto;max-width:110rem;padding:1rem;background:var(--bg);color:var(--fg);"
	"font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
	"a{color:inherit}"
	"header{display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:baseline;margin:0 0 1rem}"
	"h1{font-size:1.35rem;margin:0}"
	".meta,footer{color:var(--mute);font-size:.82rem}"
	".jobs{display:grid;gap:1rem;grid-template-columns:repeat(auto-fill,minmax(min(100%,21rem),1fr))}"
	".job{min-width:0;background:var(--card);border:1px solid var(--line);border-radius:10px;"
	"padding:.75rem;overflow-wrap:anywhere}"
	".job.bad{border-left:6px solid var(--bad)}.job.warn{border-left:6px solid var(--warn)}"
	".job h2{display:flex;flex-wrap:wrap;gap:.2rem .6rem;align-items:center;margin:0 0 .5rem;"
	"font-size:.82rem;font-weight:400;color:var(--mute)}"
	".st{padding:.1rem .5rem;border-radius:1rem;font-weight:700;font-size:.75rem;color:var(--card);"
	"background:var(--ok)}.st.bad{background:var(--bad)}.st.warn{background:var(--warn)}"
	".imgs{display:grid;gap:.35rem;margin:.5rem 0;"
	"grid-template-columns:repeat(auto-fill,minmax(6.5rem,1fr))}"
	".imgs a{display:block}.imgs img{display:block;width:100%;height:auto;border-radius:6px;"
	"background:var(--line)}"
	".rej{padding:.4rem;border:2px dashed var(--bad);border-radius:6px;color:var(--bad);"
	"font-size:.8rem}"
	".mark{margin:.4rem 0;padding:.3rem .6rem;border:1px solid var(--bad);border-radius:6px;"
	"font-weight:600;color:var(--bad)}.mark.warn{border-color:var(--warn);color:var(--warn)}"
	".err{margin:.4rem 0;color:var(--bad);font-size:.85rem;white-space:pre-wrap}"
	".prompt{margin:.4rem 0;white-space:pre-wrap}"
	".neg{margin:.4rem 0;white-space:pre-wrap;color:var(--mute);font-size:.85rem}"
	".params{display:flex;flex-wrap:wrap;gap:.15rem .9rem;margin:.4rem 0;font-size:.82rem}"
	".params div{display:flex;gap:.3rem}.params dt{color:var(--mute)}.params dd{margin:0}"
	"details{font-size:.8rem}pre{white-space:pre-wrap;margin:.3rem 0}"
	".days{display:grid;gap:.6rem;padding:0;list-style:none;"
	"grid-template-columns:repeat(auto-fill,minmax(min(100%,19rem),1fr))}"
	".days a{display:flex;gap:.8rem;align-items:center;padding:.5rem;background:var(--card);"
	"border:1px solid var(--line);border-radius:10px;text-decoration:none}"
	".days img{width:4rem;height:4rem;object-fit:cover;border-radius:6px}"
	".days .none{width:4rem;height:4rem;border-radius:6px;background:var(--line)}"
	".days b{display:block;font-size:1.05rem}.bad-text{color:var(--bad);font-weight:600}";

static void page_head(struct html *h, const char *title)
{
	/*
	 * No script may run, whatever a card holds: the page needs none. Images from the
	 * gallery's own site only; file: as well, for browsers that give every local file
	 * an origin of its own.
	 */
	put(h, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	       "img-src 'self' file:; style-src 'unsafe-inline'\">\n"
	       "<meta name=\"referrer\" content=\"no-referrer\">\n"
	       "<meta name=\"generator\" content=\"" PACKAGE_STRING "\">\n<title>");
	esc(h, title);
	put(h, "</title>\n<style>");
	put(h, css);
	put(h, "</style>\n</head>\n<body>\n");
}

static void page_foot(struct html *h)
{
	char when[32];
	struct tm tm;
	time_t now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof when, "?");
	putf(h, "<footer>Written by %s at %s UTC. Every job's files are in its folder under "
		"<a href=\"../jobs/\">jobs/</a>.</footer>\n</body>\n</html>\n", PACKAGE_STRING, when);
}

/* The counts of a card's first line, or of a day's summary. */
struct counts {
	unsigned jobs, images, bad, rejected, lost;
	char thumb[240];          /* a thumbnail path relative to the gallery, or "" */
};

static unsigned field_u(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p ? (unsigned)strtoul(p + strlen(key), NULL, 10) : 0;
}

/* Reads "images=3 bad=0 ... thumb=path" (a card's first line or a summary). */
static void parse_counts(const char *line, struct counts *k)
{
	memset(k, 0, sizeof *k);
	k->jobs = field_u(line, " jobs=");
	k->images = field_u(line, " images=");
	k->bad = field_u(line, " bad=");
	k->rejected = field_u(line, " rejected=");
	k->lost = field_u(line, " lost=");
	const char *t = strstr(line, " thumb=");
	if (t != NULL) {
		t += 7;
		size_t n = strcspn(t, " \n");
		int ok = n > 0 && n < sizeof k->thumb && strncmp(t, "thumbs/", 7) == 0;
		for (size_t i = 0; ok && i < n; i++)
			ok = safe_char((unsigned char)t[i]) || t[i] == '/';
		if (ok && strstr(t, "..") == NULL) {
			memcpy(k->thumb, t, n);
			k->thumb[n] = '\0';
		}
	}
}

struct card_entry {
	char *text;
	size_t len;
	char key[40];
	char name[160];
	time_t mtime;
};

static int by_key_desc(const void *a, const void *b)
{
	const struct card_entry *x = a, *y = b;
	int c = strcmp(y->key, x->key);
	return c != 0 ? c : strcmp(x->name, y->name);
}

static int by_mtime_desc(const void *a, const void *b)
{
	const struct card_entry *x = a, *y = b;
	return (y->mtime > x->mtime) - (y->mtime < x->mtime);
}

static void free_entries(struct card_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].text);
	free(e);
}

/*
 * A listing of dirfd from its first entry. The descriptor fdopendir() takes is a
 * dup, which shares dirfd's read position: an earlier listing left it at the end.
 */
static DIR *open_listing(int dirfd)
{
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

/* Lists the cards of a day folder (names without ".html"). */
static int list_cards(int cardsfd, struct card_entry **out, size_t *count)
{
	DIR *d = open_listing(cardsfd);
	struct card_entry *e = NULL;
	size_t n = 0, cap = 0;
	int rc = IH_OK;
	if (d == NULL)
		return fail_errno();
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len <= 5 || len - 5 >= sizeof e->name || strcmp(de->d_name + len - 5, ".html") != 0 ||
		    de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct card_entry *ne = realloc(e, ncap * sizeof *ne);
			if (ne == NULL) {
				rc = IH_ERR_NOMEM;
				break;
			}
			e = ne;
			cap = ncap;
		}
		memset(&e[n], 0, sizeof e[n]);
		memcpy(e[n].name, de->d_name, len - 5);
		e[n].name[len - 5] = '\0';
		n++;
	}
	closedir(d);
	if (rc != IH_OK) {
		free_entries(e, n);
		return rc;
	}
	*out = e;
	*count = n;
	return IH_OK;
}

/* Rewrites <day>.html from the day's cards, and the day's summary for the index. */
static int rebuild_day(struct gal *g, const char *day)
{
	char rel[64], name[200];
	struct card_entry *e = NULL;
	size_t n = 0, omitted = 0;
	struct buf page = { 0 }, summary = { 0 };
	struct html h = { &page, IH_OK };
	struct counts total, k;
	int rc;

	memset(&total, 0, sizeof total);
	snprintf(rel, sizeof rel, "cards/%s", day);
	snprintf(name, sizeof name, "%s.html", day);
	int cardsfd = store_open_dirs(g->galfd, rel, 0, 0);
	if (cardsfd < 0) {
		/* No cards (any more): no page. */
		if (errno != ENOENT)
			return fail_errno();
		if (unlinkat(g->galfd, name, 0) != 0 && errno != ENOENT)
			return fail_errno();
		return IH_OK;
	}
	rc = list_cards(cardsfd, &e, &n);
	if (rc == IH_OK && n > GALLERY_DAY_MAX) {
		/* Only the newest are read: a busy day costs a stat per job, not a read. */
		struct stat sb;
		for (size_t i = 0; i < n; i++) {
			snprintf(name, sizeof name, "%s.html", e[i].name);
			e[i].mtime = fstatat(cardsfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 ? sb.st_mtime : 0;
		}
		qsort(e, n, sizeof *e, by_mtime_desc);
		omitted = n - GALLERY_DAY_MAX;
		n = GALLERY_DAY_MAX;
	}
	for (size_t i = 0; rc == IH_OK && i < n; i++) {
		snprintf(name, sizeof name, "%s.html", e[i].name);
		rc = get_file(cardsfd, name, MAX_CARD, &e[i].text, &e[i].len);
		if (rc != IH_OK && errno == ENOENT) {
			/* Removed since the listing (imagehook gallery pruning it): left out. */
			rc = IH_OK;
			continue;
		}
		if (rc != IH_OK)
			break;
		char *nl = strchr(e[i].text, '\n');
		if (strncmp(e[i].text, "<!--ih t=", 9) != 0 || nl == NULL) {
			/* Not one of ours, or cut short: left out. */
			e[i].len = 0;
			continue;
		}
		size_t kn = strcspn(e[i].text + 9, " \n");
		snprintf(e[i].key, sizeof e[i].key, "%.*s", (int)(kn < 39 ? kn : 39), e[i].text + 9);
		*nl = '\0';
		parse_counts(e[i].text, &k);
		*nl = '\n';
		total.jobs++;
		total.images += k.images;
		total.bad += k.bad;
		total.rejected += k.rejected;
		total.lost += k.lost;
	}
	if (rc == IH_OK) {
		qsort(e, n, sizeof *e, by_key_desc);
		for (size_t i = 0; i < n && total.thumb[0] == '\0'; i++) {
			char *nl = e[i].len ? strchr(e[i].text, '\n') : NULL;
			if (nl == NULL)
				continue;
			*nl = '\0';
			parse_counts(e[i].text, &k);
			*nl = '\n';
			memcpy(total.thumb, k.thumb, sizeof k.thumb);
		}
		total.jobs += (unsigned)omitted;
		char title[64];
		snprintf(title, sizeof title, "imagehook jobs of %s", day);
		page_head(&h, title);
		putf(&h, "<header><h1>%s</h1><span class=\"meta\">%u job%s \xc2\xb7 %u image%s", day,
		     total.jobs, total.jobs == 1 ? "" : "s", total.images, total.images == 1 ? "" : "s");
		if (total.bad > 0)
			putf(&h, " \xc2\xb7 <span class=\"bad-text\">%u failed</span>", total.bad);
		if (total.rejected > 0)
			putf(&h, " \xc2\xb7 <span class=\"bad-text\">%u rejected</span>", total.rejected);
		if (total.lost > 0)
			putf(&h, " \xc2\xb7 <span class=\"bad-text\">%u lost upstream</span>", total.lost);
		put(&h, "</span> <a href=\"index.html\">all days</a></header>\n<main class=\"jobs\">\n");
		for (size_t i = 0; i < n; i++) {
			char *nl = e[i].len ? strchr(e[i].text, '\n') : NULL;
			if (nl != NULL)
				put(&h, nl + 1);
		}
		put(&h, "</main>\n");
		if (omitted > 0)
			putf(&h, "<p class=\"meta\">%lu older jobs of this day are not shown; they are "
				 "in <a href=\"../jobs/%.4s/%.2s/%.2s/\">their folder</a>.</p>\n",
			     (unsigned long)omitted, day, day + 5, day + 8);
		page_foot(&h);
		rc = h.rc;
	}
	snprintf(name, sizeof name, "%s.html", day);
	if (rc == IH_OK)
		rc = put_file(g, g->galfd, name, page.data, page.len);
	if (rc == IH_OK)
		rc = buf_printf(&summary, "day jobs=%u images=%u bad=%u rejected=%u lost=%u thumb=%s\n",
				total.jobs, total.images, total.bad, total.rejected, total.lost,
				total.thumb[0] ? total.thumb : "-");
	if (rc == IH_OK)
		rc = put_file(g, cardsfd, ".summary", summary.data, summary.len);
	close(cardsfd);
	free_entries(e, n + omitted);
	buf_free(&page);
	buf_free(&summary);
	return rc;
}

static int by_string_desc(const void *a, const void *b)
{
	return strcmp(*(const char *const *)b, *(const char *const *)a);
}

/* Lists the entries of dirfd shaped like shape ("0000-00-00"), newest (largest) first. */
static int list_shaped(int dirfd, const char *shape, char ***out, size_t *count)
{
	DIR *d = open_listing(dirfd);
	char **v = NULL;
	size_t n = 0, cap = 0;
	int rc = IH_OK;
	if (d == NULL)
		return fail_errno();
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!shaped(de->d_name, strlen(de->d_name), shape))
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
	if (rc == IH_OK)
		qsort(v, n, sizeof *v, by_string_desc);
	*out = v;
	*count = n;
	return rc;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Rewrites index.html from the days' summaries. */
static int rebuild_index(struct gal *g)
{
	char **days = NULL, rel[64];
	size_t n = 0, shown = 0;
	struct buf page = { 0 };
	struct html h = { &page, IH_OK };
	struct counts k;
	int cardsfd = store_open_dirs(g->galfd, "cards", 1, 0);
	int rc = cardsfd < 0 ? fail_errno() : list_shaped(cardsfd, "0000-00-00", &days, &n);

	page_head(&h, "imagehook gallery");
	put(&h, "<header><h1>Received jobs</h1><span class=\"meta\">by day, newest first</span>"
		"</header>\n<ul class=\"days\">\n");
	for (size_t i = 0; rc == IH_OK && i < n; i++) {
		char *text = NULL;
		size_t len = 0;
		snprintf(rel, sizeof rel, "%s/.summary", days[i]);
		if (get_file(cardsfd, rel, MAX_SUMMARY, &text, &len) != IH_OK)
			continue;   /* a day being written for the first time, or emptied */
		parse_counts(text, &k);
		free(text);
		if (k.jobs == 0)
			continue;
		putf(&h, "<li><a href=\"%s.html\">", days[i]);
		if (k.thumb[0] != '\0')
			putf(&h, "<img src=\"%s\" alt=\"\" loading=\"lazy\">", k.thumb);
		else
			put(&h, "<span class=\"none\"></span>");
		putf(&h, "<span><b>%s</b><span class=\"meta\">%u job%s \xc2\xb7 %u image%s", days[i],
		     k.jobs, k.jobs == 1 ? "" : "s", k.images, k.images == 1 ? "" : "s");
		if (k.bad > 0)
			putf(&h, " \xc2\xb7 <span class=\"bad-text\">%u failed</span>", k.bad);
		if (k.rejected > 0)
			putf(&h, " \xc2\xb7 <span class=\"bad-text\">%u rejected</span>", k.rejected);
		if (k.lost > 0)
			putf(&h, " \xc2\xb7 <span class=\"bad-text\">%u lost upstream</span>", k.lost);
		put(&h, "</span></span></a></li>\n");
		shown++;
	}
	put(&h, "</ul>\n");
	if (shown == 0)
		put(&h, "<p>No jobs yet.</p>\n");
	page_foot(&h);
	if (rc == IH_OK)
		rc = h.rc;
	if (rc == IH_OK)
		rc = put_file(g, g->galfd, "index.html", page.data, page.len);
	if (cardsfd >= 0)
		close(cardsfd);
	free_list(days, n);
	buf_free(&page);
	return rc;
}

/* Rewrites the pages of the given days and the index, under the gallery's lock. */
static int rebuild_pages(struct gal *g, char *const *days, size_t n)
{
	int lockfd = lock_file(g->galfd, ".lock", 1);
	if (lockfd < 0)
		return fail_errno();
	/*
	 * Without the lock, two processes could each list the cards before the other's
	 * was written, and the last rename would drop one job. With it, whoever rebuilds
	 * last has seen every card written before it took the lock.
	 */
	int rc = IH_OK;
	for (size_t i = 0; rc == IH_OK && i < n; i++)
		rc = rebuild_day(g, days[i]);
	if (rc == IH_OK)
		rc = rebuild_index(g);
	close(lockfd);
	return rc;
}

/* Sets (1) or clears (0) the "pages need a rebuild" flag, one byte of gallery/.pending. */
static int pending_set(int fd, int on)
{
	char c = on ? '1' : '0';
	return pwrite(fd, &c, 1, 0) == 1 ? IH_OK : fail_errno();
}

static int pending_get(int fd)
{
	char c = '0';
	return pread(fd, &c, 1, 0) == 1 && c == '1';
}

/*
 * The request path's rebuild, coalesced like a group commit: under load,
 * deliveries do not each rewrite the same day page. A delivery whose card is
 * written raises the pending flag, then waits for the flag's lock. If the flag is
 * down by then, a rebuild that started after its card was written has run (the
 * flag is lowered just before each rebuild lists the cards), so the card is on
 * the page; if it is still up, this delivery rebuilds, for itself and for every
 * delivery that raised it meanwhile. The wait is at most one rebuild.
 */
static int rebuild_pages_coalesced(struct gal *g, char *const *days, size_t n)
{
	int fd = openat(g->galfd, ".pending", O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return fail_errno();
	int rc = pending_set(fd, 1);
	while (rc == IH_OK && flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR)
			rc = fail_errno();
	}
	if (rc == IH_OK && pending_get(fd)) {
		rc = pending_set(fd, 0);
		if (rc == IH_OK)
			rc = rebuild_pages(g, days, n);
	}
	close(fd);
	return rc;
}

void gallery_job_stored(const struct settings *s, const char *job_dir)
{
	struct gal g;
	struct jobref r;
	const char *step = "job folder";
	int jobfd = -1;

	if (!s->gallery)
		return;
	int rc = parse_job_dir(job_dir, &r);
	if (rc == IH_OK) {
		step = "gallery folder";
		rc = gal_open(&g, s->output_dir, &s->image);
	} else {
		g.rootfd = g.galfd = -1;
	}
	if (rc == IH_OK && (jobfd = store_open_dirs(g.rootfd, job_dir, 0, 0)) < 0)
		rc = fail_errno();
	if (rc == IH_OK) {
		step = "card";
		g.thumbnails = s->thumbnails;
		rc = refresh_job(&g, jobfd, &r);
	}
	if (rc == IH_OK) {
		char *days[1] = { r.day };
		step = "pages";
		rc = rebuild_pages_coalesced(&g, days, 1);
	}
	/* The job is stored and its answer is 200 regardless: this is for the operator. */
	if (rc != IH_OK)
		fprintf(stderr, "imagehook: gallery not updated for %s (%s): %s\n", job_dir, step,
			ih_strerror(rc));
	if (jobfd >= 0)
		close(jobfd);
	gal_close(&g);
}

/* ---- imagehook gallery ------------------------------------------------------- */

/* Removes thumbs/<day>/<name>/ and what is in it. */
static void remove_thumbs(struct gal *g, const char *day, const char *name)
{
	char rel[200];
	snprintf(rel, sizeof rel, "thumbs/%s/%s", day, name);
	int fd = store_open_dirs(g->galfd, rel, 0, 0);
	if (fd < 0)
		return;
	DIR *d = open_listing(fd);
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strncmp(de->d_name, ".tmp.", 5) == 0)
			(void)unlinkat(fd, de->d_name, 0);
	if (d != NULL)
		closedir(d);
	close(fd);
	/* Best effort, like the unlinks above: a leftover folder only costs its inode. */
	(void)unlinkat(g->galfd, rel, AT_REMOVEDIR);
}

/* Removes temporary files older than an hour from dirfd: what a crash mid-write left. */
static void sweep_tmp(int dirfd)
{
	DIR *d = open_listing(dirfd);
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

/*
 * Drops the cards (and thumbnails) of day whose job folder is gone: an operator
 * deleting old jobs should not leave a page of broken links.
 */
static unsigned prune_day(struct gal *g, int jobsfd, const char *day)
{
	char rel[200], ymd[11];
	struct card_entry *e = NULL;
	size_t n = 0;
	unsigned removed = 0;
	struct stat sb;
	snprintf(rel, sizeof rel, "cards/%s", day);
	int cardsfd = store_open_dirs(g->galfd, rel, 0, 0);
	if (cardsfd < 0)
		return 0;
	snprintf(ymd, sizeof ymd, "%.4s/%.2s/%.2s", day, day + 5, day + 8);
	sweep_tmp(cardsfd);
	int listed = list_cards(cardsfd, &e, &n) == IH_OK;
	if (listed) {
		for (size_t i = 0; i < n; i++) {
			snprintf(rel, sizeof rel, "%s/%s", ymd, e[i].name);
			if (fstatat(jobsfd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
				continue;
			snprintf(rel, sizeof rel, "%s.html", e[i].name);
			if (unlinkat(cardsfd, rel, 0) == 0)
				removed++;
			remove_thumbs(g, day, e[i].name);
		}
		free_entries(e, n);
	}
	if (listed && n == removed) {
		/* Nothing left of the day: no summary, no folder, and rebuild_day drops its page. */
		(void)unlinkat(cardsfd, ".summary", 0);
		snprintf(rel, sizeof rel, "cards/%s", day);
		(void)unlinkat(g->galfd, rel, AT_REMOVEDIR);
		snprintf(rel, sizeof rel, "thumbs/%s", day);
		(void)unlinkat(g->galfd, rel, AT_REMOVEDIR);
	}
	close(cardsfd);
	return removed;
}

/* Refreshes the card of every job folder of one day (jobs/YYYY/MM/DD). */
static int refresh_day(struct gal *g, int jobsfd, const char *ymd, unsigned *jobs, FILE *err)
{
	struct jobref r;
	int dayfd = store_open_dirs(jobsfd, ymd, 0, 0);
	if (dayfd < 0)
		return fail_errno();
	DIR *d = open_listing(dayfd);
	if (d == NULL) {
		int rc = fail_errno();
		close(dayfd);
		return rc;
	}
	memcpy(r.ymd, ymd, 11);
	memcpy(r.day, ymd, 11);
	r.day[4] = r.day[7] = '-';
	int rc = IH_OK;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!safe_name(de->d_name, sizeof r.name))
			continue;
		memcpy(r.name, de->d_name, strlen(de->d_name) + 1);   /* safe_name() checked its length */
		int jobfd = store_open_dirs(dayfd, r.name, 0, 0);
		if (jobfd < 0)
			continue;
		struct stat sb;
		if (fstatat(jobfd, "job.json", &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			/* A delivery that never got to its record (crash, disk full): no card. */
			fprintf(err, "imagehook: gallery: jobs/%s/%s has no job.json, skipped\n", ymd,
				r.name);
			close(jobfd);
			continue;
		}
		/* The lock the handler holds on the job folder while it stores: no half-written job.json. */
		while (flock(jobfd, LOCK_EX) != 0 && errno == EINTR)
			;
		int jrc = refresh_job(g, jobfd, &r);
		close(jobfd);
		if (jrc == IH_OK) {
			(*jobs)++;
		} else {
			fprintf(err, "imagehook: gallery: jobs/%s/%s: %s\n", ymd, r.name, ih_strerror(jrc));
			if (jrc == IH_ERR_NOMEM) {
				rc = jrc;
				break;
			}
		}
	}
	closedir(d);
	close(dayfd);
	return rc;
}

/* Lists the job days (YYYY/MM/DD) below jobs/, newest first. */
static int list_job_days(int jobsfd, char ***out, size_t *count)
{
	char **years = NULL, **months = NULL, **days = NULL, **v = NULL;
	size_t ny = 0, nm = 0, nd = 0, n = 0, cap = 0;
	char rel[16];
	int rc = list_shaped(jobsfd, "0000", &years, &ny);
	for (size_t y = 0; rc == IH_OK && y < ny; y++) {
		int yfd = store_open_dirs(jobsfd, years[y], 0, 0);
		if (yfd < 0)
			continue;
		rc = list_shaped(yfd, "00", &months, &nm);
		for (size_t m = 0; rc == IH_OK && m < nm; m++) {
			snprintf(rel, sizeof rel, "%s/%s", years[y], months[m]);
			int mfd = store_open_dirs(jobsfd, rel, 0, 0);
			if (mfd < 0)
				continue;
			rc = list_shaped(mfd, "00", &days, &nd);
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
			free_list(days, nd);
			days = NULL;
			nd = 0;
		}
		close(yfd);
		free_list(months, nm);
		months = NULL;
		nm = 0;
	}
	free_list(years, ny);
	if (rc != IH_OK) {
		free_list(v, n);
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
	size_t ndays = 0, npages = 0;
	unsigned jobs = 0, removed = 0;
	int jobsfd = -1;
	errno = 0;
	int rc = gal_open(&g, s->output_dir, &s->image);
	if (rc == IH_OK && (jobsfd = store_open_dirs(g.rootfd, "jobs", 0, 0)) < 0)
		rc = fail_errno();
	/* The system's word says more than ours here ("No such file or directory"). */
	int e = rc != IH_OK ? errno : 0;
	if (rc == IH_OK)
		rc = list_job_days(jobsfd, &days, &ndays);
	if (rc != IH_OK) {
		fprintf(err, "imagehook gallery: %s: %s\n", s->output_dir,
			rc == IH_ERR_NOMEM || e == 0 ? ih_strerror(rc) : strerror(e));
		if (jobsfd >= 0)
			close(jobsfd);
		gal_close(&g);
		return 1;
	}
	if (max_days > 0 && (size_t)max_days < ndays) {
		for (size_t i = (size_t)max_days; i < ndays; i++)
			free(days[i]);
		ndays = (size_t)max_days;
	}
	g.thumbnails = thumbnails;
	for (size_t i = 0; rc == IH_OK && i < ndays; i++)
		rc = refresh_day(&g, jobsfd, days[i], &jobs, err);

	/* Pages: the days refreshed, and every day with cards (to prune) unless --days. */
	if (rc == IH_OK) {
		int cardsfd = store_open_dirs(g.galfd, "cards", 1, 0);
		rc = cardsfd < 0 ? fail_errno() : list_shaped(cardsfd, "0000-00-00", &pages, &npages);
		if (cardsfd >= 0)
			close(cardsfd);
	}
	for (size_t i = 0; rc == IH_OK && i < npages; i++) {
		int recent = max_days < 0;
		for (size_t j = 0; !recent && j < ndays; j++)
			recent = strncmp(pages[i], days[j], 4) == 0 &&
				 strncmp(pages[i] + 5, days[j] + 5, 2) == 0 &&
				 strncmp(pages[i] + 8, days[j] + 8, 2) == 0;
		if (!recent) {
			/* Older than --days: left as they are. */
			free(pages[i]);
			pages[i] = NULL;
			continue;
		}
		removed += prune_day(&g, jobsfd, pages[i]);
	}
	if (rc == IH_OK) {
		size_t k = 0;
		for (size_t i = 0; i < npages; i++)
			if (pages[i] != NULL)
				pages[k++] = pages[i];
		for (size_t i = k; i < npages; i++)
			pages[i] = NULL;
		sweep_tmp(g.galfd);
		rc = rebuild_pages(&g, pages, k);
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
	free_list(days, ndays);
	free_list(pages, npages);
	close(jobsfd);
	gal_close(&g);
	return rc == IH_OK ? 0 : 1;
}
