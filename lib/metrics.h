/*
 * A tiny Prometheus registry: counters, gauges and histograms with fixed
 * buckets, served in the text exposition format (version 0.0.4).
 *
 * A metric is a family (name, help, type); each distinct label string
 * ("code=\"200\"", or NULL for none) is one series of it.  Label strings
 * are written into the output as they are: callers pass fixed label
 * names and values without '"', '\\' or newlines (metrics_series()
 * refuses others).  Every function is thread-safe.
 */
#ifndef VNSM_METRICS_H
#define VNSM_METRICS_H

#include <stddef.h>

struct http_request;
struct metrics;
struct metric;

#define METRICS_BUCKETS_MAX	16	/* buckets per histogram, +Inf apart */
#define METRICS_SERIES_MAX	256	/* series per family; later ones dropped */

/* A registry; NULL when out of memory.  metrics_free(NULL) is a no-op. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/*
 * Find or make a family.  name must match [a-zA-Z_:][a-zA-Z0-9_:]*;
 * asking again for the same name returns the same family (the type must
 * match).  Histogram bounds are upper bounds in increasing order (at
 * most METRICS_BUCKETS_MAX; +Inf is implied).  Returns NULL with an
 * error recorded.  Families live as long as the registry.
 */
struct metric *metrics_counter(struct metrics *m, const char *name,
    const char *help);
struct metric *metrics_gauge(struct metrics *m, const char *name,
    const char *help);
struct metric *metrics_histogram(struct metrics *m, const char *name,
    const char *help, const double *bounds, size_t nbounds);

/* Buckets for request latency, in seconds (1 ms .. 10 s). */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_nbuckets;

/*
 * Change the series labels (NULL: none) of a family: add to a counter
 * (v >= 0) or gauge, set a gauge, observe a value into a histogram.
 * Calls on a family of the wrong type, or with bad labels, do nothing.
 */
void metric_add(struct metric *f, const char *labels, double v);
void metric_set(struct metric *f, const char *labels, double v);
void metric_observe(struct metric *f, const char *labels, double v);
/* The current value of a counter or gauge series (0 if none). */
double metric_value(struct metric *f, const char *labels);

/*
 * The registry in text format, NUL-terminated, in a buffer the caller
 * frees; *len gets its length.  NULL when out of memory.
 */
char *metrics_format(struct metrics *m, size_t *len);

/* An HTTP handler serving arg (a struct metrics *) as /metrics. */
void metrics_handler(struct http_request *req, void *arg);

#endif
