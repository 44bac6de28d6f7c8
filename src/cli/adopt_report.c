/*
 * adopt_report.c - the part of `cairn baseline` and `cairn import` that
 * talks to the user: opening what the engine needs, then printing the
 * mapping (dry run), the reasons for a refusal, or what was recorded
 * (for `import flyway`, Flyway's repeatables too, in JSON under
 * "repeatables").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adopt_report.h"
#include "audit_run.h"
#include "dbopen.h"
#include "repeatable_report.h"
#include "report.h"
#include "util/error.h"

static void print_mapping(const cairn_adopt_result *res,
			  bool dry_run, const cairn_adopt_options *a)
{
	cli_quoted q = CLI_QUOTED_INIT;

	if (!res->count) {
		printf("nothing to %s: the history applies no migration\n",
		       a->tool ? "import" : "baseline");
		return;
	}
	if (a->tool)
		printf("%s %zu migration%s from %s:\n",
		       dry_run ? "would import" : "imported", res->count,
		       res->count == 1 ? "" : "s", a->tool);
	else
		printf("%s %zu migration%s (up to %s) as applied without running them:\n",
		       dry_run ? "would record" : "recorded", res->count,
		       res->count == 1 ? "" : "s",
		       res->entries[res->count - 1].version);
	for (size_t i = 0; i < res->count; i++) {
		const cairn_adopt_entry *e = &res->entries[i];

		if (!a->tool) {
			printf("  %s_%s\n", cli_q(&q, e->version), cli_q(&q, e->name));
		} else {
			printf("  %-22s -> %s_%s", e->tool_version ?
			       cli_q(&q, e->tool_version) : "(implied)",
			       cli_q(&q, e->version), cli_q(&q, e->name));
			if (e->installed_by || e->installed_on)
				printf("  (%s%s%s)", cli_q(&q, e->installed_by),
				       e->installed_by && e->installed_on ? ", " : "",
				       cli_q(&q, e->installed_on));
			putchar('\n');
		}
		cli_quoted_release(&q);
	}
}

static json_t *result_json(const cairn_adopt_result *res, int rc, bool dry_run)
{
	json_t *o = json_object(), *list = json_array();
	const cairn_error *e = rc < 0 ? cairn_error_last() : NULL;

	json_object_set_new(o, "ok", json_boolean(rc == 0));
	json_object_set_new(o, "run_id", json_string(res->run_id));
	json_object_set_new(o, "tool", json_string(res->tool));
	json_object_set_new(o, "dry_run", json_boolean(dry_run));
	json_object_set_new(o, "skipped", json_boolean(res->skipped));
	for (size_t i = 0; i < res->count; i++) {
		const cairn_adopt_entry *en = &res->entries[i];

		json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o, s:o}",
			"version", cli_json_str(en->version),
			"name", cli_json_str(en->name),
			"tool_version", cli_json_str_or_null(en->tool_version),
			"installed_by", cli_json_str_or_null(en->installed_by),
			"installed_on", cli_json_str_or_null(en->installed_on)));
	}
	json_object_set_new(o, "migrations", list);
	list = json_array();
	for (size_t i = 0; i < res->findings.count; i++) {
		const cairn_finding *f = &res->findings.items[i];

		json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o}",
			"code", cli_json_str(f->code),
			"message", cli_json_str(f->message),
			"version", cli_json_str_or_null(f->version),
			"hint", cli_json_str_or_null(f->hint)));
	}
	json_object_set_new(o, "reasons", list);
	if (e)
		json_object_set_new(o, "error", json_pack("{s:o, s:o, s:o}",
			"message", cli_json_str(e->message),
			"detail", cli_json_str_or_null(e->detail),
			"hint", cli_json_str_or_null(e->hint)));
	return o;
}

/*
 * Prints the result; reps (JSON only, taken) is the list of Flyway's
 * repeatables the import records or leaves pending.
 */
static int report(struct cli *cli, const cairn_adopt_result *res, int rc,
		  bool dry_run, const cairn_adopt_options *a,
		  cairn_migration_set *set, const char *what, json_t *reps)
{
	if (cli->format == CLI_FORMAT_JSON) {
		json_t *j = result_json(res, rc, dry_run);

		if (reps)
			json_object_set_new(j, "repeatables", reps);
		cli_print_json(j);
		json_decref(j);
	} else if (rc < 0 && res->findings.count > 1) {
		cli_print_findings(cli, what, &res->findings, set);
	}
	if (rc < 0)
		return cli_report_error(cli);
	if (cli->format != CLI_FORMAT_JSON && cli->verbosity >= 0)
		print_mapping(res, dry_run, a);
	return 0;
}

int cli_adopt_run(struct cli *cli, const char *what, cli_adopt_fn fn,
		  const cairn_adopt_options *a, bool dry_run, bool yes)
{
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	cairn_adopt_result res;
	const cairn_environment *env;
	cairn_migration_set *set = NULL;
	cairn_db *db = NULL;
	const char *key;
	size_t key_len;
	int64_t head = 0;
	char rev[CAIRN_OID_HEXSZ], *ref = NULL;
	json_t *reps = NULL;
	bool flyway;
	int rc, audit_rc = 0;

	memset(&res, 0, sizeof(res));
	if ((rc = cli_env(cli, &env)))
		return rc;
	if (env->confirm && !yes && !dry_run) {
		cli_errorf(cli, "environment '%s' needs confirmation for %s",
			   env->name, what);
		cli_hintf(cli, "pass --yes (or look first with --dry-run)");
		return CLI_EXIT_USAGE;
	}
	if (!dry_run && (rc = cli_audit_key(cli, &key, &key_len)))
		return rc;
	if ((rc = cli_load_set(cli, NULL, cli->worktree, &set)))
		return rc;
	if ((rc = cli_open_db(cli, &db)) ||
	    (rc = cli_run_options(cli, &o, set, db, NULL, rev, &ref)))
		goto out;
	o.dry_run = dry_run;
	if (!dry_run && (rc = cli_audit_before_run(cli, db, &head)))
		goto out;
	rc = fn(&res, &o, a);
	if (!dry_run) {
		cairn_error_saved saved;

		cairn_error__save(&saved);
		audit_rc = cli_audit_after_run(cli, db, res.run_id, head);
		cairn_error__restore(&saved);
	}
	flyway = a->tool && !strcmp(a->tool, "flyway");
	if (rc == 0 && flyway && cli->format == CLI_FORMAT_JSON &&
	    (rc = cli_import_repeatables_json(cli, set, db, &reps)))
		goto out;
	rc = report(cli, &res, rc, dry_run, a, set, what, reps);
	if (rc == 0 && flyway)
		rc = cli_import_repeatables(cli, set, db, dry_run);
	if (rc == 0)
		rc = audit_rc;
out:
	cairn_adopt_result_dispose(&res);
	free(ref);
	cairn_db_free(db);
	cairn_migration_set_free(set);
	return rc;
}
