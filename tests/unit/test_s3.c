/* test_s3.c - the S3 client's pure parts: encoding, canonical queries, URLs, credentials. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ih_error.h"
#include "s3.h"

static char *encoded(const char *s, int keep_slash)
{
	static char out[1024];
	struct buf b = { 0 };
	assert_int_equal(s3_uri_encode(s, keep_slash, &b), IH_OK);
	snprintf(out, sizeof out, "%s", b.data ? b.data : "");
	buf_free(&b);
	return out;
}

static void test_uri_encode(void **state)
{
	(void)state;
	assert_string_equal(encoded("AZaz09-._~", 0), "AZaz09-._~");
	assert_string_equal(encoded("a b+c=d&e", 0), "a%20b%2Bc%3Dd%26e");
	assert_string_equal(encoded("jobs/x/0.png", 1), "jobs/x/0.png");
	assert_string_equal(encoded("jobs/x", 0), "jobs%2Fx");
	assert_string_equal(encoded("\xc3\xa9*", 0), "%C3%A9%2A");
	assert_string_equal(encoded("", 0), "");
	/* Every byte: unreserved ones as they are, all others as %XX in upper case. */
	for (int c = 1; c < 256; c++) {
		char in[2] = { (char)c, '\0' };
		const char *e = encoded(in, 0);
		int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL;
		if (plain) {
			assert_int_equal(strlen(e), 1);
		} else {
			char want[4];
			snprintf(want, sizeof want, "%%%02X", c);
			assert_string_equal(e, want);
		}
	}
}

static char *canon(const char *const *kv, size_t n)
{
	static char out[1024];
	struct buf b = { 0 };
	assert_int_equal(s3_canonical_query(kv, n, &b), IH_OK);
	snprintf(out, sizeof out, "%s", b.data ? b.data : "");
	buf_free(&b);
	return out;
}

static void test_canonical_query(void **state)
{
	(void)state;
	const char *list[] = { "prefix", "jobs/a b", "list-type", "2" };
	assert_string_equal(canon(list, 2), "list-type=2&prefix=jobs%2Fa%20b");
	/* A valueless parameter is "k=", and sorting is by the encoded name, then value. */
	const char *flags[] = { "uploads", NULL, "b", "2", "b", "1", "B", "x" };
	assert_string_equal(canon(flags, 4), "B=x&b=1&b=2&uploads=");
	const char *token[] = { "continuation-token", "1/+x=", "list-type", "2" };
	assert_string_equal(canon(token, 2), "continuation-token=1%2F%2Bx%3D&list-type=2");
	assert_string_equal(canon(NULL, 0), "");
}

static char *url(const char *endpoint, int virt, const char *prefix, const char *key,
		 const char *query, int want_rc)
{
	static char out[1024];
	struct s3_config c = { .endpoint = endpoint, .region = "us-east-1", .bucket = "pics",
			       .prefix = prefix, .virtual_host = virt };
	struct buf b = { 0 };
	assert_int_equal(s3_url(&c, key, query, &b), want_rc);
	snprintf(out, sizeof out, "%s", b.data ? b.data : "");
	buf_free(&b);
	return out;
}

static void test_url(void **state)
{
	(void)state;
	assert_string_equal(url("http://127.0.0.1:7480", 0, "", "jobs/a/0.png", NULL, IH_OK),
			    "http://127.0.0.1:7480/pics/jobs/a/0.png");
	assert_string_equal(url("https://s3.eu-west-1.amazonaws.com", 1, "in/", "jobs/a/0.png",
				NULL, IH_OK),
			    "https://pics.s3.eu-west-1.amazonaws.com/in/jobs/a/0.png");
	/* A trailing slash or path on the endpoint is not part of the host. */
	assert_string_equal(url("http://minio:9000/", 0, "", "k", NULL, IH_OK),
			    "http://minio:9000/pics/k");
	assert_string_equal(url("http://minio:9000/", 1, "", "k", NULL, IH_OK),
			    "http://pics.minio:9000/k");
	/* The bucket itself, with a query. */
	assert_string_equal(url("http://h", 0, "p/", NULL, "list-type=2", IH_OK),
			    "http://h/pics/?list-type=2");
	/* Keys are encoded, slashes kept. */
	assert_string_equal(url("http://h", 0, "my files/", "a~b/c d", NULL, IH_OK),
			    "http://h/pics/my%20files/a~b/c%20d");
	url("127.0.0.1:7480", 0, "", "k", NULL, IH_ERR_CONFIG);
	url("http://", 0, "", "k", NULL, IH_ERR_CONFIG);
	url("http:///x", 0, "", "k", NULL, IH_ERR_CONFIG);
}

static void test_credentials(void **state)
{
	(void)state;
	char *a, *s;
	const char *why = NULL;
	const char *aws = "# made by aws configure\n[other]\naws_access_key_id = NOPE\n"
			  "aws_secret_access_key = nope\n\n[default]\r\n"
			  "aws_access_key_id = AKIAEXAMPLE\r\naws_secret_access_key=se/cr+et=\r\n"
			  "region = eu-west-1\n[third]\naws_access_key_id = LATER\n";
	assert_int_equal(s3_parse_credentials(aws, &a, &s, &why), IH_OK);
	assert_string_equal(a, "AKIAEXAMPLE");
	assert_string_equal(s, "se/cr+et=");
	free(a);
	free(s);
	assert_int_equal(s3_parse_credentials("access_key = K\n; comment\nsecret_key = S\n", &a,
					      &s, &why), IH_OK);
	assert_string_equal(a, "K");
	assert_string_equal(s, "S");
	free(a);
	free(s);
	why = NULL;
	assert_int_equal(s3_parse_credentials("access_key = K\n", &a, &s, &why), IH_ERR_CONFIG);
	assert_non_null(why);
	assert_null(a);
	assert_null(s);
	assert_int_equal(s3_parse_credentials("access_key K\n", &a, &s, &why), IH_ERR_CONFIG);
	assert_int_equal(s3_parse_credentials("access_key =\nsecret_key = S\n", &a, &s, &why),
			 IH_ERR_CONFIG);
	assert_int_equal(s3_parse_credentials("", &a, &s, &why), IH_ERR_CONFIG);
	/* Keys only in another profile do not count. */
	assert_int_equal(s3_parse_credentials("[prod]\naccess_key = K\nsecret_key = S\n", &a, &s,
					      &why), IH_ERR_CONFIG);
}

static void store_url(const char *in, int want_rc, const char *bucket, const char *prefix)
{
	char *b, *p;
	const char *why = NULL;
	assert_int_equal(s3_parse_store_url(in, &b, &p, &why), want_rc);
	if (want_rc != IH_OK) {
		assert_non_null(why);
		assert_null(b);
		assert_null(p);
		return;
	}
	assert_string_equal(b, bucket);
	assert_string_equal(p, prefix);
	free(b);
	free(p);
}

static void test_store_url(void **state)
{
	(void)state;
	store_url("s3://pics", IH_OK, "pics", "");
	store_url("s3://pics/", IH_OK, "pics", "");
	store_url("s3://pics/a/b", IH_OK, "pics", "a/b/");
	store_url("s3://pics//a///b/", IH_OK, "pics", "a/b/");
	store_url("s3://my.bucket-1/x", IH_OK, "my.bucket-1", "x/");
	store_url("/var/lib/imagehook", IH_ERR_CONFIG, NULL, NULL);
	store_url("s3://", IH_ERR_CONFIG, NULL, NULL);
	store_url("s3://ab", IH_ERR_CONFIG, NULL, NULL);
	store_url("s3://Pics", IH_ERR_CONFIG, NULL, NULL);
	store_url("s3://-pics", IH_ERR_CONFIG, NULL, NULL);
	store_url("s3://pics/../x", IH_ERR_CONFIG, NULL, NULL);
	store_url("s3://pics/./x", IH_ERR_CONFIG, NULL, NULL);
	store_url("s3://pics/a\nb", IH_ERR_CONFIG, NULL, NULL);
}

static void test_xml(void **state)
{
	(void)state;
	char out[64];
	const char *err = "<?xml version=\"1.0\"?><Error><Code>PreconditionFailed</Code>"
			  "<Message>a &amp; b &lt;c&gt;</Message></Error>";
	assert_int_equal(s3_xml_text(err, "Code", out, sizeof out), 1);
	assert_string_equal(out, "PreconditionFailed");
	assert_int_equal(s3_xml_text(err, "Message", out, sizeof out), 1);
	assert_string_equal(out, "a & b <c>");
	assert_int_equal(s3_xml_text(err, "Key", out, sizeof out), 0);
	assert_int_equal(s3_xml_text(NULL, "Key", out, sizeof out), 0);
	/* Cut to the buffer, never past it. */
	char small[5];
	assert_int_equal(s3_xml_text(err, "Code", small, sizeof small), 1);
	assert_string_equal(small, "Prec");
}

static void test_content_type(void **state)
{
	(void)state;
	assert_string_equal(s3_content_type("jobs/a/0.png"), "image/png");
	assert_string_equal(s3_content_type("jobs/a/1.JPG"), "image/jpeg");
	assert_string_equal(s3_content_type("jobs/a/2.webp"), "image/webp");
	assert_string_equal(s3_content_type("jobs/a/job.json"), "application/json");
	assert_string_equal(s3_content_type("jobs/a/1.rejected.bin"), "application/octet-stream");
	assert_string_equal(s3_content_type("jobs/a/id"), "application/octet-stream");
	assert_string_equal(s3_content_type(".png"), "application/octet-stream");
	assert_string_equal(s3_content_type(""), "application/octet-stream");
}

static void test_new_refuses_incomplete(void **state)
{
	(void)state;
	struct s3 *s = NULL;
	struct s3_config c = { .endpoint = "http://127.0.0.1:1", .region = "r", .bucket = "pics" };
	assert_int_equal(s3_new(&c, &s), IH_ERR_CONFIG);
	c.access_key = "a";
	c.secret_key = "s";
	c.endpoint = "no-scheme";
	assert_int_equal(s3_new(&c, &s), IH_ERR_CONFIG);
	/* A colon in the region would change what libcurl's sigv4 string means. */
	c.endpoint = "http://127.0.0.1:1";
	c.region = "a:b";
	assert_int_equal(s3_new(&c, &s), IH_ERR_CONFIG);
	s3_free(NULL);
}

#ifdef HAVE_CURL
/* Nothing listens on the port: an error, not an answer, and quickly. */
static void test_unreachable_is_an_error(void **state)
{
	(void)state;
	struct s3 *s = NULL;
	struct s3_config c = { .endpoint = "http://127.0.0.1:9", .region = "r", .bucket = "pics",
			       .prefix = "", .access_key = "a", .secret_key = "s",
			       .timeout_ms = 2000 };
	assert_int_equal(s3_new(&c, &s), IH_OK);
	struct s3_reply r = { 0 };
	assert_int_equal(s3_put(s, "k", "x", 1, S3_CREATE_ONLY, &r), IH_ERR_IO);
	assert_int_equal(r.status, 0);
	assert_true(strlen(r.error) > 0);
	assert_int_equal(s3_head(s, "k", &r), IH_ERR_IO);
	s3_reply_free(&r);
	s3_free(s);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_canonical_query),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_store_url),
		cmocka_unit_test(test_xml),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_new_refuses_incomplete),
#ifdef HAVE_CURL
		cmocka_unit_test(test_unreachable_is_an_error),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
