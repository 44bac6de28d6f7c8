/*
 * config_expand.h (internal) - ${VAR} expansion in cairn.yaml values.
 *
 * Syntax, as in a POSIX shell and docker compose:
 *   ${NAME}            the variable's value, or "" when it is unset
 *   ${NAME:-default}   the value, or `default` when unset or empty; the
 *                      default may itself hold references (nested up to
 *                      CAIRN_EXPAND_MAX_DEPTH levels)
 *   $$                 a literal '$'
 *   $ followed by anything else is kept as it is.
 * NAME is [A-Za-z_][A-Za-z0-9_]*.  Anything else inside ${...} and an
 * unterminated "${" are errors.  The expansion knows nothing of YAML: the
 * caller turns the byte offset of a problem into a line and column.
 */
#ifndef CAIRN_SRC_CONFIG_EXPAND_H
#define CAIRN_SRC_CONFIG_EXPAND_H

#include "attrs.h"

#include <stddef.h>

#include "cairn/config.h"

#define CAIRN_EXPAND_MAX_DEPTH 8
/* A value may not grow past this when variables are substituted. */
#define CAIRN_EXPAND_MAX_SIZE ((size_t)1024 * 1024)

typedef struct {
	size_t offset;    /* byte offset in the input of the bad '$' */
	const char *what; /* "unterminated '${'", ... (static) */
	const char *hint; /* static, or NULL */
} cairn_expand_problem;

/*
 * Expands s into *out (caller frees).  getenv_fn NULL means getenv(3).
 * Returns 0, or -1 with *problem filled (no error object is set; the
 * caller knows where the value came from and reports it).
 */
CAIRN_WARN_UNUSED int cairn_config__expand(char **out, cairn_expand_problem *problem,
			 const char *s, cairn_getenv_fn getenv_fn,
			 void *payload);

#endif
