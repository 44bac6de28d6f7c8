/*
 * migration_internal.h - the inside of a cairn_migration_set, shared by
 * src/migration.c (the set, names), src/migration_load.c and
 * src/migration_pair.c (loading), src/migration_content.c (contents),
 * src/directive.c (directives) and the provenance files (history).
 *
 * A set owns its migrations (an array sorted by version), its findings,
 * and a reference to the repository's object database, so that contents
 * can be read later without the caller handing the repository back.
 */
#ifndef CAIRN_SRC_MIGRATION_INTERNAL_H
#define CAIRN_SRC_MIGRATION_INTERNAL_H

#include "util/attrs.h"

#include <git2.h>

#include "cairn/migration.h"
#include "util/buf.h"

struct cairn_migration_set {
	cairn_migration *items;     /* sorted by version */
	size_t count;
	char commit[CAIRN_OID_HEXSZ];
	char tree[CAIRN_OID_HEXSZ];
	char *dir;                  /* normalized: "db/migrations", "" = root */
	bool worktree;
	char *workdir;              /* worktree mode: the work tree, with '/' */
	git_odb *odb;               /* git mode: our own reference */
	size_t max_file_size;
	cairn_layout layout;
	char *dialect;              /* NULL: none */
	cairn_findings findings;
	/* repeatable migrations, sorted by name (migration_repeatable.c) */
	cairn_migration *repeatables;
	size_t nrepeatables, arepeatables;
};

/* What a file name is in a layout (cairn_migration__parse_name()). */
enum cairn_name_kind {
	CAIRN_NAME_BAD = 0,     /* not a migration file name */
	CAIRN_NAME_UP,
	CAIRN_NAME_DOWN,
	CAIRN_NAME_SKIP         /* another dialect's file: ignored */
};

/* The parts of a migration file name, as offsets into the base name. */
struct cairn_name_parts {
	size_t vstart, vlen;    /* the version's digits */
	size_t nstart, nlen;    /* the name (a dialect infix left out) */
	const char *why;        /* CAIRN_NAME_BAD: a reason, or NULL */
};

/*
 * Parses a file's base name in a layout; dialect may be NULL.  See
 * cairn_layout in include/cairn/migration.h.
 */
enum cairn_name_kind cairn_migration__parse_name(cairn_layout layout,
						 const char *dialect,
						 const char *base,
						 struct cairn_name_parts *out);

/*
 * The normalized version of a migration file whose name parsed as np:
 * its number, with its directory (dir, dlen bytes, below the migrations
 * directory) in front when each directory numbers its own
 * (CAIRN_LAYOUT_PER_DIRECTORY): "billing/3".  NULL when out of memory.
 */
char *cairn_migration__file_version(cairn_layout layout, const char *dir,
				    size_t dlen, const char *base,
				    const struct cairn_name_parts *np);

/*
 * Appends s (len bytes) to out in a form safe to show on one line: bytes
 * below 0x20, 0x7f, backslash and invalid UTF-8 become \n, \t, \\ or
 * \xNN; everything else is copied.
 */
CAIRN_WARN_UNUSED int cairn_migration__quote(cairn_buf *out, const char *s, size_t len);

/*
 * Normalizes a migrations directory ("./db//migrations/" ->
 * "db/migrations"; "." -> "").  Returns NULL and sets a usage error for
 * absolute paths and "..".
 */
char *cairn_migration__normalize_dir(const char *dir);

/* Frees what a migration holds (not m itself). */
void cairn_migration__dispose(cairn_migration *m);

/* The path of m's up file relative to the set's directory. */
const char *cairn_migration__rel_up(const cairn_migration_set *set,
				    const cairn_migration *m);

/* Numeric order of normalized versions: shorter is smaller. */
CAIRN_WARN_UNUSED int cairn_migration__vcmp(const char *a, const char *b);

/*
 * a + '/' + b (no '/' added when a is empty or ends in one).  Returns
 * NULL with an error set on failure.
 */
char *cairn_migration__join(const char *a, const char *b);

/*
 * Adds an error finding about one file to list; the message is prefix +
 * the quoted name + suffix.
 */
CAIRN_WARN_UNUSED int cairn_migration__file_finding(cairn_findings *list, const char *code,
				  const char *path, unsigned line,
				  const char *version, const char *hint,
				  const char *prefix, const char *name,
				  const char *suffix);

#endif
