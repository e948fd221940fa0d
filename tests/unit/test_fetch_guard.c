/* test_fetch_guard.c - what may be fetched: URLs, the host allowlist, addresses, expiry, backoff. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fetch_guard.h"
#include "ih_error.h"
#include "settings.h"

static void test_url_parse(void **state)
{
	(void)state;
	struct fetch_url u;
	const char *why;
	assert_int_equal(fetch_url_parse("https://Replicate.Delivery/pbxt/a/out-0.png", &u, &why), IH_OK);
	assert_true(u.https);
	assert_string_equal(u.host, "replicate.delivery");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/pbxt/a/out-0.png");
	assert_int_equal(fetch_url_parse("http://127.0.0.1:8080?x=1", &u, &why), IH_OK);
	assert_int_equal(u.ip_literal, 4);
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.path, "?x=1");
	assert_int_equal(fetch_url_parse("http://[::1]:81/a", &u, &why), IH_OK);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.ip_literal, 6);
	assert_int_equal(u.port, 81);
	/* Everything that is not a plain http(s) URL to a host. */
	static const char *const bad[] = {
		"ftp://x/a", "s3://bucket/key", "file:///etc/passwd", "https://user:pw@x/a",
		"https://x@evil/a", "https://x:0/a", "https://x:65536/a", "https://x:8a/a",
		"https://a..b/", "https://.a/", "https://a./", "https:///a", "https://x y/",
		"https://x/\\a", "https://x/\x01", "https://ex\xc3\xa4mple/", "https://[::1/",
		"https://[zz]/", "https://_x/", "javascript:alert(1)", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_int_equal(fetch_url_parse(bad[i], &u, &why), IH_ERR_LIMIT);
		assert_non_null(why);
	}
	char longurl[FETCH_GUARD_MAX_URL + 20] = "https://x/";
	memset(longurl + 10, 'a', FETCH_GUARD_MAX_URL);
	longurl[FETCH_GUARD_MAX_URL + 10] = '\0';
	assert_int_equal(fetch_url_parse(longurl, &u, &why), IH_ERR_LIMIT);
}

static int allowed(const struct fetch_allow *a, const char *url)
{
	struct fetch_url u;
	const char *why;
	return fetch_url_parse(url, &u, &why) == IH_OK && fetch_allow_match(a, &u, &why) != NULL;
}

static void test_allowlist(void **state)
{
	(void)state;
	struct fetch_allow a;
	const char *why;
	assert_int_equal(fetch_allow_parse(NULL, &a, &why), IH_OK);
	assert_true(allowed(&a, "https://replicate.delivery/x.png"));
	assert_true(allowed(&a, "https://pbxt.replicate.delivery/x.png"));
	assert_true(allowed(&a, "https://v3.fal.media/files/rabbit/x.png"));
	assert_true(allowed(&a, "https://fal.media/files/x.png"));
	assert_false(allowed(&a, "http://replicate.delivery/x.png"));      /* https only */
	assert_false(allowed(&a, "https://replicate.delivery:8443/x.png")); /* default port only */
	assert_false(allowed(&a, "https://evilreplicate.delivery/x.png"));
	assert_false(allowed(&a, "https://replicate.delivery.evil.com/x.png"));
	assert_false(allowed(&a, "https://fal.media.evil/x.png"));
	assert_false(allowed(&a, "https://bucket.s3.amazonaws.com/x.png"));

	assert_int_equal(fetch_allow_parse("defaults, bucket.s3.us-east-1.amazonaws.com "
					   "http://127.0.0.1:8080 *.r2.cloudflarestorage.com",
					   &a, &why), IH_OK);
	assert_int_equal(a.n, 7);
	assert_true(allowed(&a, "https://replicate.delivery/x.png"));
	assert_true(allowed(&a, "https://bucket.s3.us-east-1.amazonaws.com/k?X-Amz-Date=1"));
	assert_false(allowed(&a, "http://bucket.s3.us-east-1.amazonaws.com/k"));
	assert_true(allowed(&a, "http://127.0.0.1:8080/a.png"));
	assert_true(allowed(&a, "https://127.0.0.1:8080/a.png"));
	assert_false(allowed(&a, "http://127.0.0.1/a.png"));
	assert_false(allowed(&a, "http://127.0.0.1:8081/a.png"));
	assert_true(allowed(&a, "https://acct.r2.cloudflarestorage.com/a.png"));
	assert_false(allowed(&a, "https://r2.cloudflarestorage.com/a.png"));

	/* An exact entry wins over a wildcard listed before it (it decides private addresses). */
	struct fetch_url u;
	assert_int_equal(fetch_allow_parse("*.example.test exact.example.test", &a, &why), IH_OK);
	assert_int_equal(fetch_url_parse("https://exact.example.test/a", &u, &why), IH_OK);
	assert_false(fetch_allow_match(&a, &u, &why)->wildcard);
	assert_int_equal(fetch_url_parse("https://other.example.test/a", &u, &why), IH_OK);
	assert_true(fetch_allow_match(&a, &u, &why)->wildcard);

	static const char *const bad[] = { "*.", "*.1.2.3.4", "http://x:0", "x y:z", "a..b",
					   "http://", "*" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(fetch_allow_parse(bad[i], &a, &why), IH_ERR_CONFIG);
	/* A list of only separators is the defaults, as unset is. */
	assert_int_equal(fetch_allow_parse(" , ", &a, &why), IH_OK);
	assert_int_equal(a.n, 4);
}

static int v4(const char *text, int exact)
{
	struct sockaddr_in s;
	const char *why = NULL;
	memset(&s, 0, sizeof s);
	s.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, text, &s.sin_addr), 1);
	int ok = fetch_addr_allowed((struct sockaddr *)&s, exact, &why);
	if (!ok)
		assert_non_null(why);
	return ok;
}

static int v6(const char *text, int exact)
{
	struct sockaddr_in6 s;
	const char *why = NULL;
	memset(&s, 0, sizeof s);
	s.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, text, &s.sin6_addr), 1);
	return fetch_addr_allowed((struct sockaddr *)&s, exact, &why);
}

static void test_addresses(void **state)
{
	(void)state;
	static const char *const refused4[] = {
		"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.255.254", "10.0.0.1", "10.255.255.255",
		"172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.255",
		"169.254.169.254", "224.0.0.1", "239.255.255.255", "240.0.0.1", "255.255.255.255",
		"192.0.0.8", "198.18.0.1", "198.19.255.255",
	};
	static const char *const public4[] = {
		"1.1.1.1", "8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255",
		"100.128.0.1", "169.253.1.1", "192.169.0.1", "198.17.255.255", "198.20.0.1",
		"223.255.255.255", "11.0.0.1", "126.255.255.255", "128.0.0.1",
	};
	for (size_t i = 0; i < sizeof refused4 / sizeof refused4[0]; i++) {
		assert_false(v4(refused4[i], 0));
		assert_true(v4(refused4[i], 1));   /* listed by its exact name */
	}
	for (size_t i = 0; i < sizeof public4 / sizeof public4[0]; i++)
		assert_true(v4(public4[i], 0));
	static const char *const refused6[] = {
		"::", "::1", "fc00::1", "fdff::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::127.0.0.1",
		"64:ff9b::a00:1",
	};
	for (size_t i = 0; i < sizeof refused6 / sizeof refused6[0]; i++) {
		assert_false(v6(refused6[i], 0));
		assert_true(v6(refused6[i], 1));
	}
	assert_true(v6("2606:4700::1111", 0));
	assert_true(v6("::ffff:8.8.8.8", 0));
	assert_true(v6("2001:db8::1", 0));
}

static void test_expiry(void **state)
{
	(void)state;
	const char *from;
	/* 2026-12-03T08:58:24Z is 1796288304. */
	assert_int_equal(fetch_link_expiry("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&"
					   "X-Amz-Date=20261203T085824Z&X-Amz-Expires=604800&"
					   "X-Amz-Signature=ab", 5, "runpod", &from),
			 1796288304 + 604800);
	assert_string_equal(from, "X-Amz-Expires");
	assert_int_equal(fetch_link_expiry("https://x/k?X-Goog-Date=19700101T000100Z&X-Goog-Expires=60",
					   5, "runpod", &from), 120);
	assert_int_equal(fetch_link_expiry("https://x/k?AWSAccessKeyId=a&Expires=1700000000&Signature=s",
					   5, NULL, &from), 1700000000);
	assert_string_equal(from, "Expires");
	assert_int_equal(fetch_link_expiry("https://replicate.delivery/x.png", 1000, "replicate", &from),
			 1000 + 3600);
	assert_int_equal(fetch_link_expiry("https://v3.fal.media/x.png", 1000, "fal", &from),
			 1000 + 7 * 86400);
	assert_int_equal(fetch_link_expiry("https://b/k", 1000, "runpod", &from), 1000 + 7 * 86400);
	/* Mangled dates fall back to the sender's lifetime; a leap day parses. */
	assert_int_equal(fetch_link_expiry("https://b/k?X-Amz-Date=20261303T000000Z&X-Amz-Expires=5",
					   1000, "replicate", &from), 4600);
	assert_int_equal(fetch_link_expiry("https://b/k?X-Amz-Date=20240229T000000Z&X-Amz-Expires=0",
					   1000, "replicate", &from), 1709164800);
}

static void test_backoff_resolve_log(void **state)
{
	(void)state;
	assert_int_equal(fetch_backoff(1), 30);
	assert_int_equal(fetch_backoff(2), 60);
	assert_int_equal(fetch_backoff(5), 480);
	assert_int_equal(fetch_backoff(8), 3600);
	assert_int_equal(fetch_backoff(1000), 3600);
	char addr[64], out[64];
	assert_true(fetch_resolve_lookup("a.test:80:10.0.0.1, b.test:8080:127.0.0.1", "b.test", 8080,
					 addr, sizeof addr));
	assert_string_equal(addr, "127.0.0.1");
	assert_false(fetch_resolve_lookup("a.test:80:10.0.0.1", "a.test", 81, addr, sizeof addr));
	assert_false(fetch_resolve_lookup("aa.test:80:10.0.0.1", "a.test", 80, addr, sizeof addr));
	assert_false(fetch_resolve_lookup(NULL, "a.test", 80, addr, sizeof addr));
	fetch_url_for_log("https://b/k.png?X-Amz-Signature=secret#f", out, sizeof out);
	assert_string_equal(out, "https://b/k.png");
}

/* Random URLs: whatever parses has a clean host, a port in range and a path. */
static void test_url_random(void **state)
{
	(void)state;
	static const char alphabet[] = "ab.-:/@[]?#%\\19zAZ_ \x01\x7f\xc3";
	unsigned seed = 12345;
	char url[64];
	for (int i = 0; i < 200000; i++) {
		size_t n = 0;
		const char *prefix = (i & 1) ? "https://" : "http://";
		n = (size_t)snprintf(url, sizeof url, "%s", prefix);
		size_t len = (seed >> 16) % 24;
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			url[n++] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		url[n] = '\0';
		seed = seed * 1103515245u + 12345u;
		struct fetch_url u;
		const char *why = NULL;
		if (fetch_url_parse(url, &u, &why) != IH_OK) {
			assert_non_null(why);
			continue;
		}
		assert_true(u.port >= 1 && u.port <= 65535);
		assert_true(u.host[0] != '\0');
		assert_non_null(u.path);
		assert_true(u.path[0] == '/' || u.path[0] == '?');
		if (u.ip_literal != 6)
			for (const char *c = u.host; *c; c++)
				assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
					    *c == '-' || *c == '.');
	}
}

/* The settings that feed the guard: defaults, a bad allowlist, fal's JWKS file. */
static void test_settings_links(void **state)
{
	(void)state;
	struct settings s;
	setenv("IMAGEHOOK_TOKEN", "0123456789abcdef0123", 1);
	unsetenv("IMAGEHOOK_FETCH_HOSTS");
	unsetenv("IMAGEHOOK_FAL_JWKS_FILE");
	assert_int_equal(settings_load(&s), IH_OK);
	assert_null(s.problems);
	assert_int_equal(s.fetch_hosts.n, 4);
	assert_int_equal(s.signature_tolerance, 300);
	assert_int_equal(s.fetch_timeout, 60);
	assert_int_equal(s.fetch_max_links, 64);
	assert_int_equal(s.fetch_after_answer, 0);
	settings_free(&s);

	setenv("IMAGEHOOK_FETCH_HOSTS", "defaults,http://", 1);
	setenv("IMAGEHOOK_SIGNATURE_TOLERANCE", "0", 1);
	setenv("IMAGEHOOK_FAL_JWKS_FILE", "/nonexistent/fal-jwks.json", 1);
	assert_int_equal(settings_load(&s), IH_OK);
	assert_non_null(s.problems);
	assert_non_null(strstr(s.problems, "IMAGEHOOK_FETCH_HOSTS"));
	assert_non_null(strstr(s.problems, "IMAGEHOOK_SIGNATURE_TOLERANCE"));
	assert_non_null(strstr(s.problems, "IMAGEHOOK_FAL_JWKS_FILE"));
	settings_free(&s);

	char path[] = "/tmp/ih-jwks-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *jwks = "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
			   "\"x\":\"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg\"}]}";
	assert_int_equal(write(fd, jwks, strlen(jwks)), (ssize_t)strlen(jwks));
	close(fd);
	setenv("IMAGEHOOK_FETCH_HOSTS", "replicate.delivery", 1);
	setenv("IMAGEHOOK_SIGNATURE_TOLERANCE", "600", 1);
	setenv("IMAGEHOOK_FAL_JWKS_FILE", path, 1);
	unsetenv("IMAGEHOOK_TOKEN");
	assert_int_equal(settings_load(&s), IH_OK);
	assert_null(s.problems);   /* fal's keys alone authenticate */
	assert_int_equal(s.n_fal_keys, 1);
	assert_int_equal(s.signature_tolerance, 600);
	assert_int_equal(s.fetch_hosts.n, 1);
	settings_free(&s);
	unlink(path);
	unsetenv("IMAGEHOOK_FETCH_HOSTS");
	unsetenv("IMAGEHOOK_SIGNATURE_TOLERANCE");
	unsetenv("IMAGEHOOK_FAL_JWKS_FILE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_allowlist),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_backoff_resolve_log),
		cmocka_unit_test(test_url_random),
		cmocka_unit_test(test_settings_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
