/*
 * Inventory: what each host and substrate link has, what slices reserve
 * on it, and whether its agent is alive.  Capacity comes from the
 * agent's reports, or from the configuration until the first report.  A
 * host whose agent missed reports for report-timeout is down: it is no
 * longer offered, and its nodes show degraded.  The advertisement is
 * built here, per VNP policy.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "pipd.h"
#include "report.h"

static const char *const host_state_names[] = { "unknown", "up", "down" };

const char *
host_state_name(enum host_state s)
{
	return (unsigned)s < HOST_STATE_LAST ? host_state_names[s] : "?";
}

/* Set up hosts and links from the configuration; 0 or -1. */
int
inventory_init(struct pipd *pd)
{
	const struct pipd_conf *c = pd->conf;

	pd->nhosts = c->nhosts;
	pd->nlinks = c->nlinks;
	pd->hosts = calloc(c->nhosts + 1, sizeof(*pd->hosts));
	pd->links = calloc(c->nlinks + 1, sizeof(*pd->links));
	if (pd->hosts == NULL || pd->links == NULL)
		return err_nomem();
	for (size_t i = 0; i < c->nhosts; i++) {
		struct pipd_host *h = &pd->hosts[i];

		h->conf = &c->hosts[i];
		h->state = HOST_UNKNOWN;
		h->cpu = h->conf->cpu;
		h->memory = h->conf->memory;
		h->interfaces = h->conf->interfaces;
		h->kinds = h->conf->kinds;
		h->underlay = h->conf->underlay;
	}
	for (size_t i = 0; i < c->nlinks; i++)
		pd->links[i].conf = &c->links[i];
	return 0;
}

void
inventory_free(struct pipd *pd)
{
	for (size_t i = 0; i < pd->nhosts; i++)
		report_free(pd->hosts[i].report);
	free(pd->hosts);
	free(pd->links);
	pd->hosts = NULL;
	pd->links = NULL;
}

/* A host may be given new work: not down, and it runs something. */
int
inventory_offered(const struct pipd *pd, int h)
{
	const struct pipd_host *ho = &pd->hosts[h];

	return ho->state != HOST_DOWN && ho->kinds != 0 && ho->memory > 0;
}

/* CPU capacity with the overcommit ratio, milli-cores. */
uint64_t
host_cpu_cap(const struct pipd *pd, int h)
{
	return (uint64_t)pd->hosts[h].cpu * pd->conf->overcommit / 1000;
}

static uint64_t
sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

uint64_t
host_cpu_free(const struct pipd *pd, int h)
{
	return sat_sub(host_cpu_cap(pd, h), pd->hosts[h].cpu_used);
}

uint64_t
host_mem_free(const struct pipd *pd, int h)
{
	return sat_sub(pd->hosts[h].memory, pd->hosts[h].mem_used);
}

uint64_t
host_if_free(const struct pipd *pd, int h)
{
	return sat_sub(pd->hosts[h].interfaces, pd->hosts[h].if_used);
}

uint64_t
link_bw_free(const struct pipd *pd, int l)
{
	return sat_sub(pd->links[l].conf->bandwidth, pd->links[l].bw_used);
}

/* The substrate link joining hosts a and b, or -1. */
int
inventory_link(const struct pipd *pd, int a, int b)
{
	for (size_t i = 0; i < pd->nlinks; i++) {
		const struct pipd_link_conf *l = pd->links[i].conf;

		if ((l->a == a && l->b == b) || (l->a == b && l->b == a))
			return (int)i;
	}
	return -1;
}

static void
host_set_state(struct pipd *pd, int h, enum host_state st)
{
	struct pipd_host *ho = &pd->hosts[h];

	if (ho->state == st)
		return;
	if (st == HOST_DOWN)
		log_warnx("host %s is down: no report for %u ms",
		    ho->conf->name, pd->conf->down_ms);
	else
		log_info("host %s is %s", ho->conf->name,
		    host_state_name(st));
	ho->state = st;
	pmetrics_hosts(pd);
}

/*
 * A report from the agent peer (its certificate CN).  Only a configured
 * host may report, and only about itself.  Returns 0 or -1 with an error
 * recorded (the report then changes nothing).
 */
int
inventory_report(struct pipd *pd, const char *peer, const char *body,
    size_t len)
{
	struct report *r;
	struct pipd_host *ho;
	unsigned kinds = 0;
	int h;

	if ((h = config_host(pd->conf, peer)) < 0)
		return err_set(ERR_FORBIDDEN, "agent '%s' is not a host of "
		    "PIP '%s'", peer, pd->conf->name);
	if ((r = report_parse(body, len, "report")) == NULL)
		return -1;
	if (strcmp(r->host, peer) != 0) {
		err_set(ERR_FORBIDDEN, "agent '%s' reports about host '%s'",
		    peer, r->host);
		report_free(r);
		return -1;
	}
	if (strcmp(r->pip, pd->conf->name) != 0) {
		err_set(ERR_INVALID, "host '%s' reports for PIP '%s', but "
		    "this is PIP '%s'", peer, r->pip, pd->conf->name);
		report_free(r);
		return -1;
	}
	ho = &pd->hosts[h];
	for (size_t i = 0; i < r->ndrivers; i++)
		kinds |= r->drivers[i].kinds;
	ho->cpu = r->capacity.cpu;
	ho->memory = r->capacity.memory;
	ho->interfaces = r->capacity.interfaces;
	ho->kinds = kinds;
	/* The configured underlay wins; else the first reported address. */
	if (ho->conf->underlay == 0) {
		for (size_t i = 0; i < r->nifaces; i++)
			if (r->ifaces[i].has_addr) {
				ho->underlay = r->ifaces[i].addr.addr;
				break;
			}
	}
	report_free(ho->report);
	ho->report = r;
	ho->last_ms = (uint64_t)now_ms();
	metric_add(pd->m_reports, NULL, 1);
	host_set_state(pd, h, HOST_UP);
	provision_reconcile(pd, h, r);
	return 0;
}

/* Once a second: mark silent hosts down. */
void
inventory_tick(struct pipd *pd)
{
	uint64_t now = (uint64_t)now_ms();

	for (size_t i = 0; i < pd->nhosts; i++)
		if (pd->hosts[i].state == HOST_UP &&
		    now - pd->hosts[i].last_ms > pd->conf->down_ms)
			host_set_state(pd, (int)i, HOST_DOWN);
}

/* Pools the host reported, as advertisement pools. */
static void
advert_pools(const struct pipd_host *ho, struct advert_host *ah)
{
	const struct report *r = ho->report;

	if (r == NULL || r->npools == 0)
		return;
	if ((ah->pools = calloc(r->npools, sizeof(*ah->pools))) == NULL)
		return;
	for (size_t i = 0; i < r->npools; i++) {
		ah->pools[i].kind = r->pools[i].kind;
		str_lcpy(ah->pools[i].image, r->pools[i].image,
		    sizeof(ah->pools[i].image));
		ah->pools[i].depth = r->pools[i].depth;
	}
	ah->npools = r->npools;
}

static uint32_t
clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void
advert_fill(const struct pipd *pd, struct advert *a, enum advert_detail d)
{
	const struct pipd_conf *c = pd->conf;

	for (size_t i = 0; i < pd->nhosts && d == ADV_FULL; i++) {
		struct advert_host *ah;

		if (!inventory_offered(pd, (int)i))
			continue;
		ah = &a->hosts[a->nhosts++];
		str_lcpy(ah->name, c->hosts[i].name, sizeof(ah->name));
		str_lcpy(ah->location, c->hosts[i].location,
		    sizeof(ah->location));
		ah->cpu = clamp32(host_cpu_free(pd, (int)i));
		ah->memory = host_mem_free(pd, (int)i);
		ah->interfaces = (unsigned)host_if_free(pd, (int)i);
		ah->kinds = pd->hosts[i].kinds;
		advert_pools(&pd->hosts[i], ah);
	}
	for (size_t i = 0; i < pd->nhosts && d == ADV_AGGREGATE; i++) {
		struct advert_host *al = NULL;
		const char *loc = c->hosts[i].location[0] != '\0' ?
		    c->hosts[i].location : "unknown";

		if (!inventory_offered(pd, (int)i))
			continue;
		for (size_t k = 0; k < a->nlocations; k++)
			if (strcmp(a->locations[k].name, loc) == 0)
				al = &a->locations[k];
		if (al == NULL) {
			al = &a->locations[a->nlocations++];
			str_lcpy(al->name, loc, sizeof(al->name));
		}
		al->hosts++;
		al->cpu = clamp32((uint64_t)al->cpu +
		    host_cpu_free(pd, (int)i));
		al->memory += host_mem_free(pd, (int)i);
		al->interfaces += (unsigned)host_if_free(pd, (int)i);
		al->kinds |= pd->hosts[i].kinds;
	}
	for (size_t i = 0; i < pd->nlinks && d == ADV_FULL; i++) {
		const struct pipd_link_conf *l = pd->links[i].conf;
		struct advert_link *al;

		if (!inventory_offered(pd, l->a) ||
		    !inventory_offered(pd, l->b))
			continue;
		al = &a->links[a->nlinks++];
		str_lcpy(al->from, c->hosts[l->a].name, sizeof(al->from));
		str_lcpy(al->to, c->hosts[l->b].name, sizeof(al->to));
		al->bandwidth = link_bw_free(pd, (int)i);
	}
	for (size_t i = 0; i < c->npeerings && d != ADV_NONE; i++) {
		const struct pipd_peering_conf *p = &c->peerings[i];
		struct advert_peering *ap = &a->peerings[a->npeerings++];

		str_lcpy(ap->pip, p->pip, sizeof(ap->pip));
		str_lcpy(ap->host, c->hosts[p->host].name, sizeof(ap->host));
		ap->address = p->address;
		ap->bandwidth = p->bandwidth;
	}
}

/*
 * The advertisement a VNP may see, as a document in a buffer the caller
 * frees (*lenp its length).  NULL with an error recorded.
 */
char *
inventory_advert(struct pipd *pd, const char *vnp, size_t *lenp)
{
	struct advert a;
	enum advert_detail d = config_detail(pd->conf, vnp);
	char *doc;

	memset(&a, 0, sizeof(a));
	str_lcpy(a.pip, pd->conf->name, sizeof(a.pip));
	a.detail = d;
	a.time = pd->clock();
	a.hosts = calloc(pd->nhosts + 1, sizeof(*a.hosts));
	a.locations = calloc(pd->nhosts + 1, sizeof(*a.locations));
	a.links = calloc(pd->nlinks + 1, sizeof(*a.links));
	a.peerings = calloc(pd->conf->npeerings + 1, sizeof(*a.peerings));
	if (a.hosts == NULL || a.locations == NULL || a.links == NULL ||
	    a.peerings == NULL) {
		err_nomem();
		doc = NULL;
	} else {
		advert_fill(pd, &a, d);
		doc = advert_format(&a);
	}
	for (size_t i = 0; i < a.nhosts; i++)
		free(a.hosts[i].pools);
	free(a.hosts);
	free(a.locations);
	free(a.links);
	free(a.peerings);
	if (doc != NULL && lenp != NULL)
		*lenp = strlen(doc);
	return doc;
}
