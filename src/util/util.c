/*
 * util.c - small helpers shared across the library; see util.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cairn/common.h"
#include "error.h"
#include "util.h"

char *cairn__strdup(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		cairn_error__oom();
	return d;
}

char *cairn__strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d) {
		cairn_error__oom();
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void *cairn__calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		cairn_error__oom();
	return p;
}

int cairn__grow_array(void **arr, size_t *alloc, size_t need, size_t sz)
{
	size_t n;
	void *p;

	if (need <= *alloc)
		return 0;
	n = *alloc ? *alloc : 8;
	while (n < need)
		n *= 2;
	if (n > ((size_t)-1) / sz)
		return cairn_error__oom();
	p = realloc(*arr, n * sz);
	if (!p)
		return cairn_error__oom();
	*arr = p;
	*alloc = n;
	return 0;
}

int cairn_strvec_push_owned(cairn_strvec *v, char *s)
{
	if (!s)
		return CAIRN_ERROR;
	if (cairn__grow_array((void **)&v->items, &v->alloc, v->count + 2,
			      sizeof(char *)) < 0) {
		free(s);
		return CAIRN_ERROR;
	}
	v->items[v->count++] = s;
	v->items[v->count] = NULL;
	return 0;
}

int cairn_strvec_push(cairn_strvec *v, const char *s)
{
	char *d = cairn__strdup(s ? s : "");

	return cairn_strvec_push_owned(v, d);
}

void cairn_strvec_dispose(cairn_strvec *v)
{
	size_t i;

	for (i = 0; i < v->count; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->count = v->alloc = 0;
}

bool cairn_strvec_contains(const cairn_strvec *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->count; i++)
		if (!strcmp(v->items[i], s))
			return true;
	return false;
}

void cairn__hex(char *out, const unsigned char *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

int cairn__sha256_hex(char out[65], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		return cairn_error__set(CAIRN_ERRCLASS_OS, "sha-256 failed");
	cairn__hex(out, md, 32);
	return 0;
}

int cairn_sha256_hex(char out[65], const void *data, size_t len)
{
	return cairn__sha256_hex(out, data, len);
}

int cairn__hmac_sha256_hex(char out[65], const void *key, size_t keylen,
			   const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &mdlen) ||
	    mdlen != 32)
		return cairn_error__set(CAIRN_ERRCLASS_OS, "hmac failed");
	cairn__hex(out, md, 32);
	return 0;
}

/*
 * Length of the valid UTF-8 sequence at s (at most len bytes), its code
 * point in *cp; 0 when the bytes there are not valid UTF-8 (overlong,
 * surrogate, beyond U+10FFFF, cut short).
 */
static size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		n = 1;
		*cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 2;
		*cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 3;
		*cp = c & 0x07;
	} else {
		return 0;
	}
	if (len <= n)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[k] & 0x3F);
	}
	if ((n == 1 && *cp < 0x80) || (n == 2 && *cp < 0x800) ||
	    (n == 3 && *cp < 0x10000) || *cp > 0x10FFFF ||
	    (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return n + 1;
}

bool cairn__utf8_valid(const char *data, size_t len, size_t *bad_offset)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_seq(s + i, len - i, &cp);

		if (!n) {
			if (bad_offset)
				*bad_offset = i;
			return false;
		}
		i += n;
	}
	return true;
}

/* Appends \xNN for each of the n bytes at s; returns the new end. */
static char *put_hex_escapes(char *o, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t k = 0; k < n; k++) {
		*o++ = '\\';
		*o++ = 'x';
		*o++ = hex[s[k] >> 4];
		*o++ = hex[s[k] & 15];
	}
	return o;
}

char *cairn__escape_text(const char *text, size_t len, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)text;
	char *out, *o;
	size_t i = 0;

	if (len > (SIZE_MAX - 1) / 4) {
		cairn_error__oom();
		return NULL;
	}
	out = malloc(len * 4 + 1);
	if (!out) {
		cairn_error__oom();
		return NULL;
	}
	o = out;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_seq(s + i, len - i, &cp);

		if (!n) {
			o = put_hex_escapes(o, s + i, 1);
			i++;
			continue;
		}
		if ((flags & CAIRN_ESCAPE_MULTILINE) && (cp == '\n' || cp == '\t'))
			*o++ = (char)cp;
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			o = put_hex_escapes(o, s + i, n);
		else {
			memcpy(o, s + i, n);
			o += n;
		}
		i += n;
	}
	*o = '\0';
	return out;
}

int cairn__parse_duration_ms(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { "sec", 1000 },
		{ "m", 60000 }, { "min", 60000 }, { "h", 3600000 },
	};
	const char *p = s;
	uint64_t v = 0;
	size_t i;

	if (!s || !isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	while (*p == ' ')
		p++;
	for (i = 0; i < CAIRN_ARRAY_SIZE(units); i++) {
		if (!strcmp(p, units[i].unit)) {
			if (v > UINT64_MAX / units[i].ms)
				return -1;
			*out = v * units[i].ms;
			return 0;
		}
	}
	return -1;
}

/*
 * Versions.  A version is an optional directory part and a dotted number:
 *
 *     [<dir>/...]<part>[.<part>]...
 *
 * Each part is 1-20 digits and compares as a number; a missing part
 * counts as 0, so 1 = 1.0 and 1.10 > 1.9 (Flyway's order).  As written,
 * parts may also be separated by '_' (Flyway's V1_2__x.sql).  The
 * directory part (`versions: per-directory`) is one or more names of
 * letters, digits, '-' and '.', compared name by name: as numbers
 * when both are numbers (then, on a tie, byte by byte), else byte by
 * byte; a version without one comes first.  Normalizing keeps the
 * directory as written, drops the leading zeros of each part and the
 * trailing zero parts (but the first): 0042 -> 42, 1.02.0 -> 1.2.
 */
#define VERSION_MAX_LEN 255
#define VERSION_PART_MAX 20

static int sign_of(int c)
{
	return c < 0 ? -1 : c > 0;
}

/* Two runs of digits as numbers; an empty run is 0. */
static int num_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	while (la > 1 && *a == '0') {
		a++;
		la--;
	}
	while (lb > 1 && *b == '0') {
		b++;
		lb--;
	}
	if (!la || (la == 1 && *a == '0'))
		la = 0;
	if (!lb || (lb == 1 && *b == '0'))
		lb = 0;
	if (la != lb)
		return la < lb ? -1 : 1;
	return la ? sign_of(memcmp(a, b, la)) : 0;
}

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* One directory name each: numbers as numbers, the rest byte by byte. */
static int dir_name_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	size_t n = la < lb ? la : lb;
	int c;

	if (all_digits(a, la) && all_digits(b, lb) &&
	    (c = num_cmp(a, la, b, lb)) != 0)
		return c;
	if ((c = memcmp(a, b, n)) != 0)
		return sign_of(c);
	return la == lb ? 0 : la < lb ? -1 : 1;
}

/* Directory parts a[0..la) and b[0..lb), name by name. */
static int dir_cmp(const char *a, size_t la, const char *b, size_t lb)
{
	while (la && lb) {
		const char *sa = memchr(a, '/', la), *sb = memchr(b, '/', lb);
		size_t na = sa ? (size_t)(sa - a) : la;
		size_t nb = sb ? (size_t)(sb - b) : lb;
		int c = dir_name_cmp(a, na, b, nb);

		if (c)
			return c;
		a += na + (na < la);
		la -= na + (na < la);
		b += nb + (nb < lb);
		lb -= nb + (nb < lb);
	}
	return la ? 1 : lb ? -1 : 0;
}

/* Dotted numbers, part by part; a missing part is 0. */
static int dotted_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		size_t la = strcspn(a, "._"), lb = strcspn(b, "._");
		int c = num_cmp(a, la, b, lb);

		if (c)
			return c;
		a += la + (a[la] != '\0');
		b += lb + (b[lb] != '\0');
	}
	return 0;
}

int cairn__version_cmp(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
	int c;

	if (!sa != !sb)
		return sa ? 1 : -1;
	if (sa && (c = dir_cmp(a, (size_t)(sa - a), b, (size_t)(sb - b))))
		return c;
	return dotted_cmp(sa ? sa + 1 : a, sb ? sb + 1 : b);
}

int cairn_version_compare(const char *a, const char *b)
{
	return cairn__version_cmp(a, b);
}

/* No '_': "<version>_<name>" labels end the version at the first '_'. */
static bool dir_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool cairn__version_dir_valid(const char *s, size_t len)
{
	size_t i = 0;

	if (!len || len > VERSION_MAX_LEN)
		return false;
	while (i < len) {
		size_t start = i;

		if (s[i] == '.')
			return false; /* no ".", "..", hidden names */
		while (i < len && s[i] != '/') {
			if (!dir_char(s[i]))
				return false;
			i++;
		}
		if (i == start)
			return false;
		if (i < len && ++i == len)
			return false; /* a trailing '/' */
	}
	return true;
}

bool cairn__version_valid_n(const char *s, size_t len)
{
	const char *slash = len ? memrchr(s, '/', len) : NULL;
	size_t i = slash ? (size_t)(slash - s) + 1 : 0;

	if (!len || len > VERSION_MAX_LEN)
		return false;
	if (slash && !cairn__version_dir_valid(s, i - 1))
		return false;
	for (;;) {
		size_t start = i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i - start > VERSION_PART_MAX)
			return false;
		if (i == len)
			return true;
		if ((s[i] != '.' && s[i] != '_') || ++i == len)
			return false;
	}
}

bool cairn__version_valid(const char *s)
{
	return s && cairn__version_valid_n(s, strlen(s));
}

char *cairn__version_normalize(const char *text, size_t len)
{
	const char *slash, *p, *end = text + len;
	size_t keep;
	char *out, *o;

	if (!cairn__version_valid_n(text, len)) {
		cairn_error__set(CAIRN_ERRCLASS_USAGE,
				 "'%.*s' is not a migration version",
				 (int)(len > VERSION_MAX_LEN ? VERSION_MAX_LEN
							     : len),
				 text);
		return NULL;
	}
	out = malloc(len + 1);
	if (!out) {
		cairn_error__oom();
		return NULL;
	}
	slash = memrchr(text, '/', len);
	p = slash ? slash + 1 : text;
	memcpy(out, text, (size_t)(p - text));
	o = out + (p - text);
	keep = 0;
	while (p < end) {
		const char *q = p;

		while (q < end && *q >= '0' && *q <= '9')
			q++;
		while (q - p > 1 && *p == '0')
			p++;
		if (o > out + (slash ? slash + 1 - text : 0))
			*o++ = '.';
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		if (!keep || q - p > 1 || *p != '0')
			keep = (size_t)(o - out);
		p = q + 1;
	}
	out[keep] = '\0';
	return out;
}

size_t cairn__edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *row, result;

	if (la > 256 || lb > 256)
		return (size_t)-1;
	row = calloc(lb + 1, sizeof(*row));
	if (!row)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev + cost;

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	result = row[lb];
	free(row);
	return result;
}

int64_t cairn__now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cairn__now_ms(void)
{
	return cairn__now_us() / 1000;
}

