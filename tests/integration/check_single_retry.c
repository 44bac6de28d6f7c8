/*
 * check_single_retry.c - `migrate up --single-transaction` behind a
 * table lock (issue 11, item 1): the whole transaction is retried on a
 * lock timeout the way a single migration is.  The real cairn binary,
 * real git repositories made here, a fresh database per test on
 * tests/run's server.
 *
 * The scene: three pending migrations applied in one transaction; a
 * report holds t (a table only the second one alters) in an open
 * transaction.  The first try applies migration 1, then waits for t,
 * times out (SQLSTATE 55P03) and rolls back everything; cairn audits the
 * try (lock_retry, with the blocker), pauses, and runs the whole
 * transaction again.  Once the report ends, a try gets through and every
 * migration is applied exactly once.  With --no-retry (or when the tries
 * run out) the run fails cleanly: nothing applied, every try audited, the
 * failure audited, exit 1 as the per-migration path.
 *
 * Every wait polls for a condition (the audit table), never a fixed
 * sleep; the timeouts are small, set through cairn.yaml (1 s where the
 * test needs the blocker seen in the one try, which takes the monitor
 * connection on a busy machine).
 */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

static void project_init(project *p, const char *env_extra,
			 const char *hooks_yaml)
{
	char yaml[4096];

	p->url = tu_db_create("single_retry");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "%s"
		 "hooks:\n%s",
		 p->url, env_extra ? env_extra : "",
		 hooks_yaml ? hooks_yaml : "  pre_validate: []\n");
	tu_write(p->dir, "cairn.yaml", yaml);
	ck_assert_int_eq(tu_db_exec(p->url,
		"CREATE TABLE t (id int, note text);"
		"INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 100) g"), 0);
	/* 1 and 3 never touch t; 2 needs it under ACCESS EXCLUSIVE */
	tu_write(p->dir, "db/migrations/0001_first.up.sql",
		 "CREATE TABLE first (x int);\n"
		 "INSERT INTO first VALUES (1);\n");
	tu_write(p->dir, "db/migrations/0002_add_c.up.sql",
		 "ALTER TABLE t ADD COLUMN c int;\n");
	tu_write(p->dir, "db/migrations/0003_third.up.sql",
		 "CREATE TABLE third (y int);\n");
	free(tu_git_commit(p->dir, "Ann", "ann@example.com", 1700000000,
			   "three migrations"));
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static long count_of(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* A session the test keeps open; application_name names it. */
static PGconn *session(const char *url, const char *appname)
{
	const char *keys[] = { "dbname", "application_name", NULL };
	const char *vals[] = { url, appname, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	return c;
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK,
		      "%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

/* A report holding t in an open transaction. */
static PGconn *hold_t(const char *url)
{
	PGconn *c = session(url, "nightly-report");

	exec_ok(c, "BEGIN");
	exec_ok(c, "SELECT count(*) FROM t");
	return c;
}

static pid_t spawn_cairn(const char *dir, const char *outfile,
			 const char *const *args)
{
	pid_t pid = fork();

	if (pid == 0) {
		const char *argv[16];
		size_t n = 0;

		if (chdir(dir) < 0 || !freopen(outfile, "w", stdout))
			_exit(126);
		dup2(1, 2);
		argv[n++] = tu_cairn_bin();
		for (size_t i = 0; args[i] && n < 15; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert_msg(pid > 0, "fork failed");
	return pid;
}

/*
 * Waits up to timeout_ms for pid to exit; its exit code, 128+signal, or
 * -1 when it is still running (then it is killed).
 */
static int wait_exit(pid_t pid, int timeout_ms)
{
	int st;

	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
					       128 + WTERMSIG(st);
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits (up to 30 s) for at least n lock_retry audit rows. */
static bool wait_lock_retry_rows(const char *url, long n)
{
	for (int64_t end = now_ms() + 30000; now_ms() < end;) {
		if (count_of(url,
			"SELECT count(*) FROM pg_tables WHERE schemaname = 'cairn' "
			"AND tablename = 'audit'") == 1 &&
		    count_of(url,
			"SELECT count(*) FROM cairn.audit "
			"WHERE outcome = 'lock_retry'") >= n)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

static char *run_output(project *p)
{
	char *s = tu_read(p->dir, "run.out");

	return s ? s : strdup("");
}

/* Nothing of the three migrations is in the database. */
static void assert_nothing_applied(const char *url)
{
	ck_assert_int_eq(count_of(url, "SELECT count(*) FROM cairn.migrations"), 0);
	ck_assert_int_eq(count_of(url,
		"SELECT count(*) FROM pg_tables WHERE tablename IN ('first', 'third')"), 0);
	ck_assert_int_eq(count_of(url,
		"SELECT count(*) FROM information_schema.columns "
		"WHERE table_name = 't' AND column_name = 'c'"), 0);
}

/*
 * The report ends after a try gave up: the next try of the whole
 * transaction gets through, each migration is applied once, the tries
 * that gave up are audited with the blocker against migration 2, and an
 * outside-transaction pre_execute hook fired once per migration.
 */
START_TEST(test_single_transaction_retried)
{
	project p;
	PGconn *report;
	const char *args[] = { "migrate", "up", "--single-transaction", NULL };
	char *out, *o, *pre, sql[512];
	pid_t pid;
	int st, rpid;
	long tries;

	project_init(&p,
		     "    statement_lock_timeout: 500ms\n"
		     "    lock_retries: 50\n"
		     "    lock_retry_delay: 50ms\n",
		     "  pre_execute:\n"
		     "    - run: \"echo fired >> pre.log\"\n");
	report = hold_t(p.url);
	rpid = PQbackendPID(report);
	ck_assert_int_ge(asprintf(&out, "%s/run.out", p.dir), 0);
	pid = spawn_cairn(p.dir, out, args);
	ck_assert_msg(wait_lock_retry_rows(p.url, 2),
		      "no try of the single transaction was audited");
	exec_ok(report, "COMMIT");
	st = wait_exit(pid, 60000);
	o = run_output(&p);
	ck_assert_msg(st == 0, "cairn exited %d:\n%s", st, o);
	ck_assert_msg(tu_contains(o, "retrying"), "%s", o);
	/* every migration exactly once, the three changes in place */
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.migrations WHERE status = 'applied'"), 3);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM first"), 1);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM pg_tables WHERE tablename = 'third'"), 1);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM information_schema.columns "
		"WHERE table_name = 't' AND column_name = 'c'"), 1);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'applied'"), 3);
	/* each try that gave up: migration 2, the report, numbered 1, 2... */
	tries = count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry'");
	ck_assert_int_ge(tries, 2);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry' "
		 "AND version = '2' AND detail->>'single_transaction' = 'true' "
		 "AND detail->'blockers'->0->>'pid' = '%d'", rpid);
	/* the blocker is seen once a try has waited a moment: most tries */
	ck_assert_int_ge(count_of(p.url, sql), 1);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry' "
		"AND version = '2'"), tries);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(DISTINCT detail->>'attempt') FROM cairn.audit "
		"WHERE outcome = 'lock_retry'"), tries);
	ck_assert_int_eq(count_of(p.url,
		"SELECT max((detail->>'attempt')::int) FROM cairn.audit "
		"WHERE outcome = 'lock_retry'"), tries);
	/* the hook outside the transaction: once per migration, not per try */
	pre = tu_read(p.dir, "pre.log");
	ck_assert_ptr_nonnull(pre);
	ck_assert_msg(!strcmp(pre, "fired\nfired\nfired\n"), "pre.log:\n%s", pre);
	free(pre);
	PQfinish(report);
	free(o);
	free(out);
	project_dispose(&p);
}
END_TEST

/*
 * --no-retry: one try, audited with the blocker, then a clean failure
 * (exit 1 as the per-migration path): nothing applied, not even
 * migration 1, and the failure audited.
 */
START_TEST(test_single_transaction_no_retry)
{
	project p;
	PGconn *report;
	const char *args[] = { "migrate", "up", "--single-transaction",
			       "--no-retry", NULL };
	char *out, *o;
	pid_t pid;
	int st;

	project_init(&p,
		     "    statement_lock_timeout: 1s\n"
		     "    lock_retries: 50\n"
		     "    lock_retry_delay: 50ms\n", NULL);
	report = hold_t(p.url);
	ck_assert_int_ge(asprintf(&out, "%s/run.out", p.dir), 0);
	pid = spawn_cairn(p.dir, out, args);
	st = wait_exit(pid, 60000);
	o = run_output(&p);
	ck_assert_msg(st == 1, "cairn exited %d:\n%s", st, o);
	ck_assert_msg(tu_contains(o, "lock timeout") &&
		      tu_contains(o, "nightly-report"), "%s", o);
	assert_nothing_applied(p.url);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry' "
		"AND version = '2' AND (detail->>'attempts')::int = 1 "
		"AND detail->'retry_in_ms' = 'null'::jsonb"), 1);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry'"), 1);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'failed' "
		"AND version = '2'"), 1);
	exec_ok(report, "COMMIT");
	PQfinish(report);
	free(o);
	free(out);
	project_dispose(&p);
}
END_TEST

/*
 * lock_retries: 2 and a report that never ends: three tries of the
 * whole transaction, each audited, then the failure; nothing applied.
 */
START_TEST(test_single_transaction_tries_run_out)
{
	project p;
	PGconn *report;
	const char *args[] = { "migrate", "up", "--single-transaction", NULL };
	char *out, *o;
	pid_t pid;
	int st;

	project_init(&p,
		     "    statement_lock_timeout: 300ms\n"
		     "    lock_retries: 2\n"
		     "    lock_retry_delay: 50ms\n", NULL);
	report = hold_t(p.url);
	ck_assert_int_ge(asprintf(&out, "%s/run.out", p.dir), 0);
	pid = spawn_cairn(p.dir, out, args);
	st = wait_exit(pid, 60000);
	o = run_output(&p);
	ck_assert_msg(st == 1, "cairn exited %d:\n%s", st, o);
	ck_assert_msg(tu_contains(o, "Gave up after 3 tries"), "%s", o);
	assert_nothing_applied(p.url);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry' "
		"AND version = '2' AND (detail->>'attempts')::int = 3"), 3);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'failed'"), 1);
	exec_ok(report, "COMMIT");
	PQfinish(report);
	free(o);
	free(out);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("single_retry");
	TCase *tc = tcase_create("single_retry");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_single_transaction_retried);
	tcase_add_test(tc, test_single_transaction_no_retry);
	tcase_add_test(tc, test_single_transaction_tries_run_out);
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
