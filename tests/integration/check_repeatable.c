/*
 * check_repeatable.c - repeatable migrations (issue 13 item 4): the real
 * cairn binary on real git repositories and a real PostgreSQL server, a
 * fresh database per test.
 *
 * Covered: applied after the versioned ones and recorded in
 * cairn.repeatables with an audit row saying so; unchanged -> skipped;
 * changed -> applied again; a failing one (on_error, audited, exit 1,
 * later ones not run); a failing versioned migration keeps every
 * repeatable from running; concurrent deployers apply each once;
 * status/plan/--dry-run/--to/json; deleted files reported, never
 * dropped; names and duplicates; lint and validate over them; Flyway's
 * R__ files.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "project.h"
#include "testutil.h"

typedef tu_project project;
#define project_dispose tu_project_dispose
#define assert_q tu_project_assert_q

static void project_init(project *p, const char *extra)
{
	tu_project_init(p, "rep", extra);
}

static void commit(project *p)
{
	free(tu_git_commit(p->dir, "Rita Repeat", "rita@example.com",
			   1700000000L, "migrations"));
}

static void run_ok(project *p, tu_result *r, const char *a, const char *b,
		   const char *c)
{
	tu_cairn(r, p->dir, a, b, c, NULL);
	ck_assert_msg(r->status == 0, "cairn %s %s %s: %d\n%s%s", a,
		      b ? b : "", c ? c : "", r->status, r->out, r->err);
}

static void ok(project *p, const char *a, const char *b, const char *c)
{
	tu_result r;

	run_ok(p, &r, a, b, c);
	tu_result_dispose(&r);
}

#define APPLIED_ROWS \
	"SELECT count(*) FROM cairn.audit WHERE outcome = 'applied' " \
	"AND detail->>'repeatable' = 'true'"

/* The SHA-256 of a file as the server computes it. */
static char *sha_of(const char *text)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "SELECT encode(sha256(convert_to($$%s$$, 'UTF8')), 'hex')",
		 text);
	return tu_db_value(tu_db_url(), sql);
}

#define VIEW_V1 "CREATE OR REPLACE VIEW active_users AS SELECT id FROM users;\n"
#define VIEW_V2 "CREATE OR REPLACE VIEW active_users AS SELECT id, 1 AS v2 FROM users;\n"

START_TEST(test_apply_skip_change)
{
	project p;
	tu_result r;
	char *sum1, *sum2, sql[512];

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_users.up.sql",
		 "CREATE TABLE users (id int);\n");
	tu_write(p.dir, "db/migrations/views/active_users.repeatable.sql",
		 VIEW_V1);
	commit(&p);
	run_ok(&p, &r, "migrate", "up", NULL);
	ck_assert_msg(tu_contains(r.out, "applied 2 migrations"), "%s", r.out);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM pg_views WHERE viewname = 'active_users'", "1");
	sum1 = sha_of(VIEW_V1);
	snprintf(sql, sizeof(sql), "SELECT checksum = '%s' AND file = "
		 "'db/migrations/views/active_users.repeatable.sql' AND "
		 "author_name = 'Rita Repeat' AND commit_sha IS NOT NULL "
		 "FROM cairn.repeatables WHERE name = 'active_users'", sum1);
	assert_q(&p, sql, "t");
	/* the audit row: after the versioned one, no version, its checksum */
	snprintf(sql, sizeof(sql), "SELECT event || ' ' || coalesce(version::text, 'null') "
		 "|| ' ' || name || ' ' || (detail->>'checksum' = '%s') "
		 "FROM cairn.audit WHERE outcome = 'applied' ORDER BY id DESC LIMIT 1",
		 sum1);
	assert_q(&p, sql, "post_execute null active_users true");
	assert_q(&p, APPLIED_ROWS, "1");

	/* unchanged: skipped */
	run_ok(&p, &r, "migrate", "up", NULL);
	ck_assert_msg(tu_contains(r.out, "nothing to apply"), "%s", r.out);
	tu_result_dispose(&r);
	assert_q(&p, APPLIED_ROWS, "1");

	/* changed: applied again, the row follows */
	tu_write(p.dir, "db/migrations/views/active_users.repeatable.sql",
		 VIEW_V2);
	commit(&p);
	run_ok(&p, &r, "migrate", "up", NULL);
	ck_assert_msg(tu_contains(r.out, "applied 1 migration"), "%s", r.out);
	tu_result_dispose(&r);
	sum2 = sha_of(VIEW_V2);
	snprintf(sql, sizeof(sql), "SELECT checksum = '%s' FROM cairn.repeatables", sum2);
	assert_q(&p, sql, "t");
	assert_q(&p, "SELECT count(*) FROM information_schema.columns "
		     "WHERE table_name = 'active_users' AND column_name = 'v2'", "1");
	assert_q(&p, APPLIED_ROWS, "2");
	assert_q(&p, "SELECT count(*) FROM cairn.migrations", "1");
	ok(&p, "audit", "verify", NULL);
	free(sum1);
	free(sum2);
	project_dispose(&p);
}
END_TEST

/* Name order, after the versioned ones, hooks see them as data. */
START_TEST(test_order_and_hooks)
{
	project p;
	char *log;

	project_init(&p,
		"hooks:\n"
		"  pre_execute:\n"
		"    - run: [sh, -c, 'printf \"%s|%s\\n\" \"$CAIRN_MIGRATION_NAME\" \"$CAIRN_MIGRATION_VERSION\" >> hook.log']\n"
		"  post_execute:\n"
		"    - sql: \"SELECT count(*) FROM pg_class WHERE relname = 'nope'\"\n"
		"      expect: 0\n");
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/b.repeatable.sql",
		 "CREATE OR REPLACE VIEW vb AS SELECT * FROM va;\n");
	tu_write(p.dir, "db/migrations/a.repeatable.sql",
		 "CREATE OR REPLACE VIEW va AS SELECT * FROM t;\n");
	tu_write(p.dir, ".gitignore", "hook.log\n");
	commit(&p);
	ok(&p, "migrate", "up", NULL);
	log = tu_read(p.dir, "hook.log");
	ck_assert_msg(log && !strcmp(log, "t|1\na|\nb|\n"), "hook log: %s", log ? log : "(none)");
	free(log);
	assert_q(&p, "SELECT string_agg(name, ',' ORDER BY id) FROM cairn.audit "
		     "WHERE outcome = 'applied'", "t,a,b");
	project_dispose(&p);
}
END_TEST

/* A failing repeatable: on_error, audited, exit 1, later ones not run. */
START_TEST(test_failure)
{
	project p;
	tu_result r;

	project_init(&p,
		"hooks:\n"
		"  on_error:\n"
		"    - run: [sh, -c, 'echo \"$CAIRN_MIGRATION_NAME\" > on_error.log']\n");
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/a_bad.repeatable.sql",
		 "CREATE OR REPLACE VIEW va AS SELECT * FROM no_such_table;\n");
	tu_write(p.dir, "db/migrations/b_good.repeatable.sql",
		 "CREATE OR REPLACE VIEW vb AS SELECT * FROM t;\n");
	tu_write(p.dir, ".gitignore", "*.log\n");
	commit(&p);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1, "status %d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "a_bad (repeatable)") &&
		      tu_contains(r.err, "no_such_table"), "%s", r.err);
	tu_result_dispose(&r);
	/* the versioned one stays applied, nothing of the repeatables */
	assert_q(&p, "SELECT count(*) FROM cairn.migrations", "1");
	assert_q(&p, "SELECT count(*) FROM cairn.repeatables", "0");
	assert_q(&p, "SELECT count(*) FROM pg_views WHERE viewname = 'vb'", "0");
	assert_q(&p, "SELECT event || ' ' || name || ' ' || (detail->>'repeatable') "
		     "FROM cairn.audit WHERE outcome = 'failed'",
		 "on_error a_bad true");
	{
		char *log = tu_read(p.dir, "on_error.log");

		ck_assert_msg(log && tu_contains(log, "a_bad"), "%s", log ? log : "(none)");
		free(log);
	}
	/* fixed: applied next time, both */
	tu_write(p.dir, "db/migrations/a_bad.repeatable.sql",
		 "CREATE OR REPLACE VIEW va AS SELECT * FROM t;\n");
	commit(&p);
	ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT string_agg(name, ',' ORDER BY name) FROM cairn.repeatables",
		 "a_bad,b_good");
	ok(&p, "audit", "verify", NULL);
	project_dispose(&p);
}
END_TEST

/* A failing versioned migration: no repeatable runs. */
START_TEST(test_versioned_failure_stops_repeatables)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/0002_bad.up.sql", "ALTER TABLE nope ADD x int;\n");
	tu_write(p.dir, "db/migrations/v.repeatable.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT * FROM t;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1, "status %d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM cairn.repeatables", "0");
	assert_q(&p, "SELECT count(*) FROM pg_views WHERE viewname = 'v'", "0");
	project_dispose(&p);
}
END_TEST

/* Several deployers at once: each repeatable applied exactly once. */
START_TEST(test_concurrent_deployers)
{
	project p;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/c.repeatable.sql",
		 "CREATE TABLE IF NOT EXISTS counter (n int);\n"
		 "INSERT INTO counter VALUES (1);\n");
	tu_write(p.dir, "db/migrations/d.repeatable.sql",
		 "CREATE OR REPLACE VIEW vd AS SELECT * FROM t;\n");
	commit(&p);
	ck_assert_int_eq(tu_sh(p.dir,
		"p=; for i in 1 2 3 4 5 6; do \"$CAIRN_BIN\" migrate up -q & p=\"$p $!\"; done; "
		"s=0; for j in $p; do wait $j || s=1; done; exit $s"), 0);
	assert_q(&p, "SELECT count(*) FROM counter", "1");
	assert_q(&p, APPLIED_ROWS, "2");
	assert_q(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied'", "3");
	/* a change, again six at once: once more, once */
	tu_write(p.dir, "db/migrations/c.repeatable.sql",
		 "CREATE TABLE IF NOT EXISTS counter (n int);\n"
		 "INSERT INTO counter VALUES (2);\n");
	commit(&p);
	ck_assert_int_eq(tu_sh(p.dir,
		"p=; for i in 1 2 3 4 5 6; do \"$CAIRN_BIN\" migrate up -q & p=\"$p $!\"; done; "
		"s=0; for j in $p; do wait $j || s=1; done; exit $s"), 0);
	assert_q(&p, "SELECT string_agg(n::text, ',' ORDER BY n) FROM counter", "1,2");
	assert_q(&p, APPLIED_ROWS, "3");
	project_dispose(&p);
}
END_TEST

/* status (text, json), plan, --dry-run, --to; deleted never dropped. */
START_TEST(test_status_plan_dry_run)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/0002_u.up.sql", "CREATE TABLE u (id int);\n");
	tu_write(p.dir, "db/migrations/0002_u.down.sql", "DROP TABLE u;\n");
	tu_write(p.dir, "db/migrations/v.repeatable.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT * FROM t;\n");
	commit(&p);
	run_ok(&p, &r, "status", NULL, NULL);
	ck_assert_msg(tu_contains(r.out, "pending  R") && tu_contains(r.out, "1 pending"),
		      "%s", r.out);
	tu_result_dispose(&r);
	run_ok(&p, &r, "plan", NULL, NULL);
	ck_assert_msg(tu_contains(r.out, "3 pending") && tu_contains(r.out, "  R      v ") &&
		      tu_contains(r.out, "Rita Repeat"), "%s", r.out);
	tu_result_dispose(&r);
	run_ok(&p, &r, "migrate", "up", "--dry-run");
	ck_assert_msg(tu_contains(r.out, "v (repeatable)"), "%s", r.out);
	tu_result_dispose(&r);
	/* --to applies versioned migrations only, and says so */
	run_ok(&p, &r, "migrate", "up", "--to=1");
	ck_assert_msg(tu_contains(r.err, "1 repeatable migration is not applied"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM cairn.repeatables", "0");
	ok(&p, "migrate", "up", NULL);
	run_ok(&p, &r, "status", "--format=json", NULL);
	ck_assert_msg(tu_contains(r.out, "\"repeatables\"") &&
		      tu_contains(r.out, "\"state\": \"current\""), "%s", r.out);
	tu_result_dispose(&r);
	/* a changed file shows as changed */
	tu_write(p.dir, "db/migrations/v.repeatable.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT id, 2 AS two FROM t;\n");
	commit(&p);
	run_ok(&p, &r, "status", NULL, NULL);
	ck_assert_msg(tu_contains(r.out, "changed  R"), "%s", r.out);
	tu_result_dispose(&r);
	/* deleted: reported, the view stays, migrate down leaves it alone */
	ck_assert_int_eq(tu_sh(p.dir, "git rm -q db/migrations/v.repeatable.sql"), 0);
	commit(&p);
	run_ok(&p, &r, "status", NULL, NULL);
	ck_assert_msg(tu_contains(r.out, "deleted  R") && tu_contains(r.out, "1 deleted"),
		      "%s", r.out);
	tu_result_dispose(&r);
	ok(&p, "migrate", "up", NULL);
	ok(&p, "migrate", "down", NULL);
	assert_q(&p, "SELECT count(*) FROM pg_views WHERE viewname = 'v'", "1");
	assert_q(&p, "SELECT count(*) FROM cairn.repeatables", "1");
	project_dispose(&p);
}
END_TEST

/* Flyway's R__ files; bad names and duplicates refused clearly. */
START_TEST(test_flyway_names_and_duplicates)
{
	project p;
	tu_result r;

	project_init(&p, "layout: flyway\n");
	tu_write(p.dir, "db/migrations/V1__t.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/R__views.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT * FROM t;\n");
	tu_write(p.dir, "db/migrations/more/R__views.sql",
		 "CREATE OR REPLACE VIEW v2 AS SELECT * FROM t;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.out, "duplicate-repeatable") &&
		      tu_contains(r.out, "db/migrations/more/R__views.sql"),
		      "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 't'", "0");
	ck_assert_int_eq(tu_sh(p.dir, "git rm -q db/migrations/more/R__views.sql"), 0);
	tu_write(p.dir, "db/migrations/R__$(touch pwned).sql", "SELECT 1;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.out, "bad-name"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(tu_sh(p.dir, "rm -f 'db/migrations/R__$(touch pwned).sql' && git add -A"), 0);
	commit(&p);
	ok(&p, "migrate", "up", NULL);
	ck_assert_int_eq(tu_sh(p.dir, "test ! -e pwned"), 0);
	assert_q(&p, "SELECT name || ' ' || file FROM cairn.repeatables",
		 "views db/migrations/R__views.sql");
	project_dispose(&p);
}
END_TEST

/* Lint rules and the parser run on repeatables. */
START_TEST(test_lint_and_validate)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/drop.repeatable.sql", "DROP TABLE legacy_stuff;\n");
	tu_write(p.dir, "db/migrations/broken.repeatable.sql", "CREATE VIEW x AS SELEC 1;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.out, "broken.repeatable.sql") &&
		      tu_contains(r.out, "syntax") &&
		      tu_contains(r.out, "drop.repeatable.sql"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "lint", NULL);
	ck_assert_msg(r.status != 0 && tu_contains(r.out, "drop.repeatable.sql"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* An empty repeatable: validate warns, migrate refuses before anything. */
START_TEST(test_empty_refused)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/later.repeatable.sql", "-- to do\n");
	commit(&p);
	run_ok(&p, &r, "validate", NULL, NULL);
	ck_assert_msg(tu_contains(r.out, "empty-migration") &&
		      tu_contains(r.out, "later.repeatable.sql"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1 && (tu_contains(r.out, "empty-migration") ||
					tu_contains(r.err, "empty-migration")),
		      "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 't'", "0");
	tu_write(p.dir, "db/migrations/later.repeatable.sql",
		 "-- cairn: allow empty\n-- to do\n");
	commit(&p);
	ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT count(*) FROM cairn.repeatables", "1");
	project_dispose(&p);
}
END_TEST

/* A no-transaction repeatable runs outside a transaction. */
START_TEST(test_no_transaction)
{
	project p;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/idx.repeatable.sql",
		 "-- cairn: no-transaction\n"
		 "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n");
	commit(&p);
	ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_id'", "1");
	assert_q(&p, "SELECT no_transaction FROM cairn.repeatables", "t");
	project_dispose(&p);
}
END_TEST

/* pre-push: adding and editing a repeatable is what it is for. */
START_TEST(test_pre_push)
{
	project p;
	tu_result r;
	char *remote = tu_mkdtemp();

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	commit(&p);
	ck_assert_int_eq(tu_sh(remote, "git init -q --bare -b main ."), 0);
	ck_assert_int_eq(tu_sh(p.dir, "git remote add origin '%s' && "
			       "git push -q origin main", remote), 0);
	ok(&p, "githooks", "install", NULL);
	tu_write(p.dir, "db/migrations/v.repeatable.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT * FROM t;\n");
	commit(&p);
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
	ck_assert_msg(r.status == 0, "push: %s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_write(p.dir, "db/migrations/v.repeatable.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT id, 1 AS one FROM t;\n");
	commit(&p);
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
	ck_assert_msg(r.status == 0, "push: %s%s", r.out, r.err);
	tu_result_dispose(&r);
	/* a bad repeatable name is still refused */
	tu_write(p.dir, "db/migrations/.repeatable.sql", "SELECT 1;\n");
	tu_write(p.dir, "db/migrations/bad name.repeatable.sql", "SELECT 1;\n");
	commit(&p);
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
	ck_assert_msg(r.status != 0 && tu_contains(r.err, "bad-name"),
		      "push: %s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_rmrf(remote);
	free(remote);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("repeatable");
	TCase *tc = tcase_create("repeatable");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_apply_skip_change);
	tcase_add_test(tc, test_order_and_hooks);
	tcase_add_test(tc, test_failure);
	tcase_add_test(tc, test_versioned_failure_stops_repeatables);
	tcase_add_test(tc, test_concurrent_deployers);
	tcase_add_test(tc, test_status_plan_dry_run);
	tcase_add_test(tc, test_flyway_names_and_duplicates);
	tcase_add_test(tc, test_lint_and_validate);
	tcase_add_test(tc, test_no_transaction);
	tcase_add_test(tc, test_pre_push);
	tcase_add_test(tc, test_empty_refused);
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
