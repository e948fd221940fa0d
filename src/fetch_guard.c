/* fetch_guard.c - the outbound decisions, side-effect free: URL, allowlist, address, expiry. */
#include "ih_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fetch_guard.h"
#include "ih_error.h"

static int host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Parses a decimal port of 1..65535 from s[0..n). */
static int parse_port(const char *s, size_t n, unsigned *port)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* Copies and checks a host name or address of n bytes into out (lower case). */
static int take_host(const char *s, size_t n, char *out, size_t outsz, int *literal)
{
	*literal = 0;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		struct in6_addr a6;
		if (n - 2 >= outsz)
			return -1;
		memcpy(out, s + 1, n - 2);
		out[n - 2] = '\0';
		if (inet_pton(AF_INET6, out, &a6) != 1)
			return -1;
		*literal = 6;
		return 0;
	}
	if (n == 0 || n >= outsz || n > 253)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int c = lower((unsigned char)s[i]);
		if (!host_char(c))
			return -1;
		out[i] = (char)c;
	}
	out[n] = '\0';
	/* No empty labels, no leading or trailing dot: "a..b", ".a", "a." are refused. */
	if (out[0] == '.' || out[n - 1] == '.' || strstr(out, "..") != NULL)
		return -1;
	struct in_addr a4;
	if (inet_pton(AF_INET, out, &a4) == 1)
		*literal = 4;
	return 0;
}

int fetch_url_parse(const char *url, struct fetch_url *u, const char **why)
{
	memset(u, 0, sizeof *u);
	size_t n = strlen(url);
	if (n > FETCH_GUARD_MAX_URL) {
		*why = "URL longer than 4096 bytes";
		return IH_ERR_LIMIT;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\') {
			*why = "URL has spaces, control bytes, backslashes or non-ASCII bytes";
			return IH_ERR_LIMIT;
		}
	}
	const char *rest;
	if (strncasecmp(url, "https://", 8) == 0) {
		u->https = 1;
		rest = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		rest = url + 7;
	} else {
		*why = "not an http or https URL";
		return IH_ERR_LIMIT;
	}
	size_t alen = strcspn(rest, "/?#");
	if (memchr(rest, '@', alen) != NULL) {
		*why = "URL has user info";
		return IH_ERR_LIMIT;
	}
	/* The port separator is the last ':' outside an IPv6 literal's brackets. */
	const char *close = rest[0] == '[' ? memchr(rest, ']', alen) : NULL;
	const char *colon = NULL;
	for (const char *p = close ? close : rest; p < rest + alen; p++)
		if (*p == ':')
			colon = p;
	size_t hlen = colon ? (size_t)(colon - rest) : alen;
	u->port = u->https ? 443 : 80;
	if (colon != NULL &&
	    parse_port(colon + 1, (size_t)(rest + alen - colon - 1), &u->port) != 0) {
		*why = "URL has an invalid port";
		return IH_ERR_LIMIT;
	}
	if (take_host(rest, hlen, u->host, sizeof u->host, &u->ip_literal) != 0) {
		*why = "URL has an invalid host";
		return IH_ERR_LIMIT;
	}
	u->path = rest[alen] == '\0' || rest[alen] == '#' ? "/" : rest + alen;
	return IH_OK;
}

static int add_entry(struct fetch_allow *a, const char *s, size_t n, const char **why)
{
	struct fetch_host h;
	memset(&h, 0, sizeof h);
	if (n > 7 && strncasecmp(s, "http://", 7) == 0) {
		h.http = 1;
		s += 7;
		n -= 7;
	} else if (n > 8 && strncasecmp(s, "https://", 8) == 0) {
		s += 8;
		n -= 8;
	}
	if (n > 0 && s[n - 1] == '/')
		n--;
	if (n > 2 && s[0] == '*' && s[1] == '.') {
		h.wildcard = 1;
		s += 2;
		n -= 2;
	}
	const char *close = n > 0 && s[0] == '[' ? memchr(s, ']', n) : NULL;
	const char *colon = NULL;
	for (const char *p = close ? close : s; p < s + n; p++)
		if (*p == ':')
			colon = p;
	size_t hlen = colon ? (size_t)(colon - s) : n;
	int literal;
	if ((colon != NULL && parse_port(colon + 1, (size_t)(s + n - colon - 1), &h.port) != 0) ||
	    take_host(s, hlen, h.host, sizeof h.host, &literal) != 0 || (h.wildcard && literal)) {
		*why = "IMAGEHOOK_FETCH_HOSTS has an entry that is not host, *.domain or http://host:port";
		return IH_ERR_CONFIG;
	}
	if (a->n == FETCH_GUARD_MAX_HOSTS) {
		*why = "IMAGEHOOK_FETCH_HOSTS has more than 32 entries";
		return IH_ERR_CONFIG;
	}
	a->h[a->n++] = h;
	return IH_OK;
}

static int add_list(struct fetch_allow *a, const char *list, int allow_defaults, const char **why)
{
	const char *sep = ", \t\r\n";
	while (*list != '\0') {
		list += strspn(list, sep);
		size_t n = strcspn(list, sep);
		if (n == 0)
			break;
		int rc;
		if (n == 8 && strncasecmp(list, "defaults", 8) == 0 && allow_defaults)
			rc = add_list(a, FETCH_GUARD_DEFAULT_HOSTS, 0, why);
		else
			rc = add_entry(a, list, n, why);
		if (rc != IH_OK)
			return rc;
		list += n;
	}
	return IH_OK;
}

int fetch_allow_parse(const char *list, struct fetch_allow *a, const char **why)
{
	memset(a, 0, sizeof *a);
	*why = NULL;
	if (list == NULL || list[strspn(list, ", \t\r\n")] == '\0')
		list = FETCH_GUARD_DEFAULT_HOSTS;
	return add_list(a, list, 1, why);
}

/* 1 when name is a proper subdomain of domain ("a.fal.media" of "fal.media"). */
static int below(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);
	return n > d + 1 && name[n - d - 1] == '.' && strcmp(name + n - d, domain) == 0;
}

const struct fetch_host *fetch_allow_match(const struct fetch_allow *a, const struct fetch_url *u,
					   const char **why)
{
	int host_seen = 0;
	/* Exact names first: one listed by name may reach private addresses, a wildcard never. */
	for (int k = 0; k < 2 * a->n; k++) {
		const struct fetch_host *h = &a->h[k % a->n];
		if (h->wildcard != (k >= a->n))
			continue;
		if (!(h->wildcard ? below(u->host, h->host) : strcmp(u->host, h->host) == 0))
			continue;
		host_seen = 1;
		if (!u->https && !h->http)
			continue;
		unsigned want = h->port ? h->port : (u->https ? 443 : 80);
		if (u->port != want)
			continue;
		return h;
	}
	if (!host_seen)
		*why = "host is not on IMAGEHOOK_FETCH_HOSTS";
	else if (!u->https)
		*why = "plain http to a host not listed with http://";
	else
		*why = "port not allowed for this host by IMAGEHOOK_FETCH_HOSTS";
	return NULL;
}

/* Address classes never connected to unless the host is listed by its exact name. */
static const char *v4_class(uint32_t a)
{
	if ((a >> 24) == 0)
		return "an unspecified (0.0.0.0/8) address";
	if ((a >> 24) == 127)
		return "a loopback address";
	if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8)
		return "a private address";
	if ((a >> 22) == (100u << 2 | 1))
		return "a shared (100.64.0.0/10) address";
	if ((a >> 16) == 0xa9fe)
		return "a link-local address";
	if ((a >> 28) == 0xe)
		return "a multicast address";
	if ((a >> 28) == 0xf)
		return "a reserved or broadcast address";
	/* 192.0.0.0/24 (protocol assignments), 198.18.0.0/15 (benchmarking). */
	if ((a >> 8) == 0xc00000 || (a >> 17) == (0xc612u >> 1))
		return "a reserved address";
	return NULL;
}

int fetch_addr_allowed(const struct sockaddr *sa, int exact, const char **why)
{
	const char *cls = NULL;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		cls = v4_class(ntohl(s4->sin_addr.s_addr));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		const unsigned char *b = s6->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		static const unsigned char zero[16];
		if (memcmp(b, mapped, 12) == 0 || (memcmp(b, zero, 12) == 0 && b[12] | b[13])) {
			/* IPv4-mapped (and the old IPv4-compatible form): the IPv4 address decides. */
			uint32_t a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
			cls = v4_class(a);
		} else if (memcmp(b, zero, 16) == 0) {
			cls = "an unspecified address";
		} else if (memcmp(b, zero, 15) == 0 && b[15] == 1) {
			cls = "a loopback address";
		} else if ((b[0] & 0xfe) == 0xfc) {
			cls = "a private (unique local) address";
		} else if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
			cls = "a link-local address";
		} else if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) {
			cls = "a site-local address";
		} else if (b[0] == 0xff) {
			cls = "a multicast address";
		} else if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
			cls = "a NAT64 address";
		}
	} else {
		*why = "not an IPv4 or IPv6 address";
		return 0;
	}
	if (cls == NULL || exact)
		return 1;
	*why = cls;
	return 0;
}

/* The value of query parameter name in url (case-sensitive, as S3 signs it), or NULL. */
static const char *query_param(const char *url, const char *name, size_t *len)
{
	const char *q = strchr(url, '?');
	size_t nl = strlen(name);
	while (q != NULL) {
		q++;
		if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
			const char *v = q + nl + 1;
			*len = strcspn(v, "&#");
			return v;
		}
		q = strchr(q, '&');
	}
	return NULL;
}

static int parse_uint(const char *s, size_t n, int64_t max, int64_t *out)
{
	int64_t v = 0;
	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Days since the epoch of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "20261203T085824Z" (ISO 8601 basic, as SigV4 writes it) to seconds since the epoch. */
static int parse_amz_date(const char *s, size_t n, int64_t *out)
{
	int64_t y, mo, d, h, mi, se;
	if (n != 16 || s[8] != 'T' || s[15] != 'Z' || parse_uint(s, 4, 9999, &y) ||
	    parse_uint(s + 4, 2, 12, &mo) || parse_uint(s + 6, 2, 31, &d) ||
	    parse_uint(s + 9, 2, 23, &h) || parse_uint(s + 11, 2, 59, &mi) ||
	    parse_uint(s + 13, 2, 60, &se) || mo == 0 || d == 0)
		return -1;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

int64_t fetch_link_expiry(const char *url, int64_t received, const char *sender, const char **from)
{
	static const struct {
		const char *date, *expires, *name;
	} signed_forms[] = {
		{ "X-Amz-Date", "X-Amz-Expires", "X-Amz-Expires" },
		{ "X-Goog-Date", "X-Goog-Expires", "X-Goog-Expires" },
	};
	size_t dl, el;
	int64_t t, e;
	for (size_t i = 0; i < sizeof signed_forms / sizeof signed_forms[0]; i++) {
		const char *d = query_param(url, signed_forms[i].date, &dl);
		const char *x = query_param(url, signed_forms[i].expires, &el);
		if (d != NULL && x != NULL && parse_amz_date(d, dl, &t) == 0 &&
		    parse_uint(x, el, 100LL * 365 * 86400, &e) == 0) {
			*from = signed_forms[i].name;
			return t + e;
		}
	}
	const char *x = query_param(url, "Expires", &el);
	if (x != NULL && parse_uint(x, el, INT64_C(1) << 40, &e) == 0) {
		*from = "Expires";
		return e;
	}
	if (sender != NULL && strcmp(sender, "replicate") == 0) {
		/* Replicate deletes a prediction's outputs an hour after it completes. */
		*from = "replicate: outputs deleted after 1 hour";
		return received + 3600;
	}
	if (sender != NULL && strcmp(sender, "fal") == 0) {
		*from = "fal: media kept at least 7 days";
		return received + 7 * 86400;
	}
	/* runpod-python's rp_upload presigns for 604800 s; nothing else is known. */
	*from = "assumed 7 days (runpod rp_upload)";
	return received + 7 * 86400;
}

int64_t fetch_backoff(unsigned attempts)
{
	int64_t s = 30;
	for (unsigned i = 1; i < attempts && s < 3600; i++)
		s *= 2;
	return s < 3600 ? s : 3600;
}

int fetch_resolve_lookup(const char *list, const char *host, unsigned port, char *addr,
			 size_t addrsz)
{
	char want[300];
	int wn = snprintf(want, sizeof want, "%s:%u:", host, port);
	if (list == NULL || wn <= 0 || (size_t)wn >= sizeof want)
		return 0;
	const char *sep = ", \t\r\n";
	while (*list != '\0') {
		list += strspn(list, sep);
		size_t n = strcspn(list, sep);
		if (n > (size_t)wn && strncasecmp(list, want, (size_t)wn) == 0 &&
		    n - (size_t)wn < addrsz) {
			memcpy(addr, list + wn, n - (size_t)wn);
			addr[n - (size_t)wn] = '\0';
			return 1;
		}
		list += n;
	}
	return 0;
}

void fetch_url_for_log(const char *url, char *out, size_t outsz)
{
	size_t n = strcspn(url, "?#");
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}
