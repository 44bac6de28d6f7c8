/*
 * builtins.h - the hooks cairn ships, as the program hands them to
 * cairn_hooks_build() (cairn/hooks_config.h).
 *
 * Each built-in is written against the public hook interface only
 * (cairn/hook.h): an init function of type cairn_plugin_init_fn that
 * registers its hooks through the API table, exactly as a plugin does.
 * The library never names them; the program passes cairn_builtins().
 */
#ifndef CAIRN_HOOKS_BUILTINS_H
#define CAIRN_HOOKS_BUILTINS_H

#include "cairn/hook.h"
#include "cairn/hooks_config.h"

/* The table of built-ins, in the order `hooks list --builtins` shows. */
const cairn_builtin *cairn_builtins(size_t *count);

/* log: one JSON line per event (hooks/log.c). */
int cairn_builtin_log_init(const cairn_plugin_api *api);
/* metrics: run counters, summary line, Prometheus file (hooks/metrics.c). */
int cairn_builtin_metrics_init(const cairn_plugin_api *api);

#endif
