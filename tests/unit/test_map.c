/*
 * Mapping library: every algorithm honours capacities and constraints,
 * every path is connected and has the bandwidth, and reserve/release
 * restore the residuals exactly after 10,000 random arrivals and
 * departures.  The mappings are checked here by an independent checker,
 * not only by map_check().
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "map.h"
#include "map_impl.h"

/* A small deterministic generator for the tests (xorshift64*). */
static uint64_t tst_state = 88172645463325252ull;

static uint64_t
tst_rand(void)
{
	tst_state ^= tst_state >> 12;
	tst_state ^= tst_state << 25;
	tst_state ^= tst_state >> 27;
	return tst_state * 2685821657736338717ull;
}

static int64_t
tst_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(tst_rand() % (uint64_t)(hi - lo + 1));
}

/*
 * A random connected substrate of n nodes: a random spanning tree plus
 * extra random links; random PIPs (0..2), kinds, locations, interfaces,
 * memory.  constrained = 0 gives plain nodes (every kind, no limits).
 */
static struct map_substrate *
tst_substrate(int32_t n, int32_t extra, int constrained)
{
	struct map_substrate *sub = map_substrate_new();

	ck_assert_ptr_nonnull(sub);
	for (int32_t i = 0; i < n; i++) {
		struct map_snode sn;

		memset(&sn, 0, sizeof(sn));
		snprintf(sn.name, sizeof(sn.name), "h%d", (int)i);
		sn.cpu = tst_range(20000, 100000);
		sn.mem = constrained ? tst_range(256, 4096) : 1 << 20;
		sn.ifaces = constrained ? (int32_t)tst_range(2, 12) : MAP_NONE;
		sn.x = (double)tst_range(0, 99);
		sn.y = (double)tst_range(0, 99);
		snprintf(sn.loc, sizeof(sn.loc), "site%d", (int)(i % 4));
		sn.pip = constrained ? (int32_t)(i % 3) : MAP_NONE;
		sn.kinds = constrained ? (uint32_t)tst_range(1, 7) :
		    MAP_KINDS_ALL;
		ck_assert_int_eq(map_snode_add(sub, &sn), i);
	}
	for (int32_t i = 1; i < n; i++)
		ck_assert_int_ge(map_slink_add(sub, (int32_t)tst_range(0, i - 1),
		    i, tst_range(20000, 100000), 1000), 0);
	for (int32_t k = 0; k < extra; k++) {
		int32_t a = (int32_t)tst_range(0, n - 1);
		int32_t b = (int32_t)tst_range(0, n - 1);

		if (a != b)
			ck_assert_int_ge(map_slink_add(sub, a, b,
			    tst_range(20000, 100000), 1000), 0);
	}
	ck_assert_int_eq(map_substrate_finalize(sub), 0);
	return sub;
}

/* A random connected request; with constraints if constrained. */
static struct map_request *
tst_request(const struct map_substrate *sub, int constrained)
{
	int32_t n = (int32_t)tst_range(1, 8), m = 0;
	struct map_vlink links[64];
	struct map_request *req;

	for (int32_t i = 1; i < n; i++) {
		links[m].a = (int32_t)tst_range(0, i - 1);
		links[m].b = i;
		links[m].bw = tst_range(1, 30000);
		m++;
	}
	for (int32_t k = 0; k < n / 2; k++) {
		int32_t a = (int32_t)tst_range(0, n - 1);
		int32_t b = (int32_t)tst_range(0, n - 1);

		if (a != b) {
			links[m].a = a;
			links[m].b = b;
			links[m].bw = tst_range(1, 30000);
			m++;
		}
	}
	req = map_request_new(n, m);
	ck_assert_ptr_nonnull(req);
	memcpy(req->links, links, (size_t)m * sizeof(*links));
	for (int32_t i = 0; i < n; i++) {
		struct map_vnode *v = &req->nodes[i];

		v->cpu = tst_range(1, 15000);
		if (!constrained)
			continue;
		v->mem = tst_range(0, 512);
		v->kind = (int32_t)tst_range(0, 2);
		for (int32_t k = 0; k < m; k++)
			if (links[k].a == i || links[k].b == i)
				v->ifaces++;
		switch (tst_range(0, 5)) {
		case 0:
			v->pip = (int32_t)tst_range(0, 2);
			break;
		case 1:
			v->x = (double)tst_range(0, 99);
			v->y = (double)tst_range(0, 99);
			v->maxd = 40;
			break;
		case 2:
			snprintf(v->loc, sizeof(v->loc), "site%d",
			    (int)tst_range(0, 3));
			break;
		case 3:
			if (tst_range(0, 3) == 0)
				v->pin = (int32_t)tst_range(0,
				    sub->nnodes - 1);
			break;
		default:
			break;
		}
	}
	req->colocate = constrained && tst_range(0, 4) == 0;
	ck_assert_int_eq(map_request_validate(req), 0);
	return req;
}

/*
 * The independent checker: hosts exist and are distinct (unless
 * colocate), each host meets every constraint with the summed demand,
 * every path starts at the host of one end, is connected, ends at the
 * other, and every substrate link carries at most its residual.
 */
static void
tst_verify(const struct map_substrate *sub, const struct map_request *req,
    const struct map_result *res)
{
	int64_t *cpu = calloc((size_t)sub->nnodes, sizeof(*cpu));
	int64_t *mem = calloc((size_t)sub->nnodes, sizeof(*mem));
	int64_t *ifs = calloc((size_t)sub->nnodes, sizeof(*ifs));
	int64_t *bw = calloc((size_t)sub->nlinks, sizeof(*bw));
	int32_t *cnt = calloc((size_t)sub->nnodes, sizeof(*cnt));

	for (int32_t i = 0; i < req->nnodes; i++) {
		const struct map_vnode *v = &req->nodes[i];
		int32_t s = res->node[i];
		const struct map_snode *h;

		ck_assert_int_ge(s, 0);
		ck_assert_int_lt(s, sub->nnodes);
		h = &sub->nodes[s];
		cnt[s]++;
		if (!req->colocate)
			ck_assert_int_eq(cnt[s], 1);
		cpu[s] += v->cpu;
		mem[s] += v->mem;
		ifs[s] += v->ifaces;
		ck_assert(h->kinds & (1u << v->kind));
		if (v->pip != MAP_NONE)
			ck_assert_int_eq(h->pip, v->pip);
		if (v->pin != MAP_NONE)
			ck_assert_int_eq(s, v->pin);
		if (v->loc[0] != '\0')
			ck_assert_str_eq(h->loc, v->loc);
		if (v->maxd >= 0)
			ck_assert(hypot(h->x - v->x, h->y - v->y) <=
			    v->maxd + 1e-9);
	}
	for (int32_t s = 0; s < sub->nnodes; s++) {
		ck_assert_int_le(cpu[s], sub->cpu_res[s]);
		ck_assert_int_le(mem[s], sub->mem_res[s]);
		if (sub->if_res[s] != MAP_NONE)
			ck_assert_int_le(ifs[s], sub->if_res[s]);
	}
	for (int32_t i = 0; i < req->nlinks; i++) {
		int32_t at = res->node[req->links[i].a];

		for (int32_t p = res->path_off[i]; p < res->path_off[i + 1];
		    p++) {
			const struct map_slink *l = &sub->links[res->path[p]];

			ck_assert(l->a == at || l->b == at);
			at = l->a == at ? l->b : l->a;
			bw[res->path[p]] += req->links[i].bw;
		}
		ck_assert_int_eq(at, res->node[req->links[i].b]);
	}
	for (int32_t l = 0; l < sub->nlinks; l++)
		ck_assert_int_le(bw[l], sub->bw_res[l]);
	free(cpu);
	free(mem);
	free(ifs);
	free(bw);
	free(cnt);
}

/* Residuals stay within [0, capacity]. */
static void
tst_bounds(const struct map_substrate *sub)
{
	for (int32_t s = 0; s < sub->nnodes; s++) {
		ck_assert_int_ge(sub->cpu_res[s], 0);
		ck_assert_int_le(sub->cpu_res[s], sub->nodes[s].cpu);
		ck_assert_int_ge(sub->mem_res[s], 0);
	}
	for (int32_t l = 0; l < sub->nlinks; l++) {
		ck_assert_int_ge(sub->bw_res[l], 0);
		ck_assert_int_le(sub->bw_res[l], sub->links[l].bw);
	}
}

/* Every algorithm on random constrained requests: valid or refused. */
START_TEST(test_constraints_honoured)
{
	int mapped[MAP_ALGO_LAST] = { 0 };

	for (int round = 0; round < 20; round++) {
		struct map_substrate *sub = tst_substrate(30, 40, 1);
		struct map_ctx *ctx = map_ctx_new(sub);

		ck_assert_ptr_nonnull(ctx);
		for (int k = 0; k < 60; k++) {
			struct map_request *req = tst_request(sub, 1);

			for (int a = 0; a < MAP_ALGO_LAST; a++) {
				struct map_result *res = map_result_new(req);
				struct map_substrate *before =
				    map_substrate_dup(sub);

				err_reset();
				if (map_embed(ctx, a, req, res) == 0) {
					tst_verify(sub, req, res);
					ck_assert_int_eq(map_check(sub, req,
					    res), 0);
					mapped[a]++;
				} else
					ck_assert_int_eq(err_last_code(),
					    ERR_NO_RESOURCES);
				/* Mapping alone changes nothing. */
				ck_assert(map_substrate_equal_residuals(sub,
				    before));
				/* Keep vnsm's mapping, to load the substrate. */
				if (a == MAP_ALGO_VNSM && res->node[0] >= 0 &&
				    map_check(sub, req, res) == 0 && k % 2)
					ck_assert_int_eq(map_reserve(sub, req,
					    res), 0);
				tst_bounds(sub);
				map_substrate_free(before);
				map_result_free(res);
			}
			map_request_free(req);
		}
		map_ctx_free(ctx);
		map_substrate_free(sub);
	}
	/* The constraints leave room: each algorithm mapped many. */
	for (int a = 0; a < MAP_ALGO_LAST; a++)
		ck_assert_int_gt(mapped[a], 100);
}
END_TEST

/* One live request of the restore test. */
struct tst_live {
	struct map_request *req;
	struct map_result *res;
};

/*
 * 10,000 random arrivals and departures on one substrate, the three
 * algorithms in turn; every mapping verified; residuals always in
 * bounds; when all have departed the residuals equal the originals
 * exactly.
 */
START_TEST(test_exact_restore)
{
	struct map_substrate *sub = tst_substrate(60, 150, 1);
	struct map_substrate *orig = map_substrate_dup(sub);
	struct map_ctx *ctx = map_ctx_new(sub);
	struct tst_live live[64];
	int nlive = 0, accepted = 0, events = 0;

	while (events < 10000) {
		if (nlive > 0 && (nlive == 64 || tst_range(0, 2) == 0)) {
			int k = (int)tst_range(0, nlive - 1);

			map_release(sub, live[k].req, live[k].res);
			map_request_free(live[k].req);
			map_result_free(live[k].res);
			live[k] = live[--nlive];
		} else {
			struct map_request *req = tst_request(sub,
			    events % 3 == 0);
			struct map_result *res = map_result_new(req);

			if (map_embed(ctx, (enum map_algo)(events %
			    MAP_ALGO_LAST), req, res) == 0) {
				tst_verify(sub, req, res);
				ck_assert_int_eq(map_reserve(sub, req, res), 0);
				live[nlive].req = req;
				live[nlive].res = res;
				nlive++;
				accepted++;
			} else {
				map_request_free(req);
				map_result_free(res);
			}
		}
		events++;
		if (events % 97 == 0)
			tst_bounds(sub);
	}
	while (nlive > 0) {
		nlive--;
		map_release(sub, live[nlive].req, live[nlive].res);
		map_request_free(live[nlive].req);
		map_result_free(live[nlive].res);
	}
	ck_assert_int_gt(accepted, 1000);
	ck_assert(map_substrate_equal_residuals(sub, orig));
	for (int32_t s = 0; s < sub->nnodes; s++)
		ck_assert_int_eq(sub->cpu_res[s], sub->nodes[s].cpu);
	for (int32_t l = 0; l < sub->nlinks; l++)
		ck_assert_int_eq(sub->bw_res[l], sub->links[l].bw);
	ck_assert_int_eq(sub->cpu_free, orig->cpu_free);
	ck_assert_int_eq(sub->cpu_tree[1], orig->cpu_tree[1]);
	ck_assert_int_eq(sub->bw_tree[1], orig->bw_tree[1]);
	map_ctx_free(ctx);
	map_substrate_free(orig);
	map_substrate_free(sub);
}
END_TEST

/* A line a - b - c - d with 10 Mbit/s links, 4 CPUs each. */
static struct map_substrate *
tst_line(void)
{
	struct map_substrate *sub = map_substrate_new();

	for (int i = 0; i < 4; i++) {
		struct map_snode sn;

		memset(&sn, 0, sizeof(sn));
		sn.cpu = map_cpu(4);
		sn.mem = 1024;
		sn.ifaces = MAP_NONE;
		sn.pip = i < 2 ? 1 : 2;
		sn.kinds = MAP_KINDS_ALL;
		sn.x = i * 10;
		map_snode_add(sub, &sn);
	}
	for (int i = 0; i < 3; i++)
		map_slink_add(sub, i, i + 1, map_bw(10), 0);
	map_substrate_finalize(sub);
	return sub;
}

/* map_check refuses what does not fit, with the shortfall. */
START_TEST(test_check_refuses)
{
	struct map_substrate *sub = tst_line();
	struct map_request *req = map_request_new(2, 1);
	struct map_result *res;

	req->nodes[0].cpu = map_cpu(1);
	req->nodes[1].cpu = map_cpu(1);
	req->links[0].a = 0;
	req->links[0].b = 1;
	req->links[0].bw = map_bw(6);
	res = map_result_new(req);
	res->node[0] = 0;
	res->node[1] = 2;
	map_result_grow(res, 4);
	res->path[0] = 0;
	res->path[1] = 1;
	res->path_off[1] = 2;
	ck_assert_int_eq(map_check(sub, req, res), 0);
	ck_assert_int_eq(map_reserve(sub, req, res), 0);
	/* The same again overbooks links 0 and 1. */
	err_reset();
	ck_assert_int_eq(map_check(sub, req, res), -1);
	ck_assert_int_eq(err_last_code(), ERR_NO_RESOURCES);
	ck_assert_str_eq(err_last()->resource, "bandwidth");
	ck_assert(err_last()->asked == 6000 && err_last()->avail == 4000);
	map_release(sub, req, res);
	/* A broken path. */
	res->path[1] = 2;
	ck_assert_int_eq(map_check(sub, req, res), -1);
	ck_assert_int_eq(err_last_code(), ERR_TOPOLOGY);
	/* Two nodes on one host, only if the request allows it. */
	res->node[1] = 0;
	res->path_off[1] = 0;
	ck_assert_int_eq(map_check(sub, req, res), -1);
	req->colocate = 1;
	ck_assert_int_eq(map_check(sub, req, res), 0);
	/* A CPU shortfall names the resource. */
	req->nodes[0].cpu = map_cpu(3.5);
	err_reset();
	ck_assert_int_eq(map_check(sub, req, res), -1);
	ck_assert_str_eq(err_last()->resource, "cpu");
	ck_assert_int_eq(map_admit(sub, req), 0);
	req->nodes[0].cpu = map_cpu(5);
	ck_assert_int_eq(map_admit(sub, req), -1);
	ck_assert_str_eq(err_last()->resource, "cpu");
	req->nodes[0].cpu = map_cpu(1);
	req->links[0].bw = map_bw(11);
	/* Colocated, the link may need no substrate link at all. */
	ck_assert_int_eq(map_admit(sub, req), 0);
	req->colocate = 0;
	ck_assert_int_eq(map_admit(sub, req), -1);
	ck_assert_str_eq(err_last()->resource, "bandwidth");
	map_result_free(res);
	map_request_free(req);
	map_substrate_free(sub);
}
END_TEST

/* Pins, PIPs and shared links on a line, for every algorithm. */
START_TEST(test_line_cases)
{
	for (int a = 0; a < MAP_ALGO_LAST; a++) {
		struct map_substrate *sub = tst_line();
		struct map_ctx *ctx = map_ctx_new(sub);
		struct map_request *req = map_request_new(3, 2);
		struct map_result *res = map_result_new(req);

		/* x pinned to host 0, y on PIP 2, z anywhere; 6 + 6 Mbit/s
		 * from x cannot both cross link 0 (10 Mbit/s). */
		req->nodes[0].pin = 0;
		req->nodes[1].pip = 2;
		req->links[0].a = 0;
		req->links[0].b = 1;
		req->links[0].bw = map_bw(6);
		req->links[1].a = 0;
		req->links[1].b = 2;
		req->links[1].bw = map_bw(6);
		err_reset();
		ck_assert_int_eq(map_embed(ctx, a, req, res), -1);
		ck_assert_int_eq(err_last_code(), ERR_NO_RESOURCES);
		req->links[1].bw = map_bw(4);
		ck_assert_int_eq(map_embed(ctx, a, req, res), 0);
		tst_verify(sub, req, res);
		ck_assert_int_eq(res->node[0], 0);
		ck_assert_int_ge(res->node[1], 2);
		/* A location bound only host 3 meets. */
		req->nodes[2].x = 31;
		req->nodes[2].maxd = 2;
		ck_assert_int_eq(map_embed(ctx, a, req, res), 0);
		ck_assert_int_eq(res->node[2], 3);
		ck_assert_int_eq(res->node[1], 2);
		ck_assert_int_eq(res->cost, 6000 * 2 + 4000 * 3);
		map_result_free(res);
		map_request_free(req);
		map_ctx_free(ctx);
		map_substrate_free(sub);
	}
}
END_TEST

/* GRC's ranks are a fixed point of r = (1-d)c + dMr. */
START_TEST(test_grc_fixed_point)
{
	struct map_substrate *sub = tst_substrate(40, 60, 0);
	struct map_ctx *ctx = map_ctx_new(sub);
	struct map_request *req = tst_request(sub, 0);
	struct map_result *res = map_result_new(req);
	double csum = 0, rsum = 0;

	ck_assert_int_eq(map_embed(ctx, MAP_ALGO_GRC, req, res), 0);
	for (int32_t s = 0; s < sub->nnodes; s++)
		csum += (double)sub->cpu_res[s];
	for (int32_t u = 0; u < sub->nnodes; u++) {
		double acc = 0;

		for (int32_t e = sub->adj_off[u]; e < sub->adj_off[u + 1]; e++) {
			int32_t v = sub->adj_node[e];
			double bv = 0;

			for (int32_t f = sub->adj_off[v]; f < sub->adj_off[v + 1];
			    f++)
				bv += (double)sub->bw_res[sub->adj_link[f]];
			acc += (double)sub->bw_res[sub->adj_link[e]] / bv *
			    ctx->rank[v];
		}
		ck_assert(fabs(ctx->rank[u] - (0.15 * (double)sub->cpu_res[u] /
		    csum + 0.85 * acc)) < 1e-4);
		rsum += ctx->rank[u];
	}
	/* M is column-stochastic, so the ranks sum to 1. */
	ck_assert(fabs(rsum - 1.0) < 1e-3);
	map_result_free(res);
	map_request_free(req);
	map_ctx_free(ctx);
	map_substrate_free(sub);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("map");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_check_refuses);
	tcase_add_test(tc, test_line_cases);
	tcase_add_test(tc, test_grc_fixed_point);
	tcase_add_test(tc, test_constraints_honoured);
	tcase_add_test(tc, test_exact_restore);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
