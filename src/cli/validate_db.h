/*
 * validate_db.h - the checks of `cairn validate` beyond the static ones:
 * lint, the database (drift, missing, out-of-order against applied
 * versions) and the shadow database.  Each adds findings; returns 0 or an
 * exit code after reporting.
 */
#ifndef CAIRN_CLI_VALIDATE_DB_H
#define CAIRN_CLI_VALIDATE_DB_H

#include "cairn/finding.h"
#include "cairn/migration.h"
#include "cli.h"

int cli_validate_extra(struct cli *cli, cairn_migration_set *set,
		       cairn_findings *findings, bool use_db, bool shadow);

#endif
