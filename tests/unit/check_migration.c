/*
 * check_migration.c - unit tests for migration sets, file names and
 * directives (include/cairn/migration.h, src/migration.c,
 * src/directive.c).
 *
 * Every test that needs a repository makes its own with the git program
 * (tu_git_repo, tu_write, tu_git_commit) in a fresh temporary directory,
 * loads it through the library and checks the migrations and findings
 * that come out.  Nothing depends on another test or on the caller's git
 * configuration.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/migration.h"
#include "cairn/repo.h"
#include "testutil.h"

/* --- helpers ------------------------------------------------------------ */

static cairn_repo *open_repo(const char *dir)
{
	cairn_repo *repo = NULL;

	if (cairn_repo_open(&repo, dir) != 0)
		ck_abort_msg("open %s: %s", dir, cairn_error_last()->message);
	return repo;
}

static cairn_migration_set *load(cairn_repo *repo, const char *rev)
{
	cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;
	cairn_migration_set *set = NULL;

	opts.rev = rev;
	if (cairn_migration_set_load(&set, repo, &opts) != 0)
		ck_abort_msg("load: %s", cairn_error_last()->message);
	return set;
}

/* The number of findings with code, and the first of them. */
static size_t count_code(const cairn_migration_set *set, const char *code,
			 const cairn_finding **first)
{
	const cairn_findings *fl = cairn_migration_set_findings(set);
	size_t i, n = 0;

	if (first)
		*first = NULL;
	for (i = 0; i < fl->count; i++) {
		if (strcmp(fl->items[i].code, code) != 0)
			continue;
		if (first && !*first)
			*first = &fl->items[i];
		n++;
	}
	return n;
}

static const cairn_finding *finding_for(const cairn_migration_set *set,
					const char *code, const char *file)
{
	const cairn_findings *fl = cairn_migration_set_findings(set);
	size_t i;

	for (i = 0; i < fl->count; i++)
		if (!strcmp(fl->items[i].code, code) && fl->items[i].file &&
		    !strcmp(fl->items[i].file, file))
			return &fl->items[i];
	return NULL;
}

static void commit(const char *dir, const char *msg)
{
	free(tu_git_commit(dir, "Ada Lovelace", "ada@example.com",
			   1700000000, msg));
}

/* --- file names ---------------------------------------------------------- */

START_TEST(test_parse_filename)
{
	static const struct {
		const char *name;
		bool ok;
		size_t vlen;
		const char *n;
		bool down;
	} cases[] = {
		{ "0001_create_users.up.sql", true, 4, "create_users", false },
		{ "42_x.down.sql", true, 2, "x", true },
		{ "1_a-b_C9.up.sql", true, 1, "a-b_C9", false },
		{ "12345678901234567890_max.up.sql", true, 20, "max", false },
		{ "123456789012345678901_long.up.sql", false, 0, NULL, false },
		{ "_x.up.sql", false, 0, NULL, false },
		{ "0001_.up.sql", false, 0, NULL, false },
		{ "0001.up.sql", false, 0, NULL, false },
		{ "0001_x.sql", false, 0, NULL, false },
		{ "0001_x.up.SQL", false, 0, NULL, false },
		{ "0001_x.up.sql.bak", false, 0, NULL, false },
		{ "0001_x y.up.sql", false, 0, NULL, false },
		{ "0001_x.y.up.sql", true, 4, "x.y", false },
		{ "0002_1.7.0_schema.up.sql", true, 4, "1.7.0_schema", false },
		{ "0001_.x.up.sql", false, 0, NULL, false },
		{ "0001_x..up.sql", false, 0, NULL, false },
		{ "0001_x.UP.sql", false, 0, NULL, false },
		{ "x0001_x.up.sql", false, 0, NULL, false },
		{ "0001_\xc3\xa9.up.sql", false, 0, NULL, false },
		{ "", false, 0, NULL, false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t vlen = 99, nlen = 99;
		const char *name = NULL;
		bool down = false;
		bool ok = cairn_migration_parse_filename(cases[i].name, &vlen,
							 &name, &nlen, &down);

		ck_assert_msg(ok == cases[i].ok, "%s", cases[i].name);
		if (!ok)
			continue;
		ck_assert_uint_eq(vlen, cases[i].vlen);
		ck_assert_uint_eq(nlen, strlen(cases[i].n));
		ck_assert(!strncmp(name, cases[i].n, nlen));
		ck_assert(down == cases[i].down);
	}
	ck_assert(!cairn_migration_parse_filename(NULL, NULL, NULL, NULL,
						  NULL));
	ck_assert(cairn_migration_parse_filename("7_x.up.sql", NULL, NULL,
						 NULL, NULL));
}
END_TEST

/* --- directives ---------------------------------------------------------- */

START_TEST(test_directives_basic)
{
	const char *sql =
		"\xEF\xBB\xBF-- create the index without locking\r\n"
		"\n"
		"-- cairn: no-transaction\r\n"
		"--cairn:statement-timeout=5min\n"
		"  -- cairn: lock-timeout = 10s  \n"
		"-- cairn: allow destructive, lint/index-concurrently\n"
		"-- cairn: allow big-rewrite destructive\n"
		"CREATE INDEX CONCURRENTLY i ON t (c);\n"
		"-- cairn: nonsense-after-sql\n";
	cairn_findings fl = CAIRN_FINDINGS_INIT;
	cairn_directives d;

	ck_assert_int_eq(cairn_directives_parse(&d, sql, strlen(sql),
						"x.up.sql", &fl), 0);
	ck_assert_uint_eq(fl.count, 0);
	ck_assert(d.no_transaction);
	ck_assert_str_eq(d.statement_timeout, "5min");
	ck_assert_uint_eq(d.statement_timeout_ms, 300000);
	ck_assert_str_eq(d.lock_timeout, "10s");
	ck_assert_uint_eq(d.lock_timeout_ms, 10000);
	ck_assert_uint_eq(d.allow_count, 3);
	ck_assert_str_eq(d.allow[0], "destructive");
	ck_assert_str_eq(d.allow[1], "lint/index-concurrently");
	ck_assert_str_eq(d.allow[2], "big-rewrite");
	ck_assert_ptr_null(d.allow[3]);
	ck_assert(cairn_directives_allows(&d, "destructive"));
	ck_assert(cairn_directives_allows(&d, "lint/destructive"));
	ck_assert(cairn_directives_allows(&d, "index-concurrently"));
	ck_assert(!cairn_directives_allows(&d, "not-null"));
	cairn_directives_dispose(&d);
	cairn_directives_dispose(&d); /* twice is fine */
	cairn_findings_dispose(&fl);
}
END_TEST

START_TEST(test_directives_none)
{
	cairn_findings fl = CAIRN_FINDINGS_INIT;
	cairn_directives d;
	const char *sql = "CREATE TABLE t ();\n-- cairn: no-transaction\n";

	ck_assert_int_eq(cairn_directives_parse(&d, sql, strlen(sql), "f",
						&fl), 0);
	ck_assert(!d.no_transaction);
	ck_assert_ptr_null(d.allow);
	ck_assert_uint_eq(fl.count, 0);
	cairn_directives_dispose(&d);

	ck_assert_int_eq(cairn_directives_parse(&d, "", 0, "f", &fl), 0);
	ck_assert_int_eq(cairn_directives_parse(&d, NULL, 0, "f", NULL), 0);
	/* "-- cairnx:" and "-- Cairn:" are ordinary comments */
	sql = "-- cairnx: no-transaction\n-- Cairn: bogus\nSELECT 1;";
	ck_assert_int_eq(cairn_directives_parse(&d, sql, strlen(sql), "f",
						&fl), 0);
	ck_assert(!d.no_transaction);
	ck_assert_uint_eq(fl.count, 0);
	cairn_directives_dispose(&d);
	ck_assert(!cairn_directives_allows(NULL, "x"));
	cairn_findings_dispose(&fl);
}
END_TEST

START_TEST(test_directives_unknown)
{
	const char *sql = "-- header\n"
			  "-- cairn: no-transactions\n"
			  "-- cairn: frobnicate\n"
			  "-- cairn: statement-timeout=5 fortnights\n"
			  "-- cairn: lock-timeout\n"
			  "-- cairn: allow\n"
			  "-- cairn: allow Destructive\n"
			  "-- cairn: no-transaction please\n"
			  "-- cairn:\n"
			  "-- cairn: allow-destructive\n"
			  "SELECT 1;\n";
	cairn_findings fl = CAIRN_FINDINGS_INIT;
	cairn_directives d;

	ck_assert_int_eq(cairn_directives_parse(&d, sql, strlen(sql),
						"db/migrations/1_x.up.sql",
						&fl), 0);
	ck_assert_uint_eq(fl.count, 9);
	ck_assert_str_eq(fl.items[0].code, "unknown-directive");
	ck_assert_uint_eq(fl.items[0].line, 2);
	ck_assert_str_eq(fl.items[0].file, "db/migrations/1_x.up.sql");
	ck_assert(tu_contains(fl.items[0].message, "'no-transactions'"));
	ck_assert(tu_contains(fl.items[0].hint,
			      "did you mean 'no-transaction'?"));
	ck_assert(tu_contains(fl.items[0].hint, "lock-timeout=DURATION"));
	ck_assert_str_eq(fl.items[1].code, "unknown-directive");
	ck_assert_uint_eq(fl.items[1].line, 3);
	ck_assert(!tu_contains(fl.items[1].hint, "did you mean"));
	ck_assert_str_eq(fl.items[2].code, "bad-directive");
	ck_assert_uint_eq(fl.items[2].line, 4);
	ck_assert(tu_contains(fl.items[2].message, "'5 fortnights'"));
	ck_assert_str_eq(fl.items[3].code, "bad-directive");
	ck_assert_uint_eq(fl.items[3].line, 5);
	ck_assert_str_eq(fl.items[4].code, "bad-directive");
	ck_assert_uint_eq(fl.items[4].line, 6);
	ck_assert_str_eq(fl.items[5].code, "bad-directive");
	ck_assert(tu_contains(fl.items[5].message, "'Destructive'"));
	ck_assert_str_eq(fl.items[6].code, "bad-directive");
	ck_assert_str_eq(fl.items[7].code, "bad-directive");
	ck_assert_uint_eq(fl.items[7].line, 9);
	ck_assert_str_eq(fl.items[8].code, "unknown-directive");
	ck_assert(tu_contains(fl.items[8].message, "'allow-destructive'"));
	ck_assert(!d.no_transaction);
	ck_assert_ptr_null(d.statement_timeout);
	ck_assert_uint_eq(d.allow_count, 0);
	for (size_t i = 0; i < fl.count; i++) {
		ck_assert_int_eq(fl.items[i].severity, CAIRN_SEVERITY_ERROR);
		ck_assert(!strchr(fl.items[i].message, '\n'));
	}
	cairn_directives_dispose(&d);
	cairn_findings_dispose(&fl);
}
END_TEST

START_TEST(test_directives_odd_bytes)
{
	static const char sql[] = "-- cairn: \x01\xff\n-- cairn: allow a\0b\n"
				  "-- cairn: statement-timeout=1\0s\n";
	cairn_findings fl = CAIRN_FINDINGS_INIT;
	cairn_directives d;
	size_t i;

	ck_assert_int_eq(cairn_directives_parse(&d, sql, sizeof(sql) - 1,
						"f", &fl), 0);
	ck_assert_uint_eq(fl.count, 3);
	ck_assert(tu_contains(fl.items[0].message, "\\x01\\xff"));
	for (i = 0; i < fl.count; i++)
		ck_assert(!strchr(fl.items[i].message, '\n'));
	cairn_directives_dispose(&d);
	cairn_findings_dispose(&fl);
}
END_TEST

START_TEST(test_directives_allow_all)
{
	const char *sql = "-- cairn: allow all\n";
	cairn_directives d;

	ck_assert_int_eq(cairn_directives_parse(&d, sql, strlen(sql), "f",
						NULL), 0);
	ck_assert(cairn_directives_allows(&d, "destructive"));
	ck_assert(cairn_directives_allows(&d, "lint/anything"));
	cairn_directives_dispose(&d);
}
END_TEST

/* --- loading ------------------------------------------------------------- */

START_TEST(test_load_basic)
{
	char *dir = tu_git_repo(), *blob, *tree;
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_migration *m;

	tu_write(dir, "db/migrations/0002_add_email.up.sql", "ALTER 2;\n");
	tu_write(dir, "db/migrations/0002_add_email.down.sql", "UNDO 2;\n");
	tu_write(dir, "db/migrations/0001_create_users.up.sql", "CREATE 1;\n");
	tu_write(dir, "db/migrations/billing/10_invoices.up.sql", "B 10;\n");
	tu_write(dir, "db/migrations/billing/eu/9_vat.up.sql", "B 9;\n");
	tu_write(dir, "db/migrations/README.md", "docs\n");
	tu_write(dir, "db/migrations/.keep", "");
	tu_write(dir, "db/migrations/.hidden/junk", "x");
	tu_write(dir, "src/app.c", "int main;\n");
	commit(dir, "first");

	repo = open_repo(dir);
	set = load(repo, NULL);
	ck_assert_uint_eq(cairn_migration_set_findings(set)->count, 0);
	ck_assert_uint_eq(cairn_migration_set_count(set), 4);
	ck_assert_str_eq(cairn_migration_set_dir(set), "db/migrations");
	ck_assert(!cairn_migration_set_is_worktree(set));
	ck_assert_uint_eq(strlen(cairn_migration_set_commit(set)), 40);
	tree = tu_sh_out(dir, "git rev-parse HEAD:db/migrations");
	ck_assert_str_eq(cairn_migration_set_tree(set), tree);
	free(tree);

	m = cairn_migration_set_get(set, 0);
	ck_assert_str_eq(m->version, "1");
	ck_assert_str_eq(m->version_text, "0001");
	ck_assert_str_eq(m->name, "create_users");
	ck_assert_str_eq(m->subdir, "");
	ck_assert_str_eq(m->up_path, "db/migrations/0001_create_users.up.sql");
	ck_assert_ptr_null(m->down_path);
	ck_assert_str_eq(m->down_blob, "");
	ck_assert(!m->content_loaded);
	ck_assert_ptr_null(m->up_sql);

	m = cairn_migration_set_get(set, 1);
	ck_assert_str_eq(m->version, "2");
	ck_assert_str_eq(m->down_path, "db/migrations/0002_add_email.down.sql");
	blob = tu_sh_out(dir, "git rev-parse "
			      "HEAD:db/migrations/0002_add_email.up.sql");
	ck_assert_str_eq(m->up_blob, blob);
	free(blob);
	blob = tu_sh_out(dir, "git rev-parse "
			      "HEAD:db/migrations/0002_add_email.down.sql");
	ck_assert_str_eq(m->down_blob, blob);
	free(blob);

	m = cairn_migration_set_get(set, 2);
	ck_assert_str_eq(m->version, "9");
	ck_assert_str_eq(m->subdir, "billing/eu");
	m = cairn_migration_set_get(set, 3);
	ck_assert_str_eq(m->version, "10");
	ck_assert_str_eq(m->subdir, "billing");
	ck_assert_str_eq(m->up_path,
			 "db/migrations/billing/10_invoices.up.sql");
	ck_assert_ptr_null(cairn_migration_set_get(set, 4));

	ck_assert_str_eq(cairn_migration_set_find(set, "0002")->name,
			 "add_email");
	ck_assert_str_eq(cairn_migration_set_find(set, "2")->name, "add_email");
	ck_assert_str_eq(cairn_migration_set_find(set, "00010")->name,
			 "invoices");
	ck_assert_ptr_null(cairn_migration_set_find(set, "3"));
	ck_assert_ptr_null(cairn_migration_set_find(set, "x"));
	ck_assert_ptr_null(cairn_migration_set_find(set, ""));
	ck_assert_str_eq(cairn_migration_set_max_version(set), "10");

	cairn_migration_set_free(set);
	cairn_migration_set_free(NULL);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_load_revisions)
{
	char *dir = tu_git_repo();
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;

	tu_write(dir, "README", "x\n");
	commit(dir, "no migrations yet");
	tu_write(dir, "db/migrations/1_a.up.sql", "A;\n");
	commit(dir, "one");
	tu_sh(dir, "git tag v1");
	tu_write(dir, "db/migrations/2_b.up.sql", "B;\n");
	commit(dir, "two");

	repo = open_repo(dir);
	set = load(repo, "HEAD");
	ck_assert_uint_eq(cairn_migration_set_count(set), 2);
	cairn_migration_set_free(set);
	set = load(repo, "v1");
	ck_assert_uint_eq(cairn_migration_set_count(set), 1);
	cairn_migration_set_free(set);
	set = load(repo, "HEAD~2");
	ck_assert_uint_eq(cairn_migration_set_count(set), 0);
	ck_assert_str_eq(cairn_migration_set_tree(set), "");
	ck_assert_ptr_null(cairn_migration_set_max_version(set));
	cairn_migration_set_free(set);

	opts.rev = "no-such-rev";
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts),
			 CAIRN_ENOTFOUND);
	ck_assert_ptr_null(set);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_GIT);
	ck_assert(tu_contains(cairn_error_last()->message, "'no-such-rev'"));

	/* a normalized directory, and one that is a file */
	opts.rev = NULL;
	opts.dir = "./db//migrations/";
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_str_eq(cairn_migration_set_dir(set), "db/migrations");
	ck_assert_uint_eq(cairn_migration_set_count(set), 2);
	cairn_migration_set_free(set);
	opts.dir = "README";
	ck_assert_int_lt(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_GIT);
	opts.dir = "../elsewhere";
	ck_assert_int_lt(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_USAGE);
	opts.dir = "/abs";
	ck_assert_int_lt(cairn_migration_set_load(&set, repo, &opts), 0);
	opts.dir = NULL;
	opts.version = 99;
	ck_assert_int_lt(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_USAGE);
	/* NULL options are the defaults */
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, NULL), 0);
	ck_assert_uint_eq(cairn_migration_set_count(set), 2);
	cairn_migration_set_free(set);

	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_odd_names)
{
	char *dir = tu_git_repo(), *path;
	cairn_repo *repo;
	cairn_migration_set *set;
	const cairn_findings *fl;
	const cairn_finding *f;
	size_t i;

	tu_write(dir, "db/migrations/1_ok.up.sql", "SELECT 1;\n");
	tu_write(dir, "db/migrations/2_has space.up.sql", "x");
	tu_write(dir, "db/migrations/3_it's.up.sql", "x");
	tu_write(dir, "db/migrations/4_$(touch pwned).up.sql", "x");
	tu_write(dir, "db/migrations/5_new\nline.up.sql", "x");
	tu_write(dir, "db/migrations/6_caf\xe9.up.sql", "x");
	tu_write(dir, "db/migrations/notes.txt", "x");
	tu_write(dir, "db/migrations/7_x.up.sql.orig", "x");
	tu_write(dir, "db/migrations/\"quoted\".sql", "x");
	tu_write(dir, "db/migrations/tab\there.sql", "x");
	commit(dir, "odd names");

	repo = open_repo(dir);
	set = load(repo, NULL);
	ck_assert_uint_eq(cairn_migration_set_count(set), 1);
	fl = cairn_migration_set_findings(set);
	ck_assert_uint_eq(fl->count, 9);
	ck_assert_uint_eq(count_code(set, "bad-name", &f), 9);
	ck_assert_int_eq(f->severity, CAIRN_SEVERITY_ERROR);
	ck_assert(tu_contains(f->hint, "<version>_<name>.up.sql"));
	for (i = 0; i < fl->count; i++) {
		ck_assert(!strchr(fl->items[i].message, '\n'));
		ck_assert(!strchr(fl->items[i].message, '\t'));
		ck_assert(!strncmp(fl->items[i].file, "db/migrations/", 14));
	}
	f = finding_for(set, "bad-name", "db/migrations/5_new\nline.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert(tu_contains(f->message, "5_new\\nline.up.sql"));
	f = finding_for(set, "bad-name", "db/migrations/6_caf\xe9.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert(tu_contains(f->message, "caf\\xe9"));
	f = finding_for(set, "bad-name", "db/migrations/notes.txt");
	ck_assert(tu_contains(f->message, "unexpected file 'notes.txt'"));
	ck_assert_ptr_nonnull(finding_for(set, "bad-name",
				"db/migrations/4_$(touch pwned).up.sql"));
	path = tu_read(dir, "pwned");
	ck_assert_ptr_null(path);
	path = tu_read(dir, "db/migrations/pwned");
	ck_assert_ptr_null(path);
	cairn_migration_set_free(set);

	/* the same through the working tree */
	{
		cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;

		opts.worktree = true;
		ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts),
				 0);
		ck_assert_uint_eq(cairn_migration_set_count(set), 1);
		ck_assert_uint_eq(count_code(set, "bad-name", NULL), 9);
		cairn_migration_set_free(set);
	}
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_ignore_globs)
{
	char *dir = tu_git_repo();
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;
	const char *const globs[] = { "*.txt", "legacy", "seeds/*.sql", "" };

	tu_write(dir, "db/migrations/1_a.up.sql", "A;\n");
	tu_write(dir, "db/migrations/notes.txt", "x");
	tu_write(dir, "db/migrations/sub/more.txt", "x");
	tu_write(dir, "db/migrations/legacy/old.sql", "x");
	tu_write(dir, "db/migrations/legacy/2_old.up.sql", "x");
	tu_write(dir, "db/migrations/seeds/users.sql", "x");
	tu_write(dir, "db/migrations/seeds/keep.csv", "x");
	tu_write(dir, "db/migrations/readme.md", "x");
	commit(dir, "with ignores");

	repo = open_repo(dir);
	opts.ignore = globs;
	opts.ignore_count = 4;
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_uint_eq(cairn_migration_set_count(set), 1);
	ck_assert_uint_eq(cairn_migration_set_findings(set)->count, 1);
	ck_assert_ptr_nonnull(finding_for(set, "bad-name",
					  "db/migrations/seeds/keep.csv"));
	cairn_migration_set_free(set);

	opts.ignore_count = 0;
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_uint_eq(cairn_migration_set_count(set), 2);
	ck_assert_uint_eq(count_code(set, "bad-name", NULL), 5);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_duplicates_and_missing_up)
{
	char *dir = tu_git_repo();
	cairn_repo *repo;
	cairn_migration_set *set;
	const cairn_finding *f;
	cairn_migration *m;

	tu_write(dir, "db/migrations/0042_first.up.sql", "A;\n");
	tu_write(dir, "db/migrations/0042_first.down.sql", "a;\n");
	tu_write(dir, "db/migrations/sub/42_second.up.sql", "B;\n");
	tu_write(dir, "db/migrations/sub/42_second.down.sql", "b;\n");
	tu_write(dir, "db/migrations/7_orphan.down.sql", "o;\n");
	tu_write(dir, "db/migrations/8_up.up.sql", "u;\n");
	tu_write(dir, "db/migrations/8_other.down.sql", "u;\n");
	tu_write(dir, "db/migrations/9_x.up.sql", "u;\n");
	tu_write(dir, "db/migrations/9_x.down.sql", "u;\n");
	tu_write(dir, "db/migrations/09_x.down.sql", "u;\n");
	commit(dir, "dups");

	repo = open_repo(dir);
	set = load(repo, NULL);
	ck_assert_uint_eq(count_code(set, "duplicate-version", NULL), 3);
	f = finding_for(set, "duplicate-version",
			"db/migrations/0042_first.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->version, "42");
	ck_assert(tu_contains(f->message, "sub/42_second.up.sql"));
	f = finding_for(set, "duplicate-version",
			"db/migrations/sub/42_second.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert(tu_contains(f->message, "0042_first.up.sql"));
	ck_assert_ptr_nonnull(finding_for(set, "duplicate-version",
					  "db/migrations/9_x.down.sql"));

	ck_assert_uint_eq(count_code(set, "missing-up", NULL), 2);
	f = finding_for(set, "missing-up", "db/migrations/7_orphan.down.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->version, "7");
	ck_assert(tu_contains(f->hint, "7_orphan.up.sql"));
	ck_assert_ptr_nonnull(finding_for(set, "missing-up",
					  "db/migrations/8_other.down.sql"));

	/* one migration per version stays in the set */
	ck_assert_uint_eq(cairn_migration_set_count(set), 3);
	m = cairn_migration_set_find(set, "42");
	ck_assert_str_eq(m->up_path, "db/migrations/0042_first.up.sql");
	ck_assert_str_eq(m->down_path, "db/migrations/0042_first.down.sql");
	m = cairn_migration_set_find(set, "8");
	ck_assert_ptr_null(m->down_path);
	m = cairn_migration_set_find(set, "9");
	ck_assert_ptr_nonnull(m->down_path);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_symlink_and_submodule)
{
	char *dir = tu_git_repo(), *head;
	cairn_repo *repo;
	cairn_migration_set *set;
	const cairn_finding *f;

	tu_write(dir, "db/migrations/1_a.up.sql", "A;\n");
	tu_write(dir, "elsewhere.sql", "DROP TABLE x;\n");
	ck_assert_int_eq(tu_sh(dir, "ln -s ../../elsewhere.sql "
				    "db/migrations/2_link.up.sql"), 0);
	commit(dir, "link");
	head = tu_sh_out(dir, "git rev-parse HEAD");
	ck_assert_int_eq(tu_sh(dir, "git update-index --add --cacheinfo "
				    "160000,%s,db/migrations/vendor && "
				    "git commit -q -m gitlink", head), 0);
	free(head);

	repo = open_repo(dir);
	set = load(repo, NULL);
	ck_assert_uint_eq(cairn_migration_set_count(set), 1);
	f = finding_for(set, "symlink", "db/migrations/2_link.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->version, "2");
	ck_assert_ptr_nonnull(f->hint);
	f = finding_for(set, "submodule", "db/migrations/vendor");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_null(f->version);
	ck_assert_uint_eq(cairn_migration_set_findings(set)->count, 2);
	cairn_migration_set_free(set);

	/* in the working tree the link is a link too */
	{
		cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;

		opts.worktree = true;
		ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts),
				 0);
		ck_assert_ptr_nonnull(finding_for(set, "symlink",
				"db/migrations/2_link.up.sql"));
		ck_assert_uint_eq(cairn_migration_set_count(set), 1);
		cairn_migration_set_free(set);
	}
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_real_submodule)
{
	char *dir = tu_git_repo(), *lib = tu_git_repo();
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;

	tu_write(lib, "x.sql", "x\n");
	commit(lib, "lib");
	tu_write(dir, "db/migrations/1_a.up.sql", "A;\n");
	commit(dir, "one");
	ck_assert_int_eq(tu_sh(dir, "git -c protocol.file.allow=always "
				    "submodule add -q %s db/migrations/lib "
				    ">/dev/null 2>&1 && git commit -q -m sub",
			       lib), 0);
	repo = open_repo(dir);
	set = load(repo, NULL);
	ck_assert_ptr_nonnull(finding_for(set, "submodule",
					  "db/migrations/lib"));
	cairn_migration_set_free(set);
	opts.worktree = true;
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_ptr_nonnull(finding_for(set, "submodule",
					  "db/migrations/lib"));
	ck_assert_uint_eq(cairn_migration_set_count(set), 1);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	tu_rmrf(lib);
	free(dir);
	free(lib);
}
END_TEST

/* --- contents ------------------------------------------------------------ */

START_TEST(test_content)
{
	char *dir = tu_git_repo(), *sum;
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_migration *m;
	const char *up = "-- cairn: no-transaction\n"
			 "CREATE INDEX CONCURRENTLY i ON t (c);\n";

	tu_write(dir, "db/migrations/1_idx.up.sql", up);
	tu_write(dir, "db/migrations/1_idx.down.sql",
		 "-- cairn: allow destructive\nDROP INDEX i;\n");
	tu_write(dir, "db/migrations/2_empty.up.sql", "");
	commit(dir, "idx");

	repo = open_repo(dir);
	set = load(repo, NULL);
	m = cairn_migration_set_find(set, "1");
	ck_assert_int_eq(cairn_migration_load_content(set, m), 0);
	ck_assert(m->content_loaded);
	ck_assert(m->content_ok);
	ck_assert_str_eq(m->up_sql, up);
	ck_assert_uint_eq(m->up_len, strlen(up));
	ck_assert_str_eq(m->down_sql,
			 "-- cairn: allow destructive\nDROP INDEX i;\n");
	sum = tu_sh_out(dir, "sha256sum db/migrations/1_idx.up.sql | "
			     "cut -c1-64");
	ck_assert_str_eq(m->checksum, sum);
	free(sum);
	ck_assert(m->up_directives.no_transaction);
	ck_assert(!m->down_directives.no_transaction);
	ck_assert(cairn_directives_allows(&m->down_directives, "destructive"));
	ck_assert(!cairn_directives_allows(&m->up_directives, "destructive"));
	/* idempotent */
	ck_assert_int_eq(cairn_migration_load_content(set, m), 0);
	ck_assert_int_eq(cairn_migration_set_load_contents(set), 0);
	m = cairn_migration_set_find(set, "2");
	ck_assert(m->content_ok);
	ck_assert_uint_eq(m->up_len, 0);
	ck_assert_str_eq(m->up_sql, "");
	ck_assert_str_eq(m->checksum, "e3b0c44298fc1c149afbf4c8996fb924"
				      "27ae41e4649b934ca495991b7852b855");
	ck_assert_uint_eq(cairn_migration_set_findings(set)->count, 0);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_content_problems)
{
	char *dir = tu_git_repo();
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;
	cairn_migration *m;
	const cairn_finding *f;
	static const char bin[] = "SELECT 1;\0\x01\x02";
	char big[2048];

	tu_write_bytes(dir, "db/migrations/1_bin.up.sql", bin, sizeof(bin));
	tu_write(dir, "db/migrations/2_latin1.up.sql",
		 "SELECT 1;\n-- ok\nSELECT 'caf\xe9';\n");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tu_write(dir, "db/migrations/3_big.up.sql", big);
	tu_write(dir, "db/migrations/4_dir.up.sql",
		 "-- cairn: no-transaction\n-- cairn: sideways\nSELECT 1;\n");
	tu_write(dir, "db/migrations/5_ok.up.sql", "SELECT 1;\n");
	tu_write(dir, "db/migrations/5_ok.down.sql", "bad \xff\n");
	commit(dir, "problems");

	repo = open_repo(dir);
	opts.max_file_size = 1024;
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_int_eq(cairn_migration_set_load_contents(set), 0);

	m = cairn_migration_set_find(set, "1");
	ck_assert(m->content_loaded && !m->content_ok);
	f = finding_for(set, "binary", "db/migrations/1_bin.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->version, "1");
	ck_assert_uint_eq(strlen(m->checksum), 64);

	m = cairn_migration_set_find(set, "2");
	ck_assert(!m->content_ok);
	f = finding_for(set, "not-utf8", "db/migrations/2_latin1.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->line, 3);
	ck_assert(tu_contains(f->message, "line 3"));

	m = cairn_migration_set_find(set, "3");
	ck_assert(!m->content_ok);
	ck_assert_ptr_null(m->up_sql);
	ck_assert_str_eq(m->checksum, "");
	f = finding_for(set, "too-large", "db/migrations/3_big.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert(tu_contains(f->message, "2047 bytes"));

	m = cairn_migration_set_find(set, "4");
	ck_assert(!m->content_ok);
	ck_assert(m->up_directives.no_transaction);
	f = finding_for(set, "unknown-directive", "db/migrations/4_dir.up.sql");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->line, 2);
	ck_assert_str_eq(f->version, "4");

	m = cairn_migration_set_find(set, "5");
	ck_assert(!m->content_ok);
	ck_assert_ptr_nonnull(finding_for(set, "not-utf8",
					  "db/migrations/5_ok.down.sql"));
	ck_assert_uint_eq(cairn_migration_set_findings(set)->count, 5);
	/* loading again adds nothing */
	ck_assert_int_eq(cairn_migration_set_load_contents(set), 0);
	ck_assert_uint_eq(cairn_migration_set_findings(set)->count, 5);
	cairn_migration_set_free(set);

	/* the same checks on the working tree */
	opts.worktree = true;
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_int_eq(cairn_migration_set_load_contents(set), 0);
	ck_assert_ptr_nonnull(finding_for(set, "binary",
					  "db/migrations/1_bin.up.sql"));
	ck_assert_ptr_nonnull(finding_for(set, "too-large",
					  "db/migrations/3_big.up.sql"));
	f = finding_for(set, "not-utf8", "db/migrations/2_latin1.up.sql");
	ck_assert_uint_eq(f->line, 3);
	ck_assert_uint_eq(cairn_migration_set_findings(set)->count, 5);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_worktree)
{
	char *dir = tu_git_repo(), *sum, path[4096];
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;
	cairn_migration *m;

	tu_write(dir, "db/migrations/1_a.up.sql", "A;\n");
	commit(dir, "one");
	tu_write(dir, "db/migrations/1_a.up.sql", "A changed;\n");
	tu_write(dir, "db/migrations/2_new.up.sql", "NEW;\n");
	tu_write(dir, "db/migrations/2_new.down.sql", "OLD;\n");

	repo = open_repo(dir);
	opts.worktree = true;
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert(cairn_migration_set_is_worktree(set));
	ck_assert_str_eq(cairn_migration_set_commit(set), "");
	ck_assert_str_eq(cairn_migration_set_tree(set), "");
	ck_assert_uint_eq(cairn_migration_set_count(set), 2);
	m = cairn_migration_set_find(set, "2");
	ck_assert_str_eq(m->up_blob, "");
	ck_assert_str_eq(m->down_blob, "");
	ck_assert_str_eq(m->down_path, "db/migrations/2_new.down.sql");
	m = cairn_migration_set_find(set, "1");
	ck_assert_int_eq(cairn_migration_load_content(set, m), 0);
	ck_assert_str_eq(m->up_sql, "A changed;\n");
	sum = tu_sh_out(dir, "sha256sum db/migrations/1_a.up.sql | "
			     "cut -c1-64");
	ck_assert_str_eq(m->checksum, sum);
	free(sum);
	cairn_migration_set_free(set);

	/* a file that vanishes between listing and reading */
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	snprintf(path, sizeof(path), "%s/db/migrations/2_new.up.sql", dir);
	unlink(path);
	m = cairn_migration_set_find(set, "2");
	ck_assert_int_eq(cairn_migration_load_content(set, m), 0);
	ck_assert(!m->content_ok);
	ck_assert_ptr_nonnull(finding_for(set, "unreadable",
					  "db/migrations/2_new.up.sql"));
	cairn_migration_set_free(set);

	/* no directory at all: an empty set */
	snprintf(path, sizeof(path), "%s/db", dir);
	tu_rmrf(path);
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_uint_eq(cairn_migration_set_count(set), 0);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_set_outlives_repo)
{
	char *dir = tu_git_repo();
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_migration *m;

	tu_write(dir, "db/migrations/1_a.up.sql", "A;\n");
	commit(dir, "one");
	repo = open_repo(dir);
	set = load(repo, NULL);
	cairn_repo_free(repo);
	m = cairn_migration_set_get(set, 0);
	ck_assert_int_eq(cairn_migration_load_content(set, m), 0);
	ck_assert_str_eq(m->up_sql, "A;\n");
	cairn_migration_set_free(set);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *migration_suite(void)
{
	Suite *s = suite_create("migration");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_filename);
	tcase_add_test(tc, test_directives_basic);
	tcase_add_test(tc, test_directives_none);
	tcase_add_test(tc, test_directives_unknown);
	tcase_add_test(tc, test_directives_odd_bytes);
	tcase_add_test(tc, test_directives_allow_all);
	tcase_add_test(tc, test_load_basic);
	tcase_add_test(tc, test_load_revisions);
	tcase_add_test(tc, test_odd_names);
	tcase_add_test(tc, test_ignore_globs);
	tcase_add_test(tc, test_duplicates_and_missing_up);
	tcase_add_test(tc, test_symlink_and_submodule);
	tcase_add_test(tc, test_real_submodule);
	tcase_add_test(tc, test_content);
	tcase_add_test(tc, test_content_problems);
	tcase_add_test(tc, test_worktree);
	tcase_add_test(tc, test_set_outlives_repo);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(migration_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
