/*
 * validate.h - the checks of `cairn validate` (DESIGN section 6).
 *
 * cairn_validate_run() gathers findings about one migration set: what
 * loading found (names, duplicates, symlinks, ...), what reading every
 * file finds (size, binary, UTF-8, directives), missing down files when
 * they are required, and, given the set at a base revision, migrations
 * edited or deleted since the base and new migrations numbered below the
 * base's highest (out-of-order).  Checks against a database (drift,
 * missing) are added by the engine; lint rules by the linter.
 *
 * Finding codes: bad-name, duplicate-version, missing-up, symlink,
 * submodule, too-large, binary, not-utf8, unreadable, unknown-directive,
 * bad-directive, missing-down, edited-after-push, deleted-after-push,
 * out-of-order.
 */
#ifndef CAIRN_VALIDATE_H
#define CAIRN_VALIDATE_H

#include "common.h"
#include "finding.h"
#include "migration.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_validate_options {
	unsigned int version;
	cairn_migration_set *base; /* set at the base revision, or NULL */
	const char *base_rev;      /* its name, for messages ("v1") */
	cairn_repo *repo;          /* to name the commits of edits; may be NULL */
	bool allow_out_of_order;   /* out-of-order is a warning, not an error */
	bool require_down;
} cairn_validate_options;

#define CAIRN_VALIDATE_OPTIONS_VERSION 1
#define CAIRN_VALIDATE_OPTIONS_INIT { CAIRN_VALIDATE_OPTIONS_VERSION, NULL, \
				      NULL, NULL, false, false }

CAIRN_EXTERN(int) cairn_validate_run(cairn_findings *out,
				     cairn_migration_set *set,
				     const cairn_validate_options *opts);

/* Copies every finding of src to the end of dst. */
CAIRN_EXTERN(int) cairn_findings_append(cairn_findings *dst,
					const cairn_findings *src);

#ifdef __cplusplus
}
#endif

#endif
