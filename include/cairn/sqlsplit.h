/*
 * sqlsplit.h - splitting SQL text into statements, and statements into
 * tokens.
 *
 * Both follow what PostgreSQL's lexer (and psql's, for statement ends)
 * does, at the level needed to find statement boundaries and keywords:
 *
 *  - '...' strings with '' escapes; E'...' strings with backslash
 *    escapes (E'it\'s'); B'..', X'..', N'..' and U&'..' strings;
 *  - "..." identifiers with "" escapes (and U&"...");
 *  - dollar quoting, $$...$$ and $tag$...$tag$: only the opening tag
 *    closes, so other tags inside a function body are plain text;
 *  - -- comments to the end of the line and nested C-style block
 *    comments, which are skipped;
 *  - like psql, a ';' inside parentheses does not end a statement
 *    (CREATE RULE ... DO (INSERT ...; INSERT ...)), nor does one inside
 *    the BEGIN ... END of a SQL-standard function body (CREATE FUNCTION
 *    ... BEGIN ATOMIC ...; ...; END).  A BEGIN inside a dollar-quoted
 *    body (DO $$ BEGIN ... END $$) is string text and never a statement.
 *
 * Empty statements (only whitespace, comments and semicolons) are
 * dropped.  The splitter is used by lint, by no-transaction migrations
 * (each statement is sent on its own) and to name the line of a failing
 * statement; the tokenizer by lint, which matches keywords on tokens and
 * so never mistakes text in a string or a comment for SQL.
 */
#ifndef CAIRN_SQLSPLIT_H
#define CAIRN_SQLSPLIT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_sql_statement {
	size_t offset;     /* byte offset of the statement's first token */
	size_t length;     /* to the end of its last token: no terminating
			    * ';', no trailing blanks or comments */
	unsigned line;     /* 1-based line of offset */
} cairn_sql_statement;

typedef struct cairn_sql_statements {
	cairn_sql_statement *items;
	size_t count;
	size_t alloc;
	/*
	 * The text ended inside a string, quoted identifier, dollar quote
	 * or block comment.  unterminated_line is the line where that
	 * construct began, unterminated_what names it ("string", "quoted
	 * identifier", "dollar-quoted string", "comment").  The last
	 * statement then runs to the end of the text.
	 */
	bool unterminated;
	unsigned unterminated_line;
	const char *unterminated_what;
} cairn_sql_statements;

#define CAIRN_SQL_STATEMENTS_INIT { NULL, 0, 0, false, 0, NULL }

/*
 * Splits sql (len bytes, need not be NUL-terminated) into statements.
 * out must be initialized (CAIRN_SQL_STATEMENTS_INIT); what it held
 * before is replaced.  Fails only when out of memory.
 */
CAIRN_EXTERN(int) cairn_sql_split(cairn_sql_statements *out, const char *sql,
				  size_t len);
CAIRN_EXTERN(void) cairn_sql_statements_dispose(cairn_sql_statements *s);

/* The 1-based line of byte offset `off` in sql. */
CAIRN_EXTERN(unsigned) cairn_sql_line_of(const char *sql, size_t len,
					 size_t off);

typedef enum {
	CAIRN_SQL_TOKEN_WORD = 0, /* keyword or unquoted identifier */
	CAIRN_SQL_TOKEN_IDENT,    /* "quoted identifier" */
	CAIRN_SQL_TOKEN_STRING,   /* any string literal, dollar quotes too */
	CAIRN_SQL_TOKEN_NUMBER,   /* 42, 1.5e3, 0x1F */
	CAIRN_SQL_TOKEN_PARAM,    /* $1 */
	CAIRN_SQL_TOKEN_OP        /* punctuation or operator: ( , ; :: <= */
} cairn_sql_token_kind;

typedef struct cairn_sql_token {
	cairn_sql_token_kind kind;
	/*
	 * NUL-terminated, owned by the list.  WORD: upper-cased ASCII
	 * ("create"), so keywords compare with strcmp; lower-case it for
	 * the identifier PostgreSQL folds it to.  IDENT: the name without
	 * its quotes, "" undoubled, case kept.  Everything else: the text
	 * as written.
	 */
	const char *text;
	size_t offset;     /* in the text given to cairn_sql_tokenize() */
	size_t length;     /* bytes as written */
	unsigned line;
} cairn_sql_token;

typedef struct cairn_sql_tokens {
	cairn_sql_token *items;
	size_t count;
	size_t alloc;
	char *storage;     /* the tokens' texts */
	size_t storage_alloc;
	bool unterminated; /* as in cairn_sql_statements */
} cairn_sql_tokens;

#define CAIRN_SQL_TOKENS_INIT { NULL, 0, 0, NULL, 0, false }

/*
 * Cuts sql (usually one statement from cairn_sql_split()) into tokens,
 * skipping whitespace and comments.  first_line is the line number of
 * sql's first byte (the statement's line).  out must be initialized
 * (CAIRN_SQL_TOKENS_INIT); what it held before is replaced, so one list
 * can be reused statement after statement.  Fails only when out of
 * memory.
 */
CAIRN_EXTERN(int) cairn_sql_tokenize(cairn_sql_tokens *out, const char *sql,
				     size_t len, unsigned first_line);
CAIRN_EXTERN(void) cairn_sql_tokens_dispose(cairn_sql_tokens *t);

/*
 * True when token i exists, is a WORD and is the keyword kw (given in
 * upper case: "CONCURRENTLY").
 */
CAIRN_EXTERN(bool) cairn_sql_token_is(const cairn_sql_tokens *t, size_t i,
				      const char *kw);

/*
 * The normalized text of tokens [from, to): token texts separated by
 * single spaces, none after '(' or '.' and none before ')', ',', '.'
 * or ';'.  Comments and line breaks are gone, keywords are upper-case:
 * "create index on t (a)" and "CREATE  INDEX -- x\n ON t(a)" both give
 * "CREATE INDEX ON T (A)".  Caller frees *out.
 */
CAIRN_EXTERN(int) cairn_sql_tokens_join(char **out, const cairn_sql_tokens *t,
					size_t from, size_t to);

/*
 * When the statement whose tokens are t (from cairn_sql_tokenize())
 * controls the transaction, returns what it is: "BEGIN", "START
 * TRANSACTION", "COMMIT", "COMMIT PREPARED", "ROLLBACK", "ROLLBACK TO
 * SAVEPOINT", "ROLLBACK PREPARED", "END", "ABORT", "SAVEPOINT", "RELEASE
 * SAVEPOINT", "PREPARE TRANSACTION" or "SET TRANSACTION".  Otherwise
 * NULL.  Only the statement's first words count, so BEGIN inside a
 * dollar-quoted body, BEGIN ATOMIC in CREATE FUNCTION and the END of a
 * CASE are never taken for transaction control (the splitter keeps a
 * BEGIN ATOMIC body in its CREATE statement).
 */
CAIRN_EXTERN(const char *) cairn_sql_transaction_control(
	const cairn_sql_tokens *t);

/* The first thing that keeps a text from running as one transaction. */
typedef struct cairn_sql_problem {
	bool found;
	bool unterminated;  /* the text ends inside a quote or comment */
	unsigned line;      /* the statement's line, or where the
			     * unterminated construct began */
	const char *what;   /* "COMMIT", ..., or for unterminated the
			     * construct: "string", "dollar-quoted string",
			     * ... (static text) */
} cairn_sql_problem;

/* problem.what for a statement that changes standard_conforming_strings */
#define CAIRN_SQL_STRING_SYNTAX "SET standard_conforming_strings"

/*
 * Looks for what would break the transaction a migration runs in: an
 * unterminated string, quoted identifier, dollar quote or comment (the
 * server would read the statements after it differently than cairn
 * does), a transaction-control statement, or a statement that changes
 * standard_conforming_strings (what = CAIRN_SQL_STRING_SYNTAX: after it
 * the server would read strings differently than cairn does).  out->found says whether
 * there is one; the first is described.  Fails only when out of memory.
 */
CAIRN_EXTERN(int) cairn_sql_check_transactional(cairn_sql_problem *out,
						const char *sql, size_t len);

#ifdef __cplusplus
}
#endif

#endif
