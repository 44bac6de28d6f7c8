/*
 * config.h - cairn.yaml, parsed with libyaml.
 *
 * The configuration is read whole and checked before anything runs:
 * unknown keys are errors that name the key and suggest the closest known
 * one; values of the wrong type, bad durations and unknown events are
 * errors; every error names the file, line and column.  `${VAR}` and
 * `${VAR:-default}` expand from the environment (or from the lookup the
 * caller passes) inside scalar values.
 *
 * Hooks are parsed into cairn_hook_spec records, in the order they appear
 * under each event; the pipeline builds its hooks from them.
 */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include "common.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	CAIRN_HOOK_EXEC = 0,
	CAIRN_HOOK_SQL,
	CAIRN_HOOK_WEBHOOK,
	CAIRN_HOOK_BUILTIN,
	CAIRN_HOOK_PLUGIN
} cairn_hook_kind;

typedef enum {
	CAIRN_ON_FAILURE_ABORT = 0,
	CAIRN_ON_FAILURE_WARN,
	CAIRN_ON_FAILURE_IGNORE
} cairn_on_failure;

typedef enum {
	CAIRN_EXPECT_NONE = 0, /* only errors fail */
	CAIRN_EXPECT_ZERO,     /* first column of first row is 0 */
	CAIRN_EXPECT_EMPTY,    /* no rows */
	CAIRN_EXPECT_TRUE      /* first column of first row is true */
} cairn_sql_expect;

typedef enum {
	CAIRN_WEBHOOK_JSON = 0,
	CAIRN_WEBHOOK_SLACK
} cairn_webhook_format;

typedef struct cairn_kv {
	char *key;
	char *value;
} cairn_kv;

typedef struct cairn_hook_spec {
	cairn_event event;
	cairn_hook_kind kind;
	char *name;               /* `name:` or a generated "exec:rebuild-cache" */
	cairn_on_failure on_failure;
	uint64_t timeout_ms;      /* default 30000; `timeout: 10s`, "500ms",
				   * "5min", "1h"; a bare number is ms */

	/* only: filters; empty lists mean "all" */
	char **only_environments;
	size_t only_environments_count;
	char **only_migrations;   /* fnmatch globs on "<version>_<name>" and paths */
	size_t only_migrations_count;

	/* exec */
	char **argv;              /* NULL-terminated; NULL for a shell string */
	size_t argc;
	char *shell;              /* `run: "string"` */

	/* sql */
	char *sql;
	char *sql_file;
	cairn_sql_expect expect;

	/* webhook */
	char *url;
	cairn_webhook_format format;
	char *secret_env;
	unsigned retries;         /* default 3 */
	bool async;
	cairn_kv *headers;
	size_t headers_count;
	uint64_t connect_timeout_ms; /* default 5000 */

	/* builtin */
	char *builtin;            /* "log", "metrics", ... */
	char *metrics_file;       /* metrics */
	char *path;               /* audit-file, log */
	char **refs;              /* allowed-refs */
	size_t refs_count;

	/* plugin */
	char *plugin;             /* path to the .so */
	char *symbol;             /* default "cairn_plugin_init" */

	/* where it was written */
	unsigned line;
	unsigned column;
} cairn_hook_spec;

/*
 * One database of a fleet (README "Fleets"): a name for the summary and
 * the audit rows, its URL, and for schema-per-tenant the schema holding
 * cairn's tables (and first on the search_path); NULL: the config's.
 */
typedef struct cairn_target {
	char *name;
	char *database_url;
	char *schema;
	unsigned line;            /* where it was written; 0: from a file or
				   * command */
} cairn_target;

typedef struct cairn_environment {
	char *name;
	char *database_url;       /* NULL: DATABASE_URL, libpq defaults, dev db;
				   * "": written but expanded to nothing (an
				   * unset ${VAR}): refuse to connect */
	char **allowed_refs;
	size_t allowed_refs_count;
	bool require_clean_tree;
	bool confirm;
	bool allow_out_of_order;
	bool require_down;        /* every migration needs a down file */
	uint64_t lock_timeout_ms; /* the deploy lock's wait
				   * (`deploy_lock_timeout`, or the deprecated
				   * `lock_timeout`); 0: the default (60s) */
	cairn_kv *metadata;
	size_t metadata_count;
	unsigned line;
	char *direct_database_url; /* the deploy connection (migrate, repair,
				    * audit anchor) when database_url goes
				    * through a transaction-pooling pooler;
				    * NULL: database_url */
	/* Bounds on migration statements (README "Production"). */
	uint64_t statement_lock_timeout_ms; /* 0: the default (5s);
					     * CAIRN_CONFIG_TIMEOUT_OFF: `0`
					     * written, the server's own */
	uint64_t statement_timeout_ms;      /* 0: none (the server's) */
	unsigned lock_tries;      /* `lock_retries` + 1; 0: the default (5) */
	uint64_t lock_retry_delay_ms; /* 0: the default (1s) */
	uint64_t server_answer_timeout_ms; /* cairn's own statements;
					    * 0: the default (60s) */
	/* baseline_on_migrate: the version a database that has tables but
	 * an empty tracking table is baselined to by its first `migrate
	 * up`; NULL: off (Flyway's baselineOnMigrate + baselineVersion) */
	char *baseline_on_migrate;
	/* Fleets (README "Fleets"): at most one of the three sources. */
	cairn_target *targets;    /* `targets:` list */
	size_t targets_count;
	char *targets_file;       /* `targets_file:` one "name url [schema]"
				   * per line */
	char **targets_command;   /* `targets_command:` argv, NULL-terminated;
				   * prints what a targets_file holds */
	size_t targets_command_count;
	unsigned targets_line;    /* where the source was written */
} cairn_environment;

/* statement_lock_timeout: 0 in cairn.yaml (= CAIRN_TIMEOUT_OFF). */
#define CAIRN_CONFIG_TIMEOUT_OFF UINT64_MAX

typedef struct cairn_config {
	char *path;               /* the file read, NULL for defaults */
	char *migrations_dir;     /* default "db/migrations" */
	int layout;               /* layout: a cairn_layout (migration.h), with
				   * CAIRN_LAYOUT_PER_DIRECTORY for
				   * versions: per-directory */
	char *dialect;            /* dialect: NULL when unset */
	char *schema;             /* default "cairn" */
	char **ignore;            /* globs */
	size_t ignore_count;
	char *shadow_database_url;
	cairn_environment *environments;
	size_t environments_count;
	cairn_hook_spec *hooks;   /* in config order across all events */
	size_t hooks_count;
	cairn_kv *metadata;
	size_t metadata_count;
	char *pre_push_environment; /* githooks.pre_push.environment */
	char *post_merge_apply;     /* githooks.post_merge.apply */
	char *post_checkout_environment; /* githooks.post_checkout.environment */
	/* audit: (doc/audit.md) */
	bool audit_anchor;          /* audit.anchor: anchor after each migrate */
	char *audit_anchor_file;    /* audit.anchor_file: also append anchors here */
	char *audit_secret_env;     /* audit.secret_env: variable holding the
				     * keyed chain's key (never stored) */
	/* What the file says that still works but should change (a
	 * deprecated key), one "FILE:LINE:COL: ..." line each, for the
	 * program to show; the library never prints. */
	char **warnings;
	size_t warnings_count;
	/* lint: (src/config_lint.c, include/cairn/lint.h) */
	char **lint_disable;        /* rules off */
	size_t lint_disable_count;
	char **lint_enable;         /* style rules on */
	size_t lint_enable_count;
	cairn_kv *lint_allow;       /* version -> rule, one pair per rule */
	size_t lint_allow_count;
	cairn_kv *lint_severity;    /* rule -> error|warning|notice|off */
	size_t lint_severity_count;
} cairn_config;

/* Returns the value of an environment variable, or NULL. */
typedef const char *(*cairn_getenv_fn)(const char *name, void *payload);

typedef struct cairn_config_options {
	unsigned int version;
	cairn_getenv_fn getenv_fn; /* NULL: getenv(3) */
	void *payload;
} cairn_config_options;

#define CAIRN_CONFIG_OPTIONS_VERSION 1
#define CAIRN_CONFIG_OPTIONS_INIT { CAIRN_CONFIG_OPTIONS_VERSION, NULL, NULL }

/*
 * Reads and checks a configuration file.  Errors have class
 * CAIRN_ERRCLASS_CONFIG and messages of the form
 * "cairn.yaml:12:5: unknown key 'on_failur'" with a hint such as
 * "did you mean 'on_failure'?".  A missing file is CAIRN_ENOTFOUND.
 */
CAIRN_EXTERN(int) cairn_config_load(cairn_config **out, const char *path,
				    const cairn_config_options *opts);
/* Parses configuration text; `name` is used in messages. */
CAIRN_EXTERN(int) cairn_config_parse(cairn_config **out, const char *name,
				     const char *text, size_t len,
				     const cairn_config_options *opts);
/* The built-in defaults (used when there is no cairn.yaml). */
CAIRN_EXTERN(int) cairn_config_default(cairn_config **out);
CAIRN_EXTERN(void) cairn_config_free(cairn_config *cfg);

/* The environment called name, or NULL. */
CAIRN_EXTERN(const cairn_environment *) cairn_config_environment(
	const cairn_config *cfg, const char *name);

CAIRN_EXTERN(const char *) cairn_hook_kind_name(cairn_hook_kind kind);
CAIRN_EXTERN(const char *) cairn_on_failure_name(cairn_on_failure f);

#ifdef __cplusplus
}
#endif

#endif
