/*
 * builtins.c - the table of built-in hooks (hooks/builtins.h).
 *
 * One row per built-in: the name written after `builtin:` in cairn.yaml,
 * a one-line description, and the init function that registers its hooks
 * through the plugin API.  Adding a built-in is a file in hooks/ and a
 * row here.
 */
#include "builtins.h"

static const cairn_builtin table[] = {
	{ "log", "structured JSON lines, one per event, to a file or the log",
	  cairn_builtin_log_init },
	{ "metrics",
	  "run counters, success rate and durations; Prometheus text file",
	  cairn_builtin_metrics_init },
};

const cairn_builtin *cairn_builtins(size_t *count)
{
	*count = sizeof(table) / sizeof(table[0]);
	return table;
}
