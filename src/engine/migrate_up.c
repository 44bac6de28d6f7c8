/*
 * migrate_up.c - `migrate up`: apply pending migrations through the
 * pipeline (include/cairn/engine.h has the drawing).
 *
 * Per migration, two simple-query messages: BEGIN, SET LOCAL timeouts
 * from directives and the file's SQL in the first; then, once the
 * connection is seen to be still inside that transaction (a file that
 * ended it is stopped there, with no tracking row), the tracking row,
 * the audit row and COMMIT in the second.  The tracking row's duration
 * is measured by the server (clock_timestamp() - now()).  In-transaction
 * hooks run between the messages; a pre_execute one cuts the first.
 * Every batch is built with unchecked appends and checked once before
 * it is sent (buf.h): a buffer that failed is never sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/validate.h"
#include "migration_empty.h"
#include "repeatable.h"
#include "run.h"
#include "util/util.h"

void run__tracking_insert(run *r, cairn_buf *b, const cairn_migration *m,
			  const char *status, const char *applied_by,
			  const char *applied_at, const char *duration_sql)
{
	const char *s = cairn_db__schema_ident(r->o->db);
	const cairn_commit_info *c = m->has_provenance ? &m->introduced : NULL;

	cairn_buf_printf(b,
		"INSERT INTO %s.migrations (version, name, checksum, up_blob, "
		"down_blob, no_transaction, status, commit_sha, author_name, "
		"author_email, authored_at, deploy_rev, deploy_ref, applied_by, "
		"applied_at, duration_ms, cairn_version) VALUES (", s);
	cairn_db__literal(b, m->version);
	cairn_buf_puts(b, ", ");
	cairn_db__literal(b, m->name);
	cairn_buf_puts(b, ", ");
	cairn_db__literal(b, m->checksum);
	cairn_buf_puts(b, ", ");
	cairn_db__literal_or_null(b, m->up_blob[0] ? m->up_blob : NULL);
	cairn_buf_puts(b, ", ");
	cairn_db__literal_or_null(b, m->down_blob[0] ? m->down_blob : NULL);
	cairn_buf_printf(b, ", %s, ", m->up_directives.no_transaction ?
			 "true" : "false");
	cairn_db__literal(b, status);
	cairn_buf_puts(b, ", ");
	cairn_db__literal_or_null(b, c && c->sha[0] ? c->sha : NULL);
	cairn_buf_puts(b, ", ");
	cairn_db__literal_or_null(b, c ? c->author_name : NULL);
	cairn_buf_puts(b, ", ");
	cairn_db__literal_or_null(b, c ? c->author_email : NULL);
	if (c && c->sha[0])
		cairn_buf_printf(b, ", to_timestamp(%lld), ",
				 (long long)c->author_time);
	else
		cairn_buf_puts(b, ", NULL, ");
	cairn_db__literal(b, r->ctx.deploy_rev);
	cairn_buf_puts(b, ", ");
	cairn_db__literal_or_null(b, r->o->deploy_ref);
	cairn_buf_puts(b, ", ");
	cairn_db__literal(b, applied_by ? applied_by : r->actor);
	cairn_buf_puts(b, ", ");
	if (applied_at) {
		cairn_db__literal(b, applied_at);
		cairn_buf_puts(b, "::timestamptz");
	} else {
		cairn_buf_puts(b, "now()");
	}
	cairn_buf_printf(b, ", %s, ", duration_sql);
	cairn_db__literal(b, cairn_version());
	cairn_buf_puts(b, ")");
}

/* The file's timeouts, else the environment's, else the defaults
 * (lockwait.c); returns what it set. */
static unsigned add_timeouts(run *r, cairn_buf *b, const cairn_directives *d,
			     bool local, size_t *count)
{
	return run__add_timeouts(r, b, d, local, count);
}

static char *duration_json(int64_t ms)
{
	char *s = NULL;

	if (asprintf(&s, "{\"duration_ms\":%lld}", (long long)ms) < 0)
		return NULL;
	return s;
}

/* The tracking row, the audit row and the COMMIT of an applied file. */
static int applied_rows(run *r, cairn_buf *b, cairn_migration *m)
{
	run__tracking_insert(r, b, m, "applied", NULL, NULL,
			     RUN_DURATION_EXPR);
	cairn_buf_puts(b, ";\n");
	if (run__audit_sql(r, b, "post_execute", m, NULL, NULL, "applied",
			   NULL, "jsonb_build_object('duration_ms', "
			   RUN_DURATION_EXPR ")") < 0)
		return CAIRN_ERROR;
	return cairn_buf_puts(b, ";\nCOMMIT");
}

/* A migration in its own transaction (tx_step.c says how). */
static int apply_tx(run *r, cairn_migration *m)
{
	const run_tx_step s = {
		&m->up_directives, m->up_path, m->up_sql, m->up_len,
		CAIRN_EVENT_PRE_EXECUTE, CAIRN_EVENT_POST_EXECUTE,
		"pending", "applied", applied_rows,
	};

	return run__tx_step(r, m, &s);
}

/* Marks the running row of a failed no-transaction migration failed. */
static void record_no_tx_failure(run *r, cairn_migration *m, int64_t t0)
{
	cairn_error_saved saved;
	cairn_buf f = CAIRN_BUF_INIT;

	cairn_error__save(&saved);
	if (cairn_db_is_ok(r->o->db)) {
		cairn_buf_printf(&f, "UPDATE %s.migrations SET status = 'failed', "
				 "duration_ms = %lld, error = ",
				 cairn_db__schema_ident(r->o->db),
				 (long long)(cairn__now_ms() - t0));
		cairn_db__literal(&f, saved.message ? saved.message : "failed");
		cairn_buf_puts(&f, " WHERE version = ");
		cairn_db__literal(&f, m->version);
		if (!cairn_buf_failed(&f))
			PQclear(cairn_db__exec(r->o->db, f.ptr));
	}
	cairn_buf_dispose(&f);
	cairn_error__restore(&saved);
}

/* A `-- cairn: no-transaction` migration: running, run, applied/failed. */
static int apply_no_tx(run *r, cairn_migration *m)
{
	cairn_buf b = CAIRN_BUF_INIT;
	const char *s = cairn_db__schema_ident(r->o->db);
	int64_t t0 = cairn__now_ms();
	size_t n = 0;
	char *extra = NULL;
	int rc;

	run__tracking_insert(r, &b, m, "running", NULL, NULL, "NULL");
	if ((rc = cairn_buf_check(&b)) < 0 ||
	    (rc = cairn_db_exec(r->o->db, b.ptr)) < 0)
		goto out;
	cairn_buf_clear(&b);
	add_timeouts(r, &b, &m->up_directives, false, &n);
	if (n && ((rc = cairn_buf_check(&b)) < 0 ||
		  (rc = cairn_db_exec(r->o->db, b.ptr)) < 0))
		goto failed;
	rc = run__fire(r, CAIRN_EVENT_PRE_EXECUTE, m, CAIRN_FIRE_INSIDE_TX,
		       "pending", 0, false);
	if (rc == 0)
		rc = run__exec_statements(r, m, m->up_path, m->up_sql, m->up_len);
	if (rc == 0)
		rc = run__check_tx(r, m, m->up_path, false);
	if (rc == 0)
		rc = run__fire(r, CAIRN_EVENT_POST_EXECUTE, m,
			       CAIRN_FIRE_INSIDE_TX, "applied",
			       cairn__now_ms() - t0, false);
	if (n && cairn_db_is_ok(r->o->db))
		PQclear(cairn_db__exec(r->o->db,
			       "RESET statement_timeout; RESET lock_timeout"));
	if (rc < 0)
		goto failed;
	cairn_buf_clear(&b);
	cairn_buf_printf(&b, RUN_BEGIN ";\nUPDATE %s.migrations SET status = 'applied', "
			 "duration_ms = %lld, applied_at = now() WHERE version = ",
			 s, (long long)(cairn__now_ms() - t0));
	cairn_db__literal(&b, m->version);
	cairn_buf_puts(&b, ";\n");
	extra = duration_json(cairn__now_ms() - t0);
	if ((rc = run__audit_sql(r, &b, "post_execute", m, NULL, NULL,
				 "applied", extra, NULL)) < 0)
		goto out;
	cairn_buf_puts(&b, ";\nCOMMIT");
	rc = run__send_record(r, &b, m);
	goto out;
failed:
	record_no_tx_failure(r, m, t0);
out:
	free(extra);
	cairn_buf_dispose(&b);
	return rc;
}

#define SINGLE_DURATION_EXPR \
	"(extract(epoch from clock_timestamp() - " \
	"current_setting('cairn.t0')::timestamptz) * 1000)::bigint"

/* One migration of --single-transaction, inside the open transaction. */
static int single_one(run *r, cairn_buf *b, cairn_migration *m)
{
	size_t prefix = 1, sql_off;
	unsigned set;
	int rc;

	cairn_buf_clear(b);
	cairn_buf_puts(b, "SELECT set_config('cairn.t0', clock_timestamp()::text, true);\n");
	set = add_timeouts(r, b, &m->up_directives, true, &prefix);
	sql_off = b->size;
	cairn_buf_put(b, m->up_sql, m->up_len);
	cairn_buf_puts(b, "\n;\n");
	if (set & RUN_SET_STATEMENT_TIMEOUT)
		cairn_buf_puts(b, "SET LOCAL statement_timeout = DEFAULT;\n");
	if (set & RUN_SET_LOCK_TIMEOUT)
		cairn_buf_puts(b, "SET LOCAL lock_timeout = DEFAULT;\n");
	if ((rc = run__send(r, b, m, m->up_path, m->up_sql, m->up_len,
			    sql_off, prefix)) < 0) {
		run__failed_tx_check(r, m, m->up_path);
		return rc;
	}
	if ((rc = run__check_tx(r, m, m->up_path, true)) < 0)
		return rc;
	cairn_buf_clear(b);
	run__tracking_insert(r, b, m, "applied", NULL, NULL,
			     SINGLE_DURATION_EXPR);
	cairn_buf_puts(b, ";\n");
	if ((rc = run__audit_sql(r, b, "post_execute", m, NULL, NULL,
				 "applied", NULL,
				 "jsonb_build_object('duration_ms', "
				 SINGLE_DURATION_EXPR
				 ", 'single_transaction', true)")) < 0)
		return rc;
	return run__send_record(r, b, m);
}

/*
 * One try of --single-transaction: BEGIN, each migration between its
 * pre_execute and in-transaction post_execute hooks, COMMIT.  *at: the
 * migration it stopped at (n: none, or COMMIT); *sql_failed: the stop was
 * the migration's SQL or cairn's rows for it.  The pre_execute hooks
 * outside the transaction fire once per migration, however many tries
 * (*fired: how many migrations have had them), as for a migration
 * retried on its own; the in-transaction ones fire again with each try,
 * since what they did was rolled back with it.  A failed try is rolled
 * back whole.
 */
static int single_try(run *r, cairn_buf *b, cairn_migration **plan,
		      size_t n, size_t *fired, size_t *at, bool *sql_failed)
{
	size_t i;
	int rc;

	*at = n;
	*sql_failed = false;
	if ((rc = cairn_db_exec(r->o->db, RUN_BEGIN)) < 0)
		return rc;
	r->tx_open = true;
	for (i = 0; i < n && rc == 0; i++) {
		cairn_migration *m = plan[i];

		*at = i;
		run__progress(r, "apply", m, i, n);
		if (run__cancelled(r)) {
			rc = cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
					      "interrupted before migration %s_%s",
					      m->version_text, m->name);
			break;
		}
		rc = run__fire(r, CAIRN_EVENT_PRE_EXECUTE, m,
			       i < *fired ? CAIRN_FIRE_INSIDE_TX : CAIRN_FIRE_ALL,
			       "pending", 0, true);
		if (i >= *fired)
			*fired = i + 1;
		if (rc < 0)
			break;
		if ((rc = single_one(r, b, m)) < 0) {
			*sql_failed = true;
			break;
		}
		rc = run__fire(r, CAIRN_EVENT_POST_EXECUTE, m,
			       CAIRN_FIRE_INSIDE_TX, "applied", 0, true);
	}
	if (rc == 0) {
		*at = n;
		rc = cairn_db_exec(r->o->db, "COMMIT");
		r->tx_open = false;
	}
	if (rc < 0 && r->tx_open)
		run__rollback_open(r);
	r->tx_open = false;
	return rc;
}

/*
 * --single-transaction: the whole plan in one transaction, tried again
 * from BEGIN while a migration in it gives up waiting for a lock and the
 * retries allow (lockwait.c: lock_retries, backoff with jitter,
 * --no-retry).  A lock timeout rolled everything back, so the next try
 * starts from the first migration; each try that gave up is a lock_retry
 * audit row for the migration that waited.
 */
static int single_transaction(run *r, cairn_migration **plan, size_t n)
{
	cairn_buf b = CAIRN_BUF_INIT;
	size_t i, at = n, fired = 0;
	bool sql_failed = false;
	int rc = 0;

	for (unsigned attempt = 1;; attempt++) {
		r->lw.whole_try = attempt;
		rc = single_try(r, &b, plan, n, &fired, &at, &sql_failed);
		if (rc == 0 || !sql_failed || at >= n ||
		    !run__lock_retry(r, plan[at], attempt, true, NULL))
			break;
	}
	r->lw.whole_try = 0;
	cairn_buf_dispose(&b);
	if (rc < 0) {
		cairn_migration *m = at < n ? plan[at] : NULL;

		if (sql_failed)
			r->r->failed++;
		run__set_failure(r);
		run__audit_failure(r, "on_error", m,
				   r->failure_pub.klass == CAIRN_ERRCLASS_INTERRUPTED ?
				   "interrupted" : "failed");
		return rc;
	}
	r->r->done = n;
	for (i = 0; i < n; i++) {
		rc = run__fire(r, CAIRN_EVENT_POST_EXECUTE, plan[i],
			       CAIRN_FIRE_OUTSIDE_TX, "applied", 0, false);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_finding(cairn_run_result *res, const char *code,
		       const cairn_migration *m, const cairn_applied *a,
		       const char *hint, const char *msg)
{
	return cairn_findings_add(&res->findings, code, CAIRN_SEVERITY_ERROR,
				  m ? m->up_path : NULL, 0,
				  m ? m->version : a->version, hint, NULL,
				  "%s", msg);
}

/*
 * An up file without a statement would record a migration that changed
 * nothing: refused unless it says `-- cairn: allow empty`.
 */
static int refuse_if_empty(run *r, const cairn_migration *m)
{
	bool empty;
	char msg[600];

	if (cairn_migration__up_is_empty(&empty, m) < 0)
		return CAIRN_ERROR;
	if (!empty)
		return 0;
	snprintf(msg, sizeof(msg),
		 "migration %s_%s has no SQL statement (only comments)",
		 m->version_text, m->name);
	return add_finding(r->r, "empty-migration", m, NULL,
			   "write the change in the up file, or add '-- cairn: allow empty' if it is meant to do nothing",
			   msg);
}

/*
 * Decides what to apply, or why nothing may run (findings).
 */
static int make_plan(run *r, cairn_migration ***out, size_t *nout)
{
	cairn_status_entry *e = NULL;
	cairn_migration **plan = NULL;
	size_t n = 0, np = 0;
	char msg[600];
	int rc = CAIRN_ERROR;

	*out = NULL;
	*nout = 0;
	if (cairn_status_compute(&e, &n, r->o->set, &r->applied) < 0)
		return CAIRN_ERROR;
	plan = cairn__calloc(n + 1, sizeof(*plan));
	if (!plan)
		goto out;
	for (size_t i = 0; i < n; i++) {
		cairn_migration *m = e[i].migration;
		const cairn_applied *a = e[i].applied;
		const char *v = m ? m->version_text : a->version;
		const char *name = m ? m->name : a->name;

		switch (e[i].state) {
		case CAIRN_STATE_FAILED:
		case CAIRN_STATE_RUNNING:
			snprintf(msg, sizeof(msg),
				 "migration %s_%s %s in an earlier run (%s)", v, name,
				 e[i].state == CAIRN_STATE_FAILED ? "failed" :
				 "never finished", a->error[0] ? a->error : "no error recorded");
			{
				char hint[200];

				snprintf(hint, sizeof(hint),
					 "check the database by hand, then run 'cairn repair --resolve %s'",
					 a->version);
				add_finding(r->r, "failed", m, a, hint, msg);
			}
			break;
		case CAIRN_STATE_DRIFTED:
			snprintf(msg, sizeof(msg),
				 "migration %s_%s was changed after it was applied (checksum %.12s, applied %.12s)",
				 v, name, m->checksum, a->checksum);
			{
				char hint[200];

				snprintf(hint, sizeof(hint),
					 "restore the file, or if the edit is intended run 'cairn repair --accept %s'",
					 a->version);
				add_finding(r->r, "drift", m, a, hint, msg);
			}
			break;
		case CAIRN_STATE_MISSING:
			snprintf(msg, sizeof(msg),
				 "migration %s_%s is applied but absent at this revision",
				 v, name);
			add_finding(r->r, "missing", NULL, a,
				    "check out the branch that has it, or roll it back there with 'cairn migrate down'",
				    msg);
			break;
		case CAIRN_STATE_PENDING:
			if (r->o->target &&
			    cairn__version_cmp(m->version, r->o->target) > 0)
				break;
			if (e[i].out_of_order && !r->o->allow_out_of_order) {
				snprintf(msg, sizeof(msg),
					 "pending migration %s_%s is numbered below the highest applied migration",
					 v, name);
				add_finding(r->r, "out-of-order", m, NULL,
					    "renumber it above the highest applied version, or set allow_out_of_order for the environment",
					    msg);
				break;
			}
			if (cairn_migration_load_content(r->o->set, m) < 0 ||
			    refuse_if_empty(r, m) < 0)
				goto out;
			plan[np++] = m;
			break;
		case CAIRN_STATE_APPLIED:
			break;
		}
	}
	/* after every versioned one, the repeatables due (repeatable.c) */
	if (run__repeatable_plan(r, &plan, &np) < 0)
		goto out;
	{
		const cairn_findings *sf = cairn_migration_set_findings(r->o->set);

		for (size_t i = 0; i < sf->count; i++) {
			const cairn_finding *f = &sf->items[i];

			if (f->severity != CAIRN_SEVERITY_ERROR)
				continue;
			cairn_findings_add(&r->r->findings, f->code, f->severity,
					   f->file, f->line, f->version, f->hint,
					   f->commit, "%s", f->message);
		}
	}
	*out = plan;
	*nout = np;
	plan = NULL;
	rc = 0;
out:
	free(plan);
	free(e);
	return rc;
}

static int apply_one(run *r, cairn_migration *m)
{
	if (m->repeatable)
		return run__repeatable_apply(r, m);
	return m->up_directives.no_transaction ? apply_no_tx(r, m)
					       : apply_tx(r, m);
}

/* --single-transaction cannot hold a no-transaction migration. */
static int check_single(run *r, cairn_migration **plan, size_t n)
{
	if (!r->o->single_transaction)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!plan[i]->up_directives.no_transaction)
			continue;
		cairn_error__set(CAIRN_ERRCLASS_USAGE,
			"--single-transaction cannot apply migration %s_%s: it is marked no-transaction",
			plan[i]->version_text, plan[i]->name);
		cairn_error__hint("apply it on its own first (cairn migrate up --to %s), then the rest",
				  plan[i]->version);
		return CAIRN_ERROR;
	}
	return 0;
}

static const run_direction up = {
	"apply", "nothing was applied", CAIRN_EVENT_PRE_EXECUTE,
	CAIRN_EVENT_POST_EXECUTE, "pending", "applied", apply_one,
};

int cairn_migrate_up(cairn_run_result *out, const cairn_run_options *o)
{
	return run__drive(out, o, "up", &up, make_plan, check_single,
			  o->single_transaction ? single_transaction : NULL);
}

void cairn_run_result_dispose(cairn_run_result *res)
{
	cairn_findings_dispose(&res->findings);
	for (size_t i = 0; i < res->plan_count; i++)
		free(res->plan[i]);
	free(res->plan);
	res->plan = NULL;
	res->plan_count = 0;
}
