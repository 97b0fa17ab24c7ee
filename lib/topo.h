/*
 * Virtual nodes and links as VNet and slice requests describe them, and
 * the meaning checks both documents share: unique names, link ends that
 * exist, no self-links, enough interfaces, addresses that make sense,
 * links a bridged node can use (frames: gretap or vxlan).
 */
#ifndef VNSM_TOPO_H
#define VNSM_TOPO_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "buf.h"
#include "gateway.h"
#include "units.h"
#include "util.h"

enum node_kind { NODE_NETNS, NODE_CONTAINER, NODE_VM, NODE_GATEWAY,
	NODE_KIND_LAST };
ENUM_DECL(node_kind);
enum encap { ENCAP_IPIP, ENCAP_GRE, ENCAP_GRETAP, ENCAP_VXLAN, ENCAP_LAST };
ENUM_DECL(encap);
enum attach_mode { ATTACH_DIRECT, ATTACH_BRIDGE, ATTACH_LAST };
ENUM_DECL(attach_mode);
enum pool_pref { POOL_PREFER, POOL_NEVER, POOL_PREF_LAST };
ENUM_DECL(pool_pref);

#define VXLAN_VNI_MAX	16777215u
#define MTU_MIN		576u
#define MTU_MAX		9000u

struct topo_route {
	struct ipv4_prefix to;	/* destination network */
	uint32_t via;		/* next hop, host byte order */
};

struct topo_node {
	char name[NAME_LEN];		/* unique in the document */
	enum node_kind kind;		/* default NODE_NETNS */
	uint32_t cpu;			/* milli-cores, > 0 */
	uint64_t memory;		/* MiB, > 0 */
	char image[NAME_LEN];		/* guest image; default "router" */
	unsigned interfaces;		/* declared; 0 = one per link end */
	enum attach_mode attach;	/* how interfaces meet their links */
	enum pool_pref pool;		/* may it come from a warm pool */
	char pip[NAME_LEN];		/* required PIP; "" = any */
	char location[NAME_LEN];	/* required location; "" = any */
	char host[NAME_LEN];		/* pinned host (slices); "" = none */
	struct topo_route *routes;	/* static routes, nroutes of them */
	size_t nroutes;
	struct gw_settings gw;		/* kind gateway only: home settings */
	long line;			/* source line; 0 if built in code */
};

struct topo_end {
	char node[NAME_LEN];		/* the virtual node at this end */
	struct ipv4_prefix addr;	/* its interface address */
	int has_addr;			/* addr is set */
};

struct topo_link {
	char name[NAME_LEN];		/* unique among links and stubs */
	uint64_t bandwidth;		/* kbit/s; 0 = best effort */
	enum encap encap;		/* default ENCAP_GRE */
	uint32_t key;			/* GRE key or VNI; 0 = not yet set */
	unsigned mtu;			/* inner MTU; 0 = from the underlay */
	struct topo_end end[2];		/* a stub uses end[0] only */
	char (*path)[NAME_LEN];		/* pinned hosts in order (slices) */
	size_t npath;
	/* Stubs only: the far end, at another PIP. */
	char peer_pip[NAME_LEN];
	char peer_node[NAME_LEN];	/* "" if not told */
	char peer_host[NAME_LEN];	/* peer host when the peer is in the
					   same PIP (host slices); "" if not */
	uint32_t peer_underlay;		/* 0 until the peer's end is known */
	long line;
};

/* Lookups into a resolved world, for "references resolve" checks. */
struct topo_refs {
	int (*has_pip)(void *arg, const char *pip);
	int (*has_host)(void *arg, const char *host);
	void *arg;
};

/*
 * Fill out from a <node> / <link> / <stub> element.  Returns 0, or -1
 * after recording errors.  The element has passed the schema already;
 * these still check every value, since callers may skip the schema.
 */
int topo_node_parse(const xmlNode *n, struct topo_node *out);
int topo_link_parse(const xmlNode *n, struct topo_link *out, int stub);
void topo_node_clear(struct topo_node *nd);
/* Deep copies (routes, gateway forwards, path); -1 on ENOMEM. */
int topo_node_copy(struct topo_node *dst, const struct topo_node *src);
int topo_link_copy(struct topo_link *dst, const struct topo_link *src);
void topo_link_clear(struct topo_link *l);

void topo_node_format(struct buf *b, const struct topo_node *nd);
void topo_link_format(struct buf *b, const struct topo_link *l, int stub);

/*
 * Meaning checks over one document's nodes, links and stubs.  doc names
 * the root element for error paths (e.g. "vnet").  Records every problem
 * found; returns 0 or -1.
 */
int topo_check(const char *doc, const struct topo_node *nodes, size_t nn,
    const struct topo_link *links, size_t nl, const struct topo_link *stubs,
    size_t ns, const struct topo_refs *refs);

/* Index of the node called name, or -1.  nodes need not be sorted. */
ssize_t topo_node_find(const struct topo_node *nodes, size_t nn,
    const char *name);

#endif
