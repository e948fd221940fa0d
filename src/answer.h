/* answer.h - the single place that maps an outcome to an HTTP status and answer body. */
#ifndef IH_ANSWER_H
#define IH_ANSWER_H

#include "buf.h"

enum outcome {
	OUTCOME_STORED = 0,       /* the output media stored (warnings beside them allowed) */
	OUTCOME_PARTIAL,          /* some images rejected (kept raw) */
	OUTCOME_ALL_REJECTED,     /* images present but none valid (kept raw) */
	OUTCOME_RECORDED,         /* COMPLETED, output holds no media (helper calls, interrogate, success_no_images) */
	OUTCOME_FAILED,           /* status FAILED, recorded */
	OUTCOME_CANCELLED,        /* status CANCELLED, recorded */
	OUTCOME_TIMED_OUT,        /* status TIMED_OUT, recorded */
	OUTCOME_UNKNOWN_STATUS,   /* any other status, recorded as it is */
	OUTCOME_LOST_UPSTREAM,    /* COMPLETED without output for a generation request: the result was lost */
	OUTCOME_WORKER_ERROR,     /* COMPLETED, an error and no output media */
	OUTCOME_DUPLICATE,        /* same id and status already stored */
	OUTCOME_BAD_REQUEST,      /* body not a JSON object / no id; body kept */
	OUTCOME_UNAUTHORIZED,
	OUTCOME_METHOD,
	OUTCOME_TOO_LARGE,
	OUTCOME_CLIENT_GONE,      /* body shorter than CONTENT_LENGTH */
	OUTCOME_STORAGE_ERROR,
	OUTCOME_MISCONFIGURED,
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
	unsigned images_stored;   /* output media */
	unsigned inputs_stored;   /* input media kept beside them */
	unsigned images_rejected;
	int id_derived;           /* the id was derived from the body (local-<sha256>) */
	const char *rejected;     /* "index: why; ..." or NULL */
	const char *error;        /* short error text or NULL */
	const char *warnings;     /* non-fatal errors beside stored media, or NULL */
};

/* Appends the JSON answer body for *info to out. Returns IH_OK or IH_ERR_NOMEM. */
int answer_body(const struct answer_info *info, struct buf *out);

/* What decides the outcome of a stored job. */
struct job_facts {
	const char *status;       /* the callback's status */
	int output_missing;       /* COMPLETED with no output at all */
	int generation_request;   /* the input asked for media to be made */
	int output_error;         /* an error reported (inside output, or beside it) */
	unsigned stored;          /* output media stored */
	unsigned rejected;        /* output media kept raw */
	unsigned remote;          /* output media as URLs (recorded) */
	unsigned inputs_rejected; /* input media kept raw */
};

/* 1 when the error of a job with this outcome is a warning beside its media. Pure. */
int answer_error_is_warning(enum outcome o, const struct job_facts *f);

/* Returns the outcome of a job that was stored (not a duplicate). Pure. */
enum outcome answer_job_outcome(const struct job_facts *f);

/* Seconds the sender should wait before retrying a 503. */
#define ANSWER_RETRY_AFTER 30

#endif
