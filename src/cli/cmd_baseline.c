/*
 * cmd_baseline.c - `cairn baseline VERSION [--reason TEXT] [--dry-run]`:
 * record every migration up to VERSION as applied without running it
 * (the engine's cairn_baseline(); adopt_report.c prints).
 */
#include <stdio.h>
#include <string.h>

#include "adopt_report.h"
#include "commands.h"

struct baseline_opts {
	const char *reason;
	bool dry_run;
	bool yes;
};

enum { OPT_REASON = 1, OPT_DRY, OPT_YES };

static int baseline_option(struct cli *cli, int c, const char *arg,
			   void *payload)
{
	struct baseline_opts *o = payload;

	(void)cli;
	if (c == OPT_REASON)
		o->reason = arg;
	else if (c == OPT_DRY)
		o->dry_run = true;
	else if (c == OPT_YES || c == 'y')
		o->yes = true;
	return 0;
}

int cmd_baseline(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "yes", no_argument, NULL, OPT_YES },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("baseline");
	struct baseline_opts bo = { NULL, false, false };
	cairn_adopt_options a = CAIRN_ADOPT_OPTIONS_INIT;
	const char *v;
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "y",
			       baseline_option, &bo, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first >= argc)
		return cli_usage_error(cli, cmd, "give the version the database's schema is at");
	if (first + 1 < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[first + 1]);
	v = argv[first];
	if (!cairn_version_is_valid(v))
		return cli_usage_error(cli, cmd, "'%s' is not a migration version", v);
	a.target = v;
	a.reason = bo.reason;
	return cli_adopt_run(cli, "baseline", cairn_baseline, &a, bo.dry_run,
			     bo.yes);
}
