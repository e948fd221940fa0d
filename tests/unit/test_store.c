/* test_store.c - job folder naming, durable writes, symlink traps and the per-job lock. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "ih_error.h"
#include "store.h"

/* 2026-11-27 12:00:00 UTC, and later instants for "a retry days later". */
#define T_NOV27 ((time_t)1795780800)
#define T_NOV27_LATE ((time_t)1795823999)  /* 23:59:59 the same UTC day */
#define T_NOV30 ((time_t)1796000400)       /* 2026-11-30 01:00 UTC */

#define NAME_MAX_OUT 160

/* Each test's private temp dir; the root the store opens is <dir>/out. */
struct fx {
	char dir[64];
	char root[128];
	struct store *st;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	/* A test may have made a folder read-only; root does not care, others do. */
	if (flag == FTW_DP)
		chmod(path, 0700);
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/ih-store-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	/* Folders below the temp dir must be made writable again before removal. */
	chmod(fx->dir, 0700);
	snprintf(fx->root, sizeof fx->root, "%s/out", fx->dir);
	if (store_open(fx->root, &fx->st) != IH_OK) {
		rm_rf(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	store_close(fx->st);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* Joins fx->root and rel into out. */
static void path_in_root(const struct fx *fx, const char *rel, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s", fx->root, rel);
	assert_true(n > 0 && (size_t)n < outsz);
}

/* Counts the entries of dir whose name starts with prefix (NULL: every entry but . and ..). */
static int count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (prefix == NULL || strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Reads a whole file into buf (NUL-terminated); returns its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t bufsz)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, bufsz - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* What every mapped name must be: usable as one path component, never hidden. */
static void assert_valid_name(const char *name)
{
	size_t n = strlen(name);
	assert_true(n >= 1 && n < NAME_MAX_OUT);
	assert_true(name[0] != '.');
	assert_string_not_equal(name, "..");
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
		if (!ok)
			fail_msg("name \"%s\" has byte 0x%02x at %zu", name, c, i);
	}
}

/* The id map() saw last, for assert_hash_suffix(). */
static const char *last_id = "";

/* Maps id, checks the result is a valid name and that mapping is pure; returns the flag. */
static int map(const char *id, char out[NAME_MAX_OUT])
{
	char again[NAME_MAX_OUT];
	last_id = id;
	int mapped = store_safe_name(id, out, NAME_MAX_OUT);
	assert_int_equal(store_safe_name(id, again, sizeof again), mapped);
	assert_string_equal(out, again);
	assert_valid_name(out);
	return mapped;
}

/* A mapped name ends in '~' and the 64 lowercase hex digits of the SHA-256 of what it maps. */
static void assert_hash_suffix_of(const char *name, const char *of)
{
	size_t n = strlen(name);
	char hex[DIGEST_HEX_LEN];
	assert_true(n >= 65);
	assert_int_equal(name[n - 65], '~');
	digest_sha256_hex(of, strlen(of), hex);
	assert_string_equal(name + n - 64, hex);
}
#define assert_hash_suffix(name) assert_hash_suffix_of(name, last_id)

static void test_safe_name_keeps_safe_ids(void **state)
{
	(void)state;
	static const char *const ids[] = {
		"sync-102c2af4-8ea7-4abb-a9ec-c2a56cf80a16",
		"102c2af4-8ea7-4abb-a9ec-c2a56cf80a16-u1",
		"sync-102c2af4-8ea7-4abb-a9ec-c2a56cf80a16-e2",
		"a", "A.b_c-D9", "x..y",
	};
	char out[NAME_MAX_OUT];
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		assert_int_equal(map(ids[i], out), 0);
		assert_string_equal(out, ids[i]);
	}
	/* 128 safe characters is the longest id kept as it is. */
	char id[130];
	memset(id, 'k', 128);
	id[128] = '\0';
	assert_int_equal(map(id, out), 0);
	assert_string_equal(out, id);
}

static void test_safe_name_maps_unsafe_ids(void **state)
{
	(void)state;
	char out[NAME_MAX_OUT];

	assert_int_equal(map("../etc/passwd", out), 1);
	assert_null(strchr(out, '/'));
	assert_true(strncmp(out, "_._etc_passwd~", 14) == 0);
	assert_hash_suffix(out);

	assert_int_equal(map("jobs/../../x", out), 1);
	assert_null(strchr(out, '/'));
	assert_int_equal(map("/abs", out), 1);
	assert_int_equal(map("a\\b", out), 1);

	/* Control bytes (any non-NUL byte outside the alphabet) become '_'. */
	assert_int_equal(map("a\x01\x1f\n\r\t\x7f\xff" "b", out), 1);
	assert_true(strncmp(out, "a_______b~", 10) == 0);

	/* Leading '.', ".", "..": never a hidden or special name. */
	assert_int_equal(map(".hidden", out), 1);
	assert_true(strncmp(out, "_hidden~", 8) == 0);
	assert_int_equal(map(".", out), 1);
	assert_int_equal(map("..", out), 1);

	/* Empty id: only the hash. */
	assert_int_equal(map("", out), 1);
	assert_int_equal(strlen(out), 65);
	assert_hash_suffix(out);

	/* Over 128 characters: mapped even when every character is safe, capped. */
	char id[201];
	memset(id, 'z', 200);
	id[200] = '\0';
	assert_int_equal(map(id, out), 1);
	assert_int_equal(strlen(out), 64 + 65);
	assert_hash_suffix(out);
	id[129] = '\0';
	assert_int_equal(map(id, out), 1);
	assert_hash_suffix(out);
}

static void test_safe_name_respects_outsz(void **state)
{
	(void)state;
	/* Exactly 160 bytes with a guard after them: nothing may be written past outsz. */
	char area[NAME_MAX_OUT + 16];
	char id[400];
	memset(id, '/', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	memset(area, 'G', sizeof area);
	store_safe_name(id, area, NAME_MAX_OUT);
	for (size_t i = NAME_MAX_OUT; i < sizeof area; i++)
		assert_int_equal(area[i], 'G');
	assert_non_null(memchr(area, '\0', NAME_MAX_OUT));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/*
 * Exhaustive where cheap: every 1- and 2-byte id. Every name is valid, and no two
 * distinct ids share a name (mapped names carry '~', kept names cannot).
 */
static void test_safe_name_all_short_ids_distinct(void **state)
{
	(void)state;
	size_t n = 255 + 255 * 255;
	char (*names)[NAME_MAX_OUT] = calloc(n, sizeof *names);
	assert_non_null(names);
	size_t k = 0;
	char id[3];
	for (int a = 1; a < 256; a++) {
		id[0] = (char)a;
		id[1] = '\0';
		map(id, names[k++]);
		for (int b = 1; b < 256; b++) {
			id[1] = (char)b;
			id[2] = '\0';
			map(id, names[k++]);
		}
	}
	assert_int_equal(k, n);
	qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 1; i < n; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			fail_msg("two ids map to \"%s\"", names[i]);
	free(names);

	/* The same safe prefix, different unsafe bytes: the hash tells them apart. */
	char x[NAME_MAX_OUT], y[NAME_MAX_OUT], z[NAME_MAX_OUT];
	map("job/1", x);
	map("job\\1", y);
	map("job_1", z);
	assert_string_not_equal(x, y);
	assert_string_not_equal(x, z);
	assert_string_equal(z, "job_1");
}

#define REC "delivery-completed.json"

/* One whole delivery of id at t: job.json (and 0.png when img is set), committed. */
static int deliver(struct store *st, const char *id, time_t t, const char *img, char *dir,
		   size_t dirsz)
{
	struct store_job *job = NULL;
	int rc = store_job_begin(st, id, NULL, t, &job);
	if (rc == IH_OK && dir != NULL)
		snprintf(dir, dirsz, "%s", store_job_dir(job));
	if (rc == IH_OK && img != NULL)
		rc = store_job_write(job, "0.png", img, strlen(img));
	if (rc == IH_OK)
		rc = store_job_write(job, "job.json", "{}", 2);
	if (rc == IH_OK)
		rc = store_job_commit(job, REC, "job.json");
	store_job_end(job);
	return rc;
}

static void test_job_begin_dates_by_first_receipt(void **state)
{
	struct fx *fx = *state;
	struct store_job *job = NULL;
	char path[512], dir[256];
	struct stat sb;

	assert_int_equal(store_job_begin(fx->st, "sync-1", NULL, T_NOV27, &job), IH_OK);
	assert_string_equal(store_job_dir(job), "jobs/2026/11/27/sync-1");
	assert_int_equal(store_job_is_new(job), 1);
	/* Nothing of a new job is visible before its commit. */
	path_in_root(fx, "jobs/2026/11/27/sync-1", path, sizeof path);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(store_job_write(job, "job.json", "{}", 2), IH_OK);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(store_job_commit(job, REC, "job.json"), IH_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	store_job_end(job);

	/* A retry three days later finds the folder of the first receipt. */
	job = NULL;
	assert_int_equal(store_job_begin(fx->st, "sync-1", NULL, T_NOV30, &job), IH_OK);
	assert_string_equal(store_job_dir(job), "jobs/2026/11/27/sync-1");
	assert_int_equal(store_job_is_new(job), 0);
	assert_int_equal(store_job_exists(job, REC), 1);
	store_job_end(job);
	path_in_root(fx, "jobs/2026/11/30", path, sizeof path);
	assert_int_equal(stat(path, &sb), -1);

	/* The date is UTC whatever the local zone says. */
	setenv("TZ", "Pacific/Kiritimati", 1);
	tzset();
	assert_int_equal(deliver(fx->st, "sync-2", T_NOV27_LATE, NULL, dir, sizeof dir), IH_OK);
	assert_string_equal(dir, "jobs/2026/11/27/sync-2");
	unsetenv("TZ");
	tzset();

	/* A new id received later is dated later. */
	assert_int_equal(deliver(fx->st, "sync-3", T_NOV30, NULL, dir, sizeof dir), IH_OK);
	assert_string_equal(dir, "jobs/2026/11/30/sync-3");

	/* A first delivery that never commits leaves the date claimed, and nothing else. */
	job = NULL;
	assert_int_equal(store_job_begin(fx->st, "sync-4", NULL, T_NOV27, &job), IH_OK);
	assert_int_equal(store_job_write(job, "0.png", "img", 3), IH_OK);
	store_job_end(job);
	path_in_root(fx, "jobs/2026/11/27", path, sizeof path);
	assert_int_equal(count_entries(path, ".stage"), 0);
	assert_int_equal(deliver(fx->st, "sync-4", T_NOV30, NULL, dir, sizeof dir), IH_OK);
	assert_string_equal(dir, "jobs/2026/11/27/sync-4");

	/* A mapped id is a folder name like any other, and records the id. */
	assert_int_equal(deliver(fx->st, "../../etc/passwd", T_NOV27, NULL, dir, sizeof dir), IH_OK);
	assert_true(strncmp(dir, "jobs/2026/11/27/_._.._etc_passwd~", 33) == 0);
	char idfile[600], got[64];
	snprintf(idfile, sizeof idfile, "%s/%s/.id", fx->root, dir);
	assert_int_equal(slurp(idfile, got, sizeof got), 16);
	assert_string_equal(got, "../../etc/passwd");
}

static void test_job_write_exact_bytes_no_temp(void **state)
{
	struct fx *fx = *state;
	struct store_job *job = NULL;
	unsigned char data[3000];
	char path[512], got[4096];

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 8));
	data[10] = '\0';
	assert_int_equal(store_job_begin(fx->st, "w-1", NULL, T_NOV27, &job), IH_OK);
	assert_int_equal(store_job_exists(job, "0.png"), 0);
	assert_int_equal(store_job_write(job, "0.png", data, sizeof data), IH_OK);
	/* Written twice in one delivery: the later write wins. */
	assert_int_equal(store_job_write(job, "job.json", "old", 3), IH_OK);
	assert_int_equal(store_job_write(job, "job.json", "{}", 2), IH_OK);
	assert_int_equal(store_job_exists(job, "0.png"), 0);
	assert_int_equal(store_job_commit(job, REC, "job.json"), IH_OK);
	assert_int_equal(store_job_exists(job, "0.png"), 1);
	assert_int_equal(store_job_exists(job, REC), 1);
	/* After the commit nothing more is written in this delivery. */
	assert_int_not_equal(store_job_write(job, "late", "x", 1), IH_OK);
	store_job_end(job);

	path_in_root(fx, "jobs/2026/11/27/w-1/0.png", path, sizeof path);
	assert_int_equal(slurp(path, got, sizeof got), (ssize_t)sizeof data);
	assert_memory_equal(got, data, sizeof data);
	path_in_root(fx, "jobs/2026/11/27/w-1/" REC, path, sizeof path);
	assert_int_equal(slurp(path, got, sizeof got), 2);
	assert_string_equal(got, "{}");

	/* A later delivery replaces the whole file, never leaves the old tail. */
	job = NULL;
	assert_int_equal(store_job_begin(fx->st, "w-1", NULL, T_NOV27, &job), IH_OK);
	assert_int_equal(store_job_write(job, "0.png", "short", 5), IH_OK);
	assert_int_equal(store_job_write(job, "empty", "", 0), IH_OK);
	assert_int_equal(store_job_write(job, "job.json", "{\"b\":2}", 7), IH_OK);
	/* Not visible before the commit. */
	path_in_root(fx, "jobs/2026/11/27/w-1/0.png", path, sizeof path);
	assert_int_equal(slurp(path, got, sizeof got), (ssize_t)sizeof data);
	assert_int_equal(store_job_commit(job, "delivery-failed.json", "job.json"), IH_OK);
	store_job_end(job);
	assert_int_equal(slurp(path, got, sizeof got), 5);
	assert_string_equal(got, "short");

	path_in_root(fx, "jobs/2026/11/27/w-1", path, sizeof path);
	assert_int_equal(count_entries(path, ".tmp"), 0);
	/* 0.png, empty, job.json, both records */
	assert_int_equal(count_entries(path, NULL), 5);
	path_in_root(fx, "jobs/2026/11/27", path, sizeof path);
	assert_int_equal(count_entries(path, ".stage"), 0);
}

static void test_job_read_and_exists(void **state)
{
	struct fx *fx = *state;
	struct store_job *job = NULL;
	char *data = NULL;
	size_t len = 99;

	assert_int_equal(store_job_begin(fx->st, "r-1", NULL, T_NOV27, &job), IH_OK);
	assert_int_not_equal(store_job_read(job, "job.json", &data, &len), IH_OK);
	assert_int_equal(store_job_write(job, "job.json", "{\"a\":1}", 7), IH_OK);
	assert_int_equal(store_job_write(job, "zero", "", 0), IH_OK);
	assert_int_equal(store_job_commit(job, REC, "job.json"), IH_OK);
	assert_int_equal(store_job_read(job, "job.json", &data, &len), IH_OK);
	assert_int_equal(len, 7);
	assert_string_equal(data, "{\"a\":1}");
	free(data);

	data = NULL;
	assert_int_equal(store_job_read(job, "zero", &data, &len), IH_OK);
	assert_int_equal(len, 0);
	assert_non_null(data);
	assert_string_equal(data, "");
	free(data);
	store_job_end(job);

	/* A second begin sees what the first wrote. */
	job = NULL;
	assert_int_equal(store_job_begin(fx->st, "r-1", NULL, T_NOV30, &job), IH_OK);
	assert_int_equal(store_job_exists(job, "job.json"), 1);
	assert_int_equal(store_job_exists(job, REC), 1);
	assert_int_equal(store_job_exists(job, "nope"), 0);
	store_job_end(job);

	store_job_end(NULL);
	store_close(NULL);
}

/* `imagehook fetch`'s updates: an existing job's files committed without a new record. */
static void test_commit_without_record(void **state)
{
	struct fx *fx = *state;
	struct store_job *job = NULL;
	char *data = NULL;
	size_t len;
	assert_int_equal(store_job_begin(fx->st, "f-1", NULL, T_NOV27, &job), IH_OK);
	assert_int_equal(store_job_write(job, "job.json", "{}", 2), IH_OK);
	/* A new job needs its record: the commit point a retry checks. */
	assert_int_equal(store_job_commit(job, NULL, NULL), IH_ERR_IO);
	assert_int_equal(store_job_commit(job, REC, "job.json"), IH_OK);
	store_job_end(job);

	job = NULL;
	assert_int_equal(store_job_begin(fx->st, "f-1", NULL, T_NOV30, &job), IH_OK);
	assert_int_equal(store_job_write(job, "0.png", "png", 3), IH_OK);
	assert_int_equal(store_job_write(job, "job.json", "{\"b\":2}", 7), IH_OK);
	assert_int_equal(store_job_commit(job, NULL, NULL), IH_OK);
	assert_int_equal(store_job_exists(job, "0.png"), 1);
	assert_int_equal(store_job_read(job, "job.json", &data, &len), IH_OK);
	assert_string_equal(data, "{\"b\":2}");
	free(data);
	store_job_end(job);
	/* The record still holds what was delivered; no stage or temporary file is left. */
	char dir[512];
	path_in_root(fx, "jobs/2026/11/27/f-1", dir, sizeof dir);
	assert_int_equal(count_entries(dir, ".tmp"), 0);
	assert_int_equal(count_entries(dir, NULL), 3);
}

static void test_symlinked_date_folder_is_refused(void **state)
{
	struct fx *fx = *state;
	char outside[256], link[512], dir[256];

	snprintf(outside, sizeof outside, "%s/outside", fx->dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	path_in_root(fx, "jobs/2026", link, sizeof link);
	assert_int_equal(symlink(outside, link), 0);

	assert_int_not_equal(deliver(fx->st, "evil", T_NOV27, "x", NULL, 0), IH_OK);
	assert_int_equal(count_entries(outside, NULL), 0);

	/* Other years still work. */
	assert_int_equal(deliver(fx->st, "fine", (time_t)946684799, "x", dir, sizeof dir), IH_OK);
	assert_string_equal(dir, "jobs/1999/12/31/fine");
}

static void test_symlinked_job_folder_and_files_are_not_followed(void **state)
{
	struct fx *fx = *state;
	struct store_job *job = NULL;
	char outside[256], victim[300], link[512], got[64];

	snprintf(outside, sizeof outside, "%s/outside", fx->dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(victim, sizeof victim, "%s/victim", outside);
	int fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);

	/* The job folder itself is a planted symlink. */
	assert_int_equal(deliver(fx->st, "seed", T_NOV27, NULL, NULL, 0), IH_OK);
	path_in_root(fx, "jobs/2026/11/27/planted", link, sizeof link);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_not_equal(deliver(fx->st, "planted", T_NOV27, "x", NULL, 0), IH_OK);
	assert_int_equal(count_entries(outside, NULL), 1);

	/* So is its stage: refused too, nothing written outside. */
	path_in_root(fx, "jobs/2026/11/27/.stage-staged", link, sizeof link);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_not_equal(deliver(fx->st, "staged", T_NOV27, "x", NULL, 0), IH_OK);
	assert_int_equal(count_entries(outside, NULL), 1);

	/* A symlink where an image will go is replaced, not written through. */
	assert_int_equal(deliver(fx->st, "files", T_NOV27, NULL, NULL, 0), IH_OK);
	path_in_root(fx, "jobs/2026/11/27/files/0.png", link, sizeof link);
	assert_int_equal(symlink(victim, link), 0);
	job = NULL;
	assert_int_equal(store_job_begin(fx->st, "files", NULL, T_NOV27, &job), IH_OK);
	assert_int_equal(store_job_exists(job, "0.png"), 1);
	char *data = NULL;
	size_t len;
	assert_int_not_equal(store_job_read(job, "0.png", &data, &len), IH_OK);
	assert_int_equal(store_job_write(job, "0.png", "image", 5), IH_OK);
	assert_int_equal(store_job_write(job, "job.json", "{}", 2), IH_OK);
	assert_int_equal(store_job_commit(job, "delivery-failed.json", "job.json"), IH_OK);
	store_job_end(job);
	assert_int_equal(slurp(victim, got, sizeof got), 4);
	assert_string_equal(got, "keep");
	struct stat sb;
	assert_int_equal(lstat(link, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));

	/* The lock is the job folder itself: no lock file is created. */
	path_in_root(fx, "jobs/2026/11/27/lockjob", link, sizeof link);
	assert_int_equal(deliver(fx->st, "lockjob", T_NOV27, NULL, NULL, 0), IH_OK);
	assert_int_equal(count_entries(link, NULL), 2);  /* job.json and its record */
}

/* Status names: readable for the plain upper-case statuses, injective for every status. */
static void test_status_name_injective(void **state)
{
	(void)state;
	char a[NAME_MAX_OUT], b[NAME_MAX_OUT];
	static const char *const plain[][2] = {
		{ "COMPLETED", "completed" }, { "FAILED", "failed" }, { "CANCELLED", "cancelled" },
		{ "TIMED_OUT", "timed_out" }, { "IN_PROGRESS", "in_progress" }, { "UNKNOWN", "unknown" },
		{ "X1", "x1" },
	};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		assert_int_equal(store_status_name(plain[i][0], NULL, a, sizeof a), 0);
		assert_string_equal(a, plain[i][1]);
	}
	/* Case pairs no longer share a record. */
	assert_int_equal(store_status_name("Completed", NULL, a, sizeof a), 1);
	assert_string_not_equal(a, "completed");
	last_id = "Completed";
	assert_hash_suffix(a);
	assert_true(strncmp(a, "Completed~", 10) == 0);
	assert_int_equal(store_status_name("completed", NULL, b, sizeof b), 1);
	assert_string_not_equal(a, b);
	assert_string_not_equal(b, "completed");

	/* Long statuses that agree on 32 (or 16) characters. */
	char s1[80], s2[80];
	memset(s1, 'A', 40);
	memcpy(s2, s1, 40);
	s1[40] = 'X';
	s2[40] = 'Y';
	s1[41] = s2[41] = '\0';
	assert_int_equal(store_status_name(s1, NULL, a, sizeof a), 1);
	assert_int_equal(store_status_name(s2, NULL, b, sizeof b), 1);
	assert_string_not_equal(a, b);
	/* 32 characters is plain, 33 is not. */
	s1[32] = '\0';
	assert_int_equal(store_status_name(s1, NULL, a, sizeof a), 0);
	s1[32] = 'A';
	s1[33] = '\0';
	assert_int_equal(store_status_name(s1, NULL, b, sizeof b), 1);
	assert_string_not_equal(a, b);
	/* Unsafe bytes that would read the same once replaced. */
	assert_int_equal(store_status_name("FAILED/x", NULL, a, sizeof a), 1);
	assert_int_equal(store_status_name("FAILED\\x", NULL, b, sizeof b), 1);
	assert_string_not_equal(a, b);
	assert_null(strchr(a, '/'));
	/* The empty status (payload says UNKNOWN instead, but the store must not care). */
	assert_int_equal(store_status_name("", NULL, a, sizeof a), 1);
	assert_int_equal(strlen(a), 65);

	/* Every 1- and 2-byte status: a valid, distinct name; the longest name fits. */
	size_t n = 255 + 255 * 255, k = 0;
	char (*names)[NAME_MAX_OUT] = calloc(n, sizeof *names);
	assert_non_null(names);
	char st[3];
	for (int x = 1; x < 256; x++) {
		st[0] = (char)x;
		st[1] = '\0';
		store_status_name(st, NULL, names[k], NAME_MAX_OUT);
		assert_valid_name(names[k++]);
		for (int y = 1; y < 256; y++) {
			st[1] = (char)y;
			st[2] = '\0';
			store_status_name(st, NULL, names[k], NAME_MAX_OUT);
			assert_valid_name(names[k++]);
		}
	}
	qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 1; i < n; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			fail_msg("two statuses map to \"%s\"", names[i]);
	free(names);
	char big[4096];
	memset(big, '/', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(store_status_name(big, NULL, a, sizeof a), 1);
	assert_true(strlen(a) == 16 + 65);
}

/* Ids that agree on the kept prefix, and ids in ranges the old 64-bit suffix covered. */
static void test_safe_name_collision_like_pairs(void **state)
{
	(void)state;
	char a[NAME_MAX_OUT], b[NAME_MAX_OUT];
	char x[300], y[300];
	memset(x, 'x', 200);
	memcpy(y, x, 200);
	x[200] = 'a';
	y[200] = 'b';
	x[201] = y[201] = '\0';
	assert_int_equal(map(x, a), 1);
	assert_hash_suffix(a);
	assert_int_equal(map(y, b), 1);
	assert_hash_suffix(b);
	assert_string_not_equal(a, b);
	/* The whole digest, not 16 digits of it: a birthday search on 64 bits finds nothing. */
	assert_int_equal(strlen(a), 64 + 65);
	/* Kept names never hold '~', mapped always do. */
	assert_int_equal(map("a~b", a), 1);
	assert_non_null(strchr(a, '~'));
	assert_string_not_equal(a, "a~b");
}

/* A digest name is trusted only with the id its folder records: never merged, never reused. */
static void test_folder_recording_another_id_is_not_reused(void **state)
{
	struct fx *fx = *state;
	char dir[256], path[600], got[64];
	struct store_job *job = NULL;
	assert_int_equal(deliver(fx->st, "id/one", T_NOV27, "first", dir, sizeof dir), IH_OK);
	/* What a colliding id would find: the folder of its name, recording another id. */
	snprintf(path, sizeof path, "%s/%s/.id", fx->root, dir);
	int fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "id/two", 6), 6);
	close(fd);
	assert_int_equal(store_job_begin(fx->st, "id/one", NULL, T_NOV27, &job), IH_ERR_BAD_ID);
	assert_null(job);
	/* And one recording nothing. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(store_job_begin(fx->st, "id/one", NULL, T_NOV27, &job), IH_ERR_BAD_ID);
	snprintf(path, sizeof path, "%s/%s/0.png", fx->root, dir);
	assert_int_equal(slurp(path, got, sizeof got), 5);
	assert_string_equal(got, "first");
	/* A longer id with the same prefix is its own folder. */
	assert_int_equal(deliver(fx->st, "id/one!", T_NOV27, "other", path, sizeof path), IH_OK);
	assert_string_not_equal(path, dir);
	/* The right id is found again, records checked. */
	assert_int_equal(deliver(fx->st, "id/one!", T_NOV27, "other", NULL, 0), IH_OK);
}

/* Sets a file's times a number of seconds back. */
static void age(const char *path, time_t seconds)
{
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= seconds;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static int exists_path(const char *path)
{
	struct stat sb;
	return lstat(path, &sb) == 0;
}

/* Leftovers of killed processes go when a process starts: older than a day, rate-limited, never a held stage. */
static void test_open_sweeps_leftovers(void **state)
{
	struct fx *fx = *state;
	char day[64], jobs[400], rej[400], p[8][600];
	struct tm tm;
	time_t now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y/%m/%d", &tm);
	snprintf(jobs, sizeof jobs, "%s/jobs/%s", fx->root, day);
	snprintf(rej, sizeof rej, "%s/rejected/%s", fx->root, day);
	/* The folders of today: a delivery and a kept body make them. */
	assert_int_equal(deliver(fx->st, "sweep-seed", now, NULL, NULL, 0), IH_OK);
	char rel[256];
	assert_int_equal(store_keep_rejected(fx->st, now, "body", "x", 1, rel, sizeof rel), IH_OK);

	snprintf(p[0], sizeof p[0], "%s/.stage-old", jobs);
	snprintf(p[1], sizeof p[1], "%s/.stage-old/0.png", jobs);
	snprintf(p[2], sizeof p[2], "%s/.stage-new", jobs);
	snprintf(p[3], sizeof p[3], "%s/.tmp.1.2.old", rej);
	snprintf(p[4], sizeof p[4], "%s/.tmp.1.3.new", rej);
	snprintf(p[5], sizeof p[5], "%s/.stage-held", jobs);
	snprintf(p[6], sizeof p[6], "%s/out/.ids/.swept", fx->dir);
	assert_int_equal(mkdir(p[0], 0700), 0);
	int fd = open(p[1], O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mkdir(p[2], 0700), 0);
	assert_int_equal(mkdir(p[5], 0700), 0);
	fd = open(p[3], O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	fd = open(p[4], O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	age(p[1], 2 * 86400);
	age(p[0], 2 * 86400);
	age(p[3], 2 * 86400);
	age(p[5], 2 * 86400);
	/* A process still holds this one (a very slow delivery): it stays. */
	int held = open(p[5], O_RDONLY | O_DIRECTORY);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX), 0);
	/* The store of setup() already swept: this open sweeps only once the mark is old. */
	struct store *st = NULL;
	assert_int_equal(store_open(fx->root, &st), IH_OK);
	store_close(st);
	assert_true(exists_path(p[0]) && exists_path(p[3]));
	age(p[6], 2 * 3600);
	st = NULL;
	assert_int_equal(store_open(fx->root, &st), IH_OK);
	store_close(st);
	assert_false(exists_path(p[0]));
	assert_false(exists_path(p[3]));
	assert_true(exists_path(p[2]));
	assert_true(exists_path(p[4]));
	assert_true(exists_path(p[5]));
	close(held);
	/* Committed work is never touched. */
	snprintf(p[7], sizeof p[7], "%s/sweep-seed/" REC, jobs);
	assert_true(exists_path(p[7]));
}

/* A stage a killed process left is emptied before it is used: no stray file joins the job. */
static void test_stale_stage_is_emptied(void **state)
{
	struct fx *fx = *state;
	char path[600], dir[256];
	assert_int_equal(deliver(fx->st, "seed", T_NOV27, NULL, NULL, 0), IH_OK);
	path_in_root(fx, "jobs/2026/11/27/.stage-stale", path, sizeof path);
	assert_int_equal(mkdir(path, 0700), 0);
	path_in_root(fx, "jobs/2026/11/27/.stage-stale/9.png", path, sizeof path);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(deliver(fx->st, "stale", T_NOV27, "x", dir, sizeof dir), IH_OK);
	path_in_root(fx, dir, path, sizeof path);
	assert_int_equal(count_entries(path, NULL), 3);  /* 0.png, job.json, record */
	path_in_root(fx, "jobs/2026/11/27", path, sizeof path);
	assert_int_equal(count_entries(path, ".stage"), 0);
}

/* A long-lived process keeps folders open: one removed meanwhile is made again, not written into. */
static void test_removed_folders_are_made_again(void **state)
{
	struct fx *fx = *state;
	char path[600], dir[256];
	struct stat sb;
	assert_int_equal(deliver(fx->st, "keep-1", T_NOV27, NULL, NULL, 0), IH_OK);
	path_in_root(fx, "jobs/2026/11/27", path, sizeof path);
	rm_rf(path);
	char hex[DIGEST_HEX_LEN], rel[16];
	digest_sha256_hex("keep-1", 6, hex);
	snprintf(rel, sizeof rel, ".ids/%.2s", hex);
	path_in_root(fx, rel, path, sizeof path);
	rm_rf(path);
	assert_int_equal(deliver(fx->st, "keep-2", T_NOV27, "x", dir, sizeof dir), IH_OK);
	assert_string_equal(dir, "jobs/2026/11/27/keep-2");
	path_in_root(fx, "jobs/2026/11/27/keep-2/" REC, path, sizeof path);
	assert_int_equal(stat(path, &sb), 0);
	/* keep-1's index entry went with its shard: its folder is made again too. */
	assert_int_equal(deliver(fx->st, "keep-1", T_NOV27, NULL, dir, sizeof dir), IH_OK);
	path_in_root(fx, "jobs/2026/11/27/keep-1/" REC, path, sizeof path);
	assert_int_equal(stat(path, &sb), 0);
}

/* The 256 index shards are made when the store opens, once per root: no delivery makes one. */
static void test_open_makes_every_shard(void **state)
{
	struct fx *fx = *state;
	char path[600];
	path_in_root(fx, ".ids", path, sizeof path);
	/* 256 shards, the sweep mark and the shards mark. */
	assert_int_equal(count_entries(path, NULL), 256 + 2);
	path_in_root(fx, ".ids/.shards", path, sizeof path);
	assert_true(exists_path(path));
	/* Without the mark (an older store, or a process that could not sync .ids) they are made again. */
	assert_int_equal(unlink(path), 0);
	path_in_root(fx, ".ids/a7", path, sizeof path);
	assert_int_equal(rmdir(path), 0);
	struct store *st = NULL;
	assert_int_equal(store_open(fx->root, &st), IH_OK);
	store_close(st);
	assert_true(exists_path(path));
	path_in_root(fx, ".ids/.shards", path, sizeof path);
	assert_true(exists_path(path));
	path_in_root(fx, ".ids", path, sizeof path);
	assert_int_equal(count_entries(path, NULL), 256 + 2);
}

/* Hands the test's tree to the unprivileged user the read-only check runs as. */
static int chown_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return lchown(path, 65534, 65534) == 0 ? 0 : -1;
}

/* The read-only check proper; returns 0 or the number of the step that went wrong. */
static int read_only_check(const struct fx *fx)
{
	struct store *st = NULL;
	struct store_job *job = NULL;
	char dir[600];
	if (store_open(fx->root, &st) != IH_OK)
		return 1;
	if (deliver(st, "ro", T_NOV27, NULL, NULL, 0) != IH_OK)
		return 2;
	char day[512];
	snprintf(day, sizeof day, "%s/jobs/2026/11/27", fx->root);
	snprintf(dir, sizeof dir, "%s/ro", day);
	if (chmod(dir, 0500) != 0 || chmod(day, 0500) != 0)
		return 3;
	/* A later delivery cannot stage: permission denied, said as such. */
	if (store_job_begin(st, "ro", NULL, T_NOV27, &job) != IH_OK)
		return 8;
	if (store_job_write(job, "0.png", "data", 4) != IH_ERR_PERM)
		return 4;
	if (store_job_exists(job, "0.png") != 0)
		return 5;
	store_job_end(job);
	job = NULL;
	/* A new job neither. */
	if (store_job_begin(st, "ro-new", NULL, T_NOV27, &job) != IH_ERR_PERM)
		return 9;
	const char *dirs[] = { dir, day };
	for (int k = 0; k < 2; k++) {
		DIR *d = opendir(dirs[k]);
		if (d == NULL)
			return 6;
		struct dirent *e;
		int tmp = 0;
		while ((e = readdir(d)) != NULL)
			tmp += strncmp(e->d_name, ".tmp", 4) == 0 || strncmp(e->d_name, ".stage", 6) == 0;
		closedir(d);
		if (tmp != 0)
			return 7;
	}
	chmod(day, 0700);
	store_job_end(job);
	store_close(st);
	chmod(dir, 0700);
	return 0;
}

/*
 * Permission denied is reported as such and leaves nothing. chmod does not stop
 * root, so the check runs in a child that gives root up first.
 */
static void test_write_into_read_only_folder(void **state)
{
	struct fx *fx = *state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0) {
			if (nftw(fx->dir, chown_one, 16, FTW_PHYS) != 0 || setgroups(0, NULL) != 0 ||
			    setgid(65534) != 0 || setuid(65534) != 0)
				_exit(100);
		}
		_exit(read_only_check(fx));
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("read-only check failed at step %d", WEXITSTATUS(status));
}

/*
 * A write that fails half-way (the file size limit stands in for a full disk, and
 * binds root too, unlike chmod) leaves the old file as it was and no temporary file behind.
 */
static void test_failed_write_leaves_old_state(void **state)
{
	struct fx *fx = *state;
	struct store_job *job = NULL;
	char dir[512], path[600], got[64];
	static char big[64 * 1024];
	struct rlimit old, small;

	memset(big, 'x', sizeof big);
	assert_int_equal(deliver(fx->st, "full", T_NOV27, "old", NULL, 0), IH_OK);
	assert_int_equal(store_job_begin(fx->st, "full", NULL, T_NOV27, &job), IH_OK);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	small = old;
	small.rlim_cur = 4096;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	int rc = store_job_write(job, "0.png", big, sizeof big);
	int rc_new = store_job_write(job, "new.png", big, sizeof big);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);

	assert_true(rc < 0);
	assert_true(rc_new < 0);
	path_in_root(fx, "jobs/2026/11/27/full", dir, sizeof dir);
	snprintf(path, sizeof path, "%s/0.png", dir);
	assert_int_equal(slurp(path, got, sizeof got), 3);
	assert_string_equal(got, "old");
	assert_int_equal(store_job_exists(job, "new.png"), 0);
	assert_int_equal(count_entries(dir, ".tmp"), 0);
	store_job_end(job);
	path_in_root(fx, "jobs/2026/11/27", dir, sizeof dir);
	assert_int_equal(count_entries(dir, ".stage"), 0);
}

static void test_keep_rejected(void **state)
{
	struct fx *fx = *state;
	char rel[256], rel2[256], path[512], got[256];
	static const char body[] = "not json \x00 at all";

	assert_int_equal(store_keep_rejected(fx->st, T_NOV27, "json", body, sizeof body - 1,
					     rel, sizeof rel), IH_OK);
	char want[64];
	snprintf(want, sizeof want, "rejected/2026/11/27/120000-%ld-", (long)getpid());
	assert_true(strncmp(rel, want, strlen(want)) == 0);
	assert_true(strlen(rel) > 5 && strcmp(rel + strlen(rel) - 5, ".json") == 0);
	path_in_root(fx, rel, path, sizeof path);
	assert_int_equal(slurp(path, got, sizeof got), (ssize_t)(sizeof body - 1));
	assert_memory_equal(got, body, sizeof body - 1);

	/* Two bodies in the same second never share a name. */
	assert_int_equal(store_keep_rejected(fx->st, T_NOV27, "json", "b", 1, rel2, sizeof rel2),
			 IH_OK);
	assert_string_not_equal(rel, rel2);
	assert_int_equal(slurp(path, got, sizeof got), (ssize_t)(sizeof body - 1));

	path_in_root(fx, "rejected/2026/11/27", path, sizeof path);
	assert_int_equal(count_entries(path, NULL), 2);
	assert_int_equal(count_entries(path, ".tmp"), 0);
}

static void test_open_failures(void **state)
{
	struct fx *fx = *state;
	char file[256], under[300];
	struct store *st = NULL;

	/* A root below a regular file cannot be created. */
	snprintf(file, sizeof file, "%s/plainfile", fx->dir);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(under, sizeof under, "%s/sub", file);
	assert_int_not_equal(store_open(under, &st), IH_OK);
	assert_int_not_equal(store_open(file, &st), IH_OK);

	/* Nested roots are created; opening twice is fine. */
	snprintf(under, sizeof under, "%s/a/b/c", fx->dir);
	assert_int_equal(store_open(under, &st), IH_OK);
	store_close(st);
	st = NULL;
	assert_int_equal(store_open(under, &st), IH_OK);
	store_close(st);
}

/* Reads exactly n bytes from fd, or fails. */
static int read_n(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

#define HOLD_MS 300

/*
 * A child takes the job's lock, tells us, holds it HOLD_MS, announces the release
 * and ends. Our begin on the same name must wait for it; another name must not.
 */
static void test_lock_serialises_one_job(void **state)
{
	struct fx *fx = *state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		struct store *st = NULL;
		struct store_job *job = NULL;
		if (store_open(fx->root, &st) != IH_OK ||
		    store_job_begin(st, "locked", NULL, T_NOV27, &job) != IH_OK)
			_exit(2);
		if (write(p[1], "L", 1) != 1)
			_exit(3);
		struct timespec hold = { 0, HOLD_MS * 1000000L };
		nanosleep(&hold, NULL);
		/* Said before the release, so the parent can only see it if it waited. */
		if (write(p[1], "R", 1) != 1)
			_exit(4);
		store_job_end(job);
		store_close(st);
		_exit(0);
	}
	close(p[1]);
	/* A stuck lock must fail the test, not hang it. */
	alarm(20);
	char c = 0;
	assert_int_equal(read_n(p[0], &c, 1), 0);
	assert_int_equal(c, 'L');

	struct store_job *other = NULL;
	double t0 = now_ms();
	assert_int_equal(store_job_begin(fx->st, "unrelated", NULL, T_NOV27, &other), IH_OK);
	assert_true(now_ms() - t0 < HOLD_MS / 2);
	store_job_end(other);

	struct store_job *job = NULL;
	t0 = now_ms();
	assert_int_equal(store_job_begin(fx->st, "locked", NULL, T_NOV30, &job), IH_OK);
	double waited = now_ms() - t0;
	/* The release notice is already in the pipe: we got the lock after the child let go. */
	int fl = fcntl(p[0], F_GETFL);
	fcntl(p[0], F_SETFL, fl | O_NONBLOCK);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'R');
	assert_true(waited >= HOLD_MS / 2);
	assert_string_equal(store_job_dir(job), "jobs/2026/11/27/locked");
	store_job_end(job);
	alarm(0);

	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(p[0]);
}

#define RACERS 6

/* Processes receiving one new id at once, with different clocks, agree on one folder. */
static void test_concurrent_first_receipt_agrees(void **state)
{
	struct fx *fx = *state;
	int p[2];
	pid_t pids[RACERS];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	for (int i = 0; i < RACERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(p[0]);
			struct store *st = NULL;
			struct store_job *job = NULL;
			char line[64] = { 0 };
			if (store_open(fx->root, &st) != IH_OK ||
			    store_job_begin(st, "race", NULL, T_NOV27 + (time_t)i * 86400, &job) != IH_OK)
				_exit(2);
			/* Exactly once: the first stores, every other finds the record. */
			int dup = store_job_exists(job, REC);
			if (dup == 0 && (store_job_write(job, "job.json", "{}", 2) != IH_OK ||
					 store_job_commit(job, REC, "job.json") != IH_OK))
				_exit(4);
			snprintf(line, sizeof line, "%c%s", dup ? 'D' : 'S', store_job_dir(job));
			if (write(p[1], line, sizeof line) != (ssize_t)sizeof line)
				_exit(3);
			store_job_end(job);
			store_close(st);
			_exit(0);
		}
	}
	close(p[1]);
	alarm(20);
	char first[64] = { 0 }, line[64];
	int stored = 0;
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(read_n(p[0], line, sizeof line), 0);
		stored += line[0] == 'S';
		if (i == 0)
			memcpy(first, line + 1, sizeof line - 1);
		assert_string_equal(line + 1, first);
	}
	alarm(0);
	assert_int_equal(stored, 1);
	assert_true(strncmp(first, "jobs/2026/1", 11) == 0);
	for (int i = 0; i < RACERS; i++) {
		int status = 0;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(p[0]);
	char path[512];
	/* Exactly one job folder named race exists, whatever the dates tried. */
	int found = 0;
	for (int i = 0; i < RACERS; i++) {
		time_t t = T_NOV27 + (time_t)i * 86400;
		struct tm tm;
		char rel[64];
		struct stat sb;
		gmtime_r(&t, &tm);
		strftime(rel, sizeof rel, "jobs/%Y/%m/%d/race", &tm);
		path_in_root(fx, rel, path, sizeof path);
		found += stat(path, &sb) == 0;
	}
	assert_int_equal(found, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_name_keeps_safe_ids),
		cmocka_unit_test(test_safe_name_maps_unsafe_ids),
		cmocka_unit_test(test_safe_name_respects_outsz),
		cmocka_unit_test(test_safe_name_all_short_ids_distinct),
		cmocka_unit_test(test_safe_name_collision_like_pairs),
		cmocka_unit_test(test_status_name_injective),
		cmocka_unit_test_setup_teardown(test_folder_recording_another_id_is_not_reused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_sweeps_leftovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_stage_is_emptied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_folders_are_made_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_makes_every_shard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_begin_dates_by_first_receipt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_write_exact_bytes_no_temp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_read_and_exists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_without_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinked_date_folder_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinked_job_folder_and_files_are_not_followed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_into_read_only_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_leaves_old_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_serialises_one_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_first_receipt_agrees, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
