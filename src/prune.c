/* prune.c - remove old job folders: out of the id index first, then away; logged, gallery rebuilt. */
#include "ih_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "gallery.h"
#include "ih_error.h"
#include "logline.h"
#include "payload.h"
#include "prune.h"

/* Names a killed prune leaves: deleted by the next one. */
#define PRUNE_PREFIX ".prune-"
#define MAX_JOB_JSON (16u << 20)

int prune_is_due(time_t last_delivery, time_t now, long days)
{
	if (days < PRUNE_MIN_DAYS)
		return 0;
	return now - last_delivery > (time_t)days * 86400;
}

int prune_is_failed(const char *outcome)
{
	return strcmp(outcome, "stored") != 0 && strcmp(outcome, "recorded") != 0;
}

struct pruner {
	const struct settings *s;
	int rootfd, idsfd;
	time_t now;
	long days;
	int keep_failed, dry_run;
	unsigned pruned, kept, busy, errors;
	struct logfile log;
	FILE *out, *err;
};

static int open_dir_at(int base, const char *name)
{
	return openat(base, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Deletes folder name below dirfd and everything in it, never following a symlink. */
static int rm_tree(int dirfd, const char *name, int depth)
{
	int fd = open_dir_at(dirfd, name);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0)
			continue;
		if ((errno == EISDIR || errno == EPERM) && depth < 8 && rm_tree(fd, de->d_name, depth + 1) == 0)
			continue;
		rc = -1;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

/* Reads job.json of an open job folder into c; -1 when it has none that parses. */
static int read_card(int jobfd, struct payload_card *c, time_t *mtime)
{
	int fd = openat(jobfd, "job.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	struct buf b = { 0 };
	int rc = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		*mtime = st.st_mtime;
		if (buf_read_fd(&b, fd, MAX_JOB_JSON) == IH_OK && payload_card_parse(b.data, b.len, c) == IH_OK)
			rc = 0;
	}
	close(fd);
	buf_free(&b);
	return rc;
}

static void log_pruned(struct pruner *p, const char *dir, const char *id, const char *outcome)
{
	struct buf line = { 0 };
	struct timespec now;
	char when[40];
	clock_gettime(CLOCK_REALTIME, &now);
	logline_time(&now, when, sizeof when);
	/* "event" right after "time": imagehook stats counts it as an event, not a delivery. */
	int rc = buf_printf(&line, "{\"time\":\"%s\",\"event\":\"pruned\",\"id\":", when);
	if (rc == IH_OK)
		rc = buf_json_string(&line, id, strlen(id), LOGLINE_MAX_VALUE);
	if (rc == IH_OK)
		rc = buf_puts(&line, ",\"dir\":");
	if (rc == IH_OK)
		rc = buf_json_string(&line, dir, strlen(dir), LOGLINE_MAX_VALUE);
	if (rc == IH_OK)
		rc = buf_puts(&line, ",\"outcome\":");
	if (rc == IH_OK)
		rc = buf_json_string(&line, outcome, strlen(outcome), 64);
	if (rc == IH_OK)
		rc = buf_printf(&line, ",\"older_than_days\":%ld}\n", p->days);
	if (rc != IH_OK || p->log.fd < 0 || logfile_write(&p->log, line.data, line.len) != IH_OK) {
		fprintf(p->err, "imagehook prune: log %s: cannot write: %s", p->s->log_path,
			line.data ? line.data : "\n");
		p->errors++;
	}
	buf_free(&line);
}

/* Takes the job's index entry .ids/<shard>/<name> out, if it names this date. */
static int unindex(struct pruner *p, const char *date, const char *name)
{
	char hex[DIGEST_HEX_LEN], shard[3], link[32];
	digest_sha256_hex(name, strlen(name), hex);
	shard[0] = hex[0];
	shard[1] = hex[1];
	shard[2] = '\0';
	int sfd = open_dir_at(p->idsfd, shard);
	if (sfd < 0)
		return errno == ENOENT ? 0 : -1;
	int rc = 0;
	ssize_t n = readlinkat(sfd, name, link, sizeof link - 1);
	if (n >= 0) {
		link[n] = '\0';
		if (strcmp(link, date) == 0 && (unlinkat(sfd, name, 0) != 0 || fsync(sfd) != 0))
			rc = -1;
	} else if (errno != ENOENT) {
		rc = -1;
	}
	close(sfd);
	return rc;
}

/*
 * Whether the open job folder may go: due by its last delivery and not a failure
 * kept. Reads its job.json into c (*have_card says whether there is one). Returns
 * 1, 0, or -1 on errors.
 */
static int job_may_go(const struct pruner *p, int jobfd, struct payload_card *c, int *have_card)
{
	struct stat st;
	time_t json_mtime = 0;
	if (fstat(jobfd, &st) != 0)
		return -1;
	time_t last = st.st_mtime;
	memset(c, 0, sizeof *c);
	*have_card = read_card(jobfd, c, &json_mtime) == 0;
	/* The folder changes with each delivery's rename; job.json is rewritten by each. */
	if (json_mtime > last)
		last = json_mtime;
	return prune_is_due(last, p->now, p->days) &&
	       !(p->keep_failed && (!*have_card || prune_is_failed(c->outcome)));
}

/* One job folder jobs/<date>/<name>: keep, skip, or remove whole. */
static void prune_job(struct pruner *p, int dayfd, const char *date, const char *name)
{
	char dir[600];
	snprintf(dir, sizeof dir, "jobs/%s/%s", date, name);
	int jobfd = open_dir_at(dayfd, name);
	if (jobfd < 0)
		return;
	struct stat held, named;
	struct payload_card *c = calloc(1, sizeof *c);
	int have_card = 0;
	int go = c != NULL ? job_may_go(p, jobfd, c, &have_card) : -1;
	if (go < 0) {
		p->errors++;
		goto out;
	}
	if (!go) {
		p->kept++;
		goto out;
	}
	/* A delivery of this job holds the lock: leave it to the next run. */
	if (flock(jobfd, LOCK_EX | LOCK_NB) != 0) {
		p->busy++;
		goto out;
	}
	/*
	 * Decided again under the lock: a delivery may have been stored (and answered
	 * 200) since the look above, and another prune may have taken the folder away.
	 */
	if (fstat(jobfd, &held) != 0 || fstatat(dayfd, name, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
	    held.st_nlink == 0 || held.st_ino != named.st_ino || held.st_dev != named.st_dev)
		goto out;
	go = job_may_go(p, jobfd, c, &have_card);
	if (go < 0) {
		p->errors++;
		goto out;
	}
	if (!go) {
		p->kept++;
		goto out;
	}
	const char *id = have_card && c->id[0] ? c->id : name;
	const char *outcome = have_card ? c->outcome : "";
	if (p->dry_run) {
		fprintf(p->out, "would remove %s (%s)\n", dir, outcome[0] ? outcome : "no job.json");
		p->pruned++;
		goto out;
	}
	char hidden[300];
	snprintf(hidden, sizeof hidden, PRUNE_PREFIX "%s", name);
	/* Out of the index first: from now on a delivery of this id begins a new job. */
	if (unindex(p, date, name) != 0 || renameat(dayfd, name, dayfd, hidden) != 0 || fsync(dayfd) != 0) {
		fprintf(p->err, "imagehook prune: %s: %s\n", dir, strerror(errno));
		p->errors++;
		goto out;
	}
	if (rm_tree(dayfd, hidden, 0) != 0) {
		fprintf(p->err, "imagehook prune: %s: removing it: %s (the next prune finishes it)\n",
			dir, strerror(errno));
		p->errors++;
	}
	log_pruned(p, dir, id, outcome);
	p->pruned++;
out:
	free(c);
	close(jobfd);
}

static int is_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Lists the names of a folder that pass keep(), sorted. */
static int list_dir(int fd, int (*keep)(const char *), char ***names, size_t *n)
{
	int copy = dup(fd);
	if (copy < 0)
		return -1;
	DIR *d = fdopendir(copy);
	if (d == NULL) {
		close(copy);
		return -1;
	}
	rewinddir(d);
	*names = NULL;
	*n = 0;
	size_t cap = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (!keep(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			char **v = realloc(*names, cap * sizeof *v);
			if (v == NULL) {
				rc = -1;
				break;
			}
			*names = v;
		}
		if (((*names)[*n] = strdup(de->d_name)) == NULL) {
			rc = -1;
			break;
		}
		(*n)++;
	}
	closedir(d);
	return rc;
}

static void free_list(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int is_year(const char *s) { return is_digits(s, 4); }
static int is_2(const char *s) { return is_digits(s, 2); }
static int is_entry(const char *s) { return strcmp(s, ".") != 0 && strcmp(s, "..") != 0; }

/* Opens the folder name in base and lists it (list_dir()); the folder, or -1 when either fails. */
static int open_listed(int base, const char *name, int (*keep)(const char *), char ***names,
		       size_t *n)
{
	int fd = open_dir_at(base, name);
	if (fd >= 0 && list_dir(fd, keep, names, n) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Walks top/YYYY/MM/DD; for jobs each job folder, for rejected whole day folders by date. */
static void walk(struct pruner *p, const char *top, int jobs)
{
	int topfd = open_dir_at(p->rootfd, top);
	if (topfd < 0)
		return;
	char **ys;
	size_t ny;
	if (list_dir(topfd, is_year, &ys, &ny) != 0) {
		p->errors++;
		close(topfd);
		return;
	}
	for (size_t y = 0; y < ny; y++) {
		char **ms;
		size_t nm;
		int yfd = open_listed(topfd, ys[y], is_2, &ms, &nm);
		if (yfd < 0)
			continue;
		for (size_t m = 0; m < nm; m++) {
			char **ds;
			size_t nd;
			int mfd = open_listed(yfd, ms[m], is_2, &ds, &nd);
			if (mfd < 0)
				continue;
			for (size_t d = 0; d < nd; d++) {
				char date[16];
				snprintf(date, sizeof date, "%.4s/%.2s/%.2s", ys[y], ms[m], ds[d]);
				if (!jobs) {
					/* A rejected body is a failure: --keep-failed keeps them all. */
					struct stat st;
					if (!p->keep_failed && fstatat(mfd, ds[d], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					    S_ISDIR(st.st_mode) && prune_is_due(st.st_mtime, p->now, p->days)) {
						if (p->dry_run)
							fprintf(p->out, "would remove rejected/%s\n", date);
						else if (rm_tree(mfd, ds[d], 0) != 0)
							p->errors++;
					}
					continue;
				}
				char **js;
				size_t nj;
				int dfd = open_listed(mfd, ds[d], is_entry, &js, &nj);
				if (dfd < 0)
					continue;
				for (size_t j = 0; j < nj; j++) {
					if (strncmp(js[j], PRUNE_PREFIX, strlen(PRUNE_PREFIX)) == 0) {
						if (!p->dry_run)
							(void)rm_tree(dfd, js[j], 0);
					} else if (js[j][0] != '.') {
						prune_job(p, dfd, date, js[j]);
					}
				}
				free_list(js, nj);
				close(dfd);
				/* An emptied day goes too (fails, as it should, while anything is in it). */
				if (!p->dry_run)
					(void)unlinkat(mfd, ds[d], AT_REMOVEDIR);
			}
			free_list(ds, nd);
			close(mfd);
		}
		free_list(ms, nm);
		close(yfd);
	}
	free_list(ys, ny);
	close(topfd);
}

static int usage(FILE *err, const char *msg, const char *arg)
{
	fprintf(err, "imagehook prune: %s%s%s\n"
		     "usage: imagehook prune --older-than DAYS [--keep-failed] [--dry-run]\n"
		     "  DAYS: whole days since a job's last delivery, at least %d\n",
		msg, arg ? " " : "", arg ? arg : "", PRUNE_MIN_DAYS);
	return 2;
}

int prune_main(const struct settings *s, int argc, char **argv, FILE *out, FILE *err)
{
	struct pruner p;
	memset(&p, 0, sizeof p);
	p.s = s;
	p.out = out;
	p.err = err;
	p.days = -1;
	p.log.fd = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--older-than") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			p.days = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || end == argv[i] || p.days > 36500)
				return usage(err, "not a number of days:", argv[i]);
			if (p.days < PRUNE_MIN_DAYS)
				return usage(err, "--older-than must be at least 1 day (a sender may still retry",
					     "a younger job)");
		} else if (strcmp(argv[i], "--keep-failed") == 0) {
			p.keep_failed = 1;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			p.dry_run = 1;
		} else {
			return usage(err, "unknown argument", argv[i]);
		}
	}
	if (p.days < 0)
		return usage(err, "--older-than DAYS is required", NULL);
	if (s->s3_bucket != NULL) {
		fprintf(err, "imagehook prune: the jobs are in s3://%s: use the bucket's lifecycle rules "
			"(expiration by age) instead\n", s->s3_bucket);
		return 1;
	}
	p.now = time(NULL);
	p.rootfd = open(s->output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p.rootfd < 0) {
		fprintf(err, "imagehook prune: %s: %s\n", s->output_dir, strerror(errno));
		return 1;
	}
	p.idsfd = open_dir_at(p.rootfd, ".ids");
	if (!p.dry_run && logfile_open(&p.log, s->log_path) != IH_OK) {
		fprintf(err, "imagehook prune: log %s: %s\n", s->log_path, strerror(errno));
		close(p.rootfd);
		if (p.idsfd >= 0)
			close(p.idsfd);
		logfile_close(&p.log);
		return 1;
	}
	walk(&p, "jobs", 1);
	walk(&p, "rejected", 0);
	if (p.idsfd >= 0)
		close(p.idsfd);
	close(p.rootfd);
	logfile_close(&p.log);
	fprintf(out, "%s %u job%s, kept %u, %u busy (left for the next run)%s\n",
		p.dry_run ? "would remove" : "removed", p.pruned, p.pruned == 1 ? "" : "s", p.kept,
		p.busy, p.errors ? ", with errors (see above)" : "");
	/* Their cards, thumbnails and day pages go with them. */
	if (!p.dry_run && p.pruned > 0 && s->gallery) {
		char a0[] = "gallery", a1[] = "--no-thumbnails";
		char *gargv[] = { a0, a1, NULL };
		FILE *devnull = fopen("/dev/null", "we");
		if (gallery_main(s, 2, gargv, devnull ? devnull : out, err) != 0)
			p.errors++;
		if (devnull != NULL)
			fclose(devnull);
	}
	return p.errors ? 1 : 0;
}
