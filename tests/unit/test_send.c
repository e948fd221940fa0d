/* test_send.c - the sample callback imagehook send posts, and its usage errors. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "ih_error.h"
#include "send.h"

static void test_sample(void **state)
{
	(void)state;
	struct buf b = { 0 };
	assert_int_equal(send_sample_body("id \"quoted\"", &b), IH_OK);
	json_object *o = json_tokener_parse(b.data), *v, *imgs;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "id", &v));
	assert_string_equal(json_object_get_string(v), "id \"quoted\"");
	assert_true(json_object_object_get_ex(o, "status", &v));
	assert_string_equal(json_object_get_string(v), "COMPLETED");
	assert_true(json_object_object_get_ex(o, "output", &v));
	assert_true(json_object_object_get_ex(v, "images", &imgs));
	assert_int_equal(json_object_array_length(imgs), 1);
	assert_int_equal(strncmp(json_object_get_string(json_object_array_get_idx(imgs, 0)), "iVBORw0KGgo", 11), 0);
	json_object_put(o);
	buf_free(&b);
}

static void test_usage(void **state)
{
	(void)state;
	FILE *null = fopen("/dev/null", "w");
	assert_non_null(null);
	char a0[] = "send", a1[] = "ftp://x", a2[] = "--bogus";
	char *v1[] = { a0, NULL };
	char *v2[] = { a0, a1, NULL };
	char *v3[] = { a0, a2, NULL };
	assert_int_equal(send_main(1, v1, null, null), 2);
	assert_int_equal(send_main(2, v2, null, null), 2);
	assert_int_equal(send_main(2, v3, null, null), 2);
	fclose(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
