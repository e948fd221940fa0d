/* main.c - imagehook's command line: serve (FastCGI or CGI), check, replay, stats, gallery, prune, send. */
#include "ih_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "gallery.h"
#include "handler.h"
#include "health.h"
#include "ih_error.h"
#include "prune.h"
#include "replay.h"
#include "s3.h"
#include "request.h"
#include "send.h"
#include "settings.h"
#include "stats.h"

static void usage(FILE *out)
{
	fputs("usage: imagehook              serve callbacks (FastCGI when started by a web\n"
	      "                              server or spawn-fcgi, one CGI request otherwise)\n"
	      "       imagehook --check-config  check the configuration and the folders, print\n"
	      "                              the effective settings (secrets masked)\n"
	      "       imagehook replay FILE...  run kept bodies (rejected/.../*.body) or saved\n"
	      "                              callbacks through the same pipeline again, as\n"
	      "                              the service user, after fixing a limit or setting\n"
	      "       imagehook stats [--since DURATION | --from TIME [--to TIME]] [--json]\n"
	      "                       [--log PATH]...  what the log says: deliveries by outcome\n"
	      "                              and HTTP status, images, bytes, duplicates, rejects,\n"
	      "                              answer times (DURATION: 90m, 24h, 7d; TIME: ISO 8601\n"
	      "                              UTC; --log - reads standard input, e.g. from zcat)\n"
	      "       imagehook gallery [--days N] [--no-thumbnails]  rebuild the HTML pages in\n"
	      "                              OUTPUT_DIR/gallery/ from the job folders, making\n"
	      "                              missing thumbnails (for cron with THUMBNAILS=0)\n"
	      "       imagehook fetch [--loop [--interval SECONDS]]  fetch the result links\n"
	      "                              callbacks queued (Replicate, fal.ai, S3 uploads):\n"
	      "                              once (a timer or cron), or every few seconds\n"
	      "       imagehook check        the health path's checks, for monit or cron: the\n"
	      "                              configuration, the folders, the free space\n"
	      "       imagehook stats ... --openmetrics  the same as OpenMetrics text (for\n"
	      "                              node_exporter's textfile collector)\n"
	      "       imagehook prune --older-than DAYS [--keep-failed] [--dry-run]\n"
	      "                              remove jobs last delivered more than DAYS ago\n"
	      "       imagehook send URL [FILE] [--secret whsec_...] [--id ID]  post a sample\n"
	      "                              (or FILE's) callback, signed with --secret, and\n"
	      "                              print the answer\n"
	      "       imagehook --version | --help\n"
	      "\n"
	      "Configuration (environment, or a file named by IMAGEHOOK_CONFIG with\n"
	      "NAME = value lines; the environment wins):\n"
	      "  IMAGEHOOK_OUTPUT_DIR   job folders are stored below it\n"
	      "                         (default " IH_LOCALSTATEDIR "/lib/imagehook)\n"
	      "  IMAGEHOOK_LOG          JSON-lines log file\n"
	      "                         (default " IH_LOCALSTATEDIR "/log/imagehook/imagehook.log)\n"
	      "  IMAGEHOOK_TOKEN        the secret; several separated by commas (rotation)\n"
	      "  IMAGEHOOK_TOKEN_FILE   file with one secret per line\n"
	      "  IMAGEHOOK_ALLOW_OPEN   1 to store without a secret (not recommended)\n"
	      "  IMAGEHOOK_MAX_BODY     largest body in bytes (k/m/g suffixes; default 64m)\n"
	      "  IMAGEHOOK_MAX_DEPTH    JSON nesting limit (default 64)\n"
	      "  IMAGEHOOK_MAX_IMAGES   images per callback (default 256)\n"
	      "  IMAGEHOOK_MAX_STRING   longest JSON string in bytes (default 64m)\n"
	      "  IMAGEHOOK_MAX_DECODED  decoded image bytes per callback (default 64m)\n"
	      "  IMAGEHOOK_MAX_PNG_CHUNK, IMAGEHOOK_MAX_TEXT_CHUNK, IMAGEHOOK_MAX_INFLATED_TEXT\n"
	      "                         PNG chunk limits: any chunk but plain text, a compressed\n"
	      "                         text or iCCP chunk, all of it inflated per image\n"
	      "                         (32m, 1m, 8m)\n"
	      "  IMAGEHOOK_SIGNING_SECRET  Standard Webhooks secret(s), whsec_...: require\n"
	      "                         signed deliveries (with the token, when one is set)\n"
	      "  IMAGEHOOK_SIGNING_SECRET_FILE  file with one signing secret per line\n"
	      "  IMAGEHOOK_MAX_WIDTH, IMAGEHOOK_MAX_HEIGHT, IMAGEHOOK_MAX_PIXELS\n"
	      "                         image dimension limits (16384, 16384, 100000000)\n"
	      "  IMAGEHOOK_ADD_INFOTEXT 0 to store A1111 PNGs without adding a missing\n"
	      "                         parameters text chunk (default 1)\n"
	      "  IMAGEHOOK_GALLERY      0 to stop refreshing OUTPUT_DIR/gallery/ as jobs are\n"
	      "                         stored (default 1)\n"
	      "  IMAGEHOOK_MIN_FREE     free space a delivery must leave on the output's file\n"
	      "                         system, bytes (k/m/g) or N%; else 503 (default 1%)\n"
	      "  IMAGEHOOK_ON_STORED    program run after each stored job's answer, with the\n"
	      "                         job folder, id and outcome (no shell)\n"
	      "  IMAGEHOOK_ON_STORED_TIMEOUT, IMAGEHOOK_ON_STORED_MAX  its time limit in\n"
	      "                         seconds and how many run at once per process (60, 2)\n"
	      "  IMAGEHOOK_STORE        s3://bucket/prefix: store jobs in an S3-compatible\n"
	      "                         bucket instead of OUTPUT_DIR (docs/storage.md), with\n"
	      "  IMAGEHOOK_S3_ENDPOINT, IMAGEHOOK_S3_REGION, IMAGEHOOK_S3_ADDRESSING (path or\n"
	      "                         virtual), IMAGEHOOK_S3_CREDENTIALS (a file with\n"
	      "                         aws_access_key_id and aws_secret_access_key),\n"
	      "                         IMAGEHOOK_S3_TIMEOUT (seconds per request, 30)\n"
	      "  IMAGEHOOK_THUMBNAILS   1 to make thumbnails after each answer: each costs\n"
	      "                         ~17 ms of CPU per 1024x1024 PNG (default 0: run\n"
	      "                         `imagehook gallery` from cron to make them)\n"
	      "  IMAGEHOOK_FETCH_HOSTS  hosts result links may be fetched from (default\n"
	      "                         " FETCH_GUARD_DEFAULT_HOSTS ";\n"
	      "                         \"defaults\" in a list adds these; http://host:port\n"
	      "                         allows plain http)\n"
	      "  IMAGEHOOK_FETCH_MAX_BYTES, _TIMEOUT, _MAX_LINKS  per file (64m), seconds per\n"
	      "                         fetch (60), links per job (64)\n"
	      "  IMAGEHOOK_FETCH_RESOLVE  host:port:address pins, as curl --resolve\n"
	      "  IMAGEHOOK_FETCH_AFTER_ANSWER  1: FastCGI fetches a job's links right after\n"
	      "                         answering (needs network; default 0)\n"
	      "  IMAGEHOOK_FAL_JWKS_FILE  fal.ai's JWKS, downloaded once: require fal.ai's\n"
	      "                         ED25519 signature on fal deliveries\n"
	      "  IMAGEHOOK_SIGNATURE_TOLERANCE  seconds a signed delivery's timestamp may be\n"
	      "                         from now (default 300)\n"
	      "\n"
	      "The sender authenticates with ?token=SECRET or a final path segment /SECRET.\n"
	      "GET/HEAD .../health answers 200 {\"ok\":true} or 503 with a reason (details with\n"
	      "the secret); GET .../metrics?token=SECRET answers OpenMetrics text.\n",
	      out);
}

/*
 * Checks every setting and that the folders are usable, creating nothing: run as
 * root, it must not leave root-owned files the service user cannot write.
 */
static int check_config(struct settings *s)
{
	char why[8192];
	int bad = 0;
	settings_print(s, stdout);
	if (s->problems != NULL) {
		fprintf(stderr, "imagehook: configuration problem: %s\n", s->problems);
		bad = 1;
	}
	if (s->s3_bucket != NULL && s->s3_access_key != NULL) {
		/* The bucket instead of the folder: one listing proves address, keys and bucket. */
		struct s3_config c;
		struct s3 *s3 = NULL;
		struct s3_reply r = { 0 };
		settings_s3_config(s, &c);
		int rc = s3_new(&c, &s3);
		if (rc == IH_OK)
			rc = s3_probe(s3, &r);
		if (rc != IH_OK) {
			fprintf(stderr, "imagehook: store s3://%s/%s: %s\n", s->s3_bucket, s->s3_prefix,
				r.error[0] ? r.error : ih_strerror(rc));
			bad = 1;
		}
		s3_reply_free(&r);
		s3_free(s3);
	} else if (s->s3_bucket == NULL && health_writable(s->output_dir, 1, why, sizeof why) != 0) {
		fprintf(stderr, "imagehook: output folder: %s\n", why);
		bad = 1;
	}
	if (health_writable(s->log_path, 0, why, sizeof why) != 0) {
		fprintf(stderr, "imagehook: log file: %s\n", why);
		bad = 1;
	}
	if (!bad)
		printf("configuration OK\n");
	return bad ? 1 : 0;
}

/* `imagehook replay FILE...`: the exit code is 0 only when every body answered 200. */
static int replay(struct settings *s, int n, char **files)
{
	struct handler h;
	struct replay_summary sum;
	struct buf line = { 0 };
	if (n == 0) {
		fputs("imagehook: replay needs at least one file\n", stderr);
		usage(stderr);
		return 2;
	}
	if (s->problems != NULL) {
		fprintf(stderr, "imagehook: configuration problem, nothing replayed: %s\n", s->problems);
		return 1;
	}
	if (handler_init(&h, s) != IH_OK) {
		fputs("imagehook: out of memory\n", stderr);
		return 1;
	}
	if (h.store == NULL) {
		fprintf(stderr, "imagehook: output folder %s: %s\n", s->output_dir,
			ih_strerror(h.store_err));
		handler_fini(&h);
		return 1;
	}
	/* Progress only on a terminal; otherwise only failures are reported, one line each. */
	int tty = isatty(STDERR_FILENO);
	replay_run(&h, files, n, tty ? stderr : NULL, stderr, &sum);
	handler_fini(&h);
	if (replay_summary_line(&sum, &line) == IH_OK)
		fputs(line.data, stdout);
	buf_free(&line);
	return replay_exit_code(&sum);
}

int main(int argc, char **argv)
{
	struct settings s;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("%s\n", PACKAGE_STRING);
		return 0;
	}
	int is_replay = argc > 1 && strcmp(argv[1], "replay") == 0;
	int is_fetch = argc > 1 && strcmp(argv[1], "fetch") == 0;
	/*
	 * The operator replays locally, and fetching receives nothing: no secret is
	 * needed (the fetch unit is not given one), so none missing is a problem.
	 */
	if ((is_replay || is_fetch) && setenv("IMAGEHOOK_ALLOW_OPEN", "1", 1) != 0) {
		fputs("imagehook: out of memory\n", stderr);
		return 1;
	}
	if (settings_load(&s) != IH_OK) {
		fputs("imagehook: out of memory reading the configuration\n", stderr);
		return 1;
	}
	int code;
	if (argc > 1 && strcmp(argv[1], "--check-config") == 0) {
		code = check_config(&s);
	} else if (is_replay) {
		code = replay(&s, argc - 2, argv + 2);
	} else if (argc > 1 && strcmp(argv[1], "stats") == 0) {
		code = stats_main(&s, argc - 1, argv + 1, stdout, stderr);
	} else if (argc > 1 && strcmp(argv[1], "fetch") == 0) {
		code = fetch_main(&s, argc - 1, argv + 1, stdout, stderr);
	} else if (argc > 1 && strcmp(argv[1], "gallery") == 0 && s.s3_bucket != NULL) {
		fputs("imagehook: the gallery reads job folders of the local store only; "
		      "IMAGEHOOK_STORE is an s3:// bucket\n", stderr);
		code = 2;
	} else if (argc > 1 && strcmp(argv[1], "gallery") == 0) {
		code = gallery_main(&s, argc - 1, argv + 1, stdout, stderr);
	} else if (argc > 1 && strcmp(argv[1], "check") == 0) {
		code = health_main(&s, stdout, stderr);
	} else if (argc > 1 && strcmp(argv[1], "prune") == 0) {
		code = prune_main(&s, argc - 1, argv + 1, stdout, stderr);
	} else if (argc > 1 && strcmp(argv[1], "send") == 0) {
		code = send_main(argc - 1, argv + 1, stdout, stderr);
	} else if (argc > 1) {
		fprintf(stderr, "imagehook: unknown argument %s\n", argv[1]);
		usage(stderr);
		code = 2;
	} else {
		struct handler h;
		/* Reported once here (the web server's error log); and in every answer's log line. */
		if (s.problems != NULL)
			fprintf(stderr, "imagehook: configuration problem, refusing to store: %s\n",
				s.problems);
		if (handler_init(&h, &s) != IH_OK) {
			fputs("imagehook: out of memory\n", stderr);
			code = 1;
		} else {
			if (h.store == NULL)
				fprintf(stderr, "imagehook: output folder %s: %s\n", s.output_dir,
					ih_strerror(h.store_err));
			code = request_serve(&h);
			handler_fini(&h);
		}
	}
	settings_free(&s);
	return code;
}
