/*
 * attrs.h (internal) - compiler attributes cairn's own code uses.
 *
 * CAIRN_WARN_UNUSED marks a function whose status must not be dropped:
 * an internal function that returns 0 or an error code and leaves the
 * caller in a wrong state when the failure goes unnoticed (a buffer
 * that was not checked before its contents were sent, a check whose
 * refusal was ignored).  With -Werror a forgotten check stops the build.
 * Appends to a cairn_buf are deliberately not marked: the buffer keeps
 * its failure (buf.h) and is checked once before use.
 */
#ifndef CAIRN_SRC_ATTRS_H
#define CAIRN_SRC_ATTRS_H

#if defined(__GNUC__) || defined(__clang__)
#define CAIRN_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CAIRN_WARN_UNUSED
#endif

#endif
