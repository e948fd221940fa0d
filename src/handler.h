/* handler.h - one callback from request to answer: auth, read, parse, store, log. */
#ifndef IH_HANDLER_H
#define IH_HANDLER_H

#include <stddef.h>

#include "buf.h"
#include "hook.h"
#include "logline.h"
#include "settings.h"
#include "store.h"

/* The request's CGI variables, copied (the FastCGI environment dies at the next accept). */
struct req_meta {
	const char *method;
	const char *query;        /* QUERY_STRING, may be NULL */
	const char *path_info;    /* PATH_INFO, may be NULL */
	const char *remote_addr;  /* may be NULL */
	long long content_length; /* -1 when absent */
	/* Standard Webhooks headers (HTTP_WEBHOOK_ID, _TIMESTAMP, _SIGNATURE), may be NULL. */
	const char *webhook_id;
	const char *webhook_timestamp;
	const char *webhook_signature;
	const char *x_request_id; /* HTTP_X_REQUEST_ID, set by a server or proxy; may be NULL */
	const char *accept;       /* HTTP_ACCEPT, may be NULL: the metrics' format */
	/* fal.ai's X-Fal-Webhook-Request-Id, -User-Id, -Timestamp, -Signature, may be NULL. */
	const char *fal_request_id;
	const char *fal_user_id;
	const char *fal_timestamp;
	const char *fal_signature;
	/*
	 * `imagehook replay`: the kept body's file, run by the operator on this machine.
	 * The token and signature checks are skipped and a body rejected again is not
	 * kept a second time (the log line names this file). NULL for a delivery.
	 */
	const char *replay_of;
};

/*
 * Reads up to n body bytes into p; *got == 0 means end of input. Returns IH_OK or
 * an ih_err (a read error counts as the client gone).
 */
typedef int (*body_reader_fn)(void *ctx, void *p, size_t n, size_t *got);

/* What the handler works with; borrowed for the handler's lifetime. */
struct handler {
	struct settings *settings;  /* its secrets are re-read when their files change */
	struct store *store;      /* NULL when the output root could not be opened */
	int store_err;            /* why store is NULL */
	struct logfile log;
	struct buf body;          /* reused between requests */
	struct hook_job after;    /* IMAGEHOOK_ON_STORED's job, for handler_after_answer() */
	struct hook_runner hooks;
	char fetch_dir[256];      /* the last request's job when it queued links, else "" */
	char host[256];           /* gethostname(): in every log line */
	/*
	 * The job the last request stored (not a duplicate), for handler_after_answer():
	 * its folder relative to the output root, "" when none.
	 */
	char stored_dir[256];
	/* gallery_busy_begin()'s mark, held from before a store until handler_after_answer(); -1 when none. */
	int gallery_busy;
};

/* The answer to send. */
struct reply {
	int status;
	int retry_after;          /* seconds, 0 for none */
	int allow_post;           /* send "Allow: POST" */
	const char *allow;        /* else this Allow header, when not NULL (static) */
	const char *content_type; /* NULL: application/json (static) */
	struct buf body;          /* JSON */
	enum outcome outcome;     /* what the log line says, for `imagehook replay` */
	char error[256];          /* the log line's error text, "" when none */
};

/*
 * Sets up a handler for settings s: opens the output root and the log (failures
 * are remembered and reported in every answer, not fatal). Returns IH_OK or
 * IH_ERR_NOMEM; the caller calls handler_fini().
 */
int handler_init(struct handler *h, struct settings *s);

/* Frees what handler_init() and the requests allocated. */
void handler_fini(struct handler *h);

/*
 * Handles one request: fills *r (whose body buffer the caller owns and frees) and
 * writes exactly one log line. Never fails: every problem becomes an answer.
 */
void handler_handle(struct handler *h, const struct req_meta *m, body_reader_fn read,
		    void *read_ctx, struct reply *r);

/*
 * Work that must not delay the answer, run once the answer has reached the sender
 * (request.c's loop and replay call it after each handler_handle()): refreshes the
 * gallery for the job just stored, then starts IMAGEHOOK_ON_STORED for it. Never
 * fails and changes no answer; problems go to stderr.
 */
void handler_after_answer(struct handler *h);

#endif
