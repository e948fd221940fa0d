/* payload.c - parse a callback with json-c into the model; render job.json from it. */
#include "ih_config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base64.h"
#include "ih_error.h"
#include "bigstr.h"
#include "utf8.h"
#include "payload.h"
#include "payload_senders.h"

/* Where an image reference lives in the tree, so it can be replaced later. */
struct image_slot {
	struct payload_image img;
	json_object *parent;      /* array or object holding the value */
	size_t index;             /* in an array */
	char *key;                /* in an object (owned), or NULL */
	int released;
};

struct payload {
	json_object *root;
	json_object *info;        /* output.info parsed, or NULL */
	json_object *error_parsed; /* error parsed from a JSON-encoded string, or NULL */
	char *error_text;
	const char *id;
	const char *status;
	struct image_slot *slots;
	size_t n_slots;
	size_t cap_slots;
	unsigned max_images;
	int too_many;
	int output_missing;
	int output_error;
	json_object *url_dup_parent; /* output, when image_url repeats images[0] */
	size_t url_dup_slot;      /* the slot of images[0] */
	struct bigstr big;        /* long image strings, left in the body (see bigstr.h) */
	const char *body;         /* borrowed until payload_free() */
	enum payload_sender sender; /* Replicate and fal.ai have shapes of their own */
};

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *get_string(json_object *o, const char *key)
{
	json_object *v = get(o, key);
	return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The text of string value v: a long image string lifted out by bigstr is found in the body. */
static int str_of(struct payload *p, json_object *v, const char **s, size_t *n)
{
	*s = json_object_get_string(v);
	*n = (size_t)json_object_get_string_len(v);
	long k = bigstr_marker(&p->big, *s, *n);
	if (k < 0)
		return IH_OK;
	return bigstr_get(&p->big, p->body, (size_t)k, s, n);
}

static int starts_with(const char *s, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);
	return n >= p && memcmp(s, prefix, p) == 0;
}

static int is_url(const char *s, size_t n)
{
	return starts_with(s, n, "https://") || starts_with(s, n, "http://") ||
	       starts_with(s, n, "s3://");
}

/* Base64 of the PNG, JPEG and RIFF (WebP) magic bytes. */
static int looks_like_image_base64(const char *s, size_t n)
{
	return n >= 64 && (starts_with(s, n, "iVBORw0KGgo") || starts_with(s, n, "/9j/") ||
			   starts_with(s, n, "UklGR"));
}

/* Adds an image reference for the string value v held by parent at index/key. */
static int add_slot(struct payload *p, enum payload_role role, json_object *v,
		    json_object *parent, size_t index, const char *key, const char *where,
		    int infotext)
{
	const char *s;
	size_t n;
	int rc = str_of(p, v, &s, &n);
	if (rc != IH_OK)
		return rc;
	struct payload_image img = { .role = role, .kind = PAYLOAD_BASE64, .text = s, .len = n,
				     .infotext = infotext, .same_as = -1 };
	if (is_url(s, n)) {
		img.kind = PAYLOAD_URL;
	} else if (starts_with(s, n, "data:")) {
		/* A data: URI; the base64 starts after the comma. */
		const char *comma = memchr(s, ',', n);
		if (comma == NULL)
			return IH_OK;
		img.text = comma + 1;
		img.len = n - (size_t)(img.text - s);
	}
	if (p->n_slots >= p->max_images) {
		p->too_many = 1;
		return IH_ERR_TOO_MANY;
	}
	if (p->n_slots == p->cap_slots) {
		size_t cap = p->cap_slots ? p->cap_slots * 2 : 8;
		struct image_slot *ns = realloc(p->slots, cap * sizeof *ns);
		if (ns == NULL)
			return IH_ERR_NOMEM;
		p->slots = ns;
		p->cap_slots = cap;
	}
	/* The same image sent twice (init_images echoed in output.parameters) is stored once. */
	for (size_t j = 0; j < p->n_slots; j++) {
		const struct payload_image *o = &p->slots[j].img;
		if (o->kind == img.kind && o->same_as < 0 && o->len == img.len && o->text != NULL &&
		    memcmp(o->text, img.text, img.len) == 0) {
			img.same_as = (int)j;
			break;
		}
	}
	struct image_slot *slot = &p->slots[p->n_slots];
	memset(slot, 0, sizeof *slot);
	snprintf(img.where, sizeof img.where, "%s", where);
	slot->img = img;
	slot->parent = parent;
	slot->index = index;
	if (key != NULL && (slot->key = strdup(key)) == NULL)
		return IH_ERR_NOMEM;
	p->n_slots++;
	return IH_OK;
}

/* output.images[i]: a string (A1111, SDXL, ashleykleynhans) or an object (ComfyUI >= 5). */
static int scan_output_images(struct payload *p, json_object *images)
{
	char where[96];
	size_t n = json_object_array_length(images);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(images, i);
		int rc = IH_OK;
		/*
		 * A1111 inserts a grid's infotext at 0 together with the grid image, so
		 * infotexts[i] belongs to images[i]; index_of_first_image offsets only
		 * all_seeds and all_prompts. ControlNet maps come last, without one.
		 */
		int info = (int)i;
		if (json_object_is_type(e, json_type_string)) {
			snprintf(where, sizeof where, "output.images[%lu]", (unsigned long)i);
			rc = add_slot(p, PAYLOAD_OUTPUT, e, images, i, NULL, where, info);
		} else if (json_object_is_type(e, json_type_object)) {
			json_object *data = get(e, "data");
			if (data != NULL && json_object_is_type(data, json_type_string)) {
				snprintf(where, sizeof where, "output.images[%lu].data", (unsigned long)i);
				rc = add_slot(p, PAYLOAD_OUTPUT, data, e, 0, "data", where, -1);
			}
		}
		if (rc != IH_OK)
			return rc;
	}
	return IH_OK;
}

/* A Replicate or fal.ai result link (payload_senders.c) becomes an output reference. */
static int sender_link(void *ctx, json_object *v, json_object *parent, size_t index,
		       const char *key, const char *where)
{
	return add_slot(ctx, PAYLOAD_OUTPUT, v, parent, index, key, where, -1);
}

/*
 * Parses a small JSON text (a string inside the callback, a job.json, a log line)
 * into *out when it is an object; with whole set, only white space may follow it.
 * Returns IH_OK, IH_ERR_NOMEM, or IH_ERR_NOT_JSON (not JSON, or not an object).
 */
static int parse_object(const char *text, size_t len, int depth, int whole, json_object **out)
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

/* Reads A1111's output.info, a JSON string holding infotexts[] and index_of_first_image. */
static void parse_info(struct payload *p, json_object *output, int max_depth)
{
	const char *info = get_string(output, "info");
	if (info == NULL)
		return;
	json_object *o;
	if (parse_object(info, strlen(info), max_depth, 0, &o) == IH_OK)
		p->info = o;
}

static int scan_output(struct payload *p, json_object *output, int max_depth)
{
	int rc = IH_OK;
	size_t first_slot = p->n_slots;
	parse_info(p, output, max_depth);
	json_object *images = get(output, "images");
	if (images != NULL && json_object_is_type(images, json_type_array))
		rc = scan_output_images(p, images);
	if (rc != IH_OK)
		return rc;
	/* SDXL repeats images[0] as image_url: store it once. */
	json_object *url = get(output, "image_url");
	if (url != NULL && json_object_is_type(url, json_type_string)) {
		const char *u, *f = NULL;
		size_t ulen, flen = 0;
		json_object *first = images != NULL && json_object_is_type(images, json_type_array)
					     ? json_object_array_get_idx(images, 0) : NULL;
		if ((rc = str_of(p, url, &u, &ulen)) != IH_OK)
			return rc;
		if (first != NULL && json_object_is_type(first, json_type_string) &&
		    (rc = str_of(p, first, &f, &flen)) != IH_OK)
			return rc;
		if (f == NULL || flen != ulen || memcmp(f, u, ulen) != 0) {
			rc = add_slot(p, PAYLOAD_OUTPUT, url, output, 0, "image_url",
				      "output.image_url", -1);
		} else if (first_slot < p->n_slots &&
			   strcmp(p->slots[first_slot].img.where, "output.images[0]") == 0) {
			/* Stored once; the record points image_url at the same file. */
			p->url_dup_parent = output;
			p->url_dup_slot = first_slot;
		}
	}
	/* ComfyUI < 5 and blib-la: {status: "success", message: <base64 or URL>}. */
	const char *status = get_string(output, "status");
	json_object *msg = get(output, "message");
	if (rc == IH_OK && status != NULL && strcmp(status, "success") == 0 && msg != NULL &&
	    json_object_is_type(msg, json_type_string)) {
		const char *m;
		size_t n;
		if ((rc = str_of(p, msg, &m, &n)) != IH_OK)
			return rc;
		if (is_url(m, n) || starts_with(m, n, "data:") || looks_like_image_base64(m, n))
			rc = add_slot(p, PAYLOAD_OUTPUT, msg, output, 0, "message", "output.message", -1);
	}
	return rc;
}

/* Finds base64 images anywhere in input (img2img init images, masks, ControlNet inputs). */
static int scan_input(struct payload *p, json_object *o, char *path, size_t plen, int depth)
{
	if (depth > 64)
		return IH_OK;
	size_t base = strlen(path);
	int rc = IH_OK;
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v) {
			snprintf(path + base, plen - base, ".%s", key);
			if (json_object_is_type(v, json_type_string)) {
				const char *s;
				size_t n;
				if ((rc = str_of(p, v, &s, &n)) != IH_OK)
					return rc;
				if (looks_like_image_base64(s, n) ||
				    (starts_with(s, n, "data:image/") && n >= 64))
					rc = add_slot(p, PAYLOAD_INPUT, v, o, 0, key, path, -1);
			} else {
				rc = scan_input(p, v, path, plen, depth + 1);
			}
			path[base] = '\0';
			if (rc != IH_OK)
				return rc;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++) {
			json_object *v = json_object_array_get_idx(o, i);
			snprintf(path + base, plen - base, "[%lu]", (unsigned long)i);
			if (json_object_is_type(v, json_type_string)) {
				const char *s;
				size_t sn;
				if ((rc = str_of(p, v, &s, &sn)) != IH_OK)
					return rc;
				if (looks_like_image_base64(s, sn) ||
				    (starts_with(s, sn, "data:image/") && sn >= 64))
					rc = add_slot(p, PAYLOAD_INPUT, v, o, i, NULL, path, -1);
			} else {
				rc = scan_input(p, v, path, plen, depth + 1);
			}
			path[base] = '\0';
			if (rc != IH_OK)
				return rc;
		}
	}
	return rc;
}

/* Builds a one-line description of the job's failure, if it has one. */
static int describe_error(struct payload *p, int max_depth)
{
	char text[600];
	text[0] = '\0';
	json_object *err = get(p->root, "error");
	json_object *output = get(p->root, "output");
	if (output != NULL && json_object_is_type(output, json_type_object)) {
		const char *st = get_string(output, "status");
		json_object *errors = get(output, "errors");
		p->output_error = (st != NULL && strcmp(st, "error") == 0) || get(output, "error") != NULL ||
				  (errors != NULL && json_object_is_type(errors, json_type_array) &&
				   json_object_array_length(errors) > 0);
	}
	if (err != NULL && json_object_is_type(err, json_type_string)) {
		const char *s = json_object_get_string(err);
		/* A crashed handler's error is itself JSON: error_type, error_message, ... */
		json_object *o;
		if (parse_object(s, strlen(s), max_depth, 0, &o) == IH_OK) {
			const char *type = get_string(o, "error_type");
			const char *msg = get_string(o, "error_message");
			snprintf(text, sizeof text, "%s%s%s", type ? type : "",
				 type && msg ? ": " : "", msg ? msg : (type ? "" : s));
			p->error_parsed = o;
		} else {
			snprintf(text, sizeof text, "%s", s);
		}
	} else if (err != NULL && json_object_is_type(err, json_type_array)) {
		snprintf(text, sizeof text, "%s", json_object_to_json_string_ext(err, JSON_C_TO_STRING_PLAIN));
	} else if (err != NULL && json_object_is_type(err, json_type_object)) {
		snprintf(text, sizeof text, "%s", json_object_to_json_string_ext(err, JSON_C_TO_STRING_PLAIN));
	} else if (p->output_error) {
		/* Failures reported inside output by the ComfyUI and SDXL workers. */
		const char *st = get_string(output, "status");
		json_object *errors = get(output, "errors");
		json_object *oerr = get(output, "error");
		if (st != NULL && strcmp(st, "error") == 0) {
			const char *m = get_string(output, "message");
			snprintf(text, sizeof text, "output: %s", m ? m : "error");
		} else if (errors != NULL && json_object_is_type(errors, json_type_array) &&
			   json_object_array_length(errors) > 0) {
			snprintf(text, sizeof text, "output.errors: %s",
				 json_object_to_json_string_ext(errors, JSON_C_TO_STRING_PLAIN));
		} else if (oerr != NULL) {
			snprintf(text, sizeof text, "output.error: %s",
				 json_object_is_type(oerr, json_type_string)
					 ? json_object_get_string(oerr)
					 : json_object_to_json_string_ext(oerr, JSON_C_TO_STRING_PLAIN));
		}
	}
	if (text[0] != '\0' && (p->error_text = strdup(text)) == NULL)
		return IH_ERR_NOMEM;
	return IH_OK;
}

/*
 * JSON_TOKENER_VALIDATE_UTF8 checks only the shape of each sequence: overlong forms
 * ("\xc0\xaf" for '/'), encoded surrogates and code points past U+10FFFF get
 * through it, and then into job.json; utf8_valid() is strict.
 */

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

/* Strings of at least this many bytes that look like base64 images are lifted. */
#define BIGSTR_MIN 4096

static int lifted_within(const struct bigstr *b, size_t max)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->len[i] > max)
			return 0;
	return 1;
}

/* An upper bound of the bytes the base64 images decode to, all together. */
static uint64_t decoded_bound(const struct payload *p)
{
	uint64_t total = 0;
	for (size_t i = 0; i < p->n_slots; i++)
		if (p->slots[i].img.kind == PAYLOAD_BASE64)
			total += b64_decoded_max(p->slots[i].img.len);
	return total;
}

int payload_parse(const char *body, size_t len, const struct payload_limits *lim,
		  struct payload **out, const char **why)
{
	*why = NULL;
	if (len > INT_MAX)
		return IH_ERR_TOO_LARGE;
	struct payload *p = calloc(1, sizeof *p);
	if (p == NULL)
		return IH_ERR_NOMEM;
	p->body = body;
	p->max_images = lim->max_images;
	/* json-c sees the text without the long base64 strings: no copy, no tokenizing of them. */
	int rc = bigstr_extract(body, len, BIGSTR_MIN, &p->big);
	if (rc != IH_OK) {
		free(p);
		return rc;
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
	if (lim->max_string > 0 &&
	    (!strings_within(root, lim->max_string) || !lifted_within(&p->big, lim->max_string))) {
		*why = "a JSON string is longer than IMAGEHOOK_MAX_STRING";
		rc = IH_ERR_LIMIT;
		goto fail;
	}
	struct payload_sender_info si;
	p->sender = payload_sender_detect(root, &si);
	json_object *id = p->sender != PAYLOAD_SENDER_RUNPOD ? si.id : get(root, "id");
	if (id == NULL || !json_object_is_type(id, json_type_string) ||
	    json_object_get_string_len(id) == 0) {
		rc = IH_ERR_NO_ID;
		goto fail;
	}
	p->id = json_object_get_string(id);
	if (strlen(p->id) != (size_t)json_object_get_string_len(id)) {
		*why = "id contains a NUL byte";
		rc = IH_ERR_NO_ID;
		goto fail;
	}
	p->status = si.status != NULL ? si.status : get_string(root, "status");
	if (p->status == NULL || *p->status == '\0')
		p->status = "UNKNOWN";
	json_object *output = p->sender != PAYLOAD_SENDER_RUNPOD ? si.output : get(root, "output");
	p->output_missing = strcmp(p->status, "COMPLETED") == 0 &&
			    (output == NULL || json_object_is_type(output, json_type_null));
	if (output != NULL && json_object_is_type(output, json_type_object))
		rc = scan_output(p, output, lim->max_depth);
	if (rc == IH_OK)
		rc = payload_sender_links(&si, sender_link, p);
	json_object *input = get(root, "input");
	if (rc == IH_OK && input != NULL) {
		char path[96] = "input";
		rc = scan_input(p, input, path, sizeof path, 0);
	}
	/* A1111 echoes its request (init_images too) in output.parameters. */
	json_object *params = get(output, "parameters");
	if (rc == IH_OK && params != NULL) {
		char path[96] = "output.parameters";
		rc = scan_input(p, params, path, sizeof path, 0);
	}
	if (rc == IH_OK)
		rc = describe_error(p, lim->max_depth);
	if (rc == IH_OK && p->error_text == NULL && si.error != NULL &&
	    (p->error_text = strdup(si.error)) == NULL)
		rc = IH_ERR_NOMEM;
	if (rc == IH_OK && lim->max_decoded > 0 && decoded_bound(p) > lim->max_decoded) {
		*why = "the images decode to more than IMAGEHOOK_MAX_DECODED bytes";
		rc = IH_ERR_LIMIT;
	}
	if (rc != IH_OK)
		goto fail;
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
	for (size_t i = 0; i < p->n_slots; i++)
		free(p->slots[i].key);
	free(p->slots);
	free(p->error_text);
	json_object_put(p->error_parsed);
	json_object_put(p->info);
	json_object_put(p->root);
	bigstr_free(&p->big);
	free(p);
}

const char *payload_id(const struct payload *p)
{
	return p->id;
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
	return get_string(p->root, "workerId");
}

const char *payload_webhook(const struct payload *p)
{
	return get_string(p->root, "webhook");
}

static int get_ms(const struct payload *p, const char *key, int64_t *ms)
{
	json_object *v = get(p->root, key);
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
	json_object *texts = get(p->info, "infotexts");
	if (index < 0 || texts == NULL || !json_object_is_type(texts, json_type_array) ||
	    (size_t)index >= json_object_array_length(texts))
		return NULL;
	json_object *t = json_object_array_get_idx(texts, (size_t)index);
	return json_object_is_type(t, json_type_string) ? json_object_get_string(t) : NULL;
}

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

/* The description of one stored (or rejected) image. */
static json_object *describe_image(const struct payload_image *img, const struct payload_stored *st)
{
	json_object *d = json_object_new_object();
	if (d == NULL)
		return NULL;
	int rc = add_str(d, "where", img->where);
	if (rc == IH_OK)
		rc = add_str(d, "role", img->role == PAYLOAD_INPUT ? "input" : "output");
	if (rc == IH_OK && img->kind == PAYLOAD_URL)
		rc = add(d, "url", json_object_new_string_len(img->text, (int)img->len));
	if (rc == IH_OK)
		rc = add_str(d, "file", st->file);
	if (rc == IH_OK)
		rc = add_str(d, "format", st->format);
	if (rc == IH_OK && st->file != NULL)
		rc = add(d, "bytes", json_object_new_int64((int64_t)st->bytes));
	if (rc == IH_OK && st->width > 0) {
		rc = add(d, "width", json_object_new_int64(st->width));
		if (rc == IH_OK)
			rc = add(d, "height", json_object_new_int64(st->height));
	}
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

/* The lifted string that marker value v stands for, as a new json-c string, or NULL. */
static json_object *lifted_value(struct payload *p, json_object *v)
{
	const char *s;
	size_t n;
	if (!json_object_is_type(v, json_type_string) ||
	    bigstr_marker(&p->big, json_object_get_string(v), (size_t)json_object_get_string_len(v)) < 0 ||
	    str_of(p, v, &s, &n) != IH_OK)
		return NULL;
	return json_object_new_string_len(s, (int)n);
}

/*
 * Puts back every lifted string that did not become an image reference, so that
 * job.json holds what was sent. Replacing a value in place changes no structure.
 */
static int restore_lifted(struct payload *p, json_object *o, int depth)
{
	if (p->big.n == 0 || depth > 1000)
		return IH_OK;
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v) {
			json_object *real = lifted_value(p, v);
			if (real != NULL) {
				if (json_object_object_add(o, key, real) != 0) {
					json_object_put(real);
					return IH_ERR_NOMEM;
				}
			} else if (restore_lifted(p, v, depth + 1) != IH_OK) {
				return IH_ERR_NOMEM;
			}
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++) {
			json_object *v = json_object_array_get_idx(o, i);
			json_object *real = lifted_value(p, v);
			if (real != NULL) {
				if (json_object_array_put_idx(o, i, real) != 0) {
					json_object_put(real);
					return IH_ERR_NOMEM;
				}
			} else if (restore_lifted(p, v, depth + 1) != IH_OK) {
				return IH_ERR_NOMEM;
			}
		}
	}
	return IH_OK;
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
		if (slot->img.kind == PAYLOAD_BASE64) {
			json_object *ref = json_object_new_object();
			rc = ref ? IH_OK : IH_ERR_NOMEM;
			if (rc == IH_OK)
				rc = add_str(ref, "file", stored[i].file);
			if (rc == IH_OK && stored[i].error != NULL)
				rc = add_str(ref, "rejected", stored[i].error);
			if (rc == IH_OK)
				rc = replace_slot(slot, ref);
			else
				json_object_put(ref);
		}
		if (rc == IH_OK && json_object_array_add(list, d) != 0)
			rc = IH_ERR_NOMEM;
		if (rc != IH_OK)
			json_object_put(d);
	}
	if (rc == IH_OK && p->url_dup_parent != NULL &&
	    p->slots[p->url_dup_slot].img.kind == PAYLOAD_BASE64) {
		json_object *ref = json_object_new_object();
		rc = ref ? IH_OK : IH_ERR_NOMEM;
		if (rc == IH_OK)
			rc = add_str(ref, "file", stored[p->url_dup_slot].file);
		if (rc == IH_OK)
			rc = add_str(ref, "same_as", "output.images[0]");
		if (rc == IH_OK)
			rc = add(p->url_dup_parent, "image_url", ref);
		else
			json_object_put(ref);
	}
	if (rc == IH_OK && meta->webhook_redacted != NULL && get(p->root, "webhook") != NULL)
		rc = add_str(p->root, "webhook", meta->webhook_redacted);
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
		rc = add_str(ih, "error", p->error_text);
	if (rc == IH_OK && p->error_parsed != NULL)
		rc = add(ih, "error_parsed", json_object_get(p->error_parsed));
	if (rc == IH_OK && p->output_missing)
		rc = add(ih, "result_lost_upstream", json_object_new_boolean(1));
	if (rc == IH_OK) {
		rc = add(ih, "images", list);
		list = NULL;
	}
	if (rc == IH_OK) {
		rc = add(p->root, "imagehook", ih);
		ih = NULL;
	}
	if (rc == IH_OK)
		rc = restore_lifted(p, p->root, 0);
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

int payload_record_summary(const char *text, size_t len, unsigned *stored, unsigned *rejected)
{
	*stored = *rejected = 0;
	json_object *root;
	int rc = parse_object(text, len, 64, 0, &root);
	if (rc != IH_OK)
		return rc;
	json_object *images = get(get(root, "imagehook"), "images");
	if (images == NULL || !json_object_is_type(images, json_type_array)) {
		json_object_put(root);
		return IH_ERR_NOT_JSON;
	}
	for (size_t i = 0; i < json_object_array_length(images); i++) {
		json_object *d = json_object_array_get_idx(images, i);
		if (get(d, "rejected") != NULL)
			(*rejected)++;
		else if (get(d, "file") != NULL)
			(*stored)++;
	}
	json_object_put(root);
	return IH_OK;
}

/* ---- reading records back: the gallery's job cards and the stats' log lines ---- */

/* Copies src into dst[0..size), cut at a UTF-8 boundary and ended with "..." when too long. */
static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n < size) {
		memcpy(dst, src, n + 1);
		return;
	}
	size_t keep = size > 4 ? size - 4 : 0;
	while (keep > 0 && ((unsigned char)src[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(dst, src, keep);
	snprintf(dst + keep, size - keep, "%s", size > 4 ? "..." : "");
}

/* Follows a dotted path of object keys ("override_settings.sd_model_checkpoint"). */
static json_object *get_path(json_object *o, const char *path)
{
	char key[64];
	while (o != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

/* A scalar as short text: integers, numbers, strings, booleans. 0 when v is none of them. */
static int scalar_text(json_object *v, char *out, size_t size)
{
	if (v == NULL)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		snprintf(out, size, "%lld", (long long)json_object_get_int64(v));
		return 1;
	case json_type_double:
		snprintf(out, size, "%g", json_object_get_double(v));
		return 1;
	case json_type_boolean:
		snprintf(out, size, "%s", json_object_get_boolean(v) ? "true" : "false");
		return 1;
	case json_type_string:
		if (json_object_get_string_len(v) == 0)
			return 0;
		copy_cut(out, size, json_object_get_string(v));
		return 1;
	default:
		return 0;
	}
}

static int has_param(const struct payload_card *c, const char *name)
{
	for (unsigned i = 0; i < c->n_params; i++)
		if (strcmp(c->params[i].name, name) == 0)
			return 1;
	return 0;
}

/* Adds name = v unless the card has that parameter already: the first source wins. */
static void card_param(struct payload_card *c, const char *name, json_object *v)
{
	struct payload_card_param *p;
	if (c->n_params >= PAYLOAD_CARD_MAX_PARAMS || has_param(c, name))
		return;
	p = &c->params[c->n_params];
	if (!scalar_text(v, p->value, sizeof p->value))
		return;
	snprintf(p->name, sizeof p->name, "%s", name);
	c->n_params++;
}

/* The first of keys (a NULL-terminated list) whose value in o is a scalar, not a ComfyUI link. */
static json_object *first_of(json_object *o, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		json_object *v = get_path(o, *keys);
		if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double) ||
		    json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_boolean))
			return v;
	}
	return NULL;
}

static const char *const k_seed[] = { "seed", "noise_seed", NULL };
static const char *const k_steps[] = { "steps", "num_inference_steps", NULL };
static const char *const k_cfg[] = { "cfg_scale", "guidance_scale", "cfg", NULL };
static const char *const k_sampler[] = { "sampler_name", "sampler", NULL };
static const char *const k_scheduler[] = { "scheduler", NULL };
static const char *const k_model[] = { "override_settings.sd_model_checkpoint",
				       "sd_model_checkpoint", "model", "ckpt_name", "unet_name",
				       NULL };
static const char *const k_denoise[] = { "denoising_strength", "strength", "denoise", NULL };

/* Key parameters from an A1111, SDXL-worker or ComfyUI-node style object of inputs. */
static void card_params_from(struct payload_card *c, json_object *o)
{
	json_object *seed = first_of(o, k_seed);
	/* -1 asks for a random seed: the one used is reported elsewhere. */
	if (seed != NULL && !(json_object_is_type(seed, json_type_int) &&
			      json_object_get_int64(seed) < 0))
		card_param(c, "seed", seed);
	card_param(c, "steps", first_of(o, k_steps));
	card_param(c, "cfg", first_of(o, k_cfg));
	card_param(c, "sampler", first_of(o, k_sampler));
	card_param(c, "scheduler", first_of(o, k_scheduler));
	card_param(c, "model", first_of(o, k_model));
	card_param(c, "denoise", first_of(o, k_denoise));
	json_object *w = get(o, "width"), *h = get(o, "height");
	char ws[24], hs[24];
	if (c->n_params < PAYLOAD_CARD_MAX_PARAMS && !has_param(c, "size") &&
	    json_object_is_type(w, json_type_int) &&
	    json_object_is_type(h, json_type_int) && scalar_text(w, ws, sizeof ws) &&
	    scalar_text(h, hs, sizeof hs)) {
		struct payload_card_param *p = &c->params[c->n_params++];
		snprintf(p->name, sizeof p->name, "size");
		snprintf(p->value, sizeof p->value, "%s\xc3\x97%s", ws, hs);
	}
}

static const char *class_type(json_object *node)
{
	const char *t = get_string(node, "class_type");
	return t != NULL ? t : "";
}

/* The text of a ComfyUI text-encode node that a sampler input links to (["6", 0]). */
static const char *comfy_linked_text(json_object *workflow, json_object *link)
{
	if (link == NULL || !json_object_is_type(link, json_type_array) ||
	    json_object_array_length(link) < 1)
		return NULL;
	json_object *id = json_object_array_get_idx(link, 0);
	if (!json_object_is_type(id, json_type_string))
		return NULL;
	json_object *inputs = get(get(workflow, json_object_get_string(id)), "inputs");
	const char *text = get_string(inputs, "text");
	return text != NULL ? text : get_string(inputs, "text_g");
}

/* ComfyUI: the sampler node's settings and the prompts its inputs link to. */
static void card_from_comfy(struct payload_card *c, json_object *workflow)
{
	json_object *sampler = NULL;
	const char *any_text = NULL;
	json_object_object_foreach(workflow, key, node) {
		(void)key;
		const char *ct = class_type(node);
		json_object *inputs = get(node, "inputs");
		if (sampler == NULL &&
		    (strstr(ct, "KSampler") != NULL || strstr(ct, "SamplerCustom") != NULL))
			sampler = inputs;
		if (any_text == NULL && strstr(ct, "CLIPTextEncode") != NULL)
			any_text = get_string(inputs, "text");
		if (strstr(ct, "EmptyLatentImage") != NULL || strstr(ct, "CheckpointLoader") != NULL ||
		    strstr(ct, "UNETLoader") != NULL)
			card_params_from(c, inputs);
	}
	const char *pos = sampler ? comfy_linked_text(workflow, get(sampler, "positive")) : NULL;
	const char *neg = sampler ? comfy_linked_text(workflow, get(sampler, "negative")) : NULL;
	if (pos == NULL)
		pos = any_text;
	if (pos != NULL && c->prompt[0] == '\0')
		copy_cut(c->prompt, sizeof c->prompt, pos);
	if (neg != NULL && c->negative[0] == '\0')
		copy_cut(c->negative, sizeof c->negative, neg);
	if (sampler != NULL)
		card_params_from(c, sampler);
}

/* A1111's output.info: infotexts, the seeds used and the model. */
static void card_from_info(struct payload_card *c, json_object *info)
{
	json_object *texts = get(info, "infotexts");
	json_object *seeds = get(info, "all_seeds");
	if (texts != NULL && json_object_is_type(texts, json_type_array) &&
	    json_object_array_length(texts) > 0) {
		json_object *t = json_object_array_get_idx(texts, 0);
		if (json_object_is_type(t, json_type_string))
			copy_cut(c->infotext, sizeof c->infotext, json_object_get_string(t));
	}
	if (seeds != NULL && json_object_is_type(seeds, json_type_array) &&
	    json_object_array_length(seeds) > 0)
		card_param(c, "seed", json_object_array_get_idx(seeds, 0));
	card_param(c, "seed", get(info, "seed"));
	card_param(c, "model", get(info, "sd_model_name"));
}

/* When nothing named the prompt, A1111's infotext starts with it. */
static void prompt_from_infotext(struct payload_card *c)
{
	static const char *const ends[] = { "\nNegative prompt: ", "\nSteps: " };
	size_t n = strlen(c->infotext);
	if (c->prompt[0] != '\0' || n == 0)
		return;
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
		const char *e = strstr(c->infotext, ends[i]);
		if (e != NULL && (size_t)(e - c->infotext) < n)
			n = (size_t)(e - c->infotext);
	}
	if (n >= sizeof c->prompt)
		n = sizeof c->prompt - 1;
	memcpy(c->prompt, c->infotext, n);
	c->prompt[n] = '\0';
}

/* Puts the parameters in the order people read them in, whichever source gave them. */
static void sort_params(struct payload_card *c)
{
	static const char *const order[] = { "seed", "size", "steps", "cfg", "sampler",
					     "scheduler", "denoise", "model" };
	struct payload_card_param sorted[PAYLOAD_CARD_MAX_PARAMS];
	unsigned n = 0;
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
		for (unsigned i = 0; i < c->n_params; i++)
			if (strcmp(c->params[i].name, order[k]) == 0)
				sorted[n++] = c->params[i];
	memcpy(c->params, sorted, n * sizeof sorted[0]);
	c->n_params = n;
}

static void card_images(struct payload_card *c, json_object *list)
{
	size_t n = list != NULL && json_object_is_type(list, json_type_array)
			   ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(list, i);
		if (get(d, "same_as") != NULL)
			continue;   /* the same file as an earlier entry */
		if (c->n_images >= PAYLOAD_CARD_MAX_IMAGES) {
			c->more_images++;
			continue;
		}
		struct payload_card_image *im = &c->images[c->n_images];
		const char *file = get_string(d, "file"), *url = get_string(d, "url");
		const char *role = get_string(d, "role"), *fmt = get_string(d, "format");
		const char *rej = get_string(d, "rejected");
		json_object *w = get(d, "width"), *h = get(d, "height");
		if (file == NULL && url == NULL)
			continue;
		copy_cut(im->file, sizeof im->file, file ? file : "");
		copy_cut(im->url, sizeof im->url, url ? url : "");
		copy_cut(im->format, sizeof im->format, fmt ? fmt : "");
		copy_cut(im->rejected, sizeof im->rejected, rej ? rej : "");
		im->input = role != NULL && strcmp(role, "input") == 0;
		if (json_object_is_type(w, json_type_int) && json_object_is_type(h, json_type_int)) {
			int64_t wv = json_object_get_int64(w), hv = json_object_get_int64(h);
			if (wv > 0 && hv > 0 && wv <= UINT32_MAX && hv <= UINT32_MAX) {
				im->width = (uint32_t)wv;
				im->height = (uint32_t)hv;
			}
		}
		c->n_images++;
	}
}

int payload_card_parse(const char *text, size_t len, struct payload_card *c)
{
	memset(c, 0, sizeof *c);
	json_object *root;
	int rc = parse_object(text, len, 64, 0, &root);
	if (rc != IH_OK)
		return rc;
	json_object *ih = get(root, "imagehook");
	if (ih == NULL || !json_object_is_type(ih, json_type_object)) {
		json_object_put(root);
		return IH_ERR_NOT_JSON;
	}
	const char *s;
	copy_cut(c->id, sizeof c->id, (s = get_string(root, "id")) ? s :
				      (s = get_string(root, "request_id")) ? s : "");
	copy_cut(c->status, sizeof c->status, (s = get_string(root, "status")) ? s : "UNKNOWN");
	copy_cut(c->outcome, sizeof c->outcome, (s = get_string(ih, "outcome")) ? s : "");
	copy_cut(c->received, sizeof c->received, (s = get_string(ih, "received")) ? s : "");
	copy_cut(c->worker, sizeof c->worker, (s = get_string(root, "workerId")) ? s : "");
	copy_cut(c->error, sizeof c->error, (s = get_string(ih, "error")) ? s : "");
	json_object *lost = get(ih, "result_lost_upstream");
	c->lost_upstream = (lost != NULL && json_object_get_boolean(lost)) ||
			   strcmp(c->outcome, "lost_upstream") == 0;
	json_object *v = get(root, "delayTime");
	c->has_delay = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
	c->delay_ms = c->has_delay ? json_object_get_int64(v) : 0;
	v = get(root, "executionTime");
	c->has_exec = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
	c->exec_ms = c->has_exec ? json_object_get_int64(v) : 0;

	/* The request: A1111 input.payload, its echo output.parameters, the SDXL worker's input. */
	json_object *input = get(root, "input"), *output = get(root, "output");
	json_object *sources[] = { get(input, "payload"), get(output, "parameters"), input };
	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		json_object *o = sources[i];
		if (o == NULL || !json_object_is_type(o, json_type_object))
			continue;
		if (c->prompt[0] == '\0' && (s = get_string(o, "prompt")) != NULL)
			copy_cut(c->prompt, sizeof c->prompt, s);
		if (c->negative[0] == '\0' && (s = get_string(o, "negative_prompt")) != NULL)
			copy_cut(c->negative, sizeof c->negative, s);
		card_params_from(c, o);
	}
	json_object *workflow = get(input, "workflow");
	if (workflow != NULL && json_object_is_type(workflow, json_type_object))
		card_from_comfy(c, workflow);
	card_param(c, "seed", get(output, "seed"));
	const char *info = get_string(output, "info");
	if (info != NULL) {
		json_object *io;
		if (parse_object(info, strlen(info), 64, 0, &io) == IH_OK) {
			card_from_info(c, io);
			json_object_put(io);
		}
	}
	prompt_from_infotext(c);
	sort_params(c);
	card_images(c, get(ih, "images"));
	json_object_put(root);
	return IH_OK;
}

/* Copies a string member into out (cut), or leaves out empty. */
static void copy_member(json_object *o, const char *key, char *out, size_t size)
{
	const char *s = get_string(o, key);
	out[0] = '\0';
	if (s != NULL)
		copy_cut(out, size, s);
}

static uint64_t member_u64(json_object *o, const char *key)
{
	json_object *v = get(o, key);
	if (!json_object_is_type(v, json_type_int))
		return 0;
	int64_t n = json_object_get_int64(v);
	return n > 0 ? (uint64_t)n : 0;
}

int payload_log_line_parse(const char *line, size_t len, struct payload_log_entry *e)
{
	memset(e, 0, sizeof *e);
	json_object *o;
	/* One object per line, nothing after it. */
	int rc = parse_object(line, len, 16, 1, &o);
	if (rc != IH_OK)
		return rc;
	copy_member(o, "time", e->time, sizeof e->time);
	copy_member(o, "outcome", e->outcome, sizeof e->outcome);
	copy_member(o, "status", e->status, sizeof e->status);
	uint64_t http = member_u64(o, "http");
	e->http = http < 1000 ? (int)http : 0;
	e->images_stored = (unsigned)member_u64(o, "images_stored");
	e->images_rejected = (unsigned)member_u64(o, "images_rejected");
	e->images_remote = (unsigned)member_u64(o, "images_remote");
	e->bytes = member_u64(o, "bytes");
	json_object *ms = get(o, "ms");
	if ((e->has_ms = json_object_is_type(ms, json_type_int)))
		e->ms = member_u64(o, "ms");
	json_object_put(o);
	return e->time[0] != '\0' ? IH_OK : IH_ERR_NOT_JSON;
}
