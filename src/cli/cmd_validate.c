/*
 * cmd_validate.c - `cairn validate`: every check, as a CI gate.
 *
 * Static checks come from the library (cairn_validate_run); with --base
 * the set at the base revision is loaded too, so edits, deletions and
 * out-of-order versions since the base are found by comparing blob ids.
 * Exit status: 0 when no error was found (warnings allowed), 1 otherwise.
 *
 * validate goes through the same pipeline as migrate: pre_validate fires
 * before the migrations are loaded and may veto (exit 1, nothing
 * checked), post_validate fires only when validation passed and may veto
 * too.  The database the hooks see is the one validate checks (none with
 * --no-db or when it cannot be reached: sql hooks then fail).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/validate.h"
#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "fleet.h"
#include "report.h"
#include "validate_db.h"

struct validate_opts {
	const char *base;
	bool shadow;
	bool no_db;
	struct cli_fleet_opts fleet; /* --all-targets (cmd_fleet.c) */
};

enum { OPT_BASE = 1, OPT_SHADOW, OPT_NO_DB };

/* The pipeline and the connection its hooks see (opened only if needed). */
struct validate_hooks {
	cairn_pipeline *p;
	cairn_hook_spec *specs; /* the view's hooks; live as long as p */
	cairn_db *db;
	bool db_tried;
};

static void validate_hooks_dispose(struct validate_hooks *h)
{
	cairn_pipeline_free(h->p);
	free(h->specs);
	cairn_db_free(h->db);
}

/*
 * The pipeline of the hooks validate fires: those configured at
 * pre_validate and post_validate, and plugins (which may register at any
 * event).  Deploy-time hooks are left out, so a CI gate does not need the
 * secrets of a post_complete webhook to validate.  The view copies the
 * spec records only; their strings and lists stay owned by cli->cfg.
 */
static int build_validate_pipeline(struct cli *cli, struct validate_hooks *h)
{
	const cairn_config *cfg;
	cairn_config view;
	cairn_hook_spec *specs;
	size_t n = 0;
	int rc;

	if ((rc = cli_config(cli, &cfg)))
		return rc;
	specs = h->specs = calloc(cfg->hooks_count + 1, sizeof(*specs));
	if (!specs) {
		cli_errorf(cli, "out of memory");
		return CLI_EXIT_FAIL;
	}
	for (size_t i = 0; i < cfg->hooks_count; i++)
		if (cfg->hooks[i].event == CAIRN_EVENT_PRE_VALIDATE ||
		    cfg->hooks[i].event == CAIRN_EVENT_POST_VALIDATE ||
		    cfg->hooks[i].kind == CAIRN_HOOK_PLUGIN)
			specs[n++] = cfg->hooks[i];
	view = *cfg;
	view.hooks = specs;
	view.hooks_count = n;
	return cli_build_pipeline_from(cli, &view, &h->p);
}

/* A hook with on_failure warn says why it failed (abort is the veto). */
static void on_outcome(const cairn_hook_outcome *oc, void *payload)
{
	struct cli *cli = payload;

	if (oc->skipped || oc->rc == 0 ||
	    oc->hook->on_failure != CAIRN_ON_FAILURE_WARN)
		return;
	cli_warnf(cli, "hook '%s' at %s failed: %s", oc->hook->name,
		  cairn_event_name(oc->ctx->event),
		  oc->error && oc->error->message ? oc->error->message : "failed");
}

/*
 * Fires ev (pre_validate or post_validate).  0 when validate may go on;
 * a veto is reported and is exit 1; set-up failures their exit code.
 */
static int fire(struct cli *cli, struct validate_hooks *h, bool use_db,
		cairn_event ev, const cairn_migration_set *set)
{
	int rc;

	if (!cairn_pipeline_count(h->p, ev))
		return 0;
	if (use_db && !h->db_tried) {
		char *why = NULL;

		h->db_tried = true;
		if ((rc = cli_open_db_optional(cli, &h->db, &why)))
			return rc;
		if (!h->db)
			cli_verbosef(cli, "%s; sql hooks at %s will fail",
				     why ? why : "no database",
				     cairn_event_name(ev));
		free(why);
	}
	rc = cli_fire_event(cli, h->p, ev, set, NULL, h->db,
			    set ? cairn_migration_set_count(set) : 0,
			    on_outcome, cli);
	if (rc < 0) {
		cli_report_error(cli);
		return CLI_EXIT_FAIL;
	}
	return rc;
}

static int validate_option(struct cli *cli, int c, const char *arg,
			   void *payload)
{
	struct validate_opts *o = payload;
	bool taken;
	int rc = cli_fleet_option(cli, "validate", &o->fleet, c, arg, &taken);

	if (rc || taken)
		return rc;
	switch (c) {
	case OPT_BASE:
		o->base = arg;
		cli_fleet_pass(&o->fleet, "--base", arg);
		break;
	case OPT_SHADOW:
		o->shadow = true;
		cli_fleet_pass(&o->fleet, "--shadow", NULL);
		break;
	case OPT_NO_DB:
		o->no_db = true;
		cli_fleet_pass(&o->fleet, "--no-db", NULL);
		break;
	}
	return 0;
}

int cmd_validate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base", required_argument, NULL, OPT_BASE },
		{ "shadow", no_argument, NULL, OPT_SHADOW },
		{ "no-db", no_argument, NULL, OPT_NO_DB },
		CLI_FLEET_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("validate");
	struct validate_opts o;
	cairn_validate_options vo = CAIRN_VALIDATE_OPTIONS_INIT;
	cairn_findings findings = CAIRN_FINDINGS_INIT;
	cairn_migration_set *set = NULL, *base = NULL;
	const cairn_environment *env;
	cairn_repo *repo = NULL;
	struct validate_hooks hooks = { NULL, NULL, NULL, false };
	int rc, first;
	bool fleet_done;

	memset(&o, 0, sizeof(o));
	rc = cli_parse_options(cli, cmd, argc, argv, opts, "", validate_option,
			       &o, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'",
				       argv[first]);
	if (cli->format == CLI_FORMAT_MARKDOWN)
		return cli_usage_error(cli, cmd,
			"validate writes text, json, junit, github or gitlab");
	if ((rc = cli_fleet_dispatch(cli, "validate", &o.fleet, CLI_FLEET_VALIDATE,
				     &fleet_done)) || fleet_done)
		return rc;
	if ((rc = cli_repo(cli, &repo)) || (rc = cli_env(cli, &env)))
		return rc;
	if ((rc = build_validate_pipeline(cli, &hooks)) ||
	    (rc = fire(cli, &hooks, !o.no_db, CAIRN_EVENT_PRE_VALIDATE, NULL)))
		goto out;
	if ((rc = cli_load_set(cli, NULL, cli->worktree, &set)))
		goto out;
	if (o.base && (rc = cli_load_set(cli, o.base, false, &base)))
		goto out;
	vo.base = base;
	vo.base_rev = o.base;
	vo.repo = repo;
	vo.allow_out_of_order = env->allow_out_of_order;
	vo.require_down = env->require_down;
	if (cairn_validate_run(&findings, set, &vo) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	rc = cli_validate_extra(cli, set, &findings, !o.no_db, o.shadow);
	if (rc)
		goto out;
	cairn_findings_sort(&findings);
	cli_print_findings(cli, "validate", &findings, set);
	if (cairn_findings_count(&findings, CAIRN_SEVERITY_ERROR)) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	rc = fire(cli, &hooks, !o.no_db, CAIRN_EVENT_POST_VALIDATE, set);
out:
	cli_await_webhooks(cli, hooks.p);
	validate_hooks_dispose(&hooks);
	cairn_findings_dispose(&findings);
	cairn_migration_set_free(set);
	cairn_migration_set_free(base);
	return rc;
}
