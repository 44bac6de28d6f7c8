/*
 * check_silent.c - dead or silent servers (issue 11, item 6), on tests/run's
 * real server.
 *
 *  - cairn's connections carry TCP keepalives, tcp_user_timeout and
 *    connect_timeout unless the connection string sets them (then its
 *    values win), and the session sets client_connection_check_interval
 *    (PostgreSQL >= 14): checked on a connection made by the library;
 *  - a stopped backend: cairn's backend is SIGSTOPped while its migration
 *    waits for a lock, so the server's lock_timeout never fires; the run
 *    must end (exit 3, the connection closed by cairn) instead of
 *    hanging, and once the backend runs again and the blocker commits,
 *    nothing of the migration is committed;
 *  - cairn's own statements (here the deploy lock's tries) are bounded
 *    too: a backend stopped between two tries never answers the next
 *    one, and the run ends (exit 3, "did not answer") after
 *    server_answer_timeout instead of hanging.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cairn/db.h"
#include "db.h"
#include "testutil.h"

/* The value of keyword in the connection's options, or "". */
static const char *conn_opt(PQconninfoOption *opts, const char *keyword)
{
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, keyword))
			return o->val ? o->val : "";
	return "";
}

static char *show(cairn_db *db, const char *sql)
{
	PGresult *res = NULL;
	char *v;

	ck_assert_int_eq(cairn_db__query(db, &res, sql, 0, NULL), 0);
	v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

START_TEST(test_liveness_defaults)
{
	cairn_db_options o = CAIRN_DB_OPTIONS_INIT;
	cairn_db *db = NULL;
	PQconninfoOption *opts;
	char *v;

	o.conninfo = tu_db_url();
	ck_assert_int_eq(cairn_db_connect(&db, &o), 0);
	opts = PQconninfo(cairn_db__conn(db));
	ck_assert_str_eq(conn_opt(opts, "keepalives"), "1");
	ck_assert_str_eq(conn_opt(opts, "keepalives_idle"), "30");
	ck_assert_str_eq(conn_opt(opts, "keepalives_interval"), "10");
	ck_assert_str_eq(conn_opt(opts, "keepalives_count"), "3");
	ck_assert_str_eq(conn_opt(opts, "tcp_user_timeout"), "60000");
	ck_assert_str_eq(conn_opt(opts, "connect_timeout"), "10");
	PQconninfoFree(opts);
	if (PQserverVersion(cairn_db__conn(db)) >= 140000) {
		v = show(db, "SHOW client_connection_check_interval");
		ck_assert_str_eq(v, "2s");
		free(v);
	}
	/* the session still starts in the known state */
	v = show(db, "SHOW standard_conforming_strings");
	ck_assert_str_eq(v, "on");
	free(v);
	cairn_db_free(db);
}
END_TEST

/* What the connection string says wins over cairn's defaults. */
START_TEST(test_url_settings_win)
{
	cairn_db_options o = CAIRN_DB_OPTIONS_INIT;
	cairn_db *db = NULL;
	PQconninfoOption *opts;
	char *url = NULL;

	ck_assert_int_ge(asprintf(&url, "%s&keepalives_idle=7&tcp_user_timeout=1234&connect_timeout=3",
				  tu_db_url()), 0);
	o.conninfo = url;
	ck_assert_int_eq(cairn_db_connect(&db, &o), 0);
	opts = PQconninfo(cairn_db__conn(db));
	ck_assert_str_eq(conn_opt(opts, "keepalives_idle"), "7");
	ck_assert_str_eq(conn_opt(opts, "tcp_user_timeout"), "1234");
	ck_assert_str_eq(conn_opt(opts, "connect_timeout"), "3");
	ck_assert_str_eq(conn_opt(opts, "keepalives_interval"), "10");
	PQconninfoFree(opts);
	cairn_db_free(db);
	free(url);
}
END_TEST

static long count_of(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/*
 * The migration's backend is stopped (SIGSTOP) while it waits for a
 * lock: its lock_timeout can never fire.  cairn notices (the monitor sees
 * the wait outlast the timeout), closes the connection and exits 3; the
 * backend, continued, finds its client gone; nothing is committed.
 */
START_TEST(test_stopped_backend)
{
	char *url = tu_db_create("silent"), *dir = tu_git_repo(), yaml[1024];
	char out[512];
	PGconn *report;
	long backend = -1;
	pid_t pid;
	int st = -1;

	snprintf(yaml, sizeof(yaml),
		 "environments:\n  development:\n    database_url: \"%s\"\n"
		 "    statement_lock_timeout: 300ms\n    lock_retries: 0\n", url);
	tu_write(dir, "cairn.yaml", yaml);
	tu_write(dir, "db/migrations/0001_add_c.up.sql",
		 "ALTER TABLE t ADD COLUMN c int;\n");
	free(tu_git_commit(dir, "Ann", "ann@example.com", 1700000000, "c"));
	ck_assert_int_eq(tu_db_exec(url, "CREATE TABLE t (id int)"), 0);
	report = PQconnectdb(url);
	ck_assert(PQstatus(report) == CONNECTION_OK);
	PQclear(PQexec(report, "BEGIN"));
	PQclear(PQexec(report, "SELECT * FROM t"));
	snprintf(out, sizeof(out), "%s/run.out", dir);
	pid = fork();
	if (pid == 0) {
		const char *argv[] = { tu_cairn_bin(), "migrate", "up", NULL };

		if (chdir(dir) < 0 || !freopen(out, "w", stdout))
			_exit(126);
		dup2(1, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert(pid > 0);
	/* stop the backend as soon as it waits for its lock */
	for (int i = 0; i < 3000 && backend < 0; i++) {
		backend = count_of(url,
			"SELECT coalesce(max(pid), -1) FROM pg_stat_activity "
			"WHERE datname = current_database() AND "
			"application_name LIKE 'cairn %' AND wait_event_type = 'Lock'");
		if (backend < 0)
			usleep(1000);
	}
	ck_assert_msg(backend > 0, "the migration never waited");
	ck_assert_int_eq(kill((pid_t)backend, SIGSTOP), 0);
	for (int waited = 0; waited < 30000; waited += 20) {
		int s;

		if (waitpid(pid, &s, WNOHANG) == pid) {
			st = WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
			break;
		}
		usleep(20 * 1000);
	}
	/* whatever happened, the backend runs again before any assertion */
	kill((pid_t)backend, SIGCONT);
	if (st < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	{
		char *o = tu_read(dir, "run.out");

		ck_assert_msg(st == 3, "cairn exited %d (-1: still waiting after 30 s):\n%s",
			      st, o ? o : "");
		ck_assert_msg(tu_contains(o, "lock_timeout"), "%s", o);
		free(o);
	}
	ck_assert(tu_db_wait_backend(url, (int)backend, NULL, true, TU_WAIT_MS));
	PQclear(PQexec(report, "COMMIT"));
	PQfinish(report);
	ck_assert_int_eq(count_of(url,
		"SELECT count(*) FROM information_schema.columns "
		"WHERE table_name = 't' AND column_name = 'c'"), 0);
	ck_assert_int_eq(count_of(url,
		"SELECT count(*) FROM cairn.migrations"), 0);
	tu_rmrf(dir);
	free(dir);
	free(url);
}
END_TEST

/* The deploy lock's key for schema "cairn" (engine/lock.c: FNV-1a). */
static int64_t deploy_key(void)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = "cairn.deploy:cairn"; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (int64_t)h;
}

/* Waits (at most 30 s) for pid to end; its exit status, or -1. */
static int wait_exit(pid_t pid)
{
	for (int waited = 0; waited < 30000; waited += 20) {
		int s;

		if (waitpid(pid, &s, WNOHANG) == pid)
			return WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
		usleep(20 * 1000);
	}
	return -1;
}

/*
 * The deploy lock is held by the test, so cairn polls it with
 * pg_try_advisory_lock(), one statement of its own at a time.  Its
 * backend is stopped between two tries: the next try is sent (the
 * kernel takes it) and never answered; keepalives and tcp_user_timeout
 * see nothing wrong.  The run must end within server_answer_timeout
 * (2 s here), long before the deploy lock's 5 min, with exit 3.
 */
START_TEST(test_stopped_backend_own_statement)
{
	char *url = tu_db_create("silentown"), *dir = tu_git_repo(), yaml[1024];
	char out[512], sql[128];
	PGconn *holder;
	long backend = -1;
	pid_t pid;
	int st;

	snprintf(yaml, sizeof(yaml),
		 "environments:\n  development:\n    database_url: \"%s\"\n"
		 "    deploy_lock_timeout: 5min\n"
		 "    server_answer_timeout: 2s\n", url);
	tu_write(dir, "cairn.yaml", yaml);
	tu_write(dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(tu_git_commit(dir, "Ann", "ann@example.com", 1700000000, "a"));
	holder = PQconnectdb(url);
	ck_assert(PQstatus(holder) == CONNECTION_OK);
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%" PRId64 ")",
		 deploy_key());
	PQclear(PQexec(holder, sql));
	snprintf(out, sizeof(out), "%s/run.out", dir);
	pid = fork();
	if (pid == 0) {
		const char *argv[] = { tu_cairn_bin(), "migrate", "up", NULL };

		if (chdir(dir) < 0 || !freopen(out, "w", stdout))
			_exit(126);
		dup2(1, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert(pid > 0);
	/* cairn's backend once it has tried the lock (idle between tries) */
	for (int i = 0; i < 30000 && backend < 0; i++) {
		backend = count_of(url,
			"SELECT coalesce(max(pid), -1) FROM pg_stat_activity "
			"WHERE datname = current_database() AND "
			"application_name LIKE 'cairn %' AND "
			"query LIKE '%pg_try_advisory_lock%'");
		if (backend < 0)
			usleep(1000);
	}
	ck_assert_msg(backend > 0, "cairn never polled the deploy lock");
	ck_assert_int_eq(kill((pid_t)backend, SIGSTOP), 0);
	st = wait_exit(pid);
	/* whatever happened, the backend runs again before any assertion */
	kill((pid_t)backend, SIGCONT);
	if (st < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	PQfinish(holder);
	{
		char *o = tu_read(dir, "run.out");

		ck_assert_msg(st == 3, "cairn exited %d (-1: still waiting after 30 s):\n%s",
			      st, o ? o : "");
		ck_assert_msg(tu_contains(o, "did not answer within 2 s"), "%s", o);
		free(o);
	}
	/* the stopped backend, continued, finds its client gone */
	ck_assert(tu_db_wait_backend(url, (int)backend, NULL, true, TU_WAIT_MS));
	ck_assert_int_eq(count_of(url,
		"SELECT count(*) FROM information_schema.tables "
		"WHERE table_name = 'a'"), 0);
	tu_rmrf(dir);
	free(dir);
	free(url);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("silent");
	TCase *tc = tcase_create("silent");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_liveness_defaults);
	tcase_add_test(tc, test_url_settings_win);
	tcase_add_test(tc, test_stopped_backend);
	tcase_add_test(tc, test_stopped_backend_own_statement);
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
