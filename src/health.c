/* health.c - the checks behind the health path and `imagehook check`, and the free-space guard. */
#include "ih_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "health.h"
#include "ih_error.h"

/* Is segment [p, p+n) exactly word? */
static int seg_is(const char *p, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(p, word, n) == 0;
}

static enum health_route route_of(const char *p, size_t n)
{
	if (seg_is(p, n, "health"))
		return HEALTH_ROUTE_HEALTH;
	if (seg_is(p, n, "metrics"))
		return HEALTH_ROUTE_METRICS;
	return HEALTH_ROUTE_DELIVERY;
}

enum health_route health_route(const char *path)
{
	if (path == NULL)
		return HEALTH_ROUTE_DELIVERY;
	size_t n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	/* The last segment, and the one before it. */
	size_t last = n;
	while (last > 0 && path[last - 1] != '/')
		last--;
	enum health_route r = route_of(path + last, n - last);
	if (r != HEALTH_ROUTE_DELIVERY || last == 0)
		return r;
	size_t end = last - 1, prev = end;
	while (prev > 0 && path[prev - 1] != '/')
		prev--;
	/* ".../health/SECRET": the last segment must then be long enough to be a token. */
	if (n - last >= 16)
		return route_of(path + prev, end - prev);
	return HEALTH_ROUTE_DELIVERY;
}

uint64_t health_min_free(const struct settings *s, uint64_t total)
{
	if (!s->min_free_percent)
		return s->min_free;
	return total / 100 * s->min_free + total % 100 * s->min_free / 100;
}

int health_space(const char *path, uint64_t *free_bytes, uint64_t *total_bytes)
{
	struct statvfs v;
	if (statvfs(path, &v) != 0)
		return -1;
	uint64_t unit = v.f_frsize ? v.f_frsize : v.f_bsize;
	*free_bytes = (uint64_t)v.f_bavail * unit;
	*total_bytes = (uint64_t)v.f_blocks * unit;
	return 0;
}

/* access(2) asks with the real ids; a setuid-free service has them equal to the effective ones. */
static int can_write(const char *path, int is_dir)
{
	if (access(path, is_dir ? W_OK | X_OK : W_OK) != 0)
		return -1;
	/* root passes access(2) on every folder but a read-only file system's. */
	struct statvfs v;
	if (statvfs(path, &v) == 0 && (v.f_flag & ST_RDONLY)) {
		errno = EROFS;
		return -1;
	}
	return 0;
}

int health_writable(const char *path, int is_dir, char *why, size_t whysz)
{
	if (access(path, F_OK) == 0) {
		if (can_write(path, is_dir) == 0)
			return 0;
		snprintf(why, whysz, "%s is not writable by uid %ld (%s)", path, (long)geteuid(),
			 strerror(errno));
		return -1;
	}
	/* Missing: imagehook creates it, so the nearest existing parent must be writable. */
	char parent[4096];
	snprintf(parent, sizeof parent, "%s", path);
	for (;;) {
		char *slash = strrchr(parent, '/');
		if (slash == NULL) {
			snprintf(parent, sizeof parent, ".");
			break;
		}
		*slash = '\0';
		if (parent[0] == '\0')
			snprintf(parent, sizeof parent, "/");
		if (access(parent, F_OK) == 0)
			break;
	}
	if (can_write(parent, 1) == 0)
		return 0;
	snprintf(why, whysz, "%s does not exist and %s is not writable by uid %ld", path, parent,
		 (long)geteuid());
	return -1;
}

/* Notes the first failed check's short reason and its detail. */
static void failed(struct health_report *r, const char *reason, const char *detail)
{
	if (r->reason[0] == '\0') {
		snprintf(r->reason, sizeof r->reason, "%s", reason);
		snprintf(r->detail, sizeof r->detail, "%s", detail);
	}
	r->ok = 0;
}

void health_check(const struct settings *s, int log_open, struct health_report *r)
{
	char why[900];
	memset(r, 0, sizeof *r);
	r->ok = 1;
	r->config_ok = s->problems == NULL;
	if (!r->config_ok)
		failed(r, "configuration invalid", s->problems);
	/* With IMAGEHOOK_STORE=s3://... there is no output folder and no local disk to fill. */
	int local = s->s3_bucket == NULL;
	r->output_ok = !local || health_writable(s->output_dir, 1, why, sizeof why) == 0;
	if (!r->output_ok)
		failed(r, "output folder not writable", why);
	r->log_ok = health_writable(s->log_path, 0, why, sizeof why) == 0;
	if (r->log_ok && log_open == 0) {
		r->log_ok = 0;
		snprintf(why, sizeof why, "%s could not be opened", s->log_path);
	}
	if (!r->log_ok)
		failed(r, "log not writable", why);
	r->space_ok = 1;
	if (local && health_space(s->output_dir, &r->free_bytes, &r->total_bytes) == 0) {
		r->space_known = 1;
		r->min_free_bytes = health_min_free(s, r->total_bytes);
		if (r->free_bytes < r->min_free_bytes) {
			r->space_ok = 0;
			snprintf(why, sizeof why, "%" PRIu64 " bytes free on the output's file system, "
				 "IMAGEHOOK_MIN_FREE asks for %" PRIu64, r->free_bytes, r->min_free_bytes);
			failed(r, "storage low", why);
		}
	}
}

int health_body(const struct health_report *r, int details, struct buf *out)
{
	int rc = buf_printf(out, "{\"ok\":%s", r->ok ? "true" : "false");
	if (rc == IH_OK && !r->ok)
		rc = buf_printf(out, ",\"reason\":\"%s\"", r->reason);
	if (rc == IH_OK && details) {
		rc = buf_printf(out, ",\"config\":%s,\"output\":%s,\"log\":%s,\"space\":%s",
				r->config_ok ? "true" : "false", r->output_ok ? "true" : "false",
				r->log_ok ? "true" : "false", r->space_ok ? "true" : "false");
		if (rc == IH_OK && r->space_known)
			rc = buf_printf(out, ",\"free_bytes\":%" PRIu64 ",\"total_bytes\":%" PRIu64
					",\"min_free_bytes\":%" PRIu64, r->free_bytes, r->total_bytes,
					r->min_free_bytes);
		if (rc == IH_OK && !r->ok) {
			rc = buf_puts(out, ",\"detail\":");
			if (rc == IH_OK)
				rc = buf_json_string(out, r->detail, strlen(r->detail), 0);
		}
		if (rc == IH_OK)
			rc = buf_puts(out, ",\"version\":\"" PACKAGE_VERSION "\"");
	}
	if (rc == IH_OK)
		rc = buf_puts(out, "}\n");
	return rc;
}

int health_main(const struct settings *s, FILE *out, FILE *err)
{
	struct health_report r;
	health_check(s, -1, &r);
	fprintf(out, "configuration   %s\n", r.config_ok ? "ok" : "INVALID");
	if (s->s3_bucket != NULL)
		fprintf(out, "output          s3://%s/%s (imagehook --check-config tries the bucket)\n",
			s->s3_bucket, s->s3_prefix ? s->s3_prefix : "");
	else
		fprintf(out, "output folder   %s (%s)\n", r.output_ok ? "ok" : "NOT WRITABLE", s->output_dir);
	fprintf(out, "log             %s (%s)\n", r.log_ok ? "ok" : "NOT WRITABLE", s->log_path);
	if (r.space_known)
		fprintf(out, "free space      %s (%" PRIu64 " bytes free, at least %" PRIu64 " wanted)\n",
			r.space_ok ? "ok" : "LOW", r.free_bytes, r.min_free_bytes);
	else if (s->s3_bucket == NULL)
		fprintf(out, "free space      unknown (%s cannot be examined)\n", s->output_dir);
	if (!r.ok)
		fprintf(err, "imagehook check: %s: %s\n", r.reason, r.detail);
	else
		fputs("healthy\n", out);
	return r.ok ? 0 : 1;
}
