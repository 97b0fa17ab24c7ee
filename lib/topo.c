#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "error.h"
#include "topo.h"
#include "xml.h"

ENUM_IMPL(node_kind, NODE_KIND_LAST, "netns", "container", "vm", "gateway")
ENUM_IMPL(encap, ENCAP_LAST, "ipip", "gre", "gretap", "vxlan")
ENUM_IMPL(attach_mode, ATTACH_LAST, "direct", "bridge")
ENUM_IMPL(pool_pref, POOL_PREF_LAST, "prefer", "never")

static int
route_parse(const xmlNode *n, struct topo_route *r)
{
	int rc = 0;

	if (xml_attr_prefix(n, "to", 1, &r->to) == -1)
		rc = -1;
	if (xml_attr_ipv4(n, "via", 1, &r->via) == -1)
		rc = -1;
	return rc;
}

int
topo_node_parse(const xmlNode *n, struct topo_node *nd)
{
	xmlNodePtr c;
	uint64_t u;
	int kind = NODE_NETNS, attach = ATTACH_DIRECT, pool = POOL_PREFER;
	int rc = 0;
	size_t i = 0;

	memset(nd, 0, sizeof(*nd));
	nd->line = xmlGetLineNo(n);
	str_lcpy(nd->image, "router", sizeof(nd->image));
	if (xml_attr_name(n, "name", 1, nd->name, sizeof(nd->name)) == -1)
		rc = -1;
	if (xml_attr_enum(n, "kind", 0, node_kind_from_string, &kind) == -1)
		rc = -1;
	if (xml_attr_cpu(n, "cpu", 1, &nd->cpu) == -1)
		rc = -1;
	if (xml_attr_mem(n, "memory", 1, &nd->memory) == -1)
		rc = -1;
	if (xml_attr_name(n, "image", 0, nd->image, sizeof(nd->image)) == -1)
		rc = -1;
	switch (xml_attr_uint(n, "interfaces", 0, 1, 4096, &u)) {
	case 0:
		nd->interfaces = (unsigned)u;
		break;
	case -1:
		rc = -1;
		break;
	}
	if (xml_attr_enum(n, "attach", 0, attach_mode_from_string,
	    &attach) == -1)
		rc = -1;
	if (xml_attr_enum(n, "pool", 0, pool_pref_from_string, &pool) == -1)
		rc = -1;
	if (xml_attr_name(n, "pip", 0, nd->pip, sizeof(nd->pip)) == -1 ||
	    xml_attr_name(n, "location", 0, nd->location,
	    sizeof(nd->location)) == -1 ||
	    xml_attr_name(n, "host", 0, nd->host, sizeof(nd->host)) == -1)
		rc = -1;
	if (rc == 0 && nd->cpu == 0)
		rc = xml_error(ERR_INVALID, n, "node '%s' asks for no CPU",
		    nd->name);
	if (rc == 0 && nd->memory == 0)
		rc = xml_error(ERR_INVALID, n, "node '%s' asks for no memory",
		    nd->name);
	nd->kind = kind;
	nd->attach = attach;
	nd->pool = pool;

	if ((c = xml_child(n, "gateway")) != NULL) {
		if (gw_parse(c, &nd->gw) == -1)
			rc = -1;
		else if (kind != NODE_GATEWAY)
			rc = xml_error(ERR_INVALID, n, "node '%s' has gateway "
			    "settings but is not of kind gateway", nd->name);
	}
	nd->nroutes = xml_count(n, "route");
	if (nd->nroutes > 0 &&
	    (nd->routes = calloc(nd->nroutes, sizeof(*nd->routes))) == NULL) {
		nd->nroutes = 0;
		return err_nomem();
	}
	XML_FOREACH(c, n, "route")
		if (route_parse(c, &nd->routes[i++]) == -1)
			rc = -1;
	return rc;
}

static int
end_parse(const xmlNode *n, struct topo_end *e)
{
	int rc = 0;

	if (xml_attr_name(n, "node", 1, e->node, sizeof(e->node)) == -1)
		rc = -1;
	switch (xml_attr_prefix(n, "address", 0, &e->addr)) {
	case 0:
		e->has_addr = 1;
		break;
	case -1:
		rc = -1;
		break;
	}
	return rc;
}

int
topo_link_parse(const xmlNode *n, struct topo_link *l, int stub)
{
	xmlNodePtr c, path;
	uint64_t u;
	int encap = ENCAP_GRE;
	int rc = 0;
	size_t i = 0;

	memset(l, 0, sizeof(*l));
	l->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "name", 1, l->name, sizeof(l->name)) == -1)
		rc = -1;
	if (xml_attr_bw(n, "bandwidth", 0, &l->bandwidth) == -1)
		rc = -1;
	if (xml_attr_enum(n, "encap", 0, encap_from_string, &encap) == -1)
		rc = -1;
	l->encap = encap;
	switch (xml_attr_uint(n, "key", 0, 1, UINT32_MAX, &u)) {
	case 0:
		l->key = (uint32_t)u;
		break;
	case -1:
		rc = -1;
		break;
	}
	switch (xml_attr_uint(n, "mtu", 0, MTU_MIN, MTU_MAX, &u)) {
	case 0:
		l->mtu = (unsigned)u;
		break;
	case -1:
		rc = -1;
		break;
	}
	XML_FOREACH(c, n, "end") {
		if (i == (stub ? 1u : 2u)) {
			rc = xml_error(ERR_SCHEMA, n, "%s '%s' has more than "
			    "%d <end>", stub ? "stub" : "link", l->name,
			    stub ? 1 : 2);
			break;
		}
		if (end_parse(c, &l->end[i++]) == -1)
			rc = -1;
	}
	if (i < (stub ? 1u : 2u))
		rc = xml_error(ERR_SCHEMA, n, "%s '%s' needs %d <end> "
		    "elements", stub ? "stub" : "link", l->name, stub ? 1 : 2);
	if (stub && (c = xml_child(n, "peer")) != NULL) {
		if (xml_attr_name(c, "pip", 1, l->peer_pip,
		    sizeof(l->peer_pip)) == -1 ||
		    xml_attr_name(c, "node", 0, l->peer_node,
		    sizeof(l->peer_node)) == -1 ||
		    xml_attr_name(c, "host", 0, l->peer_host,
		    sizeof(l->peer_host)) == -1 ||
		    xml_attr_ipv4(c, "underlay", 0, &l->peer_underlay) == -1)
			rc = -1;
	} else if (stub)
		rc = xml_error(ERR_SCHEMA, n, "stub '%s' needs a <peer>",
		    l->name);
	if (!stub && (path = xml_child(n, "path")) != NULL) {
		l->npath = xml_count(path, "hop");
		if (l->npath > 0 &&
		    (l->path = calloc(l->npath, sizeof(*l->path))) == NULL) {
			l->npath = 0;
			return err_nomem();
		}
		i = 0;
		XML_FOREACH(c, path, "hop")
			if (xml_attr_name(c, "host", 1, l->path[i++],
			    NAME_LEN) == -1)
				rc = -1;
	}
	return rc;
}

int
topo_node_copy(struct topo_node *dst, const struct topo_node *src)
{
	*dst = *src;
	dst->routes = NULL;
	dst->gw.forwards = NULL;
	if (src->nroutes > 0) {
		dst->routes = calloc(src->nroutes, sizeof(*dst->routes));
		if (dst->routes == NULL) {
			dst->nroutes = 0;
			dst->gw.nforwards = 0;
			return err_nomem();
		}
		memcpy(dst->routes, src->routes,
		    src->nroutes * sizeof(*dst->routes));
	}
	if (gw_copy(&dst->gw, &src->gw) == -1) {
		topo_node_clear(dst);
		return -1;
	}
	return 0;
}

int
topo_link_copy(struct topo_link *dst, const struct topo_link *src)
{
	*dst = *src;
	dst->path = NULL;
	if (src->npath > 0) {
		dst->path = calloc(src->npath, sizeof(*dst->path));
		if (dst->path == NULL) {
			dst->npath = 0;
			return err_nomem();
		}
		memcpy(dst->path, src->path, src->npath * sizeof(*dst->path));
	}
	return 0;
}

void
topo_node_clear(struct topo_node *nd)
{
	gw_clear(&nd->gw);
	free(nd->routes);
	nd->routes = NULL;
	nd->nroutes = 0;
}

void
topo_link_clear(struct topo_link *l)
{
	free(l->path);
	l->path = NULL;
	l->npath = 0;
}

void
topo_node_format(struct buf *b, const struct topo_node *nd)
{
	char tmp[64], tmp2[64];

	buf_puts(b, "  <node");
	buf_attr(b, "name", nd->name);
	buf_attr(b, "kind", node_kind_to_string(nd->kind));
	buf_attr(b, "cpu", units_fmt_cpu(nd->cpu, tmp, sizeof(tmp)));
	buf_attr(b, "memory", units_fmt_mem(nd->memory, tmp, sizeof(tmp)));
	buf_attr(b, "image", nd->image);
	if (nd->interfaces > 0)
		buf_printf(b, " interfaces=\"%u\"", nd->interfaces);
	if (nd->attach != ATTACH_DIRECT)
		buf_attr(b, "attach", attach_mode_to_string(nd->attach));
	if (nd->pool != POOL_PREFER)
		buf_attr(b, "pool", pool_pref_to_string(nd->pool));
	buf_attr(b, "pip", nd->pip);
	buf_attr(b, "location", nd->location);
	buf_attr(b, "host", nd->host);
	if (nd->nroutes == 0 && !nd->gw.present) {
		buf_puts(b, "/>\n");
		return;
	}
	buf_puts(b, ">\n");
	gw_format(b, &nd->gw, "    ");
	for (size_t i = 0; i < nd->nroutes; i++)
		buf_printf(b, "    <route to=\"%s\" via=\"%s\"/>\n",
		    units_fmt_prefix(&nd->routes[i].to, tmp, sizeof(tmp)),
		    units_fmt_ipv4(nd->routes[i].via, tmp2, sizeof(tmp2)));
	buf_puts(b, "  </node>\n");
}

static void
end_format(struct buf *b, const struct topo_end *e)
{
	char tmp[64];

	buf_puts(b, "    <end");
	buf_attr(b, "node", e->node);
	if (e->has_addr)
		buf_attr(b, "address",
		    units_fmt_prefix(&e->addr, tmp, sizeof(tmp)));
	buf_puts(b, "/>\n");
}

void
topo_link_format(struct buf *b, const struct topo_link *l, int stub)
{
	char tmp[64];

	buf_printf(b, "  <%s", stub ? "stub" : "link");
	buf_attr(b, "name", l->name);
	if (l->bandwidth > 0)
		buf_attr(b, "bandwidth",
		    units_fmt_bw(l->bandwidth, tmp, sizeof(tmp)));
	buf_attr(b, "encap", encap_to_string(l->encap));
	if (l->key > 0)
		buf_printf(b, " key=\"%u\"", l->key);
	if (l->mtu > 0)
		buf_printf(b, " mtu=\"%u\"", l->mtu);
	buf_puts(b, ">\n");
	end_format(b, &l->end[0]);
	if (stub) {
		buf_puts(b, "    <peer");
		buf_attr(b, "pip", l->peer_pip);
		buf_attr(b, "node", l->peer_node);
		buf_attr(b, "host", l->peer_host);
		if (l->peer_underlay != 0)
			buf_attr(b, "underlay", units_fmt_ipv4(l->peer_underlay,
			    tmp, sizeof(tmp)));
		buf_puts(b, "/>\n");
		buf_puts(b, "  </stub>\n");
		return;
	}
	end_format(b, &l->end[1]);
	if (l->npath > 0) {
		buf_puts(b, "    <path>");
		for (size_t i = 0; i < l->npath; i++) {
			buf_puts(b, "<hop");
			buf_attr(b, "host", l->path[i]);
			buf_puts(b, "/>");
		}
		buf_puts(b, "</path>\n");
	}
	buf_puts(b, "  </link>\n");
}

ssize_t
topo_node_find(const struct topo_node *nodes, size_t nn, const char *name)
{
	for (size_t i = 0; i < nn; i++)
		if (strcmp(nodes[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* A name and where it came from, for sorting and duplicate checks. */
struct name_ref {
	const char *name;
	size_t index;
	long line;
};

static int
name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Sorted index over the names; reports each duplicate once, at its
 * second occurrence.  Returns the index (free it) or NULL on ENOMEM.
 */
static struct name_ref *
names_index(const char *doc, const char *what, const char *const *names,
    const long *lines, size_t n, int *rc)
{
	struct name_ref *idx;

	if ((idx = calloc(n ? n : 1, sizeof(*idx))) == NULL) {
		*rc = err_nomem();
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		idx[i].name = names[i];
		idx[i].index = i;
		idx[i].line = lines[i];
	}
	qsort(idx, n, sizeof(*idx), name_ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(idx[i].name, idx[i - 1].name) != 0)
			continue;
		char where[ERR_WHERE_MAX];
		snprintf(where, sizeof(where), "/%s/%s[@name='%s']", doc, what,
		    idx[i].name);
		*rc = err_at(ERR_DUPLICATE, where, idx[i].line,
		    "%s name '%s' is used twice (first on line %ld)", what,
		    idx[i].name, idx[i - 1].line);
		err_hint("give every %s its own name", what);
	}
	return idx;
}

static ssize_t
names_lookup(const struct name_ref *idx, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, idx[mid].name);
		if (c == 0)
			return (ssize_t)idx[mid].index;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* An interface address and the line of the link that gives it. */
struct addr_ref {
	const struct topo_end *end;
	long line;
};

static int
addr_cmp(const void *a, const void *b)
{
	const struct addr_ref *x = a, *y = b;

	if (x->end->addr.addr != y->end->addr.addr)
		return x->end->addr.addr < y->end->addr.addr ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Check one link's own values: ends, self-link, addresses, key. */
static int
link_check(const char *doc, const struct topo_link *l, int stub,
    const struct topo_node *nodes, const struct name_ref *nidx, size_t nn,
    unsigned *ends_per_node)
{
	char where[ERR_WHERE_MAX];
	const char *what = stub ? "stub" : "link";
	int rc = 0;

	snprintf(where, sizeof(where), "/%s/%s[@name='%s']", doc, what,
	    l->name);
	for (int i = 0; i < (stub ? 1 : 2); i++) {
		ssize_t k = names_lookup(nidx, nn, l->end[i].node);
		if (k < 0) {
			rc = err_at(ERR_NOT_FOUND, where, l->line, "%s '%s' "
			    "ends at node '%s', which does not exist", what,
			    l->name, l->end[i].node);
			err_hint("declare node '%s' or correct the <end>",
			    l->end[i].node);
		} else {
			ends_per_node[k]++;
			/*
			 * Refused here, before any host is touched: a bridge
			 * forwards Ethernet frames and ipip/gre carry bare IP
			 * packets, so no backend can bridge them.
			 */
			if (nodes[k].attach == ATTACH_BRIDGE &&
			    (l->encap == ENCAP_IPIP || l->encap == ENCAP_GRE)) {
				rc = err_at(ERR_INVALID, where, l->line, "node "
				    "'%s' asks attach='bridge', but %s '%s' is "
				    "%s: a bridge carries frames",
				    nodes[k].name, what, l->name,
				    encap_to_string(l->encap));
				err_hint("use gretap or vxlan, or "
				    "attach='direct'");
			}
		}
		if (l->end[i].has_addr) {
			const struct ipv4_prefix *p = &l->end[i].addr;
			uint32_t hostmask = p->len == 0 ? UINT32_MAX :
			    p->len >= 32 ? 0 : UINT32_MAX >> p->len;
			uint32_t host = p->addr & hostmask;

			/* /31 and /32 have no network or broadcast address. */
			if (p->len == 0 || (p->len < 31 &&
			    (host == 0 || host == hostmask))) {
				char tmp[64];
				rc = err_at(ERR_INVALID, where, l->line,
				    "address %s of node '%s' on %s '%s' is a "
				    "network or broadcast address",
				    units_fmt_prefix(p, tmp, sizeof(tmp)),
				    l->end[i].node, what, l->name);
			}
		}
	}
	if (!stub && strcmp(l->end[0].node, l->end[1].node) == 0) {
		rc = err_at(ERR_TOPOLOGY, where, l->line, "link '%s' connects "
		    "node '%s' to itself", l->name, l->end[0].node);
		err_hint("a link needs two different nodes");
	}
	if (!stub && l->end[0].has_addr && l->end[1].has_addr &&
	    !prefix_same_net(&l->end[0].addr, &l->end[1].addr)) {
		rc = err_at(ERR_INVALID, where, l->line, "the two ends of link "
		    "'%s' are not in the same subnet", l->name);
		err_hint("give both ends addresses in one network, e.g. "
		    "10.0.1.1/24 and 10.0.1.2/24");
	}
	if (l->encap == ENCAP_VXLAN && l->key > VXLAN_VNI_MAX)
		rc = err_at(ERR_INVALID, where, l->line, "VXLAN VNI %u of %s "
		    "'%s' is over %u", l->key, what, l->name, VXLAN_VNI_MAX);
	if (l->bandwidth > BW_MAX_KBIT)
		rc = err_at(ERR_INVALID, where, l->line, "bandwidth of %s '%s' "
		    "is over 1Tbit", what, l->name);
	return rc;
}

/* No interface address may appear twice in one document. */
static int
addresses_check(const struct topo_link *links, size_t nl,
    const struct topo_link *stubs, size_t ns)
{
	struct addr_ref *refs;
	size_t n = 0;
	int rc = 0;

	if ((refs = calloc(2 * (nl + ns) + 1, sizeof(*refs))) == NULL)
		return err_nomem();
	for (size_t i = 0; i < nl + ns; i++) {
		const struct topo_link *l = i < nl ? &links[i] : &stubs[i - nl];

		for (int j = 0; j < (i < nl ? 2 : 1); j++)
			if (l->end[j].has_addr) {
				refs[n].end = &l->end[j];
				refs[n++].line = l->line;
			}
	}
	qsort(refs, n, sizeof(*refs), addr_cmp);
	for (size_t i = 1; i < n; i++) {
		char tmp[32];

		if (refs[i].end->addr.addr != refs[i - 1].end->addr.addr)
			continue;
		rc = err_at(ERR_DUPLICATE, NULL, refs[i].line, "address %s is "
		    "given to node '%s' here and to node '%s' on line %ld",
		    units_fmt_ipv4(refs[i].end->addr.addr, tmp, sizeof(tmp)),
		    refs[i].end->node, refs[i - 1].end->node, refs[i - 1].line);
	}
	free(refs);
	return rc;
}

int
topo_check(const char *doc, const struct topo_node *nodes, size_t nn,
    const struct topo_link *links, size_t nl, const struct topo_link *stubs,
    size_t ns, const struct topo_refs *refs)
{
	const char **names = NULL;
	long *lines = NULL;
	unsigned *ends = NULL;
	struct name_ref *nidx = NULL, *lidx = NULL;
	size_t nlinks = nl + ns;
	int rc = 0;

	names = calloc(nn + nlinks + 1, sizeof(*names));
	lines = calloc(nn + nlinks + 1, sizeof(*lines));
	ends = calloc(nn + 1, sizeof(*ends));
	if (names == NULL || lines == NULL || ends == NULL) {
		rc = err_nomem();
		goto out;
	}
	for (size_t i = 0; i < nn; i++) {
		names[i] = nodes[i].name;
		lines[i] = nodes[i].line;
	}
	if ((nidx = names_index(doc, "node", names, lines, nn, &rc)) == NULL)
		goto out;
	for (size_t i = 0; i < nl; i++) {
		names[i] = links[i].name;
		lines[i] = links[i].line;
	}
	for (size_t i = 0; i < ns; i++) {
		names[nl + i] = stubs[i].name;
		lines[nl + i] = stubs[i].line;
	}
	if ((lidx = names_index(doc, "link", names, lines, nlinks,
	    &rc)) == NULL)
		goto out;

	for (size_t i = 0; i < nl; i++)
		if (link_check(doc, &links[i], 0, nodes, nidx, nn, ends) == -1)
			rc = -1;
	for (size_t i = 0; i < ns; i++)
		if (link_check(doc, &stubs[i], 1, nodes, nidx, nn, ends) == -1)
			rc = -1;
	if (addresses_check(links, nl, stubs, ns) == -1)
		rc = -1;

	for (size_t i = 0; i < nn; i++) {
		const struct topo_node *nd = &nodes[i];
		char where[ERR_WHERE_MAX];

		snprintf(where, sizeof(where), "/%s/node[@name='%s']", doc,
		    nd->name);
		if (gw_validate(&nd->gw, where, nd->line) == -1)
			rc = -1;
		if (nd->interfaces > 0 && ends[i] > nd->interfaces) {
			rc = err_at(ERR_TOPOLOGY, where, nd->line, "node '%s' "
			    "needs %u interfaces for its links but declares "
			    "%u", nd->name, ends[i], nd->interfaces);
			err_hint("set interfaces=\"%u\" or remove links",
			    ends[i]);
		}
		if (refs != NULL && nd->pip[0] != '\0' && refs->has_pip &&
		    !refs->has_pip(refs->arg, nd->pip)) {
			rc = err_at(ERR_NOT_FOUND, where, nd->line, "node '%s' "
			    "asks for PIP '%s', which is not known", nd->name,
			    nd->pip);
		}
		if (refs != NULL && nd->host[0] != '\0' && refs->has_host &&
		    !refs->has_host(refs->arg, nd->host)) {
			rc = err_at(ERR_NOT_FOUND, where, nd->line, "node '%s' "
			    "is pinned to host '%s', which is not known",
			    nd->name, nd->host);
		}
	}
	for (size_t i = 0; refs != NULL && refs->has_host && i < nl; i++)
		for (size_t h = 0; h < links[i].npath; h++)
			if (!refs->has_host(refs->arg, links[i].path[h]))
				rc = err_at(ERR_NOT_FOUND, NULL, links[i].line,
				    "link '%s' passes through host '%s', which "
				    "is not known", links[i].name,
				    links[i].path[h]);
out:
	free(names);
	free(lines);
	free(ends);
	free(nidx);
	free(lidx);
	return rc;
}
