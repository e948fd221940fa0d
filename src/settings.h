/* settings.h - imagehook's configuration: environment, optional config file, checks. */
#ifndef IH_SETTINGS_H
#define IH_SETTINGS_H

#include <stdint.h>
#include <stdio.h>

#include "image.h"
#include "fetch_guard.h"
#include "signature_fal.h"

#define SETTINGS_MAX_TOKENS 8

struct settings {
	char *output_dir;      /* IMAGEHOOK_OUTPUT_DIR */
	char *log_path;        /* IMAGEHOOK_LOG */
	char *tokens[SETTINGS_MAX_TOKENS]; /* IMAGEHOOK_TOKEN (comma-separated) and _TOKEN_FILE */
	int n_tokens;
	/* IMAGEHOOK_SIGNING_SECRET (comma- or space-separated) and _FILE: "whsec_..." as given */
	char *signing[SETTINGS_MAX_TOKENS];
	int n_signing;
	int allow_open;        /* IMAGEHOOK_ALLOW_OPEN: store without a token */
	uint64_t max_body;     /* IMAGEHOOK_MAX_BODY, bytes */
	int max_depth;         /* IMAGEHOOK_MAX_DEPTH, JSON nesting */
	unsigned max_images;   /* IMAGEHOOK_MAX_IMAGES, per callback */
	uint64_t max_string;   /* IMAGEHOOK_MAX_STRING, bytes of one JSON string (or key) */
	uint64_t max_decoded;  /* IMAGEHOOK_MAX_DECODED, decoded image bytes per callback */
	/* IMAGEHOOK_MAX_WIDTH, _HEIGHT, _PIXELS, _PNG_CHUNK, _TEXT_CHUNK, _INFLATED_TEXT */
	struct image_limits image;
	int add_infotext;      /* IMAGEHOOK_ADD_INFOTEXT: add A1111's parameters chunk where missing */
	int gallery;           /* IMAGEHOOK_GALLERY: refresh gallery pages as jobs are stored */
	int thumbnails;        /* IMAGEHOOK_THUMBNAILS: make thumbnails while answering */
	unsigned gallery_stale_ms; /* 0: GALLERY_STALE_MS (gallery.h); no variable sets it, tests do */
	long signature_tolerance; /* IMAGEHOOK_SIGNATURE_TOLERANCE, seconds either way */
	/* IMAGEHOOK_FAL_JWKS_FILE: fal.ai's public keys, read once at start */
	unsigned char fal_keys[SIGNATURE_FAL_MAX_KEYS][32];
	int n_fal_keys;
	/* Result links: IMAGEHOOK_FETCH_HOSTS, _MAX_BYTES, _TIMEOUT, _MAX_LINKS, _RESOLVE, _AFTER_ANSWER */
	struct fetch_allow fetch_hosts;
	uint64_t fetch_max_bytes;
	unsigned fetch_timeout;   /* seconds per fetch, redirects included */
	unsigned fetch_max_links; /* per job */
	char *fetch_resolve;      /* "host:port:address,..." or NULL */
	int fetch_after_answer;   /* FastCGI: fetch a job's links right after answering */
	/* IMAGEHOOK_MIN_FREE: space a delivery must leave on the output's file system */
	uint64_t min_free;     /* bytes, or percent of the file system when min_free_percent */
	int min_free_percent;
	/* IMAGEHOOK_ON_STORED: a program run after the answer of each stored job, or NULL */
	char *on_stored;
	int on_stored_timeout; /* IMAGEHOOK_ON_STORED_TIMEOUT, seconds */
	int on_stored_max;     /* IMAGEHOOK_ON_STORED_MAX: at most this many at once per process */
	/* The secret files, re-read when they change (settings_refresh_secrets()). */
	char *token_file, *signing_file;
	int n_tokens_fixed, n_signing_fixed;  /* tokens[0..n) and signing[0..n) not from a file */
	struct settings_file_id {
		int known;
		unsigned long long dev, ino, size;
		long long mtime_ns, ctime_ns;
	} token_file_id, signing_file_id;
	/* IMAGEHOOK_STORE=s3://bucket/prefix; s3_bucket is NULL for the local folder. */
	char *s3_bucket, *s3_prefix;
	char *s3_endpoint;     /* IMAGEHOOK_S3_ENDPOINT (default AWS's for the region) */
	char *s3_region;       /* IMAGEHOOK_S3_REGION (default us-east-1) */
	int s3_virtual_host;   /* IMAGEHOOK_S3_ADDRESSING=virtual|path */
	long s3_timeout_ms;    /* IMAGEHOOK_S3_TIMEOUT, seconds in the setting */
	char *s3_access_key, *s3_secret_key; /* from the file IMAGEHOOK_S3_CREDENTIALS */
	char *config_file;     /* IMAGEHOOK_CONFIG, or NULL */
	char *problems;        /* NULL when valid; else "; "-joined text of every problem */
};

/*
 * Fills *s from the process environment and the file IMAGEHOOK_CONFIG names (the
 * environment wins over the file). Problems do not fail the call: they are
 * collected in s->problems so that every answer can report them. Returns IH_OK or
 * IH_ERR_NOMEM. The caller frees *s with settings_free().
 */
int settings_load(struct settings *s);

/* Frees everything *s owns; settings_free on a zeroed struct is a no-op. */
void settings_free(struct settings *s);

/*
 * Re-reads IMAGEHOOK_TOKEN_FILE and IMAGEHOOK_SIGNING_SECRET_FILE when either
 * changed since it was read (one stat(2) each), so that a rotated secret is in
 * force for the next request without a restart. A file that cannot be read, or
 * whose new content has a problem, keeps the secrets in force and returns
 * IH_ERR_CONFIG after saying why on err. Returns IH_OK (changed or not) or an
 * ih_err; never changes s->problems.
 */
int settings_refresh_secrets(struct settings *s, FILE *err);
struct s3_config;

/* Fills *c from the IMAGEHOOK_STORE and IMAGEHOOK_S3_* settings (borrowing s's strings). */
void settings_s3_config(const struct settings *s, struct s3_config *c);

/* Prints the effective configuration with secrets masked to out. */
void settings_print(const struct settings *s, FILE *out);

#endif
