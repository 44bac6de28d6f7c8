/*
 * check_lint_locks_cli.c - `cairn lint` end to end with the real cairn
 * binary, a real git repository made here and a real PostgreSQL server
 * (a fresh database per test):
 *
 *   - `cairn lint --format json` carries, per linted file, each
 *     statement's lock mode, tables and rewrite (issue 12 item 4), the
 *     same figures `plan --locks` gives;
 *   - without --all, only pending migrations and applied ones whose
 *     checksum changed are linted when the database can be reached, and
 *     everything (with one line on stderr) when it cannot; --all lints
 *     everything;
 *   - the `lint:` section of cairn.yaml reaches the lint hook that runs
 *     during `migrate`.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

#define M1 \
	"CREATE TABLE customers (id bigint PRIMARY KEY);\n" \
	"CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint,\n" \
	"                     total int);\n"

/* applied later on an existing table: each line a different lock */
#define M2 \
	"-- risky\n" \
	"ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();\n" \
	"CREATE INDEX orders_total ON orders (total);\n" \
	"ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id)\n" \
	"  REFERENCES customers (id) NOT VALID;\n" \
	"INSERT INTO customers VALUES (1);\n"

static void project_init(project *p, const char *url, const char *extra)
{
	char yaml[2048];

	p->url = url ? strdup(url) : tu_db_create("lintlocks");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "%s",
		 p->url, extra ? extra : "hooks: {}\n");
	tu_write(p->dir, "cairn.yaml", yaml);
	tu_write(p->dir, "db/migrations/0001_tables.up.sql", M1);
	free(tu_git_commit(p->dir, "Ann", "ann@example.com", 1700000000, "tables"));
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static json_t *run_json(project *p, const char *const *args, int status,
			char **err)
{
	const char *argv[16] = { tu_cairn_bin() };
	json_error_t jerr;
	tu_result r;
	json_t *j;
	size_t n = 1;

	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	tu_run(&r, p->dir, argv, NULL, NULL);
	ck_assert_msg(r.status == status, "exit %d\n%s%s", r.status, r.out, r.err);
	j = json_loads(r.out, 0, &jerr);
	ck_assert_msg(j != NULL, "not JSON (%s):\n%s", jerr.text, r.out);
	if (err)
		*err = strdup(r.err ? r.err : "");
	tu_result_dispose(&r);
	return j;
}

/* The entry of version in an array of objects with "version". */
static json_t *entry(json_t *arr, const char *version)
{
	size_t i;
	json_t *m;

	json_array_foreach(arr, i, m)
		if (!strcmp(json_string_value(json_object_get(m, "version")), version))
			return m;
	return NULL;
}

static json_t *table(json_t *stmt, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach(json_object_get(stmt, "tables"), i, t)
		if (!strcmp(json_string_value(json_object_get(t, "name")), name))
			return t;
	ck_abort_msg("no table %s", name);
	return NULL;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	ck_assert_msg(s != NULL, "%s is not a string", key);
	return s;
}

/* statement i of M2 (0-based): its line, lock, rewrite */
static void expect_stmt(json_t *locks, size_t i, unsigned line,
			const char *lock, const char *rewrite)
{
	json_t *s = json_array_get(json_object_get(locks, "statements"), i);

	ck_assert_msg(s != NULL, "no statement %zu", i);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "line")), line);
	ck_assert_str_eq(jstr(s, "lock"), lock);
	ck_assert_str_eq(jstr(s, "rewrite"), rewrite);
}

static void check_m2_locks(json_t *locks)
{
	json_t *st;

	ck_assert_msg(locks != NULL, "no locks for 0002");
	ck_assert(json_is_null(json_object_get(locks, "error")));
	ck_assert_uint_eq(json_array_size(json_object_get(locks, "statements")), 4);
	expect_stmt(locks, 0, 2, "ACCESS EXCLUSIVE", "yes");
	expect_stmt(locks, 1, 3, "SHARE", "no");
	expect_stmt(locks, 2, 4, "SHARE ROW EXCLUSIVE", "no");
	expect_stmt(locks, 3, 6, "ROW EXCLUSIVE", "no");
	st = json_array_get(json_object_get(locks, "statements"), 0);
	ck_assert_str_eq(jstr(table(st, "orders"), "lock"), "ACCESS EXCLUSIVE");
	ck_assert_str_eq(jstr(table(st, "orders"), "rewrite"), "yes");
	st = json_array_get(json_object_get(locks, "statements"), 2);
	ck_assert_str_eq(jstr(table(st, "orders"), "lock"), "SHARE ROW EXCLUSIVE");
	ck_assert_str_eq(jstr(table(st, "customers"), "lock"), "SHARE ROW EXCLUSIVE");
}

START_TEST(test_lint_json_carries_locks)
{
	static const char *const lint[] = { "lint", "--all", "--format", "json", NULL };
	static const char *const plan[] = { "plan", "--locks", "--no-db", "--format",
					    "json", NULL };
	project p;
	json_t *j, *m1;

	project_init(&p, NULL, NULL);
	tu_write(p.dir, "db/migrations/0002_risky.up.sql", M2);
	free(tu_git_commit(p.dir, "Bob", "bob@example.com", 1700000100, "risky"));

	/* the index is not concurrent: a warning, exit 0 */
	j = run_json(&p, lint, 0, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "findings")) > 0, 1);
	check_m2_locks(entry(json_object_get(j, "locks"), "2"));
	ck_assert_str_eq(jstr(entry(json_object_get(j, "locks"), "2"), "file"),
			 "db/migrations/0002_risky.up.sql");
	/* 0001 only creates tables: locks on nothing that exists */
	m1 = entry(json_object_get(j, "locks"), "1");
	ck_assert_ptr_nonnull(m1);
	ck_assert_uint_eq(json_array_size(json_object_get(m1, "statements")), 2);
	json_decref(j);

	/* plan --locks: the same module, the same figures */
	j = run_json(&p, plan, 0, NULL);
	{
		size_t i;
		json_t *v, *found = NULL;

		json_array_foreach(json_object_get(j, "migrations"), i, v)
			if (!strcmp(jstr(v, "version"), "2"))
				found = json_object_get(v, "locks");
		check_m2_locks(found);
	}
	json_decref(j);
	project_dispose(&p);
}
END_TEST

/* The versions the "locks" list of a lint JSON names, "1,3". */
static char *linted(json_t *j)
{
	char buf[256] = "";
	size_t i, used = 0;
	json_t *m;

	json_array_foreach(json_object_get(j, "locks"), i, m)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
					 used ? "," : "", jstr(m, "version"));
	return strdup(buf);
}

static bool finding_for(json_t *j, const char *version)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(j, "findings"), i, f)
		if (json_is_string(json_object_get(f, "version")) &&
		    !strcmp(jstr(f, "version"), version))
			return true;
	return false;
}

static void expect_linted(project *p, const char *const *args,
			  const char *versions, const char *stderr_has)
{
	char *err = NULL, *got;
	json_t *j = run_json(p, args, 0, &err);

	got = linted(j);
	ck_assert_msg(!strcmp(got, versions), "linted %s, expected %s", got,
		      versions);
	/* findings only for what was linted: 2 and 3 hold an index each */
	ck_assert(finding_for(j, "2") == (strstr(versions, "2") != NULL));
	ck_assert(finding_for(j, "3") == (strstr(versions, "3") != NULL));
	if (stderr_has)
		ck_assert_msg(tu_contains(err, stderr_has), "stderr: %s", err);
	else
		ck_assert_msg(!tu_contains(err, "no database"), "stderr: %s", err);
	free(got);
	free(err);
	json_decref(j);
}

/* 1 and 2 applied, 3 pending. */
static void project_applied(project *p, const char *extra)
{
	tu_result r;

	project_init(p, NULL, extra);
	tu_write(p->dir, "db/migrations/0002_index.up.sql",
		 "CREATE INDEX orders_total ON orders (total);\n");
	free(tu_git_commit(p->dir, "Bob", "bob@example.com", 1700000100, "index"));
	tu_cairn(&r, p->dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_write(p->dir, "db/migrations/0003_index.up.sql",
		 "CREATE INDEX orders_customer ON orders (customer_id);\n");
	free(tu_git_commit(p->dir, "Bob", "bob@example.com", 1700000200, "index 2"));
}

START_TEST(test_default_lints_pending_and_changed)
{
	static const char *const lint[] = { "lint", "--format", "json", NULL };
	static const char *const all[] = { "lint", "--all", "--format", "json", NULL };
	project p;

	project_applied(&p, NULL);
	/* the database says 1 and 2 are applied and unchanged */
	expect_linted(&p, lint, "3", NULL);
	expect_linted(&p, all, "1,2,3", NULL);

	/* 2 changes after it was applied: its checksum differs */
	tu_write(p.dir, "db/migrations/0002_index.up.sql",
		 "-- edited\nCREATE INDEX orders_total ON orders (total);\n");
	free(tu_git_commit(p.dir, "Bob", "bob@example.com", 1700000300, "edit"));
	expect_linted(&p, lint, "2,3", NULL);
	project_dispose(&p);
}
END_TEST

START_TEST(test_without_a_database_lints_everything)
{
	static const char *const lint[] = { "lint", "--format", "json", "--env",
					    "offline", NULL };
	project p;

	project_applied(&p, "  offline:\n"
			    "    database_url: \"postgresql://127.0.0.1:1/none?connect_timeout=2\"\n"
			    "hooks: {}\n");
	expect_linted(&p, lint, "1,2,3", "no database");
	project_dispose(&p);
}
END_TEST

#define LINT_HOOK "hooks:\n  pre_execute:\n    - builtin: lint\n"

/* migrate up on a project whose 0002 holds sql; the exit status */
static int migrate_with(const char *extra, const char *sql, char **err)
{
	project p;
	tu_result r;
	int status;

	project_init(&p, NULL, extra);
	tu_write(p.dir, "db/migrations/0002_change.up.sql", sql);
	free(tu_git_commit(p.dir, "Bob", "bob@example.com", 1700000100, "change"));
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	status = r.status;
	*err = strdup(r.err ? r.err : "");
	tu_result_dispose(&r);
	project_dispose(&p);
	return status;
}

START_TEST(test_lint_section_reaches_the_migrate_hook)
{
	char *err;

	/* without a lint: section, DROP TABLE is an error: vetoed */
	ck_assert_int_ne(migrate_with(LINT_HOOK, "DROP TABLE customers;\n", &err), 0);
	ck_assert_msg(tu_contains(err, "lint error"), "%s", err);
	free(err);
	/* accepted for that version in cairn.yaml: it runs */
	ck_assert_msg(migrate_with(LINT_HOOK "lint:\n  allow:\n    \"0002\": [destructive]\n",
				   "DROP TABLE customers;\n", &err) == 0, "%s", err);
	free(err);
	/* disabled everywhere: it runs */
	ck_assert_msg(migrate_with(LINT_HOOK "lint:\n  disable: [destructive]\n",
				   "DROP TABLE customers;\n", &err) == 0, "%s", err);
	free(err);
	/* a warning raised to an error by a severity override: vetoed */
	ck_assert_int_eq(migrate_with(LINT_HOOK, "CREATE INDEX i ON orders (total);\n",
				      &err), 0);
	free(err);
	ck_assert_int_ne(migrate_with(LINT_HOOK "lint:\n  severity:\n    index-not-concurrent: error\n",
				      "CREATE INDEX i ON orders (total);\n", &err), 0);
	ck_assert_msg(tu_contains(err, "index-not-concurrent"), "%s", err);
	free(err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lint_locks_cli");
	TCase *tc = tcase_create("lint");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_lint_json_carries_locks);
	tcase_add_test(tc, test_default_lints_pending_and_changed);
	tcase_add_test(tc, test_without_a_database_lints_everything);
	tcase_add_test(tc, test_lint_section_reaches_the_migrate_hook);
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
