/*
 * payload_media.c - find every media string in a callback (any key, any depth,
 * JSON documents sent as strings too) and what the workers' known shapes say of it.
 */
#include "ih_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base64.h"
#include "ih_error.h"
#include "image.h"
#include "payload_int.h"

/*
 * What the workers' own code says about a position (field-notes section 3). A hint
 * never decides whether a string is media: decoding its first bytes does. It adds
 * the media's role and name, which A1111 infotext belongs to it, and that a string
 * there is kept (raw, with the reason) even when it decodes to nothing known.
 * Paths use [] for any array index.
 */
struct media_hint {
	const char *path;
	const char *who;          /* the sender whose code puts media there */
	int role;                 /* PAYLOAD_OUTPUT or PAYLOAD_INPUT */
	const char *name_key;     /* a sibling key holding the media's file name, or NULL */
	int infotext;             /* 1: A1111 output.info.infotexts[i] belongs to images[i] */
	int any_string;           /* 1: any non-URL string here is media (kept raw if not valid) */
	int urls;                 /* 1: a URL here is a remote result, recorded (never fetched) */
};

static const struct media_hint hints[] = {
	/* A1111 (infotexts[i] belongs to images[i]: a grid's text is inserted at 0 with it), ashleykleynhans, SDXL */
	{ "output.images[]", "A1111, ashleykleynhans, worker-sdxl", PAYLOAD_OUTPUT, NULL, 1, 1, 1 },
	/* worker-comfyui >= 5: {filename, type: base64|s3_url, data} */
	{ "output.images[].data", "worker-comfyui", PAYLOAD_OUTPUT, "filename", 0, 1, 1 },
	/* worker-sdxl-turbo: {image, seed} */
	{ "output.images[].image", "worker-sdxl-turbo", PAYLOAD_OUTPUT, NULL, 0, 1, 1 },
	/* A1111 /sdapi/v1/extra-single-image */
	{ "output.image", "A1111 extra-single-image", PAYLOAD_OUTPUT, NULL, 0, 1, 1 },
	/* worker-sdxl repeats images[0] (stored once: the same text is the same media) */
	{ "output.image_url", "worker-sdxl", PAYLOAD_OUTPUT, NULL, 0, 0, 1 },
	/* worker-comfyui < 5, blib-la: {status: success, message} */
	{ "output.message", "worker-comfyui < 5, blib-la", PAYLOAD_OUTPUT, NULL, 0, 0, 1 },
	/* worker-comfyui input images {name, image} */
	{ "input.images[].image", "worker-comfyui", PAYLOAD_INPUT, "name", 0, 1, 0 },
	/* A1111 img2img, interrogate (ashleykleynhans wraps the request in payload) */
	{ "input.init_images[]", "A1111", PAYLOAD_INPUT, NULL, 0, 1, 0 },
	{ "input.payload.init_images[]", "ashleykleynhans", PAYLOAD_INPUT, NULL, 0, 1, 0 },
	{ "input.payload.image", "ashleykleynhans interrogate", PAYLOAD_INPUT, NULL, 0, 1, 0 },
	{ "input.payload.mask", "ashleykleynhans", PAYLOAD_INPUT, NULL, 0, 1, 0 },
	{ "input.mask", "A1111", PAYLOAD_INPUT, NULL, 0, 1, 0 },
};

/* Top-level fields that are never media (text the rest of the program reads), or walked first. */
static const char *const not_media[] = { "id", "status", "workerId", "webhook", "error",
					 "delayTime", "executionTime", "output", "input", NULL };

/* JSON strings parsed while looking for media, at most. */
#define MAX_EMBEDDED 32

static const struct media_hint *hint_for(const char *pattern)
{
	for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
		if (strcmp(hints[i].path, pattern) == 0)
			return &hints[i];
	return NULL;
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static int space_char(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Whether s[0..n) is base64 (the alphabet and line breaks only, in its first 128
 * characters, white space allowed before and after) whose first bytes start a
 * known media format. The decoder skips that white space too.
 */
static enum image_format sniff_base64(const char *s, size_t n)
{
	size_t q = 0, i = 0;
	while (n > 0 && space_char(s[n - 1]))
		n--;
	while (i < n && space_char(s[i]))
		i++;
	s += i;
	n -= i;
	/* Text, not base64, when anything but the alphabet, line breaks or padding comes first. */
	for (i = 0; i < n && q < 128; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=')
			break;
		if (!b64_char(s[i]))
			return IMAGE_UNKNOWN;
		q++;
	}
	if (q < 16)
		return IMAGE_UNKNOWN;
	/* The media module decodes the first bytes and sniffs them. */
	return image_sniff_base64(s, n);
}

/* Whether s[0..n) starts with prefix (lowercase), ignoring ASCII case. */
static int starts_ci(const char *s, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);
	if (n < p)
		return 0;
	for (size_t i = 0; i < p; i++)
		if ((s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]) != prefix[i])
			return 0;
	return 1;
}

/*
 * A data: URI carrying base64 or media; *content is set to what follows the comma.
 * The scheme, the media type and ";base64" are compared ignoring case (RFC 2397,
 * RFC 2045): "DATA:IMAGE/PNG;BASE64," is media too.
 */
static int data_uri(const char *s, size_t n, const char **content)
{
	if (!starts_ci(s, n, "data:"))
		return 0;
	size_t head = n < 256 ? n : 256;
	const char *comma = memchr(s, ',', head);
	if (comma == NULL)
		return 0;
	size_t mlen = (size_t)(comma - s);
	int b64 = mlen >= 7 && starts_ci(comma - 7, 7, ";base64");
	int media = starts_ci(s, n, "data:image/") || starts_ci(s, n, "data:video/") ||
		    starts_ci(s, n, "data:audio/");
	if (!b64 && !media)
		return 0;
	*content = comma + 1;
	return 1;
}

/* The path with every [N] written as []. */
static void pattern_of(const char *path, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; path[i] != '\0' && o + 3 < size; i++) {
		out[o++] = path[i];
		if (path[i] == '[') {
			while (path[i + 1] != '\0' && path[i + 1] != ']')
				i++;
		}
	}
	out[o] = '\0';
}

static int role_of(const char *path)
{
	return pl_starts_with(path, strlen(path), "input") ||
	       pl_starts_with(path, strlen(path), "output.parameters") ? PAYLOAD_INPUT : PAYLOAD_OUTPUT;
}

const struct image_slot *pl_slot_of(const struct payload *p, const json_object *v)
{
	for (size_t i = 0; i < p->n_slots; i++)
		if (p->slots[i].value == v)
			return &p->slots[i];
	return NULL;
}

/* Adds a media reference for string v (text s[0..n)) held by parent at index/key. */
static int add_slot(struct payload *p, int role, enum payload_kind kind, const char *s, size_t n,
		    json_object *v, json_object *parent, size_t index, const char *key,
		    const char *where, int infotext, const char *name)
{
	struct payload_image img = { .role = role, .kind = kind, .text = s, .len = n,
				     .infotext = infotext, .same_as = -1 };
	if (p->n_slots >= p->max_images)
		return IH_ERR_TOO_MANY;
	if (p->n_slots == p->cap_slots) {
		size_t cap = p->cap_slots ? p->cap_slots * 2 : 8;
		struct image_slot *ns = realloc(p->slots, cap * sizeof *ns);
		if (ns == NULL)
			return IH_ERR_NOMEM;
		p->slots = ns;
		p->cap_slots = cap;
	}
	/* The same media sent twice (init_images echoed, SDXL's image_url) is stored once. */
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
	slot->value = v;
	slot->parent = parent;
	slot->index = index;
	p->n_slots++;
	if (key != NULL && (slot->key = strdup(key)) == NULL)
		return IH_ERR_NOMEM;
	if (name != NULL && (slot->name = strdup(name)) == NULL)
		return IH_ERR_NOMEM;
	slot->img.name = slot->name;
	long k = bigstr_marker(&p->big, json_object_get_string(v), (size_t)json_object_get_string_len(v));
	if (k >= 0)
		p->claimed[k] = 1;
	return IH_OK;
}

int pl_add_link(struct payload *p, json_object *v, json_object *parent, size_t index,
		const char *key, const char *where)
{
	const char *s;
	size_t n;
	int rc = pl_str_of(p, v, &s, &n);
	if (rc != IH_OK || pl_slot_of(p, v) != NULL)
		return rc;
	return add_slot(p, PAYLOAD_OUTPUT, PAYLOAD_URL, s, n, v, parent, index, key, where, -1, NULL);
}

static int walk(struct payload *p, json_object *o, char *path, size_t plen, int depth);

/* A string that is itself a JSON document (worker-comfyui's input): media inside are found. */
static int embedded(struct payload *p, json_object *parent, size_t index,
		    const char *key, const char *s, size_t n, char *path, size_t plen, int depth)
{
	size_t i = 0;
	while (i < n && strchr(" \t\r\n", s[i]) != NULL && s[i] != '\0')
		i++;
	if (i >= n || (s[i] != '{' && s[i] != '[') || n < 2 || p->n_embedded >= MAX_EMBEDDED ||
	    depth >= p->max_depth)
		return IH_OK;
	json_object *doc;
	const char *why;
	int rc = pl_parse_document(s, n, p->max_depth - depth, &doc, &why);
	if (rc == IH_ERR_NOMEM)
		return rc;
	if (why != NULL) {
		/*
		 * Its parsed form would lose a value. Holding media (json-c's lossy parse
		 * finds some), the body is refused like one with a key twice at the top:
		 * storing either value would drop the other. Without media, the string
		 * stays exactly as sent, and the record says where and why.
		 */
		if ((rc = pl_parse_value(s, n, p->max_depth - depth, &doc)) == IH_ERR_NOMEM)
			return rc;
		if (rc == IH_OK) {
			size_t before = p->n_slots;
			rc = walk(p, doc, path, plen, depth + 1);
			int media = p->n_slots > before;
			for (size_t j = before; j < p->n_slots; j++) {
				free(p->slots[j].key);
				free(p->slots[j].name);
			}
			p->n_slots = before;
			json_object_put(doc);
			if (rc == IH_ERR_NOMEM)
				return rc;
			if (media) {
				p->refused_why = why;
				return IH_ERR_NOT_JSON;
			}
		}
		char note[200];
		snprintf(note, sizeof note, "%s: %s", path, why);
		if (p->kept_whole == NULL && (p->kept_whole = json_object_new_array()) == NULL)
			return IH_ERR_NOMEM;
		json_object *ns = json_object_new_string(note);
		if (ns == NULL || json_object_array_add(p->kept_whole, ns) != 0) {
			json_object_put(ns);
			return IH_ERR_NOMEM;
		}
		return IH_OK;
	}
	if (rc != IH_OK || !(json_object_is_type(doc, json_type_object) ||
			     json_object_is_type(doc, json_type_array))) {
		json_object_put(doc);
		return IH_OK;
	}
	p->n_embedded++;
	size_t before = p->n_slots;
	rc = walk(p, doc, path, plen, depth + 1);
	if (p->n_slots == before) {
		/* Nothing found: the string stays as it was sent. */
		json_object_put(doc);
		return rc;
	}
	/*
	 * The new slots point into doc, so it goes into the tree whatever rc says: shown
	 * parsed, its media replaced by references like any other.
	 */
	int r = key != NULL ? json_object_object_add(parent, key, doc)
			    : json_object_array_put_idx(parent, index, doc);
	if (r != 0) {
		for (size_t j = before; j < p->n_slots; j++) {
			free(p->slots[j].key);
			free(p->slots[j].name);
		}
		p->n_slots = before;
		json_object_put(doc);
		return IH_ERR_NOMEM;
	}
	if (p->decoded == NULL && (p->decoded = json_object_new_array()) == NULL)
		return IH_ERR_NOMEM;
	json_object *ps = json_object_new_string(path);
	if (ps == NULL || json_object_array_add(p->decoded, ps) != 0) {
		json_object_put(ps);
		return IH_ERR_NOMEM;
	}
	return rc;
}

/*
 * The sender's file name in v (a sibling of the media), as text: never a lifted
 * string's marker, never media itself; cut to fit. *name is NULL when there is none.
 */
static int name_of(struct payload *p, json_object *v, char *buf, size_t size, const char **name)
{
	const char *s;
	size_t n;
	*name = NULL;
	if (v == NULL || !json_object_is_type(v, json_type_string) || pl_slot_of(p, v) != NULL)
		return IH_OK;
	int rc = pl_str_of(p, v, &s, &n);
	const char *content;
	/* Media found (or to be found) there are no name: they are stored, not copied here. */
	if (rc != IH_OK || n == 0 || memchr(s, '\0', n) != NULL || data_uri(s, n, &content) ||
	    (n >= 16 && sniff_base64(s, n) != IMAGE_UNKNOWN))
		return rc;
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;   /* cut at a UTF-8 boundary */
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	*name = buf;
	return IH_OK;
}

/* Decides whether string v at path is media; adds it when it is. */
static int consider(struct payload *p, json_object *v, json_object *parent, size_t index,
		    const char *key, char *path, size_t plen, int depth)
{
	const char *s, *content = NULL;
	size_t n;
	int rc = pl_str_of(p, v, &s, &n);
	if (rc != IH_OK)
		return rc;
	char pattern[96];
	pattern_of(path, pattern, sizeof pattern);
	const struct media_hint *h = hint_for(pattern);
	int role = h != NULL ? h->role : role_of(path);
	int info = h != NULL && h->infotext ? (int)index : -1;
	char name_buf[256];
	const char *name = NULL;
	if (h != NULL && h->name_key != NULL && key != NULL &&
	    (rc = name_of(p, pl_get(parent, h->name_key), name_buf, sizeof name_buf, &name)) != IH_OK)
		return rc;
	if (pl_is_url(s, n)) {
		if (h != NULL && h->urls)
			return add_slot(p, role, PAYLOAD_URL, s, n, v, parent, index, key, path, info,
					name);
		return IH_OK;
	}
	if (data_uri(s, n, &content))
		return add_slot(p, role, PAYLOAD_BASE64, content, n - (size_t)(content - s), v, parent,
				index, key, path, info, name);
	if (n >= 16 && sniff_base64(s, n) != IMAGE_UNKNOWN)
		return add_slot(p, role, PAYLOAD_BASE64, s, n, v, parent, index, key, path, info, name);
	if (h != NULL && h->any_string && n > 0 && s[0] != '{' && s[0] != '[')
		return add_slot(p, role, PAYLOAD_BASE64, s, n, v, parent, index, key, path, info, name);
	return embedded(p, parent, index, key, s, n, path, plen, depth);
}

/* Every string under o (path names o), depth-first in document order. */
static int walk(struct payload *p, json_object *o, char *path, size_t plen, int depth)
{
	if (depth > p->max_depth + MAX_EMBEDDED)
		return IH_OK;
	size_t base = strlen(path);
	int rc = IH_OK;
	if (json_object_is_type(o, json_type_object)) {
		/* Safe against replacing a value: the entry stays, only its value changes. */
		struct lh_entry *e = json_object_get_object(o)->head;
		for (; e != NULL && rc == IH_OK; e = e->next) {
			const char *key = lh_entry_k(e);
			json_object *v = (json_object *)lh_entry_v(e);
			if (v != NULL && v == p->skip)
				continue;
			if (depth == 0) {
				int skip = 0;
				for (size_t i = 0; not_media[i] != NULL && !skip; i++)
					skip = strcmp(key, not_media[i]) == 0;
				if (skip)
					continue;
			}
			snprintf(path + base, plen - base, "%s%s", base ? "." : "", key);
			if (json_object_is_type(v, json_type_string))
				rc = consider(p, v, o, 0, key, path, plen, depth);
			else
				rc = walk(p, v, path, plen, depth + 1);
			path[base] = '\0';
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n && rc == IH_OK; i++) {
			json_object *v = json_object_array_get_idx(o, i);
			snprintf(path + base, plen - base, "[%lu]", (unsigned long)i);
			if (json_object_is_type(v, json_type_string))
				rc = consider(p, v, o, i, NULL, path, plen, depth);
			else
				rc = walk(p, v, path, plen, depth + 1);
			path[base] = '\0';
		}
	}
	return rc;
}

int pl_discover(struct payload *p)
{
	/*
	 * output first, so that output media are numbered before the input's; A1111's
	 * echo of its request (output.parameters) after the input it repeats, so the
	 * input's place is the one the echo is the same_as of.
	 *
	 * The trap: embedded() replaces a JSON string by its parsed document and frees
	 * the string, so no value found here may be held across a step: each step looks
	 * its parent up again from the root. output.parameters is walked apart only when
	 * output was an object holding it; an output sent as a string is walked whole.
	 */
	json_object *params = pl_get(pl_get(p->root, "output"), "parameters");
	int params_apart = params != NULL;
	static const struct { const char *key; const char *path; } order[] = {
		{ "output", "output" },
		{ "input", "input" },
		{ "parameters", "output.parameters" },
	};
	char path[96] = "";
	int rc = IH_OK;
	for (size_t i = 0; i < sizeof order / sizeof order[0] && rc == IH_OK; i++) {
		if (i == 2 && !params_apart)
			break;
		json_object *parent = i == 2 ? pl_get(p->root, "output") : p->root;
		json_object *v = pl_get(parent, order[i].key);
		if (v == NULL)
			continue;
		snprintf(path, sizeof path, "%s", order[i].path);
		/* Step 0 leaves params as it is (skipped), so the pointer stays valid there. */
		p->skip = i == 0 ? params : NULL;
		if (json_object_is_type(v, json_type_string))
			rc = consider(p, v, parent, 0, order[i].key, path, sizeof path, i == 2);
		else
			rc = walk(p, v, path, sizeof path, 1 + (i == 2));
	}
	p->skip = NULL;
	path[0] = '\0';
	return rc == IH_OK ? walk(p, p->root, path, sizeof path, 0) : rc;
}
/* A1111 endpoints that generate (ashleykleynhans' input.api.endpoint). */
static int generating_endpoint(const char *e)
{
	static const char *const gen[] = { "txt2img", "img2img", "extra-single-image",
					   "extra-batch-images", NULL };
	for (size_t i = 0; gen[i] != NULL; i++)
		if (strstr(e, gen[i]) != NULL)
			return 1;
	return 0;
}

void pl_classify(struct payload *p)
{
	json_object *input = pl_get(p->root, "input");
	json_object *output = pl_get(p->root, "output");
	const char *endpoint = pl_get_string(pl_get(input, "api"), "endpoint");
	if (endpoint != NULL)
		p->generation = generating_endpoint(endpoint);
	else
		p->generation = pl_get(input, "workflow") != NULL || pl_get(input, "prompt") != NULL ||
				pl_get(pl_get(input, "payload"), "prompt") != NULL ||
				pl_get(input, "init_images") != NULL;
	if (output != NULL && json_object_is_type(output, json_type_object)) {
		const char *st = pl_get_string(output, "status");
		json_object *errors = pl_get(output, "errors");
		/* FastAPI's validation error (A1111 behind worker-a1111): {"detail": [...]}. */
		p->output_error = (st != NULL && strcmp(st, "error") == 0) ||
				  pl_get(output, "error") != NULL || pl_get(output, "detail") != NULL ||
				  (errors != NULL && json_object_is_type(errors, json_type_array) &&
				   json_object_array_length(errors) > 0);
	}
}

/* deep-copy hook: media become "(media at <where>)", lifted strings their text. */
static struct payload *copy_owner;

static int shallow_copy(json_object *src, json_object *parent, const char *key, size_t index,
			json_object **dst)
{
	if (json_object_is_type(src, json_type_string)) {
		const struct image_slot *slot = pl_slot_of(copy_owner, src);
		if (slot != NULL) {
			char text[140];
			snprintf(text, sizeof text, "(media at %s)", slot->img.where);
			*dst = json_object_new_string(text);
			return *dst != NULL ? 2 : -1;
		}
	}
	return json_c_shallow_copy_default(src, parent, key, index, dst);
}

char *pl_text_of(struct payload *p, json_object *v)
{
	json_object *copy = NULL;
	copy_owner = p;
	int rc = json_object_deep_copy(v, &copy, shallow_copy);
	copy_owner = NULL;
	if (rc != 0) {
		json_object_put(copy);
		return NULL;
	}
	const char *s = json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	char *out = s != NULL ? strdup(s) : NULL;
	json_object_put(copy);
	return out;
}
