/*
 * check_attack_adopt.c - a hostile database against `cairn import
 * flyway` for repeatables: a flyway_schema_history whose checksum column
 * is wider than Flyway's integer and holds a value that only matches the
 * file's checksum in its low 32 bits.  A real repository in the flyway
 * layout, the real cairn binary, a fresh database per test.
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

static void project_init_layout(project *p, const char *layout)
{
	char yaml[4096];

	p->url = tu_db_create("atkad");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "layout: %s\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n", layout, p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
}

static void project_init(project *p)
{
	project_init_layout(p, "flyway");
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static void assert_q(project *p, const char *sql, const char *want)
{
	char *v = tu_db_value(p->url, sql);

	ck_assert_msg(v && !strcmp(v, want), "%s: got '%s', want '%s'", sql,
		      v ? v : "(null)", want);
	free(v);
}

#define VIEWS "CREATE OR REPLACE VIEW v AS SELECT 1 AS id;\n"

/*
 * The history's checksum is a bigint: the file's checksum plus 2^32 is
 * not the file's checksum, so the repeatable stays pending (before the
 * fix it was read with strtol and cut to 32 bits, and recorded as
 * applied).  A checksum that is not a number at all is no match either.
 */
START_TEST(test_import_checksum_out_of_range)
{
	project p;
	tu_result r;
	char sql[2048];
	long long sum;

	project_init(&p);
	tu_write(p.dir, "db/migrations/V1__t.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/R__views.sql", VIEWS);
	tu_write(p.dir, "db/migrations/R__other.sql", "SELECT 1;\n");
	free(tu_git_commit(p.dir, "Fay", "fay@example.com", 1700000000L, "m"));
	sum = cairn_flyway_checksum(VIEWS, strlen(VIEWS));
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE t (id int);"
		 "CREATE TABLE flyway_schema_history ("
		 " installed_rank integer PRIMARY KEY, version varchar(50),"
		 " description varchar(200) NOT NULL, type varchar(20) NOT NULL,"
		 " script varchar(1000) NOT NULL, checksum bigint,"
		 " installed_by varchar(100) NOT NULL,"
		 " installed_on timestamp NOT NULL DEFAULT now(),"
		 " execution_time integer NOT NULL, success boolean NOT NULL);"
		 "INSERT INTO flyway_schema_history VALUES "
		 "(1, '1', 't', 'SQL', 'V1__t.sql', 11, 'frank', '2023-04-01 10:00:00', 5, true),"
		 "(2, NULL, 'views', 'SQL', 'R__views.sql', %lld, 'frank', '2023-04-01 10:00:01', 5, true)",
		 sum + 4294967296LL);
	ck_assert_int_eq(tu_db_exec(p.url, sql), 0);

	tu_cairn(&r, p.dir, "import", "flyway", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "views (repeatable): Flyway's history holds no checksum"),
		      "%s", r.out);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM cairn.repeatables", "0");
	assert_q(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'imported' "
		     "AND version IS NULL", "0");
	project_dispose(&p);
}
END_TEST

/*
 * A file that commits cairn's transaction and opens one of its own
 * ("COMMIT; BEGIN;"): the connection is in a transaction again when the
 * file is done, but it is not cairn's.  The step must fail as "ended the
 * transaction" and write no tracking row, for a versioned migration and
 * for a repeatable (before the fix both were recorded as applied, their
 * first half committed on its own).
 */
START_TEST(test_file_reopens_transaction)
{
	project p;
	tu_result r;

	project_init_layout(&p, "cairn");
	/* a versioned migration whose second half fails: an error that says so */
	tu_write(p.dir, "db/migrations/0001_a.up.sql",
		 "CREATE FUNCTION f0() RETURNS int LANGUAGE sql\n"
		 "SET search_path = begin AS 'SELECT 1';\nCOMMIT;\nBEGIN;\n"
		 "CREATE TABLE a0 (id int);\nSELECT 1/0;\n");
	tu_write(p.dir, "db/migrations/0001_a.down.sql", "DROP TABLE a0;\n");
	free(tu_git_commit(p.dir, "Fay", "fay@example.com", 1700000000L, "m0"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status != 0 && tu_contains(r.err, "ended the transaction"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT to_regclass('a0') IS NULL", "t");
	assert_q(&p, "SELECT count(*) FROM cairn.migrations WHERE status = 'applied'", "0");

	/* one whose second half succeeds: no row either */
	tu_write(p.dir, "db/migrations/0001_a.up.sql",
		 "CREATE OR REPLACE FUNCTION f1() RETURNS int LANGUAGE sql\n"
		 "SET search_path = begin AS 'SELECT 1';\nCOMMIT AND CHAIN;\n"
		 "CREATE TABLE a1 (id int);\n");
	tu_write(p.dir, "db/migrations/0001_a.down.sql", "DROP TABLE a1;\n");
	free(tu_git_commit(p.dir, "Fay", "fay@example.com", 1700000050L, "m1"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status != 0 && tu_contains(r.err, "ended the transaction"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT to_regclass('a1') IS NULL", "t");
	assert_q(&p, "SELECT count(*) FROM cairn.migrations WHERE status = 'applied'", "0");

	/* a repeatable (after a good migration) */
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a1 (id int);\n");
	tu_write(p.dir, "db/migrations/0001_a.down.sql", "DROP TABLE a1;\n");
	tu_write(p.dir, "db/migrations/views.repeatable.sql",
		 "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql\n"
		 "SET search_path = begin AS 'SELECT 1';\nCOMMIT;\nBEGIN;\n"
		 "CREATE OR REPLACE VIEW v2 AS SELECT 2 AS x;\n");
	free(tu_git_commit(p.dir, "Fay", "fay@example.com", 1700000100L, "r"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status != 0 && tu_contains(r.err, "ended the transaction"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT count(*) FROM cairn.repeatables", "0");
	assert_q(&p, "SELECT to_regclass('v2') IS NULL", "t");
	project_dispose(&p);
}
END_TEST

/*
 * Four cairn processes at once on a database an earlier cairn built at
 * schema version 2 (tests/fixtures/schema2/dump.sql): each needs the
 * schema upgraded before it writes.  All succeed, the upgrade happens
 * once, each migration is applied once, the chain verifies.
 */
START_TEST(test_concurrent_schema_upgrade)
{
	static const char *const files[] = {
		"1_create_a.up.sql", "1_create_a.down.sql",
		"2_create_b.up.sql", "2_create_b.down.sql",
		"10_create_c.up.sql", "10_create_c.down.sql", NULL,
	};
	const char *src = getenv("CAIRN_SRCDIR");
	char yaml[2048], path[1024], *out;
	project p;

	ck_assert_ptr_nonnull(src);
	p.url = tu_db_create("atkup");
	p.dir = tu_git_repo();
	snprintf(path, sizeof(path), "%s/tests/fixtures/schema2", src);
	ck_assert_int_eq(tu_sh(".", "psql -q -X -v ON_ERROR_STOP=1 -o /dev/null "
			       "-f '%s/dump.sql' '%s'", path, p.url), 0);
	for (size_t i = 0; files[i]; i++) {
		char rel[256], from[1100], *text;

		snprintf(from, sizeof(from), "%s/migrations", path);
		text = tu_read(from, files[i]);
		ck_assert_ptr_nonnull(text);
		snprintf(rel, sizeof(rel), "db/migrations/%s", files[i]);
		tu_write(p.dir, rel, text);
		free(text);
	}
	tu_write(p.dir, "db/migrations/11_e.up.sql", "CREATE TABLE e (id int);\n");
	tu_write(p.dir, "db/migrations/11_e.down.sql", "DROP TABLE e;\n");
	tu_write(p.dir, "db/migrations/views.repeatable.sql",
		 "CREATE OR REPLACE VIEW ve AS SELECT id FROM e;\n");
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	free(tu_git_commit(p.dir, "Ada", "ada@example.com", 1700000000L, "m"));
	out = tu_sh_out(p.dir,
		"for i in 1 2 3 4; do (\"$CAIRN_BIN\" migrate up --lock-timeout 60s "
		">/dev/null 2>err$i; echo $? >rc$i) & done; wait; cat rc1 rc2 rc3 rc4 | tr -d '\\n'; "
		"cat err1 err2 err3 err4 | grep -v '^cairn: applying' | grep -i 'error\\|fail' | head -5");
	ck_assert_msg(out && !strncmp(out, "0000", 4), "%s", out ? out : "(null)");
	free(out);
	assert_q(&p, "SELECT version FROM cairn.schema_version", "4");
	assert_q(&p, "SELECT count(*) FROM cairn.audit WHERE version = '11' "
		     "AND outcome = 'applied'", "1");
	assert_q(&p, "SELECT count(*) FROM cairn.repeatables", "1");
	assert_q(&p, "SELECT count(*) FROM cairn.audit WHERE version IS NULL "
		     "AND outcome = 'applied'", "1");
	{
		tu_result r;

		tu_cairn(&r, p.dir, "audit", "verify", NULL);
		ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
		tu_result_dispose(&r);
	}
	project_dispose(&p);
}
END_TEST

/*
 * --single-transaction: the second migration commits everything so far
 * and chains a new transaction (past the static check, as above).  The
 * run must fail and say so, and the second half must not be recorded.
 */
START_TEST(test_single_transaction_chain)
{
	project p;
	tu_result r;

	project_init_layout(&p, "cairn");
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "db/migrations/0001_a.down.sql", "DROP TABLE a;\n");
	tu_write(p.dir, "db/migrations/0002_b.up.sql",
		 "CREATE FUNCTION fb() RETURNS int LANGUAGE sql\n"
		 "SET search_path = begin AS 'SELECT 1';\nEND AND CHAIN;\n"
		 "CREATE TABLE b (id int);\n");
	tu_write(p.dir, "db/migrations/0002_b.down.sql", "DROP TABLE b;\n");
	free(tu_git_commit(p.dir, "Fay", "fay@example.com", 1700000000L, "m"));
	tu_cairn(&r, p.dir, "migrate", "up", "--single-transaction", NULL);
	ck_assert_msg(r.status != 0 && tu_contains(r.err, "ended the transaction"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT to_regclass('b') IS NULL", "t");
	assert_q(&p, "SELECT count(*) FROM cairn.migrations WHERE status = 'applied' "
		     "AND version = '2'", "0");
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("attack_adopt");
	TCase *tc = tcase_create("attack_adopt");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_import_checksum_out_of_range);
	tcase_add_test(tc, test_file_reopens_transaction);
	tcase_add_test(tc, test_concurrent_schema_upgrade);
	tcase_add_test(tc, test_single_transaction_chain);
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
