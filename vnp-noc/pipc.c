/*
 * Calls from a worker to the pipds: a batch of calls runs in parallel
 * on the worker's own loop, and the worker waits for all of them; then
 * each answer is read as a manifest, an advertisement or an <error>.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "errdoc.h"
#include "log.h"
#include "vnpd.h"

/* A loop and client for one worker.  0, or -1 with an error recorded. */
int
wctx_init(struct wctx *w, const struct vnpd_conf *c)
{
	struct http_client_conf cc = { .tls = c->tls,
	    .timeout_ms = c->timeout_ms };

	memset(w, 0, sizeof(*w));
	if ((w->base = event_base_new()) == NULL)
		return err_set(ERR_INTERNAL, "cannot make an event loop");
	if ((w->client = http_client_new(w->base, &cc)) == NULL) {
		event_base_free(w->base);
		w->base = NULL;
		return -1;
	}
	return 0;
}

void
wctx_fini(struct wctx *w)
{
	http_client_free(w->client);
	if (w->base != NULL)
		event_base_free(w->base);
	memset(w, 0, sizeof(*w));
}

/*
 * Fill pc for a call to pip; body (may be NULL) is taken and freed by
 * pcall_clear().  The path is formatted from fmt.
 */
void
pcall_set(struct pcall *pc, const struct vnpd_pip *pip, const char *method,
    const char *ctype, char *body, const char *fmt, ...)
{
	va_list ap;

	memset(pc, 0, sizeof(*pc));
	pc->pip = pip;
	pc->method = method;
	pc->ctype = ctype;
	pc->body = body;
	pc->len = body == NULL ? 0 : strlen(body);
	va_start(ap, fmt);
	vsnprintf(pc->path, sizeof(pc->path), fmt, ap);
	va_end(ap);
}

void
pcall_clear(struct pcall *pc)
{
	free(pc->body);
	pc->body = NULL;
	http_response_clear(&pc->resp);
}

static void
pcall_done(struct http_response *resp, void *arg)
{
	struct pcall *pc = arg;

	pc->resp = *resp;
	resp->body = NULL;	/* taken */
	pc->done = 1;
}

/* The ticker of pcall_run_tick(): call back, then arm again. */
struct ticker {
	struct event *ev;
	void (*fn)(struct wctx *, void *);
	void *arg;
	struct wctx *w;
	struct timeval tv;
};

static void
ticker_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ticker *t = arg;

	t->fn(t->w, t->arg);
	evtimer_add(t->ev, &t->tv);
}

/*
 * As pcall_run(), calling tick(w, arg) every period_ms while waiting
 * (for progress polls; tick may start calls of its own on w and must
 * account for them itself).
 */
void
pcall_run_tick(struct wctx *w, const struct vnpd_conf *c, struct pcall *pcs,
    size_t n, void (*tick)(struct wctx *, void *), void *arg, int period_ms)
{
	struct ticker t = { NULL, tick, arg, w,
	    { period_ms / 1000, (period_ms % 1000) * 1000 } };

	if (tick != NULL && (t.ev = evtimer_new(w->base, ticker_cb,
	    &t)) != NULL)
		evtimer_add(t.ev, &t.tv);
	pcall_run(w, c, pcs, n);
	if (t.ev != NULL)
		event_free(t.ev);
}

/*
 * Run the n calls in parallel and wait for every answer (or its
 * failure, with resp.status 0).  Nothing is recorded here: read each
 * outcome with pcall_ok() / pcall_error().
 */
void
pcall_run(struct wctx *w, const struct vnpd_conf *c, struct pcall *pcs,
    size_t n)
{
	size_t left = 0;

	for (size_t i = 0; i < n; i++) {
		struct pcall *pc = &pcs[i];
		struct http_call call = {
			.peer = pc->pip->address,
			.expect_name = pc->pip->cn,
			.expect_role = TLS_ROLE_PIPD,
			.method = pc->method,
			.path = pc->path,
			.ctype = pc->ctype,
			.body = pc->body,
			.len = pc->len,
			.timeout_ms = c->timeout_ms,
		};

		pc->done = 0;
		memset(&pc->resp, 0, sizeof(pc->resp));
		if (http_call_async(w->client, &call, pcall_done, pc) == -1) {
			pc->resp.err = *err_last();
			pc->done = 1;
			continue;
		}
		left++;
	}
	while (left > 0) {
		size_t still = 0;

		if (event_base_loop(w->base, EVLOOP_ONCE) == -1)
			break;
		for (size_t i = 0; i < n; i++)
			still += !pcs[i].done;
		left = still;
	}
	for (size_t i = 0; i < n; i++)
		log_debug("pip %s: %s %s -> %d (%.1f ms)", pcs[i].pip->name,
		    pcs[i].method, pcs[i].path, pcs[i].resp.status,
		    pcs[i].resp.ms);
}

int
pcall_ok(const struct pcall *pc)
{
	return pc->resp.status >= 200 && pc->resp.status < 300;
}

/*
 * Record why pc failed: the PIP's own <error> (every problem, the first
 * one's message prefixed with the PIP's name), or the transport's.
 * Returns -1.
 */
int
pcall_error(const struct pcall *pc)
{
	struct errdoc *ed;
	struct err e;

	if (pc->resp.status == 0) {
		e = pc->resp.err;
		if (e.code == ERR_OK)
			e.code = ERR_PEER;
		if (snprintf(e.msg, sizeof(e.msg), "PIP %s: %s",
		    pc->pip->name, pc->resp.err.msg) >= (int)sizeof(e.msg))
			e.msg[sizeof(e.msg) - 2] = '.';
		return err_push(&e);
	}
	ed = errdoc_parse(pc->resp.body == NULL ? "" : pc->resp.body,
	    pc->resp.len, pc->pip->name);
	if (ed == NULL) {
		err_reset();
		return err_set(ERR_PEER, "PIP %s answered %s %s with HTTP %d "
		    "and no <error> document", pc->pip->name, pc->method,
		    pc->path, pc->resp.status);
	}
	e = ed->errs[0];
	if (snprintf(e.msg, sizeof(e.msg), "PIP %s: %s", pc->pip->name,
	    ed->errs[0].msg) >= (int)sizeof(e.msg))
		e.msg[sizeof(e.msg) - 2] = '.';
	err_push(&e);
	for (size_t i = 1; i < ed->nerrs; i++)
		err_push(&ed->errs[i]);
	errdoc_free(ed);
	return -1;
}

/* The answer of pc as a manifest, or NULL with an error recorded. */
struct manifest *
pcall_manifest(const struct pcall *pc)
{
	struct manifest *m;

	if (!pcall_ok(pc)) {
		pcall_error(pc);
		return NULL;
	}
	m = manifest_parse(pc->resp.body, pc->resp.len, pc->pip->name);
	if (m == NULL)
		err_hint("PIP %s sent a bad manifest for %s %s", pc->pip->name,
		    pc->method, pc->path);
	return m;
}

/*
 * GET pip's advertisement.  NULL with an error recorded when the PIP
 * cannot be reached or sends something bad.
 */
struct advert *
pip_advert(struct wctx *w, const struct vnpd_conf *c,
    const struct vnpd_pip *pip)
{
	struct pcall pc;
	struct advert *a = NULL;

	pcall_set(&pc, pip, "GET", NULL, NULL, "/v1/advertisement");
	pcall_run(w, c, &pc, 1);
	if (!pcall_ok(&pc))
		pcall_error(&pc);
	else
		a = advert_parse(pc.resp.body, pc.resp.len, pip->name);
	pcall_clear(&pc);
	return a;
}
