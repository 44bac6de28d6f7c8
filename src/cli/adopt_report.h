/*
 * adopt_report.h - what `cairn baseline` and `cairn import` share: the
 * run itself (environment guard, set, database, audit sealing) and how
 * the mapping, a refusal or the outcome is printed.
 */
#ifndef CAIRN_CLI_ADOPT_REPORT_H
#define CAIRN_CLI_ADOPT_REPORT_H

#include "cairn/adopt.h"
#include "cli.h"

typedef int (*cli_adopt_fn)(cairn_adopt_result *out,
			    const cairn_run_options *o,
			    const cairn_adopt_options *a);

/*
 * Runs fn for the command `what` ("baseline", "import") with a, dry_run
 * and --yes; prints the result.  Returns the exit code.
 */
int cli_adopt_run(struct cli *cli, const char *what, cli_adopt_fn fn,
		  const cairn_adopt_options *a, bool dry_run, bool yes);

#endif
