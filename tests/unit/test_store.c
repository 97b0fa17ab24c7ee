/*
 * The state store: schema migrations run once, data survives close and
 * reopen, transactions roll back, errors are coded.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "error.h"
#include "store.h"

static char dir[64];
static char db[96];

static const char *const v1[] = {
	"CREATE TABLE vnet (name TEXT PRIMARY KEY, owner TEXT NOT NULL)",
};
static const char *const v2[] = {
	"CREATE TABLE vnet (name TEXT PRIMARY KEY, owner TEXT NOT NULL)",
	"ALTER TABLE vnet ADD COLUMN nodes INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE runs (n INTEGER)",
	"INSERT INTO runs VALUES (1)",	/* counts how often it ran */
};
static const struct store_schema schema1 = { v1, 1 };
static const struct store_schema schema2 = { v2, 3 };

static void
setup(void)
{
	str_lcpy(dir, "/tmp/vnsm-test-store.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/state.db", dir);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int64_t
count(struct store *st, const char *sql)
{
	sqlite3_stmt *s = store_prepare(st, sql);
	int64_t n;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_step(st, s), 1);
	n = store_col_int(s, 0);
	ck_assert_int_eq(store_step(st, s), 0);
	return n;
}

START_TEST(test_migrate_and_reopen)
{
	struct store *st;
	sqlite3_stmt *s;

	err_reset();
	st = store_open(db, &schema1);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(store_version(st), 1);
	s = store_prepare(st, "INSERT INTO vnet (name, owner) VALUES (?, ?)");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_bind_text(st, s, 1, "v1"), 0);
	ck_assert_int_eq(store_bind_text(st, s, 2, "alice"), 0);
	ck_assert_int_eq(store_step(st, s), 0);
	ck_assert_int_eq(store_changes(st), 1);
	store_close(st);

	/* Version 2 of the program: two more migrations, once. */
	for (int round = 0; round < 3; round++) {
		st = store_open(db, &schema2);
		ck_assert_ptr_nonnull(st);
		ck_assert_int_eq(store_version(st), 3);
		ck_assert_int_eq(count(st, "SELECT count(*) FROM runs"), 1);
		ck_assert_int_eq(count(st,
		    "SELECT nodes FROM vnet WHERE name = 'v1'"), 0);
		store_close(st);
	}

	/* The old program refuses the newer file rather than damage it. */
	ck_assert_ptr_null(store_open(db, &schema1));
	ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, "newer"));
}
END_TEST

START_TEST(test_pragmas)
{
	struct store *st = store_open(db, &schema1);
	sqlite3_stmt *s;

	ck_assert_ptr_nonnull(st);
	s = store_prepare(st, "PRAGMA journal_mode");
	ck_assert_int_eq(store_step(st, s), 1);
	ck_assert_str_eq(store_col_text(s, 0), "wal");
	ck_assert_int_eq(store_step(st, s), 0);
	ck_assert_int_eq(count(st, "PRAGMA synchronous"), 2);	/* FULL */
	ck_assert_int_eq(count(st, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(access(db, F_OK), 0);
	store_close(st);
}
END_TEST

START_TEST(test_transactions_and_errors)
{
	struct store *st = store_open(db, &schema1);
	const char *ins = "INSERT INTO vnet (name, owner) VALUES (?, ?)";
	sqlite3_stmt *s;

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(store_begin(st), 0);
	s = store_prepare(st, ins);
	store_bind_text(st, s, 1, "a");
	store_bind_text(st, s, 2, "alice");
	ck_assert_int_eq(store_step(st, s), 0);
	store_rollback(st);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM vnet"), 0);

	ck_assert_int_eq(store_begin(st), 0);
	s = store_prepare(st, ins);
	store_bind_text(st, s, 1, "a");
	store_bind_text(st, s, 2, "alice");
	ck_assert_int_eq(store_step(st, s), 0);
	ck_assert_int_eq(store_commit(st), 0);

	/* Same name again: a duplicate, coded as such. */
	err_reset();
	s = store_prepare(st, ins);
	store_bind_text(st, s, 1, "a");
	store_bind_text(st, s, 2, "bob");
	ck_assert_int_eq(store_step(st, s), -1);
	ck_assert_int_eq(err_last_code(), ERR_DUPLICATE);
	ck_assert_ptr_nonnull(strstr(err_last()->msg, db));
	/* NOT NULL: a conflict. */
	s = store_prepare(st, ins);
	store_bind_text(st, s, 1, "b");
	store_bind_text(st, s, 2, NULL);
	ck_assert_int_eq(store_step(st, s), -1);
	ck_assert_int_eq(err_last_code(), ERR_CONFLICT);
	/* Bad SQL. */
	ck_assert_ptr_null(store_prepare(st, "SELEKT 1"));
	ck_assert_int_eq(store_exec(st, "CREATE TABLE vnet (x)"), -1);
	ck_assert_int_eq(count(st, "SELECT count(*) FROM vnet"), 1);
	store_close(st);

	/* A bad migration changes nothing. */
	{
		static const char *const bad[] = {
			"CREATE TABLE vnet (name TEXT PRIMARY KEY, owner TEXT "
			"NOT NULL)",
			"CREATE TABLE t (x); INSERT INTO nosuch VALUES (1)",
		};
		const struct store_schema sb = { bad, 2 };

		err_reset();
		ck_assert_ptr_null(store_open(db, &sb));
		ck_assert_str_eq(err_last()->hint, "migration 2 of the schema");
		st = store_open(db, &schema1);
		ck_assert_ptr_nonnull(st);
		ck_assert_int_eq(store_version(st), 1);
		ck_assert_int_eq(count(st, "SELECT count(*) FROM "
		    "sqlite_master WHERE name = 't'"), 0);
		store_close(st);
	}
	ck_assert_ptr_null(store_open("/nonexistent/dir/x.db", &schema1));
	ck_assert_int_eq(err_last_code(), ERR_SYSTEM);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("sqlite");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_migrate_and_reopen);
	tcase_add_test(tc, test_pragmas);
	tcase_add_test(tc, test_transactions_and_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
