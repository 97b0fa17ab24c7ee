/*
 * substrated's configuration file: keys, defaults, checks, and the
 * normalised print of -nv.  The syntax is lib/conf.h's; the keys are in
 * substrated(8).
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "error.h"
#include "substrated.h"
#include "tunnel.h"
#include "units.h"

static const char *const slot_names[SD_SLOT_LAST] = { "netns", "qemu",
	"lxc" };

int
sd_kind_slot(enum node_kind k)
{
	switch (k) {
	case NODE_NETNS:
	case NODE_GATEWAY:
		return SD_SLOT_NETNS;
	case NODE_VM:
		return SD_SLOT_QEMU;
	case NODE_CONTAINER:
		return SD_SLOT_LXC;
	default:
		return -1;
	}
}

/* Copy a string key into dst; an over-long value is an error. */
static int
get_str(struct conf_section *s, const char *key, const char *def, char *dst,
    size_t size)
{
	const char *v;

	if (conf_str(s, key, def, &v) == -1)
		return -1;
	if (v == NULL) {
		dst[0] = '\0';
		return 0;
	}
	if (str_lcpy(dst, v, size) >= size)
		return conf_error(s, key, "'%s' is longer than %zu bytes", v,
		    size - 1);
	return 0;
}

static int
get_cpu(struct conf_section *s, const char *key, uint32_t def, uint32_t *out)
{
	const char *v;

	if (conf_str(s, key, NULL, &v) == -1)
		return -1;
	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (units_parse_cpu(v, out) == -1 || *out > CPU_MAX_MILLI)
		return conf_error(s, key, "'%s' is not a number of cores "
		    "(e.g. 4 or 0.5)", v);
	return 0;
}

static int
get_mem(struct conf_section *s, const char *key, uint64_t def, uint64_t *out)
{
	uint64_t b;

	if (conf_size(s, key, def << 20, &b) == -1)
		return -1;
	*out = b >> 20;
	return 0;
}

/* An interval: "2" or "2s" seconds, "500ms" milliseconds; 0.1 s..1 h. */
static int
get_interval(struct conf_section *s, const char *key, unsigned def,
    unsigned *out)
{
	const char *v;
	char *end;
	unsigned long n;

	if (conf_str(s, key, NULL, &v) == -1)
		return -1;
	if (v == NULL) {
		*out = def;
		return 0;
	}
	n = strtoul(v, &end, 10);
	if (end == v)
		n = ULONG_MAX;
	else if (strcmp(end, "ms") == 0)
		;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		n = n <= 3600 ? n * 1000 : ULONG_MAX;
	else
		n = ULONG_MAX;
	if (n < 100 || n > 3600000)
		return conf_error(s, key, "'%s' is not an interval from 100ms "
		    "to 3600s (e.g. 2s or 500ms)", v);
	*out = (unsigned)n;
	return 0;
}

/*
 * The drivers list: "netns qemu lxc" (libvirt means qemu and lxc); "sim"
 * alone enables every slot on the sim driver (no real resources).
 */
static int
get_drivers(struct conf_section *s, unsigned *mask, int *sim)
{
	char buf[256], *p, *w, *save = NULL;

	if (get_str(s, "drivers", "netns", buf, sizeof(buf)) == -1)
		return -1;
	*mask = 0;
	*sim = 0;
	for (p = buf; (w = strtok_r(p, " \t,", &save)) != NULL; p = NULL) {
		size_t i;

		if (strcmp(w, "sim") == 0) {
			*sim = 1;
			continue;
		}
		if (strcmp(w, "libvirt") == 0) {
			*mask |= 1u << SD_SLOT_QEMU | 1u << SD_SLOT_LXC;
			continue;
		}
		for (i = 0; i < SD_SLOT_LAST; i++)
			if (strcmp(w, slot_names[i]) == 0)
				break;
		if (i == SD_SLOT_LAST)
			return conf_error(s, "drivers", "unknown driver '%s' "
			    "(use netns, qemu, lxc, libvirt or sim)", w);
		*mask |= 1u << i;
	}
	if (*sim && *mask != 0)
		return conf_error(s, "drivers", "sim stands alone (it "
		    "makes every kind of node)");
	if (*sim)
		*mask = (1u << SD_SLOT_LAST) - 1;
	return 0;
}

static int
get_images(struct conf_section *s, struct sd_conf *c)
{
	char buf[1024], *p, *w, *save = NULL;

	if (get_str(s, "netns-images", "router", buf, sizeof(buf)) == -1)
		return -1;
	c->nimages = 0;
	for (p = buf; (w = strtok_r(p, " \t,", &save)) != NULL; p = NULL) {
		if (c->nimages == SD_IMAGES_MAX || !name_valid(w))
			return conf_error(s, "netns-images", "bad or too many "
			    "image names ('%s')", w);
		str_lcpy(c->images[c->nimages++], w, NAME_LEN);
	}
	return 0;
}

static int
get_pool(struct conf_section *s, struct sd_conf *c)
{
	struct sd_pool_conf *p = &c->pools[c->npools];
	char kind[32], drv[32];
	long long depth;
	int k, rc = 0;

	if (c->npools == SD_POOLS_MAX)
		return conf_error(s, "kind", "more than %d pools",
		    SD_POOLS_MAX);
	memset(p, 0, sizeof(*p));
	str_lcpy(p->name, conf_section_name(s), sizeof(p->name));
	if (get_str(s, "kind", "netns", kind, sizeof(kind)) == -1 ||
	    get_str(s, "driver", "", drv, sizeof(drv)) == -1 ||
	    get_str(s, "image", "router", p->image, sizeof(p->image)) == -1 ||
	    get_cpu(s, "cpu", 1000, &p->cpu) == -1 ||
	    get_mem(s, "memory", 64, &p->memory) == -1 ||
	    conf_int(s, "depth", 2, 0, 1000, &depth) == -1)
		return -1;
	if ((k = node_kind_from_string(kind)) == -1)
		return conf_error(s, "kind", "unknown node kind '%s' (use "
		    "netns, vm, container or gateway)", kind);
	p->kind = k;
	p->slot = sd_kind_slot(p->kind);
	if (drv[0] != '\0' && strcmp(drv, sd_slot_driver(p->slot)) != 0)
		rc = conf_error(s, "driver", "kind %s nodes are made by the "
		    "%s driver, not '%s'", kind, sd_slot_driver(p->slot), drv);
	if (!name_valid(p->image))
		rc = conf_error(s, "image", "bad image name '%s'", p->image);
	p->depth = (unsigned)depth;
	if (rc == 0)
		c->npools++;
	return rc;
}

/*
 * Load and check path.  Returns a malloc'd config (free()) or NULL with
 * every problem recorded as FILE:LINE errors.
 */
struct sd_conf *
sd_conf_load(const char *path)
{
	struct conf *cf;
	struct conf_section *g, *s;
	struct sd_conf *c;
	struct sockaddr_storage ss;
	socklen_t sl;
	char ul[64], tb[16], qt[16];
	long long iv;
	int rc = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t mem = (uint64_t)sysconf(_SC_PHYS_PAGES) *
	    (uint64_t)sysconf(_SC_PAGESIZE) >> 20;

	if ((cf = conf_load(path)) == NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		conf_free(cf);
		err_nomem();
		return NULL;
	}
	g = conf_global(cf);
	if (gethostname(c->host, sizeof(c->host)) == -1)
		str_lcpy(c->host, "localhost", sizeof(c->host));
	c->host[strcspn(c->host, ".")] = '\0';
	rc |= get_str(g, "listen", "*:8443", c->listen, sizeof(c->listen));
	rc |= get_str(g, "ca", "/etc/vnsm/ca.crt", c->ca, sizeof(c->ca));
	rc |= get_str(g, "cert", "/etc/vnsm/substrated.crt", c->cert,
	    sizeof(c->cert));
	rc |= get_str(g, "key", "/etc/vnsm/substrated.key", c->key,
	    sizeof(c->key));
	rc |= get_str(g, "crl", "", c->crl, sizeof(c->crl));
	rc |= get_str(g, "pipd", NULL, c->pipd, sizeof(c->pipd));
	rc |= get_str(g, "pipd-address", "", c->pipd_addr,
	    sizeof(c->pipd_addr));
	rc |= get_str(g, "host", c->host, c->host, sizeof(c->host));
	rc |= get_str(g, "pip", "pip", c->pip, sizeof(c->pip));
	rc |= get_str(g, "underlay", "", ul, sizeof(ul));
	rc |= get_str(g, "underlay-interface", "", c->underlay_if,
	    sizeof(c->underlay_if));
	rc |= get_cpu(g, "cpu", (uint32_t)(ncpu > 0 ? ncpu : 1) * 1000,
	    &c->cpu);
	rc |= get_mem(g, "memory", mem / 2, &c->memory);
	rc |= conf_int(g, "interfaces", 256, 0, 65535, &iv);
	c->interfaces = (unsigned)iv;
	rc |= get_drivers(g, &c->drivers, &c->sim);
	rc |= get_str(g, "libvirt-uri", "qemu:///system", c->libvirt_uri,
	    sizeof(c->libvirt_uri));
	rc |= get_str(g, "lxc-uri", "lxc:///system", c->lxc_uri,
	    sizeof(c->lxc_uri));
	rc |= get_str(g, "qemu-type", "kvm", qt, sizeof(qt));
	rc |= get_str(g, "image-dir", "/var/lib/vnsm/images", c->imgdir,
	    sizeof(c->imgdir));
	rc |= get_str(g, "run-dir", "/run/vnsm", c->rundir, sizeof(c->rundir));
	rc |= get_images(g, c);
	rc |= conf_bool(g, "netns-limits", 0, &c->netns_limits);
	rc |= get_str(g, "tunnel-backend", "auto", tb, sizeof(tb));
	rc |= get_str(g, "state", "/var/lib/vnsm/substrated.db", c->state,
	    sizeof(c->state));
	rc |= get_str(g, "pidfile", "/run/substrated.pid", c->pidfile,
	    sizeof(c->pidfile));
	rc |= get_interval(g, "report-interval", 2000, &c->report_ms);
	rc |= get_str(g, "id-prefix", "s", c->id_prefix, sizeof(c->id_prefix));
	if (rc != 0)
		goto fail;
	if (c->pipd[0] == '\0')
		rc |= conf_error(g, "pipd", "the CN of the pipd allowed to "
		    "command this agent is required");
	if (conf_parse_addr(c->listen, &ss, &sl) == -1)
		rc = -1;
	if (c->pipd_addr[0] != '\0' && conf_parse_addr(c->pipd_addr, &ss,
	    &sl) == -1)
		rc = -1;
	if (!name_valid(c->host))
		rc |= conf_error(g, "host", "'%s' is not a valid name",
		    c->host);
	if (!name_valid(c->pip))
		rc |= conf_error(g, "pip", "'%s' is not a valid name", c->pip);
	if (ul[0] != '\0' && units_parse_ipv4(ul, &c->underlay) == -1)
		rc |= conf_error(g, "underlay", "'%s' is not an IPv4 address",
		    ul);
	if (strcmp(qt, "kvm") == 0)
		c->qemu_tcg = 0;
	else if (strcmp(qt, "qemu") == 0)
		c->qemu_tcg = 1;
	else
		rc |= conf_error(g, "qemu-type", "'%s': use kvm or qemu", qt);
	if (strcmp(tb, "auto") == 0)
		c->tun_backend = -1;
	else if (strcmp(tb, "none") == 0)
		c->tun_backend = -2;
	else if ((c->tun_backend = tun_backend_from_string(tb)) == -1)
		rc |= conf_error(g, "tunnel-backend", "'%s': use auto, ebpf, "
		    "kernel, user or none", tb);
	if (c->id_prefix[0] == '\0' || vnode_id_check(c->id_prefix) == -1 ||
	    strlen(c->id_prefix) > 12)
		rc |= conf_error(g, "id-prefix", "'%s': 1 to 12 letters, "
		    "digits, '-' or '_'", c->id_prefix);
	for (s = NULL; (s = conf_next(cf, s, "pool")) != NULL;)
		rc |= get_pool(s, c);
	for (s = NULL; (s = conf_next(cf, s, NULL)) != NULL;)
		if (strcmp(conf_section_type(s), "pool") != 0)
			rc |= conf_error(s, NULL, "unknown section [%s]",
			    conf_section_type(s));
	if (rc == 0 && conf_check_unused(cf) == -1)
		rc = -1;
	if (rc == 0) {
		conf_free(cf);
		return c;
	}
fail:
	conf_free(cf);
	free(c);
	return NULL;
}

void
sd_conf_print(const struct sd_conf *c, FILE *fp)
{
	char b[64];

	fprintf(fp, "listen %s\nca %s\ncert %s\nkey %s\n", c->listen, c->ca,
	    c->cert, c->key);
	if (c->crl[0] != '\0')
		fprintf(fp, "crl %s\n", c->crl);
	fprintf(fp, "pipd %s\n", c->pipd);
	if (c->pipd_addr[0] != '\0')
		fprintf(fp, "pipd-address %s\n", c->pipd_addr);
	fprintf(fp, "host %s\npip %s\n", c->host, c->pip);
	if (c->underlay != 0)
		fprintf(fp, "underlay %s\n", units_fmt_ipv4(c->underlay, b,
		    sizeof(b)));
	if (c->underlay_if[0] != '\0')
		fprintf(fp, "underlay-interface %s\n", c->underlay_if);
	fprintf(fp, "cpu %s\n", units_fmt_cpu(c->cpu, b, sizeof(b)));
	fprintf(fp, "memory %s\n", units_fmt_mem(c->memory, b, sizeof(b)));
	fprintf(fp, "interfaces %u\ndrivers", c->interfaces);
	if (c->sim)
		fprintf(fp, " sim");
	for (int i = 0; i < SD_SLOT_LAST && !c->sim; i++)
		if (c->drivers & (1u << i))
			fprintf(fp, " %s", slot_names[i]);
	fprintf(fp, "\nlibvirt-uri %s\nlxc-uri %s\nqemu-type %s\n",
	    c->libvirt_uri, c->lxc_uri, c->qemu_tcg ? "qemu" : "kvm");
	fprintf(fp, "image-dir %s\nrun-dir %s\nnetns-images", c->imgdir,
	    c->rundir);
	for (size_t i = 0; i < c->nimages; i++)
		fprintf(fp, " %s", c->images[i]);
	fprintf(fp, "\nnetns-limits %s\ntunnel-backend %s\n",
	    c->netns_limits ? "yes" : "no", c->tun_backend == -1 ? "auto" :
	    c->tun_backend == -2 ? "none" :
	    tun_backend_to_string(c->tun_backend));
	fprintf(fp, "state %s\npidfile %s\nreport-interval %ums\nid-prefix %s\n",
	    c->state, c->pidfile, c->report_ms, c->id_prefix);
	for (size_t i = 0; i < c->npools; i++) {
		const struct sd_pool_conf *p = &c->pools[i];

		fprintf(fp, "\n[pool %s]\ndriver %s\nkind %s\nimage %s\n",
		    p->name, sd_slot_driver(p->slot),
		    node_kind_to_string(p->kind), p->image);
		fprintf(fp, "cpu %s\n", units_fmt_cpu(p->cpu, b, sizeof(b)));
		fprintf(fp, "memory %s\ndepth %u\n", units_fmt_mem(p->memory,
		    b, sizeof(b)), p->depth);
	}
}
