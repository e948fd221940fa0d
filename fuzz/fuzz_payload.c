/* fuzz_payload.c - payload_parse, the accessors and job.json rendering on any body. */
#include "ih_config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "ih_error.h"
#include "payload.h"

#define MAX_IMAGES 16

/* 1 when s[0..n) is strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
static int utf8_strict(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			     c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (len == 0 || n - i < len)
			return 0;
		uint32_t cp = len == 1 ? c : c & (0x7f >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/*
 * "@@" and a digit in the input become a string long enough to be lifted (bigstr)
 * that starts like one of the media prefixes, so that lifted strings land in any
 * field: an id, a status, a key's neighbour, an error object, a JSON string.
 */
static const char *const lift_heads[] = { "iVBORw0KGgo", "/9j/", "UklGR", "R0lGOD", "GkXfo",
					  "AAAAIGZ0eXBpc29t", "data:image/png;base64,",
					  "data:video/mp4;base64,AAAAIGZ0eXBpc29t", "iVBORw0KGgoAAAANSUhEUg",
					  "data:application/octet-stream;base64,R0lGOD" };

static int expand(const uint8_t *data, size_t size, struct buf *out)
{
	for (size_t i = 0; i < size; i++) {
		if (i + 2 < size && data[i] == '@' && data[i + 1] == '@' && data[i + 2] >= '0' &&
		    data[i + 2] <= '9') {
			if (buf_puts(out, lift_heads[data[i + 2] - '0']) != IH_OK)
				return -1;
			for (int k = 0; k < 4200; k++)
				if (buf_append(out, &"QUFB"[k & 3], 1) != IH_OK)
					return -1;
			i += 2;
		} else if (buf_append(out, data + i, 1) != IH_OK) {
			return -1;
		}
	}
	return buf_puts(out, "") == IH_OK ? 0 : -1;
}

/* 1 when text holds a bigstr marker ("<16 hex>:<digits>") that the body did not hold. */
static int marker_leaked(const char *text, size_t n, const char *body, size_t blen)
{
	for (size_t i = 0; i + 18 <= n; i++) {
		size_t h = 0;
		while (h < 16 && i + h < n && ((text[i + h] >= '0' && text[i + h] <= '9') ||
					       (text[i + h] >= 'a' && text[i + h] <= 'f')))
			h++;
		if (h < 16 || text[i + 16] != ':' || text[i + 17] < '0' || text[i + 17] > '9')
			continue;
		int found = 0;
		for (size_t j = 0; j + 18 <= blen && !found; j++)
			found = memcmp(body + j, text + i, 18) == 0;
		if (!found)
			return 1;
	}
	return 0;
}

static int one(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf body = { 0 };
	if (size > 1 << 16 || expand(data, size, &body) != 0) {
		buf_free(&body);
		return 0;
	}
	one((const uint8_t *)body.data, body.len);
	buf_free(&body);
	return 0;
}

static int one(const uint8_t *data, size_t size)
{
	/* Small limits, so that every limit's path is reached as well. */
	struct payload_limits lim = { .max_depth = 24, .max_images = MAX_IMAGES,
				      .max_string = 1 << 16, .max_decoded = 1 << 18 };
	struct payload *p = NULL;
	const char *why = NULL;
	int rc = payload_parse((const char *)data, size, &lim, &p, &why);
	if (rc != IH_OK) {
		FUZZ_ASSERT(rc < 0 && p == NULL);
		FUZZ_ASSERT(why == NULL || strlen(why) < 200);
		return 0;
	}
	const char *id = payload_id(p);
	FUZZ_ASSERT(id != NULL && id[0] != '\0');
	/* What the accessors give is never a marker, and stays valid and unchanged after rendering. */
	const char *fields[] = { id, payload_status(p), payload_worker_id(p), payload_webhook(p),
				 payload_error_text(p) };
	char *copies[5];
	for (size_t i = 0; i < 5; i++) {
		copies[i] = fields[i] ? strdup(fields[i]) : NULL;
		FUZZ_ASSERT(fields[i] == NULL || copies[i] != NULL);
		if (fields[i] != NULL)
			FUZZ_ASSERT(!marker_leaked(fields[i], strlen(fields[i]), (const char *)data, size));
	}
	FUZZ_ASSERT(payload_status(p) != NULL);
	int64_t ms;
	const char *probe[] = { payload_worker_id(p), payload_webhook(p), payload_error_text(p) };
	for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++)
		if (probe[i] != NULL)
			FUZZ_ASSERT(strlen(probe[i]) <= size + 600);
	(void)payload_delay_ms(p, &ms);
	(void)payload_exec_ms(p, &ms);
	(void)payload_output_missing(p);

	size_t n = payload_image_count(p);
	FUZZ_ASSERT(n <= MAX_IMAGES);
	struct payload_stored stored[MAX_IMAGES];
	char files[MAX_IMAGES][32];
	unsigned want_stored = 0, want_rejected = 0;
	memset(stored, 0, sizeof stored);
	for (size_t i = 0; i < n; i++) {
		const struct payload_image *img = payload_image(p, i);
		FUZZ_ASSERT(img != NULL && img->text != NULL);
		/* The span must be readable as a whole (ASan checks it). */
		FUZZ_ASSERT(img->len == 0 || memchr(img->text, '\0', img->len) != img->text + img->len);
		FUZZ_ASSERT(strlen(img->where) < sizeof img->where);
		(void)payload_infotext(p, img->infotext);
		if (img->kind != PAYLOAD_BASE64)
			continue;
		snprintf(files[i], sizeof files[i], "%lu.png", (unsigned long)i);
		stored[i].file = files[i];
		stored[i].format = "png";
		stored[i].bytes = img->len;
		stored[i].sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
		/* The summary counts each file once: a same_as copy is not counted. */
		if (i % 3 == 2) {
			stored[i].error = "rejected by the fuzzer";
			want_rejected += img->same_as < 0;
		} else {
			want_stored += img->same_as < 0;
		}
		/* Stored images are released early, as the handler does. */
		if (i % 2 == 1)
			payload_release_image(p, i);
	}
	FUZZ_ASSERT(payload_image(p, n) == NULL);
	struct payload_record_meta meta = {
		.received = "2026-11-27T12:00:00.000Z", .remote = "127.0.0.1", .outcome = "stored",
		.webhook_redacted = payload_webhook(p) ? "https://example.invalid/hook?token=REDACTED" : NULL,
		.bytes = size, .body_sha256 = "00",
	};
	struct buf out = { 0 };
	FUZZ_ASSERT(payload_render_record(p, stored, &meta, &out) == IH_OK);
	FUZZ_ASSERT(!marker_leaked(out.data, out.len, (const char *)data, size));
	const char *after[] = { payload_id(p), payload_status(p), payload_worker_id(p), payload_webhook(p),
				payload_error_text(p) };
	for (size_t i = 0; i < 5; i++) {
		FUZZ_ASSERT((after[i] == NULL) == (copies[i] == NULL));
		FUZZ_ASSERT(after[i] == NULL || strcmp(after[i], copies[i]) == 0);
		free(copies[i]);
	}
	/* job.json is UTF-8 JSON whatever the body held (json-c alone let overlong forms through). */
	FUZZ_ASSERT(utf8_strict((const unsigned char *)out.data, out.len));
	/* What was rendered reads back, with the images as they were described. */
	unsigned got_stored = 0, got_rejected = 0;
	FUZZ_ASSERT(payload_record_summary(out.data, out.len, &got_stored, &got_rejected) == IH_OK);
	FUZZ_ASSERT(got_stored == want_stored && got_rejected == want_rejected);
	buf_free(&out);
	payload_free(p);
	return 0;
}
