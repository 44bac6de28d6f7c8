/*
 * cmd_githooks.c - `cairn githooks install | uninstall | status`: the
 * git hook shims (DESIGN section 8).
 *
 * The shims are short POSIX sh scripts (githooks/ in the source tree is
 * their readable copy; tests/integration/check_githooks.c checks that the
 * files there are exactly what install writes).  Their text is compiled
 * in below, with @HOOK@ standing for the hook's name, so an installed
 * cairn needs no data files.  The second line, "# cairn-githook v1",
 * marks a hook as ours.
 *
 * Where: git's own rule (`git rev-parse --git-path hooks`): core.hooksPath
 * when set ("~/" expanded; relative to the work tree root, or to the git
 * directory of a bare repository), else the hooks directory of the common
 * git directory, which linked worktrees share.  libgit2 1.5's
 * GIT_REPOSITORY_ITEM_HOOKS ignores core.hooksPath, so it is read here.
 *
 * install, per hook (pre-push, post-merge, post-checkout, post-rewrite):
 *   no hook             write the shim (mode 0755)
 *   our shim            nothing ("already installed"), or rewrite it if
 *                       an older cairn wrote another text
 *   another hook        rename it to <hook>.cairn-chained and write the
 *                       shim, which runs it first; refused when that name
 *                       is taken already
 * Files are written to a temporary name and renamed into place.
 * uninstall removes our shims and renames <hook>.cairn-chained back;
 * another tool's hook is left alone.  status tells, per hook: installed,
 * installed and chaining, not installed, or a foreign hook.
 *
 * Exit status: 0; 1 when a hook could not be installed or removed; 2 for
 * usage errors; 5 outside a git repository.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "util/buf.h"
#include "util/fileio.h"

#define MARKER "# cairn-githook v"
#define CHAINED_SUFFIX ".cairn-chained"

static const char *const hook_names[] = {
	"pre-push", "post-merge", "post-checkout", "post-rewrite",
};

#define N_HOOKS (sizeof(hook_names) / sizeof(hook_names[0]))

/* githooks/<name> with @HOOK@ for the name; keep the two identical. */
static const char shim_template[] =
	"#!/bin/sh\n"
	"# cairn-githook v1\n"
	"#\n"
	"# The @HOOK@ hook of cairn, put here by `cairn githooks install`.  A hook\n"
	"# that was here before was kept as @HOOK@.cairn-chained: it runs first,\n"
	"# with the same arguments and the same standard input, and git stops if\n"
	"# it fails.  Then `cairn githook @HOOK@` runs.  `cairn githooks uninstall`\n"
	"# removes this file and puts the old hook back.\n"
	"#\n"
	"# cairn is $CAIRN_BIN, else `cairn` on PATH; without it the check is\n"
	"# skipped with a note and git goes on.  CAIRN_SKIP=1 skips the check.\n"
	"hook=@HOOK@\n"
	"chained=\"$0.cairn-chained\"\n"
	"if [ -f \"$chained\" ] && [ -x \"$chained\" ]; then\n"
	"\t# both hooks read the same input: keep it in a file opened twice\n"
	"\t# (two descriptors, each reading from the start), then drop the name\n"
	"\ttmp=$(mktemp \"${TMPDIR:-/tmp}/cairn-$hook.XXXXXX\") || exit 1\n"
	"\tif ! cat >\"$tmp\"; then\n"
	"\t\trm -f \"$tmp\"\n"
	"\t\texit 1\n"
	"\tfi\n"
	"\texec 3<\"$tmp\" 4<\"$tmp\"\n"
	"\trm -f \"$tmp\"\n"
	"\t\"$chained\" \"$@\" <&3 3<&- 4<&- || exit $?\n"
	"\texec <&4 3<&- 4<&-\n"
	"fi\n"
	"if [ \"${CAIRN_SKIP:-}\" = 1 ]; then\n"
	"\techo \"cairn: CAIRN_SKIP=1; skipping the $hook check\" >&2\n"
	"\texit 0\n"
	"fi\n"
	"cairn=${CAIRN_BIN:-$(command -v cairn 2>/dev/null)}\n"
	"if [ -z \"$cairn\" ] || [ ! -x \"$cairn\" ]; then\n"
	"\techo \"cairn: not found; skipping the $hook check (set CAIRN_BIN or install cairn)\" >&2\n"
	"\texit 0\n"
	"fi\n"
	"exec \"$cairn\" githook \"$hook\" \"$@\"\n";

/* The shim for one hook; caller frees. */
static char *shim_text(const char *hook)
{
	size_t hl = strlen(hook), n = 0, len = 0;
	const char *p;
	char *out, *o;

	for (p = shim_template; (p = strstr(p, "@HOOK@")); p += 6)
		n++;
	len = sizeof(shim_template) - 1 + n * hl - n * 6;
	out = malloc(len + 1);
	if (!out)
		return NULL;
	for (o = out, p = shim_template; *p;) {
		const char *at = strstr(p, "@HOOK@");
		size_t k = at ? (size_t)(at - p) : strlen(p);

		memcpy(o, p, k);
		o += k;
		p += k;
		if (!at)
			break;
		memcpy(o, hook, hl);
		o += hl;
		p += 6;
	}
	*o = '\0';
	return out;
}

/*
 * Reads a whole (small) file, at most max bytes of it; NULL when it
 * cannot.  Caller frees.
 */
static char *read_small(const char *path, size_t max)
{
	cairn_buf b = CAIRN_BUF_INIT;
	char *text = NULL;

	if (cairn__file_read(AT_FDCWD, path, 0, max, &b) == 0 ||
	    errno == EFBIG)
		text = cairn_buf_detach(&b);
	cairn_buf_dispose(&b);
	return text;
}

enum hook_state {
	HOOK_ABSENT = 0,
	HOOK_OURS,         /* our shim, as this cairn writes it */
	HOOK_OURS_OTHER,   /* our marker, another text (older cairn) */
	HOOK_FOREIGN
};

static enum hook_state hook_state(const char *path, const char *hook)
{
	struct stat st;
	char *text, *want;
	enum hook_state s;

	if (lstat(path, &st) < 0)
		return HOOK_ABSENT;
	if (!S_ISREG(st.st_mode))
		return HOOK_FOREIGN;
	text = read_small(path, 64 * 1024);
	if (!text)
		return HOOK_FOREIGN;
	if (strncmp(text, "#!", 2) != 0 || !strstr(text, "\n" MARKER)) {
		free(text);
		return HOOK_FOREIGN;
	}
	want = shim_text(hook);
	s = want && !strcmp(text, want) ? HOOK_OURS : HOOK_OURS_OTHER;
	free(want);
	free(text);
	return s;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
	char *p = strdup(dir), *s;
	int rc = 0;

	if (!p)
		return -1;
	for (s = p + 1; *s && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* Writes the shim for hook at path (temporary file, then rename). */
static int write_shim(struct cli *cli, const char *path, const char *hook)
{
	char *text = shim_text(hook);
	int rc = -1;

	if (!text) {
		cli_errorf(cli, "out of memory");
		return -1;
	}
	if (cairn__file_replace(AT_FDCWD, path, text, strlen(text), 0755,
				CAIRN_FILE_EXACT_MODE) < 0)
		cli_errorf(cli, "cannot write '%s': %s", path, strerror(errno));
	else
		rc = 0;
	free(text);
	return rc;
}

/*
 * The hooks directory, as `git rev-parse --git-path hooks` gives it,
 * without a trailing slash.  Caller frees *out.
 */
static int hooks_dir(struct cli *cli, char **out)
{
	cairn_repo *repo;
	char *value = NULL, *dir = NULL;
	const char *base;
	size_t n;
	int rc;

	*out = NULL;
	if ((rc = cli_repo(cli, &repo)))
		return rc;
	if (cairn_repo_config_string(&value, repo, "core.hooksPath") < 0)
		return cli_report_error(cli);
	if (value && *value) {
		const char *home = getenv("HOME");

		if (value[0] == '~' && (value[1] == '/' || !value[1]) && home)
			rc = asprintf(&dir, "%s%s", home, value + 1);
		else if (value[0] == '/')
			rc = asprintf(&dir, "%s", value);
		else {
			base = cairn_repo_workdir(repo);
			if (!base)
				base = cairn_repo_gitdir(repo);
			rc = asprintf(&dir, "%s%s%s", base,
				      base[strlen(base) - 1] == '/' ? "" : "/",
				      value);
		}
	} else {
		base = cairn_repo_commondir(repo);
		rc = asprintf(&dir, "%s%shooks", base,
			      base[strlen(base) - 1] == '/' ? "" : "/");
	}
	free(value);
	if (rc < 0) {
		cli_errorf(cli, "out of memory");
		return CLI_EXIT_FAIL;
	}
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	*out = dir;
	return 0;
}

struct paths {
	char *hook;
	char *chained;
};

static int hook_paths(struct paths *p, const char *dir, const char *name)
{
	p->hook = p->chained = NULL;
	if (asprintf(&p->hook, "%s/%s", dir, name) < 0) {
		p->hook = NULL;
		return -1;
	}
	if (asprintf(&p->chained, "%s/%s" CHAINED_SUFFIX, dir, name) < 0) {
		p->chained = NULL;
		return -1;
	}
	return 0;
}

static void paths_dispose(struct paths *p)
{
	free(p->hook);
	free(p->chained);
}

static void say(struct cli *cli, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct cli *cli, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cli->verbosity < 0)
		return;
	printf("%-14s ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int install_one(struct cli *cli, const char *dir, const char *name)
{
	struct paths p;
	enum hook_state s;
	int rc = -1;

	if (hook_paths(&p, dir, name) < 0) {
		cli_errorf(cli, "out of memory");
		goto out;
	}
	s = hook_state(p.hook, name);
	switch (s) {
	case HOOK_OURS:
		if (exists(p.chained))
			say(cli, name, "already installed, chaining %s"
				       CHAINED_SUFFIX, name);
		else
			say(cli, name, "already installed");
		rc = 0;
		break;
	case HOOK_OURS_OTHER:
	case HOOK_ABSENT:
		if (write_shim(cli, p.hook, name) < 0)
			break;
		if (s == HOOK_OURS_OTHER)
			say(cli, name, "updated");
		else if (exists(p.chained))
			say(cli, name, "installed, chaining %s" CHAINED_SUFFIX,
			    name);
		else
			say(cli, name, "installed");
		rc = 0;
		break;
	case HOOK_FOREIGN:
		if (exists(p.chained)) {
			cli_errorf(cli, "cannot install the %s hook: '%s' already exists",
				   name, p.chained);
			cli_hintf(cli, "cairn keeps the hook that is there as %s" CHAINED_SUFFIX
				       "; move that file away (or merge the two hooks by hand) and run cairn githooks install again",
				  name);
			break;
		}
		if (rename(p.hook, p.chained) < 0) {
			cli_errorf(cli, "cannot rename '%s' to '%s': %s", p.hook,
				   p.chained, strerror(errno));
			break;
		}
		if (write_shim(cli, p.hook, name) < 0) {
			/* put the user's hook back */
			rename(p.chained, p.hook);
			break;
		}
		say(cli, name, "installed, chaining the hook that was there (kept as %s"
			       CHAINED_SUFFIX ")", name);
		rc = 0;
		break;
	}
out:
	paths_dispose(&p);
	return rc;
}

static int uninstall_one(struct cli *cli, const char *dir, const char *name)
{
	struct paths p;
	enum hook_state s;
	int rc = -1;

	if (hook_paths(&p, dir, name) < 0) {
		cli_errorf(cli, "out of memory");
		goto out;
	}
	s = hook_state(p.hook, name);
	if (s == HOOK_FOREIGN) {
		say(cli, name, "not installed (left the hook that is there alone)");
		rc = 0;
		goto out;
	}
	if (s != HOOK_ABSENT && unlink(p.hook) < 0) {
		cli_errorf(cli, "cannot remove '%s': %s", p.hook,
			   strerror(errno));
		goto out;
	}
	if (exists(p.chained)) {
		if (rename(p.chained, p.hook) < 0) {
			cli_errorf(cli, "cannot rename '%s' to '%s': %s",
				   p.chained, p.hook, strerror(errno));
			goto out;
		}
		say(cli, name, "%s; restored the hook that was there before",
		    s == HOOK_ABSENT ? "not installed" : "removed");
	} else {
		say(cli, name, "%s", s == HOOK_ABSENT ? "not installed"
						      : "removed");
	}
	rc = 0;
out:
	paths_dispose(&p);
	return rc;
}

static void status_one(struct cli *cli, const char *dir, const char *name)
{
	struct paths p;
	bool chained;

	if (hook_paths(&p, dir, name) < 0) {
		cli_errorf(cli, "out of memory");
		return;
	}
	chained = exists(p.chained);
	switch (hook_state(p.hook, name)) {
	case HOOK_OURS:
	case HOOK_OURS_OTHER:
		if (chained)
			printf("%-14s installed, chaining %s" CHAINED_SUFFIX "\n",
			       name, name);
		else
			printf("%-14s installed\n", name);
		if (hook_state(p.hook, name) == HOOK_OURS_OTHER)
			printf("%-14s (written by another version of cairn: "
			       "run cairn githooks install to update it)\n", "");
		break;
	case HOOK_ABSENT:
		printf("%-14s not installed%s\n", name,
		       chained ? " (but " CHAINED_SUFFIX " is there: run cairn githooks uninstall to restore it)" : "");
		break;
	case HOOK_FOREIGN:
		printf("%-14s foreign hook (not cairn)\n", name);
		break;
	}
	paths_dispose(&p);
}

int cmd_githooks(struct cli *cli, int argc, char **argv)
{
	const struct cli_command *cmd = cli_find_command("githooks");
	const char *action;
	char *dir = NULL;
	size_t i, failed = 0;
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, NULL, "", NULL, NULL,
			       &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (first >= argc)
		return cli_usage_error(cli, cmd, "githooks needs install, uninstall or status");
	action = argv[first];
	if (first + 1 < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'",
				       argv[first + 1]);
	if (strcmp(action, "install") && strcmp(action, "uninstall") &&
	    strcmp(action, "status"))
		return cli_usage_error(cli, cmd, "unknown githooks action '%s'",
				       action);
	if ((rc = hooks_dir(cli, &dir)))
		return rc;
	if (!strcmp(action, "status")) {
		printf("hooks directory: %s\n", dir);
		for (i = 0; i < N_HOOKS; i++)
			status_one(cli, dir, hook_names[i]);
		free(dir);
		return CLI_EXIT_OK;
	}
	if (!strcmp(action, "install") && make_dirs(dir) < 0) {
		cli_errorf(cli, "cannot create the hooks directory '%s': %s",
			   dir, strerror(errno));
		free(dir);
		return CLI_EXIT_FAIL;
	}
	if (cli->verbosity >= 0)
		printf("hooks directory: %s\n", dir);
	for (i = 0; i < N_HOOKS; i++) {
		if (!strcmp(action, "install"))
			rc = install_one(cli, dir, hook_names[i]);
		else
			rc = uninstall_one(cli, dir, hook_names[i]);
		if (rc < 0)
			failed++;
	}
	free(dir);
	return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
