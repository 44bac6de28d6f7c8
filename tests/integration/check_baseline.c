/*
 * check_baseline.c - `cairn baseline VERSION` and baseline_on_migrate,
 * end to end: the real cairn binary, a real git repository made here and
 * a real PostgreSQL database that already has the schema of the first
 * migrations (made by hand, as a team adopting cairn has it).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
	char *sha;
} project;

/*
 * Three migrations (a, b, c) committed by Alice; the database has the
 * tables of the first two already.  env_extra goes under development.
 */
static void project_init(project *p, const char *env_extra, bool schema)
{
	char yaml[4096];

	p->url = tu_db_create("base");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n%s"
		 "hooks: {}\n", p->url, env_extra ? env_extra : "");
	tu_write(p->dir, "cairn.yaml", yaml);
	tu_write(p->dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	tu_write(p->dir, "db/migrations/0001_a.down.sql", "DROP TABLE a;\n");
	tu_write(p->dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	tu_write(p->dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (x int);\n");
	p->sha = tu_git_commit(p->dir, "Alice Adopter", "alice@example.com",
			       1700000000, "the project's migrations");
	if (schema)
		ck_assert_int_eq(tu_db_exec(p->url, "CREATE TABLE a (x int); CREATE TABLE b (x int)"), 0);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
	free(p->sha);
}

static long count_of(project *p, const char *sql)
{
	char *v = tu_db_value(p->url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/*
 * The report: on a database that already has the schema,
 * `migrate up` fails with "relation already exists"; baseline records
 * what is there and migrate goes on from it.
 */
START_TEST(test_baseline_then_migrate)
{
	project p;
	tu_result r;
	char *v;

	project_init(&p, NULL, true);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "already exists"), "%s", r.err);
	/* and says how to adopt such a database */
	ck_assert_msg(tu_contains(r.err, "HINT:") && tu_contains(r.err, "cairn baseline VERSION") &&
		      tu_contains(r.err, "cairn import"), "%s", r.err);
	tu_result_dispose(&r);

	tu_cairn(&r, p.dir, "baseline", "2", "--reason", "restored from the 2023 dump", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "0001_a") || tu_contains(r.out, "1_a"), "%s", r.out);
	tu_result_dispose(&r);

	/* provenance as an apply records it: commit and author from git */
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations WHERE status = 'applied'"), 2);
	v = tu_db_value(p.url, "SELECT string_agg(DISTINCT commit_sha || ' ' || author_name, ',') FROM cairn.migrations");
	ck_assert_ptr_nonnull(v);
	ck_assert_msg(tu_contains(v, p.sha) && tu_contains(v, "Alice Adopter"), "%s", v);
	free(v);
	/* audited: who and why */
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'baselined' "
				  "AND event = 'baseline' AND detail->>'reason' = 'restored from the 2023 dump' "
				  "AND actor IS NOT NULL AND commit_sha IS NOT NULL"), 2);

	/* the rest applies */
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "applied 1 migration"), "%s", r.out);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 'c'"), 1);

	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* A tracking table with rows is never rewritten; the refusal is audited. */
START_TEST(test_refused_when_tracking_has_rows)
{
	project p;
	tu_result r;

	project_init(&p, NULL, false);
	tu_cairn(&r, p.dir, "migrate", "up", "--to", "1", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	tu_cairn(&r, p.dir, "baseline", "3", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "already has 1 row"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE event = 'baseline' AND outcome = 'refused'"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'baselined'"), 0);
	project_dispose(&p);
}
END_TEST

/* A version that is not a migration at the revision, and a dry run. */
START_TEST(test_unknown_version_and_dry_run)
{
	project p;
	tu_result r;

	project_init(&p, NULL, true);
	tu_cairn(&r, p.dir, "baseline", "7", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "no migration 7"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);

	tu_cairn(&r, p.dir, "baseline", "abc", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);

	/* dry run: lists, writes nothing (not even cairn's tables) */
	tu_run(&r, p.dir, (const char *const[]){ "psql", "-qAtc", "DROP SCHEMA cairn CASCADE", p.url, NULL }, NULL, NULL);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "baseline", "2", "--dry-run", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "would record 2 migrations"), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "2_b") && !tu_contains(r.out, "3_c"), "%s", r.out);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_namespace WHERE nspname = 'cairn'"), 0);
	project_dispose(&p);
}
END_TEST

/*
 * baseline_on_migrate (Flyway's baselineOnMigrate): the first migrate up
 * on a database with tables and no cairn tables baselines to the
 * configured version, then applies the rest; an empty database is
 * migrated from the start.
 */
START_TEST(test_baseline_on_migrate)
{
	project p, q;
	tu_result r;

	project_init(&p, "    baseline_on_migrate: 2\n", true);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "baselined 2 migrations"), "%s", r.err);
	ck_assert_msg(tu_contains(r.out, "applied 1 migration"), "%s", r.out);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'baselined' "
				  "AND (detail->>'baseline_on_migrate')::boolean"), 2);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 3);
	/* a later run does not baseline again */
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0 && !tu_contains(r.err, "baselined"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	project_init(&q, "    baseline_on_migrate: 2\n", false);
	tu_cairn(&r, q.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(!tu_contains(r.err, "baselined"), "%s", r.err);
	ck_assert_msg(tu_contains(r.out, "applied 3 migrations"), "%s", r.out);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&q, "SELECT count(*) FROM cairn.audit WHERE outcome = 'baselined'"), 0);
	project_dispose(&q);

	/* a bad value is a configuration error with its line */
	tu_write(p.dir, "cairn.yaml", "environments:\n  development:\n    baseline_on_migrate: latest\n");
	tu_cairn(&r, p.dir, "--worktree", "status", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "baseline_on_migrate needs a migration version"), "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/*
 * A first `migrate up` that failed on "relation already exists" made
 * cairn's tables but recorded no migration: turning baseline_on_migrate
 * on afterwards still baselines (the empty tracking table is what counts,
 * as Flyway's missing history table).
 */
START_TEST(test_baseline_on_migrate_after_a_failed_first_run)
{
	project p;
	tu_result r;
	char yaml[4096];

	project_init(&p, NULL, true);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "already exists"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_namespace WHERE nspname = 'cairn'"), 1);

	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "    baseline_on_migrate: 2\n"
		 "hooks: {}\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	free(tu_git_commit(p.dir, "Alice Adopter", "alice@example.com", 1700000100, "baseline on migrate"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "baselined 2 migrations"), "%s", r.err);
	ck_assert_msg(tu_contains(r.out, "applied 1 migration"), "%s", r.out);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("baseline");
	TCase *tc = tcase_create("baseline");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_baseline_then_migrate);
	tcase_add_test(tc, test_refused_when_tracking_has_rows);
	tcase_add_test(tc, test_unknown_version_and_dry_run);
	tcase_add_test(tc, test_baseline_on_migrate);
	tcase_add_test(tc, test_baseline_on_migrate_after_a_failed_first_run);
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
