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
 *
 * Everything is made under a scratch dir and a "gb<pid>" prefix and
 * removed at exit.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
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
#include "util.h"
#include "../../substrate-agent/driver.h"

static char dir[64], bin[512], vtun[512], prefix[16];
static int port, net;
static pid_t daemon_child, vtun_child;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A fixed shell command (plumbing only); output discarded. */
static void
sh(const char *fmt, ...)
{
	char cmd[4096], full[4200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
	if (system(full) == -1)
		fprintf(stderr, "cannot run: %s\n", cmd);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
stats(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("%s (%d): min %.2f ms, median %.2f ms, max %.2f ms\n", what, n,
	    t[0], t[n / 2], t[n - 1]);
}

static long
mem_available_kib(void)
{
	char line[128];
	long v = -1;
	FILE *fp = fopen("/proc/meminfo", "r");

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "MemAvailable: %ld kB", &v) == 1)
			break;
	if (fp != NULL)
		fclose(fp);
	return v;
}

static int
call(const char *method, const char *path, const char *body,
    struct http_response *r)
{
	char ca[128], crt[128], key[128], peer[32];
	struct http_client_conf conf = { .timeout_ms = 60000 };
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
	memset(r, 0, sizeof(*r));
	if ((c = http_client_new(NULL, &conf)) == NULL)
		return 0;
	snprintf(peer, sizeof(peer), "127.0.0.1:%d", port);
	http_call(c, &hc, r);
	err_reset();
	http_client_free(c);
	return r->status;
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
	char conf[128], logf[128];
	struct http_response r;
	FILE *fp;

	snprintf(conf, sizeof(conf), "%s/sd.conf", dir);
	if ((fp = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(fp, "listen 127.0.0.1:%d\nca %s/ca/ca.crt\ncert %s/ca/h1.crt\n"
	    "key %s/ca/h1.key\npipd pip1\nhost h1\npip pip1\ncpu 200\n"
	    "memory 24GiB\ninterfaces 8192\nstate %s/state.db\n"
	    "pidfile %s/sd.pid\nrun-dir %s/run\nid-prefix %s\n"
	    "underlay 10.%d.255.1\ntunnel-backend auto\n"
	    "report-interval 60s\n", port, dir, dir, dir, dir, dir, dir,
	    prefix, net);
	if (pool > 0)
		fprintf(fp, "[pool gw]\nkind gateway\ncpu 0.05\nmemory 16MiB\n"
		    "depth %d\n", pool);
	fclose(fp);
	snprintf(logf, sizeof(logf), "%s/sd.log", dir);
	if ((daemon_child = fork()) == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, "substrated", "-d", "-v", "-f", conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		if (call("GET", "/v1/report", NULL, &r) == 200) {
			http_response_clear(&r);
			return 0;
		}
		http_response_clear(&r);
		usleep(100000);
	}
	fprintf(stderr, "substrated did not answer (see %s)\n", logf);
	return -1;
}

static void
stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 600 && waitpid(pid, NULL, WNOHANG) == 0; i++)
		usleep(50000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
cleanup(void)
{
	char rundir[128], out[65536], pre[32], *save = NULL;
	struct drv_conf dc = { .rundir = rundir };
	struct drv *drv;
	FILE *fp;
	size_t n;

	stop(vtun_child);
	stop(daemon_child);
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	snprintf(pre, sizeof(pre), VNODE_PREFIX "%s", prefix);
	if ((fp = popen("ls /run/netns", "r")) != NULL) {
		n = fread(out, 1, sizeof(out) - 1, fp);
		out[n] = '\0';
		pclose(fp);
		if ((drv = drv_open("netns", &dc)) != NULL) {
			for (char *t = strtok_r(out, "\n", &save); t != NULL;
			    t = strtok_r(NULL, "\n", &save))
				if (strncmp(t, pre, strlen(pre)) == 0)
					drv->ops->delete(drv, t + 3);
			drv_close(drv);
		}
	}
	sh("for n in $(ip netns list | grep '^%s-' | cut -d' ' -f1); do "
	    "ip netns del $n; done", prefix);
	sh("ip link del %su", prefix);
	if (getenv("KEEP") == NULL)
		sh("rm -rf %s", dir);
}

static char *
gw_doc(const char *name, int i, int key, int with_underlay)
{
	char *doc, under[64] = "";

	if (with_underlay)
		snprintf(under, sizeof(under), " underlay=\"10.%d.%d.%d\"", net,
		    254 - (10 + i) / 250, 1 + (10 + i) % 250);
	if (asprintf(&doc, "<?xml version=\"1.0\"?>\n<slice xmlns=\"urn:vnsm:1\""
	    " name=\"%s\" vnet=\"v%s\" pip=\"pip1\" mapping=\"vnp\">\n"
	    "<node name=\"g\" kind=\"gateway\" cpu=\"0.05\" memory=\"16MiB\" "
	    "host=\"h1\">\n <gateway lan=\"192.168.1.1/24\" "
	    "dhcp-from=\"192.168.1.100\" dhcp-to=\"192.168.1.199\" "
	    "dns=\"9.9.9.9\"/>\n</node>\n<stub name=\"home\" encap=\"gretap\" "
	    "key=\"%d\"><end node=\"g\"/><peer pip=\"pip1\" host=\"home%d\"%s/>"
	    "</stub>\n</slice>\n", name, prefix, key, i, under) < 0)
		return NULL;
	return doc;
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

	sh("sync; echo 3 > /proc/sys/vm/drop_caches");
	m0 = mem_available_kib();
	if (start(n) == -1 || fill(n) == -1)
		return 1;
	sh("sync; echo 3 > /proc/sys/vm/drop_caches");
	m1 = mem_available_kib();
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
	    "ps -o rss= -p $(cat $f); done 2>/dev/null", dir);
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
	sh("sync; echo 3 > /proc/sys/vm/drop_caches");
	m0 = mem_available_kib();
	/* Hold the refill off: claims measured against a full pool. */
	for (int i = 0; i < n; i++) {
		struct http_response r;
		char name[64], path[128], *doc;
		double t0;

		snprintf(name, sizeof(name), "%s-c%d.pip1.h1", prefix, i);
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
	sh("sync; echo 3 > /proc/sys/vm/drop_caches");
	m1 = mem_available_kib();
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

static int
bench_lease(int n)
{
	double *t = calloc((size_t)n, sizeof(double));
	double *put = calloc((size_t)n, sizeof(double));
	char *argv[300], args[256][200], w[3][8] = { "ip", "netns", "exec" };
	char ns[64], out[128];
	int a = 0;

	if (t == NULL || put == NULL || n > 200 || start(0) == -1)
		return 1;
	sh("ip netns add %s-acc", prefix);
	sh("ip link add %su type veth peer name %sv netns %s-acc", prefix,
	    prefix, prefix);
	sh("ip addr add 10.%d.255.1/16 dev %su; ip link set %su up", net,
	    prefix, prefix);
	sh("ip -n %s-acc addr add 10.%d.255.2/16 dev %sv", prefix, net, prefix);
	sh("ip -n %s-acc link set %sv up; ip -n %s-acc link set lo up",
	    prefix, prefix, prefix);
	snprintf(ns, sizeof(ns), "%s-acc", prefix);
	argv[a++] = w[0];
	argv[a++] = w[1];
	argv[a++] = w[2];
	argv[a++] = ns;
	argv[a++] = vtun;
	for (int i = 0; i < n; i++) {
		int h3 = 254 - (10 + i) / 250, h4 = 1 + (10 + i) % 250;

		sh("ip -n %s-acc addr add 10.%d.%d.%d/16 dev %sv", prefix, net,
		    h3, h4, prefix);
		sh("ip netns add %s-h%d; ip -n %s-acc link add %sp%d type veth "
		    "peer name eth0 netns %s-h%d; ip -n %s-acc link set %sp%d up;"
		    " ip -n %s-h%d link set eth0 mtu 1400; ip -n %s-h%d link set "
		    "eth0 up", prefix, i, prefix, prefix, i, prefix, i, prefix,
		    prefix, i, prefix, i, prefix, i);
		snprintf(args[i], sizeof(args[i]), "name=%sh%d,encap=gretap,"
		    "local=10.%d.%d.%d,remote=10.%d.255.1,key=%d,attach=direct,"
		    "node=%sp%d", prefix, i, net, h3, h4, net, 200000 + i,
		    prefix, i);
		argv[a++] = args[i];
	}
	argv[a] = NULL;
	snprintf(out, sizeof(out), "%s/vtun.out", dir);
	if ((vtun_child = fork()) == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execvp("ip", argv);
		_exit(127);
	}
	sleep(2);
	for (int i = 0; i < n; i++) {
		struct http_response r;
		char name[64], path[128], cmd[512], *doc;
		double t0, t1;

		snprintf(name, sizeof(name), "%s-l%d.pip1.h1", prefix, i);
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
		    prefix, i);
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

int
main(int argc, char **argv)
{
	char self[512], *d;
	int n = 100, ch, rc;
	ssize_t k;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch == 'n')
			n = atoi(optarg);
		else
			goto usage;
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || n < 1 || n > 5000)
		goto usage;
	if (geteuid() != 0) {
		fprintf(stderr, "gateways needs root\n");
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "gb%d", (int)getpid() % 100000);
	net = 100 + (int)getpid() % 100;
	str_lcpy(dir, "/tmp/vnsm-bench-gw.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		return 1;
	chmod(dir, 0755);
	k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k <= 0)
		return 1;
	self[k] = '\0';
	d = dirname(dirname(self));
	snprintf(bin, sizeof(bin), "%s/bin/substrated", d);
	snprintf(vtun, sizeof(vtun), "%s/tools/vtun", d);
	sh("sh scripts/vnsm-ca init %s/ca", dir);
	sh("sh scripts/vnsm-ca issue %s/ca --role substrated --name h1 "
	    "--san IP:127.0.0.1", dir);
	sh("sh scripts/vnsm-ca issue %s/ca --role pipd --name pip1", dir);
	port = 20000 + (int)getpid() % 20000;
	if (strcmp(argv[0], "pool") == 0)
		rc = bench_pool(n);
	else if (strcmp(argv[0], "claim") == 0)
		rc = bench_claim(n);
	else if (strcmp(argv[0], "lease") == 0)
		rc = bench_lease(n);
	else {
		cleanup();
		goto usage;
	}
	cleanup();
	return rc;
usage:
	fprintf(stderr, "usage: gateways [-n count] pool|claim|lease\n");
	return 2;
}
