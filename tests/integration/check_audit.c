/*
 * check_audit.c - cairn's schema and audit trail on a real PostgreSQL
 * (src/engine/schema.c, src/engine/audit.c).
 *
 * Each test works in its own schema ("t_audit_<pid>_<n>") and drops it at
 * the end, so tests are independent and may run in any order.  Covered:
 * creating the schema once (one round trip when it exists, counted from
 * libpq's protocol trace), inside a caller's transaction, by two processes
 * at once, refusing a schema newer than this cairn; the append-only
 * triggers; the chain after plain, concurrent and interleaved appends;
 * every kind of tampering a superuser can do with the triggers disabled
 * (edit, delete, swapped ids, forged hash); the insert statement the
 * engine pastes into its batches, committed and rolled back; row checks;
 * listing with since/limit; and schema names that need quoting.
 *
 * Needs CAIRN_TEST_DB_URL (tests/run sets it) and a superuser there.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/audit.h"
#include "cairn/audit.h"
#include "cairn/schema.h"
#include "db.h"
#include "util/error.h"
#include "testutil.h"

static cairn_db *db;	 /* connected to the test's schema */
static char schema[128]; /* its name */
static char ident[160];	 /* its quoted identifier */
static int serial;

static const char *errmsg(void)
{
	const cairn_error *e = cairn_error_last();

	return e ? e->message : "(no error)";
}

static cairn_db *connect_to(const char *name)
{
	cairn_db_options o = CAIRN_DB_OPTIONS_INIT;
	cairn_db *d = NULL;

	o.conninfo = tu_db_url();
	o.schema = name;
	ck_assert_msg(cairn_db_connect(&d, &o) == 0, "connect: %s", errmsg());
	return d;
}

static void use_schema(const char *name)
{
	snprintf(schema, sizeof(schema), "%s", name);
	if (db)
		cairn_db_free(db);
	db = connect_to(schema);
	snprintf(ident, sizeof(ident), "%s", cairn_db__schema_ident(db));
}

static void setup(void)
{
	char name[64];

	ck_assert_msg(tu_db_url() != NULL, "CAIRN_TEST_DB_URL is not set");
	snprintf(name, sizeof(name), "t_audit_%d_%d", (int)getpid(), ++serial);
	use_schema(name);
}

static void teardown(void)
{
	char sql[256];

	if (!db)
		return;
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", ident);
	cairn_db_exec(db, "ROLLBACK");
	cairn_db_exec(db, sql);
	cairn_db_free(db);
	db = NULL;
}

static void exec_ok(cairn_db *d, const char *sql)
{
	ck_assert_msg(cairn_db_exec(d, sql) == 0, "%s: %s", sql, errmsg());
}

/* Runs sql with @ replaced by the schema identifier. */
static int run_s(cairn_db *d, const char *tmpl)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int rc;

	for (const char *p = tmpl; *p; p++)
		if (*p == '@')
			cairn_buf_puts(&b, ident);
		else
			cairn_buf_putc(&b, *p);
	rc = cairn_db_exec(d, b.ptr);
	cairn_buf_dispose(&b);
	return rc;
}

static void run_s_ok(cairn_db *d, const char *tmpl)
{
	ck_assert_msg(run_s(d, tmpl) == 0, "%s: %s", tmpl, errmsg());
}

/* First column of the first row of sql (@ = schema), as a new string. */
static char *value(const char *tmpl)
{
	cairn_buf b = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	char *v = NULL;

	for (const char *p = tmpl; *p; p++)
		if (*p == '@')
			cairn_buf_puts(&b, ident);
		else
			cairn_buf_putc(&b, *p);
	ck_assert_msg(cairn_db__query(db, &res, b.ptr, 0, NULL) == 0, "%s: %s",
		      b.ptr, errmsg());
	if (PQntuples(res) && !PQgetisnull(res, 0, 0))
		v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	cairn_buf_dispose(&b);
	return v;
}

static long long count_rows(void)
{
	char *v = value("SELECT count(*) FROM @.audit");
	long long n = strtoll(v, NULL, 10);

	free(v);
	return n;
}

static void ensure_ok(cairn_db *d)
{
	ck_assert_msg(cairn_schema_ensure(d) == 0, "ensure: %s", errmsg());
}

static void append_ok(cairn_db *d, const char *run, const char *event,
		      const char *version, const char *detail)
{
	cairn_audit_row r = {0};

	r.run_id = run;
	r.environment = "test";
	r.event = event;
	r.version = version;
	r.name = version ? "add_things" : NULL;
	r.commit_sha = "9fceb02d0ae598e95dc970b74767f19372d61af8";
	r.author = "Ann O'Neil <ann@example.com>";
	r.actor = "Bob \"the deployer\" <bob@example.com>";
	r.deploy_rev = "0123456789abcdef";
	r.outcome = "ok";
	r.detail_json = detail;
	ck_assert_msg(cairn_audit_append(d, &r) == 0, "append: %s", errmsg());
}

static void append_n(int n)
{
	char v[16];

	for (int i = 1; i <= n; i++) {
		snprintf(v, sizeof(v), "%04d", i);
		append_ok(db, "run-1", "post_execute", i % 3 ? v : NULL,
			  i % 2 ? "{\"i\": 1, \"s\": \"x'y\\\\z\"}" : NULL);
	}
}

/* Verifies and checks the outcome; reason must contain `want`. */
static void verify_expect(bool ok, long long bad_id, const char *want)
{
	cairn_audit_verify_result r;

	ck_assert_msg(cairn_audit_verify(&r, db) == 0, "verify: %s", errmsg());
	ck_assert_msg(r.ok == ok, "ok=%d reason=%s", r.ok,
		      r.reason ? r.reason : "(none)");
	ck_assert_int_eq(r.first_bad_id, bad_id);
	if (want)
		ck_assert_msg(tu_contains(r.reason, want), "reason: %s",
			      r.reason ? r.reason : "(none)");
	else
		ck_assert_ptr_null(r.reason);
	ck_assert_ptr_nonnull(r.last_hash);
	cairn_audit_verify_result_dispose(&r);
}

static void tamper(const char *tmpl)
{
	run_s_ok(db, "ALTER TABLE @.audit DISABLE TRIGGER USER");
	run_s_ok(db, tmpl);
	run_s_ok(db, "ALTER TABLE @.audit ENABLE TRIGGER USER");
}

/* Counts the statements sent while fn runs (libpq protocol trace). */
static int round_trips(int (*fn)(cairn_db *), int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	PGconn *conn = cairn_db__conn(db);
	int n = 0;

	ck_assert_ptr_nonnull(f);
	PQtrace(conn, f);
	PQsetTraceFlags(conn, PQTRACE_SUPPRESS_TIMESTAMPS);
	*rc = fn(db);
	PQuntrace(conn);
	fclose(f);
	/* a simple Query or an extended-protocol Sync ends a round trip */
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');

		if (!strncmp(line, "F\t", 2) &&
		    (strstr(line, "\tQuery\t") || strstr(line, "\tSync")))
			n++;
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return n;
}

START_TEST(test_ensure_twice_is_noop)
{
	int v = -1, rc;
	char *at1, *at2;

	ck_assert_int_eq(cairn_schema_version(&v, db), 0);
	ck_assert_int_eq(v, 0);
	ensure_ok(db);
	ck_assert_int_eq(cairn_schema_version(&v, db), 0);
	ck_assert_int_eq(v, CAIRN_SCHEMA_VERSION);
	at1 = value(
	    "SELECT upgraded_at::text || cairn_version FROM @.schema_version");
	ck_assert_int_eq(round_trips(cairn_schema_ensure, &rc), 1);
	ck_assert_int_eq(rc, 0);
	at2 = value(
	    "SELECT upgraded_at::text || cairn_version FROM @.schema_version");
	ck_assert_str_eq(at1, at2);
	free(at1);
	free(at2);
	/* one row only */
	ck_assert_int_ne(
	    run_s(db, "INSERT INTO @.schema_version VALUES (1, 'x')"), 0);
	/* every table is there */
	free(value("SELECT count(*) FROM @.migrations"));
	ck_assert_int_eq(count_rows(), 0);
	/* inside a transaction it still works, and changes nothing */
	exec_ok(db, "BEGIN");
	ensure_ok(db);
	exec_ok(db, "COMMIT");
}
END_TEST

START_TEST(test_ensure_in_transaction)
{
	int v;

	/* joins the caller's transaction: a rollback undoes it */
	exec_ok(db, "BEGIN");
	ensure_ok(db);
	ck_assert_int_eq(cairn_schema_version(&v, db), 0);
	ck_assert_int_eq(v, CAIRN_SCHEMA_VERSION);
	exec_ok(db, "ROLLBACK");
	ck_assert_int_eq(cairn_schema_version(&v, db), 0);
	ck_assert_int_eq(v, 0);
	exec_ok(db, "BEGIN");
	ensure_ok(db);
	exec_ok(db, "COMMIT");
	ck_assert_int_eq(cairn_schema_version(&v, db), 0);
	ck_assert_int_eq(v, CAIRN_SCHEMA_VERSION);
	/* a failed transaction is refused with a clear message */
	exec_ok(db, "BEGIN");
	ck_assert_int_ne(cairn_db_exec(db, "SELECT 1/0"), 0);
	ck_assert_int_ne(cairn_schema_ensure(db), 0);
	ck_assert(tu_contains(errmsg(), "transaction has failed"));
	exec_ok(db, "ROLLBACK");
}
END_TEST

START_TEST(test_ensure_concurrent)
{
	/* several fresh schemas, two processes racing on each */
	for (int round = 0; round < 4; round++) {
		char name[64];
		int go[2], ready[2];
		pid_t pid[2];
		char two[2];

		snprintf(name, sizeof(name), "t_audit_%d_race%d", (int)getpid(),
			 round);
		use_schema(name);
		ck_assert_int_eq(pipe(go), 0);
		ck_assert_int_eq(pipe(ready), 0);
		for (int i = 0; i < 2; i++) {
			pid[i] = fork();
			ck_assert_int_ge(pid[i], 0);
			if (pid[i] == 0) {
				cairn_db *d = connect_to(name);
				char c = 'r';
				int rc;

				close(go[1]);
				close(ready[0]);
				/* connected: say so, then wait for go */
				if (write(ready[1], &c, 1) != 1)
					_exit(3);
				close(ready[1]);
				if (read(go[0], &c, 1) != 0)
					_exit(3);
				rc = cairn_schema_ensure(d);
				if (rc)
					fprintf(stderr, "child: %s\n",
						errmsg());
				cairn_db_free(d);
				_exit(rc ? 1 : 0);
			}
		}
		close(go[0]);
		close(ready[1]);
		/* both connected and waiting (EOF instead if a child died) */
		ck_assert_int_eq(read(ready[0], two, 1), 1);
		ck_assert_int_eq(read(ready[0], two + 1, 1), 1);
		close(ready[0]);
		close(go[1]);	/* go */
		for (int i = 0; i < 2; i++) {
			int st;

			ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
			ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
				      "child %d of round %d failed", i, round);
		}
		append_ok(db, "r", "e", NULL, NULL);
		verify_expect(true, 0, NULL);
		if (round < 3)
			teardown();
	}
}
END_TEST

START_TEST(test_ensure_refuses_newer_schema)
{
	const cairn_error *e;

	ensure_ok(db);
	run_s_ok(
	    db,
	    "UPDATE @.schema_version SET version = 99, cairn_version = '9.0.0'");
	ck_assert_int_ne(cairn_schema_ensure(db), 0);
	e = cairn_error_last();
	ck_assert(tu_contains(e->message, "newer than this cairn"));
	ck_assert(tu_contains(e->message, schema));
	ck_assert(tu_contains(e->hint, "9.0.0"));
	/* the same through the transaction path */
	exec_ok(db, "BEGIN");
	ck_assert_int_ne(cairn_schema_ensure(db), 0);
	ck_assert(tu_contains(errmsg(), "newer than this cairn"));
	exec_ok(db, "ROLLBACK");
	/* a version table without its row is damage, not a fresh start */
	run_s_ok(db, "DELETE FROM @.schema_version");
	ck_assert_int_ne(cairn_schema_ensure(db), 0);
	ck_assert(tu_contains(errmsg(), "is damaged"));
}
END_TEST

START_TEST(test_append_only)
{
	ensure_ok(db);
	append_n(3);
	ck_assert_int_ne(
	    run_s(db, "UPDATE @.audit SET outcome = 'x' WHERE id = 2"), 0);
	ck_assert_msg(tu_contains(errmsg(), "append-only: UPDATE"), "%s",
		      errmsg());
	ck_assert_int_ne(run_s(db, "DELETE FROM @.audit WHERE id = 3"), 0);
	ck_assert_msg(tu_contains(errmsg(), "append-only: DELETE"), "%s",
		      errmsg());
	ck_assert_int_ne(run_s(db, "TRUNCATE @.audit"), 0);
	ck_assert_msg(tu_contains(errmsg(), "append-only: TRUNCATE"), "%s",
		      errmsg());
	ck_assert_str_eq(cairn_error_last()->sqlstate, "42501");
	ck_assert_int_eq(count_rows(), 3);
	verify_expect(true, 0, NULL);
	/* ids, links and hashes given by an inserter are replaced */
	run_s_ok(
	    db,
	    "INSERT INTO @.audit (id, run_id, event, outcome, prev_hash, hash) VALUES (1, 'r', 'e', 'o', 'forged', 'forged')");
	verify_expect(true, 0, NULL);
}
END_TEST

START_TEST(test_chain_verifies)
{
	cairn_audit_verify_result r;
	cairn_audit_entry *e;
	size_t n;
	char *canon, want[1024];

	ensure_ok(db);
	verify_expect(true, 0, NULL); /* empty chain */
	ck_assert_int_eq(cairn_audit_verify(&r, db), 0);
	ck_assert_str_eq(r.last_hash, CAIRN_AUDIT_GENESIS);
	ck_assert_uint_eq(r.rows, 0);
	cairn_audit_verify_result_dispose(&r);

	append_n(40);
	ck_assert_int_eq(cairn_audit_verify(&r, db), 0);
	ck_assert(r.ok);
	ck_assert_uint_eq(r.rows, 40);
	ck_assert_int_eq(cairn_audit_list(&e, &n, db, NULL, 0), 0);
	ck_assert_uint_eq(n, 40);
	ck_assert_str_eq(r.last_hash, e[39].hash);
	ck_assert_str_eq(e[0].prev_hash, CAIRN_AUDIT_GENESIS);
	for (size_t i = 1; i < n; i++)
		ck_assert_str_eq(e[i].prev_hash, e[i - 1].hash);
	cairn_audit_verify_result_dispose(&r);

	/* the canonical form, spelled out for row 2 */
	ck_assert_str_eq(e[1].version, "2");
	snprintf(
	    want, sizeof(want),
	    "[\"%s\", %lld, \"%s\", \"run-1\", \"test\", \"post_execute\", "
	    "\"2\", \"add_things\", \"9fceb02d0ae598e95dc970b74767f19372d61af8\", "
	    "\"Ann O'Neil <ann@example.com>\", "
	    "\"Bob \\\"the deployer\\\" <bob@example.com>\", "
	    "\"0123456789abcdef\", \"ok\", {}]",
	    e[0].hash, (long long)e[1].id, e[1].at);
	{
		char sql[2048];

		snprintf(sql, sizeof(sql),
			 "SELECT %s FROM @.audit AS r WHERE r.id = %lld",
			 cairn_audit__canonical_sql, (long long)e[1].id);
		canon = value(sql);
	}
	ck_assert_str_eq(canon, want);
	{
		char hex[65];

		cairn_sha256_hex(hex, canon, strlen(canon));
		ck_assert_str_eq(hex, e[1].hash);
	}
	free(canon);
	/* ISO 8601 UTC with microseconds */
	ck_assert_uint_eq(strlen(e[1].at), 27);
	ck_assert_int_eq(e[1].at[10], 'T');
	ck_assert_int_eq(e[1].at[26], 'Z');
	ck_assert_str_eq(e[0].detail, "{\"i\": 1, \"s\": \"x'y\\\\z\"}");
	ck_assert_ptr_null(e[2].version);
	cairn_audit_entries_free(e, n);
}
END_TEST

struct worker {
	const char *schema;
	int id;
	int failed;
	char err[256];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	cairn_db_options o = CAIRN_DB_OPTIONS_INIT;
	cairn_db *d = NULL;
	char run[32];

	o.conninfo = tu_db_url();
	o.schema = w->schema;
	snprintf(run, sizeof(run), "worker-%d", w->id);
	if (cairn_db_connect(&d, &o) < 0)
		goto fail;
	for (int i = 0; i < 60; i++) {
		cairn_audit_row r = {0};

		r.run_id = run;
		r.event = "post_execute";
		r.outcome = i % 7 == 3 ? "rolled back" : "ok";
		if (cairn_db_exec(d, "BEGIN") < 0 ||
		    cairn_audit_append(d, &r) < 0 ||
		    cairn_db_exec(d, "SELECT pg_sleep(0.001)") < 0 ||
		    cairn_audit_append(d, &r) < 0 ||
		    cairn_db_exec(d, i % 7 == 3 ? "ROLLBACK" : "COMMIT") < 0)
			goto fail;
		if (cairn_audit_append(d, &r) < 0)
			goto fail;
	}
	cairn_db_free(d);
	return NULL;
fail:
	w->failed = 1;
	snprintf(w->err, sizeof(w->err), "%s", errmsg());
	cairn_db_free(d);
	return NULL;
}

START_TEST(test_concurrent_appends)
{
	struct worker w[3] = {
	    {schema, 1, 0, ""}, {schema, 2, 0, ""}, {schema, 3, 0, ""}};
	pthread_t t[3];

	ensure_ok(db);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(
		    pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(!w[i].failed, "worker %d: %s", i, w[i].err);
	}
	/* 60 iterations of 3 rows each; 2 rolled back in 9 of them */
	ck_assert_int_eq(count_rows(), 3 * (60 * 3 - 2 * 9));
	verify_expect(true, 0, NULL);
}
END_TEST

START_TEST(test_interleaved_transactions)
{
	cairn_db *b;
	cairn_buf sql = CAIRN_BUF_INIT;
	cairn_audit_row r = {0};
	PGconn *bc;
	PGresult *res;

	ensure_ok(db);
	b = connect_to(schema);
	bc = cairn_db__conn(b);
	r.run_id = "b";
	r.event = "e";
	r.outcome = "ok";
	ck_assert_int_eq(cairn_audit__sql(&sql, b, &r, NULL), 0);

	append_ok(db, "a", "e", NULL, NULL);
	exec_ok(db, "BEGIN");
	append_ok(db, "a", "e", NULL, NULL); /* a holds the chain lock */
	exec_ok(b, "BEGIN");
	ck_assert_int_eq(PQsendQuery(bc, sql.ptr), 1); /* b waits for it */
	ck_assert_msg(tu_db_wait_backend(tu_db_url(), PQbackendPID(bc), "Lock",
					 false, TU_WAIT_MS),
		      "b's append never waited for the chain lock");
	PQconsumeInput(bc);
	ck_assert_int_eq(PQisBusy(bc), 1);
	append_ok(db, "a", "e", NULL, NULL);
	exec_ok(db, "COMMIT"); /* b goes on */
	while ((res = PQgetResult(bc))) {
		ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
	}
	append_ok(b, "b", "e", NULL, NULL);
	exec_ok(b, "COMMIT");
	append_ok(db, "a", "e", NULL, NULL);
	ck_assert_int_eq(count_rows(), 6);
	verify_expect(true, 0, NULL);
	cairn_buf_dispose(&sql);
	cairn_db_free(b);
}
END_TEST

START_TEST(test_isolation_refused)
{
	cairn_audit_row r = {0};

	ensure_ok(db);
	r.run_id = "r";
	r.event = "e";
	r.outcome = "ok";
	exec_ok(db, "BEGIN ISOLATION LEVEL REPEATABLE READ");
	ck_assert_int_ne(cairn_audit_append(db, &r), 0);
	ck_assert_msg(tu_contains(errmsg(), "repeatable read transaction"),
		      "%s", errmsg());
	ck_assert(tu_contains(cairn_error_last()->hint, "read committed"));
	exec_ok(db, "ROLLBACK");
}
END_TEST

START_TEST(test_edit_detected)
{
	ensure_ok(db);
	append_n(6);
	tamper("UPDATE @.audit SET outcome = 'failed' WHERE id = 3");
	verify_expect(false, 3,
		      "row 3 was edited: its hash does not match its contents");
}
END_TEST

START_TEST(test_edit_detail_detected)
{
	ensure_ok(db);
	append_n(6);
	tamper(
	    "UPDATE @.audit SET detail = detail || '{\"i\": 2}' WHERE id = 5");
	verify_expect(false, 5, "row 5 was edited");
}
END_TEST

START_TEST(test_delete_detected)
{
	ensure_ok(db);
	append_n(6);
	tamper("DELETE FROM @.audit WHERE id = 3");
	verify_expect(false, 4, "row 4 does not follow row 2");
}
END_TEST

START_TEST(test_delete_first_detected)
{
	ensure_ok(db);
	append_n(3);
	tamper("DELETE FROM @.audit WHERE id = 1");
	verify_expect(false, 2,
		      "row 2 is the first row but does not start the chain");
}
END_TEST

START_TEST(test_swap_detected)
{
	ensure_ok(db);
	append_n(6);
	tamper("UPDATE @.audit SET id = 1000 WHERE id = 3;"
	       "UPDATE @.audit SET id = 3 WHERE id = 4;"
	       "UPDATE @.audit SET id = 4 WHERE id = 1000");
	verify_expect(false, 3, "row 3 does not follow row 2");
}
END_TEST

START_TEST(test_forged_hash_detected)
{
	char sql[2048];

	ensure_ok(db);
	append_n(6);
	/* a made-up hash */
	tamper("UPDATE @.audit SET hash = repeat('f', 64) WHERE id = 6");
	verify_expect(false, 6, "row 6 was edited");
	teardown();
	setup();
	/* an edit with a correctly recomputed hash breaks the next link */
	ensure_ok(db);
	append_n(6);
	snprintf(
	    sql, sizeof(sql),
	    "UPDATE @.audit SET outcome = 'nothing happened' WHERE id = 3;"
	    "UPDATE @.audit AS r SET hash = encode(sha256(convert_to(%s, 'UTF8')), 'hex') WHERE r.id = 3",
	    cairn_audit__canonical_sql);
	tamper(sql);
	verify_expect(false, 4, "row 4 does not follow row 3");
}
END_TEST

START_TEST(test_sql_in_batch)
{
	cairn_buf sql = CAIRN_BUF_INIT, batch = CAIRN_BUF_INIT;
	cairn_audit_row r = {0};
	char *v;

	ensure_ok(db);
	r.run_id = "run'7";
	r.environment = "prod\\uction";
	r.event = "post_execute";
	r.version = "00042";
	r.name = "it's \"quoted\"; DROP TABLE x; --";
	r.outcome = "applied";
	r.detail_json = "{\"meta\": {\"k\": \"v'\"}}";
	ck_assert_int_eq(
	    cairn_audit__sql(&sql, db, &r,
			     "jsonb_build_object('duration_ms', 12)"),
	    0);
	ck_assert_ptr_null(strstr(sql.ptr + strlen(sql.ptr) - 1, ";"));
	cairn_buf_printf(&batch,
			 "BEGIN; CREATE TABLE %s.t (x int); %s; "
			 "INSERT INTO %s.t VALUES (1); COMMIT",
			 ident, sql.ptr, ident);
	exec_ok(db, batch.ptr);
	ck_assert_int_eq(count_rows(), 1);
	v = value(
	    "SELECT version::text || '|' || name || '|' || run_id || '|' || environment || '|' || detail::text FROM @.audit");
	ck_assert_str_eq(
	    v,
	    "42|it's \"quoted\"; DROP TABLE x; --|run'7|prod\\uction|{\"meta\": {\"k\": \"v'\"}, \"duration_ms\": 12}");
	free(v);

	/* the same statement rolled back leaves nothing, not even a link */
	cairn_buf_clear(&batch);
	cairn_buf_printf(&batch,
			 "BEGIN; %s; INSERT INTO %s.t VALUES (2); ROLLBACK",
			 sql.ptr, ident);
	exec_ok(db, batch.ptr);
	ck_assert_int_eq(count_rows(), 1);
	/* a failing statement after it in the batch takes it along */
	cairn_buf_clear(&batch);
	cairn_buf_printf(&batch, "BEGIN; %s; SELECT 1/0; COMMIT", sql.ptr);
	ck_assert_int_ne(cairn_db_exec(db, batch.ptr), 0);
	exec_ok(db, "ROLLBACK");
	ck_assert_int_eq(count_rows(), 1);
	append_ok(db, "r", "e", "7", NULL);
	ck_assert_int_eq(count_rows(), 2);
	verify_expect(true, 0, NULL);
	v = value("SELECT count(*) FROM @.t");
	ck_assert_str_eq(v, "1");
	free(v);
	cairn_buf_dispose(&sql);
	cairn_buf_dispose(&batch);
}
END_TEST

START_TEST(test_row_checks)
{
	cairn_buf sql = CAIRN_BUF_INIT;
	cairn_audit_row r = {0};

	ensure_ok(db);
	r.event = "e";
	r.outcome = "o";
	ck_assert_int_ne(cairn_audit__sql(&sql, db, &r, NULL), 0);
	ck_assert(tu_contains(errmsg(), "needs a run id"));
	r.run_id = "r";
	r.version = "12a";
	ck_assert_int_ne(cairn_audit_append(db, &r), 0);
	ck_assert(tu_contains(errmsg(), "'12a'"));
	r.version = "123456789012345678901";
	ck_assert_int_ne(cairn_audit_append(db, &r), 0);
	r.version = "";
	ck_assert_int_ne(cairn_audit_append(db, &r), 0);
	r.version = "12345678901234567890";
	r.detail_json = "[1, 2]";
	cairn_buf_puts(&sql, "SELECT 1; ");
	ck_assert_int_ne(cairn_audit__sql(&sql, db, &r, NULL), 0);
	ck_assert_str_eq(sql.ptr, "SELECT 1; ");
	cairn_buf_clear(&sql);
	ck_assert_int_ne(cairn_audit_append(db, &r), 0);
	ck_assert(tu_contains(errmsg(), "not a JSON object"));
	r.detail_json = "{\"a\": ";
	ck_assert_int_ne(cairn_audit_append(db, &r), 0);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_USAGE);
	ck_assert_uint_eq(sql.size, 0);
	ck_assert_int_eq(count_rows(), 0);
	r.detail_json = "{}";
	ck_assert_int_eq(cairn_audit_append(db, &r), 0);
	ck_assert_int_eq(count_rows(), 1);
	/* without the schema: an SQL error naming the table */
	teardown();
	setup();
	ck_assert_int_ne(cairn_audit_append(db, &r), 0);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_SQL);
	ck_assert(tu_contains(errmsg(), "cannot append to the audit trail"));
	cairn_buf_dispose(&sql);
}
END_TEST

/* The server's clock has moved past the newest row's time. */
static bool clock_past_newest_row(void *payload)
{
	char *v = value("SELECT clock_timestamp() > max(at) FROM @.audit");
	bool yes = v && !strcmp(v, "t");

	(void)payload;
	free(v);
	return yes;
}

START_TEST(test_list_since_limit)
{
	cairn_audit_entry *e = NULL, *all;
	size_t n = 1, nall;
	char run[32];

	ensure_ok(db);
	ck_assert_int_eq(cairn_audit_list(&e, &n, db, NULL, 0), 0);
	ck_assert_ptr_null(e);
	ck_assert_uint_eq(n, 0);
	for (int i = 0; i < 6; i++) {
		snprintf(run, sizeof(run), "r%d", i);
		append_ok(db, run, "e", NULL, NULL);
		/* every row its own time, so "since" has one answer */
		ck_assert(tu_wait_until(clock_past_newest_row, NULL,
					TU_WAIT_MS));
	}
	ck_assert_int_eq(cairn_audit_list(&all, &nall, db, NULL, 0), 0);
	ck_assert_uint_eq(nall, 6);
	for (size_t i = 0; i < nall; i++) {
		snprintf(run, sizeof(run), "r%zu", i);
		ck_assert_str_eq(all[i].run_id, run);
		ck_assert_int_eq(all[i].id, (int64_t)i + 1);
	}
	/* since row 3's time: rows 3..6 */
	ck_assert_int_eq(cairn_audit_list(&e, &n, db, all[2].at, 0), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(e[0].run_id, "r2");
	cairn_audit_entries_free(e, n);
	/* the newest two, oldest first */
	ck_assert_int_eq(cairn_audit_list(&e, &n, db, NULL, 2), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(e[0].run_id, "r4");
	ck_assert_str_eq(e[1].run_id, "r5");
	cairn_audit_entries_free(e, n);
	/* both; a limit above the count */
	ck_assert_int_eq(cairn_audit_list(&e, &n, db, all[2].at, 3), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(e[0].run_id, "r3");
	cairn_audit_entries_free(e, n);
	ck_assert_int_eq(cairn_audit_list(&e, &n, db, all[2].at, 100), 0);
	ck_assert_uint_eq(n, 4);
	cairn_audit_entries_free(e, n);
	ck_assert_int_eq(cairn_audit_list(&e, &n, db, "2999-01-01", 0), 0);
	ck_assert_uint_eq(n, 0);
	/* a bad time */
	ck_assert_int_ne(cairn_audit_list(&e, &n, db, "yesterday-ish", 0), 0);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_SQL);
	ck_assert(tu_contains(errmsg(), "cannot read the audit trail"));
	cairn_audit_entries_free(all, nall);
	cairn_audit_entries_free(NULL, 0);
}
END_TEST

START_TEST(test_schema_name_quoting)
{
	char name[96];

	snprintf(name, sizeof(name), "t_audit_%d_Q\"x'y $z$ @", (int)getpid());
	use_schema(name);
	ensure_ok(db);
	ensure_ok(db);
	append_n(5);
	verify_expect(true, 0, NULL);
	tamper("UPDATE @.audit SET actor = 'someone else' WHERE id = 2");
	verify_expect(false, 2, "row 2 was edited");
}
END_TEST

START_TEST(test_verify_many_rows)
{
	cairn_audit_verify_result r;

	ensure_ok(db);
	run_s_ok(db, "INSERT INTO @.audit (run_id, event, outcome, detail) "
		     "SELECT 'bulk', 'e', 'ok', jsonb_build_object('n', g) "
		     "FROM generate_series(1, 20000) AS g");
	ck_assert_int_eq(cairn_audit_verify(&r, db), 0);
	ck_assert(r.ok);
	ck_assert_uint_eq(r.rows, 20000);
	cairn_audit_verify_result_dispose(&r);
	tamper("DELETE FROM @.audit WHERE id = 19999");
	verify_expect(false, 20000, "row 20000 does not follow row 19998");
	/* the connection is usable afterwards */
	ck_assert_int_eq(count_rows(), 19999);
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("audit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ensure_twice_is_noop);
	tcase_add_test(tc, test_ensure_in_transaction);
	tcase_add_test(tc, test_ensure_concurrent);
	tcase_add_test(tc, test_ensure_refuses_newer_schema);
	tcase_add_test(tc, test_append_only);
	tcase_add_test(tc, test_chain_verifies);
	tcase_add_test(tc, test_concurrent_appends);
	tcase_add_test(tc, test_interleaved_transactions);
	tcase_add_test(tc, test_isolation_refused);
	tcase_add_test(tc, test_edit_detected);
	tcase_add_test(tc, test_edit_detail_detected);
	tcase_add_test(tc, test_delete_detected);
	tcase_add_test(tc, test_delete_first_detected);
	tcase_add_test(tc, test_swap_detected);
	tcase_add_test(tc, test_forged_hash_detected);
	tcase_add_test(tc, test_sql_in_batch);
	tcase_add_test(tc, test_row_checks);
	tcase_add_test(tc, test_list_since_limit);
	tcase_add_test(tc, test_schema_name_quoting);
	tcase_add_test(tc, test_verify_many_rows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(audit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
