/*
 * check_lint.c - unit tests for the lint rules (include/cairn/lint.h,
 * src/lint.c) and the `cairn lint` command (src/cli/cmd_lint.c).
 *
 * Most tests build a cairn_migration by hand: an up file's text, its
 * directives parsed by the library (cairn_directives_parse), content
 * marked loaded; then cairn_lint_migration() and the findings it adds.
 * Every rule has positive cases, negative cases (the look-alikes that must
 * not be reported: keywords in strings and comments, DROP CONSTRAINT, a
 * table created earlier in the file, ...) and a suppression through
 * `-- cairn: allow <rule>`.  The last tests make a real repository with
 * the git program and run cairn_lint_set() and the cairn binary on it
 * (up files are linted, down files are not).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/lint.h"
#include "cairn/migration.h"
#include "cairn/repo.h"
#include "testutil.h"

#define UP_PATH "db/migrations/0007_change.up.sql"

static cairn_migration mig;
static cairn_findings out;

static void setup(void)
{
	cairn_findings init = CAIRN_FINDINGS_INIT;

	memset(&mig, 0, sizeof(mig));
	out = init;
}

static void teardown(void)
{
	cairn_directives_dispose(&mig.up_directives);
	cairn_findings_dispose(&out);
}

/* Lints sql as the up file of migration 7, with options (may be NULL). */
static size_t lint_opts(const char *sql, const cairn_lint_options *opts)
{
	cairn_findings dirf = CAIRN_FINDINGS_INIT;

	cairn_directives_dispose(&mig.up_directives);
	cairn_findings_dispose(&out);
	memset(&mig, 0, sizeof(mig));
	mig.version = "7";
	mig.version_text = "0007";
	mig.name = "change";
	mig.subdir = "";
	mig.up_path = UP_PATH;
	mig.content_loaded = true;
	mig.content_ok = true;
	mig.up_sql = (char *)sql;
	mig.up_len = strlen(sql);
	ck_assert_int_eq(cairn_directives_parse(&mig.up_directives, sql,
						strlen(sql), UP_PATH, &dirf),
			 0);
	ck_assert_msg(dirf.count == 0, "directive finding: %s",
		      dirf.count ? dirf.items[0].message : "");
	cairn_findings_dispose(&dirf);
	ck_assert_int_eq(cairn_lint_migration(&out, &mig, opts), 0);
	return out.count;
}

static size_t lint(const char *sql)
{
	return lint_opts(sql, NULL);
}

/* The number of findings with code ("lint/..."). */
static size_t count(const char *code)
{
	size_t n = 0;

	for (size_t i = 0; i < out.count; i++)
		if (!strcmp(out.items[i].code, code))
			n++;
	return n;
}

/* The n-th finding with code; fails the test when there is none. */
static const cairn_finding *nth(const char *code, size_t n)
{
	for (size_t i = 0; i < out.count; i++)
		if (!strcmp(out.items[i].code, code) && n-- == 0)
			return &out.items[i];
	ck_abort_msg("no finding %s", code);
	return NULL;
}

static void dump(void)
{
	for (size_t i = 0; i < out.count; i++)
		fprintf(stderr, "  %u: %s %s\n", out.items[i].line,
			out.items[i].code, out.items[i].message);
}

/* Only findings of code, exactly n of them. */
static void expect_only(const char *code, size_t n)
{
	if (count(code) != n || out.count != n)
		dump();
	ck_assert_uint_eq(count(code), n);
	ck_assert_uint_eq(out.count, n);
}

/* --- rule table ---------------------------------------------------------- */

START_TEST(test_rule_table)
{
	static const struct {
		const char *name;
		cairn_severity sev;
	} want[] = {
		{ "destructive", CAIRN_SEVERITY_ERROR },
		{ "transaction-control", CAIRN_SEVERITY_ERROR },
		{ "needs-no-transaction", CAIRN_SEVERITY_ERROR },
		{ "no-transaction-multiple", CAIRN_SEVERITY_ERROR },
		{ "unterminated", CAIRN_SEVERITY_ERROR },
		{ "index-not-concurrent", CAIRN_SEVERITY_WARNING },
		{ "not-null-without-default", CAIRN_SEVERITY_WARNING },
		{ "drop-index-not-concurrent", CAIRN_SEVERITY_WARNING },
		{ "reindex-not-concurrent", CAIRN_SEVERITY_WARNING },
		{ "alter-column-type", CAIRN_SEVERITY_WARNING },
		{ "rename-column", CAIRN_SEVERITY_WARNING },
		{ "rename-table", CAIRN_SEVERITY_WARNING },
		{ "constraint-not-valid", CAIRN_SEVERITY_WARNING },
		{ "validate-same-transaction", CAIRN_SEVERITY_WARNING },
		{ "set-not-null", CAIRN_SEVERITY_WARNING },
		{ "unique-without-index", CAIRN_SEVERITY_WARNING },
		{ "volatile-default", CAIRN_SEVERITY_WARNING },
		{ "add-column-rewrite", CAIRN_SEVERITY_WARNING },
		{ "enum-value-in-transaction", CAIRN_SEVERITY_WARNING },
		{ "vacuum-full", CAIRN_SEVERITY_WARNING },
		{ "cluster", CAIRN_SEVERITY_WARNING },
		{ "set-logged", CAIRN_SEVERITY_WARNING },
		{ "lock-table", CAIRN_SEVERITY_WARNING },
		{ "unbatched-backfill", CAIRN_SEVERITY_WARNING },
		{ "prefer-bigint", CAIRN_SEVERITY_NOTICE },
		{ "prefer-timestamptz", CAIRN_SEVERITY_NOTICE },
		{ "prefer-text", CAIRN_SEVERITY_NOTICE },
	};
	size_t n = 0;
	const cairn_lint_rule *r = cairn_lint_rules(&n);
	char code[64];

	ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(r[i].name, want[i].name);
		ck_assert_int_eq(r[i].severity, want[i].sev);
		snprintf(code, sizeof(code), "lint/%s", want[i].name);
		ck_assert_str_eq(r[i].code, code);
		ck_assert(r[i].description && *r[i].description);
		ck_assert(!strchr(r[i].description, '\n'));
		ck_assert(r[i].explanation && strlen(r[i].explanation) > 40);
		ck_assert(r[i].hint && *r[i].hint);
		ck_assert_ptr_nonnull(r[i].lock);
		ck_assert(r[i].style == (r[i].severity == CAIRN_SEVERITY_NOTICE));
		ck_assert_ptr_eq(cairn_lint_rule_find(want[i].name), &r[i]);
		ck_assert_ptr_eq(cairn_lint_rule_find(code), &r[i]);
	}
	ck_assert_ptr_null(cairn_lint_rule_find("nope"));
	ck_assert_ptr_null(cairn_lint_rule_find(NULL));
	ck_assert_ptr_eq(cairn_lint_rules(NULL), r);
}
END_TEST

/* --- destructive --------------------------------------------------------- */

START_TEST(test_destructive_positive)
{
	const cairn_finding *f;

	ck_assert_uint_eq(lint("-- remove the old table\n"
			       "\n"
			       "DROP TABLE IF EXISTS public.users CASCADE;\n"),
			  1);
	f = nth("lint/destructive", 0);
	ck_assert_int_eq(f->severity, CAIRN_SEVERITY_ERROR);
	ck_assert_str_eq(f->file, UP_PATH);
	ck_assert_uint_eq(f->line, 3);
	ck_assert_str_eq(f->version, "7");
	ck_assert(tu_contains(f->message, "DROP TABLE public.users"));
	ck_assert(tu_contains(f->hint, "-- cairn: allow destructive"));
	ck_assert_ptr_null(f->commit);

	lint("ALTER TABLE users DROP COLUMN email;\n"
	     "ALTER TABLE ONLY users DROP IF EXISTS phone, DROP COLUMN fax;\n"
	     "DROP SCHEMA billing CASCADE;\n"
	     "TRUNCATE TABLE audit_log, events;\n"
	     "truncate sessions;\n"
	     "drop table a, b;\n");
	expect_only("lint/destructive", 7);
	ck_assert(tu_contains(nth("lint/destructive", 0)->message,
			      "ALTER TABLE users DROP COLUMN email"));
	ck_assert(tu_contains(nth("lint/destructive", 1)->message,
			      "DROP COLUMN phone"));
	ck_assert(tu_contains(nth("lint/destructive", 2)->message,
			      "DROP COLUMN fax"));
	ck_assert_uint_eq(nth("lint/destructive", 2)->line, 2);
	ck_assert(tu_contains(nth("lint/destructive", 3)->message,
			      "DROP SCHEMA billing"));
	ck_assert(tu_contains(nth("lint/destructive", 4)->message,
			      "TRUNCATE audit_log, events"));
	ck_assert(tu_contains(nth("lint/destructive", 6)->message,
			      "the tables"));

	/* DROP DATABASE is destructive and cannot run in a transaction */
	lint("DROP DATABASE old;");
	ck_assert_uint_eq(count("lint/destructive"), 1);
	ck_assert_uint_eq(count("lint/needs-no-transaction"), 1);
}
END_TEST

START_TEST(test_destructive_negative)
{
	lint(
		"ALTER TABLE users DROP CONSTRAINT users_email_key;\n"
		"ALTER TABLE users ALTER COLUMN email DROP DEFAULT,\n"
		"  ALTER COLUMN name DROP NOT NULL;\n"
		"DROP INDEX users_email;\n"
		"DROP VIEW active_users;\n"
		"DROP FUNCTION f();\n"
		"SELECT 'DROP TABLE users; TRUNCATE x';\n"
		"-- DROP TABLE users;\n"
		"/* TRUNCATE users; */\n"
		"COMMENT ON TABLE users IS 'DROP SCHEMA x';\n"
		"CREATE TABLE \"drop\" (\"table\" int);\n");
	ck_assert_uint_eq(count("lint/destructive"), 0);
	/* a table the file itself created holds no data yet */
	ck_assert_uint_eq(lint("CREATE TABLE tmp_import (id int);\n"
			       "ALTER TABLE tmp_import DROP COLUMN id;\n"
			       "TRUNCATE tmp_import;\n"
			       "DROP TABLE tmp_import;\n"), 0);
	/* ... with IF NOT EXISTS too (issue 12: a false positive before) */
	ck_assert_uint_eq(lint("CREATE TABLE IF NOT EXISTS t (id int);\n"
			       "DROP TABLE t;"), 0);
	/* down files are not linted: only up_sql is read */
	mig.down_sql = "DROP TABLE users;";
	ck_assert_uint_eq(lint("CREATE TABLE users (id int);"), 0);
}
END_TEST

START_TEST(test_destructive_allowed)
{
	ck_assert_uint_eq(lint("-- cairn: allow destructive\n"
			       "DROP TABLE users;\n"
			       "ALTER TABLE x DROP COLUMN y;\n"), 0);
	ck_assert_uint_eq(lint("-- cairn: allow lint/destructive\n"
			       "TRUNCATE users;"), 0);
	ck_assert_uint_eq(lint("-- cairn: allow all\nDROP SCHEMA s;"), 0);
	/* allowing another rule does not allow this one */
	lint("-- cairn: allow index-not-concurrent\nDROP TABLE users;");
	expect_only("lint/destructive", 1);
	/* below the first SQL it allows the statement right under it */
	ck_assert_uint_eq(lint("SELECT 1;\n-- cairn: allow destructive\n"
			       "DROP TABLE users;\nDROP TABLE orders;"), 1);
	ck_assert_uint_eq(nth("lint/destructive", 0)->line, 4);
	/* ... but not across a blank line */
	lint("SELECT 1;\n-- cairn: allow destructive\n\nDROP TABLE users;");
	expect_only("lint/destructive", 1);
}
END_TEST

/* --- transaction-control ------------------------------------------------- */

START_TEST(test_transaction_control_positive)
{
	const cairn_finding *f;

	lint("BEGIN;\n"
	     "CREATE TABLE t (id int);\n"
	     "SAVEPOINT a;\n"
	     "ROLLBACK TO SAVEPOINT a;\n"
	     "RELEASE a;\n"
	     "COMMIT;\n"
	     "start transaction isolation level serializable;\n"
	     "end;\n"
	     "ABORT;\n"
	     "PREPARE TRANSACTION 'x';\n"
	     "COMMIT PREPARED 'x';\n");
	expect_only("lint/transaction-control", 10);
	f = nth("lint/transaction-control", 0);
	ck_assert_int_eq(f->severity, CAIRN_SEVERITY_ERROR);
	ck_assert_uint_eq(f->line, 1);
	ck_assert(tu_contains(f->message, "BEGIN"));
	ck_assert_uint_eq(nth("lint/transaction-control", 5)->line, 7);
	ck_assert(tu_contains(nth("lint/transaction-control", 5)->message,
			      "START TRANSACTION"));
	ck_assert(tu_contains(nth("lint/transaction-control", 9)->message,
			      "COMMIT PREPARED"));
}
END_TEST

START_TEST(test_transaction_control_negative)
{
	ck_assert_uint_eq(lint(
		"DO $$\n"
		"BEGIN\n"
		"  INSERT INTO t VALUES (1);\n"
		"  COMMIT;\n"
		"END\n"
		"$$;\n"
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
		"BEGIN ATOMIC\n"
		"  SELECT 1;\n"
		"END;\n"
		"CREATE PROCEDURE p() LANGUAGE plpgsql AS $p$\n"
		"BEGIN COMMIT; ROLLBACK; END $p$;\n"
		"PREPARE q AS SELECT 1;\n"
		"SELECT 'BEGIN; COMMIT;';\n"
		"CREATE TABLE savepoint_log (\"begin\" int, \"end\" int);\n"),
		0);
}
END_TEST

START_TEST(test_transaction_control_allowed)
{
	ck_assert_uint_eq(lint("-- cairn: allow transaction-control\n"
			       "COMMIT;\nBEGIN;\n"), 0);
}
END_TEST

/* --- needs-no-transaction ------------------------------------------------ */

START_TEST(test_needs_no_transaction_positive)
{
	const cairn_finding *f;

	lint("CREATE INDEX CONCURRENTLY users_email ON users (email);");
	ck_assert_uint_eq(count("lint/needs-no-transaction"), 1);
	f = nth("lint/needs-no-transaction", 0);
	ck_assert_int_eq(f->severity, CAIRN_SEVERITY_ERROR);
	ck_assert(tu_contains(f->message, "CREATE INDEX CONCURRENTLY"));
	ck_assert(tu_contains(f->hint, "-- cairn: no-transaction"));

	lint("CREATE UNIQUE INDEX CONCURRENTLY i ON t (x);\n"
	     "DROP INDEX CONCURRENTLY IF EXISTS i;\n"
	     "REINDEX INDEX CONCURRENTLY i;\n"
	     "REINDEX (VERBOSE, CONCURRENTLY) TABLE t;\n"
	     "REINDEX SCHEMA public;\n"
	     "REINDEX (VERBOSE) DATABASE app;\n"
	     "VACUUM (ANALYZE) t;\n"
	     "vacuum;\n"
	     "ALTER SYSTEM SET work_mem = '64MB';\n"
	     "CREATE DATABASE other;\n"
	     "CREATE TABLESPACE fast LOCATION '/ssd';\n"
	     "DROP TABLESPACE slow;\n"
	     "ALTER DATABASE app SET TABLESPACE fast;\n"
	     "CLUSTER VERBOSE;\n"
	     "ALTER TABLE m DETACH PARTITION m_2020 CONCURRENTLY;\n");
	ck_assert_uint_eq(count("lint/needs-no-transaction"), 15);
	ck_assert_uint_eq(nth("lint/needs-no-transaction", 14)->line, 15);
}
END_TEST

START_TEST(test_needs_no_transaction_negative)
{
	ck_assert_uint_eq(lint("-- cairn: no-transaction\n"
			       "CREATE INDEX CONCURRENTLY i ON users (email);"),
			  0);
	ck_assert_uint_eq(lint("-- cairn: no-transaction\nVACUUM ANALYZE t;"),
			  0);
	lint("REINDEX TABLE t;\n"
			       "CLUSTER t USING t_pkey;\n"
			       "ALTER DATABASE app SET work_mem = '1MB';\n"
			       "ALTER TABLE m DETACH PARTITION m_2020;\n"
			       "ALTER TYPE mood ADD VALUE 'meh';\n"
			       "ANALYZE t;\n"
			       "SELECT 'VACUUM';\n");
	ck_assert_uint_eq(count("lint/needs-no-transaction"), 0);
}
END_TEST

START_TEST(test_needs_no_transaction_allowed)
{
	ck_assert_uint_eq(lint("-- cairn: allow needs-no-transaction\n"
			       "VACUUM t;"), 0);
}
END_TEST

/* --- no-transaction-multiple --------------------------------------------- */

START_TEST(test_no_transaction_multiple_positive)
{
	const cairn_finding *f;

	lint("-- cairn: no-transaction\n"
	     "CREATE INDEX CONCURRENTLY a ON t (x);\n"
	     "CREATE INDEX CONCURRENTLY b ON t (y);\n"
	     "VACUUM t;\n");
	expect_only("lint/no-transaction-multiple", 1);
	f = nth("lint/no-transaction-multiple", 0);
	ck_assert_int_eq(f->severity, CAIRN_SEVERITY_ERROR);
	ck_assert_uint_eq(f->line, 3);
	ck_assert(tu_contains(f->message, "3 statements"));
}
END_TEST

START_TEST(test_no_transaction_multiple_negative)
{
	/* one statement, whatever its comments and quoted semicolons */
	ck_assert_uint_eq(lint("-- cairn: no-transaction\n"
			       "-- build it online; it takes a while\n"
			       "CREATE INDEX CONCURRENTLY a ON t ((x || ';'));"
			       "\n;\n/* ; */\n"), 0);
	/* several statements are fine in a transactional file */
	ck_assert_uint_eq(lint("SELECT 1;\nSELECT 2;\n"), 0);
}
END_TEST

START_TEST(test_no_transaction_multiple_allowed)
{
	ck_assert_uint_eq(lint("-- cairn: no-transaction\n"
			       "-- cairn: allow no-transaction-multiple\n"
			       "VACUUM a;\nVACUUM b;\n"), 0);
}
END_TEST

/* --- unterminated -------------------------------------------------------- */

START_TEST(test_unterminated_positive)
{
	const cairn_finding *f;

	lint("SELECT 1;\nINSERT INTO t VALUES ('oops);\nSELECT 2;\n");
	expect_only("lint/unterminated", 1);
	f = nth("lint/unterminated", 0);
	ck_assert_int_eq(f->severity, CAIRN_SEVERITY_ERROR);
	ck_assert_uint_eq(f->line, 2);
	ck_assert(tu_contains(f->message, "string that starts on line 2"));

	lint("CREATE FUNCTION f() RETURNS int AS $$\nSELECT 1;\n");
	expect_only("lint/unterminated", 1);
	ck_assert(tu_contains(nth("lint/unterminated", 0)->message,
			      "dollar-quoted string"));
	lint("SELECT 1;\n/* forgot to close /* this */\n");
	expect_only("lint/unterminated", 1);
	ck_assert(tu_contains(nth("lint/unterminated", 0)->message, "comment"));
	ck_assert_uint_eq(nth("lint/unterminated", 0)->line, 2);
}
END_TEST

START_TEST(test_unterminated_negative)
{
	ck_assert_uint_eq(lint("SELECT 'it''s', E'it\\'s', \"a\"\"b\", $$x$$;"
			       "\n/* a /* b */ c */ -- d"), 0);
}
END_TEST

START_TEST(test_unterminated_allowed)
{
	ck_assert_uint_eq(lint("-- cairn: allow unterminated\nSELECT 'x"), 0);
}
END_TEST

/* --- index-not-concurrent ------------------------------------------------ */

START_TEST(test_index_positive)
{
	const cairn_finding *f;

	lint("CREATE INDEX users_email ON users (email);");
	expect_only("lint/index-not-concurrent", 1);
	f = nth("lint/index-not-concurrent", 0);
	ck_assert_int_eq(f->severity, CAIRN_SEVERITY_WARNING);
	ck_assert_uint_eq(f->line, 1);
	ck_assert(tu_contains(f->message, "users"));
	ck_assert(tu_contains(f->hint, "CONCURRENTLY"));

	lint("CREATE UNIQUE INDEX IF NOT EXISTS i ON ONLY public.users (x);\n"
	     "create index on users using gin (tags);\n"
	     "CREATE INDEX \"Idx\" ON \"Users\" (a);\n");
	expect_only("lint/index-not-concurrent", 3);
	ck_assert(tu_contains(nth("lint/index-not-concurrent", 0)->message,
			      "public.users"));
	ck_assert_uint_eq(nth("lint/index-not-concurrent", 2)->line, 3);

	/* "Users" (quoted) is another table than users */
	lint("CREATE TABLE \"Users\" (id int);\nCREATE INDEX ON users (id);");
	expect_only("lint/index-not-concurrent", 1);
	/* other schema, other table */
	lint("CREATE TABLE a.t (id int);\nCREATE INDEX ON b.t (id);");
	expect_only("lint/index-not-concurrent", 1);
}
END_TEST

START_TEST(test_index_negative)
{
	/* new tables: nobody else can be writing to them */
	ck_assert_uint_eq(lint(
		"CREATE TABLE users (id int, email text);\n"
		"CREATE INDEX users_email ON users (email);\n"
		"CREATE UNLOGGED TABLE app.events (id int);\n"
		"CREATE INDEX ON events (id);\n"
		"CREATE INDEX ON app.events (id);\n"
		"CREATE TEMP TABLE scratch (x int);\n"
		"CREATE INDEX ON scratch (x);\n"
		"CREATE MATERIALIZED VIEW stats AS SELECT 1 AS n;\n"
		"CREATE UNIQUE INDEX ON stats (n);\n"
		"CREATE TABLE \"Mixed\" (id int);\n"
		"CREATE INDEX ON \"Mixed\" (id);\n"), 0);
	/* CONCURRENTLY is what the rule asks for */
	ck_assert_uint_eq(lint("-- cairn: no-transaction\n"
			       "CREATE INDEX CONCURRENTLY i ON users (email);"),
			  0);
	/* not an index at all */
	ck_assert_uint_eq(lint("SELECT 'CREATE INDEX i ON users (x)';"), 0);
}
END_TEST

START_TEST(test_index_allowed)
{
	ck_assert_uint_eq(lint("-- cairn: allow index-not-concurrent\n"
			       "CREATE INDEX i ON users (email);"), 0);
}
END_TEST

/* --- not-null-without-default -------------------------------------------- */

START_TEST(test_not_null_positive)
{
	const cairn_finding *f;

	lint("ALTER TABLE users ADD COLUMN age int NOT NULL;");
	expect_only("lint/not-null-without-default", 1);
	f = nth("lint/not-null-without-default", 0);
	ck_assert_int_eq(f->severity, CAIRN_SEVERITY_WARNING);
	ck_assert(tu_contains(f->message, "ALTER TABLE users ADD COLUMN age"));
	ck_assert(tu_contains(f->hint, "DEFAULT"));

	lint("ALTER TABLE users ADD COLUMN a int,\n"
	     "  ADD b numeric(10, 2) NOT NULL CHECK (b > 0),\n"
	     "  ADD COLUMN IF NOT EXISTS c text COLLATE \"C\" NOT NULL;\n");
	ck_assert_uint_eq(count("lint/not-null-without-default"), 2);
	ck_assert(tu_contains(nth("lint/not-null-without-default", 0)->message,
			      "ADD COLUMN b"));
	ck_assert(tu_contains(nth("lint/not-null-without-default", 1)->message,
			      "ADD COLUMN c"));
}
END_TEST

START_TEST(test_not_null_negative)
{
	lint(
		"ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;\n"
		"ALTER TABLE users ADD COLUMN b bool DEFAULT false NOT NULL;\n"
		"ALTER TABLE users ADD COLUMN id2 bigint GENERATED ALWAYS AS "
		"IDENTITY NOT NULL;\n"
		"ALTER TABLE users ADD COLUMN n bigserial NOT NULL;\n"
		"ALTER TABLE users ADD COLUMN nick text;\n"
		"ALTER TABLE users ADD COLUMN x int CHECK (x IS NOT NULL);\n"
		"ALTER TABLE users ADD CONSTRAINT c CHECK (a IS NOT NULL);\n"
		"ALTER TABLE users ALTER COLUMN nick SET NOT NULL;\n"
		"CREATE TABLE t (id int NOT NULL);\n"
		"ALTER TABLE t ADD COLUMN y int NOT NULL;\n");
	ck_assert_uint_eq(count("lint/not-null-without-default"), 0);
}
END_TEST

START_TEST(test_not_null_allowed)
{
	ck_assert_uint_eq(lint("-- cairn: allow not-null-without-default\n"
			       "ALTER TABLE users ADD COLUMN a int NOT NULL;"),
			  0);
}
END_TEST

/* --- options and content ------------------------------------------------- */

START_TEST(test_disable_option)
{
	const char *off[] = { "lint/destructive", "index-not-concurrent" };
	cairn_lint_options o = CAIRN_LINT_OPTIONS_INIT;

	o.disable = off;
	o.disable_count = 2;
	ck_assert_uint_eq(lint_opts("DROP TABLE a;\nCREATE INDEX ON b (x);\n"
				    "VACUUM;", &o), 1);
	ck_assert_uint_eq(count("lint/needs-no-transaction"), 1);
}
END_TEST

START_TEST(test_content_not_loaded_or_not_text)
{
	cairn_migration m;
	static const char binary[] = "DROP TABLE a;\0\x01";

	memset(&m, 0, sizeof(m));
	m.version = "1";
	m.up_path = "x.up.sql";
	ck_assert_int_eq(cairn_lint_migration(&out, &m, NULL), 0);
	ck_assert_int_eq(cairn_lint_migration(&out, NULL, NULL), 0);
	m.content_loaded = true;
	ck_assert_int_eq(cairn_lint_migration(&out, &m, NULL), 0);
	m.up_sql = (char *)binary;
	m.up_len = sizeof(binary) - 1;
	ck_assert_int_eq(cairn_lint_migration(&out, &m, NULL), 0);
	m.up_sql = "DROP TABLE \xff;";
	m.up_len = strlen(m.up_sql);
	ck_assert_int_eq(cairn_lint_migration(&out, &m, NULL), 0);
	ck_assert_uint_eq(out.count, 0);
}
END_TEST

START_TEST(test_appends_to_existing_findings)
{
	cairn_findings_add(&out, "other", CAIRN_SEVERITY_NOTICE, NULL, 0, NULL,
			   NULL, NULL, "already here");
	mig.version = "7";
	mig.up_path = UP_PATH;
	mig.content_loaded = true;
	mig.up_sql = "TRUNCATE t;";
	mig.up_len = strlen(mig.up_sql);
	ck_assert_int_eq(cairn_lint_migration(&out, &mig, NULL), 0);
	ck_assert_uint_eq(out.count, 2);
	ck_assert_str_eq(out.items[0].code, "other");
	ck_assert_str_eq(out.items[1].code, "lint/destructive");
}
END_TEST

/* --- sets from a real repository, and the command ------------------------ */

static char *make_repo(void)
{
	char *dir = tu_git_repo();

	tu_write(dir, "db/migrations/0001_users.up.sql",
		 "CREATE TABLE users (id int PRIMARY KEY, email text);\n"
		 "CREATE INDEX users_email ON users (email);\n");
	tu_write(dir, "db/migrations/0001_users.down.sql",
		 "DROP TABLE users;\n");
	tu_write(dir, "db/migrations/0002_cleanup.up.sql",
		 "-- tidy up\n"
		 "ALTER TABLE users DROP COLUMN email;\n"
		 "CREATE INDEX users_id ON users (id);\n");
	tu_write(dir, "db/migrations/0002_cleanup.down.sql",
		 "ALTER TABLE users ADD COLUMN email text;\n");
	free(tu_git_commit(dir, "Ada Lovelace", "ada@example.com",
			   1700000000, "migrations"));
	return dir;
}

START_TEST(test_lint_set_from_git)
{
	cairn_load_options lo = CAIRN_LOAD_OPTIONS_INIT;
	cairn_migration_set *set = NULL;
	cairn_repo *repo = NULL;
	char *dir = make_repo();

	ck_assert_int_eq(cairn_repo_open(&repo, dir), 0);
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &lo), 0);
	ck_assert_int_eq(cairn_lint_set(&out, set, NULL), 0);
	ck_assert_uint_eq(out.count, 2);
	cairn_findings_sort(&out);
	ck_assert_str_eq(out.items[0].code, "lint/destructive");
	ck_assert_str_eq(out.items[0].file,
			 "db/migrations/0002_cleanup.up.sql");
	ck_assert_uint_eq(out.items[0].line, 2);
	ck_assert_str_eq(out.items[0].version, "2");
	ck_assert_str_eq(out.items[1].code, "lint/index-not-concurrent");
	ck_assert_uint_eq(out.items[1].line, 3);
	/* loading the contents is idempotent: the same findings again */
	ck_assert_int_eq(cairn_lint_set(&out, set, NULL), 0);
	ck_assert_uint_eq(out.count, 4);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_cli_lint)
{
	char *dir = make_repo();
	tu_result r;

	tu_cairn(&r, dir, "lint", NULL);
	ck_assert_msg(r.status == 1, "status %d: %s", r.status, r.err);
	ck_assert(tu_contains(r.out, "db/migrations/0002_cleanup.up.sql:2: "
				     "error: "));
	ck_assert(tu_contains(r.out, "[lint/destructive]"));
	ck_assert(tu_contains(r.out, "[lint/index-not-concurrent]"));
	ck_assert(tu_contains(r.err, "1 error, 1 warning"));
	tu_result_dispose(&r);

	tu_cairn(&r, dir, "lint", "--format", "json", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.out, "\"code\": \"lint/destructive\""));
	ck_assert(tu_contains(r.out, "\"ok\": false"));
	tu_result_dispose(&r);

	/* --worktree reads the edited file; --rev HEAD still the old one */
	tu_write(dir, "db/migrations/0002_cleanup.up.sql",
		 "-- cairn: allow destructive\n"
		 "ALTER TABLE users DROP COLUMN email;\n");
	tu_cairn(&r, dir, "lint", "--worktree", NULL);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out,
		      r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, dir, "lint", NULL);
	ck_assert_int_eq(r.status, 1);
	tu_result_dispose(&r);

	tu_cairn(&r, dir, "lint", "--list-rules", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "destructive"));
	ck_assert(tu_contains(r.out, "not-null-without-default   warning"));
	tu_result_dispose(&r);

	tu_cairn(&r, dir, "lint", "--list-rules", "--format", "json", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "\"code\": \"lint/unterminated\""));
	tu_result_dispose(&r);

	tu_cairn(&r, dir, "lint", "extra", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	tu_cairn(&r, dir, "--format", "markdown", "lint", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *lint_suite(void)
{
	Suite *s = suite_create("lint");
	TCase *tc = tcase_create("rules");
	TCase *tg = tcase_create("git");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rule_table);
	tcase_add_test(tc, test_destructive_positive);
	tcase_add_test(tc, test_destructive_negative);
	tcase_add_test(tc, test_destructive_allowed);
	tcase_add_test(tc, test_transaction_control_positive);
	tcase_add_test(tc, test_transaction_control_negative);
	tcase_add_test(tc, test_transaction_control_allowed);
	tcase_add_test(tc, test_needs_no_transaction_positive);
	tcase_add_test(tc, test_needs_no_transaction_negative);
	tcase_add_test(tc, test_needs_no_transaction_allowed);
	tcase_add_test(tc, test_no_transaction_multiple_positive);
	tcase_add_test(tc, test_no_transaction_multiple_negative);
	tcase_add_test(tc, test_no_transaction_multiple_allowed);
	tcase_add_test(tc, test_unterminated_positive);
	tcase_add_test(tc, test_unterminated_negative);
	tcase_add_test(tc, test_unterminated_allowed);
	tcase_add_test(tc, test_index_positive);
	tcase_add_test(tc, test_index_negative);
	tcase_add_test(tc, test_index_allowed);
	tcase_add_test(tc, test_not_null_positive);
	tcase_add_test(tc, test_not_null_negative);
	tcase_add_test(tc, test_not_null_allowed);
	tcase_add_test(tc, test_disable_option);
	tcase_add_test(tc, test_content_not_loaded_or_not_text);
	tcase_add_test(tc, test_appends_to_existing_findings);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tg, setup, teardown);
	tcase_set_timeout(tg, 60);
	tcase_add_test(tg, test_lint_set_from_git);
	tcase_add_test(tg, test_cli_lint);
	suite_add_tcase(s, tg);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lint_suite());
	char bin[PATH_MAX];
	int failed;

	/* run directly from the source tree: find the binary under test */
	if (!getenv("CAIRN_BIN") && realpath("build/cairn", bin))
		setenv("CAIRN_BIN", bin, 1);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
