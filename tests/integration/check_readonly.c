/*
 * check_readonly.c - the read-only commands never write to the
 * database: the real cairn binary, a real git repository made here, a
 * real PostgreSQL server (fresh databases per test).
 *
 * validate, status, plan, audit log|verify|export, migrate up|down
 * --dry-run and the pre-push and post-checkout hooks run against a
 * database where cairn's schema does not exist (they report an empty
 * history and leave no schema behind), and against a target made
 * read-only with default_transaction_read_only, with and without cairn's
 * tables (they succeed).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/schema.h"
#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
	char *c1, *c2; /* the two commits: 0001, then 0002 */
} project;

static void project_init(project *p)
{
	char yaml[2048];

	p->url = tu_db_create("ro");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "githooks:\n"
		 "  pre_push: { environment: development }\n"
		 "hooks: {}\n",
		 p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
	tu_write(p->dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	tu_write(p->dir, "db/migrations/0001_a.down.sql", "DROP TABLE a;\n");
	p->c1 = tu_git_commit(p->dir, "Ann", "ann@example.com", 1700000000, "a");
	tu_write(p->dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	tu_write(p->dir, "db/migrations/0002_b.down.sql", "DROP TABLE b;\n");
	p->c2 = tu_git_commit(p->dir, "Bob", "bob@example.com", 1700000100, "b");
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
	free(p->c1);
	free(p->c2);
}

static long count_of(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

static long cairn_schemas(const project *p)
{
	return count_of(p->url, "SELECT count(*) FROM pg_namespace "
				"WHERE nspname = 'cairn'");
}

static void make_read_only(const project *p)
{
	char *db = tu_db_value(p->url, "SELECT current_database()");
	char sql[256];

	ck_assert_ptr_nonnull(db);
	snprintf(sql, sizeof(sql),
		 "ALTER DATABASE %s SET default_transaction_read_only = on", db);
	ck_assert_int_eq(tu_db_exec(p->url, sql), 0);
	free(db);
	/* new connections see it */
	ck_assert_int_eq(count_of(p->url, "SELECT count(*) WHERE "
			 "current_setting('default_transaction_read_only') = 'on'"), 1);
}

/* What one read-only command prints when it succeeds. */
struct expect {
	const char *out; /* on stdout, or NULL */
	const char *err; /* on stderr, or NULL */
};

/*
 * Runs every read-only command; each must exit 0 and print what `e`
 * says.  With `absent`, cairn's schema must still not exist after each.
 */
static void run_read_only(const project *p, bool absent,
			  const char *status_summary)
{
	char push[256];
	const char *const env[] = { NULL };
	struct {
		const char *args[8];
		const char *in;
		struct expect e;
	} cmds[] = {
		{ { "validate" }, NULL, { NULL, NULL } },
		{ { "status" }, NULL, { status_summary, NULL } },
		{ { "status", "--format", "json" }, NULL, { "\"pending\"", NULL } },
		{ { "plan" }, NULL, { "pending migration", NULL } },
		{ { "audit", "log" }, NULL,
		  { absent ? "no audit rows yet" : "applied", NULL } },
		{ { "audit", "verify" }, NULL, { "audit chain ok", NULL } },
		{ { "audit", "export" }, NULL, { NULL, NULL } },
		{ { "migrate", "up", "--dry-run" }, NULL, { NULL, NULL } },
		{ { "migrate", "down", "--dry-run" }, NULL, { NULL, NULL } },
		{ { "githook", "pre-push", "origin", "x" }, push, { NULL, NULL } },
		{ { "githook", "post-checkout", p->c2, p->c1, "1" }, NULL,
		  { NULL, NULL } },
	};

	snprintf(push, sizeof(push), "refs/heads/main %s refs/heads/main %s\n",
		 p->c2, "0000000000000000000000000000000000000000");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *argv[12];
		size_t n = 0;
		tu_result r;

		argv[n++] = tu_cairn_bin();
		for (size_t k = 0; cmds[i].args[k]; k++)
			argv[n++] = cmds[i].args[k];
		argv[n] = NULL;
		tu_run(&r, p->dir, argv, env, cmds[i].in);
		ck_assert_msg(r.status == 0, "cairn %s %s: exit %d\n%s%s",
			      cmds[i].args[0], cmds[i].args[1] ? cmds[i].args[1] : "",
			      r.status, r.out, r.err);
		if (cmds[i].e.out)
			ck_assert_msg(tu_contains(r.out, cmds[i].e.out),
				      "cairn %s: no '%s' in:\n%s", cmds[i].args[0],
				      cmds[i].e.out, r.out);
		ck_assert_msg(!tu_contains(r.err, "read-only"),
			      "cairn %s: %s", cmds[i].args[0], r.err);
		tu_result_dispose(&r);
		if (absent)
			ck_assert_msg(cairn_schemas(p) == 0,
				      "cairn %s %s created cairn's schema",
				      cmds[i].args[0],
				      cmds[i].args[1] ? cmds[i].args[1] : "");
	}
}

START_TEST(test_absent_schema_stays_absent)
{
	project p;

	project_init(&p);
	ck_assert_int_eq(cairn_schemas(&p), 0);
	run_read_only(&p, true, "0 applied, 2 pending");
	project_dispose(&p);
}
END_TEST

START_TEST(test_read_only_target_without_schema)
{
	project p;

	project_init(&p);
	make_read_only(&p);
	run_read_only(&p, true, "0 applied, 2 pending");
	project_dispose(&p);
}
END_TEST

START_TEST(test_read_only_target_with_history)
{
	project p;
	tu_result r;

	project_init(&p);
	tu_cairn(&r, p.dir, "migrate", "up", "--to", "1", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	make_read_only(&p);
	run_read_only(&p, false, "1 applied, 1 pending");
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM cairn.migrations"), 1);
	project_dispose(&p);
}
END_TEST

/* A real run still creates cairn's tables on first use. */
START_TEST(test_migrate_creates_schema)
{
	project p;
	tu_result r;

	project_init(&p);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM cairn.migrations "
					 "WHERE status = 'applied'"), 2);
	ck_assert_int_eq(count_of(p.url, "SELECT version FROM cairn.schema_version"),
			 CAIRN_SCHEMA_VERSION);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("readonly");
	TCase *tc = tcase_create("readonly");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_absent_schema_stays_absent);
	tcase_add_test(tc, test_read_only_target_without_schema);
	tcase_add_test(tc, test_read_only_target_with_history);
	tcase_add_test(tc, test_migrate_creates_schema);
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
