/* digest.c - SHA-256 and constant-time comparison through OpenSSL's libcrypto. */
#include "ih_config.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "digest.h"

void digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_LEN])
{
	SHA256(data, len, out);
}

void digest_sha256_hex(const void *data, size_t len, char hex[DIGEST_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[DIGEST_LEN];
	SHA256(data, len, md);
	for (int i = 0; i < DIGEST_LEN; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * DIGEST_LEN] = '\0';
}

int digest_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
