/*
 * Advertisement: what a PIP offers a VNP (schemas/advertisement.rng) —
 * free capacity per host (detail "full"), per location ("aggregate") or
 * nothing ("none": the VNP must let the PIP map), substrate links with
 * their free bandwidth, and peering points to other PIPs.
 */
#ifndef VNSM_ADVERT_H
#define VNSM_ADVERT_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "topo.h"

enum advert_detail { ADV_FULL, ADV_AGGREGATE, ADV_NONE, ADV_DETAIL_LAST };
ENUM_DECL(advert_detail);

struct advert_pool {
	enum node_kind kind;
	char image[NAME_LEN];
	unsigned depth;			/* members ready to be claimed */
};

/* A host (full detail) or a location (aggregate): free amounts. */
struct advert_host {
	char name[NAME_LEN];
	char location[NAME_LEN];	/* hosts only; "" if not told */
	unsigned hosts;			/* locations only: hosts summed */
	uint32_t cpu;			/* free milli-cores */
	uint64_t memory;		/* free MiB */
	unsigned interfaces;		/* free virtual interfaces */
	unsigned kinds;			/* bit (1 << node_kind) per kind */
	struct advert_pool *pools;
	size_t npools;
	long line;
};

struct advert_link {
	char from[NAME_LEN], to[NAME_LEN];	/* hosts */
	uint64_t bandwidth;			/* free kbit/s */
	long line;
};

struct advert_peering {
	char pip[NAME_LEN];		/* the other PIP */
	char host[NAME_LEN];		/* our host at the peering point */
	uint32_t address;		/* its underlay address */
	uint64_t bandwidth;		/* free kbit/s; 0 = not told */
	long line;
};

struct advert {
	char pip[NAME_LEN];
	enum advert_detail detail;
	int64_t time;			/* when issued, epoch s; 0 = not told */
	struct advert_host *hosts;
	size_t nhosts;
	struct advert_host *locations;
	size_t nlocations;
	struct advert_link *links;
	size_t nlinks;
	struct advert_peering *peerings;
	size_t npeerings;
};

struct advert *advert_parse(const char *data, size_t len, const char *name);
struct advert *advert_build(const xmlNode *root);
int advert_validate(const struct advert *a);
char *advert_format(const struct advert *a);
void advert_free(struct advert *a);

/* "netns vm" <-> bit mask of (1 << node_kind); -1 on an unknown kind. */
int kinds_parse(const char *s, unsigned *mask);
char *kinds_format(unsigned mask, char *buf, size_t size);

#endif
