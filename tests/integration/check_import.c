/*
 * check_import.c - `cairn import golang-migrate|dbmate|flyway|sqitch`
 * end to end: the real cairn binary, real git repositories made here and
 * real PostgreSQL databases whose history tables are made as the tools
 * make them (dbmate itself builds one when it is installed; the others
 * are created with the tools' own column definitions).
 */
#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
	char *sha;
} project;

/* A repository with cairn.yaml; files: NULL-terminated (path, text) pairs. */
static void project_init(project *p, const char *const *files)
{
	char yaml[2048];

	p->url = tu_db_create("imp");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "hooks: {}\n", p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
	for (size_t i = 0; files[i]; i += 2)
		tu_write(p->dir, files[i], files[i + 1]);
	p->sha = tu_git_commit(p->dir, "Dana Dev", "dana@example.com",
			       1700000000, "migrations");
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
	free(p->sha);
}

static long count_of(project *p, const char *sql)
{
	char *v = tu_db_value(p->url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

static void exec_ok(project *p, const char *sql)
{
	ck_assert_int_eq(tu_db_exec(p->url, sql), 0);
}

/* The import wrote nothing (cairn's tables may exist, empty). */
static void assert_nothing_tracked(project *p)
{
	if (count_of(p, "SELECT count(*) FROM pg_namespace WHERE nspname = 'cairn'") == 0)
		return;
	ck_assert_int_eq(count_of(p, "SELECT count(*) FROM cairn.migrations"), 0);
}

static const char *const timestamped[] = {
	"db/migrations/20230101120000_create_users.up.sql", "CREATE TABLE users (id int);\n",
	"db/migrations/20230101120000_create_users.down.sql", "DROP TABLE users;\n",
	"db/migrations/20230202120000_create_posts.up.sql", "CREATE TABLE posts (id int);\n",
	"db/migrations/20230303120000_add_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\n",
	NULL,
};

/* dbmate builds the database: its own binary, its own files. */
static bool dbmate_build(project *p)
{
	char *d;
	int rc;

	if (tu_sh(NULL, "command -v dbmate >/dev/null 2>&1") != 0)
		return false;
	d = tu_mkdtemp();
	tu_write(d, "m/20230101120000_create_users.sql",
		 "-- migrate:up\nCREATE TABLE users (id int);\n\n-- migrate:down\nDROP TABLE users;\n");
	tu_write(d, "m/20230202120000_create_posts.sql",
		 "-- migrate:up\nCREATE TABLE posts (id int);\n\n-- migrate:down\nDROP TABLE posts;\n");
	rc = tu_sh(d, "DATABASE_URL='%s' dbmate --migrations-dir m --no-dump-schema up", p->url);
	tu_rmrf(d);
	free(d);
	ck_assert_int_eq(rc, 0);
	return true;
}

/*
 * The report: a database dbmate built; cairn saw everything as
 * pending and `migrate up` failed with "relation already exists".
 */
START_TEST(test_dbmate_built_database)
{
	project p;
	tu_result r;
	char *before, *after, *v;

	project_init(&p, timestamped);
	if (!dbmate_build(&p)) {
		fprintf(stderr, "check_import: dbmate is not installed; the table is made by hand\n");
		exec_ok(&p, "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);"
			    "CREATE TABLE users (id int); CREATE TABLE posts (id int);"
			    "INSERT INTO schema_migrations VALUES ('20230101120000'), ('20230202120000')");
	}
	before = tu_db_value(p.url, "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations");
	ck_assert_str_eq(before, "20230101120000,20230202120000");

	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "already exists"), "%s", r.err);
	tu_result_dispose(&r);

	/* the mapping, and nothing written */
	tu_cairn(&r, p.dir, "import", "dbmate", "--dry-run", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "would import 2 migrations from dbmate"), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "20230202120000") && tu_contains(r.out, "create_posts"), "%s", r.out);
	ck_assert_msg(!tu_contains(r.out, "add_email"), "%s", r.out);
	tu_result_dispose(&r);
	assert_nothing_tracked(&p);

	tu_cairn(&r, p.dir, "import", "dbmate", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "imported 2 migrations from dbmate"), "%s", r.out);
	tu_result_dispose(&r);
	v = tu_db_value(p.url, "SELECT string_agg(version || ' ' || commit_sha || ' ' || author_name || ' ' || applied_by, ',' ORDER BY version) FROM cairn.migrations");
	ck_assert_ptr_nonnull(v);
	ck_assert_msg(tu_contains(v, p.sha) && tu_contains(v, "Dana Dev") && tu_contains(v, "unknown (dbmate)"), "%s", v);
	free(v);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE event = 'import' AND outcome = 'imported' "
				  "AND detail->>'tool' = 'dbmate' AND detail->>'tool_version' = version::text"), 2);
	/* dbmate's table is untouched */
	after = tu_db_value(p.url, "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations");
	ck_assert_str_eq(before, after);
	free(before);
	free(after);

	/* and cairn migrates on from there */
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "applied 1 migration"), "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	/* a second import is refused: the tracking table has rows */
	tu_cairn(&r, p.dir, "import", "dbmate", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "already has 3 rows"), "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* Versions the repository lacks, and gaps the history skipped: listed. */
START_TEST(test_lacks_and_gaps_refused)
{
	project p;
	tu_result r;

	project_init(&p, timestamped);
	exec_ok(&p, "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);"
		    "INSERT INTO schema_migrations VALUES ('20230101120000'), ('20221231000000'), ('20221230000000')");
	tu_cairn(&r, p.dir, "import", "dbmate", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "20221231000000") && tu_contains(r.out, "20221230000000"), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "lacks"), "%s", r.out);
	tu_result_dispose(&r);
	assert_nothing_tracked(&p);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE event = 'import' AND outcome = 'refused' "
				  "AND jsonb_array_length(detail->'reasons') = 2"), 1);

	/* a gap: 20230202 applied, 20230101 skipped */
	exec_ok(&p, "DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES ('20230202120000')");
	tu_cairn(&r, p.dir, "import", "dbmate", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "20230101120000_create_users") && tu_contains(r.err, "skipped"), "%s", r.err);
	tu_result_dispose(&r);
	assert_nothing_tracked(&p);

	/* no history at all */
	exec_ok(&p, "DROP TABLE schema_migrations");
	tu_cairn(&r, p.dir, "import", "dbmate", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "no schema_migrations table"), "%s", r.err);
	tu_result_dispose(&r);

	tu_cairn(&r, p.dir, "import", "liquibase", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static const char *const numbered[] = {
	"db/migrations/0001_create_a.up.sql", "CREATE TABLE a (x int);\n",
	"db/migrations/0002_create_b.up.sql", "CREATE TABLE b (x int);\n",
	"db/migrations/0003_create_c.up.sql", "CREATE TABLE c (x int);\n",
	NULL,
};

/* golang-migrate: one row; everything at or below it; dirty refuses. */
START_TEST(test_golang_migrate)
{
	project p;
	tu_result r;

	project_init(&p, numbered);
	exec_ok(&p, "CREATE TABLE schema_migrations (version bigint NOT NULL, dirty boolean NOT NULL);"
		    "ALTER TABLE schema_migrations ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);"
		    "CREATE TABLE a (x int); CREATE TABLE b (x int);"
		    "INSERT INTO schema_migrations VALUES (2, true)");
	tu_cairn(&r, p.dir, "import", "golang-migrate", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "version 2 is dirty"), "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "HINT:") && tu_contains(r.err, "force"), "%s", r.err);
	tu_result_dispose(&r);
	assert_nothing_tracked(&p);

	/* dbmate's importer on golang-migrate's table says which it is */
	tu_cairn(&r, p.dir, "import", "dbmate", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "golang-migrate"), "%s", r.err);
	tu_result_dispose(&r);

	exec_ok(&p, "UPDATE schema_migrations SET dirty = false");
	tu_cairn(&r, p.dir, "import", "golang-migrate", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "imported 2 migrations"), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "(implied)"), "%s", r.out);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations WHERE version::numeric <= 2 AND commit_sha IS NOT NULL"), 2);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'imported' AND detail->>'tool' = 'golang-migrate'"), 2);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM schema_migrations WHERE version = '2' AND NOT dirty"), 1);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0 && tu_contains(r.out, "applied 1 migration"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* Flyway's history table, with its own columns. */
static void flyway_table(project *p)
{
	exec_ok(p, "CREATE TABLE flyway_schema_history ("
		   " installed_rank integer NOT NULL, version varchar(50),"
		   " description varchar(200) NOT NULL, type varchar(20) NOT NULL,"
		   " script varchar(1000) NOT NULL, checksum integer,"
		   " installed_by varchar(100) NOT NULL,"
		   " installed_on timestamp NOT NULL DEFAULT now(),"
		   " execution_time integer NOT NULL, success boolean NOT NULL);"
		   "ALTER TABLE flyway_schema_history ADD CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank);"
		   "CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success)");
}

START_TEST(test_flyway)
{
	project p;
	tu_result r;
	char *v;

	project_init(&p, numbered);
	flyway_table(&p);
	exec_ok(&p, "CREATE TABLE a (x int); CREATE TABLE b (x int);"
		    "INSERT INTO flyway_schema_history VALUES "
		    "(1, '1', 'create a', 'SQL', 'V1__create_a.sql', 1234, 'frank', '2023-04-01 10:00:00', 12, true),"
		    "(2, '2', 'create b', 'SQL', 'V2__create_b.sql', -99, 'grace', '2023-04-02 11:00:00', 7, false)");
	/* a failed row refuses */
	tu_cairn(&r, p.dir, "import", "flyway", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "failed run of 'V2__create_b.sql'"), "%s", r.err);
	tu_result_dispose(&r);
	assert_nothing_tracked(&p);

	/* a version the repository lacks refuses; a repeatable row is no reason
	 * (dotted versions: check_dotted_versions.c; repeatables:
	 * check_import_repeatable.c) */
	exec_ok(&p, "UPDATE flyway_schema_history SET success = true;"
		    "INSERT INTO flyway_schema_history VALUES "
		    "(3, '2.1', 'tweak', 'SQL', 'V2.1__tweak.sql', 5, 'grace', '2023-04-03 11:00:00', 1, true),"
		    "(4, NULL, 'views', 'SQL', 'R__views.sql', 6, 'grace', '2023-04-03 11:00:00', 1, true)");
	tu_cairn(&r, p.dir, "import", "flyway", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg((tu_contains(r.out, "'2.1'") || tu_contains(r.err, "'2.1'")) &&
		      !tu_contains(r.out, "R__views.sql") && !tu_contains(r.err, "R__views.sql"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_nothing_tracked(&p);

	exec_ok(&p, "DELETE FROM flyway_schema_history WHERE installed_rank > 2");
	tu_cairn(&r, p.dir, "import", "flyway", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	v = tu_db_value(p.url, "SELECT string_agg(version || ' ' || applied_by || ' ' || "
			"to_char(applied_at AT TIME ZONE current_setting('TimeZone'), 'YYYY-MM-DD HH24:MI'), ',' ORDER BY version) FROM cairn.migrations");
	ck_assert_str_eq(v, "1 frank (flyway) 2023-04-01 10:00,2 grace (flyway) 2023-04-02 11:00");
	free(v);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'imported' "
				  "AND detail->>'installed_by' = 'frank' AND detail->>'tool_version' = '1'"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM flyway_schema_history"), 2);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0 && tu_contains(r.out, "applied 1 migration"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* A Flyway baseline row covers what is below it; undo rows cancel. */
START_TEST(test_flyway_baseline_and_undo)
{
	project p;
	tu_result r;

	project_init(&p, numbered);
	flyway_table(&p);
	exec_ok(&p, "INSERT INTO flyway_schema_history VALUES "
		    "(1, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'ops', '2023-05-01', 0, true),"
		    "(2, '2', 'create b', 'SQL', 'V2__create_b.sql', 1, 'ops', '2023-05-02', 3, true),"
		    "(3, '3', 'create c', 'SQL', 'V3__create_c.sql', 2, 'ops', '2023-05-03', 3, true),"
		    "(4, '3', 'create c', 'UNDO_SQL', 'U3__create_c.sql', 3, 'ops', '2023-05-04', 3, true)");
	tu_cairn(&r, p.dir, "import", "flyway", "--dry-run", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "would import 2 migrations"), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "(implied)") && tu_contains(r.out, "1_create_a"), "%s", r.out);
	ck_assert_msg(!tu_contains(r.out, "create_c"), "%s", r.out);
	tu_result_dispose(&r);
	assert_nothing_tracked(&p);
	project_dispose(&p);
}
END_TEST

/* Sqitch: changes by name, with committer and time. */
START_TEST(test_sqitch)
{
	project p;
	tu_result r;
	char *v;

	project_init(&p, numbered);
	exec_ok(&p, "CREATE SCHEMA sqitch;"
		    "CREATE TABLE sqitch.projects (project text PRIMARY KEY, uri text UNIQUE,"
		    " created_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
		    " creator_name text NOT NULL, creator_email text NOT NULL);"
		    "CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text,"
		    " change text NOT NULL, project text NOT NULL REFERENCES sqitch.projects(project) ON UPDATE CASCADE,"
		    " note text NOT NULL DEFAULT '', committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
		    " committer_name text NOT NULL, committer_email text NOT NULL,"
		    " planned_at timestamptz NOT NULL, planner_name text NOT NULL, planner_email text NOT NULL,"
		    " UNIQUE (project, script_hash));"
		    "INSERT INTO sqitch.projects VALUES ('app', NULL, now(), 'Sam', 'sam@example.com');"
		    "INSERT INTO sqitch.changes VALUES "
		    "('c1', 'h1', 'create_a', 'app', '', '2023-06-01 09:00:00+00', 'Sam', 'sam@example.com', '2023-05-30', 'Sam', 'sam@example.com'),"
		    "('c2', 'h2', 'create_b', 'app', '', '2023-06-02 09:00:00+00', 'Sam', 'sam@example.com', '2023-05-31', 'Sam', 'sam@example.com')");
	tu_cairn(&r, p.dir, "import", "sqitch", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "imported 2 migrations from sqitch"), "%s", r.out);
	tu_result_dispose(&r);
	v = tu_db_value(p.url, "SELECT string_agg(version || ' ' || applied_by, ',' ORDER BY version) FROM cairn.migrations");
	ck_assert_str_eq(v, "1 Sam <sam@example.com> (sqitch),2 Sam <sam@example.com> (sqitch)");
	free(v);

	/* a change the repository lacks */
	project_dispose(&p);
	project_init(&p, numbered);
	exec_ok(&p, "CREATE SCHEMA sqitch;"
		    "CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, change text NOT NULL, project text NOT NULL,"
		    " note text NOT NULL DEFAULT '', committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
		    " committer_name text NOT NULL, committer_email text NOT NULL,"
		    " planned_at timestamptz NOT NULL, planner_name text NOT NULL, planner_email text NOT NULL);"
		    "INSERT INTO sqitch.changes VALUES "
		    "('c9', 'widgets', 'app', '', now(), 'Sam', 'sam@example.com', now(), 'Sam', 'sam@example.com')");
	tu_cairn(&r, p.dir, "import", "sqitch", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "change 'widgets'"), "%s", r.err);
	tu_result_dispose(&r);
	assert_nothing_tracked(&p);
	project_dispose(&p);
}
END_TEST

/*
 * Import and baseline take the deploy lock: while a `migrate up` holds it
 * (its migration waits at an advisory gate the test holds), both give up
 * after the environment's lock_timeout with exit 4 and change nothing.
 */
START_TEST(test_waits_for_the_deploy_lock)
{
	project p;
	tu_result r;
	PGconn *gate;
	PGresult *res;
	pid_t pid;
	int st;
	char yaml[1024];
	const char *const files[] = {
		"db/migrations/0001_gate.up.sql",
		"-- cairn: lock-timeout=5min\nSELECT pg_advisory_xact_lock(4243);\n",
		NULL,
	};

	project_init(&p, files);
	snprintf(yaml, sizeof(yaml),
		 "environments:\n  development:\n    database_url: \"%s\"\n"
		 "    lock_timeout: 1s\nhooks: {}\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	free(tu_git_commit(p.dir, "Dana Dev", "dana@example.com", 1700000100, "timeout"));
	exec_ok(&p, "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)");
	gate = PQconnectdb(p.url);
	ck_assert_int_eq(PQstatus(gate), CONNECTION_OK);
	res = PQexec(gate, "SELECT pg_advisory_lock(4243)");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chdir(p.dir) < 0 || !freopen("/dev/null", "w", stdout) ||
		    !freopen("/dev/null", "w", stderr))
			_exit(126);
		execl(tu_cairn_bin(), tu_cairn_bin(), "migrate", "up", (char *)NULL);
		_exit(127);
	}
	ck_assert(tu_db_wait(p.url, "SELECT count(*) = 1 FROM pg_stat_activity "
			     "WHERE datname = current_database() AND wait_event_type = 'Lock' "
			     "AND query LIKE '%pg_advisory_xact_lock(4243)%' AND pid <> pg_backend_pid()",
			     TU_WAIT_MS));

	tu_cairn(&r, p.dir, "import", "dbmate", NULL);
	ck_assert_msg(r.status == 4, "%d %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "baseline", "1", NULL);
	ck_assert_msg(r.status == 4, "%d %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);

	res = PQexec(gate, "SELECT pg_advisory_unlock(4243)");
	PQclear(res);
	PQfinish(gate);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome IN ('imported', 'baselined')"), 0);
	/* each gave-up run is audited as refused */
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'refused' "
				  "AND detail->>'direction' IN ('import', 'baseline')"), 2);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("import");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dbmate_built_database);
	tcase_add_test(tc, test_lacks_and_gaps_refused);
	tcase_add_test(tc, test_golang_migrate);
	tcase_add_test(tc, test_flyway);
	tcase_add_test(tc, test_flyway_baseline_and_undo);
	tcase_add_test(tc, test_sqitch);
	tcase_add_test(tc, test_waits_for_the_deploy_lock);
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
