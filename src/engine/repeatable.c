/*
 * repeatable.c - repeatable migrations on the database side: reading
 * <schema>.repeatables and joining it with a set (status), planning the
 * ones a `migrate up` applies, and applying one through the run's
 * pipeline (include/cairn/repeatable.h).
 *
 * A repeatable goes through the same steps as a versioned migration:
 * run_drive.c's step() fires pre_execute (and the built-in lint hook
 * with it), retries lock timeouts, audits a failure and fires
 * post_execute; this file does what apply_tx/apply_no_tx in
 * migrate_up.c do for a versioned one, writing the repeatables row
 * instead of a tracking row:
 *
 *   BEGIN; SET LOCAL timeouts; [pre_execute sql hooks]; the file's SQL
 *   (check: still in the transaction; post_execute sql hooks)
 *   upsert of the row; audit row (event post_execute, outcome applied,
 *   detail.repeatable true with the checksum); COMMIT
 *
 * A `-- cairn: no-transaction` repeatable runs its statements one by
 * one, then writes its row and audit row in a transaction of their own.
 * A repeatable that fails leaves its row as it was (the old checksum),
 * so the next run applies it again; its failure is audited by step().
 *
 * Rows are joined by name; blobs are compared first, so an unchanged
 * file is never read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/schema.h"
#include "db.h"
#include "migration_empty.h"
#include "repeatable.h"
#include "util/util.h"

const char *cairn_repeatable_state_name(cairn_repeatable_state s)
{
	switch (s) {
	case CAIRN_REPEATABLE_CURRENT:
		return "current";
	case CAIRN_REPEATABLE_NEW:
		return "pending";
	case CAIRN_REPEATABLE_CHANGED:
		return "changed";
	case CAIRN_REPEATABLE_DELETED:
		return "deleted";
	}
	return "unknown";
}

bool cairn_repeatable_entry_is_due(const cairn_repeatable_entry *e)
{
	return e && (e->state == CAIRN_REPEATABLE_NEW ||
		     e->state == CAIRN_REPEATABLE_CHANGED);
}

static void row_dispose(cairn_repeatable_row *w)
{
	free(w->name);
	free(w->checksum);
	free(w->file);
	free(w->commit_sha);
	free(w->author_name);
	free(w->author_email);
	free(w->applied_at);
	free(w->applied_by);
	free(w->run_id);
}

void cairn_repeatable_status_dispose(cairn_repeatable_status *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nrows; i++)
		row_dispose(&st->rows[i]);
	free(st->rows);
	free(st->items);
	memset(st, 0, sizeof(*st));
}

/* Whether <schema>.repeatables exists (read-only commands, dry runs). */
static int table_exists(bool *out, cairn_db *db)
{
	cairn_buf sql = CAIRN_BUF_INIT, rel = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	int rc;

	*out = false;
	cairn_buf_printf(&rel, "%s.repeatables", cairn_db__schema_ident(db));
	cairn_buf_puts(&sql, "SELECT to_regclass(");
	if (cairn_buf_check(&rel) == 0)
		cairn_db__literal(&sql, rel.ptr);
	cairn_buf_puts(&sql, ") IS NOT NULL");
	rc = cairn_buf_check(&sql);
	if (rc == 0)
		rc = cairn_db__query(db, &res, sql.ptr, 0, NULL);
	if (rc == 0)
		*out = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	cairn_buf_dispose(&sql);
	cairn_buf_dispose(&rel);
	return rc;
}

#define ROW_COLUMNS 10

static int load_rows(cairn_repeatable_status *st, cairn_db *db, char ***blobs)
{
	cairn_buf sql = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	bool exists;
	int n, rc;

	*blobs = NULL;
	if (!db)
		return 0; /* a dry run without a database: nothing applied */
	if ((rc = table_exists(&exists, db)) < 0 || !exists)
		return rc;
	cairn_buf_printf(&sql,
		"SELECT name, checksum, coalesce(file, ''), "
		"coalesce(commit_sha, ''), coalesce(author_name, ''), "
		"coalesce(author_email, ''), "
		"to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
		"coalesce(applied_by, ''), coalesce(run_id, ''), "
		"coalesce(duration_ms, 0), coalesce(blob, '') "
		"FROM %s.repeatables ORDER BY name COLLATE \"C\"",
		cairn_db__schema_ident(db));
	if ((rc = cairn_buf_check(&sql)) < 0 ||
	    (rc = cairn_db__query(db, &res, sql.ptr, 0, NULL)) < 0)
		goto out;
	n = PQntuples(res);
	rc = CAIRN_ERROR;
	st->rows = cairn__calloc((size_t)n + 1, sizeof(*st->rows));
	*blobs = cairn__calloc((size_t)n + 1, sizeof(**blobs));
	if (!st->rows || !*blobs)
		goto out;
	for (int i = 0; i < n; i++) {
		cairn_repeatable_row *w = &st->rows[i];
		char **f[] = { &w->name, &w->checksum, &w->file,
			       &w->commit_sha, &w->author_name,
			       &w->author_email, &w->applied_at,
			       &w->applied_by, &w->run_id };

		st->nrows++;
		for (size_t k = 0; k < CAIRN_ARRAY_SIZE(f); k++)
			if (!(*f[k] = cairn__strdup(PQgetvalue(res, i, (int)k))))
				goto out;
		w->duration_ms = strtoll(PQgetvalue(res, i, 9), NULL, 10);
		if (!((*blobs)[i] = cairn__strdup(PQgetvalue(res, i, 10))))
			goto out;
	}
	rc = 0;
out:
	PQclear(res);
	cairn_buf_dispose(&sql);
	return rc;
}

/* The state of file m recorded as row w (blob: the row's blob id). */
static int state_of(cairn_repeatable_state *out, cairn_migration_set *set,
		    cairn_migration *m, const cairn_repeatable_row *w,
		    const char *blob)
{
	if (!w) {
		*out = CAIRN_REPEATABLE_NEW;
		return 0;
	}
	if (m->up_blob[0] && !strcmp(blob, m->up_blob) &&
	    !cairn_migration_set_is_worktree(set)) {
		*out = CAIRN_REPEATABLE_CURRENT;
		return 0;
	}
	if (cairn_migration_load_content(set, m) < 0)
		return CAIRN_ERROR;
	*out = m->content_ok && !strcmp(m->checksum, w->checksum)
		       ? CAIRN_REPEATABLE_CURRENT
		       : CAIRN_REPEATABLE_CHANGED;
	return 0;
}

static int join(cairn_repeatable_status *st, cairn_migration_set *set,
		char **blobs)
{
	size_t nf = cairn_migration_set_repeatable_count(set);
	bool *used = cairn__calloc(st->nrows + 1, sizeof(*used));

	st->items = cairn__calloc(nf + st->nrows + 1, sizeof(*st->items));
	if (!used || !st->items) {
		free(used);
		return CAIRN_ERROR;
	}
	for (size_t i = 0; i < nf; i++) {
		cairn_migration *m = cairn_migration_set_repeatable(set, i);
		cairn_repeatable_entry *e = &st->items[st->count++];
		size_t k;

		for (k = 0; k < st->nrows; k++)
			if (!strcmp(st->rows[k].name, m->name))
				break;
		e->migration = m;
		e->row = k < st->nrows ? &st->rows[k] : NULL;
		if (e->row)
			used[k] = true;
		if (state_of(&e->state, set, m, e->row,
			     e->row ? blobs[k] : "") < 0) {
			free(used);
			return CAIRN_ERROR;
		}
	}
	for (size_t k = 0; k < st->nrows; k++) {
		cairn_repeatable_entry *e;

		if (used[k])
			continue;
		e = &st->items[st->count++];
		e->row = &st->rows[k];
		e->state = CAIRN_REPEATABLE_DELETED;
	}
	free(used);
	return 0;
}

int cairn_repeatable_status_load(cairn_repeatable_status *out,
				 cairn_migration_set *set, cairn_db *db)
{
	char **blobs = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = load_rows(out, db, &blobs);
	if (rc == 0)
		rc = join(out, set, blobs);
	for (size_t i = 0; blobs && i < out->nrows; i++)
		free(blobs[i]);
	free(blobs);
	if (rc < 0)
		cairn_repeatable_status_dispose(out);
	return rc;
}

/* ---- planning ------------------------------------------------------------ */

static int notice(run *r, const char *why, size_t due)
{
	return cairn_findings_add(&r->r->findings, "repeatables-skipped",
		CAIRN_SEVERITY_NOTICE, NULL, 0, NULL,
		"run 'cairn migrate up' without it to apply them",
		NULL, "%zu repeatable migration%s not applied: %s", due,
		due == 1 ? " is" : "s are", why);
}

/* An empty repeatable is refused as an empty migration is. */
static int refuse_empty(run *r, cairn_migration *m)
{
	bool empty;

	if (!m->content_ok)
		return 0; /* loading reported why */
	if (cairn_migration__up_is_empty(&empty, m) < 0)
		return CAIRN_ERROR;
	if (!empty)
		return 0;
	return cairn_findings_add(&r->r->findings, "empty-migration",
		CAIRN_SEVERITY_ERROR, m->up_path, 0, NULL,
		"write the SQL in the file, or add '-- cairn: allow empty' if it is meant to do nothing",
		NULL, "repeatable migration %s has no SQL statement (only comments)",
		m->name);
}

int run__repeatable_plan(run *r, cairn_migration ***plan, size_t *n)
{
	cairn_repeatable_status st;
	cairn_migration **p;
	size_t due = 0, k = *n;
	int rc;

	if (!cairn_migration_set_repeatable_count(r->o->set))
		return 0;
	if ((rc = cairn_repeatable_status_load(&st, r->o->set, r->o->db)) < 0)
		return rc;
	for (size_t i = 0; i < st.count; i++)
		due += cairn_repeatable_entry_is_due(&st.items[i]);
	if (!due)
		goto out;
	if (r->o->target || r->o->single_transaction) {
		rc = notice(r, r->o->target ?
			    "'--to' applies versioned migrations only" :
			    "'--single-transaction' applies versioned migrations only",
			    due);
		goto out;
	}
	p = realloc(*plan, (k + due + 1) * sizeof(*p));
	if (!p) {
		rc = cairn_error__oom();
		goto out;
	}
	*plan = p;
	for (size_t i = 0; i < st.count && rc == 0; i++) {
		cairn_migration *m = st.items[i].migration;

		if (!cairn_repeatable_entry_is_due(&st.items[i]))
			continue;
		if ((rc = cairn_migration_load_content(r->o->set, m)) < 0 ||
		    (rc = refuse_empty(r, m)) < 0 ||
		    (rc = cairn_repeatable_provenance(r->o->set, r->o->repo,
						      m)) < 0)
			break;
		p[k++] = m;
	}
	p[k] = NULL;
	*n = k;
out:
	cairn_repeatable_status_dispose(&st);
	return rc;
}

/* ---- the row ------------------------------------------------------------- */

void repeatable__row_sql(cairn_buf *b, cairn_db *db, const repeatable_row *w)
{
	const cairn_migration *m = w->m;
	const cairn_commit_info *c = m->has_provenance ? &m->changed : NULL;
	static const char *const cols[] = {
		"checksum", "blob", "file", "no_transaction", "commit_sha",
		"author_name", "author_email", "authored_at", "deploy_rev",
		"deploy_ref", "applied_by", "applied_at", "duration_ms",
		"run_id", "cairn_version", "imported_checksum",
	};

	cairn_buf_printf(b, "INSERT INTO %s.repeatables (name",
			 cairn_db__schema_ident(db));
	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(cols); i++)
		cairn_buf_printf(b, ", %s", cols[i]);
	cairn_buf_puts(b, ") VALUES (");
	cairn_db__literal(b, m->name);
	cairn_buf_puts(b, ", ");
	cairn_db__literal(b, m->checksum);
	cairn_buf_puts(b, ", ");
	cairn_db__literal_or_null(b, m->up_blob[0] ? m->up_blob : NULL);
	cairn_buf_puts(b, ", ");
	cairn_db__literal(b, m->up_path);
	cairn_buf_printf(b, ", %s, ", m->up_directives.no_transaction ?
			 "true" : "false");
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
	cairn_db__literal_or_null(b, w->deploy_rev);
	cairn_buf_puts(b, ", ");
	cairn_db__literal_or_null(b, w->deploy_ref);
	cairn_buf_puts(b, ", ");
	cairn_db__literal(b, w->applied_by);
	cairn_buf_puts(b, ", ");
	if (w->applied_at) {
		cairn_db__literal(b, w->applied_at);
		cairn_buf_puts(b, "::timestamptz");
	} else {
		cairn_buf_puts(b, "now()");
	}
	cairn_buf_printf(b, ", %s, ", w->duration_sql);
	cairn_db__literal_or_null(b, w->run_id);
	cairn_buf_puts(b, ", ");
	cairn_db__literal(b, cairn_version());
	cairn_buf_puts(b, ", ");
	cairn_db__literal_or_null(b, w->imported_checksum);
	cairn_buf_puts(b, ") ON CONFLICT (name) DO UPDATE SET ");
	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(cols); i++)
		cairn_buf_printf(b, "%s%s = EXCLUDED.%s", i ? ", " : "",
				 cols[i], cols[i]);
}

/* ---- applying -------------------------------------------------------------- */

static void row_for(repeatable_row *w, run *r, const cairn_migration *m,
		    const char *duration_sql)
{
	memset(w, 0, sizeof(*w));
	w->m = m;
	w->applied_by = r->actor;
	w->duration_sql = duration_sql;
	w->deploy_rev = r->ctx.deploy_rev;
	w->deploy_ref = r->o->deploy_ref;
	w->run_id = r->r->run_id;
}

/* The row and the audit row, then COMMIT (a transaction is open), in b. */
static int record(run *r, cairn_buf *b, cairn_migration *m,
		  const char *duration_sql, const char *extra,
		  const char *detail_expr)
{
	repeatable_row w;
	int rc;

	row_for(&w, r, m, duration_sql);
	repeatable__row_sql(b, r->o->db, &w);
	cairn_buf_puts(b, ";\n");
	rc = run__audit_sql(r, b, "post_execute", m, NULL, NULL, "applied",
			    extra, detail_expr);
	if (rc < 0)
		return rc;
	return cairn_buf_puts(b, ";\nCOMMIT");
}

static int applied_rows(run *r, cairn_buf *b, cairn_migration *m)
{
	return record(r, b, m, RUN_DURATION_EXPR, NULL,
		      "jsonb_build_object('duration_ms', " RUN_DURATION_EXPR ")");
}

static int apply_tx(run *r, cairn_migration *m)
{
	const run_tx_step s = {
		&m->up_directives, m->up_path, m->up_sql, m->up_len,
		CAIRN_EVENT_PRE_EXECUTE, CAIRN_EVENT_POST_EXECUTE,
		"pending", "applied", applied_rows,
	};

	return run__tx_step(r, m, &s);
}

static int apply_no_tx(run *r, cairn_migration *m)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int64_t t0 = cairn__now_ms();
	char dur[32], extra[64];
	size_t n = 0;
	int rc = 0;

	run__add_timeouts(r, &b, &m->up_directives, false, &n);
	if (n && ((rc = cairn_buf_check(&b)) < 0 ||
		  (rc = cairn_db_exec(r->o->db, b.ptr)) < 0))
		goto out;
	rc = run__fire(r, CAIRN_EVENT_PRE_EXECUTE, m, CAIRN_FIRE_INSIDE_TX,
		       "pending", 0, false);
	if (rc == 0)
		rc = run__exec_statements(r, m, m->up_path, m->up_sql,
					  m->up_len);
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
		goto out;
	snprintf(dur, sizeof(dur), "%lld", (long long)(cairn__now_ms() - t0));
	snprintf(extra, sizeof(extra), "{\"duration_ms\":%s}", dur);
	cairn_buf_clear(&b);
	cairn_buf_puts(&b, RUN_BEGIN ";\n");
	if ((rc = record(r, &b, m, dur, extra, NULL)) == 0)
		rc = run__send_record(r, &b, m);
out:
	cairn_buf_dispose(&b);
	return rc;
}

int run__repeatable_apply(run *r, cairn_migration *m)
{
	return m->up_directives.no_transaction ? apply_no_tx(r, m)
					       : apply_tx(r, m);
}
