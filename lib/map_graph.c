/*
 * The substrate graph, its residual capacities, requests and results,
 * the admission checks and reserve/release.  Everything is in integer
 * units, so release() undoes reserve() exactly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "map_impl.h"

ENUM_IMPL(map_algo, MAP_ALGO_LAST, "gsp", "grc", "vnsm")

int64_t
map_cpu(double cpus)
{
	return llround(cpus * 1000.0);
}

int64_t
map_bw(double mbits)
{
	return llround(mbits * 1000.0);
}

struct map_substrate *
map_substrate_new(void)
{
	struct map_substrate *sub;

	if ((sub = calloc(1, sizeof(*sub))) == NULL) {
		err_nomem();
		return NULL;
	}
	return sub;
}

void
map_substrate_free(struct map_substrate *sub)
{
	if (sub == NULL)
		return;
	free(sub->nodes);
	free(sub->links);
	free(sub->cpu_res);
	free(sub->mem_res);
	free(sub->if_res);
	free(sub->bw_res);
	free(sub->cpu_tree);
	free(sub->bw_tree);
	free(sub->adj_off);
	free(sub->adj_link);
	free(sub->adj_node);
	free(sub);
}

/* Grow an array of elem-byte entries to hold want entries; 0 or -1. */
static int
map_grow(void **pp, int32_t *cap, int32_t want, size_t elem)
{
	int32_t ncap;
	void *p;

	if (want <= *cap)
		return 0;
	ncap = *cap > 0 ? *cap : 16;
	while (ncap < want)
		ncap *= 2;
	if ((p = realloc(*pp, (size_t)ncap * elem)) == NULL)
		return err_nomem();
	*pp = p;
	*cap = ncap;
	return 0;
}

int
map_snode_add(struct map_substrate *sub, const struct map_snode *n)
{
	int32_t cap;

	if (sub->finalized)
		return err_set(ERR_INTERNAL, "substrate is finalized");
	if (n->cpu < 0 || n->mem < 0 || n->ifaces < MAP_NONE)
		return err_set(ERR_INVALID,
		    "substrate node '%s' has a negative capacity", n->name);
	cap = sub->cap_nodes;
	if (map_grow((void **)&sub->nodes, &cap, sub->nnodes + 1,
	    sizeof(*sub->nodes)) == -1)
		return -1;
	sub->cap_nodes = cap;
	sub->nodes[sub->nnodes] = *n;
	return sub->nnodes++;
}

int
map_slink_add(struct map_substrate *sub, int32_t a, int32_t b, int64_t bw,
    int64_t delay)
{
	struct map_slink *l;
	int32_t cap;

	if (sub->finalized)
		return err_set(ERR_INTERNAL, "substrate is finalized");
	if (a < 0 || b < 0 || a >= sub->nnodes || b >= sub->nnodes || a == b)
		return err_set(ERR_TOPOLOGY,
		    "substrate link %d-%d has a bad end", (int)a, (int)b);
	if (bw < 0)
		return err_set(ERR_INVALID,
		    "substrate link %d-%d has a negative bandwidth", (int)a,
		    (int)b);
	cap = sub->cap_links;
	if (map_grow((void **)&sub->links, &cap, sub->nlinks + 1,
	    sizeof(*sub->links)) == -1)
		return -1;
	sub->cap_links = cap;
	l = &sub->links[sub->nlinks];
	l->a = a;
	l->b = b;
	l->bw = bw;
	l->delay = delay;
	return sub->nlinks++;
}

/* Set leaf i of a max tree with size leaves to v, and its ancestors. */
static void
map_tree_set(int64_t *t, int32_t size, int32_t i, int64_t v)
{
	i += size;
	t[i] = v;
	for (i /= 2; i >= 1; i /= 2)
		t[i] = t[2 * i] > t[2 * i + 1] ? t[2 * i] : t[2 * i + 1];
}

/* Fill a max tree from n values (the other leaves are 0). */
static void
map_tree_build(int64_t *t, int32_t size, const int64_t *v, int32_t n)
{
	for (int32_t i = 0; i < size; i++)
		t[size + i] = i < n ? v[i] : 0;
	for (int32_t i = size - 1; i >= 1; i--)
		t[i] = t[2 * i] > t[2 * i + 1] ? t[2 * i] : t[2 * i + 1];
}

void
map_substrate_sync(struct map_substrate *sub)
{
	sub->cpu_free = 0;
	for (int32_t i = 0; i < sub->nnodes; i++)
		sub->cpu_free += sub->cpu_res[i];
	map_tree_build(sub->cpu_tree, sub->ntree, sub->cpu_res, sub->nnodes);
	map_tree_build(sub->bw_tree, sub->ltree, sub->bw_res, sub->nlinks);
}

void
map_substrate_reset(struct map_substrate *sub)
{
	for (int32_t i = 0; i < sub->nnodes; i++) {
		sub->cpu_res[i] = sub->nodes[i].cpu;
		sub->mem_res[i] = sub->nodes[i].mem;
		sub->if_res[i] = sub->nodes[i].ifaces;
	}
	for (int32_t i = 0; i < sub->nlinks; i++)
		sub->bw_res[i] = sub->links[i].bw;
	map_substrate_sync(sub);
}

/* The least power of two >= n (and >= 1). */
static int32_t
map_pow2(int32_t n)
{
	int32_t p = 1;

	while (p < n)
		p *= 2;
	return p;
}

/*
 * Build the residual arrays (full capacity) and the CSR adjacency.  Call
 * once, after the last node and link are added.
 */
int
map_substrate_finalize(struct map_substrate *sub)
{
	size_t n = (size_t)sub->nnodes, m = (size_t)sub->nlinks;
	int32_t *fill;

	if (sub->finalized)
		return 0;
	sub->cpu_res = calloc(n + 1, sizeof(*sub->cpu_res));
	sub->mem_res = calloc(n + 1, sizeof(*sub->mem_res));
	sub->if_res = calloc(n + 1, sizeof(*sub->if_res));
	sub->bw_res = calloc(m + 1, sizeof(*sub->bw_res));
	sub->adj_off = calloc(n + 1, sizeof(*sub->adj_off));
	sub->adj_link = calloc(2 * m + 1, sizeof(*sub->adj_link));
	sub->adj_node = calloc(2 * m + 1, sizeof(*sub->adj_node));
	fill = calloc(n + 1, sizeof(*fill));
	sub->ntree = map_pow2(sub->nnodes);
	sub->ltree = map_pow2(sub->nlinks);
	sub->cpu_tree = calloc(2 * (size_t)sub->ntree, sizeof(*sub->cpu_tree));
	sub->bw_tree = calloc(2 * (size_t)sub->ltree, sizeof(*sub->bw_tree));
	if (sub->cpu_tree == NULL || sub->bw_tree == NULL ||
	    sub->cpu_res == NULL || sub->mem_res == NULL ||
	    sub->if_res == NULL || sub->bw_res == NULL ||
	    sub->adj_off == NULL || sub->adj_link == NULL ||
	    sub->adj_node == NULL || fill == NULL) {
		free(fill);
		return err_nomem();
	}
	for (size_t i = 0; i < m; i++) {
		sub->adj_off[sub->links[i].a + 1]++;
		sub->adj_off[sub->links[i].b + 1]++;
	}
	for (size_t i = 0; i < n; i++)
		sub->adj_off[i + 1] += sub->adj_off[i];
	for (size_t i = 0; i < m; i++) {
		int32_t a = sub->links[i].a, b = sub->links[i].b;
		int32_t pa = sub->adj_off[a] + fill[a]++;
		int32_t pb = sub->adj_off[b] + fill[b]++;

		sub->adj_link[pa] = (int32_t)i;
		sub->adj_node[pa] = b;
		sub->adj_link[pb] = (int32_t)i;
		sub->adj_node[pb] = a;
	}
	free(fill);
	sub->finalized = 1;
	map_substrate_reset(sub);
	return 0;
}

/*
 * A deep copy of a finalized substrate, residuals included; NULL on
 * failure.  The caller frees it with map_substrate_free().
 */
struct map_substrate *
map_substrate_dup(const struct map_substrate *sub)
{
	struct map_substrate *d;

	if ((d = map_substrate_new()) == NULL)
		return NULL;
	for (int32_t i = 0; i < sub->nnodes; i++)
		if (map_snode_add(d, &sub->nodes[i]) == -1)
			goto fail;
	for (int32_t i = 0; i < sub->nlinks; i++)
		if (map_slink_add(d, sub->links[i].a, sub->links[i].b,
		    sub->links[i].bw, sub->links[i].delay) == -1)
			goto fail;
	if (map_substrate_finalize(d) == -1)
		goto fail;
	if (sub->finalized) {
		memcpy(d->cpu_res, sub->cpu_res,
		    (size_t)sub->nnodes * sizeof(*d->cpu_res));
		memcpy(d->mem_res, sub->mem_res,
		    (size_t)sub->nnodes * sizeof(*d->mem_res));
		memcpy(d->if_res, sub->if_res,
		    (size_t)sub->nnodes * sizeof(*d->if_res));
		memcpy(d->bw_res, sub->bw_res,
		    (size_t)sub->nlinks * sizeof(*d->bw_res));
		map_substrate_sync(d);
	}
	return d;
fail:
	map_substrate_free(d);
	return NULL;
}

/* 1 if both substrates have the same shape and the same residuals. */
int
map_substrate_equal_residuals(const struct map_substrate *a,
    const struct map_substrate *b)
{
	if (a->nnodes != b->nnodes || a->nlinks != b->nlinks)
		return 0;
	for (int32_t i = 0; i < a->nnodes; i++)
		if (a->cpu_res[i] != b->cpu_res[i] ||
		    a->mem_res[i] != b->mem_res[i] ||
		    a->if_res[i] != b->if_res[i])
			return 0;
	for (int32_t i = 0; i < a->nlinks; i++)
		if (a->bw_res[i] != b->bw_res[i])
			return 0;
	return 1;
}

void
map_vnode_init(struct map_vnode *v)
{
	memset(v, 0, sizeof(*v));
	v->maxd = -1;
	v->pip = MAP_NONE;
	v->pin = MAP_NONE;
}

/*
 * A request with nnodes unconstrained virtual nodes and nlinks zeroed
 * links; NULL on failure.  Free with map_request_free().
 */
struct map_request *
map_request_new(int32_t nnodes, int32_t nlinks)
{
	struct map_request *r;

	if (nnodes < 1 || nlinks < 0) {
		err_set(ERR_INVALID, "a request needs at least one node");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->nodes = calloc((size_t)nnodes, sizeof(*r->nodes))) == NULL ||
	    (r->links = calloc((size_t)nlinks + 1, sizeof(*r->links))) ==
	    NULL) {
		map_request_free(r);
		err_nomem();
		return NULL;
	}
	r->nnodes = nnodes;
	r->nlinks = nlinks;
	for (int32_t i = 0; i < nnodes; i++)
		map_vnode_init(&r->nodes[i]);
	return r;
}

void
map_request_free(struct map_request *r)
{
	if (r == NULL)
		return;
	free(r->nodes);
	free(r->links);
	free(r);
}

/* Check the request for meaning: link ends, amounts, kinds. 0 or -1. */
int
map_request_validate(const struct map_request *r)
{
	int rc = 0;

	for (int32_t i = 0; i < r->nnodes; i++) {
		const struct map_vnode *v = &r->nodes[i];

		if (v->cpu < 0 || v->mem < 0 || v->ifaces < 0)
			rc = err_set(ERR_INVALID,
			    "virtual node %d has a negative demand", (int)i);
		if (v->kind < 0 || v->kind > 31)
			rc = err_set(ERR_INVALID,
			    "virtual node %d has kind %d, not 0..31", (int)i,
			    (int)v->kind);
	}
	for (int32_t i = 0; i < r->nlinks; i++) {
		const struct map_vlink *l = &r->links[i];

		if (l->a < 0 || l->b < 0 || l->a >= r->nnodes ||
		    l->b >= r->nnodes || l->a == l->b)
			rc = err_set(ERR_TOPOLOGY,
			    "virtual link %d has a bad end", (int)i);
		if (l->bw < 0)
			rc = err_set(ERR_INVALID,
			    "virtual link %d has a negative bandwidth", (int)i);
	}
	return rc;
}

/* Revenue in the literature's sense: sum of CPU + sum of bandwidth. */
int64_t
map_request_revenue(const struct map_request *r)
{
	int64_t rev = 0;

	for (int32_t i = 0; i < r->nnodes; i++)
		rev += r->nodes[i].cpu;
	for (int32_t i = 0; i < r->nlinks; i++)
		rev += r->links[i].bw;
	return rev;
}

/* An empty result sized to req; NULL on failure. */
struct map_result *
map_result_new(const struct map_request *req)
{
	struct map_result *res;

	if ((res = calloc(1, sizeof(*res))) == NULL ||
	    (res->node = calloc((size_t)req->nnodes, sizeof(*res->node))) ==
	    NULL ||
	    (res->path_off = calloc((size_t)req->nlinks + 1,
	    sizeof(*res->path_off))) == NULL) {
		map_result_free(res);
		err_nomem();
		return NULL;
	}
	res->nnodes = req->nnodes;
	res->nlinks = req->nlinks;
	for (int32_t i = 0; i < req->nnodes; i++)
		res->node[i] = MAP_NONE;
	return res;
}

void
map_result_free(struct map_result *res)
{
	if (res == NULL)
		return;
	free(res->node);
	free(res->path_off);
	free(res->path);
	free(res);
}

int
map_result_grow(struct map_result *res, int32_t n)
{
	return map_grow((void **)&res->path, &res->path_cap, n,
	    sizeof(*res->path));
}

/* Total substrate hops of all paths. */
int
map_result_hops(const struct map_result *res)
{
	return res->path_off[res->nlinks];
}

int
map_node_fits(const struct map_substrate *sub, int32_t s,
    const struct map_vnode *v)
{
	const struct map_snode *n = &sub->nodes[s];

	if (sub->cpu_res[s] < v->cpu || sub->mem_res[s] < v->mem)
		return 0;
	if (sub->if_res[s] != MAP_NONE && sub->if_res[s] < v->ifaces)
		return 0;
	if ((n->kinds & (1u << v->kind)) == 0)
		return 0;
	if (v->pin != MAP_NONE && v->pin != s)
		return 0;
	if (v->pip != MAP_NONE && v->pip != n->pip)
		return 0;
	if (v->loc[0] != '\0' && strcmp(v->loc, n->loc) != 0)
		return 0;
	if (v->maxd >= 0) {
		double dx = n->x - v->x, dy = n->y - v->y;

		if (dx * dx + dy * dy > v->maxd * v->maxd)
			return 0;
	}
	return 1;
}

int
map_admit(const struct map_substrate *sub, const struct map_request *req)
{
	int64_t cpu_free = sub->cpu_free, cpu_max = sub->cpu_tree[1];
	int64_t bw_max = sub->bw_tree[1], cpu_need = 0;
	for (int32_t i = 0; i < req->nnodes; i++) {
		const struct map_vnode *v = &req->nodes[i];

		cpu_need += v->cpu;
		if (v->cpu > cpu_max) {
			err_set(ERR_NO_RESOURCES,
			    "no substrate node has the CPU for virtual node %d",
			    (int)i);
			err_shortfall("cpu", "milli-CPU", (double)v->cpu,
			    (double)cpu_max);
			return -1;
		}
		if (v->pin != MAP_NONE && (v->pin < 0 || v->pin >= sub->nnodes ||
		    !map_node_fits(sub, v->pin, v))) {
			err_set(ERR_NO_RESOURCES,
			    "virtual node %d does not fit its pinned host",
			    (int)i);
			return -1;
		}
	}
	if (cpu_need > cpu_free) {
		err_set(ERR_NO_RESOURCES, "the substrate lacks the total CPU");
		err_shortfall("cpu", "milli-CPU", (double)cpu_need,
		    (double)cpu_free);
		return -1;
	}
	/* With colocation a link may have an empty path: no link needed. */
	for (int32_t i = 0; !req->colocate && i < req->nlinks; i++)
		if (req->links[i].bw > bw_max) {
			err_set(ERR_NO_RESOURCES,
			    "no substrate link has the bandwidth for virtual "
			    "link %d", (int)i);
			err_shortfall("bandwidth", "kbit/s",
			    (double)req->links[i].bw, (double)bw_max);
			return -1;
		}
	return 0;
}

/* One demand on one resource, for aggregating a mapping's use. */
struct map_use {
	int32_t idx;		/* substrate node or link */
	int32_t vidx;		/* virtual node or link that asks */
	int64_t a, b;		/* node: cpu, mem; link: bw, unused */
	int64_t c;		/* node: interfaces; link: unused */
};

static int
map_use_cmp(const void *pa, const void *pb)
{
	const struct map_use *a = pa, *b = pb;

	return (a->idx > b->idx) - (a->idx < b->idx);
}

#define MAP_USE_STACK	256

/* Check that every node of the mapping fits, counting shared hosts. */
static int
map_check_nodes(const struct map_substrate *sub,
    const struct map_request *req, const struct map_result *res,
    struct map_use *u)
{
	int32_t n = req->nnodes;

	for (int32_t i = 0; i < n; i++) {
		const struct map_vnode *v = &req->nodes[i];
		int32_t s = res->node[i];
		struct map_vnode one = *v;

		if (s < 0 || s >= sub->nnodes)
			return err_set(ERR_INVALID,
			    "virtual node %d is not mapped", (int)i);
		/* Constraints other than amounts, checked one by one. */
		one.cpu = one.mem = 0;
		one.ifaces = 0;
		if (!map_node_fits(sub, s, &one))
			return err_set(ERR_NO_RESOURCES,
			    "host %d breaks a constraint of virtual node %d",
			    (int)s, (int)i);
		u[i].idx = s;
		u[i].vidx = i;
		u[i].a = v->cpu;
		u[i].b = v->mem;
		u[i].c = v->ifaces;
	}
	qsort(u, (size_t)n, sizeof(*u), map_use_cmp);
	for (int32_t i = 0; i < n;) {
		int32_t j = i, s = u[i].idx;
		int64_t cpu = 0, mem = 0, ifs = 0;

		for (; j < n && u[j].idx == s; j++) {
			cpu += u[j].a;
			mem += u[j].b;
			ifs += u[j].c;
		}
		if (j - i > 1 && !req->colocate)
			return err_set(ERR_NO_RESOURCES,
			    "virtual nodes %d and %d share host %d",
			    (int)u[i].vidx, (int)u[i + 1].vidx, (int)s);
		if (cpu > sub->cpu_res[s]) {
			err_set(ERR_NO_RESOURCES,
			    "host %d lacks the CPU for virtual node %d",
			    (int)s, (int)u[i].vidx);
			err_shortfall("cpu", "milli-CPU", (double)cpu,
			    (double)sub->cpu_res[s]);
			return -1;
		}
		if (mem > sub->mem_res[s]) {
			err_set(ERR_NO_RESOURCES,
			    "host %d lacks the memory for virtual node %d",
			    (int)s, (int)u[i].vidx);
			err_shortfall("memory", "MiB", (double)mem,
			    (double)sub->mem_res[s]);
			return -1;
		}
		if (sub->if_res[s] != MAP_NONE && ifs > sub->if_res[s]) {
			err_set(ERR_NO_RESOURCES,
			    "host %d lacks interfaces for virtual node %d",
			    (int)s, (int)u[i].vidx);
			err_shortfall("interfaces", "interfaces", (double)ifs,
			    (double)sub->if_res[s]);
			return -1;
		}
		i = j;
	}
	return 0;
}

/* Check that every path is connected and the links carry their sum. */
static int
map_check_links(const struct map_substrate *sub,
    const struct map_request *req, const struct map_result *res,
    struct map_use *u)
{
	int32_t k = 0;

	for (int32_t i = 0; i < req->nlinks; i++) {
		const struct map_vlink *vl = &req->links[i];
		int32_t at = res->node[vl->a];

		for (int32_t p = res->path_off[i]; p < res->path_off[i + 1];
		    p++) {
			int32_t l = res->path[p];

			if (l < 0 || l >= sub->nlinks)
				return err_set(ERR_INVALID,
				    "virtual link %d uses no such link %d",
				    (int)i, (int)l);
			if (sub->links[l].a == at)
				at = sub->links[l].b;
			else if (sub->links[l].b == at)
				at = sub->links[l].a;
			else
				return err_set(ERR_TOPOLOGY,
				    "the path of virtual link %d is broken at "
				    "link %d", (int)i, (int)l);
			u[k].idx = l;
			u[k].vidx = i;
			u[k].a = vl->bw;
			k++;
		}
		if (at != res->node[vl->b])
			return err_set(ERR_TOPOLOGY,
			    "the path of virtual link %d does not reach its "
			    "end", (int)i);
	}
	qsort(u, (size_t)k, sizeof(*u), map_use_cmp);
	for (int32_t i = 0; i < k;) {
		int32_t j = i, l = u[i].idx;
		int64_t bw = 0;

		for (; j < k && u[j].idx == l; j++)
			bw += u[j].a;
		if (bw > sub->bw_res[l]) {
			err_set(ERR_NO_RESOURCES,
			    "substrate link %d lacks the bandwidth for "
			    "virtual link %d", (int)l, (int)u[i].vidx);
			err_shortfall("bandwidth", "kbit/s", (double)bw,
			    (double)sub->bw_res[l]);
			return -1;
		}
		i = j;
	}
	return 0;
}

int
map_check(const struct map_substrate *sub, const struct map_request *req,
    const struct map_result *res)
{
	struct map_use stack[MAP_USE_STACK], *u = stack;
	int32_t need = req->nnodes;
	int rc;

	if (res->nnodes != req->nnodes || res->nlinks != req->nlinks)
		return err_set(ERR_INVALID, "the mapping is for another request");
	if (res->path_off[req->nlinks] > need)
		need = res->path_off[req->nlinks];
	if (need > MAP_USE_STACK &&
	    (u = calloc((size_t)need, sizeof(*u))) == NULL)
		return err_nomem();
	rc = map_check_nodes(sub, req, res, u);
	if (rc == 0)
		rc = map_check_links(sub, req, res, u);
	if (u != stack)
		free(u);
	return rc;
}

int
map_reserve(struct map_substrate *sub, const struct map_request *req,
    const struct map_result *res)
{
	if (map_check(sub, req, res) == -1)
		return -1;
	for (int32_t i = 0; i < req->nnodes; i++) {
		int32_t s = res->node[i];

		sub->cpu_res[s] -= req->nodes[i].cpu;
		sub->mem_res[s] -= req->nodes[i].mem;
		if (sub->if_res[s] != MAP_NONE)
			sub->if_res[s] -= req->nodes[i].ifaces;
		sub->cpu_free -= req->nodes[i].cpu;
		map_tree_set(sub->cpu_tree, sub->ntree, s, sub->cpu_res[s]);
	}
	for (int32_t i = 0; i < req->nlinks; i++)
		for (int32_t p = res->path_off[i]; p < res->path_off[i + 1];
		    p++) {
			int32_t l = res->path[p];

			sub->bw_res[l] -= req->links[i].bw;
			map_tree_set(sub->bw_tree, sub->ltree, l, sub->bw_res[l]);
		}
	return 0;
}

void
map_release(struct map_substrate *sub, const struct map_request *req,
    const struct map_result *res)
{
	for (int32_t i = 0; i < req->nnodes; i++) {
		int32_t s = res->node[i];

		sub->cpu_res[s] += req->nodes[i].cpu;
		sub->mem_res[s] += req->nodes[i].mem;
		if (sub->if_res[s] != MAP_NONE)
			sub->if_res[s] += req->nodes[i].ifaces;
		sub->cpu_free += req->nodes[i].cpu;
		map_tree_set(sub->cpu_tree, sub->ntree, s, sub->cpu_res[s]);
	}
	for (int32_t i = 0; i < req->nlinks; i++)
		for (int32_t p = res->path_off[i]; p < res->path_off[i + 1];
		    p++) {
			int32_t l = res->path[p];

			sub->bw_res[l] += req->links[i].bw;
			map_tree_set(sub->bw_tree, sub->ltree, l, sub->bw_res[l]);
		}
}
