/* payload_parse.c - parse a callback with json-c into the model; the accessors. */
#include "ih_config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base64.h"
#include "digest.h"
#include "ih_error.h"
#include "utf8.h"
#include "payload_int.h"

json_object *pl_get(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *pl_get_string(json_object *o, const char *key)
{
	json_object *v = pl_get(o, key);
	return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int pl_starts_with(const char *s, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);
	return n >= p && memcmp(s, prefix, p) == 0;
}

int pl_is_url(const char *s, size_t n)
{
	return pl_starts_with(s, n, "https://") || pl_starts_with(s, n, "http://") ||
	       pl_starts_with(s, n, "s3://");
}

int pl_str_of(struct payload *p, json_object *v, const char **s, size_t *n)
{
	*s = json_object_get_string(v);
	*n = (size_t)json_object_get_string_len(v);
	long k = bigstr_marker(&p->big, *s, *n);
	if (k < 0)
		return IH_OK;
	return bigstr_get(&p->big, p->body, (size_t)k, s, n);
}

/* Parses a small JSON text into *out (any value); only white space may follow. */
int pl_parse_value(const char *text, size_t len, int depth, json_object **out)
{
	*out = NULL;
	if (len > INT_MAX || depth < 1)
		return IH_ERR_NOT_JSON;
	json_tokener *tok = json_tokener_new_ex(depth);
	if (tok == NULL)
		return IH_ERR_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	int ok = json_tokener_get_error(tok) == json_tokener_success;
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (ok && end < len && strchr(" \t\r\n", text[end]) != NULL && text[end] != '\0')
		end++;
	if (o == NULL || !ok || end != len) {
		json_object_put(o);
		return IH_ERR_NOT_JSON;
	}
	*out = o;
	return IH_OK;
}

/*
 * Parses a small JSON text (a string inside the callback, a job.json, a log line)
 * into *out when it is an object; with whole set, only white space may follow it.
 * Returns IH_OK, IH_ERR_NOMEM, or IH_ERR_NOT_JSON (not JSON, or not an object).
 */
int pl_parse_object(const char *text, size_t len, int depth, int whole, json_object **out)
{
	*out = NULL;
	if (len > INT_MAX)
		return IH_ERR_NOT_JSON;
	json_tokener *tok = json_tokener_new_ex(depth);
	if (tok == NULL)
		return IH_ERR_NOMEM;
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	int ok = json_tokener_get_error(tok) == json_tokener_success;
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (whole && ok && end < len && (text[end] == ' ' || text[end] == '\n' || text[end] == '\r'))
		end++;
	if (o == NULL || !json_object_is_type(o, json_type_object) || (whole && (!ok || end != len))) {
		json_object_put(o);
		return IH_ERR_NOT_JSON;
	}
	*out = o;
	return IH_OK;
}

/*
 * json-c keeps one value per key and cuts a key at an escaped NUL, so
 * {"a":1,"a":2} and {"prompt":"kept","prompt\u0000x":"lost?"} would each lose a
 * value without a word. The text (already accepted by json-c) is scanned for the
 * number of keys of every object, in document order, and compared with the tree
 * walked in the same order: the first object that holds fewer keys than its text
 * had a duplicate. Returns NULL when all agree, else the reason (static).
 */
struct key_counts {
	unsigned *n;
	size_t len, cap;
};

static int counts_push(struct key_counts *kc, size_t *at)
{
	if (kc->len == kc->cap) {
		size_t cap = kc->cap ? kc->cap * 2 : 64;
		unsigned *nn = realloc(kc->n, cap * sizeof *nn);
		if (nn == NULL)
			return IH_ERR_NOMEM;
		kc->n = nn;
		kc->cap = cap;
	}
	kc->n[kc->len] = 0;
	*at = kc->len++;
	return IH_OK;
}

/* The value of the four hex digits at t (json-c accepted them), or -1. */
static long hex4(const char *t)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		char c = t[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * Whether the escapes of the string text t[s..e) pair every surrogate. json-c turns
 * a lone \uD800..\uDFFF into U+FFFD, so "x\ud800" and "x\udbff" would become one
 * id, one folder, one job: the second delivery answered "duplicate" and lost.
 * Escapes are read in order, so "\\ud800" (a backslash, then text) is none.
 */
static int surrogates_paired(const char *t, size_t s, size_t e)
{
	for (size_t k = s; k < e;) {
		if (t[k] != '\\') {
			k++;
			continue;
		}
		if (k + 1 >= e || t[k + 1] != 'u') {
			k += 2;
			continue;
		}
		long v = k + 6 <= e ? hex4(t + k + 2) : -1;
		if (v >= 0xdc00 && v <= 0xdfff)
			return 0;
		if (v >= 0xd800 && v <= 0xdbff) {
			long lo = k + 12 <= e && t[k + 6] == '\\' && t[k + 7] == 'u' ? hex4(t + k + 8) : -1;
			if (lo < 0xdc00 || lo > 0xdfff)
				return 0;
			k += 6;
		}
		k += 6;
	}
	return 1;
}

/*
 * Scans JSON text t[0..n) (valid); fills kc in pre-order; *nul when a key has \u0000,
 * *lone when any string (key or value) has an unpaired surrogate escape.
 */
static int scan_keys(const char *t, size_t n, struct key_counts *kc, int *nul, int *lone,
		     int max_depth)
{
	/* json-c accepted the text within max_depth: the stacks need no more. */
	size_t cap = (size_t)(max_depth > 0 ? max_depth : 1) + 2;
	size_t *stack = malloc(cap * sizeof *stack);
	unsigned char *is_obj = malloc(cap);
	int depth = 0, rc = IH_OK;
	*nul = 0;
	*lone = 0;
	if (stack == NULL || is_obj == NULL) {
		rc = IH_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (c == '{' || c == '[') {
			size_t at = 0;
			if ((size_t)depth + 1 >= cap) {
				rc = IH_ERR_TOO_DEEP;
				goto out;
			}
			is_obj[depth] = c == '{';
			if (c == '{' && counts_push(kc, &at) != IH_OK) {
				rc = IH_ERR_NOMEM;
				goto out;
			}
			stack[depth++] = at;
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
		} else if (c == '"') {
			size_t s = ++i;
			while (i < n && t[i] != '"')
				i += t[i] == '\\' ? 2 : 1;
			if (i >= n)
				break;
			if (!*lone && !surrogates_paired(t, s, i))
				*lone = 1;
			size_t j = i + 1;
			while (j < n && strchr(" \t\r\n", t[j]) != NULL && t[j] != '\0')
				j++;
			if (j < n && t[j] == ':' && depth > 0 && is_obj[depth - 1]) {
				kc->n[stack[depth - 1]]++;
				/* Escapes read in order, so "\\\\u0000" (a backslash, then text) is no NUL. */
				for (size_t k = s; k < i;) {
					if (t[k] != '\\') {
						k++;
						continue;
					}
					if (k + 6 <= i && strncmp(t + k, "\\u0000", 6) == 0)
						*nul = 1;
					k += t[k + 1] == 'u' ? 6 : 2;
				}
			}
		}
	}
out:
	free(stack);
	free(is_obj);
	return rc;
}

/* Compares the tree with the counts; returns 0 at the first object that lost a key. */
static int tree_matches(json_object *o, const struct key_counts *kc, size_t *pos, int depth)
{
	if (depth > 2000)
		return 0;
	if (json_object_is_type(o, json_type_object)) {
		if (*pos >= kc->len || kc->n[*pos] != (unsigned)json_object_object_length(o))
			return 0;
		(*pos)++;
		json_object_object_foreach(o, key, v) {
			(void)key;
			if (!tree_matches(v, kc, pos, depth + 1))
				return 0;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++)
			if (!tree_matches(json_object_array_get_idx(o, i), kc, pos, depth + 1))
				return 0;
	}
	return 1;
}

static int keys_distinct(json_object *root, const char *text, size_t len, int max_depth,
			 const char **why)
{
	struct key_counts kc = { 0 };
	int nul = 0, lone = 0;
	int rc = scan_keys(text, len, &kc, &nul, &lone, max_depth);
	size_t pos = 0;
	if (rc == IH_OK && nul) {
		*why = "an object key contains \\u0000 (json-c would cut it and merge it with another key)";
		rc = IH_ERR_NOT_JSON;
	} else if (rc == IH_OK && lone) {
		/* Raw text that is not UTF-8 is refused; its escaped form is refused alike. */
		*why = "a string contains an unpaired surrogate escape (json-c would make it U+FFFD, "
		       "and two different strings one)";
		rc = IH_ERR_NOT_JSON;
	} else if (rc == IH_OK && !tree_matches(root, &kc, &pos, 0)) {
		*why = "an object has the same key twice (one value would be lost)";
		rc = IH_ERR_NOT_JSON;
	}
	free(kc.n);
	return rc;
}

int pl_parse_document(const char *text, size_t len, int depth, json_object **out, const char **why)
{
	*why = NULL;
	int rc = pl_parse_value(text, len, depth, out);
	if (rc != IH_OK)
		return rc;
	if ((rc = keys_distinct(*out, text, len, depth, why)) != IH_OK) {
		json_object_put(*out);
		*out = NULL;
		if (rc == IH_ERR_TOO_DEEP)
			rc = IH_ERR_NOT_JSON;
	}
	return rc;
}

/* A string value as error text: a media slot (its marker still in the tree) as where it is. */
static const char *error_string(struct payload *p, json_object *v, char *buf, size_t size)
{
	const struct image_slot *slot = pl_slot_of(p, v);
	if (slot == NULL)
		return json_object_get_string(v);
	snprintf(buf, size, "(media at %s)", slot->img.where);
	return buf;
}

/* Builds a one-line description of the job's failure, if it has one. */
static int describe_error(struct payload *p)
{
	char text[600];
	text[0] = '\0';
	json_object *err = pl_get(p->root, "error");
	json_object *output = pl_get(p->root, "output");
	char *tmp = NULL;
	if (err != NULL && json_object_is_type(err, json_type_string)) {
		const char *s = json_object_get_string(err);
		/* A crashed handler's error is itself JSON: error_type, error_message, ... */
		json_object *o;
		if (pl_parse_object(s, strlen(s), p->max_depth, 0, &o) == IH_OK) {
			const char *type = pl_get_string(o, "error_type");
			const char *msg = pl_get_string(o, "error_message");
			snprintf(text, sizeof text, "%s%s%s", type ? type : "",
				 type && msg ? ": " : "", msg ? msg : (type ? "" : s));
			p->error_parsed = o;
		} else {
			snprintf(text, sizeof text, "%s", s);
		}
	} else if (err != NULL && (json_object_is_type(err, json_type_array) ||
				   json_object_is_type(err, json_type_object))) {
		if ((tmp = pl_text_of(p, err)) == NULL)
			return IH_ERR_NOMEM;
		snprintf(text, sizeof text, "%s", tmp);
	} else if (p->output_error) {
		/* Failures reported inside output by the ComfyUI, SDXL and A1111 workers. */
		const char *st = pl_get_string(output, "status");
		json_object *errors = pl_get(output, "errors");
		json_object *oerr = pl_get(output, "error");
		json_object *detail = pl_get(output, "detail");
		const char *label = NULL;
		json_object *what = NULL;
		char media[140];
		if (st != NULL && strcmp(st, "error") == 0) {
			json_object *mv = pl_get(output, "message");
			const char *m = mv != NULL && json_object_is_type(mv, json_type_string)
						? error_string(p, mv, media, sizeof media) : NULL;
			snprintf(text, sizeof text, "output: %s", m ? m : "error");
		} else if (errors != NULL && json_object_is_type(errors, json_type_array) &&
			   json_object_array_length(errors) > 0) {
			label = "output.errors";
			what = errors;
		} else if (oerr != NULL) {
			label = "output.error";
			what = oerr;
		} else if (detail != NULL) {
			label = "output.detail";
			what = detail;
		}
		if (what != NULL && json_object_is_type(what, json_type_string)) {
			snprintf(text, sizeof text, "%s: %s", label, error_string(p, what, media, sizeof media));
		} else if (what != NULL) {
			if ((tmp = pl_text_of(p, what)) == NULL)
				return IH_ERR_NOMEM;
			snprintf(text, sizeof text, "%s: %s", label, tmp);
		}
	}
	free(tmp);
	if (text[0] != '\0' && (p->error_text = strdup(text)) == NULL)
		return IH_ERR_NOMEM;
	return IH_OK;
}

/*
 * json-c has no string-length option: the parsed tree is walked instead (its depth
 * is already bounded by the tokenizer). Object keys count as strings too.
 */
static int strings_within(json_object *o, size_t max)
{
	if (json_object_is_type(o, json_type_string))
		return (size_t)json_object_get_string_len(o) <= max;
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v) {
			if (strlen(key) > max || !strings_within(v, max))
				return 0;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++)
			if (!strings_within(json_object_array_get_idx(o, i), max))
				return 0;
	}
	return 1;
}

/* Strings of at least this many bytes that look like base64 media are lifted. */
#define BIGSTR_MIN 4096

static int lifted_within(const struct bigstr *b, size_t max)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->len[i] > max)
			return 0;
	return 1;
}

/* An upper bound of the bytes the base64 media decode to, all together. */
static uint64_t decoded_bound(const struct payload *p)
{
	uint64_t total = 0;
	for (size_t i = 0; i < p->n_slots; i++)
		if (p->slots[i].img.kind == PAYLOAD_BASE64 && p->slots[i].img.same_as < 0)
			total += b64_decoded_max(p->slots[i].img.len);
	return total;
}

/*
 * Puts back every lifted string that is not a media slot, before anything reads
 * the tree: lifting never changes what any other part of the program sees.
 */
static int resolve_markers(struct payload *p, json_object *o, int depth)
{
	if (p->big.n == 0 || depth > 1000)
		return IH_OK;
	int is_obj = json_object_is_type(o, json_type_object);
	if (!is_obj && !json_object_is_type(o, json_type_array))
		return IH_OK;
	size_t n = is_obj ? 0 : json_object_array_length(o);
	struct lh_entry *e = is_obj ? json_object_get_object(o)->head : NULL;
	for (size_t i = 0; is_obj ? e != NULL : i < n; i++) {
		json_object *v = is_obj ? (json_object *)lh_entry_v(e) : json_object_array_get_idx(o, i);
		const char *key = is_obj ? (const char *)lh_entry_k(e) : NULL;
		if (is_obj)
			e = e->next;
		if (!json_object_is_type(v, json_type_string)) {
			if (resolve_markers(p, v, depth + 1) != IH_OK)
				return IH_ERR_NOMEM;
			continue;
		}
		long k = bigstr_marker(&p->big, json_object_get_string(v),
				       (size_t)json_object_get_string_len(v));
		if (k < 0 || p->claimed[k])
			continue;
		const char *s;
		size_t sn;
		if (bigstr_get(&p->big, p->body, (size_t)k, &s, &sn) != IH_OK)
			return IH_ERR_NOMEM;
		json_object *real = json_object_new_string_len(s, (int)sn);
		if (real == NULL)
			return IH_ERR_NOMEM;
		int r = is_obj ? json_object_object_add(o, key, real) : json_object_array_put_idx(o, i, real);
		if (r != 0) {
			json_object_put(real);
			return IH_ERR_NOMEM;
		}
	}
	return IH_OK;
}

static int dup_field(struct payload *p, const char *key, char **out)
{
	const char *s = pl_get_string(p->root, key);
	*out = NULL;
	if (s != NULL && (*out = strdup(s)) == NULL)
		return IH_ERR_NOMEM;
	return IH_OK;
}

/* No id: runpod-python's local test server posts {"output": ...} (rp_fastapi._send_webhook). */
static int derive_id(struct payload *p, const char *body, size_t len)
{
	char hex[DIGEST_HEX_LEN];
	digest_sha256_hex(body, len, hex);
	size_t n = strlen("local-") + strlen(hex) + 1;
	if ((p->id = malloc(n)) == NULL)
		return IH_ERR_NOMEM;
	snprintf(p->id, n, "local-%s", hex);
	p->id_derived = 1;
	return IH_OK;
}

/* A Replicate or fal.ai result link becomes an output reference. */
static int sender_link(void *ctx, json_object *v, json_object *parent, size_t index,
		       const char *key, const char *where)
{
	return pl_add_link(ctx, v, parent, index, key, where);
}

int payload_parse(const char *body, size_t len, const struct payload_limits *lim,
		  struct payload **out, const char **why)
{
	*why = NULL;
	*out = NULL;
	if (len > INT_MAX)
		return IH_ERR_TOO_LARGE;
	struct payload *p = calloc(1, sizeof *p);
	if (p == NULL)
		return IH_ERR_NOMEM;
	p->body = body;
	p->max_images = lim->max_images;
	p->max_depth = lim->max_depth;
	/* json-c sees the text without the long base64 strings: no copy, no tokenizing of them. */
	int rc = bigstr_extract(body, len, BIGSTR_MIN, &p->big);
	if (rc != IH_OK) {
		free(p);
		return rc;
	}
	if ((p->claimed = calloc(p->big.n ? p->big.n : 1, 1)) == NULL) {
		rc = IH_ERR_NOMEM;
		goto fail;
	}
	const char *text = p->big.compact;
	size_t tlen = p->big.compact_len;
	json_tokener *tok = json_tokener_new_ex(lim->max_depth);
	if (tok == NULL) {
		rc = IH_ERR_NOMEM;
		goto fail;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *root = json_tokener_parse_ex(tok, text, (int)tlen);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	p->root = root;
	if (root == NULL || jerr != json_tokener_success) {
		if (jerr == json_tokener_error_depth) {
			rc = IH_ERR_TOO_DEEP;
			goto fail;
		}
		*why = jerr == json_tokener_continue ? "JSON text ends early"
						     : json_tokener_error_desc(jerr);
		rc = IH_ERR_NOT_JSON;
		goto fail;
	}
	while (end < tlen && (text[end] == ' ' || text[end] == '\n' || text[end] == '\r' ||
			      text[end] == '\t'))
		end++;
	if (end != tlen) {
		*why = "data after the JSON value";
		rc = IH_ERR_NOT_JSON;
		goto fail;
	}
	/* Lifted strings are printable ASCII by construction; the rest is checked here. */
	if (!utf8_valid((const unsigned char *)text, tlen)) {
		*why = "invalid utf-8 string";
		rc = IH_ERR_NOT_JSON;
		goto fail;
	}
	if (!json_object_is_type(root, json_type_object)) {
		rc = IH_ERR_NOT_OBJECT;
		goto fail;
	}
	if ((rc = keys_distinct(root, text, tlen, lim->max_depth, why)) != IH_OK)
		goto fail;
	if (lim->max_string > 0 &&
	    (!strings_within(root, lim->max_string) || !lifted_within(&p->big, lim->max_string))) {
		*why = "a JSON string is longer than IMAGEHOOK_MAX_STRING";
		rc = IH_ERR_LIMIT;
		goto fail;
	}
	/* Media first (they claim their lifted strings), then every other marker put back. */
	if ((rc = pl_discover(p)) != IH_OK) {
		if (p->refused_why != NULL)
			*why = p->refused_why;
		goto fail;
	}
	if ((rc = resolve_markers(p, root, 0)) != IH_OK)
		goto fail;
	/* Replicate and fal.ai (payload_senders.c): their id, status, results and links. */
	struct payload_sender_info si;
	p->sender = payload_sender_detect(root, &si);
	if ((rc = payload_sender_links(&si, sender_link, p)) != IH_OK)
		goto fail;
	json_object *id = p->sender != PAYLOAD_SENDER_RUNPOD ? si.id : pl_get(root, "id");
	if (id == NULL && (pl_get(root, "output") != NULL || pl_get(root, "error") != NULL)) {
		if ((rc = derive_id(p, body, len)) != IH_OK)
			goto fail;
	} else if (id == NULL || !json_object_is_type(id, json_type_string) ||
		   json_object_get_string_len(id) == 0) {
		rc = IH_ERR_NO_ID;
		goto fail;
	} else if (strlen(json_object_get_string(id)) != (size_t)json_object_get_string_len(id)) {
		*why = "id contains a NUL byte";
		rc = IH_ERR_NO_ID;
		goto fail;
	} else if ((p->id = strdup(json_object_get_string(id))) == NULL) {
		rc = IH_ERR_NOMEM;
		goto fail;
	}
	if ((rc = dup_field(p, "status", &p->status)) != IH_OK ||
	    (rc = dup_field(p, "workerId", &p->worker)) != IH_OK ||
	    (rc = dup_field(p, "webhook", &p->webhook)) != IH_OK)
		goto fail;
	if (si.status != NULL) {
		free(p->status);
		if ((p->status = strdup(si.status)) == NULL) {
			rc = IH_ERR_NOMEM;
			goto fail;
		}
	}
	if ((p->status == NULL || *p->status == '\0') && p->id_derived &&
	    pl_get(root, "error") == NULL) {
		/* The local server posts only what completed; a failure sends no webhook. */
		free(p->status);
		p->status = NULL;
		p->status_assumed = 1;
	}
	if (p->status == NULL || *p->status == '\0') {
		free(p->status);
		if ((p->status = strdup(p->status_assumed ? "COMPLETED" : "UNKNOWN")) == NULL) {
			rc = IH_ERR_NOMEM;
			goto fail;
		}
	}
	json_object *output = p->sender != PAYLOAD_SENDER_RUNPOD ? si.output : pl_get(root, "output");
	p->output_missing = strcmp(p->status, "COMPLETED") == 0 &&
			    (output == NULL || json_object_is_type(output, json_type_null));
	const char *info = pl_get_string(output, "info");
	json_object *io;
	if (info != NULL && pl_parse_object(info, strlen(info), lim->max_depth, 0, &io) == IH_OK)
		p->info = io;
	pl_classify(p);
	if ((rc = describe_error(p)) != IH_OK)
		goto fail;
	if (p->error_text == NULL && si.error != NULL && (p->error_text = strdup(si.error)) == NULL) {
		rc = IH_ERR_NOMEM;
		goto fail;
	}
	if (lim->max_decoded > 0 && decoded_bound(p) > lim->max_decoded) {
		*why = "the media decode to more than IMAGEHOOK_MAX_DECODED bytes";
		rc = IH_ERR_LIMIT;
		goto fail;
	}
	*out = p;
	return IH_OK;
fail:
	payload_free(p);
	return rc;
}

void payload_free(struct payload *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_slots; i++) {
		free(p->slots[i].key);
		free(p->slots[i].name);
	}
	free(p->slots);
	free(p->error_text);
	free(p->id);
	free(p->status);
	free(p->worker);
	free(p->webhook);
	free(p->claimed);
	json_object_put(p->error_parsed);
	json_object_put(p->info);
	json_object_put(p->decoded);
	json_object_put(p->kept_whole);
	json_object_put(p->root);
	bigstr_free(&p->big);
	free(p);
}

const char *payload_id(const struct payload *p)
{
	return p->id;
}

int payload_id_derived(const struct payload *p)
{
	return p->id_derived;
}

const char *payload_status(const struct payload *p)
{
	return p->status;
}

const char *payload_sender(const struct payload *p)
{
	return payload_sender_name(p->sender);
}

const char *payload_worker_id(const struct payload *p)
{
	return p->worker;
}

const char *payload_webhook(const struct payload *p)
{
	return p->webhook;
}

static int get_ms(const struct payload *p, const char *key, int64_t *ms)
{
	json_object *v = pl_get(p->root, key);
	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
			   json_object_is_type(v, json_type_double)))
		return 0;
	*ms = json_object_get_int64(v);
	return 1;
}

int payload_delay_ms(const struct payload *p, int64_t *ms)
{
	return get_ms(p, "delayTime", ms);
}

int payload_exec_ms(const struct payload *p, int64_t *ms)
{
	return get_ms(p, "executionTime", ms);
}

const char *payload_error_text(const struct payload *p)
{
	return p->error_text;
}

int payload_output_missing(const struct payload *p)
{
	return p->output_missing;
}

int payload_output_error(const struct payload *p)
{
	return p->output_error;
}

int payload_generation_request(const struct payload *p)
{
	return p->generation;
}

size_t payload_image_count(const struct payload *p)
{
	return p->n_slots;
}

const struct payload_image *payload_image(const struct payload *p, size_t i)
{
	return i < p->n_slots ? &p->slots[i].img : NULL;
}

const char *payload_infotext(const struct payload *p, int index)
{
	json_object *texts = pl_get(p->info, "infotexts");
	if (index < 0 || texts == NULL || !json_object_is_type(texts, json_type_array) ||
	    (size_t)index >= json_object_array_length(texts))
		return NULL;
	json_object *t = json_object_array_get_idx(texts, (size_t)index);
	return json_object_is_type(t, json_type_string) ? json_object_get_string(t) : NULL;
}
