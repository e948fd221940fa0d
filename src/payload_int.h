/* payload_int.h - what the payload_*.c files share; no other module includes it. */
#ifndef IH_PAYLOAD_INT_H
#define IH_PAYLOAD_INT_H

#include <stddef.h>

#include <json-c/json.h>

#include "bigstr.h"
#include "payload.h"
#include "payload_senders.h"

/* Where a media reference lives in the tree, so it can be replaced later. */
struct image_slot {
	struct payload_image img;
	json_object *value;       /* the string value itself (compared, never dereferenced after release) */
	json_object *parent;      /* array or object holding the value */
	size_t index;             /* in an array */
	char *key;                /* in an object (owned), or NULL */
	char *name;               /* the sender's file name for it (owned), or NULL */
	int released;
};

struct payload {
	json_object *root;
	json_object *info;        /* output.info parsed, or NULL */
	json_object *error_parsed; /* error parsed from a JSON-encoded string, or NULL */
	json_object *skip;        /* a value pl_discover() walks apart (output.parameters) */
	json_object *decoded;     /* array of paths of JSON strings now shown parsed, or NULL */
	json_object *kept_whole;  /* array of "path: why" of JSON strings json-c would shorten, or NULL */
	const char *refused_why;  /* static text: a JSON string with media json-c would shorten */
	char *error_text;
	/* Owned copies: the tree changes when the record is rendered. */
	char *id, *status, *worker, *webhook;
	int id_derived;           /* no id in the body: local-<sha256 of the body> */
	int status_assumed;       /* no status in such a body: COMPLETED assumed */
	struct image_slot *slots;
	size_t n_slots;
	size_t cap_slots;
	unsigned max_images;
	int max_depth;
	unsigned n_embedded;      /* JSON strings parsed while looking for media */
	int output_missing;
	int output_error;
	int generation;           /* the input asked for something to be generated */
	unsigned char *claimed;   /* claimed[k]: lifted string k is a media slot */
	struct bigstr big;        /* long media strings, left in the body (see bigstr.h) */
	const char *body;         /* borrowed until payload_free() */
	enum payload_sender sender; /* Replicate and fal.ai have shapes of their own */
};

/* The credential redaction mark. */
#define PAYLOAD_REDACTED "[REDACTED]"

json_object *pl_get(json_object *o, const char *key);
const char *pl_get_string(json_object *o, const char *key);
int pl_starts_with(const char *s, size_t n, const char *prefix);
int pl_is_url(const char *s, size_t n);

/* The text of string value v: a lifted marker's text is found in the body. */
int pl_str_of(struct payload *p, json_object *v, const char **s, size_t *n);

/* Small JSON texts (see payload_parse.c). */
int pl_parse_object(const char *text, size_t len, int depth, int whole, json_object **out);
int pl_parse_value(const char *text, size_t len, int depth, json_object **out);
/*
 * pl_parse_value() that also refuses (IH_ERR_NOT_JSON, *why set to a static
 * reason) a document json-c would shorten: a key twice, or a key with \u0000.
 * *why stays NULL when the text is simply not JSON. The caller owns *out.
 */
int pl_parse_document(const char *text, size_t len, int depth, json_object **out, const char **why);

/* Finds the media anywhere in the tree (payload_media.c). */
int pl_discover(struct payload *p);
/* Classifies the input (a generation request or a helper call) and output errors. */
void pl_classify(struct payload *p);

/* Adds string v (held by parent at index/key) as an output link, unless it is a slot already. */
int pl_add_link(struct payload *p, json_object *v, json_object *parent, size_t index,
		const char *key, const char *where);

/* The slot whose value is v, or NULL. */
const struct image_slot *pl_slot_of(const struct payload *p, const json_object *v);

/* 1 when key names a credential (api key, token, secret, password, ...). */
int pl_credential_key(const char *key, size_t len);
/* Redacts credential values in the tree under o, also inside JSON strings. */
int pl_redact_tree(struct payload *p, json_object *o, int depth);

/* Serializes v with media shown as "(media at <where>)", as a new string, or NULL. */
char *pl_text_of(struct payload *p, json_object *v);

#endif
