/*
 * check_planlocks.c - `cairn plan --locks` end to end: the real cairn
 * binary, a real git repository made here and a real PostgreSQL server
 * (a fresh database per test).
 *
 * A first migration creates and fills `orders` (5000 rows, an index) and
 * is applied; the pending ones alter it in the ways that matter in
 * production.  The tests check each statement's lock mode, rewrite and
 * scan flags, that the sizes are the server's own figures
 * (pg_total_relation_size, pg_size_pretty), that a session reading the
 * table in an open transaction counts (1, then 0 after its COMMIT), that
 * a range reads the same figures when the database can be reached, that
 * a table held ACCESS EXCLUSIVE by someone else gives "size unknown"
 * instead of a hang, that without a database (--no-db, or a range with
 * an unreachable server) the locks are shown without figures, and that
 * a syntax error is reported with its line and column.
 */
#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

#define MIGRATION_1 \
	"CREATE TABLE customers (id bigint PRIMARY KEY);\n" \
	"CREATE TABLE scratch (id int);\n" \
	"CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint,\n" \
	"                     total int, note varchar(20))\n" \
	"  WITH (autovacuum_enabled = off); -- sizes compared exactly\n" \
	"INSERT INTO orders SELECT g, g, g, 'n' FROM generate_series(1, 5000) g;\n" \
	"CREATE INDEX orders_total ON orders (total);\n" \
	"CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql\n" \
	"  AS $$ BEGIN RETURN NEW; END $$;\n"

/* statement i (0-based) of 0002 is on line i + 2 (after the comment) */
#define MIGRATION_2 \
	"-- what a reviewer should see before deploying\n" \
	"ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();\n" \
	"ALTER TABLE orders ADD COLUMN flag boolean DEFAULT false;\n" \
	"ALTER TABLE orders ALTER COLUMN total TYPE bigint;\n" \
	"ALTER TABLE orders ALTER COLUMN total SET NOT NULL;\n" \
	"ALTER TABLE orders ADD CONSTRAINT total_pos CHECK (total > 0) NOT VALID;\n" \
	"ALTER TABLE orders VALIDATE CONSTRAINT total_pos;\n" \
	"ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id)\n" \
	"  REFERENCES customers (id) NOT VALID;\n" \
	"CREATE INDEX orders_customer_id ON orders (customer_id);\n" \
	"CREATE TRIGGER orders_touch BEFORE UPDATE ON orders\n" \
	"  FOR EACH ROW EXECUTE FUNCTION touch();\n" \
	"ALTER TABLE orders RENAME COLUMN note TO memo;\n" \
	"INSERT INTO customers VALUES (1);\n" \
	"DROP INDEX orders_total;\n" \
	"TRUNCATE scratch;\n"

#define MIGRATION_3 \
	"-- cairn: no-transaction\n" \
	"CREATE INDEX CONCURRENTLY orders_total2 ON orders (total);\n"

static void project_init(project *p, const char *prod_url)
{
	char yaml[2048];

	p->url = tu_db_create("planlocks");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "  production:\n"
		 "    database_url: \"%s\"\n"
		 "hooks: {}\n",
		 p->url, prod_url ? prod_url : p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
	tu_write(p->dir, "db/migrations/0001_orders.up.sql", MIGRATION_1);
	free(tu_git_commit(p->dir, "Ann", "ann@example.com", 1700000000, "orders"));
}

/* 0001 applied, 0002 and 0003 committed and pending. */
static void project_with_pending(project *p, const char *prod_url)
{
	tu_result r;

	project_init(p, prod_url);
	if (!prod_url) {
		tu_cairn(&r, p->dir, "migrate", "up", NULL);
		ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
		tu_result_dispose(&r);
	}
	tu_write(p->dir, "db/migrations/0002_risky.up.sql", MIGRATION_2);
	tu_write(p->dir, "db/migrations/0003_index.up.sql", MIGRATION_3);
	free(tu_git_commit(p->dir, "Bob", "bob@example.com", 1700000100, "risky"));
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static PGconn *hold_conn(const char *url)
{
	PGconn *c = PQconnectdb(url);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	return c;
}

static void hold_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK,
		      "%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

/* Runs cairn with args (NULL-terminated) and parses its JSON output. */
static json_t *plan_json(project *p, const char *const *args)
{
	const char *argv[16] = { tu_cairn_bin() };
	json_error_t err;
	tu_result r;
	json_t *j;
	size_t n = 1;

	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	tu_run(&r, p->dir, argv, NULL, NULL);
	ck_assert_msg(r.status == 0, "exit %d\n%s%s", r.status, r.out, r.err);
	j = json_loads(r.out, 0, &err);
	ck_assert_msg(j != NULL, "not JSON (%s):\n%s", err.text, r.out);
	tu_result_dispose(&r);
	return j;
}

/* The migration with this version in a plan's list (key: its name). */
static json_t *migration(json_t *root, const char *key, const char *version)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(root, key), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "version")), version))
			return m;
	ck_abort_msg("migration %s not in the plan", version);
	return NULL;
}

static json_t *statement(json_t *m, size_t i)
{
	json_t *s = json_array_get(json_object_get(json_object_get(m, "locks"),
						   "statements"), i);

	ck_assert_msg(s != NULL, "no statement %zu", i);
	return s;
}

static json_t *table(json_t *stmt, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(stmt, "tables"), i, t)
		if (!strcmp(json_string_value(json_object_get(t, "name")), name))
			return t;
	ck_abort_msg("statement on line %lld has no table %s",
		     (long long)json_integer_value(json_object_get(stmt, "line")),
		     name);
	return NULL;
}

static void expect_lock(json_t *m, size_t i, const char *name,
			const char *lock, const char *rewrite, bool scans)
{
	json_t *s = statement(m, i);
	json_t *t = table(s, name);

	ck_assert_int_eq(json_integer_value(json_object_get(s, "line")),
			 (json_int_t)i + 2);
	ck_assert_str_eq(json_string_value(json_object_get(t, "lock")), lock);
	ck_assert_str_eq(json_string_value(json_object_get(t, "rewrite")), rewrite);
	ck_assert_msg(json_is_true(json_object_get(t, "scans")) == scans,
		      "line %zu %s: scans", i + 2, name);
}

static long long jint(json_t *t, const char *key)
{
	json_t *v = json_object_get(t, key);

	ck_assert_msg(json_is_integer(v), "%s is not a number", key);
	return (long long)json_integer_value(v);
}

static long long db_int(project *p, const char *sql)
{
	char *v = tu_db_value(p->url, sql);
	long long n = v ? strtoll(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* Every classification of 0002 and 0003, checked once. */
static void check_locks_of_pending(json_t *root, const char *key)
{
	json_t *m2 = migration(root, key, "2"), *m3 = migration(root, key, "3");
	json_t *s;

	expect_lock(m2, 0, "orders", "ACCESS EXCLUSIVE", "yes", false);
	expect_lock(m2, 1, "orders", "ACCESS EXCLUSIVE", "no", false);
	expect_lock(m2, 2, "orders", "ACCESS EXCLUSIVE", "yes", false);
	expect_lock(m2, 3, "orders", "ACCESS EXCLUSIVE", "no", true);
	expect_lock(m2, 4, "orders", "ACCESS EXCLUSIVE", "no", false);
	expect_lock(m2, 5, "orders", "SHARE UPDATE EXCLUSIVE", "no", true);
	expect_lock(m2, 6, "orders", "SHARE ROW EXCLUSIVE", "no", false);
	expect_lock(m2, 6, "customers", "SHARE ROW EXCLUSIVE", "no", false);
	/* the foreign key spans two lines: the next statement is on line 10 */
	s = statement(m2, 7);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "line")), 10);
	ck_assert_str_eq(json_string_value(json_object_get(table(s, "orders"),
							   "lock")), "SHARE");
	s = statement(m2, 8);
	ck_assert_str_eq(json_string_value(json_object_get(s, "kind")),
			 "CREATE TRIGGER");
	ck_assert_str_eq(json_string_value(json_object_get(table(s, "orders"),
							   "lock")),
			 "SHARE ROW EXCLUSIVE");
	s = statement(m2, 9);
	ck_assert_str_eq(json_string_value(json_object_get(table(s, "orders"),
							   "lock")),
			 "ACCESS EXCLUSIVE");
	s = statement(m2, 10);
	ck_assert_str_eq(json_string_value(json_object_get(table(s, "customers"),
							   "lock")),
			 "ROW EXCLUSIVE");
	s = statement(m2, 11);
	ck_assert(json_is_true(json_object_get(table(s, "orders_total"), "index")));
	ck_assert_str_eq(json_string_value(json_object_get(table(s, "orders_total"),
							   "lock")),
			 "ACCESS EXCLUSIVE");
	s = statement(m2, 12);
	ck_assert_str_eq(json_string_value(json_object_get(table(s, "scratch"),
							   "lock")),
			 "ACCESS EXCLUSIVE");
	s = statement(m3, 0);
	ck_assert(json_is_true(json_object_get(s, "no_transaction")));
	ck_assert_str_eq(json_string_value(json_object_get(table(s, "orders"),
							   "lock")),
			 "SHARE UPDATE EXCLUSIVE");
}

START_TEST(test_locks_sizes_and_sessions_from_the_database)
{
	static const char *const args[] = { "plan", "--locks", "--format",
					    "json", NULL };
	project p;
	PGconn *reader;
	json_t *root, *t;
	char *pretty, *line;
	long long size, isize;
	tu_result r;

	project_with_pending(&p, NULL);
	/* a session reading orders in an open transaction */
	reader = hold_conn(p.url);
	hold_exec(reader, "BEGIN");
	hold_exec(reader, "SELECT count(*) FROM orders");

	root = plan_json(&p, args);
	ck_assert(json_is_true(json_object_get(root, "database")));
	check_locks_of_pending(root, "pending");
	size = db_int(&p, "SELECT pg_total_relation_size('orders')");
	isize = db_int(&p, "SELECT pg_total_relation_size('orders_total')");
	ck_assert_msg(size > 100000, "orders is %lld bytes", size);
	t = table(statement(migration(root, "pending", "2"), 0), "orders");
	ck_assert_int_eq(jint(t, "size_bytes"), size);
	pretty = tu_db_value(p.url, "SELECT pg_size_pretty(pg_total_relation_size('orders'))");
	ck_assert_str_eq(json_string_value(json_object_get(t, "size")), pretty);
	ck_assert_int_eq(jint(t, "sessions"), 1);
	/* the index: its own size, the sessions of its table */
	t = table(statement(migration(root, "pending", "2"), 11), "orders_total");
	ck_assert_int_eq(jint(t, "size_bytes"), isize);
	ck_assert_int_eq(jint(t, "sessions"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(t, "table")), "orders");
	/* nobody uses customers */
	t = table(statement(migration(root, "pending", "2"), 6), "customers");
	ck_assert_int_eq(jint(t, "sessions"), 0);
	json_decref(root);

	/* what a reviewer reads */
	tu_cairn(&r, p.dir, "plan", "--locks", NULL);
	ck_assert_int_eq(r.status, 0);
	if (asprintf(&line, "rewrites orders (%s, 1 session) under ACCESS EXCLUSIVE: "
		     "ADD COLUMN token (volatile default)", pretty) < 0)
		ck_abort();
	ck_assert_msg(tu_contains(r.out, line), "no '%s' in:\n%s", line, r.out);
	ck_assert_msg(tu_contains(r.out, "scans orders ("), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "CREATE INDEX CONCURRENTLY (outside a transaction)"),
		      "%s", r.out);
	free(line);
	tu_result_dispose(&r);

	/* the reader commits: nobody is using orders any more */
	hold_exec(reader, "COMMIT");
	root = plan_json(&p, args);
	t = table(statement(migration(root, "pending", "2"), 0), "orders");
	ck_assert_int_eq(jint(t, "sessions"), 0);
	json_decref(root);

	/* a range reads the same figures when the database can be reached */
	{
		static const char *const range[] = { "plan", "--locks",
						     "HEAD~1..HEAD", "--format",
						     "json", NULL };

		root = plan_json(&p, range);
		check_locks_of_pending(root, "migrations");
		t = table(statement(migration(root, "migrations", "2"), 0), "orders");
		ck_assert_int_eq(jint(t, "size_bytes"), size);
		ck_assert_int_eq(jint(t, "sessions"), 0);
		json_decref(root);
	}

	/* the plan applied nothing */
	ck_assert_int_eq(db_int(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	PQfinish(reader);
	free(pretty);
	project_dispose(&p);
}
END_TEST

START_TEST(test_table_held_exclusively_gives_unknown_size)
{
	static const char *const args[] = { "plan", "--locks", "--format",
					    "json", NULL };
	project p;
	PGconn *holder;
	json_t *root, *t;

	project_with_pending(&p, NULL);
	holder = hold_conn(p.url);
	hold_exec(holder, "BEGIN");
	hold_exec(holder, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
	root = plan_json(&p, args);
	t = table(statement(migration(root, "pending", "2"), 0), "orders");
	ck_assert(json_is_true(json_object_get(t, "exists")));
	ck_assert(json_is_null(json_object_get(t, "size_bytes")));
	ck_assert_int_eq(jint(t, "sessions"), 1);
	/* other tables are measured */
	t = table(statement(migration(root, "pending", "2"), 6), "customers");
	ck_assert(json_is_integer(json_object_get(t, "size_bytes")));
	json_decref(root);
	hold_exec(holder, "ROLLBACK");
	PQfinish(holder);
	project_dispose(&p);
}
END_TEST

START_TEST(test_without_a_database)
{
	static const char *const no_db[] = { "--env", "production", "plan",
					     "--locks", "--no-db", "--format",
					     "json", NULL };
	/* nothing listens on port 1: any connection attempt would fail */
	const char *dead = "postgresql://127.0.0.1:1/nodb?connect_timeout=3";
	project p;
	json_t *root, *t;
	tu_result r;

	project_with_pending(&p, dead);
	root = plan_json(&p, no_db);
	ck_assert(json_is_false(json_object_get(root, "database")));
	ck_assert_uint_eq(json_array_size(json_object_get(root, "migrations")), 3);
	check_locks_of_pending(root, "migrations");
	t = table(statement(migration(root, "migrations", "2"), 0), "orders");
	ck_assert(json_is_null(json_object_get(t, "size_bytes")));
	ck_assert(json_is_null(json_object_get(t, "sessions")));
	/* 0001 created orders: its index is on a new table */
	t = table(statement(migration(root, "migrations", "1"), 4), "orders");
	ck_assert(json_is_true(json_object_get(t, "created")));
	json_decref(root);

	/* a range needs no database: figures are left out, with a note */
	tu_cairn(&r, p.dir, "--env", "production", "plan", "--locks",
		 "HEAD~1..HEAD", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "rewrites orders under ACCESS EXCLUSIVE: "
				  "ADD COLUMN token (volatile default)"),
		      "%s", r.out);
	ck_assert_msg(!tu_contains(r.out, "session"), "%s", r.out);
	ck_assert_msg(tu_contains(r.err, "no table sizes"), "%s", r.err);
	tu_result_dispose(&r);

	/* without a range, which migrations are pending is the database's */
	tu_cairn(&r, p.dir, "--env", "production", "plan", "--no-db", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_syntax_error_is_reported)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0002_typo.up.sql",
		 "ALTER TABLE orders ADD COLUMN a int;\n  CREAT INDEX i ON orders (a);\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000200, "typo"));
	tu_cairn(&r, p.dir, "plan", "--locks", "--no-db", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "cannot analyse: syntax error at or near "
				  "\"CREAT\" (line 2, column 3)"), "%s", r.out);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("planlocks");
	TCase *tc = tcase_create("plan --locks");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_locks_sizes_and_sessions_from_the_database);
	tcase_add_test(tc, test_table_held_exclusively_gives_unknown_size);
	tcase_add_test(tc, test_without_a_database);
	tcase_add_test(tc, test_syntax_error_is_reported);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
