/*
 * pipd's metric families (Prometheus text on GET /metrics): requests by
 * operation, admission decisions and their latency, allocations, step
 * times of provisioning, slices by state, hosts by state.
 */
#include <stdio.h>

#include "metrics.h"
#include "pipd.h"

/* Step times from a millisecond to a minute, in seconds. */
static const double step_buckets[] = { 0.001, 0.005, 0.01, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
/* Admission decisions: 10 us .. 1 s. */
static const double admit_buckets[] = { 0.00001, 0.00005, 0.0001,
	0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1 };

int
pmetrics_init(struct pipd *pd)
{
	struct metrics *m = pd->m;

	if ((pd->m_requests = metrics_counter(m, "pipd_requests_total",
	    "API requests by operation")) == NULL ||
	    (pd->m_admit = metrics_counter(m, "pipd_admission_total",
	    "Admission decisions (refusals by the resource that fell "
	    "short)")) == NULL ||
	    (pd->m_admit_s = metrics_histogram(m, "pipd_admission_seconds",
	    "Time to decide an admission, mapping included", admit_buckets,
	    NELEM(admit_buckets))) == NULL ||
	    (pd->m_allocs = metrics_counter(m, "pipd_allocations_total",
	    "Allocations by result (allocated, refused, released, "
	    "expired)")) == NULL ||
	    (pd->m_slices = metrics_gauge(m, "pipd_slices",
	    "Slices by state")) == NULL ||
	    (pd->m_step_s = metrics_histogram(m,
	    "pipd_provision_step_seconds", "Provisioning step times "
	    "(virtualization, topology per host; provision, update whole)",
	    step_buckets, NELEM(step_buckets))) == NULL ||
	    (pd->m_hosts = metrics_gauge(m, "pipd_hosts",
	    "Hosts by state")) == NULL ||
	    (pd->m_reports = metrics_counter(m, "pipd_reports_total",
	    "Agent reports accepted")) == NULL ||
	    (pd->m_orphans = metrics_counter(m,
	    "pipd_reconcile_fixes_total",
	    "Host slices fixed or removed by reconciliation")) == NULL)
		return -1;
	pmetrics_hosts(pd);
	pmetrics_slices(pd);
	return 0;
}

void
pmetrics_slices(struct pipd *pd)
{
	static const enum vnet_state st[] = { VS_ALLOCATED, VS_PROVISIONING,
		VS_READY, VS_DELETING };
	char labels[48];

	if (pd->m_slices == NULL)
		return;
	for (size_t i = 0; i < NELEM(st); i++) {
		unsigned n = 0;

		for (const struct pslice *ps = pd->slices; ps != NULL;
		    ps = ps->next)
			n += ps->state == st[i];
		snprintf(labels, sizeof(labels), "state=\"%s\"",
		    vnet_state_to_string(st[i]));
		metric_set(pd->m_slices, labels, n);
	}
}

void
pmetrics_hosts(struct pipd *pd)
{
	char labels[48];

	if (pd->m_hosts == NULL)
		return;
	for (int s = 0; s < HOST_STATE_LAST; s++) {
		unsigned n = 0;

		for (size_t i = 0; i < pd->nhosts; i++)
			n += pd->hosts[i].state == (enum host_state)s;
		snprintf(labels, sizeof(labels), "state=\"%s\"",
		    host_state_name((enum host_state)s));
		metric_set(pd->m_hosts, labels, n);
	}
}
