/*
 * adopt.h - taking over a database that cairn did not build.
 *
 *   cairn_baseline()  records every migration up to a version as applied
 *                     without running it (the database already has that
 *                     schema); audit outcome `baselined`.
 *   cairn_import()    reads another tool's history table (golang-migrate,
 *                     dbmate, Flyway, Sqitch), matches it to the
 *                     migrations at the revision and records them as
 *                     applied; audit outcome `imported`.  The other
 *                     tool's table is only read.
 *
 * Both take the deploy lock, refuse when cairn's tracking table already
 * has rows, and write the tracking rows and their audit rows in one
 * transaction; a refusal or a failure gets its own audit row.  With
 * dry_run in the run options nothing is written and no lock is taken:
 * the result holds the mapping that would be recorded.
 */
#ifndef CAIRN_ADOPT_H
#define CAIRN_ADOPT_H

#include "common.h"
#include "engine.h"
#include "finding.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One migration taken over, and what the other tool recorded about it. */
typedef struct cairn_adopt_entry {
	char *version;      /* cairn's version (normalized digits) */
	char *name;         /* cairn's migration name */
	char *tool_version; /* the other tool's key for it; NULL: implied
			     * (below golang-migrate's version, below a
			     * Flyway baseline, or a cairn baseline) */
	char *installed_by; /* the other tool's "who"; NULL when unknown */
	char *installed_on; /* the other tool's "when" (ISO 8601); NULL */
} cairn_adopt_entry;

typedef struct cairn_adopt_result {
	char run_id[40];
	const char *tool;           /* "baseline", "dbmate", ... */
	cairn_adopt_entry *entries; /* in version order */
	size_t count;
	cairn_findings findings;    /* why it was refused */
	bool skipped;               /* on_migrate: nothing to baseline */
	char skip_reason[160];
} cairn_adopt_result;

typedef struct cairn_adopt_options {
	unsigned int version;
	const char *tool;   /* import: golang-migrate|dbmate|flyway|sqitch */
	const char *target; /* baseline: the version the schema is at */
	const char *reason; /* baseline: why (audit detail), may be NULL */
	/*
	 * baseline_on_migrate: baseline only when cairn's tracking table
	 * is empty and the database has tables of its own; otherwise set
	 * `skipped` and change nothing.
	 */
	bool on_migrate;
} cairn_adopt_options;

#define CAIRN_ADOPT_OPTIONS_VERSION 1
#define CAIRN_ADOPT_OPTIONS_INIT { .version = CAIRN_ADOPT_OPTIONS_VERSION }

/* The importers cairn knows, NULL-terminated. */
CAIRN_EXTERN(const char *const *) cairn_import_tools(void);

/*
 * Refusals are class CAIRN_ERRCLASS_VALIDATION with the reasons in
 * out->findings.  Caller disposes *out.
 */
CAIRN_EXTERN(int) cairn_baseline(cairn_adopt_result *out,
				 const cairn_run_options *opts,
				 const cairn_adopt_options *adopt);
CAIRN_EXTERN(int) cairn_import(cairn_adopt_result *out,
			       const cairn_run_options *opts,
			       const cairn_adopt_options *adopt);
CAIRN_EXTERN(void) cairn_adopt_result_dispose(cairn_adopt_result *r);

#ifdef __cplusplus
}
#endif

#endif
