/* digest.h - SHA-256, HMAC-SHA256 and constant-time comparison; libcrypto is included by digest.c alone. */
#ifndef IH_DIGEST_H
#define IH_DIGEST_H

#include <stddef.h>

#define DIGEST_LEN 32
#define DIGEST_HEX_LEN 65   /* 64 hex digits and the NUL */

/* Writes the SHA-256 of data[0..len) to out. Pure. */
void digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_LEN]);

/* Writes the SHA-256 of data[0..len) as lowercase hex with a NUL to hex. Pure. */
void digest_sha256_hex(const void *data, size_t len, char hex[DIGEST_HEX_LEN]);

#define DIGEST_MD5_LEN 16

/* Writes the MD5 of data[0..len) to out (S3's Content-MD5; not for security). Pure. */
void digest_md5(const void *data, size_t len, unsigned char out[DIGEST_MD5_LEN]);

/* 1 when a and b (n bytes each) are equal; the time taken does not depend on where they differ. */
int digest_equal(const void *a, const void *b, size_t n);

/* One piece of a message that is hashed without being copied into one buffer. */
struct digest_part {
	const void *data;
	size_t len;
};

/*
 * Writes HMAC-SHA256 (RFC 2104) keyed with key[0..keylen) over the concatenation of
 * parts[0..n) to out. Borrows everything. Returns IH_OK or IH_ERR_NOMEM.
 */
int digest_hmac_sha256(const void *key, size_t keylen, const struct digest_part *parts,
		       size_t n, unsigned char out[DIGEST_LEN]);

#endif
