/* fuzz_auth.c - the token check, redaction and signature verification on any input. */
#include "ih_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "fuzz.h"
#include "ih_error.h"
#include "settings.h"
#include "signature.h"

/*
 * Secrets over [a-z0-9-], 16 characters or more: "REDACTED" is upper case and
 * "token=" holds '=', so what redaction writes can never form one again, and a
 * secret left in its output is a real leak.
 */
static const char ALPHABET[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
static char fixed_token[] = "fixed-token-0123456789";
/* base64 of 18 bytes written with lower-case letters only. */
static char signing_secret[] = "whsec_abcdefghijklmnopqrstuvwx";
static char broken_secret[] = "whsec_***";

/* The input's first six lines: token, query, path, webhook-id, -timestamp, -signature; the rest is the body. */
#define FIELDS 6

static int contains(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *field[FIELDS];
	const uint8_t *p = data, *end = data + size;
	for (int i = 0; i < FIELDS; i++) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		field[i] = strndup((const char *)p, n);
		FUZZ_ASSERT(field[i] != NULL);
		p = nl ? nl + 1 : end;
	}
	const char *body = (const char *)p;
	size_t blen = (size_t)(end - p);

	/* A token made from the first field, mapped into the alphabet, 16-64 characters. */
	char token[65];
	size_t tl = strlen(field[0]);
	if (tl > 64)
		tl = 64;
	for (size_t i = 0; i < tl; i++)
		token[i] = ALPHABET[(unsigned char)field[0][i] % (sizeof ALPHABET - 1)];
	for (; tl < 16; tl++)
		token[tl] = 'q';
	token[tl] = '\0';

	struct settings s;
	memset(&s, 0, sizeof s);
	s.tokens[s.n_tokens++] = token;
	s.tokens[s.n_tokens++] = fixed_token;
	s.signing[s.n_signing++] = signing_secret;

	/* Any query and path: a decision, never a crash. */
	enum auth_result ar = auth_check(&s, field[1], field[2]);
	FUZZ_ASSERT(ar == AUTH_OK || ar == AUTH_DENIED);
	char q[128];
	snprintf(q, sizeof q, "a=1&token=%s", token);
	FUZZ_ASSERT(auth_check(&s, q, NULL) == AUTH_OK);
	snprintf(q, sizeof q, "/hook/%s", token);
	FUZZ_ASSERT(auth_check(&s, "", q) == AUTH_OK);

	/* Redaction leaves no secret, NUL-terminates, and changes nothing when run again. */
	size_t n = 0, n2 = 0;
	char *red = auth_redact(&s, body, blen, &n);
	FUZZ_ASSERT(red != NULL && red[n] == '\0');
	FUZZ_ASSERT(!contains(red, n, token) && !contains(red, n, fixed_token) &&
		    !contains(red, n, signing_secret + 6));
	char *again = auth_redact(&s, red, n, &n2);
	FUZZ_ASSERT(again != NULL && n2 == n && memcmp(again, red, n) == 0);
	free(again);
	free(red);

	/* Any headers: a decision, never a crash. */
	char *secrets[] = { broken_secret, signing_secret };
	struct signature_headers h = { field[3], field[4], field[5], 0 };
	const char *why = NULL;
	time_t now = (time_t)strtoll(field[4], NULL, 10);
	int rc = signature_verify(secrets, 2, &h, body, blen, now, &why);
	FUZZ_ASSERT(rc == IH_OK || (rc == IH_ERR_UNAUTHORIZED && why != NULL));

	/* A signature made is a signature accepted, for this body only. */
	const char *id = field[3][0] != '\0' && strlen(field[3]) <= 256 ? field[3] : "msg_fuzz";
	char sig[SIGNATURE_TEXT_LEN];
	FUZZ_ASSERT(signature_sign(signing_secret, id, "1767225600", body, blen, sig) == IH_OK);
	struct signature_headers good = { id, "1767225600", sig, 0 };
	FUZZ_ASSERT(signature_verify(secrets, 2, &good, body, blen, 1767225600, &why) == IH_OK);
	if (blen > 0) {
		char *tampered = malloc(blen);
		FUZZ_ASSERT(tampered != NULL);
		memcpy(tampered, body, blen);
		tampered[blen / 2] ^= 1;
		FUZZ_ASSERT(signature_verify(secrets, 2, &good, tampered, blen, 1767225600, &why) ==
			    IH_ERR_UNAUTHORIZED);
		free(tampered);
	}
	for (int i = 0; i < FIELDS; i++)
		free(field[i]);
	return 0;
}
