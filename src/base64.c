/* base64.c - strict, table-driven base64 decoder and padded encoder. */
#include "ih_config.h"

#include <stddef.h>
#include <stdint.h>

#include "base64.h"
#include "ih_error.h"

/*
 * Decoding table: 0..63 for the alphabet; everything else has one of the two
 * top bits set, so four lookups OR-ed together and tested against 0xC0 tell the
 * fast path in one branch that a group of four is plain data.
 */
#define WS 0x40  /* CR, LF, space, tab: skipped */
#define PD 0x80  /* '=' */
#define XX 0xFF  /* anything else */

static const unsigned char dec[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, WS, WS, XX, XX, WS, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	WS, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, PD, XX, XX,
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};

static const char enc[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_decoded_max(size_t len)
{
	/* A trailing group of 2 or 3 characters yields 1 or 2 bytes; written so it cannot overflow. */
	size_t rem = len % 4;

	return len / 4 * 3 + (rem > 1 ? rem - 1 : 0);
}

/*
 * In-place safety: every write of 3 bytes happens after the 4 characters they
 * come from were read, and 3 bytes out never pass 4 characters in, so out may
 * alias in. Keep that order if you touch the loops.
 */
int b64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0;
	uint32_t acc = 0;
	unsigned n = 0;   /* data characters in acc (0..3) */
	unsigned pads = 0;
	int err = IH_ERR_BASE64;

	*out_len = 0;
	while (i < len) {
		if (n == 0) {
			/* Fast path: whole groups of four data characters. */
			while (len - i >= 4) {
				unsigned a = dec[s[i]], b = dec[s[i + 1]];
				unsigned c = dec[s[i + 2]], d = dec[s[i + 3]];
				uint32_t v;

				if ((a | b | c | d) & 0xC0)
					break;
				v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
				out[o] = (unsigned char)(v >> 16);
				out[o + 1] = (unsigned char)(v >> 8);
				out[o + 2] = (unsigned char)v;
				o += 3;
				i += 4;
			}
			if (i >= len)
				break;
		}

		unsigned c = dec[s[i++]];

		if (c < 64) {
			acc = acc << 6 | c;
			if (++n == 4) {
				out[o] = (unsigned char)(acc >> 16);
				out[o + 1] = (unsigned char)(acc >> 8);
				out[o + 2] = (unsigned char)acc;
				o += 3;
				acc = 0;
				n = 0;
			}
		} else if (c == WS) {
			continue;
		} else if (c == PD) {
			pads = 1;
			break;
		} else {
			goto fail;
		}
	}

	if (pads) {
		/* Padding ends the data: only more '=' and whitespace may follow. */
		for (; i < len; i++) {
			unsigned c = dec[s[i]];

			if (c == PD)
				pads++;
			else if (c != WS)
				goto fail;
		}
		/* "QQ==" and "QQQ=" only: padding must complete the last group exactly. */
		if (n < 2 || pads != 4 - n)
			goto fail;
	}

	if (o == 0 && n == 0) {
		err = IH_ERR_EMPTY;
		goto fail;
	}
	switch (n) {
	case 0:
		break;
	case 2: /* 12 bits: one byte, the low 4 bits must be zero */
		if (acc & 0x0F)
			goto fail;
		out[o++] = (unsigned char)(acc >> 4);
		break;
	case 3: /* 18 bits: two bytes, the low 2 bits must be zero */
		if (acc & 0x03)
			goto fail;
		out[o] = (unsigned char)(acc >> 10);
		out[o + 1] = (unsigned char)(acc >> 2);
		o += 2;
		break;
	default: /* a lone character carries only 6 bits: not a byte */
		goto fail;
	}
	*out_len = o;
	return IH_OK;

fail:
	*out_len = 0;
	return err;
}

size_t b64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i = 0, o = 0;

	for (; len - i >= 3; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = enc[v >> 18];
		out[o++] = enc[(v >> 12) & 63];
		out[o++] = enc[(v >> 6) & 63];
		out[o++] = enc[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = enc[v >> 18];
		out[o++] = enc[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = enc[v >> 18];
		out[o++] = enc[(v >> 12) & 63];
		out[o++] = enc[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}
