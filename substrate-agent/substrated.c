/*
 * substrated: the substrate agent.  main(): options, configuration,
 * drivers, tunnel backend, state, reconcile, pools, the HTTPS API and
 * the reports to pipd, all on one event loop (see substrated.h).
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "daemon.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "substrated.h"
#include "tunnel.h"

static atomic_ullong id_counter;

/*
 * Ids: prefix, a kind letter (n node, p pool member, l link) and a
 * number that starts at the wall-clock microseconds of this start, so an
 * id is never reused across restarts on one host.
 */
void
sd_new_id(const struct sd_conf *c, char kind, char *out, size_t size)
{
	unsigned long long v = atomic_fetch_add(&id_counter, 1);

	snprintf(out, size, "%s%c%llx", c->id_prefix, kind, v);
}

const char *
sd_slot_driver(enum sd_slot s)
{
	return s == SD_SLOT_NETNS ? "netns" : "libvirt";
}

/* The underlay interface (by address when not configured) and MTU. */
static void
underlay_setup(struct sd *sd)
{
	struct sd_conf *c = sd->conf;
	struct ifaddrs *ifa, *i;
	struct ifreq ifr;
	int fd;

	sd->underlay_mtu = 1500;
	if (c->underlay == 0)
		return;
	if (c->underlay_if[0] == '\0' && getifaddrs(&ifa) == 0) {
		for (i = ifa; i != NULL; i = i->ifa_next)
			if (i->ifa_addr != NULL && i->ifa_addr->sa_family ==
			    AF_INET && ntohl(((struct sockaddr_in *)
			    (void *)i->ifa_addr)->sin_addr.s_addr) ==
			    c->underlay) {
				str_lcpy(c->underlay_if, i->ifa_name,
				    sizeof(c->underlay_if));
				break;
			}
		freeifaddrs(ifa);
	}
	if (c->underlay_if[0] == '\0') {
		log_warnx("underlay %s is on no interface of this host",
		    inet_ntoa((struct in_addr){ htonl(c->underlay) }));
		return;
	}
	/*
	 * By ioctl, not /sys/class/net: /sys shows the network namespace
	 * it was mounted in, which is not ours when the agent was put in
	 * a namespace by nsenter --net.
	 */
	memset(&ifr, 0, sizeof(ifr));
	str_lcpy(ifr.ifr_name, c->underlay_if, sizeof(ifr.ifr_name));
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
			sd->underlay_mtu = (unsigned)ifr.ifr_mtu;
		close(fd);
	}
}

/* Open every enabled driver that works here; note why the others don't. */
static void
drivers_open(struct sd *sd)
{
	const struct sd_conf *c = sd->conf;

	for (int s = 0; s < SD_SLOT_LAST; s++) {
		struct drv_conf *dc = &sd->dconf[s];
		const char *name = c->sim ? "sim" : s == SD_SLOT_NETNS ?
		    "netns" : "libvirt";
		const struct drv_ops *ops;

		memset(dc, 0, sizeof(*dc));
		dc->rundir = c->rundir;
		dc->imgdir = c->imgdir;
		dc->uri = s == SD_SLOT_QEMU ? c->libvirt_uri : s == SD_SLOT_LXC ?
		    c->lxc_uri : NULL;
		dc->virt_type = c->qemu_tcg;
		if (!(c->drivers & (1u << s))) {
			snprintf(sd->why[s], sizeof(sd->why[s]), "the %s "
			    "driver is not enabled in the configuration "
			    "(drivers)", s == SD_SLOT_NETNS ? "netns" :
			    s == SD_SLOT_QEMU ? "qemu" : "lxc");
			continue;
		}
		err_reset();
		if ((ops = drv_lookup(name)) == NULL || ops->probe(dc) == -1 ||
		    (sd->drv[s] = drv_open(name, dc)) == NULL) {
			str_lcpy(sd->why[s], err_count() ? err_last()->msg :
			    "cannot open", sizeof(sd->why[s]));
			log_warnx("driver %s (%s): %s", name, dc->uri ? dc->uri :
			    "", sd->why[s]);
			err_reset();
			continue;
		}
		log_info("driver %s%s%s ready", name, dc->uri ? " " : "",
		    dc->uri ? dc->uri : "");
	}
}

static void
tunnels_open(struct sd *sd)
{
	sd_links_simulate(sd->conf->sim);
	if (sd->conf->sim) {
		log_info("tunnels: simulated (drivers sim)");
		return;
	}
	if (sd->conf->tun_backend == -2) {
		str_lcpy(sd->tun_why, "tunnel-backend is none",
		    sizeof(sd->tun_why));
		return;
	}
	err_reset();
	if ((sd->tun = tun_open(sd->conf->tun_backend)) == NULL) {
		str_lcpy(sd->tun_why, err_count() ? err_last()->msg :
		    "cannot open", sizeof(sd->tun_why));
		log_warnx("tunnels: %s", sd->tun_why);
		err_reset();
		return;
	}
	log_info("tunnels: %s backend", tun_backend_to_string(
	    tun_ctx_backend(sd->tun)));
}

static int
metrics_setup(struct sd *sd)
{
	static const double ms_buckets[] = { 0.0005, 0.001, 0.002, 0.005,
		0.01, 0.02, 0.05, 0.1, 0.5, 1, 5, 30 };

	if ((sd->metrics = metrics_new()) == NULL)
		return err_nomem();
	sd->m_step = metrics_histogram(sd->metrics,
	    "vnsm_substrated_step_seconds", "Time of the virtualization and "
	    "topology steps of host slice requests", ms_buckets,
	    NELEM(ms_buckets));
	sd->m_pool = metrics_gauge(sd->metrics, "vnsm_substrated_pool_depth",
	    "Ready (paused) members per pool");
	sd->m_claim = metrics_counter(sd->metrics,
	    "vnsm_substrated_nodes_made_total", "Nodes made for slices, by "
	    "how (pool claim or on demand)");
	sd->m_reports = metrics_counter(sd->metrics,
	    "vnsm_substrated_reports_total", "Reports sent to pipd, by result");
	if (sd->m_step == NULL || sd->m_pool == NULL || sd->m_claim == NULL ||
	    sd->m_reports == NULL)
		return -1;
	return 0;
}

static void
on_reload(void *arg)
{
	struct sd *sd = arg;

	if (sd->conf->crl[0] != '\0' && http_server_reload_crl(sd->srv) == -1) {
		log_warnx("reload: %s", err_last()->msg);
		err_reset();
	} else
		log_info("reloaded the CRL");
}

static int
serve(struct sd *sd)
{
	struct http_server_conf hc;
	struct http_client_conf cc;

	memset(&hc, 0, sizeof(hc));
	hc.listen = sd->conf->listen;
	hc.tls.ca_file = sd->conf->ca;
	hc.tls.cert_file = sd->conf->cert;
	hc.tls.key_file = sd->conf->key;
	hc.tls.crl_file = sd->conf->crl[0] ? sd->conf->crl : NULL;
	hc.limits.body_max = 4 * 1024 * 1024;
	hc.metrics = sd->metrics;
	if ((sd->srv = http_server_new(sd->base, &hc)) == NULL ||
	    sd_api_init(sd) == -1)
		return -1;
	log_info("listening on %s (port %d), host %s of %s, pipd '%s'",
	    sd->conf->listen, http_server_port(sd->srv), sd->conf->host,
	    sd->conf->pip, sd->conf->pipd);
	if (sd->conf->pipd_addr[0] == '\0')
		return 0;
	memset(&cc, 0, sizeof(cc));
	cc.tls = hc.tls;
	cc.timeout_ms = 5000;
	if ((sd->cli = http_client_new(sd->base, &cc)) == NULL)
		return -1;
	sd_report_start(sd);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct daemon_opts o;
	struct daemon_signals *sig = NULL;
	struct sd sd;
	struct timeval tv;
	int pidfd = -1, rc = 1;

	if (daemon_parse_args(argc, argv, "substrated", SD_CONF, &o) == -1)
		return 1;
	log_init("substrated", o.foreground || o.check_only, o.verbose);
	memset(&sd, 0, sizeof(sd));
	if ((sd.conf = sd_conf_load(o.conf_path)) == NULL) {
		err_print(stderr);
		return 1;
	}
	if (o.check_only) {
		if (o.verbose)
			sd_conf_print(sd.conf, stdout);
		free(sd.conf);
		return 0;
	}
	gettimeofday(&tv, NULL);
	atomic_store(&id_counter, (unsigned long long)tv.tv_sec * 1000000 +
	    (unsigned long long)tv.tv_usec);
	pthread_mutex_init(&sd.pools.mu, NULL);
	pthread_cond_init(&sd.pools.cv, NULL);
	if ((pidfd = daemon_pidfile_lock(sd.conf->pidfile)) == -1)
		goto out;
	if (!o.foreground && daemon_detach() == -1)
		goto out;
	daemon_pidfile_write(pidfd);
	evthread_use_pthreads();
	if ((sd.base = event_base_new()) == NULL) {
		err_nomem();
		goto out;
	}
	if (metrics_setup(&sd) == -1)
		goto out;
	underlay_setup(&sd);
	drivers_open(&sd);
	tunnels_open(&sd);
	if ((sd.st = sd_state_open(sd.conf->state)) == NULL)
		goto out;
	if (sd_reconcile(&sd) == -1 || sd_pool_start(&sd) == -1)
		goto out;
	if (serve(&sd) == -1)
		goto out;
	if ((sig = daemon_signals_new(sd.base, NULL, on_reload, &sd)) == NULL)
		goto out;
	event_base_dispatch(sd.base);
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
	sd_pool_stop(&sd);
	daemon_signals_free(sig);
	if (sd.report_ev != NULL)
		event_free(sd.report_ev);
	sd_gw_reap(&sd, 1);
	if (sd.gw_ev != NULL)
		event_free(sd.gw_ev);
	http_client_free(sd.cli);
	http_server_free(sd.srv);
	/*
	 * Nodes, bridges and pool members stay: they are the agent's work
	 * and the next start adopts them.  Tunnel ends live in this process
	 * (the user backend's forwarder) and are re-made at start.
	 */
	for (struct sd_slice *s = sd.slices; s != NULL; s = s->next)
		for (struct sd_link *l = s->links; l != NULL; l = l->next)
			l->tl = NULL;
	tun_close(sd.tun);
	while (sd.slices != NULL) {
		struct sd_slice *s = sd.slices;

		sd.slices = s->next;
		sd_slice_free(s);
	}
	for (size_t i = 0; i < SD_POOLS_MAX; i++)
		while (sd.pools.ready[i] != NULL) {
			struct sd_member *m = sd.pools.ready[i];

			sd.pools.ready[i] = m->next;
			free(m);
		}
	for (int s = 0; s < SD_SLOT_LAST; s++)
		drv_close(sd.drv[s]);
	store_close(sd.st);
	metrics_free(sd.metrics);
	if (sd.base != NULL)
		event_base_free(sd.base);
	if (pidfd != -1)
		daemon_pidfile_remove(sd.conf->pidfile, pidfd);
	free(sd.conf);
	return rc;
}
