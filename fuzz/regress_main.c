/* regress_main.c - replays a fuzz target's corpus and regressions without libFuzzer, as TAP. */
#include "ih_config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* FUZZ_NAME (payload, image, ...) and FUZZ_SEEDS (a source folder, or "") come from the build. */
#ifndef FUZZ_SEEDS
#define FUZZ_SEEDS ""
#endif

#define REGRESS_MAX_INPUT (64 * 1024 * 1024)

/* Reads a whole file; returns a malloc'd buffer (never NULL on success) or NULL. */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct stat st;
	unsigned char *data = NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= REGRESS_MAX_INPUT) {
		data = malloc((size_t)st.st_size + 1);
		if (data != NULL && fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
			free(data);
			data = NULL;
		}
		*len = (size_t)st.st_size;
	}
	fclose(f);
	return data;
}

static int skip_dot(const struct dirent *e)
{
	return e->d_name[0] != '.' && strcmp(e->d_name, "README") != 0;
}

/* Runs every file of dir in name order; returns how many ran, or -1 when one could not be read. */
static int run_dir(const char *dir, int *n)
{
	struct dirent **names;
	int count = scandir(dir, &names, skip_dot, alphasort);
	if (count < 0) {
		printf("# %s: no such folder, nothing to replay\n", dir);
		return 0;
	}
	int bad = 0;
	for (int i = 0; i < count; i++) {
		char path[4096 + 260];
		size_t len = 0;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		/* Said before running, so a crash names its input. */
		printf("# %s\n", path);
		fflush(stdout);
		unsigned char *data = slurp(path, &len);
		if (data == NULL) {
			printf("not ok %d - %s cannot be read\n", ++*n, path);
			bad = 1;
		} else {
			LLVMFuzzerTestOneInput(data, len);
			printf("ok %d - %s: %s input of %lu bytes handled\n", ++*n, FUZZ_NAME, names[i]->d_name,
			       (unsigned long)len);
			free(data);
		}
		fflush(stdout);
		free(names[i]);
	}
	free(names);
	return bad ? -1 : count;
}

int main(void)
{
	const char *top = getenv("TOP_SRCDIR");
	char dir[4096];
	int n = 0, bad = 0;
	if (top == NULL || *top == '\0')
		top = ".";
	const char *dirs[] = { "fuzz/corpus/" FUZZ_NAME, "fuzz/regressions/" FUZZ_NAME, FUZZ_SEEDS };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (dirs[i][0] == '\0')
			continue;
		snprintf(dir, sizeof dir, "%s/%s", top, dirs[i]);
		if (run_dir(dir, &n) < 0)
			bad = 1;
	}
	if (n == 0) {
		printf("not ok 1 - %s: no input found below %s/fuzz\n", FUZZ_NAME, top);
		n = 1;
		bad = 1;
	}
	printf("1..%d\n", n);
	return bad;
}
