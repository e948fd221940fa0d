/* digest.c - SHA-256, HMAC-SHA256 and constant-time comparison through OpenSSL's libcrypto. */
#include "ih_config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "digest.h"
#include "ih_error.h"

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

void digest_md5(const void *data, size_t len, unsigned char out[DIGEST_MD5_LEN])
{
	/* MD5() is deprecated in OpenSSL 3.0; the EVP call is not. */
	if (EVP_Digest(data, len, out, NULL, EVP_md5(), NULL) != 1)
		memset(out, 0, DIGEST_MD5_LEN);
}

int digest_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/*
 * HMAC built on the EVP digest calls, which every libcrypto >= 1.1 has without
 * deprecation warnings (HMAC_CTX is deprecated in 3.0, EVP_MAC absent from 1.1):
 * H((K ^ opad) || H((K ^ ipad) || message)), K hashed first when longer than a block.
 */
int digest_hmac_sha256(const void *key, size_t keylen, const struct digest_part *parts,
		       size_t n, unsigned char out[DIGEST_LEN])
{
	enum { BLOCK = 64 };
	unsigned char k[BLOCK], pad[BLOCK], inner[DIGEST_LEN];
	int rc = IH_ERR_NOMEM;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return IH_ERR_NOMEM;
	memset(k, 0, sizeof k);
	if (keylen > BLOCK)
		SHA256(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (int i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, pad, BLOCK) != 1)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (parts[i].len > 0 && EVP_DigestUpdate(ctx, parts[i].data, parts[i].len) != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, inner, NULL) != 1)
		goto out;
	for (int i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, pad, BLOCK) != 1 ||
	    EVP_DigestUpdate(ctx, inner, sizeof inner) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		goto out;
	rc = IH_OK;
out:
	/* Key material does not outlive the call. */
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
	EVP_MD_CTX_free(ctx);
	return rc;
}
