/*
 * check_ci.c - what CI systems and release scripts consume: JUnit XML
 * that parses, GitHub workflow annotations escaped as documented (with %,
 * :, ',' and newlines in messages and file names) plus the step summary,
 * GitLab Code Quality JSON with stable fingerprints, `validate --shadow`
 * on a throwaway cluster, and scripts/release-gate.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char *odd_repo(void)
{
	char *d = tu_git_repo();

	tu_write(d, "db/migrations/0001_ok.up.sql", "CREATE TABLE ok (x int);\n");
	tu_write(d, "db/migrations/50%,x:y.up.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/0003_a&b<c\"d'.up.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/0004_drop.up.sql", "DROP TABLE ok;\n");
	free(tu_git_commit(d, "Ann", "ann@example.com", 1700000000, "odd"));
	return d;
}

/* Runs python3 on stdin data; returns its exit status. */
static int python(const char *dir, const char *script, const char *input)
{
	const char *argv[] = { "python3", "-c", script, NULL };
	tu_result r;
	int st;

	tu_run(&r, dir, argv, NULL, input);
	st = r.status;
	if (st)
		fprintf(stderr, "python3: %s%s\n", r.out, r.err);
	tu_result_dispose(&r);
	return st;
}

START_TEST(test_junit_is_valid_xml)
{
	char *d = odd_repo();
	tu_result r;

	tu_cairn(&r, d, "validate", "--no-db", "--format", "junit", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_int_eq(python(d,
		"import sys, xml.etree.ElementTree as E\n"
		"root = E.fromstring(sys.stdin.read())\n"
		"cases = root.findall('.//testcase')\n"
		"fails = root.findall('.//failure')\n"
		"assert len(cases) > 4, len(cases)\n"
		"assert any('a&b<c' in (f.text or '') for f in fails), [f.text for f in fails]\n"
		"assert any(f.get('type') == 'lint/destructive' for f in fails)\n"
		"assert int(root.get('failures')) >= 3\n", r.out), 0);
	tu_result_dispose(&r);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_github_annotations_are_escaped)
{
	char *d = odd_repo();
	char *summary, *text;
	tu_result r;
	char env_summary[600];
	const char *env[] = { env_summary, NULL };

	snprintf(env_summary, sizeof(env_summary), "GITHUB_STEP_SUMMARY=%s/summary.md", d);
	/* a migration whose failure message holds %, :, ',' and a newline */
	tu_write(d, "db/migrations/0005_raise.up.sql",
		 "DO $$ BEGIN RAISE EXCEPTION E'50%% off: a,b\\nsecond line'; END $$;\n");
	ck_assert_int_eq(tu_sh(d, "git rm -q --cached 'db/migrations/50%%,x:y.up.sql' "
			      "'db/migrations/0003_a&b<c\"d'\"'\"'.up.sql' db/migrations/0004_drop.up.sql && "
			      "rm 'db/migrations/50%%,x:y.up.sql' 'db/migrations/0003_a&b<c\"d'\"'\"'.up.sql' db/migrations/0004_drop.up.sql"), 0);
	free(tu_git_commit(d, "Ann", "ann@example.com", 1700000100, "raise"));
	tu_cairn_env(&r, d, env, NULL, "validate", "--no-db", "--shadow",
		     "--format", "github", NULL);
	ck_assert_msg(r.status == 1, "%d %s%s", r.status, r.out, r.err);
	/* one line per annotation: the newline became %0A, % became %25 */
	ck_assert_msg(tu_contains(r.out, "::error file=db/migrations/0005_raise.up.sql,line=1,"), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "50%25 off: a,b%0Asecond line"), "%s", r.out);
	for (const char *p = r.out; (p = strstr(p, "::error")); p++) {
		const char *nl = strchr(p, '\n');
		const char *next = strstr(p + 1, "::");

		ck_assert_msg(!next || !nl || next > nl || strncmp(next, "::", 2) == 0,
			      "annotation spans lines");
	}
	tu_result_dispose(&r);
	/* file names are properties: ':' and ',' are escaped there too */
	tu_write(d, "db/migrations/50%,x:y.up.sql", "SELECT 1;\n");
	free(tu_git_commit(d, "Ann", "ann@example.com", 1700000200, "odd name"));
	tu_cairn(&r, d, "validate", "--no-db", "--format", "github", NULL);
	ck_assert_msg(tu_contains(r.out, "::error file=db/migrations/50%25%2Cx%3Ay.up.sql,"), "%s", r.out);
	tu_result_dispose(&r);
	summary = tu_read(d, "summary.md");
	ck_assert_msg(summary && tu_contains(summary, "cairn validate: failed"), "%s", summary ? summary : "(none)");
	free(summary);
	text = NULL;
	(void)text;
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_gitlab_code_quality)
{
	char *d = odd_repo();
	tu_result r1, r2;

	tu_cairn(&r1, d, "validate", "--no-db", "--format", "gitlab", NULL);
	tu_cairn(&r2, d, "validate", "--no-db", "--format", "gitlab", NULL);
	ck_assert_int_eq(r1.status, 1);
	ck_assert_str_eq(r1.out, r2.out);
	ck_assert_int_eq(python(d,
		"import sys, json\n"
		"items = json.loads(sys.stdin.read())\n"
		"assert len(items) >= 3\n"
		"fps = [i['fingerprint'] for i in items]\n"
		"assert len(set(fps)) == len(fps)\n"
		"for i in items:\n"
		"    assert i['severity'] in ('info','minor','major','critical','blocker')\n"
		"    assert i['location']['path'] and i['location']['lines']['begin'] >= 1\n"
		"    assert i['check_name'] and i['description']\n", r1.out), 0);
	tu_result_dispose(&r1);
	tu_result_dispose(&r2);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_shadow_applies_the_chain)
{
	char *d = tu_git_repo();
	char shadow[128] = "";
	const char *at;
	tu_result r;

	tu_write(d, "db/migrations/0001_t.up.sql", "CREATE TABLE t (x int);\n");
	tu_write(d, "db/migrations/0002_i.up.sql", "INSERT INTO t VALUES (1);\n");
	free(tu_git_commit(d, "Ann", "ann@example.com", 1700000000, "ok"));
	tu_cairn(&r, d, "validate", "--no-db", "--shadow", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(tu_contains(r.err, "2 migrations applied cleanly"));
	/* the cluster's directory is named on stderr, and removed after */
	at = strstr(r.err, "/tmp/cairn-shadow-");
	ck_assert_ptr_nonnull(at);
	sscanf(at, "%127[^ \n]", shadow);
	ck_assert_msg(access(shadow, F_OK) != 0, "%s was left behind", shadow);
	tu_result_dispose(&r);

	tu_write(d, "db/migrations/0003_bad.up.sql",
		 "ALTER TABLE t ADD COLUMN y int;\n\nUPDATE t SET z = 1;\n");
	free(tu_git_commit(d, "Bob", "bob@example.com", 1700000100, "bad"));
	tu_cairn(&r, d, "validate", "--no-db", "--shadow", "--format", "json", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "\"code\": \"shadow\"") &&
		      tu_contains(r.out, "\"file\": \"db/migrations/0003_bad.up.sql\"") &&
		      tu_contains(r.out, "\"line\": 3"), "%s", r.out);
	tu_result_dispose(&r);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_shadow_on_a_configured_server)
{
	char *d = tu_git_repo();
	char yaml[1024], *left;
	tu_result r;

	snprintf(yaml, sizeof(yaml), "shadow_database_url: \"%s\"\n", tu_db_url());
	tu_write(d, "cairn.yaml", yaml);
	tu_write(d, "db/migrations/0001_t.up.sql", "CREATE TABLE t (x int);\n");
	tu_write(d, "db/migrations/0002_bad.up.sql", "INSERT INTO t VALUES ('not a number');\n");
	free(tu_git_commit(d, "Ann", "ann@example.com", 1700000000, "t"));
	tu_cairn(&r, d, "validate", "--no-db", "--shadow", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "0002_bad") && tu_contains(r.out, "[shadow]"), "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	/* the scratch database is gone again */
	left = tu_db_value(tu_db_url(), "SELECT count(*) FROM pg_database WHERE datname LIKE 'cairn_shadow_%'");
	ck_assert_str_eq(left, "0");
	free(left);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_release_gate)
{
	char *d = tu_git_repo();
	char *gate, *envbin;
	const char *env[3];
	tu_result r;
	const char *argv1[] = { NULL, "v1", NULL };
	const char *argv2[] = { NULL, "v2", NULL };

	if (asprintf(&gate, "%s/scripts/release-gate", getenv("CAIRN_SRCDIR")) < 0 ||
	    asprintf(&envbin, "CAIRN_BIN=%s", tu_cairn_bin()) < 0)
		abort();
	env[0] = envbin;
	env[1] = NULL;
	argv1[0] = argv2[0] = gate;
	tu_write(d, "db/migrations/0001_t.up.sql", "CREATE TABLE t (x int);\n");
	free(tu_git_commit(d, "Ann", "ann@example.com", 1700000000, "t"));
	ck_assert_int_eq(tu_sh(d, "git tag -a -m v1 v1"), 0);
	tu_write(d, "db/migrations/0002_u.up.sql", "CREATE TABLE u (x int);\n");
	free(tu_git_commit(d, "Bob", "bob@example.com", 1700000100, "u"));
	ck_assert_int_eq(tu_sh(d, "git tag -a -m v2 v2"), 0);

	tu_run(&r, d, argv2, env, NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert(tu_contains(r.out, "| 0002 | u | Bob |"));
	ck_assert(tu_contains(r.out, "v2 is safe to release"));
	tu_result_dispose(&r);

	/* v3 edits a migration v2 released: not safe */
	tu_write(d, "db/migrations/0001_t.up.sql", "CREATE TABLE t (x bigint);\n");
	free(tu_git_commit(d, "Eve", "eve@example.com", 1700000200, "edit"));
	ck_assert_int_eq(tu_sh(d, "git tag -a -m v3 v3"), 0);
	argv2[1] = "v3";
	tu_run(&r, d, argv2, env, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.out, "edited-after-push"));
	ck_assert(tu_contains(r.err, "NOT safe"));
	tu_result_dispose(&r);

	tu_run(&r, d, argv1, env, NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	free(gate);
	free(envbin);
	tu_rmrf(d);
	free(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ci");
	TCase *tc = tcase_create("ci");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_junit_is_valid_xml);
	tcase_add_test(tc, test_github_annotations_are_escaped);
	tcase_add_test(tc, test_gitlab_code_quality);
	tcase_add_test(tc, test_shadow_applies_the_chain);
	tcase_add_test(tc, test_shadow_on_a_configured_server);
	tcase_add_test(tc, test_release_gate);
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
