/*
 * main.c - the cairn program: global options and the command table.
 *
 *   cairn [-C DIR] [--config FILE] [--env NAME] [--rev REV] [--worktree]
 *         [--db URL] [--format FMT] [-q] [-v] [--no-color] COMMAND [ARGS]
 *
 * Global options may also follow the command name.  Each command lives
 * in its own file (cmd_*.c) and returns an exit code (cli.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

const struct cli_command cli_commands[] = {
	{ "init", cmd_init, "write cairn.yaml and db/migrations/",
	  "cairn init [--force] [--dir DIR]\n"
	  "\n"
	  "Writes a commented cairn.yaml at the repository root and creates\n"
	  "the migrations directory (db/migrations unless --dir says otherwise).\n"
	  "\n"
	  "  --force      overwrite an existing cairn.yaml\n"
	  "  --dir DIR    the migrations directory to create and configure\n",
	  CLI_CONFIG_WORKTREE },
	{ "new", cmd_new, "create the next migration's up and down files",
	  "cairn new [--no-down] [--timestamp] [--version V] NAME\n"
	  "\n"
	  "Creates <version>_NAME.up.sql and <version>_NAME.down.sql in the\n"
	  "migrations directory of the working tree.  The version is one above\n"
	  "the highest at HEAD and in the working tree, in the width the\n"
	  "existing files use (0001 for a new project), or the current UTC time\n"
	  "(YYYYMMDDHHMMSS) when the project uses timestamps or --timestamp is\n"
	  "given.  NAME is letters, digits, '_' and '-'.\n"
	  "\n"
	  "  --no-down     do not create a down file\n"
	  "  --timestamp   use a timestamp version\n"
	  "  --version V   use version V (e.g. 1.3, or DIR/N with versions:\n"
	  "                per-directory); refused when it exists.  Without it\n"
	  "                a dotted version's first part goes up by one.\n",
	  CLI_CONFIG_WORKTREE },
	{ "status", cmd_status, "applied, pending, drifted, missing and failed migrations",
	  "cairn status [--format text|json]\n"
	  "cairn status --all-targets [--parallel N] [--format text|json]\n"
	  "\n"
	  "Compares the migrations at --rev (default HEAD) with the tracking\n"
	  "table of the environment's database, and shows each migration with\n"
	  "the commit and author that brought it.\n"
	  "\n"
	  "  --all-targets   per target of the environment: the highest applied\n"
	  "                  version and how many migrations it is behind\n"
	  "  --parallel N    targets at a time (default 4)\n", 0 },
	{ "validate", cmd_validate, "check migrations (CI gate)",
	  "cairn validate [--base REV] [--shadow] [--no-db]\n"
	  "               [--format text|json|junit|github|gitlab]\n"
	  "cairn validate --all-targets [--parallel N] [--canary K] [--keep-going] ...\n"
	  "\n"
	  "Checks the migrations at --rev: file names, duplicate versions,\n"
	  "directives, unreadable or non-UTF-8 files, missing down files where\n"
	  "the environment requires them, and lint rules.  With --base REV, also\n"
	  "migrations edited or deleted since REV and new migrations numbered\n"
	  "below the highest at REV (out-of-order).  When the environment's\n"
	  "database is reachable, also drift and missing migrations (--no-db\n"
	  "skips this).  With --shadow, applies the whole chain to a throwaway\n"
	  "database.  Exits 1 when an error is found.\n"
	  "\n"
	  "  --all-targets   validate against every target of the environment\n"
	  "  --parallel N    targets at a time (default 4)\n"
	  "  --canary K      the first K targets first; the rest if they pass\n"
	  "  --keep-going    start the other targets after a failure\n", 0 },
	{ "plan", cmd_plan, "what migrate would do, or the migrations between two revisions",
	  "cairn plan [A..B] [--locks] [--no-db] [--format text|json|markdown]\n"
	  "\n"
	  "With a range, lists the migrations added, changed or removed between\n"
	  "revisions A and B (tags, branches, SHAs) with version, name, commit,\n"
	  "author and date; --format markdown writes release notes.  Without a\n"
	  "range, lists what `cairn migrate up` would apply to the environment's\n"
	  "database.\n"
	  "\n"
	  "  --locks   under each migration, every statement with the lock it\n"
	  "            takes (ACCESS EXCLUSIVE, SHARE, ...), its tables, whether\n"
	  "            it rewrites or scans them, and with a database each\n"
	  "            table's size and the sessions using it now\n"
	  "  --no-db   ask no database: no sizes; without a range, every\n"
	  "            migration at --rev is shown (needs --locks)\n", 0 },
	{ "migrate", cmd_migrate, "apply or roll back migrations through the pipeline",
	  "cairn migrate up [--to V] [--dry-run] [--single-transaction] [--yes]\n"
	  "                 [--lock-timeout DURATION] [--no-retry] [--meta K=V]...\n"
	  "cairn migrate up --all-targets [--parallel N] [--canary K] [--keep-going] ...\n"
	  "cairn migrate down [--steps N | --to V] [--as-far-as-possible] [--dry-run] [--yes]\n"
	  "                   [--no-retry]\n"
	  "\n"
	  "up applies the pending migrations at --rev in version order, each in\n"
	  "its own transaction with its tracking and audit rows, firing the hook\n"
	  "pipeline.  down rolls back the last N applied migrations (default 1)\n"
	  "or every migration above V, using their down files.\n"
	  "\n"
	  "  --to V                 stop after version V (up) or roll back to V (down)\n"
	  "  --steps N              roll back N migrations (down)\n"
	  "  --as-far-as-possible   roll back down to the first migration in range\n"
	  "                         that has no down file (down)\n"
	  "  --dry-run              print the plan and the hooks that would fire\n"
	  "  --single-transaction   apply all pending migrations in one transaction\n"
	  "  --yes                  do not ask for confirmation\n"
	  "  --lock-timeout D       wait at most D for the deploy lock (default 60s)\n"
	  "  --no-retry             a migration that hits its lock timeout fails at\n"
	  "                         once (default: lock_retries more tries)\n"
	  "  --meta K=V             metadata passed to hooks and audit rows\n"
	  "  --all-targets          run on every target of the environment (fleets)\n"
	  "  --parallel N           targets at a time (default 4)\n"
	  "  --canary K             the first K targets first; the rest only if\n"
	  "                         they all succeed\n"
	  "  --keep-going           start the other targets after a failure\n", 0 },
	{ "repair", cmd_repair, "re-record a checksum or clear a failed row (audited)",
	  "cairn repair --accept V | --resolve V [--yes]\n"
	  "\n"
	  "  --accept V    record the checksum of V's file at --rev as applied\n"
	  "                (after an intended edit of an applied migration)\n"
	  "  --resolve V   clear the failed or running row of V, after you have\n"
	  "                checked the database by hand\n", 0 },
	{ "baseline", cmd_baseline, "record migrations up to a version as applied without running them",
	  "cairn baseline VERSION [--reason TEXT] [--dry-run] [--yes]\n"
	  "\n"
	  "For a database that already has the schema of every migration up to\n"
	  "VERSION: records them as applied without running them, with the\n"
	  "commit and author that brought each, audited as `baselined`.\n"
	  "Refused when cairn's tracking table already has rows.\n"
	  "\n"
	  "  --reason TEXT   why, recorded in the audit rows\n"
	  "  --dry-run       list what would be recorded\n"
	  "  --yes           do not ask for confirmation\n", 0 },
	{ "import", cmd_import, "take over a database from another tool's history",
	  "cairn import golang-migrate|dbmate|flyway|sqitch [--dry-run] [--yes]\n"
	  "\n"
	  "Reads the tool's history table (left untouched), matches it to the\n"
	  "migrations at --rev and records them as applied, with the tool's own\n"
	  "who and when, audited as `imported`.  Refused, listing them, when the\n"
	  "history names migrations the revision lacks or skipped some below\n"
	  "the last it applied, or when cairn's tracking table has rows.\n"
	  "\n"
	  "  --dry-run   show the mapping\n"
	  "  --yes       do not ask for confirmation\n", 0 },
	{ "audit", cmd_audit, "show, verify, export or anchor the audit trail",
	  "cairn audit [log] [--since TIME] [--limit N] [--format text|json]\n"
	  "cairn audit verify\n"
	  "cairn audit export [--since TIME]\n"
	  "cairn audit anchor\n"
	  "cairn audit verify|anchor --all-targets [--parallel N] [--canary K] [--keep-going]\n"
	  "\n"
	  "log shows audit rows, newest last; verify recomputes the hash chain\n"
	  "and exits 1 naming the first row that was edited, deleted or\n"
	  "reordered, and checks the MACs of a keyed chain (audit.secret_env),\n"
	  "the latest anchor and that every applied migration has its audit\n"
	  "row; export writes every row as JSON lines; anchor records the\n"
	  "chain's head as a commit on refs/cairn/audit/<environment> (and in\n"
	  "audit.anchor_file).  See doc/audit.md.\n"
	  "\n"
	  "  --all-targets   verify or anchor every target of the environment;\n"
	  "                  a target's anchor is refs/cairn/audit/<env>@<target>\n"
	  "  --parallel N    targets at a time (default 4)\n"
	  "  --canary K      the first K targets first; the rest if they pass\n"
	  "  --keep-going    start the other targets after a failure\n", 0 },
	{ "lint", cmd_lint, "run the lint rules on the migrations at --rev",
	  "cairn lint [--all] [--format text|json|junit|github|gitlab] [FILE...]\n"
	  "cairn lint --list-rules | --explain RULE [--format text|json]\n", 0 },
	{ "hooks", cmd_hooks, "list the pipeline, or fire one event for a test",
	  "cairn hooks list [--format text|json]\n"
	  "cairn hooks run EVENT [--migration V]\n"
	  "\n"
	  "list prints the hooks registered for each event, in the order they\n"
	  "run.  run fires one event with a synthetic context.\n", 0 },
	{ "githooks", cmd_githooks, "install, remove or inspect the git hook shims",
	  "cairn githooks install | uninstall | status\n",
	  CLI_CONFIG_WORKTREE },
	{ "githook", cmd_githook, "what a git hook shim calls",
	  "cairn githook pre-push REMOTE URL\n"
	  "cairn githook post-merge SQUASH\n"
	  "cairn githook post-checkout OLD NEW BRANCH\n"
	  "cairn githook post-rewrite amend|rebase\n",
	  CLI_CONFIG_WORKTREE },
	{ "dev-db", cmd_dev_db, "manage the built-in development database",
	  "cairn dev-db start | stop | status | url\n"
	  "\n"
	  "A private PostgreSQL cluster under .cairn/pg/ in the repository,\n"
	  "reached through a unix socket only.\n",
	  CLI_CONFIG_WORKTREE },
	{ "help", cmd_help, "show help for a command",
	  "cairn help [COMMAND | --man]\n"
	  "\n"
	  "  --man   show the manual page (also from a build tree)\n", 0 },
	{ "version", cmd_version, "print the version",
	  "cairn version\n", 0 },
	{ NULL, NULL, NULL, NULL, 0 }
};

const struct cli_command *cli_find_command(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void main_usage(FILE *f)
{
	fputs("usage: cairn [-C DIR] [--config FILE] [--env NAME] [--rev REV] [--worktree]\n"
	      "             [--db URL] [--format FMT] [-q] [-v] [--no-color]\n"
	      "             COMMAND [ARGS]\n"
	      "\n"
	      "cairn reads PostgreSQL migrations from git, validates them, applies them\n"
	      "through one hook pipeline and records a tamper-evident audit trail.\n"
	      "\n"
	      "Commands:\n", f);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs("\n"
	      "Global options:\n"
	      "  -C DIR           run as if started in DIR\n"
	      "  --config FILE    configuration file (default: cairn.yaml at --rev, or in the\n"
	      "                   working tree with --worktree)\n"
	      "  --env NAME       environment (default: $CAIRN_ENV or development)\n"
	      "  --rev REV        git revision to read migrations from (default: HEAD)\n"
	      "  --worktree       read the working tree instead (development only)\n"
	      "  --db URL         database URL (overrides the environment's database_url)\n"
	      "  --format FMT     text or json; junit, github, gitlab, markdown where they fit\n"
	      "  -q, --quiet      only errors\n"
	      "  -v, --verbose    more detail\n"
	      "  --no-color       no colour (also NO_COLOR, TERM=dumb)\n"
	      "  -h, --help       this text; `cairn help COMMAND` for a command\n"
	      "  --version        print the version\n"
	      "\n"
	      "Exit codes: 0 ok; 1 validation failed, a hook vetoed or a migration failed;\n"
	      "2 usage or configuration error; 3 database unreachable, or it cannot take a\n"
	      "deploy (a standby, read-only, or behind a transaction-mode pooler);\n"
	      "4 lock not acquired; 5 git error; 130 interrupted.\n", f);
}

int cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *c;

	if (argc < 2) {
		main_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--man"))
		return cli_show_man(cli);
	c = cli_find_command(argv[1]);
	if (!c) {
		cli_errorf(cli, "unknown command '%s'", argv[1]);
		cli_hintf(cli, "run 'cairn help' for the list of commands");
		return CLI_EXIT_USAGE;
	}
	cli_usage(c, stdout);
	printf("\nSee 'man cairn' for the whole manual.\n");
	return CLI_EXIT_OK;
}

int cmd_version(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	printf("cairn %s\n", cairn_version());
	return CLI_EXIT_OK;
}

static void cli_init_defaults(struct cli *cli)
{
	const char *term = getenv("TERM");
	const char *env = getenv("CAIRN_ENV");

	memset(cli, 0, sizeof(*cli));
	cli->rev = "HEAD";
	cli->env_name = env && *env ? env : "development";
	cli->stdout_tty = isatty(1);
	cli->stderr_tty = isatty(2);
	cli->stdin_tty = isatty(0);
	cli->color = !getenv("NO_COLOR") && !(term && !strcmp(term, "dumb"));
}

static void cli_dispose(struct cli *cli)
{
	cairn_config_free(cli->cfg);
	free(cli->config_origin);
	cairn_repo_free(cli->repo);
	free(cli->workdir);
}

int main(int argc, char **argv)
{
	struct cli cli;
	const struct cli_command *cmd;
	int rc, first;

	cli_init_defaults(&cli);
	/* global options before the command */
	rc = cli_parse_options(&cli, NULL, argc, argv, NULL, "", NULL, NULL,
			       &first);
	if (rc == -1) {
		main_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (rc == -2) {
		printf("cairn %s\n", cairn_version());
		return CLI_EXIT_OK;
	}
	if (rc)
		return rc;
	if (first >= argc) {
		main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	cmd = cli_find_command(argv[first]);
	if (!cmd) {
		cli_errorf(&cli, "'%s' is not a cairn command", argv[first]);
		cli_hintf(&cli, "run 'cairn help' for the list of commands");
		return CLI_EXIT_USAGE;
	}
	cli.config_worktree = (cmd->flags & CLI_CONFIG_WORKTREE) != 0;
	rc = cmd->fn(&cli, argc - first, argv + first);
	fflush(stdout);
	cli_dispose(&cli);
	return rc;
}
