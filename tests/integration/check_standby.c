/*
 * check_standby.c - cairn against targets that cannot be written: a real
 * hot standby (tests/lib/standby.h: pg_basebackup -R of a primary of the
 * suite's own, streaming) and a database whose transactions default to
 * read-only.  The real cairn binary, real git repositories made here.
 *
 * Before, `cairn migrate up` on a standby fired pre_validate,
 * post_validate and pre_execute hooks, then failed halfway ("cannot
 * write the audit row", exit 1), and `audit anchor` anchored a
 * standby's head.  Now migrate up|down, repair and audit anchor are
 * refused before any hook fires, with exit 3 and a message naming the
 * reason; status, validate, plan, audit log|verify and dry runs work on
 * the standby, with or without cairn's tables there, and create nothing.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgbouncer.h"
#include "standby.h"
#include "testutil.h"

static tu_standby sb;

typedef struct {
	char *dir;
	char *primary;  /* URL of the project's database on the primary */
	char *standby;  /* ... on the standby */
} project;

/*
 * A repository with migration 0001 committed and environments `primary`
 * and `standby` on a fresh database `dbname` (on sb), whose hooks leave
 * a line in hooks.log at every event.
 */
static void project_init(project *p, const char *primary_url,
			 const char *standby_url)
{
	static const char *const events[] = {
		"pre_validate", "post_validate", "pre_execute", "post_execute",
		"pre_rollback", "post_rollback", "on_error", "post_complete",
	};
	char yaml[8192];
	size_t n;

	p->primary = strdup(primary_url);
	p->standby = strdup(standby_url);
	p->dir = tu_git_repo();
	n = (size_t)snprintf(yaml, sizeof(yaml),
		 "environments:\n"
		 "  primary:\n"
		 "    database_url: \"%s\"\n"
		 "  standby:\n"
		 "    database_url: \"%s\"\n"
		 "hooks:\n", p->primary, p->standby);
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n,
			"  %s:\n    - run: \"echo %s >> '%s/hooks.log'\"\n",
			events[i], events[i], p->dir);
	tu_write(p->dir, "cairn.yaml", yaml);
	tu_write(p->dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	tu_write(p->dir, "db/migrations/0001_a.down.sql", "DROP TABLE a;\n");
	free(tu_git_commit(p->dir, "Ann", "ann@example.com", 1700000000, "a"));
}

static void project_add_second(const project *p)
{
	tu_write(p->dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	tu_write(p->dir, "db/migrations/0002_b.down.sql", "DROP TABLE b;\n");
	free(tu_git_commit(p->dir, "Bob", "bob@example.com", 1700000100, "b"));
}

/* Forgets what hooks did so far. */
static void clear_hooks_log(const project *p)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/hooks.log", p->dir);
	unlink(path);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->primary);
	free(p->standby);
}

/* A fresh database on the suite's primary; *standby_url its standby URL. */
static char *sb_database(char **standby_url)
{
	static int counter;
	char name[64], sql[128], *purl;

	snprintf(name, sizeof(name), "sb_%d_%d", (int)getpid(), ++counter);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	purl = tu_standby_primary_url(&sb, "postgres");
	ck_assert_int_eq(tu_db_exec(purl, sql), 0);
	free(purl);
	*standby_url = tu_standby_url(&sb, name);
	return tu_standby_primary_url(&sb, name);
}

static long count_of(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* Runs cairn with args (NULL-terminated, at most 8); returns the result. */
static void cairn_in(tu_result *r, const project *p, const char *const *args)
{
	const char *argv[12];
	size_t n = 0;

	argv[n++] = tu_cairn_bin();
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	tu_run(r, p->dir, argv, NULL, NULL);
}

/* Each write command is refused with exit 3 and `why`; no hook fires. */
static void assert_writes_refused(const project *p, const char *env,
				  const char *why)
{
	const char *cmds[][8] = {
		{ "--env", env, "migrate", "up", NULL },
		{ "--env", env, "migrate", "up", "--yes", "--single-transaction", NULL },
		{ "--env", env, "migrate", "down", NULL },
		{ "--env", env, "repair", "--accept", "1", NULL },
		{ "--env", env, "repair", "--resolve", "1", NULL },
		{ "--env", env, "audit", "anchor", NULL },
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		tu_result r;
		char *log;

		cairn_in(&r, p, cmds[i]);
		ck_assert_msg(r.status == 3, "cairn %s %s: exit %d\n%s%s",
			      cmds[i][2], cmds[i][3], r.status, r.out, r.err);
		ck_assert_msg(tu_contains(r.err, why) &&
			      tu_contains(r.err, "no hook fired"),
			      "cairn %s %s:\n%s", cmds[i][2], cmds[i][3], r.err);
		ck_assert_msg(!tu_contains(r.err, "audit row"), "%s", r.err);
		tu_result_dispose(&r);
		log = tu_read(p->dir, "hooks.log");
		ck_assert_msg(!log, "cairn %s %s fired hooks:\n%s", cmds[i][2],
			      cmds[i][3], log);
	}
	ck_assert_msg(tu_sh(p->dir, "! git show-ref | grep -q refs/cairn/audit/") == 0,
		      "an anchor was written");
}

/* The reading commands succeed on env and leave cairn's schema as it was. */
static void assert_reads_work(const project *p, const char *env,
			      const char *status_says)
{
	const char *cmds[][8] = {
		{ "--env", env, "status", NULL },
		{ "--env", env, "validate", NULL },
		{ "--env", env, "plan", NULL },
		{ "--env", env, "audit", "log", NULL },
		{ "--env", env, "audit", "verify", NULL },
		{ "--env", env, "migrate", "up", "--dry-run", NULL },
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		tu_result r;

		cairn_in(&r, p, cmds[i]);
		ck_assert_msg(r.status == 0, "cairn %s %s: exit %d\n%s%s",
			      cmds[i][2], cmds[i][3] ? cmds[i][3] : "", r.status,
			      r.out, r.err);
		if (i == 0)
			ck_assert_msg(tu_contains(r.out, status_says), "%s", r.out);
		tu_result_dispose(&r);
	}
}

START_TEST(test_standby_with_history)
{
	const char *up[] = { "--env", "primary", "migrate", "up", NULL };
	char *surl, *purl = sb_database(&surl);
	project p;
	tu_result r;

	project_init(&p, purl, surl);
	cairn_in(&r, &p, up);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_add_second(&p);
	clear_hooks_log(&p);
	ck_assert(tu_standby_catch_up(&sb, TU_WAIT_MS));
	ck_assert_int_eq(count_of(p.standby, "SELECT pg_is_in_recovery()::int"), 1);

	assert_writes_refused(&p, "standby", "the database is a standby server");
	/* the primary's history is untouched: one migration, its rows */
	ck_assert_int_eq(count_of(p.primary, "SELECT count(*) FROM cairn.migrations"), 1);
	ck_assert_int_eq(count_of(p.primary, "SELECT count(*) FROM cairn.audit "
					     "WHERE outcome <> 'applied'"), 0);
	assert_reads_work(&p, "standby", "pending");
	project_dispose(&p);
	free(purl);
	free(surl);
}
END_TEST

START_TEST(test_standby_without_schema)
{
	char *surl, *purl = sb_database(&surl);
	project p;

	project_init(&p, purl, surl);
	ck_assert(tu_standby_catch_up(&sb, TU_WAIT_MS));
	assert_writes_refused(&p, "standby", "the database is a standby server");
	assert_reads_work(&p, "standby", "pending");
	ck_assert_int_eq(count_of(p.primary, "SELECT count(*) FROM pg_namespace "
					     "WHERE nspname = 'cairn'"), 0);
	project_dispose(&p);
	free(purl);
	free(surl);
}
END_TEST

START_TEST(test_read_only_default)
{
	const char *up[] = { "--env", "primary", "migrate", "up", NULL };
	char *url = tu_db_create("rodef"), *name = tu_db_name(url), sql[256];
	project p;
	tu_result r;

	/* both environments on one read-write database, made read-only below */
	project_init(&p, url, url);
	cairn_in(&r, &p, up);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_add_second(&p);
	clear_hooks_log(&p);
	snprintf(sql, sizeof(sql),
		 "ALTER DATABASE %s SET default_transaction_read_only = on", name);
	ck_assert_int_eq(tu_db_exec(url, sql), 0);

	assert_writes_refused(&p, "standby", "the database is read-only");
	assert_reads_work(&p, "standby", "pending");
	ck_assert_int_eq(count_of(url, "SELECT count(*) FROM cairn.migrations"), 1);
	project_dispose(&p);
	free(url);
	free(name);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("standby");
	TCase *tc = tcase_create("standby");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_standby_with_history);
	tcase_add_test(tc, test_standby_without_schema);
	tcase_add_test(tc, test_read_only_default);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (!tu_standby_start(&sb)) {
		tu_standby_stop(&sb);
		fprintf(stderr, "check_standby: could not start a primary and its standby\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tu_standby_stop(&sb);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
