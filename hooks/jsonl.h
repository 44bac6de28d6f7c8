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

/*
 * Appends len bytes to path, opening it (O_APPEND, created with mode)
 * when *fd is -1.  Returns 0, or an errno value (and leaves *fd -1 when
 * the open failed).  One write(2) per call where the kernel allows, so
 * lines from several writers do not interleave.
 */
int cairn_jsonl_append(int *fd, const char *path, int mode,
		       const char *data, size_t len);

#endif
