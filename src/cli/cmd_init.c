/*
 * cmd_init.c - `cairn init`: write cairn.yaml and the migrations directory.
 *
 * The configuration written is the smallest useful one, with the other
 * keys shown as comments so a newcomer can see what exists.  An existing
 * cairn.yaml is never overwritten without --force.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

static const char template_head[] =
	"# cairn.yaml - see `man cairn` or README.md for every key.\n"
	"migrations_dir: %s\n"
	"schema: cairn                 # where cairn keeps its tables\n"
	"\n"
	"environments:\n"
	"  development: {}             # no database_url: the built-in dev database\n"
	"  # production:\n"
	"  #   database_url: ${PROD_DATABASE_URL}\n"
	"  #   allowed_refs: [refs/heads/main, refs/tags/v*]\n"
	"  #   require_clean_tree: true\n"
	"  #   confirm: true\n"
	"\n"
	"hooks:\n"
	"  on_error:\n"
	"    - builtin: log\n"
	"  # post_complete:\n"
	"  #   - builtin: metrics       # a summary line after each run\n"
	"  # post_execute:\n"
	"  #   - sql: \"SELECT count(*) FROM users WHERE email IS NULL\"\n"
	"  #     expect: 0\n"
	"  #     only: { migrations: [\"*users*\"] }\n"
	"\n"
	"githooks:\n"
	"  pre_push: { environment: development }\n";

struct init_opts {
	bool force;
	const char *dir;
};

static int init_option(struct cli *cli, int c, const char *arg, void *payload)
{
	struct init_opts *o = payload;

	(void)cli;
	if (c == 'f')
		o->force = true;
	else if (c == 'd')
		o->dir = arg;
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static bool valid_dir(const char *d)
{
	if (!*d || d[0] == '/' || strstr(d, ".."))
		return false;
	for (const char *p = d; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == '\'' || *p == '"' ||
		    *p == '#' || *p == ':' || *p == '$')
			return false;
	return true;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct init_opts o = { false, "db/migrations" };
	const struct cli_command *cmd = cli_find_command("init");
	cairn_repo *repo = NULL;
	char path[4096], mdir[4096];
	const char *root = "";
	int rc, first, fd;
	FILE *f;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "f", init_option,
			       &o, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'",
				       argv[first]);
	if (!valid_dir(o.dir))
		return cli_usage_error(cli, cmd,
			"bad migrations directory '%s': give a relative path without '..', spaces or quotes",
			o.dir);
	if (cairn_repo_open(&repo, ".") == 0) {
		root = cairn_repo_workdir(repo);
		if (!root)
			root = "";
	} else {
		cairn_error_clear();
		cli_warnf(cli, "this directory is not in a git repository");
		cli_hintf(cli, "cairn reads migrations from git: run 'git init' here");
	}
	snprintf(path, sizeof(path), "%scairn.yaml", root);
	snprintf(mdir, sizeof(mdir), "%s%s", root, o.dir);
	fd = open(path, O_WRONLY | O_CREAT | (o.force ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0) {
		if (errno == EEXIST) {
			cli_errorf(cli, "'%s' already exists", path);
			cli_hintf(cli, "use --force to overwrite it");
			rc = CLI_EXIT_FAIL;
		} else {
			cli_errorf(cli, "cannot write '%s': %s", path,
				   strerror(errno));
			rc = CLI_EXIT_FAIL;
		}
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	fprintf(f, template_head, o.dir);
	if (fclose(f) != 0) {
		cli_errorf(cli, "cannot write '%s': %s", path, strerror(errno));
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (mkdir_p(mdir) < 0) {
		cli_errorf(cli, "cannot create '%s': %s", mdir, strerror(errno));
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	{
		char keep[4200];

		snprintf(keep, sizeof(keep), "%s/.gitkeep", mdir);
		fd = open(keep, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
	}
	if (cli->verbosity >= 0) {
		printf("created %s\n", path);
		printf("created %s/\n", mdir);
		printf("next: cairn new create_first_table\n");
	}
	rc = 0;
out:
	cairn_repo_free(repo);
	return rc;
}
