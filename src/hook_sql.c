/*
 * hook_sql.c - SQL from hooks: cairn_hook_sql() and the sql hook kind.
 *
 * cairn_hook_sql() runs text (one or more statements, as PQexec takes
 * them) on the connection of the context's session: inside the
 * migration's transaction when one is open, else on its own.  It is
 * asynchronous underneath (PQsendQuery and poll in 50 ms slices) so a
 * deadline and the session's cancel flag can stop a long query with
 * PQcancel; the results are then read like PQexec reads them: the last
 * result is the answer, an error result wins.
 *
 * The sql kind (`sql: "..."` or `sql_file: path`, optional `expect:`) is
 * registered with in_transaction set, so the engine runs it after BEGIN
 * at pre_execute and before COMMIT at post_execute: a failing check
 * rolls the migration back with it.  At run-level events it just runs on
 * the connection.  In a dry run without a connection it is skipped with
 * a note in the log; anywhere else a missing connection is an error.
 * sql_file is read when the pipeline is built, relative to the
 * repository work dir.  expect:
 *
 *   0      the first column of the first row is zero ("0", "0.00");
 *          no row at all fails
 *   empty  the query returns no rows
 *   true   the first column of the first row is true ("t" or "true")
 *
 * A failure names the hook, what was expected and what came back:
 * "sql hook 'sql:users' expected 0, got '3'".  SQL errors carry the
 * server's message, detail, hint and SQLSTATE (cairn_db__error).
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "db.h"
#include "util/error.h"
#include "hook_kinds.h"
#include "engine/session.h"
#include "util/util.h"

/* sql_file larger than this is refused. */
#define SQL_FILE_MAX ((size_t)16 * 1024 * 1024)

typedef struct {
	char *name;
	char *sql;
	char *what;   /* "sql hook 'x' failed", the prefix of SQL errors */
	cairn_sql_expect expect;
	cairn_on_failure on_failure;
	uint64_t timeout_ms;
} sql_hook;

static void sql_hook_free(void *payload)
{
	sql_hook *h = payload;

	if (!h)
		return;
	free(h->name);
	free(h->sql);
	free(h->what);
	free(h);
}

/* Sends a cancel request for the statement running on conn. */
static void cancel_query(PGconn *conn)
{
	PGcancel *c = PQgetCancel(conn);
	char errbuf[256];

	if (c) {
		PQcancel(c, errbuf, sizeof(errbuf));
		PQfreeCancel(c);
	}
}

/* True when the query should be stopped now; says why. */
static bool should_stop(const cairn_hook_context *ctx, int64_t deadline,
			bool *timed_out, bool *interrupted)
{
	if (ctx->session->cancel && *ctx->session->cancel) {
		*interrupted = true;
		return true;
	}
	if (deadline && cairn__now_ms() >= deadline) {
		*timed_out = true;
		return true;
	}
	return false;
}

/*
 * Waits for the query's results and keeps the one that answers it: the
 * first error, else the last result.  NULL when the connection broke
 * before any result came.
 */
static PGresult *collect(const cairn_hook_context *ctx, PGconn *conn,
			 int64_t deadline, bool *timed_out, bool *interrupted)
{
	PGresult *answer = NULL, *res;
	bool cancelled = false, failed = false;

	for (;;) {
		while (PQisBusy(conn)) {
			struct pollfd pfd = { PQsocket(conn), POLLIN, 0 };

			if (pfd.fd < 0)
				return answer;
			if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
				return answer;
			if (!PQconsumeInput(conn))
				break;
			if (!cancelled && should_stop(ctx, deadline, timed_out,
						      interrupted)) {
				cancel_query(conn);
				cancelled = true;
			}
		}
		res = PQgetResult(conn);
		if (!res)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_COPY_IN:
			PQputCopyEnd(conn, "hooks cannot COPY FROM STDIN");
			PQclear(res);
			continue;
		case PGRES_COPY_OUT: {
			char *row;

			while (PQgetCopyData(conn, &row, 0) > 0)
				PQfreemem(row);
			PQclear(res);
			continue;
		}
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
		case PGRES_EMPTY_QUERY:
			if (failed) {
				PQclear(res);
				continue;
			}
			break;
		default:
			if (failed) {
				PQclear(res);
				continue;
			}
			failed = true;
			break;
		}
		PQclear(answer);
		answer = res;
		if (PQstatus(conn) == CONNECTION_BAD)
			break;
	}
	return answer;
}

int cairn_hook__sql_run(const cairn_hook_context *ctx, const char *sql,
			uint64_t timeout_ms, const char *what,
			char **first_value, size_t *rows, bool *timed_out)
{
	cairn_db *db;
	PGconn *conn;
	PGresult *res;
	ExecStatusType st;
	bool interrupted = false, late = false;
	int64_t deadline = timeout_ms ? cairn__now_ms() + (int64_t)timeout_ms
				      : 0;

	if (first_value)
		*first_value = NULL;
	if (rows)
		*rows = 0;
	if (timed_out)
		*timed_out = false;
	if (!ctx || !ctx->session || !ctx->session->db)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"sql hooks need a database connection");
	db = ctx->session->db;
	conn = cairn_db__conn(db);
	if (!PQsendQuery(conn, sql))
		return cairn_db__error(db, NULL, what);
	res = collect(ctx, conn, deadline, &late, &interrupted);
	if (timed_out)
		*timed_out = late;
	if (interrupted) {
		PQclear(res);
		cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED, "%s: interrupted",
				 what);
		return CAIRN_EINTERRUPTED;
	}
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
	    st != PGRES_EMPTY_QUERY) {
		cairn_db__error(db, res, what);
		PQclear(res);
		return CAIRN_ERROR;
	}
	if (st == PGRES_TUPLES_OK) {
		if (rows)
			*rows = (size_t)PQntuples(res);
		if (first_value && PQntuples(res) > 0 && PQnfields(res) > 0 &&
		    !PQgetisnull(res, 0, 0)) {
			*first_value = cairn__strdup(PQgetvalue(res, 0, 0));
			if (!*first_value) {
				PQclear(res);
				return CAIRN_ERROR;
			}
		}
	}
	PQclear(res);
	return 0;
}

int cairn_hook_sql(const cairn_hook_context *ctx, const char *sql,
		   char **first_value, size_t *rows)
{
	return cairn_hook__sql_run(ctx, sql, 0, "hook query failed",
				   first_value, rows, NULL);
}

/* "0", "-0", "00", "0.000" */
static bool is_zero(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (*s != '0' && !(*s == '.' && s[1] == '0'))
		return false;
	while (*s == '0')
		s++;
	if (*s == '.') {
		s++;
		while (*s == '0')
			s++;
	}
	return *s == '\0';
}

static bool is_true(const char *s)
{
	return !strcasecmp(s, "t") || !strcasecmp(s, "true");
}

/* Sets the "expected X, got Y" error. */
static int expect_failed(const sql_hook *h, const char *expected,
			 const char *value, size_t rows)
{
	if (!rows)
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "sql hook '%s' expected %s, got no rows",
				 h->name, expected);
	else if (!value)
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "sql hook '%s' expected %s, got NULL",
				 h->name, expected);
	else
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "sql hook '%s' expected %s, got '%.200s'%s",
				 h->name, expected, value,
				 strlen(value) > 200 ? "..." : "");
	cairn_error__detail("The query was: %.500s%s", h->sql,
			    strlen(h->sql) > 500 ? "..." : "");
	return CAIRN_ERROR;
}

/* Replaces the server's "canceling statement" error with ours. */
static int timeout_error(const sql_hook *h)
{
	cairn_error_saved saved;

	cairn_error__save(&saved);
	cairn_error__set(CAIRN_ERRCLASS_HOOK,
			 "sql hook '%s' timed out after %llu ms", h->name,
			 (unsigned long long)h->timeout_ms);
	if (saved.message)
		cairn_error__detail("%s", saved.message);
	cairn_error__hint("raise the hook's timeout: or make the query "
			  "faster");
	cairn_error__saved_dispose(&saved);
	return CAIRN_ERROR;
}

static int check(const sql_hook *h, const cairn_hook_context *ctx)
{
	char *value = NULL;
	size_t rows = 0;
	bool timed_out = false;
	int rc;

	rc = cairn_hook__sql_run(ctx, h->sql, h->timeout_ms, h->what, &value,
				 &rows, &timed_out);
	if (rc < 0)
		return timed_out ? timeout_error(h) : rc;
	switch (h->expect) {
	case CAIRN_EXPECT_NONE:
		break;
	case CAIRN_EXPECT_ZERO:
		if (!rows || !value || !is_zero(value))
			rc = expect_failed(h, "0", value, rows);
		break;
	case CAIRN_EXPECT_EMPTY:
		if (rows) {
			cairn_error__set(CAIRN_ERRCLASS_HOOK,
				"sql hook '%s' expected no rows, got %zu "
				"row%s (first value: %.200s)", h->name, rows,
				rows == 1 ? "" : "s", value ? value : "NULL");
			cairn_error__detail("The query was: %.500s%s", h->sql,
					    strlen(h->sql) > 500 ? "..." : "");
			rc = CAIRN_ERROR;
		}
		break;
	case CAIRN_EXPECT_TRUE:
		if (!rows || !value || !is_true(value))
			rc = expect_failed(h, "true", value, rows);
		break;
	}
	free(value);
	return rc;
}

/* Runs fixed statements of our own, keeping the error already set. */
static void run_quietly(const cairn_hook_context *ctx, const char *sql)
{
	cairn_error_saved saved;

	cairn_error__save(&saved);
	/* the hook's own error (restored below) is what the caller reports */
	if (cairn_hook__sql_run(ctx, sql, 0, "cannot undo the sql hook", NULL,
				NULL, NULL) < 0)
		cairn_error_clear();
	cairn_error__restore(&saved);
}

static int sql_hook_run(const cairn_hook_context *ctx, void *payload)
{
	sql_hook *h = payload;
	bool guard;
	int rc;

	if (ctx->dry_run && (!ctx->session || !ctx->session->db)) {
		cairn_hook_log(ctx, h->name, "skipped: a dry run has no "
			       "database connection");
		return 0;
	}
	/*
	 * Inside the migration's transaction a failing statement aborts
	 * the whole transaction.  That is what abort wants; a hook that
	 * only warns must not take the migration down with it, so its
	 * work is fenced off by a savepoint and undone when it fails.
	 */
	guard = ctx->in_transaction && h->on_failure != CAIRN_ON_FAILURE_ABORT;
	if (guard && cairn_hook__sql_run(ctx, "SAVEPOINT cairn_sql_hook", 0,
					 h->what, NULL, NULL, NULL) < 0)
		return CAIRN_ERROR;
	rc = check(h, ctx);
	if (guard)
		run_quietly(ctx, rc ? "ROLLBACK TO SAVEPOINT cairn_sql_hook; "
				      "RELEASE SAVEPOINT cairn_sql_hook"
				    : "RELEASE SAVEPOINT cairn_sql_hook");
	return rc;
}

/* Reads path (relative to workdir) whole. */
static int read_sql_file(char **out, const cairn_hook_spec *spec,
			 const char *workdir, const char *config_path)
{
	cairn_buf path = CAIRN_BUF_INIT, text = CAIRN_BUF_INIT;
	int rc = CAIRN_ERROR;

	*out = NULL;
	cairn_buf_init(&text, SQL_FILE_MAX);
	if (spec->sql_file[0] != '/' && workdir && *workdir) {
		size_t wl = strlen(workdir);

		if (cairn_buf_printf(&path, "%s%s%s", workdir,
				     workdir[wl - 1] == '/' ? "" : "/",
				     spec->sql_file) < 0)
			goto out;
	} else if (cairn_buf_puts(&path, spec->sql_file) < 0) {
		goto out;
	}
	if (cairn__file_read(AT_FDCWD, path.ptr, 0, SQL_FILE_MAX, &text) < 0) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
			"%s:%u:%u: cannot read sql_file '%s' of hook '%s': %s",
			config_path ? config_path : "cairn.yaml", spec->line,
			spec->column, spec->sql_file, spec->name,
			strerror(errno));
		if (spec->sql_file[0] != '/')
			cairn_error__hint("sql_file is relative to the "
					  "repository root (%s)",
					  workdir && *workdir ? workdir : ".");
		goto out;
	}
	if (memchr(text.ptr, '\0', text.size)) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "%s:%u:%u: sql_file '%s' is not a text file",
				 config_path ? config_path : "cairn.yaml",
				 spec->line, spec->column, spec->sql_file);
		goto out;
	}
	*out = cairn_buf_detach(&text);
	rc = *out ? 0 : CAIRN_ERROR;
out:
	cairn_buf_dispose(&path);
	cairn_buf_dispose(&text);
	return rc;
}

int cairn_hook__add_sql(cairn_pipeline *p, const cairn_hook_spec *spec,
			const char *workdir, const char *config_path)
{
	cairn_buf what = CAIRN_BUF_INIT;
	cairn_hook hook;
	sql_hook *h;

	h = cairn__calloc(1, sizeof(*h));
	if (!h)
		return CAIRN_ERROR;
	h->name = cairn__strdup(spec->name ? spec->name : "sql");
	h->expect = spec->expect;
	h->on_failure = spec->on_failure;
	h->timeout_ms = spec->timeout_ms;
	if (!h->name)
		goto fail;
	if (spec->sql) {
		if (!(h->sql = cairn__strdup(spec->sql)))
			goto fail;
	} else if (spec->sql_file) {
		if (read_sql_file(&h->sql, spec, workdir, config_path) < 0)
			goto fail;
	} else {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "%s:%u:%u: sql hook '%s' has no sql or sql_file",
				 config_path ? config_path : "cairn.yaml",
				 spec->line, spec->column, h->name);
		goto fail;
	}
	if (cairn_buf_printf(&what, "sql hook '%s' failed", h->name) < 0)
		goto fail;
	h->what = cairn_buf_detach(&what);
	if (!h->what)
		goto fail;
	cairn_hook_from_spec(&hook, spec);
	hook.kind = "sql";
	hook.fn = sql_hook_run;
	hook.payload = h;
	hook.free_payload = sql_hook_free;
	hook.in_transaction = true;
	if (cairn_pipeline_add(p, &hook, NULL) < 0)
		goto fail;
	return 0;
fail:
	cairn_buf_dispose(&what);
	sql_hook_free(h);
	return CAIRN_ERROR;
}
