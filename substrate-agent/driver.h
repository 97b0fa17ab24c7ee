/*
 * Compute drivers of the substrate agent: one table of functions per
 * virtualization kind (netns, libvirt, xen, sim), the node spec they all
 * consume, and a registry to find them by name.
 *
 * A driver makes virtual nodes on this host and nothing else: it knows no
 * VNet, no state store and no peer.  Every host resource it makes (network
 * namespace, veth, cgroup, domain, run-time file) carries the node's vnsm
 * id in its name or metadata, so that list() can enumerate everything vnsm
 * owns on the host; the agent's crash recovery compares that list with its
 * state and deletes what it does not know.
 *
 * Life cycle of a node, the same for every driver:
 *
 *	create -> DEFINED --start--> RUNNING --pause--> PAUSED
 *	                  <--stop---         <--resume--
 *	delete from any state (it stops first).
 *
 * All functions return 0 on success and -1 after recording a coded error
 * (lib/error.h).  A driver instance may be used from one thread at a time;
 * the agent serialises calls per instance or opens one per worker.
 */
#ifndef VNSM_DRIVER_H
#define VNSM_DRIVER_H

#include <sys/types.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define VNODE_ID_MAX	40	/* vnsm id: 1..39 of [0-9A-Za-z_-] + NUL */
#define VNODE_NAME_MAX	64	/* node name as the VNO wrote it */
#define VNODE_IMAGE_MAX	64	/* image name, a file name under imgdir */
#define VNODE_IF_MAX	16	/* interfaces per node */
#define VNODE_ROUTE_MAX	32	/* static routes per node */
#define VNODE_KEY_MAX	512	/* one OpenSSH public key line */
#define DRV_WHY_MAX	256	/* why[] entries of drv_probe_all() */

enum vnode_kind {
	VNODE_NETNS,		/* a native node: namespaces on the host */
	VNODE_VM,		/* a full virtual machine */
	VNODE_CONTAINER,	/* an OS container (libvirt LXC) */
	VNODE_GATEWAY,		/* a virtual residential gateway */
	VNODE_KIND_LAST
};
ENUM_DECL(vnode_kind);

enum vnode_state {
	VNODE_ST_DEFINED,	/* resources exist, nothing runs */
	VNODE_ST_RUNNING,
	VNODE_ST_PAUSED,	/* frozen: no code runs, no packet forwarded */
	VNODE_ST_UNKNOWN,	/* present but in a state we cannot name */
	VNODE_ST_LAST
};
ENUM_DECL(vnode_state);

/* Node options (vnode_spec.flags). */
#define VNODE_F_MNTNS	0x01	/* own mount namespace (netns driver) */
#define VNODE_F_UTSNS	0x02	/* own UTS namespace: hostname = node name */
#define VNODE_F_PIDNS	0x04	/* own PID namespace */
#define VNODE_F_CGROUP	0x08	/* apply cpu_milli / mem_mib as limits */
#define VNODE_F_SSHD	0x10	/* run sshd inside, key in ssh_key */

/* One interface of a node. */
struct vnode_if {
	char name[IFNAMSIZ];	/* name inside the node, e.g. "eth0"; unique */
	uint8_t mac[6];		/* all zero: the driver picks one */
	struct in_addr addr;	/* IPv4 address; 0.0.0.0 = none */
	uint8_t prefix;		/* 0..32; meaningful only with addr */
	unsigned mtu;		/* bytes; 0 = the default (1500) */
	char peer[IFNAMSIZ];	/* host-side name (veth/tap); "" = derived */
	char bridge[IFNAMSIZ];	/* host bridge to enslave the host side to;
				   "" = none (libvirt: ethernet tap) */
};

/* One static route inside the node. */
struct vnode_route {
	struct in_addr dst;	/* network */
	uint8_t prefix;		/* 0..32; 0 = default route */
	struct in_addr via;	/* gateway, on a connected subnet */
};

/*
 * What a node is.  A plain value: copy it freely.  Validated by
 * vnode_spec_check() before any driver sees it.
 */
struct vnode_spec {
	char id[VNODE_ID_MAX];	/* vnsm id, unique on the host */
	char name[VNODE_NAME_MAX]; /* node name; hostname where it has one */
	enum vnode_kind kind;
	unsigned cpu_milli;	/* CPU in thousandths of a core; 0 = no limit */
	unsigned mem_mib;	/* memory in MiB; 0 = no limit / default */
	char image[VNODE_IMAGE_MAX]; /* image name; "" for netns */
	struct vnode_if ifs[VNODE_IF_MAX];
	size_t nifs;		/* entries used in ifs */
	struct vnode_route routes[VNODE_ROUTE_MAX];
	size_t nroutes;		/* entries used in routes */
	unsigned flags;		/* VNODE_F_* */
	char ssh_key[VNODE_KEY_MAX]; /* authorized ed25519 key (VNODE_F_SSHD) */
};

/* One vnsm node found on the host by list(). */
struct vnode_info {
	char id[VNODE_ID_MAX];
	char name[VNODE_NAME_MAX]; /* "" when the driver cannot tell */
	char handle[128];	/* host name of the resource: netns, domain */
	enum vnode_state state;
};

/* How to reach a node's console. */
enum vnode_console_kind {
	VNODE_CON_EXEC,		/* run argv on the host: a shell inside */
	VNODE_CON_PTY,		/* a pseudo-terminal on the host: path */
	VNODE_CON_STREAM,	/* libvirt console stream: uri + domain */
	VNODE_CON_LAST
};
ENUM_DECL(vnode_console_kind);

#define VNODE_CON_ARGV	12
struct vnode_console {
	enum vnode_console_kind kind;
	char argv_buf[512];	/* storage for argv's strings */
	char *argv[VNODE_CON_ARGV]; /* EXEC: NULL-terminated, into argv_buf */
	char path[128];		/* PTY: /dev/pts/N */
	char uri[128];		/* STREAM: libvirt URI */
	char domain[128];	/* STREAM: domain name */
	char ssh[128];		/* "user@addr:port" when sshd runs; else "" */
};

/* Options of exec(). */
struct vnode_exec {
	const char *const *argv; /* program and arguments; argv[0] via PATH */
	char *out;		/* stdout+stderr, NUL-terminated; may be NULL */
	size_t outsz;		/* bytes at out */
	int timeout_ms;		/* kill after this; 0 = 10 s */
};

/* Driver configuration: what the agent's config file says about it. */
struct drv_conf {
	const char *uri;	/* libvirt URI; NULL = the driver's default */
	const char *rundir;	/* run-time files; NULL = /run/vnsm */
	const char *imgdir;	/* images: <imgdir>/<image>/{vmlinuz,...} */
	const char *cgroot;	/* cgroup file system; NULL = /sys/fs/cgroup */
	const char *sshd;	/* sshd program; NULL = /usr/sbin/sshd */
	int virt_type;		/* libvirt: 0 = per host (kvm), 1 = force
				   TCG (type='qemu') */
	unsigned delay_ms[8];	/* sim: delay per operation, DRV_OP_* */
	unsigned fail_every;	/* sim: every Nth create fails; 0 = never */
};

/* Operation numbers, for delays, timings and messages. */
enum drv_op {
	DRV_OP_CREATE, DRV_OP_START, DRV_OP_STOP, DRV_OP_PAUSE,
	DRV_OP_RESUME, DRV_OP_UPDATE, DRV_OP_DELETE, DRV_OP_LIST,
	DRV_OP_LAST
};

struct drv;

/*
 * The table of functions.  Every entry is set (drivers use drv_nosup for
 * what they cannot do); fill it by field name.
 */
struct drv_ops {
	const char *name;	/* "netns", "libvirt", "xen", "sim" */

	/*
	 * Can this driver run on this host with conf?  0 if yes; -1 with
	 * an ERR_UNSUPPORTED error saying what is missing otherwise.
	 */
	int (*probe)(const struct drv_conf *conf);
	/* Set up drv->priv; close() frees it and never fails. */
	int (*open)(struct drv *drv);
	void (*close)(struct drv *drv);

	int (*create)(struct drv *drv, const struct vnode_spec *spec);
	int (*start)(struct drv *drv, const char *id);
	int (*stop)(struct drv *drv, const char *id);
	int (*pause)(struct drv *drv, const char *id);
	int (*resume)(struct drv *drv, const char *id);
	/* Hot-add / hot-remove one interface of a created node. */
	int (*attach)(struct drv *drv, const char *id,
	    const struct vnode_if *ifc);
	int (*detach)(struct drv *drv, const char *id, const char *ifname);
	/* Stop if needed and remove every trace; ERR_NOT_FOUND if none. */
	int (*delete)(struct drv *drv, const char *id);
	/*
	 * Every vnsm node of this driver present on the host, including
	 * ones this instance did not make.  *out is malloc'd; caller frees.
	 */
	int (*list)(struct drv *drv, struct vnode_info **out, size_t *n);
	int (*console)(struct drv *drv, const char *id,
	    struct vnode_console *con);
	/*
	 * Run one command in the node and wait for it; *status is its exit
	 * code (128+signal if killed).  ERR_TIMEOUT if it ran too long.
	 */
	int (*exec)(struct drv *drv, const char *id,
	    const struct vnode_exec *ex, int *status);
};

/* An open driver. */
struct drv {
	const struct drv_ops *ops;
	struct drv_conf conf;	/* copy; strings point to the caller's */
	void *priv;		/* the driver's own state */
};

/* driver.c */
extern const struct drv_ops drv_netns_ops;
extern const struct drv_ops drv_libvirt_ops;
extern const struct drv_ops drv_xen_ops;
extern const struct drv_ops drv_sim_ops;

/* The driver named name, or NULL (with ERR_NOT_FOUND recorded). */
const struct drv_ops *drv_lookup(const char *name);
/* The i-th registered driver, or NULL past the end. */
const struct drv_ops *drv_nth(size_t i);
/*
 * Which drivers work here: for each registered one, probe it and, when it
 * fails, copy its error message to why[i] (nwhy entries); returns a
 * bit mask of working drivers (bit i = drv_nth(i)).  Errors of failed
 * probes are not left recorded.
 */
unsigned drv_probe_all(const struct drv_conf *conf, char (*why)[DRV_WHY_MAX],
    size_t nwhy);
/*
 * Open a driver; returns a new instance or NULL.  conf may be NULL for
 * the defaults.  drv_close(NULL) is a no-op.
 */
struct drv *drv_open(const char *name, const struct drv_conf *conf);
void drv_close(struct drv *drv);

/* The stub for operations a driver does not have: ERR_UNSUPPORTED. */
int drv_nosup(const char *drvname, const char *what);

/*
 * Check a spec for what every driver relies on: id charset and length,
 * names unique and within IFNAMSIZ, prefixes in range, key present with
 * VNODE_F_SSHD.  0 or -1 with ERR_INVALID / ERR_DUPLICATE.
 */
int vnode_spec_check(const struct vnode_spec *spec);
int vnode_id_check(const char *id);
/* Find an interface by name in spec; NULL if none. */
const struct vnode_if *vnode_spec_if(const struct vnode_spec *spec,
    const char *name);
/* A stable locally administered MAC for interface idx of node id. */
void vnode_mac(const char *id, unsigned idx, uint8_t mac[6]);
/*
 * The MAC of interface ifc of node id: its own if set, else one derived
 * from the id and the interface name (stable across detach/attach).
 */
void vnode_if_mac(const char *id, const struct vnode_if *ifc, uint8_t mac[6]);
/* Parse "a.b.c.d/len" into addr and prefix; -1 (ERR_INVALID) if bad. */
int vnode_parse_cidr(const char *s, struct in_addr *addr, uint8_t *prefix);

/* drv_netns.c: what this host's cgroups allow, for tests and reports */
#define NETNS_CAP_CPU		0x1	/* CPU limits */
#define NETNS_CAP_MEM		0x2	/* memory limits */
#define NETNS_CAP_FREEZE	0x4	/* pause by cgroup freezer */
unsigned drv_netns_caps(struct drv *drv);
/*
 * An rtnetlink socket inside the namespace of netns node id, for changes
 * the driver does not make itself (routes, a gateway's LAN address).
 * Free it with nl_socket_free().  0, or -1 with an error recorded.
 */
struct nl_sock;
int drv_netns_node_socket(const char *id, struct nl_sock **skp);
/* Start argv in netns node id without waiting: the child's pid, or -1. */
pid_t drv_netns_spawn(struct drv *drv, const char *id,
    const char *const *argv, int out);
/* Path of a cgroup file ("cpu.max", "memory.limit_in_bytes", ...). */
int drv_netns_cgfile(struct drv *drv, const char *id, const char *file,
    char *buf, size_t size);

/* drv_libvirt.c: the domain XML for conf's URI (malloc'd); no I/O */
char *drv_libvirt_xml(const struct drv_conf *conf,
    const struct vnode_spec *spec);

/* drv_xen.c: the libxl domain configuration as JSON (malloc'd) */
char *drv_xen_json(struct drv *drv, const struct vnode_spec *spec);

/* The name every host resource of node id starts with: "vn-". */
#define VNODE_PREFIX	"vn-"

#endif
