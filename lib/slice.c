#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "error.h"
#include "slice.h"
#include "xml.h"

ENUM_IMPL(slice_mapping, SLICE_MAP_LAST, "pip", "vnp")

static int
node_cb(const xmlNode *n, void *entry, void *arg)
{
	return topo_node_parse(n, entry);
}

static int
link_cb(const xmlNode *n, void *entry, void *arg)
{
	return topo_link_parse(n, entry, arg != NULL);
}

static int
side_parse(const xmlNode *n, struct transit_side *sd)
{
	uint64_t key;

	if (xml_attr_uint(n, "key", 1, 1, UINT32_MAX, &key) == -1 ||
	    xml_attr_ipv4(n, "underlay", 1, &sd->underlay) == -1 ||
	    xml_attr_name(n, "pip", 0, sd->pip, sizeof(sd->pip)) == -1 ||
	    xml_attr_name(n, "host", 0, sd->host, sizeof(sd->host)) == -1)
		return -1;
	sd->key = (uint32_t)key;
	return 0;
}

static int
transit_cb(const xmlNode *n, void *entry, void *arg)
{
	struct transit *t = entry;
	xmlNodePtr c;
	int encap = ENCAP_GRE, rc = 0;
	size_t i = 0;

	t->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "name", 1, t->name, sizeof(t->name)) == -1 ||
	    xml_attr_enum(n, "encap", 0, encap_from_string, &encap) == -1)
		rc = -1;
	t->encap = encap;
	XML_FOREACH(c, n, "side") {
		if (i == 2)
			return xml_error(ERR_SCHEMA, n, "transit '%s' has more "
			    "than two <side>", t->name);
		if (side_parse(c, &t->side[i++]) == -1)
			rc = -1;
	}
	if (i < 2)
		rc = xml_error(ERR_SCHEMA, n, "transit '%s' needs two <side> "
		    "elements", t->name);
	return rc;
}

struct slice *
slice_build(const xmlNode *root)
{
	struct slice *s;
	int mapping = SLICE_MAP_PIP, rc = 0;
	static int stub = 1;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_nomem();
		return NULL;
	}
	if (xml_attr_name(root, "name", 1, s->name, sizeof(s->name)) == -1 ||
	    xml_attr_name(root, "vnet", 1, s->vnet, sizeof(s->vnet)) == -1 ||
	    xml_attr_name(root, "pip", 1, s->pip, sizeof(s->pip)) == -1 ||
	    xml_attr_enum(root, "mapping", 1, slice_mapping_from_string,
	    &mapping) == -1 ||
	    xml_attr_time(root, "expires", 0, &s->expires) == -1)
		rc = -1;
	s->mapping = mapping;
	if (xml_children(root, "node", sizeof(*s->nodes), &s->nodes,
	    &s->nnodes, node_cb, NULL) == -1)
		rc = -1;
	if (xml_children(root, "link", sizeof(*s->links), &s->links,
	    &s->nlinks, link_cb, NULL) == -1)
		rc = -1;
	if (xml_children(root, "stub", sizeof(*s->stubs), &s->stubs,
	    &s->nstubs, link_cb, &stub) == -1)
		rc = -1;
	if (xml_children(root, "transit", sizeof(*s->transits), &s->transits,
	    &s->ntransits, transit_cb, NULL) == -1)
		rc = -1;
	if (rc == -1) {
		slice_free(s);
		return NULL;
	}
	return s;
}

struct slice *
slice_parse(const char *data, size_t len, const char *name)
{
	return doc_parse(data, len, name, DOC_SLICE);
}

int
slice_validate(const struct slice *s, const struct topo_refs *refs)
{
	char where[ERR_WHERE_MAX];
	int rc = 0;

	if (s->nnodes == 0 && s->ntransits == 0)
		rc = err_at(ERR_TOPOLOGY, "/slice", 0, "slice '%s' has no "
		    "nodes", s->name);
	if (topo_check("slice", s->nodes, s->nnodes, s->links, s->nlinks,
	    s->stubs, s->nstubs, refs) == -1)
		rc = -1;
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct topo_node *nd = &s->nodes[i];

		snprintf(where, sizeof(where), "/slice/node[@name='%s']",
		    nd->name);
		if (s->mapping == SLICE_MAP_VNP && nd->host[0] == '\0') {
			rc = err_at(ERR_INVALID, where, nd->line, "node '%s' "
			    "has no host, but the slice is mapped by the VNP",
			    nd->name);
			err_hint("pin every node with host=\"...\", or send "
			    "the slice with mapping=\"pip\"");
		}
		if (s->mapping == SLICE_MAP_PIP && nd->host[0] != '\0') {
			rc = err_at(ERR_INVALID, where, nd->line, "node '%s' "
			    "is pinned to host '%s', but the slice is mapped "
			    "by the PIP", nd->name, nd->host);
			err_hint("drop host=, or send the slice with "
			    "mapping=\"vnp\"");
		}
		if (nd->pip[0] != '\0' && strcmp(nd->pip, s->pip) != 0)
			rc = err_at(ERR_INVALID, where, nd->line, "node '%s' "
			    "asks for PIP '%s' but this slice is for PIP '%s'",
			    nd->name, nd->pip, s->pip);
	}
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].npath > 0 && s->mapping != SLICE_MAP_VNP)
			rc = err_at(ERR_INVALID, NULL, s->links[i].line, "link "
			    "'%s' has a <path>, but the slice is mapped by the "
			    "PIP", s->links[i].name);
	for (size_t i = 0; i < s->ntransits; i++) {
		const struct transit *t = &s->transits[i];

		snprintf(where, sizeof(where), "/slice/transit[@name='%s']",
		    t->name);
		for (size_t j = 0; j < s->nlinks + s->nstubs; j++) {
			const char *other = j < s->nlinks ? s->links[j].name :
			    s->stubs[j - s->nlinks].name;
			if (strcmp(other, t->name) == 0)
				rc = err_at(ERR_DUPLICATE, where, t->line, "link "
				    "'%s' is both a transit and a link or stub "
				    "of this slice", t->name);
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->transits[j].name, t->name) == 0)
				rc = err_at(ERR_DUPLICATE, where, t->line,
				    "transit '%s' is given twice", t->name);
		for (int k = 0; k < 2; k++)
			if (t->encap == ENCAP_VXLAN &&
			    t->side[k].key > VXLAN_VNI_MAX)
				rc = err_at(ERR_INVALID, where, t->line, "VXLAN "
				    "VNI %u of transit '%s' is over %u",
				    t->side[k].key, t->name, VXLAN_VNI_MAX);
		if (t->side[0].underlay == t->side[1].underlay &&
		    t->side[0].key == t->side[1].key)
			rc = err_at(ERR_TOPOLOGY, where, t->line, "transit '%s' "
			    "joins a tunnel to itself", t->name);
	}
	for (size_t i = 0; i < s->nstubs; i++) {
		const struct topo_link *st = &s->stubs[i];

		snprintf(where, sizeof(where), "/slice/stub[@name='%s']",
		    st->name);
		if (strcmp(st->peer_pip, s->pip) == 0 &&
		    st->peer_host[0] == '\0') {
			rc = err_at(ERR_TOPOLOGY, where, st->line, "stub '%s' "
			    "leads to PIP '%s', which is this slice's own PIP",
			    st->name, st->peer_pip);
			err_hint("a stub inside one PIP joins two hosts: name "
			    "the peer's host with host=\"...\"");
		}
		if (refs != NULL && refs->has_pip &&
		    !refs->has_pip(refs->arg, st->peer_pip))
			rc = err_at(ERR_NOT_FOUND, where, st->line, "stub '%s' "
			    "leads to PIP '%s', which is not known", st->name,
			    st->peer_pip);
	}
	return rc;
}

char *
slice_format(const struct slice *s)
{
	struct buf b;
	char tmp[64];

	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\"?>\n<slice xmlns=\"" VNSM_NS "\"");
	buf_attr(&b, "name", s->name);
	buf_attr(&b, "vnet", s->vnet);
	buf_attr(&b, "pip", s->pip);
	buf_attr(&b, "mapping", slice_mapping_to_string(s->mapping));
	if (s->expires != 0)
		buf_attr(&b, "expires",
		    units_fmt_time(s->expires, tmp, sizeof(tmp)));
	buf_puts(&b, ">\n");
	for (size_t i = 0; i < s->nnodes; i++)
		topo_node_format(&b, &s->nodes[i]);
	for (size_t i = 0; i < s->nlinks; i++)
		topo_link_format(&b, &s->links[i], 0);
	for (size_t i = 0; i < s->nstubs; i++)
		topo_link_format(&b, &s->stubs[i], 1);
	for (size_t i = 0; i < s->ntransits; i++) {
		const struct transit *t = &s->transits[i];

		buf_puts(&b, "  <transit");
		buf_attr(&b, "name", t->name);
		buf_attr(&b, "encap", encap_to_string(t->encap));
		buf_puts(&b, ">\n");
		for (int k = 0; k < 2; k++) {
			buf_printf(&b, "    <side key=\"%u\"", t->side[k].key);
			buf_attr(&b, "underlay", units_fmt_ipv4(
			    t->side[k].underlay, tmp, sizeof(tmp)));
			buf_attr(&b, "pip", t->side[k].pip);
			buf_attr(&b, "host", t->side[k].host);
			buf_puts(&b, "/>\n");
		}
		buf_puts(&b, "  </transit>\n");
	}
	buf_puts(&b, "</slice>\n");
	return buf_steal(&b, NULL);
}

void
slice_free(struct slice *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nnodes; i++)
		topo_node_clear(&s->nodes[i]);
	for (size_t i = 0; i < s->nlinks; i++)
		topo_link_clear(&s->links[i]);
	free(s->nodes);
	free(s->links);
	free(s->stubs);
	free(s->transits);
	free(s);
}
