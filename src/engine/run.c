/*
 * run.c - the machinery shared by migrate up, migrate down and repair
 * (see run.h).
 *
 * Hook failures are noted by the pipeline observer and written to the
 * audit table only at safe points (after a COMMIT or ROLLBACK), because a
 * failing in-transaction hook leaves the transaction unusable.  The run's
 * own failure is saved away before hooks fire, since every hook call
 * clears the thread's error, and restored when the run returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "applied.h"
#include "audit.h"
#include "cairn/audit.h"
#include "cairn/schema.h"
#include "cairn/sqlsplit.h"
#include "run.h"
#include "util/util.h"
#include "version_check.h"

bool run__cancelled(const run *r)
{
	return r->o->cancel && *r->o->cancel;
}

void run__label(char *out, size_t len, const cairn_migration *m)
{
	if (m->repeatable) /* no version (include/cairn/repeatable.h) */
		snprintf(out, len, "%s (repeatable)", m->name);
	else
		snprintf(out, len, "%s_%s", m->version_text, m->name);
}

void run__progress(run *r, const char *phase, const cairn_migration *m,
		   size_t index, size_t total)
{
	cairn_progress p;

	if (!r->o->progress)
		return;
	p.phase = phase;
	p.migration = m;
	p.index = index;
	p.total = total;
	p.elapsed_ms = cairn__now_ms() - r->t0;
	r->o->progress(&p, r->o->payload);
}

/* Notes the hook whose veto is about to stop the run (the first one). */
static void note_veto(run *r, const cairn_hook_outcome *oc, const char *msg)
{
	if (r->veto.hook || r->failed)
		return;
	r->veto.hook = strdup(oc->hook->name);
	r->veto.message = strdup(msg);
	r->veto.event = oc->ctx->event;
	if (oc->ctx->migration) {
		r->veto.version = strdup(oc->ctx->migration->version);
		r->veto.name = strdup(oc->ctx->migration->name);
	}
}

static void observe(const cairn_hook_outcome *oc, void *payload)
{
	run *r = payload;
	run_hook_failure *f;
	const char *msg;
	char line[1024];

	if (oc->skipped || oc->rc == 0)
		return;
	/* on_failure: ignore goes on silently (include/cairn/hook.h) */
	if (oc->hook->on_failure == CAIRN_ON_FAILURE_IGNORE)
		return;
	msg = oc->error && oc->error->message ? oc->error->message : "failed";
	/* a veto is reported, and audited, as the run's own failure */
	if (oc->hook->on_failure == CAIRN_ON_FAILURE_ABORT &&
	    cairn_event_may_veto(oc->ctx->event)) {
		note_veto(r, oc, msg);
		return;
	}
	if (r->o->log_fn) {
		snprintf(line, sizeof(line), "hook '%s' failed at %s (on_failure %s): %s",
			 oc->hook->name, cairn_event_name(oc->ctx->event),
			 cairn_on_failure_name(oc->hook->on_failure), msg);
		r->o->log_fn("cairn", line, r->o->payload);
	}
	if (cairn__grow_array((void **)&r->hook_failures, &r->ahook_failures,
			      r->nhook_failures + 1, sizeof(*f)) < 0)
		return;
	f = &r->hook_failures[r->nhook_failures++];
	memset(f, 0, sizeof(*f));
	f->hook = strdup(oc->hook->name);
	f->event = oc->ctx->event;
	if (oc->ctx->migration) {
		f->version = strdup(oc->ctx->migration->version);
		f->name = strdup(oc->ctx->migration->name);
	}
	f->message = strdup(msg);
	f->policy = cairn_on_failure_name(oc->hook->on_failure);
	if (oc->hook->on_failure == CAIRN_ON_FAILURE_WARN ||
	    !cairn_event_may_veto(oc->ctx->event))
		r->r->warnings++;
}

static void run_log(const char *source, const char *text, void *payload)
{
	run *r = payload;

	if (r->o->log_fn)
		r->o->log_fn(source, text, r->o->payload);
}

int run__init(run *r, const cairn_run_options *o, cairn_run_result *res,
	      const char *direction)
{
	json_t *meta;

	memset(r, 0, sizeof(*r));
	memset(res, 0, sizeof(*res));
	CAIRN__CHECK_VERSION(o, CAIRN_RUN_OPTIONS_VERSION, "cairn_run_options");
	r->o = o;
	r->r = res;
	r->direction = direction;
	r->t0 = cairn__now_ms();
	cairn_run_id_new(res->run_id);
	if (o->actor)
		r->actor = cairn__strdup(o->actor);
	{
		char *a = NULL, *d = NULL;

		if (cairn_actor_describe(&a, &d, o->repo) < 0)
			return CAIRN_ERROR;
		if (!r->actor)
			r->actor = a;
		else
			free(a);
		r->actor_detail = d;
	}
	meta = json_object();
	for (size_t i = 0; i < o->metadata_count; i++) {
		json_t *v = json_string(o->metadata[i].value ? o->metadata[i].value : "");

		if (v && o->metadata[i].key)
			json_object_set_new(meta, o->metadata[i].key, v);
	}
	r->meta_json = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
	/* audit rows reuse these instead of parsing them again per row */
	r->meta_j = json_object_size(meta) ? meta : NULL;
	if (!r->meta_j)
		json_decref(meta);
	r->actor_j = r->actor_detail ? json_loads(r->actor_detail, 0, NULL) : NULL;

	r->session.db = o->db;
	r->session.repo_workdir = o->workdir;
	r->session.cancel = o->cancel;
	r->ctx.version = CAIRN_HOOK_CONTEXT_VERSION;
	r->ctx.environment = o->environment ? o->environment : "development";
	r->ctx.run_id = res->run_id;
	r->ctx.direction = direction;
	r->ctx.status = "pending";
	r->ctx.metadata = o->metadata;
	r->ctx.metadata_count = o->metadata_count;
	r->ctx.deploy_rev = o->deploy_rev ? o->deploy_rev : "";
	r->ctx.deploy_ref = o->deploy_ref ? o->deploy_ref : "";
	r->ctx.actor = r->actor;
	r->ctx.database = o->db ? cairn_db_description(o->db) : "";
	r->ctx.dry_run = o->dry_run;
	r->ctx.session = &r->session;
	r->ctx.log_fn = run_log;
	r->ctx.log_payload = r;
	if (o->pipeline) {
		cairn_pipeline_set_observer(o->pipeline, observe, r);
		for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++) {
			size_t n = cairn_pipeline_count(o->pipeline, (cairn_event)ev);

			for (size_t i = 0; i < n; i++)
				if (cairn_pipeline_get(o->pipeline, (cairn_event)ev, i)->in_transaction)
					r->in_tx_hooks[ev] = true;
		}
	}
	if (!r->actor || !r->meta_json)
		return cairn_error__oom();
	return 0;
}

int run__start_db(run *r)
{
	if (!r->o->db)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"this command needs a database connection");
	/* a dry run changes nothing and takes no lock */
	if (!r->o->dry_run) {
		/* a standby or read-only target: refused before any hook */
		if (cairn_db_check_writable(r->o->db,
			!strcmp(r->direction, "up") ? "apply migrations" :
			!strcmp(r->direction, "down") ? "roll back migrations" :
			"repair the tracking table") < 0)
			return CAIRN_ERROR;
		if (cairn_lock_acquire(r->o->db, r->o->lock_timeout_ms,
				       r->o->lock_wait, r->o->payload,
				       r->o->cancel) < 0)
			return CAIRN_ERROR;
		r->locked = true;
		/* a run that writes creates cairn's tables (reading does not),
		 * so the read below needs no probe of its own */
		if (cairn_schema_ensure(r->o->db) < 0)
			return CAIRN_ERROR;
		/* read after the lock: a run that just finished is seen */
		return cairn_applied__load_brief_known(&r->applied, r->o->db);
	}
	return cairn_applied_load_brief(&r->applied, r->o->db);
}

void run__dispose(run *r)
{
	if (r->o && r->o->pipeline)
		cairn_pipeline_set_observer(r->o->pipeline, NULL, NULL);
	cairn_applied_list_dispose(&r->applied);
	for (size_t i = 0; i < r->nhook_failures; i++) {
		free(r->hook_failures[i].hook);
		free(r->hook_failures[i].version);
		free(r->hook_failures[i].name);
		free(r->hook_failures[i].message);
	}
	free(r->hook_failures);
	free(r->veto.hook);
	free(r->veto.message);
	free(r->veto.version);
	free(r->veto.name);
	free(r->actor);
	free(r->actor_detail);
	free(r->meta_json);
	json_decref(r->actor_j);
	json_decref(r->meta_j);
	run__blockers_dispose(&r->lw.seen);
	free(r->blockers_json);
	cairn_error__saved_dispose(&r->failure);
}

void run__set_failure(run *r)
{
	if (r->failed)
		return;
	r->failed = true;
	cairn_error__save(&r->failure);
	if (!r->failure.set) {
		r->failure.set = true;
		r->failure.klass = CAIRN_ERRCLASS_HOOK;
		r->failure.message = strdup("the run failed");
	}
	r->failure_pub.klass = r->failure.klass;
	r->failure_pub.message = r->failure.message ? r->failure.message : "the run failed";
	r->failure_pub.detail = r->failure.detail;
	r->failure_pub.hint = r->failure.hint;
	r->failure_pub.sqlstate = r->failure.sqlstate[0] ? r->failure.sqlstate : NULL;
}

int run__return_failure(run *r)
{
	cairn_error_clear();
	cairn_error__set(r->failure_pub.klass, "%s", r->failure_pub.message);
	if (r->failure_pub.detail)
		cairn_error__detail("%s", r->failure_pub.detail);
	if (r->failure_pub.hint)
		cairn_error__hint("%s", r->failure_pub.hint);
	if (r->failure_pub.sqlstate)
		cairn_error_set_sqlstate(r->failure_pub.sqlstate);
	return CAIRN_ERROR;
}

int run__fire(run *r, cairn_event ev, const cairn_migration *m,
	      cairn_fire_phase phase, const char *status, int64_t duration_ms,
	      bool in_tx)
{
	cairn_hook_context c;

	if (!r->o->pipeline || r->o->dry_run)
		return 0;
	if (phase == CAIRN_FIRE_INSIDE_TX && !r->in_tx_hooks[ev])
		return 0;
	c = r->ctx;
	c.event = ev;
	c.migration = m;
	c.status = status;
	c.duration_ms = duration_ms;
	c.error = r->failed ? &r->failure_pub : NULL;
	c.planned = r->r->planned;
	c.done = r->r->done;
	c.failed = r->r->failed;
	c.in_transaction = in_tx;
	/* who blocked a migration that gave up waiting for a lock */
	c.blockers_json = r->failed ? r->blockers_json : NULL;
	return cairn_pipeline_fire(r->o->pipeline, &c, phase, NULL);
}

int run__audit_sql(run *r, cairn_buf *b, const char *event,
		   const cairn_migration *m, const char *version,
		   const char *name, const char *outcome,
		   const char *extra_json, const char *detail_expr)
{
	cairn_audit_row row;
	json_t *detail = json_object(), *extra = NULL, *j;
	char author[600] = "";
	char *detail_txt;
	int rc;

	memset(&row, 0, sizeof(row));
	json_object_set_new(detail, "direction", json_string(r->direction));
	if (m) {
		if ((j = json_string(m->up_path)))
			json_object_set_new(detail, "file", j);
		if (m->checksum[0])
			json_object_set_new(detail, "checksum", json_string(m->checksum));
		if (m->repeatable)
			json_object_set_new(detail, "repeatable", json_true());
	}
	if (r->actor_j)
		json_object_set(detail, "actor", r->actor_j);
	if (r->meta_j)
		json_object_set(detail, "metadata", r->meta_j);
	if (r->o->deploy_ref)
		json_object_set_new(detail, "deploy_ref", json_string(r->o->deploy_ref));
	if (r->o->version >= 2 && r->o->config_origin &&
	    (j = json_string(r->o->config_origin)))
		json_object_set_new(detail, "config", j);
	if (extra_json && (extra = json_loads(extra_json, 0, NULL)))
		json_object_update(detail, extra);
	json_decref(extra);
	detail_txt = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(detail);
	if (!detail_txt)
		return cairn_error__oom();

	row.run_id = r->r->run_id;
	row.environment = r->ctx.environment;
	row.event = event;
	row.version = m ? m->version : version;
	if (row.version && !row.version[0])
		row.version = NULL; /* a repeatable has none */
	row.name = m ? m->name : name;
	if (m && m->has_provenance && m->introduced.sha[0]) {
		row.commit_sha = m->introduced.sha;
		snprintf(author, sizeof(author), "%s <%s>",
			 m->introduced.author_name ? m->introduced.author_name : "",
			 m->introduced.author_email ? m->introduced.author_email : "");
		row.author = author;
	}
	row.actor = r->actor;
	row.deploy_rev = r->ctx.deploy_rev;
	row.outcome = outcome;
	row.detail_json = detail_txt;
	rc = cairn_audit__sql(b, r->o->db, &row, detail_expr);
	free(detail_txt);
	return rc;
}

/* One row on its own; version/name stand in when m is NULL. */
static int audit_now_named(run *r, const char *event, const cairn_migration *m,
			   const char *version, const char *name,
			   const char *outcome, const char *extra_json)
{
	cairn_buf b = CAIRN_BUF_INIT;
	cairn_error_saved saved;
	int rc;

	if (!r->o->db || !cairn_db_is_ok(r->o->db))
		return 0;
	cairn_error__save(&saved);
	rc = run__audit_sql(r, &b, event, m, version, name, outcome,
			    extra_json, NULL);
	if (rc == 0)
		rc = cairn_db_exec(r->o->db, b.ptr);
	if (rc < 0 && r->o->log_fn) {
		const cairn_error *e = cairn_error_last();
		char line[512];

		snprintf(line, sizeof(line), "cannot write the audit row: %s",
			 e ? e->message : "unknown error");
		r->o->log_fn("cairn", line, r->o->payload);
	}
	cairn_buf_dispose(&b);
	cairn_error__restore(&saved);
	return rc;
}

int run__audit_now(run *r, const char *event, const cairn_migration *m,
		   const char *outcome, const char *extra_json)
{
	return audit_now_named(r, event, m, NULL, NULL, outcome, extra_json);
}

/* At most this many findings go into a refusal's audit row. */
#define AUDIT_MAX_FINDINGS 100

static json_t *findings_json(const cairn_findings *f)
{
	json_t *a = json_array();

	for (size_t i = 0; f && i < f->count && i < AUDIT_MAX_FINDINGS; i++) {
		const cairn_finding *x = &f->items[i];

		json_array_append_new(a, json_pack("{s:s?, s:s?, s:s?, s:s?}",
						   "code", x->code,
						   "version", x->version,
						   "file", x->file,
						   "message", x->message));
	}
	return a;
}

/*
 * The detail of a failure row: the error; the vetoing hook when hook;
 * the check that refused the run and its findings when refused_by.
 */
static char *failure_json(const run *r, const cairn_error *e, bool hook,
			  const char *refused_by, const cairn_findings *f)
{
	json_t *o = json_object(), *err = json_object(), *j;
	char *txt;

	if (e) {
		if ((j = json_string(e->message)))
			json_object_set_new(err, "message", j);
		if (e->detail && (j = json_string(e->detail)))
			json_object_set_new(err, "detail", j);
		if (e->hint && (j = json_string(e->hint)))
			json_object_set_new(err, "hint", j);
		if (e->sqlstate)
			json_object_set_new(err, "sqlstate", json_string(e->sqlstate));
		json_object_set_new(err, "class", json_string(cairn_error_class_name(e->klass)));
	}
	json_object_set_new(o, "error", err);
	if (hook) {
		if ((j = json_string(r->veto.hook)))
			json_object_set_new(o, "hook", j);
		json_object_set_new(o, "on_failure", json_string("abort"));
	}
	if (r->blockers_json && (j = json_loads(r->blockers_json, 0, NULL)))
		json_object_set_new(o, "blockers", j);
	if (refused_by) {
		json_object_set_new(o, "refused_by", json_string(refused_by));
		if (f && f->count)
			json_object_set_new(o, "findings", findings_json(f));
	}
	txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return txt;
}

void run__audit_failure(run *r, const char *event, const cairn_migration *m,
			const char *outcome)
{
	const cairn_error *e = r->failed ? &r->failure_pub : cairn_error_last();
	bool hook = r->veto.hook && e && e->klass == CAIRN_ERRCLASS_HOOK;
	bool refused = e && e->klass == CAIRN_ERRCLASS_VALIDATION;
	const char *version = NULL, *name = NULL;
	char *extra;

	if (hook) {
		/* the event the hook failed at, not the caller's guess */
		event = cairn_event_name(r->veto.event);
		if (!strcmp(outcome, "failed"))
			outcome = "vetoed";
		if (!m) {
			version = r->veto.version;
			name = r->veto.name;
		}
	}
	extra = failure_json(r, e, hook, refused ? "validation" : NULL,
			     &r->r->findings);
	/* a row that cannot be written is logged by audit_now_named */
	if (audit_now_named(r, event, m, version, name, outcome, extra) < 0)
		cairn_error_clear();
	r->failure_audited = true;
	free(extra);
}

void run__flush_hook_failures(run *r)
{
	for (size_t i = 0; i < r->nhook_failures; i++) {
		run_hook_failure *f = &r->hook_failures[i];
		cairn_buf b = CAIRN_BUF_INIT;
		json_t *o;
		char *extra;

		if (!r->o->db || !cairn_db_is_ok(r->o->db))
			break;
		o = json_pack("{s:s?, s:s?, s:s}", "hook", f->hook, "error",
			      f->message, "on_failure", f->policy);
		extra = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(o);
		if (run__audit_sql(r, &b, cairn_event_name(f->event), NULL,
				   f->version, f->name,
				   !strcmp(f->policy, "warn") ? "hook_warned" : "hook_failed",
				   extra, NULL) == 0)
			cairn_db_exec(r->o->db, b.ptr);
		cairn_error_clear();
		cairn_buf_dispose(&b);
		free(extra);
		free(f->hook);
		free(f->version);
		free(f->name);
		free(f->message);
	}
	r->nhook_failures = 0;
}

int run__finish(run *r, const cairn_migration *m, int rc)
{
	cairn_error_saved saved;

	if (rc < 0)
		run__set_failure(r);
	if (r->failed && !r->failure_audited && !r->o->dry_run) {
		/* a failure nothing recorded yet: a refusal, a veto at a
		 * run-level event, a hook failing after COMMIT... */
		cairn_error_class k = r->failure_pub.klass;

		run__audit_failure(r, k == CAIRN_ERRCLASS_VALIDATION ?
				   "pre_validate" : "on_error", m,
				   k == CAIRN_ERRCLASS_VALIDATION ? "refused" :
				   k == CAIRN_ERRCLASS_INTERRUPTED ?
				   "interrupted" : "failed");
	}
	/*
	 * on_error and post_complete cannot veto: a hook failing there was
	 * reported (and audited) by the observer, and the run's result
	 * stays what it was.
	 */
	if (r->failed &&
	    run__fire(r, CAIRN_EVENT_ON_ERROR, m, CAIRN_FIRE_ALL, "failed",
		      cairn__now_ms() - r->t0, false) < 0)
		cairn_error_clear();
	if (run__fire(r, CAIRN_EVENT_POST_COMPLETE, NULL, CAIRN_FIRE_ALL,
		      r->failed ? "failed" : (!strcmp(r->direction, "down") ?
					      "rolled_back" : "applied"),
		      cairn__now_ms() - r->t0, false) < 0)
		cairn_error_clear();
	r->r->duration_ms = cairn__now_ms() - r->t0;
	cairn_error__save(&saved);
	run__flush_hook_failures(r);
	if (r->locked && cairn_db_is_ok(r->o->db))
		cairn_lock_release(r->o->db);
	r->locked = false;
	cairn_error__saved_dispose(&saved);
	if (r->failed)
		return run__return_failure(r);
	cairn_error_clear();
	return 0;
}

/* How long a refusal's row waits for the chain lock. */
#define REFUSAL_LOCK_TIMEOUT "10s"

int cairn_audit_refusal(char run_id[40], const cairn_run_options *o,
			const char *direction, const char *check,
			const char *reason, const cairn_findings *findings)
{
	cairn_run_options quiet = *o;
	cairn_run_result res;
	cairn_error why;
	cairn_buf sql = CAIRN_BUF_INIT;
	run r;
	char *extra = NULL;
	int rc;

	if (run_id)
		run_id[0] = '\0';
	if (!o->db || o->dry_run)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"a refusal is recorded only for a real run with a database");
	quiet.pipeline = NULL; /* no hooks fire for a run that never started */
	if ((rc = run__init(&r, &quiet, &res, direction)) < 0)
		goto out;
	memset(&why, 0, sizeof(why));
	why.klass = CAIRN_ERRCLASS_VALIDATION;
	why.message = reason ? reason : "the run was refused";
	extra = failure_json(&r, &why, false, check ? check : "validation",
			     findings);
	if (!extra) {
		rc = cairn_error__oom();
		goto out;
	}
	/*
	 * No deploy lock is held here: the chain trigger takes the chain's
	 * own lock inside the insert's transaction, which is all an append
	 * needs.  A deploy holding that lock for long (a single-transaction
	 * run) makes the wait give up rather than hang.
	 */
	if ((rc = cairn_schema_ensure(o->db)) < 0 ||
	    (rc = cairn_buf_puts(&sql, RUN_BEGIN ";\nSET LOCAL lock_timeout = '"
				 REFUSAL_LOCK_TIMEOUT "';\n")) < 0 ||
	    (rc = run__audit_sql(&r, &sql, "pre_validate", NULL, NULL, NULL,
				 "refused", extra, NULL)) < 0 ||
	    (rc = cairn_buf_puts(&sql, ";\nCOMMIT")) < 0)
		goto out;
	if ((rc = cairn_db_exec(o->db, sql.ptr)) < 0) {
		cairn_error_saved saved;

		cairn_error__save(&saved);
		if (cairn_db_is_ok(o->db) &&
		    PQtransactionStatus(cairn_db__conn(o->db)) != PQTRANS_IDLE)
			PQclear(cairn_db__exec(o->db, "ROLLBACK"));
		cairn_error__restore(&saved);
		goto out;
	}
	if (run_id)
		memcpy(run_id, res.run_id, sizeof(res.run_id));
out:
	cairn_buf_dispose(&sql);
	free(extra);
	run__dispose(&r);
	cairn_run_result_dispose(&res);
	return rc;
}

/* Byte offset of the pos-th character (1-based) of s, UTF-8. */
static size_t char_to_byte(const char *s, long pos)
{
	size_t i = 0;
	long chars = 1;

	while (s[i] && chars < pos) {
		unsigned char c = (unsigned char)s[i];

		i += c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
		chars++;
	}
	return i;
}

static int batch_error(run *r, PGresult *res, const cairn_migration *m,
		       const char *file, const char *batch, const char *file_sql,
		       size_t file_len, size_t sql_off, size_t stmt_index)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
	char label[300];
	unsigned line = 0;
	cairn_buf d = CAIRN_BUF_INIT;

	run__label(label, sizeof(label), m);
	if (pos && batch) {
		size_t off = char_to_byte(batch, strtol(pos, NULL, 10));

		if (off >= sql_off && off < sql_off + file_len)
			line = cairn_sql_line_of(file_sql, file_len, off - sql_off);
	}
	if (!line && file_sql) {
		cairn_sql_statements st = CAIRN_SQL_STATEMENTS_INIT;

		if (cairn_sql_split(&st, file_sql, file_len) == 0 &&
		    stmt_index < st.count)
			line = st.items[stmt_index].line;
		cairn_sql_statements_dispose(&st);
	}
	if (!cairn_db_is_ok(r->o->db)) {
		const char *cm = PQerrorMessage(cairn_db__conn(r->o->db));
		size_t len = strlen(cm);

		while (len && cm[len - 1] == '\n')
			len--;
		cairn_error__set(CAIRN_ERRCLASS_DB,
			"the connection to the database was lost during migration %s",
			label);
		if (r->lw.silent)
			cairn_error__detail("cairn closed the connection: %s (waited %.1f s). The migration's transaction was not committed.",
					    r->lw.silent,
					    (double)r->lw.silent_ms / 1000.0);
		else
			cairn_error__detail("%.*s The migration's transaction was not committed.",
					    (int)len, cm);
		cairn_error__hint("check the server, then run 'cairn migrate' again");
		return CAIRN_ERROR;
	}
	if (run__cancelled(r)) {
		cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
			"interrupted during migration %s; its transaction was rolled back",
			label);
		return CAIRN_EINTERRUPTED;
	}
	snprintf(r->r->failed_version, sizeof(r->r->failed_version), "%s",
		 m->version);
	snprintf(r->r->failed_file, sizeof(r->r->failed_file), "%s", file);
	r->r->failed_line = line;
	if (line)
		cairn_buf_printf(&d, "%s line %u", file, line);
	else
		cairn_buf_printf(&d, "%s", file);
	if (detail)
		cairn_buf_printf(&d, ": %s", detail);
	if (state)
		cairn_buf_printf(&d, " (SQLSTATE %s)", state);
	cairn_error__set(CAIRN_ERRCLASS_SQL, "migration %s failed: %s", label,
			 msg ? msg : (res ? PQresultErrorMessage(res) : "unknown error"));
	cairn_error__detail("%s", d.ptr);
	if (hint)
		cairn_error__hint("%s", hint);
	if (state)
		cairn_error_set_sqlstate(state);
	cairn_buf_dispose(&d);
	return CAIRN_ERROR;
}

/*
 * Whether a result's command tag says a transaction ended or began (COMMIT,
 * END, ROLLBACK, ABORT, COMMIT AND CHAIN, BEGIN, START TRANSACTION,
 * PREPARE TRANSACTION).  The static check (run_drive.c) rejects these
 * statements before anything runs; this catches one it did not see.
 */
static bool tx_control_tag(const PGresult *res)
{
	static const char *const tags[] = {
		"COMMIT", "ROLLBACK", "BEGIN", "START TRANSACTION",
		"PREPARE TRANSACTION",
	};
	const char *tag = PQcmdStatus((PGresult *)res);

	for (size_t i = 0; tag && i < CAIRN_ARRAY_SIZE(tags); i++)
		if (!strcmp(tag, tags[i]))
			return true;
	return false;
}

int run__exec_batch(run *r, const char *batch, const cairn_migration *m,
		    const char *file, const char *file_sql, size_t file_len,
		    size_t sql_off, size_t prefix_results)
{
	PGconn *conn = cairn_db__conn(r->o->db);
	PGresult *res, *err = NULL;
	size_t nres = 0, err_index = 0;
	int rc = 0;

	r->batch_ended_tx = false;
	r->batch_tx_control = false;
	run__lockwait_begin(r, m);
	if (!PQsendQuery(conn, batch)) {
		return batch_error(r, NULL, m, file, NULL, NULL, 0, 0, 0);
	}
	/* waits with an eye on lock waits (lockwait.c) */
	while ((res = run__next_result(r)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
			if (!err) {
				err = res;
				err_index = nres;
				continue;
			}
		}
		/* the results after cairn's prefix are the file's (and SETs) */
		if (file_sql && nres >= prefix_results && !err &&
		    st == PGRES_COMMAND_OK && tx_control_tag(res))
			r->batch_tx_control = true;
		nres++;
		PQclear(res);
	}
	if (err || !cairn_db_is_ok(r->o->db)) {
		size_t idx = err_index >= prefix_results ? err_index - prefix_results : 0;

		rc = batch_error(r, err, m, file, batch, file_sql, file_len,
				 sql_off, idx);
		PQclear(err);
		/* seen before the ROLLBACK below makes every state idle */
		r->batch_ended_tx = err && cairn_db_is_ok(r->o->db) &&
				    (PQtransactionStatus(conn) == PQTRANS_IDLE ||
				     r->batch_tx_control);
		if (cairn_db_is_ok(r->o->db) &&
		    PQtransactionStatus(conn) != PQTRANS_IDLE) {
			cairn_error_saved saved;

			cairn_error__save(&saved);
			PQclear(cairn_db__exec(r->o->db, "ROLLBACK"));
			cairn_error__restore(&saved);
		}
		r->tx_open = false;
	}
	return rc;
}

/*
 * One statement of a no-transaction file, tried again after a lock
 * timeout when that is safe (lockwait.c): it ran alone, so it rolled
 * back alone, except the CONCURRENTLY forms; a CREATE INDEX
 * CONCURRENTLY's INVALID index is dropped before the next try.
 */
static int exec_retrying(run *r, const cairn_migration *m, const char *file,
			 const char *one, const char *sql, size_t len)
{
	char *index = NULL, *table = NULL;
	const char *why = NULL;
	bool safe = true, planned = false;
	int rc;

	for (unsigned attempt = 1;; attempt++) {
		rc = 0;
		if (attempt > 1 && index)
			rc = run__drop_invalid_index(r, m, file, index, table);
		if (rc == 0)
			rc = run__exec_batch(r, one, m, file, sql, len, 0, 0);
		if (rc == 0)
			break;
		if (!planned) {
			cairn_error_saved s;

			cairn_error__save(&s);
			planned = true;
			if (run__no_tx_retry_plan(one, strlen(one), &safe, &why,
						  &index, &table) < 0) {
				cairn_error__saved_dispose(&s);
				rc = CAIRN_ERROR;
				break;
			}
			cairn_error__restore(&s);
		}
		if (!run__lock_retry(r, m, attempt, safe, why))
			break;
	}
	free(index);
	free(table);
	return rc;
}

int run__exec_statements(run *r, const cairn_migration *m, const char *file,
			 const char *sql, size_t len)
{
	cairn_sql_statements st = CAIRN_SQL_STATEMENTS_INIT;
	int rc = 0;

	if (cairn_sql_split(&st, sql, len) < 0)
		return CAIRN_ERROR;
	for (size_t i = 0; i < st.count && rc == 0; i++) {
		char *one = cairn__strndup(sql + st.items[i].offset,
					   st.items[i].length);

		if (!one) {
			rc = CAIRN_ERROR;
			break;
		}
		rc = exec_retrying(r, m, file, one, sql, len);
		if (rc < 0) {
			/* name the statement's line, not line 1 of it */
			const cairn_error *e = cairn_error_last();

			if (e && e->klass == CAIRN_ERRCLASS_SQL) {
				cairn_error_saved s;
				cairn_buf d = CAIRN_BUF_INIT;

				cairn_error__save(&s);
				cairn_buf_printf(&d, "%s line %u (statement %zu)",
						 file, st.items[i].line, i + 1);
				r->r->failed_line = st.items[i].line;
				if (s.detail && strchr(s.detail, ':'))
					cairn_buf_puts(&d, strchr(s.detail, ':'));
				cairn_error__restore(&s);
				cairn_error__detail("%s", d.ptr);
				cairn_buf_dispose(&d);
			}
		}
		free(one);
	}
	cairn_sql_statements_dispose(&st);
	return rc;
}
