/* request.c - the FastCGI/CGI loop; the only module that includes libfcgi. */
#include "ih_config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgi_stdio.h>

#include "answer.h"
#include "fetch.h"
#include "ih_error.h"
#include "request.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t in_request;

/*
 * SIGTERM/SIGUSR1 (spawn-fcgi, systemd, the web server) end the process: at once
 * while it waits in accept (which libfcgi restarts after a signal), or right
 * after the answer when a request is being handled, so none is cut off.
 */
static void on_stop(int sig)
{
	(void)sig;
	if (!in_request)
		_exit(0);
	stop_requested = 1;
}

static int read_stdin(void *ctx, void *p, size_t n, size_t *got)
{
	(void)ctx;
	size_t r = FCGI_fread(p, 1, n, FCGI_stdin);
	*got = r;
	if (r == 0 && FCGI_ferror(FCGI_stdin))
		return IH_ERR_CLIENT_GONE;
	return 0;
}

/* CONTENT_LENGTH as a number, or -1 when absent or not a plain decimal. */
static long long content_length(void)
{
	const char *cl = getenv("CONTENT_LENGTH");
	if (cl == NULL || *cl == '\0')
		return -1;
	long long v = 0;
	for (const char *p = cl; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (1LL << 50))
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/*
 * PATH_INFO, or when the server sends none (nginx and mod_proxy_fcgi by default)
 * the path of REQUEST_URI, so a token as the final path segment still arrives.
 */
static const char *path_info(char *buf, size_t bufsz)
{
	const char *pi = getenv("PATH_INFO");
	if (pi != NULL && *pi != '\0')
		return pi;
	const char *uri = getenv("REQUEST_URI");
	if (uri == NULL)
		return NULL;
	size_t n = strcspn(uri, "?#");
	if (n >= bufsz)
		return NULL;
	memcpy(buf, uri, n);
	buf[n] = '\0';
	return buf;
}

/* A request header, or its alias (svix-* for webhook-*), or NULL. */
static const char *header(const char *name, const char *alias)
{
	const char *v = getenv(name);
	return v != NULL || alias == NULL ? v : getenv(alias);
}

static void send_reply(const struct reply *r)
{
	/* libfcgi's printf does not know %zu: format lengths ourselves. */
	FCGI_printf("Status: %d %s\r\nContent-Type: %s\r\n"
		    "Content-Length: %lu\r\nCache-Control: no-store\r\n",
		    r->status, answer_reason(r->status),
		    r->content_type ? r->content_type : "application/json", (unsigned long)r->body.len);
	if (r->allow_post)
		FCGI_printf("Allow: POST\r\n");
	else if (r->allow != NULL)
		FCGI_printf("Allow: %s\r\n", r->allow);
	if (r->retry_after > 0)
		FCGI_printf("Retry-After: %d\r\n", r->retry_after);
	FCGI_printf("\r\n");
	if (r->body.len > 0)
		FCGI_fwrite(r->body.data, 1, r->body.len, FCGI_stdout);
	FCGI_fflush(FCGI_stdout);
}

/*
 * Ends the answer so the sender has all of it before the work that follows it:
 * under FastCGI FCGI_Finish() completes the request for the web server; under
 * CGI the server waits for our stdout to close, so it is flushed and replaced by
 * /dev/null (the FILE stays valid for anything that still writes to it).
 */
static void finish_answer(void)
{
	if (!FCGX_IsCGI()) {
		FCGI_Finish();
		return;
	}
	FCGI_fflush(FCGI_stdout);
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	/* Best effort: a failed dup2 only means the server waits until we exit. */
	if (fd >= 0 && fd != STDOUT_FILENO) {
		(void)dup2(fd, STDOUT_FILENO);
		close(fd);
	}
}

int request_serve(struct handler *h)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a stop request interrupts the blocking accept. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	struct reply r;
	char uri[1024];
	memset(&r, 0, sizeof r);
	while (!stop_requested && FCGI_Accept() >= 0) {
		in_request = 1;
		/* These point into this request's environment, valid until the next accept. */
		struct req_meta m = {
			.method = getenv("REQUEST_METHOD"),
			.query = getenv("QUERY_STRING"),
			.path_info = path_info(uri, sizeof uri),
			.remote_addr = getenv("REMOTE_ADDR"),
			.content_length = content_length(),
			.webhook_id = header("HTTP_WEBHOOK_ID", "HTTP_SVIX_ID"),
			.webhook_timestamp = header("HTTP_WEBHOOK_TIMESTAMP", "HTTP_SVIX_TIMESTAMP"),
			.webhook_signature = header("HTTP_WEBHOOK_SIGNATURE", "HTTP_SVIX_SIGNATURE"),
			.fal_request_id = header("HTTP_X_FAL_WEBHOOK_REQUEST_ID", NULL),
			.fal_user_id = header("HTTP_X_FAL_WEBHOOK_USER_ID", NULL),
			.fal_timestamp = header("HTTP_X_FAL_WEBHOOK_TIMESTAMP", NULL),
			.fal_signature = header("HTTP_X_FAL_WEBHOOK_SIGNATURE", NULL),
			.x_request_id = getenv("HTTP_X_REQUEST_ID"),
			.accept = getenv("HTTP_ACCEPT"),
		};
		handler_handle(h, &m, read_stdin, NULL, &r);
		send_reply(&r);
		/* End the request first, so the server has the whole answer before any after-work. */
		finish_answer();
		/* A CGI process must end soon: its links wait for `imagehook fetch`. */
		if (FCGX_IsCGI())
			h->fetch_dir[0] = '\0';
		/* Still in_request: a stop request waits for the after-work too. */
		handler_after_answer(h);
		if (r.body.cap > 65536)
			buf_free(&r.body);
		in_request = 0;
	}
	buf_free(&r.body);
	FCGI_Finish();
	return 0;
}
