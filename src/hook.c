/* hook.c - run IMAGEHOOK_ON_STORED after the answer: no shell, bounded time and number, logged. */
#include "ih_config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hook.h"
#include "ih_error.h"
#include "logline.h"

void hook_job_clear(struct hook_job *j)
{
	free(j->id);
	free(j->id_redacted);
	memset(j, 0, sizeof *j);
}

void hook_reap(struct hook_runner *hr)
{
	for (int i = 0; i < hr->n;) {
		pid_t r = waitpid(hr->pid[i], NULL, WNOHANG);
		if (r == hr->pid[i] || (r < 0 && errno == ECHILD)) {
			hr->pid[i] = hr->pid[--hr->n];
			continue;
		}
		i++;
	}
}

int hook_log_line(const char *dir, const char *id, const char *outcome, const char *program,
		  int exit_status, int sig, int timed_out, long ms, struct buf *out)
{
	struct timespec now;
	char when[40];
	clock_gettime(CLOCK_REALTIME, &now);
	logline_time(&now, when, sizeof when);
	/* "event" right after "time": imagehook stats counts such lines as events, not deliveries. */
	int rc = buf_printf(out, "{\"time\":\"%s\",\"event\":\"on_stored\",\"id\":", when);
	if (rc == IH_OK)
		rc = buf_json_string(out, id ? id : "", id ? strlen(id) : 0, LOGLINE_MAX_VALUE);
	if (rc == IH_OK)
		rc = buf_puts(out, ",\"dir\":");
	if (rc == IH_OK)
		rc = buf_json_string(out, dir, strlen(dir), LOGLINE_MAX_VALUE);
	if (rc == IH_OK)
		rc = buf_printf(out, ",\"outcome\":\"%s\",\"program\":", outcome);
	if (rc == IH_OK)
		rc = buf_json_string(out, program, strlen(program), LOGLINE_MAX_VALUE);
	if (rc == IH_OK && exit_status >= 0)
		rc = buf_printf(out, ",\"exit\":%d", exit_status);
	else if (rc == IH_OK)
		rc = buf_puts(out, ",\"exit\":null");
	if (rc == IH_OK)
		rc = buf_printf(out, ",\"signal\":%d,\"timed_out\":%s,\"ms\":%ld}\n", sig,
				timed_out ? "true" : "false", ms);
	return rc;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/* In the supervising child: run the program, wait for it within the timeout, log. Never returns. */
static void supervise(const struct settings *s, const struct hook_job *j)
{
	char dir[4096], env_dir[4200], env_id[4200], env_oc[64], env_out[4200];
	sigset_t chld, old;
	struct timespec t0;
	/* With an S3 store the job is objects under the bucket's prefix, not a folder here. */
	if (s->s3_bucket != NULL)
		snprintf(dir, sizeof dir, "s3://%s/%s%s%s", s->s3_bucket, s->s3_prefix ? s->s3_prefix : "",
			 s->s3_prefix && s->s3_prefix[0] ? "/" : "", j->dir);
	else
		snprintf(dir, sizeof dir, "%s/%s", s->output_dir, j->dir);
	snprintf(env_dir, sizeof env_dir, "IMAGEHOOK_JOB_DIR=%s", dir);
	snprintf(env_id, sizeof env_id, "IMAGEHOOK_JOB_ID=%s", j->id ? j->id : "");
	snprintf(env_oc, sizeof env_oc, "IMAGEHOOK_OUTCOME=%s", j->outcome);
	snprintf(env_out, sizeof env_out, "IMAGEHOOK_OUTPUT_DIR=%s", s->output_dir);
	char *envp[] = { env_dir, env_id, env_oc, env_out, "PATH=/usr/local/bin:/usr/bin:/bin",
			 "LC_ALL=C.UTF-8", NULL };
	char *argv[] = { s->on_stored, dir, j->id ? j->id : "", (char *)j->outcome, NULL };

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* Its own process group, so that a timeout ends whatever it started too. */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		execve(s->on_stored, argv, envp);
		_exit(127);
	}
	int status = 0, exit_status = -1, sig = 0, timed_out = 0;
	if (pid < 0) {
		exit_status = -1;
	} else {
		setpgid(pid, pid);
		struct timespec left = { s->on_stored_timeout, 0 };
		for (;;) {
			pid_t r = waitpid(pid, &status, WNOHANG);
			if (r == pid)
				break;
			long spent = ms_since(&t0);
			if (spent >= (long)s->on_stored_timeout * 1000) {
				timed_out = 1;
				kill(-pid, SIGTERM);
				kill(pid, SIGTERM);
				struct timespec grace = { 2, 0 };
				if (sigtimedwait(&chld, NULL, &grace) < 0 && waitpid(pid, &status, WNOHANG) != pid) {
					kill(-pid, SIGKILL);
					kill(pid, SIGKILL);
				}
				waitpid(pid, &status, 0);
				break;
			}
			long rest = (long)s->on_stored_timeout * 1000 - spent;
			left.tv_sec = rest / 1000;
			left.tv_nsec = (rest % 1000) * 1000000L;
			sigtimedwait(&chld, NULL, &left);
		}
		if (WIFEXITED(status))
			exit_status = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			sig = WTERMSIG(status);
	}
	struct buf line = { 0 };
	struct logfile lf = { 0 };
	lf.fd = -1;
	if (hook_log_line(j->dir, j->id_redacted, j->outcome, s->on_stored, exit_status, sig, timed_out,
			  ms_since(&t0), &line) == IH_OK &&
	    (logfile_open(&lf, s->log_path) != IH_OK ||
	     logfile_write(&lf, line.data, line.len) != IH_OK))
		fprintf(stderr, "imagehook: log %s: cannot write the on_stored line: %s", s->log_path,
			line.data);
	logfile_close(&lf);
	buf_free(&line);
	_exit(0);
}

int hook_run(const struct settings *s, struct hook_runner *hr, struct hook_job *j)
{
	int max = s->on_stored_max < HOOK_MAX_RUNNING ? s->on_stored_max : HOOK_MAX_RUNNING;
	hook_reap(hr);
	/* All slots busy: wait for one; each supervisor ends within its timeout. */
	while (hr->n >= max) {
		pid_t r = waitpid(-1, NULL, 0);
		if (r < 0 && errno != EINTR)
			break;
		hook_reap(hr);
		for (int i = 0; i < hr->n; i++)
			if (hr->pid[i] == r) {
				hr->pid[i] = hr->pid[--hr->n];
				break;
			}
	}
	if (hr->n >= max)
		hr->n = 0;   /* nothing left to wait for (ECHILD): the slots were stale */
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		hook_job_clear(j);
		return ih_err_from_errno(e);
	}
	if (pid == 0) {
		/* Not the FastCGI socket, not the answer's stdout: the web server must not wait for us. */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			/* As CGI, the server may wait for stderr to close too: the exit status is logged instead. */
			dup2(null, STDERR_FILENO);
		}
		supervise(s, j);
	}
	hr->pid[hr->n++] = pid;
	hook_job_clear(j);
	return IH_OK;
}
