/* send.h - `imagehook send`: post a sample or given callback to a receiver and print its answer. */
#ifndef IH_SEND_H
#define IH_SEND_H

#include <stdio.h>
#include <time.h>

#include "buf.h"

/*
 * Appends a small RunPod-style callback to out: id, status COMPLETED, timings and
 * one 1x1 PNG in output.images. Returns IH_OK or IH_ERR_NOMEM. Pure.
 */
int send_sample_body(const char *id, struct buf *out);

/*
 * `imagehook send URL [FILE] [--secret whsec_...] [--id ID]`: POSTs FILE ("-" for
 * standard input) or a sample callback to URL, signed the Standard Webhooks way
 * with --secret, and prints the HTTP status and the answer to out. argv[0] is
 * "send". Returns the exit status: 0 for a 200 answer, 1 for any other answer or
 * a transport error, 2 on usage errors.
 */
int send_main(int argc, char **argv, FILE *out, FILE *err);

#endif
