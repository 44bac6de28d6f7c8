/*
 * buf.h - growable byte buffers with a hard maximum.
 *
 * Invariants (as in git's strbuf):
 *  - ptr is never NULL: an empty buffer points at a shared "" and may be
 *    read as a C string at any time;
 *  - ptr[size] is always '\0' (the buffer is also a C string);
 *  - size <= max: growing past max fails with a clear "too large" error
 *    instead of eating memory (a 100 MB migration, a runaway hook);
 *  - cairn_buf_detach() is the only way to take ownership of ptr.
 * All functions that grow the buffer return 0 or CAIRN_ERROR.
 */
#ifndef CAIRN_SRC_BUF_H
#define CAIRN_SRC_BUF_H

#include <stdarg.h>
#include <stddef.h>

extern char cairn_buf__empty[];

typedef struct {
	char *ptr;
	size_t size;
	size_t asize;
	size_t max;
} cairn_buf;

/* Default ceiling: 256 MiB. */
#define CAIRN_BUF_DEFAULT_MAX ((size_t)256 * 1024 * 1024)

#define CAIRN_BUF_INIT { cairn_buf__empty, 0, 0, CAIRN_BUF_DEFAULT_MAX }

void cairn_buf_init(cairn_buf *b, size_t max);
int cairn_buf_grow(cairn_buf *b, size_t extra);
int cairn_buf_put(cairn_buf *b, const void *data, size_t len);
int cairn_buf_puts(cairn_buf *b, const char *s);
int cairn_buf_putc(cairn_buf *b, char c);
int cairn_buf_printf(cairn_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cairn_buf_vprintf(cairn_buf *b, const char *fmt, va_list ap);
void cairn_buf_truncate(cairn_buf *b, size_t len);
void cairn_buf_clear(cairn_buf *b);
/* Returns the contents (caller frees) and resets the buffer; NULL on OOM. */
char *cairn_buf_detach(cairn_buf *b);
void cairn_buf_dispose(cairn_buf *b);

#endif
