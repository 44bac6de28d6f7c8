/*
 * audit_file.c - the `audit-file` built-in: a JSON-lines mirror of the
 * audit trail in a file.
 *
 *   post_execute:
 *     - builtin: audit-file
 *       path: logs/cairn-audit.jsonl
 *   post_rollback:   (the same entry under each event to mirror)
 *   on_error:
 *   post_complete:
 *
 * Written against the public hook interface only (cairn/hook.h), as a
 * plugin would be.  For each event it is registered for it appends one
 * line: the context document (api->context_to_json: event, environment,
 * run id, migration with commit and author, status, error, deploy
 * revision, actor, ...) with "ts" (ISO 8601 UTC, milliseconds) in front:
 *
 *   {"ts":"2024-05-01T12:00:00.123Z","event":"post_execute",...}
 *
 * `path:` is required; a relative path is below the repository work dir
 * (the host's `workdir` option).  The file is opened at the first event
 * with O_APPEND, created with mode 0600 when missing (audit lines name
 * people and commits), and each line goes out in a single write(2), so
 * it is in the file, whole, when the hook returns (no fsync: durability
 * is the database audit table's job) and lines of two runs sharing the
 * file never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/hook.h"
#include "jsonl.h"
#include "guards.h"

typedef struct {
	int (*context_to_json)(char **out, const cairn_hook_context *ctx);
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	char *path;
	int fd; /* -1 until the first event */
} audit_hook;

static void audit_hook_free(void *payload)
{
	audit_hook *h = payload;

	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	free(h->path);
	free(h);
}

static int audit_event(const cairn_hook_context *ctx, void *payload)
{
	audit_hook *h = payload;
	char ts[40], *json = NULL, *line = NULL;
	size_t jlen;
	int n, rc = -1;

	if (h->context_to_json(&json, ctx) != 0)
		return -1;
	jlen = strlen(json);
	if (jlen < 2 || json[0] != '{') {
		h->set_error(CAIRN_ERRCLASS_HOOK,
			     "audit-file: unexpected context document");
		goto out;
	}
	cairn_jsonl_timestamp(ts);
	/* {"ts":"...", + the document without its '{' + \n */
	n = asprintf(&line, "{\"ts\":\"%s\"%s%s\n", ts, jlen > 2 ? "," : "",
		     json + 1);
	if (n < 0) {
		line = NULL;
		h->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
		goto out;
	}
	{
		int err = cairn_jsonl_append(&h->fd, h->path, 0600, line,
					     (size_t)n);

		if (err) {
			h->set_error(CAIRN_ERRCLASS_OS,
				     "cannot %s audit file '%s': %s",
				     h->fd < 0 ? "open" : "write to",
				     h->path, cairn_jsonl_strerror(err));
			goto out;
		}
	}
	rc = 0;
out:
	free(line);
	free(json);
	return rc;
}

/* path as given when absolute, else below workdir. */
static char *resolve(const char *path, const char *workdir)
{
	char *out = NULL;

	if (path[0] == '/' || !workdir || !*workdir)
		return strdup(path);
	if (asprintf(&out, "%s%s%s", workdir,
		     workdir[strlen(workdir) - 1] == '/' ? "" : "/", path) < 0)
		return NULL;
	return out;
}

int cairn_builtin_audit_file_init(const cairn_plugin_api *api)
{
	const char *path = api->option(api, "path");
	cairn_hook hook;
	audit_hook *h;

	if (api->api_version < CAIRN_PLUGIN_API_VERSION || !api->spec)
		return api->set_error(CAIRN_ERRCLASS_USAGE,
				      "audit-file: unsupported plugin API");
	if (!path || !*path) {
		api->set_error(CAIRN_ERRCLASS_CONFIG,
			       "audit-file needs a 'path:' to write to");
		api->set_error_hint("for example: path: logs/cairn-audit.jsonl");
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (!h || !(h->path = resolve(path,
				      api->option(api, "workdir")))) {
		free(h);
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	}
	h->fd = -1;
	h->context_to_json = api->context_to_json;
	h->set_error = api->set_error;
	api->hook_from_spec(&hook, api->spec);
	hook.kind = "builtin";
	hook.description = "JSON lines mirroring the audit trail, to a file";
	hook.fn = audit_event;
	hook.payload = h;
	hook.free_payload = audit_hook_free;
	if (api->add_hook(api->pipeline, &hook, NULL) != 0) {
		audit_hook_free(h);
		return -1;
	}
	return 0;
}
