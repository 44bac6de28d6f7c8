/*
 * config_read.h (internal) - typed readers over the YAML tree, with
 * located errors, shared by config.c and hook_spec.c.
 *
 * A reader takes a key/value pair of a mapping and turns its value into
 * a C value: it expands ${VAR} (config_expand.h) in scalars, checks the
 * type and reports mistakes as "FILE:LINE:COL: what" with class
 * CAIRN_ERRCLASS_CONFIG, naming the key.  Conventions:
 *
 *  - an empty (null) value (`key:`, `key: ~`) leaves *out as it was, so
 *    defaults set beforehand survive; CAIRN_CFG_REQUIRED turns an empty
 *    value (null or "") into an error instead;
 *  - a value that expands to "" (an unset variable) is kept as "";
 *  - strings returned are the caller's; a reader that replaces a string
 *    frees the old one.
 */
#ifndef CAIRN_SRC_CONFIG_READ_H
#define CAIRN_SRC_CONFIG_READ_H

#include "util/attrs.h"

#include <stdint.h>

#include "cairn/config.h"
#include "util/yaml_tree.h"

typedef struct cairn_cfg_ctx {
	const char *file;          /* the name used in messages */
	cairn_getenv_fn getenv_fn; /* NULL: getenv(3) */
	void *payload;
} cairn_cfg_ctx;

#define CAIRN_CFG_REQUIRED 1u

/* Sets "FILE:LINE:COL: <fmt>" at a node; returns CAIRN_ERROR. */
int cairn_cfg__error(const cairn_cfg_ctx *c, const cairn_yaml_node *at,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cairn_cfg__error_at(const cairn_cfg_ctx *c, unsigned line,
			unsigned column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Sets the hint of the current error: "did you mean 'x'?" when a name in
 * the NULL-terminated `known` is close to `got`, else "valid <what>: a, b".
 */
void cairn_cfg__suggest(const char *got, const char *const *known,
			const char *what);

/* "unknown key 'k' <where>" at the key, with a suggestion. */
int cairn_cfg__unknown_key(const cairn_cfg_ctx *c, const cairn_yaml_node *key,
			   const char *where, const char *const *known);

/* Index of name in the NULL-terminated list, or -1. */
CAIRN_WARN_UNUSED int cairn_cfg__lookup(const char *const *list, const char *name);

/*
 * Checks that the value is a map (returns 1) or empty (returns 0, to be
 * read as an empty map); anything else is an error (CAIRN_ERROR).
 */
CAIRN_WARN_UNUSED int cairn_cfg__want_map(const cairn_cfg_ctx *c, const cairn_yaml_pair *kv);
/* The same for a list. */
CAIRN_WARN_UNUSED int cairn_cfg__want_list(const cairn_cfg_ctx *c, const cairn_yaml_pair *kv);

/*
 * Expands a scalar node into *out; `what` names it in the message when it
 * is not a scalar.  Problems inside the value are placed at their column
 * when it can be known (one-line plain or quoted scalars).
 */
CAIRN_WARN_UNUSED int cairn_cfg__expand_node(char **out, const cairn_cfg_ctx *c,
			   const cairn_yaml_node *n, const char *what);

CAIRN_WARN_UNUSED int cairn_cfg__string(char **out, const cairn_cfg_ctx *c,
		      const cairn_yaml_pair *kv, unsigned flags);
/* true/false (also True, TRUE, False, FALSE). */
CAIRN_WARN_UNUSED int cairn_cfg__bool(bool *out, const cairn_cfg_ctx *c,
		    const cairn_yaml_pair *kv);
/* A decimal integer in [min, max]. */
CAIRN_WARN_UNUSED int cairn_cfg__uint(unsigned *out, const cairn_cfg_ctx *c,
		    const cairn_yaml_pair *kv, unsigned min, unsigned max);
/*
 * A duration through cairn__parse_duration_ms ("10s", "500ms", "5min",
 * "1h"; a bare number is milliseconds).  Zero is refused unless
 * allow_zero.
 */
CAIRN_WARN_UNUSED int cairn_cfg__duration(uint64_t *out, const cairn_cfg_ctx *c,
			const cairn_yaml_pair *kv, bool allow_zero);
/*
 * One of the NULL-terminated `names`; *out gets its index.  `what` names
 * the set in the hint ("formats").
 */
CAIRN_WARN_UNUSED int cairn_cfg__enum(int *out, const cairn_cfg_ctx *c,
		    const cairn_yaml_pair *kv, const char *const *names,
		    const char *what);
/*
 * A list of strings; *out is NULL-terminated, *count excludes the NULL.
 * Items may not be empty.
 */
CAIRN_WARN_UNUSED int cairn_cfg__string_list(char ***out, size_t *count,
			   const cairn_cfg_ctx *c, const cairn_yaml_pair *kv);
/* A map of strings to strings (keys are not expanded). */
CAIRN_WARN_UNUSED int cairn_cfg__kv_map(cairn_kv **out, size_t *count, const cairn_cfg_ctx *c,
		      const cairn_yaml_pair *kv);

/* True when s matches [A-Za-z_][A-Za-z0-9_]* (an environment name, a C
 * symbol). */
bool cairn_cfg__is_identifier(const char *s);

void cairn_cfg__strv_free(char **v, size_t count);
void cairn_cfg__kv_free(cairn_kv *kv, size_t count);

#endif
