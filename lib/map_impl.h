/*
 * Internals shared by the mapping files (map_*.c); not a public
 * interface.  The context holds scratch space sized to the substrate so
 * that a decision allocates nothing, and a log of tentative bandwidth
 * reservations so that an algorithm can route link after link (two
 * virtual links of one request may share a substrate link) and still
 * leave the residuals untouched when it returns.
 */
#ifndef VNSM_MAP_IMPL_H
#define VNSM_MAP_IMPL_H

#include "map.h"

#define MAP_INF		INT32_MAX	/* unreachable distance */

/* One tentative reservation. */
struct map_log {
	int32_t node;			/* 1: idx is a host; 0: a link */
	int32_t idx;			/* substrate node or link */
	int64_t a;			/* host: milli-CPU; link: kbit/s */
	int64_t b;			/* host: MiB */
	int32_t c;			/* host: interfaces */
};

struct map_ctx {
	struct map_substrate *sub;	/* the graph mapped onto, not owned */
	int32_t n;			/* sub->nnodes when made */
	int roots;			/* vnsm: first hosts to try, 0: auto */

	/* BFS scratch, [n] each. */
	int32_t *dist;			/* hops from the source, MAP_INF if unseen */
	int32_t *prev;			/* link by which a node was reached */
	int32_t *queue;			/* FIFO of nodes */
	uint32_t *seen;			/* == stamp: visited in this search */
	uint32_t stamp;			/* bumped per search; never 0 in use */

	/* Hosts taken by the request being mapped, [n]. */
	uint32_t *used;			/* == ustamp: hosts a virtual node */
	uint32_t ustamp;		/* bumped per attempt */

	/* Ranking scratch, [n] each. */
	double *rank;			/* per substrate node score */
	double *rank2;			/* second vector (power iteration) */
	double *rank3;			/* third: per node link bandwidth sum */
	int64_t *score;			/* vnsm: weighted distance per host */
	int64_t *sbw;			/* vnsm: bandwidth of the searches that saw it */
	uint32_t *cmark;		/* vnsm: == cstamp: host is a candidate */
	uint32_t cstamp;		/* vnsm: bumped per choice */
	int32_t *cand;			/* vnsm: candidate hosts, [n] */
	int32_t *order;			/* substrate nodes sorted by rank */

	/* Tentative reservations, undone by map_undo(). */
	struct map_log *log;		/* [log_cap] what was taken */
	int32_t log_len, log_cap;	/* entries used / allocated */

	/* Per-request scratch, grown on demand to req_cap entries. */
	int32_t req_cap;		/* entries of the arrays below */
	int32_t *vorder;		/* virtual nodes in mapping order */
	double *vrank;			/* per virtual node score */
	double *vrank2;			/* second vector */
	double *vrank3;			/* third: per node link bandwidth sum */
	int32_t *vplace;		/* virtual node -> host, MAP_NONE */
	int32_t *best_node;		/* best mapping found so far */
	int32_t *lorder;		/* virtual links in routing order */
	int32_t *loff;			/* per virtual link: start in lpath */
	int32_t *llen;			/* per virtual link: hops in lpath */
	int32_t path_cap;		/* entries of lpath */
	int32_t *lpath;			/* routed paths, [path_cap] */
};

/* map_path.c */
int map_ctx_reserve_req(struct map_ctx *, const struct map_request *);
uint32_t map_ctx_next_stamp(struct map_ctx *);
/*
 * Breadth-first search from src over links with residual >= bw; stops
 * early when dst (if not MAP_NONE) is reached.  Fills ctx->dist for the
 * nodes seen (stamped by ctx->seen); returns the hops to dst, or MAP_INF.
 */
int32_t map_bfs(struct map_ctx *, int32_t src, int32_t dst, int64_t bw);
/*
 * Breadth-first search from src over links with residual >= bw, no
 * deeper than depth hops.  The nodes seen are ctx->queue[0 .. return).
 */
int32_t map_bfs_ball(struct map_ctx *, int32_t src, int64_t bw,
    int32_t depth);
/* Distance to node v after map_bfs(), MAP_INF if not reached. */
int32_t map_bfs_dist(const struct map_ctx *, int32_t v);
/*
 * Walk ctx->prev back from dst (reached by the last map_bfs from src) and
 * write the path src..dst into out; returns its length.
 */
int32_t map_bfs_path(const struct map_ctx *, int32_t src, int32_t dst,
    int32_t *out);
/* Take bw on every link of a path, logging it for map_undo(). */
int map_take(struct map_ctx *, const int32_t *path, int32_t len, int64_t bw);
/* Take a virtual node's demand on host s, logging it. */
int map_take_node(struct map_ctx *, int32_t s, const struct map_vnode *);
/* Give back everything taken since the log had length mark. */
void map_undo(struct map_ctx *, int32_t mark);
/*
 * Route the virtual links of req, in decreasing bandwidth order, along
 * shortest feasible paths between the hosts in place[]; fill res.  Takes
 * bandwidth tentatively (undo with map_undo).  0 or -1 when a link has
 * no feasible path.
 */
int map_route_sp(struct map_ctx *, const struct map_request *,
    const int32_t *place, struct map_result *);
/* Make ctx->lpath hold n entries.  0 or -1. */
int map_ctx_grow_lpath(struct map_ctx *, int32_t n);
/*
 * Write the mapping place[] with the paths in lpath/loff/llen into res,
 * in link order, with its cost.  0 or -1.
 */
int map_ctx_fill_result(struct map_ctx *, const struct map_request *,
    const int32_t *place, struct map_result *);
/* Copy place[] and compute the cost into res; paths already set. */
void map_result_cost(const struct map_request *, struct map_result *);
/* Grow res->path to hold at least n entries. */
int map_result_grow(struct map_result *, int32_t n);

/* map_gsp.c */
int map_embed_gsp(struct map_ctx *, const struct map_request *,
    struct map_result *);
/*
 * The two-stage scheme both baselines share: virtual nodes in decreasing
 * vrank order each take the highest-ranked free host that fits them
 * (ctx->order holds hosts by decreasing rank), then shortest feasible
 * paths.
 */
int map_two_stage(struct map_ctx *, const struct map_request *,
    struct map_result *);
void map_sort_by_rank(int32_t *idx, int32_t n, const double *rank);

/* map_grc.c */
int map_embed_grc(struct map_ctx *, const struct map_request *,
    struct map_result *);

/* map_vnsm.c */
int map_embed_vnsm(struct map_ctx *, const struct map_request *,
    struct map_result *);

#endif
