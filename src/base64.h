/* base64.h - strict base64 decoding (and encoding, for tests and signatures). */
#ifndef IH_BASE64_H
#define IH_BASE64_H

#include <stddef.h>

/* Returns an upper bound of the bytes b64_decode writes for len input characters. */
size_t b64_decoded_max(size_t len);

/*
 * Decodes standard base64 (RFC 4648 alphabet; '=' padding optional; CR, LF, space
 * and tab skipped anywhere) from in[0..len) into out, which must hold
 * b64_decoded_max(len) bytes. Sets *out_len (0 on error). Returns IH_OK,
 * IH_ERR_EMPTY when the input holds no data characters (empty or whitespace
 * only), or IH_ERR_BASE64 for a character outside the alphabet (NUL included),
 * misplaced padding, non-zero trailing bits or an impossible length. Padding,
 * when present, must complete the last group exactly ("QQ==", "QQE=") and only
 * whitespace may follow it. Borrows in and out; allocates nothing. out may
 * equal in (in-place decoding); other overlaps are not allowed.
 */
int b64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len);

/* Encodes in[0..len) with padding into out (4 * ((len + 2) / 3) + 1 bytes, NUL-terminated); returns the length written without the NUL. */
size_t b64_encode(const unsigned char *in, size_t len, char *out);

#endif
