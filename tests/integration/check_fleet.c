/*
 * check_fleet.c - fleets (README "Fleets"): the targets of an
 * environment from cairn.yaml, a file or a command, and
 * `cairn migrate up --all-targets` over a dozen real databases made
 * here (and schemas of one database for schema-per-tenant): parallel
 * workers, the stop rule, --keep-going, canaries, each migration once
 * per target, and the fleet run id in every target's audit rows.
 */

#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/fleet.h"
#include "testutil.h"

static cairn_config *parse(const char *yaml)
{
	cairn_config *cfg = NULL;

	if (cairn_config_parse(&cfg, "cairn.yaml", yaml, strlen(yaml), NULL) < 0)
		return NULL;
	return cfg;
}

static const char *parse_error(const char *yaml)
{
	cairn_config *cfg = NULL;

	ck_assert_int_lt(cairn_config_parse(&cfg, "cairn.yaml", yaml,
					    strlen(yaml), NULL), 0);
	ck_assert_ptr_nonnull(cairn_error_last());
	return cairn_error_last()->message;
}

START_TEST(test_config_targets_list)
{
	cairn_config *cfg;
	const cairn_environment *env;
	cairn_target *t;
	size_t n;

	setenv("FLEET_TEST_PW", "s3cret", 1);
	cfg = parse("environments:\n"
		    "  production:\n"
		    "    targets:\n"
		    "      - { name: eu-1, database_url: \"postgres://u:${FLEET_TEST_PW}@h/eu1\" }\n"
		    "      - name: us-1\n"
		    "        database_url: postgres://h/us\n"
		    "        schema: tenant_us\n");
	ck_assert_ptr_nonnull(cfg);
	env = cairn_config_environment(cfg, "production");
	ck_assert_uint_eq(env->targets_count, 2);
	ck_assert_str_eq(env->targets[0].database_url, "postgres://u:s3cret@h/eu1");
	ck_assert_ptr_null(env->targets[0].schema);
	ck_assert_str_eq(env->targets[1].schema, "tenant_us");
	ck_assert_uint_eq(env->targets[1].line, 5);
	ck_assert_int_eq(cairn_fleet_targets(&t, &n, env, NULL), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(t[1].name, "us-1");
	cairn_fleet_targets_free(t, n);
	/* an environment without targets says so */
	ck_assert_int_lt(cairn_fleet_targets(&t, &n,
		cairn_config_environment(cfg, "development"), NULL), 0);
	ck_assert(tu_contains(cairn_error_last()->message, "has no targets"));
	cairn_config_free(cfg);
}
END_TEST

START_TEST(test_config_targets_errors)
{
	const char *m;

	m = parse_error("environments:\n  p:\n    targets:\n      - { name: a, database_url: x }\n      - { name: a, database_url: y }\n");
	ck_assert_msg(tu_contains(m, "cairn.yaml:5:") && tu_contains(m, "listed twice"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets:\n      - { name: a }\n");
	ck_assert_msg(tu_contains(m, "cairn.yaml:4:") && tu_contains(m, "needs a database_url"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets:\n      - { name: \"a b\", database_url: x }\n");
	ck_assert_msg(tu_contains(m, "cairn.yaml:4:") && tu_contains(m, "invalid target name"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets:\n      - { name: a, database_url: x, schema: \"Bad-1\" }\n");
	ck_assert_msg(tu_contains(m, "invalid schema name"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets:\n      - { name: a, databse_url: x }\n");
	ck_assert_msg(tu_contains(m, "unknown key 'databse_url'"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets_file: t.txt\n    targets_command: [echo]\n");
	ck_assert_msg(tu_contains(m, "cairn.yaml:4:") && tu_contains(m, "line 3 already"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets_command: []\n");
	ck_assert_msg(tu_contains(m, "needs a program"), "%s", m);
}
END_TEST

START_TEST(test_targets_file_and_command)
{
	char *dir = tu_mkdtemp(), yaml[1024];
	cairn_fleet_targets_options o = CAIRN_FLEET_TARGETS_OPTIONS_INIT;
	cairn_config *cfg;
	cairn_target *t;
	size_t n;

	tu_write(dir, "fleet.txt", "# the shards\n\nshard-1 postgres://h/s1\n"
		 "shard-2\tpostgres://h/s2  tenant_2\n");
	tu_write(dir, "bad.txt", "ok-1 postgres://h/1\nlonely\n");
	tu_write(dir, "list.sh", "#!/bin/sh\necho \"cmd-1 postgres://h/c1\"\necho \"cmd-2 postgres://h/$1\"\n");
	ck_assert_int_eq(tu_sh(dir, "chmod +x list.sh"), 0);
	o.workdir = dir;
	snprintf(yaml, sizeof(yaml), "environments:\n  f:\n    targets_file: fleet.txt\n"
		 "  b:\n    targets_file: bad.txt\n"
		 "  c:\n    targets_command: [./list.sh, \"c2;$(id)\"]\n"
		 "  x:\n    targets_command: [/bin/false]\n");
	cfg = parse(yaml);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cairn_fleet_targets(&t, &n, cairn_config_environment(cfg, "f"), &o), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(t[1].name, "shard-2");
	ck_assert_str_eq(t[1].database_url, "postgres://h/s2");
	ck_assert_str_eq(t[1].schema, "tenant_2");
	cairn_fleet_targets_free(t, n);
	ck_assert_int_lt(cairn_fleet_targets(&t, &n, cairn_config_environment(cfg, "b"), &o), 0);
	ck_assert_msg(tu_contains(cairn_error_last()->message, "bad.txt:2:"), "%s", cairn_error_last()->message);
	/* argv as data: the argument with a ';' reaches the script whole */
	ck_assert_int_eq(cairn_fleet_targets(&t, &n, cairn_config_environment(cfg, "c"), &o), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(t[1].database_url, "postgres://h/c2;$(id)");
	cairn_fleet_targets_free(t, n);
	ck_assert_int_lt(cairn_fleet_targets(&t, &n, cairn_config_environment(cfg, "x"), &o), 0);
	ck_assert_msg(tu_contains(cairn_error_last()->message, "targets_command failed"), "%s", cairn_error_last()->message);
	cairn_config_free(cfg);
	tu_rmrf(dir);
	free(dir);
}
END_TEST


/* ------------------------------------------------------------------ */
/* migrate up --all-targets                                            */

#define NT 12

typedef struct {
	char *dir;
	char *urls[NT];
	size_t n;
} fleet;

static long count_in(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/*
 * n databases, a repository with three migrations and an environment
 * `prod` listing the databases as targets t01..tNN; `bad` (1-based, 0:
 * none) gets a table that makes migration 2 fail there.
 */
static void fleet_init(fleet *f, size_t n, size_t bad)
{
	char yaml[8192], line[512];

	memset(f, 0, sizeof(*f));
	f->n = n;
	f->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n");
	for (size_t i = 0; i < n; i++) {
		f->urls[i] = tu_db_create("fleet");
		snprintf(line, sizeof(line), "      - { name: t%02zu, database_url: \"%s\" }\n",
			 i + 1, f->urls[i]);
		strncat(yaml, line, sizeof(yaml) - strlen(yaml) - 1);
	}
	if (bad)
		ck_assert_int_eq(tu_db_exec(f->urls[bad - 1], "CREATE TABLE orders (x int)"), 0);
	tu_write(f->dir, "cairn.yaml", yaml);
	tu_write(f->dir, "db/migrations/0001_users.up.sql", "CREATE TABLE users (id int);\n");
	tu_write(f->dir, "db/migrations/0002_orders.up.sql", "CREATE TABLE orders (id int);\n");
	tu_write(f->dir, "db/migrations/0003_items.up.sql", "CREATE TABLE items (id int);\n");
	free(tu_git_commit(f->dir, "Ann", "ann@example.com", 1700000000, "three"));
}

static void fleet_dispose(fleet *f)
{
	tu_rmrf(f->dir);
	free(f->dir);
	for (size_t i = 0; i < f->n; i++)
		free(f->urls[i]);
}

static long applied_in(const fleet *f, size_t i)
{
	return count_in(f->urls[i], "SELECT count(*) FROM cairn.migrations WHERE status = 'applied'");
}

/* The run id of a JSON summary ("run_id": "...") into out. */
static void run_id_of(const char *json, char out[64])
{
	const char *p = strstr(json, "\"run_id\"");

	ck_assert_ptr_nonnull(p);
	p = strchr(p + 8, '"');
	ck_assert_ptr_nonnull(p);
	snprintf(out, 64, "%.*s", (int)strcspn(p + 1, "\""), p + 1);
}

START_TEST(test_all_targets_apply_each_once_with_run_id)
{
	fleet f;
	tu_result r;
	char id[64], sql[256];

	fleet_init(&f, NT, 0);
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "migrate", "up",
		 "--all-targets", "--parallel", "4", NULL);
	ck_assert_msg(r.status == 0, "exit %d\n%s\n%s", r.status, r.out, r.err);
	run_id_of(r.out, id);
	ck_assert(tu_contains(r.out, "\"failed_targets\": []"));
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied' AND detail->'metadata'->>'fleet_run' = '%s'",
		 id);
	for (size_t i = 0; i < f.n; i++) {
		char want[160];

		ck_assert_int_eq(applied_in(&f, i), 3);
		ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM pg_tables WHERE tablename IN ('users','orders','items')"), 3);
		/* every applied row of this target carries the fleet's id */
		ck_assert_int_eq(count_in(f.urls[i], sql), 3);
		snprintf(want, sizeof(want),
			 "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied' AND detail->'metadata'->>'fleet_target' = 't%02zu'",
			 i + 1);
		ck_assert_int_eq(count_in(f.urls[i], want), 3);
	}
	/* no URL (and so no password) on a child's command line: the
	 * children are gone, so check what the parent passes instead */
	ck_assert(!tu_contains(r.err, "postgres"));
	tu_result_dispose(&r);
	/* a second run has nothing to do, and applies nothing twice */
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(tu_contains(r.out, "t12"));
	ck_assert(tu_contains(r.out, "status"));
	tu_result_dispose(&r);
	for (size_t i = 0; i < f.n; i++)
		ck_assert_int_eq(applied_in(&f, i), 3);
	fleet_dispose(&f);
}
END_TEST

/* Outcome of a JSON summary for target name: "ok", "failed", "not_started". */
static bool target_is(const char *json, const char *name, const char *status)
{
	char want[128];
	const char *p;

	snprintf(want, sizeof(want), "\"target\": \"%s\"", name);
	p = strstr(json, want);
	ck_assert_msg(p != NULL, "no %s in %s", name, json);
	snprintf(want, sizeof(want), "\"status\": \"%s\"", status);
	p = strstr(p, "\"status\"");
	return p && !strncmp(p, want, strlen(want));
}

START_TEST(test_failure_stops_new_targets)
{
	fleet f;
	tu_result r;

	fleet_init(&f, 6, 3);
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "migrate", "up",
		 "--all-targets", "--parallel", "1", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(target_is(r.out, "t02", "ok"), "%s", r.out);
	ck_assert(target_is(r.out, "t03", "failed"));
	ck_assert(target_is(r.out, "t04", "not_started"));
	ck_assert(target_is(r.out, "t06", "not_started"));
	ck_assert_msg(tu_contains(r.err, "1 of 6 targets failed: t03"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(applied_in(&f, 0), 3);
	ck_assert_int_eq(applied_in(&f, 2), 1);  /* 0001 only: 0002 failed */
	ck_assert_int_eq(count_in(f.urls[3], "SELECT count(*) FROM pg_namespace WHERE nspname = 'cairn'"), 0);

	/* --keep-going finishes the rest; the failed one stays failed */
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets",
		 "--parallel", "3", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "targets failed: t03"), "%s", r.err);
	tu_result_dispose(&r);
	for (size_t i = 0; i < f.n; i++)
		ck_assert_int_eq(applied_in(&f, i), i == 2 ? 1 : 3);
	fleet_dispose(&f);
}
END_TEST

START_TEST(test_failed_canary_stops_the_rest)
{
	fleet f;
	tu_result r;

	fleet_init(&f, 6, 2);
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "migrate", "up",
		 "--all-targets", "--canary", "2", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(target_is(r.out, "t01", "ok"), "%s", r.out);
	ck_assert(target_is(r.out, "t02", "failed"));
	for (size_t i = 2; i < f.n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "t%02zu", i + 1);
		ck_assert(target_is(r.out, name, "not_started"));
		ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM pg_namespace WHERE nspname = 'cairn'"), 0);
	}
	tu_result_dispose(&r);
	/* canaries that pass let the rest go */
	fleet_dispose(&f);
	fleet_init(&f, 5, 0);
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets",
		 "--canary", "2", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	for (size_t i = 0; i < f.n; i++)
		ck_assert_int_eq(applied_in(&f, i), 3);
	fleet_dispose(&f);
}
END_TEST

START_TEST(test_schema_per_tenant)
{
	char *url = tu_db_create("tenant"), *dir = tu_git_repo(), yaml[2048];
	tu_result r;

	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n"
		 "      - { name: acme, database_url: \"%s\", schema: tenant_acme }\n"
		 "      - { name: globex, database_url: \"%s\", schema: tenant_globex }\n",
		 url, url);
	tu_write(dir, "cairn.yaml", yaml);
	tu_write(dir, "db/migrations/0001_users.up.sql", "CREATE TABLE users (id int);\n");
	tu_write(dir, "db/migrations/0002_orders.up.sql", "CREATE TABLE orders (id int);\n");
	free(tu_git_commit(dir, "Ann", "ann@example.com", 1700000000, "two"));
	tu_cairn(&r, dir, "--env", "prod", "migrate", "up", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	tu_result_dispose(&r);
	/* each tenant: cairn's tables and the migrations' tables in its schema */
	ck_assert_int_eq(count_in(url, "SELECT count(*) FROM tenant_acme.migrations WHERE status = 'applied'"), 2);
	ck_assert_int_eq(count_in(url, "SELECT count(*) FROM tenant_globex.migrations WHERE status = 'applied'"), 2);
	ck_assert_int_eq(count_in(url, "SELECT count(*) FROM pg_tables WHERE schemaname IN ('tenant_acme','tenant_globex') AND tablename IN ('users','orders')"), 4);
	ck_assert_int_eq(count_in(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 0);
	ck_assert_int_eq(count_in(url, "SELECT count(*) FROM pg_namespace WHERE nspname = 'cairn'"), 0);
	tu_rmrf(dir);
	free(dir);
	free(url);
}
END_TEST

START_TEST(test_fleet_usage_errors)
{
	fleet f;
	tu_result r;

	fleet_init(&f, 1, 0);
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "down", "--all-targets", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--parallel", "2", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	/* a child without its URL in the environment refuses */
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--fleet-target", "t01", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert(tu_contains(r.err, "CAIRN_FLEET_DATABASE_URL"));
	tu_result_dispose(&r);
	ck_assert_int_eq(applied_in(&f, 0), -1);
	fleet_dispose(&f);
}
END_TEST

START_TEST(test_status_all_targets)
{
	fleet f;
	tu_result r;

	fleet_init(&f, 4, 3);
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets",
		 "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	tu_result_dispose(&r);
	/* a fourth migration: every target is one more behind */
	tu_write(f.dir, "db/migrations/0004_more.up.sql", "CREATE TABLE more (id int);\n");
	free(tu_git_commit(f.dir, "Ann", "ann@example.com", 1700000100, "four"));
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "status",
		 "--all-targets", "--parallel", "2", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "\"target\": \"t01\""), "%s", r.out);
	ck_assert(tu_contains(r.out, "\"highest_applied\": \"3\"") ||
		  tu_contains(r.out, "\"highest_applied\": \"0003\""));
	ck_assert(tu_contains(r.out, "\"behind\": 1"));
	/* t03 failed at 0002: 0001 applied, 0002 failed, 0003 and 0004 pending */
	ck_assert_msg(target_is(r.out, "t03", "ok"), "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, f.dir, "--env", "prod", "status", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.out, "highest applied"), "%s", r.out);
	ck_assert(tu_contains(r.out, "t04"));
	tu_result_dispose(&r);
	/* a target that cannot be reached fails; the others are shown */
	tu_write(f.dir, "cairn.yaml", "environments:\n  prod:\n    targets:\n"
		 "      - { name: gone, database_url: \"postgresql:///no_such_db_fleet?host=/nonexistent\" }\n");
	tu_cairn(&r, f.dir, "--worktree", "--env", "prod", "status", "--all-targets", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "targets failed: gone"), "%s", r.err);
	tu_result_dispose(&r);
	fleet_dispose(&f);
}
END_TEST

/* Whether some process's command line holds needle (/proc/PID/cmdline). */
static bool any_cmdline_has(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	ck_assert_ptr_nonnull(d);
	while (!found && (e = readdir(d))) {
		char path[300], buf[8192];
		FILE *fp;
		size_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if (!(fp = fopen(path, "r")))
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		for (size_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[n] = '\0';
		found = strstr(buf, needle) != NULL;
	}
	closedir(d);
	return found;
}

START_TEST(test_interrupt_leaves_no_target_locked)
{
	fleet f;
	pid_t pid;
	int st;
	char out[512], dbname[256];
	const char *slash;

	fleet_init(&f, 4, 0);
	tu_write(f.dir, "db/migrations/0001_users.up.sql",
		 "CREATE TABLE users (id int);\nSELECT pg_sleep(60);\n");
	free(tu_git_commit(f.dir, "Ann", "ann@example.com", 1700000100, "slow"));
	snprintf(out, sizeof(out), "%s/run.out", f.dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chdir(f.dir) < 0 || !freopen(out, "w", stdout))
			_exit(126);
		dup2(1, 2);
		execl(tu_cairn_bin(), tu_cairn_bin(), "--env", "prod", "migrate", "up",
		      "--all-targets", "--parallel", "2", (char *)NULL);
		_exit(127);
	}
	ck_assert_msg(tu_db_wait(f.urls[0],
		"SELECT count(*) = 2 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
		60000), "the two first targets never started");
	/* the children run: no command line holds a target's URL (the
	 * server's backends show the database name, not the URL) */
	slash = strrchr(f.urls[0], '/');
	snprintf(dbname, sizeof(dbname), "postgresql:///%.*s",
		 (int)strcspn(slash + 1, "?"), slash + 1);
	ck_assert(!any_cmdline_has(dbname));
	ck_assert(!any_cmdline_has(f.urls[1]));
	kill(pid, SIGINT);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 130) {
		char *o = tu_read(f.dir, "run.out");

		ck_abort_msg("status %d: %s", st, o ? o : "");
	}
	ck_assert(tu_db_wait(f.urls[0],
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
		30000));
	for (size_t i = 0; i < f.n; i++) {
		/* nothing half-applied, no lock left, the others never started */
		ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), 0);
		ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"), 0);
		if (i < 2)
			ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM cairn.migrations"), 0);
		else
			ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM pg_namespace WHERE nspname = 'cairn'"), 0);
	}
	fleet_dispose(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("fleet");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_config_targets_list);
	tcase_add_test(tc, test_config_targets_errors);
	tcase_add_test(tc, test_targets_file_and_command);
	tcase_add_test(tc, test_all_targets_apply_each_once_with_run_id);
	tcase_add_test(tc, test_failure_stops_new_targets);
	tcase_add_test(tc, test_failed_canary_stops_the_rest);
	tcase_add_test(tc, test_schema_per_tenant);
	tcase_add_test(tc, test_fleet_usage_errors);
	tcase_add_test(tc, test_status_all_targets);
	tcase_add_test(tc, test_interrupt_leaves_no_target_locked);
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
