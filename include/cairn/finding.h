/*
 * finding.h - validation findings: what `cairn validate` reports.
 *
 * A finding has a stable code ("bad-name", "duplicate-version", "drift",
 * "lint/destructive" ...), a severity, the file it is about (relative to
 * the repository root), a line (0 when it does not apply), a one-line
 * message, an optional hint and an optional commit.  A list keeps them in
 * the order they were found; cairn_findings_sort() orders them by file,
 * line and code for stable output.
 */
#ifndef CAIRN_FINDING_H
#define CAIRN_FINDING_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	CAIRN_SEVERITY_ERROR = 0,
	CAIRN_SEVERITY_WARNING,
	CAIRN_SEVERITY_NOTICE
} cairn_severity;

typedef struct cairn_finding {
	char *code;
	cairn_severity severity;
	char *file;    /* NULL when the finding is about no single file */
	unsigned line; /* 1-based; 0 when none */
	char *version; /* the migration version, when known */
	char *message;
	char *hint;    /* NULL when none */
	char *commit;  /* hex sha, NULL when none */
} cairn_finding;

typedef struct cairn_findings {
	cairn_finding *items;
	size_t count;
	size_t alloc;
} cairn_findings;

#define CAIRN_FINDINGS_INIT { NULL, 0, 0 }

/*
 * Appends a finding; file, version, hint and commit may be NULL.  The
 * message is formatted printf-style.
 */
CAIRN_EXTERN(int) cairn_findings_add(cairn_findings *list, const char *code,
				     cairn_severity severity, const char *file,
				     unsigned line, const char *version,
				     const char *hint, const char *commit,
				     const char *fmt, ...)
	CAIRN_FORMAT_PRINTF(9, 10);
CAIRN_EXTERN(void) cairn_findings_sort(cairn_findings *list);
CAIRN_EXTERN(size_t) cairn_findings_count(const cairn_findings *list,
					  cairn_severity severity);
CAIRN_EXTERN(void) cairn_findings_dispose(cairn_findings *list);
CAIRN_EXTERN(const char *) cairn_severity_name(cairn_severity severity);

#ifdef __cplusplus
}
#endif

#endif
