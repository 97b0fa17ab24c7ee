/*
 * The Prometheus registry: families in registration order, series in
 * creation order, one mutex for the lot (updates are a few adds).
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http.h"
#include "metrics.h"

#define METRICS_NAME_MAX	128
#define METRICS_LABELS_MAX	256

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric_series {
	char labels[METRICS_LABELS_MAX];	/* "" when none */
	double value;		/* counter or gauge value */
	uint64_t *counts;	/* histogram: per bucket (not cumulative),
				   nbounds + 1 entries, owned */
	double sum;		/* histogram: sum of observations */
	uint64_t count;		/* histogram: observations */
};

struct metric {
	struct metrics *m;		/* owner (its lock) */
	struct metric *next;		/* registration order */
	char name[METRICS_NAME_MAX];
	char *help;			/* owned */
	enum metric_type type;
	double bounds[METRICS_BUCKETS_MAX];	/* increasing */
	size_t nbounds;				/* <= METRICS_BUCKETS_MAX */
	struct metric_series *series;	/* owned array */
	size_t nseries;			/* <= METRICS_SERIES_MAX */
};

struct metrics {
	pthread_mutex_t lock;		/* guards everything below */
	struct metric *first, *last;	/* families */
};

const double metrics_latency_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
const size_t metrics_latency_nbuckets = NELEM(metrics_latency_buckets);

struct metrics *
metrics_new(void)
{
	struct metrics *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
metrics_free(struct metrics *m)
{
	struct metric *f, *next;

	if (m == NULL)
		return;
	for (f = m->first; f != NULL; f = next) {
		next = f->next;
		for (size_t i = 0; i < f->nseries; i++)
			free(f->series[i].counts);
		free(f->series);
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int
metrics_name_ok(const char *name)
{
	if (name[0] == '\0' || strlen(name) >= METRICS_NAME_MAX ||
	    isdigit((unsigned char)name[0]))
		return 0;
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != ':')
			return 0;
	return 1;
}

static struct metric *
metrics_family(struct metrics *m, const char *name, const char *help,
    enum metric_type type, const double *bounds, size_t nbounds)
{
	struct metric *f;

	if (!metrics_name_ok(name)) {
		err_set(ERR_INVALID, "bad metric name '%s'", name);
		return NULL;
	}
	if (nbounds > METRICS_BUCKETS_MAX) {
		err_set(ERR_INVALID, "metric %s: more than %d buckets", name,
		    METRICS_BUCKETS_MAX);
		return NULL;
	}
	for (size_t i = 1; i < nbounds; i++)
		if (!(bounds[i] > bounds[i - 1])) {
			err_set(ERR_INVALID, "metric %s: bucket bounds must "
			    "increase", name);
			return NULL;
		}
	pthread_mutex_lock(&m->lock);
	for (f = m->first; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			break;
	if (f != NULL) {
		pthread_mutex_unlock(&m->lock);
		if (f->type != type) {
			err_set(ERR_CONFLICT, "metric %s exists with another "
			    "type", name);
			return NULL;
		}
		return f;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->help = strdup(help != NULL ? help : "")) == NULL) {
		pthread_mutex_unlock(&m->lock);
		free(f);
		err_nomem();
		return NULL;
	}
	for (char *p = f->help; *p != '\0'; p++)
		if (*p == '\n' || *p == '\\')
			*p = ' ';
	f->m = m;
	str_lcpy(f->name, name, sizeof(f->name));
	f->type = type;
	if (nbounds > 0)
		memcpy(f->bounds, bounds, nbounds * sizeof(bounds[0]));
	f->nbounds = nbounds;
	if (m->last != NULL)
		m->last->next = f;
	else
		m->first = f;
	m->last = f;
	pthread_mutex_unlock(&m->lock);
	return f;
}

struct metric *
metrics_counter(struct metrics *m, const char *name, const char *help)
{
	return metrics_family(m, name, help, METRIC_COUNTER, NULL, 0);
}

struct metric *
metrics_gauge(struct metrics *m, const char *name, const char *help)
{
	return metrics_family(m, name, help, METRIC_GAUGE, NULL, 0);
}

struct metric *
metrics_histogram(struct metrics *m, const char *name, const char *help,
    const double *bounds, size_t nbounds)
{
	return metrics_family(m, name, help, METRIC_HISTOGRAM, bounds,
	    nbounds);
}

/* Labels we can print as they are: k="v" pairs without escapes. */
static int
metrics_labels_ok(const char *l)
{
	return strlen(l) < METRICS_LABELS_MAX && strpbrk(l, "\\\n{}") == NULL;
}

/* The series for labels, made on first use; NULL when full.  Locked. */
static struct metric_series *
metrics_series(struct metric *f, const char *labels)
{
	struct metric_series *s;

	if (labels == NULL)
		labels = "";
	for (size_t i = 0; i < f->nseries; i++)
		if (strcmp(f->series[i].labels, labels) == 0)
			return &f->series[i];
	if (f->nseries == METRICS_SERIES_MAX || !metrics_labels_ok(labels))
		return NULL;
	if ((s = reallocarray(f->series, f->nseries + 1, sizeof(*s))) == NULL)
		return NULL;
	f->series = s;
	s = &f->series[f->nseries];
	memset(s, 0, sizeof(*s));
	if (f->type == METRIC_HISTOGRAM &&
	    (s->counts = calloc(f->nbounds + 1, sizeof(*s->counts))) == NULL)
		return NULL;
	str_lcpy(s->labels, labels, sizeof(s->labels));
	f->nseries++;
	return s;
}

void
metric_add(struct metric *f, const char *labels, double v)
{
	struct metric_series *s;

	if (f == NULL || f->type == METRIC_HISTOGRAM ||
	    (f->type == METRIC_COUNTER && !(v >= 0)))
		return;
	pthread_mutex_lock(&f->m->lock);
	if ((s = metrics_series(f, labels)) != NULL)
		s->value += v;
	pthread_mutex_unlock(&f->m->lock);
}

void
metric_set(struct metric *f, const char *labels, double v)
{
	struct metric_series *s;

	if (f == NULL || f->type != METRIC_GAUGE)
		return;
	pthread_mutex_lock(&f->m->lock);
	if ((s = metrics_series(f, labels)) != NULL)
		s->value = v;
	pthread_mutex_unlock(&f->m->lock);
}

void
metric_observe(struct metric *f, const char *labels, double v)
{
	struct metric_series *s;
	size_t b = 0;

	if (f == NULL || f->type != METRIC_HISTOGRAM || isnan(v))
		return;
	while (b < f->nbounds && v > f->bounds[b])
		b++;
	pthread_mutex_lock(&f->m->lock);
	if ((s = metrics_series(f, labels)) != NULL) {
		s->counts[b]++;
		s->count++;
		s->sum += v;
	}
	pthread_mutex_unlock(&f->m->lock);
}

double
metric_value(struct metric *f, const char *labels)
{
	double v = 0;

	if (f == NULL || f->type == METRIC_HISTOGRAM)
		return 0;
	if (labels == NULL)
		labels = "";
	pthread_mutex_lock(&f->m->lock);
	for (size_t i = 0; i < f->nseries; i++)
		if (strcmp(f->series[i].labels, labels) == 0)
			v = f->series[i].value;
	pthread_mutex_unlock(&f->m->lock);
	return v;
}

/* name{labels} or name{labels,extra} or name, for one sample line. */
static void
metrics_sample(FILE *fp, const char *name, const char *suffix,
    const char *labels, const char *extra, double v)
{
	int any = labels[0] != '\0' || extra != NULL;

	fprintf(fp, "%s%s%s%s%s%s%s %.17g\n", name, suffix, any ? "{" : "",
	    labels, labels[0] != '\0' && extra != NULL ? "," : "",
	    extra != NULL ? extra : "", any ? "}" : "", v);
}

static void
metrics_write(FILE *fp, const struct metric *f)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	char le[64];

	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
	    f->name, types[f->type]);
	for (size_t i = 0; i < f->nseries; i++) {
		const struct metric_series *s = &f->series[i];
		uint64_t cum = 0;

		if (f->type != METRIC_HISTOGRAM) {
			metrics_sample(fp, f->name, "", s->labels, NULL,
			    s->value);
			continue;
		}
		for (size_t b = 0; b < f->nbounds; b++) {
			cum += s->counts[b];
			snprintf(le, sizeof(le), "le=\"%g\"", f->bounds[b]);
			metrics_sample(fp, f->name, "_bucket", s->labels, le,
			    (double)cum);
		}
		metrics_sample(fp, f->name, "_bucket", s->labels,
		    "le=\"+Inf\"", (double)s->count);
		metrics_sample(fp, f->name, "_sum", s->labels, NULL, s->sum);
		metrics_sample(fp, f->name, "_count", s->labels, NULL,
		    (double)s->count);
	}
}

char *
metrics_format(struct metrics *m, size_t *len)
{
	char *buf = NULL;
	FILE *fp;

	if ((fp = open_memstream(&buf, len)) == NULL)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (const struct metric *f = m->first; f != NULL; f = f->next)
		metrics_write(fp, f);
	pthread_mutex_unlock(&m->lock);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void
metrics_handler(struct http_request *req, void *arg)
{
	struct metrics *m = arg;
	size_t len;
	char *text;

	if ((text = metrics_format(m, &len)) == NULL) {
		err_nomem();
		http_reply_error(req);
		return;
	}
	http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    len);
	free(text);
}
