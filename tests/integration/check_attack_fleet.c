/*
 * check_attack_fleet.c - fleet output against hostile text and versions
 * at the limits: a server error holding Unicode noncharacters (U+FFFE,
 * U+FFFF: UTF-8 that is valid but not an XML 1.0 character) must leave
 * `--format junit` well-formed; a long dotted version (the grammar allows
 * 255 bytes) is still the highest applied version in `status
 * --all-targets`.  Real databases on the test server, a real repository,
 * the real cairn binary.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *out;
	char *url;
} project;

/* One target t1 in environment prod; layout as given. */
static void project_init(project *p, const char *layout)
{
	char yaml[2048];

	p->url = tu_db_create("atkfl");
	p->dir = tu_git_repo();
	p->out = tu_mkdtemp();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "%s"
		 "environments:\n"
		 "  prod:\n"
		 "    targets:\n"
		 "      - { name: t1, database_url: \"%s\" }\n",
		 layout, p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	tu_rmrf(p->out);
	free(p->dir);
	free(p->out);
	free(p->url);
}

/*
 * The error of a failed target holds U+FFFE and U+FFFF (the server sends
 * them as they are): the JUnit report must still parse.  Before the fix
 * cli_xml_escape passed them through and expat said "not well-formed".
 */
START_TEST(test_junit_noncharacters)
{
	project p;
	tu_result r;

	project_init(&p, "");
	tu_write(p.dir, "db/migrations/0001_boom.up.sql",
		 "DO $$ BEGIN RAISE EXCEPTION 'bad % %', chr(65534), chr(65535); END $$;\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "boom"));
	tu_cairn(&r, p.dir, "--env", "prod", "--format", "junit", "migrate", "up",
		 "--all-targets", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "<failure ") && tu_contains(r.out, "bad "),
		      "%s%s", r.out, r.err);
	ck_assert_msg(!tu_contains(r.out, "\xef\xbf\xbf") &&
		      !tu_contains(r.out, "\xef\xbf\xbe"), "%s", r.out);
	tu_write(p.out, "junit.xml", r.out);
	tu_result_dispose(&r);
	if (tu_sh(p.out, "command -v python3 >/dev/null") == 0)
		ck_assert_int_eq(tu_sh(p.out, "python3 -c 'import xml.dom.minidom as m; "
				       "m.parse(\"junit.xml\")'"), 0);
	project_dispose(&p);
}
END_TEST

#define LONGV "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1"

/*
 * Versions 1 and LONGV (39 bytes) applied: the highest applied version is
 * LONGV.  Before the fix a version of 32 bytes or more was skipped (a
 * 32-byte buffer), and the fleet said 1.
 */
START_TEST(test_status_highest_long_version)
{
	project p;
	tu_result r;

	project_init(&p, "layout: flyway\n");
	tu_write(p.dir, "db/migrations/V1__a.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "db/migrations/V" LONGV "__b.sql", "CREATE TABLE b (id int);\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "two"));
	tu_cairn(&r, p.dir, "--env", "prod", "migrate", "up", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "--env", "prod", "--format", "json", "status",
		 "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "\"highest_applied\": \"" LONGV "\""),
		      "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "--env", "prod", "status", "--all-targets", NULL);
	ck_assert_msg(r.status == 0 && tu_contains(r.out, LONGV), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("attack_fleet");
	TCase *tc = tcase_create("attack_fleet");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_junit_noncharacters);
	tcase_add_test(tc, test_status_highest_long_version);
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
