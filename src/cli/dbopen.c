/*
 * dbopen.c - connection choice, pipeline construction, interrupts and
 * log output for the commands that reach a database (see dbopen.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hooks/builtins.h"
#include "cairn/devdb.h"
#include "cairn/hooks_config.h"
#include "cairn/webhook.h"
#include "dbopen.h"
#include "util/util.h"

static volatile sig_atomic_t interrupted;
static volatile sig_atomic_t term_once;
static cairn_db *interrupt_db;

static void on_signal(int sig)
{
	if (interrupted && sig == SIGTERM && term_once)
		return;
	if (interrupted) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	interrupted = 1;
	if (interrupt_db)
		cairn_db_cancel(interrupt_db);
}

volatile sig_atomic_t *cli_interrupt_install(cairn_db *db)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	interrupt_db = db;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return &interrupted;
}

void cli_interrupt_term_once(void)
{
	term_once = 1;
}

void cli_interrupt_remove(void)
{
	interrupt_db = NULL;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

static bool pg_env_set(void)
{
	static const char *const vars[] = { "PGHOST", "PGDATABASE", "PGSERVICE",
					    "PGPORT", NULL };

	for (size_t i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return true;
	}
	return false;
}

/*
 * Starts the built-in development database when it is not running, and
 * then says so once (where it lives, how to stop it): a server the user
 * did not start by hand should not run unannounced.
 */
static int start_devdb(struct cli *cli, char **url,
		       const cairn_devdb_options *dopts)
{
	bool running = false;
	char *dir = NULL;

	if (cairn_devdb_status(&running, NULL, NULL, dopts) < 0)
		cairn_error_clear(); /* the start below reports real problems */
	if (cairn_devdb_start(url, dopts) < 0)
		return CAIRN_ERROR;
	if (running)
		return 0;
	if (cairn_devdb_status(&running, NULL, &dir, dopts) < 0)
		cairn_error_clear();
	cli_notef(cli, "started the built-in development database%s%s%s (a private PostgreSQL on a unix socket); it keeps running for the next commands: stop it with 'cairn dev-db stop'",
		  dir ? " in '" : "", dir ? dir : "", dir ? "'" : "");
	free(dir);
	return 0;
}

static int open_db(struct cli *cli, cairn_db **out, bool deploy);

int cli_open_db(struct cli *cli, cairn_db **out)
{
	return open_db(cli, out, false);
}

int cli_open_deploy_db(struct cli *cli, cairn_db **out, const char *what)
{
	int rc = open_db(cli, out, true);

	if (rc)
		return rc;
	/* known from the connection: refused before any hook, no round trip */
	if (what && cairn_db_check_writable(*out, what) < 0) {
		cairn_db_free(*out);
		*out = NULL;
		return cli_report_error(cli);
	}
	return 0;
}

static int open_db(struct cli *cli, cairn_db **out, bool deploy)
{
	cairn_db_options o = CAIRN_DB_OPTIONS_INIT;
	const cairn_environment *env;
	const cairn_config *cfg;
	const char *url = NULL;
	char *devurl = NULL, appname[128], host[64] = "";
	int rc;

	*out = NULL;
	if ((rc = cli_env(cli, &env)) || (rc = cli_config(cli, &cfg)))
		return rc;
	if (cli->db_url && *cli->db_url)
		url = cli->db_url;
	else if (deploy && env->direct_database_url) {
		/* written but expanded to nothing: never fall back */
		if (!*env->direct_database_url) {
			cli_errorf(cli, "environment '%s' has an empty direct_database_url", env->name);
			cli_hintf(cli, "set the variable it names, or remove the key to deploy through database_url");
			return CLI_EXIT_USAGE;
		}
		url = env->direct_database_url;
	} else if (env->database_url && *env->database_url)
		url = env->database_url;
	else if (getenv("DATABASE_URL") && *getenv("DATABASE_URL"))
		url = getenv("DATABASE_URL");
	else if (!strcmp(env->name, "development") && !pg_env_set()) {
		cairn_devdb_options dopts = CAIRN_DEVDB_OPTIONS_INIT;
		cairn_repo *repo;

		if ((rc = cli_repo(cli, &repo)))
			return rc;
		dopts.repo_workdir = cairn_repo_workdir(repo);
		if (!dopts.repo_workdir) {
			cli_errorf(cli, "the development database needs a work tree");
			return CLI_EXIT_USAGE;
		}
		if (start_devdb(cli, &devurl, &dopts) < 0)
			return cli_report_error(cli);
		url = devurl;
		cli_verbosef(cli, "using the built-in development database");
	} else if (strcmp(env->name, "development") != 0 && !pg_env_set()) {
		cli_errorf(cli, "environment '%s' has no database_url", env->name);
		cli_hintf(cli, "set database_url in cairn.yaml, DATABASE_URL, or pass --db URL");
		return CLI_EXIT_USAGE;
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(appname, sizeof(appname), "cairn %s (%s@%s)",
		 cairn_version(), getenv("USER") ? getenv("USER") : "?", host);
	o.conninfo = url;
	o.schema = cfg->schema;
	o.application_name = appname;
	o.answer_timeout_ms = env->server_answer_timeout_ms;
	rc = cairn_db_connect(out, &o);
	free(devurl);
	if (rc < 0)
		return cli_report_error(cli);
	return 0;
}

int cli_open_db_optional(struct cli *cli, cairn_db **out, char **why)
{
	cairn_db_options o = CAIRN_DB_OPTIONS_INIT;
	const cairn_environment *env;
	const cairn_config *cfg;
	const char *url = NULL;
	char *devurl = NULL;
	int rc;

	*out = NULL;
	*why = NULL;
	if ((rc = cli_env(cli, &env)) || (rc = cli_config(cli, &cfg)))
		return rc;
	if (cli->db_url && *cli->db_url)
		url = cli->db_url;
	else if (env->database_url && *env->database_url)
		url = env->database_url;
	else if (getenv("DATABASE_URL") && *getenv("DATABASE_URL"))
		url = getenv("DATABASE_URL");
	else if (!strcmp(env->name, "development") && !pg_env_set()) {
		cairn_devdb_options dopts = CAIRN_DEVDB_OPTIONS_INIT;
		cairn_repo *repo;
		bool running = false;

		if ((rc = cli_repo(cli, &repo)))
			return rc;
		dopts.repo_workdir = cairn_repo_workdir(repo);
		if (!dopts.repo_workdir ||
		    cairn_devdb_status(&running, &devurl, NULL, &dopts) < 0 ||
		    !running) {
			cairn_error_clear();
			free(devurl);
			*why = strdup("the development database is not running");
			return 0;
		}
		url = devurl;
	} else if (strcmp(env->name, "development") != 0 && !pg_env_set()) {
		if (asprintf(why, "environment '%s' has no database_url", env->name) < 0)
			*why = NULL;
		return 0;
	}
	o.conninfo = url;
	o.schema = cfg->schema;
	o.application_name = "cairn check";
	o.connect_timeout_ms = 3000;
	if (cairn_db_connect(out, &o) < 0) {
		const cairn_error *e = cairn_error_last();

		*why = strdup(e && e->detail ? e->detail : "cannot connect");
		cairn_error_clear();
		*out = NULL;
	}
	free(devurl);
	return 0;
}

int cli_build_pipeline(struct cli *cli, cairn_pipeline **out)
{
	const cairn_config *cfg;
	int rc;

	*out = NULL;
	if ((rc = cli_config(cli, &cfg)))
		return rc;
	return cli_build_pipeline_from(cli, cfg, out);
}

int cli_build_pipeline_from(struct cli *cli, const cairn_config *cfg,
			    cairn_pipeline **out)
{
	cairn_hooks_build_options bo = CAIRN_HOOKS_BUILD_OPTIONS_INIT;
	cairn_repo *repo;
	cairn_pipeline *p;
	int rc;

	*out = NULL;
	if ((rc = cli_repo(cli, &repo)))
		return rc;
	if (cairn_pipeline_new(&p) < 0)
		return cli_report_error(cli);
	bo.builtins = cairn_builtins(&bo.builtins_count);
	bo.workdir = cairn_repo_workdir(repo);
	if (cairn_hooks_build(p, cfg, &bo) < 0) {
		cairn_pipeline_free(p);
		return cli_report_error(cli);
	}
	*out = p;
	return 0;
}

static void report_webhook(const cairn_webhook_result *r, void *payload)
{
	struct cli *cli = payload;

	if (r->ok) {
		cli_verbosef(cli, "webhook '%s' at %s delivered to %s (%u attempt%s, %lld ms)",
			     r->hook, r->event, r->target, r->attempts,
			     r->attempts == 1 ? "" : "s", (long long)r->duration_ms);
		return;
	}
	if (r->on_failure != CAIRN_ON_FAILURE_IGNORE)
		cli_warnf(cli, "webhook '%s' at %s to %s failed: %s", r->hook,
			  r->event, r->target, r->message ? r->message : "failed");
}

void cli_await_webhooks(struct cli *cli, cairn_pipeline *p)
{
	if (!p)
		return;
	if (cairn_webhooks_await(p, report_webhook, cli) < 0) {
		const cairn_error *e = cairn_error_last();

		cli_warnf(cli, "%s", e ? e->message : "async webhooks failed");
		cairn_error_clear();
	}
}

void cli_log_line(const char *source, const char *text, void *payload)
{
	struct cli *cli = payload;
	const char *p = text;

	if (cli->verbosity < 0)
		return;
	if (cli->stderr_tty)
		fputs("\r\033[K", stderr);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = cairn__escape_text(p, len, 0);
		cli_quoted q = CLI_QUOTED_INIT;

		fprintf(stderr, "%s[%s]%s %s\n", cli_color(cli, stderr, "2"),
			cli_q(&q, source), cli_reset(cli, stderr),
			line ? line : "?");
		cli_quoted_release(&q);
		free(line);
		if (!nl)
			break;
		p = nl + 1;
	}
}

int cli_run_options(struct cli *cli, cairn_run_options *o,
		    cairn_migration_set *set, cairn_db *db,
		    cairn_pipeline *pipeline, char deploy_rev[CAIRN_OID_HEXSZ],
		    char **deploy_ref)
{
	const cairn_environment *env;
	cairn_repo *repo;
	int rc;

	*deploy_ref = NULL;
	if ((rc = cli_repo(cli, &repo)) || (rc = cli_env(cli, &env)))
		return rc;
	if (cli->worktree) {
		snprintf(deploy_rev, CAIRN_OID_HEXSZ, "worktree");
	} else {
		snprintf(deploy_rev, CAIRN_OID_HEXSZ, "%s",
			 cairn_migration_set_commit(set));
		if (cairn_repo_ref_name(deploy_ref, repo, cli->rev) < 0) {
			cairn_error_clear();
			*deploy_ref = NULL;
		}
	}
	o->repo = repo;
	o->set = set;
	o->db = db;
	o->pipeline = pipeline;
	o->environment = env->name;
	o->deploy_rev = deploy_rev;
	o->deploy_ref = *deploy_ref;
	o->allow_out_of_order = env->allow_out_of_order;
	o->require_down = env->require_down;
	o->lock_timeout_ms = env->lock_timeout_ms;
	o->workdir = cairn_repo_workdir(repo);
	o->log_fn = cli_log_line;
	o->payload = cli;
	o->config_origin = cli->config_origin;
	return 0;
}
