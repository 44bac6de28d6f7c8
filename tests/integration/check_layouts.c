/*
 * check_layouts.c - other tools' migration folders read as they are
 * (issue 13 item 3): the real cairn binary, real git repositories laid
 * out like real projects' (Harbor's dotted names, Kratos' dialect infix,
 * dbmate's single file with sections, Flyway's V/U files), a real
 * PostgreSQL server with a fresh database per test.
 *
 * Each test applies, rolls back and checks that `plan` reports where each
 * migration came from (the commit's author).
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
	tu_project_init(p, "lay", extra);
}

static void commit(project *p)
{
	free(tu_git_commit(p->dir, "Ada Layout", "ada@example.com",
			   1700000000L, "migrations"));
}

static void run_ok(project *p, const char *a, const char *b, const char *c)
{
	tu_result r;

	tu_cairn(&r, p->dir, a, b, c, NULL);
	ck_assert_msg(r.status == 0, "cairn %s %s %s: %d\n%s%s", a,
		      b ? b : "", c ? c : "", r.status, r.out, r.err);
	tu_result_dispose(&r);
}

/* plan names the migration and the author of the commit that added it. */
static void assert_plan_provenance(project *p, const char *name)
{
	tu_result r;

	tu_cairn(&r, p->dir, "plan", NULL);
	ck_assert_msg(r.status == 0, "plan: %d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, name), "plan lacks %s:\n%s", name,
		      r.out);
	ck_assert_msg(tu_contains(r.out, "Ada Layout"),
		      "plan lacks the author:\n%s", r.out);
	tu_result_dispose(&r);
}

/* Harbor: 0002_1.7.0_schema.up.sql in cairn's own layout. */
START_TEST(test_cairn_layout_names_with_dots)
{
	project p;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_initial.up.sql",
		 "CREATE TABLE harbor (id int);\n");
	tu_write(p.dir, "db/migrations/0002_1.7.0_schema.up.sql",
		 "ALTER TABLE harbor ADD COLUMN v170 int;\n");
	tu_write(p.dir, "db/migrations/0002_1.7.0_schema.down.sql",
		 "ALTER TABLE harbor DROP COLUMN v170;\n");
	commit(&p);
	run_ok(&p, "validate", NULL, NULL);
	assert_plan_provenance(&p, "1.7.0_schema");
	run_ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT name FROM cairn.migrations WHERE version = '2'",
		 "1.7.0_schema");
	assert_q(&p, "SELECT count(*) FROM information_schema.columns "
		     "WHERE column_name = 'v170'", "1");
	run_ok(&p, "migrate", "down", NULL);
	assert_q(&p, "SELECT count(*) FROM information_schema.columns "
		     "WHERE column_name = 'v170'", "0");
	project_dispose(&p);
}
END_TEST

/* Kratos: one migration per dialect, selected with `dialect: postgres`. */
START_TEST(test_golang_migrate_dialect_infix)
{
	project p;

	project_init(&p, "layout: golang-migrate\ndialect: postgres\n");
	tu_write(p.dir, "db/migrations/20150100000001000000_networks.postgres.up.sql",
		 "CREATE TABLE networks (id uuid PRIMARY KEY);\n");
	tu_write(p.dir, "db/migrations/20150100000001000000_networks.postgres.down.sql",
		 "DROP TABLE networks;\n");
	tu_write(p.dir, "db/migrations/20150100000001000000_networks.mysql.up.sql",
		 "CREATE TABLE networks (id CHAR(36) NOT NULL) ENGINE=InnoDB;\n");
	tu_write(p.dir, "db/migrations/20150100000001000000_networks.sqlite3.up.sql",
		 "CREATE TABLE networks (id TEXT);\n");
	tu_write(p.dir, "db/migrations/20150100000001000000_networks.cockroach.up.sql",
		 "CREATE TABLE networks (id UUID);\n");
	tu_write(p.dir, "db/migrations/20150100000002000000_identities.up.sql",
		 "CREATE TABLE identities (id int);\n");
	tu_write(p.dir, "db/migrations/20150100000002000000_identities.down.sql",
		 "DROP TABLE identities;\n");
	commit(&p);
	run_ok(&p, "validate", NULL, NULL);
	assert_plan_provenance(&p, "networks");
	run_ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT string_agg(name, ',' ORDER BY version) "
		     "FROM cairn.migrations", "networks,identities");
	assert_q(&p, "SELECT data_type FROM information_schema.columns "
		     "WHERE table_name = 'networks'", "uuid");
	run_ok(&p, "migrate", "down", "--to=0");
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE tablename IN "
		     "('networks', 'identities')", "0");
	project_dispose(&p);
}
END_TEST

/* golang-migrate names may hold any bytes, dots included. */
START_TEST(test_golang_migrate_names_with_dots)
{
	project p;

	project_init(&p, "layout: golang-migrate\n");
	tu_write(p.dir, "db/migrations/0001_v1.0.0.up.sql",
		 "CREATE TABLE g1 (id int);\n");
	tu_write(p.dir, "db/migrations/0001_v1.0.0.down.sql",
		 "DROP TABLE g1;\n");
	commit(&p);
	run_ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT name FROM cairn.migrations", "v1.0.0");
	run_ok(&p, "migrate", "down", NULL);
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 'g1'",
		 "0");
	project_dispose(&p);
}
END_TEST

/* dbmate: one file, -- migrate:up / -- migrate:down sections. */
START_TEST(test_dbmate_sections)
{
	project p;
	tu_result r;

	project_init(&p, "layout: dbmate\n");
	tu_write(p.dir, "db/migrations/20200101000000_users.sql",
		 "-- migrate:up\n"
		 "CREATE TABLE users (id int, email text);\n"
		 "\n"
		 "-- migrate:down\n"
		 "DROP TABLE users;\n");
	tu_write(p.dir, "db/migrations/20200102000000_users_email.sql",
		 "-- migrate:up transaction:false\n"
		 "CREATE INDEX CONCURRENTLY users_email ON users (email);\n"
		 "-- migrate:down\n"
		 "DROP INDEX users_email;\n");
	commit(&p);
	run_ok(&p, "validate", NULL, NULL);
	assert_plan_provenance(&p, "users_email");
	run_ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT string_agg(no_transaction::text, ',' ORDER BY "
		     "version) FROM cairn.migrations", "false,true");
	assert_q(&p, "SELECT count(*) FROM pg_indexes WHERE indexname = "
		     "'users_email'", "1");
	run_ok(&p, "migrate", "down", NULL);
	assert_q(&p, "SELECT count(*) FROM pg_indexes WHERE indexname = "
		     "'users_email'", "0");
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE tablename = "
		     "'users'", "1");
	run_ok(&p, "migrate", "down", NULL);
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE tablename = "
		     "'users'", "0");

	/* findings in a section name the file's own line */
	tu_write(p.dir, "db/migrations/20200104000000_typo.sql",
		 "-- migrate:up\n"
		 "\n"
		 "CREAT TABLE typo (id int);\n"
		 "-- migrate:down\n"
		 "DROP TABLE typo;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status != 0, "validate passed:\n%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "20200104000000_typo.sql:3"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_sh(p.dir, "git rm -q db/migrations/20200104000000_typo.sql");

	/* a file without the up marker is a finding, not an empty up */
	tu_write(p.dir, "db/migrations/20200103000000_broken.sql",
		 "CREATE TABLE broken (id int);\n");
	commit(&p);
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status != 0, "validate passed:\n%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "migrate:up") ||
		      tu_contains(r.err, "migrate:up"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* Flyway: V<version>__<desc>.sql with U<version>__ undo files. */
START_TEST(test_flyway_versioned_and_undo)
{
	project p;

	project_init(&p, "layout: flyway\n");
	tu_write(p.dir, "db/migrations/V1__create_person.sql",
		 "CREATE TABLE person (id int, name varchar(100));\n");
	tu_write(p.dir, "db/migrations/U1__create_person.sql",
		 "DROP TABLE person;\n");
	tu_write(p.dir, "db/migrations/V2__add_people.sql",
		 "INSERT INTO person VALUES (1, 'Axel');\n");
	tu_write(p.dir, "db/migrations/U2__add_people.sql",
		 "DELETE FROM person WHERE id = 1;\n");
	commit(&p);
	run_ok(&p, "validate", NULL, NULL);
	assert_plan_provenance(&p, "create_person");
	run_ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT string_agg(name, ',' ORDER BY version) "
		     "FROM cairn.migrations", "create_person,add_people");
	assert_q(&p, "SELECT count(*) FROM person", "1");
	run_ok(&p, "migrate", "down", NULL);
	assert_q(&p, "SELECT count(*) FROM person", "0");
	run_ok(&p, "migrate", "down", NULL);
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE tablename = "
		     "'person'", "0");
	project_dispose(&p);
}
END_TEST

/*
 * The pre-push check reads the layout too: a good Flyway migration is
 * pushed, an edit of a pushed one is refused.
 */
START_TEST(test_flyway_pre_push)
{
	project p;
	tu_result r;
	char *remote = tu_mkdtemp();

	project_init(&p, "layout: flyway\n");
	tu_write(p.dir, "db/migrations/V1__create_person.sql",
		 "CREATE TABLE person (id int);\n");
	commit(&p);
	ck_assert_int_eq(tu_sh(remote, "git init -q --bare -b main ."), 0);
	ck_assert_int_eq(tu_sh(p.dir, "git remote add origin '%s' && "
			       "git push -q origin main", remote), 0);
	run_ok(&p, "githooks", "install", NULL);
	tu_write(p.dir, "db/migrations/V2__add_name.sql",
		 "ALTER TABLE person ADD COLUMN name text;\n");
	commit(&p);
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
	ck_assert_msg(r.status == 0, "push: %s%s", r.out, r.err);
	tu_result_dispose(&r);

	tu_write(p.dir, "db/migrations/V1__create_person.sql",
		 "CREATE TABLE person (id bigint);\n");
	commit(&p);
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
	ck_assert_msg(r.status != 0, "push passed: %s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "edited-after-push"), "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "V1__create_person.sql"), "%s", r.err);
	tu_result_dispose(&r);
	tu_rmrf(remote);
	free(remote);
	project_dispose(&p);
}
END_TEST

/*
 * A database Flyway built, taken over in the flyway layout: the history
 * matches the V files, the next one is applied, and undone.
 */
START_TEST(test_flyway_import_then_migrate)
{
	project p;
	tu_result r;

	project_init(&p, "layout: flyway\n");
	tu_write(p.dir, "db/migrations/V1__create_a.sql",
		 "CREATE TABLE a (x int);\n");
	tu_write(p.dir, "db/migrations/V2__create_b.sql",
		 "CREATE TABLE b (x int);\n");
	tu_write(p.dir, "db/migrations/V3__create_c.sql",
		 "CREATE TABLE c (x int);\n");
	tu_write(p.dir, "db/migrations/U3__create_c.sql", "DROP TABLE c;\n");
	commit(&p);
	ck_assert_int_eq(tu_db_exec(p.url,
		"CREATE TABLE flyway_schema_history ("
		" installed_rank integer PRIMARY KEY, version varchar(50),"
		" description varchar(200) NOT NULL, type varchar(20) NOT NULL,"
		" script varchar(1000) NOT NULL, checksum integer,"
		" installed_by varchar(100) NOT NULL,"
		" installed_on timestamp NOT NULL DEFAULT now(),"
		" execution_time integer NOT NULL, success boolean NOT NULL);"
		"CREATE TABLE a (x int); CREATE TABLE b (x int);"
		"INSERT INTO flyway_schema_history VALUES "
		"(1, '1', 'create a', 'SQL', 'V1__create_a.sql', 1, 'frank',"
		" '2023-04-01 10:00:00', 12, true),"
		"(2, '2', 'create b', 'SQL', 'V2__create_b.sql', 2, 'grace',"
		" '2023-04-02 11:00:00', 7, true)"), 0);
	run_ok(&p, "import", "flyway", NULL);
	assert_q(&p, "SELECT string_agg(name || ' ' || applied_by, ',' "
		     "ORDER BY version) FROM cairn.migrations",
		 "create_a frank (flyway),create_b grace (flyway)");
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0 && tu_contains(r.out, "applied 1 migration"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 'c'",
		 "1");
	run_ok(&p, "migrate", "down", NULL);
	assert_q(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 'c'",
		 "0");
	project_dispose(&p);
}
END_TEST

/*
 * What is not read: without dialect:, Kratos' per-dialect files collide;
 * an undo file without its V file is reported.
 */
START_TEST(test_unsupported_names_reported)
{
	project p;
	tu_result r;

	project_init(&p, "layout: golang-migrate\n");
	tu_write(p.dir, "db/migrations/0001_networks.postgres.up.sql",
		 "CREATE TABLE networks (id uuid);\n");
	tu_write(p.dir, "db/migrations/0001_networks.mysql.up.sql",
		 "CREATE TABLE networks (id CHAR(36));\n");
	commit(&p);
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "duplicate-version"), "%s", r.out);
	tu_result_dispose(&r);
	project_dispose(&p);

	project_init(&p, "layout: flyway\n");
	tu_write(p.dir, "db/migrations/V1__a.sql", "SELECT 1;\n");
	tu_write(p.dir, "db/migrations/V1.1__b.sql", "SELECT 2;\n");
	tu_write(p.dir, "db/migrations/U3__c.sql", "SELECT 3;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	/* an undo file without its V file: the hint names the V file */
	ck_assert_msg(tu_contains(r.out, "add 'V3__c.sql'"), "%s", r.out);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* cairn new writes the layout's names. */
START_TEST(test_new_follows_layout)
{
	project p;
	tu_result r;

	project_init(&p, "layout: flyway\n");
	tu_write(p.dir, "db/migrations/V1__a.sql", "SELECT 1;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "new", "add_b", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "db/migrations/V2__add_b.sql") &&
		      tu_contains(r.out, "db/migrations/U2__add_b.sql"),
		      "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "--worktree", "validate", NULL);
	ck_assert_msg(!tu_contains(r.out, "bad-name"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);

	project_init(&p, "layout: dbmate\n");
	tu_write(p.dir, "db/migrations/20200101000000_a.sql",
		 "-- migrate:up\nSELECT 1;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "new", "add_b", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "_add_b.sql") &&
		      !tu_contains(r.out, ".up.sql"), "%s", r.out);
	tu_result_dispose(&r);
	tu_write(p.dir, "db/migrations/20200101000000_a.sql",
		 "-- migrate:up\nSELECT 1;\n");
	tu_cairn(&r, p.dir, "--worktree", "validate", NULL);
	ck_assert_msg(!tu_contains(r.out, "bad-name") &&
		      !tu_contains(r.out, "no '-- migrate:up'"), "%s%s", r.out,
		      r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* An unknown layout is a configuration error naming the known ones. */
START_TEST(test_unknown_layout_refused)
{
	project p;
	tu_result r;

	project_init(&p, "layout: liquibase\n");
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "SELECT 1;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "golang-migrate"), "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("layouts");
	TCase *tc = tcase_create("layouts");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cairn_layout_names_with_dots);
	tcase_add_test(tc, test_golang_migrate_dialect_infix);
	tcase_add_test(tc, test_golang_migrate_names_with_dots);
	tcase_add_test(tc, test_dbmate_sections);
	tcase_add_test(tc, test_flyway_versioned_and_undo);
	tcase_add_test(tc, test_flyway_pre_push);
	tcase_add_test(tc, test_flyway_import_then_migrate);
	tcase_add_test(tc, test_unsupported_names_reported);
	tcase_add_test(tc, test_new_follows_layout);
	tcase_add_test(tc, test_unknown_layout_refused);
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
