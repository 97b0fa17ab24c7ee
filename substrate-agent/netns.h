/*
 * The netns driver's own header: shared by drv_netns.c (namespaces,
 * links, the ops table), netns_cg.c (cgroups) and netns_proc.c (the
 * processes that live in a node: its init, sshd, exec'd commands).
 */
#ifndef VNSM_NETNS_H
#define VNSM_NETNS_H

#include <sys/types.h>

#include "driver.h"

#define NETNS_PATH	256	/* every path we build; longer is refused */
#define NETNS_RUN	"/run/netns"	/* where ip(8) keeps named namespaces */

/* Where the host keeps each cgroup controller; found at open. */
struct netns_cg {
	char v2[NETNS_PATH];	/* cgroup2 mount; "" if none */
	char cpu[NETNS_PATH];	/* hierarchy with cpu; "" if none */
	int cpu_v2;		/* cpu is a v2 controller (cpu.max) */
	char mem[NETNS_PATH];	/* hierarchy with memory; "" if none */
	int mem_v2;		/* memory is a v2 controller (memory.max) */
	char freezer[NETNS_PATH]; /* v1 freezer; "" if none or v2 used */
};

/* drv->priv of the netns driver. */
struct netns {
	char rundir[NETNS_PATH]; /* <conf.rundir>/netns: one dir per node */
	char sshd[NETNS_PATH];	/* sshd program, absolute */
	struct netns_cg cg;
	struct nl_sock *sk;	/* rtnetlink in the host namespace */
};

/*
 * A node as its files in the run dir describe it, loaded for one
 * operation.  The spec is what create() got plus attached interfaces.
 */
struct netns_node {
	struct vnode_spec spec;
	char dir[NETNS_PATH];	/* <rundir>/<id> */
	char nspath[NETNS_PATH]; /* /run/netns/vn-<id> */
	enum vnode_state state;
	pid_t init_pid;		/* holder of mnt/uts/pid namespaces; 0 none */
	pid_t sshd_pid;		/* 0 if none */
};

/* netns_cg.c */
void netns_cg_detect(const char *cgroot, struct netns_cg *cg);
/* Does node need cgroups (limits, or processes to freeze)? */
int netns_cg_wanted(const struct vnode_spec *spec);
int netns_cg_create(struct netns *ns, const struct vnode_spec *spec);
/* 1 if frozen/thawed through a cgroup, 0 if the node has none, -1. */
int netns_cg_freeze(struct netns *ns, const char *id, int on);
/* Open the cgroup.procs files of the node (O_WRONLY); returns count. */
int netns_cg_procs(struct netns *ns, const char *id, int *fds, int max);
void netns_cg_remove(struct netns *ns, const char *id);
int netns_cg_file(struct netns *ns, const char *id, const char *file,
    char *buf, size_t size);

/* netns_proc.c */
int netns_init_start(struct netns *ns, struct netns_node *n);
int netns_sshd_start(struct netns *ns, struct netns_node *n);
/* SIGKILL every process in the node and wait (bounded) for them to go. */
int netns_kill_all(struct netns *ns, struct netns_node *n);
/* Send sig to every process whose network namespace is the node's. */
int netns_signal_all(const struct netns_node *n, int sig);
/* Fork a child running argv in the node (out: stdout+stderr, -1 none). */
pid_t netns_spawn(struct netns *ns, struct netns_node *n,
    const char *const *argv, int out);
int netns_run(struct netns *ns, struct netns_node *n,
    const struct vnode_exec *ex, int *status);

/* drv_netns.c */
int netns_write_file(const char *dir, const char *name, const void *buf,
    size_t len, int mode);
int netns_node_save(struct netns_node *n);

#endif
