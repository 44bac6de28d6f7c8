/*
 * git/commit.c - the one parser of commit headers and signature lines
 * (git/commit.h), and reading a commit's header through the object
 * reader.  Used by the history walks (git/walk.c), provenance, range and
 * the commit records of src/repo.c.
 */
#include <stdint.h>
#include <string.h>

#include "git/commit.h"
#include "util/error.h"

#define PARENT_LINE (7 + GIT_OID_HEXSZ + 1)

static bool hex_line(git_oid *out, const char *p, const char *end)
{
	return end - p > GIT_OID_HEXSZ && p[GIT_OID_HEXSZ] == '\n' &&
	       git_oid_fromstrn(out, p, GIT_OID_HEXSZ) == 0;
}

/* The value of header line `key ...` at p (before end), if it is one. */
static bool header_value(const char **val, size_t *vlen, const char *p,
			 const char *le, const char *key)
{
	size_t n = strlen(key);

	if ((size_t)(le - p) <= n || memcmp(p, key, n) != 0 || p[n] != ' ')
		return false;
	*val = p + n + 1;
	*vlen = (size_t)(le - *val);
	return true;
}

int cairn_git__commit_parse(cairn_git_commit *out, const unsigned char *data,
			     size_t len)
{
	const char *p = (const char *)data, *end = p + len;
	git_oid parent;

	memset(out, 0, sizeof(*out));
	if (end - p < 5 || memcmp(p, "tree ", 5) != 0 ||
	    !hex_line(&out->tree, p + 5, end))
		goto corrupt;
	p += 5 + GIT_OID_HEXSZ + 1;
	while (end - p >= PARENT_LINE && !memcmp(p, "parent ", 7)) {
		if (!hex_line(&parent, p + 7, end))
			goto corrupt;
		if (!out->parents)
			out->parents = p;
		out->nparents++;
		p += PARENT_LINE;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if (le == p) {
			out->message = p + 1;
			out->message_len = (size_t)(end - p - 1);
			break;
		}
		/* the first of each wins, as in git */
		if (!out->author &&
		    header_value(&out->author, &out->author_len, p, le,
				 "author"))
			;
		else if (!out->committer &&
			 header_value(&out->committer, &out->committer_len, p,
				      le, "committer"))
			;
		else if (!out->encoding)
			header_value(&out->encoding, &out->encoding_len, p, le,
				     "encoding");
		p = nl ? nl + 1 : end;
	}
	return 0;
corrupt:
	memset(out, 0, sizeof(*out));
	return cairn_error__set(CAIRN_ERRCLASS_GIT,
				"cannot parse a corrupt commit object");
}

void cairn_git__commit_parent(git_oid *out, const cairn_git_commit *c,
			       size_t i)
{
	git_oid_fromstrn(out, c->parents + i * PARENT_LINE + 7,
			 GIT_OID_HEXSZ);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The time and zone after the last '>' of a signature (0 when absent). */
static void signature_date(cairn_git_sig *out, const char *p, const char *end)
{
	uint64_t t = 0;
	int sign, hhmm = 0, digits = 0;

	while (p < end && is_space(*p))
		p++;
	if (p >= end || *p < '0' || *p > '9')
		return;
	while (p < end && *p >= '0' && *p <= '9') {
		if (t > ((uint64_t)INT64_MAX - 9) / 10)
			return;
		t = t * 10 + (uint64_t)(*p++ - '0');
	}
	out->time = (int64_t)t;
	while (p < end && is_space(*p))
		p++;
	if (p >= end || (*p != '+' && *p != '-'))
		return;
	sign = *p++ == '-' ? -1 : 1;
	while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
		hhmm = hhmm * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 4)
		out->offset = sign * ((hhmm / 100) * 60 + hhmm % 100);
}

void cairn_git__signature_parse(cairn_git_sig *out, const char *s, size_t len)
{
	const char *end = s + len, *lt, *gt, *last_gt = NULL, *q;

	memset(out, 0, sizeof(*out));
	lt = memchr(s, '<', len);
	gt = lt ? memchr(lt, '>', (size_t)(end - lt)) : NULL;
	if (!lt || !gt) {
		/* git cannot split it either: keep it whole, as written */
		while (s < end && is_space(*s))
			s++;
		while (end > s && is_space(end[-1]))
			end--;
		out->name = s;
		out->name_len = (size_t)(end - s);
		out->email = s + out->name_len;
		out->malformed = true;
		return;
	}
	q = lt;
	while (q > s && is_space(q[-1]))
		q--;
	out->name = s;
	out->name_len = (size_t)(q - s);
	out->email = lt + 1;
	out->email_len = (size_t)(gt - lt - 1);
	for (q = gt; q < end; q++)
		if (*q == '>')
			last_gt = q;
	signature_date(out, last_gt + 1, end);
}

int64_t cairn_git__commit_time(const cairn_git_commit *c)
{
	cairn_git_sig sig;

	/* a line git cannot split orders as time 0 */
	cairn_git__signature_parse(&sig, c->committer ? c->committer : "",
				   c->committer_len);
	return sig.time;
}

int cairn_git__commit_read(cairn_git_obj **obj, cairn_git_commit *c,
			   cairn_git_odb *db, const git_oid *id)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = cairn_git__odb_read_type(obj, db, id, GIT_OBJECT_COMMIT);
	if (rc < 0)
		return rc;
	rc = cairn_git__commit_parse(c, (*obj)->data, (*obj)->len);
	if (rc < 0) {
		cairn_error__detail("The commit is %s.", git_oid_tostr_s(id));
		cairn_git__obj_free(*obj);
		*obj = NULL;
	}
	return rc;
}
