// SPDX-License-Identifier: GPL-2.0
/*
 * The eBPF data plane of vnsm's virtual links: two tc clsact programs,
 * compiled with clang -target bpf and embedded in the library as a
 * skeleton (tunnels/rules.mk).
 *
 *   tun_encap  on ingress of a node interface (the host end of the node's
 *              veth, or its tap; bridge attach: the inner end of the
 *              link's veth pair): wraps the node's packet for its link and
 *              sends it out of the underlay device.  For the L3
 *              encapsulations it also answers the node's ARP requests, so
 *              the node needs no neighbour set-up.  An IPv4 packet over
 *              the link MTU with DF set is answered with ICMP
 *              "fragmentation needed".
 *   tun_decap  on ingress of the underlay device: recognises IPIP, GRE
 *              and VXLAN, finds the link by (outer source, key/VNI,
 *              encapsulation), strips the outer headers and redirects the
 *              packet into the node.  Unknown keys are dropped and counted
 *              in slot TUN_BPF_SLOT_GLOBAL; other traffic passes.  A link
 *              with an inner-address filter drops (and counts) IPv4 for
 *              destinations outside its prefix.
 *
 * bpf_skb_adjust_room() keeps GSO/TSO working through encapsulation; it
 * refuses non-IP packets, so an L2 frame that is not IPv4 (ARP above all)
 * gets its headers with bpf_skb_change_head() instead.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tun_ebpf.h"

#define TUN_EALREADY	114	/* errno EALREADY; no errno.h in BPF */

#ifndef BPF_F_ADJ_ROOM_DECAP_L3_IPV4
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV4	(1ULL << 7)
#endif

#define GRE_F_CSUM	0x8000
#define GRE_F_ROUTING	0x4000
#define GRE_F_KEY	0x2000
#define GRE_F_SEQ	0x1000
#define GRE_VERSION	0x0007
#define ETH_P_TEB_	0x6558
#define VXLAN_F_VNI	0x08000000
#define IP_DF		0x4000
#define IP_FRAG_MASK	0x3fff
#define IP_OFF_MASK	0x1fff

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TUN_BPF_MAX_LINKS);
	__type(key, __u32);			/* node ifindex */
	__type(value, struct tun_bpf_link);
} links SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TUN_BPF_MAX_LINKS);
	__type(key, struct tun_bpf_ikey);
	__type(value, __u32);			/* node ifindex */
} ikeys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TUN_BPF_MAX_LINKS);
	__type(key, struct tun_bpf_ikey);
	__type(value, struct tun_bpf_transit);	/* where it goes next */
} transits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TUN_BPF_MAX_LINKS);
	__type(key, __u32);			/* slot */
	__type(value, struct tun_bpf_stats);
} stats SEC(".maps");

struct gre_key_hdr {
	__be16 flags;
	__be16 proto;
	__be32 key;
};

struct udp_vxlan_hdr {
	__be16 sport;
	__be16 dport;
	__be16 len;
	__be16 check;
	__be32 vx_flags;
	__be32 vx_vni;			/* VNI << 8 */
};

struct arp_ipv4 {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
};

static __always_inline struct tun_bpf_stats *
slot_stats(__u32 slot)
{
	return bpf_map_lookup_elem(&stats, &slot);
}

static __always_inline int
drop(__u32 slot)
{
	struct tun_bpf_stats *s = slot_stats(slot);

	if (s != NULL)
		s->drops++;
	return TC_ACT_SHOT;
}

/* Wire packets this skb stands for: GSO segments, or one. */
static __always_inline __u64
wire_packets(struct __sk_buff *skb)
{
	return skb->gso_segs > 1 ? skb->gso_segs : 1;
}

static __always_inline void
mac_copy(__u8 *dst, const __u8 *src)
{
	for (int i = 0; i < 6; i++)
		dst[i] = src[i];
}

static __always_inline int
mac_eq(const __u8 *a, const __u8 *b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) |
	    (a[3] ^ b[3]) | (a[4] ^ b[4]) | (a[5] ^ b[5])) == 0;
}

static __always_inline int
mac_is_zero(const __u8 *m)
{
	return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

static __always_inline __u16
ip_checksum(const struct iphdr *ip)
{
	const __u16 *p = (const __u16 *)ip;
	__u32 sum = 0;

	for (int i = 0; i < 10; i++)
		sum += p[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Answer an ARP request from the node with the MAC of node_if, whatever
 * address it asks for: on an L3 link everything beyond the node is
 * reached through the tunnel.  The reply goes straight back out of the
 * interface it came in on.
 */
static __always_inline int
arp_reply(struct __sk_buff *skb, const struct tun_bpf_link *l)
{
	void *data, *end;
	struct ethhdr *eth;
	struct arp_ipv4 *arp;
	__u8 ip[4];

	if (bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(*arp)) != 0)
		return TC_ACT_SHOT;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	eth = data;
	arp = (void *)(eth + 1);
	if ((void *)(arp + 1) > end)
		return TC_ACT_SHOT;
	if (arp->op != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != 6 || arp->plen != 4)
		return TC_ACT_SHOT;
	/* Probes (sender 0.0.0.0) and announcements need no answer. */
	if ((arp->spa[0] | arp->spa[1] | arp->spa[2] | arp->spa[3]) == 0 ||
	    ((arp->spa[0] ^ arp->tpa[0]) | (arp->spa[1] ^ arp->tpa[1]) |
	    (arp->spa[2] ^ arp->tpa[2]) | (arp->spa[3] ^ arp->tpa[3])) == 0)
		return TC_ACT_SHOT;
	__builtin_memcpy(ip, arp->tpa, 4);
	mac_copy(arp->tha, arp->sha);
	__builtin_memcpy(arp->tpa, arp->spa, 4);
	mac_copy(arp->sha, l->node_if_mac);
	__builtin_memcpy(arp->spa, ip, 4);
	arp->op = bpf_htons(2);
	mac_copy(eth->h_dest, arp->tha);
	mac_copy(eth->h_source, l->node_if_mac);
	return bpf_redirect(skb->ifindex, 0);
}

/*
 * The node sent an IPv4 packet with DF set that the link cannot carry:
 * turn the skb into an ICMP "fragmentation needed" answer carrying the
 * link MTU (RFC 1191) and send it back into the node, so its path MTU
 * drops instead of its packets vanishing.  As in the user backend, the
 * link has no address of its own in the VNet, so the answer comes from
 * the packet's destination, as from a router next to it, with the MACs
 * swapped; it quotes the IPv4 header and 8 bytes (RFC 792).  Returns a
 * redirect, or -1 when no answer is due (the caller drops the packet):
 * no DF, a later fragment, an ICMP error (RFC 1122 3.2.2), a broadcast
 * or multicast, or a helper failing.
 *
 * A partial checksum (CHECKSUM_PARTIAL, a TCP or UDP packet from the node
 * whose checksum the device was to fill) cannot be cleared from BPF; it
 * travels with the answer, which the node's stack then takes as checked.
 * Nothing on the way fills it: the answer goes straight into the node's
 * namespace (veth) or out of a tap that took the packet with checksum
 * offload in the first place.
 */
static __always_inline long
frag_needed(struct __sk_buff *skb, const struct tun_bpf_link *l)
{
	struct ethhdr eth;
	struct iphdr ip, rip = {};
	struct icmp_frag {
		__u8 type;
		__u8 code;
		__be16 check;
		__be16 unused;
		__be16 mtu;
	} ic = {};
	__u8 q[60 + 8], mac[6], t;
	__u32 ihl, qlen, daddr;
	__s64 sum;

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) != 0 ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) != 0)
		return -1;
	ihl = ip.ihl * 4;
	if (ip.version != 4 || ihl < 20 || (ip.frag_off & bpf_htons(IP_DF)) == 0 ||
	    (ip.frag_off & bpf_htons(IP_OFF_MASK)) != 0)
		return -1;
	/* Not to a link-layer or IP broadcast or multicast, nor from one. */
	daddr = bpf_ntohl(ip.daddr);
	if ((eth.h_dest[0] & 1) || (eth.h_source[0] & 1) ||
	    (daddr >> 28) == 0xe || daddr == 0xffffffff || ip.saddr == 0 ||
	    (bpf_ntohl(ip.saddr) >> 28) == 0xe)
		return -1;
	if (ip.protocol == IPPROTO_ICMP) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + ihl, &t, 1) != 0)
			return -1;
		if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
			return -1;
	}
	qlen = ihl + 8;				/* 28..68, a multiple of 4 */
	if (qlen > sizeof(q) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, q, qlen) != 0)
		return -1;

	ic.type = 3;				/* destination unreachable */
	ic.code = 4;				/* fragmentation needed */
	ic.mtu = bpf_htons((__u16)l->mtu);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)q, qlen, 0);
	if (sum < 0)
		return -1;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&ic, sizeof(ic), (__wsum)sum);
	if (sum < 0)
		return -1;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ic.check = (__u16)~sum;

	rip.version = 4;
	rip.ihl = 5;
	rip.tot_len = bpf_htons(sizeof(rip) + sizeof(ic) + qlen);
	rip.ttl = 64;
	rip.protocol = IPPROTO_ICMP;
	rip.saddr = ip.daddr;			/* from its destination */
	rip.daddr = ip.saddr;			/* to its source */
	rip.check = ip_checksum(&rip);
	mac_copy(mac, eth.h_dest);		/* back to the node */
	mac_copy(eth.h_dest, eth.h_source);
	mac_copy(eth.h_source, mac);

	/* Trimming also linearises the skb and ends any GSO. */
	if (bpf_skb_change_tail(skb, ETH_HLEN + sizeof(rip) + sizeof(ic) +
	    qlen, 0) != 0 ||
	    bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) != 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, &rip, sizeof(rip), 0) != 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(rip), &ic, sizeof(ic),
	    0) != 0 ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(rip) + sizeof(ic), q,
	    qlen, 0) != 0)
		return -1;
	/*
	 * The node_if saw a frame for another MAC (L2 links: the remote
	 * node's); the answer is for the node itself.
	 */
	bpf_skb_change_type(skb, PACKET_HOST);
	if (l->flags & TUN_BPF_F_PEER)
		return bpf_redirect_peer(l->node_ifindex, 0);
	return bpf_redirect(l->node_ifindex, 0);
}

/*
 * The L3 length of the wire packets skb stands for: itself, or for a GSO
 * packet its segments (IPv4 header, TCP or UDP header, gso_size).
 */
static __always_inline __u32
wire_len(struct __sk_buff *skb, __be16 proto)
{
	__u8 vihl, p, doff;
	__u32 ihl, l4 = 0;

	if (skb->gso_size == 0 || proto != bpf_htons(ETH_P_IP))
		return skb->len - ETH_HLEN;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &vihl, 1) != 0 ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + 9, &p, 1) != 0)
		return 0;
	ihl = (vihl & 0xf) * 4;
	if (p == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + ihl + 12, &doff, 1) != 0)
			return 0;
		l4 = (doff >> 4) * 4;
	} else if (p == IPPROTO_UDP)
		l4 = 8;
	return ihl + l4 + skb->gso_size;
}

/*
 * A packet over the link MTU (a GSO packet: segments over it) is dropped
 * and counted; IPv4 with DF set is answered "fragmentation needed".
 */
static __always_inline int
too_big(struct __sk_buff *skb, struct tun_bpf_link *l, __be16 proto)
{
	long rc;

	drop(l->slot);
	if (proto != bpf_htons(ETH_P_IP) || (rc = frag_needed(skb, l)) < 0)
		return TC_ACT_SHOT;
	return (int)rc;
}

/*
 * Wrap the frame in skb for link l and send it to the underlay.  The
 * inner frame keeps its place; outer headers go in front of it:
 *
 *   [eth][outer IPv4][GRE | UDP+VXLAN][inner eth, L2 only][inner L3]
 *    0    14          34               room                14 + room
 */
static __always_inline int
encap(struct __sk_buff *skb, struct tun_bpf_link *l, __be16 proto)
{
	__u32 slot = l->slot, encap = l->encap, l2, room, inner;
	__u64 flags = BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4;
	__u64 packets = wire_packets(skb);
	struct iphdr ip = {};
	struct ethhdr eth;
	__u8 tos = 0, ipproto;
	__u32 hash = 0;

	l2 = encap == TUN_BPF_GRETAP || encap == TUN_BPF_VXLAN;
	inner = l2 ? skb->len : skb->len - ETH_HLEN;
	/* A packet the underlay cannot carry is answered or dropped here. */
	if (wire_len(skb, proto) > l->mtu)
		return too_big(skb, l, proto);
	if (proto == bpf_htons(ETH_P_IP))
		bpf_skb_load_bytes(skb, ETH_HLEN + 1, &tos, 1);
	switch (encap) {
	case TUN_BPF_IPIP:
		room = 20;
		ipproto = IPPROTO_IPIP;
		break;
	case TUN_BPF_GRE:
		room = 20 + 8;
		ipproto = IPPROTO_GRE;
		flags |= BPF_F_ADJ_ROOM_ENCAP_L4_GRE;
		break;
	case TUN_BPF_GRETAP:
		room = 20 + 8 + ETH_HLEN;
		ipproto = IPPROTO_GRE;
		flags |= BPF_F_ADJ_ROOM_ENCAP_L4_GRE |
		    BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(ETH_HLEN);
		break;
	default:
		room = 20 + 16 + ETH_HLEN;
		ipproto = IPPROTO_UDP;
		flags |= BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
		    BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L2(ETH_HLEN);
		hash = bpf_get_hash_recalc(skb);
		break;
	}

	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) != 0)
		return drop(slot);
	if (proto == bpf_htons(ETH_P_IP)) {
		long err = bpf_skb_adjust_room(skb, room, BPF_ADJ_ROOM_MAC,
		    flags);

		/*
		 * A packet decapsulated on this host and routed by a node
		 * into another tunnel keeps the kernel's encapsulation mark
		 * when the underlay is a veth (only the kernel's own tunnel
		 * devices clear it on receive), and the kernel refuses to
		 * encapsulate it twice.  Add the room without the offload
		 * hints then: such a packet came over a veth underlay and
		 * never meets a NIC that would segment it.
		 */
		if (err == -TUN_EALREADY)
			err = bpf_skb_adjust_room(skb, room, BPF_ADJ_ROOM_MAC,
			    BPF_F_ADJ_ROOM_FIXED_GSO);
		if (err)
			return drop(slot);
	} else {
		/* Non-IP frame on an L2 link: plain head room, no GSO. */
		if (bpf_skb_change_head(skb, room, 0))
			return drop(slot);
		eth.h_proto = bpf_htons(ETH_P_IP);
	}
	/* The inner Ethernet header is the node's own; change_head left it. */
	if (l2 && proto == bpf_htons(ETH_P_IP) &&
	    bpf_skb_store_bytes(skb, room, &eth, sizeof(eth), 0))
		return drop(slot);

	ip.version = 4;
	ip.ihl = 5;
	ip.tos = tos;
	ip.tot_len = bpf_htons(skb->len - ETH_HLEN);
	ip.frag_off = bpf_htons(IP_DF);
	ip.ttl = 64;
	ip.protocol = ipproto;
	ip.saddr = l->local;
	ip.daddr = l->remote;
	ip.check = ip_checksum(&ip);
	if (bpf_skb_store_bytes(skb, ETH_HLEN, &ip, sizeof(ip), 0))
		return drop(slot);
	if (encap == TUN_BPF_GRE || encap == TUN_BPF_GRETAP) {
		struct gre_key_hdr g = {
			.flags = bpf_htons(GRE_F_KEY),
			.proto = bpf_htons(l2 ? ETH_P_TEB_ : ETH_P_IP),
			.key = bpf_htonl(l->key),
		};

		if (bpf_skb_store_bytes(skb, ETH_HLEN + 20, &g, sizeof(g), 0))
			return drop(slot);
	} else if (encap == TUN_BPF_VXLAN) {
		struct udp_vxlan_hdr u = {
			.sport = bpf_htons(49152 | (hash & 0x3fff)),
			.dport = bpf_htons(4789),
			.len = bpf_htons(skb->len - ETH_HLEN - 20),
			.vx_flags = bpf_htonl(VXLAN_F_VNI),
			.vx_vni = bpf_htonl(l->key << 8),
		};

		if (bpf_skb_store_bytes(skb, ETH_HLEN + 20, &u, sizeof(u), 0))
			return drop(slot);
	}

	/*
	 * IPv4 goes out through the kernel's neighbour code, which routes on
	 * the outer header and fills the MACs (bpf_fib_lookup would refuse:
	 * it wants forwarding on).  It needs skb->protocol IPv4, so a non-IP
	 * frame uses the next hop's MAC known from the loader or from
	 * arriving packets.
	 */
	if (proto != bpf_htons(ETH_P_IP) && mac_is_zero(l->peer_mac))
		return drop(slot);
	mac_copy(eth.h_dest, mac_is_zero(l->peer_mac) ? l->under_mac :
	    l->peer_mac);
	mac_copy(eth.h_source, l->under_mac);
	eth.h_proto = bpf_htons(ETH_P_IP);
	if (bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0))
		return drop(slot);

	struct tun_bpf_stats *s = slot_stats(slot);

	if (s != NULL) {
		s->tx_packets += packets;
		s->tx_bytes += inner;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return bpf_redirect_neigh(l->underlay_ifindex, NULL, 0, 0);
	return bpf_redirect(l->underlay_ifindex, 0);
}

SEC("tc")
int
tun_encap(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	struct tun_bpf_link *l;
	void *data, *end;
	struct ethhdr *eth;
	__be16 proto;

	l = bpf_map_lookup_elem(&links, &ifindex);
	if (l == NULL)
		return TC_ACT_OK;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		return drop(l->slot);
	/* Learn the node's MAC: decapsulated L3 packets are sent to it. */
	if (!mac_eq(eth->h_source, l->node_mac))
		mac_copy(l->node_mac, eth->h_source);
	proto = eth->h_proto;
	if (l->encap == TUN_BPF_IPIP || l->encap == TUN_BPF_GRE) {
		if (proto == bpf_htons(ETH_P_ARP))
			return arp_reply(skb, l);
		if (proto != bpf_htons(ETH_P_IP))
			return drop(l->slot);
	}
	return encap(skb, l, proto);
}

static __always_inline int
unknown(void)
{
	return drop(TUN_BPF_SLOT_GLOBAL);
}

/*
 * A packet of no link: if a transit receives k, rewrite its outer header
 * for the other side (addresses, TTL, key or VNI, checksums) and send it
 * back out of the underlay, never decapsulated.  GRE with a checksum is
 * dropped: the new key would break it.  Otherwise it is unknown.
 */
static __always_inline int
transit(struct __sk_buff *skb, const struct tun_bpf_ikey *k, __u32 daddr)
{
	struct tun_bpf_transit *t;
	struct tun_bpf_stats *s;
	struct iphdr ip;
	__u64 packets = wire_packets(skb);
	__u32 slot, len = skb->len - ETH_HLEN;
	__be16 fl;

	t = bpf_map_lookup_elem(&transits, k);
	if (t == NULL || t->local != daddr)
		return unknown();
	slot = t->slot;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) != 0 ||
	    ip.ttl <= 1)
		return drop(slot);
	ip.ttl--;
	ip.saddr = t->local;
	ip.daddr = t->remote;
	ip.check = 0;
	ip.check = ip_checksum(&ip);
	if (bpf_skb_store_bytes(skb, ETH_HLEN, &ip, sizeof(ip),
	    BPF_F_RECOMPUTE_CSUM))
		return drop(slot);
	if (t->encap == TUN_BPF_GRE || t->encap == TUN_BPF_GRETAP) {
		__be32 key = bpf_htonl(t->key);

		if (bpf_skb_load_bytes(skb, ETH_HLEN + 20, &fl, 2) != 0 ||
		    (bpf_ntohs(fl) & GRE_F_CSUM) != 0)
			return drop(slot);
		if (bpf_skb_store_bytes(skb, ETH_HLEN + 24, &key, 4,
		    BPF_F_RECOMPUTE_CSUM))
			return drop(slot);
	} else if (t->encap == TUN_BPF_VXLAN) {
		__be32 vni = bpf_htonl(t->key << 8);
		__be16 zero = 0;

		/* UDP checksum 0: none, as IPv4 allows. */
		if (bpf_skb_store_bytes(skb, ETH_HLEN + 26, &zero, 2,
		    BPF_F_RECOMPUTE_CSUM) ||
		    bpf_skb_store_bytes(skb, ETH_HLEN + 32, &vni, 4,
		    BPF_F_RECOMPUTE_CSUM))
			return drop(slot);
	}
	if ((s = slot_stats(slot)) != NULL) {
		if (t->side == 0) {
			s->rx_packets += packets;
			s->rx_bytes += len;
		} else {
			s->tx_packets += packets;
			s->tx_bytes += len;
		}
	}
	return bpf_redirect_neigh(t->underlay_ifindex, NULL, 0, 0);
}

/*
 * The inner-address filter of link l (TUN_BPF_F_INNER) for the inner
 * IPv4 header at off: 1 if the packet may go to the node, that is, the
 * link has no filter, or the destination is in its prefix, the limited
 * broadcast or multicast (as tun_inner_dst_ok in tunnel.c).  A header
 * too short to hold a destination fails.
 */
static __always_inline int
inner_ok(struct __sk_buff *skb, const struct tun_bpf_link *l, __u32 off)
{
	__u32 d, h;

	if ((l->flags & TUN_BPF_F_INNER) == 0)
		return 1;
	if (bpf_skb_load_bytes(skb, off + 16, &d, 4) != 0)
		return 0;
	h = bpf_ntohl(d);
	if (h == 0xffffffff || (h >> 28) == 0xe)
		return 1;
	return (d & l->inner_mask) == l->inner;
}

SEC("tc")
int
tun_decap(struct __sk_buff *skb)
{
	struct tun_bpf_ikey k = {};
	struct tun_bpf_link *l;
	struct ethhdr *eth, in;
	struct iphdr *ip;
	void *data, *end;
	__u32 *ifp, hdr, daddr, l2, slot, bytes;
	__u64 packets = wire_packets(skb);
	__u8 v;

	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(IP_FRAG_MASK)) != 0)
		return TC_ACT_OK;
	k.remote = ip->saddr;
	daddr = ip->daddr;

	switch (ip->protocol) {
	case IPPROTO_IPIP:
		k.encap = TUN_BPF_IPIP;
		hdr = 20;
		break;
	case IPPROTO_GRE: {
		__be16 *gf = (void *)(ip + 1);
		__u16 fl;
		__u32 key;

		if ((void *)(gf + 2) > end)
			return unknown();
		fl = bpf_ntohs(gf[0]);
		if ((fl & (GRE_F_ROUTING | GRE_VERSION)) != 0 ||
		    (fl & GRE_F_KEY) == 0)
			return unknown();
		if (gf[1] == bpf_htons(ETH_P_IP))
			k.encap = TUN_BPF_GRE;
		else if (gf[1] == bpf_htons(ETH_P_TEB_))
			k.encap = TUN_BPF_GRETAP;
		else
			return unknown();
		hdr = 20 + 4 + ((fl & GRE_F_CSUM) ? 4 : 0);
		if (bpf_skb_load_bytes(skb, ETH_HLEN + hdr, &key, 4) != 0)
			return unknown();
		k.key = bpf_ntohl(key);
		hdr += 4 + ((fl & GRE_F_SEQ) ? 4 : 0);
		break;
	}
	case IPPROTO_UDP: {
		struct udp_vxlan_hdr *u = (void *)(ip + 1);

		if ((void *)(u + 1) > end)
			return TC_ACT_OK;
		if (u->dport != bpf_htons(4789))
			return TC_ACT_OK;
		if ((u->vx_flags & bpf_htonl(VXLAN_F_VNI)) == 0)
			return unknown();
		k.encap = TUN_BPF_VXLAN;
		k.key = bpf_ntohl(u->vx_vni) >> 8;
		hdr = 20 + 16;
		break;
	}
	default:
		return TC_ACT_OK;
	}

	ifp = bpf_map_lookup_elem(&ikeys, &k);
	if (ifp == NULL)
		return transit(skb, &k, daddr);
	l = bpf_map_lookup_elem(&links, ifp);
	if (l == NULL || l->local != daddr)
		return unknown();
	slot = l->slot;
	/* The next hop back to the peer, for frames that cannot be routed. */
	if (!mac_eq(eth->h_source, l->peer_mac))
		mac_copy(l->peer_mac, eth->h_source);
	l2 = k.encap == TUN_BPF_GRETAP || k.encap == TUN_BPF_VXLAN;

	if (!l2) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + hdr, &v, 1) != 0 ||
		    (v >> 4) != 4 || !inner_ok(skb, l, ETH_HLEN + hdr))
			return drop(slot);
		if (bpf_skb_adjust_room(skb, -(__s32)hdr, BPF_ADJ_ROOM_MAC,
		    BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_DECAP_L3_IPV4))
			return drop(slot);
		if (mac_is_zero(l->node_mac))
			__builtin_memset(in.h_dest, 0xff, 6);
		else
			mac_copy(in.h_dest, l->node_mac);
		mac_copy(in.h_source, l->node_if_mac);
		in.h_proto = bpf_htons(ETH_P_IP);
	} else {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + hdr, &in, sizeof(in)))
			return drop(slot);
		/* Only IPv4 is filtered: ARP, IPv6 and tagged frames pass. */
		if (in.h_proto == bpf_htons(ETH_P_IP) &&
		    !inner_ok(skb, l, ETH_HLEN + hdr + ETH_HLEN))
			return drop(slot);
		if (bpf_skb_adjust_room(skb, -(__s32)(hdr + ETH_HLEN),
		    BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO))
			return drop(slot);
	}
	if (bpf_skb_store_bytes(skb, 0, &in, sizeof(in), 0))
		return drop(slot);
	bytes = l2 ? skb->len : skb->len - ETH_HLEN;

	struct tun_bpf_stats *s = slot_stats(slot);

	if (s != NULL) {
		s->rx_packets += packets;
		s->rx_bytes += bytes;
	}
	/*
	 * Straight into the node's namespace when node_if is a veth; the
	 * peer path keeps skb->protocol, so only IPv4 frames take it.
	 */
	if ((l->flags & TUN_BPF_F_PEER) && in.h_proto == bpf_htons(ETH_P_IP))
		return bpf_redirect_peer(l->node_ifindex, 0);
	return bpf_redirect(l->node_ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
