/*
 * fileio.h (internal) - whole-file reads and writes, done one way
 * everywhere: every loop retried on EINTR and short counts, every open
 * O_CLOEXEC, O_NOFOLLOW where the name may come from a repository or a
 * shared directory, size bounded before memory is spent, and replacement
 * of a file by a temporary file in the same directory and rename(2), so a
 * reader never sees half a file.
 *
 * These return 0, or -1 with errno set (EFBIG: over the size bound;
 * ELOOP: a symbolic link where NOFOLLOW was asked; EINVAL: not a regular
 * file where REGULAR was asked).  They set no cairn error of their own
 * (a buffer that cannot grow notes it, as buffers do): callers know what
 * the file is and name it in their message.
 */
#ifndef CAIRN_SRC_FILEIO_H
#define CAIRN_SRC_FILEIO_H

#include <fcntl.h> /* AT_FDCWD */
#include <stddef.h>
#include <sys/types.h>

#include "attrs.h"
#include "buf.h"

/* Flags of cairn__file_open_at, cairn__file_read and cairn__file_replace. */
#define CAIRN_FILE_NOFOLLOW 0x1 /* refuse a symbolic link (last component) */
#define CAIRN_FILE_REGULAR 0x2  /* refuse anything but a regular file */
#define CAIRN_FILE_SYNC 0x4     /* replace: fsync the file before rename */
#define CAIRN_FILE_EXACT_MODE 0x8 /* replace: the mode as given, umask or not */

/*
 * The one loop for whole writes and reads on a descriptor (as git's
 * write_in_full/read_in_full).  read_exact: exactly len bytes; -1 on an
 * error or when the file ends first (errno 0 then).
 */
CAIRN_WARN_UNUSED int cairn__write_all(int fd, const void *data, size_t len);
CAIRN_WARN_UNUSED int cairn__read_exact(int fd, void *buf, size_t len);

/*
 * open(2) relative to dirfd (AT_FDCWD for the current directory) with
 * O_CLOEXEC added, and O_NOFOLLOW when CAIRN_FILE_NOFOLLOW is in flags.
 * Returns the descriptor or -1.
 */
CAIRN_WARN_UNUSED int cairn__file_open_at(int dirfd, const char *name,
					  int oflags, mode_t mode,
					  unsigned flags);

/*
 * Appends what is left of fd to out, failing with EFBIG once more than
 * max bytes would have been read.  out keeps what was read on failure.
 */
CAIRN_WARN_UNUSED int cairn__fd_read_all(int fd, size_t max, cairn_buf *out);

/*
 * Opens name under dirfd read-only (flags: NOFOLLOW, REGULAR) and appends
 * its whole content, at most max bytes, to out.  A file whose fstat size
 * is already over max fails with EFBIG before anything is read.
 */
CAIRN_WARN_UNUSED int cairn__file_read(int dirfd, const char *name,
				       unsigned flags, size_t max,
				       cairn_buf *out);

/*
 * Replaces name under dirfd with data: written to a new temporary file
 * "<name>.tmp.<pid>.<n>" in the same directory (O_EXCL|O_NOFOLLOW, the
 * given mode), fsync'ed when flags has CAIRN_FILE_SYNC, then renamed over
 * name.  On failure the temporary file is removed and name is untouched.
 */
CAIRN_WARN_UNUSED int cairn__file_replace(int dirfd, const char *name,
					  const void *data, size_t len,
					  mode_t mode, unsigned flags);
/* The same, the new file given to uid:gid before the rename. */
CAIRN_WARN_UNUSED int cairn__file_replace_owned(int dirfd, const char *name,
						const void *data, size_t len,
						mode_t mode, unsigned flags,
						uid_t uid, gid_t gid);

#endif
