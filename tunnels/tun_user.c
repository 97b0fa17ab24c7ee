/*
 * The user backend: a forwarder thread inside the process that owns the
 * links, for hosts with neither tunnel modules nor eBPF.
 *
 * Node side, one descriptor per link:
 *   direct  an AF_PACKET socket bound to node_if (the host end of the
 *           node's veth or a VM's tap).  The host stack is told to keep
 *           out of that interface (no forwarding, no IPv6 on it), so
 *           overlapping inner addresses of different VNets never meet in
 *           this namespace's routing table.
 *   bridge  a TAP device (the link's port) that joins the bridge.
 * Both are opened with a virtio-net header (PACKET_VNET_HDR, IFF_VNET_HDR),
 * so the kernel hands over TCP super-packets (TSO) instead of one read per
 * 1500 bytes; the forwarder cuts them into MSS-sized segments itself.
 *
 * Underlay side, shared by every link: one IPPROTO_RAW socket sends every
 * encapsulated packet with its outer header written here (IP_HDRINCL);
 * raw IPPROTO_GRE and IPPROTO_IPIP sockets and a UDP socket on port 4789
 * receive.  Reads and writes go in batches (recvmmsg/sendmmsg).
 *
 * Lifecycle: the thread runs while the context has links.  Adding or
 * removing a link stops it (an eventfd wakes it, then pthread_join),
 * changes the tables, and starts it again, so the thread never sees a
 * table change under it and needs no locks.  Counters are updated with
 * atomic adds and read from any thread.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/udp.h>
#include <linux/virtio_net.h>
#include <netinet/ip.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "tun_backend.h"

#define U_BATCH		32		/* node-side reads per wakeup */
#define U_WIRE_BATCH	64		/* underlay packets per recvmmsg */
#define U_NODE_BUF	(65536 + 256)	/* one node-side read: a TSO packet */
#define U_WIRE_BUF	65536		/* one underlay packet, or a UDP GRO
					   train of VXLAN packets */
#define U_OUT_MAX	64		/* segments queued for one sendmmsg */
#define U_HDR_MAX	192		/* outer + inner headers of a segment */
#define U_VNET_LEN	((int)sizeof(struct virtio_net_hdr))
#define U_GSO_SEGS	44		/* VXLAN packets in one UDP GSO send */
#define U_GSO_BYTES	65000		/* UDP payload of one UDP GSO send */

enum u_src { U_SRC_STOP, U_SRC_NODE, U_SRC_WIRE };

/* What an epoll event points to. */
struct u_handle {
	enum u_src src;
	void *obj;			/* struct u_link or struct u_wire */
};

struct u_link {
	struct tun_link *link;		/* owner; cfg is read-only here */
	int fd;				/* AF_PACKET socket or TAP fd */
	int is_tap;
	char port[IFNAMSIZ];		/* TAP name; "" when direct */
	uint8_t node_if_mac[6];		/* source of frames we send the node */
	uint8_t node_mac[6];		/* the node's MAC, learnt; 0 = unknown */
	struct u_handle h;
	uint64_t tx_packets, tx_bytes;	/* atomic adds; see tun_stats */
	uint64_t rx_packets, rx_bytes, drops;
};

/* An underlay receive socket. */
struct u_wire {
	int fd;
	int proto;			/* IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_UDP */
	struct u_handle h;
};

struct u_out {				/* one encapsulated packet to send */
	uint8_t hdr[U_HDR_MAX];
	struct iovec iov[2];		/* headers, payload slice */
};

struct tun_user {
	pthread_t thread;
	int running;			/* 1 between start and stop */
	int epfd;
	int evfd;			/* written to stop the thread */
	struct u_handle stop;
	int txfd;			/* IPPROTO_RAW, IP_HDRINCL */
	struct u_wire wire[3];		/* gre, ipip, vxlan; fd -1 if unused */
	struct u_link **links;		/* nlinks entries */
	size_t nlinks;
	uint64_t unknown;		/* atomic: unknown key/VNI/peer */

	/* Forwarder-thread buffers. */
	uint8_t *nbuf;			/* U_BATCH * U_NODE_BUF */
	uint8_t *wbuf;			/* U_WIRE_BATCH * U_WIRE_BUF */
	struct u_out *out;		/* U_OUT_MAX */
	struct tun_gro gro;		/* segments merged for one node write */
	uint64_t gro_bytes;		/* inner bytes of the segments in gro */
	struct mmsghdr omsg[U_OUT_MAX];
	struct sockaddr_in odst[U_OUT_MAX];
	size_t nout;

	/*
	 * VXLAN segments of one TSO packet, sent with one UDP_SEGMENT
	 * sendmsg on udpfd: the kernel writes the outer IPv4 and UDP
	 * headers, and over a veth or a NIC with UDP GSO the train stays
	 * one packet until the wire.
	 */
	int udpfd;			/* UDP socket; -1: raw path only */
	uint8_t (*ghdr)[U_HDR_MAX];	/* U_GSO_SEGS: VXLAN + inner headers */
	struct iovec giov[2 * U_GSO_SEGS]; /* header, payload per segment */
	size_t ngseg;			/* segments queued, <= U_GSO_SEGS */
	size_t gsize;			/* UDP payload of each but the last */
	size_t gbytes;			/* UDP payload queued in all */
};

static void
u_add(uint64_t *c, uint64_t v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static uint64_t
u_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Fill an outer IPv4 header (and GRE / UDP+VXLAN) for link c at p. */
static size_t
u_outer(uint8_t *p, const struct tun_link_cfg *c, size_t inner_len,
    uint8_t tos, uint16_t sport)
{
	struct iphdr ip;
	size_t hl = 20;

	memset(&ip, 0, sizeof(ip));
	ip.version = 4;
	ip.ihl = 5;
	ip.tos = tos;
	ip.frag_off = htons(IP_DF);
	ip.ttl = 64;
	ip.saddr = c->local.s_addr;
	ip.daddr = c->remote.s_addr;
	switch (c->encap) {
	case TUN_ENCAP_IPIP:
		ip.protocol = IPPROTO_IPIP;
		break;
	case TUN_ENCAP_GRE:
	case TUN_ENCAP_GRETAP: {
		uint16_t f = htons(0x2000), pr = htons(c->encap ==
		    TUN_ENCAP_GRE ? ETH_P_IP : ETH_P_TEB);
		uint32_t k = htonl(c->key);

		ip.protocol = IPPROTO_GRE;
		memcpy(p + 20, &f, 2);
		memcpy(p + 22, &pr, 2);
		memcpy(p + 24, &k, 4);
		hl += 8;
		break;
	}
	default: {
		uint16_t u[4] = { htons(sport), htons(TUN_VXLAN_PORT),
		    htons((uint16_t)(16 + inner_len)), 0 };
		uint32_t v[2] = { htonl(0x08000000), htonl(c->key << 8) };

		ip.protocol = IPPROTO_UDP;
		memcpy(p + 20, u, sizeof(u));
		memcpy(p + 28, v, sizeof(v));
		hl += 16;
		break;
	}
	}
	ip.tot_len = htons((uint16_t)(hl + inner_len));
	/* The kernel fills id and checksum for IP_HDRINCL. */
	memcpy(p, &ip, sizeof(ip));
	return hl;
}

static void
u_flush(struct tun_user *u)
{
	size_t done = 0;

	while (done < u->nout) {
		int n = sendmmsg(u->txfd, u->omsg + done,
		    (unsigned int)(u->nout - done), 0);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			/* ENOBUFS and friends: the rest of the batch is lost. */
			break;
		}
		done += (size_t)n;
	}
	u->nout = 0;
}

/* Queue one packet: hdr (hlen bytes, copied) then payload (not copied). */
static void
u_queue(struct tun_user *u, const struct tun_link_cfg *c, const uint8_t *hdr,
    size_t hlen, const uint8_t *payload, size_t plen)
{
	struct u_out *o;
	struct mmsghdr *m;

	if (u->nout == U_OUT_MAX)
		u_flush(u);
	o = &u->out[u->nout];
	m = &u->omsg[u->nout];
	memcpy(o->hdr, hdr, hlen);
	o->iov[0].iov_base = o->hdr;
	o->iov[0].iov_len = hlen;
	o->iov[1].iov_base = (void *)(uintptr_t)payload;
	o->iov[1].iov_len = plen;
	memset(m, 0, sizeof(*m));
	u->odst[u->nout].sin_family = AF_INET;
	u->odst[u->nout].sin_addr = c->remote;
	m->msg_hdr.msg_name = &u->odst[u->nout];
	m->msg_hdr.msg_namelen = sizeof(u->odst[0]);
	m->msg_hdr.msg_iov = o->iov;
	m->msg_hdr.msg_iovlen = plen ? 2 : 1;
	u->nout++;
}

/*
 * Send the VXLAN segments queued for link c in one sendmsg with
 * UDP_SEGMENT, from c->local (IP_PKTINFO) to the peer's port 4789.
 * Returns -1 if the kernel refused (the caller counts the drops).
 */
static int
u_gso_flush(struct tun_user *u, const struct tun_link_cfg *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t)) +
		    CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cm;
	struct sockaddr_in dst;
	struct in_pktinfo pi;
	struct cmsghdr *ch;
	struct msghdr m;
	uint16_t gs = (uint16_t)u->gsize;
	ssize_t n;

	if (u->ngseg == 0)
		return 0;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons(TUN_VXLAN_PORT);
	dst.sin_addr = c->remote;
	memset(&cm, 0, sizeof(cm));
	memset(&m, 0, sizeof(m));
	m.msg_name = &dst;
	m.msg_namelen = sizeof(dst);
	m.msg_iov = u->giov;
	m.msg_iovlen = 2 * u->ngseg;
	m.msg_control = cm.buf;
	m.msg_controllen = sizeof(cm.buf);
	ch = CMSG_FIRSTHDR(&m);
	ch->cmsg_level = IPPROTO_UDP;
	ch->cmsg_type = UDP_SEGMENT;
	ch->cmsg_len = CMSG_LEN(sizeof(gs));
	memcpy(CMSG_DATA(ch), &gs, sizeof(gs));
	ch = CMSG_NXTHDR(&m, ch);
	memset(&pi, 0, sizeof(pi));
	pi.ipi_spec_dst = c->local;
	ch->cmsg_level = IPPROTO_IP;
	ch->cmsg_type = IP_PKTINFO;
	ch->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(ch), &pi, sizeof(pi));
	u->ngseg = 0;
	u->gbytes = 0;
	do
		n = sendmsg(u->udpfd, &m, 0);
	while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

/* Answer the node's ARP request on an L3 link with node_if's MAC. */
static void
u_arp_reply(struct u_link *ul, const uint8_t *f, size_t len)
{
	uint8_t r[U_VNET_LEN + 42];
	uint8_t *a = r + U_VNET_LEN + 14;

	if (len < 42 || f[20] != 0 || f[21] != 1 || f[16] != 0x08 ||
	    f[17] != 0 || memcmp(f + 28, f + 38, 4) == 0 ||
	    memcmp(f + 28, "\0\0\0\0", 4) == 0)
		return;
	memset(r, 0, U_VNET_LEN);
	memcpy(r + U_VNET_LEN, f + 6, 6);		/* to the asker */
	memcpy(r + U_VNET_LEN + 6, ul->node_if_mac, 6);
	memcpy(r + U_VNET_LEN + 12, f + 12, 2);
	memcpy(a, f + 14, 6);				/* htype..plen */
	a[6] = 0;
	a[7] = 2;					/* reply */
	memcpy(a + 8, ul->node_if_mac, 6);
	memcpy(a + 14, f + 38, 4);			/* we are the target */
	memcpy(a + 18, f + 22, 10);			/* back to the sender */
	if (write(ul->fd, r, sizeof(r)) == -1)
		u_add(&ul->drops, 1);
}

/*
 * Cut a TCP/IPv4 super-packet (vnet header vh) into gso_size segments and
 * queue each behind its outer headers.  ip points at the inner IPv4
 * header, pre at the bytes that go before it inside the tunnel (the inner
 * Ethernet header of L2 links; prelen 0 otherwise).
 */
static int
u_segment(struct tun_user *u, struct u_link *ul,
    const struct virtio_net_hdr *vh, const uint8_t *pre, size_t prelen,
    uint8_t *ip, size_t len, uint16_t sport)
{
	const struct tun_link_cfg *c = &ul->link->cfg;
	size_t ihl, thl, mss = vh->gso_size, off, plen;
	uint8_t h[U_HDR_MAX], *ih, *th;
	int gso = c->encap == TUN_ENCAP_VXLAN && u->udpfd != -1;
	uint32_t seq;
	uint16_t id;
	size_t hl, seg;

	if ((vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) !=
	    VIRTIO_NET_HDR_GSO_TCPV4 || len < 40 || (ip[0] >> 4) != 4)
		return -1;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ihl < 20 || len < ihl + 20 || ip[9] != IPPROTO_TCP)
		return -1;
	thl = (size_t)(ip[ihl + 12] >> 4) * 4;
	if (thl < 20 || len < ihl + thl || ihl + thl > 120 || mss == 0)
		return -1;
	memcpy(&seq, ip + ihl + 4, 4);
	seq = ntohl(seq);
	memcpy(&id, ip + 4, 2);
	id = ntohs(id);
	for (off = ihl + thl; off < len; off += plen, id++) {
		uint64_t sum;
		uint16_t v, ck;
		int last;

		plen = len - off < mss ? len - off : mss;
		last = off + plen == len;
		hl = u_outer(h, c, prelen + ihl + thl + plen, ip[1], sport);
		memcpy(h + hl, pre, prelen);
		ih = h + hl + prelen;
		th = ih + ihl;
		memcpy(ih, ip, ihl + thl);
		v = htons((uint16_t)(ihl + thl + plen));
		memcpy(ih + 2, &v, 2);
		v = htons(id);
		memcpy(ih + 4, &v, 2);
		memset(ih + 10, 0, 2);
		ck = tun_csum_fold(tun_csum_add(ih, ihl, 0));
		memcpy(ih + 10, &ck, 2);
		{
			uint32_t s = htonl(seq + (uint32_t)(off - ihl - thl));

			memcpy(th + 4, &s, 4);
		}
		if (!last)
			th[13] &= (uint8_t)~0x09;	/* FIN, PSH: last only */
		memset(th + 16, 0, 2);
		/* Pseudo header, TCP header, payload. */
		sum = tun_csum_add(ih + 12, 8, 0);
		sum += htons(IPPROTO_TCP);
		sum += htons((uint16_t)(thl + plen));
		sum = tun_csum_add(th, thl, sum);
		sum = tun_csum_add(ip + off, plen, sum);
		ck = tun_csum_fold(sum);
		memcpy(th + 16, &ck, 2);
		u_add(&ul->tx_packets, 1);
		u_add(&ul->tx_bytes, prelen + ihl + thl + plen);
		if (!gso) {
			u_queue(u, c, h, hl + prelen + ihl + thl, ip + off,
			    plen);
			continue;
		}
		/* UDP GSO: from the VXLAN header on; the kernel adds the rest. */
		seg = hl - 28 + prelen + ihl + thl;
		if (u->ngseg == U_GSO_SEGS ||
		    u->gbytes + seg + plen > U_GSO_BYTES) {
			if (u_gso_flush(u, c) == -1)
				u_add(&ul->drops, 1);
		}
		if (u->ngseg == 0)
			u->gsize = seg + plen;
		memcpy(u->ghdr[u->ngseg], h + 28, seg);
		u->giov[2 * u->ngseg].iov_base = u->ghdr[u->ngseg];
		u->giov[2 * u->ngseg].iov_len = seg;
		u->giov[2 * u->ngseg + 1].iov_base = ip + off;
		u->giov[2 * u->ngseg + 1].iov_len = plen;
		u->ngseg++;
		u->gbytes += seg + plen;
	}
	if (gso && u_gso_flush(u, c) == -1)
		u_add(&ul->drops, 1);
	return 0;
}

/*
 * The node sent an IPv4 packet (Ethernet frame f, len bytes) with DF set
 * that the link cannot carry: answer ICMP "fragmentation needed" with the
 * link's MTU (RFC 1191), so the node's path MTU drops instead of its
 * packets vanishing.  The link has no address of its own in the VNet, so
 * the answer comes from the packet's destination, as from a router next
 * to it; it quotes the IPv4 header and 8 bytes (RFC 792).  The packet
 * itself is still dropped and counted.
 */
static void
u_frag_needed(struct u_link *ul, const uint8_t *f, size_t len, uint32_t mtu)
{
	uint8_t r[U_VNET_LEN + 14 + 20 + 8 + 60 + 8];
	uint8_t *ip = r + U_VNET_LEN + 14, *ic = ip + 20;
	size_t ihl, q;
	uint16_t v;

	if (len < 14 + 20 || (f[14] >> 4) != 4)
		return;
	ihl = (size_t)(f[14] & 0xf) * 4;
	if (ihl < 20 || len < 14 + ihl + 8)
		return;
	/* Never answer an ICMP error with one (RFC 1122 3.2.2). */
	if (f[14 + 9] == IPPROTO_ICMP && (f[14 + ihl] == 3 ||
	    f[14 + ihl] == 4 || f[14 + ihl] == 5 || f[14 + ihl] == 11 ||
	    f[14 + ihl] == 12))
		return;
	q = ihl + 8;
	memset(r, 0, sizeof(r));
	memcpy(r + U_VNET_LEN, f + 6, 6);		/* back to the node */
	memcpy(r + U_VNET_LEN + 6, ul->node_if_mac, 6);
	r[U_VNET_LEN + 12] = 0x08;
	ip[0] = 0x45;
	v = htons((uint16_t)(20 + 8 + q));
	memcpy(ip + 2, &v, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	memcpy(ip + 12, f + 14 + 16, 4);		/* from its destination */
	memcpy(ip + 16, f + 14 + 12, 4);		/* to its source */
	v = tun_csum_fold(tun_csum_add(ip, 20, 0));
	memcpy(ip + 10, &v, 2);
	ic[0] = 3;					/* unreachable */
	ic[1] = 4;					/* fragmentation needed */
	v = htons((uint16_t)mtu);
	memcpy(ic + 6, &v, 2);
	memcpy(ic + 8, f + 14, q);
	v = tun_csum_fold(tun_csum_add(ic, 8 + q, 0));
	memcpy(ic + 2, &v, 2);
	if (write(ul->fd, r, U_VNET_LEN + 14 + 20 + 8 + q) == -1)
		log_debug("tunnels: cannot send fragmentation needed");
}

/*
 * One frame from the node (f, len, after the vnet header vh): answer
 * ARP (L3), finish a pending checksum, cut TSO packets, wrap, queue.
 */
static void
u_from_node(struct tun_user *u, struct u_link *ul,
    const struct virtio_net_hdr *vh, uint8_t *f, size_t len)
{
	const struct tun_link_cfg *c = &ul->link->cfg;
	int l2 = tun_encap_is_l2(c->encap);
	uint8_t h[U_HDR_MAX], *in;
	uint16_t type, sport = 0;
	size_t inlen, hl;

	if (len < 14)
		goto drop;
	if (memcmp(f + 6, ul->node_mac, 6) != 0)
		memcpy(ul->node_mac, f + 6, 6);
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (!l2) {
		if (type == ETH_P_ARP) {
			u_arp_reply(ul, f, len);
			return;
		}
		if (type != ETH_P_IP)
			goto drop;
	}
	in = l2 ? f : f + 14;
	inlen = l2 ? len : len - 14;
	if (c->encap == TUN_ENCAP_VXLAN) {
		/* Entropy for the underlay's ECMP: a hash of the inner header. */
		uint32_t x = 2166136261u;

		for (size_t i = 14; i < 14 + 20 && i < len; i++)
			x = (x ^ f[i]) * 16777619u;
		sport = (uint16_t)(49152 | (x & 0x3fff));
	}
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		/* Segments over the link MTU (node MTU set too high). */
		if (type == ETH_P_IP && len >= 14 + 20) {
			size_t ihl = (size_t)(f[14] & 0xf) * 4;

			if (len >= 14 + ihl + 20 && ihl + (size_t)(f[14 +
			    ihl + 12] >> 4) * 4 + vh->gso_size > c->mtu) {
				u_frag_needed(ul, f, len, c->mtu);
				goto drop;
			}
		}
		if (type != ETH_P_IP ||
		    u_segment(u, ul, vh, f, l2 ? 14 : 0, f + 14, len - 14,
		    sport) == -1)
			goto drop;
		return;
	}
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		size_t cs = vh->csum_start, co = cs + vh->csum_offset;
		uint16_t ck;

		if (co + 2 > len || cs > len)
			goto drop;
		ck = tun_csum_fold(tun_csum_add(f + cs, len - cs, 0));
		memcpy(f + co, &ck, 2);
	}
	if (len - 14 > c->mtu) {
		/* IPv4 with DF: tell the node; anything else: just drop. */
		if (type == ETH_P_IP && len >= 14 + 20 && (f[14 + 6] & 0x40))
			u_frag_needed(ul, f, len, c->mtu);
		goto drop;
	}
	hl = u_outer(h, c, inlen, type == ETH_P_IP ? f[15] : 0, sport);
	u_queue(u, c, h, hl, in, inlen);
	u_add(&ul->tx_packets, 1);
	u_add(&ul->tx_bytes, inlen);
	return;
drop:
	u_add(&ul->drops, 1);
}

/* Read a batch from a link's node side and send it on. */
static void
u_node_ready(struct tun_user *u, struct u_link *ul)
{
	struct mmsghdr m[U_BATCH];
	struct iovec iov[U_BATCH];
	int n;

	if (ul->is_tap) {
		/* A TAP cannot recvmmsg: up to a batch of reads. */
		for (n = 0; n < U_BATCH; n++) {
			ssize_t r = read(ul->fd, u->nbuf, U_NODE_BUF);

			if (r < U_VNET_LEN)
				break;
			u_from_node(u, ul, (struct virtio_net_hdr *)(void *)u->nbuf,
			    u->nbuf + U_VNET_LEN, (size_t)r - U_VNET_LEN);
			if (u->nout > U_OUT_MAX - 48)
				u_flush(u);
		}
		u_flush(u);
		return;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < U_BATCH; i++) {
		iov[i].iov_base = u->nbuf + (size_t)i * U_NODE_BUF;
		iov[i].iov_len = U_NODE_BUF;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	if ((n = recvmmsg(ul->fd, m, U_BATCH, MSG_DONTWAIT, NULL)) <= 0)
		return;
	for (int i = 0; i < n; i++) {
		uint8_t *p = iov[i].iov_base;

		if (m[i].msg_len < (unsigned int)U_VNET_LEN + 14)
			continue;
		u_from_node(u, ul, (struct virtio_net_hdr *)(void *)p,
		    p + U_VNET_LEN, m[i].msg_len - U_VNET_LEN);
	}
	u_flush(u);
}

static struct u_link *
u_find(struct tun_user *u, int encap, uint32_t key, uint32_t remote,
    uint32_t local)
{
	for (size_t i = 0; i < u->nlinks; i++) {
		const struct tun_link_cfg *c = &u->links[i]->link->cfg;

		if ((int)c->encap == encap && c->key == key &&
		    c->remote.s_addr == remote &&
		    (local == 0 || c->local.s_addr == local))
			return u->links[i];
	}
	return NULL;
}

/* Write the merged packet held in u->gro, if any, to its node. */
static void
u_gro_flush(struct tun_user *u)
{
	const void *owner;
	struct u_link *ul;
	struct iovec *iov;
	int niov;

	if (u->gro.nseg == 0)
		return;
	iov = tun_gro_finish(&u->gro, &owner, &niov);
	ul = (struct u_link *)(uintptr_t)owner;
	if (writev(ul->fd, iov, niov) == -1) {
		u_add(&ul->drops, (uint64_t)niov - 1);
	} else {
		u_add(&ul->rx_packets, (uint64_t)niov - 1);
		u_add(&ul->rx_bytes, u->gro_bytes);
	}
	u->gro_bytes = 0;
}

/*
 * Give the node one decapsulated packet: Ethernet header eth (14 bytes),
 * IPv4 or other L3 packet ip (len bytes), bytes its counters add.  TCP
 * segments of a flow are held and merged (tun_gro.c) until the batch
 * ends; anything else is written at once, after what is held, so the
 * node sees the order of the wire.
 */
static void
u_deliver(struct tun_user *u, struct u_link *ul, const uint8_t *eth,
    const uint8_t *ip, size_t len, size_t bytes)
{
	uint8_t vh[U_VNET_LEN];
	struct iovec iov[3];
	int rc;

	rc = tun_gro_add(&u->gro, ul, eth, ip, len);
	if (rc != TUN_GRO_HELD) {
		u_gro_flush(u);
		if (rc == TUN_GRO_FLUSH)
			rc = tun_gro_add(&u->gro, ul, eth, ip, len);
	}
	if (rc == TUN_GRO_HELD) {
		u->gro_bytes += bytes;
		return;
	}
	memset(vh, 0, sizeof(vh));
	iov[0].iov_base = vh;
	iov[0].iov_len = sizeof(vh);
	iov[1].iov_base = (void *)(uintptr_t)eth;
	iov[1].iov_len = 14;
	iov[2].iov_base = (void *)(uintptr_t)ip;
	iov[2].iov_len = len;
	if (writev(ul->fd, iov, 3) == -1) {
		u_add(&ul->drops, 1);
		return;
	}
	u_add(&ul->rx_packets, 1);
	u_add(&ul->rx_bytes, bytes);
}

/*
 * The link's inner-address filter for the decapsulated IPv4 packet ip
 * (len bytes): 1 if it may go to the node.  A packet too short to hold
 * a destination fails when there is a filter.
 */
static int
u_inner_ok(const struct tun_link_cfg *c, const uint8_t *ip, size_t len)
{
	uint32_t daddr;

	if (!c->has_inner)
		return 1;
	if (len < 20)
		return 0;
	memcpy(&daddr, ip + 16, 4);
	return tun_inner_dst_ok(c, daddr);
}

/*
 * One packet from the underlay: find its link by (encap, key, outer
 * source, outer destination), strip the outer headers, apply the link's
 * inner-address filter and give the inner packet to the node.  p is the
 * whole IPv4 packet for raw sockets, the UDP payload for VXLAN (src is
 * then the sender's address).
 */
static void
u_from_wire(struct tun_user *u, int proto, uint8_t *p, size_t len,
    uint32_t src)
{
	uint32_t key = 0, local = 0;
	struct u_link *ul;
	uint8_t eth[14];
	size_t hl;
	int encap;

	if (proto != IPPROTO_UDP) {
		if (len < 20 || (p[0] >> 4) != 4)
			goto unknown;
		hl = (size_t)(p[0] & 0xf) * 4;
		memcpy(&src, p + 12, 4);
		memcpy(&local, p + 16, 4);
		if (hl < 20 || len < hl)
			goto unknown;
		p += hl;
		len -= hl;
	}
	if (proto == IPPROTO_IPIP) {
		encap = TUN_ENCAP_IPIP;
	} else if (proto == IPPROTO_GRE) {
		uint16_t fl, pr;

		if (len < 8)
			goto unknown;
		fl = (uint16_t)(p[0] << 8 | p[1]);
		pr = (uint16_t)(p[2] << 8 | p[3]);
		if ((fl & 0x4007) != 0 || (fl & 0x2000) == 0)
			goto unknown;
		if (pr == ETH_P_IP)
			encap = TUN_ENCAP_GRE;
		else if (pr == ETH_P_TEB)
			encap = TUN_ENCAP_GRETAP;
		else
			goto unknown;
		hl = 4 + ((fl & 0x8000) ? 4 : 0);
		if (len < hl + 4)
			goto unknown;
		key = (uint32_t)p[hl] << 24 | (uint32_t)p[hl + 1] << 16 |
		    (uint32_t)p[hl + 2] << 8 | p[hl + 3];
		hl += 4 + ((fl & 0x1000) ? 4 : 0);
		if (len < hl)
			goto unknown;
		p += hl;
		len -= hl;
	} else {
		if (len < 8 || (p[0] & 0x08) == 0)
			goto unknown;
		encap = TUN_ENCAP_VXLAN;
		key = (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
		p += 8;
		len -= 8;
	}
	if ((ul = u_find(u, encap, key, src, local)) == NULL)
		goto unknown;

	if (!tun_encap_is_l2(encap)) {
		static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff };

		if (len < 20 || (p[0] >> 4) != 4 ||
		    !u_inner_ok(&ul->link->cfg, p, len)) {
			u_add(&ul->drops, 1);
			return;
		}
		memcpy(eth, memcmp(ul->node_mac, "\0\0\0\0\0\0", 6) ?
		    ul->node_mac : bcast, 6);
		memcpy(eth + 6, ul->node_if_mac, 6);
		eth[12] = 0x08;
		eth[13] = 0x00;
		u_deliver(u, ul, eth, p, len, len);
	} else if (len < 14 || (p[12] == 0x08 && p[13] == 0x00 &&
	    !u_inner_ok(&ul->link->cfg, p + 14, len - 14))) {
		/* Only IPv4 is filtered: ARP, IPv6, tagged frames pass. */
		u_add(&ul->drops, 1);
	} else {
		memcpy(eth, p, 14);
		u_deliver(u, ul, eth, p + 14, len - 14, len);
	}
	return;
unknown:
	u_add(&u->unknown, 1);
}

static void
u_wire_ready(struct tun_user *u, struct u_wire *w)
{
	struct mmsghdr m[U_WIRE_BATCH];
	struct iovec iov[U_WIRE_BATCH];
	struct sockaddr_in from[U_WIRE_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm[U_WIRE_BATCH];
	int n;

	memset(m, 0, sizeof(m));
	memset(cm, 0, sizeof(cm));
	for (int i = 0; i < U_WIRE_BATCH; i++) {
		iov[i].iov_base = u->wbuf + (size_t)i * U_WIRE_BUF;
		iov[i].iov_len = U_WIRE_BUF;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &from[i];
		m[i].msg_hdr.msg_namelen = sizeof(from[i]);
		if (w->proto == IPPROTO_UDP) {
			m[i].msg_hdr.msg_control = cm[i].buf;
			m[i].msg_hdr.msg_controllen = sizeof(cm[i].buf);
		}
	}
	if ((n = recvmmsg(w->fd, m, U_WIRE_BATCH, MSG_DONTWAIT, NULL)) <= 0)
		return;
	for (int i = 0; i < n; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t len = m[i].msg_len, seg = len;
		struct cmsghdr *ch;

		/* A UDP GRO train: datagrams of seg bytes, the last shorter. */
		for (ch = CMSG_FIRSTHDR(&m[i].msg_hdr); ch != NULL;
		    ch = CMSG_NXTHDR(&m[i].msg_hdr, ch))
			if (ch->cmsg_level == IPPROTO_UDP &&
			    ch->cmsg_type == UDP_GRO) {
				int gs;

				memcpy(&gs, CMSG_DATA(ch), sizeof(gs));
				if (gs > 0)
					seg = (size_t)gs;
			}
		for (size_t off = 0; off < len; off += seg)
			u_from_wire(u, w->proto, p + off, len - off < seg ?
			    len - off : seg, from[i].sin_addr.s_addr);
	}
	u_gro_flush(u);
}

static void *
u_thread(void *arg)
{
	struct tun_user *u = arg;
	struct epoll_event ev[16];

	for (;;) {
		int n = epoll_wait(u->epfd, ev, 16, -1);

		if (n < 0 && errno != EINTR) {
			log_warn("tunnels: user forwarder: epoll_wait");
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct u_handle *h = ev[i].data.ptr;

			if (h->src == U_SRC_STOP)
				return NULL;
			if (h->src == U_SRC_NODE)
				u_node_ready(u, h->obj);
			else
				u_wire_ready(u, h->obj);
		}
	}
}

static void
u_stop(struct tun_user *u)
{
	uint64_t one = 1;

	if (!u->running)
		return;
	if (write(u->evfd, &one, sizeof(one)) != sizeof(one))
		fatal("tunnels: cannot wake the user forwarder");
	pthread_join(u->thread, NULL);
	if (read(u->evfd, &one, sizeof(one)) != sizeof(one))
		log_warn("tunnels: eventfd");
	u->running = 0;
}

static int
u_start(struct tun_user *u)
{
	int rc;

	if (u->running || u->nlinks == 0)
		return 0;
	if ((rc = pthread_create(&u->thread, NULL, u_thread, u)) != 0) {
		errno = rc;
		return err_sys("starting the user forwarder thread");
	}
	u->running = 1;
	return 0;
}

static int
u_epoll_add(struct tun_user *u, int fd, struct u_handle *h)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = h;
	if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return err_sys("epoll_ctl");
	return 0;
}

static int
u_bufsize(int fd)
{
	int sz = 4 << 20;

	/* FORCE needs CAP_NET_ADMIN; fall back to what the limits allow. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return 0;
}

/* Open the underlay receive socket for link c's protocol, if not yet. */
static int
u_wire_open(struct tun_user *u, const struct tun_link_cfg *c)
{
	int idx = c->encap == TUN_ENCAP_IPIP ? 1 :
	    c->encap == TUN_ENCAP_VXLAN ? 2 : 0;
	struct u_wire *w = &u->wire[idx];
	int one = 1;

	if (w->fd != -1)
		return 0;
	w->proto = idx == 0 ? IPPROTO_GRE : idx == 1 ? IPPROTO_IPIP :
	    IPPROTO_UDP;
	if (idx < 2)
		w->fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    w->proto);
	else {
		struct sockaddr_in sin;

		w->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(TUN_VXLAN_PORT);
		if (w->fd != -1 && (setsockopt(w->fd, SOL_SOCKET,
		    SO_REUSEADDR, &one, sizeof(one)) == -1 ||
		    bind(w->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)) {
			err_sys("binding UDP port %d for VXLAN",
			    TUN_VXLAN_PORT);
			close(w->fd);
			w->fd = -1;
			return -1;
		}
		/* Trains of datagrams in one read, where the kernel can. */
		if (w->fd != -1 && setsockopt(w->fd, IPPROTO_UDP, UDP_GRO,
		    &one, sizeof(one)) == -1)
			log_debug("tunnels: no UDP GRO on the VXLAN socket");
	}
	if (w->fd == -1)
		return err_sys("underlay socket for %s",
		    tun_encap_to_string(c->encap));
	u_bufsize(w->fd);
	w->h.src = U_SRC_WIRE;
	w->h.obj = w;
	if (u_epoll_add(u, w->fd, &w->h) == -1) {
		close(w->fd);
		w->fd = -1;
		return -1;
	}
	return 0;
}

/*
 * The UDP socket for VXLAN trains: DF on (as on the raw path), UDP GSO
 * probed with a setsockopt.  Without it VXLAN goes the raw way.
 */
static void
u_udp_open(struct tun_user *u)
{
	int pmtu = IP_PMTUDISC_PROBE, gs = 1400;

	if ((u->udpfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (setsockopt(u->udpfd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
	    sizeof(pmtu)) == -1 ||
	    setsockopt(u->udpfd, IPPROTO_UDP, UDP_SEGMENT, &gs, sizeof(gs)) == -1) {
		log_debug("tunnels: no UDP GSO, VXLAN segments go one by one");
		close(u->udpfd);
		u->udpfd = -1;
		return;
	}
	gs = 0;
	setsockopt(u->udpfd, IPPROTO_UDP, UDP_SEGMENT, &gs, sizeof(gs));
	u_bufsize(u->udpfd);
}

static int
tun_user_probe(void)
{
	int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (s == -1)
		return err_sys("the user backend needs raw sockets");
	close(s);
	if ((s = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) == -1)
		return err_sys("the user backend needs /dev/net/tun");
	close(s);
	return 0;
}

static void tun_user_close(struct tun_ctx *ctx);

static int
tun_user_open(struct tun_ctx *ctx)
{
	struct tun_user *u;
	int one = 1;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return err_nomem();
	u->epfd = u->evfd = u->txfd = u->udpfd = -1;
	for (int i = 0; i < 3; i++)
		u->wire[i].fd = -1;
	ctx->priv = u;
	u->nbuf = malloc((size_t)U_BATCH * U_NODE_BUF);
	u->wbuf = malloc((size_t)U_WIRE_BATCH * U_WIRE_BUF);
	u->out = calloc(U_OUT_MAX, sizeof(*u->out));
	u->ghdr = calloc(U_GSO_SEGS, sizeof(*u->ghdr));
	if (u->nbuf == NULL || u->wbuf == NULL || u->out == NULL ||
	    u->ghdr == NULL) {
		tun_user_close(ctx);
		return err_nomem();
	}
	if ((u->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (u->evfd = eventfd(0, EFD_CLOEXEC)) == -1 ||
	    (u->txfd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC,
	    IPPROTO_RAW)) == -1 ||
	    setsockopt(u->txfd, IPPROTO_IP, IP_HDRINCL, &one,
	    sizeof(one)) == -1) {
		err_sys("setting up the user forwarder");
		tun_user_close(ctx);
		return -1;
	}
	u_bufsize(u->txfd);
	u_udp_open(u);
	u->stop.src = U_SRC_STOP;
	if (u_epoll_add(u, u->evfd, &u->stop) == -1) {
		tun_user_close(ctx);
		return -1;
	}
	return 0;
}

static void
tun_user_close(struct tun_ctx *ctx)
{
	struct tun_user *u = ctx->priv;

	u_stop(u);
	for (int i = 0; i < 3; i++)
		if (u->wire[i].fd != -1)
			close(u->wire[i].fd);
	if (u->txfd != -1)
		close(u->txfd);
	if (u->udpfd != -1)
		close(u->udpfd);
	if (u->evfd != -1)
		close(u->evfd);
	if (u->epfd != -1)
		close(u->epfd);
	free(u->links);
	free(u->nbuf);
	free(u->wbuf);
	free(u->out);
	free(u->ghdr);
	free(u);
	ctx->priv = NULL;
}

/* An AF_PACKET socket on node_if, with virtio-net headers both ways. */
static int
u_open_packet(struct u_link *ul, const struct tun_link *link)
{
	const struct tun_link_cfg *c = &link->cfg;
	struct sockaddr_ll sll;
	int one = 1;

	ul->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    htons(ETH_P_ALL));
	if (ul->fd == -1)
		return err_sys("link '%s': packet socket", c->name);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = link->node_ifindex;
	if (setsockopt(ul->fd, SOL_PACKET, PACKET_VNET_HDR, &one,
	    sizeof(one)) == -1 ||
	    setsockopt(ul->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
	    sizeof(one)) == -1 ||
	    setsockopt(ul->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
	    sizeof(one)) == -1 ||
	    bind(ul->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		return err_sys("link '%s': packet socket on %s", c->name,
		    c->node_if);
	u_bufsize(ul->fd);
	/*
	 * This namespace's stack must not route what the node sends: its
	 * inner addresses are the VNet's, not ours.
	 */
	if (tun_if_sysctl(c->node_if, "forwarding", "0") == -1 ||
	    tun_if_sysctl(c->node_if, "disable_ipv6", "1") == -1)
		log_debug("link '%s': sysctl on %s failed", c->name,
		    c->node_if);
	err_reset();
	return 0;
}

/* A TAP port with offloads (TSO4, checksum) and virtio-net headers. */
static int
u_open_tap(struct u_link *ul, const struct tun_link *link)
{
	const struct tun_link_cfg *c = &link->cfg;
	struct ifreq ifr;

	tun_port_name(c, "vu", ul->port, sizeof(ul->port));
	if ((ul->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC |
	    O_NONBLOCK)) == -1)
		return err_sys("link '%s': /dev/net/tun", c->name);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	str_lcpy(ifr.ifr_name, ul->port, sizeof(ifr.ifr_name));
	if (ioctl(ul->fd, TUNSETIFF, &ifr) == -1)
		return err_sys("link '%s': making TAP %s", c->name, ul->port);
	ul->is_tap = 1;
	if (ioctl(ul->fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == -1)
		log_debug("link '%s': no TAP offloads", c->name);
	if (tun_if_set_mtu(ul->port, c->mtu) == -1 ||
	    tun_bridge_ensure(c->bridge) == -1 ||
	    tun_bridge_add_port(c->bridge, ul->port) == -1 ||
	    (c->node_if[0] != '\0' &&
	    tun_bridge_add_port(c->bridge, c->node_if) == -1))
		return -1;
	return 0;
}

static int
tun_user_link_add(struct tun_ctx *ctx, struct tun_link *link)
{
	struct tun_user *u = ctx->priv;
	const struct tun_link_cfg *c = &link->cfg;
	struct u_link *ul, **nl;
	int rc;

	if ((ul = calloc(1, sizeof(*ul))) == NULL)
		return err_nomem();
	ul->fd = -1;
	ul->link = link;
	u_stop(u);
	if ((nl = reallocarray(u->links, u->nlinks + 1, sizeof(*nl))) == NULL) {
		rc = err_nomem();
		goto fail;
	}
	u->links = nl;
	if (c->attach == TUN_ATTACH_DIRECT)
		rc = u_open_packet(ul, link);
	else
		rc = u_open_tap(ul, link);
	if (rc == -1)
		goto fail;
	if (c->attach == TUN_ATTACH_DIRECT)
		rc = tun_if_mac(c->node_if, ul->node_if_mac);
	else
		rc = tun_if_mac(ul->port, ul->node_if_mac);
	if (rc == -1 || u_wire_open(u, c) == -1)
		goto fail;
	ul->h.src = U_SRC_NODE;
	ul->h.obj = ul;
	if (u_epoll_add(u, ul->fd, &ul->h) == -1)
		goto fail;
	u->links[u->nlinks++] = ul;
	link->priv = ul;
	return u_start(u);
fail:
	if (ul->fd != -1)
		close(ul->fd);
	free(ul);
	u_start(u);
	return -1;
}

static int
tun_user_link_del(struct tun_ctx *ctx, struct tun_link *link)
{
	struct tun_user *u = ctx->priv;
	struct u_link *ul = link->priv;

	u_stop(u);
	for (size_t i = 0; i < u->nlinks; i++)
		if (u->links[i] == ul) {
			u->links[i] = u->links[--u->nlinks];
			break;
		}
	epoll_ctl(u->epfd, EPOLL_CTL_DEL, ul->fd, NULL);
	close(ul->fd);		/* a TAP without TUNSETPERSIST goes with it */
	free(ul);
	link->priv = NULL;
	return u_start(u);
}

static int
tun_user_link_stats(struct tun_ctx *ctx, struct tun_link *link,
    struct tun_stats *st)
{
	const struct u_link *ul = link->priv;

	st->tx_packets = u_get(&ul->tx_packets);
	st->tx_bytes = u_get(&ul->tx_bytes);
	st->rx_packets = u_get(&ul->rx_packets);
	st->rx_bytes = u_get(&ul->rx_bytes);
	st->drops = u_get(&ul->drops);
	return 0;
}

static uint64_t
tun_user_unknown_drops(struct tun_ctx *ctx)
{
	const struct tun_user *u = ctx->priv;

	return u_get(&u->unknown);
}

const struct tun_ops tun_user_ops = {
	.name = "user",
	.probe = tun_user_probe,
	.open = tun_user_open,
	.close = tun_user_close,
	.link_add = tun_user_link_add,
	.link_del = tun_user_link_del,
	.link_stats = tun_user_link_stats,
	.unknown_drops = tun_user_unknown_drops,
};
