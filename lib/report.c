#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advert.h"
#include "doc.h"
#include "error.h"
#include "report.h"
#include "xml.h"

static int
amounts_parse(const xmlNode *n, struct rp_amounts *a)
{
	uint64_t u;

	if (xml_attr_cpu(n, "cpu", 1, &a->cpu) == -1 ||
	    xml_attr_mem(n, "memory", 1, &a->memory) == -1 ||
	    xml_attr_uint(n, "interfaces", 1, 0, UINT32_MAX, &u) == -1)
		return -1;
	a->interfaces = (unsigned)u;
	return 0;
}

static int
driver_cb(const xmlNode *n, void *entry, void *arg)
{
	struct rp_driver *d = entry;
	char kinds[128];

	if (xml_attr_name(n, "name", 1, d->name, sizeof(d->name)) == -1)
		return -1;
	switch (xml_attr_str(n, "kinds", 0, kinds, sizeof(kinds))) {
	case 0:
		if (kinds_parse(kinds, &d->kinds) == -1)
			return xml_error(ERR_INVALID, n, "kinds \"%s\" names "
			    "an unknown node kind", kinds);
		return 0;
	case 1:
		return 0;
	}
	return -1;
}

static int
iface_cb(const xmlNode *n, void *entry, void *arg)
{
	struct rp_iface *f = entry;
	uint64_t u;
	int rc = 0;

	if (xml_attr_name(n, "name", 1, f->name, sizeof(f->name)) == -1)
		rc = -1;
	switch (xml_attr_prefix(n, "address", 0, &f->addr)) {
	case 0: f->has_addr = 1; break;
	case -1: rc = -1; break;
	}
	switch (xml_attr_uint(n, "mtu", 0, 68, REPORT_MTU_MAX, &u)) {
	case 0: f->mtu = (unsigned)u; break;
	case -1: rc = -1; break;
	}
	return rc;
}

static int
pool_cb(const xmlNode *n, void *entry, void *arg)
{
	struct rp_pool *p = entry;
	uint64_t depth, target;
	int kind = NODE_NETNS;

	if (xml_attr_name(n, "driver", 1, p->driver, sizeof(p->driver)) == -1 ||
	    xml_attr_enum(n, "kind", 1, node_kind_from_string, &kind) == -1 ||
	    xml_attr_name(n, "image", 1, p->image, sizeof(p->image)) == -1 ||
	    xml_attr_uint(n, "depth", 1, 0, UINT32_MAX, &depth) == -1 ||
	    xml_attr_uint(n, "target", 1, 0, UINT32_MAX, &target) == -1)
		return -1;
	p->kind = kind;
	p->depth = (unsigned)depth;
	p->target = (unsigned)target;
	return 0;
}

static int
node_cb(const xmlNode *n, void *entry, void *arg)
{
	struct rp_node *nd = entry;

	nd->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "id", 1, nd->id, sizeof(nd->id)) == -1 ||
	    xml_attr_name(n, "name", 1, nd->name, sizeof(nd->name)) == -1 ||
	    xml_attr_name(n, "vnet", 0, nd->vnet, sizeof(nd->vnet)) == -1 ||
	    xml_attr_name(n, "driver", 1, nd->driver,
	    sizeof(nd->driver)) == -1 ||
	    xml_attr_name(n, "state", 1, nd->state, sizeof(nd->state)) == -1 ||
	    xml_attr_cpu(n, "cpu", 0, &nd->cpu) == -1 ||
	    xml_attr_mem(n, "memory", 0, &nd->memory) == -1)
		return -1;
	return 0;
}

static int
link_cb(const xmlNode *n, void *entry, void *arg)
{
	struct rp_link *l = entry;
	int encap = ENCAP_GRE;
	uint64_t key = 0;

	l->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "id", 1, l->id, sizeof(l->id)) == -1 ||
	    xml_attr_name(n, "name", 1, l->name, sizeof(l->name)) == -1 ||
	    xml_attr_name(n, "vnet", 0, l->vnet, sizeof(l->vnet)) == -1 ||
	    xml_attr_enum(n, "encap", 1, encap_from_string, &encap) == -1 ||
	    xml_attr_uint(n, "key", 0, 0, UINT32_MAX, &key) == -1 ||
	    xml_attr_uint(n, "packets", 1, 0, UINT64_MAX, &l->packets) == -1 ||
	    xml_attr_uint(n, "bytes", 1, 0, UINT64_MAX, &l->bytes) == -1 ||
	    xml_attr_uint(n, "drops", 1, 0, UINT64_MAX, &l->drops) == -1)
		return -1;
	l->encap = encap;
	l->key = (uint32_t)key;
	return 0;
}

struct report *
report_build(const xmlNode *root)
{
	struct report *r;
	xmlNodePtr c;
	int rc = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		err_nomem();
		return NULL;
	}
	if (xml_attr_name(root, "host", 1, r->host, sizeof(r->host)) == -1 ||
	    xml_attr_name(root, "pip", 0, r->pip, sizeof(r->pip)) == -1 ||
	    xml_attr_time(root, "time", 0, &r->time) == -1)
		rc = -1;
	if ((c = xml_child(root, "capacity")) == NULL ||
	    amounts_parse(c, &r->capacity) == -1)
		rc = c == NULL ? xml_error(ERR_SCHEMA, root, "report needs "
		    "<capacity>") : -1;
	if ((c = xml_child(root, "use")) == NULL ||
	    amounts_parse(c, &r->use) == -1)
		rc = c == NULL ? xml_error(ERR_SCHEMA, root, "report needs "
		    "<use>") : -1;
	if ((c = xml_child(root, "tunnels")) != NULL &&
	    (xml_attr_name(c, "backend", 1, r->tunnel_backend,
	    sizeof(r->tunnel_backend)) == -1 ||
	    xml_attr_uint(c, "drops", 0, 0, UINT64_MAX,
	    &r->tunnel_drops) == -1))
		rc = -1;
	if (xml_children(root, "driver", sizeof(*r->drivers), &r->drivers,
	    &r->ndrivers, driver_cb, NULL) == -1 ||
	    xml_children(root, "interface", sizeof(*r->ifaces), &r->ifaces,
	    &r->nifaces, iface_cb, NULL) == -1 ||
	    xml_children(root, "pool", sizeof(*r->pools), &r->pools,
	    &r->npools, pool_cb, NULL) == -1 ||
	    xml_children(root, "node", sizeof(*r->nodes), &r->nodes,
	    &r->nnodes, node_cb, NULL) == -1 ||
	    xml_children(root, "link", sizeof(*r->links), &r->links,
	    &r->nlinks, link_cb, NULL) == -1)
		rc = -1;
	if (rc == -1) {
		report_free(r);
		return NULL;
	}
	return r;
}

struct report *
report_parse(const char *data, size_t len, const char *name)
{
	return doc_parse(data, len, name, DOC_REPORT);
}

int
report_validate(const struct report *r)
{
	int rc = 0;

	for (size_t i = 0; i < r->nnodes; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->nodes[i].id, r->nodes[j].id) == 0)
				rc = err_at(ERR_DUPLICATE, "/report/node",
				    r->nodes[i].line,
				    "node id '%s' is reported twice",
				    r->nodes[i].id);
	for (size_t i = 0; i < r->nlinks; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->links[i].id, r->links[j].id) == 0)
				rc = err_at(ERR_DUPLICATE, "/report/link",
				    r->links[i].line,
				    "link id '%s' is reported twice",
				    r->links[i].id);
	return rc;
}

static void
amounts_format(struct buf *b, const char *tag, const struct rp_amounts *a)
{
	char tmp[64];

	buf_printf(b, "  <%s", tag);
	buf_attr(b, "cpu", units_fmt_cpu(a->cpu, tmp, sizeof(tmp)));
	buf_attr(b, "memory", units_fmt_mem(a->memory, tmp, sizeof(tmp)));
	buf_printf(b, " interfaces=\"%u\"/>\n", a->interfaces);
}

char *
report_format(const struct report *r)
{
	struct buf b;
	char tmp[128];

	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\"?>\n<report xmlns=\"" VNSM_NS "\"");
	buf_attr(&b, "host", r->host);
	buf_attr(&b, "pip", r->pip);
	if (r->time != 0)
		buf_attr(&b, "time", units_fmt_time(r->time, tmp, sizeof(tmp)));
	buf_puts(&b, ">\n");
	amounts_format(&b, "capacity", &r->capacity);
	amounts_format(&b, "use", &r->use);
	for (size_t i = 0; i < r->ndrivers; i++) {
		buf_puts(&b, "  <driver");
		buf_attr(&b, "name", r->drivers[i].name);
		buf_attr(&b, "kinds", kinds_format(r->drivers[i].kinds, tmp,
		    sizeof(tmp)));
		buf_puts(&b, "/>\n");
	}
	if (r->tunnel_backend[0] != '\0') {
		buf_puts(&b, "  <tunnels");
		buf_attr(&b, "backend", r->tunnel_backend);
		buf_printf(&b, " drops=\"%" PRIu64 "\"/>\n", r->tunnel_drops);
	}
	for (size_t i = 0; i < r->nifaces; i++) {
		const struct rp_iface *f = &r->ifaces[i];
		buf_puts(&b, "  <interface");
		buf_attr(&b, "name", f->name);
		if (f->has_addr)
			buf_attr(&b, "address",
			    units_fmt_prefix(&f->addr, tmp, sizeof(tmp)));
		if (f->mtu)
			buf_printf(&b, " mtu=\"%u\"", f->mtu);
		buf_puts(&b, "/>\n");
	}
	for (size_t i = 0; i < r->npools; i++) {
		const struct rp_pool *p = &r->pools[i];
		buf_puts(&b, "  <pool");
		buf_attr(&b, "driver", p->driver);
		buf_attr(&b, "kind", node_kind_to_string(p->kind));
		buf_attr(&b, "image", p->image);
		buf_printf(&b, " depth=\"%u\" target=\"%u\"/>\n", p->depth,
		    p->target);
	}
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct rp_node *nd = &r->nodes[i];
		buf_puts(&b, "  <node");
		buf_attr(&b, "id", nd->id);
		buf_attr(&b, "name", nd->name);
		buf_attr(&b, "vnet", nd->vnet);
		buf_attr(&b, "driver", nd->driver);
		buf_attr(&b, "state", nd->state);
		if (nd->cpu)
			buf_attr(&b, "cpu",
			    units_fmt_cpu(nd->cpu, tmp, sizeof(tmp)));
		if (nd->memory)
			buf_attr(&b, "memory",
			    units_fmt_mem(nd->memory, tmp, sizeof(tmp)));
		buf_puts(&b, "/>\n");
	}
	for (size_t i = 0; i < r->nlinks; i++) {
		const struct rp_link *l = &r->links[i];
		buf_puts(&b, "  <link");
		buf_attr(&b, "id", l->id);
		buf_attr(&b, "name", l->name);
		buf_attr(&b, "vnet", l->vnet);
		buf_attr(&b, "encap", encap_to_string(l->encap));
		if (l->key)
			buf_printf(&b, " key=\"%u\"", l->key);
		buf_printf(&b, " packets=\"%" PRIu64 "\" bytes=\"%" PRIu64
		    "\" drops=\"%" PRIu64 "\"/>\n", l->packets, l->bytes,
		    l->drops);
	}
	buf_puts(&b, "</report>\n");
	return buf_steal(&b, NULL);
}

void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	free(r->drivers);
	free(r->ifaces);
	free(r->pools);
	free(r->nodes);
	free(r->links);
	free(r);
}
