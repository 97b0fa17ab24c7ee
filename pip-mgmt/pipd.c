/*
 * pipd: the PIP management node.  main() reads the configuration, opens
 * the state, restores reservations and finishes (or undoes) what was in
 * flight, then serves the API on one event loop.  See pipd(8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "daemon.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "pipd.h"
#include "store.h"

static int64_t
wall_clock(void)
{
	return (int64_t)time(NULL);
}

/* Once a second: liveness of hosts, expiry of slices. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pipd *pd = arg;

	err_reset();
	inventory_tick(pd);
	slices_expire(pd);
	err_reset();
}

static void
on_reload(void *arg)
{
	struct pipd *pd = arg;

	if (http_server_reload_crl(pd->srv) == -1)
		log_warnx("SIGHUP: the CRL was not reloaded");
	else
		log_info("SIGHUP: CRL reloaded");
}

static int
serve(struct pipd *pd)
{
	struct http_server_conf hc;
	struct http_client_conf cc;
	struct timeval tv = { 1, 0 };
	const struct pipd_conf *c = pd->conf;

	memset(&hc, 0, sizeof(hc));
	hc.listen = c->listen;
	hc.tls.ca_file = c->ca;
	hc.tls.cert_file = c->cert;
	hc.tls.key_file = c->key;
	hc.tls.crl_file = c->crl[0] != '\0' ? c->crl : NULL;
	hc.metrics = pd->m;
	if ((pd->srv = http_server_new(pd->base, &hc)) == NULL ||
	    api_init(pd) == -1)
		return -1;
	memset(&cc, 0, sizeof(cc));
	cc.tls = hc.tls;
	cc.timeout_ms = (int)c->agent_timeout_ms;
	if ((pd->cli = http_client_new(pd->base, &cc)) == NULL)
		return -1;
	if ((pd->tick = event_new(pd->base, -1, EV_PERSIST, on_tick,
	    pd)) == NULL || event_add(pd->tick, &tv) == -1)
		return err_nomem();
	log_info("PIP %s listening on %s (port %d), %zu hosts, %zu links, "
	    "%zu slices", c->name, c->listen, http_server_port(pd->srv),
	    pd->nhosts, pd->nlinks, (size_t)0);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct daemon_opts o;
	struct daemon_signals *sig = NULL;
	struct pipd pd;
	int pidfd = -1, rc = 1;

	if (daemon_parse_args(argc, argv, "pipd", PIPD_CONF, &o) == -1)
		return 1;
	log_init("pipd", o.foreground || o.check_only, o.verbose);
	memset(&pd, 0, sizeof(pd));
	pd.clock = wall_clock;
	if ((pd.conf = config_load(o.conf_path)) == NULL) {
		err_print(stderr);
		return 1;
	}
	if (o.check_only) {
		if (o.verbose)
			config_print(stdout, pd.conf);
		config_free(pd.conf);
		return 0;
	}
	if ((pidfd = daemon_pidfile_lock(pd.conf->pidfile)) == -1)
		goto out;
	if (!o.foreground && daemon_detach() == -1)
		goto out;
	daemon_pidfile_write(pidfd);
	if ((pd.base = event_base_new()) == NULL) {
		err_nomem();
		goto out;
	}
	if ((pd.m = metrics_new()) == NULL) {
		err_nomem();
		goto out;
	}
	if (inventory_init(&pd) == -1 || pmetrics_init(&pd) == -1 ||
	    pstore_open(&pd) == -1 || slices_load(&pd) == -1)
		goto out;
	if (serve(&pd) == -1)
		goto out;
	provision_recover(&pd);
	if ((sig = daemon_signals_new(pd.base, NULL, on_reload, &pd)) == NULL)
		goto out;
	event_base_dispatch(pd.base);
	log_info("stopping");
	rc = 0;
out:
	if (rc != 0) {
		for (size_t i = 0; i < err_count(); i++) {
			char line[1200];

			log_warnx("%s", err_line(err_get(i), line,
			    sizeof(line)));
		}
	}
	daemon_signals_free(sig);
	if (pd.tick != NULL)
		event_free(pd.tick);
	http_client_free(pd.cli);
	http_server_free(pd.srv);
	slices_free(&pd);
	inventory_free(&pd);
	store_close(pd.st);
	metrics_free(pd.m);
	if (pd.base != NULL)
		event_base_free(pd.base);
	if (pidfd != -1)
		daemon_pidfile_remove(pd.conf->pidfile, pidfd);
	config_free(pd.conf);
	return rc;
}
