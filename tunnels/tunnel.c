/*
 * Virtual links: the backend-independent half.  Picks a backend, checks
 * link configurations, keeps the list of link ends of a context and hands
 * each operation to the backend's table of functions.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "tun_backend.h"

ENUM_IMPL(tun_encap, TUN_ENCAP_LAST, "ipip", "gre", "gretap", "vxlan")
ENUM_IMPL(tun_backend, TUN_BACKEND_LAST, "ebpf", "kernel", "user")
ENUM_IMPL(tun_attach, TUN_ATTACH_LAST, "direct", "bridge")

/* In order of preference: the first that probes well is the default. */
static const struct tun_ops *const tun_backends[TUN_BACKEND_LAST] = {
	[TUN_BACKEND_EBPF] = &tun_ebpf_ops,
	[TUN_BACKEND_KERNEL] = &tun_kernel_ops,
	[TUN_BACKEND_USER] = &tun_user_ops,
};

int
tun_backend_probe(enum tun_backend b)
{
	if ((int)b < 0 || b >= TUN_BACKEND_LAST)
		return err_set(ERR_INVALID, "unknown tunnel backend %d", (int)b);
	return tun_backends[b]->probe();
}

/*
 * The kernel backend is preferred over user space only when the kernel
 * has every tunnel device; a host with VXLAN but no GRE gets the user
 * forwarder, which covers every encapsulation.
 */
int
tun_backend_detect(void)
{
	for (int b = 0; b < TUN_BACKEND_LAST; b++) {
		if (tun_backends[b]->probe() == 0) {
			err_reset();
			return b;
		}
		log_debug("tunnels: backend %s not usable here",
		    tun_backend_to_string(b));
	}
	return err_set(ERR_UNSUPPORTED, "no tunnel backend works on this host");
}

struct tun_ctx *
tun_open(int b)
{
	struct tun_ctx *ctx;

	if (b < 0 && (b = tun_backend_detect()) < 0)
		return NULL;
	if (b >= TUN_BACKEND_LAST) {
		err_set(ERR_INVALID, "unknown tunnel backend %d", b);
		return NULL;
	}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		err_nomem();
		return NULL;
	}
	ctx->backend = b;
	ctx->ops = tun_backends[b];
	if (ctx->ops->open(ctx) == -1) {
		free(ctx);
		return NULL;
	}
	log_info("tunnels: using the %s backend", ctx->ops->name);
	return ctx;
}

void
tun_close(struct tun_ctx *ctx)
{
	if (ctx == NULL)
		return;
	tun_transit_close(ctx);
	while (ctx->links != NULL)
		if (tun_link_del(ctx, ctx->links) == -1) {
			/* Already logged; forget it rather than loop. */
			struct tun_link *l = ctx->links;

			ctx->links = l->next;
			free(l);
		}
	ctx->ops->close(ctx);
	free(ctx);
}

enum tun_backend
tun_ctx_backend(const struct tun_ctx *ctx)
{
	return ctx->backend;
}

unsigned int
tun_overhead(enum tun_encap encap)
{
	switch (encap) {
	case TUN_ENCAP_IPIP:
		return 20;			/* outer IPv4 */
	case TUN_ENCAP_GRE:
		return 20 + 8;			/* + GRE with key */
	case TUN_ENCAP_GRETAP:
		return 20 + 8 + 14;		/* + inner Ethernet */
	case TUN_ENCAP_VXLAN:
		return 20 + 8 + 8 + 14;		/* UDP, VXLAN, Ethernet */
	default:
		return 0;
	}
}

unsigned int
tun_mtu_max(enum tun_encap encap, unsigned int underlay_mtu)
{
	unsigned int o = tun_overhead(encap);

	return underlay_mtu > o + 68 ? underlay_mtu - o : 0;
}

int
tun_encap_is_l2(enum tun_encap encap)
{
	return encap == TUN_ENCAP_GRETAP || encap == TUN_ENCAP_VXLAN;
}

uint32_t
tun_prefix_mask(unsigned int len)
{
	if (len == 0)
		return 0;
	if (len >= 32)
		return 0xffffffffu;
	return htonl(~((1u << (32 - len)) - 1));
}

int
tun_inner_dst_ok(const struct tun_link_cfg *c, uint32_t daddr)
{
	uint32_t mask, h = ntohl(daddr);

	if (!c->has_inner)
		return 1;
	/*
	 * Limited broadcast and multicast are not addressed to a host
	 * beyond the link: DHCP, routing protocols' hellos.  They pass;
	 * the key or VNI already said they come from this VNet's peer.
	 */
	if (h == 0xffffffffu || (h >> 28) == 0xe)
		return 1;
	mask = tun_prefix_mask(c->inner_len);
	return (daddr & mask) == (c->inner.s_addr & mask);
}

/*
 * The inner prefix: a length 0..32 and no host bits, so that what was
 * written is what is filtered (192.168.7.1/24 is more likely a typo for
 * /32 than a wish for 192.168.7.0/24).  The kernel backend's devices hand
 * packets to the node's stack with nothing in between that could filter
 * them (no nftables on these hosts, by design): refused there rather than
 * silently ignored.
 */
static int
tun_inner_validate(const struct tun_link_cfg *c, enum tun_backend b)
{
	char a[INET_ADDRSTRLEN], n[INET_ADDRSTRLEN];
	struct in_addr net;
	int bad = 0;

	inet_ntop(AF_INET, &c->inner, a, sizeof(a));
	if (c->inner_len > 32)
		return err_set(ERR_INVALID,
		    "link '%s': inner prefix length %u is over 32", c->name,
		    c->inner_len);
	net.s_addr = c->inner.s_addr & tun_prefix_mask(c->inner_len);
	if (net.s_addr != c->inner.s_addr) {
		inet_ntop(AF_INET, &net, n, sizeof(n));
		bad = err_set(ERR_INVALID,
		    "link '%s': inner prefix %s/%u has host bits set",
		    c->name, a, c->inner_len);
		err_hint("write %s/%u for the whole network, or %s/32 for "
		    "the one address", n, c->inner_len, a);
	}
	if (b == TUN_BACKEND_KERNEL) {
		bad = err_set(ERR_UNSUPPORTED,
		    "link '%s': the kernel backend cannot filter inner "
		    "addresses (inner %s/%u)", c->name, a, c->inner_len);
		err_hint("use the ebpf or user backend for this link, or "
		    "leave the inner prefix out");
	}
	return bad;
}

int
tun_link_cfg_validate(const struct tun_link_cfg *c, enum tun_backend b)
{
	int bad = 0;

	if (c->name[0] == '\0' || memchr(c->name, '\0', sizeof(c->name)) == NULL)
		bad = err_set(ERR_INVALID, "link name is empty or too long");
	if ((int)c->encap < 0 || c->encap >= TUN_ENCAP_LAST)
		bad = err_set(ERR_INVALID, "link '%s': unknown encapsulation %d",
		    c->name, (int)c->encap);
	if (c->local.s_addr == INADDR_ANY || c->remote.s_addr == INADDR_ANY)
		bad = err_set(ERR_INVALID,
		    "link '%s': local and remote underlay addresses are required",
		    c->name);
	if (c->local.s_addr == c->remote.s_addr)
		bad = err_set(ERR_INVALID,
		    "link '%s': local and remote underlay addresses are equal",
		    c->name);
	if (c->encap == TUN_ENCAP_VXLAN && c->key > TUN_VNI_MAX)
		bad = err_set(ERR_INVALID, "link '%s': VNI %u is over %u",
		    c->name, c->key, TUN_VNI_MAX);
	if (c->encap == TUN_ENCAP_IPIP && c->key != 0)
		bad = err_set(ERR_INVALID,
		    "link '%s': ipip has no key, but key %u was given",
		    c->name, c->key);
	if (c->mtu != 0 && c->mtu < 68)
		bad = err_set(ERR_INVALID, "link '%s': inner MTU %u is under 68",
		    c->name, c->mtu);
	if ((int)c->attach < 0 || c->attach >= TUN_ATTACH_LAST)
		bad = err_set(ERR_INVALID, "link '%s': unknown attach mode %d",
		    c->name, (int)c->attach);
	if (c->attach == TUN_ATTACH_DIRECT && c->node_if[0] == '\0')
		bad = err_set(ERR_INVALID,
		    "link '%s': direct attach needs the node interface",
		    c->name);
	if (c->attach == TUN_ATTACH_DIRECT && b == TUN_BACKEND_KERNEL &&
	    c->node_netns[0] == '\0')
		bad = err_set(ERR_INVALID,
		    "link '%s': kernel direct attach needs the node's netns",
		    c->name);
	if (c->attach == TUN_ATTACH_BRIDGE && c->bridge[0] == '\0')
		bad = err_set(ERR_INVALID,
		    "link '%s': bridge attach needs a bridge name", c->name);
	if (c->attach == TUN_ATTACH_BRIDGE && !tun_encap_is_l2(c->encap))
		bad = err_set(ERR_INVALID,
		    "link '%s': %s carries IP packets, not frames; "
		    "attach it directly, not to a bridge",
		    c->name, tun_encap_to_string(c->encap));
	if (c->has_inner && tun_inner_validate(c, b) == -1)
		bad = -1;
	return bad;
}

/* Two links conflict on the wire when a receiver could not tell them apart. */
static int
tun_link_conflict(const struct tun_link *l, const struct tun_link_cfg *c)
{
	if (strcmp(l->cfg.name, c->name) == 0)
		return err_set(ERR_DUPLICATE, "link '%s' already exists",
		    c->name);
	if (l->cfg.encap == c->encap && l->cfg.key == c->key &&
	    l->cfg.remote.s_addr == c->remote.s_addr &&
	    l->cfg.local.s_addr == c->local.s_addr)
		return err_set(ERR_DUPLICATE,
		    "link '%s': link '%s' already uses %s key %u to the same peer",
		    c->name, l->cfg.name, tun_encap_to_string(c->encap),
		    c->key);
	if (c->attach == TUN_ATTACH_DIRECT && l->cfg.attach == c->attach &&
	    strcmp(l->cfg.node_if, c->node_if) == 0 &&
	    strcmp(l->cfg.node_netns, c->node_netns) == 0)
		return err_set(ERR_DUPLICATE,
		    "link '%s': link '%s' already serves interface %s",
		    c->name, l->cfg.name, c->node_if);
	return 0;
}

/*
 * Add a link end: check it, resolve the underlay device (the one that
 * holds the local address) and its MTU, settle the inner MTU, then let
 * the backend build it.  Returns the new link, owned by ctx.
 */
struct tun_link *
tun_link_add(struct tun_ctx *ctx, const struct tun_link_cfg *cfg)
{
	struct tun_link *l;
	char under[IFNAMSIZ];
	unsigned int max;

	if (tun_link_cfg_validate(cfg, ctx->backend) == -1)
		return NULL;
	for (l = ctx->links; l != NULL; l = l->next)
		if (tun_link_conflict(l, cfg) == -1)
			return NULL;
	if (tun_transit_conflict_link(ctx, cfg) == -1)
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		err_nomem();
		return NULL;
	}
	l->cfg = *cfg;
	if (tun_if_by_addr(cfg->local, under, sizeof(under)) == -1 ||
	    (l->underlay_ifindex = tun_if_index(under)) == -1 ||
	    tun_if_mtu(under, &l->underlay_mtu) == -1)
		goto fail;
	max = tun_mtu_max(cfg->encap, l->underlay_mtu);
	if (l->cfg.mtu == 0)
		l->cfg.mtu = max;
	if (l->cfg.mtu > max) {
		err_set(ERR_INVALID,
		    "link '%s': inner MTU %u does not fit: %s over %s (MTU %u) "
		    "allows at most %u", cfg->name, cfg->mtu,
		    tun_encap_to_string(cfg->encap), under, l->underlay_mtu,
		    max);
		err_hint("lower the link MTU to %u or raise the underlay MTU",
		    max);
		goto fail;
	}
	if (cfg->node_if[0] != '\0' && cfg->node_netns[0] == '\0' &&
	    (l->node_ifindex = tun_if_index(cfg->node_if)) == -1)
		goto fail;
	if (ctx->ops->link_add(ctx, l) == -1)
		goto fail;
	l->next = ctx->links;
	ctx->links = l;
	log_info("tunnels: link %s up: %s key %u mtu %u node %s via %s (%s)",
	    l->cfg.name, tun_encap_to_string(l->cfg.encap), l->cfg.key,
	    l->cfg.mtu, l->cfg.node_if[0] ? l->cfg.node_if : "-", under,
	    ctx->ops->name);
	return l;
fail:
	free(l);
	return NULL;
}

int
tun_link_del(struct tun_ctx *ctx, struct tun_link *link)
{
	struct tun_link **pp;
	int rc;

	if (link == NULL)
		return 0;
	for (pp = &ctx->links; *pp != NULL && *pp != link; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return err_set(ERR_NOT_FOUND, "link '%s' is not in this context",
		    link->cfg.name);
	rc = ctx->ops->link_del(ctx, link);
	*pp = link->next;
	log_info("tunnels: link %s removed", link->cfg.name);
	free(link);
	return rc;
}

struct tun_link *
tun_link_find(struct tun_ctx *ctx, const char *name)
{
	for (struct tun_link *l = ctx->links; l != NULL; l = l->next)
		if (strcmp(l->cfg.name, name) == 0)
			return l;
	return NULL;
}

const struct tun_link_cfg *
tun_link_config(const struct tun_link *link)
{
	return &link->cfg;
}

int
tun_link_stats(struct tun_ctx *ctx, struct tun_link *link,
    struct tun_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ctx->ops->link_stats(ctx, link, st);
}

uint64_t
tun_unknown_drops(struct tun_ctx *ctx)
{
	return ctx->ops->unknown_drops(ctx);
}

int
tun_parse_encap(const char *s, enum tun_encap *out)
{
	int v = tun_encap_from_string(s);

	if (v < 0)
		return err_set(ERR_INVALID,
		    "unknown encapsulation '%s' (ipip, gre, gretap, vxlan)", s);
	*out = v;
	return 0;
}

int
tun_parse_addr(const char *s, struct in_addr *out)
{
	if (inet_pton(AF_INET, s, out) != 1)
		return err_set(ERR_INVALID, "'%s' is not an IPv4 address", s);
	return 0;
}

int
tun_parse_prefix(const char *s, struct in_addr *addr, unsigned int *len)
{
	char a[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/'), *p;
	unsigned int n = 0;

	if (slash == NULL)
		return err_set(ERR_INVALID,
		    "'%s' is not an IPv4 prefix: the /length is missing "
		    "(A.B.C.D/N)", s);
	if ((size_t)(slash - s) >= sizeof(a))
		return err_set(ERR_INVALID,
		    "'%s' is not an IPv4 prefix: the address is too long", s);
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	if (inet_pton(AF_INET, a, addr) != 1)
		return err_set(ERR_INVALID,
		    "'%s' is not an IPv4 prefix: '%s' is not an IPv4 address",
		    s, a);
	/* Decimal digits only: no sign, no spaces, no hex. */
	for (p = slash + 1; *p >= '0' && *p <= '9' && n <= 32; p++)
		n = n * 10 + (unsigned int)(*p - '0');
	if (p == slash + 1 || *p != '\0' || n > 32)
		return err_set(ERR_INVALID,
		    "'%s' is not an IPv4 prefix: length '%s' is not 0..32",
		    s, slash + 1);
	*len = n;
	return 0;
}
