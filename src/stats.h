/* stats.h - `imagehook stats`: what the JSON-lines log says about deliveries in a period. */
#ifndef IH_STATS_H
#define IH_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "answer.h"
#include "buf.h"
#include "settings.h"

/* Answer times up to this many ms are counted exactly in a histogram; longer ones one by one. */
#define STATS_MS_EXACT 65536
/* Distinct job statuses counted by name; the rest are "other". */
#define STATS_MAX_STATUSES 16

struct stats_status {
	char name[40];
	uint64_t count;
};

/* The summary of the log lines whose time falls in [from_ms, to_ms). */
struct stats {
	int64_t from_ms, to_ms;   /* INT64_MIN / INT64_MAX for an open end */
	uint64_t lines;           /* lines read, in the period or not */
	uint64_t events;          /* lines of other events (on_stored, pruned): not deliveries */
	uint64_t unreadable;      /* not a JSON object with a readable time */
	uint64_t deliveries;      /* lines in the period: one per request */
	char first[40], last[40]; /* times of the earliest and latest delivery */
	int64_t first_ms, last_ms;
	uint64_t outcome[OUTCOME__COUNT];
	uint64_t outcome_other;   /* outcome names this version does not know */
	uint64_t http[600];       /* by HTTP status; index 0 for a missing or odd one */
	struct stats_status status[STATS_MAX_STATUSES];
	unsigned n_status;
	uint64_t status_other;
	uint64_t images_stored, images_rejected, images_remote, bytes;
	/* `imagehook fetch` attempts (not deliveries): fetched, fetch_failed, fetch_refused, expired */
	uint64_t links[4];
	/* Links waiting in the fetch queue (the metrics' gauge), UINT64_MAX when unknown. */
	uint64_t fetch_pending;
	uint64_t duplicates;      /* outcome duplicate */
	uint64_t rejects;         /* 4xx answers */
	uint64_t server_errors;   /* 5xx answers */
	uint64_t ms_count;        /* lines with an answer time */
	uint64_t ms_max;
	uint64_t ms_sum;
	uint64_t *ms_hist;        /* STATS_MS_EXACT counters */
	uint64_t *ms_long;        /* times >= STATS_MS_EXACT, unsorted */
	size_t n_long, cap_long;
};

/* Sets up an empty summary of [from_ms, to_ms). Returns IH_OK or IH_ERR_NOMEM; see stats_free(). */
int stats_init(struct stats *st, int64_t from_ms, int64_t to_ms);

/* Frees what the summary allocated; a no-op on a zeroed or freed one. */
void stats_free(struct stats *st);

/*
 * Counts one log line (line[0..len), newline optional): unreadable, outside the
 * period, or a delivery. Returns IH_OK or IH_ERR_NOMEM. Borrows line.
 */
int stats_add_line(struct stats *st, const char *line, size_t len);

/* The answer time at percentile pct (1-100, nearest rank), in ms; 0 with no times. Pure. */
uint64_t stats_percentile(const struct stats *st, unsigned pct);

/* Appends the summary as text for people. Returns IH_OK or IH_ERR_NOMEM. */
int stats_format_text(const struct stats *st, struct buf *out);

/* Appends the summary as one JSON object and a newline. Returns IH_OK or IH_ERR_NOMEM. */
int stats_format_json(const struct stats *st, struct buf *out);

/* The Content-Types of OpenMetrics text and of the Prometheus text format. */
#define STATS_OPENMETRICS_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define STATS_PROMETHEUS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Appends the summary as metrics: deliveries by outcome and by HTTP status, images
 * and bytes, duplicates, rejects, server errors, an answer-time histogram, and,
 * when free_bytes is not UINT64_MAX, the free and wanted bytes of the output's
 * file system. With om set as OpenMetrics 1.0 text (counter families named
 * without "_total", ending "# EOF"), else in the Prometheus text format that
 * promtool and node_exporter's textfile collector read. Returns IH_OK or IH_ERR_NOMEM.
 */
int stats_format_metrics(const struct stats *st, uint64_t free_bytes, uint64_t min_free_bytes,
			 int om, struct buf *out);

/*
 * The metrics path's answer: the whole current log (s->log_path, since its last
 * rotation) and the free space, as metrics (om: as for stats_format_metrics())
 * appended to out. Returns IH_OK, IH_ERR_IO (the log cannot be read) or IH_ERR_NOMEM.
 */
int stats_metrics_of_log(const struct settings *s, int om, struct buf *out);

/*
 * Parses an ISO 8601 UTC time, "YYYY-MM-DD", "YYYY-MM-DDTHH:MM", "...:SS", "...:SS.fff",
 * with an optional "Z" (a space may replace the T), into ms since the epoch. Sets
 * *date_only when only a date was given. Returns IH_OK or IH_ERR_LIMIT. Pure.
 */
int stats_parse_time(const char *text, int64_t *ms, int *date_only);

/* Parses a number and s, m, h, d or w ("90m", "7d") into ms. Returns IH_OK or IH_ERR_LIMIT. */
int stats_parse_duration(const char *text, int64_t *ms);

/*
 * `imagehook stats [--since DURATION | --from TIME [--to TIME]] [--json | --openmetrics] [--log PATH]...`:
 * reads the logs (s->log_path by default; "-" is standard input, for rotated logs
 * that were compressed: zcat imagehook.log.2.gz | imagehook stats --log -) and
 * prints the summary to out. argv[0] is "stats". Returns the exit status: 0, 1 when
 * a log cannot be read, 2 on usage errors (reported to err).
 */
int stats_main(const struct settings *s, int argc, char **argv, FILE *out, FILE *err);

#endif
