/*
 * Warm pools: per [pool] section, depth members of (driver, kind, image,
 * cpu, memory) created, started and paused ahead of time.
 *
 * Design: one pool thread refills every pool, one member at a time, with
 * driver instances and a store connection of its own, so the event loop
 * never waits for a member to be made (a VM member takes seconds).  The
 * loop only takes a ready member from a list under the mutex (claim) and
 * signals the thread, which makes a replacement.  Each member is
 * recorded "pool-intent" before it is made and "pool-ready" once it is
 * paused (state.c), so a crash loses no member silently and leaves none
 * half-made: reconcile adopts ready ones and removes the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "substrated.h"

#define POOL_BACKOFF_S	5	/* after a failed member, per pool */
#define POOL_BOOT_MS	120000	/* a VM member must boot within this */
#define POOL_CFG_MS	20000	/* a claimed guest's configuration */

/* Set the depth gauges; called with the mutex held. */
static void
gauges(struct sd *sd)
{
	char lab[128];

	for (size_t i = 0; i < sd->conf->npools; i++) {
		snprintf(lab, sizeof(lab), "pool=\"%s\"",
		    sd->conf->pools[i].name);
		metric_set(sd->m_pool, lab, sd->pools.nready[i]);
	}
}

/*
 * Wait until a VM or container member has booted: its console shows
 * the router image's "ready" line.  0, or -1 with ERR_TIMEOUT.
 */
static int
wait_boot(struct drv *d, const char *id)
{
	struct vnode_console con;
	char buf[4096];
	size_t used = 0;
	double end = now_ms() + POOL_BOOT_MS;
	int fd;

	if (d->ops->console(d, id, &con) == -1)
		return -1;
	if (con.kind != VNODE_CON_PTY)
		return 0;
	if ((fd = open(con.path, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return err_sys("open %s", con.path);
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 200) != 1)
			continue;
		if (used + 1 >= sizeof(buf)) {
			memmove(buf, buf + used / 2, used - used / 2);
			used -= used / 2;
		}
		if ((r = read(fd, buf + used, sizeof(buf) - 1 - used)) <= 0)
			continue;
		used += (size_t)r;
		buf[used] = '\0';
		if (strstr(buf, "ready") != NULL) {
			close(fd);
			return 0;
		}
	}
	close(fd);
	return err_set(ERR_TIMEOUT, "pool member %s did not boot in %d s", id,
	    POOL_BOOT_MS / 1000);
}

/* Make one member of pool i; 0 and its id, or -1. */
static int
make_member(struct sd *sd, struct drv *d, struct store *st, size_t i,
    char *id, size_t size)
{
	const struct sd_pool_conf *pc = &sd->conf->pools[i];
	struct vnode_spec spec;

	sd_new_id(sd->conf, 'p', id, size);
	memset(&spec, 0, sizeof(spec));
	str_lcpy(spec.id, id, sizeof(spec.id));
	str_lcpy(spec.name, id, sizeof(spec.name));
	spec.kind = sd_vkind(pc->kind);
	spec.cpu_milli = pc->cpu;
	spec.mem_mib = (unsigned)pc->memory;
	if (pc->slot != SD_SLOT_NETNS)
		str_lcpy(spec.image, pc->image, sizeof(spec.image));
	else if (sd->conf->netns_limits)
		spec.flags |= VNODE_F_CGROUP;
	if (sd_state_member_put(st, id, pc->name, "pool-intent") == -1)
		return -1;
	if (d->ops->create(d, &spec) == -1)
		goto fail;
	if (d->ops->start(d, id) == -1 ||
	    (pc->slot != SD_SLOT_NETNS && wait_boot(d, id) == -1) ||
	    (pc->kind == NODE_GATEWAY && sd_gw_base(sd, d, id) == -1) ||
	    d->ops->pause(d, id) == -1 ||
	    sd_state_member_put(st, id, pc->name, "pool-ready") == -1) {
		d->ops->delete(d, id);
		if (pc->kind == NODE_GATEWAY)
			sd_gw_forget(sd, id);
		goto fail;
	}
	return 0;
fail:
	sd_state_node_del(st, id);
	return -1;
}

static void *
pool_main(void *arg)
{
	struct sd *sd = arg;
	struct sd_pools *p = &sd->pools;
	struct drv *drv[SD_SLOT_LAST] = { NULL };
	time_t next_try[SD_POOLS_MAX] = { 0 };
	struct store *st;

	if ((st = sd_state_open(sd->conf->state)) == NULL) {
		log_warnx("pools: %s", err_last()->msg);
		return NULL;
	}
	for (int s = 0; s < SD_SLOT_LAST; s++)
		if (sd->drv[s] != NULL && (drv[s] = drv_open(
		    sd->drv[s]->ops->name, &sd->dconf[s])) == NULL) {
			log_warnx("pools: %s", err_last()->msg);
			err_reset();
		}
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		char id[VNODE_ID_MAX];
		size_t i;
		double t0;
		int r;

		for (i = 0; i < sd->conf->npools; i++) {
			const struct sd_pool_conf *pc = &sd->conf->pools[i];

			if (!p->hold && drv[pc->slot] != NULL &&
			    p->nready[i] + p->busy[i] < pc->depth &&
			    time(NULL) >= next_try[i])
				break;
		}
		if (i == sd->conf->npools) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
			continue;
		}
		p->busy[i]++;
		pthread_mutex_unlock(&p->mu);
		t0 = now_ms();
		err_reset();
		r = make_member(sd, drv[sd->conf->pools[i].slot], st, i, id,
		    sizeof(id));
		if (r == -1) {
			log_warnx("pool %s: %s", sd->conf->pools[i].name,
			    err_count() ? err_last()->msg : "failed");
			next_try[i] = time(NULL) + POOL_BACKOFF_S;
		}
		pthread_mutex_lock(&p->mu);
		p->busy[i]--;
		if (r == 0) {
			struct sd_member *m = calloc(1, sizeof(*m));

			if (m == NULL) {
				/* Keep it recorded; next start adopts it. */
				continue;
			}
			str_lcpy(m->id, id, sizeof(m->id));
			m->next = p->ready[i];
			p->ready[i] = m;
			p->nready[i]++;
			p->made++;
			p->last_ms[i] = now_ms() - t0;
			log_debug("pool %s: member %s ready in %.1f ms "
			    "(%u/%u)", sd->conf->pools[i].name, id,
			    p->last_ms[i], p->nready[i],
			    sd->conf->pools[i].depth);
		} else
			p->failed++;
		gauges(sd);
	}
	pthread_mutex_unlock(&p->mu);
	for (int s = 0; s < SD_SLOT_LAST; s++)
		drv_close(drv[s]);
	store_close(st);
	return NULL;
}

int
sd_pool_start(struct sd *sd)
{
	struct sd_pools *p = &sd->pools;

	pthread_mutex_lock(&p->mu);
	gauges(sd);
	pthread_mutex_unlock(&p->mu);
	if (sd->conf->npools == 0)
		return 0;
	if (pthread_create(&p->thread, NULL, pool_main, sd) != 0)
		return err_sys("pthread_create");
	p->running = 1;
	return 0;
}

/* End the pool thread (it finishes the member it is making). */
void
sd_pool_stop(struct sd *sd)
{
	struct sd_pools *p = &sd->pools;

	if (!p->running)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	p->running = 0;
}

/*
 * Hold refills while a request makes nodes (hold 1), so a claim never
 * waits for the pool thread's rtnetlink or SQLite work; release and
 * wake the thread after (hold 0).
 */
void
sd_pool_hold(struct sd *sd, int hold)
{
	pthread_mutex_lock(&sd->pools.mu);
	sd->pools.hold = hold;
	if (!hold)
		pthread_cond_broadcast(&sd->pools.cv);
	pthread_mutex_unlock(&sd->pools.mu);
}

/* Put member id (found at start) back into pool i. */
void
sd_pool_adopt(struct sd *sd, size_t i, const char *id)
{
	struct sd_member *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return;
	str_lcpy(m->id, id, sizeof(m->id));
	pthread_mutex_lock(&sd->pools.mu);
	m->next = sd->pools.ready[i];
	sd->pools.ready[i] = m;
	sd->pools.nready[i]++;
	pthread_mutex_unlock(&sd->pools.mu);
}

int
sd_pool_take(struct sd *sd, const struct sd_node *n, char *id, size_t size)
{
	struct sd_pools *p = &sd->pools;
	struct sd_member *m = NULL;

	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < sd->conf->npools && m == NULL; i++) {
		const struct sd_pool_conf *pc = &sd->conf->pools[i];

		if (pc->slot != n->slot || pc->kind != n->kind ||
		    pc->cpu != n->cpu || pc->memory != n->memory ||
		    strcmp(pc->image, n->image) != 0 || p->ready[i] == NULL)
			continue;
		m = p->ready[i];
		p->ready[i] = m->next;
		p->nready[i]--;
	}
	if (m != NULL)
		gauges(sd);
	pthread_mutex_unlock(&p->mu);
	if (m == NULL)
		return 0;
	str_lcpy(id, m->id, size);
	free(m);
	return 1;
}

/* Append s to b in single quotes, for the guest's shell. */
static void
sq(struct buf *b, const char *s)
{
	buf_puts(b, "'");
	for (; *s != '\0'; s++)
		if (*s == '\'')
			buf_puts(b, "'\\''");
		else
			buf_append(b, s, 1);
	buf_puts(b, "'");
}

/*
 * Configure claimed VM or container member spec->id inside the guest:
 * the router image reads its interfaces only at boot (kernel command
 * line), and a pool member booted with none, so after the claim has
 * hot-added them and resumed the guest, one shell script run through
 * the driver's exec (the console) finds each interface by its MAC
 * (vnode_if_mac: the kernel names hot-plugged NICs ethN by order of
 * arrival, so the name says nothing), waits up to 5 s for it to appear,
 * renames it (through a temporary name, so that two renames cannot
 * collide), sets its MTU and address, brings it up and replaces the
 * routes.  0, or -1 with the script's output in the error.
 */
int
sd_pool_guest_config(struct drv *d, const struct vnode_spec *spec)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], out[1024];
	const char *argv[4] = { "sh", "-c", NULL, NULL };
	struct vnode_exec ex;
	struct buf b;
	char *cmd;
	int status = 0, rc;

	if (spec->nifs == 0 && spec->nroutes == 0)
		return 0;
	buf_init(&b);
	buf_puts(&b, "vf() { n=0; while [ $n -lt 100 ]; do "
	    "for x in /sys/class/net/*; do "
	    "[ \"$(cat $x/address 2>/dev/null)\" = \"$1\" ] && "
	    "{ echo ${x##*/}; return 0; }; done; "
	    "n=$((n+1)); sleep 0.05; done; return 1; }; r=0; ");
	for (size_t i = 0; i < spec->nifs; i++) {
		uint8_t m[6];

		vnode_if_mac(spec->id, &spec->ifs[i], m);
		buf_printf(&b, "x=$(vf %02x:%02x:%02x:%02x:%02x:%02x) && "
		    "ip link set \"$x\" down && "
		    "ip link set \"$x\" name vnsmcfg%zu || "
		    "{ echo no interface %02x:%02x:%02x:%02x:%02x:%02x; "
		    "r=1; }; ", m[0], m[1], m[2], m[3], m[4], m[5], i,
		    m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	for (size_t i = 0; i < spec->nifs; i++) {
		const struct vnode_if *f = &spec->ifs[i];

		buf_printf(&b, "ip link set vnsmcfg%zu name ", i);
		sq(&b, f->name);
		buf_puts(&b, " || r=1; ");
		if (f->mtu != 0) {
			buf_puts(&b, "ip link set ");
			sq(&b, f->name);
			buf_printf(&b, " mtu %u || r=1; ", f->mtu);
		}
		if (f->addr.s_addr != 0) {
			inet_ntop(AF_INET, &f->addr, a, sizeof(a));
			buf_printf(&b, "ip addr add %s/%u dev ", a, f->prefix);
			sq(&b, f->name);
			buf_puts(&b, " || r=1; ");
		}
		buf_puts(&b, "ip link set ");
		sq(&b, f->name);
		buf_puts(&b, " up || r=1; ");
	}
	for (size_t i = 0; i < spec->nroutes; i++) {
		const struct vnode_route *rt = &spec->routes[i];

		inet_ntop(AF_INET, &rt->dst, a, sizeof(a));
		inet_ntop(AF_INET, &rt->via, g, sizeof(g));
		buf_printf(&b, "ip route replace %s/%u via %s || r=1; ", a,
		    rt->prefix, g);
	}
	buf_puts(&b, "exit $r");
	if ((cmd = buf_steal(&b, NULL)) == NULL)
		return -1;
	argv[2] = cmd;
	memset(&ex, 0, sizeof(ex));
	ex.argv = argv;
	ex.out = out;
	ex.outsz = sizeof(out);
	ex.timeout_ms = POOL_CFG_MS;
	out[0] = '\0';
	rc = d->ops->exec(d, spec->id, &ex, &status);
	free(cmd);
	if (rc == -1) {
		err_hint("configuring the interfaces of claimed node %s in "
		    "its guest", spec->id);
		return -1;
	}
	if (status != 0)
		return err_set(ERR_SYSTEM, "configuring the interfaces of "
		    "claimed node %s in its guest failed (exit %d): %s",
		    spec->id, status, out);
	return 0;
}
