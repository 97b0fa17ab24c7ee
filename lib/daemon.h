/*
 * What every vnsm daemon's main() shares, the OpenBSD way:
 *
 *   prog [-dnv] [-f file]
 *     -d       stay in the foreground and log to stderr
 *     -f file  configuration file (default: the daemon's own)
 *     -n       check the configuration and exit (with -v, print it)
 *     -v       more output; repeat for more
 *
 * plus a locked pidfile (a second instance says which pid runs), going
 * to the background when not -d, and signals delivered through the
 * event loop: SIGTERM and SIGINT end the loop, SIGHUP calls a reload
 * hook, SIGPIPE is ignored.
 */
#ifndef VNSM_DAEMON_H
#define VNSM_DAEMON_H

struct event_base;
struct daemon_signals;

struct daemon_opts {
	const char *prog;	/* name for usage and logs */
	const char *conf_path;	/* -f, or the default given */
	int foreground;		/* -d */
	int verbose;		/* number of -v */
	int check_only;		/* -n */
};

/*
 * Parse argv into o.  Returns 0, or -1 after printing the usage line to
 * stderr (unknown option, missing argument, stray arguments); main then
 * exits 1.
 */
int daemon_parse_args(int argc, char *argv[], const char *prog,
    const char *default_conf, struct daemon_opts *o);

/*
 * Open and lock path (created 0644).  Returns the descriptor, to keep
 * open for the life of the daemon, or -1 with an error recorded; when
 * another process holds the lock the error is ERR_CONFLICT and says
 * "PROG is already running (pid N)".
 */
int daemon_pidfile_lock(const char *path);
/* Write our pid into the locked pidfile (after daemon_detach()). */
int daemon_pidfile_write(int fd);
/* Remove path and close fd (on a clean exit). */
void daemon_pidfile_remove(const char *path, int fd);

/*
 * Go to the background: fork (the parent exits 0), new session, cwd /,
 * stdin/stdout/stderr on /dev/null.  Returns 0 in the child, -1 with an
 * error recorded.  The pidfile lock stays held.
 */
int daemon_detach(void);

/*
 * Install the signal handling on base: SIGTERM/SIGINT call stop(arg)
 * when not NULL and then end the loop (event_base_loopexit); SIGHUP
 * calls reload(arg) when not NULL.  NULL with an error recorded; free
 * with daemon_signals_free() (NULL is a no-op).
 */
struct daemon_signals *daemon_signals_new(struct event_base *base,
    void (*stop)(void *), void (*reload)(void *), void *arg);
void daemon_signals_free(struct daemon_signals *ds);

#endif
