/*
 * The transaction across PIPs, and the later changes to a VNet.
 *
 * Create: plan (split or map) -> allocate at every PIP (parallel) ->
 * give every inter-PIP stub its peer's underlay (PUT) -> provision at
 * every PIP (parallel) -> check every console.  A PIP that refuses (or
 * cannot be reached) during allocation is excluded and the VNet is
 * planned again without it, as long as another PIP remains; otherwise,
 * and on any later failure, every part is released (DELETE) so that no
 * PIP keeps a reservation or a resource.
 *
 * Every part is saved in the store before its request leaves, so a
 * restart knows each PIP that may hold something (txn_recover).
 *
 * These run on a worker thread: they take vnpd->lock only to change the
 * VNet, never across a call to a PIP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "vnpd.h"

static void
save(struct vnpd *d, struct vn *v)
{
	pthread_mutex_lock(&d->lock);
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
}

static void
step_time(struct vnpd *d, struct vn *v, enum step s, double ms)
{
	pthread_mutex_lock(&d->lock);
	v->step_ms[s] = ms;
	pthread_mutex_unlock(&d->lock);
	metric_observe(d->m_steps, NULL, ms / 1000.0);
	{
		char labels[48];

		snprintf(labels, sizeof(labels), "step=\"%s\"",
		    step_to_string(s));
		metric_observe(d->m_steps, labels, ms / 1000.0);
	}
}

/* The advertisement of every PIP (NULL where none came), in parallel. */
static void
fetch_adverts(struct vnpd *d, struct wctx *w, struct advert **ads)
{
	struct pcall pcs[VNPD_PIPS_MAX];
	size_t n = d->conf->npips;

	for (size_t k = 0; k < n; k++)
		pcall_set(&pcs[k], &d->conf->pips[k], "GET", NULL, NULL,
		    "/v1/advertisement");
	pcall_run(w, d->conf, pcs, n);
	for (size_t k = 0; k < n; k++) {
		ads[k] = NULL;
		if (pcall_ok(&pcs[k]))
			ads[k] = advert_parse(pcs[k].resp.body,
			    pcs[k].resp.len, d->conf->pips[k].name);
		if (ads[k] == NULL)
			log_info("PIP %s: no advertisement (status %d)",
			    d->conf->pips[k].name, pcs[k].resp.status);
		pcall_clear(&pcs[k]);
	}
	err_reset();
}

static void
free_adverts(struct advert **ads, size_t n)
{
	for (size_t k = 0; k < n; k++)
		advert_free(ads[k]);
}

/* 1 if the error of a failed allocation means "this PIP cannot". */
static int
is_refusal(const struct pcall *pc, const struct err *e)
{
	if (pc->resp.status == 0 || pc->resp.status >= 500)
		return 1;	/* unreachable or broken: try elsewhere */
	return e->code == ERR_NO_RESOURCES || e->code == ERR_UNSUPPORTED;
}

/* Interfaces node i of doc uses: as declared, else one per link end. */
static unsigned
doc_ifaces(const struct vnet *doc, size_t i)
{
	unsigned n = 0;

	if (doc->nodes[i].interfaces > 0)
		return doc->nodes[i].interfaces;
	for (size_t l = 0; l < doc->nlinks; l++)
		for (int e = 0; e < 2; e++)
			n += strcmp(doc->links[l].end[e].node,
			    doc->nodes[i].name) == 0;
	return n;
}

/*
 * Give back to the advertised free amounts what the nodes of old that
 * run now (v's parts) use: a change re-plans them in place, and their
 * own resources must not count against them.
 */
static void
credit_adverts(struct vnpd *d, struct vn *v, const struct vnet *old,
    struct advert **ads)
{
	for (size_t i = 0; i < old->nnodes; i++) {
		const struct topo_node *n = &old->nodes[i];
		struct vn_part *p = vn_part_of_node(v, n->name);
		ssize_t k;

		if (p == NULL || p->mf == NULL ||
		    (k = vnpd_pip_index(d->conf, p->pip)) < 0 ||
		    ads[k] == NULL)
			continue;
		for (size_t m = 0; m < p->mf->nnodes; m++) {
			if (strcmp(p->mf->nodes[m].name, n->name) != 0)
				continue;
			for (size_t h = 0; h < ads[k]->nhosts; h++) {
				struct advert_host *ah = &ads[k]->hosts[h];

				if (strcmp(ah->name, p->mf->nodes[m].host))
					continue;
				ah->cpu += n->cpu;
				ah->memory += n->memory;
				ah->interfaces += doc_ifaces(old, i);
			}
		}
	}
}

/*
 * Plan v->doc (with excluded PIPs left out, nodes in fixed kept) into
 * new parts; old (may be NULL) is the document now running.  0, or -1
 * with an error recorded.
 */
static int
txn_plan(struct vnpd *d, struct wctx *w, struct vn *v, const int *excluded,
    const int *fixed, const char (*fixed_host)[NAME_LEN],
    const struct vnet *old, struct vn_part **parts, size_t *nparts)
{
	struct advert *ads[VNPD_PIPS_MAX];
	struct plan *p;
	int rc = -1;

	fetch_adverts(d, w, ads);
	if (old != NULL)
		credit_adverts(d, v, old, ads);
	if ((p = plan_new(v->doc, d->conf->npips)) == NULL)
		goto done;
	if (v->disc == DISC_VNP)
		rc = vmap_plan(d->conf, v->doc, ads, excluded, fixed,
		    fixed_host, p);
	else
		rc = split_assign(d->conf, v->doc, ads, excluded, fixed, p);
	if (rc == 0)
		rc = split_build(d->conf, v->doc, p,
		    (int64_t)time(NULL) + d->conf->lease, parts, nparts);
	if (rc == 0 && (rc = subs_stubs(v->doc, *parts, *nparts)) == -1) {
		vn_parts_free(*parts, *nparts);
		*parts = NULL;
		*nparts = 0;
	}
done:
	plan_free(p);
	free_adverts(ads, d->conf->npips);
	return rc;
}

/*
 * POST the slices of the parts in state PART_NEW, in parallel.  Returns
 * 0 when every PIP accepted; else -1 with the first failure recorded,
 * *refused set to the index (in d->conf->pips) of a PIP that refused or
 * could not be reached (-1 if the failure was of another kind).
 */
static int
txn_allocate(struct vnpd *d, struct wctx *w, struct vn *v, int *refused)
{
	struct pcall *pcs = calloc(v->nparts + 1, sizeof(*pcs));
	size_t *idx = calloc(v->nparts + 1, sizeof(*idx)), n = 0;
	int rc = 0;

	*refused = -1;
	if (pcs == NULL || idx == NULL) {
		free(pcs);
		free(idx);
		return err_nomem();
	}
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < v->nparts; i++) {
		struct vn_part *p = &v->parts[i];
		char *body;

		if (p->state != PART_NEW)
			continue;
		if ((body = slice_format(p->sl)) == NULL) {
			rc = -1;
			continue;
		}
		p->state = PART_ALLOCATING;
		pcall_set(&pcs[n], vnpd_pip_find(d->conf, p->pip), "POST",
		    NULL, body, "/v1/slices");
		idx[n++] = i;
	}
	vstore_save(d, v);	/* before anything leaves */
	pthread_mutex_unlock(&d->lock);
	if (rc == -1) {
		for (size_t i = 0; i < n; i++) {
			v->parts[idx[i]].state = PART_NEW;
			pcall_clear(&pcs[i]);
		}
		free(pcs);
		free(idx);
		return -1;
	}
	pcall_run(w, d->conf, pcs, n);
	for (size_t i = 0; i < n; i++) {
		struct vn_part *p = &v->parts[idx[i]];
		struct manifest *m = pcall_manifest(&pcs[i]);

		if (m != NULL) {
			pthread_mutex_lock(&d->lock);
			manifest_free(p->mf);
			p->mf = m;
			p->state = PART_ALLOCATED;
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		if (pcs[i].resp.status >= 400 && pcs[i].resp.status < 500 &&
		    pcs[i].resp.status != 409)
			p->state = PART_NEW;	/* refused before reserving */
		if (rc == 0) {
			struct err e = *err_last();

			err_reset();
			err_push(&e);
			if (is_refusal(&pcs[i], &e))
				*refused = (int)vnpd_pip_index(d->conf, p->pip);
			if (pcs[i].resp.status == 409 ||
			    pcs[i].resp.status == 400)
				p->state = PART_NEW;	/* nothing kept */
			rc = -1;
		}
	}
	save(d, v);
	for (size_t i = 0; i < n; i++)
		pcall_clear(&pcs[i]);
	free(pcs);
	free(idx);
	return rc;
}

/*
 * DELETE every part a PIP may hold, in parallel; a part goes when its
 * PIP confirms (or says it has no such slice).  Returns 0 when nothing
 * is left anywhere, else -1 with the first failure recorded (the parts
 * that remain are kept, for a later try).
 */
int
txn_release(struct vnpd *d, struct wctx *w, struct vn *v)
{
	struct pcall *pcs = calloc(v->nparts + 1, sizeof(*pcs));
	size_t *idx = calloc(v->nparts + 1, sizeof(*idx)), n = 0, keep = 0;
	struct vn_part *left;
	int rc = 0;

	if (pcs == NULL || idx == NULL) {
		free(pcs);
		free(idx);
		return err_nomem();
	}
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < v->nparts; i++) {
		struct vn_part *p = &v->parts[i];
		const struct vnpd_pip *pip = vnpd_pip_find(d->conf, p->pip);

		if (p->state == PART_NEW || pip == NULL)
			continue;
		p->state = PART_RELEASING;
		pcall_set(&pcs[n], pip, "DELETE", NULL, NULL, "/v1/slices/%s",
		    p->slice);
		idx[n++] = i;
	}
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	pcall_run(w, d->conf, pcs, n);
	for (size_t i = 0; i < n; i++) {
		struct vn_part *p = &v->parts[idx[i]];

		if (pcall_ok(&pcs[i]) || pcs[i].resp.status == 404) {
			p->state = PART_NEW;	/* gone: drop below */
			log_info("vnet %s/%s: released slice %s at PIP %s",
			    v->owner, v->name, p->slice, p->pip);
		} else if (rc == 0) {
			pcall_error(&pcs[i]);
			rc = -1;
		}
		pcall_clear(&pcs[i]);
	}
	free(pcs);
	free(idx);
	/* Keep only the parts some PIP may still hold. */
	pthread_mutex_lock(&d->lock);
	left = calloc(v->nparts + 1, sizeof(*left));
	if (left != NULL) {
		for (size_t i = 0; i < v->nparts; i++) {
			if (v->parts[i].state == PART_NEW) {
				slice_free(v->parts[i].sl);
				manifest_free(v->parts[i].mf);
			} else
				left[keep++] = v->parts[i];
		}
		free(v->parts);
		v->parts = left;
		v->nparts = keep;
	}
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* The underlay of the tunnel end of link at node, from part p. */
static uint32_t
part_underlay(const struct vn_part *p, const char *link, const char *node)
{
	if (p == NULL || p->mf == NULL)
		return 0;
	for (size_t i = 0; i < p->mf->nlinks; i++) {
		const struct mf_link *l = &p->mf->links[i];

		if (strcmp(l->name, link) != 0)
			continue;
		for (size_t e = 0; e < l->nends; e++)
			if (strcmp(l->ends[e].node, node) == 0 &&
			    l->ends[e].underlay != 0)
				return l->ends[e].underlay;
		/* A fragment with one end: it is ours. */
		if (l->nends == 1 && l->ends[0].underlay != 0 &&
		    l->ends[0].pip[0] == '\0')
			return l->ends[0].underlay;
	}
	return 0;
}

/*
 * Fill every stub's peer underlay from the peer part's last manifest.
 * Sets changed[i] for each part whose slice changed.  Caller holds the
 * lock.
 */
static void
fill_peers(struct vn *v, int *changed)
{
	for (size_t i = 0; i < v->nparts; i++) {
		struct slice *s = v->parts[i].sl;

		changed[i] = 0;
		for (size_t k = 0; s != NULL && k < s->nstubs; k++) {
			struct topo_link *st = &s->stubs[k];
			struct vn_part *peer = vn_part_of_node(v, st->peer_node);
			uint32_t u = part_underlay(peer, st->name,
			    st->peer_node);

			if (u != 0 && u != st->peer_underlay) {
				st->peer_underlay = u;
				changed[i] = 1;
			}
		}
	}
}

/*
 * PUT the slices of the parts marked in changed (all when changed is
 * NULL), in parallel; each answer becomes the part's manifest.  0, or
 * -1 with the first failure recorded.
 */
static int
txn_put(struct vnpd *d, struct wctx *w, struct vn *v, const int *changed)
{
	struct pcall *pcs = calloc(v->nparts + 1, sizeof(*pcs));
	size_t *idx = calloc(v->nparts + 1, sizeof(*idx)), n = 0;
	int rc = 0;

	if (pcs == NULL || idx == NULL) {
		free(pcs);
		free(idx);
		return err_nomem();
	}
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < v->nparts; i++) {
		char *body;

		if ((changed != NULL && !changed[i]) ||
		    v->parts[i].state == PART_NEW)
			continue;
		if ((body = slice_format(v->parts[i].sl)) == NULL) {
			rc = -1;
			break;
		}
		pcall_set(&pcs[n], vnpd_pip_find(d->conf, v->parts[i].pip),
		    "PUT", NULL, body, "/v1/slices/%s", v->parts[i].slice);
		idx[n++] = i;
	}
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	if (rc == 0)
		pcall_run(w, d->conf, pcs, n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct manifest *m = pcall_manifest(&pcs[i]);

		if (m == NULL) {
			rc = -1;
			break;
		}
		pthread_mutex_lock(&d->lock);
		manifest_free(v->parts[idx[i]].mf);
		v->parts[idx[i]].mf = m;
		pthread_mutex_unlock(&d->lock);
	}
	for (size_t i = 0; i < n; i++)
		pcall_clear(&pcs[i]);
	free(pcs);
	free(idx);
	save(d, v);
	return rc;
}

/*
 * Give stubs their peers (PUT where something changed).  A PIP may
 * tell a stub's underlay only once the stub has its peer, so this goes
 * round until nothing changes (twice for a new inter-PIP link).  0 or
 * -1.
 */
static int
txn_peers(struct vnpd *d, struct wctx *w, struct vn *v)
{
	int changed[VNPD_PIPS_MAX + 1];

	if (v->nparts > VNPD_PIPS_MAX)
		return err_set(ERR_INTERNAL, "too many parts");
	for (int round = 0; round < 3; round++) {
		int any = 0;

		pthread_mutex_lock(&d->lock);
		fill_peers(v, changed);
		pthread_mutex_unlock(&d->lock);
		for (size_t i = 0; i < v->nparts; i++)
			any |= changed[i];
		if (!any)
			return 0;
		vn_phase(d, v, "giving inter-PIP links their peers");
		if (txn_put(d, w, v, changed) == -1)
			return -1;
	}
	return 0;
}

/* Progress polls while the PIPs provision. */
struct poll {
	struct vnpd *d;
	struct vn *v;
	int inflight;			/* GETs not answered yet */
};

struct poll_one {
	struct poll *pl;
	size_t part;			/* index in v->parts */
};

static void
poll_done(struct http_response *resp, void *arg)
{
	struct poll_one *po = arg;
	struct poll *pl = po->pl;
	struct vn_part *p = &pl->v->parts[po->part];
	struct manifest *m = NULL;

	if (resp->status == 200)
		m = manifest_parse(resp->body, resp->len, p->pip);
	err_reset();
	pthread_mutex_lock(&pl->d->lock);
	if (m != NULL && p->state == PART_PROVISIONING) {
		manifest_free(p->mf);
		p->mf = m;
		m = NULL;
	}
	pthread_mutex_unlock(&pl->d->lock);
	manifest_free(m);
	pl->inflight--;
	free(po);
}

/*
 * Every tick, ask each PIP still provisioning how its slice stands, so
 * that a VNO polling the VNet sees nodes come up host by host.
 */
static void
poll_tick(struct wctx *w, void *arg)
{
	struct poll *pl = arg;

	for (size_t i = 0; i < pl->v->nparts; i++) {
		struct vn_part *p = &pl->v->parts[i];
		const struct vnpd_pip *pip = vnpd_pip_find(pl->d->conf, p->pip);
		struct poll_one *po;
		char path[160];
		struct http_call call;

		if (p->state != PART_PROVISIONING || pip == NULL ||
		    (po = calloc(1, sizeof(*po))) == NULL)
			continue;
		po->pl = pl;
		po->part = i;
		snprintf(path, sizeof(path), "/v1/slices/%s", p->slice);
		memset(&call, 0, sizeof(call));
		call.peer = pip->address;
		call.expect_name = pip->cn;
		call.expect_role = TLS_ROLE_PIPD;
		call.method = "GET";
		call.path = path;
		call.timeout_ms = 2000;
		if (http_call_async(w->client, &call, poll_done, po) == -1) {
			free(po);
			err_reset();
			continue;
		}
		pl->inflight++;
	}
}

/*
 * Provision the parts in state want, in parallel.  The PIPs' own step
 * times come with their manifests; vnpd's virtualization and topology
 * times are the longest of the PIPs' (they run side by side), or the
 * wall time when no PIP reports them.  0 or -1.
 */
static int
txn_provision(struct vnpd *d, struct wctx *w, struct vn *v,
    enum part_state want)
{
	struct pcall *pcs = calloc(v->nparts + 1, sizeof(*pcs));
	size_t *idx = calloc(v->nparts + 1, sizeof(*idx)), n = 0;
	double t0 = now_ms(), vmax = -1, tmax = -1;
	int rc = 0;

	if (pcs == NULL || idx == NULL) {
		free(pcs);
		free(idx);
		return err_nomem();
	}
	vn_phase(d, v, "provisioning");
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < v->nparts; i++) {
		if (v->parts[i].state != want)
			continue;
		v->parts[i].state = PART_PROVISIONING;
		pcall_set(&pcs[n], vnpd_pip_find(d->conf, v->parts[i].pip),
		    "POST", NULL, NULL, "/v1/slices/%s/provision",
		    v->parts[i].slice);
		idx[n++] = i;
	}
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	{
		struct poll pl = { d, v, 0 };

		pcall_run_tick(w, d->conf, pcs, n, poll_tick, &pl, 250);
		while (pl.inflight > 0)
			if (event_base_loop(w->base, EVLOOP_ONCE) == -1)
				break;
	}
	for (size_t i = 0; i < n; i++) {
		struct vn_part *p = &v->parts[idx[i]];
		struct manifest *m = rc == 0 ? pcall_manifest(&pcs[i]) : NULL;

		if (m == NULL) {
			rc = -1;
			continue;
		}
		for (size_t s = 0; s < m->nsteps; s++) {
			if (m->steps[s].step == STEP_VIRTUALIZATION &&
			    m->steps[s].ms > vmax)
				vmax = m->steps[s].ms;
			if (m->steps[s].step == STEP_TOPOLOGY &&
			    m->steps[s].ms > tmax)
				tmax = m->steps[s].ms;
		}
		pthread_mutex_lock(&d->lock);
		manifest_free(p->mf);
		p->mf = m;
		p->state = PART_READY;
		pthread_mutex_unlock(&d->lock);
	}
	for (size_t i = 0; i < n; i++)
		pcall_clear(&pcs[i]);
	free(pcs);
	free(idx);
	if (n > 0) {
		step_time(d, v, STEP_VIRTUALIZATION,
		    vmax >= 0 ? vmax : now_ms() - t0);
		if (tmax >= 0)
			step_time(d, v, STEP_TOPOLOGY, tmax);
	}
	save(d, v);
	return rc;
}

/*
 * Keys (kept from old for links that stay) and static routes for a
 * document not yet shared with readers.  0 or -1.
 */
static int
txn_prepare_doc(struct vnpd *d, struct vnet *doc, const struct vnet *old)
{
	if (subs_expand(doc) == -1 || vn_assign_keys(d, doc, old) == -1)
		return -1;
	if (doc->routing == ROUTING_STATIC &&
	    (routes_apply(doc->nodes, doc->nnodes, doc->links,
	    doc->nlinks) == -1 || subs_routes(doc) == -1))
		return -1;
	return 0;
}

/* Finish a failed create: release everything, then mark it failed. */
static int
txn_abort(struct vnpd *d, struct wctx *w, struct vn *v)
{
	struct err e = err_count() > 0 ? *err_get(0) : (struct err){
	    .code = ERR_INTERNAL };

	/* The first error is the reason; a second one says why no other. */
	if (err_count() > 1 && e.hint[0] == '\0')
		str_lcpy(e.hint, err_get(1)->msg, sizeof(e.hint));

	vn_phase(d, v, "releasing every part: %s", e.msg);
	err_reset();
	for (int tries = 0; tries < 3; tries++) {
		if (txn_release(d, w, v) == 0)
			break;
		log_warnx("vnet %s/%s: release failed (%s); retrying",
		    v->owner, v->name, err_last()->msg);
		err_reset();
		sleep(1);
	}
	vn_fail(d, v, &e);
	err_reset();
	err_push(&e);
	return -1;
}

/*
 * Create v (state provisioning, document as asked).  0 when ready, or
 * -1 with the reason recorded and v failed with nothing left anywhere.
 */
int
txn_create(struct vnpd *d, struct wctx *w, struct vn *v)
{
	int excluded[VNPD_PIPS_MAX] = { 0 };
	double t0 = now_ms(), t;
	struct vnet *doc;
	struct err refusal;

	if ((doc = vnet_dup(v->doc)) == NULL ||
	    txn_prepare_doc(d, doc, NULL) == -1) {
		vnet_free(doc);
		return txn_abort(d, w, v);
	}
	pthread_mutex_lock(&d->lock);
	vnet_free(v->doc);
	v->doc = doc;
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	for (size_t attempt = 0; ; attempt++) {
		struct vn_part *parts = NULL;
		size_t nparts = 0;
		int refused;

		t = now_ms();
		vn_phase(d, v, "mapping (discovery at %s, attempt %zu)",
		    discovery_to_string(v->disc), attempt + 1);
		if (txn_plan(d, w, v, excluded, NULL, NULL, NULL, &parts,
		    &nparts) == -1) {
			if (attempt > 0) {
				/* The PIP's refusal first, then why no other. */
				struct err why = *err_last();

				err_reset();
				err_push(&refusal);
				err_push(&why);
			}
			return txn_abort(d, w, v);
		}
		pthread_mutex_lock(&d->lock);
		vn_parts_free(v->parts, v->nparts);
		v->parts = parts;
		v->nparts = nparts;
		pthread_mutex_unlock(&d->lock);
		step_time(d, v, STEP_MAPPING, now_ms() - t);
		t = now_ms();
		vn_phase(d, v, "allocating at %zu PIP(s)", nparts);
		if (txn_allocate(d, w, v, &refused) == 0) {
			step_time(d, v, STEP_ALLOCATION, now_ms() - t);
			break;
		}
		if (refused < 0 || attempt + 1 >= d->conf->npips) {
			return txn_abort(d, w, v);
		}
		{
			struct err e = *err_last();
			size_t left = 0;

			excluded[refused] = 1;
			refusal = e;
			for (size_t k = 0; k < d->conf->npips; k++)
				left += !excluded[k];
			log_info("vnet %s/%s: PIP %s refused (%s); %s",
			    v->owner, v->name, d->conf->pips[refused].name,
			    e.msg, left > 0 ? "re-mapping without it" :
			    "no PIP left");
			err_reset();
			if (txn_release(d, w, v) == -1 || left == 0) {
				if (err_count() == 0)
					err_push(&e);
				return txn_abort(d, w, v);
			}
			err_reset();
		}
	}
	err_reset();
	if (txn_peers(d, w, v) == -1 ||
	    txn_provision(d, w, v, PART_ALLOCATED) == -1)
		return txn_abort(d, w, v);
	t = now_ms();
	vn_phase(d, v, "checking consoles");
	if (console_check(d, w, v) == -1)
		return txn_abort(d, w, v);
	step_time(d, v, STEP_CONSOLE, now_ms() - t);
	pthread_mutex_lock(&d->lock);
	v->state = VS_READY;
	v->expires = 0;
	for (size_t i = 0; i < v->nparts; i++)
		if (v->parts[i].mf != NULL && v->parts[i].mf->expires != 0 &&
		    (v->expires == 0 || v->parts[i].mf->expires < v->expires))
			v->expires = v->parts[i].mf->expires;
	v->phase[0] = '\0';
	pthread_mutex_unlock(&d->lock);
	step_time(d, v, STEP_TOTAL, now_ms() - t0 + (v->step_ms[STEP_EXCHANGE] >
	    0 ? v->step_ms[STEP_EXCHANGE] : 0));
	save(d, v);
	log_info("vnet %s/%s: ready in %.1f ms", v->owner, v->name,
	    v->step_ms[STEP_TOTAL]);
	return 0;
}

/* 1 if the two slices would format the same. */
static int
slice_same(const struct slice *a, const struct slice *b)
{
	char *x = slice_format(a), *y = slice_format(b);
	int same = x != NULL && y != NULL && strcmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}

/* Keep the peer underlays old stubs already had (same link and peer). */
static void
keep_underlays(struct slice *ns, const struct slice *os)
{
	for (size_t i = 0; i < ns->nstubs; i++)
		for (size_t k = 0; os != NULL && k < os->nstubs; k++)
			if (strcmp(ns->stubs[i].name, os->stubs[k].name) == 0 &&
			    strcmp(ns->stubs[i].peer_node,
			    os->stubs[k].peer_node) == 0 &&
			    strcmp(ns->stubs[i].peer_pip,
			    os->stubs[k].peer_pip) == 0)
				ns->stubs[i].peer_underlay =
				    os->stubs[k].peer_underlay;
}

/*
 * Apply a new document to a running VNet: nodes that stay keep their
 * PIP (and host); new nodes are placed as at creation; each PIP gets
 * its new slice (PUT: the PIP applies only the difference), a PIP new
 * to the VNet gets POST + provision, a PIP left with nothing gets
 * DELETE.  On a failure the PIPs already changed get their old slice
 * back.  extra_pip/extra_host (may be NULL) force one node's place
 * (migration).  0, or -1 with the reason recorded.
 */
static int
txn_apply(struct vnpd *d, struct wctx *w, struct vn *v, struct vnet *doc,
    const char *move_node, const char *move_pip, const char *move_host)
{
	int excluded[VNPD_PIPS_MAX] = { 0 }, *fixed = NULL;
	char (*fixed_host)[NAME_LEN] = NULL;
	struct vn_part *np = NULL, *old = NULL;
	size_t nnp = 0, nold = 0;
	int rc = -1;
	double t = now_ms();

	/* Subscribers' gateways first: they are nodes to place too. */
	if (subs_expand(doc) == -1)
		goto done;
	fixed = calloc(doc->nnodes + 1, sizeof(*fixed));
	fixed_host = calloc(doc->nnodes + 1, sizeof(*fixed_host));
	if (fixed == NULL || fixed_host == NULL) {
		err_nomem();
		goto done;
	}
	for (size_t i = 0; i < doc->nnodes; i++) {
		struct vn_part *p = vn_part_of_node(v, doc->nodes[i].name);
		ssize_t k;

		fixed[i] = -1;
		if (move_node != NULL && strcmp(doc->nodes[i].name,
		    move_node) == 0) {
			if ((k = vnpd_pip_index(d->conf, move_pip)) < 0) {
				err_set(ERR_NOT_FOUND, "no PIP '%s' at this "
				    "VNP", move_pip);
				goto done;
			}
			fixed[i] = (int)k;
			if (move_host != NULL)
				str_lcpy(fixed_host[i], move_host,
				    sizeof(fixed_host[i]));
			continue;
		}
		if (p == NULL || (k = vnpd_pip_index(d->conf, p->pip)) < 0)
			continue;
		fixed[i] = (int)k;
		if (p->mf != NULL)
			for (size_t m = 0; m < p->mf->nnodes; m++)
				if (strcmp(p->mf->nodes[m].name,
				    doc->nodes[i].name) == 0)
					str_lcpy(fixed_host[i],
					    p->mf->nodes[m].host,
					    sizeof(fixed_host[i]));
	}
	if (txn_prepare_doc(d, doc, v->doc) == -1)
		goto done;
	{
		struct vnet *keep = v->doc;

		/* Plan against the new document (txn_plan reads v->doc). */
		v->doc = doc;
		rc = txn_plan(d, w, v, excluded, fixed,
		    (const char (*)[NAME_LEN])fixed_host, keep, &np, &nnp);
		v->doc = keep;
		if (rc == -1)
			goto done;
		rc = -1;
	}
	step_time(d, v, STEP_MAPPING, now_ms() - t);
	/* Carry over what the PIPs know: state, manifest, underlays. */
	for (size_t i = 0; i < nnp; i++) {
		struct vn_part *op = vn_part_of_pip(v, np[i].pip);

		if (op == NULL)
			continue;
		keep_underlays(np[i].sl, op->sl);
		if (move_node == NULL || op->sl == NULL)
			continue;
	}
	pthread_mutex_lock(&d->lock);
	old = v->parts;
	nold = v->nparts;
	{
		/* The new part list, and the old parts no longer used. */
		struct vn_part *merged = calloc(nnp + nold + 1,
		    sizeof(*merged));
		size_t n = 0;

		if (merged == NULL) {
			pthread_mutex_unlock(&d->lock);
			err_nomem();
			goto done;
		}
		for (size_t i = 0; i < nnp; i++) {
			struct vn_part *op = NULL;

			for (size_t k = 0; k < nold; k++)
				if (strcmp(old[k].pip, np[i].pip) == 0)
					op = &old[k];
			merged[n] = np[i];
			if (op != NULL) {
				merged[n].state = op->state;
				merged[n].mf = op->mf;
				op->mf = NULL;
			}
			n++;
		}
		for (size_t k = 0; k < nold; k++) {
			int used = 0;

			for (size_t i = 0; i < nnp; i++)
				used |= strcmp(old[k].pip, np[i].pip) == 0;
			if (used)
				continue;
			/* Emptied: keep it, with no nodes, for DELETE. */
			merged[n] = old[k];
			merged[n].mf = old[k].mf;
			old[k].mf = NULL;
			merged[n].sl = old[k].sl;
			old[k].sl = NULL;
			merged[n].state = PART_RELEASING;
			n++;
		}
		free(np);	/* its parts live on in merged */
		np = NULL;
		nnp = 0;
		v->parts = merged;
		v->nparts = n;
		vnet_free(v->doc);
		v->doc = doc;
		doc = NULL;
	}
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	{
		int changed[VNPD_PIPS_MAX * 2 + 2] = { 0 };
		struct pcall dels[VNPD_PIPS_MAX];
		size_t ndel = 0;
		int refused;

		/*
		 * 1. PIPs left with nothing: DELETE.  A part whose PIP does
		 * not confirm stays (releasing), for the VNet's delete or a
		 * restart to try again.
		 */
		int gone[VNPD_PIPS_MAX * 2 + 2] = { 0 };
		size_t didx[VNPD_PIPS_MAX];

		for (size_t i = 0; i < v->nparts && ndel < VNPD_PIPS_MAX; i++)
			if (v->parts[i].state == PART_RELEASING) {
				didx[ndel] = i;
				pcall_set(&dels[ndel++],
				    vnpd_pip_find(d->conf, v->parts[i].pip),
				    "DELETE", NULL, NULL, "/v1/slices/%s",
				    v->parts[i].slice);
			}
		if (ndel > 0) {
			vn_phase(d, v, "releasing %zu emptied slice(s)", ndel);
			pcall_run(w, d->conf, dels, ndel);
			for (size_t i = 0; i < ndel; i++) {
				if (pcall_ok(&dels[i]) ||
				    dels[i].resp.status == 404)
					gone[didx[i]] = 1;
				else {
					pcall_error(&dels[i]);
					log_warnx("vnet %s/%s: %s", v->owner,
					    v->name, err_last()->msg);
				}
				pcall_clear(&dels[i]);
			}
			pthread_mutex_lock(&d->lock);
			for (size_t i = 0, k = 0; i < v->nparts; k++) {
				if (!gone[k]) {
					i++;
					continue;
				}
				slice_free(v->parts[i].sl);
				manifest_free(v->parts[i].mf);
				memmove(&v->parts[i], &v->parts[i + 1],
				    (v->nparts - i - 1) * sizeof(v->parts[0]));
				v->nparts--;
			}
			vstore_save(d, v);
			pthread_mutex_unlock(&d->lock);
			err_reset();
		}
		/* 2. PIPs that stay: PUT what changed. */
		pthread_mutex_lock(&d->lock);
		fill_peers(v, changed);
		for (size_t i = 0; i < v->nparts; i++) {
			const struct vn_part *op = NULL;

			for (size_t k = 0; k < nold; k++)
				if (strcmp(old[k].pip, v->parts[i].pip) == 0)
					op = &old[k];
			changed[i] = op != NULL && op->sl != NULL &&
			    v->parts[i].state != PART_NEW &&
			    !slice_same(op->sl, v->parts[i].sl);
		}
		pthread_mutex_unlock(&d->lock);
		vn_phase(d, v, "applying the difference");
		if (txn_put(d, w, v, changed) == -1)
			goto undo;
		/* 3. PIPs new to the VNet: allocate, peers, provision. */
		if (txn_allocate(d, w, v, &refused) == -1)
			goto undo;
		if (txn_peers(d, w, v) == -1 ||
		    txn_provision(d, w, v, PART_ALLOCATED) == -1 ||
		    console_check(d, w, v) == -1)
			goto undo;
	}
	rc = 0;
	goto done;
undo:
	{
		/*
		 * Put the old slices back where they were, release parts
		 * that are new.  Best effort: the reason stays the first
		 * error.
		 */
		struct err e = *err_last();

		log_warnx("vnet %s/%s: change failed (%s); undoing",
		    v->owner, v->name, e.msg);
		pthread_mutex_lock(&d->lock);
		for (size_t i = 0; i < v->nparts; i++) {
			struct vn_part *p = &v->parts[i];
			int had = 0;

			for (size_t k = 0; k < nold; k++)
				if (strcmp(old[k].pip, p->pip) == 0 &&
				    old[k].sl != NULL) {
					slice_free(p->sl);
					p->sl = old[k].sl;
					old[k].sl = NULL;
					had = 1;
				}
			if (!had && p->state != PART_NEW)
				p->state = PART_RELEASING;
		}
		pthread_mutex_unlock(&d->lock);
		err_reset();
		txn_put(d, w, v, NULL);
		err_reset();
		err_push(&e);
		rc = -1;
	}
done:
	if (old != NULL)
		vn_parts_free(old, nold);
	vn_parts_free(np, nnp);
	vnet_free(doc);
	free(fixed);
	free(fixed_host);
	if (rc == 0)
		step_time(d, v, STEP_TOTAL, now_ms() - t);
	save(d, v);
	return rc;
}

/* Apply a new document (PUT /v1/vnets/NAME).  Takes doc. */
int
txn_update(struct vnpd *d, struct wctx *w, struct vn *v, struct vnet *doc)
{
	return txn_apply(d, w, v, doc, NULL, NULL, NULL);
}

/*
 * Move node to host (at pip; "" or its own PIP: inside the PIP, which
 * moves its links too).  To another PIP, the VNet is re-planned with
 * the node at that PIP and everything else in place, and links follow
 * as stubs.  0, or -1 with the reason recorded.
 */
int
txn_migrate(struct vnpd *d, struct wctx *w, struct vn *v, const char *node,
    const char *pip, const char *host)
{
	struct vn_part *p = vn_part_of_node(v, node);
	struct pcall pc;
	struct manifest *m;
	double t = now_ms();

	if (p == NULL)
		return err_set(ERR_NOT_FOUND, "VNet '%s' has no node '%s'",
		    v->name, node);
	if (pip[0] != '\0' && vnpd_pip_find(d->conf, pip) == NULL)
		return err_set(ERR_NOT_FOUND, "no PIP '%s' at this VNP", pip);
	if (pip[0] != '\0' && strcmp(pip, p->pip) != 0) {
		struct vnet *doc = vnet_dup(v->doc);
		ssize_t i;

		if (doc == NULL)
			return -1;
		i = topo_node_find(doc->nodes, doc->nnodes, node);
		str_lcpy(doc->nodes[i].pip, pip, sizeof(doc->nodes[i].pip));
		vn_phase(d, v, "moving node %s from PIP %s to PIP %s", node,
		    p->pip, pip);
		if (txn_apply(d, w, v, doc, node, pip,
		    host[0] != '\0' ? host : NULL) == -1)
			return -1;
		p = vn_part_of_node(v, node);
		if (host[0] == '\0' || p == NULL || p->sl->mapping ==
		    SLICE_MAP_VNP)
			return 0;
		/* The PIP mapped it; now put it on the host asked for. */
	}
	if (host[0] == '\0')
		return err_set(ERR_INVALID, "migrate needs a host (or another "
		    "PIP)");
	vn_phase(d, v, "migrating node %s to host %s at PIP %s", node, host,
	    p->pip);
	pcall_set(&pc, vnpd_pip_find(d->conf, p->pip), "POST", NULL, NULL,
	    "/v1/slices/%s/nodes/%s/migrate?host=%s", p->slice, node, host);
	pcall_run(w, d->conf, &pc, 1);
	m = pcall_manifest(&pc);
	pcall_clear(&pc);
	if (m == NULL)
		return -1;
	pthread_mutex_lock(&d->lock);
	manifest_free(p->mf);
	p->mf = m;
	if (p->sl->mapping == SLICE_MAP_VNP) {
		ssize_t i = topo_node_find(p->sl->nodes, p->sl->nnodes, node);

		if (i >= 0)
			str_lcpy(p->sl->nodes[i].host, host,
			    sizeof(p->sl->nodes[i].host));
	}
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	/* Its links follow: peers at other PIPs learn the new underlay. */
	if (txn_peers(d, w, v) == -1)
		return -1;
	step_time(d, v, STEP_TOTAL, now_ms() - t);
	save(d, v);
	return 0;
}

/* Release everything and forget v's parts (DELETE /v1/vnets/NAME). */
int
txn_delete(struct vnpd *d, struct wctx *w, struct vn *v)
{
	pthread_mutex_lock(&d->lock);
	v->state = VS_DELETING;
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	vn_phase(d, v, "deleting");
	return txn_release(d, w, v);
}

/* Renew every part for seconds; the VNet expires with its first part. */
int
txn_renew(struct vnpd *d, struct wctx *w, struct vn *v, int64_t seconds)
{
	struct pcall pcs[VNPD_PIPS_MAX];
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < v->nparts && n < VNPD_PIPS_MAX; i++)
		pcall_set(&pcs[n++], vnpd_pip_find(d->conf, v->parts[i].pip),
		    "POST", NULL, NULL, "/v1/slices/%s/renew?seconds=%lld",
		    v->parts[i].slice, (long long)seconds);
	pcall_run(w, d->conf, pcs, n);
	pthread_mutex_lock(&d->lock);
	v->expires = 0;
	for (size_t i = 0; i < n; i++) {
		struct manifest *m = rc == 0 ? pcall_manifest(&pcs[i]) : NULL;

		if (m == NULL) {
			rc = -1;
			continue;
		}
		manifest_free(v->parts[i].mf);
		v->parts[i].mf = m;
		if (m->expires != 0 && (v->expires == 0 ||
		    m->expires < v->expires))
			v->expires = m->expires;
	}
	if (rc == 0 && v->expires == 0)
		v->expires = (int64_t)time(NULL) + seconds;
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < n; i++)
		pcall_clear(&pcs[i]);
	return rc;
}

/*
 * After a restart: a VNet that was being created is rolled back at
 * every PIP that may hold part of it; one being deleted is deleted; a
 * running one gets its manifests refreshed.  Returns 0 when the VNet
 * is consistent again, -1 when a PIP could not be reached (try again).
 */
int
txn_recover(struct vnpd *d, struct wctx *w, struct vn *v)
{
	if (v->state == VS_PROVISIONING) {
		struct err e;

		vn_phase(d, v, "rolling back a creation cut short by a "
		    "restart");
		if (txn_release(d, w, v) == -1)
			return -1;
		memset(&e, 0, sizeof(e));
		e.code = ERR_PEER;
		str_lcpy(e.msg, "vnpd restarted while creating this VNet; "
		    "every PIP's part was released", sizeof(e.msg));
		str_lcpy(e.hint, "delete it and create it again",
		    sizeof(e.hint));
		vn_fail(d, v, &e);
		return 0;
	}
	if (v->state == VS_DELETING)
		return txn_release(d, w, v);
	if (v->state == VS_FAILED)
		return v->nparts == 0 ? 0 : txn_release(d, w, v);
	/* Running: ask every PIP how its part is. */
	for (size_t i = 0; i < v->nparts; i++) {
		struct pcall pc;
		struct manifest *m;

		pcall_set(&pc, vnpd_pip_find(d->conf, v->parts[i].pip), "GET",
		    NULL, NULL, "/v1/slices/%s", v->parts[i].slice);
		pcall_run(w, d->conf, &pc, 1);
		m = pcall_manifest(&pc);
		pcall_clear(&pc);
		if (m == NULL) {
			err_reset();
			continue;
		}
		pthread_mutex_lock(&d->lock);
		manifest_free(v->parts[i].mf);
		v->parts[i].mf = m;
		if (v->parts[i].state != PART_READY)
			v->parts[i].state = m->state == VS_READY ? PART_READY :
			    v->parts[i].state;
		pthread_mutex_unlock(&d->lock);
	}
	save(d, v);
	return 0;
}
