/*
 * check_buf.c - unit tests for the growable buffer (src/util/buf.c, buf.h):
 * the hard maximum and the sticky failure state.
 *
 * A tiny maximum forces the failure the real code meets with a 100 MB
 * text or an exhausted heap.  The tests check what callers rely on: the
 * first failing append sets the error, every later append (put, puts,
 * putc, printf, grow) is a no-op that fails, clear and truncate keep the
 * mark, cairn_buf_check() reports it once before use, detach refuses a
 * failed buffer, and dispose (or init) makes the buffer usable again.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"

START_TEST(test_appends_within_max)
{
	cairn_buf b;

	cairn_buf_init(&b, 16);
	ck_assert_int_eq(cairn_buf_puts(&b, "abc"), 0);
	ck_assert_int_eq(cairn_buf_putc(&b, 'd'), 0);
	ck_assert_int_eq(cairn_buf_printf(&b, "%d", 42), 0);
	ck_assert_str_eq(b.ptr, "abcd42");
	ck_assert(!cairn_buf_failed(&b));
	ck_assert_int_eq(cairn_buf_check(&b), 0);
	/* exactly max bytes fits */
	ck_assert_int_eq(cairn_buf_puts(&b, "0123456789"), 0);
	ck_assert_uint_eq(b.size, 16);
	ck_assert_int_eq(cairn_buf_check(&b), 0);
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_failure_is_sticky)
{
	cairn_buf b;
	const cairn_error *e;

	cairn_error_clear();
	cairn_buf_init(&b, 8);
	ck_assert_int_eq(cairn_buf_puts(&b, "BEGIN;"), 0);
	/* one byte too many: fails, nothing of it is added */
	ck_assert_int_lt(cairn_buf_puts(&b, "abc"), 0);
	ck_assert(cairn_buf_failed(&b));
	e = cairn_error_last();
	ck_assert_ptr_nonnull(e);
	ck_assert(strstr(e->message, "too large") != NULL);
	ck_assert_str_eq(b.ptr, "BEGIN;");

	/* later appends that would fit are refused too */
	cairn_error_clear();
	ck_assert_int_lt(cairn_buf_putc(&b, 'x'), 0);
	ck_assert_int_lt(cairn_buf_puts(&b, ""), 0);
	ck_assert_int_lt(cairn_buf_put(&b, "y", 1), 0);
	ck_assert_int_lt(cairn_buf_printf(&b, "%s", "z"), 0);
	ck_assert_int_lt(cairn_buf_grow(&b, 0), 0);
	ck_assert_str_eq(b.ptr, "BEGIN;");
	ck_assert_uint_eq(b.size, 6);

	/* clear and truncate keep the mark; the check reports it */
	cairn_buf_clear(&b);
	ck_assert_int_lt(cairn_buf_puts(&b, "COMMIT"), 0);
	ck_assert_str_eq(b.ptr, "");
	cairn_error_clear();
	ck_assert_int_lt(cairn_buf_check(&b), 0);
	e = cairn_error_last();
	ck_assert_ptr_nonnull(e);
	ck_assert(strstr(e->message, "too large") != NULL);
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_NOMEMORY);

	/* dispose makes it a fresh, working buffer */
	cairn_buf_dispose(&b);
	ck_assert(!cairn_buf_failed(&b));
	ck_assert_int_eq(cairn_buf_puts(&b, "ok"), 0);
	ck_assert_int_eq(cairn_buf_check(&b), 0);
	ck_assert_str_eq(b.ptr, "ok");
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_unchecked_appends_then_one_check)
{
	/* the pattern the engine uses: build a batch, check once */
	cairn_buf b;
	int i;

	cairn_buf_init(&b, 32);
	cairn_buf_puts(&b, "BEGIN;\n");
	for (i = 0; i < 10; i++)
		cairn_buf_printf(&b, "INSERT %d;\n", i);
	cairn_buf_puts(&b, "COMMIT");
	ck_assert_int_lt(cairn_buf_check(&b), 0);
	/* the partial text never ends with the COMMIT */
	ck_assert(strstr(b.ptr, "COMMIT") == NULL);
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_printf_failure_is_sticky)
{
	cairn_buf b;

	cairn_buf_init(&b, 4);
	ck_assert_int_lt(cairn_buf_printf(&b, "%s", "12345"), 0);
	ck_assert(cairn_buf_failed(&b));
	ck_assert_int_lt(cairn_buf_putc(&b, 'a'), 0);
	ck_assert_uint_eq(b.size, 0);
	ck_assert_str_eq(b.ptr, "");
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_detach_refuses_failed)
{
	cairn_buf b;
	char *s;

	cairn_buf_init(&b, 4);
	cairn_buf_puts(&b, "abc");
	cairn_buf_puts(&b, "def");
	cairn_error_clear();
	ck_assert_ptr_null(cairn_buf_detach(&b));
	ck_assert_ptr_nonnull(cairn_error_last());
	/* detach reset the buffer */
	ck_assert(!cairn_buf_failed(&b));
	ck_assert_int_eq(cairn_buf_puts(&b, "ab"), 0);
	s = cairn_buf_detach(&b);
	ck_assert_str_eq(s, "ab");
	free(s);
	/* an empty buffer detaches as "" */
	s = cairn_buf_detach(&b);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_grow_overflow)
{
	cairn_buf b = CAIRN_BUF_INIT;

	ck_assert_int_eq(cairn_buf_puts(&b, "x"), 0);
	ck_assert_int_lt(cairn_buf_grow(&b, (size_t)-1), 0);
	ck_assert(cairn_buf_failed(&b));
	ck_assert_int_lt(cairn_buf_puts(&b, "y"), 0);
	ck_assert_str_eq(b.ptr, "x");
	cairn_buf_dispose(&b);
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_appends_within_max);
	tcase_add_test(tc, test_failure_is_sticky);
	tcase_add_test(tc, test_unchecked_appends_then_one_check);
	tcase_add_test(tc, test_printf_failure_is_sticky);
	tcase_add_test(tc, test_detach_refuses_failed);
	tcase_add_test(tc, test_grow_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(buf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
