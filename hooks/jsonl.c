/*
 * jsonl.c - appending JSON lines to a file for the built-ins (jsonl.h).
 *
 * The file is named by configuration and may sit in a repository, so it
 * is opened the way hostile paths are: O_NOFOLLOW (a symbolic link in its
 * place is refused, never written through), O_NONBLOCK (a FIFO cannot
 * hang the open) and an fstat() check that what was opened is a regular
 * file, as the metrics built-in does for its own file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jsonl.h"

void cairn_jsonl_timestamp(char out[40])
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) ||
	    !(n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(out, 40, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out + n, 40 - n, ".%03ldZ", (long)(ts.tv_nsec / 1000000));
}

/* Opens path for appending; 0 or an errno value (see jsonl.h). */
static int open_regular(int *out, const char *path, int mode)
{
	struct stat st;
	int fd, flags;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			    O_NOFOLLOW | O_NONBLOCK,
		  (mode_t)mode);
	if (fd < 0 && errno == ENXIO)
		return CAIRN_JSONL_ENOTREG; /* a FIFO with no reader, a device */
	if (fd < 0)
		return errno ? errno : EIO;
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return CAIRN_JSONL_ENOTREG;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	*out = fd;
	return 0;
}

const char *cairn_jsonl_strerror(int err)
{
	if (err == ELOOP)
		return "it is a symbolic link, which is not followed";
	if (err == CAIRN_JSONL_ENOTREG)
		return "it is not a regular file";
	return strerror(err);
}

int cairn_jsonl_append(int *fd, const char *path, int mode,
		       const char *data, size_t len)
{
	if (*fd < 0) {
		int err = open_regular(fd, path, mode);

		if (err)
			return err;
	}
	while (len) {
		ssize_t n = write(*fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}
