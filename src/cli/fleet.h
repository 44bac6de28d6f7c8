/*
 * fleet.h (cli) - `--all-targets` for migrate up, status, validate and
 * audit verify|anchor (cmd_fleet.c): one child `cairn` per target, run
 * by the library's fleet scheduler, with the target's URL passed in the
 * child's environment (never on a command line), then a summary table,
 * JSON or JUnit.
 */
#ifndef CAIRN_CLI_FLEET_H
#define CAIRN_CLI_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/* The environment variables a fleet child reads its target from. */
#define CLI_FLEET_URL_VAR "CAIRN_FLEET_DATABASE_URL"
#define CLI_FLEET_SCHEMA_VAR "CAIRN_FLEET_SCHEMA"
/* The fleet's pid: a child whose fleet is gone stops (cli_fleet_child). */
#define CLI_FLEET_PARENT_VAR "CAIRN_FLEET_PARENT"
/* The commit the fleet resolved --rev to: every child runs that one. */
#define CLI_FLEET_COMMIT_VAR "CAIRN_FLEET_COMMIT"

enum cli_fleet_kind {
	CLI_FLEET_MIGRATE = 0,
	CLI_FLEET_STATUS,
	CLI_FLEET_VALIDATE,
	CLI_FLEET_AUDIT_VERIFY,
	CLI_FLEET_AUDIT_ANCHOR
};

struct cli_fleet_args {
	bool status;              /* `status --all-targets` (kind STATUS) */
	enum cli_fleet_kind kind; /* when status is false */
	unsigned parallel;        /* 0: 4 */
	size_t canary;
	bool keep_going;
	bool yes;
	const char *const *pass;  /* options for each child's command */
	size_t npass;
};

/*
 * The fleet options of validate and audit (migrate and status parse
 * their own): add CLI_FLEET_LONG_OPTIONS to the command's options, hand
 * every option to cli_fleet_option() first (it says whether it took
 * it), record the options a child needs with cli_fleet_pass(), then call
 * cli_fleet_dispatch() after parsing.
 */
enum {
	CLI_FLEET_OPT_ALL = 0x2000, /* past the global options (cli.c) */
	CLI_FLEET_OPT_PARALLEL,
	CLI_FLEET_OPT_CANARY,
	CLI_FLEET_OPT_KEEP_GOING,
	CLI_FLEET_OPT_TARGET
};
#define CLI_FLEET_LONG_OPTIONS \
	{ "all-targets", no_argument, NULL, CLI_FLEET_OPT_ALL }, \
	{ "parallel", required_argument, NULL, CLI_FLEET_OPT_PARALLEL }, \
	{ "canary", required_argument, NULL, CLI_FLEET_OPT_CANARY }, \
	{ "keep-going", no_argument, NULL, CLI_FLEET_OPT_KEEP_GOING }, \
	{ "fleet-target", required_argument, NULL, CLI_FLEET_OPT_TARGET }

struct cli_fleet_opts {
	bool all_targets;
	const char *target;       /* --fleet-target */
	struct cli_fleet_args a;
	const char *pass[16];
};

/* 0 (*taken says whether c was a fleet option) or an exit code. */
int cli_fleet_option(struct cli *cli, const char *cmd,
		     struct cli_fleet_opts *o, int c, const char *arg,
		     bool *taken);
/* Records an option (and its argument, may be NULL) for the children. */
void cli_fleet_pass(struct cli_fleet_opts *o, const char *opt,
		    const char *arg);
/*
 * After parsing: checks the fleet options' rules; in a child takes the
 * target (cli_fleet_child); with --all-targets runs the fleet of kind
 * and sets *done.  Returns 0 or an exit code.
 */
int cli_fleet_dispatch(struct cli *cli, const char *cmd,
		       struct cli_fleet_opts *o, enum cli_fleet_kind kind,
		       bool *done);

/* `COMMAND --all-targets` of a->kind: an exit code. */
int cli_fleet_migrate(struct cli *cli, const struct cli_fleet_args *a);

/*
 * In a child (--fleet-target NAME): takes the target's URL and schema
 * from the environment variables above (and removes them), so the
 * command runs against that target.  When the fleet process dies (kill
 * -9), the child gets SIGTERM and stops as on Ctrl-C instead of going on
 * unattended; when --rev (HEAD) names another commit than the one the
 * fleet started with (the branch moved during the run), the child
 * refuses.  Returns 0 or an exit code.
 */
int cli_fleet_child(struct cli *cli, const char *name);

/*
 * The name an audit anchor is kept under: the environment's name, and in
 * a fleet's child "ENV@TARGET", so each target's chain has its own ref
 * (refs/cairn/audit/ENV@TARGET).
 */
const char *cli_fleet_anchor_name(const char *environment);

#endif
