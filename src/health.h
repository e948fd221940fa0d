/* health.h - is this receiver able to store? The health path, `imagehook check`, the free-space guard. */
#ifndef IH_HEALTH_H
#define IH_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "settings.h"

/* What a request's path asks for. */
enum health_route {
	HEALTH_ROUTE_DELIVERY = 0,  /* a callback (any other path) */
	HEALTH_ROUTE_HEALTH,        /* .../health, or .../health/SECRET */
	HEALTH_ROUTE_METRICS        /* .../metrics, or .../metrics/SECRET */
};

/*
 * Which face of imagehook a path (PATH_INFO, or REQUEST_URI's path) asks for: its
 * last segment "health" or "metrics", or the one before last with the secret
 * after it. A token is at least 16 characters, so no token is taken for either.
 * Pure; path may be NULL.
 */
enum health_route health_route(const char *path);

/* The answer of a health check. */
struct health_report {
	int ok;
	int config_ok, output_ok, log_ok, space_ok;
	int space_known;          /* statvfs of the output folder worked */
	uint64_t free_bytes, total_bytes, min_free_bytes;
	char reason[64];          /* the first check that failed, short: no paths, no secrets */
	char detail[1024];        /* why, with paths: only for the operator */
};

/*
 * The bytes IMAGEHOOK_MIN_FREE asks to keep free on a file system of total bytes.
 * Pure.
 */
uint64_t health_min_free(const struct settings *s, uint64_t total);

/* Free bytes (for an unprivileged user) and the size of the file system holding path. 0 or -1. */
int health_space(const char *path, uint64_t *free_bytes, uint64_t *total_bytes);

/*
 * 0 when path can be written by this process (for a missing one: the nearest
 * existing folder above it, which imagehook would create it in); else -1 and why.
 * Creates nothing.
 */
int health_writable(const char *path, int is_dir, char *why, size_t whysz);

/*
 * Runs every check: configuration valid, output folder and log writable, free
 * space above IMAGEHOOK_MIN_FREE. log_open is whether the process holds the log
 * open (-1: not a serving process, do not ask). Creates nothing. Borrows s.
 */
void health_check(const struct settings *s, int log_open, struct health_report *r);

/*
 * Appends the answer body: {"ok":true} or {"ok":false,"reason":"..."}, and with
 * details set (the caller checked the secret) every check and the free space.
 * Returns IH_OK or IH_ERR_NOMEM.
 */
int health_body(const struct health_report *r, int details, struct buf *out);

/* `imagehook check`: the same checks for monit or cron; prints them, exits 0 when healthy, 1 not. */
int health_main(const struct settings *s, FILE *out, FILE *err);

#endif
