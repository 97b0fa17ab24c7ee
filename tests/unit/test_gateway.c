/*
 * Virtual residential gateways end to end (needs root): the real
 * substrated ($BUILD/bin/substrated) with throwaway certificates, driven
 * as its pipd, makes gateway nodes from host slices; "homes" on the far
 * side of real gretap tunnels get their leases from them.
 *
 *   root ns (the agent's host): underlay 10.NET.255.1 on veth gwPu
 *   gwP-acc (the access network): the peer gwPv, 10.NET.255.2 and one
 *       underlay address per home (10.NET.255.10+i); one vtun (tunnels/)
 *       carries every home's gretap tunnel to the agent
 *   gwP-hI (home I): eth0, bridged by vtun into home I's tunnel; a
 *       plain DHCP client (busybox udhcpc) configures it
 *
 * Checks real outcomes: leases from the right gateway and range, pings
 * through NAT to the VNet, no path between homes or to the underlay, a
 * port forward, a DHCP range change that keeps the tunnel and the ping
 * going, a DNS change by reload, identity in the state, 30 homes at once.
 * Everything carries the run's prefix and is removed at teardown.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "http.h"
#include "manifest.h"
#include "util.h"
#include "../../substrate-agent/driver.h"

#define HOMES_MAX	32

static char dir[64];		/* scratch: certificates, config, state */
static char bin[512], vtun[512];
static char prefix[16];		/* id prefix and name prefix of this run */
static int port;
static int net;			/* second octet of this run's subnets */
static pid_t vtun_pid;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shq(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a fixed shell command (test set-up only); output discarded. */
static void
sh(const char *fmt, ...)
{
	char cmd[2048], full[2200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s >/dev/null 2>>%s/sh.err", cmd,
	    dir[0] != '\0' ? dir : "/tmp");
	if (system(full) != 0)
		fprintf(stderr, "(failed: %s)\n", cmd);
}

/* The same, quietly, returning the exit status. */
static int
shq(const char *fmt, ...)
{
	char cmd[2048], full[2100];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
	st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A command's output into out; returns its exit status. */
static int
run_out(char *out, size_t size, const char *cmd)
{
	FILE *fp = popen(cmd, "r");
	size_t n = 0;

	out[0] = '\0';
	if (fp == NULL)
		return -1;
	n = fread(out, 1, size - 1, fp);
	out[n] = '\0';
	return pclose(fp);
}

static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

static pid_t
daemon_pid(void)
{
	char p[128];
	FILE *fp;
	int pid = 0;

	snprintf(p, sizeof(p), "%s/sd.pid", dir);
	if ((fp = fopen(p, "r")) != NULL) {
		if (fscanf(fp, "%d", &pid) != 1)
			pid = 0;
		fclose(fp);
	}
	return pid;
}

/* One call as pipd pip1; returns the status (0: no answer). */
static int
call(const char *method, const char *path, const char *body,
    struct http_response *r)
{
	char ca[128], crt[128], key[128], peer[32];
	struct http_client_conf conf = { .timeout_ms = 30000 };
	struct http_client *c;
	struct http_call hc = { .peer = peer, .expect_name = "h1",
	    .expect_role = TLS_ROLE_SUBSTRATED, .method = method,
	    .path = path, .body = body, .len = body ? strlen(body) : 0 };

	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/ca/pip1.crt", dir);
	snprintf(key, sizeof(key), "%s/ca/pip1.key", dir);
	conf.tls.ca_file = ca;
	conf.tls.cert_file = crt;
	conf.tls.key_file = key;
	c = http_client_new(NULL, &conf);
	ck_assert_ptr_nonnull(c);
	snprintf(peer, sizeof(peer), "127.0.0.1:%d", port);
	memset(r, 0, sizeof(*r));
	http_call(c, &hc, r);
	err_reset();
	http_client_free(c);
	return r->status;
}

static void
start_daemon(void)
{
	char conf[128], logf[128];
	struct http_response r;

	snprintf(conf, sizeof(conf), "%s/sd.conf", dir);
	snprintf(logf, sizeof(logf), "%s/sd.log", dir);
	if (fork() == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, "substrated", "-d", "-v", "-f", conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		if (call("GET", "/v1/report", NULL, &r) == 200) {
			http_response_clear(&r);
			return;
		}
		http_response_clear(&r);
		usleep(100000);
	}
	ck_abort_msg("substrated did not answer in 10 s (see %s)", logf);
}

static void
stop_pid(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && kill(pid, 0) == 0; i++) {
		waitpid(pid, NULL, WNOHANG);
		usleep(50000);
	}
	if (kill(pid, 0) == 0)
		kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * Start the access network's vtun with nh home tunnels (key base + i)
 * and wait up to 30 s for it to say "ready"; 0, or -1 with what it said
 * in said.
 */
static int
try_vtun(int nh, int base, char *said, size_t saidsize)
{
	char *argv[HOMES_MAX + 8], args[HOMES_MAX][256], ns[64], out[128];
	char w[3][8] = { "ip", "netns", "exec" };
	int a = 0;

	snprintf(ns, sizeof(ns), "%s-acc", prefix);
	argv[a++] = w[0];
	argv[a++] = w[1];
	argv[a++] = w[2];
	argv[a++] = ns;
	argv[a++] = vtun;
	for (int i = 0; i < nh; i++) {
		snprintf(args[i], sizeof(args[i]), "name=%sh%d,encap=gretap,"
		    "local=10.%d.255.%d,remote=10.%d.255.1,key=%d,"
		    "attach=direct,node=%sp%d", prefix, i, net, 10 + i, net,
		    base + i, prefix, i);
		argv[a++] = args[i];
	}
	argv[a] = NULL;
	snprintf(out, sizeof(out), "%s/vtun.out", dir);
	if ((vtun_pid = fork()) == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execvp("ip", argv);
		_exit(127);
	}
	{
		char p[128];
		FILE *fp;

		snprintf(p, sizeof(p), "%s/vtun.pid", dir);
		if ((fp = fopen(p, "w")) != NULL) {
			fprintf(fp, "%d\n", (int)vtun_pid);
			fclose(fp);
		}
	}
	/* 30 link ends take a while on a loaded machine; 30 s at most. */
	said[0] = '\0';
	for (int t = 0; t < 300; t++) {
		FILE *fp = fopen(out, "r");
		size_t n = fp != NULL ? fread(said, 1, saidsize - 1, fp) : 0;

		if (fp != NULL)
			fclose(fp);
		said[n] = '\0';
		if (strstr(said, "ready") != NULL)
			return 0;
		usleep(100000);
	}
	return -1;
}

/*
 * vtun, the homes' tunnel ends, has been seen (twice in about twenty
 * full runs) to stall while setting up its link ends, after choosing its
 * backend; not yet understood.  It is the test's tool, not the gateway
 * under test: say so loudly and give it one more try.
 */
static void
start_vtun(int nh, int base)
{
	char said[512];

	if (try_vtun(nh, base, said, sizeof(said)) == 0)
		return;
	fprintf(stderr, "test_gateway: vtun stalled for 30 s (it said: %s); "
	    "retrying once\n", said);
	stop_pid(vtun_pid);
	vtun_pid = -1;
	if (try_vtun(nh, base, said, sizeof(said)) == 0)
		return;
	ck_abort_msg("vtun did not come up in 30 s, twice; it said: %s",
	    said);
}

/* Home i: namespace with eth0, its other end in the access network. */
static void
make_home(int i)
{
	shq("ip -n %s-acc link del %sp%d", prefix, prefix, i);
	shq("ip netns del %s-h%d", prefix, i);
	sh("ip netns add %s-h%d", prefix, i);
	sh("ip -n %s-acc link add %sp%d type veth peer name eth0 netns %s-h%d",
	    prefix, prefix, i, prefix, i);
	sh("ip -n %s-acc link set %sp%d up", prefix, prefix, i);
	sh("ip -n %s-acc link set %sp%d mtu 1400", prefix, prefix, i);
	sh("ip -n %s-h%d link set eth0 mtu 1400", prefix, i);
	sh("ip -n %s-h%d link set eth0 up", prefix, i);
	sh("ip -n %s-h%d link set lo up", prefix, i);
}

/*
 * Run the plain DHCP client in homes [from, to) at once (bounded: 10
 * discovers, 1 s apart); each writes "IP SERVERID" to DIR/leaseI.
 */
static void
dhcp_homes(int from, int to)
{
	char cmd[16384];
	size_t off = 1;

	cmd[0] = '(';
	for (int i = from; i < to; i++) {
		sh("ip -n %s-h%d addr flush dev eth0", prefix, i);
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off,
		    "LEASE=%s/lease%d ip netns exec %s-h%d busybox udhcpc -f "
		    "-q -n -t 10 -T 1 -i eth0 -s %s/dhcp.sh & ", dir, i,
		    prefix, i, dir);
		if (off >= sizeof(cmd))
			ck_abort_msg("command too long");
	}
	snprintf(cmd + off, sizeof(cmd) - off, "wait) >%s/dhcp.log 2>&1", dir);
	if (system(cmd) == -1)
		ck_abort_msg("cannot run the DHCP clients");
}

/* Home i's lease: address and server (0 if none). */
static int
lease_of(int i, char *ip, char *server, size_t size)
{
	char p[128], a[64], s[64];
	FILE *fp;
	int ok = 0;

	snprintf(p, sizeof(p), "%s/lease%d", dir, i);
	if ((fp = fopen(p, "r")) == NULL)
		return 0;
	if (fscanf(fp, "%63s %63s", a, s) == 2) {
		str_lcpy(ip, a, size);
		str_lcpy(server, s, size);
		ok = 1;
	}
	fclose(fp);
	return ok;
}

/* Last octet of a.b.c.d, -1 if it does not start with pre. */
static int
octet4(const char *ip, const char *pre)
{
	if (strncmp(ip, pre, strlen(pre)) != 0)
		return -1;
	return atoi(ip + strlen(pre));
}

/* Is pid a live process (not gone, not a zombie)? */
static int
alive(int pid)
{
	char p[64], st[512];
	FILE *fp;
	int ok = 0;

	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	if ((fp = fopen(p, "r")) == NULL)
		return 0;
	if (fgets(st, sizeof(st), fp) != NULL && strrchr(st, ')') != NULL)
		ok = strrchr(st, ')')[2] != 'Z';
	fclose(fp);
	return ok;
}

static int
ping_from(int home, const char *to)
{
	return shq("ip netns exec %s-h%d ping -c 1 -W 1 %s", prefix, home, to);
}

static char *
slice_doc(const char *name, const char *body)
{
	char *doc;

	ck_assert_int_gt(asprintf(&doc, "<?xml version=\"1.0\"?>\n<slice "
	    "xmlns=\"urn:vnsm:1\" name=\"%s\" vnet=\"v%s\" pip=\"pip1\" "
	    "mapping=\"vnp\">\n%s</slice>\n", name, prefix, body), 0);
	return doc;
}

static const struct mf_node *
mf_node(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nnodes; i++)
		if (strcmp(m->nodes[i].name, name) == 0)
			return &m->nodes[i];
	ck_abort_msg("no node %s in the manifest", name);
	return NULL;
}

static void
suite_setup(void)
{
	char self[512], conf[256], *d;
	FILE *fp;
	ssize_t n;

	snprintf(prefix, sizeof(prefix), "gw%d", (int)getpid() % 100000);
	net = 100 + (int)getpid() % 100;
	str_lcpy(dir, "/tmp/vnsm-test-gw.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	chmod(dir, 0755);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	d = dirname(dirname(self));
	snprintf(bin, sizeof(bin), "%s/bin/substrated", d);
	snprintf(vtun, sizeof(vtun), "%s/tools/vtun", d);
	ck_assert_msg(access(bin, X_OK) == 0, "no daemon at %s", bin);
	ck_assert_msg(access(vtun, X_OK) == 0, "no vtun at %s", vtun);
	sh("sh scripts/vnsm-ca init %s/ca", dir);
	sh("sh scripts/vnsm-ca issue %s/ca --role substrated --name h1 "
	    "--san IP:127.0.0.1", dir);
	sh("sh scripts/vnsm-ca issue %s/ca --role pipd --name pip1", dir);
	/* The DHCP client's script: configure eth0, note the lease. */
	snprintf(conf, sizeof(conf), "%s/dhcp.sh", dir);
	fp = fopen(conf, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "#!/bin/sh\ncase \"$1\" in bound|renew)\n"
	    "\tip addr flush dev \"$interface\"\n"
	    "\tip addr add \"$ip/$mask\" dev \"$interface\"\n"
	    "\tip route replace default via \"$router\" dev \"$interface\"\n"
	    "\techo \"$ip $serverid\" > \"$LEASE\" ;;\nesac\nexit 0\n");
	fclose(fp);
	chmod(conf, 0755);
	/* Underlay: agent 10.NET.255.1, the access network behind it. */
	sh("ip netns add %s-acc", prefix);
	sh("ip link add %su type veth peer name %sv netns %s-acc", prefix,
	    prefix, prefix);
	sh("ip addr add 10.%d.255.1/24 dev %su", net, prefix);
	sh("ip link set %su up", prefix);
	sh("ip -n %s-acc addr add 10.%d.255.2/24 dev %sv", prefix, net,
	    prefix);
	for (int i = 0; i < HOMES_MAX; i++)
		sh("ip -n %s-acc addr add 10.%d.255.%d/24 dev %sv", prefix,
		    net, 10 + i, prefix);
	sh("ip -n %s-acc link set %sv up", prefix, prefix);
	sh("ip -n %s-acc link set lo up", prefix);
	port = free_port();
	snprintf(conf, sizeof(conf), "%s/sd.conf", dir);
	fp = fopen(conf, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "listen 127.0.0.1:%d\nca %s/ca/ca.crt\ncert %s/ca/h1.crt\n"
	    "key %s/ca/h1.key\npipd pip1\nhost h1\npip pip1\ncpu 16\n"
	    "memory 4GiB\ninterfaces 256\nstate %s/state.db\n"
	    "pidfile %s/sd.pid\nrun-dir %s/run\nid-prefix %s\n"
	    "underlay 10.%d.255.1\ntunnel-backend auto\n"
	    "report-interval 1s\n"
	    "[pool gw]\nkind gateway\ncpu 0.05\nmemory 16MiB\ndepth 4\n",
	    port, dir, dir, dir, dir, dir, dir, prefix, net);
	fclose(fp);
	start_daemon();
}

static void
suite_teardown(void)
{
	char rundir[128], out[16384];
	struct drv_conf dc = { .rundir = rundir };
	struct drv *drv;
	pid_t pid = daemon_pid();

	{
		char p[128];
		FILE *fp;
		int v = 0;

		snprintf(p, sizeof(p), "%s/vtun.pid", dir);
		if ((fp = fopen(p, "r")) != NULL) {
			if (fscanf(fp, "%d", &v) == 1 && v > 0 &&
			    kill(v, 0) == 0) {
				kill(v, SIGTERM);
				usleep(500000);
				kill(v, SIGKILL);
			}
			fclose(fp);
		}
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		for (int i = 0; i < 100 && kill(pid, 0) == 0; i++) {
			waitpid(pid, NULL, WNOHANG);
			usleep(50000);
		}
		if (kill(pid, 0) == 0)
			kill(pid, SIGKILL);
		waitpid(pid, NULL, WNOHANG);
	}
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	run_out(out, sizeof(out), "ls /run/netns");
	if ((drv = drv_open("netns", &dc)) != NULL) {
		char pre[32], *save = NULL;

		snprintf(pre, sizeof(pre), VNODE_PREFIX "%s", prefix);
		for (char *t = strtok_r(out, "\n", &save); t != NULL;
		    t = strtok_r(NULL, "\n", &save))
			if (strncmp(t, pre, strlen(pre)) == 0)
				drv->ops->delete(drv, t + 3);
		drv_close(drv);
	}
	err_reset();
	sh("for l in $(ip -o link show type bridge | grep 'alias vnsm:link:%s' "
	    "| cut -d: -f2 | cut -d@ -f1); do ip link del $l; done", prefix);
	for (int i = 0; i < HOMES_MAX; i++)
		shq("ip netns del %s-h%d", prefix, i);
	shq("ip netns del %s-acc", prefix);
	shq("ip link del %su", prefix);
	if (getenv("KEEP") == NULL)
		sh("rm -rf %s", dir);
}

/* The slice of homes A (0) and B (1): core router r, gateways gA, gB. */
static char *
homes_doc(const char *name, int a_from, int a_to, const char *a_dns)
{
	char body[4096];

	snprintf(body, sizeof(body),
	    "<node name=\"r\" cpu=\"0.1\" memory=\"16MiB\" host=\"h1\" "
	    "pool=\"never\">\n"
	    " <route to=\"192.168.10.0/24\" via=\"10.%d.1.2\"/>\n"
	    " <route to=\"192.168.11.0/24\" via=\"10.%d.2.2\"/>\n</node>\n"
	    "<node name=\"gA\" kind=\"gateway\" cpu=\"0.05\" memory=\"16MiB\" "
	    "host=\"h1\">\n"
	    " <gateway lan=\"192.168.10.1/24\" dhcp-from=\"192.168.10.%d\" "
	    "dhcp-to=\"192.168.10.%d\" dns=\"%s\" c-vlan=\"101\" "
	    "s-vlan=\"7\"/>\n"
	    " <route to=\"0.0.0.0/0\" via=\"10.%d.1.1\"/>\n</node>\n"
	    "<node name=\"gB\" kind=\"gateway\" cpu=\"0.05\" memory=\"16MiB\" "
	    "host=\"h1\">\n"
	    " <gateway lan=\"192.168.11.1/24\" dhcp-from=\"192.168.11.100\" "
	    "dhcp-to=\"192.168.11.100\">\n"
	    "  <forward port=\"8080\" to=\"192.168.11.100\" to-port=\"80\"/>\n"
	    " </gateway>\n"
	    " <route to=\"0.0.0.0/0\" via=\"10.%d.2.1\"/>\n</node>\n"
	    "<link name=\"r-gA\"><end node=\"r\" address=\"10.%d.1.1/24\"/>"
	    "<end node=\"gA\" address=\"10.%d.1.2/24\"/></link>\n"
	    "<link name=\"r-gB\"><end node=\"r\" address=\"10.%d.2.1/24\"/>"
	    "<end node=\"gB\" address=\"10.%d.2.2/24\"/></link>\n"
	    "<stub name=\"home-a\" encap=\"gretap\" key=\"%d\"><end node=\"gA\"/>"
	    "<peer pip=\"pip1\" host=\"alice\" underlay=\"10.%d.255.10\"/>"
	    "</stub>\n"
	    "<stub name=\"home-b\" encap=\"gretap\" key=\"%d\"><end node=\"gB\"/>"
	    "<peer pip=\"pip1\" host=\"bob\" underlay=\"10.%d.255.11\"/>"
	    "</stub>\n",
	    net, net, a_from, a_to, a_dns, net, net, net, net, net, net,
	    6000 + net * 10, net, 6000 + net * 10 + 1, net);
	return slice_doc(name, body);
}

/* Host-side ifindex of node id's interface ifname (its alias). */
static int
host_ifindex(const char *id, const char *ifname)
{
	char cmd[256], out[256];

	snprintf(cmd, sizeof(cmd), "ip -o link | grep 'alias vnsm:%s:%s$' | "
	    "cut -d: -f1", id, ifname);
	run_out(out, sizeof(out), cmd);
	return atoi(out);
}

START_TEST(test_two_homes)
{
	struct http_response r;
	struct manifest *m;
	char name[64], path[128], ida[VNODE_ID_MAX], idb[VNODE_ID_MAX];
	char ip[64], srv[64], cmd[512], out[8192], lan_if[IFNAMSIZ], *doc;
	struct stat sa, sb;
	int k, ifx, received = 0, dpid0, dpid1;
	pid_t ping;

	make_home(0);
	make_home(1);
	start_vtun(2, 6000 + net * 10);
	snprintf(name, sizeof(name), "%s-homes.pip1.h1", prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	doc = homes_doc(name, 100, 150, "9.9.9.9");
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	free(doc);
	m = manifest_parse(r.body, r.len, "answer");
	ck_assert_ptr_nonnull(m);
	str_lcpy(ida, mf_node(m, "gA")->id, sizeof(ida));
	str_lcpy(idb, mf_node(m, "gB")->id, sizeof(idb));
	ck_assert_msg(mf_node(m, "gA")->pooled, "gA was not claimed from "
	    "the gateway pool");
	lan_if[0] = '\0';
	for (size_t i = 0; i < mf_node(m, "gA")->nifaces; i++)
		if (strcmp(mf_node(m, "gA")->ifaces[i].link, "home-a") == 0)
			str_lcpy(lan_if, mf_node(m, "gA")->ifaces[i].name,
			    sizeof(lan_if));
	ck_assert_str_ne(lan_if, "");
	manifest_free(m);
	http_response_clear(&r);
	/* Leases from each home's own gateway, in its range. */
	dhcp_homes(0, 2);
	ck_assert_msg(lease_of(0, ip, srv, sizeof(ip)), "home A got no lease");
	k = octet4(ip, "192.168.10.");
	ck_assert_msg(k >= 100 && k <= 150, "home A: %s", ip);
	ck_assert_str_eq(srv, "192.168.10.1");
	ck_assert_msg(lease_of(1, ip, srv, sizeof(ip)), "home B got no lease");
	ck_assert_str_eq(ip, "192.168.11.100");
	ck_assert_str_eq(srv, "192.168.11.1");
	snprintf(cmd, sizeof(cmd), "cat %s/run/gw/%s/leases", dir, ida);
	run_out(out, sizeof(out), cmd);
	ck_assert_msg(strstr(out, "192.168.10.") != NULL, "gA leases: %s",
	    out);
	/* dnsmasq runs as nobody inside the gateway. */
	snprintf(cmd, sizeof(cmd), "ps -o user= -p $(cat %s/run/gw/%s/"
	    "dnsmasq.pid)", dir, ida);
	run_out(out, sizeof(out), cmd);
	ck_assert_msg(strncmp(out, "nobody", 6) == 0, "dnsmasq user: %s", out);
	/* Through NAT to the VNet. */
	ck_assert_msg(ping_from(0, "192.168.10.1") == 0, "A -> its gateway");
	snprintf(ip, sizeof(ip), "10.%d.1.1", net);
	ck_assert_msg(ping_from(0, ip) == 0, "A -> r");
	snprintf(ip, sizeof(ip), "10.%d.2.1", net);
	ck_assert_msg(ping_from(1, ip) == 0, "B -> r");
	/* No home reaches another home, its gateway or the underlay. */
	ck_assert_msg(ping_from(0, "192.168.11.100") != 0, "A reached B");
	ck_assert_msg(ping_from(1, "192.168.10.1") != 0, "B reached gA LAN");
	snprintf(ip, sizeof(ip), "10.%d.2.2", net);
	ck_assert_msg(ping_from(0, ip) != 0, "A reached gB's VNet side");
	snprintf(ip, sizeof(ip), "10.%d.255.1", net);
	ck_assert_msg(ping_from(0, ip) != 0, "A reached the agent underlay");
	snprintf(ip, sizeof(ip), "10.%d.255.2", net);
	ck_assert_msg(ping_from(0, ip) != 0, "A reached the access network");
	ck_assert_msg(shq("ip netns exec " VNODE_PREFIX "%s ping -c 1 -W 1 "
	    "10.%d.255.1", ida, net) != 0, "gA reached the agent underlay");
	/* The VNet core cannot open a connection into a home either. */
	snprintf(path, sizeof(path), "/v1/slices/%s/nodes/r/exec", name);
	ck_assert_int_eq(call("POST", path, "ping -c 1 -W 1 192.168.11.100",
	    &r), 200);
	ck_assert_msg(strstr(r.body, " 0 received") != NULL, "r reached B: "
	    "%s", r.body);
	http_response_clear(&r);
	/* The port forward: r -> gB:8080 -> home B port 80. */
	sh("ip netns exec %s-h1 sh -c 'echo hello-from-b | timeout 8 busybox "
	    "nc -l -p 80' &", prefix);
	usleep(300000);
	snprintf(cmd, sizeof(cmd), "busybox nc -w 3 10.%d.2.2 8080", net);
	ck_assert_int_eq(call("POST", path, cmd, &r), 200);
	ck_assert_msg(strstr(r.body, "hello-from-b") != NULL, "forward: %s",
	    r.body);
	http_response_clear(&r);
	/* A new DHCP range while A pings r: the tunnel end stays. */
	ifx = host_ifindex(ida, lan_if);
	ck_assert_int_gt(ifx, 0);
	snprintf(cmd, sizeof(cmd), "/run/netns/" VNODE_PREFIX "%s", ida);
	ck_assert_int_eq(stat(cmd, &sa), 0);
	snprintf(cmd, sizeof(cmd), "ip netns exec %s-h0 ping -i 0.05 -c 80 "
	    "-W 1 10.%d.1.1 > %s/ping.out 2>&1", prefix, net, dir);
	if ((ping = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	usleep(1000000);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	doc = homes_doc(name, 200, 220, "9.9.9.9");
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	free(doc);
	http_response_clear(&r);
	waitpid(ping, NULL, 0);
	snprintf(cmd, sizeof(cmd), "%s/ping.out", dir);
	{
		FILE *fp = fopen(cmd, "r");
		char line[256];

		while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
			if (strstr(line, "received") != NULL)
				sscanf(strstr(line, ", ") + 2, "%d", &received);
		if (fp != NULL)
			fclose(fp);
	}
	fprintf(stderr, "gateway: ping across the range change: %d/80\n",
	    received);
	ck_assert_msg(received >= 75, "ping lost %d of 80", 80 - received);
	ck_assert_int_eq(host_ifindex(ida, lan_if), ifx);
	snprintf(cmd, sizeof(cmd), "/run/netns/" VNODE_PREFIX "%s", ida);
	ck_assert_int_eq(stat(cmd, &sb), 0);
	ck_assert_int_eq(sa.st_ino, sb.st_ino);
	dhcp_homes(0, 1);
	ck_assert_msg(lease_of(0, ip, srv, sizeof(ip)), "home A: no new lease");
	k = octet4(ip, "192.168.10.");
	ck_assert_msg(k >= 200 && k <= 220, "home A after the change: %s", ip);
	ck_assert_msg(ping_from(0, "192.168.10.1") == 0, "A -> gateway after");
	/* A new DNS server only: dnsmasq reloads (same process). */
	snprintf(cmd, sizeof(cmd), "cat %s/run/gw/%s/dnsmasq.pid", dir, ida);
	run_out(out, sizeof(out), cmd);
	dpid0 = atoi(out);
	doc = homes_doc(name, 200, 220, "1.1.1.1");
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	free(doc);
	http_response_clear(&r);
	run_out(out, sizeof(out), cmd);
	dpid1 = atoi(out);
	ck_assert_int_eq(dpid0, dpid1);
	ck_assert_int_eq(kill(dpid1, 0), 0);
	snprintf(cmd, sizeof(cmd), "cat %s/run/gw/%s/dhcp-opts", dir, ida);
	run_out(out, sizeof(out), cmd);
	ck_assert_msg(strstr(out, "1.1.1.1") != NULL, "dhcp-opts: %s", out);
	/* Identity in the state. */
	snprintf(cmd, sizeof(cmd), "sqlite3 %s/state.db \"SELECT subscriber, "
	    "stub, key, lan_if, c_vlan, s_vlan FROM gateways WHERE id = "
	    "'%s'\"", dir, ida);
	run_out(out, sizeof(out), cmd);
	snprintf(ip, sizeof(ip), "alice|home-a|%d|%s|101|7", 6000 + net * 10,
	    lan_if);
	ck_assert_msg(strstr(out, ip) != NULL, "state: %s (want %s)", out, ip);
	/* A home without a VLAN pair records none (0, 0). */
	snprintf(cmd, sizeof(cmd), "sqlite3 %s/state.db \"SELECT subscriber, "
	    "c_vlan, s_vlan FROM gateways WHERE id = '%s'\"", dir, idb);
	run_out(out, sizeof(out), cmd);
	ck_assert_msg(strstr(out, "bob|0|0") != NULL, "state of B: %s", out);
	/* The pool refilled and is reported. */
	for (int t = 0; t < 100; t++) {
		ck_assert_int_eq(call("GET", "/v1/report", NULL, &r), 200);
		if (strstr(r.body, "kind=\"gateway\"") != NULL &&
		    strstr(r.body, "depth=\"4\"") != NULL)
			break;
		http_response_clear(&r);
		usleep(100000);
	}
	ck_assert_msg(r.body != NULL && strstr(r.body, "depth=\"4\"") != NULL,
	    "gateway pool not refilled");
	http_response_clear(&r);
	ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
	http_response_clear(&r);
	snprintf(cmd, sizeof(cmd), "%s/run/gw/%s", dir, ida);
	ck_assert_msg(access(cmd, F_OK) == -1, "gateway files left");
	ck_assert_msg(!alive(dpid1), "dnsmasq %d outlived its gateway", dpid1);
	stop_pid(vtun_pid);
	vtun_pid = 0;
	(void)idb;
}
END_TEST

/* 30 homes, one gateway slice each (default settings), leases at once. */
START_TEST(test_thirty)
{
	enum { N = 30 };
	struct http_response r;
	char name[64], path[128], body[1024], ip[64], srv[64], *doc;
	double t0;
	int ok = 0, base = 7000 + net * 40;

	for (int i = 0; i < N; i++) {
		char p[128];

		make_home(i);
		snprintf(p, sizeof(p), "%s/lease%d", dir, i);
		unlink(p);
	}
	start_vtun(N, base);
	t0 = now_ms();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "%s-h%d.pip1.h1", prefix, i);
		snprintf(path, sizeof(path), "/v1/slices/%s", name);
		snprintf(body, sizeof(body), "<node name=\"g\" kind=\"gateway\" "
		    "cpu=\"0.05\" memory=\"16MiB\" host=\"h1\"/>\n"
		    "<stub name=\"home\" encap=\"gretap\" key=\"%d\">"
		    "<end node=\"g\"/><peer pip=\"pip1\" host=\"home%d\" "
		    "underlay=\"10.%d.255.%d\"/></stub>\n", base + i, i, net,
		    10 + i);
		doc = slice_doc(name, body);
		ck_assert_int_eq(call("PUT", path, doc, &r), 200);
		free(doc);
		http_response_clear(&r);
	}
	fprintf(stderr, "gateway: %d gateway slices in %.0f ms\n", N,
	    now_ms() - t0);
	t0 = now_ms();
	dhcp_homes(0, N);
	for (int i = 0; i < N; i++) {
		if (!lease_of(i, ip, srv, sizeof(ip)))
			continue;
		int k = octet4(ip, "192.168.1.");

		if (k >= 100 && k <= 199 && strcmp(srv, "192.168.1.1") == 0)
			ok++;
	}
	fprintf(stderr, "gateway: %d/%d homes leased in %.0f ms\n", ok, N,
	    now_ms() - t0);
	ck_assert_int_eq(ok, N);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/v1/slices/%s-h%d.pip1.h1",
		    prefix, i);
		ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
		http_response_clear(&r);
	}
	stop_pid(vtun_pid);
	vtun_pid = 0;
}
END_TEST

/* A gateway slice the agent must refuse, changing nothing. */
START_TEST(test_refusal)
{
	struct http_response r;
	char name[64], path[128], *doc;

	snprintf(name, sizeof(name), "%s-bad.pip1.h1", prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	doc = slice_doc(name, "<node name=\"g\" kind=\"gateway\" cpu=\"0.05\" "
	    "memory=\"16MiB\" host=\"h1\"/>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 400);
	ck_assert_msg(strstr(r.body, "has 0 stubs") != NULL, "%s", r.body);
	http_response_clear(&r);
	free(doc);
	doc = slice_doc(name, "<node name=\"g\" kind=\"gateway\" cpu=\"0.05\" "
	    "memory=\"16MiB\" host=\"h1\"/>\n<stub name=\"s\" encap=\"gretap\" "
	    "key=\"9\"><end node=\"g\" address=\"192.168.1.1/24\"/>"
	    "<peer pip=\"pip1\" host=\"x\"/></stub>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 400);
	ck_assert_msg(strstr(r.body, "has an address") != NULL, "%s", r.body);
	http_response_clear(&r);
	free(doc);
	ck_assert_int_eq(call("GET", path, NULL, &r), 404);
	http_response_clear(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("gateway");
	TCase *tc = tcase_create("homes");
	SRunner *sr;
	int nf;

	if (geteuid() != 0) {
		fprintf(stderr, "test_gateway needs root; skipped\n");
		return 0;
	}
	if (access("/usr/sbin/dnsmasq", X_OK) != 0 ||
	    access("/usr/sbin/nft", X_OK) != 0 ||
	    access("/bin/busybox", X_OK) != 0) {
		fprintf(stderr, "test_gateway needs dnsmasq, nftables and "
		    "busybox (make deps); skipped\n");
		return 0;
	}
	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_refusal);
	tcase_add_test(tc, test_two_homes);
	tcase_add_test(tc, test_thirty);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
