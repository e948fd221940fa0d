/* signature.h - signed deliveries as the Standard Webhooks scheme defines them. */
#ifndef IH_SIGNATURE_H
#define IH_SIGNATURE_H

#include <stddef.h>
#include <time.h>

/* How far webhook-timestamp may be from now, either way, in seconds (IMAGEHOOK_SIGNATURE_TOLERANCE). */
#define SIGNATURE_TOLERANCE 300
/* Longest secret key accepted, in decoded bytes. */
#define SIGNATURE_MAX_KEY 256
/* Shortest secret key accepted, in decoded bytes. */
#define SIGNATURE_MIN_KEY 16
/* "v1," + base64 of 32 bytes + NUL. */
#define SIGNATURE_TEXT_LEN 48

/* The three request headers of a signed delivery, borrowed; any may be NULL. */
struct signature_headers {
	const char *id;          /* webhook-id (or svix-id) */
	const char *timestamp;   /* webhook-timestamp: decimal seconds since the epoch */
	const char *signature;   /* webhook-signature: space-separated "v1,<base64>" entries */
	long tolerance;          /* seconds either way; 0 means SIGNATURE_TOLERANCE */
};

/*
 * Parses a decimal timestamp of 1..19 digits into *out. Returns 0, or -1 when s
 * is anything else. Pure; shared with signature_fal.c.
 */
int signature_parse_timestamp(const char *s, long long *out);

/*
 * Decodes a secret as the sender shows it, "whsec_" + base64 (the prefix may be
 * left out), into key (keysz bytes), setting *keylen. Returns IH_OK, or
 * IH_ERR_CONFIG with *why (static) saying what is wrong. Pure; borrows everything.
 */
int signature_key_decode(const char *secret, unsigned char *key, size_t keysz, size_t *keylen,
			 const char **why);

/*
 * Decides whether a delivery is signed by one of secrets[0..n) (each as for
 * signature_key_decode): HMAC-SHA256 over "id.timestamp.body", base64, compared in
 * constant time with every "v1," entry of the signature header (other versions are
 * ignored); the timestamp must be within h->tolerance of now. Returns IH_OK,
 * IH_ERR_UNAUTHORIZED with *why (static) saying what failed, or IH_ERR_NOMEM.
 * Pure; borrows everything.
 */
int signature_verify(char *const *secrets, int n, const struct signature_headers *h,
		     const void *body, size_t len, time_t now, const char **why);

/*
 * Writes the "v1,<base64>" signature of body for id and timestamp with secret into
 * out (NUL-terminated), as a sender would. Returns IH_OK, IH_ERR_CONFIG for a bad
 * secret or IH_ERR_NOMEM. Pure; borrows everything.
 */
int signature_sign(const char *secret, const char *id, const char *timestamp, const void *body,
		   size_t len, char out[SIGNATURE_TEXT_LEN]);

#endif
