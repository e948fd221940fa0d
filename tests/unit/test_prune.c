/* test_prune.c - which jobs imagehook prune may remove. */
#include "ih_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prune.h"

static void test_due(void **state)
{
	(void)state;
	time_t now = 1800000000;
	assert_false(prune_is_due(now - 86400 * 3, now, 3));
	assert_true(prune_is_due(now - 86400 * 3 - 1, now, 3));
	assert_false(prune_is_due(now - 86400 * 30, now, 0));   /* never inside the retry window */
	assert_false(prune_is_due(now - 86400 * 30, now, -1));
	assert_false(prune_is_due(now + 1000, now, 1));           /* a clock set back */
}

static void test_failed(void **state)
{
	(void)state;
	assert_false(prune_is_failed("stored"));
	assert_false(prune_is_failed("recorded"));
	assert_true(prune_is_failed("failed"));
	assert_true(prune_is_failed("stored_partial"));
	assert_true(prune_is_failed("lost_upstream"));
	assert_true(prune_is_failed(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
