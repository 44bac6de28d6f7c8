/*
 * log.c - the `log` built-in: one structured JSON line per event.
 *
 *   on_error:
 *     - builtin: log
 *       path: logs/cairn.jsonl     # optional
 *
 * Written against the public hook interface only, as a plugin would be.
 * For each event it is registered for (the one it is listed under) it
 * writes the context document (api->context_to_json) with two fields in
 * front: "ts", the time in ISO 8601 UTC with milliseconds, and "level",
 * "error" for on_error and failures, else "info":
 *
 *   {"ts":"2024-05-01T12:00:00.123Z","level":"info","event":"post_execute",...}
 *
 * With `path:` (relative to the repository work dir) the line is
 * appended to that file with a single write(2) on an O_APPEND descriptor
 * opened at the first event, so each line lands whole even when two runs
 * share the file.  Without a path the line goes to the run's log
 * (api->log), which the command line prints.  The line is built in a
 * buffer kept across events, so after the first event the only
 * allocation is the context document itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builtins.h"
#include "cairn/hook.h"
#include "jsonl.h"

typedef struct {
	int (*context_to_json)(char **out, const cairn_hook_context *ctx);
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	void (*log)(const cairn_hook_context *ctx, const char *source,
		    const char *text);
	char *name;
	char *path;     /* NULL: the run's log */
	int fd;         /* -1 until the first line */
	char *line;     /* reused line buffer */
	size_t line_alloc;
} log_hook;

static void log_hook_free(void *payload)
{
	log_hook *h = payload;

	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	free(h->name);
	free(h->path);
	free(h->line);
	free(h);
}

static const char *level_of(const cairn_hook_context *ctx)
{
	if (ctx->event == CAIRN_EVENT_ON_ERROR || ctx->error ||
	    (ctx->status && !strcmp(ctx->status, "failed")))
		return "error";
	return "info";
}

static int log_event(const cairn_hook_context *ctx, void *payload)
{
	log_hook *h = payload;
	char ts[40], *json = NULL;
	const char *level = level_of(ctx);
	size_t jlen, need;
	int n, rc = -1;

	if (h->context_to_json(&json, ctx) != 0)
		return -1;
	jlen = strlen(json);
	if (jlen < 2 || json[0] != '{') {
		h->set_error(CAIRN_ERRCLASS_HOOK, "log: unexpected context "
			     "document");
		goto out;
	}
	cairn_jsonl_timestamp(ts);
	/* {"ts":"...","level":"...", + the document without its '{' + \n */
	need = jlen + strlen(ts) + strlen(level) + 32;
	if (need > h->line_alloc) {
		char *p = realloc(h->line, need);

		if (!p) {
			h->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
			goto out;
		}
		h->line = p;
		h->line_alloc = need;
	}
	n = snprintf(h->line, h->line_alloc,
		     "{\"ts\":\"%s\",\"level\":\"%s\"%s", ts, level,
		     jlen > 2 ? "," : "");
	if (n < 0 || (size_t)n + jlen + 1 > h->line_alloc) {
		h->set_error(CAIRN_ERRCLASS_HOOK, "log: line too long");
		goto out;
	}
	memcpy(h->line + n, json + 1, jlen - 1);
	n += (int)jlen - 1;
	h->line[n] = '\0';

	if (!h->path) {
		h->log(ctx, h->name, h->line);
		rc = 0;
		goto out;
	}
	h->line[n++] = '\n';
	{
		int err = cairn_jsonl_append(&h->fd, h->path, 0644, h->line,
					     (size_t)n);

		if (err) {
			h->set_error(CAIRN_ERRCLASS_OS,
				     "cannot %s log file '%s': %s",
				     h->fd < 0 ? "open" : "write to",
				     h->path, cairn_jsonl_strerror(err));
			goto out;
		}
	}
	rc = 0;
out:
	free(json);
	return rc;
}

/* path as given when absolute, else below workdir. */
static char *resolve(const char *path, const char *workdir)
{
	size_t pl = strlen(path), wl;
	char *out;

	if (path[0] == '/' || !workdir || !*workdir)
		return strdup(path);
	wl = strlen(workdir);
	out = malloc(wl + pl + 2);
	if (!out)
		return NULL;
	memcpy(out, workdir, wl);
	if (workdir[wl - 1] != '/')
		out[wl++] = '/';
	memcpy(out + wl, path, pl + 1);
	return out;
}

int cairn_builtin_log_init(const cairn_plugin_api *api)
{
	const char *path = api->option(api, "path");
	cairn_hook hook;
	log_hook *h;

	if (api->api_version < CAIRN_PLUGIN_API_VERSION || !api->spec)
		return api->set_error(CAIRN_ERRCLASS_USAGE,
				      "log: unsupported plugin API");
	h = calloc(1, sizeof(*h));
	if (!h)
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	h->fd = -1;
	h->context_to_json = api->context_to_json;
	h->set_error = api->set_error;
	h->log = api->log;
	h->name = strdup(api->spec->name ? api->spec->name : "builtin:log");
	if (path && *path)
		h->path = resolve(path, api->option(api, "workdir"));
	if (!h->name || (path && *path && !h->path)) {
		log_hook_free(h);
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	}
	api->hook_from_spec(&hook, api->spec);
	hook.kind = "builtin";
	hook.description = h->path ? "JSON lines appended to a file"
				   : "JSON lines to the run's log";
	hook.fn = log_event;
	hook.payload = h;
	hook.free_payload = log_hook_free;
	if (api->add_hook(api->pipeline, &hook, NULL) != 0) {
		log_hook_free(h);
		return -1;
	}
	return 0;
}
