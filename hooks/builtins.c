/*
 * builtins.c - the table of built-in hooks (hooks/builtins.h).
 *
 * One row per built-in: the name written after `builtin:` in cairn.yaml,
 * a one-line description, and the init function that registers its hooks
 * through the plugin API.  Adding a built-in is a file in hooks/ and a
 * row here.
 */
#include "builtins.h"
#include "guards.h"

static const cairn_builtin table[] = {
	{ "log", "structured JSON lines, one per event, to a file or the log",
	  cairn_builtin_log_init },
	{ "metrics",
	  "run counters, success rate and durations; Prometheus text file",
	  cairn_builtin_metrics_init },
	{ "audit-file", "JSON lines mirroring the audit trail, appended to path:",
	  cairn_builtin_audit_file_init },
	{ "require-clean-tree",
	  "refuse to run when the work tree or index differs from HEAD",
	  cairn_builtin_require_clean_tree_init },
	{ "allowed-refs", "deploy only commits on the branches or tags in refs:",
	  cairn_builtin_allowed_refs_init },
	{ "db-reachable", "SELECT 1 on the run's database connection",
	  cairn_builtin_db_reachable_init },
	{ "lint", "veto a migration whose up file has lint errors (pre_execute)",
	  cairn_builtin_lint_init },
};

const cairn_builtin *cairn_builtins(size_t *count)
{
	*count = sizeof(table) / sizeof(table[0]);
	return table;
}
