/* test_health.c - which path is the health check or the metrics, the free-space arithmetic, the body. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "health.h"
#include "ih_error.h"
#include "settings.h"

static void test_route(void **state)
{
	(void)state;
	assert_int_equal(health_route(NULL), HEALTH_ROUTE_DELIVERY);
	assert_int_equal(health_route(""), HEALTH_ROUTE_DELIVERY);
	assert_int_equal(health_route("/health"), HEALTH_ROUTE_HEALTH);
	assert_int_equal(health_route("/imagehook/health"), HEALTH_ROUTE_HEALTH);
	assert_int_equal(health_route("/imagehook/health/"), HEALTH_ROUTE_HEALTH);
	assert_int_equal(health_route("/imagehook/metrics"), HEALTH_ROUTE_METRICS);
	/* The secret as the last segment after the face. */
	assert_int_equal(health_route("/imagehook/health/0123456789abcdefXYZ"), HEALTH_ROUTE_HEALTH);
	assert_int_equal(health_route("/imagehook/metrics/0123456789abcdefXYZ"), HEALTH_ROUTE_METRICS);
	/* A delivery with its secret in the path, and lookalikes, stay deliveries. */
	assert_int_equal(health_route("/imagehook/0123456789abcdefXYZ"), HEALTH_ROUTE_DELIVERY);
	assert_int_equal(health_route("/imagehook/health/short"), HEALTH_ROUTE_DELIVERY);
	assert_int_equal(health_route("/imagehook/healthz"), HEALTH_ROUTE_DELIVERY);
	assert_int_equal(health_route("/imagehook/xhealth"), HEALTH_ROUTE_DELIVERY);
	assert_int_equal(health_route("/health/x/0123456789abcdefXYZ"), HEALTH_ROUTE_DELIVERY);
}

static void test_min_free(void **state)
{
	(void)state;
	struct settings s;
	memset(&s, 0, sizeof s);
	s.min_free = 5;
	s.min_free_percent = 1;
	assert_int_equal(health_min_free(&s, 1000), 50);
	/* No overflow on a huge file system. */
	assert_true(health_min_free(&s, UINT64_MAX) > UINT64_MAX / 21);
	s.min_free_percent = 0;
	s.min_free = 1234;
	assert_int_equal(health_min_free(&s, 1000), 1234);
}

static void test_body(void **state)
{
	(void)state;
	struct health_report r;
	struct buf b = { 0 };
	memset(&r, 0, sizeof r);
	r.ok = 1;
	assert_int_equal(health_body(&r, 0, &b), IH_OK);
	assert_string_equal(b.data, "{\"ok\":true}\n");
	buf_reset(&b);
	r.ok = 0;
	snprintf(r.reason, sizeof r.reason, "storage low");
	snprintf(r.detail, sizeof r.detail, "/secret/path \"x\"");
	assert_int_equal(health_body(&r, 0, &b), IH_OK);
	/* Without the secret: no paths, no numbers. */
	assert_string_equal(b.data, "{\"ok\":false,\"reason\":\"storage low\"}\n");
	buf_reset(&b);
	r.space_known = 1;
	r.free_bytes = 7;
	assert_int_equal(health_body(&r, 1, &b), IH_OK);
	assert_non_null(strstr(b.data, "\"free_bytes\":7"));
	assert_non_null(strstr(b.data, "\"detail\":\"/secret/path \\\"x\\\"\""));
	buf_free(&b);
}

static void test_writable(void **state)
{
	(void)state;
	char why[512];
	assert_int_equal(health_writable("/tmp", 1, why, sizeof why), 0);
	/* Missing: its nearest existing parent decides. */
	assert_int_equal(health_writable("/tmp/ih-health-missing/a/b", 1, why, sizeof why), 0);
	/* root may write anywhere access(2) is asked about (ops.test mounts a read-only one). */
	if (geteuid() != 0) {
		assert_int_equal(health_writable("/ih-health-missing/x", 1, why, sizeof why), -1);
		assert_non_null(strstr(why, "is not writable"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_min_free),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_writable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
