/*
 * cmd_import.c - `cairn import golang-migrate|dbmate|flyway|sqitch
 * [--dry-run]`: take over a database from another tool's history table
 * (the engine's cairn_import(); adopt_report.c prints).
 */
#include <stdio.h>
#include <string.h>

#include "adopt_report.h"
#include "commands.h"

struct import_opts {
	bool dry_run;
	bool yes;
};

enum { OPT_DRY = 1, OPT_YES };

static int import_option(struct cli *cli, int c, const char *arg,
			 void *payload)
{
	struct import_opts *o = payload;

	(void)cli;
	(void)arg;
	if (c == OPT_DRY)
		o->dry_run = true;
	else if (c == OPT_YES || c == 'y')
		o->yes = true;
	return 0;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "yes", no_argument, NULL, OPT_YES },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("import");
	struct import_opts io = { false, false };
	cairn_adopt_options a = CAIRN_ADOPT_OPTIONS_INIT;
	const char *const *tools = cairn_import_tools();
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "y", import_option,
			       &io, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first >= argc)
		return cli_usage_error(cli, cmd, "name the tool: golang-migrate, dbmate, flyway or sqitch");
	if (first + 1 < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[first + 1]);
	for (size_t i = 0; tools[i]; i++)
		if (!strcmp(tools[i], argv[first]))
			a.tool = tools[i];
	if (!a.tool)
		return cli_usage_error(cli, cmd, "cannot import from '%s': say golang-migrate, dbmate, flyway or sqitch", argv[first]);
	return cli_adopt_run(cli, "import", cairn_import, &a, io.dry_run, io.yes);
}
