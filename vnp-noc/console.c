/*
 * Console access through the VNP.  A VNO never reaches a PIP's network:
 * each command it runs on a node (POST /v1/vnets/NAME/nodes/NODE/exec)
 * is relayed to the PIP hosting the node, which relays it to the agent;
 * the output and the command's exit status (X-Exit-Status) come back
 * the same way.  `vno console` builds an interactive line console on
 * this (vno(1)).  During instantiation, console_check() makes sure every
 * node answers (`true` exits 0) before the VNet is declared ready:
 * netns nodes directly, VMs and containers through their console (the
 * agent's libvirt driver types the command on it).  Only a node whose
 * driver cannot run commands at all (501: xen, libvirt's test://) is let
 * through, with a warning, since there is nothing to check through exec.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "vnpd.h"

#define CONSOLE_CHECK_TRIES	60	/* per node, 500 ms apart: a VM may
					   take ~15 s to boot under TCG */

struct relay {
	struct http_request *req;	/* the VNO's, answered in relay_done */
	char what[288];			/* for the log */
};

static void
relay_done(struct http_response *resp, void *arg)
{
	struct relay *r = arg;

	if (resp->status == 0) {
		err_reset();
		err_push(&resp->err);
		err_hint("the PIP hosting the node could not be reached");
		http_reply_error(r->req);
	} else {
		if (resp->exit_status[0] != '\0')
			http_add_header(r->req, "X-Exit-Status",
			    resp->exit_status);
		http_reply(r->req, resp->status, resp->ctype[0] != '\0' ?
		    resp->ctype : HTTP_CTYPE_TEXT, resp->body, resp->len);
	}
	log_debug("exec %s: %d, exit %s", r->what, resp->status,
	    resp->exit_status);
	free(r);
}

/*
 * Relay req (a shell command, text/plain) to node of v.  The caller
 * holds the lock; the answer goes out later, from the main loop.
 */
void
console_exec(struct vnpd *d, struct http_request *req, struct vn *v,
    const char *node)
{
	struct vn_part *p = vn_part_of_node(v, node);
	const struct vnpd_pip *pip;
	struct relay *r;
	char path[320];
	struct http_call call;

	if (topo_node_find(v->doc->nodes, v->doc->nnodes, node) < 0) {
		err_set(ERR_NOT_FOUND, "VNet '%s' has no node '%s'", v->name,
		    node);
		http_reply_error(req);
		return;
	}
	if (p == NULL || p->state != PART_READY || (v->state != VS_READY &&
	    v->state != VS_DEGRADED && v->state != VS_PROVISIONING) ||
	    (pip = vnpd_pip_find(d->conf, p->pip)) == NULL) {
		err_set(ERR_CONFLICT, "node '%s' of VNet '%s' is not running "
		    "(VNet %s)", node, v->name, vnet_state_to_string(v->state));
		http_reply_error(req);
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		err_nomem();
		http_reply_error(req);
		return;
	}
	r->req = req;
	snprintf(r->what, sizeof(r->what), "%s/%s/%s via %s", v->owner,
	    v->name, node, pip->name);
	snprintf(path, sizeof(path), "/v1/slices/%s/nodes/%s/exec", p->slice,
	    node);
	memset(&call, 0, sizeof(call));
	call.peer = pip->address;
	call.expect_name = pip->cn;
	call.expect_role = TLS_ROLE_PIPD;
	call.method = "POST";
	call.path = path;
	call.ctype = HTTP_CTYPE_TEXT;
	call.body = req->body;
	call.len = req->body_len;
	call.timeout_ms = d->conf->timeout_ms;
	if (http_call_async(d->client, &call, relay_done, r) == -1) {
		free(r);
		http_reply_error(req);
	}
}

/*
 * Run `true` on every node of v, in parallel, through its PIP; a node
 * that does not answer with exit status 0 is tried again a few times
 * (a VM may still be booting; up to ~30 s).  0, or -1 naming the first node whose
 * console does not answer.
 */
int
console_check(struct vnpd *d, struct wctx *w, struct vn *v)
{
	size_t n = v->doc->nnodes;
	struct pcall *pcs = calloc(n + 1, sizeof(*pcs));
	int *ok = calloc(n + 1, sizeof(*ok)), rc = 0;

	if (pcs == NULL || ok == NULL) {
		free(pcs);
		free(ok);
		return err_nomem();
	}
	for (int tries = 0; tries < CONSOLE_CHECK_TRIES; tries++) {
		size_t m = 0, *idx = calloc(n + 1, sizeof(*idx)), bad = 0;

		if (idx == NULL) {
			rc = err_nomem();
			break;
		}
		pthread_mutex_lock(&d->lock);
		for (size_t i = 0; i < n; i++) {
			const char *node = v->doc->nodes[i].name;
			struct vn_part *p = vn_part_of_node(v, node);

			if (ok[i] || p == NULL)
				continue;
			pcall_set(&pcs[m], vnpd_pip_find(d->conf, p->pip),
			    "POST", HTTP_CTYPE_TEXT, strdup("true"),
			    "/v1/slices/%s/nodes/%s/exec", p->slice, node);
			idx[m++] = i;
		}
		pthread_mutex_unlock(&d->lock);
		pcall_run(w, d->conf, pcs, m);
		err_reset();
		for (size_t k = 0; k < m; k++) {
			struct pcall *pc = &pcs[k];
			const char *node = v->doc->nodes[idx[k]].name;

			if (pcall_ok(pc) && strcmp(pc->resp.exit_status,
			    "0") == 0)
				ok[idx[k]] = 1;
			else if (pc->resp.status == 501) {
				/*
				 * The node's driver cannot run commands (xen,
				 * libvirt's test://; QEMU and LXC nodes run
				 * them on their console): nothing to check
				 * through exec, and nothing wrong with the
				 * node.  Said once, in the log.
				 */
				ok[idx[k]] = 1;
				log_warnx("vnet %s/%s: node %s: its driver "
				    "cannot run commands; console not checked",
				    v->owner, v->name, node);
			} else if (bad++ == 0) {
				if (!pcall_ok(pc))
					pcall_error(pc);
				else
					err_set(ERR_PEER, "the console of node "
					    "'%s' answers, but `true` exited "
					    "with status '%s'", node,
					    pc->resp.exit_status);
				err_hint("node '%s' does not answer on its "
				    "console", node);
			}
			pcall_clear(pc);
		}
		free(idx);
		if (bad == 0) {
			err_reset();
			rc = 0;
			break;
		}
		rc = -1;
		if (tries + 1 < CONSOLE_CHECK_TRIES) {
			struct timespec ts = { 0, 500 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	free(pcs);
	free(ok);
	return rc;
}
