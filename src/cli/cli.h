/*
 * cli.h - what the cairn program's subcommands share.
 *
 * main.c parses the global options, finds the subcommand in its table and
 * calls it with a `struct cli`.  The repository, configuration and
 * environment are opened lazily by cli_repo()/cli_config()/cli_env() so a
 * command pays only for what it uses, and so global options given after
 * the command name (`cairn validate --format json`) are honoured.
 *
 * Exit codes (DESIGN section 7) are the CLI_EXIT_* values; a library
 * error becomes one through cli_exit_code().
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/hook.h"
#include "cairn/migration.h"
#include "cairn/repo.h"

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_DB = 3,
	CLI_EXIT_LOCK = 4,
	CLI_EXIT_GIT = 5,
	CLI_EXIT_INTERRUPTED = 130
};

typedef enum {
	CLI_FORMAT_TEXT = 0,
	CLI_FORMAT_JSON,
	CLI_FORMAT_JUNIT,
	CLI_FORMAT_GITHUB,
	CLI_FORMAT_MARKDOWN,
	CLI_FORMAT_GITLAB
} cli_format;

struct cli {
	/* global options */
	const char *dir;          /* -C */
	const char *config_path;  /* --config */
	const char *env_name;     /* --env, $CAIRN_ENV, "development" */
	const char *rev;          /* --rev, "HEAD" */
	bool rev_given;
	bool worktree;
	const char *db_url;       /* --db */
	cli_format format;
	bool format_given;
	int verbosity;            /* -1 quiet, 0 normal, 1+ verbose */
	bool color;               /* stderr/stdout colour allowed */
	bool stdout_tty;
	bool stderr_tty;
	bool stdin_tty;

	/* set from the command's table entry (CLI_CONFIG_WORKTREE) */
	bool config_worktree;     /* the command works on the working tree */

	/* opened lazily */
	cairn_repo *repo;
	cairn_config *cfg;
	/*
	 * Where cfg came from, for -v and the audit row: "cairn.yaml at v1
	 * (1a2b3c4d5e6f)", "cairn.yaml in the working tree", "FILE
	 * (--config)" or "built-in defaults (...)".
	 */
	char *config_origin;
	const cairn_environment *env;
	char *workdir;            /* repository work tree, or cwd */
};

/* cli_command.flags */
enum {
	/*
	 * reads cairn.yaml from the working tree, not from --rev: commands
	 * that work on the working tree (init, new, dev-db) and the git hook
	 * commands, which run inside a developer's clone, as git's own hooks
	 * do
	 */
	CLI_CONFIG_WORKTREE = 1u << 0,
};

struct cli_command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *summary;
	const char *usage; /* synopsis and options, man-page style */
	unsigned flags;    /* CLI_CONFIG_WORKTREE */
};

extern const struct cli_command cli_commands[];
const struct cli_command *cli_find_command(const char *name);

/* Messages on stderr, prefixed "cairn: ", honouring -q. */
void cli_errorf(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_warnf(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_notef(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_verbosef(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_hintf(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "DETAIL: ..." on stderr (not silenced by -q, like errors). */
void cli_detailf(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Prints the library's last error (primary, DETAIL:, HINT:) and returns
 * the exit code for it.
 */
int cli_report_error(struct cli *cli);
int cli_exit_code(const cairn_error *e);

/* ANSI colour when allowed: cli_color(cli, stdout, "1;31") or "" */
const char *cli_color(struct cli *cli, FILE *f, const char *code);
const char *cli_reset(struct cli *cli, FILE *f);

/*
 * Parses a command's options together with the global ones.  `opts` is
 * the command's own table (terminated by a zero entry), `shortopts` its
 * short options.  For each command option, cb(cli, c, optarg, payload)
 * is called and returns 0 or an exit code.  On return *first_arg is the
 * index of the first positional argument.  Returns 0 or an exit code
 * (--help prints the usage and returns -1: the caller exits 0).
 */
typedef int (*cli_option_cb)(struct cli *cli, int c, const char *arg,
			     void *payload);
int cli_parse_options(struct cli *cli, const struct cli_command *cmd,
		      int argc, char **argv, const struct option *opts,
		      const char *shortopts, cli_option_cb cb, void *payload,
		      int *first_arg);
/* Prints "usage: ..." for cmd on f. */
void cli_usage(const struct cli_command *cmd, FILE *f);
/* Reports a usage error for cmd and returns CLI_EXIT_USAGE. */
int cli_usage_error(struct cli *cli, const struct cli_command *cmd,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Lazily opened state; 0 or an exit code (after reporting). */
int cli_repo(struct cli *cli, cairn_repo **out);
int cli_config(struct cli *cli, const cairn_config **out);
int cli_env(struct cli *cli, const cairn_environment **out);
/* Loads the migration set at rev (NULL: --rev/--worktree). */
int cli_load_set(struct cli *cli, const char *rev, bool worktree,
		 cairn_migration_set **out);

/*
 * Text from outside (file names, author names and e-mails, commit
 * messages, server errors, hook output) never reaches a terminal raw.
 * Everything the program prints for people goes through these, which all
 * use the library's one escaping, cairn__escape_text() (src/util.h):
 * control characters and bytes that are not UTF-8 become \xNN.  The
 * cli_*f message functions above escape what they format themselves.
 *
 * cli_quote_path: one line (newlines escaped too); cli_quote_text: keeps
 * newlines and tabs.  Both return a new string (NULL: out of memory or
 * NULL in).
 */
char *cli_quote_path(const char *path);
char *cli_quote_text(const char *text);

/*
 * Escaped copies for one printf: cli_q(&q, s) returns an escaped copy of
 * s ("" for NULL) that lives until cli_quoted_release(&q).  Holds up to
 * 16 strings per release ("?" beyond that or when out of memory).
 */
typedef struct {
	char *items[16];
	size_t n;
} cli_quoted;
#define CLI_QUOTED_INIT { { NULL }, 0 }
const char *cli_q(cli_quoted *q, const char *s);
void cli_quoted_release(cli_quoted *q);

/* Prints a JSON value (jansson json_t *) on stdout with a newline. */
struct json_t;
int cli_print_json(struct json_t *value);

/* Parses a --format value valid for the command; 0 or an exit code. */
int cli_set_format(struct cli *cli, const char *value);

/*
 * Fires one event of pipeline p with a context built as a run builds it:
 * environment, a new run id, the actor, the deploy revision (set's commit;
 * --rev resolved when set is NULL; "worktree"), metadata, migration m
 * (may be NULL), db (may be NULL: sql hooks then fail), `planned`, and
 * hook output through cli_log_line.  obs (may be NULL) sees each hook's
 * outcome.  Returns 0 when the hooks let the command go on, -1 when one
 * vetoed (cairn_error_last() says which and why; not yet reported), or an
 * exit code after reporting a set-up failure.  (cmd_hooks.c)
 */
int cli_fire_event(struct cli *cli, cairn_pipeline *p, cairn_event ev,
		   const cairn_migration_set *set, const cairn_migration *m,
		   cairn_db *db, size_t planned, cairn_hook_observer obs,
		   void *obs_payload);

/* `cairn help --man`: execs man on the page (man.c); returns on failure. */
int cli_show_man(struct cli *cli);

/* Formats a time (seconds since the epoch, offset in minutes). */
void cli_format_time(char *out, size_t outlen, int64_t t, int offset_min);

#endif
