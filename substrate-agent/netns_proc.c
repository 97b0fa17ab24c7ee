/*
 * Processes inside netns nodes.
 *
 * A node that asks for mount, UTS or PID namespaces gets an init: a small
 * process cloned from the agent into those namespaces (and the node's
 * network namespace and cgroups) that only holds them, reaps orphans and
 * exits on SIGTERM.  It never execs, so after clone() it calls only
 * async-signal-safe functions.  Everything else run in a node (sshd, a
 * command from exec()) is forked, enters the node through setns() — the
 * init's namespaces when there is one — joins the node's cgroups and
 * execs with a clean environment.  With a PID namespace a second fork is
 * needed, since setns(CLONE_NEWPID) only applies to children.
 *
 * Every process of a node is found again by its network namespace
 * (/proc/<pid>/ns/net), so stop and delete kill everything, even what a
 * crashed agent left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "netns.h"

#define INIT_STACK	(256 * 1024)
#define MAX_CG		4

static const char *const clean_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LANG=C",
	NULL
};

#define MAX_ARGS	64

/* A string literal or const string as exec wants it; exec never writes. */
static char *
unconst(const char *s)
{
	union {
		const char *c;
		char *m;
	} u = { .c = s };

	return u.m;
}

/*
 * execvpe() with const arrays, in a child: copies the pointers into
 * arrays of the type exec wants.  Returns only on failure.
 */
static void
exec_clean(const char *const *argv)
{
	char *a[MAX_ARGS], *e[NELEM(clean_env)];
	size_t i;

	for (i = 0; i < MAX_ARGS - 1 && argv[i] != NULL; i++)
		a[i] = unconst(argv[i]);
	a[i] = NULL;
	for (i = 0; i < NELEM(clean_env); i++)
		e[i] = unconst(clean_env[i]);
	execvpe(a[0], a, e);
}

/* What the init's clone child needs; filled before clone(). */
struct init_arg {
	int netfd;		/* the node's network namespace */
	int wfd;		/* write end of the ready pipe */
	int cgfd[MAX_CG];	/* cgroup.procs files to join */
	int ncg;
	unsigned flags;		/* VNODE_F_* namespaces asked for */
	char hostname[VNODE_NAME_MAX];
};

static void
init_fail(int wfd, char why)
{
	(void)write(wfd, &why, 1);
	_exit(1);
}

/*
 * The node's init, on its own stack in a new process.  Joins the network
 * namespace and cgroups, sets up /proc, /sys and the hostname, says it is
 * ready with one byte on the pipe ('r'), then waits for signals.
 */
static int
init_main(void *p)
{
	struct init_arg *a = p;
	sigset_t set;
	siginfo_t si;
	int st;

	for (int i = 0; i < a->ncg; i++)
		if (write(a->cgfd[i], "0", 1) != 1)
			init_fail(a->wfd, 'c');
	if (setns(a->netfd, CLONE_NEWNET) == -1)
		init_fail(a->wfd, 'n');
	if (a->flags & VNODE_F_MNTNS) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
			init_fail(a->wfd, 'm');
		/* Show the node's own devices and, with a PID ns, PIDs. */
		umount2("/sys", MNT_DETACH);
		if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV |
		    MS_NOEXEC, NULL) == -1)
			init_fail(a->wfd, 's');
		if ((a->flags & VNODE_F_PIDNS) && mount("proc", "/proc", "proc",
		    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == -1)
			init_fail(a->wfd, 'p');
	}
	if ((a->flags & VNODE_F_UTSNS) &&
	    sethostname(a->hostname, strlen(a->hostname)) == -1)
		init_fail(a->wfd, 'u');
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	(void)write(a->wfd, "r", 1);
	close_range(0, ~0U, 0);
	for (;;) {
		if (sigwaitinfo(&set, &si) == -1)
			continue;
		if (si.si_signo != SIGCHLD)
			_exit(0);
		while (waitpid(-1, &st, WNOHANG) > 0)
			;
	}
}

static const char *
init_why(char c)
{
	switch (c) {
	case 'c': return "cannot join its cgroups";
	case 'n': return "cannot enter the network namespace";
	case 'm': return "cannot make its mounts private";
	case 's': return "cannot mount /sys";
	case 'p': return "cannot mount /proc";
	case 'u': return "cannot set the hostname";
	default: return "exited early";
	}
}

/* Write pid as decimal into dir/name (0644). */
static int
write_pid(const char *dir, const char *name, pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);

	return netns_write_file(dir, name, buf, (size_t)n, 0644);
}

/*
 * Start the node's init (only when it asked for mount, UTS or PID
 * namespaces) and wait up to 2 s for it to say it is ready.  A PID
 * namespace implies a mount namespace, so that /proc shows the node.
 */
int
netns_init_start(struct netns *ns, struct netns_node *n)
{
	struct init_arg a;
	struct pollfd pfd;
	int pfds[2] = { -1, -1 }, fl = SIGCHLD, rc = -1, st;
	char *stack = MAP_FAILED;
	char c = 0;
	pid_t pid;

	if (!(n->spec.flags & (VNODE_F_MNTNS | VNODE_F_UTSNS | VNODE_F_PIDNS)))
		return 0;
	memset(&a, 0, sizeof(a));
	a.netfd = -1;
	a.flags = n->spec.flags;
	if (a.flags & VNODE_F_PIDNS)
		a.flags |= VNODE_F_MNTNS;
	str_lcpy(a.hostname, n->spec.name, sizeof(a.hostname));
	if (a.flags & VNODE_F_MNTNS)
		fl |= CLONE_NEWNS;
	if (a.flags & VNODE_F_UTSNS)
		fl |= CLONE_NEWUTS;
	if (a.flags & VNODE_F_PIDNS)
		fl |= CLONE_NEWPID;
	if ((a.netfd = open(n->nspath, O_RDONLY | O_CLOEXEC)) == -1) {
		err_sys("open %s", n->nspath);
		goto out;
	}
	a.ncg = netns_cg_procs(ns, n->spec.id, a.cgfd, MAX_CG);
	if (pipe2(pfds, O_CLOEXEC) == -1) {
		err_sys("pipe");
		goto out;
	}
	a.wfd = pfds[1];
	stack = mmap(NULL, INIT_STACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		err_sys("mmap");
		goto out;
	}
	if ((pid = clone(init_main, stack + INIT_STACK, fl, &a)) == -1) {
		err_sys("clone the init of node '%s'", n->spec.id);
		goto out;
	}
	close(pfds[1]);
	pfds[1] = -1;
	pfd.fd = pfds[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 2000) != 1 || read(pfds[0], &c, 1) != 1 ||
	    c != 'r') {
		err_set(ERR_SYSTEM, "the init of node '%s' failed: %s",
		    n->spec.id, c ? init_why(c) : "no answer within 2 s");
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		goto out;
	}
	n->init_pid = pid;
	rc = write_pid(n->dir, "init.pid", pid);
out:
	if (stack != MAP_FAILED)
		munmap(stack, INIT_STACK);
	for (int i = 0; i < a.ncg; i++)
		close(a.cgfd[i]);
	if (a.netfd != -1)
		close(a.netfd);
	if (pfds[0] != -1)
		close(pfds[0]);
	if (pfds[1] != -1)
		close(pfds[1]);
	return rc;
}

/* File descriptors a child needs to enter a node; opened in the parent. */
struct enter {
	int net;		/* network namespace */
	int uts, pid, mnt;	/* the init's namespaces; -1 if none */
	int cg[MAX_CG];		/* cgroup.procs files */
	int ncg;
	int devnull;
};

static void
enter_close(struct enter *e)
{
	int *fds[] = { &e->net, &e->uts, &e->pid, &e->mnt, &e->devnull };

	for (size_t i = 0; i < NELEM(fds); i++)
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	for (int i = 0; i < e->ncg; i++)
		close(e->cg[i]);
	e->ncg = 0;
}

static int
open_ns(pid_t pid, const char *which, int *fd)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, which);
	if ((*fd = open(p, O_RDONLY | O_CLOEXEC)) == -1)
		return err_sys("open %s", p);
	return 0;
}

static int
enter_open(struct netns *ns, struct netns_node *n, struct enter *e)
{
	memset(e, 0, sizeof(*e));
	e->net = e->uts = e->pid = e->mnt = e->devnull = -1;
	if ((e->net = open(n->nspath, O_RDONLY | O_CLOEXEC)) == -1)
		return err_sys("open %s", n->nspath);
	if ((e->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		err_sys("open /dev/null");
		goto fail;
	}
	if (n->init_pid > 0) {
		if (kill(n->init_pid, 0) == -1) {
			err_set(ERR_CONFLICT, "the init of node '%s' (pid %d) "
			    "is gone", n->spec.id, (int)n->init_pid);
			goto fail;
		}
		if (((n->spec.flags & VNODE_F_UTSNS) &&
		    open_ns(n->init_pid, "uts", &e->uts) == -1) ||
		    ((n->spec.flags & VNODE_F_PIDNS) &&
		    open_ns(n->init_pid, "pid", &e->pid) == -1) ||
		    ((n->spec.flags & (VNODE_F_MNTNS | VNODE_F_PIDNS)) &&
		    open_ns(n->init_pid, "mnt", &e->mnt) == -1))
			goto fail;
	}
	e->ncg = netns_cg_procs(ns, n->spec.id, e->cg, MAX_CG);
	return 0;
fail:
	enter_close(e);
	return -1;
}

/*
 * In a forked child: join the node and exec argv with out (or /dev/null)
 * as stdout and stderr.  Never returns; exit 127 if exec fails, 126 if
 * the node cannot be entered.  Async-signal-safe calls only.
 */
static void
enter_exec(const struct enter *e, const char *const *argv, int out)
{
	pid_t pid;
	int st;

	setpgid(0, 0);
	for (int i = 0; i < e->ncg; i++)
		if (write(e->cg[i], "0", 1) != 1)
			_exit(126);
	if (setns(e->net, CLONE_NEWNET) == -1 ||
	    (e->uts != -1 && setns(e->uts, CLONE_NEWUTS) == -1) ||
	    (e->pid != -1 && setns(e->pid, CLONE_NEWPID) == -1) ||
	    (e->mnt != -1 && setns(e->mnt, CLONE_NEWNS) == -1))
		_exit(126);
	if (chdir("/") == -1 || dup2(e->devnull, 0) == -1 ||
	    dup2(out != -1 ? out : e->devnull, 1) == -1 ||
	    dup2(out != -1 ? out : e->devnull, 2) == -1)
		_exit(126);
	close_range(3, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (e->pid != -1) {
		/* Only children enter the PID namespace: fork once more. */
		if ((pid = fork()) == -1)
			_exit(126);
		if (pid != 0) {
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st));
		}
	}
	exec_clean(argv);
	_exit(127);
}

/* Fork a child that runs argv in the node; returns its pid or -1. */
pid_t
netns_spawn(struct netns *ns, struct netns_node *n, const char *const *argv,
    int out)
{
	struct enter e;
	pid_t pid;

	if (enter_open(ns, n, &e) == -1)
		return -1;
	if ((pid = fork()) == -1)
		err_sys("fork");
	else if (pid == 0)
		enter_exec(&e, argv, out);
	enter_close(&e);
	return pid;
}

/*
 * Run a command and collect its output until it exits or the timeout
 * passes (then its whole process group is killed: ERR_TIMEOUT).
 */
int
netns_run(struct netns *ns, struct netns_node *n, const struct vnode_exec *ex,
    int *status)
{
	int pfds[2], st = 0, timeout = ex->timeout_ms > 0 ? ex->timeout_ms :
	    10000;
	double deadline = now_ms() + timeout;
	size_t used = 0;
	char junk[512];
	pid_t pid;

	if (ex->argv == NULL || ex->argv[0] == NULL)
		return err_set(ERR_INVALID, "exec in node '%s': no command",
		    n->spec.id);
	if (pipe2(pfds, O_CLOEXEC) == -1)
		return err_sys("pipe");
	pid = netns_spawn(ns, n, ex->argv, pfds[1]);
	close(pfds[1]);
	if (pid == -1) {
		close(pfds[0]);
		return -1;
	}
	for (;;) {
		struct pollfd pfd = { .fd = pfds[0], .events = POLLIN };
		double left = deadline - now_ms();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)left + 1) == 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			close(pfds[0]);
			return err_set(ERR_TIMEOUT, "command '%s' in node '%s' "
			    "ran over %d ms and was killed", ex->argv[0],
			    n->spec.id, timeout);
		}
		if (ex->out != NULL && used + 1 < ex->outsz)
			r = read(pfds[0], ex->out + used, ex->outsz - 1 - used);
		else
			r = read(pfds[0], junk, sizeof(junk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (ex->out != NULL && used + 1 < ex->outsz)
			used += (size_t)r;
	}
	close(pfds[0]);
	if (ex->out != NULL && ex->outsz > 0)
		ex->out[used] = '\0';
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return err_sys("waitpid");
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

/* Run a helper program on the host and wait; -1 unless it exits 0. */
static int
run_host(const char *const *argv, const char *id)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		return err_sys("fork");
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		close_range(3, ~0U, 0);
		exec_clean(argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return err_sys("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return err_set(ERR_SYSTEM, "%s for node '%s' failed (status "
		    "%d)", argv[0], id, st);
	return 0;
}

/*
 * sshd in the node, in the foreground as our child: a fresh ed25519 host
 * key per node, the spec's key as the only authorized one, no passwords.
 * Its files live in the node's run dir and go with it.
 */
int
netns_sshd_start(struct netns *ns, struct netns_node *n)
{
	char cfg[2048], key[NETNS_PATH + 32], cfgp[NETNS_PATH + 32];
	char logp[NETNS_PATH + 32];
	const char *kg[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
	    n->spec.id, "-f", key, NULL };
	const char *sd[] = { ns->sshd, "-D", "-f", cfgp, "-E", logp, NULL };
	int len;
	pid_t pid;

	if (!(n->spec.flags & VNODE_F_SSHD))
		return 0;
	if (access(ns->sshd, X_OK) == -1)
		return err_set(ERR_UNSUPPORTED, "node '%s' asks for sshd but "
		    "%s is not installed (Debian package openssh-server)",
		    n->spec.id, ns->sshd);
	snprintf(key, sizeof(key), "%s/ssh_host_ed25519_key", n->dir);
	snprintf(cfgp, sizeof(cfgp), "%s/sshd_config", n->dir);
	snprintf(logp, sizeof(logp), "%s/sshd.log", n->dir);
	if (access(key, F_OK) == -1 && run_host(kg, n->spec.id) == -1)
		return -1;
	len = snprintf(cfg, sizeof(cfg), "%s\n", n->spec.ssh_key);
	if (netns_write_file(n->dir, "authorized_keys", cfg, (size_t)len,
	    0600) == -1)
		return -1;
	len = snprintf(cfg, sizeof(cfg),
	    "# sshd of vnsm node %s\n"
	    "Port 22\n"
	    "HostKey %s\n"
	    "AuthorizedKeysFile %s/authorized_keys\n"
	    "PidFile none\n"
	    "PermitRootLogin prohibit-password\n"
	    "PasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\n"
	    "UsePAM no\n"
	    "StrictModes no\n"
	    "PrintMotd no\n",
	    n->spec.id, key, n->dir);
	if (netns_write_file(n->dir, "sshd_config", cfg, (size_t)len, 0644)
	    == -1)
		return -1;
	/* sshd insists on its privilege separation directory. */
	if (mkdir("/run/sshd", 0755) == -1 && errno != EEXIST)
		return err_sys("mkdir /run/sshd");
	if ((pid = netns_spawn(ns, n, sd, -1)) == -1)
		return -1;
	n->sshd_pid = pid;
	return write_pid(n->dir, "sshd.pid", pid);
}

/* The inode of a network namespace file; 0 if it cannot be read. */
static ino_t
ns_ino(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

/*
 * Signal every process whose network namespace is the node's; returns
 * how many were signalled (our own process never).
 */
int
netns_signal_all(const struct netns_node *n, int sig)
{
	ino_t ino = ns_ino(n->nspath);
	struct dirent *de;
	char p[64];
	DIR *d;
	int count = 0;

	if (ino == 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/ns/net", pid);
		if (ns_ino(p) == ino && kill((pid_t)pid, sig) == 0)
			count++;
	}
	closedir(d);
	return count;
}

/* Reap pid if it is our child and has exited; never blocks. */
static void
reap(pid_t pid)
{
	int st;

	if (pid > 0)
		while (waitpid(pid, &st, WNOHANG) == -1 && errno == EINTR)
			;
}

/*
 * Kill everything in the node: our known children first, then anything
 * else found in its network namespace, until none is left (at most 2 s).
 * A frozen cgroup is thawed first (v1 cannot kill frozen tasks).
 */
int
netns_kill_all(struct netns *ns, struct netns_node *n)
{
	struct timespec ts = { 0, 1000000 };
	pid_t kids[] = { n->init_pid, n->sshd_pid };

	netns_cg_freeze(ns, n->spec.id, 0);
	netns_signal_all(n, SIGCONT);
	for (int t = 0; t < 2000; t++) {
		int left = netns_signal_all(n, SIGKILL);

		for (size_t i = 0; i < NELEM(kids); i++)
			reap(kids[i]);
		if (left == 0)
			break;
		nanosleep(&ts, NULL);
	}
	/* The init (outside the net ns until it joined) and sshd: reap. */
	for (size_t i = 0; i < NELEM(kids); i++) {
		if (kids[i] > 0 && kill(kids[i], 0) == 0) {
			char p[64];

			/* Only kill it if it still is one of this node's. */
			snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)kids[i]);
			if (ns_ino(p) == ns_ino(n->nspath))
				kill(kids[i], SIGKILL);
		}
		for (int t = 0; t < 1000 && kids[i] > 0; t++) {
			int st;
			pid_t r = waitpid(kids[i], &st, WNOHANG);

			if (r == kids[i] || (r == -1 && errno == ECHILD))
				break;
			nanosleep(&ts, NULL);
		}
	}
	n->init_pid = n->sshd_pid = 0;
	if (netns_signal_all(n, 0) != 0)
		return err_set(ERR_TIMEOUT, "processes of node '%s' are still "
		    "alive 2 s after SIGKILL", n->spec.id);
	return 0;
}
