/*
 * baseline.c - `cairn baseline VERSION`: the database already has the
 * schema of every migration up to VERSION (built by hand, restored from
 * a dump, or by a tool cairn cannot read); record those migrations as
 * applied without running them, each audited as `baselined` with who
 * and why.
 *
 * VERSION must be a migration at the revision (a typo would otherwise
 * skip or run the wrong files).  With on_migrate (the environment's
 * baseline_on_migrate, as Flyway's baselineOnMigrate + baselineVersion)
 * it happens only on a database whose tracking table is empty and that
 * has tables of its own; adopt.c decides that under the lock.
 */
#include <stdlib.h>
#include <string.h>

#include "adopt.h"
#include "util/util.h"

static int plan(run *r, const cairn_adopt_options *a, cairn_adopt_result *out)
{
	const cairn_migration_set *set = r->o->set;
	size_t n = cairn_migration_set_count(set);
	char *target = adopt__version(a->target);

	if (!target) {
		return adopt__refuse(out, "bad-version", NULL, NULL,
				     "'%s' is not a migration version",
				     a->target ? a->target : "");
	}
	if (!cairn_migration_set_find(set, target)) {
		int rc = adopt__refuse(out, "unknown-version", target,
				       "give the version of the last migration whose schema the database already has ('cairn status' lists them)",
				       "there is no migration %s at this revision",
				       target);

		free(target);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = cairn_migration_set_get(set, i);

		if (cairn__version_cmp(m->version, target) > 0)
			break;
		if (adopt__add(out, m->version, m->name, NULL, NULL, NULL) < 0) {
			free(target);
			return CAIRN_ERROR;
		}
	}
	free(target);
	return 0;
}

int cairn_baseline(cairn_adopt_result *out, const cairn_run_options *o,
		   const cairn_adopt_options *a)
{
	cairn_adopt_options b;

	if (!a)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"baseline needs a version");
	b = *a;
	b.tool = NULL;
	return adopt__run(out, o, &b, "baseline", "baselined", plan);
}
