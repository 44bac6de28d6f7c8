/*
 * cmd_audit.c - `cairn audit [log|verify|export|anchor]`.
 *
 * log prints rows oldest first (newest last, like a log); verify checks
 * the hash chain and names the first bad row, then (doc/audit.md) the
 * MACs of a keyed chain when audit.secret_env is configured, the table
 * against the environment's latest anchor, and that every applied
 * tracking row has its audit row; export writes JSON lines with every
 * column, for shipping to a log store; anchor records the chain's head
 * outside the database (refs/cairn/audit/<environment>, and
 * audit.anchor_file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/audit.h"
#include "cairn/schema.h"
#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "audit_run.h"
#include "fleet.h"
#include "report.h"

struct audit_opts {
	const char *since;
	size_t limit;
	struct cli_fleet_opts fleet; /* --all-targets (cmd_fleet.c) */
};

static int audit_option(struct cli *cli, int c, const char *arg, void *payload)
{
	struct audit_opts *o = payload;
	char *end;
	bool taken;
	int rc = cli_fleet_option(cli, "audit", &o->fleet, c, arg, &taken);

	if (rc || taken)
		return rc;
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
	json_object_set_new(o, "mac", cli_json_str_or_null(e->mac));
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
		else if (cli->verbosity >= 0)
			printf("%5s %-19s %-12s %-13s %-6s %-24s %s\n", "id", "at",
			       "outcome", "event", "version", "name",
			       "by actor (commit by author)");
		for (size_t i = 0; i < n; i++) {
			const cairn_audit_entry *a = &e[i];
			char at[20];
			const char *color = !a->outcome ? "" :
				!strcmp(a->outcome, "applied") || !strcmp(a->outcome, "rolled_back") ||
				!strcmp(a->outcome, "baselined") || !strcmp(a->outcome, "imported") ? "32" :
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

/* The environment's latest anchor; *found false when there is none. */
static int latest_anchor(struct cli *cli, cairn_audit_anchor *a, bool *found)
{
	const cairn_environment *env;
	cairn_repo *repo;
	int rc;

	*found = false;
	memset(a, 0, sizeof(*a));
	if ((rc = cli_env(cli, &env)))
		return rc;
	/* verify works on the database alone too: no repository, no anchor */
	if (!cli->repo && cairn_repo_open(&cli->repo, ".") < 0) {
		cairn_error_clear();
		cli->repo = NULL;
		cli_notef(cli, "not in a git repository: no anchor to check");
		return 0;
	}
	if ((rc = cli_repo(cli, &repo)))
		return rc;
	if (cairn_audit_anchor_latest(a, found, repo,
				      cli_fleet_anchor_name(env->name)) < 0)
		return cli_report_error(cli);
	return 0;
}

static json_t *verify_json(const cairn_audit_verify_result *r,
			   const cairn_audit_anchor *a, bool keyed)
{
	json_t *untracked = json_array();
	json_t *anchor = json_null();

	for (size_t i = 0; i < r->untracked_count; i++)
		json_array_append_new(untracked, cli_json_str(r->untracked[i]));
	if (r->anchored)
		anchor = json_pack("{s:o, s:s?, s:I, s:I, s:o}", "commit",
				   cli_json_str(a->commit), "at", a->at,
				   "rows", (json_int_t)a->rows, "last_id",
				   (json_int_t)a->last_id, "problem",
				   cli_json_str_or_null(r->anchor_reason));
	return json_pack("{s:b, s:I, s:o, s:o, s:o, s:b, s:I, s:o, s:o, s:o, s:o}",
			 "ok", r->ok, "rows", (json_int_t)r->rows,
			 "first_bad_id", r->reason ? json_integer(r->first_bad_id) : json_null(),
			 "reason", cli_json_str_or_null(r->reason),
			 "last_hash", cli_json_str_or_null(r->last_hash),
			 "keyed", keyed, "macs_checked", (json_int_t)r->macs,
			 "mac_bad_id", r->mac_bad_id ? json_integer(r->mac_bad_id) : json_null(),
			 "mac_problem", cli_json_str_or_null(r->mac_reason),
			 "anchor", anchor, "untracked", untracked);
}

static void verify_text(struct cli *cli, const cairn_audit_verify_result *r,
			const cairn_audit_anchor *a, bool keyed)
{
	if (r->reason) {
		cli_errorf(cli, "the audit chain is broken at row %lld",
			   (long long)r->first_bad_id);
		cli_detailf(cli, "%s", r->reason);
		cli_hintf(cli, "rows were edited, deleted or reordered after they were written; compare with an exported copy (cairn audit export)");
	}
	if (r->mac_reason) {
		if (r->mac_bad_id)
			cli_errorf(cli, "the keyed audit chain is broken at row %lld",
				   (long long)r->mac_bad_id);
		else
			cli_errorf(cli, "the keyed audit chain is not sealed");
		cli_detailf(cli, "%s", r->mac_reason);
		if (r->mac_bad_id)
			cli_hintf(cli, "someone without the key rewrote rows and recomputed the chain, or removed MACs; a run that crashed before sealing leaves rows without MACs too");
		else if (r->anchored && a->last_mac)
			cli_hintf(cli, "the anchor shows the trail was keyed before: investigate; compare with 'git log refs/cairn/audit/%s' and an exported copy",
				  a->environment ? a->environment : "<env>");
		else
			cli_hintf(cli, "if the key was configured only now, the next 'cairn migrate' seals every row; if it was configured before, its MACs were removed: investigate");
	}
	if (r->anchor_reason) {
		cli_errorf(cli, "the audit trail does not match its anchor (commit %.12s)",
			   a->commit);
		cli_detailf(cli, "%s", r->anchor_reason);
		cli_hintf(cli, "compare with 'git show %s:anchor.json' and an exported copy", a->commit);
	}
	if (r->untracked_count) {
		cli_errorf(cli, "%zu applied migration%s ha%s no audit row",
			   r->untracked_count, r->untracked_count == 1 ? "" : "s",
			   r->untracked_count == 1 ? "s" : "ve");
		fprintf(stderr, "DETAIL:");
		for (size_t i = 0; i < r->untracked_count; i++) {
			char *q = cli_quote_path(r->untracked[i]);

			fprintf(stderr, " %s", q ? q : "?");
			free(q);
		}
		fputc('\n', stderr);
		cli_hintf(cli, "their tracking rows were written outside cairn, or their audit rows were deleted");
	}
	if (!r->ok || cli->verbosity < 0)
		return;
	printf("audit chain ok: %zu row%s, last hash %s\n", r->rows,
	       r->rows == 1 ? "" : "s", r->last_hash ? r->last_hash : "");
	if (keyed)
		printf("keyed chain ok: %zu MAC%s checked\n", r->macs,
		       r->macs == 1 ? "" : "s");
	if (r->anchored)
		printf("anchor ok: commit %.12s (%s): %llu row%s, row %lld\n",
		       a->commit, a->at ? a->at : "?",
		       (unsigned long long)a->rows, a->rows == 1 ? "" : "s",
		       (long long)a->last_id);
	else
		printf("no anchor yet: run 'cairn audit anchor' to detect deleted newest rows\n");
	printf("tracking table ok: every applied migration has its audit row\n");
}

/*
 * The table against every earlier anchor too: an anchor taken after rows
 * were deleted (by a cairn that did not check) would hide them.
 */
static int check_history(cairn_audit_verify_result *r, cairn_db *db,
			 cairn_repo *repo, const char *environment)
{
	cairn_audit_anchor *hist = NULL;
	size_t n = 0;
	char *why = NULL;
	int rc = CAIRN_ERROR;

	if (cairn_audit_anchor_history(&hist, &n, repo, environment) < 0 ||
	    cairn_audit_check_anchors(&why, db, hist, n) < 0)
		goto out;
	if (why) {
		r->anchor_reason = why;
		r->ok = false;
	}
	rc = 0;
out:
	cairn_audit_anchors_free(hist, n);
	return rc;
}

static int audit_verify(struct cli *cli, cairn_db *db)
{
	cairn_audit_verify_options o = CAIRN_AUDIT_VERIFY_OPTIONS_INIT;
	cairn_audit_verify_result r;
	cairn_audit_anchor a;
	bool found;
	const char *key;
	size_t len;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = cli_audit_key(cli, &key, &len)) ||
	    (rc = latest_anchor(cli, &a, &found)))
		return rc;
	o.key = key;
	o.key_len = len;
	o.anchor = found ? &a : NULL;
	o.check_tracking = true;
	/* without cairn's tables the library verifies an empty trail */
	if (cairn_audit_verify_with(&r, db, &o) < 0 ||
	    (found && !r.anchor_reason &&
	     check_history(&r, db, cli->repo, a.environment) < 0)) {
		rc = cli_report_error(cli);
		goto out;
	}
	if (cli->format == CLI_FORMAT_JSON) {
		json_t *j = verify_json(&r, &a, key != NULL);

		cli_print_json(j);
		json_decref(j);
	} else {
		verify_text(cli, &r, &a, key != NULL);
	}
	rc = r.ok ? 0 : CLI_EXIT_FAIL;
out:
	cairn_audit_verify_result_dispose(&r);
	cairn_audit_anchor_dispose(&a);
	return rc;
}

static int audit_anchor(struct cli *cli, cairn_db *db)
{
	cairn_audit_anchor a;
	int rc = cli_audit_anchor(cli, db, &a);

	if (rc == 0 && cli->format == CLI_FORMAT_JSON) {
		char *s = cairn_audit_anchor_json(&a);
		json_t *j = s ? json_loads(s, 0, NULL) : NULL;

		if (j)
			json_object_set_new(j, "commit", cli_json_str(a.commit));
		cli_print_json(j ? j : json_null());
		json_decref(j);
		free(s);
	} else if (rc == 0 && cli->verbosity >= 0) {
		printf("anchored %s: %llu row%s, row %lld, hash %s\n",
		       a.environment, (unsigned long long)a.rows,
		       a.rows == 1 ? "" : "s", (long long)a.last_id,
		       a.last_hash ? a.last_hash : "");
		printf("commit %s on refs/cairn/audit/%s\n", a.commit,
		       a.environment);
	}
	cairn_audit_anchor_dispose(&a);
	return rc;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		CLI_FLEET_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("audit");
	struct audit_opts o;
	const char *sub = "log";
	cairn_db *db = NULL;
	bool exists, fleet_done;
	int rc, first;

	memset(&o, 0, sizeof(o));
	rc = cli_parse_options(cli, cmd, argc, argv, opts, "n:", audit_option,
			       &o, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first < argc)
		sub = argv[first++];
	if (first < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[first]);
	if (strcmp(sub, "log") && strcmp(sub, "verify") && strcmp(sub, "export") &&
	    strcmp(sub, "anchor"))
		return cli_usage_error(cli, cmd, "unknown audit subcommand '%s'", sub);
	if (o.fleet.all_targets && strcmp(sub, "verify") && strcmp(sub, "anchor"))
		return cli_usage_error(cli, cmd, "--all-targets goes with 'audit verify' and 'audit anchor'");
	if ((rc = cli_fleet_dispatch(cli, "audit", &o.fleet,
				     !strcmp(sub, "anchor") ? CLI_FLEET_AUDIT_ANCHOR :
				     CLI_FLEET_AUDIT_VERIFY, &fleet_done)) || fleet_done)
		return rc;
	/* an anchor records the primary's head: not a standby's, which lags */
	if ((rc = !strcmp(sub, "anchor") ?
		   cli_open_deploy_db(cli, &db, "anchor the audit trail") :
		   cli_open_db(cli, &db)))
		return rc;
	/* read-only: without cairn's tables the trail is empty */
	if (cairn_schema_exists(&exists, db) < 0)
		rc = cli_report_error(cli);
	else if (!strcmp(sub, "verify"))
		rc = audit_verify(cli, db);
	else if (!strcmp(sub, "anchor") && !exists) {
		cli_errorf(cli, "nothing to anchor: this database has no audit trail yet");
		cli_hintf(cli, "anchor after the first 'cairn migrate up'");
		rc = CLI_EXIT_FAIL;
	} else if (!strcmp(sub, "anchor"))
		rc = audit_anchor(cli, db);
	else
		rc = audit_log(cli, db, &o, !strcmp(sub, "export"), exists);
	cairn_db_free(db);
	return rc;
}
