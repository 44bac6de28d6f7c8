/*
 * check_sqlsplit.c - unit tests for the SQL statement splitter and
 * tokenizer (include/cairn/sqlsplit.h, src/util/sqlsplit.c).
 *
 * Each test splits or tokenizes a literal SQL text and checks the
 * statements (their text, as the offset/length slice of the input, and
 * their line) or the tokens (kind, normalized text, line).  Covered:
 * semicolons inside '' strings with '' escapes, E'' strings with
 * backslash escapes, "quoted identifiers", $$ and $tag$ dollar quotes
 * (with other tags, BEGIN/END and quotes inside a function body), --
 * and nested block comments, parentheses (CREATE RULE) and BEGIN ATOMIC
 * bodies; empty statements; every unterminated construct; line numbers
 * across multi-line strings and comments; and the boundaries: $1 is a
 * parameter, foo$bar$ an identifier, xE'..' no E string.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/sqlsplit.h"

static cairn_sql_statements st;
static const char *text;
static char *slices[32];

static void setup(void)
{
	cairn_sql_statements init = CAIRN_SQL_STATEMENTS_INIT;

	st = init;
	memset(slices, 0, sizeof(slices));
}

static void teardown(void)
{
	cairn_sql_statements_dispose(&st);
	for (size_t i = 0; i < 32; i++)
		free(slices[i]);
}

static size_t split(const char *sql)
{
	text = sql;
	ck_assert_int_eq(cairn_sql_split(&st, sql, strlen(sql)), 0);
	return st.count;
}

/* The text of statement i. */
static const char *stmt(size_t i)
{
	ck_assert_uint_lt(i, st.count);
	ck_assert_uint_lt(i, 32);
	free(slices[i]);
	slices[i] = strndup(text + st.items[i].offset, st.items[i].length);
	return slices[i];
}

START_TEST(test_simple)
{
	ck_assert_uint_eq(split("SELECT 1; SELECT 2;\nSELECT 3"), 3);
	ck_assert_str_eq(stmt(0), "SELECT 1");
	ck_assert_str_eq(stmt(1), "SELECT 2");
	ck_assert_str_eq(stmt(2), "SELECT 3");
	ck_assert_uint_eq(st.items[2].line, 2);
	ck_assert(!st.unterminated);
}
END_TEST

START_TEST(test_empty_statements)
{
	ck_assert_uint_eq(split(""), 0);
	ck_assert_uint_eq(split(";;  ;\n-- only a comment ;\n/* ; */ ;\n"), 0);
	ck_assert(!st.unterminated);
	ck_assert_uint_eq(split(";;SELECT 1;;"), 1);
	ck_assert_str_eq(stmt(0), "SELECT 1");
}
END_TEST

START_TEST(test_quotes_with_doubled_escapes)
{
	ck_assert_uint_eq(split("SELECT 'a;''b;'; SELECT 2;"), 2);
	ck_assert_str_eq(stmt(0), "SELECT 'a;''b;'");
	ck_assert_str_eq(stmt(1), "SELECT 2");
	/* '' as an empty string, then more */
	ck_assert_uint_eq(split("SELECT '', ';'; SELECT 2"), 2);
	ck_assert_str_eq(stmt(0), "SELECT '', ';'");
}
END_TEST

START_TEST(test_standard_strings_keep_backslash)
{
	/* standard_conforming_strings: a backslash is a plain character */
	ck_assert_uint_eq(split("SELECT 'a\\'; SELECT 2;"), 2);
	ck_assert_str_eq(stmt(0), "SELECT 'a\\'");
	ck_assert(!st.unterminated);
}
END_TEST

START_TEST(test_e_strings)
{
	ck_assert_uint_eq(split("SELECT E'it\\'s; here'; SELECT 2;"), 2);
	ck_assert_str_eq(stmt(0), "SELECT E'it\\'s; here'");
	ck_assert_uint_eq(split("SELECT e'\\\\'; SELECT 'x';"), 2);
	ck_assert_str_eq(stmt(0), "SELECT e'\\\\'");
	/* a word that only ends in E is no E prefix: 'a\' closes */
	ck_assert_uint_eq(split("SELECT typE'a\\'; SELECT 2;"), 2);
	ck_assert(!st.unterminated);
	/* E'' also takes doubled quotes */
	ck_assert_uint_eq(split("SELECT E'a''b;'; SELECT 2;"), 2);
}
END_TEST

START_TEST(test_other_prefixed_strings)
{
	ck_assert_uint_eq(split("SELECT B'1;0', X'1F;', N'n;', U&'d\\0061;';"
				" SELECT 2"), 2);
	ck_assert(!st.unterminated);
}
END_TEST

START_TEST(test_quoted_identifiers)
{
	ck_assert_uint_eq(split("CREATE TABLE \"a;b\" (\"c\"\"d;\" int);\n"
				"SELECT U&\"x;\" FROM t;"), 2);
	ck_assert_str_eq(stmt(0), "CREATE TABLE \"a;b\" (\"c\"\"d;\" int)");
	ck_assert_uint_eq(st.items[1].line, 2);
}
END_TEST

START_TEST(test_dollar_quotes)
{
	const char *sql =
		"CREATE FUNCTION f() RETURNS trigger AS $$\n"
		"BEGIN\n"
		"  IF NEW.x = ';' THEN RAISE 'don''t; stop'; END IF;\n"
		"  RETURN NEW;\n"
		"END;\n"
		"$$ LANGUAGE plpgsql;\n"
		"SELECT 2;";

	ck_assert_uint_eq(split(sql), 2);
	ck_assert(!strncmp(stmt(0), "CREATE FUNCTION", 15));
	ck_assert(strstr(stmt(0), "$$ LANGUAGE plpgsql") != NULL);
	ck_assert_str_eq(stmt(1), "SELECT 2");
	ck_assert_uint_eq(st.items[1].line, 7);
}
END_TEST

START_TEST(test_dollar_tags_nested)
{
	const char *sql =
		"CREATE FUNCTION g() RETURNS text LANGUAGE plpgsql AS $fn$\n"
		"DECLARE s text := $$a; b$$;\n"
		"BEGIN\n"
		"  EXECUTE $body$ SELECT 1; $$ $x$ ; $body$;\n"
		"  RETURN 'it''s $fn not the end';\n"
		"END\n"
		"$fn$;\n"
		"SELECT $q$;$q$, 'x';";

	ck_assert_uint_eq(split(sql), 2);
	ck_assert(strstr(stmt(0), "END\n$fn$") != NULL);
	ck_assert_str_eq(stmt(1), "SELECT $q$;$q$, 'x'");
	ck_assert_uint_eq(st.items[1].line, 8);
	ck_assert(!st.unterminated);
}
END_TEST

START_TEST(test_do_block_begin_end)
{
	ck_assert_uint_eq(split("DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\n"
				"DO LANGUAGE plpgsql $do$ BEGIN NULL; END "
				"$do$;"), 2);
	ck_assert_uint_eq(st.items[1].line, 6);
}
END_TEST

START_TEST(test_dollar_boundaries)
{
	/* $1 is a parameter, not a tag */
	ck_assert_uint_eq(split("PREPARE p AS SELECT $1; SELECT 2;"), 2);
	/* '$' inside an identifier does not start a quote */
	ck_assert_uint_eq(split("SELECT a$b$; SELECT 2; SELECT $b$"), 3);
	ck_assert_str_eq(stmt(0), "SELECT a$b$");
	ck_assert(st.unterminated);
	ck_assert_str_eq(st.unterminated_what, "dollar-quoted string");
	ck_assert_uint_eq(st.unterminated_line, 1);
}
END_TEST

START_TEST(test_comments)
{
	const char *sql =
		"-- header; not SQL\n"
		"/* block ; /* nested ; */ still comment ; */\n"
		"SELECT 1 -- trailing ;\n"
		";\n"
		"SELECT /* in the middle; */ 2;";

	ck_assert_uint_eq(split(sql), 2);
	ck_assert_str_eq(stmt(0), "SELECT 1");
	ck_assert_uint_eq(st.items[0].line, 3);
	ck_assert_str_eq(stmt(1), "SELECT /* in the middle; */ 2");
	ck_assert_uint_eq(st.items[1].line, 5);
	ck_assert(!st.unterminated);
}
END_TEST

START_TEST(test_parentheses)
{
	ck_assert_uint_eq(split("CREATE RULE r AS ON INSERT TO t DO ALSO "
				"(INSERT INTO a VALUES (1); INSERT INTO b "
				"VALUES (2)); SELECT 1;"), 2);
	ck_assert_str_eq(stmt(1), "SELECT 1");
	/* a stray ')' does not make the depth negative */
	ck_assert_uint_eq(split("SELECT 1); SELECT 2;"), 2);
}
END_TEST

START_TEST(test_begin_atomic)
{
	const char *sql =
		"CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
		"BEGIN ATOMIC\n"
		"  SELECT 1;\n"
		"  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n"
		"END;\n"
		"CREATE OR REPLACE PROCEDURE p() LANGUAGE sql\n"
		"BEGIN ATOMIC INSERT INTO t VALUES (1); END;\n"
		"SELECT 3;";

	ck_assert_uint_eq(split(sql), 3);
	ck_assert(strstr(stmt(0), "END;\nEND") != NULL);
	ck_assert_uint_eq(st.items[1].line, 6);
	ck_assert_str_eq(stmt(2), "SELECT 3");
}
END_TEST

START_TEST(test_transaction_statements_split)
{
	/* outside a function body BEGIN and END are statements */
	ck_assert_uint_eq(split("BEGIN; SELECT 1; END; COMMIT;"), 4);
	ck_assert_str_eq(stmt(0), "BEGIN");
	ck_assert_str_eq(stmt(2), "END");
}
END_TEST

START_TEST(test_unterminated)
{
	split("SELECT 1;\nSELECT 'abc;\n");
	ck_assert(st.unterminated);
	ck_assert_str_eq(st.unterminated_what, "string");
	ck_assert_uint_eq(st.unterminated_line, 2);
	ck_assert_uint_eq(st.count, 2);

	split("SELECT 1;\n\n/* open /* nested */ still open");
	ck_assert(st.unterminated);
	ck_assert_str_eq(st.unterminated_what, "comment");
	ck_assert_uint_eq(st.unterminated_line, 3);
	ck_assert_uint_eq(st.count, 1);

	split("SELECT \"abc");
	ck_assert(st.unterminated);
	ck_assert_str_eq(st.unterminated_what, "quoted identifier");

	split("DO $x$ BEGIN END $y$;");
	ck_assert(st.unterminated);
	ck_assert_str_eq(st.unterminated_what, "dollar-quoted string");

	split("SELECT E'abc\\'");
	ck_assert(st.unterminated);

	split("SELECT 1;");
	ck_assert(!st.unterminated);
	ck_assert_ptr_null(st.unterminated_what);
}
END_TEST

START_TEST(test_line_numbers)
{
	const char *sql =
		"\n"
		"SELECT 'two\n"
		"lines';\n"
		"/* a\n"
		"   comment */ SELECT $$\n"
		"$$;\n"
		"\n"
		"  SELECT E'\\\n"
		"';  SELECT 9";

	ck_assert_uint_eq(split(sql), 4);
	ck_assert_uint_eq(st.items[0].line, 2);
	ck_assert_uint_eq(st.items[1].line, 5);
	ck_assert_uint_eq(st.items[2].line, 8);
	ck_assert_uint_eq(st.items[3].line, 9);
	ck_assert_uint_eq(cairn_sql_line_of(sql, strlen(sql),
					    st.items[3].offset), 9);
	ck_assert_uint_eq(cairn_sql_line_of(sql, strlen(sql), 0), 1);
	ck_assert_uint_eq(cairn_sql_line_of(sql, 3, 100), 2);
}
END_TEST

START_TEST(test_reuse_and_not_nul_terminated)
{
	const char buf[] = { 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', ';',
			     'S', 'E', 'L', 'E', 'C', 'T', ' ', '\'' };

	split("SELECT 1; SELECT 2; SELECT 3;");
	ck_assert_uint_eq(st.count, 3);
	/* the same list again: replaced, not appended */
	ck_assert_int_eq(cairn_sql_split(&st, buf, 9), 0);
	ck_assert_uint_eq(st.count, 1);
	ck_assert(!st.unterminated);
	ck_assert_int_eq(cairn_sql_split(&st, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(st.count, 2);
	ck_assert(st.unterminated);
}
END_TEST

/* --- tokenizer ---------------------------------------------------------- */

static cairn_sql_tokens tk;

static void tsetup(void)
{
	cairn_sql_tokens init = CAIRN_SQL_TOKENS_INIT;

	tk = init;
}

static void tteardown(void)
{
	cairn_sql_tokens_dispose(&tk);
}

static void tokenize(const char *sql, unsigned line)
{
	ck_assert_int_eq(cairn_sql_tokenize(&tk, sql, strlen(sql), line), 0);
}

static void tok(size_t i, cairn_sql_token_kind kind, const char *txt)
{
	ck_assert_uint_lt(i, tk.count);
	ck_assert_int_eq(tk.items[i].kind, kind);
	ck_assert_str_eq(tk.items[i].text, txt);
}

START_TEST(test_tokens_kinds)
{
	tokenize("create Index \"My \"\"Idx\"\" \" on s.t (a)\n"
		 "  where x = 'it''s' and y = E'\\n' -- c\n"
		 "/* c */ and z = $t$x$t$ and w = $1::int and v >= 1.5e-3;",
		 10);
	tok(0, CAIRN_SQL_TOKEN_WORD, "CREATE");
	tok(1, CAIRN_SQL_TOKEN_WORD, "INDEX");
	tok(2, CAIRN_SQL_TOKEN_IDENT, "My \"Idx\" ");
	tok(3, CAIRN_SQL_TOKEN_WORD, "ON");
	tok(4, CAIRN_SQL_TOKEN_WORD, "S");
	tok(5, CAIRN_SQL_TOKEN_OP, ".");
	tok(6, CAIRN_SQL_TOKEN_WORD, "T");
	tok(7, CAIRN_SQL_TOKEN_OP, "(");
	tok(8, CAIRN_SQL_TOKEN_WORD, "A");
	tok(9, CAIRN_SQL_TOKEN_OP, ")");
	tok(10, CAIRN_SQL_TOKEN_WORD, "WHERE");
	ck_assert_uint_eq(tk.items[10].line, 11);
	tok(12, CAIRN_SQL_TOKEN_OP, "=");
	tok(13, CAIRN_SQL_TOKEN_STRING, "'it''s'");
	tok(17, CAIRN_SQL_TOKEN_STRING, "E'\\n'");
	tok(18, CAIRN_SQL_TOKEN_WORD, "AND");
	ck_assert_uint_eq(tk.items[18].line, 12);
	tok(21, CAIRN_SQL_TOKEN_STRING, "$t$x$t$");
	tok(25, CAIRN_SQL_TOKEN_PARAM, "$1");
	tok(26, CAIRN_SQL_TOKEN_OP, "::");
	tok(27, CAIRN_SQL_TOKEN_WORD, "INT");
	tok(30, CAIRN_SQL_TOKEN_OP, ">=");
	tok(31, CAIRN_SQL_TOKEN_NUMBER, "1.5e-3");
	tok(32, CAIRN_SQL_TOKEN_OP, ";");
	ck_assert_uint_eq(tk.count, 33);
	ck_assert(!tk.unterminated);
	/* offsets point at the source as written */
	ck_assert_uint_eq(tk.items[2].offset, 13);
	ck_assert_uint_eq(tk.items[2].length, 13);
}
END_TEST

START_TEST(test_tokens_keywords_not_in_strings)
{
	tokenize("SELECT 'DROP TABLE x' /* DROP TABLE y */ -- DROP\n"
		 ", $$ DROP TABLE z $$, \"DROP\"", 1);
	ck_assert_uint_eq(tk.count, 6);
	for (size_t i = 1; i < tk.count; i++)
		ck_assert(!cairn_sql_token_is(&tk, i, "DROP"));
	ck_assert(cairn_sql_token_is(&tk, 0, "SELECT"));
	ck_assert(!cairn_sql_token_is(&tk, 99, "SELECT"));
	tok(5, CAIRN_SQL_TOKEN_IDENT, "DROP");
}
END_TEST

START_TEST(test_tokens_prefixed_and_unicode)
{
	tokenize("SELECT U&'\\0041', U&\"d\\0061t\", B'101', x'1F', n'ñ', "
		 "café", 1);
	tok(1, CAIRN_SQL_TOKEN_STRING, "U&'\\0041'");
	tok(3, CAIRN_SQL_TOKEN_IDENT, "d\\0061t");
	tok(5, CAIRN_SQL_TOKEN_STRING, "B'101'");
	tok(7, CAIRN_SQL_TOKEN_STRING, "x'1F'");
	tok(9, CAIRN_SQL_TOKEN_STRING, "n'ñ'");
	/* only ASCII is upper-cased */
	tok(11, CAIRN_SQL_TOKEN_WORD, "CAFé");
}
END_TEST

START_TEST(test_tokens_operators_and_comments)
{
	tokenize("SELECT 1 +-- comment\n 2 */* c */3, a.b, .5, x$y", 1);
	tok(2, CAIRN_SQL_TOKEN_OP, "+");
	tok(3, CAIRN_SQL_TOKEN_NUMBER, "2");
	tok(4, CAIRN_SQL_TOKEN_OP, "*");
	tok(5, CAIRN_SQL_TOKEN_NUMBER, "3");
	tok(7, CAIRN_SQL_TOKEN_WORD, "A");
	tok(8, CAIRN_SQL_TOKEN_OP, ".");
	tok(11, CAIRN_SQL_TOKEN_NUMBER, ".5");
	tok(13, CAIRN_SQL_TOKEN_WORD, "X$Y");
	ck_assert_uint_eq(tk.count, 14);
}
END_TEST

START_TEST(test_tokens_unterminated_and_reuse)
{
	tokenize("SELECT 'open", 1);
	ck_assert(tk.unterminated);
	ck_assert_uint_eq(tk.count, 2);
	tok(1, CAIRN_SQL_TOKEN_STRING, "'open");
	tokenize("SELECT \"open", 1);
	tok(1, CAIRN_SQL_TOKEN_IDENT, "open");
	tokenize("x", 0);
	ck_assert(!tk.unterminated);
	ck_assert_uint_eq(tk.count, 1);
	ck_assert_uint_eq(tk.items[0].line, 1);
	tokenize("", 1);
	ck_assert_uint_eq(tk.count, 0);
}
END_TEST

START_TEST(test_tokens_join)
{
	char *s = NULL;

	tokenize("create  index -- x\n on t(a, \"B\"\"c\")", 1);
	ck_assert_int_eq(cairn_sql_tokens_join(&s, &tk, 0, tk.count), 0);
	ck_assert_str_eq(s, "CREATE INDEX ON T (A, \"B\"\"c\")");
	free(s);
	tokenize("CREATE INDEX ON s.t (a);", 1);
	ck_assert_int_eq(cairn_sql_tokens_join(&s, &tk, 3, 100), 0);
	ck_assert_str_eq(s, "S.T (A);");
	free(s);
	ck_assert_int_eq(cairn_sql_tokens_join(&s, &tk, 2, 2), 0);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

static Suite *sqlsplit_suite(void)
{
	Suite *s = suite_create("sqlsplit");
	TCase *tc = tcase_create("split");
	TCase *tt = tcase_create("tokens");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_simple);
	tcase_add_test(tc, test_empty_statements);
	tcase_add_test(tc, test_quotes_with_doubled_escapes);
	tcase_add_test(tc, test_standard_strings_keep_backslash);
	tcase_add_test(tc, test_e_strings);
	tcase_add_test(tc, test_other_prefixed_strings);
	tcase_add_test(tc, test_quoted_identifiers);
	tcase_add_test(tc, test_dollar_quotes);
	tcase_add_test(tc, test_dollar_tags_nested);
	tcase_add_test(tc, test_do_block_begin_end);
	tcase_add_test(tc, test_dollar_boundaries);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_parentheses);
	tcase_add_test(tc, test_begin_atomic);
	tcase_add_test(tc, test_transaction_statements_split);
	tcase_add_test(tc, test_unterminated);
	tcase_add_test(tc, test_line_numbers);
	tcase_add_test(tc, test_reuse_and_not_nul_terminated);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tt, tsetup, tteardown);
	tcase_add_test(tt, test_tokens_kinds);
	tcase_add_test(tt, test_tokens_keywords_not_in_strings);
	tcase_add_test(tt, test_tokens_prefixed_and_unicode);
	tcase_add_test(tt, test_tokens_operators_and_comments);
	tcase_add_test(tt, test_tokens_unterminated_and_reuse);
	tcase_add_test(tt, test_tokens_join);
	suite_add_tcase(s, tt);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sqlsplit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
