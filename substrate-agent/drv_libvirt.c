/*
 * The libvirt driver: virtual machines (QEMU/KVM) and containers (LXC)
 * through libvirt, at any URI: qemu:///system, lxc:///system, and the
 * in-process test:///default that unit tests use.
 *
 * A node is the domain "vn-<id>", defined from XML built here out of the
 * spec.  The XML carries the vnsm id and node name in <metadata> (element
 * <vnsm:node> in namespace LV_NS), so list() can tell vnsm's domains from
 * the rest even if a name were reused.  Interfaces carry the user alias
 * "ua-<ifname>" so detach can find them again.
 *
 * Kinds: VNODE_CONTAINER becomes an LXC domain (any URI whose driver is
 * LXC), everything else a machine booted from the image's kernel and
 * initrd: <imgdir>/<image>/{vmlinuz,initrd.img}; containers use
 * <imgdir>/<image>/rootfs.  The guest learns its interfaces from the
 * kernel command line (VMs) or its init's arguments (containers), in the
 * same words: vnsm.if=NAME,MAC,ADDR/PREFIX[,MTU] and
 * vnsm.route=DST/PREFIX,GW (scripts/mkimage.sh writes the init that
 * reads them).
 *
 * QEMU domains are type='kvm' unless drv_conf.virt_type asks for TCG
 * (type='qemu'), which hosts without usable KVM need.
 *
 * Taps: libvirtd makes a node's host-side devices (QEMU's taps, LXC's
 * veths) in its own network namespace.  When the agent runs in another
 * one (the demo substrate: one namespace per host), the links it serves
 * need those devices where it runs, so after start and after a hot-plug
 * the driver moves each of the node's devices from libvirtd's namespace
 * (that of the PID in /run/libvirtd.pid, else PID 1's) into its own,
 * keeping the name, and brings it up; QEMU's file descriptor stays
 * attached across the move.  libvirt
 * cannot delete a device it no longer sees (it ignores that), so delete
 * and detach remove what is left in our namespace themselves.
 */
#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "driver.h"
#include "lv_console.h"

#define LV_NS		"urn:vnsm:node:1"	/* our metadata namespace */
#define LV_DEFAULT_URI	"qemu:///system"
#define LV_XML_MAX	(64 * 1024)
#define LV_PIDFILE	"/run/libvirtd.pid"	/* libvirtd's, as root */
#define LV_ROOT_NS	"/proc/1/ns/net"	/* if that is missing */
#define LV_TAPS_MAX	VNODE_IF_MAX

enum lv_flavour {
	LV_QEMU,		/* qemu:// */
	LV_LXC,			/* lxc:// */
	LV_TEST,		/* test:// */
	LV_OTHER
};

struct lv {
	virConnectPtr conn;
	char uri[256];		/* what conn was opened with */
	enum lv_flavour flav;
	int tcg;		/* QEMU: type='qemu' instead of 'kvm' */
	const char *imgdir;	/* images; may be NULL (test:// only) */
	int movetaps;		/* we run outside libvirtd's network
				   namespace: move taps to ours */
};

/* A growing string; an allocation failure sticks in err. */
struct sb {
	char *buf;
	size_t len;		/* bytes used, without the NUL */
	size_t cap;		/* bytes allocated */
	int err;		/* 1 after a failed allocation or overflow */
};

static void sb_printf(struct sb *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sb *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->err)
		return;
	for (;;) {
		size_t avail = sb->cap - sb->len;

		va_start(ap, fmt);
		n = vsnprintf(sb->buf ? sb->buf + sb->len : NULL, avail, fmt,
		    ap);
		va_end(ap);
		if (n < 0) {
			sb->err = 1;
			return;
		}
		if ((size_t)n < avail) {
			sb->len += (size_t)n;
			return;
		}
		size_t cap = sb->cap ? sb->cap * 2 : 1024;
		char *nb;

		while (cap < sb->len + (size_t)n + 1)
			cap *= 2;
		if (cap > LV_XML_MAX || (nb = realloc(sb->buf, cap)) == NULL) {
			sb->err = 1;
			return;
		}
		sb->buf = nb;
		sb->cap = cap;
	}
}

/* Append s with the five XML specials escaped. */
static void
sb_esc(struct sb *sb, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': sb_printf(sb, "&lt;"); break;
		case '>': sb_printf(sb, "&gt;"); break;
		case '&': sb_printf(sb, "&amp;"); break;
		case '\'': sb_printf(sb, "&apos;"); break;
		case '"': sb_printf(sb, "&quot;"); break;
		default: sb_printf(sb, "%c", *s); break;
		}
	}
}

/* libvirt prints every error to stderr unless told not to. */
static void
lv_quiet(void *ud, virErrorPtr e)
{
}

/*
 * Record the last libvirt error under code, or ERR_UNSUPPORTED when the
 * hypervisor driver lacks the call (test:// cannot hot-plug).
 */
static int
lv_fail(enum err_code code, const char *what, const char *id)
{
	const char *m = virGetLastErrorMessage();

	if (virGetLastErrorCode() == VIR_ERR_NO_SUPPORT)
		code = ERR_UNSUPPORTED;
	return err_set(code, "%s of node '%s' failed: %s", what, id,
	    m ? m : "unknown libvirt error");
}

static enum lv_flavour
lv_flavour_of(const char *uri)
{
	if (strncmp(uri, "qemu", 4) == 0)
		return LV_QEMU;
	if (strncmp(uri, "lxc", 3) == 0)
		return LV_LXC;
	if (strncmp(uri, "test", 4) == 0)
		return LV_TEST;
	return LV_OTHER;
}

/*
 * The path of libvirtd's network namespace, where it makes taps: that of
 * the PID in its pid file, or PID 1's if there is none.
 */
static void
lv_libvirtd_ns(char *buf, size_t size)
{
	char line[32];
	FILE *f;
	long pid = 0;

	if ((f = fopen(LV_PIDFILE, "re")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL)
			pid = strtol(line, NULL, 10);
		fclose(f);
	}
	if (pid > 0)
		snprintf(buf, size, "/proc/%ld/ns/net", pid);
	else
		str_lcpy(buf, LV_ROOT_NS, size);
}

/*
 * Do we run in a network namespace other than libvirtd's?  Compared by
 * the namespaces' inodes; 0 if unknown.
 */
static int
lv_other_ns(void)
{
	struct stat a, b;
	char path[64];

	lv_libvirtd_ns(path, sizeof(path));
	if (stat("/proc/thread-self/ns/net", &a) == -1 ||
	    stat(path, &b) == -1)
		return 0;
	return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

static int
lv_probe(const struct drv_conf *conf)
{
	const char *uri = conf->uri ? conf->uri : LV_DEFAULT_URI;
	virConnectPtr c;

	virSetErrorFunc(NULL, lv_quiet);
	if ((c = virConnectOpen(uri)) == NULL)
		return err_set(ERR_UNSUPPORTED, "cannot connect to libvirt at "
		    "%s: %s", uri, virGetLastErrorMessage());
	virConnectClose(c);
	return 0;
}

static int
lv_open(struct drv *drv)
{
	const char *uri = drv->conf.uri ? drv->conf.uri : LV_DEFAULT_URI;
	struct lv *lv;

	virSetErrorFunc(NULL, lv_quiet);
	if ((lv = calloc(1, sizeof(*lv))) == NULL)
		return err_nomem();
	str_lcpy(lv->uri, uri, sizeof(lv->uri));
	lv->flav = lv_flavour_of(uri);
	lv->tcg = drv->conf.virt_type == 1;
	lv->imgdir = drv->conf.imgdir;
	lv->movetaps = lv->flav != LV_TEST && lv_other_ns();
	if (lv->movetaps)
		log_debug("libvirt: the agent runs outside libvirtd's network "
		    "namespace: taps will be moved into it");
	if ((lv->conn = virConnectOpen(uri)) == NULL) {
		err_set(ERR_UNSUPPORTED, "cannot connect to libvirt at %s: %s",
		    uri, virGetLastErrorMessage());
		free(lv);
		return -1;
	}
	drv->priv = lv;
	return 0;
}

static void
lv_close(struct drv *drv)
{
	struct lv *lv = drv->priv;

	virConnectClose(lv->conn);
	free(lv);
}

static void
dom_name(const char *id, char *buf, size_t size)
{
	snprintf(buf, size, VNODE_PREFIX "%s", id);
}

/* The domain of node id, or NULL with ERR_NOT_FOUND. */
static virDomainPtr
lv_dom(struct lv *lv, const char *id)
{
	char name[VNODE_ID_MAX + 8];
	virDomainPtr d;

	dom_name(id, name, sizeof(name));
	if ((d = virDomainLookupByName(lv->conn, name)) == NULL)
		err_set(ERR_NOT_FOUND, "no libvirt domain for node '%s' at %s",
		    id, lv->uri);
	return d;
}

/*
 * An rtnetlink socket in the network namespace at path, or in this
 * thread's when path is NULL: a socket stays in the namespace it was
 * connected in, so enter, connect and come back.  NULL with an error.
 */
static struct nl_sock *
lv_nl_socket(const char *path)
{
	struct nl_sock *sk;
	int fd = -1, orig = -1, rc = -1;

	if ((sk = nl_socket_alloc()) == NULL) {
		err_nomem();
		return NULL;
	}
	if (path == NULL) {
		if (nl_connect(sk, NETLINK_ROUTE) < 0)
			goto fail;
		return sk;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) ==
	    -1 || setns(fd, CLONE_NEWNET) == -1) {
		err_sys("enter the network namespace %s", path);
		goto out;
	}
	rc = nl_connect(sk, NETLINK_ROUTE) < 0 ? -1 : 0;
	if (setns(orig, CLONE_NEWNET) == -1)
		fatal("cannot return to the agent's network namespace");
out:
	if (fd != -1)
		close(fd);
	if (orig != -1)
		close(orig);
	if (rc == 0)
		return sk;
fail:
	if (err_count() == 0)
		err_set(ERR_SYSTEM, "cannot open rtnetlink%s%s",
		    path ? " in " : "", path ? path : "");
	nl_socket_free(sk);
	return NULL;
}

/*
 * The host-side device names of domain d's ethernet interfaces (all, or
 * the one with alias ua-<ifname>), from its live XML.  Returns how many
 * were put in names.
 */
static size_t
lv_taps(virDomainPtr d, const char *ifname, char names[][IFNAMSIZ],
    size_t max)
{
	char *desc, expr[160];
	xmlDocPtr doc;
	xmlXPathContextPtr ctx = NULL;
	xmlXPathObjectPtr obj = NULL;
	size_t n = 0;

	if (ifname != NULL && strchr(ifname, '\'') != NULL)
		return 0;
	if ((desc = virDomainGetXMLDesc(d, 0)) == NULL)
		return 0;
	doc = xmlReadMemory(desc, (int)strlen(desc), "domain.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	free(desc);
	if (doc == NULL)
		return 0;
	if (ifname != NULL)
		snprintf(expr, sizeof(expr), "/domain/devices/interface"
		    "[@type='ethernet'][alias/@name='ua-%s']/target/@dev",
		    ifname);
	else
		snprintf(expr, sizeof(expr), "/domain/devices/interface"
		    "[@type='ethernet']/target/@dev");
	if ((ctx = xmlXPathNewContext(doc)) != NULL &&
	    (obj = xmlXPathEvalExpression(BAD_CAST expr, ctx)) != NULL &&
	    obj->nodesetval != NULL) {
		for (int i = 0; i < obj->nodesetval->nodeNr && n < max; i++) {
			xmlChar *v = xmlNodeGetContent(
			    obj->nodesetval->nodeTab[i]);

			if (v != NULL && v[0] != '\0' &&
			    strlen((const char *)v) < IFNAMSIZ)
				str_lcpy(names[n++], (const char *)v, IFNAMSIZ);
			xmlFree(v);
		}
	}
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return n;
}

/* Bring link l (in sk's namespace) up. */
static int
lv_link_up(struct nl_sock *sk, struct rtnl_link *l)
{
	struct rtnl_link *ch;
	int e;

	if (rtnl_link_get_flags(l) & IFF_UP)
		return 0;
	if ((ch = rtnl_link_alloc()) == NULL)
		return -NLE_NOMEM;
	rtnl_link_set_flags(ch, IFF_UP);
	e = rtnl_link_change(sk, l, ch, 0);
	rtnl_link_put(ch);
	return e;
}

/*
 * Move node id's taps (all, or interface ifname's) that libvirtd made in
 * its namespace into ours and bring them up; a tap already here is only
 * brought up.  A no-op unless lv->movetaps.
 */
static int
lv_move_taps(struct lv *lv, const char *id, const char *ifname)
{
	char names[LV_TAPS_MAX][IFNAMSIZ], rootns[64];
	struct nl_sock *here = NULL, *root = NULL;
	virDomainPtr d;
	size_t n;
	int self = -1, rc = 0;

	if (!lv->movetaps)
		return 0;
	if ((d = lv_dom(lv, id)) == NULL)
		return -1;
	n = lv_taps(d, ifname, names, LV_TAPS_MAX);
	virDomainFree(d);
	if (n == 0)
		return 0;
	lv_libvirtd_ns(rootns, sizeof(rootns));
	if ((here = lv_nl_socket(NULL)) == NULL ||
	    (root = lv_nl_socket(rootns)) == NULL) {
		rc = -1;
		goto out;
	}
	if ((self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) ==
	    -1) {
		rc = err_sys("open /proc/thread-self/ns/net");
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct rtnl_link *l = NULL, *ch;
		int e = 0;

		if (rtnl_link_get_kernel(here, 0, names[i], &l) < 0) {
			if (rtnl_link_get_kernel(root, 0, names[i], &l) < 0) {
				rc = err_set(ERR_SYSTEM, "tap %s of node '%s' "
				    "is neither in libvirtd's network "
				    "namespace nor in ours", names[i], id);
				break;
			}
			if ((ch = rtnl_link_alloc()) == NULL)
				e = -NLE_NOMEM;
			else {
				rtnl_link_set_ns_fd(ch, self);
				e = rtnl_link_change(root, l, ch, 0);
				rtnl_link_put(ch);
			}
			rtnl_link_put(l);
			l = NULL;
			if (e == 0)
				e = rtnl_link_get_kernel(here, 0, names[i], &l);
		}
		if (e == 0)
			e = lv_link_up(here, l);
		if (l != NULL)
			rtnl_link_put(l);
		if (e < 0)
			rc = err_set(ERR_SYSTEM, "move tap %s of node '%s' into "
			    "the agent's network namespace: %s", names[i], id,
			    nl_geterror(e));
		else
			log_debug("libvirt: tap %s of node %s is in the agent's "
			    "namespace", names[i], id);
	}
out:
	if (self != -1)
		close(self);
	if (here != NULL)
		nl_socket_free(here);
	if (root != NULL)
		nl_socket_free(root);
	return rc;
}

/*
 * Delete the named taps that are still in our namespace: libvirtd tries
 * in its own and cannot see them there.  Best effort.
 */
static void
lv_del_taps(struct lv *lv, char names[][IFNAMSIZ], size_t n)
{
	struct nl_sock *here;

	if (!lv->movetaps || n == 0)
		return;
	if ((here = lv_nl_socket(NULL)) == NULL) {
		log_warnx("libvirt: %s", err_last()->msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct rtnl_link *l = NULL;

		if (rtnl_link_get_kernel(here, 0, names[i], &l) < 0)
			continue;
		if (rtnl_link_delete(here, l) == 0)
			log_debug("libvirt: deleted tap %s", names[i]);
		rtnl_link_put(l);
	}
	nl_socket_free(here);
}

/*
 * Is this node an LXC domain?  The connection decides: an lxc:// URI
 * makes containers whatever the kind says (the agent picks the driver
 * instance by kind).
 */
static int
lv_is_lxc(const struct lv *lv, const struct vnode_spec *spec)
{
	return lv->flav == LV_LXC;
}

/* The words that tell the guest its interfaces and routes. */
static void
guest_args(struct sb *sb, const struct vnode_spec *spec, const char *sep)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	sb_printf(sb, "vnsm.id=");
	sb_esc(sb, spec->id);
	for (size_t i = 0; i < spec->nifs; i++) {
		const struct vnode_if *f = &spec->ifs[i];
		uint8_t m[6];

		vnode_if_mac(spec->id, f, m);
		inet_ntop(AF_INET, &f->addr, a, sizeof(a));
		sb_printf(sb, "%svnsm.if=", sep);
		sb_esc(sb, f->name);
		sb_printf(sb, ",%02x:%02x:%02x:%02x:%02x:%02x,%s/%u", m[0], m[1],
		    m[2], m[3], m[4], m[5], a, f->prefix);
		if (f->mtu != 0)
			sb_printf(sb, ",%u", f->mtu);
	}
	for (size_t i = 0; i < spec->nroutes; i++) {
		const struct vnode_route *r = &spec->routes[i];

		inet_ntop(AF_INET, &r->dst, a, sizeof(a));
		inet_ntop(AF_INET, &r->via, g, sizeof(g));
		sb_printf(sb, "%svnsm.route=%s/%u,%s", sep, a, r->prefix, g);
	}
}

/* One <interface>. */
static void
iface_xml(struct sb *sb, const struct lv *lv, const struct vnode_spec *spec,
    const struct vnode_if *f)
{
	uint8_t m[6];

	vnode_if_mac(spec->id, f, m);
	if (f->bridge[0] != '\0') {
		sb_printf(sb, "    <interface type='bridge'>\n"
		    "      <source bridge='");
		sb_esc(sb, f->bridge);
		sb_printf(sb, "'/>\n");
	} else
		sb_printf(sb, "    <interface type='ethernet'>\n");
	sb_printf(sb, "      <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n",
	    m[0], m[1], m[2], m[3], m[4], m[5]);
	if (f->peer[0] != '\0') {
		sb_printf(sb, "      <target dev='");
		sb_esc(sb, f->peer);
		sb_printf(sb, "'/>\n");
	}
	if (lv->flav == LV_LXC) {
		sb_printf(sb, "      <guest dev='");
		sb_esc(sb, f->name);
		sb_printf(sb, "'/>\n");
	} else
		sb_printf(sb, "      <model type='virtio'/>\n");
	if (f->mtu != 0)
		sb_printf(sb, "      <mtu size='%u'/>\n", f->mtu);
	sb_printf(sb, "      <alias name='ua-");
	sb_esc(sb, f->name);
	sb_printf(sb, "'/>\n    </interface>\n");
}

/*
 * The domain XML of a node.  Returns a malloc'd string or NULL (with an
 * error).  drv_libvirt_xml() gives it without a connection.
 */
static char *
dom_xml(const struct lv *lv, const struct vnode_spec *spec)
{
	struct sb sb = { 0 };
	const char *type;
	unsigned mem = spec->mem_mib ? spec->mem_mib : 256;
	unsigned vcpu = spec->cpu_milli ? (spec->cpu_milli + 999) / 1000 : 1;
	const char *img = lv->imgdir ? lv->imgdir : "/var/lib/vnsm/images";
	int lxc = lv_is_lxc(lv, spec);

	if (lv->flav == LV_TEST)
		type = "test";
	else if (lxc)
		type = "lxc";
	else
		type = lv->tcg ? "qemu" : "kvm";
	sb_printf(&sb, "<domain type='%s'>\n  <name>" VNODE_PREFIX, type);
	sb_esc(&sb, spec->id);
	sb_printf(&sb, "</name>\n  <title>");
	sb_esc(&sb, spec->name);
	sb_printf(&sb, "</title>\n  <metadata>\n"
	    "    <vnsm:node xmlns:vnsm='" LV_NS "' id='");
	sb_esc(&sb, spec->id);
	sb_printf(&sb, "' name='");
	sb_esc(&sb, spec->name);
	sb_printf(&sb, "' kind='%s' image='", vnode_kind_to_string(spec->kind));
	sb_esc(&sb, spec->image);
	sb_printf(&sb, "'/>\n  </metadata>\n"
	    "  <memory unit='MiB'>%u</memory>\n  <vcpu>%u</vcpu>\n", mem, vcpu);
	if (spec->cpu_milli != 0 && lv->flav != LV_TEST)
		sb_printf(&sb, "  <cputune>\n    <period>100000</period>\n"
		    "    <quota>%u</quota>\n  </cputune>\n",
		    spec->cpu_milli * 100 / vcpu);
	if (lxc) {
		sb_printf(&sb, "  <os>\n    <type>exe</type>\n"
		    "    <init>/init</init>\n    <initarg>");
		guest_args(&sb, spec, "</initarg>\n    <initarg>");
		sb_printf(&sb, "</initarg>\n  </os>\n");
	} else {
		sb_printf(&sb, "  <os>\n    <type arch='x86_64'>hvm</type>\n"
		    "    <kernel>");
		sb_esc(&sb, img);
		sb_printf(&sb, "/");
		sb_esc(&sb, spec->image);
		sb_printf(&sb, "/vmlinuz</kernel>\n    <initrd>");
		sb_esc(&sb, img);
		sb_printf(&sb, "/");
		sb_esc(&sb, spec->image);
		sb_printf(&sb, "/initrd.img</initrd>\n    <cmdline>"
		    "console=ttyS0 panic=-1 quiet ");
		guest_args(&sb, spec, " ");
		sb_printf(&sb, "</cmdline>\n  </os>\n"
		    "  <features>\n    <acpi/>\n  </features>\n");
	}
	sb_printf(&sb, "  <on_poweroff>destroy</on_poweroff>\n"
	    "  <on_reboot>restart</on_reboot>\n"
	    "  <on_crash>destroy</on_crash>\n  <devices>\n");
	if (lxc) {
		sb_printf(&sb, "    <filesystem type='mount'>\n"
		    "      <source dir='");
		sb_esc(&sb, img);
		sb_printf(&sb, "/");
		sb_esc(&sb, spec->image);
		sb_printf(&sb, "/rootfs'/>\n      <target dir='/'/>\n"
		    "    </filesystem>\n");
	}
	for (size_t i = 0; i < spec->nifs; i++)
		iface_xml(&sb, lv, spec, &spec->ifs[i]);
	if (lxc)
		sb_printf(&sb, "    <console type='pty'/>\n");
	else
		sb_printf(&sb, "    <serial type='pty'>\n"
		    "      <target port='0'/>\n    </serial>\n"
		    "    <console type='pty'>\n"
		    "      <target type='serial' port='0'/>\n    </console>\n");
	sb_printf(&sb, "  </devices>\n</domain>\n");
	if (sb.err) {
		free(sb.buf);
		err_set(ERR_INVALID, "the domain XML of node '%s' is over %d "
		    "bytes", spec->id, LV_XML_MAX);
		return NULL;
	}
	return sb.buf;
}

char *
drv_libvirt_xml(const struct drv_conf *conf, const struct vnode_spec *spec)
{
	struct lv lv;

	memset(&lv, 0, sizeof(lv));
	str_lcpy(lv.uri, conf->uri ? conf->uri : LV_DEFAULT_URI,
	    sizeof(lv.uri));
	lv.flav = lv_flavour_of(lv.uri);
	lv.tcg = conf->virt_type == 1;
	lv.imgdir = conf->imgdir;
	if (vnode_spec_check(spec) == -1)
		return NULL;
	return dom_xml(&lv, spec);
}

/* The image files a node needs must exist (except on test://). */
static int
image_check(const struct lv *lv, const struct vnode_spec *spec)
{
	const char *img = lv->imgdir ? lv->imgdir : "/var/lib/vnsm/images";
	const char *need = lv_is_lxc(lv, spec) ? "rootfs/init" : "vmlinuz";
	char p[1024];

	if (lv->flav == LV_TEST)
		return 0;
	if (spec->image[0] == '\0' || strchr(spec->image, '/') != NULL ||
	    spec->image[0] == '.')
		return err_set(ERR_INVALID, "node '%s' needs an image name "
		    "(a plain name under %s)", spec->id, img);
	snprintf(p, sizeof(p), "%s/%s/%s", img, spec->image, need);
	if (access(p, R_OK) == -1)
		return err_set(ERR_NOT_FOUND, "unknown image '%s' for node "
		    "'%s': %s does not exist", spec->image, spec->id, p);
	return 0;
}

static int
lv_create(struct drv *drv, const struct vnode_spec *spec)
{
	struct lv *lv = drv->priv;
	virDomainPtr d;
	char *xml;

	if (vnode_spec_check(spec) == -1 || image_check(lv, spec) == -1)
		return -1;
	if ((d = lv_dom(lv, spec->id)) != NULL) {
		virDomainFree(d);
		return err_set(ERR_CONFLICT, "libvirt node '%s' exists "
		    "already", spec->id);
	}
	err_reset();
	if ((xml = dom_xml(lv, spec)) == NULL)
		return -1;
	d = virDomainDefineXML(lv->conn, xml);
	free(xml);
	if (d == NULL)
		return lv_fail(ERR_SYSTEM, "define", spec->id);
	virDomainFree(d);
	return 0;
}

/* Run one lifecycle call on node id's domain. */
static int
lv_do(struct drv *drv, const char *id, int (*fn)(virDomainPtr),
    const char *what)
{
	virDomainPtr d;
	int rc = 0;

	if ((d = lv_dom(drv->priv, id)) == NULL)
		return -1;
	if (fn(d) == -1)
		rc = lv_fail(ERR_CONFLICT, what, id);
	virDomainFree(d);
	return rc;
}

/*
 * Forget node id's held console pty (lv_console.c), when its domain
 * stops or goes.
 */
static void
lv_unhold(struct lv *lv, const char *id)
{
	char dom[VNODE_ID_MAX + 8];

	dom_name(id, dom, sizeof(dom));
	lvc_release(dom);
}

static int
lv_console(struct drv *drv, const char *id, struct vnode_console *con);

/*
 * Start; then move the taps into our namespace if need be, and hold a
 * QEMU domain's console pty open so that exec answers at once.
 */
static int
lv_start(struct drv *drv, const char *id)
{
	struct lv *lv = drv->priv;
	struct vnode_console con;

	if (lv_do(drv, id, virDomainCreate, "start") == -1)
		return -1;
	if (lv_move_taps(lv, id, NULL) == -1) {
		lv_do(drv, id, virDomainDestroy, "stop");
		return -1;
	}
	if (lv->flav == LV_QEMU && lv_console(drv, id, &con) == 0 &&
	    con.kind == VNODE_CON_PTY) {
		lv_unhold(lv, id);	/* a pty of an earlier run */
		lvc_hold(con.domain, con.path);
	}
	err_reset();
	return 0;
}

/* Stop is a power cut: nodes are disposable and this is fast. */
static int
lv_stop(struct drv *drv, const char *id)
{
	struct lv *lv = drv->priv;
	char taps[LV_TAPS_MAX][IFNAMSIZ];
	size_t ntaps = 0;
	virDomainPtr d;

	if (lv->movetaps && (d = lv_dom(lv, id)) != NULL) {
		if (virDomainIsActive(d) == 1)
			ntaps = lv_taps(d, NULL, taps, LV_TAPS_MAX);
		virDomainFree(d);
	}
	err_reset();
	if (lv_do(drv, id, virDomainDestroy, "stop") == -1)
		return -1;
	lv_unhold(lv, id);
	lv_del_taps(lv, taps, ntaps);
	return 0;
}

static int
lv_pause(struct drv *drv, const char *id)
{
	return lv_do(drv, id, virDomainSuspend, "pause");
}

static int
lv_resume(struct drv *drv, const char *id)
{
	return lv_do(drv, id, virDomainResume, "resume");
}

/* Flags to change both the live domain (if running) and its config. */
static unsigned
dev_flags(virDomainPtr d)
{
	unsigned f = VIR_DOMAIN_AFFECT_CONFIG;

	if (virDomainIsActive(d) == 1)
		f |= VIR_DOMAIN_AFFECT_LIVE;
	return f;
}

static int
lv_attach(struct drv *drv, const char *id, const struct vnode_if *ifc)
{
	struct lv *lv = drv->priv;
	struct vnode_spec sp;
	struct sb sb = { 0 };
	virDomainPtr d;
	int rc = 0;

	memset(&sp, 0, sizeof(sp));
	str_lcpy(sp.id, id, sizeof(sp.id));
	str_lcpy(sp.name, id, sizeof(sp.name));
	sp.ifs[0] = *ifc;
	sp.nifs = 1;
	if (vnode_spec_check(&sp) == -1)
		return -1;
	if ((d = lv_dom(lv, id)) == NULL)
		return -1;
	iface_xml(&sb, lv, &sp, ifc);
	if (sb.err)
		rc = err_nomem();
	else if (virDomainAttachDeviceFlags(d, sb.buf, dev_flags(d)) == -1)
		rc = lv_fail(ERR_SYSTEM, "attach interface", id);
	free(sb.buf);
	virDomainFree(d);
	if (rc == 0 && lv_move_taps(lv, id, ifc->name) == -1)
		rc = -1;
	return rc;
}

/*
 * The XML of the <interface> with alias ua-<ifname> in the domain's
 * description, as a malloc'd string; NULL (ERR_NOT_FOUND) if none.
 */
static char *
iface_find(virDomainPtr d, const char *id, const char *ifname)
{
	char *desc, *out = NULL, expr[128];
	xmlDocPtr doc;
	xmlXPathContextPtr ctx = NULL;
	xmlXPathObjectPtr obj = NULL;
	xmlBufferPtr buf = NULL;

	if (strchr(ifname, '\'') != NULL) {
		err_set(ERR_INVALID, "bad interface name '%s'", ifname);
		return NULL;
	}
	if ((desc = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE)) == NULL) {
		lv_fail(ERR_SYSTEM, "read the XML", id);
		return NULL;
	}
	doc = xmlReadMemory(desc, (int)strlen(desc), "domain.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	free(desc);
	if (doc == NULL) {
		err_set(ERR_INTERNAL, "libvirt gave unparsable XML for node "
		    "'%s'", id);
		return NULL;
	}
	snprintf(expr, sizeof(expr),
	    "/domain/devices/interface[alias/@name='ua-%s']", ifname);
	if ((ctx = xmlXPathNewContext(doc)) == NULL ||
	    (obj = xmlXPathEvalExpression(BAD_CAST expr, ctx)) == NULL ||
	    obj->nodesetval == NULL || obj->nodesetval->nodeNr == 0) {
		err_set(ERR_NOT_FOUND, "libvirt node '%s' has no interface "
		    "'%s'", id, ifname);
		goto out;
	}
	if ((buf = xmlBufferCreate()) == NULL ||
	    xmlNodeDump(buf, doc, obj->nodesetval->nodeTab[0], 0, 0) < 0 ||
	    (out = strdup((const char *)xmlBufferContent(buf))) == NULL)
		err_nomem();
out:
	if (buf != NULL)
		xmlBufferFree(buf);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return out;
}

static int
lv_detach(struct drv *drv, const char *id, const char *ifname)
{
	struct lv *lv = drv->priv;
	char taps[1][IFNAMSIZ];
	size_t ntaps = 0;
	virDomainPtr d;
	char *x;
	int rc = 0;

	if ((d = lv_dom(lv, id)) == NULL)
		return -1;
	if (lv->movetaps && virDomainIsActive(d) == 1)
		ntaps = lv_taps(d, ifname, taps, 1);
	if ((x = iface_find(d, id, ifname)) == NULL)
		rc = -1;
	else if (virDomainDetachDeviceFlags(d, x, dev_flags(d)) == -1)
		rc = lv_fail(ERR_SYSTEM, "detach interface", id);
	free(x);
	virDomainFree(d);
	lv_del_taps(lv, taps, ntaps);
	return rc;
}

static int
lv_delete(struct drv *drv, const char *id)
{
	struct lv *lv = drv->priv;
	char taps[LV_TAPS_MAX][IFNAMSIZ];
	size_t ntaps = 0;
	virDomainPtr d;
	int rc = 0;

	if ((d = lv_dom(lv, id)) == NULL)
		return -1;
	if (lv->movetaps && virDomainIsActive(d) == 1)
		ntaps = lv_taps(d, NULL, taps, LV_TAPS_MAX);
	if (virDomainIsActive(d) == 1 && virDomainDestroy(d) == -1)
		rc = lv_fail(ERR_SYSTEM, "destroy", id);
	else if (virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
	    VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA) == -1 &&
	    virDomainUndefine(d) == -1)
		rc = lv_fail(ERR_SYSTEM, "undefine", id);
	virDomainFree(d);
	if (rc == 0) {
		lv_unhold(lv, id);
		lv_del_taps(lv, taps, ntaps);
	}
	return rc;
}

static enum vnode_state
lv_state(virDomainPtr d)
{
	int st, reason;

	if (virDomainGetState(d, &st, &reason, 0) == -1)
		return VNODE_ST_UNKNOWN;
	switch (st) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return VNODE_ST_RUNNING;
	case VIR_DOMAIN_PAUSED:
		return VNODE_ST_PAUSED;
	case VIR_DOMAIN_SHUTOFF:
	case VIR_DOMAIN_SHUTDOWN:
	case VIR_DOMAIN_CRASHED:
		return VNODE_ST_DEFINED;
	default:
		return VNODE_ST_UNKNOWN;
	}
}

/* Copy attribute attr of our metadata element into buf ("" if absent). */
static void
meta_attr(virDomainPtr d, const char *attr, char *buf, size_t size)
{
	char *m, *p, key[32];
	size_t n;

	buf[0] = '\0';
	if ((m = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, LV_NS,
	    0)) == NULL)
		return;
	snprintf(key, sizeof(key), " %s=\"", attr);
	if ((p = strstr(m, key)) != NULL) {
		p += strlen(key);
		n = strcspn(p, "\"");
		if (n < size) {
			memcpy(buf, p, n);
			buf[n] = '\0';
		}
	}
	free(m);
}

static int
lv_list(struct drv *drv, struct vnode_info **out, size_t *np)
{
	struct lv *lv = drv->priv;
	virDomainPtr *doms = NULL;
	struct vnode_info *v;
	size_t n = 0;
	int nd;

	*out = NULL;
	*np = 0;
	if ((nd = virConnectListAllDomains(lv->conn, &doms, 0)) < 0)
		return err_set(ERR_SYSTEM, "list domains at %s: %s", lv->uri,
		    virGetLastErrorMessage());
	if ((v = calloc((size_t)nd + 1, sizeof(*v))) == NULL) {
		for (int i = 0; i < nd; i++)
			virDomainFree(doms[i]);
		free(doms);
		return err_nomem();
	}
	for (int i = 0; i < nd; i++) {
		const char *name = virDomainGetName(doms[i]);
		char mid[VNODE_ID_MAX];

		if (name != NULL && strncmp(name, VNODE_PREFIX,
		    strlen(VNODE_PREFIX)) == 0) {
			/* Ours by name; the metadata must agree if present. */
			meta_attr(doms[i], "id", mid, sizeof(mid));
			if (mid[0] == '\0' || strcmp(mid, name +
			    strlen(VNODE_PREFIX)) == 0) {
				str_lcpy(v[n].id, name + strlen(VNODE_PREFIX),
				    sizeof(v[n].id));
				str_lcpy(v[n].handle, name, sizeof(v[n].handle));
				meta_attr(doms[i], "name", v[n].name,
				    sizeof(v[n].name));
				v[n].state = lv_state(doms[i]);
				n++;
			}
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	*out = v;
	*np = n;
	return 0;
}

/*
 * The console: the pty libvirt made for it (while the domain runs), and
 * always the URI and domain for a console stream (virsh console).
 */
static int
lv_console(struct drv *drv, const char *id, struct vnode_console *con)
{
	struct lv *lv = drv->priv;
	virDomainPtr d;
	char *x, *p;

	if ((d = lv_dom(lv, id)) == NULL)
		return -1;
	memset(con, 0, sizeof(*con));
	con->kind = VNODE_CON_STREAM;
	str_lcpy(con->uri, lv->uri, sizeof(con->uri));
	dom_name(id, con->domain, sizeof(con->domain));
	if (virDomainIsActive(d) == 1 &&
	    (x = virDomainGetXMLDesc(d, 0)) != NULL) {
		/* <console type='pty' tty='/dev/pts/N'> */
		if ((p = strstr(x, "<console type='pty' tty='")) != NULL) {
			p += strlen("<console type='pty' tty='");
			size_t n = strcspn(p, "'");

			if (n < sizeof(con->path)) {
				memcpy(con->path, p, n);
				con->path[n] = '\0';
				con->kind = VNODE_CON_PTY;
			}
		}
		free(x);
	}
	virDomainFree(d);
	return 0;
}

/*
 * exec through the domain's console (lv_console.c): the router image
 * keeps a root shell there.  The agent passes sh -c CMD; other argv are
 * quoted into one shell command.
 */
static int
lv_exec(struct drv *drv, const char *id, const struct vnode_exec *ex,
    int *status)
{
	struct lv *lv = drv->priv;
	char dom[VNODE_ID_MAX + 8], *cmd;
	struct buf b;
	int rc;

	if (lv->flav == LV_TEST)
		return err_set(ERR_UNSUPPORTED, "the libvirt driver cannot run "
		    "commands in node '%s': test:// domains run no guest", id);
	if (ex->argv == NULL || ex->argv[0] == NULL)
		return err_set(ERR_INVALID, "exec in node '%s': no command", id);
	buf_init(&b);
	if (ex->argv[1] != NULL && ex->argv[2] != NULL &&
	    ex->argv[3] == NULL && strcmp(ex->argv[1], "-c") == 0 &&
	    (strcmp(ex->argv[0], "sh") == 0 ||
	    strcmp(ex->argv[0], "/bin/sh") == 0))
		buf_puts(&b, ex->argv[2]);
	else {
		for (size_t i = 0; ex->argv[i] != NULL; i++) {
			buf_puts(&b, i > 0 ? " '" : "'");
			for (const char *p = ex->argv[i]; *p != '\0'; p++)
				if (*p == '\'')
					buf_puts(&b, "'\\''");
				else
					buf_append(&b, p, 1);
			buf_puts(&b, "'");
		}
	}
	if ((cmd = buf_steal(&b, NULL)) == NULL)
		return -1;
	dom_name(id, dom, sizeof(dom));
	rc = lvc_exec(lv->uri, dom, id, cmd, ex->out, ex->out ? ex->outsz : 0,
	    ex->timeout_ms > 0 ? ex->timeout_ms : 10000, status);
	free(cmd);
	return rc;
}

const struct drv_ops drv_libvirt_ops = {
	.name = "libvirt",
	.probe = lv_probe,
	.open = lv_open,
	.close = lv_close,
	.create = lv_create,
	.start = lv_start,
	.stop = lv_stop,
	.pause = lv_pause,
	.resume = lv_resume,
	.attach = lv_attach,
	.detach = lv_detach,
	.delete = lv_delete,
	.list = lv_list,
	.console = lv_console,
	.exec = lv_exec,
};
