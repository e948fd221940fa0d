/* prune.h - `imagehook prune`: keep the store at a fixed age, one whole job at a time. */
#ifndef IH_PRUNE_H
#define IH_PRUNE_H

#include <stdio.h>
#include <time.h>

#include "settings.h"

/* Shortest --older-than: longer than any sender's retry window (fal.ai retries for 2 hours). */
#define PRUNE_MIN_DAYS 1

/*
 * Whether a job last delivered at last_delivery may go at now with --older-than
 * days: only when it is older than days, and never younger than PRUNE_MIN_DAYS.
 * Pure.
 */
int prune_is_due(time_t last_delivery, time_t now, long days);

/*
 * Whether an outcome (from job.json) is one --keep-failed keeps: anything but
 * "stored" and "recorded". Pure.
 */
int prune_is_failed(const char *outcome);

/*
 * `imagehook prune --older-than DAYS [--keep-failed] [--dry-run]`: removes the job
 * folders (and rejected bodies' day folders) whose last delivery is older than
 * DAYS days. Each job goes atomically under its lock: first its id-index entry
 * (a new delivery of that id then starts a new job), then its folder is renamed
 * to a hidden name and deleted; one log line per job; then the gallery is
 * rebuilt without them. A job being delivered is skipped. argv[0] is "prune".
 * Returns the exit status: 0, 1 on errors, 2 on usage.
 */
int prune_main(const struct settings *s, int argc, char **argv, FILE *out, FILE *err);

#endif
