/*
 * cmd_hooks.c - `cairn hooks list` and `cairn hooks run EVENT`.
 *
 * list shows, per event, the hooks in the order they run, with their kind,
 * failure policy, timeout and filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "report.h"

static void fmt_ms(char *out, size_t len, uint64_t ms)
{
	if (ms % 60000 == 0 && ms >= 60000)
		snprintf(out, len, "%llumin", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(out, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(out, len, "%llums", (unsigned long long)ms);
}

static json_t *list_json(char **items, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, cli_json_str(items[i]));
	return a;
}

static int hooks_list(struct cli *cli)
{
	const cairn_config *cfg;
	json_t *root = NULL;
	int rc;

	if ((rc = cli_config(cli, &cfg)))
		return rc;
	if (cli->format == CLI_FORMAT_JSON)
		root = json_object();
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++) {
		json_t *arr = root ? json_array() : NULL;
		size_t pos = 0;

		if (!root)
			printf("%s:\n", cairn_event_name((cairn_event)ev));
		for (size_t i = 0; i < cfg->hooks_count; i++) {
			const cairn_hook_spec *h = &cfg->hooks[i];
			char timeout[32];

			if (h->event != (cairn_event)ev)
				continue;
			pos++;
			fmt_ms(timeout, sizeof(timeout), h->timeout_ms);
			if (root) {
				json_t *o = json_object();

				json_object_set_new(o, "name", cli_json_str(h->name));
				json_object_set_new(o, "kind", json_string(cairn_hook_kind_name(h->kind)));
				json_object_set_new(o, "on_failure", json_string(cairn_on_failure_name(h->on_failure)));
				json_object_set_new(o, "timeout_ms", json_integer((json_int_t)h->timeout_ms));
				json_object_set_new(o, "environments", list_json(h->only_environments, h->only_environments_count));
				json_object_set_new(o, "migrations", list_json(h->only_migrations, h->only_migrations_count));
				json_object_set_new(o, "async", json_boolean(h->async));
				json_array_append_new(arr, o);
				continue;
			}
			printf("  %zu. %s  [%s, on_failure=%s, timeout=%s%s]", pos,
			       h->name, cairn_hook_kind_name(h->kind),
			       cairn_on_failure_name(h->on_failure), timeout,
			       h->async ? ", async" : "");
			if (h->only_environments_count) {
				fputs(" environments:", stdout);
				for (size_t k = 0; k < h->only_environments_count; k++)
					printf("%s%s", k ? "," : " ", h->only_environments[k]);
			}
			if (h->only_migrations_count) {
				fputs(" migrations:", stdout);
				for (size_t k = 0; k < h->only_migrations_count; k++)
					printf("%s%s", k ? "," : " ", h->only_migrations[k]);
			}
			putchar('\n');
		}
		if (root)
			json_object_set_new(root, cairn_event_name((cairn_event)ev), arr);
		else if (!pos)
			puts("  (none)");
	}
	if (root) {
		rc = cli_print_json(root);
		json_decref(root);
	}
	return rc;
}

int cmd_hooks(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_find_command("hooks");
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, NULL, "", NULL, NULL,
			       &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first >= argc || !strcmp(argv[first], "list")) {
		if (argc - first > 1)
			return cli_usage_error(cli, cmd, "too many arguments");
		return hooks_list(cli);
	}
	if (!strcmp(argv[first], "run")) {
		cli_errorf(cli, "'cairn hooks run' is not built yet in this version of cairn");
		return CLI_EXIT_USAGE;
	}
	return cli_usage_error(cli, cmd, "unknown hooks subcommand '%s'",
			       argv[first]);
}
