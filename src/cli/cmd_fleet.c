/*
 * cmd_fleet.c - `--all-targets` (README "Fleets"): `cairn migrate up`,
 * `status`, `validate` and `audit verify|anchor` over every target of
 * the environment.
 *
 * The engine's state belongs to one connection and one run, so each
 * target runs in a child `cairn COMMAND` of its own (its own connection,
 * deploy lock, tracking table and audit chain), started without a
 * shell.  The child learns its target from environment variables, never
 * from its command line, where a URL's password would be visible to
 * every user of the machine.  The library's scheduler (cairn_fleet_run)
 * decides which target runs when; this file builds the children's argv,
 * reads their JSON answers and fires the fleet-level hook events;
 * fleet_report.c prints.  Every migrate child's audit rows carry the
 * fleet's run id as metadata (fleet_run) and the target's name
 * (fleet_target).
 *
 * The pipeline at fleet level: pre_validate once before any target (a
 * veto runs none), post_validate once (migrate: when the revision's
 * migrations loaded, before the targets; validate: after every target
 * passed), post_complete once after a migrate run with the summary in
 * its metadata (fleet_summary, a JSON array).  The children drop those
 * three events from their configuration and fire the per-migration ones
 * (pre_execute, post_execute, on_error) per target.  Hooks that need a
 * database (sql hooks, the db-reachable built-in) and plugins stay with
 * the targets at every event: the fleet has no one database.
 */
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cairn/engine.h"
#include "cairn/fleet.h"
#include "dbopen.h"
#include "fleet.h"
#include "fleet_int.h"
#include "hook_spec.h"
#include "report.h"
#include "util/spawn.h"
#include "util/util.h"

#define MAX_ARGS FLEET_MAX_ARGS
/* The most a child may answer on stdout (and write on stderr). */
#define FLEET_MAX_ANSWER ((size_t)64 * 1024 * 1024)
#define FLEET_MAX_ANSWER_TEXT "64 MiB"

/* The child's copy of its URL (cli->db_url points at it) until exit. */
static char *child_url;
/* In a child: its target's name (argv), for the anchor's name. */
static const char *child_target;
static char anchor_name[256];

static void free_child_url(void)
{
	free(child_url);
	child_url = NULL;
}

const char *cli_fleet_anchor_name(const char *environment)
{
	if (!child_target || !environment)
		return environment;
	snprintf(anchor_name, sizeof(anchor_name), "%s@%s", environment,
		 child_target);
	return anchor_name;
}

/*
 * Whether a configured hook runs once for the fleet rather than in each
 * target's run: those at pre_validate, post_validate and post_complete,
 * except the ones that need the target's database (sql hooks and the
 * db-reachable built-in) and plugins, which register where they like.
 */
static bool fleet_level_hook(const cairn_hook_spec *h)
{
	if (h->event != CAIRN_EVENT_PRE_VALIDATE &&
	    h->event != CAIRN_EVENT_POST_VALIDATE &&
	    h->event != CAIRN_EVENT_POST_COMPLETE)
		return false;
	if (h->kind == CAIRN_HOOK_SQL || h->kind == CAIRN_HOOK_PLUGIN)
		return false;
	return !(h->kind == CAIRN_HOOK_BUILTIN && h->builtin &&
		 !strcmp(h->builtin, "db-reachable"));
}

/* A child leaves the run-level events to its fleet: drops their hooks. */
static void drop_fleet_level_hooks(cairn_config *cfg)
{
	size_t k = 0;

	for (size_t i = 0; i < cfg->hooks_count; i++) {
		if (fleet_level_hook(&cfg->hooks[i])) {
			cairn_config__hook_dispose(&cfg->hooks[i]);
			continue;
		}
		if (k != i)
			cfg->hooks[k] = cfg->hooks[i];
		k++;
	}
	cfg->hooks_count = k;
}

/*
 * A child stops when its fleet dies: SIGTERM then (the fleet's Ctrl-C),
 * so a kill -9 of the fleet leaves no target running unattended.  The
 * fleet's pid (CLI_FLEET_PARENT_VAR) tells a fleet that died before the
 * signal was asked for.  False when the fleet is gone already.
 */
static bool follow_fleet(void)
{
	const char *p = getenv(CLI_FLEET_PARENT_VAR);
	long want = p ? strtol(p, NULL, 10) : 0;

	/* the kernel sends the signal once per thread of the fleet as they
	 * exit, so several may come */
	cli_interrupt_term_once();
#ifdef __linux__
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		return true; /* as before: the child goes on alone */
#endif
	return want <= 0 || getppid() == (pid_t)want;
}

/*
 * The revision a child runs is the one its fleet resolved at the start:
 * a branch that moves during a long run (a push, a pull in the deploy
 * checkout) must not give later targets migrations the fleet's
 * pre_validate and post_validate never saw.  0 or an exit code.
 */
static int same_revision(struct cli *cli, const char *name)
{
	const char *want = getenv(CLI_FLEET_COMMIT_VAR);
	char have[CAIRN_OID_HEXSZ];
	cairn_repo *repo;
	int rc;

	if (!want || !*want || cli->worktree)
		return 0;
	if ((rc = cli_repo(cli, &repo)))
		return rc;
	if (cairn_repo_resolve(have, repo, cli->rev) < 0)
		return cli_report_error(cli);
	if (!strcmp(have, want))
		return 0;
	cli_errorf(cli, "'%s' moved during the fleet run: target '%s' would run %.12s, the fleet started at %.12s",
		   cli->rev, name, have, want);
	cli_hintf(cli, "run the fleet again (or give --rev a commit id)");
	return CLI_EXIT_FAIL;
}

int cli_fleet_child(struct cli *cli, const char *name)
{
	const char *url = getenv(CLI_FLEET_URL_VAR);
	const char *schema = getenv(CLI_FLEET_SCHEMA_VAR);
	const cairn_config *cfg;
	int rc;

	if (!url || !*url) {
		cli_errorf(cli, "--fleet-target '%s' needs the target's URL in %s", name,
			   CLI_FLEET_URL_VAR);
		cli_hintf(cli, "--fleet-target is how 'cairn migrate up --all-targets' runs each target; run that instead");
		return CLI_EXIT_USAGE;
	}
	if (!follow_fleet()) {
		cli_errorf(cli, "the fleet run of target '%s' is gone: nothing done", name);
		return CLI_EXIT_INTERRUPTED;
	}
	/* with its fleet gone, a write to the pipes it read fails (EPIPE)
	 * instead of killing the child before it rolled back */
	signal(SIGPIPE, SIG_IGN);
	if ((rc = same_revision(cli, name)) || (rc = cli_config(cli, &cfg)))
		return rc;
	if (!child_url && atexit(free_child_url) != 0)
		return CLI_EXIT_FAIL;
	free(child_url);
	child_url = strdup(url);
	cli->db_url = child_url;
	child_target = name;
	if (schema && *schema) {
		char *s = strdup(schema);

		if (!s || !child_url) {
			free(s);
			return CLI_EXIT_FAIL;
		}
		free(cli->cfg->schema);
		cli->cfg->schema = s;
	}
	drop_fleet_level_hooks(cli->cfg);
	/* hooks and their children need not see the URL again */
	unsetenv(CLI_FLEET_URL_VAR);
	unsetenv(CLI_FLEET_SCHEMA_VAR);
	unsetenv(CLI_FLEET_PARENT_VAR);
	unsetenv(CLI_FLEET_COMMIT_VAR);
	return cli->db_url ? 0 : CLI_EXIT_FAIL;
}

static void push(struct fleet *f, const char *s)
{
	if (f->argc < MAX_ARGS - 4)
		f->argv[f->argc++] = s;
}

/* The command a child runs, and the options passed on to it. */
static void push_command(struct fleet *f, const struct cli_fleet_args *a)
{
	switch (f->kind) {
	case CLI_FLEET_STATUS:
		push(f, "status");
		return;
	case CLI_FLEET_AUDIT_VERIFY:
	case CLI_FLEET_AUDIT_ANCHOR:
		push(f, "audit");
		push(f, f->kind == CLI_FLEET_AUDIT_VERIFY ? "verify" : "anchor");
		return;
	case CLI_FLEET_VALIDATE:
		push(f, "validate");
		break;
	case CLI_FLEET_MIGRATE:
		push(f, "migrate");
		push(f, "up");
		break;
	}
	for (size_t i = 0; i < a->npass; i++)
		push(f, a->pass[i]);
	if (f->kind == CLI_FLEET_MIGRATE) {
		push(f, "--meta");
		push(f, f->meta_run);
	}
}

/* The children's command, up to (not including) "--fleet-target NAME". */
static int build_argv(struct fleet *f, const struct cli_fleet_args *a)
{
	struct cli *cli = f->cli;
	ssize_t n = readlink("/proc/self/exe", f->exe, sizeof(f->exe) - 1);

	if (n <= 0) {
		cli_errorf(cli, "cannot find the cairn program to run for each target");
		return CLI_EXIT_FAIL;
	}
	f->exe[n] = '\0';
	push(f, f->exe);
	push(f, "--env");
	push(f, f->env->name);
	if (cli->config_path) {
		push(f, "--config");
		push(f, cli->config_path);
	}
	if (cli->rev_given) {
		push(f, "--rev");
		push(f, cli->rev);
	}
	if (cli->worktree)
		push(f, "--worktree");
	push(f, "--no-color");
	push(f, "--format");
	push(f, "json");
	push_command(f, a);
	if (f->argc >= MAX_ARGS - 4) {
		cli_errorf(cli, "too many options for --all-targets");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

static char *jdup(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? strdup(s) : NULL;
}

/*
 * The child's error from its stderr, for a failure without JSON: the
 * first line, and the DETAIL line right after it when there is one
 * (why a connection failed, in the server's or libpq's words; the
 * child has masked the password).
 */
static char *first_line(const cairn_buf *b)
{
	const char *p, *nl, *d;
	char *out;

	if (!b->size || cairn_buf_failed(b))
		return NULL;
	p = b->ptr + strspn(b->ptr, "\n");
	if (!strncmp(p, "cairn: ", 7))
		p += 7;
	nl = strchr(p, '\n');
	if (!*p || p == nl)
		return NULL;
	if (!nl || strncmp(nl + 1, "DETAIL: ", 8))
		return strndup(p, nl ? (size_t)(nl - p) : strlen(p));
	d = nl + 9;
	if (asprintf(&out, "%.*s: %.*s", (int)(nl - p), p,
		     (int)strcspn(d, "\n"), d) < 0)
		return NULL;
	return out;
}

/*
 * States of a migration the target has applied: a drifted one (file
 * edited since) and a missing one (applied by a later revision than the
 * one shown: the target is ahead) count as much as a plain one.
 */
static bool is_applied_state(const char *st)
{
	return !strcmp(st, "applied") || !strcmp(st, "drifted") ||
	       !strcmp(st, "missing");
}

/* `status --format json`: counts and the highest applied version. */
static void read_status(struct fleet_job *j, json_t *o)
{
	json_t *sum = json_object_get(o, "summary"), *m;
	size_t i;

	j->applied = jint(sum, "applied");
	j->pending = jint(sum, "pending");
	j->failed = jint(sum, "failed");
	j->ahead = jint(sum, "missing");
	json_array_foreach(json_object_get(o, "migrations"), i, m) {
		const char *v = json_string_value(json_object_get(m, "version"));
		const char *st = json_string_value(json_object_get(m, "state"));

		/* cairn's order: 1.10 after 1.9, 10/1 after 2/2 */
		if (v && st && is_applied_state(st) && strlen(v) < sizeof(j->highest) &&
		    (!*j->highest || cairn_version_compare(v, j->highest) > 0))
			snprintf(j->highest, sizeof(j->highest), "%s", v);
	}
}

/* `validate --format json`: counts, and the first error as "CODE: message". */
static void read_validate(struct fleet_job *j, json_t *o)
{
	json_t *f;
	size_t i;

	j->errors = jint(o, "errors");
	j->warnings = jint(o, "warnings");
	json_array_foreach(json_object_get(o, "findings"), i, f) {
		const char *sev = json_string_value(json_object_get(f, "severity"));
		const char *code = json_string_value(json_object_get(f, "code"));
		const char *msg = json_string_value(json_object_get(f, "message"));

		if (!j->error && sev && !strcmp(sev, "error") && msg &&
		    asprintf(&j->error, "%s: %s", code ? code : "error", msg) < 0)
			j->error = NULL;
	}
}

/* `audit verify|anchor --format json`: rows, and what is wrong. */
static void read_audit(struct fleet_job *j, json_t *o)
{
	json_t *anchor = json_object_get(o, "anchor");
	long untracked = (long)json_array_size(json_object_get(o, "untracked"));

	j->rows = jint(o, "rows");
	if (!j->error)
		j->error = jdup(o, "reason");
	if (!j->error)
		j->error = jdup(o, "mac_problem");
	if (!j->error && json_is_object(anchor))
		j->error = jdup(anchor, "problem");
	if (!j->error && untracked &&
	    asprintf(&j->error, "%ld applied migration%s without an audit row",
		     untracked, untracked == 1 ? "" : "s") < 0)
		j->error = NULL;
}

static void read_migrate(struct fleet_job *j, json_t *o)
{
	json_t *err;

	j->applied = jint(o, "applied");
	j->pending = jint(o, "planned") - j->applied;
	j->failed = jint(o, "failed");
	j->child_run_id = jdup(o, "run_id");
	err = json_object_get(json_object_get(o, "error"), "message");
	if (json_is_string(err))
		j->error = strdup(json_string_value(err));
}

/*
 * What a child said; true when it succeeded and its answer was read (a
 * child that exits 0 without an answer we can read is a failure: its
 * counts would be blanks in a table that says "ok").
 */
static bool read_result(struct fleet_job *j, const cairn_spawn_result *r,
			enum cli_fleet_kind kind)
{
	json_t *o = NULL;

	if (r->out.size && !cairn_buf_failed(&r->out))
		o = json_loadb(r->out.ptr, r->out.size, 0, NULL);
	if (json_is_object(o)) {
		j->have_json = true;
		switch (kind) {
		case CLI_FLEET_STATUS: read_status(j, o); break;
		case CLI_FLEET_VALIDATE: read_validate(j, o); break;
		case CLI_FLEET_AUDIT_VERIFY:
		case CLI_FLEET_AUDIT_ANCHOR: read_audit(j, o); break;
		case CLI_FLEET_MIGRATE: read_migrate(j, o); break;
		}
	}
	json_decref(o);
	if (r->status == 0) {
		free(j->error); /* a warning the child lived with */
		j->error = NULL;
		if (j->have_json)
			return true;
		j->error = strdup(r->out_truncated ?
				  "its answer is over " FLEET_MAX_ANSWER_TEXT :
				  "its answer could not be read as JSON");
		return false;
	}
	if (!j->error)
		j->error = first_line(&r->err);
	if (!j->error && r->message)
		j->error = strdup(r->message);
	return false;
}

/* The child's environment: its URL, schema and search_path. */
struct child_env {
	char *url_var, *schema_var, *pgopts, *meta;
	char parent_var[48];
	char commit_var[32 + CAIRN_OID_HEXSZ];
	const char *env[6];
};

static void child_env_dispose(struct child_env *c)
{
	free(c->url_var);
	free(c->schema_var);
	free(c->pgopts);
	free(c->meta);
}

static int child_env_init(struct child_env *c, const cairn_target *t,
			  const char *commit)
{
	size_t ne = 0;

	memset(c, 0, sizeof(*c));
	if (asprintf(&c->url_var, "%s=%s", CLI_FLEET_URL_VAR, t->database_url) < 0)
		c->url_var = NULL;
	if (asprintf(&c->meta, "fleet_target=%s", t->name) < 0)
		c->meta = NULL;
	if (t->schema) {
		const char *old = getenv("PGOPTIONS");

		if (asprintf(&c->schema_var, "%s=%s", CLI_FLEET_SCHEMA_VAR, t->schema) < 0)
			c->schema_var = NULL;
		if (asprintf(&c->pgopts, "PGOPTIONS=%s%s-c search_path=%s",
			     old ? old : "", old && *old ? " " : "", t->schema) < 0)
			c->pgopts = NULL;
	}
	if (!c->url_var || !c->meta || (t->schema && (!c->schema_var || !c->pgopts)))
		return -1;
	snprintf(c->parent_var, sizeof(c->parent_var), "%s=%ld",
		 CLI_FLEET_PARENT_VAR, (long)getpid());
	snprintf(c->commit_var, sizeof(c->commit_var), "%s=%s",
		 CLI_FLEET_COMMIT_VAR, commit);
	c->env[ne++] = c->url_var;
	c->env[ne++] = c->parent_var;
	c->env[ne++] = c->commit_var;
	c->env[ne++] = t->schema ? c->schema_var : CLI_FLEET_SCHEMA_VAR;
	if (c->pgopts)
		c->env[ne++] = c->pgopts;
	c->env[ne] = NULL;
	return 0;
}

/*
 * Whether a child that could not reach its database was refused for
 * lack of a connection slot (SQLSTATE 53300: max_connections, a role's
 * or a database's CONNECTION LIMIT): then it did nothing and runs again.
 */
static bool no_slot(const cairn_spawn_result *r, const struct fleet_job *j)
{
	static const char *const says[] = {
		"too many clients", "too many connections",
		"remaining connection slots are reserved", "53300",
	};

	if (r->status != 3)
		return false;
	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(says); i++)
		if ((j->error && strstr(j->error, says[i])) ||
		    (r->err.size && !cairn_buf_failed(&r->err) &&
		     memmem(r->err.ptr, r->err.size, says[i], strlen(says[i]))))
			return true;
	return false;
}

static void job_reset(struct fleet_job *j)
{
	free(j->error);
	free(j->child_run_id);
	memset(j, 0, sizeof(*j));
}

/*
 * One target: a child `cairn COMMAND`; 0 when it succeeded,
 * CAIRN_FLEET_BUSY when its server had no connection slot free.
 */
static int run_target(size_t idx, void *payload)
{
	struct fleet *f = payload;
	const cairn_target *t = &f->targets[idx];
	struct fleet_job *j = &f->jobs[idx];
	cairn_spawn_options so = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	const char *argv[MAX_ARGS + 8];
	struct child_env ce;
	size_t n = f->argc;
	int rc = 1;

	fleet_live_start(f, idx);
	memcpy(argv, f->argv, f->argc * sizeof(*argv));
	if (child_env_init(&ce, t, f->commit) < 0) {
		j->error = strdup("out of memory");
		goto out;
	}
	if (f->kind == CLI_FLEET_MIGRATE) {
		argv[n++] = "--meta";
		argv[n++] = ce.meta;
	}
	argv[n++] = "--fleet-target";
	argv[n++] = t->name;
	argv[n] = NULL;
	so.argv = argv;
	so.env_add = ce.env;
	so.cancel = f->cancel;
	/* a status of 10,000 migrations is several MB of JSON */
	so.max_output = FLEET_MAX_ANSWER;
	/* on Ctrl-C a child rolls back and writes its audit row: give it
	 * time before SIGKILL */
	so.kill_grace_ms = 30000;
	if (cairn_spawn_run(&r, &so) < 0 && !r.cancelled) {
		const cairn_error *e = cairn_error_last();

		j->error = strdup(e ? e->message : "cannot run cairn");
		cairn_error_clear();
		cairn_spawn_result_dispose(&r);
		goto out;
	}
	cairn_error_clear();
	j->ran = true;
	j->ms = r.duration_ms;
	rc = read_result(j, &r, f->kind) ? 0 : 1;
	if (rc && no_slot(&r, j)) {
		job_reset(j);
		cairn_spawn_result_dispose(&r);
		child_env_dispose(&ce);
		fleet_busy(f, idx);
		return CAIRN_FLEET_BUSY;
	}
	cairn_spawn_result_dispose(&r);
out:
	child_env_dispose(&ce);
	fleet_live_done(f, idx, rc == 0);
	return rc;
}

/* --------------------------------------------------------------------- */
/* The fleet-level events                                                 */

struct fleet_events {
	cairn_pipeline *p;
	cairn_hook_spec *specs;   /* the view's hooks; live as long as p */
	cairn_migration_set *set;
	char *summary;            /* post_complete: fleet_summary */
	char *failed_names;       /* post_complete: fleet_failed */
};

static void fleet_events_dispose(struct cli *cli, struct fleet_events *e)
{
	cli_await_webhooks(cli, e->p);
	cairn_pipeline_free(e->p);
	free(e->specs);
	cairn_migration_set_free(e->set);
	free(e->summary);
	free(e->failed_names);
}

/*
 * The pipeline of the fleet-level events: only the fleet-level hooks
 * (fleet_level_hook) at pre_validate, post_validate and (migrate)
 * post_complete, so building it needs nothing the other hooks need.
 */
static int fleet_pipeline(struct fleet *f, struct fleet_events *e)
{
	const cairn_config *cfg;
	cairn_config view;
	size_t n = 0;
	int rc;

	if ((rc = cli_config(f->cli, &cfg)))
		return rc;
	e->specs = calloc(cfg->hooks_count + 1, sizeof(*e->specs));
	if (!e->specs) {
		cli_errorf(f->cli, "out of memory");
		return CLI_EXIT_FAIL;
	}
	for (size_t i = 0; i < cfg->hooks_count; i++)
		if (fleet_level_hook(&cfg->hooks[i]) &&
		    (f->kind == CLI_FLEET_MIGRATE ||
		     cfg->hooks[i].event != CAIRN_EVENT_POST_COMPLETE))
			e->specs[n++] = cfg->hooks[i];
	if (!n)
		return 0;
	view = *cfg;
	view.hooks = e->specs;
	view.hooks_count = n;
	return cli_build_pipeline_from(f->cli, &view, &e->p);
}

/* A hook that failed without stopping anything says so. */
static void on_outcome(const cairn_hook_outcome *oc, void *payload)
{
	struct cli *cli = payload;

	if (oc->skipped || oc->rc == 0 ||
	    (oc->hook->on_failure == CAIRN_ON_FAILURE_IGNORE) ||
	    (oc->hook->on_failure == CAIRN_ON_FAILURE_ABORT &&
	     oc->ctx->event != CAIRN_EVENT_POST_COMPLETE))
		return;
	cli_warnf(cli, "hook '%s' at %s failed: %s", oc->hook->name,
		  cairn_event_name(oc->ctx->event),
		  oc->error && oc->error->message ? oc->error->message : "failed");
}

/* The summary's numbers for post_complete. */
struct totals {
	size_t planned, done, failed, failed_targets;
};

static void fleet_totals(const struct fleet *f, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < f->count; i++) {
		const struct fleet_job *j = &f->jobs[i];

		t->done += j->applied > 0 ? (size_t)j->applied : 0;
		t->planned += (j->applied > 0 ? (size_t)j->applied : 0) +
			      (j->pending > 0 ? (size_t)j->pending : 0);
		t->failed += j->failed > 0 ? (size_t)j->failed : 0;
		if (f->out && f->out[i] != CAIRN_FLEET_OK)
			t->failed_targets++;
	}
}

/* fleet_summary and fleet_failed for post_complete's metadata. */
static int summary_texts(const struct fleet *f, struct fleet_events *e)
{
	json_t *arr = fleet_targets_json(f);
	cairn_buf names = CAIRN_BUF_INIT;

	e->summary = arr ? json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(arr);
	for (size_t i = 0; i < f->count; i++)
		if (f->out[i] != CAIRN_FLEET_OK)
			cairn_buf_printf(&names, "%s%s", names.size ? "," : "",
					 f->targets[i].name);
	if (cairn_buf_check(&names) < 0 || !e->summary) {
		cairn_buf_dispose(&names);
		return -1;
	}
	e->failed_names = cairn_buf_detach(&names);
	return e->failed_names ? 0 : -1;
}

/* Config, environment and fleet metadata in one array (borrowed strings). */
static cairn_kv *fleet_metadata(const struct fleet *f, const cairn_config *cfg,
				const struct fleet_events *e, char *count,
				size_t *n)
{
	cairn_kv *m = calloc(cfg->metadata_count + f->env->metadata_count + 5,
			     sizeof(*m));
	size_t k = 0;

	if (!m)
		return NULL;
	for (size_t i = 0; i < cfg->metadata_count; i++)
		m[k++] = cfg->metadata[i];
	for (size_t i = 0; i < f->env->metadata_count; i++)
		m[k++] = f->env->metadata[i];
	m[k].key = (char *)"fleet_run";
	m[k++].value = (char *)f->run_id;
	m[k].key = (char *)"fleet_targets";
	m[k++].value = count;
	if (e->summary) {
		m[k].key = (char *)"fleet_failed";
		m[k++].value = e->failed_names;
		m[k].key = (char *)"fleet_summary";
		m[k++].value = e->summary;
	}
	*n = k;
	return m;
}

/*
 * Fires ev once for the fleet.  0 when the hooks let the run go on; -1
 * when one vetoed (cairn_error_last() says why); an exit code after a
 * set-up failure was reported.
 */
static int fleet_fire(struct fleet *f, struct fleet_events *e, cairn_event ev)
{
	struct cli *cli = f->cli;
	const cairn_config *cfg;
	cairn_repo *repo;
	cairn_session *session = NULL;
	cairn_hook_context ctx;
	cairn_error err;
	struct totals t;
	cairn_kv *meta = NULL;
	char rev[CAIRN_OID_HEXSZ] = "", count[24], *actor = NULL, *ref = NULL,
	     *why = NULL;
	size_t nmeta = 0;
	int rc;

	if (!e->p || !cairn_pipeline_count(e->p, ev))
		return 0;
	if ((rc = cli_config(cli, &cfg)) || (rc = cli_repo(cli, &repo)))
		return rc;
	if (cli->worktree)
		snprintf(rev, sizeof(rev), "worktree");
	else if (e->set)
		snprintf(rev, sizeof(rev), "%s", cairn_migration_set_commit(e->set));
	else if (cairn_repo_resolve(rev, repo, cli->rev) < 0)
		return cli_report_error(cli);
	if (!cli->worktree && cairn_repo_ref_name(&ref, repo, cli->rev) < 0)
		cairn_error_clear();
	snprintf(count, sizeof(count), "%zu", f->count);
	fleet_totals(f, &t);
	if (ev == CAIRN_EVENT_POST_COMPLETE && summary_texts(f, e) < 0) {
		cli_errorf(cli, "out of memory");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (cairn_session_new(&session, NULL, cairn_repo_workdir(repo)) < 0 ||
	    cairn_actor_describe(&actor, NULL, repo) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	if (!(meta = fleet_metadata(f, cfg, e, count, &nmeta))) {
		cli_errorf(cli, "out of memory");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = CAIRN_HOOK_CONTEXT_VERSION;
	ctx.event = ev;
	ctx.environment = f->env->name;
	ctx.run_id = f->run_id;
	ctx.direction = "up";
	ctx.status = ev != CAIRN_EVENT_POST_COMPLETE ? "pending" :
		     t.failed_targets ? "failed" : "applied";
	ctx.metadata = meta;
	ctx.metadata_count = nmeta;
	ctx.deploy_rev = rev;
	ctx.deploy_ref = ref ? ref : "";
	ctx.actor = actor;
	ctx.database = "";
	ctx.planned = e->set && ev != CAIRN_EVENT_POST_COMPLETE ?
		      cairn_migration_set_count(e->set) : t.planned;
	ctx.done = t.done;
	ctx.failed = t.failed;
	ctx.duration_ms = f->ms;
	ctx.session = session;
	ctx.log_fn = cli_log_line;
	ctx.log_payload = cli;
	if (ev == CAIRN_EVENT_POST_COMPLETE && t.failed_targets) {
		if (asprintf(&why, "%zu of %zu targets failed or did not run: %s",
			     t.failed_targets, f->count, e->failed_names) < 0)
			why = NULL;
		memset(&err, 0, sizeof(err));
		err.klass = CAIRN_ERRCLASS_SQL;
		err.message = why ? why : "targets failed";
		ctx.error = &err;
	}
	cairn_pipeline_set_observer(e->p, on_outcome, cli);
	cairn_error_clear();
	rc = cairn_pipeline_fire(e->p, &ctx, CAIRN_FIRE_ALL, NULL) < 0 ? -1 : 0;
out:
	cairn_session_free(session);
	free(meta);
	free(actor);
	free(ref);
	free(why);
	return rc;
}

/* A veto at fleet level: reported, exit 1. */
static int vetoed(struct fleet *f, int rc)
{
	if (rc >= 0)
		return rc;
	cli_report_error(f->cli);
	cli_notef(f->cli, "no target was started");
	return CLI_EXIT_FAIL;
}

/* pre_validate, then the revision's migrations, then (migrate) post_validate. */
static int before_targets(struct fleet *f, struct fleet_events *e)
{
	int rc;

	if (f->kind != CLI_FLEET_MIGRATE && f->kind != CLI_FLEET_VALIDATE)
		return 0;
	if ((rc = fleet_pipeline(f, e)))
		return rc;
	if (!e->p)
		return 0;
	if ((rc = vetoed(f, fleet_fire(f, e, CAIRN_EVENT_PRE_VALIDATE))))
		return rc;
	if ((rc = cli_load_set(f->cli, *f->commit ? f->commit : NULL,
			       f->cli->worktree, &e->set)))
		return rc;
	if (f->kind == CLI_FLEET_MIGRATE)
		return vetoed(f, fleet_fire(f, e, CAIRN_EVENT_POST_VALIDATE));
	return 0;
}

/* validate: post_validate when every target passed; migrate: post_complete. */
static int after_targets(struct fleet *f, struct fleet_events *e, bool dry,
			 int rc)
{
	int hrc;

	if (!e->p || *f->cancel)
		return rc;
	if (f->kind == CLI_FLEET_VALIDATE && rc == 0) {
		hrc = fleet_fire(f, e, CAIRN_EVENT_POST_VALIDATE);
		if (hrc < 0) {
			cli_report_error(f->cli);
			return CLI_EXIT_FAIL;
		}
		return hrc ? hrc : rc;
	}
	if (f->kind == CLI_FLEET_MIGRATE && !dry) {
		/* post_complete may not veto: its failures are warnings */
		hrc = fleet_fire(f, e, CAIRN_EVENT_POST_COMPLETE);
		if (hrc < 0) {
			const cairn_error *err = cairn_error_last();

			cli_warnf(f->cli, "post_complete: %s",
				  err ? err->message : "a hook failed");
			cairn_error_clear();
		}
	}
	return rc;
}

/* --------------------------------------------------------------------- */

/* "N of M targets failed: a, b" and what was not started; the exit code. */
static int report(struct fleet *f)
{
	struct cli *cli = f->cli;
	const cairn_fleet_outcome *out = f->out;
	size_t nfail = 0, nskip = 0;
	cairn_buf names = CAIRN_BUF_INIT;

	for (size_t i = 0; i < f->count; i++) {
		if (out[i] == CAIRN_FLEET_FAILED) {
			char *q = cli_quote_path(f->targets[i].name);

			cairn_buf_printf(&names, "%s%s", nfail ? ", " : "",
					 q ? q : "?");
			free(q);
			nfail++;
		} else if (out[i] == CAIRN_FLEET_NOT_STARTED) {
			nskip++;
		}
	}
	fleet_print(f, !nfail && !nskip);
	if (nfail)
		cli_errorf(cli, "%zu of %zu targets failed: %s", nfail, f->count,
			   cairn_buf_failed(&names) ? "?" : names.ptr);
	if (nskip)
		cli_notef(cli, "%zu target%s not started (%s)", nskip,
			  nskip == 1 ? " was" : "s were",
			  *f->cancel ? "interrupted" :
			  "the run stops at the first failure, or when a canary fails; --keep-going runs the rest after a failure");
	cairn_buf_dispose(&names);
	if (*f->cancel)
		return CLI_EXIT_INTERRUPTED;
	return nfail || nskip ? CLI_EXIT_FAIL : 0;
}

static bool passes(const struct cli_fleet_args *a, const char *opt)
{
	for (size_t i = 0; i < a->npass; i++)
		if (!strcmp(a->pass[i], opt))
			return true;
	return false;
}

/* The targets, scheduled; fills f->out. */
static int run_all(struct fleet *f, const struct cli_fleet_args *a)
{
	cairn_fleet_options fo = CAIRN_FLEET_OPTIONS_INIT;

	fo.count = f->count;
	fo.parallel = a->parallel;
	fo.canary = a->canary;
	/* reading stops nothing */
	fo.keep_going = a->keep_going || f->kind == CLI_FLEET_STATUS;
	fo.cancel = f->cancel;
	fo.fn = run_target;
	fo.payload = f;
	f->started_ms = cairn__now_ms();
	if (cairn_fleet_run(f->out, &fo) < 0)
		return cli_report_error(f->cli);
	f->ms = cairn__now_ms() - f->started_ms;
	fleet_live_end(f);
	return 0;
}

static int fleet_setup(struct fleet *f, const struct cli_fleet_args *a)
{
	cairn_fleet_targets_options to = CAIRN_FLEET_TARGETS_OPTIONS_INIT;
	struct cli *cli = f->cli;
	cairn_repo *repo;
	int rc;

	if ((rc = cli_env(cli, &f->env)))
		return rc;
	if (f->kind == CLI_FLEET_MIGRATE && !passes(a, "--dry-run") &&
	    f->env->confirm && !a->yes) {
		cli_errorf(cli, "environment '%s' needs confirmation; a fleet run does not ask once per target",
			   f->env->name);
		cli_hintf(cli, "pass --yes");
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_repo(cli, &repo)))
		return rc;
	to.workdir = cairn_repo_workdir(repo);
	/* one revision for every target, however long the run */
	if (!cli->worktree && cairn_repo_resolve(f->commit, repo, cli->rev) < 0)
		return cli_report_error(cli);
	if (cairn_fleet_targets(&f->targets, &f->count, f->env, &to) < 0)
		return cli_report_error(cli);
	cairn_run_id_new(f->run_id);
	snprintf(f->meta_run, sizeof(f->meta_run), "fleet_run=%s", f->run_id);
	f->jobs = calloc(f->count, sizeof(*f->jobs));
	f->out = calloc(f->count, sizeof(*f->out));
	if (!f->jobs || !f->out) {
		cli_errorf(cli, "out of memory");
		return CLI_EXIT_FAIL;
	}
	f->live = cli->stdout_tty && cli->format == CLI_FORMAT_TEXT &&
		  cli->verbosity >= 0;
	return build_argv(f, a);
}

int cli_fleet_migrate(struct cli *cli, const struct cli_fleet_args *a)
{
	struct fleet f;
	struct fleet_events ev;
	bool dry = passes(a, "--dry-run");
	int rc;

	memset(&f, 0, sizeof(f));
	memset(&ev, 0, sizeof(ev));
	f.cli = cli;
	f.kind = a->status ? CLI_FLEET_STATUS : a->kind;
	if ((rc = fleet_setup(&f, a)))
		goto done;
	pthread_mutex_init(&f.mu, NULL);
	f.cancel = cli_interrupt_install(NULL);
	cli_verbosef(cli, "fleet run %s: %s on %zu targets", f.run_id,
		     fleet_kind_name(f.kind), f.count);
	if (!(rc = before_targets(&f, &ev)) && !(rc = run_all(&f, a))) {
		rc = report(&f);
		rc = after_targets(&f, &ev, dry, rc);
	}
	cli_interrupt_remove();
	pthread_mutex_destroy(&f.mu);
done:
	fleet_events_dispose(cli, &ev);
	for (size_t i = 0; f.jobs && i < f.count; i++) {
		free(f.jobs[i].error);
		free(f.jobs[i].child_run_id);
	}
	free(f.jobs);
	free(f.out);
	cairn_fleet_targets_free(f.targets, f.count);
	return rc;
}

/* --------------------------------------------------------------------- */
/* The fleet options of validate and audit                                */

static int positive(struct cli *cli, const char *cmd, const char *opt,
		    const char *arg, unsigned long *out)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*end || !*arg || v == 0 || v > 100000)
		return cli_usage_error(cli, cli_find_command(cmd),
				       "%s needs a positive number, not '%s'", opt, arg);
	*out = v;
	return 0;
}

int cli_fleet_option(struct cli *cli, const char *cmd,
		     struct cli_fleet_opts *o, int c, const char *arg,
		     bool *taken)
{
	unsigned long v;
	int rc;

	*taken = true;
	switch (c) {
	case CLI_FLEET_OPT_ALL:
		o->all_targets = true;
		return 0;
	case CLI_FLEET_OPT_PARALLEL:
		if ((rc = positive(cli, cmd, "--parallel", arg, &v)))
			return rc;
		o->a.parallel = v > 256 ? 256 : (unsigned)v;
		return 0;
	case CLI_FLEET_OPT_CANARY:
		if ((rc = positive(cli, cmd, "--canary", arg, &v)))
			return rc;
		o->a.canary = v;
		return 0;
	case CLI_FLEET_OPT_KEEP_GOING:
		o->a.keep_going = true;
		return 0;
	case CLI_FLEET_OPT_TARGET:
		o->target = arg;
		return 0;
	}
	*taken = false;
	return 0;
}

void cli_fleet_pass(struct cli_fleet_opts *o, const char *opt,
		    const char *arg)
{
	size_t max = sizeof(o->pass) / sizeof(o->pass[0]);

	if (o->a.npass + 2 > max)
		return;
	o->pass[o->a.npass++] = opt;
	if (arg)
		o->pass[o->a.npass++] = arg;
	o->a.pass = o->pass;
}

int cli_fleet_dispatch(struct cli *cli, const char *cmd,
		       struct cli_fleet_opts *o, enum cli_fleet_kind kind,
		       bool *done)
{
	const struct cli_command *c = cli_find_command(cmd);

	*done = false;
	if (!o->all_targets) {
		if (o->a.parallel || o->a.canary || o->a.keep_going)
			return cli_usage_error(cli, c, "--parallel, --canary and --keep-going go with --all-targets");
		return o->target ? cli_fleet_child(cli, o->target) : 0;
	}
	if (o->target)
		return cli_usage_error(cli, c, "give --all-targets or --fleet-target, not both");
	if (cli->db_url)
		return cli_usage_error(cli, c, "--db names one database; --all-targets runs the environment's targets");
	*done = true;
	o->a.status = false;
	o->a.kind = kind;
	return cli_fleet_migrate(cli, &o->a);
}
