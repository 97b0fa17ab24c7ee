/*
 * A small GRO for the user backend: consecutive TCP segments of one flow
 * that arrive in one receive batch are merged into one TCP/IPv4
 * super-packet with a virtio-net header (GSO_TCPV4, checksum partial), so
 * the forwarder writes the node one packet per batch instead of one per
 * segment, and the node's stack handles it as a GRO packet.
 *
 * The rules are the kernel's (net/ipv4/tcp_offload.c) made stricter:
 * IPv4 without options, not a fragment, TCP with payload and only ACK (and
 * PSH on the last segment) set, same addresses, ports, TOS, TTL, DF, ack
 * number and options (timestamps), the next sequence number, every segment
 * but the last exactly the first one's size.  Each segment's IPv4 and TCP
 * checksums are verified before it is merged: a damaged segment is passed
 * on as it came, and the node drops it, as it would have without us.
 *
 * The merged packet is an iovec: one header block (virtio-net header,
 * Ethernet header, the first segment's IPv4 and TCP headers, rewritten)
 * and the payload of each segment where it lies in the receive buffer,
 * so nothing is copied until the write.
 */
#include <sys/uio.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#include "tun_backend.h"

#define TCP_F_FIN	0x01
#define TCP_F_PSH	0x08
#define TCP_F_ACK	0x10

/*
 * Ones' complement sum of len bytes added to sum, not folded: eight bytes
 * a step, each split into two 32-bit halves so the 64-bit accumulator
 * cannot overflow below 2^32 steps.
 */
uint64_t
tun_csum_add(const void *p, size_t len, uint64_t sum)
{
	const uint8_t *b = p;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, b, 8);
		sum += (w & 0xffffffffu) + (w >> 32);
		b += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, b, 4);
		sum += w;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, b, 2);
		sum += w;
		b += 2;
		len -= 2;
	}
	if (len)
		sum += *b;		/* little-endian: low byte first */
	return sum;
}

/* Fold sum to 16 bits and invert it: the value a checksum field holds. */
uint16_t
tun_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP pseudo header of IPv4 header ip for a TCP length of tcplen. */
static uint64_t
tun_gro_pseudo(const uint8_t *ip, size_t tcplen)
{
	uint64_t sum = tun_csum_add(ip + 12, 8, 0);

	return sum + htons(IPPROTO_TCP) + htons((uint16_t)tcplen);
}

void
tun_gro_init(struct tun_gro *g)
{
	memset(g, 0, sizeof(*g));
}

/*
 * Can the IPv4 packet ip (len bytes) join a merge at all?  Returns the
 * TCP header length, or 0.  Checks the shape, the flags and both
 * checksums.
 */
static size_t
tun_gro_ok(const uint8_t *ip, size_t len)
{
	size_t thl;
	uint16_t tot, frag;
	uint8_t fl;

	if (len < 40 || ip[0] != 0x45 || ip[9] != IPPROTO_TCP)
		return 0;
	tot = (uint16_t)(ip[2] << 8 | ip[3]);
	frag = (uint16_t)(ip[6] << 8 | ip[7]);
	if (tot != len || (frag & 0x3fff) != 0)
		return 0;
	thl = (size_t)(ip[32] >> 4) * 4;
	if (thl < 20 || 20 + thl >= len)
		return 0;			/* no payload: an ACK */
	fl = ip[33];
	if ((fl & TCP_F_ACK) == 0 || (fl & ~(TCP_F_ACK | TCP_F_PSH)) != 0)
		return 0;
	if (tun_csum_fold(tun_csum_add(ip, 20, 0)) != 0)
		return 0;
	if (tun_csum_fold(tun_csum_add(ip + 20, len - 20,
	    tun_gro_pseudo(ip, len - 20))) != 0)
		return 0;
	return thl;
}

/* Does ip (TCP header length thl, len bytes) continue g's packet? */
static int
tun_gro_match(const struct tun_gro *g, const void *owner, const uint8_t *eth,
    const uint8_t *ip, size_t thl, size_t len)
{
	const uint8_t *gip = g->hdr + g->ipoff;
	uint32_t seq;

	if (g->owner != owner || g->closed || thl != g->thl ||
	    len - 20 - thl > g->mss || g->nseg == TUN_GRO_SEGS ||
	    20 + thl + g->payload + (len - 20 - thl) > 65535)
		return 0;
	if (memcmp(g->hdr + g->ipoff - ETH_HLEN, eth, ETH_HLEN) != 0)
		return 0;
	/* TOS, TTL, DF, protocol, addresses; ports, ack, options. */
	if (gip[1] != ip[1] || gip[6] != ip[6] || gip[8] != ip[8] ||
	    memcmp(gip + 12, ip + 12, 8) != 0 ||
	    memcmp(gip + 20, ip + 20, 4) != 0 ||
	    memcmp(gip + 28, ip + 28, 4) != 0 ||
	    memcmp(gip + 40, ip + 40, thl - 20) != 0)
		return 0;
	memcpy(&seq, ip + 24, 4);
	return ntohl(seq) == g->next_seq;
}

/*
 * Offer one inner packet for owner: eth is its Ethernet header (14
 * bytes, copied), ip its IPv4 packet (len bytes; the payload must stay
 * where it is until the merge is flushed).  Returns TUN_GRO_HELD (g has
 * it), TUN_GRO_FLUSH (write g's packet out with tun_gro_finish, then
 * offer this one again) or TUN_GRO_PASS (not mergeable: write g's packet
 * out first if any, to keep the order, then this one as it is).
 */
int
tun_gro_add(struct tun_gro *g, const void *owner, const uint8_t *eth,
    const uint8_t *ip, size_t len)
{
	size_t thl, plen;
	uint32_t seq;

	if (eth[12] != 0x08 || eth[13] != 0x00 || (thl = tun_gro_ok(ip,
	    len)) == 0)
		return TUN_GRO_PASS;
	plen = len - 20 - thl;
	if (g->nseg > 0) {
		if (!tun_gro_match(g, owner, eth, ip, thl, len))
			return TUN_GRO_FLUSH;
		if (plen < g->mss)
			g->closed = 1;
	} else {
		/* Start: the header block, from this first segment. */
		memset(g->hdr, 0, sizeof(struct virtio_net_hdr));
		g->ipoff = sizeof(struct virtio_net_hdr) + ETH_HLEN;
		memcpy(g->hdr + g->ipoff - ETH_HLEN, eth, ETH_HLEN);
		memcpy(g->hdr + g->ipoff, ip, 20 + thl);
		g->hlen = g->ipoff + 20 + thl;
		g->owner = owner;
		g->thl = thl;
		g->mss = plen;
		g->payload = 0;
		g->closed = 0;
		g->psh = 0;
		memcpy(&seq, ip + 24, 4);
		g->next_seq = ntohl(seq);
	}
	g->iov[1 + g->nseg].iov_base = (void *)(uintptr_t)(ip + 20 + thl);
	g->iov[1 + g->nseg].iov_len = plen;
	g->nseg++;
	g->payload += plen;
	g->next_seq += (uint32_t)plen;
	if (ip[33] & TCP_F_PSH) {
		g->psh = 1;
		g->closed = 1;
	}
	return TUN_GRO_HELD;
}

/*
 * Close g's packet: rewrite its headers (lengths, IPv4 checksum, PSH,
 * the TCP checksum left partial for the node's stack) and return the
 * iovec to write (*niov entries, starting with the virtio-net header).
 * A single segment goes out unchanged with an empty virtio-net header.
 * g is empty afterwards; *owner tells whose packet it was.
 */
struct iovec *
tun_gro_finish(struct tun_gro *g, const void **owner, int *niov)
{
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)(void *)g->hdr;
	uint8_t *ip = g->hdr + g->ipoff, *th = ip + 20;
	size_t tcplen = g->thl + g->payload;
	uint16_t v;

	*owner = g->owner;
	*niov = 1 + g->nseg;
	g->iov[0].iov_base = g->hdr;
	g->iov[0].iov_len = g->hlen;
	if (g->nseg > 1) {
		v = htons((uint16_t)(20 + tcplen));
		memcpy(ip + 2, &v, 2);
		memset(ip + 10, 0, 2);
		v = tun_csum_fold(tun_csum_add(ip, 20, 0));
		memcpy(ip + 10, &v, 2);
		if (g->psh)
			th[13] |= TCP_F_PSH;
		/* Partial: the pseudo header's sum, folded, not inverted. */
		v = (uint16_t)~tun_csum_fold(tun_gro_pseudo(ip, tcplen));
		memcpy(th + 16, &v, 2);
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh->hdr_len = (uint16_t)(ETH_HLEN + 20 + g->thl);
		vh->gso_size = (uint16_t)g->mss;
		vh->csum_start = ETH_HLEN + 20;
		vh->csum_offset = 16;
	}
	g->nseg = 0;
	g->owner = NULL;
	return g->iov;
}
