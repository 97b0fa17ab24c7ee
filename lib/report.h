/*
 * Substrate report: what substrated tells its pipd (schemas/report.rng)
 * — capacity and use of the host, drivers, tunnel backend, underlay
 * interfaces, pools, and every vnsm node and link present on it.
 */
#ifndef VNSM_REPORT_H
#define VNSM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "topo.h"

/* Largest interface MTU a report may carry: loopback has 65536. */
#define REPORT_MTU_MAX	(1u << 20)

struct rp_amounts {
	uint32_t cpu;			/* milli-cores */
	uint64_t memory;		/* MiB */
	unsigned interfaces;		/* virtual interfaces */
};

struct rp_driver {
	char name[NAME_LEN];		/* "netns", "libvirt", ... */
	unsigned kinds;			/* (1 << node_kind) it can make */
};

struct rp_iface {
	char name[NAME_LEN];
	struct ipv4_prefix addr;
	int has_addr;
	unsigned mtu;			/* 0 if not told */
};

struct rp_pool {
	char driver[NAME_LEN];
	enum node_kind kind;
	char image[NAME_LEN];
	unsigned depth;			/* members ready now */
	unsigned target;		/* members wanted */
};

struct rp_node {
	char id[NAME_LEN];		/* vnsm id: unique on the host */
	char name[NAME_LEN];
	char vnet[NAME_LEN];		/* "" for pool members */
	char driver[NAME_LEN];
	char state[NAME_LEN];
	uint32_t cpu;			/* milli-cores; 0 if not told */
	uint64_t memory;		/* MiB; 0 if not told */
	long line;
};

struct rp_link {
	char id[NAME_LEN];
	char name[NAME_LEN];
	char vnet[NAME_LEN];
	enum encap encap;
	uint32_t key;
	uint64_t packets, bytes, drops;	/* counters since creation */
	long line;
};

struct report {
	char host[NAME_LEN];
	char pip[NAME_LEN];
	int64_t time;			/* epoch s; 0 if not told */
	struct rp_amounts capacity;	/* offered to the PIP */
	struct rp_amounts use;		/* taken by vnsm nodes */
	char tunnel_backend[NAME_LEN];	/* "" if not told */
	uint64_t tunnel_drops;		/* packets of no link of this host */
	struct rp_driver *drivers;
	size_t ndrivers;
	struct rp_iface *ifaces;
	size_t nifaces;
	struct rp_pool *pools;
	size_t npools;
	struct rp_node *nodes;
	size_t nnodes;
	struct rp_link *links;
	size_t nlinks;
};

struct report *report_parse(const char *data, size_t len, const char *name);
struct report *report_build(const xmlNode *root);
int report_validate(const struct report *r);
char *report_format(const struct report *r);
void report_free(struct report *r);

#endif
