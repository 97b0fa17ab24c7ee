/*
 * GRC-SP (Gong, Zhu, Gao, Fu: "Toward Profit-Seeking Virtual Network
 * Embedding Algorithm via Global Resource Capacity", INFOCOM 2014).
 *
 * Each node's global resource capacity is the fixed point of
 *	r = (1 - d) c + d M r
 * where c is the node's (residual) CPU normalised over all nodes, and
 * M[u][v] = bw(u,v) / (sum of bw of v's links): a node is worth its own
 * CPU plus a share of its neighbours' worth in proportion to the
 * bandwidth that joins them.  d = 0.85; the iteration starts at c and
 * stops when ||r_k+1 - r_k||_2 < 1e-4.  Substrate nodes are ranked on
 * residual capacities, virtual nodes on demands; then the two-stage
 * greedy node mapping and shortest feasible paths, as in the paper.
 */
#include <math.h>

#include "map_impl.h"

#define GRC_DAMPING	0.85
#define GRC_EPSILON	1e-4
#define GRC_MAX_ITER	1000

/* Iterate r = (1-d)c + dMr on the substrate's residuals; result in rank. */
static void
grc_substrate(struct map_ctx *ctx)
{
	const struct map_substrate *sub = ctx->sub;
	double *r = ctx->rank, *nr = ctx->rank2, *bsum = ctx->rank3, csum = 0;
	int32_t n = sub->nnodes;

	for (int32_t s = 0; s < n; s++) {
		int64_t b = 0;

		for (int32_t e = sub->adj_off[s]; e < sub->adj_off[s + 1]; e++)
			b += sub->bw_res[sub->adj_link[e]];
		bsum[s] = (double)b;
		csum += (double)sub->cpu_res[s];
	}
	for (int32_t s = 0; s < n; s++)
		r[s] = csum > 0 ? (double)sub->cpu_res[s] / csum : 1.0 / n;
	for (int it = 0; it < GRC_MAX_ITER; it++) {
		double diff = 0;

		for (int32_t u = 0; u < n; u++) {
			double acc = 0;

			for (int32_t e = sub->adj_off[u]; e < sub->adj_off[u + 1];
			    e++) {
				int32_t v = sub->adj_node[e];

				if (bsum[v] > 0)
					acc += (double)sub->bw_res[
					    sub->adj_link[e]] / bsum[v] * r[v];
			}
			nr[u] = (1 - GRC_DAMPING) * (csum > 0 ?
			    (double)sub->cpu_res[u] / csum : 1.0 / n) +
			    GRC_DAMPING * acc;
		}
		for (int32_t u = 0; u < n; u++) {
			diff += (nr[u] - r[u]) * (nr[u] - r[u]);
			r[u] = nr[u];
		}
		if (sqrt(diff) < GRC_EPSILON)
			break;
	}
}

/* The same iteration on the request, with demands; result in vrank. */
static void
grc_request(struct map_ctx *ctx, const struct map_request *req)
{
	double *r = ctx->vrank, *nr = ctx->vrank2, csum = 0;
	int32_t n = req->nnodes;
	double *bsum = ctx->vrank3;

	for (int32_t v = 0; v < n; v++) {
		bsum[v] = 0;
		csum += (double)req->nodes[v].cpu;
	}
	for (int32_t i = 0; i < req->nlinks; i++) {
		bsum[req->links[i].a] += (double)req->links[i].bw;
		bsum[req->links[i].b] += (double)req->links[i].bw;
	}
	for (int32_t v = 0; v < n; v++)
		r[v] = csum > 0 ? (double)req->nodes[v].cpu / csum : 1.0 / n;
	for (int it = 0; it < GRC_MAX_ITER; it++) {
		double diff = 0;

		for (int32_t v = 0; v < n; v++)
			nr[v] = (1 - GRC_DAMPING) * (csum > 0 ?
			    (double)req->nodes[v].cpu / csum : 1.0 / n);
		for (int32_t i = 0; i < req->nlinks; i++) {
			const struct map_vlink *l = &req->links[i];
			double w = (double)l->bw;

			if (bsum[l->b] > 0)
				nr[l->a] += GRC_DAMPING * w / bsum[l->b] * r[l->b];
			if (bsum[l->a] > 0)
				nr[l->b] += GRC_DAMPING * w / bsum[l->a] * r[l->a];
		}
		for (int32_t v = 0; v < n; v++) {
			diff += (nr[v] - r[v]) * (nr[v] - r[v]);
			r[v] = nr[v];
		}
		if (sqrt(diff) < GRC_EPSILON)
			break;
	}
}

int
map_embed_grc(struct map_ctx *ctx, const struct map_request *req,
    struct map_result *res)
{
	grc_request(ctx, req);
	grc_substrate(ctx);
	map_sort_by_rank(ctx->order, ctx->sub->nnodes, ctx->rank);
	return map_two_stage(ctx, req, res);
}
