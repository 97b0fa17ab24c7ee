/*
 * The shared scaffolding of the substrated tests and benchmarks (see
 * harness.h).  Plain C, no Check: the benchmarks link it too.
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
#include "util.h"
#include "../../substrate-agent/driver.h"
#include "harness.h"

/* The daemon's own name; the tests issue it a certificate as h1. */
#define HN_HOST		"h1"
#define HN_PIPD		"pip1"

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

int
hn_init(struct harness *hn, const char *tag, const char *tmpl)
{
	char self[512], *d;
	ssize_t n;

	memset(hn, 0, sizeof(*hn));
	snprintf(hn->prefix, sizeof(hn->prefix), "%s%d", tag,
	    (int)getpid() % 100000);
	hn->net = 100 + (int)getpid() % 100;
	hn->timeout_ms = 30000;
	str_lcpy(hn->dir, tmpl, sizeof(hn->dir));
	if (mkdtemp(hn->dir) == NULL) {
		fprintf(stderr, "mkdtemp %s failed\n", tmpl);
		hn->dir[0] = '\0';
		return -1;
	}
	chmod(hn->dir, 0755);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		fprintf(stderr, "cannot read /proc/self/exe\n");
		return -1;
	}
	self[n] = '\0';
	/* $BUILD/tests/x or $BUILD/bench/x: the programs are in $BUILD. */
	d = dirname(dirname(self));
	snprintf(hn->bin, sizeof(hn->bin), "%s/bin/substrated", d);
	snprintf(hn->vtun, sizeof(hn->vtun), "%s/tools/vtun", d);
	hn->port = free_port();
	return 0;
}

void
hn_fini(const struct harness *hn)
{
	if (hn->dir[0] != '\0' && getenv("KEEP") == NULL)
		hn_shq(hn, "rm -rf %s", hn->dir);
}

void
hn_sh(const struct harness *hn, const char *fmt, ...)
{
	char cmd[4096], full[4200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s >/dev/null 2>>%s/sh.err", cmd,
	    hn->dir[0] != '\0' ? hn->dir : "/tmp");
	if (system(full) != 0)
		fprintf(stderr, "(failed: %s)\n", cmd);
}

int
hn_shq(const struct harness *hn, const char *fmt, ...)
{
	char cmd[4096], full[4200];
	va_list ap;
	int st;

	(void)hn;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
	st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int
hn_run_out(char *out, size_t size, const char *cmd)
{
	FILE *fp = popen(cmd, "r");
	size_t n;

	out[0] = '\0';
	if (fp == NULL)
		return -1;
	n = fread(out, 1, size - 1, fp);
	out[n] = '\0';
	return pclose(fp);
}

int
hn_alive(pid_t pid)
{
	char p[64], st[512];
	FILE *fp;
	int ok = 0;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(p, "r")) == NULL)
		return 0;
	if (fgets(st, sizeof(st), fp) != NULL && strrchr(st, ')') != NULL)
		ok = strrchr(st, ')')[2] != 'Z';
	fclose(fp);
	return ok;
}

void
hn_stop(pid_t pid, int sig, int ms)
{
	if (pid <= 0)
		return;
	kill(pid, sig);
	/* A child of ours ends as a zombie until reaped here. */
	for (int t = 0; t < ms && hn_alive(pid); t += 50) {
		waitpid(pid, NULL, WNOHANG);
		usleep(50000);
	}
	if (hn_alive(pid))
		kill(pid, SIGKILL);
	/* Not our child: ECHILD at once. */
	waitpid(pid, NULL, 0);
}

/* Does a line of text start with what? */
static int
hn_line_starts(const char *text, const char *what)
{
	size_t len = strlen(what);

	for (const char *p = text; ; p++) {
		if (strncmp(p, what, len) == 0)
			return 1;
		if ((p = strchr(p, '\n')) == NULL)
			return 0;
	}
}

int
hn_wait_for(const char *file, const char *what, pid_t pid, int ms,
    char *said, size_t saidsize)
{
	static char buf[65536];
	int found = 0;

	for (int t = 0; ; t += 100) {
		FILE *fp = fopen(file, "r");
		size_t n = fp != NULL ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
		int alive = pid == 0 || hn_alive(pid);

		if (fp != NULL)
			fclose(fp);
		buf[n] = '\0';
		/* Read after the liveness check: nothing said is missed. */
		found = hn_line_starts(buf, what);
		str_lcpy(said, buf + (n >= saidsize ? n - (saidsize - 1) : 0),
		    saidsize);
		if (found || !alive || t >= ms)
			break;
		usleep(100000);
	}
	return found ? 0 : -1;
}

void
hn_ca(const struct harness *hn)
{
	hn_sh(hn, "sh scripts/vnsm-ca init %s/ca", hn->dir);
	hn_sh(hn, "sh scripts/vnsm-ca issue %s/ca --role substrated --name "
	    HN_HOST " --san IP:127.0.0.1", hn->dir);
	hn_ca_issue(hn, "pipd", HN_PIPD);
}

void
hn_ca_issue(const struct harness *hn, const char *role, const char *name)
{
	hn_sh(hn, "sh scripts/vnsm-ca issue %s/ca --role %s --name %s",
	    hn->dir, role, name);
}

int
hn_sd_conf(const struct harness *hn, const char *fmt, ...)
{
	char conf[128];
	va_list ap;
	FILE *fp;

	snprintf(conf, sizeof(conf), "%s/sd.conf", hn->dir);
	if ((fp = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(fp, "listen 127.0.0.1:%d\nca %s/ca/ca.crt\n"
	    "cert %s/ca/" HN_HOST ".crt\nkey %s/ca/" HN_HOST ".key\n"
	    "pipd " HN_PIPD "\nhost " HN_HOST "\npip " HN_PIPD "\n"
	    "state %s/state.db\npidfile %s/sd.pid\nrun-dir %s/run\n"
	    "id-prefix %s\nunderlay 10.%d.255.1\ntunnel-backend auto\n",
	    hn->port, hn->dir, hn->dir, hn->dir, hn->dir, hn->dir, hn->dir,
	    hn->prefix, hn->net);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	return fclose(fp) == 0 ? 0 : -1;
}

int
hn_sd_start(struct harness *hn, int private)
{
	char conf[128], logf[128];
	struct http_response r;

	snprintf(conf, sizeof(conf), "%s/sd.conf", hn->dir);
	snprintf(logf, sizeof(logf), "%s/sd.log", hn->dir);
	if ((hn->daemon = fork()) == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		if (private)
			execlp("unshare", "unshare", "--mount", "--propagation",
			    "slave", hn->bin, "-d", "-v", "-f", conf,
			    (char *)NULL);
		else
			execl(hn->bin, "substrated", "-d", "-v", "-f", conf,
			    (char *)NULL);
		_exit(127);
	}
	if (hn->daemon == -1)
		return -1;
	for (int i = 0; i < 100; i++) {
		if (hn_call(hn, HN_PIPD, "GET", "/v1/report", NULL, &r) == 200) {
			http_response_clear(&r);
			return 0;
		}
		http_response_clear(&r);
		usleep(100000);
	}
	return -1;
}

pid_t
hn_sd_pid(const struct harness *hn)
{
	char p[128];
	FILE *fp;
	int pid = 0;

	snprintf(p, sizeof(p), "%s/sd.pid", hn->dir);
	if ((fp = fopen(p, "r")) != NULL) {
		if (fscanf(fp, "%d", &pid) != 1)
			pid = 0;
		fclose(fp);
	}
	return pid;
}

void
hn_sd_clean(const struct harness *hn)
{
	char rundir[128], pre[32];
	struct drv_conf dc = { .rundir = rundir };
	struct dirent *de;
	struct drv *drv;
	DIR *d;

	snprintf(rundir, sizeof(rundir), "%s/run", hn->dir);
	snprintf(pre, sizeof(pre), VNODE_PREFIX "%s", hn->prefix);
	if ((drv = drv_open("netns", &dc)) != NULL) {
		if ((d = opendir("/run/netns")) != NULL) {
			while ((de = readdir(d)) != NULL)
				if (strncmp(de->d_name, pre, strlen(pre)) == 0)
					drv->ops->delete(drv, de->d_name +
					    strlen(VNODE_PREFIX));
			closedir(d);
		}
		drv_close(drv);
	}
	err_reset();
	/* The links' bridges (alias vnsm:link:<prefix>...) outlive the
	 * nodes' namespaces. */
	hn_sh(hn, "for l in $(ip -o link show type bridge | grep 'alias "
	    "vnsm:link:%s' | cut -d: -f2 | cut -d@ -f1); do ip link del $l; "
	    "done", hn->prefix);
}

int
hn_call(const struct harness *hn, const char *who, const char *method,
    const char *path, const char *body, struct http_response *r)
{
	char ca[128], crt[128], key[128], peer[32];
	struct http_client_conf conf = { .timeout_ms = hn->timeout_ms };
	struct http_client *c;
	struct http_call hc = { .peer = peer, .expect_name = HN_HOST,
	    .expect_role = TLS_ROLE_SUBSTRATED, .method = method,
	    .path = path, .body = body, .len = body ? strlen(body) : 0 };

	memset(r, 0, sizeof(*r));
	snprintf(ca, sizeof(ca), "%s/ca/ca.crt", hn->dir);
	snprintf(crt, sizeof(crt), "%s/ca/%s.crt", hn->dir, who);
	snprintf(key, sizeof(key), "%s/ca/%s.key", hn->dir, who);
	conf.tls.ca_file = ca;
	conf.tls.cert_file = crt;
	conf.tls.key_file = key;
	if ((c = http_client_new(NULL, &conf)) == NULL) {
		err_print(stderr);
		return -1;
	}
	snprintf(peer, sizeof(peer), "127.0.0.1:%d", hn->port);
	/* exec takes a command line, the rest XML. */
	if (body != NULL && strncmp(body, "<?xml", 5) != 0)
		hc.ctype = HTTP_CTYPE_TEXT;
	http_call(c, &hc, r);
	err_reset();
	http_client_free(c);
	return r->status;
}

char *
hn_slice_doc(const struct harness *hn, const char *name, const char *body)
{
	char *doc;

	if (asprintf(&doc, "<?xml version=\"1.0\"?>\n<slice "
	    "xmlns=\"urn:vnsm:1\" name=\"%s\" vnet=\"v%s\" pip=\"" HN_PIPD
	    "\" mapping=\"vnp\">\n%s</slice>\n", name, hn->prefix, body) < 0) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return doc;
}

void
hn_access(const struct harness *hn, int plen)
{
	const char *p = hn->prefix;

	hn_sh(hn, "ip netns add %s-acc", p);
	hn_sh(hn, "ip link add %su type veth peer name %sv netns %s-acc", p, p,
	    p);
	hn_sh(hn, "ip addr add 10.%d.255.1/%d dev %su", hn->net, plen, p);
	hn_sh(hn, "ip link set %su up", p);
	hn_sh(hn, "ip -n %s-acc addr add 10.%d.255.2/%d dev %sv", p, hn->net,
	    plen, p);
	hn_sh(hn, "ip -n %s-acc link set %sv up", p, p);
	hn_sh(hn, "ip -n %s-acc link set lo up", p);
}

void
hn_home(const struct harness *hn, int i)
{
	const char *p = hn->prefix;

	hn_shq(hn, "ip -n %s-acc link del %sp%d", p, p, i);
	hn_shq(hn, "ip netns del %s-h%d", p, i);
	hn_sh(hn, "ip netns add %s-h%d", p, i);
	hn_sh(hn, "ip -n %s-acc link add %sp%d type veth peer name eth0 "
	    "netns %s-h%d", p, p, i, p, i);
	hn_sh(hn, "ip -n %s-acc link set %sp%d up", p, p, i);
	hn_sh(hn, "ip -n %s-acc link set %sp%d mtu 1400", p, p, i);
	hn_sh(hn, "ip -n %s-h%d link set eth0 mtu 1400", p, i);
	hn_sh(hn, "ip -n %s-h%d link set eth0 up", p, i);
	hn_sh(hn, "ip -n %s-h%d link set lo up", p, i);
}

int
hn_dhcp_script(const struct harness *hn)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/dhcp.sh", hn->dir);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "#!/bin/sh\ncase \"$1\" in bound|renew)\n"
	    "\tip addr flush dev \"$interface\"\n"
	    "\tip addr add \"$ip/$mask\" dev \"$interface\"\n"
	    "\tip route replace default via \"$router\" dev \"$interface\"\n"
	    "\techo \"$ip $serverid\" > \"$LEASE\" ;;\nesac\nexit 0\n");
	if (fclose(fp) != 0)
		return -1;
	return chmod(path, 0755);
}

/*
 * The output file is emptied here, before the fork: emptied by the child,
 * it could still hold the previous vtun's "ready" when the caller first
 * reads it (with 30 link ends "ready" comes after some 3 KB of log).
 */
pid_t
hn_vtun(const struct harness *hn, const char *ns, char *const *args,
    int nargs)
{
	char out[128];
	pid_t pid;
	int fd;

	snprintf(out, sizeof(out), "%s/vtun.out", hn->dir);
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		const char **argv = calloc((size_t)nargs + 6, sizeof(*argv));
		int a = 0;

		if (argv == NULL)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		argv[a++] = "ip";
		argv[a++] = "netns";
		argv[a++] = "exec";
		argv[a++] = ns;
		argv[a++] = hn->vtun;
		for (int i = 0; i < nargs; i++)
			argv[a++] = args[i];
		argv[a] = NULL;
		/* execvp's argv is not const, but is not written either. */
		execvp("ip", (char *const *)(void *)argv);
		_exit(127);
	}
	close(fd);
	return pid;
}

long
hn_mem_available_kib(void)
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

int
hn_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}
