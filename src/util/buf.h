/*
 * buf.h - growable byte buffers with a hard maximum.
 *
 * Invariants (as in git's strbuf):
 *  - ptr is never NULL: an empty buffer points at a shared "" and may be
 *    read as a C string at any time;
 *  - ptr[size] is always '\0' (the buffer is also a C string);
 *  - size <= max: growing past max fails with a clear "too large" error
 *    instead of eating memory (a 100 MB migration, a runaway hook);
 *  - cairn_buf_detach() is the only way to take ownership of ptr;
 *  - failure is sticky (as libgit2's git_str keeps its out-of-memory
 *    mark): once an append or a grow fails, the buffer is "failed" and
 *    every later append is a no-op that returns CAIRN_ERROR, until
 *    cairn_buf_dispose().  clear and truncate keep the mark.  So a
 *    caller may build a text with unchecked appends, but must call
 *    cairn_buf_check() once before using it (sending it to the server,
 *    writing it out): a failed buffer holds a partial text that must
 *    never be used.  cairn_buf_detach() of a failed buffer returns NULL.
 * All functions that grow the buffer return 0 or CAIRN_ERROR (with the
 * error object set on the first failure).
 */
#ifndef CAIRN_SRC_BUF_H
#define CAIRN_SRC_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "attrs.h"

extern char cairn_buf__empty[];

typedef struct {
	char *ptr;
	size_t size;
	size_t asize;
	size_t max;
	int failed;   /* 0, or why an append failed (BUF_FAILED_*) */
} cairn_buf;

/* Default ceiling: 256 MiB. */
#define CAIRN_BUF_DEFAULT_MAX ((size_t)256 * 1024 * 1024)

#define CAIRN_BUF_INIT { cairn_buf__empty, 0, 0, CAIRN_BUF_DEFAULT_MAX, 0 }

/* Values of cairn_buf.failed */
#define CAIRN_BUF_FAILED_OOM 1     /* realloc failed */
#define CAIRN_BUF_FAILED_TOOBIG 2  /* the text would pass max */

void cairn_buf_init(cairn_buf *b, size_t max);
/* Makes room for extra more bytes (and the NUL) without changing size. */
CAIRN_WARN_UNUSED int cairn_buf_grow(cairn_buf *b, size_t extra);
/*
 * 0 when every append so far succeeded; otherwise CAIRN_ERROR with the
 * error object set to the first failure ("data too large ...", out of
 * memory).  Call it once before using a buffer built by unchecked
 * appends.
 */
CAIRN_WARN_UNUSED int cairn_buf_check(const cairn_buf *b);
/* True once an append or a grow failed (see above). */
bool cairn_buf_failed(const cairn_buf *b);
int cairn_buf_put(cairn_buf *b, const void *data, size_t len);
int cairn_buf_puts(cairn_buf *b, const char *s);
int cairn_buf_putc(cairn_buf *b, char c);
int cairn_buf_printf(cairn_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cairn_buf_vprintf(cairn_buf *b, const char *fmt, va_list ap);
void cairn_buf_truncate(cairn_buf *b, size_t len);
void cairn_buf_clear(cairn_buf *b);
/*
 * Returns the contents (caller frees) and resets the buffer; NULL (error
 * set) on OOM or when the buffer failed.
 */
char *cairn_buf_detach(cairn_buf *b);
void cairn_buf_dispose(cairn_buf *b);

#endif
