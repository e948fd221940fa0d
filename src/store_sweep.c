/* store_sweep.c - removes the leftovers of killed deliveries from the local store. */
#include "ih_config.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store_fs.h"

#define SWEEP_MARK ".swept"         /* in .ids/: when the last sweep ran */
#define SWEEP_EVERY 3600            /* seconds between sweeps of one store */
#define SWEEP_DAYS 8                /* date folders swept: today and the 7 before */
#define SWEEP_BUDGET 200000         /* folder entries one sweep may look at */

/*
 * Removes a stage folder left by a killed process when nobody holds it and it is
 * older than the cutoff. Returns 1 when removed.
 */
static int remove_stale_stage(int parent, const char *name, time_t cutoff)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat sb;
	int removed = 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &sb) == 0 && sb.st_mtime < cutoff &&
	    store_clear_folder(fd) == 0 && unlinkat(parent, name, AT_REMOVEDIR) == 0)
		removed = 1;
	close(fd);
	return removed;
}

/* Looks through one date folder for leftovers older than cutoff; spends *budget entries. */
static void sweep_folder(int base, const char *date, time_t cutoff, long *budget)
{
	int dfd = store_open_dirs(base, date, 0, 0);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return;
	}
	struct dirent *e;
	while (*budget > 0 && (e = readdir(d)) != NULL) {
		(*budget)--;
		if (e->d_name[0] != '.')
			continue;
		struct stat sb;
		if (strncmp(e->d_name, ".tmp.", 5) == 0) {
			if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(sb.st_mode) && sb.st_mtime < cutoff)
				(void)unlinkat(dfd, e->d_name, 0);
		} else if (strncmp(e->d_name, STAGE_PREFIX, sizeof STAGE_PREFIX - 1) == 0) {
			(void)remove_stale_stage(dfd, e->d_name, cutoff);
		}
	}
	closedir(d);
}

/*
 * Removes what killed processes left: .tmp.* files (rejected bodies) and .stage-*
 * folders (deliveries), older than a day, in the date folders of the last
 * SWEEP_DAYS days, at most once per SWEEP_EVERY per store and looking at no more
 * than SWEEP_BUDGET entries. Never changes an answer: failures are ignored.
 */
void store_sweep(int idsfd, int jobsfd, int rejectedfd, time_t now)
{
	struct stat sb;
	if (fstatat(idsfd, SWEEP_MARK, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    sb.st_mtime > now - SWEEP_EVERY && sb.st_mtime <= now)
		return;
	int fd = openat(idsfd, SWEEP_MARK, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	int touched = futimens(fd, NULL) == 0;
	close(fd);
	if (!touched)
		return;
	long budget = SWEEP_BUDGET;
	time_t cutoff = now - DAY_SECONDS;
	for (int i = 0; i < SWEEP_DAYS && budget > 0; i++) {
		char date[16];
		store_utc_date(now - (time_t)i * DAY_SECONDS, date, sizeof date, 0);
		sweep_folder(jobsfd, date, cutoff, &budget);
		sweep_folder(rejectedfd, date, cutoff, &budget);
	}
}
