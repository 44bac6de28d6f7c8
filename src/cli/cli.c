/*
 * cli.c - shared machinery of the cairn program: messages, option
 * parsing (global options mixed with a command's own), lazily opened
 * repository/configuration/environment, and error reporting with exit
 * codes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "config_rev.h"
#include "util/util.h"

enum {
	OPT_CONFIG = 0x1000,
	OPT_ENV,
	OPT_REV,
	OPT_WORKTREE,
	OPT_DB,
	OPT_FORMAT,
	OPT_NO_COLOR,
	OPT_VERSION,
};

static const struct option global_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "rev", required_argument, NULL, OPT_REV },
	{ "worktree", no_argument, NULL, OPT_WORKTREE },
	{ "db", required_argument, NULL, OPT_DB },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "no-colour", no_argument, NULL, OPT_NO_COLOR },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
};

#define N_GLOBAL (sizeof(global_opts) / sizeof(global_opts[0]))

/*
 * Every message goes through here: the text is formatted first, then
 * escaped (cairn__escape_text, newlines kept), because its arguments are
 * often text from outside (names, server errors, hook output).
 */
static void vmsg(struct cli *cli, const char *prefix, const char *color,
		 const char *fmt, va_list ap)
{
	const char *on = cli_color(cli, stderr, color);
	char *text = NULL, *safe = NULL;

	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	if (text)
		safe = cairn__escape_text(text, strlen(text),
					  CAIRN_ESCAPE_MULTILINE);
	fputs(on, stderr);
	fputs(prefix, stderr);
	if (*on)
		fputs(cli_reset(cli, stderr), stderr);
	fputs(safe ? safe : "(out of memory)", stderr);
	fputc('\n', stderr);
	free(text);
	free(safe);
}

void cli_errorf(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cli, "cairn: ", "1;31", fmt, ap);
	va_end(ap);
}

void cli_warnf(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->verbosity < 0)
		return;
	va_start(ap, fmt);
	vmsg(cli, "cairn: warning: ", "1;33", fmt, ap);
	va_end(ap);
}

void cli_notef(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->verbosity < 0)
		return;
	va_start(ap, fmt);
	vmsg(cli, "cairn: ", "", fmt, ap);
	va_end(ap);
}

void cli_verbosef(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg(cli, "cairn: ", "2", fmt, ap);
	va_end(ap);
}

void cli_detailf(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cli, "DETAIL: ", "", fmt, ap);
	va_end(ap);
}

void cli_hintf(struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cli, "HINT: ", "36", fmt, ap);
	va_end(ap);
}

const char *cli_color(struct cli *cli, FILE *f, const char *code)
{
	static char buf[32];
	bool tty = f == stdout ? cli->stdout_tty : cli->stderr_tty;

	if (!cli->color || !tty || !code || !*code)
		return "";
	snprintf(buf, sizeof(buf), "\033[%sm", code);
	return buf;
}

const char *cli_reset(struct cli *cli, FILE *f)
{
	bool tty = f == stdout ? cli->stdout_tty : cli->stderr_tty;

	return cli->color && tty ? "\033[0m" : "";
}

int cli_exit_code(const cairn_error *e)
{
	if (!e)
		return CLI_EXIT_FAIL;
	switch (e->klass) {
	case CAIRN_ERRCLASS_USAGE:
	case CAIRN_ERRCLASS_CONFIG:
		return CLI_EXIT_USAGE;
	case CAIRN_ERRCLASS_GIT:
		return CLI_EXIT_GIT;
	case CAIRN_ERRCLASS_DB:
		return CLI_EXIT_DB;
	case CAIRN_ERRCLASS_LOCK:
		return CLI_EXIT_LOCK;
	case CAIRN_ERRCLASS_INTERRUPTED:
		return CLI_EXIT_INTERRUPTED;
	default:
		return CLI_EXIT_FAIL;
	}
}

int cli_report_error(struct cli *cli)
{
	const cairn_error *e = cairn_error_last();

	if (!e) {
		cli_errorf(cli, "unexpected failure");
		return CLI_EXIT_FAIL;
	}
	cli_errorf(cli, "%s", e->message);
	if (e->detail)
		cli_detailf(cli, "%s", e->detail);
	if (e->hint)
		cli_hintf(cli, "%s", e->hint);
	return cli_exit_code(e);
}

/*
 * "usage: " before the synopsis; its continuation lines (up to the first
 * blank line) are indented to line up under it, as man pages do.
 */
void cli_usage(const struct cli_command *cmd, FILE *f)
{
	const char *p = cmd->usage;
	bool synopsis = true;

	fputs("usage: ", f);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (p != cmd->usage && synopsis) {
			if (len == 1)
				synopsis = false;
			else
				fputs("       ", f);
		}
		fwrite(p, 1, len, f);
		p += len;
	}
}

int cli_usage_error(struct cli *cli, const struct cli_command *cmd,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cli, "cairn: ", "1;31", fmt, ap);
	va_end(ap);
	if (cmd)
		cli_usage(cmd, stderr);
	return CLI_EXIT_USAGE;
}

int cli_set_format(struct cli *cli, const char *value)
{
	static const struct {
		const char *name;
		cli_format fmt;
	} formats[] = {
		{ "text", CLI_FORMAT_TEXT }, { "json", CLI_FORMAT_JSON },
		{ "junit", CLI_FORMAT_JUNIT }, { "github", CLI_FORMAT_GITHUB },
		{ "markdown", CLI_FORMAT_MARKDOWN },
		{ "gitlab", CLI_FORMAT_GITLAB },
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!strcmp(formats[i].name, value)) {
			cli->format = formats[i].fmt;
			cli->format_given = true;
			return 0;
		}
	}
	cli_errorf(cli, "unknown format '%s'", value);
	cli_hintf(cli, "use text, json, junit, github, gitlab or markdown");
	return CLI_EXIT_USAGE;
}

static int global_option(struct cli *cli, int c, const char *arg)
{
	switch (c) {
	case 'C':
		if (chdir(arg) < 0) {
			cli_errorf(cli, "cannot change to directory '%s': %s",
				   arg, strerror(errno));
			return CLI_EXIT_USAGE;
		}
		cli->dir = arg;
		return 0;
	case OPT_CONFIG:
		cli->config_path = arg;
		return 0;
	case OPT_ENV:
		cli->env_name = arg;
		return 0;
	case OPT_REV:
		cli->rev = arg;
		cli->rev_given = true;
		return 0;
	case OPT_WORKTREE:
		cli->worktree = true;
		return 0;
	case OPT_DB:
		cli->db_url = arg;
		return 0;
	case OPT_FORMAT:
		return cli_set_format(cli, arg);
	case 'q':
		cli->verbosity = -1;
		return 0;
	case 'v':
		if (cli->verbosity < 0)
			cli->verbosity = 0;
		cli->verbosity++;
		return 0;
	case OPT_NO_COLOR:
		cli->color = false;
		return 0;
	}
	return CLI_EXIT_USAGE;
}

int cli_parse_options(struct cli *cli, const struct cli_command *cmd,
		      int argc, char **argv, const struct option *opts,
		      const char *shortopts, cli_option_cb cb, void *payload,
		      int *first_arg)
{
	struct option all[64];
	char shorts[64];
	size_t n = 0;
	int c, rc;

	/* a command's own option wins over a global one of the same name
	 * (cairn new --version V; cairn --version prints cairn's) */
	for (size_t i = 0; opts && opts[i].name && n < 63 - N_GLOBAL; i++)
		all[n++] = opts[i];
	for (size_t i = 0; i < N_GLOBAL; i++)
		all[n++] = global_opts[i];
	memset(&all[n], 0, sizeof(all[n]));
	/*
	 * Before the command, '+' stops at the first non-option (the
	 * command's name); a command's own options may come before or after
	 * its positional arguments.
	 */
	snprintf(shorts, sizeof(shorts), "%sC:qvh%s", cmd ? "" : "+",
		 shortopts ? shortopts : "");

	optind = 0; /* full reset of getopt's state */
	opterr = 0;
	for (;;) {
		int longindex = -1;

		c = getopt_long(argc, argv, shorts, all, &longindex);
		if (c == -1)
			break;
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (optopt && optopt < 0x1000 && optopt > ' ')
				cli_errorf(cli, "option '-%c' %s", optopt,
					   c == ':' ? "needs a value" :
					   "is not known here");
			else
				cli_errorf(cli, "option '%s' %s", bad,
					   strchr(bad, '=') || c == '?' ?
					   "is not known here or needs a value" :
					   "needs a value");
			if (cmd)
				cli_usage(cmd, stderr);
			else
				cli_hintf(cli, "run 'cairn help' for the options");
			return CLI_EXIT_USAGE;
		}
		if (c == 'h') {
			if (cmd) {
				cli_usage(cmd, stdout);
				return -1;
			}
			return -1;
		}
		if (c == OPT_VERSION)
			return -2;
		if (c == 'C' || (c >= OPT_CONFIG && c <= OPT_NO_COLOR) ||
		    c == 'q' || c == 'v') {
			rc = global_option(cli, c, optarg);
			if (rc)
				return rc;
			continue;
		}
		if (!cb)
			return CLI_EXIT_USAGE;
		rc = cb(cli, c, optarg, payload);
		if (rc)
			return rc;
	}
	*first_arg = optind;
	return 0;
}

int cli_repo(struct cli *cli, cairn_repo **out)
{
	if (!cli->repo) {
		if (cairn_repo_open(&cli->repo, ".") < 0)
			return cli_report_error(cli);
	}
	*out = cli->repo;
	return 0;
}

static int set_origin(struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int set_origin(struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	int n;

	free(cli->config_origin);
	va_start(ap, fmt);
	n = vasprintf(&cli->config_origin, fmt, ap);
	va_end(ap);
	if (n < 0) {
		cli->config_origin = NULL;
		cli_errorf(cli, "out of memory");
		return CLI_EXIT_FAIL;
	}
	return 0;
}

/* <work tree>/cairn.yaml, or NULL for a bare repository. */
static char *worktree_config_path(cairn_repo *repo)
{
	const char *wd = cairn_repo_workdir(repo);
	char *path = NULL;

	if (wd && asprintf(&path, "%scairn.yaml", wd) < 0)
		path = NULL;
	return path;
}

/* The working tree's cairn.yaml, or the defaults when there is none. */
static int config_from_worktree(struct cli *cli, cairn_repo *repo)
{
	char *path = worktree_config_path(repo);
	int rc = path ? cairn_config_load(&cli->cfg, path, NULL)
		      : CAIRN_ENOTFOUND;

	free(path);
	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear();
		if (cairn_config_default(&cli->cfg) < 0)
			return cli_report_error(cli);
		return set_origin(cli, "built-in defaults (no cairn.yaml in the working tree)");
	}
	if (rc < 0)
		return cli_report_error(cli);
	return set_origin(cli, "cairn.yaml in the working tree");
}

/*
 * cairn.yaml at --rev.  A revision without one gets the defaults, unless
 * the working tree has one: then the user most likely expects it to
 * apply, and silently using defaults (other hooks, another migrations
 * directory) would deploy something else than they think.
 */
static int config_from_rev(struct cli *cli, cairn_repo *repo)
{
	char commit[CAIRN_OID_HEXSZ], *path;
	bool in_worktree;
	int rc;

	cairn_error_clear(); /* "not found" below is told apart by no error */
	rc = cairn_config__load_rev(&cli->cfg, commit, repo, cli->rev, NULL);
	if (rc == 0)
		return set_origin(cli, "cairn.yaml at %s (%.12s)", cli->rev,
				  commit);
	if (rc != CAIRN_ENOTFOUND || cairn_error_last())
		return cli_report_error(cli);
	if (!commit[0]) /* HEAD is unborn: nothing is committed yet */
		return config_from_worktree(cli, repo);
	path = worktree_config_path(repo);
	in_worktree = path && access(path, F_OK) == 0;
	free(path);
	if (in_worktree) {
		cli_errorf(cli, "there is no cairn.yaml at revision '%s' (%.12s), but the working tree has one",
			   cli->rev, commit);
		cli_detailf(cli, "cairn reads the configuration from the revision whose migrations it reads, so that a deploy of a revision runs that revision's hooks.");
		cli_hintf(cli, "commit cairn.yaml; or pass --worktree to use the working tree (migrations and configuration), or --config cairn.yaml to use that file with the migrations at '%s'",
			  cli->rev);
		return CLI_EXIT_USAGE;
	}
	if (cairn_config_default(&cli->cfg) < 0)
		return cli_report_error(cli);
	return set_origin(cli, "built-in defaults (no cairn.yaml at %s (%.12s))",
			  cli->rev, commit);
}

/*
 * The configuration: --config FILE; else the working tree's with
 * --worktree (and for the commands flagged CLI_CONFIG_WORKTREE: init,
 * new, githooks, githook, dev-db); else cairn.yaml at --rev (DESIGN 12).  Where
 * it came from is kept in cli->config_origin and said with -v.
 */
int cli_config(struct cli *cli, const cairn_config **out)
{
	cairn_repo *repo = NULL;
	int rc;

	if (cli->cfg) {
		*out = cli->cfg;
		return 0;
	}
	if (cli->config_path) {
		if (cairn_config_load(&cli->cfg, cli->config_path, NULL) < 0)
			return cli_report_error(cli);
		rc = set_origin(cli, "%s (--config)", cli->config_path);
	} else {
		if ((rc = cli_repo(cli, &repo)) != 0)
			return rc;
		rc = cli->worktree || cli->config_worktree ?
			     config_from_worktree(cli, repo) :
			     config_from_rev(cli, repo);
	}
	if (rc) {
		cairn_config_free(cli->cfg);
		cli->cfg = NULL;
		return rc;
	}
	cli_verbosef(cli, "config: %s", cli->config_origin);
	*out = cli->cfg;
	return 0;
}

int cli_env(struct cli *cli, const cairn_environment **out)
{
	const cairn_config *cfg;
	int rc;

	if (!cli->env) {
		if ((rc = cli_config(cli, &cfg)) != 0)
			return rc;
		cli->env = cairn_config_environment(cfg, cli->env_name);
		if (!cli->env) {
			cli_errorf(cli, "unknown environment '%s'", cli->env_name);
			if (cfg->environments_count) {
				fprintf(stderr, "HINT: environments in %s:",
					cfg->path ? cfg->path : "the configuration");
				for (size_t i = 0; i < cfg->environments_count; i++)
					fprintf(stderr, " %s", cfg->environments[i].name);
				fputc('\n', stderr);
			}
			return CLI_EXIT_USAGE;
		}
	}
	*out = cli->env;
	return 0;
}

int cli_load_set(struct cli *cli, const char *rev, bool worktree,
		 cairn_migration_set **out)
{
	cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;
	const cairn_config *cfg;
	cairn_repo *repo = NULL;
	int rc;

	if ((rc = cli_repo(cli, &repo)) != 0 || (rc = cli_config(cli, &cfg)) != 0)
		return rc;
	opts.rev = rev ? rev : cli->rev;
	opts.worktree = rev ? false : worktree;
	opts.dir = cfg->migrations_dir;
	opts.ignore = (const char *const *)cfg->ignore;
	opts.ignore_count = cfg->ignore_count;
	opts.layout = (cairn_layout)cfg->layout;
	opts.dialect = cfg->dialect;
	if (cairn_migration_set_load(out, repo, &opts) < 0)
		return cli_report_error(cli);
	return 0;
}

char *cli_quote_path(const char *path)
{
	return path ? cairn__escape_text(path, strlen(path), 0) : NULL;
}

char *cli_quote_text(const char *text)
{
	return text ? cairn__escape_text(text, strlen(text),
					 CAIRN_ESCAPE_MULTILINE) : NULL;
}

const char *cli_q(cli_quoted *q, const char *s)
{
	char *e;

	if (!s)
		return "";
	if (q->n == CAIRN_ARRAY_SIZE(q->items))
		return "?";
	e = cli_quote_path(s);
	if (!e)
		return "?";
	q->items[q->n++] = e;
	return e;
}

void cli_quoted_release(cli_quoted *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->items[i]);
	q->n = 0;
}

int cli_print_json(json_t *value)
{
	char *s = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
					    JSON_ENSURE_ASCII);

	if (!s)
		return CLI_EXIT_FAIL;
	puts(s);
	free(s);
	return 0;
}

void cli_format_time(char *out, size_t outlen, int64_t t, int offset_min)
{
	time_t tt = (time_t)(t + (int64_t)offset_min * 60);
	struct tm tm;
	char base[32];
	int off = offset_min < 0 ? -offset_min : offset_min;

	gmtime_r(&tt, &tm);
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, outlen, "%s %c%02d%02d", base, offset_min < 0 ? '-' : '+',
		 off / 60, off % 60);
}
