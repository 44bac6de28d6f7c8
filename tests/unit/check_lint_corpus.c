/*
 * check_lint_corpus.c - the labelled lint corpus (tests/lint-corpus).
 *
 * Files in dangerous/ each start with "-- expect: RULE [RULE...]": a
 * migration that takes a dangerous lock, rewrites or scans an existing
 * table, loses data, breaks the running application or fails, written
 * from PostgreSQL's documentation of lock levels and ALTER TABLE.  Every
 * one must be reported with each expected rule (findings "lint/RULE", or
 * "syntax-error").  Files in safe/ start with "-- expect: none" and must give
 * no finding at all.  Each file is linted alone as the up file of a new
 * migration, through cairn_lint_migration() with the default options.
 */
#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/lint.h"
#include "cairn/migration.h"
#include "testutil.h"

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

static bool has_code(const cairn_findings *f, const char *rule)
{
	char code[128];

	if (!strcmp(rule, "syntax-error"))
		snprintf(code, sizeof(code), "%s", rule);
	else
		snprintf(code, sizeof(code), "lint/%s", rule);
	for (size_t i = 0; i < f->count; i++)
		if (!strcmp(f->items[i].code, code))
			return true;
	return false;
}

/* Lints one file; checks it against its "-- expect:" line. */
static void check_file(const char *path, bool dangerous)
{
	cairn_findings dirf = CAIRN_FINDINGS_INIT, out = CAIRN_FINDINGS_INIT;
	cairn_migration m;
	size_t len;
	char *sql = slurp(path, &len), *expect, *nl, *rule, *next;

	ck_assert_msg(!strncmp(sql, "-- expect: ", 11), "%s: no header", path);
	memset(&m, 0, sizeof(m));
	m.version = "1";
	m.version_text = "0001";
	m.name = "corpus";
	m.subdir = "";
	m.up_path = (char *)path;
	m.content_loaded = m.content_ok = true;
	m.up_sql = sql;
	m.up_len = len;
	ck_assert_int_eq(cairn_directives_parse(&m.up_directives, sql, len,
						path, &dirf),
			 0);
	ck_assert_uint_eq(dirf.count, 0);
	ck_assert_int_eq(cairn_lint_migration(&out, &m, NULL), 0);

	nl = strchr(sql, '\n');
	ck_assert_ptr_nonnull(nl);
	expect = strndup(sql + 11, (size_t)(nl - sql - 11));
	ck_assert_ptr_nonnull(expect);
	if (!dangerous) {
		ck_assert_str_eq(expect, "none");
		ck_assert_msg(out.count == 0, "%s: safe, yet %s: %s", path,
			      out.count ? out.items[0].code : "",
			      out.count ? out.items[0].message : "");
	} else {
		size_t n = 0;

		for (rule = expect; *rule; rule = next) {
			next = strchr(rule, ' ');
			if (next)
				*next++ = '\0';
			else
				next = rule + strlen(rule);
			if (!*rule)
				continue;
			ck_assert_msg(has_code(&out, rule),
				      "%s: expected %s, got %zu findings%s%s",
				      path, rule, out.count,
				      out.count ? ", first " : "",
				      out.count ? out.items[0].code : "");
			n++;
		}
		ck_assert_uint_ge(n, 1);
	}
	free(expect);
	cairn_findings_dispose(&out);
	cairn_findings_dispose(&dirf);
	cairn_directives_dispose(&m.up_directives);
	free(sql);
}

static size_t check_dir(const char *sub, bool dangerous)
{
	const char *src = getenv("CAIRN_SRCDIR");
	char dir[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *e;
	size_t files = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/lint-corpus/%s", src ? src : ".",
		 sub);
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".sql"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		check_file(path, dangerous);
		files++;
	}
	closedir(d);
	return files;
}

START_TEST(test_dangerous_flagged)
{
	ck_assert_uint_ge(check_dir("dangerous", true), 60);
}
END_TEST

START_TEST(test_safe_not_flagged)
{
	ck_assert_uint_ge(check_dir("safe", false), 40);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lint_corpus");
	TCase *tc = tcase_create("corpus");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_dangerous_flagged);
	tcase_add_test(tc, test_safe_not_flagged);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
