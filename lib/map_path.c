/*
 * The mapping context, bandwidth-feasible shortest paths, tentative
 * reservations and the map_embed() entry point.
 *
 * Paths are shortest in hops among the links that still have the
 * bandwidth (a breadth-first search that skips the others), which is
 * what the literature's "shortest path" link mapping means for
 * unsplittable links, and what minimises the cost sum of bw x hops.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "map_impl.h"

/*
 * A context for mapping onto sub (which must be finalized and keep its
 * topology while the context lives); NULL on failure.
 */
struct map_ctx *
map_ctx_new(struct map_substrate *sub)
{
	struct map_ctx *ctx;
	size_t n;

	if (!sub->finalized) {
		err_set(ERR_INTERNAL, "the substrate is not finalized");
		return NULL;
	}
	n = (size_t)sub->nnodes + 1;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		err_nomem();
		return NULL;
	}
	ctx->sub = sub;
	ctx->n = sub->nnodes;
	ctx->dist = calloc(n, sizeof(*ctx->dist));
	ctx->prev = calloc(n, sizeof(*ctx->prev));
	ctx->queue = calloc(n, sizeof(*ctx->queue));
	ctx->seen = calloc(n, sizeof(*ctx->seen));
	ctx->used = calloc(n, sizeof(*ctx->used));
	ctx->rank = calloc(n, sizeof(*ctx->rank));
	ctx->rank2 = calloc(n, sizeof(*ctx->rank2));
	ctx->rank3 = calloc(n, sizeof(*ctx->rank3));
	ctx->score = calloc(n, sizeof(*ctx->score));
	ctx->order = calloc(n, sizeof(*ctx->order));
	ctx->sbw = calloc(n, sizeof(*ctx->sbw));
	ctx->cmark = calloc(n, sizeof(*ctx->cmark));
	ctx->cand = calloc(n, sizeof(*ctx->cand));
	if (ctx->sbw == NULL || ctx->cmark == NULL || ctx->cand == NULL ||
	    ctx->dist == NULL || ctx->prev == NULL || ctx->queue == NULL ||
	    ctx->seen == NULL || ctx->used == NULL || ctx->rank == NULL ||
	    ctx->rank2 == NULL || ctx->rank3 == NULL || ctx->score == NULL ||
	    ctx->order == NULL) {
		map_ctx_free(ctx);
		err_nomem();
		return NULL;
	}
	return ctx;
}

void
map_ctx_free(struct map_ctx *ctx)
{
	if (ctx == NULL)
		return;
	free(ctx->dist);
	free(ctx->prev);
	free(ctx->queue);
	free(ctx->seen);
	free(ctx->used);
	free(ctx->rank);
	free(ctx->rank2);
	free(ctx->rank3);
	free(ctx->score);
	free(ctx->order);
	free(ctx->sbw);
	free(ctx->cmark);
	free(ctx->cand);
	free(ctx->log);
	free(ctx->vorder);
	free(ctx->vrank);
	free(ctx->vrank2);
	free(ctx->vrank3);
	free(ctx->vplace);
	free(ctx->best_node);
	free(ctx->lorder);
	free(ctx->loff);
	free(ctx->llen);
	free(ctx->lpath);
	free(ctx);
}

void
map_ctx_set_roots(struct map_ctx *ctx, int roots)
{
	ctx->roots = roots < 0 ? 0 : roots;
}

/* Make the per-request arrays hold a request of req's size. 0 or -1. */
int
map_ctx_reserve_req(struct map_ctx *ctx, const struct map_request *req)
{
	int32_t want = req->nnodes > req->nlinks ? req->nnodes : req->nlinks;
	size_t w;

	if (want <= ctx->req_cap)
		return 0;
	w = (size_t)want;
	free(ctx->vorder);
	free(ctx->vrank);
	free(ctx->vrank2);
	free(ctx->vrank3);
	free(ctx->vplace);
	free(ctx->best_node);
	free(ctx->lorder);
	free(ctx->loff);
	free(ctx->llen);
	ctx->vorder = calloc(w, sizeof(*ctx->vorder));
	ctx->vrank = calloc(w, sizeof(*ctx->vrank));
	ctx->vrank2 = calloc(w, sizeof(*ctx->vrank2));
	ctx->vrank3 = calloc(w, sizeof(*ctx->vrank3));
	ctx->vplace = calloc(w, sizeof(*ctx->vplace));
	ctx->best_node = calloc(w, sizeof(*ctx->best_node));
	ctx->lorder = calloc(w, sizeof(*ctx->lorder));
	ctx->loff = calloc(w, sizeof(*ctx->loff));
	ctx->llen = calloc(w, sizeof(*ctx->llen));
	if (ctx->vorder == NULL || ctx->vrank == NULL ||
	    ctx->vrank2 == NULL || ctx->vrank3 == NULL ||
	    ctx->vplace == NULL ||
	    ctx->best_node == NULL || ctx->lorder == NULL ||
	    ctx->loff == NULL || ctx->llen == NULL) {
		ctx->req_cap = 0;
		return err_nomem();
	}
	ctx->req_cap = want;
	return 0;
}

/* A fresh stamp; on wrap-around every mark is cleared. */
uint32_t
map_ctx_next_stamp(struct map_ctx *ctx)
{
	if (++ctx->stamp == 0) {
		memset(ctx->seen, 0, (size_t)ctx->n * sizeof(*ctx->seen));
		ctx->stamp = 1;
	}
	return ctx->stamp;
}

int32_t
map_bfs(struct map_ctx *ctx, int32_t src, int32_t dst, int64_t bw)
{
	const struct map_substrate *sub = ctx->sub;
	uint32_t st = map_ctx_next_stamp(ctx);
	int32_t head = 0, tail = 0;

	ctx->seen[src] = st;
	ctx->dist[src] = 0;
	ctx->prev[src] = MAP_NONE;
	if (src == dst)
		return 0;
	ctx->queue[tail++] = src;
	while (head < tail) {
		int32_t u = ctx->queue[head++];
		int32_t du = ctx->dist[u] + 1;

		for (int32_t e = sub->adj_off[u]; e < sub->adj_off[u + 1]; e++) {
			int32_t l = sub->adj_link[e], v = sub->adj_node[e];

			if (ctx->seen[v] == st || sub->bw_res[l] < bw)
				continue;
			ctx->seen[v] = st;
			ctx->dist[v] = du;
			ctx->prev[v] = l;
			if (v == dst)
				return du;
			ctx->queue[tail++] = v;
		}
	}
	return dst == MAP_NONE ? 0 : MAP_INF;
}

int32_t
map_bfs_ball(struct map_ctx *ctx, int32_t src, int64_t bw, int32_t depth)
{
	const struct map_substrate *sub = ctx->sub;
	uint32_t st = map_ctx_next_stamp(ctx);
	int32_t head = 0, tail = 0;

	ctx->seen[src] = st;
	ctx->dist[src] = 0;
	ctx->prev[src] = MAP_NONE;
	ctx->queue[tail++] = src;
	while (head < tail) {
		int32_t u = ctx->queue[head++];
		int32_t du = ctx->dist[u] + 1;

		if (du > depth)
			break;
		for (int32_t e = sub->adj_off[u]; e < sub->adj_off[u + 1]; e++) {
			int32_t l = sub->adj_link[e], v = sub->adj_node[e];

			if (ctx->seen[v] == st || sub->bw_res[l] < bw)
				continue;
			ctx->seen[v] = st;
			ctx->dist[v] = du;
			ctx->prev[v] = l;
			ctx->queue[tail++] = v;
		}
	}
	return tail;
}

int32_t
map_bfs_dist(const struct map_ctx *ctx, int32_t v)
{
	return ctx->seen[v] == ctx->stamp ? ctx->dist[v] : MAP_INF;
}

int32_t
map_bfs_path(const struct map_ctx *ctx, int32_t src, int32_t dst,
    int32_t *out)
{
	const struct map_substrate *sub = ctx->sub;
	int32_t k = 0, at = dst;

	while (at != src) {
		int32_t l = ctx->prev[at];

		out[k++] = l;
		at = sub->links[l].a == at ? sub->links[l].b : sub->links[l].a;
	}
	for (int32_t i = 0; i < k / 2; i++) {
		int32_t t = out[i];

		out[i] = out[k - 1 - i];
		out[k - 1 - i] = t;
	}
	return k;
}

/* Append one entry to the undo log. */
static int
map_log_push(struct map_ctx *ctx, const struct map_log *e)
{
	if (ctx->log_len == ctx->log_cap) {
		int32_t ncap = ctx->log_cap > 0 ? 2 * ctx->log_cap : 256;
		struct map_log *p;

		if ((p = realloc(ctx->log, (size_t)ncap * sizeof(*p))) == NULL)
			return err_nomem();
		ctx->log = p;
		ctx->log_cap = ncap;
	}
	ctx->log[ctx->log_len++] = *e;
	return 0;
}

int
map_take(struct map_ctx *ctx, const int32_t *path, int32_t len, int64_t bw)
{
	struct map_log e = { 0 };

	e.a = bw;
	for (int32_t i = 0; i < len; i++) {
		e.idx = path[i];
		if (map_log_push(ctx, &e) == -1)
			return -1;
		ctx->sub->bw_res[path[i]] -= bw;
	}
	return 0;
}

int
map_take_node(struct map_ctx *ctx, int32_t s, const struct map_vnode *v)
{
	struct map_substrate *sub = ctx->sub;
	struct map_log e;

	e.node = 1;
	e.idx = s;
	e.a = v->cpu;
	e.b = v->mem;
	e.c = sub->if_res[s] == MAP_NONE ? 0 : v->ifaces;
	if (map_log_push(ctx, &e) == -1)
		return -1;
	sub->cpu_res[s] -= e.a;
	sub->mem_res[s] -= e.b;
	if (sub->if_res[s] != MAP_NONE)
		sub->if_res[s] -= e.c;
	return 0;
}

void
map_undo(struct map_ctx *ctx, int32_t mark)
{
	struct map_substrate *sub = ctx->sub;

	while (ctx->log_len > mark) {
		const struct map_log *e = &ctx->log[--ctx->log_len];

		if (e->node) {
			sub->cpu_res[e->idx] += e->a;
			sub->mem_res[e->idx] += e->b;
			if (sub->if_res[e->idx] != MAP_NONE)
				sub->if_res[e->idx] += e->c;
		} else
			sub->bw_res[e->idx] += e->a;
	}
}

/* Make the scratch path buffer hold n entries. 0 or -1. */
int
map_ctx_grow_lpath(struct map_ctx *ctx, int32_t n)
{
	int32_t ncap;
	int32_t *p;

	if (n <= ctx->path_cap)
		return 0;
	ncap = ctx->path_cap > 0 ? ctx->path_cap : 256;
	while (ncap < n)
		ncap *= 2;
	if ((p = realloc(ctx->lpath, (size_t)ncap * sizeof(*p))) == NULL)
		return err_nomem();
	ctx->lpath = p;
	ctx->path_cap = ncap;
	return 0;
}

/* Sort link indices by decreasing bandwidth (insertion sort: few links). */
static void
map_sort_links(const struct map_request *req, int32_t *idx)
{
	for (int32_t i = 0; i < req->nlinks; i++)
		idx[i] = i;
	for (int32_t i = 1; i < req->nlinks; i++) {
		int32_t k = idx[i], j = i - 1;

		while (j >= 0 && req->links[idx[j]].bw < req->links[k].bw) {
			idx[j + 1] = idx[j];
			j--;
		}
		idx[j + 1] = k;
	}
}

/*
 * Lay the routed paths (in ctx->lpath at loff/llen, per virtual link)
 * into res in link order and fill in hosts and cost.  0 or -1.
 */
int
map_ctx_fill_result(struct map_ctx *ctx, const struct map_request *req,
    const int32_t *place, struct map_result *res)
{
	int32_t total = 0;

	for (int32_t i = 0; i < req->nlinks; i++)
		total += ctx->llen[i];
	if (map_result_grow(res, total + 1) == -1)
		return -1;
	total = 0;
	for (int32_t i = 0; i < req->nlinks; i++) {
		res->path_off[i] = total;
		memcpy(res->path + total, ctx->lpath + ctx->loff[i],
		    (size_t)ctx->llen[i] * sizeof(*res->path));
		total += ctx->llen[i];
	}
	res->path_off[req->nlinks] = total;
	memcpy(res->node, place, (size_t)req->nnodes * sizeof(*place));
	map_result_cost(req, res);
	return 0;
}

int
map_route_sp(struct map_ctx *ctx, const struct map_request *req,
    const int32_t *place, struct map_result *res)
{
	int32_t used = 0;

	map_sort_links(req, ctx->lorder);
	for (int32_t k = 0; k < req->nlinks; k++) {
		int32_t i = ctx->lorder[k];
		const struct map_vlink *vl = &req->links[i];
		int32_t src = place[vl->a], dst = place[vl->b];

		if (map_ctx_grow_lpath(ctx, used + ctx->n) == -1)
			return -1;
		if (map_bfs(ctx, src, dst, vl->bw) == MAP_INF)
			return -1;
		ctx->loff[i] = used;
		ctx->llen[i] = map_bfs_path(ctx, src, dst, ctx->lpath + used);
		if (map_take(ctx, ctx->lpath + used, ctx->llen[i], vl->bw) ==
		    -1)
			return -1;
		used += ctx->llen[i];
	}
	return map_ctx_fill_result(ctx, req, place, res);
}

void
map_result_cost(const struct map_request *req, struct map_result *res)
{
	int64_t cost = 0;

	for (int32_t i = 0; i < req->nnodes; i++)
		cost += req->nodes[i].cpu;
	for (int32_t i = 0; i < req->nlinks; i++)
		cost += req->links[i].bw *
		    (res->path_off[i + 1] - res->path_off[i]);
	res->cost = cost;
}

int
map_embed(struct map_ctx *ctx, enum map_algo algo,
    const struct map_request *req, struct map_result *res)
{
	int rc;

	if (ctx->sub->nnodes != ctx->n)
		return err_set(ERR_INTERNAL, "the substrate changed shape");
	if (res->nnodes != req->nnodes || res->nlinks != req->nlinks)
		return err_set(ERR_INTERNAL, "the result is for another request");
	if (map_admit(ctx->sub, req) == -1)
		return -1;
	if (map_ctx_reserve_req(ctx, req) == -1)
		return -1;
	switch (algo) {
	case MAP_ALGO_GSP:
		rc = map_embed_gsp(ctx, req, res);
		break;
	case MAP_ALGO_GRC:
		rc = map_embed_grc(ctx, req, res);
		break;
	case MAP_ALGO_VNSM:
		rc = map_embed_vnsm(ctx, req, res);
		break;
	default:
		return err_set(ERR_INVALID, "no mapping algorithm %d", (int)algo);
	}
	/* Whatever the algorithm did, the residuals go back as they were. */
	map_undo(ctx, 0);
	if (rc == -1)
		return err_set(ERR_NO_RESOURCES,
		    "%s found no mapping of the request that fits the "
		    "substrate", map_algo_to_string(algo));
	return 0;
}
