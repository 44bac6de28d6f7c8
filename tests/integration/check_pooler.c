/*
 * check_pooler.c - cairn behind a connection pooler: a real pgbouncer
 * (tests/lib/pgbouncer.h) in front of the test server, the real cairn
 * binary, real git repositories made here, a fresh database per test.
 *
 * cairn's deploy lock is a session-level advisory lock.  Through
 * pgbouncer in transaction mode it excluded nobody: four concurrent
 * `cairn migrate up` ran the same migration at once (two failed with
 * "relation already exists"), and the lock stayed behind on an idle
 * pooled backend.  Now cairn refuses before the lock (exit 3, the
 * database cannot be used as configured), never races, fires no hook
 * and leaves no lock; with direct_database_url it deploys through a
 * direct connection while the other commands keep the pooled URL; and
 * through pgbouncer in session mode four concurrent deployers apply
 * every migration exactly once.  A direct_database_url that expands to
 * nothing is an error (exit 2), never a silent fall back to the pooler.
 *
 * Both poolers are started once for the suite (in main) and die with it.
 * pgbouncer is required: scripts/install-deps installs it.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgbouncer.h"
#include "testutil.h"

#define DEPLOYERS 4
#define MIGRATIONS 3

static tu_pgbouncer tx_pool, session_pool;

typedef struct {
	char *dir;
	char *url;    /* direct, on the test server */
	char *dbname;
} project;

/*
 * A repository with MIGRATIONS migrations that each take a moment (so
 * concurrent deployers overlap) and a pre_validate hook that leaves a
 * mark.  database_url goes through `pool`; direct_database_url, when
 * `direct`, straight to the server.
 */
static void project_init(project *p, const tu_pgbouncer *pool, bool direct)
{
	char yaml[4096], file[64], *pooled;

	p->url = tu_db_create("pool");
	p->dbname = tu_db_name(p->url);
	p->dir = tu_git_repo();
	pooled = tu_pgbouncer_url(pool, p->dbname);
	snprintf(yaml, sizeof(yaml),
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "%s%s%s"
		 "hooks:\n"
		 "  pre_validate:\n"
		 "    - run: \"echo fired >> '%s/hook-fired'\"\n",
		 pooled, direct ? "    direct_database_url: \"" : "",
		 direct ? p->url : "", direct ? "\"\n" : "", p->dir);
	free(pooled);
	tu_write(p->dir, "cairn.yaml", yaml);
	for (int i = 1; i <= MIGRATIONS; i++) {
		char sql[128];

		snprintf(file, sizeof(file), "db/migrations/%04d_t%d.up.sql", i, i);
		snprintf(sql, sizeof(sql),
			 "SELECT pg_sleep(0.2);\nCREATE TABLE t%d (x int);\n", i);
		tu_write(p->dir, file, sql);
	}
	free(tu_git_commit(p->dir, "Ann", "ann@example.com", 1700000000, "m"));
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
	free(p->dbname);
}

static long count_of(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* Runs DEPLOYERS `cairn migrate up` at once; out.N and rc.N hold each. */
static void deploy_at_once(const project *p)
{
	ck_assert_int_eq(tu_sh(p->dir,
		"for i in 1 2 3 4; do "
		"(\"$CAIRN_BIN\" migrate up >out.$i 2>&1; echo $? >rc.$i) & "
		"done; wait"), 0);
}

static int exit_of(const project *p, int i)
{
	char name[16], *rc;
	int v;

	snprintf(name, sizeof(name), "rc.%d", i);
	rc = tu_read(p->dir, name);
	ck_assert_ptr_nonnull(rc);
	v = (int)strtol(rc, NULL, 10);
	free(rc);
	return v;
}

static char *output_of(const project *p, int i)
{
	char name[16];

	snprintf(name, sizeof(name), "out.%d", i);
	return tu_read(p->dir, name);
}

/* Advisory locks held by any session in the project's database. */
static long advisory_locks(const project *p)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_locks l JOIN pg_database d "
		 "ON d.oid = l.database WHERE l.locktype = 'advisory' "
		 "AND d.datname = '%s'", p->dbname);
	return count_of(tu_db_url(), sql);
}

/* Every migration applied exactly once, audited exactly once. */
static void assert_exactly_once(const project *p)
{
	ck_assert_int_eq(count_of(p->url, "SELECT count(*) FROM cairn.migrations "
					  "WHERE status = 'applied'"), MIGRATIONS);
	ck_assert_int_eq(count_of(p->url, "SELECT count(*) FROM cairn.audit "
					  "WHERE event = 'post_execute' AND outcome = 'applied'"),
			 MIGRATIONS);
	ck_assert_int_eq(count_of(p->url, "SELECT count(DISTINCT version) FROM cairn.audit "
					  "WHERE event = 'post_execute'"), MIGRATIONS);
	ck_assert_int_eq(count_of(p->url, "SELECT count(*) FROM cairn.audit "
					  "WHERE outcome <> 'applied'"), 0);
}

START_TEST(test_transaction_mode_refuses)
{
	project p;
	tu_result r;

	project_init(&p, &tx_pool, false);
	deploy_at_once(&p);
	for (int i = 1; i <= DEPLOYERS; i++) {
		char *out = output_of(&p, i);

		ck_assert_msg(exit_of(&p, i) == 3, "deployer %d: exit %d\n%s", i,
			      exit_of(&p, i), out);
		ck_assert_msg(tu_contains(out, "connection pooler in transaction mode") &&
			      tu_contains(out, "session-level advisory lock") &&
			      tu_contains(out, "direct_database_url"),
			      "deployer %d:\n%s", i, out);
		ck_assert_msg(!tu_contains(out, "applying"), "%s", out);
		free(out);
	}
	/* nothing ran: no schema, no table, no hook, no lock left behind */
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM pg_namespace "
					 "WHERE nspname = 'cairn'"), 0);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM pg_class "
					 "WHERE relname LIKE 't_'"), 0);
	ck_assert_ptr_null(tu_read(p.dir, "hook-fired"));
	ck_assert_int_eq(advisory_locks(&p), 0);

	/* the commands that take no lock still work through the pooler */
	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "plan", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", "--dry-run", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_transaction_mode_with_direct_url)
{
	project p;
	tu_result r;

	project_init(&p, &tx_pool, true);
	deploy_at_once(&p);
	for (int i = 1; i <= DEPLOYERS; i++) {
		char *out = output_of(&p, i);

		ck_assert_msg(exit_of(&p, i) == 0, "deployer %d:\n%s", i, out);
		free(out);
	}
	assert_exactly_once(&p);
	ck_assert_int_eq(advisory_locks(&p), 0);
	/* status keeps the pooled database_url and sees the same history */
	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "6432"), "%s", r.out);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_session_mode_exactly_once)
{
	project p;

	project_init(&p, &session_pool, false);
	deploy_at_once(&p);
	for (int i = 1; i <= DEPLOYERS; i++) {
		char *out = output_of(&p, i);

		ck_assert_msg(exit_of(&p, i) == 0, "deployer %d:\n%s", i, out);
		free(out);
	}
	assert_exactly_once(&p);
	ck_assert_int_eq(advisory_locks(&p), 0);
	project_dispose(&p);
}
END_TEST

/* direct_database_url expanded to nothing never falls back to the pooler */
START_TEST(test_empty_direct_url)
{
	char *url = tu_db_create("pool"), *name = tu_db_name(url), *pooled;
	char *dir = tu_git_repo(), yaml[1024];
	tu_result r;

	pooled = tu_pgbouncer_url(&tx_pool, name);
	snprintf(yaml, sizeof(yaml),
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "    direct_database_url: \"${CAIRN_TEST_UNSET_VARIABLE:-}\"\n",
		 pooled);
	tu_write(dir, "cairn.yaml", yaml);
	tu_write(dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(tu_git_commit(dir, "Ann", "ann@example.com", 1700000000, "a"));
	tu_cairn(&r, dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 2 && tu_contains(r.err, "empty direct_database_url"),
		      "exit %d\n%s", r.status, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, dir, "status", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
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
	Suite *s = suite_create("pooler");
	TCase *tc = tcase_create("pooler");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_transaction_mode_refuses);
	tcase_add_test(tc, test_transaction_mode_with_direct_url);
	tcase_add_test(tc, test_session_mode_exactly_once);
	tcase_add_test(tc, test_empty_direct_url);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (!tu_pgbouncer_start(&tx_pool, "transaction") ||
	    !tu_pgbouncer_start(&session_pool, "session")) {
		tu_pgbouncer_stop(&tx_pool);
		tu_pgbouncer_stop(&session_pool);
		fprintf(stderr, "check_pooler: pgbouncer is required (scripts/install-deps)\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tu_pgbouncer_stop(&tx_pool);
	tu_pgbouncer_stop(&session_pool);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
