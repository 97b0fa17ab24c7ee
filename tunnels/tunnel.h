/*
 * Virtual links: one end of a point-to-point tunnel between two substrate
 * hosts, serving one interface of a virtual node.
 *
 * A link end says how packets are wrapped (IPv4-in-IPv4, GRE with an
 * RFC 2890 key, GRE carrying Ethernet, VXLAN with a VNI), between which
 * underlay addresses, with which key, at which inner MTU, and which node
 * interface it serves.  A data-plane backend does the work; the backends
 * sit behind one table of functions (struct tun_ops) and one is chosen
 * per host by what the kernel offers:
 *
 *   ebpf    tc clsact programs: encapsulate on the node interface,
 *           decapsulate on the underlay, demultiplex by key/VNI in BPF
 *           maps, redirect straight into the node.  No tunnel modules.
 *   kernel  ipip / gre / gretap / vxlan devices made through rtnetlink.
 *   user    a forwarder thread in this process: AF_PACKET or TAP on the
 *           node side, raw IP / UDP sockets on the underlay, batched.
 *
 * A packet arriving with a key, VNI or outer source that belongs to no
 * link of this context is dropped and counted (tun_unknown_drops), so one
 * VNet never sees another's packets even when inner addresses overlap.
 * A link end may also name the inner IPv4 prefix on its node's side
 * (tun_link_cfg.inner, ebpf and user): arriving packets to other
 * addresses are dropped and counted in its drops.
 *
 * Attachment (the paper's bridge vs Click option):
 *   direct  no bridge.  ebpf and user forward between the underlay and
 *           node_if, an existing interface in this namespace (the host end
 *           of the node's veth, or a VM's tap).  kernel creates the
 *           tunnel device, moves it into node_netns and names it node_if
 *           there: the node's interface is the tunnel device itself.
 *   bridge  the link end gets a port device (kernel: the tunnel device;
 *           user: a TAP; ebpf: one end of a veth pair whose other end
 *           carries the tc programs) that joins bridge, created if
 *           missing; node_if, if given, joins it too.  Only for L2
 *           encapsulations.  Deleting the link removes its port only.
 *
 * All functions record an error (lib/error.h) and return -1 or NULL on
 * failure.  A context is used by one thread at a time; the user backend's
 * own forwarder thread is internal.
 */
#ifndef VNSM_TUNNEL_H
#define VNSM_TUNNEL_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>

#include "util.h"

enum tun_encap {
	TUN_ENCAP_IPIP,		/* IPv4 in IPv4 (protocol 4), L3 */
	TUN_ENCAP_GRE,		/* GRE with key, carries IPv4, L3 */
	TUN_ENCAP_GRETAP,	/* GRE with key, carries Ethernet, L2 */
	TUN_ENCAP_VXLAN,	/* VXLAN over UDP 4789, carries Ethernet, L2 */
	TUN_ENCAP_LAST
};
ENUM_DECL(tun_encap);

enum tun_backend {
	TUN_BACKEND_EBPF,
	TUN_BACKEND_KERNEL,
	TUN_BACKEND_USER,
	TUN_BACKEND_LAST
};
ENUM_DECL(tun_backend);

enum tun_attach {
	TUN_ATTACH_DIRECT,
	TUN_ATTACH_BRIDGE,
	TUN_ATTACH_LAST
};
ENUM_DECL(tun_attach);

#define TUN_NAME_MAX		32	/* link names, with the NUL */
#define TUN_PATH_MAX		256	/* namespace paths, with the NUL */
#define TUN_VXLAN_PORT		4789	/* IANA VXLAN port */
#define TUN_VNI_MAX		0xffffffu

/* Configuration of one link end; what the agent asks for. */
struct tun_link_cfg {
	char name[TUN_NAME_MAX];	/* unique in the context; logs, reports */
	enum tun_encap encap;
	struct in_addr local;		/* underlay address of this host */
	struct in_addr remote;		/* underlay address of the peer host */
	uint32_t key;			/* GRE key (any value) or VXLAN VNI
					   (<= TUN_VNI_MAX); unused for ipip */
	unsigned int mtu;		/* inner MTU, bytes; 0: the largest
					   that fits the underlay */
	enum tun_attach attach;
	char node_if[IFNAMSIZ];		/* node interface, see above */
	char node_netns[TUN_PATH_MAX];	/* kernel direct only: the node's
					   netns (/run/netns/x, /proc/N/ns/net) */
	char bridge[IFNAMSIZ];		/* bridge attach only */
	char port[IFNAMSIZ];		/* name of the device the link end
					   makes, if any (bridge attach: the
					   bridge port); "" = derived */
	/*
	 * Inner-address filter, opt-in (has_inner 0: none, as a node may
	 * be a router and reach anything).  With has_inner 1, a
	 * decapsulated IPv4 packet whose destination is outside
	 * inner/inner_len is dropped and counted in the link's drops:
	 * only the addresses on the node's side of this link end may be
	 * reached through it.  Limited broadcast and multicast pass, and
	 * so does whatever is not IPv4 (ARP, IPv6).  Sent packets are not
	 * filtered (a router node forwards other sources' packets).
	 * ebpf and user only; host bits must be zero.
	 */
	int has_inner;
	struct in_addr inner;		/* prefix, network order */
	unsigned int inner_len;		/* prefix length, 0..32 */
};

/* Counters of one link end.  Packets count wire packets (GSO segments). */
struct tun_stats {
	uint64_t tx_packets;	/* node -> underlay, encapsulated */
	uint64_t tx_bytes;	/* inner bytes (L3 packet or L2 frame) */
	uint64_t rx_packets;	/* underlay -> node, decapsulated */
	uint64_t rx_bytes;	/* inner bytes */
	uint64_t drops;		/* dropped by this link: oversize, not
				   routable, not the link's protocol,
				   outside the inner prefix */
};

struct tun_ctx;
struct tun_link;

/* The best backend this host can run, or -1 (error recorded). */
int tun_backend_detect(void);
/* 0 if this host can run backend b, else -1 with the reason recorded. */
int tun_backend_probe(enum tun_backend b);

/*
 * Open a context on backend b, or on tun_backend_detect()'s choice when b
 * is -1.  Free with tun_close(), which removes every link still present.
 */
struct tun_ctx *tun_open(int b);
void tun_close(struct tun_ctx *ctx);
enum tun_backend tun_ctx_backend(const struct tun_ctx *ctx);

/* Largest inner MTU for encap over an underlay of underlay_mtu bytes. */
unsigned int tun_mtu_max(enum tun_encap encap, unsigned int underlay_mtu);
/* Bytes the encapsulation adds in front of the inner L3 packet. */
unsigned int tun_overhead(enum tun_encap encap);
/* 1 if encap carries Ethernet frames (gretap, vxlan). */
int tun_encap_is_l2(enum tun_encap encap);

/* Check a configuration on its own (ranges, names, attach rules). */
int tun_link_cfg_validate(const struct tun_link_cfg *cfg, enum tun_backend b);

/*
 * Create a link end.  The configuration is copied; mtu 0 is replaced by
 * the computed value.  Fails with ERR_DUPLICATE if the name, the node
 * interface or the (encap, key, remote) triple is already in use.
 */
struct tun_link *tun_link_add(struct tun_ctx *ctx,
    const struct tun_link_cfg *cfg);
/* Remove a link end and free it; NULL is a no-op. */
int tun_link_del(struct tun_ctx *ctx, struct tun_link *link);
struct tun_link *tun_link_find(struct tun_ctx *ctx, const char *name);
const struct tun_link_cfg *tun_link_config(const struct tun_link *link);
int tun_link_stats(struct tun_ctx *ctx, struct tun_link *link,
    struct tun_stats *st);
/* Packets dropped because no link owns their key/VNI/outer source. */
uint64_t tun_unknown_drops(struct tun_ctx *ctx);

/*
 * Transits: two tunnel ends joined on this host, with no node between
 * them.  A packet arriving from side[i].remote with side[i].key (the
 * transit's encapsulation, to local) leaves again towards the other
 * side's remote with the other side's key: only the outer header is
 * rewritten (addresses, key or VNI, TTL less one, checksums), the packet
 * is never decapsulated.  A link leaving a PIP is stitched this way at
 * the PIP's peering host.  Both remotes are reached through the underlay
 * device holding local.  The (encap, key, remote) of each side must be
 * unused by every link and every other transit of the context.  Only
 * the ebpf backend has transits; the others fail with ERR_UNSUPPORTED.
 */
struct tun_transit_side {
	struct in_addr remote;		/* underlay address of that side's host */
	uint32_t key;			/* GRE key or VNI on that side; 0: ipip */
};

struct tun_transit_cfg {
	char name[TUN_NAME_MAX];	/* unique among transits of the context */
	enum tun_encap encap;		/* the same on both sides */
	struct in_addr local;		/* underlay address of this host */
	struct tun_transit_side side[2];
};

/* Counters of a transit: packets[i] arrived on side i, left on the other. */
struct tun_transit_stats {
	uint64_t packets[2];		/* wire packets (GSO segments) */
	uint64_t bytes[2];		/* outer IPv4 bytes */
	uint64_t drops;			/* TTL expired, GRE checksum, errors */
};

struct tun_transit;

int tun_transit_cfg_validate(const struct tun_transit_cfg *cfg);
/* Join the two sides; ERR_DUPLICATE as for links, ERR_UNSUPPORTED. */
struct tun_transit *tun_transit_add(struct tun_ctx *ctx,
    const struct tun_transit_cfg *cfg);
/* Remove a transit and free it; NULL is a no-op. */
int tun_transit_del(struct tun_ctx *ctx, struct tun_transit *t);
struct tun_transit *tun_transit_find(struct tun_ctx *ctx, const char *name);
const struct tun_transit_cfg *tun_transit_config(const struct tun_transit *t);
int tun_transit_stats(struct tun_ctx *ctx, struct tun_transit *t,
    struct tun_transit_stats *st);

/* Parse "ipip" etc. and a dotted quad; record ERR_INVALID on failure. */
int tun_parse_encap(const char *s, enum tun_encap *out);
int tun_parse_addr(const char *s, struct in_addr *out);
/*
 * Parse an IPv4 prefix "A.B.C.D/N", N 0..32 in decimal, both parts
 * required; ERR_INVALID on failure.  Host bits are left as written (the
 * configuration check refuses them).
 */
int tun_parse_prefix(const char *s, struct in_addr *addr, unsigned int *len);
/* Netmask of a prefix length 0..32, network order. */
uint32_t tun_prefix_mask(unsigned int len);
/*
 * 1 if a decapsulated IPv4 packet to daddr (network order) may reach the
 * node of link end cfg: no filter, daddr in the inner prefix, or daddr
 * the limited broadcast or multicast.  The ebpf data plane repeats it.
 */
int tun_inner_dst_ok(const struct tun_link_cfg *cfg, uint32_t daddr);

#endif
