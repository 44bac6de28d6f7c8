/*
 * cmd_dev_db.c - `cairn dev-db start|stop|status|url`: the built-in
 * development database (a private PostgreSQL cluster under .cairn/pg/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/devdb.h"
#include "cli.h"
#include "commands.h"

int cmd_dev_db(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_find_command("dev-db");
	cairn_devdb_options o = CAIRN_DEVDB_OPTIONS_INIT;
	cairn_repo *repo;
	char *url = NULL, *dir = NULL;
	const char *sub;
	bool running = false;
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, NULL, "", NULL, NULL, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first + 1 != argc)
		return cli_usage_error(cli, cmd, first >= argc ? "say start, stop, status or url" : "too many arguments");
	sub = argv[first];
	if ((rc = cli_repo(cli, &repo)))
		return rc;
	o.repo_workdir = cairn_repo_workdir(repo);
	if (!o.repo_workdir) {
		cli_errorf(cli, "the development database needs a work tree (this repository is bare)");
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(sub, "start")) {
		if (cairn_devdb_start(&url, &o) < 0)
			return cli_report_error(cli);
		printf("%s\n", url);
	} else if (!strcmp(sub, "stop")) {
		if (cairn_devdb_stop(&o) < 0)
			return cli_report_error(cli);
		if (cli->verbosity >= 0)
			printf("development database stopped\n");
	} else if (!strcmp(sub, "status")) {
		if (cairn_devdb_status(&running, &url, &dir, &o) < 0)
			return cli_report_error(cli);
		if (cli->format == CLI_FORMAT_JSON) {
			printf("{\"running\": %s, \"url\": \"%s\", \"dir\": \"%s\"}\n",
			       running ? "true" : "false", url ? url : "", dir ? dir : "");
		} else {
			printf("%s%s%s\n", running ? "running" : "stopped",
			       dir ? " in " : "", dir ? dir : "");
			if (running && url)
				printf("%s\n", url);
		}
		rc = running ? 0 : CLI_EXIT_DB;
	} else if (!strcmp(sub, "url")) {
		if (cairn_devdb_url(&url, &o) < 0)
			return cli_report_error(cli);
		printf("%s\n", url);
	} else {
		rc = cli_usage_error(cli, cmd, "unknown dev-db subcommand '%s'", sub);
	}
	free(url);
	free(dir);
	return rc;
}
