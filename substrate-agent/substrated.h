/*
 * substrated: the substrate agent (the paper's Dom0 manager).  It turns
 * host slices from its pipd into virtual nodes (through the compute
 * drivers of driver.h), local links (host bridges) and tunnel link ends
 * (tunnels/tunnel.h) on this host, keeps warm pools of paused nodes,
 * records everything in SQLite before it exists, and reports to its pipd.
 *
 * Threads: one event loop thread runs the HTTP API, every driver call of
 * a request, the store and the reports; one pool thread (pool.c) makes
 * pool members with its own driver instances and its own store
 * connection.  struct sd_pools is shared and guarded by its mutex.
 */
#ifndef VNSM_SUBSTRATED_H
#define VNSM_SUBSTRATED_H

#include <sys/socket.h>
#include <net/if.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "driver.h"
#include "topo.h"
#include "tls.h"

struct event;
struct event_base;
struct http_client;
struct http_request;
struct http_server;
struct metric;
struct metrics;
struct slice;
struct store;
struct tun_ctx;
struct tun_link;

#define SD_CONF		"/etc/vnsm/substrated.conf"
#define SD_POOLS_MAX	32
#define SD_IMAGES_MAX	16
#define SD_PREFIX_MAX	16	/* id prefix, with the NUL */

/* Where a node kind goes: one driver slot each. */
enum sd_slot {
	SD_SLOT_NETNS,		/* drv netns: netns and gateway nodes */
	SD_SLOT_QEMU,		/* drv libvirt on the qemu URI: vm */
	SD_SLOT_LXC,		/* drv libvirt on the lxc URI: container */
	SD_SLOT_LAST
};

/* One [pool NAME] section. */
struct sd_pool_conf {
	char name[NAME_LEN];
	enum node_kind kind;
	enum sd_slot slot;
	char image[NAME_LEN];
	uint32_t cpu;		/* milli-cores */
	uint64_t memory;	/* MiB */
	unsigned depth;		/* members to keep ready */
};

/* The configuration file, normalised (config.c). */
struct sd_conf {
	char listen[80];	/* ADDR:PORT */
	char ca[256], cert[256], key[256], crl[256]; /* crl "" = none */
	char pipd[TLS_NAME_MAX + 1];	/* CN allowed to command us */
	char pipd_addr[80];	/* HOST:PORT to report to; "" = none */
	char host[NAME_LEN];	/* this host's name in slices */
	char pip[NAME_LEN];
	uint32_t underlay;	/* host byte order; 0 = none */
	char underlay_if[IFNAMSIZ]; /* "" = found from the address */
	uint32_t cpu;		/* capacity offered, milli-cores */
	uint64_t memory;	/* MiB */
	unsigned interfaces;	/* virtual interfaces */
	unsigned drivers;	/* bit per sd_slot enabled */
	int sim;		/* "drivers sim": every slot is drv sim */
	char libvirt_uri[128];	/* for vm */
	char lxc_uri[128];	/* for container */
	int qemu_tcg;		/* qemu-type qemu (1) or kvm (0) */
	char imgdir[256];
	char rundir[256];
	char images[SD_IMAGES_MAX][NAME_LEN]; /* netns/gateway templates */
	size_t nimages;
	int netns_limits;	/* apply cgroup limits to netns nodes */
	int tun_backend;	/* enum tun_backend, -1 auto, -2 none */
	char state[256];	/* SQLite file */
	char pidfile[256];
	unsigned report_ms;	/* report interval */
	char id_prefix[SD_PREFIX_MAX]; /* every id we make starts so */
	struct sd_pool_conf pools[SD_POOLS_MAX];
	size_t npools;
};

/* Who a gateway node serves (kind gateway only; else all empty). */
struct sd_gwid {
	char subscriber[NAME_LEN];	/* the home: its stub's <peer node>;
					   "" if the slice does not say */
	char stub[NAME_LEN];		/* the home's stub (its tunnel) */
	char lan_if[IFNAMSIZ];		/* the node's interface on that stub */
	unsigned c_vlan, s_vlan;	/* 1..4094, 0 = none: from <gateway
					   c-vlan s-vlan>, recorded only */
	int dns_failed;			/* its last dnsmasq start failed
					   (the node shows as unknown) */
};

/* One virtual node of a host slice. */
struct sd_node {
	char id[VNODE_ID_MAX];
	char name[NAME_LEN];
	enum node_kind kind;
	enum sd_slot slot;
	uint32_t cpu;		/* milli-cores, as asked */
	uint64_t memory;	/* MiB */
	char image[NAME_LEN];
	int pooled;		/* claimed from a pool */
	enum vnode_state state;
	struct vnode_spec spec;	/* as the driver has it now */
	char iflink[VNODE_IF_MAX][NAME_LEN]; /* link served by spec.ifs[i] */
	struct sd_gwid gw;	/* kind gateway: its home */
	struct sd_node *next;
};

/* One local link or stub (link end) of a host slice. */
struct sd_link {
	char id[VNODE_ID_MAX];	/* vnsm id: bridge alias, tunnel name */
	char name[NAME_LEN];
	int stub;
	enum encap encap;
	uint32_t key;
	uint32_t remote;	/* stub: peer underlay, host order; 0 pending */
	unsigned mtu;		/* inner MTU in use */
	char bridge[IFNAMSIZ];	/* local link, bridged stub: host bridge;
				   "" for a stub attached directly */
	char node[2][NAME_LEN];	/* ends (a stub: node[0]) */
	struct tun_link *tl;	/* stub with a tunnel now, else NULL */
	struct sd_link *next;
};

/* A transit of a host slice: two tunnel ends joined here (transits.c). */
struct sd_transit {
	char id[VNODE_ID_MAX];	/* vnsm id: the tunnel library's name */
	char name[NAME_LEN];	/* the virtual link it carries */
	enum encap encap;
	uint32_t key[2];	/* per side */
	uint32_t remote[2];	/* per side: far underlay, host order */
	struct tun_transit *tt;	/* the joined ends now, or NULL */
	int made;		/* 1: made by the apply in progress */
	struct sd_transit *next;
};

struct sd_slice {
	char name[NAME_LEN];
	char vnet[NAME_LEN];
	char *doc;		/* the host slice as last accepted */
	struct sd_node *nodes;
	struct sd_link *links;
	struct sd_transit *transits;
	double step_ms[2];	/* last virtualization, topology */
	struct sd_slice *next;
};

/* A pool member made ahead. */
struct sd_member {
	char id[VNODE_ID_MAX];
	struct sd_member *next;
};

/* The pools, shared by the loop and the pool thread. */
struct sd_pools {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;			/* ask the thread to end */
	int hold;			/* a request runs: make nothing now */
	int running;			/* thread started */
	pthread_t thread;
	struct sd_member *ready[SD_POOLS_MAX];	/* per conf pool */
	unsigned nready[SD_POOLS_MAX];
	unsigned busy[SD_POOLS_MAX];	/* being made now */
	unsigned made, failed;		/* totals since start */
	double last_ms[SD_POOLS_MAX];	/* last member's make time */
};

/*
 * A gateway's dnsmasq being started: the launcher, which exits (0) once
 * dnsmasq has bound its sockets and detached, or with dnsmasq's error.
 * Reaped by gateway.c (a timer, or before the gateway is touched again).
 */
struct sd_gw_start {
	char id[VNODE_ID_MAX];		/* the gateway node */
	pid_t pid;			/* the launcher, our child */
	double t0;			/* when it was started, ms */
	struct sd_gw_start *next;
};

struct sd {
	struct sd_conf *conf;
	struct event_base *base;
	struct http_server *srv;
	struct http_client *cli;	/* reports; NULL without pipd_addr */
	struct event *report_ev;
	int report_busy;		/* a report is in flight */
	struct metrics *metrics;
	struct metric *m_step, *m_pool, *m_claim, *m_nodes, *m_reports;
	struct store *st;
	struct drv_conf dconf[SD_SLOT_LAST]; /* what each slot opens with */
	struct drv *drv[SD_SLOT_LAST];	/* NULL: not usable here */
	char why[SD_SLOT_LAST][DRV_WHY_MAX]; /* why not */
	struct tun_ctx *tun;		/* NULL: no tunnel backend */
	char tun_why[DRV_WHY_MAX];
	unsigned underlay_mtu;
	struct sd_slice *slices;
	struct sd_pools pools;
	struct sd_gw_start *gw_starts;	/* dnsmasq starts not reaped yet */
	struct event *gw_ev;		/* polls gw_starts while any */
};

/* substrated.c */
/* A fresh vnsm id with the configured prefix (thread-safe). */
void sd_new_id(const struct sd_conf *c, char kind, char *out, size_t size);
const char *sd_slot_driver(enum sd_slot s);	/* "netns", "libvirt" */
enum vnode_kind sd_vkind(enum node_kind k);

/* config.c */
struct sd_conf *sd_conf_load(const char *path);
void sd_conf_print(const struct sd_conf *c, FILE *fp);
int sd_kind_slot(enum node_kind k);

/* state.c */
struct store *sd_state_open(const char *path);
int sd_state_node_put(struct store *st, const char *slice,
    const struct sd_node *n, const char *phase);
int sd_state_node_phase(struct store *st, const char *id, const char *phase);
int sd_state_node_del(struct store *st, const char *id);
int sd_state_slice_put(struct store *st, const struct sd_slice *s);
int sd_state_slice_del(struct store *st, const char *name);
int sd_state_member_put(struct store *st, const char *id, const char *pool,
    const char *phase);

int sd_state_gw_put(struct store *st, const char *slice,
    const struct sd_node *n, const struct sd_link *stub);
int sd_state_gw_del(struct store *st, const char *id);

/* gateway.c */
/* The closed base ruleset of a pool member of kind gateway. */
int sd_gw_base(struct sd *sd, struct drv *d, const char *id);
/* Bring gateway n to settings gw (NULL: defaults); 0 or -1. */
int sd_gw_apply(struct sd *sd, struct drv *d, struct sd_node *n,
    const struct gw_settings *gw, int force);
void sd_gw_forget(struct sd *sd, const char *id);
const struct topo_link *sd_gw_stub(const struct slice *sl, const char *name);
int sd_gw_check(const struct slice *sl, const struct topo_node *nd,
    const char *where);
/* Re-apply every gateway of slice s after a restart (reconcile). */
void sd_gw_restore(struct sd *sd, struct sd_slice *s);
/* Reap finished dnsmasq starts (block: wait for all); at exit, block. */
void sd_gw_reap(struct sd *sd, int block);

/* slices.c */
struct sd_slice *sd_slice_find(struct sd *sd, const char *name);
struct sd_node *sd_node_find(struct sd_slice *s, const char *name);
/* Apply a host slice document; the answer (manifest) in *out. */
int sd_slice_apply(struct sd *sd, const char *name, const char *doc,
    size_t len, char **out, size_t *outlen);
int sd_slice_delete(struct sd *sd, const char *name, char **out,
    size_t *outlen);
char *sd_slice_manifest(struct sd *sd, const struct sd_slice *s,
    int deleted, size_t *len);
void sd_slice_free(struct sd_slice *s);
int sd_node_op(struct sd *sd, struct sd_slice *s, struct sd_node *n,
    const char *op);
/* Routes of a netns node set from spec (replacing none). */
int sd_netns_routes(const char *id, const struct vnode_spec *spec);
void sd_use(struct sd *sd, uint32_t *cpu, uint64_t *mem, unsigned *ifs);

/* links.c */
/* "drivers sim": bridges and tunnel ends are not made (no-ops). */
void sd_links_simulate(int on);
int sd_bridge_add(const char *name, const char *linkid);
void sd_bridge_del(const char *name);
void sd_bridge_name(const char *linkid, char *out, size_t size);
/* Bridges of ours (alias vnsm:link:PREFIX...) on the host. */
int sd_bridge_list(const char *prefix, char (**names)[IFNAMSIZ],
    char (**ids)[VNODE_ID_MAX], size_t *n);
int sd_stub_bridged(const struct sd *sd, enum encap e,
    enum attach_mode attach);
int sd_stub_up(struct sd *sd, struct sd_link *l, const struct sd_node *n);
void sd_stub_down(struct sd *sd, struct sd_link *l);
unsigned sd_stub_mtu(struct sd *sd, enum encap e, unsigned asked);

/* pool.c */
int sd_pool_start(struct sd *sd);
void sd_pool_stop(struct sd *sd);
/* Take a ready member of the pool matching n; 1 and its id, 0 if none. */
int sd_pool_take(struct sd *sd, const struct sd_node *n, char *id,
    size_t size);
void sd_pool_adopt(struct sd *sd, size_t pool, const char *id);
void sd_pool_hold(struct sd *sd, int hold);
int sd_pool_guest_config(struct drv *d, const struct vnode_spec *spec);

/* transits.c */
int sd_transits_plan(struct sd *sd, const struct slice *sl,
    const struct sd_slice *old, struct sd_slice *nw);
int sd_transits_apply(struct sd *sd, struct sd_slice *old,
    struct sd_slice *nw);
/* Take down old's transit name, if it is up (a stub takes its place). */
void sd_transit_down_named(struct sd *sd, struct sd_slice *old,
    const char *name);
void sd_transits_undo(struct sd *sd, struct sd_slice *old,
    struct sd_slice *nw);
void sd_transits_gone(struct sd *sd, struct sd_slice *old,
    struct sd_slice *nw);
int sd_transit_up(struct sd *sd, struct sd_transit *t);
void sd_transit_down(struct sd *sd, struct sd_transit *t);
void sd_transits_free(struct sd_transit *t);
int sd_state_transits_put(struct store *st, const struct sd_slice *s);
int sd_state_transits_load(struct sd *sd, struct sd_slice *s);

/* reconcile.c */
int sd_reconcile(struct sd *sd);

/* api.c */
int sd_api_init(struct sd *sd);

/* report.c */
char *sd_report(struct sd *sd, size_t *len);
void sd_report_start(struct sd *sd);

#endif
