/* store_fs.h - what the local store's modules share (store*.c only; the rest uses store.h). */
#ifndef IH_STORE_FS_H
#define IH_STORE_FS_H

#include <time.h>

#define DAY_SECONDS 86400
#define STAGE_PREFIX ".stage-"      /* a delivery's stage folder, beside its job folder */

/* ---- store_fs.c (which also holds store.h's store_open_dirs and store_write_all) ---- */

/* fsync, retried on EINTR. */
int store_fsync(int fd);
/* Closes fd (when >= 0) keeping errno, as cleanup must not hide the error being reported. */
void store_close_keep_errno(int fd);
/* Creates an absolute or relative path and its parents as folders. Returns IH_OK or an ih_err. */
int store_mkdirs(const char *path);
/* Writes now (UTC) as YYYY/MM/DD, or as HHMMSS when clock is set. */
void store_utc_date(time_t now, char *out, size_t outsz, int clock);
/* Unlinks every entry of the folder dirfd (files; a folder inside is removed if empty). 0 or -1. */
int store_clear_folder(int dirfd);
/* fsyncs the folder that holds path (an absolute or relative path). Returns IH_OK or an ih_err. */
int store_sync_parent_of(const char *path);

/* ---- store_sweep.c ---- */

/*
 * Removes what killed processes left in the date folders of jobsfd and rejectedfd
 * (at most once an hour per store, marked in idsfd). Never fails.
 */
void store_sweep(int idsfd, int jobsfd, int rejectedfd, time_t now);

#endif
