/*
 * hook_kinds_ext.h (internal) - registration of the webhook and plugin
 * hook kinds, for pipeline_build.c.
 *
 * Each function turns one cairn_hook_spec into pipeline hooks whose
 * payloads own everything they need at run time.  workdir is the
 * repository work dir (NULL: the current directory); plugin paths are
 * relative to it.  On failure they return CAIRN_ERROR with an error of
 * class CAIRN_ERRCLASS_CONFIG that names the hook but not the place in
 * cairn.yaml (the caller prefixes "file:line:column: "), and leave the
 * pipeline as it was.
 */
#ifndef CAIRN_SRC_HOOK_KINDS_EXT_H
#define CAIRN_SRC_HOOK_KINDS_EXT_H

#include "util/attrs.h"

#include "cairn/config.h"
#include "cairn/hook.h"

/* hook_webhook.c: `webhook: URL` (see include/cairn/webhook.h). */
CAIRN_WARN_UNUSED int cairn_hook__register_webhook(cairn_pipeline *p,
				 const cairn_hook_spec *spec,
				 const char *workdir);

/* hook_plugin.c: `plugin: path.so` (see include/cairn/plugin.h). */
CAIRN_WARN_UNUSED int cairn_hook__register_plugin(cairn_pipeline *p,
				const cairn_hook_spec *spec,
				const char *workdir);

#endif
