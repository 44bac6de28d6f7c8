/*
 * hook_context.c - what a hook is told about the run: the context as one
 * JSON document, as CAIRN_* environment variables, the log hooks write
 * to, and the API table handed to built-ins and plugins.
 *
 * The JSON document (cairn_hook_context_to_json) is what exec hooks read
 * on stdin and webhooks post.  Its shape is part of the contract:
 *
 *   {"event", "environment", "run_id", "direction",
 *    "migration": {"version", "version_text", "name", "file", "checksum",
 *                  "subdir", "repeatable", "introduced_by": COMMIT,
 *                  "last_changed_by": COMMIT} or null,
 *    "status", "duration_ms",
 *    "error": {"message", "detail", "hint", "sqlstate", "class"} or null,
 *    "metadata": {key: value, ...},
 *    "deploy_rev", "deploy_ref", "actor", "database",
 *    "planned", "done", "failed", "dry_run",
 *    "blockers": [{"pid", "user", "application_name", "client_addr",
 *                  "state", "xact_age_ms", "query"}, ...] or null}
 *
 *   COMMIT = {"commit", "author_name", "author_email", "authored_at"}
 *            or null when unknown; authored_at is ISO 8601 UTC
 *            ("2024-05-01T12:00:00Z").
 *
 * "file" is the file being run: the down file for a rollback, else the up
 * file.  Strings that are not valid UTF-8 (file names and author names
 * can be any bytes) are still turned into valid JSON: each bad byte
 * becomes the four characters \xNN.  A NULL string becomes null.
 *
 * The environment (cairn_hook__env) carries the same facts for programs
 * that would rather not parse JSON (CAIRN_BLOCKERS holds the blockers'
 * JSON array when there are any); values are passed as data, never
 * interpolated into a command line.  See hook_kinds.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "util/buf.h"
#include "cairn/hook.h"
#include "util/error.h"
#include "hook_kinds.h"
#include "util/util.h"

/*
 * s as valid UTF-8: s itself when it already is, else a copy in tmp with
 * every bad byte written as the text \xNN.  NULL when tmp cannot grow.
 */
static const char *utf8_lossy(const char *s, cairn_buf *tmp)
{
	size_t len = strlen(s), bad;

	if (cairn__utf8_valid(s, len, &bad))
		return s;
	cairn_buf_clear(tmp);
	while (!cairn__utf8_valid(s, len, &bad)) {
		if (cairn_buf_put(tmp, s, bad) < 0 ||
		    cairn_buf_printf(tmp, "\\x%02X",
				     (unsigned)(unsigned char)s[bad]) < 0)
			return NULL;
		s += bad + 1;
		len -= bad + 1;
	}
	if (cairn_buf_put(tmp, s, len) < 0)
		return NULL;
	return tmp->ptr;
}

static json_t *jstr(const char *s)
{
	cairn_buf tmp = CAIRN_BUF_INIT;
	const char *v;
	json_t *j;

	if (!s)
		return json_null();
	v = utf8_lossy(s, &tmp);
	j = v ? json_string(v) : NULL;
	cairn_buf_dispose(&tmp);
	return j;
}

/* "" is as good as absent for ids and checksums. */
static json_t *jstr_or_null(const char *s)
{
	return s && *s ? jstr(s) : json_null();
}

/* Sets obj[key] = val; remembers a failure in *ok (val may be NULL). */
static void put(json_t *obj, const char *key, json_t *val, bool *ok)
{
	if (!val || json_object_set_new(obj, key, val) < 0)
		*ok = false;
}

static void iso_utc(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

static json_t *commit_json(const cairn_commit_info *c, bool *ok)
{
	char when[32];
	json_t *o;

	if (!c->sha[0])
		return json_null();
	o = json_object();
	if (!o)
		return NULL;
	iso_utc(when, c->author_time);
	put(o, "commit", jstr(c->sha), ok);
	put(o, "author_name", jstr(c->author_name), ok);
	put(o, "author_email", jstr(c->author_email), ok);
	put(o, "authored_at", jstr_or_null(when), ok);
	return o;
}

/* The file a context is about: the down file when rolling back. */
static const char *context_file(const cairn_hook_context *ctx)
{
	const cairn_migration *m = ctx->migration;

	if (ctx->direction && !strcmp(ctx->direction, "down") && m->down_path)
		return m->down_path;
	return m->up_path;
}

static json_t *migration_json(const cairn_hook_context *ctx, bool *ok)
{
	const cairn_migration *m = ctx->migration;
	json_t *o;

	if (!m)
		return json_null();
	o = json_object();
	if (!o)
		return NULL;
	put(o, "version", jstr(m->version), ok);
	put(o, "version_text", jstr(m->version_text), ok);
	put(o, "name", jstr(m->name), ok);
	put(o, "file", jstr(context_file(ctx)), ok);
	put(o, "checksum", jstr_or_null(m->checksum), ok);
	put(o, "subdir", jstr(m->subdir ? m->subdir : ""), ok);
	/* a repeatable migration has no version (cairn/repeatable.h) */
	put(o, "repeatable", json_boolean(m->repeatable), ok);
	if (m->has_provenance) {
		put(o, "introduced_by", commit_json(&m->introduced, ok), ok);
		put(o, "last_changed_by", commit_json(&m->changed, ok), ok);
	} else {
		put(o, "introduced_by", json_null(), ok);
		put(o, "last_changed_by", json_null(), ok);
	}
	return o;
}

static json_t *error_json(const cairn_error *e, bool *ok)
{
	json_t *o;

	if (!e)
		return json_null();
	o = json_object();
	if (!o)
		return NULL;
	put(o, "message", jstr(e->message), ok);
	put(o, "detail", jstr(e->detail), ok);
	put(o, "hint", jstr(e->hint), ok);
	put(o, "sqlstate", jstr(e->sqlstate), ok);
	put(o, "class", jstr(cairn_error_class_name(e->klass)), ok);
	return o;
}

static json_t *metadata_json(const cairn_hook_context *ctx, bool *ok)
{
	cairn_buf tmp = CAIRN_BUF_INIT;
	json_t *o = json_object();
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < ctx->metadata_count; i++) {
		const cairn_kv *kv = &ctx->metadata[i];
		const char *key;

		if (!kv->key)
			continue;
		key = utf8_lossy(kv->key, &tmp);
		if (!key) {
			*ok = false;
			break;
		}
		put(o, key, jstr(kv->value), ok);
	}
	cairn_buf_dispose(&tmp);
	return o;
}

/*
 * The sessions that blocked a migration that gave up waiting for a lock
 * (engine/blocker.c writes the array), or null.
 */
static json_t *blockers_json(const cairn_hook_context *ctx)
{
	json_t *a;

	if (ctx->version < 2 || !ctx->blockers_json)
		return json_null();
	a = json_loads(ctx->blockers_json, 0, NULL);
	if (!a || !json_is_array(a)) {
		json_decref(a);
		return json_null();
	}
	return a;
}

int cairn_hook_context_to_json(char **out, const cairn_hook_context *ctx)
{
	json_t *root;
	bool ok = true;

	*out = NULL;
	root = json_object();
	if (!root)
		return cairn_error__oom();
	put(root, "event", jstr(cairn_event_name(ctx->event)), &ok);
	put(root, "environment", jstr(ctx->environment), &ok);
	put(root, "run_id", jstr(ctx->run_id), &ok);
	put(root, "direction", jstr(ctx->direction), &ok);
	put(root, "migration", migration_json(ctx, &ok), &ok);
	put(root, "status", jstr(ctx->status), &ok);
	put(root, "duration_ms", json_integer((json_int_t)ctx->duration_ms),
	    &ok);
	put(root, "error", error_json(ctx->error, &ok), &ok);
	put(root, "metadata", metadata_json(ctx, &ok), &ok);
	put(root, "deploy_rev", jstr(ctx->deploy_rev), &ok);
	put(root, "deploy_ref", jstr(ctx->deploy_ref), &ok);
	put(root, "actor", jstr(ctx->actor), &ok);
	put(root, "database", jstr(ctx->database), &ok);
	put(root, "planned", json_integer((json_int_t)ctx->planned), &ok);
	put(root, "done", json_integer((json_int_t)ctx->done), &ok);
	put(root, "failed", json_integer((json_int_t)ctx->failed), &ok);
	put(root, "dry_run", json_boolean(ctx->dry_run), &ok);
	put(root, "blockers", blockers_json(ctx), &ok);
	if (ok)
		*out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!*out)
		return cairn_error__oom();
	return 0;
}

void cairn_hook_log(const cairn_hook_context *ctx, const char *source,
		    const char *text)
{
	if (ctx && ctx->log_fn && text)
		ctx->log_fn(source ? source : "hook", text, ctx->log_payload);
}

/* ------------------------------------------------------------------ */
/* The CAIRN_* environment of exec hooks                               */

static int env_put(cairn_strvec *out, const char *key, const char *value)
{
	cairn_buf b = CAIRN_BUF_INIT;

	if (cairn_buf_printf(&b, "%s=%s", key, value ? value : "") < 0)
		return CAIRN_ERROR;
	return cairn_strvec_push_owned(out, cairn_buf_detach(&b));
}

int cairn_hook__env(cairn_strvec *out, const cairn_hook_context *ctx)
{
	const cairn_migration *m = ctx->migration;
	const cairn_commit_info *ci =
		m && m->has_provenance && m->introduced.sha[0] ?
			&m->introduced : NULL;
	char num[32];
	cairn_buf key = CAIRN_BUF_INIT;
	size_t i;
	int rc = CAIRN_ERROR;

	if (env_put(out, "CAIRN_EVENT", cairn_event_name(ctx->event)) < 0 ||
	    env_put(out, "CAIRN_ENV", ctx->environment) < 0 ||
	    env_put(out, "CAIRN_RUN_ID", ctx->run_id) < 0 ||
	    env_put(out, "CAIRN_DIRECTION", ctx->direction) < 0 ||
	    env_put(out, "CAIRN_MIGRATION_VERSION",
		    m ? m->version : NULL) < 0 ||
	    env_put(out, "CAIRN_MIGRATION_NAME", m ? m->name : NULL) < 0 ||
	    env_put(out, "CAIRN_MIGRATION_FILE",
		    m ? context_file(ctx) : NULL) < 0 ||
	    env_put(out, "CAIRN_MIGRATION_CHECKSUM",
		    m ? m->checksum : NULL) < 0 ||
	    env_put(out, "CAIRN_COMMIT", ci ? ci->sha : NULL) < 0 ||
	    env_put(out, "CAIRN_AUTHOR_NAME",
		    ci ? ci->author_name : NULL) < 0 ||
	    env_put(out, "CAIRN_AUTHOR_EMAIL",
		    ci ? ci->author_email : NULL) < 0 ||
	    env_put(out, "CAIRN_STATUS", ctx->status) < 0 ||
	    env_put(out, "CAIRN_ERROR",
		    ctx->error ? ctx->error->message : NULL) < 0 ||
	    env_put(out, "CAIRN_DEPLOY_REV", ctx->deploy_rev) < 0 ||
	    env_put(out, "CAIRN_DEPLOY_REF", ctx->deploy_ref) < 0 ||
	    env_put(out, "CAIRN_ACTOR", ctx->actor) < 0 ||
	    env_put(out, "CAIRN_DRY_RUN", ctx->dry_run ? "1" : "0") < 0)
		goto out;
	/* the blockers' JSON array, as the context's "blockers" */
	if (ctx->version >= 2 && ctx->blockers_json &&
	    env_put(out, "CAIRN_BLOCKERS", ctx->blockers_json) < 0)
		goto out;
	snprintf(num, sizeof(num), "%lld", (long long)ctx->duration_ms);
	if (env_put(out, "CAIRN_DURATION_MS", num) < 0)
		goto out;
	for (i = 0; i < ctx->metadata_count; i++) {
		const cairn_kv *kv = &ctx->metadata[i];

		if (!kv->key || !*kv->key)
			continue;
		cairn_buf_clear(&key);
		if (cairn_buf_puts(&key, "CAIRN_META_") < 0)
			goto out;
		for (const char *p = kv->key; *p; p++) {
			unsigned char c = (unsigned char)*p;

			if (cairn_buf_putc(&key, isalnum(c) && c < 0x80 ?
					   (char)toupper(c) : '_') < 0)
				goto out;
		}
		if (env_put(out, key.ptr, kv->value) < 0)
			goto out;
	}
	rc = 0;
out:
	cairn_buf_dispose(&key);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The plugin API table                                                */

void cairn_hook_from_spec(cairn_hook *out, const cairn_hook_spec *spec)
{
	cairn_hook init = CAIRN_HOOK_INIT;

	*out = init;
	out->name = spec->name;
	out->kind = cairn_hook_kind_name(spec->kind);
	out->event = spec->event;
	out->on_failure = spec->on_failure;
	out->timeout_ms = spec->timeout_ms;
	/* the config's lists are NULL-terminated (NULL when empty) */
	out->only_environments = spec->only_environments_count ?
		(const char *const *)spec->only_environments : NULL;
	out->only_migrations = spec->only_migrations_count ?
		(const char *const *)spec->only_migrations : NULL;
}
