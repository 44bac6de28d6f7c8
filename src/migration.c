/*
 * migration.c - the set of migrations at one git revision (or in the
 * working tree); see include/cairn/migration.h.
 *
 * This file holds the set itself (its accessors, lookup by version,
 * freeing) and the helpers about names that the other migration files
 * share: migration file names, the migrations directory, version order
 * (util.c), quoting and per-file findings.  Loading a set is
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

static const char *const layout_names[] = {
	"cairn", "golang-migrate", "dbmate", "flyway",
};

bool cairn_version_is_valid(const char *s)
{
	return cairn__version_valid(s);
}

bool cairn_versions_parse(const char *name, bool *per_directory)
{
	if (name && !strcmp(name, "global"))
		*per_directory = false;
	else if (name && !strcmp(name, "per-directory"))
		*per_directory = true;
	else
		return false;
	return true;
}

bool cairn_layout_parse(const char *name, cairn_layout *out)
{
	for (size_t i = 0; name && i < 4; i++)
		if (!strcmp(name, layout_names[i])) {
			*out = (cairn_layout)i;
			return true;
		}
	return false;
}

const char *cairn_layout_name(cairn_layout layout)
{
	unsigned k = (unsigned)CAIRN_LAYOUT_KIND(layout);

	return k < 4 ? layout_names[k] : "cairn";
}

/* Dialect infixes other tools use (golang-migrate projects, Kratos). */
static const char *const dialects[] = {
	"postgres", "postgresql", "pg", "mysql", "mariadb", "sqlite",
	"sqlite3", "cockroach", "cockroachdb", "crdb", "mssql", "sqlserver",
	"oracle", "clickhouse", "spanner", "redshift", "cassandra", NULL,
};

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

static size_t digits(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/*
 * The length of a dotted version at s: digit runs of at most 20 joined
 * by '.' (and by '_' when underscore is set, as Flyway writes V1_2__x);
 * a separator counts only when a digit follows it.  0 when s does not
 * start with a version or a run is too long.
 */
static size_t dotted(const char *s, bool underscore)
{
	size_t n = 0;

	for (;;) {
		size_t d = digits(s + n);

		if (d < 1 || d > 20)
			return 0;
		n += d;
		if (!(s[n] == '.' || (underscore && s[n] == '_')) ||
		    s[n + 1] < '0' || s[n + 1] > '9')
			return n;
		n++;
	}
}

static bool cairn_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/*
 * A name's dialect infix: with a dialect, "x.postgres" is "x" and
 * "x.mysql" another dialect's file; names without one are everyone's.
 */
static enum cairn_name_kind dialect_of(const char *dialect, const char *n,
				       size_t *len)
{
	const char *dot;
	size_t k;

	if (!dialect || !*dialect)
		return CAIRN_NAME_UP;
	dot = memrchr(n, '.', *len);
	if (!dot || dot == n)
		return CAIRN_NAME_UP;
	k = *len - (size_t)(dot + 1 - n);
	if (k == strlen(dialect) && !memcmp(dot + 1, dialect, k)) {
		*len = (size_t)(dot - n);
		return CAIRN_NAME_UP;
	}
	for (size_t i = 0; dialects[i]; i++)
		if (k == strlen(dialects[i]) && !memcmp(dot + 1, dialects[i], k))
			return CAIRN_NAME_SKIP;
	return CAIRN_NAME_UP;
}

/* <version>_<name>.(up|down).sql: the cairn and golang-migrate layouts. */
static enum cairn_name_kind parse_updown(bool any_name, const char *dialect,
					 const char *base,
					 struct cairn_name_parts *o)
{
	size_t n = strlen(base), end;
	size_t v = any_name ? digits(base) : dotted(base, false);
	enum cairn_name_kind kind;

	if (ends_with(base, n, ".up.sql")) {
		end = n - 7;
		kind = CAIRN_NAME_UP;
	} else if (ends_with(base, n, ".down.sql")) {
		end = n - 9;
		kind = CAIRN_NAME_DOWN;
	} else {
		return CAIRN_NAME_BAD;
	}
	if (v < 1 || (any_name && v > 20) || base[v] != '_' || v + 1 >= end)
		return CAIRN_NAME_BAD;
	o->vstart = 0;
	o->vlen = v;
	o->nstart = v + 1;
	o->nlen = end - o->nstart;
	for (size_t i = o->nstart; !any_name && i < end; i++)
		if (!cairn_name_char(base[i]))
			return CAIRN_NAME_BAD;
	if (base[o->nstart] == '.' || base[end - 1] == '.')
		return CAIRN_NAME_BAD;
	if (dialect_of(dialect, base + o->nstart, &o->nlen) == CAIRN_NAME_SKIP)
		return CAIRN_NAME_SKIP;
	return o->nlen ? kind : CAIRN_NAME_BAD;
}

/* <version>_<name>.sql: dbmate (the down text is a section of it). */
static enum cairn_name_kind parse_dbmate(const char *base,
					 struct cairn_name_parts *o)
{
	size_t n = strlen(base), v = digits(base);

	if (!ends_with(base, n, ".sql") || v < 1 || v > 20 ||
	    base[v] != '_' || v + 1 >= n - 4)
		return CAIRN_NAME_BAD;
	o->vstart = 0;
	o->vlen = v;
	o->nstart = v + 1;
	o->nlen = n - 4 - o->nstart;
	return CAIRN_NAME_UP;
}

/* V<version>__<desc>.sql and U<version>__<desc>.sql: Flyway. */
static enum cairn_name_kind parse_flyway(const char *base,
					 struct cairn_name_parts *o)
{
	size_t n = strlen(base), v;

	if (!ends_with(base, n, ".sql") || (base[0] != 'V' && base[0] != 'U'))
		return CAIRN_NAME_BAD;
	v = dotted(base + 1, true);
	if (v < 1 || strncmp(base + 1 + v, "__", 2) != 0 ||
	    3 + v >= n - 4)
		return CAIRN_NAME_BAD;
	o->vstart = 1;
	o->vlen = v;
	o->nstart = 3 + v;
	o->nlen = n - 4 - o->nstart;
	return base[0] == 'U' ? CAIRN_NAME_DOWN : CAIRN_NAME_UP;
}

enum cairn_name_kind cairn_migration__parse_name(cairn_layout layout,
						 const char *dialect,
						 const char *base,
						 struct cairn_name_parts *out)
{
	struct cairn_name_parts tmp;

	if (!out)
		out = &tmp;
	memset(out, 0, sizeof(*out));
	if (!base)
		return CAIRN_NAME_BAD;
	switch (CAIRN_LAYOUT_KIND(layout)) {
	case CAIRN_LAYOUT_GOLANG_MIGRATE:
		return parse_updown(true, dialect, base, out);
	case CAIRN_LAYOUT_DBMATE:
		return parse_dbmate(base, out);
	case CAIRN_LAYOUT_FLYWAY:
		return parse_flyway(base, out);
	case CAIRN_LAYOUT_CAIRN:
	default:
		return parse_updown(false, dialect, base, out);
	}
}

bool cairn_migration_parse_filename(const char *base, size_t *version_len,
				    const char **name, size_t *name_len,
				    bool *is_down)
{
	struct cairn_name_parts o;
	enum cairn_name_kind k;

	k = cairn_migration__parse_name(CAIRN_LAYOUT_CAIRN, NULL, base, &o);
	if (k != CAIRN_NAME_UP && k != CAIRN_NAME_DOWN)
		return false;
	if (o.vlen > 20 || digits(base) != o.vlen)
		return false; /* a dotted version: see the header */
	if (version_len)
		*version_len = o.vlen;
	if (name)
		*name = base + o.nstart;
	if (name_len)
		*name_len = o.nlen;
	if (is_down)
		*is_down = k == CAIRN_NAME_DOWN;
	return true;
}

/* cairn's version order (util.c). */
int cairn_migration__vcmp(const char *a, const char *b)
{
	return cairn__version_cmp(a, b);
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

void cairn_migration__dispose(cairn_migration *m)
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
		cairn_migration__dispose(&set->items[i]);
	free(set->items);
	for (i = 0; i < set->nrepeatables; i++)
		cairn_migration__dispose(&set->repeatables[i]);
	free(set->repeatables);
	cairn_findings_dispose(&set->findings);
	free(set->dir);
	free(set->dialect);
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
	size_t lo = 0, hi;

	if (!set || !cairn__version_valid(version))
		return NULL;
	hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cairn__version_cmp(set->items[mid].version, version);

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
