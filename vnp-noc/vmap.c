/*
 * Discovery at VNP: map the whole VNet onto the resources the PIPs
 * advertise, with vnsm's mapper (lib/map.h, MAP_ALGO_VNSM).
 *
 * The substrate: every advertised host (detail "full") or location
 * (detail "aggregate") is a node owned by its PIP; advertised substrate
 * links join them; a peering point is a link between the two PIPs'
 * peering hosts, when both PIPs advertise it (bandwidth: the smaller
 * of the two, when told).  A PIP that advertises nothing cannot be
 * mapped onto here.  Nodes may share a host (colocate).
 *
 * The plan: each node's PIP and host (full) or location (aggregate:
 * that PIP then maps its slice itself, within the location); each link
 * inside one PIP gets the hosts of its substrate path; a link whose
 * path crosses PIPs is logged with its peering points and becomes a
 * stub at both ends (tunnels run host to host, docs/api.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "map.h"
#include "vnpd.h"

/* Which advertised thing a substrate node stands for. */
struct vsnode {
	int pip;			/* PIP index */
	int aggregate;			/* 1: a location, 0: a host */
	char name[NAME_LEN];		/* host or location name */
};

/* Index of the substrate node for (pip, host name), or -1. */
static int
vs_find(const struct vsnode *vs, int n, int pip, const char *name)
{
	for (int i = 0; i < n; i++)
		if (vs[i].pip == pip && strcmp(vs[i].name, name) == 0)
			return i;
	return -1;
}

/* The first substrate node of pip, or -1 (aggregate peering points). */
static int
vs_first(const struct vsnode *vs, int n, int pip)
{
	for (int i = 0; i < n; i++)
		if (vs[i].pip == pip)
			return i;
	return -1;
}

static int
vs_add(struct map_substrate *sub, struct vsnode *vs, int *n,
    const struct advert_host *h, int pip, int aggregate)
{
	struct map_snode sn;

	memset(&sn, 0, sizeof(sn));
	str_lcpy(sn.name, h->name, sizeof(sn.name));	/* for messages */
	sn.cpu = h->cpu;
	sn.mem = (int64_t)h->memory;
	sn.ifaces = h->interfaces > 0 ? (int32_t)h->interfaces : MAP_NONE;
	if (!aggregate)
		str_lcpy(sn.loc, h->location, sizeof(sn.loc));
	else
		str_lcpy(sn.loc, h->name, sizeof(sn.loc));
	sn.pip = pip;
	sn.kinds = h->kinds;
	sn.x = sn.y = 0;
	if (map_snode_add(sub, &sn) < 0)
		return -1;
	vs[*n].pip = pip;
	vs[*n].aggregate = aggregate;
	str_lcpy(vs[*n].name, h->name, sizeof(vs[*n].name));
	(*n)++;
	return 0;
}

/* Build the substrate from the advertisements.  NULL on error. */
static struct map_substrate *
vmap_substrate(const struct vnpd_conf *c, struct advert *const *ads,
    const int *excluded, struct vsnode **vsp, int *nvs)
{
	struct map_substrate *sub = map_substrate_new();
	struct vsnode *vs;
	size_t total = 0;
	int n = 0;

	*vsp = NULL;
	for (size_t k = 0; k < c->npips; k++)
		if (ads[k] != NULL)
			total += ads[k]->nhosts + ads[k]->nlocations;
	if (sub == NULL || (vs = calloc(total + 1, sizeof(*vs))) == NULL) {
		map_substrate_free(sub);
		err_nomem();
		return NULL;
	}
	for (size_t k = 0; k < c->npips; k++) {
		const struct advert *a = ads[k];

		if (a == NULL || excluded[k] || a->detail == ADV_NONE)
			continue;
		for (size_t i = 0; i < a->nhosts; i++)
			if (vs_add(sub, vs, &n, &a->hosts[i], (int)k, 0) == -1)
				goto fail;
		for (size_t i = 0; i < a->nlocations; i++)
			if (vs_add(sub, vs, &n, &a->locations[i], (int)k,
			    1) == -1)
				goto fail;
		for (size_t i = 0; i < a->nlinks; i++) {
			int x = vs_find(vs, n, (int)k, a->links[i].from);
			int y = vs_find(vs, n, (int)k, a->links[i].to);

			if (x >= 0 && y >= 0 && x != y &&
			    map_slink_add(sub, x, y,
			    (int64_t)a->links[i].bandwidth, 1000) < 0)
				goto fail;
		}
	}
	/* Peering points: both sides must advertise them. */
	for (size_t k = 0; k < c->npips; k++) {
		const struct advert *a = ads[k];

		if (a == NULL || excluded[k] || a->detail == ADV_NONE)
			continue;
		for (size_t i = 0; i < a->npeerings; i++) {
			const struct advert_peering *pe = &a->peerings[i];
			ssize_t j = vnpd_pip_index(c, pe->pip);
			const struct advert *b;

			if (j <= (ssize_t)k || excluded[j] ||
			    (b = ads[j]) == NULL || b->detail == ADV_NONE)
				continue;
			for (size_t q = 0; q < b->npeerings; q++) {
				const struct advert_peering *pb = &b->peerings[q];
				int x, y;
				uint64_t bw;

				if (strcmp(pb->pip, c->pips[k].name) != 0)
					continue;
				x = vs_find(vs, n, (int)k, pe->host);
				y = vs_find(vs, n, (int)j, pb->host);
				if (x < 0)
					x = vs_first(vs, n, (int)k);
				if (y < 0)
					y = vs_first(vs, n, (int)j);
				bw = pe->bandwidth == 0 ? pb->bandwidth :
				    pb->bandwidth == 0 ? pe->bandwidth :
				    pe->bandwidth < pb->bandwidth ?
				    pe->bandwidth : pb->bandwidth;
				if (bw == 0)
					bw = BW_MAX_KBIT;
				if (x >= 0 && y >= 0 && map_slink_add(sub, x, y,
				    (int64_t)bw, 5000) < 0)
					goto fail;
			}
		}
	}
	if (map_substrate_finalize(sub) == -1)
		goto fail;
	*vsp = vs;
	*nvs = n;
	return sub;
fail:
	free(vs);
	map_substrate_free(sub);
	return NULL;
}

/* Interfaces node i uses: as declared, else one per link end. */
static int32_t
node_ifaces(const struct vnet *v, size_t i)
{
	int32_t n = 0;

	if (v->nodes[i].interfaces > 0)
		return (int32_t)v->nodes[i].interfaces;
	for (size_t l = 0; l < v->nlinks; l++)
		for (int e = 0; e < 2; e++)
			n += strcmp(v->links[l].end[e].node,
			    v->nodes[i].name) == 0;
	return n;
}

/*
 * Map v onto the advertised resources into plan p.  ads[k] is PIP k's
 * advertisement (NULL: unreachable); excluded[k] 1: do not use PIP k;
 * fixed[i] >= 0 keeps node i at that PIP and fixed_host[i] (when
 * fixed_host is not NULL and the entry not "") on that host.  0, or -1
 * with an error recorded (ERR_NO_RESOURCES when nothing fits).
 */
int
vmap_plan(const struct vnpd_conf *c, const struct vnet *v,
    struct advert *const *ads, const int *excluded, const int *fixed,
    const char (*fixed_host)[NAME_LEN], struct plan *p)
{
	struct map_substrate *sub = NULL;
	struct map_request *req = NULL;
	struct map_result *res = NULL;
	struct map_ctx *ctx = NULL;
	struct vsnode *vs = NULL;
	int nvs = 0, rc = -1;

	if ((sub = vmap_substrate(c, ads, excluded, &vs, &nvs)) == NULL)
		goto done;
	if (nvs == 0) {
		err_set(ERR_NO_RESOURCES, "no PIP advertises resources the VNP "
		    "may map onto");
		err_hint("use discovery at PIP (--discovery pip)");
		goto done;
	}
	if ((req = map_request_new((int32_t)v->nnodes,
	    (int32_t)v->nlinks)) == NULL)
		goto done;
	req->colocate = 1;
	for (size_t i = 0; i < v->nnodes; i++) {
		struct map_vnode *mv = &req->nodes[i];
		const struct topo_node *n = &v->nodes[i];

		map_vnode_init(mv);
		str_lcpy(mv->name, n->name, sizeof(mv->name));
		mv->cpu = n->cpu;
		mv->mem = (int64_t)n->memory;
		mv->ifaces = node_ifaces(v, i);
		mv->kind = (int32_t)n->kind;
		mv->maxd = -1;
		str_lcpy(mv->loc, n->location, sizeof(mv->loc));
		mv->pip = MAP_NONE;
		mv->pin = MAP_NONE;
		if (n->pip[0] != '\0') {
			ssize_t k = vnpd_pip_index(c, n->pip);

			if (k < 0) {
				err_set(ERR_NOT_FOUND, "node '%s' asks for PIP "
				    "'%s', which this VNP does not know",
				    n->name, n->pip);
				goto done;
			}
			if (excluded[k]) {
				err_set(ERR_NO_RESOURCES, "node '%s' must be at "
				    "PIP '%s', which refused it", n->name,
				    n->pip);
				goto done;
			}
			if (ads[k] == NULL || ads[k]->detail == ADV_NONE) {
				err_set(ERR_UNSUPPORTED, "node '%s' must be at "
				    "PIP '%s', which advertises no resources",
				    n->name, n->pip);
				err_hint("use discovery at PIP "
				    "(--discovery pip)");
				goto done;
			}
			mv->pip = (int32_t)k;
		}
		if (fixed != NULL && fixed[i] >= 0) {
			mv->pip = fixed[i];
			if (fixed_host != NULL && fixed_host[i][0] != '\0')
				mv->pin = vs_find(vs, nvs, fixed[i],
				    fixed_host[i]);
		}
	}
	for (size_t l = 0; l < v->nlinks; l++) {
		req->links[l].a = (int32_t)topo_node_find(v->nodes, v->nnodes,
		    v->links[l].end[0].node);
		req->links[l].b = (int32_t)topo_node_find(v->nodes, v->nnodes,
		    v->links[l].end[1].node);
		req->links[l].bw = (int64_t)v->links[l].bandwidth;
	}
	if ((ctx = map_ctx_new(sub)) == NULL ||
	    (res = map_result_new(req)) == NULL)
		goto done;
	if (map_embed(ctx, MAP_ALGO_VNSM, req, res) == -1)
		goto done;
	for (size_t i = 0; i < v->nnodes; i++) {
		const struct vsnode *s = &vs[res->node[i]];

		p->pip[i] = s->pip;
		if (s->aggregate)
			str_lcpy(p->loc[i], s->name, sizeof(p->loc[i]));
		else
			str_lcpy(p->host[i], s->name, sizeof(p->host[i]));
	}
	for (size_t k = 0; k < c->npips; k++)
		p->pinned[k] = ads[k] != NULL && ads[k]->detail == ADV_FULL;
	for (size_t l = 0; l < v->nlinks; l++) {
		int32_t a = req->links[l].a, b = req->links[l].b;
		int32_t off = res->path_off[l], len = res->path_off[l + 1] - off;
		int32_t cur = res->node[a];

		if (len == 0)
			continue;
		if ((p->path[l] = calloc((size_t)len + 1,
		    sizeof(*p->path[l]))) == NULL) {
			err_nomem();
			goto done;
		}
		str_lcpy(p->path[l][0], vs[cur].name, sizeof(p->path[l][0]));
		p->npath[l] = 1;
		for (int32_t h = 0; h < len; h++) {
			const struct map_slink *sl = &sub->links[res->path[off + h]];
			int32_t next = sl->a == cur ? sl->b : sl->a;

			if (vs[next].pip != vs[cur].pip)
				log_info("vnet %s: link %s crosses from PIP %s "
				    "at %s to PIP %s at %s", v->name,
				    v->links[l].name, c->pips[vs[cur].pip].name,
				    vs[cur].name, c->pips[vs[next].pip].name,
				    vs[next].name);
			cur = next;
			str_lcpy(p->path[l][p->npath[l]++], vs[cur].name,
			    sizeof(p->path[l][0]));
		}
		(void)b;
	}
	rc = 0;
done:
	map_result_free(res);
	map_ctx_free(ctx);
	map_request_free(req);
	map_substrate_free(sub);
	free(vs);
	return rc;
}
