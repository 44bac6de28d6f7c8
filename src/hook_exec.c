/*
 * hook_exec.c - the exec hook kind: run a program at an event.
 *
 * `run: [program, arg, ...]` runs the program directly; `run: "string"`
 * runs /bin/sh -c string, because the user wrote a shell string on
 * purpose.  Either way the context reaches the program only as data:
 *
 *  - CAIRN_* environment variables (hook_context.c, cairn_hook__env) and
 *    CAIRN_HOOK_NAME, the hook's own name;
 *  - the context as one JSON document on standard input;
 *  - PGHOST, PGPORT, PGDATABASE and PGUSER of the session's connection,
 *    so `psql` with no arguments reaches the database cairn is migrating.
 *    PGHOSTADDR and PGSERVICE inherited from our environment are removed
 *    (they could point elsewhere); when the connection used a password it
 *    is handed over in a private 0600 PGPASSFILE, never in the
 *    environment or on a command line.  That file has no name: it is a
 *    memfd (or an O_TMPFILE file) the program inherits as descriptor N
 *    and reads as /dev/fd/N, so nothing is left on disk even when cairn
 *    is killed with SIGKILL.
 *
 * The rest of our environment is inherited, scrubbed of secrets (see
 * the README, "Hooks"): PGPASSWORD; every variable a webhook's
 * secret_env names; every variable whose value is a URL or connection
 * string with a password; every variable whose value holds a known
 * secret (a password of a URL in the configuration, the connection's
 * password, a secret_env value) - which catches the variables the
 * configuration's ${VAR} expansions took them from.
 *
 * What the program prints is scrubbed of the same known secrets
 * (secret.h) before it reaches the log, an error detail or the audit
 * trail.
 *
 * Nothing from the context is ever pasted into argv or the shell string.
 *
 * The program starts in the repository's work dir (the session's, else
 * the one hooks_config was given), so relative program paths such as
 * examples/hooks/rebuild-cache are relative to the repository root.  It
 * runs in a process group of its own; at its timeout (or when the run is
 * interrupted) the whole group gets SIGTERM, then SIGKILL.
 *
 * Everything it prints (stdout, then stderr) goes to the run's log via
 * cairn_hook_log().  A non-zero exit, a signal, a timeout or a program
 * that cannot be started fails the hook: "exec hook 'x' exited with
 * status 3", with the last lines of its stderr as the detail.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "util/buf.h"
#include "db.h"
#include "util/error.h"
#include "hook_kinds.h"
#include "secret.h"
#include "engine/session.h"
#include "util/spawn.h"
#include "util/util.h"

/* How much of a failing program's output the error detail keeps. */
#define TAIL_LINES 20
#define TAIL_BYTES 4000

typedef struct {
	char *name;
	cairn_strvec argv;   /* argv, or {"/bin/sh", "-c", string} */
	char *workdir;       /* from hooks_config; NULL: our cwd */
	uint64_t timeout_ms;
	cairn_strvec secret_names;   /* variables named by secret_env: */
	cairn_secrets config_secrets; /* passwords of the config's URLs */
} exec_hook;

static void exec_hook_free(void *payload)
{
	exec_hook *h = payload;

	if (!h)
		return;
	free(h->name);
	cairn_strvec_dispose(&h->argv);
	free(h->workdir);
	cairn_strvec_dispose(&h->secret_names);
	cairn_secrets__dispose(&h->config_secrets);
	free(h);
}

/* Appends a .pgpass field with ':' and '\' escaped. */
static int pgpass_field(cairn_buf *b, const char *s)
{
	for (; *s; s++) {
		if ((*s == ':' || *s == '\\') && cairn_buf_putc(b, '\\') < 0)
			return CAIRN_ERROR;
		if (cairn_buf_putc(b, *s) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

/*
 * A file with no name for the password: a memfd, else an O_TMPFILE file
 * in $TMPDIR (or /tmp).  Either way nothing stays behind when we die.
 */
static int nameless_file(void)
{
	const char *tmpdir = getenv("TMPDIR");
	int fd = memfd_create("cairn-pgpass", MFD_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	return open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/*
 * Writes the password into a nameless 0600 file and returns its
 * descriptor (3 or above, close-on-exec) in *fd_out.
 */
static int write_passfile(int *fd_out, const char *user, const char *pass)
{
	cairn_buf line = CAIRN_BUF_INIT;
	int fd = -1, rc = CAIRN_ERROR;

	*fd_out = -1;
	if (cairn_buf_puts(&line, "*:*:*:") < 0 ||
	    pgpass_field(&line, user ? user : "*") < 0 ||
	    cairn_buf_putc(&line, ':') < 0 || pgpass_field(&line, pass) < 0 ||
	    cairn_buf_putc(&line, '\n') < 0)
		goto out;
	fd = nameless_file();
	if (fd >= 0 && fd < 3) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);

		close(fd);
		fd = high;
	}
	if (fd < 0 || fchmod(fd, 0600) < 0 ||
	    cairn__write_all(fd, line.ptr, line.size) < 0) {
		cairn_error__set(CAIRN_ERRCLASS_OS,
				 "cannot create a password file for an exec "
				 "hook: %s",
				 strerror(errno));
		goto out;
	}
	*fd_out = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	/* the password must not linger in freed memory */
	if (line.size)
		memset(line.ptr, 0, line.size);
	cairn_buf_dispose(&line);
	return rc;
}

/* PG* variables that point libpq at the session's database. */
static int pg_env(cairn_strvec *env, int *passfd,
		  const cairn_hook_context *ctx)
{
	static const char *const drop[] = { "PGHOSTADDR", "PGSERVICE", NULL };
	static const struct {
		const char *var;
		char *(*get)(const PGconn *conn);
	} vars[] = {
		{ "PGHOST", PQhost },
		{ "PGPORT", PQport },
		{ "PGDATABASE", PQdb },
		{ "PGUSER", PQuser },
	};
	PGconn *conn;
	const char *pass;
	size_t i;

	*passfd = -1;
	if (!ctx->session || !ctx->session->db)
		return 0;
	conn = cairn_db__conn(ctx->session->db);
	if (!conn)
		return 0;
	for (i = 0; drop[i]; i++)
		if (cairn_strvec_push(env, drop[i]) < 0)
			return CAIRN_ERROR;
	for (i = 0; i < CAIRN_ARRAY_SIZE(vars); i++) {
		const char *v = vars[i].get(conn);
		cairn_buf b = CAIRN_BUF_INIT;

		if (!v || !*v)
			continue;
		if (cairn_buf_printf(&b, "%s=%s", vars[i].var, v) < 0 ||
		    cairn_strvec_push_owned(env, cairn_buf_detach(&b)) < 0)
			return CAIRN_ERROR;
	}
	pass = PQpass(conn);
	if (pass && *pass) {
		cairn_buf b = CAIRN_BUF_INIT;

		if (write_passfile(passfd, PQuser(conn), pass) < 0)
			return CAIRN_ERROR;
		if (cairn_buf_printf(&b, "PGPASSFILE=/dev/fd/%d", *passfd) < 0 ||
		    cairn_strvec_push_owned(env, cairn_buf_detach(&b)) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

/*
 * The secrets known when the hook runs: the configuration's passwords,
 * the live connection's password and the secret_env values.
 */
static int run_secrets(cairn_secrets *out, const exec_hook *h,
		       const cairn_hook_context *ctx)
{
	PGconn *conn = NULL;
	size_t i;

	if (cairn_secrets__merge(out, &h->config_secrets) < 0)
		return CAIRN_ERROR;
	if (ctx->session && ctx->session->db)
		conn = cairn_db__conn(ctx->session->db);
	if (conn && PQpass(conn) && cairn_secrets__add(out, PQpass(conn)) < 0)
		return CAIRN_ERROR;
	if (cairn_secrets__add(out, getenv("PGPASSWORD")) < 0)
		return CAIRN_ERROR;
	for (i = 0; i < h->secret_names.count; i++)
		if (cairn_secrets__add(out, getenv(h->secret_names.items[i])) <
		    0)
			return CAIRN_ERROR;
	return 0;
}

/* True when an inherited "K=V" must not reach the program. */
static bool is_secret_var(const char *entry, const exec_hook *h,
			  const cairn_secrets *secrets)
{
	const char *eq = strchr(entry, '=');
	size_t i, klen;

	if (!eq)
		return false;
	klen = (size_t)(eq - entry);
	if (klen == strlen("PGPASSWORD") && !strncmp(entry, "PGPASSWORD", klen))
		return true;
	for (i = 0; i < h->secret_names.count; i++)
		if (strlen(h->secret_names.items[i]) == klen &&
		    !strncmp(entry, h->secret_names.items[i], klen))
			return true;
	return cairn_secret__has_password(eq + 1) ||
	       cairn_secrets__found_in(secrets, eq + 1);
}

/* Appends a bare "K" (remove K) for every secret variable we hold. */
static int scrub_env(cairn_strvec *env, const exec_hook *h,
		     const cairn_secrets *secrets)
{
	char **e;

	for (e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');

		if (eq && is_secret_var(*e, h, secrets) &&
		    cairn_strvec_push_owned(
			env, cairn__strndup(*e, (size_t)(eq - *e))) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

/* The last TAIL_LINES lines (at most TAIL_BYTES) of text, trimmed. */
static const char *tail_of(const cairn_buf *b, size_t *len)
{
	size_t end = b->size, start, lines = 0;

	while (end && (b->ptr[end - 1] == '\n' || b->ptr[end - 1] == '\r' ||
		       b->ptr[end - 1] == ' ' || b->ptr[end - 1] == '\t'))
		end--;
	start = end;
	while (start && end - start < TAIL_BYTES) {
		if (b->ptr[start - 1] == '\n' && ++lines == TAIL_LINES)
			break;
		start--;
	}
	*len = end - start;
	return b->ptr + start;
}

static void log_output(const cairn_hook_context *ctx, const exec_hook *h,
		       const cairn_spawn_result *r)
{
	if (r->out.size)
		cairn_hook_log(ctx, h->name, r->out.ptr);
	if (r->out_truncated)
		cairn_hook_log(ctx, h->name, "(standard output truncated)");
	if (r->err.size)
		cairn_hook_log(ctx, h->name, r->err.ptr);
	if (r->err_truncated)
		cairn_hook_log(ctx, h->name, "(standard error truncated)");
}

/* Turns a failed run into the hook's error. */
static int fail(const exec_hook *h, const cairn_spawn_result *r)
{
	const cairn_buf *src = r->err.size ? &r->err : &r->out;
	const char *tail;
	size_t len;

	if (r->exec_failed) {
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "exec hook '%s' could not be started",
				 h->name);
		if (r->message)
			cairn_error__detail("%s", r->message);
		cairn_error__hint("check the program in the hook's run: "
				  "(relative paths are relative to the "
				  "repository root)");
		return CAIRN_ERROR;
	}
	if (r->timed_out)
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "exec hook '%s' timed out after %llu ms",
				 h->name, (unsigned long long)h->timeout_ms);
	else if (r->status > 128)
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "exec hook '%s' was killed by signal %d",
				 h->name, r->status - 128);
	else
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "exec hook '%s' exited with status %d",
				 h->name, r->status);
	tail = tail_of(src, &len);
	if (len)
		cairn_error__detail("%.*s", (int)len, tail);
	if (r->timed_out)
		cairn_error__hint("raise the hook's timeout: or make the "
				  "program finish sooner");
	return CAIRN_ERROR;
}

static int exec_hook_run(const cairn_hook_context *ctx, void *payload)
{
	exec_hook *h = payload;
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	cairn_strvec env = CAIRN_STRVEC_INIT;
	cairn_buf hookname = CAIRN_BUF_INIT;
	cairn_secrets secrets = CAIRN_SECRETS_INIT;
	char *json = NULL;
	int rc = CAIRN_ERROR, src, passfd = -1;

	memset(&r, 0, sizeof(r));
	/* removals first: the variables set after them are ours */
	if (run_secrets(&secrets, h, ctx) < 0 ||
	    scrub_env(&env, h, &secrets) < 0 ||
	    cairn_hook_context_to_json(&json, ctx) < 0 ||
	    cairn_hook__env(&env, ctx) < 0 ||
	    cairn_buf_printf(&hookname, "CAIRN_HOOK_NAME=%s", h->name) < 0 ||
	    cairn_strvec_push_owned(&env, cairn_buf_detach(&hookname)) < 0 ||
	    pg_env(&env, &passfd, ctx) < 0)
		goto out;

	o.argv = (const char *const *)h->argv.items;
	o.env_add = (const char *const *)env.items;
	o.cwd = ctx->session && ctx->session->repo_workdir ?
			ctx->session->repo_workdir : h->workdir;
	o.stdin_data = json;
	o.stdin_len = strlen(json);
	o.timeout_ms = h->timeout_ms;
	o.cancel = ctx->session ? ctx->session->cancel : NULL;
	if (passfd >= 0) {
		o.keep_fds = &passfd;
		o.keep_fds_count = 1;
	}

	src = cairn_spawn_run(&r, &o);
	/* what it printed may quote a secret: mask it before anyone sees it */
	if (cairn_secrets__scrub(&secrets, &r.out) < 0 ||
	    cairn_secrets__scrub(&secrets, &r.err) < 0) {
		rc = CAIRN_ERROR;
		goto out;
	}
	if (src == CAIRN_EINTERRUPTED) {
		log_output(ctx, h, &r);
		cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
				 "exec hook '%s' was interrupted", h->name);
		rc = CAIRN_EINTERRUPTED;
		goto out;
	}
	if (src < 0)
		goto out;
	log_output(ctx, h, &r);
	if (r.exec_failed || r.timed_out || r.status != 0)
		goto failed;
	rc = 0;
	goto out;
failed:
	rc = fail(h, &r);
out:
	if (passfd >= 0)
		close(passfd);
	cairn_secrets__dispose(&secrets);
	cairn_spawn_result_dispose(&r);
	cairn_strvec_dispose(&env);
	free(json);
	return rc;
}

/* A header that carries a credential (Authorization, X-Api-Key...). */
static bool is_secret_header(const char *key)
{
	static const char *const words[] = { "auth", "token", "secret", "key",
					     "password", "signature" };
	size_t i, n = strlen(key), w;

	for (w = 0; w < CAIRN_ARRAY_SIZE(words); w++)
		for (i = 0; i + strlen(words[w]) <= n; i++)
			if (!strncasecmp(key + i, words[w], strlen(words[w])))
				return true;
	return false;
}

/* What the configuration holds that must not reach or leave a hook. */
static int collect_config_secrets(exec_hook *h, const cairn_config *cfg)
{
	size_t i, k;

	if (!cfg)
		return 0;
	for (i = 0; i < cfg->environments_count; i++) {
		const cairn_environment *env = &cfg->environments[i];

		if (cairn_secrets__add_from_url(&h->config_secrets,
						env->database_url) < 0 ||
		    cairn_secrets__add_from_url(&h->config_secrets,
						env->direct_database_url) < 0)
			return CAIRN_ERROR;
		/* a fleet's targets (README "Fleets") */
		for (k = 0; k < env->targets_count; k++)
			if (cairn_secrets__add_from_url(
				&h->config_secrets,
				env->targets[k].database_url) < 0)
				return CAIRN_ERROR;
	}
	if (cairn_secrets__add_from_url(&h->config_secrets,
					cfg->shadow_database_url) < 0)
		return CAIRN_ERROR;
	/* the audit chain's key never reaches a hook */
	if (cfg->audit_secret_env && *cfg->audit_secret_env &&
	    !cairn_strvec_contains(&h->secret_names, cfg->audit_secret_env) &&
	    cairn_strvec_push(&h->secret_names, cfg->audit_secret_env) < 0)
		return CAIRN_ERROR;
	for (i = 0; i < cfg->hooks_count; i++) {
		const cairn_hook_spec *o = &cfg->hooks[i];

		if (o->secret_env && *o->secret_env &&
		    !cairn_strvec_contains(&h->secret_names, o->secret_env) &&
		    cairn_strvec_push(&h->secret_names, o->secret_env) < 0)
			return CAIRN_ERROR;
		if (cairn_secrets__add_from_url(&h->config_secrets, o->url) < 0)
			return CAIRN_ERROR;
		for (k = 0; k < o->headers_count; k++)
			if (is_secret_header(o->headers[k].key) &&
			    cairn_secrets__add(&h->config_secrets,
					       o->headers[k].value) < 0)
				return CAIRN_ERROR;
	}
	return 0;
}

int cairn_hook__add_exec(cairn_pipeline *p, const cairn_hook_spec *spec,
			 const char *workdir, const char *config_path,
			 const cairn_config *cfg)
{
	cairn_hook hook;
	exec_hook *h;
	size_t i;

	if (!spec->shell && (!spec->argv || !spec->argv[0]))
		return cairn_error__set(CAIRN_ERRCLASS_CONFIG,
			"%s:%u:%u: exec hook '%s' has nothing to run",
			config_path ? config_path : "cairn.yaml", spec->line,
			spec->column, spec->name ? spec->name : "?");
	h = cairn__calloc(1, sizeof(*h));
	if (!h)
		return CAIRN_ERROR;
	h->name = cairn__strdup(spec->name ? spec->name : "exec");
	h->timeout_ms = spec->timeout_ms;
	if (!h->name || (workdir && !(h->workdir = cairn__strdup(workdir))) ||
	    collect_config_secrets(h, cfg) < 0)
		goto fail;
	if (spec->shell) {
		if (cairn_strvec_push(&h->argv, "/bin/sh") < 0 ||
		    cairn_strvec_push(&h->argv, "-c") < 0 ||
		    cairn_strvec_push(&h->argv, spec->shell) < 0)
			goto fail;
	} else {
		for (i = 0; spec->argv[i]; i++)
			if (cairn_strvec_push(&h->argv, spec->argv[i]) < 0)
				goto fail;
	}
	cairn_hook_from_spec(&hook, spec);
	hook.kind = "exec";
	hook.fn = exec_hook_run;
	hook.payload = h;
	hook.free_payload = exec_hook_free;
	if (cairn_pipeline_add(p, &hook, NULL) < 0)
		goto fail;
	return 0;
fail:
	exec_hook_free(h);
	return CAIRN_ERROR;
}
