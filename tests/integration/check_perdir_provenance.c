/*
 * check_perdir_provenance.c - provenance (the commit and author that
 * introduced a migration) under `versions: per-directory`, where a
 * migration's version is "<dir>/<number>".
 *
 * The provenance walk takes a commit that adds an up file while removing
 * one of the same version for a rename, and follows the old path to the
 * commit that first added it.  It used to compare the numbers only, so
 * with per-directory versions removing a/2_beta.up.sql and adding
 * b/2_gamma.up.sql in one commit made b/2 "introduced" by whoever wrote
 * a/2: status, the tracking row and the audit row named the wrong commit
 * and author.  A rename inside one directory (a/3.1_x -> a/3.1.0_y, the
 * same dotted version) must stay a rename.  The provenance cache must
 * not hand one setting's answer to the other either.
 *
 * The real cairn binary, real git repositories made here, a real
 * PostgreSQL server with a fresh database per test.
 */

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "project.h"
#include "testutil.h"

typedef tu_project project;
#define project_dispose tu_project_dispose
#define assert_q tu_project_assert_q
#define write_config tu_project_write_config

#define ADA "Ada Lovelace"
#define BOB "Bob Builder"
#define CY "Cy Young"

static char *commit_as(project *p, const char *who, const char *email,
		       long when, const char *msg)
{
	return tu_git_commit(p->dir, who, email, when, msg);
}

/* db/migrations/<rel>.up.sql creating table t. */
static void up(project *p, const char *rel, const char *t)
{
	char path[256], sql[256];

	snprintf(path, sizeof(path), "db/migrations/%s.up.sql", rel);
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (id int);\n", t);
	tu_write(p->dir, path, sql);
}

/*
 * `cairn status --format json` as parsed JSON, with --config config
 * (NULL: cairn.yaml at HEAD).
 */
static json_t *status_json(project *p, const char *config)
{
	json_error_t jerr;
	tu_result r;
	json_t *root;

	if (config)
		tu_cairn(&r, p->dir, "--config", config, "status", "--format",
			 "json", NULL);
	else
		tu_cairn(&r, p->dir, "status", "--format", "json", NULL);
	ck_assert_msg(r.status == 0, "status: %d\n%s%s", r.status, r.out,
		      r.err);
	root = json_loads(r.out, 0, &jerr);
	ck_assert_msg(root != NULL, "not JSON (%s): %s", jerr.text, r.out);
	tu_result_dispose(&r);
	return root;
}

/* Asserts the commit and author status gives migration version. */
static void assert_intro(json_t *root, const char *version,
			 const char *sha, const char *author)
{
	json_t *arr = json_object_get(root, "migrations"), *o;
	size_t i;

	json_array_foreach(arr, i, o) {
		const char *v = json_string_value(json_object_get(o, "version"));
		const char *c, *a;

		if (!v || strcmp(v, version))
			continue;
		c = json_string_value(json_object_get(o, "commit"));
		a = json_string_value(json_object_get(o, "author_name"));
		ck_assert_msg(c && a && !strcmp(c, sha) && !strcmp(a, author),
			      "%s: introduced by %s (%s), want %s (%s)",
			      version, c ? c : "(none)", a ? a : "(none)",
			      sha, author);
		return;
	}
	ck_abort_msg("status has no migration %s", version);
}

/*
 * One commit by Ada adds a/1, a/2 and a/3.1; one by Bob removes a/2,
 * adds b/1 and b/2 and renames a/3.1_delta to a/3.1.0_delta (the same
 * version, dotted).  b/2 is a new migration of Bob's, not a/2 renamed;
 * a/3.1 is still Ada's.
 */
START_TEST(test_other_directory_same_number)
{
	project p;
	char *ada, *bob, *cy;
	tu_result r;
	json_t *st;
	int i;

	tu_project_init(&p, "perdirprov", "versions: per-directory\n");
	up(&p, "a/1_alpha", "alpha");
	up(&p, "a/2_beta", "beta");
	up(&p, "a/3.1_delta", "delta");
	ada = commit_as(&p, ADA, "ada@example.com", 1700000000L, "a");
	ck_assert_int_eq(tu_sh(p.dir, "git rm -q db/migrations/a/2_beta.up.sql"
				      " && git mv db/migrations/a/3.1_delta.up.sql"
				      " db/migrations/a/3.1.0_delta.up.sql"),
			 0);
	up(&p, "b/1_first", "first");
	up(&p, "b/2_gamma", "gamma");
	bob = commit_as(&p, BOB, "bob@example.com", 1700000100L, "b");

	/* cold (writes the cache entry), then warm from the entry */
	for (i = 0; i < 2; i++) {
		st = status_json(&p, NULL);
		assert_intro(st, "a/1", ada, ADA);
		assert_intro(st, "a/3.1", ada, ADA);
		assert_intro(st, "b/1", bob, BOB);
		assert_intro(st, "b/2", bob, BOB);
		json_decref(st);
	}

	/* a later commit: the walk stops at the entry of Bob's commit */
	up(&p, "b/3_later", "later");
	cy = commit_as(&p, CY, "cy@example.com", 1700000200L, "c");
	st = status_json(&p, NULL);
	assert_intro(st, "b/2", bob, BOB);
	assert_intro(st, "a/3.1", ada, ADA);
	assert_intro(st, "b/3", cy, CY);
	json_decref(st);

	/* what migrate up records: the tracking row and the audit row */
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "migrate up: %d\n%s%s", r.status, r.out,
		      r.err);
	tu_result_dispose(&r);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s %s", bob, BOB);
		assert_q(&p,
			 "SELECT commit_sha || ' ' || author_name FROM "
			 "cairn.migrations WHERE version = 'b/2'",
			 want);
		snprintf(want, sizeof(want), "%s %s <bob@example.com>", bob,
			 BOB);
		assert_q(&p,
			 "SELECT commit_sha || ' ' || author FROM cairn.audit "
			 "WHERE version = 'b/2' AND outcome = 'applied'",
			 want);
		snprintf(want, sizeof(want), "%s %s <ada@example.com>", ada,
			 ADA);
		assert_q(&p,
			 "SELECT commit_sha || ' ' || author FROM cairn.audit "
			 "WHERE version = 'a/3.1' AND outcome = 'applied'",
			 want);
	}
	free(ada);
	free(bob);
	free(cy);
	project_dispose(&p);
}
END_TEST

/*
 * Status under two configurations of the same repository, round after
 * round: at the commit whose cache entries the first round wrote (the
 * warm path), then at a later commit that changed no migration (the
 * walk stops at the earlier commit's entry).  Each configuration must
 * get its own answer.
 */
static void two_settings(project *p, const char *version_a,
			 const char *sha_a, const char *author_a,
			 const char *version_b, const char *sha_b,
			 const char *author_b)
{
	json_t *st;
	int round;

	for (round = 0; round < 3; round++) {
		if (round == 2) {
			tu_write(p->dir, "NOTES", "no migration changed\n");
			free(commit_as(p, CY, "cy@example.com", 1700000200L,
				       "notes"));
		}
		st = status_json(p, "a.yaml");
		assert_intro(st, version_a, sha_a, author_a);
		json_decref(st);
		ck_assert_msg(tu_sh(p->dir, "ls .git/cairn/provenance-* "
					    ">/dev/null 2>&1") == 0,
			      "no cache entry was written");
		st = status_json(p, "b.yaml");
		assert_intro(st, version_b, sha_b, author_b);
		json_decref(st);
	}
}

/*
 * The same history read with and without per-directory versions: with
 * one sequence, removing a/1_alpha and adding b/1_gamma is a rename of
 * migration 1 (Ada's); with per-directory versions b/1 is Bob's.  Each
 * setting's answer is cached; neither may be served for the other.
 */
START_TEST(test_cache_follows_the_setting)
{
	project p;
	char *ada, *bob;

	tu_project_init(&p, "perdirprov", NULL);
	write_config(&p, "a.yaml", "");
	write_config(&p, "b.yaml", "versions: per-directory\n");
	up(&p, "a/1_alpha", "alpha");
	ada = commit_as(&p, ADA, "ada@example.com", 1700000000L, "a");
	ck_assert_int_eq(tu_sh(p.dir, "git rm -q db/migrations/a/1_alpha.up.sql"),
			 0);
	up(&p, "b/1_gamma", "gamma");
	bob = commit_as(&p, BOB, "bob@example.com", 1700000100L, "b");

	two_settings(&p, "1", ada, ADA, "b/1", bob, BOB);
	free(ada);
	free(bob);
	project_dispose(&p);
}
END_TEST

/*
 * The naming's other settings are part of the cache's key too: with no
 * dialect, removing 1_x.mysql.up.sql and adding 1_x.postgres.up.sql is a
 * rename of migration 1 (Ada's); with `dialect: postgres` the mysql file
 * was never a migration, and 1 is Bob's.
 */
START_TEST(test_cache_follows_the_dialect)
{
	project p;
	char *ada, *bob;

	tu_project_init(&p, "perdirprov", NULL);
	write_config(&p, "a.yaml", "");
	write_config(&p, "b.yaml", "dialect: postgres\n");
	up(&p, "1_x.mysql", "x");
	ada = commit_as(&p, ADA, "ada@example.com", 1700000000L, "mysql");
	ck_assert_int_eq(tu_sh(p.dir, "git rm -q db/migrations/1_x.mysql.up.sql"),
			 0);
	up(&p, "1_x.postgres", "x");
	bob = commit_as(&p, BOB, "bob@example.com", 1700000100L, "postgres");

	two_settings(&p, "1", ada, ADA, "1", bob, BOB);
	free(ada);
	free(bob);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("perdir_provenance");
	TCase *tc = tcase_create("perdir_provenance");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_other_directory_same_number);
	tcase_add_test(tc, test_cache_follows_the_setting);
	tcase_add_test(tc, test_cache_follows_the_dialect);
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
