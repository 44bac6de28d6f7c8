/*
 * config_lint.h - the `lint:` section of cairn.yaml (config_lint.c).
 */
#ifndef CAIRN_SRC_CONFIG_LINT_H
#define CAIRN_SRC_CONFIG_LINT_H

#include "config_read.h"

/* Reads `lint: {disable, enable, allow, severity}` into cfg. */
CAIRN_WARN_UNUSED int cairn_config__read_lint(const cairn_cfg_ctx *c,
					      cairn_config *cfg,
					      const cairn_yaml_pair *kv);
/* Frees what cairn_config__read_lint stored in cfg. */
void cairn_config__lint_dispose(cairn_config *cfg);

#endif
