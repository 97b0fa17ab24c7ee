#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

START_TEST(test_codes_round_trip)
{
	for (int c = 0; c < ERR_LAST; c++) {
		const char *s = err_code_to_string(c);
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(err_code_from_string(s), c);
	}
	ck_assert_int_eq(err_code_from_string("no-such-code"), -1);
	ck_assert_ptr_null(err_code_to_string(ERR_LAST));
}
END_TEST

START_TEST(test_list_and_line)
{
	char buf[512];

	err_reset();
	ck_assert_int_eq(err_at(ERR_NOT_FOUND, "/vnet/link[@name='x']", 12,
	    "link 'x' ends at node 'q', which does not exist"), -1);
	err_hint("declare node 'q' or fix the link end");
	err_file("ref5.xml");
	ck_assert_uint_eq(err_count(), 1);
	ck_assert_str_eq(err_line(err_get(0), buf, sizeof(buf)),
	    "ref5.xml:12: link 'x' ends at node 'q', which does not exist; "
	    "declare node 'q' or fix the link end");

	err_reset();
	err_set(ERR_NO_RESOURCES, "not enough memory on host h1");
	err_shortfall("memory", "MiB", 512, 128);
	ck_assert_str_eq(err_line(err_last(), buf, sizeof(buf)),
	    "not enough memory on host h1 (memory: asked 512 MiB, 128 MiB free)");
	ck_assert_int_eq(err_http_status(err_last_code()), 409);
}
END_TEST

START_TEST(test_overflow_counts)
{
	err_reset();
	for (int i = 0; i < ERR_LIST_MAX + 5; i++)
		err_set(ERR_INVALID, "problem %d", i);
	ck_assert_uint_eq(err_count(), ERR_LIST_MAX);
	ck_assert_uint_eq(err_dropped(), 5);
	err_reset();
	ck_assert_uint_eq(err_count(), 0);
	ck_assert_ptr_null(err_last());
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_codes_round_trip);
	tcase_add_test(tc, test_list_and_line);
	tcase_add_test(tc, test_overflow_counts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
