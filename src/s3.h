/* s3.h - a small S3 client: PUT, GET, HEAD, DELETE, LIST, signed with libcurl's SigV4. */
#ifndef IH_S3_H
#define IH_S3_H

#include <stddef.h>

#include "buf.h"

/* Where the objects go and who we are; strings are borrowed by s3_new() and copied. */
struct s3_config {
	const char *endpoint;     /* "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:7480" */
	const char *region;       /* signed into every request: "us-east-1", "auto" (R2) */
	const char *bucket;
	const char *prefix;       /* prepended to every key: "" or "a/b/" */
	int virtual_host;         /* bucket.host/key instead of host/bucket/key */
	const char *access_key;
	const char *secret_key;
	long timeout_ms;          /* a whole request, connect included; 0: 30 s */
};

/* What one request got back. */
struct s3_reply {
	long status;              /* HTTP status, 0 when no answer came */
	char code[64];            /* S3 error code of a failed answer ("NoSuchKey"), or "" */
	char etag[80];            /* the ETag header without quotes, or "" */
	char error[256];          /* what went wrong, for a log line: "" on a 2xx */
	struct buf body;          /* the answer's body (GET, LIST, error documents) */
};

/* Flags of s3_put(). */
enum {
	S3_CREATE_ONLY = 1        /* If-None-Match: *, 412 when the key exists */
};

struct s3;

/*
 * Makes a client for config c (copied). Returns IH_OK, IH_ERR_CONFIG when c is
 * incomplete or libcurl is missing, or IH_ERR_NOMEM; the caller frees *out with s3_free().
 */
int s3_new(const struct s3_config *c, struct s3 **out);

/* Frees the client, wiping the secret; s3_free(NULL) is a no-op. */
void s3_free(struct s3 *s);

/* Frees what a reply holds; the reply can then be reused. */
void s3_reply_free(struct s3_reply *r);

/*
 * The request functions below fill *r and return IH_OK when an HTTP answer came
 * (whatever its status: the caller looks at r->status), IH_ERR_IO when none did
 * (connection refused, timeout: r->error says which) or IH_ERR_NOMEM. Keys are
 * relative to the configured prefix; data is borrowed.
 *
 * s3_put sends Content-MD5 and the body's SHA-256 as a signed
 * x-amz-content-sha256, so the store itself refuses a body damaged on the way.
 */
int s3_put(struct s3 *s, const char *key, const void *data, size_t len, int flags,
	   struct s3_reply *r);
/* GETs an object into r->body (IH_ERR_LIMIT past cap bytes). */
int s3_get(struct s3 *s, const char *key, size_t cap, struct s3_reply *r);
int s3_head(struct s3 *s, const char *key, struct s3_reply *r);
int s3_delete(struct s3 *s, const char *key, struct s3_reply *r);

/* Called once per key of a listing with the key relative to the prefix; nonzero stops. */
typedef int (*s3_key_fn)(void *ctx, const char *key, unsigned long long size);

/*
 * Lists every key that starts with prefix (relative to the configured one), page
 * after page (ListObjectsV2), calling fn for each. Returns as the functions above;
 * a non-2xx page ends the listing with IH_OK and r->status set.
 */
int s3_list(struct s3 *s, const char *prefix, s3_key_fn fn, void *ctx, struct s3_reply *r);

/*
 * Checks that the bucket answers and takes these keys, writing nothing: lists at
 * most one key under the prefix. Returns IH_OK, or an ih_err with r->error saying why.
 */
int s3_probe(struct s3 *s, struct s3_reply *r);

/* 1 when r is a 2xx answer. */
int s3_ok(const struct s3_reply *r);

/* ---- pure helpers, exported for the unit test ---- */

/*
 * Appends s percent-encoded as SigV4 wants it (RFC 3986 unreserved kept, every
 * other byte %XX in upper case; '/' kept when keep_slash). Returns IH_OK or IH_ERR_NOMEM.
 */
int s3_uri_encode(const char *s, int keep_slash, struct buf *out);

/*
 * Appends the canonical query string of the pairs kv[0], kv[1], ... kv[2n-2],
 * kv[2n-1] (a NULL value means a valueless parameter, written "k="): each name
 * and value encoded, sorted by name then value, joined with '&'. libcurl signs the
 * query as it stands, so the URL must carry it in this form.
 */
int s3_canonical_query(const char *const *kv, size_t n, struct buf *out);

/*
 * Appends the URL of key (relative to c->prefix; NULL or "" for the bucket itself)
 * with the already canonical query (or NULL): path style or virtual-hosted.
 * Returns IH_OK, IH_ERR_CONFIG for an endpoint without scheme://host, or IH_ERR_NOMEM.
 */
int s3_url(const struct s3_config *c, const char *key, const char *query, struct buf *out);

/*
 * Parses a credentials file: AWS's own format ("[default]" section or none,
 * aws_access_key_id / aws_secret_access_key) or access_key / secret_key lines;
 * '#' and ';' start comments. Sets *access and *secret to malloc'd copies the
 * caller frees. Returns IH_OK, IH_ERR_CONFIG with *why set, or IH_ERR_NOMEM.
 */
int s3_parse_credentials(const char *text, char **access, char **secret, const char **why);

/*
 * Splits "s3://bucket/some/prefix" into a malloc'd bucket and a prefix that is
 * "" or ends in '/' ("some/prefix/"). Returns IH_OK, or IH_ERR_CONFIG with *why set
 * (not s3://, a bucket name S3 would refuse, "." or ".." in the prefix), or IH_ERR_NOMEM.
 */
int s3_parse_store_url(const char *url, char **bucket, char **prefix, const char **why);

/* The Content-Type a PUT of key sends, by its extension (image/png, application/json, ...). Pure. */
const char *s3_content_type(const char *key);

/* Finds the text of the first <tag>...</tag> in xml into out (entities decoded). 1 if found. */
int s3_xml_text(const char *xml, const char *tag, char *out, size_t outsz);

#endif
