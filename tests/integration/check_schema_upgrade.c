/*
 * check_schema_upgrade.c - cairn's schema version 2 -> 3 (versions as
 * text) on a real database that an earlier cairn built.
 *
 * tests/fixtures/schema2/dump.sql is a pg_dump of a database that cairn
 * at schema version 2 (main at d0e735a, numeric(20,0) versions) migrated
 * with the files of tests/fixtures/schema2/migrations/ (1, 2 and 10,
 * then 10 rolled back and applied again); make-dump.sh next to it
 * regenerates it.  Each test loads it with psql into a fresh database,
 * lays the same files into a new repository and checks that:
 *
 *  - read-only commands (status, audit verify) work on it as it is and
 *    change nothing (it stays at version 2);
 *  - the first command that writes upgrades it: both version columns
 *    become text with every version's text unchanged, and the audit
 *    chain written before the upgrade still verifies, as do the rows
 *    written after it;
 *  - ordering follows cairn's comparison (10 after 2, 10.5 after 10),
 *    never text order, in status, migrate up and migrate down --to.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

static const char *const fixture_files[] = {
	"1_create_a.up.sql", "1_create_a.down.sql",
	"2_create_b.up.sql", "2_create_b.down.sql",
	"10_create_c.up.sql", "10_create_c.down.sql",
	NULL,
};

static char *fixture_path(const char *rel)
{
	const char *src = getenv("CAIRN_SRCDIR");
	char *p;

	ck_assert_ptr_nonnull(src);
	ck_assert_int_ge(asprintf(&p, "%s/tests/fixtures/schema2/%s", src, rel),
			 0);
	return p;
}

/* A fresh database loaded from the dump, and a repository with its files. */
static void project_init(project *p)
{
	char yaml[4096], *dump, *mig;

	p->url = tu_db_create("upg");
	dump = fixture_path("dump.sql");
	ck_assert_int_eq(tu_sh(".", "psql -q -X -v ON_ERROR_STOP=1 -o /dev/null "
			       "-f '%s' '%s'", dump, p->url), 0);
	free(dump);
	p->dir = tu_git_repo();
	mig = fixture_path("migrations");
	for (size_t i = 0; fixture_files[i]; i++) {
		char *text, rel[256];

		text = tu_read(mig, fixture_files[i]);
		ck_assert_ptr_nonnull(text);
		snprintf(rel, sizeof(rel), "db/migrations/%s", fixture_files[i]);
		tu_write(p->dir, rel, text);
		free(text);
	}
	free(mig);
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n", p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
	free(tu_git_commit(p->dir, "Ada Upgrade", "ada@example.com",
			   1700000000L, "migrations"));
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

static void run_ok(project *p, const char *a, const char *b, const char *c)
{
	tu_result r;

	tu_cairn(&r, p->dir, a, b, c, NULL);
	ck_assert_msg(r.status == 0, "cairn %s %s %s: %d\n%s%s", a,
		      b ? b : "", c ? c : "", r.status, r.out, r.err);
	tu_result_dispose(&r);
}

#define COLUMN_TYPES \
	"SELECT string_agg(table_name || '.' || data_type, ',' ORDER BY table_name) " \
	"FROM information_schema.columns WHERE table_schema = 'cairn' " \
	"AND column_name = 'version' AND table_name IN ('migrations', 'audit')"

/* Read-only commands on the old schema: they read it and change nothing. */
START_TEST(test_read_only_on_schema2)
{
	project p;
	tu_result r;

	project_init(&p);
	assert_q(&p, "SELECT version FROM cairn.schema_version", "2");
	assert_q(&p, COLUMN_TYPES, "audit.numeric,migrations.numeric");
	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "3 applied"), "%s", r.out);
	{
		const char *a = strstr(r.out, "create_b");
		const char *b = strstr(r.out, "create_c");

		ck_assert_msg(a && b && a < b, "%s", r.out);
	}
	tu_result_dispose(&r);
	run_ok(&p, "audit", "verify", NULL);
	assert_q(&p, "SELECT version FROM cairn.schema_version", "2");
	project_dispose(&p);
}
END_TEST

/* migrate upgrades to 3; the chain holds across; order is cairn's. */
START_TEST(test_upgrade_keeps_chain_and_order)
{
	project p;
	tu_result r;

	project_init(&p);
	tu_write(p.dir, "db/migrations/10.5_create_d.up.sql",
		 "CREATE TABLE d (id int);\n");
	tu_write(p.dir, "db/migrations/10.5_create_d.down.sql",
		 "DROP TABLE d;\n");
	tu_write(p.dir, "db/migrations/11_create_e.up.sql",
		 "CREATE TABLE e (id int);\n");
	tu_write(p.dir, "db/migrations/11_create_e.down.sql",
		 "DROP TABLE e;\n");
	free(tu_git_commit(p.dir, "Ada Upgrade", "ada@example.com",
			   1700000100L, "more"));
	run_ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT version FROM cairn.schema_version", "4");
	assert_q(&p, COLUMN_TYPES, "audit.text,migrations.text");
	/* the old rows keep their text; the new ones are applied in order */
	assert_q(&p, "SELECT string_agg(version, ',' ORDER BY id) FROM cairn.audit",
		 "1,2,10,10,10,10.5,11");
	assert_q(&p, "SELECT count(*) FROM cairn.migrations", "5");

	/* rows hashed before the upgrade and after it verify */
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "audit chain ok: 7 rows"), "%s", r.out);
	tu_result_dispose(&r);

	/* status: 10, 10.5, 11 after 2 */
	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	{
		const char *a = strstr(r.out, "create_b");
		const char *b = strstr(r.out, "create_c");
		const char *c = strstr(r.out, "create_d");
		const char *d = strstr(r.out, "create_e");

		ck_assert_msg(a && b && c && d && a < b && b < c && c < d,
			      "%s", r.out);
	}
	tu_result_dispose(&r);

	/* down to 2: 11, 10.5, 10 (text order would take 2 for the top) */
	run_ok(&p, "migrate", "down", "--to=2");
	assert_q(&p, "SELECT string_agg(version, ',' ORDER BY id) FROM cairn.audit "
		     "WHERE outcome = 'rolled_back'", "10,11,10.5,10");
	assert_q(&p, "SELECT string_agg(tablename, ',' ORDER BY tablename) "
		     "FROM pg_tables WHERE schemaname = 'public'", "a,b");
	run_ok(&p, "audit", "verify", NULL);
	/* and up again, in order */
	run_ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT string_agg(version, ',' ORDER BY id) FROM cairn.audit "
		     "WHERE outcome = 'applied' AND id > 7", "10,10.5,11");
	run_ok(&p, "audit", "verify", NULL);
	project_dispose(&p);
}
END_TEST

/* An edited audit row written before the upgrade is still caught after. */
START_TEST(test_tamper_before_upgrade_still_caught)
{
	project p;
	tu_result r;

	project_init(&p);
	/* edit a pre-upgrade row behind the trigger's back */
	ck_assert_int_eq(tu_db_exec(p.url,
		"ALTER TABLE cairn.audit DISABLE TRIGGER audit_append_only;"
		"UPDATE cairn.audit SET name = 'create_x' WHERE id = 2;"
		"ALTER TABLE cairn.audit ENABLE TRIGGER audit_append_only"), 0);
	tu_write(p.dir, "db/migrations/11_create_e.up.sql",
		 "CREATE TABLE e (id int);\n");
	free(tu_git_commit(p.dir, "Ada Upgrade", "ada@example.com",
			   1700000100L, "more"));
	run_ok(&p, "migrate", "up", NULL);
	assert_q(&p, "SELECT version FROM cairn.schema_version", "4");
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 1, "%d\n%s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "the audit chain is broken at row 2"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("schema_upgrade");
	TCase *tc = tcase_create("schema_upgrade");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_read_only_on_schema2);
	tcase_add_test(tc, test_upgrade_keeps_chain_and_order);
	tcase_add_test(tc, test_tamper_before_upgrade_still_caught);
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
