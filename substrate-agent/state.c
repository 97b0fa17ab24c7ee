/*
 * substrated's state in SQLite (lib/store.h): host slices, nodes (with
 * their write-ahead phase), link ends and pool members.
 *
 * A node row is written before the node exists on the host:
 *
 *   intent       being made for a slice; not acknowledged yet
 *   claiming     a pool member being re-bound for a slice
 *   up           acknowledged (the PUT that made it answered 200)
 *   pool-intent  a pool member being made
 *   pool-ready   a pool member made, started and paused
 *
 * so after a crash reconcile.c knows every id it may find on the host:
 * "up" rows are kept (and re-made if the host lost them), "pool-ready"
 * rows go back to their pool, everything else is removed.
 */
#include <string.h>

#include "error.h"
#include "store.h"
#include "substrated.h"

static const char *const migrations[] = {
	"CREATE TABLE slices ("
	"  name TEXT PRIMARY KEY,"
	"  vnet TEXT NOT NULL,"
	"  doc TEXT NOT NULL);"
	"CREATE TABLE nodes ("
	"  id TEXT PRIMARY KEY,"
	"  slice TEXT,"			/* NULL for pool members */
	"  name TEXT NOT NULL,"
	"  slot INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL,"
	"  cpu INTEGER NOT NULL,"
	"  memory INTEGER NOT NULL,"
	"  image TEXT NOT NULL,"
	"  pooled INTEGER NOT NULL,"
	"  phase TEXT NOT NULL,"
	"  pool TEXT,"			/* pool name of a member */
	"  spec BLOB,"			/* struct vnode_spec */
	"  iflink BLOB);"		/* char[VNODE_IF_MAX][NAME_LEN] */
	"CREATE TABLE links ("
	"  slice TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  id TEXT NOT NULL UNIQUE,"
	"  stub INTEGER NOT NULL,"
	"  encap INTEGER NOT NULL,"
	"  key INTEGER NOT NULL,"
	"  remote INTEGER NOT NULL,"
	"  mtu INTEGER NOT NULL,"
	"  bridge TEXT NOT NULL,"
	"  node0 TEXT NOT NULL,"
	"  node1 TEXT NOT NULL,"
	"  PRIMARY KEY (slice, name))",
	/* 2: who each gateway node serves (identity, for operators). */
	"CREATE TABLE gateways ("
	"  id TEXT PRIMARY KEY,"		/* the gateway node */
	"  slice TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  subscriber TEXT NOT NULL,"		/* "" if not told */
	"  stub TEXT NOT NULL,"			/* the home's tunnel */
	"  stub_id TEXT NOT NULL,"		/* its vnsm id */
	"  encap INTEGER NOT NULL,"
	"  key INTEGER NOT NULL,"		/* GRE key of the tunnel */
	"  remote INTEGER NOT NULL,"		/* home underlay; 0 pending */
	"  lan_if TEXT NOT NULL,"
	"  c_vlan INTEGER NOT NULL,"		/* 0 = none */
	"  s_vlan INTEGER NOT NULL)",
	/* 3: transits of host slices (transits.c). */
	"CREATE TABLE transits ("
	"  slice TEXT NOT NULL,"
	"  name TEXT NOT NULL,"			/* the virtual link */
	"  id TEXT NOT NULL UNIQUE,"		/* tunnel library name */
	"  encap INTEGER NOT NULL,"
	"  key0 INTEGER NOT NULL,"
	"  remote0 INTEGER NOT NULL,"		/* host order */
	"  key1 INTEGER NOT NULL,"
	"  remote1 INTEGER NOT NULL,"
	"  PRIMARY KEY (slice, name))",
};

static const struct store_schema schema = { migrations, NELEM(migrations) };

struct store *
sd_state_open(const char *path)
{
	return store_open(path, &schema);
}

/* Insert or replace node n (of slice, NULL for a pool member). */
int
sd_state_node_put(struct store *st, const char *slice,
    const struct sd_node *n, const char *phase)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(st, "INSERT OR REPLACE INTO nodes (id, slice, "
	    "name, slot, kind, cpu, memory, image, pooled, phase, pool, spec, "
	    "iflink) VALUES (?,?,?,?,?,?,?,?,?,?,NULL,?,?)")) == NULL)
		return -1;
	if (store_bind_text(st, s, 1, n->id) == -1 ||
	    store_bind_text(st, s, 2, slice) == -1 ||
	    store_bind_text(st, s, 3, n->name) == -1 ||
	    store_bind_int(st, s, 4, n->slot) == -1 ||
	    store_bind_int(st, s, 5, n->kind) == -1 ||
	    store_bind_int(st, s, 6, n->cpu) == -1 ||
	    store_bind_int(st, s, 7, (int64_t)n->memory) == -1 ||
	    store_bind_text(st, s, 8, n->image) == -1 ||
	    store_bind_int(st, s, 9, n->pooled) == -1 ||
	    store_bind_text(st, s, 10, phase) == -1 ||
	    store_bind_blob(st, s, 11, &n->spec, sizeof(n->spec)) == -1 ||
	    store_bind_blob(st, s, 12, n->iflink, sizeof(n->iflink)) == -1)
		return -1;
	return store_step(st, s) == -1 ? -1 : 0;
}

int
sd_state_node_phase(struct store *st, const char *id, const char *phase)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(st, "UPDATE nodes SET phase = ? WHERE id = ?"))
	    == NULL || store_bind_text(st, s, 1, phase) == -1 ||
	    store_bind_text(st, s, 2, id) == -1)
		return -1;
	return store_step(st, s) == -1 ? -1 : 0;
}

int
sd_state_node_del(struct store *st, const char *id)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(st, "DELETE FROM nodes WHERE id = ?")) == NULL ||
	    store_bind_text(st, s, 1, id) == -1)
		return -1;
	return store_step(st, s) == -1 ? -1 : 0;
}

/* A pool member row: id, pool name and phase; the rest is filler. */
int
sd_state_member_put(struct store *st, const char *id, const char *pool,
    const char *phase)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(st, "INSERT OR REPLACE INTO nodes (id, slice, "
	    "name, slot, kind, cpu, memory, image, pooled, phase, pool) "
	    "VALUES (?,NULL,?,0,0,0,0,'',1,?,?)")) == NULL)
		return -1;
	if (store_bind_text(st, s, 1, id) == -1 ||
	    store_bind_text(st, s, 2, id) == -1 ||
	    store_bind_text(st, s, 3, phase) == -1 ||
	    store_bind_text(st, s, 4, pool) == -1)
		return -1;
	return store_step(st, s) == -1 ? -1 : 0;
}

/*
 * Replace slice s: its document and its link rows.  Node rows are
 * written by the caller (their phases change separately).
 */
int
sd_state_slice_put(struct store *st, const struct sd_slice *sl)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(st, "INSERT OR REPLACE INTO slices (name, vnet, "
	    "doc) VALUES (?,?,?)")) == NULL ||
	    store_bind_text(st, s, 1, sl->name) == -1 ||
	    store_bind_text(st, s, 2, sl->vnet) == -1 ||
	    store_bind_text(st, s, 3, sl->doc) == -1 ||
	    store_step(st, s) == -1)
		return -1;
	if ((s = store_prepare(st, "DELETE FROM links WHERE slice = ?")) ==
	    NULL || store_bind_text(st, s, 1, sl->name) == -1 ||
	    store_step(st, s) == -1)
		return -1;
	for (const struct sd_link *l = sl->links; l != NULL; l = l->next) {
		if ((s = store_prepare(st, "INSERT INTO links (slice, name, id, "
		    "stub, encap, key, remote, mtu, bridge, node0, node1) "
		    "VALUES (?,?,?,?,?,?,?,?,?,?,?)")) == NULL)
			return -1;
		if (store_bind_text(st, s, 1, sl->name) == -1 ||
		    store_bind_text(st, s, 2, l->name) == -1 ||
		    store_bind_text(st, s, 3, l->id) == -1 ||
		    store_bind_int(st, s, 4, l->stub) == -1 ||
		    store_bind_int(st, s, 5, l->encap) == -1 ||
		    store_bind_int(st, s, 6, l->key) == -1 ||
		    store_bind_int(st, s, 7, l->remote) == -1 ||
		    store_bind_int(st, s, 8, l->mtu) == -1 ||
		    store_bind_text(st, s, 9, l->bridge) == -1 ||
		    store_bind_text(st, s, 10, l->node[0]) == -1 ||
		    store_bind_text(st, s, 11, l->node[1]) == -1 ||
		    store_step(st, s) == -1)
			return -1;
	}
	return sd_state_transits_put(st, sl);
}

int
sd_state_slice_del(struct store *st, const char *name)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(st, "DELETE FROM links WHERE slice = ?")) ==
	    NULL || store_bind_text(st, s, 1, name) == -1 ||
	    store_step(st, s) == -1)
		return -1;
	if ((s = store_prepare(st, "DELETE FROM transits WHERE slice = ?")) ==
	    NULL || store_bind_text(st, s, 1, name) == -1 ||
	    store_step(st, s) == -1)
		return -1;
	if ((s = store_prepare(st, "DELETE FROM slices WHERE name = ?")) ==
	    NULL || store_bind_text(st, s, 1, name) == -1)
		return -1;
	return store_step(st, s) == -1 ? -1 : 0;
}

/* Record who gateway node n of slice serves, through stub. */
int
sd_state_gw_put(struct store *st, const char *slice, const struct sd_node *n,
    const struct sd_link *stub)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(st, "INSERT OR REPLACE INTO gateways (id, "
	    "slice, node, subscriber, stub, stub_id, encap, key, remote, "
	    "lan_if, c_vlan, s_vlan) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")) ==
	    NULL)
		return -1;
	if (store_bind_text(st, s, 1, n->id) == -1 ||
	    store_bind_text(st, s, 2, slice) == -1 ||
	    store_bind_text(st, s, 3, n->name) == -1 ||
	    store_bind_text(st, s, 4, n->gw.subscriber) == -1 ||
	    store_bind_text(st, s, 5, n->gw.stub) == -1 ||
	    store_bind_text(st, s, 6, stub != NULL ? stub->id : "") == -1 ||
	    store_bind_int(st, s, 7, stub != NULL ? stub->encap : 0) == -1 ||
	    store_bind_int(st, s, 8, stub != NULL ? stub->key : 0) == -1 ||
	    store_bind_int(st, s, 9, stub != NULL ? stub->remote : 0) == -1 ||
	    store_bind_text(st, s, 10, n->gw.lan_if) == -1 ||
	    store_bind_int(st, s, 11, n->gw.c_vlan) == -1 ||
	    store_bind_int(st, s, 12, n->gw.s_vlan) == -1)
		return -1;
	return store_step(st, s) == -1 ? -1 : 0;
}

int
sd_state_gw_del(struct store *st, const char *id)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(st, "DELETE FROM gateways WHERE id = ?")) ==
	    NULL || store_bind_text(st, s, 1, id) == -1)
		return -1;
	return store_step(st, s) == -1 ? -1 : 0;
}
