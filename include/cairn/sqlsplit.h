/*
 * sqlsplit.h - splitting SQL text into statements.
 *
 * Understands what PostgreSQL's lexer does at the level needed to find
 * statement boundaries: '...' strings with '' escapes, E'...' strings with
 * backslash escapes, "..." identifiers, $tag$...$tag$ dollar quoting,
 * -- comments and nested C-style block comments.  Empty statements (only
 * whitespace, comments and semicolons) are dropped.  Used by lint, by
 * no-transaction migrations (each statement is sent on its own), and to
 * name the line of a failing statement.
 */
#ifndef CAIRN_SQLSPLIT_H
#define CAIRN_SQLSPLIT_H

#include "common.h"

typedef struct cairn_sql_statement {
	size_t offset;     /* byte offset of the first non-blank character */
	size_t length;     /* up to and excluding the terminating ';' */
	unsigned line;     /* 1-based line of offset */
} cairn_sql_statement;

typedef struct cairn_sql_statements {
	cairn_sql_statement *items;
	size_t count;
	size_t alloc;
	bool unterminated; /* text ended inside a string, comment or quote */
} cairn_sql_statements;

#define CAIRN_SQL_STATEMENTS_INIT { NULL, 0, 0, false }

CAIRN_EXTERN(int) cairn_sql_split(cairn_sql_statements *out, const char *sql,
				  size_t len);
CAIRN_EXTERN(void) cairn_sql_statements_dispose(cairn_sql_statements *s);

/* The 1-based line of byte offset `off` in sql. */
CAIRN_EXTERN(unsigned) cairn_sql_line_of(const char *sql, size_t len,
					 size_t off);

#endif
