/*
 * check_deploylock.c - the deploy lock under contention: the real cairn
 * binary, real git repositories made here, a real PostgreSQL server (a
 * fresh database per test).
 *
 * Covers concurrent deployers meeting a no-transaction CREATE INDEX
 * CONCURRENTLY (a waiter must not hold a snapshot the index build waits
 * for), the lock_timeout a role or database sets surviving a contended
 * wait, the "held by" message naming only sessions of the same database,
 * and an interrupt while waiting.
 *
 * Runs are made to wait on purpose with a gate: the first deployer's
 * migration takes pg_advisory_xact_lock(GATE_KEY) while the test holds
 * that key on its own connection, so the deployer keeps the deploy lock
 * until the test opens the gate.  Every wait polls for a condition.
 */

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "testutil.h"

#define GATE_KEY "4242"
/* databases whose sessions hold the deploy key too */
#define NOTHERS 3

typedef struct {
	char *dir;
	char *url;
} project;

static void project_init(project *p)
{
	char yaml[2048];

	p->url = tu_db_create("lock");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "hooks: {}\n",
		 p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static void commit(project *p, const char *msg)
{
	free(tu_git_commit(p->dir, "Ann", "ann@example.com", 1700000000, msg));
}

static long count_of(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* A connection the test keeps open (to hold advisory locks). */
static PGconn *hold_conn(const char *url)
{
	PGconn *c = PQconnectdb(url);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	return c;
}

static void hold_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK,
		      "%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

static pid_t spawn_cairn(const char *dir, const char *outfile,
			 const char *const *args)
{
	pid_t pid = fork();

	if (pid == 0) {
		const char *argv[16];
		size_t n = 0;
		FILE *f;

		if (chdir(dir) < 0)
			_exit(126);
		f = freopen(outfile, "w", stdout);
		(void)f;
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

static int wait_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* Polls (up to 30 s) until the file dir/rel contains needle. */
static bool wait_for_output(const char *dir, const char *rel,
			    const char *needle)
{
	for (int i = 0; i < 600; i++) {
		char *s = tu_read(dir, rel);
		bool found = tu_contains(s, needle);

		free(s);
		if (found)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

/*
 * Polls (up to 30 s) until a session of url waits for a lock while
 * running a statement that matches `like`; returns its pid or -1.
 */
static long wait_for_blocked(const char *url, const char *like)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "SELECT coalesce(max(pid), -1) FROM pg_stat_activity "
		 "WHERE datname = current_database() AND state = 'active' "
		 "AND wait_event_type = 'Lock' AND query LIKE '%s' "
		 "AND pid <> pg_backend_pid()", like);
	for (int i = 0; i < 600; i++) {
		long pid = count_of(url, sql);

		if (pid > 0)
			return pid;
		usleep(50 * 1000);
	}
	return -1;
}

/* 0001 waits at the gate the test holds (a generous lock-timeout, so a
 * database-level lock_timeout does not end the wait). */
static void write_gate_migration(project *p)
{
	tu_write(p->dir, "db/migrations/0001_gate.up.sql",
		 "-- cairn: lock-timeout=5min\n"
		 "SELECT pg_advisory_xact_lock(" GATE_KEY ");\n");
}

/*
 * Four deployers at once; 0002 builds an index CONCURRENTLY on a table
 * 0001 filled, big enough that the build takes about a second.  A waiter
 * blocked in pg_advisory_lock holds a snapshot the build waits for, and
 * the server kills one side ("deadlock detected").  Every run must exit
 * 0 and every migration be applied exactly once.
 */
START_TEST(test_concurrent_deployers_with_concurrent_index)
{
	project p;
	const char *args[] = { "migrate", "up", NULL };
	pid_t pids[4];
	int st[4], waited = 0;

	project_init(&p);
	tu_write(p.dir, "db/migrations/0001_fill.up.sql",
		 "CREATE TABLE big (id int, v text);\n"
		 "INSERT INTO big SELECT g, md5(g::text)\n"
		 "  FROM generate_series(1, 300000) AS g;\n");
	tu_write(p.dir, "db/migrations/0002_index.up.sql",
		 "-- cairn: no-transaction\n"
		 "CREATE INDEX CONCURRENTLY big_v ON big (v);\n");
	tu_write(p.dir, "db/migrations/0003_after.up.sql",
		 "CREATE TABLE after_index (x int);\n");
	commit(&p, "index");
	for (int i = 0; i < 4; i++) {
		char out[512];

		snprintf(out, sizeof(out), "%s/run%d.out", p.dir, i);
		pids[i] = spawn_cairn(p.dir, out, args);
	}
	for (int i = 0; i < 4; i++)
		st[i] = wait_status(pids[i]);
	for (int i = 0; i < 4; i++) {
		char rel[32], *o;

		snprintf(rel, sizeof(rel), "run%d.out", i);
		o = tu_read(p.dir, rel);
		if (tu_contains(o, "waiting for the deploy lock"))
			waited++;
		ck_assert_msg(st[i] == 0, "deployer %d exited %d:\n%s", i,
			      st[i], o ? o : "");
		free(o);
	}
	/* the scenario needs contention: somebody waited */
	ck_assert_int_ge(waited, 1);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM cairn.migrations "
					 "WHERE status = 'applied'"), 3);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM cairn.audit "
					 "WHERE outcome = 'applied'"), 3);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM pg_index i "
					 "JOIN pg_class c ON c.oid = i.indexrelid "
					 "WHERE c.relname = 'big_v' AND i.indisvalid"), 1);
	project_dispose(&p);
}
END_TEST

/*
 * A database-level lock_timeout (3s) must still be in force for the
 * migrations a run applies after waiting for the deploy lock.
 */
START_TEST(test_wait_keeps_lock_timeout_setting)
{
	project p;
	const char *first[] = { "migrate", "up", "--to", "1", NULL };
	const char *second[] = { "migrate", "up", NULL };
	char out_a[512], out_b[512], sql[512], *dbname, *seen;
	PGconn *gate;
	pid_t a, b;
	int sa, sb;

	project_init(&p);
	dbname = tu_db_value(p.url, "SELECT current_database()");
	ck_assert_ptr_nonnull(dbname);
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s SET lock_timeout = '3s'",
		 dbname);
	ck_assert_int_eq(tu_db_exec(p.url, sql), 0);
	write_gate_migration(&p);
	tu_write(p.dir, "db/migrations/0002_seen.up.sql",
		 "CREATE TABLE seen AS\n"
		 "  SELECT current_setting('lock_timeout') AS lock_timeout;\n");
	commit(&p, "seen");

	gate = hold_conn(p.url);
	hold_exec(gate, "SELECT pg_advisory_lock(" GATE_KEY ")");
	snprintf(out_a, sizeof(out_a), "%s/a.out", p.dir);
	snprintf(out_b, sizeof(out_b), "%s/b.out", p.dir);
	a = spawn_cairn(p.dir, out_a, first);
	ck_assert_msg(wait_for_blocked(p.url, "%pg_advisory_xact_lock(" GATE_KEY ")%") > 0,
		      "the first run never reached the gate");
	b = spawn_cairn(p.dir, out_b, second);
	ck_assert_msg(wait_for_output(p.dir, "b.out", "waiting for the deploy lock"),
		      "the second run did not wait for the deploy lock");
	hold_exec(gate, "SELECT pg_advisory_unlock(" GATE_KEY ")");
	PQfinish(gate);
	sa = wait_status(a);
	sb = wait_status(b);
	ck_assert_msg(sa == 0 && sb == 0, "exit %d and %d", sa, sb);
	seen = tu_db_value(p.url, "SELECT lock_timeout FROM seen");
	ck_assert_ptr_nonnull(seen);
	ck_assert_str_eq(seen, "3s");
	free(seen);
	free(dbname);
	project_dispose(&p);
}
END_TEST

/*
 * The same advisory key held in other databases of the cluster must not
 * be named as the holder: the message names the deployer of this one.
 * The other sessions connect first: pg_stat_activity lists sessions in
 * backend slot order, so an unfiltered lookup meets one of them before
 * this database's holder.
 */
START_TEST(test_holder_named_from_this_database)
{
	project p;
	const char *first[] = { "migrate", "up", NULL };
	char out_a[512], sql[512], mine[64], *key;
	PGconn *gate, *others[NOTHERS];
	char *other_urls[NOTHERS];
	long holder;
	pid_t a;
	tu_result r;

	project_init(&p);
	write_gate_migration(&p);
	commit(&p, "gate");
	for (int i = 0; i < NOTHERS; i++) {
		other_urls[i] = tu_db_create("lockother");
		others[i] = hold_conn(other_urls[i]);
	}
	gate = hold_conn(p.url);
	hold_exec(gate, "SELECT pg_advisory_lock(" GATE_KEY ")");
	snprintf(out_a, sizeof(out_a), "%s/a.out", p.dir);
	a = spawn_cairn(p.dir, out_a, first);
	holder = wait_for_blocked(p.url, "%pg_advisory_xact_lock(" GATE_KEY ")%");
	ck_assert_msg(holder > 0, "the first run never reached the gate");

	/* the deploy lock's key, as the holder holds it */
	snprintf(sql, sizeof(sql),
		 "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks "
		 "WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
		 "AND pid = %ld", holder);
	key = tu_db_value(p.url, sql);
	ck_assert_ptr_nonnull(key);
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%s)", key);
	for (int i = 0; i < NOTHERS; i++)
		hold_exec(others[i], sql);

	tu_cairn(&r, p.dir, "migrate", "up", "--lock-timeout", "1s", NULL);
	ck_assert_msg(r.status == 4, "exit %d: %s", r.status, r.err);
	ck_assert_msg(tu_contains(r.err, "waiting for the deploy lock"), "%s", r.err);
	for (int i = 0; i < NOTHERS; i++) {
		char theirs[64];

		snprintf(theirs, sizeof(theirs), "pid %d,", PQbackendPID(others[i]));
		ck_assert_msg(!tu_contains(r.err, theirs),
			      "names a session of another database (%s):\n%s",
			      theirs, r.err);
	}
	/* both the waiting note and the timeout's detail name the holder */
	snprintf(mine, sizeof(mine), "pid %ld,", holder);
	ck_assert_msg(tu_contains(r.err, mine), "%s not named:\n%s", mine, r.err);
	ck_assert_msg(strstr(strstr(r.err, mine) + 1, mine),
		      "%s named once only:\n%s", mine, r.err);
	tu_result_dispose(&r);

	hold_exec(gate, "SELECT pg_advisory_unlock(" GATE_KEY ")");
	PQfinish(gate);
	ck_assert_int_eq(wait_status(a), 0);
	for (int i = 0; i < NOTHERS; i++) {
		PQfinish(others[i]);
		free(other_urls[i]);
	}
	free(key);
	project_dispose(&p);
}
END_TEST

/*
 * A waiter holds no transaction and no blocking statement while it
 * waits; SIGINT ends the wait at once with exit 130, and the run never
 * took the lock nor applied anything.
 */
START_TEST(test_waiter_idle_and_interruptible)
{
	project p;
	const char *first[] = { "migrate", "up", "--to", "1", NULL };
	const char *second[] = { "migrate", "up", NULL };
	char out_a[512], out_b[512], sql[512];
	PGconn *gate;
	long holder;
	pid_t a, b;
	int sb;

	project_init(&p);
	write_gate_migration(&p);
	tu_write(p.dir, "db/migrations/0002_t.up.sql", "CREATE TABLE t (x int);\n");
	commit(&p, "two");
	gate = hold_conn(p.url);
	hold_exec(gate, "SELECT pg_advisory_lock(" GATE_KEY ")");
	snprintf(out_a, sizeof(out_a), "%s/a.out", p.dir);
	snprintf(out_b, sizeof(out_b), "%s/b.out", p.dir);
	a = spawn_cairn(p.dir, out_a, first);
	holder = wait_for_blocked(p.url, "%pg_advisory_xact_lock(" GATE_KEY ")%");
	ck_assert(holder > 0);
	b = spawn_cairn(p.dir, out_b, second);
	ck_assert(wait_for_output(p.dir, "b.out", "waiting for the deploy lock"));
	/*
	 * The waiter's session holds no transaction and does not block in
	 * the server: sampled over a while, it is never waiting for a lock
	 * nor idle in a transaction.
	 */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' "
		 "OR state LIKE 'idle in transaction%%' OR backend_xid IS NOT NULL) "
		 "* 1000 + count(*) FROM pg_stat_activity "
		 "WHERE datname = current_database() AND pid <> %ld "
		 "AND application_name LIKE 'cairn %%'", holder);
	for (int i = 0; i < 20; i++) {
		long v = count_of(p.url, sql);

		ck_assert_msg(v == 1, "waiter sessions: %ld, of them in a lock "
			      "wait or a transaction: %ld", v % 1000, v / 1000);
		usleep(50 * 1000);
	}
	kill(b, SIGINT);
	sb = wait_status(b);
	{
		char *o = tu_read(p.dir, "b.out");

		ck_assert_msg(sb == 130, "exit %d:\n%s", sb, o ? o : "");
		free(o);
	}
	/* the first run still holds the gate; nothing of 0002 ran */
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM pg_tables WHERE tablename = 't'"), 0);
	hold_exec(gate, "SELECT pg_advisory_unlock(" GATE_KEY ")");
	PQfinish(gate);
	ck_assert_int_eq(wait_status(a), 0);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM cairn.migrations"), 1);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("deploylock");
	TCase *tc = tcase_create("contention");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_concurrent_deployers_with_concurrent_index);
	tcase_add_test(tc, test_wait_keeps_lock_timeout_setting);
	tcase_add_test(tc, test_holder_named_from_this_database);
	tcase_add_test(tc, test_waiter_idle_and_interruptible);
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
