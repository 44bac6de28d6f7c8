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
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "util.h"

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

/* One migration between its pre and post events. */
static int step(run *r, const run_direction *d, cairn_migration *m,
		size_t i, size_t n)
{
	int64_t t0;
	int rc;

	run__progress(r, d->phase, m, i, n);
	if (run__cancelled(r)) {
		rc = cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
			"interrupted before migration %s_%s; nothing of it ran",
			m->version_text, m->name);
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
	rc = d->one(r, m);
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
	if (rc < 0 || (rc = make_plan(&r, &plan, &n)) < 0)
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
