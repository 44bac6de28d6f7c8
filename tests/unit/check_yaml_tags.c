/*
 * check_yaml_tags.c - YAML tags in cairn.yaml (issue 9, item 21).
 *
 * libyaml reports a tag with each node; cairn used to drop it, so
 * `migrations_dir: !!binary ...` was taken literally.  A tag that could
 * change a value's meaning is now refused with file:line:col, through
 * the real configuration reader (cairn_config_parse); the tags a node
 * has anyway (!!str on a scalar, !!seq on a list, !!map on a map) are
 * accepted, and !!str makes "null" a string.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/config.h"
#include "cairn/error.h"
#include "testutil.h"

static const char *errmsg(void)
{
	const cairn_error *e = cairn_error_last();

	return e && e->message ? e->message : "(no error)";
}

static int parse(cairn_config **out, const char *text)
{
	*out = NULL;
	cairn_error_clear();
	return cairn_config_parse(out, "cairn.yaml", text, strlen(text), NULL);
}

/* text must be refused with exactly `want` as the message. */
static void refused(const char *text, const char *want)
{
	cairn_config *cfg = NULL;

	ck_assert_msg(parse(&cfg, text) < 0, "accepted: %s", text);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(errmsg(), want);
}

START_TEST(test_binary_tag_refused)
{
	refused("migrations_dir: !!binary ZGIvbWlncmF0aW9ucw==\n",
		"cairn.yaml:1:17: unsupported YAML tag '!!binary'");
}
END_TEST

START_TEST(test_other_tags_refused)
{
	refused("schema: app\nmigrations_dir: !!int 42\n",
		"cairn.yaml:2:17: unsupported YAML tag '!!int'");
	refused("migrations_dir: !custom db\n",
		"cairn.yaml:1:17: unsupported YAML tag '!custom'");
	refused("migrations_dir: ! db\n",
		"cairn.yaml:1:17: unsupported YAML tag '!'");
	refused("migrations_dir: !!null ~\n",
		"cairn.yaml:1:17: unsupported YAML tag '!!null'");
	/* the wrong kind's own tag */
	refused("ignore: !!map [a, b]\n",
		"cairn.yaml:1:9: unsupported YAML tag '!!map'");
	refused("environments: !!set {a, b}\n",
		"cairn.yaml:1:15: unsupported YAML tag '!!set'");
	refused("%TAG !e! tag:example.com,2000:\n---\n"
		"migrations_dir: !e!path db\n",
		"cairn.yaml:3:17: unsupported YAML tag "
		"'tag:example.com,2000:path'");
	/* inside a list, and on a key */
	refused("ignore:\n  - a.txt\n  - !!python/object x\n",
		"cairn.yaml:3:5: unsupported YAML tag '!!python/object'");
	refused("!!binary bWlncmF0aW9uc19kaXI=: db\n",
		"cairn.yaml:1:1: unsupported YAML tag '!!binary'");
}
END_TEST

START_TEST(test_plain_tags_accepted)
{
	cairn_config *cfg = NULL;

	ck_assert_msg(parse(&cfg, "migrations_dir: !!str sql/migrations\n"
				  "ignore: !!seq [\"*.md\"]\n"
				  "environments: !!map\n"
				  "  production:\n"
				  "    database_url: !<tag:yaml.org,2002:str> "
				  "postgresql:///app\n") == 0,
		      "%s", errmsg());
	ck_assert_str_eq(cfg->migrations_dir, "sql/migrations");
	ck_assert_uint_eq(cfg->ignore_count, 1);
	ck_assert_str_eq(cfg->ignore[0], "*.md");
	cairn_config_free(cfg);
}
END_TEST

/* !!str null is the string "null", not an empty value. */
START_TEST(test_str_tag_is_never_null)
{
	cairn_config *cfg = NULL;

	ck_assert_msg(parse(&cfg, "migrations_dir: !!str null\n") == 0, "%s",
		      errmsg());
	ck_assert_str_eq(cfg->migrations_dir, "null");
	cairn_config_free(cfg);
	/* untagged, the same text is the null value */
	refused("migrations_dir: null\n",
		"cairn.yaml:1:17: empty value for 'migrations_dir'");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("yaml_tags");
	TCase *tc = tcase_create("yaml_tags");

	tcase_add_test(tc, test_binary_tag_refused);
	tcase_add_test(tc, test_other_tags_refused);
	tcase_add_test(tc, test_plain_tags_accepted);
	tcase_add_test(tc, test_str_tag_is_never_null);
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
