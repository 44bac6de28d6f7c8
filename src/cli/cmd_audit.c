/*
 * cmd_audit.c - `cairn audit [log|verify|export]`.
 *
 * log prints rows oldest first (newest last, like a log); verify checks
 * the hash chain and names the first bad row; export writes JSON lines
 * with every column, for shipping to a log store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/audit.h"
#include "cairn/schema.h"
#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "report.h"

struct audit_opts {
	const char *since;
	size_t limit;
};

static int audit_option(struct cli *cli, int c, const char *arg, void *payload)
{
	struct audit_opts *o = payload;
	char *end;

	if (c == 's') {
		o->since = arg;
	} else if (c == 'n') {
		unsigned long v = strtoul(arg, &end, 10);

		if (*end || !*arg)
			return cli_usage_error(cli, cli_find_command("audit"),
					       "--limit needs a number, not '%s'", arg);
		o->limit = v;
	}
	return 0;
}

static json_t *entry_json(const cairn_audit_entry *e)
{
	json_t *o = json_object();
	json_t *detail = e->detail ? json_loads(e->detail, 0, NULL) : NULL;

	json_object_set_new(o, "id", json_integer(e->id));
	json_object_set_new(o, "at", cli_json_str_or_null(e->at));
	json_object_set_new(o, "run_id", cli_json_str_or_null(e->run_id));
	json_object_set_new(o, "environment", cli_json_str_or_null(e->environment));
	json_object_set_new(o, "event", cli_json_str_or_null(e->event));
	json_object_set_new(o, "version", cli_json_str_or_null(e->version));
	json_object_set_new(o, "name", cli_json_str_or_null(e->name));
	json_object_set_new(o, "commit_sha", cli_json_str_or_null(e->commit_sha));
	json_object_set_new(o, "author", cli_json_str_or_null(e->author));
	json_object_set_new(o, "actor", cli_json_str_or_null(e->actor));
	json_object_set_new(o, "deploy_rev", cli_json_str_or_null(e->deploy_rev));
	json_object_set_new(o, "outcome", cli_json_str_or_null(e->outcome));
	json_object_set_new(o, "detail", detail ? detail : json_object());
	json_object_set_new(o, "prev_hash", cli_json_str_or_null(e->prev_hash));
	json_object_set_new(o, "hash", cli_json_str_or_null(e->hash));
	return o;
}

static int audit_log(struct cli *cli, cairn_db *db, struct audit_opts *o,
		     bool export_jsonl, bool exists)
{
	cairn_audit_entry *e = NULL;
	size_t n = 0;

	if (exists && cairn_audit_list(&e, &n, db, o->since, o->limit) < 0)
		return cli_report_error(cli);
	if (export_jsonl) {
		for (size_t i = 0; i < n; i++) {
			json_t *j = entry_json(&e[i]);
			char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

			if (s)
				puts(s);
			free(s);
			json_decref(j);
		}
	} else if (cli->format == CLI_FORMAT_JSON) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, entry_json(&e[i]));
		cli_print_json(arr);
		json_decref(arr);
	} else {
		if (!n && cli->verbosity >= 0)
			printf("no audit rows yet\n");
		for (size_t i = 0; i < n; i++) {
			const cairn_audit_entry *a = &e[i];
			char at[20];
			const char *color = !a->outcome ? "" :
				!strcmp(a->outcome, "applied") || !strcmp(a->outcome, "rolled_back") ? "32" :
				!strcmp(a->outcome, "repaired") || !strcmp(a->outcome, "hook_warned") ? "33" : "1;31";

			snprintf(at, sizeof(at), "%.19s", a->at ? a->at : "");
			for (char *p = at; *p; p++)
				if (*p == 'T')
					*p = ' ';
			cli_quoted q = CLI_QUOTED_INIT;

			printf("%5lld %s %s%-12s%s %-13s %-6s %-24s by %s", (long long)a->id,
			       cli_q(&q, at), cli_color(cli, stdout, color),
			       cli_q(&q, a->outcome), cli_reset(cli, stdout),
			       cli_q(&q, a->event), a->version ? cli_q(&q, a->version) : "-",
			       cli_q(&q, a->name), a->actor ? cli_q(&q, a->actor) : "?");
			if (a->commit_sha)
				printf(" (commit %.10s by %s)", cli_q(&q, a->commit_sha),
				       a->author ? cli_q(&q, a->author) : "?");
			putchar('\n');
			cli_quoted_release(&q);
		}
	}
	cairn_audit_entries_free(e, n);
	return 0;
}

static int audit_verify(struct cli *cli, cairn_db *db, bool exists)
{
	cairn_audit_verify_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	if (!exists) {
		/* no trail yet: an empty chain holds */
		r.ok = true;
		r.last_hash = strdup(CAIRN_AUDIT_GENESIS);
	} else if (cairn_audit_verify(&r, db) < 0) {
		cairn_audit_verify_result_dispose(&r);
		return cli_report_error(cli);
	}
	if (cli->format == CLI_FORMAT_JSON) {
		json_t *j = json_pack("{s:b, s:I, s:o, s:o, s:o}", "ok", r.ok,
				      "rows", (json_int_t)r.rows,
				      "first_bad_id", r.ok ? json_null() : json_integer(r.first_bad_id),
				      "reason", cli_json_str_or_null(r.reason),
				      "last_hash", cli_json_str_or_null(r.last_hash));
		cli_print_json(j);
		json_decref(j);
	} else if (r.ok) {
		if (cli->verbosity >= 0)
			printf("audit chain ok: %zu row%s, last hash %s\n", r.rows,
			       r.rows == 1 ? "" : "s", r.last_hash ? r.last_hash : "");
	} else {
		cli_errorf(cli, "the audit chain is broken at row %lld",
			   (long long)r.first_bad_id);
		cli_detailf(cli, "%s", r.reason ? r.reason : "");
		cli_hintf(cli, "rows were edited, deleted or reordered after they were written; compare with an exported copy (cairn audit export)");
	}
	rc = r.ok ? 0 : CLI_EXIT_FAIL;
	cairn_audit_verify_result_dispose(&r);
	return rc;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("audit");
	struct audit_opts o = { NULL, 0 };
	const char *sub = "log";
	cairn_db *db = NULL;
	bool exists;
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "n:", audit_option,
			       &o, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first < argc)
		sub = argv[first++];
	if (first < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[first]);
	if (strcmp(sub, "log") && strcmp(sub, "verify") && strcmp(sub, "export"))
		return cli_usage_error(cli, cmd, "unknown audit subcommand '%s'", sub);
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	/* read-only: without cairn's tables the trail is empty */
	if (cairn_schema_exists(&exists, db) < 0)
		rc = cli_report_error(cli);
	else if (!strcmp(sub, "verify"))
		rc = audit_verify(cli, db, exists);
	else
		rc = audit_log(cli, db, &o, !strcmp(sub, "export"), exists);
	cairn_db_free(db);
	return rc;
}
