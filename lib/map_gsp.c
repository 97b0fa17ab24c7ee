/*
 * G-SP, the greedy baseline (Yu et al., 2008): rank substrate nodes by
 * residual CPU x the sum of residual bandwidth of their links, rank
 * virtual nodes the same way by demand, give each virtual node in rank
 * order the best-ranked free host that fits, then route every virtual
 * link on a shortest path that has the bandwidth.
 *
 * Also the two-stage scheme GRC-SP shares (only the ranking differs).
 */
#include <stdlib.h>

#include "map_impl.h"

/* qsort_r comparator: decreasing rank, then increasing index. */
static int
map_rank_cmp(const void *pa, const void *pb, void *arg)
{
	const double *rank = arg;
	int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;

	if (rank[a] > rank[b])
		return -1;
	if (rank[a] < rank[b])
		return 1;
	return (a > b) - (a < b);
}

void
map_sort_by_rank(int32_t *idx, int32_t n, const double *rank)
{
	for (int32_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, (size_t)n, sizeof(*idx), map_rank_cmp, (void *)(uintptr_t)rank);
}

/*
 * Node mapping in rank order, then shortest-path link mapping.  Takes
 * resources tentatively (map_embed undoes them).  0, or -1 if a node has
 * no free host or a link no path.
 */
int
map_two_stage(struct map_ctx *ctx, const struct map_request *req,
    struct map_result *res)
{
	const struct map_substrate *sub = ctx->sub;
	int32_t *place = ctx->vplace;
	uint32_t us;

	if (++ctx->ustamp == 0) {
		for (int32_t i = 0; i < ctx->n; i++)
			ctx->used[i] = 0;
		ctx->ustamp = 1;
	}
	us = ctx->ustamp;
	map_sort_by_rank(ctx->vorder, req->nnodes, ctx->vrank);
	for (int32_t k = 0; k < req->nnodes; k++) {
		int32_t v = ctx->vorder[k], host = MAP_NONE;
		const struct map_vnode *vn = &req->nodes[v];

		for (int32_t j = 0; j < sub->nnodes; j++) {
			int32_t s = ctx->order[j];

			if (!req->colocate && ctx->used[s] == us)
				continue;
			if (map_node_fits(sub, s, vn)) {
				host = s;
				break;
			}
		}
		if (host == MAP_NONE)
			return -1;
		if (map_take_node(ctx, host, vn) == -1)
			return -1;
		ctx->used[host] = us;
		place[v] = host;
	}
	return map_route_sp(ctx, req, place, res);
}

int
map_embed_gsp(struct map_ctx *ctx, const struct map_request *req,
    struct map_result *res)
{
	const struct map_substrate *sub = ctx->sub;

	for (int32_t s = 0; s < sub->nnodes; s++) {
		int64_t bw = 0;

		for (int32_t e = sub->adj_off[s]; e < sub->adj_off[s + 1]; e++)
			bw += sub->bw_res[sub->adj_link[e]];
		ctx->rank[s] = (double)sub->cpu_res[s] * (double)bw;
	}
	for (int32_t v = 0; v < req->nnodes; v++)
		ctx->vrank[v] = 0;
	for (int32_t i = 0; i < req->nlinks; i++) {
		ctx->vrank[req->links[i].a] += (double)req->links[i].bw;
		ctx->vrank[req->links[i].b] += (double)req->links[i].bw;
	}
	for (int32_t v = 0; v < req->nnodes; v++)
		ctx->vrank[v] *= (double)req->nodes[v].cpu;
	map_sort_by_rank(ctx->order, sub->nnodes, ctx->rank);
	return map_two_stage(ctx, req, res);
}
