/* utf8.h - strict UTF-8 decoding (RFC 3629), shared by every module that checks text. */
#ifndef IH_UTF8_H
#define IH_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the sequence at s[0..n) (n >= 1): returns its length and sets *cp, or
 * returns 0 when it is not UTF-8 (overlong forms, surrogates, past U+10FFFF,
 * truncated). Pure.
 */
size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* 1 when s[0..n) is valid UTF-8, else 0; ASCII is skipped eight bytes at a time. Pure. */
int utf8_valid(const unsigned char *s, size_t n);

#endif
