/*
 * check_pooler_silent.c - a server that stops answering while cairn
 * checks the connection pooler (issue 11, items 4 and 6): a real
 * pgbouncer in session mode (tests/lib/pgbouncer.h) in front of
 * tests/run's server, the real cairn binary, a real git repository.
 *
 * Behind a pooler cairn proves, before it takes the deploy lock, that
 * the pooler keeps a server backend for the session: a second
 * connection must be served and its notification reach this session
 * (engine/pooler.c).  Here the postmaster is stopped (SIGSTOP) after
 * cairn's own connection found an idle server backend in the pool: the
 * second connection needs a new backend, which the stopped postmaster
 * never starts.  cairn must end within its bound (exit 3), saying it
 * could not check the pooler, and must not claim a pooler in
 * transaction mode (before: "refusing ... in transaction mode", a wrong
 * diagnosis for a session pooler whose server went silent); nothing
 * runs.  And a second connection that was served, then stopped
 * answering before its answer was complete (its CommandComplete came,
 * its ReadyForQuery never did), made cairn wait without a bound; now
 * that wait ends at server_answer_timeout, exit 3.
 *
 * pgbouncer is started once for the suite (in main) and dies with it.
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

#include "pgbouncer.h"
#include "testutil.h"

static tu_pgbouncer session_pool;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long count_of(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* The parent of a backend: the postmaster. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	long ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	/* "pid (comm) state ppid ...": comm may hold spaces */
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + 1, " %*c %ld", &ppid), 1);
	return (pid_t)ppid;
}

/*
 * Leaves one idle server backend in the pool for the database and
 * returns its pid: a client connects through the pooler, asks, and
 * leaves; pgbouncer resets the backend (DISCARD ALL) and keeps it.
 */
static int warm_pool(const char *pooled, const char *direct)
{
	PGconn *c = PQconnectdb(pooled);
	PGresult *res;
	char sql[256];
	int pid;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexec(c, "SELECT pg_backend_pid()");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	pid = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(c);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_stat_activity WHERE pid = %d "
		 "AND state = 'idle' AND query ILIKE 'DISCARD ALL%%'", pid);
	for (int64_t end = now_ms() + TU_WAIT_MS; now_ms() < end;) {
		if (count_of(direct, sql) == 1)
			return pid;
		usleep(20 * 1000);
	}
	ck_abort_msg("pgbouncer never gave the backend back to its pool");
	return -1;
}

/* Waits up to timeout_ms for pid; its exit code, or -1 (then killed). */
static int wait_exit(pid_t pid, int64_t timeout_ms)
{
	int st;

	for (int64_t end = now_ms() + timeout_ms; now_ms() < end;) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
					       128 + WTERMSIG(st);
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

START_TEST(test_postmaster_stopped_during_pooler_check)
{
	char *url = tu_db_create("poolsilent"), *name = tu_db_name(url);
	char *dir = tu_git_repo(), *pooled, yaml[1024], out[512], *o;
	pid_t postmaster, pid;
	int64_t t0, took;
	int st;

	pooled = tu_pgbouncer_url(&session_pool, name);
	snprintf(yaml, sizeof(yaml),
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "    server_answer_timeout: 3s\n"
		 "hooks:\n"
		 "  pre_validate:\n"
		 "    - run: \"echo fired >> hook-fired\"\n", pooled);
	tu_write(dir, "cairn.yaml", yaml);
	tu_write(dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(tu_git_commit(dir, "Ann", "ann@example.com", 1700000000, "a"));
	postmaster = parent_of((pid_t)warm_pool(pooled, url));
	ck_assert_int_gt(postmaster, 1);

	snprintf(out, sizeof(out), "%s/run.out", dir);
	ck_assert_int_eq(kill(postmaster, SIGSTOP), 0);
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		const char *argv[] = { tu_cairn_bin(), "migrate", "up", NULL };

		if (chdir(dir) < 0 || !freopen(out, "w", stdout))
			_exit(126);
		dup2(1, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		st = wait_exit(pid, 60000);
	took = now_ms() - t0;
	/* whatever happened, the server runs again before any assertion */
	kill(postmaster, SIGCONT);
	ck_assert(pid > 0);
	o = tu_read(dir, "run.out");
	ck_assert_msg(st == 3, "cairn exited %d after %lld ms (-1: still waiting):\n%s",
		      st, (long long)took, o ? o : "");
	/* the probe's 5 s and the answer timeout, with room for a slow host */
	ck_assert_msg(took < 30000, "took %lld ms", (long long)took);
	ck_assert_msg(tu_contains(o, "cannot check the connection pooler") &&
		      tu_contains(o, "was not served") &&
		      tu_contains(o, "direct_database_url"), "%s", o);
	ck_assert_msg(!tu_contains(o, "transaction mode"),
		      "a session pooler whose server is silent was called a transaction pooler:\n%s", o);
	free(o);
	/* nothing ran: no schema, no hook */
	ck_assert_int_eq(count_of(url, "SELECT count(*) FROM pg_namespace "
				       "WHERE nspname = 'cairn'"), 0);
	ck_assert_ptr_null(tu_read(dir, "hook-fired"));
	tu_rmrf(dir);
	free(dir);
	free(pooled);
	free(name);
	free(url);
}
END_TEST

/*
 * The second connection is served, then its server stops answering:
 * the answer's CommandComplete reaches cairn, its ReadyForQuery never
 * does.  Staged with a real server: the database's search_path puts a
 * schema before pg_catalog whose pg_notify(text, text) inserts into a
 * table with a deferred constraint trigger; at the second connection's
 * COMMIT the trigger raises a notice (the server flushes what it had
 * buffered, CommandComplete included) and then waits for an advisory
 * lock the test holds.  Before, cairn read the rest of that answer
 * without a bound and hung there for as long as the lock was held;
 * now it waits server_answer_timeout (2 s) and exits 3 saying the
 * server did not answer; nothing runs.
 */
START_TEST(test_second_connection_silent_after_answer)
{
	char *url = tu_db_create("poolhang"), *name = tu_db_name(url);
	char *dir = tu_git_repo(), *pooled, yaml[1024], out[512], *o;
	char sql[256];
	PGconn *holder;
	PGresult *res;
	pid_t pid;
	int64_t t0, took;
	int st = -1;

	snprintf(sql, sizeof(sql),
		 "ALTER DATABASE %s SET search_path = stall, pg_catalog, public",
		 name);
	ck_assert_int_eq(tu_db_exec(url,
		"CREATE SCHEMA stall;"
		"CREATE TABLE stall.gate (x int);"
		"CREATE FUNCTION stall.hold() RETURNS trigger LANGUAGE plpgsql AS "
		"$$BEGIN RAISE NOTICE 'held at commit'; "
		"PERFORM pg_catalog.pg_advisory_lock(424242); RETURN NULL; END$$;"
		"CREATE CONSTRAINT TRIGGER hold AFTER INSERT ON stall.gate "
		"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stall.hold();"
		"CREATE FUNCTION stall.pg_notify(text, text) RETURNS void "
		"LANGUAGE plpgsql AS $$BEGIN INSERT INTO stall.gate VALUES (1); "
		"PERFORM pg_catalog.pg_notify($1, $2); END$$;"), 0);
	ck_assert_int_eq(tu_db_exec(url, sql), 0);
	holder = PQconnectdb(url);
	ck_assert(PQstatus(holder) == CONNECTION_OK);
	res = PQexec(holder, "SELECT pg_catalog.pg_advisory_lock(424242)");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);

	pooled = tu_pgbouncer_url(&session_pool, name);
	snprintf(yaml, sizeof(yaml),
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "    server_answer_timeout: 2s\n", pooled);
	tu_write(dir, "cairn.yaml", yaml);
	tu_write(dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(tu_git_commit(dir, "Ann", "ann@example.com", 1700000000, "a"));
	snprintf(out, sizeof(out), "%s/run.out", dir);
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		const char *argv[] = { tu_cairn_bin(), "migrate", "up", NULL };

		if (chdir(dir) < 0 || !freopen(out, "w", stdout))
			_exit(126);
		dup2(1, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		st = wait_exit(pid, 30000);
	took = now_ms() - t0;
	PQfinish(holder); /* the second connection's backend goes on */
	ck_assert(pid > 0);
	o = tu_read(dir, "run.out");
	ck_assert_msg(st == 3, "cairn exited %d after %lld ms (-1: still waiting after 30 s):\n%s",
		      st, (long long)took, o ? o : "");
	ck_assert_msg(tu_contains(o, "checking the connection pooler") &&
		      tu_contains(o, "did not answer within 2 s"), "%s", o);
	/* the server's notice to the second connection is not printed raw */
	ck_assert_msg(!tu_contains(o, "held at commit"), "%s", o);
	free(o);
	ck_assert_int_eq(count_of(url, "SELECT count(*) FROM pg_namespace "
				       "WHERE nspname = 'cairn'"), 0);
	tu_rmrf(dir);
	free(dir);
	free(pooled);
	free(name);
	free(url);
}
END_TEST

/*
 * The second connection's question fails (here a pg_notify that a
 * schema before pg_catalog replaces raises an error): cairn exits 3
 * saying so, with the server's message, instead of claiming that the
 * connection was not served in time or that the pooler is in
 * transaction mode.
 */
START_TEST(test_second_connection_fails)
{
	char *url = tu_db_create("poolfail"), *name = tu_db_name(url);
	char *dir = tu_git_repo(), *pooled, yaml[1024], sql[256];
	tu_result r;

	snprintf(sql, sizeof(sql),
		 "ALTER DATABASE %s SET search_path = stall, pg_catalog, public",
		 name);
	ck_assert_int_eq(tu_db_exec(url,
		"CREATE SCHEMA stall;"
		"CREATE FUNCTION stall.pg_notify(text, text) RETURNS void "
		"LANGUAGE plpgsql AS $$BEGIN "
		"RAISE EXCEPTION 'notifications are switched off here'; END$$;"), 0);
	ck_assert_int_eq(tu_db_exec(url, sql), 0);
	pooled = tu_pgbouncer_url(&session_pool, name);
	snprintf(yaml, sizeof(yaml),
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n", pooled);
	tu_write(dir, "cairn.yaml", yaml);
	tu_write(dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(tu_git_commit(dir, "Ann", "ann@example.com", 1700000000, "a"));
	tu_cairn(&r, dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 3, "exit %d\n%s", r.status, r.err);
	ck_assert_msg(tu_contains(r.err, "cannot check the connection pooler") &&
		      tu_contains(r.err, "a second connection failed") &&
		      tu_contains(r.err, "notifications are switched off here"),
		      "%s", r.err);
	ck_assert_msg(!tu_contains(r.err, "transaction mode") &&
		      !tu_contains(r.err, "not served"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(url, "SELECT count(*) FROM pg_namespace "
				       "WHERE nspname = 'cairn'"), 0);
	tu_rmrf(dir);
	free(dir);
	free(pooled);
	free(name);
	free(url);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pooler_silent");
	TCase *tc = tcase_create("pooler_silent");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_postmaster_stopped_during_pooler_check);
	tcase_add_test(tc, test_second_connection_silent_after_answer);
	tcase_add_test(tc, test_second_connection_fails);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (!tu_pgbouncer_start(&session_pool, "session")) {
		tu_pgbouncer_stop(&session_pool);
		fprintf(stderr, "check_pooler_silent: pgbouncer is required (scripts/install-deps)\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tu_pgbouncer_stop(&session_pool);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
