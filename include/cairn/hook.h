/*
 * hook.h - the hook pipeline's public interface.
 *
 * One pipeline serves every command that touches migrations.  A hook is a
 * name, an event and a callback with a payload; an object hook bundles
 * before/after/on_error callbacks that the pipeline attaches to
 * pre_execute/pre_rollback, post_execute/post_rollback and on_error.
 * Hooks of an event run in registration order.  The hooks cairn reads
 * from cairn.yaml, the built-in hooks in hooks/ and third-party plugins
 * are all registered through this interface; nothing else reaches the
 * pipeline.
 *
 * A callback returns 0 when it is happy and anything else to fail; it
 * explains a failure with cairn_error_set().  What a failure does depends
 * on the hook's on_failure: abort (the default) stops the run at events
 * that may veto, warn reports and goes on, ignore goes on silently.
 *
 * The context a hook sees is read-only and valid only during the call.
 * Migration fields borrow from the migration set; strings are never NULL
 * unless documented.
 */
#ifndef CAIRN_HOOK_H
#define CAIRN_HOOK_H

#include "common.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "event.h"
#include "lint.h"
#include "migration.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_pipeline cairn_pipeline;
typedef struct cairn_session cairn_session;

typedef struct cairn_hook_context {
	unsigned int version;
	cairn_event event;
	const char *environment;
	const char *run_id;
	const char *direction;      /* "up" or "down" */
	const cairn_migration *migration; /* NULL for run-level events */
	const char *status;         /* pending|applied|rolled_back|failed */
	int64_t duration_ms;        /* of the migration, or of the run */
	const cairn_error *error;   /* the failure, for on_error and
				       post_complete after a failure */
	const cairn_kv *metadata;
	size_t metadata_count;
	const char *deploy_rev;     /* commit sha deployed ("worktree") */
	const char *deploy_ref;     /* "refs/heads/main", or "" */
	const char *actor;          /* "Name <email>" of the deployer */
	const char *database;       /* connection description, no password */
	size_t planned;             /* migrations in the plan */
	size_t done;                /* migrations finished so far */
	size_t failed;              /* migrations that failed */
	bool dry_run;
	bool in_transaction;        /* a migration transaction is open */
	cairn_session *session;     /* for cairn_hook_sql(); may be NULL */
	/* Where hooks send output lines (see cairn_hook_log); may be NULL. */
	void (*log_fn)(const char *source, const char *text, void *payload);
	void *log_payload;
	/*
	 * Since version 2.  The sessions that blocked the failing
	 * migration when it gave up waiting for a lock, as a JSON array of
	 * {"pid", "user", "application_name", "client_addr", "state",
	 * "xact_age_ms", "query"} (the context's "blockers"); NULL when
	 * the failure was not a lock wait.  Read it only when version >= 2.
	 */
	const char *blockers_json;
} cairn_hook_context;

/* 2: blockers_json. */
#define CAIRN_HOOK_CONTEXT_VERSION 2

typedef int (*cairn_hook_fn)(const cairn_hook_context *ctx, void *payload);

typedef struct cairn_hook {
	unsigned int version;
	const char *name;            /* shown in logs and `hooks list` */
	const char *kind;            /* "exec", "sql", "builtin", ... */
	const char *description;     /* one line for `hooks list`, or NULL */
	cairn_event event;
	cairn_hook_fn fn;
	void *payload;
	void (*free_payload)(void *payload); /* called when removed */
	cairn_on_failure on_failure;
	uint64_t timeout_ms;         /* enforced by out-of-process kinds */
	/*
	 * Run inside the migration's transaction: a pre_execute hook after
	 * BEGIN, a post_execute hook before COMMIT (sql hooks do this).
	 */
	bool in_transaction;
	const char *const *only_environments; /* NULL-terminated or NULL */
	const char *const *only_migrations;   /* fnmatch globs */
} cairn_hook;

#define CAIRN_HOOK_VERSION 1
#define CAIRN_HOOK_INIT { CAIRN_HOOK_VERSION, NULL, NULL, NULL, \
			  CAIRN_EVENT_PRE_VALIDATE, NULL, NULL, NULL, \
			  CAIRN_ON_FAILURE_ABORT, 30000, false, NULL, NULL }

/* An object with callbacks around each migration (any may be NULL). */
typedef struct cairn_hook_object {
	unsigned int version;
	const char *name;
	cairn_hook_fn before;   /* pre_execute and pre_rollback */
	cairn_hook_fn after;    /* post_execute and post_rollback */
	cairn_hook_fn on_error; /* on_error */
	void *payload;
	void (*free_payload)(void *payload);
	cairn_on_failure on_failure;
} cairn_hook_object;

#define CAIRN_HOOK_OBJECT_INIT { CAIRN_HOOK_VERSION, NULL, NULL, NULL, \
				 NULL, NULL, NULL, CAIRN_ON_FAILURE_ABORT }

/* What happened to one hook call; given to the pipeline's observer. */
typedef struct cairn_hook_outcome {
	const cairn_hook *hook;
	const cairn_hook_context *ctx;
	int rc;                 /* 0 ok, else failed */
	const cairn_error *error; /* set when rc != 0 */
	int64_t duration_us;
	bool skipped;           /* filtered out by only: */
} cairn_hook_outcome;

typedef void (*cairn_hook_observer)(const cairn_hook_outcome *outcome,
				    void *payload);

CAIRN_EXTERN(int) cairn_pipeline_new(cairn_pipeline **out);
CAIRN_EXTERN(void) cairn_pipeline_free(cairn_pipeline *p);

/*
 * Registers a hook (its strings are copied).  *id_out (may be NULL)
 * receives a handle for cairn_pipeline_remove().
 */
CAIRN_EXTERN(int) cairn_pipeline_add(cairn_pipeline *p, const cairn_hook *hook,
				     int *id_out);
/* Registers an object hook; one id covers all of its callbacks. */
CAIRN_EXTERN(int) cairn_pipeline_add_object(cairn_pipeline *p,
					    const cairn_hook_object *obj,
					    int *id_out);
/* Removes what an id registered; CAIRN_ENOTFOUND if none. */
CAIRN_EXTERN(int) cairn_pipeline_remove(cairn_pipeline *p, int id);
/* Removes every hook. */
CAIRN_EXTERN(void) cairn_pipeline_clear(cairn_pipeline *p);

/* The hooks of one event, in order (for listing). */
CAIRN_EXTERN(size_t) cairn_pipeline_count(const cairn_pipeline *p,
					  cairn_event event);
CAIRN_EXTERN(const cairn_hook *) cairn_pipeline_get(const cairn_pipeline *p,
						    cairn_event event,
						    size_t i);

/* Called after every hook call (audit and logging of hook failures). */
CAIRN_EXTERN(void) cairn_pipeline_set_observer(cairn_pipeline *p,
					       cairn_hook_observer fn,
					       void *payload);

typedef enum {
	CAIRN_FIRE_ALL = 0,     /* every hook of the event */
	CAIRN_FIRE_OUTSIDE_TX,  /* only hooks with in_transaction false */
	CAIRN_FIRE_INSIDE_TX    /* only hooks with in_transaction true */
} cairn_fire_phase;

/*
 * Runs the hooks of ctx->event that match the phase and pass their
 * filters, in order.  Returns 0 when the run may go on, CAIRN_EVETO (with
 * the error set: which hook and why) when a hook with on_failure abort
 * failed at an event that may veto.  *warnings (may be NULL) counts
 * failures that were only warned about.
 */
CAIRN_EXTERN(int) cairn_pipeline_fire(cairn_pipeline *p,
				      const cairn_hook_context *ctx,
				      cairn_fire_phase phase,
				      size_t *warnings);

/* True when the hook's only: filters accept the context. */
CAIRN_EXTERN(bool) cairn_hook_matches(const cairn_hook *hook,
				      const cairn_hook_context *ctx);

/*
 * Runs a query on the connection of the context's session (inside the
 * migration's transaction when one is open).  *first_value receives the
 * first column of the first row (NULL when there are no rows or it is
 * NULL; caller frees); *rows the number of rows.  Either may be NULL.
 */
CAIRN_EXTERN(int) cairn_hook_sql(const cairn_hook_context *ctx,
				 const char *sql, char **first_value,
				 size_t *rows);

/*
 * A session for contexts built outside a migration run (`cairn hooks
 * run`, tools): db may be NULL (sql hooks then fail), workdir is where
 * exec hooks start.  Both are borrowed.
 */
CAIRN_EXTERN(int) cairn_session_new(cairn_session **out, cairn_db *db,
				    const char *workdir);
CAIRN_EXTERN(void) cairn_session_free(cairn_session *session);

/*
 * Sends text (one or more lines: a hook's captured output, a note) from
 * `source` (the hook's name) to the run's log.  No-op without a log.
 */
CAIRN_EXTERN(void) cairn_hook_log(const cairn_hook_context *ctx,
				  const char *source, const char *text);

/*
 * The context as one JSON object (the document exec hooks read on stdin
 * and webhooks post).  Caller frees *out.
 */
CAIRN_EXTERN(int) cairn_hook_context_to_json(char **out,
					     const cairn_hook_context *ctx);

/*
 * Plugins.  A plugin is a shared object exporting a registration
 * function (default name cairn_plugin_init) of type cairn_plugin_init_fn.
 * cairn calls it once with an API table; the plugin registers its hooks
 * through add_hook or add_object and returns 0.  Built-in hooks are
 * registered the same way and use nothing but the table.
 *
 * Compatibility, as libgit2 does it: a plugin declares the version it was
 * built for (plugin.h); the host loads any version from 1 to its own
 * CAIRN_PLUGIN_API_VERSION and refuses a newer one.  The table only grows
 * at its end.  Version 1 ends at event_name; version 3 adds config and
 * the lint options calls; from version 2 on, `size` is
 * the host's sizeof(cairn_plugin_api), so a plugin tests
 * CAIRN_PLUGIN_API_HAS(api, member) before using a member added after
 * the version it requires.  api_version is the version the plugin
 * declared (never more than the host's).
 */
#define CAIRN_PLUGIN_API_VERSION 3

typedef struct cairn_plugin_api cairn_plugin_api;

struct cairn_plugin_api {
	unsigned int api_version;
	const char *cairn_version;
	cairn_pipeline *pipeline;
	/*
	 * Options from the hook's configuration: "metrics_file", "path",
	 * "refs" (comma-separated), and "workdir" (the repository work dir,
	 * which relative paths are relative to) when the host knows it.
	 * The table, options and spec are valid only during the init call;
	 * copy what you keep.
	 */
	const cairn_kv *options;
	size_t options_count;
	/* The configuration entry that loaded this plugin or builtin. */
	const cairn_hook_spec *spec;
	int (*add_hook)(cairn_pipeline *p, const cairn_hook *hook, int *id);
	int (*add_object)(cairn_pipeline *p, const cairn_hook_object *obj,
			  int *id);
	int (*sql)(const cairn_hook_context *ctx, const char *sql,
		   char **first_value, size_t *rows);
	int (*context_to_json)(char **out, const cairn_hook_context *ctx);
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	void (*log)(const cairn_hook_context *ctx, const char *source,
		    const char *text);
	const char *(*event_name)(cairn_event event);

	/* ---- version 2: the table's size, then members added since ---- */
	size_t size;
	/* The value of an option, or NULL. */
	const char *(*option)(const cairn_plugin_api *api, const char *key);
	/* A hook filled from the entry's settings (cairn_hook_from_spec). */
	void (*hook_from_spec)(cairn_hook *out, const cairn_hook_spec *spec);
	/* Detail and hint for the error just set with set_error. */
	void (*set_error_detail)(const char *fmt, ...);
	void (*set_error_hint)(const char *fmt, ...);
	/* The error set on this thread (after a failed table call), or NULL. */
	const cairn_error *(*last_error)(void);
	/*
	 * A path from the configuration made usable: an absolute path as it
	 * is, a relative one below the "workdir" option (the current
	 * directory without one).  A relative path with a ".." component is
	 * refused (a configuration error), so a repository's cairn.yaml
	 * cannot point outside its work tree.  Caller frees *out.
	 */
	int (*resolve_path)(char **out, const cairn_plugin_api *api,
			    const char *path);
	/* The repository calls of repo.h and refs.h. */
	int (*repo_open)(cairn_repo **out, const char *path);
	void (*repo_free)(cairn_repo *repo);
	int (*repo_is_dirty)(bool *out, char **detail, cairn_repo *repo);
	int (*repo_resolve)(char out[CAIRN_OID_HEXSZ], cairn_repo *repo,
			    const char *rev);
	int (*repo_reachable_from)(bool *out, char **matched,
				   cairn_repo *repo, const char *commit,
				   const char *const *globs, size_t count);
	/* The lint checks of lint.h and the findings of finding.h. */
	int (*lint_migration)(cairn_findings *out, const cairn_migration *m,
			      const cairn_lint_options *opts);
	size_t (*findings_count)(const cairn_findings *list,
				 cairn_severity severity);
	void (*findings_dispose)(cairn_findings *list);
	const char *(*severity_name)(cairn_severity severity);

	/* ---- version 3 ---- */
	/*
	 * The configuration the pipeline is built from (its `lint:`
	 * section, ...); NULL when the host has none (a dlopen'd plugin
	 * registered without one).  Valid only during the init call.
	 */
	const cairn_config *config;
	/* The lint options calls of lint.h. */
	void (*lint_options_from_config)(cairn_lint_options *opts,
					 const cairn_config *cfg);
	int (*lint_options_dup)(cairn_lint_options **out,
				const cairn_lint_options *opts);
	void (*lint_options_free)(cairn_lint_options *opts);
};

/*
 * True when the host's table has `member` (a version 2 or later table
 * whose size covers it).  Members of version 1 are always there.
 */
#define CAIRN_PLUGIN_API_HAS(api, member) \
	(offsetof(cairn_plugin_api, member) < \
		 offsetof(cairn_plugin_api, size) || \
	 ((api)->api_version >= 2 && \
	  (api)->size >= offsetof(cairn_plugin_api, member) + \
			 sizeof(((const cairn_plugin_api *)0)->member)))

typedef int (*cairn_plugin_init_fn)(const cairn_plugin_api *api);

/* Fills an API table for the pipeline (hosts and built-ins use it). */
CAIRN_EXTERN(void) cairn_plugin_api_init(cairn_plugin_api *api,
					 cairn_pipeline *p,
					 const cairn_hook_spec *spec,
					 const cairn_kv *options,
					 size_t options_count);

/*
 * Fills a hook from what a configuration entry says about any hook: name,
 * kind name, event, on_failure, timeout and the only: filters (borrowed
 * from spec; cairn_pipeline_add copies them).  The rest is as in
 * CAIRN_HOOK_INIT: the caller sets fn, payload and anything else.
 * Built-ins and plugins use it (api->hook_from_spec) so their hooks
 * honour the user's settings.
 */
CAIRN_EXTERN(void) cairn_hook_from_spec(cairn_hook *out,
					const cairn_hook_spec *spec);

/* The value of a plugin option, or NULL (api->option in the table). */
CAIRN_EXTERN(const char *) cairn_plugin_option(const cairn_plugin_api *api,
					       const char *key);

#ifdef __cplusplus
}
#endif

#endif
