/* gallery_impl.h - what the gallery's modules share (gallery*.c only; the rest uses gallery.h). */
#ifndef IH_GALLERY_IMPL_H
#define IH_GALLERY_IMPL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "gallery.h"
#include "image.h"
#include "payload.h"

/*
 * Layout under <output>/gallery/, all derived from the job folders, so all of it
 * can be deleted and rebuilt with `imagehook gallery`:
 *
 *   index.html                       the newest GALLERY_INDEX_DAYS days, newest first
 *   days.html                        every day (written when a day is added)
 *   YYYY-MM-DD.html                  the day's newest page of jobs, newest first
 *   YYYY-MM-DD-pN.html               its older, full pages (N from 1, the oldest)
 *   cards/YYYY-MM-DD/<name>.html     one job's card (a fragment of a page)
 *   cards/YYYY-MM-DD/page-N.list     the names on page N, in the order they came
 *   cards/YYYY-MM-DD/.summary        the day's counts (one fixed-size record)
 *   thumbs/YYYY-MM-DD/<name>/<file>  thumbnails of the job's PNG images
 *   .days                            the days, in the order they came
 *   .queue                           jobs stored but not yet on their page
 *   .lock                            held while the pages are changed; its mtime: the last refresh
 *   .busy                            held shared by each delivery in flight (gallery.c)
 *
 * A job keeps the page it first landed on, so a delivery touches one card, one
 * page of at most GALLERY_PAGE_JOBS cards, the day's summary and the index: the
 * same work whether the day holds ten jobs or twenty thousand.
 *
 * Whole files are written to a temporary name and renamed into place, without
 * fsync: readers (browsers, the next delivery) only ever see a whole old or a
 * whole new file, and what a power cut may lose is rebuilt from the durable job
 * folders by `imagehook gallery`. The files changed in place (.queue, .days, the
 * page lists, the summaries) are opened by gallery_open_private(), which never
 * writes through a symlink or a hard link.
 */

/* A job folder, split: "jobs/2026/11/27/x" gives day "2026-11-27", ymd "2026/11/27", name "x". */
struct gallery_jobref {
	char day[11];
	char ymd[11];
	char name[160];
};

/* 0 unless s is a name store_safe_name() can produce (also URL-safe) shorter than max. */
int gallery_safe_name(const char *s, size_t max);
/* True for text s[0..n) shaped like shape, where '0' stands for any digit. */
int gallery_shaped(const char *s, size_t n, const char *shape);
/* Splits "jobs/YYYY/MM/DD/<name>" into *r; IH_ERR_LIMIT when dir is not of that shape. */
int gallery_parse_job_dir(const char *dir, struct gallery_jobref *r);

/* The counts of a card's first line, or of a day's summary. */
struct gallery_counts {
	unsigned jobs, images, bad, rejected, lost;
	unsigned links;           /* result links lost: expired, refused or failed unfetched */
	unsigned page;            /* a card's page, 0 when unknown */
	char key[40];             /* a card's sort key (receive time) */
	char thumb[240];          /* a thumbnail path relative to the gallery, or "" */
};

/*
 * Reads "t=... page=N images=3 bad=0 ... links=0 thumb=path" (a card's first line or a
 * summary); a count missing (a card written before it existed) is 0.
 */
void gallery_parse_counts(const char *line, struct gallery_counts *k);

/* The files of one run (a delivery's refresh or `imagehook gallery`). */
struct gal {
	int rootfd;               /* the output root */
	int galfd;                /* gallery/ */
	const struct image_limits *lim;
	int thumbnails;           /* make missing thumbnails */
	uint64_t budget;          /* pixels still to decode for this job's thumbnails */
	unsigned long counter;    /* makes temporary names unique in this process */
	long pid;                 /* this process, for temporary names; 0 until looked up */
	unsigned made;            /* thumbnails made */
};

/* Writes name in dirfd whole: temporary name, write, rename (no fsync). Returns IH_OK or an ih_err. */
int gallery_put_file(struct gal *g, int dirfd, const char *name, const void *data, size_t len);
/* Reads a whole file of at most cap bytes into a malloc'd, NUL-terminated buffer the caller frees. */
int gallery_get_file(int dirfd, const char *name, size_t cap, char **data, size_t *len);
/*
 * Opens (creating with O_CREAT in flags) a file imagehook changes in place. Never
 * through a symlink (O_NOFOLLOW), and never one that has another name: a
 * non-regular file or one whose link count is not 1 is unlinked (only the name
 * here goes; whatever it pointed at is untouched) and a fresh one created in its
 * place. Returns the descriptor, or -1 with errno set.
 */
int gallery_open_private(int dirfd, const char *name, int flags);
/* A listing of dirfd from its first entry (a dup of it); NULL with errno set. */
DIR *gallery_listing(int dirfd);
/* The names in dirfd shaped like shape ("0000-00-00"), largest first; free with gallery_free_list(). */
int gallery_list_shaped(int dirfd, const char *shape, char ***out, size_t *count);
void gallery_free_list(char **v, size_t n);
/* The receive time as a sort key: only the characters an ISO 8601 time has, else "0". */
void gallery_sort_key(const char *received, char *key, size_t size);

/* ---- gallery_thumb.c ---- */

/*
 * Finds or makes the thumbnails of a card's images (th[i] for c->images[i]). A
 * thumbnail that cannot be made only means the card shows the original: returns
 * IH_OK, or IH_ERR_NOMEM.
 */
int gallery_make_thumbs(struct gal *g, int jobfd, const struct gallery_jobref *r,
			const struct payload_card *c, struct gallery_thumb *th);
/* Removes thumbs/<day>/<name>/ and what is in it (best effort). */
void gallery_remove_thumbs(struct gal *g, const char *day, const char *name);

/* ---- gallery_page.c: pure rendering ---- */

/* What a day page shows around its cards. */
struct gallery_page_info {
	const char *day;          /* "YYYY-MM-DD" */
	unsigned page;            /* this page's number, from 1 (the oldest) */
	unsigned pages;           /* how many the day has; page == pages is the newest */
	const struct gallery_counts *day_total;   /* the whole day's counts */
};

/*
 * Appends a day page holding cards[0..n) (whole card files, first line included,
 * already in display order) to out. Returns IH_OK or IH_ERR_NOMEM.
 */
int gallery_day_page_html(const struct gallery_page_info *pi, char *const *cards, size_t n,
			  struct buf *out);

/*
 * Appends the index (or, with all set, the page of every day) listing days[0..n)
 * ("YYYY-MM-DD", in display order) with their counts k[i]; more says that older
 * days exist than are listed (a link to days.html). Returns IH_OK or IH_ERR_NOMEM.
 */
int gallery_index_html(char *const *days, const struct gallery_counts *k, size_t n, int more,
		       int all, struct buf *out);

/* ---- gallery_index.c: the days' ordered lists and pages ---- */

/* Pages changed by a batch of cards, rendered once at the end of the batch. */
#define GALLERY_DIRTY_MAX 32
struct gallery_dirty {
	size_t n;
	struct {
		char day[11];
		unsigned page;
	} pages[GALLERY_DIRTY_MAX];
	int index;                /* index.html */
	int all_days;             /* days.html: a day was added */
};

/*
 * Puts the card text[0..len) (from gallery_card_html()) of job r on its day's page:
 * keeps the page the job is on, or gives a new job the day's newest page; writes
 * the card file, the page list and the day's summary; notes what is to render in
 * *d. Call with the gallery lock held. Returns IH_OK or an ih_err.
 */
int gallery_index_add(struct gal *g, const struct gallery_jobref *r, const char *text, size_t len,
		      struct gallery_dirty *d);

/* Renders the pages d names, and the index; empties *d. Gallery lock held. */
int gallery_index_render(struct gal *g, struct gallery_dirty *d);

/*
 * Rewrites one day from scratch (`imagehook gallery`): every job folder of
 * jobs/<ymd> with a job.json gets its card, pages are assigned by receive time,
 * cards of deleted jobs are removed (counted in *removed), and every page of the
 * day is written; *jobs counts the cards made. refresh(ctx, jobfd, r, card, key)
 * sets key to the job's sort key and, when card is not NULL, appends its card.
 * Gallery lock held. Returns IH_OK or an ih_err (a job's own trouble goes to err).
 */
typedef int (*gallery_card_fn)(void *ctx, int jobfd, const struct gallery_jobref *r,
			       struct buf *card, char key[40]);
int gallery_index_rebuild_day(struct gal *g, int jobsfd, const char *ymd, gallery_card_fn refresh,
			      void *ctx, unsigned *jobs, unsigned *removed, FILE *err);

/* Removes every file of a day whose job folder is gone; returns how many cards went. */
unsigned gallery_index_drop_day(struct gal *g, const char *day);

/* Rewrites .days from the day folders under cards/, then the index and days.html. */
int gallery_index_rebuild_days(struct gal *g);

#endif
