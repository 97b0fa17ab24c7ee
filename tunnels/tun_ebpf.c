/*
 * The ebpf backend: loads tun_ebpf.bpf.c (embedded as a skeleton, so
 * nothing depends on install paths), fills its maps and attaches its two
 * programs with tc clsact, direct action:
 *
 *   tun_encap on ingress of every node interface served (direct
 *             attach), or of the inner end of the link's veth pair
 *             (bridge attach, below),
 *   tun_decap on ingress of every underlay device in use (shared by the
 *             links over it, reference counted here).
 *
 * Bridge attach (L2 encapsulations): each link makes a veth pair, the
 * port (cfg.port, or "ve" + a hash of the link name) that joins the
 * bridge, and an inner end ("vi" + a hash of the port's name) that plays
 * node_if's part: the bridge's frames leave through the port and meet
 * tun_encap at the inner end's ingress; tun_decap sends decapsulated
 * frames out of the inner end, so they come out of the port into the
 * bridge.  node_if, if given, joins the bridge too.  Deleting the link
 * deletes the pair; the bridge and its other ports stay.
 *
 * The maps are not pinned: they live as long as this context.  tc keeps a
 * program attached after its loader exits, so tun_close() (or
 * tun_link_del) detaches everything it attached.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "error.h"
#include "log.h"
#include "tun_backend.h"
#include "tun_ebpf.h"
#include "tun_ebpf.skel.h"

_Static_assert(TUN_BPF_IPIP == TUN_ENCAP_IPIP &&
    TUN_BPF_GRE == TUN_ENCAP_GRE && TUN_BPF_GRETAP == TUN_ENCAP_GRETAP &&
    TUN_BPF_VXLAN == TUN_ENCAP_VXLAN, "BPF encap numbers drift");

#define TUN_TC_HANDLE	0x7674		/* "vt": our filters, by handle */
#define TUN_TC_PRIO	0x7674

/* An underlay device with tun_decap attached. */
struct tun_ebpf_under {
	int ifindex;
	int refs;			/* links over it, >= 1 */
	int made_hook;			/* 1: we made its clsact qdisc */
	struct tun_ebpf_under *next;
};

struct tun_ebpf {
	struct tun_ebpf_bpf *skel;
	int ncpu;			/* possible CPUs: per-CPU value count */
	uint8_t used[TUN_BPF_MAX_LINKS]; /* stats slots in use; 0 is global */
	struct tun_ebpf_under *unders;
};

struct tun_ebpf_link {
	uint32_t slot;
	int ifindex;			/* where tun_encap runs: node_if, or
					   the inner end of the veth pair */
	int made_hook;			/* 1: we made its clsact qdisc */
	char port[IF_NAMESIZE];		/* bridge attach: the veth's bridge
					   end; "" when direct */
	struct tun_bpf_ikey ik;
	struct tun_ebpf_under *under;
};

/* libbpf prints through this; keep it quiet unless debugging. */
static int
tun_ebpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_getverbose() < 2)
		return 0;
	if (level != LIBBPF_WARN && log_getverbose() < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static struct tun_ebpf_bpf *
tun_ebpf_load(void)
{
	struct tun_ebpf_bpf *skel;

	libbpf_set_print(tun_ebpf_print);
	if ((skel = tun_ebpf_bpf__open_and_load()) == NULL)
		err_sys("loading the eBPF tunnel programs");
	return skel;
}

static int
tun_ebpf_probe(void)
{
	struct tun_ebpf_bpf *skel;

	if ((skel = tun_ebpf_load()) == NULL)
		return -1;
	tun_ebpf_bpf__destroy(skel);
	return 0;
}

static int
tun_ebpf_open(struct tun_ctx *ctx)
{
	struct tun_ebpf *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return err_nomem();
	if ((e->ncpu = libbpf_num_possible_cpus()) <= 0) {
		free(e);
		return err_set(ERR_SYSTEM, "cannot count the possible CPUs");
	}
	if ((e->skel = tun_ebpf_load()) == NULL) {
		free(e);
		return -1;
	}
	e->used[TUN_BPF_SLOT_GLOBAL] = 1;
	ctx->priv = e;
	return 0;
}

static void
tun_ebpf_close(struct tun_ctx *ctx)
{
	struct tun_ebpf *e = ctx->priv;

	tun_ebpf_bpf__destroy(e->skel);
	free(e);
}

/*
 * Attach prog at ingress of ifindex, making the clsact qdisc if there is
 * none (*made tells).  A filter of ours left by an earlier run is
 * replaced.
 */
static int
tun_ebpf_attach(int ifindex, const struct bpf_program *prog, int *made)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
	    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TUN_TC_HANDLE,
	    .priority = TUN_TC_PRIO, .prog_fd = bpf_program__fd(prog),
	    .flags = BPF_TC_F_REPLACE);
	int rc;

	*made = 0;
	rc = bpf_tc_hook_create(&hook);
	if (rc == 0)
		*made = 1;
	else if (rc != -EEXIST) {
		errno = -rc;
		return err_sys("making the clsact qdisc on ifindex %d",
		    ifindex);
	}
	if ((rc = bpf_tc_attach(&hook, &opts)) < 0) {
		errno = -rc;
		err_sys("attaching %s on ifindex %d", bpf_program__name(prog),
		    ifindex);
		if (*made) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
		return -1;
	}
	return 0;
}

/* Undo tun_ebpf_attach; quiet if the device is already gone. */
static void
tun_ebpf_detach(int ifindex, int made)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
	    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TUN_TC_HANDLE,
	    .priority = TUN_TC_PRIO);

	bpf_tc_detach(&hook, &opts);
	if (made) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}

static struct tun_ebpf_under *
tun_ebpf_under_get(struct tun_ebpf *e, int ifindex)
{
	struct tun_ebpf_under *u;

	for (u = e->unders; u != NULL; u = u->next)
		if (u->ifindex == ifindex) {
			u->refs++;
			return u;
		}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		err_nomem();
		return NULL;
	}
	u->ifindex = ifindex;
	u->refs = 1;
	if (tun_ebpf_attach(ifindex, e->skel->progs.tun_decap,
	    &u->made_hook) == -1) {
		free(u);
		return NULL;
	}
	u->next = e->unders;
	e->unders = u;
	return u;
}

static void
tun_ebpf_under_put(struct tun_ebpf *e, struct tun_ebpf_under *u)
{
	struct tun_ebpf_under **pp;

	if (--u->refs > 0)
		return;
	tun_ebpf_detach(u->ifindex, u->made_hook);
	for (pp = &e->unders; *pp != u; pp = &(*pp)->next)
		;
	*pp = u->next;
	free(u);
}

/* Set every CPU's counters of slot to zero. */
static int
tun_ebpf_stats_zero(struct tun_ebpf *e, uint32_t slot)
{
	struct tun_bpf_stats *z;
	int rc;

	if ((z = calloc((size_t)e->ncpu, sizeof(*z))) == NULL)
		return err_nomem();
	rc = bpf_map__update_elem(e->skel->maps.stats, &slot, sizeof(slot), z,
	    sizeof(*z) * (size_t)e->ncpu, BPF_ANY);
	free(z);
	if (rc < 0) {
		errno = -rc;
		return err_sys("zeroing tunnel counters");
	}
	return 0;
}

/*
 * Bridge attach: make the link's veth pair (el->port in the bridge, the
 * inner end named in inner), both at the link MTU so the bridge refuses
 * frames the link cannot carry, without IPv6 (the host must not speak
 * into the VNet through them), and put the port and node_if, if any,
 * in the bridge.  On failure nothing of the pair is left.
 */
static int
tun_ebpf_port_add(struct tun_ebpf_link *el, const struct tun_link_cfg *c,
    char *inner, size_t size)
{
	tun_port_name(c, "ve", el->port, sizeof(el->port));
	tun_hash_name(el->port, "vi", inner, size);
	if (tun_veth_add(el->port, inner) == -1) {
		el->port[0] = '\0';
		return -1;
	}
	if (tun_if_sysctl(el->port, "disable_ipv6", "1") == -1 ||
	    tun_if_sysctl(inner, "disable_ipv6", "1") == -1)
		log_debug("link '%s': cannot turn IPv6 off on %s/%s", c->name,
		    el->port, inner);
	err_reset();
	if (tun_if_set_mtu(el->port, c->mtu) == -1 ||
	    tun_if_set_mtu(inner, c->mtu) == -1 || tun_if_up(inner) == -1 ||
	    tun_bridge_ensure(c->bridge) == -1 ||
	    tun_bridge_add_port(c->bridge, el->port) == -1 ||
	    (c->node_if[0] != '\0' &&
	    tun_bridge_add_port(c->bridge, c->node_if) == -1)) {
		tun_if_delete(el->port);
		el->port[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * Put the link in the maps, then attach: decap on the underlay first, so
 * the link can receive before it sends.  On failure nothing is left.
 */
static int
tun_ebpf_link_add(struct tun_ctx *ctx, struct tun_link *link)
{
	struct tun_ebpf *e = ctx->priv;
	const struct tun_link_cfg *c = &link->cfg;
	struct tun_ebpf_link *el;
	struct tun_bpf_link v;
	char under[IF_NAMESIZE], inner[IF_NAMESIZE];
	const char *enc_if;
	uint32_t ifi;
	int veth = 0, rc;

	if (c->attach == TUN_ATTACH_DIRECT &&
	    (veth = tun_if_is_veth(c->node_if)) == -1)
		return -1;
	if ((el = calloc(1, sizeof(*el))) == NULL)
		return err_nomem();
	for (el->slot = 1; el->slot < TUN_BPF_MAX_LINKS && e->used[el->slot];
	    el->slot++)
		;
	if (el->slot == TUN_BPF_MAX_LINKS) {
		free(el);
		return err_set(ERR_NO_RESOURCES,
		    "link '%s': all %d eBPF link slots are in use", c->name,
		    TUN_BPF_MAX_LINKS - 1);
	}
	if (c->attach == TUN_ATTACH_BRIDGE) {
		/*
		 * The inner end's peer (the port) is in this namespace:
		 * bpf_redirect_peer would refuse it, so veth stays 0.
		 */
		if (tun_ebpf_port_add(el, c, inner, sizeof(inner)) == -1) {
			free(el);
			return -1;
		}
		enc_if = inner;
		if ((el->ifindex = tun_if_index(inner)) == -1)
			goto fail;
	} else {
		enc_if = c->node_if;
		el->ifindex = link->node_ifindex;
	}
	memset(&v, 0, sizeof(v));
	v.slot = el->slot;
	v.encap = c->encap;
	v.local = c->local.s_addr;
	v.remote = c->remote.s_addr;
	v.key = c->key;
	v.mtu = c->mtu;
	v.underlay_ifindex = (uint32_t)link->underlay_ifindex;
	v.node_ifindex = (uint32_t)el->ifindex;
	v.flags = veth ? TUN_BPF_F_PEER : 0;
	if (c->has_inner) {
		v.flags |= TUN_BPF_F_INNER;
		v.inner_mask = tun_prefix_mask(c->inner_len);
		v.inner = c->inner.s_addr & v.inner_mask;
	}
	if (if_indextoname((unsigned int)link->underlay_ifindex, under) == NULL) {
		err_sys("link '%s': underlay ifindex %d", c->name,
		    link->underlay_ifindex);
		goto fail;
	}
	if (tun_if_mac(enc_if, v.node_if_mac) == -1 ||
	    tun_if_mac(under, v.under_mac) == -1)
		goto fail;
	/* Only frames that are not IPv4 need it; it is learnt otherwise. */
	if (tun_encap_is_l2(c->encap) &&
	    tun_neigh_mac(under, c->remote, v.peer_mac, 300) == -1)
		log_debug("link '%s': peer MAC not known yet", c->name);
	el->ik.remote = c->remote.s_addr;
	el->ik.key = c->key;
	el->ik.encap = c->encap;
	ifi = v.node_ifindex;

	if (tun_ebpf_stats_zero(e, el->slot) == -1)
		goto fail;
	rc = bpf_map__update_elem(e->skel->maps.links, &ifi, sizeof(ifi), &v,
	    sizeof(v), BPF_NOEXIST);
	if (rc < 0) {
		errno = -rc;
		err_sys("link '%s': adding it to the eBPF link map", c->name);
		goto fail;
	}
	rc = bpf_map__update_elem(e->skel->maps.ikeys, &el->ik,
	    sizeof(el->ik), &ifi, sizeof(ifi), BPF_NOEXIST);
	if (rc < 0) {
		errno = -rc;
		err_sys("link '%s': adding its key to the eBPF key map",
		    c->name);
		goto fail_links;
	}
	if ((el->under = tun_ebpf_under_get(e, link->underlay_ifindex)) == NULL)
		goto fail_ikeys;
	if (tun_ebpf_attach(el->ifindex, e->skel->progs.tun_encap,
	    &el->made_hook) == -1)
		goto fail_under;
	e->used[el->slot] = 1;
	link->priv = el;
	return 0;

fail_under:
	tun_ebpf_under_put(e, el->under);
fail_ikeys:
	bpf_map__delete_elem(e->skel->maps.ikeys, &el->ik, sizeof(el->ik), 0);
fail_links:
	bpf_map__delete_elem(e->skel->maps.links, &ifi, sizeof(ifi), 0);
fail:
	if (el->port[0] != '\0')
		tun_if_delete(el->port);
	free(el);
	return -1;
}

static int
tun_ebpf_link_del(struct tun_ctx *ctx, struct tun_link *link)
{
	struct tun_ebpf *e = ctx->priv;
	struct tun_ebpf_link *el = link->priv;
	uint32_t ifi = (uint32_t)el->ifindex;
	int rc = 0;

	tun_ebpf_detach(el->ifindex, el->made_hook);
	bpf_map__delete_elem(e->skel->maps.ikeys, &el->ik, sizeof(el->ik), 0);
	bpf_map__delete_elem(e->skel->maps.links, &ifi, sizeof(ifi), 0);
	tun_ebpf_under_put(e, el->under);
	/* Both ends go; the bridge, node_if and other ports stay. */
	if (el->port[0] != '\0')
		rc = tun_if_delete(el->port);
	e->used[el->slot] = 0;
	free(el);
	link->priv = NULL;
	return rc;
}

/* Sum slot's per-CPU counters into st. */
static int
tun_ebpf_slot_stats(struct tun_ebpf *e, uint32_t slot, struct tun_stats *st)
{
	struct tun_bpf_stats *v;
	int rc;

	if ((v = calloc((size_t)e->ncpu, sizeof(*v))) == NULL)
		return err_nomem();
	rc = bpf_map__lookup_elem(e->skel->maps.stats, &slot, sizeof(slot), v,
	    sizeof(*v) * (size_t)e->ncpu, 0);
	if (rc < 0) {
		free(v);
		errno = -rc;
		return err_sys("reading tunnel counters");
	}
	for (int i = 0; i < e->ncpu; i++) {
		st->tx_packets += v[i].tx_packets;
		st->tx_bytes += v[i].tx_bytes;
		st->rx_packets += v[i].rx_packets;
		st->rx_bytes += v[i].rx_bytes;
		st->drops += v[i].drops;
	}
	free(v);
	return 0;
}

static int
tun_ebpf_link_stats(struct tun_ctx *ctx, struct tun_link *link,
    struct tun_stats *st)
{
	struct tun_ebpf_link *el = link->priv;

	return tun_ebpf_slot_stats(ctx->priv, el->slot, st);
}

static uint64_t
tun_ebpf_unknown_drops(struct tun_ctx *ctx)
{
	struct tun_stats st;

	memset(&st, 0, sizeof(st));
	if (tun_ebpf_slot_stats(ctx->priv, TUN_BPF_SLOT_GLOBAL, &st) == -1)
		return 0;
	return st.drops;
}

/* A transit: its slot, the keys of its two map entries, its underlay. */
struct tun_ebpf_transit {
	uint32_t slot;
	struct tun_bpf_ikey ik[2];	/* what arrives on side 0, side 1 */
	int added[2];			/* 1: ik[i] is in the transits map */
	struct tun_ebpf_under *under;
};

static int
tun_ebpf_transit_del(struct tun_ctx *ctx, struct tun_transit *t)
{
	struct tun_ebpf *e = ctx->priv;
	struct tun_ebpf_transit *et = t->priv;

	if (et == NULL)
		return 0;
	for (int i = 0; i < 2; i++)
		if (et->added[i])
			bpf_map__delete_elem(e->skel->maps.transits, &et->ik[i],
			    sizeof(et->ik[i]), 0);
	if (et->under != NULL)
		tun_ebpf_under_put(e, et->under);
	e->used[et->slot] = 0;
	free(et);
	t->priv = NULL;
	return 0;
}

/*
 * Put both sides of t in the transits map (each pointing at the other
 * side's remote and key) and make sure tun_decap runs on the underlay.
 * On failure nothing is left.
 */
static int
tun_ebpf_transit_add(struct tun_ctx *ctx, struct tun_transit *t)
{
	struct tun_ebpf *e = ctx->priv;
	const struct tun_transit_cfg *c = &t->cfg;
	struct tun_ebpf_transit *et;
	struct tun_bpf_transit v;
	int rc;

	if ((et = calloc(1, sizeof(*et))) == NULL)
		return err_nomem();
	for (et->slot = 1; et->slot < TUN_BPF_MAX_LINKS && e->used[et->slot];
	    et->slot++)
		;
	if (et->slot == TUN_BPF_MAX_LINKS) {
		free(et);
		return err_set(ERR_NO_RESOURCES, "transit '%s': all %d eBPF "
		    "slots are in use", c->name, TUN_BPF_MAX_LINKS - 1);
	}
	e->used[et->slot] = 1;
	t->priv = et;
	if (tun_ebpf_stats_zero(e, et->slot) == -1)
		goto fail;
	for (int i = 0; i < 2; i++) {
		const struct tun_transit_side *in = &c->side[i];
		const struct tun_transit_side *out = &c->side[1 - i];

		et->ik[i].remote = in->remote.s_addr;
		et->ik[i].key = in->key;
		et->ik[i].encap = c->encap;
		memset(&v, 0, sizeof(v));
		v.slot = et->slot;
		v.side = (uint32_t)i;
		v.encap = c->encap;
		v.local = c->local.s_addr;
		v.remote = out->remote.s_addr;
		v.key = out->key;
		v.underlay_ifindex = (uint32_t)t->underlay_ifindex;
		rc = bpf_map__update_elem(e->skel->maps.transits, &et->ik[i],
		    sizeof(et->ik[i]), &v, sizeof(v), BPF_NOEXIST);
		if (rc < 0) {
			errno = -rc;
			err_sys("transit '%s': adding side %d to the eBPF "
			    "transit map", c->name, i + 1);
			goto fail;
		}
		et->added[i] = 1;
	}
	if ((et->under = tun_ebpf_under_get(e, t->underlay_ifindex)) == NULL)
		goto fail;
	return 0;
fail:
	tun_ebpf_transit_del(ctx, t);
	return -1;
}

static int
tun_ebpf_transit_stats(struct tun_ctx *ctx, struct tun_transit *t,
    struct tun_transit_stats *st)
{
	struct tun_ebpf_transit *et = t->priv;
	struct tun_stats s;

	memset(&s, 0, sizeof(s));
	if (tun_ebpf_slot_stats(ctx->priv, et->slot, &s) == -1)
		return -1;
	st->packets[0] = s.rx_packets;
	st->bytes[0] = s.rx_bytes;
	st->packets[1] = s.tx_packets;
	st->bytes[1] = s.tx_bytes;
	st->drops = s.drops;
	return 0;
}

const struct tun_ops tun_ebpf_ops = {
	.name = "ebpf",
	.probe = tun_ebpf_probe,
	.open = tun_ebpf_open,
	.close = tun_ebpf_close,
	.link_add = tun_ebpf_link_add,
	.link_del = tun_ebpf_link_del,
	.link_stats = tun_ebpf_link_stats,
	.unknown_drops = tun_ebpf_unknown_drops,
	.transit_add = tun_ebpf_transit_add,
	.transit_del = tun_ebpf_transit_del,
	.transit_stats = tun_ebpf_transit_stats,
};
