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
 *    PGHOSTADDR, PGSERVICE and PGPASSWORD inherited from our environment
 *    are removed (they could point elsewhere); when the connection used a
 *    password it is handed over in a private 0600 PGPASSFILE under
 *    $TMPDIR (or /tmp) that is removed when the program ends, never in
 *    the environment or on a command line.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "buf.h"
#include "db.h"
#include "error.h"
#include "hook_kinds.h"
#include "session.h"
#include "spawn.h"
#include "util.h"

/* How much of a failing program's output the error detail keeps. */
#define TAIL_LINES 20
#define TAIL_BYTES 4000

typedef struct {
	char *name;
	cairn_strvec argv;   /* argv, or {"/bin/sh", "-c", string} */
	char *workdir;       /* from hooks_config; NULL: our cwd */
	uint64_t timeout_ms;
} exec_hook;

static void exec_hook_free(void *payload)
{
	exec_hook *h = payload;

	if (!h)
		return;
	free(h->name);
	cairn_strvec_dispose(&h->argv);
	free(h->workdir);
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
 * Writes the password into a fresh 0600 file (mkstemp) and returns its
 * path in *out (caller unlinks and frees).
 */
static int write_passfile(char **out, const char *user, const char *pass)
{
	const char *tmpdir = getenv("TMPDIR");
	cairn_buf path = CAIRN_BUF_INIT, line = CAIRN_BUF_INIT;
	size_t off = 0;
	int fd = -1, rc = CAIRN_ERROR;

	*out = NULL;
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	if (cairn_buf_printf(&path, "%s/cairn-pgpass-XXXXXX", tmpdir) < 0 ||
	    cairn_buf_puts(&line, "*:*:*:") < 0 ||
	    pgpass_field(&line, user ? user : "*") < 0 ||
	    cairn_buf_putc(&line, ':') < 0 || pgpass_field(&line, pass) < 0 ||
	    cairn_buf_putc(&line, '\n') < 0)
		goto out;
	fd = mkstemp(path.ptr);
	if (fd < 0) {
		cairn_error__set(CAIRN_ERRCLASS_OS,
				 "cannot create a password file in '%s': %s",
				 tmpdir, strerror(errno));
		goto out;
	}
	while (off < line.size) {
		ssize_t n = write(fd, line.ptr + off, line.size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cairn_error__set(CAIRN_ERRCLASS_OS,
					 "cannot write '%s': %s", path.ptr,
					 strerror(errno));
			unlink(path.ptr);
			goto out;
		}
		off += (size_t)n;
	}
	*out = cairn_buf_detach(&path);
	rc = *out ? 0 : CAIRN_ERROR;
out:
	if (fd >= 0)
		close(fd);
	/* the password must not linger in freed memory */
	if (line.size)
		memset(line.ptr, 0, line.size);
	cairn_buf_dispose(&line);
	cairn_buf_dispose(&path);
	return rc;
}

/* PG* variables that point libpq at the session's database. */
static int pg_env(cairn_strvec *env, char **passfile,
		  const cairn_hook_context *ctx)
{
	static const char *const drop[] = { "PGHOSTADDR", "PGSERVICE",
					    "PGPASSWORD", NULL };
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

	*passfile = NULL;
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

		if (write_passfile(passfile, PQuser(conn), pass) < 0)
			return CAIRN_ERROR;
		if (cairn_buf_printf(&b, "PGPASSFILE=%s", *passfile) < 0 ||
		    cairn_strvec_push_owned(env, cairn_buf_detach(&b)) < 0)
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
	char *json = NULL, *passfile = NULL;
	int rc = CAIRN_ERROR, src;

	memset(&r, 0, sizeof(r));
	if (cairn_hook_context_to_json(&json, ctx) < 0 ||
	    cairn_hook__env(&env, ctx) < 0 ||
	    cairn_buf_printf(&hookname, "CAIRN_HOOK_NAME=%s", h->name) < 0 ||
	    cairn_strvec_push_owned(&env, cairn_buf_detach(&hookname)) < 0 ||
	    pg_env(&env, &passfile, ctx) < 0)
		goto out;

	o.argv = (const char *const *)h->argv.items;
	o.env_add = (const char *const *)env.items;
	o.cwd = ctx->session && ctx->session->repo_workdir ?
			ctx->session->repo_workdir : h->workdir;
	o.stdin_data = json;
	o.stdin_len = strlen(json);
	o.timeout_ms = h->timeout_ms;
	o.cancel = ctx->session ? ctx->session->cancel : NULL;

	src = cairn_spawn_run(&r, &o);
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
	if (passfile) {
		unlink(passfile);
		free(passfile);
	}
	cairn_spawn_result_dispose(&r);
	cairn_strvec_dispose(&env);
	free(json);
	return rc;
}

int cairn_hook__add_exec(cairn_pipeline *p, const cairn_hook_spec *spec,
			 const char *workdir, const char *config_path)
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
	if (!h->name || (workdir && !(h->workdir = cairn__strdup(workdir))))
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
