/*
 * Virtual links on this host.  A local link (both ends here) is a host
 * bridge that both nodes' host-side devices join, whatever the nodes'
 * attach says; its name is derived from the link's vnsm id and its alias
 * is "vnsm:link:ID", so reconcile can find ours.  A stub is one tunnel
 * end (tunnels/tunnel.h) between this host's underlay and the peer's,
 * serving the node's host-side device directly (ebpf, user) or through
 * a bridge of the same name and alias: when the node asks attach
 * "bridge", and always for L2 on the kernel backend, whose tunnel device
 * can meet a host-side device no other way.  The bridge lives as long as
 * the tunnel end does.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "error.h"
#include "log.h"
#include "substrated.h"
#include "tunnel.h"

#define LINK_ALIAS	"vnsm:link:"

static uint32_t
id_hash(const char *linkid)
{
	uint32_t h = 2166136261u;

	for (const char *p = linkid; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

void
sd_bridge_name(const char *linkid, char *out, size_t size)
{
	snprintf(out, size, "vnl%08x", id_hash(linkid));
}

/*
 * The bridge port a bridged stub makes (TAP, tunnel device, veth end).
 * Named by the agent, not derived by the library, so a port left by an
 * earlier life of the agent (kill -9) can be found and removed.
 */
static void
port_name(const char *linkid, char *out, size_t size)
{
	snprintf(out, size, "vnp%08x", id_hash(linkid));
}

static struct nl_sock *
rt_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk == NULL) {
		err_nomem();
		return NULL;
	}
	if (nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		err_set(ERR_SYSTEM, "cannot open rtnetlink");
		return NULL;
	}
	return sk;
}

/*
 * With "drivers sim" the agent makes no real resources: no bridges, no
 * tunnel ends.  Many sim agents share one host (bench/control), and
 * each would otherwise make and delete kernel bridges for links between
 * nodes that do not exist.
 */
static int links_sim;

void
sd_links_simulate(int on)
{
	links_sim = on;
}

/* Make bridge name (up, no STP) for link linkid; ERR_CONFLICT if taken. */
int
sd_bridge_add(const char *name, const char *linkid)
{
	struct nl_sock *sk;
	struct rtnl_link *l = NULL, *chg = NULL, *cur = NULL;
	char alias[64];
	int e, rc = -1;

	if (links_sim)
		return 0;
	if ((sk = rt_open()) == NULL)
		return -1;
	snprintf(alias, sizeof(alias), LINK_ALIAS "%s", linkid);
	if ((l = rtnl_link_alloc()) == NULL || (chg = rtnl_link_alloc()) ==
	    NULL) {
		err_nomem();
		goto out;
	}
	rtnl_link_set_name(l, name);
	if ((e = rtnl_link_set_type(l, "bridge")) < 0) {
		err_set(ERR_UNSUPPORTED, "bridge '%s': %s", name,
		    nl_geterror(e));
		goto out;
	}
	rtnl_link_set_flags(l, IFF_UP);
	if ((e = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL)) < 0) {
		err_set(e == -NLE_EXIST ? ERR_CONFLICT : ERR_SYSTEM,
		    "cannot create bridge '%s' for link %s: %s", name, linkid,
		    nl_geterror(e));
		goto out;
	}
	/* Alias after creation (RTM_NEWLINK ignores it). */
	if ((e = rtnl_link_get_kernel(sk, 0, name, &cur)) < 0) {
		err_set(ERR_SYSTEM, "bridge '%s' vanished: %s", name,
		    nl_geterror(e));
		goto out;
	}
	rtnl_link_set_ifalias(chg, alias);
	rtnl_link_set_flags(chg, IFF_UP);
	if ((e = rtnl_link_change(sk, cur, chg, 0)) < 0) {
		err_set(ERR_SYSTEM, "bridge '%s': alias: %s", name,
		    nl_geterror(e));
		sd_bridge_del(name);
		goto out;
	}
	rc = 0;
out:
	if (cur != NULL)
		rtnl_link_put(cur);
	if (chg != NULL)
		rtnl_link_put(chg);
	if (l != NULL)
		rtnl_link_put(l);
	nl_socket_free(sk);
	return rc;
}

void
sd_bridge_del(const char *name)
{
	struct nl_sock *sk;
	struct rtnl_link *l;
	int e;

	if (links_sim || name[0] == '\0' || (sk = rt_open()) == NULL)
		return;
	if ((l = rtnl_link_alloc()) != NULL) {
		rtnl_link_set_name(l, name);
		e = rtnl_link_delete(sk, l);
		if (e < 0 && e != -NLE_NODEV && e != -NLE_OBJ_NOTFOUND)
			log_warnx("delete bridge %s: %s", name, nl_geterror(e));
		rtnl_link_put(l);
	}
	nl_socket_free(sk);
}

/*
 * Every host link whose alias is "vnsm:link:" + an id starting with
 * prefix: names and ids in malloc'd arrays the caller frees.
 */
int
sd_bridge_list(const char *prefix, char (**names)[IFNAMSIZ],
    char (**ids)[VNODE_ID_MAX], size_t *n)
{
	struct nl_sock *sk;
	struct nl_cache *cache;
	struct nl_object *o;
	char pre[64];
	size_t plen, cap = 0;

	*names = NULL;
	*ids = NULL;
	*n = 0;
	if (links_sim)
		return 0;
	if ((sk = rt_open()) == NULL)
		return -1;
	if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) < 0) {
		nl_socket_free(sk);
		return err_set(ERR_SYSTEM, "cannot list host links");
	}
	plen = (size_t)snprintf(pre, sizeof(pre), LINK_ALIAS "%s", prefix);
	for (o = nl_cache_get_first(cache); o != NULL;
	    o = nl_cache_get_next(o)) {
		const char *a = rtnl_link_get_ifalias((struct rtnl_link *)o);

		if (a == NULL || strncmp(a, pre, plen) != 0)
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *p1 = reallocarray(*names, nc, sizeof(**names));
			void *p2;

			if (p1 != NULL)
				*names = p1;
			p2 = reallocarray(*ids, nc, sizeof(**ids));
			if (p2 != NULL)
				*ids = p2;
			if (p1 == NULL || p2 == NULL)
				break;
			cap = nc;
		}
		str_lcpy((*names)[*n], rtnl_link_get_name((struct rtnl_link *)o),
		    IFNAMSIZ);
		str_lcpy((*ids)[*n], a + strlen(LINK_ALIAS), VNODE_ID_MAX);
		(*n)++;
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return 0;
}

/* The inner MTU of a stub: what the link asks, at most what fits. */
unsigned
sd_stub_mtu(struct sd *sd, enum encap e, unsigned asked)
{
	unsigned max = tun_mtu_max((enum tun_encap)e, sd->underlay_mtu);

	return asked != 0 && asked < max ? asked : max;
}

/*
 * Does a stub of encap e meet a node asking attach through a bridge?
 * The kernel backend's L2 tunnel device is a device of its own, so it
 * joins a bridge whatever the node asks; its L3 devices cannot
 * (sd_stub_up refuses them).
 */
int
sd_stub_bridged(const struct sd *sd, enum encap e, enum attach_mode attach)
{
	if (attach == ATTACH_BRIDGE)
		return 1;
	return sd->tun != NULL && tun_ctx_backend(sd->tun) ==
	    TUN_BACKEND_KERNEL && tun_encap_is_l2((enum tun_encap)e);
}

/*
 * Remove port if it is a device in our bridge: what a killed agent left
 * of the stub (ebpf: a veth pair; kernel: the tunnel device), which the
 * library would refuse to make again.  Anything else of that name is
 * left alone, and tun_link_add then refuses it.
 */
static void
stale_port_del(const char *port, const char *bridge)
{
	struct nl_sock *sk;
	struct rtnl_link *cur = NULL;
	unsigned bi = if_nametoindex(bridge);
	int e;

	if (bi == 0 || if_nametoindex(port) == 0 || (sk = rt_open()) == NULL)
		return;
	if (rtnl_link_get_kernel(sk, 0, port, &cur) >= 0 &&
	    rtnl_link_get_master(cur) == (int)bi) {
		log_info("stub port %s: left by an earlier run, removed",
		    port);
		if ((e = rtnl_link_delete(sk, cur)) < 0)
			log_warnx("delete %s: %s", port, nl_geterror(e));
	}
	if (cur != NULL)
		rtnl_link_put(cur);
	nl_socket_free(sk);
}

/*
 * Bring stub l up for node n: a tunnel end from our underlay to the
 * peer's, keyed, serving the host-side device of n's interface for l:
 * directly, or (l->bridge set) through that bridge, made here if
 * missing and removed again if the tunnel end cannot be made.
 */
int
sd_stub_up(struct sd *sd, struct sd_link *l, const struct sd_node *n)
{
	struct tun_link_cfg cfg;
	const struct vnode_if *f = NULL;
	int made = 0;

	if (links_sim)
		return 0;
	if (sd->tun == NULL)
		return err_set(ERR_UNSUPPORTED, "host %s has no tunnel "
		    "backend: %s", sd->conf->host, sd->tun_why);
	for (size_t i = 0; n != NULL && i < n->spec.nifs; i++)
		if (strcmp(n->iflink[i], l->name) == 0)
			f = &n->spec.ifs[i];
	if (f == NULL)
		return err_set(ERR_INTERNAL, "stub '%s' has no interface on "
		    "node '%s'", l->name, l->node[0]);
	memset(&cfg, 0, sizeof(cfg));
	str_lcpy(cfg.name, l->id, sizeof(cfg.name));
	cfg.encap = (enum tun_encap)l->encap;
	cfg.local.s_addr = htonl(sd->conf->underlay);
	cfg.remote.s_addr = htonl(l->remote);
	cfg.key = l->key;
	cfg.mtu = l->mtu;
	/*
	 * A state row from before bridged stubs were recorded, or from a
	 * run on another backend: the kernel backend still needs one.
	 */
	if (l->bridge[0] == '\0' && sd_stub_bridged(sd, l->encap,
	    ATTACH_DIRECT))
		sd_bridge_name(l->id, l->bridge, sizeof(l->bridge));
	if (l->bridge[0] != '\0') {
		/* Validation refuses these; a state row might not. */
		if (!tun_encap_is_l2(cfg.encap))
			return err_set(ERR_UNSUPPORTED, "stub '%s': a bridge "
			    "carries frames, but %s carries packets; use "
			    "gretap or vxlan, or attach='direct'", l->name,
			    encap_to_string(l->encap));
		cfg.attach = TUN_ATTACH_BRIDGE;
		str_lcpy(cfg.bridge, l->bridge, sizeof(cfg.bridge));
		port_name(l->id, cfg.port, sizeof(cfg.port));
		stale_port_del(cfg.port, cfg.bridge);
		/* Ours, with our alias, so reconcile knows it. */
		if (if_nametoindex(l->bridge) == 0) {
			if (sd_bridge_add(l->bridge, l->id) == -1)
				return -1;
			made = 1;
		}
	} else if (tun_ctx_backend(sd->tun) == TUN_BACKEND_KERNEL)
		return err_set(ERR_UNSUPPORTED, "stub '%s': the kernel "
		    "tunnel backend carries %s only as the node's own "
		    "device; use tunnel-backend ebpf or user",
		    l->name, encap_to_string(l->encap));
	else
		cfg.attach = TUN_ATTACH_DIRECT;
	str_lcpy(cfg.node_if, f->peer, sizeof(cfg.node_if));
	if ((l->tl = tun_link_add(sd->tun, &cfg)) == NULL) {
		if (made)
			sd_bridge_del(l->bridge);
		return -1;
	}
	log_debug("stub %s (%s): %s key %u to %s via %s%s%s", l->name, l->id,
	    encap_to_string(l->encap), l->key, inet_ntoa(cfg.remote),
	    cfg.node_if, cfg.attach == TUN_ATTACH_BRIDGE ? " on bridge " : "",
	    cfg.attach == TUN_ATTACH_BRIDGE ? cfg.bridge : "");
	return 0;
}

void
sd_stub_down(struct sd *sd, struct sd_link *l)
{
	if (l->tl == NULL || sd->tun == NULL)
		return;
	if (tun_link_del(sd->tun, l->tl) == -1) {
		log_warnx("stub %s: %s", l->name, err_last()->msg);
		err_reset();
	}
	l->tl = NULL;
	/* The library removes its port only; the bridge was ours. */
	sd_bridge_del(l->bridge);
}
