/* signature.c - verify Standard Webhooks signatures (webhook-id, -timestamp, -signature). */
#include "ih_config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "digest.h"
#include "ih_error.h"
#include "signature.h"

#define SECRET_PREFIX "whsec_"
/* Bounds on what the sender controls, checked before any work is done. */
#define MAX_ID 256
#define MAX_TIMESTAMP 19
#define MAX_HEADER 4096
/* Base64 of 32 bytes is 44 characters; anything much longer is not a v1 signature. */
#define MAX_ENTRY 64

int signature_key_decode(const char *secret, unsigned char *key, size_t keysz, size_t *keylen,
			 const char **why)
{
	size_t plen = strlen(SECRET_PREFIX);
	*keylen = 0;
	if (strncmp(secret, SECRET_PREFIX, plen) == 0)
		secret += plen;
	size_t n = strlen(secret);
	if (n == 0 || b64_decoded_max(n) > keysz || b64_decoded_max(n) > SIGNATURE_MAX_KEY) {
		*why = n == 0 ? "signing secret is empty" : "signing secret is too long";
		return IH_ERR_CONFIG;
	}
	if (b64_decode(secret, n, key, keylen) != IH_OK) {
		*why = "signing secret is not whsec_ followed by base64";
		return IH_ERR_CONFIG;
	}
	if (*keylen < SIGNATURE_MIN_KEY) {
		*why = "signing secret is shorter than 16 bytes";
		return IH_ERR_CONFIG;
	}
	return IH_OK;
}

/* Computes the raw HMAC of "id.timestamp.body" with one secret. */
static int mac(const char *secret, const char *id, const char *timestamp, const void *body,
	       size_t len, unsigned char out[DIGEST_LEN])
{
	unsigned char key[SIGNATURE_MAX_KEY];
	size_t keylen;
	const char *why;
	int rc = signature_key_decode(secret, key, sizeof key, &keylen, &why);
	if (rc != IH_OK)
		return rc;
	struct digest_part parts[] = {
		{ id, strlen(id) }, { ".", 1 }, { timestamp, strlen(timestamp) }, { ".", 1 },
		{ body, len },
	};
	rc = digest_hmac_sha256(key, keylen, parts, sizeof parts / sizeof parts[0], out);
	memset(key, 0, sizeof key);
	return rc;
}

int signature_parse_timestamp(const char *s, long long *out)
{
	long long v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > MAX_TIMESTAMP)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int signature_verify(char *const *secrets, int n, const struct signature_headers *h,
		     const void *body, size_t len, time_t now, const char **why)
{
	long long ts;
	long tol = h->tolerance > 0 ? h->tolerance : SIGNATURE_TOLERANCE;
	if (h->id == NULL || h->timestamp == NULL || h->signature == NULL || h->id[0] == '\0') {
		*why = "webhook-id, webhook-timestamp or webhook-signature header missing";
		return IH_ERR_UNAUTHORIZED;
	}
	if (strlen(h->id) > MAX_ID || strlen(h->signature) > MAX_HEADER) {
		*why = "webhook-id or webhook-signature header too long";
		return IH_ERR_UNAUTHORIZED;
	}
	if (signature_parse_timestamp(h->timestamp, &ts) != 0) {
		*why = "webhook-timestamp is not a number of seconds";
		return IH_ERR_UNAUTHORIZED;
	}
	/* Both directions: a stale delivery is a replay, a future one a clock to fix. */
	long long skew = (long long)now - ts;
	if (skew > tol || skew < -tol) {
		*why = "webhook-timestamp is further from now than IMAGEHOOK_SIGNATURE_TOLERANCE";
		return IH_ERR_UNAUTHORIZED;
	}

	unsigned char (*want)[DIGEST_LEN] = calloc(n > 0 ? (size_t)n : 1, sizeof *want);
	if (want == NULL)
		return IH_ERR_NOMEM;
	int usable = 0, rc = IH_OK;
	for (int k = 0; k < n; k++) {
		rc = mac(secrets[k], h->id, h->timestamp, body, len, want[usable]);
		if (rc == IH_ERR_NOMEM)
			goto out;
		/* A secret that does not decode was reported at start-up; it matches nothing. */
		if (rc == IH_OK)
			usable++;
	}

	int ok = 0, entries = 0;
	const char *p = h->signature;
	while (*p != '\0') {
		size_t sp = strspn(p, " ");
		p += sp;
		size_t elen = strcspn(p, " ");
		if (elen == 0)
			break;
		if (elen > 3 && elen <= MAX_ENTRY && memcmp(p, "v1,", 3) == 0) {
			unsigned char got[MAX_ENTRY];
			size_t glen;
			entries++;
			if (b64_decode(p + 3, elen - 3, got, &glen) == IH_OK && glen == DIGEST_LEN)
				for (int k = 0; k < usable; k++)
					ok |= digest_equal(got, want[k], DIGEST_LEN);
		}
		p += elen;
	}
	rc = IH_OK;
	if (!ok) {
		*why = entries == 0 ? "webhook-signature has no v1 entry"
				    : "webhook-signature matches no signing secret";
		rc = IH_ERR_UNAUTHORIZED;
	}
out:
	memset(want, 0, (n > 0 ? (size_t)n : 1) * sizeof *want);
	free(want);
	return rc;
}

int signature_sign(const char *secret, const char *id, const char *timestamp, const void *body,
		   size_t len, char out[SIGNATURE_TEXT_LEN])
{
	unsigned char m[DIGEST_LEN];
	int rc = mac(secret, id, timestamp, body, len, m);
	if (rc != IH_OK)
		return rc;
	memcpy(out, "v1,", 3);
	b64_encode(m, sizeof m, out + 3);
	return IH_OK;
}
