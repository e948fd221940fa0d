/* gallery_page.c - the gallery's HTML: escaping, a job's card, a day page, the index. */
#include "ih_config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gallery_impl.h"
#include "ih_error.h"
#include "utf8.h"

/* ---- HTML text ---- */

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
	if (!is_status(c, "COMPLETED") || strcmp(c->outcome, "stored_partial") == 0 ||
	    c->warnings[0] != '\0')
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

void gallery_sort_key(const char *received, char *key, size_t size)
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

/*
 * A link's URL as text, never as a link (it is the sender's): only up to its query
 * or fragment, whatever the card holds, for a presigned URL's query is its credential.
 */
static void esc_url(struct html *h, const char *url)
{
	if (h->rc == IH_OK)
		h->rc = gallery_escape(h->b, url, strcspn(url, "?#"));
}

/* The line under a link's state: its URL, shown as esc_url() shows it. */
static void link_url_line(struct html *h, const struct payload_card_image *im)
{
	if (im->url[0] == '\0')
		return;
	put(h, "<span class=\"u\">");
	esc_url(h, im->url);
	put(h, "</span>");
}

/* What a result link not (or not yet) stored came to: loud when its result is lost. */
static void card_link(struct html *h, const struct payload_card_image *im)
{
	if (payload_card_link_lost(im->link)) {
		put(h, "<div class=\"rej\"><b>");
		put(h, im->link == PAYLOAD_LINK_EXPIRED   ? "link EXPIRED unfetched:"
		       : im->link == PAYLOAD_LINK_REFUSED ? "link refused:"
							  : "link fetch failed for good:");
		put(h, "</b> ");
		esc(h, im->link_error[0] != '\0' ? im->link_error : "(no reason recorded)");
		link_url_line(h, im);
		put(h, "</div>\n");
		return;
	}
	if (im->link != PAYLOAD_LINK_PENDING) {
		/* A record from before links were queued, or fetch.json unreadable. */
		put(h, "<div class=\"link\"><b>link recorded, not queued to be fetched</b>");
		link_url_line(h, im);
		put(h, "</div>\n");
		return;
	}
	put(h, "<div class=\"link\"><b>link waiting to be fetched</b>");
	if (im->link_attempts > 0) {
		putf(h, " (%u attempt%s failed", im->link_attempts, im->link_attempts == 1 ? "" : "s");
		if (im->link_error[0] != '\0') {
			put(h, ", the last: ");
			esc(h, im->link_error);
		}
		put(h, ")");
	}
	struct tm tm;
	char when[40];
	time_t t = (time_t)im->link_expires;
	if (im->link_expires > 0 && gmtime_r(&t, &tm) != NULL &&
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm) > 0)
		putf(h, "; it expires %s", when);
	link_url_line(h, im);
	put(h, "</div>\n");
}

/* A fetched link's file says where it came from, in its title. */
static void fetched_title(struct html *h, const struct payload_card_image *im)
{
	if (im->url[0] == '\0')
		return;
	put(h, " title=\"fetched from ");
	esc_url(h, im->url);
	put(h, "\"");
}

static void card_image(struct html *h, const struct gallery_jobref *r, const struct payload_card_image *im,
		       const struct gallery_thumb *t)
{
	if (im->file[0] == '\0' || payload_card_link_lost(im->link)) {
		card_link(h, im);
		return;
	}
	if (!gallery_safe_name(im->file, sizeof im->file))
		return;
	if (im->rejected[0] != '\0') {
		put(h, "<div class=\"rej\"><b>rejected</b> ");
		esc(h, im->rejected);
		putf(h, " <a href=\"../jobs/%s/%s/%s\">kept bytes</a>", r->ymd, r->name, im->file);
		link_url_line(h, im);
		put(h, "</div>\n");
		return;
	}
	uint32_t w = 0, hh = 0;
	if (gallery_is_video(im->format)) {
		/* The browser's own controls: no script, and nothing loads before the play button. */
		fit(im->width, im->height, &w, &hh);
		putf(h, "<video controls preload=\"metadata\" src=\"../jobs/%s/%s/%s\"", r->ymd,
		     r->name, im->file);
		if (w > 0 && hh > 0)
			putf(h, " width=\"%u\" height=\"%u\"", w, hh);
		fetched_title(h, im);
		putf(h, "><a href=\"../jobs/%s/%s/%s\">%s</a></video>\n", r->ymd, r->name, im->file,
		     im->file);
		return;
	}
	putf(h, "<a href=\"../jobs/%s/%s/%s\"", r->ymd, r->name, im->file);
	fetched_title(h, im);
	put(h, "><img ");
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

static void card_inputs(struct html *h, const struct gallery_jobref *r, const struct payload_card *c)
{
	int any = 0;
	for (unsigned i = 0; i < c->n_images; i++) {
		const struct payload_card_image *im = &c->images[i];
		if (!im->input || !gallery_safe_name(im->file, sizeof im->file))
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
	struct gallery_jobref r;
	struct html h = { out, IH_OK };
	char key[40];
	unsigned stored = 0, rejected = 0, lost[3] = { 0, 0, 0 }, links = 0, pending = 0;
	const char *first_thumb = NULL;
	const char *cls = card_class(c), *shown_cls;

	if (gallery_parse_job_dir(job_dir, &r) != IH_OK)
		return IH_ERR_LIMIT;
	for (unsigned i = 0; i < c->n_images; i++) {
		const struct payload_card_image *im = &c->images[i];
		if (payload_card_link_lost(im->link)) {
			/* PAYLOAD_LINK_FAILED, REFUSED, EXPIRED in order */
			lost[im->link - PAYLOAD_LINK_FAILED]++;
			links++;
		} else if (im->rejected[0] != '\0') {
			rejected++;
		} else if (!im->input && im->file[0] != '\0') {
			stored++;
		} else if (!im->input && im->link == PAYLOAD_LINK_PENDING) {
			pending++;
		}
		if (first_thumb == NULL && thumbs[i].made && !im->input && gallery_safe_name(im->file, sizeof im->file))
			first_thumb = im->file;
	}
	gallery_sort_key(c->received, key, sizeof key);
	/* The day page sorts and counts by this line; nothing in it comes from the sender unchecked. */
	/* A lost result is counted as lost, not also as failed. */
	/* A lost link is counted as links, like a lost result, not also as failed. */
	putf(&h, "<!--ih t=%s images=%u bad=%d rejected=%u lost=%d links=%u thumb=", key, stored,
	     strcmp(cls, "bad") == 0 && !c->lost_upstream, rejected, c->lost_upstream, links);
	if (first_thumb != NULL)
		putf(&h, "thumbs/%s/%s/%s", r.day, r.name, first_thumb);
	else
		put(&h, "-");
	/* A result lost with its link marks the card as a rejected image does. */
	shown_cls = links == 0 || strcmp(cls, "bad") == 0 ? cls : stored > 0 ? "warn" : "bad";
	putf(&h, " -->\n<article class=\"job %s\" id=\"%s\">\n<h2><span class=\"st %s\">",
	     shown_cls, r.name, shown_cls);
	esc(&h, c->status);
	put(&h, "</span> ");
	if (gallery_shaped(c->received, strlen(c->received), "0000-00-00T00:00:00.000Z")) {
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
	if (links > 0) {
		/* Loud on purpose: nothing will fetch these again, and nothing else says so. */
		static const char *const what[3] = { "could not be fetched", "refused",
						     "EXPIRED before it was fetched" };
		const char *sep = "";
		putf(&h, "<p class=\"mark bad\">%u result link%s lost: ", links, links == 1 ? "" : "s");
		for (int k = 2; k >= 0; k--) {
			if (lost[k] == 0)
				continue;
			putf(&h, "%s%u %s", sep, lost[k], what[k]);
			sep = ", ";
		}
		put(&h, ".</p>\n");
	}
	if (pending > 0)
		putf(&h, "<p class=\"meta\">%u result link%s waiting to be fetched.</p>\n", pending,
		     pending == 1 ? "" : "s");
	if (c->warnings[0] != '\0') {
		put(&h, "<p class=\"mark warn\">Warnings: ");
		esc(&h, c->warnings);
		put(&h, "</p>\n");
	}
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

/* ---- pages ---- */

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
	".imgs a{display:block}.imgs img,.imgs video{display:block;width:100%;height:auto;"
	"border-radius:6px;background:var(--line)}"
	".rej{padding:.4rem;border:2px dashed var(--bad);border-radius:6px;color:var(--bad);"
	"font-size:.8rem}"
	".link{padding:.4rem;border:2px dashed var(--line);border-radius:6px;color:var(--mute);"
	"font-size:.8rem}.u{display:block;opacity:.8;font-size:.75rem}"
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
	 * No script may run, whatever a card holds: the page needs none. Images and
	 * videos from the gallery's own site only; file: as well, for browsers that give
	 * every local file an origin of its own.
	 */
	put(h, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	       "img-src 'self' file:; media-src 'self' file:; style-src 'unsafe-inline'\">\n"
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

int gallery_is_video(const char *format)
{
	return payload_format_is_video(format);
}

/* " · 2 failed · 1 rejected ..." for counts that are not zero. */
static void put_marks(struct html *h, const struct gallery_counts *k)
{
	if (k->bad > 0)
		putf(h, " \xc2\xb7 <span class=\"bad-text\">%u failed</span>", k->bad);
	if (k->rejected > 0)
		putf(h, " \xc2\xb7 <span class=\"bad-text\">%u rejected</span>", k->rejected);
	if (k->lost > 0)
		putf(h, " \xc2\xb7 <span class=\"bad-text\">%u lost upstream</span>", k->lost);
	if (k->links > 0)
		putf(h, " \xc2\xb7 <span class=\"bad-text\">%u link%s lost unfetched</span>", k->links,
		     k->links == 1 ? "" : "s");
}

int gallery_day_page_html(const struct gallery_page_info *pi, char *const *cards, size_t n,
			  struct buf *out)
{
	struct html h = { out, IH_OK };
	const struct gallery_counts *t = pi->day_total;
	const char *day = pi->day;
	int newest = pi->page >= pi->pages;
	char title[64];
	if (newest)
		snprintf(title, sizeof title, "imagehook jobs of %s", day);
	else
		snprintf(title, sizeof title, "imagehook jobs of %s, page %u", day, pi->page);
	page_head(&h, title);
	putf(&h, "<header><h1>%s</h1><span class=\"meta\">%u job%s \xc2\xb7 %u image%s", day,
	     t->jobs, t->jobs == 1 ? "" : "s", t->images, t->images == 1 ? "" : "s");
	put_marks(&h, t);
	put(&h, "</span>");
	if (!newest)
		putf(&h, " <span class=\"meta\">page %u of the day (the oldest is 1)</span> "
			 "<a href=\"%s.html\">newest jobs</a>", pi->page, day);
	put(&h, " <a href=\"index.html\">all days</a></header>\n<main class=\"jobs\">\n");
	for (size_t i = 0; i < n; i++) {
		/* The first line is the card's sort line, for us, not for the page. */
		const char *nl = strchr(cards[i], '\n');
		if (nl != NULL)
			put(&h, nl + 1);
	}
	put(&h, "</main>\n");
	if (pi->page > 1)
		putf(&h, "<p class=\"meta\"><a href=\"%s-p%u.html\">older jobs of this day</a></p>\n",
		     day, pi->page - 1);
	page_foot(&h);
	return h.rc;
}

int gallery_index_html(char *const *days, const struct gallery_counts *k, size_t n, int more,
		       int all, struct buf *out)
{
	struct html h = { out, IH_OK };
	size_t shown = 0;
	page_head(&h, all ? "imagehook gallery: every day" : "imagehook gallery");
	putf(&h, "<header><h1>Received jobs</h1><span class=\"meta\">by day, newest first</span>%s"
		 "</header>\n<ul class=\"days\">\n", all ? " <a href=\"index.html\">newest days</a>" : "");
	for (size_t i = 0; i < n; i++) {
		if (k[i].jobs == 0 || !gallery_shaped(days[i], strlen(days[i]), "0000-00-00"))
			continue;
		putf(&h, "<li><a href=\"%s.html\">", days[i]);
		if (k[i].thumb[0] != '\0')
			putf(&h, "<img src=\"%s\" alt=\"\" loading=\"lazy\">", k[i].thumb);
		else
			put(&h, "<span class=\"none\"></span>");
		putf(&h, "<span><b>%s</b><span class=\"meta\">%u job%s \xc2\xb7 %u image%s", days[i],
		     k[i].jobs, k[i].jobs == 1 ? "" : "s", k[i].images, k[i].images == 1 ? "" : "s");
		put_marks(&h, &k[i]);
		put(&h, "</span></span></a></li>\n");
		shown++;
	}
	put(&h, "</ul>\n");
	if (shown == 0)
		put(&h, "<p>No jobs yet.</p>\n");
	if (more)
		put(&h, "<p class=\"meta\"><a href=\"days.html\">every day</a></p>\n");
	page_foot(&h);
	return h.rc;
}
