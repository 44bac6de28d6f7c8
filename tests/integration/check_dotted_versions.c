/*
 * check_dotted_versions.c - versions that are not plain integers (issue
 * 13): Flyway's V1.2.3__x.sql and V1_2__x.sql, and cairn's own
 * 1.2_x.up.sql, ordered part by part (1.10 > 1.9), normalized as Flyway
 * does (V1.0 and V1 are one version), through every command that names
 * a version: migrate up --to, migrate down --to, baseline, import
 * flyway, plan A..B, status, the pre-push check, cairn new --version and
 * the hooks.
 *
 * The real cairn binary, real git repositories made here, a real
 * PostgreSQL server with a fresh database per test.
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
	tu_project_init(p, "dot", extra);
}

static void commit(project *p, const char *msg)
{
	free(tu_git_commit(p->dir, "Ada Dotted", "ada@example.com",
			   1700000000L, msg));
}

static void run_ok(project *p, const char *a, const char *b, const char *c,
		   const char *d)
{
	tu_result r;

	tu_cairn(&r, p->dir, a, b, c, d, NULL);
	ck_assert_msg(r.status == 0, "cairn %s %s %s %s: %d\n%s%s", a,
		      b ? b : "", c ? c : "", d ? d : "", r.status, r.out,
		      r.err);
	tu_result_dispose(&r);
}

/* The versions applied, in the order the audit trail recorded them. */
#define APPLIED_ORDER \
	"SELECT string_agg(version, ',' ORDER BY id) FROM cairn.audit " \
	"WHERE outcome = 'applied'"
#define ROLLED_BACK_ORDER \
	"SELECT string_agg(version, ',' ORDER BY id) FROM cairn.audit " \
	"WHERE outcome = 'rolled_back'"

/* One table per migration: V<v>__<t>.sql creates <t>, U drops it. */
static void flyway_pair(project *p, const char *v, const char *table)
{
	char rel[256], sql[256];

	snprintf(rel, sizeof(rel), "db/migrations/V%s__%s.sql", v, table);
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (id int);\n", table);
	tu_write(p->dir, rel, sql);
	/* the undo file's description need not match */
	snprintf(rel, sizeof(rel), "db/migrations/U%s__undo.sql", v);
	snprintf(sql, sizeof(sql), "DROP TABLE %s;\n", table);
	tu_write(p->dir, rel, sql);
}

/*
 * Flyway's order: 1 < 1.2 < 1.9 < 1.10 < 2, whatever order the names
 * sort in; V1_5 is 1.5; up to --to, down to --to, status, hooks.
 */
START_TEST(test_flyway_dotted_order)
{
	project p;
	tu_result r;
	char *log;

	project_init(&p, "layout: flyway\n"
			 "hooks:\n"
			 "  post_execute:\n"
			 "    - run: \"printf '%s\\\\n' \\\"$CAIRN_MIGRATION_VERSION\\\" >> hook.log\"\n");
	flyway_pair(&p, "2", "e");
	flyway_pair(&p, "1.10", "d");
	flyway_pair(&p, "1.9", "c");
	flyway_pair(&p, "1_5", "b2");
	flyway_pair(&p, "1.2", "b");
	flyway_pair(&p, "1", "a");
	commit(&p, "dotted");
	run_ok(&p, "validate", "--no-db", NULL, NULL);
	/* V1_5 reads 1.5 as Flyway shows it; plan finds each by its label */
	tu_cairn(&r, p.dir, "plan", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "1.5") && tu_contains(r.out, "b2") &&
		      strstr(r.out, "1.9") < strstr(r.out, "1.10"), "%s", r.out);
	tu_result_dispose(&r);

	run_ok(&p, "migrate", "up", "--to", "1.9");
	assert_q(&p, APPLIED_ORDER, "1,1.2,1.5,1.9");
	run_ok(&p, "migrate", "up", NULL, NULL);
	assert_q(&p, APPLIED_ORDER, "1,1.2,1.5,1.9,1.10,2");
	log = tu_read(p.dir, "hook.log");
	ck_assert_str_eq(log, "1\n1.2\n1.5\n1.9\n1.10\n2\n");
	free(log);

	/* status lists them in version order, not text order */
	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	{
		const char *a = strstr(r.out, "1.9");
		const char *b = strstr(r.out, "1.10");

		ck_assert_msg(a && b && a < b, "%s", r.out);
	}
	tu_result_dispose(&r);

	/* down to 1.5 undoes 2, 1.10, 1.9 in that order */
	run_ok(&p, "migrate", "down", "--to", "1.5");
	assert_q(&p, ROLLED_BACK_ORDER, "2,1.10,1.9");
	assert_q(&p, "SELECT string_agg(tablename, ',' ORDER BY tablename) "
		     "FROM pg_tables WHERE schemaname = 'public'", "a,b,b2");
	/* the spelling as written finds it too */
	run_ok(&p, "migrate", "down", "--to", "1.02.0");
	assert_q(&p, ROLLED_BACK_ORDER, "2,1.10,1.9,1.5");
	run_ok(&p, "audit", "verify", NULL, NULL);
	project_dispose(&p);
}
END_TEST

/* V1.0 and V1 are one version: a duplicate with both files named. */
START_TEST(test_trailing_zero_is_duplicate)
{
	project p;
	tu_result r;

	project_init(&p, "layout: flyway\n");
	tu_write(p.dir, "db/migrations/V1__a.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "db/migrations/V1.0__b.sql", "CREATE TABLE b (id int);\n");
	tu_write(p.dir, "db/migrations/V1.01__c.sql", "CREATE TABLE c (id int);\n");
	tu_write(p.dir, "db/migrations/V1.1__d.sql", "CREATE TABLE d (id int);\n");
	commit(&p, "dups");
	tu_cairn(&r, p.dir, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "duplicate-version"), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "version 1 of 'db/migrations/V1.0__b.sql' "
				  "is also used by 'db/migrations/V1__a.sql'") ||
		      tu_contains(r.out, "version 1 of 'db/migrations/V1__a.sql' "
				  "is also used by 'db/migrations/V1.0__b.sql'"),
		      "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "version 1.1 of"), "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
		 "0");
	project_dispose(&p);
}
END_TEST

/* cairn's own layout reads dotted versions by the same rules. */
START_TEST(test_cairn_layout_dotted)
{
	project p;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/1_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "db/migrations/1.10_c.up.sql", "CREATE TABLE c (id int);\n");
	tu_write(p.dir, "db/migrations/1.10_c.down.sql", "DROP TABLE c;\n");
	tu_write(p.dir, "db/migrations/1.9_b.up.sql", "CREATE TABLE b (id int);\n");
	tu_write(p.dir, "db/migrations/1.9_b.down.sql", "DROP TABLE b;\n");
	tu_write(p.dir, "db/migrations/0002_1.7.0_schema.up.sql",
		 "CREATE TABLE harbor (id int);\n");
	tu_write(p.dir, "db/migrations/0002_1.7.0_schema.down.sql",
		 "DROP TABLE harbor;\n");
	commit(&p, "cairn dotted");
	run_ok(&p, "migrate", "up", NULL, NULL);
	assert_q(&p, APPLIED_ORDER, "1,1.9,1.10,2");
	assert_q(&p, "SELECT name FROM cairn.migrations WHERE version = '2'",
		 "1.7.0_schema");
	run_ok(&p, "migrate", "down", "--steps", "2");
	assert_q(&p, ROLLED_BACK_ORDER, "2,1.10");
	project_dispose(&p);
}
END_TEST

/* baseline 1.2 records 1, 1.1 and 1.2; migrate applies 1.10 and 2. */
START_TEST(test_baseline_dotted)
{
	project p;

	project_init(&p, "layout: flyway\n");
	flyway_pair(&p, "1", "a");
	flyway_pair(&p, "1.1", "b");
	flyway_pair(&p, "1.2", "c");
	flyway_pair(&p, "1.10", "d");
	flyway_pair(&p, "2", "e");
	commit(&p, "baseline");
	ck_assert_int_eq(tu_db_exec(p.url, "CREATE TABLE a (id int); "
				    "CREATE TABLE b (id int); CREATE TABLE c (id int)"), 0);
	run_ok(&p, "baseline", "1.2", "--reason", "restored from a dump");
	assert_q(&p, "SELECT string_agg(version, ',' ORDER BY id) FROM cairn.audit "
		     "WHERE outcome = 'baselined'", "1,1.1,1.2");
	run_ok(&p, "migrate", "up", NULL, NULL);
	assert_q(&p, APPLIED_ORDER, "1.10,2");
	run_ok(&p, "audit", "verify", NULL, NULL);
	project_dispose(&p);
}
END_TEST

/* Flyway's history with text versions '1.1', '1.2.0' (= 1.2), '1_3'. */
START_TEST(test_import_flyway_dotted)
{
	project p;
	tu_result r;

	project_init(&p, "layout: flyway\n");
	flyway_pair(&p, "1", "a");
	flyway_pair(&p, "1.1", "b");
	flyway_pair(&p, "1.2", "c");
	flyway_pair(&p, "1.3", "c3");
	flyway_pair(&p, "1.10", "d");
	commit(&p, "import");
	ck_assert_int_eq(tu_db_exec(p.url,
		"CREATE TABLE flyway_schema_history ("
		" installed_rank integer NOT NULL PRIMARY KEY, version varchar(50),"
		" description varchar(200) NOT NULL, type varchar(20) NOT NULL,"
		" script varchar(1000) NOT NULL, checksum integer,"
		" installed_by varchar(100) NOT NULL,"
		" installed_on timestamp NOT NULL DEFAULT now(),"
		" execution_time integer NOT NULL, success boolean NOT NULL);"
		"CREATE TABLE a (id int); CREATE TABLE b (id int);"
		"CREATE TABLE c (id int); CREATE TABLE c3 (id int);"
		"INSERT INTO flyway_schema_history VALUES "
		"(1, '1', 'a', 'SQL', 'V1__a.sql', 1, 'frank', '2023-04-01 10:00:00', 1, true),"
		"(2, '1.1', 'b', 'SQL', 'V1.1__b.sql', 2, 'frank', '2023-04-01 10:00:00', 1, true),"
		"(3, '1.2.0', 'c', 'SQL', 'V1.2__c.sql', 3, 'grace', '2023-04-02 10:00:00', 1, true),"
		"(4, '1_3', 'c3', 'SQL', 'V1_3__c3.sql', 4, 'grace', '2023-04-02 10:00:00', 1, true)"), 0);
	tu_cairn(&r, p.dir, "import", "flyway", "--dry-run", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "1.2"), "%s", r.out);
	tu_result_dispose(&r);
	run_ok(&p, "import", "flyway", NULL, NULL);
	assert_q(&p, "SELECT string_agg(version || ' ' || applied_by, ',' ORDER BY version) "
		     "FROM cairn.migrations",
		 "1 frank (flyway),1.1 frank (flyway),1.2 grace (flyway),1.3 grace (flyway)");
	run_ok(&p, "migrate", "up", NULL, NULL);
	assert_q(&p, APPLIED_ORDER, "1.10");
	run_ok(&p, "audit", "verify", NULL, NULL);

	/* a history version the repository lacks is named */
	project_dispose(&p);
	project_init(&p, "layout: flyway\n");
	flyway_pair(&p, "1", "a");
	commit(&p, "import");
	ck_assert_int_eq(tu_db_exec(p.url,
		"CREATE TABLE flyway_schema_history ("
		" installed_rank integer NOT NULL PRIMARY KEY, version varchar(50),"
		" description varchar(200) NOT NULL, type varchar(20) NOT NULL,"
		" script varchar(1000) NOT NULL, checksum integer,"
		" installed_by varchar(100) NOT NULL,"
		" installed_on timestamp NOT NULL DEFAULT now(),"
		" execution_time integer NOT NULL, success boolean NOT NULL);"
		"INSERT INTO flyway_schema_history VALUES "
		"(1, '1', 'a', 'SQL', 'V1__a.sql', 1, 'frank', '2023-04-01 10:00:00', 1, true),"
		"(2, '2.1', 'x', 'SQL', 'V2.1__x.sql', 2, 'frank', '2023-04-01 10:00:00', 1, true)"), 0);
	tu_cairn(&r, p.dir, "import", "flyway", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "'2.1'") || tu_contains(r.err, "'2.1'"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM cairn.migrations", "0");
	project_dispose(&p);
}
END_TEST

/* plan A..B between two tags lists the dotted migrations between them. */
START_TEST(test_plan_range_dotted)
{
	project p;
	tu_result r;

	project_init(&p, "layout: flyway\n");
	flyway_pair(&p, "1", "a");
	flyway_pair(&p, "1.9", "b");
	commit(&p, "first");
	ck_assert_int_eq(tu_sh(p.dir, "git tag v1"), 0);
	flyway_pair(&p, "1.10", "c");
	flyway_pair(&p, "1.11", "d");
	commit(&p, "second");
	ck_assert_int_eq(tu_sh(p.dir, "git tag v2"), 0);
	tu_cairn(&r, p.dir, "plan", "v1..v2", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "1.10") && tu_contains(r.out, "1.11"),
		      "%s", r.out);
	ck_assert_msg(!tu_contains(r.out, "1.9"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "1.10") < strstr(r.out, "1.11"), "%s",
		      r.out);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* cairn new: --version V (refused when taken), else first part + 1. */
START_TEST(test_new_version)
{
	project p;
	tu_result r;

	project_init(&p, "layout: flyway\n");
	flyway_pair(&p, "1.2", "a");
	commit(&p, "one");
	tu_cairn(&r, p.dir, "new", "--version", "1.3", "add_email", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "db/migrations/V1.3__add_email.sql"),
		      "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "db/migrations/U1.3__add_email.sql"),
		      "%s", r.out);
	tu_result_dispose(&r);
	/* taken, in any spelling */
	tu_cairn(&r, p.dir, "new", "--version", "1.3.0", "again", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "exists already"), "%s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "new", "--version", "1.x", "bad", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	/* without --version: the first part plus one */
	tu_cairn(&r, p.dir, "new", "next", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "db/migrations/V2__next.sql"), "%s",
		      r.out);
	tu_result_dispose(&r);
	run_ok(&p, "validate", "--no-db", "--worktree", NULL);
	project_dispose(&p);
}
END_TEST

/*
 * The pre-push check (git push through the installed shim) orders
 * dotted versions part by part: 1.10 after 1.9 passes, 1.2 below the
 * remote's 1.9 is out of order.
 */
START_TEST(test_prepush_dotted)
{
	project p;
	tu_result r;
	char *remote = tu_mkdtemp();

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/1_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "db/migrations/1.9_b.up.sql", "CREATE TABLE b (id int);\n");
	commit(&p, "base");
	ck_assert_int_eq(tu_sh(remote, "git init -q --bare -b main ."), 0);
	ck_assert_int_eq(tu_sh(p.dir, "git remote add origin '%s' && "
			       "git push -q origin main", remote), 0);
	run_ok(&p, "githooks", "install", NULL, NULL);

	tu_write(p.dir, "db/migrations/1.10_c.up.sql", "CREATE TABLE c (id int);\n");
	commit(&p, "in order");
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
	ck_assert_msg(r.status == 0, "push: %s%s", r.out, r.err);
	tu_result_dispose(&r);

	tu_write(p.dir, "db/migrations/1.2_d.up.sql", "CREATE TABLE d (id int);\n");
	commit(&p, "out of order");
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
	ck_assert_msg(r.status != 0, "push passed: %s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "out-of-order") &&
		      tu_contains(r.err, "1.2_d"), "%s", r.err);
	tu_result_dispose(&r);
	tu_rmrf(remote);
	free(remote);
	project_dispose(&p);
}
END_TEST

/* baseline_on_migrate: 1.2 takes a dotted version too. */
START_TEST(test_baseline_on_migrate_dotted)
{
	project p;
	char yaml[2048];

	p.url = tu_db_create("dot");
	p.dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "layout: flyway\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "    baseline_on_migrate: 1.2\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	flyway_pair(&p, "1", "a");
	flyway_pair(&p, "1.2", "b");
	flyway_pair(&p, "1.10", "c");
	commit(&p, "bom");
	ck_assert_int_eq(tu_db_exec(p.url, "CREATE TABLE a (id int); "
				    "CREATE TABLE b (id int)"), 0);
	run_ok(&p, "migrate", "up", NULL, NULL);
	assert_q(&p, "SELECT string_agg(version, ',' ORDER BY id) FROM cairn.audit "
		     "WHERE outcome = 'baselined'", "1,1.2");
	assert_q(&p, APPLIED_ORDER, "1.10");
	project_dispose(&p);
}
END_TEST

/* status --all-targets: the highest applied version in cairn's order. */
START_TEST(test_fleet_highest_dotted)
{
	project p;
	tu_result r;
	char yaml[2048];

	p.url = tu_db_create("dot");
	p.dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "layout: flyway\n"
		 "environments:\n"
		 "  prod:\n"
		 "    targets:\n"
		 "      - { name: t1, database_url: \"%s\" }\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	flyway_pair(&p, "1.10", "a");
	flyway_pair(&p, "2", "b");
	flyway_pair(&p, "2.1", "c");
	commit(&p, "fleet");
	tu_cairn(&r, p.dir, "--env", "prod", "migrate", "up", "--to", "2",
		 "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "--env", "prod", "--format", "json", "status",
		 "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "\"highest_applied\": \"2\"") &&
		      tu_contains(r.out, "\"behind\": 1"), "%s", r.out);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dotted_versions");
	TCase *tc = tcase_create("dotted");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_flyway_dotted_order);
	tcase_add_test(tc, test_trailing_zero_is_duplicate);
	tcase_add_test(tc, test_cairn_layout_dotted);
	tcase_add_test(tc, test_baseline_dotted);
	tcase_add_test(tc, test_import_flyway_dotted);
	tcase_add_test(tc, test_plan_range_dotted);
	tcase_add_test(tc, test_new_version);
	tcase_add_test(tc, test_prepush_dotted);
	tcase_add_test(tc, test_baseline_on_migrate_dotted);
	tcase_add_test(tc, test_fleet_highest_dotted);
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
