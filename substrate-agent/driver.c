/*
 * The driver registry and what every driver shares: spec checks, names,
 * MAC addresses.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "driver.h"

ENUM_IMPL(vnode_kind, VNODE_KIND_LAST, "netns", "vm", "container", "gateway")
ENUM_IMPL(vnode_state, VNODE_ST_LAST, "defined", "running", "paused",
    "unknown")
ENUM_IMPL(vnode_console_kind, VNODE_CON_LAST, "exec", "pty", "stream")

static const struct drv_ops *const drv_table[] = {
	&drv_netns_ops,
	&drv_libvirt_ops,
	&drv_xen_ops,
	&drv_sim_ops,
};

const struct drv_ops *
drv_lookup(const char *name)
{
	for (size_t i = 0; i < NELEM(drv_table); i++)
		if (strcmp(drv_table[i]->name, name) == 0)
			return drv_table[i];
	err_set(ERR_NOT_FOUND, "no compute driver named '%s'", name);
	err_hint("use one of netns, libvirt, xen, sim");
	return NULL;
}

const struct drv_ops *
drv_nth(size_t i)
{
	return i < NELEM(drv_table) ? drv_table[i] : NULL;
}

/*
 * Probe every driver.  A failed probe records an error; its message is
 * copied out and the thread's error list is reset afterwards, so the
 * caller sees a clean list.
 */
unsigned
drv_probe_all(const struct drv_conf *conf, char (*why)[DRV_WHY_MAX],
    size_t nwhy)
{
	struct drv_conf def;
	unsigned mask = 0;

	if (conf == NULL) {
		memset(&def, 0, sizeof(def));
		conf = &def;
	}
	for (size_t i = 0; i < NELEM(drv_table); i++) {
		const struct err *e;

		err_reset();
		if (drv_table[i]->probe(conf) == 0) {
			mask |= 1u << i;
			if (i < nwhy)
				why[i][0] = '\0';
			continue;
		}
		if (i < nwhy) {
			e = err_last();
			str_lcpy(why[i], e != NULL ? e->msg : "probe failed",
			    DRV_WHY_MAX);
		}
	}
	err_reset();
	return mask;
}

struct drv *
drv_open(const char *name, const struct drv_conf *conf)
{
	const struct drv_ops *ops;
	struct drv *drv;

	if ((ops = drv_lookup(name)) == NULL)
		return NULL;
	if ((drv = calloc(1, sizeof(*drv))) == NULL) {
		err_nomem();
		return NULL;
	}
	drv->ops = ops;
	if (conf != NULL)
		drv->conf = *conf;
	if (ops->open(drv) == -1) {
		free(drv);
		return NULL;
	}
	return drv;
}

void
drv_close(struct drv *drv)
{
	if (drv == NULL)
		return;
	drv->ops->close(drv);
	free(drv);
}

int
drv_nosup(const char *drvname, const char *what)
{
	return err_set(ERR_UNSUPPORTED, "the %s driver cannot %s", drvname,
	    what);
}

int
vnode_id_check(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= VNODE_ID_MAX)
		return err_set(ERR_INVALID,
		    "node id '%s' must be 1 to %d characters", id,
		    VNODE_ID_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' &&
		    id[i] != '_')
			return err_set(ERR_INVALID, "node id '%s' may hold "
			    "only letters, digits, '-' and '_'", id);
	return 0;
}

/* An interface name the kernel accepts: 1..15 bytes, no '/', ':' or space. */
static int
ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]))
			return 0;
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Check one interface; where names it in messages. */
static int
vnode_if_check(const struct vnode_if *ifc)
{
	if (!ifname_ok(ifc->name))
		return err_set(ERR_INVALID, "interface name '%s' is not a "
		    "valid device name (1-15 characters, no '/', ':' or "
		    "space)", ifc->name);
	if (ifc->peer[0] != '\0' && !ifname_ok(ifc->peer))
		return err_set(ERR_INVALID, "host-side name '%s' of interface "
		    "'%s' is not a valid device name", ifc->peer, ifc->name);
	if (ifc->bridge[0] != '\0' && !ifname_ok(ifc->bridge))
		return err_set(ERR_INVALID, "bridge name '%s' of interface "
		    "'%s' is not a valid device name", ifc->bridge, ifc->name);
	if (ifc->prefix > 32)
		return err_set(ERR_INVALID, "prefix /%u of interface '%s' is "
		    "over 32", ifc->prefix, ifc->name);
	if (ifc->mtu != 0 && (ifc->mtu < 68 || ifc->mtu > 65535))
		return err_set(ERR_INVALID, "MTU %u of interface '%s' is not "
		    "in 68..65535", ifc->mtu, ifc->name);
	if (ifc->mac[0] & 1)
		return err_set(ERR_INVALID, "MAC address of interface '%s' "
		    "is a multicast address", ifc->name);
	return 0;
}

int
vnode_spec_check(const struct vnode_spec *spec)
{
	if (vnode_id_check(spec->id) == -1)
		return -1;
	if (memchr(spec->name, '\0', sizeof(spec->name)) == NULL ||
	    spec->name[0] == '\0')
		return err_set(ERR_INVALID, "node '%s' has no name", spec->id);
	if ((int)spec->kind < 0 || spec->kind >= VNODE_KIND_LAST)
		return err_set(ERR_INVALID, "node '%s' has an unknown kind",
		    spec->id);
	if (spec->nifs > VNODE_IF_MAX || spec->nroutes > VNODE_ROUTE_MAX)
		return err_set(ERR_INVALID, "node '%s' has more than %d "
		    "interfaces or %d routes", spec->id, VNODE_IF_MAX,
		    VNODE_ROUTE_MAX);
	for (size_t i = 0; i < spec->nifs; i++) {
		if (vnode_if_check(&spec->ifs[i]) == -1)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(spec->ifs[i].name, spec->ifs[j].name) == 0 ||
			    (spec->ifs[i].peer[0] != '\0' &&
			    strcmp(spec->ifs[i].peer, spec->ifs[j].peer) == 0))
				return err_set(ERR_DUPLICATE, "node '%s' has "
				    "two interfaces named '%s'", spec->id,
				    spec->ifs[i].name);
	}
	for (size_t i = 0; i < spec->nroutes; i++)
		if (spec->routes[i].prefix > 32)
			return err_set(ERR_INVALID, "route prefix /%u of node "
			    "'%s' is over 32", spec->routes[i].prefix,
			    spec->id);
	if ((spec->flags & VNODE_F_SSHD) &&
	    strncmp(spec->ssh_key, "ssh-ed25519 ", 12) != 0)
		return err_set(ERR_INVALID, "node '%s' asks for sshd but has "
		    "no ssh-ed25519 authorized key", spec->id);
	if (memchr(spec->ssh_key, '\n', strnlen(spec->ssh_key,
	    sizeof(spec->ssh_key))) != NULL)
		return err_set(ERR_INVALID, "the authorized key of node '%s' "
		    "spans more than one line", spec->id);
	return 0;
}

const struct vnode_if *
vnode_spec_if(const struct vnode_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->nifs; i++)
		if (strcmp(spec->ifs[i].name, name) == 0)
			return &spec->ifs[i];
	return NULL;
}

/*
 * 02:xx:... locally administered unicast; the rest is an FNV-1a hash of
 * the id and the index, so a node keeps its MACs across re-creation.
 */
void
vnode_mac(const char *id, unsigned idx, uint8_t mac[6])
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ idx) * 1099511628211ULL;
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

void
vnode_if_mac(const char *id, const struct vnode_if *ifc, uint8_t mac[6])
{
	unsigned h = 2166136261u;

	if (memcmp(ifc->mac, "\0\0\0\0\0\0", 6) != 0) {
		memcpy(mac, ifc->mac, 6);
		return;
	}
	for (const char *p = ifc->name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	vnode_mac(id, h, mac);
}

int
vnode_parse_cidr(const char *s, struct in_addr *addr, uint8_t *prefix)
{
	char buf[32];
	char *slash, *end;
	long n;

	if (str_lcpy(buf, s, sizeof(buf)) >= sizeof(buf) ||
	    (slash = strchr(buf, '/')) == NULL)
		return err_set(ERR_INVALID, "'%s' is not an IPv4 address with "
		    "a prefix length (a.b.c.d/n)", s);
	*slash++ = '\0';
	n = strtol(slash, &end, 10);
	if (*slash == '\0' || *end != '\0' || n < 0 || n > 32 ||
	    inet_pton(AF_INET, buf, addr) != 1)
		return err_set(ERR_INVALID, "'%s' is not an IPv4 address with "
		    "a prefix length (a.b.c.d/n)", s);
	*prefix = (uint8_t)n;
	return 0;
}
