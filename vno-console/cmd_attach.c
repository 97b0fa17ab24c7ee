/*
 * vno attach / vno detach: the only program a home needs (user-initiated
 * attachment, docs/subscribers.md).  attach proves who the home is to
 * its PIP (its certificate, a one-time enrolment token, or the
 * credential a token attach left), learns the tunnel to its gateway
 * (encapsulation, key, the PIP side's underlay address, L2 or L3) and
 * builds the home's end with the tunnels library: the LAN interface
 * (--lan, direct) or a bridge (--bridge) is joined into the VNet.  It
 * stays until SIGTERM or SIGINT (vno detach sends one), then tells the
 * PIP, removes its tunnel end and exits.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tunnel.h"
#include "util.h"
#include "vno.h"

#define ATTACH_PIDFILE	"/run/vno-attach.pid"

const char cmd_attach_help[] =
    "  vno attach --pip HOST:PORT --ca FILE (--cert FILE --key FILE |\n"
    "      --token TOKEN | --credential FILE) (--lan IFACE | --bridge BR)\n"
    "      [--underlay ADDR] [--save-credential FILE] [--pidfile FILE]\n"
    "      [--backend ebpf|kernel|user] [--foreground]\n"
    "\n"
    "Attach this home to its VNet.  The home proves who it is to the PIP\n"
    "at HOST:PORT: with its own certificate (role subscriber, CN = the\n"
    "subscriber), or with a one-time enrolment TOKEN from its VNO (vno\n"
    "subscriber token); TLS still needs a client certificate then: any\n"
    "certificate of role subscriber, e.g. one enrolment certificate all\n"
    "new homes share.  A token attach gets a credential back (written to\n"
    "--save-credential FILE, mode 0600) that later attaches present with\n"
    "--credential FILE.  A refused home learns only that it was refused.\n"
    "\n"
    "The PIP answers the tunnel: encapsulation, key, its underlay address\n"
    "and the home's.  vno attach builds the home's end from ADDR (default:\n"
    "the address this host uses towards the PIP) and joins the LAN\n"
    "interface IFACE to it directly, or BR as a bridge (L2 homes; an L3\n"
    "home's LAN is routed).  The home's DHCP client then gets its lease\n"
    "from its own gateway.  Without --foreground, vno attach returns once\n"
    "the tunnel is up and stays in the background (pid in --pidfile,\n"
    "default " ATTACH_PIDFILE ").  SIGTERM or SIGINT (vno detach) tears\n"
    "the tunnel down and tells the PIP.\n";

const char cmd_detach_help[] =
    "  vno detach [--pidfile FILE]\n"
    "\n"
    "Stop the vno attach of this home (SIGTERM to the pid in FILE, default\n"
    ATTACH_PIDFILE ") and wait up to 10 s until it has removed its\n"
    "tunnel end and told the PIP.\n";

struct attach_opts {
	const char *pip, *ca, *cert, *key, *token, *credfile, *lan, *bridge;
	const char *underlay, *savecred, *pidfile, *backend;
	int foreground;
};

/* Every option takes a value except --foreground. */
static int
attach_parse(int argc, char **argv, struct attach_opts *o)
{
	static const struct { const char *flag; size_t off; } v[] = {
		{ "--pip", offsetof(struct attach_opts, pip) },
		{ "--ca", offsetof(struct attach_opts, ca) },
		{ "--cert", offsetof(struct attach_opts, cert) },
		{ "--key", offsetof(struct attach_opts, key) },
		{ "--token", offsetof(struct attach_opts, token) },
		{ "--credential", offsetof(struct attach_opts, credfile) },
		{ "--lan", offsetof(struct attach_opts, lan) },
		{ "--bridge", offsetof(struct attach_opts, bridge) },
		{ "--underlay", offsetof(struct attach_opts, underlay) },
		{ "--save-credential", offsetof(struct attach_opts, savecred) },
		{ "--pidfile", offsetof(struct attach_opts, pidfile) },
		{ "--backend", offsetof(struct attach_opts, backend) },
	};

	memset(o, 0, sizeof(*o));
	o->pidfile = ATTACH_PIDFILE;
	for (int i = 1; i < argc; i++) {
		size_t k;

		if (strcmp(argv[i], "--foreground") == 0) {
			o->foreground = 1;
			continue;
		}
		for (k = 0; k < sizeof(v) / sizeof(v[0]); k++)
			if (strcmp(argv[i], v[k].flag) == 0)
				break;
		if (k == sizeof(v) / sizeof(v[0]))
			return vno_usage("attach", "unknown argument '%s'",
			    argv[i]);
		if (i + 1 >= argc)
			return vno_usage("attach", "%s needs a value", argv[i]);
		*(const char **)((char *)o + v[k].off) = argv[++i];
	}
	if (o->pip == NULL || o->ca == NULL)
		return vno_usage("attach", "give --pip HOST:PORT and --ca FILE");
	if (o->cert == NULL || o->key == NULL)
		return vno_usage("attach", "give --cert and --key (the home's "
		    "certificate, or an enrolment certificate with --token)");
	if ((o->lan == NULL) == (o->bridge == NULL))
		return vno_usage("attach", "give one of --lan IFACE and "
		    "--bridge BR");
	if (o->token != NULL && o->credfile != NULL)
		return vno_usage("attach", "give --token or --credential, not "
		    "both");
	return 0;
}

/* The address this host uses towards host:port's HOST, into out. */
static int
local_towards(const char *peer, struct in_addr *out)
{
	char host[64];
	struct sockaddr_in sa, me;
	socklen_t len = sizeof(me);
	const char *colon = strrchr(peer, ':');
	int fd;

	if (colon == NULL || (size_t)(colon - peer) >= sizeof(host))
		return -1;
	memcpy(host, peer, (size_t)(colon - peer));
	host[colon - peer] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(9);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&me, &len) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	*out = me.sin_addr;
	return 0;
}

/* The value of "key VALUE" in a text answer, into out; 0 or -1. */
static int
answer_get(const char *body, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);

	for (const char *p = body; p != NULL && *p != '\0'; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl == NULL ? strlen(p) : (size_t)(nl - p);

		if (len > kl + 1 && strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			if (len - kl - 1 >= size)
				return -1;
			memcpy(out, p + kl + 1, len - kl - 1);
			out[len - kl - 1] = '\0';
			return 0;
		}
		p = nl == NULL ? NULL : nl + 1;
	}
	return -1;
}

/* Read a secret (token or credential) file: its first line. */
static int
read_secret(const char *path, char *out, size_t size)
{
	FILE *fp = fopen(path, "r");

	if (fp == NULL || fgets(out, (int)size, fp) == NULL) {
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	fclose(fp);
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* One call to the PIP's subscriber endpoint.  0 with resp, or -1. */
static int
pip_call(struct http_client *h, const struct attach_opts *o,
    const char *path, const char *body, struct http_response *resp)
{
	struct http_call call = { .peer = o->pip, .expect_role = TLS_ROLE_PIPD,
	    .method = "POST", .path = path, .ctype = HTTP_CTYPE_TEXT,
	    .body = body, .len = strlen(body), .timeout_ms = 15000 };

	return http_call(h, &call, resp);
}

static volatile sig_atomic_t attach_stop;

static void
on_signal(int sig)
{
	(void)sig;
	attach_stop = 1;
}

int
cmd_attach(int argc, char **argv)
{
	struct attach_opts o;
	struct http_client_conf cc;
	struct http_client *h = NULL;
	struct http_response resp;
	struct tun_link_cfg cfg;
	struct tun_ctx *ctx = NULL;
	struct in_addr local;
	char body[256], secret[80] = "", val[80], cred[80] = "", sub[72] = "";
	int rc = VNO_EXIT_PEER, ready[2] = { -1, -1 }, backend = -1;
	double t0 = now_ms();
	FILE *fp;

	if (attach_parse(argc, argv, &o) != 0)
		return VNO_EXIT_USAGE;
	if (o.backend != NULL && (backend =
	    tun_backend_from_string(o.backend)) < 0)
		return vno_usage("attach", "--backend '%s': ebpf, kernel or "
		    "user", o.backend);
	if (o.underlay != NULL ? inet_pton(AF_INET, o.underlay, &local) != 1 :
	    local_towards(o.pip, &local) == -1)
		return vno_usage("attach", "cannot tell this home's underlay "
		    "address; give --underlay A.B.C.D");
	if (o.token != NULL)
		str_lcpy(secret, o.token, sizeof(secret));
	else if (o.credfile != NULL && read_secret(o.credfile, cred,
	    sizeof(cred)) == -1) {
		fprintf(stderr, "vno: attach: cannot read %s\n", o.credfile);
		return VNO_EXIT_USAGE;
	}
	/* In the background: the parent returns once the tunnel is up. */
	if (!o.foreground) {
		pid_t pid;
		char c = 0;

		if (pipe(ready) == -1 || (pid = fork()) == -1) {
			perror("vno: attach");
			return VNO_EXIT_PEER;
		}
		if (pid > 0) {
			close(ready[1]);
			if (read(ready[0], &c, 1) != 1)
				c = 0;
			if (c == 0) {
				int st;

				waitpid(pid, &st, 0);
				return WIFEXITED(st) ? WEXITSTATUS(st) :
				    VNO_EXIT_PEER;
			}
			return VNO_EXIT_OK;
		}
		close(ready[0]);
		setsid();
	}
	memset(&cc, 0, sizeof(cc));
	cc.tls.ca_file = o.ca;
	cc.tls.cert_file = o.cert;
	cc.tls.key_file = o.key;
	if ((h = http_client_new(NULL, &cc)) == NULL) {
		err_print(stderr);
		rc = VNO_EXIT_USAGE;
		goto out;
	}
	snprintf(body, sizeof(body), "underlay %s\n%s%s%s%s%s%s",
	    inet_ntoa(local), secret[0] != '\0' ? "token " : "", secret,
	    secret[0] != '\0' ? "\n" : "", cred[0] != '\0' ? "credential " :
	    "", cred, cred[0] != '\0' ? "\n" : "");
	if (pip_call(h, &o, "/v1/subscriber/attach", body, &resp) == -1 ||
	    resp.status != 200) {
		if (resp.status == 403)
			fprintf(stderr, "vno: attach: refused by the PIP\n");
		else if (resp.status == 0)
			fprintf(stderr, "vno: attach: %s\n", resp.err.msg);
		else
			fprintf(stderr, "vno: attach: the PIP answered %d: "
			    "%.*s\n", resp.status, (int)resp.len, resp.body);
		rc = resp.status == 403 || resp.status == 401 ?
		    VNO_EXIT_DENIED : VNO_EXIT_PEER;
		http_response_clear(&resp);
		goto out;
	}
	memset(&cfg, 0, sizeof(cfg));
	str_lcpy(cfg.name, "home", sizeof(cfg.name));
	cfg.local = local;
	if (answer_get(resp.body, "encap", val, sizeof(val)) == -1 ||
	    tun_parse_encap(val, &cfg.encap) == -1 ||
	    answer_get(resp.body, "remote", val, sizeof(val)) == -1 ||
	    tun_parse_addr(val, &cfg.remote) == -1 ||
	    answer_get(resp.body, "key", val, sizeof(val)) == -1) {
		fprintf(stderr, "vno: attach: the PIP's answer is not a "
		    "tunnel:\n%s", resp.body);
		http_response_clear(&resp);
		goto out;
	}
	cfg.key = (uint32_t)strtoul(val, NULL, 10);
	answer_get(resp.body, "subscriber", sub, sizeof(sub));
	if (answer_get(resp.body, "credential", cred, sizeof(cred)) == 0 &&
	    o.savecred != NULL) {
		int fd = open(o.savecred, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd == -1 || (fp = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "vno: attach: cannot write %s\n",
			    o.savecred);
			if (fd != -1)
				close(fd);
		} else {
			fprintf(fp, "%s\n", cred);
			fclose(fp);
		}
	}
	http_response_clear(&resp);
	if (o.lan != NULL) {
		cfg.attach = TUN_ATTACH_DIRECT;
		str_lcpy(cfg.node_if, o.lan, sizeof(cfg.node_if));
	} else {
		cfg.attach = TUN_ATTACH_BRIDGE;
		str_lcpy(cfg.bridge, o.bridge, sizeof(cfg.bridge));
	}
	if ((ctx = tun_open(backend)) == NULL ||
	    tun_link_add(ctx, &cfg) == NULL) {
		err_print(stderr);
		goto detach;
	}
	if ((fp = fopen(o.pidfile, "w")) != NULL) {
		fprintf(fp, "%d\n", (int)getpid());
		fclose(fp);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("attached: subscriber %s, %s key %u to %s, %s (%s backend) in "
	    "%.1f ms\n", sub, tun_encap_to_string(cfg.encap), cfg.key,
	    inet_ntoa(cfg.remote), o.lan != NULL ? o.lan : o.bridge,
	    tun_backend_to_string(tun_ctx_backend(ctx)), now_ms() - t0);
	fflush(stdout);
	if (ready[1] != -1) {
		char c = 1;

		if (write(ready[1], &c, 1) != 1)
			perror("vno: attach");
		close(ready[1]);
		ready[1] = -1;
	}
	while (!attach_stop)
		pause();
	rc = VNO_EXIT_OK;
	unlink(o.pidfile);
detach:
	/* Tell the PIP the home has gone (best effort). */
	snprintf(body, sizeof(body), "%s%s%s", cred[0] != '\0' ?
	    "credential " : "", cred, cred[0] != '\0' ? "\n" : "");
	if (pip_call(h, &o, "/v1/subscriber/detach", body, &resp) == 0 &&
	    resp.status != 204)
		fprintf(stderr, "vno: detach: the PIP answered %d\n",
		    resp.status);
	http_response_clear(&resp);
	tun_close(ctx);
	if (rc == VNO_EXIT_OK)
		printf("detached\n");
out:
	http_client_free(h);
	if (ready[1] != -1)
		close(ready[1]);
	return rc;
}

static int
detach_flag(int argc, char **argv, int *i, void *arg)
{
	if (strcmp(argv[*i], "--pidfile") != 0)
		return 0;
	if (*i + 1 >= argc)
		return vno_usage("detach", "--pidfile needs a file"), -1;
	*(const char **)arg = argv[++*i];
	return 1;
}

int
cmd_detach(int argc, char **argv)
{
	struct vno_client c;
	const char *pidfile = ATTACH_PIDFILE;
	char *pos[1], line[32];
	long pid;
	int n, rc;
	FILE *fp;

	vno_client_init(&c);
	if ((rc = vno_args(&c, argc, argv, pos, 0, 0, &n, detach_flag,
	    &pidfile, NULL)) != 0)
		return rc;
	if ((fp = fopen(pidfile, "r")) == NULL ||
	    fgets(line, sizeof(line), fp) == NULL ||
	    (pid = strtol(line, NULL, 10)) <= 1) {
		if (fp != NULL)
			fclose(fp);
		fprintf(stderr, "vno: detach: no attached home in %s\n",
		    pidfile);
		return VNO_EXIT_NOTFOUND;
	}
	fclose(fp);
	if (kill((pid_t)pid, SIGTERM) == -1) {
		fprintf(stderr, "vno: detach: pid %ld: %s\n", pid,
		    strerror(errno));
		return VNO_EXIT_NOTFOUND;
	}
	for (int t = 0; t < 100; t++) {
		struct timespec ts = { 0, 100000000 };

		if (kill((pid_t)pid, 0) == -1)
			return VNO_EXIT_OK;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "vno: detach: pid %ld is still there after 10 s\n",
	    pid);
	return VNO_EXIT_PEER;
}
