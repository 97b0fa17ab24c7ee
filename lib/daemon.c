/*
 * Command line, pidfile, backgrounding and signals for the daemons.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "error.h"
#include "log.h"

struct daemon_signals {
	struct event_base *base;	/* not owned */
	struct event *ev[3];		/* SIGTERM, SIGINT, SIGHUP; owned */
	void (*stop)(void *);
	void (*reload)(void *);
	void *arg;
};

int
daemon_parse_args(int argc, char *argv[], const char *prog,
    const char *default_conf, struct daemon_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->prog = prog;
	o->conf_path = default_conf;
	optind = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			o->foreground = 1;
			break;
		case 'f':
			o->conf_path = optarg;
			break;
		case 'n':
			o->check_only = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	return 0;
usage:
	fprintf(stderr, "usage: %s [-dnv] [-f file]\n", prog);
	return -1;
}

int
daemon_pidfile_lock(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return err_sys("cannot open pidfile %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;

		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		close(fd);
		if (saved == EWOULDBLOCK) {
			err_set(ERR_CONFLICT, "already running (pid %s; "
			    "pidfile %s)", buf[0] != '\0' ? buf : "?", path);
			return -1;
		}
		errno = saved;
		return err_sys("cannot lock pidfile %s", path);
	}
	return fd;
}

int
daemon_pidfile_write(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		return err_sys("cannot write pidfile");
	return 0;
}

void
daemon_pidfile_remove(const char *path, int fd)
{
	if (fd == -1)
		return;
	unlink(path);
	close(fd);
}

int
daemon_detach(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		return err_sys("fork");
	if (pid != 0)
		_exit(0);
	if (setsid() == -1)
		return err_sys("setsid");
	if (chdir("/") == -1)
		return err_sys("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return err_sys("open /dev/null");
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_signals *ds = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("%s: shutting down", strsignal((int)sig));
		if (ds->stop != NULL)
			ds->stop(ds->arg);
		event_base_loopexit(ds->base, NULL);
		break;
	case SIGHUP:
		log_info("SIGHUP: reloading");
		if (ds->reload != NULL)
			ds->reload(ds->arg);
		break;
	default:
		break;
	}
}

struct daemon_signals *
daemon_signals_new(struct event_base *base, void (*stop)(void *),
    void (*reload)(void *), void *arg)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	struct daemon_signals *ds;

	if ((ds = calloc(1, sizeof(*ds))) == NULL) {
		err_nomem();
		return NULL;
	}
	ds->base = base;
	ds->stop = stop;
	ds->reload = reload;
	ds->arg = arg;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 3; i++) {
		ds->ev[i] = evsignal_new(base, sigs[i], daemon_signal_cb, ds);
		if (ds->ev[i] == NULL || evsignal_add(ds->ev[i], NULL) == -1) {
			err_set(ERR_SYSTEM, "cannot handle signal %d", sigs[i]);
			daemon_signals_free(ds);
			return NULL;
		}
	}
	return ds;
}

void
daemon_signals_free(struct daemon_signals *ds)
{
	if (ds == NULL)
		return;
	for (int i = 0; i < 3; i++)
		if (ds->ev[i] != NULL)
			event_free(ds->ev[i]);
	free(ds);
}
