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
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "manifest.h"
#include "util.h"
#include "../../substrate-agent/driver.h"
#include "../harness/harness.h"

#define HOMES_MAX	32

static struct harness hn;	/* scratch dir, daemon, prefix "gw<pid>" */
static pid_t vtun_pid;

/* One call as pipd pip1; returns the status (0: no answer). */
static int
call(const char *method, const char *path, const char *body,
    struct http_response *r)
{
	int st = hn_call(&hn, "pip1", method, path, body, r);

	ck_assert_int_ne(st, -1);	/* a client as pip1 could be made */
	return st;
}

static void
start_daemon(void)
{
	if (hn_sd_start(&hn, 0) == -1)
		ck_abort_msg("substrated did not answer in 10 s "
		    "(see %s/sd.log)", hn.dir);
}

/*
 * Start the access network's vtun with nh home tunnels (key base + i)
 * and wait up to 30 s for it to say "ready".
 */
static void
start_vtun(int nh, int base)
{
	char *argv[HOMES_MAX], args[HOMES_MAX][256], ns[64], out[128];
	char said[1024];
	FILE *fp;

	snprintf(ns, sizeof(ns), "%s-acc", hn.prefix);
	for (int i = 0; i < nh; i++) {
		snprintf(args[i], sizeof(args[i]), "name=%sh%d,encap=gretap,"
		    "local=10.%d.255.%d,remote=10.%d.255.1,key=%d,"
		    "attach=direct,node=%sp%d", hn.prefix, i, hn.net, 10 + i,
		    hn.net, base + i, hn.prefix, i);
		argv[i] = args[i];
	}
	vtun_pid = hn_vtun(&hn, ns, argv, nh);
	ck_assert_msg(vtun_pid > 0, "cannot start vtun in %s", hn.dir);
	snprintf(out, sizeof(out), "%s/vtun.pid", hn.dir);
	if ((fp = fopen(out, "w")) != NULL) {
		fprintf(fp, "%d\n", (int)vtun_pid);
		fclose(fp);
	}
	/* 30 link ends take a while on a loaded machine; 30 s at most. */
	snprintf(out, sizeof(out), "%s/vtun.out", hn.dir);
	if (hn_wait_for(out, "ready ", vtun_pid, 30000, said,
	    sizeof(said)) == 0)
		return;
	ck_abort_msg("vtun %s ready in 30 s; the end of what it said: %s",
	    hn_alive(vtun_pid) ? "not" : "ended before it was", said);
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
		hn_sh(&hn, "ip -n %s-h%d addr flush dev eth0", hn.prefix, i);
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off,
		    "LEASE=%s/lease%d ip netns exec %s-h%d busybox udhcpc -f "
		    "-q -n -t 10 -T 1 -i eth0 -s %s/dhcp.sh & ", hn.dir, i,
		    hn.prefix, i, hn.dir);
		if (off >= sizeof(cmd))
			ck_abort_msg("command too long");
	}
	snprintf(cmd + off, sizeof(cmd) - off, "wait) >%s/dhcp.log 2>&1",
	    hn.dir);
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

	snprintf(p, sizeof(p), "%s/lease%d", hn.dir, i);
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

static int
ping_from(int home, const char *to)
{
	return hn_shq(&hn, "ip netns exec %s-h%d ping -c 1 -W 1 %s", hn.prefix,
	    home, to);
}

static char *
slice_doc(const char *name, const char *body)
{
	return hn_slice_doc(&hn, name, body);
}

static void
suite_setup(void)
{
	ck_assert_int_eq(hn_init(&hn, "gw", "/tmp/vnsm-test-gw.XXXXXX"), 0);
	ck_assert_msg(access(hn.bin, X_OK) == 0, "no daemon at %s", hn.bin);
	ck_assert_msg(access(hn.vtun, X_OK) == 0, "no vtun at %s", hn.vtun);
	hn_ca(&hn);
	/* The DHCP client's script: configure eth0, note the lease. */
	ck_assert_int_eq(hn_dhcp_script(&hn), 0);
	/* Underlay: agent 10.NET.255.1, the access network behind it. */
	hn_access(&hn, 24);
	for (int i = 0; i < HOMES_MAX; i++)
		hn_sh(&hn, "ip -n %s-acc addr add 10.%d.255.%d/24 dev %sv",
		    hn.prefix, hn.net, 10 + i, hn.prefix);
	ck_assert_int_eq(hn_sd_conf(&hn, "cpu 16\nmemory 4GiB\n"
	    "interfaces 256\nreport-interval 1s\n"
	    "[pool gw]\nkind gateway\ncpu 0.05\nmemory 16MiB\ndepth 4\n"), 0);
	start_daemon();
}

static void
suite_teardown(void)
{
	{
		char p[128];
		FILE *fp;
		int v = 0;

		snprintf(p, sizeof(p), "%s/vtun.pid", hn.dir);
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
	hn_stop(hn_sd_pid(&hn), SIGTERM, 5000);
	hn_sd_clean(&hn);
	for (int i = 0; i < HOMES_MAX; i++)
		hn_shq(&hn, "ip netns del %s-h%d", hn.prefix, i);
	hn_shq(&hn, "ip netns del %s-acc", hn.prefix);
	hn_shq(&hn, "ip link del %su", hn.prefix);
	hn_fini(&hn);
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
	    hn.net, hn.net, a_from, a_to, a_dns, hn.net, hn.net, hn.net, hn.net,
	    hn.net, hn.net, 6000 + hn.net * 10, hn.net, 6000 + hn.net * 10 + 1,
	    hn.net);
	return slice_doc(name, body);
}

/* Host-side ifindex of node id's interface ifname (its alias). */
static int
host_ifindex(const char *id, const char *ifname)
{
	char cmd[256], out[256];

	snprintf(cmd, sizeof(cmd), "ip -o link | grep 'alias vnsm:%s:%s$' | "
	    "cut -d: -f1", id, ifname);
	hn_run_out(out, sizeof(out), cmd);
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

	hn_home(&hn, 0);
	hn_home(&hn, 1);
	start_vtun(2, 6000 + hn.net * 10);
	snprintf(name, sizeof(name), "%s-homes.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	doc = homes_doc(name, 100, 150, "9.9.9.9");
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	free(doc);
	m = manifest_parse(r.body, r.len, "answer");
	ck_assert_ptr_nonnull(m);
	str_lcpy(ida, hn_mf_node(m, "gA")->id, sizeof(ida));
	str_lcpy(idb, hn_mf_node(m, "gB")->id, sizeof(idb));
	ck_assert_msg(hn_mf_node(m, "gA")->pooled, "gA was not claimed from "
	    "the gateway pool");
	lan_if[0] = '\0';
	for (size_t i = 0; i < hn_mf_node(m, "gA")->nifaces; i++)
		if (strcmp(hn_mf_node(m, "gA")->ifaces[i].link, "home-a") == 0)
			str_lcpy(lan_if, hn_mf_node(m, "gA")->ifaces[i].name,
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
	snprintf(cmd, sizeof(cmd), "cat %s/run/gw/%s/leases", hn.dir, ida);
	hn_run_out(out, sizeof(out), cmd);
	ck_assert_msg(strstr(out, "192.168.10.") != NULL, "gA leases: %s",
	    out);
	/* dnsmasq runs as nobody inside the gateway. */
	snprintf(cmd, sizeof(cmd), "ps -o user= -p $(cat %s/run/gw/%s/"
	    "dnsmasq.pid)", hn.dir, ida);
	hn_run_out(out, sizeof(out), cmd);
	ck_assert_msg(strncmp(out, "nobody", 6) == 0, "dnsmasq user: %s", out);
	/* Through NAT to the VNet. */
	ck_assert_msg(ping_from(0, "192.168.10.1") == 0, "A -> its gateway");
	snprintf(ip, sizeof(ip), "10.%d.1.1", hn.net);
	ck_assert_msg(ping_from(0, ip) == 0, "A -> r");
	snprintf(ip, sizeof(ip), "10.%d.2.1", hn.net);
	ck_assert_msg(ping_from(1, ip) == 0, "B -> r");
	/* No home reaches another home, its gateway or the underlay. */
	ck_assert_msg(ping_from(0, "192.168.11.100") != 0, "A reached B");
	ck_assert_msg(ping_from(1, "192.168.10.1") != 0, "B reached gA LAN");
	snprintf(ip, sizeof(ip), "10.%d.2.2", hn.net);
	ck_assert_msg(ping_from(0, ip) != 0, "A reached gB's VNet side");
	snprintf(ip, sizeof(ip), "10.%d.255.1", hn.net);
	ck_assert_msg(ping_from(0, ip) != 0, "A reached the agent underlay");
	snprintf(ip, sizeof(ip), "10.%d.255.2", hn.net);
	ck_assert_msg(ping_from(0, ip) != 0, "A reached the access network");
	ck_assert_msg(hn_shq(&hn, "ip netns exec " VNODE_PREFIX "%s ping -c 1 "
	    "-W 1 10.%d.255.1", ida, hn.net) != 0,
	    "gA reached the agent underlay");
	/* The VNet core cannot open a connection into a home either. */
	snprintf(path, sizeof(path), "/v1/slices/%s/nodes/r/exec", name);
	ck_assert_int_eq(call("POST", path, "ping -c 1 -W 1 192.168.11.100",
	    &r), 200);
	ck_assert_msg(strstr(r.body, " 0 received") != NULL, "r reached B: "
	    "%s", r.body);
	http_response_clear(&r);
	/* The port forward: r -> gB:8080 -> home B port 80. */
	hn_sh(&hn, "ip netns exec %s-h1 sh -c 'echo hello-from-b | timeout 8 "
	    "busybox nc -l -p 80' &", hn.prefix);
	usleep(300000);
	snprintf(cmd, sizeof(cmd), "busybox nc -w 3 10.%d.2.2 8080", hn.net);
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
	    "-W 1 10.%d.1.1 > %s/ping.out 2>&1", hn.prefix, hn.net, hn.dir);
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
	snprintf(cmd, sizeof(cmd), "%s/ping.out", hn.dir);
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
	snprintf(cmd, sizeof(cmd), "cat %s/run/gw/%s/dnsmasq.pid", hn.dir, ida);
	hn_run_out(out, sizeof(out), cmd);
	dpid0 = atoi(out);
	doc = homes_doc(name, 200, 220, "1.1.1.1");
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	free(doc);
	http_response_clear(&r);
	hn_run_out(out, sizeof(out), cmd);
	dpid1 = atoi(out);
	ck_assert_int_eq(dpid0, dpid1);
	ck_assert_int_eq(kill(dpid1, 0), 0);
	snprintf(cmd, sizeof(cmd), "cat %s/run/gw/%s/dhcp-opts", hn.dir, ida);
	hn_run_out(out, sizeof(out), cmd);
	ck_assert_msg(strstr(out, "1.1.1.1") != NULL, "dhcp-opts: %s", out);
	/* Identity in the state. */
	snprintf(cmd, sizeof(cmd), "sqlite3 %s/state.db \"SELECT subscriber, "
	    "stub, key, lan_if, c_vlan, s_vlan FROM gateways WHERE id = "
	    "'%s'\"", hn.dir, ida);
	hn_run_out(out, sizeof(out), cmd);
	snprintf(ip, sizeof(ip), "alice|home-a|%d|%s|101|7", 6000 + hn.net * 10,
	    lan_if);
	ck_assert_msg(strstr(out, ip) != NULL, "state: %s (want %s)", out, ip);
	/* A home without a VLAN pair records none (0, 0). */
	snprintf(cmd, sizeof(cmd), "sqlite3 %s/state.db \"SELECT subscriber, "
	    "c_vlan, s_vlan FROM gateways WHERE id = '%s'\"", hn.dir, idb);
	hn_run_out(out, sizeof(out), cmd);
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
	snprintf(cmd, sizeof(cmd), "%s/run/gw/%s", hn.dir, ida);
	ck_assert_msg(access(cmd, F_OK) == -1, "gateway files left");
	ck_assert_msg(!hn_alive(dpid1), "dnsmasq %d outlived its gateway",
	    dpid1);
	hn_stop(vtun_pid, SIGTERM, 5000);
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
	int ok = 0, base = 7000 + hn.net * 40;

	for (int i = 0; i < N; i++) {
		char p[128];

		hn_home(&hn, i);
		snprintf(p, sizeof(p), "%s/lease%d", hn.dir, i);
		unlink(p);
	}
	start_vtun(N, base);
	t0 = now_ms();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "%s-h%d.pip1.h1", hn.prefix, i);
		snprintf(path, sizeof(path), "/v1/slices/%s", name);
		snprintf(body, sizeof(body), "<node name=\"g\" kind=\"gateway\" "
		    "cpu=\"0.05\" memory=\"16MiB\" host=\"h1\"/>\n"
		    "<stub name=\"home\" encap=\"gretap\" key=\"%d\">"
		    "<end node=\"g\"/><peer pip=\"pip1\" host=\"home%d\" "
		    "underlay=\"10.%d.255.%d\"/></stub>\n", base + i, i, hn.net,
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
		    hn.prefix, i);
		ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
		http_response_clear(&r);
	}
	hn_stop(vtun_pid, SIGTERM, 5000);
	vtun_pid = 0;
}
END_TEST

/* A gateway slice the agent must refuse, changing nothing. */
START_TEST(test_refusal)
{
	struct http_response r;
	char name[64], path[128], *doc;

	snprintf(name, sizeof(name), "%s-bad.pip1.h1", hn.prefix);
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
