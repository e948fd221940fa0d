/*
 * test_payload.c - golden tests of the callback model (tests/golden/<name>.json is
 * parsed, the model printed and compared with <name>.expected), plus job.json rendering.
 */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base64.h"
#include "buf.h"
#include "ih_error.h"
#include "payload.h"

/* The limits every golden fixture is parsed with (small, so the hostile ones stay small). */
static const struct payload_limits golden_limits = { .max_depth = 20, .max_images = 8 };

/* The fixtures; a note says which earlier bug the fixture guards against. */
static const struct fixture {
	const char *name;
	const char *note;
} fixtures[] = {
	{ "a1111_seed", NULL },
	{ "a1111_init_images", NULL },
	{ "a1111_grid", "infotexts[i] belongs to images[i]: the grid's infotext is inserted at 0" },
	{ "a1111_bad_info", NULL },
	{ "comfy5_objects", NULL },
	{ "comfy5_no_images", NULL },
	{ "comfy4_message", NULL },
	{ "comfy4_error", NULL },
	{ "comfy4_message_url", NULL },
	{ "ashley_images", NULL },
	{ "sdxl_data_uri", NULL },
	{ "sdxl_url", NULL },
	{ "failed_plain", NULL },
	{ "failed_json_error", NULL },
	{ "error_list", NULL },
	{ "completed_no_output", NULL },
	{ "completed_output_null", NULL },
	{ "error_with_output", NULL },
	{ "cancelled", NULL },
	{ "timed_out", NULL },
	{ "unknown_status", NULL },
	{ "no_id", NULL },
	{ "id_not_string", NULL },
	{ "not_object", NULL },
	{ "invalid_json", NULL },
	{ "trailing_data", NULL },
	{ "too_deep", NULL },
	{ "too_many_images", NULL },
	{ "images_not_array", "output.images not an array beside a string output.image_url once "
			      "aborted in json_object_array_get_idx" },
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

static const char *argv0 = "tests/unit/test_payload";

/* True when dir/tests/golden exists. */
static int has_golden(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/tests/golden", dir);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	closedir(d);
	return 1;
}

/*
 * The source tree's top: $TOP_SRCDIR (exported by make check); else two levels
 * above this program (an in-tree build); else [srcdir] as __FILE__ names it,
 * relative to the directory make ran in.
 */
static const char *top_srcdir(void)
{
	static char top[4096];
	if (top[0] != '\0')
		return top;
	const char *env = getenv("TOP_SRCDIR");
	if (env != NULL && *env != '\0') {
		snprintf(top, sizeof top, "%s", env);
		return top;
	}
	const char *slash = strrchr(argv0, '/');
	snprintf(top, sizeof top, "%.*s%s../..", slash ? (int)(slash - argv0) : 0, argv0,
		 slash ? "/" : "");
	if (has_golden(top))
		return top;
	const char *f = __FILE__;
	const char *cut = strstr(f, "tests/unit/test_payload.c");
	int n = cut != NULL && cut > f ? (int)(cut - f) - 1 : 0;
	snprintf(top, sizeof top, "%.*s", n, f);
	if (top[0] == '\0')
		snprintf(top, sizeof top, ".");
	return top;
}

static const char *golden_dir(void)
{
	static char dir[4200];
	if (dir[0] == '\0')
		snprintf(dir, sizeof dir, "%s/tests/golden", top_srcdir());
	return dir;
}

/* Reads a whole file; returns a malloc'd NUL-terminated buffer or NULL. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct buf b = { 0 };
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&b, chunk, n) != IH_OK)
			break;
	fclose(f);
	if (b.data == NULL && buf_puts(&b, "") != IH_OK)
		return NULL;
	*len = b.len;
	return b.data;
}

static char *read_fixture(const char *name, const char *ext, size_t *len)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/%s%s", golden_dir(), name, ext);
	return read_all(path, len);
}

/* Writes text to path via a temporary name, so a failed accept leaves the old file. */
static int write_all(const char *path, const char *text, size_t len)
{
	char tmp[4500];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (f == NULL)
		return -1;
	int ok = fwrite(text, 1, len, f) == len;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static const char *err_name(int rc)
{
	switch (rc) {
	case IH_OK: return "IH_OK";
	case IH_ERR_NOMEM: return "IH_ERR_NOMEM";
	case IH_ERR_TOO_LARGE: return "IH_ERR_TOO_LARGE";
	case IH_ERR_NOT_JSON: return "IH_ERR_NOT_JSON";
	case IH_ERR_NOT_OBJECT: return "IH_ERR_NOT_OBJECT";
	case IH_ERR_NO_ID: return "IH_ERR_NO_ID";
	case IH_ERR_TOO_DEEP: return "IH_ERR_TOO_DEEP";
	case IH_ERR_TOO_MANY: return "IH_ERR_TOO_MANY";
	default: return "IH_ERR_(unexpected)";
	}
}

/* Appends s[0..n) quoted, with anything but printable ASCII escaped, so dumps stay text. */
static void put_quoted(struct buf *b, const char *s, size_t n)
{
	if (s == NULL) {
		buf_puts(b, "none");
		return;
	}
	buf_puts(b, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c == '\n')
			buf_puts(b, "\\n");
		else if (c == '\t')
			buf_puts(b, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_append(b, &s[i], 1);
	}
	buf_puts(b, "\"");
}

static void put_field(struct buf *b, const char *key, const char *s)
{
	buf_printf(b, "%s: ", key);
	put_quoted(b, s, s ? strlen(s) : 0);
	buf_puts(b, "\n");
}

/* The stable text dump of what payload_parse made of body[0..len). */
static void dump_model(const char *body, size_t len, struct buf *out)
{
	struct payload *p = NULL;
	const char *why = NULL;
	int rc = payload_parse(body, len, &golden_limits, &p, &why);
	buf_printf(out, "parse: %s\n", err_name(rc));
	if (rc != IH_OK) {
		assert_null(p);
		put_field(out, "why", why);
		return;
	}
	int64_t ms;
	put_field(out, "id", payload_id(p));
	put_field(out, "status", payload_status(p));
	put_field(out, "worker", payload_worker_id(p));
	put_field(out, "webhook", payload_webhook(p));
	if (payload_delay_ms(p, &ms))
		buf_printf(out, "delay_ms: %" PRId64 "\n", ms);
	else
		buf_puts(out, "delay_ms: none\n");
	if (payload_exec_ms(p, &ms))
		buf_printf(out, "exec_ms: %" PRId64 "\n", ms);
	else
		buf_puts(out, "exec_ms: none\n");
	put_field(out, "error", payload_error_text(p));
	buf_printf(out, "output_missing: %d\n", payload_output_missing(p));
	buf_printf(out, "output_error: %d generation_request: %d id_derived: %d\n",
		   payload_output_error(p), payload_generation_request(p), payload_id_derived(p));
	size_t n = payload_image_count(p);
	buf_printf(out, "images: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct payload_image *img = payload_image(p, i);
		assert_non_null(img);
		buf_printf(out, "image[%zu]: %s %s where=%s infotext=%d len=%zu head=", i,
			   img->role == PAYLOAD_INPUT ? "input" : "output",
			   img->kind == PAYLOAD_URL ? "url" : "base64", img->where, img->infotext,
			   img->len);
		put_quoted(out, img->text, img->len < 16 ? img->len : 16);
		if (img->same_as >= 0)
			buf_printf(out, " same_as=%d", img->same_as);
		if (img->name != NULL) {
			buf_puts(out, " name=");
			put_quoted(out, img->name, strlen(img->name));
		}
		buf_puts(out, "\n");
		const char *it = payload_infotext(p, img->infotext);
		if (it != NULL) {
			buf_puts(out, "  infotext: ");
			put_quoted(out, it, strlen(it));
			buf_puts(out, "\n");
		}
	}
	assert_null(payload_image(p, n));
	payload_free(p);
}

/* Prints where two dumps first differ, by line. */
static void show_first_difference(const char *want, const char *got)
{
	int line = 1;
	const char *w = want, *g = got;
	while (*w != '\0' && *w == *g) {
		if (*w == '\n')
			line++;
		w++;
		g++;
	}
	while (w > want && w[-1] != '\n') {
		w--;
		g--;
	}
	print_error("first difference at line %d:\n  expected: %.*s\n  actual:   %.*s\n", line,
		    (int)strcspn(w, "\n"), w, (int)strcspn(g, "\n"), g);
}

static void test_golden(void **state)
{
	const struct fixture *fx = *state;
	int accept = getenv("IH_GOLDEN_ACCEPT") != NULL;
	size_t len = 0, elen = 0;
	char *body = read_fixture(fx->name, ".json", &len);
	if (body == NULL)
		fail_msg("cannot read %s/%s.json: %s", golden_dir(), fx->name, strerror(errno));
	struct buf got = { 0 };
	dump_model(body, len, &got);
	free(body);

	char path[4400];
	snprintf(path, sizeof path, "%s/%s.expected", golden_dir(), fx->name);
	if (accept) {
		if (write_all(path, got.data, got.len) != 0)
			fail_msg("cannot write %s: %s", path, strerror(errno));
		print_message("[ ACCEPTED ] %s\n", path);
		buf_free(&got);
		return;
	}
	char *want = read_fixture(fx->name, ".expected", &elen);
	if (want == NULL || strcmp(want, got.data) != 0) {
		print_error("golden mismatch for %s.json; actual model:\n%s", fx->name, got.data);
		if (want != NULL)
			show_first_difference(want, got.data);
		else
			print_error("(no %s)\n", path);
		char *abs = realpath(top_srcdir(), NULL);
		print_error("review it against docs/field-notes.md, then accept all with:\n"
			    "  IH_GOLDEN_ACCEPT=1 TOP_SRCDIR='%s' %s\n", abs ? abs : top_srcdir(), argv0);
		free(abs);
		free(want);
		buf_free(&got);
		fail_msg("golden mismatch for %s", fx->name);
	}
	free(want);
	buf_free(&got);
}

/* Every fixture in tests/golden is in the table, and every table entry has both files. */
static void test_golden_set_complete(void **state)
{
	(void)state;
	DIR *d = opendir(golden_dir());
	if (d == NULL)
		fail_msg("cannot open %s", golden_dir());
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		const char *ext = strrchr(e->d_name, '.');
		if (ext == NULL || (strcmp(ext, ".json") != 0 && strcmp(ext, ".expected") != 0))
			continue;
		size_t base = n - strlen(ext);
		int found = 0;
		for (size_t i = 0; i < N_FIXTURES && !found; i++)
			found = strlen(fixtures[i].name) == base &&
				strncmp(fixtures[i].name, e->d_name, base) == 0;
		if (!found)
			fail_msg("%s is not listed in test_payload.c's fixtures[]", e->d_name);
	}
	closedir(d);
	if (getenv("IH_GOLDEN_ACCEPT") != NULL)
		return;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		size_t len;
		char *t = read_fixture(fixtures[i].name, ".expected", &len);
		if (t == NULL)
			fail_msg("%s.expected is missing", fixtures[i].name);
		free(t);
	}
}

/* Parses a literal body with the golden limits; asserts the result code. */
static struct payload *parse_str(const char *body, int want)
{
	struct payload *p = NULL;
	const char *why = NULL;
	assert_int_equal(payload_parse(body, strlen(body), &golden_limits, &p, &why), want);
	if (want != IH_OK)
		assert_null(p);
	return p;
}

static struct payload *parse_fixture(const char *name)
{
	size_t len;
	char *body = read_fixture(name, ".json", &len);
	assert_non_null(body);
	struct payload *p = NULL;
	const char *why = NULL;
	assert_int_equal(payload_parse(body, len, &golden_limits, &p, &why), IH_OK);
	/* The model must not borrow the body beyond the call. */
	memset(body, 'X', len);
	free(body);
	return p;
}

static json_object *parse_json(const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL)
		fail_msg("rendered record is not JSON:\n%s", text);
	while (end < len && (text[end] == '\n' || text[end] == ' '))
		end++;
	assert_int_equal(end, len);
	return o;
}

static json_object *at(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *str_at(json_object *o, const char *key)
{
	json_object *v = at(o, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static void test_parse_boundaries(void **state)
{
	(void)state;
	struct payload *p;

	payload_free(NULL);
	p = parse_str("{\"id\":\"x\"}", IH_OK);
	assert_string_equal(payload_id(p), "x");
	assert_string_equal(payload_status(p), "UNKNOWN");
	assert_null(payload_worker_id(p));
	assert_null(payload_webhook(p));
	assert_null(payload_error_text(p));
	assert_int_equal(payload_output_missing(p), 0);
	assert_int_equal(payload_image_count(p), 0);
	assert_null(payload_infotext(p, 0));
	assert_null(payload_infotext(p, -1));
	payload_free(p);

	parse_str("", IH_ERR_NOT_JSON);
	parse_str("   ", IH_ERR_NOT_JSON);
	/* json-c cannot tell a bare "null" at the end of input from a cut one; either way, refused. */
	struct payload *np = NULL;
	const char *nwhy = NULL;
	int nrc = payload_parse("null", 4, &golden_limits, &np, &nwhy);
	assert_true(nrc == IH_ERR_NOT_JSON || nrc == IH_ERR_NOT_OBJECT);
	assert_null(np);
	parse_str("[1]", IH_ERR_NOT_OBJECT);
	parse_str("\"id\"", IH_ERR_NOT_OBJECT);
	parse_str("{\"id\":\"\"}", IH_ERR_NO_ID);
	parse_str("{\"id\":null}", IH_ERR_NO_ID);
	parse_str("{\"id\":[\"x\"]}", IH_ERR_NO_ID);
	parse_str("{\"ID\":\"x\"}", IH_ERR_NO_ID);
	/* Strict JSON: no trailing commas, single quotes or comments. */
	parse_str("{\"id\":\"x\",}", IH_ERR_NOT_JSON);
	parse_str("{'id':'x'}", IH_ERR_NOT_JSON);
	parse_str("{\"id\":\"x\"} /* c */", IH_ERR_NOT_JSON);
	/* Invalid UTF-8 is refused, not stored as text nobody can read back. */
	parse_str("{\"id\":\"\xff\"}", IH_ERR_NOT_JSON);

	/* An id with a NUL inside would be cut short on disk: refused, with a reason. */
	const char *why = NULL;
	static const char nul_id[] = "{\"id\":\"a\\u0000b\"}";
	p = NULL;
	assert_int_equal(payload_parse(nul_id, sizeof nul_id - 1, &golden_limits, &p, &why),
			 IH_ERR_NO_ID);
	assert_non_null(why);

	/* A body with a raw NUL after the value is not JSON. */
	static const char nul_after[] = "{\"id\":\"x\"}\0";
	assert_int_equal(payload_parse(nul_after, sizeof nul_after - 1, &golden_limits, &p, &why),
			 IH_ERR_NOT_JSON);

	/* Trailing whitespace is fine. */
	p = parse_str("{\"id\":\"x\"}\r\n\t ", IH_OK);
	payload_free(p);
}

static void test_depth_limit_boundary(void **state)
{
	(void)state;
	/* {"id":"x","a": + k arrays: depth 1 + k. */
	char body[256];
	for (int k = 17; k <= 21; k++) {
		int n = snprintf(body, sizeof body, "{\"id\":\"x\",\"a\":");
		for (int i = 0; i < k; i++)
			body[n++] = '[';
		for (int i = 0; i < k; i++)
			body[n++] = ']';
		body[n++] = '}';
		body[n] = '\0';
		struct payload *p = NULL;
		const char *why;
		int rc = payload_parse(body, (size_t)n, &golden_limits, &p, &why);
		if (k + 1 <= golden_limits.max_depth)
			assert_int_equal(rc, IH_OK);
		else
			assert_int_equal(rc, IH_ERR_TOO_DEEP);
		payload_free(p);
	}
}

static void test_image_limit_boundary(void **state)
{
	(void)state;
	static const char red[] = "\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4n"
				  "GP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC\"";
	for (unsigned k = golden_limits.max_images - 1; k <= golden_limits.max_images + 1; k++) {
		struct buf b = { 0 };
		buf_puts(&b, "{\"id\":\"x\",\"output\":{\"images\":[");
		for (unsigned i = 0; i < k; i++)
			buf_printf(&b, "%s%s", i ? "," : "", red);
		buf_puts(&b, "]}}");
		struct payload *p = NULL;
		const char *why;
		int rc = payload_parse(b.data, b.len, &golden_limits, &p, &why);
		assert_int_equal(rc, k <= golden_limits.max_images ? IH_OK : IH_ERR_TOO_MANY);
		if (rc == IH_OK)
			assert_int_equal(payload_image_count(p), k);
		payload_free(p);
		buf_free(&b);
	}
	/* Input images count toward the same limit. */
	struct buf b = { 0 };
	buf_puts(&b, "{\"id\":\"x\",\"output\":{\"images\":[");
	for (unsigned i = 0; i < golden_limits.max_images; i++)
		buf_printf(&b, "%s%s", i ? "," : "", red);
	buf_printf(&b, "]},\"input\":{\"init_images\":[%s]}}", red);
	parse_str(b.data, IH_ERR_TOO_MANY);
	buf_free(&b);
}

/* Every prefix of a real callback is refused cleanly (the body cut by a dropped connection). */
static void test_truncated_bodies(void **state)
{
	(void)state;
	size_t len;
	char *body = read_fixture("a1111_init_images", ".json", &len);
	assert_non_null(body);
	for (size_t n = 0; n + 2 < len; n++) {
		struct payload *p = NULL;
		const char *why = NULL;
		/* A copy of exactly n bytes, so a read past the end is caught by the sanitizers. */
		char *cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, body, n);
		int rc = payload_parse(cut, n, &golden_limits, &p, &why);
		free(cut);
		if (rc != IH_ERR_NOT_JSON)
			fail_msg("prefix of %zu bytes gave %s", n, err_name(rc));
		assert_null(p);
	}
	free(body);
}

/* A stored[] entry for each image of p: files 0.png.. or the rejected reason. */
static void fill_stored(const struct payload *p, struct payload_stored *st, char names[][24],
			size_t reject)
{
	for (size_t i = 0; i < payload_image_count(p); i++) {
		memset(&st[i], 0, sizeof st[i]);
		if (payload_image(p, i)->kind == PAYLOAD_URL)
			continue;
		if (i == reject) {
			snprintf(names[i], 24, "%u.bin", (unsigned)i);
			st[i].file = names[i];
			st[i].error = "PNG chunk CRC mismatch";
			st[i].bytes = 69;
			continue;
		}
		snprintf(names[i], 24, "%u.png", (unsigned)i);
		st[i].file = names[i];
		st[i].format = "png";
		st[i].bytes = 69;
		st[i].width = 1;
		st[i].height = 1;
		st[i].sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
		st[i].keywords = "parameters";
		st[i].added_infotext = 1;
	}
}

static const struct payload_record_meta meta = {
	.received = "2026-11-27T12:00:00.123Z",
	.remote = "203.0.113.9",
	.outcome = "stored",
	.webhook_redacted = "https://hooks.example.invalid/imagehook?token=REDACTED",
	.bytes = 4242,
	.body_sha256 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
};

static void test_render_record(void **state)
{
	(void)state;
	struct payload *p = parse_fixture("a1111_init_images");
	size_t n = payload_image_count(p);
	assert_int_equal(n, 3);
	struct payload_stored st[8];
	char names[8][24];
	fill_stored(p, st, names, 99);
	struct buf out = { 0 };
	assert_int_equal(payload_render_record(p, st, &meta, &out), IH_OK);
	payload_free(p);

	/* No base64 left, no secret left. */
	assert_null(strstr(out.data, "iVBORw0KGgo"));
	assert_null(strstr(out.data, "golden-secret"));
	json_object *o = parse_json(out.data, out.len);
	assert_string_equal(str_at(o, "id"), "102c2af4-8ea7-4abb-a9ec-c2a56cf80a16-u1");
	assert_string_equal(str_at(o, "webhook"), meta.webhook_redacted);

	/* Each image's place now holds a reference to its file. */
	json_object *img0 = json_object_array_get_idx(at(at(o, "output"), "images"), 0);
	assert_true(json_object_is_type(img0, json_type_object));
	assert_string_equal(str_at(img0, "file"), "0.png");
	json_object *payload = at(at(o, "input"), "payload");
	json_object *init0 = json_object_array_get_idx(at(payload, "init_images"), 0);
	assert_string_equal(str_at(init0, "file"), "1.png");
	assert_string_equal(str_at(at(payload, "mask"), "file"), "2.png");
	/* What is not an image is kept as received. */
	assert_non_null(str_at(at(o, "output"), "info"));
	assert_string_equal(str_at(payload, "prompt"), "a red dot");

	json_object *ih = at(o, "imagehook");
	assert_non_null(ih);
	assert_string_equal(str_at(ih, "received"), meta.received);
	assert_string_equal(str_at(ih, "remote"), meta.remote);
	assert_string_equal(str_at(ih, "outcome"), "stored");
	assert_string_equal(str_at(ih, "body_sha256"), meta.body_sha256);
	assert_int_equal(json_object_get_int64(at(ih, "bytes")), 4242);
	json_object *list = at(ih, "images");
	assert_int_equal(json_object_array_length(list), 3);
	json_object *d0 = json_object_array_get_idx(list, 0);
	assert_string_equal(str_at(d0, "where"), "output.images[0]");
	assert_string_equal(str_at(d0, "role"), "output");
	assert_string_equal(str_at(d0, "format"), "png");
	assert_int_equal(json_object_get_int(at(d0, "width")), 1);
	assert_string_equal(str_at(d0, "sha256"), st[0].sha256);
	json_object *d1 = json_object_array_get_idx(list, 1);
	assert_string_equal(str_at(d1, "role"), "input");
	assert_string_equal(str_at(d1, "where"), "input.payload.init_images[0]");
	json_object_put(o);

	unsigned stored = 99, rejected = 99;
	assert_int_equal(payload_record_summary(out.data, out.len, &stored, &rejected), IH_OK);
	assert_int_equal(stored, 3);
	assert_int_equal(rejected, 0);
	buf_free(&out);
}

static void test_render_urls_rejects_and_errors(void **state)
{
	(void)state;
	/* ComfyUI 5: one base64 image (rejected here) and one S3 URL left in place. */
	struct payload *p = parse_fixture("comfy5_objects");
	assert_int_equal(payload_image_count(p), 2);
	struct payload_stored st[8];
	char names[8][24];
	fill_stored(p, st, names, 0);
	struct buf out = { 0 };
	assert_int_equal(payload_render_record(p, st, &meta, &out), IH_OK);
	payload_free(p);
	json_object *o = parse_json(out.data, out.len);
	json_object *imgs = at(at(o, "output"), "images");
	json_object *data0 = at(json_object_array_get_idx(imgs, 0), "data");
	assert_string_equal(str_at(data0, "file"), "0.bin");
	assert_string_equal(str_at(data0, "rejected"), "PNG chunk CRC mismatch");
	assert_string_equal(str_at(json_object_array_get_idx(imgs, 1), "data"),
			    "https://bucket.s3.example.invalid/jobs/ComfyUI_00002_.png");
	json_object *list = at(at(o, "imagehook"), "images");
	assert_string_equal(str_at(json_object_array_get_idx(list, 1), "url"),
			    "https://bucket.s3.example.invalid/jobs/ComfyUI_00002_.png");
	assert_non_null(str_at(at(o, "imagehook"), "error"));
	json_object_put(o);
	unsigned stored, rejected;
	assert_int_equal(payload_record_summary(out.data, out.len, &stored, &rejected), IH_OK);
	assert_int_equal(stored, 0);
	assert_int_equal(rejected, 1);
	buf_free(&out);

	/* A crashed handler's error is kept parsed; a lost result is flagged. */
	p = parse_fixture("failed_json_error");
	buf_reset(&out);
	assert_int_equal(payload_render_record(p, st, &meta, &out), IH_OK);
	payload_free(p);
	o = parse_json(out.data, out.len);
	json_object *ep = at(at(o, "imagehook"), "error_parsed");
	assert_non_null(ep);
	assert_string_equal(str_at(ep, "runpod_version"), "1.7.0");
	/* The error as received stays as received. */
	assert_non_null(str_at(o, "error"));
	json_object_put(o);

	p = parse_fixture("completed_no_output");
	buf_reset(&out);
	struct payload_record_meta lost = meta;
	lost.lost_upstream = 1;
	assert_int_equal(payload_render_record(p, st, &lost, &out), IH_OK);
	payload_free(p);
	o = parse_json(out.data, out.len);
	assert_true(json_object_get_boolean(at(at(o, "imagehook"), "result_lost_upstream")));
	json_object_put(o);
	buf_free(&out);
}

static void test_render_without_webhook_and_after_release(void **state)
{
	(void)state;
	static const char body[] =
		"{\"id\":\"x\",\"status\":\"COMPLETED\",\"output\":{\"images\":["
		"\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC\","
		"\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNg+M8AAAICAQB7CYF4AAAAAElFTkSuQmCC\"]}}";
	struct payload *p = parse_str(body, IH_OK);
	assert_int_equal(payload_image_count(p), 2);
	/* Releasing early (twice, and out of range) is harmless. */
	payload_release_image(p, 0);
	payload_release_image(p, 0);
	payload_release_image(p, 1);
	payload_release_image(p, 7);
	struct payload_stored st[2];
	char names[2][24];
	fill_stored(p, st, names, 99);
	struct buf out = { 0 };
	assert_int_equal(payload_render_record(p, st, &meta, &out), IH_OK);
	payload_free(p);
	assert_null(strstr(out.data, "iVBORw0KGgo"));
	json_object *o = parse_json(out.data, out.len);
	/* No webhook in the body: none is invented. */
	assert_null(at(o, "webhook"));
	json_object *imgs = at(at(o, "output"), "images");
	assert_string_equal(str_at(json_object_array_get_idx(imgs, 1), "file"), "1.png");
	json_object_put(o);
	buf_free(&out);
}

/* SDXL's image_url, a copy of images[0], is stored once and points at its file. */
static void test_render_sdxl_image_url_has_no_base64(void **state)
{
	(void)state;
	struct payload *p = parse_fixture("sdxl_data_uri");
	/* images[0], images[1], and image_url: the same text as images[0], stored once. */
	assert_int_equal(payload_image_count(p), 3);
	assert_int_equal(payload_image(p, 2)->same_as, 0);
	struct payload_stored st[3];
	char names[3][24];
	fill_stored(p, st, names, 99);
	st[2] = st[0];
	struct buf out = { 0 };
	assert_int_equal(payload_render_record(p, st, &meta, &out), IH_OK);
	payload_free(p);
	json_object *o = parse_json(out.data, out.len);
	assert_string_equal(str_at(at(at(o, "output"), "image_url"), "file"), "0.png");
	json_object_put(o);
	if (strstr(out.data, "iVBORw0KGgo") != NULL)
		fail_msg("base64 left in the record:\n%s", out.data);
	buf_free(&out);
}

static void test_record_summary_rejects_garbage(void **state)
{
	(void)state;
	unsigned s = 7, r = 7;
	assert_int_equal(payload_record_summary("", 0, &s, &r), IH_ERR_NOT_JSON);
	assert_int_equal(s, 0);
	assert_int_equal(r, 0);
	assert_int_equal(payload_record_summary("not json", 8, &s, &r), IH_ERR_NOT_JSON);
	assert_int_equal(payload_record_summary("[1,2]", 5, &s, &r), IH_ERR_NOT_JSON);
	assert_int_equal(payload_record_summary("{\"id\":\"x\"}", 10, &s, &r), IH_ERR_NOT_JSON);
	static const char t[] = "{\"imagehook\":{\"images\":[{\"file\":\"0.png\"},"
				"{\"file\":\"1.bin\",\"rejected\":\"bad\"},{\"url\":\"https://x\"},"
				"{\"file\":\"2.png\"}]}}";
	assert_int_equal(payload_record_summary(t, sizeof t - 1, &s, &r), IH_OK);
	assert_int_equal(s, 2);
	assert_int_equal(r, 1);
}

static const char red_b64[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

/* Renders p with every base64 media "stored" as i.png; returns the record text (caller frees). */
static char *render(struct payload *p, const struct payload_record_meta *m)
{
	size_t n = payload_image_count(p);
	struct payload_stored st[16];
	char names[16][24];
	assert_true(n <= 16);
	fill_stored(p, st, names, 99);
	for (size_t i = 0; i < n; i++)
		if (payload_image(p, i)->same_as >= 0)
			st[i] = st[payload_image(p, i)->same_as];
	struct buf out = { 0 };
	assert_int_equal(payload_render_record(p, st, m ? m : &meta, &out), IH_OK);
	return out.data;
}

/*
 * Issue 10 item 1: an id, status or workerId that starts like base64 media and is
 * long enough to be lifted was read as its marker (a random nonce: every retry a
 * new folder) and freed under the reader when job.json was rendered.
 */
static void test_lifted_fields_read_as_sent(void **state)
{
	(void)state;
	struct buf id = { 0 }, body = { 0 };
	buf_puts(&id, "iVBORw0KGgo");
	for (int i = 0; i < 5000; i++)
		buf_puts(&id, "A");
	buf_printf(&body, "{\"id\":\"%s\",\"status\":\"/9j/%s\",\"workerId\":\"UklGR%s\","
		   "\"webhook\":\"data:image/png;base64,%s\","
		   "\"error\":{\"why\":\"R0lGOD%s\"},\"output\":{\"images\":[\"%s\"]}}",
		   id.data, id.data, id.data, id.data, id.data, red_b64);
	struct payload *p = parse_str(body.data, IH_OK);
	assert_string_equal(payload_id(p), id.data);
	assert_true(strncmp(payload_status(p), "/9j/iVBORw0KGgo", 15) == 0);
	assert_int_equal(strlen(payload_status(p)), 4 + id.len);
	assert_true(strncmp(payload_worker_id(p), "UklGRiVBOR", 10) == 0);
	assert_true(strncmp(payload_webhook(p), "data:image/png;base64,iVBOR", 27) == 0);
	/* The error text shows the string, never a marker. */
	assert_non_null(payload_error_text(p));
	assert_non_null(strstr(payload_error_text(p), "R0lGODiVBORw0KGgoAAAA"));
	/* Only the real media is media. */
	assert_int_equal(payload_image_count(p), 1);
	const char *id_before = payload_id(p), *worker_before = payload_worker_id(p);
	char *rec = render(p, NULL);
	/* Still readable and unchanged after the record was rendered (valgrind/ASan check this). */
	assert_string_equal(payload_id(p), id.data);
	assert_ptr_equal(payload_id(p), id_before);
	assert_ptr_equal(payload_worker_id(p), worker_before);
	json_object *o = parse_json(rec, strlen(rec));
	assert_string_equal(str_at(o, "id"), id.data);
	assert_true(strncmp(str_at(o, "workerId"), "UklGR", 5) == 0);
	json_object_put(o);
	free(rec);
	payload_free(p);

	/* The same body parsed twice gives the same id: a retry is a duplicate. */
	struct payload *a = parse_str(body.data, IH_OK), *b = parse_str(body.data, IH_OK);
	assert_string_equal(payload_id(a), payload_id(b));
	payload_free(a);
	payload_free(b);
	buf_free(&id);
	buf_free(&body);
}

/* A lifted media string inside an error object shows as a placeholder, not as a marker. */
static void test_media_inside_error_text(void **state)
{
	(void)state;
	struct buf body = { 0 };
	buf_printf(&body, "{\"id\":\"e\",\"status\":\"COMPLETED\",\"output\":{\"errors\":[\"");
	buf_puts(&body, red_b64);
	for (int i = 0; i < 5000; i++)
		buf_puts(&body, "A");
	buf_puts(&body, "\"]}}");
	struct payload *p = parse_str(body.data, IH_OK);
	assert_int_equal(payload_image_count(p), 1);
	assert_string_equal(payload_error_text(p), "output.errors: [\"(media at output.errors[0])\"]");
	payload_free(p);
	/* The same as a string (output.error) and as ComfyUI 4's message. */
	static const char *const shapes[] = { "{\"id\":\"e\",\"output\":{\"error\":\"",
					      "{\"id\":\"e\",\"output\":{\"status\":\"error\",\"message\":\"" };
	static const char *const want[] = { "output.error: (media at output.error)",
					    "output: (media at output.message)" };
	for (size_t k = 0; k < 2; k++) {
		buf_reset(&body);
		buf_puts(&body, shapes[k]);
		buf_puts(&body, red_b64);
		for (int i = 0; i < 5000; i++)
			buf_puts(&body, "A");
		buf_puts(&body, "\"}}");
		p = parse_str(body.data, IH_OK);
		assert_string_equal(payload_error_text(p), want[k]);
		payload_free(p);
	}
	buf_free(&body);
}

/* Issue 10 item 8: nothing the sender sent is silently dropped by json-c's one-value-per-key. */
static void test_keys_distinct(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		int want;
	} cases[] = {
		{ "{\"id\":\"x\",\"input\":{\"prompt\":\"kept\",\"prompt\\u0000x\":\"lost?\"}}", IH_ERR_NOT_JSON },
		{ "{\"id\":\"x\",\"input\":{\"p\\u0000\":1}}", IH_ERR_NOT_JSON },
		{ "{\"id\":\"first\",\"id\":\"second\"}", IH_ERR_NOT_JSON },
		{ "{\"id\":\"x\",\"a\":{\"k\":1,\"k\":1}}", IH_ERR_NOT_JSON },
		{ "{\"id\":\"x\",\"a\":[{\"k\":1},{\"k\":2,\"j\":{\"z\":1,\"z\":2}}]}", IH_ERR_NOT_JSON },
		/* The same key spelt two ways is the same key. */
		{ "{\"id\":\"x\",\"a\":1,\"\\u0061\":2}", IH_ERR_NOT_JSON },
		/* The same key in different objects is fine; so is "\\u0000" as a value, or \\\\u0000 in a key. */
		{ "{\"id\":\"x\",\"a\":[{\"k\":1},{\"k\":2}],\"b\":{\"k\":3}}", IH_OK },
		{ "{\"id\":\"x\",\"v\":\"a\\u0000b\",\"w\\\\u0000\":1}", IH_OK },
		/* An escaped backslash, then \u0000: a NUL all the same. */
		{ "{\"id\":\"x\",\"w\\\\\\u0000\":1}", IH_ERR_NOT_JSON },
		{ "{\"id\":\"x\",\"s\":\"{\\\"k\\\":1,\\\"k\\\":2}\"}", IH_OK },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct payload *p = NULL;
		const char *why = NULL;
		int rc = payload_parse(cases[i].body, strlen(cases[i].body), &golden_limits, &p, &why);
		if (rc != cases[i].want)
			fail_msg("case %lu (%s): got %s", (unsigned long)i, cases[i].body, err_name(rc));
		if (rc != IH_OK)
			assert_non_null(why);
		payload_free(p);
	}
}

/* Deep bodies the settings allow (up to 1000 levels) are counted whole, not cut at some depth. */
static void test_keys_distinct_deep(void **state)
{
	(void)state;
	struct payload_limits lim = golden_limits;
	lim.max_depth = 600;
	for (int dup = 0; dup <= 1; dup++) {
		struct buf b = { 0 };
		buf_puts(&b, "{\"id\":\"deep\",\"a\":");
		for (int i = 0; i < 500; i++)
			buf_puts(&b, "{\"k\":");
		buf_puts(&b, dup ? "{\"z\":1,\"z\":2}" : "{\"z\":1,\"y\":2}");
		for (int i = 0; i < 500; i++)
			buf_puts(&b, "}");
		buf_puts(&b, ",\"b\":{\"c\":1}}");
		struct payload *p = NULL;
		const char *why = NULL;
		assert_int_equal(payload_parse(b.data, b.len, &lim, &p, &why), dup ? IH_ERR_NOT_JSON : IH_OK);
		payload_free(p);
		buf_free(&b);
	}
}

/* Media are found anywhere, whatever the key; hints add role, name and infotext. */
static void test_media_discovery(void **state)
{
	(void)state;
	struct buf b = { 0 };
	/* worker-sdxl-turbo, A1111 extra-single-image, an unknown key, a JSON-string input. */
	buf_printf(&b, "{\"id\":\"d\",\"status\":\"COMPLETED\",\"output\":{\"images\":[{\"image\":\"%s\",\"seed\":1}],"
		   "\"image\":\"data:image/png;base64,%s\",\"extra\":{\"deep\":[[{\"thing\":\"%sAAAA\"}]]},"
		   "\"text\":\"iVBORw0KGgo is how a PNG starts\"},"
		   "\"input\":\"{\\\"workflow\\\":{},\\\"images\\\":[{\\\"name\\\":\\\"in.png\\\","
		   "\\\"image\\\":\\\"data:image/png;base64,%sAAAAAAAA\\\"}],\\\"comfy_org_api_key\\\":\\\"k-123\\\"}\"}",
		   red_b64, red_b64, red_b64, red_b64);
	struct payload *p = parse_str(b.data, IH_OK);
	assert_int_equal(payload_image_count(p), 4);
	assert_string_equal(payload_image(p, 0)->where, "output.images[0].image");
	assert_string_equal(payload_image(p, 1)->where, "output.image");
	assert_int_equal(payload_image(p, 1)->same_as, 0);
	assert_string_equal(payload_image(p, 2)->where, "output.extra.deep[0][0].thing");
	assert_int_equal(payload_image(p, 2)->role, PAYLOAD_OUTPUT);
	assert_string_equal(payload_image(p, 3)->where, "input.images[0].image");
	assert_int_equal(payload_image(p, 3)->role, PAYLOAD_INPUT);
	assert_string_equal(payload_image(p, 3)->name, "in.png");
	assert_true(payload_generation_request(p));
	char *rec = render(p, NULL);
	payload_free(p);
	/* No base64 media, no data: URI, no credential left; the JSON-string input shown parsed. */
	assert_null(strstr(rec, "iVBORw0KGgoAAAAN"));
	assert_null(strstr(rec, "data:image"));
	assert_null(strstr(rec, "k-123"));
	assert_non_null(strstr(rec, "iVBORw0KGgo is how a PNG starts"));
	json_object *o = parse_json(rec, strlen(rec));
	json_object *input = at(o, "input");
	assert_true(json_object_is_type(input, json_type_object));
	assert_string_equal(str_at(input, "comfy_org_api_key"), "[REDACTED]");
	json_object *dec = at(at(o, "imagehook"), "decoded_json_strings");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(dec, 0)), "input");
	json_object_put(o);
	free(rec);
	buf_free(&b);

	/* A file name that is itself media (lifted, or short) is stored, never copied as a name. */
	buf_reset(&b);
	buf_printf(&b, "{\"id\":\"n\",\"output\":{\"images\":[{\"data\":\"https://x.invalid/a.png\","
		   "\"filename\":\"data:video/mp4;base64,AAAAIGZ0eXBpc29t%s\"},"
		   "{\"data\":\"%s\",\"filename\":\"%s\"}]}}", red_b64, red_b64, red_b64);
	p = parse_str(b.data, IH_OK);
	for (size_t i = 0; i < payload_image_count(p); i++)
		assert_null(payload_image(p, i)->name);
	rec = render(p, NULL);
	payload_free(p);
	assert_null(strstr(rec, "data:video"));
	free(rec);

	/* Case-insensitive data: URIs; base64 with white space around it: found, and decoded. */
	buf_reset(&b);
	buf_printf(&b, "{\"id\":\"u\",\"output\":{\"a\":\"DATA:IMAGE/PNG;BASE64,%s\","
		   "\"b\":\"Data:application/octet-stream;Base64,%s\",\"c\":\" \\t%s\","
		   "\"d\":\"%s \\r\\n\",\"e\":\"  \",\"f\":\"DATA:text/plain,hello\"}}",
		   red_b64, red_b64, red_b64, red_b64);
	p = parse_str(b.data, IH_OK);
	assert_int_equal(payload_image_count(p), 4);
	static const char *const found[] = { "output.a", "output.b", "output.c", "output.d" };
	for (size_t i = 0; i < 4; i++) {
		const struct payload_image *im = payload_image(p, i);
		unsigned char raw[128];
		size_t rl;
		assert_string_equal(im->where, found[i]);
		assert_int_equal(b64_decode(im->text, im->len, raw, &rl), IH_OK);
		assert_memory_equal(raw, "\x89PNG", 4);
	}
	payload_free(p);

	/* Limits still bound it all: count (inside JSON strings too) and depth. */
	buf_reset(&b);
	buf_puts(&b, "{\"id\":\"x\",\"output\":{\"a\":\"[");
	for (unsigned i = 0; i <= golden_limits.max_images; i++)
		buf_printf(&b, "%s\\\"%s\\\"", i ? "," : "", red_b64);
	buf_puts(&b, "]\"}}");
	parse_str(b.data, IH_ERR_TOO_MANY);
	buf_free(&b);
}

/*
 * output sent as a JSON string: decoding it frees the string, and the walk of
 * output.parameters that follows must not read it (valgrind saw the freed read).
 */
static void test_output_sent_as_json_string(void **state)
{
	(void)state;
	struct buf b = { 0 };
	buf_printf(&b, "{\"id\":\"uaf\",\"status\":\"COMPLETED\",\"output\":\"{\\\"images\\\":"
		   "[\\\"%s\\\"],\\\"parameters\\\":{\\\"init_images\\\":[\\\"%sAAAA\\\"]}}\"}",
		   red_b64, red_b64);
	struct payload *p = parse_str(b.data, IH_OK);
	assert_int_equal(payload_image_count(p), 2);
	assert_string_equal(payload_image(p, 0)->where, "output.images[0]");
	assert_string_equal(payload_image(p, 1)->where, "output.parameters.init_images[0]");
	assert_int_equal(payload_image(p, 1)->role, PAYLOAD_INPUT);
	char *rec = render(p, NULL);
	payload_free(p);
	assert_null(strstr(rec, "iVBORw0KGgoAAAAN"));
	free(rec);
	buf_free(&b);
}

/* runpod-python's local test server: {"output": ...}, no id, no status. */
static void test_derived_id(void **state)
{
	(void)state;
	struct buf b = { 0 };
	buf_printf(&b, "{\"output\":{\"images\":[\"%s\"]}}", red_b64);
	struct payload *p = parse_str(b.data, IH_OK);
	assert_true(payload_id_derived(p));
	assert_true(strncmp(payload_id(p), "local-", 6) == 0);
	assert_int_equal(strlen(payload_id(p)), 6 + 64);
	assert_string_equal(payload_status(p), "COMPLETED");
	char *rec = render(p, NULL);
	payload_free(p);
	json_object *o = parse_json(rec, strlen(rec));
	assert_true(json_object_get_boolean(at(at(o, "imagehook"), "id_derived")));
	assert_string_equal(str_at(at(o, "imagehook"), "status_assumed"), "COMPLETED");
	json_object_put(o);
	struct payload_card *c = malloc(sizeof *c);
	assert_non_null(c);
	assert_int_equal(payload_card_parse(rec, strlen(rec), c), IH_OK);
	assert_true(strncmp(c->id, "local-", 6) == 0);
	assert_string_equal(c->status, "COMPLETED");
	free(c);
	free(rec);
	/* An error without an id is derived too, but no status is assumed; anything else has no id. */
	p = parse_str("{\"error\":\"boom\"}", IH_OK);
	assert_string_equal(payload_status(p), "UNKNOWN");
	payload_free(p);
	parse_str("{\"status\":\"COMPLETED\"}", IH_ERR_NO_ID);
	parse_str("{\"input\":{}}", IH_ERR_NO_ID);
	buf_free(&b);
}

/* Credentials inside the body are redacted; presigned result URLs stay. */
static void test_credentials_redacted(void **state)
{
	(void)state;
	static const char body[] =
		"{\"id\":\"c\",\"status\":\"COMPLETED\",\"input\":{\"comfy_org_api_key\":\"cok-1\","
		"\"s3Config\":{\"accessId\":\"AKIA1\",\"accessSecret\":\"sek-2\",\"bucketName\":\"b\","
		"\"endpointUrl\":\"https://s3.example.invalid\"},\"apiKey\":\"ak-3\",\"HF_TOKEN\":\"hf-4\","
		"\"password\":\"pw-5\",\"Authorization\":\"Bearer au-6\",\"max_tokens\":77,"
		"\"token_normalization\":\"none\",\"aws_secret_access_key\":\"as-7\","
		"\"nested\":\"{\\\"api_key\\\":\\\"nk-8\\\"}\"},"
		"\"output\":{\"images\":[{\"type\":\"s3_url\",\"data\":\"https://b.s3.example.invalid/x.png?"
		"X-Amz-Credential=AK%2F1&X-Amz-Signature=abc\"}]}}";
	struct payload *p = parse_str(body, IH_OK);
	char *rec = render(p, NULL);
	payload_free(p);
	static const char *const gone[] = { "cok-1", "AKIA1", "sek-2", "ak-3", "hf-4", "pw-5",
					    "au-6", "as-7", "nk-8" };
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
		if (strstr(rec, gone[i]) != NULL)
			fail_msg("%s left in the record:\n%s", gone[i], rec);
	assert_non_null(strstr(rec, "X-Amz-Signature=abc"));
	assert_non_null(strstr(rec, "\"max_tokens\": 77"));
	assert_non_null(strstr(rec, "\"token_normalization\": \"none\""));
	assert_non_null(strstr(rec, "\"bucketName\": \"b\""));
	free(rec);

	/* A kept body (any text) is redacted in place, the rest byte for byte. */
	struct buf out = { 0 };
	static const char kept[] = "{\"comfy_org_api_key\" : \"cok-1\", \"x\": \"y\", \"token\":\"\", "
				   "\"password\":\"p\\\"w\", broken";
	assert_int_equal(payload_redact_text(kept, sizeof kept - 1, &out), IH_OK);
	assert_string_equal(out.data, "{\"comfy_org_api_key\" : \"[REDACTED]\", \"x\": \"y\", \"token\":\"\", "
				      "\"password\":\"[REDACTED]\", broken");
	buf_free(&out);
	/* Inside a JSON document sent as a string (worker-comfyui's input): redacted there too. */
	static const char inner[] = "{\"input\": \"{\\\"comfy_org_api_key\\\": \\\"cok-9\\\", "
				    "\\\"prompt\\\": \\\"say \\\\\\\"token\\\\\\\": \\\\\\\"x\\\\\\\"\\\"}\", \"k\": 1}";
	assert_int_equal(payload_redact_text(inner, sizeof inner - 1, &out), IH_OK);
	assert_null(strstr(out.data, "cok-9"));
	assert_non_null(strstr(out.data, "\\\"comfy_org_api_key\\\": \\\"[REDACTED]\\\""));
	/* A quote escaped inside the inner document is text, not a key: left alone. */
	assert_non_null(strstr(out.data, "say \\\\\\\"token\\\\\\\": \\\\\\\"x\\\\\\\""));
	json_object *still = parse_json(out.data, out.len);
	json_object_put(still);
	buf_free(&out);
	assert_int_equal(payload_redact_text("", 0, &out), IH_OK);
	assert_string_equal(out.data, "");
	buf_free(&out);
}

/* Credentials in text at any nesting depth, under escaped keys; JSON strings that do not parse. */
static void test_credentials_redacted_deeper(void **state)
{
	(void)state;
	struct buf out = { 0 };
	static const char esc[] = "{\"id\":\"r1\",\"id\":\"r2\",\"input\":{\"api\\u005fkey\":\"sk-2\", \"x\\\"y\": \"ok\"}}";
	assert_int_equal(payload_redact_text(esc, sizeof esc - 1, &out), IH_OK);
	assert_null(strstr(out.data, "sk-2"));
	assert_non_null(strstr(out.data, "\"api\\u005fkey\":\"[REDACTED]\""));
	assert_non_null(strstr(out.data, "\"ok\""));
	buf_free(&out);
	static const char lvl2[] = "{\"id\": \"r1\", \"x\": \"{\\\"y\\\": \\\"{\\\\\\\"api_key\\\\\\\": \\\\\\\"sk-LIVE1\\\\\\\"}\\\"}\"}";
	assert_int_equal(payload_redact_text(lvl2, sizeof lvl2 - 1, &out), IH_OK);
	assert_null(strstr(out.data, "sk-LIVE1"));
	json_object_put(parse_json(out.data, out.len));
	buf_free(&out);
	static const char lvl3[] = "{\"a\": \"{\\\"b\\\": \\\"{\\\\\\\"c\\\\\\\": \\\\\\\"{\\\\\\\\\\\\\\\"HF_TOKEN\\\\\\\\\\\\\\\": \\\\\\\\\\\\\\\"hf-3\\\\\\\\\\\\\\\"}\\\\\\\"}\\\"}\"}";
	assert_int_equal(payload_redact_text(lvl3, sizeof lvl3 - 1, &out), IH_OK);
	assert_null(strstr(out.data, "hf-3"));
	assert_int_equal(out.len, sizeof lvl3 - 1 - strlen("hf-3") + strlen("[REDACTED]"));
	buf_free(&out);

	/* JSON strings too deep to parse, or with text after them: redacted as text in job.json. */
	static const char f5[] = "{\"id\": \"f5\", \"status\": \"COMPLETED\", \"input\": {\"workflow\": \"{\\\"comfy_org_api_key\\\":\\\"cok-deep\\\",\\\"d\\\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\", \"w2\": \"{\\\"comfy_org_api_key\\\":\\\"cok-trail\\\"}\\n--\"}, \"output\": {}}";
	struct payload *p = parse_str(f5, IH_OK);
	char *rec = render(p, NULL);
	payload_free(p);
	assert_null(strstr(rec, "cok-deep"));
	assert_null(strstr(rec, "cok-trail"));
	json_object *o = parse_json(rec, strlen(rec));
	assert_non_null(strstr(str_at(at(o, "input"), "w2"), "--"));
	json_object_put(o);
	free(rec);
}

/* A credential's array or object, Cookie, passphrase, long keys: every value in them redacted. */
static void test_credentials_compound(void **state)
{
	(void)state;
	static const char body[] =
		"{\"id\":\"c2\",\"status\":\"COMPLETED\",\"input\":{\"api_key\":[\"sk-a1\",[\"sk-a2\"],7001],"
		"\"Authorization\":{\"value\":\"Bearer sk-o1\",\"n\":{\"x\":7002}},\"cookie\":\"ck-1\","
		"\"passphrase\":\"pp-1\",\"client_secret\":[\"cs-1\"],\"Private-Key\":{\"pem\":\"pk-1\"},"
		"\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_api_key\":\"lk-1\","
		"\"max_tokens\":[77],\"token_normalization\":{\"m\":\"none\"}},\"output\":{}}";
	struct payload *p = parse_str(body, IH_OK);
	char *rec = render(p, NULL);
	payload_free(p);
	static const char *const gone[] = { "sk-a1", "sk-a2", "7001", "sk-o1", "7002", "ck-1",
					    "pp-1", "cs-1", "pk-1", "lk-1" };
	for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
		if (strstr(rec, gone[i]) != NULL)
			fail_msg("%s left in the record:\n%s", gone[i], rec);
	json_object *o = parse_json(rec, strlen(rec));
	assert_string_equal(str_at(at(at(at(o, "input"), "Authorization"), "n"), "x"), "[REDACTED]");
	assert_int_equal(json_object_get_int(json_object_array_get_idx(at(at(o, "input"), "max_tokens"), 0)), 77);
	assert_non_null(strstr(rec, "\"m\": \"none\""));
	json_object_put(o);
	free(rec);

	/* A kept body: the same, in place, and still JSON; also inside a JSON string. */
	struct buf out = { 0 };
	static const char kept[] = "{\"api_key\": [\"sk-a1\", 7001, {\"k\": \"sk-[]\"}], \"n\": 2, "
				   "\"Cookie\": {\"sid\": \"ck-1\"}, \"in\": \"{\\\"token\\\": [\\\"tk-1\\\", 5]}\", "
				   "\"max_tokens\": [77]}";
	assert_int_equal(payload_redact_text(kept, sizeof kept - 1, &out), IH_OK);
	assert_string_equal(out.data, "{\"api_key\": [\"[REDACTED]\", \"[REDACTED]\", {\"k\": \"[REDACTED]\"}], "
				      "\"n\": 2, \"Cookie\": {\"sid\": \"[REDACTED]\"}, "
				      "\"in\": \"{\\\"token\\\": [\\\"[REDACTED]\\\", \\\"[REDACTED]\\\"]}\", "
				      "\"max_tokens\": [77]}");
	json_object_put(parse_json(out.data, out.len));
	buf_free(&out);
}

/* A JSON string whose document has a key twice is kept as sent: neither value is lost. */
static void test_embedded_duplicate_keys_kept(void **state)
{
	(void)state;
	struct buf b = { 0 };
	/* Media in a document with a key twice: the body is refused, as at the top level. */
	buf_printf(&b, "{\"id\":\"dup\",\"status\":\"COMPLETED\",\"output\":\"{\\\"images\\\":"
		   "[\\\"%sAAAA\\\"],\\\"images\\\":[\\\"%sBBBB\\\"]}\"}", red_b64, red_b64);
	struct payload *p = NULL;
	const char *why = NULL;
	assert_int_equal(payload_parse(b.data, b.len, &golden_limits, &p, &why), IH_ERR_NOT_JSON);
	assert_null(p);
	assert_non_null(why);
	assert_non_null(strstr(why, "same key twice"));
	/* Without media, such a document stays the string it was, and the record says why. */
	buf_reset(&b);
	buf_printf(&b, "{\"id\":\"dup\",\"status\":\"COMPLETED\",\"output\":{\"images\":[\"%s\"]},"
		   "\"input\":\"{\\\"p\\\":1,\\\"p\\\":3,\\\"p\\\\u0000x\\\":2}\"}", red_b64);
	p = parse_str(b.data, IH_OK);
	assert_int_equal(payload_image_count(p), 1);
	char *rec = render(p, NULL);
	payload_free(p);
	json_object *o = parse_json(rec, strlen(rec));
	const char *input = str_at(o, "input");
	assert_non_null(input);
	assert_non_null(strstr(input, "\"p\":3"));
	json_object *kept = at(at(o, "imagehook"), "json_strings_kept_as_sent");
	assert_int_equal(json_object_array_length(kept), 1);
	assert_non_null(strstr(json_object_get_string(json_object_array_get_idx(kept, 0)), "input: "));
	json_object_put(o);
	free(rec);
	buf_free(&b);
}

/* The gallery's card knows videos, durations and warnings. */
static void test_card_video_and_warnings(void **state)
{
	(void)state;
	static const char rec[] =
		"{\"id\":\"v\",\"status\":\"COMPLETED\",\"imagehook\":{\"outcome\":\"stored\","
		"\"warnings\":\"output.errors: [\\\"node 3\\\"]\",\"images\":["
		"{\"file\":\"0.mp4\",\"format\":\"mp4\",\"video\":true,\"duration_ms\":1500},"
		"{\"file\":\"1.webm\",\"format\":\"webm\"},{\"file\":\"2.gif\",\"format\":\"gif\",\"video\":false},"
		"{\"file\":\"3.rejected.bin\",\"rejected\":\"bad\"}]}}";
	struct payload_card *c = malloc(sizeof *c);
	assert_non_null(c);
	assert_int_equal(payload_card_parse(rec, sizeof rec - 1, c), IH_OK);
	assert_string_equal(c->warnings, "output.errors: [\"node 3\"]");
	assert_int_equal(c->n_images, 4);
	assert_true(c->images[0].video);
	assert_int_equal(c->images[0].duration_ms, 1500);
	assert_true(c->images[1].video);
	assert_false(c->images[2].video);
	assert_false(c->images[3].video);
	free(c);
	assert_true(payload_format_is_video("mp4"));
	assert_false(payload_format_is_video("png"));
	assert_false(payload_format_is_video(NULL));
}

int main(int argc, char **argv)
{
	(void)argc;
	if (argv[0] != NULL)
		argv0 = argv[0];
	static const struct CMUnitTest rest[] = {
		cmocka_unit_test(test_golden_set_complete),
		cmocka_unit_test(test_parse_boundaries),
		cmocka_unit_test(test_depth_limit_boundary),
		cmocka_unit_test(test_image_limit_boundary),
		cmocka_unit_test(test_truncated_bodies),
		cmocka_unit_test(test_render_record),
		cmocka_unit_test(test_render_urls_rejects_and_errors),
		cmocka_unit_test(test_render_without_webhook_and_after_release),
		cmocka_unit_test(test_record_summary_rejects_garbage),
		cmocka_unit_test(test_render_sdxl_image_url_has_no_base64),
		cmocka_unit_test(test_lifted_fields_read_as_sent),
		cmocka_unit_test(test_media_inside_error_text),
		cmocka_unit_test(test_keys_distinct),
		cmocka_unit_test(test_keys_distinct_deep),
		cmocka_unit_test(test_media_discovery),
		cmocka_unit_test(test_output_sent_as_json_string),
		cmocka_unit_test(test_derived_id),
		cmocka_unit_test(test_credentials_redacted),
		cmocka_unit_test(test_credentials_redacted_deeper),
		cmocka_unit_test(test_credentials_compound),
		cmocka_unit_test(test_embedded_duplicate_keys_kept),
		cmocka_unit_test(test_card_video_and_warnings),
	};
	/* One test per golden fixture, so each passes or fails on its own. */
	struct CMUnitTest tests[N_FIXTURES + sizeof rest / sizeof rest[0]];
	size_t n = 0;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		struct CMUnitTest t = { fixtures[i].name, test_golden, NULL, NULL,
					(void *)&fixtures[i] };
		tests[n++] = t;
	}
	for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
		tests[n++] = rest[i];
	return _cmocka_run_group_tests("test_payload", tests, n, NULL, NULL);
}
