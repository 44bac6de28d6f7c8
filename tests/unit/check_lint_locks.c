/*
 * check_lint_locks.c - the lock analysis shares the lint's parse
 * (issue 12 item 4): cairn_lint_migration_locks() gives the findings
 * and each statement's lock, tables and rewrite of the same up file,
 * cairn_lock_plan_sql() gives the same plan, and a statement too deeply
 * nested for the JSON reader is "not analysed" instead of making the
 * whole text unanalysable.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/lint.h"
#include "cairn/lockplan.h"

#define SQL \
	"ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();\n" \
	"CREATE INDEX orders_total ON orders (total);\n" \
	"ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id)\n" \
	"  REFERENCES customers (id) NOT VALID;\n"

static cairn_migration fake(const char *sql)
{
	cairn_migration m;

	memset(&m, 0, sizeof(m));
	m.version = m.version_text = (char *)"2";
	m.name = (char *)"risky";
	m.subdir = (char *)"";
	m.up_path = (char *)"db/migrations/0002_risky.up.sql";
	m.content_loaded = m.content_ok = true;
	m.up_sql = (char *)sql;
	m.up_len = strlen(sql);
	return m;
}

static const cairn_lock_target *target(const cairn_lock_statement *st,
				       const char *name)
{
	for (size_t i = 0; i < st->target_count; i++)
		if (!strcmp(st->targets[i].name, name))
			return &st->targets[i];
	ck_abort_msg("no target %s on line %u", name, st->line);
	return NULL;
}

static bool has_code(const cairn_findings *f, const char *code, unsigned line)
{
	for (size_t i = 0; i < f->count; i++)
		if (!strcmp(f->items[i].code, code) && f->items[i].line == line)
			return true;
	return false;
}

START_TEST(test_lint_gives_locks_from_the_same_parse)
{
	cairn_migration m = fake(SQL);
	cairn_findings f = CAIRN_FINDINGS_INIT;
	cairn_lock_plan p = CAIRN_LOCK_PLAN_INIT, q = CAIRN_LOCK_PLAN_INIT;
	const cairn_lock_target *t;

	ck_assert_int_eq(cairn_lint_migration_locks(&f, &m, NULL, &p), 0);
	ck_assert_msg(has_code(&f, "lint/index-not-concurrent", 2),
		      "no index finding on line 2");
	ck_assert_ptr_null(p.error);
	ck_assert_uint_eq(p.count, 3);
	ck_assert_uint_eq(p.items[0].line, 1);
	t = target(&p.items[0], "orders");
	ck_assert_int_eq(t->mode, CAIRN_LOCK_ACCESS_EXCLUSIVE);
	ck_assert_int_eq(t->rewrite, CAIRN_LOCK_REWRITE_YES);
	ck_assert_uint_eq(p.items[1].line, 2);
	t = target(&p.items[1], "orders");
	ck_assert_int_eq(t->mode, CAIRN_LOCK_SHARE);
	ck_assert_int_eq(t->rewrite, CAIRN_LOCK_REWRITE_NO);
	ck_assert_uint_eq(p.items[2].line, 3);
	ck_assert_int_eq(target(&p.items[2], "orders")->mode,
			 CAIRN_LOCK_SHARE_ROW_EXCLUSIVE);
	ck_assert_int_eq(target(&p.items[2], "customers")->mode,
			 CAIRN_LOCK_SHARE_ROW_EXCLUSIVE);

	/* the standalone analysis agrees */
	ck_assert_int_eq(cairn_lock_plan_sql(&q, SQL, strlen(SQL)), 0);
	ck_assert_uint_eq(q.count, p.count);
	for (size_t i = 0; i < q.count; i++) {
		ck_assert_uint_eq(q.items[i].line, p.items[i].line);
		ck_assert_uint_eq(q.items[i].offset, p.items[i].offset);
		ck_assert_str_eq(q.items[i].kind, p.items[i].kind);
		ck_assert_uint_eq(q.items[i].target_count,
				  p.items[i].target_count);
	}
	cairn_lock_plan_dispose(&p);
	cairn_lock_plan_dispose(&q);
	cairn_findings_dispose(&f);
}
END_TEST

START_TEST(test_syntax_error_reaches_the_plan)
{
	cairn_migration m = fake("SELECT 1;\n  CREAT TABLE t (a int);\n");
	cairn_findings f = CAIRN_FINDINGS_INIT;
	cairn_lock_plan p = CAIRN_LOCK_PLAN_INIT;

	ck_assert_int_eq(cairn_lint_migration_locks(&f, &m, NULL, &p), 0);
	ck_assert_ptr_nonnull(p.error);
	ck_assert_uint_eq(p.error_line, 2);
	ck_assert_uint_eq(p.error_column, 3);
	ck_assert_uint_eq(p.count, 0);
	ck_assert_msg(has_code(&f, "lint/syntax-error", 2) ||
		      has_code(&f, "syntax-error", 2), "no syntax finding");
	cairn_lock_plan_dispose(&p);
	cairn_findings_dispose(&f);
}
END_TEST

/* SELECT 1 || 1 || ... : more levels than jansson reads, and then t */
static char *deep_sql(void)
{
	size_t n = 3000, cap = n * 5 + 128, used;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	used = (size_t)snprintf(s, cap, "SELECT 1");
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(s + used, cap - used, " || 1");
	snprintf(s + used, cap - used, ";\nALTER TABLE t ADD COLUMN b int;\n");
	return s;
}

START_TEST(test_deep_statement_is_not_analysed_the_rest_is)
{
	char *sql = deep_sql();
	cairn_lock_plan p = CAIRN_LOCK_PLAN_INIT;

	ck_assert_int_eq(cairn_lock_plan_sql(&p, sql, strlen(sql)), 0);
	ck_assert_msg(p.error == NULL, "error: %s", p.error);
	ck_assert_uint_eq(p.count, 2);
	/* the JSON reader refused it: it went the statement-by-statement way */
	ck_assert(!p.items[0].analysed);
	ck_assert_uint_eq(p.items[1].line, 2);
	ck_assert(p.items[1].analysed);
	ck_assert_int_eq(target(&p.items[1], "t")->mode,
			 CAIRN_LOCK_ACCESS_EXCLUSIVE);
	cairn_lock_plan_dispose(&p);
	free(sql);
}
END_TEST

START_TEST(test_options_dup_owns_its_lists)
{
	char d0[] = "rename-column", e0[] = "prefer-bigint";
	char k0[] = "42", v0[] = "destructive", k1[] = "index-not-concurrent",
	     v1[] = "error";
	const char *disable[] = { d0 }, *enable[] = { e0 };
	cairn_kv allow[] = { { k0, v0 } }, sev[] = { { k1, v1 } };
	cairn_lint_options lo = CAIRN_LINT_OPTIONS_INIT, *copy = NULL;
	cairn_migration m = fake("CREATE INDEX i ON orders (total);\n");
	cairn_findings f = CAIRN_FINDINGS_INIT;

	lo.disable = disable;
	lo.disable_count = 1;
	lo.enable = enable;
	lo.enable_count = 1;
	lo.allow = allow;
	lo.allow_count = 1;
	lo.severity = sev;
	lo.severity_count = 1;
	ck_assert_int_eq(cairn_lint_options_dup(&copy, &lo), 0);
	/* the originals change: the copy does not */
	memset(d0, 'x', sizeof(d0) - 1);
	memset(k1, 'x', sizeof(k1) - 1);
	ck_assert_str_eq(copy->disable[0], "rename-column");
	ck_assert_str_eq(copy->enable[0], "prefer-bigint");
	ck_assert_str_eq(copy->allow[0].key, "42");
	ck_assert_str_eq(copy->allow[0].value, "destructive");
	ck_assert_str_eq(copy->severity[0].key, "index-not-concurrent");
	ck_assert_uint_eq(copy->earlier_count, 0);
	/* and it works: the override makes the index an error */
	ck_assert_int_eq(cairn_lint_migration(&f, &m, copy), 0);
	ck_assert_uint_eq(cairn_findings_count(&f, CAIRN_SEVERITY_ERROR), 1);
	cairn_findings_dispose(&f);
	cairn_lint_options_free(copy);

	/* NULL: the defaults */
	ck_assert_int_eq(cairn_lint_options_dup(&copy, NULL), 0);
	ck_assert_uint_eq(copy->version, CAIRN_LINT_OPTIONS_VERSION);
	ck_assert_uint_eq(copy->disable_count, 0);
	cairn_lint_options_free(copy);
	cairn_lint_options_free(NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lint_locks");
	TCase *tc = tcase_create("lint and locks");

	tcase_add_test(tc, test_lint_gives_locks_from_the_same_parse);
	tcase_add_test(tc, test_syntax_error_reaches_the_plan);
	tcase_add_test(tc, test_deep_statement_is_not_analysed_the_rest_is);
	tcase_add_test(tc, test_options_dup_owns_its_lists);
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
