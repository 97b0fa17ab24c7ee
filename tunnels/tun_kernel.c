/*
 * The kernel backend: one tunnel device per link end (ipip, gre, gretap,
 * vxlan), made through rtnetlink with libnl-route-3.
 *
 *   bridge  the device is made here and joins the bridge (L2 only).
 *   direct  the device is made inside the node's namespace under the
 *           node's interface name; its underlay socket stays in this
 *           namespace, so the node sees a plain interface.
 *
 * The kernel itself demultiplexes by key/VNI and drops what no device
 * claims, but it counts those drops nowhere a program can read
 * (tun_unknown_drops() is 0 here); per-link counters are the device's.
 * tun_kernel_link_new() is apart from the netlink I/O so the unit tests
 * can check the request of every encapsulation, even on kernels that lack
 * the device type.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/route/link.h>
#include <netlink/route/link/ipgre.h>
#include <netlink/route/link/ipip.h>
#include <netlink/route/link/vxlan.h>

#include "error.h"
#include "log.h"
#include "tun_backend.h"

#define GRE_KEY_FLAG	0x2000		/* GRE_KEY of <linux/if_tunnel.h> */

struct tun_kernel_link {
	char dev[IFNAMSIZ];		/* the tunnel device's name */
};

/*
 * Describe the tunnel device for cfg as an rtnl_link ready for
 * rtnl_link_add() or rtnl_link_build_add_request(): kind, addresses,
 * key in both directions (GRE) or VNI, underlay device, TTL, MTU, up.
 * Returns a new reference, or NULL with an error recorded.
 */
struct rtnl_link *
tun_kernel_link_new(const struct tun_link_cfg *c, int underlay_ifindex,
    const char *dev)
{
	struct rtnl_link *l = NULL;
	struct nl_addr *a = NULL, *b = NULL;
	uint16_t kf = htons(GRE_KEY_FLAG);

	switch (c->encap) {
	case TUN_ENCAP_IPIP:
		if ((l = rtnl_link_ipip_alloc()) == NULL)
			break;
		rtnl_link_ipip_set_local(l, c->local.s_addr);
		rtnl_link_ipip_set_remote(l, c->remote.s_addr);
		rtnl_link_ipip_set_link(l, (uint32_t)underlay_ifindex);
		rtnl_link_ipip_set_ttl(l, 64);
		rtnl_link_ipip_set_pmtudisc(l, 1);
		break;
	case TUN_ENCAP_GRE:
	case TUN_ENCAP_GRETAP:
		l = c->encap == TUN_ENCAP_GRE ? rtnl_link_ipgre_alloc() :
		    rtnl_link_ipgretap_alloc();
		if (l == NULL)
			break;
		rtnl_link_ipgre_set_local(l, c->local.s_addr);
		rtnl_link_ipgre_set_remote(l, c->remote.s_addr);
		rtnl_link_ipgre_set_link(l, (uint32_t)underlay_ifindex);
		rtnl_link_ipgre_set_ttl(l, 64);
		rtnl_link_ipgre_set_pmtudisc(l, 1);
		/* RFC 2890 key, same both ways; libnl wants wire order. */
		rtnl_link_ipgre_set_iflags(l, kf);
		rtnl_link_ipgre_set_oflags(l, kf);
		rtnl_link_ipgre_set_ikey(l, htonl(c->key));
		rtnl_link_ipgre_set_okey(l, htonl(c->key));
		break;
	case TUN_ENCAP_VXLAN:
		if ((l = rtnl_link_vxlan_alloc()) == NULL)
			break;
		a = nl_addr_build(AF_INET, &c->local, sizeof(c->local));
		b = nl_addr_build(AF_INET, &c->remote, sizeof(c->remote));
		if (a == NULL || b == NULL) {
			rtnl_link_put(l);
			l = NULL;
			break;
		}
		rtnl_link_vxlan_set_id(l, c->key);
		rtnl_link_vxlan_set_local(l, a);
		rtnl_link_vxlan_set_group(l, b);	/* unicast remote */
		rtnl_link_vxlan_set_link(l, (uint32_t)underlay_ifindex);
		rtnl_link_vxlan_set_port(l, TUN_VXLAN_PORT);
		rtnl_link_vxlan_set_ttl(l, 64);
		rtnl_link_vxlan_set_learning(l, 0);
		break;
	default:
		err_set(ERR_INVALID, "unknown encapsulation %d", (int)c->encap);
		return NULL;
	}
	nl_addr_put(a);
	nl_addr_put(b);
	if (l == NULL) {
		err_nomem();
		return NULL;
	}
	rtnl_link_set_name(l, dev);
	rtnl_link_set_mtu(l, c->mtu);
	rtnl_link_set_flags(l, IFF_UP);
	return l;
}

/*
 * A route socket connected inside the namespace at nspath ("" = here).
 * The calling thread enters the namespace only for the connect().
 */
static struct nl_sock *
tun_kernel_sock(const char *nspath)
{
	struct nl_sock *sk;
	int self = -1, target = -1, rc;

	if ((sk = nl_socket_alloc()) == NULL) {
		err_nomem();
		return NULL;
	}
	if (nspath[0] != '\0') {
		if ((self = open("/proc/thread-self/ns/net",
		    O_RDONLY | O_CLOEXEC)) == -1 ||
		    (target = open(nspath, O_RDONLY | O_CLOEXEC)) == -1 ||
		    setns(target, CLONE_NEWNET) == -1) {
			err_sys("entering network namespace %s", nspath);
			goto fail;
		}
	}
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (self != -1 && setns(self, CLONE_NEWNET) == -1)
		fatal("cannot return to this thread's network namespace");
	if (rc < 0) {
		err_set(ERR_SYSTEM, "netlink: %s", nl_geterror(rc));
		goto fail;
	}
	if (self != -1)
		close(self);
	if (target != -1)
		close(target);
	return sk;
fail:
	if (self != -1)
		close(self);
	if (target != -1)
		close(target);
	nl_socket_free(sk);
	return NULL;
}

/* Make a device of each kind and delete it: can this kernel do them all? */
static int
tun_kernel_probe(void)
{
	struct tun_link_cfg c;
	struct nl_sock *sk;
	char dev[IFNAMSIZ];
	int rc = 0;

	if ((sk = tun_kernel_sock("")) == NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	c.local.s_addr = htonl(0x7f000001);
	c.remote.s_addr = htonl(0x7f000002);
	c.mtu = 1400;
	c.key = 1;
	for (int e = 0; e < TUN_ENCAP_LAST && rc == 0; e++) {
		struct rtnl_link *l;
		int r;

		c.encap = e;
		c.key = e == TUN_ENCAP_IPIP ? 0 : 1;
		snprintf(dev, sizeof(dev), "vtprobe%d", (int)getpid() % 100000);
		if ((l = tun_kernel_link_new(&c, 0, dev)) == NULL)
			rc = -1;
		else {
			rtnl_link_unset_flags(l, IFF_UP);
			r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
			if (r < 0)
				rc = err_set(ERR_UNSUPPORTED,
				    "this kernel cannot make %s devices: %s",
				    tun_encap_to_string(e), nl_geterror(r));
			else
				rtnl_link_delete(sk, l);
			rtnl_link_put(l);
		}
	}
	nl_socket_free(sk);
	return rc;
}

static int
tun_kernel_open(struct tun_ctx *ctx)
{
	ctx->priv = NULL;
	return 0;
}

static void
tun_kernel_close(struct tun_ctx *ctx)
{
}

static int
tun_kernel_link_add(struct tun_ctx *ctx, struct tun_link *link)
{
	const struct tun_link_cfg *c = &link->cfg;
	struct tun_kernel_link *kl;
	struct rtnl_link *l;
	struct nl_sock *sk;
	int nsfd = -1, rc;

	if ((kl = calloc(1, sizeof(*kl))) == NULL)
		return err_nomem();
	if (c->attach == TUN_ATTACH_DIRECT)
		str_lcpy(kl->dev, c->node_if, sizeof(kl->dev));
	else
		tun_port_name(c, "vk", kl->dev, sizeof(kl->dev));
	if ((l = tun_kernel_link_new(c, link->underlay_ifindex,
	    kl->dev)) == NULL)
		goto fail;
	if (c->attach == TUN_ATTACH_DIRECT) {
		if ((nsfd = open(c->node_netns, O_RDONLY | O_CLOEXEC)) == -1) {
			err_sys("link '%s': node namespace %s", c->name,
			    c->node_netns);
			goto fail_link;
		}
		rtnl_link_set_ns_fd(l, nsfd);
	}
	if ((sk = tun_kernel_sock("")) == NULL)
		goto fail_link;
	rc = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	nl_socket_free(sk);
	if (rc < 0) {
		err_set(rc == -NLE_OPNOTSUPP ? ERR_UNSUPPORTED : ERR_SYSTEM,
		    "link '%s': making %s device %s: %s", c->name,
		    tun_encap_to_string(c->encap), kl->dev, nl_geterror(rc));
		goto fail_link;
	}
	if (c->attach == TUN_ATTACH_BRIDGE) {
		if (tun_bridge_ensure(c->bridge) == -1 ||
		    tun_bridge_add_port(c->bridge, kl->dev) == -1 ||
		    (c->node_if[0] != '\0' &&
		    tun_bridge_add_port(c->bridge, c->node_if) == -1)) {
			tun_if_delete(kl->dev);
			goto fail_link;
		}
	}
	if (nsfd != -1)
		close(nsfd);
	rtnl_link_put(l);
	link->priv = kl;
	return 0;

fail_link:
	if (nsfd != -1)
		close(nsfd);
	rtnl_link_put(l);
fail:
	free(kl);
	return -1;
}

/* The device of link, looked up where it lives; NULL if gone. */
static struct rtnl_link *
tun_kernel_dev(const struct tun_link *link, struct nl_sock **skp)
{
	const struct tun_kernel_link *kl = link->priv;
	const char *ns = link->cfg.attach == TUN_ATTACH_DIRECT ?
	    link->cfg.node_netns : "";
	struct rtnl_link *l = NULL;
	struct nl_sock *sk;
	int rc;

	if ((sk = tun_kernel_sock(ns)) == NULL)
		return NULL;
	if ((rc = rtnl_link_get_kernel(sk, 0, kl->dev, &l)) < 0) {
		err_set(ERR_NOT_FOUND, "link '%s': device %s: %s",
		    link->cfg.name, kl->dev, nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	*skp = sk;
	return l;
}

static int
tun_kernel_link_del(struct tun_ctx *ctx, struct tun_link *link)
{
	struct nl_sock *sk;
	struct rtnl_link *l;
	int rc = 0;

	/* A device gone with its namespace is already deleted. */
	if ((l = tun_kernel_dev(link, &sk)) != NULL) {
		if ((rc = rtnl_link_delete(sk, l)) < 0)
			rc = err_set(ERR_SYSTEM, "link '%s': deleting: %s",
			    link->cfg.name, nl_geterror(rc));
		rtnl_link_put(l);
		nl_socket_free(sk);
	} else
		err_reset();
	free(link->priv);
	link->priv = NULL;
	return rc;
}

static int
tun_kernel_link_stats(struct tun_ctx *ctx, struct tun_link *link,
    struct tun_stats *st)
{
	struct nl_sock *sk;
	struct rtnl_link *l;

	if ((l = tun_kernel_dev(link, &sk)) == NULL)
		return -1;
	st->tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
	st->tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
	st->rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
	st->rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
	st->drops = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED) +
	    rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED) +
	    rtnl_link_get_stat(l, RTNL_LINK_TX_ERRORS) +
	    rtnl_link_get_stat(l, RTNL_LINK_RX_ERRORS);
	rtnl_link_put(l);
	nl_socket_free(sk);
	return 0;
}

static uint64_t
tun_kernel_unknown_drops(struct tun_ctx *ctx)
{
	return 0;
}

const struct tun_ops tun_kernel_ops = {
	.name = "kernel",
	.probe = tun_kernel_probe,
	.open = tun_kernel_open,
	.close = tun_kernel_close,
	.link_add = tun_kernel_link_add,
	.link_del = tun_kernel_link_del,
	.link_stats = tun_kernel_link_stats,
	.unknown_drops = tun_kernel_unknown_drops,
};
