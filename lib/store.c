/*
 * SQLite with the settings a daemon's state needs, migrations by
 * version, and a small cache of prepared statements.
 */
#include <sys/stat.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "error.h"
#include "store.h"

#define STORE_BUSY_MS		5000	/* wait this long for a lock */
#define STORE_CACHE_MAX		64	/* prepared statements kept */

struct store_cached {
	const char *sql;	/* the caller's literal, compared by content */
	sqlite3_stmt *stmt;	/* owned */
};

struct store {
	sqlite3 *db;				/* owned */
	char path[512];				/* for messages */
	struct store_cached cache[STORE_CACHE_MAX];
	size_t ncache;				/* <= STORE_CACHE_MAX */
};

/* Record SQLite's last error on st, saying what we were doing. */
static int
store_err(struct store *st, const char *what)
{
	int rc = sqlite3_extended_errcode(st->db);
	enum err_code code = ERR_SYSTEM;

	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		code = (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY) ? ERR_DUPLICATE :
		    ERR_CONFLICT;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = ERR_TIMEOUT;
		break;
	case SQLITE_NOMEM:
		code = ERR_NOMEM;
		break;
	case SQLITE_ERROR:
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
		code = ERR_INTERNAL;
		break;
	default:
		break;
	}
	return err_set(code, "%s: %s: %s", st->path, what,
	    sqlite3_errmsg(st->db));
}

int
store_exec(struct store *st, const char *sql)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_err(st, "cannot run SQL");
	return 0;
}

int
store_version(struct store *st)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Apply the migrations the file lacks, one transaction each. */
static int
store_migrate(struct store *st, const struct store_schema *schema)
{
	char sql[64];
	int v;

	if ((v = store_version(st)) < 0)
		return store_err(st, "cannot read the schema version");
	if ((size_t)v > schema->count)
		return err_set(ERR_CONFLICT, "%s: schema version %d is newer "
		    "than this program knows (%zu)", st->path, v,
		    schema->count);
	for (size_t i = (size_t)v; i < schema->count; i++) {
		if (store_begin(st) == -1)
			return -1;
		if (sqlite3_exec(st->db, schema->migrations[i], NULL, NULL,
		    NULL) != SQLITE_OK) {
			store_err(st, "migration failed");
			err_hint("migration %zu of the schema", i + 1);
			store_rollback(st);
			return -1;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if (store_exec(st, sql) == -1 || store_commit(st) == -1) {
			store_rollback(st);
			return -1;
		}
	}
	return 0;
}

struct store *
store_open(const char *path, const struct store_schema *schema)
{
	struct store *st;
	int fd;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		err_nomem();
		return NULL;
	}
	str_lcpy(st->path, path, sizeof(st->path));
	/* Create it ourselves so that it is not world-readable. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		err_sys("cannot open %s", path);
		free(st);
		return NULL;
	}
	close(fd);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (st->db == NULL)
			err_nomem();
		else
			store_err(st, "cannot open the database");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (store_exec(st, "PRAGMA journal_mode = WAL") == -1 ||
	    store_exec(st, "PRAGMA synchronous = FULL") == -1 ||
	    store_exec(st, "PRAGMA foreign_keys = ON") == -1)
		goto fail;
	if (schema != NULL && store_migrate(st, schema) == -1)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close(st->db);
	free(st);
}

int
store_begin(struct store *st)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return store_err(st, "cannot begin a transaction");
	return 0;
}

int
store_commit(struct store *st)
{
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return store_err(st, "cannot commit");
	return 0;
}

void
store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *
store_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt *s;

	for (size_t i = 0; i < st->ncache; i++)
		if (st->cache[i].sql == sql ||
		    strcmp(st->cache[i].sql, sql) == 0) {
			s = st->cache[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_err(st, "cannot prepare SQL");
		return NULL;
	}
	if (st->ncache == STORE_CACHE_MAX) {
		/* Full: drop the oldest. */
		sqlite3_finalize(st->cache[0].stmt);
		memmove(&st->cache[0], &st->cache[1],
		    (STORE_CACHE_MAX - 1) * sizeof(st->cache[0]));
		st->ncache--;
	}
	st->cache[st->ncache].sql = sql;
	st->cache[st->ncache].stmt = s;
	st->ncache++;
	return s;
}

int
store_bind_text(struct store *st, sqlite3_stmt *s, int i, const char *v)
{
	int rc = v == NULL ? sqlite3_bind_null(s, i) :
	    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);

	return rc == SQLITE_OK ? 0 : store_err(st, "cannot bind");
}

int
store_bind_int(struct store *st, sqlite3_stmt *s, int i, int64_t v)
{
	return sqlite3_bind_int64(s, i, v) == SQLITE_OK ? 0 :
	    store_err(st, "cannot bind");
}

int
store_bind_blob(struct store *st, sqlite3_stmt *s, int i, const void *v,
    size_t len)
{
	return sqlite3_bind_blob64(s, i, v, len, SQLITE_TRANSIENT) ==
	    SQLITE_OK ? 0 : store_err(st, "cannot bind");
}

int
store_step(struct store *st, sqlite3_stmt *s)
{
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		sqlite3_reset(s);
		return 0;
	default:
		store_err(st, "statement failed");
		sqlite3_reset(s);
		return -1;
	}
}

const char *
store_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? (const char *)t : "";
}

int64_t
store_col_int(sqlite3_stmt *s, int i)
{
	return sqlite3_column_int64(s, i);
}

int
store_col_null(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL;
}

int64_t
store_changes(struct store *st)
{
	return sqlite3_changes64(st->db);
}

int64_t
store_last_rowid(struct store *st)
{
	return sqlite3_last_insert_rowid(st->db);
}
