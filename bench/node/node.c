/*
 * bench/node: create-to-running of virtual nodes through the compute
 * drivers, and a boot check the integration test uses.
 *
 *   node [-n N] [-i IMGDIR] bench netns|lxc|qemu
 *	N times: create, start, wait until the node answers (netns: the
 *	call returns; LXC/QEMU: its console answers a shell command),
 *	delete.  Prints min/median/max of create-to-running in ms.
 *   node [-n N] [-i IMGDIR] pool netns|lxc|qemu
 *	Warm pool as substrated keeps it: N members created, started (and
 *	booted: console answers) and paused ahead; then each is claimed the
 *	way the agent claims (hot-add eth0 with its address, resume) and
 *	timed, then N nodes are made on demand (create with eth0, start,
 *	console answers) and timed.  Prints both, their ratio, and the
 *	memory per idle pooled member (MemAvailable before and after the
 *	pool was made, divided by N).
 *   node [-i IMGDIR] check lxc|qemu ID
 *	One node with id ID: create, start, wait for the console to answer
 *	(bounded), delete.  Exit 0 if it answered.
 *
 * lxc uses lxc:///system, qemu uses qemu:///system with TCG (type='qemu':
 * KVM does not work for stock guests on the build machines).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "../../substrate-agent/driver.h"
#include "../../tests/harness/harness.h"

/*
 * Send a shell command to the console pty until the answer shows up or
 * timeout_ms passes.  0 if it answered.
 */
static int
console_answers(const char *path, int timeout_ms)
{
	const char cmd[] = "\necho vnsm-$((6*7))-ok\n";
	double end = now_ms() + timeout_ms, last = 0;
	char buf[8192];
	size_t used = 0;
	struct termios t;
	int fd;

	if ((fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (now_ms() - last > 1000) {
			if (write(fd, cmd, sizeof(cmd) - 1) < 0)
				break;
			last = now_ms();
		}
		if (poll(&p, 1, 100) != 1)
			continue;
		if (used + 1 >= sizeof(buf)) {
			memmove(buf, buf + used / 2, used - used / 2);
			used -= used / 2;
		}
		if ((r = read(fd, buf + used, sizeof(buf) - 1 - used)) <= 0)
			continue;
		used += (size_t)r;
		buf[used] = '\0';
		if (strstr(buf, "vnsm-42-ok") != NULL) {
			close(fd);
			return 0;
		}
	}
	close(fd);
	fprintf(stderr, "console %s: no answer in %d ms; last output:\n%s\n",
	    path, timeout_ms, used ? buf : "(none)");
	return -1;
}

static void
spec_for(struct vnode_spec *s, const char *id, const char *kind)
{
	struct vnode_if *f;

	memset(s, 0, sizeof(*s));
	str_lcpy(s->id, id, sizeof(s->id));
	str_lcpy(s->name, id, sizeof(s->name));
	s->kind = strcmp(kind, "lxc") == 0 ? VNODE_CONTAINER :
	    strcmp(kind, "qemu") == 0 ? VNODE_VM : VNODE_NETNS;
	s->mem_mib = 256;
	str_lcpy(s->image, "router", sizeof(s->image));
	f = &s->ifs[s->nifs++];
	str_lcpy(f->name, "eth0", sizeof(f->name));
	vnode_parse_cidr("10.99.0.1/24", &f->addr, &f->prefix);
	/* Host-side name from the id (unique per node). */
	snprintf(f->peer, sizeof(f->peer), "vb%.12s", id + (strlen(id) > 12 ?
	    strlen(id) - 12 : 0));
}

/*
 * Create and start one node and wait until it answers; returns the time
 * from create to answer in ms, or -1.  The node is left for the caller
 * to delete.
 */
static double
bring_up(struct drv *d, const char *kind, const char *id, int timeout_ms)
{
	struct vnode_spec s;
	struct vnode_console con;
	double t0 = now_ms();

	spec_for(&s, id, kind);
	if (d->ops->create(d, &s) == -1 || d->ops->start(d, id) == -1)
		return -1;
	if (s.kind == VNODE_NETNS)
		return now_ms() - t0;
	if (d->ops->console(d, id, &con) == -1)
		return -1;
	if (con.kind != VNODE_CON_PTY) {
		err_set(ERR_UNSUPPORTED, "node '%s' has no console pty", id);
		return -1;
	}
	if (console_answers(con.path, timeout_ms) == -1) {
		err_set(ERR_TIMEOUT, "the console of node '%s' did not answer",
		    id);
		return -1;
	}
	return now_ms() - t0;
}

static void
stats(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), hn_cmp_double);
	printf("%s, %d nodes: min %.2f ms, median %.2f ms, max %.2f ms\n",
	    what, n, t[0], t[n / 2], t[n - 1]);
}

/*
 * The pool mode (see the top of the file).  Returns 0 or 1.
 */
static int
pool_bench(struct drv *d, const char *kind, int n)
{
	double *claim = calloc((size_t)n, sizeof(double));
	double *demand = calloc((size_t)n, sizeof(double));
	double *att = calloc((size_t)n, sizeof(double));
	double *res = calloc((size_t)n, sizeof(double));
	char (*ids)[32] = calloc((size_t)n, sizeof(*ids));
	long before, after;
	int rc = 0, made = 0;

	if (claim == NULL || demand == NULL || ids == NULL || att == NULL ||
	    res == NULL)
		return 1;
	before = hn_mem_available_kib();
	for (int i = 0; i < n && rc == 0; i++) {
		struct vnode_spec s;

		snprintf(ids[i], sizeof(ids[i]), "vbp%d-%d", (int)getpid(), i);
		spec_for(&s, ids[i], kind);
		s.nifs = 0;	/* interfaces come with the claim */
		if (d->ops->create(d, &s) == -1 || d->ops->start(d, ids[i]) ==
		    -1) {
			rc = 1;
			break;
		}
		made++;
		if (s.kind != VNODE_NETNS) {
			struct vnode_console con;

			if (d->ops->console(d, ids[i], &con) == -1 ||
			    console_answers(con.path, 60000) == -1) {
				rc = 1;
				break;
			}
		}
		if (d->ops->pause(d, ids[i]) == -1)
			rc = 1;
	}
	after = hn_mem_available_kib();
	if (rc == 0)
		printf("%s pool of %d paused members: %.0f KiB per member "
		    "(MemAvailable %ld -> %ld KiB)\n", kind, n,
		    (double)(before - after) / n, before, after);
	for (int i = 0; i < made && rc == 0; i++) {
		struct vnode_spec s;
		double t0;

		spec_for(&s, ids[i], kind);
		t0 = now_ms();
		if (d->ops->attach(d, ids[i], &s.ifs[0]) == -1) {
			rc = 1;
			break;
		}
		att[i] = now_ms() - t0;
		if (d->ops->resume(d, ids[i]) == -1) {
			rc = 1;
			break;
		}
		claim[i] = now_ms() - t0;
		res[i] = claim[i] - att[i];
	}
	for (int i = 0; i < made; i++)
		d->ops->delete(d, ids[i]);
	for (int i = 0; i < n && rc == 0; i++) {
		char id[32];

		snprintf(id, sizeof(id), "vbd%d-%d", (int)getpid(), i);
		demand[i] = bring_up(d, kind, id, 60000);
		if (demand[i] < 0)
			rc = 1;
		d->ops->delete(d, id);
	}
	if (rc == 0) {
		stats("claim from pool (hot-add eth0 + resume)", claim, n);
		stats("  of which hot-add eth0", att, n);
		stats("  of which resume", res, n);
		stats("on demand (create + start, until it answers)", demand,
		    n);
		printf("%s: on demand / claim, medians: %.1fx\n", kind,
		    demand[n / 2] / claim[n / 2]);
	} else
		err_print(stderr);
	free(claim);
	free(demand);
	free(att);
	free(res);
	free(ids);
	return rc;
}

static struct drv *
open_kind(const char *kind, const char *imgdir)
{
	struct drv_conf c = { .imgdir = imgdir };

	if (strcmp(kind, "netns") == 0)
		return drv_open("netns", &c);
	c.uri = strcmp(kind, "lxc") == 0 ? "lxc:///system" : "qemu:///system";
	c.virt_type = 1;
	return drv_open("libvirt", &c);
}


static void
usage(void)
{
	fprintf(stderr, "usage: node [-n count] [-i imgdir] bench "
	    "netns|lxc|qemu\n       node [-n count] [-i imgdir] pool "
	    "netns|lxc|qemu\n       node [-i imgdir] check lxc|qemu id\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *imgdir = NULL;
	struct drv *d;
	int ch, n = 5, rc = 0;

	log_init("node", 1, 0);
	while ((ch = getopt(argc, argv, "i:n:")) != -1) {
		switch (ch) {
		case 'i': imgdir = optarg; break;
		case 'n': n = atoi(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || n < 1 || n > 1000)
		usage();
	if ((d = open_kind(argv[1], imgdir)) == NULL) {
		err_print(stderr);
		return 1;
	}
	if (strcmp(argv[0], "check") == 0 && argc == 3) {
		int tmo = strcmp(argv[1], "qemu") == 0 ? 60000 : 15000;
		double ms = bring_up(d, argv[1], argv[2], tmo);

		if (ms < 0) {
			err_print(stderr);
			rc = 1;
		} else
			printf("%s node %s answered on its console %.0f ms "
			    "after create\n", argv[1], argv[2], ms);
		err_reset();
		if (d->ops->delete(d, argv[2]) == -1) {
			err_print(stderr);
			rc = 1;
		}
	} else if (strcmp(argv[0], "bench") == 0) {
		double *t = calloc((size_t)n, sizeof(*t));

		for (int i = 0; i < n && t != NULL; i++) {
			char id[32];

			snprintf(id, sizeof(id), "vb%d-%d", (int)getpid(), i);
			t[i] = bring_up(d, argv[1], id, 60000);
			if (t[i] < 0) {
				err_print(stderr);
				rc = 1;
			}
			err_reset();
			d->ops->delete(d, id);
			if (rc)
				break;
		}
		if (rc == 0 && t != NULL) {
			qsort(t, (size_t)n, sizeof(*t), hn_cmp_double);
			printf("%s create-to-running, %d nodes: min %.2f ms, "
			    "median %.2f ms, max %.2f ms\n", argv[1], n, t[0],
			    t[n / 2], t[n - 1]);
		}
		free(t);
	} else if (strcmp(argv[0], "pool") == 0)
		rc = pool_bench(d, argv[1], n);
	else
		usage();
	drv_close(d);
	return rc;
}
