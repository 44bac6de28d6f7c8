/*
 * adopt.c - the driver shared by `cairn baseline` and `cairn import`:
 * recording migrations as applied without running them.
 *
 * Under the deploy lock (none for a dry run, which only reads):
 *
 *   1. with on_migrate (baseline_on_migrate), go on only when cairn's
 *      tracking table is empty and the database has tables of its own;
 *   2. refuse when the tracking table already has rows: adoption is the
 *      first thing cairn does to a database, never a way to rewrite it;
 *   3. the command's plan: which migrations, and what the other tool
 *      recorded about each (adopt_plan_fn), or findings saying why not;
 *   4. every planned migration's checksum (its files must pass the
 *      checks, as for `migrate up`) and provenance from git;
 *   5. one transaction: a tracking row per migration (status applied,
 *      the commit and author that brought it, the deploy revision, the
 *      other tool's who and when where it has them) and one audit row
 *      per migration (outcome `baselined` or `imported`), then COMMIT.
 *
 * A refusal is audited as `refused` with its reasons, a failure as
 * `failed`; a dry run writes nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adopt.h"
#include "applied.h"
#include "cairn/audit.h"
#include "cairn/schema.h"
#include "util/util.h"
#include "version_check.h"

int adopt__add(cairn_adopt_result *out, const char *version, const char *name,
	       const char *tool_version, const char *installed_by,
	       const char *installed_on)
{
	cairn_adopt_entry *e, *grown;

	grown = realloc(out->entries, (out->count + 1) * sizeof(*grown));
	if (!grown)
		return cairn_error__oom();
	out->entries = grown;
	e = &out->entries[out->count];
	memset(e, 0, sizeof(*e));
	e->version = cairn__strdup(version);
	e->name = cairn__strdup(name);
	e->tool_version = tool_version ? cairn__strdup(tool_version) : NULL;
	e->installed_by = installed_by ? cairn__strdup(installed_by) : NULL;
	e->installed_on = installed_on ? cairn__strdup(installed_on) : NULL;
	out->count++;
	if (!e->version || !e->name || (tool_version && !e->tool_version) ||
	    (installed_by && !e->installed_by) ||
	    (installed_on && !e->installed_on))
		return cairn_error__oom();
	return 0;
}

int adopt__refuse(cairn_adopt_result *out, const char *code,
		  const char *version, const char *hint, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cairn_findings_add(&out->findings, code, CAIRN_SEVERITY_ERROR,
				  NULL, 0, version, hint, NULL, "%s", msg);
}

void cairn_adopt_result_dispose(cairn_adopt_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++) {
		free(r->entries[i].version);
		free(r->entries[i].name);
		free(r->entries[i].tool_version);
		free(r->entries[i].installed_by);
		free(r->entries[i].installed_on);
	}
	free(r->entries);
	r->entries = NULL;
	r->count = 0;
	cairn_findings_dispose(&r->findings);
}

/* Does the database hold relations outside the system and cairn's schema? */
static int has_user_tables(bool *out, cairn_db *db)
{
	const char *params[1] = { cairn_db_schema(db) };
	PGresult *res = NULL;

	if (cairn_db__query(db, &res,
		"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
		"AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema', $1]) "
		"AND n.nspname NOT LIKE 'pg\\_%')", 1, params) < 0)
		return CAIRN_ERROR;
	*out = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	return 0;
}

/*
 * Step 1: may baseline_on_migrate go on?  Only while cairn has recorded
 * nothing (as Flyway's baselineOnMigrate acts only without a history
 * table: an empty tracking table is cairn's equivalent, so a first
 * `migrate up` that failed on "relation already exists" does not stop
 * it) and the database has tables of its own.  Sets out->skipped if not.
 */
static int on_migrate_check(cairn_db *db, const cairn_applied_list *applied,
			    cairn_adopt_result *out)
{
	bool tables = false;

	if (applied->count) {
		out->skipped = true;
		snprintf(out->skip_reason, sizeof(out->skip_reason),
			 "cairn's tracking table has rows");
		return 0;
	}
	if (has_user_tables(&tables, db) < 0)
		return CAIRN_ERROR;
	if (!tables) {
		out->skipped = true;
		snprintf(out->skip_reason, sizeof(out->skip_reason),
			 "the database has no tables of its own");
	}
	return 0;
}

/* The errors of the migration set (bad names, duplicates...) refuse too. */
static int copy_set_errors(const cairn_migration_set *set,
			   cairn_adopt_result *out)
{
	const cairn_findings *sf = cairn_migration_set_findings(set);

	for (size_t i = 0; i < sf->count; i++) {
		const cairn_finding *f = &sf->items[i];

		if (f->severity != CAIRN_SEVERITY_ERROR)
			continue;
		if (cairn_findings_add(&out->findings, f->code, f->severity,
				       f->file, f->line, f->version, f->hint,
				       f->commit, "%s", f->message) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

/* Step 4: checksums (files must pass the checks) and provenance. */
static int load_planned(run *r, cairn_adopt_result *out)
{
	const cairn_run_options *o = r->o;
	const char **versions;

	versions = cairn__calloc(out->count + 1, sizeof(*versions));
	if (!versions)
		return CAIRN_ERROR;
	for (size_t i = 0; i < out->count; i++) {
		cairn_migration *m = cairn_migration_set_find(o->set,
							      out->entries[i].version);

		versions[i] = out->entries[i].version;
		if (!m || cairn_migration_load_content(o->set, m) < 0) {
			free(versions);
			return CAIRN_ERROR;
		}
		if (!m->content_ok &&
		    adopt__refuse(out, "bad-file", m->version,
				  "run 'cairn validate' for details",
				  "the files of migration %s_%s do not pass the checks",
				  m->version_text, m->name) < 0) {
			free(versions);
			return CAIRN_ERROR;
		}
	}
	if (out->count && o->repo)
		(void)cairn_migration_set_provenance(o->set, o->repo, versions,
						     out->count);
	cairn_error_clear(); /* provenance is best effort, as for status */
	free(versions);
	return 0;
}

/* The tracking row of one adopted migration: the other tool's who/when. */
static void tracking_row(run *r, cairn_buf *b, const cairn_migration *m,
			 const cairn_adopt_entry *e, const char *tool)
{
	char who[300];

	if (!tool)
		snprintf(who, sizeof(who), "%s", r->actor);
	else if (e->installed_by)
		snprintf(who, sizeof(who), "%s (%s)", e->installed_by, tool);
	else
		snprintf(who, sizeof(who), "unknown (%s)", tool);
	run__tracking_insert(r, b, m, "applied", who, e->installed_on, "NULL");
	cairn_buf_puts(b, ";\n");
}

/* The audit detail of one adopted migration (JSON text; caller frees). */
static char *entry_detail(const cairn_adopt_options *a,
			  const cairn_adopt_result *out,
			  const cairn_adopt_entry *e)
{
	json_t *j = json_object();
	char *s;

	if (a->tool) {
		json_object_set_new(j, "tool", json_string(a->tool));
		if (e->tool_version)
			json_object_set_new(j, "tool_version",
					    json_string(e->tool_version));
		else
			json_object_set_new(j, "implied", json_true());
		if (e->installed_by)
			json_object_set_new(j, "installed_by",
					    json_string(e->installed_by));
		if (e->installed_on)
			json_object_set_new(j, "installed_on",
					    json_string(e->installed_on));
	} else {
		json_object_set_new(j, "baseline_version",
				    json_string(out->entries[out->count - 1].version));
		if (a->reason)
			json_object_set_new(j, "reason", json_string(a->reason));
		if (a->on_migrate)
			json_object_set_new(j, "baseline_on_migrate", json_true());
	}
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* Step 5: every row in one transaction. */
static int record(run *r, const cairn_adopt_options *a,
		  const cairn_adopt_result *out, const char *what,
		  const char *outcome)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int rc = 0;

	cairn_buf_puts(&b, RUN_BEGIN ";\n");
	for (size_t i = 0; i < out->count && rc == 0; i++) {
		const cairn_adopt_entry *e = &out->entries[i];
		cairn_migration *m = cairn_migration_set_find(r->o->set,
							      e->version);
		char *extra = entry_detail(a, out, e);

		if (!extra) {
			rc = cairn_error__oom();
			break;
		}
		tracking_row(r, &b, m, e, a->tool);
		rc = run__audit_sql(r, &b, what, m, NULL, NULL, outcome, extra,
				    NULL);
		cairn_buf_puts(&b, ";\n");
		free(extra);
	}
	rc = run__commit_batch(r, &b, rc);
	cairn_buf_dispose(&b);
	return rc;
}

/* The refusal's audit row: the reasons, as a list. */
static void audit_refusal(run *r, const char *what,
			  const cairn_adopt_result *out)
{
	json_t *j = json_object(), *reasons = json_array();
	char *extra;

	for (size_t i = 0; i < out->findings.count; i++)
		json_array_append_new(reasons,
				      json_string(out->findings.items[i].message));
	json_object_set_new(j, "reasons", reasons);
	if (out->tool)
		json_object_set_new(j, "tool", json_string(out->tool));
	extra = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	/* a row that cannot be written is reported through the run's log */
	if (extra && run__audit_now(r, what, NULL, "refused", extra) < 0)
		cairn_error_clear();
	free(extra);
}

/* Another deployer kept the lock: audited as refused (the error kept). */
static void audit_lock_refusal(const cairn_run_options *o, const char *what)
{
	const cairn_error *e = cairn_error_last();
	cairn_error_saved saved;
	char reason[512];

	if (!e || e->klass != CAIRN_ERRCLASS_LOCK)
		return;
	snprintf(reason, sizeof(reason), "%s", e->message);
	cairn_error__save(&saved);
	if (cairn_audit_refusal(NULL, o, what, "deploy_lock", reason, NULL) < 0)
		cairn_error_clear();
	cairn_error__restore(&saved);
}

static int refusal_error(const char *what, const cairn_adopt_result *out)
{
	const cairn_finding *f = &out->findings.items[0];

	if (out->findings.count == 1)
		cairn_error__set(CAIRN_ERRCLASS_VALIDATION, "%s refused: %s",
				 what, f->message);
	else
		cairn_error__set(CAIRN_ERRCLASS_VALIDATION,
				 "%s refused for %zu reasons", what,
				 out->findings.count);
	if (out->findings.count == 1 && f->hint)
		cairn_error__hint("%s", f->hint);
	return CAIRN_ERROR;
}

int adopt__run(cairn_adopt_result *out, const cairn_run_options *o,
	       const cairn_adopt_options *a, const char *what,
	       const char *outcome, adopt_plan_fn plan)
{
	cairn_run_options quiet;
	cairn_run_result res;
	run r;
	int rc;

	memset(out, 0, sizeof(*out));
	CAIRN__CHECK_VERSION(a, CAIRN_ADOPT_OPTIONS_VERSION, "cairn_adopt_options");
	out->tool = a->tool ? a->tool : "baseline";
	quiet = *o;
	quiet.pipeline = NULL; /* adoption runs no migration: no hooks fire */
	if ((rc = run__init(&r, &quiet, &res, what)) < 0)
		goto out;
	memcpy(out->run_id, res.run_id, sizeof(out->run_id));
	if (!o->db) {
		rc = cairn_error__set(CAIRN_ERRCLASS_USAGE,
				      "%s needs a database connection", what);
		goto out;
	}
	if (!o->dry_run) {
		if ((rc = cairn_lock_acquire(o->db, o->lock_timeout_ms,
					     o->lock_wait, o->payload,
					     o->cancel)) < 0) {
			audit_lock_refusal(&quiet, what);
			goto out;
		}
		r.locked = true;
	}
	if (!o->dry_run) {
		if ((rc = cairn_schema_ensure(o->db)) < 0 ||
		    (rc = cairn_applied__load_brief_known(&r.applied, o->db)) < 0)
			goto out;
	} else if ((rc = cairn_applied_load_brief(&r.applied, o->db)) < 0) {
		goto out;
	}
	if (a->on_migrate &&
	    ((rc = on_migrate_check(o->db, &r.applied, out)) < 0 || out->skipped))
		goto out;
	if (r.applied.count) {
		rc = adopt__refuse(out, "not-empty", NULL,
				   "baseline and import are for a database cairn has not managed yet; 'cairn status' shows what it holds",
				   "cairn's tracking table already has %zu row%s",
				   r.applied.count, r.applied.count == 1 ? "" : "s");
	} else if ((rc = copy_set_errors(o->set, out)) == 0 &&
		   (rc = plan(&r, a, out)) == 0) {
		rc = load_planned(&r, out);
	}
	if (rc < 0)
		goto failed;
	if (out->findings.count) {
		if (!o->dry_run)
			audit_refusal(&r, what, out);
		rc = refusal_error(what, out);
		goto out;
	}
	if (o->dry_run || !out->count)
		goto out;
	if ((rc = record(&r, a, out, what, outcome)) == 0)
		goto out;
failed:
	if (!o->dry_run) {
		run__set_failure(&r);
		run__audit_failure(&r, what, NULL, "failed");
		rc = run__return_failure(&r);
	}
out:
	if (r.locked && cairn_db_is_ok(o->db)) {
		cairn_error_saved s;

		cairn_error__save(&s);
		cairn_lock_release(o->db);
		cairn_error__restore(&s);
	}
	r.locked = false;
	run__dispose(&r);
	cairn_run_result_dispose(&res);
	return rc;
}
