/* gallery_index.c - the gallery's order: each day's pages of cards, its summary, the index. */
#include "ih_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gallery_impl.h"
#include "ih_error.h"
#include "store.h"

#define MAX_CARD (1u << 20)
#define MAX_LIST (1u << 20)
/* A summary is one record of this size, rewritten in place. */
#define SUMMARY_SIZE 512
/* The index reads this much of the end of .days: the newest days, with room for repeats. */
#define DAYS_TAIL (GALLERY_INDEX_DAYS * 4 * 11)

static int fail_errno(void)
{
	return ih_err_from_errno(errno);
}

static int open_cards(struct gal *g, const char *day, int create)
{
	char rel[64];
	snprintf(rel, sizeof rel, "cards/%s", day);
	return store_open_dirs(g->galfd, rel, create, 0);
}

static unsigned pages_of(unsigned jobs)
{
	return jobs == 0 ? 1 : (jobs + GALLERY_PAGE_JOBS - 1) / GALLERY_PAGE_JOBS;
}

/* Reads up to size-1 bytes from the start of name into text (NUL-terminated); *found 0 when absent. */
static int read_head(int dirfd, const char *name, char *text, size_t size, int *found)
{
	*found = 0;
	text[0] = '\0';
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	/* A symlink planted in its place is no file of ours: as if absent, and replaced when written. */
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? IH_OK : fail_errno();
	ssize_t n;
	do {
		n = pread(fd, text, size - 1, 0);
	} while (n < 0 && errno == EINTR);
	int rc = n < 0 ? fail_errno() : IH_OK;
	close(fd);
	if (rc == IH_OK) {
		text[n] = '\0';
		*found = 1;
	}
	return rc;
}

/* ---- the summary: the day's counts ---- */

static int summary_read(int cardsfd, struct gallery_counts *k, int *found)
{
	char text[SUMMARY_SIZE];
	int rc = read_head(cardsfd, ".summary", text, sizeof text, found);
	memset(k, 0, sizeof *k);
	if (rc == IH_OK && *found)
		gallery_parse_counts(text, k);
	return rc;
}

static int summary_write(int cardsfd, const struct gallery_counts *k)
{
	char text[SUMMARY_SIZE];
	int n = snprintf(text, sizeof text,
			 "day jobs=%u images=%u bad=%u rejected=%u lost=%u links=%u thumb=%s", k->jobs,
			 k->images, k->bad, k->rejected, k->lost, k->links, k->thumb[0] ? k->thumb : "-");
	if (n < 0 || (size_t)n >= sizeof text)
		return IH_ERR_LIMIT;
	/* Padded to one size: rewritten in place, it never leaves the tail of a longer one. */
	memset(text + n, ' ', sizeof text - (size_t)n - 1);
	text[sizeof text - 1] = '\n';
	int fd = gallery_open_private(cardsfd, ".summary", O_WRONLY | O_CREAT);
	if (fd < 0)
		return fail_errno();
	ssize_t w;
	do {
		w = pwrite(fd, text, sizeof text, 0);
	} while (w < 0 && errno == EINTR);
	int rc = w == (ssize_t)sizeof text ? IH_OK : w < 0 ? fail_errno() : IH_ERR_NOSPACE;
	close(fd);
	return rc;
}

/* Appends line (with its newline) to a file changed in place. */
static int append_line(int dirfd, const char *name, const char *line)
{
	int fd = gallery_open_private(dirfd, name, O_WRONLY | O_APPEND | O_CREAT);
	if (fd < 0)
		return fail_errno();
	int rc = store_write_all(fd, line, strlen(line)) == 0 ? IH_OK : fail_errno();
	close(fd);
	return rc;
}

/* ---- cards ---- */

/* Copies card text[0..len) with " page=N" added to its first line ("<!--ih ... -->"). */
static int card_with_page(const char *text, size_t len, unsigned page, struct buf *out)
{
	const char *nl = memchr(text, '\n', len);
	if (nl == NULL || nl - text < 4 || memcmp(nl - 4, " -->", 4) != 0)
		return IH_ERR_LIMIT;
	int rc = buf_append(out, text, (size_t)(nl - 4 - text));
	if (rc == IH_OK)
		rc = buf_printf(out, " page=%u", page);
	if (rc == IH_OK)
		rc = buf_append(out, nl - 4, len - (size_t)(nl - 4 - text));
	return rc;
}

static void counts_add(struct gallery_counts *t, const struct gallery_counts *k, int sign)
{
	unsigned *to[] = { &t->images, &t->bad, &t->rejected, &t->lost, &t->links };
	const unsigned from[] = { k->images, k->bad, k->rejected, k->lost, k->links };
	for (size_t i = 0; i < sizeof from / sizeof from[0]; i++)
		*to[i] = sign > 0 ? *to[i] + from[i] : *to[i] >= from[i] ? *to[i] - from[i] : 0;
}

static int dirty_page(struct gal *g, struct gallery_dirty *d, const char *day, unsigned page)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->pages[i].page == page && strcmp(d->pages[i].day, day) == 0)
			return IH_OK;
	/* A batch this large (many days at once): render what it has so far. */
	if (d->n == GALLERY_DIRTY_MAX) {
		int rc = gallery_index_render(g, d);
		if (rc != IH_OK)
			return rc;
	}
	snprintf(d->pages[d->n].day, sizeof d->pages[d->n].day, "%s", day);
	d->pages[d->n].page = page;
	d->n++;
	return IH_OK;
}

int gallery_index_add(struct gal *g, const struct gallery_jobref *r, const char *text, size_t len,
		      struct gallery_dirty *d)
{
	char name[200], head[1024];
	struct gallery_counts total, old, k;
	struct buf card = { 0 };
	int had_summary = 0, had_card = 0;
	int cardsfd = open_cards(g, r->day, 1);
	if (cardsfd < 0)
		return fail_errno();
	snprintf(name, sizeof name, "%s.html", r->name);
	int rc = summary_read(cardsfd, &total, &had_summary);
	if (rc == IH_OK)
		rc = read_head(cardsfd, name, head, sizeof head, &had_card);
	if (rc != IH_OK)
		goto out;
	memset(&old, 0, sizeof old);
	if (had_card && strncmp(head, "<!--ih t=", 9) == 0)
		gallery_parse_counts(head, &old);
	gallery_parse_counts(text, &k);

	/* A job keeps its page; a new one goes on the day's newest. */
	int is_new = old.page == 0;
	unsigned page = old.page;
	if (is_new) {
		page = total.jobs / GALLERY_PAGE_JOBS + 1;
		total.jobs++;
	} else {
		counts_add(&total, &old, -1);
	}
	counts_add(&total, &k, +1);
	if (k.thumb[0] != '\0' && (is_new || total.thumb[0] == '\0'))
		memcpy(total.thumb, k.thumb, sizeof total.thumb);

	rc = card_with_page(text, len, page, &card);
	if (rc == IH_OK)
		rc = gallery_put_file(g, cardsfd, name, card.data, card.len);
	if (rc == IH_OK && is_new) {
		char list[32], line[200];
		snprintf(list, sizeof list, "page-%u.list", page);
		snprintf(line, sizeof line, "%s\n", r->name);
		rc = append_line(cardsfd, list, line);
	}
	if (rc == IH_OK)
		rc = summary_write(cardsfd, &total);
	if (rc == IH_OK && !had_summary) {
		char line[16];
		snprintf(line, sizeof line, "%s\n", r->day);
		rc = append_line(g->galfd, ".days", line);
		d->all_days = 1;
	}
	if (rc == IH_OK)
		rc = dirty_page(g, d, r->day, page);
	/* The newest page shows the day's counts: an older job's new status changes them. */
	if (rc == IH_OK && page != pages_of(total.jobs))
		rc = dirty_page(g, d, r->day, pages_of(total.jobs));
	/* The first job of a page moves the one before it from <day>.html to <day>-pN.html. */
	if (rc == IH_OK && is_new && page > 1 && (total.jobs - 1) % GALLERY_PAGE_JOBS == 0)
		rc = dirty_page(g, d, r->day, page - 1);
	d->index = 1;
out:
	buf_free(&card);
	close(cardsfd);
	return rc;
}

/* ---- pages ---- */

struct entry {
	char *text;
	char key[40];
	char name[160];
};

static int by_key_desc(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(y->key, x->key);
	return c != 0 ? c : strcmp(x->name, y->name);
}

static void free_entries(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].text);
	free(e);
}

/* Splits text into its lines that are safe names, each once, into *out (names borrowed from text). */
static int split_names(char *text, char ***out, size_t *count)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	for (char *line = text; *line != '\0';) {
		char *nl = strchr(line, '\n');
		if (nl == NULL)
			break;   /* a line cut short (disk full while appending): not a name */
		*nl = '\0';
		int dup = !gallery_safe_name(line, 160);
		for (size_t i = 0; !dup && i < n; i++)
			dup = strcmp(v[i], line) == 0;
		if (!dup) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				char **nv = realloc(v, ncap * sizeof *nv);
				if (nv == NULL) {
					free(v);
					return IH_ERR_NOMEM;
				}
				v = nv;
				cap = ncap;
			}
			v[n++] = line;
		}
		line = nl + 1;
	}
	*out = v;
	*count = n;
	return IH_OK;
}

/* Writes page `page` of day: <day>.html when it is the newest, else <day>-p<page>.html. */
static int render_page(struct gal *g, const char *day, unsigned page)
{
	char name[200];
	char *list = NULL, **names = NULL;
	size_t len = 0, n = 0, m = 0;
	struct entry *e = NULL;
	struct gallery_counts total;
	struct buf out = { 0 };
	int found = 0;
	int cardsfd = open_cards(g, day, 0);
	if (cardsfd < 0)
		return errno == ENOENT ? IH_OK : fail_errno();
	int rc = summary_read(cardsfd, &total, &found);
	snprintf(name, sizeof name, "page-%u.list", page);
	if (rc == IH_OK) {
		rc = gallery_get_file(cardsfd, name, MAX_LIST, &list, &len);
		if (rc != IH_OK && errno == ENOENT) {
			list = NULL;
			rc = IH_OK;
		}
	}
	if (rc == IH_OK && list != NULL)
		rc = split_names(list, &names, &n);
	if (rc == IH_OK && n > 0 && (e = calloc(n, sizeof *e)) == NULL)
		rc = IH_ERR_NOMEM;
	for (size_t i = 0; rc == IH_OK && i < n; i++) {
		size_t clen;
		snprintf(name, sizeof name, "%s.html", names[i]);
		rc = gallery_get_file(cardsfd, name, MAX_CARD, &e[m].text, &clen);
		if (rc != IH_OK && (errno == ENOENT || errno == ELOOP)) {
			rc = IH_OK;   /* removed since (imagehook gallery pruning it): left out */
			continue;
		}
		if (rc != IH_OK)
			break;
		if (strncmp(e[m].text, "<!--ih t=", 9) != 0 || strchr(e[m].text, '\n') == NULL) {
			free(e[m].text);   /* not one of ours, or cut short: left out */
			e[m].text = NULL;
			continue;
		}
		size_t kn = strcspn(e[m].text + 9, " \n");
		snprintf(e[m].key, sizeof e[m].key, "%.*s", (int)(kn < 39 ? kn : 39), e[m].text + 9);
		snprintf(e[m].name, sizeof e[m].name, "%s", names[i]);
		m++;
	}
	if (rc == IH_OK) {
		if (m > 0)
			qsort(e, m, sizeof *e, by_key_desc);
		char **cards = malloc((m ? m : 1) * sizeof *cards);
		if (cards == NULL)
			rc = IH_ERR_NOMEM;
		for (size_t i = 0; cards != NULL && i < m; i++)
			cards[i] = e[i].text;
		unsigned pages = pages_of(total.jobs);
		struct gallery_page_info pi = { day, page, pages > page ? pages : page, &total };
		if (rc == IH_OK)
			rc = gallery_day_page_html(&pi, cards, m, &out);
		free(cards);
		if (page >= pi.pages)
			snprintf(name, sizeof name, "%s.html", day);
		else
			snprintf(name, sizeof name, "%s-p%u.html", day, page);
		if (rc == IH_OK)
			rc = gallery_put_file(g, g->galfd, name, out.data, out.len);
	}
	buf_free(&out);
	free_entries(e, m);
	free(names);
	free(list);
	close(cardsfd);
	return rc;
}

/* The summaries of days[0..n) into k[]; a day without one counts no jobs (and is not shown). */
static void read_summaries(struct gal *g, char *const *days, size_t n, struct gallery_counts *k)
{
	for (size_t i = 0; i < n; i++) {
		int found = 0;
		memset(&k[i], 0, sizeof k[i]);
		int fd = open_cards(g, days[i], 0);
		if (fd < 0)
			continue;
		if (summary_read(fd, &k[i], &found) != IH_OK)
			memset(&k[i], 0, sizeof k[i]);
		close(fd);
	}
}

static int by_string_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* index.html from the newest days in the end of .days. */
static int render_index(struct gal *g)
{
	char tail[DAYS_TAIL + 1];
	char *days[GALLERY_INDEX_DAYS * 4];
	struct gallery_counts k[GALLERY_INDEX_DAYS];
	size_t n = 0;
	off_t from = 0;
	struct stat sb;
	struct buf out = { 0 };
	int rc = IH_OK;
	tail[0] = '\0';
	int fd = openat(g->galfd, ".days", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return fail_errno();
	if (fd >= 0) {
		ssize_t got = -1;
		if (fstat(fd, &sb) == 0) {
			from = sb.st_size > DAYS_TAIL ? sb.st_size - DAYS_TAIL : 0;
			do {
				got = pread(fd, tail, DAYS_TAIL, from);
			} while (got < 0 && errno == EINTR);
		}
		if (got < 0)
			rc = fail_errno();
		close(fd);
		tail[got > 0 ? got : 0] = '\0';
	}
	/* Lines shaped like a day, each once; the first may be cut where the read began. */
	for (char *line = tail; rc == IH_OK && *line != '\0';) {
		char *nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		int keep = gallery_shaped(line, strlen(line), "0000-00-00") &&
			   n < sizeof days / sizeof days[0];
		for (size_t i = 0; keep && i < n; i++)
			keep = strcmp(days[i], line) != 0;
		if (keep)
			days[n++] = line;
		line = nl + 1;
	}
	if (n > 0)
		qsort(days, n, sizeof days[0], by_string_desc);
	int more = from > 0 || n > GALLERY_INDEX_DAYS;
	if (n > GALLERY_INDEX_DAYS)
		n = GALLERY_INDEX_DAYS;
	read_summaries(g, days, n, k);
	if (rc == IH_OK)
		rc = gallery_index_html(days, k, n, more, 0, &out);
	if (rc == IH_OK)
		rc = gallery_put_file(g, g->galfd, "index.html", out.data, out.len);
	buf_free(&out);
	return rc;
}

/* days.html: every day with cards. Linear in the days; written when a day is added. */
static int render_days(struct gal *g)
{
	char **days = NULL;
	size_t n = 0;
	struct gallery_counts *k = NULL;
	struct buf out = { 0 };
	int cardsfd = store_open_dirs(g->galfd, "cards", 1, 0);
	int rc = cardsfd < 0 ? fail_errno() : gallery_list_shaped(cardsfd, "0000-00-00", &days, &n);
	if (rc == IH_OK && (k = calloc(n ? n : 1, sizeof *k)) == NULL)
		rc = IH_ERR_NOMEM;
	if (rc == IH_OK) {
		read_summaries(g, days, n, k);
		rc = gallery_index_html(days, k, n, 0, 1, &out);
	}
	if (rc == IH_OK)
		rc = gallery_put_file(g, g->galfd, "days.html", out.data, out.len);
	if (cardsfd >= 0)
		close(cardsfd);
	gallery_free_list(days, n);
	free(k);
	buf_free(&out);
	return rc;
}

int gallery_index_render(struct gal *g, struct gallery_dirty *d)
{
	int rc = IH_OK;
	for (size_t i = 0; i < d->n; i++) {
		int prc = render_page(g, d->pages[i].day, d->pages[i].page);
		if (rc == IH_OK)
			rc = prc;
	}
	if (d->all_days) {
		int prc = render_days(g);
		if (rc == IH_OK)
			rc = prc;
	}
	if (d->index || d->all_days) {
		int prc = render_index(g);
		if (rc == IH_OK)
			rc = prc;
	}
	memset(d, 0, sizeof *d);
	return rc;
}

/* ---- imagehook gallery: whole days ---- */

struct job {
	char name[160];
	char key[40];
};

static int by_key_asc(const void *a, const void *b)
{
	const struct job *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c != 0 ? c : strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct job *)a)->name, ((const struct job *)b)->name);
}

/* Removes <day>.html and <day>-pN.html for N from `from` up to the first that is missing past `to`. */
static void remove_pages(struct gal *g, const char *day, unsigned from, unsigned to, int newest)
{
	char name[64];
	for (unsigned p = from; p <= to || p < from + 2; p++) {
		snprintf(name, sizeof name, "%s-p%u.html", day, p);
		if (unlinkat(g->galfd, name, 0) != 0 && errno == ENOENT && p > to)
			break;
	}
	if (newest) {
		snprintf(name, sizeof name, "%s.html", day);
		(void)unlinkat(g->galfd, name, 0);   /* best effort: a stale page only */
	}
}

/* The jobs of one day folder: the names of its job folders that have a job.json. */
static int list_jobs(int dayfd, struct job **out, size_t *count)
{
	DIR *d = gallery_listing(dayfd);
	struct job *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat sb;
	char rel[300];
	if (d == NULL)
		return fail_errno();
	int rc = IH_OK;
	while ((de = readdir(d)) != NULL) {
		if (!gallery_safe_name(de->d_name, sizeof v->name))
			continue;
		snprintf(rel, sizeof rel, "%.200s/job.json", de->d_name);
		if (fstatat(dayfd, rel, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct job *nv = realloc(v, ncap * sizeof *nv);
			if (nv == NULL) {
				rc = IH_ERR_NOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		memset(&v[n], 0, sizeof v[n]);
		snprintf(v[n].name, sizeof v[n].name, "%.159s", de->d_name);
		n++;
	}
	closedir(d);
	*out = v;
	*count = n;
	return rc;
}

/* Removes the cards (and thumbnails) in cards/<day> of jobs not in keep[0..nk) (sorted by name). */
static unsigned remove_stale_cards(struct gal *g, int cardsfd, const char *day, struct job *keep,
				   size_t nk)
{
	DIR *d = gallery_listing(cardsfd);
	struct dirent *de;
	unsigned removed = 0;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct job probe;
		if (de->d_name[0] == '.' || len <= 5 || len - 5 >= sizeof probe.name ||
		    strcmp(de->d_name + len - 5, ".html") != 0)
			continue;
		memset(&probe, 0, sizeof probe);
		memcpy(probe.name, de->d_name, len - 5);
		if (nk > 0 && bsearch(&probe, keep, nk, sizeof *keep, by_name) != NULL)
			continue;
		if (unlinkat(cardsfd, de->d_name, 0) == 0)
			removed++;
		gallery_remove_thumbs(g, day, probe.name);
	}
	closedir(d);
	return removed;
}

unsigned gallery_index_drop_day(struct gal *g, const char *day)
{
	char rel[64];
	struct gallery_counts total;
	int found = 0;
	int cardsfd = open_cards(g, day, 0);
	if (cardsfd < 0)
		return 0;
	if (summary_read(cardsfd, &total, &found) != IH_OK)
		memset(&total, 0, sizeof total);
	unsigned removed = remove_stale_cards(g, cardsfd, day, NULL, 0);
	/* What is left: the page lists, the summary, temporary files. */
	DIR *d = gallery_listing(cardsfd);
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)unlinkat(cardsfd, de->d_name, 0);   /* best effort, like all of pruning */
	if (d != NULL)
		closedir(d);
	close(cardsfd);
	snprintf(rel, sizeof rel, "cards/%s", day);
	(void)unlinkat(g->galfd, rel, AT_REMOVEDIR);
	snprintf(rel, sizeof rel, "thumbs/%s", day);
	(void)unlinkat(g->galfd, rel, AT_REMOVEDIR);
	remove_pages(g, day, 1, pages_of(total.jobs), 1);
	return removed;
}

int gallery_index_rebuild_day(struct gal *g, int jobsfd, const char *ymd, gallery_card_fn refresh,
			      void *ctx, unsigned *jobs, unsigned *removed, FILE *err)
{
	struct gallery_jobref r;
	struct gallery_counts total, old, k;
	struct job *v = NULL;
	size_t n = 0, placed = 0;
	struct buf *lists = NULL;
	int found = 0;
	memcpy(r.ymd, ymd, 11);
	memcpy(r.day, ymd, 11);
	r.day[4] = r.day[7] = '-';
	int dayfd = store_open_dirs(jobsfd, ymd, 0, 0);
	if (dayfd < 0)
		return fail_errno();
	int cardsfd = open_cards(g, r.day, 1);
	int rc = cardsfd < 0 ? fail_errno() : list_jobs(dayfd, &v, &n);
	if (rc == IH_OK)
		rc = summary_read(cardsfd, &old, &found);

	/* Each job's receive time first: pages go by it, the oldest on page 1. */
	for (size_t i = 0; rc == IH_OK && i < n; i++) {
		snprintf(r.name, sizeof r.name, "%s", v[i].name);
		int jobfd = store_open_dirs(dayfd, r.name, 0, 0);
		int jrc = jobfd < 0 ? fail_errno() : refresh(ctx, jobfd, &r, NULL, v[i].key);
		if (jobfd >= 0)
			close(jobfd);
		if (jrc == IH_ERR_NOMEM)
			rc = jrc;
		else if (jrc != IH_OK)
			v[i].key[0] = '\0';   /* reported below, when its card is made */
	}
	if (rc == IH_OK && n > 0)
		qsort(v, n, sizeof *v, by_key_asc);
	unsigned npages = pages_of((unsigned)n);
	if (rc == IH_OK && (lists = calloc(npages + 1, sizeof *lists)) == NULL)
		rc = IH_ERR_NOMEM;
	memset(&total, 0, sizeof total);
	for (size_t i = 0; rc == IH_OK && i < n; i++) {
		struct buf card = { 0 }, paged = { 0 };
		char name[200];
		snprintf(r.name, sizeof r.name, "%s", v[i].name);
		int jobfd = store_open_dirs(dayfd, r.name, 0, 0);
		int jrc = jobfd < 0 ? fail_errno() : refresh(ctx, jobfd, &r, &card, v[i].key);
		if (jobfd >= 0)
			close(jobfd);
		unsigned page = (unsigned)(placed / GALLERY_PAGE_JOBS) + 1;
		if (jrc == IH_OK)
			jrc = card_with_page(card.data, card.len, page, &paged);
		snprintf(name, sizeof name, "%s.html", r.name);
		if (jrc == IH_OK)
			jrc = gallery_put_file(g, cardsfd, name, paged.data, paged.len);
		if (jrc == IH_OK)
			jrc = buf_printf(&lists[page], "%s\n", r.name);
		if (jrc == IH_OK) {
			gallery_parse_counts(paged.data, &k);
			total.jobs++;
			counts_add(&total, &k, +1);
			if (k.thumb[0] != '\0')
				memcpy(total.thumb, k.thumb, sizeof total.thumb);   /* the newest one's */
			placed++;
			(*jobs)++;
		} else {
			fprintf(err, "imagehook: gallery: jobs/%s/%s: %s\n", ymd, r.name, ih_strerror(jrc));
			/* No card: pruned below like a deleted job's. */
			v[i].name[0] = '\0';
			if (jrc == IH_ERR_NOMEM)
				rc = jrc;
		}
		buf_free(&card);
		buf_free(&paged);
	}
	npages = pages_of((unsigned)placed);
	for (unsigned p = 1; rc == IH_OK && p <= npages; p++) {
		char name[32];
		snprintf(name, sizeof name, "page-%u.list", p);
		rc = gallery_put_file(g, cardsfd, name, lists[p].data ? lists[p].data : "", lists[p].len);
	}
	if (rc == IH_OK) {
		if (n > 0)
			qsort(v, n, sizeof *v, by_name);
		*removed += remove_stale_cards(g, cardsfd, r.day, v, n);
		/* Page lists and pages past the new end: an emptier day. */
		unsigned was = pages_of(old.jobs);
		for (unsigned p = npages + 1; p <= was + 1; p++) {
			char name[32];
			snprintf(name, sizeof name, "page-%u.list", p);
			(void)unlinkat(cardsfd, name, 0);
		}
		remove_pages(g, r.day, npages, was, 0);
	}
	if (rc == IH_OK && placed == 0) {
		close(cardsfd);
		cardsfd = -1;
		gallery_index_drop_day(g, r.day);
	} else if (rc == IH_OK) {
		rc = summary_write(cardsfd, &total);
		for (unsigned p = 1; rc == IH_OK && p <= npages; p++)
			rc = render_page(g, r.day, p);
	}
	for (unsigned p = 0; lists != NULL && p <= pages_of((unsigned)n); p++)
		buf_free(&lists[p]);
	free(lists);
	free(v);
	if (cardsfd >= 0)
		close(cardsfd);
	close(dayfd);
	return rc;
}

int gallery_index_rebuild_days(struct gal *g)
{
	char **days = NULL;
	size_t n = 0;
	struct buf text = { 0 };
	int cardsfd = store_open_dirs(g->galfd, "cards", 1, 0);
	int rc = cardsfd < 0 ? fail_errno() : gallery_list_shaped(cardsfd, "0000-00-00", &days, &n);
	/* Oldest first, as deliveries append them. */
	for (size_t i = n; rc == IH_OK && i > 0; i--)
		rc = buf_printf(&text, "%s\n", days[i - 1]);
	if (rc == IH_OK)
		rc = gallery_put_file(g, g->galfd, ".days", text.data ? text.data : "", text.len);
	if (cardsfd >= 0)
		close(cardsfd);
	gallery_free_list(days, n);
	buf_free(&text);
	if (rc == IH_OK)
		rc = render_days(g);
	if (rc == IH_OK)
		rc = render_index(g);
	return rc;
}
