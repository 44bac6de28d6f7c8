/*
 * audit_run.h - the audit work a command does around a run, from the
 * `audit:` section of cairn.yaml (doc/audit.md): reading the keyed
 * chain's key from the variable audit.secret_env names, sealing a run's
 * rows with it, and anchoring the chain's head (audit.anchor,
 * audit.anchor_file).  Shared by `migrate`, `repair` and `audit anchor`.
 */
#ifndef CAIRN_CLI_AUDIT_RUN_H
#define CAIRN_CLI_AUDIT_RUN_H

#include "cairn/audit.h"
#include "cli.h"

/*
 * The key of the keyed chain: *key NULL when audit.secret_env is not
 * configured.  A configured variable that is unset or empty is a
 * configuration error: returns its exit code after reporting.
 */
int cli_audit_key(struct cli *cli, const char **key, size_t *len);

/*
 * Reads the chain's head and records it as an anchor (the repository's
 * refs/cairn/audit/<environment>, and audit.anchor_file when set).  *out
 * gets the anchor; dispose it.  Returns 0 or an exit code after
 * reporting.
 */
int cli_audit_anchor(struct cli *cli, cairn_db *db, cairn_audit_anchor *out);

/*
 * Before a run whose run id the command does not learn (repair): checks
 * the key is there when the chain is keyed (else returns an exit code
 * after reporting) and reads the id of the newest row into *head_id (0
 * when the chain is not keyed), for cli_audit_after_run.
 */
int cli_audit_before_run(struct cli *cli, cairn_db *db, int64_t *head_id);

/*
 * After a run that wrote audit rows under run_id (NULL: any run) with
 * ids above after_id: seals them when the chain is keyed, then anchors
 * when audit.anchor is on.  Problems are warnings (the run's own outcome
 * is already decided), except a trail that no longer matches its anchor
 * or lost MACs: then nothing is anchored or sealed, the error is
 * printed, and CLI_EXIT_FAIL returned for the command's exit code.
 */
int cli_audit_after_run(struct cli *cli, cairn_db *db, const char *run_id,
			int64_t after_id);

#endif
