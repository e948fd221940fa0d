/* send.c - `imagehook send`: check a deployment end to end from the command line (libcurl). */
#include "ih_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_CURL
#include <curl/curl.h>
#endif

#include "ih_error.h"
#include "send.h"
#include "signature.h"

#define SEND_MAX_FILE (1u << 30)

/* A 1x1 PNG: enough for the receiver to decode, check and store an image. */
static const char SAMPLE_PNG[] =
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP438AAAAQBAYDFKhhdAAAAAElFTkSuQmCC";

int send_sample_body(const char *id, struct buf *out)
{
	int rc = buf_puts(out, "{\"id\":");
	if (rc == IH_OK)
		rc = buf_json_string(out, id, strlen(id), 0);
	if (rc == IH_OK)
		rc = buf_printf(out, ",\"status\":\"COMPLETED\",\"delayTime\":12,\"executionTime\":345,"
				"\"workerId\":\"imagehook-send\",\"output\":{\"images\":[\"%s\"],"
				"\"info\":\"sent by imagehook send\"}}\n", SAMPLE_PNG);
	return rc;
}

static int usage(FILE *err, const char *msg, const char *arg)
{
	fprintf(err, "imagehook send: %s%s%s\n"
		     "usage: imagehook send URL [FILE] [--secret whsec_...] [--id ID]\n"
		     "  POSTs FILE (- for standard input) or a sample callback with one image to URL,\n"
		     "  signed with the Standard Webhooks secret when --secret is given, and prints\n"
		     "  the answer. Exit status 0 only for a 200 answer.\n",
		msg, arg ? " " : "", arg ? arg : "");
	return 2;
}

#ifdef HAVE_CURL
static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	return buf_append(b, p, size * n) == IH_OK ? size * n : 0;
}

static int read_file(const char *path, struct buf *b)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ih_err_from_errno(errno);
	int rc = buf_read_fd(b, fd, SEND_MAX_FILE);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

int send_main(int argc, char **argv, FILE *out, FILE *err)
{
	const char *url = NULL, *file = NULL, *secret = NULL, *id = NULL;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--secret") == 0 || strcmp(argv[i], "--id") == 0) && i + 1 >= argc)
			return usage(err, "missing value after", argv[i]);
		if (strcmp(argv[i], "--secret") == 0)
			secret = argv[++i];
		else if (strcmp(argv[i], "--id") == 0)
			id = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			return usage(err, "unknown argument", argv[i]);
		else if (url == NULL)
			url = argv[i];
		else if (file == NULL)
			file = argv[i];
		else
			return usage(err, "too many arguments:", argv[i]);
	}
	if (url == NULL)
		return usage(err, "a URL is required", NULL);
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return usage(err, "the URL must start with http:// or https://:", url);

	char msg_id[96], ts[24];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(msg_id, sizeof msg_id, "msg_imagehook_send_%lld_%ld", (long long)now.tv_sec,
		 (long)getpid());
	snprintf(ts, sizeof ts, "%lld", (long long)now.tv_sec);
	struct buf body = { 0 }, answer = { 0 };
	struct curl_slist *headers = NULL;
	CURL *curl = NULL;
	int code = 1, rc;
	rc = file != NULL ? read_file(file, &body) : send_sample_body(id ? id : msg_id + 4, &body);
	if (rc != IH_OK) {
		fprintf(err, "imagehook send: %s: %s\n", file ? file : "sample", ih_strerror(rc));
		goto out;
	}
	char hdr[160], sig[SIGNATURE_TEXT_LEN];
	snprintf(hdr, sizeof hdr, "webhook-id: %s", msg_id);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, hdr);
	if (secret != NULL) {
		if (signature_sign(secret, msg_id, ts, body.data ? body.data : "", body.len, sig) != IH_OK) {
			fprintf(err, "imagehook send: --secret is not a Standard Webhooks secret (whsec_ and base64)\n");
			code = 2;
			goto out;
		}
		snprintf(hdr, sizeof hdr, "webhook-timestamp: %s", ts);
		headers = curl_slist_append(headers, hdr);
		snprintf(hdr, sizeof hdr, "webhook-signature: %s", sig);
		headers = curl_slist_append(headers, hdr);
	}
	/* No "Expect: 100-continue": some servers wait a second for nothing. */
	headers = curl_slist_append(headers, "Expect:");
	curl = curl_easy_init();
	if (curl == NULL || headers == NULL) {
		fprintf(err, "imagehook send: out of memory\n");
		goto out;
	}
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data ? body.data : "");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "imagehook-send/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	CURLcode cc = curl_easy_perform(curl);
	if (cc != CURLE_OK) {
		fprintf(err, "imagehook send: %s: %s\n", url, cerr[0] ? cerr : curl_easy_strerror(cc));
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	fprintf(out, "HTTP %ld\n", status);
	if (answer.len > 0 && fwrite(answer.data, 1, answer.len, out) != answer.len)
		goto out;
	if (answer.len > 0 && answer.data[answer.len - 1] != '\n')
		fputc('\n', out);
	code = status == 200 ? 0 : 1;
out:
	curl_slist_free_all(headers);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	buf_free(&body);
	buf_free(&answer);
	return code;
}
#else
int send_main(int argc, char **argv, FILE *out, FILE *err)
{
	(void)argc;
	(void)argv;
	(void)out;
	usage(err, "this imagehook was built without libcurl", NULL);
	return 1;
}
#endif
