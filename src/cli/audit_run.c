/*
 * audit_run.c - the audit work around a run (audit_run.h).
 *
 * The key of the keyed chain is read from the environment at the moment
 * it is needed and never copied anywhere but into the HMAC; the database
 * only ever sees the MACs.  An anchor's actor is the deployer as the
 * engine describes it (git identity, OS user), so the anchor commit's
 * author says who took it.
 */
#include <stdlib.h>
#include <string.h>

#include "audit_run.h"
#include "cairn/engine.h"
#include "cairn/schema.h"
#include "cli.h"
#include "error.h"

int cli_audit_key(struct cli *cli, const char **key, size_t *len)
{
	const cairn_config *cfg;
	const char *v;
	int rc;

	*key = NULL;
	*len = 0;
	if ((rc = cli_config(cli, &cfg)))
		return rc;
	if (!cfg->audit_secret_env)
		return 0;
	v = getenv(cfg->audit_secret_env);
	if (!v || !*v) {
		cli_errorf(cli, "audit.secret_env names %s, which is %s",
			   cfg->audit_secret_env, v ? "empty" : "not set");
		cli_hintf(cli, "export the keyed chain's key in %s (the key never goes into the database)",
			  cfg->audit_secret_env);
		return CLI_EXIT_USAGE;
	}
	*key = v;
	*len = strlen(v);
	return 0;
}

int cli_audit_anchor(struct cli *cli, cairn_db *db, cairn_audit_anchor *out)
{
	const cairn_config *cfg;
	const cairn_environment *env;
	cairn_repo *repo;
	char *actor = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = cli_config(cli, &cfg)) || (rc = cli_env(cli, &env)) ||
	    (rc = cli_repo(cli, &repo)))
		return rc;
	if (cairn_audit_head(out, db) < 0 ||
	    cairn_actor_describe(&actor, NULL, repo) < 0)
		return cli_report_error(cli);
	out->actor = actor;
	out->environment = strdup(env->name);
	if (!out->environment || cairn_audit_anchor_commit(out, repo) < 0)
		return cli_report_error(cli);
	if (cfg->audit_anchor_file &&
	    cairn_audit_anchor_append_file(out, cfg->audit_anchor_file) < 0)
		return cli_report_error(cli);
	return 0;
}

int cli_audit_before_run(struct cli *cli, cairn_db *db, int64_t *head_id)
{
	cairn_audit_anchor head;
	const char *key;
	size_t len;
	int rc;

	*head_id = 0;
	if ((rc = cli_audit_key(cli, &key, &len)) || !key)
		return rc;
	if (cairn_schema_ensure(db) < 0 || cairn_audit_head(&head, db) < 0) {
		cairn_audit_anchor_dispose(&head);
		return cli_report_error(cli);
	}
	*head_id = head.last_id;
	cairn_audit_anchor_dispose(&head);
	return 0;
}

/* Seals the run's rows with the key; a warning when it cannot. */
static void seal(struct cli *cli, cairn_db *db, const char *run_id,
		 int64_t after_id, const char *var)
{
	const char *key;
	size_t len, sealed = 0;

	if (cli_audit_key(cli, &key, &len) || !key)
		return;
	if (cairn_audit_seal(&sealed, db, run_id, after_id, key, len) < 0) {
		const cairn_error *e = cairn_error_last();

		cli_warnf(cli, "the run's audit rows were not sealed: %s",
			  e ? e->message : "unknown error");
		return;
	}
	cli_verbosef(cli, "sealed %zu audit row%s with the key in %s", sealed,
		     sealed == 1 ? "" : "s", var);
}

void cli_audit_after_run(struct cli *cli, cairn_db *db, const char *run_id,
			 int64_t after_id)
{
	const cairn_config *cfg;
	cairn_audit_anchor a;
	cairn_error_saved saved;

	if (!db || !cairn_db_is_ok(db) || cli_config(cli, &cfg))
		return;
	/* the run's own error is what the command reports */
	cairn_error__save(&saved);
	if ((!run_id || run_id[0]) && cfg->audit_secret_env)
		seal(cli, db, run_id, after_id, cfg->audit_secret_env);
	if (cfg->audit_anchor) {
		if (cli_audit_anchor(cli, db, &a) == 0)
			cli_verbosef(cli, "anchored the audit trail: %llu rows, row %lld, commit %.12s",
				     (unsigned long long)a.rows,
				     (long long)a.last_id, a.commit);
		else
			cli_warnf(cli, "the audit trail was not anchored");
		cairn_audit_anchor_dispose(&a);
	}
	cairn_error__restore(&saved);
}
