/* signature_fal.c - verify fal.ai webhook signatures with OpenSSL's EVP Ed25519. */
#include "ih_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "ih_error.h"
#include "signature.h"
#include "signature_fal.h"

#define MAX_HEADER 256
#define FAL_TOLERANCE 300

/* Builds "<request id>\n<user id>\n<timestamp>\n<hex sha256(body)>" into a new buffer. */
static char *message(const struct signature_fal_headers *h, const void *body, size_t len,
		     size_t *mlen)
{
	char hex[DIGEST_HEX_LEN];
	digest_sha256_hex(body, len, hex);
	size_t n = strlen(h->request_id) + strlen(h->user_id) + strlen(h->timestamp) + 3 +
		   DIGEST_HEX_LEN;
	char *m = malloc(n);
	if (m == NULL)
		return NULL;
	int w = snprintf(m, n, "%s\n%s\n%s\n%s", h->request_id, h->user_id, h->timestamp, hex);
	*mlen = w > 0 ? (size_t)w : 0;
	return m;
}

static int unhex(const char *s, unsigned char *out, size_t outlen)
{
	if (strlen(s) != 2 * outlen)
		return -1;
	for (size_t i = 0; i < outlen; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + (size_t)k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* 1 when sig verifies over m with the raw public key pub, 0 when not, -1 out of memory. */
static int ed25519_ok(const unsigned char pub[32], const unsigned char sig[64], const char *m,
		      size_t mlen)
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = -1;
	if (key != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)m, mlen) == 1;
	else if (key == NULL && ctx != NULL)
		ok = 0;   /* not a valid point: matches nothing */
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

int signature_fal_verify(const unsigned char (*keys)[32], int n, const struct signature_fal_headers *h,
			 const void *body, size_t len, time_t now, const char **why)
{
	long long ts;
	long tol = h->tolerance > 0 ? h->tolerance : FAL_TOLERANCE;
	unsigned char sig[64];
	if (h->request_id == NULL || h->user_id == NULL || h->timestamp == NULL ||
	    h->signature == NULL) {
		*why = "X-Fal-Webhook-Request-Id, -User-Id, -Timestamp or -Signature header missing";
		return IH_ERR_UNAUTHORIZED;
	}
	if (strlen(h->request_id) > MAX_HEADER || strlen(h->user_id) > MAX_HEADER) {
		*why = "X-Fal-Webhook-Request-Id or -User-Id header too long";
		return IH_ERR_UNAUTHORIZED;
	}
	if (signature_parse_timestamp(h->timestamp, &ts) != 0) {
		*why = "X-Fal-Webhook-Timestamp is not a number of seconds";
		return IH_ERR_UNAUTHORIZED;
	}
	long long skew = (long long)now - ts;
	if (skew > tol || skew < -tol) {
		*why = "X-Fal-Webhook-Timestamp is further from now than IMAGEHOOK_SIGNATURE_TOLERANCE";
		return IH_ERR_UNAUTHORIZED;
	}
	if (unhex(h->signature, sig, sizeof sig) != 0) {
		*why = "X-Fal-Webhook-Signature is not 128 hex digits";
		return IH_ERR_UNAUTHORIZED;
	}
	size_t mlen;
	char *m = message(h, body, len, &mlen);
	if (m == NULL)
		return IH_ERR_NOMEM;
	int rc = IH_ERR_UNAUTHORIZED;
	for (int k = 0; k < n; k++) {
		int ok = ed25519_ok(keys[k], sig, m, mlen);
		if (ok < 0) {
			rc = IH_ERR_NOMEM;
			break;
		}
		if (ok) {
			rc = IH_OK;
			break;
		}
	}
	free(m);
	if (rc == IH_ERR_UNAUTHORIZED)
		*why = n == 0 ? "no fal public key configured"
			      : "X-Fal-Webhook-Signature matches no key of IMAGEHOOK_FAL_JWKS_FILE";
	return rc;
}

int signature_fal_sign(const unsigned char priv[32], const char *request_id, const char *user_id,
		       const char *timestamp, const void *body, size_t len,
		       char out[SIGNATURE_FAL_HEX_LEN])
{
	struct signature_fal_headers h = { request_id, user_id, timestamp, NULL, 0 };
	size_t mlen, slen = 64;
	unsigned char sig[64];
	char *m = message(&h, body, len, &mlen);
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = IH_ERR_NOMEM;
	if (m != NULL && key != NULL && ctx != NULL &&
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)m, mlen) == 1 && slen == 64) {
		for (size_t i = 0; i < 64; i++)
			snprintf(out + 2 * i, 3, "%02x", sig[i]);
		rc = IH_OK;
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	free(m);
	return rc;
}

int signature_fal_public(const unsigned char priv[32], unsigned char pub[32])
{
	size_t n = 32;
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	int rc = key != NULL && EVP_PKEY_get_raw_public_key(key, pub, &n) == 1 && n == 32
			 ? IH_OK : IH_ERR_NOMEM;
	EVP_PKEY_free(key);
	return rc;
}
