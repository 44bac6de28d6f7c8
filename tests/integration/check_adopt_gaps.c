/*
 * check_adopt_gaps.c - gaps left by the adoption features of issue 13
 * (dotted versions, per-directory versions, repeatables): the real cairn
 * binary on real git repositories and a real PostgreSQL server, a fresh
 * database per test.
 *
 * Covered: `plan A..B` lists repeatables changed in the range.
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

static void project_init(project *p, const char *extra)
{
	char yaml[4096];

	p->url = tu_db_create("gaps");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "%s"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n",
		 extra ? extra : "", p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static void commit(project *p)
{
	free(tu_git_commit(p->dir, "Gail Gap", "gail@example.com",
			   1700000000L, "migrations"));
}

static void run_ok(project *p, tu_result *r, const char *a, const char *b,
		   const char *c)
{
	tu_cairn(r, p->dir, a, b, c, NULL);
	ck_assert_msg(r->status == 0, "cairn %s %s %s: %d\n%s%s", a,
		      b ? b : "", c ? c : "", r->status, r->out, r->err);
}

/* plan A..B: repeatables added, changed and removed in the range. */
START_TEST(test_plan_range_repeatables)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/views/v_same.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_same AS SELECT * FROM t;\n");
	tu_write(p.dir, "db/migrations/views/v_edit.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_edit AS SELECT * FROM t;\n");
	tu_write(p.dir, "db/migrations/views/v_gone.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_gone AS SELECT * FROM t;\n");
	commit(&p);
	ck_assert_int_eq(tu_sh(p.dir, "git tag v1"), 0);
	tu_write(p.dir, "db/migrations/0002_u.up.sql", "CREATE TABLE u (id int);\n");
	tu_write(p.dir, "db/migrations/views/v_edit.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_edit AS SELECT id, 2 AS two FROM t;\n");
	tu_write(p.dir, "db/migrations/views/v_new.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_new AS SELECT * FROM t;\n");
	ck_assert_int_eq(tu_sh(p.dir, "git rm -q db/migrations/views/v_gone.repeatable.sql"), 0);
	commit(&p);
	ck_assert_int_eq(tu_sh(p.dir, "git tag v2"), 0);

	run_ok(&p, &r, "plan", "v1..v2", NULL);
	ck_assert_msg(tu_contains(r.out, "added    0002   u") &&
		      tu_contains(r.out, "changed  R      v_edit") &&
		      tu_contains(r.out, "added    R      v_new") &&
		      tu_contains(r.out, "removed  R      v_gone") &&
		      !tu_contains(r.out, "v_same") &&
		      tu_contains(r.out, "Gail Gap"), "%s", r.out);
	tu_result_dispose(&r);

	run_ok(&p, &r, "plan", "v1..v2", "--format=json");
	ck_assert_msg(tu_contains(r.out, "\"repeatable\": true") &&
		      tu_contains(r.out, "\"repeatable\": false") &&
		      tu_contains(r.out, "\"name\": \"v_edit\"") &&
		      tu_contains(r.out, "\"name\": \"v_new\"") &&
		      tu_contains(r.out, "\"name\": \"v_gone\"") &&
		      !tu_contains(r.out, "v_same"), "%s", r.out);
	tu_result_dispose(&r);

	run_ok(&p, &r, "plan", "v1..v2", "--format=markdown");
	ck_assert_msg(tu_contains(r.out, "v_edit") && tu_contains(r.out, "v_new") &&
		      tu_contains(r.out, "v_gone") && tu_contains(r.out, "epeatable"),
		      "%s", r.out);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("adopt_gaps");
	TCase *tc = tcase_create("adopt_gaps");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_plan_range_repeatables);
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
