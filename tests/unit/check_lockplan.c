/*
 * check_lockplan.c - unit tests of the lock analysis (include/cairn/
 * lockplan.h, src/lockplan*.c): no database, only the parser.
 *
 * Each test classifies a literal SQL text and checks, for a statement
 * and a relation, the lock mode, whether it rewrites or scans, and the
 * flags (index, created, no transaction, analysed), against PostgreSQL
 * 15's documented lock levels: ALTER TABLE subcommand by subcommand
 * (ADD COLUMN with a constant, a stable and a volatile default, serial,
 * identity and stored generated columns; ALTER TYPE; SET NOT NULL;
 * CHECK and FOREIGN KEY with and without NOT VALID; VALIDATE; UNIQUE
 * and PRIMARY KEY with and without USING INDEX; storage parameters;
 * triggers; partitions; the strongest mode of several subcommands),
 * CREATE/DROP/REINDEX INDEX with and without CONCURRENTLY, DROP TABLE,
 * TRUNCATE, VACUUM (FULL), CLUSTER, LOCK TABLE modes, renames, DML,
 * CREATE TRIGGER, CREATE TABLE ... PARTITION OF and REFERENCES, SELECT;
 * statements whose locks the text cannot tell (DO, CALL, functions,
 * CASCADE, whole schemas); statement lines past comments; a relation created earlier in
 * the text; syntax errors with their line and column; names with case
 * and quotes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/lockplan.h"

static cairn_lock_plan plan;

static void setup(void)
{
	cairn_lock_plan init = CAIRN_LOCK_PLAN_INIT;

	plan = init;
}

static void teardown(void)
{
	cairn_lock_plan_dispose(&plan);
}

static void analyse(const char *sql)
{
	ck_assert_int_eq(cairn_lock_plan_sql(&plan, sql, strlen(sql)), 0);
	ck_assert_msg(!plan.error, "%s: %s", sql, plan.error);
}

/* Statement i's target called name (must exist). */
static const cairn_lock_target *target(size_t i, const char *name)
{
	ck_assert_msg(i < plan.count, "statement %zu of %zu", i, plan.count);
	for (size_t j = 0; j < plan.items[i].target_count; j++)
		if (!strcmp(plan.items[i].targets[j].name, name))
			return &plan.items[i].targets[j];
	ck_abort_msg("statement %zu (%s) has no target %s", i,
		     plan.items[i].kind, name);
	return NULL;
}

/* One statement on one table: its mode, rewrite and scan. */
static void expect(const char *sql, const char *name, cairn_lock_mode mode,
		   cairn_lock_rewrite rewrite, bool scans)
{
	const cairn_lock_target *t;

	analyse(sql);
	ck_assert_uint_eq(plan.count, 1);
	t = target(0, name);
	ck_assert_msg(t->mode == mode, "%s: mode %s, expected %s", sql,
		      cairn_lock_mode_name(t->mode), cairn_lock_mode_name(mode));
	ck_assert_msg(t->rewrite == rewrite, "%s: rewrite %s, expected %s", sql,
		      cairn_lock_rewrite_name(t->rewrite), cairn_lock_rewrite_name(rewrite));
	ck_assert_msg(t->scans == scans, "%s: scans %d", sql, t->scans);
	cairn_lock_plan_dispose(&plan);
}

#define AE CAIRN_LOCK_ACCESS_EXCLUSIVE
#define SUE CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE
#define SRE CAIRN_LOCK_SHARE_ROW_EXCLUSIVE
#define NO CAIRN_LOCK_REWRITE_NO
#define YES CAIRN_LOCK_REWRITE_YES
#define MAYBE CAIRN_LOCK_REWRITE_MAYBE

START_TEST(test_add_column)
{
	expect("ALTER TABLE t ADD COLUMN c int", "t", AE, NO, false);
	expect("ALTER TABLE t ADD COLUMN c int DEFAULT 0", "t", AE, NO, false);
	expect("ALTER TABLE t ADD COLUMN c text NOT NULL DEFAULT 'x'::text",
	       "t", AE, NO, false);
	expect("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()", "t", AE,
	       NO, false);
	expect("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT CURRENT_TIMESTAMP",
	       "t", AE, NO, false);
	expect("ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid()", "t",
	       AE, YES, false);
	expect("ALTER TABLE t ADD COLUMN c float8 DEFAULT random() * 10", "t",
	       AE, YES, false);
	expect("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp()",
	       "t", AE, YES, false);
	expect("ALTER TABLE t ADD COLUMN c int DEFAULT my_func()", "t", AE,
	       MAYBE, false);
	expect("ALTER TABLE t ADD COLUMN id bigserial", "t", AE, YES, false);
	expect("ALTER TABLE t ADD COLUMN id int GENERATED ALWAYS AS IDENTITY",
	       "t", AE, YES, false);
	expect("ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED",
	       "t", AE, YES, false);
	expect("ALTER TABLE t ADD COLUMN c int CHECK (c > 0)", "t", AE, NO, true);
}
END_TEST

START_TEST(test_alter_column)
{
	expect("ALTER TABLE t ALTER COLUMN c TYPE bigint", "t", AE, YES, false);
	expect("ALTER TABLE t ALTER COLUMN c TYPE int USING c::int", "t", AE,
	       YES, false);
	/* varchar widening or to text may be binary-coercible */
	expect("ALTER TABLE t ALTER COLUMN c TYPE text", "t", AE, MAYBE, false);
	expect("ALTER TABLE t ALTER COLUMN c TYPE varchar(200)", "t", AE, MAYBE,
	       false);
	expect("ALTER TABLE t ALTER COLUMN c SET NOT NULL", "t", AE, NO, true);
	expect("ALTER TABLE t ALTER COLUMN c DROP NOT NULL", "t", AE, NO, false);
	expect("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1", "t", AE, NO, false);
	expect("ALTER TABLE t ALTER COLUMN c SET STATISTICS 500", "t", SUE, NO,
	       false);
	expect("ALTER TABLE t DROP COLUMN c", "t", AE, NO, false);
	expect("ALTER TABLE t SET UNLOGGED", "t", AE, YES, false);
	expect("ALTER TABLE t SET LOGGED", "t", AE, YES, false);
	expect("ALTER TABLE t SET TABLESPACE fast", "t", AE, YES, false);
	expect("ALTER TABLE t SET (fillfactor = 70, autovacuum_enabled = off)",
	       "t", SUE, NO, false);
	expect("ALTER TABLE t SET (user_catalog_table = true)", "t", AE, NO,
	       false);
	expect("ALTER TABLE t OWNER TO bob", "t", AE, NO, false);
}
END_TEST

START_TEST(test_constraints)
{
	expect("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", "t", AE, NO, true);
	expect("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", "t",
	       AE, NO, false);
	expect("ALTER TABLE t VALIDATE CONSTRAINT c", "t", SUE, NO, true);
	expect("ALTER TABLE t ADD UNIQUE (a)", "t", AE, NO, true);
	expect("ALTER TABLE t ADD PRIMARY KEY (id)", "t", AE, NO, true);
	expect("ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY USING INDEX i", "t",
	       AE, NO, false);
	expect("ALTER TABLE t DROP CONSTRAINT c", "t", AE, NO, false);

	/* a foreign key: SHARE ROW EXCLUSIVE on both tables */
	analyse("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (cid) "
		"REFERENCES customers (id)");
	ck_assert_uint_eq(plan.items[0].target_count, 2);
	ck_assert_str_eq(plan.items[0].targets[0].name, "orders");
	ck_assert_int_eq(target(0, "orders")->mode, SRE);
	ck_assert(target(0, "orders")->scans);
	ck_assert_int_eq(target(0, "customers")->mode, SRE);
	cairn_lock_plan_dispose(&plan);
	analyse("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (cid) "
		"REFERENCES customers (id) NOT VALID");
	ck_assert_int_eq(target(0, "orders")->mode, SRE);
	ck_assert(!target(0, "orders")->scans);
	ck_assert_int_eq(target(0, "customers")->mode, SRE);
}
END_TEST

START_TEST(test_strongest_subcommand_wins)
{
	const cairn_lock_target *t;

	analyse("ALTER TABLE t ALTER COLUMN a SET STATISTICS 100, "
		"ADD COLUMN b uuid DEFAULT gen_random_uuid(), "
		"ALTER COLUMN c SET NOT NULL");
	t = target(0, "t");
	ck_assert_int_eq(t->mode, AE);
	ck_assert_int_eq(t->rewrite, YES);
	ck_assert(t->scans);
	ck_assert_ptr_nonnull(strstr(t->why, "ADD COLUMN b (volatile default)"));
	ck_assert_ptr_nonnull(strstr(t->why, "SET NOT NULL"));
	ck_assert_uint_eq(plan.items[0].target_count, 1);
}
END_TEST

START_TEST(test_indexes)
{
	expect("CREATE INDEX i ON t (a)", "t", CAIRN_LOCK_SHARE, NO, true);
	expect("CREATE UNIQUE INDEX i ON t (a)", "t", CAIRN_LOCK_SHARE, NO, true);
	analyse("CREATE INDEX CONCURRENTLY i ON t (a)");
	ck_assert_int_eq(target(0, "t")->mode, SUE);
	ck_assert(plan.items[0].no_transaction);
	ck_assert_str_eq(plan.items[0].kind, "CREATE INDEX CONCURRENTLY");
	cairn_lock_plan_dispose(&plan);

	analyse("DROP INDEX i");
	ck_assert_int_eq(target(0, "i")->mode, AE);
	ck_assert(target(0, "i")->is_index);
	ck_assert(!plan.items[0].no_transaction);
	cairn_lock_plan_dispose(&plan);
	analyse("DROP INDEX CONCURRENTLY s.i");
	ck_assert_int_eq(target(0, "i")->mode, SUE);
	ck_assert_str_eq(target(0, "i")->schema, "s");
	ck_assert(plan.items[0].no_transaction);
	cairn_lock_plan_dispose(&plan);

	analyse("REINDEX INDEX i");
	ck_assert_int_eq(target(0, "i")->mode, AE);
	cairn_lock_plan_dispose(&plan);
	expect("REINDEX TABLE t", "t", CAIRN_LOCK_SHARE, NO, true);
	expect("REINDEX TABLE CONCURRENTLY t", "t", SUE, NO, true);
	expect("ALTER INDEX i RENAME TO j", "i", SUE, NO, false);
}
END_TEST

START_TEST(test_whole_table_commands)
{
	expect("DROP TABLE t", "t", AE, NO, false);
	expect("TRUNCATE t", "t", AE, NO, false);
	expect("VACUUM FULL t", "t", AE, YES, true);
	expect("VACUUM (FULL) t", "t", AE, YES, true);
	expect("VACUUM t", "t", SUE, NO, true);
	expect("ANALYZE t", "t", SUE, NO, true);
	expect("CLUSTER t USING i", "t", AE, YES, true);
	expect("LOCK TABLE t", "t", AE, NO, false);
	expect("LOCK TABLE t IN SHARE MODE", "t", CAIRN_LOCK_SHARE, NO, false);
	expect("LOCK TABLE t IN ROW EXCLUSIVE MODE", "t",
	       CAIRN_LOCK_ROW_EXCLUSIVE, NO, false);
	expect("REFRESH MATERIALIZED VIEW m", "m", AE, YES, true);
	expect("REFRESH MATERIALIZED VIEW CONCURRENTLY m", "m",
	       CAIRN_LOCK_EXCLUSIVE, NO, true);
	expect("COMMENT ON TABLE t IS 'x'", "t", SUE, NO, false);
	expect("COMMENT ON COLUMN s.t.c IS 'x'", "t", SUE, NO, false);
	analyse("VACUUM t");
	ck_assert(plan.items[0].no_transaction);
}
END_TEST

START_TEST(test_renames_triggers_dml)
{
	expect("ALTER TABLE t RENAME TO u", "t", AE, NO, false);
	expect("ALTER TABLE t RENAME COLUMN a TO b", "t", AE, NO, false);
	expect("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW "
	       "EXECUTE FUNCTION f()", "t", SRE, NO, false);
	expect("DROP TRIGGER tr ON t", "t", AE, NO, false);
	expect("ALTER TABLE t DISABLE TRIGGER tr", "t", SRE, NO, false);
	expect("INSERT INTO t VALUES (1)", "t", CAIRN_LOCK_ROW_EXCLUSIVE, NO,
	       false);
	expect("UPDATE t SET a = 1 WHERE id = 2", "t", CAIRN_LOCK_ROW_EXCLUSIVE,
	       NO, false);
	expect("UPDATE t SET a = 1", "t", CAIRN_LOCK_ROW_EXCLUSIVE, NO, true);
	expect("DELETE FROM t", "t", CAIRN_LOCK_ROW_EXCLUSIVE, NO, true);
	expect("CREATE POLICY p ON t USING (true)", "t", AE, NO, false);
}
END_TEST

START_TEST(test_partitions_and_references)
{
	expect("CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)", "p", AE, NO,
	       false);
	expect("CREATE TABLE c (id int REFERENCES parent (id))", "parent", SRE,
	       NO, false);
	expect("CREATE TABLE c (id int, FOREIGN KEY (id) REFERENCES parent (id))",
	       "parent", SRE, NO, false);
	analyse("ALTER TABLE p ATTACH PARTITION p2 FOR VALUES IN (2)");
	ck_assert_int_eq(target(0, "p")->mode, SUE);
	ck_assert_int_eq(target(0, "p2")->mode, AE);
	cairn_lock_plan_dispose(&plan);
	analyse("ALTER TABLE p DETACH PARTITION p2 CONCURRENTLY");
	ck_assert_int_eq(target(0, "p")->mode, SUE);
	ck_assert(plan.items[0].no_transaction);
}
END_TEST

START_TEST(test_created_in_the_same_text)
{
	analyse("CREATE TABLE fresh (id int);\n"
		"CREATE INDEX fresh_id ON fresh (id);\n"
		"ALTER TABLE old ADD COLUMN x int;\n"
		"DROP INDEX fresh_id;\n"
		"ALTER TABLE public.fresh ADD COLUMN y int;\n");
	ck_assert_uint_eq(plan.count, 5);
	ck_assert_uint_eq(plan.items[0].target_count, 0);
	ck_assert(target(1, "fresh")->created);
	ck_assert(!target(2, "old")->created);
	ck_assert(target(3, "fresh_id")->created);
	ck_assert(target(4, "fresh")->created);
}
END_TEST

START_TEST(test_lines_and_kinds)
{
	analyse("-- cairn: no-transaction\n"
		"/* a comment\n   over lines */\n"
		"CREATE INDEX CONCURRENTLY i ON t (a);\n\n"
		"-- next\n"
		"  DO $$ BEGIN PERFORM 1; END $$;\n"
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n");
	ck_assert_uint_eq(plan.count, 3);
	ck_assert_uint_eq(plan.items[0].line, 4);
	ck_assert_uint_eq(plan.items[1].line, 7);
	ck_assert(!plan.items[1].analysed);
	ck_assert_str_eq(plan.items[1].kind, "DO");
	ck_assert_uint_eq(plan.items[2].line, 8);
	ck_assert(plan.items[2].analysed);
	ck_assert_str_eq(plan.items[2].kind, "CREATE FUNCTION");
	ck_assert_uint_eq(plan.items[2].target_count, 0);
}
END_TEST

START_TEST(test_not_known_from_the_text)
{
	analyse("DROP SCHEMA s CASCADE;\n"
		"DROP TYPE mood CASCADE;\n"
		"DROP TYPE mood;\n"
		"REINDEX SCHEMA s;\n"
		"VACUUM;\n"
		"CALL backfill();\n"
		"SELECT backfill_orders(1000);\n"
		"SELECT count(*) FROM orders o JOIN customers c ON c.id = o.cid;\n"
		"SELECT set_config('x.y', '1', false);\n"
		"CREATE TABLE t (id int);\n");
	ck_assert_uint_eq(plan.count, 10);
	for (size_t i = 0; i < 7; i++)
		ck_assert_msg(!plan.items[i].analysed || i == 2,
			      "statement %zu (%s) analysed", i, plan.items[i].kind);
	ck_assert(plan.items[2].analysed);
	ck_assert(plan.items[7].analysed);
	ck_assert_int_eq(target(7, "orders")->mode, CAIRN_LOCK_ACCESS_SHARE);
	ck_assert_int_eq(target(7, "customers")->mode, CAIRN_LOCK_ACCESS_SHARE);
	ck_assert(plan.items[8].analysed);
	ck_assert_uint_eq(plan.items[8].target_count, 0);
	ck_assert(plan.items[9].analysed);
	cairn_lock_plan_dispose(&plan);

	/* SET DEFAULT and DROP DEFAULT change the catalog only */
	analyse("ALTER TABLE t ALTER COLUMN c SET DEFAULT random(), "
		"ALTER COLUMN d DROP DEFAULT");
	ck_assert_int_eq(target(0, "t")->rewrite, NO);
	ck_assert_str_eq(target(0, "t")->why,
			 "ALTER COLUMN c SET DEFAULT, ALTER COLUMN d DROP DEFAULT");
}
END_TEST

START_TEST(test_names_keep_case_and_quotes)
{
	const cairn_lock_target *t;

	analyse("ALTER TABLE \"Sales\".\"Order Items\" DROP COLUMN x;"
		" ALTER TABLE MixedCase DROP COLUMN y");
	t = target(0, "Order Items");
	ck_assert_str_eq(t->schema, "Sales");
	target(1, "mixedcase");
}
END_TEST

START_TEST(test_syntax_error)
{
	const char *sql = "CREATE TABLE a (id int);\nCREAT TABLE b (id int);\n";

	ck_assert_int_eq(cairn_lock_plan_sql(&plan, sql, strlen(sql)), 0);
	ck_assert_ptr_nonnull(plan.error);
	ck_assert_msg(strstr(plan.error, "CREAT"), "%s", plan.error);
	ck_assert_uint_eq(plan.error_line, 2);
	ck_assert_uint_eq(plan.error_column, 1);
	ck_assert_uint_eq(plan.count, 0);
	/* the same plan reused for a good text */
	analyse("DROP TABLE t");
	ck_assert_ptr_null(plan.error);
	ck_assert_uint_eq(plan.count, 1);
}
END_TEST

START_TEST(test_mode_names)
{
	ck_assert_str_eq(cairn_lock_mode_name(AE), "ACCESS EXCLUSIVE");
	ck_assert_str_eq(cairn_lock_mode_name(SUE), "SHARE UPDATE EXCLUSIVE");
	ck_assert_str_eq(cairn_lock_mode_name(CAIRN_LOCK_ACCESS_SHARE),
			 "ACCESS SHARE");
	ck_assert_str_eq(cairn_lock_mode_name((cairn_lock_mode)42), "");
	ck_assert_str_eq(cairn_lock_rewrite_name(MAYBE), "maybe");
}
END_TEST

static Suite *lockplan_suite(void)
{
	Suite *s = suite_create("lockplan");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_column);
	tcase_add_test(tc, test_alter_column);
	tcase_add_test(tc, test_constraints);
	tcase_add_test(tc, test_strongest_subcommand_wins);
	tcase_add_test(tc, test_indexes);
	tcase_add_test(tc, test_whole_table_commands);
	tcase_add_test(tc, test_renames_triggers_dml);
	tcase_add_test(tc, test_partitions_and_references);
	tcase_add_test(tc, test_created_in_the_same_text);
	tcase_add_test(tc, test_lines_and_kinds);
	tcase_add_test(tc, test_not_known_from_the_text);
	tcase_add_test(tc, test_names_keep_case_and_quotes);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_mode_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lockplan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
