/* replay.c - re-run kept bodies (or any saved callback) through handler_handle(). */
#include "ih_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "ih_error.h"
#include "replay.h"

/* The body reader for a file: read(2), retried on EINTR. */
static int read_file(void *ctx, void *p, size_t n, size_t *got)
{
	int fd = *(int *)ctx;
	ssize_t r;
	do {
		r = read(fd, p, n);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		*got = 0;
		return ih_err_from_errno(errno);
	}
	*got = (size_t)r;
	return IH_OK;
}

/* Runs one file; returns IH_OK with *r filled, or an ih_err when it cannot be opened. */
static int run_one(struct handler *h, const char *path, struct reply *r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ih_err_from_errno(errno);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int rc = ih_err_from_errno(errno);
		close(fd);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return IH_ERR_IO;
	}
	/* A regular file's size is its Content-Length; anything else is read to its end. */
	struct req_meta m = {
		.method = "POST",
		.remote_addr = "replay",
		.content_length = S_ISREG(st.st_mode) ? (long long)st.st_size : -1,
		.replay_of = path,
	};
	handler_handle(h, &m, read_file, &fd, r);
	close(fd);
	handler_after_answer(h);
	return IH_OK;
}

void replay_run(struct handler *h, char *const *paths, int n, FILE *progress, FILE *errors,
		struct replay_summary *sum)
{
	struct reply r;
	memset(sum, 0, sizeof *sum);
	memset(&r, 0, sizeof r);
	for (int i = 0; i < n; i++) {
		int rc = run_one(h, paths[i], &r);
		sum->total++;
		if (rc != IH_OK) {
			sum->failed++;
			sum->unreadable++;
			if (progress != NULL)
				fprintf(progress, "[%d/%d] %s: cannot be read: %s\n", i + 1, n, paths[i],
					ih_strerror(rc));
			else if (errors != NULL)
				fprintf(errors, "imagehook: replay %s: cannot be read: %s\n", paths[i],
					ih_strerror(rc));
			continue;
		}
		sum->outcomes[r.outcome]++;
		if (r.status == 200)
			sum->ok++;
		else
			sum->failed++;
		/* The error may quote the body, and so a secret: redacted like the log line. */
		size_t elen;
		char *err = auth_redact(h->settings, r.error, strlen(r.error), &elen);
		const char *why = err != NULL ? err : "";
		if (progress != NULL)
			fprintf(progress, "[%d/%d] %s: %s%s%s\n", i + 1, n, paths[i],
				answer_outcome_name(r.outcome), why[0] ? ": " : "", why);
		else if (errors != NULL && r.status != 200)
			fprintf(errors, "imagehook: replay %s: %s (%d): %s\n", paths[i],
				answer_outcome_name(r.outcome), r.status, why);
		free(err);
		/* Do not keep a 40 MB answer buffer around (answers are small anyway). */
		if (r.body.cap > 65536)
			buf_free(&r.body);
	}
	buf_free(&r.body);
}

/* Appends " (name count, name count)" for the outcomes whose status is (or is not) 200. */
static int outcome_list(const struct replay_summary *sum, int want_ok, struct buf *out)
{
	int first = 1, rc = IH_OK;
	for (int o = 0; o < OUTCOME__COUNT && rc == IH_OK; o++) {
		if (sum->outcomes[o] == 0 || (answer_status((enum outcome)o) == 200) != want_ok)
			continue;
		rc = buf_printf(out, "%s%s %u", first ? " (" : ", ",
				answer_outcome_name((enum outcome)o), sum->outcomes[o]);
		first = 0;
	}
	if (rc == IH_OK && !want_ok && sum->unreadable > 0) {
		rc = buf_printf(out, "%sunreadable %u", first ? " (" : ", ", sum->unreadable);
		first = 0;
	}
	if (rc == IH_OK && !first)
		rc = buf_puts(out, ")");
	return rc;
}

int replay_summary_line(const struct replay_summary *sum, struct buf *out)
{
	int rc = buf_printf(out, "replay: %u %s, %u ok", sum->total,
			    sum->total == 1 ? "body" : "bodies", sum->ok);
	if (rc == IH_OK)
		rc = outcome_list(sum, 1, out);
	if (rc == IH_OK)
		rc = buf_printf(out, ", %u failed", sum->failed);
	if (rc == IH_OK)
		rc = outcome_list(sum, 0, out);
	if (rc == IH_OK)
		rc = buf_puts(out, "\n");
	return rc;
}

int replay_exit_code(const struct replay_summary *sum)
{
	return sum->failed > 0 ? 1 : 0;
}
