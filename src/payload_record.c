/* payload_record.c - render job.json from the model; credentials redacted; summaries. */
#include "ih_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ih_error.h"
#include "payload_int.h"

/* Puts v where slot's value was, freeing the old value (and its base64). */
static int replace_slot(struct image_slot *slot, json_object *v)
{
	int rc;
	if (slot->key != NULL)
		rc = json_object_object_add(slot->parent, slot->key, v);
	else
		rc = json_object_array_put_idx(slot->parent, slot->index, v);
	if (rc != 0) {
		json_object_put(v);
		return IH_ERR_NOMEM;
	}
	slot->img.text = NULL;
	slot->img.len = 0;
	slot->value = NULL;
	return IH_OK;
}

void payload_release_image(struct payload *p, size_t i)
{
	if (i >= p->n_slots || p->slots[i].released || p->slots[i].img.kind == PAYLOAD_URL)
		return;
	/* On failure the base64 simply stays until payload_free(). */
	if (replace_slot(&p->slots[i], json_object_new_null()) == IH_OK)
		p->slots[i].released = 1;
}

static int add(json_object *o, const char *key, json_object *v)
{
	if (v == NULL)
		return IH_ERR_NOMEM;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return IH_ERR_NOMEM;
	}
	return IH_OK;
}

static int add_str(json_object *o, const char *key, const char *s)
{
	if (s == NULL)
		return IH_OK;
	return add(o, key, json_object_new_string(s));
}

int payload_format_is_video(const char *format)
{
	static const char *const video[] = { "mp4", "mov", "m4v", "webm", "mkv", "matroska",
					     "video", NULL };
	if (format == NULL)
		return 0;
	for (size_t i = 0; video[i] != NULL; i++)
		if (strcmp(format, video[i]) == 0)
			return 1;
	return 0;
}

/* The description of one stored (or rejected) media. */
static json_object *describe_image(const struct payload_image *img, const struct payload_stored *st)
{
	json_object *d = json_object_new_object();
	if (d == NULL)
		return NULL;
	int rc = add_str(d, "where", img->where);
	if (rc == IH_OK)
		rc = add_str(d, "role", img->role == PAYLOAD_INPUT ? "input" : "output");
	if (rc == IH_OK)
		rc = add_str(d, "name", img->name);
	if (rc == IH_OK && img->kind == PAYLOAD_URL)
		rc = add(d, "url", json_object_new_string_len(img->text, (int)img->len));
	if (rc == IH_OK)
		rc = add_str(d, "file", st->file);
	if (rc == IH_OK)
		rc = add_str(d, "format", st->format);
	if (rc == IH_OK && st->format != NULL && st->error == NULL)
		rc = add(d, "video", json_object_new_boolean(payload_format_is_video(st->format)));
	if (rc == IH_OK && st->file != NULL)
		rc = add(d, "bytes", json_object_new_int64((int64_t)st->bytes));
	if (rc == IH_OK && st->width > 0) {
		rc = add(d, "width", json_object_new_int64(st->width));
		if (rc == IH_OK)
			rc = add(d, "height", json_object_new_int64(st->height));
	}
	if (rc == IH_OK && st->duration_ms > 0)
		rc = add(d, "duration_ms", json_object_new_int64((int64_t)st->duration_ms));
	if (rc == IH_OK)
		rc = add_str(d, "sha256", st->sha256);
	if (rc == IH_OK && st->keywords != NULL)
		rc = add_str(d, "text_chunks", st->keywords);
	if (rc == IH_OK && st->file != NULL && st->format != NULL && strcmp(st->format, "png") == 0)
		rc = add(d, "infotext_added", json_object_new_boolean(st->added_infotext));
	if (rc == IH_OK)
		rc = add_str(d, "rejected", st->error);
	if (rc == IH_OK && img->same_as >= 0)
		rc = add(d, "same_as", json_object_new_int(img->same_as));
	if (rc != IH_OK) {
		json_object_put(d);
		return NULL;
	}
	return d;
}

/*
 * A key names a credential when, lowercased and without separators, it ends in
 * one of these: comfy_org_api_key, apiKey, HF_TOKEN, aws_secret_access_key,
 * accessId / accessSecret (RunPod's s3Config), password, Authorization, Cookie,
 * client_secret, private_key. "max_tokens" or "token_normalization" do not: they
 * end otherwise. Only the end is compared, so a key of any length is judged by
 * its last letters and digits: a long prefix must not hide "_api_key".
 */
int pl_credential_key(const char *key, size_t len)
{
	static const char *const ends[] = { "apikey", "token", "secret", "password", "passwd",
					    "passphrase", "accesskey", "accesskeyid", "secretkey",
					    "accessid", "authorization", "privatekey", "credential",
					    "credentials", "sessionkey", "cookie", "cookies", NULL };
	/* The last letters and digits of the key, in order, in the end of norm. */
	char norm[32];
	size_t n = 0;
	for (size_t i = len; i > 0 && n < sizeof norm; i--)
		if (isalnum((unsigned char)key[i - 1]))
			norm[sizeof norm - 1 - n++] = (char)tolower((unsigned char)key[i - 1]);
	if (n == 0)
		return 0;
	const char *tail = norm + sizeof norm - n;
	for (size_t i = 0; ends[i] != NULL; i++) {
		size_t e = strlen(ends[i]);
		if (n >= e && memcmp(tail + n - e, ends[i], e) == 0)
			return 1;
	}
	return 0;
}

/* Replaces every string (but "") and number anywhere below o, a credential's array or object. */
static int redact_all(json_object *o, int depth)
{
	if (depth > 2100)
		return IH_OK;
	int rc = IH_OK;
	if (json_object_is_type(o, json_type_object)) {
		struct lh_entry *e = json_object_get_object(o)->head;
		for (; e != NULL && rc == IH_OK; e = e->next) {
			json_object *v = (json_object *)lh_entry_v(e);
			if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
			    json_object_is_type(v, json_type_double)) {
				if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) > 0)
					rc = add(o, lh_entry_k(e), json_object_new_string(PAYLOAD_REDACTED));
			} else {
				rc = redact_all(v, depth + 1);
			}
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n && rc == IH_OK; i++) {
			json_object *v = json_object_array_get_idx(o, i);
			if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
			    json_object_is_type(v, json_type_double)) {
				if (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0)
					continue;
				json_object *ns = json_object_new_string(PAYLOAD_REDACTED);
				if (ns == NULL || json_object_array_put_idx(o, i, ns) != 0) {
					json_object_put(ns);
					rc = IH_ERR_NOMEM;
				}
			} else {
				rc = redact_all(v, depth + 1);
			}
		}
	}
	return rc;
}

static int redact_json_string(struct payload *p, json_object *parent, const char *key, size_t index,
			      json_object *v, int depth);

/* Replaces the value of every credential key below o with "[REDACTED]". */
int pl_redact_tree(struct payload *p, json_object *o, int depth)
{
	/* The tree's depth is bounded by the tokenizer (IMAGEHOOK_MAX_DEPTH, at most 1000). */
	if (depth > 2100)
		return IH_OK;
	int rc = IH_OK;
	if (json_object_is_type(o, json_type_object)) {
		struct lh_entry *e = json_object_get_object(o)->head;
		for (; e != NULL && rc == IH_OK; e = e->next) {
			const char *key = lh_entry_k(e);
			json_object *v = (json_object *)lh_entry_v(e);
			if (pl_credential_key(key, strlen(key)) &&
			    (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
			     json_object_is_type(v, json_type_double))) {
				if (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0)
					continue;
				rc = add(o, key, json_object_new_string(PAYLOAD_REDACTED));
			} else if (pl_credential_key(key, strlen(key)) &&
				   (json_object_is_type(v, json_type_array) ||
				    json_object_is_type(v, json_type_object))) {
				/* "api_key": ["sk-..."], "Authorization": {"value": "Bearer ..."} */
				rc = redact_all(v, depth + 1);
			} else if (json_object_is_type(v, json_type_string)) {
				rc = redact_json_string(p, o, key, 0, v, depth);
			} else {
				rc = pl_redact_tree(p, v, depth + 1);
			}
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n && rc == IH_OK; i++) {
			json_object *v = json_object_array_get_idx(o, i);
			if (json_object_is_type(v, json_type_string))
				rc = redact_json_string(p, o, NULL, i, v, depth);
			else
				rc = pl_redact_tree(p, v, depth + 1);
		}
	}
	return rc;
}

/* Puts string ns where v is (parent at key or index). */
static int put_string(json_object *parent, const char *key, size_t index, json_object *ns)
{
	if (ns == NULL)
		return IH_ERR_NOMEM;
	if (key != NULL)
		return add(parent, key, ns);
	if (json_object_array_put_idx(parent, index, ns) != 0) {
		json_object_put(ns);
		return IH_ERR_NOMEM;
	}
	return IH_OK;
}

/*
 * A JSON document sent as a string: its credentials are redacted inside the string.
 * One that is not parsed (too deep for 64 levels, trailing text, a key twice that
 * json-c would merge) is redacted as text, like a kept body: never left as it was.
 */
static int redact_json_string(struct payload *p, json_object *parent, const char *key, size_t index,
			      json_object *v, int depth)
{
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	size_t i = 0;
	while (i < n && strchr(" \t\r\n", s[i]) != NULL && s[i] != '\0')
		i++;
	if (i >= n || (s[i] != '{' && s[i] != '[') || depth > 2000)
		return IH_OK;
	json_object *doc;
	const char *why;
	int rc = pl_parse_document(s, n, 64, &doc, &why);
	if (rc == IH_ERR_NOMEM)
		return rc;
	if (rc != IH_OK) {
		struct buf red = { 0 };
		rc = payload_redact_text(s, n, &red);
		if (rc == IH_OK && (red.len != n || memcmp(red.data, s, n) != 0))
			rc = put_string(parent, key, index, json_object_new_string_len(red.data, (int)red.len));
		buf_free(&red);
		return rc;
	}
	const char *before = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	char *was = before != NULL ? strdup(before) : NULL;
	if (was == NULL) {
		json_object_put(doc);
		return IH_ERR_NOMEM;
	}
	rc = pl_redact_tree(p, doc, depth + 1);
	const char *after = rc == IH_OK ? json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN) : NULL;
	if (rc == IH_OK && after == NULL)
		rc = IH_ERR_NOMEM;
	/* Something was redacted: the string is written again, redacted. */
	if (rc == IH_OK && strcmp(was, after) != 0)
		rc = put_string(parent, key, index, json_object_new_string(after));
	free(was);
	json_object_put(doc);
	return rc;
}

/*
 * Text redaction, level by level. A string of a JSON document sent inside a JSON
 * string is "level 1", one inside that "level 2", and so on: every escaping doubles
 * the backslashes before a quote and adds one, so at level L a quote delimits a
 * string when the run of k backslashes before it has k % 2^(L+1) == 2^L - 1
 * (level 0: an even run; level 1: \" ; level 2: \\\" ...).
 */
#define MAX_TEXT_LEVELS ((int)(sizeof(size_t) * 8 - 2))

static size_t run_before(const char *s, size_t i)
{
	size_t k = 0;
	while (k < i && s[i - 1 - k] == '\\')
		k++;
	return k;
}

/* 1 when the quote at s[i] delimits a string at the given level of escaping. */
static int delimiter(const char *s, size_t i, int level)
{
	size_t k = run_before(s, i), m = (size_t)1 << (level + 1);
	return k % m == (m >> 1) - 1;
}

/* The next delimiting quote at or after i, or n. */
static size_t next_quote(const char *s, size_t n, size_t i, int level)
{
	for (;;) {
		const char *q = i < n ? memchr(s + i, '"', n - i) : NULL;
		if (q == NULL)
			return n;
		i = (size_t)(q - s);
		if (delimiter(s, i, level))
			return i;
		i++;
	}
}

/* Skips spaces (and, inside a string, escaped line breaks and tabs, however escaped). */
static size_t skip_space(const char *s, size_t n, size_t j, int level)
{
	while (j < n) {
		size_t b = j;
		while (level > 0 && b < n && s[b] == '\\')
			b++;
		if (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')
			j++;
		else if (b > j && b < n && strchr("nrt", s[b]) != NULL && s[b] != '\0')
			j = b + 1;
		else
			break;
	}
	return j;
}

static int hex_val(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Undoes one level of JSON string escaping of s[0..n) in place; returns the new
 * length. What only matters is the ASCII letters and digits a key is compared by:
 * \uXXXX above 0x7f becomes one byte that is neither.
 */
static size_t unescape_once(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			s[o++] = s[i];
			continue;
		}
		char c = s[++i];
		if (c == 'u' && i + 4 < n) {
			int h[4], ok = 1;
			for (int d = 0; d < 4; d++)
				ok = ok && (h[d] = hex_val(s[i + 1 + d])) >= 0;
			if (ok) {
				unsigned u = (unsigned)(h[0] << 12 | h[1] << 8 | h[2] << 4 | h[3]);
				s[o++] = u < 0x80 ? (char)u : '\x80';
				i += 4;
				continue;
			}
		}
		s[o++] = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' :
			 c == 'f' ? '\f' : c;
	}
	return o;
}

/* Whether the key written s[0..n) at the given level names a credential, once unescaped. */
static int credential_at(const char *s, size_t n, int level, int *nomem)
{
	if (memchr(s, '\\', n) == NULL)
		return pl_credential_key(s, n);
	char *k = malloc(n ? n : 1);
	if (k == NULL) {
		*nomem = 1;
		return 0;
	}
	memcpy(k, s, n);
	for (int l = 0; l <= level; l++)
		n = unescape_once(k, n);
	int yes = pl_credential_key(k, n);
	free(k);
	return yes;
}

/* Copies s[*copied..from) and the mark to out; what was s[from..end) is skipped. */
static int redact_here(const char *s, size_t from, size_t end, struct buf *out, size_t *copied)
{
	int rc = buf_append(out, s + *copied, from - *copied);
	if (rc == IH_OK)
		rc = buf_puts(out, PAYLOAD_REDACTED);
	*copied = end;
	return rc;
}

/*
 * The number at s[i] (level L) becomes the mark as a string, its quotes escaped for
 * the level, as in job.json. Returns the index after the number.
 */
static size_t redact_number(const char *s, size_t i, size_t to, int level, struct buf *out,
			    size_t *copied, int *rc)
{
	size_t e = i, esc = ((size_t)1 << level) - 1;
	while (e < to && strchr("+-.eE0123456789", s[e]) != NULL && s[e] != '\0')
		e++;
	*rc = buf_append(out, s + *copied, i - *copied);
	for (int q = 0; q < 2 && *rc == IH_OK; q++) {
		for (size_t b = 0; b < esc && *rc == IH_OK; b++)
			*rc = buf_puts(out, "\\");
		if (*rc == IH_OK)
			*rc = buf_puts(out, "\"");
		if (*rc == IH_OK && q == 0)
			*rc = buf_puts(out, PAYLOAD_REDACTED);
	}
	*copied = e;
	return e;
}

/*
 * A credential's array or object, s[j] its opening bracket at level L: every string
 * in it that is not a key, and every number, is redacted. Brackets inside strings do
 * not count, for the scan jumps from a delimiting quote to the next. Returns the
 * index after the closing bracket (to when there is none: redacted to the end).
 */
static size_t redact_compound(const char *s, size_t j, size_t to, int level, struct buf *out,
			      size_t *copied, int *rc)
{
	size_t esc = ((size_t)1 << level) - 1, depth = 0, i = j;
	while (i < to && *rc == IH_OK) {
		char c = s[i];
		if (c == '[' || c == '{') {
			depth++;
		} else if (c == ']' || c == '}') {
			if (--depth == 0)
				return i + 1;
		} else if (c == '"' && delimiter(s, i, level)) {
			size_t vs = i + 1, ve = next_quote(s, to, vs, level);
			size_t vend = ve < to ? ve - esc : ve;
			size_t k = ve < to ? skip_space(s, to, ve + 1, level) : to;
			if ((k >= to || s[k] != ':') && vend > vs)
				*rc = redact_here(s, vs, vend, out, copied);
			i = ve + 1;
			continue;
		} else if (c == '-' || isdigit((unsigned char)c)) {
			i = redact_number(s, i, to, level, out, copied, rc);
			continue;
		}
		i++;
	}
	return to;
}

/* Redacts the level-L credential values found in s[from..to); copies s up to them. */
static int redact_span(const char *s, size_t from, size_t to, int level, struct buf *out,
		       size_t *copied)
{
	size_t i = from, esc = ((size_t)1 << level) - 1;
	int rc = IH_OK, nomem = 0;
	while (i < to && rc == IH_OK) {
		size_t open = next_quote(s, to, i, level);
		if (open >= to)
			break;
		size_t ks = open + 1, ke = next_quote(s, to, ks, level);
		if (ke >= to)
			break;
		/* A closing quote at level L ends 2^L - 1 backslashes that are not the key's. */
		size_t kend = ke - esc;
		i = ke + 1;
		size_t j = skip_space(s, to, ke + 1, level);
		if (j >= to || s[j] != ':' || kend < ks || !credential_at(s + ks, kend - ks, level, &nomem)) {
			if (nomem)
				rc = IH_ERR_NOMEM;
			continue;
		}
		j = skip_space(s, to, j + 1, level);
		if (j < to && (s[j] == '[' || s[j] == '{')) {
			i = redact_compound(s, j, to, level, out, copied, &rc);
			continue;
		}
		if (j < to && (s[j] == '-' || isdigit((unsigned char)s[j]))) {
			i = redact_number(s, j, to, level, out, copied, &rc);
			continue;
		}
		while (level > 0 && j < to && s[j] == '\\')
			j++;
		if (j >= to || s[j] != '"' || !delimiter(s, j, level))
			continue;
		size_t vs = j + 1, ve = next_quote(s, to, vs, level);
		size_t vend = ve < to ? ve - esc : ve;
		i = ve + 1;
		if (vend <= vs)
			continue;
		if ((rc = buf_append(out, s + *copied, vs - *copied)) == IH_OK)
			rc = buf_puts(out, PAYLOAD_REDACTED);
		*copied = vend;
	}
	return rc;
}

/*
 * One level of text redaction. From level 2 on, only inside the level-(L-1) strings
 * that start a JSON document ({ or [): a prompt that quotes "token": "x" in a JSON
 * string inside a JSON string is text, not a third document.
 */
static int redact_level(const char *s, size_t n, int level, struct buf *out)
{
	size_t copied = 0;
	int rc = IH_OK;
	if (level < 2) {
		rc = redact_span(s, 0, n, level, out, &copied);
	} else {
		size_t i = 0;
		while (i < n && rc == IH_OK) {
			size_t open = next_quote(s, n, i, level - 1);
			if (open >= n)
				break;
			size_t close = next_quote(s, n, open + 1, level - 1);
			size_t first = skip_space(s, close, open + 1, level - 1);
			if (first < close && (s[first] == '{' || s[first] == '['))
				rc = redact_span(s, first, close, level, out, &copied);
			i = close + 1;
		}
	}
	if (rc == IH_OK && copied < n)
		rc = buf_append(out, s + copied, n - copied);
	if (rc == IH_OK && out->data == NULL)
		rc = buf_puts(out, "");
	return rc;
}

/*
 * Appends s[0..n) to out with the content of every credential key's string value
 * redacted: in the text itself, and in JSON documents sent inside its strings, at
 * every depth of such nesting there is (none deeper than the longest run of
 * backslashes before a quote allows).
 */
int payload_redact_text(const char *s, size_t n, struct buf *out)
{
	size_t longest = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '"' && run_before(s, i) > longest)
			longest = run_before(s, i);
	/* Level L needs 2^L - 1 backslashes before a quote: the body's size bounds the depth. */
	int levels = 1;
	while (levels < MAX_TEXT_LEVELS && ((size_t)1 << levels) - 1 <= longest)
		levels++;
	struct buf a = { 0 }, b = { 0 };
	int rc = redact_level(s, n, 0, &a);
	for (int l = 1; l < levels && rc == IH_OK; l++) {
		buf_reset(&b);
		rc = redact_level(a.data, a.len, l, &b);
		struct buf t = a;
		a = b;
		b = t;
	}
	if (rc == IH_OK)
		rc = buf_append(out, a.data, a.len);
	if (rc == IH_OK && out->data == NULL)
		rc = buf_puts(out, "");
	buf_free(&a);
	buf_free(&b);
	return rc;
}

/* A reference to the file that replaced media in the tree. */
static int reference(struct payload *p, struct image_slot *slot, const struct payload_stored *st)
{
	json_object *ref = json_object_new_object();
	int rc = ref ? IH_OK : IH_ERR_NOMEM;
	if (rc == IH_OK)
		rc = add_str(ref, "file", st->file);
	if (rc == IH_OK && st->error != NULL)
		rc = add_str(ref, "rejected", st->error);
	if (rc == IH_OK && slot->img.same_as >= 0)
		rc = add_str(ref, "same_as", p->slots[slot->img.same_as].img.where);
	if (rc == IH_OK)
		return replace_slot(slot, ref);
	json_object_put(ref);
	return rc;
}

int payload_render_record(struct payload *p, const struct payload_stored *stored,
			  const struct payload_record_meta *meta, struct buf *out)
{
	json_object *list = json_object_new_array();
	json_object *ih = json_object_new_object();
	int rc = list && ih ? IH_OK : IH_ERR_NOMEM;
	for (size_t i = 0; rc == IH_OK && i < p->n_slots; i++) {
		struct image_slot *slot = &p->slots[i];
		json_object *d = describe_image(&slot->img, &stored[i]);
		if (d == NULL) {
			rc = IH_ERR_NOMEM;
			break;
		}
		/* Base64 in the tree is replaced by a reference to the file written. */
		if (slot->img.kind == PAYLOAD_BASE64)
			rc = reference(p, slot, &stored[i]);
		if (rc == IH_OK && json_object_array_add(list, d) != 0)
			rc = IH_ERR_NOMEM;
		if (rc != IH_OK)
			json_object_put(d);
	}
	if (rc == IH_OK && meta->webhook_redacted != NULL && pl_get(p->root, "webhook") != NULL)
		rc = add_str(p->root, "webhook", meta->webhook_redacted);
	if (rc == IH_OK && p->id_derived) {
		rc = add_str(ih, "id", p->id);
		if (rc == IH_OK)
			rc = add(ih, "id_derived", json_object_new_boolean(1));
	}
	if (rc == IH_OK && p->status_assumed)
		rc = add_str(ih, "status_assumed", p->status);
	if (rc == IH_OK)
		rc = add_str(ih, "received", meta->received);
	if (rc == IH_OK)
		rc = add_str(ih, "remote", meta->remote);
	if (rc == IH_OK)
		rc = add_str(ih, "outcome", meta->outcome);
	if (rc == IH_OK)
		rc = add(ih, "bytes", json_object_new_int64((int64_t)meta->bytes));
	if (rc == IH_OK)
		rc = add_str(ih, "body_sha256", meta->body_sha256);
	if (rc == IH_OK)
		rc = add_str(ih, "webhook_id", meta->webhook_id);
	if (rc == IH_OK)
		rc = add(ih, "images_stored", json_object_new_int64(meta->images_stored));
	if (rc == IH_OK)
		rc = add(ih, "inputs_stored", json_object_new_int64(meta->inputs_stored));
	if (rc == IH_OK)
		rc = add(ih, "images_rejected", json_object_new_int64(meta->images_rejected));
	if (rc == IH_OK && meta->warnings)
		rc = add_str(ih, "warnings", p->error_text);
	else if (rc == IH_OK)
		rc = add_str(ih, "error", p->error_text);
	if (rc == IH_OK && p->error_parsed != NULL)
		rc = add(ih, "error_parsed", json_object_get(p->error_parsed));
	if (rc == IH_OK && p->output_missing)
		rc = add(ih, meta->lost_upstream ? "result_lost_upstream" : "output_missing",
			 json_object_new_boolean(1));
	if (rc == IH_OK && p->decoded != NULL)
		rc = add(ih, "decoded_json_strings", json_object_get(p->decoded));
	if (rc == IH_OK && p->kept_whole != NULL)
		rc = add(ih, "json_strings_kept_as_sent", json_object_get(p->kept_whole));
	if (rc == IH_OK) {
		rc = add(ih, "images", list);
		list = NULL;
	}
	/* Credentials the sender put in the body (input.comfy_org_api_key, an S3 config). */
	if (rc == IH_OK)
		rc = pl_redact_tree(p, p->root, 0);
	if (rc == IH_OK) {
		rc = add(p->root, "imagehook", ih);
		ih = NULL;
	}
	if (rc == IH_OK) {
		const char *s = json_object_to_json_string_ext(
			p->root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					 JSON_C_TO_STRING_NOSLASHESCAPE);
		rc = s ? buf_puts(out, s) : IH_ERR_NOMEM;
		if (rc == IH_OK)
			rc = buf_puts(out, "\n");
	}
	json_object_put(list);
	json_object_put(ih);
	return rc;
}

int payload_record_counts(const char *text, size_t len, struct payload_counts *c)
{
	memset(c, 0, sizeof *c);
	json_object *root;
	int rc = pl_parse_object(text, len, 64, 0, &root);
	if (rc != IH_OK)
		return rc;
	json_object *images = pl_get(pl_get(root, "imagehook"), "images");
	if (images == NULL || !json_object_is_type(images, json_type_array)) {
		json_object_put(root);
		return IH_ERR_NOT_JSON;
	}
	for (size_t i = 0; i < json_object_array_length(images); i++) {
		json_object *d = json_object_array_get_idx(images, i);
		const char *role = pl_get_string(d, "role");
		int input = role != NULL && strcmp(role, "input") == 0;
		if (pl_get(d, "same_as") != NULL)
			continue;
		if (pl_get(d, "rejected") != NULL)
			c->rejected++;
		else if (pl_get(d, "file") != NULL)
			(*(input ? &c->inputs_stored : &c->stored))++;
		else if (pl_get(d, "url") != NULL)
			c->remote++;
	}
	json_object *ih = pl_get(root, "imagehook");
	c->warnings = pl_get(ih, "warnings") != NULL;
	json_object_put(root);
	return IH_OK;
}

int payload_record_summary(const char *text, size_t len, unsigned *stored, unsigned *rejected)
{
	struct payload_counts c;
	int rc = payload_record_counts(text, len, &c);
	*stored = c.stored + c.inputs_stored;
	*rejected = c.rejected;
	return rc;
}
