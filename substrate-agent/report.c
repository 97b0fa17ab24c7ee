/*
 * The substrate report (lib/report.h) and its periodic POST to pipd.
 *
 * The POST is asynchronous on the event loop with a timeout shorter than
 * the interval, and at most one is in flight: a pipd that does not answer
 * costs one skipped report per interval, never a stalled agent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "error.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "substrated.h"
#include "tunnel.h"

/*
 * The report of this host now.  Returns a malloc'd document (its length
 * in *len) or NULL with an error recorded.
 */
char *
sd_report(struct sd *sd, size_t *len)
{
	const struct sd_conf *c = sd->conf;
	struct report r;
	struct rp_driver drivers[SD_SLOT_LAST];
	struct rp_iface ifc;
	struct rp_pool pools[SD_POOLS_MAX];
	size_t nn = 0, nl = 0;
	char *doc = NULL;

	memset(&r, 0, sizeof(r));
	str_lcpy(r.host, c->host, sizeof(r.host));
	str_lcpy(r.pip, c->pip, sizeof(r.pip));
	r.time = time(NULL);
	r.capacity.cpu = c->cpu;
	r.capacity.memory = c->memory;
	r.capacity.interfaces = c->interfaces;
	sd_use(sd, &r.use.cpu, &r.use.memory, &r.use.interfaces);
	if (sd->tun != NULL) {
		str_lcpy(r.tunnel_backend, tun_backend_to_string(
		    tun_ctx_backend(sd->tun)), sizeof(r.tunnel_backend));
		r.tunnel_drops = tun_unknown_drops(sd->tun);
	}
	memset(drivers, 0, sizeof(drivers));
	r.drivers = drivers;
	if (sd->drv[SD_SLOT_NETNS] != NULL) {
		str_lcpy(drivers[r.ndrivers].name, "netns", NAME_LEN);
		drivers[r.ndrivers++].kinds = 1u << NODE_NETNS |
		    1u << NODE_GATEWAY;
	}
	if (sd->drv[SD_SLOT_QEMU] != NULL || sd->drv[SD_SLOT_LXC] != NULL) {
		str_lcpy(drivers[r.ndrivers].name, "libvirt", NAME_LEN);
		drivers[r.ndrivers++].kinds =
		    (sd->drv[SD_SLOT_QEMU] ? 1u << NODE_VM : 0) |
		    (sd->drv[SD_SLOT_LXC] ? 1u << NODE_CONTAINER : 0);
	}
	if (c->underlay != 0) {
		memset(&ifc, 0, sizeof(ifc));
		str_lcpy(ifc.name, c->underlay_if[0] ? c->underlay_if :
		    "underlay", sizeof(ifc.name));
		ifc.addr.addr = c->underlay;
		ifc.addr.len = 32;
		ifc.has_addr = 1;
		ifc.mtu = sd->underlay_mtu;
		r.ifaces = &ifc;
		r.nifaces = 1;
	}
	memset(pools, 0, sizeof(pools));
	r.pools = pools;
	pthread_mutex_lock(&sd->pools.mu);
	for (size_t i = 0; i < c->npools; i++) {
		const struct sd_pool_conf *pc = &c->pools[i];
		struct rp_pool *p = &pools[r.npools++];

		str_lcpy(p->driver, sd_slot_driver(pc->slot), NAME_LEN);
		p->kind = pc->kind;
		str_lcpy(p->image, pc->image, NAME_LEN);
		p->depth = sd->pools.nready[i];
		p->target = pc->depth;
		nn += sd->pools.nready[i];
	}
	pthread_mutex_unlock(&sd->pools.mu);
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next) {
		for (struct sd_node *n = s->nodes; n != NULL; n = n->next)
			nn++;
		for (struct sd_link *l = s->links; l != NULL; l = l->next)
			nl += l->tl != NULL;
	}
	r.nodes = calloc(nn + 1, sizeof(*r.nodes));
	r.links = calloc(nl + 1, sizeof(*r.links));
	if (r.nodes == NULL || r.links == NULL) {
		err_nomem();
		goto out;
	}
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next) {
		for (struct sd_node *n = s->nodes; n != NULL; n = n->next) {
			struct rp_node *rn = &r.nodes[r.nnodes++];

			str_lcpy(rn->id, n->id, sizeof(rn->id));
			str_lcpy(rn->name, n->name, sizeof(rn->name));
			str_lcpy(rn->vnet, s->vnet, sizeof(rn->vnet));
			str_lcpy(rn->driver, sd_slot_driver(n->slot),
			    sizeof(rn->driver));
			str_lcpy(rn->state, vnode_state_to_string(n->state),
			    sizeof(rn->state));
			rn->cpu = n->cpu;
			rn->memory = n->memory;
		}
		for (struct sd_link *l = s->links; l != NULL; l = l->next) {
			struct rp_link *rl;
			struct tun_stats ts;

			if (l->tl == NULL)
				continue;
			rl = &r.links[r.nlinks++];
			str_lcpy(rl->id, l->id, sizeof(rl->id));
			str_lcpy(rl->name, l->name, sizeof(rl->name));
			str_lcpy(rl->vnet, s->vnet, sizeof(rl->vnet));
			rl->encap = l->encap;
			rl->key = l->key;
			if (tun_link_stats(sd->tun, l->tl, &ts) == 0) {
				rl->packets = ts.tx_packets + ts.rx_packets;
				rl->bytes = ts.tx_bytes + ts.rx_bytes;
				rl->drops = ts.drops;
			} else
				err_reset();
		}
	}
	/* Pool members are vnsm nodes too (no VNet). */
	pthread_mutex_lock(&sd->pools.mu);
	for (size_t i = 0; i < c->npools; i++)
		for (struct sd_member *m = sd->pools.ready[i]; m != NULL &&
		    r.nnodes < nn; m = m->next) {
			struct rp_node *rn = &r.nodes[r.nnodes++];

			str_lcpy(rn->id, m->id, sizeof(rn->id));
			str_lcpy(rn->name, m->id, sizeof(rn->name));
			str_lcpy(rn->driver, sd_slot_driver(c->pools[i].slot),
			    sizeof(rn->driver));
			str_lcpy(rn->state, "paused", sizeof(rn->state));
			rn->cpu = c->pools[i].cpu;
			rn->memory = c->pools[i].memory;
		}
	pthread_mutex_unlock(&sd->pools.mu);
	if ((doc = report_format(&r)) != NULL && len != NULL)
		*len = strlen(doc);
out:
	free(r.nodes);
	free(r.links);
	return doc;
}

static void
report_done(struct http_response *resp, void *arg)
{
	struct sd *sd = arg;

	sd->report_busy = 0;
	if (resp->status == 204 || resp->status == 200) {
		metric_add(sd->m_reports, "result=\"ok\"", 1);
		return;
	}
	metric_add(sd->m_reports, "result=\"failed\"", 1);
	if (resp->status == 0)
		log_debug("report to pipd %s: %s", sd->conf->pipd_addr,
		    resp->err.msg);
	else
		log_warnx("report to pipd %s: HTTP %d", sd->conf->pipd_addr,
		    resp->status);
}

static void
report_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sd *sd = arg;
	struct http_call call;
	char *doc;
	size_t len;

	if (sd->report_busy || sd->cli == NULL)
		return;
	err_reset();
	if ((doc = sd_report(sd, &len)) == NULL) {
		log_warnx("report: %s", err_last()->msg);
		return;
	}
	memset(&call, 0, sizeof(call));
	call.peer = sd->conf->pipd_addr;
	call.expect_name = sd->conf->pipd;
	call.expect_role = TLS_ROLE_PIPD;
	call.method = "POST";
	call.path = "/v1/reports";
	call.body = doc;
	call.len = len;
	call.timeout_ms = (int)(sd->conf->report_ms < 5000 ?
	    sd->conf->report_ms : 5000);
	if (http_call_async(sd->cli, &call, report_done, sd) == 0)
		sd->report_busy = 1;
	else {
		log_warnx("report: %s", err_last()->msg);
		err_reset();
	}
	free(doc);
}

/* Report every report-interval when a pipd address is configured. */
void
sd_report_start(struct sd *sd)
{
	struct timeval tv;

	if (sd->cli == NULL)
		return;
	tv.tv_sec = sd->conf->report_ms / 1000;
	tv.tv_usec = (sd->conf->report_ms % 1000) * 1000;
	sd->report_ev = event_new(sd->base, -1, EV_PERSIST, report_tick, sd);
	if (sd->report_ev != NULL)
		event_add(sd->report_ev, &tv);
}
