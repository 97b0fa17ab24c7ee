/*
 * vnpd configuration: the listener and its certificates, the state
 * file, the default discovery mode, the lease, and one [pip NAME]
 * section per PIP (its pipd's address and the CN its certificate must
 * carry).  See vnpd(8) and examples/vnpd.conf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "error.h"
#include "vnpd.h"

/* Read the [pip NAME] sections into c->pips. */
static int
config_pips(struct vnpd_conf *c)
{
	struct conf_section *s = NULL;
	int rc = 0;

	while ((s = conf_next(c->raw, s, "pip")) != NULL) {
		struct vnpd_pip *p;
		const char *name = conf_section_name(s), *addr, *cn;
		struct sockaddr_storage ss;
		socklen_t sslen;

		if (c->npips == VNPD_PIPS_MAX) {
			rc = conf_error(s, "address", "more than %d PIPs",
			    VNPD_PIPS_MAX);
			break;
		}
		p = &c->pips[c->npips];
		if (!name_valid(name)) {
			rc = conf_error(s, "address", "[pip %s]: a PIP needs a "
			    "name of letters, digits, '.', '_' or '-'", name);
			continue;
		}
		if (vnpd_pip_find(c, name) != NULL) {
			rc = conf_error(s, "address", "PIP '%s' is configured "
			    "twice", name);
			continue;
		}
		if (conf_str(s, "address", NULL, &addr) == -1 ||
		    conf_str(s, "name", name, &cn) == -1) {
			rc = -1;
			continue;
		}
		if (addr == NULL) {
			rc = conf_error(s, "address", "[pip %s] needs 'address "
			    "HOST:PORT' (its pipd)", name);
			continue;
		}
		if (conf_parse_addr(addr, &ss, &sslen) == -1) {
			rc = -1;
			continue;
		}
		str_lcpy(p->name, name, sizeof(p->name));
		str_lcpy(p->address, addr, sizeof(p->address));
		str_lcpy(p->cn, cn, sizeof(p->cn));
		c->npips++;
	}
	if (rc == 0 && c->npips == 0)
		rc = err_set(ERR_USAGE, "%s: no [pip NAME] section: vnpd needs "
		    "at least one PIP", c->path);
	return rc;
}

/*
 * Load and check path.  Returns the configuration, or NULL with one
 * error per problem recorded ("FILE:LINE: ...").
 */
struct vnpd_conf *
vnpd_conf_load(const char *path)
{
	struct vnpd_conf *c;
	struct conf_section *g;
	const char *disc;
	long long lease, timeout;
	int rc = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		err_nomem();
		return NULL;
	}
	c->path = path;
	if ((c->raw = conf_load(path)) == NULL) {
		free(c);
		return NULL;
	}
	g = conf_global(c->raw);
	if (conf_str(g, "listen", "*:8444", &c->listen) == -1 ||
	    conf_str(g, "ca", "/etc/vnsm/ca.crt", &c->tls.ca_file) == -1 ||
	    conf_str(g, "cert", "/etc/vnsm/vnpd.crt", &c->tls.cert_file) == -1 ||
	    conf_str(g, "key", "/etc/vnsm/vnpd.key", &c->tls.key_file) == -1 ||
	    conf_str(g, "crl", NULL, &c->tls.crl_file) == -1 ||
	    conf_str(g, "state", "/var/lib/vnsm/vnpd.db", &c->state) == -1 ||
	    conf_str(g, "pidfile", "/run/vnpd.pid", &c->pidfile) == -1 ||
	    conf_str(g, "discovery", "pip", &disc) == -1 ||
	    conf_int(g, "lease", 3600, 60, 365LL * 86400, &lease) == -1 ||
	    conf_int(g, "timeout", 30000, 100, 600000, &timeout) == -1)
		rc = -1;
	if (rc == 0) {
		struct sockaddr_storage ss;
		socklen_t sslen;
		int d = discovery_from_string(disc);

		if (d < 0)
			rc = conf_error(g, "discovery", "discovery '%s': use "
			    "pip or vnp", disc);
		else
			c->discovery = (enum discovery)d;
		if (conf_parse_addr(c->listen, &ss, &sslen) == -1)
			rc = -1;
		c->lease = lease;
		c->timeout_ms = (int)timeout;
	}
	if (config_pips(c) == -1)
		rc = -1;
	if (conf_check_unused(c->raw) == -1)
		rc = -1;
	if (rc == -1) {
		vnpd_conf_free(c);
		return NULL;
	}
	return c;
}

void
vnpd_conf_free(struct vnpd_conf *c)
{
	if (c == NULL)
		return;
	conf_free(c->raw);
	free(c);
}

/* The configuration as understood, for -nv. */
void
vnpd_conf_print(const struct vnpd_conf *c, FILE *fp)
{
	fprintf(fp, "listen %s\nca %s\ncert %s\nkey %s\n", c->listen,
	    c->tls.ca_file, c->tls.cert_file, c->tls.key_file);
	if (c->tls.crl_file != NULL)
		fprintf(fp, "crl %s\n", c->tls.crl_file);
	fprintf(fp, "state %s\npidfile %s\ndiscovery %s\nlease %lld\n"
	    "timeout %d\n", c->state, c->pidfile,
	    discovery_to_string(c->discovery), (long long)c->lease,
	    c->timeout_ms);
	for (size_t i = 0; i < c->npips; i++)
		fprintf(fp, "\n[pip %s]\naddress %s\nname %s\n",
		    c->pips[i].name, c->pips[i].address, c->pips[i].cn);
}

const struct vnpd_pip *
vnpd_pip_find(const struct vnpd_conf *c, const char *name)
{
	ssize_t i = vnpd_pip_index(c, name);

	return i < 0 ? NULL : &c->pips[i];
}

ssize_t
vnpd_pip_index(const struct vnpd_conf *c, const char *name)
{
	for (size_t i = 0; i < c->npips; i++)
		if (strcmp(c->pips[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}
