/*
 * The xen driver: PVH domains through libxl, on a Xen host's Dom0.
 *
 * The domain configuration is built from the spec with libxl's own types
 * (libxl_domain_config), so what the tests check as JSON
 * (libxl_domain_config_to_json) is exactly what libxl_domain_create_new
 * would get.  The domain is "vn-<id>", boots the image's kernel and
 * initrd with the same vnsm.if= / vnsm.route= words as the libvirt
 * driver (console=hvc0), and its vifs are bridged as the spec says.
 *
 * libxl has no defined-but-not-running domain: create builds the domain
 * paused (as xl does before unpausing it), start unpauses it, stop and
 * delete destroy it.  The libxl context is made on first use, so the
 * driver opens on any host; where no Xen hypervisor runs, every
 * operation that needs one fails with ERR_UNSUPPORTED saying so.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "error.h"
#include "log.h"
#include "driver.h"

struct xen {
	libxl_ctx *ctx;		/* NULL until first use / when no Xen */
	const char *imgdir;
};

/*
 * libxl logs through a table of functions; ours sends its lines to
 * lib/log.c (errors as warnings, the rest as debug), so no xtl library
 * beyond libxenlight is needed.
 */
static void xen_vlog(struct xentoollog_logger *lg, xentoollog_level level,
    int errnoval, const char *context, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
xen_vlog(struct xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level >= XTL_ERROR)
		log_warnx("libxl %s: %s", context ? context : "", buf);
	else
		log_debug("libxl %s: %s", context ? context : "", buf);
}

static void
xen_logdestroy(struct xentoollog_logger *lg)
{
}

static xentoollog_logger xen_logger = {
	.vmessage = xen_vlog,
	.progress = NULL,
	.destroy = xen_logdestroy,
};

static int
xen_ctx(struct xen *x)
{
	if (x->ctx != NULL)
		return 0;
	if (libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, &xen_logger) != 0) {
		x->ctx = NULL;
		err_set(ERR_UNSUPPORTED, "no Xen hypervisor runs on this "
		    "host: libxl cannot open a context (is this the Dom0 of a "
		    "Xen host, with xenstored running?)");
		err_hint("use the netns or libvirt driver here");
		return -1;
	}
	return 0;
}

static int
xen_probe(const struct drv_conf *conf)
{
	struct xen x = { 0 };
	int rc = xen_ctx(&x);

	if (x.ctx != NULL)
		libxl_ctx_free(x.ctx);
	return rc;
}

static int
xen_open(struct drv *drv)
{
	struct xen *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return err_nomem();
	x->imgdir = drv->conf.imgdir ? drv->conf.imgdir :
	    "/var/lib/vnsm/images";
	drv->priv = x;
	return 0;
}

static void
xen_close(struct drv *drv)
{
	struct xen *x = drv->priv;

	if (x->ctx != NULL)
		libxl_ctx_free(x->ctx);
	free(x);
}

/* strdup into a libxl field; 0 or -1 (ERR_NOMEM). */
static int
dup_to(char **dst, const char *s)
{
	if ((*dst = strdup(s)) == NULL)
		return err_nomem();
	return 0;
}

/* The kernel command line of a node: console and the guest words. */
static int
xen_cmdline(const struct vnode_spec *spec, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	size_t n;

	n = (size_t)snprintf(buf, size, "console=hvc0 panic=-1 quiet "
	    "vnsm.id=%s", spec->id);
	for (size_t i = 0; i < spec->nifs && n < size; i++) {
		const struct vnode_if *f = &spec->ifs[i];
		uint8_t m[6];

		vnode_if_mac(spec->id, f, m);
		inet_ntop(AF_INET, &f->addr, a, sizeof(a));
		n += (size_t)snprintf(buf + n, size - n, " vnsm.if=%s,"
		    "%02x:%02x:%02x:%02x:%02x:%02x,%s/%u", f->name, m[0], m[1],
		    m[2], m[3], m[4], m[5], a, f->prefix);
		if (f->mtu != 0 && n < size)
			n += (size_t)snprintf(buf + n, size - n, ",%u", f->mtu);
	}
	for (size_t i = 0; i < spec->nroutes && n < size; i++) {
		inet_ntop(AF_INET, &spec->routes[i].dst, a, sizeof(a));
		inet_ntop(AF_INET, &spec->routes[i].via, g, sizeof(g));
		n += (size_t)snprintf(buf + n, size - n, " vnsm.route=%s/%u,%s",
		    a, spec->routes[i].prefix, g);
	}
	if (n >= size)
		return err_set(ERR_INVALID, "the kernel command line of node "
		    "'%s' is too long", spec->id);
	return 0;
}

static int
nic_fill(libxl_device_nic *nic, const char *id, const struct vnode_if *f,
    int devid)
{
	uint8_t m[6];

	libxl_device_nic_init(nic);
	nic->devid = devid;
	vnode_if_mac(id, f, m);
	memcpy(nic->mac, m, sizeof(m));
	if (f->mtu != 0)
		nic->mtu = (int)f->mtu;
	if (f->bridge[0] != '\0' && dup_to(&nic->bridge, f->bridge) == -1)
		return -1;
	if (f->peer[0] != '\0' && dup_to(&nic->ifname, f->peer) == -1)
		return -1;
	return 0;
}

/*
 * Fill dc (initialised here; the caller disposes of it) from the spec.
 */
static int
xen_config(struct xen *x, const struct vnode_spec *spec,
    libxl_domain_config *dc)
{
	char p[1024], cmd[2048];
	unsigned vcpus = spec->cpu_milli ? (spec->cpu_milli + 999) / 1000 : 1;
	unsigned mem = spec->mem_mib ? spec->mem_mib : 256;

	libxl_domain_config_init(dc);
	if (vnode_spec_check(spec) == -1)
		return -1;
	libxl_domain_create_info_init(&dc->c_info);
	dc->c_info.type = LIBXL_DOMAIN_TYPE_PVH;
	snprintf(p, sizeof(p), VNODE_PREFIX "%s", spec->id);
	if (dup_to(&dc->c_info.name, p) == -1)
		return -1;
	libxl_domain_build_info_init_type(&dc->b_info, LIBXL_DOMAIN_TYPE_PVH);
	dc->b_info.max_vcpus = (int)vcpus;
	dc->b_info.max_memkb = (uint64_t)mem * 1024;
	dc->b_info.target_memkb = (uint64_t)mem * 1024;
	if (spec->cpu_milli != 0)
		dc->b_info.sched_params.cap = (int)(spec->cpu_milli / 10);
	snprintf(p, sizeof(p), "%s/%s/vmlinuz", x->imgdir, spec->image);
	if (dup_to(&dc->b_info.kernel, p) == -1)
		return -1;
	snprintf(p, sizeof(p), "%s/%s/initrd.img", x->imgdir, spec->image);
	if (dup_to(&dc->b_info.ramdisk, p) == -1)
		return -1;
	if (xen_cmdline(spec, cmd, sizeof(cmd)) == -1 ||
	    dup_to(&dc->b_info.cmdline, cmd) == -1)
		return -1;
	dc->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	dc->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_RESTART;
	dc->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	if (spec->nifs > 0) {
		if ((dc->nics = calloc(spec->nifs, sizeof(*dc->nics))) == NULL)
			return err_nomem();
		for (size_t i = 0; i < spec->nifs; i++) {
			dc->num_nics = (int)i + 1;
			if (nic_fill(&dc->nics[i], spec->id, &spec->ifs[i],
			    (int)i) == -1)
				return -1;
		}
	}
	return 0;
}

char *
drv_xen_json(struct drv *drv, const struct vnode_spec *spec)
{
	libxl_domain_config dc;
	char *j = NULL;

	if (xen_config(drv->priv, spec, &dc) == 0 &&
	    (j = libxl_domain_config_to_json(NULL, &dc)) == NULL)
		err_set(ERR_INTERNAL, "libxl cannot format the configuration "
		    "of node '%s'", spec->id);
	libxl_domain_config_dispose(&dc);
	return j;
}

/* The domid of node id; -1 with ERR_NOT_FOUND. */
static int
xen_domid(struct xen *x, const char *id, uint32_t *domid)
{
	char name[VNODE_ID_MAX + 8];

	if (xen_ctx(x) == -1)
		return -1;
	snprintf(name, sizeof(name), VNODE_PREFIX "%s", id);
	if (libxl_name_to_domid(x->ctx, name, domid) != 0)
		return err_set(ERR_NOT_FOUND, "no Xen domain for node '%s'", id);
	return 0;
}

static int
xen_create(struct drv *drv, const struct vnode_spec *spec)
{
	struct xen *x = drv->priv;
	libxl_domain_config dc;
	uint32_t domid = 0;
	int rc = -1;

	if (xen_config(x, spec, &dc) == -1 || xen_ctx(x) == -1)
		goto out;
	if (xen_domid(x, spec->id, &domid) == 0) {
		err_set(ERR_CONFLICT, "Xen node '%s' exists already", spec->id);
		goto out;
	}
	err_reset();
	/* Built paused, as xl does; start unpauses. */
	if (libxl_domain_create_new(x->ctx, &dc, &domid, NULL, NULL) != 0) {
		err_set(ERR_SYSTEM, "libxl could not create the domain of "
		    "node '%s' (see the libxl log)", spec->id);
		goto out;
	}
	rc = 0;
out:
	libxl_domain_config_dispose(&dc);
	return rc;
}

static int
xen_unpause(struct drv *drv, const char *id)
{
	struct xen *x = drv->priv;
	uint32_t domid;

	if (xen_domid(x, id, &domid) == -1)
		return -1;
	if (libxl_domain_unpause(x->ctx, domid, NULL) != 0)
		return err_set(ERR_SYSTEM, "libxl could not unpause node '%s'",
		    id);
	return 0;
}

static int
xen_pause(struct drv *drv, const char *id)
{
	struct xen *x = drv->priv;
	uint32_t domid;

	if (xen_domid(x, id, &domid) == -1)
		return -1;
	if (libxl_domain_pause(x->ctx, domid, NULL) != 0)
		return err_set(ERR_SYSTEM, "libxl could not pause node '%s'", id);
	return 0;
}

static int
xen_destroy(struct drv *drv, const char *id)
{
	struct xen *x = drv->priv;
	uint32_t domid;

	if (xen_domid(x, id, &domid) == -1)
		return -1;
	if (libxl_domain_destroy(x->ctx, domid, NULL) != 0)
		return err_set(ERR_SYSTEM, "libxl could not destroy node '%s'",
		    id);
	return 0;
}

static int
xen_attach(struct drv *drv, const char *id, const struct vnode_if *ifc)
{
	struct xen *x = drv->priv;
	libxl_device_nic nic;
	uint32_t domid;
	int rc = 0;

	if (xen_domid(x, id, &domid) == -1)
		return -1;
	if (nic_fill(&nic, id, ifc, -1) == -1)
		rc = -1;
	else if (libxl_device_nic_add(x->ctx, domid, &nic, NULL) != 0)
		rc = err_set(ERR_SYSTEM, "libxl could not add interface '%s' "
		    "to node '%s'", ifc->name, id);
	libxl_device_nic_dispose(&nic);
	return rc;
}

/* Find the vif by the MAC derived from the interface name. */
static int
xen_detach(struct drv *drv, const char *id, const char *ifname)
{
	struct xen *x = drv->priv;
	struct vnode_if f;
	libxl_device_nic nic;
	uint8_t m[6];
	char mac[32];
	uint32_t domid;
	int rc = 0;

	if (xen_domid(x, id, &domid) == -1)
		return -1;
	memset(&f, 0, sizeof(f));
	str_lcpy(f.name, ifname, sizeof(f.name));
	vnode_if_mac(id, &f, m);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
	    m[2], m[3], m[4], m[5]);
	libxl_device_nic_init(&nic);
	if (libxl_mac_to_device_nic(x->ctx, domid, mac, &nic) != 0)
		rc = err_set(ERR_NOT_FOUND, "Xen node '%s' has no interface "
		    "'%s'", id, ifname);
	else if (libxl_device_nic_remove(x->ctx, domid, &nic, NULL) != 0)
		rc = err_set(ERR_SYSTEM, "libxl could not remove interface "
		    "'%s' of node '%s'", ifname, id);
	libxl_device_nic_dispose(&nic);
	return rc;
}

static int
xen_list(struct drv *drv, struct vnode_info **out, size_t *np)
{
	struct xen *x = drv->priv;
	libxl_dominfo *di;
	struct vnode_info *v;
	size_t n = 0;
	int nd;

	*out = NULL;
	*np = 0;
	if (xen_ctx(x) == -1)
		return -1;
	if ((di = libxl_list_domain(x->ctx, &nd)) == NULL)
		return err_set(ERR_SYSTEM, "libxl cannot list domains");
	if ((v = calloc((size_t)nd + 1, sizeof(*v))) == NULL) {
		libxl_dominfo_list_free(di, nd);
		return err_nomem();
	}
	for (int i = 0; i < nd; i++) {
		char *name = libxl_domid_to_name(x->ctx, di[i].domid);

		if (name != NULL && strncmp(name, VNODE_PREFIX,
		    strlen(VNODE_PREFIX)) == 0) {
			str_lcpy(v[n].id, name + strlen(VNODE_PREFIX),
			    sizeof(v[n].id));
			str_lcpy(v[n].handle, name, sizeof(v[n].handle));
			v[n].state = di[i].paused ? VNODE_ST_PAUSED :
			    VNODE_ST_RUNNING;
			n++;
		}
		free(name);
	}
	libxl_dominfo_list_free(di, nd);
	*out = v;
	*np = n;
	return 0;
}

static int
xen_console(struct drv *drv, const char *id, struct vnode_console *con)
{
	struct xen *x = drv->priv;
	uint32_t domid;
	char *tty = NULL;

	if (xen_domid(x, id, &domid) == -1)
		return -1;
	memset(con, 0, sizeof(*con));
	if (libxl_console_get_tty(x->ctx, domid, 0, LIBXL_CONSOLE_TYPE_PV,
	    &tty) != 0 || tty == NULL)
		return err_set(ERR_SYSTEM, "no console tty for node '%s'", id);
	con->kind = VNODE_CON_PTY;
	str_lcpy(con->path, tty, sizeof(con->path));
	free(tty);
	return 0;
}

static int
xen_exec(struct drv *drv, const char *id, const struct vnode_exec *ex,
    int *status)
{
	return err_set(ERR_UNSUPPORTED, "the xen driver cannot run commands "
	    "in node '%s'; use its console", id);
}

const struct drv_ops drv_xen_ops = {
	.name = "xen",
	.probe = xen_probe,
	.open = xen_open,
	.close = xen_close,
	.create = xen_create,
	.start = xen_unpause,
	.stop = xen_destroy,
	.pause = xen_pause,
	.resume = xen_unpause,
	.attach = xen_attach,
	.detach = xen_detach,
	.delete = xen_destroy,
	.list = xen_list,
	.console = xen_console,
	.exec = xen_exec,
};
