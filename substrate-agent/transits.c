/*
 * Transits of host slices (lib/slice.h): two tunnel ends joined on this
 * host (tunnels/tunnel.h), so a link leaving the PIP is stitched at its
 * peering host without a node.  A transit is planned with the slice,
 * made after the stubs, kept when unchanged, retargeted when a side
 * changed (the old one goes first: it may hold the same keys), recorded
 * in its own state table and re-made by reconcile after a restart.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "slice.h"
#include "store.h"
#include "substrated.h"
#include "tunnel.h"

static struct sd_transit *
transit_find(const struct sd_slice *s, const char *name)
{
	for (struct sd_transit *t = s != NULL ? s->transits : NULL; t != NULL;
	    t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

void
sd_transits_free(struct sd_transit *t)
{
	while (t != NULL) {
		struct sd_transit *n = t->next;

		free(t);
		t = n;
	}
}

/* The transits the request asks, into nw (ids kept from old by name). */
int
sd_transits_plan(struct sd *sd, const struct slice *sl,
    const struct sd_slice *old, struct sd_slice *nw)
{
	struct sd_transit **tail = &nw->transits;

	for (size_t i = 0; i < sl->ntransits; i++) {
		const struct transit *rt = &sl->transits[i];
		struct sd_transit *t, *ot = transit_find(old, rt->name);

		if ((t = calloc(1, sizeof(*t))) == NULL)
			return err_nomem();
		*tail = t;
		tail = &t->next;
		str_lcpy(t->name, rt->name, sizeof(t->name));
		t->encap = rt->encap;
		for (int k = 0; k < 2; k++) {
			t->key[k] = rt->side[k].key;
			t->remote[k] = rt->side[k].underlay;
		}
		if (ot != NULL)
			str_lcpy(t->id, ot->id, sizeof(t->id));
		else
			sd_new_id(sd->conf, 't', t->id, sizeof(t->id));
	}
	return 0;
}

int
sd_transit_up(struct sd *sd, struct sd_transit *t)
{
	struct tun_transit_cfg c;

	if (sd->conf->sim)
		return 0;		/* drivers sim: nothing real */
	if (sd->tun == NULL)
		return err_set(ERR_UNSUPPORTED, "host %s has no tunnel "
		    "backend: %s", sd->conf->host, sd->tun_why);
	memset(&c, 0, sizeof(c));
	str_lcpy(c.name, t->id, sizeof(c.name));
	c.encap = (enum tun_encap)t->encap;
	c.local.s_addr = htonl(sd->conf->underlay);
	for (int k = 0; k < 2; k++) {
		c.side[k].key = t->key[k];
		c.side[k].remote.s_addr = htonl(t->remote[k]);
	}
	if ((t->tt = tun_transit_add(sd->tun, &c)) == NULL) {
		err_hint("step topology, transit '%s' on host %s", t->name,
		    sd->conf->host);
		return -1;
	}
	log_debug("transit %s (%s): %s key %u <-> key %u", t->name, t->id,
	    encap_to_string(t->encap), t->key[0], t->key[1]);
	return 0;
}

void
sd_transit_down(struct sd *sd, struct sd_transit *t)
{
	if (t->tt == NULL || sd->tun == NULL)
		return;
	if (tun_transit_del(sd->tun, t->tt) == -1) {
		log_warnx("transit %s: %s", t->name, err_last()->msg);
		err_reset();
	}
	t->tt = NULL;
}

static int
transit_same(const struct sd_transit *a, const struct sd_transit *b)
{
	return a->encap == b->encap && a->key[0] == b->key[0] &&
	    a->key[1] == b->key[1] && a->remote[0] == b->remote[0] &&
	    a->remote[1] == b->remote[1];
}

/*
 * Transits of nw: keep the unchanged, retarget or add the rest.  On
 * failure everything this call did is undone (sd_transits_undo) and -1.
 */
int
sd_transits_apply(struct sd *sd, struct sd_slice *old, struct sd_slice *nw)
{
	for (struct sd_transit *t = nw->transits; t != NULL; t = t->next) {
		struct sd_transit *ot = transit_find(old, t->name);

		if (ot != NULL && ot->tt != NULL && transit_same(ot, t)) {
			t->tt = ot->tt;
			continue;
		}
		/* Retarget: the old ends go first (they may hold the keys). */
		if (ot != NULL)
			sd_transit_down(sd, ot);
		/*
		 * A stub of the same link becomes this transit when its node
		 * leaves this host: the stub holds the same key and remote.
		 */
		for (struct sd_link *ol = old != NULL ? old->links : NULL;
		    ol != NULL; ol = ol->next)
			if (ol->stub && ol->tl != NULL &&
			    strcmp(ol->name, t->name) == 0)
				sd_stub_down(sd, ol);
		if (t->remote[0] == 0 || t->remote[1] == 0)
			continue;	/* a far end not known yet: pending */
		if (sd_transit_up(sd, t) == -1) {
			sd_transits_undo(sd, old, nw);
			return -1;
		}
		t->made = 1;
	}
	/* Transits the slice drops go now: their keys may be reused. */
	for (struct sd_transit *ot = old != NULL ? old->transits : NULL;
	    ot != NULL; ot = ot->next)
		if (transit_find(nw, ot->name) == NULL)
			sd_transit_down(sd, ot);
	return 0;
}

void
sd_transit_down_named(struct sd *sd, struct sd_slice *old, const char *name)
{
	struct sd_transit *ot = transit_find(old, name);

	if (ot != NULL)
		sd_transit_down(sd, ot);
}

/* Back to old: what this apply made goes, what it took down comes back. */
void
sd_transits_undo(struct sd *sd, struct sd_slice *old, struct sd_slice *nw)
{
	for (struct sd_transit *t = nw != NULL ? nw->transits : NULL;
	    t != NULL; t = t->next) {
		if (t->made)
			sd_transit_down(sd, t);
		t->made = 0;
		t->tt = NULL;
	}
	for (struct sd_transit *ot = old != NULL ? old->transits : NULL;
	    ot != NULL; ot = ot->next)
		if (ot->tt == NULL && ot->remote[0] != 0 &&
		    ot->remote[1] != 0 && sd_transit_up(sd, ot) == -1) {
			log_warnx("undo: transit %s: %s", ot->name,
			    err_last()->msg);
			err_reset();
		}
}

/* After the commit: old transits that nw does not carry on go. */
void
sd_transits_gone(struct sd *sd, struct sd_slice *old, struct sd_slice *nw)
{
	for (struct sd_transit *ot = old != NULL ? old->transits : NULL;
	    ot != NULL; ot = ot->next) {
		struct sd_transit *t = transit_find(nw, ot->name);

		if (ot->tt != NULL && (t == NULL || t->tt != ot->tt))
			sd_transit_down(sd, ot);
	}
	for (struct sd_transit *t = nw != NULL ? nw->transits : NULL;
	    t != NULL; t = t->next)
		t->made = 0;
}

/* Rows of s's transits, in the caller's transaction. */
int
sd_state_transits_put(struct store *st, const struct sd_slice *sl)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(st, "DELETE FROM transits WHERE slice = ?")) ==
	    NULL || store_bind_text(st, s, 1, sl->name) == -1 ||
	    store_step(st, s) == -1)
		return -1;
	for (const struct sd_transit *t = sl->transits; t != NULL;
	    t = t->next) {
		if ((s = store_prepare(st, "INSERT INTO transits (slice, name, "
		    "id, encap, key0, remote0, key1, remote1) "
		    "VALUES (?,?,?,?,?,?,?,?)")) == NULL)
			return -1;
		if (store_bind_text(st, s, 1, sl->name) == -1 ||
		    store_bind_text(st, s, 2, t->name) == -1 ||
		    store_bind_text(st, s, 3, t->id) == -1 ||
		    store_bind_int(st, s, 4, t->encap) == -1 ||
		    store_bind_int(st, s, 5, t->key[0]) == -1 ||
		    store_bind_int(st, s, 6, t->remote[0]) == -1 ||
		    store_bind_int(st, s, 7, t->key[1]) == -1 ||
		    store_bind_int(st, s, 8, t->remote[1]) == -1 ||
		    store_step(st, s) == -1)
			return -1;
	}
	return 0;
}

/* Read the transit rows of slice s and make them on the host again. */
int
sd_state_transits_load(struct sd *sd, struct sd_slice *sl)
{
	struct sqlite3_stmt *q;
	struct sd_transit **tail = &sl->transits;
	int r;

	while (*tail != NULL)
		tail = &(*tail)->next;
	if ((q = store_prepare(sd->st, "SELECT name, id, encap, key0, "
	    "remote0, key1, remote1 FROM transits WHERE slice = ?")) == NULL ||
	    store_bind_text(sd->st, q, 1, sl->name) == -1)
		return -1;
	while ((r = store_step(sd->st, q)) == 1) {
		struct sd_transit *t;

		if ((t = calloc(1, sizeof(*t))) == NULL)
			return err_nomem();
		str_lcpy(t->name, store_col_text(q, 0), sizeof(t->name));
		str_lcpy(t->id, store_col_text(q, 1), sizeof(t->id));
		t->encap = (enum encap)store_col_int(q, 2);
		t->key[0] = (uint32_t)store_col_int(q, 3);
		t->remote[0] = (uint32_t)store_col_int(q, 4);
		t->key[1] = (uint32_t)store_col_int(q, 5);
		t->remote[1] = (uint32_t)store_col_int(q, 6);
		*tail = t;
		tail = &t->next;
	}
	return r == -1 ? -1 : 0;
}
