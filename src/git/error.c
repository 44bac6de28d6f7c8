/*
 * git/error.c - errors of the git object layer: a CAIRN_ERRCLASS_GIT
 * error with libgit2's last message as its detail (see git/git.h).
 */
#include <stdarg.h>

#include <git2.h>

#include "git/git.h"
#include "util/buf.h"
#include "util/error.h"

int cairn_git__error(const char *fmt, ...)
{
	const git_error *ge = git_error_last();
	cairn_buf msg = CAIRN_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cairn_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return CAIRN_ERROR;
	cairn_error__set(CAIRN_ERRCLASS_GIT, "%s", msg.ptr);
	if (ge && ge->message && *ge->message)
		cairn_error__detail("libgit2: %s.", ge->message);
	cairn_buf_dispose(&msg);
	return CAIRN_ERROR;
}
