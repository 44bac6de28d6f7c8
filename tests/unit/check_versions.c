/*
 * check_versions.c - cairn's version order, validity and normalization
 * (src/util/util.c): whole numbers, dotted numbers as Flyway orders them
 * and per-directory versions, each boundary tried both ways.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/migration.h"
#include "util/error.h"
#include "util/util.h"

static int sign(int c)
{
	return c < 0 ? -1 : c > 0;
}

static const struct {
	const char *a, *b;
	int want;
} order[] = {
	{ "1", "2", -1 },
	{ "9", "10", -1 },
	{ "0042", "42", 0 },
	{ "0", "00", 0 },
	{ "99999999999999999999", "100000000000000000000", -1 },
	{ "1.9", "1.10", -1 },
	{ "1.2", "1.2.1", -1 },
	{ "1", "1.0", 0 },
	{ "1.0.0", "1", 0 },
	{ "1.01", "1.1", 0 },
	{ "1_2", "1.2", 0 },
	{ "1.99", "2", -1 },
	{ "2", "10", -1 },
	{ "0/9", "1/1", -1 },
	{ "2/1", "10/1", -1 },
	{ "10/1", "10/2", -1 },
	{ "0/01", "0/1", 0 },
	{ "01/1", "1/1", -1 },   /* directories as written: a tie broken by bytes */
	{ "a/1", "b/1", -1 },
	{ "a/9", "a/10", -1 },
	{ "9", "0/1", -1 },      /* no directory first */
	{ "a/1", "a/b/1", -1 },
	{ "9/1", "a/1", -1 },
};

START_TEST(test_order)
{
	int c = sign(cairn__version_cmp(order[_i].a, order[_i].b));
	int r = sign(cairn__version_cmp(order[_i].b, order[_i].a));

	ck_assert_msg(c == order[_i].want && r == -order[_i].want,
		      "%s vs %s: %d/%d, want %d", order[_i].a, order[_i].b, c,
		      r, order[_i].want);
	ck_assert_int_eq(sign(cairn_version_compare(order[_i].a, order[_i].b)),
			 order[_i].want);
}
END_TEST

static const struct {
	const char *in, *out; /* out NULL: not a version */
} norm[] = {
	{ "0042", "42" },
	{ "0", "0" },
	{ "000", "0" },
	{ "1.0", "1" },
	{ "1.0.0", "1" },
	{ "0.0", "0" },
	{ "0.1", "0.1" },
	{ "1.02.0.3", "1.2.0.3" },
	{ "1_2_0", "1.2" },
	{ "0/01", "0/1" },
	{ "billing/007", "billing/7" },
	{ "a/b/1.0", "a/b/1" },
	{ "12345678901234567890", "12345678901234567890" },
	{ "123456789012345678901", NULL },
	{ "", NULL },
	{ "1.", NULL },
	{ ".1", NULL },
	{ "1..2", NULL },
	{ "1.x", NULL },
	{ "-1", NULL },
	{ "/1", NULL },
	{ "a/", NULL },
	{ "../1", NULL },
	{ ".hidden/1", NULL },
	{ "a b/1", NULL },
	{ "a_b/1", NULL },
	{ "a//1", NULL },
};

START_TEST(test_normalize)
{
	const char *in = norm[_i].in;
	char *got = cairn__version_normalize(in, strlen(in));

	ck_assert_int_eq(cairn__version_valid(in), norm[_i].out != NULL);
	ck_assert_int_eq(cairn_version_is_valid(in), norm[_i].out != NULL);
	if (!norm[_i].out) {
		ck_assert_msg(!got, "%s -> %s", in, got);
		ck_assert_ptr_nonnull(cairn_error_last());
		cairn_error_clear();
		return;
	}
	ck_assert_msg(got && !strcmp(got, norm[_i].out), "%s -> %s, want %s",
		      in, got ? got : "(null)", norm[_i].out);
	/* normalizing is idempotent and keeps the order */
	{
		char *again = cairn__version_normalize(got, strlen(got));

		ck_assert_str_eq(again, got);
		ck_assert_int_eq(cairn__version_cmp(in, got), 0);
		free(again);
	}
	free(got);
}
END_TEST

START_TEST(test_versions_key)
{
	bool per = true;

	ck_assert(cairn_versions_parse("global", &per));
	ck_assert(!per);
	ck_assert(cairn_versions_parse("per-directory", &per));
	ck_assert(per);
	ck_assert(!cairn_versions_parse("per_directory", &per));
	ck_assert(!cairn_versions_parse(NULL, &per));
	ck_assert_str_eq(cairn_layout_name((cairn_layout)(CAIRN_LAYOUT_FLYWAY |
							  CAIRN_LAYOUT_PER_DIRECTORY)),
			 "flyway");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("versions");
	TCase *tc = tcase_create("versions");

	tcase_add_loop_test(tc, test_order, 0,
			    (int)(sizeof(order) / sizeof(order[0])));
	tcase_add_loop_test(tc, test_normalize, 0,
			    (int)(sizeof(norm) / sizeof(norm[0])));
	tcase_add_test(tc, test_versions_key);
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
