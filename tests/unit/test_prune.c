/*
 * test_prune.c - which jobs imagehook prune may remove, and prune racing a delivery.
 *
 * The races are driven deterministically: this test is linked with
 * -Wl,--wrap=flock (src/ops.am), so the store's and prune's flock() calls come
 * here first, and one armed call on one folder runs the other side's steps right
 * before it takes the lock.
 */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "ih_error.h"
#include "prune.h"
#include "settings.h"
#include "store.h"

#define DAY 86400

static void test_due(void **state)
{
	(void)state;
	time_t now = 1800000000;
	assert_false(prune_is_due(now - 86400 * 3, now, 3));
	assert_true(prune_is_due(now - 86400 * 3 - 1, now, 3));
	assert_false(prune_is_due(now - 86400 * 30, now, 0));   /* never inside the retry window */
	assert_false(prune_is_due(now - 86400 * 30, now, -1));
	assert_false(prune_is_due(now + 1000, now, 1));           /* a clock set back */
}

static void test_failed(void **state)
{
	(void)state;
	assert_false(prune_is_failed("stored"));
	assert_false(prune_is_failed("recorded"));
	assert_true(prune_is_failed("failed"));
	assert_true(prune_is_failed("stored_partial"));
	assert_true(prune_is_failed("lost_upstream"));
	assert_true(prune_is_failed(""));
}

/* The linker's names for flock() (--wrap=flock): ours, and the C library's. */
int __wrap_flock(int fd, int op);
int __real_flock(int fd, int op);

/* One flock() call to interfere with: op on the folder ino/dev, then fn runs first. */
static struct {
	int armed, fired, op;
	ino_t ino;
	dev_t dev;
	void (*fn)(void);
} trap;

int __wrap_flock(int fd, int op)
{
	struct stat sb;
	if (trap.armed && op == trap.op && fstat(fd, &sb) == 0 && sb.st_ino == trap.ino &&
	    sb.st_dev == trap.dev) {
		trap.armed = 0;
		trap.fired = 1;
		trap.fn();
	}
	return __real_flock(fd, op);
}

/* Each race test's private output folder and store; one at a time, for trap.fn. */
static struct {
	char dir[64];
	char root[128];
	char log[160];
	struct settings s;
	struct store *st;
} fx;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	memset(&trap, 0, sizeof trap);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/ih-prune-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(fx.root, sizeof fx.root, "%s/out", fx.dir);
	snprintf(fx.log, sizeof fx.log, "%s/imagehook.log", fx.dir);
	fx.s.output_dir = fx.root;
	fx.s.log_path = fx.log;
	return store_open(fx.root, &fx.st) == IH_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	store_close(fx.st);
	nftw(fx.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* jobs/YYYY/MM/DD of t (UTC), as the store dates a new job. */
static void date_of(time_t t, char *out, size_t outsz)
{
	struct tm tm;
	assert_non_null(gmtime_r(&t, &tm));
	assert_true(strftime(out, outsz, "%Y/%m/%d", &tm) > 0);
}

static void path_of(const char *rel, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s", fx.root, rel);
	assert_true(n > 0 && (size_t)n < outsz);
}

/* A whole delivery as the handler makes it: an image, job.json, the record. Returns its folder. */
static int deliver(const char *id, time_t now, const char *image, const char *data,
		   char *dir, size_t dirsz)
{
	struct store_job *job = NULL;
	int rc = store_job_begin(fx.st, id, NULL, now, &job);
	if (rc == IH_OK)
		rc = store_job_write(job, image, data, strlen(data));
	if (rc == IH_OK)
		rc = store_job_write(job, "job.json", "{}", 2);
	if (rc == IH_OK)
		rc = store_job_commit(job, "delivery-completed.json", "job.json");
	if (rc == IH_OK && dir != NULL)
		snprintf(dir, dirsz, "%s", store_job_dir(job));
	store_job_end(job);
	return rc;
}

/* Makes a job's last delivery ten days old, as prune sees it. */
static void make_old(const char *dir)
{
	char path[512], json[600];
	path_of(dir, path, sizeof path);
	snprintf(json, sizeof json, "%s/job.json", path);
	struct timespec ts[2];
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts[0]), 0);
	ts[0].tv_sec -= 10 * DAY;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, json, ts, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* Arms the trap for op on the folder dir. */
static void arm(const char *dir, int op, void (*fn)(void))
{
	char path[512];
	struct stat sb;
	path_of(dir, path, sizeof path);
	assert_int_equal(stat(path, &sb), 0);
	trap.ino = sb.st_ino;
	trap.dev = sb.st_dev;
	trap.op = op;
	trap.fn = fn;
	trap.fired = 0;
	trap.armed = 1;
}

static int run_prune(void)
{
	char a0[] = "prune", a1[] = "--older-than", a2[] = "1";
	char *argv[] = { a0, a1, a2, NULL };
	FILE *out = fopen("/dev/null", "we");
	assert_non_null(out);
	int rc = prune_main(&fx.s, 3, argv, out, stderr);
	assert_int_equal(fclose(out), 0);
	return rc;
}

static void prune_now(void)
{
	assert_int_equal(run_prune(), 0);
}

static int file_is(const char *rel, const char *want)
{
	char path[512], got[256];
	path_of(rel, path, sizeof path);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, got, sizeof got - 1);
	close(fd);
	if (n < 0)
		return 0;
	got[n] = '\0';
	return strcmp(got, want) == 0;
}

/* What the index entry of a kept-name id says ("" when it has none). */
static void index_entry(const char *name, char *out, size_t outsz)
{
	char hex[DIGEST_HEX_LEN], path[512];
	digest_sha256_hex(name, strlen(name), hex);
	int n = snprintf(path, sizeof path, "%s/.ids/%.2s/%s", fx.root, hex, name);
	assert_true(n > 0 && (size_t)n < sizeof path);
	ssize_t got = readlink(path, out, outsz - 1);
	out[got > 0 ? got : 0] = '\0';
}

/* A retried delivery stored whole in a new job of the day of now, found through the index. */
static void assert_stored_new(const char *id, time_t now, const char *dir, const char *data)
{
	char today[16], want[64], rel[600], entry[32];
	date_of(now, today, sizeof today);
	snprintf(want, sizeof want, "jobs/%s/%s", today, id);
	assert_string_equal(dir, want);
	snprintf(rel, sizeof rel, "%s/0.png", dir);
	assert_true(file_is(rel, data));
	snprintf(rel, sizeof rel, "%s/delivery-completed.json", dir);
	assert_true(file_is(rel, "{}"));
	index_entry(id, entry, sizeof entry);
	assert_string_equal(entry, today);
}

/*
 * A prune runs whole between a delivery's look-up (index entry, folder) and its
 * lock: the delivery must not write into the removed folder, but start over as a
 * new job and be stored whole.
 */
static void test_delivery_after_prune_starts_over(void **state)
{
	(void)state;
	char old[160], dir[160];
	time_t now = time(NULL);
	assert_int_equal(deliver("race-1", now - 10 * DAY, "0.png", "old", old, sizeof old), IH_OK);
	make_old(old);
	arm(old, LOCK_EX, prune_now);
	struct store_job *job = NULL;
	assert_int_equal(store_job_begin(fx.st, "race-1", NULL, now, &job), IH_OK);
	assert_true(trap.fired);
	assert_int_equal(store_job_is_new(job), 1);
	snprintf(dir, sizeof dir, "%s", store_job_dir(job));
	assert_int_equal(store_job_write(job, "0.png", "new", 3), IH_OK);
	assert_int_equal(store_job_write(job, "job.json", "{}", 2), IH_OK);
	assert_int_equal(store_job_commit(job, "delivery-completed.json", "job.json"), IH_OK);
	store_job_end(job);
	assert_stored_new("race-1", now, dir, "new");
	char path[512];
	path_of(old, path, sizeof path);
	assert_int_equal(access(path, F_OK), -1);
}

/* What a prune killed after its rename leaves: no index entry, the folder hidden (and unlocked). */
static void killed_prune(void)
{
	char today_old[16], day[64], hex[DIGEST_HEX_LEN], path[512];
	date_of(time(NULL) - 10 * DAY, today_old, sizeof today_old);
	snprintf(day, sizeof day, "jobs/%s", today_old);
	path_of(day, path, sizeof path);
	int dayfd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(dayfd >= 0);
	int jobfd = openat(dayfd, "race-2", O_RDONLY | O_DIRECTORY);
	assert_true(jobfd >= 0);
	assert_int_equal(flock(jobfd, LOCK_EX | LOCK_NB), 0);
	digest_sha256_hex("race-2", 6, hex);
	snprintf(path, sizeof path, "%s/.ids/%.2s/race-2", fx.root, hex);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(renameat(dayfd, "race-2", dayfd, ".prune-race-2"), 0);
	close(jobfd);
	close(dayfd);
}

/*
 * The lock is taken on a folder a killed prune renamed away: the delivery must
 * not store into it (the next prune deletes it, with whatever was answered 200).
 */
static void test_delivery_never_into_a_pruned_folder(void **state)
{
	(void)state;
	char old[160], dir[160];
	time_t now = time(NULL);
	assert_int_equal(deliver("race-2", now - 10 * DAY, "0.png", "old", old, sizeof old), IH_OK);
	make_old(old);
	arm(old, LOCK_EX, killed_prune);
	assert_int_equal(deliver("race-2", now, "0.png", "new", dir, sizeof dir), IH_OK);
	assert_true(trap.fired);
	/* The next prune finishes the killed one's work: the delivery must survive it. */
	assert_int_equal(run_prune(), 0);
	assert_stored_new("race-2", now, dir, "new");
}

static void deliver_now(void)
{
	assert_int_equal(deliver("race-3", time(NULL), "1.png", "late", NULL, 0), IH_OK);
}

/*
 * A delivery is stored (and answered) between prune's look at a job's age and
 * its lock: prune must see it under the lock and keep the job.
 */
static void test_prune_decides_again_under_the_lock(void **state)
{
	(void)state;
	char old[160], rel[200];
	assert_int_equal(deliver("race-3", time(NULL) - 10 * DAY, "0.png", "old", old, sizeof old),
			 IH_OK);
	make_old(old);
	arm(old, LOCK_EX | LOCK_NB, deliver_now);
	assert_int_equal(run_prune(), 0);
	assert_true(trap.fired);
	snprintf(rel, sizeof rel, "%s/1.png", old);
	assert_true(file_is(rel, "late"));
	snprintf(rel, sizeof rel, "%s/0.png", old);
	assert_true(file_is(rel, "old"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_failed),
		cmocka_unit_test_setup_teardown(test_delivery_after_prune_starts_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery_never_into_a_pruned_folder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prune_decides_again_under_the_lock, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
