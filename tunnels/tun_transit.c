/*
 * Transits: two tunnel ends joined on this host (tunnel.h).  The
 * backend-independent half: checks, the (encap, key, remote) rules shared
 * with links, the list of transits of a context.  The ebpf backend does
 * the forwarding (tun_ebpf.c, tun_ebpf.bpf.c); the kernel and user
 * backends have none and say so.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "tun_backend.h"

int
tun_transit_cfg_validate(const struct tun_transit_cfg *c)
{
	int bad = 0;

	if (c->name[0] == '\0' || memchr(c->name, '\0', sizeof(c->name)) == NULL)
		bad = err_set(ERR_INVALID, "transit name is empty or too long");
	if ((int)c->encap < 0 || c->encap >= TUN_ENCAP_LAST)
		return err_set(ERR_INVALID, "transit '%s': unknown "
		    "encapsulation %d", c->name, (int)c->encap);
	if (c->local.s_addr == INADDR_ANY)
		bad = err_set(ERR_INVALID, "transit '%s': the local underlay "
		    "address is required", c->name);
	for (int i = 0; i < 2; i++) {
		const struct tun_transit_side *s = &c->side[i];

		if (s->remote.s_addr == INADDR_ANY ||
		    s->remote.s_addr == c->local.s_addr)
			bad = err_set(ERR_INVALID, "transit '%s': side %d needs "
			    "a remote underlay address other than the local "
			    "one", c->name, i + 1);
		if (c->encap == TUN_ENCAP_VXLAN && s->key > TUN_VNI_MAX)
			bad = err_set(ERR_INVALID, "transit '%s': side %d: VNI "
			    "%u is over %u", c->name, i + 1, s->key,
			    TUN_VNI_MAX);
		if (c->encap == TUN_ENCAP_IPIP && s->key != 0)
			bad = err_set(ERR_INVALID, "transit '%s': ipip has no "
			    "key, but side %d has key %u", c->name, i + 1,
			    s->key);
	}
	if (c->side[0].key == c->side[1].key &&
	    c->side[0].remote.s_addr == c->side[1].remote.s_addr)
		bad = err_set(ERR_INVALID, "transit '%s': both sides are %s "
		    "key %u from the same host: a packet could not tell them "
		    "apart", c->name, tun_encap_to_string(c->encap),
		    c->side[0].key);
	return bad;
}

/* 1 if a packet (encap, key, from remote, to local) is taken already. */
static int
tun_transit_taken(struct tun_ctx *ctx, enum tun_encap encap, uint32_t key,
    struct in_addr remote, struct in_addr local, const char **by)
{
	for (struct tun_link *l = ctx->links; l != NULL; l = l->next)
		if (l->cfg.encap == encap && l->cfg.key == key &&
		    l->cfg.remote.s_addr == remote.s_addr &&
		    l->cfg.local.s_addr == local.s_addr) {
			*by = l->cfg.name;
			return 1;
		}
	for (struct tun_transit *t = ctx->transits; t != NULL; t = t->next)
		for (int i = 0; i < 2; i++)
			if (t->cfg.encap == encap && t->cfg.side[i].key == key &&
			    t->cfg.side[i].remote.s_addr == remote.s_addr &&
			    t->cfg.local.s_addr == local.s_addr) {
				*by = t->cfg.name;
				return 1;
			}
	return 0;
}

/*
 * Links may not take what a transit receives either: tunnel.c checks
 * links against links, and this against transits.
 */
int
tun_transit_conflict_link(struct tun_ctx *ctx, const struct tun_link_cfg *c)
{
	for (struct tun_transit *t = ctx->transits; t != NULL; t = t->next)
		for (int i = 0; i < 2; i++)
			if (t->cfg.encap == c->encap &&
			    t->cfg.side[i].key == c->key &&
			    t->cfg.side[i].remote.s_addr == c->remote.s_addr &&
			    t->cfg.local.s_addr == c->local.s_addr)
				return err_set(ERR_DUPLICATE, "link '%s': "
				    "transit '%s' already uses %s key %u from "
				    "the same peer", c->name, t->cfg.name,
				    tun_encap_to_string(c->encap), c->key);
	return 0;
}

/*
 * Add a transit: check it, refuse what a link or another transit
 * receives already, resolve the underlay device holding local, and let
 * the backend join the sides.
 */
struct tun_transit *
tun_transit_add(struct tun_ctx *ctx, const struct tun_transit_cfg *cfg)
{
	struct tun_transit *t;
	char under[IFNAMSIZ];
	const char *by;

	if (tun_transit_cfg_validate(cfg) == -1)
		return NULL;
	if (ctx->ops->transit_add == NULL) {
		err_set(ERR_UNSUPPORTED, "transit '%s': the %s tunnel backend "
		    "cannot join two tunnels on this host (its packets always "
		    "end at a node)", cfg->name, ctx->ops->name);
		err_hint("use tunnel-backend ebpf on the peering host");
		return NULL;
	}
	if (tun_transit_find(ctx, cfg->name) != NULL) {
		err_set(ERR_DUPLICATE, "transit '%s' already exists",
		    cfg->name);
		return NULL;
	}
	for (int i = 0; i < 2; i++)
		if (tun_transit_taken(ctx, cfg->encap, cfg->side[i].key,
		    cfg->side[i].remote, cfg->local, &by)) {
			err_set(ERR_DUPLICATE, "transit '%s': '%s' already "
			    "uses %s key %u from %s", cfg->name, by,
			    tun_encap_to_string(cfg->encap), cfg->side[i].key,
			    inet_ntoa(cfg->side[i].remote));
			return NULL;
		}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		err_nomem();
		return NULL;
	}
	t->cfg = *cfg;
	if (tun_if_by_addr(cfg->local, under, sizeof(under)) == -1 ||
	    (t->underlay_ifindex = tun_if_index(under)) == -1 ||
	    ctx->ops->transit_add(ctx, t) == -1) {
		free(t);
		return NULL;
	}
	t->next = ctx->transits;
	ctx->transits = t;
	log_info("tunnels: transit %s up: %s key %u <-> key %u via %s (%s)",
	    cfg->name, tun_encap_to_string(cfg->encap), cfg->side[0].key,
	    cfg->side[1].key, under, ctx->ops->name);
	return t;
}

int
tun_transit_del(struct tun_ctx *ctx, struct tun_transit *t)
{
	struct tun_transit **pp;
	int rc;

	if (t == NULL)
		return 0;
	for (pp = &ctx->transits; *pp != NULL && *pp != t; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return err_set(ERR_NOT_FOUND, "transit '%s' is not in this "
		    "context", t->cfg.name);
	rc = ctx->ops->transit_del(ctx, t);
	*pp = t->next;
	log_info("tunnels: transit %s removed", t->cfg.name);
	free(t);
	return rc;
}

/* tun_close: every transit goes before the backend closes. */
void
tun_transit_close(struct tun_ctx *ctx)
{
	while (ctx->transits != NULL)
		if (tun_transit_del(ctx, ctx->transits) == -1) {
			struct tun_transit *t = ctx->transits;

			ctx->transits = t->next;
			free(t);
		}
}

struct tun_transit *
tun_transit_find(struct tun_ctx *ctx, const char *name)
{
	for (struct tun_transit *t = ctx->transits; t != NULL; t = t->next)
		if (strcmp(t->cfg.name, name) == 0)
			return t;
	return NULL;
}

const struct tun_transit_cfg *
tun_transit_config(const struct tun_transit *t)
{
	return &t->cfg;
}

int
tun_transit_stats(struct tun_ctx *ctx, struct tun_transit *t,
    struct tun_transit_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ctx->ops->transit_stats(ctx, t, st);
}
