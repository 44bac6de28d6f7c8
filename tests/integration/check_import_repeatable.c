/*
 * check_import_repeatable.c - `cairn import flyway` takes over Flyway's
 * repeatable migrations (issue 13 item 4): a real repository in the
 * flyway layout, a real flyway_schema_history made the way Flyway makes
 * it, the real cairn binary, a fresh database per test.
 *
 * Flyway's checksums in the history are computed here independently of
 * cairn: the file with its line terminators (and a byte order mark)
 * taken out, through gzip, whose trailer holds the CRC-32 of its input.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/repeatable.h"
#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

static void project_init(project *p)
{
	char yaml[4096];

	p->url = tu_db_create("irep");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "layout: flyway\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n", p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static void commit(project *p)
{
	free(tu_git_commit(p->dir, "Fay Flyway", "fay@example.com",
			   1700000000L, "migrations"));
}

static void assert_q(project *p, const char *sql, const char *want)
{
	char *v = tu_db_value(p->url, sql);

	ck_assert_msg(v && !strcmp(v, want), "%s: got '%s', want '%s'", sql,
		      v ? v : "(null)", want);
	free(v);
}

/*
 * Flyway's checksum of dir/rel computed without cairn: BOM and line
 * terminators removed, CRC-32 from gzip's trailer, as a signed int.
 */
static long flyway_sum(const char *dir, const char *rel)
{
	char *out = tu_sh_out(dir,
		"sed '1s/^\\xef\\xbb\\xbf//' '%s' | tr -d '\\r\\n' | gzip -c | "
		"tail -c8 | od -An -tu4 -N4 | tr -d ' '", rel);
	unsigned long u;

	ck_assert_msg(out && *out, "no checksum for %s", rel);
	u = strtoul(out, NULL, 10);
	free(out);
	return u > 0x7fffffffUL ? (long)u - 0x100000000L : (long)u;
}

static void history(project *p)
{
	ck_assert_int_eq(tu_db_exec(p->url,
		"CREATE TABLE flyway_schema_history ("
		" installed_rank integer PRIMARY KEY, version varchar(50),"
		" description varchar(200) NOT NULL, type varchar(20) NOT NULL,"
		" script varchar(1000) NOT NULL, checksum integer,"
		" installed_by varchar(100) NOT NULL,"
		" installed_on timestamp NOT NULL DEFAULT now(),"
		" execution_time integer NOT NULL, success boolean NOT NULL)"), 0);
}

#define VIEWS "CREATE OR REPLACE VIEW v AS\r\n  SELECT id FROM t;\r\n\r\n"
#define FUNCS_OLD "CREATE OR REPLACE FUNCTION f() RETURNS int\nLANGUAGE sql AS 'SELECT 1';\n"
#define FUNCS_NEW "CREATE OR REPLACE FUNCTION f() RETURNS int\nLANGUAGE sql AS 'SELECT 2';\n"

/* One unchanged (recorded), one changed since (left pending), one gone. */
START_TEST(test_import_both_ways)
{
	project p;
	tu_result r;
	long views, funcs_old;
	char sql[4096];

	project_init(&p);
	tu_write(p.dir, "db/migrations/V1__t.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/R__views.sql", VIEWS);
	tu_write(p.dir, "db/migrations/R__funcs.sql", FUNCS_OLD);
	funcs_old = flyway_sum(p.dir, "db/migrations/R__funcs.sql");
	tu_write(p.dir, "db/migrations/R__funcs.sql", FUNCS_NEW);
	views = flyway_sum(p.dir, "db/migrations/R__views.sql");
	commit(&p);
	history(&p);
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE t (id int);"
		 "CREATE VIEW v AS SELECT id FROM t;"
		 "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
		 "INSERT INTO flyway_schema_history VALUES "
		 "(1, '1', 't', 'SQL', 'V1__t.sql', 11, 'frank', '2023-04-01 10:00:00', 5, true),"
		 "(2, NULL, 'views', 'SQL', 'R__views.sql', 12345, 'frank', '2023-04-01 10:00:01', 5, true),"
		 "(3, NULL, 'funcs', 'SQL', 'R__funcs.sql', %ld, 'frank', '2023-04-01 10:00:02', 5, true),"
		 "(4, NULL, 'gone', 'SQL', 'R__gone.sql', 7, 'frank', '2023-04-01 10:00:03', 5, true),"
		 "(5, NULL, 'views', 'SQL', 'R__views.sql', %ld, 'grace', '2023-04-02 11:00:00', 5, true)",
		 funcs_old, views);
	ck_assert_int_eq(tu_db_exec(p.url, sql), 0);

	/* the dry run says which is which, and writes nothing */
	tu_cairn(&r, p.dir, "import", "flyway", "--dry-run", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "views (repeatable): checksum") &&
		      tu_contains(r.out, "matches, would be recorded as applied") &&
		      tu_contains(r.out, "funcs (repeatable): the file changed since Flyway ran it") &&
		      tu_contains(r.out, "would stay pending") &&
		      tu_contains(r.out, "R__gone.sql") &&
		      tu_contains(r.out, "no such file"), "%s", r.out);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT to_regclass('cairn.repeatables') IS NULL", "t");

	tu_cairn(&r, p.dir, "import", "flyway", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	snprintf(sql, sizeof(sql),
		 "SELECT name || ' ' || applied_by || ' ' || imported_checksum || ' ' || "
		 "(imported_checksum = '%ld') || ' ' || "
		 "to_char(applied_at AT TIME ZONE current_setting('TimeZone'), 'YYYY-MM-DD HH24:MI') "
		 "FROM cairn.repeatables", views);
	{
		char want[200];

		snprintf(want, sizeof(want), "views grace (flyway) %ld true 2023-04-02 11:00", views);
		assert_q(&p, sql, want);
	}
	assert_q(&p, "SELECT event || ' ' || name || ' ' || (detail->>'repeatable') || ' ' || "
		     "(detail->>'tool_script') FROM cairn.audit "
		     "WHERE outcome = 'imported' AND version IS NULL",
		 "import views true R__views.sql");
	assert_q(&p, "SELECT count(DISTINCT run_id) FROM cairn.audit WHERE outcome = 'imported'", "1");

	/* status: views current, funcs pending; migrate applies funcs only */
	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(tu_contains(r.out, "1 current, 1 pending"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0 && tu_contains(r.out, "applied 1 migration"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT f()", "2");
	assert_q(&p, "SELECT string_agg(name, ',' ORDER BY name) FROM cairn.repeatables", "funcs,views");
	assert_q(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied' AND name = 'views'", "0");
	/* Flyway's own table is left as it was */
	assert_q(&p, "SELECT count(*) FROM flyway_schema_history", "5");
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

/* Flyway's checksum ignores line terminators and a byte order mark. */
START_TEST(test_flyway_checksum)
{
	char *dir = tu_mkdtemp();
	static const char lf[] = "SELECT 1;\n\nSELECT 2;\n";
	static const char crlf[] = "\xef\xbb\xbfSELECT 1;\r\n\r\nSELECT 2;\r\n";
	long want;

	tu_write(dir, "a.sql", lf);
	want = flyway_sum(dir, "a.sql");
	ck_assert_int_eq(cairn_flyway_checksum(lf, strlen(lf)), want);
	ck_assert_int_eq(cairn_flyway_checksum(crlf, strlen(crlf)), want);
	/* a different statement, a different checksum */
	ck_assert_int_ne(cairn_flyway_checksum("SELECT 3;\n", 10), want);
	/* nothing at all: CRC-32 of no bytes */
	ck_assert_int_eq(cairn_flyway_checksum("\r\n", 2), 0);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("import_repeatable");
	TCase *tc = tcase_create("import_repeatable");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_flyway_checksum);
	tcase_add_test(tc, test_import_both_ways);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
