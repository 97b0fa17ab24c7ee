/*
 * What the eBPF data plane (tun_ebpf.bpf.c) and its loader (tun_ebpf.c)
 * share: the layout of the BPF maps.  Addresses are in network order,
 * keys in host order.
 */
#ifndef VNSM_TUN_EBPF_H
#define VNSM_TUN_EBPF_H

#include <linux/types.h>

#define TUN_BPF_MAX_LINKS	4096	/* link ends per context */
#define TUN_BPF_SLOT_GLOBAL	0	/* stats slot of unknown-key drops */

/* enum tun_encap, repeated for the BPF side (checked in tun_ebpf.c). */
#define TUN_BPF_IPIP		0
#define TUN_BPF_GRE		1
#define TUN_BPF_GRETAP		2
#define TUN_BPF_VXLAN		3

#define TUN_BPF_F_PEER		0x1	/* node_if is a veth whose peer is in
					   another namespace: redirect_peer */
#define TUN_BPF_F_INNER		0x2	/* inner-address filter: see inner */

/*
 * One link end, keyed by the ifindex of the interface tun_encap runs on:
 * the node interface (direct attach) or the inner end of the link's veth
 * pair (bridge attach); "node_if" below means that interface.
 */
struct tun_bpf_link {
	__u32 slot;		/* stats slot, 1..TUN_BPF_MAX_LINKS-1 */
	__u32 encap;		/* enum tun_encap */
	__u32 local;		/* outer source, network order */
	__u32 remote;		/* outer destination, network order */
	__u32 key;		/* GRE key or VNI, host order; 0 for ipip */
	__u32 mtu;		/* inner MTU, bytes */
	__u32 underlay_ifindex;	/* device holding local */
	__u32 node_ifindex;	/* node_if (the map key) */
	__u32 flags;		/* TUN_BPF_F_* */
	__u32 inner;		/* TUN_BPF_F_INNER: decapsulated IPv4 must go
				   to inner/inner_mask (network order), to
				   255.255.255.255 or to 224.0.0.0/4 */
	__u32 inner_mask;
	__u8 node_if_mac[6];	/* MAC of node_if: source towards the node */
	__u8 node_mac[6];	/* node's MAC, learnt; all zero until seen */
	__u8 under_mac[6];	/* MAC of the underlay device */
	__u8 peer_mac[6];	/* underlay next hop: primed by the loader,
				   learnt from arriving packets; zero if
				   unknown (only non-IP frames need it) */
};

/* What identifies a link on arrival. */
struct tun_bpf_ikey {
	__u32 remote;		/* outer source, network order */
	__u32 key;		/* GRE key or VNI, host order; 0 for ipip */
	__u32 encap;		/* enum tun_encap */
};

/*
 * One side of a transit, keyed by what arrives on it (struct
 * tun_bpf_ikey): where the packet goes next.  A transit takes one stats
 * slot; side 0 counts into rx_*, side 1 into tx_*.
 */
struct tun_bpf_transit {
	__u32 slot;		/* stats slot, shared by both sides */
	__u32 side;		/* 0 or 1: which side this entry receives */
	__u32 encap;		/* enum tun_encap */
	__u32 local;		/* this host, network order */
	__u32 remote;		/* the other side's host, network order */
	__u32 key;		/* the other side's key or VNI, host order */
	__u32 underlay_ifindex;	/* device holding local */
};

/* Per-CPU counters of one slot. */
struct tun_bpf_stats {
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 drops;
};

#endif
