/*
 * Commands run through a libvirt domain's console (lv_console.c): the
 * libvirt driver's exec for QEMU VMs and LXC containers, whose router
 * image keeps a root shell on the console (scripts/mkimage.sh).
 *
 * The shell is driven by text: the command goes in base64 (so no byte of
 * it can upset a terminal line discipline or the shell's parser), runs
 * under `sh -c` with stdin from /dev/null and a guest-side time limit, and its output comes back
 * between two marker lines that carry a per-call nonce:
 *
 *	__VNSM_BEGIN_<nonce>
 *	...output...
 *	__VNSM_END_<nonce> <exit status>
 *
 * The shell prints the markers with printf from split words, so the
 * terminal's echo of the command line never matches them.
 */
#ifndef VNSM_LV_CONSOLE_H
#define VNSM_LV_CONSOLE_H

#include <stddef.h>

#define LVC_NONCE_MAX	24	/* nonce: hex digits + NUL */
#define LVC_BUF_MAX	(4 * 1024 * 1024) /* console bytes kept per call */

/*
 * Look for the result of call nonce in the len bytes a console gave so
 * far (buf need not be NUL-terminated).  Returns 1 when the end marker
 * is complete: the output between the markers, with the terminal's CR
 * before each LF and any NUL removed, is copied to out (outsz bytes,
 * NUL-terminated, truncated if needed; out may be NULL) and *status set.
 * Returns 0 when more bytes are needed, and -1 (ERR_PEER) when the end
 * marker carries no exit status between 0 and 255.
 */
int lvc_parse(const char *buf, size_t len, const char *nonce, char *out,
    size_t outsz, int *status);

/* Has the shell printed the ready marker of nonce?  1 or 0. */
int lvc_ready(const char *buf, size_t len, const char *nonce);

/*
 * The lines to type for running cmd under nonce, killed by the guest
 * after kill_s seconds: malloc'd, NUL-terminated (*lenp bytes without
 * it); NULL after an error.  Every line is shorter than a terminal's
 * canonical line limit.
 */
char *lvc_script(const char *cmd, const char *nonce, int kill_s,
    size_t *lenp);
/* The probe line: turns echo off and prints the ready marker. */
char *lvc_probe(const char *nonce, size_t *lenp);

struct buf;

/* How lvc_talk() reaches a console: a libvirt stream, or a test's fake. */
struct lvc_io {
	/* Type len bytes of s; 0 or -1 with an error recorded. */
	int (*send)(void *arg, const char *s, size_t len, const char *id);
	/* Append what came to b without waiting: 1 something, 0 nothing,
	   -1 error (recorded). */
	int (*recv)(void *arg, struct buf *b, const char *id);
	void *arg;		/* the stream */
};

/*
 * The talk on an open console: probe until the shell answers, type the
 * command, read until its end marker; all within timeout_ms.  0 with
 * out and *status as lvc_parse() gives them, or -1 with ERR_TIMEOUT
 * saying whether the shell never answered or the command did not end
 * (then Ctrl-C is typed), or the error of io.
 */
int lvc_talk(const struct lvc_io *io, const char *id, const char *cmd,
    char *out, size_t outsz, int timeout_ms, int *status);

/*
 * Run cmd (a shell command) in domain dom at libvirt uri through its
 * console; id names the node in messages.  Waits at most timeout_ms for
 * the shell to answer and the command to end.  One command at a time per
 * domain: a second caller waits for the first.  0 with the output in
 * out (may be NULL) and its exit status in *status, or -1 with
 * ERR_CONFLICT (not running), ERR_TIMEOUT (no answer, or the command ran
 * too long; it is interrupted), ERR_UNSUPPORTED or ERR_SYSTEM.
 */
int lvc_exec(const char *uri, const char *dom, const char *id,
    const char *cmd, char *out, size_t outsz, int timeout_ms, int *status);

/*
 * Hold domain dom's console pty (path) open until lvc_release(dom), so
 * that QEMU keeps its side connected and every call's console stream is
 * served at once (lv_console.c).  Best effort; process-wide.
 */
void lvc_hold(const char *dom, const char *path);
void lvc_release(const char *dom);

#endif
