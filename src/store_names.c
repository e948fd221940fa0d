/* store_names.c - folder names made from what a sender sent: safe, injective, never a secret. */
#include "ih_config.h"

#include <stdio.h>
#include <string.h>

#include "digest.h"
#include "store.h"

static int safe_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/*
 * Writes up to max safe characters of shown (others as '_', never a leading '.'),
 * '~', and the SHA-256 of s: shown is s, or s redacted when it holds a secret, so
 * that the readable part never holds any of it and the hash keeps the name injective.
 */
static void digest_name(const char *s, const char *shown, size_t max, int dots, char *out,
			size_t outsz)
{
	char hex[DIGEST_HEX_LEN];
	size_t n = strlen(shown), o = 0;
	for (size_t i = 0; i < n && o < max && o + 1 < outsz; i++) {
		int c = (unsigned char)shown[i];
		out[o++] = safe_char(c) && (dots || c != '.') ? (char)c : '_';
	}
	if (o > 0 && out[0] == '.')
		out[0] = '_';
	digest_sha256_hex(s, strlen(s), hex);
	if (outsz > o)
		snprintf(out + o, outsz - o, "~%s", hex);
}

int store_safe_name(const char *id, char *out, size_t outsz)
{
	size_t n = strlen(id);
	int keep = n >= 1 && n <= 128 && id[0] != '.';
	for (size_t i = 0; keep && i < n; i++)
		keep = safe_char((unsigned char)id[i]);
	if (keep) {
		snprintf(out, outsz, "%s", id);
		return 0;
	}
	digest_name(id, id, 64, 1, out, outsz);
	return 1;
}

int store_status_name(const char *status, const char *shown, char *out, size_t outsz)
{
	size_t n = strlen(status);
	if (shown != NULL && strcmp(shown, status) != 0) {
		digest_name(status, shown, 16, 0, out, outsz);
		return 1;
	}
	int plain = n >= 1 && n <= 32;
	for (size_t i = 0; plain && i < n; i++) {
		char c = status[i];
		plain = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
	}
	if (plain) {
		/* Lowercasing is injective here: these statuses hold no lowercase letter. */
		size_t i = 0;
		for (; i < n && i + 1 < outsz; i++)
			out[i] = (status[i] >= 'A' && status[i] <= 'Z') ? (char)(status[i] - 'A' + 'a')
									  : status[i];
		if (outsz > 0)
			out[i] = '\0';
		return 0;
	}
	digest_name(status, status, 16, 0, out, outsz);
	return 1;
}
