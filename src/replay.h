/* replay.h - `imagehook replay FILE...`: kept bodies through the delivery pipeline again. */
#ifndef IH_REPLAY_H
#define IH_REPLAY_H

#include <stdio.h>

#include "answer.h"
#include "handler.h"

/* What a replay run did, for its summary and exit code. */
struct replay_summary {
	unsigned total;
	unsigned ok;                        /* answered 200 */
	unsigned failed;                    /* any other answer, or the file could not be read */
	unsigned unreadable;                /* of failed: the file could not be opened or read */
	unsigned outcomes[OUTCOME__COUNT];  /* per outcome, for the bodies that were run */
};

/*
 * Runs each file of paths[0..n) through handler_handle() as a local POST of its
 * bytes (no token or signature needed; a body rejected again is not kept twice),
 * each writing its log line as a delivery does. After each file, writes
 * "[i/n] file: outcome" to progress (NULL for none); writes why a file failed to
 * errors (NULL for none) when progress is NULL. Fills *sum. Borrows everything.
 */
void replay_run(struct handler *h, char *const *paths, int n, FILE *progress, FILE *errors,
		struct replay_summary *sum);

/*
 * Appends the one-line summary of *sum ("replay: 3 bodies, 2 stored (...), 1 failed
 * (...)\n") to out. Pure. Returns IH_OK or IH_ERR_NOMEM.
 */
int replay_summary_line(const struct replay_summary *sum, struct buf *out);

/* The exit code for a run: 0 when every body answered 200, 1 otherwise. Pure. */
int replay_exit_code(const struct replay_summary *sum);

#endif
