/* stats.c - summarise the JSON-lines log: deliveries by outcome, images, bytes, answer times. */
#include "ih_config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "ih_error.h"
#include "payload.h"
#include "stats.h"

/* Longer lines are not imagehook's (its values are capped at 512 bytes each). */
#define MAX_LINE (64 * 1024)
#define MAX_LOGS 64

int stats_init(struct stats *st, int64_t from_ms, int64_t to_ms)
{
	memset(st, 0, sizeof *st);
	st->from_ms = from_ms;
	st->to_ms = to_ms;
	st->fetch_pending = UINT64_MAX;
	st->ms_hist = calloc(STATS_MS_EXACT, sizeof *st->ms_hist);
	return st->ms_hist != NULL ? IH_OK : IH_ERR_NOMEM;
}

void stats_free(struct stats *st)
{
	free(st->ms_hist);
	free(st->ms_long);
	st->ms_hist = NULL;
	st->ms_long = NULL;
	st->n_long = st->cap_long = 0;
}

/* ---- time --------------------------------------------------------------------- */

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

int stats_parse_time(const char *t, int64_t *ms, int *date_only)
{
	int y, mo, d, hh = 0, mi = 0, ss = 0, frac = 0;
	if (strlen(t) < 10 || !digits(t, 4, &y) || t[4] != '-' || !digits(t + 5, 2, &mo) ||
	    t[7] != '-' || !digits(t + 8, 2, &d))
		return IH_ERR_LIMIT;
	const char *p = t + 10;
	*date_only = 1;
	if (*p == 'T' || *p == ' ') {
		*date_only = 0;
		if (!digits(p + 1, 2, &hh) || p[3] != ':' || !digits(p + 4, 2, &mi))
			return IH_ERR_LIMIT;
		p += 6;
		if (*p == ':') {
			if (!digits(p + 1, 2, &ss))
				return IH_ERR_LIMIT;
			p += 3;
			if (*p == '.') {
				int k = 0;
				for (p++; *p >= '0' && *p <= '9'; p++, k++)
					if (k < 3)
						frac = frac * 10 + (*p - '0');
				if (k == 0)
					return IH_ERR_LIMIT;
				for (; k < 3; k++)
					frac *= 10;
			}
		}
	}
	if (*p == 'Z')
		p++;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || hh > 23 ||
	    mi > 59 || ss > 60)
		return IH_ERR_LIMIT;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	*ms = (((days * 24 + hh) * 60 + mi) * 60 + ss) * 1000 + frac;
	return IH_OK;
}

int stats_parse_duration(const char *text, int64_t *ms)
{
	char *end;
	if (text[0] < '0' || text[0] > '9')
		return IH_ERR_LIMIT;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	int64_t unit;
	switch (*end) {
	case 's':
		unit = 1000;
		break;
	case 'm':
		unit = 60 * 1000;
		break;
	case 'h':
		unit = 3600 * 1000;
		break;
	case 'd':
		unit = 86400 * 1000;
		break;
	case 'w':
		unit = 7 * 86400 * 1000LL;
		break;
	default:
		return IH_ERR_LIMIT;
	}
	/* A hundred years is plenty; anything above is a typo, not a period. */
	if (errno != 0 || end[1] != '\0' || v == 0 || v > 3650000ULL * 86400000 / (uint64_t)unit)
		return IH_ERR_LIMIT;
	*ms = (int64_t)v * unit;
	return IH_OK;
}

/* ---- counting -------------------------------------------------------------------- */

static void count_status(struct stats *st, const char *name)
{
	if (name[0] == '\0')
		name = "(none)";
	for (unsigned i = 0; i < st->n_status; i++) {
		if (strcmp(st->status[i].name, name) == 0) {
			st->status[i].count++;
			return;
		}
	}
	if (st->n_status == STATS_MAX_STATUSES) {
		st->status_other++;
		return;
	}
	char *dst = st->status[st->n_status].name;
	snprintf(dst, sizeof st->status[0].name, "%s", name);
	/* The sender chose it: no control characters reach the operator's terminal. */
	for (; *dst != '\0'; dst++)
		if ((unsigned char)*dst < 0x20 || *dst == 0x7f)
			*dst = '?';
	st->status[st->n_status++].count = 1;
}

/* Keeps the answer times too long for the histogram sorted: there are few of them. */
static int add_long(struct stats *st, uint64_t ms)
{
	if (st->n_long == st->cap_long) {
		size_t cap = st->cap_long ? st->cap_long * 2 : 64;
		uint64_t *p = realloc(st->ms_long, cap * sizeof *p);
		if (p == NULL)
			return IH_ERR_NOMEM;
		st->ms_long = p;
		st->cap_long = cap;
	}
	size_t i = st->n_long;
	while (i > 0 && st->ms_long[i - 1] > ms) {
		st->ms_long[i] = st->ms_long[i - 1];
		i--;
	}
	st->ms_long[i] = ms;
	st->n_long++;
	return IH_OK;
}

int stats_add_line(struct stats *st, const char *line, size_t len)
{
	struct payload_log_entry e;
	int64_t t;
	int date_only;
	st->lines++;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0) {
		st->lines--;   /* a blank line is not a line of the log */
		return IH_OK;
	}
	/* imagehook's other lines name their event right after the time ... */
	/* ... except `imagehook fetch`'s, which are counted as links below. */
	if (len > 40 && memmem(line, len < 48 ? len : 48, "\",\"event\":\"", 11) != NULL &&
	    memmem(line, len < 64 ? len : 64, "\",\"event\":\"fetch\"", 17) == NULL) {
		st->events++;
		return IH_OK;
	}
	int rc = payload_log_line_parse(line, len, &e);
	if (rc == IH_ERR_NOMEM)
		return rc;
	if (rc != IH_OK || stats_parse_time(e.time, &t, &date_only) != IH_OK || date_only) {
		st->unreadable++;
		return IH_OK;
	}
	if (t < st->from_ms || t >= st->to_ms)
		return IH_OK;
	static const char *const link_outcomes[4] = { "fetched", "fetch_failed", "fetch_refused",
						      "expired" };
	for (int i = 0; i < 4; i++)
		if (strcmp(e.outcome, link_outcomes[i]) == 0) {
			st->links[i]++;
			return IH_OK;
		}
	if (st->deliveries == 0 || t < st->first_ms) {
		st->first_ms = t;
		snprintf(st->first, sizeof st->first, "%s", e.time);
	}
	if (st->deliveries == 0 || t >= st->last_ms) {
		st->last_ms = t;
		snprintf(st->last, sizeof st->last, "%s", e.time);
	}
	st->deliveries++;
	int known = 0;
	for (int o = 0; o < OUTCOME__COUNT && !known; o++) {
		if (strcmp(e.outcome, answer_outcome_name((enum outcome)o)) == 0) {
			st->outcome[o]++;
			known = 1;
		}
	}
	if (!known)
		st->outcome_other++;
	if (strcmp(e.outcome, answer_outcome_name(OUTCOME_DUPLICATE)) == 0)
		st->duplicates++;
	st->http[e.http >= 100 && e.http < 600 ? e.http : 0]++;
	if (e.http >= 400 && e.http < 500)
		st->rejects++;
	if (e.http >= 500 && e.http < 600)
		st->server_errors++;
	count_status(st, e.status);
	st->images_stored += e.images_stored;
	st->images_rejected += e.images_rejected;
	st->images_remote += e.images_remote;
	st->bytes += e.bytes;
	if (e.has_ms) {
		st->ms_count++;
		if (e.ms > st->ms_max)
			st->ms_max = e.ms;
		st->ms_sum += e.ms;
		if (e.ms < STATS_MS_EXACT)
			st->ms_hist[e.ms]++;
		else if ((rc = add_long(st, e.ms)) != IH_OK)
			return rc;
	}
	return IH_OK;
}

uint64_t stats_percentile(const struct stats *st, unsigned pct)
{
	if (st->ms_count == 0 || pct == 0)
		return 0;
	if (pct > 100)
		pct = 100;
	/* Nearest rank: the smallest time at or above which pct % of the times lie. */
	uint64_t rank = (st->ms_count * pct + 99) / 100;
	uint64_t seen = 0;
	for (uint64_t ms = 0; ms < STATS_MS_EXACT; ms++) {
		seen += st->ms_hist[ms];
		if (seen >= rank)
			return ms;
	}
	uint64_t i = rank - seen - 1;
	return i < st->n_long ? st->ms_long[i] : st->ms_max;
}

/* ---- output ---------------------------------------------------------------------- */

static int human_bytes(struct buf *out, uint64_t n)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = (double)n;
	int u = 0;
	while (v >= 1000.0 && u < 5) {
		v /= 1000.0;
		u++;
	}
	return u == 0 ? buf_printf(out, "%" PRIu64 " B", n)
		      : buf_printf(out, "%.1f %s (%" PRIu64 " bytes)", v, unit[u], n);
}

/* Sticky-error text building, as in the gallery. */
struct out {
	struct buf *b;
	int rc;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->rc != IH_OK)
		return;
	va_start(ap, fmt);
	o->rc = buf_vprintf(o->b, fmt, ap);
	va_end(ap);
}

int stats_format_text(const struct stats *st, struct buf *out)
{
	struct out o = { out, IH_OK };
	outf(&o, "deliveries           %" PRIu64 "\n", st->deliveries);
	if (st->deliveries > 0)
		outf(&o, "  first              %s\n  last               %s\n", st->first, st->last);
	outf(&o, "by outcome\n");
	for (int i = 0; i < OUTCOME__COUNT; i++)
		if (st->outcome[i] > 0)
			outf(&o, "  %-18s %" PRIu64 "\n", answer_outcome_name((enum outcome)i),
			     st->outcome[i]);
	if (st->outcome_other > 0)
		outf(&o, "  %-18s %" PRIu64 "\n", "(other)", st->outcome_other);
	outf(&o, "by HTTP status\n");
	for (int i = 0; i < 600; i++)
		if (st->http[i] > 0) {
			if (i == 0)
				outf(&o, "  (none)             %" PRIu64 "\n", st->http[i]);
			else
				outf(&o, "  %-18d %" PRIu64 "\n", i, st->http[i]);
		}
	outf(&o, "by job status\n");
	for (unsigned i = 0; i < st->n_status; i++)
		outf(&o, "  %-18s %" PRIu64 "\n", st->status[i].name, st->status[i].count);
	if (st->status_other > 0)
		outf(&o, "  %-18s %" PRIu64 "\n", "(other)", st->status_other);
	outf(&o, "images stored        %" PRIu64 "\nimages rejected      %" PRIu64
		 "\nimages remote        %" PRIu64 "\nbytes received       ",
	     st->images_stored, st->images_rejected, st->images_remote);
	if (o.rc == IH_OK)
		o.rc = human_bytes(out, st->bytes);
	outf(&o, "\nduplicates           %" PRIu64 "\nrejects (4xx)        %" PRIu64
		 "\nserver errors (5xx)  %" PRIu64 "\n",
	     st->duplicates, st->rejects, st->server_errors);
	if (st->links[0] + st->links[1] + st->links[2] + st->links[3] > 0)
		outf(&o, "links fetched        %" PRIu64 "\nlink fetches failed  %" PRIu64
			 "\nlinks refused        %" PRIu64 "\nlinks EXPIRED        %" PRIu64 "%s\n",
		     st->links[0], st->links[1], st->links[2], st->links[3],
		     st->links[3] ? "  (results lost: see job.json links_expired)" : "");
	if (st->ms_count > 0)
		outf(&o, "answer time ms       p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64
			 "  max %" PRIu64 "\n",
		     stats_percentile(st, 50), stats_percentile(st, 90), stats_percentile(st, 99),
		     st->ms_max);
	else
		outf(&o, "answer time ms       (no answers)\n");
	if (st->unreadable > 0)
		outf(&o, "unreadable lines     %" PRIu64 " (not imagehook log lines)\n", st->unreadable);
	return o.rc;
}

/* A time bound as JSON: an ISO 8601 string, or null for an open end. */
static void json_bound(struct out *o, const char *key, int64_t ms)
{
	if (ms == INT64_MIN || ms == INT64_MAX) {
		outf(o, ",\"%s\":null", key);
		return;
	}
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char when[40];
	if (gmtime_r(&s, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		outf(o, ",\"%s\":null", key);
		return;
	}
	outf(o, ",\"%s\":\"%s.%03dZ\"", key, when, (int)(ms % 1000));
}

int stats_format_json(const struct stats *st, struct buf *out)
{
	struct out o = { out, IH_OK };
	const char *sep = "";
	outf(&o, "{\"deliveries\":%" PRIu64, st->deliveries);
	json_bound(&o, "from", st->from_ms);
	json_bound(&o, "to", st->to_ms);
	if (st->deliveries > 0)
		outf(&o, ",\"first\":\"%s\",\"last\":\"%s\"", st->first, st->last);
	else
		outf(&o, ",\"first\":null,\"last\":null");
	outf(&o, ",\"outcomes\":{");
	for (int i = 0; i < OUTCOME__COUNT; i++) {
		if (st->outcome[i] == 0)
			continue;
		outf(&o, "%s\"%s\":%" PRIu64, sep, answer_outcome_name((enum outcome)i), st->outcome[i]);
		sep = ",";
	}
	if (st->outcome_other > 0)
		outf(&o, "%s\"other\":%" PRIu64, sep, st->outcome_other);
	outf(&o, "},\"http\":{");
	sep = "";
	for (int i = 0; i < 600; i++) {
		if (st->http[i] == 0)
			continue;
		if (i == 0)
			outf(&o, "%s\"none\":%" PRIu64, sep, st->http[i]);
		else
			outf(&o, "%s\"%d\":%" PRIu64, sep, i, st->http[i]);
		sep = ",";
	}
	outf(&o, "},\"statuses\":{");
	sep = "";
	for (unsigned i = 0; i < st->n_status; i++) {
		outf(&o, "%s", sep);
		if (o.rc == IH_OK)
			o.rc = buf_json_string(out, st->status[i].name, strlen(st->status[i].name), 0);
		outf(&o, ":%" PRIu64, st->status[i].count);
		sep = ",";
	}
	if (st->status_other > 0)
		outf(&o, "%s\"other\":%" PRIu64, sep, st->status_other);
	outf(&o, "},\"images_stored\":%" PRIu64 ",\"images_rejected\":%" PRIu64
		 ",\"images_remote\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"duplicates\":%" PRIu64
		 ",\"rejects_4xx\":%" PRIu64 ",\"server_errors_5xx\":%" PRIu64,
	     st->images_stored, st->images_rejected, st->images_remote, st->bytes, st->duplicates,
	     st->rejects, st->server_errors);
	outf(&o, ",\"links\":{\"fetched\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"refused\":%" PRIu64
		 ",\"expired\":%" PRIu64 "}",
	     st->links[0], st->links[1], st->links[2], st->links[3]);
	if (st->ms_count > 0)
		outf(&o, ",\"ms\":{\"count\":%" PRIu64 ",\"p50\":%" PRIu64 ",\"p90\":%" PRIu64
			 ",\"p99\":%" PRIu64 ",\"max\":%" PRIu64 "}",
		     st->ms_count, stats_percentile(st, 50), stats_percentile(st, 90),
		     stats_percentile(st, 99), st->ms_max);
	else
		outf(&o, ",\"ms\":null");
	outf(&o, ",\"lines\":%" PRIu64 ",\"unreadable\":%" PRIu64 "}\n", st->lines, st->unreadable);
	return o.rc;
}

/* A label value: backslash, quote and newline escaped (OpenMetrics ABNF). */
static void om_label(struct out *o, const char *v)
{
	for (; *v != '\0' && o->rc == IH_OK; v++) {
		if (*v == '\\' || *v == '"')
			outf(o, "\\%c", *v);
		else if (*v == '\n')
			outf(o, "\\n");
		else
			outf(o, "%c", *v);
	}
}

/*
 * A counter family's metadata: OpenMetrics names the family without "_total" and
 * its samples with it; the Prometheus text format (what promtool and the textfile
 * collector read) names both with it.
 */
static void om_family(struct out *o, int om, const char *name, const char *help)
{
	const char *sfx = om ? "" : "_total";
	outf(o, "# TYPE imagehook_%s%s counter\n# HELP imagehook_%s%s %s\n", name, sfx, name, sfx, help);
}

static void om_counter(struct out *o, int om, const char *name, const char *help, uint64_t v)
{
	om_family(o, om, name, help);
	outf(o, "imagehook_%s_total %" PRIu64 "\n", name, v);
}

/*
 * The jobs waiting in the local fetch queue (<output>/fetch/, fetch.c): one entry
 * per job with links still to fetch. UINT64_MAX with an S3 store (no queue) or when
 * the folder cannot be read; 0 when no job ever queued one.
 */
static uint64_t fetch_pending(const struct settings *s)
{
	if (s->s3_bucket != NULL || s->output_dir == NULL)
		return UINT64_MAX;
	char path[4096];
	if (snprintf(path, sizeof path, "%s/fetch", s->output_dir) >= (int)sizeof path)
		return UINT64_MAX;
	DIR *d = opendir(path);
	if (d == NULL)
		return errno == ENOENT ? 0 : UINT64_MAX;
	uint64_t n = 0;
	const struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int stats_format_metrics(const struct stats *st, uint64_t free_bytes, uint64_t min_free_bytes,
			 int om, struct buf *out)
{
	struct out o = { out, IH_OK };
	om_family(&o, om, "deliveries", "Deliveries answered, by outcome.");
	for (int i = 0; i < OUTCOME__COUNT; i++) {
		outf(&o, "imagehook_deliveries_total{outcome=\"");
		om_label(&o, answer_outcome_name((enum outcome)i));
		outf(&o, "\"} %" PRIu64 "\n", st->outcome[i]);
	}
	if (st->outcome_other > 0)
		outf(&o, "imagehook_deliveries_total{outcome=\"other\"} %" PRIu64 "\n", st->outcome_other);
	om_family(&o, om, "answers", "Deliveries answered, by HTTP status.");
	for (int i = 0; i < 600; i++)
		if (st->http[i] > 0 || i == 200 || i == 503) {
			if (i == 0)
				outf(&o, "imagehook_answers_total{code=\"none\"} %" PRIu64 "\n", st->http[i]);
			else
				outf(&o, "imagehook_answers_total{code=\"%d\"} %" PRIu64 "\n", i, st->http[i]);
		}
	om_counter(&o, om, "images_stored", "Images stored.", st->images_stored);
	om_counter(&o, om, "images_rejected", "Images rejected (kept raw).", st->images_rejected);
	om_counter(&o, om, "images_remote", "Image URLs recorded, not fetched.", st->images_remote);
	om_counter(&o, om, "received_bytes", "Body bytes received.", st->bytes);
	om_counter(&o, om, "duplicates", "Deliveries of a job and status stored before.", st->duplicates);
	om_counter(&o, om, "rejects", "Deliveries answered 4xx.", st->rejects);
	om_counter(&o, om, "server_errors", "Deliveries answered 5xx.", st->server_errors);
	om_counter(&o, om, "log_unreadable_lines", "Log lines that are not imagehook's.", st->unreadable);
	static const char *const link_names[4] = { "fetched", "fetch_failed", "fetch_refused", "expired" };
	om_family(&o, om, "link_fetches", "Attempts of imagehook fetch at result links, by outcome.");
	for (int i = 0; i < 4; i++)
		outf(&o, "imagehook_link_fetches_total{outcome=\"%s\"} %" PRIu64 "\n", link_names[i],
		     st->links[i]);
	if (st->fetch_pending != UINT64_MAX)
		outf(&o, "# TYPE imagehook_fetch_pending_jobs gauge\n"
			 "# HELP imagehook_fetch_pending_jobs Jobs whose result links wait in the fetch queue.\n"
			 "imagehook_fetch_pending_jobs %" PRIu64 "\n", st->fetch_pending);
	/* Buckets in seconds, cumulative, from the exact per-millisecond counts. */
	static const unsigned bounds_ms[] = { 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000 };
	outf(&o, "# TYPE imagehook_answer_seconds histogram\n"
		 "# HELP imagehook_answer_seconds Time from receipt to answer.\n");
	uint64_t cum = 0, ms = 0;
	for (size_t b = 0; b < sizeof bounds_ms / sizeof bounds_ms[0]; b++) {
		for (; ms <= bounds_ms[b] && ms < STATS_MS_EXACT; ms++)
			cum += st->ms_hist[ms];
		outf(&o, "imagehook_answer_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
		     bounds_ms[b] / 1000.0, cum);
	}
	outf(&o, "imagehook_answer_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
		 "imagehook_answer_seconds_count %" PRIu64 "\nimagehook_answer_seconds_sum %.3f\n",
	     st->ms_count, st->ms_count, st->ms_sum / 1000.0);
	if (free_bytes != UINT64_MAX)
		outf(&o, "# TYPE imagehook_free_bytes gauge\n"
			 "# HELP imagehook_free_bytes Free bytes on the output folder's file system.\n"
			 "imagehook_free_bytes %" PRIu64 "\n"
			 "# TYPE imagehook_min_free_bytes gauge\n"
			 "# HELP imagehook_min_free_bytes Free bytes IMAGEHOOK_MIN_FREE keeps.\n"
			 "imagehook_min_free_bytes %" PRIu64 "\n", free_bytes, min_free_bytes);
	if (om)
		outf(&o, "# EOF\n");
	return o.rc;
}

/* ---- the command ------------------------------------------------------------------ */

static int usage(FILE *err, const char *msg, const char *arg)
{
	fprintf(err, "imagehook stats: %s%s%s\n"
		     "usage: imagehook stats [--since DURATION | --from TIME [--to TIME]]\n"
		     "                       [--json | --openmetrics | --prometheus]\n"
		     "                       [--log PATH]...\n"
		     "  DURATION: a number and s, m, h, d or w (24h, 7d); TIME: ISO 8601 UTC,\n"
		     "  2026-11-27 or 2026-11-27T14:00[:00][Z]; --to DATE includes that day.\n",
		msg, arg ? " " : "", arg ? arg : "");
	return 2;
}

/* Reads one log (path, or standard input for "-") into st. */
static int read_log(struct stats *st, const char *path, FILE *err)
{
	int is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "re");
	if (f == NULL) {
		fprintf(err, "imagehook stats: %s: %s\n", path, strerror(errno));
		return IH_ERR_IO;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = IH_OK;
	errno = 0;
	while (rc == IH_OK && (n = getline(&line, &cap, f)) >= 0) {
		if (n > MAX_LINE) {
			st->lines++;
			st->unreadable++;
			continue;
		}
		rc = stats_add_line(st, line, (size_t)n);
	}
	if (rc == IH_OK && ferror(f)) {
		fprintf(err, "imagehook stats: %s: %s\n", path, strerror(errno ? errno : EIO));
		rc = IH_ERR_IO;
	}
	free(line);
	if (!is_stdin && fclose(f) != 0 && rc == IH_OK)
		rc = IH_ERR_IO;   /* only read from: nothing of ours is lost, but say so */
	return rc;
}

int stats_main(const struct settings *s, int argc, char **argv, FILE *out, FILE *err)
{
	const char *since = NULL, *from = NULL, *to = NULL;
	const char *logs[MAX_LOGS];
	size_t nlogs = 0;
	int json = 0, om = 0, prom = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int takes = strcmp(a, "--since") == 0 || strcmp(a, "--from") == 0 ||
			    strcmp(a, "--to") == 0 || strcmp(a, "--log") == 0;
		if (takes && i + 1 >= argc)
			return usage(err, "missing value after", a);
		if (strcmp(a, "--json") == 0)
			json = 1;
		else if (strcmp(a, "--openmetrics") == 0)
			om = 1;
		else if (strcmp(a, "--prometheus") == 0)
			prom = 1;
		else if (strcmp(a, "--since") == 0)
			since = argv[++i];
		else if (strcmp(a, "--from") == 0)
			from = argv[++i];
		else if (strcmp(a, "--to") == 0)
			to = argv[++i];
		else if (strcmp(a, "--log") == 0 && nlogs < MAX_LOGS)
			logs[nlogs++] = argv[++i];
		else if (strcmp(a, "--log") == 0)
			return usage(err, "too many --log", NULL);
		else
			return usage(err, "unknown argument", a);
	}
	if (json + om + prom > 1)
		return usage(err, "--json, --openmetrics and --prometheus exclude each other", NULL);
	if (since != NULL && (from != NULL || to != NULL))
		return usage(err, "--since and --from/--to exclude each other", NULL);

	int64_t lo = INT64_MIN, hi = INT64_MAX, v;
	int date_only;
	if (since != NULL) {
		struct timespec now;
		if (stats_parse_duration(since, &v) != IH_OK)
			return usage(err, "not a duration:", since);
		clock_gettime(CLOCK_REALTIME, &now);
		lo = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - v;
	}
	if (from != NULL) {
		if (stats_parse_time(from, &lo, &date_only) != IH_OK)
			return usage(err, "not an ISO 8601 time:", from);
	}
	if (to != NULL) {
		if (stats_parse_time(to, &hi, &date_only) != IH_OK)
			return usage(err, "not an ISO 8601 time:", to);
		if (date_only)
			hi += 86400 * 1000LL;   /* --to 2026-11-27 means to the end of that day */
	}
	if (lo >= hi)
		return usage(err, "the period is empty:", "--from is not before --to");
	if (nlogs == 0)
		logs[nlogs++] = s->log_path;

	struct stats st;
	struct buf text = { 0 };
	int rc = stats_init(&st, lo, hi);
	for (size_t i = 0; rc == IH_OK && i < nlogs; i++)
		rc = read_log(&st, logs[i], err);
	if (rc == IH_OK && !json && !om && !prom) {
		rc = buf_puts(&text, "imagehook stats for ");
		for (size_t i = 0; rc == IH_OK && i < nlogs; i++)
			rc = buf_printf(&text, "%s%s", i ? ", " : "", logs[i]);
		if (rc == IH_OK && since != NULL)
			rc = buf_printf(&text, ", the last %s\n", since);
		else if (rc == IH_OK && from != NULL)
			rc = buf_printf(&text, ", from %s%s%s\n", from, to ? " to " : "", to ? to : "");
		else if (rc == IH_OK)
			rc = buf_puts(&text, ", all lines\n");
	}
	if (rc == IH_OK && (om || prom)) {
		uint64_t freeb = UINT64_MAX, total = 0;
		if (health_space(s->output_dir, &freeb, &total) != 0)
			freeb = UINT64_MAX;
		st.fetch_pending = fetch_pending(s);
		rc = stats_format_metrics(&st, freeb, health_min_free(s, total), om, &text);
	} else if (rc == IH_OK) {
		rc = json ? stats_format_json(&st, &text) : stats_format_text(&st, &text);
	}
	if (rc == IH_OK && fwrite(text.data, 1, text.len, out) != text.len)
		rc = IH_ERR_IO;
	if (rc == IH_ERR_NOMEM)
		fprintf(err, "imagehook stats: %s\n", ih_strerror(rc));
	buf_free(&text);
	stats_free(&st);
	return rc == IH_OK ? 0 : 1;
}

int stats_metrics_of_log(const struct settings *s, int om, struct buf *out)
{
	struct stats st;
	int rc = stats_init(&st, INT64_MIN, INT64_MAX);
	if (rc == IH_OK) {
		/* A missing log is an empty one (nothing delivered yet, or just rotated). */
		if (access(s->log_path, F_OK) == 0)
			rc = read_log(&st, s->log_path, stderr);
	}
	uint64_t freeb = UINT64_MAX, total = 0;
	if (health_space(s->output_dir, &freeb, &total) != 0)
		freeb = UINT64_MAX;
	st.fetch_pending = fetch_pending(s);
	if (rc == IH_OK)
		rc = stats_format_metrics(&st, freeb, health_min_free(s, total), om, out);
	stats_free(&st);
	return rc;
}
