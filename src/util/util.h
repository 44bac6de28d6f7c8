/*
 * util.h - small helpers shared across the library: checked allocation,
 * string vectors, hashing (libcrypto), UTF-8 checks, durations and
 * numeric version comparison.
 */
#ifndef CAIRN_SRC_UTIL_H
#define CAIRN_SRC_UTIL_H

#include "attrs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAIRN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* strdup that sets an OOM error; NULL in gives NULL out without error. */
char *cairn__strdup(const char *s);
char *cairn__strndup(const char *s, size_t n);
/* calloc that sets an OOM error. */
void *cairn__calloc(size_t n, size_t size);
/* Grows *arr (of *alloc elements of size sz) to hold at least need. */
CAIRN_WARN_UNUSED int cairn__grow_array(void **arr, size_t *alloc, size_t need, size_t sz);

typedef struct {
	char **items;
	size_t count;
	size_t alloc;
} cairn_strvec;

#define CAIRN_STRVEC_INIT { NULL, 0, 0 }

CAIRN_WARN_UNUSED int cairn_strvec_push(cairn_strvec *v, const char *s);
CAIRN_WARN_UNUSED int cairn_strvec_push_owned(cairn_strvec *v, char *s);
void cairn_strvec_dispose(cairn_strvec *v);
bool cairn_strvec_contains(const cairn_strvec *v, const char *s);

/* SHA-256 of data as 64 lowercase hex digits plus NUL. */
CAIRN_WARN_UNUSED int cairn__sha256_hex(char out[65], const void *data, size_t len);
/* HMAC-SHA-256 of data under key, hex. */
CAIRN_WARN_UNUSED int cairn__hmac_sha256_hex(char out[65], const void *key, size_t keylen,
			   const void *data, size_t len);
void cairn__hex(char *out, const unsigned char *bytes, size_t n);

/*
 * True when data is valid UTF-8 (no overlongs, no surrogates).  On false
 * *bad_offset is the offset of the first bad byte.
 */
bool cairn__utf8_valid(const char *data, size_t len, size_t *bad_offset);

/* cairn__write_all, cairn__read_exact: see fileio.h. */
#include "fileio.h"

/*
 * The one escaping of untrusted text (names, e-mails, commit messages,
 * server errors, hook output) for a terminal, a log line or a message:
 * C0 control characters, DEL and C1 controls (U+0080-U+009F) become \xNN
 * per byte, and so does every byte that is not valid UTF-8; everything
 * else is kept.  With CAIRN_ESCAPE_MULTILINE newline and tab are kept (for
 * text shown on several lines).  Returns a new string, or NULL with an
 * out-of-memory error set.
 */
#define CAIRN_ESCAPE_MULTILINE 1u
char *cairn__escape_text(const char *s, size_t len, unsigned flags);

/*
 * Parses a duration such as "30s", "500ms", "5min", "2m", "1h", "1500"
 * (milliseconds) into milliseconds.  Returns 0 or -1 (no error set).
 */
CAIRN_WARN_UNUSED int cairn__parse_duration_ms(const char *s, uint64_t *out);

/*
 * Versions ([<dir>/...]<n>[.<n>]..., see util.c): compares two versions
 * as cairn orders them ("0042" == "42", "1.10" > "1.9", "1.0" == "1",
 * "0/9" < "1/1").  Returns <0, 0 or >0.
 */
CAIRN_WARN_UNUSED int cairn__version_cmp(const char *a, const char *b);
/* Whether text is a version as written ('_' may separate parts). */
bool cairn__version_valid(const char *s);
bool cairn__version_valid_n(const char *s, size_t len);
/* Whether s is a directory part (names of [A-Za-z0-9.-], '/' between). */
bool cairn__version_dir_valid(const char *s, size_t len);
/*
 * The normalized form of a version as written ("0042" -> "42", "1_02.0"
 * -> "1.2", "0/01" -> "0/1").  NULL with an error set when it is not a
 * version (or out of memory).
 */
char *cairn__version_normalize(const char *text, size_t len);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t cairn__edit_distance(const char *a, const char *b);

/* Milliseconds from a monotonic clock. */
int64_t cairn__now_ms(void);
/* Microseconds from a monotonic clock. */
int64_t cairn__now_us(void);

#endif
