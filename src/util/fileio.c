/*
 * fileio.c - whole-file reads and writes, done one way everywhere; see
 * fileio.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

int cairn__write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cairn__read_exact(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cairn__file_open_at(int dirfd, const char *name, int oflags, mode_t mode,
			unsigned flags)
{
	oflags |= O_CLOEXEC;
	if (flags & CAIRN_FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	return openat(dirfd, name, oflags, mode);
}

int cairn__fd_read_all(int fd, size_t max, cairn_buf *out)
{
	size_t got = 0;

	for (;;) {
		size_t want = max - got < 65536 ? max - got : 65536;
		ssize_t n;
		char probe;

		if (want == 0) {
			/* At the bound: one more byte means the file is over. */
			n = read(fd, &probe, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0)
				errno = EFBIG;
			return n == 0 ? 0 : -1;
		}
		if (cairn_buf_grow(out, want) < 0) {
			errno = out->failed == CAIRN_BUF_FAILED_TOOBIG ? EFBIG
								       : ENOMEM;
			return -1;
		}
		n = read(fd, out->ptr + out->size, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		out->size += (size_t)n;
		out->ptr[out->size] = '\0';
		got += (size_t)n;
	}
}

int cairn__file_read(int dirfd, const char *name, unsigned flags, size_t max,
		     cairn_buf *out)
{
	struct stat st;
	int fd, rc, saved;

	fd = cairn__file_open_at(dirfd, name, O_RDONLY | O_NONBLOCK, 0, flags);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if ((flags & CAIRN_FILE_REGULAR) && !S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	/* O_NONBLOCK kept a FIFO from hanging the open; reads may block. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto fail;
	rc = cairn__fd_read_all(fd, max, out);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int cairn__file_replace(int dirfd, const char *name, const void *data,
			size_t len, mode_t mode, unsigned flags)
{
	return cairn__file_replace_owned(dirfd, name, data, len, mode, flags,
					 (uid_t)-1, (gid_t)-1);
}

int cairn__file_replace_owned(int dirfd, const char *name, const void *data,
			      size_t len, mode_t mode, unsigned flags,
			      uid_t uid, gid_t gid)
{
	static atomic_uint counter;
	char tmp[4096];
	int fd, saved, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%u", name, (long)getpid(),
		     atomic_fetch_add(&counter, 1));
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = cairn__file_open_at(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, mode,
				 CAIRN_FILE_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (cairn__write_all(fd, data, len) < 0 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	     fchown(fd, uid, gid) < 0) ||
	    ((flags & CAIRN_FILE_EXACT_MODE) && fchmod(fd, mode) < 0) ||
	    ((flags & CAIRN_FILE_SYNC) && fsync(fd) < 0))
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}
