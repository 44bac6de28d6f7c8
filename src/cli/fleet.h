/*
 * fleet.h (cli) - `--all-targets` for migrate (cmd_fleet.c): one child
 * `cairn` per target, run by the library's fleet scheduler, with the
 * target's URL passed in the child's environment (never on a command
 * line), then a summary table or JSON.
 */
#ifndef CAIRN_CLI_FLEET_H
#define CAIRN_CLI_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/* The environment variables a fleet child reads its target from. */
#define CLI_FLEET_URL_VAR "CAIRN_FLEET_DATABASE_URL"
#define CLI_FLEET_SCHEMA_VAR "CAIRN_FLEET_SCHEMA"

struct cli_fleet_args {
	bool status;              /* `status --all-targets`, else migrate up */
	unsigned parallel;        /* 0: 4 */
	size_t canary;
	bool keep_going;
	bool yes;
	const char *const *pass;  /* options for each child's command */
	size_t npass;
};

/* `migrate up --all-targets`, `status --all-targets`: an exit code. */
int cli_fleet_migrate(struct cli *cli, const struct cli_fleet_args *a);

/*
 * In a child (--fleet-target NAME): takes the target's URL and schema
 * from the environment variables above (and removes them), so the
 * command runs against that target.  Returns 0 or an exit code.
 */
int cli_fleet_child(struct cli *cli, const char *name);

#endif
