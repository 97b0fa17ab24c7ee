#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advert.h"
#include "doc.h"
#include "error.h"
#include "xml.h"

ENUM_IMPL(advert_detail, ADV_DETAIL_LAST, "full", "aggregate", "none")

int
kinds_parse(const char *s, unsigned *mask)
{
	char word[NAME_LEN];

	*mask = 0;
	while (*s != '\0') {
		size_t n = strcspn(s, " \t\n");
		int k;

		if (n > 0) {
			if (n >= sizeof(word))
				return -1;
			memcpy(word, s, n);
			word[n] = '\0';
			if ((k = node_kind_from_string(word)) < 0)
				return -1;
			*mask |= 1u << k;
		}
		s += n;
		s += strspn(s, " \t\n");
	}
	return 0;
}

char *
kinds_format(unsigned mask, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int k = 0; k < NODE_KIND_LAST; k++)
		if (mask & (1u << k)) {
			int r = snprintf(buf + off, size - off, "%s%s",
			    off ? " " : "", node_kind_to_string(k));
			if (r < 0 || (size_t)r >= size - off)
				break;
			off += (size_t)r;
		}
	return buf;
}

static int
pool_cb(const xmlNode *n, void *entry, void *arg)
{
	struct advert_pool *p = entry;
	uint64_t u;
	int kind = NODE_NETNS, rc = 0;

	if (xml_attr_enum(n, "kind", 1, node_kind_from_string, &kind) == -1 ||
	    xml_attr_name(n, "image", 1, p->image, sizeof(p->image)) == -1 ||
	    xml_attr_uint(n, "depth", 1, 0, UINT32_MAX, &u) == -1)
		rc = -1;
	else
		p->depth = (unsigned)u;
	p->kind = kind;
	return rc;
}

/* A <host> or a <location>: the free amounts they share. */
static int
host_cb(const xmlNode *n, void *entry, void *arg)
{
	struct advert_host *h = entry;
	int is_location = arg != NULL;
	char kinds[128];
	uint64_t u;
	int rc = 0;

	h->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "name", 1, h->name, sizeof(h->name)) == -1 ||
	    xml_attr_cpu(n, "cpu", 1, &h->cpu) == -1 ||
	    xml_attr_mem(n, "memory", 1, &h->memory) == -1)
		rc = -1;
	if (xml_attr_uint(n, "interfaces", 1, 0, UINT32_MAX, &u) == -1)
		rc = -1;
	else
		h->interfaces = (unsigned)u;
	if (is_location) {
		if (xml_attr_uint(n, "hosts", 1, 0, UINT32_MAX, &u) == -1)
			rc = -1;
		else
			h->hosts = (unsigned)u;
	} else if (xml_attr_name(n, "location", 0, h->location,
	    sizeof(h->location)) == -1)
		rc = -1;
	switch (xml_attr_str(n, "kinds", 0, kinds, sizeof(kinds))) {
	case 0:
		if (kinds_parse(kinds, &h->kinds) == -1)
			rc = xml_error(ERR_INVALID, n, "kinds \"%s\" names an "
			    "unknown node kind", kinds);
		break;
	case 1:
		h->kinds = 1u << NODE_NETNS;
		break;
	default:
		rc = -1;
	}
	if (xml_children(n, "pool", sizeof(*h->pools), &h->pools, &h->npools,
	    pool_cb, NULL) == -1)
		rc = -1;
	return rc;
}

static int
link_cb(const xmlNode *n, void *entry, void *arg)
{
	struct advert_link *l = entry;

	l->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "from", 1, l->from, sizeof(l->from)) == -1 ||
	    xml_attr_name(n, "to", 1, l->to, sizeof(l->to)) == -1 ||
	    xml_attr_bw(n, "bandwidth", 1, &l->bandwidth) == -1)
		return -1;
	return 0;
}

static int
peering_cb(const xmlNode *n, void *entry, void *arg)
{
	struct advert_peering *p = entry;

	p->line = xmlGetLineNo(n);
	if (xml_attr_name(n, "pip", 1, p->pip, sizeof(p->pip)) == -1 ||
	    xml_attr_name(n, "host", 1, p->host, sizeof(p->host)) == -1 ||
	    xml_attr_ipv4(n, "address", 1, &p->address) == -1 ||
	    xml_attr_bw(n, "bandwidth", 0, &p->bandwidth) == -1)
		return -1;
	return 0;
}

struct advert *
advert_build(const xmlNode *root)
{
	static int location = 1;
	struct advert *a;
	int detail = ADV_FULL, rc = 0;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		err_nomem();
		return NULL;
	}
	if (xml_attr_name(root, "pip", 1, a->pip, sizeof(a->pip)) == -1 ||
	    xml_attr_enum(root, "detail", 1, advert_detail_from_string,
	    &detail) == -1 ||
	    xml_attr_time(root, "time", 0, &a->time) == -1)
		rc = -1;
	a->detail = detail;
	if (xml_children(root, "host", sizeof(*a->hosts), &a->hosts,
	    &a->nhosts, host_cb, NULL) == -1)
		rc = -1;
	if (xml_children(root, "location", sizeof(*a->locations),
	    &a->locations, &a->nlocations, host_cb, &location) == -1)
		rc = -1;
	if (xml_children(root, "substrate-link", sizeof(*a->links), &a->links,
	    &a->nlinks, link_cb, NULL) == -1)
		rc = -1;
	if (xml_children(root, "peering", sizeof(*a->peerings), &a->peerings,
	    &a->npeerings, peering_cb, NULL) == -1)
		rc = -1;
	if (rc == -1) {
		advert_free(a);
		return NULL;
	}
	return a;
}

struct advert *
advert_parse(const char *data, size_t len, const char *name)
{
	return doc_parse(data, len, name, DOC_ADVERT);
}

static ssize_t
host_find(const struct advert *a, const char *name)
{
	for (size_t i = 0; i < a->nhosts; i++)
		if (strcmp(a->hosts[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

int
advert_validate(const struct advert *a)
{
	int rc = 0;

	if (a->detail != ADV_FULL && a->nhosts > 0)
		rc = err_at(ERR_INVALID, "/advertisement", 0, "an advertisement "
		    "with detail '%s' must not list hosts",
		    advert_detail_to_string(a->detail));
	if (a->detail != ADV_AGGREGATE && a->nlocations > 0)
		rc = err_at(ERR_INVALID, "/advertisement", 0, "only an "
		    "advertisement with detail 'aggregate' lists locations");
	if (a->detail != ADV_FULL && a->nlinks > 0)
		rc = err_at(ERR_INVALID, "/advertisement", 0, "substrate links "
		    "are only advertised with detail 'full'");
	for (size_t i = 0; i < a->nhosts; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->hosts[i].name, a->hosts[j].name) == 0)
				rc = err_at(ERR_DUPLICATE, NULL,
				    a->hosts[i].line, "host '%s' is advertised "
				    "twice", a->hosts[i].name);
	for (size_t i = 0; i < a->nlocations; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->locations[i].name,
			    a->locations[j].name) == 0)
				rc = err_at(ERR_DUPLICATE, NULL,
				    a->locations[i].line, "location '%s' is "
				    "advertised twice", a->locations[i].name);
	for (size_t i = 0; i < a->nlinks; i++) {
		const struct advert_link *l = &a->links[i];
		const char *end = host_find(a, l->from) < 0 ? l->from :
		    host_find(a, l->to) < 0 ? l->to : NULL;

		if (end != NULL)
			rc = err_at(ERR_NOT_FOUND, NULL, l->line, "substrate "
			    "link %s-%s ends at host '%s', which is not "
			    "advertised", l->from, l->to, end);
		if (strcmp(l->from, l->to) == 0)
			rc = err_at(ERR_TOPOLOGY, NULL, l->line, "substrate "
			    "link %s-%s connects a host to itself", l->from,
			    l->to);
	}
	for (size_t i = 0; i < a->npeerings; i++) {
		const struct advert_peering *p = &a->peerings[i];

		if (a->detail == ADV_FULL && host_find(a, p->host) < 0)
			rc = err_at(ERR_NOT_FOUND, NULL, p->line, "peering "
			    "with '%s' is at host '%s', which is not "
			    "advertised", p->pip, p->host);
		if (strcmp(p->pip, a->pip) == 0)
			rc = err_at(ERR_TOPOLOGY, NULL, p->line, "PIP '%s' "
			    "advertises a peering with itself", a->pip);
	}
	return rc;
}

static void
host_format(struct buf *b, const struct advert_host *h, int is_location)
{
	char tmp[128];

	buf_printf(b, "  <%s", is_location ? "location" : "host");
	buf_attr(b, "name", h->name);
	if (is_location)
		buf_printf(b, " hosts=\"%u\"", h->hosts);
	else
		buf_attr(b, "location", h->location);
	buf_attr(b, "cpu", units_fmt_cpu(h->cpu, tmp, sizeof(tmp)));
	buf_attr(b, "memory", units_fmt_mem(h->memory, tmp, sizeof(tmp)));
	buf_printf(b, " interfaces=\"%u\"", h->interfaces);
	buf_attr(b, "kinds", kinds_format(h->kinds, tmp, sizeof(tmp)));
	if (h->npools == 0) {
		buf_puts(b, "/>\n");
		return;
	}
	buf_puts(b, ">\n");
	for (size_t i = 0; i < h->npools; i++) {
		buf_puts(b, "    <pool");
		buf_attr(b, "kind", node_kind_to_string(h->pools[i].kind));
		buf_attr(b, "image", h->pools[i].image);
		buf_printf(b, " depth=\"%u\"/>\n", h->pools[i].depth);
	}
	buf_printf(b, "  </%s>\n", is_location ? "location" : "host");
}

char *
advert_format(const struct advert *a)
{
	struct buf b;
	char tmp[64];

	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\"?>\n<advertisement xmlns=\""
	    VNSM_NS "\"");
	buf_attr(&b, "pip", a->pip);
	buf_attr(&b, "detail", advert_detail_to_string(a->detail));
	if (a->time != 0)
		buf_attr(&b, "time", units_fmt_time(a->time, tmp, sizeof(tmp)));
	buf_puts(&b, ">\n");
	for (size_t i = 0; i < a->nhosts; i++)
		host_format(&b, &a->hosts[i], 0);
	for (size_t i = 0; i < a->nlocations; i++)
		host_format(&b, &a->locations[i], 1);
	for (size_t i = 0; i < a->nlinks; i++) {
		buf_puts(&b, "  <substrate-link");
		buf_attr(&b, "from", a->links[i].from);
		buf_attr(&b, "to", a->links[i].to);
		buf_attr(&b, "bandwidth",
		    units_fmt_bw(a->links[i].bandwidth, tmp, sizeof(tmp)));
		buf_puts(&b, "/>\n");
	}
	for (size_t i = 0; i < a->npeerings; i++) {
		const struct advert_peering *p = &a->peerings[i];
		buf_puts(&b, "  <peering");
		buf_attr(&b, "pip", p->pip);
		buf_attr(&b, "host", p->host);
		buf_attr(&b, "address",
		    units_fmt_ipv4(p->address, tmp, sizeof(tmp)));
		if (p->bandwidth > 0)
			buf_attr(&b, "bandwidth",
			    units_fmt_bw(p->bandwidth, tmp, sizeof(tmp)));
		buf_puts(&b, "/>\n");
	}
	buf_puts(&b, "</advertisement>\n");
	return buf_steal(&b, NULL);
}

static void
hosts_free(struct advert_host *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(h[i].pools);
	free(h);
}

void
advert_free(struct advert *a)
{
	if (a == NULL)
		return;
	hosts_free(a->hosts, a->nhosts);
	hosts_free(a->locations, a->nlocations);
	free(a->links);
	free(a->peerings);
	free(a);
}
