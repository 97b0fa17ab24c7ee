/*
 * exec through a libvirt domain's console (lv_console.h).
 *
 * The console is a libvirt stream (virDomainOpenConsole).  Streams of a
 * remote connection (qemu:///system and lxc:///system both go through
 * libvirtd) only receive data while something reads the connection's
 * socket, so the first call registers libvirt's default event loop and
 * runs it in a thread of its own; each call then opens its own
 * connection (after the registration, so its socket is watched) and
 * polls a non-blocking stream.
 *
 * A call: take the domain's turn; open the console (forcing out a stale
 * session of our own); type the probe line (Ctrl-U to drop a half-typed
 * line, `stty -echo`, the ready marker) once a second until the shell
 * answers — a booting guest answers once its
 * shell starts, from the typed-ahead input; then type the command and
 * read until the end marker.  The shell's echo is turned back on after
 * the end marker, for people who attach to the console later.  A
 * command that runs too long gets a Ctrl-C (SIGINT to the foreground
 * job), and the guest kills it two seconds after our deadline in any
 * case (busybox timeout); Ctrl-C is typed at no other time, since busybox's shell exits
 * on it when echo is off (it is respawned, but a second later).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "util.h"
#include "lv_console.h"

#define LVC_CHUNK	192	/* base64 bytes per typed line */
#define LVC_PROBE_MS	1000	/* probe again after this without answer */
#define LVC_POLL_MS	5	/* sleep when the stream has nothing */
#define LVC_BUSY_MAX	64	/* domains with a command running at once */
#define LVC_HOLD_MAX	256	/* domains whose console pty we hold open */

/* The domains a command runs on now, by name: one call per domain. */
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_cond = PTHREAD_COND_INITIALIZER;
static char busy[LVC_BUSY_MAX][128];

/*
 * Console ptys held open, by domain name.  QEMU notices that a pty
 * console has a reader only on a once-a-second poll, and until then
 * neither reads nor writes it: a console stream opened per call waits up
 * to a second for its first byte (~1 s per exec, measured).  Holding the
 * pty's slave open from the domain's start keeps QEMU's side connected,
 * so a call's stream is served at once (~0.1 s per exec).  Nothing reads
 * the held fd except the drain before each call (under the domain's
 * turn), which drops what the guest printed between calls.
 */
struct lvc_hold {
	char dom[128];		/* domain name; "" = free slot */
	int fd;			/* the pty's slave, O_NONBLOCK */
};
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lvc_hold holds[LVC_HOLD_MAX];

static pthread_once_t loop_once = PTHREAD_ONCE_INIT;
static int loop_ok;		/* 1 once the event loop runs */

/* Find needle (nlen bytes) in hay (len bytes); NULL if absent. */
static const char *
mem_find(const char *hay, size_t len, const char *needle, size_t nlen)
{
	if (nlen == 0 || len < nlen)
		return NULL;
	for (size_t i = 0; i + nlen <= len; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

int
lvc_ready(const char *buf, size_t len, const char *nonce)
{
	char tag[64];

	snprintf(tag, sizeof(tag), "__VNSM_READY_%s", nonce);
	return mem_find(buf, len, tag, strlen(tag)) != NULL;
}

/*
 * The output is what lies between the line of the begin marker and the
 * end marker; the end marker may follow output that has no final
 * newline, so it is looked for anywhere.
 */
int
lvc_parse(const char *buf, size_t len, const char *nonce, char *out,
    size_t outsz, int *status)
{
	char btag[64], etag[64];
	const char *b, *e, *p, *end = buf + len;
	size_t o = 0;
	int st = 0, nd = 0;

	snprintf(btag, sizeof(btag), "__VNSM_BEGIN_%s", nonce);
	snprintf(etag, sizeof(etag), "__VNSM_END_%s ", nonce);
	if ((b = mem_find(buf, len, btag, strlen(btag))) == NULL)
		return 0;
	b += strlen(btag);
	if ((b = memchr(b, '\n', (size_t)(end - b))) == NULL)
		return 0;
	b++;
	if ((e = mem_find(b, (size_t)(end - b), etag, strlen(etag))) == NULL)
		return 0;
	for (p = e + strlen(etag); p < end && *p >= '0' && *p <= '9'; p++) {
		st = st * 10 + (*p - '0');
		if (++nd > 3)
			break;
	}
	if (p == end)
		return 0;
	if (nd == 0 || nd > 3 || st > 255 || (*p != '\r' && *p != '\n'))
		return err_set(ERR_PEER, "the console gave a malformed end "
		    "marker (no exit status 0..255)");
	for (p = b; p < e && out != NULL && o + 1 < outsz; p++) {
		if (*p == '\0')
			continue;
		if (*p == '\r') {
			const char *q = p;

			while (q < e && *q == '\r')
				q++;
			if (q == e || *q == '\n')
				continue;	/* CRs before LF: the tty's */
		}
		out[o++] = *p;
	}
	if (out != NULL && outsz > 0)
		out[o] = '\0';
	*status = st;
	return 1;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Append the base64 of s (n bytes) to b. */
static void
b64_put(struct buf *b, const unsigned char *s, size_t n)
{
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		buf_append(b, q, 4);
	}
}

char *
lvc_probe(const char *nonce, size_t *lenp)
{
	struct buf b;
	char *s;

	buf_init(&b);
	buf_printf(&b, "\025stty -echo 2>/dev/null; printf '%%s_%%s\\n' "
	    "__VNSM_READY %s\n", nonce);
	s = buf_steal(&b, lenp);	/* records ERR_NOMEM if it fails */
	return s;
}

/*
 * __vc collects the command's base64 over short lines; busybox decodes
 * it (the router image has no base64 link, but its busybox has the
 * applet).
 */
char *
lvc_script(const char *cmd, const char *nonce, int kill_s, size_t *lenp)
{
	struct buf enc, b;
	char *s;

	buf_init(&enc);
	buf_init(&b);
	b64_put(&enc, (const unsigned char *)cmd, strlen(cmd));
	buf_puts(&b, "__vc=\n");
	for (size_t i = 0; i < enc.len; i += LVC_CHUNK) {
		size_t n = enc.len - i < LVC_CHUNK ? enc.len - i : LVC_CHUNK;

		buf_puts(&b, "__vc=${__vc}");
		buf_append(&b, enc.data + i, n);
		buf_puts(&b, "\n");
	}
	buf_printf(&b, "printf '%%s_%%s\\n' __VNSM_BEGIN %s; "
	    "busybox timeout -s KILL %d sh -c \"$(echo \"$__vc\" | "
	    "busybox base64 -d)\" </dev/null 2>&1; "
	    "printf '%%s_%%s %%s\\n' __VNSM_END %s $?; unset __vc; "
	    "stty echo 2>/dev/null\n", nonce, kill_s > 0 ? kill_s : 1, nonce);
	if (enc.failed)
		b.failed = 1;
	buf_free(&enc);
	s = buf_steal(&b, lenp);	/* records ERR_NOMEM if it fails */
	return s;
}

/* The event loop thread: runs for the life of the process. */
static void *
loop_main(void *arg)
{
	for (;;)
		if (virEventRunDefaultImpl() == -1)
			sleep(1);
	return NULL;
}

static void
loop_start(void)
{
	pthread_t t;

	if (virEventRegisterDefaultImpl() == -1)
		return;
	if (pthread_create(&t, NULL, loop_main, NULL) != 0)
		return;
	pthread_detach(t);
	loop_ok = 1;
}

/* Wait until dom is nobody's, then make it ours; 0 or -1 at deadline. */
static int
busy_take(const char *dom, const struct timespec *deadline)
{
	int rc = 0;

	pthread_mutex_lock(&busy_lock);
	for (;;) {
		int i, fr = -1, taken = 0;

		for (i = 0; i < LVC_BUSY_MAX; i++) {
			if (busy[i][0] == '\0' && fr == -1)
				fr = i;
			else if (strcmp(busy[i], dom) == 0)
				taken = 1;
		}
		if (!taken && fr != -1) {
			str_lcpy(busy[fr], dom, sizeof(busy[fr]));
			break;
		}
		if (pthread_cond_timedwait(&busy_cond, &busy_lock,
		    deadline) == ETIMEDOUT) {
			rc = -1;
			break;
		}
	}
	pthread_mutex_unlock(&busy_lock);
	return rc;
}

static void
busy_give(const char *dom)
{
	pthread_mutex_lock(&busy_lock);
	for (int i = 0; i < LVC_BUSY_MAX; i++)
		if (strcmp(busy[i], dom) == 0)
			busy[i][0] = '\0';
	pthread_cond_broadcast(&busy_cond);
	pthread_mutex_unlock(&busy_lock);
}

static void
nonce_make(char *buf, size_t size)
{
	static unsigned counter;
	unsigned char r[8] = { 0 };

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint64_t t = now_us();

		memcpy(r, &t, sizeof(r));
	}
	snprintf(buf, size, "%02x%02x%02x%02x%02x%02x%02x%02x%x", r[0], r[1],
	    r[2], r[3], r[4], r[5], r[6], r[7], counter++ & 0xf);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Type s (len bytes) on the console; 0 or -1 (ERR_SYSTEM). */
static int
con_send(virStreamPtr st, const char *s, size_t len, const char *id)
{
	size_t off = 0;
	int n, spins = 0;

	while (off < len) {
		n = virStreamSend(st, s + off, len - off);
		if (n == -2) {
			if (++spins > 2000)
				return err_set(ERR_TIMEOUT, "the console of "
				    "node '%s' takes no input", id);
			sleep_ms(LVC_POLL_MS);
			continue;
		}
		if (n < 0)
			return err_set(ERR_SYSTEM, "writing to the console of "
			    "node '%s': %s", id, virGetLastErrorMessage());
		off += (size_t)n;
	}
	return 0;
}

/*
 * Read what the console has into b (no wait).  1 if something came, 0 if
 * nothing, -1 (ERR_SYSTEM) on error or end of stream.
 */
static int
con_recv(virStreamPtr st, struct buf *b, const char *id)
{
	char tmp[4096];
	int n, got = 0;

	for (;;) {
		n = virStreamRecv(st, tmp, sizeof(tmp));
		if (n == -2)
			return got;
		if (n == 0)
			return err_set(ERR_SYSTEM, "the console of node '%s' "
			    "closed (did the node stop?)", id);
		if (n < 0)
			return err_set(ERR_SYSTEM, "reading the console of "
			    "node '%s': %s", id, virGetLastErrorMessage());
		if (b->len + (size_t)n > LVC_BUF_MAX)
			return err_set(ERR_INVALID, "node '%s': the command "
			    "printed over %d bytes", id, LVC_BUF_MAX);
		buf_append(b, tmp, (size_t)n);
		if (b->failed)
			return err_nomem();
		got = 1;
	}
}

/* Open dom's console on a new non-blocking stream of c. */
static virStreamPtr
con_open(virConnectPtr c, virDomainPtr d, const char *id)
{
	unsigned flags[] = { 0, VIR_DOMAIN_CONSOLE_FORCE };
	virStreamPtr st;

	for (size_t i = 0; i < 2; i++) {
		if ((st = virStreamNew(c, VIR_STREAM_NONBLOCK)) == NULL)
			break;
		if (virDomainOpenConsole(d, NULL, st, flags[i]) == 0)
			return st;
		virStreamFree(st);
		if (virGetLastErrorCode() == VIR_ERR_NO_SUPPORT)
			break;
	}
	err_set(virGetLastErrorCode() == VIR_ERR_NO_SUPPORT ?
	    ERR_UNSUPPORTED : ERR_SYSTEM, "cannot open the console of node "
	    "'%s': %s", id, virGetLastErrorMessage());
	return NULL;
}

static int
io_send(void *arg, const char *s, size_t len, const char *id)
{
	return con_send(arg, s, len, id);
}

static int
io_recv(void *arg, struct buf *b, const char *id)
{
	return con_recv(arg, b, id);
}

/* The talk on an open console: probe until ready, then the command. */
int
lvc_talk(const struct lvc_io *io, const char *id, const char *cmd,
    char *out, size_t outsz, int timeout_ms, int *status)
{
	char nonce[LVC_NONCE_MAX], *probe = NULL, *script = NULL;
	size_t plen, slen, from = 0;
	struct buf b;
	double t0 = now_ms(), last = 0;
	int ready = 0, rc = -1, r;

	buf_init(&b);
	nonce_make(nonce, sizeof(nonce));
	if ((probe = lvc_probe(nonce, &plen)) == NULL ||
	    (script = lvc_script(cmd, nonce, timeout_ms / 1000 + 2,
	    &slen)) == NULL)
		goto out;
	for (;;) {
		double now = now_ms();

		if (!ready && now - last >= LVC_PROBE_MS) {
			if (io->send(io->arg, probe, plen, id) == -1)
				goto out;
			last = now;
		}
		if ((r = io->recv(io->arg, &b, id)) == -1)
			goto out;
		if (!ready && b.len > 0 && lvc_ready(b.data, b.len, nonce)) {
			ready = 1;
			from = b.len;
			if (io->send(io->arg, script, slen, id) == -1)
				goto out;
			log_debug("node %s: console answered in %.0f ms", id,
			    now_ms() - t0);
		}
		if (ready && b.len > from) {
			if ((r = lvc_parse(b.data + from, b.len - from, nonce,
			    out, outsz, status)) == -1)
				goto out;
			if (r == 1) {
				rc = 0;
				break;
			}
		}
		if (now_ms() - t0 > timeout_ms) {
			if (!ready)
				err_set(ERR_TIMEOUT, "the console of node '%s' "
				    "did not answer in %d ms (still booting, "
				    "or no shell on it)", id, timeout_ms);
			else {
				err_set(ERR_TIMEOUT, "the command on node '%s' "
				    "did not end in %d ms; interrupted", id,
				    timeout_ms);
				(void)io->send(io->arg, "\003", 1, id);
				sleep_ms(100);	/* let it reach the guest */
			}
			goto out;
		}
		if (r == 0)
			sleep_ms(LVC_POLL_MS);
	}
out:
	free(probe);
	free(script);
	buf_free(&b);
	return rc;
}

void
lvc_hold(const char *dom, const char *path)
{
	int fd, free_i = -1;

	if (path == NULL || path[0] == '\0')
		return;
	pthread_mutex_lock(&hold_lock);
	for (int i = 0; i < LVC_HOLD_MAX; i++) {
		if (strcmp(holds[i].dom, dom) == 0) {
			pthread_mutex_unlock(&hold_lock);
			return;
		}
		if (holds[i].dom[0] == '\0' && free_i == -1)
			free_i = i;
	}
	if (free_i != -1 && (fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC |
	    O_NONBLOCK)) != -1) {
		str_lcpy(holds[free_i].dom, dom, sizeof(holds[free_i].dom));
		holds[free_i].fd = fd;
		log_debug("console of %s: holding %s open", dom, path);
	}
	pthread_mutex_unlock(&hold_lock);
}

void
lvc_release(const char *dom)
{
	pthread_mutex_lock(&hold_lock);
	for (int i = 0; i < LVC_HOLD_MAX; i++)
		if (strcmp(holds[i].dom, dom) == 0) {
			close(holds[i].fd);
			holds[i].dom[0] = '\0';
		}
	pthread_mutex_unlock(&hold_lock);
}

/*
 * Before a call on dom (its turn taken): drop what the guest printed
 * since the last one; forget the hold if the pty is gone (hung up).
 * Returns 1 if dom's pty is held.
 */
static int
hold_drain(const char *dom)
{
	char junk[4096];
	int held = 0;

	pthread_mutex_lock(&hold_lock);
	for (int i = 0; i < LVC_HOLD_MAX; i++) {
		struct pollfd p;

		if (strcmp(holds[i].dom, dom) != 0)
			continue;
		p.fd = holds[i].fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR |
		    POLLNVAL))) {
			close(holds[i].fd);
			holds[i].dom[0] = '\0';
			continue;
		}
		for (int n = 0; n < 64 &&
		    read(holds[i].fd, junk, sizeof(junk)) > 0; n++)
			;
		held = 1;
	}
	pthread_mutex_unlock(&hold_lock);
	return held;
}

/* The pty of running domain d's console, from its live XML; "" if none. */
static void
con_pty(virDomainPtr d, char *buf, size_t size)
{
	const char *key = "<console type='pty' tty='";
	char *x, *p;
	size_t n;

	buf[0] = '\0';
	if ((x = virDomainGetXMLDesc(d, 0)) == NULL)
		return;
	if ((p = strstr(x, key)) != NULL) {
		p += strlen(key);
		n = strcspn(p, "'");
		if (n < size) {
			memcpy(buf, p, n);
			buf[n] = '\0';
		}
	}
	free(x);
}

int
lvc_exec(const char *uri, const char *dom, const char *id, const char *cmd,
    char *out, size_t outsz, int timeout_ms, int *status)
{
	virConnectPtr c = NULL;
	virDomainPtr d = NULL;
	virStreamPtr st = NULL;
	struct lvc_io io;
	struct timespec dl;
	int rc = -1, state, reason;
	double t0 = now_ms();

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	pthread_once(&loop_once, loop_start);
	if (!loop_ok)
		return err_set(ERR_SYSTEM, "cannot run libvirt's event loop "
		    "for the console of node '%s'", id);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	if (busy_take(dom, &dl) == -1)
		return err_set(ERR_TIMEOUT, "another command on node '%s' "
		    "did not end in %d ms", id, timeout_ms);
	if ((c = virConnectOpen(uri)) == NULL) {
		err_set(ERR_SYSTEM, "cannot connect to libvirt at %s: %s", uri,
		    virGetLastErrorMessage());
		goto out;
	}
	if ((d = virDomainLookupByName(c, dom)) == NULL) {
		err_set(ERR_NOT_FOUND, "no libvirt domain for node '%s' at %s",
		    id, uri);
		goto out;
	}
	if (virDomainGetState(d, &state, &reason, 0) == -1 ||
	    (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_BLOCKED)) {
		err_set(ERR_CONFLICT, "node '%s' is not running: its console "
		    "cannot run commands", id);
		goto out;
	}
	if (!hold_drain(dom)) {
		/* Not held (a domain we did not start): from now on. */
		char pty[128];

		con_pty(d, pty, sizeof(pty));
		lvc_hold(dom, pty);
	}
	if ((st = con_open(c, d, id)) == NULL)
		goto out;
	timeout_ms -= (int)(now_ms() - t0);
	io.send = io_send;
	io.recv = io_recv;
	io.arg = st;
	rc = lvc_talk(&io, id, cmd, out, outsz, timeout_ms > 0 ? timeout_ms :
	    1, status);
out:
	if (st != NULL) {
		virStreamAbort(st);
		virStreamFree(st);
	}
	if (d != NULL)
		virDomainFree(d);
	if (c != NULL)
		virConnectClose(c);
	busy_give(dom);
	return rc;
}
