/*
 * common.h - definitions shared by every public cairn header.
 *
 * The version of the library, the export macro and the size of the
 * text buffers that hold object ids (SHA-1 or SHA-256, in hex).
 */
#ifndef CAIRN_COMMON_H
#define CAIRN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_VERSION "0.1.0"

#if defined(__GNUC__)
#define CAIRN_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define CAIRN_EXTERN(type) extern type
#endif

/* printf-style checking of a format argument, where the compiler has it. */
#if defined(__GNUC__)
#define CAIRN_FORMAT_PRINTF(fmt, first) \
	__attribute__((format(printf, fmt, first)))
#else
#define CAIRN_FORMAT_PRINTF(fmt, first)
#endif

/* A git object id in hex: 40 digits for SHA-1, 64 for SHA-256, plus NUL. */
#define CAIRN_OID_HEXSZ 65

/* A SHA-256 digest in hex plus NUL. */
#define CAIRN_SHA256_HEXSZ 65

/* Returns the library's version string. */
CAIRN_EXTERN(const char *) cairn_version(void);

/*
 * Compares two migration versions (strings of digits) as numbers:
 * "0042" equals "42".  Returns <0, 0 or >0.
 */
CAIRN_EXTERN(int) cairn_version_compare(const char *a, const char *b);

/* SHA-256 of data as 64 lowercase hex digits and a NUL. */
CAIRN_EXTERN(int) cairn_sha256_hex(char out[CAIRN_SHA256_HEXSZ],
				   const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
