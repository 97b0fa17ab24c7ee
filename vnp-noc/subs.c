/*
 * Subscribers (docs/subscribers.md): the homes a VNO enrols in a VNet.
 *
 * A <subscriber> of the VNet document becomes, in what vnpd sends the
 * PIPs, three things: a gateway node "gw-NAME" (kind gateway, the
 * home's own <gateway> settings, a default route towards the access
 * point), an access link "acc-NAME" between the access point's node and
 * that gateway (a /30 out of the access point's subnet), and, in the
 * slice that holds the gateway, the home's stub "home-NAME" (peer host =
 * the subscriber, no underlay until the home attaches; the PIP gives it
 * its key).  Expansion is idempotent: what exists already is kept (and
 * its settings refreshed), so a document expanded twice is the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "units.h"
#include "vnpd.h"
#include "xml.h"

#define GW_PREFIX	"gw-"
#define ACC_PREFIX	"acc-"
#define HOME_PREFIX	"home-"
#define SUB_NAME_MAX	(NAME_LEN - 1 - 5)	/* room for "home-" */
#define ACCESS_DEFAULT	0x64400000u	/* 100.64.0.0, one /16 per AP */

/* The derived names of subscriber sub; -1 if it is too long. */
int
subs_names(const char *sub, char *gw, char *acc, char *home)
{
	if (strlen(sub) > SUB_NAME_MAX)
		return err_set(ERR_INVALID, "subscriber name '%s' is longer "
		    "than %d characters", sub, SUB_NAME_MAX);
	if (gw != NULL)
		snprintf(gw, NAME_LEN, GW_PREFIX "%s", sub);
	if (acc != NULL)
		snprintf(acc, NAME_LEN, ACC_PREFIX "%s", sub);
	if (home != NULL)
		snprintf(home, NAME_LEN, HOME_PREFIX "%s", sub);
	return 0;
}

static ssize_t
ap_find(const struct vnet *v, const char *name)
{
	for (size_t i = 0; i < v->naps; i++)
		if (strcmp(v->aps[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t
link_find(const struct vnet *v, const char *name)
{
	for (size_t i = 0; i < v->nlinks; i++)
		if (strcmp(v->links[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* The access subnet of access point a: its address's network, or a /16. */
static void
ap_subnet(const struct vnet *v, size_t a, uint32_t *net, unsigned *len)
{
	if (v->aps[a].has_address && v->aps[a].address.len <= 28) {
		*net = prefix_network(&v->aps[a].address);
		*len = v->aps[a].address.len;
	} else {
		*net = ACCESS_DEFAULT + ((uint32_t)a << 16);
		*len = 16;
	}
}

/* 1 if address x is used by any link end of v. */
static int
addr_used(const struct vnet *v, uint32_t x)
{
	for (size_t i = 0; i < v->nlinks; i++)
		for (int e = 0; e < 2; e++)
			if (v->links[i].end[e].has_addr &&
			    v->links[i].end[e].addr.addr == x)
				return 1;
	return 0;
}

/* Append one node / link to v (copies taken).  0 or -1. */
static int
add_node(struct vnet *v, const struct topo_node *nd)
{
	struct topo_node *n;

	if ((n = reallocarray(v->nodes, v->nnodes + 1, sizeof(*n))) == NULL)
		return err_nomem();
	v->nodes = n;
	v->nodes[v->nnodes++] = *nd;
	return 0;
}

static int
add_link(struct vnet *v, const struct topo_link *l)
{
	struct topo_link *n;

	if ((n = reallocarray(v->links, v->nlinks + 1, sizeof(*n))) == NULL)
		return err_nomem();
	v->links = n;
	v->links[v->nlinks++] = *l;
	return 0;
}

/*
 * The gateway settings of subscriber s into out (a deep copy): its own
 * <gateway>, with the subscriber's C-VLAN/S-VLAN pair, so that the
 * agent records it; a subscriber with VLANs but no settings gets the
 * documented defaults written out (docs/api.md).  0 or -1.
 */
static int
sub_gw(const struct vnet_sub *s, struct gw_settings *out)
{
	if (gw_copy(out, &s->gw) == -1)
		return err_nomem();
	if (!out->present && (s->c_vlan != 0 || s->s_vlan != 0)) {
		out->present = 1;
		out->lan.addr = 0xc0a80101u;		/* 192.168.1.1/24 */
		out->lan.len = 24;
		out->dhcp_from = 0xc0a80164u;		/* .100 */
		out->dhcp_to = 0xc0a801c7u;		/* .199 */
		out->lease = GW_LEASE_DEFAULT;
	}
	out->c_vlan = s->c_vlan;
	out->s_vlan = s->s_vlan;
	return 0;
}

/* Give gateway node gw the settings of s (a fresh copy).  0 or -1. */
static int
gw_refresh(struct topo_node *gw, const struct vnet_sub *s)
{
	struct gw_settings copy;

	if (sub_gw(s, &copy) == -1)
		return -1;
	gw_clear(&gw->gw);
	gw->gw = copy;
	return 0;
}

/* Add gateway and access link for subscriber s of v.  0 or -1. */
static int
expand_one(struct vnet *v, const struct vnet_sub *s)
{
	char gwn[NAME_LEN], accn[NAME_LEN];
	struct topo_node nd;
	struct topo_link l;
	struct topo_route *r;
	ssize_t a, apn, g;
	uint32_t net, lo = 0;
	unsigned len;

	if (subs_names(s->name, gwn, accn, NULL) == -1)
		return -1;
	if ((a = ap_find(v, s->ap)) < 0)
		return err_set(ERR_NOT_FOUND, "subscriber '%s' uses access "
		    "point '%s', which does not exist", s->name, s->ap);
	if ((apn = topo_node_find(v->nodes, v->nnodes, v->aps[a].node)) < 0)
		return err_set(ERR_NOT_FOUND, "access point '%s' is served by "
		    "node '%s', which does not exist", s->ap, v->aps[a].node);
	if ((g = topo_node_find(v->nodes, v->nnodes, gwn)) >= 0) {
		if (v->nodes[g].kind != NODE_GATEWAY)
			return err_set(ERR_DUPLICATE, "node '%s' is the name "
			    "of subscriber '%s''s gateway", gwn, s->name);
		return gw_refresh(&v->nodes[g], s);
	}
	if (link_find(v, accn) >= 0)
		return err_set(ERR_DUPLICATE, "link '%s' is the name of "
		    "subscriber '%s''s access link", accn, s->name);
	/* The lowest free /30 of the access subnet (not the first). */
	ap_subnet(v, (size_t)a, &net, &len);
	for (uint32_t k = 1; k < (1u << (32 - len)) / 4; k++) {
		uint32_t base = net + 4 * k;

		if (!addr_used(v, base + 1) && !addr_used(v, base + 2)) {
			lo = base;
			break;
		}
	}
	if (lo == 0)
		return err_set(ERR_NO_RESOURCES, "access point '%s' has no "
		    "free /30 left for subscriber '%s'", s->ap, s->name);
	memset(&nd, 0, sizeof(nd));
	str_lcpy(nd.name, gwn, sizeof(nd.name));
	nd.kind = NODE_GATEWAY;
	nd.cpu = 50;
	nd.memory = 16;
	str_lcpy(nd.image, "router", sizeof(nd.image));
	nd.attach = ATTACH_DIRECT;
	nd.pool = POOL_PREFER;
	str_lcpy(nd.pip, v->nodes[apn].pip, sizeof(nd.pip));
	str_lcpy(nd.location, v->nodes[apn].location, sizeof(nd.location));
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return err_nomem();
	r->to.addr = 0;
	r->to.len = 0;
	r->via = lo + 1;
	nd.routes = r;
	nd.nroutes = 1;
	if (sub_gw(s, &nd.gw) == -1) {
		free(r);
		return -1;
	}
	memset(&l, 0, sizeof(l));
	str_lcpy(l.name, accn, sizeof(l.name));
	l.encap = ENCAP_GRE;
	l.bandwidth = v->aps[a].bandwidth;
	str_lcpy(l.end[0].node, v->aps[a].node, sizeof(l.end[0].node));
	l.end[0].addr.addr = lo + 1;
	l.end[0].addr.len = 30;
	l.end[0].has_addr = 1;
	str_lcpy(l.end[1].node, gwn, sizeof(l.end[1].node));
	l.end[1].addr.addr = lo + 2;
	l.end[1].addr.len = 30;
	l.end[1].has_addr = 1;
	if (add_node(v, &nd) == -1) {
		topo_node_clear(&nd);
		return -1;
	}
	if (add_link(v, &l) == -1)
		return -1;
	/* A node that declared its interfaces gets one more per home. */
	apn = topo_node_find(v->nodes, v->nnodes, v->aps[a].node);
	if (v->nodes[apn].interfaces > 0)
		v->nodes[apn].interfaces++;
	return 0;
}

/* 1 if node name is the gateway of a subscriber v no longer has. */
static int
gw_orphan(const struct vnet *v, const struct topo_node *nd)
{
	if (nd->kind != NODE_GATEWAY || strncmp(nd->name, GW_PREFIX,
	    strlen(GW_PREFIX)) != 0)
		return 0;
	for (size_t i = 0; i < v->nsubs; i++)
		if (strcmp(v->subs[i].name, nd->name + strlen(GW_PREFIX)) == 0)
			return 0;
	return 1;
}

/*
 * Make v's subscribers real in v itself: a gateway and an access link
 * for each one that has none yet, settings refreshed for those that
 * have; the gateways (and access links) of subscribers no longer listed
 * are removed.  0, or -1 with an error recorded (v half changed: the
 * caller drops it).
 */
int
subs_expand(struct vnet *v)
{
	size_t k = 0;

	for (size_t i = 0; i < v->nnodes; i++) {
		struct topo_node *nd = &v->nodes[i];

		if (!gw_orphan(v, nd)) {
			v->nodes[k++] = *nd;
			continue;
		}
		for (size_t j = 0, m = 0; j < v->nlinks; j++) {
			struct topo_link *l = &v->links[j];
			int e = strcmp(l->end[1].node, nd->name) == 0 ? 0 :
			    strcmp(l->end[0].node, nd->name) == 0 ? 1 : -1;

			if (e >= 0) {
				ssize_t o = topo_node_find(v->nodes, v->nnodes,
				    l->end[e].node);

				if (o >= 0 && v->nodes[o].interfaces > 1)
					v->nodes[o].interfaces--;
				topo_link_clear(l);
			} else
				v->links[m++] = *l;
			if (j + 1 == v->nlinks)
				v->nlinks = m;
		}
		topo_node_clear(nd);
	}
	v->nnodes = k;
	for (size_t i = 0; i < v->nsubs; i++)
		if (expand_one(v, &v->subs[i]) == -1)
			return -1;
	return 0;
}

/*
 * Add the home stubs to the slices of parts: for every gateway of a
 * subscriber of v in a part's slice, a stub "home-NAME" to the home
 * (peer host = the subscriber; key and underlay left to the PIP).  0 or
 * -1.
 */
int
subs_stubs(const struct vnet *v, struct vn_part *parts, size_t nparts)
{
	for (size_t p = 0; p < nparts; p++) {
		struct slice *s = parts[p].sl;

		for (size_t i = 0; s != NULL && i < v->nsubs; i++) {
			const struct vnet_sub *sub = &v->subs[i];
			char gwn[NAME_LEN], home[NAME_LEN];
			struct topo_link *st;
			ssize_t a = ap_find(v, sub->ap);

			if (a < 0 || subs_names(sub->name, gwn, NULL,
			    home) == -1)
				return -1;
			if (topo_node_find(s->nodes, s->nnodes, gwn) < 0)
				continue;
			if ((st = reallocarray(s->stubs, s->nstubs + 1,
			    sizeof(*st))) == NULL)
				return err_nomem();
			s->stubs = st;
			st = &s->stubs[s->nstubs++];
			memset(st, 0, sizeof(*st));
			str_lcpy(st->name, home, sizeof(st->name));
			st->encap = v->aps[a].encap;
			st->bandwidth = v->aps[a].bandwidth;
			str_lcpy(st->end[0].node, gwn, sizeof(st->end[0].node));
			str_lcpy(st->peer_pip, s->pip, sizeof(st->peer_pip));
			str_lcpy(st->peer_host, sub->name,
			    sizeof(st->peer_host));
		}
	}
	return 0;
}

/*
 * Read a <subscriber> element (the body of the subscriber calls) into
 * out: name, access point, line, VLANs and an optional <gateway>.  The
 * same typed helpers as the VNet document; 0, or -1 with errors.
 */
int
subs_parse(const char *body, size_t len, struct vnet_sub *out)
{
	xmlDocPtr doc;
	xmlNodePtr root, c;
	uint64_t u;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if ((doc = xml_parse(body, len, "request", NULL)) == NULL)
		return -1;
	if ((root = xml_root(doc, "subscriber")) == NULL) {
		xmlFreeDoc(doc);
		return -1;
	}
	if (xml_attr_name(root, "name", 1, out->name, sizeof(out->name)) ==
	    -1 || xml_attr_name(root, "access-point", 0, out->ap,
	    sizeof(out->ap)) == -1 || xml_attr_name(root, "line", 0,
	    out->line_id, sizeof(out->line_id)) == -1)
		rc = -1;
	switch (xml_attr_uint(root, "c-vlan", 0, 1, VLAN_MAX, &u)) {
	case 0: out->c_vlan = (unsigned)u; break;
	case -1: rc = -1; break;
	}
	switch (xml_attr_uint(root, "s-vlan", 0, 1, VLAN_MAX, &u)) {
	case 0: out->s_vlan = (unsigned)u; break;
	case -1: rc = -1; break;
	}
	if ((c = xml_child(root, "gateway")) != NULL &&
	    (gw_parse(c, &out->gw) == -1 ||
	    gw_validate(&out->gw, "/subscriber/gateway", 0) == -1))
		rc = -1;
	xmlFreeDoc(doc);
	if (rc == 0 && subs_names(out->name, NULL, NULL, NULL) == -1)
		rc = -1;
	if (rc == -1)
		gw_clear(&out->gw);
	return rc;
}

/*
 * v's document with subscriber s added (add), replaced (set: the access
 * point may stay unsaid) or removed (s->name only).  Static routes are
 * computed again.  NULL with an error recorded.
 */
struct vnet *
subs_doc(const struct vnet *v, const struct vnet_sub *s, enum sub_op op)
{
	struct vnet *c;
	ssize_t at = -1;

	for (size_t i = 0; i < v->nsubs; i++)
		if (strcmp(v->subs[i].name, s->name) == 0)
			at = (ssize_t)i;
	if (op == SUB_ADD && at >= 0) {
		err_set(ERR_CONFLICT, "VNet '%s' has a subscriber '%s' already",
		    v->name, s->name);
		err_hint("change it with vno subscriber set");
		return NULL;
	}
	if (op != SUB_ADD && at < 0) {
		err_set(ERR_NOT_FOUND, "VNet '%s' has no subscriber '%s'",
		    v->name, s->name);
		return NULL;
	}
	if (op == SUB_ADD && s->ap[0] == '\0') {
		err_set(ERR_INVALID, "subscriber '%s' needs an access point",
		    s->name);
		return NULL;
	}
	if ((c = vnet_dup(v)) == NULL)
		return NULL;
	if (op == SUB_ADD) {
		struct vnet_sub *n = reallocarray(c->subs, c->nsubs + 1,
		    sizeof(*n));

		if (n == NULL)
			goto nomem;
		c->subs = n;
		memset(&n[c->nsubs], 0, sizeof(*n));
		at = (ssize_t)c->nsubs++;
	} else
		gw_clear(&c->subs[at].gw);
	if (op == SUB_REMOVE) {
		memmove(&c->subs[at], &c->subs[at + 1], (c->nsubs - at - 1) *
		    sizeof(*c->subs));
		c->nsubs--;
	} else {
		char ap[NAME_LEN];

		str_lcpy(ap, c->subs[at].ap, sizeof(ap));
		c->subs[at] = *s;
		memset(&c->subs[at].gw, 0, sizeof(c->subs[at].gw));
		if (s->ap[0] == '\0')
			str_lcpy(c->subs[at].ap, ap, sizeof(ap));
		else if (op == SUB_SET && ap[0] != '\0' && strcmp(ap, s->ap) != 0) {
			vnet_free(c);
			err_set(ERR_CONFLICT, "subscriber '%s' is at access point "
			    "'%s'; set cannot move it", s->name, ap);
			err_hint("remove it and add it again at the other access "
			    "point");
			return NULL;
		}
		if (gw_copy(&c->subs[at].gw, &s->gw) == -1)
			goto nomem;
		if (ap_find(c, c->subs[at].ap) < 0) {
			vnet_free(c);
			err_set(ERR_NOT_FOUND, "VNet '%s' has no access point "
			    "'%s'", v->name, s->ap);
			return NULL;
		}
	}
	if (c->routing == ROUTING_STATIC)
		for (size_t i = 0; i < c->nnodes; i++) {
			free(c->nodes[i].routes);
			c->nodes[i].routes = NULL;
			c->nodes[i].nroutes = 0;
		}
	return c;
nomem:
	vnet_free(c);
	err_nomem();
	return NULL;
}

/*
 * The text answer of GET /v1/vnets/NAME/subscribers: one line per
 * subscriber, NAME ACCESS-POINT LINE C-VLAN S-VLAN GATEWAY PIP HOST KEY
 * STATE ("-" for what is not known; state "attached" when the home's
 * tunnel end is known, else "waiting").  Lock held.  NULL on ENOMEM.
 */
char *
subs_list(const struct vn *v)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < v->doc->nsubs; i++) {
		const struct vnet_sub *s = &v->doc->subs[i];
		char gwn[NAME_LEN], home[NAME_LEN], key[16] = "-";
		const char *pip = "-", *host = "-", *state = "waiting";

		if (subs_names(s->name, gwn, NULL, home) == -1)
			continue;
		for (size_t p = 0; p < v->nparts; p++) {
			const struct manifest *m = v->parts[p].mf;

			for (size_t k = 0; m != NULL && k < m->nnodes; k++)
				if (strcmp(m->nodes[k].name, gwn) == 0) {
					pip = v->parts[p].pip;
					if (m->nodes[k].host[0] != '\0')
						host = m->nodes[k].host;
				}
			for (size_t k = 0; m != NULL && k < m->nlinks; k++) {
				const struct mf_link *l = &m->links[k];

				if (strcmp(l->name, home) != 0)
					continue;
				snprintf(key, sizeof(key), "%u", l->key);
				for (size_t e = 0; e < l->nends; e++)
					if (strcmp(l->ends[e].node, gwn) != 0 &&
					    l->ends[e].underlay != 0)
						state = "attached";
			}
		}
		buf_printf(&b, "%s %s %s %u %u %s %s %s %s %s\n", s->name,
		    s->ap, s->line_id[0] != '\0' ? s->line_id : "-", s->c_vlan,
		    s->s_vlan, gwn, pip, host, key, state);
	}
	return buf_steal(&b, NULL);
}

/*
 * JOB_TOKEN: ask the PIP that holds subscriber j->node's gateway for a
 * one-time enrolment token valid j->seconds; the answer (text, "token
 * HEX\nexpires EPOCH\n") becomes j->answer.  vnpd keeps no copy: only
 * the PIP holds the token's hash.  0, or -1 with an error recorded.
 */
int
subs_token(struct vnpd *d, struct wctx *w, struct job *j)
{
	char gwn[NAME_LEN], slice[NAME_LEN] = "";
	const struct vnpd_pip *pip = NULL;
	struct pcall pc;
	int rc;

	if (subs_names(j->node, gwn, NULL, NULL) == -1)
		return -1;
	pthread_mutex_lock(&d->lock);
	for (size_t p = 0; p < j->vn->nparts; p++) {
		const struct slice *s = j->vn->parts[p].sl;

		if (s != NULL && topo_node_find(s->nodes, s->nnodes, gwn) >= 0) {
			pip = vnpd_pip_find(d->conf, j->vn->parts[p].pip);
			str_lcpy(slice, j->vn->parts[p].slice, sizeof(slice));
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (pip == NULL)
		return err_set(ERR_NOT_FOUND, "subscriber '%s' has no gateway "
		    "at any PIP", j->node);
	pcall_set(&pc, pip, "POST", HTTP_CTYPE_TEXT, NULL,
	    "/v1/slices/%s/subscribers/%s/token?seconds=%lld", slice, j->node,
	    (long long)j->seconds);
	pcall_run(w, d->conf, &pc, 1);
	if (!pcall_ok(&pc))
		rc = pcall_error(&pc);
	else if ((j->answer = strdup(pc.resp.body != NULL ? pc.resp.body :
	    "")) == NULL)
		rc = err_nomem();
	else {
		rc = 0;
		log_info("vnet %s/%s: enrolment token for subscriber %s "
		    "issued by PIP %s", j->vn->owner, j->vn->name, j->node,
		    pip->name);
	}
	pcall_clear(&pc);
	return rc;
}

/*
 * Static routes with homes (routing="static", after routes_apply()): a
 * gateway needs only its default route towards the access point (it
 * must not reach other homes anyway), and every other node reaches a
 * whole access subnet through one route, not one per home, so that
 * neither grows with the number of homes.  0, or -1 on ENOMEM.
 */
int
subs_routes(struct vnet *v)
{
	for (size_t i = 0; i < v->nnodes; i++) {
		struct topo_node *nd = &v->nodes[i];
		size_t k = 0;

		if (nd->kind == NODE_GATEWAY && strncmp(nd->name, GW_PREFIX,
		    strlen(GW_PREFIX)) == 0) {
			for (size_t r = 0; r < nd->nroutes; r++)
				if (nd->routes[r].to.len == 0)
					nd->routes[k++] = nd->routes[r];
			nd->nroutes = k;
			continue;
		}
		for (size_t a = 0; a < v->naps; a++) {
			uint32_t net, mask, via = 0;
			unsigned len;
			struct topo_route *nr;

			ap_subnet(v, a, &net, &len);
			mask = len == 0 ? 0 : ~0u << (32 - len);
			k = 0;
			for (size_t r = 0; r < nd->nroutes; r++) {
				const struct topo_route *rt = &nd->routes[r];

				if (rt->to.len >= len && (rt->to.addr & mask) ==
				    net) {
					if (via == 0)
						via = rt->via;
					continue;
				}
				nd->routes[k++] = *rt;
			}
			nd->nroutes = k;
			if (via == 0)
				continue;
			if ((nr = reallocarray(nd->routes, nd->nroutes + 1,
			    sizeof(*nr))) == NULL)
				return err_nomem();
			nd->routes = nr;
			nr[nd->nroutes].to.addr = net;
			nr[nd->nroutes].to.len = (uint8_t)len;
			nr[nd->nroutes++].via = via;
		}
	}
	return 0;
}
