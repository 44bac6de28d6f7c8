/*
 * jsonl.h - what the built-ins that append JSON lines to a file share
 * (log, audit-file): the timestamp they stamp lines with and appending
 * to a file opened on first use.  Public C library calls only, like the
 * built-ins themselves.
 */
#ifndef CAIRN_HOOKS_JSONL_H
#define CAIRN_HOOKS_JSONL_H

#include <stddef.h>

/* "2026-11-27T17:27:00.123Z", UTC, millisecond precision. */
void cairn_jsonl_timestamp(char out[40]);

/* Returned by cairn_jsonl_append for a path that is not a regular file. */
#define CAIRN_JSONL_ENOTREG (-2)

/*
 * Appends len bytes to path, opening it (O_APPEND, created with mode)
 * when *fd is -1.  Returns 0, or an errno value (and leaves *fd -1 when
 * the open failed): ELOOP when path is a symbolic link (never followed),
 * CAIRN_JSONL_ENOTREG when it is a FIFO, a directory, a device...  One write(2) per call where the kernel allows, so
 * lines from several writers do not interleave.
 */
int cairn_jsonl_append(int *fd, const char *path, int mode,
		       const char *data, size_t len);

/* Says what an error of cairn_jsonl_append means, for a message. */
const char *cairn_jsonl_strerror(int err);

#endif
