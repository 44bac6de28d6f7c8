/*
 * cmd_fleet.c - `cairn migrate up --all-targets` (README "Fleets").
 *
 * The engine's state belongs to one connection and one run, so each
 * target runs in a child `cairn migrate up` of its own (its own
 * connection, deploy lock, tracking table and audit chain), started
 * without a shell.  The child learns its target from environment
 * variables, never from its command line, where a URL's password would
 * be visible to every user of the machine.  The library's scheduler
 * (cairn_fleet_run) decides which target runs when; this file builds the
 * children's argv, reads their JSON results and prints the summary.
 * Every child's audit rows carry the fleet's run id as metadata
 * (fleet_run) and the target's name (fleet_target).
 *
 * `status --all-targets` runs a child `cairn status` per target the same
 * way and shows the highest applied version and how many migrations of
 * the revision each target lacks.
 */
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/engine.h"
#include "cairn/fleet.h"
#include "dbopen.h"
#include "fleet.h"
#include "report.h"
#include "util/spawn.h"
#include "util/util.h"

#define MAX_ARGS 96

struct job {
	bool ran;
	bool have_json;
	long applied, pending, failed;
	char highest[32];         /* status: the highest applied version */
	int64_t ms;
	char *error;
	char *child_run_id;
};

struct fleet {
	struct cli *cli;
	bool status;
	const cairn_environment *env;
	cairn_target *targets;
	size_t count;
	struct job *jobs;
	const char *argv[MAX_ARGS];
	size_t argc;              /* argv before "--fleet-target NAME" */
	char exe[PATH_MAX];
	char run_id[40];
	char meta_run[64];
	volatile sig_atomic_t *cancel;
	pthread_mutex_t mu;
	size_t finished;
};

/* The child's copy of its URL (cli->db_url points at it) until exit. */
static char *child_url;

static void free_child_url(void)
{
	free(child_url);
	child_url = NULL;
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
	if ((rc = cli_config(cli, &cfg)))
		return rc;
	if (!child_url && atexit(free_child_url) != 0)
		return CLI_EXIT_FAIL;
	free(child_url);
	child_url = strdup(url);
	cli->db_url = child_url;
	if (schema && *schema) {
		char *s = strdup(schema);

		if (!s || !child_url) {
			free(s);
			return CLI_EXIT_FAIL;
		}
		free(cli->cfg->schema);
		cli->cfg->schema = s;
	}
	/* hooks and their children need not see the URL again */
	unsetenv(CLI_FLEET_URL_VAR);
	unsetenv(CLI_FLEET_SCHEMA_VAR);
	return cli->db_url ? 0 : CLI_EXIT_FAIL;
}

static void push(struct fleet *f, const char *s)
{
	if (f->argc < MAX_ARGS - 4)
		f->argv[f->argc++] = s;
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
	if (f->status) {
		push(f, "status");
	} else {
		push(f, "migrate");
		push(f, "up");
		for (size_t i = 0; i < a->npass; i++)
			push(f, a->pass[i]);
		push(f, "--meta");
		push(f, f->meta_run);
	}
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

/* The child's first line on stderr, for a failure without JSON. */
static char *first_line(const cairn_buf *b)
{
	const char *p, *nl;

	if (!b->size || cairn_buf_failed(b))
		return NULL;
	p = b->ptr + strspn(b->ptr, "\n");
	if (!strncmp(p, "cairn: ", 7))
		p += 7;
	nl = strchr(p, '\n');
	if (!*p || p == nl)
		return NULL;
	return strndup(p, nl ? (size_t)(nl - p) : strlen(p));
}

/* `status --format json`: counts and the highest applied version. */
static void read_status(struct job *j, json_t *o)
{
	json_t *sum = json_object_get(o, "summary"), *m;
	size_t i;

	j->have_json = true;
	j->applied = jint(sum, "applied");
	j->pending = jint(sum, "pending");
	j->failed = jint(sum, "failed");
	json_array_foreach(json_object_get(o, "migrations"), i, m) {
		const char *v = json_string_value(json_object_get(m, "version"));
		const char *st = json_string_value(json_object_get(m, "state"));

		/* cairn's order: 1.10 after 1.9, 10/1 after 2/2 */
		if (v && st && !strcmp(st, "applied") && strlen(v) < sizeof(j->highest) &&
		    (!*j->highest || cairn_version_compare(v, j->highest) > 0))
			snprintf(j->highest, sizeof(j->highest), "%s", v);
	}
}

static void read_result(struct job *j, const cairn_spawn_result *r,
			bool status)
{
	json_t *o = NULL, *err;

	if (r->out.size && !cairn_buf_failed(&r->out))
		o = json_loadb(r->out.ptr, r->out.size, 0, NULL);
	if (status && json_is_object(o)) {
		read_status(j, o);
	} else if (json_is_object(o)) {
		j->have_json = true;
		j->applied = jint(o, "applied");
		j->pending = jint(o, "planned") - j->applied;
		j->failed = jint(o, "failed");
		if (json_is_string(json_object_get(o, "run_id")))
			j->child_run_id = strdup(json_string_value(json_object_get(o, "run_id")));
		err = json_object_get(json_object_get(o, "error"), "message");
		if (json_is_string(err))
			j->error = strdup(json_string_value(err));
	}
	json_decref(o);
	if (r->status != 0 && !j->error)
		j->error = first_line(&r->err);
	if (r->status != 0 && !j->error && r->message)
		j->error = strdup(r->message);
}

/* Says on stderr that one target is done ("[3/12] eu-1: applied 2"). */
static void live_line(struct fleet *f, size_t idx, bool ok)
{
	struct cli *cli = f->cli;
	struct job *j = &f->jobs[idx];
	cli_quoted q = CLI_QUOTED_INIT;

	pthread_mutex_lock(&f->mu);
	f->finished++;
	if (cli->verbosity >= 0 && cli->format != CLI_FORMAT_JSON) {
		fprintf(stderr, "cairn: [%zu/%zu] %s: ", f->finished, f->count,
			cli_q(&q, f->targets[idx].name));
		if (ok && f->status)
			fprintf(stderr, "%ld behind\n", j->pending);
		else if (ok)
			fprintf(stderr, "applied %ld (%lld ms)\n", j->applied,
				(long long)j->ms);
		else
			fprintf(stderr, "failed: %s\n", cli_q(&q, j->error ? j->error : "?"));
	}
	cli_quoted_release(&q);
	pthread_mutex_unlock(&f->mu);
}

/* One target: a child `cairn migrate up`; 0 when it succeeded. */
static int run_target(size_t idx, void *payload)
{
	struct fleet *f = payload;
	const cairn_target *t = &f->targets[idx];
	cairn_spawn_options so = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	const char *argv[MAX_ARGS + 8], *env[4];
	char *url_var = NULL, *schema_var = NULL, *pgopts = NULL, *meta = NULL;
	size_t n = 0, ne = 0;
	int rc = 1;

	memcpy(argv, f->argv, f->argc * sizeof(*argv));
	n = f->argc;
	if (asprintf(&url_var, "%s=%s", CLI_FLEET_URL_VAR, t->database_url) < 0)
		url_var = NULL;
	if (asprintf(&meta, "fleet_target=%s", t->name) < 0)
		meta = NULL;
	if (t->schema) {
		const char *old = getenv("PGOPTIONS");

		if (asprintf(&schema_var, "%s=%s", CLI_FLEET_SCHEMA_VAR, t->schema) < 0)
			schema_var = NULL;
		if (asprintf(&pgopts, "PGOPTIONS=%s%s-c search_path=%s",
			     old ? old : "", old && *old ? " " : "", t->schema) < 0)
			pgopts = NULL;
	}
	if (!url_var || !meta || (t->schema && (!schema_var || !pgopts))) {
		f->jobs[idx].error = strdup("out of memory");
		goto out;
	}
	if (!f->status) {
		argv[n++] = "--meta";
		argv[n++] = meta;
	}
	argv[n++] = "--fleet-target";
	argv[n++] = t->name;
	argv[n] = NULL;
	env[ne++] = url_var;
	env[ne++] = t->schema ? schema_var : CLI_FLEET_SCHEMA_VAR;
	if (pgopts)
		env[ne++] = pgopts;
	env[ne] = NULL;
	so.argv = argv;
	so.env_add = env;
	so.cancel = f->cancel;
	/* on Ctrl-C a child rolls back and writes its audit row: give it
	 * time before SIGKILL */
	so.kill_grace_ms = 30000;
	if (cairn_spawn_run(&r, &so) < 0 && !r.cancelled) {
		const cairn_error *e = cairn_error_last();

		f->jobs[idx].error = strdup(e ? e->message : "cannot run cairn");
		cairn_error_clear();
		cairn_spawn_result_dispose(&r);
		goto out;
	}
	cairn_error_clear();
	f->jobs[idx].ran = true;
	f->jobs[idx].ms = r.duration_ms;
	read_result(&f->jobs[idx], &r, f->status);
	rc = r.status == 0 ? 0 : 1;
	cairn_spawn_result_dispose(&r);
out:
	live_line(f, idx, rc == 0);
	free(url_var);
	free(schema_var);
	free(pgopts);
	free(meta);
	return rc;
}

static const char *status_name(cairn_fleet_outcome o)
{
	return o == CAIRN_FLEET_OK ? "ok" :
	       o == CAIRN_FLEET_FAILED ? "failed" : "not started";
}

static void print_json(struct fleet *f, const cairn_fleet_outcome *out,
		       bool ok)
{
	json_t *o = json_object(), *list = json_array(), *failed = json_array(),
	       *skipped = json_array();

	json_object_set_new(o, "ok", json_boolean(ok));
	if (!f->status)
		json_object_set_new(o, "run_id", json_string(f->run_id));
	json_object_set_new(o, "environment", cli_json_str(f->env->name));
	for (size_t i = 0; i < f->count; i++) {
		const struct job *j = &f->jobs[i];
		json_t *t = json_object();

		json_object_set_new(t, "target", cli_json_str(f->targets[i].name));
		json_object_set_new(t, "status", json_string(out[i] == CAIRN_FLEET_NOT_STARTED ?
							 "not_started" : status_name(out[i])));
		json_object_set_new(t, "schema", cli_json_str_or_null(f->targets[i].schema));
		json_object_set_new(t, "applied", json_integer(j->applied));
		json_object_set_new(t, "pending", j->have_json ? json_integer(j->pending) : json_null());
		if (f->status) {
			json_object_set_new(t, "highest_applied", *j->highest ? json_string(j->highest) : json_null());
			json_object_set_new(t, "behind", j->have_json ? json_integer(j->pending) : json_null());
		}
		json_object_set_new(t, "failed", json_integer(j->failed));
		json_object_set_new(t, "duration_ms", json_integer(j->ms));
		json_object_set_new(t, "target_run_id", cli_json_str_or_null(j->child_run_id));
		json_object_set_new(t, "error", cli_json_str_or_null(j->error));
		json_array_append_new(list, t);
		if (out[i] == CAIRN_FLEET_FAILED)
			json_array_append_new(failed, cli_json_str(f->targets[i].name));
		else if (out[i] == CAIRN_FLEET_NOT_STARTED)
			json_array_append_new(skipped, cli_json_str(f->targets[i].name));
	}
	json_object_set_new(o, "targets", list);
	json_object_set_new(o, "failed_targets", failed);
	json_object_set_new(o, "not_started", skipped);
	cli_print_json(o);
	json_decref(o);
}

static void print_status_table(struct fleet *f, const cairn_fleet_outcome *out, int w)
{
	printf("%-*s  %-11s  %-20s  %7s  %s\n", w, "target", "status",
	       "highest applied", "behind", "error");
	for (size_t i = 0; i < f->count; i++) {
		const struct job *j = &f->jobs[i];
		cli_quoted q = CLI_QUOTED_INIT;
		char behind[24] = "-";

		if (j->have_json)
			snprintf(behind, sizeof(behind), "%ld", j->pending);
		printf("%-*s  %-11s  %-20s  %7s  %s\n", w,
		       cli_q(&q, f->targets[i].name), status_name(out[i]),
		       *j->highest ? j->highest : "-", behind,
		       j->error ? cli_q(&q, j->error) : "");
		cli_quoted_release(&q);
	}
}

static void print_table(struct fleet *f, const cairn_fleet_outcome *out)
{
	int w = 6;

	for (size_t i = 0; i < f->count; i++)
		if ((int)strlen(f->targets[i].name) > w)
			w = (int)strlen(f->targets[i].name);
	if (f->status) {
		print_status_table(f, out, w);
		return;
	}
	printf("%-*s  %-11s  %7s  %7s  %6s  %9s  %s\n", w, "target", "status",
	       "applied", "pending", "failed", "duration", "error");
	for (size_t i = 0; i < f->count; i++) {
		const struct job *j = &f->jobs[i];
		cli_quoted q = CLI_QUOTED_INIT;
		char pending[24] = "-", dur[24] = "-";

		if (j->have_json)
			snprintf(pending, sizeof(pending), "%ld", j->pending);
		if (j->ran)
			snprintf(dur, sizeof(dur), "%lld ms", (long long)j->ms);
		printf("%-*s  %-11s  %7ld  %7s  %6ld  %9s  %s\n", w,
		       cli_q(&q, f->targets[i].name), status_name(out[i]),
		       j->applied, pending, j->failed, dur,
		       j->error ? cli_q(&q, j->error) : "");
		cli_quoted_release(&q);
	}
}

/* "N of M targets failed: a, b" and what was not started; the exit code. */
static int report(struct fleet *f, const cairn_fleet_outcome *out)
{
	struct cli *cli = f->cli;
	size_t nfail = 0, nskip = 0;
	char *names = NULL;

	for (size_t i = 0; i < f->count; i++) {
		if (out[i] == CAIRN_FLEET_FAILED) {
			char *next = NULL;

			if (asprintf(&next, "%s%s%s", names ? names : "",
				     names ? ", " : "", f->targets[i].name) >= 0) {
				free(names);
				names = next;
			}
			nfail++;
		} else if (out[i] == CAIRN_FLEET_NOT_STARTED) {
			nskip++;
		}
	}
	if (cli->format == CLI_FORMAT_JSON)
		print_json(f, out, !nfail && !nskip);
	else
		print_table(f, out);
	if (nfail)
		cli_errorf(cli, "%zu of %zu targets failed: %s", nfail, f->count,
			   names ? names : "?");
	if (nskip)
		cli_notef(cli, "%zu target%s not started (%s)", nskip,
			  nskip == 1 ? " was" : "s were",
			  *f->cancel ? "interrupted" :
			  "the run stops at the first failure, or when a canary fails; --keep-going runs the rest after a failure");
	free(names);
	if (*f->cancel)
		return CLI_EXIT_INTERRUPTED;
	return nfail || nskip ? CLI_EXIT_FAIL : 0;
}

int cli_fleet_migrate(struct cli *cli, const struct cli_fleet_args *a)
{
	cairn_fleet_targets_options to = CAIRN_FLEET_TARGETS_OPTIONS_INIT;
	cairn_fleet_options fo = CAIRN_FLEET_OPTIONS_INIT;
	cairn_fleet_outcome *out = NULL;
	struct fleet f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.cli = cli;
	f.status = a->status;
	if ((rc = cli_env(cli, &f.env)))
		return rc;
	if (!f.status && f.env->confirm && !a->yes) {
		cli_errorf(cli, "environment '%s' needs confirmation; a fleet run does not ask once per target",
			   f.env->name);
		cli_hintf(cli, "pass --yes");
		return CLI_EXIT_USAGE;
	}
	{
		cairn_repo *repo;

		if ((rc = cli_repo(cli, &repo)))
			return rc;
		to.workdir = cairn_repo_workdir(repo);
	}
	if (cairn_fleet_targets(&f.targets, &f.count, f.env, &to) < 0)
		return cli_report_error(cli);
	cairn_run_id_new(f.run_id);
	snprintf(f.meta_run, sizeof(f.meta_run), "fleet_run=%s", f.run_id);
	f.jobs = calloc(f.count, sizeof(*f.jobs));
	out = calloc(f.count, sizeof(*out));
	if (!f.jobs || !out) {
		rc = CLI_EXIT_FAIL;
		goto done;
	}
	if ((rc = build_argv(&f, a)))
		goto done;
	pthread_mutex_init(&f.mu, NULL);
	f.cancel = cli_interrupt_install(NULL);
	cli_verbosef(cli, "fleet run %s: %zu targets", f.run_id, f.count);
	fo.count = f.count;
	fo.parallel = a->parallel;
	fo.canary = a->canary;
	fo.keep_going = a->keep_going || f.status; /* reading stops nothing */
	fo.cancel = f.cancel;
	fo.fn = run_target;
	fo.payload = &f;
	if (cairn_fleet_run(out, &fo) < 0)
		rc = cli_report_error(cli);
	else
		rc = report(&f, out);
	cli_interrupt_remove();
	pthread_mutex_destroy(&f.mu);
done:
	for (size_t i = 0; f.jobs && i < f.count; i++) {
		free(f.jobs[i].error);
		free(f.jobs[i].child_run_id);
	}
	free(f.jobs);
	free(out);
	cairn_fleet_targets_free(f.targets, f.count);
	return rc;
}
