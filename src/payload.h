/* payload.h - the callback's model: parsed with json-c, which no other module sees. */
#ifndef IH_PAYLOAD_H
#define IH_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct payload;

enum payload_role {
	PAYLOAD_OUTPUT = 0,   /* a generated image */
	PAYLOAD_INPUT         /* an image the job was given (img2img, mask, ControlNet) */
};

enum payload_kind {
	PAYLOAD_BASE64 = 0,   /* text is base64 (a data: URI prefix already removed) */
	PAYLOAD_URL           /* text is a URL: recorded; its fetch is queued (fetch.c) */
};

/*
 * One media reference found in the callback (a base64 or data: string anywhere
 * that decodes to a known format, or any string at a known worker's media
 * position); text points into the parsed tree or the body.
 */
struct payload_image {
	enum payload_role role;
	enum payload_kind kind;
	const char *text;
	size_t len;
	char where[96];       /* JSON path of the value, e.g. "output.images[0]" */
	const char *name;     /* the sender's file name for it (worker-comfyui's filename), or NULL */
	int infotext;         /* index into the A1111 infotexts, or -1 */
	int same_as;          /* index of an earlier reference with identical data, or -1 */
};

/* Limits on what the parser accepts. */
struct payload_limits {
	int max_depth;        /* JSON nesting */
	unsigned max_images;  /* image references, outputs and inputs together */
	size_t max_string;    /* longest JSON string or object key, bytes; 0 = no limit */
	uint64_t max_decoded; /* decoded bytes of all base64 images (bound from their length); 0 = none */
};

/*
 * Parses body[0..len) (strict JSON, depth-limited) into *out. Returns IH_OK,
 * IH_ERR_NOT_JSON, IH_ERR_TOO_DEEP, IH_ERR_NOT_OBJECT, IH_ERR_NO_ID (id missing,
 * empty or not a string), IH_ERR_TOO_MANY, IH_ERR_LIMIT (max_string or max_decoded
 * exceeded) or IH_ERR_NOMEM; on failure *why (a static string) says more when the
 * tokenizer knows, and names the setting for a limit. Borrows body, unchanged,
 * until payload_free(): long base64 images stay there rather than being copied,
 * and image texts point into it. The caller frees *out with payload_free().
 */
int payload_parse(const char *body, size_t len, const struct payload_limits *lim,
		  struct payload **out, const char **why);

/* Frees a payload; payload_free(NULL) is a no-op. */
void payload_free(struct payload *p);

/*
 * Accessors: strings are owned copies (rendering the record never invalidates
 * them); NULL when the field is absent or not a string. A lifted string is never
 * seen here as its marker. A body without an id but with output or error
 * (runpod-python's local test server) gets "local-<hex SHA-256 of the body>",
 * and, without a status, COMPLETED.
 */
const char *payload_id(const struct payload *p);
int payload_id_derived(const struct payload *p);       /* 1 when the id was derived */
const char *payload_status(const struct payload *p);   /* never NULL: "UNKNOWN" if absent */
/* "runpod", "replicate" or "fal" (static); their statuses are mapped to RunPod's. */
const char *payload_sender(const struct payload *p);
const char *payload_worker_id(const struct payload *p);
const char *payload_webhook(const struct payload *p);
int payload_delay_ms(const struct payload *p, int64_t *ms);  /* 1 and *ms if present */
int payload_exec_ms(const struct payload *p, int64_t *ms);
/* A short, static-free text describing the job's error, owned by p, or NULL. */
const char *payload_error_text(const struct payload *p);
/* 1 when status is COMPLETED but there is no output at all (lost upstream). */
int payload_output_missing(const struct payload *p);
/* 1 when output reports a failure (status "error", a non-empty errors[], error, or FastAPI's detail). */
int payload_output_error(const struct payload *p);
/* 1 when the input asked for media to be made (A1111 txt2img/img2img/extra-*, a ComfyUI workflow, a prompt). */
int payload_generation_request(const struct payload *p);
/* 1 for the format names of videos ("mp4", "mov", "webm", "mkv", ...). */
int payload_format_is_video(const char *format);

/* Number of image references, and the i-th one (borrowed from p). */
size_t payload_image_count(const struct payload *p);
const struct payload_image *payload_image(const struct payload *p, size_t i);

/* The A1111 infotext for output image i, owned by p, or NULL. */
const char *payload_infotext(const struct payload *p, int index);

/* What became of one image, for the record. */
struct payload_stored {
	const char *file;         /* file name in the job folder, or NULL */
	const char *format;       /* "png", "jpeg", "webp", "gif", "mp4", ... or NULL */
	uint64_t bytes;
	uint32_t width, height;
	uint64_t duration_ms;     /* where the container states it; 0 = unknown */
	const char *sha256;       /* hex */
	const char *error;        /* why it was rejected, or NULL */
	const char *keywords;     /* comma-separated PNG text keywords, or NULL */
	int added_infotext;
};

/* What the record adds about the delivery. */
struct payload_record_meta {
	const char *received;     /* ISO 8601 UTC */
	const char *remote;
	const char *outcome;
	const char *webhook_redacted; /* replaces the webhook field */
	uint64_t bytes;
	const char *body_sha256;  /* optional: NULL leaves it out */
	const char *webhook_id;   /* webhook-id, the delivery's idempotency key; may be NULL */
	unsigned images_stored;   /* output media stored */
	unsigned inputs_stored;   /* input media stored beside them */
	unsigned images_rejected;
	int warnings;             /* the error text is a warning beside stored media */
	int lost_upstream;        /* the outcome is lost_upstream */
};

/*
 * Appends job.json to out: the callback as received with every base64 image
 * replaced by {"file": ..., ...} (stored[i] describes image i), the webhook field
 * replaced, and an "imagehook" object with meta and per-image details. Modifies p's
 * tree (images become references), so it may be called once. Returns IH_OK or
 * IH_ERR_NOMEM.
 */
int payload_render_record(struct payload *p, const struct payload_stored *stored,
			  const struct payload_record_meta *meta, struct buf *out);

/* Frees image i's base64 text early (after it was stored) to cap peak memory. */
void payload_release_image(struct payload *p, size_t i);

/*
 * Reads a job.json written earlier (text[0..len)) and counts its images stored and
 * rejected, for the answer to a duplicate delivery. Returns IH_OK or IH_ERR_NOT_JSON.
 */
int payload_record_summary(const char *text, size_t len, unsigned *stored, unsigned *rejected);

/* The same, split by role (each file once). */
struct payload_counts {
	unsigned stored, inputs_stored, rejected, remote;
	int warnings;
};
int payload_record_counts(const char *text, size_t len, struct payload_counts *c);

/*
 * Appends s[0..n) (a body kept because it was refused; any text) to out with the
 * string value of every key naming a credential (api key, token, secret,
 * password, access/secret key, authorization) replaced by [REDACTED]. Returns
 * IH_OK or IH_ERR_NOMEM.
 */
int payload_redact_text(const char *s, size_t n, struct buf *out);


/* ---- reading back what was written: the gallery's job cards, the stats' log lines ---- */

#define PAYLOAD_CARD_MAX_PARAMS 10
#define PAYLOAD_CARD_MAX_IMAGES 64

struct payload_card_param {
	char name[16];            /* "seed", "steps", "cfg", "sampler", "size", ... */
	char value[96];
};

/* A result link's state on a card, from job.json's imagehook.images and fetch.json. */
enum payload_card_link {
	PAYLOAD_LINK_NONE = 0,    /* not a link, or nothing says it was queued (an old record) */
	PAYLOAD_LINK_PENDING,     /* queued, waiting to be fetched */
	PAYLOAD_LINK_FETCHED,     /* fetched and stored: file names it */
	PAYLOAD_LINK_REJECTED,    /* fetched, but not valid media: kept raw in file */
	PAYLOAD_LINK_FAILED,      /* fetching failed for good */
	PAYLOAD_LINK_REFUSED,     /* never fetched: the guard refused it */
	PAYLOAD_LINK_EXPIRED      /* never fetched: it expired first */
};

/* 1 for a link whose result is lost (failed, refused, expired): the gallery's trouble. Pure. */
int payload_card_link_lost(int link);

struct payload_card_image {
	char file[96];            /* file name in the job folder; "" for a URL */
	/*
	 * A result link's URL as shown: scheme, host and path only. The query and the
	 * fragment never get here (a presigned URL's query is its credential), nor
	 * user info. "" when the image was not a link.
	 */
	char url[256];
	char where[96];           /* the JSON path it came from (matches fetch.json's) */
	/* What `imagehook fetch` made of a link: PAYLOAD_LINK_* below. */
	int link;
	char link_error[256];     /* why it will not be fetched, or the last failure while pending */
	unsigned link_attempts;
	int64_t link_expires;     /* when the link stops working (seconds since the epoch); 0 unknown */
	char format[16];          /* "png", "jpeg", "webp", "gif", "mp4", ...; "" when rejected */
	int video;                /* plays as a video (<video>), not an image */
	uint64_t duration_ms;     /* 0 when unknown */
	char rejected[160];       /* why it was rejected; "" when stored */
	uint32_t width, height;   /* 0 when unknown */
	int input;                /* an image the job was given, not one it made */
};

/*
 * What the gallery shows of a job. Strings are NUL-terminated, cut to fit (ending
 * "..."), and still untrusted: most came from the sender.
 */
struct payload_card {
	char id[200];
	char status[40];
	char outcome[40];
	char received[40];        /* ISO 8601 UTC of the latest delivery */
	char worker[80];
	char error[600];
	char warnings[600];       /* non-fatal errors beside stored media (shown amber) */
	char prompt[2000];
	char negative[1000];
	char infotext[2000];      /* A1111's text for the first image */
	int has_delay, has_exec;
	int64_t delay_ms, exec_ms;
	int lost_upstream;        /* COMPLETED without any output */
	unsigned n_params;
	struct payload_card_param params[PAYLOAD_CARD_MAX_PARAMS];
	unsigned n_images;
	unsigned more_images;     /* images past PAYLOAD_CARD_MAX_IMAGES, not listed */
	struct payload_card_image images[PAYLOAD_CARD_MAX_IMAGES];
};

/*
 * Reads a job.json that payload_render_record() wrote (text[0..len)) into *c: id,
 * status, outcome, timings, error, prompt, negative prompt and key parameters (from
 * A1111's input.payload, output.parameters and output.info, the SDXL worker's input,
 * or a ComfyUI workflow's sampler and the nodes it links to), and the images, each
 * file once. Returns IH_OK, IH_ERR_NOT_JSON (not such a record) or IH_ERR_NOMEM.
 * Borrows text; *c holds no pointers.
 */
int payload_card_parse(const char *text, size_t len, struct payload_card *c);

/*
 * Adds to the links of card c what the job's fetch.json (text[0..len)) says of
 * them, matched by JSON path and shown URL: the state, when job.json did not have
 * it yet (a link queued but not yet attempted), and the expiry time. Returns
 * IH_OK or IH_ERR_NOT_JSON (c unchanged). Borrows text.
 */
int payload_card_add_links(struct payload_card *c, const char *text, size_t len);

/* One log line, as logline_format() writes it. */
struct payload_log_entry {
	char time[40];            /* ISO 8601 UTC */
	char outcome[40];
	char status[40];
	int http;
	unsigned images_stored, images_rejected, images_remote, inputs_stored;
	uint64_t bytes;
	int has_ms;
	uint64_t ms;
};

/*
 * Reads one log line (line[0..len), newline optional) into *e; absent or mistyped
 * fields are 0 or "". Returns IH_OK, IH_ERR_NOT_JSON (not a JSON object with a time)
 * or IH_ERR_NOMEM. Borrows line; *e holds no pointers.
 */
int payload_log_line_parse(const char *line, size_t len, struct payload_log_entry *e);

#endif
