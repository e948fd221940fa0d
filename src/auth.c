/* auth.c - the shared-secret check and redaction of the secret from what we write. */
#include "ih_config.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "digest.h"
#include "ih_error.h"

#define AUTH_MAX_TOKEN 512

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes s[0..n) into out (outsz bytes with the NUL); '+' is a space only
 * in a query (form encoding), not in a path. Returns the length or -1.
 */
static long url_decode(const char *s, size_t n, int plus_is_space, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int hi = hexval(s[i + 1]);
			int lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

/* Finds the value of `token` in a query string; returns 1 and its span, or 0. */
static int query_token(const char *query, const char **val, size_t *len)
{
	const char *p = query;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t seg = end ? (size_t)(end - p) : strlen(p);
		if (seg >= 6 && memcmp(p, "token=", 6) == 0) {
			*val = p + 6;
			*len = seg - 6;
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* Compares a candidate with every token through their SHA-256, so time does not depend on where they differ. */
static int matches_any(const struct settings *s, const char *cand, size_t len)
{
	unsigned char want[DIGEST_LEN], got[DIGEST_LEN];
	int ok = 0;
	digest_sha256(cand, len, got);
	for (int i = 0; i < s->n_tokens; i++) {
		digest_sha256(s->tokens[i], strlen(s->tokens[i]), want);
		ok |= digest_equal(want, got, sizeof want);
	}
	return ok;
}

enum auth_result auth_check(const struct settings *s, const char *query, const char *path_info)
{
	char cand[AUTH_MAX_TOKEN];
	const char *val;
	size_t len;

	/* Signing secrets alone authenticate: the handler then requires the signature. */
	if (s->n_tokens == 0)
		return s->allow_open || s->n_signing > 0 || s->n_fal_keys > 0 ? AUTH_OPEN
									       : AUTH_UNCONFIGURED;
	if (query != NULL && query_token(query, &val, &len)) {
		long n = url_decode(val, len, 1, cand, sizeof cand);
		if (n > 0 && matches_any(s, cand, (size_t)n))
			return AUTH_OK;
	}
	if (path_info != NULL) {
		const char *last = strrchr(path_info, '/');
		last = last ? last + 1 : path_info;
		long n = url_decode(last, strlen(last), 0, cand, sizeof cand);
		if (n > 0 && matches_any(s, cand, (size_t)n))
			return AUTH_OK;
	}
	return AUTH_DENIED;
}

static const char REDACTED[] = "REDACTED";

/* Characters a query value keeps unescaped (RFC 3986 unreserved), plus '%' and '+'. */
static int url_value_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '%' || c == '+';
}

#define FINDER_MAX (1 + 2 * SETTINGS_MAX_TOKENS)

/* What redaction looks for, and where each one next occurs. */
struct finder {
	const char *what[FINDER_MAX];   /* [0] is "token=" */
	size_t len[FINDER_MAX];
	const char *next[FINDER_MAX];   /* next occurrence, NULL when there is none left */
	int n;
};

static void finder_add(struct finder *f, const char *what, const char *text, size_t len)
{
	size_t n = strlen(what);
	if (n == 0 || f->n == FINDER_MAX)
		return;
	f->what[f->n] = what;
	f->len[f->n] = n;
	f->next[f->n] = memmem(text, len, what, n);
	f->n++;
}

/* "token=", every token, and every signing secret (its base64 with or without whsec_). */
static void finder_init(struct finder *f, const struct settings *s, const char *text, size_t len)
{
	f->n = 0;
	finder_add(f, "token=", text, len);
	for (int i = 0; i < s->n_tokens; i++)
		finder_add(f, s->tokens[i], text, len);
	for (int i = 0; i < s->n_signing; i++) {
		const char *key = s->signing[i];
		finder_add(f, strncmp(key, "whsec_", 6) == 0 ? key + 6 : key, text, len);
	}
}

/*
 * Finds the first secret at or after text[from]. An occurrence found earlier is
 * searched for again only once from has passed it, so the text is scanned about
 * once per secret: searching afresh at every hit took 4 s for 1 MB of "token=&".
 */
static const char *next_secret(struct finder *f, const char *text, size_t len, size_t from,
			       size_t *match_len, int *is_param)
{
	const char *best = NULL;
	*match_len = 0;
	*is_param = 0;
	for (int k = 0; k < f->n; k++) {
		if (f->next[k] != NULL && f->next[k] < text + from)
			f->next[k] = memmem(text + from, len - from, f->what[k], f->len[k]);
		const char *hit = f->next[k];
		/* The earliest wins; at one place "token=" first, then the longest secret. */
		if (hit != NULL && (best == NULL || hit < best ||
				    (hit == best && !*is_param && f->len[k] > *match_len))) {
			best = hit;
			*match_len = f->len[k];
			*is_param = k == 0;
		}
	}
	return best;
}

char *auth_redact(const struct settings *s, const char *text, size_t len, size_t *out_len)
{
	struct buf out = { 0 };
	struct finder f;
	size_t i = 0;
	if (buf_reserve(&out, len) != IH_OK)
		return NULL;
	out.data[0] = '\0';
	finder_init(&f, s, text, len);
	while (i < len) {
		size_t mlen;
		int is_param;
		const char *hit = next_secret(&f, text, len, i, &mlen, &is_param);
		size_t at = hit ? (size_t)(hit - text) : len;
		if (buf_append(&out, text + i, at - i) != IH_OK)
			goto fail;
		if (hit == NULL)
			break;
		if (is_param) {
			/* A token= value is redacted even when it is not (or no longer) configured. */
			size_t j = at + 6;
			while (j < len && url_value_char(text[j]))
				j++;
			/* A configured token with other characters is still redacted whole. */
			for (int k = 0; k < s->n_tokens; k++) {
				size_t n = strlen(s->tokens[k]);
				if (n <= len - (at + 6) && memcmp(text + at + 6, s->tokens[k], n) == 0 &&
				    at + 6 + n > j)
					j = at + 6 + n;
			}
			if (buf_puts(&out, "token=") != IH_OK ||
			    (j > at + 6 && buf_puts(&out, REDACTED) != IH_OK))
				goto fail;
			i = j;
		} else {
			if (buf_puts(&out, REDACTED) != IH_OK)
				goto fail;
			i = at + mlen;
		}
	}
	*out_len = out.len;
	return out.data;
fail:
	buf_free(&out);
	return NULL;
}
