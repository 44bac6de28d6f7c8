/*
 * dbopen.h - what database-facing commands share: choosing and opening
 * the connection (with the built-in development database as the default
 * for `development`), building the hook pipeline from the configuration,
 * interrupt handling, and printing the run's log lines.
 */
#ifndef CAIRN_CLI_DBOPEN_H
#define CAIRN_CLI_DBOPEN_H

#include <signal.h>

#include "cairn/db.h"
#include "cairn/engine.h"
#include "cairn/hook.h"
#include "cli.h"

/*
 * Opens the environment's database: --db, then database_url, then
 * DATABASE_URL, then (for development, when no PG* variable points
 * elsewhere) the built-in development database, started when needed,
 * then libpq defaults.  Returns 0 or an exit code after reporting.
 */
int cli_open_db(struct cli *cli, cairn_db **out);

/*
 * The connection of a command that writes (migrate, repair, audit
 * anchor): the environment's direct_database_url when it has one (the
 * deploy lock needs a session a pooler keeps), else as cli_open_db.
 * Refuses a standby or read-only target (exit 3), `what` naming the
 * work refused ("apply migrations"); NULL (a dry run) does not.
 */
int cli_open_deploy_db(struct cli *cli, cairn_db **out, const char *what);

/*
 * Like cli_open_db for checks that may go without a database (validate,
 * pre-push): never starts the development database (uses it only when
 * it is already running), connects with a short timeout, and on failure
 * leaves *out NULL, returns 0 and puts the reason in *why (caller frees).
 * Configuration errors still return an exit code.
 */
int cli_open_db_optional(struct cli *cli, cairn_db **out, char **why);

/* The hook pipeline described by the configuration (built-ins included). */
int cli_build_pipeline(struct cli *cli, cairn_pipeline **out);
/* The same from cfg (e.g. a view of the configuration with fewer hooks). */
int cli_build_pipeline_from(struct cli *cli, const cairn_config *cfg,
			    cairn_pipeline **out);

/*
 * SIGINT/SIGTERM: the first one sets the flag and cancels the statement
 * running on db; a second one ends the program at once.
 */
volatile sig_atomic_t *cli_interrupt_install(cairn_db *db);
void cli_interrupt_remove(void);
/*
 * A repeated SIGTERM does not end the process at once (as a second
 * Ctrl-C does): a fleet child gets one SIGTERM per thread of its dying
 * fleet, and must still roll back and write its audit row.
 */
void cli_interrupt_term_once(void);

/*
 * Waits for the pipeline's async webhook deliveries and reports failed
 * ones as warnings (the run's outcome is already decided).
 */
void cli_await_webhooks(struct cli *cli, cairn_pipeline *p);

/* Log callback for cairn_run_options: "[source] text" on stderr. */
void cli_log_line(const char *source, const char *text, void *payload);

/* Fills the parts of run options every command needs. */
int cli_run_options(struct cli *cli, cairn_run_options *o,
		    cairn_migration_set *set, cairn_db *db,
		    cairn_pipeline *pipeline, char deploy_rev[CAIRN_OID_HEXSZ],
		    char **deploy_ref);

#endif
