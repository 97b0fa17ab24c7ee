/*
 * Discovery at PIP: split a VNet into one partial topology per PIP and
 * let each PIP map its part.  Which PIP takes a node: the one the node
 * names (pip=); else one that advertises the node's location; else the
 * PIP of a neighbour already placed, if it still has room; else the PIP
 * with the most free CPU that runs the node's kind.  "Room" is what the
 * PIPs' advertisements say, less what this split already gave them; a
 * PIP that tells nothing (detail none, or no answer) is taken at its
 * word when asked.  PIPs the transaction excluded (they refused) are
 * never chosen for a node that may go elsewhere.
 *
 * split_build() turns a plan (from here or from vmap.c) into slices:
 * links with both ends in one PIP stay links; the others become a stub
 * at each end, with the peer's PIP and node (underlays come later).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "vnpd.h"

struct plan *
plan_new(const struct vnet *v, size_t npips)
{
	struct plan *p = calloc(1, sizeof(*p));

	if (p == NULL)
		goto fail;
	p->nnodes = v->nnodes;
	p->nlinks = v->nlinks;
	p->pip = calloc(v->nnodes + 1, sizeof(*p->pip));
	p->host = calloc(v->nnodes + 1, sizeof(*p->host));
	p->loc = calloc(v->nnodes + 1, sizeof(*p->loc));
	p->path = calloc(v->nlinks + 1, sizeof(*p->path));
	p->npath = calloc(v->nlinks + 1, sizeof(*p->npath));
	p->pinned = calloc(npips + 1, sizeof(*p->pinned));
	if (p->pip == NULL || p->host == NULL || p->loc == NULL ||
	    p->path == NULL || p->npath == NULL || p->pinned == NULL)
		goto fail;
	for (size_t i = 0; i < v->nnodes; i++)
		p->pip[i] = -1;
	return p;
fail:
	plan_free(p);
	err_nomem();
	return NULL;
}

void
plan_free(struct plan *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; p->path != NULL && i < p->nlinks; i++)
		free(p->path[i]);
	free(p->pip);
	free(p->host);
	free(p->loc);
	free(p->path);
	free(p->npath);
	free(p->pinned);
	free(p);
}

/* What a PIP still has, as far as its advertisement tells. */
struct room {
	int known;		/* 0: the PIP told nothing; take it at its word */
	int64_t cpu;		/* milli-cores left */
	int64_t mem;		/* MiB left */
	unsigned kinds;		/* bit (1 << node_kind) per kind it runs */
};

static void
room_init(struct room *r, const struct advert *a)
{
	memset(r, 0, sizeof(*r));
	if (a == NULL || a->detail == ADV_NONE)
		return;
	r->known = 1;
	for (size_t i = 0; i < a->nhosts; i++) {
		r->cpu += a->hosts[i].cpu;
		r->mem += (int64_t)a->hosts[i].memory;
		r->kinds |= a->hosts[i].kinds;
	}
	for (size_t i = 0; i < a->nlocations; i++) {
		r->cpu += a->locations[i].cpu;
		r->mem += (int64_t)a->locations[i].memory;
		r->kinds |= a->locations[i].kinds;
	}
}

static int
room_fits(const struct room *r, const struct topo_node *n)
{
	if (!r->known)
		return 1;
	return r->cpu >= n->cpu && r->mem >= (int64_t)n->memory &&
	    (r->kinds & (1u << n->kind)) != 0;
}

static void
room_take(struct room *r, const struct topo_node *n)
{
	r->cpu -= n->cpu;
	r->mem -= (int64_t)n->memory;
}

/* 1 if advertisement a offers location loc. */
static int
advert_has_location(const struct advert *a, const char *loc)
{
	if (a == NULL)
		return 0;
	for (size_t i = 0; i < a->nhosts; i++)
		if (strcmp(a->hosts[i].location, loc) == 0)
			return 1;
	for (size_t i = 0; i < a->nlocations; i++)
		if (strcmp(a->locations[i].name, loc) == 0)
			return 1;
	return 0;
}

/* Index of the PIP of a placed neighbour of node i that fits it, or -1. */
static int
neighbour_pip(const struct vnet *v, const struct plan *p, size_t i,
    const struct room *rooms, const int *excluded)
{
	for (size_t l = 0; l < v->nlinks; l++)
		for (int e = 0; e < 2; e++) {
			ssize_t o;

			if (strcmp(v->links[l].end[e].node, v->nodes[i].name))
				continue;
			o = topo_node_find(v->nodes, v->nnodes,
			    v->links[l].end[1 - e].node);
			if (o < 0 || p->pip[o] < 0 || excluded[p->pip[o]])
				continue;
			if (room_fits(&rooms[p->pip[o]], &v->nodes[i]))
				return p->pip[o];
		}
	return -1;
}

/*
 * Say why no PIP could take node n: what the best of them still has,
 * so the shortfall names the resource that really fell short.
 */
static void
no_room(const struct vnpd_conf *c, const struct topo_node *n,
    const int *excluded, const struct room *rooms)
{
	int64_t cpu = 0, mem = 0;
	unsigned kinds = 0;

	for (size_t k = 0; k < c->npips; k++) {
		if (excluded[k] || !rooms[k].known)
			continue;
		kinds |= rooms[k].kinds;
		/* Only PIPs that run the kind count for CPU and memory. */
		if ((rooms[k].kinds & (1u << n->kind)) == 0)
			continue;
		if (rooms[k].cpu > cpu)
			cpu = rooms[k].cpu;
		if (rooms[k].mem > mem)
			mem = rooms[k].mem;
	}
	err_set(ERR_NO_RESOURCES, "no PIP can take node '%s' (%u milli-CPU, "
	    "%llu MiB, kind %s)", n->name, n->cpu,
	    (unsigned long long)n->memory, node_kind_to_string(n->kind));
	if (kinds == 0)
		err_hint("no PIP offers any host now: are their agents up "
		    "and reporting?");
	else if ((kinds & (1u << n->kind)) == 0)
		err_hint("no PIP runs kind %s", node_kind_to_string(n->kind));
	else if (cpu < (int64_t)n->cpu)
		err_shortfall("cpu", "milli-CPU", n->cpu, (double)cpu);
	else
		err_shortfall("memory", "MiB", (double)n->memory,
		    (double)(mem > 0 ? mem : 0));
}

/*
 * Place one node on a PIP by the rules above.  Returns the PIP index, or
 * -1 with an error recorded.
 */
static int
split_one(const struct vnpd_conf *c, const struct vnet *v, struct plan *p,
    size_t i, struct advert *const *ads, const int *excluded,
    struct room *rooms)
{
	const struct topo_node *n = &v->nodes[i];
	int best = -1;

	if (n->pip[0] != '\0') {
		ssize_t k = vnpd_pip_index(c, n->pip);

		if (k < 0)
			return err_set(ERR_NOT_FOUND, "node '%s' asks for PIP "
			    "'%s', which this VNP does not know", n->name,
			    n->pip);
		if (excluded[k])
			return err_set(ERR_NO_RESOURCES, "node '%s' must be at "
			    "PIP '%s', which refused it", n->name, n->pip);
		return (int)k;
	}
	if (n->location[0] != '\0') {
		for (size_t k = 0; k < c->npips; k++)
			if (!excluded[k] && advert_has_location(ads[k],
			    n->location) && room_fits(&rooms[k], n))
				return (int)k;
		err_set(ERR_NO_RESOURCES, "no PIP offers node '%s' a place "
		    "at location '%s'", n->name, n->location);
		err_hint("drop location=, or name a location a PIP advertises");
		return -1;
	}
	if ((best = neighbour_pip(v, p, i, rooms, excluded)) >= 0)
		return best;
	for (size_t k = 0; k < c->npips; k++) {
		if (excluded[k] || !room_fits(&rooms[k], n))
			continue;
		if (best < 0 || (rooms[k].known && (!rooms[best].known ||
		    rooms[k].cpu > rooms[best].cpu)))
			best = (int)k;
	}
	if (best < 0)
		no_room(c, n, excluded, rooms);
	return best;
}

/*
 * Decide the PIP of every node of v into p->pip.  ads[k] is PIP k's
 * advertisement or NULL; excluded[k] is 1 for a PIP not to use;
 * fixed[i] (may be NULL) >= 0 keeps node i where it is.  Nodes with a
 * constraint go first, then the others in document order.  0, or -1
 * with an error recorded (p partly filled).
 */
int
split_assign(const struct vnpd_conf *c, const struct vnet *v,
    struct advert *const *ads, const int *excluded, const int *fixed,
    struct plan *p)
{
	struct room rooms[VNPD_PIPS_MAX];

	for (size_t k = 0; k < c->npips; k++)
		room_init(&rooms[k], ads[k]);
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < v->nnodes; i++) {
			const struct topo_node *n = &v->nodes[i];
			int k;

			if (p->pip[i] >= 0)
				continue;
			if (pass == 0 && (fixed == NULL || fixed[i] < 0))
				continue;
			if (pass == 1 && n->pip[0] == '\0' &&
			    n->location[0] == '\0')
				continue;
			if (pass == 0)
				k = fixed[i];
			else if ((k = split_one(c, v, p, i, ads, excluded,
			    rooms)) < 0)
				return -1;
			p->pip[i] = k;
			room_take(&rooms[k], n);
		}
	for (size_t k = 0; k < c->npips; k++)
		p->pinned[k] = 0;
	return 0;
}

/* Append a copy of l to arr (n entries).  0 or -1. */
static int
links_add(struct topo_link **arr, size_t *n, const struct topo_link *l)
{
	struct topo_link *na = realloc(*arr, (*n + 1) * sizeof(*na));

	if (na == NULL)
		return err_nomem();
	*arr = na;
	if (topo_link_copy(&na[*n], l) == -1)
		return -1;
	(*n)++;
	return 0;
}

/* Build PIP k's slice from plan p.  NULL with an error recorded. */
static struct slice *
split_slice(const struct vnpd_conf *c, const struct vnet *v,
    const struct plan *p, size_t k, int64_t expires)
{
	struct slice *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		err_nomem();
		return NULL;
	}
	if ((size_t)snprintf(s->name, sizeof(s->name), "%s.%s", v->name,
	    c->pips[k].name) >= sizeof(s->name)) {
		free(s);
		err_set(ERR_INVALID, "slice name '%s.%s' is longer than %d "
		    "characters", v->name, c->pips[k].name, NAME_LEN - 1);
		err_hint("give the VNet a shorter name");
		return NULL;
	}
	str_lcpy(s->vnet, v->name, sizeof(s->vnet));
	str_lcpy(s->pip, c->pips[k].name, sizeof(s->pip));
	s->mapping = p->pinned[k] ? SLICE_MAP_VNP : SLICE_MAP_PIP;
	s->expires = expires;
	if ((s->nodes = calloc(v->nnodes + 1, sizeof(*s->nodes))) == NULL)
		goto nomem;
	for (size_t i = 0; i < v->nnodes; i++) {
		struct topo_node *n;

		if (p->pip[i] != (int)k)
			continue;
		n = &s->nodes[s->nnodes];
		if (topo_node_copy(n, &v->nodes[i]) == -1)
			goto fail;
		s->nnodes++;
		n->pip[0] = '\0';
		str_lcpy(n->host, p->host[i], sizeof(n->host));
		if (p->loc[i][0] != '\0')
			str_lcpy(n->location, p->loc[i], sizeof(n->location));
		if (!p->pinned[k])
			n->host[0] = '\0';
	}
	for (size_t l = 0; l < v->nlinks; l++) {
		const struct topo_link *vl = &v->links[l];
		ssize_t a = topo_node_find(v->nodes, v->nnodes, vl->end[0].node);
		ssize_t b = topo_node_find(v->nodes, v->nnodes, vl->end[1].node);
		struct topo_link *o;

		if (a < 0 || b < 0)
			continue;
		if (p->pip[a] == (int)k && p->pip[b] == (int)k) {
			if (links_add(&s->links, &s->nlinks, vl) == -1)
				goto fail;
			o = &s->links[s->nlinks - 1];
			free(o->path);
			o->path = NULL;
			o->npath = 0;
			if (p->pinned[k] && p->npath[l] >= 2) {
				o->path = calloc(p->npath[l], sizeof(*o->path));
				if (o->path == NULL)
					goto nomem;
				memcpy(o->path, p->path[l],
				    p->npath[l] * sizeof(*o->path));
				o->npath = p->npath[l];
			}
			continue;
		}
		if (p->pip[a] != (int)k && p->pip[b] != (int)k)
			continue;
		/* A stub: end[0] is ours, the peer is at the other PIP. */
		if (links_add(&s->stubs, &s->nstubs, vl) == -1)
			goto fail;
		o = &s->stubs[s->nstubs - 1];
		free(o->path);
		o->path = NULL;
		o->npath = 0;
		if (p->pip[a] != (int)k) {
			o->end[0] = vl->end[1];
			o->end[1] = vl->end[0];
		}
		memset(&o->end[1], 0, sizeof(o->end[1]));
		str_lcpy(o->peer_pip, c->pips[p->pip[p->pip[a] == (int)k ?
		    b : a]].name, sizeof(o->peer_pip));
		str_lcpy(o->peer_node, p->pip[a] == (int)k ? vl->end[1].node :
		    vl->end[0].node, sizeof(o->peer_node));
		o->peer_host[0] = '\0';
		o->peer_underlay = 0;
	}
	return s;
nomem:
	err_nomem();
fail:
	slice_free(s);
	return NULL;
}

/*
 * One part per PIP that got a node in plan p, in PIP order, each with
 * its slice (state PART_NEW).  0, or -1 with an error recorded.
 */
int
split_build(const struct vnpd_conf *c, const struct vnet *v,
    const struct plan *p, int64_t expires, struct vn_part **parts,
    size_t *nparts)
{
	struct vn_part *out = calloc(c->npips + 1, sizeof(*out));
	size_t n = 0;

	if (out == NULL)
		return err_nomem();
	for (size_t k = 0; k < c->npips; k++) {
		int used = 0;

		for (size_t i = 0; i < v->nnodes; i++)
			used |= p->pip[i] == (int)k;
		if (!used)
			continue;
		if ((out[n].sl = split_slice(c, v, p, k, expires)) == NULL) {
			vn_parts_free(out, n);
			return -1;
		}
		str_lcpy(out[n].pip, c->pips[k].name, sizeof(out[n].pip));
		str_lcpy(out[n].slice, out[n].sl->name, sizeof(out[n].slice));
		out[n].state = PART_NEW;
		n++;
	}
	*parts = out;
	*nparts = n;
	return 0;
}
