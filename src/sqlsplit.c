/*
 * sqlsplit.c - split SQL text into statements (include/cairn/sqlsplit.h).
 *
 * A single forward scan with a small state machine.  Outside any quoted
 * construct a ';' ends a statement; a statement starts at its first byte
 * that is neither whitespace nor part of a comment, so its line number
 * points at the SQL a person would look for, not at a leading comment.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/sqlsplit.h"
#include "error.h"
#include "util.h"

static bool ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Length of a dollar-quote tag at s ("$$" or "$tag$"), or 0. */
static size_t dollar_tag(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 2 || s[0] != '$')
		return 0;
	if (isdigit((unsigned char)s[1]))
		return 0; /* $1 is a parameter */
	while (i < n && s[i] != '$') {
		if (!ident_char((unsigned char)s[i]))
			return 0;
		i++;
	}
	return i < n ? i + 1 : 0;
}

static int push(cairn_sql_statements *out, const char *sql, size_t start,
		size_t end, unsigned line)
{
	cairn_sql_statement *st;

	if (cairn__grow_array((void **)&out->items, &out->alloc,
			      out->count + 1, sizeof(*st)) < 0)
		return CAIRN_ERROR;
	/* trim trailing whitespace */
	while (end > start && isspace((unsigned char)sql[end - 1]))
		end--;
	st = &out->items[out->count++];
	st->offset = start;
	st->length = end - start;
	st->line = line;
	return 0;
}

int cairn_sql_split(cairn_sql_statements *out, const char *sql, size_t len)
{
	size_t i = 0, start = 0;
	unsigned line = 1, start_line = 1;
	bool in_stmt = false;

	out->unterminated = false;
	while (i < len) {
		char c = sql[i];

		if (c == '\n') {
			line++;
			i++;
			continue;
		}
		if (isspace((unsigned char)c)) {
			i++;
			continue;
		}
		if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
			while (i < len && sql[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
			int depth = 1;

			i += 2;
			while (i < len && depth) {
				if (sql[i] == '\n')
					line++;
				if (sql[i] == '/' && i + 1 < len && sql[i + 1] == '*') {
					depth++;
					i += 2;
				} else if (sql[i] == '*' && i + 1 < len && sql[i + 1] == '/') {
					depth--;
					i += 2;
				} else {
					i++;
				}
			}
			if (depth)
				out->unterminated = true;
			continue;
		}
		if (c == ';') {
			if (in_stmt && push(out, sql, start, i, start_line) < 0)
				return CAIRN_ERROR;
			in_stmt = false;
			i++;
			continue;
		}
		if (!in_stmt) {
			in_stmt = true;
			start = i;
			start_line = line;
		}
		if (c == '\'' || c == '"') {
			/* E'..' and e'..' use backslash escapes */
			bool backslash = c == '\'' && i > 0 &&
				(sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
				(i < 2 || !ident_char((unsigned char)sql[i - 2]));
			char q = c;

			i++;
			for (;;) {
				if (i >= len) {
					out->unterminated = true;
					break;
				}
				if (sql[i] == '\n')
					line++;
				if (backslash && sql[i] == '\\' && i + 1 < len) {
					if (sql[i + 1] == '\n')
						line++;
					i += 2;
					continue;
				}
				if (sql[i] == q) {
					if (i + 1 < len && sql[i + 1] == q) {
						i += 2;
						continue;
					}
					i++;
					break;
				}
				i++;
			}
			continue;
		}
		if (c == '$' && (i == 0 || !ident_char((unsigned char)sql[i - 1]))) {
			size_t tag = dollar_tag(sql + i, len - i);

			if (tag) {
				const char *t = sql + i;
				size_t j = i + tag;
				bool closed = false;

				for (; j + tag <= len; j++) {
					if (sql[j] == '$' && !memcmp(sql + j, t, tag)) {
						closed = true;
						break;
					}
				}
				for (size_t k = i; k < (closed ? j : len); k++)
					if (sql[k] == '\n')
						line++;
				if (!closed) {
					out->unterminated = true;
					i = len;
				} else {
					i = j + tag;
				}
				continue;
			}
		}
		i++;
	}
	if (in_stmt && push(out, sql, start, len, start_line) < 0)
		return CAIRN_ERROR;
	return 0;
}

void cairn_sql_statements_dispose(cairn_sql_statements *s)
{
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
