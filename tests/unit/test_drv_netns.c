/*
 * The netns driver against the real kernel (needs root).  Every object
 * is named vt<pid>..., so parallel runs do not clash, and removed even
 * when a check fails (the fixture's teardown).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "../../substrate-agent/driver.h"

static struct drv *drv;
static char id_a[32], id_b[32], id_c[32], id_o[32], br[IFNAMSIZ];
static char rundir[64];
static int net;		/* third octet of this run's subnets */

/* Run argv, collect stdout+stderr into out; returns the exit status. */
static int
run(char *out, size_t size, const char *const *argv)
{
	int p[2], st;
	size_t used = 0;
	ssize_t r;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(p[1]);
	while (out != NULL && used + 1 < size &&
	    (r = read(p[0], out + used, size - 1 - used)) > 0)
		used += (size_t)r;
	if (out != NULL)
		out[used] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int
node_exec(const char *id, char *out, size_t size, const char *const *argv)
{
	struct vnode_exec ex = { .argv = argv, .out = out, .outsz = size,
	    .timeout_ms = 8000 };
	int st = -1;

	if (drv->ops->exec(drv, id, &ex, &st) == -1) {
		err_print(stderr);
		return -1;
	}
	return st;
}

static void
add_if(struct vnode_spec *s, const char *name, const char *cidr,
    const char *bridge)
{
	struct vnode_if *i = &s->ifs[s->nifs++];

	memset(i, 0, sizeof(*i));
	str_lcpy(i->name, name, sizeof(i->name));
	ck_assert_int_eq(vnode_parse_cidr(cidr, &i->addr, &i->prefix), 0);
	if (bridge != NULL)
		str_lcpy(i->bridge, bridge, sizeof(i->bridge));
}

static void
base_spec(struct vnode_spec *s, const char *id, const char *name)
{
	memset(s, 0, sizeof(*s));
	str_lcpy(s->id, id, sizeof(s->id));
	str_lcpy(s->name, name, sizeof(s->name));
	s->kind = VNODE_NETNS;
}

static int
ns_exists(const char *id)
{
	char p[128];

	snprintf(p, sizeof(p), "/run/netns/" VNODE_PREFIX "%s", id);
	return access(p, F_OK) == 0;
}

/* Is there any host link whose alias names node id? */
static int
host_alias_exists(const char *id)
{
	char pre[64];
	/* grep, not a buffer: a busy host lists thousands of links. */
	const char *argv[] = { "sh", "-c", "ip -o link show | grep -qF \"$0\"",
	    pre, NULL };

	snprintf(pre, sizeof(pre), "alias vnsm:%s:", id);
	return run(NULL, 0, argv) == 0;
}

static void
setup(void)
{
	struct drv_conf conf;
	char s[32];
	const char *mk[] = { "ip", "link", "add", br, "type", "bridge", NULL };
	const char *up[] = { "ip", "link", "set", br, "up", NULL };

	err_reset();
	snprintf(id_a, sizeof(id_a), "vt%da", (int)getpid());
	snprintf(id_b, sizeof(id_b), "vt%db", (int)getpid());
	snprintf(id_c, sizeof(id_c), "vt%dc", (int)getpid());
	snprintf(id_o, sizeof(id_o), "vt%do", (int)getpid());
	snprintf(br, sizeof(br), "vt%dbr", (int)getpid() % 100000);
	snprintf(rundir, sizeof(rundir), "/tmp/vt%d-run", (int)getpid());
	net = getpid() % 200 + 20;
	memset(&conf, 0, sizeof(conf));
	conf.rundir = rundir;
	drv = drv_open("netns", &conf);
	if (drv == NULL)
		err_print(stderr);
	ck_assert_ptr_nonnull(drv);
	ck_assert_int_eq(run(NULL, 0, mk), 0);
	ck_assert_int_eq(run(NULL, 0, up), 0);
	(void)s;
}

static void
teardown(void)
{
	const char *del[] = { "ip", "link", "del", br, NULL };
	const char *ids[] = { id_a, id_b, id_c, id_o };

	for (size_t i = 0; i < NELEM(ids); i++)
		drv->ops->delete(drv, ids[i]);
	run(NULL, 0, del);
	drv_close(drv);
	{
		const char *rm[] = { "rm", "-rf", rundir, NULL };

		run(NULL, 0, rm);
	}
	err_reset();
}

START_TEST(test_two_nodes_ping_pause_hotplug_delete)
{
	struct vnode_spec a, b;
	struct vnode_info *v;
	struct vnode_if nif;
	char out[4096], cidr[32], want[64], dst[32];
	size_t n;
	int found = 0;

	base_spec(&a, id_a, "r1");
	snprintf(cidr, sizeof(cidr), "10.77.%d.1/24", net);
	add_if(&a, "eth0", cidr, br);
	snprintf(cidr, sizeof(cidr), "10.78.%d.1/24", net);
	add_if(&a, "eth1", cidr, NULL);
	base_spec(&b, id_b, "r2");
	snprintf(cidr, sizeof(cidr), "10.77.%d.2/24", net);
	add_if(&b, "eth0", cidr, br);
	b.nroutes = 1;
	snprintf(cidr, sizeof(cidr), "10.78.%d.0/24", net);
	vnode_parse_cidr(cidr, &b.routes[0].dst, &b.routes[0].prefix);
	snprintf(cidr, sizeof(cidr), "10.77.%d.1/32", net);
	vnode_parse_cidr(cidr, &b.routes[0].via, &(uint8_t){ 0 });

	double t0 = now_ms();
	ck_assert_int_eq(drv->ops->create(drv, &a), 0);
	double t1 = now_ms();
	ck_assert_int_eq(drv->ops->create(drv, &b), 0);
	printf("netns create with 2 veths: %.2f ms\n", t1 - t0);
	ck_assert(ns_exists(id_a) && ns_exists(id_b));
	ck_assert(host_alias_exists(id_a));

	/* Addresses, as ip(8) sees them inside the namespace. */
	{
		char nsname[64];
		const char *argv[] = { "ip", "-n", nsname, "-o", "addr", "show",
		    NULL };

		snprintf(nsname, sizeof(nsname), VNODE_PREFIX "%s", id_a);
		ck_assert_int_eq(run(out, sizeof(out), argv), 0);
		snprintf(want, sizeof(want), "eth0    inet 10.77.%d.1/24", net);
		ck_assert_msg(strstr(out, want) != NULL, "%s", out);
		snprintf(want, sizeof(want), "eth1    inet 10.78.%d.1/24", net);
		ck_assert_msg(strstr(out, want) != NULL, "%s", out);
		ck_assert_msg(strstr(out, "lo    inet 127.0.0.1/8") != NULL,
		    "%s", out);
	}
	{
		const char *argv[] = { "cat", "/proc/sys/net/ipv4/ip_forward",
		    NULL };

		ck_assert_int_eq(node_exec(id_a, out, sizeof(out), argv), 0);
		ck_assert_str_eq(out, "1\n");
	}

	ck_assert_int_eq(drv->ops->start(drv, id_a), 0);
	ck_assert_int_eq(drv->ops->start(drv, id_b), 0);
	snprintf(dst, sizeof(dst), "10.78.%d.1", net);
	{
		const char *ping[] = { "ping", "-c1", "-W2", dst, NULL };

		ck_assert_int_eq(node_exec(id_b, out, sizeof(out), ping), 0);
		/* Paused: no carrier, nothing forwarded. */
		ck_assert_int_eq(drv->ops->pause(drv, id_a), 0);
		const char *ping1[] = { "ping", "-c1", "-W1", dst, NULL };
		ck_assert_int_ne(node_exec(id_b, out, sizeof(out), ping1), 0);
		ck_assert_int_eq(drv->ops->resume(drv, id_a), 0);
		ck_assert_int_eq(node_exec(id_b, out, sizeof(out), ping), 0);
	}

	/* list finds both, with their names and states. */
	ck_assert_int_eq(drv->ops->list(drv, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].id, id_a) == 0 || strcmp(v[i].id, id_b) == 0) {
			found++;
			ck_assert_int_eq(v[i].state, VNODE_ST_RUNNING);
			ck_assert(v[i].name[0] == 'r');
		}
	free(v);
	ck_assert_int_eq(found, 2);

	/* Hot-add and remove an interface. */
	memset(&nif, 0, sizeof(nif));
	str_lcpy(nif.name, "eth2", sizeof(nif.name));
	snprintf(cidr, sizeof(cidr), "10.79.%d.2/24", net);
	vnode_parse_cidr(cidr, &nif.addr, &nif.prefix);
	nif.mtu = 1400;
	ck_assert_int_eq(drv->ops->attach(drv, id_b, &nif), 0);
	{
		const char *argv[] = { "ip", "-o", "addr", "show", "eth2", NULL };

		ck_assert_int_eq(node_exec(id_b, out, sizeof(out), argv), 0);
		snprintf(want, sizeof(want), "inet 10.79.%d.2/24", net);
		ck_assert_msg(strstr(out, want) != NULL, "%s", out);
		const char *mtu[] = { "cat", "/sys/class/net/eth2/mtu", NULL };
		(void)mtu;
	}
	ck_assert_int_eq(drv->ops->attach(drv, id_b, &nif), -1);
	ck_assert_int_eq(err_last_code(), ERR_DUPLICATE);
	err_reset();
	ck_assert_int_eq(drv->ops->detach(drv, id_b, "eth2"), 0);
	{
		const char *argv[] = { "ip", "link", "show", "eth2", NULL };

		ck_assert_int_ne(node_exec(id_b, out, sizeof(out), argv), 0);
	}

	/* Delete leaves nothing. */
	ck_assert_int_eq(drv->ops->delete(drv, id_a), 0);
	ck_assert_int_eq(drv->ops->delete(drv, id_b), 0);
	ck_assert(!ns_exists(id_a) && !ns_exists(id_b));
	ck_assert(!host_alias_exists(id_a) && !host_alias_exists(id_b));
	snprintf(out, sizeof(out), "%s/netns/%s", rundir, id_a);
	ck_assert_int_eq(access(out, F_OK), -1);
	ck_assert_int_eq(drv->ops->delete(drv, id_a), -1);
	ck_assert_int_eq(err_last_code(), ERR_NOT_FOUND);
}
END_TEST

/* Read a cgroup file of node id into buf; "" if it does not exist. */
static void
cg_read(const char *id, const char *file, char *buf, size_t size)
{
	char p[512];
	int fd;
	ssize_t r;

	ck_assert_int_eq(drv_netns_cgfile(drv, id, file, p, sizeof(p)), 0);
	buf[0] = '\0';
	if ((fd = open(p, O_RDONLY)) == -1)
		return;
	r = read(fd, buf, size - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
}

START_TEST(test_namespaces_cgroup_sshd)
{
	struct vnode_spec c;
	char out[4096], key[128], pub[256], buf[256], cidr[32];
	unsigned caps = drv_netns_caps(drv);
	const char *kg[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
	    "-f", key, NULL };
	FILE *fp;

	snprintf(key, sizeof(key), "%s/key", rundir);
	snprintf(pub, sizeof(pub), "%s.pub", key);
	unlink(key);
	unlink(pub);
	ck_assert_int_eq(run(NULL, 0, kg), 0);
	base_spec(&c, id_c, "vt-node-c");
	snprintf(cidr, sizeof(cidr), "10.80.%d.1/24", net);
	add_if(&c, "eth0", cidr, NULL);
	c.flags = VNODE_F_MNTNS | VNODE_F_UTSNS | VNODE_F_PIDNS |
	    VNODE_F_CGROUP | VNODE_F_SSHD;
	c.cpu_milli = 500;
	c.mem_mib = 64;
	ck_assert_ptr_nonnull(fp = fopen(pub, "r"));
	ck_assert_ptr_nonnull(fgets(c.ssh_key, sizeof(c.ssh_key), fp));
	fclose(fp);
	c.ssh_key[strcspn(c.ssh_key, "\n")] = '\0';

	if (drv->ops->create(drv, &c) == -1)
		err_print(stderr);
	ck_assert_int_eq(err_count(), 0);
	ck_assert_int_eq(drv->ops->start(drv, id_c), 0);

	/* Limits, where this host has the controllers. */
	if (caps & NETNS_CAP_CPU) {
		cg_read(id_c, "cpu.max", buf, sizeof(buf));
		if (buf[0] != '\0')
			ck_assert_str_eq(buf, "50000 100000\n");
		else {
			cg_read(id_c, "cpu.cfs_quota_us", buf, sizeof(buf));
			ck_assert_str_eq(buf, "50000\n");
		}
	} else
		printf("no cpu cgroup controller: CPU limit not checked\n");
	if (caps & NETNS_CAP_MEM) {
		cg_read(id_c, "memory.max", buf, sizeof(buf));
		if (buf[0] == '\0')
			cg_read(id_c, "memory.limit_in_bytes", buf, sizeof(buf));
		ck_assert_str_eq(buf, "67108864\n");
	} else
		printf("no memory cgroup controller: memory limit not checked\n");

	/* Own hostname and PID namespace. */
	{
		const char *hn[] = { "hostname", NULL };
		const char *pid[] = { "sh", "-c", "echo $$", NULL };

		ck_assert_int_eq(node_exec(id_c, out, sizeof(out), hn), 0);
		ck_assert_str_eq(out, "vt-node-c\n");
		ck_assert_int_eq(node_exec(id_c, out, sizeof(out), pid), 0);
		ck_assert_msg(atoi(out) > 1 && atoi(out) < 100, "pid %s", out);
	}

	/* ssh into the node with the authorized key. */
	{
		const char *ssh[] = { "ssh", "-i", key, "-o",
		    "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		    "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o",
		    "LogLevel=ERROR", "root@127.0.0.1", "hostname", NULL };
		int st = -1;

		for (int t = 0; t < 50; t++) {
			st = node_exec(id_c, out, sizeof(out), ssh);
			if (st == 0)
				break;
			usleep(100000);
		}
		ck_assert_msg(st == 0, "ssh: %d %s", st, out);
		ck_assert_str_eq(out, "vt-node-c\n");
	}

	/* Pause freezes, resume thaws. */
	ck_assert_int_eq(drv->ops->pause(drv, id_c), 0);
	if (caps & NETNS_CAP_FREEZE) {
		cg_read(id_c, "cgroup.events", buf, sizeof(buf));
		if (buf[0] != '\0')
			ck_assert_msg(strstr(buf, "frozen 1") != NULL, "%s", buf);
	}
	{
		const char *t[] = { "true", NULL };
		struct vnode_exec ex = { .argv = t };
		int st;

		ck_assert_int_eq(drv->ops->exec(drv, id_c, &ex, &st), -1);
		ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
		err_reset();
	}
	ck_assert_int_eq(drv->ops->resume(drv, id_c), 0);
	{
		struct vnode_console con;

		ck_assert_int_eq(drv->ops->console(drv, id_c, &con), 0);
		ck_assert_int_eq(con.kind, VNODE_CON_EXEC);
		ck_assert_str_eq(con.argv[0], "nsenter");
		ck_assert(strstr(con.ssh, "root@10.80.") == con.ssh);
	}

	ck_assert_int_eq(drv->ops->delete(drv, id_c), 0);
	ck_assert(!ns_exists(id_c));
	if (caps & NETNS_CAP_FREEZE) {
		ck_assert_int_eq(drv_netns_cgfile(drv, id_c, "cgroup.procs",
		    buf, sizeof(buf)), 0);
		ck_assert_int_eq(access(buf, F_OK), -1);
	}
	if (caps & NETNS_CAP_MEM) {
		ck_assert_int_eq(drv_netns_cgfile(drv, id_c, "memory.stat",
		    buf, sizeof(buf)), 0);
		ck_assert_int_eq(access(buf, F_OK), -1);
	}
}
END_TEST

START_TEST(test_orphan_and_errors)
{
	struct vnode_spec s;
	struct vnode_info *v;
	char nsname[64], cidr[32];
	const char *add[] = { "ip", "netns", "add", nsname, NULL };
	size_t n;
	int found = 0;

	/* A namespace with our prefix but no files: list and delete it. */
	snprintf(nsname, sizeof(nsname), VNODE_PREFIX "%s", id_o);
	ck_assert_int_eq(run(NULL, 0, add), 0);
	ck_assert_int_eq(drv->ops->list(drv, &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].id, id_o) == 0) {
			found = 1;
			ck_assert_int_eq(v[i].state, VNODE_ST_UNKNOWN);
		}
	free(v);
	ck_assert(found);
	ck_assert_int_eq(drv->ops->delete(drv, id_o), 0);
	ck_assert(!ns_exists(id_o));

	/* Duplicate interface names. */
	base_spec(&s, id_a, "x");
	add_if(&s, "eth0", "10.1.1.1/24", NULL);
	add_if(&s, "eth0", "10.1.2.1/24", NULL);
	ck_assert_int_eq(drv->ops->create(drv, &s), -1);
	ck_assert_int_eq(err_last_code(), ERR_DUPLICATE);
	err_reset();

	/* An unreachable gateway: refused, and nothing is left behind. */
	base_spec(&s, id_a, "x");
	snprintf(cidr, sizeof(cidr), "10.81.%d.1/24", net);
	add_if(&s, "eth0", cidr, NULL);
	s.nroutes = 1;
	vnode_parse_cidr("10.200.0.0/16", &s.routes[0].dst, &s.routes[0].prefix);
	vnode_parse_cidr("10.201.0.1/32", &s.routes[0].via, &(uint8_t){ 0 });
	ck_assert_int_eq(drv->ops->create(drv, &s), -1);
	ck_assert_int_eq(err_last_code(), ERR_INVALID);
	err_reset();
	ck_assert(!ns_exists(id_a));
	ck_assert(!host_alias_exists(id_a));

	/* Twice the same id. */
	s.nroutes = 0;
	ck_assert_int_eq(drv->ops->create(drv, &s), 0);
	ck_assert_int_eq(drv->ops->create(drv, &s), -1);
	ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
	err_reset();
	/* Pause of a node that is not running. */
	ck_assert_int_eq(drv->ops->pause(drv, id_a), -1);
	ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
	err_reset();
	ck_assert_int_eq(drv->ops->delete(drv, id_a), 0);
}
END_TEST

START_TEST(test_registry)
{
	char why[8][DRV_WHY_MAX];
	unsigned mask = drv_probe_all(NULL, why, NELEM(why));

	ck_assert_ptr_nonnull(drv_lookup("netns"));
	ck_assert_ptr_null(drv_lookup("nope"));
	ck_assert_int_eq(err_last_code(), ERR_NOT_FOUND);
	err_reset();
	for (size_t i = 0; drv_nth(i) != NULL; i++)
		printf("driver %-8s %s%s\n", drv_nth(i)->name,
		    (mask & (1u << i)) ? "works" : "does not work: ", why[i]);
	ck_assert(mask & 1u);	/* netns, as root */
	ck_assert(!(mask & 4u));	/* xen: no hypervisor here */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("drv_netns");
	TCase *tc = tcase_create("netns");
	SRunner *sr;
	int nf;

	if (geteuid() != 0) {
		printf("not root: netns driver tests skipped\n");
		return 0;
	}
	/*
	 * Unchecked: set up once in this process and torn down here even
	 * when a test (in its own forked process) fails half-way.
	 */
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_two_nodes_ping_pause_hotplug_delete);
	tcase_add_test(tc, test_namespaces_cgroup_sshd);
	tcase_add_test(tc, test_orphan_and_errors);
	tcase_add_test(tc, test_registry);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
