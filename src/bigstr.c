/* bigstr.c - lift long base64 image strings out of a JSON text before json-c parses it. */
#include "ih_config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bigstr.h"
#include "buf.h"
#include "ih_error.h"

static int starts_with(const char *s, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);
	return n >= p && memcmp(s, prefix, p) == 0;
}

/* 1 when s[0..n) is a data: URI whose header (before the comma) says ;base64. */
static int data_base64(const char *s, size_t n)
{
	if (!starts_with(s, n, "data:"))
		return 0;
	size_t head = n < 128 ? n : 128;
	const char *comma = memchr(s, ',', head);
	return comma != NULL && comma - s >= 7 && memcmp(comma - 7, ";base64", 7) == 0;
}

/*
 * Base64 of a media format's magic bytes, each specific enough that text seldom
 * starts so (a lifted string that is no media is put back before anything reads
 * it, so a false start costs a copy, never a wrong value): PNG, JPEG, RIFF
 * (WebP), GIF ("GIF8" = R0lGOD), EBML (WebM/Matroska: 1A 45 DF A3 = GkXfo), ISO
 * BMFF (MP4/MOV/AVIF/HEIF: a 32-bit box size below 2^24, then "ftyp", which is
 * "AAAA", two characters of size, then "Z0eXB"); or a data: URI of media or base64.
 */
static int image_like(const char *s, size_t n)
{
	return starts_with(s, n, "iVBORw0KGgo") || starts_with(s, n, "/9j/") ||
	       starts_with(s, n, "UklGR") || starts_with(s, n, "R0lGOD") ||
	       starts_with(s, n, "GkXfo") ||
	       (starts_with(s, n, "AAAA") && n >= 11 && memcmp(s + 6, "Z0eXB", 5) == 0) ||
	       starts_with(s, n, "data:image/") || starts_with(s, n, "data:video/") ||
	       data_base64(s, n);
}

/*
 * 1 when s[0..n) is all printable ASCII (0x20..0x7e). Eight bytes at a time: of
 * each byte's low seven bits y, y + 0x01 reaches 0x80 only for 0x7f and y + 0x60
 * only from 0x20 on; no sum carries into the next byte. Byte-wise, this loop was a
 * tenth of a 41 MB delivery's CPU time.
 */
static int printable(const char *s, size_t n)
{
	const uint64_t high = 0x8080808080808080u, low7 = 0x7f7f7f7f7f7f7f7fu;
	const uint64_t ones = 0x0101010101010101u, from20 = 0x6060606060606060u;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w, y;
		memcpy(&w, s + i, 8);
		y = w & low7;
		if (((w | (y + ones) | ~(y + from20)) & high) != 0)
			return 0;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e)
			return 0;
	}
	return 1;
}

/*
 * Finds the end of the string whose content starts at p (after the opening
 * quote); returns the offset of the closing quote or len if none. *simple is
 * cleared when the content holds anything but printable ASCII and \/ \n \r \t.
 */
static size_t string_end(const char *body, size_t len, size_t p, int *simple)
{
	const char *quote = NULL;
	*simple = 1;
	while (p < len) {
		/* The common case: a long run of base64 characters. */
		const char *q = body + p;
		size_t left = len - p;
		/* Search for the next quote only once we are past the last one found (it was escaped): linear. */
		if (quote == NULL || quote < q) {
			quote = memchr(q, '"', left);
			if (quote == NULL)
				return len;
		}
		size_t run = (size_t)(quote - q);
		const char *bs = memchr(q, '\\', run);
		if (bs != NULL)
			run = (size_t)(bs - q);
		if (*simple && !printable(q, run))
			*simple = 0;
		p += run;
		if (p >= len)
			return len;
		if (body[p] == '"')
			return p;
		/* A backslash: only short, simple escapes keep the string liftable. */
		if (p + 1 >= len)
			return len;
		if (strchr("/nrt", body[p + 1]) == NULL || body[p + 1] == '\0')
			*simple = 0;
		p += 2;
	}
	return len;
}

static int add_span(struct bigstr *b, size_t off, size_t n)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		size_t *no = realloc(b->off, cap * sizeof *no);
		if (no == NULL)
			return IH_ERR_NOMEM;
		b->off = no;
		size_t *nl = realloc(b->len, cap * sizeof *nl);
		if (nl == NULL)
			return IH_ERR_NOMEM;
		b->len = nl;
		char **nc = realloc(b->copy, cap * sizeof *nc);
		if (nc == NULL)
			return IH_ERR_NOMEM;
		b->copy = nc;
		size_t *ncl = realloc(b->copy_len, cap * sizeof *ncl);
		if (ncl == NULL)
			return IH_ERR_NOMEM;
		b->copy_len = ncl;
		b->cap = cap;
	}
	b->off[b->n] = off;
	b->len[b->n] = n;
	b->copy[b->n] = NULL;
	b->copy_len[b->n] = 0;
	b->n++;
	return IH_OK;
}

static void make_nonce(char nonce[17])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[8];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		/* No entropy to be had: still unpredictable enough to a remote sender. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long v = (unsigned long long)ts.tv_nsec ^
				       ((unsigned long long)getpid() << 32) ^ (unsigned long long)ts.tv_sec;
		memcpy(r, &v, sizeof r);
	}
	for (int i = 0; i < 8; i++) {
		nonce[2 * i] = hex[r[i] >> 4];
		nonce[2 * i + 1] = hex[r[i] & 15];
	}
	nonce[16] = '\0';
}

int bigstr_extract(const char *body, size_t len, size_t min_len, struct bigstr *b)
{
	struct buf out = { 0 };
	size_t copied = 0, p = 0;
	int rc = IH_OK;
	memset(b, 0, sizeof *b);
	make_nonce(b->nonce);
	while (p < len) {
		const char *q = memchr(body + p, '"', len - p);
		if (q == NULL)
			break;
		size_t start = (size_t)(q - body) + 1;
		int simple;
		size_t end = string_end(body, len, start, &simple);
		if (end >= len)
			break;
		size_t n = end - start;
		/* A key is followed by ':'; only values are lifted. */
		size_t after = end + 1;
		while (after < len && strchr(" \t\r\n", body[after]) != NULL && body[after] != '\0')
			after++;
		int is_key = after < len && body[after] == ':';
		if (n >= min_len && simple && !is_key && image_like(body + start, n)) {
			char marker[48];
			int mlen = snprintf(marker, sizeof marker, "%s:%lu", b->nonce, (unsigned long)b->n);
			if ((rc = buf_append(&out, body + copied, start - copied)) != IH_OK ||
			    (rc = buf_append(&out, marker, (size_t)mlen)) != IH_OK ||
			    (rc = add_span(b, start, n)) != IH_OK)
				goto fail;
			copied = end;
		}
		p = end + 1;
	}
	if ((rc = buf_append(&out, body + copied, len - copied)) != IH_OK)
		goto fail;
	b->compact = out.data;
	b->compact_len = out.len;
	return IH_OK;
fail:
	buf_free(&out);
	bigstr_free(b);
	return rc;
}

long bigstr_marker(const struct bigstr *b, const char *s, size_t slen)
{
	if (b == NULL || b->n == 0 || slen < 18 || slen > 40 || memcmp(s, b->nonce, 16) != 0 ||
	    s[16] != ':')
		return -1;
	unsigned long v = 0;
	for (size_t i = 17; i < slen; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v >= b->n)
			return -1;
	}
	return (long)v;
}

int bigstr_get(struct bigstr *b, const char *body, size_t n, const char **text, size_t *tlen)
{
	const char *s = body + b->off[n];
	size_t len = b->len[n];
	if (memchr(s, '\\', len) == NULL) {
		*text = s;
		*tlen = len;
		return IH_OK;
	}
	if (b->copy[n] == NULL) {
		/* Only \/ \n \r \t can be here (see string_end); unescaping only shrinks. */
		char *c = malloc(len + 1);
		if (c == NULL)
			return IH_ERR_NOMEM;
		size_t o = 0;
		for (size_t i = 0; i < len; i++) {
			char ch = s[i];
			if (ch == '\\' && i + 1 < len) {
				ch = s[++i];
				ch = ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch == 't' ? '\t' : ch;
			}
			c[o++] = ch;
		}
		c[o] = '\0';
		b->copy[n] = c;
		b->copy_len[n] = o;
	}
	*text = b->copy[n];
	*tlen = b->copy_len[n];
	return IH_OK;
}

void bigstr_free(struct bigstr *b)
{
	free(b->compact);
	for (size_t i = 0; i < b->n && b->copy != NULL; i++)
		free(b->copy[i]);
	free(b->copy);
	free(b->copy_len);
	free(b->off);
	free(b->len);
	memset(b, 0, sizeof *b);
}
