/*
 * Slices at this PIP: allocate (map or check, reserve until expiry),
 * update, renew, terminate a node, migrate, drop, expire, and the
 * manifest a VNP reads.  Work on agents (provision, update of a
 * provisioned slice, delete) is provision.c's; this file decides what
 * the new document is and whether it fits.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "metrics.h"
#include "pipd.h"

struct pslice *
slice_find(struct pipd *pd, const char *name)
{
	for (struct pslice *ps = pd->slices; ps != NULL; ps = ps->next)
		if (strcmp(ps->name, name) == 0)
			return ps;
	return NULL;
}

/* A deep copy of s (by formatting and parsing it); NULL on failure. */
struct slice *
slice_dup(const struct slice *s)
{
	struct slice *c;
	char *doc;

	if ((doc = slice_format(s)) == NULL)
		return NULL;
	c = slice_parse(doc, strlen(doc), s->name);
	free(doc);
	return c;
}

static void
pslice_free(struct pipd *pd, struct pslice *ps)
{
	if (ps == NULL)
		return;
	slice_free(ps->doc);
	slice_free(ps->prev);
	usage_clear(&ps->held);
	for (size_t i = 0; ps->frag != NULL && i < pd->nhosts; i++)
		free(ps->frag[i]);
	free(ps->frag);
	free(ps);
}

static struct pslice *
pslice_new(struct pipd *pd, const char *name, const char *owner)
{
	struct pslice *ps;

	if ((ps = calloc(1, sizeof(*ps))) == NULL ||
	    (ps->frag = calloc(pd->nhosts + 1, sizeof(*ps->frag))) == NULL) {
		free(ps);
		err_nomem();
		return NULL;
	}
	str_lcpy(ps->name, name, sizeof(ps->name));
	str_lcpy(ps->owner, owner, sizeof(ps->owner));
	return ps;
}

/* Checks every new or changed slice document must pass at this PIP. */
static int
slice_here(struct pipd *pd, const struct slice *s)
{
	size_t longest = 0;

	if (strcmp(s->pip, pd->conf->name) != 0)
		return err_at(ERR_INVALID, "/slice/@pip", 0, "slice '%s' is "
		    "for PIP '%s', but this is PIP '%s'", s->name, s->pip,
		    pd->conf->name);
	for (size_t i = 0; i < pd->nhosts; i++)
		if (strlen(pd->conf->hosts[i].name) > longest)
			longest = strlen(pd->conf->hosts[i].name);
	if (strlen(s->name) + 1 + longest >= NAME_LEN)
		return err_at(ERR_INVALID, "/slice/@name", 0, "slice name "
		    "'%s' is too long: host slice names (NAME.HOST) must fit "
		    "%d characters", s->name, NAME_LEN - 1);
	for (size_t i = 0; i < s->nstubs; i++)
		if (strcmp(s->stubs[i].peer_pip, pd->conf->name) == 0 &&
		    !subs_stub_ok(pd, s, i))
			return err_at(ERR_TOPOLOGY, NULL, s->stubs[i].line,
			    "stub '%s' leads to this PIP ('%s'): a link inside "
			    "the PIP is a <link>", s->stubs[i].name,
			    pd->conf->name);
	return 0;
}

/* The expiry a VNP asked for (0: the default lease), checked. */
static int
slice_expiry(struct pipd *pd, int64_t asked, int64_t *out)
{
	int64_t now = pd->clock();

	if (asked == 0) {
		*out = now + pd->conf->lease_s;
		return 0;
	}
	if (asked <= now)
		return err_at(ERR_INVALID, "/slice/@expires", 0, "the slice "
		    "expires in the past");
	if (asked > now + pd->conf->lease_max_s) {
		err_at(ERR_INVALID, "/slice/@expires", 0, "the slice asks to "
		    "be reserved for %lld s; PIP '%s' reserves for at most "
		    "%lld s", (long long)(asked - now), pd->conf->name,
		    (long long)pd->conf->lease_max_s);
		err_hint("ask for less, and renew before it expires");
		return -1;
	}
	*out = asked;
	return 0;
}

/* Count an admission decision; the resource of a refusal is named. */
static void
count_decision(struct pipd *pd, int ok, uint64_t t0)
{
	char labels[96];
	const struct err *e = err_last();

	if (ok)
		snprintf(labels, sizeof(labels),
		    "decision=\"accepted\",resource=\"\"");
	else
		snprintf(labels, sizeof(labels),
		    "decision=\"refused\",resource=\"%s\"",
		    e != NULL && e->code == ERR_NO_RESOURCES &&
		    e->resource[0] != '\0' ? e->resource :
		    e != NULL && e->code == ERR_NO_RESOURCES ? "other" :
		    "invalid");
	metric_add(pd->m_admit, labels, 1);
	metric_observe(pd->m_admit_s, NULL, (now_us() - t0) / 1e6);
}

/*
 * Resolve, key and admit a new document for ps (NULL: a new slice)
 * against old (NULL: none).  On success *want holds the new usage.
 */
static int
slice_admit(struct pipd *pd, struct pslice *ps, struct slice *doc,
    const struct slice *old, struct usage *want, double *map_ms)
{
	uint64_t t0 = now_us();

	memset(want, 0, sizeof(*want));
	if (mapper_resolve(pd, doc, old, ps != NULL ? &ps->held : NULL) ==
	    -1)
		return -1;
	*map_ms = (now_us() - t0) / 1000.0;
	admit_assign_keys(pd, doc, old);
	if (admit_keys(pd, ps, doc) == -1)
		return -1;
	return usage_of(pd, doc, want);
}

/*
 * POST /v1/slices: parse, check, map or route, reserve, record.
 * Returns 0 with *out the new slice (allocated), or -1 with the
 * refusal recorded and nothing changed.
 */
int
slices_allocate(struct pipd *pd, const char *owner, const char *body,
    size_t len, struct pslice **out)
{
	struct slice *s;
	struct pslice *ps = NULL;
	struct usage want;
	uint64_t t0 = now_us();
	double map_ms = 0;
	int64_t expires;

	memset(&want, 0, sizeof(want));
	if ((s = slice_parse(body, len, "slice")) == NULL)
		goto refused;
	if (slice_here(pd, s) == -1 || slice_expiry(pd, s->expires,
	    &expires) == -1)
		goto refused;
	if (slice_find(pd, s->name) != NULL) {
		err_at(ERR_CONFLICT, "/slice/@name", 0, "slice '%s' exists "
		    "already", s->name);
		err_hint("choose another name, or PUT to change it");
		goto refused;
	}
	if ((ps = pslice_new(pd, s->name, owner)) == NULL)
		goto refused;
	ps->mapping = s->mapping;
	s->expires = 0;
	if (slice_admit(pd, NULL, s, NULL, &want, &map_ms) == -1 ||
	    admit_set(pd, s->name, &ps->held, &want) == -1)
		goto refused;
	ps->doc = s;
	ps->state = VS_ALLOCATED;
	ps->expires = expires;
	ps->map_ms = map_ms;
	ps->alloc_ms = (now_us() - t0) / 1000.0 - map_ms;
	if (pstore_save(pd, ps) == -1) {
		ps->doc = NULL;
		admit_release(pd, &ps->held);
		goto refused;
	}
	ps->next = pd->slices;
	pd->slices = ps;
	usage_clear(&want);
	count_decision(pd, 1, t0);
	metric_add(pd->m_allocs, "result=\"allocated\"", 1);
	pmetrics_slices(pd);
	log_info("slice %s: allocated for %s (%zu nodes, %zu links), "
	    "expires in %lld s", ps->name, owner, s->nnodes, s->nlinks,
	    (long long)(expires - pd->clock()));
	*out = ps;
	return 0;
refused:
	count_decision(pd, 0, t0);
	metric_add(pd->m_allocs, "result=\"refused\"", 1);
	usage_clear(&want);
	if (ps != NULL)
		pslice_free(pd, ps);
	slice_free(s);
	return -1;
}

/*
 * The reservation to hold for newdoc: the new usage when no agent has
 * the slice yet, else the larger of old and new (make before break, so
 * that a rollback always fits).  Takes it; 0 or -1 with a refusal.
 */
static int
slice_take(struct pipd *pd, struct pslice *ps, const struct usage *want)
{
	struct usage old, peak;
	int rc;

	if (ps->state == VS_ALLOCATED)
		return admit_set(pd, ps->name, &ps->held, want);
	if (usage_of(pd, ps->doc, &old) == -1)
		return -1;
	rc = usage_max(&old, want, &peak);
	usage_clear(&old);
	if (rc == 0)
		rc = admit_set(pd, ps->name, &ps->held, &peak);
	usage_clear(&peak);
	return rc;
}

/* Resolve and take a new document for an existing slice. */
static int
slice_change(struct pipd *pd, struct pslice *ps, struct slice *s)
{
	struct usage want;
	uint64_t t0 = now_us();
	double map_ms = 0;
	int rc;

	rc = slice_admit(pd, ps, s, ps->doc, &want, &map_ms);
	if (rc == 0)
		rc = slice_take(pd, ps, &want);
	usage_clear(&want);
	count_decision(pd, rc == 0, t0);
	if (rc == 0)
		ps->map_ms = map_ms;
	return rc;
}

/*
 * PUT /v1/slices/NAME: the new document, resolved (existing nodes keep
 * their hosts) and admitted; *newdoc gets it, to commit at once
 * (allocated slice) or after the agents applied it (provisioned).
 */
int
slices_update_check(struct pipd *pd, struct pslice *ps, const char *body,
    size_t len, struct slice **newdoc)
{
	struct slice *s;
	int64_t expires = ps->expires;

	*newdoc = NULL;
	if ((s = slice_parse(body, len, "slice")) == NULL)
		return -1;
	if (strcmp(s->name, ps->name) != 0) {
		err_at(ERR_INVALID, "/slice/@name", 0, "the document is slice "
		    "'%s', the address slice '%s'", s->name, ps->name);
		slice_free(s);
		return -1;
	}
	if (slice_here(pd, s) == -1 || (s->expires != 0 &&
	    slice_expiry(pd, s->expires, &expires) == -1) ||
	    slice_change(pd, ps, s) == -1) {
		slice_free(s);
		return -1;
	}
	s->expires = 0;
	ps->expires = expires;
	*newdoc = s;
	return 0;
}

/*
 * Make newdoc the slice's document (owned from now on) and hold exactly
 * its usage.  0, or -1 if it could not be recorded.
 */
int
slices_commit_doc(struct pipd *pd, struct pslice *ps, struct slice *newdoc)
{
	struct usage want;

	if (usage_of(pd, newdoc, &want) == 0) {
		/* Never more than held: cannot be refused. */
		if (admit_set(pd, ps->name, &ps->held, &want) == -1)
			log_warnx("slice %s: shrinking the reservation "
			    "failed", ps->name);
		usage_clear(&want);
	}
	slice_free(ps->doc);
	ps->doc = newdoc;
	return pstore_save(pd, ps);
}

int
slices_renew(struct pipd *pd, struct pslice *ps, int64_t seconds)
{
	int64_t old = ps->expires;

	if (seconds <= 0 || seconds > pd->conf->lease_max_s)
		return err_set(ERR_INVALID, "renew for %lld s: PIP '%s' "
		    "renews for 1 .. %lld s", (long long)seconds,
		    pd->conf->name, (long long)pd->conf->lease_max_s);
	ps->expires = pd->clock() + seconds;
	if (pstore_save(pd, ps) == -1) {
		ps->expires = old;
		return -1;
	}
	return 0;
}

/* The slice's document without node (and its links and stubs). */
int
slices_without_node(struct pipd *pd, struct pslice *ps, const char *node,
    struct slice **newdoc)
{
	struct slice *s;
	ssize_t n;
	size_t k;

	*newdoc = NULL;
	if ((n = topo_node_find(ps->doc->nodes, ps->doc->nnodes, node)) < 0)
		return err_set(ERR_NOT_FOUND, "slice '%s' has no node '%s'",
		    ps->name, node);
	if (ps->doc->nnodes == 1)
		return err_set(ERR_CONFLICT, "node '%s' is the last of slice "
		    "'%s'; delete the slice instead", node, ps->name);
	if ((s = slice_dup(ps->doc)) == NULL)
		return -1;
	topo_node_clear(&s->nodes[n]);
	memmove(&s->nodes[n], &s->nodes[n + 1],
	    (s->nnodes - (size_t)n - 1) * sizeof(*s->nodes));
	s->nnodes--;
	for (size_t i = k = 0; i < s->nlinks; i++) {
		if (strcmp(s->links[i].end[0].node, node) == 0 ||
		    strcmp(s->links[i].end[1].node, node) == 0)
			topo_link_clear(&s->links[i]);
		else
			s->links[k++] = s->links[i];
	}
	s->nlinks = k;
	for (size_t i = k = 0; i < s->nstubs; i++) {
		if (strcmp(s->stubs[i].end[0].node, node) == 0)
			topo_link_clear(&s->stubs[i]);
		else
			s->stubs[k++] = s->stubs[i];
	}
	s->nstubs = k;
	/* Less than before: always fits; still resolve and take. */
	if (slice_change(pd, ps, s) == -1) {
		slice_free(s);
		return -1;
	}
	*newdoc = s;
	return 0;
}

/* The slice's document with node moved to host (its links re-routed). */
int
slices_migrated(struct pipd *pd, struct pslice *ps, const char *node,
    const char *host, struct slice **newdoc)
{
	struct slice *s;
	ssize_t n;

	*newdoc = NULL;
	if ((n = topo_node_find(ps->doc->nodes, ps->doc->nnodes, node)) < 0)
		return err_set(ERR_NOT_FOUND, "slice '%s' has no node '%s'",
		    ps->name, node);
	if (config_host(pd->conf, host) < 0)
		return err_set(ERR_NOT_FOUND, "PIP '%s' has no host '%s'",
		    pd->conf->name, host);
	if (strcmp(ps->doc->nodes[n].host, host) == 0)
		return err_set(ERR_CONFLICT, "node '%s' is on host '%s' "
		    "already", node, host);
	if ((s = slice_dup(ps->doc)) == NULL)
		return -1;
	str_lcpy(s->nodes[n].host, host, sizeof(s->nodes[n].host));
	for (size_t i = 0; i < s->nlinks; i++)
		if (strcmp(s->links[i].end[0].node, node) == 0 ||
		    strcmp(s->links[i].end[1].node, node) == 0)
			topo_link_clear(&s->links[i]);
	if (slice_change(pd, ps, s) == -1) {
		slice_free(s);
		return -1;
	}
	*newdoc = s;
	return 0;
}

/* Forget a slice: release what it holds, remove its record. */
void
slices_drop(struct pipd *pd, struct pslice *ps)
{
	struct pslice **pp;

	for (pp = &pd->slices; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ps) {
			*pp = ps->next;
			break;
		}
	admit_release(pd, &ps->held);
	subs_forget_slice(pd, ps->name);
	if (pstore_delete(pd, ps->name) == -1)
		log_warnx("slice %s: removing its record failed", ps->name);
	pslice_free(pd, ps);
	pmetrics_slices(pd);
}

/*
 * Once a second: expired slices go.  An allocated one is released at
 * once; a provisioned one is deleted on its agents first.  A delete
 * that failed is retried every PIPD_RETRY_S seconds.
 */
void
slices_expire(struct pipd *pd)
{
	int64_t now = pd->clock();
	struct pslice *ps, *next;
	static int64_t last_retry;

	for (ps = pd->slices; ps != NULL; ps = next) {
		next = ps->next;
		if (ps->busy)
			continue;
		if (ps->op == OP_DELETE) {
			if (now - last_retry >= PIPD_RETRY_S) {
				log_info("slice %s: retrying its delete",
				    ps->name);
				provision_start(pd, ps, OP_DELETE, NULL, NULL);
			}
			continue;
		}
		if (ps->expires > now || ps->op != OP_NONE)
			continue;
		if (ps->state == VS_ALLOCATED) {
			log_info("slice %s: reservation expired; released",
			    ps->name);
			metric_add(pd->m_allocs, "result=\"expired\"", 1);
			slices_drop(pd, ps);
		} else {
			log_info("slice %s: expired; deleting", ps->name);
			metric_add(pd->m_allocs, "result=\"expired\"", 1);
			if (provision_start(pd, ps, OP_DELETE, NULL, NULL) ==
			    -1)
				log_warnx("slice %s: cannot start its delete",
				    ps->name);
		}
	}
	if (now - last_retry >= PIPD_RETRY_S)
		last_retry = now;
}

/* The agent's view of node name on host h, or NULL. */
static const struct mf_node *
frag_node(const struct manifest *f, const char *name)
{
	for (size_t i = 0; f != NULL && i < f->nnodes; i++)
		if (strcmp(f->nodes[i].name, name) == 0)
			return &f->nodes[i];
	return NULL;
}

static const struct mf_link *
frag_link(const struct manifest *f, const char *name)
{
	for (size_t i = 0; f != NULL && i < f->nlinks; i++)
		if (strcmp(f->links[i].name, name) == 0)
			return &f->links[i];
	return NULL;
}

/* Fill one manifest node from the document and the agent's fragment. */
static int
mf_fill_node(struct pipd *pd, const struct pslice *ps,
    const struct topo_node *nd, struct manifest **frags, int show,
    struct mf_node *out, int *degraded)
{
	int h = config_host(pd->conf, nd->host);
	const struct mf_node *an = h >= 0 ? frag_node(frags[h], nd->name) :
	    NULL;

	str_lcpy(out->name, nd->name, sizeof(out->name));
	out->kind = (int)nd->kind;
	str_lcpy(out->pip, pd->conf->name, sizeof(out->pip));
	if (show)
		str_lcpy(out->host, nd->host, sizeof(out->host));
	out->pooled = -1;
	out->state = ps->state == VS_ALLOCATED ? NS_ALLOCATED : NS_PENDING;
	if (an != NULL) {
		out->state = an->state;
		str_lcpy(out->id, an->id, sizeof(out->id));
		str_lcpy(out->driver, an->driver, sizeof(out->driver));
		out->pooled = an->pooled;
		out->console = an->console;
		if (an->nifaces > 0) {
			out->ifaces = calloc(an->nifaces, sizeof(*out->ifaces));
			if (out->ifaces == NULL)
				return err_nomem();
			memcpy(out->ifaces, an->ifaces,
			    an->nifaces * sizeof(*an->ifaces));
			out->nifaces = an->nifaces;
		}
	}
	if (h >= 0 && pd->hosts[h].state == HOST_DOWN) {
		out->state = NS_DEGRADED;
		*degraded = 1;
	}
	return 0;
}

/* Fill one manifest link (or stub) from the document and fragments. */
static int
mf_fill_link(struct pipd *pd, const struct slice *doc,
    const struct topo_link *l, int stub, struct manifest **frags, int show,
    struct mf_link *out)
{
	const struct mf_link *al = NULL;

	str_lcpy(out->name, l->name, sizeof(out->name));
	out->encap = (int)l->encap;
	out->key = l->key;
	out->bandwidth = l->bandwidth;
	out->state = LS_PENDING;
	if ((out->ends = calloc(2, sizeof(*out->ends))) == NULL)
		return err_nomem();
	out->nends = 2;
	for (int e = 0; e < 2; e++) {
		struct mf_end *me = &out->ends[e];
		ssize_t n;
		int h, ph;

		if (stub && e == 1) {
			str_lcpy(me->node, l->peer_node, sizeof(me->node));
			str_lcpy(me->pip, l->peer_pip, sizeof(me->pip));
			me->underlay = l->peer_underlay;
			if (me->node[0] == '\0')
				out->nends = 1;
			continue;
		}
		str_lcpy(me->node, l->end[e].node, sizeof(me->node));
		str_lcpy(me->pip, pd->conf->name, sizeof(me->pip));
		n = topo_node_find(doc->nodes, doc->nnodes, l->end[e].node);
		if (n < 0 || (h = config_host(pd->conf,
		    doc->nodes[n].host)) < 0)
			continue;
		if (show)
			str_lcpy(me->host, doc->nodes[n].host,
			    sizeof(me->host));
		me->underlay = pd->hosts[h].underlay;
		/* Stitched at our peering host: the peer tunnels to it. */
		if (stub && peering_stub(pd, doc, l, &ph) >= 0 && ph >= 0)
			me->underlay = pd->hosts[ph].underlay;
		if (al == NULL)
			al = frag_link(frags[h], l->name);
	}
	if (al != NULL)
		out->state = al->state;
	return 0;
}

/*
 * The manifest of a slice as its VNP may see it (hosts hidden unless
 * its policy is "full"): every node (or only only_node) with its host,
 * state and what the agent reported; every link and stub with its ends'
 * underlay addresses; the steps.  state overrides the slice's state
 * when not VS_LAST.  Returns the document (free it) or NULL.
 */
char *
slices_manifest(struct pipd *pd, const struct pslice *ps,
    const char *only_node, enum vnet_state state, size_t *lenp)
{
	struct manifest *m, **frags;
	const struct slice *doc = ps->doc;
	int show = config_detail(pd->conf, ps->owner) == ADV_FULL;
	int degraded = 0, rc = 0;
	char *out = NULL;

	m = calloc(1, sizeof(*m));
	frags = calloc(pd->nhosts + 1, sizeof(*frags));
	if (m == NULL || frags == NULL ||
	    (m->nodes = calloc(doc->nnodes + 1, sizeof(*m->nodes))) == NULL ||
	    (m->links = calloc(doc->nlinks + doc->nstubs + 1,
	    sizeof(*m->links))) == NULL ||
	    (m->steps = calloc(2 * pd->nhosts + 3, sizeof(*m->steps))) ==
	    NULL) {
		err_nomem();
		goto out;
	}
	for (size_t h = 0; h < pd->nhosts; h++)
		if (ps->frag[h] != NULL)
			frags[h] = manifest_parse(ps->frag[h],
			    strlen(ps->frag[h]), "fragment");
	err_reset();
	str_lcpy(m->vnet, doc->vnet, sizeof(m->vnet));
	str_lcpy(m->slice, ps->name, sizeof(m->slice));
	m->discovery = ps->mapping == SLICE_MAP_PIP ? DISC_PIP : DISC_VNP;
	m->expires = ps->expires;
	for (size_t i = 0; i < doc->nnodes && rc == 0; i++) {
		if (only_node != NULL &&
		    strcmp(doc->nodes[i].name, only_node) != 0)
			continue;
		rc = mf_fill_node(pd, ps, &doc->nodes[i], frags, show,
		    &m->nodes[m->nnodes++], &degraded);
	}
	for (size_t i = 0; i < doc->nlinks && rc == 0 && only_node == NULL;
	    i++)
		rc = mf_fill_link(pd, doc, &doc->links[i], 0, frags, show,
		    &m->links[m->nlinks++]);
	for (size_t i = 0; i < doc->nstubs && rc == 0 && only_node == NULL;
	    i++)
		rc = mf_fill_link(pd, doc, &doc->stubs[i], 1, frags, show,
		    &m->links[m->nlinks++]);
	if (rc == -1)
		goto out;
	m->state = state != VS_LAST ? state : ps->state;
	if (m->state == VS_READY && degraded)
		m->state = VS_DEGRADED;
	m->steps[m->nsteps++] = (struct mf_step){ .step = STEP_MAPPING,
	    .ms = ps->map_ms };
	m->steps[m->nsteps++] = (struct mf_step){ .step = STEP_ALLOCATION,
	    .ms = ps->alloc_ms };
	for (size_t h = 0; h < pd->nhosts; h++)
		for (size_t k = 0; frags[h] != NULL && k < frags[h]->nsteps;
		    k++) {
			struct mf_step st = frags[h]->steps[k];

			if (st.step != STEP_VIRTUALIZATION &&
			    st.step != STEP_TOPOLOGY)
				continue;
			str_lcpy(st.pip, pd->conf->name, sizeof(st.pip));
			if (show)
				str_lcpy(st.host, pd->conf->hosts[h].name,
				    sizeof(st.host));
			else
				st.host[0] = '\0';
			m->steps[m->nsteps++] = st;
		}
	out = manifest_format(m);
	if (out != NULL && lenp != NULL)
		*lenp = strlen(out);
out:
	for (size_t h = 0; frags != NULL && h < pd->nhosts; h++)
		manifest_free(frags[h]);
	free(frags);
	manifest_free(m);
	return out;
}

/* One stored slice back into memory, reservation included. */
static int
slices_load_one(struct pipd *pd, const char *name, const char *owner,
    const char *state, int64_t expires, const char *mapping,
    const char *doc, const char *prev, const char *op, double map_ms,
    double alloc_ms)
{
	struct pslice *ps;
	struct usage a, b, want;
	int st, o;

	if ((ps = pslice_new(pd, name, owner)) == NULL)
		return -1;
	memset(&want, 0, sizeof(want));
	st = vnet_state_from_string(state);
	ps->state = st < 0 ? VS_ALLOCATED : (enum vnet_state)st;
	ps->expires = expires;
	o = slice_mapping_from_string(mapping);
	ps->mapping = o < 0 ? SLICE_MAP_VNP : (enum slice_mapping)o;
	ps->op = strcmp(op, "provision") == 0 ? OP_PROVISION :
	    strcmp(op, "update") == 0 ? OP_UPDATE :
	    strcmp(op, "delete") == 0 ? OP_DELETE : OP_NONE;
	ps->map_ms = map_ms;
	ps->alloc_ms = alloc_ms;
	if ((ps->doc = slice_parse(doc, strlen(doc), name)) == NULL ||
	    (prev[0] != '\0' && (ps->prev = slice_parse(prev, strlen(prev),
	    name)) == NULL) || usage_of(pd, ps->doc, &a) == -1) {
		log_warnx("slice %s: its stored document is bad; dropped",
		    name);
		pslice_free(pd, ps);
		return 0;
	}
	if (ps->prev != NULL && usage_of(pd, ps->prev, &b) == 0) {
		usage_max(&a, &b, &want);
		usage_clear(&a);
		usage_clear(&b);
	} else
		want = a;
	/* What was reserved stays reserved, even if capacity shrank. */
	if (admit_set(pd, name, &ps->held, &want) == -1) {
		log_warnx("slice %s: its reservation no longer fits; kept",
		    name);
		err_reset();
		ps->held = want;
		memset(&want, 0, sizeof(want));
		for (size_t i = 0; i < ps->held.nh; i++) {
			struct pipd_host *h = &pd->hosts[ps->held.h[i].host];

			h->cpu_used += ps->held.h[i].cpu;
			h->mem_used += ps->held.h[i].mem;
			h->if_used += ps->held.h[i].ifs;
		}
		for (size_t i = 0; i < ps->held.nl; i++)
			pd->links[ps->held.l[i].link].bw_used +=
			    ps->held.l[i].bw;
	}
	usage_clear(&want);
	if (pstore_load_frags(pd, ps) == -1)
		log_warnx("slice %s: agent fragments not loaded", name);
	ps->next = pd->slices;
	pd->slices = ps;
	return 0;
}

/* Load every slice from the store (at start). */
int
slices_load(struct pipd *pd)
{
	int rc = pstore_load(pd, slices_load_one);

	pmetrics_slices(pd);
	return rc;
}

void
slices_free(struct pipd *pd)
{
	struct pslice *ps, *next;

	for (ps = pd->slices; ps != NULL; ps = next) {
		next = ps->next;
		pslice_free(pd, ps);
	}
	pd->slices = NULL;
}
