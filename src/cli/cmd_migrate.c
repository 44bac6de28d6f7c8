/*
 * cmd_migrate.c - `cairn migrate up|down`.
 *
 * Checks the environment's guards first (allowed_refs, require_clean_tree,
 * confirm), then hands the run to the engine with the pipeline built from
 * cairn.yaml.  On a terminal, a progress bar shows count, current
 * migration and elapsed time; elsewhere one line per migration.
 *
 * Every outcome leaves an audit row: the engine writes the rows of a run
 * it started (refusals by validation included); a run refused here, by
 * a guard or by the validation of the confirmation's dry run, gets its
 * `refused` row from cairn_audit_refusal().  After the run the rows are
 * sealed when the chain is keyed and the chain anchored when
 * audit.anchor is on (audit_run.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adopt_report.h"
#include "cairn/refs.h"
#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "fleet.h"
#include "audit_run.h"
#include "cairn/audit.h"
#include "repeatable_report.h"
#include "report.h"
#include "util/util.h"
#include "util/error.h"

struct migrate_opts {
	const char *to;
	size_t steps;
	bool dry_run;
	bool single;
	bool yes;
	bool as_far;
	uint64_t lock_timeout_ms;
	bool no_retry;
	cairn_kv meta[32];
	size_t nmeta;
	/* fleets (cmd_fleet.c): the options each target's child gets */
	bool all_targets;
	const char *fleet_target;
	struct cli_fleet_args fleet;
	const char *pass[80];
};

enum { OPT_TO = 1, OPT_STEPS, OPT_DRY, OPT_SINGLE, OPT_YES, OPT_LOCK, OPT_META,
       OPT_NO_RETRY, OPT_AS_FAR, OPT_ALL_TARGETS, OPT_PARALLEL, OPT_CANARY,
       OPT_KEEP_GOING, OPT_FLEET_TARGET };


/* A positive count for --parallel and --canary. */
static int fleet_count(struct cli *cli, const char *opt, const char *arg,
		       unsigned long *out)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*end || !*arg || v == 0 || v > 100000)
		return cli_usage_error(cli, cli_find_command("migrate"),
				       "%s needs a positive number, not '%s'", opt, arg);
	*out = v;
	return 0;
}

/* The fleet's options, and the options a fleet passes on to each child. */
static int fleet_option(struct cli *cli, struct migrate_opts *o, int c,
			const char *arg, const char *name)
{
	unsigned long v;
	int rc;

	switch (c) {
	case OPT_ALL_TARGETS:
		o->all_targets = true;
		return 0;
	case OPT_PARALLEL:
		if ((rc = fleet_count(cli, "--parallel", arg, &v)))
			return rc;
		o->fleet.parallel = v > 256 ? 256 : (unsigned)v;
		return 0;
	case OPT_CANARY:
		if ((rc = fleet_count(cli, "--canary", arg, &v)))
			return rc;
		o->fleet.canary = v;
		return 0;
	case OPT_KEEP_GOING:
		o->fleet.keep_going = true;
		return 0;
	case OPT_FLEET_TARGET:
		o->fleet_target = arg;
		return 0;
	}
	if (o->fleet.npass + 2 > sizeof(o->pass) / sizeof(o->pass[0]))
		return cli_usage_error(cli, cli_find_command("migrate"), "too many options");
	o->pass[o->fleet.npass++] = name;
	if (arg)
		o->pass[o->fleet.npass++] = arg;
	o->fleet.pass = o->pass;
	return 0;
}

static const char *pass_name(int c)
{
	switch (c) {
	case OPT_TO: return "--to";
	case OPT_DRY: return "--dry-run";
	case OPT_SINGLE: return "--single-transaction";
	case OPT_YES: return "--yes";
	case OPT_LOCK: return "--lock-timeout";
	case OPT_META: return "--meta";
	case OPT_NO_RETRY: return "--no-retry";
	}
	return NULL;
}

static int migrate_option(struct cli *cli, int c, const char *arg,
			  void *payload)
{
	struct migrate_opts *o = payload;
	const struct cli_command *cmd = cli_find_command("migrate");
	int rc;

	if (c >= OPT_ALL_TARGETS || pass_name(c)) {
		if ((rc = fleet_option(cli, o, c, arg, pass_name(c))))
			return rc;
		if (c >= OPT_ALL_TARGETS)
			return 0;
	}
	switch (c) {
	case OPT_TO:
		if (!cairn_version_is_valid(arg))
			return cli_usage_error(cli, cmd, "--to needs a version number, not '%s'", arg);
		o->to = arg;
		break;
	case OPT_STEPS: {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);

		if (*end || !*arg || v == 0 || v > 1000000)
			return cli_usage_error(cli, cmd, "--steps needs a positive number, not '%s'", arg);
		o->steps = v;
		break;
	}
	case OPT_DRY:
		o->dry_run = true;
		break;
	case OPT_SINGLE:
		o->single = true;
		break;
	case OPT_YES:
		o->yes = true;
		break;
	case OPT_NO_RETRY:
		o->no_retry = true;
		break;
	case OPT_AS_FAR:
		o->as_far = true;
		break;
	case OPT_LOCK:
		if (cairn__parse_duration_ms(arg, &o->lock_timeout_ms) < 0 ||
		    !o->lock_timeout_ms)
			return cli_usage_error(cli, cmd, "bad --lock-timeout '%s' (e.g. 30s, 500ms, 2min)", arg);
		break;
	case OPT_META: {
		const char *eq = strchr(arg, '=');

		if (!eq || eq == arg)
			return cli_usage_error(cli, cmd, "--meta needs KEY=VALUE, not '%s'", arg);
		if (o->nmeta >= 32)
			return cli_usage_error(cli, cmd, "too many --meta options");
		o->meta[o->nmeta].key = strndup(arg, (size_t)(eq - arg));
		o->meta[o->nmeta].value = strdup(eq + 1);
		o->nmeta++;
		break;
	}
	}
	return 0;
}

struct progress_state {
	struct cli *cli;
	bool bar;
	size_t shown;
};

static void on_progress(const cairn_progress *p, void *payload)
{
	struct cli *cli = payload;
	char label[300];

	if (cli->verbosity < 0 || cli->format == CLI_FORMAT_JSON)
		return;
	if (!p->migration) {
		if (cli->stderr_tty)
			fputs("\r\033[K", stderr);
		return;
	}
	if (p->migration->repeatable)
		snprintf(label, sizeof(label), "%s (repeatable)",
			 p->migration->name);
	else
		snprintf(label, sizeof(label), "%s_%s",
			 p->migration->version_text, p->migration->name);
	if (cli->stderr_tty) {
		int width = 24;
		int filled = p->total ? (int)((p->index * (size_t)width) / p->total) : 0;

		fprintf(stderr, "\r\033[K[%.*s%.*s] %zu/%zu %s %.1fs", filled,
			"########################", width - filled,
			"                        ", p->index + 1, p->total, label,
			(double)p->elapsed_ms / 1000.0);
		fflush(stderr);
	} else {
		fprintf(stderr, "cairn: %s %s\n",
			!strcmp(p->phase, "rollback") ? "rolling back" : "applying",
			label);
	}
}

/* What a successful run notes (repeatables left for a later run). */
static void note_findings(struct cli *cli, const cairn_findings *f)
{
	for (size_t i = 0; cli->verbosity >= 0 && i < f->count; i++)
		if (f->items[i].severity == CAIRN_SEVERITY_NOTICE)
			cli_notef(cli, "%s", f->items[i].message);
}

static void on_lock_wait(const char *holder, void *payload)
{
	struct cli *cli = payload;

	cli_notef(cli, "waiting for the deploy lock, held by %s", holder);
}

static void fmt_ms(char *out, size_t len, int64_t ms)
{
	if (ms < 1000)
		snprintf(out, len, "%lld ms", (long long)ms);
	else
		snprintf(out, len, "%.1f s", (double)ms / 1000.0);
}

/* The blockers, one indented line each (escaped: text from the server). */
static void print_blockers(struct cli *cli, const cairn_lock_report *r)
{
	for (size_t i = 0; i < r->blocker_count; i++) {
		const cairn_blocker *b = &r->blockers[i];
		cli_quoted q = CLI_QUOTED_INIT;
		char age[32] = "";

		if (b->xact_age_ms >= 0)
			fmt_ms(age, sizeof(age), b->xact_age_ms);
		fprintf(stderr, "  pid %d  %s  user %s  %s  %s%s%s\n    %s\n",
			b->pid,
			*b->application_name ? cli_q(&q, b->application_name) :
					       "(no application_name)",
			cli_q(&q, b->user),
			*b->client_addr ? cli_q(&q, b->client_addr) : "local",
			cli_q(&q, b->state), *age ? ", transaction open " : "",
			age, cli_q(&q, b->query));
		cli_quoted_release(&q);
	}
	(void)cli;
}

/* A migration statement waits for a lock, or a try gave up (lockwait.c). */
static void on_lock_report(const cairn_lock_report *r, void *payload)
{
	struct cli *cli = payload;
	char label[300], lt[32] = "the server's lock_timeout", pause[32];

	if (cli->verbosity < 0 || cli->format == CLI_FORMAT_JSON)
		return;
	if (cli->stderr_tty)
		fputs("\r\033[K", stderr);
	snprintf(label, sizeof(label), "%s_%s", r->migration->version_text,
		 r->migration->name);
	if (r->lock_timeout_ms)
		fmt_ms(lt, sizeof(lt), (int64_t)r->lock_timeout_ms);
	switch (r->phase) {
	case CAIRN_LOCK_WAITING:
		cli_notef(cli, "migration %s is waiting for a lock (try %u of %u, gives up after %s); blocked by:",
			  label, r->attempt, r->attempts, lt);
		print_blockers(cli, r);
		break;
	case CAIRN_LOCK_RETRYING:
		fmt_ms(pause, sizeof(pause), r->retry_in_ms);
		cli_notef(cli, "migration %s hit its lock timeout (%s) on try %u of %u; rolled back, retrying in %s",
			  label, lt, r->attempt, r->attempts, pause);
		break;
	case CAIRN_LOCK_GIVING_UP:
		if (r->reason)
			cli_notef(cli, "migration %s hit its lock timeout (%s) and is not retried: %s",
				  label, lt, r->reason);
		else
			cli_notef(cli, "migration %s gave up waiting for a lock after %u tr%s",
				  label, r->attempt, r->attempt == 1 ? "y" : "ies");
		break;
	}
}

/*
 * The environment's bounds on migration statements (README
 * "Production"), and --no-retry.
 */
static void statement_bounds(cairn_run_options *ro,
			     const cairn_environment *env, bool no_retry)
{
	ro->statement_lock_timeout_ms =
		env->statement_lock_timeout_ms == CAIRN_CONFIG_TIMEOUT_OFF ?
		CAIRN_TIMEOUT_OFF : env->statement_lock_timeout_ms;
	ro->statement_timeout_ms = env->statement_timeout_ms;
	ro->lock_tries = no_retry ? 1 : env->lock_tries;
	ro->lock_retry_delay_ms = env->lock_retry_delay_ms;
	ro->lock_report = on_lock_report;
}

/* Which guard refused the run, and why, for its audit row. */
struct refusal {
	const char *check;
	char reason[512];
};

/*
 * The guards of DESIGN 4: allowed_refs, require_clean_tree, confirm.  A
 * refusal fills *why (check NULL otherwise).
 */
static int guards(struct cli *cli, const cairn_environment *env,
		  const char *rev_sha, size_t planned, const char *what,
		  bool yes, cairn_db *db, struct refusal *why)
{
	cairn_repo *repo;
	int rc;

	if ((rc = cli_repo(cli, &repo)))
		return rc;
	if (env->allowed_refs_count) {
		bool ok = false;

		if (cli->worktree) {
			why->check = "allowed_refs";
			snprintf(why->reason, sizeof(why->reason),
				 "environment '%s' only deploys from allowed refs; --worktree is refused",
				 env->name);
			cli_errorf(cli, "%s", why->reason);
			return CLI_EXIT_FAIL;
		}
		if (cairn_repo_reachable_from(&ok, NULL, repo, rev_sha,
					      (const char *const *)env->allowed_refs,
					      env->allowed_refs_count) < 0)
			return cli_report_error(cli);
		if (!ok) {
			why->check = "allowed_refs";
			snprintf(why->reason, sizeof(why->reason),
				 "revision '%s' (%.12s) is not reachable from the refs allowed for '%s'",
				 cli->rev, rev_sha, env->name);
			cli_errorf(cli, "%s", why->reason);
			fprintf(stderr, "DETAIL: allowed_refs:");
			for (size_t i = 0; i < env->allowed_refs_count; i++)
				fprintf(stderr, " %s", env->allowed_refs[i]);
			fputc('\n', stderr);
			cli_hintf(cli, "deploy a commit that is on one of those refs");
			return CLI_EXIT_FAIL;
		}
	}
	if (env->require_clean_tree) {
		bool dirty = false;
		char *detail = NULL;

		if (cairn_repo_is_dirty(&dirty, &detail, repo) < 0)
			return cli_report_error(cli);
		if (dirty) {
			why->check = "require_clean_tree";
			snprintf(why->reason, sizeof(why->reason),
				 "the working tree has uncommitted changes; environment '%s' requires a clean tree",
				 env->name);
			cli_errorf(cli, "%s", why->reason);
			if (detail)
				cli_detailf(cli, "%s", detail);
			cli_hintf(cli, "commit or stash the changes first");
			free(detail);
			return CLI_EXIT_FAIL;
		}
		free(detail);
	}
	if (env->confirm && !yes && planned) {
		char answer[16] = "";

		if (!cli->stdin_tty) {
			why->check = "confirm";
			snprintf(why->reason, sizeof(why->reason),
				 "environment '%s' needs confirmation to %s %zu migration%s",
				 env->name, what, planned, planned == 1 ? "" : "s");
			cli_errorf(cli, "%s", why->reason);
			cli_hintf(cli, "pass --yes (standard input is not a terminal, so cairn cannot ask)");
			return CLI_EXIT_USAGE;
		}
		fprintf(stderr, "%s %zu migration%s on %s (%s)? [y/N] ", what,
			planned, planned == 1 ? "" : "s", env->name,
			cairn_db_description(db));
		fflush(stderr);
		if (!fgets(answer, sizeof(answer), stdin) ||
		    (answer[0] != 'y' && answer[0] != 'Y')) {
			why->check = "confirm";
			snprintf(why->reason, sizeof(why->reason),
				 "the deployer did not confirm");
			cli_notef(cli, "nothing was changed");
			return CLI_EXIT_FAIL;
		}
	}
	return 0;
}

static void print_dry_run(struct cli *cli, const cairn_run_result *res,
			  cairn_pipeline *p, cairn_migration_set *set,
			  bool down, const cairn_environment *env)
{
	cairn_event pre = down ? CAIRN_EVENT_PRE_ROLLBACK : CAIRN_EVENT_PRE_EXECUTE;
	cairn_event post = down ? CAIRN_EVENT_POST_ROLLBACK : CAIRN_EVENT_POST_EXECUTE;
	cairn_event run_events[] = { CAIRN_EVENT_PRE_VALIDATE,
				     CAIRN_EVENT_POST_VALIDATE,
				     CAIRN_EVENT_POST_COMPLETE };

	if (!res->plan_count) {
		printf("nothing to %s\n", down ? "roll back" : "apply");
		return;
	}
	printf("would %s %zu migration%s:\n", down ? "roll back" : "apply",
	       res->plan_count, res->plan_count == 1 ? "" : "s");
	for (size_t i = 0; i < res->plan_count; i++) {
		const char *label = res->plan[i];
		cairn_migration *m = cli_plan_label_find(set, label);
		printf("  %s\n", label);
		for (int k = 0; k < 2 && p && m; k++) {
			cairn_event ev = k ? post : pre;
			cairn_hook_context ctx;
			size_t n = cairn_pipeline_count(p, ev);

			memset(&ctx, 0, sizeof(ctx));
			ctx.event = ev;
			ctx.environment = env->name;
			ctx.migration = m;
			for (size_t h = 0; h < n; h++) {
				const cairn_hook *hk = cairn_pipeline_get(p, ev, h);

				if (cairn_hook_matches(hk, &ctx))
					printf("      %s: %s (%s%s)\n",
					       cairn_event_name(ev), hk->name,
					       hk->kind, hk->in_transaction ?
					       ", in transaction" : "");
			}
		}
	}
	for (size_t k = 0; p && k < 3; k++) {
		size_t n = cairn_pipeline_count(p, run_events[k]);

		for (size_t h = 0; h < n; h++)
			printf("  %s: %s (%s)\n", cairn_event_name(run_events[k]),
			       cairn_pipeline_get(p, run_events[k], h)->name,
			       cairn_pipeline_get(p, run_events[k], h)->kind);
	}
	(void)cli;
}

/*
 * Writes the audit row of a run refused before the engine started it;
 * keeps the current error (what the user is told).
 */
static void record_refusal(struct cli *cli, const cairn_run_options *ro,
			   bool down, const char *check, const char *reason,
			   const cairn_findings *findings)
{
	cairn_run_options o = *ro;
	cairn_error_saved saved;
	char run_id[40];

	cairn_error__save(&saved);
	o.dry_run = false;
	if (cairn_audit_refusal(run_id, &o, down ? "down" : "up", check, reason,
				findings) < 0) {
		const cairn_error *e = cairn_error_last();

		cli_warnf(cli, "the refusal was not recorded in the audit trail: %s",
			  e ? e->message : "unknown error");
	} else {
		cli_audit_after_run(cli, ro->db, run_id, 0);
	}
	cairn_error__restore(&saved);
}

/*
 * baseline_on_migrate: before the first `migrate up` on a database that
 * has tables but nothing in cairn's tracking table, record the migrations
 * up to the configured version as applied (the engine decides under the
 * lock, and does nothing on any other database).  0 or an exit code.
 */
static int baseline_first(struct cli *cli, const cairn_run_options *ro,
			  const cairn_environment *env)
{
	cairn_adopt_options a = CAIRN_ADOPT_OPTIONS_INIT;
	cairn_adopt_result res;
	cairn_run_options o = *ro;
	int rc;

	o.dry_run = false;
	o.pipeline = NULL;
	a.target = env->baseline_on_migrate;
	a.reason = "baseline_on_migrate";
	a.on_migrate = true;
	rc = cairn_baseline(&res, &o, &a);
	if (rc < 0) {
		if (res.findings.count > 1)
			cli_print_findings(cli, "baseline", &res.findings, o.set);
		rc = cli_report_error(cli);
	} else if (!res.skipped) {
		rc = cli_audit_after_run(cli, o.db, res.run_id, 0);
		cli_notef(cli, "baselined %zu migration%s up to %s (baseline_on_migrate): the database had tables but cairn had recorded no migration",
			  res.count, res.count == 1 ? "" : "s",
			  env->baseline_on_migrate);
	}
	cairn_adopt_result_dispose(&res);
	return rc;
}

/*
 * --as-far-as-possible: a dry run finds the newest migration in range
 * that cannot be rolled back (the engine's rollback-limit finding); the
 * run then goes down to it (--to its version), and the engine checks
 * that plan again under the lock.  When nothing stops the rollback, or
 * nothing can be rolled back, the options are left as they are and the
 * run reports it.
 */
static void as_far_as_possible(struct cli *cli, cairn_run_options *ro,
			       char target[32])
{
	cairn_run_options o = *ro;
	cairn_run_result res;
	const cairn_finding *limit = NULL;

	o.dry_run = true;
	o.progress = NULL;
	o.log_fn = NULL; /* the run itself says what it has to say */
	if (cairn_migrate_down(&res, &o) < 0) {
		for (size_t i = 0; i < res.findings.count; i++)
			if (!strcmp(res.findings.items[i].code, "rollback-limit"))
				limit = &res.findings.items[i];
	}
	cairn_error_clear();
	if (limit && limit->version && strlen(limit->version) < 32) {
		snprintf(target, 32, "%s", limit->version);
		ro->target = target;
		ro->steps = 0;
		cli_notef(cli, "rolling back as far as possible, down to version %s: %s",
			  target, limit->message);
	}
	cairn_run_result_dispose(&res);
}

/*
 * A first migration failing because what it creates exists already is
 * the usual sign of a database built before cairn: say how to adopt it.
 */
static void adoption_hint(const cairn_run_result *res, bool down)
{
	static const char *const duplicate[] = {
		"42P07", "42P06", "42710", "42701", "42723", NULL,
	};
	const cairn_error *e = cairn_error_last();

	if (down || res->done || !e || e->hint || !e->sqlstate)
		return;
	for (size_t i = 0; duplicate[i]; i++)
		if (!strcmp(e->sqlstate, duplicate[i])) {
			cairn_error_set_hint("if the database already has this schema, record it with 'cairn baseline VERSION', or take over another tool's history with 'cairn import golang-migrate|dbmate|flyway|sqitch'");
			return;
		}
}

static json_t *result_json(const cairn_run_result *res, int rc, bool down)
{
	json_t *o = json_object(), *plan = json_array();
	const cairn_error *e = rc < 0 ? cairn_error_last() : NULL;

	json_object_set_new(o, "ok", json_boolean(rc == 0));
	json_object_set_new(o, "run_id", json_string(res->run_id));
	json_object_set_new(o, "direction", json_string(down ? "down" : "up"));
	json_object_set_new(o, "planned", json_integer((json_int_t)res->planned));
	json_object_set_new(o, down ? "rolled_back" : "applied",
			    json_integer((json_int_t)res->done));
	json_object_set_new(o, "failed", json_integer((json_int_t)res->failed));
	json_object_set_new(o, "hook_warnings", json_integer((json_int_t)res->warnings));
	json_object_set_new(o, "duration_ms", json_integer(res->duration_ms));
	for (size_t i = 0; i < res->plan_count; i++)
		json_array_append_new(plan, cli_json_str(res->plan[i]));
	json_object_set_new(o, "plan", plan);
	if (e)
		json_object_set_new(o, "error", json_pack("{s:o, s:o, s:o}",
			"message", cli_json_str(e->message),
			"detail", cli_json_str_or_null(e->detail),
			"hint", cli_json_str_or_null(e->hint)));
	return o;
}

/*
 * The fleet options' rules; in a fleet's child (--fleet-target), takes
 * the target from the environment.  0 or an exit code.
 */
static int fleet_dispatch(struct cli *cli, struct migrate_opts *mo, bool down)
{
	const struct cli_command *cmd = cli_find_command("migrate");

	if (!mo->all_targets) {
		if (mo->fleet.parallel || mo->fleet.canary || mo->fleet.keep_going)
			return cli_usage_error(cli, cmd, "--parallel, --canary and --keep-going go with --all-targets");
		return mo->fleet_target ? cli_fleet_child(cli, mo->fleet_target) : 0;
	}
	if (down)
		return cli_usage_error(cli, cmd, "--all-targets applies to 'up' only");
	if (mo->fleet_target)
		return cli_usage_error(cli, cmd, "give --all-targets or --fleet-target, not both");
	if (cli->db_url)
		return cli_usage_error(cli, cmd, "--db names one database; --all-targets runs the environment's targets");
	return 0;
}

int cmd_migrate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "single-transaction", no_argument, NULL, OPT_SINGLE },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "lock-timeout", required_argument, NULL, OPT_LOCK },
		{ "meta", required_argument, NULL, OPT_META },
		{ "no-retry", no_argument, NULL, OPT_NO_RETRY },
		{ "as-far-as-possible", no_argument, NULL, OPT_AS_FAR },
		{ "all-targets", no_argument, NULL, OPT_ALL_TARGETS },
		{ "parallel", required_argument, NULL, OPT_PARALLEL },
		{ "canary", required_argument, NULL, OPT_CANARY },
		{ "keep-going", no_argument, NULL, OPT_KEEP_GOING },
		{ "fleet-target", required_argument, NULL, OPT_FLEET_TARGET },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("migrate");
	struct migrate_opts mo;
	cairn_run_options ro = CAIRN_RUN_OPTIONS_INIT;
	cairn_run_result res;
	const cairn_environment *env;
	const cairn_config *cfg;
	struct refusal why = { NULL, "" };
	const char *key;
	size_t key_len;
	cairn_migration_set *set = NULL;
	cairn_pipeline *pipeline = NULL;
	cairn_db *db = NULL;
	cairn_kv *meta = NULL;
	char deploy_rev[CAIRN_OID_HEXSZ] = "", *deploy_ref = NULL;
	char as_far_target[32];
	bool down;
	int rc, audit_rc = 0, first;

	memset(&mo, 0, sizeof(mo));
	memset(&res, 0, sizeof(res));
	rc = cli_parse_options(cli, cmd, argc, argv, opts, "y", migrate_option,
			       &mo, &first);
	if (rc)
		goto out_early;
	if (first >= argc) {
		rc = cli_usage_error(cli, cmd, "say 'up' or 'down'");
		goto out_early;
	}
	if (!strcmp(argv[first], "up")) {
		down = false;
	} else if (!strcmp(argv[first], "down")) {
		down = true;
	} else {
		rc = cli_usage_error(cli, cmd, "unknown direction '%s': say 'up' or 'down'", argv[first]);
		goto out_early;
	}
	/* options may follow the direction too */
	if (first + 1 < argc) {
		int first2;

		rc = cli_parse_options(cli, cmd, argc - first, argv + first, opts,
				       "y", migrate_option, &mo, &first2);
		if (rc)
			goto out_early;
		if (first2 < argc - first) {
			rc = cli_usage_error(cli, cmd, "unexpected argument '%s'",
					     argv[first + first2]);
			goto out_early;
		}
	}
	if (down && mo.single) {
		rc = cli_usage_error(cli, cmd, "--single-transaction applies to 'up' only");
		goto out_early;
	}
	if (!down && mo.steps) {
		rc = cli_usage_error(cli, cmd, "--steps applies to 'down' only");
		goto out_early;
	}
	if (!down && mo.as_far) {
		rc = cli_usage_error(cli, cmd, "--as-far-as-possible applies to 'down' only");
		goto out_early;
	}
	if (down && mo.steps && mo.to) {
		rc = cli_usage_error(cli, cmd, "give --steps or --to, not both");
		goto out_early;
	}
	if ((rc = fleet_dispatch(cli, &mo, down)))
		goto out_early;
	if (mo.all_targets) {
		mo.fleet.yes = mo.yes;
		rc = cli_fleet_migrate(cli, &mo.fleet);
		goto out_early;
	}
	if ((rc = cli_env(cli, &env)) || (rc = cli_config(cli, &cfg)))
		goto out_early;
	/* deprecated keys still work; say what to write instead */
	for (size_t i = 0; i < cfg->warnings_count; i++)
		cli_warnf(cli, "%s", cfg->warnings[i]);
	/* a keyed chain without its key would write rows verify rejects */
	if (!mo.dry_run && (rc = cli_audit_key(cli, &key, &key_len)))
		goto out_early;
	if ((rc = cli_load_set(cli, NULL, cli->worktree, &set)))
		goto out_early;
	/* going down, say that the directory is missing, not that each
	 * applied migration "is not at this revision" */
	if (down && cairn_migration_set_check_dir(set) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	if ((rc = cli_build_pipeline(cli, &pipeline)))
		goto out;
	if ((rc = cli_open_deploy_db(cli, &db, mo.dry_run ? NULL : down ?
				     "roll back migrations" : "apply migrations")))
		goto out;
	if ((rc = cli_run_options(cli, &ro, set, db, pipeline, deploy_rev,
				  &deploy_ref)))
		goto out;
	/* metadata: config, then environment, then --meta */
	{
		size_t n = cfg->metadata_count + env->metadata_count + mo.nmeta, k = 0;

		meta = calloc(n + 1, sizeof(*meta));
		for (size_t i = 0; meta && i < cfg->metadata_count; i++)
			meta[k++] = cfg->metadata[i];
		for (size_t i = 0; meta && i < env->metadata_count; i++)
			meta[k++] = env->metadata[i];
		for (size_t i = 0; meta && i < mo.nmeta; i++)
			meta[k++] = mo.meta[i];
		ro.metadata = meta;
		ro.metadata_count = meta ? k : 0;
	}
	ro.target = mo.to;
	ro.steps = mo.steps;
	ro.single_transaction = mo.single;
	if (mo.lock_timeout_ms)
		ro.lock_timeout_ms = mo.lock_timeout_ms;
	ro.progress = on_progress;
	ro.lock_wait = on_lock_wait;
	statement_bounds(&ro, env, mo.no_retry);
	if (down && mo.as_far)
		as_far_as_possible(cli, &ro, as_far_target);

	/*
	 * A dry run first when it is asked for, or when the environment
	 * wants a confirmation that names the number of migrations.
	 */
	if (mo.dry_run || (env->confirm && !mo.yes)) {
		ro.dry_run = true;
		rc = down ? cairn_migrate_down(&res, &ro) : cairn_migrate_up(&res, &ro);
		if (rc < 0 || mo.dry_run) {
			const cairn_error *e = cairn_error_last();

			/* refused by validation before the confirmation */
			if (rc < 0 && !mo.dry_run && e &&
			    e->klass == CAIRN_ERRCLASS_VALIDATION)
				record_refusal(cli, &ro, down, "validation",
					       e->message, &res.findings);
			if (rc < 0 && res.findings.count) {
				cairn_findings_sort(&res.findings);
				if (cli->format != CLI_FORMAT_JSON)
					cli_print_findings(cli, "migrate", &res.findings, set);
			}
			if (cli->format == CLI_FORMAT_JSON) {
				json_t *j = result_json(&res, rc, down);

				cli_print_json(j);
				json_decref(j);
			} else if (rc == 0) {
				print_dry_run(cli, &res, pipeline, set, down, env);
				note_findings(cli, &res.findings);
			}
			rc = rc < 0 ? cli_report_error(cli) : 0;
			goto out;
		}
	}
	if ((rc = guards(cli, env, deploy_rev, ro.dry_run ? res.plan_count : 1,
			 down ? "roll back" : "apply", mo.yes, db, &why))) {
		if (why.check)
			record_refusal(cli, &ro, down, why.check, why.reason,
				       NULL);
		goto out;
	}
	if (!down && env->baseline_on_migrate &&
	    (rc = baseline_first(cli, &ro, env)))
		goto out;
	cairn_run_result_dispose(&res);
	ro.dry_run = false;
	ro.cancel = cli_interrupt_install(db);
	rc = down ? cairn_migrate_down(&res, &ro) : cairn_migrate_up(&res, &ro);
	cli_interrupt_remove();
	if (rc < 0 && cairn_error_last() &&
	    cairn_error_last()->klass == CAIRN_ERRCLASS_LOCK) {
		/* another deploy holds the lock: this run never started */
		char reason[512];

		snprintf(reason, sizeof(reason), "%s", cairn_error_last()->message);
		record_refusal(cli, &ro, down, "deploy_lock", reason, NULL);
	}
	{
		/* async webhooks finish before we exit; keep the run's error */
		cairn_error_saved saved;

		cairn_error__save(&saved);
		cli_await_webhooks(cli, pipeline);
		audit_rc = cli_audit_after_run(cli, db, res.run_id, 0);
		cairn_error__restore(&saved);
	}
	if (cli->stderr_tty && cli->verbosity >= 0)
		fputs("\r\033[K", stderr);
	if (rc < 0)
		adoption_hint(&res, down);
	if (cli->format == CLI_FORMAT_JSON) {
		json_t *j = result_json(&res, rc, down);

		cli_print_json(j);
		json_decref(j);
	}
	if (rc < 0) {
		if (res.findings.count && cli->format != CLI_FORMAT_JSON) {
			cairn_findings_sort(&res.findings);
			cli_print_findings(cli, "migrate", &res.findings, set);
		}
		if (res.done && cli->verbosity >= 0)
			cli_notef(cli, "%zu migration%s %s before the failure",
				  res.done, res.done == 1 ? " was" : "s were",
				  down ? "rolled back" : "applied");
		rc = cli_report_error(cli);
		goto out;
	}
	if (cli->format != CLI_FORMAT_JSON && cli->verbosity >= 0) {
		if (!res.planned)
			printf("nothing to %s: %s is up to date\n",
			       down ? "roll back" : "apply", env->name);
		else
			printf("%s %zu migration%s on %s in %lld ms%s\n",
			       down ? "rolled back" : "applied", res.done,
			       res.done == 1 ? "" : "s", env->name,
			       (long long)res.duration_ms,
			       res.warnings ? " (with hook warnings)" : "");
		note_findings(cli, &res.findings);
	}
	/* applied and audited, but the trail could not be sealed/anchored */
	rc = audit_rc;
out:
	cairn_run_result_dispose(&res);
	cairn_pipeline_free(pipeline);
	cairn_db_free(db);
	cairn_migration_set_free(set);
	free(deploy_ref);
	free(meta);
out_early:
	for (size_t i = 0; i < mo.nmeta; i++) {
		free(mo.meta[i].key);
		free(mo.meta[i].value);
	}
	return rc < 0 ? 0 : rc;
}
