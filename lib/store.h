/*
 * The state store: a thin SQLite wrapper every daemon uses.
 *
 * A store is one database file in WAL mode with synchronous=FULL, so a
 * committed transaction survives a crash or power cut; foreign keys are
 * on; a busy timeout rides out a checkpoint or a second reader.  The
 * schema grows by numbered migrations recorded in PRAGMA user_version:
 * store_open() applies, each in its own transaction, those the file has
 * not seen yet, so they run once per file.  Every failure is recorded
 * through lib/error.h with SQLite's own message.
 */
#ifndef VNSM_STORE_H
#define VNSM_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct sqlite3_stmt;

/*
 * The schema, in order: migrations[i] takes the file from version i to
 * i + 1.  Each is one or more SQL statements separated by ';'.
 */
struct store_schema {
	const char *const *migrations;
	size_t count;
};

/*
 * Open (creating it when missing, mode 0600) the database at path and
 * bring its schema up to date.  A file newer than the schema (a
 * downgrade) is refused.  NULL with an error recorded.  Close with
 * store_close(); NULL is a no-op.
 */
struct store *store_open(const char *path, const struct store_schema *schema);
void store_close(struct store *st);
/* The schema version of the file (its PRAGMA user_version). */
int store_version(struct store *st);

/* Run SQL statements without results.  0, or -1 with an error. */
int store_exec(struct store *st, const char *sql);

/*
 * Transactions.  begin is BEGIN IMMEDIATE (takes the write lock at
 * once, so a conflict shows up here and not at commit); they do not
 * nest.  0, or -1 with an error recorded.  rollback never fails in a
 * way a caller can act on and returns nothing.
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/*
 * A prepared statement, kept in the store's cache by its SQL text (pass
 * literals), reset and with its bindings cleared.  NULL with an error.
 * The store owns it; do not finalize it.
 */
struct sqlite3_stmt *store_prepare(struct store *st, const char *sql);

/*
 * Bind by position (1-based); text and blobs are copied.  0 or -1 with
 * an error recorded.  A NULL text binds SQL NULL.
 */
int store_bind_text(struct store *st, struct sqlite3_stmt *s, int i,
    const char *v);
int store_bind_int(struct store *st, struct sqlite3_stmt *s, int i,
    int64_t v);
int store_bind_blob(struct store *st, struct sqlite3_stmt *s, int i,
    const void *v, size_t len);

/*
 * Step: 1 when a row is ready, 0 when done (the statement is then reset
 * for reuse), -1 with an error recorded (constraint violations as
 * ERR_DUPLICATE / ERR_CONFLICT).
 */
int store_step(struct store *st, struct sqlite3_stmt *s);

/* Column readers for the current row; text is valid until the next step. */
const char *store_col_text(struct sqlite3_stmt *s, int i);	/* "" for NULL */
int64_t store_col_int(struct sqlite3_stmt *s, int i);
int store_col_null(struct sqlite3_stmt *s, int i);

/* Rows changed by the last statement; the last inserted rowid. */
int64_t store_changes(struct store *st);
int64_t store_last_rowid(struct store *st);

#endif
