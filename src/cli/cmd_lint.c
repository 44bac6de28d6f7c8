/*
 * cmd_lint.c - `cairn lint`: the lint rules alone, on the migrations at
 * --rev (or the working tree with --worktree).
 *
 *   cairn lint [--list-rules] [--format text|json]
 *
 * Loads the set, lints every up file (cairn_lint_set) and prints the
 * findings the way validate does (cli_print_findings; junit, github and
 * gitlab work too).  Problems loading finds (bad names, binary files,
 * unknown directives) are validate's business and not shown here.
 * --list-rules prints each rule's name, severity and description, or a
 * JSON array of them.  Exit status: 0 when no lint error was found
 * (warnings allowed), 1 otherwise, 2 for usage or configuration errors,
 * 5 for git errors.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cairn/lint.h"
#include "cli.h"
#include "commands.h"
#include "report.h"

enum { OPT_LIST_RULES = 1 };

static int lint_option(struct cli *cli, int c, const char *arg, void *payload)
{
	bool *list = payload;

	(void)cli;
	(void)arg;
	if (c == OPT_LIST_RULES)
		*list = true;
	return 0;
}

static int list_rules(struct cli *cli)
{
	const cairn_lint_rule *r;
	size_t n;

	r = cairn_lint_rules(&n);
	if (cli->format == CLI_FORMAT_JSON) {
		json_t *arr = json_array();
		int rc;

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack(
				"{s:s, s:s, s:s, s:s}", "rule", r[i].name,
				"code", r[i].code, "severity",
				cairn_severity_name(r[i].severity),
				"description", r[i].description));
		rc = cli_print_json(arr);
		json_decref(arr);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		printf("%-26s %-8s %s\n", r[i].name,
		       cairn_severity_name(r[i].severity), r[i].description);
	return CLI_EXIT_OK;
}

int cmd_lint(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list-rules", no_argument, NULL, OPT_LIST_RULES },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("lint");
	cairn_findings findings = CAIRN_FINDINGS_INIT;
	cairn_migration_set *set = NULL;
	bool list = false;
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "", lint_option,
			       &list, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'",
				       argv[first]);
	if (cli->format == CLI_FORMAT_MARKDOWN)
		return cli_usage_error(cli, cmd,
			"lint writes text, json, junit, github or gitlab");
	if (list) {
		if (cli->format != CLI_FORMAT_TEXT &&
		    cli->format != CLI_FORMAT_JSON)
			return cli_usage_error(cli, cmd,
				"--list-rules writes text or json");
		return list_rules(cli);
	}
	if ((rc = cli_load_set(cli, NULL, cli->worktree, &set)))
		goto out;
	/* a misspelled migrations_dir is not "0 migrations, 0 errors" */
	if (cairn_migration_set_check_dir(set) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	if (cairn_lint_set(&findings, set, NULL) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	cairn_findings_sort(&findings);
	cli_print_findings(cli, "lint", &findings, set);
	rc = cairn_findings_count(&findings, CAIRN_SEVERITY_ERROR) ?
		     CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	cairn_findings_dispose(&findings);
	cairn_migration_set_free(set);
	return rc;
}
