/*
 * hook_spec.h (internal) - one hook of cairn.yaml into a cairn_hook_spec.
 *
 * config.c walks `hooks:` (event -> list) and hands each list item here.
 * The item must be a map with exactly one kind key (run, sql, sql_file,
 * webhook, builtin, plugin); the other keys must be known and must apply
 * to that kind ("'expect' only applies to sql hooks").  Defaults are
 * filled in (timeout, retries, connect timeout, plugin symbol) and a name
 * is generated when none is given ("exec:<argv0 basename>", "sql",
 * "sql:<file basename>", "webhook:<host>", "builtin:<name>",
 * "plugin:<basename>"); a webhook's name never holds more of its URL than
 * the host, since URLs often carry tokens.
 */
#ifndef CAIRN_SRC_CONFIG_HOOK_H
#define CAIRN_SRC_CONFIG_HOOK_H

#include "util/attrs.h"

#include "cairn/config.h"
#include "config_read.h"

#define CAIRN_HOOK_DEFAULT_TIMEOUT_MS 30000
#define CAIRN_HOOK_DEFAULT_RETRIES 3
#define CAIRN_HOOK_MAX_RETRIES 10
#define CAIRN_HOOK_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define CAIRN_HOOK_DEFAULT_SYMBOL "cairn_plugin_init"

/*
 * Parses `node` (a hook listed under `event`) into *out.  env_names is the
 * NULL-terminated list of environment names that only.environments may
 * use.  On failure *out holds nothing that needs freeing.
 */
CAIRN_WARN_UNUSED int cairn_config__hook_parse(cairn_hook_spec *out, const cairn_cfg_ctx *c,
			     cairn_event event, const cairn_yaml_node *node,
			     const char *const *env_names);

/* Frees what a cairn_hook_spec holds (not the struct itself). */
void cairn_config__hook_dispose(cairn_hook_spec *h);

#endif
