/* Wrap-aware sequence-number helpers, RFC 2661 section 5.8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "l2tp_seq.h"

static void test_seq_order_and_wrap(void **state)
{
	(void)state;
	assert_true(l2tp_seq_lt(0, 1));
	assert_false(l2tp_seq_lt(1, 0));
	assert_false(l2tp_seq_lt(5, 5));
	assert_true(l2tp_seq_le(5, 5));
	/* across the wrap: 65535 precedes 0, 65530 precedes 3 */
	assert_true(l2tp_seq_lt(65535, 0));
	assert_true(l2tp_seq_lt(65530, 3));
	assert_false(l2tp_seq_lt(3, 65530));
	assert_int_equal(l2tp_seq_diff(0, 65535), 1);
	assert_int_equal(l2tp_seq_diff(65535, 0), -1);
	/* the 32767 values before x precede it; 32768 away is "before" too */
	assert_int_equal(l2tp_seq_diff(100, (uint16_t)(100 + 32767)), -32767);
	assert_int_equal(l2tp_seq_diff((uint16_t)(100 + 32767), 100), 32767);
	assert_int_equal(l2tp_seq_diff((uint16_t)(100 + 32768), 100), -32768);
	assert_int_equal(l2tp_seq_next(65535), 0);
}

static void test_seq_window(void **state)
{
	(void)state;
	assert_true(l2tp_seq_in_window(10, 10, 4));
	assert_true(l2tp_seq_in_window(13, 10, 4));
	assert_false(l2tp_seq_in_window(14, 10, 4));
	assert_false(l2tp_seq_in_window(9, 10, 4));
	assert_true(l2tp_seq_in_window(1, 65534, 4)); /* 65534 65535 0 1 */
	assert_false(l2tp_seq_in_window(2, 65534, 4));
	assert_false(l2tp_seq_in_window(0, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_order_and_wrap),
		cmocka_unit_test(test_seq_window),
	};
	return cmocka_run_group_tests_name("l2tp_seq", tests, NULL, NULL);
}
