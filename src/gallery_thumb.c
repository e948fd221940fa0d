/* gallery_thumb.c - the gallery's thumbnails: found when made before, else made from the PNG. */
#include "ih_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gallery_impl.h"
#include "ih_error.h"
#include "image.h"
#include "store.h"

#define MAX_IMAGE_FILE (64u << 20)

/* The size in an existing thumbnail's IHDR; 0 when it is not a whole PNG header. */
static int thumb_size(int dirfd, const char *name, uint32_t *w, uint32_t *h)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char b[24];
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n;
	do {
		n = pread(fd, b, sizeof b, 0);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n != (ssize_t)sizeof b || memcmp(b, sig, 8) != 0 || memcmp(b + 12, "IHDR", 4) != 0)
		return 0;
	*w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
	*h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
	return *w > 0 && *h > 0 && *w <= GALLERY_THUMB_SIDE && *h <= GALLERY_THUMB_SIDE;
}

/* True for an image worth a thumbnail: a stored output PNG larger than one. */
static int wants_thumb(const struct payload_card_image *im)
{
	uint32_t big = im->width > im->height ? im->width : im->height;
	return !im->input && im->rejected[0] == '\0' && strcmp(im->format, "png") == 0 &&
	       gallery_safe_name(im->file, sizeof im->file) && big > GALLERY_THUMB_SIDE &&
	       (uint64_t)im->width * im->height <= GALLERY_THUMB_MAX_PIXELS;
}

int gallery_make_thumbs(struct gal *g, int jobfd, const struct gallery_jobref *r,
		       const struct payload_card *c, struct gallery_thumb *th)
{
	char rel[200];
	int dirfd = -1;
	int rc = IH_OK;
	for (unsigned i = 0; i < c->n_images && rc != IH_ERR_NOMEM; i++) {
		const struct payload_card_image *im = &c->images[i];
		uint64_t pixels = (uint64_t)im->width * im->height;
		if (!wants_thumb(im))
			continue;
		if (dirfd < 0) {
			snprintf(rel, sizeof rel, "thumbs/%s/%s", r->day, r->name);
			/* Not making thumbnails: only look for ones made earlier (a mkdir costs ~1 ms). */
			dirfd = store_open_dirs(g->galfd, rel, g->thumbnails, 0);
			if (dirfd < 0)
				break;
		}
		if (thumb_size(dirfd, im->file, &th[i].width, &th[i].height)) {
			th[i].made = 1;
			continue;
		}
		if (!g->thumbnails || pixels > g->budget)
			continue;
		g->budget -= pixels;
		char *data = NULL;
		unsigned char *png = NULL;
		size_t len = 0, plen = 0;
		rc = gallery_get_file(jobfd, im->file, MAX_IMAGE_FILE, &data, &len);
		if (rc == IH_OK)
			rc = image_png_thumbnail((const unsigned char *)data, len, g->lim,
						 GALLERY_THUMB_SIDE, &png, &plen, &th[i].width,
						 &th[i].height);
		if (rc == IH_OK)
			rc = gallery_put_file(g, dirfd, im->file, png, plen);
		th[i].made = rc == IH_OK;
		g->made += rc == IH_OK;
		free(data);
		free(png);
	}
	if (dirfd >= 0)
		close(dirfd);
	return rc == IH_ERR_NOMEM ? rc : IH_OK;
}

void gallery_remove_thumbs(struct gal *g, const char *day, const char *name)
{
	char rel[200];
	snprintf(rel, sizeof rel, "thumbs/%s/%s", day, name);
	int fd = store_open_dirs(g->galfd, rel, 0, 0);
	if (fd < 0)
		return;
	DIR *d = gallery_listing(fd);
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strncmp(de->d_name, ".tmp.", 5) == 0)
			(void)unlinkat(fd, de->d_name, 0);
	if (d != NULL)
		closedir(d);
	close(fd);
	/* Best effort, like the unlinks above: a leftover folder only costs its inode. */
	(void)unlinkat(g->galfd, rel, AT_REMOVEDIR);
}
