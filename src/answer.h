/* answer.h - the single place that maps an outcome to an HTTP status and answer body. */
#ifndef IH_ANSWER_H
#define IH_ANSWER_H

#include "buf.h"

enum outcome {
	OUTCOME_STORED = 0,       /* every image stored */
	OUTCOME_PARTIAL,          /* some images rejected (kept raw) */
	OUTCOME_ALL_REJECTED,     /* images present but none valid (kept raw) */
	OUTCOME_RECORDED,         /* COMPLETED without images (helper calls, no output images) */
	OUTCOME_FAILED,           /* status FAILED, recorded */
	OUTCOME_CANCELLED,        /* status CANCELLED, recorded */
	OUTCOME_TIMED_OUT,        /* status TIMED_OUT, recorded */
	OUTCOME_UNKNOWN_STATUS,   /* any other status, recorded as it is */
	OUTCOME_LOST_UPSTREAM,    /* COMPLETED without any output: the result was lost */
	OUTCOME_WORKER_ERROR,     /* COMPLETED with a failure inside output (images kept) */
	OUTCOME_DUPLICATE,        /* same id and status already stored */
	OUTCOME_BAD_REQUEST,      /* body not a JSON object / no id; body kept */
	OUTCOME_UNAUTHORIZED,
	OUTCOME_METHOD,
	OUTCOME_TOO_LARGE,
	OUTCOME_CLIENT_GONE,      /* body shorter than CONTENT_LENGTH */
	OUTCOME_STORAGE_ERROR,
	OUTCOME_MISCONFIGURED,
	OUTCOME_STORAGE_LOW,      /* free space below IMAGEHOOK_MIN_FREE: nothing written, retry later */
	OUTCOME__COUNT
};

/* Returns the static snake_case name of an outcome, as written in logs and answers. */
const char *answer_outcome_name(enum outcome o);

/* Returns the HTTP status for an outcome (200, 400, 401, 405, 413 or 503). Pure. */
int answer_status(enum outcome o);

/* Returns the static reason phrase for an HTTP status code. */
const char *answer_reason(int status);

/* What the answer body reports; strings are borrowed. */
struct answer_info {
	enum outcome outcome;
	const char *id;           /* may be NULL */
	const char *dir;          /* job folder relative to the output root, may be NULL */
	unsigned images_stored;
	unsigned images_rejected;
	const char *rejected;     /* "index: why; ..." or NULL */
	const char *error;        /* short error text or NULL */
};

/* Appends the JSON answer body for *info to out. Returns IH_OK or IH_ERR_NOMEM. */
int answer_body(const struct answer_info *info, struct buf *out);

/* What decides the outcome of a stored job. */
struct job_facts {
	const char *status;       /* the callback's status */
	int output_missing;       /* COMPLETED with no output at all */
	int output_error;         /* a failure reported inside output */
	unsigned stored;
	unsigned rejected;
};

/* Returns the outcome of a job that was stored (not a duplicate). Pure. */
enum outcome answer_job_outcome(const struct job_facts *f);

/* Seconds the sender should wait before retrying a 503. */
#define ANSWER_RETRY_AFTER 30

#endif
