/*
 * devdb_files.c - the file helpers of the built-in development database
 * (src/devdb_location.c, src/devdb_cluster.c): opening, reading and
 * writing files and directories under a directory descriptor.
 *
 * .cairn/ and everything in it may come from a commit (a symbolic link
 * .cairn/pg -> /etc, say) and cairn may run as root, so nothing there is
 * reached by path: every name is opened relative to a descriptor
 * (openat, fstatat, renameat), with O_NOFOLLOW (O_DIRECTORY for
 * directories), and checked with fstat to be the kind of file expected:
 * a regular file, never a FIFO or a device; a directory, never a link.
 * A file is written through a temporary file and renameat(), so a link
 * or anything else already at its name is replaced, never written
 * through.  Paths are used only in messages (the `shown` arguments).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devdb_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/util.h"

char *cairn_devdb__join(const char *a, const char *b)
{
	cairn_buf buf = CAIRN_BUF_INIT;

	if (cairn_buf_printf(&buf, "%s/%s", a, b) < 0)
		return NULL;
	return cairn_buf_detach(&buf);
}

/* True when name exists under at (a symbolic link counts; not followed). */
bool cairn_devdb__exists_at(int at, const char *name)
{
	struct stat st;

	return fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * Reads up to max bytes from fd (from its offset) into *out; what lies
 * past max is left unread.
 */
int cairn_devdb__read_fd(char **out, int fd, const char *shown, size_t max)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int rc = 0;

	*out = NULL;
	if (cairn__fd_read_all(fd, max, &b) < 0 && errno != EFBIG)
		rc = cairn_error__set(CAIRN_ERRCLASS_OS, "cannot read '%s': %s",
				      shown, strerror(errno));
	if (rc == 0 && !(*out = cairn_buf_detach(&b)))
		rc = cairn_error__oom();
	cairn_buf_dispose(&b);
	return rc;
}

/*
 * Opens name under at for reading or appending: never through a
 * symbolic link, never a FIFO or device.  CAIRN_ENOTFOUND (no error) if
 * absent.
 */
int cairn_devdb__open_file_at(int *out, int at, const char *name,
			      const char *shown, int flags)
{
	struct stat st;
	int fd;

	*out = -1;
	fd = openat(at, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return CAIRN_ENOTFOUND;
	if (fd < 0 && errno == ELOOP) {
		cairn_error__set(CAIRN_ERRCLASS_OS,
				 "refusing to use '%s': it is a symbolic link",
				 shown);
		cairn_error__hint("Remove it; cairn never writes through "
				  "links in the development database's "
				  "directories.");
		return CAIRN_ERROR;
	}
	if (fd < 0)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot open '%s': %s", shown,
					strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"refusing to use '%s': it is not a "
					"regular file",
					shown);
	}
	*out = fd;
	return 0;
}

/* Reads up to max bytes of name under at; CAIRN_ENOTFOUND if absent. */
int cairn_devdb__read_file(char **out, int at, const char *name,
			   const char *shown, size_t max)
{
	int fd, rc;

	*out = NULL;
	if ((rc = cairn_devdb__open_file_at(&fd, at, name, shown,
					    O_RDONLY)) < 0)
		return rc;
	rc = cairn_devdb__read_fd(out, fd, shown, max);
	close(fd);
	return rc;
}

/* The last lines of a file or text, for an error detail; NULL if none. */
char *cairn_devdb__tail_lines(const char *text, int lines)
{
	const char *end, *p;
	int seen = 0;

	if (!text)
		return NULL;
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	if (end == text)
		return NULL;
	for (p = end; p > text; p--) {
		if (p[-1] == '\n' && ++seen == lines)
			break;
	}
	return cairn__strndup(p, (size_t)(end - p));
}

/* The last lines of what was written to name under at after `from`. */
char *cairn_devdb__file_tail(int at, const char *name, int lines, off_t from)
{
	char *text = NULL, *tail;
	struct stat st;
	int fd;
	ssize_t n;
	size_t want = 16384;

	/* a link planted there could show a file only root may read */
	fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	if (st.st_size - from > (off_t)want)
		from = st.st_size - (off_t)want;
	if (from > 0)
		lseek(fd, from, SEEK_SET);
	text = malloc(want + 1);
	if (text) {
		n = read(fd, text, want);
		text[n > 0 ? n : 0] = '\0';
	}
	close(fd);
	tail = cairn_devdb__tail_lines(text, lines);
	free(text);
	return tail;
}

/*
 * Writes name under at through a temporary file and renameat(): a link
 * or anything else already at name is replaced, never written through.
 */
int cairn_devdb__write_file(int at, const char *name, const char *shown,
			    const char *data, const struct devdb *d)
{
	bool chown_it = d && d->as_root;

	if (cairn__file_replace_owned(at, name, data, strlen(data), 0644, 0,
				      chown_it ? d->pg_uid : (uid_t)-1,
				      chown_it ? d->pg_gid : (gid_t)-1) == 0)
		return 0;
	return cairn_error__set(CAIRN_ERRCLASS_OS, "cannot write '%s': %s",
				shown, strerror(errno));
}

/* Refuses a directory that is a link or not a directory at all. */
int cairn_devdb__refuse_dir(const char *shown, const char *why)
{
	cairn_error__set(CAIRN_ERRCLASS_DB,
			 "refusing to use '%s' for the development database: "
			 "%s",
			 shown, why);
	cairn_error__hint("Remove it; cairn creates its own directories (a "
			  "repository must not commit .cairn/).");
	return CAIRN_ERROR;
}

/*
 * Opens name under at as a directory, never through a symbolic link.
 * CAIRN_ENOTFOUND (no error set) when absent.
 */
int cairn_devdb__open_dir_at(int *out, int at, const char *name,
			     const char *shown)
{
	struct stat st;
	int fd;

	*out = -1;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return CAIRN_ENOTFOUND;
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			return cairn_devdb__refuse_dir(shown,
						       "it is a symbolic link");
		return cairn_devdb__refuse_dir(shown, "it is not a directory");
	}
	if (fd < 0)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot open directory '%s': %s", shown,
					strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return cairn_devdb__refuse_dir(shown, "it is not a directory");
	}
	*out = fd;
	return 0;
}
