/*
 * Unit tests of the virtual link library that need no privileges: the
 * generic checks of tunnel.c, and the rtnetlink requests of the kernel
 * backend for every encapsulation.  The requests are built exactly as
 * tun_kernel.c sends them, then parsed back attribute by attribute, so
 * ipip, gre and gretap are covered even on kernels that cannot make those
 * devices (the integration tests run VXLAN for real).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/virtio_net.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>

#include "error.h"
#include "tun_backend.h"
#include "tunnel.h"

static void
cfg_init(struct tun_link_cfg *c, enum tun_encap e, uint32_t key)
{
	memset(c, 0, sizeof(*c));
	str_lcpy(c->name, "l1", sizeof(c->name));
	c->encap = e;
	c->key = key;
	c->mtu = 1400;
	inet_pton(AF_INET, "10.1.2.3", &c->local);
	inet_pton(AF_INET, "10.4.5.6", &c->remote);
	str_lcpy(c->node_if, "veth0", sizeof(c->node_if));
}

/* Build the add request for c and parse it into tb / info / data. */
struct req {
	struct nl_msg *msg;
	struct nlattr *tb[IFLA_MAX + 1];
	struct nlattr *info[IFLA_INFO_MAX + 1];
	struct nlattr *data[64];
};

static void
req_build(struct req *r, const struct tun_link_cfg *c, int maxdata)
{
	struct rtnl_link *l;

	memset(r, 0, sizeof(*r));
	l = tun_kernel_link_new(c, 7, "vkt0");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(rtnl_link_build_add_request(l,
	    NLM_F_CREATE | NLM_F_EXCL, &r->msg), 0);
	rtnl_link_put(l);
	ck_assert_int_eq(nlmsg_parse(nlmsg_hdr(r->msg),
	    sizeof(struct ifinfomsg), r->tb, IFLA_MAX, NULL), 0);
	ck_assert_ptr_nonnull(r->tb[IFLA_LINKINFO]);
	ck_assert_int_eq(nla_parse_nested(r->info, IFLA_INFO_MAX,
	    r->tb[IFLA_LINKINFO], NULL), 0);
	ck_assert_ptr_nonnull(r->info[IFLA_INFO_DATA]);
	ck_assert_int_eq(nla_parse_nested(r->data, maxdata,
	    r->info[IFLA_INFO_DATA], NULL), 0);
	ck_assert_str_eq(nla_get_string(r->tb[IFLA_IFNAME]), "vkt0");
	ck_assert_uint_eq(nla_get_u32(r->tb[IFLA_MTU]), 1400);
	ck_assert_int_eq(nlmsg_hdr(r->msg)->nlmsg_type, RTM_NEWLINK);
	ck_assert(nlmsg_hdr(r->msg)->nlmsg_flags & NLM_F_CREATE);
}

START_TEST(test_req_ipip)
{
	struct tun_link_cfg c;
	struct req r;

	cfg_init(&c, TUN_ENCAP_IPIP, 0);
	req_build(&r, &c, IFLA_IPTUN_MAX);
	ck_assert_str_eq(nla_get_string(r.info[IFLA_INFO_KIND]), "ipip");
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_IPTUN_LOCAL]), c.local.s_addr);
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_IPTUN_REMOTE]),
	    c.remote.s_addr);
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_IPTUN_LINK]), 7);
	ck_assert_uint_eq(nla_get_u8(r.data[IFLA_IPTUN_TTL]), 64);
	ck_assert_uint_eq(nla_get_u8(r.data[IFLA_IPTUN_PMTUDISC]), 1);
	nlmsg_free(r.msg);
}
END_TEST

/* gre and gretap: same attributes, the kind tells them apart. */
static void
check_gre(enum tun_encap e, const char *kind)
{
	struct tun_link_cfg c;
	struct req r;

	cfg_init(&c, e, 0x01020304);
	req_build(&r, &c, IFLA_GRE_MAX);
	ck_assert_str_eq(nla_get_string(r.info[IFLA_INFO_KIND]), kind);
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_GRE_LOCAL]), c.local.s_addr);
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_GRE_REMOTE]), c.remote.s_addr);
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_GRE_LINK]), 7);
	/* RFC 2890 key both ways, in wire order, with the K flag (GRE_KEY
	 * is already big-endian). */
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_GRE_IKEY]), htonl(0x01020304));
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_GRE_OKEY]), htonl(0x01020304));
	ck_assert_uint_eq(nla_get_u16(r.data[IFLA_GRE_IFLAGS]), GRE_KEY);
	ck_assert_uint_eq(nla_get_u16(r.data[IFLA_GRE_OFLAGS]), GRE_KEY);
	ck_assert_uint_eq(nla_get_u8(r.data[IFLA_GRE_TTL]), 64);
	ck_assert_uint_eq(nla_get_u8(r.data[IFLA_GRE_PMTUDISC]), 1);
	nlmsg_free(r.msg);
}

START_TEST(test_req_gre)
{
	check_gre(TUN_ENCAP_GRE, "gre");
}
END_TEST

START_TEST(test_req_gretap)
{
	check_gre(TUN_ENCAP_GRETAP, "gretap");
}
END_TEST

START_TEST(test_req_vxlan)
{
	struct tun_link_cfg c;
	struct req r;
	struct in_addr a;

	cfg_init(&c, TUN_ENCAP_VXLAN, 0xabcdef);
	req_build(&r, &c, IFLA_VXLAN_MAX);
	ck_assert_str_eq(nla_get_string(r.info[IFLA_INFO_KIND]), "vxlan");
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_VXLAN_ID]), 0xabcdef);
	memcpy(&a, nla_data(r.data[IFLA_VXLAN_GROUP]), 4);
	ck_assert_uint_eq(a.s_addr, c.remote.s_addr);
	memcpy(&a, nla_data(r.data[IFLA_VXLAN_LOCAL]), 4);
	ck_assert_uint_eq(a.s_addr, c.local.s_addr);
	ck_assert_uint_eq(nla_get_u16(r.data[IFLA_VXLAN_PORT]), htons(4789));
	ck_assert_uint_eq(nla_get_u32(r.data[IFLA_VXLAN_LINK]), 7);
	ck_assert_uint_eq(nla_get_u8(r.data[IFLA_VXLAN_LEARNING]), 0);
	nlmsg_free(r.msg);
}
END_TEST

START_TEST(test_mtu)
{
	ck_assert_uint_eq(tun_mtu_max(TUN_ENCAP_IPIP, 1500), 1480);
	ck_assert_uint_eq(tun_mtu_max(TUN_ENCAP_GRE, 1500), 1472);
	ck_assert_uint_eq(tun_mtu_max(TUN_ENCAP_GRETAP, 1500), 1458);
	ck_assert_uint_eq(tun_mtu_max(TUN_ENCAP_VXLAN, 1500), 1450);
	ck_assert_uint_eq(tun_mtu_max(TUN_ENCAP_VXLAN, 9000), 8950);
	ck_assert_uint_eq(tun_mtu_max(TUN_ENCAP_VXLAN, 100), 0);
}
END_TEST

START_TEST(test_validate)
{
	struct tun_link_cfg c;

	err_reset();
	cfg_init(&c, TUN_ENCAP_GRE, 5);
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_EBPF), 0);

	c.attach = TUN_ATTACH_BRIDGE;
	str_lcpy(c.bridge, "br0", sizeof(c.bridge));
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_USER), -1);
	ck_assert_int_eq(err_last_code(), ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "not to a bridge"));

	err_reset();
	cfg_init(&c, TUN_ENCAP_VXLAN, TUN_VNI_MAX + 1);
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_EBPF), -1);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "VNI"));

	err_reset();
	cfg_init(&c, TUN_ENCAP_IPIP, 3);
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_EBPF), -1);

	err_reset();
	cfg_init(&c, TUN_ENCAP_VXLAN, 9);
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_KERNEL), -1);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "netns"));

	err_reset();
	cfg_init(&c, TUN_ENCAP_GRE, 9);
	c.remote = c.local;
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_EBPF), -1);
	err_reset();
}
END_TEST

/* Inner prefixes: what parses, what validates, what the filter lets in. */
START_TEST(test_inner_prefix)
{
	static const char *const badp[] = {
		"192.168.7.1", "192.168.7/24", "192.168.7.1/33",
		"192.168.7.1/", "192.168.7.1/-1", "192.168.7.1/+8",
		"192.168.7.1/ 8", "192.168.7.1/8x", "192.168.7.1/0x8",
		"192.168.7.1/4294967328", "/24", "", "a.b.c.d/8",
		"192.168.7.1.1.1.1.1.1.1.1/8",
	};
	struct tun_link_cfg c;
	struct in_addr a;
	unsigned int len;

	err_reset();
	ck_assert_int_eq(tun_parse_prefix("192.168.7.0/24", &a, &len), 0);
	ck_assert_uint_eq(a.s_addr, htonl(0xc0a80700));
	ck_assert_uint_eq(len, 24);
	ck_assert_int_eq(tun_parse_prefix("0.0.0.0/0", &a, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(tun_parse_prefix("10.1.2.3/032", &a, &len), 0);
	ck_assert_uint_eq(len, 32);
	/* Host bits parse; the configuration check refuses them. */
	ck_assert_int_eq(tun_parse_prefix("192.168.7.1/24", &a, &len), 0);
	ck_assert_uint_eq(a.s_addr, htonl(0xc0a80701));
	for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++) {
		err_reset();
		ck_assert_msg(tun_parse_prefix(badp[i], &a, &len) == -1,
		    "'%s' parsed", badp[i]);
		ck_assert_int_eq(err_last_code(), ERR_INVALID);
		ck_assert_ptr_nonnull(strstr(err_last()->msg, "IPv4 prefix"));
	}
	err_reset();
	ck_assert_int_eq(tun_parse_prefix("192.168.7.1", &a, &len), -1);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "/length is missing"));
	err_reset();
	ck_assert_int_eq(tun_parse_prefix("192.168.7.1/33", &a, &len), -1);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "length '33'"));

	ck_assert_uint_eq(tun_prefix_mask(0), 0);
	ck_assert_uint_eq(tun_prefix_mask(1), htonl(0x80000000));
	ck_assert_uint_eq(tun_prefix_mask(24), htonl(0xffffff00));
	ck_assert_uint_eq(tun_prefix_mask(31), htonl(0xfffffffe));
	ck_assert_uint_eq(tun_prefix_mask(32), 0xffffffffu);

	/* Validation: length, host bits, backends. */
	err_reset();
	cfg_init(&c, TUN_ENCAP_VXLAN, 9);
	c.has_inner = 1;
	c.inner.s_addr = htonl(0xc0a80700);
	c.inner_len = 24;
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_EBPF), 0);
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_USER), 0);
	c.inner_len = 33;
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_EBPF), -1);
	ck_assert_int_eq(err_last_code(), ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "over 32"));
	err_reset();
	c.inner_len = 23;
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_USER), -1);
	ck_assert_int_eq(err_last_code(), ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err_last()->msg,
	    "192.168.7.0/23 has host bits set"));
	ck_assert_ptr_nonnull(strstr(err_last()->hint, "192.168.6.0/23"));
	ck_assert_ptr_nonnull(strstr(err_last()->hint, "192.168.7.0/32"));
	err_reset();
	c.inner_len = 0;
	c.inner.s_addr = 0;
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_EBPF), 0);
	c.inner.s_addr = htonl(0xc0a80701);
	c.inner_len = 32;
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_EBPF), 0);
	/* No filter, whatever the other fields say: nothing to check. */
	c.has_inner = 0;
	c.inner_len = 99;
	str_lcpy(c.node_netns, "/run/netns/n", sizeof(c.node_netns));
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_KERNEL), 0);

	/* The kernel backend cannot filter: refused, with what to do. */
	err_reset();
	c.has_inner = 1;
	c.inner_len = 32;
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_KERNEL), -1);
	ck_assert_int_eq(err_last_code(), ERR_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err_last()->msg,
	    "kernel backend cannot filter inner addresses"));
	ck_assert_ptr_nonnull(strstr(err_last()->hint, "ebpf or user"));
	err_reset();
	ck_assert_int_eq(tun_link_cfg_validate(&c, TUN_BACKEND_USER), 0);

	/* The filter itself. */
	c.inner.s_addr = htonl(0xc0a80700);
	c.inner_len = 24;
	ck_assert(tun_inner_dst_ok(&c, htonl(0xc0a80701)));
	ck_assert(tun_inner_dst_ok(&c, htonl(0xc0a807ff)));
	ck_assert(!tun_inner_dst_ok(&c, htonl(0xc0a80801)));
	ck_assert(!tun_inner_dst_ok(&c, htonl(0x0a000001)));
	ck_assert(tun_inner_dst_ok(&c, htonl(0xffffffff)));
	ck_assert(tun_inner_dst_ok(&c, htonl(0xe0000005)));
	ck_assert(tun_inner_dst_ok(&c, htonl(0xefffffff)));
	ck_assert(!tun_inner_dst_ok(&c, htonl(0xf0000001)));
	ck_assert(!tun_inner_dst_ok(&c, htonl(0xdfffffff)));
	c.inner.s_addr = htonl(0xc0a80701);
	c.inner_len = 32;
	ck_assert(tun_inner_dst_ok(&c, htonl(0xc0a80701)));
	ck_assert(!tun_inner_dst_ok(&c, htonl(0xc0a80702)));
	c.inner.s_addr = 0;
	c.inner_len = 0;
	ck_assert(tun_inner_dst_ok(&c, htonl(0x01020304)));
	c.has_inner = 0;
	c.inner.s_addr = htonl(0xc0a80701);
	c.inner_len = 32;
	ck_assert(tun_inner_dst_ok(&c, htonl(0x01020304)));
	err_reset();
}
END_TEST

/* Transit configurations: keys, addresses, sides that cannot be told apart. */
START_TEST(test_transit_validate)
{
	struct tun_transit_cfg c;

	err_reset();
	memset(&c, 0, sizeof(c));
	str_lcpy(c.name, "t", sizeof(c.name));
	c.encap = TUN_ENCAP_GRE;
	c.local.s_addr = htonl(0x0a000002);
	c.side[0].remote.s_addr = htonl(0x0a000001);
	c.side[0].key = 10;
	c.side[1].remote.s_addr = htonl(0x0a000003);
	c.side[1].key = 20;
	ck_assert_int_eq(tun_transit_cfg_validate(&c), 0);

	/* Both sides from one host: only the keys tell them apart. */
	c.side[1].remote = c.side[0].remote;
	ck_assert_int_eq(tun_transit_cfg_validate(&c), 0);
	c.side[1].key = 10;
	ck_assert_int_eq(tun_transit_cfg_validate(&c), -1);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "tell them apart"));

	err_reset();
	c.side[1].key = 20;
	c.side[1].remote = c.local;
	ck_assert_int_eq(tun_transit_cfg_validate(&c), -1);

	err_reset();
	c.side[1].remote.s_addr = htonl(0x0a000003);
	c.encap = TUN_ENCAP_VXLAN;
	c.side[0].key = TUN_VNI_MAX + 1;
	ck_assert_int_eq(tun_transit_cfg_validate(&c), -1);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "VNI"));

	err_reset();
	c.encap = TUN_ENCAP_IPIP;
	c.side[0].key = 0;
	ck_assert_int_eq(tun_transit_cfg_validate(&c), -1);
	c.side[1].key = 0;
	err_reset();
	ck_assert_int_eq(tun_transit_cfg_validate(&c), 0);
	err_reset();
}
END_TEST

START_TEST(test_names)
{
	enum tun_encap e;
	struct in_addr a;

	for (int i = 0; i < TUN_ENCAP_LAST; i++)
		ck_assert_int_eq(tun_encap_from_string(tun_encap_to_string(i)),
		    i);
	ck_assert_int_eq(tun_backend_from_string("ebpf"), TUN_BACKEND_EBPF);
	ck_assert_int_eq(tun_backend_from_string("user"), TUN_BACKEND_USER);
	ck_assert_int_eq(tun_parse_encap("gretap", &e), 0);
	ck_assert_int_eq(e, TUN_ENCAP_GRETAP);
	ck_assert_int_eq(tun_parse_encap("l2tp", &e), -1);
	ck_assert_int_eq(tun_parse_addr("10.0.0.300", &a), -1);
	err_reset();
}
END_TEST

/*
 * tun_gro.c: a TCP/IPv4 segment (20-byte IPv4 header, 32-byte TCP header
 * with a timestamp option, plen bytes of payload from data + off) with
 * valid checksums, at p; returns its length.
 */
static const uint8_t eth_hdr[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1,
    0x08, 0x00 };

static size_t
seg_make(uint8_t *p, uint32_t seq, uint8_t flags, const uint8_t *data,
    size_t off, size_t plen)
{
	size_t len = 52 + plen;
	uint16_t v;
	uint32_t w;
	uint64_t sum;

	memset(p, 0, 52);
	p[0] = 0x45;
	v = htons((uint16_t)len);
	memcpy(p + 2, &v, 2);
	p[6] = 0x40;				/* DF */
	p[8] = 64;
	p[9] = 6;
	inet_pton(AF_INET, "192.168.7.1", p + 12);
	inet_pton(AF_INET, "192.168.7.2", p + 16);
	v = tun_csum_fold(tun_csum_add(p, 20, 0));
	memcpy(p + 10, &v, 2);
	v = htons(40000);
	memcpy(p + 20, &v, 2);
	v = htons(5201);
	memcpy(p + 22, &v, 2);
	w = htonl(seq);
	memcpy(p + 24, &w, 4);
	w = htonl(77);
	memcpy(p + 28, &w, 4);
	p[32] = 8 << 4;
	p[33] = flags;
	p[34] = 0x01;
	p[40] = 1;
	p[41] = 1;
	p[42] = 8;
	p[43] = 10;				/* NOP NOP TS */
	memcpy(p + 52, data + off, plen);
	sum = tun_csum_add(p + 12, 8, 0) + htons(6) + htons((uint16_t)(len - 20));
	v = tun_csum_fold(tun_csum_add(p + 20, len - 20, sum));
	memcpy(p + 36, &v, 2);
	return len;
}

START_TEST(test_gro)
{
	static uint8_t data[4096], seg[6][1600];
	struct virtio_net_hdr vh;
	struct tun_gro g;
	struct iovec *iov;
	const void *owner;
	size_t len[6], n = 0;
	uint8_t out[8192];
	int niov, ownerv = 1, otherv = 2;
	uint16_t v;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	tun_gro_init(&g);
	/* Three full segments and a short one with PSH: one packet. */
	len[0] = seg_make(seg[0], 1000, 0x10, data, 0, 1000);
	len[1] = seg_make(seg[1], 2000, 0x10, data, 1000, 1000);
	len[2] = seg_make(seg[2], 3000, 0x10, data, 2000, 1000);
	len[3] = seg_make(seg[3], 4000, 0x18, data, 3000, 500);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(tun_gro_add(&g, &ownerv, eth_hdr, seg[i],
		    len[i]), TUN_GRO_HELD);
	/* After PSH nothing more joins. */
	len[4] = seg_make(seg[4], 4500, 0x10, data, 3500, 100);
	ck_assert_int_eq(tun_gro_add(&g, &ownerv, eth_hdr, seg[4], len[4]),
	    TUN_GRO_FLUSH);
	iov = tun_gro_finish(&g, &owner, &niov);
	ck_assert_ptr_eq(owner, &ownerv);
	ck_assert_int_eq(niov, 5);
	for (int i = 0; i < niov; i++) {
		ck_assert_uint_le(n + iov[i].iov_len, sizeof(out));
		memcpy(out + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	ck_assert_uint_eq(n, sizeof(vh) + 14 + 52 + 3500);
	memcpy(&vh, out, sizeof(vh));
	ck_assert_int_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_int_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_int_eq(vh.gso_size, 1000);
	ck_assert_int_eq(vh.hdr_len, 14 + 52);
	ck_assert_int_eq(vh.csum_start, 14 + 20);
	ck_assert_int_eq(vh.csum_offset, 16);
	ck_assert_mem_eq(out + sizeof(vh), eth_hdr, 14);
	{
		uint8_t *ip = out + sizeof(vh) + 14;
		uint64_t sum;

		ck_assert_int_eq(ip[2] << 8 | ip[3], 52 + 3500);
		ck_assert_int_eq(tun_csum_fold(tun_csum_add(ip, 20, 0)), 0);
		ck_assert_int_eq(ip[33], 0x18);		/* PSH of the last */
		ck_assert_mem_eq(ip + 52, data, 3500);
		/*
		 * Finish the partial checksum as the stack would (sum from
		 * csum_start on, into csum_offset): then it must verify.
		 */
		v = tun_csum_fold(tun_csum_add(ip + 20, 32 + 3500, 0));
		memcpy(ip + 36, &v, 2);
		sum = tun_csum_add(ip + 12, 8, 0) + htons(6) +
		    htons(32 + 3500);
		ck_assert_int_eq(tun_csum_fold(tun_csum_add(ip + 20,
		    32 + 3500, sum)), 0);
	}
	/* Then the flushed segment starts the next packet. */
	ck_assert_int_eq(tun_gro_add(&g, &ownerv, eth_hdr, seg[4], len[4]),
	    TUN_GRO_HELD);
	iov = tun_gro_finish(&g, &owner, &niov);
	ck_assert_int_eq(niov, 2);
	memcpy(&vh, iov[0].iov_base, sizeof(vh));
	ck_assert_int_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_NONE);

	/* A gap in the sequence, another owner: flush. */
	ck_assert_int_eq(tun_gro_add(&g, &ownerv, eth_hdr, seg[0], len[0]),
	    TUN_GRO_HELD);
	ck_assert_int_eq(tun_gro_add(&g, &ownerv, eth_hdr, seg[2], len[2]),
	    TUN_GRO_FLUSH);
	ck_assert_int_eq(tun_gro_add(&g, &otherv, eth_hdr, seg[1], len[1]),
	    TUN_GRO_FLUSH);
	tun_gro_finish(&g, &owner, &niov);
	/* A damaged segment, a SYN, a pure ACK: never merged. */
	seg[1][60] ^= 0x40;
	ck_assert_int_eq(tun_gro_add(&g, &ownerv, eth_hdr, seg[1], len[1]),
	    TUN_GRO_PASS);
	len[5] = seg_make(seg[5], 1000, 0x12, data, 0, 100);
	ck_assert_int_eq(tun_gro_add(&g, &ownerv, eth_hdr, seg[5], len[5]),
	    TUN_GRO_PASS);
	len[5] = seg_make(seg[5], 1000, 0x10, data, 0, 0);
	ck_assert_int_eq(tun_gro_add(&g, &ownerv, eth_hdr, seg[5], len[5]),
	    TUN_GRO_PASS);
	ck_assert_int_eq(g.nseg, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tunnel");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_req_ipip);
	tcase_add_test(tc, test_req_gre);
	tcase_add_test(tc, test_req_gretap);
	tcase_add_test(tc, test_req_vxlan);
	tcase_add_test(tc, test_mtu);
	tcase_add_test(tc, test_validate);
	tcase_add_test(tc, test_inner_prefix);
	tcase_add_test(tc, test_transit_validate);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_gro);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
