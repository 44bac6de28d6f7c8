/*
 * migration_content.c - reading one migration's files on demand:
 * cairn_migration_load_content() and cairn_migration_set_load_contents().
 *
 * Sizes are checked first (git_odb_read_header or fstat, so a 1 GB blob
 * is never inflated), then NUL bytes ("binary"), UTF-8 ("not-utf8", with
 * the line of the first bad byte), and finally the `-- cairn:`
 * directives (src/directive.c).  Problems with a file are findings of
 * the set; only a failure to read the object database is an error.
 *
 * In the dbmate layout a migration is one file: the checksum is the
 * whole file's, the up and down texts are its `-- migrate:up` and
 * `-- migrate:down` sections (each keeping the file's line numbers), and
 * `transaction:false` on a marker line is no-transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/migration.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "repo_internal.h"
#include "util/util.h"

/*
 * Reads one file into a NUL-terminated buffer.  Problems with the file
 * itself become findings and leave *data NULL; only a failure to read
 * the object database is an error.
 */
static int read_git(cairn_migration_set *set, const cairn_migration *m,
		    const char *path, const char *blob, char **data,
		    size_t *len)
{
	git_odb_object *obj = NULL;
	git_object_t type;
	git_oid oid;
	size_t size;
	char *buf;

	if (git_oid_fromstr(&oid, blob) < 0 ||
	    git_odb_read_header(&size, &type, set->odb, &oid) < 0)
		return cairn_repo__error("cannot read '%s' (blob %s)", path,
					 blob);
	if (type != GIT_OBJECT_BLOB)
		return cairn_migration__file_finding(
			&set->findings, "unreadable", path, 0, m->version,
			NULL, "'", path, "' is not a blob");
	if (size > set->max_file_size) {
		char sfx[96];

		snprintf(sfx, sizeof(sfx), "' is %zu bytes, over the limit "
			 "of %zu", size, set->max_file_size);
		return cairn_migration__file_finding(
			&set->findings, "too-large", path, 0, m->version,
			"split the migration into smaller ones or raise the "
			"size limit",
			"'", path, sfx);
	}
	if (git_odb_read(&obj, set->odb, &oid) < 0)
		return cairn_repo__error("cannot read '%s' (blob %s)", path,
					 blob);
	size = git_odb_object_size(obj);
	buf = malloc(size + 1);
	if (!buf) {
		git_odb_object_free(obj);
		return cairn_error__oom();
	}
	memcpy(buf, git_odb_object_data(obj), size);
	buf[size] = '\0';
	git_odb_object_free(obj);
	*data = buf;
	*len = size;
	return 0;
}

static int unreadable(cairn_migration_set *set, const cairn_migration *m,
		      const char *path, int err)
{
	char sfx[160];

	snprintf(sfx, sizeof(sfx), "': %s", strerror(err));
	return cairn_migration__file_finding(&set->findings, "unreadable",
					     path, 0, m->version, NULL,
					     "cannot read '", path, sfx);
}

static int read_worktree(cairn_migration_set *set, const cairn_migration *m,
			 const char *path, char **data, size_t *len)
{
	cairn_buf buf = CAIRN_BUF_INIT;
	char *full;
	int rc = 0, err;

	full = cairn_migration__join(set->workdir, path);
	if (!full)
		return CAIRN_ERROR;
	cairn_buf_init(&buf, set->max_file_size + 1);
	rc = cairn__file_read(AT_FDCWD, full,
			      CAIRN_FILE_NOFOLLOW | CAIRN_FILE_REGULAR,
			      set->max_file_size, &buf);
	err = errno;
	free(full);
	if (rc < 0 && err == EFBIG) {
		char sfx[96];

		snprintf(sfx, sizeof(sfx), "' is over the size limit of %zu "
			 "bytes", set->max_file_size);
		rc = cairn_migration__file_finding(
			&set->findings, "too-large", path, 0, m->version,
			"split the migration into smaller ones or raise the "
			"size limit",
			"'", path, sfx);
		goto out;
	}
	if (rc < 0) {
		rc = unreadable(set, m, path, err);
		goto out;
	}
	*len = buf.size;
	*data = buf.size ? cairn_buf_detach(&buf) : cairn__strdup("");
	if (!*data)
		rc = cairn_error__oom();
out:
	cairn_buf_dispose(&buf);
	return rc;
}

/* Checks bytes are text; adds a finding and returns false when not. */
static int check_text(cairn_migration_set *set, const cairn_migration *m,
		      const char *path, const char *data, size_t len,
		      bool *ok)
{
	size_t bad = 0, i;
	unsigned line = 1;

	*ok = false;
	if (memchr(data, '\0', len))
		return cairn_migration__file_finding(
			&set->findings, "binary", path, 0, m->version,
			"migrations must be UTF-8 text files", "'", path,
			"' contains NUL bytes (binary file?)");
	if (!cairn__utf8_valid(data, len, &bad)) {
		char sfx[64];

		for (i = 0; i < bad; i++)
			if (data[i] == '\n')
				line++;
		snprintf(sfx, sizeof(sfx), "' is not valid UTF-8 (line %u)",
			 line);
		return cairn_migration__file_finding(
			&set->findings, "not-utf8", path, line, m->version,
			"save the file as UTF-8", "'", path, sfx);
	}
	*ok = true;
	return 0;
}

#define UTF8_BOM "\xEF\xBB\xBF"

/* Drops a leading UTF-8 byte order mark (in place, keeping the NUL). */
static void strip_bom(char *data, size_t *len)
{
	size_t n = sizeof(UTF8_BOM) - 1;

	if (*len >= n && !memcmp(data, UTF8_BOM, n)) {
		memmove(data, data + n, *len - n + 1);
		*len -= n;
	}
}

/*
 * Reads, checks and parses one file.  checksum (may be NULL) receives
 * the SHA-256 of the bytes as read, before a BOM is dropped.
 */
static int load_one(cairn_migration_set *set, cairn_migration *m,
		    const char *path, const char *blob, char **data,
		    size_t *len, cairn_directives *dirs, char *checksum,
		    bool *ok)
{
	size_t before = set->findings.count, i;
	bool text;
	int rc;

	*data = NULL;
	*len = 0;
	*ok = false;
	if (set->worktree)
		rc = read_worktree(set, m, path, data, len);
	else
		rc = read_git(set, m, path, blob, data, len);
	if (rc < 0 || !*data)
		return rc;
	if (checksum && (rc = cairn__sha256_hex(checksum, *data, *len)) < 0)
		return rc;
	strip_bom(*data, len);
	rc = check_text(set, m, path, *data, *len, &text);
	if (rc < 0 || !text)
		return rc;
	if (dirs && (rc = cairn_directives_parse(dirs, *data, *len, path,
						 &set->findings)) < 0)
		return rc;
	for (i = before; i < set->findings.count; i++) {
		cairn_finding *f = &set->findings.items[i];

		if (!f->version) {
			f->version = cairn__strdup(m->version);
			if (!f->version)
				return CAIRN_ERROR;
		}
	}
	*ok = set->findings.count == before;
	return 0;
}

/* ---- dbmate: one file, two sections ----------------------------------- */

/* The line at p is a `-- migrate:WHAT` marker (leading blanks allowed). */
static bool is_marker(const char *p, const char *end, const char *what,
		      bool *no_tx)
{
	size_t k = strlen(what);
	const char *eol;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < 11 + k || memcmp(p, "-- migrate:", 11) != 0 ||
	    memcmp(p + 11, what, k) != 0)
		return false;
	p += 11 + k;
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	if (p < eol && *p != ' ' && *p != '\t' && *p != '\r')
		return false;
	*no_tx = false;
	for (; p + 17 <= eol; p++)
		if (!memcmp(p, "transaction:false", 17))
			*no_tx = true;
	return true;
}

/*
 * A copy of [s, e) as a NUL-terminated string, after one newline for
 * each line of the file before it, so that findings about the section
 * (lint, syntax errors) name the file's own line numbers.
 */
static char *section(const char *file, const char *s, const char *e,
		     size_t *len)
{
	size_t lines = 0, n = (size_t)(e - s);
	char *r;

	for (const char *p = file; p < s; p++)
		lines += *p == '\n';
	r = malloc(lines + n + 1);
	if (!r) {
		cairn_error__oom();
		return NULL;
	}
	memset(r, '\n', lines);
	memcpy(r + lines, s, n);
	r[lines + n] = '\0';
	*len = lines + n;
	return r;
}

/*
 * Splits a dbmate file (m->up_sql, whole) into its up and down sections
 * and parses each one's directives; `transaction:false` on a marker is
 * cairn's no-transaction.  A file without `-- migrate:up` before any
 * `-- migrate:down` is a finding.
 */
static int dbmate_split(cairn_migration_set *set, cairn_migration *m,
			bool *ok)
{
	const char *p = m->up_sql, *end = m->up_sql + m->up_len;
	const char *up = NULL, *up_end = end, *down = NULL;
	bool up_tx = false, down_tx = false, tx;
	char *u = NULL, *d = NULL;
	size_t ulen = 0, dlen = 0;
	int rc;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;

		if (!up && is_marker(p, end, "up", &tx)) {
			up = next;
			up_tx = tx;
		} else if (up && !down && is_marker(p, end, "down", &tx)) {
			up_end = p;
			down = next;
			down_tx = tx;
		} else if (!up && is_marker(p, end, "down", &tx)) {
			break;
		}
		p = next;
	}
	*ok = false;
	if (!up)
		return cairn_migration__file_finding(
			&set->findings, "bad-directive", m->up_path, 1,
			m->version,
			"a dbmate migration starts with '-- migrate:up' and may "
			"end with a '-- migrate:down' section",
			"'", m->up_path, "' has no '-- migrate:up' section");
	u = section(m->up_sql, up, up_end, &ulen);
	d = down ? section(m->up_sql, down, end, &dlen) : cairn__strdup("");
	if (!u || !d) {
		free(u);
		free(d);
		return CAIRN_ERROR;
	}
	free(m->up_sql);
	free(m->down_sql);
	m->up_sql = u;
	m->up_len = ulen;
	m->down_sql = d;
	m->down_len = dlen;
	rc = cairn_directives_parse(&m->up_directives, u, ulen, m->up_path,
				    &set->findings);
	if (rc == 0)
		rc = cairn_directives_parse(&m->down_directives, d, dlen,
					    m->down_path, &set->findings);
	m->up_directives.no_transaction |= up_tx;
	m->down_directives.no_transaction |= down_tx;
	*ok = true;
	return rc;
}

/* Reads a dbmate migration: one file, the down text a section of it. */
static int load_dbmate(cairn_migration_set *set, cairn_migration *m,
		       bool *ok)
{
	size_t before = set->findings.count;
	int rc;

	rc = load_one(set, m, m->up_path, m->up_blob, &m->up_sql, &m->up_len,
		      NULL, m->checksum, ok);
	if (rc < 0 || !*ok)
		return rc;
	rc = dbmate_split(set, m, ok);
	if (rc == 0 && set->findings.count != before)
		*ok = false;
	return rc;
}

int cairn_migration_load_content(cairn_migration_set *set,
				 cairn_migration *m)
{
	bool up_ok = false, down_ok = true;
	int rc;

	if (m->content_loaded)
		return 0;
	if (CAIRN_LAYOUT_KIND(set->layout) == CAIRN_LAYOUT_DBMATE) {
		rc = load_dbmate(set, m, &up_ok);
		if (rc < 0)
			goto fail;
		m->content_loaded = true;
		m->content_ok = up_ok;
		return 0;
	}
	rc = load_one(set, m, m->up_path, m->up_blob, &m->up_sql, &m->up_len,
		      &m->up_directives, m->checksum, &up_ok);
	if (rc < 0)
		goto fail;
	if (m->down_path) {
		rc = load_one(set, m, m->down_path, m->down_blob, &m->down_sql,
			      &m->down_len, &m->down_directives, NULL, &down_ok);
		if (rc < 0)
			goto fail;
	}
	m->content_loaded = true;
	m->content_ok = up_ok && down_ok;
	return 0;
fail:
	free(m->up_sql);
	free(m->down_sql);
	m->up_sql = m->down_sql = NULL;
	m->up_len = m->down_len = 0;
	m->checksum[0] = '\0';
	cairn_directives_dispose(&m->up_directives);
	cairn_directives_dispose(&m->down_directives);
	return rc;
}

int cairn_migration_set_load_contents(cairn_migration_set *set)
{
	size_t i;
	int rc;

	for (i = 0; i < set->count; i++) {
		rc = cairn_migration_load_content(set, &set->items[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}
