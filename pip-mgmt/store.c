/*
 * pipd's state in SQLite (lib/store.h): one row per slice with its
 * resolved document, state, expiry and the operation in flight (written
 * before any agent is asked, so a restart knows what to finish or undo),
 * the agents' manifest fragments, and the tunnel key counters.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "error.h"
#include "log.h"
#include "pipd.h"
#include "store.h"

static const char *const pipd_migrations[] = {
	"CREATE TABLE slices ("
	"  name TEXT PRIMARY KEY,"
	"  owner TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  mapping TEXT NOT NULL,"
	"  doc TEXT NOT NULL,"		/* resolved slice document */
	"  prev TEXT NOT NULL DEFAULT '',"	/* in flight: agents' old */
	"  op TEXT NOT NULL DEFAULT '',"	/* in flight: the operation */
	"  map_us INTEGER NOT NULL DEFAULT 0,"
	"  alloc_us INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE frags ("
	"  slice TEXT NOT NULL REFERENCES slices(name) ON DELETE CASCADE,"
	"  host TEXT NOT NULL,"
	"  doc TEXT NOT NULL,"
	"  PRIMARY KEY (slice, host));"
	"CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);",
	/* Subscribers (subs.c): enrolment tokens, stored hashed, and the
	   homes attached (identity, tunnel key and the home's end). */
	"CREATE TABLE sub_tokens ("
	"  hash TEXT PRIMARY KEY,"		/* SHA-256 of the token, hex */
	"  slice TEXT NOT NULL,"
	"  subscriber TEXT NOT NULL,"
	"  expires INTEGER NOT NULL,"		/* epoch s */
	"  used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE sub_homes ("
	"  subscriber TEXT PRIMARY KEY,"
	"  slice TEXT NOT NULL,"
	"  gateway TEXT NOT NULL,"		/* the gateway node */
	"  host TEXT NOT NULL,"
	"  encap TEXT NOT NULL,"
	"  key INTEGER NOT NULL,"
	"  underlay INTEGER NOT NULL,"		/* home's end, 0 = detached */
	"  credential TEXT NOT NULL DEFAULT '',"	/* SHA-256, hex */
	"  since INTEGER NOT NULL);",
};

static const struct store_schema pipd_schema = {
	pipd_migrations, NELEM(pipd_migrations)
};

static const char *const op_names[] = { "", "provision", "update",
	"delete" };

int
pstore_open(struct pipd *pd)
{
	struct sqlite3_stmt *s;
	int r;

	if ((pd->st = store_open(pd->conf->state, &pipd_schema)) == NULL)
		return -1;
	pd->next_key = PIPD_KEY_FIRST;
	pd->next_vni = PIPD_VNI_FIRST;
	if ((s = store_prepare(pd->st, "SELECT k, v FROM meta")) == NULL)
		return -1;
	while ((r = store_step(pd->st, s)) == 1) {
		const char *k = store_col_text(s, 0);
		int64_t v = store_col_int(s, 1);

		if (strcmp(k, "next_key") == 0 && v >= PIPD_KEY_FIRST &&
		    v <= UINT32_MAX)
			pd->next_key = (uint32_t)v;
		else if (strcmp(k, "next_vni") == 0 && v >= PIPD_VNI_FIRST &&
		    v <= VXLAN_VNI_MAX)
			pd->next_vni = (uint32_t)v;
	}
	return r;
}

static int
save_meta(struct pipd *pd, const char *k, int64_t v)
{
	struct sqlite3_stmt *s;

	if ((s = store_prepare(pd->st, "INSERT OR REPLACE INTO meta (k, v) "
	    "VALUES (?, ?)")) == NULL ||
	    store_bind_text(pd->st, s, 1, k) == -1 ||
	    store_bind_int(pd->st, s, 2, v) == -1)
		return -1;
	return store_step(pd->st, s) == -1 ? -1 : 0;
}

int
pstore_keys(struct pipd *pd)
{
	if (save_meta(pd, "next_key", pd->next_key) == -1 ||
	    save_meta(pd, "next_vni", pd->next_vni) == -1)
		return -1;
	return 0;
}

/*
 * Write a slice (and the key counters) in one transaction.  Returns 0,
 * or -1 with an error recorded and nothing written.
 */
int
pstore_save(struct pipd *pd, const struct pslice *ps)
{
	struct sqlite3_stmt *s;
	char *doc = NULL, *prev = NULL;
	int rc = -1;

	if (pd->st == NULL)
		return 0;
	if ((doc = slice_format(ps->doc)) == NULL ||
	    (ps->prev != NULL && (prev = slice_format(ps->prev)) == NULL))
		goto out;
	if (store_begin(pd->st) == -1)
		goto out;
	if ((s = store_prepare(pd->st, "INSERT INTO slices (name, owner, "
	    "state, expires, mapping, doc, prev, op, map_us, alloc_us) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO "
	    "UPDATE SET owner = excluded.owner, state = excluded.state, "
	    "expires = excluded.expires, mapping = excluded.mapping, "
	    "doc = excluded.doc, prev = excluded.prev, op = excluded.op, "
	    "map_us = excluded.map_us, alloc_us = excluded.alloc_us")) ==
	    NULL ||
	    store_bind_text(pd->st, s, 1, ps->name) == -1 ||
	    store_bind_text(pd->st, s, 2, ps->owner) == -1 ||
	    store_bind_text(pd->st, s, 3, vnet_state_to_string(ps->state)) ==
	    -1 ||
	    store_bind_int(pd->st, s, 4, ps->expires) == -1 ||
	    store_bind_text(pd->st, s, 5,
	    slice_mapping_to_string(ps->mapping)) == -1 ||
	    store_bind_text(pd->st, s, 6, doc) == -1 ||
	    store_bind_text(pd->st, s, 7, prev != NULL ? prev : "") == -1 ||
	    store_bind_text(pd->st, s, 8, op_names[ps->op]) == -1 ||
	    store_bind_int(pd->st, s, 9, (int64_t)(ps->map_ms * 1000)) ==
	    -1 ||
	    store_bind_int(pd->st, s, 10, (int64_t)(ps->alloc_ms * 1000)) ==
	    -1 || store_step(pd->st, s) == -1 || pstore_keys(pd) == -1) {
		store_rollback(pd->st);
		goto out;
	}
	if ((s = store_prepare(pd->st, "DELETE FROM frags WHERE slice = ?")) ==
	    NULL || store_bind_text(pd->st, s, 1, ps->name) == -1 ||
	    store_step(pd->st, s) == -1) {
		store_rollback(pd->st);
		goto out;
	}
	for (size_t h = 0; h < pd->nhosts; h++) {
		if (ps->frag[h] == NULL)
			continue;
		if ((s = store_prepare(pd->st, "INSERT OR REPLACE INTO frags "
		    "(slice, host, doc) VALUES (?, ?, ?)")) == NULL ||
		    store_bind_text(pd->st, s, 1, ps->name) == -1 ||
		    store_bind_text(pd->st, s, 2,
		    pd->conf->hosts[h].name) == -1 ||
		    store_bind_text(pd->st, s, 3, ps->frag[h]) == -1 ||
		    store_step(pd->st, s) == -1) {
			store_rollback(pd->st);
			goto out;
		}
	}
	rc = store_commit(pd->st);
out:
	free(doc);
	free(prev);
	return rc;
}

int
pstore_delete(struct pipd *pd, const char *name)
{
	struct sqlite3_stmt *s;

	if (pd->st == NULL)
		return 0;
	if ((s = store_prepare(pd->st, "DELETE FROM slices WHERE name = ?")) ==
	    NULL || store_bind_text(pd->st, s, 1, name) == -1)
		return -1;
	return store_step(pd->st, s) == -1 ? -1 : 0;
}

/*
 * Call fn for every stored slice.  Returns 0, or -1 if reading failed or
 * fn returned -1.
 */
int
pstore_load(struct pipd *pd,
    int (*fn)(struct pipd *, const char *name, const char *owner,
    const char *state, int64_t expires, const char *mapping,
    const char *doc, const char *prev, const char *op, double map_ms,
    double alloc_ms))
{
	struct sqlite3_stmt *s;
	int r;

	if ((s = store_prepare(pd->st, "SELECT name, owner, state, expires, "
	    "mapping, doc, prev, op, map_us, alloc_us FROM slices ORDER BY "
	    "rowid")) == NULL)
		return -1;
	while ((r = store_step(pd->st, s)) == 1) {
		char *row[8];
		int bad = 0;
		static const int cols[8] = { 0, 1, 2, 4, 5, 6, 7, 0 };

		/* Copy: fn may use the store, which resets s. */
		for (int i = 0; i < 7; i++)
			if ((row[i] = strdup(store_col_text(s, cols[i]))) ==
			    NULL)
				bad = 1;
		row[7] = NULL;
		if (!bad && fn(pd, row[0], row[1], row[2],
		    store_col_int(s, 3), row[3], row[4], row[5], row[6],
		    store_col_int(s, 8) / 1000.0,
		    store_col_int(s, 9) / 1000.0) == -1)
			bad = 1;
		for (int i = 0; i < 7; i++)
			free(row[i]);
		if (bad) {
			sqlite3_reset(s);
			return -1;
		}
	}
	return r;
}

int
pstore_load_frags(struct pipd *pd, struct pslice *ps)
{
	struct sqlite3_stmt *s;
	int r, h;

	if ((s = store_prepare(pd->st, "SELECT host, doc FROM frags WHERE "
	    "slice = ?")) == NULL || store_bind_text(pd->st, s, 1,
	    ps->name) == -1)
		return -1;
	while ((r = store_step(pd->st, s)) == 1) {
		if ((h = config_host(pd->conf, store_col_text(s, 0))) < 0)
			continue;
		free(ps->frag[h]);
		ps->frag[h] = strdup(store_col_text(s, 1));
	}
	return r;
}
