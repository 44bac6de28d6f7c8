/*
 * migration.c - the set of migrations at one git revision (or in the
 * working tree); see include/cairn/migration.h.
 *
 * This file holds the set itself (its accessors, lookup by version,
 * freeing) and the helpers about names that the other migration files
 * share: migration file names, the migrations directory, numeric version
 * order, quoting and per-file findings.  Loading a set is
 * src/migration_load.c (listing) and src/migration_pair.c (pairing),
 * reading a migration's contents src/migration_content.c.
 *
 * File names are arbitrary bytes.  Findings keep them as they are in the
 * `file` field (the command line escapes what it prints); messages and
 * hints quote them through cairn_migration__quote(), so a name with a
 * newline or invalid UTF-8 never breaks a one-line message.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/migration.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "util/util.h"

#define DEFAULT_DIR "db/migrations"

/* ---- names and helpers ------------------------------------------------ */

int cairn_migration__quote(cairn_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	while (len) {
		size_t bad = 0, n, i;
		bool ok = cairn__utf8_valid(s, len, &bad);

		n = ok ? len : bad;
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			char esc[4] = { '\\', 0, 0, 0 };
			int rc;

			if (c == '\n')
				esc[1] = 'n';
			else if (c == '\t')
				esc[1] = 't';
			else if (c == '\r')
				esc[1] = 'r';
			else if (c == '\\')
				esc[1] = '\\';
			if (esc[1]) {
				rc = cairn_buf_put(out, esc, 2);
			} else if (c < 0x20 || c == 0x7f) {
				esc[1] = 'x';
				esc[2] = hex[c >> 4];
				rc = cairn_buf_put(out, esc, 3);
				if (rc == 0)
					rc = cairn_buf_putc(out, hex[c & 15]);
			} else {
				rc = cairn_buf_putc(out, (char)c);
			}
			if (rc < 0)
				return rc;
		}
		if (ok)
			break;
		{
			unsigned char c = (unsigned char)s[n];
			char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

			if (cairn_buf_put(out, esc, 4) < 0)
				return CAIRN_ERROR;
		}
		s += n + 1;
		len -= n + 1;
	}
	return 0;
}

char *cairn_migration__normalize_dir(const char *dir)
{
	cairn_buf out = CAIRN_BUF_INIT;
	const char *p = dir;

	if (!dir)
		dir = p = DEFAULT_DIR;
	if (*p == '/') {
		cairn_error__set(CAIRN_ERRCLASS_USAGE,
				 "migrations directory '%s' must be relative "
				 "to the repository root", dir);
		return NULL;
	}
	while (*p) {
		const char *s = p;
		size_t n;

		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (*p)
			p++;
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			cairn_buf_dispose(&out);
			cairn_error__set(CAIRN_ERRCLASS_USAGE,
					 "migrations directory '%s' must not "
					 "contain '..'", dir);
			return NULL;
		}
		if ((out.size && cairn_buf_putc(&out, '/') < 0) ||
		    cairn_buf_put(&out, s, n) < 0) {
			cairn_buf_dispose(&out);
			return NULL;
		}
	}
	{
		char *r = cairn_buf_detach(&out);

		if (!r)
			cairn_error__oom();
		return r;
	}
}

const char *cairn_migration__rel_up(const cairn_migration_set *set,
				    const cairn_migration *m)
{
	size_t n = strlen(set->dir);

	return n ? m->up_path + n + 1 : m->up_path;
}

bool cairn_migration_parse_filename(const char *base, size_t *version_len,
				    const char **name, size_t *name_len,
				    bool *is_down)
{
	const char *p = base, *n;
	size_t vlen;

	if (!base)
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	vlen = (size_t)(p - base);
	if (vlen < 1 || vlen > 20 || *p != '_')
		return false;
	n = ++p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
		p++;
	if (p == n)
		return false;
	if (!strcmp(p, ".up.sql")) {
		if (is_down)
			*is_down = false;
	} else if (!strcmp(p, ".down.sql")) {
		if (is_down)
			*is_down = true;
	} else {
		return false;
	}
	if (version_len)
		*version_len = vlen;
	if (name)
		*name = n;
	if (name_len)
		*name_len = (size_t)(p - n);
	return true;
}

/* Numeric order of normalized versions: shorter is smaller. */
int cairn_migration__vcmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

char *cairn_migration__join(const char *a, const char *b)
{
	cairn_buf out = CAIRN_BUF_INIT;
	char *r;

	if (*a && (cairn_buf_puts(&out, a) < 0 ||
		   (a[strlen(a) - 1] != '/' && cairn_buf_putc(&out, '/') < 0)))
		goto fail;
	if (cairn_buf_puts(&out, b) < 0)
		goto fail;
	r = cairn_buf_detach(&out);
	if (!r)
		cairn_error__oom();
	return r;
fail:
	cairn_buf_dispose(&out);
	return NULL;
}

/*
 * Adds a finding about one file; the message is prefix + the quoted name
 * + suffix.
 */
int cairn_migration__file_finding(cairn_findings *list, const char *code,
				  const char *path, unsigned line,
				  const char *version, const char *hint,
				  const char *prefix, const char *name,
				  const char *suffix)
{
	cairn_buf q = CAIRN_BUF_INIT;
	int rc;

	rc = cairn_migration__quote(&q, name, strlen(name));
	if (rc == 0)
		rc = cairn_findings_add(list, code, CAIRN_SEVERITY_ERROR,
					path, line, version, hint, NULL,
					"%s%s%s", prefix, q.ptr, suffix);
	cairn_buf_dispose(&q);
	return rc;
}

/* ---- the set ---------------------------------------------------------- */

static void migration_dispose(cairn_migration *m)
{
	free(m->version);
	free(m->version_text);
	free(m->name);
	free(m->subdir);
	free(m->up_path);
	free(m->down_path);
	free(m->up_sql);
	free(m->down_sql);
	cairn_directives_dispose(&m->up_directives);
	cairn_directives_dispose(&m->down_directives);
	cairn_commit_info_dispose(&m->introduced);
	cairn_commit_info_dispose(&m->changed);
}

void cairn_migration_set_free(cairn_migration_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->count; i++)
		migration_dispose(&set->items[i]);
	free(set->items);
	cairn_findings_dispose(&set->findings);
	free(set->dir);
	free(set->workdir);
	git_odb_free(set->odb);
	free(set);
	git_libgit2_shutdown();
}

size_t cairn_migration_set_count(const cairn_migration_set *set)
{
	return set ? set->count : 0;
}

cairn_migration *cairn_migration_set_get(const cairn_migration_set *set,
					 size_t i)
{
	return set && i < set->count ? &set->items[i] : NULL;
}

cairn_migration *cairn_migration_set_find(const cairn_migration_set *set,
					  const char *version)
{
	size_t lo = 0, hi, len;
	const char *v = version;

	if (!set || !version)
		return NULL;
	for (len = 0; v[len]; len++)
		if (v[len] < '0' || v[len] > '9')
			return NULL;
	if (len == 0)
		return NULL;
	while (len > 1 && *v == '0') {
		v++;
		len--;
	}
	hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cairn_migration__vcmp(set->items[mid].version, v);

		if (c == 0)
			return &set->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *cairn_migration_set_max_version(const cairn_migration_set *set)
{
	return set && set->count ? set->items[set->count - 1].version : NULL;
}

const char *cairn_migration_set_commit(const cairn_migration_set *set)
{
	return set->commit;
}

const char *cairn_migration_set_dir(const cairn_migration_set *set)
{
	return set->dir;
}

const char *cairn_migration_set_tree(const cairn_migration_set *set)
{
	return set->tree;
}

bool cairn_migration_set_is_worktree(const cairn_migration_set *set)
{
	return set->worktree;
}

int cairn_migration_set_check_dir(const cairn_migration_set *set)
{
	size_t i;

	for (i = 0; i < set->findings.count; i++) {
		const cairn_finding *f = &set->findings.items[i];

		if (strcmp(f->code, "missing-dir") != 0)
			continue;
		cairn_error__set(CAIRN_ERRCLASS_VALIDATION, "%s", f->message);
		if (f->hint)
			cairn_error__hint("%s", f->hint);
		return CAIRN_ENOTFOUND;
	}
	return 0;
}

const cairn_findings *cairn_migration_set_findings(
	const cairn_migration_set *set)
{
	return &set->findings;
}
