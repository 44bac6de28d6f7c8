/*
 * cmd_githook.c - `cairn githook NAME [ARGS]`: what the git hook shims
 * (githooks/, cmd_githooks.c) run, speaking git's hook protocols.
 *
 * pre-push REMOTE URL
 *   Reads "<local ref> <local sha> <remote ref> <remote sha>" lines and
 *   checks each update with cairn_prepush_check() (include/cairn/
 *   prepush.h: the base is what the remote already has), adds the lint
 *   rules for the migrations the push adds or changes, and names the
 *   commit of the pushed range behind each finding.  With
 *   githooks.pre_push.environment set, that environment's rules apply
 *   (allow_out_of_order, require_down) and, when its database answers
 *   within 3 s, the pushed commit is compared with what is applied there
 *   (drift, missing, out-of-order).  The database is only read: no
 *   schema is created, and the development database is never started.
 *   Exit 1 rejects the push.  libgit2 is told to keep big trees in its
 *   object cache and not to rehash objects it reads: the migrations tree
 *   of a large project is read twice and is hundreds of kilobytes.
 *   A push of 10 migrations into a project of 10,000 costs ~7 ms of
 *   work on top of starting the program and libgit2.
 *
 * post-merge SQUASH
 *   Lists the migrations the merge brought (HEAD against ORIG_HEAD; for a
 *   squash merge, the working tree against HEAD) with their authors.
 *   With githooks.post_merge.apply: ENV, applies them by running
 *   `cairn -C WORKTREE --env ENV migrate up` (this same program, with an
 *   argument vector: nothing reaches a shell).
 *
 * post-checkout OLD NEW BRANCH
 *   On a branch switch, lists the migrations the checked-out commit has
 *   and OLD had not, and warns when the database of the environment
 *   (githooks.post_checkout.environment, else --env/$CAIRN_ENV/
 *   development) holds migrations NEW lacks, saying how to roll them
 *   back.  That database is used only when it is configured or, for the
 *   built-in development database, already running.
 *
 * post-rewrite amend|rebase
 *   Reads "<old> <new>" lines; lists the migrations HEAD has that the old
 *   tip had not (ORIG_HEAD after a rebase, such as `git pull --rebase`;
 *   the amended commit after an amend).  After a rebase, applies them as
 *   post-merge does.
 *
 * The post-* hooks cannot stop git (it ignores their status): they exit
 * 0 and print what went wrong.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "cairn/devdb.h"
#include "cairn/lint.h"
#include "cairn/prepush.h"
#include "cairn/validate.h"
#include "cli.h"
#include "commands.h"
#include "report.h"
#include "util/buf.h"
#include "util/fileio.h"
#include "util/spawn.h"

#define MAX_STDIN ((size_t)16 * 1024 * 1024)
#define HOOK_CONNECT_TIMEOUT_MS 3000

/* ---- shared helpers ----------------------------------------------------- */

/* Reads standard input whole (at most MAX_STDIN bytes). */
static int read_stdin(struct cli *cli, char **out, size_t *len)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int rc = 0;

	*out = NULL;
	*len = 0;
	cairn_buf_init(&b, MAX_STDIN);
	if (cairn__fd_read_all(0, MAX_STDIN, &b) < 0) {
		if (errno == EFBIG) {
			cli_errorf(cli, "the hook's input is larger than %zu bytes",
				   MAX_STDIN);
			rc = CLI_EXIT_USAGE;
		} else {
			cli_errorf(cli, "cannot read the hook's input: %s",
				   strerror(errno));
			rc = CLI_EXIT_FAIL;
		}
		cairn_buf_dispose(&b);
		return rc;
	}
	*len = b.size;
	*out = cairn_buf_detach(&b);
	if (!*out) {
		cli_errorf(cli, "out of memory");
		return CLI_EXIT_FAIL;
	}
	return 0;
}

static bool pg_env_set(void)
{
	static const char *const vars[] = { "PGHOST", "PGDATABASE",
					    "PGSERVICE", "PGPORT", NULL };

	for (size_t i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return true;
	}
	return false;
}

/*
 * Connects to env's database the way cli_open_db() chooses it, but with
 * a short timeout and without ever starting the development database.
 * Returns 0 with *out NULL when there is no database to ask or it does
 * not answer; *why then says which (for the note).
 */
static int hook_db_open(struct cli *cli, const cairn_environment *env,
			cairn_db **out, const char **why)
{
	cairn_db_options o = CAIRN_DB_OPTIONS_INIT;
	const cairn_config *cfg;
	const char *url = NULL;
	char *devurl = NULL;
	int rc;

	*out = NULL;
	*why = "not reachable";
	if ((rc = cli_config(cli, &cfg)))
		return rc;
	if (cli->db_url && *cli->db_url) {
		url = cli->db_url;
	} else if (env->database_url) {
		if (!*env->database_url) {
			*why = "not configured (its database_url is empty)";
			return 0;
		}
		url = env->database_url;
	} else if (getenv("DATABASE_URL") && *getenv("DATABASE_URL")) {
		url = getenv("DATABASE_URL");
	} else if (!strcmp(env->name, "development") && !pg_env_set()) {
		cairn_devdb_options d = CAIRN_DEVDB_OPTIONS_INIT;
		cairn_repo *repo;
		bool running = false;

		if ((rc = cli_repo(cli, &repo)))
			return rc;
		d.repo_workdir = cairn_repo_workdir(repo);
		if (!d.repo_workdir ||
		    cairn_devdb_status(&running, &devurl, NULL, &d) < 0 ||
		    !running || !devurl) {
			cairn_error_clear();
			free(devurl);
			*why = "not running";
			return 0;
		}
		url = devurl;
	} else if (!pg_env_set()) {
		*why = "not configured";
		return 0;
	}
	o.conninfo = url;
	o.schema = cfg->schema;
	o.application_name = "cairn githook";
	o.connect_timeout_ms = HOOK_CONNECT_TIMEOUT_MS;
	if (cairn_db_connect(out, &o) < 0) {
		const cairn_error *e = cairn_error_last();

		cli_verbosef(cli, "%s", e ? e->message : "cannot connect");
		cairn_error_clear();
		*out = NULL;
	}
	free(devurl);
	return 0;
}

/* The path of this program, to run it again. */
static void self_path(char *out, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", out, len - 1);
	const char *bin = getenv("CAIRN_BIN");

	if (n > 0) {
		out[n] = '\0';
		return;
	}
	snprintf(out, len, "%s", bin && *bin ? bin : "cairn");
}

/* A commit as "1a2b3c4d5e6f "summary" (Name)" for messages. */
static void describe_commit(struct cli *cli, cairn_repo *repo,
			    const char *sha, const char *prefix)
{
	cairn_commit_info ci;

	if (cairn_repo_commit_info(&ci, repo, sha) < 0) {
		cairn_error_clear();
		fprintf(stderr, "%s%.12s\n", prefix, sha);
		return;
	}
	{
		char *summary = cli_quote_path(ci.summary ? ci.summary : "");
		char *author = cli_quote_path(ci.author_name ? ci.author_name
							     : "");

		fprintf(stderr, "%s%s%.12s%s \"%s\" (%s)\n", prefix,
			cli_color(cli, stderr, "33"), ci.sha,
			cli_reset(cli, stderr), summary ? summary : "",
			author ? author : "");
		free(summary);
		free(author);
	}
	cairn_commit_info_dispose(&ci);
}

/* True when s can be pasted into a shell command line as it is. */
static bool shell_safe(const char *s)
{
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-./+:@", *s))
			return false;
	return true;
}

/* ---- pre-push ----------------------------------------------------------- */

static void print_update_findings(struct cli *cli, cairn_repo *repo,
				  const cairn_push_update *u,
				  const cairn_prepush_result *r)
{
	const cairn_findings *fs = &r->findings;
	size_t errors = cairn_findings_count(fs, CAIRN_SEVERITY_ERROR);
	size_t warnings = cairn_findings_count(fs, CAIRN_SEVERITY_WARNING);
	char *ref = cli_quote_path(u->remote_ref);

	fprintf(stderr, "cairn: pre-push: %s: %zu error%s, %zu warning%s\n",
		ref ? ref : "", errors, errors == 1 ? "" : "s", warnings,
		warnings == 1 ? "" : "s");
	free(ref);
	for (size_t i = 0; i < fs->count; i++) {
		const cairn_finding *f = &fs->items[i];
		char *file = cli_quote_path(f->file ? f->file : "");
		cli_quoted q = CLI_QUOTED_INIT;
		const char *color = f->severity == CAIRN_SEVERITY_ERROR ? "1;31"
								       : "1;33";

		if (f->severity == CAIRN_SEVERITY_NOTICE &&
		    cli->verbosity < 1) {
			free(file);
			continue;
		}
		if (f->file && f->line)
			fprintf(stderr, "  %s:%u: ", file, f->line);
		else if (f->file)
			fprintf(stderr, "  %s: ", file);
		else
			fputs("  ", stderr);
		fprintf(stderr, "%s%s%s: %s [%s]\n",
			cli_color(cli, stderr, color),
			cairn_severity_name(f->severity),
			cli_reset(cli, stderr), cli_q(&q, f->message), f->code);
		if (f->commit)
			describe_commit(cli, repo, f->commit,
					!strcmp(f->code, "missing") ?
					"    added by commit " : "    in commit ");
		if (!strcmp(f->code, "edited-after-push") && r->base[0] &&
		    f->file && shell_safe(f->file))
			fprintf(stderr, "    to restore it: git checkout %.12s -- %s\n",
				r->base, f->file);
		if (f->hint)
			fprintf(stderr, "    hint: %s\n", cli_q(&q, f->hint));
		cli_quoted_release(&q);
		free(file);
	}
}

static void note_base(struct cli *cli, const cairn_push_update *u,
		      const cairn_prepush_result *r, const char *remote)
{
	char *ref = cli_quote_path(u->remote_ref);

	if (r->remote_unknown)
		cli_warnf(cli, "%s: the remote is at %.12s, which this repository does not have (fetch first?); checked against what the remote-tracking refs of '%s' know",
			  ref ? ref : "", u->remote_sha, remote);
	if (r->base_kind == CAIRN_PREPUSH_NO_BASE)
		cli_verbosef(cli, "%s: nothing is known of what '%s' has; only the static checks ran",
			     ref ? ref : "", remote);
	else if (r->base_kind != CAIRN_PREPUSH_DELETE &&
		 r->base_kind != CAIRN_PREPUSH_NOT_COMMIT)
		cli_verbosef(cli, "%s: checked against %.12s%s", ref ? ref : "",
			     r->base, r->unchanged ? " (no migration changed)" : "");
	free(ref);
}

static int drift_check(struct cli *cli, const cairn_environment *env,
		       cairn_repo *repo, const cairn_prepush_options *po,
		       cairn_db **db, bool *tried, cairn_prepush_result *r)
{
	cairn_applied_list applied = { NULL, 0, NULL };
	const char *why = NULL;
	bool exists = false;
	int rc;

	if (!r->set)
		return 0;
	if (!*tried) {
		*tried = true;
		if ((rc = hook_db_open(cli, env, db, &why)))
			return rc;
		if (!*db)
			cli_notef(cli, "note: %s database %s; skipped the drift check",
				  env->name, why);
	}
	if (!*db)
		return 0;
	if (cairn_prepush_applied_load(&applied, &exists, *db) < 0) {
		const cairn_error *e = cairn_error_last();

		cli_notef(cli, "note: cannot read the tracking table of %s (%s); skipped the drift check",
			  env->name, e ? e->message : "unknown error");
		cairn_error_clear();
		cairn_db_free(*db);
		*db = NULL;
		return 0;
	}
	if (exists &&
	    cairn_prepush_check_applied(r, repo, po, &applied, env->name) < 0)
		rc = cli_report_error(cli);
	else
		rc = 0;
	cairn_applied_list_dispose(&applied);
	return rc;
}

static int hook_pre_push(struct cli *cli, int argc, char **argv)
{
	cairn_prepush_options po = CAIRN_PREPUSH_OPTIONS_INIT;
	cairn_push_updates updates = CAIRN_PUSH_UPDATES_INIT;
	const cairn_environment *env = NULL;
	const cairn_config *cfg;
	cairn_repo *repo;
	cairn_db *db = NULL;
	cairn_findings all = CAIRN_FINDINGS_INIT;
	bool db_tried = false;
	size_t errors = 0, touched = 0;
	char *input = NULL;
	size_t len;
	int rc;

	if (argc > 2)
		return cli_usage_error(cli, cli_find_command("githook"),
				       "pre-push takes REMOTE and URL");
	/*
	 * libgit2 caches no tree above 4 KiB; the check reads the
	 * migrations tree of the base twice (diff, then versions), and with
	 * 10,000 migrations that tree is ~450 KB: keep it.
	 */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE,
			 (size_t)16 * 1024 * 1024);
	/*
	 * Nor rehash every object read, as git itself does not outside
	 * fsck: SHA-1 over that tree costs more than inflating it.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	if ((rc = read_stdin(cli, &input, &len)))
		return rc;
	if (cairn_prepush_parse(&updates, input, len) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	if ((rc = cli_repo(cli, &repo)) || (rc = cli_config(cli, &cfg)))
		goto out;
	if (cfg->pre_push_environment && *cfg->pre_push_environment) {
		env = cairn_config_environment(cfg, cfg->pre_push_environment);
		if (!env) {
			cli_errorf(cli, "githooks.pre_push.environment names '%s', which is not an environment of %s",
				   cfg->pre_push_environment,
				   cfg->path ? cfg->path : "the configuration");
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	po.remote = argc > 0 ? argv[0] : "";
	po.dir = cfg->migrations_dir;
	po.ignore = (const char *const *)cfg->ignore;
	po.ignore_count = cfg->ignore_count;
	po.layout = (cairn_layout)cfg->layout;
	po.dialect = cfg->dialect;
	po.allow_out_of_order = env && env->allow_out_of_order;
	po.require_down = env && env->require_down;

	for (size_t i = 0; i < updates.count; i++) {
		const cairn_push_update *u = &updates.items[i];
		cairn_prepush_result r;

		if (cairn_prepush_check(&r, repo, u, &po) < 0) {
			rc = cli_report_error(cli);
			goto out;
		}
		note_base(cli, u, &r, po.remote);
		for (size_t k = 0; k < r.touched_count && rc == 0; k++) {
			/* the touched ones before k run first: their tables
			 * are new to k (lint history across the push) */
			cairn_lint_options lo = CAIRN_LINT_OPTIONS_INIT;

			cairn_lint_options_from_config(&lo, cfg);
			lo.earlier = (const cairn_migration *const *)r.touched;
			lo.earlier_count = k;
			if (cairn_lint_migration(&r.findings, r.touched[k],
						 &lo) < 0)
				rc = cli_report_error(cli);
		}
		if (rc == 0 && env)
			rc = drift_check(cli, env, repo, &po, &db, &db_tried,
					 &r);
		if (rc == 0 && cairn_prepush_blame(&r, repo, &po) < 0)
			rc = cli_report_error(cli);
		if (rc) {
			cairn_prepush_result_dispose(&r);
			goto out;
		}
		touched += r.touched_count;
		cairn_findings_sort(&r.findings);
		errors += cairn_findings_count(&r.findings,
					       CAIRN_SEVERITY_ERROR);
		if (cli->format == CLI_FORMAT_JSON) {
			if (cairn_findings_append(&all, &r.findings) < 0)
				rc = cli_report_error(cli);
		} else if (r.findings.count &&
			   (cli->verbosity >= 0 ||
			    cairn_findings_count(&r.findings,
						 CAIRN_SEVERITY_ERROR))) {
			print_update_findings(cli, repo, u, &r);
		}
		cairn_prepush_result_dispose(&r);
		if (rc)
			goto out;
	}
	if (cli->format == CLI_FORMAT_JSON)
		cli_print_findings(cli, "pre-push", &all, NULL);
	if (errors) {
		cli_errorf(cli, "push rejected: %zu error%s in the pushed migrations",
			   errors, errors == 1 ? "" : "s");
		cli_hintf(cli, "fix the commits and push again; CAIRN_SKIP=1 git push skips this check");
		rc = CLI_EXIT_FAIL;
	} else {
		if (touched)
			cli_verbosef(cli, "pre-push: %zu new or changed migration%s checked",
				     touched, touched == 1 ? "" : "s");
		rc = CLI_EXIT_OK;
	}
out:
	cairn_findings_dispose(&all);
	cairn_db_free(db);
	cairn_push_updates_dispose(&updates);
	free(input);
	return rc;
}

/* ---- post-merge, post-checkout, post-rewrite ----------------------------- */

static int load_rev(struct cli *cli, const char *rev, bool worktree,
		    cairn_migration_set **out)
{
	*out = NULL;
	if (worktree)
		return cli_load_set(cli, NULL, true, out);
	return cli_load_set(cli, rev, false, out);
}

/* Whether an up file differs (unknown in worktree mode: no blob ids). */
static bool changed(const cairn_migration *before, const cairn_migration *now)
{
	return before->up_blob[0] && now->up_blob[0] &&
	       strcmp(before->up_blob, now->up_blob) != 0;
}

/*
 * Lists the migrations `now` has that `before` had not (and those it
 * changed), with their authors.  *added receives the new ones' versions
 * (borrowed from now).  Returns 0 or an exit code.
 */
static int list_brought(struct cli *cli, cairn_repo *repo,
			cairn_migration_set *before, cairn_migration_set *now,
			const char *what, const char ***added, size_t *nadded)
{
	size_t n = cairn_migration_set_count(now), nchanged = 0, i;
	const char **versions = calloc(n + 1, sizeof(*versions));

	*added = NULL;
	*nadded = 0;
	if (!versions) {
		cli_errorf(cli, "out of memory");
		return CLI_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		cairn_migration *m = cairn_migration_set_get(now, i);
		cairn_migration *b = cairn_migration_set_find(before, m->version);

		if (!b)
			versions[(*nadded)++] = m->version;
		else if (changed(b, m))
			nchanged++;
	}
	if (!*nadded && !nchanged) {
		free(versions);
		return 0;
	}
	if (*nadded && cairn_migration_set_provenance(now, repo, versions,
						      *nadded) < 0) {
		/* authors are a nicety: list the migrations anyway */
		cli_verbosef(cli, "cannot find the authors: %s",
			     cairn_error_last() ? cairn_error_last()->message : "");
		cairn_error_clear();
	}
	if (*nadded && cli->verbosity >= 0)
		fprintf(stderr, "cairn: %s brought %zu new migration%s:\n", what,
			*nadded, *nadded == 1 ? "" : "s");
	for (i = 0; i < *nadded && cli->verbosity >= 0; i++) {
		cairn_migration *m = cairn_migration_set_find(now, versions[i]);
		char label[256];

		snprintf(label, sizeof(label), "%s_%s", m->version_text, m->name);
		if (m->has_provenance) {
			char when[64];
			char *name = cli_quote_path(m->introduced.author_name ?
						    m->introduced.author_name : "");
			char *email = cli_quote_path(m->introduced.author_email ?
						     m->introduced.author_email : "");

			cli_format_time(when, sizeof(when),
					m->introduced.author_time,
					m->introduced.author_offset);
			fprintf(stderr, "  %-32s %.12s %s <%s> %.10s\n", label,
				m->introduced.sha, name ? name : "",
				email ? email : "", when);
			free(name);
			free(email);
		} else {
			fprintf(stderr, "  %-32s (not committed yet)\n", label);
		}
	}
	for (i = 0; i < n && nchanged; i++) {
		cairn_migration *m = cairn_migration_set_get(now, i);
		cairn_migration *b = cairn_migration_set_find(before, m->version);

		if (b && changed(b, m))
			cli_warnf(cli, "%s changed migration %s_%s, which was already here",
				  what, m->version_text, m->name);
	}
	*added = versions;
	return 0;
}

/* Applies the new migrations to env with `cairn migrate up`. */
static void apply_new(struct cli *cli, const char *env_name, size_t count)
{
	cairn_spawn_options so = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result res;
	cairn_repo *repo = NULL;
	char self[PATH_MAX];
	const char *argv[10];
	size_t n = 0;

	if (!count || !env_name || !*env_name)
		return;
	if (cli_repo(cli, &repo) || !cairn_repo_workdir(repo))
		return;
	self_path(self, sizeof(self));
	argv[n++] = self;
	argv[n++] = "-C";
	argv[n++] = cairn_repo_workdir(repo);
	/*
	 * The same configuration file this hook read (git hooks read the
	 * working tree's, which may be local and uncommitted); migrate alone
	 * would read cairn.yaml at HEAD.
	 */
	if (cli->cfg && cli->cfg->path) {
		argv[n++] = "--config";
		argv[n++] = cli->cfg->path;
	}
	argv[n++] = "--env";
	argv[n++] = env_name;
	argv[n++] = "migrate";
	argv[n++] = "up";
	argv[n] = NULL;
	cli_notef(cli, "applying %s to %s (githooks.post_merge.apply)",
		  count == 1 ? "it" : "them", env_name);
	fflush(stdout);
	fflush(stderr);
	so.argv = argv;
	so.inherit_output = true;
	so.new_process_group = false;
	if (cairn_spawn_run(&res, &so) < 0) {
		cli_report_error(cli);
	} else if (res.status != 0) {
		cli_errorf(cli, "applying the new migrations to %s failed (%s)",
			   env_name, res.message ? res.message : "unknown");
		cli_hintf(cli, "run cairn --env %s migrate up to try again", env_name);
	}
	cairn_spawn_result_dispose(&res);
}

static bool resolves(cairn_repo *repo, const char *rev,
		     char out[CAIRN_OID_HEXSZ])
{
	if (cairn_repo_resolve(out, repo, rev) < 0) {
		cairn_error_clear();
		return false;
	}
	return true;
}

/* Lists what old..new brought and applies it when configured. */
static int report_update(struct cli *cli, const char *old_rev,
			 const char *new_rev, bool worktree, const char *what,
			 bool apply)
{
	cairn_migration_set *before = NULL, *now = NULL;
	const cairn_config *cfg;
	cairn_repo *repo;
	const char **added = NULL;
	size_t nadded = 0;
	int rc;

	if ((rc = cli_repo(cli, &repo)) || (rc = cli_config(cli, &cfg)))
		return rc;
	if ((rc = load_rev(cli, old_rev, false, &before)) ||
	    (rc = load_rev(cli, new_rev, worktree, &now)))
		goto out;
	rc = list_brought(cli, repo, before, now, what, &added, &nadded);
	if (rc)
		goto out;
	if (nadded) {
		if (apply && cfg->post_merge_apply && *cfg->post_merge_apply)
			apply_new(cli, cfg->post_merge_apply, nadded);
		else if (cli->verbosity >= 0)
			cli_hintf(cli, "apply them with: cairn migrate up");
	}
out:
	free(added);
	cairn_migration_set_free(before);
	cairn_migration_set_free(now);
	return rc;
}

static int hook_post_merge(struct cli *cli, int argc, char **argv)
{
	char old[CAIRN_OID_HEXSZ];
	cairn_repo *repo;
	bool squash = argc > 0 && !strcmp(argv[0], "1");
	int rc;

	if ((rc = cli_repo(cli, &repo)))
		return rc;
	if (squash)
		return report_update(cli, "HEAD", NULL, true,
				     "the squash merge", true);
	if (!resolves(repo, "ORIG_HEAD", old)) {
		cli_verbosef(cli, "post-merge: no ORIG_HEAD; nothing to compare");
		return 0;
	}
	return report_update(cli, old, "HEAD", false, "the merge", true);
}

/*
 * Warns about migrations applied to the database that the checked-out
 * commit does not have.
 */
static int check_missing(struct cli *cli, const char *old, const char *new_sha)
{
	const cairn_environment *env;
	const cairn_config *cfg;
	cairn_migration_set *set = NULL;
	cairn_applied_list applied = { NULL, 0, NULL };
	const cairn_applied **missing = NULL;
	const char *why, *name, *keep = "0";
	cairn_db *db = NULL;
	size_t nmissing = 0, i;
	bool exists = false;
	int rc;

	if ((rc = cli_config(cli, &cfg)))
		return rc;
	name = cfg->post_checkout_environment && *cfg->post_checkout_environment
		       ? cfg->post_checkout_environment : cli->env_name;
	env = cairn_config_environment(cfg, name);
	if (!env) {
		cli_verbosef(cli, "post-checkout: no environment '%s'", name);
		return 0;
	}
	if ((rc = hook_db_open(cli, env, &db, &why)))
		return rc;
	if (!db) {
		cli_verbosef(cli, "post-checkout: the %s database is %s; not checked",
			     env->name, why);
		return 0;
	}
	if (cairn_prepush_applied_load(&applied, &exists, db) < 0) {
		cli_warnf(cli, "cannot read what is applied to %s: %s", env->name,
			  cairn_error_last() ? cairn_error_last()->message : "");
		cairn_error_clear();
		goto out;
	}
	if (!exists || !applied.count)
		goto out;
	if ((rc = load_rev(cli, new_sha, false, &set)))
		goto out;
	missing = calloc(applied.count, sizeof(*missing));
	if (!missing) {
		cli_errorf(cli, "out of memory");
		goto out;
	}
	for (i = 0; i < applied.count; i++)
		if (!cairn_migration_set_find(set, applied.items[i].version))
			missing[nmissing++] = &applied.items[i];
	if (!nmissing)
		goto out;
	/* roll back to the highest applied version below the first missing */
	for (i = 0; i < applied.count; i++) {
		const cairn_applied *a = &applied.items[i];

		if (strcmp(a->status, "applied") == 0 &&
		    cairn_version_compare(a->version, missing[0]->version) < 0 &&
		    cairn_migration_set_find(set, a->version))
			keep = a->version;
	}
	cli_warnf(cli, "the %s database has %zu migration%s that the checked-out commit does not have:",
		  env->name, nmissing, nmissing == 1 ? "" : "s");
	for (i = 0; i < nmissing; i++) {
		const cairn_applied *a = missing[i];
		char *aname = cli_quote_path(a->name);
		char *author = cli_quote_path(a->author_name);

		fprintf(stderr, "  %s_%s (%s", a->version, aname ? aname : "",
			a->status);
		if (a->commit_sha[0])
			fprintf(stderr, ", from commit %.12s", a->commit_sha);
		if (author && *author)
			fprintf(stderr, " by %s", author);
		fputs(")\n", stderr);
		free(aname);
		free(author);
	}
	cli_hintf(cli, "to roll them back, run `cairn%s%s migrate down --to %s` on the branch that has them, or from here `cairn --rev %.12s%s%s migrate down --to %s` (down files read from the commit you left); or leave them if you are going back",
		  strcmp(env->name, "development") ? " --env " : "",
		  strcmp(env->name, "development") ? env->name : "", keep, old,
		  strcmp(env->name, "development") ? " --env " : "",
		  strcmp(env->name, "development") ? env->name : "", keep);
out:
	free(missing);
	cairn_applied_list_dispose(&applied);
	cairn_migration_set_free(set);
	cairn_db_free(db);
	return 0;
}

/* True while git rebases (its post-checkout is not the user's switch). */
static bool rebasing(cairn_repo *repo)
{
	const char *gitdir = cairn_repo_gitdir(repo);
	const char *dirs[] = { "rebase-merge", "rebase-apply" };
	const char *action = getenv("GIT_REFLOG_ACTION");
	char path[PATH_MAX];
	struct stat st;

	if (action && strstr(action, "rebase"))
		return true;
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s%s%s", gitdir,
			 gitdir[strlen(gitdir) - 1] == '/' ? "" : "/", dirs[i]);
		if (stat(path, &st) == 0)
			return true;
	}
	return false;
}

static int hook_post_checkout(struct cli *cli, int argc, char **argv)
{
	char old[CAIRN_OID_HEXSZ], new_sha[CAIRN_OID_HEXSZ];
	cairn_repo *repo;
	int rc;

	if (argc < 3)
		return cli_usage_error(cli, cli_find_command("githook"),
				       "post-checkout takes OLD NEW BRANCH");
	if (strcmp(argv[2], "1") != 0)
		return 0; /* a file checkout */
	if (cairn_oid_hex_is_zero(argv[0]) || !strcmp(argv[0], argv[1]))
		return 0; /* a clone, or no change of commit */
	if ((rc = cli_repo(cli, &repo)))
		return rc;
	if (rebasing(repo))
		return 0; /* post-rewrite reports a rebase */
	if (!resolves(repo, argv[0], old) || !resolves(repo, argv[1], new_sha))
		return 0;
	if ((rc = report_update(cli, old, new_sha, false, "the checkout",
				false)))
		return rc;
	return check_missing(cli, old, new_sha);
}

static int hook_post_rewrite(struct cli *cli, int argc, char **argv)
{
	cairn_rewrites rw = CAIRN_REWRITES_INIT;
	char old[CAIRN_OID_HEXSZ], sha[CAIRN_OID_HEXSZ];
	cairn_repo *repo;
	char *input = NULL;
	size_t len;
	bool rebase;
	int rc;

	if (argc < 1)
		return cli_usage_error(cli, cli_find_command("githook"),
				       "post-rewrite takes amend or rebase");
	rebase = !strcmp(argv[0], "rebase");
	if ((rc = read_stdin(cli, &input, &len)))
		return rc;
	if (cairn_rewrite_parse(&rw, input, len) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	if ((rc = cli_repo(cli, &repo)))
		goto out;
	if (rebase && resolves(repo, "ORIG_HEAD", old))
		;
	else if (rw.count)
		snprintf(old, sizeof(old), "%s",
			 rebase ? rw.items[rw.count - 1].old_sha
				: rw.items[0].old_sha);
	else
		goto out;
	if (!resolves(repo, old, sha))
		goto out;
	rc = report_update(cli, sha, "HEAD", false,
			   rebase ? "the rebase" : "the amend", rebase);
out:
	cairn_rewrites_dispose(&rw);
	free(input);
	return rc;
}

int cmd_githook(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_find_command("githook");
	const char *name;
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, NULL, "", NULL, NULL,
			       &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first >= argc)
		return cli_usage_error(cli, cmd, "githook needs the name of a hook");
	name = argv[first];
	argc -= first + 1;
	argv += first + 1;
	if (!strcmp(name, "pre-push"))
		return hook_pre_push(cli, argc, argv);
	if (!strcmp(name, "post-merge"))
		rc = hook_post_merge(cli, argc, argv);
	else if (!strcmp(name, "post-checkout"))
		rc = hook_post_checkout(cli, argc, argv);
	else if (!strcmp(name, "post-rewrite"))
		rc = hook_post_rewrite(cli, argc, argv);
	else
		return cli_usage_error(cli, cmd, "unknown hook '%s'", name);
	/* git ignores what post-* hooks return; errors were printed */
	(void)rc;
	return CLI_EXIT_OK;
}
