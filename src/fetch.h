/* fetch.h - the durable queue of result links and `imagehook fetch`, which works it (libcurl). */
#ifndef IH_FETCH_H
#define IH_FETCH_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "payload.h"
#include "settings.h"
#include "store.h"

/*
 * Records the result links of payload p (output references that are URLs) as
 * pending fetches of the locked job: fetch.json in the job folder (states of links
 * already known are kept, and written into the record rec, job.json's text, which
 * the caller writes after this call) and an entry OUTPUT/fetch/<job> that
 * `imagehook fetch` works (not with an S3 store). Durable once the caller commits
 * the job. Writes the job folder into qdir (qsz bytes) when links were queued,
 * else "". No links: nothing is written. Returns IH_OK or an ih_err. Borrows all.
 */
int fetch_queue_job(const struct settings *s, struct store_job *job, const struct payload *p,
		    time_t now, struct buf *rec, char *qdir, size_t qsz);

/*
 * Fetches the due links of the one job folder dir (relative to the output root)
 * now; for FastCGI, right after the answer. Failures are logged, never reported.
 */
void fetch_after_answer(const struct settings *s, const char *dir);

/*
 * `imagehook fetch [--loop [--interval SECONDS]]`: works the queue once (or until
 * SIGTERM/SIGINT): each due link fetched, validated, stored and logged; entries
 * whose links are all settled leave the queue. argv[0] is "fetch". Returns the
 * exit status: 0, 1 when the output folder or log cannot be used or a job folder
 * could not be updated (reported on err), 2 on usage errors.
 */
int fetch_main(const struct settings *s, int argc, char **argv, FILE *out, FILE *err);

#endif
