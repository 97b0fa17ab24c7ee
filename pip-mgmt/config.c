/*
 * pipd's configuration: the listener and keys, the PIP's name, leases,
 * the CPU overcommit ratio, agent liveness, and the substrate itself —
 * hosts, links between them, peering points, per-VNP advertisement
 * policy.  See pipd(8) for every key.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "error.h"
#include "pipd.h"
#include "units.h"

/* "2", "2s", "500ms" -> milliseconds in [min, max]. */
static int
conf_ms(struct conf_section *s, const char *key, unsigned def,
    unsigned min, unsigned max, unsigned *out)
{
	const char *v;
	char *end;
	double d;

	if (conf_str(s, key, NULL, &v) == -1)
		return -1;
	if (v == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	d = strtod(v, &end);
	if (end == v || errno != 0 || !isfinite(d) || d < 0)
		return conf_error(s, key, "'%s' is not a duration (use e.g. "
		    "2, 2s or 500ms)", v);
	if (strcmp(end, "ms") == 0)
		;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		d *= 1000;
	else
		return conf_error(s, key, "'%s' has an unknown unit (use s "
		    "or ms)", v);
	if (d < min || d > max)
		return conf_error(s, key, "'%s' is out of range (%u ms .. "
		    "%u ms)", v, min, max);
	*out = (unsigned)d;
	return 0;
}

/* A string key copied into a fixed buffer; too long is an error. */
static int
conf_copy(struct conf_section *s, const char *key, const char *def,
    char *dst, size_t size, int required)
{
	const char *v;

	if (conf_str(s, key, def, &v) == -1)
		return -1;
	if (v == NULL) {
		dst[0] = '\0';
		if (required)
			return conf_error(s, key, "'%s' is required", key);
		return 0;
	}
	if (str_lcpy(dst, v, size) >= size)
		return conf_error(s, key, "'%s' is too long (at most %zu "
		    "bytes)", v, size - 1);
	return 0;
}

static int
conf_ipv4(struct conf_section *s, const char *key, uint32_t *out,
    int required)
{
	const char *v;

	*out = 0;
	if (conf_str(s, key, NULL, &v) == -1)
		return -1;
	if (v == NULL)
		return required ? conf_error(s, key, "'%s' is required",
		    key) : 0;
	if (units_parse_ipv4(v, out) == -1)
		return conf_error(s, key, "'%s' is not an IPv4 address", v);
	return 0;
}

static int
conf_detail(struct conf_section *s, enum advert_detail def,
    enum advert_detail *out)
{
	const char *v;
	int d;

	if (conf_str(s, "advertise", NULL, &v) == -1)
		return -1;
	if (v == NULL) {
		*out = def;
		return 0;
	}
	if ((d = advert_detail_from_string(v)) < 0)
		return conf_error(s, "advertise", "'%s' is not a policy (use "
		    "full, aggregate or none)", v);
	*out = (enum advert_detail)d;
	return 0;
}

static int
conf_section_name_ok(struct conf_section *s, const char *what)
{
	const char *n = conf_section_name(s);

	if (!name_valid(n))
		return conf_error(s, conf_section_type(s), "%s '%s' is not a valid name",
		    what, n);
	return 0;
}

int
config_host(const struct pipd_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nhosts; i++)
		if (strcmp(c->hosts[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
config_global(struct conf_section *g, struct pipd_conf *c)
{
	const char *v;
	long long n;
	int rc = 0;

	if (conf_copy(g, "listen", "*:8443", c->listen, sizeof(c->listen),
	    0) == -1 ||
	    conf_copy(g, "ca", "/etc/vnsm/ca.crt", c->ca, sizeof(c->ca),
	    0) == -1 ||
	    conf_copy(g, "cert", "/etc/vnsm/pipd.crt", c->cert,
	    sizeof(c->cert), 0) == -1 ||
	    conf_copy(g, "key", "/etc/vnsm/pipd.key", c->key,
	    sizeof(c->key), 0) == -1 ||
	    conf_copy(g, "crl", NULL, c->crl, sizeof(c->crl), 0) == -1 ||
	    conf_copy(g, "state", "/var/lib/vnsm/pipd.db", c->state,
	    sizeof(c->state), 0) == -1 ||
	    conf_copy(g, "pidfile", "/var/run/pipd.pid", c->pidfile,
	    sizeof(c->pidfile), 0) == -1)
		rc = -1;
	if (conf_copy(g, "name", NULL, c->name, sizeof(c->name), 1) == -1)
		rc = -1;
	else if (!name_valid(c->name))
		rc = conf_error(g, "name", "'%s' is not a valid PIP name",
		    c->name);
	if (conf_parse_addr(c->listen, &(struct sockaddr_storage){0},
	    &(socklen_t){0}) == -1)
		rc = conf_error(g, "listen", "'%s' is not ADDR:PORT",
		    c->listen);
	if (conf_int(g, "lease", 600, 1, 365LL * 86400, &n) == -1)
		rc = -1;
	c->lease_s = n;
	if (conf_int(g, "lease-max", 7 * 86400, 1, 10LL * 365 * 86400,
	    &n) == -1)
		rc = -1;
	c->lease_max_s = n;
	if (c->lease_max_s < c->lease_s)
		rc = conf_error(g, "lease-max", "lease-max (%lld s) is "
		    "shorter than lease (%lld s)", (long long)c->lease_max_s,
		    (long long)c->lease_s);
	if (conf_str(g, "cpu-overcommit", "1.0", &v) == -1)
		rc = -1;
	else {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (end == v || *end != '\0' || errno != 0 || !isfinite(d) ||
		    d < 0.1 || d > 100)
			rc = conf_error(g, "cpu-overcommit", "'%s' is not a "
			    "ratio between 0.1 and 100", v);
		else
			c->overcommit = (unsigned)lround(d * 1000);
	}
	if (conf_ms(g, "report-interval", 2000, 10, 3600000,
	    &c->report_ms) == -1)
		rc = -1;
	if (conf_ms(g, "report-timeout", 3 * c->report_ms, 10, 3 * 3600000,
	    &c->down_ms) == -1)
		rc = -1;
	if (conf_ms(g, "agent-timeout", 30000, 100, 3600000,
	    &c->agent_timeout_ms) == -1)
		rc = -1;
	if (conf_detail(g, ADV_FULL, &c->detail) == -1)
		rc = -1;
	if (conf_bool(g, "colocate", 1, &c->colocate) == -1)
		rc = -1;
	return rc;
}

static int
config_one_host(struct conf_section *s, struct pipd_host_conf *h)
{
	const char *v;
	int rc = 0;

	h->line = conf_section_line(s);
	if (conf_section_name_ok(s, "host") == -1)
		rc = -1;
	str_lcpy(h->name, conf_section_name(s), sizeof(h->name));
	if (conf_copy(s, "agent", NULL, h->agent, sizeof(h->agent),
	    0) == -1)
		rc = -1;
	else if (h->agent[0] != '\0' && conf_parse_addr(h->agent,
	    &(struct sockaddr_storage){0}, &(socklen_t){0}) == -1)
		rc = conf_error(s, "agent", "'%s' is not ADDR:PORT",
		    h->agent);
	if (conf_ipv4(s, "underlay", &h->underlay, 0) == -1)
		rc = -1;
	if (conf_copy(s, "location", NULL, h->location,
	    sizeof(h->location), 0) == -1)
		rc = -1;
	else if (h->location[0] != '\0' && !name_valid(h->location))
		rc = conf_error(s, "location", "'%s' is not a valid name",
		    h->location);
	if (conf_str(s, "cpu", "0", &v) == -1)
		rc = -1;
	else if (units_parse_cpu(v, &h->cpu) == -1)
		rc = conf_error(s, "cpu", "'%s' is not a CPU amount (cores, "
		    "e.g. 4 or 2.5)", v);
	if (conf_str(s, "memory", "0", &v) == -1)
		rc = -1;
	else if (units_parse_mem(v, &h->memory) == -1)
		rc = conf_error(s, "memory", "'%s' is not a memory size "
		    "(e.g. 16GiB)", v);
	if (conf_str(s, "interfaces", "0", &v) == -1)
		rc = -1;
	else {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (end == v || *end != '\0' || errno != 0 || n > 1000000)
			rc = conf_error(s, "interfaces", "'%s' is not a "
			    "number of interfaces", v);
		h->interfaces = (unsigned)n;
	}
	if (conf_str(s, "kinds", "netns", &v) == -1)
		rc = -1;
	else if (kinds_parse(v, &h->kinds) == -1)
		rc = conf_error(s, "kinds", "'%s' names an unknown kind (use "
		    "netns, container, vm, gateway)", v);
	return rc;
}

static int
config_one_link(struct conf_section *s, struct pipd_conf *c,
    struct pipd_link_conf *l)
{
	const char *from, *to, *v;
	int rc = 0;

	if (conf_section_name_ok(s, "link") == -1)
		rc = -1;
	str_lcpy(l->name, conf_section_name(s), sizeof(l->name));
	l->a = l->b = -1;
	if (conf_str(s, "from", NULL, &from) == -1 ||
	    conf_str(s, "to", NULL, &to) == -1)
		return -1;
	if (from == NULL || to == NULL)
		return conf_error(s, from == NULL ? "from" : "to",
		    "a link needs 'from' and 'to' hosts");
	if ((l->a = config_host(c, from)) < 0)
		rc = conf_error(s, "from", "no [host %s] section", from);
	if ((l->b = config_host(c, to)) < 0)
		rc = conf_error(s, "to", "no [host %s] section", to);
	if (rc == 0 && l->a == l->b)
		rc = conf_error(s, "to", "link '%s' joins host '%s' to "
		    "itself", l->name, to);
	if (conf_str(s, "bandwidth", NULL, &v) == -1)
		rc = -1;
	else if (v == NULL)
		rc = conf_error(s, "bandwidth", "link '%s' needs a bandwidth",
		    l->name);
	else if (units_parse_bw(v, &l->bandwidth) == -1)
		rc = conf_error(s, "bandwidth", "'%s' is not a bandwidth "
		    "(e.g. 1Gbit)", v);
	return rc;
}

static int
config_one_peering(struct conf_section *s, struct pipd_conf *c,
    struct pipd_peering_conf *p)
{
	const char *host, *v;
	int rc = 0;

	if (conf_section_name_ok(s, "peering") == -1)
		rc = -1;
	str_lcpy(p->pip, conf_section_name(s), sizeof(p->pip));
	p->host = -1;
	if (conf_str(s, "host", NULL, &host) == -1)
		return -1;
	if (host == NULL)
		rc = conf_error(s, "host", "a peering needs our 'host'");
	else if ((p->host = config_host(c, host)) < 0)
		rc = conf_error(s, "host", "no [host %s] section", host);
	if (conf_ipv4(s, "address", &p->address, 0) == -1)
		rc = -1;
	if (p->address == 0 && p->host >= 0)
		p->address = c->hosts[p->host].underlay;
	if (conf_str(s, "bandwidth", "0", &v) == -1)
		rc = -1;
	else if (units_parse_bw(v, &p->bandwidth) == -1)
		rc = conf_error(s, "bandwidth", "'%s' is not a bandwidth", v);
	return rc;
}

/* Count sections of a type, to size the arrays once. */
static size_t
count_sections(struct conf *cf, const char *type)
{
	struct conf_section *s = NULL;
	size_t n = 0;

	while ((s = conf_next(cf, s, type)) != NULL)
		n++;
	return n;
}

static struct pipd_conf *
config_build(struct conf *cf)
{
	struct pipd_conf *c;
	struct conf_section *s;
	size_t i;
	int rc = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_nomem();
		return NULL;
	}
	c->nhosts = count_sections(cf, "host");
	c->nlinks = count_sections(cf, "link");
	c->npeerings = count_sections(cf, "peering");
	c->npolicies = count_sections(cf, "vnp");
	c->hosts = calloc(c->nhosts + 1, sizeof(*c->hosts));
	c->links = calloc(c->nlinks + 1, sizeof(*c->links));
	c->peerings = calloc(c->npeerings + 1, sizeof(*c->peerings));
	c->policies = calloc(c->npolicies + 1, sizeof(*c->policies));
	if (c->hosts == NULL || c->links == NULL || c->peerings == NULL ||
	    c->policies == NULL) {
		err_nomem();
		config_free(c);
		return NULL;
	}
	if (config_global(conf_global(cf), c) == -1)
		rc = -1;
	for (i = 0, s = NULL; (s = conf_next(cf, s, "host")) != NULL; i++) {
		if (config_one_host(s, &c->hosts[i]) == -1)
			rc = -1;
		else if (config_host(c, c->hosts[i].name) != (int)i)
			rc = conf_error(s, conf_section_type(s), "host '%s' is defined twice",
			    c->hosts[i].name);
		else if (strlen(c->name) + strlen(c->hosts[i].name) + 2 >=
		    NAME_LEN)
			rc = conf_error(s, conf_section_type(s), "host name '%s' is too long "
			    "for host slice names", c->hosts[i].name);
	}
	if (c->nhosts == 0)
		rc = conf_error(conf_global(cf), "host", "no [host NAME] "
		    "section: a PIP needs at least one host");
	for (i = 0, s = NULL; (s = conf_next(cf, s, "link")) != NULL; i++) {
		if (config_one_link(s, c, &c->links[i]) == -1) {
			rc = -1;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const struct pipd_link_conf *o = &c->links[j];

			if ((o->a == c->links[i].a && o->b == c->links[i].b) ||
			    (o->a == c->links[i].b && o->b == c->links[i].a))
				rc = conf_error(s, conf_section_type(s), "link '%s' joins the "
				    "same hosts as link '%s'", c->links[i].name,
				    o->name);
		}
	}
	for (i = 0, s = NULL; (s = conf_next(cf, s, "peering")) != NULL; i++)
		if (config_one_peering(s, c, &c->peerings[i]) == -1)
			rc = -1;
	for (i = 0, s = NULL; (s = conf_next(cf, s, "vnp")) != NULL; i++) {
		struct pipd_policy_conf *p = &c->policies[i];

		if (str_lcpy(p->vnp, conf_section_name(s), sizeof(p->vnp)) >=
		    sizeof(p->vnp) || p->vnp[0] == '\0')
			rc = conf_error(s, conf_section_type(s), "[vnp NAME] needs the VNP's "
			    "certificate name");
		if (conf_detail(s, c->detail, &p->detail) == -1)
			rc = -1;
	}
	if (rc == 0 && conf_check_unused(cf) == -1)
		rc = -1;
	if (rc == -1) {
		config_free(c);
		return NULL;
	}
	return c;
}

/*
 * Read and check a configuration.  Returns it (free with config_free())
 * or NULL with one "FILE:LINE: ..." error per problem recorded.
 */
struct pipd_conf *
config_load(const char *path)
{
	struct pipd_conf *c;
	struct conf *cf;

	if ((cf = conf_load(path)) == NULL)
		return NULL;
	c = config_build(cf);
	conf_free(cf);
	return c;
}

struct pipd_conf *
config_parse(const char *name, const char *text, size_t len)
{
	struct pipd_conf *c;
	struct conf *cf;

	if ((cf = conf_parse(name, text, len)) == NULL)
		return NULL;
	c = config_build(cf);
	conf_free(cf);
	return c;
}

void
config_free(struct pipd_conf *c)
{
	if (c == NULL)
		return;
	free(c->hosts);
	free(c->links);
	free(c->peerings);
	free(c->policies);
	free(c);
}

/* The advertisement policy for a VNP (by certificate name). */
enum advert_detail
config_detail(const struct pipd_conf *c, const char *vnp)
{
	for (size_t i = 0; i < c->npolicies; i++)
		if (strcmp(c->policies[i].vnp, vnp) == 0)
			return c->policies[i].detail;
	return c->detail;
}

/* The configuration as understood, in the file's own syntax (-n -v). */
void
config_print(FILE *fp, const struct pipd_conf *c)
{
	char a[64], b[64];

	fprintf(fp, "name %s\nlisten %s\nca %s\ncert %s\nkey %s\n", c->name,
	    c->listen, c->ca, c->cert, c->key);
	if (c->crl[0] != '\0')
		fprintf(fp, "crl %s\n", c->crl);
	fprintf(fp, "state %s\npidfile %s\nlease %lld\nlease-max %lld\n",
	    c->state, c->pidfile, (long long)c->lease_s,
	    (long long)c->lease_max_s);
	fprintf(fp, "cpu-overcommit %u.%03u\nreport-interval %ums\n"
	    "report-timeout %ums\nagent-timeout %ums\nadvertise %s\n"
	    "colocate %s\n", c->overcommit / 1000, c->overcommit % 1000,
	    c->report_ms, c->down_ms, c->agent_timeout_ms,
	    advert_detail_to_string(c->detail), c->colocate ? "yes" : "no");
	for (size_t i = 0; i < c->nhosts; i++) {
		const struct pipd_host_conf *h = &c->hosts[i];

		fprintf(fp, "\n[host %s]\n", h->name);
		if (h->agent[0] != '\0')
			fprintf(fp, "agent %s\n", h->agent);
		if (h->underlay != 0)
			fprintf(fp, "underlay %s\n",
			    units_fmt_ipv4(h->underlay, a, sizeof(a)));
		if (h->location[0] != '\0')
			fprintf(fp, "location %s\n", h->location);
		fprintf(fp, "cpu %s\nmemory %s\ninterfaces %u\nkinds %s\n",
		    units_fmt_cpu(h->cpu, a, sizeof(a)),
		    units_fmt_mem(h->memory, b, sizeof(b)), h->interfaces,
		    kinds_format(h->kinds, (char[64]){0}, 64));
	}
	for (size_t i = 0; i < c->nlinks; i++) {
		const struct pipd_link_conf *l = &c->links[i];

		fprintf(fp, "\n[link %s]\nfrom %s\nto %s\nbandwidth %s\n",
		    l->name, c->hosts[l->a].name, c->hosts[l->b].name,
		    units_fmt_bw(l->bandwidth, a, sizeof(a)));
	}
	for (size_t i = 0; i < c->npeerings; i++) {
		const struct pipd_peering_conf *p = &c->peerings[i];

		fprintf(fp, "\n[peering %s]\nhost %s\n", p->pip,
		    c->hosts[p->host].name);
		if (p->address != 0)
			fprintf(fp, "address %s\n",
			    units_fmt_ipv4(p->address, a, sizeof(a)));
		if (p->bandwidth != 0)
			fprintf(fp, "bandwidth %s\n",
			    units_fmt_bw(p->bandwidth, a, sizeof(a)));
	}
	for (size_t i = 0; i < c->npolicies; i++)
		fprintf(fp, "\n[vnp %s]\nadvertise %s\n", c->policies[i].vnp,
		    advert_detail_to_string(c->policies[i].detail));
}
