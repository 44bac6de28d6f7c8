/*
 * repair.c - `cairn repair`: the two audited ways to change the tracking
 * table by hand.
 *
 *   --accept V   an applied migration's file was edited on purpose: record
 *                its current checksum and blob ids.
 *   --resolve V  a no-transaction migration failed or never finished: the
 *                operator has checked the database; delete the row so the
 *                next run applies it again.
 *
 * Both hold the deploy lock and write the change and its audit row in one
 * transaction.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "run.h"
#include "util/util.h"

static int repair(const cairn_run_options *o, const char *version,
		  bool accept)
{
	cairn_run_result res;
	run r;
	cairn_buf b = CAIRN_BUF_INIT;
	const cairn_applied *a;
	cairn_migration *m = NULL;
	char *extra = NULL;
	int rc;

	if ((rc = run__init(&r, o, &res, "repair")) < 0)
		goto out;
	if ((rc = run__start_db(&r)) < 0)
		goto out;
	a = cairn_applied_find(&r.applied, version);
	if (!a) {
		rc = cairn_error__set(CAIRN_ERRCLASS_USAGE,
				      "migration %s is not in the tracking table",
				      version);
		cairn_error__hint("'cairn status' lists what the database holds");
		goto out;
	}
	if (accept) {
		json_t *j;

		if (strcmp(a->status, "applied")) {
			rc = cairn_error__set(CAIRN_ERRCLASS_USAGE,
				"migration %s is %s, not applied: use --resolve",
				version, a->status);
			goto out;
		}
		m = cairn_migration_set_find(o->set, version);
		if (!m) {
			rc = cairn_error__set(CAIRN_ERRCLASS_USAGE,
				"migration %s is not at this revision; there is no checksum to accept",
				version);
			goto out;
		}
		if ((rc = cairn_migration_load_content(o->set, m)) < 0)
			goto out;
		if (!m->content_ok) {
			rc = cairn_error__set(CAIRN_ERRCLASS_VALIDATION,
				"the files of migration %s do not pass the checks",
				version);
			cairn_error__hint("run 'cairn validate' for details");
			goto out;
		}
		cairn_migration_set_provenance(o->set, o->repo,
					       (const char *[]){ m->version }, 1);
		cairn_error_clear();
		cairn_buf_printf(&b, RUN_BEGIN ";\nUPDATE %s.migrations SET checksum = ",
				 cairn_db__schema_ident(o->db));
		cairn_db__literal(&b, m->checksum);
		cairn_buf_puts(&b, ", up_blob = ");
		cairn_db__literal_or_null(&b, m->up_blob[0] ? m->up_blob : NULL);
		cairn_buf_puts(&b, ", down_blob = ");
		cairn_db__literal_or_null(&b, m->down_blob[0] ? m->down_blob : NULL);
		cairn_buf_puts(&b, " WHERE version = ");
		cairn_db__literal(&b, a->version);
		cairn_buf_puts(&b, ";\n");
		j = json_pack("{s:s, s:s, s:s}", "repair", "accept",
			      "old_checksum", a->checksum, "new_checksum",
			      m->checksum);
		extra = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(j);
	} else {
		json_t *j;

		if (!strcmp(a->status, "applied")) {
			rc = cairn_error__set(CAIRN_ERRCLASS_USAGE,
				"migration %s is applied, not failed: nothing to resolve",
				version);
			cairn_error__hint("to undo it, use 'cairn migrate down'");
			goto out;
		}
		m = cairn_migration_set_find(o->set, version);
		cairn_buf_printf(&b, RUN_BEGIN ";\nDELETE FROM %s.migrations WHERE version = ",
				 cairn_db__schema_ident(o->db));
		cairn_db__literal(&b, a->version);
		cairn_buf_puts(&b, ";\n");
		j = json_pack("{s:s, s:s, s:s}", "repair", "resolve",
			      "old_status", a->status, "error", a->error);
		extra = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(j);
	}
	if ((rc = run__audit_sql(&r, &b, "repair", m, a->version, a->name,
				 "repaired", extra, NULL)) < 0)
		goto out;
	cairn_buf_puts(&b, ";\nCOMMIT");
	/* a buffer that failed to grow holds a partial text: never send it */
	if ((rc = cairn_buf_check(&b)) < 0)
		goto out;
	rc = cairn_db_exec(o->db, b.ptr);
	if (rc < 0 && cairn_db_is_ok(o->db)) {
		cairn_error_saved s;

		cairn_error__save(&s);
		cairn_db_exec(o->db, "ROLLBACK");
		cairn_error__restore(&s);
	}
out:
	if (r.locked && cairn_db_is_ok(o->db)) {
		cairn_error_saved s;

		cairn_error__save(&s);
		cairn_lock_release(o->db);
		cairn_error__restore(&s);
	}
	r.locked = false;
	free(extra);
	cairn_buf_dispose(&b);
	run__dispose(&r);
	cairn_run_result_dispose(&res);
	return rc;
}

int cairn_repair_accept(const cairn_run_options *o, const char *version)
{
	return repair(o, version, true);
}

int cairn_repair_resolve(const cairn_run_options *o, const char *version)
{
	return repair(o, version, false);
}
