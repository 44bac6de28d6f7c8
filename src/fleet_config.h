/*
 * fleet_config.h (internal) - the fleet keys of an environment in
 * cairn.yaml (`targets`, `targets_file`, `targets_command`), read by
 * config.c, and the name/schema checks the target readers share.
 */
#ifndef CAIRN_SRC_FLEET_CONFIG_H
#define CAIRN_SRC_FLEET_CONFIG_H

#include "util/attrs.h"

#include "cairn/config.h"
#include "config_read.h"

/* which: 0 targets, 1 targets_file, 2 targets_command */
CAIRN_WARN_UNUSED int cairn_cfg__fleet_key(cairn_environment *env,
					   const cairn_cfg_ctx *c,
					   const cairn_yaml_pair *kv,
					   int which);
void cairn_cfg__fleet_dispose(cairn_environment *env);

/*
 * A target name: [A-Za-z0-9_.-], 1..63 characters, usable in a git ref
 * (no "..", no '.' or ".lock" at the end).
 */
bool cairn_fleet__valid_name(const char *s);
/*
 * Whether a field that is not a valid name or schema may be a URL or
 * connection string (then an error must not quote it: its password).
 */
bool cairn_fleet__may_be_url(const char *s);
/* A schema name as `schema:` takes it. */
bool cairn_fleet__valid_schema(const char *s);

void cairn_fleet__target_dispose(cairn_target *t);

#endif
