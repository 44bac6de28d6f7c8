/*
 * check_locktimeout.c - a migration that waits for a table lock (issue
 * 11, items 1, 2, 3 and the kill -9 guarantee of item 6): the real cairn
 * binary, real git repositories made here, a fresh database per test on
 * tests/run's server.
 *
 * The scene is the classic outage: a session holds a lock on t (a report
 * in an open transaction), a migration's ALTER TABLE t queues behind it
 * for an ACCESS EXCLUSIVE lock, and every new reader of t queues behind
 * the migration.  cairn must bound the wait (statement_lock_timeout),
 * roll back and retry with backoff (lock_retries), name the blocker
 * (printed, in the lock_retry audit rows, in on_error's context), never
 * leave an orphaned backend that commits the migration after cairn was
 * killed, and drop the INVALID index a timed-out CREATE INDEX
 * CONCURRENTLY leaves before retrying it.
 *
 * Timeouts are small (set through cairn.yaml; 1 s where the test needs
 * the blocker seen, which takes a second connection on a busy machine)
 * and every wait polls for a condition (pg_stat_activity, the audit
 * table), never a fixed sleep.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cairn/config.h"
#include "engine/run.h"
#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

static void project_init(project *p, const char *env_extra,
			 const char *hooks_yaml)
{
	char yaml[4096];

	p->url = tu_db_create("lockto");
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

static int backend_pid(PGconn *c)
{
	return PQbackendPID(c);
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

/*
 * Waits up to timeout_ms for pid to exit; its exit code, 128+signal, or
 * -1 when it is still running (then it is killed: a test must not leave
 * it behind).
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

/* The pid of cairn's backend waiting for a lock on this database. */
static long wait_cairn_blocked(const char *url)
{
	for (int i = 0; i < 1500; i++) {
		long pid = count_of(url,
			"SELECT coalesce(max(pid), -1) FROM pg_stat_activity "
			"WHERE datname = current_database() "
			"AND application_name LIKE 'cairn %' "
			"AND wait_event_type = 'Lock'");

		if (pid > 0)
			return pid;
		usleep(20 * 1000);
	}
	return -1;
}

/* Waits (up to 30 s) for a lock_retry audit row: a try gave up. */
static bool wait_lock_retry_row(const char *url)
{
	for (int i = 0; i < 1500; i++) {
		/* no cairn schema yet reads as no row */
		if (count_of(url,
			"SELECT count(*) FROM pg_tables WHERE schemaname = 'cairn' "
			"AND tablename = 'audit'") == 1 &&
		    count_of(url,
			"SELECT count(*) FROM cairn.audit "
			"WHERE outcome = 'lock_retry'") >= 1)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

static const char *const up[] = { "migrate", "up", NULL };

static char *out_path(project *p, const char *name)
{
	char *s = NULL;

	ck_assert_int_ge(asprintf(&s, "%s/%s", p->dir, name), 0);
	return s;
}

static char *read_out(project *p, const char *name)
{
	char *s = tu_read(p->dir, name);

	return s ? s : strdup("");
}

/*
 * The outage, bounded: a report holds t in an open transaction, the
 * migration's ALTER TABLE waits, a reader queues behind it.  cairn gives
 * up after its tries (3 with lock_retries: 2), each a lock_retry audit
 * row naming the blocker; the reader gets through while the report is
 * still open (before the fix the migration waited for as long as the
 * report, and the reader with it); nothing is applied.
 */
START_TEST(test_blocked_migration_gives_up_and_names_blocker)
{
	project p;
	PGconn *report, *reader;
	char *out, *o, sql[512];
	pid_t pid;
	int st, rpid;

	project_init(&p,
		     "    statement_lock_timeout: 1s\n"
		     "    lock_retries: 2\n"
		     "    lock_retry_delay: 50ms\n", NULL);
	tu_write(p.dir, "db/migrations/0001_add_c.up.sql",
		 "ALTER TABLE t ADD COLUMN c int;\n");
	commit(&p, "add c");
	report = session(p.url, "nightly-report");
	rpid = backend_pid(report);
	exec_ok(report, "BEGIN");
	exec_ok(report, "SELECT count(*) FROM t WHERE note <> 'hunter2-secret'");

	out = out_path(&p, "run.out");
	pid = spawn_cairn(p.dir, out, up);
	ck_assert_msg(wait_cairn_blocked(p.url) > 0,
		      "the migration never waited for its lock");
	/* a reader arriving now queues behind the migration's request */
	reader = session(p.url, "web");
	ck_assert(PQsendQuery(reader, "SELECT count(*) FROM t"));
	/* ...and gets through when the migration's wait times out, while
	 * the report is still open */
	for (int i = 0; i < 1000 && PQisBusy(reader); i++) {
		ck_assert(PQconsumeInput(reader));
		usleep(10 * 1000);
	}
	ck_assert_msg(!PQisBusy(reader), "the reader stayed queued");
	{
		PGresult *res;

		while ((res = PQgetResult(reader)) != NULL) {
			ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
			PQclear(res);
		}
	}
	st = wait_exit(pid, 30000);
	o = read_out(&p, "run.out");
	ck_assert_msg(st == 1, "cairn exited %d:\n%s", st, o);
	snprintf(sql, sizeof(sql), "%d", rpid);
	ck_assert_msg(tu_contains(o, "nightly-report") && tu_contains(o, sql),
		      "the blocker is not named:\n%s", o);
	ck_assert_msg(tu_contains(o, "lock timeout"), "%s", o);
	ck_assert_msg(!tu_contains(o, "hunter2-secret"),
		      "the blocker's literal was printed:\n%s", o);
	ck_assert_msg(tu_contains(o, "SELECT count(*) FROM t WHERE note <>"),
		      "the blocker's query is not shown:\n%s", o);
	/* three tries, each audited with the blocker */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry' "
		 "AND version = '1' AND detail->'blockers'->0->>'pid' = '%d' "
		 "AND detail->'blockers'->0->>'application_name' = 'nightly-report'",
		 rpid);
	ck_assert_int_eq(count_of(p.url, sql), 3);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry' "
		"AND detail::text LIKE '%hunter2%'"), 0);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM cairn.migrations"), 0);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM information_schema.columns "
		"WHERE table_name = 't' AND column_name = 'c'"), 0);
	exec_ok(report, "COMMIT");
	PQfinish(report);
	PQfinish(reader);
	free(o);
	free(out);
	project_dispose(&p);
}
END_TEST

/*
 * The blocker commits while cairn is retrying: the next try takes the
 * lock and the migration is applied once, after at least one lock_retry
 * row.
 */
START_TEST(test_retry_applies_after_blocker_commits)
{
	project p;
	PGconn *report;
	char *out, *o;
	pid_t pid;
	int st;

	project_init(&p,
		     "    statement_lock_timeout: 200ms\n"
		     "    lock_retries: 50\n"
		     "    lock_retry_delay: 50ms\n", NULL);
	tu_write(p.dir, "db/migrations/0001_add_c.up.sql",
		 "ALTER TABLE t ADD COLUMN c int;\n");
	tu_write(p.dir, "db/migrations/0002_more.up.sql",
		 "CREATE TABLE after_c (x int);\n");
	commit(&p, "add c");
	report = session(p.url, "nightly-report");
	exec_ok(report, "BEGIN");
	exec_ok(report, "SELECT count(*) FROM t");
	out = out_path(&p, "run.out");
	pid = spawn_cairn(p.dir, out, up);
	ck_assert_msg(wait_lock_retry_row(p.url), "no try was audited");
	exec_ok(report, "COMMIT");
	st = wait_exit(pid, 30000);
	o = read_out(&p, "run.out");
	ck_assert_msg(st == 0, "cairn exited %d:\n%s", st, o);
	ck_assert_msg(tu_contains(o, "retrying"), "%s", o);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.migrations WHERE status = 'applied'"), 2);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM information_schema.columns "
		"WHERE table_name = 't' AND column_name = 'c'"), 1);
	ck_assert_int_ge(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry'"), 1);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'applied'"), 2);
	PQfinish(report);
	free(o);
	free(out);
	project_dispose(&p);
}
END_TEST

/* --no-retry: one try, one lock_retry row, then the failure. */
START_TEST(test_no_retry_flag)
{
	project p;
	PGconn *report;
	const char *args[] = { "migrate", "up", "--no-retry", NULL };
	char *out, *o;
	pid_t pid;
	int st;

	project_init(&p,
		     "    statement_lock_timeout: 200ms\n"
		     "    lock_retries: 50\n", NULL);
	tu_write(p.dir, "db/migrations/0001_add_c.up.sql",
		 "ALTER TABLE t ADD COLUMN c int;\n");
	commit(&p, "add c");
	report = session(p.url, "nightly-report");
	exec_ok(report, "BEGIN");
	exec_ok(report, "SELECT count(*) FROM t");
	out = out_path(&p, "run.out");
	pid = spawn_cairn(p.dir, out, args);
	st = wait_exit(pid, 30000);
	o = read_out(&p, "run.out");
	ck_assert_msg(st == 1, "cairn exited %d:\n%s", st, o);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry'"), 1);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM cairn.migrations"), 0);
	exec_ok(report, "COMMIT");
	PQfinish(report);
	free(o);
	free(out);
	project_dispose(&p);
}
END_TEST

/*
 * The default is 5 s: a migration that waits longer than that gives up
 * (one try, --no-retry) well before the blocker ends.  The per-file
 * directive still wins over the environment.
 */
START_TEST(test_default_and_directive)
{
	project p;
	PGconn *report;
	const char *args[] = { "migrate", "up", "--no-retry", NULL };
	char *out, *o;
	struct timespec t0, t1;
	double secs;
	pid_t pid;
	int st;

	project_init(&p, "    statement_lock_timeout: 1h\n", NULL);
	tu_write(p.dir, "db/migrations/0001_add_c.up.sql",
		 "-- cairn: lock-timeout=300ms\n"
		 "ALTER TABLE t ADD COLUMN c int;\n");
	commit(&p, "add c");
	report = session(p.url, "nightly-report");
	exec_ok(report, "BEGIN");
	exec_ok(report, "SELECT count(*) FROM t");
	out = out_path(&p, "run.out");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = spawn_cairn(p.dir, out, args);
	st = wait_exit(pid, 30000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	o = read_out(&p, "run.out");
	ck_assert_msg(st == 1, "cairn exited %d:\n%s", st, o);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 20, "the directive's 300ms was not used (%.1f s)", secs);
	exec_ok(report, "COMMIT");
	PQfinish(report);
	free(o);
	free(out);
	project_dispose(&p);

	/* no setting at all: 5 s */
	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_seen.up.sql",
		 "CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS lt,\n"
		 "  current_setting('statement_timeout') AS st;\n");
	commit(&p, "seen");
	{
		tu_result r;

		tu_cairn(&r, p.dir, "migrate", "up", NULL);
		ck_assert_msg(r.status == 0, "%s", r.err);
		tu_result_dispose(&r);
	}
	o = tu_db_value(p.url, "SELECT lt || '/' || st FROM seen");
	ck_assert_str_eq(o, "5s/0");
	free(o);
	project_dispose(&p);
}
END_TEST

/*
 * statement_timeout: off by default, per environment, and the per-file
 * directive wins.
 */
START_TEST(test_statement_timeout)
{
	project p;
	tu_result r;

	project_init(&p, "    statement_timeout: 200ms\n", NULL);
	tu_write(p.dir, "db/migrations/0001_slow.up.sql",
		 "-- cairn: statement-timeout=20s\n"
		 "SELECT pg_sleep(0.4);\n"
		 "CREATE TABLE slow_ok (x int);\n");
	tu_write(p.dir, "db/migrations/0002_slower.up.sql",
		 "SELECT pg_sleep(10);\n");
	commit(&p, "slow");
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "statement timeout"), "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "0002_slower"), "%s", r.err);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.migrations WHERE status = 'applied'"), 1);
	/* a statement timeout is not a lock timeout: not retried */
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry'"), 0);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/*
 * The blocker reaches on_error hooks: an exec hook's stdin JSON has
 * "blockers" with the blocking session's pid and application_name.
 */
START_TEST(test_on_error_hook_sees_blocker)
{
	project p;
	PGconn *report;
	char *ctx, want[64];
	tu_result r;

	project_init(&p,
		     "    statement_lock_timeout: 1s\n"
		     "    lock_retries: 0\n",
		     "  on_error:\n"
		     "    - run: \"cat > on_error.json\"\n");
	tu_write(p.dir, "db/migrations/0001_add_c.up.sql",
		 "ALTER TABLE t ADD COLUMN c int;\n");
	commit(&p, "add c");
	report = session(p.url, "nightly-report");
	exec_ok(report, "BEGIN");
	exec_ok(report, "SELECT count(*) FROM t");
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1, "%s", r.err);
	ctx = tu_read(p.dir, "on_error.json");
	ck_assert_ptr_nonnull(ctx);
	snprintf(want, sizeof(want), "\"pid\":%d", backend_pid(report));
	ck_assert_msg(tu_contains(ctx, "\"blockers\":[") &&
		      tu_contains(ctx, want) &&
		      tu_contains(ctx, "nightly-report"), "%s", ctx);
	exec_ok(report, "COMMIT");
	PQfinish(report);
	free(ctx);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/*
 * A no-transaction CREATE INDEX CONCURRENTLY that times out waiting for
 * an open writer leaves an INVALID index; cairn drops it and tries
 * again, and the run ends with one valid index.
 */
START_TEST(test_concurrent_index_retried)
{
	project p;
	PGconn *writer;
	char *out, *o;
	pid_t pid;
	int st;

	project_init(&p,
		     "    statement_lock_timeout: 200ms\n"
		     "    lock_retries: 50\n"
		     "    lock_retry_delay: 50ms\n", NULL);
	tu_write(p.dir, "db/migrations/0001_idx.up.sql",
		 "-- cairn: no-transaction\n"
		 "CREATE INDEX CONCURRENTLY t_note_idx ON t (note);\n");
	commit(&p, "index");
	writer = session(p.url, "writer");
	exec_ok(writer, "BEGIN");
	exec_ok(writer, "INSERT INTO t VALUES (1000, 'new')");
	out = out_path(&p, "run.out");
	pid = spawn_cairn(p.dir, out, up);
	/* the first try left its invalid index behind and was audited */
	ck_assert_msg(wait_lock_retry_row(p.url), "no try was audited");
	exec_ok(writer, "COMMIT");
	st = wait_exit(pid, 30000);
	o = read_out(&p, "run.out");
	ck_assert_msg(st == 0, "cairn exited %d:\n%s", st, o);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM pg_index i JOIN pg_class c "
		"ON c.oid = i.indexrelid WHERE c.relname LIKE 't_note_idx%'"), 1);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM pg_index i JOIN pg_class c "
		"ON c.oid = i.indexrelid WHERE c.relname = 't_note_idx' "
		"AND i.indisvalid"), 1);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.migrations WHERE status = 'applied'"), 1);
	PQfinish(writer);
	free(o);
	free(out);
	project_dispose(&p);
}
END_TEST

/*
 * A no-transaction statement that cannot be retried safely (REINDEX
 * CONCURRENTLY leaves _ccnew indexes behind) fails at its first lock
 * timeout with a message that says why it was not retried.
 */
START_TEST(test_unsafe_no_tx_not_retried)
{
	project p;
	PGconn *writer;
	char *out, *o;
	pid_t pid;
	int st;

	project_init(&p,
		     "    statement_lock_timeout: 200ms\n"
		     "    lock_retries: 50\n"
		     "    lock_retry_delay: 50ms\n", NULL);
	ck_assert_int_eq(tu_db_exec(p.url, "CREATE INDEX t_id ON t (id)"), 0);
	tu_write(p.dir, "db/migrations/0001_reindex.up.sql",
		 "-- cairn: no-transaction\n"
		 "REINDEX INDEX CONCURRENTLY t_id;\n");
	commit(&p, "reindex");
	writer = session(p.url, "writer");
	exec_ok(writer, "BEGIN");
	exec_ok(writer, "INSERT INTO t VALUES (1000, 'new')");
	out = out_path(&p, "run.out");
	pid = spawn_cairn(p.dir, out, up);
	st = wait_exit(pid, 30000);
	o = read_out(&p, "run.out");
	ck_assert_msg(st == 1, "cairn exited %d:\n%s", st, o);
	ck_assert_msg(tu_contains(o, "not retried"), "%s", o);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.audit WHERE outcome = 'lock_retry'"), 1);
	exec_ok(writer, "COMMIT");
	PQfinish(writer);
	free(o);
	free(out);
	project_dispose(&p);
}
END_TEST

/*
 * kill -9 of cairn while its migration waits for a lock: the server
 * notices the dead client (client_connection_check_interval) and ends
 * the orphaned backend, so when the blocker commits later, nothing of
 * the migration commits and no tracking row appears.  The statement lock
 * timeout is long here (1 min) so that only the connection check can
 * save the day; the no-transaction case is the one where the orphan
 * would otherwise commit on its own.
 */
static void kill9_case(bool no_tx)
{
	project p;
	PGconn *report;
	char *out;
	long orphan;
	pid_t pid;

	project_init(&p, "    statement_lock_timeout: 1min\n", NULL);
	tu_write(p.dir, "db/migrations/0001_add_c.up.sql",
		 no_tx ? "-- cairn: no-transaction\n"
			 "ALTER TABLE t ADD COLUMN c int;\n"
		       : "ALTER TABLE t ADD COLUMN c int;\n");
	commit(&p, "add c");
	report = session(p.url, "nightly-report");
	exec_ok(report, "BEGIN");
	exec_ok(report, "SELECT count(*) FROM t");
	out = out_path(&p, "run.out");
	pid = spawn_cairn(p.dir, out, up);
	orphan = wait_cairn_blocked(p.url);
	ck_assert_msg(orphan > 0, "the migration never waited for its lock");
	kill(pid, SIGKILL);
	ck_assert_int_eq(wait_exit(pid, 10000), 128 + SIGKILL);
	/* the server ends the orphan well before its lock timeout */
	ck_assert_msg(tu_db_wait_backend(p.url, (int)orphan, NULL, true, 20000),
		      "the orphaned backend %ld kept waiting", orphan);
	exec_ok(report, "COMMIT");
	/* nothing is left waiting that could still commit the migration */
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM pg_stat_activity WHERE datname = "
		"current_database() AND application_name LIKE 'cairn %'"), 0);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM information_schema.columns "
		"WHERE table_name = 't' AND column_name = 'c'"), 0);
	ck_assert_int_eq(count_of(p.url,
		"SELECT count(*) FROM cairn.migrations WHERE status = 'applied'"), 0);
	PQfinish(report);
	free(out);
	project_dispose(&p);
}

START_TEST(test_kill9_while_waiting_tx)
{
	kill9_case(false);
}
END_TEST

START_TEST(test_kill9_while_waiting_no_tx)
{
	kill9_case(true);
}
END_TEST

/*
 * The old key: lock_timeout keeps meaning the deploy-lock wait, with a
 * deprecation warning; deploy_lock_timeout says it without one; both at
 * once is a configuration error.
 */
START_TEST(test_lock_timeout_key_deprecated)
{
	project p;
	tu_result r;
	char yaml[1024];

	project_init(&p, "    lock_timeout: 30s\n", NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	commit(&p, "a");
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "deprecated") &&
		      tu_contains(r.err, "deploy_lock_timeout"), "%s", r.err);
	tu_result_dispose(&r);

	snprintf(yaml, sizeof(yaml),
		 "environments:\n  development:\n    database_url: \"%s\"\n"
		 "    deploy_lock_timeout: 30s\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_cairn(&r, p.dir, "--worktree", "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(!tu_contains(r.err, "deprecated"), "%s", r.err);
	tu_result_dispose(&r);

	snprintf(yaml, sizeof(yaml),
		 "environments:\n  development:\n    database_url: \"%s\"\n"
		 "    deploy_lock_timeout: 30s\n    lock_timeout: 10s\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_cairn(&r, p.dir, "--worktree", "migrate", "up", NULL);
	ck_assert_msg(r.status == 2, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "lock_timeout"), "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* --- the pieces, without a server ---------------------------------------- */

static char *redact(const char *sql, size_t max)
{
	cairn_buf b = CAIRN_BUF_INIT;

	ck_assert_int_eq(run__redact_query(&b, sql, max), 0);
	return cairn_buf_detach(&b);
}

/* Literals of every kind become '?'; comments go; identifiers stay. */
START_TEST(test_redact_query)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "SELECT * FROM t WHERE a = 'x''y' AND b = 42",
		  "SELECT * FROM t WHERE a = ? AND b = ?" },
		{ "select E'it\\'s', $$body$$, $q$a$b$q$, 1.5e3, t2.c3",
		  "select E?, ?, ?, ?, t2.c3" },
		{ "UPDATE \"T 1\" SET x = -7 -- note 'secret'\n  WHERE id = $1",
		  "UPDATE \"T 1\" SET x = -? WHERE id = $1" },
		{ "SELECT /* 'hidden' */ 'open", "SELECT ?" },
	};
	char *r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = redact(cases[i].in, 200);
		ck_assert_msg(!strcmp(r, cases[i].out), "%s -> %s", cases[i].in, r);
		free(r);
	}
	/* at most max characters, never half a UTF-8 sequence */
	r = redact("SELECT 'a', \xc3\xa9\xc3\xa9\xc3\xa9", 11);
	ck_assert_str_eq(r, "SELECT ?, \xc3\xa9");
	free(r);
}
END_TEST

/* Which no-transaction statements may run again after a lock timeout. */
START_TEST(test_no_tx_retry_plan)
{
	static const struct {
		const char *sql;
		bool safe;
		const char *index, *table;
	} cases[] = {
		{ "ALTER TABLE t ADD COLUMN c int", true, NULL, NULL },
		{ "CREATE INDEX CONCURRENTLY i1 ON public.t (a)", true, "i1", "public.t" },
		{ "create unique index concurrently if not exists \"I 2\" on only \"T\" (a)",
		  true, "I 2", "\"T\"" },
		{ "CREATE INDEX CONCURRENTLY ON t (a)", false, NULL, NULL },
		{ "DROP INDEX CONCURRENTLY i1", true, NULL, NULL },
		{ "REINDEX INDEX CONCURRENTLY i1", false, NULL, NULL },
		{ "ALTER TABLE p DETACH PARTITION c CONCURRENTLY", false, NULL, NULL },
		{ "SELECT 'concurrently'", true, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool safe;
		const char *why;
		char *index, *table;

		ck_assert_int_eq(run__no_tx_retry_plan(cases[i].sql,
			strlen(cases[i].sql), &safe, &why, &index, &table), 0);
		ck_assert_msg(safe == cases[i].safe, "%s", cases[i].sql);
		ck_assert_msg(safe || why, "%s: no reason", cases[i].sql);
		if (cases[i].index) {
			ck_assert_str_eq(index, cases[i].index);
			ck_assert_str_eq(table, cases[i].table);
		} else {
			ck_assert_ptr_null(index);
		}
		free(index);
		free(table);
	}
}
END_TEST

static cairn_config *parse_ok(const char *yaml)
{
	cairn_config *cfg = NULL;

	ck_assert_msg(cairn_config_parse(&cfg, "cairn.yaml", yaml, strlen(yaml),
					 NULL) == 0,
		      "%s", cairn_error_last() ? cairn_error_last()->message : "");
	return cfg;
}

/* The keys of issue 11 as the library reads them. */
START_TEST(test_config_keys)
{
	static const char *const bad[] = {
		"environments:\n  p:\n    lock_retries: -1\n",
		"environments:\n  p:\n    lock_retries: 101\n",
		"environments:\n  p:\n    statement_lock_timeout: soon\n",
		"environments:\n  p:\n    lock_retry_delay: 0\n",
		"environments:\n  p:\n    lock_timeout: 1s\n    deploy_lock_timeout: 2s\n",
	};
	cairn_config *cfg;
	const cairn_environment *e;

	cfg = parse_ok("environments:\n  p:\n    deploy_lock_timeout: 2min\n"
		       "    statement_lock_timeout: 3s\n    statement_timeout: 1h\n"
		       "    lock_retries: 0\n    lock_retry_delay: 250ms\n"
		       "  q:\n    statement_lock_timeout: 0\n"
		       "  r:\n    lock_timeout: 10s\n");
	e = cairn_config_environment(cfg, "p");
	ck_assert_uint_eq(e->lock_timeout_ms, 120000);
	ck_assert_uint_eq(e->statement_lock_timeout_ms, 3000);
	ck_assert_uint_eq(e->statement_timeout_ms, 3600000);
	ck_assert_uint_eq(e->lock_tries, 1);
	ck_assert_uint_eq(e->lock_retry_delay_ms, 250);
	e = cairn_config_environment(cfg, "q");
	ck_assert(e->statement_lock_timeout_ms == CAIRN_CONFIG_TIMEOUT_OFF);
	ck_assert_uint_eq(e->lock_tries, 0); /* the default */
	e = cairn_config_environment(cfg, "r");
	ck_assert_uint_eq(e->lock_timeout_ms, 10000);
	ck_assert_uint_eq(cfg->warnings_count, 1);
	ck_assert_msg(tu_contains(cfg->warnings[0], "cairn.yaml:11:5:") &&
		      tu_contains(cfg->warnings[0], "deploy_lock_timeout"),
		      "%s", cfg->warnings[0]);
	cairn_config_free(cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = NULL;
		ck_assert_msg(cairn_config_parse(&cfg, "cairn.yaml", bad[i],
						 strlen(bad[i]), NULL) < 0,
			      "accepted: %s", bad[i]);
		cairn_error_clear();
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("locktimeout");
	TCase *tc = tcase_create("locktimeout");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_blocked_migration_gives_up_and_names_blocker);
	tcase_add_test(tc, test_retry_applies_after_blocker_commits);
	tcase_add_test(tc, test_no_retry_flag);
	tcase_add_test(tc, test_default_and_directive);
	tcase_add_test(tc, test_statement_timeout);
	tcase_add_test(tc, test_on_error_hook_sees_blocker);
	tcase_add_test(tc, test_concurrent_index_retried);
	tcase_add_test(tc, test_unsafe_no_tx_not_retried);
	tcase_add_test(tc, test_kill9_while_waiting_tx);
	tcase_add_test(tc, test_kill9_while_waiting_no_tx);
	tcase_add_test(tc, test_lock_timeout_key_deprecated);
	suite_add_tcase(s, tc);
	tc = tcase_create("pieces");
	tcase_add_test(tc, test_redact_query);
	tcase_add_test(tc, test_no_tx_retry_plan);
	tcase_add_test(tc, test_config_keys);
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
