/*
 * check_config.c - unit tests for cairn.yaml loading (include/cairn/config.h).
 *
 * Each test parses a small document written inline (or a file written to a
 * fresh temporary directory) and checks either the structures that come
 * out or the error: class CAIRN_ERRCLASS_CONFIG, a message that starts
 * with "cairn.yaml:LINE:COL: " and the hint.  Variables come from a fake
 * getenv so the tests never depend on the caller's environment.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/config.h"
#include "cairn/error.h"
#include "testutil.h"

/* --- helpers ------------------------------------------------------------ */

static const char *const fake_env[] = {
	"PROD_DATABASE_URL", "postgres://prod.example.com/app",
	"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/SECRET",
	"EMPTY", "",
	"USER_NAME", "ada",
	"CHANNEL", "#deploys",
	NULL,
};

static const char *fake_getenv(const char *name, void *payload)
{
	const char *const *env = payload;
	size_t i;

	for (i = 0; env[i]; i += 2)
		if (!strcmp(env[i], name))
			return env[i + 1];
	return NULL;
}

static int parse(cairn_config **out, const char *text)
{
	cairn_config_options opts = CAIRN_CONFIG_OPTIONS_INIT;

	opts.getenv_fn = fake_getenv;
	opts.payload = (void *)fake_env;
	return cairn_config_parse(out, "cairn.yaml", text, strlen(text),
				  &opts);
}

static cairn_config *parse_ok(const char *text)
{
	cairn_config *cfg = NULL;

	if (parse(&cfg, text) != 0)
		ck_abort_msg("parse failed: %s (hint: %s)",
			     cairn_error_last()->message,
			     cairn_error_last()->hint ? cairn_error_last()->hint
						      : "-");
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

/* Parses text, expects a config error whose message is `message`. */
static const cairn_error *parse_err(const char *text, const char *message)
{
	cairn_config *cfg = (cairn_config *)1;
	const cairn_error *e;

	ck_assert_int_eq(parse(&cfg, text), CAIRN_ERROR);
	ck_assert_ptr_null(cfg);
	e = cairn_error_last();
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert_str_eq(e->message, message);
	return e;
}

static void assert_hint(const cairn_error *e, const char *hint)
{
	ck_assert_ptr_nonnull(e->hint);
	ck_assert_str_eq(e->hint, hint);
}

/* --- the DESIGN.md section 4 example ---------------------------------- */

static const char design_example[] =
	"migrations_dir: db/migrations\n"
	"schema: cairn                    # where cairn keeps its tables\n"
	"environments:\n"
	"  development: {}                # no database_url: the built-in dev database\n"
	"  production:\n"
	"    database_url: ${PROD_DATABASE_URL}\n"
	"    allowed_refs: [refs/heads/main, refs/tags/v*]\n"
	"    require_clean_tree: true\n"
	"    confirm: true                # migrate asks (or needs --yes)\n"
	"    allow_out_of_order: false\n"
	"hooks:\n"
	"  pre_validate:\n"
	"    - builtin: db-reachable\n"
	"  post_execute:\n"
	"    - sql: \"SELECT count(*) FROM users WHERE email IS NULL\"\n"
	"      expect: 0\n"
	"      only: { migrations: [\"*users*\"] }\n"
	"    - run: [examples/hooks/rebuild-cache, --fast]\n"
	"      on_failure: warn\n"
	"      timeout: 10s\n"
	"  post_complete:\n"
	"    - webhook: ${SLACK_WEBHOOK_URL}\n"
	"      format: slack\n"
	"      async: true\n"
	"      on_failure: warn\n"
	"  on_error:\n"
	"    - builtin: log\n"
	"githooks:\n"
	"  pre_push: { environment: production }     # which env's rules gate a push\n"
	"  post_merge: { apply: development }        # apply new migrations locally after a pull\n";

START_TEST(test_design_example)
{
	cairn_config *cfg = parse_ok(design_example);
	const cairn_environment *dev, *prod;
	const cairn_hook_spec *h;

	ck_assert_ptr_null(cfg->path);
	ck_assert_str_eq(cfg->migrations_dir, "db/migrations");
	ck_assert_str_eq(cfg->schema, "cairn");
	ck_assert_uint_eq(cfg->ignore_count, 0);
	ck_assert_ptr_null(cfg->shadow_database_url);

	ck_assert_uint_eq(cfg->environments_count, 2);
	dev = cairn_config_environment(cfg, "development");
	prod = cairn_config_environment(cfg, "production");
	ck_assert_ptr_eq(dev, &cfg->environments[0]);
	ck_assert_ptr_eq(prod, &cfg->environments[1]);
	ck_assert_ptr_null(cairn_config_environment(cfg, "staging"));
	ck_assert_ptr_null(dev->database_url);
	ck_assert_uint_eq(dev->line, 4);
	ck_assert(!dev->confirm && !dev->require_clean_tree);
	ck_assert_str_eq(prod->database_url, "postgres://prod.example.com/app");
	ck_assert_uint_eq(prod->allowed_refs_count, 2);
	ck_assert_str_eq(prod->allowed_refs[0], "refs/heads/main");
	ck_assert_str_eq(prod->allowed_refs[1], "refs/tags/v*");
	ck_assert_ptr_null(prod->allowed_refs[2]);
	ck_assert(prod->require_clean_tree);
	ck_assert(prod->confirm);
	ck_assert(!prod->allow_out_of_order);
	ck_assert(!prod->require_down);
	ck_assert_uint_eq(prod->lock_timeout_ms, 0);
	ck_assert_uint_eq(prod->line, 5);

	ck_assert_uint_eq(cfg->hooks_count, 5);

	h = &cfg->hooks[0];
	ck_assert_int_eq(h->event, CAIRN_EVENT_PRE_VALIDATE);
	ck_assert_int_eq(h->kind, CAIRN_HOOK_BUILTIN);
	ck_assert_str_eq(h->builtin, "db-reachable");
	ck_assert_str_eq(h->name, "builtin:db-reachable");
	ck_assert_int_eq(h->on_failure, CAIRN_ON_FAILURE_ABORT);
	ck_assert_uint_eq(h->timeout_ms, 30000);
	ck_assert_uint_eq(h->line, 13);
	ck_assert_uint_eq(h->column, 7);

	h = &cfg->hooks[1];
	ck_assert_int_eq(h->event, CAIRN_EVENT_POST_EXECUTE);
	ck_assert_int_eq(h->kind, CAIRN_HOOK_SQL);
	ck_assert_str_eq(h->sql,
			 "SELECT count(*) FROM users WHERE email IS NULL");
	ck_assert_ptr_null(h->sql_file);
	ck_assert_int_eq(h->expect, CAIRN_EXPECT_ZERO);
	ck_assert_str_eq(h->name, "sql");
	ck_assert_uint_eq(h->only_migrations_count, 1);
	ck_assert_str_eq(h->only_migrations[0], "*users*");
	ck_assert_uint_eq(h->only_environments_count, 0);

	h = &cfg->hooks[2];
	ck_assert_int_eq(h->event, CAIRN_EVENT_POST_EXECUTE);
	ck_assert_int_eq(h->kind, CAIRN_HOOK_EXEC);
	ck_assert_uint_eq(h->argc, 2);
	ck_assert_str_eq(h->argv[0], "examples/hooks/rebuild-cache");
	ck_assert_str_eq(h->argv[1], "--fast");
	ck_assert_ptr_null(h->argv[2]);
	ck_assert_ptr_null(h->shell);
	ck_assert_str_eq(h->name, "exec:rebuild-cache");
	ck_assert_int_eq(h->on_failure, CAIRN_ON_FAILURE_WARN);
	ck_assert_uint_eq(h->timeout_ms, 10000);

	h = &cfg->hooks[3];
	ck_assert_int_eq(h->event, CAIRN_EVENT_POST_COMPLETE);
	ck_assert_int_eq(h->kind, CAIRN_HOOK_WEBHOOK);
	ck_assert_str_eq(h->url,
			 "https://hooks.slack.com/services/T0/B0/SECRET");
	ck_assert_str_eq(h->name, "webhook:hooks.slack.com");
	ck_assert_int_eq(h->format, CAIRN_WEBHOOK_SLACK);
	ck_assert(h->async);
	ck_assert_uint_eq(h->retries, 3);
	ck_assert_uint_eq(h->connect_timeout_ms, 5000);
	ck_assert_int_eq(h->on_failure, CAIRN_ON_FAILURE_WARN);

	h = &cfg->hooks[4];
	ck_assert_int_eq(h->event, CAIRN_EVENT_ON_ERROR);
	ck_assert_str_eq(h->builtin, "log");
	ck_assert_str_eq(h->name, "builtin:log");

	ck_assert_str_eq(cfg->pre_push_environment, "production");
	ck_assert_str_eq(cfg->post_merge_apply, "development");
	ck_assert_ptr_null(cfg->post_checkout_environment);
	cairn_config_free(cfg);
}
END_TEST

/* --- defaults ------------------------------------------------------ */

static void assert_defaults(const cairn_config *cfg)
{
	ck_assert_str_eq(cfg->migrations_dir, "db/migrations");
	ck_assert_str_eq(cfg->schema, "cairn");
	ck_assert_uint_eq(cfg->hooks_count, 0);
	ck_assert_uint_eq(cfg->environments_count, 1);
	ck_assert_str_eq(cfg->environments[0].name, "development");
	ck_assert_ptr_null(cfg->environments[0].database_url);
	ck_assert_ptr_null(cfg->pre_push_environment);
}

START_TEST(test_defaults)
{
	static const char *const empties[] = {
		"", "# only a comment\n", "---\n", "~\n", "hooks:\nignore:\n",
	};
	cairn_config *cfg;
	size_t i;

	ck_assert_int_eq(cairn_config_default(&cfg), 0);
	assert_defaults(cfg);
	ck_assert_ptr_null(cfg->path);
	cairn_config_free(cfg);
	cairn_config_free(NULL);

	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		cfg = parse_ok(empties[i]);
		assert_defaults(cfg);
		cairn_config_free(cfg);
	}
}
END_TEST

START_TEST(test_hook_defaults)
{
	cairn_config *cfg = parse_ok(
		"hooks:\n"
		"  pre_validate:\n"
		"    - webhook: https://user:pw@example.com:8443/x?token=abc\n"
		"    - plugin: build/plugins/example.so\n"
		"    - run: \"  ./scripts/notify.sh --all\"\n"
		"    - sql_file: db/checks/no_nulls.sql\n"
		"      expect: empty\n"
		"    - sql: SELECT true\n"
		"      expect: true\n"
		"      name: always\n"
		"    - webhook: http://[::1]:9000/hook\n"
		"      retries: 0\n"
		"      connect_timeout: 2s\n"
		"      format: json\n"
		"      secret_env: HOOK_SECRET\n"
		"      headers: { X-Team: db, X-User: \"${USER_NAME}\" }\n");
	const cairn_hook_spec *h = cfg->hooks;

	ck_assert_uint_eq(cfg->hooks_count, 6);
	ck_assert_str_eq(h[0].name, "webhook:example.com");
	ck_assert_uint_eq(h[0].retries, 3);
	ck_assert_int_eq(h[0].format, CAIRN_WEBHOOK_JSON);
	ck_assert(!h[0].async);
	ck_assert_ptr_null(h[0].secret_env);

	ck_assert_int_eq(h[1].kind, CAIRN_HOOK_PLUGIN);
	ck_assert_str_eq(h[1].name, "plugin:example.so");
	ck_assert_str_eq(h[1].symbol, "cairn_plugin_init");

	ck_assert_int_eq(h[2].kind, CAIRN_HOOK_EXEC);
	ck_assert_ptr_null(h[2].argv);
	ck_assert_str_eq(h[2].shell, "  ./scripts/notify.sh --all");
	ck_assert_str_eq(h[2].name, "exec:notify.sh");

	ck_assert_int_eq(h[3].kind, CAIRN_HOOK_SQL);
	ck_assert_str_eq(h[3].sql_file, "db/checks/no_nulls.sql");
	ck_assert_int_eq(h[3].expect, CAIRN_EXPECT_EMPTY);
	ck_assert_str_eq(h[3].name, "sql:no_nulls.sql");

	ck_assert_int_eq(h[4].expect, CAIRN_EXPECT_TRUE);
	ck_assert_str_eq(h[4].name, "always");

	ck_assert_str_eq(h[5].name, "webhook:[::1]");
	ck_assert_uint_eq(h[5].retries, 0);
	ck_assert_uint_eq(h[5].connect_timeout_ms, 2000);
	ck_assert_str_eq(h[5].secret_env, "HOOK_SECRET");
	ck_assert_uint_eq(h[5].headers_count, 2);
	ck_assert_str_eq(h[5].headers[0].key, "X-Team");
	ck_assert_str_eq(h[5].headers[0].value, "db");
	ck_assert_str_eq(h[5].headers[1].value, "ada");
	cairn_config_free(cfg);
}
END_TEST

START_TEST(test_implicit_development)
{
	cairn_config *cfg = parse_ok("environments:\n"
				     "  staging:\n"
				     "    database_url: postgres://s/app\n"
				     "    require_down: true\n"
				     "    lock_timeout: 2min\n"
				     "    metadata: { tier: 2 }\n");

	ck_assert_uint_eq(cfg->environments_count, 2);
	ck_assert_str_eq(cfg->environments[0].name, "staging");
	ck_assert(cfg->environments[0].require_down);
	ck_assert_uint_eq(cfg->environments[0].lock_timeout_ms, 120000);
	ck_assert_uint_eq(cfg->environments[0].metadata_count, 1);
	ck_assert_str_eq(cfg->environments[0].metadata[0].key, "tier");
	ck_assert_str_eq(cfg->environments[0].metadata[0].value, "2");
	ck_assert_str_eq(cfg->environments[1].name, "development");
	ck_assert_ptr_null(cfg->environments[1].database_url);
	cairn_config_free(cfg);

	/* defined explicitly (even empty): not added twice */
	cfg = parse_ok("environments:\n  development:\n  prod: {}\n");
	ck_assert_uint_eq(cfg->environments_count, 2);
	ck_assert_str_eq(cfg->environments[0].name, "development");
	ck_assert_str_eq(cfg->environments[1].name, "prod");
	cairn_config_free(cfg);
}
END_TEST

START_TEST(test_top_level_keys)
{
	cairn_config *cfg = parse_ok(
		"migrations_dir: sql/migrations/\n"
		"schema: _deploy_2\n"
		"ignore: [\"*.md\", drafts/*]\n"
		"shadow_database_url: postgres://localhost/shadow\n"
		"metadata:\n"
		"  team: platform\n"
		"  channel: ${CHANNEL}\n"
		"  empty:\n"
		"githooks:\n"
		"  post_checkout: { environment: development }\n");

	ck_assert_str_eq(cfg->migrations_dir, "sql/migrations");
	ck_assert_str_eq(cfg->schema, "_deploy_2");
	ck_assert_uint_eq(cfg->ignore_count, 2);
	ck_assert_str_eq(cfg->ignore[0], "*.md");
	ck_assert_str_eq(cfg->ignore[1], "drafts/*");
	ck_assert_str_eq(cfg->shadow_database_url,
			 "postgres://localhost/shadow");
	ck_assert_uint_eq(cfg->metadata_count, 3);
	ck_assert_str_eq(cfg->metadata[0].key, "team");
	ck_assert_str_eq(cfg->metadata[1].value, "#deploys");
	ck_assert_str_eq(cfg->metadata[2].value, "");
	ck_assert_str_eq(cfg->post_checkout_environment, "development");
	cairn_config_free(cfg);
}
END_TEST

/* --- hook order ----------------------------------------------------------- */

START_TEST(test_hooks_order)
{
	cairn_config *cfg = parse_ok(
		"hooks:\n"
		"  post_execute:\n"
		"    - builtin: log\n"
		"      name: a\n"
		"    - run: [b]\n"
		"  pre_validate:\n"
		"    - run: [c]\n"
		"  on_error:\n"
		"  post_complete: []\n"
		"  pre_execute:\n"
		"    - builtin: log\n"
		"      name: a\n"
		"    - sql: select 1\n"
		"      name: d\n");
	static const char *const names[] = { "a", "exec:b", "exec:c", "a",
					     "d" };
	static const cairn_event events[] = {
		CAIRN_EVENT_POST_EXECUTE, CAIRN_EVENT_POST_EXECUTE,
		CAIRN_EVENT_PRE_VALIDATE, CAIRN_EVENT_PRE_EXECUTE,
		CAIRN_EVENT_PRE_EXECUTE,
	};
	size_t i;

	ck_assert_uint_eq(cfg->hooks_count, 5);
	for (i = 0; i < 5; i++) {
		ck_assert_str_eq(cfg->hooks[i].name, names[i]);
		ck_assert_int_eq(cfg->hooks[i].event, events[i]);
	}
	ck_assert_uint_eq(cfg->hooks[0].line, 3);
	ck_assert_uint_eq(cfg->hooks[3].line, 11);
	cairn_config_free(cfg);
}
END_TEST

/* --- expansion ------------------------------------------------------------ */

START_TEST(test_expansion)
{
	cairn_config *cfg = parse_ok(
		"environments:\n"
		"  production:\n"
		"    database_url: ${PROD_DATABASE_URL}\n"
		"  a:\n"
		"    database_url: ${NOT_SET}\n"
		"  b:\n"
		"    database_url: \"${NOT_SET:-postgres://fallback/db}\"\n"
		"  c:\n"
		"    database_url: \"${EMPTY:-was empty}\"\n"
		"  d:\n"
		"    database_url: \"$$HOME costs $5 ${USER_NAME}!\"\n"
		"  e:\n"
		"    database_url: \"${NOT_SET:-${NOT_SET2:-${USER_NAME}}}x\"\n"
		"  f:\n"
		"    database_url: \"${USER_NAME:-unused}\"\n"
		"    confirm: ${NOT_SET:-true}\n"
		"metadata:\n"
		"  ${USER_NAME}: $$\n"
		"hooks:\n"
		"  post_complete:\n"
		"    - webhook: ${NOT_SET}\n");
	const cairn_environment *e;

	e = cairn_config_environment(cfg, "production");
	ck_assert_str_eq(e->database_url, "postgres://prod.example.com/app");
	/* an unset variable loads as "" (commands complain later) */
	ck_assert_str_eq(cairn_config_environment(cfg, "a")->database_url, "");
	ck_assert_str_eq(cairn_config_environment(cfg, "b")->database_url,
			 "postgres://fallback/db");
	ck_assert_str_eq(cairn_config_environment(cfg, "c")->database_url,
			 "was empty");
	ck_assert_str_eq(cairn_config_environment(cfg, "d")->database_url,
			 "$HOME costs $5 ada!");
	ck_assert_str_eq(cairn_config_environment(cfg, "e")->database_url,
			 "adax");
	ck_assert_str_eq(cairn_config_environment(cfg, "f")->database_url,
			 "ada");
	ck_assert(cairn_config_environment(cfg, "f")->confirm);
	/* keys are not expanded */
	ck_assert_uint_eq(cfg->metadata_count, 1);
	ck_assert_str_eq(cfg->metadata[0].key, "${USER_NAME}");
	ck_assert_str_eq(cfg->metadata[0].value, "$");
	ck_assert_uint_eq(cfg->hooks_count, 1);
	ck_assert_str_eq(cfg->hooks[0].url, "");
	ck_assert_str_eq(cfg->hooks[0].name, "webhook");
	cairn_config_free(cfg);
}
END_TEST

START_TEST(test_expansion_default_getenv)
{
	cairn_config *cfg = NULL;
	const char *text = "schema: ${CAIRN_TEST_SCHEMA_X:-fallback}\n";

	setenv("CAIRN_TEST_SCHEMA_X", "from_env", 1);
	ck_assert_int_eq(cairn_config_parse(&cfg, "cairn.yaml", text,
					    strlen(text), NULL), 0);
	ck_assert_str_eq(cfg->schema, "from_env");
	cairn_config_free(cfg);
	unsetenv("CAIRN_TEST_SCHEMA_X");
	ck_assert_int_eq(cairn_config_parse(&cfg, "cairn.yaml", text,
					    strlen(text), NULL), 0);
	ck_assert_str_eq(cfg->schema, "fallback");
	cairn_config_free(cfg);
}
END_TEST

START_TEST(test_expansion_errors)
{
	const cairn_error *e;

	e = parse_err("schema: x\nmigrations_dir: \"db/${HOME\"\n",
		      "cairn.yaml:2:21: unterminated '${' in 'migrations_dir'");
	ck_assert(tu_contains(e->hint, "$$"));
	parse_err("metadata:\n  k: ab${X:-${Y}\n",
		  "cairn.yaml:2:8: unterminated '${' in 'k'");
	parse_err("metadata:\n  k: ${1X}\n",
		  "cairn.yaml:2:6: invalid variable name in '${...}' in 'k'");
	parse_err("metadata:\n  k: ${}\n",
		  "cairn.yaml:2:6: invalid variable name in '${...}' in 'k'");
	parse_err("metadata:\n  k: ${X-y}\n",
		  "cairn.yaml:2:6: invalid variable reference in 'k'");
	/* a block scalar: placed at the value's start */
	parse_err("metadata:\n  k: |\n    a ${B\n",
		  "cairn.yaml:2:6: unterminated '${' in 'k'");
}
END_TEST

/* --- errors ------------------------------------------------------------- */

START_TEST(test_unknown_keys)
{
	const cairn_error *e;

	e = parse_err("hooks:\n"
		      "  post_execute:\n"
		      "    - run: [x]\n"
		      "      on_failur: warn\n",
		      "cairn.yaml:4:7: unknown key 'on_failur' in hook");
	assert_hint(e, "did you mean 'on_failure'?");

	e = parse_err("shema: x\n",
		      "cairn.yaml:1:1: unknown key 'shema' at the top level");
	assert_hint(e, "did you mean 'schema'?");

	e = parse_err("color: blue\n",
		      "cairn.yaml:1:1: unknown key 'color' at the top level");
	assert_hint(e, "valid keys: migrations_dir, schema, ignore, "
		       "environments, hooks, githooks, metadata, "
		       "shadow_database_url, audit, lint, layout, dialect, versions");

	e = parse_err("environments:\n  prod:\n    databse_url: x\n",
		      "cairn.yaml:3:5: unknown key 'databse_url' in "
		      "environment");
	assert_hint(e, "did you mean 'database_url'?");

	e = parse_err("hooks:\n  pre_validate:\n    - builtin: log\n"
		      "      only: { environment: [development] }\n",
		      "cairn.yaml:4:15: unknown key 'environment' in 'only'");
	assert_hint(e, "did you mean 'environments'?");

	e = parse_err("githooks:\n  pre-push: { environment: development }\n",
		      "cairn.yaml:2:3: unknown key 'pre-push' in 'githooks'");
	assert_hint(e, "did you mean 'pre_push'?");

	e = parse_err("githooks:\n  post_merge: { environment: x }\n",
		      "cairn.yaml:2:17: unknown key 'environment' in "
		      "'githooks.post_merge'");
	assert_hint(e, "valid keys: apply");
}
END_TEST

START_TEST(test_malformed_yaml)
{
	const cairn_error *e;

	parse_err("schema: cairn\nhooks: a: b\n",
		  "cairn.yaml:2:9: invalid YAML: mapping values are not "
		  "allowed in this context");
	e = parse_err("ignore: [a, b\nschema: x\n",
		      "cairn.yaml:2:7: invalid YAML: did not find expected "
		      "',' or ']'");
	ck_assert(tu_contains(e->detail, "line 1, column 9"));
	parse_err("schema: cairn\n\tmigrations_dir: x\n",
		  "cairn.yaml:2:1: invalid YAML: found a tab character that "
		  "violates indentation");
	parse_err("schema: \"abc\n",
		  "cairn.yaml:2:1: invalid YAML: found unexpected end of "
		  "stream");
	/* not UTF-8: a reader error, placed from its byte offset */
	parse_err("schema: x\nmetadata: { a: \"\xff\" }\n",
		  "cairn.yaml:2:17: invalid YAML: invalid leading UTF-8 "
		  "octet");
	parse_err("a: 1\n---\nb: 2\n",
		  "cairn.yaml:2:1: more than one YAML document in the file");
	parse_err("- a\n- b\n",
		  "cairn.yaml:1:1: expected a map at the top level, got a "
		  "list");
	parse_err("metadata: { a: \"x\\0y\" }\n",
		  "cairn.yaml:1:16: value contains a NUL character");
	parse_err("? [a, b]\n: c\n",
		  "cairn.yaml:1:3: a key must be a plain string, not a list "
		  "or a map");
}
END_TEST

START_TEST(test_deep_nesting)
{
	char text[200];
	size_t i, n = 60;

	for (i = 0; i < n; i++)
		text[i] = '[';
	for (i = 0; i < n; i++)
		text[n + i] = ']';
	text[2 * n] = '\0';
	parse_err(text, "cairn.yaml:1:34: values are nested too deeply");
}
END_TEST

START_TEST(test_aliases_refused)
{
	const cairn_error *e;
	cairn_config *cfg;

	e = parse_err("environments:\n"
		      "  a: &common\n"
		      "    confirm: true\n"
		      "  b: *common\n",
		      "cairn.yaml:4:6: YAML aliases ('*name') are not "
		      "supported");
	ck_assert_ptr_nonnull(e->hint);
	parse_err("a: &a [x, x]\nb: &b [*a, *a]\n",
		  "cairn.yaml:2:8: YAML aliases ('*name') are not supported");
	parse_err("base: &b { confirm: true }\nx:\n  <<: *b\n",
		  "cairn.yaml:3:7: YAML aliases ('*name') are not supported");
	/* an anchor that nothing refers to is harmless */
	cfg = parse_ok("schema: &s cairn\n");
	ck_assert_str_eq(cfg->schema, "cairn");
	cairn_config_free(cfg);
}
END_TEST

START_TEST(test_duplicate_keys)
{
	const cairn_error *e;

	e = parse_err("schema: a\nmigrations_dir: x\nschema: b\n",
		      "cairn.yaml:3:1: duplicate key 'schema'");
	ck_assert_str_eq(e->detail, "'schema' is already set at line 1, "
		       "column 1.");
	parse_err("hooks:\n  pre_validate: []\n  on_error: []\n"
		  "  pre_validate: []\n",
		  "cairn.yaml:4:3: duplicate key 'pre_validate'");
	parse_err("hooks:\n  on_error:\n    - builtin: log\n"
		  "      builtin: lint\n",
		  "cairn.yaml:4:7: duplicate key 'builtin'");
}
END_TEST

START_TEST(test_wrong_types)
{
	const cairn_error *e;

	e = parse_err("ignore: { a: b }\n",
		      "cairn.yaml:1:9: expected a list for 'ignore', got a "
		      "map");
	ck_assert(tu_contains(e->hint, "ignore: [a, b]"));
	parse_err("hooks: [a]\n",
		  "cairn.yaml:1:8: expected a map for 'hooks', got a list");
	parse_err("environments: production\n",
		  "cairn.yaml:1:15: expected a map for 'environments', got a "
		  "string");
	parse_err("environments:\n  prod: yes\n",
		  "cairn.yaml:2:9: expected a map for environment 'prod', "
		  "got a string");
	parse_err("schema: [a]\n",
		  "cairn.yaml:1:9: expected a string for 'schema', got a "
		  "list");
	parse_err("hooks:\n  on_error:\n    - webhook: x\n      retries: yes\n",
		  "cairn.yaml:4:16: expected a whole number from 0 to 10 for "
		  "'retries', got 'yes'");
	parse_err("hooks:\n  on_error:\n    - webhook: x\n      retries: 11\n",
		  "cairn.yaml:4:16: expected a whole number from 0 to 10 for "
		  "'retries', got '11'");
	parse_err("hooks:\n  on_error:\n    - webhook: x\n      retries: -1\n",
		  "cairn.yaml:4:16: expected a whole number from 0 to 10 for "
		  "'retries', got '-1'");
	parse_err("environments:\n  p:\n    confirm: yes\n",
		  "cairn.yaml:3:14: expected true or false for 'confirm', got "
		  "'yes'");
	parse_err("hooks:\n  on_error:\n    - webhook: x\n      format: xml\n",
		  "cairn.yaml:4:15: invalid value 'xml' for 'format'");
	e = cairn_error_last();
	assert_hint(e, "valid formats: json, slack");
	parse_err("hooks:\n  on_error:\n    - sql: x\n      expect: 1\n",
		  "cairn.yaml:4:15: invalid value '1' for 'expect'");
	parse_err("hooks:\n  on_error:\n    - run: { a: b }\n",
		  "cairn.yaml:3:12: expected a list or a string for 'run', got "
		  "a map");
	parse_err("hooks:\n  on_error: { builtin: log }\n",
		  "cairn.yaml:2:13: expected a list of hooks for 'on_error', "
		  "got a map");
	e = parse_err("hooks:\n  on_error:\n    - log\n",
		      "cairn.yaml:3:7: expected a map for a hook under "
		      "'on_error', got a string");
	ck_assert(tu_contains(e->hint, "- builtin: log"));
	parse_err("githooks:\n  pre_push: production\n",
		  "cairn.yaml:2:13: expected a map for 'pre_push', got a "
		  "string");
	parse_err("environments:\n  p:\n    allowed_refs: refs/heads/main\n",
		  "cairn.yaml:3:19: expected a list for 'allowed_refs', got a "
		  "string");
	parse_err("metadata: { a: [1] }\n",
		  "cairn.yaml:1:16: expected a string for 'a', got a list");
}
END_TEST

START_TEST(test_events)
{
	const cairn_error *e;

	e = parse_err("hooks:\n  pre_exeucte:\n    - builtin: log\n",
		      "cairn.yaml:2:3: unknown event 'pre_exeucte' in 'hooks'");
	assert_hint(e, "did you mean 'pre_execute'?");
	e = parse_err("hooks:\n  before_deploy: []\n",
		      "cairn.yaml:2:3: unknown event 'before_deploy' in "
		      "'hooks'");
	ck_assert(tu_contains(e->hint, "valid events: pre_validate, "
				       "post_validate, pre_execute"));
	ck_assert(tu_contains(e->hint, "on_error"));
}
END_TEST

START_TEST(test_hook_kinds)
{
	const cairn_error *e;

	e = parse_err("hooks:\n  on_error:\n    - run: [x]\n"
		      "      sql: select 1\n",
		      "cairn.yaml:4:7: hook has both 'run' and 'sql'");
	ck_assert(tu_contains(e->hint, "exactly one of"));
	parse_err("hooks:\n  on_error:\n    - sql: x\n      sql_file: y.sql\n",
		  "cairn.yaml:4:7: hook has both 'sql' and 'sql_file'");
	e = parse_err("hooks:\n  on_error:\n    - name: x\n      timeout: 1s\n",
		      "cairn.yaml:3:7: hook has none of run, sql, sql_file, "
		      "webhook, builtin, plugin");
	e = parse_err("hooks:\n  on_error:\n    - run: [x]\n      expect: 0\n",
		      "cairn.yaml:4:7: 'expect' only applies to sql hooks");
	assert_hint(e, "this is an exec hook; remove 'expect'");
	parse_err("hooks:\n  on_error:\n    - builtin: log\n      retries: 2\n",
		  "cairn.yaml:4:7: 'retries' only applies to webhook hooks");
	parse_err("hooks:\n  on_error:\n    - sql: x\n      symbol: f\n",
		  "cairn.yaml:4:7: 'symbol' only applies to plugin hooks");
	parse_err("hooks:\n  on_error:\n    - builtin: log\n"
		  "      metrics_file: m.prom\n",
		  "cairn.yaml:4:7: 'metrics_file' only applies to the metrics "
		  "builtin");
	parse_err("hooks:\n  on_error:\n    - builtin: lint\n"
		  "      refs: [a]\n",
		  "cairn.yaml:4:7: 'refs' only applies to the allowed-refs "
		  "builtin");
	e = parse_err("hooks:\n  on_error:\n    - builtin: metrix\n",
		      "cairn.yaml:3:16: unknown builtin hook 'metrix'");
	assert_hint(e, "did you mean 'metrics'?");
	/* empty kind values */
	parse_err("hooks:\n  on_error:\n    - webhook: \"\"\n",
		  "cairn.yaml:3:16: empty value for 'webhook'");
	parse_err("hooks:\n  on_error:\n    - builtin:\n      name: x\n",
		  "cairn.yaml:3:15: empty value for 'builtin'");
	parse_err("hooks:\n  on_error:\n    - run: []\n",
		  "cairn.yaml:3:12: empty value for 'run'");
	parse_err("hooks:\n  on_error:\n    - run: [\"\", x]\n",
		  "cairn.yaml:3:13: empty item in 'run'");
	parse_err("hooks:\n  on_error:\n    - run: ${NOT_SET}\n",
		  "cairn.yaml:3:12: 'run' is empty after expanding variables");
	parse_err("hooks:\n  on_error:\n    - run: [x]\n      name: \"\"\n",
		  "cairn.yaml:4:13: empty value for 'name'");
	parse_err("hooks:\n  on_error:\n    - webhook: x\n"
		  "      secret_env: my-secret\n",
		  "cairn.yaml:4:19: invalid environment variable name "
		  "'my-secret' for 'secret_env'");
	parse_err("hooks:\n  on_error:\n    - webhook: x\n"
		  "      headers: { X-A: \"a\\r\\nInjected: 1\" }\n",
		  "cairn.yaml:4:23: header 'X-A' contains a line break");
	parse_err("hooks:\n  on_error:\n    - plugin: x.so\n"
		  "      symbol: 1init\n",
		  "cairn.yaml:4:15: invalid symbol '1init' for 'symbol'");
}
END_TEST

START_TEST(test_durations)
{
	cairn_config *cfg;
	const cairn_error *e;

	cfg = parse_ok("hooks:\n  on_error:\n"
		       "    - run: [a]\n      timeout: 500ms\n"
		       "    - run: [a]\n      timeout: 5min\n"
		       "    - run: [a]\n      timeout: 1500\n"
		       "    - run: [a]\n      timeout: 1h\n");
	ck_assert_uint_eq(cfg->hooks[0].timeout_ms, 500);
	ck_assert_uint_eq(cfg->hooks[1].timeout_ms, 300000);
	/* a bare number is milliseconds */
	ck_assert_uint_eq(cfg->hooks[2].timeout_ms, 1500);
	ck_assert_uint_eq(cfg->hooks[3].timeout_ms, 3600000);
	cairn_config_free(cfg);

	e = parse_err("hooks:\n  on_error:\n    - run: [a]\n"
		      "      timeout: 10 years\n",
		      "cairn.yaml:4:16: invalid duration '10 years' for "
		      "'timeout'");
	ck_assert(tu_contains(e->hint, "500ms"));
	parse_err("hooks:\n  on_error:\n    - run: [a]\n      timeout: 0\n",
		  "cairn.yaml:4:16: invalid duration '0' for 'timeout'");
	parse_err("hooks:\n  on_error:\n    - run: [a]\n      timeout: -5s\n",
		  "cairn.yaml:4:16: invalid duration '-5s' for 'timeout'");
	parse_err("environments:\n  p:\n    lock_timeout: soon\n",
		  "cairn.yaml:3:19: invalid duration 'soon' for "
		  "'lock_timeout'");
}
END_TEST

START_TEST(test_schema_and_dir)
{
	const cairn_error *e;

	e = parse_err("schema: Cairn\n",
		      "cairn.yaml:1:9: invalid schema name 'Cairn'");
	ck_assert(tu_contains(e->hint, "lowercase"));
	parse_err("schema: 1abc\n",
		  "cairn.yaml:1:9: invalid schema name '1abc'");
	parse_err("schema: \"a;drop\"\n",
		  "cairn.yaml:1:9: invalid schema name 'a;drop'");
	parse_err("schema: \"\"\n", "cairn.yaml:1:9: empty value for 'schema'");
	/* 64 characters: one more than PostgreSQL's limit */
	parse_err("schema: a2345678901234567890123456789012345678901"
		  "23456789012345678901234\n",
		  "cairn.yaml:1:9: invalid schema name "
		  "'a234567890123456789012345678901234567890'");
	parse_err("migrations_dir: /srv/db\n",
		  "cairn.yaml:1:17: migrations_dir '/srv/db' must be relative "
		  "to the repository root");
	parse_err("migrations_dir: db/../../etc\n",
		  "cairn.yaml:1:17: migrations_dir 'db/../../etc' may not "
		  "contain '..'");
	parse_err("migrations_dir: ..\n",
		  "cairn.yaml:1:17: migrations_dir '..' may not contain '..'");
}
END_TEST

START_TEST(test_environment_refs)
{
	const cairn_error *e;
	cairn_config *cfg;

	e = parse_err("environments:\n  production: {}\n"
		      "hooks:\n  on_error:\n    - builtin: log\n"
		      "      only: { environments: [prodution] }\n",
		      "cairn.yaml:6:30: unknown environment 'prodution' in "
		      "'only.environments'");
	assert_hint(e, "did you mean 'production'?");
	/* environments may come after the sections that name them */
	e = parse_err("githooks:\n  pre_push: { environment: stagin }\n"
		      "environments:\n  staging: {}\n",
		      "cairn.yaml:2:28: unknown environment 'stagin' in "
		      "'githooks.pre_push.environment'");
	assert_hint(e, "did you mean 'staging'?");
	cfg = parse_ok("hooks:\n  on_error:\n    - builtin: log\n"
		       "      only: { environments: [staging, development] }\n"
		       "environments:\n  staging: {}\n");
	ck_assert_uint_eq(cfg->hooks[0].only_environments_count, 2);
	ck_assert_str_eq(cfg->hooks[0].only_environments[1], "development");
	cairn_config_free(cfg);
	parse_err("environments:\n  \"a b\": {}\n",
		  "cairn.yaml:2:3: invalid environment name 'a b'");
}
END_TEST

START_TEST(test_messages_are_one_line)
{
	const cairn_error *e;

	e = parse_err("\"bad\\nkey\\e[31m\": 1\n",
		      "cairn.yaml:1:1: unknown key 'bad?key?[31m' at the top "
		      "level");
	ck_assert_ptr_nonnull(e);
}
END_TEST

/* --- names and look-ups -------------------------------------------------- */

START_TEST(test_names)
{
	ck_assert_str_eq(cairn_hook_kind_name(CAIRN_HOOK_EXEC), "exec");
	ck_assert_str_eq(cairn_hook_kind_name(CAIRN_HOOK_SQL), "sql");
	ck_assert_str_eq(cairn_hook_kind_name(CAIRN_HOOK_WEBHOOK), "webhook");
	ck_assert_str_eq(cairn_hook_kind_name(CAIRN_HOOK_BUILTIN), "builtin");
	ck_assert_str_eq(cairn_hook_kind_name(CAIRN_HOOK_PLUGIN), "plugin");
	ck_assert_ptr_null(cairn_hook_kind_name((cairn_hook_kind)99));
	ck_assert_str_eq(cairn_on_failure_name(CAIRN_ON_FAILURE_ABORT),
			 "abort");
	ck_assert_str_eq(cairn_on_failure_name(CAIRN_ON_FAILURE_WARN), "warn");
	ck_assert_str_eq(cairn_on_failure_name(CAIRN_ON_FAILURE_IGNORE),
			 "ignore");
	ck_assert_ptr_null(cairn_on_failure_name((cairn_on_failure)3));
	ck_assert_ptr_null(cairn_config_environment(NULL, "x"));
}
END_TEST

/* --- files --------------------------------------------------------- */

START_TEST(test_load_file)
{
	char *dir = tu_mkdtemp(), *path;
	cairn_config *cfg = NULL;
	const cairn_error *e;

	ck_assert_int_ge(asprintf(&path, "%s/cairn.yaml", dir), 0);

	/* missing: CAIRN_ENOTFOUND, class config */
	ck_assert_int_eq(cairn_config_load(&cfg, path, NULL), CAIRN_ENOTFOUND);
	ck_assert_ptr_null(cfg);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert(tu_contains(e->message, "not found"));
	ck_assert(tu_contains(e->hint, "cairn init"));

	tu_write(dir, "cairn.yaml", design_example);
	ck_assert_int_eq(cairn_config_load(&cfg, path, NULL), 0);
	ck_assert_str_eq(cfg->path, path);
	ck_assert_uint_eq(cfg->hooks_count, 5);
	cairn_config_free(cfg);

	/* errors name the file as given */
	tu_write(dir, "cairn.yaml", "schema: x\nhooks:\n  pre_push: []\n");
	ck_assert_int_eq(cairn_config_load(&cfg, path, NULL), CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert(tu_contains(e->message, "/cairn.yaml:3:3: unknown event "
					  "'pre_push'"));

	/* a directory */
	ck_assert_int_eq(cairn_config_load(&cfg, dir, NULL), CAIRN_ERROR);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_CONFIG);
	free(path);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_load_too_large)
{
	char *dir = tu_mkdtemp(), *path, *big;
	size_t n = 1024 * 1024 + 1;
	cairn_config *cfg = NULL;

	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	memset(big, '#', n);
	tu_write_bytes(dir, "cairn.yaml", big, n);
	ck_assert_int_ge(asprintf(&path, "%s/cairn.yaml", dir), 0);
	ck_assert_int_eq(cairn_config_load(&cfg, path, NULL), CAIRN_ERROR);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert(tu_contains(cairn_error_last()->message,
			      "larger than 1 MiB"));
	ck_assert_int_eq(cairn_config_parse(&cfg, "x", big, n, NULL),
			 CAIRN_ERROR);
	/* exactly 1 MiB of comment is fine */
	ck_assert_int_eq(cairn_config_parse(&cfg, "x", big, n - 1, NULL), 0);
	cairn_config_free(cfg);
	free(big);
	free(path);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_many_nodes)
{
	/* a flat list of 150,000 items: refused, without a crash */
	size_t n = 150000, i;
	char *text = malloc(n * 2 + 16);
	cairn_config *cfg = NULL;

	ck_assert_ptr_nonnull(text);
	memcpy(text, "ignore: [", 9);
	for (i = 0; i < n; i++) {
		text[9 + 2 * i] = 'a';
		text[10 + 2 * i] = ',';
	}
	text[9 + 2 * n - 1] = ']';
	text[9 + 2 * n] = '\0';
	ck_assert_int_eq(cairn_config_parse(&cfg, "x", text, strlen(text),
					    NULL), CAIRN_ERROR);
	ck_assert(tu_contains(cairn_error_last()->message, "too many values"));
	free(text);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_design_example);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_hook_defaults);
	tcase_add_test(tc, test_implicit_development);
	tcase_add_test(tc, test_top_level_keys);
	tcase_add_test(tc, test_hooks_order);
	tcase_add_test(tc, test_expansion);
	tcase_add_test(tc, test_expansion_default_getenv);
	tcase_add_test(tc, test_expansion_errors);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_malformed_yaml);
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_aliases_refused);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_hook_kinds);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_schema_and_dir);
	tcase_add_test(tc, test_environment_refs);
	tcase_add_test(tc, test_messages_are_one_line);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_too_large);
	tcase_add_test(tc, test_many_nodes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
