/*
 * check_provenance.c - unit tests for migration provenance
 * (cairn_migration_set_provenance, src/provenance.c) and its cache
 * (src/provenance_cache.c).
 *
 * Each test builds a real repository with the git program: several
 * authors with fixed dates, tags, branches and merges, renames,
 * deletions and re-additions.  It then checks which commit introduced
 * and which last changed every migration.  The cache tests compare warm
 * and incremental answers with a cold answer computed after removing the
 * cache, damage the cache in several ways (the answer must not change),
 * and forge a valid entry to prove that the warm path really reads it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/migration.h"
#include "cairn/repo.h"
#include "testutil.h"

/* --- helpers ------------------------------------------------------------ */

#define ADA "Ada Lovelace", "ada@example.com"
#define GRACE "Grace Hopper", "grace@example.com"
#define LINUS "Linus T", "linus@example.com"
#define BARBARA "Barbara L", "barbara@example.com"

struct prov {
	cairn_repo *repo;
	cairn_migration_set *set;
};

static void prov_load(struct prov *p, const char *dir, const char *rev,
		      bool worktree, const char *const *versions, size_t n)
{
	cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;

	if (cairn_repo_open(&p->repo, dir) != 0)
		ck_abort_msg("open: %s", cairn_error_last()->message);
	opts.rev = rev;
	opts.worktree = worktree;
	if (cairn_migration_set_load(&p->set, p->repo, &opts) != 0)
		ck_abort_msg("load: %s", cairn_error_last()->message);
	if (cairn_migration_set_provenance(p->set, p->repo, versions, n) != 0)
		ck_abort_msg("provenance: %s", cairn_error_last()->message);
}

static void prov_free(struct prov *p)
{
	cairn_migration_set_free(p->set);
	cairn_repo_free(p->repo);
}

static const cairn_migration *get(const struct prov *p, const char *v)
{
	const cairn_migration *m = cairn_migration_set_find(p->set, v);

	ck_assert_msg(m != NULL, "no migration %s", v);
	return m;
}

static void expect(const struct prov *p, const char *version,
		   const char *intro, const char *changed)
{
	const cairn_migration *m = get(p, version);

	ck_assert_msg(m->has_provenance, "%s has no provenance", version);
	ck_assert_msg(!strcmp(m->introduced.sha, intro),
		      "%s introduced by %s, expected %s", version,
		      m->introduced.sha, intro);
	ck_assert_msg(!strcmp(m->changed.sha, changed),
		      "%s changed by %s, expected %s", version,
		      m->changed.sha, changed);
}

static char *commit(const char *dir, const char *name, const char *email,
		    long when, const char *msg)
{
	return tu_git_commit(dir, name, email, when, msg);
}

/* Everything provenance says about a set, as one string. */
static char *snapshot(const cairn_migration_set *set)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	for (i = 0; i < cairn_migration_set_count(set); i++) {
		const cairn_migration *m = cairn_migration_set_get(set, i);
		const cairn_commit_info *c[2] = { &m->introduced, &m->changed };

		fprintf(f, "%s %d", m->version, m->has_provenance);
		for (int k = 0; k < 2 && m->has_provenance; k++)
			fprintf(f, " [%s|%s|%s|%lld|%d|%s]", c[k]->sha,
				c[k]->author_name, c[k]->author_email,
				(long long)c[k]->author_time,
				c[k]->author_offset, c[k]->summary);
		fputc('\n', f);
	}
	fclose(f);
	return buf;
}

/* The answer with no cache at all (the cache directory removed). */
static char *cold_snapshot(const char *dir, const char *rev)
{
	struct prov p;
	char *s;

	tu_sh(dir, "rm -rf .git/cairn");
	prov_load(&p, dir, rev, false, NULL, 0);
	s = snapshot(p.set);
	prov_free(&p);
	return s;
}

static char *snapshot_of(const char *dir, const char *rev)
{
	struct prov p;
	char *s;

	prov_load(&p, dir, rev, false, NULL, 0);
	s = snapshot(p.set);
	prov_free(&p);
	return s;
}

static int cache_files(const char *dir)
{
	char *out = tu_sh_out(dir, "ls .git/cairn 2>/dev/null | "
				   "grep -c '^provenance-' || true");
	int n = (int)strtol(out, NULL, 10);

	free(out);
	return n;
}

/* Rewrites every cache entry with sed and a fresh, valid checksum. */
static void forge_cache(const char *dir, const char *sed_expr)
{
	ck_assert_int_eq(tu_sh(dir,
		"for f in .git/cairn/provenance-*; do "
		"sed -e '$d' -e '%s' \"$f\" > \"$f.body\" && "
		"sum=$(sha256sum < \"$f.body\" | cut -c1-64) && "
		"{ cat \"$f.body\"; echo \"end $sum\"; } > \"$f\" && "
		"rm \"$f.body\"; done", sed_expr), 0);
}

/* --- history ------------------------------------------------------------- */

START_TEST(test_linear_history)
{
	char *dir = tu_git_repo(), *c1, *c2, *c3, *c4, *c5;
	struct prov p;
	const cairn_migration *m;

	tu_write(dir, "db/migrations/0001_users.up.sql", "CREATE users;\n");
	tu_write(dir, "db/migrations/0001_users.down.sql", "DROP users;\n");
	c1 = commit(dir, ADA, 1600000000, "add users\n\nlong body\n");
	tu_write(dir, "db/migrations/0002_email.up.sql", "ALTER email;\n");
	c2 = commit(dir, GRACE, 1600001000, "add email");
	tu_write(dir, "src/app.c", "int x;\n");
	c3 = commit(dir, LINUS, 1600002000, "unrelated");
	tu_sh(dir, "git tag v1");
	tu_write(dir, "db/migrations/0001_users.up.sql", "CREATE users2;\n");
	c4 = commit(dir, BARBARA, 1600003000, "fix users");
	tu_write(dir, "db/migrations/0001_users.down.sql", "DROP users2;\n");
	c5 = commit(dir, ADA, 1600004000, "fix users down");

	prov_load(&p, dir, NULL, false, NULL, 0);
	expect(&p, "1", c1, c4);
	expect(&p, "2", c2, c2);
	m = get(&p, "1");
	ck_assert_str_eq(m->introduced.author_name, "Ada Lovelace");
	ck_assert_str_eq(m->introduced.author_email, "ada@example.com");
	ck_assert_int_eq(m->introduced.author_time, 1600000000);
	ck_assert_str_eq(m->introduced.summary, "add users");
	ck_assert_str_eq(m->changed.author_name, "Barbara L");
	ck_assert_str_eq(get(&p, "2")->introduced.author_name,
			 "Grace Hopper");
	/* asking again replaces, never leaks or duplicates */
	ck_assert_int_eq(cairn_migration_set_provenance(p.set, p.repo, NULL,
							0), 0);
	expect(&p, "1", c1, c4);
	prov_free(&p);

	/* revision forms */
	prov_load(&p, dir, "v1", false, NULL, 0);
	expect(&p, "1", c1, c1);
	expect(&p, "2", c2, c2);
	prov_free(&p);
	prov_load(&p, dir, "HEAD~1", false, NULL, 0);
	expect(&p, "1", c1, c4);
	prov_free(&p);
	prov_load(&p, dir, c2, false, NULL, 0);
	expect(&p, "1", c1, c1);
	expect(&p, "2", c2, c2);
	prov_free(&p);
	prov_load(&p, dir, "HEAD~4", false, NULL, 0);
	ck_assert_uint_eq(cairn_migration_set_count(p.set), 1);
	expect(&p, "1", c1, c1);
	prov_free(&p);

	free(c1); free(c2); free(c3); free(c4); free(c5);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_merged_branch)
{
	char *dir = tu_git_repo(), *c1, *f1, *m1, *merge, *f2, *u1;
	struct prov p;

	tu_write(dir, "db/migrations/1_base.up.sql", "base;\n");
	c1 = commit(dir, ADA, 1600000000, "base");
	tu_sh(dir, "git checkout -q -b feature");
	tu_write(dir, "db/migrations/2_feature.up.sql", "feature;\n");
	f1 = commit(dir, GRACE, 1600001000, "feature migration");
	tu_sh(dir, "git checkout -q main");
	tu_write(dir, "db/migrations/3_main.up.sql", "main;\n");
	m1 = commit(dir, LINUS, 1600002000, "main migration");
	ck_assert_int_eq(tu_sh(dir, "GIT_AUTHOR_DATE='@1600003000 +0000' "
				    "GIT_COMMITTER_DATE='@1600003000 +0000' "
				    "git merge -q --no-ff -m merge feature"),
			 0);
	merge = tu_sh_out(dir, "git rev-parse HEAD");

	prov_load(&p, dir, NULL, false, NULL, 0);
	expect(&p, "1", c1, c1);
	expect(&p, "2", f1, f1);
	expect(&p, "3", m1, m1);
	ck_assert_str_eq(get(&p, "2")->introduced.author_name,
			 "Grace Hopper");
	prov_free(&p);

	/* a merge that brings a migration into an unchanged main */
	tu_sh(dir, "git checkout -q -b feature2");
	tu_write(dir, "db/migrations/4_second.up.sql", "second;\n");
	f2 = commit(dir, BARBARA, 1600004000, "second feature");
	tu_sh(dir, "git checkout -q main");
	tu_write(dir, "README", "docs\n");
	u1 = commit(dir, ADA, 1600005000, "docs");
	ck_assert_int_eq(tu_sh(dir, "GIT_AUTHOR_DATE='@1600006000 +0000' "
				    "GIT_COMMITTER_DATE='@1600006000 +0000' "
				    "git merge -q --no-ff -m merge2 feature2"),
			 0);
	prov_load(&p, dir, NULL, false, NULL, 0);
	expect(&p, "4", f2, f2);
	expect(&p, "2", f1, f1);
	expect(&p, "1", c1, c1);
	prov_free(&p);

	free(c1); free(f1); free(m1); free(merge); free(f2); free(u1);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_merge_conflict_resolution_changes)
{
	char *dir = tu_git_repo(), *c1, *merge;
	struct prov p;

	tu_write(dir, "db/migrations/1_a.up.sql", "one\n");
	c1 = commit(dir, ADA, 1600000000, "a");
	tu_sh(dir, "git checkout -q -b side");
	tu_write(dir, "db/migrations/1_a.up.sql", "side\n");
	free(commit(dir, GRACE, 1600001000, "side edit"));
	tu_sh(dir, "git checkout -q main");
	tu_write(dir, "db/migrations/1_a.up.sql", "main\n");
	free(commit(dir, LINUS, 1600002000, "main edit"));
	tu_sh(dir, "git merge -q side >/dev/null 2>&1; true");
	tu_write(dir, "db/migrations/1_a.up.sql", "resolved\n");
	tu_sh(dir, "git add -A && GIT_COMMITTER_DATE='@1600003000 +0000' "
		   "GIT_AUTHOR_DATE='@1600003000 +0000' "
		   "git commit -q -m resolved");
	merge = tu_sh_out(dir, "git rev-parse HEAD");
	prov_load(&p, dir, NULL, false, NULL, 0);
	expect(&p, "1", c1, merge);
	prov_free(&p);
	free(c1);
	free(merge);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_rename)
{
	char *dir = tu_git_repo(), *c1, *c2, *c3, *c4;
	struct prov p;

	tu_write(dir, "db/migrations/0003_old_name.up.sql", "three;\n");
	tu_write(dir, "db/migrations/0004_other.up.sql", "four;\n");
	c1 = commit(dir, ADA, 1600000000, "add");
	tu_sh(dir, "git mv db/migrations/0003_old_name.up.sql "
		   "db/migrations/0003_new_name.up.sql");
	c2 = commit(dir, GRACE, 1600001000, "rename");
	tu_write(dir, "other.txt", "x\n");
	c3 = commit(dir, LINUS, 1600002000, "unrelated");

	prov_load(&p, dir, NULL, false, NULL, 0);
	expect(&p, "3", c1, c2);
	ck_assert_str_eq(get(&p, "3")->name, "new_name");
	expect(&p, "4", c1, c1);
	prov_free(&p);

	/* into a subdirectory, with another spelling of the version */
	tu_sh(dir, "mkdir -p db/migrations/billing && git mv "
		   "db/migrations/0003_new_name.up.sql "
		   "db/migrations/billing/3_newer.up.sql");
	c4 = commit(dir, BARBARA, 1600003000, "move");
	prov_load(&p, dir, NULL, false, NULL, 0);
	expect(&p, "3", c1, c4);
	ck_assert_str_eq(get(&p, "3")->subdir, "billing");
	prov_free(&p);

	free(c1); free(c2); free(c3); free(c4);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_delete_and_readd)
{
	char *dir = tu_git_repo(), *c1, *c2, *c3;
	struct prov p;

	tu_write(dir, "db/migrations/5_x.up.sql", "x;\n");
	tu_write(dir, "db/migrations/6_y.up.sql", "y;\n");
	c1 = commit(dir, ADA, 1600000000, "add");
	tu_sh(dir, "git rm -q db/migrations/5_x.up.sql");
	c2 = commit(dir, GRACE, 1600001000, "drop");
	tu_write(dir, "db/migrations/5_x.up.sql", "x;\n");
	c3 = commit(dir, LINUS, 1600002000, "re-add");

	prov_load(&p, dir, NULL, false, NULL, 0);
	expect(&p, "5", c3, c3);
	expect(&p, "6", c1, c1);
	prov_free(&p);
	free(c1); free(c2); free(c3);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_subset_and_bulk)
{
	char *dir = tu_git_repo(), *c1, *c2, name[64];
	struct prov p;
	const char *const want[] = { "0002", "7", "nope" };
	int i;

	for (i = 1; i <= 40; i++) {
		snprintf(name, sizeof(name), "db/migrations/%d_m%d.up.sql", i,
			 i);
		tu_write(dir, name, "SELECT 1;\n");
	}
	c1 = commit(dir, ADA, 1600000000, "forty at once");
	tu_write(dir, "db/migrations/41_late.up.sql", "late;\n");
	c2 = commit(dir, GRACE, 1600001000, "late");

	prov_load(&p, dir, NULL, false, want, 3);
	expect(&p, "2", c1, c1);
	expect(&p, "7", c1, c1);
	ck_assert(!get(&p, "1")->has_provenance);
	ck_assert(!get(&p, "41")->has_provenance);
	/* a partial answer with no cache is not written to the cache */
	ck_assert_int_eq(cache_files(dir), 0);
	prov_free(&p);

	prov_load(&p, dir, NULL, false, NULL, 0);
	for (i = 1; i <= 40; i++) {
		snprintf(name, sizeof(name), "%d", i);
		expect(&p, name, c1, c1);
	}
	expect(&p, "41", c2, c2);
	prov_free(&p);
	free(c1); free(c2);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_other_dir)
{
	char *dir = tu_git_repo(), *c1, *c2;
	cairn_load_options opts = CAIRN_LOAD_OPTIONS_INIT;
	cairn_repo *repo;
	cairn_migration_set *set;
	cairn_migration *m;

	tu_write(dir, "sql/1_a.up.sql", "a;\n");
	tu_write(dir, "db/migrations/1_other.up.sql", "other;\n");
	c1 = commit(dir, ADA, 1600000000, "a");
	tu_write(dir, "sql/deep/er/2_b.up.sql", "b;\n");
	tu_write(dir, "db/migrations/1_other.up.sql", "other2;\n");
	c2 = commit(dir, GRACE, 1600001000, "b");

	ck_assert_int_eq(cairn_repo_open(&repo, dir), 0);
	opts.dir = "sql";
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_int_eq(cairn_migration_set_provenance(set, repo, NULL, 0),
			 0);
	m = cairn_migration_set_find(set, "1");
	ck_assert_str_eq(m->introduced.sha, c1);
	ck_assert_str_eq(m->changed.sha, c1);
	m = cairn_migration_set_find(set, "2");
	ck_assert_str_eq(m->introduced.sha, c2);
	cairn_migration_set_free(set);
	/* a second directory gets its own cache entry */
	opts.dir = NULL;
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_int_eq(cairn_migration_set_provenance(set, repo, NULL, 0),
			 0);
	m = cairn_migration_set_find(set, "1");
	ck_assert_str_eq(m->introduced.sha, c1);
	ck_assert_str_eq(m->changed.sha, c2);
	cairn_migration_set_free(set);
	ck_assert_int_eq(cache_files(dir), 2);
	/* the directory at the root of the repository */
	opts.dir = ".";
	opts.ignore = (const char *const[]){ "*" };
	opts.ignore_count = 1;
	ck_assert_int_eq(cairn_migration_set_load(&set, repo, &opts), 0);
	ck_assert_int_eq(cairn_migration_set_provenance(set, repo, NULL, 0),
			 0);
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	free(c1); free(c2);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_worktree_mode)
{
	char *dir = tu_git_repo(), *c1;
	struct prov p;

	/* no commits at all: nothing has provenance, and that is no error */
	tu_write(dir, "db/migrations/1_a.up.sql", "a;\n");
	prov_load(&p, dir, NULL, true, NULL, 0);
	ck_assert(!get(&p, "1")->has_provenance);
	prov_free(&p);

	c1 = commit(dir, ADA, 1600000000, "a");
	tu_write(dir, "db/migrations/1_a.up.sql", "a edited, uncommitted;\n");
	tu_write(dir, "db/migrations/2_new.up.sql", "new;\n");
	prov_load(&p, dir, NULL, true, NULL, 0);
	expect(&p, "1", c1, c1);
	ck_assert(!get(&p, "2")->has_provenance);
	prov_free(&p);
	/* warm */
	prov_load(&p, dir, NULL, true, NULL, 0);
	expect(&p, "1", c1, c1);
	ck_assert(!get(&p, "2")->has_provenance);
	prov_free(&p);
	free(c1);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* --- the cache ----------------------------------------------------------- */

/* A history with authors, a merge, a rename and an edit. */
static char *cache_fixture(void)
{
	char *dir = tu_git_repo();

	tu_write(dir, "db/migrations/1_a.up.sql", "a;\n");
	tu_write(dir, "db/migrations/2_b.up.sql", "b;\n");
	free(commit(dir, ADA, 1600000000, "a and b"));
	tu_sh(dir, "git checkout -q -b side");
	tu_write(dir, "db/migrations/3_side.up.sql", "side;\n");
	free(commit(dir, GRACE, 1600001000, "side"));
	tu_sh(dir, "git checkout -q main");
	tu_write(dir, "db/migrations/4_main.up.sql", "main;\n");
	free(commit(dir, LINUS, 1600002000, "main"));
	tu_sh(dir, "GIT_AUTHOR_DATE='@1600003000 +0000' "
		   "GIT_COMMITTER_DATE='@1600003000 +0000' "
		   "git merge -q --no-ff -m merge side");
	tu_sh(dir, "git mv db/migrations/2_b.up.sql "
		   "db/migrations/2_b_renamed.up.sql");
	free(commit(dir, BARBARA, 1600004000, "rename"));
	tu_write(dir, "db/migrations/5_tab\there.up.sql", "odd;\n");
	tu_write(dir, "db/migrations/1_a.up.sql", "a edited;\n");
	free(commit(dir, "N\xc3\xa4me\twith tab", "odd@example.com",
		    1600005000, "edit a\\b"));
	return dir;
}

START_TEST(test_cache_warm_equals_cold)
{
	char *dir = cache_fixture(), *cold, *warm;

	cold = cold_snapshot(dir, NULL);
	ck_assert_int_eq(cache_files(dir), 1);
	warm = snapshot_of(dir, NULL);
	ck_assert_str_eq(warm, cold);
	ck_assert(tu_contains(cold, "N\xc3\xa4me\twith tab"));
	free(warm);
	/*
	 * The warm path really reads the entry: it is not rewritten (a walk
	 * would write a new file).  Entries hold no author names (they come
	 * from the commit objects), so there is nothing there to forge.
	 */
	{
		char *before = tu_sh_out(dir, "stat -c %%i .git/cairn/provenance-*");
		char *after, *names;

		warm = snapshot_of(dir, NULL);
		after = tu_sh_out(dir, "stat -c %%i .git/cairn/provenance-*");
		ck_assert_str_eq(before, after);
		ck_assert_str_eq(warm, cold);
		names = tu_sh_out(dir, "grep -c 'Ada' .git/cairn/provenance-* "
				       "|| true");
		ck_assert_str_eq(names, "0");
		free(before);
		free(after);
		free(names);
	}
	free(warm);
	free(cold);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_cache_corrupt_is_ignored)
{
	static const char *const damage[] = {
		/* truncated */
		"f=$(ls .git/cairn/provenance-*); head -c 200 \"$f\" > t; "
		"mv t \"$f\"",
		/* a changed byte, checksum not updated */
		"f=$(ls .git/cairn/provenance-*); sed -i 's/Ada/Bob/' \"$f\"",
		/* garbage */
		"f=$(ls .git/cairn/provenance-*); printf 'garbage' > \"$f\"",
		/* empty */
		"f=$(ls .git/cairn/provenance-*); : > \"$f\"",
		/* a directory where the file was */
		"f=$(ls .git/cairn/provenance-*); rm \"$f\"; mkdir \"$f\"",
	};
	char *dir = cache_fixture(), *cold, *again;
	size_t i;

	cold = cold_snapshot(dir, NULL);
	for (i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		tu_sh(dir, "rm -rf .git/cairn");
		free(snapshot_of(dir, NULL));
		ck_assert_int_eq(tu_sh(dir, "%s", damage[i]), 0);
		again = snapshot_of(dir, NULL);
		ck_assert_msg(!strcmp(again, cold), "damage %zu", i);
		free(again);
	}
	/* another format version, with a valid checksum */
	tu_sh(dir, "rm -rf .git/cairn");
	free(snapshot_of(dir, NULL));
	forge_cache(dir, "s/^cairn-provenance 2$/cairn-provenance 999/;"
			 "s/Ada Lovelace/Ada Cached/");
	again = snapshot_of(dir, NULL);
	ck_assert_str_eq(again, cold);
	free(again);
	/* an entry whose blob ids disagree with the tree is not used */
	tu_sh(dir, "rm -rf .git/cairn");
	free(snapshot_of(dir, NULL));
	forge_cache(dir, "s/^[0-9a-f]\\{40\\}\\t\\([0-9]*\\t[0-9]*\\t1_a\\)/"
			 "0000000000000000000000000000000000000000\\t\\1/;"
			 "s/Ada Lovelace/Ada Cached/");
	again = snapshot_of(dir, NULL);
	ck_assert_str_eq(again, cold);
	free(again);
	/* an unwritable cache directory only costs speed */
	tu_sh(dir, "rm -rf .git/cairn && : > .git/cairn");
	again = snapshot_of(dir, NULL);
	ck_assert_str_eq(again, cold);
	free(again);
	free(cold);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_cache_incremental)
{
	char *dir = cache_fixture(), *cold, *inc, *c6, *c7;
	struct prov p;

	tu_sh(dir, "rm -rf .git/cairn");
	free(snapshot_of(dir, NULL));
	ck_assert_int_eq(cache_files(dir), 1);

	/* new commits: an edit, a new migration, a deletion */
	tu_write(dir, "db/migrations/3_side.up.sql", "side edited;\n");
	tu_write(dir, "db/migrations/6_new.up.sql", "new;\n");
	c6 = commit(dir, GRACE, 1600006000, "edit side, add 6");
	tu_sh(dir, "git rm -q db/migrations/4_main.up.sql");
	c7 = commit(dir, LINUS, 1600007000, "drop 4");

	inc = snapshot_of(dir, NULL);
	ck_assert_int_eq(cache_files(dir), 2);
	cold = cold_snapshot(dir, NULL);
	ck_assert_str_eq(inc, cold);
	free(inc);
	free(cold);

	/*
	 * The ancestor's entry fills the files not touched since; authors
	 * come from the commit objects whatever an entry says.
	 */
	tu_sh(dir, "rm -rf .git/cairn");
	free(snapshot_of(dir, "HEAD~2"));
	forge_cache(dir, "s/Ada Lovelace/Ada Cached/");
	prov_load(&p, dir, NULL, false, NULL, 0);
	ck_assert_str_eq(get(&p, "2")->introduced.author_name, "Ada Lovelace");
	expect(&p, "6", c6, c6);
	ck_assert(!cairn_migration_set_find(p.set, "4"));
	ck_assert_str_eq(get(&p, "6")->introduced.author_name, "Grace Hopper");
	ck_assert_str_eq(get(&p, "3")->changed.author_name, "Grace Hopper");
	prov_free(&p);
	free(c6);
	free(c7);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_cache_incremental_old_branch)
{
	char *dir = tu_git_repo(), *cold, *inc;

	tu_write(dir, "db/migrations/1_a.up.sql", "a;\n");
	free(commit(dir, ADA, 1600000000, "a"));
	tu_sh(dir, "git branch old");
	tu_write(dir, "db/migrations/2_b.up.sql", "b;\n");
	free(commit(dir, GRACE, 1600001000, "b"));
	tu_write(dir, "db/migrations/1_a.up.sql", "a edited on main;\n");
	free(commit(dir, GRACE, 1600001500, "edit a"));
	/* the cache knows main here */
	tu_sh(dir, "rm -rf .git/cairn");
	free(snapshot_of(dir, NULL));
	/* a branch forked before, merged after */
	tu_sh(dir, "git checkout -q old");
	tu_write(dir, "db/migrations/3_old_branch.up.sql", "c;\n");
	free(commit(dir, LINUS, 1600002000, "c on old branch"));
	tu_sh(dir, "git checkout -q main && GIT_AUTHOR_DATE='@1600003000 "
		   "+0000' GIT_COMMITTER_DATE='@1600003000 +0000' "
		   "git merge -q --no-ff -m merge old");
	inc = snapshot_of(dir, NULL);
	cold = cold_snapshot(dir, NULL);
	ck_assert_str_eq(inc, cold);
	free(inc);
	free(cold);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_cache_keeps_few_entries)
{
	char *dir = tu_git_repo(), name[64];
	int i;

	for (i = 1; i <= 12; i++) {
		snprintf(name, sizeof(name), "db/migrations/%d_m.up.sql", i);
		tu_write(dir, name, "x;\n");
		free(commit(dir, ADA, 1600000000 + i, "m"));
		free(snapshot_of(dir, NULL));
	}
	ck_assert_int_le(cache_files(dir), 8);
	ck_assert_int_ge(cache_files(dir), 1);
	tu_rmrf(dir);
	free(dir);
}
END_TEST


/* --- packed histories ---------------------------------------------------- */

/*
 * A linear history written by git fast-import (delta chains running
 * forward in time): migrations added one by one, some edited later, one
 * deleted and added again, unrelated commits in between.
 */
static char *fast_import_history(void)
{
	char *dir = tu_git_repo();

	ck_assert_int_eq(tu_sh(dir,
		"i=1; m=0; while [ $i -le 300 ]; do "
		"printf 'commit refs/heads/main\\nmark :%%d\\n' $i; "
		"printf 'author A%%d <a%%d@example.com> %%d +0000\\n' "
		"$((i %% 3)) $((i %% 3)) $((1600000000 + i)); "
		"printf 'committer C <c@example.com> %%d +0000\\n' "
		"$((1600000000 + i)); "
		"printf 'data 2\\nc\\n'; "
		"[ $i -gt 1 ] && printf 'from :%%d\\n' $((i - 1)); "
		"if [ $((i %% 3)) -eq 0 ]; then m=$((m + 1)); "
		"  printf 'M 100644 inline "
		"db/migrations/%%04d_m.up.sql\\n' $m; "
		"  printf 'data 11\\nSELECT %%02d;\\n\\n' $((m %% 100)); "
		"elif [ $((i %% 17)) -eq 0 ]; then "
		"  printf 'M 100644 inline db/migrations/%%04d_m.up.sql\\n' "
		"$((m / 2)); "
		"  printf 'data 11\\nUPDATE %%03d\\n\\n' $((i %% 1000)); "
		"elif [ $i -eq 200 ]; then "
		"  printf 'D db/migrations/0010_m.up.sql\\n'; "
		"elif [ $i -eq 250 ]; then "
		"  printf 'M 100644 inline db/migrations/0010_m.up.sql\\n'; "
		"  printf 'data 11\\nSELECT 10;\\n\\n'; "
		"else "
		"  printf 'M 100644 inline src/f.txt\\ndata 4\\n%%03d\\n\\n' "
		"$((i %% 1000)); "
		"fi; i=$((i + 1)); done | git fast-import --quiet && "
		"git reset -q --hard"), 0);
	return dir;
}

/* "path introduced changed" lines, from git log and from cairn. */
static char *git_truth(const char *dir)
{
	return tu_sh_out(dir,
		"for f in $(git ls-tree --name-only HEAD db/migrations/); do "
		"echo \"$f $(git log --diff-filter=A -1 --format=%%H -- $f) "
		"$(git log -1 --format=%%H -- $f)\"; done");
}

static char *cairn_answer(const char *dir)
{
	struct prov p;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	prov_load(&p, dir, NULL, false, NULL, 0);
	for (i = 0; i < cairn_migration_set_count(p.set); i++) {
		const cairn_migration *m = cairn_migration_set_get(p.set, i);

		fprintf(f, "%s%s %s %s", i ? "\n" : "", m->up_path,
			m->introduced.sha, m->changed.sha);
	}
	fclose(f);
	prov_free(&p);
	return buf;
}

START_TEST(test_packed_history_matches_git)
{
	char *dir = fast_import_history(), *truth, *got;

	truth = git_truth(dir);
	ck_assert(tu_contains(truth, "0100_m.up.sql"));
	/* forward delta chains */
	tu_sh(dir, "rm -rf .git/cairn");
	got = cairn_answer(dir);
	ck_assert_str_eq(got, truth);
	free(got);
	/* warm */
	got = cairn_answer(dir);
	ck_assert_str_eq(got, truth);
	free(got);
	/* backward chains, as git gc writes them */
	tu_sh(dir, "rm -rf .git/cairn && git repack -q -a -d -f --depth=20");
	got = cairn_answer(dir);
	ck_assert_str_eq(got, truth);
	free(got);
	/* incremental from an older commit's entry */
	tu_sh(dir, "rm -rf .git/cairn");
	free(snapshot_of(dir, "HEAD~40"));
	got = cairn_answer(dir);
	ck_assert_str_eq(got, truth);
	free(got);
	/* loose objects only */
	tu_sh(dir, "rm -rf .git/cairn && mkdir ../unpack-$$ && "
		   "mv .git/objects/pack/* ../unpack-$$/ && "
		   "for p in ../unpack-$$/*.pack; do "
		   "git unpack-objects -q < \"$p\" || exit 1; done && "
		   "rm -rf ../unpack-$$");
	got = cairn_answer(dir);
	ck_assert_str_eq(got, truth);
	free(got);
	free(truth);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *provenance_suite(void)
{
	Suite *s = suite_create("provenance");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_linear_history);
	tcase_add_test(tc, test_merged_branch);
	tcase_add_test(tc, test_merge_conflict_resolution_changes);
	tcase_add_test(tc, test_rename);
	tcase_add_test(tc, test_delete_and_readd);
	tcase_add_test(tc, test_subset_and_bulk);
	tcase_add_test(tc, test_other_dir);
	tcase_add_test(tc, test_worktree_mode);
	tcase_add_test(tc, test_cache_warm_equals_cold);
	tcase_add_test(tc, test_cache_corrupt_is_ignored);
	tcase_add_test(tc, test_cache_incremental);
	tcase_add_test(tc, test_cache_incremental_old_branch);
	tcase_add_test(tc, test_cache_keeps_few_entries);
	tcase_add_test(tc, test_packed_history_matches_git);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(provenance_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
