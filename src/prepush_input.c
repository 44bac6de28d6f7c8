/*
 * prepush_input.c - git's hook input: the lines git writes to pre-push
 * ("<local ref> <local sha> <remote ref> <remote sha>") and post-rewrite
 * ("<old sha> <new sha> [<extra info>]") hooks; the contract is in
 * include/cairn/prepush.h.
 *
 * git's hook input is read strictly, line by line, with a cap on the
 * length of a line: fields are separated by exactly one space, ids are
 * 40 or 64 hex digits (stored lowercase), a CR before the LF is dropped
 * and an empty line is skipped.  Anything else is an error whose message
 * gives the line number and quotes (escaped, shortened) the offending
 * field, so a hook that is fed garbage says so instead of letting a push
 * through unchecked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/prepush.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "util/util.h"

bool cairn_oid_hex_is_zero(const char *hex)
{
	if (!hex || !*hex)
		return true;
	for (; *hex; hex++)
		if (*hex != '0')
			return false;
	return true;
}

/* Quotes a field for a message: escaped, at most 60 bytes of it. */
static int quote_field(cairn_buf *out, const char *s, size_t len)
{
	bool cut = len > 60;

	if (cairn_buf_putc(out, '\'') < 0 ||
	    cairn_migration__quote(out, s, cut ? 60 : len) < 0 ||
	    (cut && cairn_buf_puts(out, "...") < 0))
		return CAIRN_ERROR;
	return cairn_buf_putc(out, '\'');
}

static int input_error(const char *what, unsigned line, const char *reason,
		       const char *field, size_t field_len, const char *format)
{
	cairn_buf q = CAIRN_BUF_INIT;

	if (field && quote_field(&q, field, field_len) < 0)
		return CAIRN_ERROR;
	if (field)
		cairn_error__set(CAIRN_ERRCLASS_USAGE,
				 "malformed %s input on line %u: %s %s", what,
				 line, q.ptr, reason);
	else
		cairn_error__set(CAIRN_ERRCLASS_USAGE,
				 "malformed %s input on line %u: %s", what,
				 line, reason);
	cairn_error__detail("git writes one line per ref: '%s'.", format);
	cairn_buf_dispose(&q);
	return CAIRN_ERROR;
}

static bool is_hex_id(const char *s, size_t len)
{
	size_t i;

	if (len != 40 && len != 64)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* git refuses control characters in ref names (git check-ref-format). */
static bool has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

static void copy_id(char out[CAIRN_OID_HEXSZ], const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] + 32) : s[i];
	out[len] = '\0';
}

struct field {
	const char *p;
	size_t len;
};

struct line_reader {
	const char *data;
	size_t len;
	size_t pos;
	unsigned line;
	const char *what;
	const char *format;
};

/*
 * The next non-empty line without its LF (and CR): 1, 0 at the end, or
 * CAIRN_ERROR for a line that is too long or holds a NUL byte.
 */
static int next_line(struct line_reader *r, const char **p, size_t *n)
{
	while (r->pos < r->len) {
		const char *s = r->data + r->pos;
		const char *nl = memchr(s, '\n', r->len - r->pos);
		size_t l = nl ? (size_t)(nl - s) : r->len - r->pos;

		r->line++;
		r->pos += l + (nl ? 1 : 0);
		if (l && s[l - 1] == '\r')
			l--;
		if (l > CAIRN_PREPUSH_MAX_LINE) {
			char reason[64];

			snprintf(reason, sizeof(reason),
				 "the line is longer than %d bytes",
				 CAIRN_PREPUSH_MAX_LINE);
			return input_error(r->what, r->line, reason, NULL, 0,
					   r->format);
		}
		if (memchr(s, '\0', l))
			return input_error(r->what, r->line,
					   "the line contains a NUL byte", NULL,
					   0, r->format);
		if (!l)
			continue;
		*p = s;
		*n = l;
		return 1;
	}
	return 0;
}

/* Splits at single spaces; at most max fields, the last takes the rest. */
static int split(struct field *f, size_t max, const char *p, size_t n,
		 size_t *count)
{
	size_t k = 0;

	while (k < max) {
		const char *sp = k + 1 < max ? memchr(p, ' ', n) : NULL;
		size_t l = sp ? (size_t)(sp - p) : n;

		f[k].p = p;
		f[k].len = l;
		k++;
		if (!sp)
			break;
		p = sp + 1;
		n -= l + 1;
	}
	*count = k;
	for (size_t i = 0; i < k; i++)
		if (!f[i].len)
			return -1;
	return 0;
}

int cairn_prepush_parse(cairn_push_updates *out, const char *data,
			size_t len)
{
	static const char format[] =
		"<local ref> <local sha> <remote ref> <remote sha>";
	struct line_reader r = { data, len, 0, 0, "pre-push", format };
	const char *p;
	size_t n;
	int rc;

	while ((rc = next_line(&r, &p, &n)) == 1) {
		struct field f[5];
		cairn_push_update *u;
		size_t count;

		if (split(f, 5, p, n, &count) < 0 || count != 4)
			return input_error(r.what, r.line, count > 4 ?
				"expected 4 fields separated by single spaces, found more" :
				"expected 4 fields separated by single spaces",
				NULL, 0, format);
		if (has_control(f[0].p, f[0].len))
			return input_error(r.what, r.line,
				"is not a ref name (it holds a control character)",
				f[0].p, f[0].len, format);
		if (has_control(f[2].p, f[2].len))
			return input_error(r.what, r.line,
				"is not a ref name (it holds a control character)",
				f[2].p, f[2].len, format);
		if (!is_hex_id(f[1].p, f[1].len))
			return input_error(r.what, r.line,
				"is not an object id (40 or 64 hexadecimal digits)",
				f[1].p, f[1].len, format);
		if (!is_hex_id(f[3].p, f[3].len))
			return input_error(r.what, r.line,
				"is not an object id (40 or 64 hexadecimal digits)",
				f[3].p, f[3].len, format);
		if (f[1].len != f[3].len)
			return input_error(r.what, r.line,
				"the two object ids differ in length", NULL, 0,
				format);
		if (cairn__grow_array((void **)&out->items, &out->alloc,
				      out->count + 1, sizeof(*out->items)) < 0)
			return CAIRN_ERROR;
		u = &out->items[out->count];
		memset(u, 0, sizeof(*u));
		u->local_ref = cairn__strndup(f[0].p, f[0].len);
		u->remote_ref = cairn__strndup(f[2].p, f[2].len);
		if (!u->local_ref || !u->remote_ref) {
			free(u->local_ref);
			free(u->remote_ref);
			return CAIRN_ERROR;
		}
		copy_id(u->local_sha, f[1].p, f[1].len);
		copy_id(u->remote_sha, f[3].p, f[3].len);
		u->line = r.line;
		out->count++;
	}
	return rc;
}

void cairn_push_updates_dispose(cairn_push_updates *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->count; i++) {
		free(u->items[i].local_ref);
		free(u->items[i].remote_ref);
	}
	free(u->items);
	memset(u, 0, sizeof(*u));
}

int cairn_rewrite_parse(cairn_rewrites *out, const char *data, size_t len)
{
	static const char format[] = "<old sha> <new sha> [<extra info>]";
	struct line_reader r = { data, len, 0, 0, "post-rewrite", format };
	const char *p;
	size_t n;
	int rc;

	while ((rc = next_line(&r, &p, &n)) == 1) {
		struct field f[3];
		cairn_rewrite *w;
		size_t count;

		if (split(f, 3, p, n, &count) < 0 || count < 2)
			return input_error(r.what, r.line,
				"expected two object ids separated by a space",
				NULL, 0, format);
		if (!is_hex_id(f[0].p, f[0].len))
			return input_error(r.what, r.line,
				"is not an object id (40 or 64 hexadecimal digits)",
				f[0].p, f[0].len, format);
		if (!is_hex_id(f[1].p, f[1].len))
			return input_error(r.what, r.line,
				"is not an object id (40 or 64 hexadecimal digits)",
				f[1].p, f[1].len, format);
		if (cairn__grow_array((void **)&out->items, &out->alloc,
				      out->count + 1, sizeof(*out->items)) < 0)
			return CAIRN_ERROR;
		w = &out->items[out->count++];
		copy_id(w->old_sha, f[0].p, f[0].len);
		copy_id(w->new_sha, f[1].p, f[1].len);
	}
	return rc;
}

void cairn_rewrites_dispose(cairn_rewrites *r)
{
	if (!r)
		return;
	free(r->items);
	memset(r, 0, sizeof(*r));
}
