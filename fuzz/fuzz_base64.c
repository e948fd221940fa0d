/* fuzz_base64.c - the strict decoder on any text; encode and decode round trips. */
#include "ih_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "fuzz.h"
#include "ih_error.h"

/* Encodes raw[0..n) and asserts that decoding gives it back. */
static void round_trip(const unsigned char *raw, size_t n)
{
	char *enc = malloc(4 * ((n + 2) / 3) + 1);
	FUZZ_ASSERT(enc != NULL);
	size_t elen = b64_encode(raw, n, enc);
	FUZZ_ASSERT(elen == strlen(enc) && elen % 4 == 0);
	unsigned char *back = malloc(b64_decoded_max(elen) + 1);
	FUZZ_ASSERT(back != NULL);
	size_t blen = 1;
	int rc = b64_decode(enc, elen, back, &blen);
	if (n == 0)
		FUZZ_ASSERT(rc == IH_ERR_EMPTY && blen == 0);
	else
		FUZZ_ASSERT(rc == IH_OK && blen == n && memcmp(back, raw, n) == 0);
	free(back);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max = b64_decoded_max(size);
	unsigned char *out = malloc(max + 1);
	FUZZ_ASSERT(out != NULL);
	size_t n = 1;
	int rc = b64_decode((const char *)data, size, out, &n);
	if (rc == IH_OK) {
		FUZZ_ASSERT(n > 0 && n <= max);
		round_trip(out, n);
		/* In place decodes to the same bytes. */
		unsigned char *copy = malloc(size + 1);
		FUZZ_ASSERT(copy != NULL);
		memcpy(copy, data, size);
		size_t m = 0;
		FUZZ_ASSERT(b64_decode((const char *)copy, size, copy, &m) == IH_OK);
		FUZZ_ASSERT(m == n && memcmp(copy, out, n) == 0);
		free(copy);
	} else {
		FUZZ_ASSERT((rc == IH_ERR_BASE64 || rc == IH_ERR_EMPTY) && n == 0);
	}
	free(out);
	/* Any bytes survive encoding and decoding. */
	round_trip(data, size);
	return 0;
}
