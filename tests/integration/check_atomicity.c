/*
 * check_atomicity.c - the engine keeps its promise that a migration, its
 * tracking row and its audit row commit together or not at all, whatever
 * hooks are configured (issue 9, items 1, 2, 9, 10, 26 and the
 * bookkeeping-error message).
 *
 * Real cairn binary, real git repositories made here, a fresh database
 * per test on tests/run's throwaway server.  No hooks are configured
 * (so the lint hook cannot be what refuses a file):
 *
 *  - transaction control in an up file (the issue's example, and each
 *    form: BEGIN, START TRANSACTION, COMMIT, END, ABORT, ROLLBACK,
 *    SAVEPOINT, RELEASE, ROLLBACK TO, SET TRANSACTION, PREPARE
 *    TRANSACTION, COMMIT/ROLLBACK PREPARED), with and without
 *    --single-transaction, and in a down file: refused before
 *    anything runs; BEGIN in a DO body, BEGIN ATOMIC and CASE ... END
 *    are not transaction control;
 *  - an unterminated file is refused before anything runs;
 *  - the second guard: a COMMIT the splitter cannot see (psql's
 *    BEGIN ... END tracking is fooled by a function named "begin") is
 *    caught by the transaction status check, and no tracking row is
 *    written for it;
 *  - a failure in cairn's own tracking row is reported as cairn's, not
 *    as a line of the up file;
 *  - require_down is enforced by migrate up itself;
 *  - standard_conforming_strings switched off by a migration does not
 *    break (or alter) later tracking and audit rows;
 *  - a UTF-8 BOM is dropped before the SQL is sent, and the checksum is
 *    over the committed bytes;
 *  - migrate down --steps N looks only at those N, and --to V names
 *    what lacks a down file and how far a rollback can go.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

static void project_init(project *p, const char *env_extra)
{
	char yaml[2048];

	p->url = tu_db_create("atom");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "%s"
		 "hooks: {}\n",
		 p->url, env_extra ? env_extra : "");
	tu_write(p->dir, "cairn.yaml", yaml);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static void commit(project *p, const char *who)
{
	free(tu_git_commit(p->dir, who, "dev@example.com", 1700000000, "m"));
}

static long count_of(project *p, const char *sql)
{
	char *v = tu_db_value(p->url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

static bool table_exists(project *p, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT to_regclass('%s') IS NOT NULL",
		 name);
	char *v = tu_db_value(p->url, sql);
	bool yes = v && !strcmp(v, "t");

	free(v);
	return yes;
}

/* Findings go to stdout, errors to stderr: look in both. */
static bool has(const tu_result *r, const char *s)
{
	return tu_contains(r->out, s) || tu_contains(r->err, s);
}

static void migrate(project *p, tu_result *r, const char *a1,
		    const char *a2, const char *a3)
{
	tu_cairn(r, p->dir, "migrate", a1, a2, a3, NULL);
}

/* --- item 1: transaction control and unterminated files ------------------ */

static const char issue_example[] =
	"BEGIN; CREATE TABLE t1 (id int); COMMIT; CREATE TABLE t2 (id int); "
	"SELECT 1/0;\n";

START_TEST(test_transaction_control_refused)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_first.up.sql",
		 "CREATE TABLE first (id int);\n");
	tu_write(p.dir, "db/migrations/0002_half.up.sql", issue_example);
	commit(&p, "Ann");

	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "0002_half.up.sql") &&
		      has(&r, "BEGIN controls the transaction"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	/* refused before anything ran: not even 0001 */
	ck_assert(!table_exists(&p, "first"));
	ck_assert(!table_exists(&p, "t1"));
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);

	/* --single-transaction is refused the same way */
	migrate(&p, &r, "up", "--single-transaction", NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "controls the transaction"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(!table_exists(&p, "first"));
	ck_assert(!table_exists(&p, "t1"));

	/* --dry-run says so too */
	migrate(&p, &r, "up", "--dry-run", NULL);
	ck_assert_int_eq(r.status, 1);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* Every form of transaction control, each alone after a harmless line. */
START_TEST(test_every_transaction_control_form)
{
	static const struct {
		const char *sql, *what;
	} forms[] = {
		{ "begin work", "BEGIN" },
		{ "START TRANSACTION ISOLATION LEVEL SERIALIZABLE",
		  "START TRANSACTION" },
		{ "COMMIT AND CHAIN", "COMMIT" },
		{ "END", "END" },
		{ "ABORT", "ABORT" },
		{ "ROLLBACK", "ROLLBACK" },
		{ "SAVEPOINT a", "SAVEPOINT" },
		{ "RELEASE SAVEPOINT a", "RELEASE SAVEPOINT" },
		{ "ROLLBACK TO SAVEPOINT a", "ROLLBACK TO SAVEPOINT" },
		{ "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
		  "SET TRANSACTION" },
		{ "PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION" },
		{ "COMMIT PREPARED 'x'", "COMMIT PREPARED" },
		{ "ROLLBACK PREPARED 'x'", "ROLLBACK PREPARED" },
	};
	project p;
	tu_result r;
	char sql[256], want[128];

	project_init(&p, NULL);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(sql, sizeof(sql), "CREATE TABLE a (id int);\n%s;\n",
			 forms[i].sql);
		tu_write(p.dir, "db/migrations/0001_a.up.sql", sql);
		commit(&p, "Ann");
		migrate(&p, &r, "up", NULL, NULL);
		snprintf(want, sizeof(want), "line 2: %s controls the transaction",
			 forms[i].what);
		ck_assert_msg(r.status == 1 && has(&r, want), "%s: %d\n%s%s",
			      forms[i].sql, r.status, r.out, r.err);
		tu_result_dispose(&r);
		ck_assert(!table_exists(&p, "a"));
	}
	project_dispose(&p);
}
END_TEST

START_TEST(test_single_transaction_inner_commit)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "db/migrations/0002_b.up.sql",
		 "CREATE TABLE b (id int);\ncommit;\n");
	tu_write(p.dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (id int);\n");
	commit(&p, "Ann");

	migrate(&p, &r, "up", "--single-transaction", NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "0002_b.up.sql") &&
		      has(&r, "line 2") &&
		      has(&r, "COMMIT controls the transaction"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(!table_exists(&p, "a"));
	ck_assert(!table_exists(&p, "b"));
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	project_dispose(&p);
}
END_TEST

START_TEST(test_not_transaction_control)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_bodies.up.sql",
		 "CREATE TABLE t (id int);\n"
		 "DO $$\nBEGIN\n  INSERT INTO t VALUES (1);\nEND\n$$;\n"
		 "CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
		 "BEGIN ATOMIC\n"
		 "  SELECT CASE WHEN count(*) > 0 THEN 1 ELSE 0 END FROM t;\n"
		 "END;\n"
		 "CREATE TABLE savepoint_log (\"begin\" int, \"end\" int);\n"
		 "SELECT 'COMMIT; BEGIN;';\n"
		 "-- ROLLBACK;\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT f()"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	project_dispose(&p);
}
END_TEST

START_TEST(test_unterminated_refused)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "db/migrations/0002_b.up.sql",
		 "CREATE TABLE b (id int);\nSELECT $x$ never closed;\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "0002_b.up.sql' ends inside a "
					 "dollar-quoted string that starts on line 2"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(!table_exists(&p, "a"));
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	project_dispose(&p);
}
END_TEST

START_TEST(test_down_transaction_control_refused)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "db/migrations/0001_a.down.sql",
		 "DROP TABLE a;\nCOMMIT;\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	migrate(&p, &r, "down", NULL, NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "0001_a.down.sql' line 2: COMMIT"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(table_exists(&p, "a"));
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	project_dispose(&p);
}
END_TEST

/*
 * The splitter follows psql: after CREATE FUNCTION it counts BEGIN/END
 * words, so a function *named* begin makes it keep the COMMIT that
 * follows inside the same "statement".  The server still runs that
 * COMMIT; the transaction status check must catch it.
 */
START_TEST(test_second_guard_transaction_status)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_sneaky.up.sql",
		 "CREATE FUNCTION begin() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"
		 "COMMIT;\n"
		 "CREATE TABLE after_commit (id int);\n");
	tu_write(p.dir, "db/migrations/0002_next.up.sql",
		 "CREATE TABLE next (id int);\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "migration 0001_sneaky ended the "
					 "transaction cairn runs it in"),
		      "%s%s", r.out, r.err);
	ck_assert_msg(has(&r, "outside any transaction"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	/* no tracking row for it, and the run stopped there */
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	ck_assert(!table_exists(&p, "next"));
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit "
				      "WHERE outcome = 'applied'"), 0);
	project_dispose(&p);
}
END_TEST

/*
 * The same file failing after its hidden COMMIT: the error path checks
 * the transaction status too, and says the file ended the transaction
 * (the server's own error kept in the detail) instead of only "division
 * by zero", which would let the user believe everything rolled back.
 */
START_TEST(test_second_guard_after_failure)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_sneaky.up.sql",
		 "CREATE FUNCTION begin() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"
		 "CREATE TABLE before_commit (id int);\n"
		 "COMMIT;\n"
		 "SELECT 1/0;\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "migration 0001_sneaky ended the transaction "
			      "cairn runs it in, then failed"),
		      "%s%s", r.out, r.err);
	ck_assert_msg(has(&r, "division by zero"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	project_dispose(&p);
}
END_TEST

/* --- cairn's own rows failing are cairn's, not the file's ---------------- */

START_TEST(test_bookkeeping_error_not_blamed_on_file)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_dispose(&r);
	/* the next tracking row cannot be written */
	ck_assert_int_eq(tu_db_exec(p.url, "ALTER TABLE cairn.migrations ADD "
				    "CONSTRAINT no_boom CHECK (name <> 'boom')"), 0);
	tu_write(p.dir, "db/migrations/0002_boom.up.sql",
		 "\n\nCREATE TABLE boom (id int);\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "cannot record migration 0002_boom in "
					 "cairn's tables"), "%s%s", r.out, r.err);
	ck_assert_msg(has(&r, "no_boom"), "%s%s", r.out, r.err);
	ck_assert_msg(!has(&r, "line "), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(!table_exists(&p, "boom"));
	project_dispose(&p);
}
END_TEST

/* --- item 2: require_down ------------------------------------------------- */

START_TEST(test_require_down_enforced_by_migrate)
{
	project p;
	tu_result r;

	project_init(&p, "    require_down: true\n");
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "db/migrations/0001_a.down.sql", "DROP TABLE a;\n");
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (id int);\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "migration 0002_b has no down file"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(!table_exists(&p, "a"));

	tu_write(p.dir, "db/migrations/0002_b.down.sql", "DROP TABLE b;\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(table_exists(&p, "b"));
	project_dispose(&p);
}
END_TEST

/* --- item 9: literals whatever standard_conforming_strings says ---------- */

START_TEST(test_standard_conforming_strings_off)
{
	project p;
	tu_result r;
	char *v;

	/*
	 * A file that switches standard_conforming_strings off is refused
	 * before anything runs: after it the server would read strings
	 * differently than cairn splits them, and a COMMIT cairn takes for
	 * part of a string would end the next migration's transaction.
	 */
	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_scs.up.sql",
		 "SET standard_conforming_strings = off;\n");
	tu_write(p.dir, "db/migrations/0002_x.up.sql",
		 "CREATE TABLE t1 (id int);\n"
		 "SELECT 'a\\'; SELECT ' ; COMMIT; CREATE TABLE t2 (id int); "
		 "SELECT 1/0; SELECT 'z'; -- '\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "changes standard_conforming_strings"), "%s%s",
		      r.out, r.err);
	tu_result_dispose(&r);
	migrate(&p, &r, "up", "--single-transaction", NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(!table_exists(&p, "t1"));
	ck_assert(!table_exists(&p, "t2"));
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	project_dispose(&p);

	/* set_config() and RESET are the same change */
	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_scs.up.sql",
		 "SELECT set_config('standard_conforming_strings', 'off', false);\n");
	commit(&p, "Ann");
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 1 && has(&r, "standard_conforming_strings"),
		      "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);

	/* literals cairn writes survive backslashes and quotes */
	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0002_quoted.up.sql",
		 "CREATE TABLE quoted (id int);\n");
	free(tu_git_commit(p.dir, "O\\'Brien \\\\ x", "ob@example.com",
			   1700000100, "quoted"));
	tu_cairn(&r, p.dir, "migrate", "up", "--meta", "note=back\\slash 'q'",
		 NULL);
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	v = tu_db_value(p.url, "SELECT author_name FROM cairn.migrations "
			       "WHERE version = '2'");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "O\\'Brien \\\\ x");
	free(v);
	v = tu_db_value(p.url, "SELECT detail->'metadata'->>'note' FROM cairn.audit "
			       "WHERE version = '2' AND outcome = 'applied'");
	ck_assert_msg(v && !strcmp(v, "back\\slash 'q'"), "%s", v ? v : "(null)");
	free(v);
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* --- item 10: a UTF-8 BOM -------------------------------------------------- */

START_TEST(test_bom_stripped_checksum_of_bytes)
{
	static const char with_bom[] =
		"\xEF\xBB\xBF-- cairn: statement-timeout=5s\n"
		"CREATE TABLE bom (id int);\n";
	/* the directive is seen only when the BOM is dropped first */
	static const char idx_bom[] =
		"\xEF\xBB\xBF-- cairn: no-transaction\n"
		"CREATE INDEX CONCURRENTLY bom_id ON bom (id);\n";
	project p;
	tu_result r;
	char *sum, *v;

	project_init(&p, NULL);
	tu_write_bytes(p.dir, "db/migrations/0001_bom.up.sql", with_bom,
		       sizeof(with_bom) - 1);
	tu_write_bytes(p.dir, "db/migrations/0002_idx.up.sql", idx_bom,
		       sizeof(idx_bom) - 1);
	commit(&p, "Ann");
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(table_exists(&p, "bom"));
	ck_assert(table_exists(&p, "bom_id"));
	/* the checksum is over the bytes as committed, BOM included */
	sum = tu_sh_out(p.dir, "sha256sum db/migrations/0001_bom.up.sql | cut -c1-64");
	v = tu_db_value(p.url, "SELECT checksum FROM cairn.migrations "
			       "WHERE version = '1'");
	ck_assert_ptr_nonnull(sum);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, sum);
	free(sum);
	free(v);
	/* no drift afterwards */
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* --- item 26: what migrate down checks ---------------------------------- */

static void down_project(project *p)
{
	project_init(p, NULL);
	tu_write(p->dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(p->dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (id int);\n");
	tu_write(p->dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (id int);\n");
	tu_write(p->dir, "db/migrations/0003_c.down.sql", "DROP TABLE c;\n");
	tu_write(p->dir, "db/migrations/0004_d.up.sql", "CREATE TABLE d (id int);\n");
	tu_write(p->dir, "db/migrations/0004_d.down.sql", "DROP TABLE d;\n");
	commit(p, "Ann");
}

START_TEST(test_down_steps_checks_only_its_steps)
{
	project p;
	tu_result r;

	down_project(&p);
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_dispose(&r);
	migrate(&p, &r, "down", "--steps", "2");
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(!has(&r, "0001_a") && !has(&r, "0002_b"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert(!table_exists(&p, "d"));
	ck_assert(!table_exists(&p, "c"));
	ck_assert(table_exists(&p, "b"));
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 2);

	/* one more step reaches 0002, which has no down file */
	migrate(&p, &r, "down", "--steps", "1");
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "cannot roll back 0002_b: it has no down file"),
		      "%s%s", r.out, r.err);
	ck_assert_msg(!has(&r, "0001_a"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_down_to_says_how_far)
{
	project p;
	tu_result r;

	down_project(&p);
	migrate(&p, &r, "up", NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_dispose(&r);
	migrate(&p, &r, "down", "--to", "0");
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(has(&r, "cannot roll back 0002_b: it has no down file") &&
		      has(&r, "cannot roll back 0001_a: it has no down file"),
		      "%s%s", r.out, r.err);
	ck_assert_msg(has(&r, "the lowest version a rollback can reach is 2"),
		      "%s%s", r.out, r.err);
	ck_assert_msg(has(&r, "cairn migrate down --to 2"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	/* nothing was rolled back */
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 4);

	/* and the suggested target works */
	migrate(&p, &r, "down", "--to", "2");
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 2);
	project_dispose(&p);
}
END_TEST

static Suite *atomicity_suite(void)
{
	Suite *s = suite_create("atomicity");
	TCase *tc = tcase_create("engine");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_transaction_control_refused);
	tcase_add_test(tc, test_every_transaction_control_form);
	tcase_add_test(tc, test_single_transaction_inner_commit);
	tcase_add_test(tc, test_not_transaction_control);
	tcase_add_test(tc, test_unterminated_refused);
	tcase_add_test(tc, test_down_transaction_control_refused);
	tcase_add_test(tc, test_second_guard_transaction_status);
	tcase_add_test(tc, test_second_guard_after_failure);
	tcase_add_test(tc, test_bookkeeping_error_not_blamed_on_file);
	tcase_add_test(tc, test_require_down_enforced_by_migrate);
	tcase_add_test(tc, test_standard_conforming_strings_off);
	tcase_add_test(tc, test_bom_stripped_checksum_of_bytes);
	tcase_add_test(tc, test_down_steps_checks_only_its_steps);
	tcase_add_test(tc, test_down_to_says_how_far);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(atomicity_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
