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
#include "fleet.h"
#include "util/error.h"

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

/*
 * Whether the trail still holds against every anchor of the environment
 * (the latest one as verify checks it, and the history): an anchor over
 * a trail that does not would make the tampering pass verify.  *refused
 * is set, and the error printed, when it does not.
 */
static int anchor_guard(struct cli *cli, cairn_db *db, cairn_repo *repo,
			const char *environment, bool *refused)
{
	cairn_audit_verify_options o = CAIRN_AUDIT_VERIFY_OPTIONS_INIT;
	cairn_audit_verify_result r;
	cairn_audit_anchor *hist = NULL;
	size_t n = 0;
	char *why = NULL;
	int rc = 0;

	*refused = false;
	memset(&r, 0, sizeof(r));
	if (cairn_audit_anchor_history(&hist, &n, repo, environment) < 0)
		return cli_report_error(cli);
	if (!n)
		return 0;
	o.anchor = &hist[0];
	if (cairn_audit_verify_with(&r, db, &o) < 0 ||
	    (!r.anchor_reason &&
	     cairn_audit_check_anchors(&why, db, hist, n) < 0)) {
		rc = cli_report_error(cli);
		goto out;
	}
	if (r.anchor_reason || why) {
		cli_errorf(cli, "refusing to anchor the audit trail of %s: it does not match its anchor (commit %.12s)",
			   environment, hist[0].commit);
		cli_detailf(cli, "%s", r.anchor_reason ? r.anchor_reason : why);
		cli_hintf(cli, "investigate before anchoring again: an anchor now would hide the change from 'cairn audit verify'; compare with 'git log refs/cairn/audit/%s' and an exported copy",
			  environment);
		*refused = true;
		rc = CLI_EXIT_FAIL;
	}
out:
	free(why);
	cairn_audit_verify_result_dispose(&r);
	cairn_audit_anchors_free(hist, n);
	return rc;
}

static int anchor(struct cli *cli, cairn_db *db, cairn_audit_anchor *out,
		  bool *refused)
{
	const cairn_config *cfg;
	const cairn_environment *env;
	cairn_repo *repo;
	char *actor = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	*refused = false;
	if ((rc = cli_config(cli, &cfg)) || (rc = cli_env(cli, &env)) ||
	    (rc = cli_repo(cli, &repo)) ||
	    (rc = anchor_guard(cli, db, repo, cli_fleet_anchor_name(env->name),
				refused)))
		return rc;
	if (cairn_audit_head(out, db) < 0 ||
	    cairn_actor_describe(&actor, NULL, repo) < 0)
		return cli_report_error(cli);
	out->actor = actor;
	out->environment = strdup(cli_fleet_anchor_name(env->name));
	if (!out->environment || cairn_audit_anchor_commit(out, repo) < 0)
		return cli_report_error(cli);
	if (cfg->audit_anchor_file &&
	    cairn_audit_anchor_append_file(out, cfg->audit_anchor_file) < 0)
		return cli_report_error(cli);
	return 0;
}

int cli_audit_anchor(struct cli *cli, cairn_db *db, cairn_audit_anchor *out)
{
	bool refused;

	return anchor(cli, db, out, &refused);
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

/*
 * Whether the latest anchor of the environment records a MAC (the trail
 * was keyed when it was taken); false without a repository or anchor.
 */
static bool anchor_has_mac(struct cli *cli)
{
	const cairn_environment *env;
	cairn_repo *repo;
	cairn_audit_anchor a;
	bool found = false, mac;

	if (!cli->repo && cairn_repo_open(&cli->repo, ".") < 0)
		cli->repo = NULL;
	repo = cli->repo;
	if (!repo || cli_env(cli, &env) ||
	    cairn_audit_anchor_latest(&a, &found, repo,
				      cli_fleet_anchor_name(env->name)) < 0) {
		cairn_error_clear();
		return false;
	}
	mac = found && a.last_mac;
	cairn_audit_anchor_dispose(&a);
	return mac;
}

/*
 * Seals with the key: the run's rows, and on a trail never keyed before
 * every row before them (their MACs would vouch for them anyway).  It
 * refuses when a row older than the run lacks a MAC on a trail that was
 * keyed before: a MAC now would vouch for a trail verify rejects.
 */
static int seal(struct cli *cli, cairn_db *db, const char *run_id,
		int64_t after_id, const char *var)
{
	const char *key;
	char *why = NULL;
	size_t len, sealed = 0;

	if (cli_audit_key(cli, &key, &len) || !key)
		return 0;
	if (cairn_audit_seal_check(&why, db, run_id, after_id,
				   anchor_has_mac(cli)) < 0 ||
	    (!why && cairn_audit_seal(&sealed, db, NULL, 0, key, len) < 0)) {
		const cairn_error *e = cairn_error_last();

		cli_warnf(cli, "the run's audit rows were not sealed: %s",
			  e ? e->message : "unknown error");
		return 0;
	}
	if (why) {
		cli_errorf(cli, "refusing to seal the run's audit rows with the key in %s",
			   var);
		cli_detailf(cli, "%s", why);
		cli_hintf(cli, "the run's migrations stay applied and audited; investigate with 'cairn audit verify' before the next run: its MACs would vouch for every row before them");
		free(why);
		return CLI_EXIT_FAIL;
	}
	cli_verbosef(cli, "sealed %zu audit row%s with the key in %s", sealed,
		     sealed == 1 ? "" : "s", var);
	return 0;
}

int cli_audit_after_run(struct cli *cli, cairn_db *db, const char *run_id,
			int64_t after_id)
{
	const cairn_config *cfg;
	cairn_audit_anchor a;
	cairn_error_saved saved;
	bool refused = false;
	int rc = 0;

	if (!db || !cairn_db_is_ok(db) || cli_config(cli, &cfg))
		return 0;
	/* the run's own error is what the command reports */
	cairn_error__save(&saved);
	if ((!run_id || run_id[0]) && cfg->audit_secret_env)
		rc = seal(cli, db, run_id, after_id, cfg->audit_secret_env);
	if (cfg->audit_anchor) {
		if (anchor(cli, db, &a, &refused) == 0)
			cli_verbosef(cli, "anchored the audit trail: %llu rows, row %lld, commit %.12s",
				     (unsigned long long)a.rows,
				     (long long)a.last_id, a.commit);
		else if (refused)
			rc = CLI_EXIT_FAIL;
		else
			cli_warnf(cli, "the audit trail was not anchored");
		cairn_audit_anchor_dispose(&a);
	}
	cairn_error__restore(&saved);
	return rc;
}
