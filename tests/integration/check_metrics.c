/*
 * check_metrics.c - the `metrics` built-in's counts against what a real
 * run committed: the real cairn binary, a real git repository made here
 * and a fresh database per test on tests/run's throwaway server.
 *
 * Each test reads the counts twice, from the run's log line and from the
 * Prometheus file (metrics_file), and checks them against the database:
 * the tracking rows and the tables the migrations create.  Covered: a
 * plain run and a run failing at its second migration; a
 * --single-transaction run that commits, and one that rolls back (every
 * migration that ran in it is failed, none applied, success below 100%);
 * a hook failing after COMMIT, one migration at a time and after a
 * single transaction (the committed migrations stay applied); the same
 * for `migrate down` (rolled back stays rolled back); metrics limited by
 * an only: filter counts what it sees, not what the engine counts.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

/*
 * A repository whose cairn.yaml sends development to a fresh database,
 * with extra_hooks (YAML lines under hooks:, listed before metrics so
 * that they run first at each event) and the metrics built-in writing
 * metrics.prom, with more of its settings in metrics_opts (YAML lines).
 */
static void project_init(project *p, const char *extra_hooks,
			 const char *metrics_opts)
{
	char yaml[4096];

	p->url = tu_db_create("metrics");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "hooks:\n"
		 "%s"
		 "  post_complete:\n"
		 "    - builtin: metrics\n"
		 "      metrics_file: metrics.prom\n"
		 "%s",
		 p->url, extra_hooks ? extra_hooks : "",
		 metrics_opts ? metrics_opts : "");
	tu_write(p->dir, "cairn.yaml", yaml);
	tu_write(p->dir, ".gitignore", "metrics.prom\n");
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

/* Migration 000<i>_t<i> creates table t<i> (and fails when asked). */
static void add_migration(project *p, int i, bool fails)
{
	char rel[128], sql[256];

	snprintf(rel, sizeof(rel), "db/migrations/000%d_t%d.up.sql", i, i);
	snprintf(sql, sizeof(sql), "CREATE TABLE t%d (id int);\n%s", i,
		 fails ? "SELECT 1/0;\n" : "");
	tu_write(p->dir, rel, sql);
	snprintf(rel, sizeof(rel), "db/migrations/000%d_t%d.down.sql", i, i);
	snprintf(sql, sizeof(sql), "DROP TABLE t%d;\n", i);
	tu_write(p->dir, rel, sql);
}

static void commit(project *p)
{
	free(tu_git_commit(p->dir, "Ann", "ann@example.com", 1700000000,
			   "migrations"));
}

static long count_of(project *p, const char *sql)
{
	char *v = tu_db_value(p->url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* Tracking rows with status 'applied'. */
static long tracked(project *p)
{
	return count_of(p, "SELECT count(*) FROM cairn.migrations "
			   "WHERE status = 'applied'");
}

/* Tables t<i> that exist. */
static long tables(project *p)
{
	return count_of(p, "SELECT count(*) FROM pg_tables WHERE "
			   "schemaname = 'public' AND tablename ~ '^t[0-9]+$'");
}

/* Runs cairn migrate with up to three arguments (NULL ends them). */
static void migrate(tu_result *r, project *p, const char *a1, const char *a2,
		    const char *a3)
{
	/* a fresh file per run: what is read is this run's */
	char *prom = NULL;

	if (asprintf(&prom, "%s/metrics.prom", p->dir) < 0)
		abort();
	unlink(prom);
	free(prom);
	tu_cairn(r, p->dir, "migrate", a1, a2, a3, NULL);
}

/*
 * The run printed one metrics line saying exactly `line`, and the
 * Prometheus file agrees: applied, failed, rolled back, the count by
 * directory, success ratio.
 */
static void expect(const tu_result *r, project *p, const char *line,
		   int applied, int failed, int rolled_back, const char *ratio)
{
	char want[256];
	char *prom = tu_read(p->dir, "metrics.prom");

	ck_assert_msg(tu_contains(r->out, line) || tu_contains(r->err, line),
		      "want '%s'\nstdout:\n%s\nstderr:\n%s", line, r->out,
		      r->err);
	ck_assert_msg(prom != NULL, "no metrics.prom; stderr:\n%s", r->err);
	snprintf(want, sizeof(want),
		 "cairn_migrations_total{environment=\"development\","
		 "outcome=\"applied\"} %d\n", applied);
	ck_assert_msg(tu_contains(prom, want), "want %s in\n%s", want, prom);
	snprintf(want, sizeof(want),
		 "cairn_migrations_total{environment=\"development\","
		 "outcome=\"failed\"} %d\n", failed);
	ck_assert_msg(tu_contains(prom, want), "want %s in\n%s", want, prom);
	snprintf(want, sizeof(want),
		 "cairn_migrations_total{environment=\"development\","
		 "outcome=\"rolled_back\"} %d\n", rolled_back);
	ck_assert_msg(tu_contains(prom, want), "want %s in\n%s", want, prom);
	/* every migration here is in the top directory, counted once */
	snprintf(want, sizeof(want),
		 "cairn_migrations_by_directory{environment=\"development\","
		 "directory=\".\"} %d\n", applied + failed + rolled_back);
	ck_assert_msg(tu_contains(prom, want), "want %s in\n%s", want, prom);
	snprintf(want, sizeof(want),
		 "cairn_run_success_ratio{environment=\"development\"} %s\n",
		 ratio);
	ck_assert_msg(tu_contains(prom, want), "want %s in\n%s", want, prom);
	free(prom);
}

START_TEST(test_plain_runs)
{
	project p;
	tu_result r;

	project_init(&p, NULL, NULL);
	add_migration(&p, 1, false);
	add_migration(&p, 2, false);
	commit(&p);
	migrate(&r, &p, "up", NULL, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_int_eq(tracked(&p), 2);
	expect(&r, &p, "metrics: 2 applied, 0 failed, 0 rolled back, "
	       "success 100.0%", 2, 0, 0, "1.0000");
	tu_result_dispose(&r);

	/* the next one fails: one applied, one failed */
	add_migration(&p, 3, false);
	add_migration(&p, 4, true);
	commit(&p);
	migrate(&r, &p, "up", NULL, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_eq(tracked(&p), 3);
	ck_assert_int_eq(tables(&p), 3);
	expect(&r, &p, "metrics: 1 applied, 1 failed, 0 rolled back, "
	       "success 50.0%", 1, 1, 0, "0.5000");
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_single_transaction_commits)
{
	project p;
	tu_result r;

	project_init(&p, NULL, NULL);
	for (int i = 1; i <= 3; i++)
		add_migration(&p, i, false);
	commit(&p);
	migrate(&r, &p, "up", "--single-transaction", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_int_eq(tracked(&p), 3);
	expect(&r, &p, "metrics: 3 applied, 0 failed, 0 rolled back, "
	       "success 100.0%", 3, 0, 0, "1.0000");
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_single_transaction_rolled_back)
{
	project p;
	tu_result r;

	/* 0002 fails: 0001 ran in the same transaction, 0003 never ran */
	project_init(&p, NULL, NULL);
	add_migration(&p, 1, false);
	add_migration(&p, 2, true);
	add_migration(&p, 3, false);
	commit(&p);
	migrate(&r, &p, "up", "--single-transaction", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_eq(tracked(&p), 0);
	ck_assert_int_eq(tables(&p), 0);
	expect(&r, &p, "metrics: 0 applied, 2 failed, 0 rolled back, "
	       "success 0.0%", 0, 2, 0, "0.0000");
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* An exec hook that fails after each migration's COMMIT. */
static const char fail_after_up[] =
	"  post_execute:\n"
	"    - run: [\"false\"]\n"
	"      name: after\n";

START_TEST(test_hook_fails_after_commit)
{
	project p;
	tu_result r;

	project_init(&p, fail_after_up, NULL);
	add_migration(&p, 1, false);
	add_migration(&p, 2, false);
	commit(&p);
	migrate(&r, &p, "up", NULL, NULL);
	ck_assert_int_eq(r.status, 1);
	/* 0001 committed; the hook's failure stopped the run before 0002 */
	ck_assert_int_eq(tracked(&p), 1);
	ck_assert_int_eq(tables(&p), 1);
	expect(&r, &p, "metrics: 1 applied, 0 failed, 0 rolled back, "
	       "success 100.0%", 1, 0, 0, "1.0000");
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_hook_fails_after_single_transaction)
{
	project p;
	tu_result r;

	project_init(&p, fail_after_up, NULL);
	for (int i = 1; i <= 3; i++)
		add_migration(&p, i, false);
	commit(&p);
	migrate(&r, &p, "up", "--single-transaction", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_eq(tracked(&p), 3);
	expect(&r, &p, "metrics: 3 applied, 0 failed, 0 rolled back, "
	       "success 100.0%", 3, 0, 0, "1.0000");
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_hook_fails_after_rollback)
{
	project p;
	tu_result r;

	project_init(&p, "  post_rollback:\n"
			 "    - run: [\"false\"]\n"
			 "      name: after\n", NULL);
	add_migration(&p, 1, false);
	add_migration(&p, 2, false);
	commit(&p);
	migrate(&r, &p, "up", NULL, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	migrate(&r, &p, "down", "--steps", "2");
	ck_assert_int_eq(r.status, 1);
	/* 0002 was rolled back and committed; the hook stopped the rest */
	ck_assert_int_eq(tracked(&p), 1);
	ck_assert_int_eq(tables(&p), 1);
	expect(&r, &p, "metrics: 0 applied, 0 failed, 1 rolled back, "
	       "success 100.0%", 0, 0, 1, "1.0000");
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_only_filter)
{
	project p;
	tu_result r;

	/* metrics sees 0002 only; 0001 committed, 0002 failed */
	project_init(&p, NULL, "      only: { migrations: [\"*_t2\"] }\n");
	add_migration(&p, 1, false);
	add_migration(&p, 2, true);
	commit(&p);
	migrate(&r, &p, "up", NULL, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_eq(tracked(&p), 1);
	expect(&r, &p, "metrics: 0 applied, 1 failed, 0 rolled back, "
	       "success 0.0%", 0, 1, 0, "0.0000");
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("counts");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_plain_runs);
	tcase_add_test(tc, test_single_transaction_commits);
	tcase_add_test(tc, test_single_transaction_rolled_back);
	tcase_add_test(tc, test_hook_fails_after_commit);
	tcase_add_test(tc, test_hook_fails_after_single_transaction);
	tcase_add_test(tc, test_hook_fails_after_rollback);
	tcase_add_test(tc, test_only_filter);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
