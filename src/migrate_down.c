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

#include "run.h"
#include "util.h"

static int delete_and_audit(run *r, cairn_buf *b, cairn_migration *m,
			    const char *duration_expr, const char *extra)
{
	cairn_buf_printf(b, "DELETE FROM %s.migrations WHERE version = ",
			 cairn_db__schema_ident(r->o->db));
	cairn_db__literal(b, m->version);
	cairn_buf_puts(b, "::numeric;\n");
	if (run__audit_sql(r, b, "post_rollback", m, NULL, NULL, "rolled_back",
			   extra, duration_expr) < 0)
		return CAIRN_ERROR;
	return cairn_buf_puts(b, ";\nCOMMIT");
}

static int rollback_one(run *r, cairn_migration *m)
{
	cairn_buf b = CAIRN_BUF_INIT;
	const cairn_directives *d = &m->down_directives;
	size_t prefix = 1, sql_off;
	int64_t t0 = cairn__now_ms();
	int rc;

	if (d->no_transaction) {
		rc = run__fire(r, CAIRN_EVENT_PRE_ROLLBACK, m,
			       CAIRN_FIRE_INSIDE_TX, "applied", 0, false);
		if (rc == 0)
			rc = run__exec_statements(r, m, m->down_path,
						  m->down_sql, m->down_len);
		if (rc == 0)
			rc = run__fire(r, CAIRN_EVENT_POST_ROLLBACK, m,
				       CAIRN_FIRE_INSIDE_TX, "rolled_back",
				       cairn__now_ms() - t0, false);
		if (rc == 0) {
			char extra[64];

			snprintf(extra, sizeof(extra), "{\"duration_ms\":%lld}",
				 (long long)(cairn__now_ms() - t0));
			cairn_buf_puts(&b, "BEGIN;\n");
			if ((rc = delete_and_audit(r, &b, m, NULL, extra)) == 0)
				rc = run__exec_batch(r, b.ptr, m, m->down_path,
						     NULL, 0, 0, 0);
		}
		goto out;
	}
	cairn_buf_puts(&b, "BEGIN;\n");
	if (d->statement_timeout_ms) {
		cairn_buf_printf(&b, "SET LOCAL statement_timeout = '%llums';\n",
				 (unsigned long long)d->statement_timeout_ms);
		prefix++;
	}
	if (d->lock_timeout_ms) {
		cairn_buf_printf(&b, "SET LOCAL lock_timeout = '%llums';\n",
				 (unsigned long long)d->lock_timeout_ms);
		prefix++;
	}
	if (r->in_tx_hooks[CAIRN_EVENT_PRE_ROLLBACK]) {
		if ((rc = run__exec_batch(r, b.ptr, m, m->down_path, NULL, 0,
					  0, prefix)) < 0)
			goto out;
		rc = run__fire(r, CAIRN_EVENT_PRE_ROLLBACK, m,
			       CAIRN_FIRE_INSIDE_TX, "applied", 0, true);
		if (rc < 0)
			goto rollback;
		cairn_buf_clear(&b);
		prefix = 0;
	}
	sql_off = b.size;
	cairn_buf_put(&b, m->down_sql, m->down_len);
	cairn_buf_puts(&b, "\n;\n");
	if (r->in_tx_hooks[CAIRN_EVENT_POST_ROLLBACK]) {
		if ((rc = run__exec_batch(r, b.ptr, m, m->down_path, m->down_sql,
					  m->down_len, sql_off, prefix)) < 0)
			goto out;
		rc = run__fire(r, CAIRN_EVENT_POST_ROLLBACK, m,
			       CAIRN_FIRE_INSIDE_TX, "rolled_back", 0, true);
		if (rc < 0)
			goto rollback;
		cairn_buf_clear(&b);
		sql_off = 0;
		prefix = 0;
	}
	if ((rc = delete_and_audit(r, &b, m,
				   "jsonb_build_object('duration_ms', " RUN_DURATION_EXPR ")",
				   NULL)) < 0)
		goto out;
	rc = run__exec_batch(r, b.ptr, m, m->down_path,
			     r->in_tx_hooks[CAIRN_EVENT_POST_ROLLBACK] ? NULL : m->down_sql,
			     m->down_len, sql_off, prefix);
	goto out;
rollback:
	{
		cairn_error_saved saved;

		cairn_error__save(&saved);
		PQclear(PQexec(cairn_db__conn(r->o->db), "ROLLBACK"));
		cairn_error__restore(&saved);
	}
out:
	cairn_buf_dispose(&b);
	return rc;
}

static int make_plan(run *r, cairn_migration ***out, size_t *nout)
{
	const cairn_applied_list *ap = &r->applied;
	cairn_migration **plan;
	size_t steps = r->o->steps ? r->o->steps : 1, n = 0;
	char msg[600], hint[300];

	*out = NULL;
	*nout = 0;
	plan = cairn__calloc(ap->count + 1, sizeof(*plan));
	if (!plan)
		return CAIRN_ERROR;
	for (size_t k = ap->count; k-- > 0;) {
		const cairn_applied *a = &ap->items[k];
		cairn_migration *m;

		if (strcmp(a->status, "applied")) {
			snprintf(msg, sizeof(msg),
				 "migration %s_%s %s in an earlier run", a->version,
				 a->name, !strcmp(a->status, "failed") ? "failed" :
				 "never finished");
			snprintf(hint, sizeof(hint),
				 "check the database by hand, then run 'cairn repair --resolve %s'",
				 a->version);
			cairn_findings_add(&r->r->findings, "failed",
					   CAIRN_SEVERITY_ERROR, NULL, 0,
					   a->version, hint, NULL, "%s", msg);
			continue;
		}
		if (r->o->target) {
			if (cairn__version_cmp(a->version, r->o->target) <= 0)
				break;
		} else if (n >= steps) {
			break;
		}
		m = cairn_migration_set_find(r->o->set, a->version);
		if (!m) {
			snprintf(msg, sizeof(msg),
				 "cannot roll back %s_%s: it is not at this revision",
				 a->version, a->name);
			cairn_findings_add(&r->r->findings, "missing",
				CAIRN_SEVERITY_ERROR, NULL, 0, a->version,
				"use --rev with a revision that has the migration and its down file",
				NULL, "%s", msg);
			continue;
		}
		if (!m->down_path) {
			snprintf(msg, sizeof(msg),
				 "cannot roll back %s_%s: it has no down file",
				 m->version_text, m->name);
			cairn_findings_add(&r->r->findings, "missing-down",
				CAIRN_SEVERITY_ERROR, m->up_path, 0, m->version,
				"write the down file, or undo the change with a new migration",
				NULL, "%s", msg);
			continue;
		}
		if (cairn_migration_load_content(r->o->set, m) < 0) {
			free(plan);
			return CAIRN_ERROR;
		}
		if (!m->content_ok) {
			cairn_findings_add(&r->r->findings, "unreadable",
				CAIRN_SEVERITY_ERROR, m->down_path, 0, m->version,
				"run 'cairn validate' for details", NULL,
				"the files of %s_%s did not pass the checks",
				m->version_text, m->name);
			continue;
		}
		plan[n++] = m;
	}
	*out = plan;
	*nout = n;
	return 0;
}

static const run_direction down = {
	"rollback", "nothing was rolled back", CAIRN_EVENT_PRE_ROLLBACK,
	CAIRN_EVENT_POST_ROLLBACK, "applied", "rolled_back", rollback_one,
};

int cairn_migrate_down(cairn_run_result *out, const cairn_run_options *o)
{
	return run__drive(out, o, "down", &down, make_plan, NULL, NULL);
}
