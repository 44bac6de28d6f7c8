/*
 * plan_db.c - `cairn plan` without a range: what `migrate up` would apply
 * to the environment's database, with commit and author.  The same as
 * `migrate up --dry-run`, without the hooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "report.h"

int cli_plan_db(struct cli *cli)
{
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	cairn_run_result res;
	cairn_migration_set *set = NULL;
	cairn_db *db = NULL;
	char rev[CAIRN_OID_HEXSZ], *ref = NULL;
	json_t *arr = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = cli_load_set(cli, NULL, cli->worktree, &set)))
		return rc;
	if ((rc = cli_open_db(cli, &db)))
		goto out;
	if ((rc = cli_run_options(cli, &o, set, db, NULL, rev, &ref)))
		goto out;
	o.dry_run = true;
	if (cairn_migrate_up(&res, &o) < 0) {
		if (res.findings.count) {
			cairn_findings_sort(&res.findings);
			cli_print_findings(cli, "plan", &res.findings, set);
		}
		rc = cli_report_error(cli);
		goto out;
	}
	if (cli->format == CLI_FORMAT_JSON)
		arr = json_array();
	else if (!res.plan_count)
		printf("nothing to apply: %s is up to date\n", o.environment);
	else if (cli->format == CLI_FORMAT_MARKDOWN)
		printf("| Version | Migration | Author | Commit |\n|---|---|---|---|\n");
	else
		printf("%zu pending migration%s for %s:\n", res.plan_count,
		       res.plan_count == 1 ? "" : "s", o.environment);
	for (size_t i = 0; i < res.plan_count; i++) {
		const char *us = strchr(res.plan[i], '_');
		char version[32];
		cairn_migration *m;

		snprintf(version, sizeof(version), "%.*s",
			 (int)(us ? (size_t)(us - res.plan[i]) : 0), res.plan[i]);
		m = cairn_migration_set_find(set, version);
		if (!m)
			continue;
		if (arr) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}",
				"version", m->version, "version_text", m->version_text,
				"name", cli_json_str(m->name), "file", cli_json_str(m->up_path),
				"commit", cli_json_str_or_null(m->has_provenance ? m->introduced.sha : NULL),
				"author", cli_json_str_or_null(m->has_provenance ? m->introduced.author_name : NULL)));
		} else {
			cli_quoted q = CLI_QUOTED_INIT;
			const char *author = cli_q(&q, m->has_provenance ?
						   m->introduced.author_name : "");

			if (cli->format == CLI_FORMAT_MARKDOWN)
				printf("| %s | %s | %s | `%.12s` |\n",
				       m->version_text, cli_q(&q, m->name),
				       author, m->has_provenance ?
				       m->introduced.sha : "");
			else
				printf("  %-6s %-32s %.10s  %s\n", m->version_text,
				       cli_q(&q, m->name), m->has_provenance ?
				       m->introduced.sha : "", author);
			cli_quoted_release(&q);
		}
	}
	if (arr) {
		json_t *root = json_pack("{s:s, s:o}", "environment", o.environment,
					 "pending", arr);

		cli_print_json(root);
		json_decref(root);
	}
	rc = 0;
out:
	cairn_run_result_dispose(&res);
	free(ref);
	cairn_db_free(db);
	cairn_migration_set_free(set);
	return rc;
}
