/*
 * cmd_lint.c - `cairn lint`: the lint rules alone, on the migrations at
 * --rev (or the working tree with --worktree), or on files.
 *
 *   cairn lint [--all] [--list-rules | --explain RULE] [--format ...]
 *              [FILE...]
 *
 * Without FILE: loads the set and lints the up files that the next
 * `migrate` runs (the `lint:` section of cairn.yaml applied): when the
 * environment's database can be reached, the pending migrations (not in
 * the tracking table) and the applied ones whose file changed (checksum
 * differs; failed no-transaction ones too), each with the pending ones
 * before it as `earlier`; without a database, every migration, saying
 * so in one line on stderr.  --all lints every migration.  The findings
 * print the way validate does (cli_print_findings; junit, github and
 * gitlab work too).  Problems loading finds (bad names, binary
 * files, unknown directives) are validate's business and not shown here.
 *
 * JSON output adds "locks": for each linted up file its version, file
 * and the lock analysis of the same parse (cli_locks_json, as in `plan
 * --locks`): per statement its line, kind, strongest lock, rewrite and
 * tables.
 *
 * With FILE arguments: each file is linted on its own as the up file of
 * a new migration (no repository needed; its directives apply), which
 * is how the lint corpus and `make bench` drive it.
 *
 * --list-rules prints each rule's name, severity and description (JSON:
 * also the lock, explanation and hint); --explain RULE prints one rule's
 * explanation and safe rewrite.  Exit status: 0 when no lint error was
 * found (warnings allowed), 1 otherwise, 2 for usage or configuration
 * errors, 5 for git errors.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/lint.h"
#include "cairn/repeatable.h"
#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "plan.h"
#include "report.h"
#include "util/buf.h"
#include "util/fileio.h"

#define LINT_FILE_MAX ((size_t)64 * 1024 * 1024)

static int out_of_memory(struct cli *cli)
{
	cli_errorf(cli, "out of memory");
	return CLI_EXIT_FAIL;
}

enum { OPT_LIST_RULES = 1, OPT_EXPLAIN, OPT_ALL };

struct lint_args {
	bool list;
	bool all;
	const char *explain;
};

static int lint_option(struct cli *cli, int c, const char *arg, void *payload)
{
	struct lint_args *a = payload;

	(void)cli;
	if (c == OPT_LIST_RULES)
		a->list = true;
	else if (c == OPT_EXPLAIN)
		a->explain = arg;
	else if (c == OPT_ALL)
		a->all = true;
	return 0;
}

static json_t *rule_json(const cairn_lint_rule *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "rule",
			 r->name, "code", r->code, "severity",
			 cairn_severity_name(r->severity), "description",
			 r->description, "lock", r->lock, "explanation",
			 r->explanation, "hint", r->hint, "style", r->style);
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
			json_array_append_new(arr, rule_json(&r[i]));
		rc = cli_print_json(arr);
		json_decref(arr);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		printf("%-26s %-8s %s%s\n", r[i].name,
		       cairn_severity_name(r[i].severity), r[i].description,
		       r[i].style ? " [off by default]" : "");
	return CLI_EXIT_OK;
}

static int explain(struct cli *cli, const struct cli_command *cmd,
		   const char *name)
{
	const cairn_lint_rule *r = cairn_lint_rule_find(name);

	if (!r)
		return cli_usage_error(cli, cmd,
			"unknown rule '%s' (cairn lint --list-rules names them)",
			name);
	if (cli->format == CLI_FORMAT_JSON) {
		json_t *o = rule_json(r);
		int rc = cli_print_json(o);

		json_decref(o);
		return rc;
	}
	printf("%s (%s)%s\n\n%s\n\n", r->code, cairn_severity_name(r->severity),
	       r->style ? ", a style rule, off unless enabled" : "",
	       r->explanation);
	if (r->lock[0])
		printf("Lock: %s.\n", r->lock);
	printf("Safe rewrite: %s.\n", r->hint);
	return CLI_EXIT_OK;
}

/*
 * Lints m; with locks (JSON), appends the lock analysis of its up file
 * from the same parse: {"version", "file", "statements", "error"}.
 */
static int lint_one(const cairn_migration *m, const cairn_lint_options *lo,
		    cairn_findings *out, json_t *locks)
{
	cairn_lock_plan plan = CAIRN_LOCK_PLAN_INIT;
	int rc = cairn_lint_migration_locks(out, m, lo, locks ? &plan : NULL);

	if (rc == 0 && locks) {
		json_t *o = cli_locks_json(&plan, false);

		json_object_set_new(o, "version",
				    cli_json_str_or_null(m->version));
		json_object_set_new(o, "file", cli_json_str_or_null(m->up_path));
		json_array_append_new(locks, o);
	}
	cairn_lock_plan_dispose(&plan);
	return rc;
}

/* Lints one file as the up file of a new migration. */
static int lint_file(struct cli *cli, const char *path,
		     const cairn_lint_options *lo, cairn_findings *out,
		     json_t *locks)
{
	cairn_buf text = CAIRN_BUF_INIT;
	cairn_findings dirf = CAIRN_FINDINGS_INIT;
	cairn_migration m;
	int rc = CLI_EXIT_OK;

	memset(&m, 0, sizeof(m));
	if (cairn__file_read(AT_FDCWD, path, CAIRN_FILE_REGULAR, LINT_FILE_MAX,
			     &text) < 0 ||
	    cairn_buf_failed(&text)) {
		cli_errorf(cli, "cannot read '%s'", path);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	m.version = (char *)path;
	m.version_text = (char *)path;
	m.name = (char *)path;
	m.subdir = "";
	m.up_path = (char *)path;
	m.content_loaded = m.content_ok = true;
	m.up_sql = text.ptr;
	m.up_len = text.size;
	if (cairn_directives_parse(&m.up_directives, text.ptr, text.size, path,
				   &dirf) < 0 ||
	    lint_one(&m, lo, out, locks) < 0)
		rc = cli_report_error(cli);
out:
	cairn_directives_dispose(&m.up_directives);
	cairn_findings_dispose(&dirf);
	cairn_buf_dispose(&text);
	return rc;
}

static int lint_files(struct cli *cli, char **files, int n,
		      cairn_findings *out, json_t *locks)
{
	cairn_lint_options lo = CAIRN_LINT_OPTIONS_INIT;

	for (int i = 0; i < n; i++) {
		int rc = lint_file(cli, files[i], &lo, out, locks);

		if (rc)
			return rc;
	}
	return 0;
}

/* Whether a migration in this state runs at the next migrate. */
static bool to_lint(cairn_state st)
{
	return st == CAIRN_STATE_PENDING || st == CAIRN_STATE_DRIFTED ||
	       st == CAIRN_STATE_FAILED || st == CAIRN_STATE_RUNNING;
}

/*
 * The migrations of set to lint without --all, into *out (borrowed,
 * version order): pending ones and applied ones whose file changed,
 * according to db.  Returns 0 or an exit code.
 */
static int pending_and_changed(struct cli *cli, cairn_migration_set *set,
			       cairn_db *db, const cairn_migration ***out,
			       size_t *count, bool **is_pending)
{
	cairn_applied_list applied = { NULL, 0, NULL };
	cairn_status_entry *st = NULL;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	*count = 0;
	*is_pending = NULL;
	if (cairn_applied_load_brief(&applied, db) < 0 ||
	    cairn_status_compute(&st, &n, set, &applied) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	if (n && (!(*out = calloc(n, sizeof(**out))) ||
		  !(*is_pending = calloc(n, sizeof(**is_pending))))) {
		rc = out_of_memory(cli);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!st[i].migration || !to_lint(st[i].state))
			continue;
		(*is_pending)[*count] = st[i].state == CAIRN_STATE_PENDING;
		(*out)[(*count)++] = st[i].migration;
	}
out:
	free(st);
	cairn_applied_list_dispose(&applied);
	return rc;
}

/*
 * Every migration of set (--all, or no database to ask), into *out.
 */
static int every_migration(cairn_migration_set *set,
			   const cairn_migration ***out, size_t *count)
{
	size_t n = cairn_migration_set_count(set);

	*count = 0;
	*out = n ? calloc(n, sizeof(**out)) : NULL;
	if (n && !*out)
		return -1;
	for (size_t i = 0; i < n; i++)
		(*out)[(*count)++] = cairn_migration_set_get(set, i);
	return 0;
}

/*
 * The migrations to lint: everything with --all or without a database
 * (*is_pending then NULL: no migration counts as run before another).
 */
static int select_migrations(struct cli *cli, cairn_migration_set *set,
			     bool all, const cairn_migration ***out,
			     size_t *count, bool **is_pending)
{
	cairn_db *db = NULL;
	char *why = NULL;
	int rc;

	if (all)
		return every_migration(set, out, count) < 0 ?
			       out_of_memory(cli) : 0;
	if ((rc = cli_open_db_optional(cli, &db, &why)))
		return rc;
	if (!db) {
		cli_notef(cli, "no database (%s): linting every migration",
			  why ? why : "cannot connect");
		free(why);
		return every_migration(set, out, count) < 0 ?
			       out_of_memory(cli) : 0;
	}
	rc = pending_and_changed(cli, set, db, out, count, is_pending);
	cairn_db_free(db);
	return rc;
}

static int lint_repo(struct cli *cli, bool all, cairn_findings *findings,
		     cairn_migration_set **set, json_t *locks)
{
	cairn_lint_options lo = CAIRN_LINT_OPTIONS_INIT;
	const cairn_config *cfg = NULL;
	const cairn_migration **sel = NULL, **earlier = NULL;
	bool *is_pending = NULL;
	size_t n = 0;
	int rc;

	if ((rc = cli_load_set(cli, NULL, cli->worktree, set)))
		return rc;
	/* a misspelled migrations_dir is not "0 migrations, 0 errors" */
	if (cairn_migration_set_check_dir(*set) < 0)
		return cli_report_error(cli);
	if ((rc = cli_config(cli, &cfg)))
		return rc;
	cairn_lint_options_from_config(&lo, cfg);
	if (cairn_migration_set_load_contents(*set) < 0)
		return cli_report_error(cli);
	if ((rc = select_migrations(cli, *set, all, &sel, &n, &is_pending)))
		goto out;
	if (n && !(earlier = calloc(n, sizeof(*earlier)))) {
		rc = out_of_memory(cli);
		goto out;
	}
	/* the pending migrations before one run first: what they create is
	 * new to it */
	lo.earlier = earlier;
	for (size_t i = 0; i < n && !rc; i++) {
		if (lint_one(sel[i], &lo, findings, locks) < 0)
			rc = cli_report_error(cli);
		if (is_pending && is_pending[i])
			earlier[lo.earlier_count++] = sel[i];
	}
	/* repeatable migrations are linted whatever the database holds */
	if (!rc && cairn_repeatable_load_contents(*set) < 0)
		rc = cli_report_error(cli);
	for (size_t i = 0; !rc && i < cairn_migration_set_repeatable_count(*set); i++)
		if (lint_one(cairn_migration_set_repeatable(*set, i), &lo,
			     findings, locks) < 0)
			rc = cli_report_error(cli);
out:
	free(earlier);
	free(is_pending);
	free(sel);
	return rc;
}

/* The findings document with "locks": per linted file, its statements. */
static void print_json(const cairn_findings *findings,
		       const cairn_migration_set *set, json_t *locks)
{
	json_t *root = cli_findings_json(findings, set);

	json_object_set(root, "locks", locks);
	cli_print_json(root);
	json_decref(root);
}

int cmd_lint(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list-rules", no_argument, NULL, OPT_LIST_RULES },
		{ "explain", required_argument, NULL, OPT_EXPLAIN },
		{ "all", no_argument, NULL, OPT_ALL },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("lint");
	cairn_findings findings = CAIRN_FINDINGS_INIT;
	cairn_migration_set *set = NULL;
	struct lint_args a = { false, false, NULL };
	json_t *locks = NULL;
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "", lint_option,
			       &a, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (cli->format == CLI_FORMAT_MARKDOWN)
		return cli_usage_error(cli, cmd,
			"lint writes text, json, junit, github or gitlab");
	if (a.list || a.explain) {
		if (first < argc)
			return cli_usage_error(cli, cmd,
				"unexpected argument '%s'", argv[first]);
		if (cli->format != CLI_FORMAT_TEXT &&
		    cli->format != CLI_FORMAT_JSON)
			return cli_usage_error(cli, cmd,
				"--list-rules and --explain write text or json");
		return a.list ? list_rules(cli) : explain(cli, cmd, a.explain);
	}
	if (cli->format == CLI_FORMAT_JSON && !(locks = json_array())) {
		rc = out_of_memory(cli);
		goto out;
	}
	if (first < argc)
		rc = lint_files(cli, argv + first, argc - first, &findings,
				locks);
	else
		rc = lint_repo(cli, a.all, &findings, &set, locks);
	if (rc)
		goto out;
	cairn_findings_sort(&findings);
	if (locks)
		print_json(&findings, set, locks);
	else
		cli_print_findings(cli, "lint", &findings, set);
	rc = cairn_findings_count(&findings, CAIRN_SEVERITY_ERROR) ?
		     CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	json_decref(locks);
	cairn_findings_dispose(&findings);
	cairn_migration_set_free(set);
	return rc;
}
