/*
 * check_escape.c - text from outside never reaches a terminal raw, and the
 * machine formats stay well-formed (issue 9, item 18).
 *
 * A repository whose author name, e-mail and commit message hold ESC [ 2J
 * (clear screen), OSC 52 (write the clipboard) and BEL; a migration whose
 * server error holds them (RAISE EXCEPTION with chr(27)); an exec hook
 * that prints them.  Every human output (status, audit log, plan as text
 * and markdown, the migrate error, the [exec:...] lines) must hold no raw
 * control byte but newline and tab, and must show the escaped form
 * (\x1b), so the check cannot pass by printing nothing.  JUnit output
 * with a file name that is not UTF-8 must parse as XML (python3's
 * xml.etree), and GitHub annotations must hold no control byte either.
 *
 * The same outputs must not drop what they cannot show (item 24): files
 * that validate rejects (a second file with one version, a bad name) are
 * listed as invalid with the reason by `status` (which then exits 1) and
 * by `plan A..B`, in text and JSON.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/util.h"

#define EVIL_NAME "Mal\x1b[2J\x07lory"
#define EVIL_EMAIL "mal\x1b]52;c;aGk=\x07@example.com"
#define EVIL_MSG "add two \x1b[2J\x1b]52;c;aGk=\x07 tables"

/* The first raw control byte of s (not newline or tab), or -1. */
static int raw_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			return *p;
	return -1;
}

/* Both streams of r hold no raw control byte; what names the command. */
static void assert_clean(const tu_result *r, const char *what)
{
	ck_assert_msg(raw_control(r->out) < 0,
		      "%s: raw control byte 0x%02x on stdout", what,
		      raw_control(r->out));
	ck_assert_msg(raw_control(r->err) < 0,
		      "%s: raw control byte 0x%02x on stderr", what,
		      raw_control(r->err));
}

struct fixture {
	char *repo;
	char *url;
	char *db_arg;
};

/*
 * v0: one migration by a plain author; v1: two more by the evil one.
 * config (may be NULL) is committed with v0.
 */
static void fixture_init(struct fixture *f, const char *config)
{
	f->repo = tu_git_repo();
	tu_write(f->repo, "db/migrations/0001_one.up.sql",
		 "CREATE TABLE esc_one (id int);\n");
	if (config)
		tu_write(f->repo, "cairn.yaml", config);
	free(tu_git_commit(f->repo, "Plain Author", "plain@example.com",
			   1714564800, "first"));
	ck_assert_int_eq(tu_sh(f->repo, "git tag v0"), 0);
	tu_write(f->repo, "db/migrations/0002_two.up.sql",
		 "CREATE TABLE esc_two (id int);\n");
	tu_write(f->repo, "db/migrations/0003_three.up.sql",
		 "CREATE TABLE esc_three (id int);\n");
	free(tu_git_commit(f->repo, EVIL_NAME, EVIL_EMAIL, 1714568400,
			   EVIL_MSG));
	ck_assert_int_eq(tu_sh(f->repo, "git tag v1"), 0);
	f->url = tu_db_create("esc");
	ck_assert_ptr_nonnull(f->url);
	if (asprintf(&f->db_arg, "--db=%s", f->url) < 0)
		abort();
}

static void fixture_dispose(struct fixture *f)
{
	tu_rmrf(f->repo);
	free(f->repo);
	free(f->url);
	free(f->db_arg);
}

START_TEST(test_author_and_commit_text_escaped_everywhere)
{
	struct fixture f;
	tu_result r;

	fixture_init(&f, NULL);
	/* the author really is in the commit, raw */
	{
		char *an = tu_sh_out(f.repo, "git log -1 --format=%%an");

		ck_assert_ptr_nonnull(an);
		ck_assert_msg(strchr(an, 0x1b) != NULL, "git kept no ESC: %s", an);
		free(an);
	}

	/* pending: provenance from the commit */
	tu_cairn(&r, f.repo, f.db_arg, "status", NULL);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	assert_clean(&r, "status (pending)");
	ck_assert_msg(tu_contains(r.out, "Mal\\x1b[2J\\x07lory"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, "plan", "v0..v1", NULL);
	ck_assert_msg(r.status == 0, "plan %d: %s", r.status, r.err);
	assert_clean(&r, "plan v0..v1");
	ck_assert_msg(tu_contains(r.out, "Mal\\x1b[2J\\x07lory") &&
		      tu_contains(r.out, "\\x1b]52;c;aGk=\\x07"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, "plan", "v0..v1", "--format", "markdown", NULL);
	ck_assert_msg(r.status == 0, "plan md %d: %s", r.status, r.err);
	assert_clean(&r, "plan v0..v1 --format markdown");
	ck_assert_msg(tu_contains(r.out, "Mal\\x1b[2J\\x07lory"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, f.db_arg, "plan", NULL);
	ck_assert_msg(r.status == 0, "plan %d: %s", r.status, r.err);
	assert_clean(&r, "plan");
	ck_assert_msg(tu_contains(r.out, "Mal\\x1b[2J\\x07lory"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, f.db_arg, "plan", "--format", "markdown", NULL);
	ck_assert_msg(r.status == 0, "plan md %d: %s", r.status, r.err);
	assert_clean(&r, "plan --format markdown");
	ck_assert_msg(tu_contains(r.out, "Mal\\x1b[2J\\x07lory"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, f.db_arg, "-v", "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "migrate %d: %s", r.status, r.err);
	assert_clean(&r, "migrate up -v");
	tu_result_dispose(&r);

	/* applied: the author comes back from the tracking table */
	tu_cairn(&r, f.repo, f.db_arg, "status", NULL);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	assert_clean(&r, "status (applied)");
	ck_assert_msg(tu_contains(r.out, "Mal\\x1b[2J\\x07lory"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, f.db_arg, "audit", "log", NULL);
	ck_assert_msg(r.status == 0, "audit log %d: %s", r.status, r.err);
	assert_clean(&r, "audit log");
	ck_assert_msg(tu_contains(r.out, "\\x1b"), "%s", r.out);
	tu_result_dispose(&r);
	fixture_dispose(&f);
}
END_TEST

START_TEST(test_server_error_text_escaped)
{
	struct fixture f;
	tu_result r;

	fixture_init(&f, NULL);
	tu_write(f.repo, "db/migrations/0004_boom.up.sql",
		 "DO $$ BEGIN RAISE EXCEPTION 'boom %', chr(27) || '[2J' || "
		 "chr(27) || ']52;c;aGk=' || chr(7) USING DETAIL = 'see ' || "
		 "chr(27) || '[31mred'; END $$;\n");
	free(tu_git_commit(f.repo, "Plain Author", "plain@example.com",
			   1714572000, "boom"));
	tu_cairn(&r, f.repo, f.db_arg, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1, "migrate %d: %s", r.status, r.err);
	assert_clean(&r, "migrate error");
	ck_assert_msg(tu_contains(r.err, "boom \\x1b[2J\\x1b]52;c;aGk=\\x07"),
		      "%s", r.err);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, f.db_arg, "status", NULL);
	assert_clean(&r, "status after failure");
	tu_result_dispose(&r);
	tu_cairn(&r, f.repo, f.db_arg, "audit", "log", NULL);
	assert_clean(&r, "audit log after failure");
	tu_result_dispose(&r);
	fixture_dispose(&f);
}
END_TEST

START_TEST(test_exec_hook_output_escaped)
{
	struct fixture f;
	tu_result r;

	fixture_init(&f,
		"hooks:\n"
		"  post_execute:\n"
		"    - name: \"noisy\"\n"
		"      run: [sh, -c, \"printf 'out \\\\033[2J \\\\033]52;c;aGk=\\\\007 end\\\\n'; "
		"printf 'err \\\\033[31m\\\\007\\\\n' >&2\"]\n"
		"  post_complete:\n"
		"    - name: \"fails\"\n"
		"      run: [sh, -c, \"printf 'bad \\\\033[2J\\\\007\\\\n' >&2; exit 3\"]\n"
		"      on_failure: warn\n");
	tu_cairn(&r, f.repo, f.db_arg, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "migrate %d: %s%s", r.status, r.out, r.err);
	assert_clean(&r, "migrate with a noisy exec hook");
	ck_assert_msg(tu_contains(r.err, "[noisy] out \\x1b[2J \\x1b]52;c;aGk=\\x07 end"),
		      "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "err \\x1b[31m\\x07"), "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "bad \\x1b[2J\\x07"), "%s", r.err);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, f.db_arg, "hooks", "run", "post_complete", NULL);
	assert_clean(&r, "hooks run post_complete");
	ck_assert_msg(tu_contains(r.out, "\\x1b") || tu_contains(r.err, "\\x1b"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	fixture_dispose(&f);
}
END_TEST

/* python3 parses file as XML and prints the number of failures. */
static char *parse_junit(const char *dir, const char *file)
{
	return tu_sh_out(dir,
		"python3 -c 'import sys, xml.etree.ElementTree as E; "
		"t = E.parse(sys.argv[1]); "
		"print(len(t.getroot().findall(\".//failure\")))' %s", file);
}

START_TEST(test_junit_and_github_formats_stay_well_formed)
{
	char *d = tu_git_repo();
	tu_result r;
	char *n;
	FILE *out;
	char *path;

	tu_write(d, "db/migrations/0001_ok.up.sql", "CREATE TABLE j1 (id int);\n");
	/* not UTF-8, and a control byte: both bad names */
	tu_write(d, "db/migrations/0002_caf\xe9.up.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/0003_x\x1b[2J\x07.up.sql", "SELECT 1;\n");
	free(tu_git_commit(d, "Plain Author", "plain@example.com", 1714564800,
			   "names"));

	tu_cairn(&r, d, "validate", "--no-db", "--format", "junit", NULL);
	ck_assert_msg(r.status == 1, "validate %d: %s", r.status, r.err);
	ck_assert_msg(raw_control(r.out) < 0, "raw control in junit: %s", r.out);
	ck_assert_msg(!tu_contains(r.out, ".sql0:"), "line 0 printed: %s", r.out);
	if (asprintf(&path, "%s/junit.xml", d) < 0)
		abort();
	out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	fputs(r.out, out);
	fclose(out);
	n = parse_junit(d, "junit.xml");
	ck_assert_msg(n && strtol(n, NULL, 10) >= 2, "junit did not parse or lacks failures (%s):\n%s",
		      n ? n : "(null)", r.out);
	free(n);
	free(path);
	tu_result_dispose(&r);

	tu_cairn(&r, d, "validate", "--no-db", "--format", "github", NULL);
	ck_assert_msg(r.status == 1, "validate %d: %s", r.status, r.err);
	ck_assert_msg(raw_control(r.out) < 0, "raw control in github: %s", r.out);
	ck_assert_msg(tu_contains(r.out, "\\x1b"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, d, "validate", "--no-db", NULL);
	ck_assert_int_eq(r.status, 1);
	assert_clean(&r, "validate text");
	tu_result_dispose(&r);
	tu_rmrf(d);
	free(d);
}
END_TEST


/* v1 has a duplicate version and a badly named file next to good ones. */
START_TEST(test_status_and_plan_list_invalid_files)
{
	struct fixture f;
	tu_result r;

	fixture_init(&f, NULL);
	tu_write(f.repo, "db/migrations/0003_again.up.sql",
		 "CREATE TABLE esc_again (id int);\n");
	tu_write(f.repo, "db/migrations/0004-oops.up.sql", "SELECT 1;\n");
	free(tu_git_commit(f.repo, "Plain Author", "plain@example.com",
			   1714572000, "two bad files"));
	ck_assert_int_eq(tu_sh(f.repo, "git tag v2"), 0);

	tu_cairn(&r, f.repo, f.db_arg, "status", NULL);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "invalid") &&
		      tu_contains(r.out, "0003_again.up.sql") &&
		      tu_contains(r.out, "duplicate-version") &&
		      tu_contains(r.out, "0004-oops.up.sql") &&
		      tu_contains(r.out, "bad-name") &&
		      tu_contains(r.out, "3 invalid"), "%s", r.out);
	/* the good migrations are still listed */
	ck_assert_msg(tu_contains(r.out, "one") && tu_contains(r.out, "two"),
		      "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, f.db_arg, "status", "--format", "json", NULL);
	ck_assert_msg(r.status == 1, "status json %d: %s", r.status, r.err);
	ck_assert_msg(tu_contains(r.out, "\"invalid\": [") &&
		      tu_contains(r.out, "\"code\": \"duplicate-version\"") &&
		      tu_contains(r.out, "\"code\": \"bad-name\"") &&
		      tu_contains(r.out, "\"invalid\": 3"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, "plan", "v1..v2", NULL);
	ck_assert_msg(r.status == 0, "plan %d: %s", r.status, r.err);
	ck_assert_msg(tu_contains(r.out, "invalid") &&
		      tu_contains(r.out, "0003_again.up.sql") &&
		      tu_contains(r.out, "0004-oops.up.sql"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, "plan", "v1..v2", "--format", "markdown", NULL);
	ck_assert_msg(r.status == 0, "plan md %d: %s", r.status, r.err);
	ck_assert_msg(tu_contains(r.out, "invalid `db/migrations/0003_again.up.sql`") &&
		      tu_contains(r.out, "0004-oops.up.sql"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, f.repo, "plan", "v1..v2", "--format", "json", NULL);
	ck_assert_msg(r.status == 0, "plan json %d: %s", r.status, r.err);
	ck_assert_msg(tu_contains(r.out, "\"invalid\": [") &&
		      tu_contains(r.out, "0003_again.up.sql") &&
		      tu_contains(r.out, "0004-oops.up.sql"), "%s", r.out);
	tu_result_dispose(&r);

	/* a clean revision: nothing invalid, status 0 */
	tu_cairn(&r, f.repo, f.db_arg, "--rev", "v1", "status", NULL);
	ck_assert_msg(r.status == 0, "status v1 %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(!tu_contains(r.out, "invalid"), "%s", r.out);
	tu_result_dispose(&r);
	fixture_dispose(&f);
}
END_TEST

/* The one escaper everything above goes through, at its boundaries. */
START_TEST(test_escape_text_boundaries)
{
	static const struct {
		const char *in;
		unsigned flags;
		const char *out;
	} cases[] = {
		{ "plain caf\xc3\xa9 \xf0\x9f\x98\x80", 0, "plain caf\xc3\xa9 \xf0\x9f\x98\x80" },
		{ "a\x1b[2Jb\x07", 0, "a\\x1b[2Jb\\x07" },
		{ "del\x7f", 0, "del\\x7f" },
		/* C1 CSI (U+009B) as UTF-8 */
		{ "c1\xc2\x9b" "31m", 0, "c1\\xc2\\x9b" "31m" },
		{ "bad\xff\xc3(", 0, "bad\\xff\\xc3(" },
		/* overlong ESC, surrogate, cut short */
		{ "\xc0\x9b\xed\xa0\x80\xe2\x82", 0,
		  "\\xc0\\x9b\\xed\\xa0\\x80\\xe2\\x82" },
		{ "two\nlines\tand\r", 0, "two\\x0alines\\x09and\\x0d" },
		{ "two\nlines\tand\r", CAIRN_ESCAPE_MULTILINE,
		  "two\nlines\tand\\x0d" },
		{ "", 0, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e = cairn__escape_text(cases[i].in, strlen(cases[i].in),
					     cases[i].flags);

		ck_assert_ptr_nonnull(e);
		ck_assert_msg(!strcmp(e, cases[i].out), "case %zu: '%s' != '%s'",
			      i, e, cases[i].out);
		free(e);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("escape");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_escape_text_boundaries);
	tcase_add_test(tc, test_author_and_commit_text_escaped_everywhere);
	tcase_add_test(tc, test_server_error_text_escaped);
	tcase_add_test(tc, test_exec_hook_output_escaped);
	tcase_add_test(tc, test_junit_and_github_formats_stay_well_formed);
	tcase_add_test(tc, test_status_and_plan_list_invalid_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	if (!tu_db_url()) {
		fprintf(stderr, "check_escape: CAIRN_TEST_DB_URL is not set "
				"(run through tests/run)\n");
		return EXIT_FAILURE;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
