/*
 * cmd_status.c - `cairn status`: the migrations at --rev next to the
 * tracking table, with the commit and author of each.
 *
 * The tracking table already records commit and author for applied
 * migrations, so provenance is walked only for pending ones.  Files that
 * validate rejects (and the set leaves out) are listed as "invalid" with
 * the reason, and make the exit status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "fleet.h"
#include "repeatable_report.h"
#include "report.h"

/* --all-targets (cmd_fleet.c), and --fleet-target in its children */
enum { OPT_ALL_TARGETS = 1, OPT_PARALLEL, OPT_FLEET_TARGET };

struct status_opts {
	bool all_targets;
	const char *fleet_target;
	struct cli_fleet_args fleet;
};

static int status_option(struct cli *cli, int c, const char *arg,
			 void *payload)
{
	struct status_opts *o = payload;
	char *end;
	unsigned long v;

	switch (c) {
	case OPT_ALL_TARGETS:
		o->all_targets = true;
		return 0;
	case OPT_PARALLEL:
		v = strtoul(arg, &end, 10);
		if (*end || !*arg || v == 0 || v > 100000)
			return cli_usage_error(cli, cli_find_command("status"),
					       "--parallel needs a positive number, not '%s'", arg);
		o->fleet.parallel = v > 256 ? 256 : (unsigned)v;
		return 0;
	case OPT_FLEET_TARGET:
		o->fleet_target = arg;
		return 0;
	}
	return CLI_EXIT_USAGE;
}

/* --all-targets runs the fleet; --fleet-target takes the child's target. */
static int status_fleet(struct cli *cli, struct status_opts *so, bool *done)
{
	const struct cli_command *cmd = cli_find_command("status");

	*done = false;
	if (!so->all_targets) {
		if (so->fleet.parallel)
			return cli_usage_error(cli, cmd, "--parallel goes with --all-targets");
		return so->fleet_target ? cli_fleet_child(cli, so->fleet_target) : 0;
	}
	if (so->fleet_target || cli->db_url)
		return cli_usage_error(cli, cmd, "--all-targets shows the environment's targets: no --db or --fleet-target");
	*done = true;
	so->fleet.status = true;
	return cli_fleet_migrate(cli, &so->fleet);
}

static const char *state_color(cairn_state s)
{
	switch (s) {
	case CAIRN_STATE_APPLIED:
		return "32";
	case CAIRN_STATE_PENDING:
		return "33";
	default:
		return "1;31";
	}
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_find_command("status");
	cairn_migration_set *set = NULL;
	cairn_applied_list applied = { NULL, 0, NULL };
	cairn_status_entry *e = NULL;
	const cairn_environment *env;
	const char **pending = NULL;
	size_t n = 0, np = 0, counts[6] = { 0 }, invalid = 0;
	cairn_repo *repo;
	cairn_db *db = NULL;
	static const struct option opts[] = {
		{ "all-targets", no_argument, NULL, OPT_ALL_TARGETS },
		{ "parallel", required_argument, NULL, OPT_PARALLEL },
		{ "fleet-target", required_argument, NULL, OPT_FLEET_TARGET },
		{ NULL, 0, NULL, 0 },
	};
	struct status_opts so;
	bool fleet_done;
	int rc, first;

	memset(&so, 0, sizeof(so));
	rc = cli_parse_options(cli, cmd, argc, argv, opts, "", status_option,
			       &so, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'",
				       argv[first]);
	if ((rc = status_fleet(cli, &so, &fleet_done)) || fleet_done)
		return rc;
	if ((rc = cli_env(cli, &env)) || (rc = cli_repo(cli, &repo)))
		return rc;
	if ((rc = cli_load_set(cli, NULL, cli->worktree, &set)))
		return rc;
	if (cairn_migration_set_check_dir(set) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	if ((rc = cli_open_db(cli, &db)))
		goto out;
	if (cairn_applied_load(&applied, db) < 0 ||
	    cairn_status_compute(&e, &n, set, &applied) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	pending = calloc(n + 1, sizeof(*pending));
	for (size_t i = 0; pending && i < n; i++)
		if (e[i].state == CAIRN_STATE_PENDING)
			pending[np++] = e[i].migration->version;
	if (np && cairn_migration_set_provenance(set, repo, pending, np) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	cli_warn_malformed_authors(cli, set);
	for (size_t i = 0; i < n; i++)
		counts[e[i].state]++;
	invalid = cli_invalid_count(set);
	if (cli->format == CLI_FORMAT_JSON) {
		json_t *root = json_object(), *arr = json_array();

		json_object_set_new(root, "environment", json_string(env->name));
		json_object_set_new(root, "database", cli_json_str(cairn_db_description(db)));
		json_object_set_new(root, "revision", json_string(cli->worktree ? "worktree" : cairn_migration_set_commit(set)));
		for (size_t i = 0; i < n; i++) {
			const cairn_migration *m = e[i].migration;
			const cairn_applied *a = e[i].applied;
			json_t *o = json_object();

			json_object_set_new(o, "version", json_string(m ? m->version : a->version));
			json_object_set_new(o, "name", cli_json_str(m ? m->name : a->name));
			json_object_set_new(o, "state", json_string(cairn_state_name(e[i].state)));
			json_object_set_new(o, "file", cli_json_str_or_null(m ? m->up_path : NULL));
			json_object_set_new(o, "out_of_order", json_boolean(e[i].out_of_order));
			if (a) {
				json_object_set_new(o, "commit", cli_json_str_or_null(*a->commit_sha ? a->commit_sha : NULL));
				json_object_set_new(o, "author_name", cli_json_str(a->author_name));
				json_object_set_new(o, "author_email", cli_json_str(a->author_email));
				json_object_set_new(o, "applied_at", json_string(a->applied_at));
				json_object_set_new(o, "applied_by", cli_json_str(a->applied_by));
				json_object_set_new(o, "duration_ms", json_integer(a->duration_ms));
				if (*a->error)
					json_object_set_new(o, "error", cli_json_str(a->error));
			} else if (m && m->has_provenance) {
				json_object_set_new(o, "commit", json_string(m->introduced.sha));
				json_object_set_new(o, "author_name", cli_json_str(m->introduced.author_name));
				json_object_set_new(o, "author_email", cli_json_str(m->introduced.author_email));
			}
			json_array_append_new(arr, o);
		}
		json_object_set_new(root, "migrations", arr);
		if ((rc = cli_status_repeatables(cli, set, db, root))) {
			json_decref(root);
			goto out;
		}
		json_object_set_new(root, "invalid", cli_invalid_json(set));
		json_object_set_new(root, "summary", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
			"applied", (json_int_t)counts[CAIRN_STATE_APPLIED],
			"pending", (json_int_t)counts[CAIRN_STATE_PENDING],
			"drifted", (json_int_t)counts[CAIRN_STATE_DRIFTED],
			"missing", (json_int_t)counts[CAIRN_STATE_MISSING],
			"failed", (json_int_t)(counts[CAIRN_STATE_FAILED] + counts[CAIRN_STATE_RUNNING]),
			"invalid", (json_int_t)invalid));
		cli_print_json(root);
		json_decref(root);
	} else {
		cli_quoted qh = CLI_QUOTED_INIT;

		printf("environment %s, database %s\n", cli_q(&qh, env->name),
		       cli_q(&qh, cairn_db_description(db)));
		cli_quoted_release(&qh);
		for (size_t i = 0; i < n; i++) {
			const cairn_migration *m = e[i].migration;
			const cairn_applied *a = e[i].applied;
			cli_quoted q = CLI_QUOTED_INIT;
			const char *sha = a ? a->commit_sha : (m && m->has_provenance ? m->introduced.sha : "");
			const char *author = a ? a->author_name : (m && m->has_provenance ? m->introduced.author_name : "");

			printf("  %s%-8s%s %-6s %-32s %-10.10s  %-24s", cli_color(cli, stdout, state_color(e[i].state)),
			       cairn_state_name(e[i].state), cli_reset(cli, stdout),
			       cli_q(&q, m ? m->version_text : a->version),
			       cli_q(&q, m ? m->name : a->name), cli_q(&q, sha),
			       cli_q(&q, author));
			if (a && e[i].state == CAIRN_STATE_APPLIED)
				printf("  %s", cli_q(&q, a->applied_at));
			if (e[i].out_of_order)
				printf("  (out of order)");
			putchar('\n');
			cli_quoted_release(&q);
		}
		if ((rc = cli_status_repeatables(cli, set, db, NULL)))
			goto out;
		cli_print_invalid(cli, set, false);
		printf("%zu applied, %zu pending", counts[CAIRN_STATE_APPLIED], counts[CAIRN_STATE_PENDING]);
		if (counts[CAIRN_STATE_DRIFTED])
			printf(", %zu drifted", counts[CAIRN_STATE_DRIFTED]);
		if (counts[CAIRN_STATE_MISSING])
			printf(", %zu missing", counts[CAIRN_STATE_MISSING]);
		if (counts[CAIRN_STATE_FAILED] + counts[CAIRN_STATE_RUNNING])
			printf(", %zu failed", counts[CAIRN_STATE_FAILED] + counts[CAIRN_STATE_RUNNING]);
		if (invalid)
			printf(", %zu invalid", invalid);
		putchar('\n');
		if (invalid)
			cli_hintf(cli, "invalid files are left out of every run; 'cairn validate' explains each");
		if (counts[CAIRN_STATE_DRIFTED])
			cli_hintf(cli, "a drifted migration was edited after it was applied: restore it, or 'cairn repair --accept VERSION'");
		if (counts[CAIRN_STATE_FAILED] + counts[CAIRN_STATE_RUNNING])
			cli_hintf(cli, "check the database, then 'cairn repair --resolve VERSION'");
	}
	/* files validate rejects make the status a failure (exit 1) */
	rc = invalid ? CLI_EXIT_FAIL : 0;
out:
	free(pending);
	free(e);
	cairn_applied_list_dispose(&applied);
	cairn_db_free(db);
	cairn_migration_set_free(set);
	return rc;
}
