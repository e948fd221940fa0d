/* auth.h - who may store: the shared-secret check, and keeping the secret out of files. */
#ifndef IH_AUTH_H
#define IH_AUTH_H

#include <stddef.h>

#include "settings.h"

enum auth_result {
	AUTH_OK = 0,          /* a configured token matched */
	AUTH_OPEN,            /* no token configured: open endpoint allowed, or signing secrets instead */
	AUTH_DENIED,          /* token missing or wrong */
	AUTH_UNCONFIGURED     /* no token configured and open endpoint not allowed */
};

/*
 * Decides whether a request may store, from its query string and path info (either
 * may be NULL): the secret is the `token` query parameter (percent-decoded) or the
 * final path segment. Every configured token is compared in constant time.
 * Pure: borrows everything.
 */
enum auth_result auth_check(const struct settings *s, const char *query, const char *path_info);

/*
 * Returns a malloc'd, NUL-terminated copy of text[0..len) with every occurrence of
 * every configured token and signing secret (with or without its whsec_ prefix),
 * and every `token=` query value, replaced by "REDACTED"; a secret is found in any
 * escaping it can be written in, nested: JSON's "\/" (a run of backslashes before
 * any character), \uXXXX, percent-encoding (%XX, %25XX), hex digits in either case.
 * Linear in len for texts with few escapes; sets *out_len. NULL on allocation
 * failure. Borrows s and text; the caller frees.
 */
char *auth_redact(const struct settings *s, const char *text, size_t len, size_t *out_len);

/* What auth_redact_opts() does beyond auth_redact(). */
struct auth_redact_opts {
	/* text was cut at its end: a beginning of a secret left there is redacted too */
	int cut;
	/*
	 * A fragment of a secret that a cut left at the end of a string elsewhere (see
	 * auth_secret_tail()): redacted, in any escaping, wherever a '"' follows it, as
	 * where that string is written into JSON. NULL for none.
	 */
	const char *tail;
	size_t tail_len;
};

/* auth_redact() with options (o may be NULL). Same ownership. */
char *auth_redact_opts(const struct settings *s, const char *text, size_t len,
		       const struct auth_redact_opts *o, size_t *out_len);

/*
 * The length of the longest end of text[0..len) that is a beginning of a secret
 * (in any escaping), 0 when none: what a cut at len may have left of a secret.
 * Pure; borrows everything.
 */
size_t auth_secret_tail(const struct settings *s, const char *text, size_t len);

#endif
