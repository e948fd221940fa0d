/* answer.c - outcome to HTTP status and answer body; the only such mapping. */
#include "ih_config.h"

#include <string.h>

#include "answer.h"
#include "ih_error.h"

static const struct {
	const char *name;
	int status;
} outcomes[OUTCOME__COUNT] = {
	[OUTCOME_STORED] = { "stored", 200 },
	[OUTCOME_PARTIAL] = { "stored_partial", 200 },
	[OUTCOME_ALL_REJECTED] = { "images_rejected", 200 },
	[OUTCOME_RECORDED] = { "recorded", 200 },
	[OUTCOME_FAILED] = { "failed", 200 },
	[OUTCOME_CANCELLED] = { "cancelled", 200 },
	[OUTCOME_TIMED_OUT] = { "timed_out", 200 },
	[OUTCOME_UNKNOWN_STATUS] = { "unknown_status", 200 },
	/* 200 all the same: a retry delivers the same empty result. */
	[OUTCOME_LOST_UPSTREAM] = { "lost_upstream", 200 },
	[OUTCOME_WORKER_ERROR] = { "worker_error", 200 },
	[OUTCOME_DUPLICATE] = { "duplicate", 200 },
	[OUTCOME_BAD_REQUEST] = { "bad_request", 400 },
	[OUTCOME_UNAUTHORIZED] = { "unauthorized", 401 },
	[OUTCOME_METHOD] = { "method_not_allowed", 405 },
	[OUTCOME_TOO_LARGE] = { "too_large", 413 },
	/* Nobody reads this answer; 400 keeps the log honest about what happened. */
	[OUTCOME_CLIENT_GONE] = { "client_gone", 400 },
	[OUTCOME_STORAGE_ERROR] = { "storage_error", 503 },
	/* A missing token or unusable path is the operator's to fix; 503 makes the platform retry. */
	[OUTCOME_MISCONFIGURED] = { "misconfigured", 503 },
	/* Refused before anything is written, so that the disk never fills from deliveries. */
	[OUTCOME_STORAGE_LOW] = { "storage_low", 503 },
};

const char *answer_outcome_name(enum outcome o)
{
	if ((unsigned)o >= OUTCOME__COUNT)
		return "unknown";
	return outcomes[o].name;
}

int answer_status(enum outcome o)
{
	if ((unsigned)o >= OUTCOME__COUNT)
		return 500;
	return outcomes[o].status;
}

const char *answer_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

enum outcome answer_job_outcome(const struct job_facts *f)
{
	const char *st = f->status ? f->status : "";
	/* The platform's own terminal statuses say what happened, images or not. */
	if (strcmp(st, "FAILED") == 0)
		return OUTCOME_FAILED;
	if (strcmp(st, "CANCELLED") == 0)
		return OUTCOME_CANCELLED;
	if (strcmp(st, "TIMED_OUT") == 0)
		return OUTCOME_TIMED_OUT;
	/* Replicate's starting and processing events (payload_senders.c) */
	if (strcmp(st, "PROCESSING") == 0)
		return OUTCOME_RECORDED;
	if (strcmp(st, "COMPLETED") != 0)
		return OUTCOME_UNKNOWN_STATUS;
	if (f->stored == 0 && f->rejected == 0) {
		/* No output media: only an error, a lost generation, or nothing to store. */
		if (f->remote > 0)
			return OUTCOME_RECORDED;
		if (f->output_error)
			return OUTCOME_WORKER_ERROR;
		if (f->output_missing && f->generation_request)
			return OUTCOME_LOST_UPSTREAM;
		return OUTCOME_RECORDED;
	}
	if (f->rejected > 0)
		return f->stored > 0 ? OUTCOME_PARTIAL : OUTCOME_ALL_REJECTED;
	if (f->inputs_rejected > 0)
		return OUTCOME_PARTIAL;
	return OUTCOME_STORED;
}

int answer_error_is_warning(enum outcome o, const struct job_facts *f)
{
	return f->output_error && (o == OUTCOME_STORED || o == OUTCOME_PARTIAL ||
				   o == OUTCOME_ALL_REJECTED ||
				   (o == OUTCOME_RECORDED && f->remote > 0));
}

static int add_string(struct buf *out, const char *key, const char *value)
{
	int rc = buf_printf(out, ",\"%s\":", key);
	if (rc == IH_OK)
		rc = buf_json_string(out, value, strlen(value), 1024);
	return rc;
}

int answer_body(const struct answer_info *info, struct buf *out)
{
	int status = answer_status(info->outcome);
	int ok = status == 200;
	int rc = buf_printf(out, "{\"ok\":%s,\"outcome\":\"%s\"", ok ? "true" : "false",
			    answer_outcome_name(info->outcome));
	if (rc == IH_OK && info->id != NULL)
		rc = add_string(out, "id", info->id);
	if (rc == IH_OK && ok)
		rc = buf_printf(out, ",\"images_stored\":%u,\"inputs_stored\":%u,\"images_rejected\":%u,"
				"\"duplicate\":%s", info->images_stored, info->inputs_stored,
				info->images_rejected,
				info->outcome == OUTCOME_DUPLICATE ? "true" : "false");
	if (rc == IH_OK && info->id_derived)
		rc = buf_puts(out, ",\"id_derived\":true");
	if (rc == IH_OK && info->dir != NULL)
		rc = add_string(out, "dir", info->dir);
	if (rc == IH_OK && info->rejected != NULL)
		rc = add_string(out, "rejected", info->rejected);
	if (rc == IH_OK && info->error != NULL)
		rc = add_string(out, "error", info->error);
	if (rc == IH_OK && info->warnings != NULL)
		rc = add_string(out, "warnings", info->warnings);
	if (rc == IH_OK)
		rc = buf_puts(out, "}\n");
	return rc;
}
