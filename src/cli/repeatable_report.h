/*
 * repeatable_report.h - repeatable migrations in `status` and `plan`
 * (repeatable_report.c).
 */
#ifndef CAIRN_CLI_REPEATABLE_REPORT_H
#define CAIRN_CLI_REPEATABLE_REPORT_H

#include <jansson.h>

#include "cairn/db.h"
#include "cairn/migration.h"
#include "cli.h"

/*
 * The repeatables of set next to <schema>.repeatables: into root's
 * "repeatables" array (JSON), or printed after the migrations (root
 * NULL).  Returns 0 or the CLI's exit code for an error it reported.
 */
int cli_status_repeatables(struct cli *cli, cairn_migration_set *set,
			   cairn_db *db, json_t *root);

/*
 * The migration a dry-run plan label names: "<version>_<name>" or
 * "<name> (repeatable)".  NULL when the set has none.
 */
cairn_migration *cli_plan_label_find(cairn_migration_set *set,
				     const char *label);

/*
 * `cairn import flyway`: which of Flyway's repeatables are (or would be)
 * recorded as applied, which stay pending (text output only).
 */
int cli_import_repeatables(struct cli *cli, cairn_migration_set *set,
			   cairn_db *db, bool dry_run);

/*
 * The same for `--format json`: *out an array of {"script", "name",
 * "file", "state" (applied | pending | missing), "flyway_checksum",
 * "file_checksum", "installed_by", "installed_on"}.  Returns 0 or the
 * CLI's exit code for an error it reported (*out NULL then).
 */
int cli_import_repeatables_json(struct cli *cli, cairn_migration_set *set,
				cairn_db *db, json_t **out);

#endif
