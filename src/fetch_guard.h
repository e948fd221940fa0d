/* fetch_guard.h - what imagehook may fetch: URL shape, host allowlist, addresses, expiry. */
#ifndef IH_FETCH_GUARD_H
#define IH_FETCH_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The hosts allowed when IMAGEHOOK_FETCH_HOSTS is unset (or names "defaults"). */
#define FETCH_GUARD_DEFAULT_HOSTS \
	"replicate.delivery,*.replicate.delivery,fal.media,*.fal.media"
#define FETCH_GUARD_MAX_HOSTS 32
#define FETCH_GUARD_MAX_URL 4096

/* A URL taken apart; host is lower case, IPv6 literals without brackets. */
struct fetch_url {
	int https;                /* 1 for https, 0 for http */
	char host[256];
	unsigned port;            /* the scheme's default when the URL names none */
	int ip_literal;           /* 4 or 6 when host is an address, else 0 */
	const char *path;         /* into the parsed text: path and query, never empty */
};

/* One allowlist entry: "host", "*.domain", "http://host:port". */
struct fetch_host {
	char host[256];           /* lower case; for a wildcard, the domain after "*." */
	int wildcard;             /* any name below host (not host itself) */
	int http;                 /* listed with http://: plain http allowed too */
	unsigned port;            /* 0: the scheme's default port only */
};

struct fetch_allow {
	struct fetch_host h[FETCH_GUARD_MAX_HOSTS];
	int n;
};

/*
 * Parses url (http or https only, no user info, printable ASCII, at most
 * FETCH_GUARD_MAX_URL bytes) into *u, which borrows url. Returns IH_OK or
 * IH_ERR_LIMIT with *why (static). Pure.
 */
int fetch_url_parse(const char *url, struct fetch_url *u, const char **why);

/*
 * Parses a comma- or space-separated host list into *a; NULL or "" means the
 * defaults, and the word "defaults" inside a list adds them. Returns IH_OK or
 * IH_ERR_CONFIG with *why (static). Pure.
 */
int fetch_allow_parse(const char *list, struct fetch_allow *a, const char **why);

/*
 * The entry of a that allows u (scheme, host and port), or NULL with *why
 * (static) saying what refused it. Borrows both; pure.
 */
const struct fetch_host *fetch_allow_match(const struct fetch_allow *a, const struct fetch_url *u,
					   const char **why);

/*
 * Decides whether a connection to address sa may be made: loopback, private,
 * shared (CGNAT), link-local, multicast, reserved, broadcast and unspecified
 * addresses (IPv4, IPv6 and IPv4-mapped IPv6) are refused unless exact is set
 * (the host is listed by its exact name). Returns 1 to allow, or 0 with *why
 * (static). Pure.
 */
int fetch_addr_allowed(const struct sockaddr *sa, int exact, const char **why);

/*
 * When the link url stops working, in seconds since the epoch: X-Amz-Date plus
 * X-Amz-Expires (S3 SigV4), X-Goog-Date plus X-Goog-Expires, Expires=<seconds>
 * (SigV2), else the sender's known lifetime counted from received (replicate:
 * 1 hour; runpod rp_upload and fal: 7 days; anything else 7 days). *from (static)
 * names the source. Pure.
 */
int64_t fetch_link_expiry(const char *url, int64_t received, const char *sender, const char **from);

/* Seconds to wait after the attempts-th failed attempt (30 s doubling, at most 1 hour). Pure. */
int64_t fetch_backoff(unsigned attempts);

/*
 * Looks host:port up in a "host:port:address,..." list (IMAGEHOOK_FETCH_RESOLVE, as
 * curl's --resolve): copies the address into addr (addrsz bytes) and returns 1, or
 * returns 0. Pure.
 */
int fetch_resolve_lookup(const char *list, const char *host, unsigned port, char *addr,
			 size_t addrsz);

/*
 * The URL without its query and fragment, for the log: a presigned URL's query is
 * its credential. Writes at most outsz bytes with the NUL. Pure.
 */
void fetch_url_for_log(const char *url, char *out, size_t outsz);

#endif
