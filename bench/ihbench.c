/* ihbench.c - the benchmark's load client: N threads, each with its own keep-alive
 * connection to 127.0.0.1, POST a body template in which a placeholder job id is
 * replaced by a fresh unique id per request, and report req/s, MB/s and latency. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, strcasestr */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PLACEHOLDER "sync-IHBENCH-JOB-ID-PLACEHOLDER"
#define RBUF_SIZE 65536
#define SNIPPET 160

struct options {
	const char *url;
	const char *template_path;
	const char *placeholder;
	const char *label;
	unsigned port;
	char target[2048];      /* path and query of the URL */
	int threads;
	long count;             /* measured requests in all; 0: only the duration bounds */
	double duration;        /* seconds; 0: only the count bounds */
	long warmup;            /* unmeasured requests per connection before the clock starts */
	int timeout;            /* seconds without progress on a socket before giving up */
};

/* The body: the template's bytes around one occurrence of the placeholder. */
struct body_tpl {
	char *data;
	size_t len;
	size_t ph_off;
	size_t ph_len;
};

struct bench {
	struct options opt;
	struct body_tpl tpl;
	uint32_t nonce[3];      /* makes ids unique across runs */
	size_t body_len;        /* bytes of each request body, id included */
	atomic_long next_id;    /* makes ids unique within a run */
	atomic_long claimed;    /* measured requests handed out so far */
	pthread_barrier_t start;
	struct timespec t0;     /* written by main before the barrier's second round */
	pthread_barrier_t go;
};

struct worker {
	struct bench *b;
	pthread_t tid;
	int fd;
	long on_conn;           /* requests answered on the current connection */
	double *lat;            /* latencies of successful measured requests, ms */
	size_t nlat, cap;
	long errors;
	long long bytes_ok;     /* request body bytes of successful measured requests */
	char err[SNIPPET + 64]; /* the first error, for the report */
	char rbuf[RBUF_SIZE];
	size_t rpos, rlen;
};

/* The parsed head of one response. */
struct response {
	int status;
	int keep_alive;
	int chunked;
	long long content_length; /* -1: not given */
	char snippet[SNIPPET];    /* start of the body, kept for error reports */
	size_t snippet_len;
};

static double now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort(); /* CLOCK_MONOTONIC cannot fail on Linux */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fputs("usage: ihbench [-c CONNS] [-n COUNT] [-d SECONDS] [-w WARMUP] [-t TIMEOUT]\n"
	      "               [-p PLACEHOLDER] [-l LABEL] -b BODY_TEMPLATE URL\n"
	      "  URL must be http://127.0.0.1[:PORT]/PATH[?QUERY]; no other host is accepted.\n"
	      "  -c  concurrent connections, one thread each (default 4)\n"
	      "  -n  measured requests in all (default 300; 0 = until -d runs out)\n"
	      "  -d  stop starting requests after this many seconds (default 20; 0 = no limit)\n"
	      "  -w  unmeasured warm-up requests per connection (default 1)\n"
	      "  -t  socket timeout in seconds (default 120)\n"
	      "  -p  placeholder replaced by a fresh job id (default " DEFAULT_PLACEHOLDER ")\n"
	      "  -l  label echoed in the output\n"
	      "Prints one JSON line on stdout and one human line on stderr;\n"
	      "exits 0 when every request got 200, 1 when some did not, 2 on usage errors.\n", f);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

/* Accepts only http://127.0.0.1[:port]/...: the benchmark must never load anything
 * but the local machine. */
static int parse_url(struct options *o)
{
	static const char scheme[] = "http://127.0.0.1";
	const char *p = o->url;
	long port = 80;

	if (strncmp(p, scheme, sizeof scheme - 1) != 0)
		return -1;
	p += sizeof scheme - 1;
	if (*p == ':') {
		char digits[8];
		size_t n = strcspn(p + 1, "/?");

		if (n == 0 || n >= sizeof digits)
			return -1;
		memcpy(digits, p + 1, n);
		digits[n] = '\0';
		if (parse_long(digits, 1, 65535, &port) != 0)
			return -1;
		p += 1 + n;
	}
	if (*p != '/' && *p != '?' && *p != '\0')
		return -1; /* e.g. http://127.0.0.1.example.com/ */
	if (*p == '\0')
		p = "/";
	if (strlen(p) + 2 > sizeof o->target)
		return -1;
	if (*p == '?')
		snprintf(o->target, sizeof o->target, "/%s", p);
	else
		snprintf(o->target, sizeof o->target, "%s", p);
	for (const char *c = o->target; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return -1; /* would break the request line */
	o->port = (unsigned)port;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	long v;
	int c;

	*o = (struct options){ .placeholder = DEFAULT_PLACEHOLDER, .label = "",
			       .threads = 4, .count = 300, .duration = 20, .warmup = 1,
			       .timeout = 120 };
	while ((c = getopt(argc, argv, "c:n:d:w:t:p:l:b:h")) != -1) {
		switch (c) {
		case 'c':
			if (parse_long(optarg, 1, 1024, &v) != 0)
				return -1;
			o->threads = (int)v;
			break;
		case 'n':
			if (parse_long(optarg, 0, LONG_MAX / 2, &o->count) != 0)
				return -1;
			break;
		case 'd':
			if (parse_double(optarg, 0, 1e6, &o->duration) != 0)
				return -1;
			break;
		case 'w':
			if (parse_long(optarg, 0, 1000000, &o->warmup) != 0)
				return -1;
			break;
		case 't':
			if (parse_long(optarg, 1, 3600, &v) != 0)
				return -1;
			o->timeout = (int)v;
			break;
		case 'p':
			o->placeholder = optarg;
			break;
		case 'l':
			o->label = optarg;
			break;
		case 'b':
			o->template_path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc - 1 || !o->template_path || !*o->placeholder)
		return -1;
	if (o->count == 0 && o->duration == 0)
		return -1; /* unbounded */
	o->url = argv[optind];
	if (parse_url(o) != 0) {
		fprintf(stderr, "ihbench: refusing URL %s: only http://127.0.0.1[:PORT]/... "
			"is allowed\n", o->url);
		return -1;
	}
	return 0;
}

static int load_template(const char *path, const char *placeholder, struct body_tpl *t)
{
	struct stat st;
	size_t got = 0;
	int fd, saved;
	const char *ph;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) != 0)
		goto fail_close;
	if (st.st_size <= 0 || (unsigned long long)st.st_size > (1ULL << 32)) {
		errno = EFBIG;
		goto fail_close;
	}
	t->len = (size_t)st.st_size;
	t->data = malloc(t->len);
	if (!t->data)
		goto fail_close;
	while (got < t->len) {
		ssize_t n = read(fd, t->data + got, t->len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* file shrank under us */
			goto fail_close;
		}
		got += (size_t)n;
	}
	if (close(fd) != 0)
		goto fail;
	ph = memmem(t->data, t->len, placeholder, strlen(placeholder));
	if (!ph) {
		fprintf(stderr, "ihbench: %s does not contain the placeholder %s\n",
			path, placeholder);
		return -1;
	}
	t->ph_off = (size_t)(ph - t->data);
	t->ph_len = strlen(placeholder);
	return 0;
fail_close:
	saved = errno;
	(void)close(fd); /* read-only: nothing to lose */
	errno = saved;
fail:
	fprintf(stderr, "ihbench: %s: %s\n", path, strerror(errno));
	return -1;
}

static void set_err(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->err[0])
		return; /* keep the first: later ones are usually its consequences */
	va_start(ap, fmt);
	(void)vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
	for (char *c = w->err; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' '; /* one line in the report */
}

static void conn_close(struct worker *w)
{
	if (w->fd >= 0)
		(void)close(w->fd); /* a socket: close cannot lose data we care about */
	w->fd = -1;
	w->on_conn = 0;
	w->rpos = w->rlen = 0;
}

static int conn_open(struct worker *w)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)w->b->opt.port) };
	struct timeval tv = { .tv_sec = w->b->opt.timeout };
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (w->fd < 0)
		goto fail;
	if (setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		goto fail;
	while (connect(w->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (errno != EINTR)
			goto fail;
	}
	return 0;
fail:
	set_err(w, "connect: %s", strerror(errno));
	conn_close(w);
	return -1;
}

/* Sends every byte of iov[0..n), advancing over short writes; the caller's iovecs
 * are consumed. Returns 0 or -1 with errno set. */
static int writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t k = writev(fd, iov, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

/* Writes the job id for request number seq into id; returns its length. */
static size_t make_id(const struct bench *b, long seq, char *id, size_t size)
{
	/* Shaped like RunPod's sync-<uuid>: run nonce, then the sequence number. */
	int n = snprintf(id, size, "sync-%08x-%04x-4%03x-a%03x-%012lx",
			 (unsigned)b->nonce[0], (unsigned)(b->nonce[1] & 0xffff),
			 (unsigned)((b->nonce[1] >> 16) & 0xfff),
			 (unsigned)(b->nonce[2] & 0xfff), (unsigned long)seq);

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static int send_request(struct worker *w, const char *id, size_t idlen)
{
	const struct body_tpl *t = &w->b->tpl;
	char head[2300];
	int hlen;

	hlen = snprintf(head, sizeof head,
			"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: ihbench/1\r\n"
			"Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			w->b->opt.target, w->b->opt.port, t->len - t->ph_len + idlen);
	if (hlen < 0 || (size_t)hlen >= sizeof head) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* The body goes out straight from the template: no per-request copy. */
	struct iovec iov[4] = {
		{ head, (size_t)hlen },
		{ t->data, t->ph_off },
		{ (void *)id, idlen },
		{ t->data + t->ph_off + t->ph_len, t->len - t->ph_off - t->ph_len },
	};
	return writev_all(w->fd, iov, 4);
}

/* Reads more bytes into the buffer, compacting it first. Returns the number read,
 * 0 on end of stream, -1 on error (errno set; EAGAIN means the timeout hit). */
static ssize_t fill(struct worker *w)
{
	ssize_t n;

	if (w->rpos > 0) {
		memmove(w->rbuf, w->rbuf + w->rpos, w->rlen - w->rpos);
		w->rlen -= w->rpos;
		w->rpos = 0;
	}
	if (w->rlen == sizeof w->rbuf) {
		errno = EMSGSIZE;
		return -1;
	}
	do
		n = read(w->fd, w->rbuf + w->rlen, sizeof w->rbuf - w->rlen);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		w->rlen += (size_t)n;
	return n;
}

/* Finds the next CRLF-terminated line; returns its length (without CRLF) and sets
 * *line, or -1 when the stream ended or failed first. */
static long next_line(struct worker *w, const char **line)
{
	for (;;) {
		char *s = w->rbuf + w->rpos;
		char *e = memmem(s, w->rlen - w->rpos, "\r\n", 2);

		if (e) {
			*line = s;
			w->rpos += (size_t)(e - s) + 2;
			return (long)(e - s);
		}
		if (fill(w) <= 0)
			return -1;
	}
}

/* Consumes n body bytes (n < 0: up to end of stream), keeping the first ones. */
static int skip_body(struct worker *w, struct response *r, long long n)
{
	for (;;) {
		size_t avail = w->rlen - w->rpos;
		size_t take = n < 0 || (unsigned long long)n > avail ? avail : (size_t)n;
		size_t keep = sizeof r->snippet - 1 - r->snippet_len;

		if (keep > take)
			keep = take;
		memcpy(r->snippet + r->snippet_len, w->rbuf + w->rpos, keep);
		r->snippet_len += keep;
		r->snippet[r->snippet_len] = '\0';
		w->rpos += take;
		if (n >= 0) {
			n -= (long long)take;
			if (n == 0)
				return 0;
		}
		ssize_t k = fill(w);
		if (k == 0)
			return n < 0 ? 0 : -1;
		if (k < 0)
			return -1;
	}
}

static int read_chunked(struct worker *w, struct response *r)
{
	const char *line;
	long len;

	for (;;) {
		char *end;
		long long size;

		len = next_line(w, &line);
		if (len < 0)
			return -1;
		errno = 0;
		size = strtoll(line, &end, 16);
		if (errno != 0 || end == line || size < 0)
			return -1;
		if (size == 0)
			break;
		if (skip_body(w, r, size) != 0 || next_line(w, &line) != 0)
			return -1;
	}
	do /* trailers, up to the empty line */
		len = next_line(w, &line);
	while (len > 0);
	return len == 0 ? 0 : -1;
}

/* Reads one whole response. Returns 0, or -1 when the connection failed; *got_any
 * tells whether any byte of it arrived (a stale keep-alive connection sends none). */
static int read_response(struct worker *w, struct response *r, int *got_any)
{
	const char *line;
	long len;
	int http10;

	*r = (struct response){ .content_length = -1 };
	w->rpos = w->rlen = 0; /* no pipelining: nothing is due before this response */
	len = next_line(w, &line);
	*got_any = w->rlen > 0;
	if (len < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
		return -1;
	http10 = line[7] == '0';
	r->keep_alive = !http10;
	r->status = atoi(line + 9);
	while ((len = next_line(w, &line)) > 0) {
		char h[256];
		size_t n = (size_t)len < sizeof h - 1 ? (size_t)len : sizeof h - 1;

		memcpy(h, line, n);
		h[n] = '\0';
		if (strncasecmp(h, "content-length:", 15) == 0) {
			char *end;

			errno = 0;
			r->content_length = strtoll(h + 15, &end, 10);
			if (errno != 0 || r->content_length < 0)
				return -1;
		} else if (strncasecmp(h, "transfer-encoding:", 18) == 0) {
			r->chunked = strcasestr(h + 18, "chunked") != NULL;
		} else if (strncasecmp(h, "connection:", 11) == 0) {
			if (strcasestr(h + 11, "close"))
				r->keep_alive = 0;
			else if (strcasestr(h + 11, "keep-alive"))
				r->keep_alive = 1;
		}
	}
	if (len < 0)
		return -1;
	if (r->chunked)
		return read_chunked(w, r);
	if (r->content_length >= 0)
		return skip_body(w, r, r->content_length);
	r->keep_alive = 0; /* delimited by the end of the stream */
	return skip_body(w, r, -1);
}

/* Does one request on w's connection. Returns the HTTP status, or -1 when the
 * connection failed (recorded in w->err). */
static int one_request(struct worker *w, long seq)
{
	char id[80];
	size_t idlen = make_id(w->b, seq, id, sizeof id);
	struct response r;

	if (idlen == 0)
		return -1;
	for (int attempt = 0;; attempt++) {
		int got_any = 0, rc;
		int reused;

		if (w->fd < 0 && conn_open(w) != 0)
			return -1;
		reused = w->on_conn > 0;
		rc = send_request(w, id, idlen);
		int send_errno = errno;
		/* Even when sending failed, the server may have answered first (413). */
		if (read_response(w, &r, &got_any) == 0) {
			if (r.keep_alive && rc == 0)
				w->on_conn++;
			else
				conn_close(w);
			if (r.status != 200)
				set_err(w, "HTTP %d: %s", r.status, r.snippet);
			return r.status;
		}
		int read_errno = errno;
		conn_close(w);
		/* A keep-alive connection the server had just closed: try once anew. */
		if (reused && !got_any && attempt == 0)
			continue;
		if (rc != 0)
			set_err(w, "send: %s", strerror(send_errno));
		else
			set_err(w, "response: %s", got_any || read_errno == EAGAIN ?
				strerror(read_errno) : "connection closed without an answer");
		return -1;
	}
}

static int record(struct worker *w, double ms)
{
	if (w->nlat == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		double *p = realloc(w->lat, cap * sizeof *p);

		if (!p)
			return -1;
		w->lat = p;
		w->cap = cap;
	}
	w->lat[w->nlat++] = ms;
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	double deadline;
	int rc;

	for (long i = 0; i < b->opt.warmup; i++)
		(void)one_request(w, atomic_fetch_add(&b->next_id, 1));
	/* Warm-up errors are not measured: start the measured run with a clean slate. */
	w->err[0] = '\0';
	rc = pthread_barrier_wait(&b->start);
	if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
		abort();
	rc = pthread_barrier_wait(&b->go); /* main has set t0 in between */
	if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
		abort();
	deadline = (double)b->t0.tv_sec + (double)b->t0.tv_nsec / 1e9 + b->opt.duration;
	for (;;) {
		long seq;
		double t;
		int status;

		if (b->opt.duration > 0 && now_s() >= deadline)
			break;
		if (b->opt.count > 0 && atomic_fetch_add(&b->claimed, 1) >= b->opt.count)
			break;
		seq = atomic_fetch_add(&b->next_id, 1);
		t = now_s();
		status = one_request(w, seq);
		t = now_s() - t;
		if (status != 200) {
			w->errors++;
			continue;
		}
		if (record(w, t * 1000.0) != 0) {
			set_err(w, "out of memory");
			w->errors++;
			break;
		}
		w->bytes_ok += (long long)b->body_len;
	}
	conn_close(w);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile (pct in 1..100) of sorted v[0..n). */
static double percentile(const double *v, size_t n, unsigned pct)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (pct * n + 99) / 100;
	return v[rank < 1 ? 0 : rank - 1];
}

/* Prints s as a JSON string. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
	struct bench *b;
	struct worker *w;
	struct sigaction sa = { .sa_handler = SIG_IGN };
	const char *first_err = "";
	long ok = 0, errors = 0;
	long long bytes = 0;
	double *all, elapsed, rps, mbps;
	size_t n = 0;
	int rc;

	b = calloc(1, sizeof *b);
	if (!b) {
		perror("ihbench");
		return 2;
	}
	if (parse_args(argc, argv, &b->opt) != 0) {
		usage(stderr);
		return 2;
	}
	/* A server closing mid-body must be an error return, not a fatal signal. */
	if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGPIPE, &sa, NULL) != 0) {
		perror("ihbench: sigaction");
		return 2;
	}
	if (load_template(b->opt.template_path, b->opt.placeholder, &b->tpl) != 0)
		return 2;
	if (getrandom(b->nonce, sizeof b->nonce, 0) != (ssize_t)sizeof b->nonce) {
		perror("ihbench: getrandom");
		return 2;
	}
	{
		char id[80];
		size_t idlen = make_id(b, 0, id, sizeof id);

		if (idlen == 0)
			abort(); /* the id format fits its buffer */
		b->body_len = b->tpl.len - b->tpl.ph_len + idlen;
	}
	w = calloc((size_t)b->opt.threads, sizeof *w);
	if (!w) {
		perror("ihbench");
		return 2;
	}
	if (pthread_barrier_init(&b->start, NULL, (unsigned)b->opt.threads + 1) != 0 ||
	    pthread_barrier_init(&b->go, NULL, (unsigned)b->opt.threads + 1) != 0) {
		fputs("ihbench: pthread_barrier_init failed\n", stderr);
		return 2;
	}
	for (int i = 0; i < b->opt.threads; i++) {
		w[i].b = b;
		w[i].fd = -1;
		rc = pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
		if (rc != 0) {
			fprintf(stderr, "ihbench: pthread_create: %s\n", strerror(rc));
			return 2;
		}
	}
	rc = pthread_barrier_wait(&b->start); /* every connection warmed up */
	if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
		abort();
	if (clock_gettime(CLOCK_MONOTONIC, &b->t0) != 0)
		abort();
	rc = pthread_barrier_wait(&b->go);
	if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD)
		abort();
	for (int i = 0; i < b->opt.threads; i++) {
		rc = pthread_join(w[i].tid, NULL);
		if (rc != 0) {
			fprintf(stderr, "ihbench: pthread_join: %s\n", strerror(rc));
			return 2;
		}
	}
	elapsed = now_s() - ((double)b->t0.tv_sec + (double)b->t0.tv_nsec / 1e9);

	for (int i = 0; i < b->opt.threads; i++)
		n += w[i].nlat;
	all = malloc((n ? n : 1) * sizeof *all);
	if (!all) {
		perror("ihbench");
		return 2;
	}
	n = 0;
	for (int i = 0; i < b->opt.threads; i++) {
		if (w[i].nlat > 0)
			memcpy(all + n, w[i].lat, w[i].nlat * sizeof *all);
		n += w[i].nlat;
		errors += w[i].errors;
		bytes += w[i].bytes_ok;
		if (!*first_err && w[i].err[0])
			first_err = w[i].err;
	}
	ok = (long)n;
	qsort(all, n, sizeof *all, cmp_double);
	rps = elapsed > 0 ? (double)ok / elapsed : 0;
	mbps = elapsed > 0 ? (double)bytes / elapsed / 1e6 : 0;

	printf("{\"label\":");
	json_str(stdout, b->opt.label);
	printf(",\"url_path\":");
	/* The query may hold a secret: report the path only. */
	char path[sizeof b->opt.target];
	snprintf(path, sizeof path, "%s", b->opt.target);
	path[strcspn(path, "?")] = '\0';
	json_str(stdout, path);
	printf(",\"connections\":%d,\"body_bytes\":%zu,\"requests\":%ld,\"errors\":%ld,"
	       "\"elapsed_s\":%.3f,\"req_per_s\":%.2f,\"mb_per_s\":%.1f,"
	       "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"first_error\":",
	       b->opt.threads, b->body_len, ok, errors, elapsed, rps,
	       mbps, percentile(all, n, 50), percentile(all, n, 99),
	       n ? all[n - 1] : 0.0);
	json_str(stdout, first_err);
	printf("}\n");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("ihbench: stdout");
		return 2;
	}
	fprintf(stderr, "%s%s%ld ok, %ld errors in %.2f s: %.1f req/s, %.1f MB/s, "
		"p50 %.1f ms, p99 %.1f ms%s%s\n",
		b->opt.label, *b->opt.label ? ": " : "", ok, errors, elapsed, rps, mbps,
		percentile(all, n, 50), percentile(all, n, 99),
		*first_err ? "; first error: " : "", first_err);
	rc = errors ? 1 : 0;
	for (int i = 0; i < b->opt.threads; i++)
		free(w[i].lat);
	free(w);
	free(all);
	free(b->tpl.data);
	free(b);
	return rc;
}
