/* signature_fal.h - fal.ai's signed webhooks: ED25519 over request id, user id, time and body hash. */
#ifndef IH_SIGNATURE_FAL_H
#define IH_SIGNATURE_FAL_H

#include <stddef.h>
#include <time.h>

/* Public keys kept from IMAGEHOOK_FAL_JWKS_FILE. */
#define SIGNATURE_FAL_MAX_KEYS 8
/* 64 signature bytes in hex and the NUL. */
#define SIGNATURE_FAL_HEX_LEN 129

/* The four X-Fal-Webhook-* request headers, borrowed; any may be NULL. */
struct signature_fal_headers {
	const char *request_id;  /* X-Fal-Webhook-Request-Id */
	const char *user_id;     /* X-Fal-Webhook-User-Id */
	const char *timestamp;   /* X-Fal-Webhook-Timestamp: decimal seconds */
	const char *signature;   /* X-Fal-Webhook-Signature: 128 hex digits */
	long tolerance;          /* seconds either way; 0 means 300 */
};

/*
 * Decides whether a delivery is signed by one of keys[0..n) (raw Ed25519 public
 * keys): the signature must verify over the message fal documents,
 * "<request id>\n<user id>\n<timestamp>\n<hex SHA-256 of the body>", and the
 * timestamp be within the tolerance of now. Returns IH_OK, IH_ERR_UNAUTHORIZED
 * with *why (static), or IH_ERR_NOMEM. Borrows everything.
 */
int signature_fal_verify(const unsigned char (*keys)[32], int n, const struct signature_fal_headers *h,
			 const void *body, size_t len, time_t now, const char **why);

/*
 * Signs as fal would with the Ed25519 private key seed priv, writing hex into out.
 * Returns IH_OK or IH_ERR_NOMEM. For tests; borrows everything.
 */
int signature_fal_sign(const unsigned char priv[32], const char *request_id, const char *user_id,
		       const char *timestamp, const void *body, size_t len,
		       char out[SIGNATURE_FAL_HEX_LEN]);

/* Writes the public key of the private key seed priv into pub. Returns IH_OK or IH_ERR_NOMEM. */
int signature_fal_public(const unsigned char priv[32], unsigned char pub[32]);

#endif
