/* bigstr.h - lift long base64 image strings out of a JSON text before json-c parses it. */
#ifndef IH_BIGSTR_H
#define IH_BIGSTR_H

#include <stddef.h>

/*
 * json-c copies every string it parses, so a 40 MB callback would sit in memory
 * twice and json-c would tokenize every base64 byte. Instead, each long string
 * value that holds base64 image data stays where it is in the body, and json-c
 * gets a compact copy of the text in which each such string is replaced by a short
 * marker "<nonce>:<n>" (the nonce is random per body, so a sender cannot forge one).
 */
struct bigstr {
	char *compact;            /* the JSON text with markers, NUL-terminated */
	size_t compact_len;
	size_t *off;              /* raw content offset of string n in the body */
	size_t *len;              /* raw content length (escapes included) */
	char **copy;              /* string n unescaped, when it had escapes, or NULL */
	size_t *copy_len;
	size_t n;
	size_t cap;
	char nonce[17];
};

/*
 * Scans body[0..len) and fills *b: every string value (not key) of at least
 * min_len raw bytes whose content starts like base64 of a PNG, JPEG, RIFF, GIF,
 * EBML or ISO BMFF file, or like a data: URI of media or base64, and holds only
 * printable ASCII with the escapes \/ \n \r
 * \t, is lifted. Text that is not JSON is copied as it is (json-c then rejects it).
 * Returns IH_OK or IH_ERR_NOMEM; the caller frees *b with bigstr_free(). Borrows body.
 */
int bigstr_extract(const char *body, size_t len, size_t min_len, struct bigstr *b);

/* Returns n if s[0..slen) is one of b's markers, else -1. Pure. */
long bigstr_marker(const struct bigstr *b, const char *s, size_t slen);

/*
 * Sets *text and *tlen to the content of string n: a pointer into body (the one
 * given to bigstr_extract, which is never modified) when it has no escapes, else
 * an unescaped copy that b owns. The text is not NUL-terminated. Returns IH_OK or
 * IH_ERR_NOMEM.
 */
int bigstr_get(struct bigstr *b, const char *body, size_t n, const char **text, size_t *tlen);

/* Frees what *b owns; bigstr_free on a zeroed struct is a no-op. */
void bigstr_free(struct bigstr *b);

#endif
