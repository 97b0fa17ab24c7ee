/*
 * The glue between slices and the mapping library (lib/map.h): resolve
 * a slice so that every node has a host and every link between two
 * hosts a path of hosts.
 *
 * mapping="pip": pipd maps with vnsm's default algorithm on a substrate
 * graph built from the inventory (down hosts offer nothing), with the
 * slice's own reservation credited back (an update may reuse what the
 * slice holds; its existing nodes stay pinned where they are).
 * mapping="vnp": the nodes are pinned; links without a path get the
 * shortest path with the bandwidth free.  Either way the result is
 * checked again by admission control (admit.c), which has the last
 * word.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "map.h"
#include "pipd.h"

static uint64_t
credit_h(const struct usage *c, int h, int what)
{
	for (size_t i = 0; c != NULL && i < c->nh; i++)
		if (c->h[i].host == h)
			return what == 0 ? c->h[i].cpu : what == 1 ?
			    c->h[i].mem : c->h[i].ifs;
	return 0;
}

static uint64_t
credit_l(const struct usage *c, int l)
{
	for (size_t i = 0; c != NULL && i < c->nl; i++)
		if (c->l[i].link == l)
			return c->l[i].bw;
	return 0;
}

static int64_t
cap64(uint64_t v, uint64_t cap)
{
	return (int64_t)(v < cap ? v : cap);
}

/* The substrate as the mapping library sees it, residuals included. */
static struct map_substrate *
mapper_substrate(const struct pipd *pd, const struct usage *credit)
{
	struct map_substrate *sub;

	if ((sub = map_substrate_new()) == NULL)
		return NULL;
	for (size_t i = 0; i < pd->nhosts; i++) {
		const struct pipd_host *h = &pd->hosts[i];
		struct map_snode n;

		memset(&n, 0, sizeof(n));
		str_lcpy(n.name, h->conf->name, sizeof(n.name));
		str_lcpy(n.loc, h->conf->location, sizeof(n.loc));
		n.pip = 0;
		if (inventory_offered(pd, (int)i)) {
			n.cpu = (int64_t)host_cpu_cap(pd, (int)i);
			n.mem = (int64_t)h->memory;
			n.ifaces = (int32_t)h->interfaces;
			n.kinds = h->kinds;
		}
		if (map_snode_add(sub, &n) == -1)
			goto fail;
	}
	for (size_t i = 0; i < pd->nlinks; i++) {
		const struct pipd_link_conf *l = pd->links[i].conf;

		if (map_slink_add(sub, l->a, l->b, (int64_t)l->bandwidth,
		    0) == -1)
			goto fail;
	}
	if (map_substrate_finalize(sub) == -1)
		goto fail;
	for (size_t i = 0; i < pd->nhosts; i++) {
		int h = (int)i;

		if (sub->nodes[i].kinds == 0) {
			sub->cpu_res[i] = sub->mem_res[i] = 0;
			sub->if_res[i] = 0;
			continue;
		}
		sub->cpu_res[i] = cap64(host_cpu_free(pd, h) +
		    credit_h(credit, h, 0), (uint64_t)sub->nodes[i].cpu);
		sub->mem_res[i] = cap64(host_mem_free(pd, h) +
		    credit_h(credit, h, 1), (uint64_t)sub->nodes[i].mem);
		sub->if_res[i] = (int32_t)cap64(host_if_free(pd, h) +
		    credit_h(credit, h, 2), (uint64_t)sub->nodes[i].ifaces);
	}
	for (size_t i = 0; i < pd->nlinks; i++) {
		int both = sub->nodes[sub->links[i].a].kinds != 0 &&
		    sub->nodes[sub->links[i].b].kinds != 0;

		sub->bw_res[i] = both ? cap64(link_bw_free(pd, (int)i) +
		    credit_l(credit, (int)i), (uint64_t)sub->links[i].bw) : 0;
	}
	map_substrate_sync(sub);
	return sub;
fail:
	map_substrate_free(sub);
	return NULL;
}

/* Set a link's path to the host names of hops[0 .. n). */
static int
set_path(const struct pipd *pd, struct topo_link *l, const int *hops,
    size_t n)
{
	char (*p)[NAME_LEN] = NULL;

	if (n > 0 && (p = calloc(n, sizeof(*p))) == NULL)
		return err_nomem();
	for (size_t i = 0; i < n; i++)
		str_lcpy(p[i], pd->conf->hosts[hops[i]].name, sizeof(p[i]));
	free(l->path);
	l->path = p;
	l->npath = n;
	return 0;
}

/*
 * Shortest path (in hops) from host a to host b over substrate links
 * with at least bw free (plus credit, minus taken[]).  Writes the hosts
 * into hops (at most max) and returns 0; -1 with a bandwidth shortfall
 * naming the widest path's bottleneck when there is none.
 */
static int
route(const struct pipd *pd, const struct usage *credit,
    const uint64_t *taken, int a, int b, uint64_t bw, const char *what,
    int *hops, size_t *nhops, size_t max)
{
	size_t n = pd->nhosts;
	int *prev, *queue, *dist;
	uint64_t *wide;
	size_t qh = 0, qt = 0;
	int rc = -1;

	prev = calloc(n, sizeof(*prev));
	queue = calloc(n, sizeof(*queue));
	dist = calloc(n, sizeof(*dist));
	wide = calloc(n, sizeof(*wide));
	if (prev == NULL || queue == NULL || dist == NULL || wide == NULL) {
		rc = err_nomem();
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		dist[i] = -1;
	dist[a] = 0;
	queue[qt++] = a;
	while (qh < qt && dist[b] < 0) {
		int u = queue[qh++];

		for (size_t l = 0; l < pd->nlinks; l++) {
			const struct pipd_link_conf *lc = pd->links[l].conf;
			int v = lc->a == u ? lc->b : lc->b == u ? lc->a : -1;
			uint64_t f;

			if (v < 0 || dist[v] >= 0 || !inventory_offered(pd, v))
				continue;
			f = link_bw_free(pd, (int)l) + credit_l(credit,
			    (int)l) - taken[l];
			if (f < bw)
				continue;
			dist[v] = dist[u] + 1;
			prev[v] = (int)l;
			queue[qt++] = v;
		}
	}
	if (dist[b] >= 0 && (size_t)dist[b] + 1 <= max) {
		int at = b;

		*nhops = (size_t)dist[b] + 1;
		for (size_t k = *nhops; k-- > 0;) {
			const struct pipd_link_conf *lc;

			hops[k] = at;
			if (k == 0)
				break;
			lc = pd->links[prev[at]].conf;
			at = lc->a == at ? lc->b : lc->a;
		}
		rc = 0;
		goto out;
	}
	/* None: find the widest path's bottleneck for the refusal. */
	wide[a] = UINT64_MAX;
	for (size_t it = 0; it < n; it++)
		for (size_t l = 0; l < pd->nlinks; l++) {
			const struct pipd_link_conf *lc = pd->links[l].conf;
			uint64_t f = link_bw_free(pd, (int)l) +
			    credit_l(credit, (int)l) - taken[l];

			if (!inventory_offered(pd, lc->a) ||
			    !inventory_offered(pd, lc->b))
				continue;
			for (int d = 0; d < 2; d++) {
				int u = d ? lc->b : lc->a, v = d ? lc->a : lc->b;
				uint64_t w = wide[u] < f ? wide[u] : f;

				if (w > wide[v])
					wide[v] = w;
			}
		}
	if (wide[b] == 0 && dist[b] < 0)
		err_set(ERR_NO_RESOURCES, "no substrate path joins host '%s' "
		    "to host '%s' for %s", pd->conf->hosts[a].name,
		    pd->conf->hosts[b].name, what);
	else
		err_set(ERR_NO_RESOURCES, "no substrate path from host '%s' "
		    "to host '%s' has the bandwidth of %s: %.3f Mbit/s asked, "
		    "%.3f free on the widest path", pd->conf->hosts[a].name,
		    pd->conf->hosts[b].name, what, bw / 1000.0,
		    wide[b] / 1000.0);
	err_shortfall("bandwidth", "Mbit/s", bw / 1000.0, wide[b] / 1000.0);
	if (wide[b] > 0)
		err_offer("%s fits with bandwidth=%.3fMbit", what,
		    wide[b] / 1000.0);
out:
	free(prev);
	free(queue);
	free(dist);
	free(wide);
	return rc;
}

/* Public form of route() for one link (tests, migrate). */
int
mapper_route(struct pipd *pd, const struct usage *credit, const char *from,
    const char *to, uint64_t bw, int *hops, size_t *nhops, size_t max)
{
	uint64_t *taken;
	int a = config_host(pd->conf, from), b = config_host(pd->conf, to);
	int rc;

	if (a < 0 || b < 0)
		return err_set(ERR_NOT_FOUND, "no host '%s'", a < 0 ? from :
		    to);
	if ((taken = calloc(pd->nlinks + 1, sizeof(*taken))) == NULL)
		return err_nomem();
	rc = route(pd, credit, taken, a, b, bw, "the link", hops, nhops, max);
	free(taken);
	return rc;
}

/* Route every link of doc between two hosts that has no path yet. */
static int
route_links(struct pipd *pd, struct slice *doc, const struct usage *credit)
{
	uint64_t *taken;
	int *hops;
	size_t nh;
	int rc = 0;

	taken = calloc(pd->nlinks + 1, sizeof(*taken));
	hops = calloc(pd->nhosts + 1, sizeof(*hops));
	if (taken == NULL || hops == NULL) {
		free(taken);
		free(hops);
		return err_nomem();
	}
	/* Links with a path given take their bandwidth first. */
	for (size_t i = 0; i < doc->nlinks; i++) {
		const struct topo_link *l = &doc->links[i];

		for (size_t k = 1; k < l->npath; k++) {
			int x = config_host(pd->conf, l->path[k - 1]);
			int y = config_host(pd->conf, l->path[k]);
			int sl = x < 0 || y < 0 ? -1 : inventory_link(pd, x, y);

			if (sl >= 0)
				taken[sl] += l->bandwidth;
		}
	}
	for (size_t i = 0; i < doc->nlinks && rc == 0; i++) {
		struct topo_link *l = &doc->links[i];
		ssize_t na = topo_node_find(doc->nodes, doc->nnodes,
		    l->end[0].node);
		ssize_t nb = topo_node_find(doc->nodes, doc->nnodes,
		    l->end[1].node);
		int a, b;
		char what[NAME_LEN + 16];

		if (l->npath > 0 || na < 0 || nb < 0)
			continue;
		a = config_host(pd->conf, doc->nodes[na].host);
		b = config_host(pd->conf, doc->nodes[nb].host);
		if (a < 0 || b < 0 || a == b)
			continue;
		snprintf(what, sizeof(what), "link '%s'", l->name);
		rc = route(pd, credit, taken, a, b, l->bandwidth, what, hops,
		    &nh, pd->nhosts);
		if (rc == 0)
			rc = set_path(pd, l, hops, nh);
		for (size_t k = 1; rc == 0 && k < nh; k++)
			taken[inventory_link(pd, hops[k - 1], hops[k])] +=
			    l->bandwidth;
	}
	free(taken);
	free(hops);
	return rc;
}

/* Check pinned nodes: known hosts that are up and run the kind. */
static int
check_pins(const struct pipd *pd, const struct slice *doc)
{
	for (size_t i = 0; i < doc->nnodes; i++) {
		const struct topo_node *nd = &doc->nodes[i];
		int h;

		if (nd->host[0] == '\0')
			continue;
		if ((h = config_host(pd->conf, nd->host)) < 0) {
			err_set(ERR_NOT_FOUND, "node '%s' is pinned to host "
			    "'%s', which PIP '%s' does not have", nd->name,
			    nd->host, pd->conf->name);
			return -1;
		}
		if (nd->location[0] != '\0' &&
		    strcmp(nd->location, pd->conf->hosts[h].location) != 0)
			return err_set(ERR_INVALID, "node '%s' asks for "
			    "location '%s' but is pinned to host '%s' at '%s'",
			    nd->name, nd->location, nd->host,
			    pd->conf->hosts[h].location);
		if ((pd->hosts[h].kinds & (1u << nd->kind)) == 0 &&
		    pd->hosts[h].state != HOST_DOWN)
			return err_set(ERR_UNSUPPORTED, "node '%s' is a %s "
			    "node, which host '%s' cannot run", nd->name,
			    node_kind_to_string(nd->kind), nd->host);
	}
	return 0;
}

/*
 * Before mapping: does each node fit some host, and do the totals fit?
 * Gives a refusal that names the resource instead of "no mapping".
 */
static int
precheck(const struct pipd *pd, const struct slice *doc,
    const struct usage *credit)
{
	uint64_t tot[3] = { 0, 0, 0 }, need[3] = { 0, 0, 0 };
	static const char *const res[3] = { "cpu", "memory", "interfaces" };
	static const char *const unit[3] = { "cores", "MiB", "interfaces" };
	static const double scale[3] = { 1000.0, 1.0, 1.0 };

	for (size_t h = 0; h < pd->nhosts; h++) {
		if (!inventory_offered(pd, (int)h))
			continue;
		tot[0] += host_cpu_free(pd, (int)h) + credit_h(credit,
		    (int)h, 0);
		tot[1] += host_mem_free(pd, (int)h) + credit_h(credit,
		    (int)h, 1);
		tot[2] += host_if_free(pd, (int)h) + credit_h(credit,
		    (int)h, 2);
	}
	for (size_t i = 0; i < doc->nnodes; i++) {
		const struct topo_node *nd = &doc->nodes[i];
		uint64_t want[3] = { nd->cpu, nd->memory, node_ifaces(doc, i) };
		uint64_t best[3] = { 0, 0, 0 };
		int kind_ok = 0, loc_ok = 0;

		need[0] += want[0];
		need[1] += want[1];
		need[2] += want[2];
		if (nd->host[0] != '\0')
			continue;
		for (size_t h = 0; h < pd->nhosts; h++) {
			uint64_t f[3];

			if (!inventory_offered(pd, (int)h))
				continue;
			if (nd->location[0] != '\0' && strcmp(nd->location,
			    pd->conf->hosts[h].location) != 0)
				continue;
			loc_ok = 1;
			if ((pd->hosts[h].kinds & (1u << nd->kind)) == 0)
				continue;
			kind_ok = 1;
			f[0] = host_cpu_free(pd, (int)h) + credit_h(credit,
			    (int)h, 0);
			f[1] = host_mem_free(pd, (int)h) + credit_h(credit,
			    (int)h, 1);
			f[2] = host_if_free(pd, (int)h) + credit_h(credit,
			    (int)h, 2);
			for (int r = 0; r < 3; r++)
				if (f[r] > best[r])
					best[r] = f[r];
		}
		if (!loc_ok)
			return err_set(ERR_NO_RESOURCES, "node '%s' asks for "
			    "location '%s', where PIP '%s' offers no host now",
			    nd->name, nd->location, pd->conf->name);
		if (!kind_ok)
			return err_set(ERR_NO_RESOURCES, "node '%s' is a %s "
			    "node, and no host of PIP '%s' that is up runs "
			    "that kind", nd->name,
			    node_kind_to_string(nd->kind), pd->conf->name);
		for (int r = 0; r < 3; r++) {
			if (want[r] <= best[r])
				continue;
			err_set(ERR_NO_RESOURCES, "no host has the %s of node "
			    "'%s': %g %s asked, at most %g free on one host",
			    res[r], nd->name, want[r] / scale[r], unit[r],
			    best[r] / scale[r]);
			err_shortfall(res[r], unit[r], want[r] / scale[r],
			    best[r] / scale[r]);
			if (best[r] > 0)
				err_offer("node '%s' fits with %s=%g %s",
				    nd->name, res[r], best[r] / scale[r],
				    unit[r]);
			return -1;
		}
	}
	for (int r = 0; r < 3; r++)
		if (need[r] > tot[r]) {
			err_set(ERR_NO_RESOURCES, "slice '%s' asks for more %s "
			    "than PIP '%s' has free: %g %s asked, %g free",
			    doc->name, res[r], pd->conf->name,
			    need[r] / scale[r], unit[r], tot[r] / scale[r]);
			err_shortfall(res[r], unit[r], need[r] / scale[r],
			    tot[r] / scale[r]);
			return -1;
		}
	return 0;
}

/* Build the library's request from doc; pins from nodes with a host. */
static struct map_request *
mapper_request(const struct pipd *pd, const struct slice *doc)
{
	struct map_request *req;

	if ((req = map_request_new((int32_t)doc->nnodes,
	    (int32_t)doc->nlinks)) == NULL)
		return NULL;
	for (size_t i = 0; i < doc->nnodes; i++) {
		const struct topo_node *nd = &doc->nodes[i];
		struct map_vnode *v = &req->nodes[i];

		str_lcpy(v->name, nd->name, sizeof(v->name));
		v->cpu = nd->cpu;
		v->mem = (int64_t)nd->memory;
		v->ifaces = (int32_t)node_ifaces(doc, i);
		v->kind = (int32_t)nd->kind;
		str_lcpy(v->loc, nd->location, sizeof(v->loc));
		if (nd->host[0] != '\0')
			v->pin = config_host(pd->conf, nd->host);
	}
	for (size_t i = 0; i < doc->nlinks; i++) {
		req->links[i].a = (int32_t)topo_node_find(doc->nodes,
		    doc->nnodes, doc->links[i].end[0].node);
		req->links[i].b = (int32_t)topo_node_find(doc->nodes,
		    doc->nnodes, doc->links[i].end[1].node);
		req->links[i].bw = (int64_t)doc->links[i].bandwidth;
	}
	return req;
}

/* Write a mapping into doc: hosts of nodes, paths of links. */
static int
mapper_apply(const struct pipd *pd, struct slice *doc,
    const struct map_substrate *sub, const struct map_result *res)
{
	int *hops;

	if ((hops = calloc(pd->nhosts + (size_t)map_result_hops(res) + 2,
	    sizeof(*hops))) == NULL)
		return err_nomem();
	for (size_t i = 0; i < doc->nnodes; i++)
		str_lcpy(doc->nodes[i].host,
		    pd->conf->hosts[res->node[i]].name,
		    sizeof(doc->nodes[i].host));
	for (size_t i = 0; i < doc->nlinks; i++) {
		int at = res->node[topo_node_find(doc->nodes, doc->nnodes,
		    doc->links[i].end[0].node)];
		size_t n = 0;

		if (res->path_off[i] == res->path_off[i + 1]) {
			free(doc->links[i].path);
			doc->links[i].path = NULL;
			doc->links[i].npath = 0;
			continue;
		}
		hops[n++] = at;
		for (int32_t p = res->path_off[i]; p < res->path_off[i + 1];
		    p++) {
			const struct map_slink *sl = &sub->links[res->path[p]];

			at = sl->a == at ? sl->b : sl->a;
			hops[n++] = at;
		}
		if (set_path(pd, &doc->links[i], hops, n) == -1) {
			free(hops);
			return -1;
		}
	}
	free(hops);
	return 0;
}

/*
 * The greedy fallback when the library finds no mapping: every node on
 * one host (its links then need no substrate bandwidth), the host with
 * the most free memory that takes them all.  Fills res; 0 or -1.
 */
static int
one_host(const struct pipd *pd, const struct slice *doc,
    const struct map_substrate *sub, struct map_result *res)
{
	int best = -1;

	for (int32_t h = 0; h < sub->nnodes; h++) {
		uint64_t cpu = 0, mem = 0, ifs = 0;
		int fits = sub->nodes[h].kinds != 0;

		for (size_t i = 0; i < doc->nnodes && fits; i++) {
			const struct topo_node *nd = &doc->nodes[i];

			cpu += nd->cpu;
			mem += nd->memory;
			ifs += node_ifaces(doc, i);
			if ((sub->nodes[h].kinds & (1u << nd->kind)) == 0 ||
			    (nd->host[0] != '\0' &&
			    config_host(pd->conf, nd->host) != h) ||
			    (nd->location[0] != '\0' && strcmp(nd->location,
			    pd->conf->hosts[h].location) != 0))
				fits = 0;
		}
		if (!fits || cpu > (uint64_t)sub->cpu_res[h] ||
		    mem > (uint64_t)sub->mem_res[h] ||
		    ifs > (uint64_t)sub->if_res[h])
			continue;
		if (best < 0 || sub->mem_res[h] > sub->mem_res[best])
			best = h;
	}
	if (best < 0)
		return -1;
	for (size_t i = 0; i < doc->nnodes; i++)
		res->node[i] = best;
	for (int32_t l = 0; l <= res->nlinks; l++)
		res->path_off[l] = 0;
	return 0;
}

/*
 * Mapping failed although every node fits some host and the totals fit:
 * find the resource that binds (the one whose relaxation lets the
 * library map the slice) and record the refusal with honest figures —
 * what the slice asks of it in all, and the most of it free on one host
 * that has room for the rest (for bandwidth: on one substrate link).
 */
static void
explain(const struct pipd *pd, const struct slice *doc, struct map_ctx *ctx,
    const struct map_substrate *sub, int colocate)
{
	static const char *const res[4] = { "cpu", "memory", "interfaces",
		"bandwidth" };
	static const char *const unit[4] = { "cores", "MiB", "interfaces",
		"Mbit/s" };
	static const double scale[4] = { 1000.0, 1.0, 1.0, 1000.0 };
	int r;
	uint64_t asked = 0, avail = 0, mmin = UINT64_MAX, imin = UINT64_MAX;
	uint64_t cmin = UINT64_MAX;

	for (r = 0; r < 4; r++) {
		struct map_request *q = mapper_request(pd, doc);
		struct map_result *res2 = q != NULL ? map_result_new(q) : NULL;
		int fits = 0;

		if (q != NULL && res2 != NULL) {
			q->colocate = colocate;
			for (int32_t i = 0; i < q->nnodes; i++) {
				if (r == 0)
					q->nodes[i].cpu = 0;
				if (r == 1)
					q->nodes[i].mem = 0;
				if (r == 2)
					q->nodes[i].ifaces = 0;
			}
			for (int32_t i = 0; r == 3 && i < q->nlinks; i++)
				q->links[i].bw = 0;
			fits = map_embed(ctx, MAP_ALGO_VNSM, q, res2) == 0;
		}
		map_result_free(res2);
		map_request_free(q);
		err_reset();
		if (fits)
			break;
	}
	if (r == 4)
		r = 1;	/* nothing alone binds: speak of memory */
	for (size_t i = 0; i < doc->nnodes; i++) {
		uint64_t v[3] = { doc->nodes[i].cpu, doc->nodes[i].memory,
		    node_ifaces(doc, i) };

		if (r < 3)
			asked += v[r];
		cmin = v[0] < cmin ? v[0] : cmin;
		mmin = v[1] < mmin ? v[1] : mmin;
		imin = v[2] < imin ? v[2] : imin;
	}
	if (r == 3) {
		for (size_t i = 0; i < doc->nlinks; i++)
			if (doc->links[i].bandwidth > asked)
				asked = doc->links[i].bandwidth;
		for (int32_t l = 0; l < sub->nlinks; l++)
			if ((uint64_t)sub->bw_res[l] > avail)
				avail = (uint64_t)sub->bw_res[l];
	} else {
		/* Hosts with room for all the rest first, else for a node. */
		uint64_t tot[3] = { 0, 0, 0 };

		for (size_t i = 0; i < doc->nnodes; i++) {
			tot[0] += doc->nodes[i].cpu;
			tot[1] += doc->nodes[i].memory;
			tot[2] += node_ifaces(doc, i);
		}
		for (int pass = 0; pass < 2 && avail == 0; pass++)
			for (int32_t h = 0; h < sub->nnodes; h++) {
				uint64_t f[3] = { (uint64_t)sub->cpu_res[h],
				    (uint64_t)sub->mem_res[h],
				    (uint64_t)sub->if_res[h] };
				uint64_t need[3] = { pass ? cmin : tot[0],
				    pass ? mmin : tot[1], pass ? imin : tot[2] };
				int room = sub->nodes[h].kinds != 0;

				for (int k = 0; k < 3; k++)
					if (k != r && f[k] < need[k])
						room = 0;
				if (room && f[r] > avail)
					avail = f[r];
			}
	}
	err_set(ERR_NO_RESOURCES, "slice '%s' does not fit the hosts of PIP "
	    "'%s': %s binds; %g %s asked, at most %g free %s", doc->name,
	    pd->conf->name, res[r], asked / scale[r], unit[r],
	    avail / scale[r], r == 3 ? "on one substrate link" :
	    "on one host with room for the rest");
	err_shortfall(res[r], unit[r], asked / scale[r], avail / scale[r]);
	err_offer("fewer or smaller nodes, or mapping=\"vnp\" with pinned "
	    "hosts");
}

/* Map the unpinned nodes of doc; 0 or -1 with a shortfall recorded. */
static int
mapper_embed(struct pipd *pd, struct slice *doc, const struct usage *credit)
{
	struct map_substrate *sub = NULL;
	struct map_request *req = NULL;
	struct map_result *res = NULL;
	struct map_ctx *ctx = NULL;
	int rc = -1;

	if (precheck(pd, doc, credit) == -1)
		return -1;
	if ((sub = mapper_substrate(pd, credit)) == NULL ||
	    (req = mapper_request(pd, doc)) == NULL ||
	    (res = map_result_new(req)) == NULL ||
	    (ctx = map_ctx_new(sub)) == NULL)
		goto out;
	req->colocate = 0;
	if (map_embed(ctx, MAP_ALGO_VNSM, req, res) == 0 ||
	    (pd->conf->colocate && req->nnodes > 1 && (req->colocate = 1) &&
	    map_embed(ctx, MAP_ALGO_VNSM, req, res) == 0)) {
		err_reset();
		rc = mapper_apply(pd, doc, sub, res);
		goto out;
	}
	err_reset();
	if (pd->conf->colocate && one_host(pd, doc, sub, res) == 0) {
		rc = mapper_apply(pd, doc, sub, res);
		goto out;
	}
	explain(pd, doc, ctx, sub, req->colocate);
out:
	map_ctx_free(ctx);
	map_result_free(res);
	map_request_free(req);
	map_substrate_free(sub);
	return rc;
}

/*
 * Resolve doc in place: nodes get hosts, links between two hosts get
 * paths; afterwards doc->mapping is "vnp".  old (may be NULL) is the
 * slice's previous document: its nodes keep their hosts.  credit is what
 * the slice holds now (may be NULL).  Returns 0, or -1 with the refusal
 * recorded.
 */
int
mapper_resolve(struct pipd *pd, struct slice *doc, const struct slice *old,
    const struct usage *credit)
{
	uint64_t t0 = now_us();
	int unpinned = 0;

	for (size_t i = 0; i < doc->nnodes; i++) {
		struct topo_node *nd = &doc->nodes[i];
		ssize_t o;

		if (nd->host[0] != '\0' || old == NULL)
			continue;
		if ((o = topo_node_find(old->nodes, old->nnodes, nd->name)) >= 0)
			str_lcpy(nd->host, old->nodes[o].host,
			    sizeof(nd->host));
	}
	for (size_t i = 0; i < doc->nnodes; i++)
		unpinned += doc->nodes[i].host[0] == '\0';
	if (check_pins(pd, doc) == -1)
		return -1;
	if (unpinned > 0) {
		/* The library routes links as it maps; drop given paths. */
		for (size_t i = 0; i < doc->nlinks; i++) {
			free(doc->links[i].path);
			doc->links[i].path = NULL;
			doc->links[i].npath = 0;
		}
		if (mapper_embed(pd, doc, credit) == -1)
			return -1;
	} else if (route_links(pd, doc, credit) == -1)
		return -1;
	doc->mapping = SLICE_MAP_VNP;
	log_debug("slice %s: mapped in %.3f ms", doc->name,
	    (now_us() - t0) / 1000.0);
	return 0;
}
