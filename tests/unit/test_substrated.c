/*
 * substrated end to end (needs root): the real daemon ($BUILD/bin/
 * substrated, next to this test's directory) with throwaway certificates
 * on 127.0.0.1, a free port, its own state, run dir and id prefix
 * ("st<pid>"), driven through lib/http.h's client as its pipd.  Checks
 * real outcomes: namespaces, addresses, a ping across a local link, a
 * tunnel end on a stub, a stub bridged to its node (attach="bridge"),
 * pool claims and refill, refusals that change nothing, and a kill -9
 * in the middle of making nodes.
 *
 * Everything the run makes carries its prefix and is removed by the
 * suite's teardown, even when a check fails.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "http.h"
#include "manifest.h"
#include "report.h"
#include "../../substrate-agent/driver.h"

#include "../harness/harness.h"

static struct harness hn;	/* scratch dir, daemon, id prefix "st<pid>" */
static char uif[24], upeer[24];	/* underlay veth: host side, peer side */

/* One call as who; returns the status (0: no answer). */
static int
call_as(const char *who, const char *method, const char *path,
    const char *body, struct http_response *r)
{
	int st = hn_call(&hn, who, method, path, body, r);

	ck_assert_int_ne(st, -1);	/* a client as who could be made */
	return st;
}

static int
call(const char *method, const char *path, const char *body,
    struct http_response *r)
{
	return call_as("pip1", method, path, body, r);
}

/*
 * Start the daemon and wait (bounded) until it answers.  With private,
 * in a mount namespace of its own (slave of ours), as "ip netns exec"
 * starts a program: the namespaces of its nodes are mounted there only.
 */
static void
start_daemon_how(int private)
{
	if (hn_sd_start(&hn, private) == -1)
		ck_abort_msg("substrated did not answer in 10 s "
		    "(see %s/sd.log)", hn.dir);
}

static void
start_daemon(void)
{
	start_daemon_how(0);
}

static void
kill_daemon(int sig)
{
	hn_stop(hn_sd_pid(&hn), sig, 5000);
}

static int
ns_exists(const char *id)
{
	char p[128];

	snprintf(p, sizeof(p), "/run/netns/" VNODE_PREFIX "%s", id);
	return access(p, F_OK) == 0;
}

static ino_t
ns_ino(const char *id)
{
	char p[128];
	struct stat sb;

	snprintf(p, sizeof(p), "/run/netns/" VNODE_PREFIX "%s", id);
	return stat(p, &sb) == 0 ? sb.st_ino : 0;
}

/* Namespaces of this run: count, and their ids into ids (if not NULL). */
static int
our_ns(char (*ids)[VNODE_ID_MAX], int max)
{
	char pre[32];
	struct dirent *de;
	DIR *d = opendir("/run/netns");
	int n = 0;

	snprintf(pre, sizeof(pre), VNODE_PREFIX "%s", hn.prefix);
	while (d != NULL && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, pre, strlen(pre)) == 0) {
			if (ids != NULL && n < max)
				str_lcpy(ids[n], de->d_name + 3, VNODE_ID_MAX);
			n++;
		}
	if (d != NULL)
		closedir(d);
	return n;
}

static struct manifest *
mf(const struct http_response *r)
{
	struct manifest *m = manifest_parse(r->body, r->len, "answer");

	if (m == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(m);
	return m;
}

/* Pool depth from the report. */
static int
pool_depth(void)
{
	struct http_response r;
	struct report *rp;
	int d = -1;

	if (call("GET", "/v1/report", NULL, &r) == 200 &&
	    (rp = report_parse(r.body, r.len, "report")) != NULL) {
		if (rp->npools > 0)
			d = (int)rp->pools[0].depth;
		report_free(rp);
	}
	http_response_clear(&r);
	return d;
}

static int
wait_depth(int want, int ms)
{
	for (int t = 0; t < ms; t += 50) {
		if (pool_depth() == want)
			return 1;
		usleep(50000);
	}
	return 0;
}

/* A host slice named NAME with nodes given as XML lines. */
static char *
slice_doc(const char *name, const char *body)
{
	return hn_slice_doc(&hn, name, body);
}

/*
 * The far end of a stub: a vtun in the access namespace.  Tests run in
 * children of the process that runs the fixture (CK_FORK), so its pid
 * goes to a file, for the next test and the teardown to stop it even
 * when the test that started it failed.
 */
static void
vtun_pidfile(char *p, size_t size)
{
	snprintf(p, size, "%s/vtun.pid", hn.dir);
}

static void
vtun_stop(void)
{
	char p[128];
	FILE *fp;
	int pid;

	vtun_pidfile(p, sizeof(p));
	if ((fp = fopen(p, "r")) == NULL)
		return;
	if (fscanf(fp, "%d", &pid) == 1 && pid > 0)
		hn_stop(pid, SIGTERM, 3000);
	fclose(fp);
	unlink(p);
}

/* vtun with one link end arg in the access namespace, up and ready. */
static void
vtun_start(const char *arg)
{
	char p[128], out[128], ns[32], said[512], buf[256], *argp = buf;
	FILE *fp;
	pid_t pid;

	vtun_stop();
	str_lcpy(buf, arg, sizeof(buf));
	snprintf(ns, sizeof(ns), "%sa", hn.prefix);
	snprintf(out, sizeof(out), "%s/vtun.out", hn.dir);
	pid = hn_vtun(&hn, ns, &argp, 1);
	ck_assert_int_gt(pid, 0);
	vtun_pidfile(p, sizeof(p));
	if ((fp = fopen(p, "w")) != NULL) {
		fprintf(fp, "%d\n", (int)pid);
		fclose(fp);
	}
	ck_assert_msg(hn_wait_for(out, "ready ", pid, 10000, said,
	    sizeof(said)) == 0, "vtun did not come up (see %s)", out);
}

/*
 * The access network, once: namespace NSa holds the underlay's far end
 * (10.NET.255.2) and NSq, whose veth peer is eth0 (10.NET.5.2/24) of the
 * peer namespace NSp, the node behind the far tunnel end.
 */
static void
access_up(void)
{
	if (hn_shq(&hn, "ip link show %s", upeer) != 0)
		return;		/* moved already: made by an earlier test */
	hn_sh(&hn, "ip netns add %sa", hn.prefix);
	hn_sh(&hn, "ip netns add %sp", hn.prefix);
	hn_sh(&hn, "ip link set %s netns %sa", upeer, hn.prefix);
	hn_sh(&hn, "ip -n %sa addr add 10.%d.255.2/30 dev %s", hn.prefix,
	    hn.net, upeer);
	hn_sh(&hn, "ip -n %sa link set %s up", hn.prefix, upeer);
	hn_sh(&hn, "ip -n %sa link set lo up", hn.prefix);
	hn_sh(&hn, "ip link add %sq netns %sa type veth peer name eth0 "
	    "netns %sp", hn.prefix, hn.prefix, hn.prefix);
	hn_sh(&hn, "ip -n %sa link set %sq up", hn.prefix, hn.prefix);
	hn_sh(&hn, "ip -n %sp addr add 10.%d.5.2/24 dev eth0", hn.prefix,
	    hn.net);
	hn_sh(&hn, "ip -n %sp link set eth0 mtu 1400 up", hn.prefix);
}

static void
suite_setup(void)
{
	ck_assert_int_eq(hn_init(&hn, "st", "/tmp/vnsm-test-sd.XXXXXX"), 0);
	hn.timeout_ms = 20000;
	ck_assert_msg(access(hn.bin, X_OK) == 0, "no daemon at %s", hn.bin);
	hn_ca(&hn);
	hn_ca_issue(&hn, "pipd", "pip2");
	hn_ca_issue(&hn, "vno", "alice");
	/* The underlay: a veth pair, this end 10.NET.255.1, the peer .2 */
	snprintf(uif, sizeof(uif), "%su", hn.prefix);
	snprintf(upeer, sizeof(upeer), "%sv", hn.prefix);
	hn_sh(&hn, "ip link add %s type veth peer name %s", uif, upeer);
	hn_sh(&hn, "ip addr add 10.%d.255.1/30 dev %s", hn.net, uif);
	hn_sh(&hn, "ip link set %s up", uif);
	hn_sh(&hn, "ip link set %s up", upeer);
	ck_assert_int_eq(hn_sd_conf(&hn, "cpu 8\nmemory 2GiB\ninterfaces 64\n"
	    "report-interval 1s\n"
	    "[pool small]\nkind netns\ncpu 0.25\nmemory 16MiB\ndepth 2\n"), 0);
	start_daemon();
}

static void
suite_teardown(void)
{
	kill_daemon(SIGTERM);
	vtun_stop();
	hn_sd_clean(&hn);
	hn_sh(&hn, "ip link del %s", uif);
	hn_sh(&hn, "ip netns del %sa", hn.prefix);
	hn_sh(&hn, "ip netns del %sp", hn.prefix);
	hn_fini(&hn);
}


/* Two nodes and a local link: namespaces, addresses, ping; then a diff. */
START_TEST(test_apply_and_diff)
{
	struct http_response r;
	struct manifest *m;
	char name[64], lines[1024], path[128], ida[VNODE_ID_MAX],
	    idb[VNODE_ID_MAX], out[4096], cmd[256], *doc;
	ino_t ino_a;

	snprintf(name, sizeof(name), "%s-a.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	snprintf(lines, sizeof(lines),
	    "<node name=\"a\" cpu=\"0.5\" memory=\"32MiB\" host=\"h1\" "
	    "pool=\"never\"/>\n"
	    "<node name=\"b\" cpu=\"0.5\" memory=\"32MiB\" host=\"h1\" "
	    "pool=\"never\"/>\n"
	    "<link name=\"a-b\"><end node=\"a\" address=\"10.%d.1.1/24\"/>"
	    "<end node=\"b\" address=\"10.%d.1.2/24\"/></link>\n", hn.net,
	    hn.net);
	doc = slice_doc(name, lines);
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	m = mf(&r);
	ck_assert_int_eq(m->nnodes, 2);
	str_lcpy(ida, hn_mf_node(m, "a")->id, sizeof(ida));
	str_lcpy(idb, hn_mf_node(m, "b")->id, sizeof(idb));
	ck_assert_str_eq(hn_mf_node(m, "a")->ifaces[0].name, "eth0");
	ck_assert_int_eq(m->nsteps, 2);
	manifest_free(m);
	http_response_clear(&r);
	ck_assert(ns_exists(ida));
	ck_assert(ns_exists(idb));
	snprintf(cmd, sizeof(cmd), "ip -n " VNODE_PREFIX "%s -4 -o addr show "
	    "dev eth0", idb);
	hn_run_out(out, sizeof(out), cmd);
	snprintf(cmd, sizeof(cmd), "10.%d.1.2/24", hn.net);
	ck_assert_msg(strstr(out, cmd) != NULL, "b has no %s: %s", cmd, out);
	/* A ping from a to b, through the agent's exec. */
	snprintf(cmd, sizeof(cmd), "ping -c 1 -W 2 10.%d.1.2", hn.net);
	snprintf(path, sizeof(path), "/v1/slices/%s/nodes/a/exec", name);
	ck_assert_int_eq(call("POST", path, cmd, &r), 200);
	ck_assert_msg(strstr(r.body, "1 received") != NULL, "%s", r.body);
	http_response_clear(&r);
	/* Idempotent: the same document changes nothing. */
	ino_a = ns_ino(ida);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	http_response_clear(&r);
	ck_assert_int_eq(ns_ino(ida), ino_a);
	free(doc);
	/* b goes: its namespace goes, a's stays the same namespace. */
	doc = slice_doc(name, "<node name=\"a\" cpu=\"0.5\" memory=\"32MiB\" "
	    "host=\"h1\" pool=\"never\"/>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	m = mf(&r);
	ck_assert_int_eq(m->nnodes, 1);
	ck_assert_str_eq(m->nodes[0].id, ida);
	ck_assert_int_eq(m->nodes[0].nifaces, 0);
	manifest_free(m);
	http_response_clear(&r);
	free(doc);
	ck_assert(!ns_exists(idb));
	ck_assert(ns_exists(ida));
	ck_assert_int_eq(ns_ino(ida), ino_a);
	/* Pause / resume, GET, DELETE. */
	snprintf(path, sizeof(path), "/v1/slices/%s/nodes/a/pause", name);
	ck_assert_int_eq(call("POST", path, NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "state=\"paused\""));
	http_response_clear(&r);
	snprintf(path, sizeof(path), "/v1/slices/%s/nodes/a/resume", name);
	ck_assert_int_eq(call("POST", path, NULL, &r), 200);
	http_response_clear(&r);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	ck_assert_int_eq(call("GET", path, NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "state=\"running\""));
	http_response_clear(&r);
	ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "state=\"deleted\""));
	http_response_clear(&r);
	ck_assert(!ns_exists(ida));
	ck_assert_int_eq(call("GET", path, NULL, &r), 404);
	http_response_clear(&r);
}
END_TEST

/* Bad requests: a precise <error>, and no namespace made. */
START_TEST(test_refusals)
{
	struct http_response r;
	char name[64], path[128], *doc;
	int before = our_ns(NULL, 0);

	snprintf(name, sizeof(name), "%s-bad.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	doc = slice_doc(name, "<node name=\"a\" cpu=\"0.5\" memory=\"32MiB\" "
	    "host=\"h1\" pool=\"never\"/>\n<node name=\"b\" cpu=\"0.5\" "
	    "memory=\"32MiB\" host=\"h1\" image=\"nosuch\"/>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 404);
	ck_assert_ptr_nonnull(strstr(r.body, "code=\"not-found\""));
	ck_assert_ptr_nonnull(strstr(r.body, "image 'nosuch'"));
	ck_assert_ptr_nonnull(strstr(r.body, "node[@name='b']"));
	http_response_clear(&r);
	free(doc);
	doc = slice_doc(name, "<node name=\"a\" cpu=\"0.5\" memory=\"32MiB\" "
	    "host=\"h1\"/>\n<node name=\"b\" cpu=\"0.5\" memory=\"4GiB\" "
	    "host=\"h1\"/>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 409);
	ck_assert_ptr_nonnull(strstr(r.body, "code=\"no-resources\""));
	ck_assert_ptr_nonnull(strstr(r.body, "resource=\"memory\""));
	ck_assert_ptr_nonnull(strstr(r.body, "asked=\"4128\""));
	http_response_clear(&r);
	free(doc);
	doc = slice_doc(name, "<node name=\"a\" cpu=\"0.5\" memory=\"32MiB\" "
	    "host=\"h1\"/>\n<node name=\"a\" cpu=\"0.5\" memory=\"32MiB\" "
	    "host=\"h1\"/>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "code=\"duplicate\""));
	http_response_clear(&r);
	free(doc);
	doc = slice_doc(name, "<node name=\"a\" cpu=\"0.5\" memory=\"32MiB\" "
	    "host=\"h9\"/>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 400);
	ck_assert_ptr_nonnull(strstr(r.body, "pinned to host 'h9'"));
	http_response_clear(&r);
	free(doc);
	doc = slice_doc(name, "<node name=\"a\" kind=\"vm\" cpu=\"0.5\" "
	    "memory=\"32MiB\" host=\"h1\"/>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 501);
	ck_assert_ptr_nonnull(strstr(r.body, "code=\"unsupported\""));
	http_response_clear(&r);
	/* Another pipd, and a VNO: 403 and nothing done. */
	ck_assert_int_eq(call_as("pip2", "PUT", path, doc, &r), 403);
	ck_assert_ptr_nonnull(strstr(r.body, "code=\"forbidden\""));
	http_response_clear(&r);
	ck_assert_int_eq(call_as("alice", "GET", "/v1/report", NULL, &r), 403);
	http_response_clear(&r);
	free(doc);
	ck_assert_int_eq(our_ns(NULL, 0), before);
	ck_assert_int_eq(call("GET", path, NULL, &r), 404);
	http_response_clear(&r);
}
END_TEST

/* A pooled node is claimed (faster than on demand) and the pool refills. */
START_TEST(test_pool)
{
	struct http_response r;
	struct manifest *m;
	char name[64], path[128], lines[512], *doc;
	double claim_ms, demand_ms;

	ck_assert_msg(wait_depth(2, 10000), "pool did not fill to 2");
	snprintf(name, sizeof(name), "%s-p.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	snprintf(lines, sizeof(lines), "<node name=\"p\" cpu=\"0.25\" "
	    "memory=\"16MiB\" host=\"h1\"/>\n<node name=\"q\" cpu=\"0.25\" "
	    "memory=\"16MiB\" host=\"h1\"/>\n<link name=\"p-q\">"
	    "<end node=\"p\" address=\"10.%d.2.1/24\"/><end node=\"q\" "
	    "address=\"10.%d.2.2/24\"/></link>\n", hn.net, hn.net);
	doc = slice_doc(name, lines);
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	m = mf(&r);
	ck_assert_int_eq(hn_mf_node(m, "p")->pooled, 1);
	ck_assert_int_eq(hn_mf_node(m, "q")->pooled, 1);
	claim_ms = m->steps[0].ms;
	ck_assert(ns_exists(hn_mf_node(m, "p")->id));
	manifest_free(m);
	http_response_clear(&r);
	free(doc);
	snprintf(path, sizeof(path), "/v1/slices/%s/nodes/p/exec", name);
	snprintf(lines, sizeof(lines), "ping -c 1 -W 2 10.%d.2.2", hn.net);
	ck_assert_int_eq(call("POST", path, lines, &r), 200);
	ck_assert_msg(strstr(r.body, "1 received") != NULL, "%s", r.body);
	http_response_clear(&r);
	ck_assert_msg(wait_depth(2, 10000), "pool did not refill to 2");
	/* The same two nodes on demand. */
	snprintf(name, sizeof(name), "%s-d.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	doc = slice_doc(name, "<node name=\"p\" cpu=\"0.25\" memory=\"16MiB\" "
	    "host=\"h1\" pool=\"never\"/>\n<node name=\"q\" cpu=\"0.25\" "
	    "memory=\"16MiB\" host=\"h1\" pool=\"never\"/>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	m = mf(&r);
	ck_assert_int_eq(hn_mf_node(m, "p")->pooled, 0);
	demand_ms = m->steps[0].ms;
	manifest_free(m);
	http_response_clear(&r);
	free(doc);
	fprintf(stderr, "netns: two nodes claimed in %.2f ms, made on demand "
	    "in %.2f ms\n", claim_ms, demand_ms);
	/*
	 * The target (5 ms per netns claim) is measured by bench/node on a
	 * quiet machine; here only a bound a shared machine always meets.
	 */
	ck_assert_msg(claim_ms / 2 <= 50.0, "a netns claim took %.2f ms",
	    claim_ms / 2);
	ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
	http_response_clear(&r);
	snprintf(path, sizeof(path), "/v1/slices/%s-p.pip1.h1", hn.prefix);
	ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
	http_response_clear(&r);
}
END_TEST

/* A stub gets a tunnel end on the node's host-side device. */
START_TEST(test_stub)
{
	struct http_response r;
	struct manifest *m;
	char name[64], path[128], lines[512], cmd[256], out[8192], *doc;
	const struct mf_node *n;

	snprintf(name, sizeof(name), "%s-s.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	snprintf(lines, sizeof(lines), "<node name=\"c\" cpu=\"0.25\" "
	    "memory=\"16MiB\" host=\"h1\"/>\n<stub name=\"c-d\" encap=\"gre\" "
	    "key=\"%d\"><end node=\"c\" address=\"10.%d.3.1/24\"/>"
	    "<peer pip=\"pip2\" node=\"d\" underlay=\"10.%d.255.2\"/></stub>\n",
	    4000 + hn.net, hn.net, hn.net);
	doc = slice_doc(name, lines);
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	m = mf(&r);
	ck_assert_int_eq(m->nlinks, 1);
	ck_assert_int_eq(m->links[0].state, LS_UP);
	ck_assert_int_eq(m->links[0].nends, 1);
	ck_assert_int_ne(m->links[0].ends[0].underlay, 0);
	n = hn_mf_node(m, "c");
	ck_assert_int_eq(n->nifaces, 1);
	ck_assert_str_eq(n->ifaces[0].link, "c-d");
	/* The tunnel lib's inner MTU for GRE over a 1500 underlay. */
	snprintf(cmd, sizeof(cmd), "ip -n " VNODE_PREFIX "%s -o link show dev "
	    "eth0", n->id);
	hn_run_out(out, sizeof(out), cmd);
	ck_assert_msg(strstr(out, "mtu 1476") != NULL || strstr(out,
	    "mtu 1472") != NULL, "inner MTU: %s", out);
	/* A tc filter (ebpf) or a forwarder (user) serves the host end. */
	snprintf(cmd, sizeof(cmd), "for d in $(ip -o link | grep 'alias "
	    "vnsm:%s:eth0' | cut -d: -f2 | cut -d@ -f1); do tc filter show "
	    "dev $d ingress; done", n->id);
	hn_run_out(out, sizeof(out), cmd);
	manifest_free(m);
	http_response_clear(&r);
	ck_assert_int_eq(call("GET", "/v1/report", NULL, &r), 200);
	ck_assert_msg(strstr(out, "bpf") != NULL ||
	    strstr(r.body, "backend=\"user\"") != NULL, "no tunnel end: %s",
	    out);
	ck_assert_ptr_nonnull(strstr(r.body, "name=\"c-d\""));
	http_response_clear(&r);
	/* Retarget: a new peer underlay re-makes the end. */
	free(doc);
	snprintf(lines, sizeof(lines), "<node name=\"c\" cpu=\"0.25\" "
	    "memory=\"16MiB\" host=\"h1\"/>\n<stub name=\"c-d\" encap=\"gre\" "
	    "key=\"%d\"><end node=\"c\" address=\"10.%d.3.1/24\"/>"
	    "<peer pip=\"pip2\" node=\"d\" underlay=\"10.%d.255.3\"/></stub>\n",
	    4000 + hn.net, hn.net, hn.net);
	doc = slice_doc(name, lines);
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "state=\"up\""));
	http_response_clear(&r);
	free(doc);
	ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
	http_response_clear(&r);
}
END_TEST

/*
 * kill -9 while a slice of several nodes is being made; after a restart
 * every namespace of this run is a node the agent knows (an acknowledged
 * slice's, or a pool member), nothing half-made is left, and the slice
 * acknowledged before is intact.
 */
START_TEST(test_crash)
{
	struct http_response r;
	struct manifest *m;
	char name[64], path[128], lines[4096], keep[2][VNODE_ID_MAX], *doc;
	char ids[256][VNODE_ID_MAX];
	size_t off = 0;
	int n0, n, known;
	pid_t child;

	snprintf(name, sizeof(name), "%s-k.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	doc = slice_doc(name, "<node name=\"x\" cpu=\"0.25\" memory=\"16MiB\" "
	    "host=\"h1\" pool=\"never\"/>\n<node name=\"y\" cpu=\"0.25\" "
	    "memory=\"16MiB\" host=\"h1\"/>\n");
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	m = mf(&r);
	str_lcpy(keep[0], hn_mf_node(m, "x")->id, VNODE_ID_MAX);
	str_lcpy(keep[1], hn_mf_node(m, "y")->id, VNODE_ID_MAX);
	manifest_free(m);
	http_response_clear(&r);
	free(doc);
	/* A big slice, killed part-way. */
	for (int i = 0; i < 12; i++)
		off += (size_t)snprintf(lines + off, sizeof(lines) - off,
		    "<node name=\"z%d\" cpu=\"0.25\" memory=\"16MiB\" "
		    "host=\"h1\" pool=\"never\"/>\n", i);
	snprintf(name, sizeof(name), "%s-big.pip1.h1", hn.prefix);
	doc = slice_doc(name, lines);
	n0 = our_ns(NULL, 0);
	if ((child = fork()) == 0) {
		snprintf(path, sizeof(path), "/v1/slices/%s", name);
		call("PUT", path, doc, &r);
		_exit(0);
	}
	for (int t = 0; t < 4000 && our_ns(NULL, 0) < n0 + 3; t++)
		usleep(250);
	kill(hn_sd_pid(&hn), SIGKILL);
	n = our_ns(NULL, 0);
	waitpid(child, NULL, 0);
	ck_assert_msg(n > n0, "the kill came before any node was made");
	free(doc);
	usleep(100000);
	start_daemon();
	/* The acknowledged slice is intact. */
	snprintf(path, sizeof(path), "/v1/slices/%s-k.pip1.h1", hn.prefix);
	ck_assert_int_eq(call("GET", path, NULL, &r), 200);
	http_response_clear(&r);
	ck_assert(ns_exists(keep[0]));
	ck_assert(ns_exists(keep[1]));
	/* Every namespace of ours is known: a slice node or a pool member. */
	ck_assert_msg(wait_depth(2, 10000), "pool did not refill");
	n = our_ns(ids, 256);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	known = call("GET", path, NULL, &r) == 200;
	fprintf(stderr, "crash: big slice %s after restart; %d namespaces\n",
	    known ? "acknowledged" : "not acknowledged", n);
	http_response_clear(&r);
	ck_assert_int_eq(call("GET", "/v1/report", NULL, &r), 200);
	{
		int reported = 0;

		for (const char *p = strstr(r.body, "<node "); p != NULL;
		    p = strstr(p + 1, "<node "))
			reported++;
		ck_assert_int_eq(n, reported);
	}
	for (int i = 0; i < n; i++)
		ck_assert_msg(strstr(r.body, ids[i]) != NULL, "namespace of %s "
		    "is not a node the agent reports", ids[i]);
	http_response_clear(&r);
	/* No veth of ours without its node. */
	{
		char out[65536];

		hn_run_out(out, sizeof(out), "ip -o link show type veth");
		for (char *p = strstr(out, "alias vnsm:"); p != NULL;
		    p = strstr(p + 1, "alias vnsm:")) {
			char id[VNODE_ID_MAX];
			size_t k = strcspn(p + 11, ":");

			if (k >= sizeof(id))
				continue;
			memcpy(id, p + 11, k);
			id[k] = '\0';
			if (strncmp(id, hn.prefix, strlen(hn.prefix)) == 0)
				ck_assert_msg(ns_exists(id), "veth of %s left",
				    id);
		}
	}
	snprintf(path, sizeof(path), "/v1/slices/%s-k.pip1.h1", hn.prefix);
	ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
	http_response_clear(&r);
	if (known) {
		snprintf(path, sizeof(path), "/v1/slices/%s", name);
		call("DELETE", path, NULL, &r);
		http_response_clear(&r);
	}
}
END_TEST

/* One ping from node id to addr, run in the agent's mount namespace. */
static int
ping_from(const char *id, const char *addr)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "nsenter -t %d -m ip netns exec "
	    VNODE_PREFIX "%s ping -c 1 -W 1 %s >/dev/null 2>&1",
	    (int)hn_sd_pid(&hn), id, addr);
	for (int i = 0; i < 5; i++)
		if (system(cmd) == 0)
			return 1;
	return 0;
}

/*
 * A stub's traffic survives kill -9 of the agent.  The far end is a vtun
 * (tools/vtun) in an access namespace, bridging the stub to a peer
 * namespace.  Four restarts after kill -9: twice with the agent in a
 * private mount namespace (as "ip netns exec" starts it: its nodes'
 * namespaces die with it, so the restart must re-make them, not adopt
 * traces, and bring the stub up on the new host end), then twice in
 * ours (re-made once more, then adopted as they are).
 */
START_TEST(test_stub_crash)
{
	struct http_response r;
	struct manifest *m;
	char name[64], path[128], lines[512], peer[32], id[VNODE_ID_MAX];
	char arg[256], *doc;
	int key = 5000 + hn.net;

	access_up();
	snprintf(peer, sizeof(peer), "10.%d.5.2", hn.net);
	snprintf(arg, sizeof(arg), "name=%st,encap=gre,local=10.%d.255.2,"
	    "remote=10.%d.255.1,key=%d,attach=direct,node=%sq", hn.prefix,
	    hn.net, hn.net, key, hn.prefix);
	vtun_start(arg);
	/* The first restart's agent, in a mount namespace of its own. */
	kill_daemon(SIGTERM);
	start_daemon_how(1);
	snprintf(name, sizeof(name), "%s-sc.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	snprintf(lines, sizeof(lines), "<node name=\"c\" cpu=\"0.25\" "
	    "memory=\"16MiB\" host=\"h1\" pool=\"never\"/>\n<stub name=\"c-p\" "
	    "encap=\"gre\" key=\"%d\"><end node=\"c\" address=\"10.%d.5.1/24\""
	    "/><peer pip=\"pip2\" node=\"p\" underlay=\"10.%d.255.2\"/></stub>\n",
	    key, hn.net, hn.net);
	doc = slice_doc(name, lines);
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	free(doc);
	m = mf(&r);
	str_lcpy(id, hn_mf_node(m, "c")->id, sizeof(id));
	manifest_free(m);
	http_response_clear(&r);
	ck_assert_msg(ping_from(id, peer), "no ping across the stub");
	for (int round = 0; round < 4; round++) {
		kill(hn_sd_pid(&hn), SIGKILL);
		kill_daemon(SIGKILL);
		start_daemon_how(round < 2);
		ck_assert_msg(ping_from(id, peer), "no ping across the stub "
		    "after kill -9 and restart %d (%s)", round + 1, round < 2 ?
		    "private mount namespace" : "host mount namespace");
		ck_assert_int_eq(call("GET", path, NULL, &r), 200);
		ck_assert_ptr_nonnull(strstr(r.body, "state=\"up\""));
		http_response_clear(&r);
	}
	ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
	http_response_clear(&r);
	vtun_stop();
}
END_TEST

/* The bridge the host end of node id's eth0 is in, into br; 0 or -1. */
static int
host_end_bridge(const char *id, char *hostend, size_t hsize, char *br,
    size_t bsize)
{
	char cmd[256], out[1024], *p;

	snprintf(cmd, sizeof(cmd), "ip -o link | grep 'alias vnsm:%s:eth0' | "
	    "cut -d: -f2 | cut -d@ -f1 | tr -d ' '", id);
	hn_run_out(out, sizeof(out), cmd);
	out[strcspn(out, "\n")] = '\0';
	if (out[0] == '\0')
		return -1;
	str_lcpy(hostend, out, hsize);
	snprintf(cmd, sizeof(cmd), "ip -o link show dev %s", hostend);
	hn_run_out(out, sizeof(out), cmd);
	if ((p = strstr(out, " master ")) == NULL)
		return -1;
	p += strlen(" master ");
	p[strcspn(p, " ")] = '\0';
	str_lcpy(br, p, bsize);
	return 0;
}

/*
 * attach="bridge": the stub's tunnel end meets the node through a host
 * bridge holding the node's host end and the link's port.  Traffic
 * crosses, a kill -9 and restart brings it back over the same bridge,
 * and deleting the slice removes bridge and port.
 */
START_TEST(test_stub_bridge)
{
	struct http_response r;
	struct manifest *m;
	char name[64], path[128], lines[512], peer[32], id[VNODE_ID_MAX];
	char arg[256], cmd[256], out[2048], hostend[32], br[32], port[32];
	char *doc;
	int key = 6000 + hn.net;

	/* An earlier test's agent ended with that test's process group. */
	kill_daemon(SIGTERM);
	start_daemon();
	access_up();
	snprintf(peer, sizeof(peer), "10.%d.5.2", hn.net);
	snprintf(arg, sizeof(arg), "name=%sb,encap=vxlan,local=10.%d.255.2,"
	    "remote=10.%d.255.1,key=%d,attach=direct,node=%sq", hn.prefix,
	    hn.net, hn.net, key, hn.prefix);
	vtun_start(arg);
	snprintf(name, sizeof(name), "%s-sb.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	snprintf(lines, sizeof(lines), "<node name=\"c\" cpu=\"0.25\" "
	    "memory=\"16MiB\" host=\"h1\" pool=\"never\" attach=\"bridge\"/>"
	    "\n<stub name=\"c-p\" encap=\"vxlan\" key=\"%d\"><end node=\"c\" "
	    "address=\"10.%d.5.1/24\"/><peer pip=\"pip2\" node=\"p\" "
	    "underlay=\"10.%d.255.2\"/></stub>\n", key, hn.net, hn.net);
	doc = slice_doc(name, lines);
	ck_assert_int_eq(call("PUT", path, doc, &r), 200);
	free(doc);
	m = mf(&r);
	str_lcpy(id, hn_mf_node(m, "c")->id, sizeof(id));
	ck_assert_int_eq(m->links[0].state, LS_UP);
	manifest_free(m);
	http_response_clear(&r);
	/* The node's host end is in a bridge of ours, with the port. */
	ck_assert_msg(host_end_bridge(id, hostend, sizeof(hostend), br,
	    sizeof(br)) == 0, "the host end of %s:eth0 is in no bridge", id);
	snprintf(cmd, sizeof(cmd), "ip -d -o link show dev %s", br);
	hn_run_out(out, sizeof(out), cmd);
	ck_assert_msg(strstr(out, "bridge ") != NULL && strstr(out,
	    "alias vnsm:link:") != NULL, "%s is not our bridge: %s", br, out);
	snprintf(cmd, sizeof(cmd), "ip -o link show master %s | cut -d: -f2 "
	    "| cut -d@ -f1 | tr -d ' ' | grep -vx %s", br, hostend);
	hn_run_out(out, sizeof(out), cmd);
	ck_assert_msg(strncmp(out, "vnp", 3) == 0 && strchr(out, '\n') ==
	    strrchr(out, '\n'), "bridge %s: ports besides %s: '%s'", br,
	    hostend, out);
	out[strcspn(out, "\n")] = '\0';
	str_lcpy(port, out, sizeof(port));
	ck_assert_msg(ping_from(id, peer), "no ping across the bridged stub");
	/* kill -9 and a restart: the stale port goes, a new one serves. */
	kill(hn_sd_pid(&hn), SIGKILL);
	kill_daemon(SIGKILL);
	start_daemon();
	ck_assert_msg(ping_from(id, peer), "no ping across the bridged stub "
	    "after kill -9 and restart");
	ck_assert_int_eq(hn_shq(&hn, "ip -o link show master %s | grep -q "
	    "' %s[:@]'", br, port), 0);
	ck_assert_int_eq(hn_shq(&hn, "ip -o link show master %s | grep -q "
	    "' %s[:@]'", br, hostend), 0);
	/* Deleting the slice removes the bridge and its port. */
	ck_assert_int_eq(call("DELETE", path, NULL, &r), 200);
	http_response_clear(&r);
	ck_assert_msg(hn_shq(&hn, "ip link show dev %s", br) != 0,
	    "bridge %s left after the slice went", br);
	ck_assert_msg(hn_shq(&hn, "ip link show dev %s", port) != 0,
	    "port %s left after the slice went", port);
	vtun_stop();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("substrated");
	TCase *tc = tcase_create("daemon");
	SRunner *sr;
	int nf;

	if (geteuid() != 0) {
		fprintf(stderr, "test_substrated needs root; skipped\n");
		return 0;
	}
	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_apply_and_diff);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_pool);
	tcase_add_test(tc, test_stub);
	tcase_add_test(tc, test_crash);
	tcase_add_test(tc, test_stub_crash);
	tcase_add_test(tc, test_stub_bridge);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
