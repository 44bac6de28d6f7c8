/*
 * abi_v1.c - a test plugin built as against the headers of plugin API
 * version 1 (tests/integration/check_plugin_abi.c).
 *
 * It declares version 1 and reads the table through a frozen copy of the
 * version-1 layout (no size field, nothing after event_name), as a plugin
 * compiled before the table grew would.  Its one post_complete hook
 * appends "v1 <event> <api_version>" to $CAIRN_ABI_TEST_LOG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/hook.h>
#include <cairn/plugin.h>

typedef struct {
	unsigned int api_version;
	const char *cairn_version;
	cairn_pipeline *pipeline;
	const cairn_kv *options;
	size_t options_count;
	const cairn_hook_spec *spec;
	int (*add_hook)(cairn_pipeline *p, const cairn_hook *hook, int *id);
	int (*add_object)(cairn_pipeline *p, const cairn_hook_object *obj,
			  int *id);
	int (*sql)(const cairn_hook_context *ctx, const char *sql,
		   char **first_value, size_t *rows);
	int (*context_to_json)(char **out, const cairn_hook_context *ctx);
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	void (*log)(const cairn_hook_context *ctx, const char *source,
		    const char *text);
	const char *(*event_name)(cairn_event event);
} api_v1;

CAIRN_PLUGIN_EXPORT const unsigned int cairn_plugin_api_version = 1;

static const char *(*event_name)(cairn_event event);
static unsigned int seen_version;

static int note(const cairn_hook_context *ctx, void *payload)
{
	FILE *f = fopen(payload, "a");

	if (!f)
		return -1;
	fprintf(f, "v1 %s %u\n", event_name(ctx->event), seen_version);
	return fclose(f);
}

int cairn_plugin_init(const cairn_plugin_api *table)
{
	const api_v1 *api = (const api_v1 *)(const void *)table;
	const char *log = getenv("CAIRN_ABI_TEST_LOG");
	cairn_hook hook = CAIRN_HOOK_INIT;

	if (api->api_version != 1 || !log)
		return api->set_error(CAIRN_ERRCLASS_CONFIG,
				      "abi_v1: wants a version 1 table, got %u",
				      api->api_version);
	event_name = api->event_name;
	seen_version = api->api_version;
	hook.name = "abi_v1";
	hook.event = CAIRN_EVENT_POST_COMPLETE;
	hook.fn = note;
	hook.payload = strdup(log);
	hook.free_payload = free;
	if (!hook.payload)
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	if (api->add_hook(api->pipeline, &hook, NULL) != 0) {
		free(hook.payload);
		return -1;
	}
	return 0;
}
