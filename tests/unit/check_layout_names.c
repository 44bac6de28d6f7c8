/*
 * check_layout_names.c - migration file names in each layout
 * (cairn_migration__parse_name in src/migration.c): which names are up
 * files, down files, another dialect's files or not migrations, and
 * where the version and the name lie.  The end-to-end behaviour (apply,
 * roll back, provenance) is tests/integration/check_layouts.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/migration.h"
#include "migration_internal.h"

struct name_case {
	cairn_layout layout;
	const char *dialect;
	const char *base;
	enum cairn_name_kind kind;
	const char *version; /* the digits as written */
	const char *name;
};

static const struct name_case cases[] = {
	/* cairn: dots in names (Harbor) */
	{ CAIRN_LAYOUT_CAIRN, NULL, "0002_1.7.0_schema.up.sql", CAIRN_NAME_UP, "0002", "1.7.0_schema" },
	{ CAIRN_LAYOUT_CAIRN, NULL, "0002_1.7.0_schema.down.sql", CAIRN_NAME_DOWN, "0002", "1.7.0_schema" },
	{ CAIRN_LAYOUT_CAIRN, NULL, "0001_x y.up.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_CAIRN, NULL, "0001_.x.up.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_CAIRN, NULL, "0001_x.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_CAIRN, NULL, "V1__x.sql", CAIRN_NAME_BAD, NULL, NULL },
	/* dialect infix (Kratos) */
	{ CAIRN_LAYOUT_GOLANG_MIGRATE, "postgres", "20150100000001000000_networks.postgres.up.sql", CAIRN_NAME_UP, "20150100000001000000", "networks" },
	{ CAIRN_LAYOUT_GOLANG_MIGRATE, "postgres", "20150100000001000000_networks.mysql.up.sql", CAIRN_NAME_SKIP, NULL, NULL },
	{ CAIRN_LAYOUT_GOLANG_MIGRATE, "postgres", "20150100000001000000_networks.sqlite3.down.sql", CAIRN_NAME_SKIP, NULL, NULL },
	{ CAIRN_LAYOUT_GOLANG_MIGRATE, "postgres", "0001_v1.0.up.sql", CAIRN_NAME_UP, "0001", "v1.0" },
	{ CAIRN_LAYOUT_GOLANG_MIGRATE, NULL, "0001_networks.mysql.up.sql", CAIRN_NAME_UP, "0001", "networks.mysql" },
	{ CAIRN_LAYOUT_CAIRN, "postgres", "0001_networks.postgres.up.sql", CAIRN_NAME_UP, "0001", "networks" },
	/* golang-migrate: any name */
	{ CAIRN_LAYOUT_GOLANG_MIGRATE, NULL, "0001_add users (v2).up.sql", CAIRN_NAME_UP, "0001", "add users (v2)" },
	{ CAIRN_LAYOUT_GOLANG_MIGRATE, NULL, "0001_x.sql", CAIRN_NAME_BAD, NULL, NULL },
	/* dbmate: one file */
	{ CAIRN_LAYOUT_DBMATE, NULL, "20200101000000_users.sql", CAIRN_NAME_UP, "20200101000000", "users" },
	{ CAIRN_LAYOUT_DBMATE, NULL, "20200101000000_users.up.sql", CAIRN_NAME_UP, "20200101000000", "users.up" },
	{ CAIRN_LAYOUT_DBMATE, NULL, "20200101000000.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_DBMATE, NULL, "users.sql", CAIRN_NAME_BAD, NULL, NULL },
	/* flyway: V and U files, integer versions */
	{ CAIRN_LAYOUT_FLYWAY, NULL, "V1__create_person.sql", CAIRN_NAME_UP, "1", "create_person" },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "U0042__drop it.sql", CAIRN_NAME_DOWN, "0042", "drop it" },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "V1.1__x.sql", CAIRN_NAME_UP, "1.1", "x" },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "V1_1__x.sql", CAIRN_NAME_UP, "1_1", "x" },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "U1.2.3__y_z.sql", CAIRN_NAME_DOWN, "1.2.3", "y_z" },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "V1.__x.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "V1..2__x.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_CAIRN, NULL, "1.2_x.up.sql", CAIRN_NAME_UP, "1.2", "x" },
	{ CAIRN_LAYOUT_GOLANG_MIGRATE, NULL, "1.2_x.up.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "R__views.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "V1_x.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "V1__.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "V__x.sql", CAIRN_NAME_BAD, NULL, NULL },
	{ CAIRN_LAYOUT_FLYWAY, NULL, "0001_x.up.sql", CAIRN_NAME_BAD, NULL, NULL },
};

START_TEST(test_names)
{
	const struct name_case *c = &cases[_i];
	struct cairn_name_parts np;
	enum cairn_name_kind k;

	k = cairn_migration__parse_name(c->layout, c->dialect, c->base, &np);
	ck_assert_msg(k == c->kind, "%s: kind %d, want %d", c->base, (int)k,
		      (int)c->kind);
	if (k != CAIRN_NAME_UP && k != CAIRN_NAME_DOWN)
		return;
	ck_assert_msg(np.vlen == strlen(c->version) &&
		      !memcmp(c->base + np.vstart, c->version, np.vlen),
		      "%s: version '%.*s'", c->base, (int)np.vlen,
		      c->base + np.vstart);
	ck_assert_msg(np.nlen == strlen(c->name) &&
		      !memcmp(c->base + np.nstart, c->name, np.nlen),
		      "%s: name '%.*s'", c->base, (int)np.nlen,
		      c->base + np.nstart);
}
END_TEST

/* A dotted Flyway version is read whole (it was refused before). */
START_TEST(test_dotted_flyway_reason)
{
	struct cairn_name_parts np;

	ck_assert_int_eq(cairn_migration__parse_name(CAIRN_LAYOUT_FLYWAY, NULL,
						      "V2.1__x.sql", &np),
			 CAIRN_NAME_UP);
	ck_assert_uint_eq(np.vlen, 3);
	ck_assert_ptr_null(np.why);
}
END_TEST

START_TEST(test_layout_names_round_trip)
{
	static const char *const names[] = { "cairn", "golang-migrate",
					     "dbmate", "flyway" };
	cairn_layout l;

	for (size_t i = 0; i < 4; i++) {
		ck_assert(cairn_layout_parse(names[i], &l));
		ck_assert_str_eq(cairn_layout_name(l), names[i]);
	}
	ck_assert(!cairn_layout_parse("liquibase", &l));
	ck_assert(!cairn_layout_parse(NULL, &l));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("layout_names");
	TCase *tc = tcase_create("names");

	tcase_add_loop_test(tc, test_names, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_dotted_flyway_reason);
	tcase_add_test(tc, test_layout_names_round_trip);
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
