/*
 * ViNE-Yard text format: write, read, write again gives the same bytes
 * and the same values; malformed input is refused with its line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "map.h"
#include "vineyard.h"

/* Write through fn into a malloc'd string. */
static char *
tst_write_sub(const struct map_substrate *sub)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(vineyard_write_substrate(fp, sub), 0);
	fclose(fp);
	return buf;
}

static char *
tst_write_req(const struct map_request *req, const struct vineyard_meta *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(vineyard_write_request(fp, req, m), 0);
	fclose(fp);
	return buf;
}

static struct map_substrate *
tst_read_sub(const char *text)
{
	FILE *fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	struct map_substrate *sub;

	ck_assert_ptr_nonnull(fp);
	sub = vineyard_read_substrate(fp, "sub.txt");
	fclose(fp);
	return sub;
}

static struct map_request *
tst_read_req(const char *text, struct vineyard_meta *m)
{
	FILE *fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	struct map_request *req;

	ck_assert_ptr_nonnull(fp);
	req = vineyard_read_request(fp, "req0.txt", m);
	fclose(fp);
	return req;
}

START_TEST(test_substrate_round_trip)
{
	struct map_substrate *sub = map_substrate_new(), *back;
	char *a, *b;

	for (int i = 0; i < 50; i++) {
		struct map_snode sn;

		memset(&sn, 0, sizeof(sn));
		sn.x = i * 7 % 100;
		sn.y = i * 0.25;	/* exact in binary: reads back as is */
		sn.cpu = 50000 + i * 997 % 50001;
		sn.ifaces = MAP_NONE;
		sn.kinds = MAP_KINDS_ALL;
		map_snode_add(sub, &sn);
	}
	for (int i = 0; i < 120; i++)
		map_slink_add(sub, i % 50, (i * 13 + 1) % 50 == i % 50 ?
		    (i + 1) % 50 : (i * 13 + 1) % 50, 50000 + i * 331 % 50001,
		    i * 1234);
	map_substrate_finalize(sub);
	a = tst_write_sub(sub);
	back = tst_read_sub(a);
	ck_assert_ptr_nonnull(back);
	b = tst_write_sub(back);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(back->nnodes, sub->nnodes);
	ck_assert_int_eq(back->nlinks, sub->nlinks);
	for (int32_t i = 0; i < sub->nnodes; i++) {
		ck_assert(back->nodes[i].x == sub->nodes[i].x);
		ck_assert(back->nodes[i].y == sub->nodes[i].y);
		ck_assert_int_eq(back->nodes[i].cpu, sub->nodes[i].cpu);
		ck_assert_int_eq(back->cpu_res[i], sub->nodes[i].cpu);
	}
	for (int32_t i = 0; i < sub->nlinks; i++) {
		ck_assert_int_eq(back->links[i].a, sub->links[i].a);
		ck_assert_int_eq(back->links[i].b, sub->links[i].b);
		ck_assert_int_eq(back->links[i].bw, sub->links[i].bw);
		ck_assert_int_eq(back->links[i].delay, sub->links[i].delay);
	}
	free(a);
	free(b);
	map_substrate_free(back);
	map_substrate_free(sub);
}
END_TEST

START_TEST(test_request_round_trip)
{
	struct map_request *req = map_request_new(4, 3), *back;
	struct vineyard_meta m = { 0, 1234, 987, 0, 25.5 }, mb;
	char *a, *b;

	for (int i = 0; i < 4; i++) {
		req->nodes[i].x = 10 * i;
		req->nodes[i].y = 3;
		req->nodes[i].cpu = 1 + i * 4999;
		req->nodes[i].maxd = 25.5;
	}
	for (int i = 0; i < 3; i++) {
		req->links[i].a = i;
		req->links[i].b = i + 1;
		req->links[i].bw = 1 + i * 24999;
	}
	a = tst_write_req(req, &m);
	ck_assert_str_eq(a, "4 3 0 1234 987 0 25.5\n"
	    "0 3 0.001\n10 3 5.000\n20 3 9.999\n30 3 14.998\n"
	    "0 1 0.001 0.000\n1 2 25.000 0.000\n2 3 49.999 0.000\n");
	back = tst_read_req(a, &mb);
	ck_assert_ptr_nonnull(back);
	ck_assert_int_eq(mb.time, 1234);
	ck_assert_int_eq(mb.duration, 987);
	ck_assert(mb.maxd == 25.5);
	ck_assert(back->nodes[2].maxd == 25.5);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(back->links[i].bw, req->links[i].bw);
	b = tst_write_req(back, &mb);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	map_request_free(back);
	map_request_free(req);
}
END_TEST

/* Malformed files are refused with the line at fault. */
START_TEST(test_bad_input)
{
	static const struct {
		const char *text;	/* the file */
		long line;		/* line the error names */
	} subs[] = {
		{ "2 1\n0 0 50\n1 1\n0 1 10 1\n", 3 },		/* no cpu */
		{ "2 1\n0 0 50\n1 1 60\n0 2 10 1\n", 4 },	/* bad end */
		{ "2 1\n0 0 50\n1 1 60\n0 0 10 1\n", 0 },	/* self-link */
		{ "2 1\n0 0 -5\n", 2 },				/* negative */
		{ "2 1\n0 0 50\n1 1 60\n", 3 },			/* too short */
		{ "x 1\n", 1 },					/* not a number */
		{ "2 1 7\n", 1 },				/* extra field */
	};

	for (size_t i = 0; i < NELEM(subs); i++) {
		err_reset();
		ck_assert_ptr_null(tst_read_sub(subs[i].text));
		ck_assert_uint_ge(err_count(), 1);
		ck_assert_int_eq(err_get(0)->line, subs[i].line);
		if (subs[i].line > 0)
			ck_assert_str_eq(err_get(0)->file, "sub.txt");
	}
	err_reset();
	ck_assert_ptr_null(tst_read_req("2 1 0 5 10 0 0\n0 0 1\n0 0 1\n"
	    "1 1 5 0\n", NULL));
	ck_assert_int_eq(err_last()->code, ERR_TOPOLOGY);
	ck_assert_int_eq(err_last()->line, 4);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("map_vineyard");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_substrate_round_trip);
	tcase_add_test(tc, test_request_round_trip);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
