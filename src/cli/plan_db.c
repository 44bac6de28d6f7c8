/*
 * plan_db.c - `cairn plan` without a range: what `migrate up` would apply
 * to the environment's database, with commit and author.  The same as
 * `migrate up --dry-run`, without the hooks.
 *
 * With --locks, each pending migration is followed by its statements and
 * the locks they take, with each table's size and the sessions using it
 * (plan_locks.c).  With --no-db (only with --locks) no database is
 * asked: every migration at --rev is listed, since which are pending
 * cannot be known, and the locks are shown without figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "plan.h"
#include "repeatable_report.h"
#include "report.h"

/* One migration: its line (or JSON object, appended to arr) and locks. */
static int print_one(struct cli *cli, const struct plan_opts *po,
		     cairn_migration_set *set, cairn_migration *m,
		     cairn_db *db, json_t *arr)
{
	cairn_lock_plan lp = CAIRN_LOCK_PLAN_INIT;
	int rc = 0;

	if (po->locks && (rc = cli_locks_analyse(cli, set, m, db, &lp)))
		goto out;
	if (arr) {
		json_t *o = json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:o}",
			"version", m->version, "version_text", m->version_text,
			"repeatable", m->repeatable,
			"name", cli_json_str(m->name), "file", cli_json_str(m->up_path),
			"commit", cli_json_str_or_null(m->has_provenance ? m->introduced.sha : NULL),
			"author", cli_json_str_or_null(m->has_provenance ? m->introduced.author_name : NULL));

		if (po->locks)
			json_object_set_new(o, "locks", cli_locks_json(&lp, db != NULL));
		json_array_append_new(arr, o);
	} else {
		cli_quoted q = CLI_QUOTED_INIT;
		const char *author = cli_q(&q, m->has_provenance ?
					   m->introduced.author_name : "");
		const char *vt = m->repeatable ? "R" : m->version_text;

		if (cli->format == CLI_FORMAT_MARKDOWN && po->locks)
			printf("### %s %s\n", vt, cli_q(&q, m->name));
		else if (cli->format == CLI_FORMAT_MARKDOWN)
			printf("| %s | %s | %s | `%.12s` |\n",
			       vt, cli_q(&q, m->name),
			       author, m->has_provenance ?
			       m->introduced.sha : "");
		else
			printf("  %-6s %-32s %.10s  %s\n", vt,
			       cli_q(&q, m->name), m->has_provenance ?
			       m->introduced.sha : "", author);
		cli_quoted_release(&q);
		if (po->locks)
			cli_locks_print(cli, &lp, db != NULL);
	}
out:
	cairn_lock_plan_dispose(&lp);
	return rc;
}

/* --no-db: every migration at --rev, locks without figures. */
static int plan_without_db(struct cli *cli, const struct plan_opts *po)
{
	cairn_migration_set *set = NULL;
	const char *rev = cli->worktree ? "the working tree" : cli->rev;
	json_t *arr = NULL;
	size_t n;
	int rc = 0;

	cairn_repo *repo;

	if ((rc = cli_repo(cli, &repo)) ||
	    (rc = cli_load_set(cli, NULL, cli->worktree, &set)))
		return rc;
	if (cairn_migration_set_provenance(set, repo, NULL, 0) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	n = cairn_migration_set_count(set);
	if (cli->format == CLI_FORMAT_JSON) {
		arr = json_array();
	} else {
		cli_quoted q = CLI_QUOTED_INIT;

		printf("%zu migration%s at %s (no database: pending unknown, sizes unknown):\n",
		       n, n == 1 ? "" : "s", cli_q(&q, rev));
		cli_quoted_release(&q);
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = print_one(cli, po, set, cairn_migration_set_get(set, i),
			       NULL, arr);
	if (arr && !rc) {
		json_t *root = json_pack("{s:o, s:b, s:o}", "rev", cli_json_str(rev),
					 "database", 0, "migrations", arr);

		rc = cli_print_json(root);
		json_decref(root);
	} else {
		json_decref(arr);
	}
out:
	cairn_migration_set_free(set);
	return rc;
}

int cli_plan_db(struct cli *cli, const struct plan_opts *po)
{
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	cairn_run_result res;
	cairn_migration_set *set = NULL;
	cairn_db *db = NULL;
	char rev[CAIRN_OID_HEXSZ], *ref = NULL;
	json_t *arr = NULL;
	int rc;

	if (po->no_db)
		return plan_without_db(cli, po);
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
	else if (cli->format == CLI_FORMAT_MARKDOWN && !po->locks)
		printf("| Version | Migration | Author | Commit |\n|---|---|---|---|\n");
	else if (cli->format != CLI_FORMAT_MARKDOWN)
		printf("%zu pending migration%s for %s:\n", res.plan_count,
		       res.plan_count == 1 ? "" : "s", o.environment);
	for (size_t i = 0; i < res.plan_count && !rc; i++) {
		cairn_migration *m = cli_plan_label_find(set, res.plan[i]);

		if (m)
			rc = print_one(cli, po, set, m, db, arr);
	}
	if (arr && !rc) {
		json_t *root = json_pack("{s:s, s:o}", "environment", o.environment,
					 "pending", arr);

		if (po->locks)
			json_object_set_new(root, "database", json_true());
		rc = cli_print_json(root);
		json_decref(root);
	} else {
		json_decref(arr);
	}
out:
	cairn_run_result_dispose(&res);
	free(ref);
	cairn_db_free(db);
	cairn_migration_set_free(set);
	return rc;
}
