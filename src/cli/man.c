/*
 * man.c - `cairn help --man`: the manual, also from a build tree where
 * `man cairn` finds nothing yet.
 *
 * The page is looked for next to the running program: <dir>/../doc/cairn.1
 * (the program in build/, the page in doc/ of the source tree) and
 * <dir>/../share/man/man1/cairn.1 (an installed prefix).  The first one
 * found is shown with `man -l FILE`; otherwise `man cairn` looks in the
 * manual path.  The program is replaced by man (no fork), so man's exit
 * status is the command's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char *const candidates[] = {
	"/../doc/cairn.1",
	"/../share/man/man1/cairn.1",
};

/* The manual page next to the program into out, or false. */
static bool find_page(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		int w = snprintf(out, len, "%s%s", exe, candidates[i]);

		if (w > 0 && (size_t)w < len && access(out, R_OK) == 0)
			return true;
	}
	return false;
}

int cli_show_man(struct cli *cli)
{
	char page[PATH_MAX + 64];

	fflush(stdout);
	if (find_page(page, sizeof(page)))
		execlp("man", "man", "-l", page, (char *)NULL);
	else
		execlp("man", "man", "cairn", (char *)NULL);
	cli_errorf(cli, "cannot run man: %s", strerror(errno));
	cli_hintf(cli, "the page is doc/cairn.1 in the source tree (groff -man -Tutf8 doc/cairn.1 | less)");
	return CLI_EXIT_FAIL;
}
