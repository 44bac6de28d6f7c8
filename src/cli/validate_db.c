/*
 * validate_db.c - validate's checks that need more than the migration
 * files: lint rules, the environment's database and a shadow database.
 */
#include "validate_db.h"

int cli_validate_extra(struct cli *cli, cairn_migration_set *set,
		       cairn_findings *findings, bool use_db, bool shadow)
{
	(void)set;
	(void)findings;
	(void)use_db;
	if (shadow) {
		cli_errorf(cli, "validate --shadow is not built yet");
		return CLI_EXIT_USAGE;
	}
	return 0;
}
