/*
 * sqlsplit.c - split SQL text into statements and statements into tokens
 * (include/cairn/sqlsplit.h).
 *
 * One small lexer serves both.  lex_next() skips whitespace and comments
 * (-- to the end of the line, nested block comments) and returns the next
 * token's kind and byte range, counting lines as it goes.  It knows the
 * quoted constructs of PostgreSQL's lexer (scan.l): '' strings, E''
 * strings with backslash escapes, B''/X''/N''/U&'' strings, "" and U&""
 * identifiers, $tag$ dollar quotes (a tag starts with a letter or '_';
 * "$1" is a parameter; a '$' inside an identifier, as in foo$bar$, is part
 * of the identifier).  When the text ends inside one of them the lexer
 * records where it began and what it was.
 *
 * The splitter walks the tokens and ends a statement at a ';' that is
 * outside parentheses and outside the BEGIN ... END of a SQL-standard
 * function body.  The latter uses psql's heuristic (psqlscan.l): while a
 * statement starts with CREATE [OR REPLACE] FUNCTION or PROCEDURE, BEGIN
 * opens a block, END closes one and CASE opens one inside a block (a CASE
 * expression also ends with END).  A statement runs from its first token
 * to the end of its last, so its line number points at the SQL a person
 * would look for, not at a comment above it.
 *
 * The tokenizer keeps every token with a normalized text (upper-cased
 * words, unquoted identifiers) in one storage block sized up front: a
 * token's text is never longer than its source, so 2 * len + 1 bytes
 * always suffice and the text pointers never move.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cairn/sqlsplit.h"
#include "error.h"
#include "util.h"

typedef struct {
	const char *s;
	size_t len;
	size_t pos;
	unsigned line;
	bool unterminated;
	unsigned unterminated_line;
	const char *unterminated_what;
} lexer;

typedef struct {
	cairn_sql_token_kind kind;
	size_t start;
	size_t end;
	unsigned line;
} lexeme;

static bool ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool ident_cont(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static bool op_char(char c)
{
	return c && strchr("+-*/<>=~!@#%^&|`?", c) != NULL;
}

static void lex_init(lexer *lx, const char *s, size_t len, unsigned line)
{
	memset(lx, 0, sizeof(*lx));
	lx->s = s;
	lx->len = len;
	lx->line = line;
}

static void unterminated(lexer *lx, unsigned line, const char *what)
{
	if (lx->unterminated)
		return;
	lx->unterminated = true;
	lx->unterminated_line = line;
	lx->unterminated_what = what;
}

/* Advances over n bytes, counting line breaks. */
static void advance(lexer *lx, size_t n)
{
	for (; n && lx->pos < lx->len; n--)
		if (lx->s[lx->pos++] == '\n')
			lx->line++;
}

static bool at(const lexer *lx, size_t off, char c)
{
	return lx->pos + off < lx->len && lx->s[lx->pos + off] == c;
}

static void skip_blanks_and_comments(lexer *lx)
{
	while (lx->pos < lx->len) {
		char c = lx->s[lx->pos];

		if (isspace((unsigned char)c)) {
			advance(lx, 1);
		} else if (c == '-' && at(lx, 1, '-')) {
			while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
				lx->pos++;
		} else if (c == '/' && at(lx, 1, '*')) {
			unsigned line = lx->line;
			int depth = 1;

			lx->pos += 2;
			while (lx->pos < lx->len && depth) {
				if (at(lx, 0, '/') && at(lx, 1, '*')) {
					depth++;
					lx->pos += 2;
				} else if (at(lx, 0, '*') && at(lx, 1, '/')) {
					depth--;
					lx->pos += 2;
				} else {
					advance(lx, 1);
				}
			}
			if (depth)
				unterminated(lx, line, "comment");
		} else {
			break;
		}
	}
}

/*
 * The quoted text at lx->pos (which is the quote q); doubled quotes are
 * escapes, and with backslash so is any byte after a backslash.
 */
static void scan_quoted(lexer *lx, char q, bool backslash, const char *what)
{
	unsigned line = lx->line;

	lx->pos++;
	while (lx->pos < lx->len) {
		char c = lx->s[lx->pos];

		if (backslash && c == '\\') {
			advance(lx, 2);
			continue;
		}
		if (c == q) {
			if (at(lx, 1, q)) {
				lx->pos += 2;
				continue;
			}
			lx->pos++;
			return;
		}
		advance(lx, 1);
	}
	unterminated(lx, line, what);
}

/* Length of a dollar-quote tag at s ("$$" or "$tag$"), or 0. */
static size_t dollar_tag(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 2 || s[0] != '$')
		return 0;
	if (s[1] != '$' && !ident_start((unsigned char)s[1]))
		return 0;
	while (i < n && s[i] != '$') {
		if (!ident_cont((unsigned char)s[i]))
			return 0;
		i++;
	}
	return i < n ? i + 1 : 0;
}

static void scan_dollar(lexer *lx, size_t tag)
{
	const char *t = lx->s + lx->pos;
	unsigned line = lx->line;
	size_t j;

	for (j = lx->pos + tag; j + tag <= lx->len; j++) {
		if (lx->s[j] == '$' && !memcmp(lx->s + j, t, tag)) {
			advance(lx, j + tag - lx->pos);
			return;
		}
	}
	advance(lx, lx->len - lx->pos);
	unterminated(lx, line, "dollar-quoted string");
}

static void scan_number(lexer *lx)
{
	while (lx->pos < lx->len) {
		char c = lx->s[lx->pos];

		if (isalnum((unsigned char)c) || c == '_' ||
		    (c == '.' && !at(lx, 1, '.'))) {
			lx->pos++;
		} else if ((c == '+' || c == '-') &&
			   (lx->s[lx->pos - 1] == 'e' ||
			    lx->s[lx->pos - 1] == 'E') &&
			   lx->pos + 1 < lx->len &&
			   isdigit((unsigned char)lx->s[lx->pos + 1])) {
			lx->pos++;
		} else {
			break;
		}
	}
}

static void scan_operator(lexer *lx)
{
	lx->pos++;
	while (lx->pos < lx->len && op_char(lx->s[lx->pos])) {
		/* a comment starts inside an operator: the operator ends */
		if ((at(lx, 0, '-') && at(lx, 1, '-')) ||
		    (at(lx, 0, '/') && at(lx, 1, '*')))
			break;
		lx->pos++;
	}
}

/* The next token; false at the end of the text. */
static bool lex_next(lexer *lx, lexeme *out)
{
	unsigned char c, c1;
	size_t tag;

	skip_blanks_and_comments(lx);
	if (lx->pos >= lx->len)
		return false;
	out->start = lx->pos;
	out->line = lx->line;
	c = (unsigned char)lx->s[lx->pos];
	c1 = lx->pos + 1 < lx->len ? (unsigned char)lx->s[lx->pos + 1] : 0;

	if (ident_start(c)) {
		if (c1 == '\'' && strchr("EeBbXxNn", (char)c)) {
			lx->pos++;
			out->kind = CAIRN_SQL_TOKEN_STRING;
			scan_quoted(lx, '\'', c == 'E' || c == 'e', "string");
		} else if ((c == 'U' || c == 'u') && c1 == '&' &&
			   (at(lx, 2, '\'') || at(lx, 2, '"'))) {
			char q = lx->s[lx->pos + 2];

			lx->pos += 2;
			out->kind = q == '"' ? CAIRN_SQL_TOKEN_IDENT
					     : CAIRN_SQL_TOKEN_STRING;
			scan_quoted(lx, q, false, q == '"' ? "quoted identifier"
							   : "string");
		} else {
			out->kind = CAIRN_SQL_TOKEN_WORD;
			while (lx->pos < lx->len &&
			       ident_cont((unsigned char)lx->s[lx->pos]))
				lx->pos++;
		}
	} else if (isdigit(c) || (c == '.' && isdigit(c1))) {
		out->kind = CAIRN_SQL_TOKEN_NUMBER;
		scan_number(lx);
	} else if (c == '\'') {
		out->kind = CAIRN_SQL_TOKEN_STRING;
		scan_quoted(lx, '\'', false, "string");
	} else if (c == '"') {
		out->kind = CAIRN_SQL_TOKEN_IDENT;
		scan_quoted(lx, '"', false, "quoted identifier");
	} else if (c == '$' && isdigit(c1)) {
		out->kind = CAIRN_SQL_TOKEN_PARAM;
		lx->pos++;
		while (lx->pos < lx->len &&
		       isdigit((unsigned char)lx->s[lx->pos]))
			lx->pos++;
	} else if (c == '$' &&
		   (tag = dollar_tag(lx->s + lx->pos, lx->len - lx->pos))) {
		out->kind = CAIRN_SQL_TOKEN_STRING;
		scan_dollar(lx, tag);
	} else if (c == ':' && c1 == ':') {
		out->kind = CAIRN_SQL_TOKEN_OP;
		lx->pos += 2;
	} else if (op_char((char)c)) {
		out->kind = CAIRN_SQL_TOKEN_OP;
		scan_operator(lx);
	} else {
		/* ( ) [ ] , ; : . and anything PostgreSQL would reject */
		out->kind = CAIRN_SQL_TOKEN_OP;
		lx->pos++;
	}
	out->end = lx->pos;
	return true;
}

static bool lexeme_is(const lexer *lx, const lexeme *l, const char *word)
{
	size_t n = strlen(word);

	return l->end - l->start == n &&
	       !strncasecmp(lx->s + l->start, word, n);
}

static bool lexeme_op(const lexer *lx, const lexeme *l, char c)
{
	return l->kind == CAIRN_SQL_TOKEN_OP && l->end - l->start == 1 &&
	       lx->s[l->start] == c;
}

/* --- splitting ---------------------------------------------------------- */

typedef struct {
	bool in_stmt;
	size_t start;
	size_t end;
	unsigned line;
	unsigned paren;   /* ( depth */
	unsigned begin;   /* BEGIN ... END depth in a function body */
	unsigned words;   /* words seen in the statement */
	char first[4];    /* psql's identifiers[]: c, o, r, f, p or 0 */
} split_state;

/* psql's BEGIN ... END tracking for CREATE FUNCTION/PROCEDURE bodies. */
static void track_word(split_state *st, const lexer *lx, const lexeme *l)
{
	static const char *const marks[] = {
		"create", "or", "replace", "function", "procedure",
	};
	const char *f = st->first;

	if (st->words < sizeof(st->first)) {
		st->first[st->words] = 0;
		for (size_t i = 0; i < CAIRN_ARRAY_SIZE(marks); i++)
			if (lexeme_is(lx, l, marks[i]))
				st->first[st->words] = marks[i][0];
	}
	st->words++;
	if (st->paren || f[0] != 'c' ||
	    !(f[1] == 'f' || f[1] == 'p' ||
	      (f[1] == 'o' && f[2] == 'r' && (f[3] == 'f' || f[3] == 'p'))))
		return;
	if (lexeme_is(lx, l, "begin"))
		st->begin++;
	else if (lexeme_is(lx, l, "case") && st->begin)
		st->begin++;
	else if (lexeme_is(lx, l, "end") && st->begin)
		st->begin--;
}

static int push(cairn_sql_statements *out, const split_state *st)
{
	cairn_sql_statement *s;

	if (cairn__grow_array((void **)&out->items, &out->alloc,
			      out->count + 1, sizeof(*s)) < 0)
		return CAIRN_ERROR;
	s = &out->items[out->count++];
	s->offset = st->start;
	s->length = st->end - st->start;
	s->line = st->line;
	return 0;
}

int cairn_sql_split(cairn_sql_statements *out, const char *sql, size_t len)
{
	split_state st;
	lexer lx;
	lexeme l;

	out->count = 0;
	out->unterminated = false;
	out->unterminated_line = 0;
	out->unterminated_what = NULL;
	memset(&st, 0, sizeof(st));
	lex_init(&lx, sql, len, 1);
	while (lex_next(&lx, &l)) {
		if (lexeme_op(&lx, &l, ';') && !st.paren && !st.begin) {
			if (st.in_stmt && push(out, &st) < 0)
				return CAIRN_ERROR;
			memset(&st, 0, sizeof(st));
			continue;
		}
		if (!st.in_stmt) {
			st.in_stmt = true;
			st.start = l.start;
			st.line = l.line;
		}
		st.end = l.end;
		if (lexeme_op(&lx, &l, '('))
			st.paren++;
		else if (lexeme_op(&lx, &l, ')') && st.paren)
			st.paren--;
		else if (l.kind == CAIRN_SQL_TOKEN_WORD)
			track_word(&st, &lx, &l);
	}
	if (st.in_stmt && push(out, &st) < 0)
		return CAIRN_ERROR;
	out->unterminated = lx.unterminated;
	out->unterminated_line = lx.unterminated_line;
	out->unterminated_what = lx.unterminated_what;
	return 0;
}

void cairn_sql_statements_dispose(cairn_sql_statements *s)
{
	if (!s)
		return;
	free(s->items);
	memset(s, 0, sizeof(*s));
}

unsigned cairn_sql_line_of(const char *sql, size_t len, size_t off)
{
	unsigned line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		if (sql[i] == '\n')
			line++;
	return line;
}

/* --- tokens ------------------------------------------------------------- */

/* Writes the normalized text of l at dst; returns its length. */
static size_t normalize(char *dst, const lexer *lx, const lexeme *l)
{
	const char *src = lx->s + l->start;
	size_t n = l->end - l->start, o = 0, i;

	switch (l->kind) {
	case CAIRN_SQL_TOKEN_WORD:
		for (i = 0; i < n; i++)
			dst[o++] = (char)toupper((unsigned char)src[i]);
		break;
	case CAIRN_SQL_TOKEN_IDENT:
		i = src[0] == '"' ? 1 : 3; /* "x" or U&"x" */
		for (; i < n; i++) {
			if (src[i] == '"') {
				if (i + 1 < n && src[i + 1] == '"')
					i++;
				else
					break; /* the closing quote */
			}
			dst[o++] = src[i];
		}
		break;
	default:
		memcpy(dst, src, n);
		o = n;
		break;
	}
	dst[o] = '\0';
	return o;
}

int cairn_sql_tokenize(cairn_sql_tokens *out, const char *sql, size_t len,
		       unsigned first_line)
{
	size_t used = 0, need;
	lexer lx;
	lexeme l;

	out->count = 0;
	out->unterminated = false;
	if (len > (SIZE_MAX - 1) / 2)
		return cairn_error__set(CAIRN_ERRCLASS_NOMEMORY,
					"SQL text too large to tokenize");
	need = 2 * len + 1;
	if (need > out->storage_alloc) {
		char *p = realloc(out->storage, need);

		if (!p)
			return cairn_error__oom();
		out->storage = p;
		out->storage_alloc = need;
	}
	lex_init(&lx, sql, len, first_line ? first_line : 1);
	while (lex_next(&lx, &l)) {
		cairn_sql_token *t;

		if (cairn__grow_array((void **)&out->items, &out->alloc,
				      out->count + 1, sizeof(*t)) < 0)
			return CAIRN_ERROR;
		t = &out->items[out->count++];
		t->kind = l.kind;
		t->offset = l.start;
		t->length = l.end - l.start;
		t->line = l.line;
		t->text = out->storage + used;
		used += normalize(out->storage + used, &lx, &l) + 1;
	}
	out->unterminated = lx.unterminated;
	return 0;
}

void cairn_sql_tokens_dispose(cairn_sql_tokens *t)
{
	if (!t)
		return;
	free(t->items);
	free(t->storage);
	memset(t, 0, sizeof(*t));
}

bool cairn_sql_token_is(const cairn_sql_tokens *t, size_t i, const char *kw)
{
	return t && i < t->count && t->items[i].kind == CAIRN_SQL_TOKEN_WORD &&
	       !strcmp(t->items[i].text, kw);
}

static bool is_op(const cairn_sql_token *t, const char *s)
{
	return t->kind == CAIRN_SQL_TOKEN_OP && !strcmp(t->text, s);
}

int cairn_sql_tokens_join(char **out, const cairn_sql_tokens *t, size_t from,
			  size_t to)
{
	cairn_buf b = CAIRN_BUF_INIT;

	*out = NULL;
	if (to > t->count)
		to = t->count;
	for (size_t i = from; i < to; i++) {
		const cairn_sql_token *k = &t->items[i];

		if (i > from && !is_op(k, ")") && !is_op(k, ",") &&
		    !is_op(k, ".") && !is_op(k, ";") &&
		    !is_op(&t->items[i - 1], "(") &&
		    !is_op(&t->items[i - 1], ".") &&
		    cairn_buf_putc(&b, ' ') < 0)
			goto fail;
		if (k->kind == CAIRN_SQL_TOKEN_IDENT) {
			/* quote it again, so the text stays SQL */
			if (cairn_buf_putc(&b, '"') < 0)
				goto fail;
			for (const char *p = k->text; *p; p++) {
				if (*p == '"' && cairn_buf_putc(&b, '"') < 0)
					goto fail;
				if (cairn_buf_putc(&b, *p) < 0)
					goto fail;
			}
			if (cairn_buf_putc(&b, '"') < 0)
				goto fail;
		} else if (cairn_buf_puts(&b, k->text) < 0) {
			goto fail;
		}
	}
	*out = cairn_buf_detach(&b);
	if (!*out)
		return cairn_error__oom();
	return 0;
fail:
	cairn_buf_dispose(&b);
	return CAIRN_ERROR;
}

/* --- transaction control ------------------------------------------------ */

/* "ROLLBACK", "ROLLBACK TO SAVEPOINT" or "ROLLBACK PREPARED" */
static const char *rollback_kind(const cairn_sql_tokens *t)
{
	size_t i = 1;

	if (cairn_sql_token_is(t, 1, "PREPARED"))
		return "ROLLBACK PREPARED";
	if (cairn_sql_token_is(t, i, "WORK") ||
	    cairn_sql_token_is(t, i, "TRANSACTION"))
		i++;
	if (cairn_sql_token_is(t, i, "TO"))
		return "ROLLBACK TO SAVEPOINT";
	return "ROLLBACK";
}

const char *cairn_sql_transaction_control(const cairn_sql_tokens *t)
{
	if (!t || !t->count || t->items[0].kind != CAIRN_SQL_TOKEN_WORD)
		return NULL;
	if (cairn_sql_token_is(t, 0, "BEGIN"))
		return "BEGIN";
	if (cairn_sql_token_is(t, 0, "START") &&
	    cairn_sql_token_is(t, 1, "TRANSACTION"))
		return "START TRANSACTION";
	if (cairn_sql_token_is(t, 0, "COMMIT"))
		return cairn_sql_token_is(t, 1, "PREPARED") ? "COMMIT PREPARED"
							   : "COMMIT";
	if (cairn_sql_token_is(t, 0, "ROLLBACK"))
		return rollback_kind(t);
	if (cairn_sql_token_is(t, 0, "END"))
		return "END";
	if (cairn_sql_token_is(t, 0, "ABORT"))
		return "ABORT";
	if (cairn_sql_token_is(t, 0, "SAVEPOINT"))
		return "SAVEPOINT";
	if (cairn_sql_token_is(t, 0, "RELEASE"))
		return "RELEASE SAVEPOINT";
	if (cairn_sql_token_is(t, 0, "PREPARE") &&
	    cairn_sql_token_is(t, 1, "TRANSACTION"))
		return "PREPARE TRANSACTION";
	if (cairn_sql_token_is(t, 0, "SET") &&
	    cairn_sql_token_is(t, 1, "TRANSACTION"))
		return "SET TRANSACTION";
	if (cairn_sql_token_is(t, 0, "SET") &&
	    (cairn_sql_token_is(t, 1, "LOCAL") ||
	     cairn_sql_token_is(t, 1, "SESSION")) &&
	    cairn_sql_token_is(t, 2, "TRANSACTION"))
		return "SET TRANSACTION";
	return NULL;
}

/*
 * Whether a statement changes standard_conforming_strings (SET, RESET,
 * set_config): the splitter reads every file with it on, as cairn's
 * session has it, so a file that switched it off would be split
 * differently than the server runs it -- a COMMIT hidden in what cairn
 * takes for a string would end the migration's transaction.
 */
static bool sets_string_syntax(const cairn_sql_tokens *t)
{
	bool set = cairn_sql_token_is(t, 0, "SET") ||
		   cairn_sql_token_is(t, 0, "RESET");

	for (size_t i = 0; i < t->count; i++) {
		const cairn_sql_token *k = &t->items[i];

		if (set && k->kind == CAIRN_SQL_TOKEN_WORD &&
		    !strcmp(k->text, "STANDARD_CONFORMING_STRINGS"))
			return true;
		if (k->kind == CAIRN_SQL_TOKEN_STRING &&
		    strcasestr(k->text, "standard_conforming_strings"))
			return true;
	}
	return false;
}

int cairn_sql_check_transactional(cairn_sql_problem *out, const char *sql,
				  size_t len)
{
	cairn_sql_statements st = CAIRN_SQL_STATEMENTS_INIT;
	cairn_sql_tokens tk = CAIRN_SQL_TOKENS_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = cairn_sql_split(&st, sql, len)) < 0)
		goto out;
	if (st.unterminated) {
		out->found = true;
		out->unterminated = true;
		out->line = st.unterminated_line;
		out->what = st.unterminated_what;
		goto out;
	}
	for (size_t i = 0; i < st.count; i++) {
		const cairn_sql_statement *s = &st.items[i];
		const char *what;

		if ((rc = cairn_sql_tokenize(&tk, sql + s->offset, s->length,
					     s->line)) < 0)
			goto out;
		if ((what = cairn_sql_transaction_control(&tk)) != NULL ||
		    (sets_string_syntax(&tk) &&
		     (what = CAIRN_SQL_STRING_SYNTAX) != NULL)) {
			out->found = true;
			out->line = s->line;
			out->what = what;
			break;
		}
	}
out:
	cairn_sql_tokens_dispose(&tk);
	cairn_sql_statements_dispose(&st);
	return rc < 0 ? CAIRN_ERROR : 0;
}
