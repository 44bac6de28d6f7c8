/*
 * lockplan.h - which locks a migration's statements take, on which
 * tables, and whether they rewrite them.
 *
 * The SQL text is parsed with PostgreSQL's own parser (libpg_query, the
 * PostgreSQL 15 grammar), so the answer comes from the statement's parse
 * tree, never from keywords that happen to appear in a string or a
 * comment.  Each statement is classified the way the server locks it
 * (PostgreSQL 15: the "Table-level Locks" section of the manual and the
 * lock level of each ALTER TABLE subcommand):
 *
 *   ALTER TABLE             the strongest lock of its subcommands: ACCESS
 *                           EXCLUSIVE unless noted; SHARE UPDATE EXCLUSIVE
 *                           for VALIDATE CONSTRAINT, SET STATISTICS,
 *                           column and most table storage options, CLUSTER
 *                           ON, ATTACH PARTITION (the partition: ACCESS
 *                           EXCLUSIVE), DETACH PARTITION CONCURRENTLY;
 *                           SHARE ROW EXCLUSIVE for ADD FOREIGN KEY (on
 *                           both tables) and ENABLE/DISABLE TRIGGER
 *   rewrites                ADD COLUMN with a volatile default (random(),
 *                           gen_random_uuid(), clock_timestamp(), serial,
 *                           identity) or a stored generated column; ALTER
 *                           COLUMN TYPE (maybe not, when the change is
 *                           binary-coercible: varchar widening, to text);
 *                           SET LOGGED/UNLOGGED, SET TABLESPACE, SET
 *                           ACCESS METHOD; VACUUM FULL; CLUSTER; REFRESH
 *                           MATERIALIZED VIEW
 *   full scan, no rewrite   SET NOT NULL; ADD CHECK or FOREIGN KEY without
 *                           NOT VALID; VALIDATE CONSTRAINT; index builds;
 *                           UPDATE or DELETE without WHERE
 *   CREATE INDEX            SHARE; CONCURRENTLY: SHARE UPDATE EXCLUSIVE
 *   DROP TABLE/INDEX ...    ACCESS EXCLUSIVE (DROP INDEX CONCURRENTLY:
 *                           SHARE UPDATE EXCLUSIVE); TRUNCATE, CLUSTER,
 *                           VACUUM FULL, LOCK TABLE (its mode; default
 *                           ACCESS EXCLUSIVE), renames (of an index: SHARE
 *                           UPDATE EXCLUSIVE), CREATE RULE/POLICY,
 *                           DROP TRIGGER: ACCESS EXCLUSIVE
 *   CREATE TRIGGER          SHARE ROW EXCLUSIVE
 *   INSERT/UPDATE/DELETE    ROW EXCLUSIVE (MERGE, COPY FROM too)
 *   VACUUM, ANALYZE,        SHARE UPDATE EXCLUSIVE
 *   COMMENT ON, CREATE
 *   STATISTICS
 *
 * A relation created earlier in the same text is marked `created`: it is
 * new and empty, so its locks hurt nobody.  Some statements lock what
 * the text does not name, so their locks cannot be known from it
 * (`analysed` is false): DO blocks, CALL and a SELECT calling a function
 * cairn does not know run code; DROP SCHEMA and DROP ... CASCADE,
 * REINDEX SCHEMA/DATABASE, VACUUM or CLUSTER without a table act on
 * tables they do not name.  A SELECT otherwise takes ACCESS SHARE on
 * the relations of its FROM list.
 *
 * With a database, cairn_lock_plan_stats() adds each existing relation's
 * size (pg_total_relation_size) and the number of other sessions that
 * hold or wait for a lock on it right now (pg_locks), so a reviewer
 * reads "rewrites orders (41 GB, 3 sessions) under ACCESS EXCLUSIVE"
 * before deploying.
 */
#ifndef CAIRN_LOCKPLAN_H
#define CAIRN_LOCKPLAN_H

#include <stdint.h>

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PostgreSQL's table lock modes, weakest first (its LOCKMODE numbers). */
typedef enum cairn_lock_mode {
	CAIRN_LOCK_NONE = 0,
	CAIRN_LOCK_ACCESS_SHARE = 1,
	CAIRN_LOCK_ROW_SHARE = 2,
	CAIRN_LOCK_ROW_EXCLUSIVE = 3,
	CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE = 4,
	CAIRN_LOCK_SHARE = 5,
	CAIRN_LOCK_SHARE_ROW_EXCLUSIVE = 6,
	CAIRN_LOCK_EXCLUSIVE = 7,
	CAIRN_LOCK_ACCESS_EXCLUSIVE = 8
} cairn_lock_mode;

/* Whether a statement rewrites a table (copies every row to new files). */
typedef enum cairn_lock_rewrite {
	CAIRN_LOCK_REWRITE_NO = 0,
	CAIRN_LOCK_REWRITE_MAYBE, /* depends on what the text does not say (the
			      * old column type, a function's volatility) */
	CAIRN_LOCK_REWRITE_YES
} cairn_lock_rewrite;

typedef struct cairn_lock_target {
	char *schema;          /* NULL when unqualified (search_path) */
	char *name;            /* the relation as written, case-folded */
	bool is_index;         /* an index: the lock falls on its table */
	cairn_lock_mode mode;  /* the strongest lock the statement takes */
	cairn_lock_rewrite rewrite;
	bool scans;            /* reads every row while holding the lock */
	bool created;          /* created earlier in the same text */
	char *why;             /* what does it: "ADD COLUMN c (volatile
				* default), SET NOT NULL a" */

	/* Filled by cairn_lock_plan_stats() when the relation exists. */
	bool has_stats;
	int64_t size_bytes;    /* pg_total_relation_size; -1 when another
				* session held it ACCESS EXCLUSIVE too long
				* to measure */
	char *size_text;       /* pg_size_pretty: "41 GB"; NULL when -1 */
	int64_t sessions;      /* other sessions holding or waiting for a
				* lock on it (or, for an index, its table) */
	char *table;           /* an index's table (schema-qualified when
				* not visible), else NULL */
} cairn_lock_target;

typedef struct cairn_lock_statement {
	unsigned line;         /* 1-based line of the statement's first token */
	size_t offset;         /* byte offset of that token */
	char *kind;            /* "ALTER TABLE", "CREATE INDEX CONCURRENTLY" */
	bool analysed;         /* false: its locks are not known from the
				* text (runs code, or acts on tables it
				* does not name) */
	bool no_transaction;   /* cannot run inside a transaction block */
	cairn_lock_target *targets;
	size_t target_count;
} cairn_lock_statement;

typedef struct cairn_lock_plan {
	cairn_lock_statement *items;
	size_t count;
	/*
	 * Set when the text could not be analysed (a syntax error: the
	 * parser's message, and the line and column of the error; 0 when
	 * unknown).  items is then empty.
	 */
	char *error;
	unsigned error_line;
	unsigned error_column;
} cairn_lock_plan;

#define CAIRN_LOCK_PLAN_INIT { NULL, 0, NULL, 0, 0 }

/* "ACCESS EXCLUSIVE", ..., "" for CAIRN_LOCK_NONE. */
CAIRN_EXTERN(const char *) cairn_lock_mode_name(cairn_lock_mode mode);
/* "yes", "no", "maybe" */
CAIRN_EXTERN(const char *) cairn_lock_rewrite_name(cairn_lock_rewrite r);

/*
 * Parses sql (len bytes) and classifies its statements into out (which
 * must be initialized; what it held is replaced).  A syntax error is not
 * a failure: out->error says what and where.  Returns 0, or -1 when out
 * of memory.
 */
CAIRN_EXTERN(int) cairn_lock_plan_sql(cairn_lock_plan *out, const char *sql,
				      size_t len);

/*
 * Fills the size and session count of every target of plan that exists
 * in db (targets created earlier in the same text are skipped).  Names
 * resolve through the connection's search_path.  Returns 0, or -1 with
 * the error set when a query fails.
 */
CAIRN_EXTERN(int) cairn_lock_plan_stats(cairn_lock_plan *plan, cairn_db *db);

CAIRN_EXTERN(void) cairn_lock_plan_dispose(cairn_lock_plan *plan);

#ifdef __cplusplus
}
#endif

#endif
