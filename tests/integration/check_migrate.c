/*
 * check_migrate.c - the apply engine end to end: the real cairn binary,
 * real git repositories made here, a real PostgreSQL server (a fresh
 * database per test, from tests/run's throwaway cluster).
 *
 * Covers the pipeline's event order, in-transaction sql gates, failure
 * policies, timeouts, filters, hostile names reaching hooks only as data,
 * drift and out-of-order refusals, audit tampering, concurrent runs, the
 * no-transaction path with repair, exit codes and interruption.
 */

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

/* A repository with cairn.yaml (development -> a fresh database). */
static void project_init(project *p, const char *hooks_yaml,
			 const char *env_extra)
{
	char yaml[8192];

	p->url = tu_db_create("mig");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "%s"
		 "  production:\n"
		 "    database_url: \"%s\"\n"
		 "hooks:\n%s",
		 p->url, env_extra ? env_extra : "", p->url,
		 hooks_yaml ? hooks_yaml : "  {}\n");
	if (!hooks_yaml) {
		/* "hooks: {}" */
		snprintf(yaml + strlen(yaml) - strlen("hooks:\n  {}\n"),
			 sizeof(yaml), "hooks: {}\n");
	}
	tu_write(p->dir, "cairn.yaml", yaml);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static char *commit_as(project *p, const char *who, const char *email,
		       long when, const char *msg)
{
	return tu_git_commit(p->dir, who, email, when, msg);
}

static char *q(project *p, const char *sql)
{
	return tu_db_value(p->url, sql);
}

static long count_of(project *p, const char *sql)
{
	char *v = q(p, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

START_TEST(test_apply_tracks_commit_and_author)
{
	project p;
	tu_result r;
	char *c1, *c2, *v;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_create_users.up.sql",
		 "CREATE TABLE users (id int PRIMARY KEY, email text);\n");
	tu_write(p.dir, "db/migrations/0001_create_users.down.sql",
		 "DROP TABLE users;\n");
	c1 = commit_as(&p, "Ann Author", "ann@example.com", 1700000000, "users");
	tu_write(p.dir, "db/migrations/0002_add_orders.up.sql",
		 "CREATE TABLE orders (id int);\n");
	tu_write(p.dir, "db/migrations/0003_add_index.up.sql",
		 "CREATE INDEX orders_id ON orders (id);\n");
	c2 = commit_as(&p, "Bob Builder", "bob@example.com", 1700000100, "orders");

	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "migrate up: %d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);

	v = q(&p, "SELECT commit_sha || ' ' || author_name FROM cairn.migrations WHERE version = '1'");
	ck_assert_ptr_nonnull(v);
	ck_assert_msg(!strncmp(v, c1, 40) && tu_contains(v, "Ann Author"), "%s", v);
	free(v);
	v = q(&p, "SELECT commit_sha || ' ' || author_email FROM cairn.migrations WHERE version = '3'");
	ck_assert_msg(!strncmp(v, c2, 40) && tu_contains(v, "bob@example.com"), "%s", v);
	free(v);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied'"), 3);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM orders"), 0);

	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	/* a second run is a no-op */
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "nothing to apply"));
	tu_result_dispose(&r);

	tu_cairn(&r, p.dir, "status", "--format", "json", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "\"applied\": 3"));
	tu_result_dispose(&r);

	free(c1);
	free(c2);
	project_dispose(&p);
}
END_TEST

static const char rec_hooks[] =
	"  pre_validate:  [ { run: [sh, hooks/rec.sh] } ]\n"
	"  post_validate: [ { run: [sh, hooks/rec.sh] } ]\n"
	"  pre_execute:   [ { run: [sh, hooks/rec.sh] } ]\n"
	"  post_execute:  [ { run: [sh, hooks/rec.sh] } ]\n"
	"  post_complete: [ { run: [sh, hooks/rec.sh] } ]\n"
	"  pre_rollback:  [ { run: [sh, hooks/rec.sh] } ]\n"
	"  post_rollback: [ { run: [sh, hooks/rec.sh] } ]\n"
	"  on_error:      [ { run: [sh, hooks/rec.sh] } ]\n";

static void write_recorder(project *p)
{
	tu_write(p->dir, "hooks/rec.sh",
		 "echo \"$CAIRN_EVENT ${CAIRN_MIGRATION_VERSION:--} $CAIRN_STATUS\" >> \"$(dirname \"$0\")/../events.log\"\n");
}

START_TEST(test_event_order_up_and_down)
{
	project p;
	tu_result r;
	char *log;

	project_init(&p, rec_hooks, NULL);
	write_recorder(&p);
	tu_write(p.dir, ".gitignore", "events.log\n");
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	tu_write(p.dir, "db/migrations/0001_a.down.sql", "DROP TABLE a;\n");
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	tu_write(p.dir, "db/migrations/0002_b.down.sql", "DROP TABLE b;\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "two"));

	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	log = tu_read(p.dir, "events.log");
	ck_assert_str_eq(log,
		"pre_validate - pending\n"
		"post_validate - pending\n"
		"pre_execute 1 pending\n"
		"post_execute 1 applied\n"
		"pre_execute 2 pending\n"
		"post_execute 2 applied\n"
		"post_complete - applied\n");
	free(log);
	{
		char *path = tu_sh_out(p.dir, "echo %s/events.log", p.dir);

		unlink(path);
		free(path);
	}

	tu_cairn(&r, p.dir, "migrate", "down", "--steps", "1", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	log = tu_read(p.dir, "events.log");
	ck_assert_str_eq(log,
		"pre_validate - applied\n"
		"post_validate - applied\n"
		"pre_rollback 2 applied\n"
		"post_rollback 2 rolled_back\n"
		"post_complete - rolled_back\n");
	free(log);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 'b'"), 0);
	project_dispose(&p);
}
END_TEST

START_TEST(test_sql_gate_rolls_back_everything)
{
	project p;
	tu_result r;
	char *log;

	project_init(&p,
		"  post_execute:\n"
		"    - sql: \"SELECT count(*) FROM users WHERE email IS NULL\"\n"
		"      expect: 0\n"
		"      only: { migrations: [\"*users*\"] }\n"
		"  on_error: [ { run: [sh, hooks/rec.sh] } ]\n", NULL);
	write_recorder(&p);
	tu_write(p.dir, ".gitignore", "events.log\n");
	tu_write(p.dir, "db/migrations/0001_create_users.up.sql",
		 "CREATE TABLE users (id int, email text);\n"
		 "INSERT INTO users VALUES (1, NULL);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "users"));

	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1, "%d %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "expected"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied'"), 0);
	ck_assert_int_ge(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome IN ('vetoed', 'failed')"), 1);
	log = tu_read(p.dir, "events.log");
	ck_assert_msg(tu_contains(log, "on_error 1 failed"), "%s", log ? log : "(no log)");
	free(log);
	project_dispose(&p);
}
END_TEST

START_TEST(test_failing_migration_leaves_only_its_failure_row)
{
	project p;
	tu_result r;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_ok.up.sql", "CREATE TABLE ok1 (x int);\n");
	tu_write(p.dir, "db/migrations/0002_bad.up.sql",
		 "CREATE TABLE t2 (x int);\n"
		 "\n"
		 "INSERT INTO no_such_table VALUES (1);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "bad"));

	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "0002_bad") &&
		      tu_contains(r.err, "no_such_table") &&
		      tu_contains(r.err, "line 3"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 't2'"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations WHERE version = '2'"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations WHERE version = '1'"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE version = '2'"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE version = '2' AND outcome = 'failed'"), 1);
	project_dispose(&p);
}
END_TEST

START_TEST(test_warn_and_ignore_continue)
{
	project p;
	tu_result r;

	project_init(&p,
		"  pre_execute:\n"
		"    - { run: [\"false\"], on_failure: warn, name: warner }\n"
		"    - { run: [\"false\"], on_failure: ignore, name: ignorer }\n", NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "a"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(tu_contains(r.err, "warner"));
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'hook_warned'"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE detail->>'hook' = 'ignorer'"), 0);
	project_dispose(&p);
}
END_TEST

START_TEST(test_timeout_kills_hook)
{
	project p;
	tu_result r;
	time_t t0 = time(NULL);

	project_init(&p,
		"  pre_execute:\n"
		"    - { run: [sleep, \"30\"], timeout: 1s, name: sleeper }\n", NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "a"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(time(NULL) - t0 < 15, "took %ld s", (long)(time(NULL) - t0));
	ck_assert_msg(tu_contains(r.err, "sleeper"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	project_dispose(&p);
}
END_TEST

START_TEST(test_filters_by_environment_and_glob)
{
	project p;
	tu_result r;
	char *log;

	project_init(&p,
		"  post_execute:\n"
		"    - run: [sh, hooks/rec.sh]\n"
		"      only: { environments: [production] }\n"
		"    - run: [sh, hooks/rec.sh]\n"
		"      only: { migrations: [\"*users*\"] }\n", NULL);
	write_recorder(&p);
	tu_write(p.dir, ".gitignore", "events.log\n");
	tu_write(p.dir, "db/migrations/0001_create_users.up.sql", "CREATE TABLE users (x int);\n");
	tu_write(p.dir, "db/migrations/0002_create_orders.up.sql", "CREATE TABLE orders (x int);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "a"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	log = tu_read(p.dir, "events.log");
	ck_assert_str_eq(log, "post_execute 1 applied\n");
	free(log);
	project_dispose(&p);
}
END_TEST

START_TEST(test_hostile_author_reaches_hooks_as_data)
{
	project p;
	tu_result r;
	char *log, pwned[128];
	const char *evil = "Eve $(touch /tmp/cairn-pwned-XXX) `id` \"; rm -rf x; '";

	snprintf(pwned, sizeof(pwned), "/tmp/cairn-pwned-%d", (int)getpid());
	project_init(&p,
		"  post_execute:\n"
		"    - run: \"printf '%s\\\\n' \\\"$CAIRN_AUTHOR_NAME\\\" >> author.log\"\n"
		"    - run: [sh, -c, 'cat > stdin.json']\n", NULL);
	tu_write(p.dir, ".gitignore", "author.log\nstdin.json\n");
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	{
		char name[512];

		snprintf(name, sizeof(name), "Eve $(touch %s) `touch %s` \"; rm -rf x; '", pwned, pwned);
		free(commit_as(&p, name, "eve@example.com", 1700000000, "$(touch /tmp/x)"));
	}
	(void)evil;
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_msg(access(pwned, F_OK) != 0, "a hook ran the author's name as a command");
	log = tu_read(p.dir, "author.log");
	ck_assert_msg(log && tu_contains(log, "$(touch") && tu_contains(log, "`touch"), "%s", log ? log : "(none)");
	free(log);
	log = tu_read(p.dir, "stdin.json");
	ck_assert_msg(log && tu_contains(log, "\\\"; rm -rf x"), "%s", log ? log : "(none)");
	free(log);
	project_dispose(&p);
}
END_TEST

START_TEST(test_drift_and_out_of_order_refused)
{
	project p;
	tu_result r;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	tu_write(p.dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (x int);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "a c"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_dispose(&r);

	/* out of order: 2 arrives after 3 was applied */
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	free(commit_as(&p, "Bob", "bob@example.com", 1700000100, "b"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "out-of-order"), "%s", r.out);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 'b'"), 0);

	/* drift: an applied file changes */
	tu_sh(p.dir, "git rm -q db/migrations/0002_b.up.sql");
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int, y int);\n");
	free(commit_as(&p, "Bob", "bob@example.com", 1700000200, "edit a"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "drift"), "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "repair", "--accept", "1", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'repaired'"), 1);
	project_dispose(&p);
}
END_TEST

START_TEST(test_out_of_order_allowed_by_environment)
{
	project p;
	tu_result r;

	project_init(&p, NULL, "    allow_out_of_order: true\n");
	tu_write(p.dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (x int);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "c"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_dispose(&r);
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	free(commit_as(&p, "Bob", "bob@example.com", 1700000100, "b"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 2);
	project_dispose(&p);
}
END_TEST

START_TEST(test_audit_tampering_detected)
{
	project p;
	tu_result r;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	tu_write(p.dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (x int);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "abc"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_dispose(&r);
	/* the trigger refuses ordinary edits */
	ck_assert_int_eq(tu_db_exec(p.url, "UPDATE cairn.audit SET outcome = 'x'"), -1);
	ck_assert_int_eq(tu_db_exec(p.url, "DELETE FROM cairn.audit"), -1);
	/* a superuser edit with the trigger disabled is caught */
	ck_assert_int_eq(tu_db_exec(p.url,
		"ALTER TABLE cairn.audit DISABLE TRIGGER USER;"
		"UPDATE cairn.audit SET actor = 'someone else' WHERE id = (SELECT min(id) + 1 FROM cairn.audit);"
		"ALTER TABLE cairn.audit ENABLE TRIGGER USER"), 0);
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "row 2"), "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

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
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	waitpid(pid, &st, 0);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

START_TEST(test_concurrent_runs_apply_each_once)
{
	project p;
	const char *args[] = { "migrate", "up", NULL };
	char o1[512], o2[512];
	pid_t a, b;
	int sa, sb;

	project_init(&p, NULL, NULL);
	for (int i = 1; i <= 20; i++) {
		char path[128], sql[128];

		snprintf(path, sizeof(path), "db/migrations/%04d_m%d.up.sql", i, i);
		snprintf(sql, sizeof(sql), "CREATE TABLE m%d (x int); SELECT pg_sleep(0.02);\n", i);
		tu_write(p.dir, path, sql);
	}
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "20"));
	snprintf(o1, sizeof(o1), "%s/run1.out", p.dir);
	snprintf(o2, sizeof(o2), "%s/run2.out", p.dir);
	a = spawn_cairn(p.dir, o1, args);
	b = spawn_cairn(p.dir, o2, args);
	sa = wait_status(a);
	sb = wait_status(b);
	ck_assert_msg(sa == 0 && sb == 0, "exit %d and %d", sa, sb);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 20);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied'"), 20);
	project_dispose(&p);
}
END_TEST

START_TEST(test_no_transaction_failure_and_resolve)
{
	project p;
	tu_result r;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (x int);\n");
	tu_write(p.dir, "db/migrations/0002_idx.up.sql",
		 "-- cairn: no-transaction\n"
		 "CREATE INDEX CONCURRENTLY t_x ON t (x);\n");
	tu_write(p.dir, "db/migrations/0003_idx2.up.sql",
		 "-- cairn: no-transaction\n"
		 "CREATE INDEX CONCURRENTLY u_x ON u (x);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "idx"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_x'"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations WHERE status = 'applied'"), 2);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations WHERE version = '3' AND status = 'failed'"), 1);

	/* the failed row blocks the next run */
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "repair --resolve 3"), "%s", r.out);
	tu_result_dispose(&r);

	ck_assert_int_eq(tu_db_exec(p.url, "CREATE TABLE u (x int)"), 0);
	tu_cairn(&r, p.dir, "repair", "--resolve", "3", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_indexes WHERE indexname = 'u_x'"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'repaired'"), 1);
	project_dispose(&p);
}
END_TEST

/*
 * Waits (up to 20 s) until a session runs a statement matching `like`
 * on the project's database: the moment to act on a run in progress.
 */
static bool wait_for_statement(project *p, const char *like)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
		 "AND query LIKE '%s' AND pid <> pg_backend_pid()", like);
	for (int i = 0; i < 400; i++) {
		if (count_of(p, sql) > 0)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

START_TEST(test_exit_codes)
{
	project p;
	tu_result r;
	const char *args[] = { "migrate", "up", NULL };
	char out[512];
	pid_t slow;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_slow.up.sql", "SELECT pg_sleep(3);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "slow"));

	/* 3: database unreachable */
	tu_cairn(&r, p.dir, "--db", "postgresql:///nope?host=/nonexistent-dir&connect_timeout=2",
		 "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 3);
	tu_result_dispose(&r);
	/* 5: unknown revision */
	tu_cairn(&r, p.dir, "--rev", "no-such-rev", "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 5);
	tu_result_dispose(&r);
	/* 2: unknown environment */
	tu_cairn(&r, p.dir, "--env", "nowhere", "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	/* 4: lock held by a slow run */
	snprintf(out, sizeof(out), "%s/slow.out", p.dir);
	slow = spawn_cairn(p.dir, out, args);
	ck_assert_msg(wait_for_statement(&p, "%pg_sleep(3)%"),
		      "the slow migration never started");
	tu_cairn(&r, p.dir, "migrate", "up", "--lock-timeout", "500ms", NULL);
	ck_assert_msg(r.status == 4, "%d %s", r.status, r.err);
	ck_assert_msg(tu_contains(r.err, "lock"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(wait_status(slow), 0);
	project_dispose(&p);
}
END_TEST

START_TEST(test_interrupt_rolls_back_and_releases)
{
	project p;
	tu_result r;
	const char *args[] = { "migrate", "up", NULL };
	char out[512];
	pid_t pid;
	int st;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_slow.up.sql",
		 "CREATE TABLE s (x int);\nSELECT pg_sleep(30);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "slow"));
	snprintf(out, sizeof(out), "%s/int.out", p.dir);
	pid = spawn_cairn(p.dir, out, args);
	ck_assert_msg(wait_for_statement(&p, "%pg_sleep(30)%"),
		      "the slow migration never started");
	kill(pid, SIGINT);
	st = wait_status(pid);
	if (st != 130) {
		char *o = tu_read(p.dir, "int.out");

		ck_abort_msg("exit %d: %s", st, o ? o : "");
	}
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 's'"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'interrupted'"), 1);
	/* the lock is free: a dry run and a quick real run go through */
	tu_write(p.dir, "db/migrations/0001_slow.up.sql", "CREATE TABLE s (x int);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000100, "fast"));
	tu_cairn(&r, p.dir, "migrate", "up", "--lock-timeout", "1s", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_single_transaction_all_or_nothing)
{
	project p;
	tu_result r;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	tu_write(p.dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (x int);\nINSERT INTO nope VALUES (1);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "abc"));

	/* the third fails: nothing of the first two stays */
	tu_cairn(&r, p.dir, "migrate", "up", "--single-transaction", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "0003_c") && tu_contains(r.err, "line 2"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'b', 'c')"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied'"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'failed' AND version = '3'"), 1);

	/* fixed: all three in one transaction, each tracked and audited */
	tu_write(p.dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (x int);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000100, "fix"));
	tu_cairn(&r, p.dir, "migrate", "up", "--single-transaction", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations WHERE status = 'applied' AND duration_ms IS NOT NULL"), 3);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied'"), 3);
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_int_eq(r.status, 0);
	tu_result_dispose(&r);

	/* a no-transaction migration cannot join */
	tu_write(p.dir, "db/migrations/0004_i.up.sql",
		 "-- cairn: no-transaction\nCREATE INDEX CONCURRENTLY a_x ON a (x);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000200, "idx"));
	tu_cairn(&r, p.dir, "migrate", "up", "--single-transaction", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "no-transaction"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 3);
	project_dispose(&p);
}
END_TEST

START_TEST(test_environment_guards)
{
	project p;
	tu_result r;
	char yaml[2048];

	project_init(&p, NULL, NULL);
	/* production: only from main, only from a clean tree, with --yes */
	snprintf(yaml, sizeof(yaml),
		 "environments:\n"
		 "  development: {}\n"
		 "  production:\n"
		 "    database_url: \"%s\"\n"
		 "    allowed_refs: [refs/heads/main]\n"
		 "    require_clean_tree: true\n"
		 "    confirm: true\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(commit_as(&p, "Ann", "ann@example.com", 1700000000, "a"));
	ck_assert_int_eq(tu_sh(p.dir, "git checkout -q -b feature"), 0);
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (x int);\n");
	free(commit_as(&p, "Bob", "bob@example.com", 1700000100, "b"));

	/* a commit that is not on main is refused */
	tu_cairn(&r, p.dir, "--env", "production", "migrate", "up", "--yes", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "not reachable from the refs allowed"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(tu_sh(p.dir, "git checkout -q main"), 0);

	/* a dirty tree is refused */
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (x bigint);\n");
	tu_cairn(&r, p.dir, "--env", "production", "migrate", "up", "--yes", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "uncommitted changes"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(tu_sh(p.dir, "git checkout -q -- ."), 0);

	/* confirmation: no terminal, no --yes: refused with a hint */
	tu_cairn(&r, p.dir, "--env", "production", "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "--yes"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM pg_tables WHERE tablename = 'a'"), 0);

	tu_cairn(&r, p.dir, "--env", "production", "migrate", "up", "--yes", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations"), 1);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc = tcase_create("engine");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_apply_tracks_commit_and_author);
	tcase_add_test(tc, test_event_order_up_and_down);
	tcase_add_test(tc, test_sql_gate_rolls_back_everything);
	tcase_add_test(tc, test_failing_migration_leaves_only_its_failure_row);
	tcase_add_test(tc, test_warn_and_ignore_continue);
	tcase_add_test(tc, test_timeout_kills_hook);
	tcase_add_test(tc, test_filters_by_environment_and_glob);
	tcase_add_test(tc, test_hostile_author_reaches_hooks_as_data);
	tcase_add_test(tc, test_drift_and_out_of_order_refused);
	tcase_add_test(tc, test_out_of_order_allowed_by_environment);
	tcase_add_test(tc, test_audit_tampering_detected);
	tcase_add_test(tc, test_concurrent_runs_apply_each_once);
	tcase_add_test(tc, test_no_transaction_failure_and_resolve);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_interrupt_rolls_back_and_releases);
	tcase_add_test(tc, test_single_transaction_all_or_nothing);
	tcase_add_test(tc, test_environment_guards);
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
