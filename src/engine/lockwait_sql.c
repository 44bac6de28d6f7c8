/*
 * lockwait_sql.c - the text side of lock waits (run.h, lockwait.c): a
 * blocker's query with its literals redacted before cairn shows or
 * stores it, and which statements of a no-transaction file may run again
 * after a lock timeout.
 *
 * Redaction is a small scanner, not a parser: quoted strings (with E''
 * escapes), dollar-quoted strings and numbers become '?', comments are
 * dropped, runs of white space become one space, quoted identifiers are
 * kept, and at most max_chars characters (whole UTF-8 sequences) are
 * kept.  An unterminated literal hides everything after it.
 *
 * A no-transaction statement ran alone, so a lock timeout rolled it back
 * alone and it may run again; the exceptions are the CONCURRENTLY forms,
 * which commit part of their work: CREATE INDEX CONCURRENTLY leaves an
 * INVALID index (named, so cairn can drop it first), DROP INDEX
 * CONCURRENTLY simply finishes when run again, and the others (REINDEX,
 * DETACH PARTITION) are not retried.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "util/util.h"

/* --- redacting a blocker's query ---------------------------------------- */

static bool ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Length of a dollar-quote tag at s ("$$", "$x$"), or 0. */
static size_t dollar_tag(const char *s)
{
	size_t i = 1;

	if (s[0] != '$')
		return 0;
	if (isdigit((unsigned char)s[1]))
		return 0; /* $1: a parameter */
	while (s[i] && (isalnum((unsigned char)s[i]) || s[i] == '_' ||
			(unsigned char)s[i] >= 0x80))
		i++;
	return s[i] == '$' ? i + 1 : 0;
}

/* Where a literal or comment starting at s ends (past it). */
static const char *skip_quoted(const char *s, bool escapes)
{
	for (s++; *s; s++) {
		if (escapes && *s == '\\' && s[1]) {
			s++;
		} else if (*s == '\'') {
			if (s[1] != '\'')
				return s + 1;
			s++;
		}
	}
	return s;
}

static const char *skip_number(const char *s)
{
	while (isdigit((unsigned char)*s) || *s == '.' || *s == '_')
		s++;
	if ((*s == 'e' || *s == 'E') &&
	    (isdigit((unsigned char)s[1]) ||
	     ((s[1] == '+' || s[1] == '-') && isdigit((unsigned char)s[2])))) {
		s += 2;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return s;
}

/* Appends one character (a whole UTF-8 sequence) and counts it. */
static const char *put_char(cairn_buf *out, const char *s, size_t *chars)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 :
		   (c & 0xF0) == 0xE0 ? 3 : 4;

	for (size_t i = 1; i < n; i++)
		if (!s[i])
			n = i;
	cairn_buf_put(out, s, n);
	(*chars)++;
	return s + n;
}

int run__redact_query(cairn_buf *out, const char *s, size_t max_chars)
{
	size_t chars = 0;
	bool space = false;
	char prev = ' ';

	while (*s && chars < max_chars) {
		size_t tag;

		if (isspace((unsigned char)*s) ||
		    (s[0] == '-' && s[1] == '-') || (s[0] == '/' && s[1] == '*')) {
			if (s[0] == '-' && s[1] == '-')
				s += strcspn(s, "\n");
			else if (s[0] == '/') {
				const char *e = strstr(s + 2, "*/");

				s = e ? e + 2 : s + strlen(s);
			} else
				s++;
			space = true;
			continue;
		}
		if (space && out->size) {
			cairn_buf_putc(out, ' ');
			chars++;
		}
		space = false;
		if (*s == '\'') {
			bool esc = (prev == 'E' || prev == 'e');

			s = skip_quoted(s, esc);
			cairn_buf_putc(out, '?');
			chars++;
			prev = '?';
			continue;
		}
		if ((tag = dollar_tag(s)) && !ident_char((unsigned char)prev)) {
			const char *e = s + tag;

			for (;;) {
				e = strchr(e, '$');
				if (!e || !strncmp(e, s, tag))
					break;
				e++;
			}
			s = e ? e + tag : s + strlen(s);
			cairn_buf_putc(out, '?');
			chars++;
			prev = '?';
			continue;
		}
		if (isdigit((unsigned char)*s) && !ident_char((unsigned char)prev)) {
			s = skip_number(s);
			cairn_buf_putc(out, '?');
			chars++;
			prev = '?';
			continue;
		}
		if (*s == '"') {
			/* a quoted identifier is kept as written */
			const char *e = s + 1;

			while (*e && !(e[0] == '"' && e[1] != '"'))
				e += e[0] == '"' ? 2 : 1;
			if (*e)
				e++;
			while (s < e && chars < max_chars)
				s = put_char(out, s, &chars);
			prev = '"';
			continue;
		}
		prev = *s;
		s = put_char(out, s, &chars);
	}
	return cairn_buf_check(out);
}

/* --- no-transaction statements ------------------------------------------- */

/* Reads the next word (an identifier, quoted or not) of a statement. */
static const char *next_word(const char *s, const char *end, char *out,
			     size_t outsz, bool *quoted)
{
	size_t n = 0;

	*quoted = false;
	for (;;) {
		while (s < end && isspace((unsigned char)*s))
			s++;
		if (end - s >= 2 && s[0] == '-' && s[1] == '-') {
			while (s < end && *s != '\n')
				s++;
			continue;
		}
		if (end - s >= 2 && s[0] == '/' && s[1] == '*') {
			const char *e = s + 2;

			while (e + 1 < end && !(e[0] == '*' && e[1] == '/'))
				e++;
			s = e + 1 < end ? e + 2 : end;
			continue;
		}
		break;
	}
	if (s < end && *s == '"') {
		*quoted = true;
		for (s++; s < end; s++) {
			if (*s == '"') {
				if (s + 1 < end && s[1] == '"')
					s++;
				else {
					s++;
					break;
				}
			}
			if (n + 1 < outsz)
				out[n++] = *s;
		}
	} else {
		while (s < end && (ident_char((unsigned char)*s) || *s == '.')) {
			if (n + 1 < outsz)
				out[n++] = (char)tolower((unsigned char)*s);
			s++;
		}
	}
	out[n] = '\0';
	return s;
}

/* True when the statement has the word CONCURRENTLY outside literals. */
static bool says_concurrently(const char *s, const char *end)
{
	char w[64];
	bool q;

	while (s < end) {
		const char *n = next_word(s, end, w, sizeof(w), &q);

		if (!q && !strcmp(w, "concurrently"))
			return true;
		if (n == s) {
			if (*s == '\'')
				while (++s < end && *s != '\'')
					;
			s++;
		} else {
			s = n;
		}
	}
	return false;
}

int run__no_tx_retry_plan(const char *stmt, size_t len, bool *safe,
			  const char **why, char **index, char **table)
{
	const char *s = stmt, *end = stmt + len, *tstart;
	char w[256];
	bool q;

	*safe = true;
	*why = NULL;
	*index = *table = NULL;
	if (!says_concurrently(stmt, end))
		return 0; /* ran and rolled back alone: nothing stays */
	s = next_word(s, end, w, sizeof(w), &q);
	if (!strcmp(w, "drop"))
		return 0; /* DROP INDEX CONCURRENTLY finishes when run again */
	*safe = false;
	*why = "this CONCURRENTLY statement may have committed part of its work (REINDEX leaves _ccnew indexes, DETACH PARTITION a pending detach); finish or undo it by hand";
	if (strcmp(w, "create"))
		return 0;
	s = next_word(s, end, w, sizeof(w), &q);
	if (!strcmp(w, "unique"))
		s = next_word(s, end, w, sizeof(w), &q);
	if (strcmp(w, "index"))
		return 0;
	s = next_word(s, end, w, sizeof(w), &q);
	if (strcmp(w, "concurrently"))
		return 0;
	s = next_word(s, end, w, sizeof(w), &q);
	if (!q && !strcmp(w, "if")) {
		s = next_word(s, end, w, sizeof(w), &q); /* not */
		s = next_word(s, end, w, sizeof(w), &q); /* exists */
		s = next_word(s, end, w, sizeof(w), &q);
	}
	if (!q && !strcmp(w, "on")) {
		*why = "CREATE INDEX CONCURRENTLY without an index name: cairn cannot tell which INVALID index it left; name the index";
		return 0;
	}
	*index = strdup(w);
	s = next_word(s, end, w, sizeof(w), &q); /* on */
	while (s < end && isspace((unsigned char)*s))
		s++;
	tstart = s;
	s = next_word(s, end, w, sizeof(w), &q);
	if (!q && !strcmp(w, "only")) {
		while (s < end && isspace((unsigned char)*s))
			s++;
		tstart = s;
		s = next_word(s, end, w, sizeof(w), &q);
	}
	/* the table as written (to_regclass reads quotes and schemas) */
	while (s < end && (ident_char((unsigned char)*s) || *s == '.' ||
			   *s == '"'))
		s++;
	*table = cairn__strndup(tstart, (size_t)(s - tstart));
	if (!*index || !*table) {
		free(*index);
		free(*table);
		*index = *table = NULL;
		return cairn_error__oom();
	}
	*safe = true;
	*why = NULL;
	return 0;
}

