/*
 * report.h - printing validation findings in every output format:
 * text (for people), json, junit (CI test reports), github (workflow
 * annotations plus a step summary) and gitlab (Code Quality JSON).
 */
#ifndef CAIRN_CLI_REPORT_H
#define CAIRN_CLI_REPORT_H

#include <jansson.h>

#include "cairn/finding.h"
#include "cairn/migration.h"
#include "cli.h"

/* A JSON string from text that may not be UTF-8 (escaped if not). */
json_t *cli_json_str(const char *s);
/* A JSON string or null. */
json_t *cli_json_str_or_null(const char *s);

/*
 * Prints findings for `what` (e.g. "validate") in cli->format.  `set` (may
 * be NULL) lists the migrations checked, for junit's passing testcases.
 */
int cli_print_findings(struct cli *cli, const char *what,
		       const cairn_findings *findings,
		       const cairn_migration_set *set);

/* One finding as a JSON object (code, severity, file, line, ...). */
json_t *cli_finding_json(const cairn_finding *f);
/* The JSON document print_findings writes: ok, checked, errors,
 * warnings, findings. */
json_t *cli_findings_json(const cairn_findings *fs,
			  const cairn_migration_set *set);

/*
 * Files of the migrations directory that validate rejects and that the
 * set therefore leaves out (a second file with the same version, a bad
 * name, a down file without an up file...): the set's error findings.
 * `status` and `plan A..B` list them, so nothing is dropped silently.
 * cli_print_invalid prints one line per file ("  invalid  V  file:
 * reason [code]"), or a markdown list item with `markdown`.
 */
/*
 * Warns once per commit whose author line git could not split (the
 * author is shown as written, as `git log` does).
 */
void cli_warn_malformed_authors(struct cli *cli,
				const cairn_migration_set *set);
size_t cli_invalid_count(const cairn_migration_set *set);
json_t *cli_invalid_json(const cairn_migration_set *set);
void cli_print_invalid(struct cli *cli, const cairn_migration_set *set,
		       bool markdown);

/* The GitHub workflow-command escaping of a message or a property. */
char *cli_github_escape(const char *s, bool property);
/* XML escaping for attribute values and text. */
char *cli_xml_escape(const char *s);

#endif
