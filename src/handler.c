/* handler.c - one callback: check, read, parse, decode, store, log, answer. */
#include "ih_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "base64.h"
#include "digest.h"
#include "fetch.h"
#include "gallery.h"
#include "handler.h"
#include "health.h"
#include "hook.h"
#include "ih_error.h"
#include "image.h"
#include "payload.h"
#include "s3.h"
#include "signature.h"
#include "stats.h"
#include "signature_fal.h"

/* Everything one request accumulates on its way to the answer and the log line. */
struct job_state {
	struct logline_fields log;
	struct answer_info ans;
	struct buf rejected;      /* "index: why; ..." */
	char kept[160];
	char error[256];
	char warnings[256];       /* the job's error, when it is a warning beside stored media */
	unsigned out_rejected, in_rejected;
	char logged_error[512];   /* error plus what the store said: for the log, not the sender */
	const char *replay_of;    /* req_meta's: the body is already kept in this file */
	/*
	 * The sender's texts as the log line and the answer show them: redacted whole,
	 * before any cap cuts them (a cut first could leave most of a secret behind).
	 */
	char *red_id, *red_status, *red_worker, *red_request_id;
	/* What payload's cap on its error text may have left of a secret at its end. */
	const char *error_tail;
	size_t error_tail_len;
	int fal_signed;           /* X-Fal-Webhook-Signature verified */
	const char *webhook_id;   /* the delivery's idempotency key, recorded */
};

/* payload.c keeps at most this many bytes of a job's error text (it cuts the rest). */
#define PAYLOAD_ERROR_TEXT_CAP 599

/* Opens the configured store: the bucket of IMAGEHOOK_STORE, else the output folder. */
static int open_store(const struct settings *s, struct store **out)
{
	if (s->s3_bucket == NULL)
		return store_open(s->output_dir, out);
	struct s3_config c;
	settings_s3_config(s, &c);
	return store_open_s3(&c, out);
}

int handler_init(struct handler *h, struct settings *s)
{
	memset(h, 0, sizeof *h);
	h->settings = s;
	h->log.fd = -1;
	h->gallery_busy = -1;
	if (gethostname(h->host, sizeof h->host) != 0)
		h->host[0] = '\0';
	h->host[sizeof h->host - 1] = '\0';
	h->store_err = open_store(s, &h->store);
	if (h->store_err == IH_ERR_NOMEM)
		return IH_ERR_NOMEM;
	int rc = logfile_open(&h->log, s->log_path);
	return rc == IH_ERR_NOMEM ? rc : IH_OK;
}

/* Ends the gallery's in-flight mark of the last request, refreshing with job_dir (or NULL). */
static void gallery_step(struct handler *h, const char *job_dir)
{
	int busy = h->gallery_busy;
	h->gallery_busy = -1;
	if (busy >= 0 || (job_dir != NULL && job_dir[0] != '\0'))
		gallery_delivery_done(h->settings, job_dir, busy);
}

void handler_fini(struct handler *h)
{
	gallery_step(h, h->stored_dir);
	hook_job_clear(&h->after);
	store_close(h->store);
	logfile_close(&h->log);
	buf_free(&h->body);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

static void set_error(struct job_state *js, const char *what, int err)
{
	if (what != NULL)
		snprintf(js->error, sizeof js->error, "%s: %s", what, ih_strerror(err));
	else
		snprintf(js->error, sizeof js->error, "%s", ih_strerror(err));
}

/* Reads the body into h->body within the limit. */
static int read_body(struct handler *h, const struct req_meta *m, body_reader_fn read,
		     void *ctx)
{
	uint64_t limit = h->settings->max_body;
	buf_reset(&h->body);
	if (m->content_length > 0 && (uint64_t)m->content_length > limit)
		return IH_ERR_TOO_LARGE;
	size_t want = m->content_length >= 0 ? (size_t)m->content_length : (size_t)limit + 1;
	if (m->content_length >= 0) {
		int rc = buf_reserve(&h->body, want);
		if (rc != IH_OK)
			return rc;
	}
	while (h->body.len < want) {
		size_t chunk = want - h->body.len;
		if (chunk > 1 << 20)
			chunk = 1 << 20;
		int rc = buf_reserve(&h->body, chunk);
		if (rc != IH_OK)
			return rc;
		size_t got = 0;
		rc = read(ctx, h->body.data + h->body.len, chunk, &got);
		if (rc != IH_OK)
			return IH_ERR_CLIENT_GONE;
		if (got == 0)
			break;
		h->body.len += got;
		h->body.data[h->body.len] = '\0';
	}
	if (m->content_length >= 0 && h->body.len < want)
		return IH_ERR_CLIENT_GONE;
	if (h->body.len > limit)
		return IH_ERR_TOO_LARGE;
	return IH_OK;
}

/* Replaces b's text with a copy where every secret is redacted (b's bytes may echo the body). */
static int redact_buf(const struct settings *s, struct buf *b)
{
	size_t n;
	if (b->data == NULL)
		return IH_OK;
	char *red = auth_redact(s, b->data, b->len, &n);
	if (red == NULL)
		return IH_ERR_NOMEM;
	free(b->data);
	b->data = red;
	b->len = n;
	b->cap = n + 1;
	return IH_OK;
}

/* A redacted copy of a sender's text (NULL stays NULL); *ok cleared when memory ran out. */
static char *redacted(const struct settings *s, const char *text, int cut, int *ok)
{
	size_t n;
	if (text == NULL)
		return NULL;
	struct auth_redact_opts o = { cut, NULL, 0 };
	char *red = auth_redact_opts(s, text, strlen(text), &o, &n);
	if (red == NULL)
		*ok = 0;
	return red;
}

/* Keeps a body we could not understand, redacted of the secret, and notes where. */
static int keep_body(struct handler *h, struct job_state *js, time_t now)
{
	if (js->replay_of != NULL) {
		js->log.kept = js->replay_of;
		return IH_OK;
	}
	size_t n;
	char *red = auth_redact(h->settings, h->body.data ? h->body.data : "", h->body.len, &n);
	if (red == NULL)
		return IH_ERR_NOMEM;
	/* Credentials inside the body (an api key, an S3 config) are redacted too. */
	struct buf clean = { 0 };
	int rc = payload_redact_text(red, n, &clean);
	free(red);
	if (rc == IH_OK)
		rc = store_keep_rejected(h->store, now, "body", clean.data, clean.len, js->kept,
					 sizeof js->kept);
	buf_free(&clean);
	if (rc == IH_OK)
		js->log.kept = js->kept;
	return rc;
}

/* A sender's text redacted, for the store: NULL when redaction left it as it was. */
static const char *shown_if_secret(const char *text, const char *red)
{
	return red != NULL && strcmp(red, text) != 0 ? red : NULL;
}

/*
 * The status's stem for record and image names: injective (store_status_name()),
 * from its redacted form red when it holds a secret.
 */
static void status_lower(const char *status, const char *red, char *out, size_t outsz)
{
	store_status_name(status, shown_if_secret(status, red), out, outsz);
}

/* Per-image strings the record borrows until it is rendered. */
struct image_names {
	char file[STORE_NAME_MAX];
	char sha[DIGEST_HEX_LEN];
	char keywords[256];
	char why[128];
};

/* Decodes, validates and durably writes image i; a bad image is kept raw, never dropped. */
static int store_image(struct handler *h, struct store_job *job, struct payload *p, size_t i,
		       const char *prefix, unsigned n, struct payload_stored *st,
		       struct image_names *nm, struct job_state *js)
{
	const struct payload_image *img = payload_image(p, i);
	memset(st, 0, sizeof *st);
	if (img->kind == PAYLOAD_URL) {
		js->log.images_remote++;
		return IH_OK;
	}
	unsigned char *data = malloc(b64_decoded_max(img->len) + 1);
	if (data == NULL)
		return IH_ERR_NOMEM;
	size_t len = 0;
	int rc = b64_decode(img->text, img->len, data, &len);
	const void *bytes = data;
	unsigned char *with_text = NULL;
	struct image_info info;
	memset(&info, 0, sizeof info);
	int bad = rc;
	const char *ext = "b64";
	if (bad != IH_OK) {
		/* Undecodable: keep the text as sent. */
		bytes = img->text;
		len = img->len;
	} else {
		bad = image_check(data, len, &h->settings->image, &info);
		ext = bad == IH_OK ? info.ext : "bin";
	}
	if (bad != IH_OK) {
		snprintf(nm->file, sizeof nm->file, "%s%u.rejected.%s", prefix, n, ext);
		snprintf(nm->why, sizeof nm->why, "%s", ih_strerror(bad));
		st->error = nm->why;
		js->log.images_rejected++;
		(*(img->role == PAYLOAD_INPUT ? &js->in_rejected : &js->out_rejected))++;
		if (js->rejected.len > 0)
			buf_puts(&js->rejected, "; ");
		buf_printf(&js->rejected, "%s: %s", img->where, nm->why);
	} else {
		const char *infotext = payload_infotext(p, img->infotext);
		/* A1111's "PNG Info" reads the parameters chunk: add it only where it is missing. */
		if (h->settings->add_infotext && info.format == IMAGE_PNG && !info.has_parameters &&
		    infotext != NULL) {
			/*
			 * The infotext is sender text like any in job.json (A1111 echoes the
			 * prompt, which may quote our webhook URL): what we add is redacted.
			 */
			size_t tn;
			char *text = auth_redact(h->settings, infotext, strlen(infotext), &tn);
			if (text == NULL) {
				free(data);
				return IH_ERR_NOMEM;
			}
			if (image_png_add_text(data, len, "parameters", text, &with_text, &len) == IH_OK) {
				bytes = with_text;
				st->added_infotext = 1;
			}
			free(text);
		}
		snprintf(nm->file, sizeof nm->file, "%s%u.%s", prefix, n, ext);
		st->format = image_format_name(info.format);
		st->width = info.width;
		st->height = info.height;
		st->duration_ms = info.duration_ms;
		size_t o = 0;
		nm->keywords[0] = '\0';
		for (int k = 0; k < info.n_keywords; k++)
			o += (size_t)snprintf(nm->keywords + o, sizeof nm->keywords - o, "%s%s",
					      k ? "," : "", info.keywords[k]);
		if (st->added_infotext && o + 12 < sizeof nm->keywords)
			snprintf(nm->keywords + o, sizeof nm->keywords - o, "%sparameters",
				 o ? "," : "");
		if (nm->keywords[0] != '\0')
			st->keywords = nm->keywords;
		/* images_stored counts what the job made; its input media are counted apart. */
		if (img->role == PAYLOAD_INPUT)
			js->log.inputs_stored++;
		else
			js->log.images_stored++;
	}
	st->file = nm->file;
	st->bytes = len;
	digest_sha256_hex(bytes, len, nm->sha);
	st->sha256 = nm->sha;
	rc = store_job_write(job, nm->file, bytes, len);
	free(with_text);
	free(data);
	if (rc == IH_OK)
		payload_release_image(p, i);
	return rc;
}

/*
 * Replicate's progress events (start, output, logs) refresh job.json and one
 * record until the job has a final record; after it they are duplicates.
 */
static int final_stored(struct store_job *job)
{
	static const char *const final[] = { "delivery-completed.json", "delivery-failed.json",
					     "delivery-cancelled.json" };
	for (size_t i = 0; i < sizeof final / sizeof final[0]; i++) {
		int rc = store_job_exists(job, final[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Stores a parsed callback under its job folder; sets the outcome. */
static int store_job(struct handler *h, struct payload *p, struct job_state *js,
		     struct store_job **jobp)
{
	char record[STORE_NAME_MAX + 16], status[STORE_NAME_MAX];
	/* An id holding a secret names its folder by its redacted form and its hash. */
	int rc = store_job_begin(h->store, payload_id(p), shown_if_secret(payload_id(p), js->red_id),
				 js->log.when.tv_sec, jobp);
	if (rc != IH_OK)
		return rc;
	struct store_job *job = *jobp;
	js->ans.dir = js->log.dir = store_job_dir(job);
	status_lower(payload_status(p), js->red_status, status, sizeof status);
	snprintf(record, sizeof record, "delivery-%s.json", status);
	rc = store_job_exists(job, record);
	if (rc >= 0 && strcmp(payload_status(p), "PROCESSING") == 0)
		rc = final_stored(job);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		/* Stored before: a retry or a concurrent duplicate. Nothing new is written. */
		char *text;
		size_t len;
		js->ans.outcome = OUTCOME_DUPLICATE;
		if (store_job_read(job, record, &text, &len) == IH_OK) {
			struct payload_counts c;
			if (payload_record_counts(text, len, &c) == IH_OK) {
				js->log.images_stored = c.stored;
				js->log.inputs_stored = c.inputs_stored;
				js->log.images_rejected = c.rejected;
			}
			free(text);
		}
		return IH_OK;
	}

	size_t count = payload_image_count(p);
	struct payload_stored *stored = calloc(count ? count : 1, sizeof *stored);
	struct image_names *names = calloc(count ? count : 1, sizeof *names);
	struct buf rec = { 0 };
	if (stored == NULL || names == NULL) {
		rc = IH_ERR_NOMEM;
		goto out;
	}
	/* Output images are 0.png, 1.png...; input images input-0.png...; other statuses prefix theirs. */
	char out_prefix[STORE_NAME_MAX + 2], in_prefix[48];
	if (strcmp(payload_status(p), "COMPLETED") == 0)
		out_prefix[0] = '\0';
	else
		snprintf(out_prefix, sizeof out_prefix, "%s-", status);
	snprintf(in_prefix, sizeof in_prefix, "input-");
	unsigned n_out = 0, n_in = 0;
	for (size_t i = 0; i < count; i++) {
		const struct payload_image *img = payload_image(p, i);
		int input = img->role == PAYLOAD_INPUT;
		if (img->same_as >= 0) {
			/* Identical to an earlier image: the record points at that file. */
			stored[i] = stored[img->same_as];
			continue;
		}
		rc = store_image(h, job, p, i, input ? in_prefix : out_prefix,
				 input ? n_in++ : n_out++, &stored[i], &names[i], js);
		if (rc != IH_OK)
			goto out;
	}
	unsigned out_remote = 0;
	for (size_t i = 0; i < count; i++) {
		const struct payload_image *img = payload_image(p, i);
		out_remote += img->kind == PAYLOAD_URL && img->role == PAYLOAD_OUTPUT && img->same_as < 0;
	}
	struct job_facts facts = {
		.status = payload_status(p),
		.output_missing = payload_output_missing(p),
		.generation_request = payload_generation_request(p),
		/* A worker's error beside a COMPLETED result: a warning with media, else a failure. */
		.output_error = payload_output_error(p) || payload_error_text(p) != NULL,
		.stored = js->log.images_stored,
		.rejected = js->out_rejected,
		.remote = out_remote,
		.inputs_rejected = js->in_rejected,
	};
	js->ans.outcome = answer_job_outcome(&facts);
	int warning = answer_error_is_warning(js->ans.outcome, &facts) && payload_error_text(p) != NULL;
	if (warning) {
		snprintf(js->warnings, sizeof js->warnings, "%s", payload_error_text(p));
		js->error[0] = '\0';
	}
	if (js->ans.outcome != OUTCOME_LOST_UPSTREAM && payload_output_missing(p) &&
	    strncmp(js->error, "COMPLETED without output", 24) == 0)
		js->error[0] = '\0';   /* a helper call: nothing was lost */

	char received[40];
	logline_time(&js->log.when, received, sizeof received);
	const char *hook = payload_webhook(p);
	size_t hook_len = 0;
	char *hook_red = hook ? auth_redact(h->settings, hook, strlen(hook), &hook_len) : NULL;
	struct payload_record_meta meta = {
		.received = received,
		.remote = js->log.remote,
		.outcome = answer_outcome_name(js->ans.outcome),
		.webhook_redacted = hook_red,
		.webhook_id = js->webhook_id,
		.bytes = h->body.len,
		/* No checksum of the whole body: 20% of the CPU of a 40 MB callback. */
		.body_sha256 = NULL,
		.images_stored = js->log.images_stored,
		.inputs_stored = js->log.inputs_stored,
		.images_rejected = js->log.images_rejected,
		.warnings = warning,
		.lost_upstream = js->ans.outcome == OUTCOME_LOST_UPSTREAM,
	};
	if (hook != NULL && hook_red == NULL)
		rc = IH_ERR_NOMEM;
	if (rc == IH_OK)
		rc = payload_render_record(p, stored, &meta, &rec);
	/*
	 * The secret can be echoed anywhere (a prompt, an error's URL), not only in
	 * webhook; and what payload's cap left of one at the end of the error text is
	 * written there too.
	 */
	if (rc == IH_OK && rec.data != NULL) {
		size_t n;
		struct auth_redact_opts o = { 0, js->error_tail, js->error_tail_len };
		char *red = auth_redact_opts(h->settings, rec.data, rec.len, &o, &n);
		if (red == NULL) {
			rc = IH_ERR_NOMEM;
		} else {
			free(rec.data);
			rec.data = red;
			rec.len = n;
			rec.cap = n + 1;
		}
	}
	free(hook_red);
	/*
	 * Images, then job.json, then the commit: every file durable, then visible, and
	 * the history record last, as a second name of job.json's file. The record is
	 * the commit point a retry checks; a new job's folder appears whole at once.
	 */
	/* Result links become pending fetches in the same commit (fetch.c). */
	if (rc == IH_OK)
		rc = fetch_queue_job(h->settings, job, p, js->log.when.tv_sec, &rec, h->fetch_dir,
				     sizeof h->fetch_dir);
	if (rc == IH_OK)
		rc = store_job_write(job, "job.json", rec.data, rec.len);
	if (rc == IH_OK)
		rc = store_job_commit(job, record, "job.json");
	if (rc == STORE_LOST) {
		/* A receiver on another host stored this very delivery first. */
		js->ans.outcome = OUTCOME_DUPLICATE;
		rc = IH_OK;
	}
out:
	buf_free(&rec);
	free(stored);
	free(names);
	return rc;
}

/* Parses and stores the body; returns the outcome. */
static enum outcome process(struct handler *h, struct job_state *js, struct payload **pp,
			    struct store_job **jobp)
{
	const char *why = NULL;
	struct payload_limits lim = { h->settings->max_depth, h->settings->max_images,
				      h->settings->max_string, h->settings->max_decoded };
	int rc = payload_parse(h->body.data ? h->body.data : "", h->body.len, &lim, pp, &why);
	if (rc == IH_ERR_NOMEM) {
		set_error(js, NULL, rc);
		return OUTCOME_STORAGE_ERROR;
	}
	if (rc != IH_OK) {
		if (why != NULL)
			snprintf(js->error, sizeof js->error, "%s: %s", ih_strerror(rc), why);
		else
			set_error(js, NULL, rc);
		int krc = keep_body(h, js, js->log.when.tv_sec);
		if (krc != IH_OK) {
			/* Cannot keep it: ask for the delivery again rather than lose it. */
			set_error(js, "keeping the rejected body", krc);
			return OUTCOME_STORAGE_ERROR;
		}
		return OUTCOME_BAD_REQUEST;
	}
	struct payload *p = *pp;
	/* With fal.ai's keys configured, a fal-shaped body must carry fal's signature. */
	if (h->settings->n_fal_keys > 0 && !js->fal_signed && js->replay_of == NULL &&
	    strcmp(payload_sender(p), "fal") == 0) {
		snprintf(js->error, sizeof js->error, "signature: fal.ai delivery without X-Fal-Webhook-Signature");
		return OUTCOME_UNAUTHORIZED;
	}
	int ok = 1;
	js->red_id = redacted(h->settings, payload_id(p), 0, &ok);
	js->red_status = redacted(h->settings, payload_status(p), 0, &ok);
	js->red_worker = redacted(h->settings, payload_worker_id(p), 0, &ok);
	js->ans.id = js->log.id = js->red_id;
	js->ans.id_derived = js->log.id_derived = payload_id_derived(p);
	js->log.status = js->red_status;
	js->log.worker_id = js->red_worker;
	js->log.has_delay = payload_delay_ms(p, &js->log.delay_ms);
	js->log.has_exec = payload_exec_ms(p, &js->log.exec_ms);
	const char *et = payload_error_text(p);
	if (et != NULL) {
		/* Redacted whole before the 255-byte cut; and where payload's own cap cut it, its end too. */
		size_t etl = strlen(et);
		int cut = etl >= PAYLOAD_ERROR_TEXT_CAP;
		char *red = redacted(h->settings, et, cut, &ok);
		if (cut) {
			js->error_tail_len = auth_secret_tail(h->settings, et, etl);
			js->error_tail = et + etl - js->error_tail_len;
		}
		snprintf(js->error, sizeof js->error, "%s", red ? red : "");
		free(red);
	} else if (payload_output_missing(p))
		snprintf(js->error, sizeof js->error, "COMPLETED without output: result lost upstream");
	if (!ok) {
		set_error(js, NULL, IH_ERR_NOMEM);
		return OUTCOME_STORAGE_ERROR;
	}
	/* In flight for the gallery from before the job can be stored (gallery.c): a lock, no waiting. */
	if (h->settings->s3_bucket == NULL && h->gallery_busy < 0)
		h->gallery_busy = gallery_busy_begin(h->settings);
	rc = store_job(h, p, js, jobp);
	if (rc == IH_ERR_BAD_ID) {
		/* A digest name whose folder records another id: never merged into it. */
		snprintf(js->error, sizeof js->error,
			 "storing the job: its folder records another id (a digest collision); not reused");
		return OUTCOME_STORAGE_ERROR;
	}
	if (rc != IH_OK) {
		set_error(js, "storing the job", rc);
		/* The bucket's address and answer are the operator's business, not the sender's. */
		if (store_error(h->store)[0] != '\0')
			snprintf(js->logged_error, sizeof js->logged_error, "%s (%s)", js->error,
				 store_error(h->store));
		return OUTCOME_STORAGE_ERROR;
	}
	/* Derived pages come after the answer (handler_after_answer()): never part of its cost. */
	/* The gallery reads job folders: it works on the local store only (docs/storage.md). */
	if (js->ans.outcome != OUTCOME_DUPLICATE && h->settings->s3_bucket == NULL)
		snprintf(h->stored_dir, sizeof h->stored_dir, "%s", store_job_dir(*jobp));
	return js->ans.outcome;
}

/* Remembers a job stored by this delivery for IMAGEHOOK_ON_STORED; 0 when there is one. */
static int remember_for_hook(struct handler *h, const struct job_state *js, const struct payload *p,
			     enum outcome oc)
{
	hook_job_clear(&h->after);
	if (answer_status(oc) != 200 || oc == OUTCOME_DUPLICATE || js->ans.dir == NULL || p == NULL)
		return -1;
	snprintf(h->after.dir, sizeof h->after.dir, "%s", js->ans.dir);
	snprintf(h->after.outcome, sizeof h->after.outcome, "%s", answer_outcome_name(oc));
	h->after.id = strdup(payload_id(p));
	h->after.id_redacted = strdup(js->red_id ? js->red_id : "");
	if (h->after.id == NULL || h->after.id_redacted == NULL) {
		hook_job_clear(&h->after);
		return -1;
	}
	return 0;
}


/*
 * May this request see what only the operator should (health details, metrics)?
 * Never while the configuration has problems: a deliveries' token that is
 * refused as invalid (too short, a space) must not unlock these either.
 */
static int operator_may_see(const struct settings *s, const struct req_meta *m)
{
	if (s->problems != NULL)
		return 0;
	if (s->n_tokens == 0)
		return s->allow_open && s->n_signing == 0;
	return auth_check(s, m->query, m->path_info) == AUTH_OK;
}

/*
 * The GET/HEAD faces: the health check (no secret; details only with it) and the
 * metrics (with the secret). Neither reads a body or writes a log line: a monitor
 * asking every few seconds would drown the deliveries in the log and in the stats.
 */
static void handle_face(struct handler *h, const struct req_meta *m, enum health_route route,
			struct reply *r)
{
	const struct settings *s = h->settings;
	memset(r->error, 0, sizeof r->error);
	r->allow_post = 0;
	r->allow = NULL;
	r->retry_after = 0;
	r->content_type = NULL;
	r->outcome = OUTCOME_RECORDED;
	buf_reset(&r->body);
	int rc = IH_OK;
	if (m->method == NULL || (strcmp(m->method, "GET") != 0 && strcmp(m->method, "HEAD") != 0)) {
		r->status = 405;
		r->outcome = OUTCOME_METHOD;
		r->allow = "GET, HEAD";
		rc = buf_puts(&r->body, "{\"ok\":false,\"outcome\":\"method_not_allowed\"}\n");
	} else if (route == HEALTH_ROUTE_HEALTH) {
		struct health_report hr;
		health_check(s, h->log.fd >= 0, &hr);
		r->status = hr.ok ? 200 : 503;
		if (!hr.ok)
			r->retry_after = ANSWER_RETRY_AFTER;
		rc = health_body(&hr, operator_may_see(s, m), &r->body);
	} else if (s->problems != NULL) {
		/* As a delivery is answered: the log (and `imagehook check`) say why. */
		r->status = answer_status(OUTCOME_MISCONFIGURED);
		r->outcome = OUTCOME_MISCONFIGURED;
		r->retry_after = ANSWER_RETRY_AFTER;
		rc = buf_puts(&r->body, "{\"ok\":false,\"outcome\":\"misconfigured\"}\n");
	} else if (!operator_may_see(s, m)) {
		r->status = 401;
		r->outcome = OUTCOME_UNAUTHORIZED;
		rc = buf_puts(&r->body, "{\"ok\":false,\"outcome\":\"unauthorized\"}\n");
	} else {
		/* OpenMetrics when asked for (Prometheus asks so first), else the text format. */
		int om = m->accept != NULL && strstr(m->accept, "application/openmetrics-text") != NULL;
		r->status = 200;
		r->content_type = om ? STATS_OPENMETRICS_TYPE : STATS_PROMETHEUS_TYPE;
		rc = stats_metrics_of_log(s, om, &r->body);
		if (rc != IH_OK) {
			r->status = 503;
			r->content_type = NULL;
			buf_reset(&r->body);
			rc = buf_printf(&r->body, "{\"ok\":false,\"error\":\"%s\"}\n", ih_strerror(rc));
		}
	}
	if (rc != IH_OK) {
		buf_reset(&r->body);
		buf_puts(&r->body, "{\"ok\":false}\n");
	}
}

/* The outcome of a signature check that failed (rc): out of memory, or refused saying why. */
static enum outcome signature_refused(struct job_state *js, int rc, const char *why)
{
	if (rc == IH_ERR_NOMEM) {
		set_error(js, NULL, rc);
		return OUTCOME_STORAGE_ERROR;
	}
	snprintf(js->error, sizeof js->error, "signature: %s", why);
	return OUTCOME_UNAUTHORIZED;
}

void handler_handle(struct handler *h, const struct req_meta *m, body_reader_fn read,
		    void *read_ctx, struct reply *r)
{
	struct timespec t0;
	struct job_state js;
	struct payload *p = NULL;
	struct store_job *job = NULL;
	enum outcome oc;

	memset(&js, 0, sizeof js);
	/* A caller that skipped handler_after_answer(): the mark must not outlive its request. */
	gallery_step(h, h->stored_dir);
	h->stored_dir[0] = '\0';
	h->fetch_dir[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_REALTIME, &js.log.when);
	js.log.remote = m->remote_addr;
	js.log.host = h->host[0] ? h->host : NULL;
	js.replay_of = m->replay_of;
	r->allow = NULL;
	r->content_type = NULL;
	/* A rotated secret is in force for this very request: one stat per secret file. */
	settings_refresh_secrets(h->settings, stderr);
	enum health_route route = m->replay_of != NULL ? HEALTH_ROUTE_DELIVERY : health_route(m->path_info);
	if (route != HEALTH_ROUTE_DELIVERY) {
		handle_face(h, m, route, r);
		return;
	}
	{
		/* The id that follows one delivery across sender, server and imagehook. */
		int ok = 1;
		js.red_request_id = redacted(h->settings, m->webhook_id ? m->webhook_id : m->x_request_id,
					     0, &ok);
		js.log.request_id = js.red_request_id;
	}

	if (m->method == NULL || strcmp(m->method, "POST") != 0) {
		oc = OUTCOME_METHOD;
		snprintf(js.error, sizeof js.error, "method %.20s", m->method ? m->method : "(none)");
		goto answer;
	}
	if (h->settings->problems != NULL) {
		oc = OUTCOME_MISCONFIGURED;
		snprintf(js.error, sizeof js.error, "configuration: %s", h->settings->problems);
		goto answer;
	}
	/* A replay is the operator's own command: it carries neither token nor signature. */
	enum auth_result ar = m->replay_of != NULL ? AUTH_OK :
			      auth_check(h->settings, m->query, m->path_info);
	if (ar == AUTH_DENIED) {
		oc = OUTCOME_UNAUTHORIZED;
		set_error(&js, NULL, IH_ERR_UNAUTHORIZED);
		goto answer;
	}
	if (ar == AUTH_UNCONFIGURED) {
		oc = OUTCOME_MISCONFIGURED;
		set_error(&js, NULL, IH_ERR_NO_TOKEN);
		goto answer;
	}
	if (h->store == NULL) {
		/* The operator may have fixed the folder since: try again. */
		h->store_err = open_store(h->settings, &h->store);
		if (h->store == NULL) {
			oc = OUTCOME_STORAGE_ERROR;
			set_error(&js, "opening the output folder", h->store_err);
			goto answer;
		}
	}
	/*
	 * The free-space guard, before anything is read or written: a delivery that
	 * would leave less than IMAGEHOOK_MIN_FREE is asked for again later, so the
	 * platform retries instead of the disk filling up.
	 */
	if (m->replay_of == NULL && h->settings->s3_bucket == NULL) {
		uint64_t freeb, total;
		if (health_space(h->settings->output_dir, &freeb, &total) == 0) {
			uint64_t want = health_min_free(h->settings, total);
			uint64_t body = m->content_length > 0 ? (uint64_t)m->content_length : 0;
			if (want > 0 && (freeb < want || freeb - want < body)) {
				oc = OUTCOME_STORAGE_LOW;
				if (m->content_length > 0)
					js.log.bytes = (uint64_t)m->content_length;
				snprintf(js.error, sizeof js.error, "storage low: %llu bytes free, "
					 "IMAGEHOOK_MIN_FREE keeps %llu, the body is %llu",
					 (unsigned long long)freeb, (unsigned long long)want,
					 (unsigned long long)body);
				goto answer;
			}
		}
	}
	int rc = read_body(h, m, read, read_ctx);
	js.log.bytes = h->body.len;
	if (m->content_length > 0 && rc == IH_ERR_TOO_LARGE)
		js.log.bytes = (uint64_t)m->content_length;
	if (rc != IH_OK) {
		oc = rc == IH_ERR_TOO_LARGE ? OUTCOME_TOO_LARGE :
		     rc == IH_ERR_CLIENT_GONE ? OUTCOME_CLIENT_GONE : OUTCOME_STORAGE_ERROR;
		set_error(&js, NULL, rc);
		goto answer;
	}
	/*
	 * With signing secrets configured the signature is required as well as any
	 * token: it covers the body and the time, which a token in a URL cannot.
	 * Nothing has been stored or kept yet, so a 401 leaves no trace but the log.
	 */
	const struct settings *s = h->settings;
	js.webhook_id = m->webhook_id;
	if (m->replay_of == NULL && s->n_fal_keys > 0 &&
	    (m->fal_signature != NULL || (s->n_signing == 0 && s->n_tokens == 0 && !s->allow_open))) {
		/* fal.ai signs with its own scheme; its keys alone may authenticate. */
		const char *why = NULL;
		struct signature_fal_headers fh = { m->fal_request_id, m->fal_user_id, m->fal_timestamp,
						    m->fal_signature, s->signature_tolerance };
		rc = signature_fal_verify((const unsigned char (*)[32])s->fal_keys, s->n_fal_keys, &fh,
					  h->body.data ? h->body.data : "", h->body.len,
					  js.log.when.tv_sec, &why);
		if (rc != IH_OK) {
			oc = signature_refused(&js, rc, why);
			goto answer;
		}
		js.fal_signed = 1;
	} else if (m->replay_of == NULL && h->settings->n_signing > 0) {
		const char *why = NULL;
		struct signature_headers sh = { m->webhook_id, m->webhook_timestamp,
						m->webhook_signature, s->signature_tolerance };
		rc = signature_verify(h->settings->signing, h->settings->n_signing, &sh,
				      h->body.data ? h->body.data : "", h->body.len,
				      js.log.when.tv_sec, &why);
		if (rc != IH_OK) {
			oc = signature_refused(&js, rc, why);
			goto answer;
		}
	}
	oc = process(h, &js, &p, &job);

answer:
	js.ans.outcome = oc;
	js.ans.images_stored = js.log.images_stored;
	js.ans.inputs_stored = js.log.inputs_stored;
	if (js.warnings[0] != '\0')
		js.ans.warnings = js.log.warnings = js.warnings;
	js.ans.images_rejected = js.log.images_rejected;
	js.ans.rejected = js.rejected.len ? js.rejected.data : NULL;
	js.log.outcome = oc;
	js.log.http = answer_status(oc);
	js.log.ms = elapsed_ms(&t0);
	if (js.logged_error[0] != '\0')
		js.log.error = js.logged_error;
	else if (js.error[0] != '\0')
		js.log.error = js.error;
	else if (js.rejected.len > 0)
		js.log.error = js.rejected.data;  /* which images a limit or check refused, and why */

	struct buf line = { 0 };
	int lrc = logline_format(&js.log, &line);
	if (lrc == IH_OK)
		lrc = redact_buf(h->settings, &line);
	if (lrc == IH_OK)
		lrc = logfile_write(&h->log, line.data, line.len);
	if (lrc != IH_OK) {
		/* 200 promises the log line is on disk too; without it, ask for a retry. */
		if (js.log.http == 200) {
			oc = js.ans.outcome = OUTCOME_STORAGE_ERROR;
			snprintf(js.error, sizeof js.error, "writing the log: %s", ih_strerror(lrc));
		}
		/* The web server's error log still gets the line. */
		fprintf(stderr, "imagehook: log %s: %s; line: %s", h->log.path ? h->log.path : "",
			ih_strerror(lrc), line.data ? line.data : "\n");
	}
	buf_free(&line);
	/* The sender may be anyone: configuration details stay in the log. */
	if (oc == OUTCOME_MISCONFIGURED)
		js.ans.error = "imagehook is misconfigured; its log says why";
	else if (js.error[0] != '\0')
		js.ans.error = js.error;

	r->status = answer_status(oc);
	r->outcome = oc;
	snprintf(r->error, sizeof r->error, "%s", js.error);
	r->allow_post = oc == OUTCOME_METHOD;
	r->retry_after = r->status == 503 ? ANSWER_RETRY_AFTER : 0;
	buf_reset(&r->body);
	if (answer_body(&js.ans, &r->body) != IH_OK || redact_buf(h->settings, &r->body) != IH_OK) {
		buf_reset(&r->body);
		buf_puts(&r->body, "{\"ok\":false}\n");
	}
	/* What handler_after_answer() runs once the answer is out: only for a job stored now. */
	if (h->settings->on_stored != NULL && remember_for_hook(h, &js, p, oc) == 0)
		h->after.pending = 1;
	/* The lock is held until the log line is written, so duplicates log in order. */
	store_job_end(job);
	payload_free(p);
	buf_free(&js.rejected);
	free(js.red_id);
	free(js.red_status);
	free(js.red_worker);
	free(js.red_request_id);
	/* Do not keep a huge buffer in a long-lived process. */
	if (h->body.cap > (8u << 20))
		buf_free(&h->body);
}

void handler_after_answer(struct handler *h)
{
	/* First, so that a slow link keeps no other delivery's card off its page. */
	gallery_step(h, h->stored_dir);
	h->stored_dir[0] = '\0';
	/* Replicate's links live an hour: with IMAGEHOOK_FETCH_AFTER_ANSWER, fetch them now. */
	if (h->fetch_dir[0] != '\0' && h->settings->fetch_after_answer)
		fetch_after_answer(h->settings, h->fetch_dir);
	h->fetch_dir[0] = '\0';
	hook_reap(&h->hooks);
	if (!h->after.pending)
		return;
	if (hook_run(h->settings, &h->hooks, &h->after) != IH_OK)
		fprintf(stderr, "imagehook: IMAGEHOOK_ON_STORED: cannot start %s\n", h->settings->on_stored);
}
