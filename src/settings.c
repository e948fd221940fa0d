/* settings.c - read, check and print imagehook's configuration. */
#include "ih_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ih_error.h"
#include "settings.h"
#include "payload_fetch.h"
#include "s3.h"
#include "signature.h"

#define DEFAULT_MAX_BODY (64ULL * 1024 * 1024)
#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_IMAGES 256
#define MAX_FILE_BYTES 65536

/* The variables we read, in the order --check-config prints them. */
static const char *const known[] = {
	"IMAGEHOOK_OUTPUT_DIR", "IMAGEHOOK_LOG", "IMAGEHOOK_TOKEN", "IMAGEHOOK_TOKEN_FILE",
	"IMAGEHOOK_ALLOW_OPEN", "IMAGEHOOK_MAX_BODY", "IMAGEHOOK_MAX_DEPTH",
	"IMAGEHOOK_MAX_IMAGES", "IMAGEHOOK_MAX_WIDTH", "IMAGEHOOK_MAX_HEIGHT",
	"IMAGEHOOK_MAX_PIXELS", "IMAGEHOOK_ADD_INFOTEXT",
	"IMAGEHOOK_SIGNING_SECRET", "IMAGEHOOK_SIGNING_SECRET_FILE", "IMAGEHOOK_MAX_STRING",
	"IMAGEHOOK_MAX_DECODED", "IMAGEHOOK_MAX_PNG_CHUNK", "IMAGEHOOK_MAX_TEXT_CHUNK",
	"IMAGEHOOK_MAX_INFLATED_TEXT", "IMAGEHOOK_GALLERY", "IMAGEHOOK_THUMBNAILS",
	"IMAGEHOOK_STORE", "IMAGEHOOK_S3_ENDPOINT", "IMAGEHOOK_S3_REGION",
	"IMAGEHOOK_S3_ADDRESSING", "IMAGEHOOK_S3_CREDENTIALS", "IMAGEHOOK_S3_TIMEOUT",
	"IMAGEHOOK_MIN_FREE", "IMAGEHOOK_ON_STORED", "IMAGEHOOK_ON_STORED_TIMEOUT",
	"IMAGEHOOK_ON_STORED_MAX",
	"IMAGEHOOK_SIGNATURE_TOLERANCE", "IMAGEHOOK_FAL_JWKS_FILE", "IMAGEHOOK_FETCH_HOSTS",
	"IMAGEHOOK_FETCH_MAX_BYTES", "IMAGEHOOK_FETCH_TIMEOUT", "IMAGEHOOK_FETCH_MAX_LINKS",
	"IMAGEHOOK_FETCH_RESOLVE", "IMAGEHOOK_FETCH_AFTER_ANSWER",
};
/* Indices of the settings added for signed deliveries and content limits. */
enum {
	K_SIGNING = 12, K_SIGNING_FILE, K_MAX_STRING, K_MAX_DECODED, K_MAX_PNG_CHUNK,
	K_MAX_TEXT_CHUNK, K_MAX_INFLATED_TEXT, K_GALLERY, K_THUMBNAILS
};
/* The object store's settings (s3.h). */
enum { K_STORE = K_THUMBNAILS + 1, K_S3_ENDPOINT, K_S3_REGION, K_S3_ADDRESSING, K_S3_CREDENTIALS,
       K_S3_TIMEOUT };
/* The operator's: free-space guard, after-store hook. */
enum { K_MIN_FREE = K_S3_TIMEOUT + 1, K_ON_STORED, K_ON_STORED_TIMEOUT, K_ON_STORED_MAX };
#define N_KNOWN (sizeof known / sizeof known[0])

/* Values from the config file, indexed like known[]. */
struct file_values {
	char *v[N_KNOWN];
};

static int problem(struct settings *s, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));

/* Adds one problem to the list every answer's log line reports. */
static int problem(struct settings *s, const char *fmt, ...)
{
	struct buf b = { 0 };
	va_list ap;
	int rc = IH_OK;
	if (s->problems != NULL)
		rc = buf_printf(&b, "%s; ", s->problems);
	if (rc == IH_OK) {
		va_start(ap, fmt);
		rc = buf_vprintf(&b, fmt, ap);
		va_end(ap);
	}
	if (rc != IH_OK) {
		buf_free(&b);
		return rc;
	}
	free(s->problems);
	s->problems = b.data;
	return IH_OK;
}

static int known_index(const char *name)
{
	for (size_t i = 0; i < N_KNOWN; i++) {
		/* Accept IMAGEHOOK_MAX_BODY and max_body alike. */
		if (strcmp(name, known[i]) == 0 || strcasecmp(name, known[i] + 10) == 0)
			return (int)i;
	}
	return -1;
}

static char *trim(char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return p;
}

/* Reads a whole small file; returns IH_OK and a malloc'd NUL-terminated text. */
static int slurp(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ih_err_from_errno(errno);
	struct buf b = { 0 };
	int rc = buf_read_fd(&b, fd, MAX_FILE_BYTES);
	close(fd);
	if (rc != IH_OK) {
		buf_free(&b);
		return rc;
	}
	*out = b.data;
	return IH_OK;
}

static int read_config_file(struct settings *s, const char *path, struct file_values *fv)
{
	char *text;
	int rc = slurp(path, &text);
	if (rc == IH_ERR_NOMEM)
		return rc;
	if (rc != IH_OK)
		return problem(s, "IMAGEHOOK_CONFIG %s cannot be read", path);
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *l = trim(line);
		if (*l == '\0' || *l == '#')
			continue;
		char *eq = strchr(l, '=');
		if (eq == NULL) {
			/* The line itself is not quoted: it may be a mistyped secret. */
			rc = problem(s, "config file %s has a line without '='", path);
			if (rc != IH_OK)
				break;
			continue;
		}
		*eq = '\0';
		int idx = known_index(trim(l));
		if (idx < 0) {
			/* Only a name-like key is quoted: anything else may be a mistyped secret. */
			const char *key = trim(l);
			size_t kn = strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
			if (key[kn] == '\0' && kn <= 40)
				rc = problem(s, "config file %s has an unknown setting %s", path, key);
			else
				rc = problem(s, "config file %s has an unknown setting", path);
			if (rc != IH_OK)
				break;
			continue;
		}
		char *val = strdup(trim(eq + 1));
		if (val == NULL) {
			rc = IH_ERR_NOMEM;
			break;
		}
		free(fv->v[idx]);
		fv->v[idx] = val;
	}
	free(text);
	return rc;
}

/* The environment's value, else the config file's, else NULL. */
static const char *value(const struct file_values *fv, int idx)
{
	const char *env = getenv(known[idx]);
	if (env != NULL)
		return env;
	return fv->v[idx];
}

/* Parses a size or count: digits with an optional k, m or g (binary) suffix. */
static int parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	if (text == NULL || !isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0)
		return -1;
	int shift = 0;
	switch (tolower((unsigned char)*end)) {
	case 'k':
		shift = 10;
		end++;
		break;
	case 'm':
		shift = 20;
		end++;
		break;
	case 'g':
		shift = 30;
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0' || v > (max >> shift))
		return -1;
	v <<= shift;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int number(struct settings *s, const struct file_values *fv, int idx, uint64_t min,
		  uint64_t max, uint64_t dflt, uint64_t *out)
{
	const char *v = value(fv, idx);
	*out = dflt;
	if (v == NULL || *v == '\0')
		return IH_OK;
	if (parse_u64(v, min, max, out) != 0) {
		*out = dflt;
		return problem(s, "%s is not a number in range", known[idx]);
	}
	return IH_OK;
}

static int boolean(struct settings *s, const struct file_values *fv, int idx, int dflt, int *out)
{
	const char *v = value(fv, idx);
	*out = dflt;
	if (v == NULL || *v == '\0')
		return IH_OK;
	if (strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
	    strcasecmp(v, "on") == 0)
		*out = 1;
	else if (strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 ||
		 strcasecmp(v, "off") == 0)
		*out = 0;
	else
		return problem(s, "%s must be 1 or 0", known[idx]);
	return IH_OK;
}

static int add_token(struct settings *s, const char *tok, size_t n)
{
	while (n > 0 && isspace((unsigned char)*tok)) {
		tok++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)tok[n - 1]))
		n--;
	if (n == 0)
		return IH_OK;
	if (s->n_tokens == SETTINGS_MAX_TOKENS)
		return problem(s, "more than %d tokens configured", SETTINGS_MAX_TOKENS);
	if (n < 16) {
		int rc = problem(s, "a token is shorter than %d characters", 16);
		if (rc != IH_OK)
			return rc;
	}
	/*
	 * Only URL-safe characters: a token with quotes, backslashes or control bytes
	 * would appear escaped in job.json and the log, where redaction cannot find it.
	 */
	if (strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") < n) {
		int rc = problem(s, "a token has characters other than letters, digits and %s", "-._~");
		if (rc != IH_OK)
			return rc;
	}
	char *t = strndup(tok, n);
	if (t == NULL)
		return IH_ERR_NOMEM;
	s->tokens[s->n_tokens++] = t;
	return IH_OK;
}

/* Adds every token in a list separated by sep characters. */
static int add_tokens(struct settings *s, const char *list, const char *sep)
{
	while (*list != '\0') {
		size_t n = strcspn(list, sep);
		int rc = add_token(s, list, n);
		if (rc != IH_OK)
			return rc;
		list += n;
		if (*list != '\0')
			list++;
	}
	return IH_OK;
}

/* Adds every Standard Webhooks secret of a list separated by sep characters. */
static int add_signing(struct settings *s, const char *list, const char *sep)
{
	while (*list != '\0') {
		size_t n = strcspn(list, sep);
		if (n > 0) {
			unsigned char key[SIGNATURE_MAX_KEY];
			size_t keylen;
			const char *why;
			char *t = strndup(list, n);
			if (t == NULL)
				return IH_ERR_NOMEM;
			int rc = IH_OK, keep = 0;
			/* The secret itself is never quoted in a problem. */
			if (signature_key_decode(t, key, sizeof key, &keylen, &why) != IH_OK)
				rc = problem(s, "IMAGEHOOK_SIGNING_SECRET: %s", why);
			else if (s->n_signing == SETTINGS_MAX_TOKENS)
				rc = problem(s, "more than %d signing secrets configured",
					     SETTINGS_MAX_TOKENS);
			else
				keep = 1;
			memset(key, 0, sizeof key);
			if (keep) {
				s->signing[s->n_signing++] = t;
			} else {
				memset(t, 0, n);
				free(t);
			}
			if (rc != IH_OK)
				return rc;
		}
		list += n;
		if (*list != '\0')
			list++;
	}
	return IH_OK;
}

/* What identifies a file's content cheaply: it changed when any of these did. */
static void file_id_of(const struct stat *st, struct settings_file_id *id)
{
	id->known = 1;
	id->dev = (unsigned long long)st->st_dev;
	id->ino = (unsigned long long)st->st_ino;
	id->size = (unsigned long long)st->st_size;
	id->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	id->ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

static int same_file_id(const struct settings_file_id *a, const struct settings_file_id *b)
{
	return a->known && b->known && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* Reads a secret file, noting what it was (stat before reading: a change while reading is seen next time). */
static int slurp_secret_file(const char *path, char **text, struct settings_file_id *id)
{
	struct stat st;
	if (stat(path, &st) == 0)
		file_id_of(&st, id);
	else
		id->known = 0;
	return slurp(path, text);
}

/* IMAGEHOOK_MIN_FREE: a size (k/m/g) or a percentage "N%"; default 1% of the file system. */
static int min_free(struct settings *s, const char *v)
{
	s->min_free = 1;
	s->min_free_percent = 1;
	if (v == NULL || *v == '\0')
		return IH_OK;
	size_t n = strlen(v);
	if (v[n - 1] == '%') {
		char digits[8];
		uint64_t pct;
		if (n - 1 >= sizeof digits)
			return problem(s, "IMAGEHOOK_MIN_FREE is not a size or a percentage from 0%% to 99%%");
		memcpy(digits, v, n - 1);
		digits[n - 1] = '\0';
		if (parse_u64(digits, 0, 99, &pct) != 0)
			return problem(s, "IMAGEHOOK_MIN_FREE is not a size or a percentage from 0%% to 99%%");
		s->min_free = pct;
		return IH_OK;
	}
	uint64_t bytes;
	if (parse_u64(v, 0, 1ULL << 50, &bytes) != 0)
		return problem(s, "IMAGEHOOK_MIN_FREE is not a size or a percentage from 0%% to 99%%");
	s->min_free = bytes;
	s->min_free_percent = 0;
	return IH_OK;
}

static int dup_or_default(char **dst, const char *v, const char *dflt)
{
	*dst = strdup(v != NULL && *v != '\0' ? v : dflt);
	return *dst == NULL ? IH_ERR_NOMEM : IH_OK;
}

/*
 * The settings of result links, fal.ai's keys and the signature tolerance. Their
 * indices are looked up by name, so known[] may grow in any order around them.
 */
static int load_links(struct settings *s, const struct file_values *fv)
{
	const int K_SIGNATURE_TOLERANCE = known_index("IMAGEHOOK_SIGNATURE_TOLERANCE");
	const int K_FAL_JWKS_FILE = known_index("IMAGEHOOK_FAL_JWKS_FILE");
	const int K_FETCH_HOSTS = known_index("IMAGEHOOK_FETCH_HOSTS");
	const int K_FETCH_MAX_BYTES = known_index("IMAGEHOOK_FETCH_MAX_BYTES");
	const int K_FETCH_TIMEOUT = known_index("IMAGEHOOK_FETCH_TIMEOUT");
	const int K_FETCH_MAX_LINKS = known_index("IMAGEHOOK_FETCH_MAX_LINKS");
	const int K_FETCH_RESOLVE = known_index("IMAGEHOOK_FETCH_RESOLVE");
	const int K_FETCH_AFTER_ANSWER = known_index("IMAGEHOOK_FETCH_AFTER_ANSWER");
	uint64_t v;
	const char *why;
	int rc;
	if ((rc = number(s, fv, K_SIGNATURE_TOLERANCE, 1, 86400, SIGNATURE_TOLERANCE, &v)) != IH_OK)
		return rc;
	s->signature_tolerance = (long)v;
	if ((rc = number(s, fv, K_FETCH_MAX_BYTES, 1024, 1ULL << 32, DEFAULT_MAX_BODY, &v)) != IH_OK)
		return rc;
	s->fetch_max_bytes = v;
	if ((rc = number(s, fv, K_FETCH_TIMEOUT, 1, 3600, 60, &v)) != IH_OK)
		return rc;
	s->fetch_timeout = (unsigned)v;
	if ((rc = number(s, fv, K_FETCH_MAX_LINKS, 1, 1000, 64, &v)) != IH_OK)
		return rc;
	s->fetch_max_links = (unsigned)v;
	if ((rc = boolean(s, fv, K_FETCH_AFTER_ANSWER, 0, &s->fetch_after_answer)) != IH_OK)
		return rc;
	if (fetch_allow_parse(value(fv, K_FETCH_HOSTS), &s->fetch_hosts, &why) != IH_OK &&
	    (rc = problem(s, "%s", why)) != IH_OK)
		return rc;
	const char *res = value(fv, K_FETCH_RESOLVE);
	if (res != NULL && *res != '\0' && (s->fetch_resolve = strdup(res)) == NULL)
		return IH_ERR_NOMEM;
	const char *jf = value(fv, K_FAL_JWKS_FILE);
	if (jf != NULL && *jf != '\0') {
		char *text;
		rc = slurp(jf, &text);
		if (rc == IH_ERR_NOMEM)
			return rc;
		if (rc != IH_OK)
			return problem(s, "IMAGEHOOK_FAL_JWKS_FILE %s cannot be read", jf);
		rc = payload_jwks_ed25519(text, strlen(text), s->fal_keys, SIGNATURE_FAL_MAX_KEYS,
					  &s->n_fal_keys);
		free(text);
		if (rc == IH_ERR_NOMEM)
			return rc;
		if (rc != IH_OK)
			return problem(s, "IMAGEHOOK_FAL_JWKS_FILE %s holds no Ed25519 key", jf);
	}
	return IH_OK;
}

/*
 * IMAGEHOOK_STORE=s3://bucket/prefix and its IMAGEHOOK_S3_* settings. The keys
 * come from a file (IMAGEHOOK_S3_CREDENTIALS), never from the environment a web
 * server's config sets, and are wiped when the settings are freed.
 */
static int load_s3(struct settings *s, const struct file_values *fv)
{
	const char *store = value(fv, K_STORE), *why = NULL;
	if (store == NULL || *store == '\0')
		return IH_OK;
	int rc = s3_parse_store_url(store, &s->s3_bucket, &s->s3_prefix, &why);
	if (rc == IH_ERR_NOMEM)
		return rc;
	if (rc != IH_OK)
		return problem(s, "IMAGEHOOK_STORE: %s (the local folder is IMAGEHOOK_OUTPUT_DIR)", why);
	const char *region = value(fv, K_S3_REGION), *ep = value(fv, K_S3_ENDPOINT);
	const char *addr = value(fv, K_S3_ADDRESSING);
	if ((rc = dup_or_default(&s->s3_region, region, "us-east-1")) != IH_OK)
		return rc;
	if (strchr(s->s3_region, ':') != NULL && (rc = problem(s, "IMAGEHOOK_S3_REGION has a ':'")) != IH_OK)
		return rc;
	if (ep != NULL && *ep != '\0') {
		if ((s->s3_endpoint = strdup(ep)) == NULL)
			return IH_ERR_NOMEM;
		if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0 &&
		    (rc = problem(s, "IMAGEHOOK_S3_ENDPOINT must start with https:// or http://")) != IH_OK)
			return rc;
	} else {
		/* AWS itself: the regional endpoint, where new buckets want virtual-hosted names. */
		struct buf b = { 0 };
		if (buf_printf(&b, "https://s3.%s.amazonaws.com", s->s3_region) != IH_OK)
			return IH_ERR_NOMEM;
		s->s3_endpoint = b.data;
	}
	if (addr == NULL || *addr == '\0')
		s->s3_virtual_host = ep == NULL || *ep == '\0';
	else if (strcmp(addr, "virtual") == 0)
		s->s3_virtual_host = 1;
	else if (strcmp(addr, "path") == 0)
		s->s3_virtual_host = 0;
	else if ((rc = problem(s, "IMAGEHOOK_S3_ADDRESSING must be path or virtual")) != IH_OK)
		return rc;
	uint64_t t;
	if ((rc = number(s, fv, K_S3_TIMEOUT, 1, 600, 30, &t)) != IH_OK)
		return rc;
	s->s3_timeout_ms = (long)t * 1000;
	const char *cf = value(fv, K_S3_CREDENTIALS);
	if (cf == NULL || *cf == '\0')
		return problem(s, "IMAGEHOOK_STORE is s3:// but IMAGEHOOK_S3_CREDENTIALS names no file");
	char *text;
	rc = slurp(cf, &text);
	if (rc == IH_ERR_NOMEM)
		return rc;
	if (rc != IH_OK)
		return problem(s, "IMAGEHOOK_S3_CREDENTIALS %s cannot be read", cf);
	rc = s3_parse_credentials(text, &s->s3_access_key, &s->s3_secret_key, &why);
	memset(text, 0, strlen(text));
	free(text);
	if (rc == IH_ERR_CONFIG)
		rc = problem(s, "IMAGEHOOK_S3_CREDENTIALS %s: %s", cf, why);
	return rc;
}

static int load(struct settings *s, struct file_values *fv)
{
	int rc;
	const char *cfg = getenv("IMAGEHOOK_CONFIG");
	if (cfg != NULL && *cfg != '\0') {
		s->config_file = strdup(cfg);
		if (s->config_file == NULL)
			return IH_ERR_NOMEM;
		rc = read_config_file(s, cfg, fv);
		if (rc != IH_OK)
			return rc;
	}
	rc = dup_or_default(&s->output_dir, value(fv, 0), IH_LOCALSTATEDIR "/lib/imagehook");
	if (rc == IH_OK)
		rc = dup_or_default(&s->log_path, value(fv, 1),
				    IH_LOCALSTATEDIR "/log/imagehook/imagehook.log");
	if (rc != IH_OK)
		return rc;
	if (value(fv, 2) != NULL && (rc = add_tokens(s, value(fv, 2), ",")) != IH_OK)
		return rc;
	const char *tf = value(fv, 3);
	if (tf != NULL && *tf != '\0') {
		char *text;
		s->n_tokens_fixed = s->n_tokens;
		if ((s->token_file = strdup(tf)) == NULL)
			return IH_ERR_NOMEM;
		rc = slurp_secret_file(tf, &text, &s->token_file_id);
		if (rc == IH_ERR_NOMEM)
			return rc;
		if (rc != IH_OK) {
			rc = problem(s, "IMAGEHOOK_TOKEN_FILE %s cannot be read", tf);
		} else {
			rc = add_tokens(s, text, "\r\n");
			free(text);
		}
		if (rc != IH_OK)
			return rc;
	}
	if ((rc = boolean(s, fv, 4, 0, &s->allow_open)) != IH_OK ||
	    (rc = boolean(s, fv, 11, 1, &s->add_infotext)) != IH_OK ||
	    (rc = boolean(s, fv, K_GALLERY, 1, &s->gallery)) != IH_OK ||
	    /* Off by default: decoding for a thumbnail costs ~15 ms per megapixel. */
	    (rc = boolean(s, fv, K_THUMBNAILS, 0, &s->thumbnails)) != IH_OK)
		return rc;

	uint64_t v;
	if ((rc = number(s, fv, 5, 1024, 1ULL << 30, DEFAULT_MAX_BODY, &v)) != IH_OK)
		return rc;
	s->max_body = v;
	if ((rc = number(s, fv, 6, 4, 1000, DEFAULT_MAX_DEPTH, &v)) != IH_OK)
		return rc;
	s->max_depth = (int)v;
	if ((rc = number(s, fv, 7, 1, 100000, DEFAULT_MAX_IMAGES, &v)) != IH_OK)
		return rc;
	s->max_images = (unsigned)v;
	if ((rc = number(s, fv, 8, 1, 1000000, 16384, &v)) != IH_OK)
		return rc;
	s->image.max_width = (uint32_t)v;
	if ((rc = number(s, fv, 9, 1, 1000000, 16384, &v)) != IH_OK)
		return rc;
	s->image.max_height = (uint32_t)v;
	if ((rc = number(s, fv, 10, 1, 1ULL << 40, 100000000, &v)) != IH_OK)
		return rc;
	s->image.max_pixels = v;
	/* A single base64 string of a 40 MB callback must pass with the defaults. */
	if ((rc = number(s, fv, K_MAX_STRING, 1024, 1ULL << 30, DEFAULT_MAX_BODY, &v)) != IH_OK)
		return rc;
	s->max_string = v;
	if ((rc = number(s, fv, K_MAX_DECODED, 1024, 1ULL << 32, DEFAULT_MAX_BODY, &v)) != IH_OK)
		return rc;
	s->max_decoded = v;
	/* PNG chunks: the image module's defaults, made configurable (2^31 - 1 is PNG's own bound). */
	if ((rc = number(s, fv, K_MAX_PNG_CHUNK, 1024, 0x7fffffffULL, 32ULL << 20, &v)) != IH_OK)
		return rc;
	s->image.max_chunk = (uint32_t)v;
	if ((rc = number(s, fv, K_MAX_TEXT_CHUNK, 1024, 0x7fffffffULL, 1ULL << 20, &v)) != IH_OK)
		return rc;
	s->image.max_text_chunk = (uint32_t)v;
	if ((rc = number(s, fv, K_MAX_INFLATED_TEXT, 1024, 1ULL << 30, 8ULL << 20, &v)) != IH_OK)
		return rc;
	s->image.max_inflated_text = (uint32_t)v;
	if (value(fv, K_SIGNING) != NULL &&
	    (rc = add_signing(s, value(fv, K_SIGNING), ", \t")) != IH_OK)
		return rc;
	const char *sf = value(fv, K_SIGNING_FILE);
	if (sf != NULL && *sf != '\0') {
		char *text;
		s->n_signing_fixed = s->n_signing;
		if ((s->signing_file = strdup(sf)) == NULL)
			return IH_ERR_NOMEM;
		rc = slurp_secret_file(sf, &text, &s->signing_file_id);
		if (rc == IH_ERR_NOMEM)
			return rc;
		if (rc != IH_OK) {
			rc = problem(s, "IMAGEHOOK_SIGNING_SECRET_FILE %s cannot be read", sf);
		} else {
			rc = add_signing(s, text, ", \t\r\n");
			memset(text, 0, strlen(text));
			free(text);
		}
		if (rc != IH_OK)
			return rc;
	}
	if ((rc = min_free(s, value(fv, K_MIN_FREE))) != IH_OK)
		return rc;
	const char *hook = value(fv, K_ON_STORED);
	if (hook != NULL && *hook != '\0') {
		/* Run without a shell: it must be a program's absolute path, no arguments. */
		if (hook[0] != '/' && (rc = problem(s, "IMAGEHOOK_ON_STORED must be an absolute path")) != IH_OK)
			return rc;
		if ((s->on_stored = strdup(hook)) == NULL)
			return IH_ERR_NOMEM;
	}
	if ((rc = number(s, fv, K_ON_STORED_TIMEOUT, 1, 86400, 60, &v)) != IH_OK)
		return rc;
	s->on_stored_timeout = (int)v;
	if ((rc = number(s, fv, K_ON_STORED_MAX, 1, 64, 2, &v)) != IH_OK)
		return rc;
	s->on_stored_max = (int)v;
	if ((rc = load_links(s, fv)) != IH_OK)
		return rc;
	if ((rc = load_s3(s, fv)) != IH_OK)
		return rc;
	/* A signing secret authenticates on its own; without any secret, only an explicit opt-in stores. */
	if (s->n_tokens == 0 && s->n_signing == 0 && s->n_fal_keys == 0 && !s->allow_open)
		rc = problem(s, "%s", ih_strerror(IH_ERR_NO_TOKEN));
	return rc;
}

int settings_load(struct settings *s)
{
	struct file_values fv = { { 0 } };
	memset(s, 0, sizeof *s);
	int rc = load(s, &fv);
	for (size_t i = 0; i < N_KNOWN; i++)
		free(fv.v[i]);
	return rc;
}

void settings_free(struct settings *s)
{
	free(s->output_dir);
	free(s->log_path);
	for (int i = 0; i < s->n_tokens; i++) {
		/* Do not leave the secret lying in freed memory. */
		memset(s->tokens[i], 0, strlen(s->tokens[i]));
		free(s->tokens[i]);
	}
	for (int i = 0; i < s->n_signing; i++) {
		memset(s->signing[i], 0, strlen(s->signing[i]));
		free(s->signing[i]);
	}
	free(s->fetch_resolve);
	free(s->config_file);
	free(s->problems);
	free(s->token_file);
	free(s->signing_file);
	free(s->on_stored);
	free(s->s3_bucket);
	free(s->s3_prefix);
	free(s->s3_endpoint);
	free(s->s3_region);
	free(s->s3_access_key);
	if (s->s3_secret_key != NULL)
		memset(s->s3_secret_key, 0, strlen(s->s3_secret_key));
	free(s->s3_secret_key);
	memset(s, 0, sizeof *s);
}

void settings_s3_config(const struct settings *s, struct s3_config *c)
{
	memset(c, 0, sizeof *c);
	c->endpoint = s->s3_endpoint;
	c->region = s->s3_region;
	c->bucket = s->s3_bucket;
	c->prefix = s->s3_prefix;
	c->virtual_host = s->s3_virtual_host;
	c->access_key = s->s3_access_key;
	c->secret_key = s->s3_secret_key;
	c->timeout_ms = s->s3_timeout_ms;
}

void settings_print(const struct settings *s, FILE *out)
{
	fprintf(out, "IMAGEHOOK_CONFIG=%s\n", s->config_file ? s->config_file : "(none)");
	fprintf(out, "IMAGEHOOK_OUTPUT_DIR=%s\n", s->output_dir);
	fprintf(out, "IMAGEHOOK_LOG=%s\n", s->log_path);
	/* Secrets are masked: only how many there are, and their length, is shown. */
	for (int i = 0; i < s->n_tokens; i++)
		fprintf(out, "token %d: ******** (%lu characters)\n", i + 1,
			(unsigned long)strlen(s->tokens[i]));
	for (int i = 0; i < s->n_signing; i++)
		fprintf(out, "signing secret %d: ******** (%lu characters)\n", i + 1,
			(unsigned long)strlen(s->signing[i]));
	fprintf(out, "IMAGEHOOK_ALLOW_OPEN=%s\n", s->allow_open ? "yes" : "no");
	fprintf(out, "IMAGEHOOK_MAX_BODY=%llu\n", (unsigned long long)s->max_body);
	fprintf(out, "IMAGEHOOK_MAX_DEPTH=%d\n", s->max_depth);
	fprintf(out, "IMAGEHOOK_MAX_IMAGES=%u\n", s->max_images);
	fprintf(out, "IMAGEHOOK_MAX_STRING=%llu\n", (unsigned long long)s->max_string);
	fprintf(out, "IMAGEHOOK_MAX_DECODED=%llu\n", (unsigned long long)s->max_decoded);
	fprintf(out, "IMAGEHOOK_MAX_WIDTH=%lu\n", (unsigned long)s->image.max_width);
	fprintf(out, "IMAGEHOOK_MAX_HEIGHT=%lu\n", (unsigned long)s->image.max_height);
	fprintf(out, "IMAGEHOOK_MAX_PIXELS=%llu\n", (unsigned long long)s->image.max_pixels);
	fprintf(out, "IMAGEHOOK_MAX_PNG_CHUNK=%lu\n", (unsigned long)s->image.max_chunk);
	fprintf(out, "IMAGEHOOK_MAX_TEXT_CHUNK=%lu\n", (unsigned long)s->image.max_text_chunk);
	fprintf(out, "IMAGEHOOK_MAX_INFLATED_TEXT=%lu\n", (unsigned long)s->image.max_inflated_text);
	fprintf(out, "IMAGEHOOK_ADD_INFOTEXT=%d\n", s->add_infotext);
	fprintf(out, "IMAGEHOOK_GALLERY=%d\n", s->gallery);
	fprintf(out, "IMAGEHOOK_THUMBNAILS=%d\n", s->thumbnails);
	if (s->min_free_percent)
		fprintf(out, "IMAGEHOOK_MIN_FREE=%llu%%\n", (unsigned long long)s->min_free);
	else
		fprintf(out, "IMAGEHOOK_MIN_FREE=%llu\n", (unsigned long long)s->min_free);
	fprintf(out, "IMAGEHOOK_ON_STORED=%s\n", s->on_stored ? s->on_stored : "(none)");
	if (s->on_stored != NULL)
		fprintf(out, "IMAGEHOOK_ON_STORED_TIMEOUT=%d\nIMAGEHOOK_ON_STORED_MAX=%d\n",
			s->on_stored_timeout, s->on_stored_max);
	fprintf(out, "IMAGEHOOK_SIGNATURE_TOLERANCE=%ld\n", s->signature_tolerance);
	fprintf(out, "fal public keys: %d\n", s->n_fal_keys);
	fprintf(out, "IMAGEHOOK_FETCH_HOSTS=");
	for (int i = 0; i < s->fetch_hosts.n; i++) {
		const struct fetch_host *h = &s->fetch_hosts.h[i];
		int v6 = strchr(h->host, ':') != NULL;
		fprintf(out, "%s%s%s%s%s%s", i ? "," : "", h->http ? "http://" : "",
			h->wildcard ? "*." : "", v6 ? "[" : "", h->host, v6 ? "]" : "");
		if (h->port)
			fprintf(out, ":%u", h->port);
	}
	fprintf(out, "\nIMAGEHOOK_FETCH_MAX_BYTES=%llu\n", (unsigned long long)s->fetch_max_bytes);
	fprintf(out, "IMAGEHOOK_FETCH_TIMEOUT=%u\n", s->fetch_timeout);
	fprintf(out, "IMAGEHOOK_FETCH_MAX_LINKS=%u\n", s->fetch_max_links);
	fprintf(out, "IMAGEHOOK_FETCH_RESOLVE=%s\n", s->fetch_resolve ? s->fetch_resolve : "");
	fprintf(out, "IMAGEHOOK_FETCH_AFTER_ANSWER=%d\n", s->fetch_after_answer);
	if (s->s3_bucket != NULL) {
		fprintf(out, "IMAGEHOOK_STORE=s3://%s/%s\n", s->s3_bucket, s->s3_prefix);
		fprintf(out, "IMAGEHOOK_S3_ENDPOINT=%s\n", s->s3_endpoint);
		fprintf(out, "IMAGEHOOK_S3_REGION=%s\n", s->s3_region);
		fprintf(out, "IMAGEHOOK_S3_ADDRESSING=%s\n", s->s3_virtual_host ? "virtual" : "path");
		fprintf(out, "IMAGEHOOK_S3_TIMEOUT=%ld\n", s->s3_timeout_ms / 1000);
		if (s->s3_access_key != NULL)
			fprintf(out, "S3 access key: %s, secret key: ******** (%lu characters)\n",
				s->s3_access_key, (unsigned long)strlen(s->s3_secret_key));
	}
}

/* Frees secrets[from..*n) and sets *n = from. */
static void drop_secrets(char **secrets, int *n, int from)
{
	for (int i = from; i < *n; i++) {
		memset(secrets[i], 0, strlen(secrets[i]));
		free(secrets[i]);
		secrets[i] = NULL;
	}
	*n = from;
}

/* Re-reads one secret file into a scratch copy, and takes it only when it has no problem. */
static int refresh_one(struct settings *s, int signing, FILE *err)
{
	const char *path = signing ? s->signing_file : s->token_file;
	struct settings_file_id *id = signing ? &s->signing_file_id : &s->token_file_id;
	struct settings_file_id now = { 0 };
	struct stat st;
	if (path == NULL)
		return IH_OK;
	if (stat(path, &st) == 0)
		file_id_of(&st, &now);
	if (same_file_id(id, &now) || (!id->known && !now.known))
		return IH_OK;
	struct settings fresh;
	char *text = NULL;
	memset(&fresh, 0, sizeof fresh);
	int rc = slurp_secret_file(path, &text, &now);
	if (rc == IH_ERR_NOMEM)
		return rc;
	if (rc == IH_OK) {
		rc = signing ? add_signing(&fresh, text, ", \t\r\n") : add_tokens(&fresh, text, "\r\n");
		memset(text, 0, strlen(text));
		free(text);
	}
	int n = signing ? fresh.n_signing : fresh.n_tokens;
	int fixed = signing ? s->n_signing_fixed : s->n_tokens_fixed;
	if (rc == IH_OK && (fresh.problems != NULL || n == 0 || fixed + n > SETTINGS_MAX_TOKENS))
		rc = IH_ERR_CONFIG;
	if (rc != IH_OK) {
		/* Keep what is in force; say so once per change of the file. */
		if (err != NULL)
			fprintf(err, "imagehook: %s %s changed but is not usable (%s); the secrets read "
				"before stay in force\n", signing ? "IMAGEHOOK_SIGNING_SECRET_FILE" :
				"IMAGEHOOK_TOKEN_FILE", path, fresh.problems ? fresh.problems :
				n == 0 ? "no secret in it" : ih_strerror(rc));
		*id = now;
		drop_secrets(fresh.tokens, &fresh.n_tokens, 0);
		drop_secrets(fresh.signing, &fresh.n_signing, 0);
		free(fresh.problems);
		return rc == IH_ERR_NOMEM ? rc : IH_ERR_CONFIG;
	}
	char **dst = signing ? s->signing : s->tokens;
	int *dn = signing ? &s->n_signing : &s->n_tokens;
	char **src = signing ? fresh.signing : fresh.tokens;
	drop_secrets(dst, dn, fixed);
	for (int i = 0; i < n; i++)
		dst[(*dn)++] = src[i];
	*id = now;
	return IH_OK;
}

int settings_refresh_secrets(struct settings *s, FILE *err)
{
	int rc = refresh_one(s, 0, err);
	int rc2 = refresh_one(s, 1, err);
	return rc != IH_OK ? rc : rc2;
}
