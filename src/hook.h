/* hook.h - IMAGEHOOK_ON_STORED: a program run after a stored job's answer was sent. */
#ifndef IH_HOOK_H
#define IH_HOOK_H

#include <sys/types.h>

#include "settings.h"

#define HOOK_MAX_RUNNING 64

/* The job a hook is to run for, remembered between the answer and handler_after_answer(). */
struct hook_job {
	int pending;
	char dir[512];            /* job folder relative to the output root */
	char *id;                 /* the job's id as sent (malloc'd) */
	char *id_redacted;        /* as the log line shows it (malloc'd) */
	char outcome[32];
};

/* The hooks a serving process has started and not yet reaped. */
struct hook_runner {
	pid_t pid[HOOK_MAX_RUNNING];
	int n;
};

/* Frees what j holds and clears it; a no-op on a cleared one. */
void hook_job_clear(struct hook_job *j);

/*
 * Runs s->on_stored for job j, never through a shell: the program's argv is
 * {program, absolute job folder, id, outcome}, its environment IMAGEHOOK_JOB_DIR,
 * IMAGEHOOK_JOB_ID, IMAGEHOOK_OUTCOME, IMAGEHOOK_OUTPUT_DIR and a fixed PATH. A
 * supervising child of this process waits for it at most s->on_stored_timeout
 * seconds (then kills its process group) and appends one log line with the exit
 * status, so the serving process never waits for the program; at most
 * s->on_stored_max run at once per process (a new one first waits for a slot,
 * which the timeout bounds). Returns IH_OK or an ih_err (fork failed). Clears j.
 */
int hook_run(const struct settings *s, struct hook_runner *hr, struct hook_job *j);

/* Reaps the supervisors that ended, without waiting. */
void hook_reap(struct hook_runner *hr);

/*
 * Formats the hook's log line for job dir/id (id already redacted): exit status
 * (or -1), signal (or 0), whether it timed out, ms. Pure. Returns IH_OK or IH_ERR_NOMEM.
 */
struct buf;
int hook_log_line(const char *dir, const char *id, const char *outcome, const char *program,
		  int exit_status, int signal, int timed_out, long ms, struct buf *out);

#endif
