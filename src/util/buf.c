/*
 * buf.c - growable byte buffers; see buf.h for the invariants.
 *
 * Failure is kept in b->failed: fail() records the first one (and sets
 * the error object), every entry point that would grow the buffer looks
 * at the mark first and does nothing once it is set.  The partial text
 * stays readable (ptr is always a C string) but cairn_buf_check() tells
 * the caller it must not be used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

char cairn_buf__empty[1];

void cairn_buf_init(cairn_buf *b, size_t max)
{
	b->ptr = cairn_buf__empty;
	b->size = 0;
	b->asize = 0;
	b->max = max ? max : CAIRN_BUF_DEFAULT_MAX;
	b->failed = 0;
}

static int set_error(const cairn_buf *b)
{
	if (b->failed == CAIRN_BUF_FAILED_TOOBIG)
		return cairn_error__set(CAIRN_ERRCLASS_NOMEMORY,
			"data too large (over %zu bytes)", b->max);
	return cairn_error__oom();
}

/* Marks the buffer failed (the first reason wins); returns CAIRN_ERROR. */
static int fail(cairn_buf *b, int why)
{
	if (!b->failed) {
		b->failed = why;
		return set_error(b);
	}
	return CAIRN_ERROR;
}

bool cairn_buf_failed(const cairn_buf *b)
{
	return b->failed != 0;
}

int cairn_buf_check(const cairn_buf *b)
{
	return b->failed ? set_error(b) : 0;
}

int cairn_buf_grow(cairn_buf *b, size_t extra)
{
	size_t want, nsize;
	char *p;

	if (b->failed)
		return CAIRN_ERROR;
	if (extra > b->max || b->size > b->max - extra)
		return fail(b, CAIRN_BUF_FAILED_TOOBIG);
	want = b->size + extra + 1;
	if (want <= b->asize)
		return 0;
	nsize = b->asize ? b->asize : 64;
	while (nsize < want)
		nsize = nsize < ((size_t)-1) / 2 ? nsize * 2 : want;
	p = realloc(b->asize ? b->ptr : NULL, nsize);
	if (!p)
		return fail(b, CAIRN_BUF_FAILED_OOM);
	if (!b->asize)
		p[0] = '\0';
	b->ptr = p;
	b->asize = nsize;
	return 0;
}

int cairn_buf_put(cairn_buf *b, const void *data, size_t len)
{
	if (cairn_buf_grow(b, len) < 0)
		return CAIRN_ERROR;
	if (len)
		memcpy(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
	return 0;
}

int cairn_buf_puts(cairn_buf *b, const char *s)
{
	return cairn_buf_put(b, s, strlen(s));
}

int cairn_buf_putc(cairn_buf *b, char c)
{
	return cairn_buf_put(b, &c, 1);
}

int cairn_buf_vprintf(cairn_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (b->failed)
		return CAIRN_ERROR;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return fail(b, CAIRN_BUF_FAILED_OOM);
	if (cairn_buf_grow(b, (size_t)n) < 0)
		return CAIRN_ERROR;
	vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
	b->size += (size_t)n;
	return 0;
}

int cairn_buf_printf(cairn_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cairn_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void cairn_buf_truncate(cairn_buf *b, size_t len)
{
	if (len >= b->size)
		return;
	b->size = len;
	b->ptr[len] = '\0';
}

void cairn_buf_clear(cairn_buf *b)
{
	cairn_buf_truncate(b, 0);
}

char *cairn_buf_detach(cairn_buf *b)
{
	char *p = b->ptr;

	if (b->failed) {
		set_error(b);
		cairn_buf_dispose(b);
		return NULL;
	}
	if (!b->asize && !(p = strdup("")))
		cairn_error__oom();
	b->ptr = cairn_buf__empty;
	b->size = 0;
	b->asize = 0;
	return p;
}

void cairn_buf_dispose(cairn_buf *b)
{
	if (b->asize)
		free(b->ptr);
	b->ptr = cairn_buf__empty;
	b->size = 0;
	b->asize = 0;
	b->failed = 0;
}
