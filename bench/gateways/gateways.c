/*
 * gateways: how virtual residential gateways perform on this host
 * (BENCH.md section 5), through the real substrated (needs root; run
 * from the source tree, with $BUILD/bin/substrated and $BUILD/tools/vtun
 * next to this program's directory).
 *
 *   gateways [-n N] pool     N pooled gateways (depth N): time to fill,
 *                            memory per member (MemAvailable delta / N)
 *   gateways [-n N] claim    a pool of N, then N claims one by one (a
 *                            host slice with one gateway and a pending
 *                            home stub): PUT round trip and the agent's
 *                            virtualization step (min/median/max), and
 *                            memory and dnsmasq RSS per claimed gateway
 *   gateways [-n N] lease    N homes behind gretap tunnels (vtun in an
 *                            access namespace): for each, the PUT that
 *                            brings the tunnel up, then the time until a
 *                            plain DHCP client (busybox udhcpc) has its
 *                            lease (min/median/max)
 *   gateways [-n N] [-t S] throughput
 *                            N homes, each behind its own gateway (one
 *                            slice: core routers rK, each linked to 15
 *                            gateways), leased by DHCP, then all download
 *                            at once from rK for S seconds (default 5;
 *                            one iperf3 -s per home in rK, iperf3 -R from
 *                            the home): Mbit/s per home (min/median/max),
 *                            aggregate, homes >= 29.1 Mbit/s (ITU "high
 *                            user", Cruz et al.), CPU busy meanwhile
 *
 * Everything is made under a scratch dir and a "gb<pid>" prefix and
 * removed at exit.
 */
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "http.h"
#include "util.h"
#include "../../substrate-agent/driver.h"
#include "../../tests/harness/harness.h"

static struct harness hn;	/* scratch dir, daemon, prefix "gb<pid>" */
static pid_t vtun_child;

#define HOMES_MAX	200
static pid_t kids[3 * HOMES_MAX];
static int kid_rc[3 * HOMES_MAX], nkids;

static void
stats(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), hn_cmp_double);
	printf("%s (%d): min %.2f ms, median %.2f ms, max %.2f ms\n", what, n,
	    t[0], t[n / 2], t[n - 1]);
}

static int
call(const char *method, const char *path, const char *body,
    struct http_response *r)
{
	return hn_call(&hn, "pip1", method, path, body, r);
}

/* Gateway pool depth from the report; -1 if unknown. */
static int
depth(void)
{
	struct http_response r;
	const char *p;
	int d = -1;

	if (call("GET", "/v1/report", NULL, &r) == 200 && (p = strstr(r.body,
	    "kind=\"gateway\"")) != NULL && (p = strstr(p, "depth=\"")) !=
	    NULL)
		d = atoi(p + 7);
	http_response_clear(&r);
	return d;
}

static int
start(int pool)
{
	char pl[128] = "";

	if (pool > 0)
		snprintf(pl, sizeof(pl), "[pool gw]\nkind gateway\ncpu 0.05\n"
		    "memory 16MiB\ndepth %d\n", pool);
	if (hn_sd_conf(&hn, "cpu 200\nmemory 24GiB\ninterfaces 8192\n"
	    "report-interval 60s\n%s", pl) == -1)
		return -1;
	if (hn_sd_start(&hn, 0) == -1) {
		fprintf(stderr, "substrated did not answer (see %s/sd.log)\n",
		    hn.dir);
		return -1;
	}
	return 0;
}

static void
cleanup(void)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	hn_stop(vtun_child, SIGTERM, 30000);
	hn_stop(hn.daemon, SIGTERM, 30000);
	hn_sd_clean(&hn);
	hn_shq(&hn, "for n in $(ip netns list | grep '^%s-' | cut -d' ' -f1); "
	    "do ip netns del $n; done", hn.prefix);
	hn_shq(&hn, "ip link del %su", hn.prefix);
	hn_fini(&hn);
}

static char *
gw_doc(const char *name, int i, int key, int with_underlay)
{
	char body[1024], under[64] = "";

	if (with_underlay)
		snprintf(under, sizeof(under), " underlay=\"10.%d.%d.%d\"",
		    hn.net, 254 - (10 + i) / 250, 1 + (10 + i) % 250);
	snprintf(body, sizeof(body), "<node name=\"g\" kind=\"gateway\" "
	    "cpu=\"0.05\" memory=\"16MiB\" host=\"h1\">\n <gateway "
	    "lan=\"192.168.1.1/24\" dhcp-from=\"192.168.1.100\" "
	    "dhcp-to=\"192.168.1.199\" dns=\"9.9.9.9\"/>\n</node>\n"
	    "<stub name=\"home\" encap=\"gretap\" key=\"%d\"><end node=\"g\"/>"
	    "<peer pip=\"pip1\" host=\"home%d\"%s/></stub>\n", key, i, under);
	return hn_slice_doc(&hn, name, body);
}

/* The agent's virtualization step of a manifest, ms; -1 if absent. */
static double
virt_ms(const char *body)
{
	const char *p = strstr(body, "name=\"virtualization\"");
	const char *m;

	if (p == NULL)
		return -1;
	/* ms="..." in the same element, before or after. */
	while (p > body && *p != '<')
		p--;
	if ((m = strstr(p, "ms=\"")) == NULL)
		return -1;
	return atof(m + 4);
}

static int
fill(int n)
{
	double t0 = now_ms();
	int d = 0;

	for (int t = 0; t < n * 400 + 20000; t += 500) {
		if ((d = depth()) >= n)
			break;
		usleep(500000);
	}
	printf("pool of %d gateways filled to %d in %.1f s (%.1f ms per "
	    "member)\n", n, d, (now_ms() - t0) / 1000.0, (now_ms() - t0) / n);
	return d >= n ? 0 : -1;
}

static int
bench_pool(int n)
{
	long m0, m1;

	hn_shq(&hn, "sync; echo 3 > /proc/sys/vm/drop_caches");
	m0 = hn_mem_available_kib();
	if (start(n) == -1 || fill(n) == -1)
		return 1;
	hn_shq(&hn, "sync; echo 3 > /proc/sys/vm/drop_caches");
	m1 = hn_mem_available_kib();
	printf("memory per pooled gateway: %.0f KiB (MemAvailable %ld -> %ld "
	    "KiB, N=%d; includes the agent's own growth)\n",
	    (double)(m0 - m1) / n, m0, m1, n);
	return 0;
}

/* RSS of every dnsmasq of this run, KiB summed; count in *cnt. */
static long
dnsmasq_rss(int *cnt)
{
	char cmd[256], line[256];
	long sum = 0;
	FILE *fp;

	*cnt = 0;
	snprintf(cmd, sizeof(cmd), "for f in %s/run/gw/*/dnsmasq.pid; do "
	    "ps -o rss= -p $(cat $f); done 2>/dev/null", hn.dir);
	if ((fp = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		sum += atol(line);
		(*cnt)++;
	}
	pclose(fp);
	return sum;
}

static int
bench_claim(int n)
{
	double *rt = calloc((size_t)n, sizeof(double));
	double *vt = calloc((size_t)n, sizeof(double));
	long m0, m1, rss;
	int cnt;

	if (rt == NULL || vt == NULL || start(n) == -1 || fill(n) == -1)
		return 1;
	hn_shq(&hn, "sync; echo 3 > /proc/sys/vm/drop_caches");
	m0 = hn_mem_available_kib();
	/* Hold the refill off: claims measured against a full pool. */
	for (int i = 0; i < n; i++) {
		struct http_response r;
		char name[64], path[128], *doc;
		double t0;

		snprintf(name, sizeof(name), "%s-c%d.pip1.h1", hn.prefix, i);
		snprintf(path, sizeof(path), "/v1/slices/%s", name);
		doc = gw_doc(name, i, 100000 + i, 0);
		t0 = now_ms();
		if (doc == NULL || call("PUT", path, doc, &r) != 200) {
			fprintf(stderr, "claim %d: %s\n", i, r.body ? r.body :
			    "no answer");
			return 1;
		}
		rt[i] = now_ms() - t0;
		vt[i] = virt_ms(r.body);
		if (strstr(r.body, "pooled=\"yes\"") == NULL)
			fprintf(stderr, "claim %d was not from the pool\n", i);
		http_response_clear(&r);
		free(doc);
	}
	hn_shq(&hn, "sync; echo 3 > /proc/sys/vm/drop_caches");
	m1 = hn_mem_available_kib();
	rss = dnsmasq_rss(&cnt);
	stats("claim: PUT round trip (TLS connection included)", rt, n);
	stats("claim: agent virtualization step (re-bind, LAN address, "
	    "nft ruleset loaded, dnsmasq launched)", vt, n);
	printf("claimed gateways: %.0f KiB each by MemAvailable (the pool "
	    "refills meanwhile, so this counts the new members too); "
	    "dnsmasq RSS %.0f KiB each (%d running)\n", (double)(m0 - m1) / n,
	    cnt ? (double)rss / cnt : 0.0, cnt);
	free(rt);
	free(vt);
	return 0;
}

/*
 * N homes behind gretap tunnels: an access namespace with vtun ending
 * home i's tunnel (key keybase + i) on a veth into namespace PREFIX-hI.
 */
static int
make_homes(int n, int keybase)
{
	static char args[HOMES_MAX][200];
	char *argv[HOMES_MAX], ns[64];

	if (n > HOMES_MAX)
		return -1;
	hn_access(&hn, 16);
	for (int i = 0; i < n; i++) {
		int h3 = 254 - (10 + i) / 250, h4 = 1 + (10 + i) % 250;

		hn_sh(&hn, "ip -n %s-acc addr add 10.%d.%d.%d/16 dev %sv",
		    hn.prefix, hn.net, h3, h4, hn.prefix);
		hn_home(&hn, i);
		snprintf(args[i], sizeof(args[i]), "name=%sh%d,encap=gretap,"
		    "local=10.%d.%d.%d,remote=10.%d.255.1,key=%d,attach=direct,"
		    "node=%sp%d", hn.prefix, i, hn.net, h3, h4, hn.net,
		    keybase + i, hn.prefix, i);
		argv[i] = args[i];
	}
	snprintf(ns, sizeof(ns), "%s-acc", hn.prefix);
	vtun_child = hn_vtun(&hn, ns, argv, n);
	return vtun_child == -1 ? -1 : 0;
}

static int
bench_lease(int n)
{
	double *t = calloc((size_t)n, sizeof(double));
	double *put = calloc((size_t)n, sizeof(double));

	if (t == NULL || put == NULL || n > 200 || start(0) == -1 ||
	    make_homes(n, 200000) == -1)
		return 1;
	sleep(2);
	for (int i = 0; i < n; i++) {
		struct http_response r;
		char name[64], path[128], cmd[512], *doc;
		double t0, t1;

		snprintf(name, sizeof(name), "%s-l%d.pip1.h1", hn.prefix, i);
		snprintf(path, sizeof(path), "/v1/slices/%s", name);
		doc = gw_doc(name, i, 200000 + i, 1);
		t0 = now_ms();
		if (doc == NULL || call("PUT", path, doc, &r) != 200) {
			fprintf(stderr, "home %d: %s\n", i, r.body ? r.body :
			    "no answer");
			return 1;
		}
		t1 = now_ms();
		http_response_clear(&r);
		free(doc);
		snprintf(cmd, sizeof(cmd), "ip netns exec %s-h%d busybox udhcpc "
		    "-f -q -n -t 20 -T 1 -i eth0 -s /bin/true >/dev/null 2>&1",
		    hn.prefix, i);
		if (system(cmd) != 0) {
			fprintf(stderr, "home %d: no lease\n", i);
			return 1;
		}
		put[i] = t1 - t0;
		t[i] = now_ms() - t1;
	}
	stats("tunnel up (PUT answered) -> the home's DHCP lease", t, n);
	stats("PUT of the home's slice (pool never: made on demand)", put, n);
	free(t);
	free(put);
	return 0;
}

/*
 * Start argv (fork/exec, no shell) as child kid k, stdout/stderr to out
 * (NULL: /dev/null); with lease set, LEASE=lease in its environment;
 * with go > 0, it sleeps until now_ms() reaches go before the exec.
 */
static int
spawn(char **argv, const char *out, const char *lease, double go)
{
	pid_t pid;

	if (nkids >= (int)(sizeof(kids) / sizeof(kids[0])))
		return -1;
	if ((pid = fork()) == 0) {
		int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT |
		    O_TRUNC, 0600);
		double w;

		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (lease != NULL)
			setenv("LEASE", lease, 1);
		if (go > 0 && (w = go - now_ms()) > 0)
			usleep((useconds_t)(w * 1000));
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid == -1)
		return -1;
	kid_rc[nkids] = -1;
	kids[nkids] = pid;
	return nkids++;
}

/* Reap kids [from, to) until all exit or deadline (ms); kill the rest. */
static int
reap(int from, int to, double deadline)
{
	int left = to - from, st;

	while (left > 0 && now_ms() < deadline) {
		for (int k = from; k < to; k++)
			if (kids[k] > 0 && waitpid(kids[k], &st, WNOHANG) ==
			    kids[k]) {
				kid_rc[k] = WIFEXITED(st) ? WEXITSTATUS(st) :
				    128;
				kids[k] = 0;
				left--;
			}
		if (left > 0)
			usleep(20000);
	}
	for (int k = from; k < to; k++)
		if (kids[k] > 0) {
			kill(kids[k], SIGKILL);
			waitpid(kids[k], NULL, 0);
			kids[k] = 0;
		}
	return left;
}

/* Busy and total jiffies of all CPUs from /proc/stat. */
static void
cpu_jiffies(double *busy, double *total)
{
	unsigned long long v[10] = { 0 };
	FILE *fp = fopen("/proc/stat", "r");

	*busy = *total = 0;
	if (fp == NULL)
		return;
	if (fscanf(fp, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (int i = 0; i < 8; i++)
			*total += (double)v[i];
		*busy = *total - (double)v[3] - (double)v[4];
	}
	fclose(fp);
}

/*
 * Received Mbit/s of an iperf3 -J -R client's output; -1 if none.  In
 * *mid, the mean of its 1 s intervals but the first and the last (the
 * seconds when every transfer is surely running), or -1.
 */
static double
iperf_mbits(const char *file, double *mid)
{
	static char buf[1 << 20];
	const char *p, *end, *q;
	double sum = 0;
	size_t len;
	int k = 0, used = 0;
	FILE *fp = fopen(file, "r");

	*mid = -1;
	if (fp == NULL)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[len] = '\0';
	fclose(fp);
	if ((p = strstr(buf, "\"intervals\"")) != NULL &&
	    (end = strstr(p, "\"sum_sent\"")) != NULL) {
		double v[1024] = { 0 };

		while ((p = strstr(p, "\"sum\":")) != NULL && p < end &&
		    k < 1024) {
			if ((q = strstr(p, "\"bits_per_second\"")) == NULL ||
			    (q = strchr(q, ':')) == NULL)
				break;
			v[k++] = strtod(q + 1, NULL) / 1e6;
			p = q;
		}
		for (int i = 1; i < k - 1; i++, used++)
			sum += v[i];
		if (used > 0)
			*mid = sum / used;
	}
	if ((p = strstr(buf, "\"sum_received\"")) == NULL ||
	    (p = strstr(p, "\"bits_per_second\"")) == NULL ||
	    (p = strchr(p, ':')) == NULL)
		return -1;
	return strtod(p + 1, NULL) / 1e6;
}

/*
 * One slice: N gateways gI (WAN 172.20.I.2/24 on link r-gI, default
 * route via 172.20.I.1), each with its home's gretap stub, and VNet
 * core routers rK, one per TP_PER_R gateways (a node has at most 16
 * interfaces).
 */
#define TP_PER_R	15

static char *
tp_doc(const char *name, int n, int keybase)
{
	char *doc = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&doc, &len);

	if (fp == NULL)
		return NULL;
	fprintf(fp, "<?xml version=\"1.0\"?>\n<slice xmlns=\"urn:vnsm:1\" "
	    "name=\"%s\" vnet=\"v%s\" pip=\"pip1\" mapping=\"vnp\">\n",
	    name, hn.prefix);
	for (int k = 0; k < (n + TP_PER_R - 1) / TP_PER_R; k++)
		fprintf(fp, "<node name=\"r%d\" cpu=\"0.5\" memory=\"64MiB\" "
		    "host=\"h1\" pool=\"never\"/>\n", k);
	for (int i = 0; i < n; i++)
		fprintf(fp, "<node name=\"g%d\" kind=\"gateway\" cpu=\"0.05\" "
		    "memory=\"16MiB\" host=\"h1\">\n <gateway "
		    "lan=\"192.168.1.1/24\" dhcp-from=\"192.168.1.100\" "
		    "dhcp-to=\"192.168.1.199\" dns=\"9.9.9.9\"/>\n <route "
		    "to=\"0.0.0.0/0\" via=\"172.20.%d.1\"/>\n</node>\n", i, i);
	for (int i = 0; i < n; i++)
		fprintf(fp, "<link name=\"r-g%d\"><end node=\"r%d\" "
		    "address=\"172.20.%d.1/24\"/><end node=\"g%d\" "
		    "address=\"172.20.%d.2/24\"/></link>\n", i, i / TP_PER_R,
		    i, i, i);
	for (int i = 0; i < n; i++)
		fprintf(fp, "<stub name=\"home%d\" encap=\"gretap\" key=\"%d\">"
		    "<end node=\"g%d\"/><peer pip=\"pip1\" host=\"home%d\" "
		    "underlay=\"10.%d.%d.%d\"/></stub>\n", i, keybase + i, i, i,
		    hn.net, 254 - (10 + i) / 250, 1 + (10 + i) % 250);
	fprintf(fp, "</slice>\n");
	if (fclose(fp) != 0) {
		free(doc);
		return NULL;
	}
	return doc;
}

/*
 * N homes, each behind its own gateway, all downloading (iperf3 -R) from
 * the VNet core router at once for secs seconds: Mbit/s per home.
 */
static int
bench_throughput(int n, int secs)
{
	struct http_response r;
	struct manifest *m;
	char name[64], path[128], rns[HOMES_MAX / TP_PER_R + 1][80], rn[16];
	char file[160], lease[160];
	char host[32];
	char ns[64], portb[16], tb[16], conf[160], *doc;
	char ip[3][8] = { "ip", "netns", "exec" };
	char ipf[4][16] = { "iperf3", "-s", "-1", "-p" };
	char cl[7][24] = { "-c", "-t", "-R", "-J", "--connect-timeout",
	    "5000", "-p" };
	char dh[9][24] = { "busybox", "udhcpc", "-f", "-q", "-n", "-t", "20",
	    "-T", "1" };
	char dh2[3][16] = { "-i", "eth0", "-s" };
	double mb[HOMES_MAX] = { 0 }, md[HOMES_MAX] = { 0 };
	double t0, go, b0, b1, j0, j1, sum = 0, msum = 0;
	int k0, leased = 0, ok = 0, meet = 0, mmeet = 0, left;

	if (n > HOMES_MAX || start(0) == -1 ||
	    make_homes(n, 300000) == -1)
		return 1;
	snprintf(conf, sizeof(conf), "%s/dhcp.sh", hn.dir);
	if (hn_dhcp_script(&hn) == -1)
		return 1;
	snprintf(name, sizeof(name), "%s-tp.pip1.h1", hn.prefix);
	snprintf(path, sizeof(path), "/v1/slices/%s", name);
	if ((doc = tp_doc(name, n, 300000)) == NULL)
		return 1;
	t0 = now_ms();
	if (call("PUT", path, doc, &r) != 200) {
		fprintf(stderr, "slice: %s\n", r.body ? r.body : "no answer");
		return 1;
	}
	free(doc);
	printf("slice of %d gateways + %d core routers: PUT %.0f ms\n", n,
	    (n + TP_PER_R - 1) / TP_PER_R, now_ms() - t0);
	m = manifest_parse(r.body, r.len, "answer");
	for (int k = 0; k < (n + TP_PER_R - 1) / TP_PER_R; k++) {
		rns[k][0] = '\0';
		snprintf(rn, sizeof(rn), "r%d", k);
		for (size_t i = 0; m != NULL && i < m->nnodes; i++)
			if (strcmp(m->nodes[i].name, rn) == 0)
				snprintf(rns[k], sizeof(rns[k]), VNODE_PREFIX
				    "%s", m->nodes[i].id);
		if (rns[k][0] == '\0') {
			fprintf(stderr, "no id for %s in the answer\n", rn);
			return 1;
		}
	}
	manifest_free(m);
	http_response_clear(&r);
	/* Every home's plain DHCP client at once (bounded by -t 20 -T 1). */
	k0 = nkids;
	for (int i = 0; i < n; i++) {
		char *argv[20];
		int a = 0;

		snprintf(ns, sizeof(ns), "%s-h%d", hn.prefix, i);
		snprintf(lease, sizeof(lease), "%s/lease%d", hn.dir, i);
		argv[a++] = ip[0], argv[a++] = ip[1], argv[a++] = ip[2];
		argv[a++] = ns;
		for (int j = 0; j < 9; j++)
			argv[a++] = dh[j];
		for (int j = 0; j < 3; j++)
			argv[a++] = dh2[j];
		argv[a++] = conf;
		argv[a] = NULL;
		if (spawn(argv, NULL, lease, 0) == -1)
			return 1;
	}
	t0 = now_ms();
	reap(k0, nkids, t0 + 45000);
	for (int i = 0; i < n; i++) {
		snprintf(lease, sizeof(lease), "%s/lease%d", hn.dir, i);
		leased += access(lease, R_OK) == 0;
	}
	printf("DHCP: %d/%d homes leased in %.0f ms (all clients at once)\n",
	    leased, n, now_ms() - t0);
	/* One iperf3 server per home in its core router, port 5201 + I. */
	k0 = nkids;
	for (int i = 0; i < n; i++) {
		char *argv[10] = { ip[0], ip[1], ip[2], rns[i / TP_PER_R],
		    ipf[0], ipf[1], ipf[2], ipf[3], portb, NULL };

		snprintf(portb, sizeof(portb), "%d", 5201 + i);
		if (spawn(argv, NULL, NULL, 0) == -1)
			return 1;
	}
	usleep(500000 + 10000 * n);
	/* The clients, all released at the same instant. */
	snprintf(tb, sizeof(tb), "%d", secs);
	go = now_ms() + 500 + 15 * n;
	for (int i = 0; i < n; i++) {
		char *argv[20] = { ip[0], ip[1], ip[2], ns, ipf[0], cl[0], host,
		    cl[1], tb, cl[2], cl[3], cl[4], cl[5], cl[6], portb, NULL };

		snprintf(ns, sizeof(ns), "%s-h%d", hn.prefix, i);
		snprintf(host, sizeof(host), "172.20.%d.1", i);
		snprintf(portb, sizeof(portb), "%d", 5201 + i);
		snprintf(file, sizeof(file), "%s/tp%d.json", hn.dir, i);
		if (spawn(argv, file, NULL, go) == -1)
			return 1;
	}
	/* CPU over the middle of the transfer window. */
	while (now_ms() < go + 1000)
		usleep(20000);
	cpu_jiffies(&b0, &j0);
	usleep((useconds_t)(secs > 2 ? secs - 2 : 1) * 1000000);
	cpu_jiffies(&b1, &j1);
	left = reap(k0 + n, nkids, go + secs * 1000.0 + 30000);
	reap(k0, k0 + n, now_ms() + 2000);
	for (int i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%s/tp%d.json", hn.dir, i);
		if ((mb[i] = iperf_mbits(file, &md[i])) < 0)
			mb[i] = 0;
		else
			ok++;
		if (md[i] < 0)
			md[i] = 0;
		sum += mb[i];
		msum += md[i];
		meet += mb[i] >= 29.1;
		mmeet += md[i] >= 29.1;
	}
	qsort(mb, (size_t)n, sizeof(*mb), hn_cmp_double);
	qsort(md, (size_t)n, sizeof(*md), hn_cmp_double);
	printf("throughput, %d homes downloading at once for %d s (iperf3 -R, "
	    "TCP, home MTU 1400): per home min %.1f / median %.1f / max %.1f "
	    "Mbit/s; aggregate %.1f Mbit/s; %d/%d transfers completed (failed "
	    "count as 0), %d killed at the deadline\n", n, secs, mb[0],
	    mb[n / 2], mb[n - 1], sum, ok, n, left);
	printf("ITU high user 29.1 Mbit/s per home: %d/%d homes at or above "
	    "(%s); CPU busy over the window %.0f %% of %ld CPUs\n", meet, n,
	    meet == n ? "met" : "NOT met", j1 > j0 ? 100.0 * (b1 - b0) /
	    (j1 - j0) : 0.0, sysconf(_SC_NPROCESSORS_ONLN));
	if (secs >= 3)
		printf("middle seconds only (every 1 s interval but each "
		    "transfer's first and last): per home min %.1f / median %.1f / max "
		    "%.1f Mbit/s; aggregate %.1f Mbit/s; %d/%d homes >= 29.1 "
		    "Mbit/s\n", md[0], md[n / 2], md[n - 1], msum, mmeet, n);
	return 0;
}

int
main(int argc, char **argv)
{
	int n = 100, secs = 5, ch, rc;

	while ((ch = getopt(argc, argv, "n:t:")) != -1) {
		if (ch == 'n')
			n = atoi(optarg);
		else if (ch == 't')
			secs = atoi(optarg);
		else
			goto usage;
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || n < 1 || n > 5000 || secs < 1 || secs > 600)
		goto usage;
	if (geteuid() != 0) {
		fprintf(stderr, "gateways needs root\n");
		return 1;
	}
	if (hn_init(&hn, "gb", "/tmp/vnsm-bench-gw.XXXXXX") == -1)
		return 1;
	hn.timeout_ms = 60000;
	hn_ca(&hn);
	if (strcmp(argv[0], "pool") == 0)
		rc = bench_pool(n);
	else if (strcmp(argv[0], "claim") == 0)
		rc = bench_claim(n);
	else if (strcmp(argv[0], "lease") == 0)
		rc = bench_lease(n);
	else if (strcmp(argv[0], "throughput") == 0)
		rc = bench_throughput(n, secs);
	else {
		cleanup();
		goto usage;
	}
	cleanup();
	return rc;
usage:
	fprintf(stderr, "usage: gateways [-n count] [-t seconds] "
	    "pool|claim|lease|throughput\n");
	return 2;
}
