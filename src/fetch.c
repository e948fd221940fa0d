/* fetch.c - result links: queued with the job, fetched by `imagehook fetch` with libcurl. */
#include "ih_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_CURL
#include <curl/curl.h>
#endif

#include "auth.h"
#include "buf.h"
#include "digest.h"
#include "fetch.h"
#include "fetch_guard.h"
#include "gallery.h"
#include "ih_error.h"
#include "image.h"
#include "logline.h"
#include "payload_fetch.h"

#define QUEUE_DIR "fetch"
#define MAX_REDIRECTS 5
#define CONNECT_TIMEOUT 10L

/* ---- queueing, in the receiver, under the job's lock ---- */

/* The queue entry's name for a job folder: "jobs/2026/12/03/x" -> "jobs+2026+12+03+x". */
static void entry_name(const char *dir, char *out, size_t outsz)
{
	size_t i = 0;
	for (; dir[i] != '\0' && i + 1 < outsz; i++)
		out[i] = dir[i] == '/' ? '+' : dir[i];
	out[i] = '\0';
}

/*
 * Creates OUTPUT/fetch/<entry> holding dir. An existing entry keeps its inode, so
 * a fetcher's flock on it keeps meaning "this job is being worked".
 */
static int queue_entry(const char *output_dir, const char *dir, const char *id)
{
	char name[300];
	entry_name(dir, name, sizeof name);
	int rootfd = open(output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ih_err_from_errno(errno);
	int qfd = store_open_dirs(rootfd, QUEUE_DIR, 1, 1);
	int rc = qfd < 0 ? ih_err_from_errno(errno) : IH_OK;
	close(rootfd);
	if (rc != IH_OK)
		return rc;
	int fd = openat(qfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0 && errno == EEXIST) {
		close(qfd);
		return IH_OK;
	}
	/* The folder, then the job's key (store_job_key(), what store_job_begin() takes): "<dir>\n<key>". */
	if (fd < 0 || store_write_all(fd, dir, strlen(dir)) != 0 || store_write_all(fd, "\n", 1) != 0 ||
	    store_write_all(fd, id, strlen(id)) != 0 || fsync(fd) != 0 || fsync(qfd) != 0)
		rc = ih_err_from_errno(errno);
	if (fd >= 0)
		close(fd);
	close(qfd);
	return rc;
}

/*
 * A link that holds a configured secret (our token quoted in a result URL) is
 * never requested: the secret would go to the remote host. It is recorded
 * redacted, pending with this reason, and the fetcher refuses it with a log line.
 */
#define SECRET_REFUSED "link holds imagehook's secret"

/*
 * Redacts the link text t[0..n) into url (size bytes, cut to fit after redaction,
 * so no cut leaves a piece of a secret); *held says whether it held one.
 */
static int link_url(const struct settings *s, const char *t, size_t n, char *url, size_t size,
		    int *held)
{
	size_t rn;
	char *red = auth_redact(s, t, n, &rn);
	if (red == NULL)
		return IH_ERR_NOMEM;
	*held = rn != n || memcmp(red, t, n) != 0;
	size_t ul = rn < size - 1 ? rn : size - 1;
	memcpy(url, red, ul);
	url[ul] = '\0';
	free(red);
	return IH_OK;
}

/* The state an earlier fetch.json had for the same link, so a redelivery keeps it. */
static const struct payload_fetch_link *known_link(const struct payload_fetch_link *old, size_t n,
						   const char *url, const char *where)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(old[i].url, url) == 0 && strcmp(old[i].where, where) == 0)
			return &old[i];
	return NULL;
}

int fetch_queue_job(const struct settings *s, struct store_job *job, const struct payload *p,
		    time_t now, struct buf *rec, char *qdir, size_t qsz)
{
	size_t count = payload_image_count(p), n = 0, n_old = 0;
	qdir[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		const struct payload_image *img = payload_image(p, i);
		if (img->kind == PAYLOAD_URL && img->role == PAYLOAD_OUTPUT && img->same_as < 0)
			n++;
	}
	if (n == 0)
		return IH_OK;
	struct payload_fetch_link *l = calloc(n, sizeof *l), *old = NULL;
	struct buf out = { 0 };
	char *text = NULL;
	size_t tlen;
	if (l == NULL)
		return IH_ERR_NOMEM;
	int rc = store_job_read(job, "fetch.json", &text, &tlen);
	if (rc == IH_OK)
		rc = payload_fetch_parse(text, tlen, 100000, &old, &n_old);
	if (rc == IH_ERR_NOMEM)
		goto out;
	rc = IH_OK;
	size_t k = 0;
	int pending = 0, known = 0;
	for (size_t i = 0; i < count; i++) {
		const struct payload_image *img = payload_image(p, i);
		if (img->kind != PAYLOAD_URL || img->role != PAYLOAD_OUTPUT || img->same_as >= 0)
			continue;
		struct payload_fetch_link *x = &l[k++];
		int held = 0;
		if ((rc = link_url(s, img->text, img->len, x->url, sizeof x->url, &held)) != IH_OK)
			goto out;
		snprintf(x->where, sizeof x->where, "%s", img->where);
		const struct payload_fetch_link *was = known_link(old, n_old, x->url, x->where);
		if (was != NULL) {
			*x = *was;
			known |= payload_fetch_final(x) || x->attempts > 0;
		} else {
			const char *from;
			snprintf(x->sender, sizeof x->sender, "%s", payload_sender(p));
			snprintf(x->state, sizeof x->state, "pending");
			x->queued = x->next = now;
			x->expires = fetch_link_expiry(x->url, now, x->sender, &from);
			snprintf(x->expires_from, sizeof x->expires_from, "%s", from);
			/* Links past the cap, or too long, are refused by the fetcher, with a log line. */
			if (held)
				snprintf(x->error, sizeof x->error, "%s", SECRET_REFUSED);
			/* An S3 store queues nothing: no fetcher would come to refuse it. */
			if (held && s->s3_bucket != NULL)
				snprintf(x->state, sizeof x->state, "refused");
		}
		pending |= !payload_fetch_final(x);
	}
	rc = payload_fetch_render(l, k, &out);
	if (rc == IH_OK)
		rc = store_job_write(job, "fetch.json", out.data, out.len);
	/* A redelivery of a job whose links were fetched already: its record says so again. */
	if (rc == IH_OK && known) {
		buf_reset(&out);
		rc = payload_record_fetched(rec->data, rec->len, l, k, &out);
		if (rc == IH_OK) {
			struct buf t = *rec;
			*rec = out;
			out = t;
		}
	}
	/* The queue is a local folder: with an S3 store the links stay recorded only. */
	if (s->s3_bucket != NULL)
		pending = 0;
	if (rc == IH_OK && pending)
		rc = queue_entry(s->output_dir, store_job_dir(job), store_job_key(job));
	if (rc == IH_OK && pending)
		snprintf(qdir, qsz, "%s", store_job_dir(job));
out:
	free(text);
	free(old);
	free(l);
	buf_free(&out);
	return rc;
}

/* ---- fetching ---- */
#ifdef HAVE_CURL

static volatile sig_atomic_t stop_fetching;

static void on_stop(int sig)
{
	(void)sig;
	stop_fetching = 1;
}

struct fetcher {
	const struct settings *s;
	struct store *st;
	int rootfd;
	struct logfile log;
	CURL *curl;
	unsigned attempts;        /* in this run, for the summary */
};

/* The connection target checked before curl may open it. */
struct pin {
	struct sockaddr_storage addr;
	int exact;
	const char *refused;      /* set when curl tried anything else */
};

static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
			      &((const struct sockaddr_in *)(const void *)b)->sin_addr, 4) == 0;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16) == 0;
	return 0;
}

/* curl asks before every connection: only the address we checked and pinned. */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct pin *pin = ctx;
	const char *why;
	(void)purpose;
	if (!same_addr(&a->addr, (const struct sockaddr *)&pin->addr)) {
		pin->refused = "curl tried to connect to an address other than the one checked";
		return CURL_SOCKET_BAD;
	}
	if (!fetch_addr_allowed(&a->addr, pin->exact, &why)) {
		pin->refused = why;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

struct body {
	struct buf b;
	uint64_t cap;
	int over;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct body *body = ctx;
	size_t len = size * n;
	if (body->b.len + len > body->cap) {
		body->over = 1;
		return 0;
	}
	return buf_append(&body->b, p, len) == IH_OK ? len : 0;
}

/* What one fetch came to. */
struct result {
	int refused;              /* the guard said no: never retried */
	int ok;
	long http;
	char why[600];
	char final_url[FETCH_GUARD_MAX_URL + 1];
};

/*
 * Resolves u's host (IMAGEHOOK_FETCH_RESOLVE first) and checks every address it
 * has: one refused address refuses the host, so DNS that answers with a mix cannot
 * slip one in. Pins the first. Returns 0, or -1 with r->why (and r->refused).
 */
static int resolve(const struct settings *s, const struct fetch_url *u, int exact,
		   struct pin *pin, char *addr, size_t addrsz, struct result *r)
{
	struct addrinfo hints, *res = NULL;
	char fixed[80], port[8];
	const char *name = u->host;
	const char *why;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", u->port);
	if (fetch_resolve_lookup(s->fetch_resolve, u->host, u->port, fixed, sizeof fixed)) {
		name = fixed;
		hints.ai_flags = AI_NUMERICHOST;
	}
	int e = getaddrinfo(name, port, &hints, &res);
	if (e != 0 || res == NULL) {
		snprintf(r->why, sizeof r->why, "cannot resolve %.255s: %.200s", u->host, gai_strerror(e));
		return -1;
	}
	int rc = 0;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		char text[INET6_ADDRSTRLEN] = "?";
		const void *raw = ai->ai_family == AF_INET6
					  ? (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr
					  : (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
		if (inet_ntop(ai->ai_family, raw, text, sizeof text) == NULL)
			snprintf(text, sizeof text, "?");
		if (!fetch_addr_allowed(ai->ai_addr, exact, &why)) {
			snprintf(r->why, sizeof r->why, "%.255s resolves to %.100s %.50s", u->host, why, text);
			r->refused = 1;
			rc = -1;
			break;
		}
		if (ai == res) {
			memcpy(&pin->addr, ai->ai_addr, ai->ai_addrlen);
			snprintf(addr, addrsz, ai->ai_family == AF_INET6 ? "[%s]" : "%s", text);
		}
	}
	freeaddrinfo(res);
	return rc;
}

/* One request to url (already allowed), with pinned address; the redirect target in next. */
static int request(struct fetcher *f, const char *url, const struct fetch_url *u, struct pin *pin,
		   const char *addr, long timeout, struct body *body, struct result *r, char **next)
{
	CURL *c = f->curl;
	char rule[400];
	struct curl_slist *pinned = NULL;
	*next = NULL;
	curl_easy_reset(c);
	/* An address in the URL needs no pin: curl resolves nothing, open_socket checks it. */
	snprintf(rule, sizeof rule, "%s:%u:%s", u->host, u->port, addr);
	if (!u->ip_literal && (pinned = curl_slist_append(NULL, rule)) == NULL)
		return IH_ERR_NOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, pinned);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, pin);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* Redirects are followed here, each target checked like the first URL. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* A proxy from the environment would connect where the checks did not look. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < CONNECT_TIMEOUT ? timeout : CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->s->fetch_max_bytes);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	CURLcode cc = curl_easy_perform(c);
	curl_slist_free_all(pinned);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->http);
	if (pin->refused != NULL) {
		snprintf(r->why, sizeof r->why, "%s", pin->refused);
		r->refused = 1;
		return IH_OK;
	}
	if (body->over || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(r->why, sizeof r->why, "larger than IMAGEHOOK_FETCH_MAX_BYTES (%llu)",
			 (unsigned long long)f->s->fetch_max_bytes);
		return IH_OK;
	}
	if (cc != CURLE_OK) {
		snprintf(r->why, sizeof r->why, "%s", curl_easy_strerror(cc));
		return IH_OK;
	}
	if (r->http >= 300 && r->http < 400) {
		char *loc = NULL;
		if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc != NULL &&
		    (*next = strdup(loc)) == NULL)
			return IH_ERR_NOMEM;
		if (*next == NULL)
			snprintf(r->why, sizeof r->why, "HTTP %ld without a Location", r->http);
		return IH_OK;
	}
	if (r->http != 200) {
		snprintf(r->why, sizeof r->why, "HTTP %ld", r->http);
		return IH_OK;
	}
	r->ok = 1;
	return IH_OK;
}

/* Fetches url into body, following up to MAX_REDIRECTS allowed redirects within the time cap. */
static int fetch_url(struct fetcher *f, const char *start, struct body *body, struct result *r)
{
	char *url = strdup(start);
	struct timespec t0, t1;
	int rc = url ? IH_OK : IH_ERR_NOMEM;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int hop = 0; rc == IH_OK && url != NULL; hop++) {
		struct fetch_url u;
		const char *why;
		struct pin pin;
		char addr[80];
		char *next = NULL;
		memset(&pin, 0, sizeof pin);
		snprintf(r->final_url, sizeof r->final_url, "%s", url);
		if (hop > MAX_REDIRECTS) {
			snprintf(r->why, sizeof r->why, "more than %d redirects", MAX_REDIRECTS);
			break;
		}
		if (fetch_url_parse(url, &u, &why) != IH_OK) {
			snprintf(r->why, sizeof r->why, "%s%s", hop ? "redirect: " : "", why);
			r->refused = 1;
			break;
		}
		const struct fetch_host *h = fetch_allow_match(&f->s->fetch_hosts, &u, &why);
		if (h == NULL) {
			snprintf(r->why, sizeof r->why, "%s%.200s (%.255s)", hop ? "redirect: " : "", why, u.host);
			r->refused = 1;
			break;
		}
		pin.exact = !h->wildcard;
		if (resolve(f->s, &u, pin.exact, &pin, addr, sizeof addr, r) != 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long left = (long)f->s->fetch_timeout - (long)(t1.tv_sec - t0.tv_sec);
		if (left <= 0) {
			snprintf(r->why, sizeof r->why, "took longer than IMAGEHOOK_FETCH_TIMEOUT");
			break;
		}
		buf_reset(&body->b);
		rc = request(f, url, &u, &pin, addr, left, body, r, &next);
		free(url);
		url = next;
		if (next != NULL)
			r->why[0] = '\0';
	}
	free(url);
	return rc;
}

static void add_field(struct buf *b, const char *key, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return;
	buf_printf(b, ",\"%s\":", key);
	buf_json_string(b, v, strlen(v), LOGLINE_MAX_VALUE);
}

/* One JSON log line per attempt: fetched, fetch_failed, fetch_refused or expired. */
static void log_attempt(struct fetcher *f, const char *dir, const struct payload_fetch_link *l,
			const char *outcome, long http, long ms, const char *final_url)
{
	char when[40], shown[FETCH_GUARD_MAX_URL + 1];
	struct buf b = { 0 };
	const char *slash = strrchr(dir, '/');
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	logline_time(&now, when, sizeof when);
	buf_printf(&b, "{\"time\":\"%s\",\"event\":\"fetch\",\"outcome\":\"%s\"", when, outcome);
	add_field(&b, "id", slash ? slash + 1 : dir);
	add_field(&b, "dir", dir);
	add_field(&b, "sender", l->sender);
	add_field(&b, "where", l->where);
	/* The query of a presigned URL is its credential: only scheme, host and path. */
	fetch_url_for_log(l->url, shown, sizeof shown);
	add_field(&b, "url", shown);
	if (final_url != NULL && strcmp(final_url, l->url) != 0) {
		fetch_url_for_log(final_url, shown, sizeof shown);
		add_field(&b, "redirected_to", shown);
	}
	buf_printf(&b, ",\"attempt\":%u", l->attempts);
	if (http > 0)
		buf_printf(&b, ",\"http_status\":%ld", http);
	if (l->file[0] != '\0') {
		add_field(&b, "file", l->file);
		add_field(&b, "format", l->format);
		buf_printf(&b, ",\"bytes\":%llu", (unsigned long long)l->bytes);
	}
	if (ms >= 0)
		buf_printf(&b, ",\"ms\":%ld", ms);
	add_field(&b, "error", l->error);
	if (buf_puts(&b, "}\n") == IH_OK && logfile_write(&f->log, b.data, b.len) != IH_OK)
		fprintf(stderr, "imagehook fetch: log %s: %s", f->log.path ? f->log.path : "", b.data);
	buf_free(&b);
	f->attempts++;
}

/* The job folder's name in its dir, "jobs/YYYY/MM/DD/<name>"; NULL when dir is not such. */
static const char *job_name(const char *dir)
{
	const char *slash = strrchr(dir, '/');
	if (strncmp(dir, "jobs/", 5) != 0 || slash == NULL || slash[1] == '\0' || strlen(dir) > 250)
		return NULL;
	return slash + 1;
}

/*
 * store_job_begin() for the queued job of id: the job's key (store_job_key()),
 * which holds no secret; an entry queued before keys were written holds the id,
 * begun with its redacted form as the handler began it, to find the same folder.
 */
static int begin_job(struct fetcher *f, const char *id, struct store_job **job)
{
	size_t n;
	char *red = auth_redact(f->s, id, strlen(id), &n);
	if (red == NULL)
		return IH_ERR_NOMEM;
	int rc = store_job_begin(f->st, id, strcmp(red, id) != 0 ? red : NULL, time(NULL), job);
	free(red);
	return rc;
}

/*
 * Under the job's lock: writes the media file (when data is set), then this
 * link's new state into the current fetch.json and job.json, and commits. When
 * every link is settled, also removes the queue entry (still under the lock, so a
 * delivery queueing new links cannot lose its entry). Returns IH_OK or an ih_err.
 */
static int settle(struct fetcher *f, const char *dir, const char *id, int qfd, const char *entry,
		  struct payload_fetch_link *l, const void *data, size_t len)
{
	struct store_job *job = NULL;
	struct payload_fetch_link *all = NULL;
	size_t n = 0, tlen;
	char *text = NULL;
	struct buf out = { 0 };
	int rc = begin_job(f, id, &job);
	if (rc == IH_OK && strcmp(store_job_dir(job), dir) != 0)
		rc = IH_ERR_IO;
	/* An inline image of the same job may have that name already: never overwrite it. */
	if (rc == IH_OK && data != NULL && store_job_exists(job, l->file) != 0) {
		char other[96];
		snprintf(other, sizeof other, "link-%.80s", l->file);
		snprintf(l->file, sizeof l->file, "%s", other);
	}
	if (rc == IH_OK && data != NULL)
		rc = store_job_write(job, l->file, data, len);
	if (rc == IH_OK)
		rc = store_job_read(job, "fetch.json", &text, &tlen);
	if (rc == IH_OK)
		rc = payload_fetch_parse(text, tlen, 100000, &all, &n);
	int pending = 0;
	for (size_t i = 0; rc == IH_OK && i < n; i++) {
		if (strcmp(all[i].url, l->url) == 0 && strcmp(all[i].where, l->where) == 0)
			all[i] = *l;
		pending |= !payload_fetch_final(&all[i]);
		/* A fetch.json queued before links were redacted is written again without its secret. */
		int held;
		rc = link_url(f->s, all[i].url, strlen(all[i].url), all[i].url, sizeof all[i].url, &held);
	}
	if (rc == IH_OK)
		rc = payload_fetch_render(all, n, &out);
	if (rc == IH_OK)
		rc = store_job_write(job, "fetch.json", out.data, out.len);
	free(text);
	text = NULL;
	if (rc == IH_OK)
		rc = store_job_read(job, "job.json", &text, &tlen);
	if (rc == IH_OK) {
		buf_reset(&out);
		rc = payload_record_fetched(text, tlen, all, n, &out);
	}
	if (rc == IH_OK)
		rc = store_job_write(job, "job.json", out.data, out.len);
	/* Staged files become visible together; no new delivery record. */
	if (rc == IH_OK)
		rc = store_job_commit(job, NULL, NULL);
	/* The gallery shows the fetched file, or the expired link, as it shows inline media. */
	if (rc == IH_OK)
		gallery_job_stored(f->s, dir);
	if (rc == IH_OK && !pending && qfd >= 0 && entry != NULL) {
		if (unlinkat(qfd, entry, 0) != 0 || fsync(qfd) != 0)
			rc = ih_err_from_errno(errno);
	}
	store_job_end(job);
	free(text);
	free(all);
	buf_free(&out);
	return rc;
}

/* Reads the job's fetch.json under its lock, briefly. */
static int read_links(struct fetcher *f, const char *dir, const char *id,
		      struct payload_fetch_link **l, size_t *n)
{
	struct store_job *job = NULL;
	char *text = NULL;
	size_t tlen;
	int rc = begin_job(f, id, &job);
	if (rc == IH_OK && strcmp(store_job_dir(job), dir) != 0)
		rc = IH_ERR_IO;
	if (rc == IH_OK)
		rc = store_job_read(job, "fetch.json", &text, &tlen);
	store_job_end(job);
	if (rc == IH_OK)
		rc = payload_fetch_parse(text, tlen, 100000, l, n);
	free(text);
	return rc;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/* One attempt at link k of the job: expired, refused, failed, or fetched and stored. */
static int attempt(struct fetcher *f, const char *dir, const char *id, int qfd, const char *entry,
		   struct payload_fetch_link *l, size_t k, time_t now)
{
	struct timespec t0;
	struct result r;
	struct body body;
	struct image_info info;
	const char *outcome;
	memset(&r, 0, sizeof r);
	memset(&body, 0, sizeof body);
	memset(&info, 0, sizeof info);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = IH_OK, held = 0;
	char shown[sizeof l->url];
	/* Queued so; or queued raw, before links were redacted: refused, expired or not. */
	int secret = strcmp(l->error, SECRET_REFUSED) == 0;
	if (!secret && (rc = link_url(f->s, l->url, strlen(l->url), shown, sizeof shown, &held)) != IH_OK)
		return rc;
	secret |= held;
	if (!secret && now >= l->expires) {
		snprintf(l->state, sizeof l->state, "expired");
		snprintf(l->error, sizeof l->error, "expired %lld s ago (%s)",
			 (long long)(now - l->expires), l->expires_from);
		int src = settle(f, dir, id, qfd, entry, l, NULL, 0);
		log_attempt(f, dir, l, "expired", 0, -1, NULL);
		return src;
	}
	l->attempts++;
	body.cap = f->s->fetch_max_bytes;
	if (secret) {
		r.refused = 1;
		snprintf(r.why, sizeof r.why, "%s", SECRET_REFUSED);
	} else if (k >= f->s->fetch_max_links) {
		r.refused = 1;
		snprintf(r.why, sizeof r.why, "more than IMAGEHOOK_FETCH_MAX_LINKS (%u) links in one job",
			 f->s->fetch_max_links);
	} else {
		rc = fetch_url(f, l->url, &body, &r);
	}
	if (rc != IH_OK)
		goto out;
	const void *data = NULL;
	size_t len = 0;
	if (r.refused) {
		snprintf(l->state, sizeof l->state, "refused");
		snprintf(l->error, sizeof l->error, "%s", r.why);
		outcome = "fetch_refused";
	} else if (!r.ok) {
		snprintf(l->error, sizeof l->error, "%s", r.why);
		l->next = now + fetch_backoff(l->attempts);
		outcome = "fetch_failed";
	} else {
		/* The same validators as inline media; what fails is kept raw with the reason. */
		int bad = image_check((const unsigned char *)body.b.data, body.b.len,
				      &f->s->image, &info);
		char hex[DIGEST_HEX_LEN];
		digest_sha256_hex(body.b.data ? body.b.data : "", body.b.len, hex);
		snprintf(l->sha256, sizeof l->sha256, "%s", hex);
		l->bytes = body.b.len;
		l->error[0] = '\0';
		if (bad == IH_OK) {
			snprintf(l->state, sizeof l->state, "fetched");
			snprintf(l->file, sizeof l->file, "%lu.%s", (unsigned long)k,
				 image_format_ext(info.format));
			snprintf(l->format, sizeof l->format, "%s",
				 info.format == IMAGE_JPEG ? "jpeg" : image_format_ext(info.format));
			l->width = info.width;
			l->height = info.height;
			outcome = "fetched";
		} else {
			snprintf(l->state, sizeof l->state, "rejected");
			snprintf(l->file, sizeof l->file, "%lu.rejected.bin", (unsigned long)k);
			snprintf(l->error, sizeof l->error, "fetched, but %s", ih_strerror(bad));
			outcome = "fetch_failed";
		}
		data = body.b.data ? body.b.data : "";
		len = body.b.len;
	}
	rc = settle(f, dir, id, qfd, entry, l, data, len);
	if (rc != IH_OK) {
		snprintf(l->error, sizeof l->error, "storing the result: %s", ih_strerror(rc));
		outcome = "fetch_failed";
	}
	/* settle() found the link by its URL as queued; the log shows it redacted. */
	if (held)
		memcpy(l->url, shown, sizeof l->url);
	log_attempt(f, dir, l, outcome, r.http, ms_since(&t0), r.final_url);
out:
	buf_free(&body.b);
	return rc;
}

/*
 * Works one queue entry: claims it (flock, so a second fetcher skips it), then
 * every due link in turn. Returns IH_OK or an ih_err from storage.
 */
static int work_entry(struct fetcher *f, int qfd, const char *entry, const char *only_dir)
{
	char dir[8192];
	struct payload_fetch_link *l = NULL;
	size_t n = 0;
	int fd = openat(qfd, entry, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? IH_OK : ih_err_from_errno(errno);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return IH_OK;   /* another fetcher has it */
	}
	ssize_t got = read(fd, dir, sizeof dir - 1);
	int rc = IH_OK;
	char *id = got > 0 ? memchr(dir, '\n', (size_t)got) : NULL;
	if (id == NULL)
		goto out;
	dir[got] = '\0';
	*id++ = '\0';
	if (job_name(dir) == NULL || *id == '\0' || (only_dir != NULL && strcmp(only_dir, dir) != 0))
		goto out;
	/* The entry may have been settled and removed while we waited to open it. */
	struct stat a, b;
	if (fstat(fd, &a) != 0 || fstatat(qfd, entry, &b, AT_SYMLINK_NOFOLLOW) != 0 ||
	    a.st_ino != b.st_ino)
		goto out;
	int dfd = store_open_dirs(f->rootfd, dir, 0, 0);
	if (dfd < 0)
		goto out;   /* the job folder is gone (retention): nothing to do */
	close(dfd);
	rc = read_links(f, dir, id, &l, &n);
	if (rc == IH_ERR_NOMEM)
		goto out;
	if (rc != IH_OK) {
		/* No fetch.json to work from: the entry is stale. */
		rc = unlinkat(qfd, entry, 0) == 0 ? IH_OK : ih_err_from_errno(errno);
		goto out;
	}
	int left = 0;
	for (size_t k = 0; k < n && rc == IH_OK && !stop_fetching; k++) {
		time_t now = time(NULL);
		if (payload_fetch_final(&l[k]))
			continue;
		if (l[k].next > now && now < l[k].expires) {
			left = 1;
			continue;
		}
		rc = attempt(f, dir, id, qfd, entry, &l[k], k, now);
	}
	/* Nothing was due, but everything is settled (a redelivery changed fetch.json). */
	if (rc == IH_OK && !left && n > 0) {
		int all = 1;
		for (size_t k = 0; k < n; k++)
			all &= payload_fetch_final(&l[k]);
		if (all && faccessat(qfd, entry, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			rc = settle(f, dir, id, qfd, entry, &l[n - 1], NULL, 0);
	}
out:
	free(l);
	close(fd);
	return rc;
}

static int fetcher_open(struct fetcher *f, const struct settings *s, FILE *err)
{
	memset(f, 0, sizeof *f);
	f->s = s;
	f->rootfd = -1;
	f->log.fd = -1;
	int rc = store_open(s->output_dir, &f->st);
	if (rc != IH_OK) {
		if (err)
			fprintf(err, "imagehook fetch: output folder %s: %s\n", s->output_dir, ih_strerror(rc));
		return rc;
	}
	f->rootfd = open(s->output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->rootfd < 0)
		return ih_err_from_errno(errno);
	rc = logfile_open(&f->log, s->log_path);
	if (rc != IH_OK) {
		if (err)
			fprintf(err, "imagehook fetch: log %s: %s\n", s->log_path, ih_strerror(rc));
		return rc;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (f->curl = curl_easy_init()) == NULL)
		return IH_ERR_NOMEM;
	return IH_OK;
}

static void fetcher_close(struct fetcher *f)
{
	if (f->curl != NULL) {
		curl_easy_cleanup(f->curl);
		curl_global_cleanup();
	}
	logfile_close(&f->log);
	if (f->rootfd >= 0)
		close(f->rootfd);
	store_close(f->st);
}

/*
 * One pass over the queue (or over only_dir's entry). A job whose folder cannot be
 * updated is reported and skipped, not the end of the pass; *failed counts them.
 */
static int pass(struct fetcher *f, const char *only_dir, unsigned *failed)
{
	int qfd = store_open_dirs(f->rootfd, QUEUE_DIR, 1, 1);
	if (qfd < 0)
		return ih_err_from_errno(errno);
	int dfd = dup(qfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		int rc = ih_err_from_errno(errno);
		if (dfd >= 0)
			close(dfd);
		close(qfd);
		return rc;
	}
	int rc = IH_OK;
	struct dirent *e;
	char want[300] = "";
	if (only_dir != NULL)
		entry_name(only_dir, want, sizeof want);
	while (rc == IH_OK && !stop_fetching && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || (only_dir != NULL && strcmp(e->d_name, want) != 0))
			continue;
		rc = work_entry(f, qfd, e->d_name, only_dir);
		if (rc != IH_OK && rc != IH_ERR_NOMEM) {
			fprintf(stderr, "imagehook fetch: %s: %s\n", e->d_name, ih_strerror(rc));
			(*failed)++;
			rc = IH_OK;
		}
	}
	closedir(d);
	close(qfd);
	return rc;
}

void fetch_after_answer(const struct settings *s, const char *dir)
{
	struct fetcher f;
	unsigned failed = 0;
	if (fetcher_open(&f, s, NULL) == IH_OK)
		(void)pass(&f, dir, &failed);
	fetcher_close(&f);
}

int fetch_main(const struct settings *s, int argc, char **argv, FILE *out, FILE *err)
{
	int loop = 0;
	long interval = 5;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--loop") == 0) {
			loop = 1;
		} else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			char *end;
			interval = strtol(argv[++i], &end, 10);
			if (*end != '\0' || interval < 1 || interval > 3600) {
				fputs("imagehook fetch: --interval takes 1 to 3600 seconds\n", err);
				return 2;
			}
		} else {
			fprintf(err, "imagehook fetch: unknown argument %s\n"
				     "usage: imagehook fetch [--loop [--interval SECONDS]]\n", argv[i]);
			return 2;
		}
	}
	if (s->problems != NULL) {
		fprintf(err, "imagehook fetch: configuration problem, nothing fetched: %s\n", s->problems);
		return 1;
	}
	if (s->s3_bucket != NULL) {
		fputs("imagehook fetch: IMAGEHOOK_STORE is an s3:// bucket: fetching links into it is "
		      "not supported yet (they stay recorded in fetch.json and job.json)\n", err);
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct fetcher f;
	unsigned failed = 0;
	int rc = fetcher_open(&f, s, err);
	while (rc == IH_OK) {
		rc = pass(&f, NULL, &failed);
		if (!loop || stop_fetching)
			break;
		/* sleep() returns early on the stop signal. */
		for (long t = 0; t < interval && !stop_fetching; t++)
			sleep(1);
		if (stop_fetching)
			break;
	}
	if (rc != IH_OK)
		fprintf(err, "imagehook fetch: %s\n", ih_strerror(rc));
	else if (!loop && f.attempts > 0)
		fprintf(out, "imagehook fetch: %u attempts\n", f.attempts);
	fetcher_close(&f);
	return rc == IH_OK && failed == 0 ? 0 : 1;
}
#else /* !HAVE_CURL */

/* Built without libcurl (--without-curl): links are queued and recorded, never fetched. */
void fetch_after_answer(const struct settings *s, const char *dir)
{
	(void)s;
	(void)dir;
}

int fetch_main(const struct settings *s, int argc, char **argv, FILE *out, FILE *err)
{
	(void)s;
	(void)argc;
	(void)argv;
	(void)out;
	fputs("imagehook fetch: this imagehook was built without libcurl: result links are "
	      "queued in OUTPUT/fetch/ but cannot be fetched\n", err);
	return 1;
}
#endif
