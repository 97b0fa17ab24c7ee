#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "error.h"
#include "vnet.h"
#include "xml.h"

ENUM_IMPL(routing, ROUTING_LAST, "none", "static")
ENUM_IMPL(layer, LAYER_LAST, "l2", "l3")

static int
ap_parse(const xmlNode *n, struct vnet_ap *ap)
{
	int layer = LAYER_L2, encap = ENCAP_GRETAP, rc = 0;

	ap->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "name", 1, ap->name, sizeof(ap->name)) == -1 ||
	    xml_attr_name(n, "node", 1, ap->node, sizeof(ap->node)) == -1)
		rc = -1;
	if (xml_attr_enum(n, "layer", 0, layer_from_string, &layer) == -1 ||
	    xml_attr_enum(n, "encap", 0, encap_from_string, &encap) == -1 ||
	    xml_attr_bw(n, "bandwidth", 0, &ap->bandwidth) == -1)
		rc = -1;
	switch (xml_attr_prefix(n, "address", 0, &ap->address)) {
	case 0:
		ap->has_address = 1;
		break;
	case -1:
		rc = -1;
		break;
	}
	ap->layer = layer;
	ap->encap = encap;
	return rc;
}

static int
sub_parse(const xmlNode *n, struct vnet_sub *s)
{
	xmlNodePtr c;
	uint64_t u;
	int rc = 0;

	s->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "name", 1, s->name, sizeof(s->name)) == -1 ||
	    xml_attr_name(n, "access-point", 1, s->ap, sizeof(s->ap)) == -1 ||
	    xml_attr_name(n, "line", 0, s->line_id, sizeof(s->line_id)) == -1)
		rc = -1;
	switch (xml_attr_uint(n, "c-vlan", 0, 1, VLAN_MAX, &u)) {
	case 0: s->c_vlan = (unsigned)u; break;
	case -1: rc = -1; break;
	}
	switch (xml_attr_uint(n, "s-vlan", 0, 1, VLAN_MAX, &u)) {
	case 0: s->s_vlan = (unsigned)u; break;
	case -1: rc = -1; break;
	}
	if ((c = xml_child(n, "gateway")) != NULL && gw_parse(c, &s->gw) == -1)
		rc = -1;
	return rc;
}

static int
node_cb(const xmlNode *n, void *entry, void *arg)
{
	return topo_node_parse(n, entry);
}

static int
link_cb(const xmlNode *n, void *entry, void *arg)
{
	return topo_link_parse(n, entry, 0);
}

static int
ap_cb(const xmlNode *n, void *entry, void *arg)
{
	return ap_parse(n, entry);
}

static int
sub_cb(const xmlNode *n, void *entry, void *arg)
{
	return sub_parse(n, entry);
}

struct vnet *
vnet_build(const xmlNode *root)
{
	struct vnet *v;
	xmlNodePtr d;
	int routing = ROUTING_NONE, rc = 0;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		err_nomem();
		return NULL;
	}
	if (xml_attr_name(root, "name", 1, v->name, sizeof(v->name)) == -1 ||
	    xml_attr_enum(root, "routing", 0, routing_from_string,
	    &routing) == -1)
		rc = -1;
	v->routing = routing;
	if ((d = xml_child(root, "description")) != NULL &&
	    xml_text(d, v->description, sizeof(v->description)) == -1)
		rc = -1;
	if (xml_children(root, "node", sizeof(*v->nodes), &v->nodes,
	    &v->nnodes, node_cb, NULL) == -1)
		rc = -1;
	if (v->nnodes == 0)
		rc = xml_error(ERR_TOPOLOGY, root, "VNet '%s' has no nodes; "
		    "add at least one <node>", v->name);
	if (xml_children(root, "link", sizeof(*v->links), &v->links,
	    &v->nlinks, link_cb, NULL) == -1)
		rc = -1;
	if (xml_children(root, "access-point", sizeof(*v->aps), &v->aps,
	    &v->naps, ap_cb, NULL) == -1)
		rc = -1;
	if (xml_children(root, "subscriber", sizeof(*v->subs), &v->subs,
	    &v->nsubs, sub_cb, NULL) == -1)
		rc = -1;
	if (rc == -1) {
		vnet_free(v);
		return NULL;
	}
	return v;
}

struct vnet *
vnet_parse(const char *data, size_t len, const char *name)
{
	return doc_parse(data, len, name, DOC_VNET);
}

/* Access points and subscribers refer to nodes and access points. */
static int
vnet_check_access(const struct vnet *v)
{
	char where[ERR_WHERE_MAX];
	int rc = 0;

	for (size_t i = 0; i < v->naps; i++) {
		const struct vnet_ap *ap = &v->aps[i];
		snprintf(where, sizeof(where), "/vnet/access-point[@name='%s']",
		    ap->name);
		if (topo_node_find(v->nodes, v->nnodes, ap->node) < 0)
			rc = err_at(ERR_NOT_FOUND, where, ap->line, "access "
			    "point '%s' is served by node '%s', which does not "
			    "exist", ap->name, ap->node);
		for (size_t j = 0; j < i; j++)
			if (strcmp(v->aps[j].name, ap->name) == 0)
				rc = err_at(ERR_DUPLICATE, where, ap->line,
				    "access point name '%s' is used twice",
				    ap->name);
		if (ap->encap == ENCAP_IPIP && ap->layer == LAYER_L2)
			rc = err_at(ERR_INVALID, where, ap->line, "access point "
			    "'%s' bridges homes (layer l2) but ipip carries "
			    "no Ethernet", ap->name);
	}
	for (size_t i = 0; i < v->nsubs; i++) {
		const struct vnet_sub *s = &v->subs[i];
		int found = 0;

		snprintf(where, sizeof(where), "/vnet/subscriber[@name='%s']",
		    s->name);
		for (size_t j = 0; j < v->naps; j++)
			found |= strcmp(v->aps[j].name, s->ap) == 0;
		if (!found)
			rc = err_at(ERR_NOT_FOUND, where, s->line, "subscriber "
			    "'%s' uses access point '%s', which does not exist",
			    s->name, s->ap);
		for (size_t j = 0; j < i; j++)
			if (strcmp(v->subs[j].name, s->name) == 0)
				rc = err_at(ERR_DUPLICATE, where, s->line,
				    "subscriber name '%s' is used twice",
				    s->name);
		if (gw_validate(&s->gw, where, s->line) == -1)
			rc = -1;
	}
	return rc;
}

int
vnet_validate(const struct vnet *v, const struct topo_refs *refs)
{
	int rc = 0;

	if (v->nnodes == 0)
		rc = err_at(ERR_TOPOLOGY, "/vnet", 0, "VNet '%s' has no nodes",
		    v->name);
	if (topo_check("vnet", v->nodes, v->nnodes, v->links, v->nlinks,
	    NULL, 0, refs) == -1)
		rc = -1;
	for (size_t i = 0; i < v->nnodes; i++) {
		char where[ERR_WHERE_MAX];

		if (v->nodes[i].host[0] == '\0')
			continue;
		snprintf(where, sizeof(where), "/vnet/node[@name='%s']",
		    v->nodes[i].name);
		rc = err_at(ERR_INVALID, where, v->nodes[i].line, "node '%s' "
		    "names a host; hosts are chosen by the VNP or the PIP, "
		    "not in a VNet request", v->nodes[i].name);
	}
	if (vnet_check_access(v) == -1)
		rc = -1;
	return rc;
}

char *
vnet_format(const struct vnet *v)
{
	struct buf b;
	char tmp[64];

	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\"?>\n<vnet xmlns=\"" VNSM_NS "\"");
	buf_attr(&b, "name", v->name);
	if (v->routing != ROUTING_NONE)
		buf_attr(&b, "routing", routing_to_string(v->routing));
	buf_puts(&b, ">\n");
	if (v->description[0] != '\0') {
		buf_puts(&b, "  <description>");
		buf_xml_escape(&b, v->description);
		buf_puts(&b, "</description>\n");
	}
	for (size_t i = 0; i < v->nnodes; i++)
		topo_node_format(&b, &v->nodes[i]);
	for (size_t i = 0; i < v->nlinks; i++)
		topo_link_format(&b, &v->links[i], 0);
	for (size_t i = 0; i < v->naps; i++) {
		const struct vnet_ap *ap = &v->aps[i];
		buf_puts(&b, "  <access-point");
		buf_attr(&b, "name", ap->name);
		buf_attr(&b, "node", ap->node);
		buf_attr(&b, "layer", layer_to_string(ap->layer));
		buf_attr(&b, "encap", encap_to_string(ap->encap));
		if (ap->bandwidth > 0)
			buf_attr(&b, "bandwidth",
			    units_fmt_bw(ap->bandwidth, tmp, sizeof(tmp)));
		if (ap->has_address)
			buf_attr(&b, "address",
			    units_fmt_prefix(&ap->address, tmp, sizeof(tmp)));
		buf_puts(&b, "/>\n");
	}
	for (size_t i = 0; i < v->nsubs; i++) {
		const struct vnet_sub *s = &v->subs[i];
		buf_puts(&b, "  <subscriber");
		buf_attr(&b, "name", s->name);
		buf_attr(&b, "access-point", s->ap);
		buf_attr(&b, "line", s->line_id);
		if (s->c_vlan)
			buf_printf(&b, " c-vlan=\"%u\"", s->c_vlan);
		if (s->s_vlan)
			buf_printf(&b, " s-vlan=\"%u\"", s->s_vlan);
		if (!s->gw.present) {
			buf_puts(&b, "/>\n");
			continue;
		}
		buf_puts(&b, ">\n");
		gw_format(&b, &s->gw, "    ");
		buf_puts(&b, "  </subscriber>\n");
	}
	buf_puts(&b, "</vnet>\n");
	return buf_steal(&b, NULL);
}

struct vnet *
vnet_dup(const struct vnet *v)
{
	struct vnet *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		err_nomem();
		return NULL;
	}
	*c = *v;
	c->nnodes = c->nlinks = c->naps = c->nsubs = 0;
	c->nodes = calloc(v->nnodes + 1, sizeof(*c->nodes));
	c->links = calloc(v->nlinks + 1, sizeof(*c->links));
	c->aps = calloc(v->naps + 1, sizeof(*c->aps));
	c->subs = calloc(v->nsubs + 1, sizeof(*c->subs));
	if (c->nodes == NULL || c->links == NULL || c->aps == NULL ||
	    c->subs == NULL)
		goto fail;
	for (size_t i = 0; i < v->nnodes; i++, c->nnodes++)
		if (topo_node_copy(&c->nodes[i], &v->nodes[i]) == -1)
			goto fail;
	for (size_t i = 0; i < v->nlinks; i++, c->nlinks++)
		if (topo_link_copy(&c->links[i], &v->links[i]) == -1)
			goto fail;
	if (v->naps > 0)	/* v->aps is NULL when there are none */
		memcpy(c->aps, v->aps, v->naps * sizeof(*c->aps));
	c->naps = v->naps;
	for (size_t i = 0; i < v->nsubs; i++, c->nsubs++) {
		c->subs[i] = v->subs[i];
		if (gw_copy(&c->subs[i].gw, &v->subs[i].gw) == -1)
			goto fail;
	}
	return c;
fail:
	vnet_free(c);
	err_nomem();
	return NULL;
}

void
vnet_free(struct vnet *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nnodes; i++)
		topo_node_clear(&v->nodes[i]);
	for (size_t i = 0; i < v->nlinks; i++)
		topo_link_clear(&v->links[i]);
	free(v->nodes);
	free(v->links);
	free(v->aps);
	for (size_t i = 0; i < v->nsubs; i++)
		gw_clear(&v->subs[i].gw);
	free(v->subs);
	free(v);
}
