/*
 * vnsm's default mapper: coordinated node and link mapping.
 *
 * The baselines place all nodes first, by a ranking that knows nothing
 * of where a node's neighbours went, and only then look for paths; the
 * neighbours of a virtual node often land far apart, and every extra hop
 * costs the link's bandwidth again.  Here the virtual nodes are placed
 * one at a time, each next to what is already placed:
 *
 *  1. Order the virtual nodes: the heaviest first (pinned ones before
 *     all), then always the unplaced node with the most bandwidth to the
 *     placed ones (a maximum-adjacency order), so each node after the
 *     first has placed neighbours to be near.
 *  2. For each of several first hosts (the best-ranked by residual CPU x
 *     residual bandwidth around them):
 *       for each next virtual node v, a breadth-first search from the
 *       host of each placed neighbour u, over links with the bandwidth of
 *       link (u,v), gives the hops to every host; v goes to the free host
 *       that fits with the least sum of bw x hops (ties: the richer
 *       host), and its links are routed at once on shortest feasible
 *       paths, taking their bandwidth before the next node is placed.
 *  3. Of the complete mappings, keep the cheapest (least bw x hops).
 *     An attempt stops as soon as its links cost as much as the best
 *     so far, and the search stops when a mapping puts every link on
 *     a single hop (nothing can be cheaper).
 *
 * A dead end (no host, no path) abandons that first host only.  The
 * result honours every constraint map_node_fits() knows.
 */
#include <string.h>

#include "map_impl.h"

#define VNSM_ROOTS_SMALL	12	/* first hosts tried, small substrates */
#define VNSM_ROOTS_LARGE	4	/* ... at thousands of nodes */
#define VNSM_LARGE		2000	/* substrate nodes counted as large */
#define VNSM_SCORE_INF		INT64_MAX
#define VNSM_BALL		2	/* depth of the local search, hops */

/* Residual CPU x residual bandwidth around each host, into ctx->rank. */
static void
vnsm_rank_hosts(struct map_ctx *ctx)
{
	const struct map_substrate *sub = ctx->sub;

	for (int32_t s = 0; s < sub->nnodes; s++) {
		int64_t bw = 0;

		for (int32_t e = sub->adj_off[s]; e < sub->adj_off[s + 1]; e++)
			bw += sub->bw_res[sub->adj_link[e]];
		ctx->rank[s] = (double)sub->cpu_res[s] * (double)bw;
	}
}

/*
 * Maximum-adjacency order of the virtual nodes into ctx->vorder: pinned
 * nodes first, then the heaviest, then by bandwidth to the placed set.
 * vrank[v] is the weight cpu + sum of adjacent bw; vrank2[v] the
 * bandwidth to the nodes already ordered (-1 once ordered).
 */
static void
vnsm_order(struct map_ctx *ctx, const struct map_request *req)
{
	double *w = ctx->vrank, *conn = ctx->vrank2;
	int32_t n = req->nnodes;

	for (int32_t v = 0; v < n; v++) {
		w[v] = (double)req->nodes[v].cpu;
		conn[v] = 0;
	}
	for (int32_t i = 0; i < req->nlinks; i++) {
		w[req->links[i].a] += (double)req->links[i].bw;
		w[req->links[i].b] += (double)req->links[i].bw;
	}
	for (int32_t k = 0; k < n; k++) {
		int32_t best = MAP_NONE;

		for (int32_t v = 0; v < n; v++) {
			if (conn[v] < 0)
				continue;
			if (best == MAP_NONE) {
				best = v;
				continue;
			}
			/* Pinned first, then connection, then weight. */
			if ((req->nodes[v].pin != MAP_NONE) !=
			    (req->nodes[best].pin != MAP_NONE)) {
				if (req->nodes[v].pin != MAP_NONE)
					best = v;
				continue;
			}
			if (conn[v] > conn[best] ||
			    (conn[v] == conn[best] && w[v] > w[best]))
				best = v;
		}
		ctx->vorder[k] = best;
		conn[best] = -1;
		for (int32_t i = 0; i < req->nlinks; i++) {
			const struct map_vlink *l = &req->links[i];

			if (l->a == best && conn[l->b] >= 0)
				conn[l->b] += (double)l->bw;
			else if (l->b == best && conn[l->a] >= 0)
				conn[l->a] += (double)l->bw;
		}
	}
}

/*
 * 1 if host s is better than host best (MAP_NONE: any is): lower score,
 * then richer, then lower index, so the order of looking is irrelevant.
 */
static int
vnsm_better(const struct map_ctx *ctx, int32_t s, int32_t best)
{
	const int64_t *score = ctx->score;

	if (best == MAP_NONE || score[s] < score[best])
		return 1;
	if (score[s] > score[best])
		return 0;
	if (ctx->rank[s] != ctx->rank[best])
		return ctx->rank[s] > ctx->rank[best];
	return s < best;
}

/*
 * The local search of vnsm_choose(): searches from each placed neighbour
 * only VNSM_BALL hops deep.  A host every search saw has its exact
 * score; a host some search missed is at least VNSM_BALL + 1 hops from
 * that neighbour, and so is every host no search saw.  If the best exact
 * host beats every such lower bound it is the host the full search would
 * choose, and is returned; else MAP_NONE (the caller searches fully).
 * On a large substrate this looks at a few hundred hosts, not all.
 */
static int32_t
vnsm_choose_local(struct map_ctx *ctx, const struct map_request *req,
    int32_t v, uint32_t us)
{
	const struct map_substrate *sub = ctx->sub;
	int64_t total = 0, bound;
	int32_t ncand = 0, best = MAP_NONE;
	uint32_t cs;

	if (++ctx->cstamp == 0) {
		memset(ctx->cmark, 0, (size_t)ctx->n * sizeof(*ctx->cmark));
		ctx->cstamp = 1;
	}
	cs = ctx->cstamp;
	for (int32_t i = 0; i < req->nlinks; i++) {
		const struct map_vlink *l = &req->links[i];
		int32_t u, seen;

		if (l->a == v)
			u = l->b;
		else if (l->b == v)
			u = l->a;
		else
			continue;
		if (ctx->vplace[u] == MAP_NONE)
			continue;
		total += l->bw;
		seen = map_bfs_ball(ctx, ctx->vplace[u], l->bw, VNSM_BALL);
		for (int32_t k = 0; k < seen; k++) {
			int32_t s = ctx->queue[k];

			if (ctx->cmark[s] != cs) {
				ctx->cmark[s] = cs;
				ctx->score[s] = 0;
				ctx->sbw[s] = 0;
				ctx->cand[ncand++] = s;
			}
			ctx->score[s] += l->bw * ctx->dist[s];
			ctx->sbw[s] += l->bw;
		}
	}
	if (total == 0)
		return MAP_NONE;
	bound = total * (VNSM_BALL + 1);
	for (int32_t k = 0; k < ncand; k++) {
		int32_t s = ctx->cand[k];

		if (!req->colocate && ctx->used[s] == us)
			continue;
		if (ctx->sbw[s] == total) {
			if (vnsm_better(ctx, s, best) &&
			    map_node_fits(sub, s, &req->nodes[v]))
				best = s;
		} else if (ctx->score[s] + (total - ctx->sbw[s]) *
		    (VNSM_BALL + 1) < bound &&
		    map_node_fits(sub, s, &req->nodes[v]))
			bound = ctx->score[s] + (total - ctx->sbw[s]) *
			    (VNSM_BALL + 1);
	}
	return best != MAP_NONE && ctx->score[best] < bound ? best : MAP_NONE;
}

/*
 * Choose the host of virtual node v: the least sum over its placed
 * neighbours of bw x hops.  Fills ctx->score.  Returns the host or
 * MAP_NONE.
 */
static int32_t
vnsm_choose(struct map_ctx *ctx, const struct map_request *req, int32_t v,
    uint32_t us)
{
	const struct map_substrate *sub = ctx->sub;
	int64_t *score = ctx->score;
	int32_t n = sub->nnodes, best = MAP_NONE;
	const struct map_vnode *vn = &req->nodes[v];

	if (vn->pin == MAP_NONE &&
	    (best = vnsm_choose_local(ctx, req, v, us)) != MAP_NONE)
		return best;
	for (int32_t s = 0; s < n; s++)
		score[s] = 0;
	for (int32_t i = 0; i < req->nlinks; i++) {
		const struct map_vlink *l = &req->links[i];
		int32_t u;

		if (l->a == v)
			u = l->b;
		else if (l->b == v)
			u = l->a;
		else
			continue;
		if (ctx->vplace[u] == MAP_NONE)
			continue;
		map_bfs(ctx, ctx->vplace[u], MAP_NONE, l->bw);
		for (int32_t s = 0; s < n; s++) {
			int32_t d = map_bfs_dist(ctx, s);

			if (d == MAP_INF || score[s] == VNSM_SCORE_INF)
				score[s] = VNSM_SCORE_INF;
			else
				score[s] += l->bw * d;
		}
	}
	if (vn->pin != MAP_NONE) {
		int32_t s = vn->pin;

		if ((req->colocate || ctx->used[s] != us) &&
		    score[s] != VNSM_SCORE_INF && map_node_fits(sub, s, vn))
			return s;
		return MAP_NONE;
	}
	for (int32_t s = 0; s < n; s++) {
		if (score[s] == VNSM_SCORE_INF)
			continue;
		if (!req->colocate && ctx->used[s] == us)
			continue;
		if (vnsm_better(ctx, s, best) && map_node_fits(sub, s, vn))
			best = s;
	}
	return best;
}

/*
 * Route every link between v (now on its host) and its placed
 * neighbours, taking the bandwidth.  *used counts entries of ctx->lpath.
 * 0, or -1 when a link has no feasible path.
 */
static int
vnsm_route(struct map_ctx *ctx, const struct map_request *req, int32_t v,
    int32_t *used)
{
	for (int32_t i = 0; i < req->nlinks; i++) {
		const struct map_vlink *l = &req->links[i];
		int32_t src, dst, u = l->a == v ? l->b : l->a;

		if ((l->a != v && l->b != v) || ctx->vplace[u] == MAP_NONE)
			continue;
		src = ctx->vplace[l->a];
		dst = ctx->vplace[l->b];
		if (*used + ctx->n > ctx->path_cap && map_ctx_grow_lpath(ctx,
		    *used + ctx->n) == -1)
			return -1;
		if (map_bfs(ctx, src, dst, l->bw) == MAP_INF)
			return -1;
		ctx->loff[i] = *used;
		ctx->llen[i] = map_bfs_path(ctx, src, dst, ctx->lpath + *used);
		if (map_take(ctx, ctx->lpath + *used, ctx->llen[i], l->bw) == -1)
			return -1;
		*used += ctx->llen[i];
	}
	return 0;
}

/*
 * One complete attempt from first host root.  Takes resources (the
 * caller undoes them).  On success the mapping is in vplace and the paths
 * in lpath/loff/llen; returns its cost, or -1.  An attempt whose links
 * already cost bound or more is abandoned (bound < 0: no bound).
 */
static int64_t
vnsm_attempt(struct map_ctx *ctx, const struct map_request *req,
    int32_t root, int64_t bound)
{
	int32_t used = 0, before;
	int64_t cost = 0;
	uint32_t us;

	if (++ctx->ustamp == 0) {
		memset(ctx->used, 0, (size_t)ctx->n * sizeof(*ctx->used));
		ctx->ustamp = 1;
	}
	us = ctx->ustamp;
	for (int32_t v = 0; v < req->nnodes; v++)
		ctx->vplace[v] = MAP_NONE;
	for (int32_t k = 0; k < req->nnodes; k++) {
		int32_t v = ctx->vorder[k];
		int32_t s = k == 0 ? root : vnsm_choose(ctx, req, v, us);

		if (s == MAP_NONE)
			return -1;
		if (map_take_node(ctx, s, &req->nodes[v]) == -1)
			return -1;
		ctx->used[s] = us;
		ctx->vplace[v] = s;
		before = ctx->log_len;
		if (vnsm_route(ctx, req, v, &used) == -1)
			return -1;
		/* Each link hop taken is one log entry of its bandwidth. */
		for (int32_t e = before; e < ctx->log_len; e++)
			cost += ctx->log[e].a;
		if (bound >= 0 && cost >= bound)
			return -1;
	}
	return cost;
}

/*
 * The first hosts to try: the k best-ranked hosts that fit virtual node
 * v, best first, into ctx->order[0 .. return).  One pass with a small
 * sorted array, instead of sorting every host.
 */
static int32_t
vnsm_roots(struct map_ctx *ctx, const struct map_vnode *v, int32_t k)
{
	const struct map_substrate *sub = ctx->sub;
	int32_t *top = ctx->order, n = 0;

	for (int32_t s = 0; s < sub->nnodes; s++) {
		int32_t j;

		if (n == k && ctx->rank[s] <= ctx->rank[top[n - 1]])
			continue;
		if (!map_node_fits(sub, s, v))
			continue;
		j = n < k ? n++ : n - 1;
		while (j > 0 && ctx->rank[top[j - 1]] < ctx->rank[s]) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = s;
	}
	return n;
}

int
map_embed_vnsm(struct map_ctx *ctx, const struct map_request *req,
    struct map_result *res)
{
	const struct map_substrate *sub = ctx->sub;
	const struct map_vnode *first;
	int32_t roots;
	int64_t best = -1, floor = 0;

	roots = ctx->roots > 0 ? ctx->roots :
	    sub->nnodes >= VNSM_LARGE ? VNSM_ROOTS_LARGE : VNSM_ROOTS_SMALL;
	vnsm_rank_hosts(ctx);
	vnsm_order(ctx, req);
	first = &req->nodes[ctx->vorder[0]];
	roots = vnsm_roots(ctx, first, roots);
	/*
	 * On distinct hosts every link takes at least one hop: a mapping
	 * that costs the sum of the bandwidths cannot be beaten.
	 */
	if (!req->colocate)
		for (int32_t i = 0; i < req->nlinks; i++)
			floor += req->links[i].bw;
	for (int32_t j = 0; j < roots; j++) {
		int32_t root = ctx->order[j];
		int64_t cost;

		if (best >= 0 && best <= floor)
			break;
		cost = vnsm_attempt(ctx, req, root, best);
		if (cost >= 0 && (best < 0 || cost < best)) {
			best = cost;
			if (map_ctx_fill_result(ctx, req, ctx->vplace, res) == -1) {
				map_undo(ctx, 0);
				return -1;
			}
		}
		map_undo(ctx, 0);
	}
	return best >= 0 ? 0 : -1;
}
