/* auth.c - the shared-secret check and redaction of the secret from what we write. */
#include "ih_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "digest.h"
#include "ih_error.h"

#define AUTH_MAX_TOKEN 512

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes s[0..n) into out (outsz bytes with the NUL); '+' is a space only
 * in a query (form encoding), not in a path. Returns the length or -1.
 */
static long url_decode(const char *s, size_t n, int plus_is_space, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			int hi = hexval(s[i + 1]);
			int lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

/* Finds the value of `token` in a query string; returns 1 and its span, or 0. */
static int query_token(const char *query, const char **val, size_t *len)
{
	const char *p = query;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t seg = end ? (size_t)(end - p) : strlen(p);
		if (seg >= 6 && memcmp(p, "token=", 6) == 0) {
			*val = p + 6;
			*len = seg - 6;
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* Compares a candidate with every token through their SHA-256, so time does not depend on where they differ. */
static int matches_any(const struct settings *s, const char *cand, size_t len)
{
	unsigned char want[DIGEST_LEN], got[DIGEST_LEN];
	int ok = 0;
	digest_sha256(cand, len, got);
	for (int i = 0; i < s->n_tokens; i++) {
		digest_sha256(s->tokens[i], strlen(s->tokens[i]), want);
		ok |= digest_equal(want, got, sizeof want);
	}
	return ok;
}

enum auth_result auth_check(const struct settings *s, const char *query, const char *path_info)
{
	char cand[AUTH_MAX_TOKEN];
	const char *val;
	size_t len;

	/* Signing secrets alone authenticate: the handler then requires the signature. */
	if (s->n_tokens == 0)
		return s->allow_open || s->n_signing > 0 || s->n_fal_keys > 0 ? AUTH_OPEN
									       : AUTH_UNCONFIGURED;
	if (query != NULL && query_token(query, &val, &len)) {
		long n = url_decode(val, len, 1, cand, sizeof cand);
		if (n > 0 && matches_any(s, cand, (size_t)n))
			return AUTH_OK;
	}
	if (path_info != NULL) {
		const char *last = strrchr(path_info, '/');
		last = last ? last + 1 : path_info;
		long n = url_decode(last, strlen(last), 0, cand, sizeof cand);
		if (n > 0 && matches_any(s, cand, (size_t)n))
			return AUTH_OK;
	}
	return AUTH_DENIED;
}

static const char REDACTED[] = "REDACTED";

/* Characters a query value keeps unescaped (RFC 3986 unreserved), plus '%' and '+'. */
static int url_value_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '%' || c == '+';
}

/* A stretch of text to blank out: [from, to). */
struct span {
	size_t from, to;
	int param;                /* a token= value: it ends only where the value does */
};

struct spans {
	struct span *v;
	size_t n, cap;
	int nomem;
};

static void spans_add_kind(struct spans *sp, size_t from, size_t to, int param)
{
	/* An empty token= value is kept too: a secret may start right where it stops. */
	if (from > to || (from == to && !param) || sp->nomem)
		return;
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 16;
		struct span *v = realloc(sp->v, cap * sizeof *v);
		if (v == NULL) {
			sp->nomem = 1;
			return;
		}
		sp->v = v;
		sp->cap = cap;
	}
	sp->v[sp->n].from = from;
	sp->v[sp->n].to = to;
	sp->v[sp->n].param = param;
	sp->n++;
}

static void spans_add(struct spans *sp, size_t from, size_t to)
{
	spans_add_kind(sp, from, to, 0);
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

/* What redaction looks for: every secret, as configured (the base64 of a whsec_ one). */
struct needle {
	const char *s;
	size_t len;
	int before_quote;         /* only where a '"' follows: a fragment a cut left at a string's end */
};

#define NEEDLE_MAX (2 * SETTINGS_MAX_TOKENS + 1)

static int needles_init(const struct settings *s, const char *tail, size_t tail_len,
			struct needle *nd)
{
	int n = 0;
	for (int i = 0; i < s->n_tokens; i++)
		if (s->tokens[i][0] != '\0')
			nd[n++] = (struct needle){ s->tokens[i], strlen(s->tokens[i]), 0 };
	for (int i = 0; i < s->n_signing; i++) {
		const char *key = s->signing[i];
		if (strncmp(key, "whsec_", 6) == 0)
			key += 6;
		if (*key != '\0')
			nd[n++] = (struct needle){ key, strlen(key), 0 };
	}
	if (tail != NULL && tail_len > 0)
		nd[n++] = (struct needle){ tail, tail_len, 1 };
	return n;
}

/*
 * The escapings a secret's character may be written in, nested to any depth: as
 * itself; after any run of backslashes (JSON's "\/", and a JSON text inside a JSON
 * string: "\\\/"); as \uXXXX; as %XX, or %25XX for a URL inside a URL; hex digits
 * in either case. A matcher state says how much of the needle was matched and
 * where in an escape the text is.
 */
enum sub { SUB_NONE, SUB_BS, SUB_U, SUB_P0, SUB_P1 };

struct nstate {
	size_t start;             /* earliest text offset this state began at */
	unsigned k;               /* needle characters matched */
	unsigned char sub;
	unsigned char nhex;       /* hex digits read of \uXXXX */
	unsigned val;
};

struct matcher {
	const struct needle *nd;
	struct nstate *cur, *next;
	size_t ncur, nnext, cap;
};

/* Adds a state to next, keeping only the earliest start of equal states. */
static void m_push(struct matcher *m, size_t start, unsigned k, int sub, unsigned nhex, unsigned val)
{
	for (size_t i = 0; i < m->nnext; i++) {
		struct nstate *t = &m->next[i];
		if (t->k == k && t->sub == sub && t->nhex == nhex && t->val == val) {
			if (start < t->start)
				t->start = start;
			return;
		}
	}
	if (m->nnext < m->cap)
		m->next[m->nnext++] = (struct nstate){ start, k, (unsigned char)sub, (unsigned char)nhex, val };
}

/* The needle's character k was read (a whole unit ending at text[i]). */
static void m_char(struct matcher *m, const struct nstate *st, const char *text, size_t len,
		   size_t i, struct spans *sp)
{
	unsigned k = st->k + 1;
	if (k < m->nd->len) {
		m_push(m, st->start, k, SUB_NONE, 0, 0);
		return;
	}
	if (!m->nd->before_quote || (i + 1 < len && text[i + 1] == '"'))
		spans_add(sp, st->start, i + 1);
}

/* One text byte through one state. */
static void m_step(struct matcher *m, const struct nstate *st, const char *text, size_t len,
		   size_t i, struct spans *sp)
{
	int c = (unsigned char)text[i];
	int want = (unsigned char)m->nd->s[st->k];
	int h = hexval(c);
	switch (st->sub) {
	case SUB_NONE:
	case SUB_BS:
		if (c == want)
			m_char(m, st, text, len, i, sp);
		if (c == '\\')
			m_push(m, st->start, st->k, SUB_BS, 0, 0);
		else if (c == '%' && st->sub == SUB_NONE)
			m_push(m, st->start, st->k, SUB_P0, 0, 0);
		else if (c == 'u' && st->sub == SUB_BS)
			m_push(m, st->start, st->k, SUB_U, 0, 0);
		break;
	case SUB_U:
		if (h < 0)
			break;
		if (st->nhex < 3) {
			m_push(m, st->start, st->k, SUB_U, st->nhex + 1u, st->val * 16 + (unsigned)h);
			break;
		}
		unsigned v = st->val * 16 + (unsigned)h;
		if (v == (unsigned)want)
			m_char(m, st, text, len, i, sp);
		if (v == '\\')
			m_push(m, st->start, st->k, SUB_BS, 0, 0);
		else if (v == '%')
			m_push(m, st->start, st->k, SUB_P0, 0, 0);
		break;
	case SUB_P0:
		if (h >= 0)
			m_push(m, st->start, st->k, SUB_P1, 0, (unsigned)h);
		break;
	case SUB_P1:
		if (h < 0)
			break;
		v = st->val * 16 + (unsigned)h;
		if (v == (unsigned)want)
			m_char(m, st, text, len, i, sp);
		if (v == '%')
			m_push(m, st->start, st->k, SUB_P0, 0, 0);
		else if (v == '\\')
			m_push(m, st->start, st->k, SUB_BS, 0, 0);
		break;
	}
}

/*
 * Runs the matcher over text[from..to): every occurrence, in any escaping, becomes
 * a span. With tail set, a beginning of the needle left open at `to` (the end of a
 * text that was cut) becomes a span to the end as well.
 */
static void m_run(struct matcher *m, const char *text, size_t len, size_t from, size_t to,
		  int tail, struct spans *sp)
{
	m->ncur = 0;
	for (size_t i = from; i < to; i++) {
		m->nnext = 0;
		struct nstate fresh = { i, 0, SUB_NONE, 0, 0 };
		m_step(m, &fresh, text, len, i, sp);
		for (size_t j = 0; j < m->ncur; j++)
			m_step(m, &m->cur[j], text, len, i, sp);
		struct nstate *t = m->cur;
		m->cur = m->next;
		m->next = t;
		m->ncur = m->nnext;
	}
	if (tail) {
		size_t start = to;
		for (size_t j = 0; j < m->ncur; j++)
			if (m->cur[j].k > 0 && m->cur[j].start < start)
				start = m->cur[j].start;
		spans_add(sp, start, to);
	}
}

/* The next byte at or after from that may begin an escape ('\\' or '%'), or len. */
static size_t next_escape(const char *text, size_t len, size_t from, size_t cache[2])
{
	static const char esc[2] = { '\\', '%' };
	size_t best = len;
	for (int k = 0; k < 2; k++) {
		if (cache[k] == SIZE_MAX || (cache[k] < from && cache[k] != len)) {
			const char *p = memchr(text + from, esc[k], len - from);
			cache[k] = p ? (size_t)(p - text) : len;
		}
		if (cache[k] < best)
			best = cache[k];
	}
	return best;
}

/*
 * Finds every secret in text: written as it is, by memmem over the whole text (fast
 * even for a 64 MB body); and escaped, by the matcher, only in the windows around
 * each backslash or '%' (an escaped occurrence holds one), which most texts have few of.
 */
static void find_secrets(const struct needle *nd, int n, const char *text, size_t len, int cut,
			 struct spans *sp)
{
	size_t longest = 0;
	for (int k = 0; k < n; k++) {
		if (nd[k].len > longest)
			longest = nd[k].len;
		for (const char *p = text; (size_t)(text + len - p) >= nd[k].len;) {
			const char *hit = memmem(p, (size_t)(text + len - p), nd[k].s, nd[k].len);
			if (hit == NULL)
				break;
			size_t end = (size_t)(hit - text) + nd[k].len;
			if (!nd[k].before_quote || (end < len && text[end] == '"'))
				spans_add(sp, (size_t)(hit - text), end);
			p = hit + 1;
		}
	}
	if (n == 0 || len == 0)
		return;
	/* No escaped unit is longer than a run of backslashes, "u" and four hex digits. */
	size_t w = longest * 24 + 24;
	size_t cap = (longest + 1) * 16;
	struct nstate *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
	if (a == NULL || b == NULL) {
		sp->nomem = 1;
		goto out;
	}
	size_t cache[2] = { SIZE_MAX, SIZE_MAX };
	size_t pos = 0;
	for (;;) {
		size_t e = next_escape(text, len, pos, cache);
		size_t from, to;
		if (e < len) {
			from = e > w ? e - w : 0;
			if (from < pos)
				from = pos;
			to = e + w < len ? e + w : len;
			/* Extend the window while further escapes fall inside it. */
			for (;;) {
				size_t e2 = next_escape(text, len, e + 1, cache);
				if (e2 >= len || e2 > to)
					break;
				e = e2;
				to = e + w < len ? e + w : len;
			}
		} else if (cut) {
			from = len > w ? len - w : 0;
			if (from < pos)
				from = pos;
			to = len;
		} else {
			break;
		}
		int tail = cut && to == len;
		for (int k = 0; k < n; k++) {
			struct matcher m = { &nd[k], a, b, 0, 0, cap };
			m_run(&m, text, len, from, to, tail, sp);
		}
		if (to >= len)
			break;
		pos = to;
	}
out:
	free(a);
	free(b);
}

/* A token= value is redacted even when it is not (or no longer) configured. */
static void find_params(const struct settings *s, const char *text, size_t len, struct spans *sp)
{
	static const char *const names[] = { "token=", "token%3D", "token%3d" };
	for (size_t q = 0; q < sizeof names / sizeof names[0]; q++) {
		size_t nl = strlen(names[q]);
		for (const char *p = text; (size_t)(text + len - p) >= nl;) {
			const char *hit = memmem(p, (size_t)(text + len - p), names[q], nl);
			if (hit == NULL)
				break;
			size_t at = (size_t)(hit - text) + nl, j = at;
			while (j < len && url_value_char(text[j]))
				j++;
			/* A configured token with other characters is still redacted whole. */
			for (int k = 0; k < s->n_tokens; k++) {
				size_t n = strlen(s->tokens[k]);
				if (n <= len - at && memcmp(text + at, s->tokens[k], n) == 0 && at + n > j)
					j = at + n;
			}
			spans_add_kind(sp, at, j, 1);
			p = hit + nl;
		}
	}
}

char *auth_redact_opts(const struct settings *s, const char *text, size_t len,
		       const struct auth_redact_opts *o, size_t *out_len)
{
	struct needle nd[NEEDLE_MAX];
	struct spans sp = { 0 };
	struct buf out = { 0 };
	int n = needles_init(s, o ? o->tail : NULL, o ? o->tail_len : 0, nd);
	find_params(s, text, len, &sp);
	find_secrets(nd, n, text, len, o != NULL && o->cut, &sp);
	if (sp.nomem || buf_reserve(&out, len) != IH_OK)
		goto fail;
	out.data[0] = '\0';
	if (sp.n > 1)
		qsort(sp.v, sp.n, sizeof *sp.v, span_cmp);
	size_t i = 0;
	for (size_t k = 0; k < sp.n;) {
		/* Overlapping spans become one REDACTED; adjacent ones stay two. */
		size_t from = sp.v[k].from, to = sp.v[k].to;
		int param = sp.v[k].param;
		for (k++;;) {
			/* A token= value runs on into a secret that starts where it stops. */
			for (; k < sp.n && (sp.v[k].from < to || (param && sp.v[k].from == to)); k++) {
				if (sp.v[k].to > to)
					to = sp.v[k].to;
				param |= sp.v[k].param;
			}
			/*
			 * A secret reaching past a token= value's end: what follows is still the
			 * value (the next redaction would take it), so it goes too.
			 */
			size_t t2 = to;
			while (param && t2 < len && url_value_char(text[t2]))
				t2++;
			if (t2 == to)
				break;
			to = t2;
		}
		if (from < i)
			from = i;
		if (to <= from)
			continue;   /* an empty token= value, and nothing after it */
		if (buf_append(&out, text + i, from - i) != IH_OK || buf_puts(&out, REDACTED) != IH_OK)
			goto fail;
		i = to;
	}
	if (buf_append(&out, text + i, len - i) != IH_OK)
		goto fail;
	free(sp.v);
	*out_len = out.len;
	return out.data;
fail:
	free(sp.v);
	buf_free(&out);
	return NULL;
}

char *auth_redact(const struct settings *s, const char *text, size_t len, size_t *out_len)
{
	return auth_redact_opts(s, text, len, NULL, out_len);
}

size_t auth_secret_tail(const struct settings *s, const char *text, size_t len)
{
	struct needle nd[NEEDLE_MAX];
	struct spans sp = { 0 };
	int n = needles_init(s, NULL, 0, nd);
	size_t tail = 0;
	for (int k = 0; k < n; k++) {
		/* Only the text's end matters: the last 24 bytes per needle character. */
		size_t w = nd[k].len * 24 + 24, cap = (nd[k].len + 1) * 16;
		size_t from = len > w ? len - w : 0;
		struct nstate *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
		if (a != NULL && b != NULL) {
			struct matcher m = { &nd[k], a, b, 0, 0, cap };
			m_run(&m, text, len, from, len, 1, &sp);
		}
		free(a);
		free(b);
	}
	for (size_t i = 0; i < sp.n; i++)
		if (sp.v[i].to == len && len - sp.v[i].from > tail)
			tail = len - sp.v[i].from;
	free(sp.v);
	return tail;
}
