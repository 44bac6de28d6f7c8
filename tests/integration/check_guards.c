/*
 * check_guards.c - the guard built-ins and the audit-file mirror on real
 * git repositories and a real PostgreSQL (hooks/lint.c,
 * hooks/require_clean_tree.c, hooks/allowed_refs.c, hooks/db_reachable.c,
 * hooks/audit_file.c).
 *
 * Each test registers the built-ins the way the program does: cairn.yaml
 * text parsed by the library and cairn_hooks_build() with a table of the
 * built-ins under test, so the entry's event, on_failure and options
 * reach them through the plugin API.  It then fires events with a
 * hand-made context and checks the outcome: vetoes and their messages
 * (require-clean-tree on a repository made dirty by modifying, staging
 * and deleting files; allowed-refs with real branches and tags;
 * db-reachable through a session (cairn_session_new) on
 * $CAIRN_TEST_DB_URL, and on a connection the server has closed; lint on
 * migrations with errors and warnings), and the JSON lines audit-file
 * writes.  Each test makes its
 * own repository and files and removes them.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../hooks/guards.h"
#include "cairn/config.h"
#include "cairn/db.h"
#include "cairn/error.h"
#include "cairn/hook.h"
#include "cairn/hooks_config.h"
#include "testutil.h"

static const cairn_builtin guards[] = {
	{ "lint", "lint errors veto", cairn_builtin_lint_init },
	{ "require-clean-tree", "clean tree",
	  cairn_builtin_require_clean_tree_init },
	{ "allowed-refs", "allowed refs", cairn_builtin_allowed_refs_init },
	{ "db-reachable", "SELECT 1", cairn_builtin_db_reachable_init },
	{ "audit-file", "JSONL mirror", cairn_builtin_audit_file_init },
};

static cairn_pipeline *pl;
static char *dir;
static char logged[4096];

static void setup(void)
{
	cairn_error_clear();
	ck_assert_int_eq(cairn_pipeline_new(&pl), 0);
	dir = NULL;
	logged[0] = '\0';
}

static void teardown(void)
{
	cairn_pipeline_free(pl);
	pl = NULL;
	if (dir) {
		tu_rmrf(dir);
		free(dir);
		dir = NULL;
	}
	cairn_error_clear();
}

static const char *errmsg(void)
{
	const cairn_error *e = cairn_error_last();

	return e && e->message ? e->message : "(no error)";
}

/* Registers the hooks of a cairn.yaml text; returns cairn_hooks_build's rc. */
static int build(const char *yaml, const char *workdir)
{
	cairn_hooks_build_options o = CAIRN_HOOKS_BUILD_OPTIONS_INIT;
	cairn_config *cfg = NULL;
	int rc;

	ck_assert_msg(cairn_config_parse(&cfg, "cairn.yaml", yaml, strlen(yaml),
					 NULL) == 0, "config: %s", errmsg());
	o.builtins = guards;
	o.builtins_count = sizeof(guards) / sizeof(guards[0]);
	o.workdir = workdir;
	rc = cairn_hooks_build(pl, cfg, &o);
	cairn_config_free(cfg);
	return rc;
}

static void log_to_buffer(const char *source, const char *text, void *payload)
{
	size_t n = strlen(logged);

	(void)payload;
	snprintf(logged + n, sizeof(logged) - n, "%s: %s\n", source, text);
}

static cairn_hook_context make_ctx(cairn_event ev, const cairn_migration *m)
{
	cairn_hook_context c;

	memset(&c, 0, sizeof(c));
	c.version = 1;
	c.event = ev;
	c.environment = "production";
	c.run_id = "run-1";
	c.direction = "up";
	c.migration = m;
	c.status = "pending";
	c.deploy_rev = "worktree";
	c.deploy_ref = "";
	c.actor = "Dev <dev@example.com>";
	c.database = "app@localhost:5432/app";
	c.log_fn = log_to_buffer;
	return c;
}

static int fire(const cairn_hook_context *c, size_t *warnings)
{
	if (warnings)
		*warnings = 0;
	return cairn_pipeline_fire(pl, c, CAIRN_FIRE_ALL, warnings);
}

static char *commit(const char *msg)
{
	return tu_git_commit(dir, "Ada Lovelace", "ada@example.com",
			     1700000000, msg);
}

/* --- require-clean-tree -------------------------------------------------- */

static const char clean_yaml[] =
	"hooks:\n"
	"  pre_validate:\n"
	"    - builtin: require-clean-tree\n";

START_TEST(test_clean_tree_passes)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);

	dir = tu_git_repo();
	tu_write(dir, "db/migrations/0001_a.up.sql", "SELECT 1;\n");
	free(commit("first"));
	ck_assert_int_eq(build(clean_yaml, dir), 0);
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_PRE_VALIDATE),
			  1);
	ck_assert_msg(fire(&c, NULL) == 0, "%s", errmsg());
	/* untracked files do not make a tree dirty */
	tu_write(dir, "notes.txt", "scratch\n");
	ck_assert_msg(fire(&c, NULL) == 0, "%s", errmsg());
}
END_TEST

START_TEST(test_dirty_tree_vetoes)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);
	const cairn_error *e;
	size_t warnings;
	char path[4096];

	dir = tu_git_repo();
	tu_write(dir, "db/migrations/0001_a.up.sql", "SELECT 1;\n");
	tu_write(dir, "README", "hello\n");
	free(commit("first"));
	ck_assert_int_eq(build(clean_yaml, dir), 0);
	ck_assert_int_eq(fire(&c, NULL), 0);

	/* a modified tracked file: refused, and named */
	tu_write(dir, "db/migrations/0001_a.up.sql", "SELECT 2;\n");
	ck_assert_int_eq(fire(&c, &warnings), CAIRN_EVETO);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_HOOK);
	ck_assert_msg(tu_contains(e->message, "uncommitted changes") &&
		      tu_contains(e->message, "db/migrations/0001_a.up.sql"),
		      "%s", e->message);
	ck_assert(tu_contains(e->hint, "commit or stash"));

	/* staged: still dirty */
	ck_assert_int_eq(tu_sh(dir, "git add -A"), 0);
	ck_assert_int_eq(fire(&c, NULL), CAIRN_EVETO);
	free(commit("second"));
	ck_assert_msg(fire(&c, NULL) == 0, "%s", errmsg());

	/* a deleted tracked file, and a new file added to the index */
	snprintf(path, sizeof(path), "%s/README", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(fire(&c, NULL), CAIRN_EVETO);
	ck_assert(tu_contains(errmsg(), "README"));
	ck_assert_int_eq(tu_sh(dir, "git checkout -q README && "
				    "echo x > new.sql && git add new.sql"), 0);
	ck_assert_int_eq(fire(&c, NULL), CAIRN_EVETO);
	ck_assert(tu_contains(errmsg(), "new.sql"));
}
END_TEST

START_TEST(test_dirty_tree_warn_only)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);
	size_t warnings;

	dir = tu_git_repo();
	tu_write(dir, "a.sql", "SELECT 1;\n");
	free(commit("first"));
	tu_write(dir, "a.sql", "SELECT 2;\n");
	ck_assert_int_eq(build("hooks:\n"
			       "  pre_validate:\n"
			       "    - builtin: require-clean-tree\n"
			       "      on_failure: warn\n", dir), 0);
	ck_assert_int_eq(fire(&c, &warnings), 0);
	ck_assert_uint_eq(warnings, 1);
}
END_TEST

START_TEST(test_clean_tree_not_a_repository)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);

	dir = tu_mkdtemp();
	/* registering works anywhere; the first event needs a repository */
	ck_assert_int_eq(build(clean_yaml, dir), 0);
	ck_assert_int_eq(fire(&c, NULL), CAIRN_EVETO);
	ck_assert_msg(tu_contains(errmsg(), "require-clean-tree"), "%s",
		      errmsg());
}
END_TEST

/* --- allowed-refs -------------------------------------------------------- */

static char *on_main, *on_feature, *dangling;

/* main: A (tag v1.0) - B; feature: B - C; D only on refs/tags/x-1. */
static void refs_repo(void)
{
	dir = tu_git_repo();
	tu_write(dir, "a", "1\n");
	free(commit("A"));
	ck_assert_int_eq(tu_sh(dir, "git tag v1.0"), 0);
	tu_write(dir, "a", "2\n");
	on_main = commit("B");
	ck_assert_int_eq(tu_sh(dir, "git checkout -q -b feature"), 0);
	tu_write(dir, "a", "3\n");
	on_feature = commit("C");
	ck_assert_int_eq(tu_sh(dir, "git checkout -q --detach main"), 0);
	tu_write(dir, "a", "4\n");
	dangling = commit("D");
	ck_assert_int_eq(tu_sh(dir, "git tag x-1 && git checkout -q main"), 0);
}

static void refs_free(void)
{
	free(on_main);
	free(on_feature);
	free(dangling);
}

static int deploy(const char *rev)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);

	c.deploy_rev = rev;
	return fire(&c, NULL);
}

START_TEST(test_allowed_refs_branches_and_tags)
{
	refs_repo();
	ck_assert_int_eq(build("hooks:\n"
			       "  pre_validate:\n"
			       "    - builtin: allowed-refs\n"
			       "      refs: [main, \"v*\"]\n", dir), 0);
	ck_assert_msg(deploy(on_main) == 0, "%s", errmsg());
	ck_assert_msg(deploy("v1.0") == 0, "%s", errmsg());
	ck_assert_msg(deploy("HEAD~1") == 0, "%s", errmsg());
	ck_assert_int_eq(deploy(on_feature), CAIRN_EVETO);
	ck_assert_msg(tu_contains(errmsg(), "is not on an allowed ref "
					    "(main, v*)"), "%s", errmsg());
	{
		char abbrev[16];

		snprintf(abbrev, sizeof(abbrev), "commit %.7s", on_feature);
		ck_assert_msg(tu_contains(errmsg(), abbrev), "%s", errmsg());
	}
	ck_assert_int_eq(deploy(dangling), CAIRN_EVETO);
	/* an unknown revision is a git error, not a silent pass */
	ck_assert_int_eq(deploy("no-such-branch"), CAIRN_EVETO);
	/* the working tree has no commit to check */
	ck_assert_int_eq(deploy("worktree"), CAIRN_EVETO);
	ck_assert(tu_contains(errmsg(), "working tree"));
	ck_assert_int_eq(deploy(""), CAIRN_EVETO);
	refs_free();
}
END_TEST

START_TEST(test_allowed_refs_full_names)
{
	refs_repo();
	ck_assert_int_eq(build("hooks:\n"
			       "  pre_validate:\n"
			       "    - builtin: allowed-refs\n"
			       "      refs: [refs/heads/feature, "
			       "\"refs/tags/x-*\"]\n", dir), 0);
	ck_assert_msg(deploy(on_feature) == 0, "%s", errmsg());
	ck_assert_msg(deploy(on_main) == 0, "%s", errmsg()); /* ancestor */
	ck_assert_msg(deploy(dangling) == 0, "%s", errmsg());
	refs_free();
}
END_TEST

START_TEST(test_allowed_refs_option_and_missing_list)
{
	cairn_hook_spec spec;
	cairn_plugin_api api;
	cairn_kv opts[2];

	refs_repo();
	/* a host may pass the list as a comma-separated option */
	memset(&spec, 0, sizeof(spec));
	spec.event = CAIRN_EVENT_PRE_VALIDATE;
	spec.kind = CAIRN_HOOK_BUILTIN;
	spec.name = "refs-by-option";
	spec.timeout_ms = 30000;
	opts[0] = (cairn_kv){ "refs", " feature , main" };
	opts[1] = (cairn_kv){ "workdir", dir };
	cairn_plugin_api_init(&api, pl, &spec, opts, 2);
	ck_assert_int_eq(cairn_builtin_allowed_refs_init(&api), 0);
	ck_assert_msg(deploy(on_feature) == 0, "%s", errmsg());
	ck_assert_int_eq(deploy(dangling), CAIRN_EVETO);
	ck_assert(tu_contains(errmsg(), "(feature, main)"));

	/* no list at all: a configuration error when building */
	cairn_pipeline_clear(pl);
	ck_assert_int_eq(build("hooks:\n"
			       "  pre_validate:\n"
			       "    - builtin: allowed-refs\n", dir),
			 CAIRN_ERROR);
	ck_assert_msg(tu_contains(errmsg(), "refs:"), "%s", errmsg());
	refs_free();
}
END_TEST

/* --- db-reachable -------------------------------------------------------- */

static const char reach_yaml[] =
	"hooks:\n"
	"  pre_validate:\n"
	"    - builtin: db-reachable\n";

START_TEST(test_db_reachable_real_database)
{
	cairn_db_options o = CAIRN_DB_OPTIONS_INIT;
	cairn_session *session = NULL;
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);
	cairn_db *db = NULL;
	char *pid;

	if (!tu_db_url()) {
		fprintf(stderr, "check_guards: no CAIRN_TEST_DB_URL, skipped\n");
		return;
	}
	o.conninfo = tu_db_url();
	ck_assert_msg(cairn_db_connect(&db, &o) == 0, "%s", errmsg());
	ck_assert_int_eq(cairn_session_new(&session, db, NULL), 0);
	c.session = session;
	c.database = cairn_db_description(db);
	ck_assert_int_eq(build(reach_yaml, NULL), 0);
	ck_assert_msg(fire(&c, NULL) == 0, "%s", errmsg());

	/* the server closes the connection: not reachable, and no password */
	pid = NULL;
	ck_assert_int_eq(cairn_hook_sql(&c, "SELECT pg_backend_pid()", &pid,
					NULL), 0);
	ck_assert_ptr_nonnull(pid);
	{
		char sql[128];
		char *v;

		snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%s)",
			 pid);
		v = tu_db_value(tu_db_url(), sql);
		ck_assert_str_eq(v, "t");
		free(v);
		/* the backend has exited: its connection is closed */
		ck_assert_msg(tu_db_wait_backend(tu_db_url(),
						 (int)strtol(pid, NULL, 10),
						 NULL, true, TU_WAIT_MS),
			      "backend %s never went away", pid);
	}
	free(pid);
	ck_assert_int_eq(fire(&c, NULL), CAIRN_EVETO);
	ck_assert_msg(tu_contains(errmsg(), "is not reachable"), "%s",
		      errmsg());
	ck_assert(tu_contains(errmsg(), cairn_db_description(db)));
	ck_assert(!tu_contains(errmsg(), "password"));
	cairn_session_free(session);
	cairn_db_free(db);
}
END_TEST

START_TEST(test_db_reachable_no_connection)
{
	cairn_session *session = NULL;
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);

	ck_assert_int_eq(build(reach_yaml, NULL), 0);
	ck_assert_int_eq(fire(&c, NULL), CAIRN_EVETO);
	ck_assert_msg(tu_contains(errmsg(), "no database connection"), "%s",
		      errmsg());
	/* a session without a connection (a dry run) */
	ck_assert_int_eq(cairn_session_new(&session, NULL, NULL), 0);
	c.session = session;
	c.dry_run = true;
	ck_assert_int_eq(fire(&c, NULL), CAIRN_EVETO);
	ck_assert(tu_contains(errmsg(), "no database connection"));
	cairn_session_free(session);
}
END_TEST

/* --- lint ---------------------------------------------------------------- */

static cairn_migration lint_mig(const char *sql)
{
	cairn_migration m;

	memset(&m, 0, sizeof(m));
	m.version = "3";
	m.version_text = "0003";
	m.name = "change";
	m.subdir = "";
	m.up_path = "db/migrations/0003_change.up.sql";
	m.content_loaded = true;
	m.content_ok = true;
	m.up_sql = (char *)sql;
	m.up_len = strlen(sql);
	return m;
}

START_TEST(test_lint_builtin)
{
	cairn_migration bad = lint_mig("DROP TABLE users;\n"
				       "CREATE INDEX i ON orders (x);\n"
				       "COMMIT;\n");
	cairn_migration good = lint_mig("CREATE TABLE t (id int);\n"
					"CREATE INDEX ON t (id);\n");
	cairn_migration warn = lint_mig("CREATE INDEX i ON orders (x);\n");
	cairn_migration unloaded = lint_mig("DROP TABLE users;");
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_EXECUTE, &bad);
	const cairn_error *e;

	unloaded.content_loaded = false;
	ck_assert_int_eq(build("hooks:\n"
			       "  pre_execute:\n"
			       "    - builtin: lint\n"
			       "  pre_rollback:\n"
			       "    - builtin: lint\n", NULL), 0);
	ck_assert_int_eq(fire(&c, NULL), CAIRN_EVETO);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_HOOK);
	ck_assert_msg(tu_contains(e->message, "'db/migrations/0003_change.up."
					      "sql' has 2 lint errors"),
		      "%s", e->message);
	ck_assert(tu_contains(e->detail, "db/migrations/0003_change.up.sql:1: "
					 "DROP TABLE users"));
	ck_assert(tu_contains(e->detail, "[lint/transaction-control]"));
	ck_assert(!tu_contains(e->detail, "index-not-concurrent"));
	ck_assert(tu_contains(e->hint, "allow destructive"));
	/* the warning went to the run's log */
	ck_assert_msg(tu_contains(logged, "warning: CREATE INDEX on orders"),
		      "%s", logged);

	logged[0] = '\0';
	c.migration = &good;
	ck_assert_msg(fire(&c, NULL) == 0, "%s", errmsg());
	ck_assert_str_eq(logged, "");
	c.migration = &warn;
	ck_assert_msg(fire(&c, NULL) == 0, "%s", errmsg());
	ck_assert(tu_contains(logged, "[lint/index-not-concurrent]"));
	/* nothing to lint: not loaded, run-level, a rollback */
	c.migration = &unloaded;
	ck_assert_int_eq(fire(&c, NULL), 0);
	c = make_ctx(CAIRN_EVENT_PRE_ROLLBACK, &bad);
	c.direction = "down";
	ck_assert_int_eq(fire(&c, NULL), 0);
}
END_TEST

START_TEST(test_lint_builtin_run_level)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_VALIDATE, NULL);

	ck_assert_int_eq(build("hooks:\n"
			       "  post_validate:\n"
			       "    - builtin: lint\n", NULL), 0);
	ck_assert_int_eq(fire(&c, NULL), 0);
}
END_TEST

/* --- audit-file ---------------------------------------------------------- */

START_TEST(test_audit_file_lines)
{
	cairn_migration m = lint_mig("CREATE TABLE t (id int);");
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_EXECUTE, &m);
	char *text, *line, *nl;
	struct stat sb;
	size_t n = 0;
	char path[4096];

	dir = tu_mkdtemp();
	ck_assert_int_eq(build("hooks:\n"
			       "  post_execute:\n"
			       "    - builtin: audit-file\n"
			       "      path: audit.jsonl\n"
			       "  on_error:\n"
			       "    - builtin: audit-file\n"
			       "      path: audit.jsonl\n"
			       "  post_complete:\n"
			       "    - builtin: audit-file\n"
			       "      path: audit.jsonl\n", dir), 0);
	c.status = "applied";
	c.duration_ms = 12;
	ck_assert_msg(fire(&c, NULL) == 0, "%s", errmsg());
	c = make_ctx(CAIRN_EVENT_ON_ERROR, &m);
	c.status = "failed";
	ck_assert_int_eq(fire(&c, NULL), 0);
	c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	ck_assert_int_eq(fire(&c, NULL), 0);

	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	text = tu_read(dir, "audit.jsonl");
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	for (line = text; *line; line = nl + 1, n++) {
		static const char *const events[] = {
			"post_execute", "on_error", "post_complete",
		};
		json_error_t err;
		json_t *j;
		const char *first_key;

		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		*nl = '\0';
		j = json_loads(line, 0, &err);

		ck_assert_msg(j != NULL, "line %zu is not JSON: %s (%s)", n,
			      line, err.text);
		ck_assert(json_is_object(j));
		ck_assert_uint_lt(n, 3);
		/* "ts" comes first, then the context document */
		first_key = json_object_iter_key(json_object_iter(j));
		ck_assert_str_eq(first_key, "ts");
		ck_assert(!strncmp(line, "{\"ts\":\"", 7));
		ck_assert_uint_eq(strlen(json_string_value(
					  json_object_get(j, "ts"))), 24);
		ck_assert_str_eq(json_string_value(json_object_get(j, "event")),
				 events[n]);
		ck_assert(!tu_contains(line, "password"));
		json_decref(j);
	}
	ck_assert_uint_eq(n, 3);
	free(text);
}
END_TEST

START_TEST(test_audit_file_appends_and_needs_path)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	char *text;
	char path[4096];
	struct stat sb;

	dir = tu_mkdtemp();
	tu_write(dir, "old.jsonl", "{\"kept\":true}\n");
	snprintf(path, sizeof(path), "%s/old.jsonl", dir);
	ck_assert_int_eq(chmod(path, 0640), 0);
	snprintf(path, sizeof(path),
		 "hooks:\n  post_complete:\n    - builtin: audit-file\n"
		 "      path: %s/old.jsonl\n", dir);
	ck_assert_int_eq(build(path, "/nonexistent"), 0); /* absolute path */
	ck_assert_int_eq(fire(&c, NULL), 0);
	ck_assert_int_eq(fire(&c, NULL), 0);
	text = tu_read(dir, "old.jsonl");
	ck_assert(!strncmp(text, "{\"kept\":true}\n{\"ts\":", 20));
	{
		size_t lines = 0;

		for (const char *p = text; *p; p++)
			lines += *p == '\n';
		ck_assert_uint_eq(lines, 3);
	}
	free(text);
	/* an existing file keeps its mode */
	snprintf(path, sizeof(path), "%s/old.jsonl", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0640);

	/* a directory that does not exist: the event fails, clearly */
	cairn_pipeline_clear(pl);
	ck_assert_int_eq(build("hooks:\n  post_execute:\n"
			       "    - builtin: audit-file\n"
			       "      path: no/such/dir/a.jsonl\n", dir), 0);
	c = make_ctx(CAIRN_EVENT_POST_EXECUTE, NULL);
	ck_assert_int_eq(fire(&c, NULL), CAIRN_EVETO);
	ck_assert(tu_contains(errmsg(), "cannot open audit file"));

	cairn_pipeline_clear(pl);
	ck_assert_int_eq(build("hooks:\n  post_complete:\n"
			       "    - builtin: audit-file\n", dir),
			 CAIRN_ERROR);
	ck_assert_msg(tu_contains(errmsg(), "path:"), "%s", errmsg());
}
END_TEST

static Suite *guards_suite(void)
{
	Suite *s = suite_create("guards");
	TCase *tc = tcase_create("guards");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_clean_tree_passes);
	tcase_add_test(tc, test_dirty_tree_vetoes);
	tcase_add_test(tc, test_dirty_tree_warn_only);
	tcase_add_test(tc, test_clean_tree_not_a_repository);
	tcase_add_test(tc, test_allowed_refs_branches_and_tags);
	tcase_add_test(tc, test_allowed_refs_full_names);
	tcase_add_test(tc, test_allowed_refs_option_and_missing_list);
	tcase_add_test(tc, test_db_reachable_real_database);
	tcase_add_test(tc, test_db_reachable_no_connection);
	tcase_add_test(tc, test_lint_builtin);
	tcase_add_test(tc, test_lint_builtin_run_level);
	tcase_add_test(tc, test_audit_file_lines);
	tcase_add_test(tc, test_audit_file_appends_and_needs_path);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guards_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
