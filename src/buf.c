/* buf.c - a growable byte buffer with JSON string escaping. */
#include "ih_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ih_error.h"
#include "utf8.h"

int buf_reserve(struct buf *b, size_t extra)
{
	if (b->cap - b->len > extra && b->data != NULL)
		return IH_OK;
	if (extra > SIZE_MAX / 2 - b->len)
		return IH_ERR_NOMEM;
	size_t need = b->len + extra + 1;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (p == NULL)
		return IH_ERR_NOMEM;
	b->data = p;
	b->cap = cap;
	return IH_OK;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);
	if (rc != IH_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return IH_OK;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	int rc = n < 0 ? IH_ERR_NOMEM : buf_reserve(b, (size_t)n);
	if (rc == IH_OK) {
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
	return rc;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}


int buf_json_string(struct buf *b, const char *s, size_t n, size_t max_bytes)
{
	static const char hex[] = "0123456789abcdef";
	int cut = 0;
	if (max_bytes != 0 && n > max_bytes) {
		n = max_bytes;
		cut = 1;
	}
	int rc = buf_reserve(b, n + 8);
	if (rc != IH_OK)
		return rc;
	b->data[b->len++] = '"';
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = p[i];
		char esc[8];
		size_t elen = 0;
		size_t take = 1;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			elen = 2;
		} else if (c == '\n') {
			memcpy(esc, "\\n", 2);
			elen = 2;
		} else if (c == '\t') {
			memcpy(esc, "\\t", 2);
			elen = 2;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		} else if (c >= 0x80) {
			uint32_t cp;
			take = utf8_seq(p + i, n - i, &cp);
			if (take == 0) {
				/* A byte that is not UTF-8 becomes U+FFFD so the line stays valid JSON. */
				memcpy(esc, "\xef\xbf\xbd", 3);
				elen = 3;
				take = 1;
			}
		}
		if (elen > 0)
			rc = buf_append(b, esc, elen);
		else
			rc = buf_append(b, p + i, take);
		if (rc != IH_OK)
			return rc;
		i += take;
	}
	return buf_puts(b, cut ? "...\"" : "\"");
}

int buf_read_fd(struct buf *b, int fd, size_t cap)
{
	char chunk[65536];
	size_t start = b->len;
	int rc = buf_reserve(b, 0);
	while (rc == IH_OK) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ih_err_from_errno(errno);
		if (n == 0)
			break;
		if (b->len - start + (size_t)n > cap)
			return IH_ERR_LIMIT;
		rc = buf_append(b, chunk, (size_t)n);
	}
	if (rc == IH_OK)
		b->data[b->len] = '\0';
	return rc;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
