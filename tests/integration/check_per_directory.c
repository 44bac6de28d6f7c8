/*
 * check_per_directory.c - `versions: per-directory` (issue 13): each
 * subdirectory of the migrations directory is its own sequence, as in
 * Boundary's migrations/0/01_init.up.sql, migrations/1/01_x.up.sql; the
 * version is "<dir>/<number>", ordered by directory (numerically when
 * both are numbers) then number.  Without the key, the same numbers in
 * two directories stay a duplicate, as before.
 *
 * Covers migrate up/down --to, status, plan, cairn new, hooks (exec
 * environment and stdin JSON) and a webhook, with the real cairn binary,
 * real git repositories and a real PostgreSQL server.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_receiver.h"
#include "project.h"
#include "testutil.h"

typedef tu_project project;
#define project_dispose tu_project_dispose
#define assert_q tu_project_assert_q

static void project_init(project *p, const char *extra)
{
	tu_project_init(p, "perdir", extra);
}

static void commit(project *p, const char *msg)
{
	free(tu_git_commit(p->dir, "Bo Undary", "bo@example.com",
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

#define APPLIED_ORDER \
	"SELECT string_agg(version, ',' ORDER BY id) FROM cairn.audit " \
	"WHERE outcome = 'applied'"
#define ROLLED_BACK_ORDER \
	"SELECT string_agg(version, ',' ORDER BY id) FROM cairn.audit " \
	"WHERE outcome = 'rolled_back'"

/* db/migrations/<dir>/<num>_<table>.up.sql and its down file. */
static void pair(project *p, const char *dir, const char *num,
		 const char *table)
{
	char rel[256], sql[256];

	snprintf(rel, sizeof(rel), "db/migrations/%s/%s_%s.up.sql", dir, num,
		 table);
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (id int);\n", table);
	tu_write(p->dir, rel, sql);
	snprintf(rel, sizeof(rel), "db/migrations/%s/%s_%s.down.sql", dir,
		 num, table);
	snprintf(sql, sizeof(sql), "DROP TABLE %s;\n", table);
	tu_write(p->dir, rel, sql);
}

/* Boundary's tree: directories 0, 1, 2, 10, each numbering from 01. */
static void boundary_tree(project *p)
{
	pair(p, "0", "01", "init");
	pair(p, "0", "02", "users");
	pair(p, "1", "01", "hosts");
	pair(p, "10", "01", "late");
	pair(p, "2", "01", "targets");
	pair(p, "2", "02", "sessions");
}

START_TEST(test_boundary_layout)
{
	project p;
	tu_result r;
	char *log;

	project_init(&p, "versions: per-directory\n"
			 "hooks:\n"
			 "  post_execute:\n"
			 "    - run: \"printf '%s\\\\n' \\\"$CAIRN_MIGRATION_VERSION\\\" >> hook.log; cat >> ctx.jsonl; echo >> ctx.jsonl\"\n");
	boundary_tree(&p);
	commit(&p, "boundary");
	run_ok(&p, "validate", "--no-db", NULL, NULL);

	run_ok(&p, "migrate", "up", "--to", "1/1");
	assert_q(&p, APPLIED_ORDER, "0/1,0/2,1/1");
	run_ok(&p, "migrate", "up", NULL, NULL);
	assert_q(&p, APPLIED_ORDER, "0/1,0/2,1/1,2/1,2/2,10/1");
	log = tu_read(p.dir, "hook.log");
	ck_assert_str_eq(log, "0/1\n0/2\n1/1\n2/1\n2/2\n10/1\n");
	free(log);
	log = tu_read(p.dir, "ctx.jsonl");
	ck_assert_msg(tu_contains(log, "\"version\":\"2/2\"") &&
		      tu_contains(log, "\"version_text\":\"2/02\""), "%s", log);
	free(log);

	/* status in version order, with each directory's files */
	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	{
		const char *a = strstr(r.out, "2/02"), *b = strstr(r.out, "10/01");

		ck_assert_msg(a && b && a < b, "%s", r.out);
	}
	ck_assert_msg(tu_contains(r.out, "6 applied"), "%s", r.out);
	tu_result_dispose(&r);

	/* down to 1/1: 10/1, 2/2, 2/1 in that order */
	run_ok(&p, "migrate", "down", "--to", "1/01");
	assert_q(&p, ROLLED_BACK_ORDER, "10/1,2/2,2/1");
	assert_q(&p, "SELECT string_agg(version, ',' ORDER BY version) "
		     "FROM cairn.migrations", "0/1,0/2,1/1");
	run_ok(&p, "audit", "verify", NULL, NULL);
	project_dispose(&p);
}
END_TEST

/* Without the key, 0/01 and 1/01 are both version 1: a duplicate. */
START_TEST(test_global_versions_collide)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	boundary_tree(&p);
	commit(&p, "boundary");
	tu_cairn(&r, p.dir, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "duplicate-version") &&
		      tu_contains(r.out, "db/migrations/1/01_hosts.up.sql"),
		      "%s", r.out);
	tu_result_dispose(&r);

	/* versions: global says the same; an unknown value is refused */
	project_dispose(&p);
	project_init(&p, "versions: global\n");
	boundary_tree(&p);
	commit(&p, "boundary");
	tu_cairn(&r, p.dir, "validate", "--no-db", NULL);
	ck_assert_int_eq(r.status, 1);
	tu_result_dispose(&r);
	project_dispose(&p);
	project_init(&p, "versions: per-folder\n");
	boundary_tree(&p);
	commit(&p, "boundary");
	tu_cairn(&r, p.dir, "validate", "--no-db", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "per-folder") &&
		      tu_contains(r.err, "per-directory"), "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* A directory name that cannot be part of a version is reported. */
START_TEST(test_bad_directory_name)
{
	project p;
	tu_result r;

	project_init(&p, "versions: per-directory\n");
	pair(&p, "0", "01", "init");
	pair(&p, "a b", "01", "spaced");
	commit(&p, "bad dir");
	tu_cairn(&r, p.dir, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "bad-name") &&
		      tu_contains(r.out, "'a b' cannot be part of a version"),
		      "%s", r.out);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* cairn new: the next number in the highest directory; --version D/N. */
START_TEST(test_new_per_directory)
{
	project p;
	tu_result r;

	project_init(&p, "versions: per-directory\n");
	boundary_tree(&p);
	commit(&p, "boundary");
	tu_cairn(&r, p.dir, "new", "more", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "db/migrations/10/02_more.up.sql"),
		      "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "new", "--version", "11/01", "next_dir", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "db/migrations/11/01_next_dir.up.sql"),
		      "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "new", "--version", "2/2", "taken", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "exists already"), "%s", r.err);
	tu_result_dispose(&r);
	tu_write(p.dir, "db/migrations/10/02_more.up.sql", "CREATE TABLE more (id int);\n");
	tu_write(p.dir, "db/migrations/11/01_next_dir.up.sql", "CREATE TABLE next_dir (id int);\n");
	run_ok(&p, "validate", "--no-db", "--worktree", NULL);
	run_ok(&p, "migrate", "up", "--worktree", NULL);
	assert_q(&p, APPLIED_ORDER, "0/1,0/2,1/1,2/1,2/2,10/1,10/2,11/1");
	project_dispose(&p);
}
END_TEST

/* plan A..B and a webhook carry the per-directory version as text. */
START_TEST(test_plan_and_webhook)
{
	project p;
	tu_result r;
	tu_http_receiver *rx = tu_http_start();
	char *hook = tu_http_url(rx, "/hook");
	char extra[1024];
	const tu_http_request *req;

	snprintf(extra, sizeof(extra),
		 "versions: per-directory\n"
		 "hooks:\n"
		 "  post_execute:\n"
		 "    - webhook: \"%s\"\n", hook);
	project_init(&p, extra);
	pair(&p, "0", "01", "init");
	commit(&p, "first");
	ck_assert_int_eq(tu_sh(p.dir, "git tag v1"), 0);
	pair(&p, "1", "01", "hosts");
	commit(&p, "second");
	ck_assert_int_eq(tu_sh(p.dir, "git tag v2"), 0);
	tu_cairn(&r, p.dir, "plan", "v1..v2", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "1/01") && !tu_contains(r.out, "0/01"),
		      "%s", r.out);
	tu_result_dispose(&r);
	run_ok(&p, "migrate", "up", NULL, NULL);
	ck_assert_uint_eq(tu_http_wait(rx, 2, 30000), 2);
	req = tu_http_request_at(rx, 1);
	ck_assert_msg(tu_contains(req->body, "\"version\":\"1/1\""), "%s",
		      req->body);
	tu_http_stop(rx);
	free(hook);
	project_dispose(&p);
}
END_TEST

/*
 * The pre-push check with per-directory versions: a new directory's
 * 01 passes (it is no duplicate of 0/01), an edit of a pushed one is
 * refused.
 */
START_TEST(test_prepush_per_directory)
{
	project p;
	tu_result r;
	char *remote = tu_mkdtemp();

	project_init(&p, "versions: per-directory\n");
	pair(&p, "0", "01", "init");
	commit(&p, "base");
	ck_assert_int_eq(tu_sh(remote, "git init -q --bare -b main ."), 0);
	ck_assert_int_eq(tu_sh(p.dir, "git remote add origin '%s' && "
			       "git push -q origin main", remote), 0);
	run_ok(&p, "githooks", "install", NULL, NULL);

	pair(&p, "1", "01", "hosts");
	commit(&p, "next directory");
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
	ck_assert_msg(r.status == 0, "push: %s%s", r.out, r.err);
	tu_result_dispose(&r);

	tu_write(p.dir, "db/migrations/1/01_hosts.up.sql",
		 "CREATE TABLE hosts (id bigint);\n");
	commit(&p, "edit");
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
	ck_assert_msg(r.status != 0, "push passed: %s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "edited-after-push") &&
		      tu_contains(r.err, "db/migrations/1/01_hosts.up.sql"),
		      "%s", r.err);
	tu_result_dispose(&r);
	tu_rmrf(remote);
	free(remote);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("per_directory");
	TCase *tc = tcase_create("per_directory");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_boundary_layout);
	tcase_add_test(tc, test_global_versions_collide);
	tcase_add_test(tc, test_bad_directory_name);
	tcase_add_test(tc, test_new_per_directory);
	tcase_add_test(tc, test_plan_and_webhook);
	tcase_add_test(tc, test_prepush_per_directory);
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
