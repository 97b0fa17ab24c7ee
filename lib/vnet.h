/*
 * VNet request: what a VNO asks a VNP for (schemas/vnet.rng).
 *
 * vnet_parse() loads, reads typed values, validates against the schema
 * and checks meaning (see doc_parse()); vnet_build() is the typed read
 * alone; vnet_validate() checks meaning, optionally resolving PIP names;
 * vnet_format() writes the canonical document, so that
 * format(parse(format(parse(x)))) == format(parse(x)).
 */
#ifndef VNSM_VNET_H
#define VNSM_VNET_H

#include <stddef.h>

#include <libxml/tree.h>

#include "topo.h"

enum routing { ROUTING_NONE, ROUTING_STATIC, ROUTING_LAST };
ENUM_DECL(routing);
enum layer { LAYER_L2, LAYER_L3, LAYER_LAST };
ENUM_DECL(layer);

#define VNET_DESC_MAX	1024	/* bytes of description */
#define VLAN_MAX	4094u

/* Where subscribers' homes join the VNet. */
struct vnet_ap {
	char name[NAME_LEN];		/* unique among access points */
	char node[NAME_LEN];		/* the virtual node that serves it */
	enum layer layer;		/* homes bridged (l2) or routed (l3) */
	enum encap encap;		/* home tunnel; default gretap */
	uint64_t bandwidth;		/* kbit/s per home; 0 = best effort */
	struct ipv4_prefix address;	/* the node's address towards homes */
	int has_address;
	long line;
};

/* A home the VNO enrols itself (VNO-initiated attachment). */
struct vnet_sub {
	char name[NAME_LEN];		/* subscriber identity */
	char ap[NAME_LEN];		/* its access point */
	char line_id[NAME_LEN];		/* access line; "" if not told */
	unsigned c_vlan, s_vlan;	/* 1..4094; 0 = none */
	struct gw_settings gw;		/* the home's own settings, if any */
	long line;
};

struct vnet {
	char name[NAME_LEN];
	enum routing routing;		/* static: vnsm installs routes */
	char description[VNET_DESC_MAX];
	struct topo_node *nodes;
	size_t nnodes;			/* >= 1 */
	struct topo_link *links;
	size_t nlinks;
	struct vnet_ap *aps;
	size_t naps;
	struct vnet_sub *subs;
	size_t nsubs;
};

struct vnet *vnet_parse(const char *data, size_t len, const char *name);
/* Read typed values from a <vnet> root; no meaning checks. */
struct vnet *vnet_build(const xmlNode *root);
int vnet_validate(const struct vnet *v, const struct topo_refs *refs);
/* The canonical document; free() it.  NULL on ENOMEM. */
char *vnet_format(const struct vnet *v);
/* A deep copy of v, or NULL (ERR_NOMEM). */
struct vnet *vnet_dup(const struct vnet *v);
void vnet_free(struct vnet *v);

#endif
