/* gallery.h - static HTML pages of the stored jobs, by day, refreshed as each job is stored. */
#ifndef IH_GALLERY_H
#define IH_GALLERY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "payload.h"
#include "settings.h"

/* Largest side of a thumbnail, in pixels. */
#define GALLERY_THUMB_SIDE 256
/* Larger images get no thumbnail: decoding one costs ~15 ms per megapixel. */
#define GALLERY_THUMB_MAX_PIXELS (4096u * 4096u)
/* Pixels decoded for the thumbnails of one delivery, at most. */
#define GALLERY_JOB_PIXEL_BUDGET (64u << 20)
/* A day's page holds this many jobs; older ones are on pages of their own. */
#define GALLERY_PAGE_JOBS 60
/* The index lists this many days, the newest; days.html lists them all. */
#define GALLERY_INDEX_DAYS 31
/* Under load the pages are refreshed this often, in ms; the last delivery of a burst at once. */
#define GALLERY_STALE_MS 250

/*
 * Appends s[0..n) to out as HTML text, safe in element content and in quoted
 * attribute values: & < > " ' become references, invalid UTF-8 and control
 * characters other than tab, line feed and carriage return become U+FFFD.
 * Returns IH_OK or IH_ERR_NOMEM. Borrows s.
 */
int gallery_escape(struct buf *out, const char *s, size_t n);

/* 1 when a card image's format ("mp4", "webm", "mov", ...) is a video, shown in <video>. Pure. */
int gallery_is_video(const char *format);

/* What was made for one image of a card: a thumbnail, or the original is shown. */
struct gallery_thumb {
	int made;                 /* thumbs/<day>/<name>/<file> exists */
	uint32_t width, height;   /* its size when made */
};

/*
 * Appends the HTML card of one job to out: a first line "<!--ih ...-->" with its sort
 * key and counts (read back by the day page), then an <article> with the images
 * (thumbnails linking to the originals), status, marks for failures, rejected images,
 * result links lost unfetched (expired, refused, failed) and results lost upstream,
 * the links still waiting, prompt, key parameters and timings. Every text from the
 * card is escaped; a link's URL is shown as text up to its query, never with it. job_dir is the job folder relative to the output root
 * ("jobs/YYYY/MM/DD/<name>"); thumbs[i] describes c->images[i]. Links are relative
 * to the gallery folder. Returns IH_OK, IH_ERR_LIMIT (job_dir not of that shape) or
 * IH_ERR_NOMEM. Pure; borrows everything.
 */
int gallery_card_html(const struct payload_card *c, const char *job_dir,
		      const struct gallery_thumb *thumbs, struct buf *out);

/*
 * A delivery that may store a job calls this first (before it stores): it marks
 * the delivery as in flight (a shared lock on <output>/gallery/.busy) so that the
 * deliveries ending meanwhile leave the refresh to it. Returns the descriptor to
 * pass to gallery_delivery_done(), or -1 (gallery off, or the mark could not be
 * made at once: the delivery then refreshes as if it were the last). Never waits;
 * a few system calls on the answer's path.
 */
int gallery_busy_begin(const struct settings *s);

/*
 * The call after a delivery's answer was sent (handler_after_answer()), with the
 * job it stored (not a duplicate) or NULL, and busyfd from gallery_busy_begin()
 * (or -1), which it closes: queues the job for the gallery, and when no other
 * delivery is in flight, or the pages are GALLERY_STALE_MS old, and no other
 * process is at it already, makes the queued jobs' thumbnails and cards under
 * <output>/gallery/ and rewrites their pages and the index. Its work does not grow
 * with the jobs of the day or of the store. Never fails: the job is already
 * stored, so a problem is only reported on stderr (the web server's error log).
 * Does nothing but close busyfd when the gallery is off. Borrows s and job_dir
 * ("jobs/YYYY/MM/DD/<name>").
 */
void gallery_delivery_done(const struct settings *s, const char *job_dir, int busyfd);

/* gallery_delivery_done(s, job_dir, -1): for a job changed outside a delivery (the fetcher). */
void gallery_job_stored(const struct settings *s, const char *job_dir);

/*
 * `imagehook gallery [--days N] [--no-thumbnails]`: rebuilds the cards of every job
 * (or of the newest N days), making missing thumbnails, drops the cards of job
 * folders that were deleted, and rewrites every page. argv[0] is "gallery".
 * Reports to out and err; returns the exit status (0, 1 on errors, 2 on usage).
 */
int gallery_main(const struct settings *s, int argc, char **argv, FILE *out, FILE *err);

#endif
