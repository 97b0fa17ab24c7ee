/*
 * Event-driven simulation: requests arrive in order; before each arrival
 * every request whose lifetime has ended departs (map_release); the
 * arrival is mapped by map_embed() with the algorithm under test and, if
 * a mapping is found, admitted by map_check() and reserved.  This is the
 * same code path pipd and vnpd take.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "vne.h"

/* A pending departure. */
struct sim_dep {
	int64_t time;		/* when it leaves */
	int32_t idx;		/* request index */
};

/* Binary min-heap of departures by time, then index. */
struct sim_heap {
	struct sim_dep *d;	/* [cap] */
	int32_t n, cap;		/* used / allocated */
};

static int
sim_less(const struct sim_dep *a, const struct sim_dep *b)
{
	return a->time < b->time || (a->time == b->time && a->idx < b->idx);
}

static int
sim_push(struct sim_heap *h, int64_t time, int32_t idx)
{
	int32_t i;

	if (h->n == h->cap) {
		int32_t ncap = h->cap > 0 ? 2 * h->cap : 256;
		struct sim_dep *nd;

		if ((nd = realloc(h->d, (size_t)ncap * sizeof(*nd))) == NULL)
			return err_nomem();
		h->d = nd;
		h->cap = ncap;
	}
	i = h->n++;
	h->d[i].time = time;
	h->d[i].idx = idx;
	while (i > 0 && sim_less(&h->d[i], &h->d[(i - 1) / 2])) {
		struct sim_dep t = h->d[i];

		h->d[i] = h->d[(i - 1) / 2];
		h->d[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

static struct sim_dep
sim_pop(struct sim_heap *h)
{
	struct sim_dep top = h->d[0];
	int32_t i = 0;

	h->d[0] = h->d[--h->n];
	for (;;) {
		int32_t l = 2 * i + 1, r = l + 1, m = i;
		struct sim_dep t;

		if (l < h->n && sim_less(&h->d[l], &h->d[m]))
			m = l;
		if (r < h->n && sim_less(&h->d[r], &h->d[m]))
			m = r;
		if (m == i)
			break;
		t = h->d[i];
		h->d[i] = h->d[m];
		h->d[m] = t;
		i = m;
	}
	return top;
}

double
vne_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
sim_dcmp(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

/* The q-quantile of n samples (sorts them). */
static double
sim_quantile(double *v, int32_t n, double q)
{
	int32_t k;

	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), sim_dcmp);
	k = (int32_t)ceil(q * n) - 1;
	if (k < 0)
		k = 0;
	return v[k];
}

/* Running totals of what is in use, for time-averaged utilisation. */
struct sim_use {
	double cpu, bw;		/* in use now, milli-CPU / kbit/s */
	double cpu_int, bw_int;	/* integrals over time */
	int64_t last;		/* time of the last change */
};

static void
sim_advance(struct sim_use *u, int64_t t, int64_t horizon)
{
	if (t > horizon)
		t = horizon;
	if (t > u->last) {
		u->cpu_int += u->cpu * (double)(t - u->last);
		u->bw_int += u->bw * (double)(t - u->last);
		u->last = t;
	}
}

/* Amounts a mapping uses: CPU and bandwidth x hops. */
static void
sim_amounts(const struct map_request *req, const struct map_result *res,
    double *cpu, double *bw)
{
	*cpu = 0;
	*bw = 0;
	for (int32_t i = 0; i < req->nnodes; i++)
		*cpu += (double)req->nodes[i].cpu;
	for (int32_t i = 0; i < req->nlinks; i++)
		*bw += (double)req->links[i].bw *
		    (res->path_off[i + 1] - res->path_off[i]);
}

/*
 * Run the workload with one algorithm on a private copy of the
 * substrate.  Fills st.  0, or -1 on an internal failure (e.g. the
 * residuals do not come back to capacity at the end).
 */
int
vne_simulate(const struct vne_inst *inst, enum map_algo algo,
    struct vne_stats *st, int roots)
{
	struct map_substrate *sub = map_substrate_dup(inst->sub);
	struct map_result **res = calloc((size_t)inst->nreqs + 1,
	    sizeof(*res));
	double *dec = calloc((size_t)inst->nreqs + 1, sizeof(*dec));
	double *chk = calloc((size_t)inst->nreqs + 1, sizeof(*chk));
	double *adm = calloc((size_t)inst->nreqs + 1, sizeof(*adm));
	struct sim_heap heap = { 0 };
	struct sim_use use = { 0 };
	struct map_ctx *ctx = NULL;
	double cpu_cap = 0, bw_cap = 0, t0 = vne_now_us();
	int32_t nchk = 0;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (sub == NULL || res == NULL || dec == NULL || chk == NULL ||
	    adm == NULL || (ctx = map_ctx_new(sub)) == NULL)
		goto out;
	map_ctx_set_roots(ctx, roots);
	for (int32_t i = 0; i < sub->nnodes; i++)
		cpu_cap += (double)sub->nodes[i].cpu;
	for (int32_t i = 0; i < sub->nlinks; i++)
		bw_cap += (double)sub->links[i].bw;
	for (int32_t k = 0; k < inst->nreqs; k++) {
		const struct vne_req *vr = &inst->reqs[k];
		const struct map_request *req = vr->req;
		double t, ucpu, ubw;
		int ok;

		while (heap.n > 0 && heap.d[0].time <= vr->meta.time) {
			struct sim_dep d = sim_pop(&heap);
			const struct map_request *dr = inst->reqs[d.idx].req;

			sim_advance(&use, d.time, inst->horizon);
			sim_amounts(dr, res[d.idx], &ucpu, &ubw);
			use.cpu -= ucpu;
			use.bw -= ubw;
			map_release(sub, dr, res[d.idx]);
			map_result_free(res[d.idx]);
			res[d.idx] = NULL;
		}
		sim_advance(&use, vr->meta.time, inst->horizon);
		st->arrived++;
		err_reset();
		if ((res[k] = map_result_new(req)) == NULL)
			goto out;
		t = vne_now_us();
		(void)map_admit(sub, req);
		adm[k] = vne_now_us() - t;
		t = vne_now_us();
		ok = map_embed(ctx, algo, req, res[k]) == 0;
		dec[k] = vne_now_us() - t;
		if (!ok) {
			map_result_free(res[k]);
			res[k] = NULL;
			continue;
		}
		t = vne_now_us();
		if (map_check(sub, req, res[k]) == -1) {
			err_print(stderr);
			goto out;
		}
		chk[nchk++] = vne_now_us() - t;
		if (map_reserve(sub, req, res[k]) == -1 ||
		    sim_push(&heap, vr->meta.time + vr->meta.duration, k) == -1)
			goto out;
		st->accepted++;
		st->revenue += (double)map_request_revenue(req) / 1000.0;
		st->cost += (double)res[k]->cost / 1000.0;
		st->lar += (double)map_request_revenue(req) / 1000.0 *
		    (double)(vr->meta.duration < inst->horizon - vr->meta.time ?
		    vr->meta.duration : inst->horizon - vr->meta.time);
		sim_amounts(req, res[k], &ucpu, &ubw);
		use.cpu += ucpu;
		use.bw += ubw;
	}
	sim_advance(&use, inst->horizon, inst->horizon);
	/* Let everything depart: the residuals must be back at capacity. */
	while (heap.n > 0) {
		struct sim_dep d = sim_pop(&heap);

		map_release(sub, inst->reqs[d.idx].req, res[d.idx]);
		map_result_free(res[d.idx]);
		res[d.idx] = NULL;
	}
	if (!map_substrate_equal_residuals(sub, inst->sub)) {
		err_set(ERR_INTERNAL, "residuals differ after all departures");
		goto out;
	}
	st->lar /= (double)inst->horizon;
	st->node_util = use.cpu_int / (cpu_cap * (double)inst->horizon);
	st->link_util = use.bw_int / (bw_cap * (double)inst->horizon);
	st->dec_p50 = sim_quantile(dec, inst->nreqs, 0.5);
	st->dec_p99 = sim_quantile(dec, inst->nreqs, 0.99);
	st->adm_p50 = sim_quantile(adm, inst->nreqs, 0.5);
	st->chk_p50 = sim_quantile(chk, nchk, 0.5);
	st->chk_p99 = sim_quantile(chk, nchk, 0.99);
	st->wall_s = (vne_now_us() - t0) / 1e6;
	rc = 0;
out:
	if (res != NULL)
		for (int32_t k = 0; k < inst->nreqs; k++)
			map_result_free(res[k]);
	free(res);
	free(dec);
	free(chk);
	free(adm);
	free(heap.d);
	map_ctx_free(ctx);
	map_substrate_free(sub);
	return rc;
}
