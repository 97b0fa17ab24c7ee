#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "error.h"
#include "manifest.h"
#include "xml.h"

ENUM_IMPL(vnet_state, VS_LAST, "allocated", "provisioning", "ready",
    "degraded", "failed", "deleting", "deleted")
ENUM_IMPL(node_state, NS_LAST, "pending", "allocated", "creating", "running",
    "paused", "stopped", "failed", "degraded", "deleted")
ENUM_IMPL(link_state, LS_LAST, "pending", "up", "down", "failed")
ENUM_IMPL(console_type, CON_LAST, "none", "ssh", "exec", "pty")
ENUM_IMPL(step, STEP_LAST, "exchange", "mapping", "allocation",
    "virtualization", "topology", "console", "total")
ENUM_IMPL(discovery, DISC_LAST, "pip", "vnp")

static int
iface_cb(const xmlNode *n, void *entry, void *arg)
{
	struct mf_iface *f = entry;
	char mac[32];
	int rc = 0;

	if (xml_attr_name(n, "name", 1, f->name, sizeof(f->name)) == -1 ||
	    xml_attr_name(n, "link", 0, f->link, sizeof(f->link)) == -1)
		rc = -1;
	switch (xml_attr_prefix(n, "address", 0, &f->addr)) {
	case 0: f->has_addr = 1; break;
	case -1: rc = -1; break;
	}
	switch (xml_attr_str(n, "mac", 0, mac, sizeof(mac))) {
	case 0:
		if (sscanf(mac, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx",
		    &f->mac[0], &f->mac[1], &f->mac[2], &f->mac[3], &f->mac[4],
		    &f->mac[5]) != 6)
			rc = xml_error(ERR_INVALID, n, "mac \"%s\" is not a "
			    "MAC address", mac);
		f->has_mac = 1;
		break;
	case -1:
		rc = -1;
		break;
	}
	return rc;
}

static int
console_parse(const xmlNode *n, struct mf_console *c)
{
	int type = CON_EXEC, rc = 0;
	uint64_t u;

	if (xml_attr_enum(n, "type", 1, console_type_from_string,
	    &type) == -1 || type == CON_NONE)
		rc = xml_error(ERR_INVALID, n, "console needs a type");
	c->type = type;
	if (xml_attr_ipv4(n, "address", 0, &c->address) == -1 ||
	    xml_attr_name(n, "user", 0, c->user, sizeof(c->user)) == -1)
		rc = -1;
	switch (xml_attr_uint(n, "port", 0, 1, 65535, &u)) {
	case 0: c->port = (unsigned)u; break;
	case -1: rc = -1; break;
	}
	return rc;
}

static int
node_cb(const xmlNode *n, void *entry, void *arg)
{
	struct mf_node *nd = entry;
	xmlNodePtr c;
	char yn[8];
	int state = NS_PENDING, kind = -1, rc = 0;

	nd->line = xmlGetLineNo(n);
	nd->kind = -1;
	nd->pooled = -1;
	if (xml_attr_name(n, "name", 1, nd->name, sizeof(nd->name)) == -1 ||
	    xml_attr_enum(n, "state", 1, node_state_from_string,
	    &state) == -1 ||
	    xml_attr_name(n, "id", 0, nd->id, sizeof(nd->id)) == -1 ||
	    xml_attr_enum(n, "kind", 0, node_kind_from_string, &kind) == -1 ||
	    xml_attr_name(n, "pip", 0, nd->pip, sizeof(nd->pip)) == -1 ||
	    xml_attr_name(n, "host", 0, nd->host, sizeof(nd->host)) == -1 ||
	    xml_attr_name(n, "driver", 0, nd->driver,
	    sizeof(nd->driver)) == -1)
		rc = -1;
	nd->state = state;
	nd->kind = kind;
	if (xml_attr_str(n, "pooled", 0, yn, sizeof(yn)) == 0)
		nd->pooled = strcmp(yn, "yes") == 0;
	if (xml_children(n, "interface", sizeof(*nd->ifaces), &nd->ifaces,
	    &nd->nifaces, iface_cb, NULL) == -1)
		rc = -1;
	if ((c = xml_child(n, "console")) != NULL &&
	    console_parse(c, &nd->console) == -1)
		rc = -1;
	return rc;
}

static int
end_cb(const xmlNode *n, void *entry, void *arg)
{
	struct mf_end *e = entry;

	if (xml_attr_name(n, "node", 0, e->node, sizeof(e->node)) == -1 ||
	    xml_attr_name(n, "pip", 0, e->pip, sizeof(e->pip)) == -1 ||
	    xml_attr_name(n, "host", 0, e->host, sizeof(e->host)) == -1 ||
	    xml_attr_ipv4(n, "underlay", 0, &e->underlay) == -1)
		return -1;
	return 0;
}

static int
link_cb(const xmlNode *n, void *entry, void *arg)
{
	struct mf_link *l = entry;
	int state = LS_PENDING, encap = -1, rc = 0;
	uint64_t u;

	l->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "name", 1, l->name, sizeof(l->name)) == -1 ||
	    xml_attr_enum(n, "state", 1, link_state_from_string,
	    &state) == -1 ||
	    xml_attr_enum(n, "encap", 0, encap_from_string, &encap) == -1 ||
	    xml_attr_bw(n, "bandwidth", 0, &l->bandwidth) == -1)
		rc = -1;
	l->state = state;
	l->encap = encap;
	switch (xml_attr_uint(n, "key", 0, 1, UINT32_MAX, &u)) {
	case 0: l->key = (uint32_t)u; break;
	case -1: rc = -1; break;
	}
	if (xml_children(n, "end", sizeof(*l->ends), &l->ends, &l->nends,
	    end_cb, NULL) == -1)
		rc = -1;
	if (l->nends > 2)
		rc = xml_error(ERR_SCHEMA, n, "link '%s' has more than two "
		    "ends", l->name);
	return rc;
}

static int
step_cb(const xmlNode *n, void *entry, void *arg)
{
	struct mf_step *s = entry;
	int step = STEP_TOTAL;

	if (xml_attr_enum(n, "name", 1, step_from_string, &step) == -1 ||
	    xml_attr_ms(n, "ms", 1, &s->ms) == -1 ||
	    xml_attr_name(n, "pip", 0, s->pip, sizeof(s->pip)) == -1 ||
	    xml_attr_name(n, "host", 0, s->host, sizeof(s->host)) == -1)
		return -1;
	s->step = step;
	return 0;
}

struct manifest *
manifest_build(const xmlNode *root)
{
	struct manifest *m;
	int state = VS_ALLOCATED, disc = -1, rc = 0;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		err_nomem();
		return NULL;
	}
	if (xml_attr_name(root, "vnet", 1, m->vnet, sizeof(m->vnet)) == -1 ||
	    xml_attr_name(root, "slice", 0, m->slice, sizeof(m->slice)) == -1 ||
	    xml_attr_enum(root, "state", 1, vnet_state_from_string,
	    &state) == -1 ||
	    xml_attr_enum(root, "discovery", 0, discovery_from_string,
	    &disc) == -1 ||
	    xml_attr_time(root, "expires", 0, &m->expires) == -1)
		rc = -1;
	m->state = state;
	m->discovery = disc;
	if (xml_children(root, "node", sizeof(*m->nodes), &m->nodes,
	    &m->nnodes, node_cb, NULL) == -1)
		rc = -1;
	if (xml_children(root, "link", sizeof(*m->links), &m->links,
	    &m->nlinks, link_cb, NULL) == -1)
		rc = -1;
	if (xml_children(root, "step", sizeof(*m->steps), &m->steps,
	    &m->nsteps, step_cb, NULL) == -1)
		rc = -1;
	if (rc == -1) {
		manifest_free(m);
		return NULL;
	}
	return m;
}

struct manifest *
manifest_parse(const char *data, size_t len, const char *name)
{
	return doc_parse(data, len, name, DOC_MANIFEST);
}

static ssize_t
mf_node_find(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nnodes; i++)
		if (strcmp(m->nodes[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

int
manifest_validate(const struct manifest *m)
{
	int rc = 0;

	for (size_t i = 0; i < m->nnodes; i++) {
		const struct mf_node *nd = &m->nodes[i];

		if (mf_node_find(m, nd->name) != (ssize_t)i)
			rc = err_at(ERR_DUPLICATE, NULL, nd->line, "node '%s' "
			    "appears twice in the manifest", nd->name);
		for (size_t j = 0; j < nd->nifaces; j++)
			for (size_t k = 0; k < j; k++)
				if (strcmp(nd->ifaces[j].name,
				    nd->ifaces[k].name) == 0)
					rc = err_at(ERR_DUPLICATE, NULL,
					    nd->line, "node '%s' has two "
					    "interfaces called '%s'", nd->name,
					    nd->ifaces[j].name);
	}
	for (size_t i = 0; i < m->nlinks; i++) {
		const struct mf_link *l = &m->links[i];

		for (size_t k = 0; k < i; k++)
			if (strcmp(m->links[k].name, l->name) == 0)
				rc = err_at(ERR_DUPLICATE, NULL, l->line,
				    "link '%s' appears twice in the manifest",
				    l->name);
		/* A fragment may list links whose nodes live elsewhere. */
		for (size_t e = 0; m->nnodes > 0 && e < l->nends; e++)
			if (l->ends[e].node[0] != '\0' &&
			    mf_node_find(m, l->ends[e].node) < 0 &&
			    l->ends[e].pip[0] == '\0')
				rc = err_at(ERR_NOT_FOUND, NULL, l->line, "link "
				    "'%s' ends at node '%s', which is not in "
				    "the manifest and has no PIP", l->name,
				    l->ends[e].node);
	}
	return rc;
}

static void
node_format(struct buf *b, const struct mf_node *nd)
{
	char tmp[64];

	buf_puts(b, "  <node");
	buf_attr(b, "name", nd->name);
	buf_attr(b, "state", node_state_to_string(nd->state));
	buf_attr(b, "id", nd->id);
	if (nd->kind >= 0)
		buf_attr(b, "kind", node_kind_to_string(nd->kind));
	buf_attr(b, "pip", nd->pip);
	buf_attr(b, "host", nd->host);
	buf_attr(b, "driver", nd->driver);
	if (nd->pooled >= 0)
		buf_attr(b, "pooled", nd->pooled ? "yes" : "no");
	if (nd->nifaces == 0 && nd->console.type == CON_NONE) {
		buf_puts(b, "/>\n");
		return;
	}
	buf_puts(b, ">\n");
	for (size_t i = 0; i < nd->nifaces; i++) {
		const struct mf_iface *f = &nd->ifaces[i];
		buf_puts(b, "    <interface");
		buf_attr(b, "name", f->name);
		buf_attr(b, "link", f->link);
		if (f->has_addr)
			buf_attr(b, "address",
			    units_fmt_prefix(&f->addr, tmp, sizeof(tmp)));
		if (f->has_mac)
			buf_printf(b, " mac=\"%02x:%02x:%02x:%02x:%02x:%02x\"",
			    f->mac[0], f->mac[1], f->mac[2], f->mac[3],
			    f->mac[4], f->mac[5]);
		buf_puts(b, "/>\n");
	}
	if (nd->console.type != CON_NONE) {
		buf_puts(b, "    <console");
		buf_attr(b, "type", console_type_to_string(nd->console.type));
		if (nd->console.address != 0)
			buf_attr(b, "address", units_fmt_ipv4(
			    nd->console.address, tmp, sizeof(tmp)));
		if (nd->console.port != 0)
			buf_printf(b, " port=\"%u\"", nd->console.port);
		buf_attr(b, "user", nd->console.user);
		buf_puts(b, "/>\n");
	}
	buf_puts(b, "  </node>\n");
}

static void
link_format(struct buf *b, const struct mf_link *l)
{
	char tmp[64];

	buf_puts(b, "  <link");
	buf_attr(b, "name", l->name);
	buf_attr(b, "state", link_state_to_string(l->state));
	if (l->encap >= 0)
		buf_attr(b, "encap", encap_to_string(l->encap));
	if (l->key != 0)
		buf_printf(b, " key=\"%u\"", l->key);
	if (l->bandwidth != 0)
		buf_attr(b, "bandwidth",
		    units_fmt_bw(l->bandwidth, tmp, sizeof(tmp)));
	if (l->nends == 0) {
		buf_puts(b, "/>\n");
		return;
	}
	buf_puts(b, ">\n");
	for (size_t i = 0; i < l->nends; i++) {
		buf_puts(b, "    <end");
		buf_attr(b, "node", l->ends[i].node);
		buf_attr(b, "pip", l->ends[i].pip);
		buf_attr(b, "host", l->ends[i].host);
		if (l->ends[i].underlay != 0)
			buf_attr(b, "underlay", units_fmt_ipv4(
			    l->ends[i].underlay, tmp, sizeof(tmp)));
		buf_puts(b, "/>\n");
	}
	buf_puts(b, "  </link>\n");
}

char *
manifest_format(const struct manifest *m)
{
	struct buf b;
	char tmp[64];

	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\"?>\n<manifest xmlns=\""
	    VNSM_NS "\"");
	buf_attr(&b, "vnet", m->vnet);
	buf_attr(&b, "slice", m->slice);
	buf_attr(&b, "state", vnet_state_to_string(m->state));
	if (m->discovery >= 0)
		buf_attr(&b, "discovery", discovery_to_string(m->discovery));
	if (m->expires != 0)
		buf_attr(&b, "expires",
		    units_fmt_time(m->expires, tmp, sizeof(tmp)));
	buf_puts(&b, ">\n");
	for (size_t i = 0; i < m->nnodes; i++)
		node_format(&b, &m->nodes[i]);
	for (size_t i = 0; i < m->nlinks; i++)
		link_format(&b, &m->links[i]);
	for (size_t i = 0; i < m->nsteps; i++) {
		buf_puts(&b, "  <step");
		buf_attr(&b, "name", step_to_string(m->steps[i].step));
		buf_attr(&b, "ms", units_fmt_ms(m->steps[i].ms, tmp,
		    sizeof(tmp)));
		buf_attr(&b, "pip", m->steps[i].pip);
		buf_attr(&b, "host", m->steps[i].host);
		buf_puts(&b, "/>\n");
	}
	buf_puts(&b, "</manifest>\n");
	return buf_steal(&b, NULL);
}

void
manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nnodes; i++)
		free(m->nodes[i].ifaces);
	for (size_t i = 0; i < m->nlinks; i++)
		free(m->links[i].ends);
	free(m->nodes);
	free(m->links);
	free(m->steps);
	free(m);
}
