/*
 * Work on agents: build each host's host slice from a resolved slice
 * document, and move the agents from what they have (from) to what they
 * should have (to), every host in parallel with the async client.
 *
 *   provision:  from nothing   to the document
 *   update:     from the old   to the new (only hosts whose host slice
 *               changed are contacted: migrate and terminate are updates)
 *   delete:     from the document to nothing
 *
 * The operation and both documents are recorded before the first call,
 * so that a restarted pipd runs it again (PUT and DELETE are idempotent
 * at the agents).  If any host fails, every host contacted is moved
 * back to from (a failed delete is retried instead), and the error names
 * the host and the step.
 *
 * Reconciliation: a node an agent reports that no slice should have
 * there is removed through the agent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "buf.h"
#include "errdoc.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pipd.h"
#include "report.h"

/* snprintf that may truncate (names are bounded; messages may be cut). */
static void __attribute__((format(printf, 3, 4)))
fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, size, f, ap);
	va_end(ap);
}

/*
 * The host slice of doc for host h (docs/api.md): the nodes pinned to
 * h; links with both ends on h; a stub for every link with one end on h
 * (peer: this PIP, the other node, its host and underlay); the slice's
 * own stubs whose node is on h, except that a stub to a PIP we peer with
 * through another host H goes to H (peering.c), and H gets a transit
 * joining that leg with the tunnel to the peer.  Named SLICE.HOST.
 * Returns the document (free it), or NULL when h has no node and no
 * transit of doc (or out of memory).
 */
char *
host_slice(const struct pipd *pd, const struct slice *doc, const char *slice,
    int h)
{
	const char *hn = pd->conf->hosts[h].name;
	struct slice hs;
	char *out = NULL;

	memset(&hs, 0, sizeof(hs));
	fmt(hs.name, sizeof(hs.name), "%s.%s", slice, hn);
	str_lcpy(hs.vnet, doc->vnet, sizeof(hs.vnet));
	str_lcpy(hs.pip, pd->conf->name, sizeof(hs.pip));
	hs.mapping = SLICE_MAP_VNP;
	hs.nodes = calloc(doc->nnodes + 1, sizeof(*hs.nodes));
	hs.links = calloc(doc->nlinks + 1, sizeof(*hs.links));
	hs.stubs = calloc(doc->nlinks + doc->nstubs + 1, sizeof(*hs.stubs));
	hs.transits = calloc(doc->nstubs + 1, sizeof(*hs.transits));
	if (hs.nodes == NULL || hs.links == NULL || hs.stubs == NULL ||
	    hs.transits == NULL)
		goto out;
	for (size_t i = 0; i < doc->nnodes; i++)
		if (strcmp(doc->nodes[i].host, hn) == 0)
			hs.nodes[hs.nnodes++] = doc->nodes[i];
	/* Stubs stitched here: a transit each. */
	for (size_t i = 0; i < doc->nstubs; i++) {
		const struct topo_link *st = &doc->stubs[i];
		struct transit *t;
		int nh, ph;

		if ((nh = peering_stub(pd, doc, st, &ph)) < 0 || ph != h)
			continue;
		t = &hs.transits[hs.ntransits++];
		str_lcpy(t->name, st->name, sizeof(t->name));
		t->encap = st->encap;
		t->line = st->line;
		t->side[0].key = peering_key(slice, st->name, (int)st->encap);
		t->side[0].underlay = pd->hosts[nh].underlay;
		str_lcpy(t->side[0].host, pd->conf->hosts[nh].name,
		    sizeof(t->side[0].host));
		t->side[1].key = st->key;
		t->side[1].underlay = st->peer_underlay;
		str_lcpy(t->side[1].pip, st->peer_pip, sizeof(t->side[1].pip));
		str_lcpy(t->side[1].host, st->peer_host,
		    sizeof(t->side[1].host));
	}
	if (hs.nnodes == 0 && hs.ntransits == 0)
		goto out;
	for (size_t i = 0; i < doc->nlinks; i++) {
		const struct topo_link *l = &doc->links[i];
		ssize_t a = topo_node_find(doc->nodes, doc->nnodes,
		    l->end[0].node);
		ssize_t b = topo_node_find(doc->nodes, doc->nnodes,
		    l->end[1].node);
		int ha, hb, here, far;
		struct topo_link *st;

		if (a < 0 || b < 0)
			continue;
		ha = strcmp(doc->nodes[a].host, hn) == 0;
		hb = strcmp(doc->nodes[b].host, hn) == 0;
		if (ha && hb) {
			hs.links[hs.nlinks] = *l;
			hs.links[hs.nlinks].path = NULL;
			hs.links[hs.nlinks++].npath = 0;
			continue;
		}
		if (!ha && !hb)
			continue;
		here = ha ? 0 : 1;
		far = config_host(pd->conf, doc->nodes[ha ? b : a].host);
		st = &hs.stubs[hs.nstubs++];
		*st = *l;
		st->path = NULL;
		st->npath = 0;
		st->end[0] = l->end[here];
		memset(&st->end[1], 0, sizeof(st->end[1]));
		str_lcpy(st->peer_pip, pd->conf->name, sizeof(st->peer_pip));
		str_lcpy(st->peer_node, l->end[1 - here].node,
		    sizeof(st->peer_node));
		if (far >= 0) {
			str_lcpy(st->peer_host, pd->conf->hosts[far].name,
			    sizeof(st->peer_host));
			st->peer_underlay = pd->hosts[far].underlay;
		}
	}
	for (size_t i = 0; i < doc->nstubs; i++) {
		ssize_t a = topo_node_find(doc->nodes, doc->nnodes,
		    doc->stubs[i].end[0].node);

		if (a >= 0 && strcmp(doc->nodes[a].host, hn) == 0) {
			struct topo_link *st = &hs.stubs[hs.nstubs++];
			int ph;

			*st = doc->stubs[i];
			st->path = NULL;
			st->npath = 0;
			/* Stitched: our leg ends at the peering host. */
			if (peering_stub(pd, doc, st, &ph) >= 0 && ph >= 0) {
				st->key = peering_key(slice, st->name,
				    (int)st->encap);
				str_lcpy(st->peer_pip, pd->conf->name,
				    sizeof(st->peer_pip));
				str_lcpy(st->peer_host,
				    pd->conf->hosts[ph].name,
				    sizeof(st->peer_host));
				st->peer_underlay = pd->hosts[ph].underlay;
			}
		}
	}
	out = slice_format(&hs);
out:
	/* The arrays borrow every pointer from doc: free only them. */
	free(hs.nodes);
	free(hs.links);
	free(hs.stubs);
	free(hs.transits);
	return out;
}

/* One operation in flight on the agents. */
struct sync_op {
	struct pipd *pd;
	struct pslice *ps;
	enum pslice_op op;
	int rollback;		/* 1: moving contacted hosts back to from */
	struct http_request *req; /* to answer when done, or NULL */
	provision_done_fn *done;	/* or called when done, or NULL */
	void *done_arg;
	const struct slice *from, *to;	/* owned by ps (doc / prev) */
	int pending;		/* calls not answered yet */
	int failed;		/* some call of this phase failed */
	int rb_failed;		/* some rollback call failed */
	struct err err;		/* the first failure, as answered */
	int *touched;		/* [nhosts] contacted in the forward phase */
	char **frag;		/* [nhosts] fragments answered this phase */
	int *dropped;		/* [nhosts] host slice deleted this phase */
	uint64_t t0;
};

/* One call of an operation. */
struct sync_call {
	struct sync_op *op;
	int host;
	int put;		/* 1 PUT, 0 DELETE */
	char path[2 * NAME_LEN + 32];
	char *body;
};

static void sync_finish(struct sync_op *op);
static void sync_phase(struct sync_op *op);

static void
sync_op_free(struct sync_op *op)
{
	for (size_t h = 0; h < op->pd->nhosts; h++)
		free(op->frag[h]);
	free(op->frag);
	free(op->touched);
	free(op->dropped);
	free(op);
}

/* Which step an agent's error is about, from its words. */
static const char *
agent_step(const struct err *e)
{
	if (strstr(e->msg, "topology") != NULL ||
	    strstr(e->msg, "tunnel") != NULL ||
	    strstr(e->msg, "link") != NULL || strstr(e->msg, "stub") != NULL)
		return "topology";
	return "virtualization";
}

/* Record the first failure of the operation, naming host and step. */
static void
sync_fail(struct sync_op *op, int h, const struct http_response *resp)
{
	const char *hn = op->pd->conf->hosts[h].name;
	struct errdoc *ed = NULL;
	struct err e;
	const char *what = op->rollback ? "rolling back" :
	    op->op == OP_PROVISION ? "provisioning" :
	    op->op == OP_UPDATE ? "updating" : "deleting";

	if (op->rollback) {
		op->rb_failed = 1;
		log_warnx("slice %s: rollback on host %s failed (status %d)",
		    op->ps->name, hn, resp != NULL ? resp->status : 0);
		return;
	}
	op->failed = 1;
	if (op->err.code != ERR_OK)
		return;
	memset(&e, 0, sizeof(e));
	if (resp == NULL) {
		e.code = ERR_PEER;
		fmt(e.msg, sizeof(e.msg), "%s slice '%s' failed on host "
		    "'%s' at step 'contact': host has no agent address",
		    what, op->ps->name, hn);
	} else if (resp->status == 0) {
		e.code = resp->err.code == ERR_OK ? ERR_PEER : resp->err.code;
		fmt(e.msg, sizeof(e.msg), "%s slice '%s' failed on host "
		    "'%s' at step 'contact': %s", what, op->ps->name, hn,
		    resp->err.msg);
	} else {
		if (resp->body != NULL && resp->len > 0)
			ed = errdoc_parse(resp->body, resp->len, "agent error");
		err_reset();
		if (ed != NULL && ed->nerrs > 0) {
			e = ed->errs[0];
			if (e.code == ERR_OK || e.code >= ERR_LAST)
				e.code = ERR_PEER;
			fmt(e.msg, sizeof(e.msg), "%s slice '%s' failed "
			    "on host '%s' at step '%s': %s", what,
			    op->ps->name, hn, agent_step(&ed->errs[0]),
			    ed->errs[0].msg);
		} else {
			e.code = ERR_PEER;
			fmt(e.msg, sizeof(e.msg), "%s slice '%s' failed "
			    "on host '%s': the agent answered %d", what,
			    op->ps->name, hn, resp->status);
		}
		errdoc_free(ed);
	}
	/* A peer's authorization problem is ours to fix, not the VNP's. */
	if (e.code == ERR_FORBIDDEN || e.code == ERR_UNAUTHENTICATED ||
	    e.code == ERR_NOT_FOUND || e.code == ERR_INVALID ||
	    e.code == ERR_SCHEMA)
		e.code = ERR_PEER;
	snprintf(e.where, sizeof(e.where), "/slice/node[@host='%s']", hn);
	op->err = e;
	log_warnx("%s", e.msg);
}

static void
sync_done(struct http_response *resp, void *arg)
{
	struct sync_call *c = arg;
	struct sync_op *op = c->op;
	int h = c->host;

	if (resp->status == 200 || resp->status == 201 ||
	    resp->status == 204 || (!c->put && resp->status == 404)) {
		if (c->put) {
			struct manifest *m = manifest_parse(resp->body,
			    resp->len, "fragment");

			if (m == NULL) {
				err_reset();
				sync_fail(op, h, &(struct http_response){
				    .status = 0, .err = { .code = ERR_PEER,
				    .msg = "the agent answered a manifest "
				    "that does not parse" } });
			} else {
				for (size_t k = 0; k < m->nsteps; k++)
					if (m->steps[k].step ==
					    STEP_VIRTUALIZATION ||
					    m->steps[k].step == STEP_TOPOLOGY)
						metric_observe(op->pd->m_step_s,
						    m->steps[k].step ==
						    STEP_TOPOLOGY ?
						    "step=\"topology\"" :
						    "step=\"virtualization\"",
						    m->steps[k].ms / 1000.0);
				manifest_free(m);
				free(op->frag[h]);
				op->frag[h] = resp->body;
				resp->body = NULL;
				op->dropped[h] = 0;
			}
		} else {
			free(op->frag[h]);
			op->frag[h] = NULL;
			op->dropped[h] = 1;
		}
	} else
		sync_fail(op, h, resp);
	free(c->body);
	free(c);
	if (--op->pending == 0)
		sync_phase(op);
}

/* Start one call; on a failure to start, count it as failed now. */
static void
sync_call(struct sync_op *op, int h, char *body)
{
	struct pipd *pd = op->pd;
	struct sync_call *c;
	struct http_call call;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		free(body);
		sync_fail(op, h, &(struct http_response){ .status = 0,
		    .err = { .code = ERR_NOMEM, .msg = "out of memory" } });
		return;
	}
	c->op = op;
	c->host = h;
	c->put = body != NULL;
	c->body = body;
	snprintf(c->path, sizeof(c->path), "/v1/slices/%s.%s", op->ps->name,
	    pd->conf->hosts[h].name);
	if (pd->conf->hosts[h].agent[0] == '\0' || pd->cli == NULL) {
		free(body);
		free(c);
		sync_fail(op, h, NULL);
		return;
	}
	memset(&call, 0, sizeof(call));
	call.peer = pd->conf->hosts[h].agent;
	call.expect_name = pd->conf->hosts[h].name;
	call.expect_role = TLS_ROLE_SUBSTRATED;
	call.method = c->put ? "PUT" : "DELETE";
	call.path = c->path;
	call.body = body;
	call.len = body != NULL ? strlen(body) : 0;
	call.timeout_ms = (int)pd->conf->agent_timeout_ms;
	op->pending++;
	if (http_call_async(pd->cli, &call, sync_done, c) == -1) {
		struct http_response r = { .status = 0 };

		op->pending--;
		r.err = *err_last();
		err_reset();
		free(body);
		free(c);
		sync_fail(op, h, &r);
	}
}

/* Zero-delay event: an operation whose calls all failed to start. */
static void
sync_kick(evutil_socket_t fd, short what, void *arg)
{
	sync_phase(arg);
}

/*
 * Start the calls of the current phase: forward (from -> to on every
 * host whose host slice differs) or rollback (to -> from on every host
 * contacted).  With nothing to call, move on at once (deferred).
 */
static void
sync_start(struct sync_op *op)
{
	struct pipd *pd = op->pd;
	const struct slice *want = op->rollback ? op->from : op->to;
	const struct slice *have = op->rollback ? op->to : op->from;

	op->pending = 1;	/* hold: no phase change while starting */
	for (size_t h = 0; h < pd->nhosts; h++) {
		char *a, *b;
		int hh = (int)h;

		if (op->rollback && !op->touched[h])
			continue;
		a = have != NULL ? host_slice(pd, have, op->ps->name, hh) :
		    NULL;
		b = want != NULL ? host_slice(pd, want, op->ps->name, hh) :
		    NULL;
		if (!op->rollback) {
			int differ = (a == NULL) != (b == NULL) ||
			    (a != NULL && strcmp(a, b) != 0);

			/* Re-run whole: a restart cannot know what took. */
			if (op->op == OP_PROVISION)
				differ = b != NULL;
			if (op->op == OP_DELETE)
				differ = a != NULL || op->ps->frag[h] != NULL;
			if (!differ) {
				free(a);
				free(b);
				continue;
			}
			op->touched[h] = 1;
		}
		free(a);
		sync_call(op, hh, b);
	}
	if (--op->pending == 0 && pd->base != NULL) {
		struct timeval tv = { 0, 0 };

		if (event_base_once(pd->base, -1, EV_TIMEOUT, sync_kick, op,
		    &tv) == -1)
			fatalx("event_base_once failed");
	}
}

/* Called when every call of a phase has answered. */
static void
sync_phase(struct sync_op *op)
{
	if (!op->rollback && op->failed && op->op != OP_DELETE) {
		op->rollback = 1;
		log_info("slice %s: rolling back on every host contacted",
		    op->ps->name);
		sync_start(op);
		return;
	}
	sync_finish(op);
}

/* Take the fragments a phase returned into the slice. */
static void
sync_take_frags(struct sync_op *op)
{
	struct pslice *ps = op->ps;

	for (size_t h = 0; h < op->pd->nhosts; h++) {
		if (op->frag[h] != NULL) {
			free(ps->frag[h]);
			ps->frag[h] = op->frag[h];
			op->frag[h] = NULL;
		} else if (op->dropped[h]) {
			free(ps->frag[h]);
			ps->frag[h] = NULL;
		}
	}
}

static void
sync_reply(struct sync_op *op, enum vnet_state st)
{
	char *doc;
	size_t len;

	if (op->done != NULL) {
		op->done(op->pd, op->ps, !(op->failed || op->rb_failed),
		    &op->err, op->done_arg);
		return;
	}
	if (op->req == NULL)
		return;
	if (op->failed || op->rb_failed) {
		err_reset();
		err_push(&op->err);
		http_reply_error(op->req);
		return;
	}
	if ((doc = slices_manifest(op->pd, op->ps, NULL, st, &len)) == NULL) {
		http_reply_error(op->req);
		return;
	}
	http_reply(op->req, 200, HTTP_CTYPE_XML, doc, len);
	free(doc);
}

/* The end of an operation: commit, answer, forget. */
static void
sync_finish(struct sync_op *op)
{
	struct pipd *pd = op->pd;
	struct pslice *ps = op->ps;
	double ms = (now_us() - op->t0) / 1000.0;

	ps->busy = 0;
	if (op->op == OP_DELETE) {
		sync_take_frags(op);
		if (!op->failed) {
			log_info("slice %s: deleted on its agents (%.1f ms)",
			    ps->name, ms);
			sync_reply(op, VS_DELETED);
			slices_drop(pd, ps);
		} else {
			if (pstore_save(pd, ps) == -1)
				log_warnx("slice %s: cannot record state",
				    ps->name);
			sync_reply(op, VS_LAST);
		}
		sync_op_free(op);
		return;
	}
	if (!op->failed) {
		sync_take_frags(op);
		ps->state = VS_READY;
		if (op->op == OP_UPDATE) {
			slice_free(ps->prev);
			ps->prev = NULL;
		}
		metric_observe(pd->m_step_s, op->op == OP_PROVISION ?
		    "step=\"provision\"" : "step=\"update\"", ms / 1000.0);
		log_info("slice %s: %s on its agents (%.1f ms)", ps->name,
		    op->op == OP_PROVISION ? "provisioned" : "updated", ms);
	} else {
		/* The agents are back at from. */
		if (op->op == OP_PROVISION) {
			for (size_t h = 0; h < pd->nhosts; h++) {
				free(ps->frag[h]);
				ps->frag[h] = NULL;
			}
			ps->state = VS_ALLOCATED;
		} else {
			sync_take_frags(op);
			slice_free(ps->doc);
			ps->doc = ps->prev;
			ps->prev = NULL;
			ps->state = VS_READY;
		}
		log_warnx("slice %s: %s rolled back%s", ps->name,
		    op->op == OP_PROVISION ? "provisioning" : "update",
		    op->rb_failed ? " (some hosts did not answer; "
		    "reconciliation will remove what is left)" : "");
	}
	ps->op = OP_NONE;
	/* Hold exactly what the document needs now. */
	{
		struct slice *d = ps->doc;

		ps->doc = NULL;
		if (slices_commit_doc(pd, ps, d) == -1)
			log_warnx("slice %s: cannot record state", ps->name);
	}
	pmetrics_slices(pd);
	sync_reply(op, VS_LAST);
	sync_op_free(op);
	/* Homes that asked to attach while the slice was busy. */
	subs_kick(pd);
}

/*
 * Start an operation on ps: OP_PROVISION (allocated -> ready),
 * OP_UPDATE to target (owned from now on; ps must be ready) or
 * OP_DELETE.  req (may be NULL) is answered at the end.  Also used at
 * start to run again an operation that was in flight (ps->op set).
 * Returns 0, or -1 with an error recorded (target freed, nothing done).
 */
int
provision_start(struct pipd *pd, struct pslice *ps, enum pslice_op kind,
    struct slice *target, struct http_request *req)
{
	return provision_start_cb(pd, ps, kind, target, req, NULL, NULL);
}

/*
 * provision_start() that, instead of answering a request, calls done
 * (when not NULL) at the end with the outcome: ok 1, or 0 and the
 * first failure.
 */
int
provision_start_cb(struct pipd *pd, struct pslice *ps, enum pslice_op kind,
    struct slice *target, struct http_request *req, provision_done_fn *done,
    void *done_arg)
{
	struct sync_op *op;
	int again = ps->op == kind;

	if (ps->busy) {
		slice_free(target);
		return err_set(ERR_CONFLICT, "slice '%s' is busy with another "
		    "operation; try again when it ends", ps->name);
	}
	if (!again && kind == OP_PROVISION && ps->state != VS_ALLOCATED) {
		slice_free(target);
		return err_set(ERR_CONFLICT, "slice '%s' is %s, not allocated",
		    ps->name, vnet_state_to_string(ps->state));
	}
	if ((op = calloc(1, sizeof(*op))) == NULL ||
	    (op->touched = calloc(pd->nhosts + 1, sizeof(int))) == NULL ||
	    (op->dropped = calloc(pd->nhosts + 1, sizeof(int))) == NULL ||
	    (op->frag = calloc(pd->nhosts + 1, sizeof(char *))) == NULL) {
		if (op != NULL) {
			free(op->touched);
			free(op->dropped);
		}
		free(op);
		slice_free(target);
		return err_nomem();
	}
	op->pd = pd;
	op->ps = ps;
	op->op = kind;
	op->req = req;
	op->done = done;
	op->done_arg = done_arg;
	op->t0 = now_us();
	if (!again) {
		ps->op = kind;
		if (kind == OP_PROVISION)
			ps->state = VS_PROVISIONING;
		else if (kind == OP_UPDATE) {
			slice_free(ps->prev);
			ps->prev = ps->doc;
			ps->doc = target;
		} else
			ps->state = VS_DELETING;
		/* The intent is on disk before any agent hears of it. */
		if (pstore_save(pd, ps) == -1) {
			log_warnx("slice %s: cannot record the operation",
			    ps->name);
			if (kind == OP_UPDATE) {
				ps->doc = ps->prev;
				ps->prev = NULL;
				slice_free(target);
			}
			ps->op = OP_NONE;
			ps->state = kind == OP_PROVISION ? VS_ALLOCATED :
			    kind == OP_DELETE ? VS_READY : ps->state;
			sync_op_free(op);
			return -1;
		}
	} else
		slice_free(target);
	op->from = kind == OP_PROVISION ? NULL : kind == OP_UPDATE ?
	    ps->prev : ps->doc;
	op->to = kind == OP_DELETE ? NULL : ps->doc;
	ps->busy = 1;
	pmetrics_slices(pd);
	sync_start(op);
	return 0;
}

/* At start: run again every operation that was in flight. */
void
provision_recover(struct pipd *pd)
{
	for (struct pslice *ps = pd->slices; ps != NULL; ps = ps->next) {
		if (ps->op == OP_NONE)
			continue;
		log_info("slice %s: finishing the %s that was in flight",
		    ps->name, ps->op == OP_PROVISION ? "provisioning" :
		    ps->op == OP_UPDATE ? "update" : "delete");
		if (provision_start(pd, ps, ps->op, NULL, NULL) == -1)
			log_warnx("slice %s: cannot restart its operation",
			    ps->name);
	}
}

/* A reconciliation call: fire and forget, logged. */
struct fix_call {
	struct pipd *pd;
	char path[2 * NAME_LEN + 32];
	char *body;
};

static void
fix_done(struct http_response *resp, void *arg)
{
	struct fix_call *f = arg;

	if (resp->status == 200 || resp->status == 204 ||
	    resp->status == 404) {
		log_info("reconcile: %s %s done", f->body ? "PUT" : "DELETE",
		    f->path);
		metric_add(f->pd->m_orphans, NULL, 1);
	} else
		log_warnx("reconcile: %s %s failed (status %d)",
		    f->body ? "PUT" : "DELETE", f->path, resp->status);
	free(f->body);
	free(f);
}

static void
fix_call(struct pipd *pd, int h, const char *hslice, char *body)
{
	struct fix_call *f;
	struct http_call call;

	if (pd->cli == NULL || pd->conf->hosts[h].agent[0] == '\0' ||
	    (f = calloc(1, sizeof(*f))) == NULL) {
		free(body);
		return;
	}
	f->pd = pd;
	f->body = body;
	snprintf(f->path, sizeof(f->path), "/v1/slices/%s", hslice);
	memset(&call, 0, sizeof(call));
	call.peer = pd->conf->hosts[h].agent;
	call.expect_name = pd->conf->hosts[h].name;
	call.expect_role = TLS_ROLE_SUBSTRATED;
	call.method = body != NULL ? "PUT" : "DELETE";
	call.path = f->path;
	call.body = body;
	call.len = body != NULL ? strlen(body) : 0;
	call.timeout_ms = (int)pd->conf->agent_timeout_ms;
	if (http_call_async(pd->cli, &call, fix_done, f) == -1) {
		err_reset();
		free(body);
		free(f);
	}
}

/* Does doc have node name on host hn? */
static int
doc_has(const struct slice *doc, const char *name, const char *hn)
{
	ssize_t n;

	if (doc == NULL)
		return 0;
	n = topo_node_find(doc->nodes, doc->nnodes, name);
	return n >= 0 && strcmp(doc->nodes[n].host, hn) == 0;
}

/*
 * The report of host h lists the nodes the agent has.  A node that no
 * slice should have there is an orphan: its host slice is put back to
 * what the slice wants (PUT) or deleted.  Slices with an operation in
 * flight are left alone; their operation decides.
 */
void
provision_reconcile(struct pipd *pd, int h, const struct report *r)
{
	const char *hn = pd->conf->hosts[h].name;
	char done[16][NAME_LEN];
	size_t ndone = 0;

	for (size_t i = 0; i < r->nnodes; i++) {
		const struct rp_node *n = &r->nodes[i];
		struct pslice *owner = NULL;
		char hslice[NAME_LEN + 1];
		int skip = 0, wanted = 0;

		if (n->vnet[0] == '\0')
			continue;	/* a pool member */
		for (struct pslice *ps = pd->slices; ps != NULL; ps = ps->next) {
			char hsn[2 * NAME_LEN];

			snprintf(hsn, sizeof(hsn), "%s.%s", ps->name, hn);
			if (strcmp(ps->doc->vnet, n->vnet) != 0 &&
			    strcmp(hsn, n->vnet) != 0 &&
			    strcmp(ps->name, n->vnet) != 0)
				continue;
			if (ps->busy || ps->op != OP_NONE)
				skip = 1;
			if (ps->state != VS_ALLOCATED &&
			    doc_has(ps->doc, n->name, hn))
				wanted = 1;
			if (owner == NULL)
				owner = ps;
		}
		if (skip || wanted)
			continue;
		if (owner != NULL)
			fmt(hslice, sizeof(hslice), "%s.%s", owner->name,
			    hn);
		else if (strchr(n->vnet, '.') != NULL)
			fmt(hslice, sizeof(hslice), "%s", n->vnet);
		else
			fmt(hslice, sizeof(hslice), "%s.%s.%s", n->vnet,
			    pd->conf->name, hn);
		for (size_t k = 0; k < ndone; k++)
			if (strcmp(done[k], hslice) == 0)
				skip = 1;
		if (skip || ndone == NELEM(done))
			continue;
		str_lcpy(done[ndone++], hslice, sizeof(done[0]));
		log_warnx("reconcile: host %s has node %s of %s that no slice "
		    "owns there; removing it", hn, n->name, n->vnet);
		if (owner != NULL && owner->state != VS_ALLOCATED)
			fix_call(pd, h, hslice,
			    host_slice(pd, owner->doc, owner->name, h));
		else
			fix_call(pd, h, hslice, NULL);
	}
}

/* An exec relayed to the agent and back. */
struct exec_call {
	struct http_request *req;
	char path[3 * NAME_LEN + 48];
};

static void
exec_done(struct http_response *resp, void *arg)
{
	struct exec_call *x = arg;

	if (resp->status == 0) {
		err_reset();
		err_push(&resp->err);
		http_reply_error(x->req);
	} else {
		if (resp->exit_status[0] != '\0')
			http_add_header(x->req, "X-Exit-Status",
			    resp->exit_status);
		http_reply(x->req, resp->status, resp->ctype[0] != '\0' ?
		    resp->ctype : HTTP_CTYPE_TEXT, resp->body, resp->len);
	}
	free(x);
}

/* POST .../nodes/NODE/exec: relay to the node's agent.  0 or -1. */
int
provision_exec(struct pipd *pd, struct pslice *ps, const char *node,
    struct http_request *req)
{
	struct exec_call *x;
	struct http_call call;
	ssize_t n;
	int h;

	if ((n = topo_node_find(ps->doc->nodes, ps->doc->nnodes, node)) < 0)
		return err_set(ERR_NOT_FOUND, "slice '%s' has no node '%s'",
		    ps->name, node);
	h = config_host(pd->conf, ps->doc->nodes[n].host);
	if (h < 0 || ps->frag[h] == NULL || ps->state == VS_ALLOCATED)
		return err_set(ERR_CONFLICT, "node '%s' of slice '%s' is not "
		    "provisioned", node, ps->name);
	if (pd->cli == NULL || pd->conf->hosts[h].agent[0] == '\0')
		return err_set(ERR_PEER, "host '%s' has no agent",
		    pd->conf->hosts[h].name);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return err_nomem();
	x->req = req;
	snprintf(x->path, sizeof(x->path), "/v1/slices/%s.%s/nodes/%s/exec",
	    ps->name, pd->conf->hosts[h].name, node);
	memset(&call, 0, sizeof(call));
	call.peer = pd->conf->hosts[h].agent;
	call.expect_name = pd->conf->hosts[h].name;
	call.expect_role = TLS_ROLE_SUBSTRATED;
	call.method = "POST";
	call.path = x->path;
	call.ctype = HTTP_CTYPE_TEXT;
	call.body = req->body;
	call.len = req->body_len;
	call.timeout_ms = (int)pd->conf->agent_timeout_ms;
	if (http_call_async(pd->cli, &call, exec_done, x) == -1) {
		free(x);
		return -1;
	}
	return 0;
}
