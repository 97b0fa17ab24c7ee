/* The Prometheus registry: text format, types, labels, threads. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metrics.h"

START_TEST(test_format)
{
	static const double b[] = { 0.1, 1 };
	struct metrics *m = metrics_new();
	struct metric *req, *depth, *lat;
	size_t len;
	char *text;

	req = metrics_counter(m, "vnsm_requests_total", "requests");
	depth = metrics_gauge(m, "vnsm_pool_depth", "members ready");
	lat = metrics_histogram(m, "vnsm_step_seconds", "step time", b, 2);
	ck_assert_ptr_nonnull(req);
	ck_assert_ptr_nonnull(depth);
	ck_assert_ptr_nonnull(lat);
	ck_assert_ptr_eq(metrics_counter(m, "vnsm_requests_total", "x"), req);
	ck_assert_ptr_null(metrics_gauge(m, "vnsm_requests_total", "x"));
	ck_assert_ptr_null(metrics_counter(m, "9bad", "x"));
	ck_assert_ptr_null(metrics_counter(m, "bad-name", "x"));
	metric_add(req, "code=\"200\"", 2);
	metric_add(req, "code=\"404\"", 1);
	metric_add(req, "code=\"200\"", 1);
	metric_add(req, NULL, -1);		/* counters never go down */
	metric_add(req, "x=\"a\\\"\"", 1);	/* refused label */
	metric_set(depth, "pool=\"small\"", 4);
	metric_set(depth, "pool=\"small\"", 3);
	metric_observe(lat, "step=\"boot\"", 0.05);
	metric_observe(lat, "step=\"boot\"", 0.5);
	metric_observe(lat, "step=\"boot\"", 5);
	ck_assert_double_eq(metric_value(req, "code=\"200\""), 3);
	text = metrics_format(m, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_str_eq(text,
	    "# HELP vnsm_requests_total requests\n"
	    "# TYPE vnsm_requests_total counter\n"
	    "vnsm_requests_total{code=\"200\"} 3\n"
	    "vnsm_requests_total{code=\"404\"} 1\n"
	    "# HELP vnsm_pool_depth members ready\n"
	    "# TYPE vnsm_pool_depth gauge\n"
	    "vnsm_pool_depth{pool=\"small\"} 3\n"
	    "# HELP vnsm_step_seconds step time\n"
	    "# TYPE vnsm_step_seconds histogram\n"
	    "vnsm_step_seconds_bucket{step=\"boot\",le=\"0.1\"} 1\n"
	    "vnsm_step_seconds_bucket{step=\"boot\",le=\"1\"} 2\n"
	    "vnsm_step_seconds_bucket{step=\"boot\",le=\"+Inf\"} 3\n"
	    "vnsm_step_seconds_sum{step=\"boot\"} 5.5499999999999998\n"
	    "vnsm_step_seconds_count{step=\"boot\"} 3\n");
	free(text);
	metrics_free(m);
	metrics_free(NULL);
}
END_TEST

static struct metric *shared;

static void *
adder(void *arg)
{
	for (int i = 0; i < 10000; i++)
		metric_add(shared, NULL, 1);
	return NULL;
}

START_TEST(test_threads)
{
	struct metrics *m = metrics_new();
	pthread_t t[4];

	shared = metrics_counter(m, "c", "c");
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, adder, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_double_eq(metric_value(shared, NULL), 40000);
	metrics_free(m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
