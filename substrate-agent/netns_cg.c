/*
 * cgroups of netns nodes.  Hosts differ: pure cgroup v2, hybrid (v1
 * controllers plus a v2 mount at /sys/fs/cgroup/unified with few or no
 * controllers, like the build machines), or pure v1.  At open we find,
 * for each of cpu and memory, the hierarchy that has it, preferring v2;
 * freezing uses v2's cgroup.freeze when any v2 mount exists, else the v1
 * freezer, else (no cgroup at all) the driver falls back to SIGSTOP.
 *
 * A node's groups are named vnsm/vn-<id> in every hierarchy used, so a
 * leftover group after a crash names its node.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "netns.h"

#define CG_DIR	"vnsm"		/* our parent group in each hierarchy */
#define CPU_PERIOD_US	100000u	/* CFS period for cpu limits, µs */

static int
exists(const char *dir, const char *file)
{
	char p[NETNS_PATH];

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, file) >= sizeof(p))
		return 0;
	return access(p, F_OK) == 0;
}

/* Is word in the space-separated list in file dir/name? */
static int
file_has_word(const char *dir, const char *name, const char *word)
{
	char p[NETNS_PATH], buf[512];
	size_t wl = strlen(word);
	ssize_t r;
	int fd;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p) ||
	    (fd = open(p, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	for (char *s = buf; (s = strstr(s, word)) != NULL; s += wl)
		if ((s == buf || s[-1] == ' ') &&
		    (s[wl] == ' ' || s[wl] == '\n' || s[wl] == '\0'))
			return 1;
	return 0;
}

void
netns_cg_detect(const char *cgroot, struct netns_cg *cg)
{
	char p[NETNS_PATH];

	memset(cg, 0, sizeof(*cg));
	if (cgroot == NULL)
		cgroot = "/sys/fs/cgroup";
	if (exists(cgroot, "cgroup.controllers"))
		str_lcpy(cg->v2, cgroot, sizeof(cg->v2));
	else {
		snprintf(p, sizeof(p), "%s/unified", cgroot);
		if (exists(p, "cgroup.controllers"))
			str_lcpy(cg->v2, p, sizeof(cg->v2));
	}
	if (cg->v2[0] != '\0' &&
	    file_has_word(cg->v2, "cgroup.controllers", "cpu")) {
		str_lcpy(cg->cpu, cg->v2, sizeof(cg->cpu));
		cg->cpu_v2 = 1;
	} else {
		snprintf(p, sizeof(p), "%s/cpu", cgroot);
		if (exists(p, "cpu.cfs_quota_us") || exists(p, "cpu.shares"))
			str_lcpy(cg->cpu, p, sizeof(cg->cpu));
	}
	if (cg->v2[0] != '\0' &&
	    file_has_word(cg->v2, "cgroup.controllers", "memory")) {
		str_lcpy(cg->mem, cg->v2, sizeof(cg->mem));
		cg->mem_v2 = 1;
	} else {
		snprintf(p, sizeof(p), "%s/memory", cgroot);
		if (exists(p, "memory.limit_in_bytes"))
			str_lcpy(cg->mem, p, sizeof(cg->mem));
	}
	if (cg->v2[0] == '\0') {
		snprintf(p, sizeof(p), "%s/freezer", cgroot);
		if (exists(p, "cgroup.procs"))
			str_lcpy(cg->freezer, p, sizeof(cg->freezer));
	}
}

int
netns_cg_wanted(const struct vnode_spec *spec)
{
	return (spec->flags & (VNODE_F_CGROUP | VNODE_F_MNTNS |
	    VNODE_F_UTSNS | VNODE_F_PIDNS | VNODE_F_SSHD)) != 0;
}

/* Write a value into dir/file; -1 with ERR_SYSTEM naming the file. */
static int
cg_write(const char *dir, const char *file, const char *val)
{
	char p[NETNS_PATH];
	size_t len = strlen(val);
	int fd;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, file) >= sizeof(p))
		return err_set(ERR_INVALID, "cgroup path too long: %s/%s", dir,
		    file);
	if ((fd = open(p, O_WRONLY | O_CLOEXEC)) == -1)
		return err_sys("open %s", p);
	if (write(fd, val, len) != (ssize_t)len) {
		err_sys("write '%s' to %s", val, p);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* dir of node id in hierarchy root into buf. */
static int
cg_dir(const char *root, const char *id, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/" CG_DIR "/" VNODE_PREFIX "%s",
	    root, id) >= size)
		return err_set(ERR_INVALID, "cgroup path too long for node "
		    "'%s'", id);
	return 0;
}

/* Make root/vnsm/vn-<id>, and root/vnsm first if need be. */
static int
cg_mkdir(const char *root, const char *id, const char *ctl)
{
	char p[NETNS_PATH];

	snprintf(p, sizeof(p), "%s/" CG_DIR, root);
	if (mkdir(p, 0755) == -1 && errno != EEXIST)
		return err_sys("mkdir %s", p);
	if (ctl != NULL) {
		/* Let vnsm/ and its children use the v2 controllers. */
		if (cg_write(root, "cgroup.subtree_control", ctl) == -1 ||
		    cg_write(p, "cgroup.subtree_control", ctl) == -1)
			return -1;
	}
	if (cg_dir(root, id, p, sizeof(p)) == -1)
		return -1;
	if (mkdir(p, 0755) == -1 && errno != EEXIST)
		return err_sys("mkdir %s", p);
	return 0;
}

/*
 * Make the node's groups and write its limits.  With VNODE_F_CGROUP, a
 * limit the host cannot enforce is refused (ERR_UNSUPPORTED): admission
 * counts on it.  The caller removes the groups on failure.
 */
int
netns_cg_create(struct netns *ns, const struct vnode_spec *spec)
{
	struct netns_cg *cg = &ns->cg;
	int limits = (spec->flags & VNODE_F_CGROUP) != 0;
	const char *ctl = NULL;
	char d[NETNS_PATH], val[64];

	if (!netns_cg_wanted(spec))
		return 0;
	if (limits && spec->cpu_milli != 0 && cg->cpu[0] == '\0')
		return err_set(ERR_UNSUPPORTED, "cannot limit the CPU of node "
		    "'%s': this host has no cpu cgroup controller (neither "
		    "cgroup v2 nor v1)", spec->id);
	if (limits && spec->mem_mib != 0 && cg->mem[0] == '\0')
		return err_set(ERR_UNSUPPORTED, "cannot limit the memory of "
		    "node '%s': this host has no memory cgroup controller "
		    "(neither cgroup v2 nor v1)", spec->id);
	if (cg->cpu_v2 && cg->mem_v2)
		ctl = "+cpu +memory";
	else if (cg->cpu_v2 || cg->mem_v2)
		ctl = cg->cpu_v2 ? "+cpu" : "+memory";
	if (cg->v2[0] != '\0' && cg_mkdir(cg->v2, spec->id, ctl) == -1)
		return -1;
	if (cg->freezer[0] != '\0' && cg_mkdir(cg->freezer, spec->id, NULL) == -1)
		return -1;
	if (limits && spec->cpu_milli != 0) {
		if (!cg->cpu_v2 && cg_mkdir(cg->cpu, spec->id, NULL) == -1)
			return -1;
		if (cg_dir(cg->cpu, spec->id, d, sizeof(d)) == -1)
			return -1;
		snprintf(val, sizeof(val), "%u", spec->cpu_milli *
		    (CPU_PERIOD_US / 1000));
		if (cg->cpu_v2) {
			snprintf(val, sizeof(val), "%u %u", spec->cpu_milli *
			    (CPU_PERIOD_US / 1000), CPU_PERIOD_US);
			if (cg_write(d, "cpu.max", val) == -1)
				return -1;
		} else if (cg_write(d, "cpu.cfs_period_us", "100000") == -1 ||
		    cg_write(d, "cpu.cfs_quota_us", val) == -1)
			return -1;
	}
	if (limits && spec->mem_mib != 0) {
		if (!cg->mem_v2 && cg_mkdir(cg->mem, spec->id, NULL) == -1)
			return -1;
		if (cg_dir(cg->mem, spec->id, d, sizeof(d)) == -1)
			return -1;
		snprintf(val, sizeof(val), "%llu",
		    (unsigned long long)spec->mem_mib << 20);
		if (cg_write(d, cg->mem_v2 ? "memory.max" :
		    "memory.limit_in_bytes", val) == -1)
			return -1;
	}
	return 0;
}

/* Read the first line of a file into buf; "" on failure. */
static void
read_line(const char *path, char *buf, size_t size)
{
	ssize_t r;
	int fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	r = read(fd, buf, size - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
}

/*
 * Freeze or thaw and wait (up to 1 s) until the kernel says it is done:
 * a freeze is asynchronous in both v1 and v2.
 */
int
netns_cg_freeze(struct netns *ns, const char *id, int on)
{
	char d[NETNS_PATH], p[NETNS_PATH], buf[256];
	struct timespec ts = { 0, 1000000 };
	int v2 = ns->cg.v2[0] != '\0';

	if (!v2 && ns->cg.freezer[0] == '\0')
		return 0;
	if (cg_dir(v2 ? ns->cg.v2 : ns->cg.freezer, id, d, sizeof(d)) == -1)
		return -1;
	if (access(d, F_OK) == -1)
		return 0;
	if (cg_write(d, v2 ? "cgroup.freeze" : "freezer.state",
	    v2 ? (on ? "1" : "0") : (on ? "FROZEN" : "THAWED")) == -1)
		return -1;
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", d, v2 ? "cgroup.events" :
	    "freezer.state") >= sizeof(p))
		return err_set(ERR_INVALID, "cgroup path too long");
	for (int i = 0; i < 1000; i++) {
		read_line(p, buf, sizeof(buf));
		if (v2 ? strstr(buf, on ? "frozen 1" : "frozen 0") != NULL :
		    strncmp(buf, on ? "FROZEN" : "THAWED", 6) == 0)
			return 1;
		nanosleep(&ts, NULL);
	}
	return err_set(ERR_TIMEOUT, "node '%s' did not %s within 1 s", id,
	    on ? "freeze" : "thaw");
}

int
netns_cg_procs(struct netns *ns, const char *id, int *fds, int max)
{
	const char *roots[4];
	char d[NETNS_PATH], p[NETNS_PATH + 16];
	int nr = 0, n = 0;

	roots[nr++] = ns->cg.v2;
	roots[nr++] = ns->cg.freezer;
	roots[nr++] = ns->cg.cpu_v2 ? "" : ns->cg.cpu;
	roots[nr++] = ns->cg.mem_v2 ? "" : ns->cg.mem;
	for (int i = 0; i < nr && n < max; i++) {
		if (roots[i][0] == '\0' ||
		    cg_dir(roots[i], id, d, sizeof(d)) == -1)
			continue;
		snprintf(p, sizeof(p), "%s/cgroup.procs", d);
		if ((fds[n] = open(p, O_WRONLY | O_CLOEXEC)) != -1)
			n++;
	}
	return n;
}

/*
 * Remove the node's groups.  Their processes are gone by now, but the
 * kernel may take a moment to notice; retry rmdir for up to 1 s.
 */
void
netns_cg_remove(struct netns *ns, const char *id)
{
	const char *roots[] = { ns->cg.v2, ns->cg.freezer, ns->cg.cpu,
	    ns->cg.mem };
	struct timespec ts = { 0, 1000000 };
	char d[NETNS_PATH];

	for (size_t i = 0; i < NELEM(roots); i++) {
		if (roots[i][0] == '\0' ||
		    cg_dir(roots[i], id, d, sizeof(d)) == -1)
			continue;
		for (int t = 0; t < 1000; t++) {
			if (rmdir(d) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY) {
				log_warn("rmdir %s", d);
				break;
			}
			nanosleep(&ts, NULL);
		}
	}
}

/*
 * Path of a cgroup file of node id, choosing the hierarchy by the file's
 * prefix ("cpu.", "memory.", "freezer.", else v2).
 */
int
netns_cg_file(struct netns *ns, const char *id, const char *file, char *buf,
    size_t size)
{
	const char *root = ns->cg.v2;
	char d[NETNS_PATH];

	if (strncmp(file, "cpu.", 4) == 0)
		root = ns->cg.cpu;
	else if (strncmp(file, "memory.", 7) == 0)
		root = ns->cg.mem;
	else if (strncmp(file, "freezer.", 8) == 0)
		root = ns->cg.freezer;
	if (root[0] == '\0')
		return err_set(ERR_UNSUPPORTED, "this host has no cgroup "
		    "hierarchy for %s", file);
	if (cg_dir(root, id, d, sizeof(d)) == -1)
		return -1;
	if ((size_t)snprintf(buf, size, "%s/%s", d, file) >= size)
		return err_set(ERR_INVALID, "cgroup path too long");
	return 0;
}
