/*
 * Mapping (virtual network embedding): which substrate node hosts each
 * virtual node, and which substrate path carries each virtual link.
 *
 * Used by pipd (a PIP maps a slice onto its hosts) and by vnpd (the VNP
 * maps a VNet across the PIPs' advertised resources).  The substrate is a
 * graph of nodes with CPU, memory, interfaces, location, PIP and
 * virtualization kinds, and of links with bandwidth; every capacity has a
 * residual that reserve() lowers and release() restores.
 *
 * All amounts are integers in small units (milli-CPU, MiB, kbit/s), so
 * that any sequence of reservations and releases restores the residuals
 * exactly.  map_cpu() and map_bw() convert from CPUs and Mbit/s.
 *
 * Algorithms sit behind one interface, map_embed(); each honours every
 * constraint of every virtual node (capacity, memory, interfaces, kind,
 * location bound, PIP, pinned host) and maps the virtual nodes of one
 * request onto distinct substrate nodes, unless the request allows them
 * to share a host (colocate; a link between two virtual nodes on one
 * host then has an empty path).  Links are unsplittable: each
 * virtual link gets one substrate path with the bandwidth on every hop.
 *
 * Life cycle:
 *	sub = map_substrate_new(); map_snode_add()...; map_slink_add()...;
 *	map_substrate_finalize(sub);
 *	ctx = map_ctx_new(sub);
 *	res = map_result_new(req);
 *	if (map_embed(ctx, MAP_ALGO_VNSM, req, res) == 0)
 *		map_reserve(sub, req, res);
 *	...
 *	map_release(sub, req, res);
 */
#ifndef VNSM_MAP_H
#define VNSM_MAP_H

#include <stdint.h>

#include "util.h"

#define MAP_NAME_MAX	64
#define MAP_LOC_MAX	32
#define MAP_NONE	(-1)		/* "no PIP / no pin / unlimited" */
#define MAP_KINDS_ALL	0xffffffffu	/* a host that runs every kind */

/* Milli-CPU from CPUs, kbit/s from Mbit/s (rounded to the nearest). */
int64_t map_cpu(double cpus);
int64_t map_bw(double mbits);

enum map_algo {
	MAP_ALGO_GSP,		/* greedy CPU x bandwidth ranking, shortest paths */
	MAP_ALGO_GRC,		/* global resource capacity (Gong 2014), shortest paths */
	MAP_ALGO_VNSM,		/* vnsm: coordinated node and link mapping */
	MAP_ALGO_LAST
};
ENUM_DECL(map_algo);

/* One substrate node (a host, or a PIP's aggregate in a VNP's view). */
struct map_snode {
	char name[MAP_NAME_MAX];	/* unique in the substrate; may be "" */
	int64_t cpu;			/* capacity, milli-CPU, >= 0 */
	int64_t mem;			/* capacity, MiB, >= 0 */
	int32_t ifaces;			/* free interfaces, or MAP_NONE: unlimited */
	double x, y;			/* position, any unit shared with requests */
	char loc[MAP_LOC_MAX];		/* location name; "" if none */
	int32_t pip;			/* owning PIP id, >= 0, or MAP_NONE */
	uint32_t kinds;			/* bit k set: runs virtualization kind k */
};

/* One undirected substrate link. */
struct map_slink {
	int32_t a, b;			/* end nodes, indices, a != b */
	int64_t bw;			/* capacity, kbit/s, >= 0 */
	int64_t delay;			/* propagation delay, microseconds */
};

/*
 * The substrate graph with its residual capacities.  Nodes and links are
 * added first; map_substrate_finalize() builds the adjacency, after which
 * the topology is fixed and only residuals change.
 */
struct map_substrate {
	int32_t nnodes, nlinks;		/* counts */
	int32_t cap_nodes, cap_links;	/* allocated entries */
	struct map_snode *nodes;	/* [nnodes] */
	struct map_slink *links;	/* [nlinks] */

	/* Residuals: 0 <= res <= capacity at all times. */
	int64_t *cpu_res;		/* [nnodes] milli-CPU */
	int64_t *mem_res;		/* [nnodes] MiB */
	int32_t *if_res;		/* [nnodes] interfaces, MAP_NONE: unlimited */
	int64_t *bw_res;		/* [nlinks] kbit/s */

	/*
	 * Aggregates for an O(request) admission check, kept by reserve()
	 * and release(); map_substrate_sync() rebuilds them after residuals
	 * are changed any other way.  Max trees: leaves at [size + i],
	 * inner node k = max(2k, 2k + 1), root at 1.
	 */
	int64_t cpu_free;		/* sum of cpu_res, milli-CPU */
	int32_t ntree, ltree;		/* leaves (power of two) per tree */
	int64_t *cpu_tree;		/* [2 * ntree] max of cpu_res */
	int64_t *bw_tree;		/* [2 * ltree] max of bw_res */

	/* Adjacency (CSR), valid once finalized. */
	int32_t *adj_off;		/* [nnodes + 1] start of node i's entries */
	int32_t *adj_link;		/* [2 * nlinks] incident link */
	int32_t *adj_node;		/* [2 * nlinks] node at its other end */
	int finalized;			/* 1 once adjacency is built */
};

/* One virtual node of a request. */
struct map_vnode {
	char name[MAP_NAME_MAX];	/* for messages; may be "" */
	int64_t cpu;			/* demand, milli-CPU, >= 0 */
	int64_t mem;			/* demand, MiB, >= 0 */
	int32_t ifaces;			/* interfaces it uses on its host, >= 0 */
	int32_t kind;			/* virtualization kind, 0..31 */
	double x, y;			/* centre of the location bound */
	double maxd;			/* max distance from (x, y); < 0: unbounded */
	char loc[MAP_LOC_MAX];		/* required location name; "" if any */
	int32_t pip;			/* required PIP, or MAP_NONE */
	int32_t pin;			/* required substrate node, or MAP_NONE */
};

/* One virtual link of a request. */
struct map_vlink {
	int32_t a, b;			/* end virtual nodes, a != b */
	int64_t bw;			/* demand, kbit/s, >= 0 */
};

/* A request: one VNet, or the part of one a PIP is asked to map. */
struct map_request {
	int32_t nnodes, nlinks;		/* counts, nnodes >= 1 */
	struct map_vnode *nodes;	/* [nnodes] */
	struct map_vlink *links;	/* [nlinks] */
	int32_t colocate;		/* 1: nodes may share a host; 0: distinct */
};

/*
 * A mapping: node[v] hosts virtual node v; virtual link l is carried by
 * path[path_off[l] .. path_off[l + 1]) (substrate link indices, in order
 * from the host of links[l].a to the host of links[l].b).
 */
struct map_result {
	int32_t nnodes, nlinks;		/* as in the request */
	int32_t *node;			/* [nnodes] substrate node index */
	int32_t *path_off;		/* [nlinks + 1] offsets into path */
	int32_t *path;			/* [path_cap] substrate link indices */
	int32_t path_cap;		/* allocated entries of path */
	int64_t cost;			/* sum of CPU + sum of bw x hops */
};

/* map_graph.c */
struct map_substrate *map_substrate_new(void);
void map_substrate_free(struct map_substrate *);
/* Add a node / link; return its index, or -1 (error recorded). */
int map_snode_add(struct map_substrate *, const struct map_snode *);
int map_slink_add(struct map_substrate *, int32_t a, int32_t b, int64_t bw,
    int64_t delay);
int map_substrate_finalize(struct map_substrate *);
/* Copy residuals out / back in (for tests and snapshots). */
int map_substrate_equal_residuals(const struct map_substrate *,
    const struct map_substrate *);
struct map_substrate *map_substrate_dup(const struct map_substrate *);
/* Set every residual back to its capacity. */
void map_substrate_reset(struct map_substrate *);
/* Rebuild the admission aggregates from the residual arrays. */
void map_substrate_sync(struct map_substrate *);

struct map_request *map_request_new(int32_t nnodes, int32_t nlinks);
void map_request_free(struct map_request *);
void map_vnode_init(struct map_vnode *);
int map_request_validate(const struct map_request *);
int64_t map_request_revenue(const struct map_request *);

struct map_result *map_result_new(const struct map_request *);
void map_result_free(struct map_result *);
int map_result_hops(const struct map_result *);

/* 1 if substrate node s may host virtual node v (given residuals). */
int map_node_fits(const struct map_substrate *, int32_t s,
    const struct map_vnode *);
/*
 * Necessary conditions, in O(request): some host has the CPU of each
 * virtual node, a pinned node fits its host, the total CPU fits, some
 * substrate link has the bandwidth of each virtual link (unless the
 * request allows colocation: then a link may need no substrate link).
 * 0 if the request may fit, else -1 with ERR_NO_RESOURCES naming the
 * resource that falls short.
 */
int map_admit(const struct map_substrate *, const struct map_request *);
/*
 * Exact admission of a given mapping (e.g. a slice pinned by the VNP):
 * every constraint holds, hosts are distinct, every path is connected
 * end to end, and the residuals cover it all (counting links and hosts
 * used more than once).  0 or -1 with the shortfall recorded.
 */
int map_check(const struct map_substrate *, const struct map_request *,
    const struct map_result *);
/* Take / give back the resources of a mapping.  Reserve checks first. */
int map_reserve(struct map_substrate *, const struct map_request *,
    const struct map_result *);
void map_release(struct map_substrate *, const struct map_request *,
    const struct map_result *);

/* map_path.c */
struct map_ctx;
struct map_ctx *map_ctx_new(struct map_substrate *);
void map_ctx_free(struct map_ctx *);
/* Tuning of the vnsm algorithm: how many first hosts to try (0: auto). */
void map_ctx_set_roots(struct map_ctx *, int roots);
/*
 * Map req onto the context's substrate with algorithm algo.  On success
 * fills res (nothing is reserved; call map_reserve) and returns 0; else
 * returns -1 with ERR_NO_RESOURCES recorded.  The residuals are the same
 * on return as on entry.
 */
int map_embed(struct map_ctx *, enum map_algo, const struct map_request *,
    struct map_result *);

#endif
