/*
 * db_reachable.c - the `db-reachable` built-in: the run's database answers.
 *
 *   pre_validate:
 *     - builtin: db-reachable
 *
 * Written against the plugin API table only (cairn/hook.h), as a
 * plugin would be.  It runs `SELECT 1` on the connection of the run's
 * session (api->sql, i.e. cairn_hook_sql), so it checks the very
 * connection migrations will use, inside the migration's transaction when
 * one is open.  It opens no connection of its own: without a session, or
 * with one that has no connection (a dry run, `hooks run` without a
 * database), it fails with "no database connection".  A failed query
 * fails with the database's description (ctx->database, which never
 * holds a password) and the library's message, class db.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/hook.h"
#include "guards.h"

typedef struct {
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	int (*sql)(const cairn_hook_context *ctx, const char *sql,
		   char **first_value, size_t *rows);
	void (*set_error_hint)(const char *fmt, ...);
	const cairn_error *(*last_error)(void);
} reach_hook;

static int no_connection(const reach_hook *h)
{
	h->set_error(CAIRN_ERRCLASS_DB, "no database connection");
	h->set_error_hint("db-reachable checks the connection of a run; "
			  "give the environment a database_url or --db");
	return -1;
}

static int reach_event(const cairn_hook_context *ctx, void *payload)
{
	reach_hook *h = payload;
	const char *db = ctx->database && *ctx->database ? ctx->database
							 : "(unnamed)";
	const cairn_error *e;
	char *value = NULL, *why;

	if (!ctx->session)
		return no_connection(h);
	if (h->sql(ctx, "SELECT 1", &value, NULL) == 0) {
		free(value);
		return 0;
	}
	e = h->last_error();
	if (e && e->klass == CAIRN_ERRCLASS_USAGE)
		return no_connection(h);
	if (e && e->klass == CAIRN_ERRCLASS_INTERRUPTED)
		return -1;
	why = strdup(e && e->message ? e->message : "no answer");
	h->set_error(CAIRN_ERRCLASS_DB, "database %s is not reachable: %s",
		     db, why ? why : "no answer");
	free(why);
	return -1;
}

int cairn_builtin_db_reachable_init(const cairn_plugin_api *api)
{
	cairn_hook hook;
	reach_hook *h;

	if (!CAIRN_PLUGIN_API_HAS(api, last_error) || !api->spec)
		return api->set_error(CAIRN_ERRCLASS_USAGE,
				      "db-reachable: unsupported plugin API");
	h = calloc(1, sizeof(*h));
	if (!h)
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	h->set_error = api->set_error;
	h->sql = api->sql;
	h->set_error_hint = api->set_error_hint;
	h->last_error = api->last_error;
	api->hook_from_spec(&hook, api->spec);
	hook.kind = "builtin";
	hook.description = "SELECT 1 on the run's database connection";
	hook.fn = reach_event;
	hook.payload = h;
	hook.free_payload = free;
	if (api->add_hook(api->pipeline, &hook, NULL) != 0) {
		free(h);
		return -1;
	}
	return 0;
}
