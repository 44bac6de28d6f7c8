/*
 * run_drive.c - the one sequence every engine command follows (run.h):
 *
 *   lock, read the tracking table, pre_validate, plan (findings stop the
 *   run before anything changes), provenance of the planned migrations,
 *   post_validate, then each migration between its pre and post events
 *   (or the whole plan at once, for --single-transaction), then on_error
 *   when something failed and post_complete always.
 *
 * migrate_up.c and migrate_down.c supply only what differs: how the plan
 * is made and how one migration is applied or rolled back.
 *
 * The engine's own invariants are checked here on every planned file,
 * whatever hooks are configured (lint may not be one): a file that would
 * run (the up file going up, the down file going down) must not control
 * the transaction cairn runs it in, nor end inside a quote or comment,
 * and with require_down every migration going up must have a down file.
 * They are findings, so the run stops before anything changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/sqlsplit.h"
#include "run.h"
#include "util/util.h"

/* One file of the plan: transaction control, unterminated text. */
static int check_file(run *r, const cairn_migration *m, const char *path,
		      const char *sql, size_t len)
{
	cairn_sql_problem p;

	if (!sql)
		return 0;
	if (cairn_sql_check_transactional(&p, sql, len) < 0)
		return CAIRN_ERROR;
	if (!p.found)
		return 0;
	if (p.unterminated)
		return cairn_findings_add(&r->r->findings, "unterminated",
			CAIRN_SEVERITY_ERROR, path, p.line, m->version,
			"close it: the server would read what follows differently than cairn does",
			NULL, "'%s' ends inside a %s that starts on line %u",
			path, p.what, p.line);
	if (!strcmp(p.what, CAIRN_SQL_STRING_SYNTAX))
		return cairn_findings_add(&r->r->findings, "string-syntax",
			CAIRN_SEVERITY_ERROR, path, p.line, m->version,
			"remove it: cairn splits every file with standard_conforming_strings on, as its session has it; write E'...' strings where backslash escapes are meant",
			NULL, "'%s' line %u changes standard_conforming_strings; cairn could no longer tell where its statements end",
			path, p.line);
	return cairn_findings_add(&r->r->findings, "transaction-control",
		CAIRN_SEVERITY_ERROR, path, p.line, m->version,
		"remove it: cairn runs each migration in a transaction of its own, with its tracking and audit rows (use '-- cairn: no-transaction' for statements that cannot run in one)",
		NULL, "'%s' line %u: %s controls the transaction; it would commit part of the migration without its tracking row",
		path, p.line, p.what);
}

/* The invariants every planned file must hold, as findings. */
static int check_plan_files(run *r, cairn_migration **plan, size_t n)
{
	bool up = !strcmp(r->direction, "up");
	/* a version 1 caller's struct ends before require_down */
	bool require_down = r->o->version >= 2 && r->o->require_down;

	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = plan[i];

		if (!m->content_ok)
			continue; /* loading reported why */
		if (up && check_file(r, m, m->up_path, m->up_sql,
				     m->up_len) < 0)
			return CAIRN_ERROR;
		if (!up && check_file(r, m, m->down_path, m->down_sql,
				      m->down_len) < 0)
			return CAIRN_ERROR;
		if (up && require_down && !m->down_path &&
		    cairn_findings_add(&r->r->findings, "missing-down",
			CAIRN_SEVERITY_ERROR, m->up_path, 0, m->version,
			"add the down file next to the up file, or drop require_down from the environment",
			NULL, "migration %s_%s has no down file (the environment sets require_down)",
			m->version_text, m->name) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static int plan_provenance(run *r, cairn_migration **plan, size_t n)
{
	const char **versions;
	int rc;

	if (!n)
		return 0;
	versions = cairn__calloc(n, sizeof(*versions));
	if (!versions)
		return CAIRN_ERROR;
	for (size_t i = 0; i < n; i++)
		versions[i] = plan[i]->version;
	rc = cairn_migration_set_provenance(r->o->set, r->o->repo, versions, n);
	free(versions);
	return rc;
}

static int dry_run_plan(run *r, cairn_migration **plan, size_t n)
{
	r->r->plan = cairn__calloc(n + 1, sizeof(char *));
	if (!r->r->plan)
		return CAIRN_ERROR;
	for (size_t i = 0; i < n; i++) {
		char label[300];

		run__label(label, sizeof(label), plan[i]);
		r->r->plan[i] = cairn__strdup(label);
	}
	r->r->plan_count = n;
	return 0;
}

/*
 * d->one, tried again while it gives up waiting for a lock and the
 * retries allow (lockwait.c): a transactional migration that hit its
 * lock timeout was rolled back whole, so it runs again from BEGIN, its
 * in-transaction hooks with it.  A no-transaction file retries its own
 * statements (run__exec_statements).
 */
static int one_retrying(run *r, const run_direction *d, cairn_migration *m)
{
	bool no_tx = run__directives(r, m)->no_transaction;
	int rc;

	for (unsigned attempt = 1;; attempt++) {
		rc = d->one(r, m);
		if (rc == 0 || no_tx || !run__lock_retry(r, m, attempt, true, NULL))
			return rc;
	}
}

/* One migration between its pre and post events. */
static int step(run *r, const run_direction *d, cairn_migration *m,
		size_t i, size_t n)
{
	int64_t t0;
	int rc;

	run__progress(r, d->phase, m, i, n);
	if (run__cancelled(r)) {
		char label[300];

		run__label(label, sizeof(label), m);
		rc = cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
			"interrupted before migration %s; nothing of it ran",
			label);
		run__set_failure(r);
		run__audit_failure(r, "on_error", m, "interrupted");
		return rc;
	}
	rc = run__fire(r, d->pre, m, CAIRN_FIRE_OUTSIDE_TX, d->status_before,
		       0, false);
	if (rc < 0) {
		run__set_failure(r);
		run__audit_failure(r, cairn_event_name(d->pre), m, "vetoed");
		return rc;
	}
	t0 = cairn__now_ms();
	rc = one_retrying(r, d, m);
	if (rc < 0) {
		const cairn_error *e = cairn_error_last();
		bool veto = e && e->klass == CAIRN_ERRCLASS_HOOK;
		bool intr = e && e->klass == CAIRN_ERRCLASS_INTERRUPTED;

		r->r->failed++;
		run__set_failure(r);
		run__flush_hook_failures(r);
		run__audit_failure(r, veto ? cairn_event_name(d->post) : "on_error",
				   m, intr ? "interrupted" : veto ? "vetoed" : "failed");
		return rc;
	}
	r->r->done++;
	run__flush_hook_failures(r);
	return run__fire(r, d->post, m, CAIRN_FIRE_OUTSIDE_TX, d->status_after,
			 cairn__now_ms() - t0, false);
}

int run__drive(cairn_run_result *out, const cairn_run_options *o,
	       const char *direction, const run_direction *d,
	       int (*make_plan)(run *r, cairn_migration ***plan, size_t *n),
	       int (*check)(run *r, cairn_migration **plan, size_t n),
	       int (*whole)(run *r, cairn_migration **plan, size_t n))
{
	run r;
	cairn_migration **plan = NULL, *current = NULL;
	size_t n = 0, errors;
	int rc;

	if ((rc = run__init(&r, o, out, direction)) < 0)
		goto done;
	if ((rc = run__start_db(&r)) < 0)
		goto done;
	rc = run__fire(&r, CAIRN_EVENT_PRE_VALIDATE, NULL, CAIRN_FIRE_ALL,
		       d->status_before, 0, false);
	if (rc < 0 || (rc = make_plan(&r, &plan, &n)) < 0 ||
	    (rc = check_plan_files(&r, plan, n)) < 0)
		goto finish;
	errors = cairn_findings_count(&out->findings, CAIRN_SEVERITY_ERROR);
	if (errors) {
		rc = cairn_error__set(CAIRN_ERRCLASS_VALIDATION,
			"%zu problem%s stop%s the run; %s", errors,
			errors == 1 ? "" : "s", errors == 1 ? "s" : "",
			d->nothing_done);
		goto finish;
	}
	out->planned = n;
	if ((rc = plan_provenance(&r, plan, n)) < 0 ||
	    (check && (rc = check(&r, plan, n)) < 0))
		goto finish;
	rc = run__fire(&r, CAIRN_EVENT_POST_VALIDATE, NULL, CAIRN_FIRE_ALL,
		       d->status_before, 0, false);
	if (rc < 0)
		goto finish;
	if (o->dry_run) {
		rc = dry_run_plan(&r, plan, n);
		goto done;
	}
	if (whole) {
		rc = whole(&r, plan, n);
		goto finish;
	}
	for (size_t i = 0; i < n; i++) {
		current = plan[i];
		if ((rc = step(&r, d, plan[i], i, n)) < 0)
			goto finish;
	}
	current = NULL;
	run__progress(&r, "done", NULL, n, n);
finish:
	rc = run__finish(&r, current, rc);
done:
	if (rc < 0 && !r.failed)
		run__set_failure(&r);
	if (o->dry_run && rc == 0)
		cairn_error_clear();
	free(plan);
	if (r.failed && rc < 0) {
		run__return_failure(&r);
		if (r.failure_pub.klass == CAIRN_ERRCLASS_INTERRUPTED)
			rc = CAIRN_EINTERRUPTED;
	}
	run__dispose(&r);
	return rc;
}

/* --- sending a migration's statements ------------------------------------ */

int run__send(run *r, const cairn_buf *b, const cairn_migration *m,
	      const char *file, const char *file_sql, size_t file_len,
	      size_t sql_off, size_t prefix_results)
{
	/* a buffer that failed to grow holds a partial text: never send it */
	if (cairn_buf_check(b) < 0)
		return CAIRN_ERROR;
	return run__exec_batch(r, b->ptr, m, file, file_sql, file_len, sql_off,
			       prefix_results);
}

#define RECORD_SOURCE "cairn's tracking and audit rows"

int run__send_record(run *r, const cairn_buf *b, const cairn_migration *m)
{
	const cairn_error *e;
	cairn_error_saved s;
	const char *msg, *rest, *after;
	char label[300];
	bool down;
	int rc;

	if ((rc = run__send(r, b, m, RECORD_SOURCE, NULL, 0, 0, 0)) == 0)
		return 0;
	e = cairn_error_last();
	if (!e || e->klass != CAIRN_ERRCLASS_SQL)
		return rc;
	/*
	 * The migration's own SQL had run: this is cairn's bookkeeping, so
	 * say so instead of pointing at a line of the file.
	 */
	cairn_error__save(&s);
	run__label(label, sizeof(label), m);
	msg = s.message ? strstr(s.message, " failed: ") : NULL;
	msg = msg ? msg + strlen(" failed: ") : "unknown error";
	r->r->failed_file[0] = '\0';
	r->r->failed_line = 0;
	cairn_error__set(CAIRN_ERRCLASS_SQL,
		"cannot record migration %s in cairn's tables: %s", label, msg);
	/* batch_error's detail: "<source>[: detail][ (SQLSTATE x)]" */
	rest = s.detail ? s.detail : "";
	if (!strncmp(rest, RECORD_SOURCE, strlen(RECORD_SOURCE)))
		rest += strlen(RECORD_SOURCE);
	while (*rest == ':' || *rest == ' ')
		rest++;
	down = !strcmp(r->direction, "down");
	if (!(down ? m->down_directives.no_transaction :
		     m->up_directives.no_transaction))
		after = ", so its transaction was rolled back";
	else if (down)
		after = "; the SQL ran outside a transaction and stays, and its tracking row is still there";
	else
		after = "; the SQL ran outside a transaction and stays, and its tracking row still says running";
	cairn_error__detail("The migration's SQL ran, then %s failed%s.%s%s",
			    RECORD_SOURCE, after, *rest ? " " : "", rest);
	if (s.hint)
		cairn_error__hint("%s", s.hint);
	if (s.sqlstate[0])
		cairn_error_set_sqlstate(s.sqlstate);
	cairn_error__saved_dispose(&s);
	return rc;
}

static const char *tx_status_name(PGTransactionStatusType st)
{
	switch (st) {
	case PQTRANS_IDLE:
		return "outside any transaction";
	case PQTRANS_INTRANS:
		return "inside a transaction";
	case PQTRANS_INERROR:
		return "inside a failed transaction";
	case PQTRANS_ACTIVE:
		return "still running a command";
	default:
		return "in an unknown state";
	}
}

int run__check_tx(run *r, const cairn_migration *m, const char *file,
		  bool in_tx)
{
	PGconn *conn = cairn_db__conn(r->o->db);
	PGTransactionStatusType st = PQtransactionStatus(conn);
	char label[300];

	if (st == (in_tx ? PQTRANS_INTRANS : PQTRANS_IDLE) &&
	    !(in_tx && r->batch_tx_control))
		return 0;
	run__label(label, sizeof(label), m);
	snprintf(r->r->failed_version, sizeof(r->r->failed_version), "%s",
		 m->version);
	snprintf(r->r->failed_file, sizeof(r->r->failed_file), "%s", file);
	r->r->failed_line = 0;
	if (in_tx) {
		cairn_error__set(CAIRN_ERRCLASS_SQL,
			"migration %s ended the transaction cairn runs it in", label);
		if (st == PQTRANS_INTRANS)
			cairn_error__detail("The SQL of '%s' ended cairn's transaction and opened another (the server ran a transaction statement cairn's check did not see). Part of it may have been committed without a tracking row; cairn rolled back the rest and recorded nothing for it.",
				file);
		else
			cairn_error__detail("After the SQL of '%s' the connection was %s. Part of it may have been committed without a tracking row; cairn recorded nothing for it.",
				file, tx_status_name(st));
	} else {
		cairn_error__set(CAIRN_ERRCLASS_SQL,
			"no-transaction migration %s left a transaction open", label);
		cairn_error__detail("After the SQL of '%s' the connection was %s; cairn rolled it back.",
			file, tx_status_name(st));
	}
	cairn_error__hint("remove BEGIN, COMMIT, ROLLBACK, SAVEPOINT, END and the like from the file, then check the database by hand before running 'cairn migrate' again");
	if (st != PQTRANS_IDLE && cairn_db_is_ok(r->o->db)) {
		cairn_error_saved s;

		cairn_error__save(&s);
		PQclear(cairn_db__exec(r->o->db, "ROLLBACK"));
		cairn_error__restore(&s);
	}
	r->tx_open = false;
	return CAIRN_ERROR;
}

void run__failed_tx_check(run *r, const cairn_migration *m, const char *file)
{
	cairn_error_saved s;
	char label[300];

	if (!r->batch_ended_tx)
		return;
	cairn_error__save(&s);
	run__label(label, sizeof(label), m);
	cairn_error__set(CAIRN_ERRCLASS_SQL,
		"migration %s ended the transaction cairn runs it in, then failed",
		label);
	cairn_error__detail("The SQL of '%s' failed with: %s. The file had ended the transaction cairn runs it in, so what it ran before that may have been committed without a tracking row; cairn recorded nothing for it.",
		file, s.message ? s.message : "an error");
	cairn_error__hint("check the database by hand, then remove the statement that ended the transaction (a COMMIT the server saw where cairn saw a string) before running 'cairn migrate' again");
	if (s.sqlstate[0])
		cairn_error_set_sqlstate(s.sqlstate);
	cairn_error__saved_dispose(&s);
	r->tx_open = false;
}
