/*
 * cmd_hooks.c - `cairn hooks list` and `cairn hooks run EVENT`.
 *
 * list shows, per event, the hooks in the order they run, with their kind,
 * failure policy, timeout and filters, from the pipeline built as migrate
 * builds it (plugins loaded).  cli_fire_event() builds a hook context the
 * way a run does; `hooks run` and `validate` fire events through it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cairn/engine.h"
#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "report.h"

static void fmt_ms(char *out, size_t len, uint64_t ms)
{
	if (ms % 60000 == 0 && ms >= 60000)
		snprintf(out, len, "%llumin", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(out, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(out, len, "%llums", (unsigned long long)ms);
}

static json_t *list_json(const char *const *items)
{
	json_t *a = json_array();

	for (size_t i = 0; items && items[i]; i++)
		json_array_append_new(a, cli_json_str(items[i]));
	return a;
}

/* The configuration's entry for a registered hook (for `async`), or NULL. */
static const cairn_hook_spec *spec_of(const cairn_config *cfg,
				      const cairn_hook *h)
{
	for (size_t i = 0; i < cfg->hooks_count; i++)
		if (cfg->hooks[i].event == h->event && cfg->hooks[i].name &&
		    !strcmp(cfg->hooks[i].name, h->name))
			return &cfg->hooks[i];
	return NULL;
}

static void print_list(const char *label, const char *const *items)
{
	cli_quoted q = CLI_QUOTED_INIT;

	if (!items || !items[0])
		return;
	printf(" %s:", label);
	for (size_t k = 0; items[k]; k++) {
		printf("%s%s", k ? "," : " ", cli_q(&q, items[k]));
		cli_quoted_release(&q);
	}
}

/*
 * What is registered per event, in order: the pipeline is built exactly
 * as `migrate` builds it (plugins loaded, builtins set up), so a hook
 * that migrate would refuse (a plugin symbol that cannot be resolved) is
 * refused here too, with the same error and exit code.
 */
static int hooks_list(struct cli *cli)
{
	const cairn_config *cfg;
	cairn_pipeline *p = NULL;
	json_t *root = NULL;
	int rc;

	if ((rc = cli_config(cli, &cfg)) || (rc = cli_build_pipeline(cli, &p)))
		return rc;
	if (cli->format == CLI_FORMAT_JSON)
		root = json_object();
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++) {
		json_t *arr = root ? json_array() : NULL;
		size_t n = cairn_pipeline_count(p, (cairn_event)ev);

		if (!root)
			printf("%s:\n", cairn_event_name((cairn_event)ev));
		for (size_t i = 0; i < n; i++) {
			const cairn_hook *h = cairn_pipeline_get(p, (cairn_event)ev, i);
			const cairn_hook_spec *spec = spec_of(cfg, h);
			bool async = spec && spec->async;
			cli_quoted q = CLI_QUOTED_INIT;
			char timeout[32];

			fmt_ms(timeout, sizeof(timeout), h->timeout_ms);
			if (root) {
				json_t *o = json_object();

				json_object_set_new(o, "name", cli_json_str(h->name));
				json_object_set_new(o, "kind", cli_json_str(h->kind));
				json_object_set_new(o, "on_failure", json_string(cairn_on_failure_name(h->on_failure)));
				json_object_set_new(o, "timeout_ms", json_integer((json_int_t)h->timeout_ms));
				json_object_set_new(o, "environments", list_json(h->only_environments));
				json_object_set_new(o, "migrations", list_json(h->only_migrations));
				json_object_set_new(o, "async", json_boolean(async));
				json_object_set_new(o, "in_transaction", json_boolean(h->in_transaction));
				json_array_append_new(arr, o);
				continue;
			}
			printf("  %zu. %s  [%s, on_failure=%s, timeout=%s%s%s]", i + 1,
			       cli_q(&q, h->name), cli_q(&q, h->kind),
			       cairn_on_failure_name(h->on_failure), timeout,
			       async ? ", async" : "",
			       h->in_transaction ? ", in transaction" : "");
			cli_quoted_release(&q);
			print_list("environments", h->only_environments);
			print_list("migrations", h->only_migrations);
			putchar('\n');
		}
		if (root)
			json_object_set_new(root, cairn_event_name((cairn_event)ev), arr);
		else if (!n)
			puts("  (none)");
	}
	if (root) {
		rc = cli_print_json(root);
		json_decref(root);
	}
	cairn_pipeline_free(p);
	return rc;
}

struct run_report {
	struct cli *cli;
	size_t failed;
	size_t ran;
};

static void report_outcome(const cairn_hook_outcome *oc, void *payload)
{
	struct run_report *rr = payload;
	struct cli *cli = rr->cli;
	cli_quoted q = CLI_QUOTED_INIT;

	if (oc->skipped) {
		if (cli->verbosity > 0)
			printf("  skip  %s (filtered out by only:)\n",
			       cli_q(&q, oc->hook->name));
		cli_quoted_release(&q);
		return;
	}
	rr->ran++;
	if (oc->rc == 0) {
		printf("  %sok%s    %s (%.1f ms)\n", cli_color(cli, stdout, "32"),
		       cli_reset(cli, stdout), cli_q(&q, oc->hook->name),
		       (double)oc->duration_us / 1000.0);
		cli_quoted_release(&q);
		return;
	}
	if (oc->hook->on_failure != CAIRN_ON_FAILURE_IGNORE)
		rr->failed++;
	printf("  %sFAIL%s  %s (on_failure %s): %s\n", cli_color(cli, stdout, "1;31"),
	       cli_reset(cli, stdout), cli_q(&q, oc->hook->name),
	       cairn_on_failure_name(oc->hook->on_failure),
	       oc->error && oc->error->message ? cli_q(&q, oc->error->message) : "failed");
	if (oc->error && oc->error->detail)
		printf("        %s\n", cli_q(&q, oc->error->detail));
	cli_quoted_release(&q);
}

int cli_fire_event(struct cli *cli, cairn_pipeline *p, cairn_event ev,
		   const cairn_migration_set *set, const cairn_migration *m,
		   cairn_db *db, size_t planned, cairn_hook_observer obs,
		   void *obs_payload)
{
	static const cairn_error synthetic = { CAIRN_ERRCLASS_HOOK,
		"synthetic error from 'cairn hooks run'", NULL, NULL, NULL };
	const cairn_environment *env;
	const cairn_config *cfg;
	cairn_session *session = NULL;
	cairn_hook_context ctx;
	cairn_repo *repo;
	char run_id[40], rev[CAIRN_OID_HEXSZ] = "", *actor = NULL, *ref = NULL;
	int rc;

	if ((rc = cli_env(cli, &env)) || (rc = cli_config(cli, &cfg)) ||
	    (rc = cli_repo(cli, &repo)))
		return rc;
	if (cli->worktree)
		snprintf(rev, sizeof(rev), "worktree");
	else if (set)
		snprintf(rev, sizeof(rev), "%s", cairn_migration_set_commit(set));
	else if (cairn_repo_resolve(rev, repo, cli->rev) < 0)
		return cli_report_error(cli);
	if (cairn_session_new(&session, db, cairn_repo_workdir(repo)) < 0 ||
	    cairn_actor_describe(&actor, NULL, repo) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	cairn_run_id_new(run_id);
	if (!cli->worktree && cairn_repo_ref_name(&ref, repo, cli->rev) < 0)
		cairn_error_clear();
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = 1;
	ctx.event = ev;
	ctx.environment = env->name;
	ctx.run_id = run_id;
	ctx.direction = ev == CAIRN_EVENT_PRE_ROLLBACK || ev == CAIRN_EVENT_POST_ROLLBACK ? "down" : "up";
	ctx.migration = m;
	ctx.status = ev == CAIRN_EVENT_POST_EXECUTE ? "applied" :
		     ev == CAIRN_EVENT_POST_ROLLBACK ? "rolled_back" :
		     ev == CAIRN_EVENT_ON_ERROR ? "failed" : "pending";
	ctx.metadata = cfg->metadata;
	ctx.metadata_count = cfg->metadata_count;
	ctx.deploy_rev = rev;
	ctx.deploy_ref = ref ? ref : "";
	ctx.actor = actor;
	ctx.database = db ? cairn_db_description(db) : "";
	ctx.planned = planned;
	ctx.session = session;
	ctx.log_fn = cli_log_line;
	ctx.log_payload = cli;
	if (ev == CAIRN_EVENT_ON_ERROR)
		ctx.error = &synthetic;
	cairn_pipeline_set_observer(p, obs, obs_payload);
	cairn_error_clear();
	rc = cairn_pipeline_fire(p, &ctx, CAIRN_FIRE_ALL, NULL) < 0 ? -1 : 0;
out:
	cairn_session_free(session);
	free(actor);
	free(ref);
	return rc;
}

static int hooks_run(struct cli *cli, const char *event_name,
		     const char *version)
{
	cairn_pipeline *p = NULL;
	cairn_migration_set *set = NULL;
	cairn_migration *m = NULL;
	const cairn_environment *env;
	struct run_report rr = { cli, 0, 0 };
	cairn_repo *repo;
	cairn_db *db = NULL;
	cairn_event ev;
	char *why = NULL;
	int rc;

	if (cairn_event_from_name(&ev, event_name) != 0) {
		cli_errorf(cli, "unknown event '%s'", event_name);
		cli_hintf(cli, "events: pre_validate post_validate pre_execute post_execute post_complete pre_rollback post_rollback on_error");
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_env(cli, &env)) || (rc = cli_repo(cli, &repo)))
		return rc;
	if ((rc = cli_load_set(cli, NULL, cli->worktree, &set)))
		return rc;
	if (version) {
		m = cairn_migration_set_find(set, version);
		if (!m) {
			cli_errorf(cli, "migration %s is not at %s", version,
				   cli->worktree ? "the working tree" : cli->rev);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		if (cairn_migration_load_content(set, m) < 0 ||
		    cairn_migration_set_provenance(set, repo,
						   (const char *[]){ m->version }, 1) < 0) {
			rc = cli_report_error(cli);
			goto out;
		}
	} else if (cairn_event_is_per_migration(ev)) {
		size_t n = cairn_migration_set_count(set);

		if (n) {
			m = cairn_migration_set_get(set, n - 1);
			cairn_migration_load_content(set, m);
			cairn_migration_set_provenance(set, repo,
						       (const char *[]){ m->version }, 1);
			cairn_error_clear();
			cli_notef(cli, "using the newest migration, %s_%s (--migration V picks another)",
				  m->version_text, m->name);
		}
	}
	if ((rc = cli_build_pipeline(cli, &p)))
		goto out;
	if ((rc = cli_open_db_optional(cli, &db, &why)))
		goto out;
	if (!db)
		cli_notef(cli, "note: %s; sql hooks will fail", why ? why : "no database");
	printf("firing %s (synthetic context, environment %s)\n", event_name, env->name);
	rc = cli_fire_event(cli, p, ev, set, m, db, m ? 1 : 0, report_outcome,
			    &rr);
	if (rc > 0)
		goto out;
	cairn_error_clear();
	cli_await_webhooks(cli, p);
	if (!rr.ran)
		printf("  (no hooks ran for %s)\n", event_name);
	rc = rr.failed ? CLI_EXIT_FAIL : 0;
out:
	cairn_pipeline_free(p);
	cairn_db_free(db);
	cairn_migration_set_free(set);
	free(why);
	return rc;
}

static int hooks_option(struct cli *cli, int c, const char *arg, void *payload)
{
	(void)cli;
	if (c == 'm')
		*(const char **)payload = arg;
	return 0;
}

int cmd_hooks(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "migration", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("hooks");
	const char *version = NULL;
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "", hooks_option,
			       &version, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first >= argc || !strcmp(argv[first], "list")) {
		if (argc - first > 1)
			return cli_usage_error(cli, cmd, "too many arguments");
		return hooks_list(cli);
	}
	if (!strcmp(argv[first], "run")) {
		if (argc - first != 2)
			return cli_usage_error(cli, cmd, "say which event to fire");
		return hooks_run(cli, argv[first + 1], version);
	}
	return cli_usage_error(cli, cmd, "unknown hooks subcommand '%s'",
			       argv[first]);
}
