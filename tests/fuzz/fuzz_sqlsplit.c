/*
 * fuzz_sqlsplit.c - fuzz target for the SQL splitter and tokenizer
 * (include/cairn/sqlsplit.h, src/util/sqlsplit.c) and the transaction check
 * migrate runs on every file (cairn_sql_check_transactional).
 *
 * Built with -DCAIRN_LIBFUZZER and -fsanitize=fuzzer it is a libFuzzer
 * target (make fuzz); built plainly it runs the same checks on every file
 * named on its command line.  The input is not NUL-terminated (the
 * splitter must not read past len: ASan sees it).
 *
 * Besides "does not crash", it checks what the API promises:
 *  - statements lie inside the text, in order, without overlap, none
 *    empty, each starting at a non-blank byte on the line
 *    cairn_sql_line_of() gives for its offset;
 *  - an unterminated text names a construct and a line;
 *  - tokenizing each statement gives tokens inside the statement, in
 *    order, with NUL-terminated texts, WORD texts in upper case;
 *  - the transaction check agrees with the splitter on "unterminated"
 *    and, when it names a statement, that statement's tokens say it
 *    controls the transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/sqlsplit.h"

static void check_tokens(const char *sql, const cairn_sql_statement *s,
			 cairn_sql_tokens *tk)
{
	size_t prev_end = 0;

	if (cairn_sql_tokenize(tk, sql + s->offset, s->length, s->line) < 0)
		abort();
	for (size_t j = 0; j < tk->count; j++) {
		const cairn_sql_token *t = &tk->items[j];

		if (t->offset < prev_end || t->offset + t->length > s->length ||
		    !t->text || t->line < s->line)
			abort();
		if (t->kind == CAIRN_SQL_TOKEN_WORD)
			for (const char *p = t->text; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					abort();
		prev_end = t->offset + t->length;
	}
}

static void check(const char *sql, size_t len)
{
	cairn_sql_statements st = CAIRN_SQL_STATEMENTS_INIT;
	cairn_sql_tokens tk = CAIRN_SQL_TOKENS_INIT;
	cairn_sql_problem p;
	size_t prev_end = 0;

	if (cairn_sql_split(&st, sql, len) < 0)
		abort();
	for (size_t i = 0; i < st.count; i++) {
		const cairn_sql_statement *s = &st.items[i];

		if (s->offset < prev_end || s->length == 0 ||
		    s->offset + s->length > len)
			abort();
		if (sql[s->offset] == ' ' || sql[s->offset] == '\n' ||
		    sql[s->offset] == '\t' || sql[s->offset] == ';')
			abort();
		if (s->line != cairn_sql_line_of(sql, len, s->offset))
			abort();
		check_tokens(sql, s, &tk);
		prev_end = s->offset + s->length;
	}
	if (st.unterminated && (!st.unterminated_what || !st.unterminated_line))
		abort();

	if (cairn_sql_check_transactional(&p, sql, len) < 0)
		abort();
	if (p.unterminated != st.unterminated || (p.found && !p.what))
		abort();
	if (p.found && !p.unterminated) {
		bool seen = false;

		for (size_t i = 0; i < st.count && !seen; i++) {
			const cairn_sql_statement *s = &st.items[i];

			if (s->line != p.line)
				continue;
			check_tokens(sql, s, &tk);
			seen = cairn_sql_transaction_control(&tk) != NULL;
		}
		if (!seen)
			abort();
	}
	cairn_sql_tokens_dispose(&tk);
	cairn_sql_statements_dispose(&st);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	/* an exact-size copy: reading one byte past the end is a bug */
	char *sql = malloc(size ? size : 1);

	if (!sql)
		return 0;
	memcpy(sql, data, size);
	check(sql, size);
	free(sql);
	return 0;
}

#include "fuzz_main.h"
