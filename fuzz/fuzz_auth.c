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

		/*
	 * Escapings and caps (issue 10, items 2 and 3): the token, each character written
	 * in an escaping the input chooses (as itself, after backslashes as JSON writes
	 * "\/", as \uXXXX or %XX in either case, as %25XX), set into the body at a
	 * place the input chooses. Redaction must leave no encoded form of it; and a
	 * cut inside it must leave auth_secret_tail() covering what is left of it.
	 */
	if (blen >= 2) {
		const unsigned char *ctl = (const unsigned char *)body;
		size_t at = ctl[0] % (blen + 1), cutsel = ctl[1];
		size_t cap = blen + tl * 14 + 1;
		char *text = malloc(cap);
		size_t *unit_end = malloc((tl + 1) * sizeof *unit_end);
		FUZZ_ASSERT(text != NULL && unit_end != NULL);
		memcpy(text, body, at);
		size_t o = at;
		for (size_t i = 0; i < tl; i++) {
			unsigned c = (unsigned char)token[i], how = ctl[(i + 2) % blen];
			static const char hx[] = "0123456789abcdef", HX[] = "0123456789ABCDEF";
			const char *h = how & 8 ? HX : hx;
			switch (how % 5) {
			case 0:
				text[o++] = (char)c;
				break;
			case 1:
				for (unsigned k = 0; k < 1 + (how >> 4) % 3; k++)
					text[o++] = '\\';
				text[o++] = (char)c;
				break;
			case 2:
				o += (size_t)sprintf(text + o, "\\u00%c%c", h[c >> 4], h[c & 15]);
				break;
			case 3:
				o += (size_t)sprintf(text + o, "%%%c%c", h[c >> 4], h[c & 15]);
				break;
			default:
				o += (size_t)sprintf(text + o, "%%25%c%c", h[c >> 4], h[c & 15]);
				break;
			}
			unit_end[i] = o;
		}
		size_t enc_end = o;
		memcpy(text + o, body + at, blen - at);
		o += blen - at;
		char *enc = strndup(text + at, enc_end - at);
		FUZZ_ASSERT(enc != NULL);
		red = auth_redact(&s, text, o, &n);
		FUZZ_ASSERT(red != NULL && !contains(red, n, enc) && !contains(red, n, token));
		free(red);
		/* A cut somewhere inside the encoded token, after at least one whole character. */
		size_t cut = unit_end[0] + cutsel % (enc_end - unit_end[0] + 1);
		size_t tail = auth_secret_tail(&s, text, cut);
		FUZZ_ASSERT(tail >= cut - at);
		struct auth_redact_opts ro = { 1, NULL, 0 };
		red = auth_redact_opts(&s, text, cut, &ro, &n);
		FUZZ_ASSERT(red != NULL);
		/* Nothing of what the cut kept of it survives: the text ends with REDACTED. */
		FUZZ_ASSERT(n >= 8 && memcmp(red + n - 8, "REDACTED", 8) == 0);
		free(red);
		free(enc);
		free(unit_end);
		free(text);
	}

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
