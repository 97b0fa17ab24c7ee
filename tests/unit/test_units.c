#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "util.h"

START_TEST(test_cpu)
{
	static const struct { const char *in; int ok; uint32_t milli;
	    const char *out; } c[] = {
		{ "1", 1, 1000, "1" }, { "0.5", 1, 500, "0.5" },
		{ "2.25", 1, 2250, "2.25" }, { "0.001", 1, 1, "0.001" },
		{ "1024", 1, 1024000, "1024" }, { "0", 1, 0, "0" },
		{ "1025", 0, 0, NULL }, { "-1", 0, 0, NULL },
		{ "1.2345", 0, 0, NULL }, { "1.", 0, 0, NULL },
		{ ".5", 0, 0, NULL }, { "1e3", 0, 0, NULL }, { "", 0, 0, NULL },
		{ "99999999999999999999999", 0, 0, NULL },
	};
	char buf[32];

	for (size_t i = 0; i < NELEM(c); i++) {
		uint32_t m = 7;
		int rc = units_parse_cpu(c[i].in, &m);
		ck_assert_msg((rc == 0) == c[i].ok, "cpu \"%s\"", c[i].in);
		if (!c[i].ok)
			continue;
		ck_assert_uint_eq(m, c[i].milli);
		ck_assert_str_eq(units_fmt_cpu(m, buf, sizeof(buf)), c[i].out);
	}
}
END_TEST

START_TEST(test_mem_bw)
{
	char buf[32];
	uint64_t v;

	ck_assert_int_eq(units_parse_mem("64MiB", &v), 0);
	ck_assert_uint_eq(v, 64);
	ck_assert_int_eq(units_parse_mem("64", &v), 0);
	ck_assert_uint_eq(v, 64);
	ck_assert_int_eq(units_parse_mem("2GiB", &v), 0);
	ck_assert_uint_eq(v, 2048);
	ck_assert_str_eq(units_fmt_mem(2048, buf, sizeof(buf)), "2GiB");
	ck_assert_str_eq(units_fmt_mem(1536, buf, sizeof(buf)), "1536MiB");
	ck_assert_int_eq(units_parse_mem("64MB", &v), -1);
	ck_assert_int_eq(units_parse_mem("-64MiB", &v), -1);
	ck_assert_int_eq(units_parse_mem("2048TiB", &v), -1);

	ck_assert_int_eq(units_parse_bw("10Mbit", &v), 0);
	ck_assert_uint_eq(v, 10000);
	ck_assert_int_eq(units_parse_bw("10", &v), 0);
	ck_assert_uint_eq(v, 10000);
	ck_assert_int_eq(units_parse_bw("1500kbit", &v), 0);
	ck_assert_str_eq(units_fmt_bw(v, buf, sizeof(buf)), "1500kbit");
	ck_assert_str_eq(units_fmt_bw(1000000, buf, sizeof(buf)), "1Gbit");
	ck_assert_int_eq(units_parse_bw("2Tbit", &v), -1);
	ck_assert_int_eq(units_parse_bw("fast", &v), -1);
}
END_TEST

START_TEST(test_addresses)
{
	struct ipv4_prefix p, q;
	char buf[32];
	uint32_t a;

	ck_assert_int_eq(units_parse_prefix("10.0.1.1/24", &p), 0);
	ck_assert_uint_eq(p.addr, 0x0a000101);
	ck_assert_uint_eq(p.len, 24);
	ck_assert_str_eq(units_fmt_prefix(&p, buf, sizeof(buf)), "10.0.1.1/24");
	ck_assert_int_eq(units_parse_prefix("10.0.1.2/24", &q), 0);
	ck_assert(prefix_same_net(&p, &q));
	ck_assert_int_eq(units_parse_prefix("10.0.2.2/24", &q), 0);
	ck_assert(!prefix_same_net(&p, &q));
	ck_assert_int_eq(units_parse_prefix("10.0.1.1", &p), -1);
	ck_assert_int_eq(units_parse_prefix("10.0.1.1/33", &p), -1);
	ck_assert_int_eq(units_parse_prefix("10.0.1.256/24", &p), -1);
	ck_assert_int_eq(units_parse_prefix("10.0.1.1/024", &p), -1);
	ck_assert_int_eq(units_parse_ipv4("192.0.2.1", &a), 0);
	ck_assert_str_eq(units_fmt_ipv4(a, buf, sizeof(buf)), "192.0.2.1");
}
END_TEST

START_TEST(test_time_ms_names)
{
	char buf[NAME_LEN + 1];
	int64_t t;
	double ms;

	ck_assert_int_eq(units_parse_time("2026-11-21T12:00:00Z", &t), 0);
	ck_assert_int_eq(t, 1795262400);
	ck_assert_str_eq(units_fmt_time(t, buf, sizeof(buf)),
	    "2026-11-21T12:00:00Z");
	ck_assert_int_eq(units_parse_time("2026-11-21 12:00:00", &t), -1);
	ck_assert_int_eq(units_parse_time("2026-02-30T12:00:00Z", &t), -1);
	ck_assert_int_eq(units_parse_time("9999-12-31T23:59:60Z", &t), -1);
	ck_assert_int_eq(units_parse_ms("12.345", &ms), 0);
	ck_assert_str_eq(units_fmt_ms(ms, buf, sizeof(buf)), "12.345");
	ck_assert(name_valid("ref5.pip-1_a"));
	ck_assert(!name_valid("-a"));
	ck_assert(!name_valid("a b"));
	ck_assert(!name_valid(""));
	memset(buf, 'x', 64);
	buf[NAME_LEN] = '\0';
	ck_assert(!name_valid(buf));		/* 64 characters */
	buf[NAME_LEN - 1] = '\0';
	ck_assert(name_valid(buf));		/* 63: the longest */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_cpu);
	tcase_add_test(tc, test_mem_bw);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_time_ms_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
