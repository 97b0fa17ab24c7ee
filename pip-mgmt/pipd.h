/*
 * pipd: the PIP management node.  The one door into a PIP: it knows its
 * substrate (hosts and links from the configuration, capacity and state
 * from its agents' reports), decides what fits (admission control, the
 * mapping library), and turns a slice into host slices for its agents
 * (docs/api.md, sections pipd and substrated).
 *
 * One thread: the libevent loop runs the HTTP API, every admission
 * decision, the store and the calls to agents, so a decision is atomic
 * by construction (nothing else runs between its check and its take).
 *
 * A slice's reservation is a function of its resolved document (every
 * node on a host, every link on a path of hosts, every key set); while
 * an operation on agents is in flight the slice holds the larger of its
 * old and new reservations, so that a rollback always fits.
 */
#ifndef VNSM_PIPD_H
#define VNSM_PIPD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "advert.h"
#include "manifest.h"
#include "slice.h"
#include "tls.h"

struct err;
struct event;
struct event_base;
struct http_client;
struct http_request;
struct http_server;
struct metric;
struct metrics;
struct report;
struct store;

#define PIPD_CONF		"/etc/vnsm/pipd.conf"
#define PIPD_KEY_FIRST		2147483648u	/* GRE keys pipd assigns */
#define PIPD_VNI_FIRST		8388608u	/* VXLAN VNIs pipd assigns */
#define PIPD_RETRY_S		5	/* retry an unfinished delete, s */

/* One [host NAME] section. */
struct pipd_host_conf {
	char name[NAME_LEN];	/* host name; also its agent's CN */
	char agent[80];		/* agent API "ADDR:PORT"; "" = none */
	uint32_t underlay;	/* tunnel end address, host order; 0 none */
	char location[NAME_LEN]; /* "" = none */
	uint32_t cpu;		/* milli-cores until the agent reports */
	uint64_t memory;	/* MiB until the agent reports */
	unsigned interfaces;	/* virtual interfaces until reported */
	unsigned kinds;		/* bit (1 << node_kind) until reported */
	long line;		/* of its section header */
};

/* One [link NAME] section: an undirected substrate link. */
struct pipd_link_conf {
	char name[NAME_LEN];
	int a, b;		/* host indices, a != b */
	uint64_t bandwidth;	/* kbit/s */
};

/* One [peering PIP] section. */
struct pipd_peering_conf {
	char pip[NAME_LEN];	/* the other PIP */
	int host;		/* our host at the peering point */
	uint32_t address;	/* its underlay address, host order */
	uint64_t bandwidth;	/* kbit/s; 0 = not told */
};

/* One [vnp CN] section: what that VNP is shown. */
struct pipd_policy_conf {
	char vnp[TLS_NAME_MAX + 1];
	enum advert_detail detail;
};

/* The configuration file, normalised (config.c). */
struct pipd_conf {
	char listen[80];	/* ADDR:PORT */
	char ca[256], cert[256], key[256], crl[256];	/* crl "" = none */
	char name[NAME_LEN];	/* this PIP's name */
	char state[256];	/* SQLite file */
	char pidfile[256];
	int64_t lease_s;	/* default reservation, s, > 0 */
	int64_t lease_max_s;	/* longest expiry a VNP may ask, s */
	unsigned overcommit;	/* CPU overcommit ratio x 1000, >= 100 */
	unsigned report_ms;	/* agents' report interval */
	unsigned down_ms;	/* no report for this long: host down */
	unsigned agent_timeout_ms; /* per call to an agent */
	enum advert_detail detail;	/* policy of VNPs without a section */
	int colocate;		/* 1: nodes of a slice may share a host when
				   distinct hosts do not fit */
	struct pipd_host_conf *hosts;
	size_t nhosts;
	struct pipd_link_conf *links;
	size_t nlinks;
	struct pipd_peering_conf *peerings;
	size_t npeerings;
	struct pipd_policy_conf *policies;
	size_t npolicies;
};

enum host_state { HOST_UNKNOWN, HOST_UP, HOST_DOWN, HOST_STATE_LAST };

/* A host as pipd knows it now (inventory.c). */
struct pipd_host {
	const struct pipd_host_conf *conf;
	enum host_state state;	/* UNKNOWN until the first report */
	uint64_t last_ms;	/* now_ms() of the last report */
	uint32_t cpu;		/* capacity, milli-cores (not overcommitted) */
	uint64_t memory;	/* capacity, MiB */
	unsigned interfaces;	/* capacity, virtual interfaces */
	unsigned kinds;		/* bit per node_kind it runs */
	uint32_t underlay;	/* reported, else configured; host order */
	uint64_t cpu_used;	/* reserved by slices, milli-cores */
	uint64_t mem_used;	/* reserved, MiB */
	uint64_t if_used;	/* reserved, interfaces */
	struct report *report;	/* the last one, or NULL */
};

/* A substrate link as pipd knows it now. */
struct pipd_link {
	const struct pipd_link_conf *conf;
	uint64_t bw_used;	/* reserved, kbit/s; <= conf->bandwidth */
};

/* What a slice takes on one host / one substrate link. */
struct use_host {
	int host;		/* index into pd->hosts */
	uint64_t cpu;		/* milli-cores */
	uint64_t mem;		/* MiB */
	uint64_t ifs;		/* interfaces */
};
struct use_link {
	int link;		/* index into pd->links */
	uint64_t bw;		/* kbit/s */
};

/* A reservation: per host and per link, sorted by index, no repeats. */
struct usage {
	struct use_host *h;
	size_t nh;
	struct use_link *l;
	size_t nl;
};

enum pslice_op { OP_NONE, OP_PROVISION, OP_UPDATE, OP_DELETE, OP_LAST };

/* A slice at this PIP (slices.c). */
struct pslice {
	char name[NAME_LEN];
	char owner[TLS_NAME_MAX + 1];	/* CN of the VNP that made it */
	enum vnet_state state;	/* ALLOCATED, PROVISIONING, READY, DELETING */
	enum slice_mapping mapping;	/* as the VNP asked */
	int64_t expires;	/* epoch s */
	struct slice *doc;	/* resolved: every node pinned, every path and
				   key set; what the agents should have */
	struct slice *prev;	/* in flight: what the agents had; NULL when
				   they had nothing (or no op in flight) */
	enum pslice_op op;	/* in flight, recorded before acting */
	int busy;		/* an agent operation runs now */
	struct usage held;	/* what the slice reserves now */
	char **frag;		/* [nhosts] agent manifest fragments, or NULL */
	double map_ms;		/* mapping step */
	double alloc_ms;	/* allocation (admission + reserve) step */
	double virt_ms;		/* provisioning: slowest virtualization */
	struct pslice *next;
};

/* The daemon's world. */
struct pipd {
	struct pipd_conf *conf;
	struct event_base *base;	/* NULL in unit tests */
	struct http_server *srv;
	struct http_client *cli;
	struct store *st;
	struct pipd_host *hosts;	/* [conf->nhosts] */
	size_t nhosts;
	struct pipd_link *links;	/* [conf->nlinks] */
	size_t nlinks;
	struct pslice *slices;
	uint32_t next_key;		/* next GRE key to assign */
	uint32_t next_vni;		/* next VXLAN VNI to assign */
	struct event *tick;		/* once a second: expiry, liveness */
	int64_t (*clock)(void);		/* epoch seconds (tests replace it) */

	/* Metrics (metrics.c). */
	struct metrics *m;
	struct metric *m_requests;	/* pipd_requests_total{op} */
	struct metric *m_admit;		/* pipd_admission_total{decision,resource} */
	struct metric *m_admit_s;	/* pipd_admission_seconds */
	struct metric *m_allocs;	/* pipd_allocations_total{result} */
	struct metric *m_slices;	/* pipd_slices{state} */
	struct metric *m_step_s;	/* pipd_provision_step_seconds{step} */
	struct metric *m_hosts;		/* pipd_hosts{state} */
	struct metric *m_reports;	/* pipd_reports_total */
	struct metric *m_orphans;	/* pipd_orphans_deleted_total */
	struct metric *m_claim_s;	/* pipd_subscriber_claim_seconds */
	struct metric *m_attach;	/* pipd_subscriber_attach_total{result} */
	struct sub_claim *claims;	/* homes waiting for their slice */
};

/* config.c */
struct pipd_conf *config_load(const char *path);
struct pipd_conf *config_parse(const char *name, const char *text,
    size_t len);
void config_free(struct pipd_conf *c);
void config_print(FILE *fp, const struct pipd_conf *c);
int config_host(const struct pipd_conf *c, const char *name);
enum advert_detail config_detail(const struct pipd_conf *c,
    const char *vnp);

/* inventory.c */
int inventory_init(struct pipd *pd);
void inventory_free(struct pipd *pd);
int inventory_report(struct pipd *pd, const char *peer, const char *body,
    size_t len);
void inventory_tick(struct pipd *pd);
int inventory_offered(const struct pipd *pd, int h);
uint64_t host_cpu_cap(const struct pipd *pd, int h);
uint64_t host_cpu_free(const struct pipd *pd, int h);
uint64_t host_mem_free(const struct pipd *pd, int h);
uint64_t host_if_free(const struct pipd *pd, int h);
uint64_t link_bw_free(const struct pipd *pd, int l);
int inventory_link(const struct pipd *pd, int a, int b);
char *inventory_advert(struct pipd *pd, const char *vnp, size_t *lenp);
const char *host_state_name(enum host_state s);

/* admit.c */
void usage_clear(struct usage *u);
int usage_of(const struct pipd *pd, const struct slice *doc,
    struct usage *u);
int usage_max(const struct usage *a, const struct usage *b,
    struct usage *out);
int usage_copy(const struct usage *a, struct usage *out);
unsigned node_ifaces(const struct slice *s, size_t node);
int admit_set(struct pipd *pd, const char *slice, struct usage *held,
    const struct usage *want);
void admit_release(struct pipd *pd, struct usage *held);
int admit_keys(const struct pipd *pd, const struct pslice *self,
    const struct slice *doc);
void admit_assign_keys(struct pipd *pd, struct slice *doc,
    const struct slice *old);

/* mapper.c */
int mapper_resolve(struct pipd *pd, struct slice *doc,
    const struct slice *old, const struct usage *credit);
int mapper_route(struct pipd *pd, const struct usage *credit,
    const char *from, const char *to, uint64_t bw, int *hops,
    size_t *nhops, size_t max);

/* slices.c */
struct pslice *slice_find(struct pipd *pd, const char *name);
int slices_allocate(struct pipd *pd, const char *owner, const char *body,
    size_t len, struct pslice **out);
int slices_update_check(struct pipd *pd, struct pslice *ps,
    const char *body, size_t len, struct slice **newdoc);
int slices_commit_doc(struct pipd *pd, struct pslice *ps,
    struct slice *newdoc);
int slices_renew(struct pipd *pd, struct pslice *ps, int64_t seconds);
int slices_without_node(struct pipd *pd, struct pslice *ps,
    const char *node, struct slice **newdoc);
int slices_migrated(struct pipd *pd, struct pslice *ps, const char *node,
    const char *host, struct slice **newdoc);
void slices_drop(struct pipd *pd, struct pslice *ps);
void slices_expire(struct pipd *pd);
char *slices_manifest(struct pipd *pd, const struct pslice *ps,
    const char *only_node, enum vnet_state state, size_t *lenp);
struct slice *slice_dup(const struct slice *s);
int slices_load(struct pipd *pd);
void slices_free(struct pipd *pd);

/* provision.c */
typedef void provision_done_fn(struct pipd *pd, struct pslice *ps, int ok,
    const struct err *why, void *arg);
/* peering.c */
int peering_host(const struct pipd_conf *c, const char *pip);
uint32_t peering_key(const char *slice, const char *link, int encap);
int peering_stub(const struct pipd *pd, const struct slice *doc,
    const struct topo_link *st, int *ph);

char *host_slice(const struct pipd *pd, const struct slice *doc,
    const char *slice, int h);
int provision_start(struct pipd *pd, struct pslice *ps,
    enum pslice_op op, struct slice *target, struct http_request *req);
int provision_start_cb(struct pipd *pd, struct pslice *ps,
    enum pslice_op kind, struct slice *target, struct http_request *req,
    provision_done_fn *done, void *done_arg);
void provision_recover(struct pipd *pd);
void provision_reconcile(struct pipd *pd, int h, const struct report *r);
int provision_exec(struct pipd *pd, struct pslice *ps, const char *node,
    struct http_request *req);

/* store.c */
int pstore_open(struct pipd *pd);
int pstore_save(struct pipd *pd, const struct pslice *ps);
int pstore_delete(struct pipd *pd, const char *name);
int pstore_keys(struct pipd *pd);
int pstore_load(struct pipd *pd,
    int (*fn)(struct pipd *, const char *name, const char *owner,
    const char *state, int64_t expires, const char *mapping,
    const char *doc, const char *prev, const char *op, double map_ms,
    double alloc_ms));
int pstore_load_frags(struct pipd *pd, struct pslice *ps);

/* api.c */
int api_init(struct pipd *pd);

/* subs.c: homes attaching (docs/subscribers.md) */
struct sub_claim;
int subs_init(struct pipd *pd);
int subs_stub_ok(const struct pipd *pd, const struct slice *s, size_t i);
void subs_fill(struct pipd *pd, struct slice *doc);
void subs_token(struct pipd *pd, struct http_request *req,
    struct pslice *ps, const char *sub);
void subs_forget_slice(struct pipd *pd, const char *slice);
void subs_kick(struct pipd *pd);

/* metrics.c */
int pmetrics_init(struct pipd *pd);
void pmetrics_slices(struct pipd *pd);
void pmetrics_hosts(struct pipd *pd);

#endif
