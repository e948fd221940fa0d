/* payload_fetch.c - fetch.json read and written, job.json updated with fetched links, JWKS keys. */
#include "ih_config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base64.h"
#include "ih_error.h"
#include "payload_fetch.h"

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static void copy_string(json_object *o, const char *key, char *out, size_t size)
{
	json_object *v = member(o, key);
	out[0] = '\0';
	if (json_object_is_type(v, json_type_string))
		snprintf(out, size, "%s", json_object_get_string(v));
}

static int64_t get_int(json_object *o, const char *key)
{
	json_object *v = member(o, key);
	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

static json_object *parse(const char *text, size_t len)
{
	if (len > INT_MAX)
		return NULL;
	json_tokener *tok = json_tokener_new_ex(64);
	if (tok == NULL)
		return NULL;
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Sets key to v in o, taking v; IH_ERR_NOMEM when either fails. */
static int put(json_object *o, const char *key, json_object *v)
{
	if (v == NULL)
		return IH_ERR_NOMEM;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return IH_ERR_NOMEM;
	}
	return IH_OK;
}

static int put_str(json_object *o, const char *key, const char *s)
{
	return s[0] == '\0' ? IH_OK : put(o, key, json_object_new_string(s));
}

int payload_fetch_final(const struct payload_fetch_link *l)
{
	return strcmp(l->state, "pending") != 0;
}

int payload_fetch_render(const struct payload_fetch_link *l, size_t n, struct buf *out)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();
	int rc = root && list ? IH_OK : IH_ERR_NOMEM;
	for (size_t i = 0; rc == IH_OK && i < n; i++) {
		json_object *o = json_object_new_object();
		if (o == NULL || json_object_array_add(list, o) != 0) {
			json_object_put(o);
			rc = IH_ERR_NOMEM;
			break;
		}
		const struct payload_fetch_link *k = &l[i];
		rc = put_str(o, "url", k->url);
		if (rc == IH_OK)
			rc = put_str(o, "where", k->where);
		if (rc == IH_OK)
			rc = put_str(o, "sender", k->sender);
		if (rc == IH_OK)
			rc = put_str(o, "state", k->state);
		if (rc == IH_OK)
			rc = put(o, "queued", json_object_new_int64(k->queued));
		if (rc == IH_OK)
			rc = put(o, "expires", json_object_new_int64(k->expires));
		if (rc == IH_OK)
			rc = put_str(o, "expires_from", k->expires_from);
		if (rc == IH_OK)
			rc = put(o, "next", json_object_new_int64(k->next));
		if (rc == IH_OK)
			rc = put(o, "attempts", json_object_new_int64(k->attempts));
		if (rc == IH_OK)
			rc = put_str(o, "error", k->error);
		if (rc == IH_OK)
			rc = put_str(o, "file", k->file);
		if (rc == IH_OK)
			rc = put_str(o, "format", k->format);
		if (rc == IH_OK && k->file[0] != '\0')
			rc = put(o, "bytes", json_object_new_int64((int64_t)k->bytes));
		if (rc == IH_OK && k->width > 0)
			rc = put(o, "width", json_object_new_int64(k->width));
		if (rc == IH_OK && k->height > 0)
			rc = put(o, "height", json_object_new_int64(k->height));
		if (rc == IH_OK)
			rc = put_str(o, "sha256", k->sha256);
	}
	if (rc == IH_OK) {
		rc = put(root, "links", list);
		list = NULL;
	}
	if (rc == IH_OK) {
		const char *s = json_object_to_json_string_ext(
			root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
		rc = s != NULL ? buf_puts(out, s) : IH_ERR_NOMEM;
		if (rc == IH_OK)
			rc = buf_puts(out, "\n");
	}
	json_object_put(list);
	json_object_put(root);
	return rc;
}

int payload_fetch_parse(const char *text, size_t len, size_t max, struct payload_fetch_link **l,
			size_t *n)
{
	*l = NULL;
	*n = 0;
	json_object *root = parse(text, len);
	json_object *list = member(root, "links");
	if (!json_object_is_type(list, json_type_array)) {
		json_object_put(root);
		return IH_ERR_NOT_JSON;
	}
	size_t count = json_object_array_length(list);
	if (count > max)
		count = max;
	struct payload_fetch_link *a = calloc(count ? count : 1, sizeof *a);
	if (a == NULL) {
		json_object_put(root);
		return IH_ERR_NOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		json_object *o = json_object_array_get_idx(list, i);
		struct payload_fetch_link *k = &a[i];
		copy_string(o, "url", k->url, sizeof k->url);
		copy_string(o, "where", k->where, sizeof k->where);
		copy_string(o, "sender", k->sender, sizeof k->sender);
		copy_string(o, "state", k->state, sizeof k->state);
		copy_string(o, "expires_from", k->expires_from, sizeof k->expires_from);
		copy_string(o, "error", k->error, sizeof k->error);
		copy_string(o, "file", k->file, sizeof k->file);
		copy_string(o, "format", k->format, sizeof k->format);
		copy_string(o, "sha256", k->sha256, sizeof k->sha256);
		if (k->state[0] == '\0')
			snprintf(k->state, sizeof k->state, "pending");
		k->queued = get_int(o, "queued");
		k->expires = get_int(o, "expires");
		k->next = get_int(o, "next");
		int64_t v = get_int(o, "attempts");
		k->attempts = v > 0 && v < 1000000 ? (unsigned)v : 0;
		v = get_int(o, "bytes");
		k->bytes = v > 0 ? (uint64_t)v : 0;
		v = get_int(o, "width");
		k->width = v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
		v = get_int(o, "height");
		k->height = v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
	}
	json_object_put(root);
	*l = a;
	*n = count;
	return IH_OK;
}

/* What the gallery and people read for a link that will not be fetched. */
static const char *unfetched_reason(const struct payload_fetch_link *k, char *buf, size_t size)
{
	if (strcmp(k->state, "expired") == 0)
		snprintf(buf, size, "LINK EXPIRED before it was fetched (%s)",
			 k->error[0] ? k->error : k->expires_from);
	else if (strcmp(k->state, "refused") == 0)
		snprintf(buf, size, "fetch refused: %s", k->error);
	else if (strcmp(k->state, "failed") == 0 || strcmp(k->state, "rejected") == 0)
		snprintf(buf, size, "%s", k->error);
	else
		return NULL;
	return buf;
}

/* Writes link k's outcome into one imagehook.images entry d. */
static int describe(json_object *d, const struct payload_fetch_link *k)
{
	char why[400];
	int rc = put_str(d, "fetch", k->state);
	if (rc == IH_OK && k->file[0] != '\0') {
		rc = put_str(d, "file", k->file);
		if (rc == IH_OK)
			rc = put_str(d, "format", k->format);
		if (rc == IH_OK)
			rc = put(d, "bytes", json_object_new_int64((int64_t)k->bytes));
		if (rc == IH_OK && k->width > 0)
			rc = put(d, "width", json_object_new_int64(k->width));
		if (rc == IH_OK && k->height > 0)
			rc = put(d, "height", json_object_new_int64(k->height));
		if (rc == IH_OK)
			rc = put_str(d, "sha256", k->sha256);
	}
	const char *r = unfetched_reason(k, why, sizeof why);
	if (rc == IH_OK && r != NULL)
		rc = put_str(d, "rejected", r);
	/* The reason as it is, for readers (the gallery) that say themselves what happened. */
	if (rc == IH_OK && k->error[0] != '\0')
		rc = put_str(d, "fetch_error", k->error);
	if (rc == IH_OK)
		rc = put(d, "fetch_attempts", json_object_new_int64(k->attempts));
	return rc;
}

int payload_record_fetched(const char *text, size_t len, const struct payload_fetch_link *l,
			   size_t n, struct buf *out)
{
	json_object *root = parse(text, len);
	json_object *ih = member(root, "imagehook");
	json_object *images = member(ih, "images");
	if (!json_object_is_type(images, json_type_array)) {
		json_object_put(root);
		return IH_ERR_NOT_JSON;
	}
	static const char *const states[] = { "pending", "fetched", "rejected", "failed",
					      "refused", "expired" };
	int64_t count[6] = { 0 };
	int rc = IH_OK;
	size_t m = json_object_array_length(images);
	for (size_t i = 0; i < n && rc == IH_OK; i++) {
		for (size_t s = 0; s < 6; s++)
			if (strcmp(l[i].state, states[s]) == 0)
				count[s]++;
		for (size_t j = 0; j < m && rc == IH_OK; j++) {
			json_object *d = json_object_array_get_idx(images, j);
			json_object *u = member(d, "url"), *w = member(d, "where");
			if (json_object_is_type(u, json_type_string) &&
			    strcmp(json_object_get_string(u), l[i].url) == 0 &&
			    json_object_is_type(w, json_type_string) &&
			    strcmp(json_object_get_string(w), l[i].where) == 0)
				rc = describe(d, &l[i]);
		}
	}
	json_object *sum = json_object_new_object();
	for (size_t s = 0; s < 6 && rc == IH_OK; s++)
		rc = sum != NULL ? put(sum, states[s], json_object_new_int64(count[s])) : IH_ERR_NOMEM;
	if (rc == IH_OK) {
		rc = put(ih, "links", sum);
		sum = NULL;
	}
	/* Loud on purpose: a result that can never be fetched again is lost. */
	if (rc == IH_OK && count[5] > 0)
		rc = put(ih, "links_expired", json_object_new_int64(count[5]));
	if (rc == IH_OK) {
		const char *s = json_object_to_json_string_ext(
			root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
				      JSON_C_TO_STRING_NOSLASHESCAPE);
		rc = s != NULL ? buf_puts(out, s) : IH_ERR_NOMEM;
		if (rc == IH_OK)
			rc = buf_puts(out, "\n");
	}
	json_object_put(sum);
	json_object_put(root);
	return rc;
}

int payload_jwks_ed25519(const char *text, size_t len, unsigned char (*keys)[32], int max, int *n)
{
	*n = 0;
	json_object *root = parse(text, len);
	json_object *list = member(root, "keys");
	size_t count = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < count && *n < max; i++) {
		json_object *k = json_object_array_get_idx(list, i);
		json_object *kty = member(k, "kty"), *crv = member(k, "crv"), *x = member(k, "x");
		if (!json_object_is_type(x, json_type_string) ||
		    (json_object_is_type(kty, json_type_string) &&
		     strcmp(json_object_get_string(kty), "OKP") != 0) ||
		    (json_object_is_type(crv, json_type_string) &&
		     strcmp(json_object_get_string(crv), "Ed25519") != 0))
			continue;
		/* base64url (RFC 7515, no padding) to the standard alphabet. */
		char b64[64];
		const char *s = json_object_get_string(x);
		size_t sl = strlen(s);
		if (sl >= sizeof b64)
			continue;
		for (size_t c = 0; c <= sl; c++)
			b64[c] = s[c] == '-' ? '+' : s[c] == '_' ? '/' : s[c];
		unsigned char raw[48];
		size_t rl;
		if (b64_decode(b64, sl, raw, &rl) == IH_OK && rl == 32)
			memcpy(keys[(*n)++], raw, 32);
	}
	json_object_put(root);
	return *n > 0 ? IH_OK : IH_ERR_NOT_JSON;
}
