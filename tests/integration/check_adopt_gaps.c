/*
 * check_adopt_gaps.c - gaps left by the adoption features of issue 13
 * (dotted versions, per-directory versions, repeatables): the real cairn
 * binary on real git repositories and a real PostgreSQL server, a fresh
 * database per test.
 *
 * Covered: `plan A..B` lists repeatables changed in the range; the
 * pre-push check lints new and changed repeatables; its base for a new
 * branch (the remote-tracking boundary holding the most migrations) is
 * found in the golang-migrate, dbmate and flyway layouts too; lint's
 * allow: keys match any spelling of a version; `import flyway --format
 * json` lists the repeatables it records or leaves pending; validate
 * counts the repeatables it checked (text and JSON); dotted versions
 * and per-directory versions each compose with repeatables through
 * migrate up, status and migrate down.
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "project.h"
#include "testutil.h"

typedef tu_project project;
#define project_dispose tu_project_dispose
#define assert_q tu_project_assert_q

static void project_init(project *p, const char *extra)
{
	tu_project_init(p, "gaps", extra);
}

static void commit(project *p)
{
	free(tu_git_commit(p->dir, "Gail Gap", "gail@example.com",
			   1700000000L, "migrations"));
}

static void run_ok(project *p, tu_result *r, const char *a, const char *b,
		   const char *c)
{
	tu_cairn(r, p->dir, a, b, c, NULL);
	ck_assert_msg(r->status == 0, "cairn %s %s %s: %d\n%s%s", a,
		      b ? b : "", c ? c : "", r->status, r->out, r->err);
}

/* plan A..B: repeatables added, changed and removed in the range. */
START_TEST(test_plan_range_repeatables)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/views/v_same.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_same AS SELECT * FROM t;\n");
	tu_write(p.dir, "db/migrations/views/v_edit.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_edit AS SELECT * FROM t;\n");
	tu_write(p.dir, "db/migrations/views/v_gone.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_gone AS SELECT * FROM t;\n");
	commit(&p);
	ck_assert_int_eq(tu_sh(p.dir, "git tag v1"), 0);
	tu_write(p.dir, "db/migrations/0002_u.up.sql", "CREATE TABLE u (id int);\n");
	tu_write(p.dir, "db/migrations/views/v_edit.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_edit AS SELECT id, 2 AS two FROM t;\n");
	tu_write(p.dir, "db/migrations/views/v_new.repeatable.sql",
		 "CREATE OR REPLACE VIEW v_new AS SELECT * FROM t;\n");
	ck_assert_int_eq(tu_sh(p.dir, "git rm -q db/migrations/views/v_gone.repeatable.sql"), 0);
	commit(&p);
	ck_assert_int_eq(tu_sh(p.dir, "git tag v2"), 0);

	run_ok(&p, &r, "plan", "v1..v2", NULL);
	ck_assert_msg(tu_contains(r.out, "added    0002   u") &&
		      tu_contains(r.out, "changed  R      v_edit") &&
		      tu_contains(r.out, "added    R      v_new") &&
		      tu_contains(r.out, "removed  R      v_gone") &&
		      !tu_contains(r.out, "v_same") &&
		      tu_contains(r.out, "Gail Gap"), "%s", r.out);
	tu_result_dispose(&r);

	run_ok(&p, &r, "plan", "v1..v2", "--format=json");
	ck_assert_msg(tu_contains(r.out, "\"repeatable\": true") &&
		      tu_contains(r.out, "\"repeatable\": false") &&
		      tu_contains(r.out, "\"name\": \"v_edit\"") &&
		      tu_contains(r.out, "\"name\": \"v_new\"") &&
		      tu_contains(r.out, "\"name\": \"v_gone\"") &&
		      !tu_contains(r.out, "v_same"), "%s", r.out);
	tu_result_dispose(&r);

	run_ok(&p, &r, "plan", "v1..v2", "--format=markdown");
	ck_assert_msg(tu_contains(r.out, "v_edit") && tu_contains(r.out, "v_new") &&
		      tu_contains(r.out, "v_gone") && tu_contains(r.out, "epeatable"),
		      "%s", r.out);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static void push(project *p, tu_result *r)
{
	tu_run(r, p->dir, (const char *const[]){ "git", "push", "origin",
						 "main", NULL }, NULL, NULL);
}

/* A bare remote with what p has committed pushed, and cairn's hooks. */
static char *remote_init(project *p)
{
	char *remote = tu_mkdtemp();
	tu_result r;

	ck_assert_int_eq(tu_sh(remote, "git init -q --bare -b main ."), 0);
	ck_assert_int_eq(tu_sh(p->dir, "git remote add origin '%s' && "
			       "git push -q origin main", remote), 0);
	run_ok(p, &r, "githooks", "install", NULL);
	tu_result_dispose(&r);
	return remote;
}

/* pre-push: lint rules run on new and changed repeatables. */
START_TEST(test_prepush_lints_repeatables)
{
	project p;
	tu_result r;
	char *remote;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/v.repeatable.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT * FROM t;\n");
	commit(&p);
	remote = remote_init(&p);

	/* a changed repeatable that drops a table: refused, named */
	tu_write(p.dir, "db/migrations/v.repeatable.sql",
		 "DROP TABLE t;\nCREATE OR REPLACE VIEW v AS SELECT 1 AS one;\n");
	commit(&p);
	push(&p, &r);
	ck_assert_msg(r.status != 0 && tu_contains(r.err, "destructive") &&
		      tu_contains(r.err, "v.repeatable.sql"),
		      "push: %d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(tu_sh(p.dir, "git reset -q --hard HEAD~1"), 0);

	/* a new one that does: refused */
	tu_write(p.dir, "db/migrations/grants/w.repeatable.sql",
		 "DROP TABLE t;\n");
	commit(&p);
	push(&p, &r);
	ck_assert_msg(r.status != 0 && tu_contains(r.err, "destructive") &&
		      tu_contains(r.err, "w.repeatable.sql"),
		      "push: %d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(tu_sh(p.dir, "git reset -q --hard HEAD~1"), 0);

	/* a harmless change and a harmless new one: accepted */
	tu_write(p.dir, "db/migrations/v.repeatable.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT id, 1 AS one FROM t;\n");
	tu_write(p.dir, "db/migrations/grants/w.repeatable.sql",
		 "GRANT SELECT ON t TO PUBLIC;\n");
	commit(&p);
	push(&p, &r);
	ck_assert_msg(r.status == 0, "push: %d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	tu_rmrf(remote);
	free(remote);
	project_dispose(&p);
}
END_TEST

static void commit_at(project *p, long when)
{
	free(tu_git_commit(p->dir, "Gail Gap", "gail@example.com", when,
			   "change"));
}

/* One layout's file names for the base test. */
struct layout_case {
	const char *yaml;
	const char *first, *second, *third;   /* migration files */
	const char *body1, *body2, *body2_edit, *body3;
};

/*
 * The remote has main (two migrations) and docs, a newer branch made
 * before the second migration.  A new branch merging both has two
 * boundaries: its base must be main's tip, the one holding the most
 * migrations, so that an edit of the second migration is refused and a
 * new third migration accepted.
 */
static void base_case(const struct layout_case *lc)
{
	project p;
	tu_result r;
	char *remote;

	project_init(&p, lc->yaml);
	tu_write(p.dir, lc->first, lc->body1);
	commit_at(&p, 1700000000L);
	ck_assert_int_eq(tu_sh(p.dir, "git branch docs"), 0);
	tu_write(p.dir, lc->second, lc->body2);
	commit_at(&p, 1700000100L);
	remote = remote_init(&p);
	ck_assert_int_eq(tu_sh(p.dir, "git checkout -q docs"), 0);
	tu_write(p.dir, "docs/README", "docs\n");
	commit_at(&p, 1700000900L);
	ck_assert_int_eq(tu_sh(p.dir, "CAIRN_SKIP=1 git push -q origin docs"), 0);

	/* feature: main and docs merged, then the pushed second migration edited */
	ck_assert_int_eq(tu_sh(p.dir, "git checkout -q -b feature main && "
			       "GIT_AUTHOR_DATE=@1700001000 GIT_COMMITTER_DATE=@1700001000 "
			       "git merge -q --no-edit docs"), 0);
	tu_write(p.dir, lc->second, lc->body2_edit);
	commit_at(&p, 1700001100L);
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "feature", NULL }, NULL, NULL);
	ck_assert_msg(r.status != 0 && tu_contains(r.err, "edited-after-push"),
		      "%s: push of an edit: %d\n%s%s", lc->yaml, r.status,
		      r.out, r.err);
	tu_result_dispose(&r);

	/* the same branch with a new migration instead: accepted */
	ck_assert_int_eq(tu_sh(p.dir, "git reset -q --hard HEAD~1"), 0);
	tu_write(p.dir, lc->third, lc->body3);
	commit_at(&p, 1700001200L);
	tu_run(&r, p.dir, (const char *const[]){ "git", "push", "origin",
						 "feature", NULL }, NULL, NULL);
	ck_assert_msg(r.status == 0, "%s: push of a new one: %d\n%s%s",
		      lc->yaml, r.status, r.out, r.err);
	tu_result_dispose(&r);
	tu_rmrf(remote);
	free(remote);
	project_dispose(&p);
}

START_TEST(test_prepush_base_flyway)
{
	static const struct layout_case lc = {
		"layout: flyway\n",
		"db/migrations/V1.1__a.sql", "db/migrations/V1.2__b.sql",
		"db/migrations/V1.10__c.sql",
		"CREATE TABLE a (id int);\n", "CREATE TABLE b (id int);\n",
		"CREATE TABLE b (id bigint);\n", "CREATE TABLE c (id int);\n",
	};

	base_case(&lc);
}
END_TEST

START_TEST(test_prepush_base_dbmate)
{
	static const struct layout_case lc = {
		"layout: dbmate\n",
		"db/migrations/20240101000000_a.sql",
		"db/migrations/20240102000000_b.sql",
		"db/migrations/20240103000000_c.sql",
		"-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n",
		"-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n",
		"-- migrate:up\nCREATE TABLE b (id bigint);\n-- migrate:down\nDROP TABLE b;\n",
		"-- migrate:up\nCREATE TABLE c (id int);\n-- migrate:down\nDROP TABLE c;\n",
	};

	base_case(&lc);
}
END_TEST

START_TEST(test_prepush_base_golang_migrate)
{
	static const struct layout_case lc = {
		"layout: golang-migrate\ndialect: postgres\n",
		"db/migrations/0001_1.6.0_a.postgres.up.sql",
		"db/migrations/0002_1.7.0_b.postgres.up.sql",
		"db/migrations/0003_1.8.0_c.postgres.up.sql",
		"CREATE TABLE a (id int);\n", "CREATE TABLE b (id int);\n",
		"CREATE TABLE b (id bigint);\n", "CREATE TABLE c (id int);\n",
	};

	base_case(&lc);
}
END_TEST

/* cairn lint with `allow:` key `key`; whether the destructive finding stays. */
static void lint_allow(const char *layout, const char *file, const char *key,
		       bool allowed)
{
	project p;
	tu_result r;
	char extra[512];

	snprintf(extra, sizeof(extra),
		 "%slint:\n  allow:\n    \"%s\": [destructive]\n", layout, key);
	project_init(&p, extra);
	tu_write(p.dir, file, "DROP TABLE legacy;\n");
	commit(&p);
	tu_cairn(&r, p.dir, "lint", NULL);
	if (allowed)
		ck_assert_msg(r.status == 0 && !tu_contains(r.out, "destructive"),
			      "%s allow '%s': %d\n%s%s", file, key, r.status,
			      r.out, r.err);
	else
		ck_assert_msg(r.status != 0 && tu_contains(r.out, "destructive"),
			      "%s allow '%s': %d\n%s%s", file, key, r.status,
			      r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}

/* lint allow: "1.2.0", "1.2", "1_2" and "01.02" name one version. */
START_TEST(test_lint_allow_version_order)
{
	lint_allow("layout: flyway\n", "db/migrations/V1.2__drop.sql", "1.2.0", true);
	lint_allow("layout: flyway\n", "db/migrations/V1.2.0__drop.sql", "1.2", true);
	lint_allow("layout: flyway\n", "db/migrations/V1_2__drop.sql", "01.02", true);
	lint_allow("", "db/migrations/1.2_drop.up.sql", "1.2.0", true);
	lint_allow("", "db/migrations/0042_drop.up.sql", "42", true);
	/* another version still gets the finding */
	lint_allow("layout: flyway\n", "db/migrations/V1.2__drop.sql", "1.20", false);
	lint_allow("layout: flyway\n", "db/migrations/V1.2__drop.sql", "1.2.1", false);
	lint_allow("", "db/migrations/views.repeatable.sql", "1", false);
}
END_TEST

/*
 * Flyway's checksum of dir/rel computed without cairn: BOM and line
 * terminators removed, CRC-32 from gzip's trailer, as a signed int.
 */
static long flyway_sum(const char *dir, const char *rel)
{
	char *out = tu_sh_out(dir,
		"sed '1s/^\\xef\\xbb\\xbf//' '%s' | tr -d '\\r\\n' | gzip -c | "
		"tail -c8 | od -An -tu4 -N4 | tr -d ' '", rel);
	unsigned long u;

	ck_assert_msg(out && *out, "no checksum for %s", rel);
	u = strtoul(out, NULL, 10);
	free(out);
	return u > 0x7fffffffUL ? (long)u - 0x100000000L : (long)u;
}

/* import flyway --format json: the repeatables, recorded or pending. */
START_TEST(test_import_flyway_json_repeatables)
{
	project p;
	tu_result r;
	long views;
	char sql[4096], want[256];
	char *v;

	project_init(&p, "layout: flyway\n");
	tu_write(p.dir, "db/migrations/V1.1__t.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/R__views.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT id FROM t;\n");
	tu_write(p.dir, "db/migrations/R__funcs.sql",
		 "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 2';\n");
	views = flyway_sum(p.dir, "db/migrations/R__views.sql");
	commit(&p);
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE flyway_schema_history ("
		 " installed_rank integer PRIMARY KEY, version varchar(50),"
		 " description varchar(200) NOT NULL, type varchar(20) NOT NULL,"
		 " script varchar(1000) NOT NULL, checksum integer,"
		 " installed_by varchar(100) NOT NULL,"
		 " installed_on timestamp NOT NULL DEFAULT now(),"
		 " execution_time integer NOT NULL, success boolean NOT NULL);"
		 "CREATE TABLE t (id int);"
		 "CREATE VIEW v AS SELECT id FROM t;"
		 "INSERT INTO flyway_schema_history VALUES "
		 "(1, '1.1', 't', 'SQL', 'V1.1__t.sql', 11, 'frank', '2023-04-01 10:00:00', 5, true),"
		 "(2, NULL, 'views', 'SQL', 'R__views.sql', %ld, 'frank', '2023-04-01 10:00:01', 5, true),"
		 "(3, NULL, 'funcs', 'SQL', 'R__funcs.sql', 4242, 'frank', '2023-04-01 10:00:02', 5, true),"
		 "(4, NULL, 'gone', 'SQL', 'R__gone.sql', 7, 'frank', '2023-04-01 10:00:03', 5, true)",
		 views);
	ck_assert_int_eq(tu_db_exec(p.url, sql), 0);

	/* the dry run: the same list, "would" states, nothing written */
	tu_cairn(&r, p.dir, "import", "flyway", "--dry-run", "--format=json", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	snprintf(want, sizeof(want), "\"flyway_checksum\": %ld", views);
	ck_assert_msg(tu_contains(r.out, "\"repeatables\"") &&
		      tu_contains(r.out, "\"script\": \"R__views.sql\"") &&
		      tu_contains(r.out, "\"script\": \"R__funcs.sql\"") &&
		      tu_contains(r.out, "\"script\": \"R__gone.sql\"") &&
		      tu_contains(r.out, "\"state\": \"applied\"") &&
		      tu_contains(r.out, "\"state\": \"pending\"") &&
		      tu_contains(r.out, "\"state\": \"missing\"") &&
		      tu_contains(r.out, want) &&
		      tu_contains(r.out, "\"name\": \"views\""), "%s", r.out);
	tu_result_dispose(&r);
	v = tu_db_value(p.url, "SELECT to_regclass('cairn.repeatables') IS NULL");
	ck_assert_msg(v && !strcmp(v, "t"), "dry run wrote: %s", v ? v : "(null)");
	free(v);

	/* the import: views recorded, funcs pending, the JSON says so */
	tu_cairn(&r, p.dir, "import", "flyway", "--format=json", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "\"state\": \"applied\"") &&
		      tu_contains(r.out, "\"state\": \"pending\"") &&
		      tu_contains(r.out, "\"installed_by\": \"frank\""), "%s", r.out);
	tu_result_dispose(&r);
	v = tu_db_value(p.url, "SELECT string_agg(name, ',' ORDER BY name) FROM cairn.repeatables");
	ck_assert_msg(v && !strcmp(v, "views"), "recorded: %s", v ? v : "(null)");
	free(v);
	project_dispose(&p);
}
END_TEST

/* validate: "N migrations and K repeatables checked", JSON alike. */
START_TEST(test_validate_counts_repeatables)
{
	project p;
	tu_result r;

	project_init(&p, NULL);
	tu_write(p.dir, "db/migrations/0001_t.up.sql", "CREATE TABLE t (id int);\n");
	tu_write(p.dir, "db/migrations/0002_u.up.sql", "CREATE TABLE u (id int);\n");
	tu_write(p.dir, "db/migrations/v.repeatable.sql",
		 "CREATE OR REPLACE VIEW v AS SELECT * FROM t;\n");
	tu_write(p.dir, "db/migrations/w.repeatable.sql",
		 "CREATE OR REPLACE VIEW w AS SELECT * FROM u;\n");
	tu_write(p.dir, "db/migrations/x.repeatable.sql",
		 "CREATE OR REPLACE VIEW x AS SELECT 1 AS one;\n");
	commit(&p);
	run_ok(&p, &r, "validate", NULL, NULL);
	ck_assert_msg(tu_contains(r.err, "2 migrations and 3 repeatables checked, 0 errors"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	run_ok(&p, &r, "validate", "--format=json", NULL);
	ck_assert_msg(tu_contains(r.out, "\"checked\": 2") &&
		      tu_contains(r.out, "\"checked_repeatables\": 3"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	/* one of each: singular; none: the sentence as before */
	ck_assert_int_eq(tu_sh(p.dir, "git rm -q db/migrations/0002_u.up.sql "
			       "db/migrations/w.repeatable.sql db/migrations/x.repeatable.sql"), 0);
	commit(&p);
	run_ok(&p, &r, "validate", NULL, NULL);
	ck_assert_msg(tu_contains(r.err, "1 migration and 1 repeatable checked, 0 errors"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(tu_sh(p.dir, "git rm -q db/migrations/v.repeatable.sql"), 0);
	commit(&p);
	run_ok(&p, &r, "validate", "--format=json", NULL);
	ck_assert_msg(tu_contains(r.out, "\"checked\": 1") &&
		      tu_contains(r.out, "\"checked_repeatables\": 0"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	run_ok(&p, &r, "validate", NULL, NULL);
	ck_assert_msg(tu_contains(r.err, "1 migration checked, 0 errors"),
		      "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

#define EVENT_ORDER(outcome) \
	"SELECT string_agg(coalesce(version, 'R:' || name), ',' ORDER BY id) " \
	"FROM cairn.audit WHERE outcome = '" outcome "'"

/* The steps both composition tests take, on the files they wrote. */
struct compose_case {
	const char *down_to;          /* migrate down --to */
	const char *repeatable;       /* its file */
	const char *applied_first;    /* the audit's applied order after up */
	const char *rolled_back;      /* ... rolled back after down */
	const char *remaining;        /* cairn.migrations after down */
	const char *applied_after;    /* applied after the second up */
	const char *pending;          /* status after down: "N pending" */
};

static void status_says(project *p, const char *a, const char *b)
{
	tu_result r;

	run_ok(p, &r, "status", NULL, NULL);
	ck_assert_msg(tu_contains(r.out, a) && tu_contains(r.out, b),
		      "want '%s' and '%s':\n%s", a, b, r.out);
	tu_result_dispose(&r);
}

static void compose(project *p, const struct compose_case *cc)
{
	tu_result r;

	commit(p);
	run_ok(p, &r, "validate", NULL, NULL);
	tu_result_dispose(&r);
	status_says(p, "4 pending", "repeatable: 0 current, 1 pending");
	run_ok(p, &r, "migrate", "up", NULL);
	ck_assert_msg(tu_contains(r.out, "applied 5 migrations"), "%s", r.out);
	tu_result_dispose(&r);
	assert_q(p, EVENT_ORDER("applied"), cc->applied_first);
	assert_q(p, "SELECT count(*) FROM pg_views WHERE viewname = 'va'", "1");
	status_says(p, "4 applied", "repeatable: 1 current, 0 pending");

	/* down: the versioned ones go, the repeatable and its view stay */
	tu_cairn(&r, p->dir, "migrate", "down", "--to", cc->down_to, NULL);
	ck_assert_msg(r.status == 0, "down: %d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	assert_q(p, EVENT_ORDER("rolled_back"), cc->rolled_back);
	assert_q(p, "SELECT string_agg(version, ',' ORDER BY applied_at, version) "
		    "FROM cairn.migrations", cc->remaining);
	assert_q(p, "SELECT count(*) FROM pg_views WHERE viewname = 'va'", "1");
	assert_q(p, "SELECT count(*) FROM cairn.repeatables", "1");
	status_says(p, cc->pending, "repeatable: 1 current, 0 pending");

	/* the repeatable changed: up applies the versioned ones, then it */
	tu_write(p->dir, cc->repeatable,
		 "CREATE OR REPLACE VIEW va AS SELECT id, 2 AS two FROM a;\n");
	commit(p);
	status_says(p, cc->pending, "repeatable: 0 current, 0 pending, 1 changed");
	run_ok(p, &r, "migrate", "up", NULL);
	tu_result_dispose(&r);
	assert_q(p, EVENT_ORDER("applied"), cc->applied_after);
	assert_q(p, "SELECT count(*) FROM information_schema.columns "
		    "WHERE table_name = 'va' AND column_name = 'two'", "1");
	status_says(p, "4 applied", "repeatable: 1 current, 0 pending");
	run_ok(p, &r, "audit", "verify", NULL);
	tu_result_dispose(&r);
}

#define VIEW_A "CREATE OR REPLACE VIEW va AS SELECT id FROM a;\n"

/* Flyway's dotted versions (1 < 1.9 < 1.10 < 2) with an R__ file. */
START_TEST(test_compose_dotted_repeatable)
{
	static const struct compose_case cc = {
		"1", "db/migrations/R__views.sql",
		"1,1.9,1.10,2,R:views", "2,1.10,1.9", "1",
		"1,1.9,1.10,2,R:views,1.9,1.10,2,R:views", "3 pending",
	};
	static const char *const t[] = { "a", "b", "c", "d" };
	static const char *const v[] = { "1", "1.9", "1.10", "2" };
	project p;

	project_init(&p, "layout: flyway\n");
	for (int i = 0; i < 4; i++) {
		char up[128], down[128], sql[128];

		snprintf(up, sizeof(up), "db/migrations/V%s__%s.sql", v[i], t[i]);
		snprintf(down, sizeof(down), "db/migrations/U%s__%s.sql", v[i], t[i]);
		snprintf(sql, sizeof(sql), "CREATE TABLE %s (id int);\n", t[i]);
		tu_write(p.dir, up, sql);
		snprintf(sql, sizeof(sql), "DROP TABLE %s;\n", t[i]);
		tu_write(p.dir, down, sql);
	}
	tu_write(p.dir, cc.repeatable, VIEW_A);
	compose(&p, &cc);
	project_dispose(&p);
}
END_TEST

/* cairn's own dotted names (1.2_x) with a <name>.repeatable.sql. */
START_TEST(test_compose_dotted_cairn_repeatable)
{
	static const struct compose_case cc = {
		"1", "db/migrations/views/views.repeatable.sql",
		"1,1.9,1.10,2,R:views", "2,1.10,1.9", "1",
		"1,1.9,1.10,2,R:views,1.9,1.10,2,R:views", "3 pending",
	};
	static const char *const t[] = { "a", "b", "c", "d" };
	static const char *const v[] = { "1", "1.9", "1.10", "2" };
	project p;

	project_init(&p, NULL);
	for (int i = 0; i < 4; i++) {
		char up[128], down[128], sql[128];

		snprintf(up, sizeof(up), "db/migrations/%s_%s.up.sql", v[i], t[i]);
		snprintf(down, sizeof(down), "db/migrations/%s_%s.down.sql", v[i], t[i]);
		snprintf(sql, sizeof(sql), "CREATE TABLE %s (id int);\n", t[i]);
		tu_write(p.dir, up, sql);
		snprintf(sql, sizeof(sql), "DROP TABLE %s;\n", t[i]);
		tu_write(p.dir, down, sql);
	}
	tu_write(p.dir, cc.repeatable, VIEW_A);
	compose(&p, &cc);
	project_dispose(&p);
}
END_TEST

/* versions: per-directory (0/1 < 0/2 < 1/1 < 10/1) with a repeatable. */
START_TEST(test_compose_per_directory_repeatable)
{
	static const struct compose_case cc = {
		"0/02", "db/migrations/1/views.repeatable.sql",
		"0/1,0/2,1/1,10/1,R:views", "10/1,1/1", "0/1,0/2",
		"0/1,0/2,1/1,10/1,R:views,1/1,10/1,R:views", "2 pending",
	};
	static const char *const t[] = { "a", "b", "c", "d" };
	static const char *const v[] = { "0/01", "0/02", "1/01", "10/01" };
	project p;

	project_init(&p, "versions: per-directory\n");
	for (int i = 0; i < 4; i++) {
		char up[128], down[128], sql[128];

		snprintf(up, sizeof(up), "db/migrations/%s_%s.up.sql", v[i], t[i]);
		snprintf(down, sizeof(down), "db/migrations/%s_%s.down.sql", v[i], t[i]);
		snprintf(sql, sizeof(sql), "CREATE TABLE %s (id int);\n", t[i]);
		tu_write(p.dir, up, sql);
		snprintf(sql, sizeof(sql), "DROP TABLE %s;\n", t[i]);
		tu_write(p.dir, down, sql);
	}
	tu_write(p.dir, cc.repeatable, VIEW_A);
	compose(&p, &cc);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("adopt_gaps");
	TCase *tc = tcase_create("adopt_gaps");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_plan_range_repeatables);
	tcase_add_test(tc, test_prepush_lints_repeatables);
	tcase_add_test(tc, test_prepush_base_flyway);
	tcase_add_test(tc, test_prepush_base_dbmate);
	tcase_add_test(tc, test_prepush_base_golang_migrate);
	tcase_add_test(tc, test_lint_allow_version_order);
	tcase_add_test(tc, test_import_flyway_json_repeatables);
	tcase_add_test(tc, test_validate_counts_repeatables);
	tcase_add_test(tc, test_compose_dotted_repeatable);
	tcase_add_test(tc, test_compose_dotted_cairn_repeatable);
	tcase_add_test(tc, test_compose_per_directory_repeatable);
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
