/*
 * The VNet table: life cycle of struct vn, deep copies of documents,
 * tunnel keys, and the manifest a VNO reads — aggregated from what each
 * PIP answered, with vnpd's own step times.  Callers hold vnpd->lock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "vnpd.h"

ENUM_IMPL(part_state, PART_STATE_LAST, "new", "allocating", "allocated",
    "provisioning", "ready", "releasing")

struct vn *
vn_find(struct vnpd *d, const char *owner, const char *name)
{
	for (struct vn *v = d->vnets; v != NULL; v = v->next)
		if (strcmp(v->owner, owner) == 0 && strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/*
 * 1 if another VNO has a VNet called name.  Slices are named VNET.PIP at
 * each PIP (docs/api.md), so such a name cannot be used twice.
 */
int
vn_name_taken(struct vnpd *d, const char *owner, const char *name)
{
	for (struct vn *v = d->vnets; v != NULL; v = v->next)
		if (strcmp(v->owner, owner) != 0 && strcmp(v->name, name) == 0)
			return 1;
	return 0;
}

struct vn *
vn_new(const char *owner, const struct vnet *doc, enum discovery disc)
{
	struct vn *v = calloc(1, sizeof(*v));

	if (v == NULL) {
		err_nomem();
		return NULL;
	}
	str_lcpy(v->owner, owner, sizeof(v->owner));
	str_lcpy(v->name, doc->name, sizeof(v->name));
	v->disc = disc;
	v->state = VS_PROVISIONING;
	for (int s = 0; s < STEP_LAST; s++)
		v->step_ms[s] = -1;
	if ((v->doc = vnet_dup(doc)) == NULL) {
		free(v);
		return NULL;
	}
	return v;
}

void
vn_parts_free(struct vn_part *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		slice_free(p[i].sl);
		manifest_free(p[i].mf);
	}
	free(p);
}

void
vn_free(struct vn *v)
{
	if (v == NULL)
		return;
	vnet_free(v->doc);
	vn_parts_free(v->parts, v->nparts);
	free(v);
}

void
vn_unlink(struct vnpd *d, struct vn *v)
{
	for (struct vn **pp = &d->vnets; *pp != NULL; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			v->next = NULL;
			return;
		}
}

/* The part whose slice holds node, or NULL. */
struct vn_part *
vn_part_of_node(struct vn *v, const char *node)
{
	for (size_t i = 0; i < v->nparts; i++)
		if (v->parts[i].sl != NULL && topo_node_find(v->parts[i].sl->nodes,
		    v->parts[i].sl->nnodes, node) >= 0)
			return &v->parts[i];
	return NULL;
}

struct vn_part *
vn_part_of_pip(struct vn *v, const char *pip)
{
	for (size_t i = 0; i < v->nparts; i++)
		if (strcmp(v->parts[i].pip, pip) == 0)
			return &v->parts[i];
	return NULL;
}

/* Say what vnpd does now (for logs); takes the lock. */
void
vn_phase(struct vnpd *d, struct vn *v, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&d->lock);
	va_start(ap, fmt);
	vsnprintf(v->phase, sizeof(v->phase), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&d->lock);
	log_info("vnet %s/%s: %s", v->owner, v->name, v->phase);
}

/* Mark v failed for reason e; takes the lock and saves. */
void
vn_fail(struct vnpd *d, struct vn *v, const struct err *e)
{
	pthread_mutex_lock(&d->lock);
	v->state = VS_FAILED;
	if (e != NULL)
		v->err = *e;
	else
		v->err.code = ERR_INTERNAL;
	if (v->err.code == ERR_OK)
		v->err.code = ERR_INTERNAL;
	vstore_save(d, v);
	pthread_mutex_unlock(&d->lock);
	log_warnx("vnet %s/%s failed: %s", v->owner, v->name, v->err.msg);
}

/* The manifest node called name in part p, or NULL. */
static const struct mf_node *
part_mf_node(const struct vn_part *p, const char *name)
{
	if (p == NULL || p->mf == NULL)
		return NULL;
	for (size_t i = 0; i < p->mf->nnodes; i++)
		if (strcmp(p->mf->nodes[i].name, name) == 0)
			return &p->mf->nodes[i];
	return NULL;
}

static const struct mf_link *
part_mf_link(const struct vn_part *p, const char *name)
{
	if (p == NULL || p->mf == NULL)
		return NULL;
	for (size_t i = 0; i < p->mf->nlinks; i++)
		if (strcmp(p->mf->links[i].name, name) == 0)
			return &p->mf->links[i];
	return NULL;
}

/* The end of link l at node, as part p's manifest has it, or NULL. */
static const struct mf_end *
part_mf_end(const struct vn_part *p, const char *link, const char *node)
{
	const struct mf_link *l = part_mf_link(p, link);

	if (l == NULL)
		return NULL;
	for (size_t e = 0; e < l->nends; e++)
		if (strcmp(l->ends[e].node, node) == 0)
			return &l->ends[e];
	return NULL;
}

static enum node_state
part_node_state(const struct vn_part *p)
{
	if (p == NULL)
		return NS_PENDING;
	switch (p->state) {
	case PART_ALLOCATED:
	case PART_PROVISIONING:
		return NS_ALLOCATED;
	case PART_READY:
		return NS_RUNNING;
	default:
		return NS_PENDING;
	}
}

/*
 * The manifest of v as its VNO sees it (only node `node` when not
 * NULL), in a malloc'd string, or NULL (ERR_NOMEM).  Nodes and links in
 * the order of the VNet document; each from its PIP's last answer when
 * there is one; a link across PIPs gets one end from each.  Steps:
 * vnpd's exchange, mapping and allocation, every PIP's own steps (with
 * pip=), then vnpd's console and total.
 */
char *
vn_manifest(const struct vn *v, const char *node, int64_t now)
{
	struct manifest m;
	struct mf_end *ends = NULL;
	char *out = NULL;
	size_t nsteps = 0;

	memset(&m, 0, sizeof(m));
	str_lcpy(m.vnet, v->name, sizeof(m.vnet));
	m.state = v->state;
	m.discovery = (int)v->disc;
	m.expires = v->expires;
	m.nodes = calloc(v->doc->nnodes + 1, sizeof(*m.nodes));
	m.links = calloc(v->doc->nlinks + 1, sizeof(*m.links));
	ends = calloc(2 * v->doc->nlinks + 1, sizeof(*ends));
	for (size_t i = 0; i < v->nparts; i++)
		if (v->parts[i].mf != NULL)
			nsteps += v->parts[i].mf->nsteps;
	m.steps = calloc(nsteps + STEP_LAST, sizeof(*m.steps));
	if (m.nodes == NULL || m.links == NULL || ends == NULL ||
	    m.steps == NULL) {
		err_nomem();
		goto done;
	}
	for (size_t i = 0; i < v->doc->nnodes; i++) {
		const struct topo_node *tn = &v->doc->nodes[i];
		struct vn_part *p = vn_part_of_node((struct vn *)v, tn->name);
		const struct mf_node *mn = part_mf_node(p, tn->name);
		struct mf_node *o = &m.nodes[m.nnodes];

		if (node != NULL && strcmp(node, tn->name) != 0)
			continue;
		if (mn != NULL)
			*o = *mn;	/* ifaces borrowed */
		else {
			memset(o, 0, sizeof(*o));
			str_lcpy(o->name, tn->name, sizeof(o->name));
			o->state = part_node_state(p);
			o->pooled = -1;
			if (p != NULL && p->sl != NULL) {
				ssize_t k = topo_node_find(p->sl->nodes,
				    p->sl->nnodes, tn->name);

				if (k >= 0)
					str_lcpy(o->host, p->sl->nodes[k].host,
					    sizeof(o->host));
			}
		}
		o->kind = (int)tn->kind;
		if (p != NULL)
			str_lcpy(o->pip, p->pip, sizeof(o->pip));
		if (v->state == VS_READY || v->state == VS_DEGRADED)
			o->console.type = CON_EXEC;
		else
			o->console.type = CON_NONE;
		o->console.address = 0;
		o->console.port = 0;
		o->console.user[0] = '\0';
		m.nnodes++;
	}
	for (size_t i = 0; node == NULL && i < v->doc->nlinks; i++) {
		const struct topo_link *tl = &v->doc->links[i];
		struct mf_link *o = &m.links[m.nlinks++];
		int up = 1, known = 0;

		memset(o, 0, sizeof(*o));
		str_lcpy(o->name, tl->name, sizeof(o->name));
		o->encap = (int)tl->encap;
		o->key = tl->key;
		o->bandwidth = tl->bandwidth;
		o->ends = &ends[2 * i];
		for (int e = 0; e < 2; e++) {
			struct vn_part *p = vn_part_of_node((struct vn *)v,
			    tl->end[e].node);
			const struct mf_link *ml = part_mf_link(p, tl->name);
			const struct mf_end *me = part_mf_end(p, tl->name,
			    tl->end[e].node);
			struct mf_end *oe = &o->ends[o->nends++];

			if (me != NULL)
				*oe = *me;
			else {
				memset(oe, 0, sizeof(*oe));
				str_lcpy(oe->node, tl->end[e].node,
				    sizeof(oe->node));
			}
			if (p != NULL)
				str_lcpy(oe->pip, p->pip, sizeof(oe->pip));
			if (ml != NULL) {
				known = 1;
				up &= ml->state == LS_UP;
			} else
				up = 0;
		}
		o->state = known && up ? LS_UP : LS_PENDING;
		if (v->state == VS_FAILED)
			o->state = LS_FAILED;
	}
	for (int s = STEP_EXCHANGE; s <= STEP_ALLOCATION; s++)
		if (v->step_ms[s] >= 0) {
			m.steps[m.nsteps].step = (enum step)s;
			m.steps[m.nsteps++].ms = v->step_ms[s];
		}
	for (size_t i = 0; i < v->nparts; i++) {
		const struct manifest *pm = v->parts[i].mf;

		for (size_t k = 0; pm != NULL && k < pm->nsteps; k++) {
			struct mf_step *st = &m.steps[m.nsteps++];

			*st = pm->steps[k];
			str_lcpy(st->pip, v->parts[i].pip, sizeof(st->pip));
		}
	}
	for (int s = STEP_VIRTUALIZATION; s < STEP_LAST; s++)
		if (v->step_ms[s] >= 0) {
			m.steps[m.nsteps].step = (enum step)s;
			m.steps[m.nsteps++].ms = v->step_ms[s];
		}
	(void)now;
	out = manifest_format(&m);
done:
	free(m.nodes);
	free(m.links);
	free(m.steps);
	free(ends);
	return out;
}

/* "NAME STATE DISCOVERY\n" per VNet of owner, in a malloc'd string. */
char *
vn_list(struct vnpd *d, const char *owner)
{
	struct buf b;
	char *s;

	buf_init(&b);
	for (struct vn *v = d->vnets; v != NULL; v = v->next)
		if (strcmp(v->owner, owner) == 0)
			buf_printf(&b, "%s %s %s\n", v->name,
			    vnet_state_to_string(v->state),
			    discovery_to_string(v->disc));
	if (b.len == 0)
		return strdup("");
	s = buf_steal(&b, NULL);
	return s;
}

/* Set the VNets-by-state gauge. */
void
vn_metrics(struct vnpd *d)
{
	size_t n[VS_LAST] = { 0 };

	for (struct vn *v = d->vnets; v != NULL; v = v->next)
		n[v->state]++;
	for (int s = 0; s < VS_LAST; s++) {
		char labels[48];

		snprintf(labels, sizeof(labels), "state=\"%s\"",
		    vnet_state_to_string(s));
		metric_set(d->m_vnets, labels, (double)n[s]);
	}
}

/*
 * Give every link of doc a tunnel key: the key of the link of the same
 * name in old (when old is not NULL), else a fresh one from vnpd's
 * counter (persisted).  Any key the VNO wrote is replaced: keys must be
 * unique across every VNet vnpd runs.  Takes the lock.  0 or -1.
 */
int
vn_assign_keys(struct vnpd *d, struct vnet *doc, const struct vnet *old)
{
	uint32_t need = 0, first = 0;

	for (size_t i = 0; i < doc->nlinks; i++) {
		const struct topo_link *ol = NULL;

		for (size_t k = 0; old != NULL && k < old->nlinks; k++)
			if (strcmp(old->links[k].name, doc->links[i].name) == 0)
				ol = &old->links[k];
		if (ol != NULL && ol->key != 0)
			doc->links[i].key = ol->key;
		else {
			doc->links[i].key = 0;
			need++;
		}
	}
	if (need == 0)
		return 0;
	pthread_mutex_lock(&d->lock);
	if (vstore_keys(d, need, &first) == -1) {
		pthread_mutex_unlock(&d->lock);
		return -1;
	}
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < doc->nlinks; i++)
		if (doc->links[i].key == 0) {
			doc->links[i].key = first++;
			/* A VNI has 24 bits, and pipd's VNIs start at 2^23. */
			if (doc->links[i].encap == ENCAP_VXLAN &&
			    doc->links[i].key >= VNPD_VNI_END)
				doc->links[i].key = (doc->links[i].key - 1) %
				    (VNPD_VNI_END - 1) + 1;
		}
	return 0;
}
