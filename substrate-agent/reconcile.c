/*
 * Start-up reconcile: make the host match the state.
 *
 *   - every node row "up" is adopted when the host has it, re-made (from
 *     its recorded spec) when the host lost it;
 *   - every "pool-ready" member still on the host goes back to its pool;
 *   - rows of any other phase (intent, claiming, pool-intent: the agent
 *     died while making them) are removed with whatever exists of them;
 *   - every vnsm node and bridge on the host whose id carries our prefix
 *     and that the state does not know is removed;
 *   - bridges of local links and tunnel ends of stubs are re-made (a
 *     bridged stub's bridge is kept if there, else made with its end).
 *
 * Only ids starting with the configured id-prefix are touched, so two
 * agents (or tests) sharing a host never remove each other's nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "error.h"
#include "log.h"
#include "store.h"
#include "substrated.h"

/* Host nodes of one driver slot. */
struct seen {
	struct vnode_info *v;
	size_t n;
	unsigned char *used;	/* per entry: the state knows it */
};

static int
ours(const struct sd *sd, const char *id)
{
	return strncmp(id, sd->conf->id_prefix, strlen(sd->conf->id_prefix))
	    == 0;
}

static struct vnode_info *
seen_find(struct seen *s, const char *id, int mark)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].id, id) == 0) {
			if (mark)
				s->used[i] = 1;
			return &s->v[i];
		}
	return NULL;
}

static struct sd_slice *
slice_get(struct sd *sd, const char *name)
{
	struct sd_slice *s = sd_slice_find(sd, name);

	if (s != NULL)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		err_nomem();
		return NULL;
	}
	str_lcpy(s->name, name, sizeof(s->name));
	s->next = sd->slices;
	sd->slices = s;
	return s;
}

/* Slices and their links from the state; no host change. */
static int
load_slices(struct sd *sd)
{
	struct sqlite3_stmt *q;
	int r;

	if ((q = store_prepare(sd->st, "SELECT name, vnet, doc FROM slices"))
	    == NULL)
		return -1;
	while ((r = store_step(sd->st, q)) == 1) {
		struct sd_slice *s = slice_get(sd, store_col_text(q, 0));

		if (s == NULL)
			return -1;
		str_lcpy(s->vnet, store_col_text(q, 1), sizeof(s->vnet));
		if ((s->doc = strdup(store_col_text(q, 2))) == NULL)
			return err_nomem();
	}
	if (r == -1)
		return -1;
	if ((q = store_prepare(sd->st, "SELECT slice, name, id, stub, encap, "
	    "key, remote, mtu, bridge, node0, node1 FROM links")) == NULL)
		return -1;
	while ((r = store_step(sd->st, q)) == 1) {
		struct sd_slice *s = slice_get(sd, store_col_text(q, 0));
		struct sd_link *l, **tail;

		if (s == NULL || (l = calloc(1, sizeof(*l))) == NULL)
			return err_nomem();
		str_lcpy(l->name, store_col_text(q, 1), sizeof(l->name));
		str_lcpy(l->id, store_col_text(q, 2), sizeof(l->id));
		l->stub = (int)store_col_int(q, 3);
		l->encap = (enum encap)store_col_int(q, 4);
		l->key = (uint32_t)store_col_int(q, 5);
		l->remote = (uint32_t)store_col_int(q, 6);
		l->mtu = (unsigned)store_col_int(q, 7);
		str_lcpy(l->bridge, store_col_text(q, 8), sizeof(l->bridge));
		str_lcpy(l->node[0], store_col_text(q, 9), sizeof(l->node[0]));
		str_lcpy(l->node[1], store_col_text(q, 10),
		    sizeof(l->node[1]));
		for (tail = &s->links; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = l;
	}
	if (r == -1)
		return -1;
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next)
		if (sd_state_transits_load(sd, s) == -1)
			return -1;
	return 0;
}

/* A node row as it was read, for the second pass. */
struct row {
	struct sd_node n;
	char slice[NAME_LEN];
	char phase[16];
	char pool[NAME_LEN];
};

static int
load_rows(struct sd *sd, struct row **rows, size_t *nrows)
{
	struct sqlite3_stmt *q;
	size_t cap = 0;
	int r;

	*rows = NULL;
	*nrows = 0;
	if ((q = store_prepare(sd->st, "SELECT id, slice, name, slot, kind, "
	    "cpu, memory, image, pooled, phase, pool, spec, iflink FROM nodes"))
	    == NULL)
		return -1;
	while ((r = store_step(sd->st, q)) == 1) {
		struct row *w;
		const void *blob;

		if (*nrows == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct row *nr = reallocarray(*rows, nc, sizeof(*nr));

			if (nr == NULL)
				return err_nomem();
			*rows = nr;
			cap = nc;
		}
		w = &(*rows)[(*nrows)++];
		memset(w, 0, sizeof(*w));
		str_lcpy(w->n.id, store_col_text(q, 0), sizeof(w->n.id));
		str_lcpy(w->slice, store_col_text(q, 1), sizeof(w->slice));
		str_lcpy(w->n.name, store_col_text(q, 2), sizeof(w->n.name));
		w->n.slot = (enum sd_slot)store_col_int(q, 3);
		w->n.kind = (enum node_kind)store_col_int(q, 4);
		w->n.cpu = (uint32_t)store_col_int(q, 5);
		w->n.memory = (uint64_t)store_col_int(q, 6);
		str_lcpy(w->n.image, store_col_text(q, 7), sizeof(w->n.image));
		w->n.pooled = (int)store_col_int(q, 8);
		str_lcpy(w->phase, store_col_text(q, 9), sizeof(w->phase));
		str_lcpy(w->pool, store_col_text(q, 10), sizeof(w->pool));
		if ((int)w->n.slot < 0 || w->n.slot >= SD_SLOT_LAST)
			w->n.slot = SD_SLOT_NETNS;
		blob = sqlite3_column_blob(q, 11);
		if (blob != NULL && sqlite3_column_bytes(q, 11) ==
		    (int)sizeof(w->n.spec))
			memcpy(&w->n.spec, blob, sizeof(w->n.spec));
		blob = sqlite3_column_blob(q, 12);
		if (blob != NULL && sqlite3_column_bytes(q, 12) ==
		    (int)sizeof(w->n.iflink))
			memcpy(w->n.iflink, blob, sizeof(w->n.iflink));
	}
	return r == -1 ? -1 : 0;
}

static void
forget(struct sd *sd, struct row *w, struct seen *seen)
{
	struct drv *d = sd->drv[w->n.slot];

	if (d != NULL && seen_find(&seen[w->n.slot], w->n.id, 1) != NULL) {
		if (d->ops->delete(d, w->n.id) == -1)
			log_warnx("reconcile: remove %s: %s", w->n.id,
			    err_last()->msg);
		else
			log_info("reconcile: removed half-made node %s (%s)",
			    w->n.id, w->phase);
	}
	err_reset();
	sd_state_node_del(sd->st, w->n.id);
}

int
sd_reconcile(struct sd *sd)
{
	struct seen seen[SD_SLOT_LAST];
	struct row *rows = NULL;
	size_t nrows = 0;
	char (*bnames)[IFNAMSIZ] = NULL;
	char (*bids)[VNODE_ID_MAX] = NULL;
	size_t nb = 0;
	unsigned adopted = 0, remade = 0, removed = 0, members = 0;
	int rc = -1;

	memset(seen, 0, sizeof(seen));
	for (int s = 0; s < SD_SLOT_LAST; s++) {
		struct drv *d = sd->drv[s];

		if (d == NULL)
			continue;
		if (d->ops->list(d, &seen[s].v, &seen[s].n) == -1)
			goto out;
		if ((seen[s].used = calloc(seen[s].n + 1, 1)) == NULL) {
			err_nomem();
			goto out;
		}
	}
	if (load_slices(sd) == -1 || load_rows(sd, &rows, &nrows) == -1)
		goto out;
	/* Bridges first: re-made nodes enslave their host ends to them. */
	if (sd_bridge_list(sd->conf->id_prefix, &bnames, &bids, &nb) == -1)
		goto out;
	for (size_t i = 0; i < nb; i++) {
		int known = 0;

		for (struct sd_slice *s = sd->slices; s != NULL; s = s->next)
			for (struct sd_link *l = s->links; l != NULL;
			    l = l->next)
				known |= strcmp(l->id, bids[i]) == 0 &&
				    strcmp(l->bridge, bnames[i]) == 0;
		if (!known) {
			sd_bridge_del(bnames[i]);
			removed++;
		}
	}
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next)
		for (struct sd_link *l = s->links; l != NULL; l = l->next) {
			int found = 0;

			for (size_t i = 0; i < nb; i++)
				found |= strcmp(bnames[i], l->bridge) == 0;
			if (!l->stub && !found && sd_bridge_add(l->bridge,
			    l->id) == -1) {
				log_warnx("reconcile: %s", err_last()->msg);
				err_reset();
			}
		}
	/* Node rows. */
	for (size_t i = 0; i < nrows; i++) {
		struct row *w = &rows[i];
		struct drv *d = sd->drv[w->n.slot];
		struct vnode_info *vi;

		if (strcmp(w->phase, "pool-ready") == 0) {
			size_t p;

			for (p = 0; p < sd->conf->npools; p++)
				if (strcmp(sd->conf->pools[p].name, w->pool) ==
				    0)
					break;
			vi = d != NULL && p < sd->conf->npools ? seen_find(
			    &seen[sd->conf->pools[p].slot], w->n.id, 1) : NULL;
			if (vi != NULL && vi->state == VNODE_ST_PAUSED) {
				sd_pool_adopt(sd, p, w->n.id);
				members++;
				continue;
			}
			if (p < sd->conf->npools)
				w->n.slot = sd->conf->pools[p].slot;
			forget(sd, w, seen);
			removed++;
			continue;
		}
		if (strcmp(w->phase, "up") != 0 || w->slice[0] == '\0') {
			forget(sd, w, seen);
			removed++;
			continue;
		}
		{
			struct sd_slice *s = slice_get(sd, w->slice);
			struct sd_node *n, **tail;

			if (s == NULL || (n = calloc(1, sizeof(*n))) == NULL) {
				err_nomem();
				goto out;
			}
			*n = w->n;
			n->next = NULL;
			for (tail = &s->nodes; *tail != NULL;
			    tail = &(*tail)->next)
				;
			*tail = n;
			if (d == NULL) {
				log_warnx("reconcile: node %s (%s) needs the %s "
				    "driver, which is not usable here",
				    n->name, n->id, sd_slot_driver(n->slot));
				n->state = VNODE_ST_UNKNOWN;
				continue;
			}
			if ((vi = seen_find(&seen[n->slot], n->id, 1)) !=
			    NULL && vi->state != VNODE_ST_UNKNOWN) {
				n->state = vi->state;
				adopted++;
				continue;
			}
			/* Lost (or only a trace of it): make it again. */
			if (vi != NULL)
				d->ops->delete(d, n->id);
			err_reset();
			if (d->ops->create(d, &n->spec) == -1 ||
			    d->ops->start(d, n->id) == -1) {
				log_warnx("reconcile: re-make node %s (%s): %s",
				    n->name, n->id, err_last()->msg);
				err_reset();
				n->state = VNODE_ST_UNKNOWN;
				continue;
			}
			n->state = VNODE_ST_RUNNING;
			remade++;
			log_info("reconcile: re-made node %s (%s) of slice %s",
			    n->name, n->id, s->name);
		}
	}
	/* What the state does not know. */
	for (int s = 0; s < SD_SLOT_LAST; s++)
		for (size_t i = 0; i < seen[s].n; i++) {
			if (seen[s].used[i] || !ours(sd, seen[s].v[i].id))
				continue;
			if (sd->drv[s]->ops->delete(sd->drv[s], seen[s].v[i].id)
			    == -1)
				log_warnx("reconcile: remove %s: %s",
				    seen[s].v[i].id, err_last()->msg);
			else
				log_info("reconcile: removed unknown node %s",
				    seen[s].v[i].id);
			err_reset();
			removed++;
		}
	/* Tunnel ends of stubs. */
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next)
		for (struct sd_link *l = s->links; l != NULL; l = l->next)
			if (l->stub && l->remote != 0 && sd_stub_up(sd, l,
			    sd_node_find(s, l->node[0])) == -1) {
				log_warnx("reconcile: stub %s: %s", l->name,
				    err_last()->msg);
				err_reset();
			}
	/* Transits. */
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next)
		for (struct sd_transit *t = s->transits; t != NULL;
		    t = t->next)
			if (t->tt == NULL && t->remote[0] != 0 &&
			    t->remote[1] != 0 && sd_transit_up(sd, t) == -1) {
				log_warnx("reconcile: transit %s: %s", t->name,
				    err_last()->msg);
				err_reset();
			}
	/* Gateways: rules and dnsmasq as their slices say. */
	for (struct sd_slice *s = sd->slices; s != NULL; s = s->next)
		sd_gw_restore(sd, s);
	log_info("reconcile: %u nodes adopted, %u re-made, %u removed, %u "
	    "pool members adopted", adopted, remade, removed, members);
	rc = 0;
out:
	for (int s = 0; s < SD_SLOT_LAST; s++) {
		free(seen[s].v);
		free(seen[s].used);
	}
	free(rows);
	free(bnames);
	free(bids);
	return rc;
}
