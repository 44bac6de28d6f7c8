/*
 * pgparse.c - PostgreSQL's parser (libpg_query) over a migration file
 * (see pgparse.h).
 *
 * pg_query_parse() returns the raw parse tree as JSON text: {"version":
 * N, "stmts": [{"stmt": {"Type": {...}}, "stmt_location": L, "stmt_len":
 * N}, ...]}.  The location of a statement is where the grammar started
 * it, which is just after the previous ';' (so it includes the blanks and
 * comments before it), and its length stops before its ';' or, for the
 * last statement without one, is 0 meaning "to the end".  To give each
 * statement the place of its first token and the end of its last one, a
 * small scanner walks that range skipping blanks, comments (nested block
 * comments too), and stepping over strings, quoted identifiers and
 * dollar quotes as whole tokens.  The parser accepted the text, so the
 * scanner never meets an unterminated construct; it stops at the range's
 * end regardless.
 *
 * Syntax errors carry a 1-based cursor position counted in characters;
 * it is converted to a byte offset by walking UTF-8 lead bytes.
 *
 * jansson refuses JSON nested deeper than 2048 levels, which a long
 * chain of operators (a || b || ... 1,500 times) reaches although the
 * grammar accepts it.  Then the file is split with the parser
 * (pg_query_split_with_parser) and each statement parsed alone; a
 * statement still too deep stays in the list with type "" and no node,
 * so the rules skip it instead of failing the whole run.
 */
#include <pg_query.h>
#include <stdlib.h>
#include <string.h>

#include "pgparse.h"
#include "util/error.h"
#include "util/util.h"

static bool ident_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static bool space_char(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* The end of a quoted token starting at i (quote q); E strings: escapes. */
static size_t skip_quoted(const char *s, size_t i, size_t end, char q,
			  bool backslash)
{
	for (i++; i < end; i++) {
		if (backslash && s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < end && s[i + 1] == q) {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	return end;
}

/* The length of a dollar-quote tag at i ("$$", "$x$"), 0 if none. */
static size_t dollar_tag(const char *s, size_t i, size_t end)
{
	size_t j = i + 1;

	if (j < end && s[j] == '$')
		return 2;
	if (j >= end || !ident_char((unsigned char)s[j]) ||
	    (s[j] >= '0' && s[j] <= '9'))
		return 0;
	while (j < end && ident_char((unsigned char)s[j]) && s[j] != '$')
		j++;
	return j < end && s[j] == '$' ? j + 1 - i : 0;
}

static size_t skip_dollar(const char *s, size_t i, size_t end, size_t tag)
{
	for (size_t j = i + tag; j + tag <= end; j++)
		if (s[j] == '$' && !memcmp(s + j, s + i, tag))
			return j + tag;
	return end;
}

static size_t skip_block_comment(const char *s, size_t i, size_t end)
{
	unsigned depth = 0;

	while (i < end) {
		if (s[i] == '/' && i + 1 < end && s[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (s[i] == '*' && i + 1 < end && s[i + 1] == '/') {
			i += 2;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	return end;
}

/*
 * In s[from, end): *first receives the offset of the first token,
 * *last_end the end of the last one (both end when there is none).
 */
static void token_span(const char *s, size_t from, size_t end, size_t *first,
		       size_t *last_end)
{
	size_t i = from;

	*first = *last_end = end;
	while (i < end) {
		char c = s[i];
		size_t start = i, tag;

		if (space_char(c)) {
			i++;
			continue;
		}
		if (c == '-' && i + 1 < end && s[i + 1] == '-') {
			while (i < end && s[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && i + 1 < end && s[i + 1] == '*') {
			i = skip_block_comment(s, i, end);
			continue;
		}
		if (c == '\'') {
			bool esc = i > from && (s[i - 1] == 'e' ||
						s[i - 1] == 'E') &&
				   (i - 1 == from ||
				    !ident_char((unsigned char)s[i - 2]));
			i = skip_quoted(s, i, end, '\'', esc);
		} else if (c == '"') {
			i = skip_quoted(s, i, end, '"', false);
		} else if (c == '$' && (tag = dollar_tag(s, i, end)) &&
			   (i == from || !ident_char((unsigned char)s[i - 1]))) {
			i = skip_dollar(s, i, end, tag);
		} else {
			i++;
		}
		if (*first == end)
			*first = start;
		*last_end = i;
	}
}

void cairn_pg_position(const char *sql, size_t len, size_t off,
		       unsigned *line, unsigned *column)
{
	unsigned l = 1, c = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (sql[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)sql[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*column = c;
}

/* The byte offset of the pos-th character (1-based; 0: none). */
static size_t char_to_byte(const char *sql, size_t len, int pos)
{
	size_t i = 0;
	int n = 1;

	if (pos <= 1)
		return 0;
	for (; i < len; i++) {
		if (((unsigned char)sql[i] & 0xC0) == 0x80)
			continue;
		if (n++ == pos)
			return i;
	}
	return len;
}

void cairn_pg_file_dispose(cairn_pg_file *f)
{
	if (!f)
		return;
	json_decref(f->root);
	free(f->items);
	free(f->error);
	memset(f, 0, sizeof(*f));
}

static int set_syntax_error(cairn_pg_file *out, const char *sql, size_t len,
			    const PgQueryError *e)
{
	out->error = cairn__strdup(e->message ? e->message : "syntax error");
	if (!out->error)
		return cairn_error__oom();
	out->error_offset = char_to_byte(sql, len, e->cursorpos);
	cairn_pg_position(sql, len, out->error_offset, &out->error_line,
			  &out->error_column);
	return 0;
}

static int read_stmts(cairn_pg_file *out, const char *sql, size_t len)
{
	json_t *stmts = json_object_get(out->root, "stmts");
	size_t n = json_array_size(stmts);

	if (!n)
		return 0;
	out->items = calloc(n, sizeof(*out->items));
	if (!out->items)
		return cairn_error__oom();
	for (size_t i = 0; i < n; i++) {
		json_t *raw = json_array_get(stmts, i);
		json_int_t loc = json_integer_value(
			json_object_get(raw, "stmt_location"));
		json_int_t slen = json_integer_value(
			json_object_get(raw, "stmt_len"));
		cairn_pg_stmt *st = &out->items[out->count];
		size_t from, end, first, last;

		from = loc > 0 && (size_t)loc <= len ? (size_t)loc : 0;
		end = slen > 0 && from + (size_t)slen <= len
			      ? from + (size_t)slen
			      : len;
		st->node = cairn_pg_node(json_object_get(raw, "stmt"),
					 &st->type);
		if (!st->node)
			continue;
		token_span(sql, from, end, &first, &last);
		st->offset = first;
		st->length = last > first ? last - first : 0;
		cairn_pg_position(sql, len, first, &st->line, &st->column);
		out->count++;
	}
	return 0;
}

/* One statement of a file whose whole tree was too deep for jansson. */
static void read_one(cairn_pg_file *out, const char *sql, size_t len,
		     const PgQuerySplitStmt *sp, cairn_pg_stmt *st)
{
	size_t from = sp->stmt_location > 0 ? (size_t)sp->stmt_location : 0;
	size_t end = sp->stmt_len > 0 ? from + (size_t)sp->stmt_len : len;
	size_t first, last;
	char *text;

	if (from > len)
		from = len;
	if (end > len)
		end = len;
	token_span(sql, from, end, &first, &last);
	st->offset = first;
	st->length = last > first ? last - first : 0;
	st->type = "";
	st->node = NULL;
	cairn_pg_position(sql, len, first, &st->line, &st->column);
	text = strndup(sql + from, end - from);
	if (text) {
		PgQueryParseResult r = pg_query_parse(text);
		json_t *root = r.error ? NULL : json_loads(r.parse_tree, 0, NULL);

		if (root && json_array_append_new(out->root, root) == 0)
			st->node = cairn_pg_node(
				json_object_get(json_array_get(
					json_object_get(root, "stmts"), 0),
					"stmt"),
				&st->type);
		if (!st->node)
			st->type = "";
		pg_query_free_parse_result(r);
		free(text);
	}
}

static int read_split(cairn_pg_file *out, const char *sql, size_t len)
{
	PgQuerySplitResult sr = pg_query_split_with_parser(sql);
	int rc = 0;

	out->root = json_array();
	if (!out->root || sr.error || sr.n_stmts < 0) {
		rc = out->root ? cairn_error__set(CAIRN_ERRCLASS_USAGE,
				"cannot split the file into statements")
			       : cairn_error__oom();
		goto out;
	}
	if (sr.n_stmts) {
		out->items = calloc((size_t)sr.n_stmts, sizeof(*out->items));
		if (!out->items) {
			rc = cairn_error__oom();
			goto out;
		}
	}
	for (int i = 0; i < sr.n_stmts; i++)
		read_one(out, sql, len, sr.stmts[i], &out->items[out->count++]);
out:
	pg_query_free_split_result(sr);
	return rc;
}

int cairn_pg_parse(cairn_pg_file *out, const char *sql, size_t len)
{
	PgQueryParseResult r;
	json_error_t jerr;
	int rc = 0;

	cairn_pg_file_dispose(out);
	if (!sql || sql[len] != '\0' || memchr(sql, '\0', len))
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"cannot parse text holding a NUL byte");
	r = pg_query_parse(sql);
	if (r.error) {
		rc = set_syntax_error(out, sql, len, r.error);
		goto out;
	}
	out->root = json_loads(r.parse_tree, 0, &jerr);
	if (!out->root) {
		/* too deep for jansson: statement by statement */
		rc = read_split(out, sql, len);
		goto out;
	}
	rc = read_stmts(out, sql, len);
out:
	pg_query_free_parse_result(r);
	if (rc < 0)
		cairn_pg_file_dispose(out);
	return rc;
}

/* --- tree accessors ----------------------------------------------------- */

json_t *cairn_pg_node(json_t *wrapped, const char **type)
{
	const char *key;
	json_t *body;

	if (type)
		*type = NULL;
	if (!json_is_object(wrapped) || json_object_size(wrapped) != 1)
		return NULL;
	json_object_foreach (wrapped, key, body) {
		if (type)
			*type = key;
		return body;
	}
	return NULL;
}

json_t *cairn_pg_node_is(json_t *wrapped, const char *type)
{
	const char *t;
	json_t *body = cairn_pg_node(wrapped, &t);

	return body && !strcmp(t, type) ? body : NULL;
}

json_t *cairn_pg_get(json_t *obj, const char *key)
{
	return json_object_get(obj, key);
}

const char *cairn_pg_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool cairn_pg_bool(json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

long long cairn_pg_int(json_t *obj, const char *key)
{
	return (long long)json_integer_value(json_object_get(obj, key));
}

size_t cairn_pg_len(json_t *obj, const char *key)
{
	return json_array_size(json_object_get(obj, key));
}

json_t *cairn_pg_at(json_t *obj, const char *key, size_t i)
{
	return json_array_get(json_object_get(obj, key), i);
}

const char *cairn_pg_last_name(json_t *list)
{
	size_t n = json_array_size(list);

	if (!n)
		return NULL;
	return cairn_pg_str(cairn_pg_node_is(json_array_get(list, n - 1),
					     "String"),
			    "sval");
}

void cairn_pg_names_join(json_t *list, char *buf, size_t size)
{
	size_t n = json_array_size(list), used = 0;

	if (!size)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used + 1 < size; i++) {
		const char *s = cairn_pg_str(
			cairn_pg_node_is(json_array_get(list, i), "String"),
			"sval");
		size_t k;

		if (!s)
			continue;
		if (used && used + 1 < size)
			buf[used++] = '.';
		k = strlen(s);
		if (k > size - 1 - used)
			k = size - 1 - used;
		memcpy(buf + used, s, k);
		used += k;
		buf[used] = '\0';
	}
}
