/*
 * check_partial_down.c - `migrate down` when some migrations in range
 * have no down file: the refusal names every one of them, and
 * --as-far-as-possible rolls back down to the newest of them.  Real
 * binary, real repository, real server.
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

/* 0001..0005, down files only for 1, 3 and 5; all applied. */
static void project_init(project *p)
{
	char yaml[1024], path[128], sql[128];
	tu_result r;

	p->url = tu_db_create("pdown");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "environments:\n  development:\n    database_url: \"%s\"\nhooks: {}\n",
		 p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
	for (int i = 1; i <= 5; i++) {
		snprintf(path, sizeof(path), "db/migrations/000%d_t%d.up.sql", i, i);
		snprintf(sql, sizeof(sql), "CREATE TABLE t%d (id int);\n", i);
		tu_write(p->dir, path, sql);
		if (i % 2 == 0)
			continue;
		snprintf(path, sizeof(path), "db/migrations/000%d_t%d.down.sql", i, i);
		snprintf(sql, sizeof(sql), "DROP TABLE t%d;\n", i);
		tu_write(p->dir, path, sql);
	}
	free(tu_git_commit(p->dir, "Pat", "pat@example.com", 1700000000, "m"));
	tu_cairn(&r, p->dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static long count_of(project *p, const char *sql)
{
	char *v = tu_db_value(p->url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

START_TEST(test_refusal_names_every_missing_down)
{
	project p;
	tu_result r;

	project_init(&p);
	tu_cairn(&r, p.dir, "migrate", "down", "--to", "0", NULL);
	ck_assert_int_eq(r.status, 1);
	/* the summary names both, and says how to go as far as possible */
	ck_assert_msg(tu_contains(r.out, "2 migrations in range cannot be rolled back (0004_t4, 0002_t2)"),
		      "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "--as-far-as-possible"), "%s", r.out);
	ck_assert_msg(!tu_contains(r.out, "0001_t1") && !tu_contains(r.out, "0003_t3: it has"), "%s", r.out);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 5);
	project_dispose(&p);
}
END_TEST

START_TEST(test_as_far_as_possible)
{
	project p;
	tu_result r;

	project_init(&p);
	tu_cairn(&r, p.dir, "migrate", "down", "--to", "0", "--as-far-as-possible", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "down to version 4"), "%s", r.err);
	ck_assert_msg(tu_contains(r.out, "rolled back 1 migration"), "%s", r.out);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 4);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 't5'"), 0);

	/* now the newest (0004) has no down file: nothing can be done */
	tu_cairn(&r, p.dir, "migrate", "down", "--as-far-as-possible", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "nothing can be rolled back"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 4);

	/* nothing in the way: the option changes nothing */
	tu_cairn(&r, p.dir, "migrate", "up", "--as-far-as-possible", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("partial_down");
	TCase *tc = tcase_create("partial_down");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_refusal_names_every_missing_down);
	tcase_add_test(tc, test_as_far_as_possible);
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
