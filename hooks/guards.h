/*
 * guards.h - the built-ins that check before cairn touches a database,
 * and the audit-file mirror: lint, require-clean-tree, allowed-refs,
 * db-reachable and audit-file.
 *
 * Each is an init function of type cairn_plugin_init_fn (cairn/hook.h)
 * that registers one hook at the event of its configuration entry
 * (api->spec), honouring the entry's name, on_failure, timeout and only:
 * filters, exactly as a plugin would.  hooks/builtins.c lists them.
 */
#ifndef CAIRN_HOOKS_GUARDS_H
#define CAIRN_HOOKS_GUARDS_H

#include "cairn/hook.h"

/* lint: vetoes a migration whose up file has lint errors (hooks/lint.c). */
int cairn_builtin_lint_init(const cairn_plugin_api *api);
/* require-clean-tree: refuses a dirty work tree or index
 * (hooks/require_clean_tree.c). */
int cairn_builtin_require_clean_tree_init(const cairn_plugin_api *api);
/* allowed-refs: the deployed commit must be on an allowed ref
 * (hooks/allowed_refs.c). */
int cairn_builtin_allowed_refs_init(const cairn_plugin_api *api);
/* db-reachable: SELECT 1 on the run's connection (hooks/db_reachable.c). */
int cairn_builtin_db_reachable_init(const cairn_plugin_api *api);
/* audit-file: one JSON line per event to a file (hooks/audit_file.c). */
int cairn_builtin_audit_file_init(const cairn_plugin_api *api);

#endif
