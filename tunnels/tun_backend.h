/*
 * Inside the virtual link library: the table of functions every backend
 * fills, the context and link structs the backends share, and the small
 * interface helpers of tun_if.c.  Not for users of the library.
 */
#ifndef VNSM_TUN_BACKEND_H
#define VNSM_TUN_BACKEND_H

#include <sys/uio.h>

#include <stddef.h>
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

struct tun_transit {
	struct tun_transit_cfg cfg;	/* as added */
	struct tun_transit *next;	/* next in ctx->transits */
	int underlay_ifindex;		/* device holding cfg.local */
	void *priv;			/* backend state, owned by the backend */
};

struct tun_ctx {
	enum tun_backend backend;
	const struct tun_ops *ops;
	struct tun_link *links;		/* every link end, newest first */
	struct tun_transit *transits;	/* every transit, newest first */
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
	/* Transits (tun_transit.c); NULL: the backend has none. */
	int (*transit_add)(struct tun_ctx *ctx, struct tun_transit *t);
	int (*transit_del)(struct tun_ctx *ctx, struct tun_transit *t);
	int (*transit_stats)(struct tun_ctx *ctx, struct tun_transit *t,
	    struct tun_transit_stats *st);
};

extern const struct tun_ops tun_ebpf_ops;
extern const struct tun_ops tun_kernel_ops;
extern const struct tun_ops tun_user_ops;

/* tun_transit.c: for tunnel.c. */
int tun_transit_conflict_link(struct tun_ctx *ctx,
    const struct tun_link_cfg *cfg);
void tun_transit_close(struct tun_ctx *ctx);

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
int tun_veth_add(const char *name, const char *peer);
int tun_if_delete(const char *name);
void tun_hash_name(const char *seed, const char *prefix, char *out,
    size_t size);
void tun_port_name(const struct tun_link_cfg *cfg, const char *prefix,
    char *out, size_t size);

/* tun_gro.c: coalescing of TCP segments for the user backend. */
#define TUN_GRO_SEGS	64		/* segments in one merged packet */
#define TUN_GRO_HDR	(10 + 14 + 20 + 60) /* vnet, eth, IPv4, TCP */

enum { TUN_GRO_HELD, TUN_GRO_FLUSH, TUN_GRO_PASS };

struct tun_gro {
	const void *owner;		/* whose packet; NULL when nseg is 0 */
	uint8_t hdr[TUN_GRO_HDR];	/* vnet hdr, eth, first IPv4 + TCP */
	size_t hlen;			/* bytes of hdr in use */
	size_t ipoff;			/* offset of the IPv4 header in hdr */
	size_t thl;			/* TCP header length, bytes */
	size_t mss;			/* first segment's payload, bytes */
	size_t payload;			/* sum of the payloads, bytes */
	uint32_t next_seq;		/* sequence number that continues it */
	int nseg;			/* segments held, 0..TUN_GRO_SEGS */
	int closed;			/* 1: a short or PSH segment ended it */
	int psh;			/* 1: the last segment had PSH */
	struct iovec iov[1 + TUN_GRO_SEGS]; /* hdr, then the payloads */
};

uint64_t tun_csum_add(const void *p, size_t len, uint64_t sum);
uint16_t tun_csum_fold(uint64_t sum);
void tun_gro_init(struct tun_gro *g);
int tun_gro_add(struct tun_gro *g, const void *owner, const uint8_t *eth,
    const uint8_t *ip, size_t len);
struct iovec *tun_gro_finish(struct tun_gro *g, const void **owner,
    int *niov);

#endif
