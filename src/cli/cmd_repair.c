/*
 * cmd_repair.c - `cairn repair --accept V | --resolve V`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "audit_run.h"
#include "dbopen.h"

struct repair_opts {
	const char *accept;
	const char *resolve;
	bool yes;
};

static int repair_option(struct cli *cli, int c, const char *arg,
			 void *payload)
{
	struct repair_opts *o = payload;

	(void)cli;
	if (c == 'a')
		o->accept = arg;
	else if (c == 'r')
		o->resolve = arg;
	else if (c == 'y')
		o->yes = true;
	return 0;
}

int cmd_repair(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "accept", required_argument, NULL, 'a' },
		{ "resolve", required_argument, NULL, 'r' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("repair");
	struct repair_opts ro = { NULL, NULL, false };
	cairn_run_options o = CAIRN_RUN_OPTIONS_INIT;
	const cairn_environment *env;
	cairn_migration_set *set = NULL;
	cairn_db *db = NULL;
	int64_t audit_head = 0;
	char rev[CAIRN_OID_HEXSZ], *ref = NULL;
	const char *v;
	int rc, audit_rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "y", repair_option,
			       &ro, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[first]);
	if (!!ro.accept == !!ro.resolve)
		return cli_usage_error(cli, cmd, "give either --accept V or --resolve V");
	v = ro.accept ? ro.accept : ro.resolve;
	if (!cairn_version_is_valid(v))
		return cli_usage_error(cli, cmd, "'%s' is not a migration version", v);
	if ((rc = cli_env(cli, &env)))
		return rc;
	if (env->confirm && !ro.yes) {
		cli_errorf(cli, "environment '%s' needs confirmation for repair", env->name);
		cli_hintf(cli, "pass --yes");
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_load_set(cli, NULL, cli->worktree, &set)))
		return rc;
	if ((rc = cli_open_deploy_db(cli, &db, "repair the tracking table")))
		goto out;
	if ((rc = cli_run_options(cli, &o, set, db, NULL, rev, &ref)))
		goto out;
	while (*v == '0' && v[1])
		v++;
	if ((rc = cli_audit_before_run(cli, db, &audit_head)))
		goto out;
	rc = ro.accept ? cairn_repair_accept(&o, v) : cairn_repair_resolve(&o, v);
	audit_rc = cli_audit_after_run(cli, db, NULL, audit_head);
	if (rc < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	if (cli->verbosity >= 0)
		printf(ro.accept ? "accepted the current checksum of migration %s\n"
				 : "cleared the failed row of migration %s; the next 'migrate up' applies it again\n",
		       v);
	rc = audit_rc;
out:
	free(ref);
	cairn_db_free(db);
	cairn_migration_set_free(set);
	return rc;
}
