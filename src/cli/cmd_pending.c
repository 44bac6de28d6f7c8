/*
 * cmd_pending.c - commands whose engine is not built yet.  Each says so
 * clearly and exits 2, so scripts never mistake silence for success.
 */
#include "cli.h"
#include "commands.h"

static __attribute__((unused)) int not_built(struct cli *cli,
					      const char *what)
{
	cli_errorf(cli, "'%s' is not built yet in this version of cairn", what);
	cli_hintf(cli, "it needs the apply engine (database, pipeline, audit)");
	return CLI_EXIT_USAGE;
}

#define PENDING(fn, what)                                        \
	int fn(struct cli *cli, int argc, char **argv)          \
	{                                                        \
		(void)argc;                                      \
		(void)argv;                                      \
		return not_built(cli, what);                     \
	}


