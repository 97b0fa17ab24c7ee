/*
 * bench/vne: the virtual network embedding benchmark of BENCH.md §2.
 *
 *   gen.c   seeded VY-100 workload (Waxman substrate, random requests)
 *   sim.c   event-driven arrivals and departures driving map_embed()
 *   vne.c   command line, runs over seeds and rates, tables
 */
#ifndef VNSM_BENCH_VNE_H
#define VNSM_BENCH_VNE_H

#include <stdint.h>

#include "map.h"
#include "vineyard.h"

/* xoshiro256** with a splitmix64 seed: fast, and the same everywhere. */
struct rng {
	uint64_t s[4];			/* state, never all zero */
};

/* One request of a workload, with its arrival and lifetime. */
struct vne_req {
	struct map_request *req;	/* topology and demands, owned */
	struct vineyard_meta meta;	/* time, duration (time units) */
};

/* A workload: the substrate and the requests in arrival order. */
struct vne_inst {
	struct map_substrate *sub;	/* owned; residuals at capacity */
	struct vne_req *reqs;		/* [nreqs], increasing meta.time */
	int32_t nreqs;			/* count */
	int64_t horizon;		/* simulated time units */
};

/* Parameters of a generated workload. */
struct vne_params {
	int32_t nodes;			/* substrate nodes (100 for VY-100) */
	double degree;			/* 0: VY-100 Waxman; else target mean degree */
	double rate;			/* arrivals per 100 time units */
	int64_t horizon;		/* time units (50000) */
	int32_t max_reqs;		/* stop after this many; 0: no limit */
	double maxd;			/* location bound of virtual nodes; <= 0 none */
};

/* Results of one simulation run. */
struct vne_stats {
	int32_t arrived, accepted;	/* requests */
	double revenue, cost;		/* sums over accepted, CPU and Mbit/s */
	double lar;			/* long-term avg revenue: sum R x life / T */
	double node_util, link_util;	/* time-averaged share of capacity used */
	double dec_p50, dec_p99;	/* decision time, microseconds */
	double chk_p50, chk_p99;	/* map_check of the chosen mapping, us */
	double adm_p50;			/* map_admit, us */
	double wall_s;			/* run time, seconds */
};

/* gen.c */
void rng_seed(struct rng *, uint64_t seed);
uint64_t rng_next(struct rng *);
double rng_u01(struct rng *);		/* [0, 1) */
int vne_generate(struct vne_inst *, const struct vne_params *,
    uint64_t seed);
void vne_inst_free(struct vne_inst *);
int vne_write(const struct vne_inst *, const char *dir);
int vne_write_dir(const char *dir);
int vne_read(struct vne_inst *, const char *dir, int64_t horizon);

/* sim.c */
/* roots: vnsm's first hosts to try, 0 for its default. */
int vne_simulate(const struct vne_inst *, enum map_algo,
    struct vne_stats *, int roots);
double vne_now_us(void);

#endif
