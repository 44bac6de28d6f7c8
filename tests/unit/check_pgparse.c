/*
 * check_pgparse.c - PostgreSQL's parser over migration files
 * (src/pgparse.c) and the syntax check of validate (cairn_lint_syntax,
 * cairn_validate_run).
 *
 * Statement places (offset of the first token, end of the last one,
 * line and column) on text with comments, dollar quotes, BEGIN ATOMIC
 * bodies and rules with parenthesized actions; syntax errors with the
 * parser's message, line and column (in characters, after multi-byte
 * text); psql meta-commands as errors.  The hand-written splitter
 * (util/sqlsplit.c, still used by the engine for no-transaction files)
 * is compared with the parser on every file of the lint corpus
 * (tests/lint-corpus) the grammar accepts: same number of statements,
 * same boundaries.  The last test makes a real repository and runs
 * validate: a syntax error in a down file is a finding.
 */
#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/lint.h"
#include "cairn/sqlsplit.h"
#include "cairn/validate.h"
#include "pgparse.h"
#include "testutil.h"

static void parse_ok(cairn_pg_file *f, const char *sql)
{
	ck_assert_int_eq(cairn_pg_parse(f, sql, strlen(sql)), 0);
	ck_assert_msg(!f->error, "unexpected error: %s", f->error);
}

START_TEST(test_statement_places)
{
	static const char sql[] =
		"-- header\n"
		"CREATE TABLE t (id int); /* c */ SELECT ';' AS x;\n"
		"\n"
		"  DO $body$ BEGIN PERFORM 1; END $body$;\n"
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
		"BEGIN ATOMIC SELECT 1; SELECT 2; END;\n"
		"CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b);\n"
		"SELECT 'é' -- trailing\n";
	cairn_pg_file f = CAIRN_PG_FILE_INIT;

	parse_ok(&f, sql);
	ck_assert_uint_eq(f.count, 6);
	ck_assert_str_eq(f.items[0].type, "CreateStmt");
	ck_assert_uint_eq(f.items[0].offset, 10);
	ck_assert_uint_eq(f.items[0].length, strlen("CREATE TABLE t (id int)"));
	ck_assert_uint_eq(f.items[0].line, 2);
	ck_assert_uint_eq(f.items[0].column, 1);
	ck_assert_str_eq(f.items[1].type, "SelectStmt");
	ck_assert_uint_eq(f.items[1].line, 2);
	ck_assert_uint_eq(f.items[1].column, 34);
	ck_assert(!strncmp(sql + f.items[1].offset, "SELECT ';' AS x",
			   f.items[1].length));
	ck_assert_str_eq(f.items[2].type, "DoStmt");
	ck_assert_uint_eq(f.items[2].line, 4);
	ck_assert_uint_eq(f.items[2].column, 3);
	ck_assert_str_eq(f.items[3].type, "CreateFunctionStmt");
	ck_assert_uint_eq(f.items[3].line, 5);
	ck_assert_str_eq(f.items[4].type, "RuleStmt");
	ck_assert_str_eq(f.items[5].type, "SelectStmt");
	/* the trailing comment is not part of the last statement */
	ck_assert_uint_eq(f.items[5].length, strlen("SELECT 'é'"));
	cairn_pg_file_dispose(&f);
	cairn_pg_file_dispose(&f); /* twice is fine */
}
END_TEST

START_TEST(test_tree_accessors)
{
	cairn_pg_file f = CAIRN_PG_FILE_INIT;
	json_t *rv;
	char buf[32];

	parse_ok(&f, "ALTER TABLE app.\"Users\" ALTER COLUMN a TYPE bigint;"
		     "ALTER TYPE s.mood ADD VALUE 'x';");
	rv = cairn_pg_get(f.items[0].node, "relation");
	ck_assert_str_eq(cairn_pg_str(rv, "schemaname"), "app");
	ck_assert_str_eq(cairn_pg_str(rv, "relname"), "Users");
	ck_assert_uint_eq(cairn_pg_len(f.items[0].node, "cmds"), 1);
	ck_assert_str_eq(cairn_pg_str(cairn_pg_node_is(cairn_pg_at(
					      f.items[0].node, "cmds", 0),
					      "AlterTableCmd"),
				      "subtype"),
			 "AT_AlterColumnType");
	ck_assert_ptr_null(cairn_pg_node_is(
		cairn_pg_at(f.items[0].node, "cmds", 0), "Constraint"));
	ck_assert_str_eq(cairn_pg_last_name(
				 cairn_pg_get(f.items[1].node, "typeName")),
			 "mood");
	cairn_pg_names_join(cairn_pg_get(f.items[1].node, "typeName"), buf,
			    sizeof(buf));
	ck_assert_str_eq(buf, "s.mood");
	cairn_pg_names_join(cairn_pg_get(f.items[1].node, "typeName"), buf, 4);
	ck_assert_str_eq(buf, "s.m");
	ck_assert_ptr_null(cairn_pg_str(NULL, "x"));
	ck_assert(!cairn_pg_bool(NULL, "x"));
	ck_assert_uint_eq(cairn_pg_len(NULL, "x"), 0);
	cairn_pg_file_dispose(&f);
}
END_TEST

START_TEST(test_syntax_errors)
{
	cairn_pg_file f = CAIRN_PG_FILE_INIT;
	static const char utf8[] = "SELECT 'héhé';\n  SELECT 'ü'; CREAT TABLE x;";

	ck_assert_int_eq(cairn_pg_parse(&f, "SELECT 1;\nCREAT TABLE x (id int);",
					strlen("SELECT 1;\nCREAT TABLE x (id int);")),
			 0);
	ck_assert_ptr_nonnull(f.error);
	ck_assert(tu_contains(f.error, "syntax error at or near \"CREAT\""));
	ck_assert_uint_eq(f.error_line, 2);
	ck_assert_uint_eq(f.error_column, 1);
	ck_assert_uint_eq(f.error_offset, 10);
	ck_assert_uint_eq(f.count, 0);

	/* columns count characters, offsets bytes */
	ck_assert_int_eq(cairn_pg_parse(&f, utf8, strlen(utf8)), 0);
	ck_assert_ptr_nonnull(f.error);
	ck_assert_uint_eq(f.error_line, 2);
	ck_assert_uint_eq(f.error_column, 15);
	ck_assert(!strncmp(utf8 + f.error_offset, "CREAT", 5));

	ck_assert_int_eq(cairn_pg_parse(&f, "\\connect other\n", 15), 0);
	ck_assert_ptr_nonnull(f.error);
	ck_assert_uint_eq(f.error_offset, 0);

	/* a NUL byte inside the text is refused, not parsed short */
	ck_assert_int_eq(cairn_pg_parse(&f, "SELECT 1;\0DROP TABLE x;", 23),
			 -1);
	cairn_pg_file_dispose(&f);
}
END_TEST

START_TEST(test_tree_too_deep_for_json)
{
	cairn_pg_file f = CAIRN_PG_FILE_INIT;
	size_t n = 3000, cap = 16 + n * 5 + 64, used;
	char *sql = malloc(cap);

	/* a chain of 3,000 || is fine for the grammar, too deep for jansson */
	ck_assert_ptr_nonnull(sql);
	used = (size_t)snprintf(sql, cap, "SELECT 'a'");
	for (size_t i = 1; i < n; i++)
		used += (size_t)snprintf(sql + used, cap - used, "||'a'");
	snprintf(sql + used, cap - used, ";\nCREATE INDEX i ON t (x);");
	parse_ok(&f, sql);
	ck_assert_uint_eq(f.count, 2);
	ck_assert_str_eq(f.items[0].type, "");
	ck_assert_ptr_null(f.items[0].node);
	ck_assert_uint_eq(f.items[0].offset, 0);
	ck_assert_str_eq(f.items[1].type, "IndexStmt");
	ck_assert_uint_eq(f.items[1].line, 2);
	ck_assert_str_eq(cairn_pg_str(cairn_pg_get(f.items[1].node,
						   "relation"),
				      "relname"),
			 "t");
	cairn_pg_file_dispose(&f);
	free(sql);
}
END_TEST

/* --- the parser against the hand-written splitter ------------------------ */

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_ge(n, 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* Compares the two on one file; returns 1 when the parser accepted it. */
static int compare_file(const char *path)
{
	cairn_sql_statements st = CAIRN_SQL_STATEMENTS_INIT;
	cairn_pg_file f = CAIRN_PG_FILE_INIT;
	size_t len;
	char *sql = slurp(path, &len);
	int accepted = 0;

	ck_assert_int_eq(cairn_pg_parse(&f, sql, len), 0);
	ck_assert_int_eq(cairn_sql_split(&st, sql, len), 0);
	if (!f.error) {
		accepted = 1;
		ck_assert_msg(st.count == f.count, "%s: splitter %zu, parser %zu",
			      path, st.count, f.count);
		for (size_t i = 0; i < f.count; i++) {
			ck_assert_msg(st.items[i].offset == f.items[i].offset &&
					      st.items[i].length ==
						      f.items[i].length &&
					      st.items[i].line == f.items[i].line,
				      "%s: statement %zu: splitter %zu+%zu line %u, parser %zu+%zu line %u",
				      path, i, st.items[i].offset,
				      st.items[i].length, st.items[i].line,
				      f.items[i].offset, f.items[i].length,
				      f.items[i].line);
		}
	}
	cairn_sql_statements_dispose(&st);
	cairn_pg_file_dispose(&f);
	free(sql);
	return accepted;
}

static size_t compare_dir(const char *dir, size_t *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t accepted = 0;
	char path[PATH_MAX];

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".sql"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		accepted += (size_t)compare_file(path);
		(*files)++;
	}
	closedir(d);
	return accepted;
}

START_TEST(test_splitter_agrees_on_corpus)
{
	const char *src = getenv("CAIRN_SRCDIR");
	char dir[PATH_MAX];
	size_t files = 0, accepted = 0;

	snprintf(dir, sizeof(dir), "%s/tests/lint-corpus/dangerous",
		 src ? src : ".");
	accepted += compare_dir(dir, &files);
	snprintf(dir, sizeof(dir), "%s/tests/lint-corpus/safe",
		 src ? src : ".");
	accepted += compare_dir(dir, &files);
	ck_assert_uint_ge(files, 100);
	/* only the syntax-error corpus files are rejected */
	ck_assert_uint_ge(accepted, files - 3);
}
END_TEST

/* --- validate: every up and down file parsed ----------------------------- */

START_TEST(test_validate_reports_syntax)
{
	cairn_load_options lo = CAIRN_LOAD_OPTIONS_INIT;
	cairn_findings out = CAIRN_FINDINGS_INIT;
	cairn_migration_set *set = NULL;
	cairn_repo *repo = NULL;
	char *dir = tu_git_repo();
	size_t n = 0;

	tu_write(dir, "db/migrations/0001_a.up.sql",
		 "CREATE TABLE a (id bigint PRIMARY KEY);\n");
	tu_write(dir, "db/migrations/0001_a.down.sql", "DROP TABLE a;\n");
	tu_write(dir, "db/migrations/0002_b.up.sql",
		 "-- add b\nCREAT TABLE b (id bigint);\n");
	tu_write(dir, "db/migrations/0002_b.down.sql",
		 "DROP TABLE b;\n\\echo done\n");
	free(tu_git_commit(dir, "Ada", "ada@example.com", 1700000000, "m"));
	ck_assert_int_eq(cairn_repo_open(&repo, dir), 0);
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &lo), 0);
	ck_assert_int_eq(cairn_validate_run(&out, set, NULL), 0);
	cairn_findings_sort(&out);
	for (size_t i = 0; i < out.count; i++) {
		const cairn_finding *f = &out.items[i];

		if (strcmp(f->code, "syntax-error"))
			continue;
		n++;
		ck_assert_int_eq(f->severity, CAIRN_SEVERITY_ERROR);
		ck_assert_uint_eq(f->line, 2);
		ck_assert_str_eq(f->version, "2");
		if (tu_contains(f->file, "down")) {
			ck_assert_str_eq(f->file,
					 "db/migrations/0002_b.down.sql");
			ck_assert(tu_contains(f->message, "'\\echo'"));
		} else {
			ck_assert_str_eq(f->file,
					 "db/migrations/0002_b.up.sql");
			ck_assert(tu_contains(f->message, "\"CREAT\""));
			ck_assert(tu_contains(f->message, "column 1"));
		}
	}
	ck_assert_uint_eq(n, 2);
	cairn_findings_dispose(&out);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_cli_validate_syntax_once)
{
	char *dir = tu_git_repo();
	tu_result r;

	tu_write(dir, "db/migrations/0001_a.up.sql", "CREAT TABLE a (id int);\n");
	free(tu_git_commit(dir, "Ada", "ada@example.com", 1700000000, "m"));
	tu_cairn(&r, dir, "validate", "--no-db", NULL);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert(tu_contains(r.out, "0001_a.up.sql:1: error: syntax error"));
	/* validate's own finding, not a second one from lint */
	ck_assert_ptr_null(strstr(strstr(r.out, "syntax error") + 1,
				  "syntax error"));
	tu_result_dispose(&r);
	tu_cairn(&r, dir, "lint", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.out, "[syntax-error]"));
	tu_result_dispose(&r);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *pgparse_suite(void)
{
	Suite *s = suite_create("pgparse");
	TCase *tc = tcase_create("parse");
	TCase *tg = tcase_create("git");

	tcase_add_test(tc, test_statement_places);
	tcase_add_test(tc, test_tree_accessors);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_tree_too_deep_for_json);
	tcase_add_test(tc, test_splitter_agrees_on_corpus);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tg, 60);
	tcase_add_test(tg, test_validate_reports_syntax);
	tcase_add_test(tg, test_cli_validate_syntax_once);
	suite_add_tcase(s, tg);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pgparse_suite());
	char bin[PATH_MAX];
	int failed;

	if (!getenv("CAIRN_BIN") && realpath("build/cairn", bin))
		setenv("CAIRN_BIN", bin, 1);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
