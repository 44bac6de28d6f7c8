/*
 * pgparse.h - PostgreSQL's own parser (libpg_query) over a migration
 * file: its statements with their places, its syntax error, and a few
 * accessors for walking the parse tree.
 *
 * cairn_pg_parse() hands the whole file to pg_query_parse(), which runs
 * the PostgreSQL 15 grammar and returns the raw parse tree as JSON; the
 * JSON is decoded with jansson and kept.  Each statement of the tree is
 * one cairn_pg_stmt: its node ({"CreateStmt": {...}}), the byte range of
 * its text (from its first token to the end of its last one, the same
 * boundaries as the hand-written splitter in util/sqlsplit.c gives) and
 * the line and column where it starts.  Nothing is executed and no
 * database is needed.
 *
 * A file the grammar rejects (`CREAT TABLE`, a psql `\` meta-command, an
 * unterminated string) gives no statements but a syntax error: the
 * parser's message ("syntax error at or near \"CREAT\"") and the byte
 * offset, line and column it points at (the parser counts characters;
 * the offset is converted to bytes).
 *
 * Tree accessors take and return borrowed json_t pointers that live as
 * long as the cairn_pg_file.  Node lists in the tree are JSON arrays of
 * one-key objects ({"String": {"sval": "x"}}); cairn_pg_node() opens one.
 */
#ifndef CAIRN_SRC_PGPARSE_H
#define CAIRN_SRC_PGPARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cairn/common.h"
#include "util/attrs.h"

typedef struct cairn_pg_stmt {
	const char *type; /* "CreateStmt", "AlterTableStmt", ... */
	json_t *node;     /* the statement's body (the object under type) */
	size_t offset;    /* byte offset of its first token */
	size_t length;    /* to the end of its last token */
	unsigned line;    /* 1-based line and column (in characters) */
	unsigned column;
} cairn_pg_stmt;

typedef struct cairn_pg_file {
	json_t *root;
	cairn_pg_stmt *items;
	size_t count;
	/* Set when the grammar rejected the text (items is then empty). */
	char *error;          /* the parser's message */
	size_t error_offset;  /* byte offset it points at */
	unsigned error_line;  /* 1-based */
	unsigned error_column;
} cairn_pg_file;

#define CAIRN_PG_FILE_INIT { NULL, NULL, 0, NULL, 0, 0, 0 }

/*
 * Parses sql (len bytes; sql[len] must be '\0').  A syntax error is not
 * a failure: it is stored in out->error.  Fails (CAIRN_ERROR, error set)
 * only when memory runs out, the text holds a NUL byte, or the parser's
 * output cannot be read.  out must be initialized; what it held before
 * is released.
 */
CAIRN_WARN_UNUSED int cairn_pg_parse(cairn_pg_file *out, const char *sql,
				     size_t len);
void cairn_pg_file_dispose(cairn_pg_file *f);

/* The 1-based line and column (in characters) of byte offset off. */
void cairn_pg_position(const char *sql, size_t len, size_t off,
		       unsigned *line, unsigned *column);

/* --- tree accessors (all accept NULL and return NULL/false/0) ---------- */

/* {"Type": body}: *type receives "Type"; returns body. */
json_t *cairn_pg_node(json_t *wrapped, const char **type);
/* The body of wrapped when it is a node of type, else NULL. */
json_t *cairn_pg_node_is(json_t *wrapped, const char *type);
json_t *cairn_pg_get(json_t *obj, const char *key);
const char *cairn_pg_str(json_t *obj, const char *key);
bool cairn_pg_bool(json_t *obj, const char *key);
long long cairn_pg_int(json_t *obj, const char *key);
/* The array under key (size 0 when absent). */
size_t cairn_pg_len(json_t *obj, const char *key);
json_t *cairn_pg_at(json_t *obj, const char *key, size_t i);
/* A list of String nodes ("names", "funcname"): the last one's sval. */
const char *cairn_pg_last_name(json_t *list);
/* The same list joined with '.', written to buf (truncated). */
void cairn_pg_names_join(json_t *list, char *buf, size_t size);

#endif
