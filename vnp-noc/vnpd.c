/*
 * vnpd: the VNP's network operation centre.  main(): options,
 * configuration, state (and recovery of what a crash cut short), the
 * HTTPS API for VNOs, the workers, signals.  See vnpd.h and vnpd(8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "daemon.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "vnpd.h"
#include "xml.h"

struct vnpd *vnpd;

static void
on_reload(void *arg)
{
	struct vnpd *d = arg;

	if (http_server_reload_crl(d->srv) == -1)
		log_warnx("reload: %s", err_last()->msg);
	else
		log_info("reload: CRL re-read");
}

static int
metrics_setup(struct vnpd *d)
{
	if ((d->metrics = metrics_new()) == NULL)
		return err_nomem();
	d->m_vnets = metrics_gauge(d->metrics, "vnsm_vnpd_vnets",
	    "VNets known, by state");
	d->m_steps = metrics_histogram(d->metrics,
	    "vnsm_vnpd_step_seconds", "Time of each instantiation step, "
	    "by step", metrics_latency_buckets, metrics_latency_nbuckets);
	d->m_jobs = metrics_counter(d->metrics, "vnsm_vnpd_jobs_total",
	    "Jobs run (create, update, delete, migrate, renew, recover), "
	    "by outcome");
	if (d->m_vnets == NULL || d->m_steps == NULL || d->m_jobs == NULL)
		return -1;
	return 0;
}

/* Stop the workers (jobs under way finish) and answer what they did. */
static void
workers_stop(struct vnpd *d)
{
	pthread_mutex_lock(&d->lock);
	d->stopping = 1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < d->nworkers; i++)
		pthread_join(d->workers[i], NULL);
	d->nworkers = 0;
	/* Run the done events the workers raised; free queued jobs. */
	event_base_loop(d->base, EVLOOP_NONBLOCK);
	while (d->jobs != NULL) {
		struct job *j = d->jobs;

		d->jobs = j->next;
		if (j->req != NULL) {
			err_set(ERR_PEER, "vnpd is shutting down");
			http_reply_error(j->req);
		}
		job_free(j);
	}
	d->jobs_tail = NULL;
}

int
main(int argc, char *argv[])
{
	struct daemon_opts o;
	struct daemon_signals *sig = NULL;
	struct vnpd d;
	int pidfd = -1, rc = 1;

	if (daemon_parse_args(argc, argv, "vnpd", VNPD_CONF, &o) == -1)
		return 1;
	log_init("vnpd", o.foreground || o.check_only, o.verbose);
	xml_init();
	memset(&d, 0, sizeof(d));
	vnpd = &d;
	if ((d.conf = vnpd_conf_load(o.conf_path)) == NULL) {
		err_print(stderr);
		return 1;
	}
	if (o.check_only) {
		if (o.verbose)
			vnpd_conf_print(d.conf, stdout);
		vnpd_conf_free(d.conf);
		return 0;
	}
	if ((pidfd = daemon_pidfile_lock(d.conf->pidfile)) == -1) {
		err_print(stderr);
		goto out;
	}
	if (!o.foreground && daemon_detach() == -1) {
		err_print(stderr);
		goto out;
	}
	daemon_pidfile_write(pidfd);
	evthread_use_pthreads();
	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	if ((d.base = event_base_new()) == NULL) {
		log_warnx("cannot make the event loop");
		goto out;
	}
	if (metrics_setup(&d) == -1 || vstore_open(&d) == -1 ||
	    vstore_load(&d) == -1)
		goto fail;
	{
		struct http_server_conf sc = { .listen = d.conf->listen,
		    .tls = d.conf->tls, .metrics = d.metrics };
		struct http_client_conf cc = { .tls = d.conf->tls,
		    .timeout_ms = d.conf->timeout_ms };

		if ((d.srv = http_server_new(d.base, &sc)) == NULL ||
		    (d.client = http_client_new(d.base, &cc)) == NULL)
			goto fail;
	}
	if ((sig = daemon_signals_new(d.base, NULL, on_reload, &d)) == NULL ||
	    api_init(&d) == -1)
		goto fail;
	log_info("listening on %s (port %d), %zu PIP(s), discovery at %s by "
	    "default", d.conf->listen, http_server_port(d.srv), d.conf->npips,
	    discovery_to_string(d.conf->discovery));
	event_base_dispatch(d.base);
	log_info("stopping");
	rc = 0;
	goto stop;
fail:
	if (err_last() != NULL)
		log_warnx("%s", err_last()->msg);
	err_print(stderr);
stop:
	workers_stop(&d);
	daemon_signals_free(sig);
	http_client_free(d.client);
	http_server_free(d.srv);
	while (d.vnets != NULL) {
		struct vn *v = d.vnets;

		d.vnets = v->next;
		vn_free(v);
	}
	vstore_close(&d);
	metrics_free(d.metrics);
	if (d.base != NULL)
		event_base_free(d.base);
out:
	if (pidfd != -1)
		daemon_pidfile_remove(d.conf->pidfile, pidfd);
	vnpd_conf_free(d.conf);
	return rc;
}
