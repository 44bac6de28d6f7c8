/*
 * run.h (internal) - the machinery every engine command shares: a run's
 * identity and context, firing the pipeline, recording hook failures,
 * writing audit rows, and sending a batch of statements for a migration
 * with errors that name the file and line.
 *
 * migrate_up.c, migrate_down.c and repair.c build on it.
 */
#ifndef CAIRN_SRC_RUN_H
#define CAIRN_SRC_RUN_H

#include "util/attrs.h"

#include "util/buf.h"
#include "cairn/engine.h"
#include "db.h"
#include "util/error.h"
#include "session.h"

typedef struct {
	char *hook;
	cairn_event event;
	char *version;
	char *name;
	char *message;
	const char *policy;
} run_hook_failure;

/* Sessions blocking a migration statement (lockwait.c); owns its strings. */
typedef struct {
	cairn_blocker *items;
	size_t count;
} run_blockers;

/* The lock wait of the batch being sent (lockwait.c). */
typedef struct {
	const cairn_migration *m;
	unsigned attempt;         /* 1-based try of the migration */
	/* --single-transaction: the try of the whole transaction (each
	 * migration's wait starts at it); 0 otherwise */
	unsigned whole_try;
	int64_t t0;               /* the try began (ms clock) */
	int64_t next_check;       /* when to ask who blocks; 0: never */
	run_blockers seen;        /* the last blockers seen in this try */
	bool reported;            /* WAITING was told for this try */
	/* the server stopped ending the wait: why cairn closed the
	 * connection (static text), or NULL */
	const char *silent;
	int64_t silent_ms;        /* how long past the timeout */
} run_lockwait;

typedef struct run {
	const cairn_run_options *o;
	cairn_run_result *r;
	const char *direction;   /* "up" or "down" */
	cairn_applied_list applied;
	char *actor;
	char *actor_detail;      /* JSON object text */
	char *meta_json;         /* JSON object text */
	void *actor_j;           /* the same two, parsed once (json_t *) */
	void *meta_j;
	struct cairn_session session;
	cairn_hook_context ctx;  /* fields shared by every event */
	int64_t t0;
	bool locked;
	bool tx_open;
	/* the last failed batch left the connection outside any transaction
	 * before cairn rolled back: the SQL had ended the transaction */
	bool batch_ended_tx;
	/* the file of the last batch ran a statement that ends or opens a
	 * transaction (seen by its command tag, whatever the splitter saw) */
	bool batch_tx_control;
	bool in_tx_hooks[CAIRN_EVENT__COUNT];
	run_hook_failure *hook_failures;
	size_t nhook_failures, ahook_failures;
	/*
	 * The hook whose veto stopped the run (noted by the observer), so
	 * the failure's audit row names it and the event it failed at.
	 */
	struct {
		char *hook, *message, *version, *name;
		cairn_event event;
	} veto;
	bool failure_audited;    /* the run's failure has its audit row */
	/* the failure that ended the run, kept across hook calls */
	bool failed;
	cairn_error_saved failure;
	cairn_error failure_pub;
	run_lockwait lw;
	/* JSON array of the blockers of the migration that gave up waiting
	 * for a lock: in the failure's audit row and on_error's context */
	char *blockers_json;
} run;

/* Sets up ids, actor, metadata, the base context and the observer. */
CAIRN_WARN_UNUSED int run__init(run *r, const cairn_run_options *o, cairn_run_result *res,
	      const char *direction);
/* Connects the pieces that need the database: lock, tracking rows. */
CAIRN_WARN_UNUSED int run__start_db(run *r);
void run__dispose(run *r);

/*
 * Fires ev for m (NULL: run level).  Returns 0 or CAIRN_EVETO with the
 * error set.
 */
CAIRN_WARN_UNUSED int run__fire(run *r, cairn_event ev, const cairn_migration *m,
	      cairn_fire_phase phase, const char *status, int64_t duration_ms,
	      bool in_tx);

/* Keeps the current error as the run's failure (first one wins). */
void run__set_failure(run *r);
/*
 * Appends the INSERT of m's tracking row (the one builder: apply, single
 * transaction, baseline and import).  applied_by NULL: the run's actor;
 * applied_at (a timestamp's text) NULL: now().  Appends are not checked one by one: the
 * buffer keeps a failure, checked before it is sent.
 */
void run__tracking_insert(run *r, cairn_buf *b, const cairn_migration *m,
			  const char *status, const char *applied_by,
			  const char *applied_at, const char *duration_sql);
/* Restores the run's failure as the current error; returns CAIRN_ERROR. */
int run__return_failure(run *r);

/*
 * Finishes a run: on failure writes the failure's audit row if nothing
 * did yet (a refusal by validation, a veto at pre/post_validate, a hook
 * failing after COMMIT...), fires on_error (with m, may be NULL), then
 * post_complete; writes pending hook-failure audit rows; releases the
 * lock.  Returns 0 or the failure's code (error set).
 */
CAIRN_WARN_UNUSED int run__finish(run *r, const cairn_migration *m, int rc);

/*
 * Appends an audit INSERT for migration m (may be NULL) to b.  extra is
 * a JSON object (may be NULL) merged into the detail; detail_expr a SQL
 * jsonb expression merged too (may be NULL).
 */
CAIRN_WARN_UNUSED int run__audit_sql(run *r, cairn_buf *b, const char *event,
		   const cairn_migration *m, const char *version,
		   const char *name, const char *outcome,
		   const char *extra_json, const char *detail_expr);
/* Writes one audit row on its own (autocommit); errors are swallowed
 * into the log when the connection is gone. */
CAIRN_WARN_UNUSED int run__audit_now(run *r, const char *event, const cairn_migration *m,
		   const char *outcome, const char *extra_json);
/*
 * Audit row for the run's failure (or the current error): the error as
 * detail.  When a hook's veto caused it, the row carries that hook's
 * event (whatever `event` says) and its name.  Marks the failure
 * audited, so run__finish does not write a second row.  A row that
 * cannot be written is reported through the run's log (as by
 * run__audit_now): the run is failing already, there is nothing else
 * to do with it.
 */
void run__audit_failure(run *r, const char *event, const cairn_migration *m,
			const char *outcome);
/* Writes audit rows for hook failures recorded so far. */
void run__flush_hook_failures(run *r);

/*
 * Sends a batch; `sql_off`/`sql_len` locate the migration's own SQL
 * inside it (for line numbers), `prefix_results` is how many results the
 * statements before it produce.  On failure sets an error naming the
 * migration, file and line, and rolls back an open transaction.
 */
CAIRN_WARN_UNUSED int run__exec_batch(run *r, const char *batch, const cairn_migration *m,
		    const char *file, const char *file_sql, size_t file_len,
		    size_t sql_off, size_t prefix_results);

/*
 * run__exec_batch() on a buffer, after cairn_buf_check(): a buffer whose
 * append failed is never sent (run_drive.c).
 */
CAIRN_WARN_UNUSED int run__send(run *r, const cairn_buf *b,
				const cairn_migration *m, const char *file,
				const char *file_sql, size_t file_len,
				size_t sql_off, size_t prefix_results);
/*
 * Sends cairn's own statements for m (tracking row, audit row, COMMIT).
 * A failure there is reported as cairn's, never as a line of m's file.
 */
CAIRN_WARN_UNUSED int run__send_record(run *r, const cairn_buf *b,
				       const cairn_migration *m);
/*
 * The second guard against transaction control in a file: after m's SQL
 * the connection must still be inside cairn's transaction (in_tx), or
 * outside any (a no-transaction migration).  Otherwise rolls back what
 * is open and fails with an error naming the file.
 */
CAIRN_WARN_UNUSED int run__check_tx(run *r, const cairn_migration *m,
				    const char *file, bool in_tx);
/*
 * After a transactional file's SQL failed: when the connection is no
 * longer in a transaction, the file ended cairn's transaction before the
 * error, so part of it may be committed.  Then the error says so (the
 * server's error kept in its detail).  No-op otherwise.
 */
void run__failed_tx_check(run *r, const cairn_migration *m,
			  const char *file);

/* Runs a statement list one at a time outside a transaction. */
CAIRN_WARN_UNUSED int run__exec_statements(run *r, const cairn_migration *m, const char *file,
			 const char *sql, size_t len);

/*
 * How cairn opens the transactions it writes its rows in: READ COMMITTED
 * whatever default_transaction_isolation says (a role's, a database's, or
 * one an earlier migration set for the session), since the audit chain's
 * trigger appends under READ COMMITTED only.
 */
#define RUN_BEGIN "BEGIN ISOLATION LEVEL READ COMMITTED"

/*
 * One transactional step (tx_step.c): a file's SQL between BEGIN and
 * cairn's rows, with the in-transaction hooks of pre and post around it.
 * rows() appends cairn's rows and the COMMIT to b.
 */
typedef struct run_tx_step {
	const cairn_directives *directives; /* the file's timeouts */
	const char *path, *sql;
	size_t len;
	cairn_event pre, post;
	const char *pre_state, *post_state; /* the hooks' migration state */
	int (*rows)(run *r, cairn_buf *b, cairn_migration *m);
} run_tx_step;

CAIRN_WARN_UNUSED int run__tx_step(run *r, cairn_migration *m,
				   const run_tx_step *s);
/* Rolls back an open transaction (r->tx_open), keeping the current error. */
void run__rollback_open(run *r);
/*
 * Sends b (a batch that began a transaction) with a COMMIT after it when
 * rc is 0; on any failure rolls back what is open.  Returns the result.
 */
CAIRN_WARN_UNUSED int run__commit_batch(run *r, cairn_buf *b, int rc);

/* The SQL expression for "milliseconds since the transaction began". */
#define RUN_DURATION_EXPR \
	"(extract(epoch from clock_timestamp() - now()) * 1000)::bigint"

/*
 * What differs between applying and rolling back: the events around each
 * migration, the statuses hooks see, and how one migration is done.
 */
typedef struct {
	const char *phase;          /* progress: "apply" | "rollback" */
	const char *nothing_done;   /* "nothing was applied" */
	cairn_event pre, post;
	const char *status_before;  /* "pending" | "applied" */
	const char *status_after;   /* "applied" | "rolled_back" */
	int (*one)(run *r, cairn_migration *m);
} run_direction;

/*
 * The shape every engine command shares: lock and read the tracking
 * table, pre_validate, make_plan (fills *plan and findings), stop on
 * error findings, provenance for the plan, check (may be NULL),
 * post_validate, then a dry-run plan or each migration through
 * d->one between d->pre and d->post, then on_error/post_complete.
 * Owns and frees the plan.  Returns 0 or the run's failure.
 */
CAIRN_WARN_UNUSED int run__drive(cairn_run_result *out, const cairn_run_options *o,
	       const char *direction, const run_direction *d,
	       int (*make_plan)(run *r, cairn_migration ***plan, size_t *n),
	       int (*check)(run *r, cairn_migration **plan, size_t n),
	       int (*whole)(run *r, cairn_migration **plan, size_t n));

/* --- lock waits, timeouts and retries (lockwait.c) ---------------------- */

/* The lock_timeout and statement_timeout a file of m runs with (ms; 0 =
 * not set by cairn), from its directives, the run's options, defaults. */
void run__timeouts(const run *r, const cairn_directives *d,
		   uint64_t *lock_ms, uint64_t *statement_ms);
/*
 * Appends "SET [LOCAL] lock_timeout/statement_timeout = ...;" for d to b
 * and adds the statements to *count.  Returns a mask of what it set:
 * RUN_SET_STATEMENT_TIMEOUT, RUN_SET_LOCK_TIMEOUT.
 */
#define RUN_SET_STATEMENT_TIMEOUT 1u
#define RUN_SET_LOCK_TIMEOUT 2u
unsigned run__add_timeouts(const run *r, cairn_buf *b,
			   const cairn_directives *d, bool local,
			   size_t *count);
/* Tries in all for a migration that gives up waiting for a lock. */
unsigned run__lock_tries(const run *r);
/* The directives of the file m runs in this direction. */
const cairn_directives *run__directives(const run *r,
					const cairn_migration *m);
/*
 * Before sending a batch of m: starts watching for a lock wait (who
 * blocks it is asked on the monitor connection once the batch seems
 * stuck, and told through lock_report).
 */
void run__lockwait_begin(run *r, const cairn_migration *m);
/* PQgetResult() that watches the lock wait while the server is busy. */
PGresult *run__next_result(run *r);
/*
 * After try `attempt` of m failed with the current error: when that is a
 * lock timeout (SQLSTATE 55P03) whose work was rolled back, writes the
 * lock_retry audit row with the blockers, then either pauses (backoff
 * with jitter; cancellable) and returns true so the caller tries again,
 * or (last try, !safe, interrupted) adds the blockers to the error and
 * returns false.  why_unsafe says why a statement that is not safe to
 * retry is not (shown in the error).  Returns false, untouched, for any
 * other error.
 */
bool run__lock_retry(run *r, const cairn_migration *m, unsigned attempt,
		     bool safe, const char *why_unsafe);
/*
 * A no-transaction file's statement, before it is run again after a lock
 * timeout: *safe says whether it may be; for CREATE INDEX CONCURRENTLY,
 * *index and *table (caller frees) name the INVALID index a timed-out
 * try leaves, to drop first.  *why says why not, when not.
 */
int run__no_tx_retry_plan(const char *stmt, size_t len, bool *safe,
			  const char **why, char **index, char **table);
/* Drops the INVALID index a timed-out CREATE INDEX CONCURRENTLY left. */
CAIRN_WARN_UNUSED int run__drop_invalid_index(run *r, const cairn_migration *m,
					      const char *file,
					      const char *index,
					      const char *table);
/* Redacts literals from a query and keeps its first max_chars. */
int run__redact_query(cairn_buf *out, const char *sql, size_t max_chars);
void run__blockers_dispose(run_blockers *b);

bool run__cancelled(const run *r);
/* Reports a progress step to the caller. */
void run__progress(run *r, const char *phase, const cairn_migration *m,
		   size_t index, size_t total);
/* "0003_add_users" */
void run__label(char *out, size_t len, const cairn_migration *m);

#endif
