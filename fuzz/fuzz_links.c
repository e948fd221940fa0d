/* fuzz_links.c - the fetch guard, fetch.json, job.json updates, JWKS and fal signatures on any input. */
#include "ih_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fetch_guard.h"
#include "fuzz.h"
#include "ih_error.h"
#include "payload_fetch.h"
#include "signature_fal.h"

/* The input's first line is a URL (and an allowlist), the rest a JSON text and a body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - data) : size;
	char *line = malloc(n + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, n);
	line[n] = '\0';
	const char *rest = nl ? (const char *)nl + 1 : "";
	size_t rlen = nl ? size - n - 1 : 0;

	struct fetch_url u;
	struct fetch_allow a, mine;
	const char *why = NULL, *from = NULL;
	FUZZ_ASSERT(fetch_allow_parse(NULL, &a, &why) == IH_OK);
	if (fetch_url_parse(line, &u, &why) == IH_OK) {
		FUZZ_ASSERT(u.port >= 1 && u.port <= 65535 && u.host[0] != '\0' && u.path != NULL);
		const struct fetch_host *h = fetch_allow_match(&a, &u, &why);
		/* The defaults allow only https on 443 to Replicate's and fal's hosts. */
		if (h != NULL) {
			FUZZ_ASSERT(u.https && u.port == 443);
			size_t hl = strlen(u.host);
			FUZZ_ASSERT((hl >= 18 && strcmp(u.host + hl - 18, "replicate.delivery") == 0) ||
				    (hl >= 9 && strcmp(u.host + hl - 9, "fal.media") == 0));
		} else {
			FUZZ_ASSERT(why != NULL);
		}
		/* A list naming exactly that host allows it, unless http was asked without http://. */
		char entry[300];
		snprintf(entry, sizeof entry, "%s%s%s%s:%u", u.https ? "" : "http://",
			 u.ip_literal == 6 ? "[" : "", u.host, u.ip_literal == 6 ? "]" : "", u.port);
		if (fetch_allow_parse(entry, &mine, &why) == IH_OK)
			FUZZ_ASSERT(fetch_allow_match(&mine, &u, &why) != NULL);
	} else {
		FUZZ_ASSERT(why != NULL);
	}
	(void)fetch_link_expiry(line, 1767225600, "replicate", &from);
	FUZZ_ASSERT(from != NULL);
	if (fetch_allow_parse(line, &mine, &why) != IH_OK)
		FUZZ_ASSERT(why != NULL);
	char shown[FETCH_GUARD_MAX_URL + 1], addr[64];
	fetch_url_for_log(line, shown, sizeof shown);
	FUZZ_ASSERT(strchr(shown, '?') == NULL);
	(void)fetch_resolve_lookup(line, "a.test", 80, addr, sizeof addr);

	/* The rest as fetch.json, as a job.json to update with its links, as a JWKS. */
	struct payload_fetch_link *l = NULL;
	size_t nl_links = 0;
	struct buf out = { 0 };
	if (payload_fetch_parse(rest, rlen, 64, &l, &nl_links) == IH_OK) {
		FUZZ_ASSERT(nl_links <= 64);
		FUZZ_ASSERT(payload_fetch_render(l, nl_links, &out) == IH_OK);
		struct payload_fetch_link *back = NULL;
		size_t nb = 0;
		FUZZ_ASSERT(payload_fetch_parse(out.data, out.len, 64, &back, &nb) == IH_OK);
		FUZZ_ASSERT(nb == nl_links);
		free(back);
		buf_reset(&out);
		(void)payload_record_fetched(rest, rlen, l, nl_links, &out);
	}
	free(l);
	buf_free(&out);
	unsigned char keys[4][32];
	int nk = 0;
	if (payload_jwks_ed25519(rest, rlen, keys, 4, &nk) == IH_OK)
		FUZZ_ASSERT(nk >= 1 && nk <= 4);
	/* fal's check with the line as every header: never accepted (no key can match). */
	struct signature_fal_headers fh = { line, line, line, line, 0 };
	FUZZ_ASSERT(signature_fal_verify((const unsigned char (*)[32])keys, nk, &fh, rest, rlen,
					 1767225600, &why) != IH_OK);
	free(line);
	return 0;
}
