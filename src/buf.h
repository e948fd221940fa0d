/* buf.h - a growable byte buffer for building answers, records and log lines. */
#ifndef IH_BUF_H
#define IH_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;   /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

/* Ensures room for extra more bytes plus the NUL. Returns IH_OK or IH_ERR_NOMEM. */
int buf_reserve(struct buf *b, size_t extra);
/* Appends n bytes. Returns IH_OK or IH_ERR_NOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. Returns IH_OK or IH_ERR_NOMEM. */
int buf_puts(struct buf *b, const char *s);
/* Appends printf-style text. Returns IH_OK or IH_ERR_NOMEM. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));
/* Appends printf-style text from a va_list. Returns IH_OK or IH_ERR_NOMEM. */
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(__printf__, 2, 0)));
/*
 * Appends s[0..n) as a JSON string with quotes: control bytes, quote, backslash and
 * DEL escaped; invalid UTF-8 bytes become U+FFFD. At most max_bytes of the input
 * are used (0 = no cap); a cut string ends with "...". Returns IH_OK or IH_ERR_NOMEM.
 */
int buf_json_string(struct buf *b, const char *s, size_t n, size_t max_bytes);
/*
 * Appends everything read from fd until end of file, at most cap bytes in all
 * (IH_ERR_LIMIT past that); retries on EINTR. The buffer is NUL-terminated even
 * when nothing was read. Returns IH_OK or an ih_err; does not close fd.
 */
int buf_read_fd(struct buf *b, int fd, size_t cap);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Frees the memory; the buffer is then empty and reusable. */
void buf_free(struct buf *b);

#endif
