/*
 * Inside the virtual link library: the table of functions every backend
 * fills, the context and link structs the backends share, and the small
 * interface helpers of tun_if.c.  Not for users of the library.
 */
#ifndef VNSM_TUN_BACKEND_H
#define VNSM_TUN_BACKEND_H

#include <stdint.h>

#include "tunnel.h"

struct tun_link {
	struct tun_link_cfg cfg;	/* as added; mtu resolved, never 0 */
	struct tun_link *next;		/* next in ctx->links */
	unsigned int underlay_mtu;	/* MTU of the underlay device, bytes */
	int underlay_ifindex;		/* device holding cfg.local */
	int node_ifindex;		/* cfg.node_if here; 0 if none/elsewhere */
	void *priv;			/* backend state, owned by the backend */
};

struct tun_ctx {
	enum tun_backend backend;
	const struct tun_ops *ops;
	struct tun_link *links;		/* every link end, newest first */
	void *priv;			/* backend state, owned by the backend */
};

/*
 * A data-plane backend.  link_add is called after the generic checks, with
 * link->underlay_* and link->node_ifindex resolved; it either makes the
 * link work or leaves nothing behind.  link_del undoes link_add.
 */
struct tun_ops {
	const char *name;
	int (*probe)(void);		/* 0: this host can run it */
	int (*open)(struct tun_ctx *ctx);
	void (*close)(struct tun_ctx *ctx);	/* after every link_del */
	int (*link_add)(struct tun_ctx *ctx, struct tun_link *link);
	int (*link_del)(struct tun_ctx *ctx, struct tun_link *link);
	int (*link_stats)(struct tun_ctx *ctx, struct tun_link *link,
	    struct tun_stats *st);
	uint64_t (*unknown_drops)(struct tun_ctx *ctx);
};

extern const struct tun_ops tun_ebpf_ops;
extern const struct tun_ops tun_kernel_ops;
extern const struct tun_ops tun_user_ops;

/* tun_kernel.c: the device request, apart from the I/O for unit tests. */
struct rtnl_link;
struct rtnl_link *tun_kernel_link_new(const struct tun_link_cfg *cfg,
    int underlay_ifindex, const char *dev);

/* tun_if.c: interfaces of the current network namespace. */
int tun_if_index(const char *name);
int tun_if_mac(const char *name, uint8_t mac[6]);
int tun_if_mtu(const char *name, unsigned int *mtu);
int tun_if_set_mtu(const char *name, unsigned int mtu);
int tun_if_up(const char *name);
int tun_if_is_veth(const char *name);
int tun_if_by_addr(struct in_addr addr, char *name, size_t size);
int tun_neigh_mac(const char *dev, struct in_addr addr, uint8_t mac[6],
    int wait_ms);
int tun_if_sysctl(const char *name, const char *key, const char *value);
int tun_bridge_ensure(const char *bridge);
int tun_bridge_add_port(const char *bridge, const char *port);
int tun_if_delete(const char *name);
void tun_port_name(const struct tun_link_cfg *cfg, const char *prefix,
    char *out, size_t size);

#endif
