/*
 * Admission control, in one place.  A slice's reservation (struct
 * usage) is computed from its resolved document; admit_set() moves a
 * slice from what it holds to what it wants, checking first that every
 * increase fits what is free — memory, bandwidth and interfaces exactly,
 * CPU with the overcommit ratio — and then applying all of it.  pipd
 * runs on one event loop, so nothing can slip in between the check and
 * the take.  A refusal records ERR_NO_RESOURCES with the resource, the
 * amount asked, the amount free and, when one exists, an offer.
 *
 * Tunnel keys live here too: every link gets one, and on one host an
 * (encapsulation, key, remote underlay) triple is used once.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pipd.h"

void
usage_clear(struct usage *u)
{
	free(u->h);
	free(u->l);
	memset(u, 0, sizeof(*u));
}

/* Interfaces a node uses: as declared, or one per link end. */
unsigned
node_ifaces(const struct slice *s, size_t node)
{
	const char *name = s->nodes[node].name;
	unsigned n = 0;

	for (size_t i = 0; i < s->nlinks; i++)
		for (int e = 0; e < 2; e++)
			if (strcmp(s->links[i].end[e].node, name) == 0)
				n++;
	for (size_t i = 0; i < s->nstubs; i++)
		if (strcmp(s->stubs[i].end[0].node, name) == 0)
			n++;
	return s->nodes[node].interfaces > n ? s->nodes[node].interfaces : n;
}

/* Dense per-host / per-link sums, squeezed into a sparse usage. */
static int
usage_pack(const struct pipd *pd, const struct use_host *dh,
    const uint64_t *dl, struct usage *u)
{
	memset(u, 0, sizeof(*u));
	u->h = calloc(pd->nhosts + 1, sizeof(*u->h));
	u->l = calloc(pd->nlinks + 1, sizeof(*u->l));
	if (u->h == NULL || u->l == NULL) {
		usage_clear(u);
		return err_nomem();
	}
	for (size_t i = 0; i < pd->nhosts; i++)
		if (dh[i].cpu != 0 || dh[i].mem != 0 || dh[i].ifs != 0) {
			u->h[u->nh] = dh[i];
			u->h[u->nh++].host = (int)i;
		}
	for (size_t i = 0; i < pd->nlinks; i++)
		if (dl[i] != 0) {
			u->l[u->nl].link = (int)i;
			u->l[u->nl++].bw = dl[i];
		}
	return 0;
}

/* The host index of a node of doc, or -1 with an error recorded. */
static int
node_host(const struct pipd *pd, const struct slice *doc, const char *node)
{
	ssize_t i = topo_node_find(doc->nodes, doc->nnodes, node);
	int h;

	if (i < 0)
		return err_set(ERR_NOT_FOUND, "slice '%s' has no node '%s'",
		    doc->name, node);
	if ((h = config_host(pd->conf, doc->nodes[i].host)) < 0)
		return err_set(ERR_NOT_FOUND, "node '%s' is pinned to host "
		    "'%s', which PIP '%s' does not have", node,
		    doc->nodes[i].host, pd->conf->name);
	return h;
}

/*
 * The reservation of a resolved document: per host the CPU, memory and
 * interfaces of its nodes; per substrate link the bandwidth of every
 * virtual link whose path crosses it.  Fills u (usage_clear() it);
 * returns 0, or -1 with an error recorded (unknown host, broken path).
 */
int
usage_of(const struct pipd *pd, const struct slice *doc, struct usage *u)
{
	struct use_host *dh;
	uint64_t *dl;
	int rc = 0;

	memset(u, 0, sizeof(*u));
	dh = calloc(pd->nhosts + 1, sizeof(*dh));
	dl = calloc(pd->nlinks + 1, sizeof(*dl));
	if (dh == NULL || dl == NULL) {
		free(dh);
		free(dl);
		return err_nomem();
	}
	for (size_t i = 0; i < doc->nnodes && rc == 0; i++) {
		int h = node_host(pd, doc, doc->nodes[i].name);

		if (h < 0) {
			rc = -1;
			break;
		}
		dh[h].cpu += doc->nodes[i].cpu;
		dh[h].mem += doc->nodes[i].memory;
		dh[h].ifs += node_ifaces(doc, i);
	}
	for (size_t i = 0; i < doc->nlinks && rc == 0; i++) {
		const struct topo_link *l = &doc->links[i];
		int a = node_host(pd, doc, l->end[0].node);
		int b = node_host(pd, doc, l->end[1].node);
		int prev;

		if (a < 0 || b < 0) {
			rc = -1;
			break;
		}
		if (a == b && l->npath <= 1)
			continue;
		if (l->npath < 2 || config_host(pd->conf, l->path[0]) != a ||
		    config_host(pd->conf, l->path[l->npath - 1]) != b) {
			rc = err_set(ERR_TOPOLOGY, "link '%s' has no path from "
			    "host '%s' to host '%s'", l->name,
			    pd->conf->hosts[a].name, pd->conf->hosts[b].name);
			break;
		}
		prev = a;
		for (size_t k = 1; k < l->npath; k++) {
			int next = config_host(pd->conf, l->path[k]);
			int sl = next < 0 ? -1 : inventory_link(pd, prev, next);

			if (sl < 0) {
				rc = err_set(ERR_TOPOLOGY, "the path of link "
				    "'%s' goes from host '%s' to '%s', but no "
				    "substrate link joins them", l->name,
				    pd->conf->hosts[prev].name, l->path[k]);
				break;
			}
			dl[sl] += l->bandwidth;
			prev = next;
		}
	}
	if (rc == 0)
		rc = usage_pack(pd, dh, dl, u);
	free(dh);
	free(dl);
	return rc;
}

int
usage_copy(const struct usage *a, struct usage *out)
{
	memset(out, 0, sizeof(*out));
	out->h = calloc(a->nh + 1, sizeof(*out->h));
	out->l = calloc(a->nl + 1, sizeof(*out->l));
	if (out->h == NULL || out->l == NULL) {
		usage_clear(out);
		return err_nomem();
	}
	memcpy(out->h, a->h, a->nh * sizeof(*a->h));
	memcpy(out->l, a->l, a->nl * sizeof(*a->l));
	out->nh = a->nh;
	out->nl = a->nl;
	return 0;
}

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The larger of two reservations, item by item (both sorted). */
int
usage_max(const struct usage *a, const struct usage *b, struct usage *out)
{
	size_t i = 0, j = 0;

	memset(out, 0, sizeof(*out));
	out->h = calloc(a->nh + b->nh + 1, sizeof(*out->h));
	out->l = calloc(a->nl + b->nl + 1, sizeof(*out->l));
	if (out->h == NULL || out->l == NULL) {
		usage_clear(out);
		return err_nomem();
	}
	while (i < a->nh || j < b->nh) {
		struct use_host x;

		if (j >= b->nh || (i < a->nh && a->h[i].host < b->h[j].host))
			x = a->h[i++];
		else if (i >= a->nh || b->h[j].host < a->h[i].host)
			x = b->h[j++];
		else {
			x = a->h[i];
			x.cpu = max64(a->h[i].cpu, b->h[j].cpu);
			x.mem = max64(a->h[i].mem, b->h[j].mem);
			x.ifs = max64(a->h[i].ifs, b->h[j].ifs);
			i++;
			j++;
		}
		out->h[out->nh++] = x;
	}
	i = j = 0;
	while (i < a->nl || j < b->nl) {
		struct use_link x;

		if (j >= b->nl || (i < a->nl && a->l[i].link < b->l[j].link))
			x = a->l[i++];
		else if (i >= a->nl || b->l[j].link < a->l[i].link)
			x = b->l[j++];
		else {
			x = a->l[i];
			x.bw = max64(a->l[i].bw, b->l[j].bw);
			i++;
			j++;
		}
		out->l[out->nl++] = x;
	}
	return 0;
}

static const struct use_host *
find_h(const struct usage *u, int h)
{
	for (size_t i = 0; i < u->nh; i++)
		if (u->h[i].host == h)
			return &u->h[i];
	return NULL;
}

static uint64_t
find_l(const struct usage *u, int l)
{
	for (size_t i = 0; i < u->nl; i++)
		if (u->l[i].link == l)
			return u->l[i].bw;
	return 0;
}

/* The offered host with the most free of one resource (0 cpu, 1 mem,
 * 2 interfaces), other than skip; -1 if none. */
static int
best_host(const struct pipd *pd, int what, int skip, uint64_t *freep)
{
	int best = -1;
	uint64_t bf = 0, f;

	for (size_t i = 0; i < pd->nhosts; i++) {
		if ((int)i == skip || !inventory_offered(pd, (int)i))
			continue;
		f = what == 0 ? host_cpu_free(pd, (int)i) : what == 1 ?
		    host_mem_free(pd, (int)i) : host_if_free(pd, (int)i);
		if (best < 0 || f > bf) {
			best = (int)i;
			bf = f;
		}
	}
	*freep = bf;
	return best;
}

/* Record a host shortfall of resource what, with an offer. */
static int
refuse_host(const struct pipd *pd, const char *slice, int h, int what,
    uint64_t asked, uint64_t avail)
{
	const char *hn = pd->conf->hosts[h].name;
	uint64_t of;
	int o = best_host(pd, what, h, &of);

	switch (what) {
	case 0:
		err_set(ERR_NO_RESOURCES, "host '%s' lacks CPU for slice '%s': "
		    "%.3f cores asked there, %.3f free", hn, slice,
		    asked / 1000.0, avail / 1000.0);
		err_shortfall("cpu", "cores", asked / 1000.0, avail / 1000.0);
		if (o >= 0 && of >= asked)
			err_offer("host '%s' has %.3f cores free",
			    pd->conf->hosts[o].name, of / 1000.0);
		else if (avail > 0)
			err_offer("at most %.3f cores fit on host '%s'",
			    avail / 1000.0, hn);
		break;
	case 1:
		err_set(ERR_NO_RESOURCES, "host '%s' lacks memory for slice "
		    "'%s': %llu MiB asked there, %llu MiB free", hn, slice,
		    (unsigned long long)asked, (unsigned long long)avail);
		err_shortfall("memory", "MiB", (double)asked, (double)avail);
		if (o >= 0 && of >= asked)
			err_offer("host '%s' has %llu MiB free",
			    pd->conf->hosts[o].name, (unsigned long long)of);
		else if (avail > 0)
			err_offer("at most %llu MiB fit on host '%s'",
			    (unsigned long long)avail, hn);
		break;
	default:
		err_set(ERR_NO_RESOURCES, "host '%s' lacks interfaces for "
		    "slice '%s': %llu asked there, %llu free", hn, slice,
		    (unsigned long long)asked, (unsigned long long)avail);
		err_shortfall("interfaces", "interfaces", (double)asked,
		    (double)avail);
		if (o >= 0 && of >= asked)
			err_offer("host '%s' has %llu interfaces free",
			    pd->conf->hosts[o].name, (unsigned long long)of);
		else if (avail > 0)
			err_offer("at most %llu interfaces fit on host '%s'",
			    (unsigned long long)avail, hn);
		break;
	}
	return -1;
}

/* Check that want fits given held: every increase is free.  0 or -1. */
static int
admit_check(const struct pipd *pd, const char *slice,
    const struct usage *held, const struct usage *want)
{
	for (size_t i = 0; i < want->nh; i++) {
		const struct use_host *w = &want->h[i];
		const struct use_host *o = find_h(held, w->host);
		uint64_t dc = w->cpu, dm = w->mem, di = w->ifs;
		uint64_t fm, fc, fi;
		int h = w->host;

		if (o != NULL) {
			dc = dc > o->cpu ? dc - o->cpu : 0;
			dm = dm > o->mem ? dm - o->mem : 0;
			di = di > o->ifs ? di - o->ifs : 0;
		}
		if (dc == 0 && dm == 0 && di == 0)
			continue;
		if (pd->hosts[h].state == HOST_DOWN) {
			err_set(ERR_NO_RESOURCES, "host '%s' is down (its agent "
			    "has not reported for %u ms)",
			    pd->conf->hosts[h].name, pd->conf->down_ms);
			err_hint("pin the nodes to another host, or let the "
			    "PIP map the slice");
			return -1;
		}
		fm = host_mem_free(pd, h);
		fc = host_cpu_free(pd, h);
		fi = host_if_free(pd, h);
		if (dm > fm)
			return refuse_host(pd, slice, h, 1, dm, fm);
		if (di > fi)
			return refuse_host(pd, slice, h, 2, di, fi);
		if (dc > fc)
			return refuse_host(pd, slice, h, 0, dc, fc);
	}
	for (size_t i = 0; i < want->nl; i++) {
		int l = want->l[i].link;
		uint64_t d = want->l[i].bw, o = find_l(held, l), f;
		const struct pipd_link_conf *lc = pd->links[l].conf;

		d = d > o ? d - o : 0;
		if (d == 0 || d <= (f = link_bw_free(pd, l)))
			continue;
		err_set(ERR_NO_RESOURCES, "substrate link '%s' (%s-%s) lacks "
		    "bandwidth for slice '%s': %.3f Mbit/s asked, %.3f free",
		    lc->name, pd->conf->hosts[lc->a].name,
		    pd->conf->hosts[lc->b].name, slice, d / 1000.0,
		    f / 1000.0);
		err_shortfall("bandwidth", "Mbit/s", d / 1000.0, f / 1000.0);
		if (f > 0)
			err_offer("at most %.3f Mbit/s fit on link '%s'",
			    f / 1000.0, lc->name);
		return -1;
	}
	return 0;
}

/* Apply sign * u to the inventory. */
static void
admit_apply(struct pipd *pd, const struct usage *u, int sign)
{
	for (size_t i = 0; i < u->nh; i++) {
		struct pipd_host *h = &pd->hosts[u->h[i].host];

		if (sign > 0) {
			h->cpu_used += u->h[i].cpu;
			h->mem_used += u->h[i].mem;
			h->if_used += u->h[i].ifs;
		} else {
			h->cpu_used -= u->h[i].cpu;
			h->mem_used -= u->h[i].mem;
			h->if_used -= u->h[i].ifs;
		}
	}
	for (size_t i = 0; i < u->nl; i++) {
		if (sign > 0)
			pd->links[u->l[i].link].bw_used += u->l[i].bw;
		else
			pd->links[u->l[i].link].bw_used -= u->l[i].bw;
	}
}

/*
 * Move a slice's reservation from *held to want: check that every
 * increase fits, then give back held and take want, and copy want into
 * *held.  Returns 0, or -1 with the shortfall recorded and nothing
 * changed.
 */
int
admit_set(struct pipd *pd, const char *slice, struct usage *held,
    const struct usage *want)
{
	struct usage copy;

	if (admit_check(pd, slice, held, want) == -1)
		return -1;
	if (usage_copy(want, &copy) == -1)
		return -1;
	admit_apply(pd, held, -1);
	admit_apply(pd, want, +1);
	usage_clear(held);
	*held = copy;
	return 0;
}

/* Give back everything a slice holds. */
void
admit_release(struct pipd *pd, struct usage *held)
{
	admit_apply(pd, held, -1);
	usage_clear(held);
}

/* One tunnel end on a host. */
struct tun_end {
	int host;
	int encap;
	uint32_t key;
	uint32_t remote;
	const char *slice, *link;
};

/* Every tunnel end a resolved document makes; *n gets the count. */
static struct tun_end *
tun_ends(const struct pipd *pd, const struct slice *doc, size_t *n)
{
	struct tun_end *t;
	size_t k = 0;

	*n = 0;
	if ((t = calloc(2 * doc->nlinks + doc->nstubs + 1, sizeof(*t))) ==
	    NULL)
		return NULL;
	for (size_t i = 0; i < doc->nlinks; i++) {
		const struct topo_link *l = &doc->links[i];
		ssize_t na = topo_node_find(doc->nodes, doc->nnodes,
		    l->end[0].node);
		ssize_t nb = topo_node_find(doc->nodes, doc->nnodes,
		    l->end[1].node);
		int a, b;

		if (na < 0 || nb < 0)
			continue;
		a = config_host(pd->conf, doc->nodes[na].host);
		b = config_host(pd->conf, doc->nodes[nb].host);
		if (a < 0 || b < 0 || a == b)
			continue;
		t[k] = (struct tun_end){ a, l->encap, l->key,
		    pd->hosts[b].underlay, doc->name, l->name };
		t[k + 1] = (struct tun_end){ b, l->encap, l->key,
		    pd->hosts[a].underlay, doc->name, l->name };
		k += 2;
	}
	for (size_t i = 0; i < doc->nstubs; i++) {
		const struct topo_link *l = &doc->stubs[i];
		ssize_t na = topo_node_find(doc->nodes, doc->nnodes,
		    l->end[0].node);
		int a;

		if (na < 0 || l->peer_underlay == 0 ||
		    (a = config_host(pd->conf, doc->nodes[na].host)) < 0)
			continue;
		t[k++] = (struct tun_end){ a, l->encap, l->key,
		    l->peer_underlay, doc->name, l->name };
	}
	*n = k;
	return t;
}

static int
tun_same(const struct tun_end *x, const struct tun_end *y)
{
	return x->host == y->host && x->encap == y->encap &&
	    x->key == y->key && x->remote != 0 && x->remote == y->remote;
}

/* Refuse (ERR_CONFLICT) when x is used by any end of others[]. */
static int
tun_clash(const struct pipd *pd, const struct tun_end *x,
    const struct tun_end *o, size_t no)
{
	for (size_t j = 0; j < no; j++)
		if (tun_same(x, &o[j])) {
			err_set(ERR_CONFLICT, "link '%s' of slice '%s' would "
			    "use %s key %u on host '%s' towards the same "
			    "remote underlay as link '%s' of slice '%s'",
			    x->link, x->slice, encap_to_string(x->encap),
			    x->key, pd->conf->hosts[x->host].name, o[j].link,
			    o[j].slice);
			err_hint("give the link another key");
			return -1;
		}
	return 0;
}

/*
 * Check that the tunnel ends of doc clash neither with each other nor
 * with those of every other slice (their current and in-flight
 * documents).  0, or -1 with ERR_CONFLICT recorded.
 */
int
admit_keys(const struct pipd *pd, const struct pslice *self,
    const struct slice *doc)
{
	struct tun_end *t, *o;
	size_t n, no;
	int rc = 0;

	if ((t = tun_ends(pd, doc, &n)) == NULL)
		return err_nomem();
	for (size_t i = 1; i < n && rc == 0; i++)
		rc = tun_clash(pd, &t[i], t, i);
	for (const struct pslice *ps = pd->slices; ps != NULL && rc == 0;
	    ps = ps->next) {
		if (ps == self)
			continue;
		for (int v = 0; v < 2 && rc == 0; v++) {
			const struct slice *d = v == 0 ? ps->doc : ps->prev;

			if (d == NULL)
				continue;
			if ((o = tun_ends(pd, d, &no)) == NULL) {
				rc = err_nomem();
				break;
			}
			for (size_t i = 0; i < n && rc == 0; i++)
				rc = tun_clash(pd, &t[i], o, no);
			free(o);
		}
	}
	free(t);
	return rc;
}

static uint32_t
next_key(struct pipd *pd, int encap)
{
	uint32_t k;

	if (encap == ENCAP_VXLAN) {
		k = pd->next_vni;
		pd->next_vni = k >= VXLAN_VNI_MAX ? PIPD_VNI_FIRST : k + 1;
	} else {
		k = pd->next_key;
		pd->next_key = k == UINT32_MAX ? PIPD_KEY_FIRST : k + 1;
	}
	return k;
}

static uint32_t
old_key(const struct slice *old, const char *name, int stub, int encap)
{
	const struct topo_link *ls;
	size_t n;

	if (old == NULL)
		return 0;
	ls = stub ? old->stubs : old->links;
	n = stub ? old->nstubs : old->nlinks;
	for (size_t i = 0; i < n; i++)
		if (strcmp(ls[i].name, name) == 0 && (int)ls[i].encap == encap)
			return ls[i].key;
	return 0;
}

/*
 * Give every link and stub of doc without a key one: the key it had in
 * old (an update keeps keys), else the next from pipd's own range
 * (docs/api.md: 2^31 .. 2^32-1; VXLAN VNIs from 2^23 .. 2^24-1).
 */
void
admit_assign_keys(struct pipd *pd, struct slice *doc, const struct slice *old)
{
	for (int stub = 0; stub < 2; stub++) {
		struct topo_link *ls = stub ? doc->stubs : doc->links;
		size_t n = stub ? doc->nstubs : doc->nlinks;

		for (size_t i = 0; i < n; i++) {
			if (ls[i].key != 0)
				continue;
			ls[i].key = old_key(old, ls[i].name, stub,
			    (int)ls[i].encap);
			if (ls[i].key == 0)
				ls[i].key = next_key(pd, (int)ls[i].encap);
		}
	}
}
