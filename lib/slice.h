/*
 * Slice request: the part of a VNet that one PIP hosts, VNP -> PIP
 * (schemas/slice.rng).  mapping "pip": the PIP maps it; "vnp": the VNP
 * mapped it, every node is pinned to a host.  Links that leave the PIP
 * are stubs carrying the peer's tunnel end.
 */
#ifndef VNSM_SLICE_H
#define VNSM_SLICE_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "topo.h"

enum slice_mapping { SLICE_MAP_PIP, SLICE_MAP_VNP, SLICE_MAP_LAST };
ENUM_DECL(slice_mapping);

/* One side of a transit: a tunnel to another host. */
struct transit_side {
	uint32_t key;			/* GRE key or VNI on this side, > 0 */
	uint32_t underlay;		/* the far host's underlay address */
	char pip[NAME_LEN];		/* the far host's PIP; "" = this one */
	char host[NAME_LEN];		/* the far host, when known */
};

/*
 * Host slices only: two tunnel ends joined on this host, so that a packet
 * arriving on one side leaves on the other (a link leaving the PIP is
 * stitched at the PIP's peering host).
 */
struct transit {
	char name[NAME_LEN];		/* the virtual link it carries */
	enum encap encap;		/* the same on both sides */
	struct transit_side side[2];
	long line;
};

struct slice {
	char name[NAME_LEN];		/* unique at the PIP */
	char vnet[NAME_LEN];		/* the VNet it is part of */
	char pip[NAME_LEN];		/* the PIP asked */
	enum slice_mapping mapping;
	int64_t expires;		/* reservation end, epoch s; 0 = none */
	struct topo_node *nodes;
	size_t nnodes;			/* >= 1 */
	struct topo_link *links;	/* both ends in this slice */
	size_t nlinks;
	struct topo_link *stubs;	/* one end here, one at peer_pip */
	size_t nstubs;
	struct transit *transits;	/* host slices: stitched links */
	size_t ntransits;
};

struct slice *slice_parse(const char *data, size_t len, const char *name);
struct slice *slice_build(const xmlNode *root);
/* refs (may be NULL) resolves host and PIP names of this PIP's world. */
int slice_validate(const struct slice *s, const struct topo_refs *refs);
char *slice_format(const struct slice *s);
void slice_free(struct slice *s);

#endif
