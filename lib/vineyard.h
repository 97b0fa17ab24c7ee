/*
 * The ViNE-Yard text format (Chowdhury et al.), which embedding tools
 * share, so that they can all run on byte-identical instances.
 *
 * Substrate: "N L", then N lines "x y cpu", then L lines
 * "from to bw delay".  Request: "n m split time duration topo maxD", then
 * n lines "x y cpu", then m lines "from to bw delay".
 *
 * CPU and bandwidth are written in CPUs and Mbit/s with three decimals
 * (vnsm keeps milli-CPU and kbit/s), delays in milliseconds with three
 * decimals, coordinates and maxD in the shortest form that reads back
 * exactly; so write(read(write(x))) is byte-identical to write(x).  A
 * maxD of 0 or less means "no location bound".  Reading is strict: a
 * missing or malformed number is an error naming the line.
 */
#ifndef VNSM_VINEYARD_H
#define VNSM_VINEYARD_H

#include <stdint.h>
#include <stdio.h>

#include "map.h"

#define VINEYARD_MAX_NODES	1000000		/* per file */
#define VINEYARD_MAX_LINKS	10000000	/* per file */

/* What a request file says beside the topology. */
struct vineyard_meta {
	int32_t split;			/* 1: splittable links (vnsm maps 0) */
	int64_t time;			/* arrival, time units */
	int64_t duration;		/* lifetime, time units, >= 0 */
	int32_t topo;			/* generator's topology code, kept as is */
	double maxd;			/* location bound, <= 0: none */
};

/* 0, or -1 with ERR_SYSTEM on a write error. */
int vineyard_write_substrate(FILE *, const struct map_substrate *);
/*
 * Read a substrate (finalized, every residual at capacity; nodes run
 * every kind, have unlimited interfaces, no PIP).  name is for messages.
 * NULL on error.
 */
struct map_substrate *vineyard_read_substrate(FILE *, const char *name);

int vineyard_write_request(FILE *, const struct map_request *,
    const struct vineyard_meta *);
/* Read a request and its meta (may be NULL); NULL on error. */
struct map_request *vineyard_read_request(FILE *, const char *name,
    struct vineyard_meta *);

#endif
