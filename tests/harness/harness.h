/*
 * What the root tests and benchmarks that drive a real substrated share:
 * a scratch dir with a throwaway CA, the daemon's config, starting and
 * stopping it, calls to it as its pipd, and the homes' access network
 * of the gateway tests.  Linked into tests and benchmarks only
 * ($(BUILD)/libvnsm-harness.a), never into a daemon.
 *
 * Everything a run makes carries hn->prefix ("<tag><pid>") so that two
 * runs never meet, and lives under hn->dir.
 */
#ifndef VNSM_HARNESS_H
#define VNSM_HARNESS_H

#include <sys/types.h>
#include <stddef.h>

#include "http.h"
#include "manifest.h"

struct harness {
	char	dir[64];	/* scratch: certificates, configs, state */
	char	bin[512];	/* $BUILD/bin/substrated */
	char	vtun[512];	/* $BUILD/tools/vtun */
	char	prefix[16];	/* id and name prefix of this run */
	int	port;		/* substrated's, on 127.0.0.1 */
	int	net;		/* second octet of this run's subnets */
	int	timeout_ms;	/* of each call to the daemon */
	pid_t	daemon;		/* the substrated forked last */
};

/*
 * Prefix TAG<pid>, a scratch dir from the mkdtemp template tmpl (mode
 * 0755: a gateway's dnsmasq runs as nobody), the programs next to this
 * one's directory, a free port.  0, or -1 (said on stderr).
 */
int hn_init(struct harness *, const char *tag, const char *tmpl);
/* Remove the scratch dir, unless KEEP is set. */
void hn_fini(const struct harness *);

/* A fixed shell command, output discarded, stderr to dir/sh.err; says
 * so on stderr when it fails. */
void hn_sh(const struct harness *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, quietly; its exit status. */
int hn_shq(const struct harness *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* A command's output into out (NUL-terminated); its exit status. */
int hn_run_out(char *out, size_t size, const char *cmd);
/* Is pid a live process (not gone, not a zombie nobody reaps)? */
int hn_alive(pid_t);
/* Send sig to pid, wait up to ms for it to end, then SIGKILL; reap it
 * if it is our child. */
void hn_stop(pid_t, int sig, int ms);
/* Wait up to ms until a line of file starts with what (the whole file
 * is read), giving up early if pid (0: none) is no longer alive; 0, or
 * -1.  The end of the file's text in said. */
int hn_wait_for(const char *file, const char *what, pid_t pid, int ms,
    char *said, size_t saidsize);

/* The CA in dir/ca, with substrated h1 (on 127.0.0.1) and pipd pip1. */
void hn_ca(const struct harness *);
void hn_ca_issue(const struct harness *, const char *role,
    const char *name);

/*
 * dir/sd.conf: host h1 of pip1 on 127.0.0.1:port, underlay 10.NET.255.1,
 * state, pid file and run dir in dir, id prefix; then the caller's
 * lines (resources, report interval, pools).  0, or -1.
 */
int hn_sd_conf(const struct harness *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * Start substrated on dir/sd.conf (log: dir/sd.log) and wait up to 10 s
 * until it answers.  With private, in a mount namespace of its own
 * (slave of ours), as "ip netns exec" starts a program.  0, or -1.
 */
int hn_sd_start(struct harness *, int private);
/* The daemon's pid from its pid file; 0 if none. */
pid_t hn_sd_pid(const struct harness *);
/* Remove the nodes (netns driver) and link bridges of this run. */
void hn_sd_clean(const struct harness *);

/* One call to the daemon as who (a certificate of the CA); the status,
 * 0 if no answer, -1 if no client could be made. */
int hn_call(const struct harness *, const char *who, const char *method,
    const char *path, const char *body, struct http_response *);
/* A host slice of pip1 for VNet v<prefix>; body: its XML lines. */
char *hn_slice_doc(const struct harness *, const char *name,
    const char *body);
/* The node of a manifest by name; fails the running Check test if none. */
const struct mf_node *hn_mf_node(const struct manifest *, const char *);

/*
 * The homes' access network: namespace <prefix>-acc, veth <prefix>u
 * (10.NET.255.1/plen, ours) to <prefix>v (10.NET.255.2/plen, in it).
 */
void hn_access(const struct harness *, int plen);
/* Home i: namespace <prefix>-hI, eth0 (MTU 1400) to <prefix>pI in the
 * access network; any previous home i is removed first. */
void hn_home(const struct harness *, int i);
/* dir/dhcp.sh, the homes' DHCP client script: configures eth0 and
 * writes "IP SERVERID" to $LEASE. */
int hn_dhcp_script(const struct harness *);
/* vtun in namespace ns with its link-end arguments, output to
 * dir/vtun.out (emptied before it starts); its pid, or -1. */
pid_t hn_vtun(const struct harness *, const char *ns, char *const *args,
    int nargs);

/* Benchmarks: MemAvailable in KiB (-1 if unknown); a qsort order. */
long hn_mem_available_kib(void);
int hn_cmp_double(const void *, const void *);

#endif
