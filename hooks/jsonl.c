/*
 * jsonl.c - appending JSON lines to a file for the built-ins (jsonl.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

int cairn_jsonl_append(int *fd, const char *path, int mode,
		       const char *data, size_t len)
{
	if (*fd < 0) {
		*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			   (mode_t)mode);
		if (*fd < 0)
			return errno ? errno : EIO;
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
