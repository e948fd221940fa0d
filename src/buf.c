/* buf.c - a growable byte buffer with JSON string escaping. */
#include "ih_config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ih_error.h"

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

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not valid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and code points past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
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
			take = utf8_len(p + i, n - i);
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
