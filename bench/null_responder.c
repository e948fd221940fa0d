/* null_responder.c - a FastCGI responder that reads the whole body and answers 200:
 * the transport ceiling (web server + FastCGI) that imagehook is measured against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

/* Reads the request body to its end (CONTENT_LENGTH is only a hint: a body sent
 * chunked through mod_proxy_fcgi has none) and returns the byte count, or -1 on a
 * stream error. */
static long long drain_fcgi(FCGX_Stream *in)
{
	static char buf[256 * 1024];
	long long total = 0;
	int n;

	while ((n = FCGX_GetStr(buf, (int)sizeof buf, in)) > 0)
		total += n;
	if (FCGX_GetError(in) != 0)
		return -1;
	return total;
}

/* The same for plain CGI, where the body is stdin. */
static long long drain_stdin(void)
{
	static char buf[256 * 1024];
	long long total = 0;
	size_t n;

	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		total += (long long)n;
	return ferror(stdin) ? -1 : total;
}

/* Formats the whole response for a body of got bytes (-1: read error) into buf;
 * returns its length, or -1 if it does not fit. */
static int format_answer(char *buf, size_t size, long long got)
{
	char body[128];
	int blen, len;

	if (got < 0)
		blen = snprintf(body, sizeof body, "{\"ok\":false}\n");
	else
		blen = snprintf(body, sizeof body, "{\"ok\":true,\"bytes\":%lld}\n", got);
	if (blen < 0 || (size_t)blen >= sizeof body)
		return -1;
	/* libfcgi's own printf lacks some length modifiers, so format with snprintf. */
	len = snprintf(buf, size,
		       "Status: %s\r\nContent-Type: application/json\r\n"
		       "Content-Length: %d\r\n\r\n%s",
		       got < 0 ? "400 Bad Request" : "200 OK", blen, body);
	if (len < 0 || (size_t)len >= size)
		return -1;
	return len;
}

int main(void)
{
	FCGX_Request req;
	char resp[512];
	int len;

	if (FCGX_Init() != 0) {
		fputs("null_responder: FCGX_Init failed\n", stderr);
		return 1;
	}
	if (FCGX_IsCGI()) {
		/* Run by hand or as plain CGI: FCGX_Accept_r has no CGI fallback. */
		len = format_answer(resp, sizeof resp, drain_stdin());
		if (len < 0 || fwrite(resp, 1, (size_t)len, stdout) != (size_t)len ||
		    fflush(stdout) != 0)
			return 1;
		return 0;
	}
	if (FCGX_InitRequest(&req, 0, 0) != 0) {
		fputs("null_responder: FCGX_InitRequest failed\n", stderr);
		return 1;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		len = format_answer(resp, sizeof resp, drain_fcgi(req.in));
		/* A failed write means the server dropped the connection: nothing to do
		 * but move on to the next request. */
		if (len < 0 || FCGX_PutStr(resp, len, req.out) != len)
			fputs("null_responder: could not answer a request\n", stderr);
		FCGX_Finish_r(&req);
	}
	return 0;
}
