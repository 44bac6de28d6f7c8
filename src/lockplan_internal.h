/*
 * lockplan_internal.h - what the files of the lock analysis share
 * (lockplan.c: parsing and the statements; lockplan_alter.c: ALTER
 * TABLE's subcommands and default expressions; lockplan_db.c: sizes and
 * sessions from a database).
 *
 * The parse tree is libpg_query's JSON form read with jansson: every
 * node is an object with one key, its type ("AlterTableStmt"), whose
 * value holds the fields; a RangeVar appears bare in a field of its
 * parent and wrapped ({"RangeVar": {...}}) inside lists.  Absent fields
 * are false, 0 or empty: the helpers below read them that way.
 */
#ifndef CAIRN_SRC_LOCKPLAN_INTERNAL_H
#define CAIRN_SRC_LOCKPLAN_INTERNAL_H

#include <jansson.h>

#include "cairn/lockplan.h"
#include "pgparse.h"
#include "util/attrs.h"

typedef struct lp_ctx {
	cairn_lock_plan *plan;
	cairn_lock_statement *st;   /* the statement being classified */
	/* relations created so far in the text: schema ("" when none), name */
	char **created_schema;
	char **created_name;
	size_t created_count;
	size_t created_alloc;
} lp_ctx;

/*
 * The lock plan of a text already parsed (f; its syntax error becomes
 * out->error): cairn_lock_plan_sql() and the lint share it, so a file is
 * parsed once.  out must be initialized.  Returns 0, or -1 when out of
 * memory.
 */
CAIRN_WARN_UNUSED int cairn_lp__plan_parsed(cairn_lock_plan *out,
					    const cairn_pg_file *f);

/* The type of a wrapped node ("A_Const"), *body its fields; NULL if none. */
const char *cairn_lp__type(json_t *node, json_t **body);
/* The fields of node when it is wrapped as `type`, else NULL. */
json_t *cairn_lp__as(json_t *node, const char *type);
const char *cairn_lp__str(json_t *obj, const char *key);
bool cairn_lp__bool(json_t *obj, const char *key);
/* The sval of a {"String": {"sval": ...}} node, else NULL. */
const char *cairn_lp__sval(json_t *node);
/* The items of a list field: a bare array or {"List": {"items": [...]}}. */
json_t *cairn_lp__items(json_t *node);

/*
 * Records that the current statement locks relation schema.name (schema
 * may be NULL) in `mode`, merging with what it already records for that
 * relation: the stronger mode, the stronger rewrite, scans or-ed, why
 * appended (", " between parts).  Returns 0 or -1 (out of memory).
 */
CAIRN_WARN_UNUSED int cairn_lp__add(lp_ctx *c, const char *schema,
				    const char *name, bool is_index,
				    cairn_lock_mode mode, cairn_lock_rewrite rewrite,
				    bool scans, const char *why);
/* The same for a RangeVar node (bare or wrapped); no-op when it is not. */
CAIRN_WARN_UNUSED int cairn_lp__add_rangevar(lp_ctx *c, json_t *rv,
					     bool is_index,
					     cairn_lock_mode mode,
					     cairn_lock_rewrite rewrite, bool scans,
					     const char *why);

/* ALTER TABLE / INDEX / MATERIALIZED VIEW ... (AlterTableStmt fields). */
CAIRN_WARN_UNUSED int cairn_lp__alter_table(lp_ctx *c, json_t *stmt);

/*
 * Whether a default expression (a raw parse tree) is volatile: NO for
 * constants, casts of constants and stable or immutable functions
 * (now(), CURRENT_TIMESTAMP), YES for known volatile functions
 * (random(), gen_random_uuid(), clock_timestamp(), nextval(), ...),
 * MAYBE for any other function.
 */
cairn_lock_rewrite cairn_lp__volatility(json_t *expr);

#endif
