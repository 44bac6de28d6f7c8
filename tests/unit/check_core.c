/*
 * check_core.c - the small pieces everything stands on: the error object
 * (set, detail/hint, save/restore across clean-up), growable buffers and
 * their hard maximum, UTF-8 validation, duration parsing, numeric version
 * comparison, SHA-256/HMAC, edit distance, findings lists and the event
 * names.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "cairn/event.h"
#include "cairn/finding.h"
#include "cairn/validate.h"
#include "util/error.h"
#include "util/util.h"

START_TEST(test_error_object)
{
	const cairn_error *e;
	cairn_error_saved saved;

	cairn_error_clear();
	ck_assert_ptr_null(cairn_error_last());
	ck_assert_int_eq(cairn_error_set(CAIRN_ERRCLASS_GIT, "cannot read '%s'", "x"),
			 CAIRN_ERROR);
	cairn_error_set_detail("the detail %d", 7);
	cairn_error_set_hint("do this");
	cairn_error_set_sqlstate("42P01");
	e = cairn_error_last();
	ck_assert_str_eq(e->message, "cannot read 'x'");
	ck_assert_str_eq(e->detail, "the detail 7");
	ck_assert_str_eq(e->hint, "do this");
	ck_assert_str_eq(e->sqlstate, "42P01");
	ck_assert_str_eq(cairn_error_class_name(e->klass), "git");

	/* an error survives clean-up code that sets its own */
	cairn_error__save(&saved);
	cairn_error_set(CAIRN_ERRCLASS_SQL, "rollback failed");
	cairn_error__restore(&saved);
	e = cairn_error_last();
	ck_assert_str_eq(e->message, "cannot read 'x'");
	ck_assert_str_eq(e->hint, "do this");
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_GIT);

	/* a new error replaces every part */
	cairn_error_set(CAIRN_ERRCLASS_DB, "second");
	ck_assert_ptr_null(cairn_error_last()->detail);
	ck_assert_ptr_null(cairn_error_last()->sqlstate);
	cairn_error_clear();
	/* detail without an error is ignored */
	cairn_error_set_detail("lost");
	ck_assert_ptr_null(cairn_error_last());
}
END_TEST

START_TEST(test_buf)
{
	cairn_buf b = CAIRN_BUF_INIT;
	char *s;

	ck_assert_ptr_nonnull(b.ptr);
	ck_assert_str_eq(b.ptr, "");
	ck_assert_int_eq(cairn_buf_puts(&b, "abc"), 0);
	ck_assert_int_eq(cairn_buf_printf(&b, "-%d-", 42), 0);
	ck_assert_int_eq(cairn_buf_putc(&b, 'z'), 0);
	ck_assert_str_eq(b.ptr, "abc-42-z");
	cairn_buf_truncate(&b, 3);
	ck_assert_str_eq(b.ptr, "abc");
	s = cairn_buf_detach(&b);
	ck_assert_str_eq(s, "abc");
	ck_assert_str_eq(b.ptr, "");
	free(s);
	/* detaching an empty buffer still gives a string to free */
	s = cairn_buf_detach(&b);
	ck_assert_str_eq(s, "");
	free(s);

	/* the hard maximum is a clear error, not an allocation */
	cairn_buf_init(&b, 16);
	ck_assert_int_eq(cairn_buf_puts(&b, "0123456789"), 0);
	cairn_error_clear();
	ck_assert_int_eq(cairn_buf_puts(&b, "0123456789"), CAIRN_ERROR);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_NOMEMORY);
	ck_assert_ptr_nonnull(strstr(cairn_error_last()->message, "too large"));
	ck_assert_str_eq(b.ptr, "0123456789");
	cairn_buf_dispose(&b);
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_utf8)
{
	size_t bad = 0;

	ck_assert(cairn__utf8_valid("plain", 5, &bad));
	ck_assert(cairn__utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, &bad));
	ck_assert(!cairn__utf8_valid("caf\xe9", 4, &bad));
	ck_assert_uint_eq(bad, 3);
	ck_assert(!cairn__utf8_valid("\xc0\xaf", 2, &bad));          /* overlong */
	ck_assert(!cairn__utf8_valid("\xed\xa0\x80", 3, &bad));      /* surrogate */
	ck_assert(!cairn__utf8_valid("ab\xe2\x82", 4, &bad));        /* truncated */
	ck_assert_uint_eq(bad, 2);
	ck_assert(!cairn__utf8_valid("\xf4\x90\x80\x80", 4, &bad));  /* > U+10FFFF */
}
END_TEST

START_TEST(test_durations)
{
	uint64_t ms = 0;

	ck_assert_int_eq(cairn__parse_duration_ms("30s", &ms), 0);
	ck_assert_uint_eq(ms, 30000);
	ck_assert_int_eq(cairn__parse_duration_ms("500ms", &ms), 0);
	ck_assert_uint_eq(ms, 500);
	ck_assert_int_eq(cairn__parse_duration_ms("5min", &ms), 0);
	ck_assert_uint_eq(ms, 300000);
	ck_assert_int_eq(cairn__parse_duration_ms("2h", &ms), 0);
	ck_assert_uint_eq(ms, 7200000);
	ck_assert_int_eq(cairn__parse_duration_ms("1500", &ms), 0);
	ck_assert_uint_eq(ms, 1500);
	ck_assert_int_eq(cairn__parse_duration_ms("10 s", &ms), 0);
	ck_assert_int_eq(cairn__parse_duration_ms("", &ms), -1);
	ck_assert_int_eq(cairn__parse_duration_ms("s", &ms), -1);
	ck_assert_int_eq(cairn__parse_duration_ms("5 weeks", &ms), -1);
	ck_assert_int_eq(cairn__parse_duration_ms("-1s", &ms), -1);
	ck_assert_int_eq(cairn__parse_duration_ms("99999999999999999999999s", &ms), -1);
}
END_TEST

START_TEST(test_versions)
{
	char *n;

	ck_assert_int_eq(cairn_version_compare("0042", "42"), 0);
	ck_assert_int_lt(cairn_version_compare("9", "10"), 0);
	ck_assert_int_gt(cairn_version_compare("00100", "99"), 0);
	ck_assert_int_eq(cairn_version_compare("0", "000"), 0);
	ck_assert_int_lt(cairn_version_compare("19999999999999999999", "20000000000000000000"), 0);
	n = cairn__version_normalize("000", 3);
	ck_assert_str_eq(n, "0");
	free(n);
	n = cairn__version_normalize("0042", 4);
	ck_assert_str_eq(n, "42");
	free(n);
}
END_TEST

START_TEST(test_hashes)
{
	char hex[65];

	/* FIPS 180-2 test vector */
	ck_assert_int_eq(cairn_sha256_hex(hex, "abc", 3), 0);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* RFC 4231 test case 2 */
	ck_assert_int_eq(cairn__hmac_sha256_hex(hex, "Jefe", 4,
		"what do ya want for nothing?", 28), 0);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	ck_assert_uint_eq(cairn__edit_distance("on_failur", "on_failure"), 1);
	ck_assert_uint_eq(cairn__edit_distance("kitten", "sitting"), 3);
}
END_TEST

START_TEST(test_findings)
{
	cairn_findings a = CAIRN_FINDINGS_INIT, b = CAIRN_FINDINGS_INIT;

	ck_assert_int_eq(cairn_findings_add(&a, "lint/destructive", CAIRN_SEVERITY_ERROR,
		"db/b.sql", 3, "2", "hint", NULL, "drop %s", "t"), 0);
	ck_assert_int_eq(cairn_findings_add(&a, "bad-name", CAIRN_SEVERITY_ERROR,
		"db/a.sql", 0, NULL, NULL, NULL, "bad"), 0);
	ck_assert_int_eq(cairn_findings_add(&a, "index-not-concurrent", CAIRN_SEVERITY_WARNING,
		"db/b.sql", 1, "2", NULL, "abc", "index"), 0);
	cairn_findings_sort(&a);
	ck_assert_str_eq(a.items[0].file, "db/a.sql");
	ck_assert_uint_eq(a.items[1].line, 1);
	ck_assert_str_eq(a.items[2].message, "drop t");
	ck_assert_uint_eq(cairn_findings_count(&a, CAIRN_SEVERITY_ERROR), 2);
	ck_assert_uint_eq(cairn_findings_count(&a, CAIRN_SEVERITY_WARNING), 1);
	ck_assert_int_eq(cairn_findings_append(&b, &a), 0);
	ck_assert_uint_eq(b.count, 3);
	ck_assert_str_eq(b.items[1].commit, "abc");
	cairn_findings_dispose(&a);
	cairn_findings_dispose(&b);
	cairn_findings_dispose(&b);
}
END_TEST

START_TEST(test_events)
{
	cairn_event ev;

	for (unsigned i = 0; i < CAIRN_EVENT__COUNT; i++) {
		ck_assert_int_eq(cairn_event_from_name(&ev, cairn_event_name((cairn_event)i)), 0);
		ck_assert_int_eq(ev, (cairn_event)i);
	}
	ck_assert_int_eq(cairn_event_from_name(&ev, "post_exec"), CAIRN_ENOTFOUND);
	ck_assert_ptr_null(cairn_event_name(CAIRN_EVENT__COUNT));
	ck_assert(cairn_event_may_veto(CAIRN_EVENT_PRE_EXECUTE));
	ck_assert(!cairn_event_may_veto(CAIRN_EVENT_POST_COMPLETE));
	ck_assert(!cairn_event_may_veto(CAIRN_EVENT_ON_ERROR));
	ck_assert(cairn_event_is_per_migration(CAIRN_EVENT_POST_ROLLBACK));
	ck_assert(!cairn_event_is_per_migration(CAIRN_EVENT_PRE_VALIDATE));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_error_object);
	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_versions);
	tcase_add_test(tc, test_hashes);
	tcase_add_test(tc, test_findings);
	tcase_add_test(tc, test_events);
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
