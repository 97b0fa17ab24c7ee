/*
 * vnpd's state in SQLite (lib/store.h): every VNet with its document,
 * state and step times, every part (the slice sent to a PIP, what the
 * PIP answered, how far the transaction got there), and the tunnel key
 * counter.  A part is written *before* its request goes to the PIP, so
 * that after a crash vnpd knows every PIP that may hold something.
 * Callers hold vnpd->lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "vnpd.h"

static const char *const vnpd_migrations[] = {
	"CREATE TABLE vnets ("
	"  owner TEXT NOT NULL, name TEXT NOT NULL,"
	"  discovery TEXT NOT NULL, state TEXT NOT NULL,"
	"  doc TEXT NOT NULL, expires INTEGER NOT NULL DEFAULT 0,"
	"  steps TEXT NOT NULL DEFAULT '', error TEXT,"
	"  PRIMARY KEY (owner, name));"
	"CREATE TABLE parts ("
	"  owner TEXT NOT NULL, vnet TEXT NOT NULL, pip TEXT NOT NULL,"
	"  slice TEXT NOT NULL, state TEXT NOT NULL,"
	"  slice_doc TEXT NOT NULL, manifest TEXT,"
	"  PRIMARY KEY (owner, vnet, pip),"
	"  FOREIGN KEY (owner, vnet) REFERENCES vnets (owner, name)"
	"    ON DELETE CASCADE);"
	"CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
	"INSERT INTO meta VALUES ('key_next', 1)",
};

static const struct store_schema vnpd_schema = {
	vnpd_migrations, NELEM(vnpd_migrations)
};

int
vstore_open(struct vnpd *d)
{
	if ((d->st = store_open(d->conf->state, &vnpd_schema)) == NULL)
		return -1;
	return 0;
}

void
vstore_close(struct vnpd *d)
{
	store_close(d->st);
	d->st = NULL;
}

/* "exchange=0.412 mapping=0.087 ..." for the steps that ran. */
static void
steps_format(const struct vn *v, char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (int s = 0; s < STEP_LAST && n < size; s++)
		if (v->step_ms[s] >= 0)
			n += (size_t)snprintf(out + n, size - n, "%s%s=%.3f",
			    n > 0 ? " " : "", step_to_string(s), v->step_ms[s]);
}

static void
steps_parse(struct vn *v, const char *s)
{
	char name[32];
	double ms;
	int used;

	while (sscanf(s, " %31[a-z]=%lf%n", name, &ms, &used) == 2) {
		int k = step_from_string(name);

		if (k >= 0)
			v->step_ms[k] = ms;
		s += used;
	}
}

/*
 * Write v and all its parts, replacing what the store had, in one
 * transaction.  0, or -1 with an error recorded (and logged).
 */
int
vstore_save(struct vnpd *d, const struct vn *v)
{
	struct sqlite3_stmt *s;
	char steps[512], *doc = NULL;
	int rc = -1;

	if ((doc = vnet_format(v->doc)) == NULL)
		return -1;
	steps_format(v, steps, sizeof(steps));
	if (store_begin(d->st) == -1)
		goto out;
	s = store_prepare(d->st, "INSERT INTO vnets (owner, name, discovery, "
	    "state, doc, expires, steps, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT (owner, name) DO UPDATE SET discovery = excluded."
	    "discovery, state = excluded.state, doc = excluded.doc, "
	    "expires = excluded.expires, steps = excluded.steps, "
	    "error = excluded.error");
	if (s == NULL ||
	    store_bind_text(d->st, s, 1, v->owner) == -1 ||
	    store_bind_text(d->st, s, 2, v->name) == -1 ||
	    store_bind_text(d->st, s, 3, discovery_to_string(v->disc)) == -1 ||
	    store_bind_text(d->st, s, 4, vnet_state_to_string(v->state)) == -1 ||
	    store_bind_text(d->st, s, 5, doc) == -1 ||
	    store_bind_int(d->st, s, 6, v->expires) == -1 ||
	    store_bind_text(d->st, s, 7, steps) == -1 ||
	    store_bind_text(d->st, s, 8, v->err.code == ERR_OK ? NULL :
	    v->err.msg) == -1 ||
	    store_step(d->st, s) == -1)
		goto fail;
	s = store_prepare(d->st, "DELETE FROM parts WHERE owner = ? AND "
	    "vnet = ?");
	if (s == NULL || store_bind_text(d->st, s, 1, v->owner) == -1 ||
	    store_bind_text(d->st, s, 2, v->name) == -1 ||
	    store_step(d->st, s) == -1)
		goto fail;
	for (size_t i = 0; i < v->nparts; i++) {
		const struct vn_part *p = &v->parts[i];
		char *sd = slice_format(p->sl);
		char *md = p->mf == NULL ? NULL : manifest_format(p->mf);
		int bad;

		s = store_prepare(d->st, "INSERT INTO parts (owner, vnet, pip, "
		    "slice, state, slice_doc, manifest) VALUES (?, ?, ?, ?, "
		    "?, ?, ?)");
		bad = sd == NULL || (p->mf != NULL && md == NULL) ||
		    s == NULL ||
		    store_bind_text(d->st, s, 1, v->owner) == -1 ||
		    store_bind_text(d->st, s, 2, v->name) == -1 ||
		    store_bind_text(d->st, s, 3, p->pip) == -1 ||
		    store_bind_text(d->st, s, 4, p->slice) == -1 ||
		    store_bind_text(d->st, s, 5,
		    part_state_to_string(p->state)) == -1 ||
		    store_bind_text(d->st, s, 6, sd) == -1 ||
		    store_bind_text(d->st, s, 7, md) == -1 ||
		    store_step(d->st, s) == -1;
		free(sd);
		free(md);
		if (bad)
			goto fail;
	}
	if (store_commit(d->st) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	store_rollback(d->st);
out:
	if (rc == -1)
		log_warnx("state: cannot save vnet %s/%s: %s", v->owner,
		    v->name, err_last() ? err_last()->msg : "?");
	free(doc);
	return rc;
}

/* Forget v (its parts go with it).  0 or -1. */
int
vstore_delete(struct vnpd *d, const struct vn *v)
{
	struct sqlite3_stmt *s = store_prepare(d->st, "DELETE FROM vnets "
	    "WHERE owner = ? AND name = ?");

	if (s == NULL || store_bind_text(d->st, s, 1, v->owner) == -1 ||
	    store_bind_text(d->st, s, 2, v->name) == -1 ||
	    store_step(d->st, s) == -1)
		return -1;
	return 0;
}

/* Read the parts of v from the store.  0 or -1. */
static int
vstore_load_parts(struct vnpd *d, struct vn *v)
{
	struct sqlite3_stmt *s = store_prepare(d->st, "SELECT pip, slice, "
	    "state, slice_doc, manifest FROM parts WHERE owner = ? AND "
	    "vnet = ? ORDER BY rowid");
	int r;

	if (s == NULL || store_bind_text(d->st, s, 1, v->owner) == -1 ||
	    store_bind_text(d->st, s, 2, v->name) == -1)
		return -1;
	while ((r = store_step(d->st, s)) == 1) {
		struct vn_part *np, *p;
		const char *sd = store_col_text(s, 3), *md;
		int ps;

		np = realloc(v->parts, (v->nparts + 1) * sizeof(*np));
		if (np == NULL)
			return err_nomem();
		v->parts = np;
		p = &v->parts[v->nparts];
		memset(p, 0, sizeof(*p));
		str_lcpy(p->pip, store_col_text(s, 0), sizeof(p->pip));
		str_lcpy(p->slice, store_col_text(s, 1), sizeof(p->slice));
		ps = part_state_from_string(store_col_text(s, 2));
		p->state = ps < 0 ? PART_ALLOCATING : (enum part_state)ps;
		if ((p->sl = slice_parse(sd, strlen(sd), p->slice)) == NULL)
			return -1;
		md = store_col_text(s, 4);
		if (md[0] != '\0')
			p->mf = manifest_parse(md, strlen(md), p->slice);
		v->nparts++;
	}
	return r;
}

/*
 * Load every VNet into d->vnets, and the key counter.  0, or -1 with an
 * error recorded.
 */
int
vstore_load(struct vnpd *d)
{
	struct sqlite3_stmt *s;
	struct vn *list = NULL, **tail = &list;
	int r;

	s = store_prepare(d->st, "SELECT v FROM meta WHERE k = 'key_next'");
	if (s == NULL || (r = store_step(d->st, s)) == -1)
		return -1;
	d->key_next = r == 1 ? (uint32_t)store_col_int(s, 0) : 1;
	if (r == 1)
		store_step(d->st, s);
	s = store_prepare(d->st, "SELECT owner, name, discovery, state, doc, "
	    "expires, steps, error FROM vnets ORDER BY rowid");
	if (s == NULL)
		return -1;
	while ((r = store_step(d->st, s)) == 1) {
		struct vn *v = calloc(1, sizeof(*v));
		const char *doc = store_col_text(s, 4);
		int k;

		if (v == NULL)
			return err_nomem();
		str_lcpy(v->owner, store_col_text(s, 0), sizeof(v->owner));
		str_lcpy(v->name, store_col_text(s, 1), sizeof(v->name));
		k = discovery_from_string(store_col_text(s, 2));
		v->disc = k < 0 ? DISC_PIP : (enum discovery)k;
		k = vnet_state_from_string(store_col_text(s, 3));
		v->state = k < 0 ? VS_FAILED : (enum vnet_state)k;
		v->expires = store_col_int(s, 5);
		for (int i = 0; i < STEP_LAST; i++)
			v->step_ms[i] = -1;
		steps_parse(v, store_col_text(s, 6));
		if (!store_col_null(s, 7)) {
			v->err.code = v->state == VS_FAILED ? ERR_NO_RESOURCES :
			    ERR_INTERNAL;
			str_lcpy(v->err.msg, store_col_text(s, 7),
			    sizeof(v->err.msg));
		}
		if ((v->doc = vnet_parse(doc, strlen(doc), v->name)) == NULL) {
			log_warnx("state: vnet %s/%s: stored document is bad",
			    v->owner, v->name);
			free(v);
			continue;
		}
		*tail = v;
		tail = &v->next;
	}
	for (struct vn *v = list; v != NULL; v = v->next)
		if (vstore_load_parts(d, v) == -1)
			r = -1;
	d->vnets = list;
	return r;
}

/*
 * Hand out n consecutive tunnel keys; the counter is on disk before
 * they are used.  Wraps to 1 after VNPD_KEY_MAX.  0 or -1.
 */
int
vstore_keys(struct vnpd *d, uint32_t n, uint32_t *first)
{
	struct sqlite3_stmt *s;
	uint32_t next = d->key_next;

	if (next == 0 || next > VNPD_KEY_MAX - n)
		next = 1;
	*first = next;
	s = store_prepare(d->st, "UPDATE meta SET v = ? WHERE k = 'key_next'");
	if (s == NULL || store_bind_int(d->st, s, 1, (int64_t)next + n) == -1 ||
	    store_step(d->st, s) == -1)
		return -1;
	d->key_next = next + n;
	return 0;
}
