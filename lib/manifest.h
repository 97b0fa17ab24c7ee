/*
 * Manifest: the outcome of a request (schemas/manifest.rng), PIP -> VNP
 * -> VNO; a substrate agent answers with a fragment holding only the
 * nodes it touched.  Says where each node and link is (as far as the
 * reader may know), its state, addresses, console, and step timings.
 */
#ifndef VNSM_MANIFEST_H
#define VNSM_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "topo.h"

enum vnet_state { VS_ALLOCATED, VS_PROVISIONING, VS_READY, VS_DEGRADED,
	VS_FAILED, VS_DELETING, VS_DELETED, VS_LAST };
ENUM_DECL(vnet_state);
enum node_state { NS_PENDING, NS_ALLOCATED, NS_CREATING, NS_RUNNING,
	NS_PAUSED, NS_STOPPED, NS_FAILED, NS_DEGRADED, NS_DELETED, NS_LAST };
ENUM_DECL(node_state);
enum link_state { LS_PENDING, LS_UP, LS_DOWN, LS_FAILED, LS_LAST };
ENUM_DECL(link_state);
enum console_type { CON_NONE, CON_SSH, CON_EXEC, CON_PTY, CON_LAST };
ENUM_DECL(console_type);	/* CON_NONE is "none", never written */
enum step { STEP_EXCHANGE, STEP_MAPPING, STEP_ALLOCATION,
	STEP_VIRTUALIZATION, STEP_TOPOLOGY, STEP_CONSOLE, STEP_TOTAL,
	STEP_LAST };
ENUM_DECL(step);
enum discovery { DISC_PIP, DISC_VNP, DISC_LAST };
ENUM_DECL(discovery);

struct mf_iface {
	char name[NAME_LEN];		/* inside the node, e.g. eth0 */
	char link[NAME_LEN];		/* the virtual link; "" if none */
	struct ipv4_prefix addr;
	int has_addr;
	uint8_t mac[6];
	int has_mac;
};

struct mf_console {
	enum console_type type;		/* CON_NONE: no <console> */
	uint32_t address;		/* ssh: management address; 0 if none */
	unsigned port;			/* ssh: port; 0 if none */
	char user[NAME_LEN];		/* ssh: login; "" if none */
};

struct mf_node {
	char name[NAME_LEN];
	enum node_state state;
	char id[NAME_LEN];		/* vnsm id on the host; "" if hidden */
	int kind;			/* enum node_kind, or -1 if not told */
	char pip[NAME_LEN];
	char host[NAME_LEN];		/* "" when the reader may not know */
	char driver[NAME_LEN];
	int pooled;			/* 1 yes, 0 no, -1 not told */
	struct mf_iface *ifaces;
	size_t nifaces;
	struct mf_console console;
	long line;
};

struct mf_end {
	char node[NAME_LEN];		/* "" for a transit: no node here */
	char pip[NAME_LEN];
	char host[NAME_LEN];
	uint32_t underlay;		/* tunnel end address; 0 if unknown */
};

struct mf_link {
	char name[NAME_LEN];
	enum link_state state;
	int encap;			/* enum encap, or -1 if not told */
	uint32_t key;			/* 0 if not told */
	uint64_t bandwidth;		/* kbit/s; 0 if not told */
	struct mf_end *ends;		/* 0..2 of them */
	size_t nends;
	long line;
};

struct mf_step {
	enum step step;
	double ms;			/* milliseconds, microsecond precision */
	char pip[NAME_LEN];		/* "" for VNP-wide steps */
	char host[NAME_LEN];
};

struct manifest {
	char vnet[NAME_LEN];
	char slice[NAME_LEN];		/* PIP manifests; "" otherwise */
	enum vnet_state state;
	int discovery;			/* enum discovery, or -1 */
	int64_t expires;		/* epoch s; 0 = none */
	struct mf_node *nodes;
	size_t nnodes;
	struct mf_link *links;
	size_t nlinks;
	struct mf_step *steps;
	size_t nsteps;
};

struct manifest *manifest_parse(const char *data, size_t len,
    const char *name);
struct manifest *manifest_build(const xmlNode *root);
int manifest_validate(const struct manifest *m);
char *manifest_format(const struct manifest *m);
void manifest_free(struct manifest *m);

#endif
