/* logline.h - the one JSON line per request, and the append-only log file it goes to. */
#ifndef IH_LOGLINE_H
#define IH_LOGLINE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "answer.h"
#include "buf.h"

/* Everything a log line says; strings are borrowed and may be NULL. */
struct logline_fields {
	struct timespec when;     /* receive time */
	const char *id;
	const char *request_id;   /* webhook-id, else the server's X-Request-Id; may be NULL */
	const char *status;
	enum outcome outcome;
	int http;
	unsigned images_stored;
	unsigned images_rejected;
	unsigned images_remote;   /* URLs recorded, not fetched */
	unsigned inputs_stored;   /* input media stored (images_stored counts output media) */
	int id_derived;           /* id derived from the body (local-<sha256>) */
	const char *warnings;     /* non-fatal errors beside stored media */
	uint64_t bytes;           /* body bytes received */
	int has_delay, has_exec;
	int64_t delay_ms, exec_ms;
	const char *worker_id;
	const char *dir;          /* job folder, relative to the output root */
	const char *kept;         /* where a rejected body or image was kept */
	long ms;                  /* processing time */
	const char *remote;
	const char *host;         /* this receiver's host name: logs of several hosts read together */
	const char *error;
};

/* Maximum bytes of any one untrusted value copied into a line. */
#define LOGLINE_MAX_VALUE 512

/*
 * Appends one JSON object and "\n" for *f to out: UTC ISO 8601 time, values escaped
 * (control bytes, invalid UTF-8) and capped at LOGLINE_MAX_VALUE bytes. Pure.
 * Returns IH_OK or IH_ERR_NOMEM.
 */
int logline_format(const struct logline_fields *f, struct buf *out);

/*
 * Writes ts as the log's time, ISO 8601 UTC with milliseconds
 * ("2026-11-27T14:03:07.123Z"), into out (at least 32 bytes). Pure.
 */
void logline_time(const struct timespec *ts, char *out, size_t outsz);

/* An O_APPEND log file that notices when it was rotated away. */
struct logfile {
	char *path;
	int fd;                   /* -1 when closed */
	dev_t dev;
	ino_t ino;
};

/*
 * Opens (creating, mode 0640) path for appending, never through a symlink (ELOOP:
 * IH_ERR_LOG, with a line on stderr saying so). Returns IH_OK or an ih_err; the
 * caller calls logfile_close.
 */
int logfile_open(struct logfile *lf, const char *path);

/*
 * Writes line[0..len) with a single write(2) and fdatasync()s it; first reopens
 * the path when the file was renamed or removed (logrotate) since it was opened.
 * A line is whole or absent: under an exclusive lock on the file, a short or
 * failed write is cut off again (ftruncate to where it began), and a line that an
 * earlier crash left unfinished is ended before this one. Returns IH_OK or an
 * ih_err (storage errors mapped from errno).
 */
int logfile_write(struct logfile *lf, const char *line, size_t len);

/* Closes the file and frees the path; a no-op on a closed logfile. */
void logfile_close(struct logfile *lf);

#endif
