/*
 * adopt.h (internal) - what baseline.c and the importers share with the
 * adoption driver (adopt.c).
 *
 * The driver takes the deploy lock, checks that cairn's tracking table is
 * empty, asks the command for its plan (the migrations to record and,
 * for an import, what the other tool said about each), loads their
 * checksums and provenance, and writes the tracking rows and one audit
 * row per migration in one transaction.  A refusal (findings) or a
 * failure gets its own audit row.
 */
#ifndef CAIRN_SRC_ADOPT_H
#define CAIRN_SRC_ADOPT_H

#include "util/attrs.h"

#include "cairn/adopt.h"
#include "run.h"

/*
 * Fills out->entries (version order) or adds error findings to
 * out->findings.  Returns 0 (findings decide a refusal) or CAIRN_ERROR
 * with the error set.
 */
typedef int (*adopt_plan_fn)(run *r, const cairn_adopt_options *a,
			     cairn_adopt_result *out);

/*
 * Runs an adoption: what is "baseline" or "import" (the audit event),
 * outcome "baselined" or "imported".
 */
CAIRN_WARN_UNUSED int adopt__run(cairn_adopt_result *out,
				 const cairn_run_options *o,
				 const cairn_adopt_options *a, const char *what,
				 const char *outcome, adopt_plan_fn plan);

/* Appends an entry (strings copied; NULL allowed but for version, name). */
CAIRN_WARN_UNUSED int adopt__add(cairn_adopt_result *out, const char *version,
				 const char *name, const char *tool_version,
				 const char *installed_by,
				 const char *installed_on);

/* Adds an error finding with a hint; returns 0 (or CAIRN_ERROR on OOM). */
int adopt__refuse(cairn_adopt_result *out, const char *code,
		  const char *version, const char *hint, const char *fmt, ...)
	CAIRN_FORMAT_PRINTF(5, 6);

/*
 * One record of another tool's history: the key it uses (a version, or
 * a change name for Sqitch), who and when (NULL when unknown).
 */
typedef struct {
	char *key;
	char *who;
	char *when;
} adopt_record;

typedef struct {
	adopt_record *items;
	size_t count, alloc;
	/*
	 * Every migration at or below this version is applied (the single
	 * row of golang-migrate, a Flyway baseline marker); NULL when the
	 * history lists each migration.  upto_key is the tool's own text.
	 */
	char *upto;
	char *upto_key;
	bool upto_listed; /* upto must be a migration at the revision */
	bool by_name;     /* keys are migration names (Sqitch) */
} adopt_history;

CAIRN_WARN_UNUSED int adopt__record(adopt_history *h, const char *key,
				    const char *who, const char *when);
void adopt__history_dispose(adopt_history *h);

/*
 * The importers (import_read.c): read the tool's table on db (never
 * writing), fill h, and add findings for what they refuse (a dirty
 * golang-migrate version, a failed Flyway row...).
 */
typedef int (*adopt_reader)(adopt_history *h, cairn_db *db,
			    cairn_adopt_result *out);
int adopt__read_golang_migrate(adopt_history *h, cairn_db *db,
			       cairn_adopt_result *out);
int adopt__read_dbmate(adopt_history *h, cairn_db *db,
		       cairn_adopt_result *out);
int adopt__read_flyway(adopt_history *h, cairn_db *db,
		       cairn_adopt_result *out);
int adopt__read_sqitch(adopt_history *h, cairn_db *db,
		       cairn_adopt_result *out);

/*
 * A version written by another tool as cairn's version, normalized
 * (cairn__version_normalize(): "0042" -> "42", "1.2.0" -> "1.2"; caller
 * frees), or NULL when it is not a version.
 */
char *adopt__version(const char *text);

#endif
