/*
 * Host slices: check a request, compute its difference to what this host
 * has, apply it step by step with an undo log, record it, answer the
 * manifest fragment.
 *
 * Order of an apply (each step that changes the host logs how to undo
 * itself; any failure replays the log backwards and answers the error):
 *
 *   1. check (document, pinned host, kinds, images, capacity)
 *   2. plan: the new slice in memory, interfaces numbered ethN
 *   3. write-ahead: an "intent" row per node to make (one transaction)
 *   4. bridges of new local links
 *   5. nodes: claim from a pool or create+start on demand   (virtualization)
 *   6. kept nodes: detach / attach changed interfaces, routes  (topology)
 *   7. stubs: tunnel link ends, retargeted when their peer changed;
 *      transits: two tunnel ends joined here (transits.c), likewise.
 *      A link that turns from stub to transit or back (its node leaves
 *      or reaches this host) holds one key: the old end goes first.
 *   8. commit: node rows "up", the slice and its links (one transaction)
 *   9. only now remove what the slice no longer lists (nodes, bridges,
 *      tunnel ends): not undoable, so after the point of no return; a
 *      crash before it leaves resources the state does not know, which
 *      the next start removes.
 */
#include <sys/stat.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include "doc.h"
#include "error.h"
#include "log.h"
#include "manifest.h"
#include "metrics.h"
#include "slice.h"
#include "store.h"
#include "substrated.h"
#include "tunnel.h"

/* One entry of the undo log of an apply. */
enum undo_kind { U_NODE, U_ATTACH, U_DETACH, U_BRIDGE, U_STUB, U_GW };
struct undo {
	enum undo_kind kind;
	enum sd_slot slot;
	char id[VNODE_ID_MAX];		/* node (U_NODE, U_ATTACH, U_DETACH) */
	struct vnode_if ifc;		/* U_ATTACH: name; U_DETACH: all */
	char bridge[IFNAMSIZ];		/* U_BRIDGE */
	struct sd_link *link;		/* U_STUB: in the new slice */
	struct sd_node *node;		/* U_GW: the gateway as it was (old) */
};

struct apply {
	struct sd *sd;
	struct slice *req;		/* the parsed request */
	struct sd_slice *old;		/* what we have; NULL if new */
	struct sd_slice *nw;		/* what we make */
	struct undo *undo;
	size_t nundo, capundo;
	double t_virt, t_topo;		/* ms spent per step */
};

struct sd_slice *
sd_slice_find(struct sd *sd, const char *name)
{
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

struct sd_node *
sd_node_find(struct sd_slice *s, const char *name)
{
	for (struct sd_node *n = s != NULL ? s->nodes : NULL; n != NULL;
	    n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static struct sd_link *
link_find(struct sd_slice *s, const char *name)
{
	for (struct sd_link *l = s != NULL ? s->links : NULL; l != NULL;
	    l = l->next)
		if (strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

void
sd_slice_free(struct sd_slice *s)
{
	if (s == NULL)
		return;
	while (s->nodes != NULL) {
		struct sd_node *n = s->nodes;

		s->nodes = n->next;
		free(n);
	}
	while (s->links != NULL) {
		struct sd_link *l = s->links;

		s->links = l->next;
		free(l);
	}
	sd_transits_free(s->transits);
	free(s->doc);
	free(s);
}

enum vnode_kind
sd_vkind(enum node_kind k)
{
	switch (k) {
	case NODE_VM:
		return VNODE_VM;
	case NODE_CONTAINER:
		return VNODE_CONTAINER;
	case NODE_GATEWAY:
		return VNODE_GATEWAY;
	default:
		return VNODE_NETNS;
	}
}

/* Sum of what the nodes of every slice but skip take. */
static void
use_except(struct sd *sd, const struct sd_slice *skip, uint32_t *cpu,
    uint64_t *mem, unsigned *ifs)
{
	*cpu = 0;
	*mem = 0;
	*ifs = 0;
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next) {
		if (s == skip)
			continue;
		for (struct sd_node *n = s->nodes; n != NULL; n = n->next) {
			*cpu += n->cpu;
			*mem += n->memory;
			*ifs += (unsigned)n->spec.nifs;
		}
	}
}

void
sd_use(struct sd *sd, uint32_t *cpu, uint64_t *mem, unsigned *ifs)
{
	use_except(sd, NULL, cpu, mem, ifs);
}

/* Is image known for kind here?  0, or -1 with ERR_NOT_FOUND. */
static int
image_check(struct sd *sd, const struct slice *sl, const struct topo_node *nd)
{
	const struct sd_conf *c = sd->conf;
	char path[512], where[256];
	struct stat sb;

	snprintf(where, sizeof(where), "/slice[@name='%s']/node[@name='%s']",
	    sl->name, nd->name);
	if (nd->kind == NODE_NETNS || nd->kind == NODE_GATEWAY) {
		for (size_t i = 0; i < c->nimages; i++)
			if (strcmp(c->images[i], nd->image) == 0)
				return 0;
		err_at(ERR_NOT_FOUND, where, nd->line, "image '%s' of node "
		    "'%s' is not known on host %s", nd->image, nd->name,
		    c->host);
		err_hint("netns nodes here take the images listed in "
		    "netns-images (%s)", c->nimages > 0 ? c->images[0] : "none");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", c->imgdir, nd->image,
	    nd->kind == NODE_VM ? "vmlinuz" : "rootfs");
	if (stat(path, &sb) == 0)
		return 0;
	err_at(ERR_NOT_FOUND, where, nd->line, "image '%s' of node '%s' is "
	    "not known on host %s (no %s)", nd->image, nd->name, c->host, path);
	err_hint("build it with 'make images' and set image-dir");
	return -1;
}

/*
 * Step 1: everything that can be said before touching the host.  Every
 * problem is recorded; returns 0 or -1.
 */
static int
check(struct apply *a)
{
	struct sd *sd = a->sd;
	const struct sd_conf *c = sd->conf;
	const struct slice *sl = a->req;
	uint32_t cpu, ucpu;
	uint64_t mem, umem;
	unsigned ifs, uifs;
	char where[256];
	int rc = 0;

	if (sl->mapping != SLICE_MAP_VNP) {
		err_at(ERR_INVALID, "/slice", 0, "slice '%s' is not a host "
		    "slice: its mapping is 'pip'", sl->name);
		err_hint("send mapping=\"vnp\" with every node pinned to %s",
		    c->host);
		return -1;
	}
	use_except(sd, a->old, &ucpu, &umem, &uifs);
	cpu = 0;
	mem = 0;
	ifs = 0;
	for (size_t i = 0; i < sl->nnodes; i++) {
		const struct topo_node *nd = &sl->nodes[i];
		int slot = sd_kind_slot(nd->kind);
		unsigned nif = 0;

		snprintf(where, sizeof(where),
		    "/slice[@name='%s']/node[@name='%s']", sl->name, nd->name);
		if (strcmp(nd->host, c->host) != 0) {
			rc = err_at(ERR_INVALID, where, nd->line, "node '%s' "
			    "is pinned to host '%s', not to this host (%s)",
			    nd->name, nd->host, c->host);
			continue;
		}
		if (slot < 0 || sd->drv[slot] == NULL) {
			rc = err_at(ERR_UNSUPPORTED, where, nd->line, "node "
			    "'%s' is a %s node, but host %s cannot make one: "
			    "%s", nd->name, node_kind_to_string(nd->kind),
			    c->host, slot < 0 ? "unknown kind" :
			    sd->why[slot]);
			continue;
		}
		if (image_check(sd, sl, nd) == -1)
			rc = -1;
		if (nd->kind == NODE_GATEWAY && sd_gw_check(sl, nd, where) ==
		    -1)
			rc = -1;
		for (size_t j = 0; j < sl->nlinks; j++)
			nif += (strcmp(sl->links[j].end[0].node, nd->name) == 0)
			    + (strcmp(sl->links[j].end[1].node, nd->name) == 0);
		for (size_t j = 0; j < sl->nstubs; j++)
			nif += strcmp(sl->stubs[j].end[0].node, nd->name) == 0;
		if (nif > VNODE_IF_MAX)
			rc = err_at(ERR_UNSUPPORTED, where, nd->line, "node "
			    "'%s' has %u interfaces; a node here has at most "
			    "%d", nd->name, nif, VNODE_IF_MAX);
		if (nd->nroutes > VNODE_ROUTE_MAX)
			rc = err_at(ERR_UNSUPPORTED, where, nd->line, "node "
			    "'%s' has %zu routes; at most %d", nd->name,
			    nd->nroutes, VNODE_ROUTE_MAX);
		cpu += nd->cpu;
		mem += nd->memory;
		ifs += nif;
		if (rc == 0 && ucpu + cpu > c->cpu) {
			rc = err_at(ERR_NO_RESOURCES, where, nd->line, "not "
			    "enough CPU for node '%s' on host %s", nd->name,
			    c->host);
			err_shortfall("cpu", "cores", cpu / 1000.0,
			    (c->cpu - ucpu) / 1000.0);
		} else if (rc == 0 && umem + mem > c->memory) {
			rc = err_at(ERR_NO_RESOURCES, where, nd->line, "not "
			    "enough memory for node '%s' on host %s", nd->name,
			    c->host);
			err_shortfall("memory", "MiB", (double)mem,
			    (double)(c->memory - umem));
			err_hint("ask for less memory, or place '%s' on "
			    "another host", nd->name);
		} else if (rc == 0 && uifs + ifs > c->interfaces) {
			rc = err_at(ERR_NO_RESOURCES, where, nd->line, "not "
			    "enough virtual interfaces for node '%s' on host "
			    "%s", nd->name, c->host);
			err_shortfall("interfaces", "interfaces", ifs,
			    c->interfaces - uifs);
		}
	}
	for (size_t j = 0; j < sl->nstubs; j++) {
		const struct topo_link *st = &sl->stubs[j];

		snprintf(where, sizeof(where),
		    "/slice[@name='%s']/stub[@name='%s']", sl->name, st->name);
		if (sd->tun == NULL && !c->sim)
			rc = err_at(ERR_UNSUPPORTED, where, st->line, "stub "
			    "'%s' needs a tunnel, but host %s has no tunnel "
			    "backend: %s", st->name, c->host, sd->tun_why);
		else if (c->underlay == 0)
			rc = err_at(ERR_UNSUPPORTED, where, st->line, "stub "
			    "'%s' needs a tunnel, but host %s has no underlay "
			    "address configured", st->name, c->host);
	}
	return rc;
}

/* Host-side device name of interface ifname of node id (<= 15 bytes). */
static void
host_end_name(const char *id, const char *ifname, char *out, size_t size)
{
	uint32_t h = 2166136261u;

	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = ifname; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(out, size, "vh%08x.%s", h, ifname + (strncmp(ifname, "eth",
	    3) == 0 ? 3 : 0));
}

/* The interface of node n that serves link, or NULL. */
static struct vnode_if *
if_of_link(struct sd_node *n, const char *link)
{
	for (size_t i = 0; i < n->spec.nifs; i++)
		if (strcmp(n->iflink[i], link) == 0)
			return &n->spec.ifs[i];
	return NULL;
}

/* The lowest ethN not used by spec. */
static void
free_ifname(const struct vnode_spec *spec, char *out, size_t size)
{
	char name[IFNAMSIZ];

	for (unsigned k = 0;; k++) {
		snprintf(name, sizeof(name), "eth%u", k);
		if (vnode_spec_if(spec, name) == NULL) {
			str_lcpy(out, name, size);
			return;
		}
	}
}

/* Fill interface f for link l at end e (addresses, MTU, bridge). */
static void
if_fill(struct sd *sd, struct vnode_if *f, const struct sd_node *n,
    const struct topo_link *tl, int e, const struct sd_link *l)
{
	const struct topo_end *end = &tl->end[e];

	if (end->has_addr) {
		f->addr.s_addr = htonl(end->addr.addr);
		f->prefix = end->addr.len;
	}
	if (l->stub)
		f->mtu = l->mtu;
	else if (tl->mtu != 0)
		f->mtu = tl->mtu;
	/*
	 * A bridged stub's bridge exists only while its tunnel end does,
	 * which puts the host-side device in it (sd_stub_up): the driver
	 * must not look for it when it makes the node.
	 */
	if (!l->stub)
		str_lcpy(f->bridge, l->bridge, sizeof(f->bridge));
	host_end_name(n->id, f->name, f->peer, sizeof(f->peer));
}

/* Same interface as far as the host is concerned? */
static int
if_same(const struct vnode_if *a, const struct vnode_if *b)
{
	return a->addr.s_addr == b->addr.s_addr && a->prefix == b->prefix &&
	    a->mtu == b->mtu && strcmp(a->bridge, b->bridge) == 0;
}

/*
 * Step 2: the new slice in memory.  Kept nodes and links keep their ids;
 * a kept node's interfaces keep their names, a new link takes the lowest
 * free ethN.  New nodes get fresh ids.  No host change.
 */
static int
plan(struct apply *a)
{
	struct sd *sd = a->sd;
	const struct slice *sl = a->req;
	struct sd_slice *nw;

	if ((nw = calloc(1, sizeof(*nw))) == NULL)
		return err_nomem();
	a->nw = nw;
	str_lcpy(nw->name, sl->name, sizeof(nw->name));
	str_lcpy(nw->vnet, sl->vnet, sizeof(nw->vnet));
	/* Links first: interfaces need their bridge and MTU. */
	for (size_t k = 0; k < sl->nlinks + sl->nstubs; k++) {
		int stub = k >= sl->nlinks;
		const struct topo_link *tl = stub ? &sl->stubs[k - sl->nlinks] :
		    &sl->links[k];
		struct sd_link *l, *ol = link_find(a->old, tl->name), **tail;

		if ((l = calloc(1, sizeof(*l))) == NULL)
			return err_nomem();
		for (tail = &nw->links; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = l;
		str_lcpy(l->name, tl->name, sizeof(l->name));
		l->stub = stub;
		l->encap = tl->encap;
		l->key = tl->key;
		l->remote = tl->peer_underlay;
		str_lcpy(l->node[0], tl->end[0].node, sizeof(l->node[0]));
		if (!stub)
			str_lcpy(l->node[1], tl->end[1].node,
			    sizeof(l->node[1]));
		if (ol != NULL && ol->stub == stub)
			str_lcpy(l->id, ol->id, sizeof(l->id));
		else
			sd_new_id(sd->conf, 'l', l->id, sizeof(l->id));
		if (stub) {
			ssize_t ni = topo_node_find(sl->nodes, sl->nnodes,
			    tl->end[0].node);

			l->mtu = sd_stub_mtu(sd, l->encap, tl->mtu);
			if (sd_stub_bridged(sd, l->encap, ni < 0 ?
			    ATTACH_DIRECT : sl->nodes[ni].attach))
				sd_bridge_name(l->id, l->bridge,
				    sizeof(l->bridge));
		} else
			sd_bridge_name(l->id, l->bridge, sizeof(l->bridge));
	}
	for (size_t i = 0; i < sl->nnodes; i++) {
		const struct topo_node *nd = &sl->nodes[i];
		struct sd_node *n, *on = sd_node_find(a->old, nd->name), **tail;

		if ((n = calloc(1, sizeof(*n))) == NULL)
			return err_nomem();
		for (tail = &nw->nodes; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = n;
		str_lcpy(n->name, nd->name, sizeof(n->name));
		n->kind = nd->kind;
		n->slot = sd_kind_slot(nd->kind);
		n->cpu = nd->cpu;
		n->memory = nd->memory;
		str_lcpy(n->image, nd->image, sizeof(n->image));
		if (on != NULL && (on->kind != n->kind ||
		    strcmp(on->image, n->image) != 0)) {
			err_at(ERR_UNSUPPORTED, NULL, nd->line, "node '%s' "
			    "cannot change its kind or image in place",
			    nd->name);
			err_hint("remove the node in one request and add it "
			    "(under any name) in the next");
			return -1;
		}
		if (on != NULL) {
			/* Kept: start from what exists. */
			str_lcpy(n->id, on->id, sizeof(n->id));
			n->pooled = on->pooled;
			n->state = on->state;
			n->spec = on->spec;
			memcpy(n->iflink, on->iflink, sizeof(n->iflink));
		} else {
			sd_new_id(sd->conf, 'n', n->id, sizeof(n->id));
			n->state = VNODE_ST_RUNNING;
			str_lcpy(n->spec.id, n->id, sizeof(n->spec.id));
			str_lcpy(n->spec.name, n->name, sizeof(n->spec.name));
			n->spec.kind = sd_vkind(n->kind);
			n->spec.cpu_milli = n->cpu;
			n->spec.mem_mib = (unsigned)n->memory;
			if (n->slot != SD_SLOT_NETNS)
				str_lcpy(n->spec.image, n->image,
				    sizeof(n->spec.image));
			if (n->slot == SD_SLOT_NETNS && sd->conf->netns_limits)
				n->spec.flags |= VNODE_F_CGROUP;
		}
		if (n->kind == NODE_GATEWAY) {
			const struct topo_link *st = sd_gw_stub(sl, n->name);

			memset(&n->gw, 0, sizeof(n->gw));
			if (st != NULL) {
				str_lcpy(n->gw.subscriber, st->peer_host[0] !=
				    '\0' ? st->peer_host : st->peer_node,
				    sizeof(n->gw.subscriber));
				str_lcpy(n->gw.stub, st->name,
				    sizeof(n->gw.stub));
			}
			n->gw.c_vlan = nd->gw.c_vlan;
			n->gw.s_vlan = nd->gw.s_vlan;
		}
		/* Routes: always as asked. */
		n->spec.nroutes = nd->nroutes;
		for (size_t r = 0; r < nd->nroutes; r++) {
			n->spec.routes[r].dst.s_addr = htonl(nd->routes[r].to.addr);
			n->spec.routes[r].prefix = nd->routes[r].to.len;
			n->spec.routes[r].via.s_addr = htonl(nd->routes[r].via);
		}
	}
	return 0;
}

/*
 * The interfaces node n should have in the new slice, into want (with
 * iflinks): kept names for links it already served with the same
 * settings, fresh ethN for the rest.
 */
static void
want_ifs(struct apply *a, struct sd_node *n, struct vnode_spec *want,
    char (*wlink)[NAME_LEN])
{
	const struct slice *sl = a->req;
	struct sd_node *on = sd_node_find(a->old, n->name);

	*want = n->spec;
	want->nifs = 0;
	/* Pass 1: keep names of links still served. */
	for (size_t k = 0; k < sl->nlinks + sl->nstubs; k++) {
		int stub = k >= sl->nlinks;
		const struct topo_link *tl = stub ? &sl->stubs[k - sl->nlinks] :
		    &sl->links[k];

		for (int e = 0; e < (stub ? 1 : 2); e++) {
			struct vnode_if *f, *of;

			if (strcmp(tl->end[e].node, n->name) != 0)
				continue;
			of = on != NULL ? if_of_link(on, tl->name) : NULL;
			f = &want->ifs[want->nifs];
			memset(f, 0, sizeof(*f));
			if (of != NULL)
				str_lcpy(f->name, of->name, sizeof(f->name));
			if_fill(a->sd, f, n, tl, e, link_find(a->nw,
			    tl->name));
			str_lcpy(wlink[want->nifs], tl->name, NAME_LEN);
			want->nifs++;
		}
	}
	/* Pass 2: names for the new ones, lowest free first. */
	for (size_t i = 0; i < want->nifs; i++) {
		if (want->ifs[i].name[0] != '\0')
			continue;
		free_ifname(want, want->ifs[i].name, sizeof(want->ifs[i].name));
		host_end_name(n->id, want->ifs[i].name, want->ifs[i].peer,
		    sizeof(want->ifs[i].peer));
	}
}

static int
undo_push(struct apply *a, const struct undo *u)
{
	if (a->nundo == a->capundo) {
		size_t cap = a->capundo ? a->capundo * 2 : 16;
		struct undo *nu = reallocarray(a->undo, cap, sizeof(*nu));

		if (nu == NULL)
			return err_nomem();
		a->undo = nu;
		a->capundo = cap;
	}
	a->undo[a->nundo++] = *u;
	return 0;
}

/* The request's node called name (it is there: plan made n from it). */
static const struct topo_node *
req_node(const struct slice *sl, const char *name)
{
	ssize_t i = topo_node_find(sl->nodes, sl->nnodes, name);

	return i < 0 ? NULL : &sl->nodes[i];
}

/*
 * Undo of a gateway's settings: the old slice's <gateway> again, on the
 * node as it was (its document is parsed once more: failures only).
 */
static void
gw_undo(struct apply *a, struct sd_node *on)
{
	struct slice *old;
	const struct topo_node *nd;

	if (a->old == NULL || a->old->doc == NULL || (old = slice_parse(
	    a->old->doc, strlen(a->old->doc), a->old->name)) == NULL) {
		log_warnx("undo: gateway %s: old settings unreadable", on->id);
		return;
	}
	nd = req_node(old, on->name);
	if (sd_gw_apply(a->sd, a->sd->drv[on->slot], on, nd != NULL ?
	    &nd->gw : NULL, 0) == -1)
		log_warnx("undo: gateway %s: %s", on->id, err_last()->msg);
	slice_free(old);
}

/* Replay the undo log backwards; errors are logged, not returned. */
static void
undo_all(struct apply *a)
{
	struct sd *sd = a->sd;

	while (a->nundo > 0) {
		struct undo *u = &a->undo[--a->nundo];
		struct drv *d = sd->drv[u->slot];
		int r = 0;

		switch (u->kind) {
		case U_NODE:
			r = d->ops->delete(d, u->id);
			sd_gw_forget(sd, u->id);
			break;
		case U_GW:
			gw_undo(a, u->node);
			break;
		case U_ATTACH:
			r = d->ops->detach(d, u->id, u->ifc.name);
			break;
		case U_DETACH:
			r = d->ops->attach(d, u->id, &u->ifc);
			break;
		case U_BRIDGE:
			sd_bridge_del(u->bridge);
			break;
		case U_STUB:
			sd_stub_down(sd, u->link);
			break;
		}
		if (r == -1)
			log_warnx("undo: %s", err_last()->msg);
	}
}

/*
 * Step 3: decide where each new node comes from (take pool members now:
 * no host change) and write every node's row, "claiming" or "intent",
 * in one transaction before anything is made.
 */
static int
reserve(struct apply *a)
{
	struct sd *sd = a->sd;

	for (struct sd_node *n = a->nw->nodes; n != NULL; n = n->next) {
		const struct topo_node *nd = NULL;
		struct undo u = { .kind = U_NODE, .slot = n->slot };
		char id[VNODE_ID_MAX];

		if (sd_node_find(a->old, n->name) != NULL)
			continue;
		for (size_t i = 0; i < a->req->nnodes; i++)
			if (strcmp(a->req->nodes[i].name, n->name) == 0)
				nd = &a->req->nodes[i];
		if (nd == NULL || nd->pool != POOL_PREFER ||
		    sd_pool_take(sd, n, id, sizeof(id)) == 0)
			continue;
		/* The member's id is the node's id from now on. */
		str_lcpy(n->id, id, sizeof(n->id));
		str_lcpy(n->spec.id, id, sizeof(n->spec.id));
		n->pooled = 1;
		str_lcpy(u.id, id, sizeof(u.id));
		if (undo_push(a, &u) == -1) {
			sd->drv[n->slot]->ops->delete(sd->drv[n->slot], id);
			return -1;
		}
	}
	if (store_begin(sd->st) == -1)
		return -1;
	for (struct sd_node *n = a->nw->nodes; n != NULL; n = n->next)
		if (sd_node_find(a->old, n->name) == NULL &&
		    sd_state_node_put(sd->st, a->nw->name, n, n->pooled ?
		    "claiming" : "intent") == -1) {
			store_rollback(sd->st);
			return -1;
		}
	return store_commit(sd->st);
}

/*
 * Re-bind claimed pool member n to want: interfaces, routes, resume, and
 * for a guest its addresses and routes inside (through its console).
 */
static int
rebind(struct apply *a, struct sd_node *n, const struct vnode_spec *want)
{
	struct sd *sd = a->sd;
	struct drv *d = sd->drv[n->slot];
	struct vnode_spec spec = *want;

	str_lcpy(spec.id, n->id, sizeof(spec.id));
	spec.nifs = 0;
	for (size_t i = 0; i < want->nifs; i++) {
		struct vnode_if f = want->ifs[i];

		host_end_name(n->id, f.name, f.peer, sizeof(f.peer));
		if (d->ops->attach(d, n->id, &f) == -1)
			return -1;
		spec.ifs[spec.nifs++] = f;
	}
	if (n->slot == SD_SLOT_NETNS && sd_netns_routes(n->id, &spec) == -1)
		return -1;
	if (d->ops->resume(d, n->id) == -1)
		return -1;
	/* A guest learns its interfaces at boot only: tell it now. */
	if (n->slot != SD_SLOT_NETNS && sd_pool_guest_config(d, &spec) == -1)
		return -1;
	n->spec = spec;
	return 0;
}

/*
 * A gateway node's LAN interface (the one serving its stub) and its
 * settings from the request; force re-applies everything.
 */
static int
gw_bind(struct apply *a, struct sd_node *n, int force)
{
	const struct topo_node *nd = req_node(a->req, n->name);
	const struct vnode_if *f = if_of_link(n, n->gw.stub);

	if (f == NULL)
		return err_set(ERR_INTERNAL, "gateway '%s' has no interface on "
		    "its stub '%s'", n->name, n->gw.stub);
	str_lcpy(n->gw.lan_if, f->name, sizeof(n->gw.lan_if));
	return sd_gw_apply(a->sd, a->sd->drv[n->slot], n, nd != NULL ?
	    &nd->gw : NULL, force);
}

/* Step 5 for one new node: re-bind its pool member, or make it now. */
static int
make_node(struct apply *a, struct sd_node *n)
{
	struct sd *sd = a->sd;
	struct drv *d = sd->drv[n->slot];
	struct vnode_spec want;
	char wlink[VNODE_IF_MAX][NAME_LEN];
	struct undo u = { .kind = U_NODE, .slot = n->slot };
	double t0 = now_ms();

	memset(wlink, 0, sizeof(wlink));
	want_ifs(a, n, &want, wlink);
	memcpy(n->iflink, wlink, sizeof(n->iflink));
	if (n->pooled) {
		if (rebind(a, n, &want) == -1)
			goto fail;
		metric_add(sd->m_claim, "how=\"pool\"", 1);
		goto done;
	}
	str_lcpy(u.id, n->id, sizeof(u.id));
	if (undo_push(a, &u) == -1)
		goto fail;
	n->spec = want;
	if (d->ops->create(d, &n->spec) == -1 || d->ops->start(d, n->id) == -1)
		goto fail;
	metric_add(sd->m_claim, "how=\"demand\"", 1);
done:
	n->state = VNODE_ST_RUNNING;
	if (n->kind == NODE_GATEWAY && gw_bind(a, n, 1) == -1)
		goto fail;
	a->t_virt += now_ms() - t0;
	log_debug("slice %s: node %s is %s (%s, %.2f ms)", a->nw->name,
	    n->name, n->id, n->pooled ? "claimed" : "made", now_ms() - t0);
	return 0;
fail:
	err_hint("step virtualization, node '%s' (%s) on host %s", n->name,
	    n->id, sd->conf->host);
	return -1;
}

/* Step 6 for one kept node: interfaces and routes to what is asked. */
static int
update_node(struct apply *a, struct sd_node *n)
{
	struct sd *sd = a->sd;
	struct drv *d = sd->drv[n->slot];
	struct vnode_spec want;
	char wlink[VNODE_IF_MAX][NAME_LEN];
	struct undo u = { .slot = n->slot };
	int routes_changed;
	double t0 = now_ms();

	memset(wlink, 0, sizeof(wlink));
	want_ifs(a, n, &want, wlink);
	str_lcpy(u.id, n->id, sizeof(u.id));
	/* Detach what is gone or changed. */
	for (size_t i = 0; i < n->spec.nifs;) {
		struct vnode_if *cur = &n->spec.ifs[i];
		const struct vnode_if *w = vnode_spec_if(&want, cur->name);
		int keep = 0;

		for (size_t j = 0; w != NULL && j < want.nifs; j++)
			if (&want.ifs[j] == w && strcmp(wlink[j],
			    n->iflink[i]) == 0 && if_same(w, cur))
				keep = 1;
		if (keep) {
			i++;
			continue;
		}
		u.kind = U_DETACH;
		u.ifc = *cur;
		if (d->ops->detach(d, n->id, cur->name) == -1 ||
		    undo_push(a, &u) == -1)
			goto fail;
		memmove(cur, cur + 1, (n->spec.nifs - i - 1) * sizeof(*cur));
		memmove(n->iflink[i], n->iflink[i + 1], (n->spec.nifs - i - 1) *
		    NAME_LEN);
		n->spec.nifs--;
	}
	/* Attach what is new. */
	for (size_t j = 0; j < want.nifs; j++) {
		if (vnode_spec_if(&n->spec, want.ifs[j].name) != NULL)
			continue;
		u.kind = U_ATTACH;
		u.ifc = want.ifs[j];
		if (d->ops->attach(d, n->id, &want.ifs[j]) == -1 ||
		    undo_push(a, &u) == -1)
			goto fail;
		n->spec.ifs[n->spec.nifs] = want.ifs[j];
		str_lcpy(n->iflink[n->spec.nifs], wlink[j], NAME_LEN);
		n->spec.nifs++;
	}
	routes_changed = 1;
	if (a->old != NULL) {
		struct sd_node *on = sd_node_find(a->old, n->name);

		routes_changed = on == NULL || on->spec.nroutes !=
		    want.nroutes || memcmp(on->spec.routes, want.routes,
		    want.nroutes * sizeof(want.routes[0])) != 0;
	}
	if (routes_changed && n->slot == SD_SLOT_NETNS &&
	    sd_netns_routes(n->id, &n->spec) == -1)
		goto fail;
	if (n->kind == NODE_GATEWAY) {
		u.kind = U_GW;
		u.node = sd_node_find(a->old, n->name);
		if (undo_push(a, &u) == -1 || gw_bind(a, n, 0) == -1)
			goto fail;
	}
	a->t_topo += now_ms() - t0;
	return 0;
fail:
	err_hint("step topology, node '%s' (%s) on host %s", n->name, n->id,
	    sd->conf->host);
	return -1;
}

/* Commit the new slice: rows "up", slice document, links; remove rows. */
static int
commit(struct apply *a, const char *doc, size_t len)
{
	struct sd *sd = a->sd;

	if ((a->nw->doc = strndup(doc, len)) == NULL)
		return err_nomem();
	if (store_begin(sd->st) == -1)
		return -1;
	for (struct sd_node *n = a->nw->nodes; n != NULL; n = n->next) {
		if (sd_state_node_put(sd->st, a->nw->name, n, "up") == -1)
			goto fail;
		if (n->kind == NODE_GATEWAY && sd_state_gw_put(sd->st,
		    a->nw->name, n, link_find(a->nw, n->gw.stub)) == -1)
			goto fail;
	}
	for (struct sd_node *n = a->old != NULL ? a->old->nodes : NULL;
	    n != NULL; n = n->next)
		if (sd_node_find(a->nw, n->name) == NULL &&
		    (sd_state_node_del(sd->st, n->id) == -1 ||
		    sd_state_gw_del(sd->st, n->id) == -1))
			goto fail;
	if (sd_state_slice_put(sd->st, a->nw) == -1 ||
	    store_commit(sd->st) == -1)
		goto fail;
	return 0;
fail:
	store_rollback(sd->st);
	return -1;
}

/*
 * Remove from the host what old had and nw does not (after the commit).
 * Errors are logged: the state no longer knows these, so the next start
 * removes whatever is left.
 */
static void
remove_gone(struct sd *sd, struct sd_slice *old, struct sd_slice *nw)
{
	for (struct sd_link *l = old != NULL ? old->links : NULL; l != NULL;
	    l = l->next) {
		struct sd_link *nl = link_find(nw, l->name);

		if (l->stub && l->tl != NULL && (nl == NULL || nl->tl == NULL ||
		    nl->tl != l->tl))
			sd_stub_down(sd, l);
		/* A bridged stub's too: it may have no tunnel end now. */
		if (l->bridge[0] != '\0' && (nl == NULL ||
		    strcmp(nl->bridge, l->bridge) != 0))
			sd_bridge_del(l->bridge);
	}
	for (struct sd_node *n = old != NULL ? old->nodes : NULL; n != NULL;
	    n = n->next) {
		struct drv *d = sd->drv[n->slot];

		if (sd_node_find(nw, n->name) != NULL)
			continue;
		if (d != NULL && d->ops->delete(d, n->id) == -1) {
			log_warnx("remove node %s (%s): %s", n->name, n->id,
			    err_last()->msg);
			err_reset();
		}
		if (n->kind == NODE_GATEWAY)
			sd_gw_forget(sd, n->id);
	}
}

/* Stubs of nw: keep, retarget or add; 0 or -1 (undo logged). */
static int
stubs_apply(struct apply *a)
{
	struct sd *sd = a->sd;

	for (struct sd_link *l = a->nw->links; l != NULL; l = l->next) {
		struct sd_link *ol = link_find(a->old, l->name);
		struct sd_node *n;
		struct undo u = { .kind = U_STUB, .link = l };

		if (!l->stub)
			continue;
		if (ol != NULL && ol->stub && ol->tl != NULL &&
		    ol->remote == l->remote && ol->key == l->key &&
		    ol->encap == l->encap && strcmp(ol->node[0], l->node[0])
		    == 0 && strcmp(ol->bridge, l->bridge) == 0) {
			n = sd_node_find(a->nw, l->node[0]);
			if (n != NULL && if_of_link(n, l->name) != NULL &&
			    strcmp(if_of_link(n, l->name)->peer,
			    tun_link_config(ol->tl)->node_if) == 0) {
				l->tl = ol->tl;	/* unchanged: keep it */
				continue;
			}
		}
		if (ol != NULL && ol->tl != NULL) {
			/* Retarget: the old end goes first (same triple). */
			sd_stub_down(sd, ol);
		}
		/*
		 * A transit of the same link becomes this stub when the node
		 * arrives on this host: the transit holds the same key.
		 */
		sd_transit_down_named(sd, a->old, l->name);
		if (l->remote == 0)
			continue;	/* peer not known yet: pending */
		n = sd_node_find(a->nw, l->node[0]);
		if (sd_stub_up(sd, l, n) == -1 || undo_push(a, &u) == -1) {
			err_hint("step topology, stub '%s' of node '%s' on "
			    "host %s", l->name, l->node[0], sd->conf->host);
			return -1;
		}
	}
	return 0;
}

static void
step_observe(struct sd *sd, const char *step, double ms)
{
	char lab[64];

	snprintf(lab, sizeof(lab), "step=\"%s\"", step);
	metric_observe(sd->m_step, lab, ms / 1000.0);
}

/*
 * Apply the host slice doc (len bytes) under name.  On success the
 * manifest fragment is in *out (malloc'd); on failure -1 with the
 * errors recorded and the host as it was.
 */
int
sd_slice_apply(struct sd *sd, const char *name, const char *doc, size_t len,
    char **out, size_t *outlen)
{
	struct apply a = { .sd = sd };
	struct sd_slice **pp;
	int rc = -1;
	double t0;

	if ((a.req = doc_parse(doc, len, name, DOC_SLICE)) == NULL)
		return -1;
	if (strcmp(a.req->name, name) != 0) {
		err_at(ERR_INVALID, "/slice", 0, "the document names slice "
		    "'%s', the request slice '%s'", a.req->name, name);
		goto out;
	}
	a.old = sd_slice_find(sd, name);
	if (check(&a) == -1 || plan(&a) == -1 ||
	    sd_transits_plan(sd, a.req, a.old, a.nw) == -1)
		goto out;
	sd_pool_hold(sd, 1);
	if (reserve(&a) == -1)
		goto fail;
	/* Step 4: bridges of new local links. */
	t0 = now_ms();
	for (struct sd_link *l = a.nw->links; l != NULL; l = l->next) {
		struct sd_link *ol = link_find(a.old, l->name);
		struct undo u = { .kind = U_BRIDGE };

		if (l->stub || (ol != NULL && !ol->stub))
			continue;
		if (sd_bridge_add(l->bridge, l->id) == -1) {
			err_hint("step topology, link '%s' on host %s",
			    l->name, sd->conf->host);
			goto fail;
		}
		str_lcpy(u.bridge, l->bridge, sizeof(u.bridge));
		if (undo_push(&a, &u) == -1)
			goto fail;
	}
	a.t_topo += now_ms() - t0;
	/* Steps 5, 6. */
	for (struct sd_node *n = a.nw->nodes; n != NULL; n = n->next) {
		if (sd_node_find(a.old, n->name) == NULL) {
			if (make_node(&a, n) == -1)
				goto fail;
		} else if (update_node(&a, n) == -1)
			goto fail;
	}
	/* Step 7. */
	t0 = now_ms();
	if (stubs_apply(&a) == -1)
		goto fail;
	if (sd_transits_apply(sd, a.old, a.nw) == -1)
		goto fail;
	a.t_topo += now_ms() - t0;
	/* Step 8: the point of no return. */
	if (commit(&a, doc, len) == -1) {
		sd_transits_undo(sd, a.old, a.nw);
		goto fail;
	}
	/* Step 9. */
	remove_gone(sd, a.old, a.nw);
	sd_transits_gone(sd, a.old, a.nw);
	a.nw->step_ms[0] = a.t_virt;
	a.nw->step_ms[1] = a.t_topo;
	for (pp = &sd->slices; *pp != NULL; pp = &(*pp)->next)
		if (*pp == a.old) {
			*pp = a.old->next;
			break;
		}
	sd_slice_free(a.old);
	a.nw->next = sd->slices;
	sd->slices = a.nw;
	step_observe(sd, "virtualization", a.t_virt);
	step_observe(sd, "topology", a.t_topo);
	log_info("slice %s applied: virtualization %.2f ms, topology %.2f ms",
	    name, a.t_virt, a.t_topo);
	a.nw = NULL;
	*out = sd_slice_manifest(sd, sd->slices, 0, outlen);
	rc = *out == NULL ? -1 : 0;
	goto out;
fail:
	{
		/* Keep the error; undo may record more. */
		struct err first[4];
		size_t nf = err_count() < 4 ? err_count() : 4;

		for (size_t i = 0; i < nf; i++)
			first[i] = *err_get(i);
		undo_all(&a);
		/*
		 * New transits go and old ones come back, before the old
		 * stubs: a stub and a transit of one link share their key.
		 */
		sd_transits_undo(sd, a.old, a.nw);
		/* Stubs of the old slice that were taken down come back. */
		for (struct sd_link *l = a.old != NULL ? a.old->links : NULL;
		    l != NULL; l = l->next)
			if (l->stub && l->tl == NULL && l->remote != 0) {
				struct sd_node *n = sd_node_find(a.old,
				    l->node[0]);

				if (n != NULL && sd_stub_up(sd, l, n) == -1)
					log_warnx("undo: stub %s: %s", l->name,
					    err_last()->msg);
			}
		/* Forget the rows of nodes this request made. */
		for (struct sd_node *n = a.nw != NULL ? a.nw->nodes : NULL;
		    n != NULL; n = n->next)
			if (sd_node_find(a.old, n->name) == NULL)
				sd_state_node_del(sd->st, n->id);
		err_reset();
		for (size_t i = 0; i < nf; i++)
			err_push(&first[i]);
		log_warnx("slice %s refused: %s", name, nf > 0 ? first[0].msg :
		    "?");
	}
out:
	sd_pool_hold(sd, 0);
	for (struct sd_link *l = a.nw != NULL ? a.nw->links : NULL; l != NULL;
	    l = l->next)
		l->tl = NULL;
	for (struct sd_transit *t = a.nw != NULL ? a.nw->transits : NULL;
	    t != NULL; t = t->next)
		t->tt = NULL;
	sd_slice_free(a.nw);
	free(a.undo);
	slice_free(a.req);
	return rc;
}

/* Delete a whole slice; the answer is its manifest, state "deleted". */
int
sd_slice_delete(struct sd *sd, const char *name, char **out, size_t *outlen)
{
	struct sd_slice *s = sd_slice_find(sd, name), **pp;
	struct sd_slice empty;

	if (s == NULL)
		return err_set(ERR_NOT_FOUND, "no slice '%s' on host %s", name,
		    sd->conf->host);
	if (store_begin(sd->st) == -1)
		return -1;
	for (struct sd_node *n = s->nodes; n != NULL; n = n->next)
		if (sd_state_node_del(sd->st, n->id) == -1 ||
		    sd_state_gw_del(sd->st, n->id) == -1)
			goto fail;
	if (sd_state_slice_del(sd->st, name) == -1 ||
	    store_commit(sd->st) == -1)
		goto fail;
	*out = sd_slice_manifest(sd, s, 1, outlen);
	memset(&empty, 0, sizeof(empty));
	remove_gone(sd, s, &empty);
	sd_transits_gone(sd, s, &empty);
	for (pp = &sd->slices; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	sd_slice_free(s);
	log_info("slice %s deleted", name);
	return *out == NULL ? -1 : 0;
fail:
	store_rollback(sd->st);
	return -1;
}

/* start / stop / pause / resume of one node. */
int
sd_node_op(struct sd *sd, struct sd_slice *s, struct sd_node *n,
    const char *op)
{
	struct drv *d = sd->drv[n->slot];
	int r;

	if (strcmp(op, "start") == 0) {
		if ((r = d->ops->start(d, n->id)) == 0)
			n->state = VNODE_ST_RUNNING;
	} else if (strcmp(op, "stop") == 0) {
		if ((r = d->ops->stop(d, n->id)) == 0)
			n->state = VNODE_ST_DEFINED;
	} else if (strcmp(op, "pause") == 0) {
		if ((r = d->ops->pause(d, n->id)) == 0)
			n->state = VNODE_ST_PAUSED;
	} else if (strcmp(op, "resume") == 0) {
		if ((r = d->ops->resume(d, n->id)) == 0)
			n->state = VNODE_ST_RUNNING;
	} else
		return err_set(ERR_NOT_FOUND, "no node operation '%s' (use "
		    "start, stop, pause, resume or exec)", op);
	if (r == 0)
		log_info("slice %s: node %s (%s): %s", s->name, n->name, n->id,
		    op);
	return r;
}

static enum node_state
mf_state(enum vnode_state s)
{
	switch (s) {
	case VNODE_ST_RUNNING:
		return NS_RUNNING;
	case VNODE_ST_PAUSED:
		return NS_PAUSED;
	case VNODE_ST_DEFINED:
		return NS_STOPPED;
	default:
		return NS_DEGRADED;
	}
}

/*
 * The manifest fragment of slice s: every node, every link end, the
 * steps of its last apply.  Returns a malloc'd document or NULL.
 */
char *
sd_slice_manifest(struct sd *sd, const struct sd_slice *s, int deleted,
    size_t *len)
{
	const struct sd_conf *c = sd->conf;
	struct manifest m;
	struct mf_step steps[2];
	size_t nn = 0, nl = 0;
	char *doc = NULL;

	memset(&m, 0, sizeof(m));
	str_lcpy(m.vnet, s->vnet, sizeof(m.vnet));
	str_lcpy(m.slice, s->name, sizeof(m.slice));
	m.state = deleted ? VS_DELETED : VS_READY;
	m.discovery = -1;
	for (struct sd_node *n = s->nodes; n != NULL; n = n->next)
		nn++;
	for (struct sd_link *l = s->links; l != NULL; l = l->next)
		nl++;
	for (struct sd_transit *t = s->transits; t != NULL; t = t->next)
		nl++;
	m.nodes = calloc(nn + 1, sizeof(*m.nodes));
	m.links = calloc(nl + 1, sizeof(*m.links));
	if (m.nodes == NULL || m.links == NULL)
		goto out;
	for (struct sd_node *n = s->nodes; n != NULL; n = n->next) {
		struct mf_node *mn = &m.nodes[m.nnodes++];

		str_lcpy(mn->name, n->name, sizeof(mn->name));
		mn->state = deleted ? NS_DELETED : mf_state(n->state);
		str_lcpy(mn->id, n->id, sizeof(mn->id));
		mn->kind = n->kind;
		str_lcpy(mn->pip, c->pip, sizeof(mn->pip));
		str_lcpy(mn->host, c->host, sizeof(mn->host));
		str_lcpy(mn->driver, sd_slot_driver(n->slot),
		    sizeof(mn->driver));
		mn->pooled = n->pooled;
		mn->console.type = deleted ? CON_NONE : n->slot ==
		    SD_SLOT_NETNS ? CON_EXEC : CON_PTY;
		if (deleted || n->spec.nifs == 0)
			continue;
		if ((mn->ifaces = calloc(n->spec.nifs, sizeof(*mn->ifaces))) ==
		    NULL)
			goto out;
		for (size_t i = 0; i < n->spec.nifs; i++) {
			struct mf_iface *f = &mn->ifaces[mn->nifaces++];
			const struct vnode_if *vi = &n->spec.ifs[i];

			str_lcpy(f->name, vi->name, sizeof(f->name));
			str_lcpy(f->link, n->iflink[i], sizeof(f->link));
			if (vi->addr.s_addr != 0) {
				f->addr.addr = ntohl(vi->addr.s_addr);
				f->addr.len = vi->prefix;
				f->has_addr = 1;
			}
			vnode_if_mac(n->id, vi, f->mac);
			f->has_mac = 1;
		}
	}
	for (struct sd_link *l = s->links; l != NULL; l = l->next) {
		struct mf_link *ml = &m.links[m.nlinks++];
		int ne = l->stub ? 1 : 2;

		str_lcpy(ml->name, l->name, sizeof(ml->name));
		ml->state = deleted ? LS_DOWN : l->stub && l->tl == NULL ?
		    LS_PENDING : LS_UP;
		ml->encap = l->encap;
		ml->key = l->key;
		if ((ml->ends = calloc((size_t)ne, sizeof(*ml->ends))) == NULL)
			goto out;
		for (int e = 0; e < ne; e++) {
			struct mf_end *me = &ml->ends[ml->nends++];

			str_lcpy(me->node, l->node[e], sizeof(me->node));
			str_lcpy(me->pip, c->pip, sizeof(me->pip));
			str_lcpy(me->host, c->host, sizeof(me->host));
			me->underlay = c->underlay;
		}
	}
	/* A transit: the link passes here; our underlay is its end. */
	for (struct sd_transit *t = s->transits; t != NULL; t = t->next) {
		struct mf_link *ml = &m.links[m.nlinks++];
		struct mf_end *me;

		str_lcpy(ml->name, t->name, sizeof(ml->name));
		ml->state = deleted ? LS_DOWN : t->tt == NULL ? LS_PENDING :
		    LS_UP;
		ml->encap = t->encap;
		ml->key = t->key[1];
		if ((ml->ends = calloc(1, sizeof(*ml->ends))) == NULL)
			goto out;
		me = &ml->ends[ml->nends++];
		str_lcpy(me->pip, c->pip, sizeof(me->pip));
		str_lcpy(me->host, c->host, sizeof(me->host));
		me->underlay = c->underlay;
	}
	memset(steps, 0, sizeof(steps));
	steps[0].step = STEP_VIRTUALIZATION;
	steps[0].ms = s->step_ms[0];
	steps[1].step = STEP_TOPOLOGY;
	steps[1].ms = s->step_ms[1];
	for (int i = 0; i < 2; i++) {
		str_lcpy(steps[i].pip, c->pip, sizeof(steps[i].pip));
		str_lcpy(steps[i].host, c->host, sizeof(steps[i].host));
	}
	m.steps = steps;
	m.nsteps = deleted ? 0 : 2;
	if ((doc = manifest_format(&m)) != NULL && len != NULL)
		*len = strlen(doc);
out:
	if (doc == NULL && err_count() == 0)
		err_nomem();
	for (size_t i = 0; m.nodes != NULL && i < m.nnodes; i++)
		free(m.nodes[i].ifaces);
	for (size_t i = 0; m.links != NULL && i < m.nlinks; i++)
		free(m.links[i].ends);
	free(m.nodes);
	free(m.links);
	return doc;
}

/*
 * Give netns node id exactly the routes of spec: replace each, in the
 * node's namespace, through rtnetlink (the driver sets routes only at
 * create; a claimed pool member or a changed slice needs them later).
 * Routes not in spec that we added before stay until the next
 * re-creation; static routes are replaced, not accumulated, by
 * destination.
 */
int
sd_netns_routes(const char *id, const struct vnode_spec *spec)
{
	struct nl_sock *sk = NULL;
	int rc;

	if (spec->nroutes == 0)
		return 0;
	if ((rc = drv_netns_node_socket(id, &sk)) == -1)
		return -1;
	for (size_t i = 0; rc == 0 && i < spec->nroutes; i++) {
		const struct vnode_route *rt = &spec->routes[i];
		struct rtnl_route *r = rtnl_route_alloc();
		struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
		struct nl_addr *dst = nl_addr_build(AF_INET, &rt->dst, 4);
		struct nl_addr *gw = nl_addr_build(AF_INET, &rt->via, 4);
		int e = -NLE_NOMEM;

		if (r != NULL && nh != NULL && dst != NULL && gw != NULL) {
			nl_addr_set_prefixlen(dst, rt->prefix);
			rtnl_route_set_family(r, AF_INET);
			rtnl_route_set_table(r, RT_TABLE_MAIN);
			rtnl_route_set_protocol(r, RTPROT_STATIC);
			rtnl_route_set_dst(r, dst);
			rtnl_route_nh_set_gateway(nh, gw);
			rtnl_route_add_nexthop(r, nh);
			nh = NULL;
			e = rtnl_route_add(sk, r, NLM_F_CREATE |
			    NLM_F_REPLACE);
		}
		if (nh != NULL)
			rtnl_route_nh_free(nh);
		nl_addr_put(dst);
		nl_addr_put(gw);
		rtnl_route_put(r);
		if (e < 0)
			rc = err_set(ERR_INVALID, "route %zu of node '%s': %s "
			    "(is the gateway on one of its subnets?)", i, id,
			    nl_geterror(e));
	}
	nl_socket_free(sk);
	return rc;
}
