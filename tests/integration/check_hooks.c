/*
 * check_hooks.c - hooks that leave the process or touch the database:
 * exec hooks (argv and shell forms), sql hooks against the real test
 * server ($CAIRN_TEST_DB_URL, started by tests/run), and the log and
 * metrics built-ins writing their files.
 *
 * Each test builds its pipeline from cairn.yaml text with
 * cairn_hooks_build(), exactly as the program does, in a fresh temporary
 * directory that serves as the repository work dir.  Hook scripts are
 * written by the tests themselves and report what they received into
 * files there (stdin.json, name.txt, ...), which the tests read back.
 * Events are fired with contexts the tests build, so no git repository
 * or migration run is needed.
 */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../hooks/builtins.h"
#include "cairn/db.h"
#include "cairn/hook.h"
#include "cairn/hooks_config.h"
#include "util/error.h"
#include "engine/session.h"
#include "testutil.h"
#include "util/util.h"

/* A name and author full of shell syntax: they must arrive as data. */
#define HOSTILE_FMT "x$(touch %s/pwned1)`touch %s/pwned2`; touch %s/pwned3 " \
		    "'q' \"dq\" \\ \nline2 $HOME"

static char *dir;
static cairn_pipeline *pl;
static cairn_db *db;
static struct cairn_session session;
static volatile sig_atomic_t cancel_flag;
static char logbuf[65536];
static char hostile[1024];

static size_t n_hooks(cairn_event ev)
{
	return cairn_pipeline_count(pl, ev);
}

static const cairn_hook *hook_at(cairn_event ev, size_t i)
{
	return cairn_pipeline_get(pl, ev, i);
}

static void log_capture(const char *source, const char *text, void *payload)
{
	size_t n = strlen(logbuf);

	(void)payload;
	snprintf(logbuf + n, sizeof(logbuf) - n, "[%s] %s\n", source, text);
}

static void setup(void)
{
	dir = tu_mkdtemp();
	logbuf[0] = '\0';
	cancel_flag = 0;
	memset(&session, 0, sizeof(session));
	session.repo_workdir = NULL; /* the build-time workdir is used */
	session.cancel = &cancel_flag;
	snprintf(hostile, sizeof(hostile), HOSTILE_FMT, dir, dir, dir);
	cairn_error_clear();
	ck_assert_int_eq(cairn_pipeline_new(&pl), 0);
}

static void teardown(void)
{
	cairn_pipeline_free(pl);
	pl = NULL;
	cairn_db_free(db);
	db = NULL;
	tu_rmrf(dir);
	free(dir);
	dir = NULL;
	cairn_error_clear();
}

static void connect_db(const char *extra)
{
	cairn_db_options o = CAIRN_DB_OPTIONS_INIT;
	char url[2048];

	ck_assert_msg(tu_db_url() != NULL, "CAIRN_TEST_DB_URL is not set; "
		      "run this suite through tests/run");
	snprintf(url, sizeof(url), "%s%s", tu_db_url(), extra ? extra : "");
	o.conninfo = url;
	ck_assert_msg(cairn_db_connect(&db, &o) == 0, "connect: %s",
		      cairn_error_last()->message);
	session.db = db;
}

static void build(const char *yaml)
{
	cairn_hooks_build_options o = CAIRN_HOOKS_BUILD_OPTIONS_INIT;
	cairn_config *cfg = NULL;

	ck_assert_msg(cairn_config_parse(&cfg, "cairn.yaml", yaml,
					 strlen(yaml), NULL) == 0,
		      "config: %s", cairn_error_last()->message);
	o.builtins = cairn_builtins(&o.builtins_count);
	o.workdir = dir;
	ck_assert_msg(cairn_hooks_build(pl, cfg, &o) == 0, "build: %s",
		      cairn_error_last()->message);
	cairn_config_free(cfg);
}

static cairn_migration make_mig(const char *vtext, const char *v,
				const char *name, const char *subdir)
{
	cairn_migration m;

	memset(&m, 0, sizeof(m));
	m.version_text = (char *)vtext;
	m.version = (char *)v;
	m.name = (char *)name;
	m.subdir = (char *)subdir;
	m.up_path = (char *)"db/migrations/0001_x.up.sql";
	memcpy(m.checksum, "c0ffee", 7);
	return m;
}

static cairn_hook_context make_ctx(cairn_event ev, const cairn_migration *m)
{
	cairn_hook_context c;

	memset(&c, 0, sizeof(c));
	c.version = 1;
	c.event = ev;
	c.environment = "production";
	c.run_id = "run-42";
	c.direction = "up";
	c.migration = m;
	c.status = "applied";
	c.deploy_rev = "deadbeef";
	c.deploy_ref = "refs/heads/main";
	c.actor = "Deployer <d@example.com>";
	c.database = "postgres@/tmp:5432/postgres";
	c.session = &session;
	c.log_fn = log_capture;
	return c;
}

static void write_script(const char *rel, const char *body)
{
	char path[4096];

	tu_write(dir, rel, body);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_int_eq(chmod(path, 0755), 0);
}

static bool exists(const char *rel)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return stat(path, &st) == 0;
}

static void assert_not_pwned(void)
{
	ck_assert_msg(!exists("pwned1") && !exists("pwned2") &&
		      !exists("pwned3"), "a hostile string was executed");
}

/* ------------------------------------------------------------------ */
/* exec                                                                */

static const char report_script[] =
	"#!/bin/sh\n"
	"cat > stdin.json\n"
	"printf '%s\\n' \"$@\" > args.txt\n"
	"printf '%s' \"$CAIRN_MIGRATION_NAME\" > name.txt\n"
	"printf '%s' \"$CAIRN_AUTHOR_NAME\" > author.txt\n"
	"env | grep '^CAIRN_' | sort > env.txt\n"
	"pwd > pwd.txt\n"
	"echo hello from stdout\n"
	"echo hello from stderr >&2\n";

START_TEST(test_exec_argv)
{
	cairn_migration m = make_mig("0001", "1", hostile, "");
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_EXECUTE, &m);
	json_t *doc, *mig;
	char *s;

	m.has_provenance = true;
	memcpy(m.introduced.sha, "abc123", 7);
	m.introduced.author_name = hostile;
	m.introduced.author_email = (char *)"evil@example.com";
	write_script("bin/report.sh", report_script);
	build("hooks:\n"
	      "  post_execute:\n"
	      "    - run: [bin/report.sh, --fast, 'two words', '$(touch pwned1)']\n"
	      "      name: report\n");
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);

	s = tu_read(dir, "args.txt");
	ck_assert_str_eq(s, "--fast\ntwo words\n$(touch pwned1)\n");
	free(s);
	s = tu_read(dir, "name.txt");
	ck_assert_str_eq(s, hostile);
	free(s);
	s = tu_read(dir, "author.txt");
	ck_assert_str_eq(s, hostile);
	free(s);
	s = tu_read(dir, "pwd.txt");
	ck_assert(tu_contains(s, dir));
	free(s);
	assert_not_pwned();

	s = tu_read(dir, "stdin.json");
	ck_assert_ptr_nonnull(s);
	doc = json_loads(s, 0, NULL);
	ck_assert_msg(doc != NULL, "stdin was not JSON: %s", s);
	free(s);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "event")),
			 "post_execute");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "run_id")),
			 "run-42");
	mig = json_object_get(doc, "migration");
	ck_assert_str_eq(json_string_value(json_object_get(mig, "name")),
			 hostile);
	ck_assert_str_eq(json_string_value(json_object_get(
		json_object_get(mig, "introduced_by"), "author_name")), hostile);
	json_decref(doc);

	ck_assert(tu_contains(logbuf, "[report] hello from stdout"));
	ck_assert(tu_contains(logbuf, "[report] hello from stderr"));
}
END_TEST

START_TEST(test_exec_shell)
{
	cairn_migration m = make_mig("0001", "1", hostile, "");
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_EXECUTE, &m);
	char *s;

	build("hooks:\n"
	      "  pre_execute:\n"
	      "    - run: 'cat > stdin.json; printf \"%s\" "
	      "\"$CAIRN_MIGRATION_NAME\" > name.txt; echo shell ran'\n");
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	s = tu_read(dir, "name.txt");
	ck_assert_str_eq(s, hostile);
	free(s);
	s = tu_read(dir, "stdin.json");
	ck_assert(tu_contains(s, "\"event\":\"pre_execute\""));
	free(s);
	assert_not_pwned();
	ck_assert(tu_contains(logbuf, "] shell ran"));
}
END_TEST

static const char *env_line(const char *env, const char *key)
{
	static char line[1024];
	char pat[256];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "%s=", key);
	for (p = env; p && *p; p = e + 1) {
		e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		if (!strncmp(p, pat, strlen(pat))) {
			snprintf(line, sizeof(line), "%.*s",
				 (int)(e - p - strlen(pat)), p + strlen(pat));
			return line;
		}
		if (!*e)
			break;
	}
	return NULL;
}

START_TEST(test_exec_env)
{
	cairn_migration m = make_mig("0007", "7", "add_users", "");
	cairn_kv meta[] = { { (char *)"ticket-id", (char *)"OPS-9" } };
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_EXECUTE, &m);
	char *env;

	c.metadata = meta;
	c.metadata_count = 1;
	c.duration_ms = 17;
	c.dry_run = true;
	m.has_provenance = true;
	memcpy(m.introduced.sha, "abc123", 7);
	m.introduced.author_name = (char *)"Ada";
	m.introduced.author_email = (char *)"ada@example.com";
	setenv("CAIRN_STATUS", "inherited", 1);
	write_script("report.sh", report_script);
	build("hooks:\n"
	      "  post_execute:\n"
	      "    - run: [./report.sh]\n");
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	unsetenv("CAIRN_STATUS");
	env = tu_read(dir, "env.txt");
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(env_line(env, "CAIRN_EVENT"), "post_execute");
	ck_assert_str_eq(env_line(env, "CAIRN_ENV"), "production");
	ck_assert_str_eq(env_line(env, "CAIRN_RUN_ID"), "run-42");
	ck_assert_str_eq(env_line(env, "CAIRN_DIRECTION"), "up");
	ck_assert_str_eq(env_line(env, "CAIRN_MIGRATION_VERSION"), "7");
	ck_assert_str_eq(env_line(env, "CAIRN_MIGRATION_NAME"), "add_users");
	ck_assert_str_eq(env_line(env, "CAIRN_MIGRATION_FILE"),
			 "db/migrations/0001_x.up.sql");
	ck_assert_str_eq(env_line(env, "CAIRN_MIGRATION_CHECKSUM"), "c0ffee");
	ck_assert_str_eq(env_line(env, "CAIRN_COMMIT"), "abc123");
	ck_assert_str_eq(env_line(env, "CAIRN_AUTHOR_NAME"), "Ada");
	ck_assert_str_eq(env_line(env, "CAIRN_AUTHOR_EMAIL"),
			 "ada@example.com");
	ck_assert_str_eq(env_line(env, "CAIRN_STATUS"), "applied");
	ck_assert_str_eq(env_line(env, "CAIRN_DURATION_MS"), "17");
	ck_assert_str_eq(env_line(env, "CAIRN_ERROR"), "");
	ck_assert_str_eq(env_line(env, "CAIRN_DEPLOY_REV"), "deadbeef");
	ck_assert_str_eq(env_line(env, "CAIRN_DEPLOY_REF"), "refs/heads/main");
	ck_assert_str_eq(env_line(env, "CAIRN_ACTOR"),
			 "Deployer <d@example.com>");
	ck_assert_str_eq(env_line(env, "CAIRN_DRY_RUN"), "1");
	ck_assert_str_eq(env_line(env, "CAIRN_META_TICKET_ID"), "OPS-9");
	ck_assert_str_eq(env_line(env, "CAIRN_HOOK_NAME"), "exec:report.sh");
	free(env);
}
END_TEST

START_TEST(test_exec_nonzero_exit)
{
	cairn_migration m = make_mig("0002", "2", "orders", "");
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_EXECUTE, &m);
	const cairn_error *e;

	build("hooks:\n"
	      "  pre_execute:\n"
	      "    - run: 'echo out-line; echo first >&2; echo last-words >&2; "
	      "exit 3'\n"
	      "      name: rebuild-cache\n");
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL),
			 CAIRN_EVETO);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_HOOK);
	ck_assert_msg(tu_contains(e->message, "hook 'rebuild-cache' failed at "
				  "pre_execute of 0002_orders: exec hook "
				  "'rebuild-cache' exited with status 3"),
		      "%s", e->message);
	ck_assert_ptr_nonnull(e->detail);
	ck_assert_str_eq(e->detail, "first\nlast-words");
	ck_assert(tu_contains(logbuf, "[rebuild-cache] out-line"));
	ck_assert(tu_contains(logbuf, "[rebuild-cache] first\nlast-words"));
}
END_TEST

START_TEST(test_exec_warn_goes_on)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);
	size_t warnings = 0;

	build("hooks:\n"
	      "  pre_validate:\n"
	      "    - run: 'exit 1'\n"
	      "      on_failure: warn\n"
	      "    - run: 'echo second > second.txt'\n");
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL,
					     &warnings), 0);
	ck_assert_uint_eq(warnings, 1);
	ck_assert(exists("second.txt"));
}
END_TEST

START_TEST(test_exec_timeout)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	int64_t t0;
	const cairn_error *e = NULL;

	build("hooks:\n"
	      "  post_complete:\n"
	      "    - run: [sleep, '30']\n"
	      "      name: sleeper\n"
	      "      timeout: 300ms\n");
	cairn_pipeline_set_observer(pl, NULL, NULL);
	t0 = cairn__now_ms();
	/* post_complete cannot veto: the failure is counted, not returned */
	{
		size_t warnings = 0;

		ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL,
						     &warnings), 0);
		ck_assert_uint_eq(warnings, 1);
	}
	ck_assert_msg(cairn__now_ms() - t0 < 3000, "took %lld ms",
		      (long long)(cairn__now_ms() - t0));
	ck_assert(cairn__now_ms() - t0 >= 250);

	/* and at an event that may veto, the message says what happened */
	cairn_pipeline_clear(pl);
	build("hooks:\n"
	      "  pre_validate:\n"
	      "    - run: [sleep, '30']\n"
	      "      name: sleeper\n"
	      "      timeout: 200ms\n");
	c.event = CAIRN_EVENT_PRE_VALIDATE;
	t0 = cairn__now_ms();
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL),
			 CAIRN_EVETO);
	ck_assert(cairn__now_ms() - t0 < 3000);
	e = cairn_error_last();
	ck_assert_msg(tu_contains(e->message, "exec hook 'sleeper' timed out "
				  "after 200 ms"), "%s", e->message);
	ck_assert(tu_contains(e->hint, "timeout"));
}
END_TEST

START_TEST(test_exec_cancel)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);
	int64_t t0;

	build("hooks:\n"
	      "  pre_validate:\n"
	      "    - run: [sleep, '30']\n"
	      "      name: sleeper\n");
	cancel_flag = 1;
	t0 = cairn__now_ms();
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL),
			 CAIRN_EVETO);
	ck_assert(cairn__now_ms() - t0 < 3000);
	ck_assert(tu_contains(cairn_error_last()->message, "interrupted"));
}
END_TEST

START_TEST(test_exec_missing_program)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);
	const cairn_error *e;

	build("hooks:\n"
	      "  pre_validate:\n"
	      "    - run: [bin/not-there]\n"
	      "      name: ghost\n");
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL),
			 CAIRN_EVETO);
	e = cairn_error_last();
	ck_assert(tu_contains(e->message, "exec hook 'ghost' could not be "
			      "started"));
	ck_assert(tu_contains(e->detail, "bin/not-there"));
}
END_TEST

START_TEST(test_exec_pg_env)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_VALIDATE, NULL);
	char *s, *passfile;

	/* trust auth: the password is not needed, but libpq reports it */
	connect_db("&password=s3cr%3At");
	setenv("PGPASSWORD", "leaked", 1);
	setenv("PGSERVICE", "elsewhere", 1);
	write_script("pg.sh",
		"#!/bin/sh\n"
		"psql -XAtc 'select current_database()' > psql.txt 2>&1\n"
		"printf '%s' \"$PGPASSFILE\" > passfile.txt\n"
		"cat \"$PGPASSFILE\" > pass.txt\n"
		"stat -L -c %a \"$PGPASSFILE\" > mode.txt\n"
		"printf '%s|%s|%s' \"${PGPASSWORD-unset}\" "
		"\"${PGSERVICE-unset}\" \"$PGUSER\" > vars.txt\n"
		"test -n \"$PGHOST\" && test -n \"$PGPORT\" && "
		"test \"$PGDATABASE\" = postgres\n");
	build("hooks:\n"
	      "  post_validate:\n"
	      "    - run: [./pg.sh]\n");
	ck_assert_msg(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL) == 0,
		      "%s", cairn_error_last() ? cairn_error_last()->message
					       : "");
	unsetenv("PGPASSWORD");
	unsetenv("PGSERVICE");
	s = tu_read(dir, "psql.txt");
	ck_assert_str_eq(s, "postgres\n");
	free(s);
	s = tu_read(dir, "vars.txt");
	ck_assert_str_eq(s, "unset|unset|postgres");
	free(s);
	s = tu_read(dir, "pass.txt");
	ck_assert_str_eq(s, "*:*:*:postgres:s3cr\\:t\n");
	free(s);
	s = tu_read(dir, "mode.txt");
	ck_assert_str_eq(s, "600\n");
	free(s);
	passfile = tu_read(dir, "passfile.txt");
	/* a descriptor of the hook's own, no file a crash could leave */
	ck_assert_msg(!strncmp(passfile, "/dev/fd/", 8), "%s", passfile);
	free(passfile);
}
END_TEST

/* ------------------------------------------------------------------ */
/* sql                                                                 */

static int fire_sql(const char *sql, const char *expect, cairn_event ev)
{
	char yaml[2048];
	cairn_hook_context c = make_ctx(ev, NULL);

	cairn_pipeline_clear(pl);
	snprintf(yaml, sizeof(yaml),
		 "hooks:\n"
		 "  %s:\n"
		 "    - sql: \"%s\"\n"
		 "      name: check\n"
		 "%s%s%s",
		 cairn_event_name(ev), sql, expect ? "      expect: " : "",
		 expect ? expect : "", expect ? "\n" : "");
	build(yaml);
	return cairn_pipeline_fire(pl, &c, CAIRN_FIRE_INSIDE_TX, NULL);
}

static void assert_sql_fails(const char *sql, const char *expect,
			     const char *message)
{
	ck_assert_int_eq(fire_sql(sql, expect, CAIRN_EVENT_POST_VALIDATE),
			 CAIRN_EVETO);
	ck_assert_msg(tu_contains(cairn_error_last()->message, message),
		      "'%s' not in '%s'", message,
		      cairn_error_last()->message);
}

START_TEST(test_sql_expect)
{
	connect_db(NULL);
	ck_assert_int_eq(fire_sql("SELECT 0", "0", CAIRN_EVENT_POST_VALIDATE), 0);
	ck_assert_int_eq(fire_sql("SELECT 0.00::numeric", "0",
				  CAIRN_EVENT_POST_VALIDATE), 0);
	ck_assert_int_eq(fire_sql("SELECT count(*) FROM pg_class WHERE false",
				  "0", CAIRN_EVENT_POST_VALIDATE), 0);
	assert_sql_fails("SELECT 3", "0",
			 "sql hook 'check' expected 0, got '3'");
	assert_sql_fails("SELECT 1 WHERE false", "0",
			 "sql hook 'check' expected 0, got no rows");
	assert_sql_fails("SELECT NULL", "0",
			 "sql hook 'check' expected 0, got NULL");

	ck_assert_int_eq(fire_sql("SELECT 1 WHERE false", "empty",
				  CAIRN_EVENT_POST_VALIDATE), 0);
	ck_assert_int_eq(fire_sql("CREATE TEMP TABLE e (x int)", "empty",
				  CAIRN_EVENT_POST_VALIDATE), 0);
	assert_sql_fails("SELECT g FROM generate_series(1,2) g", "empty",
			 "sql hook 'check' expected no rows, got 2 rows");

	ck_assert_int_eq(fire_sql("SELECT true", "true",
				  CAIRN_EVENT_POST_VALIDATE), 0);
	ck_assert_int_eq(fire_sql("SELECT 'TRUE'", "true",
				  CAIRN_EVENT_POST_VALIDATE), 0);
	assert_sql_fails("SELECT 1 = 2", "true",
			 "sql hook 'check' expected true, got 'f'");
	assert_sql_fails("SELECT true WHERE false", "true",
			 "sql hook 'check' expected true, got no rows");

	/* without expect only errors fail */
	ck_assert_int_eq(fire_sql("SELECT 42", NULL,
				  CAIRN_EVENT_POST_VALIDATE), 0);
}
END_TEST

START_TEST(test_sql_error)
{
	const cairn_error *e;

	connect_db(NULL);
	ck_assert_int_eq(fire_sql("SELECT * FROM no_such_table", "empty",
				  CAIRN_EVENT_PRE_VALIDATE), CAIRN_EVETO);
	e = cairn_error_last();
	ck_assert_msg(tu_contains(e->message, "sql hook 'check' failed: "
				  "relation \\\"no_such_table\\\" does not exist")
		      || tu_contains(e->message, "sql hook 'check' failed: "
				     "relation \"no_such_table\" does not exist"),
		      "%s", e->message);
	/* the server's SQLSTATE is kept (read before the pipeline wraps it) */
	{
		cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);

		ck_assert_int_eq(cairn_hook_sql(&c, "SELECT * FROM nope", NULL,
						NULL), CAIRN_ERROR);
		e = cairn_error_last();
		ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_SQL);
		ck_assert_ptr_nonnull(e->sqlstate);
		ck_assert_str_eq(e->sqlstate, "42P01");
	}
	/* the connection is still usable */
	ck_assert_int_eq(fire_sql("SELECT 0", "0", CAIRN_EVENT_PRE_VALIDATE),
			 0);
}
END_TEST

START_TEST(test_sql_multi_statement_and_transaction)
{
	cairn_hook_context c;

	connect_db(NULL);
	ck_assert_int_eq(fire_sql("CREATE TEMP TABLE t (x int); "
				  "INSERT INTO t VALUES (1), (2); "
				  "SELECT count(*) = 2 FROM t", "true",
				  CAIRN_EVENT_POST_VALIDATE), 0);

	/* inside an open transaction the hook sees its uncommitted work */
	ck_assert_int_eq(cairn_db_exec(db, "BEGIN; CREATE TEMP TABLE tx (x int);"
				       " INSERT INTO tx VALUES (1)"), 0);
	cairn_pipeline_clear(pl);
	build("hooks:\n"
	      "  post_execute:\n"
	      "    - sql: SELECT count(*) FROM tx\n"
	      "      expect: 0\n"
	      "      name: gate\n");
	ck_assert(hook_at(CAIRN_EVENT_POST_EXECUTE, 0)->in_transaction);
	c = make_ctx(CAIRN_EVENT_POST_EXECUTE, NULL);
	c.in_transaction = true;
	/* outside the transaction phase the sql hook does not run */
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_OUTSIDE_TX,
					     NULL), 0);
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_INSIDE_TX,
					     NULL), CAIRN_EVETO);
	ck_assert(tu_contains(cairn_error_last()->message,
			      "sql hook 'gate' expected 0, got '1'"));
	ck_assert_int_eq(cairn_db_exec(db, "ROLLBACK"), 0);
}
END_TEST

START_TEST(test_sql_warn_keeps_transaction)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_EXECUTE, NULL);
	size_t warnings = 0;
	char *v = NULL;

	connect_db(NULL);
	ck_assert_int_eq(cairn_db_exec(db, "CREATE TEMP TABLE kept (x int)"),
			 0);
	build("hooks:\n"
	      "  post_execute:\n"
	      "    - sql: INSERT INTO kept VALUES (99); SELECT * FROM nope\n"
	      "      on_failure: warn\n"
	      "    - sql: SELECT 5\n"
	      "      expect: 0\n"
	      "      on_failure: ignore\n"
	      "    - sql: INSERT INTO kept VALUES (2)\n"
	      "      on_failure: warn\n");
	c.in_transaction = true;
	ck_assert_int_eq(cairn_db_exec(db, "BEGIN; INSERT INTO kept VALUES (1)"),
			 0);
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_INSIDE_TX,
					     &warnings), 0);
	ck_assert_uint_eq(warnings, 1);
	/* the migration's transaction is still good and commits */
	ck_assert_int_eq(cairn_db_exec(db, "INSERT INTO kept VALUES (3)"), 0);
	ck_assert_int_eq(cairn_db_exec(db, "COMMIT"), 0);
	ck_assert_int_eq(cairn_hook_sql(&c, "SELECT string_agg(x::text, ',' "
					"ORDER BY x) FROM kept", &v, NULL), 0);
	ck_assert_str_eq(v, "1,2,3"); /* the failed hook's 99 was undone */
	free(v);
}
END_TEST

START_TEST(test_sql_file)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_VALIDATE, NULL);

	connect_db(NULL);
	tu_write(dir, "checks/zero.sql", "-- a check\nSELECT 0;\n");
	build("hooks:\n"
	      "  post_validate:\n"
	      "    - sql_file: checks/zero.sql\n"
	      "      expect: 0\n");
	ck_assert_str_eq(hook_at(CAIRN_EVENT_POST_VALIDATE, 0)->name,
			 "sql:zero.sql");
	/* read at build time: removing the file changes nothing */
	tu_rmrf(dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
}
END_TEST

START_TEST(test_sql_timeout)
{
	int64_t t0;
	const cairn_error *e;
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);

	connect_db(NULL);
	build("hooks:\n"
	      "  pre_validate:\n"
	      "    - sql: SELECT pg_sleep(20)\n"
	      "      name: slow\n"
	      "      timeout: 300ms\n");
	t0 = cairn__now_ms();
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL),
			 CAIRN_EVETO);
	ck_assert(cairn__now_ms() - t0 < 5000);
	e = cairn_error_last();
	ck_assert_msg(tu_contains(e->message, "sql hook 'slow' timed out after "
				  "300 ms"), "%s", e->message);
	ck_assert(tu_contains(e->detail, "cancel"));
	ck_assert(cairn_db_is_ok(db));
	ck_assert_int_eq(cairn_db_exec(db, "SELECT 1"), 0);
}
END_TEST

START_TEST(test_hook_sql_api)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	char *v = (char *)"x";
	size_t rows = 99;

	/* no session, or a session without a database */
	c.session = NULL;
	ck_assert_int_eq(cairn_hook_sql(&c, "SELECT 1", &v, &rows),
			 CAIRN_ERROR);
	ck_assert_str_eq(cairn_error_last()->message,
			 "sql hooks need a database connection");
	ck_assert_ptr_null(v);
	c.session = &session;
	ck_assert_int_eq(cairn_hook_sql(&c, "SELECT 1", NULL, NULL),
			 CAIRN_ERROR);

	connect_db(NULL);
	ck_assert_int_eq(cairn_hook_sql(&c, "SELECT 'a' UNION ALL SELECT 'b'",
					&v, &rows), 0);
	ck_assert_str_eq(v, "a");
	ck_assert_uint_eq(rows, 2);
	free(v);
	ck_assert_int_eq(cairn_hook_sql(&c, "SELECT NULL::text", &v, &rows), 0);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(rows, 1);
	ck_assert_int_eq(cairn_hook_sql(&c, "", &v, &rows), 0);
	ck_assert_uint_eq(rows, 0);

	/* an sql hook in a dry run without a database is skipped */
	{
		struct cairn_session nodb = { NULL, NULL, NULL };
		cairn_hook_context d = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);

		build("hooks:\n"
		      "  pre_validate:\n"
		      "    - sql: SELECT 1\n"
		      "      name: gate\n");
		d.session = &nodb;
		d.dry_run = true;
		ck_assert_int_eq(cairn_pipeline_fire(pl, &d, CAIRN_FIRE_ALL,
						     NULL), 0);
		ck_assert(tu_contains(logbuf, "[gate] skipped: a dry run"));
		d.dry_run = false;
		ck_assert_int_eq(cairn_pipeline_fire(pl, &d, CAIRN_FIRE_ALL,
						     NULL), CAIRN_EVETO);
		ck_assert(tu_contains(cairn_error_last()->message,
				      "sql hooks need a database connection"));
	}

	/* an interrupted run cancels the query */
	cancel_flag = 1;
	ck_assert_int_eq(cairn_hook_sql(&c, "SELECT pg_sleep(20)", NULL, NULL),
			 CAIRN_EINTERRUPTED);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_INTERRUPTED);
	cancel_flag = 0;
	ck_assert_int_eq(cairn_hook_sql(&c, "SELECT 1", NULL, NULL), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* built-ins                                                           */

static void fire_mig(cairn_event ev, const cairn_migration *m,
		     const char *status, int64_t ms)
{
	cairn_hook_context c = make_ctx(ev, m);

	c.status = status;
	c.duration_ms = ms;
	if (ev == CAIRN_EVENT_POST_ROLLBACK)
		c.direction = "down";
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
}

START_TEST(test_metrics)
{
	cairn_migration m1 = make_mig("0001", "1", "a", "");
	cairn_migration m2 = make_mig("0002", "2", "b", "billing");
	cairn_migration m3 = make_mig("0003", "3", "add_index", "");
	cairn_migration m4 = make_mig("0004", "4", "d", "");
	cairn_migration m5 = make_mig("0005", "5", "e", "ops \"x\"");
	cairn_hook_context c;
	char *prom;

	build("hooks:\n"
	      "  post_complete:\n"
	      "    - builtin: metrics\n"
	      "      metrics_file: metrics.prom\n");
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_EXECUTE), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_ROLLBACK), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_ON_ERROR), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_COMPLETE), 1);

	fire_mig(CAIRN_EVENT_POST_EXECUTE, &m1, "applied", 10);
	fire_mig(CAIRN_EVENT_POST_EXECUTE, &m2, "applied", 20);
	fire_mig(CAIRN_EVENT_POST_EXECUTE, &m3, "applied", 11);
	/* a hook failing after COMMIT: the migration stays applied */
	fire_mig(CAIRN_EVENT_ON_ERROR, &m3, "applied", 11);
	fire_mig(CAIRN_EVENT_POST_ROLLBACK, &m4, "rolled_back", 5);
	fire_mig(CAIRN_EVENT_ON_ERROR, &m5, "failed", 3);
	/* run-level on_error: not a migration */
	fire_mig(CAIRN_EVENT_ON_ERROR, NULL, "failed", 0);
	ck_assert(!exists("metrics.prom"));

	c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	ck_assert_msg(tu_contains(logbuf, "[builtin:metrics] metrics: 3 applied, "
				  "1 failed, 1 rolled back, success 80.0%, "
				  "49 ms total, slowest 0002_b 20 ms\n"),
		      "%s", logbuf);

	prom = tu_read(dir, "metrics.prom");
	ck_assert_ptr_nonnull(prom);
	ck_assert(tu_contains(prom, "# TYPE cairn_migrations_total counter\n"));
	ck_assert(tu_contains(prom, "# HELP cairn_migrations_total "));
	ck_assert(tu_contains(prom, "cairn_migrations_total{environment="
			      "\"production\",outcome=\"applied\"} 3\n"));
	ck_assert(tu_contains(prom, "cairn_migrations_total{environment="
			      "\"production\",outcome=\"failed\"} 1\n"));
	ck_assert(tu_contains(prom, "cairn_migrations_total{environment="
			      "\"production\",outcome=\"rolled_back\"} 1\n"));
	ck_assert(tu_contains(prom, "# TYPE cairn_migration_duration_seconds "
			      "summary\n"));
	ck_assert(tu_contains(prom, "cairn_migration_duration_seconds_sum{"
			      "environment=\"production\"} 0.049\n"));
	ck_assert(tu_contains(prom, "cairn_migration_duration_seconds_count{"
			      "environment=\"production\"} 5\n"));
	ck_assert(tu_contains(prom, "cairn_migrations_by_directory{environment="
			      "\"production\",directory=\".\"} 3\n"));
	ck_assert(tu_contains(prom, "cairn_migrations_by_directory{environment="
			      "\"production\",directory=\"billing\"} 1\n"));
	ck_assert(tu_contains(prom, "cairn_migrations_by_directory{environment="
			      "\"production\",directory=\"ops \\\"x\\\"\"} 1\n"));
	ck_assert(tu_contains(prom, "# TYPE cairn_run_success_ratio gauge\n"));
	ck_assert(tu_contains(prom, "cairn_run_success_ratio{environment="
			      "\"production\"} 0.8000\n"));
	ck_assert(tu_contains(prom, "# TYPE cairn_last_run_timestamp_seconds "
			      "gauge\n"));
	ck_assert(tu_contains(prom, "cairn_last_run_timestamp_seconds{"
			      "environment=\"production\"} 1"));
	free(prom);
	ck_assert(!exists("metrics.prom.tmp"));

	/* counters start over for the next run */
	logbuf[0] = '\0';
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	ck_assert_msg(tu_contains(logbuf, "metrics: 0 applied, 0 failed, "
				  "0 rolled back, success 100.0%, 0 ms total\n"),
		      "%s", logbuf);
	prom = tu_read(dir, "metrics.prom");
	ck_assert(tu_contains(prom, "cairn_run_success_ratio{environment="
			      "\"production\"} 1.0000\n"));
	free(prom);
}
END_TEST

START_TEST(test_metrics_unwritable_file)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	size_t warnings = 0;

	build("hooks:\n"
	      "  post_complete:\n"
	      "    - builtin: metrics\n"
	      "      metrics_file: no/such/dir/m.prom\n");
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL,
					     &warnings), 0);
	ck_assert_uint_eq(warnings, 1);
}
END_TEST

START_TEST(test_metrics_never_replaces_a_special_file)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	size_t warnings = 0;
	struct stat st;
	char path[600];

	/* a FIFO stands in for /dev/null: it must survive */
	snprintf(path, sizeof(path), "%s/special", dir);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	build("hooks:\n"
	      "  post_complete:\n"
	      "    - builtin: metrics\n"
	      "      metrics_file: special\n");
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL,
					     &warnings), 0);
	ck_assert_uint_eq(warnings, 1);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
}
END_TEST

START_TEST(test_metrics_remove_in_any_order)
{
	/* six registrations share one payload; any removal order is safe */
	build("hooks:\n"
	      "  on_error:\n"
	      "    - builtin: metrics\n");
	for (int id = 6; id >= 1; id--)
		ck_assert_int_eq(cairn_pipeline_remove(pl, id), 0);
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++)
		ck_assert_uint_eq(cairn_pipeline_count(pl, (cairn_event)ev), 0);
}
END_TEST

static void assert_json_line(const char *line, const char *event,
			     const char *level)
{
	json_error_t jerr;
	json_t *o = json_loads(line, 0, &jerr);

	ck_assert_msg(o != NULL, "not JSON (%s): %s", jerr.text, line);
	ck_assert_str_eq(json_string_value(json_object_get(o, "event")), event);
	ck_assert_str_eq(json_string_value(json_object_get(o, "level")), level);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(o, "ts"))),
			  24);
	ck_assert(json_is_object(json_object_get(o, "metadata")));
	json_decref(o);
}

START_TEST(test_log_file)
{
	cairn_migration m = make_mig("0001", "1", "caf\xe9\n\"x\"", "");
	cairn_hook_context c;
	char *text, *nl, *line2;

	build("hooks:\n"
	      "  post_execute:\n"
	      "    - builtin: log\n"
	      "      path: events.jsonl\n"
	      "  on_error:\n"
	      "    - builtin: log\n"
	      "      path: events.jsonl\n");
	cairn_error boom = { CAIRN_ERRCLASS_SQL, "boom", NULL, NULL, "42P01" };

	fire_mig(CAIRN_EVENT_POST_EXECUTE, &m, "applied", 3);
	/* (the pipeline clears the thread's error before each hook, so a
	 * context carries its own copy, as the engine's does) */
	c = make_ctx(CAIRN_EVENT_ON_ERROR, &m);
	c.error = &boom;
	c.status = "failed";
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);

	text = tu_read(dir, "events.jsonl");
	ck_assert_ptr_nonnull(text);
	nl = strchr(text, '\n');
	ck_assert_ptr_nonnull(nl);
	*nl = '\0';
	line2 = nl + 1;
	nl = strchr(line2, '\n');
	ck_assert_ptr_nonnull(nl);
	*nl = '\0';
	ck_assert_str_eq(nl + 1, "");
	ck_assert(!strncmp(text, "{\"ts\":\"", 7));
	assert_json_line(text, "post_execute", "info");
	assert_json_line(line2, "on_error", "error");
	ck_assert(tu_contains(line2, "\"message\":\"boom\""));
	ck_assert(tu_contains(line2, "\"sqlstate\":\"42P01\""));
	ck_assert(tu_contains(text, "caf\\\\xE9\\n\\\"x\\\""));
	free(text);
	ck_assert_str_eq(logbuf, "");
}
END_TEST

START_TEST(test_log_to_run_log)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	char *nl;

	build("hooks:\n"
	      "  post_complete:\n"
	      "    - builtin: log\n");
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	ck_assert(!strncmp(logbuf, "[builtin:log] {", 15));
	nl = strchr(logbuf, '\n');
	ck_assert_ptr_nonnull(nl);
	*nl = '\0';
	assert_json_line(logbuf + 14, "post_complete", "info");
}
END_TEST

START_TEST(test_log_unwritable)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	size_t warnings = 0;
	const cairn_error *e = NULL;

	build("hooks:\n"
	      "  pre_validate:\n"
	      "    - builtin: log\n"
	      "      path: missing-dir/x.jsonl\n");
	c.event = CAIRN_EVENT_PRE_VALIDATE;
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL,
					     &warnings), CAIRN_EVETO);
	e = cairn_error_last();
	ck_assert(tu_contains(e->message, "cannot open log file"));
}
END_TEST

static Suite *hooks_suite(void)
{
	Suite *s = suite_create("hooks");
	TCase *te = tcase_create("exec");
	TCase *ts = tcase_create("sql");
	TCase *tb = tcase_create("builtins");

	tcase_add_checked_fixture(te, setup, teardown);
	tcase_set_timeout(te, 60);
	tcase_add_test(te, test_exec_argv);
	tcase_add_test(te, test_exec_shell);
	tcase_add_test(te, test_exec_env);
	tcase_add_test(te, test_exec_nonzero_exit);
	tcase_add_test(te, test_exec_warn_goes_on);
	tcase_add_test(te, test_exec_timeout);
	tcase_add_test(te, test_exec_cancel);
	tcase_add_test(te, test_exec_missing_program);
	tcase_add_test(te, test_exec_pg_env);
	suite_add_tcase(s, te);

	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_set_timeout(ts, 60);
	tcase_add_test(ts, test_sql_expect);
	tcase_add_test(ts, test_sql_error);
	tcase_add_test(ts, test_sql_multi_statement_and_transaction);
	tcase_add_test(ts, test_sql_warn_keeps_transaction);
	tcase_add_test(ts, test_sql_file);
	tcase_add_test(ts, test_sql_timeout);
	tcase_add_test(ts, test_hook_sql_api);
	suite_add_tcase(s, ts);

	tcase_add_checked_fixture(tb, setup, teardown);
	tcase_add_test(tb, test_metrics);
	tcase_add_test(tb, test_metrics_unwritable_file);
	tcase_add_test(tb, test_metrics_never_replaces_a_special_file);
	tcase_add_test(tb, test_metrics_remove_in_any_order);
	tcase_add_test(tb, test_log_file);
	tcase_add_test(tb, test_log_to_run_log);
	tcase_add_test(tb, test_log_unwritable);
	suite_add_tcase(s, tb);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hooks_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
