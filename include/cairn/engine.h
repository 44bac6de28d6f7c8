/*
 * engine.h - applying migrations: status, plans, migrate up/down, repair.
 *
 * The engine joins the migration set at a revision with the tracking
 * table of a database.  A run takes the deploy lock (a session advisory
 * lock per database and schema), reads the tracking table once, fires
 * pre_validate, checks (failed rows, drift, out-of-order, file problems;
 * and, whatever hooks are configured, transaction control or an
 * unterminated quote in a file that would run, a missing down file under
 * require_down), fires post_validate, then applies each migration:
 *
 *   pre_execute (outside tx)  BEGIN  pre_execute (in tx)  up SQL
 *   [still in the transaction?]  post_execute (in tx)
 *   tracking row + audit row  COMMIT  post_execute (outside tx)
 *
 * Without in-transaction hooks the part from BEGIN to COMMIT is two round
 * trips.  post_complete fires once at the end, on_error when something
 * fails.  no-transaction migrations record a `running` row, run, then
 * record `applied` or `failed`.
 */
#ifndef CAIRN_ENGINE_H
#define CAIRN_ENGINE_H

#include <signal.h>

#include "common.h"
#include "config.h"
#include "db.h"
#include "finding.h"
#include "hook.h"
#include "migration.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One row of the tracking table.  The strings borrow from the list (no
 * allocation per row: 10,000 applied migrations load in one query and
 * one array).
 */
typedef struct cairn_applied {
	const char *version;      /* normalized digits */
	const char *name;
	const char *checksum;
	const char *up_blob;      /* "" when unknown */
	const char *down_blob;
	bool no_transaction;
	const char *status;       /* running | applied | failed */
	const char *commit_sha;
	const char *author_name;
	const char *author_email;
	const char *applied_at;   /* ISO 8601 UTC */
	const char *applied_by;
	const char *deploy_rev;
	int64_t duration_ms;
	const char *error;        /* failed rows: what went wrong */
} cairn_applied;

typedef struct cairn_applied_list {
	cairn_applied *items; /* ascending by version */
	size_t count;
	void *result_;        /* the query result the strings live in */
} cairn_applied_list;

/*
 * Reads the tracking table; never writes (an empty list when cairn's
 * schema does not exist).
 */
CAIRN_EXTERN(int) cairn_applied_load(cairn_applied_list *out, cairn_db *db);
/*
 * The same with only version, name, checksum, up_blob, status and error
 * filled (the other strings are ""): what deciding a run needs.
 */
CAIRN_EXTERN(int) cairn_applied_load_brief(cairn_applied_list *out,
					   cairn_db *db);
CAIRN_EXTERN(void) cairn_applied_list_dispose(cairn_applied_list *list);
CAIRN_EXTERN(const cairn_applied *) cairn_applied_find(
	const cairn_applied_list *list, const char *version);

typedef enum {
	CAIRN_STATE_APPLIED = 0,
	CAIRN_STATE_PENDING,
	CAIRN_STATE_DRIFTED,  /* applied, file changed since */
	CAIRN_STATE_MISSING,  /* applied, file absent at the revision */
	CAIRN_STATE_FAILED,   /* a failed no-transaction migration */
	CAIRN_STATE_RUNNING   /* a no-transaction migration that never finished */
} cairn_state;

CAIRN_EXTERN(const char *) cairn_state_name(cairn_state state);

typedef struct cairn_status_entry {
	cairn_migration *migration;     /* NULL when missing */
	const cairn_applied *applied;   /* NULL when pending */
	cairn_state state;
	bool out_of_order;              /* pending, below the highest applied */
} cairn_status_entry;

/*
 * Joins set and applied rows, in version order.  Drift is decided on blob
 * ids first and checksums only when the blobs differ, so a clean status
 * reads no file contents.  Caller frees *out.
 */
CAIRN_EXTERN(int) cairn_status_compute(cairn_status_entry **out, size_t *count,
				       cairn_migration_set *set,
				       const cairn_applied_list *applied);

typedef struct cairn_progress {
	const char *phase;       /* "apply", "rollback", "done" */
	const cairn_migration *migration;
	size_t index;            /* 0-based within the plan */
	size_t total;
	int64_t elapsed_ms;      /* since the run started */
} cairn_progress;

/* A timeout that is not set by cairn: the server's own setting stays. */
#define CAIRN_TIMEOUT_OFF UINT64_MAX

/*
 * A session blocking a migration statement: from pg_blocking_pids() and
 * pg_stat_activity.  Strings are never NULL ("" when unknown or hidden).
 */
typedef struct cairn_blocker {
	int pid;
	const char *user;
	const char *application_name;
	const char *client_addr;   /* "" for a unix socket */
	const char *state;         /* "idle in transaction", "active", ... */
	int64_t xact_age_ms;       /* how long its transaction has been
				    * open; -1 when none */
	const char *query;         /* its (last) query: at most 200
				    * characters, literals replaced by '?' */
} cairn_blocker;

typedef enum {
	CAIRN_LOCK_WAITING = 0,   /* a statement is seen waiting for a lock */
	CAIRN_LOCK_RETRYING,      /* a try gave up (lock timeout); rolled
				   * back, the next starts after retry_in_ms */
	CAIRN_LOCK_GIVING_UP      /* the last try gave up (or the statement
				   * cannot be retried safely) */
} cairn_lock_phase;

typedef struct cairn_lock_report {
	cairn_lock_phase phase;
	const cairn_migration *migration;
	unsigned attempt;          /* 1-based */
	unsigned attempts;         /* tries in all */
	uint64_t lock_timeout_ms;  /* 0 when the server's setting is used */
	int64_t waited_ms;         /* of this try so far */
	int64_t retry_in_ms;       /* RETRYING: the pause before the next */
	const cairn_blocker *blockers; /* may be empty: not seen in time */
	size_t blocker_count;
	const char *reason;        /* GIVING_UP: why (may be NULL) */
} cairn_lock_report;

typedef struct cairn_run_options {
	unsigned int version;
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_db *db;                 /* NULL only for dry runs */
	cairn_pipeline *pipeline;     /* may be NULL: no hooks */
	const char *environment;
	const char *deploy_rev;       /* commit sha, or "worktree" */
	const char *deploy_ref;       /* "refs/heads/main" or NULL */
	const char *actor;            /* NULL: computed from git and the OS */
	const cairn_kv *metadata;
	size_t metadata_count;
	const char *target;           /* up: stop after; down: roll back to */
	size_t steps;                 /* down: how many (0 = 1) */
	bool dry_run;
	bool single_transaction;
	bool allow_out_of_order;
	uint64_t lock_timeout_ms;     /* 0 = 60 s */
	const char *workdir;          /* repository work tree */
	volatile sig_atomic_t *cancel;/* set by a signal handler to stop */
	void (*progress)(const cairn_progress *p, void *payload);
	void (*lock_wait)(const char *holder, void *payload);
	void (*log_fn)(const char *source, const char *text, void *payload);
	void *payload;                /* for the three callbacks */
	/* since version 2 */
	bool require_down;            /* up: every migration needs a down
				       * file (refused before anything runs) */
	/* where the configuration came from ("cairn.yaml at v1 (1a2b3c)"),
	 * recorded in audit rows as detail.config; may be NULL */
	const char *config_origin;
	/* since version 3: bounds on what a migration statement waits for
	 * (README "Production") */
	/* lock_timeout of each migration statement; 0: the default (5 s);
	 * CAIRN_TIMEOUT_OFF: leave the server's setting.  A file's
	 * `-- cairn: lock-timeout=` wins. */
	uint64_t statement_lock_timeout_ms;
	/* statement_timeout of each migration statement; 0: leave the
	 * server's setting (the default).  `-- cairn: statement-timeout=`
	 * wins. */
	uint64_t statement_timeout_ms;
	/* tries in all for a migration that gives up waiting for a lock
	 * (SQLSTATE 55P03); 0: the default (5); 1: no retry */
	unsigned lock_tries;
	/* the pause before the second try; doubles for each further try
	 * (at most 30 s), +/- 25% jitter; 0: the default (1 s) */
	uint64_t lock_retry_delay_ms;
	/* told while a migration statement waits for a lock, when a try
	 * gives up, and when the migration gives up; may be NULL */
	void (*lock_report)(const struct cairn_lock_report *report,
			    void *payload);
} cairn_run_options;

/* 2: require_down, config_origin.  3: statement_lock_timeout_ms,
 * statement_timeout_ms, lock_tries, lock_retry_delay_ms, lock_report.
 * Callers built with an older version keep working: fields after their
 * version's end are never read (they get the defaults). */
#define CAIRN_RUN_OPTIONS_VERSION 3
#define CAIRN_RUN_OPTIONS_INIT { .version = CAIRN_RUN_OPTIONS_VERSION }

typedef struct cairn_run_result {
	char run_id[40];
	size_t planned;
	size_t done;          /* applied or rolled back */
	size_t failed;
	size_t warnings;      /* hook failures that were only warned about */
	int64_t duration_ms;
	cairn_findings findings; /* why the run did not start, if it did not */
	char **plan;          /* dry run: "<version>_<name>" in order */
	size_t plan_count;
	/* where the failing statement was, when a migration failed */
	char failed_version[24];
	char failed_file[512];
	unsigned failed_line;
} cairn_run_result;

CAIRN_EXTERN(int) cairn_migrate_up(cairn_run_result *out,
				   const cairn_run_options *opts);
CAIRN_EXTERN(int) cairn_migrate_down(cairn_run_result *out,
				     const cairn_run_options *opts);
CAIRN_EXTERN(void) cairn_run_result_dispose(cairn_run_result *r);

/*
 * repair: --accept re-records the checksum and blob ids of an applied
 * migration from the set; --resolve deletes a failed or running row.
 * Both take the deploy lock and write an audit row.
 */
CAIRN_EXTERN(int) cairn_repair_accept(const cairn_run_options *opts,
				      const char *version);
CAIRN_EXTERN(int) cairn_repair_resolve(const cairn_run_options *opts,
				       const char *version);

/*
 * The deploy lock.  cairn_lock_acquire waits up to timeout_ms, calling
 * wait(holder) once when the lock is busy (holder describes the session
 * holding it when known).  Class CAIRN_ERRCLASS_LOCK and CAIRN_ELOCKED on
 * timeout.  It waits without holding a snapshot or a transaction, so it
 * must be called outside a transaction block.
 */
CAIRN_EXTERN(int) cairn_lock_acquire(cairn_db *db, uint64_t timeout_ms,
				     void (*wait)(const char *holder, void *p),
				     void *payload,
				     volatile sig_atomic_t *cancel);
CAIRN_EXTERN(int) cairn_lock_release(cairn_db *db);

/*
 * The deployer: "Name <email>" from git config, else the OS user, plus
 * host and CI identity in *detail_json (a JSON object; may be NULL).
 */
CAIRN_EXTERN(int) cairn_actor_describe(char **actor, char **detail_json,
				       cairn_repo *repo);
/* A random run id (UUID v4 text). */
CAIRN_EXTERN(void) cairn_run_id_new(char out[40]);

#ifdef __cplusplus
}
#endif

#endif
