/* payload_fetch.h - the fetch queue's JSON: a job's fetch.json, job.json updates, fal's JWKS. */
#ifndef IH_PAYLOAD_FETCH_H
#define IH_PAYLOAD_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* One result link of a job and what became of it; strings NUL-terminated. */
struct payload_fetch_link {
	char url[4100];
	char where[96];           /* the JSON path it came from, as job.json names it */
	char sender[16];          /* runpod, replicate, fal */
	char state[16];           /* pending, fetched, rejected, failed, refused, expired */
	int64_t queued;           /* seconds since the epoch */
	int64_t expires;
	char expires_from[48];    /* what the expiry was read from */
	int64_t next;             /* no attempt before this time */
	unsigned attempts;
	char error[256];          /* the last attempt's failure, "" when none */
	char file[96];            /* stored file in the job folder, "" when none */
	char format[16];
	uint64_t bytes;
	uint32_t width, height;
	char sha256[65];
};

/* 1 when the link needs no further attempt (every state but pending). Pure. */
int payload_fetch_final(const struct payload_fetch_link *l);

/* Appends fetch.json for links l[0..n) to out. Returns IH_OK or IH_ERR_NOMEM. */
int payload_fetch_render(const struct payload_fetch_link *l, size_t n, struct buf *out);

/*
 * Reads fetch.json text[0..len) into a new array *l of *n links (at most max), which
 * the caller frees with free(). Returns IH_OK, IH_ERR_NOT_JSON or IH_ERR_NOMEM.
 */
int payload_fetch_parse(const char *text, size_t len, size_t max, struct payload_fetch_link **l,
			size_t *n);

/*
 * Appends to out job.json text[0..len) with the state of links l[0..n) written into
 * the imagehook.images entries they came from (matched by url and where): a fetched
 * file as a stored one, an expired, refused or failed link as rejected with the
 * reason, the last attempt's failure as fetch_error, and imagehook.links counting
 * them (links_expired when any expired).
 * Returns IH_OK, IH_ERR_NOT_JSON or IH_ERR_NOMEM. Borrows everything.
 */
int payload_record_fetched(const char *text, size_t len, const struct payload_fetch_link *l,
			   size_t n, struct buf *out);

/*
 * Reads the Ed25519 public keys (kty OKP, crv Ed25519, x base64url) of a JWKS
 * text[0..len) into keys[0..max), setting *n. Returns IH_OK, IH_ERR_NOT_JSON
 * (not a JWKS with such a key) or IH_ERR_NOMEM.
 */
int payload_jwks_ed25519(const char *text, size_t len, unsigned char (*keys)[32], int max, int *n);

#endif
