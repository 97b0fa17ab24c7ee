/*
 * Virtual residential gateways: the agent's side of a node of kind
 * "gateway".  The node is a netns node (the netns driver makes it like
 * any other); this file turns it into a home's gateway:
 *
 *   - its LAN interface is its end of the one stub of the node (the
 *     home's tunnel); every other interface faces the VNet (WAN);
 *   - the LAN interface gets the <gateway lan> address (set here, not by
 *     the driver, so that a changed LAN address never re-makes the
 *     interface and so never touches the tunnel end);
 *   - nftables inside the node (table inet vnsm_gw, from a generated
 *     file, gw.nft, loaded in one transaction by libnftables from a
 *     thread that enters the node's network namespace for the call: no
 *     nft process, ~1 ms instead of ~10): masquerade from the
 *     LAN towards the WAN, DNAT for port forwards, and a firewall that
 *     forwards only LAN -> WAN (and the answers and forwarded ports
 *     back), accepts only DHCP, DNS and ping from the LAN, and drops
 *     everything towards the agent's underlay and API addresses;
 *   - dnsmasq inside the node (DHCP and DNS on the LAN interface only),
 *     as user nobody after it has bound its sockets, with its config,
 *     lease, pid and log files in <run-dir>/gw/<vnsm id>/.  The agent
 *     does not wait for dnsmasq to come up (10-15 ms): the ruleset is in
 *     place before it starts, so the home is never open; the launcher
 *     is reaped later (a timer, or before the gateway is touched again)
 *     and a failed start shows as the node's state "unknown" (degraded
 *     in the manifest) with dnsmasq's own message in the log.
 *
 * A change of settings is applied without touching interfaces or the
 * tunnel: the nft table is replaced atomically; new DNS servers go to
 * dnsmasq's servers and DHCP options files, which SIGHUP re-reads; a new
 * DHCP range, lease time or LAN address needs a new dnsmasq (the main
 * config is read only at start), which is restarted in a few ms while
 * the interface and the tunnel stay.
 *
 * Pool members of kind gateway get the closed base ruleset (no LAN, no
 * WAN: nothing forwarded) when they are made; dnsmasq starts at claim,
 * when the settings and the LAN interface are known.
 */
#include <sys/stat.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <nftables/libnftables.h>
#include <event2/event.h>
#include <sys/wait.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "slice.h"
#include "substrated.h"

#define GW_TABLE	"vnsm_gw"
#define GW_FILE_MAX	16384	/* bytes of any file we generate */
#define GW_STOP_MS	1000	/* wait for an old dnsmasq to go */
#define GW_START_MS	5000	/* a dnsmasq start may take this long */
#define GW_POLL_MS	20	/* how often unfinished starts are checked */

/* Defaults for a gateway node without <gateway> settings. */
#define GW_DEF_LAN	0xc0a80101u	/* 192.168.1.1/24 */
#define GW_DEF_FROM	0xc0a80164u	/* .100 */
#define GW_DEF_TO	0xc0a801c7u	/* .199 */

static void
ip4(uint32_t a, char *out, size_t size)
{
	struct in_addr in = { .s_addr = htonl(a) };

	inet_ntop(AF_INET, &in, out, (socklen_t)size);
}

static uint32_t
mask_of(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

/* <run-dir>/gw/<id> into out; with mk, made (0755) if missing. */
static int
gw_dir(const struct sd *sd, const char *id, char *out, size_t size, int mk)
{
	char top[300];

	snprintf(top, sizeof(top), "%s/gw", sd->conf->rundir);
	if ((size_t)snprintf(out, size, "%s/%s", top, id) >= size)
		return err_set(ERR_INVALID, "run dir path for gateway %s is "
		    "too long", id);
	if (!mk)
		return 0;
	if (mkdir(sd->conf->rundir, 0755) == -1 && errno != EEXIST)
		return err_sys("mkdir %s", sd->conf->rundir);
	if (mkdir(top, 0755) == -1 && errno != EEXIST)
		return err_sys("mkdir %s", top);
	if (mkdir(out, 0755) == -1 && errno != EEXIST)
		return err_sys("mkdir %s", out);
	return 0;
}

/*
 * Does dir/name hold exactly text?  1 if so, 0 if not (or unreadable).
 */
static int
file_same(const char *dir, const char *name, const char *text, size_t len)
{
	char p[512], *buf;
	FILE *fp;
	size_t n;
	int same;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fp = fopen(p, "r")) == NULL)
		return 0;
	if ((buf = malloc(len + 2)) == NULL) {
		fclose(fp);
		return 0;
	}
	n = fread(buf, 1, len + 1, fp);
	same = n == len && memcmp(buf, text, len) == 0;
	free(buf);
	fclose(fp);
	return same;
}

/* Write dir/name atomically (tmp + rename), mode 0644. */
static int
file_put(const char *dir, const char *name, const char *text, size_t len)
{
	char p[512], tmp[520];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	    -1)
		return err_sys("open %s", tmp);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(tmp);
		return err_sys("write %s", tmp);
	}
	close(fd);
	if (rename(tmp, p) == -1) {
		unlink(tmp);
		return err_sys("rename %s", tmp);
	}
	return 0;
}

/* The settings to apply: gw if given, else the documented defaults. */
static void
gw_effective(const struct gw_settings *gw, struct gw_settings *out)
{
	if (gw != NULL && gw->present) {
		*out = *gw;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->present = 1;
	out->lan.addr = GW_DEF_LAN;
	out->lan.len = 24;
	out->dhcp_from = GW_DEF_FROM;
	out->dhcp_to = GW_DEF_TO;
	out->lease = GW_LEASE_DEFAULT;
}

/*
 * The nft ruleset of gateway id: lan "" gives the closed base set of a
 * pool member (nothing forwarded, nothing accepted but loopback).  wan
 * holds nwan interface names.  One transaction: the table is made (so
 * that delete cannot fail), deleted and defined again.
 */
static void
nft_text(struct sd *sd, struct buf *b, const char *id, const char *lan,
    char (*wan)[IFNAMSIZ], size_t nwan, const struct gw_settings *gw)
{
	const struct sd_conf *c = sd->conf;
	char a[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];
	uint32_t blocked[2];
	size_t nb = 0;

	if (c->underlay != 0)
		blocked[nb++] = c->underlay;
	{
		char h[80], *colon;
		struct in_addr in;

		str_lcpy(h, c->listen, sizeof(h));
		if ((colon = strrchr(h, ':')) != NULL)
			*colon = '\0';
		if (inet_pton(AF_INET, h, &in) == 1 && in.s_addr != 0 &&
		    (ntohl(in.s_addr) >> 24) != 127 &&
		    ntohl(in.s_addr) != c->underlay)
			blocked[nb++] = ntohl(in.s_addr);
	}
	buf_printf(b, "# nftables of vnsm gateway %s, written by substrated\n"
	    "table inet " GW_TABLE "\ndelete table inet " GW_TABLE "\n"
	    "table inet " GW_TABLE " {\n", id);
	buf_printf(b, "\tset wan {\n\t\ttype ifname\n");
	for (size_t i = 0; i < nwan; i++)
		buf_printf(b, "%s\"%s\"%s", i == 0 ? "\t\telements = { " : "",
		    wan[i], i + 1 == nwan ? " }\n" : ", ");
	buf_printf(b, "\t}\n\tset blocked {\n\t\ttype ipv4_addr\n");
	for (size_t i = 0; i < nb; i++) {
		ip4(blocked[i], a, sizeof(a));
		buf_printf(b, "%s%s%s", i == 0 ? "\t\telements = { " : "", a,
		    i + 1 == nb ? " }\n" : ", ");
	}
	buf_printf(b, "\t}\n"
	    "\tchain input {\n"
	    "\t\ttype filter hook input priority filter; policy drop;\n"
	    "\t\tiif \"lo\" accept\n"
	    "\t\tct state established,related accept\n");
	if (lan[0] != '\0')
		buf_printf(b,
		    "\t\tiifname \"%s\" udp dport { 53, 67 } accept\n"
		    "\t\tiifname \"%s\" tcp dport 53 accept\n"
		    "\t\tiifname \"%s\" icmp type echo-request accept\n",
		    lan, lan, lan);
	buf_printf(b, "\t}\n"
	    "\tchain forward {\n"
	    "\t\ttype filter hook forward priority filter; policy drop;\n"
	    "\t\tip daddr @blocked drop\n");
	ip4(gw->lan.addr & mask_of(gw->lan.len), net, sizeof(net));
	if (lan[0] != '\0')
		buf_printf(b,
		    "\t\tiifname \"%s\" ip saddr %s/%u oifname @wan accept\n"
		    "\t\tiifname @wan oifname \"%s\" ct state "
		    "established,related accept\n"
		    "\t\tiifname @wan oifname \"%s\" ct status dnat accept\n",
		    lan, net, gw->lan.len, lan, lan);
	buf_printf(b, "\t}\n"
	    "\tchain output {\n"
	    "\t\ttype filter hook output priority filter; policy accept;\n"
	    "\t\tip daddr @blocked drop\n"
	    "\t}\n"
	    "\tchain prerouting {\n"
	    "\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
	for (size_t i = 0; lan[0] != '\0' && i < gw->nforwards; i++) {
		const struct gw_forward *f = &gw->forwards[i];

		ip4(f->to, t, sizeof(t));
		buf_printf(b, "\t\tiifname @wan %s dport %u dnat ip to %s:%u\n",
		    f->proto == GW_UDP ? "udp" : "tcp", f->port, t,
		    f->to_port != 0 ? f->to_port : f->port);
	}
	buf_printf(b, "\t}\n"
	    "\tchain postrouting {\n"
	    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	if (lan[0] != '\0')
		buf_printf(b, "\t\toifname @wan ip saddr %s/%u masquerade\n",
		    net, gw->lan.len);
	buf_printf(b, "\t}\n}\n");
}

/* dnsmasq's main config: read only when it starts. */
static void
dnsmasq_text(struct buf *b, const char *id, const char *dir, const char *lan,
    const struct gw_settings *gw)
{
	char from[INET_ADDRSTRLEN], to[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];

	ip4(gw->dhcp_from, from, sizeof(from));
	ip4(gw->dhcp_to, to, sizeof(to));
	ip4(mask_of(gw->lan.len), mask, sizeof(mask));
	buf_printf(b, "# dnsmasq of vnsm gateway %s, written by substrated\n"
	    "interface=%s\nbind-interfaces\nexcept-interface=lo\n"
	    "no-resolv\nno-hosts\nno-poll\ncache-size=150\n"
	    "servers-file=%s/servers\n"
	    "dhcp-range=%s,%s,%s,%u\ndhcp-authoritative\nno-ping\n"
	    "dhcp-leasefile=%s/leases\ndhcp-optsfile=%s/dhcp-opts\n"
	    "pid-file=%s/dnsmasq.pid\nlog-facility=%s/dnsmasq.log\n"
	    "user=nobody\ngroup=nogroup\n",
	    id, lan, dir, from, to, mask, gw->lease, dir, dir, dir, dir);
}

/* What SIGHUP re-reads: upstream servers and the DNS option. */
static void
reload_text(struct buf *srv, struct buf *opts, const struct gw_settings *gw)
{
	char a[INET_ADDRSTRLEN];

	buf_printf(srv, "# upstream DNS servers\n");
	buf_printf(opts, "# DHCP options\n");
	for (size_t i = 0; i < gw->ndns; i++) {
		ip4(gw->dns[i], a, sizeof(a));
		buf_printf(srv, "server=%s\n", a);
		buf_printf(opts, "%s%s%s", i == 0 ? "option:dns-server," : "",
		    a, i + 1 == gw->ndns ? "\n" : ",");
	}
}

/* The pid of the node's running dnsmasq (from its pid file), or 0. */
static pid_t
dnsmasq_pid(const char *dir, const char *id)
{
	char p[512], comm[32], nsp[128];
	struct stat a, b;
	FILE *fp;
	int pid = 0;

	snprintf(p, sizeof(p), "%s/dnsmasq.pid", dir);
	if ((fp = fopen(p, "r")) == NULL)
		return 0;
	if (fscanf(fp, "%d", &pid) != 1)
		pid = 0;
	fclose(fp);
	if (pid <= 0 || kill(pid, 0) == -1)
		return 0;
	/* The same process: still dnsmasq, still in this node. */
	snprintf(p, sizeof(p), "/proc/%d/comm", pid);
	if ((fp = fopen(p, "r")) == NULL)
		return 0;
	if (fgets(comm, sizeof(comm), fp) == NULL)
		comm[0] = '\0';
	fclose(fp);
	snprintf(p, sizeof(p), "/proc/%d/ns/net", pid);
	snprintf(nsp, sizeof(nsp), "/run/netns/" VNODE_PREFIX "%s", id);
	if (strncmp(comm, "dnsmasq", 7) != 0 || stat(p, &a) == -1 ||
	    stat(nsp, &b) == -1 || a.st_ino != b.st_ino)
		return 0;
	return pid;
}

/* Stop the node's dnsmasq and wait (bounded) until it is gone. */
static void
dnsmasq_stop(const char *dir, const char *id)
{
	struct timespec ts = { 0, 2000000 };
	pid_t pid = dnsmasq_pid(dir, id);

	if (pid == 0)
		return;
	kill(pid, SIGTERM);
	for (int t = 0; t < GW_STOP_MS / 2 && kill(pid, 0) == 0; t++)
		nanosleep(&ts, NULL);
	if (kill(pid, 0) == 0)
		kill(pid, SIGKILL);
}

/*
 * Give interface ifname of node id exactly the IPv4 address lan: other
 * IPv4 addresses on it go, lan is added (replace).  Through rtnetlink in
 * the node's namespace (a socket opened there, then used from here).
 */
static int
lan_address(const char *id, const char *ifname, const struct ipv4_prefix *lan)
{
	struct nl_sock *sk = NULL;
	struct nl_cache *cache = NULL;
	struct rtnl_link *link = NULL;
	struct rtnl_addr *ra = NULL;
	struct nl_addr *la = NULL;
	struct in_addr in = { .s_addr = htonl(lan->addr) };
	int ifindex, e, rc = -1;

	if (drv_netns_node_socket(id, &sk) == -1)
		return -1;
	if ((e = rtnl_link_get_kernel(sk, 0, ifname, &link)) < 0) {
		err_set(ERR_SYSTEM, "gateway %s has no interface %s: %s", id,
		    ifname, nl_geterror(e));
		goto out;
	}
	ifindex = rtnl_link_get_ifindex(link);
	if ((e = rtnl_addr_alloc_cache(sk, &cache)) < 0) {
		err_set(ERR_SYSTEM, "gateway %s: addresses: %s", id,
		    nl_geterror(e));
		goto out;
	}
	for (struct nl_object *o = nl_cache_get_first(cache); o != NULL;
	    o = nl_cache_get_next(o)) {
		struct rtnl_addr *x = (struct rtnl_addr *)o;
		struct nl_addr *l = rtnl_addr_get_local(x);

		if (rtnl_addr_get_ifindex(x) != ifindex ||
		    rtnl_addr_get_family(x) != AF_INET || l == NULL)
			continue;
		if (rtnl_addr_get_prefixlen(x) == lan->len &&
		    memcmp(nl_addr_get_binary_addr(l), &in, 4) == 0)
			continue;
		if ((e = rtnl_addr_delete(sk, x, 0)) < 0)
			log_warnx("gateway %s: remove old LAN address: %s", id,
			    nl_geterror(e));
	}
	if ((ra = rtnl_addr_alloc()) == NULL || (la = nl_addr_build(AF_INET,
	    &in, 4)) == NULL) {
		err_nomem();
		goto out;
	}
	nl_addr_set_prefixlen(la, lan->len);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, AF_INET);
	rtnl_addr_set_local(ra, la);
	if ((e = rtnl_addr_add(sk, ra, NLM_F_REPLACE)) < 0) {
		err_set(ERR_SYSTEM, "gateway %s: LAN address on %s: %s", id,
		    ifname, nl_geterror(e));
		goto out;
	}
	rc = 0;
out:
	if (la != NULL)
		nl_addr_put(la);
	if (ra != NULL)
		rtnl_addr_put(ra);
	if (cache != NULL)
		nl_cache_free(cache);
	if (link != NULL)
		rtnl_link_put(link);
	nl_socket_free(sk);
	return rc;
}

/*
 * What nft_thread does: a ruleset to load in one node's namespace.  The
 * caller owns it and waits on cv until done; the thread never touches it
 * after setting done.
 */
struct nft_job {
	const char *id;		/* the node */
	const char *text;	/* the ruleset, NUL-terminated */
	pthread_mutex_t mu;	/* guards done */
	pthread_cond_t cv;	/* signalled when done */
	int done;		/* rc and msg are final */
	int rc;			/* 0 or -1 (msg says why) */
	char msg[512];		/* nft's first error line, or ours */
};

static void
nft_finish(struct nft_job *j, int rc)
{
	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->done = 1;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/*
 * The thread of nft_run (detached): enter the node's network namespace
 * (only this thread moves) and load the ruleset through libnftables
 * there, in one transaction as "nft -f" would.  The context is made
 * inside so that its netlink socket is the node's.  The answer goes to
 * the caller first; then the context is freed: closing the socket waits
 * for the kernel to release the replaced rules after an RCU grace period
 * (~10-15 ms here), which nobody needs to wait for.
 */
static void *
nft_thread(void *arg)
{
	struct nft_job *j = arg;
	struct nft_ctx *ctx;
	char path[128];
	const char *e;
	int fd;

	snprintf(path, sizeof(path), "/run/netns/" VNODE_PREFIX "%s", j->id);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(j->msg, sizeof(j->msg), "open %s: %s", path,
		    strerror(errno));
		nft_finish(j, -1);
		return NULL;
	}
	if (setns(fd, CLONE_NEWNET) == -1) {
		snprintf(j->msg, sizeof(j->msg), "enter %s: %s", path,
		    strerror(errno));
		close(fd);
		nft_finish(j, -1);
		return NULL;
	}
	close(fd);
	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		snprintf(j->msg, sizeof(j->msg), "cannot make an nftables "
		    "context");
		nft_finish(j, -1);
		return NULL;
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (nft_run_cmd_from_buffer(ctx, j->text) == 0)
		nft_finish(j, 0);
	else {
		e = nft_ctx_get_error_buffer(ctx);
		str_lcpy(j->msg, e != NULL && e[0] != '\0' ? e :
		    "nftables refused the ruleset", sizeof(j->msg));
		j->msg[strcspn(j->msg, "\n")] = '\0';
		nft_finish(j, -1);
	}
	nft_ctx_free(ctx);
	return NULL;
}

/*
 * Load ruleset text in node id.  A short-lived detached thread does it:
 * setns() moves only the calling thread (so the agent's threads never
 * leave the host's namespace, whatever fails), and the thread can finish
 * freeing its context after we have the answer.
 */
static int
nft_run(const char *id, const char *text)
{
	struct nft_job j = { .id = id, .text = text };
	pthread_attr_t at;
	pthread_t t;
	int e;

	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&t, &at, nft_thread, &j);
	pthread_attr_destroy(&at);
	if (e == 0) {
		pthread_mutex_lock(&j.mu);
		while (!j.done)
			pthread_cond_wait(&j.cv, &j.mu);
		pthread_mutex_unlock(&j.mu);
	}
	pthread_cond_destroy(&j.cv);
	pthread_mutex_destroy(&j.mu);
	if (e != 0) {
		errno = e;
		return err_sys("gateway %s: thread for nftables", id);
	}
	if (j.rc == -1)
		return err_set(ERR_SYSTEM, "nftables in gateway %s: %s", id,
		    j.msg);
	return 0;
}

/* Write the ruleset text to dir/gw.nft and load it in the node. */
static int
nft_load(const char *id, const char *dir, const struct buf *b)
{
	if (b->len > GW_FILE_MAX)
		return err_set(ERR_INVALID, "gateway %s: ruleset too large",
		    id);
	if (file_put(dir, "gw.nft", b->data, b->len) == -1)
		return -1;
	return nft_run(id, b->data);
}

/* The node of id in any slice, or NULL. */
static struct sd_node *
node_by_id(struct sd *sd, const char *id)
{
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next)
		for (struct sd_node *n = s->nodes; n != NULL; n = n->next)
			if (strcmp(n->id, id) == 0)
				return n;
	return NULL;
}

/*
 * A dnsmasq launcher has exited with status st: a failure makes the
 * gateway's state "unknown" with dnsmasq's message in the log; a success
 * after a failure makes it running again.
 */
static void
start_done(struct sd *sd, const struct sd_gw_start *g, int st)
{
	struct sd_node *n = node_by_id(sd, g->id);
	char dir[400], p[512], line[256] = "";
	FILE *fp;

	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		log_debug("gateway %s: dnsmasq up %.2f ms after its start",
		    g->id, now_ms() - g->t0);
		if (n != NULL && n->gw.dns_failed) {
			n->gw.dns_failed = 0;
			if (n->state == VNODE_ST_UNKNOWN)
				n->state = VNODE_ST_RUNNING;
		}
		return;
	}
	if (gw_dir(sd, g->id, dir, sizeof(dir), 0) == 0) {
		snprintf(p, sizeof(p), "%s/dnsmasq.err", dir);
		if ((fp = fopen(p, "r")) != NULL) {
			if (fgets(line, sizeof(line), fp) == NULL)
				line[0] = '\0';
			fclose(fp);
		}
	}
	err_reset();
	line[strcspn(line, "\n")] = '\0';
	log_warnx("gateway %s: dnsmasq did not start (%s %d): %s", g->id,
	    WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ?
	    WEXITSTATUS(st) : WTERMSIG(st), line[0] != '\0' ? line :
	    "no message");
	if (n != NULL) {
		n->gw.dns_failed = 1;
		if (n->state == VNODE_ST_RUNNING)
			n->state = VNODE_ST_UNKNOWN;
	}
}

/*
 * Reap the launchers of dnsmasq starts that have finished; with block,
 * wait for every one (bounded: past GW_START_MS one is killed).  With
 * id, only that gateway's.  Finished ones leave sd->gw_starts.
 */
static void
reap(struct sd *sd, const char *id, int block)
{
	struct timespec ts = { 0, 1000000 };

	for (struct sd_gw_start **pp = &sd->gw_starts; *pp != NULL;) {
		struct sd_gw_start *g = *pp;
		pid_t r;
		int st = 0;

		if (id != NULL && strcmp(g->id, id) != 0) {
			pp = &g->next;
			continue;
		}
		while ((r = waitpid(g->pid, &st, WNOHANG)) == 0 && (block ||
		    now_ms() - g->t0 > GW_START_MS)) {
			if (now_ms() - g->t0 > GW_START_MS)
				kill(g->pid, SIGKILL);
			nanosleep(&ts, NULL);
		}
		if (r == 0) {
			pp = &g->next;
			continue;
		}
		if (r == g->pid)
			start_done(sd, g, st);
		*pp = g->next;
		free(g);
	}
}

static void
reap_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sd *sd = arg;
	struct timeval tv = { 0, GW_POLL_MS * 1000 };

	reap(sd, NULL, 0);
	if (sd->gw_starts != NULL)
		evtimer_add(sd->gw_ev, &tv);
}

void
sd_gw_reap(struct sd *sd, int block)
{
	reap(sd, NULL, block);
}

/*
 * Start the node's dnsmasq with config conf and return at once; the
 * launcher is reaped later (reap()).  Its stdout and stderr (dnsmasq's
 * start-up errors) go to dir/dnsmasq.err.
 */
static int
dnsmasq_start(struct sd *sd, struct drv *d, const char *id, const char *dir,
    const char *conf)
{
	const char *argv[] = { "dnsmasq", "-C", conf, NULL };
	struct timeval tv = { 0, GW_POLL_MS * 1000 };
	struct sd_gw_start *g;
	char p[512];
	int fd;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return err_nomem();
	snprintf(p, sizeof(p), "%s/dnsmasq.err", dir);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	    -1) {
		free(g);
		return err_sys("open %s", p);
	}
	g->pid = drv_netns_spawn(d, id, argv, fd);
	close(fd);
	if (g->pid == -1) {
		free(g);
		return -1;
	}
	str_lcpy(g->id, id, sizeof(g->id));
	g->t0 = now_ms();
	g->next = sd->gw_starts;
	sd->gw_starts = g;
	if (sd->base != NULL && sd->gw_ev == NULL)
		sd->gw_ev = evtimer_new(sd->base, reap_tick, sd);
	if (sd->gw_ev != NULL && !evtimer_pending(sd->gw_ev, NULL))
		evtimer_add(sd->gw_ev, &tv);
	return 0;
}

int
sd_gw_base(struct sd *sd, struct drv *d, const char *id)
{
	struct gw_settings gw;
	struct buf b = { 0 };
	char dir[400];
	int rc;

	gw_effective(NULL, &gw);
	if (gw_dir(sd, id, dir, sizeof(dir), 1) == -1)
		return -1;
	nft_text(sd, &b, id, "", NULL, 0, &gw);
	rc = b.failed ? err_nomem() : nft_load(id, dir, &b);
	buf_free(&b);
	return rc;
}

/*
 * Bring gateway node n (running, interfaces attached, n->gw.lan_if set)
 * to the settings gw (NULL: the defaults).  Idempotent: what is already
 * so is left alone, unless force (after a restart or a re-made node,
 * when the files may not match the node any more).
 */
int
sd_gw_apply(struct sd *sd, struct drv *d, struct sd_node *n,
    const struct gw_settings *gwin, int force)
{
	struct gw_settings gw;
	struct buf nft = { 0 }, dm = { 0 }, srv = { 0 },
	    opts = { 0 };
	char dir[400], conf[512], wan[VNODE_IF_MAX][IFNAMSIZ];
	size_t nwan = 0;
	pid_t pid;
	int restart, reload, rc = -1;
	double t0 = now_ms();

	gw_effective(gwin, &gw);
	if (n->gw.lan_if[0] == '\0')
		return err_set(ERR_INTERNAL, "gateway node '%s' has no LAN "
		    "interface", n->name);
	if (gw_dir(sd, n->id, dir, sizeof(dir), 1) == -1)
		return -1;
	for (size_t i = 0; i < n->spec.nifs; i++)
		if (strcmp(n->spec.ifs[i].name, n->gw.lan_if) != 0)
			str_lcpy(wan[nwan++], n->spec.ifs[i].name, IFNAMSIZ);
	nft_text(sd, &nft, n->id, n->gw.lan_if, wan, nwan, &gw);
	dnsmasq_text(&dm, n->id, dir, n->gw.lan_if, &gw);
	reload_text(&srv, &opts, &gw);
	if (nft.failed || dm.failed || srv.failed || opts.failed) {
		err_nomem();
		goto out;
	}
	/* A start still under way finishes first: its pid file counts. */
	reap(sd, n->id, 1);
	if (lan_address(n->id, n->gw.lan_if, &gw.lan) == -1)
		goto out;
	if ((force || !file_same(dir, "gw.nft", nft.data, nft.len)) &&
	    nft_load(n->id, dir, &nft) == -1)
		goto out;
	pid = dnsmasq_pid(dir, n->id);
	restart = force || pid == 0 || !file_same(dir, "dnsmasq.conf",
	    dm.data, dm.len);
	reload = !file_same(dir, "servers", srv.data, srv.len) ||
	    !file_same(dir, "dhcp-opts", opts.data, opts.len);
	if (reload && (file_put(dir, "servers", srv.data, srv.len) == -1 ||
	    file_put(dir, "dhcp-opts", opts.data, opts.len) == -1))
		goto out;
	if (restart) {
		snprintf(conf, sizeof(conf), "%s/dnsmasq.conf", dir);
		dnsmasq_stop(dir, n->id);
		if (file_put(dir, "dnsmasq.conf", dm.data, dm.len) == -1 ||
		    dnsmasq_start(sd, d, n->id, dir, conf) == -1)
			goto out;
	} else if (reload && kill(pid, SIGHUP) == -1) {
		err_sys("signal dnsmasq of gateway %s", n->id);
		goto out;
	}
	log_debug("gateway %s (%s) of subscriber '%s', stub %s, C-VLAN %u, "
	    "S-VLAN %u: LAN %s, dnsmasq %s, %.2f ms", n->name, n->id,
	    n->gw.subscriber, n->gw.stub, n->gw.c_vlan, n->gw.s_vlan,
	    n->gw.lan_if, restart ? "launched" : reload ? "reloaded" :
	    "unchanged", now_ms() - t0);
	rc = 0;
out:
	if (rc == -1)
		err_hint("gateway node '%s' (%s)", n->name, n->id);
	buf_free(&nft);
	buf_free(&dm);
	buf_free(&srv);
	buf_free(&opts);
	return rc;
}

/* Remove the run files of gateway id (its dnsmasq went with the node). */
void
sd_gw_forget(struct sd *sd, const char *id)
{
	static const char *const files[] = { "gw.nft", "dnsmasq.conf",
	    "servers", "dhcp-opts", "leases", "dnsmasq.pid", "dnsmasq.log",
	    "dnsmasq.err" };
	char dir[400], p[512];

	if (gw_dir(sd, id, dir, sizeof(dir), 0) == -1) {
		err_reset();
		return;
	}
	reap(sd, id, 1);
	dnsmasq_stop(dir, id);
	for (size_t i = 0; i < NELEM(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* The stub of gateway node name in sl, or NULL. */
const struct topo_link *
sd_gw_stub(const struct slice *sl, const char *name)
{
	for (size_t j = 0; j < sl->nstubs; j++)
		if (strcmp(sl->stubs[j].end[0].node, name) == 0)
			return &sl->stubs[j];
	return NULL;
}

/*
 * The check of a gateway node of a host slice: exactly one stub (the
 * home's tunnel), gretap or gre, without an address on its end (the
 * agent puts <gateway lan> there).  Records errors; 0 or -1.
 */
int
sd_gw_check(const struct slice *sl, const struct topo_node *nd,
    const char *where)
{
	const struct topo_link *st = NULL;
	unsigned nst = 0;

	for (size_t j = 0; j < sl->nstubs; j++)
		if (strcmp(sl->stubs[j].end[0].node, nd->name) == 0) {
			st = &sl->stubs[j];
			nst++;
		}
	if (nst != 1) {
		err_at(ERR_INVALID, where, nd->line, "gateway node '%s' has "
		    "%u stubs; a gateway has exactly one, the tunnel to its "
		    "home", nd->name, nst);
		err_hint("give the gateway one <stub> whose <peer node> is "
		    "the subscriber; its links face the VNet");
		return -1;
	}
	if (st->encap != ENCAP_GRETAP && st->encap != ENCAP_GRE)
		return err_at(ERR_UNSUPPORTED, where, st->line, "the home stub "
		    "'%s' of gateway '%s' is %s; a home tunnel is gretap (an "
		    "L2 home) or gre (an L3 home)", st->name, nd->name,
		    encap_to_string(st->encap));
	if (st->end[0].has_addr)
		return err_at(ERR_INVALID, where, st->line, "the home stub "
		    "'%s' of gateway '%s' has an address; the gateway's LAN "
		    "address comes from <gateway lan>", st->name, nd->name);
	return 0;
}

/*
 * After a restart: every running gateway node of slice s gets its
 * identity back from the slice document and its settings applied again
 * (forced: a re-made node has lost its rules and dnsmasq).  Errors are
 * logged; the node keeps running as it is.
 */
void
sd_gw_restore(struct sd *sd, struct sd_slice *s)
{
	struct slice *sl = NULL;

	for (struct sd_node *n = s->nodes; n != NULL; n = n->next) {
		const struct topo_link *st;
		ssize_t k;

		if (n->kind != NODE_GATEWAY || n->state != VNODE_ST_RUNNING ||
		    sd->drv[n->slot] == NULL)
			continue;
		if (sl == NULL && (s->doc == NULL || (sl = slice_parse(s->doc,
		    strlen(s->doc), s->name)) == NULL)) {
			log_warnx("reconcile: slice %s: document unreadable",
			    s->name);
			err_reset();
			return;
		}
		memset(&n->gw, 0, sizeof(n->gw));
		if ((st = sd_gw_stub(sl, n->name)) != NULL) {
			str_lcpy(n->gw.subscriber, st->peer_host[0] != '\0' ?
			    st->peer_host : st->peer_node,
			    sizeof(n->gw.subscriber));
			str_lcpy(n->gw.stub, st->name, sizeof(n->gw.stub));
		}
		for (size_t i = 0; i < n->spec.nifs; i++)
			if (strcmp(n->iflink[i], n->gw.stub) == 0)
				str_lcpy(n->gw.lan_if, n->spec.ifs[i].name,
				    sizeof(n->gw.lan_if));
		k = topo_node_find(sl->nodes, sl->nnodes, n->name);
		if (k >= 0) {
			n->gw.c_vlan = sl->nodes[k].gw.c_vlan;
			n->gw.s_vlan = sl->nodes[k].gw.s_vlan;
		}
		if (sd_gw_apply(sd, sd->drv[n->slot], n, k >= 0 ?
		    &sl->nodes[k].gw : NULL, 1) == -1) {
			log_warnx("reconcile: gateway %s: %s", n->id,
			    err_last()->msg);
			err_reset();
		}
	}
	slice_free(sl);
}
