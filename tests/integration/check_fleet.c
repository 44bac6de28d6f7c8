/*
 * check_fleet.c - fleets (README "Fleets"): the targets of an
 * environment from cairn.yaml, a file or a command, and
 * `cairn migrate up --all-targets` over a dozen real databases made
 * here (and schemas of one database for schema-per-tenant): parallel
 * workers, the stop rule, --keep-going, canaries, each migration once
 * per target, and the fleet run id in every target's audit rows.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/fleet.h"
#include "testutil.h"

static cairn_config *parse(const char *yaml)
{
	cairn_config *cfg = NULL;

	if (cairn_config_parse(&cfg, "cairn.yaml", yaml, strlen(yaml), NULL) < 0)
		return NULL;
	return cfg;
}

static const char *parse_error(const char *yaml)
{
	cairn_config *cfg = NULL;

	ck_assert_int_lt(cairn_config_parse(&cfg, "cairn.yaml", yaml,
					    strlen(yaml), NULL), 0);
	ck_assert_ptr_nonnull(cairn_error_last());
	return cairn_error_last()->message;
}

START_TEST(test_config_targets_list)
{
	cairn_config *cfg;
	const cairn_environment *env;
	cairn_target *t;
	size_t n;

	setenv("FLEET_TEST_PW", "s3cret", 1);
	cfg = parse("environments:\n"
		    "  production:\n"
		    "    targets:\n"
		    "      - { name: eu-1, database_url: \"postgres://u:${FLEET_TEST_PW}@h/eu1\" }\n"
		    "      - name: us-1\n"
		    "        database_url: postgres://h/us\n"
		    "        schema: tenant_us\n");
	ck_assert_ptr_nonnull(cfg);
	env = cairn_config_environment(cfg, "production");
	ck_assert_uint_eq(env->targets_count, 2);
	ck_assert_str_eq(env->targets[0].database_url, "postgres://u:s3cret@h/eu1");
	ck_assert_ptr_null(env->targets[0].schema);
	ck_assert_str_eq(env->targets[1].schema, "tenant_us");
	ck_assert_uint_eq(env->targets[1].line, 5);
	ck_assert_int_eq(cairn_fleet_targets(&t, &n, env, NULL), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(t[1].name, "us-1");
	cairn_fleet_targets_free(t, n);
	/* an environment without targets says so */
	ck_assert_int_lt(cairn_fleet_targets(&t, &n,
		cairn_config_environment(cfg, "development"), NULL), 0);
	ck_assert(tu_contains(cairn_error_last()->message, "has no targets"));
	cairn_config_free(cfg);
}
END_TEST

START_TEST(test_config_targets_errors)
{
	const char *m;

	m = parse_error("environments:\n  p:\n    targets:\n      - { name: a, database_url: x }\n      - { name: a, database_url: y }\n");
	ck_assert_msg(tu_contains(m, "cairn.yaml:5:") && tu_contains(m, "listed twice"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets:\n      - { name: a }\n");
	ck_assert_msg(tu_contains(m, "cairn.yaml:4:") && tu_contains(m, "needs a database_url"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets:\n      - { name: \"a b\", database_url: x }\n");
	ck_assert_msg(tu_contains(m, "cairn.yaml:4:") && tu_contains(m, "invalid target name"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets:\n      - { name: a, database_url: x, schema: \"Bad-1\" }\n");
	ck_assert_msg(tu_contains(m, "invalid schema name"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets:\n      - { name: a, databse_url: x }\n");
	ck_assert_msg(tu_contains(m, "unknown key 'databse_url'"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets_file: t.txt\n    targets_command: [echo]\n");
	ck_assert_msg(tu_contains(m, "cairn.yaml:4:") && tu_contains(m, "line 3 already"), "%s", m);
	m = parse_error("environments:\n  p:\n    targets_command: []\n");
	ck_assert_msg(tu_contains(m, "needs a program"), "%s", m);
}
END_TEST

START_TEST(test_targets_file_and_command)
{
	char *dir = tu_mkdtemp(), yaml[1024];
	cairn_fleet_targets_options o = CAIRN_FLEET_TARGETS_OPTIONS_INIT;
	cairn_config *cfg;
	cairn_target *t;
	size_t n;

	tu_write(dir, "fleet.txt", "# the shards\n\nshard-1 postgres://h/s1\n"
		 "shard-2\tpostgres://h/s2  tenant_2\n");
	tu_write(dir, "bad.txt", "ok-1 postgres://h/1\nlonely\n");
	tu_write(dir, "list.sh", "#!/bin/sh\necho \"cmd-1 postgres://h/c1\"\necho \"cmd-2 postgres://h/$1\"\n");
	ck_assert_int_eq(tu_sh(dir, "chmod +x list.sh"), 0);
	o.workdir = dir;
	snprintf(yaml, sizeof(yaml), "environments:\n  f:\n    targets_file: fleet.txt\n"
		 "  b:\n    targets_file: bad.txt\n"
		 "  c:\n    targets_command: [./list.sh, \"c2;$(id)\"]\n"
		 "  x:\n    targets_command: [/bin/false]\n");
	cfg = parse(yaml);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cairn_fleet_targets(&t, &n, cairn_config_environment(cfg, "f"), &o), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(t[1].name, "shard-2");
	ck_assert_str_eq(t[1].database_url, "postgres://h/s2");
	ck_assert_str_eq(t[1].schema, "tenant_2");
	cairn_fleet_targets_free(t, n);
	ck_assert_int_lt(cairn_fleet_targets(&t, &n, cairn_config_environment(cfg, "b"), &o), 0);
	ck_assert_msg(tu_contains(cairn_error_last()->message, "bad.txt:2:"), "%s", cairn_error_last()->message);
	/* argv as data: the argument with a ';' reaches the script whole */
	ck_assert_int_eq(cairn_fleet_targets(&t, &n, cairn_config_environment(cfg, "c"), &o), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(t[1].database_url, "postgres://h/c2;$(id)");
	cairn_fleet_targets_free(t, n);
	ck_assert_int_lt(cairn_fleet_targets(&t, &n, cairn_config_environment(cfg, "x"), &o), 0);
	ck_assert_msg(tu_contains(cairn_error_last()->message, "targets_command failed"), "%s", cairn_error_last()->message);
	cairn_config_free(cfg);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("fleet");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_config_targets_list);
	tcase_add_test(tc, test_config_targets_errors);
	tcase_add_test(tc, test_targets_file_and_command);
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
