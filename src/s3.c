/* s3.c - S3 requests over libcurl, signed by libcurl's own SigV4 (CURLOPT_AWS_SIGV4). */
#include "ih_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef HAVE_CURL
#include <curl/curl.h>
#endif

#include "base64.h"
#include "digest.h"
#include "ih_error.h"
#include "s3.h"

#define DEFAULT_TIMEOUT_MS 30000L
#define MAX_ERROR_BODY (64 * 1024)
#define MAX_LIST_PAGE (8 * 1024 * 1024)

/* The SHA-256 of no bytes: the signed payload hash of GET, HEAD, DELETE and LIST. */
static const char empty_sha256[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/* ---- pure helpers ---- */

static int unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int s3_uri_encode(const char *s, int keep_slash, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = buf_reserve(out, strlen(s) * 3);
	if (rc != IH_OK)
		return rc;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (unreserved(*p) || (keep_slash && *p == '/')) {
			out->data[out->len++] = (char)*p;
		} else {
			out->data[out->len++] = '%';
			out->data[out->len++] = hex[*p >> 4];
			out->data[out->len++] = hex[*p & 15];
		}
	}
	out->data[out->len] = '\0';
	return IH_OK;
}

/* One encoded parameter, for sorting. */
struct qparam {
	struct buf name, value;
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->name.data, y->name.data);
	return c != 0 ? c : strcmp(x->value.data, y->value.data);
}

int s3_canonical_query(const char *const *kv, size_t n, struct buf *out)
{
	if (n == 0)
		return IH_OK;
	struct qparam *q = calloc(n, sizeof *q);
	if (q == NULL)
		return IH_ERR_NOMEM;
	int rc = IH_OK;
	for (size_t i = 0; i < n && rc == IH_OK; i++) {
		rc = s3_uri_encode(kv[2 * i], 0, &q[i].name);
		if (rc == IH_OK)
			rc = s3_uri_encode(kv[2 * i + 1] ? kv[2 * i + 1] : "", 0, &q[i].value);
	}
	if (rc == IH_OK) {
		/* Sorted by the encoded bytes, as SigV4's canonical request sorts them. */
		qsort(q, n, sizeof *q, qparam_cmp);
		for (size_t i = 0; i < n && rc == IH_OK; i++)
			rc = buf_printf(out, "%s%s=%s", i ? "&" : "", q[i].name.data, q[i].value.data);
	}
	for (size_t i = 0; i < n; i++) {
		buf_free(&q[i].name);
		buf_free(&q[i].value);
	}
	free(q);
	return rc;
}

int s3_url(const struct s3_config *c, const char *key, const char *query, struct buf *out)
{
	const char *ep = c->endpoint ? c->endpoint : "";
	const char *sep = strstr(ep, "://");
	if (sep == NULL || sep == ep || sep[3] == '\0' || sep[3] == '/')
		return IH_ERR_CONFIG;
	const char *host = sep + 3;
	size_t hostlen = strcspn(host, "/");
	int rc;
	if (c->virtual_host)
		rc = buf_printf(out, "%.*s%s.%.*s/", (int)(host - ep), ep, c->bucket, (int)hostlen,
				host);
	else
		rc = buf_printf(out, "%.*s/%s/", (int)(host - ep + hostlen), ep, c->bucket);
	if (rc == IH_OK && key != NULL && *key != '\0') {
		rc = s3_uri_encode(c->prefix ? c->prefix : "", 1, out);
		if (rc == IH_OK)
			rc = s3_uri_encode(key, 1, out);
	}
	if (rc == IH_OK && query != NULL && *query != '\0')
		rc = buf_printf(out, "?%s", query);
	return rc;
}

static char *trim(char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return p;
}

int s3_parse_credentials(const char *text, char **access, char **secret, const char **why)
{
	char *copy = strdup(text);
	char *a = NULL, *s = NULL;
	int rc = IH_OK, in_default = 1;
	*access = *secret = NULL;
	if (copy == NULL)
		return IH_ERR_NOMEM;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\r\n", &save); line != NULL && rc == IH_OK;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char *l = trim(line);
		if (*l == '\0' || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			/* AWS's file may hold several profiles: only [default] is ours. */
			in_default = strcmp(l, "[default]") == 0;
			continue;
		}
		char *eq = strchr(l, '=');
		if (eq == NULL) {
			*why = "a line of the credentials file has no '='";
			rc = IH_ERR_CONFIG;
			break;
		}
		*eq = '\0';
		char *k = trim(l), *v = trim(eq + 1);
		char **dst = NULL;
		if (strcmp(k, "aws_access_key_id") == 0 || strcmp(k, "access_key") == 0)
			dst = &a;
		else if (strcmp(k, "aws_secret_access_key") == 0 || strcmp(k, "secret_key") == 0)
			dst = &s;
		if (dst == NULL || !in_default)
			continue;
		if (*v == '\0') {
			*why = "an empty key in the credentials file";
			rc = IH_ERR_CONFIG;
			break;
		}
		free(*dst);
		if ((*dst = strdup(v)) == NULL)
			rc = IH_ERR_NOMEM;
	}
	if (rc == IH_OK && (a == NULL || s == NULL)) {
		*why = "the credentials file lacks aws_access_key_id or aws_secret_access_key";
		rc = IH_ERR_CONFIG;
	}
	/* The secret must not linger in freed memory. */
	memset(copy, 0, strlen(text));
	free(copy);
	if (rc != IH_OK) {
		free(a);
		if (s != NULL)
			memset(s, 0, strlen(s));
		free(s);
		return rc;
	}
	*access = a;
	*secret = s;
	return IH_OK;
}

int s3_parse_store_url(const char *url, char **bucket, char **prefix, const char **why)
{
	*bucket = *prefix = NULL;
	if (strncmp(url, "s3://", 5) != 0) {
		*why = "the store is not an s3:// URL";
		return IH_ERR_CONFIG;
	}
	const char *b = url + 5;
	size_t n = strcspn(b, "/");
	/* S3's rule for names usable in both addressing styles. */
	int ok = n >= 3 && n <= 63 && b[0] != '-' && b[0] != '.' && b[n - 1] != '-' &&
		 b[n - 1] != '.';
	for (size_t i = 0; ok && i < n; i++)
		ok = (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
		     b[i] == '.';
	if (!ok) {
		*why = "the bucket name must be 3-63 characters of a-z, 0-9, '-' and '.'";
		return IH_ERR_CONFIG;
	}
	struct buf p = { 0 };
	const char *rest = b + n;
	int rc = IH_OK;
	while (*rest != '\0' && rc == IH_OK) {
		while (*rest == '/')
			rest++;
		size_t m = strcspn(rest, "/");
		if (m == 0)
			break;
		if ((m == 1 && rest[0] == '.') || (m == 2 && rest[0] == '.' && rest[1] == '.')) {
			*why = "the store's prefix has a '.' or '..' component";
			rc = IH_ERR_CONFIG;
			break;
		}
		for (size_t i = 0; i < m; i++)
			if ((unsigned char)rest[i] < 0x20 || rest[i] == 0x7f) {
				*why = "the store's prefix has a control character";
				rc = IH_ERR_CONFIG;
			}
		if (rc == IH_OK)
			rc = buf_printf(&p, "%.*s/", (int)m, rest);
		rest += m;
	}
	if (rc == IH_OK && p.data == NULL)
		rc = buf_puts(&p, "");
	if (rc == IH_OK && (*bucket = strndup(b, n)) == NULL)
		rc = IH_ERR_NOMEM;
	if (rc != IH_OK) {
		buf_free(&p);
		return rc;
	}
	*prefix = p.data;
	return IH_OK;
}

/* Decodes the five XML entities S3 uses in place. */
static void xml_unescape(char *s)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
		     { "&apos;", '\'' } };
	char *o = s;
	for (const char *p = s; *p != '\0';) {
		size_t i = 0;
		if (*p == '&')
			for (; i < sizeof ents / sizeof ents[0]; i++)
				if (strncmp(p, ents[i].ent, strlen(ents[i].ent)) == 0)
					break;
		if (*p == '&' && i < sizeof ents / sizeof ents[0]) {
			*o++ = ents[i].c;
			p += strlen(ents[i].ent);
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
}

/* Finds <tag>text</tag> in [xml, end); returns the text's start and sets *len, or NULL. */
static const char *xml_find(const char *xml, const char *end, const char *tag, size_t *len,
			    const char **after)
{
	char open[64], close[64];
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	const char *a = strstr(xml, open);
	if (a == NULL || (end != NULL && a >= end))
		return NULL;
	a += strlen(open);
	const char *b = strstr(a, close);
	if (b == NULL || (end != NULL && b > end))
		return NULL;
	*len = (size_t)(b - a);
	if (after != NULL)
		*after = b + strlen(close);
	return a;
}

int s3_xml_text(const char *xml, const char *tag, char *out, size_t outsz)
{
	size_t n;
	const char *t = xml ? xml_find(xml, NULL, tag, &n, NULL) : NULL;
	if (t == NULL || outsz == 0)
		return 0;
	snprintf(out, outsz, "%.*s", (int)(n < outsz ? n : outsz - 1), t);
	xml_unescape(out);
	return 1;
}

const char *s3_content_type(const char *key)
{
	static const struct {
		const char *ext, *type;
	} types[] = { { ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
		      { ".webp", "image/webp" }, { ".json", "application/json" } };
	size_t n = strlen(key);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t m = strlen(types[i].ext);
		if (n > m && strcasecmp(key + n - m, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

int s3_ok(const struct s3_reply *r)
{
	return r->status >= 200 && r->status < 300;
}

void s3_reply_free(struct s3_reply *r)
{
	buf_free(&r->body);
	memset(r, 0, sizeof *r);
}

/* ---- requests ---- */

#ifdef HAVE_CURL

struct s3 {
	struct s3_config c;       /* its strings point into the copies below */
	char *strings[6];
	char sigv4[160];
	CURL *curl;               /* one handle: its connection is kept between requests */
};

/* The body of a PUT, read by libcurl from memory (and re-read if it rewinds). */
struct upload {
	const char *data;
	size_t len, off;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ctx)
{
	struct upload *u = ctx;
	size_t n = size * nmemb;
	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(dst, u->data + u->off, n);
	u->off += n;
	return n;
}

static int seek_cb(void *ctx, curl_off_t off, int origin)
{
	struct upload *u = ctx;
	if (origin != SEEK_SET || off < 0 || (size_t)off > u->len)
		return CURL_SEEKFUNC_FAIL;
	u->off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* Where an answer's body goes, up to cap bytes. */
struct sink {
	struct buf *b;
	size_t cap;
	int over;
	CURL *curl;
};

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct sink *s = ctx;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		/* An error document: its start says enough (the Code), the rest is dropped. */
		if (s->b->len < MAX_ERROR_BODY &&
		    buf_append(s->b, p, n < MAX_ERROR_BODY - s->b->len ? n : MAX_ERROR_BODY - s->b->len) != IH_OK)
			return 0;
		return n;
	}
	if (s->b->len + n > s->cap) {
		s->over = 1;
		return 0;   /* makes libcurl stop with CURLE_WRITE_ERROR */
	}
	return buf_append(s->b, p, n) == IH_OK ? n : 0;
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct s3_reply *r = ctx;
	size_t n = size * nmemb;
	if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		const char *v = p + 5;
		size_t m = n - 5;
		while (m > 0 && (*v == ' ' || *v == '"')) {
			v++;
			m--;
		}
		while (m > 0 && (v[m - 1] == '\r' || v[m - 1] == '\n' || v[m - 1] == '"' ||
				 v[m - 1] == ' '))
			m--;
		snprintf(r->etag, sizeof r->etag, "%.*s", (int)(m < sizeof r->etag ? m : sizeof r->etag - 1), v);
	}
	return n;
}

int s3_new(const struct s3_config *c, struct s3 **out)
{
	if (c->endpoint == NULL || c->bucket == NULL || c->access_key == NULL ||
	    c->secret_key == NULL || c->region == NULL || strchr(c->region, ':') != NULL)
		return IH_ERR_CONFIG;
	struct buf probe = { 0 };
	int rc = s3_url(c, NULL, NULL, &probe);
	buf_free(&probe);
	if (rc != IH_OK)
		return rc;
	/* Not thread-safe, but imagehook is one thread per process; later calls are no-ops. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return IH_ERR_NOMEM;
	struct s3 *s = calloc(1, sizeof *s);
	if (s == NULL)
		return IH_ERR_NOMEM;
	s->c = *c;
	const char *src[6] = { c->endpoint, c->region, c->bucket, c->prefix ? c->prefix : "",
			       c->access_key, c->secret_key };
	for (int i = 0; i < 6; i++)
		if ((s->strings[i] = strdup(src[i])) == NULL)
			goto nomem;
	s->c.endpoint = s->strings[0];
	s->c.region = s->strings[1];
	s->c.bucket = s->strings[2];
	s->c.prefix = s->strings[3];
	s->c.access_key = s->strings[4];
	s->c.secret_key = s->strings[5];
	if (s->c.timeout_ms <= 0)
		s->c.timeout_ms = DEFAULT_TIMEOUT_MS;
	snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", s->c.region);
	if ((s->curl = curl_easy_init()) == NULL)
		goto nomem;
	*out = s;
	return IH_OK;
nomem:
	s3_free(s);
	return IH_ERR_NOMEM;
}

void s3_free(struct s3 *s)
{
	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	for (int i = 0; i < 6; i++) {
		if (s->strings[i] != NULL)
			memset(s->strings[i], 0, strlen(s->strings[i]));
		free(s->strings[i]);
	}
	free(s);
}

/* Appends the header "name: value" to the list; returns 0 when out of memory. */
static int add_header(struct curl_slist **h, const char *name, const char *value)
{
	char line[256];
	snprintf(line, sizeof line, "%s: %s", name, value);
	struct curl_slist *n = curl_slist_append(*h, line);
	if (n == NULL)
		return 0;
	*h = n;
	return 1;
}

/*
 * One request. method is "PUT", "GET", "HEAD" or "DELETE"; key NULL addresses the
 * bucket; query is already canonical; data/len the PUT body; cap bounds the body
 * of the answer kept in r->body.
 */
static int perform(struct s3 *s, const char *method, const char *key, const char *query,
		   const void *data, size_t len, int flags, size_t cap, struct s3_reply *r)
{
	struct buf url = { 0 };
	struct curl_slist *headers = NULL;
	struct upload up = { data, len, 0 };
	struct sink sink = { &r->body, cap, 0, s->curl };
	char errbuf[CURL_ERROR_SIZE] = "";
	int put = strcmp(method, "PUT") == 0;
	int rc = IH_ERR_NOMEM;

	buf_reset(&r->body);
	r->status = 0;
	r->code[0] = r->etag[0] = r->error[0] = '\0';
	if (s3_url(&s->c, key, query, &url) != IH_OK)
		goto out;

	char sha[DIGEST_HEX_LEN];
	if (put) {
		unsigned char md5[DIGEST_MD5_LEN];
		char md5_b64[32];
		digest_sha256_hex(data, len, sha);
		digest_md5(data, len, md5);
		b64_encode(md5, sizeof md5, md5_b64);
		if (!add_header(&headers, "Content-MD5", md5_b64) ||
		    !add_header(&headers, "Content-Type", s3_content_type(key ? key : "")) ||
		    ((flags & S3_CREATE_ONLY) && !add_header(&headers, "If-None-Match", "*")))
			goto out;
	} else {
		memcpy(sha, empty_sha256, sizeof empty_sha256);
	}
	/*
	 * libcurl 7.88 signs this header's value as the payload hash but does not send
	 * one itself, and S3 servers want it. Never an empty "Expect:" to stop
	 * 100-continue: libcurl signs it but does not send it, and the signature fails.
	 */
	if (!add_header(&headers, "x-amz-content-sha256", sha))
		goto out;

	CURL *h = s->curl;
	curl_easy_reset(h);   /* keeps the open connection, drops every option */
	int ok = curl_easy_setopt(h, CURLOPT_URL, url.data) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_USERNAME, s->c.access_key) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_PASSWORD, s->c.secret_key) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->c.timeout_ms) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
				  s->c.timeout_ms < 5000 ? s->c.timeout_ms : 5000L) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb) == CURLE_OK &&
		 curl_easy_setopt(h, CURLOPT_HEADERDATA, r) == CURLE_OK;
	if (ok && put)
		ok = curl_easy_setopt(h, CURLOPT_UPLOAD, 1L) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_READDATA, &up) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_SEEKDATA, &up) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len) == CURLE_OK;
	else if (ok && strcmp(method, "HEAD") == 0)
		ok = curl_easy_setopt(h, CURLOPT_NOBODY, 1L) == CURLE_OK;
	else if (ok && strcmp(method, "DELETE") == 0)
		ok = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE") == CURLE_OK;
	if (!ok) {
		snprintf(r->error, sizeof r->error, "libcurl refused an option");
		rc = IH_ERR_CONFIG;
		goto out;
	}
	CURLcode cc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK && !(sink.over && status != 0)) {
		snprintf(r->error, sizeof r->error, "%s %s: %s", method, key ? key : "(bucket)",
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
		rc = cc == CURLE_OUT_OF_MEMORY ? IH_ERR_NOMEM : IH_ERR_IO;
		goto out;
	}
	r->status = status;
	if (sink.over) {
		snprintf(r->error, sizeof r->error, "%s %s: answer over %lu bytes", method,
			 key ? key : "(bucket)", (unsigned long)cap);
		rc = IH_ERR_LIMIT;
		goto out;
	}
	if (!s3_ok(r)) {
		s3_xml_text(r->body.data, "Code", r->code, sizeof r->code);
		snprintf(r->error, sizeof r->error, "%s %s: HTTP %ld%s%s", method,
			 key ? key : "(bucket)", status, r->code[0] ? " " : "", r->code);
	}
	rc = IH_OK;
out:
	curl_slist_free_all(headers);
	buf_free(&url);
	return rc;
}

int s3_put(struct s3 *s, const char *key, const void *data, size_t len, int flags,
	   struct s3_reply *r)
{
	return perform(s, "PUT", key, NULL, data, len, flags, MAX_ERROR_BODY, r);
}

int s3_get(struct s3 *s, const char *key, size_t cap, struct s3_reply *r)
{
	return perform(s, "GET", key, NULL, NULL, 0, 0, cap, r);
}

int s3_head(struct s3 *s, const char *key, struct s3_reply *r)
{
	return perform(s, "HEAD", key, NULL, NULL, 0, 0, MAX_ERROR_BODY, r);
}

int s3_delete(struct s3 *s, const char *key, struct s3_reply *r)
{
	return perform(s, "DELETE", key, NULL, NULL, 0, 0, MAX_ERROR_BODY, r);
}

int s3_list(struct s3 *s, const char *prefix, s3_key_fn fn, void *ctx, struct s3_reply *r)
{
	struct buf full = { 0 }, query = { 0 };
	char *token = NULL;
	size_t plen = strlen(s->c.prefix);
	int rc = buf_printf(&full, "%s%s", s->c.prefix, prefix ? prefix : "");
	while (rc == IH_OK) {
		const char *kv[6] = { "list-type", "2", "prefix", full.data, "continuation-token",
				      token };
		buf_reset(&query);
		rc = s3_canonical_query(kv, token ? 3 : 2, &query);
		if (rc == IH_OK)
			rc = perform(s, "GET", NULL, query.data, NULL, 0, 0, MAX_LIST_PAGE, r);
		if (rc != IH_OK || !s3_ok(r))
			break;
		const char *p = r->body.data ? r->body.data : "", *after;
		size_t n;
		const char *item;
		int stop = 0;
		while (!stop && (item = xml_find(p, NULL, "Contents", &n, &after)) != NULL) {
			const char *end = item + n;
			size_t kn, sn;
			const char *k = xml_find(item, end, "Key", &kn, NULL);
			const char *sz = xml_find(item, end, "Size", &sn, NULL);
			if (k != NULL) {
				char *key = strndup(k, kn);
				if (key == NULL) {
					rc = IH_ERR_NOMEM;
					break;
				}
				xml_unescape(key);
				unsigned long long size = sz ? strtoull(sz, NULL, 10) : 0;
				if (strncmp(key, s->c.prefix, plen) == 0)
					stop = fn(ctx, key + plen, size);
				free(key);
			}
			p = after;
		}
		if (rc != IH_OK || stop)
			break;
		char truncated[8], next[1024];
		free(token);
		token = NULL;
		if (!s3_xml_text(r->body.data, "IsTruncated", truncated, sizeof truncated) ||
		    strcmp(truncated, "true") != 0 ||
		    !s3_xml_text(r->body.data, "NextContinuationToken", next, sizeof next))
			break;
		if ((token = strdup(next)) == NULL)
			rc = IH_ERR_NOMEM;
	}
	free(token);
	buf_free(&full);
	buf_free(&query);
	return rc;
}

static int stop_at_first(void *ctx, const char *key, unsigned long long size)
{
	(void)ctx;
	(void)key;
	(void)size;
	return 1;
}

int s3_probe(struct s3 *s, struct s3_reply *r)
{
	int rc = s3_list(s, "", stop_at_first, NULL, r);
	if (rc == IH_OK && !s3_ok(r))
		rc = IH_ERR_IO;
	return rc;
}

#else /* !HAVE_CURL */

struct s3 {
	int unused;
};

int s3_new(const struct s3_config *c, struct s3 **out)
{
	(void)c;
	*out = NULL;
	return IH_ERR_CONFIG;
}

void s3_free(struct s3 *s)
{
	free(s);
}

static int no_curl(struct s3_reply *r)
{
	r->status = 0;
	snprintf(r->error, sizeof r->error, "imagehook was built without libcurl");
	return IH_ERR_IO;
}

int s3_put(struct s3 *s, const char *key, const void *data, size_t len, int flags,
	   struct s3_reply *r)
{
	return no_curl(r);
}

int s3_get(struct s3 *s, const char *key, size_t cap, struct s3_reply *r)
{
	return no_curl(r);
}

int s3_head(struct s3 *s, const char *key, struct s3_reply *r)
{
	return no_curl(r);
}

int s3_delete(struct s3 *s, const char *key, struct s3_reply *r)
{
	return no_curl(r);
}

int s3_list(struct s3 *s, const char *prefix, s3_key_fn fn, void *ctx, struct s3_reply *r)
{
	return no_curl(r);
}

int s3_probe(struct s3 *s, struct s3_reply *r)
{
	return no_curl(r);
}

#endif
