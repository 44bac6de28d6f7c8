/*
 * migrate_down.c - `migrate down`: roll back applied migrations with their
 * down files, newest first, through pre_rollback/post_rollback.
 *
 * Every migration to roll back is checked before anything runs: it must
 * be at the revision with a down file that reads cleanly.  Each rollback
 * is one transaction (down SQL, tracking row deleted, audit row) unless
 * the down file says no-transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migration_empty.h"
#include "run.h"
#include "util/util.h"

/* Appends cairn's rows for a rollback: tracking row gone, audit row. */
static int delete_and_audit(run *r, cairn_buf *b, cairn_migration *m,
			    const char *duration_expr, const char *extra)
{
	cairn_buf_printf(b, "DELETE FROM %s.migrations WHERE version = ",
			 cairn_db__schema_ident(r->o->db));
	cairn_db__literal(b, m->version);
	cairn_buf_puts(b, ";\n");
	if (run__audit_sql(r, b, "post_rollback", m, NULL, NULL, "rolled_back",
			   extra, duration_expr) < 0)
		return CAIRN_ERROR;
	return cairn_buf_puts(b, ";\nCOMMIT");
}

static int rollback_no_tx(run *r, cairn_migration *m)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int64_t t0 = cairn__now_ms();
	char extra[64];
	size_t n = 0;
	int rc;

	/* the session's timeouts for the statements, reset after them */
	(void)run__add_timeouts(r, &b, &m->down_directives, false, &n);
	if (n && ((rc = cairn_buf_check(&b)) < 0 ||
		  (rc = cairn_db_exec(r->o->db, b.ptr)) < 0)) {
		cairn_buf_dispose(&b);
		return rc;
	}
	cairn_buf_clear(&b);
	rc = run__fire(r, CAIRN_EVENT_PRE_ROLLBACK, m, CAIRN_FIRE_INSIDE_TX,
		       "applied", 0, false);
	if (rc == 0)
		rc = run__exec_statements(r, m, m->down_path, m->down_sql,
					  m->down_len);
	if (n && cairn_db_is_ok(r->o->db))
		PQclear(cairn_db__exec(r->o->db,
			       "RESET statement_timeout; RESET lock_timeout"));
	if (rc == 0)
		rc = run__check_tx(r, m, m->down_path, false);
	if (rc == 0)
		rc = run__fire(r, CAIRN_EVENT_POST_ROLLBACK, m,
			       CAIRN_FIRE_INSIDE_TX, "rolled_back",
			       cairn__now_ms() - t0, false);
	if (rc < 0)
		return rc;
	snprintf(extra, sizeof(extra), "{\"duration_ms\":%lld}",
		 (long long)(cairn__now_ms() - t0));
	cairn_buf_puts(&b, RUN_BEGIN ";\n");
	if ((rc = delete_and_audit(r, &b, m, NULL, extra)) == 0)
		rc = run__send_record(r, &b, m);
	cairn_buf_dispose(&b);
	return rc;
}

/* The tracking row deleted, the audit row and the COMMIT. */
static int rolled_back_rows(run *r, cairn_buf *b, cairn_migration *m)
{
	return delete_and_audit(r, b, m,
				"jsonb_build_object('duration_ms', "
				RUN_DURATION_EXPR ")", NULL);
}

/* One rollback in its own transaction (tx_step.c says how). */
static int rollback_one(run *r, cairn_migration *m)
{
	/* the file's timeouts, else the environment's, else the defaults */
	const run_tx_step s = {
		&m->down_directives, m->down_path, m->down_sql, m->down_len,
		CAIRN_EVENT_PRE_ROLLBACK, CAIRN_EVENT_POST_ROLLBACK,
		"applied", "rolled_back", rolled_back_rows,
	};

	if (m->down_directives.no_transaction)
		return rollback_no_tx(r, m);
	return run__tx_step(r, m, &s);
}

/*
 * An empty down file rolls back nothing but the tracking row: said
 * through the run's log (it is not a reason to refuse; `-- cairn: allow
 * empty` in the down file silences it).
 */
static void warn_if_empty(run *r, const cairn_migration *m)
{
	bool empty = false;
	char line[600];

	if (cairn_migration__down_is_empty(&empty, m) < 0) {
		cairn_error_clear();
		return;
	}
	if (!empty || !r->o->log_fn)
		return;
	snprintf(line, sizeof(line),
		 "warning: the down file of %s_%s has no SQL statement: rolling it back only removes its tracking row",
		 m->version_text, m->name);
	r->o->log_fn("cairn", line, r->o->payload);
}

/*
 * Why applied row a cannot be rolled back at this revision (a finding),
 * or 0 with *m set when it can.  1: blocked.
 */
static int check_rollbackable(run *r, const cairn_applied *a,
			      cairn_migration **mp)
{
	cairn_migration *m = cairn_migration_set_find(r->o->set, a->version);

	*mp = NULL;
	if (!m) {
		if (cairn_findings_add(&r->r->findings, "missing",
			CAIRN_SEVERITY_ERROR, NULL, 0, a->version,
			"use --rev with a revision that has the migration and its down file",
			NULL, "cannot roll back %s_%s: it is not at this revision",
			a->version, a->name) < 0)
			return CAIRN_ERROR;
		return 1;
	}
	if (!m->down_path) {
		if (cairn_findings_add(&r->r->findings, "missing-down",
			CAIRN_SEVERITY_ERROR, m->up_path, 0, m->version,
			"write the down file, or undo the change with a new migration",
			NULL, "cannot roll back %s_%s: it has no down file",
			m->version_text, m->name) < 0)
			return CAIRN_ERROR;
		return 1;
	}
	if (cairn_migration_load_content(r->o->set, m) < 0)
		return CAIRN_ERROR;
	if (!m->content_ok) {
		if (cairn_findings_add(&r->r->findings, "unreadable",
			CAIRN_SEVERITY_ERROR, m->down_path, 0, m->version,
			"run 'cairn validate' for details", NULL,
			"the files of %s_%s did not pass the checks",
			m->version_text, m->name) < 0)
			return CAIRN_ERROR;
		return 1;
	}
	warn_if_empty(r, m);
	*mp = m;
	return 0;
}

/*
 * When some migrations in range cannot be rolled back, says which (all of
 * them, by name) and how far a rollback can go: down to the newest
 * blocked one (rolling back only what is above it), that is --to <its
 * version>, --steps <count>, or --as-far-as-possible, which the CLI turns
 * into that --to (code rollback-limit; rollback-blocked when nothing can
 * be rolled back at all).
 */
static int how_far(run *r, const char *blocked, size_t nblocked,
		   size_t reachable, const cairn_buf *names)
{
	char hint[400];

	if (cairn_buf_check(names) < 0)
		return CAIRN_ERROR;
	if (!reachable) {
		snprintf(hint, sizeof(hint),
			 "the newest applied migration (%s) cannot be rolled back at this revision",
			 blocked);
		return cairn_findings_add(&r->r->findings, "rollback-blocked",
			CAIRN_SEVERITY_ERROR, NULL, 0, blocked, hint, NULL,
			"nothing can be rolled back: %zu migration%s in range cannot be (%s)",
			nblocked, nblocked == 1 ? "" : "s", names->ptr);
	}
	snprintf(hint, sizeof(hint),
		 "'cairn migrate down --to %s' (or --steps %zu) rolls back what can be; add --as-far-as-possible to the same command to do that",
		 blocked, reachable);
	return cairn_findings_add(&r->r->findings, "rollback-limit",
		CAIRN_SEVERITY_ERROR, NULL, 0, blocked, hint, NULL,
		"%zu migration%s in range cannot be rolled back (%s); the lowest version a rollback can reach is %s",
		nblocked, nblocked == 1 ? "" : "s", names->ptr, blocked);
}

/*
 * The applied migrations to roll back, newest first: --steps N takes the
 * N newest, --to V those above V.  Only those are checked for a down
 * file; a failed or unfinished row anywhere stops the run (repair it
 * first).
 */
static int make_plan(run *r, cairn_migration ***out, size_t *nout)
{
	const cairn_applied_list *ap = &r->applied;
	cairn_migration **plan;
	size_t steps = r->o->steps ? r->o->steps : 1, n = 0, considered = 0;
	size_t nblocked = 0, reachable = 0;
	const char *blocked = NULL;
	cairn_buf names = CAIRN_BUF_INIT;
	char msg[600], hint[300];

	*out = NULL;
	*nout = 0;
	plan = cairn__calloc(ap->count + 1, sizeof(*plan));
	if (!plan)
		return CAIRN_ERROR;
	for (size_t k = ap->count; k-- > 0;) {
		const cairn_applied *a = &ap->items[k];
		cairn_migration *m;
		int rc;

		if (strcmp(a->status, "applied")) {
			snprintf(msg, sizeof(msg),
				 "migration %s_%s %s in an earlier run", a->version,
				 a->name, !strcmp(a->status, "failed") ? "failed" :
				 "never finished");
			snprintf(hint, sizeof(hint),
				 "check the database by hand, then run 'cairn repair --resolve %s'",
				 a->version);
			if (cairn_findings_add(&r->r->findings, "failed",
					       CAIRN_SEVERITY_ERROR, NULL, 0,
					       a->version, hint, NULL, "%s",
					       msg) < 0)
				goto fail;
			continue;
		}
		if (r->o->target) {
			if (cairn__version_cmp(a->version, r->o->target) <= 0)
				break;
		} else if (considered >= steps) {
			break;
		}
		considered++;
		if ((rc = check_rollbackable(r, a, &m)) < 0)
			goto fail;
		if (rc > 0) {
			if (!nblocked++) {
				blocked = a->version;
				reachable = n;
			}
			m = cairn_migration_set_find(r->o->set, a->version);
			cairn_buf_printf(&names, "%s%s_%s", names.size ? ", " : "",
					 m ? m->version_text : a->version, a->name);
			continue;
		}
		plan[n++] = m;
	}
	if (nblocked && how_far(r, blocked, nblocked, reachable, &names) < 0)
		goto fail;
	cairn_buf_dispose(&names);
	*out = plan;
	*nout = n;
	return 0;
fail:
	cairn_buf_dispose(&names);
	free(plan);
	return CAIRN_ERROR;
}

static const run_direction down = {
	"rollback", "nothing was rolled back", CAIRN_EVENT_PRE_ROLLBACK,
	CAIRN_EVENT_POST_ROLLBACK, "applied", "rolled_back", rollback_one,
};

int cairn_migrate_down(cairn_run_result *out, const cairn_run_options *o)
{
	return run__drive(out, o, "down", &down, make_plan, NULL, NULL);
}
