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
 * and every `token=` query value, replaced by "REDACTED"; linear in len;
 * sets *out_len. NULL on allocation failure. Borrows s and text; the caller frees.
 */
char *auth_redact(const struct settings *s, const char *text, size_t len, size_t *out_len);

#endif
