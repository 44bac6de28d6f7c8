/*
 * check_hostile_git.c - cairn against hostile or odd git repositories:
 * the real cairn binary, real repositories made here (odd objects
 * written raw with `git hash-object --literally`), a real PostgreSQL
 * server (a fresh database per test).
 *
 * Covers (issue 9): author names in another encoding or not valid
 * UTF-8 (item 6), malformed author lines (item 7), a forged, blocking or
 * redirected provenance cache (item 15), symbolic links on the way to
 * migrations_dir and tree entries whose names hold '/' (item 20), and a
 * migrations_dir that does not exist at the revision (item 22).
 */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

typedef struct {
	char *dir;
	char *url;
} project;

static void project_init_dir(project *p, const char *mdir)
{
	char yaml[4096];

	p->url = tu_db_create("hostile");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: %s\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "hooks: {}\n",
		 mdir, p->url);
	tu_write(p->dir, "cairn.yaml", yaml);
}

static void project_init(project *p)
{
	project_init_dir(p, "db/migrations");
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static char *q(project *p, const char *sql)
{
	return tu_db_value(p->url, sql);
}

static void assert_q(project *p, const char *sql, const char *want)
{
	char *v = q(p, sql);

	ck_assert_msg(v && !strcmp(v, want), "%s: got '%s', want '%s'", sql,
		      v ? v : "(null)", want);
	free(v);
}

/*
 * Commits the index (after git add -A) as a raw commit object whose
 * author line and extra header lines are given as bytes, on top of HEAD
 * (if any), and moves the branch to it.  Returns the sha (caller frees).
 */
static char *raw_commit(project *p, const char *author, const char *extra,
			const char *msg)
{
	char *tree, *parent, *sha, body[4096], parent_line[64] = "";
	int n;

	tree = tu_sh_out(p->dir, "git add -A && git write-tree");
	parent = tu_sh_out(p->dir, "git rev-parse -q --verify HEAD || true");
	ck_assert(tree && strlen(tree) == 40);
	if (parent && strlen(parent) == 40)
		snprintf(parent_line, sizeof(parent_line), "parent %s\n",
			 parent);
	n = snprintf(body, sizeof(body),
		     "tree %s\n%sauthor %s\n"
		     "committer Test User <test@example.com> 1700000000 +0000\n"
		     "%s\n%s",
		     tree, parent_line, author, extra, msg);
	ck_assert(n > 0 && (size_t)n < sizeof(body));
	tu_write_bytes(p->dir, ".git/raw-object", body, (size_t)n);
	sha = tu_sh_out(p->dir, "git hash-object -t commit --literally -w "
				".git/raw-object");
	ck_assert(sha && strlen(sha) == 40);
	ck_assert_int_eq(tu_sh(p->dir, "git update-ref HEAD %s", sha), 0);
	free(tree);
	free(parent);
	return sha;
}

static char *commit_as(project *p, const char *who, long when,
		       const char *msg)
{
	char email[128];

	snprintf(email, sizeof(email), "%s@example.com", who);
	return tu_git_commit(p->dir, who, email, when, msg);
}

static void add_migration(project *p, const char *file, const char *sql)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "db/migrations/%s", file);
	tu_write(p->dir, rel, sql);
}

/* ---- item 6: author names that are not UTF-8 -------------------------- */

START_TEST(test_author_decoded_from_commit_encoding)
{
	project p;
	tu_result r;
	char *s1, *s2;

	project_init(&p);
	free(commit_as(&p, "Init", 1699990000, "init\n"));
	add_migration(&p, "0001_a.up.sql", "CREATE TABLE a (x int);\n");
	/* Latin-1 bytes, declared by the commit's encoding header */
	s1 = raw_commit(&p, "Jos\xe9 M\xfcller <jos\xe9@example.com> "
			    "1700000000 +0100",
			"encoding ISO-8859-1\n", "add \xe9t\xe9\n");
	add_migration(&p, "0002_b.up.sql", "CREATE TABLE b (x int);\n");
	/* bytes that are not UTF-8, with no encoding header */
	s2 = raw_commit(&p, "Bad \xff\xfe Name <bad@example.com> 1700000100 "
			    "+0000", "", "add b\n");

	tu_cairn(&r, p.dir, "plan", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "Jos\xc3\xa9 M\xc3\xbcller"), "%s",
		      r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	assert_q(&p, "SELECT author_name FROM cairn.migrations "
		     "WHERE version = '1'", "Jos\xc3\xa9 M\xc3\xbcller");
	assert_q(&p, "SELECT author_email FROM cairn.migrations "
		     "WHERE version = '1'", "jos\xc3\xa9@example.com");
	assert_q(&p, "SELECT author_name FROM cairn.migrations "
		     "WHERE version = '2'",
		 "Bad \xef\xbf\xbd\xef\xbf\xbd Name");
	{
		char sql[256];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM "
			 "cairn.migrations WHERE commit_sha IN ('%s', '%s')",
			 s1, s2);
		assert_q(&p, sql, "2");
	}
	free(s1);
	free(s2);
	project_dispose(&p);
}
END_TEST

/* ---- item 7: malformed author lines ----------------------------------- */

START_TEST(test_malformed_author_degrades)
{
	project p;
	tu_result r;
	char *bad, *bad_head, *init;
	char sql[256], range[128];

	project_init(&p);
	init = commit_as(&p, "Init", 1699990000, "init\n");
	add_migration(&p, "0001_a.up.sql", "CREATE TABLE a (x int);\n");
	/* no e-mail brackets at all: libgit2 refuses such a signature */
	bad = raw_commit(&p, "Nobody Here 1700000000 +0000", "", "add a\n");
	add_migration(&p, "0002_b.up.sql", "CREATE TABLE b (x int);\n");
	free(commit_as(&p, "Alice", 1700000200, "add b\n"));

	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "plan", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "Nobody Here"), "%s", r.out);
	tu_result_dispose(&r);
	/* status says so, once, naming the commit */
	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(tu_contains(r.err, "malformed author line") &&
		      tu_contains(r.err, "Nobody Here"), "%s", r.err);
	tu_result_dispose(&r);
	/* release notes over a range that holds the commit */
	snprintf(range, sizeof(range), "%s..HEAD", init);
	tu_cairn(&r, p.dir, "plan", range, NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "Nobody Here"), "%s", r.out);
	ck_assert_msg(tu_contains(r.err, "malformed author line"), "%s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	snprintf(sql, sizeof(sql), "SELECT author_name || '|' || author_email "
		 "|| '|' || commit_sha FROM cairn.migrations WHERE version = '1'");
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "Nobody Here 1700000000 +0000||%s", bad);
		assert_q(&p, sql, want);
	}

	/* the deployed commit itself malformed, in another way */
	add_migration(&p, "0003_c.up.sql", "CREATE TABLE c (x int);\n");
	bad_head = raw_commit(&p, "Unclosed <mail 1700000300 +0000", "",
			      "add c\n");
	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "Unclosed <mail"), "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	snprintf(sql, sizeof(sql), "SELECT commit_sha || ' ' || author_name "
		 "FROM cairn.migrations WHERE version = '3'");
	{
		char want[256];

		snprintf(want, sizeof(want), "%s Unclosed <mail 1700000300 "
			 "+0000", bad_head);
		assert_q(&p, sql, want);
	}
	free(init);
	free(bad);
	free(bad_head);
	project_dispose(&p);
}
END_TEST

/* ---- item 15: the provenance cache ------------------------------------ */

/* Alice adds 0001, Bob adds 0002, Carol touches a README (HEAD). */
static void three_authors(project *p, char **alice, char **bob)
{
	project_init(p);
	free(commit_as(p, "Init", 1699990000, "init\n"));
	add_migration(p, "0001_a.up.sql", "CREATE TABLE a (x int);\n");
	*alice = commit_as(p, "Alice", 1700000000, "add a\n");
	add_migration(p, "0002_b.up.sql", "CREATE TABLE b (x int);\n");
	*bob = commit_as(p, "Bob", 1700000100, "add b\n");
	tu_write(p->dir, "README", "hello\n");
	free(commit_as(p, "Carol", 1700000200, "readme\n"));
}

static char *cache_entry(project *p)
{
	return tu_sh_out(p->dir, "ls .git/cairn/provenance-* 2>/dev/null | "
				 "head -n 1");
}

START_TEST(test_forged_cache_changes_no_answer)
{
	project p;
	tu_result r;
	char *alice, *bob, *entry;
	char sql[256];

	three_authors(&p, &alice, &bob);
	tu_cairn(&r, p.dir, "plan", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	entry = cache_entry(&p);
	ck_assert_msg(entry && *entry, "no cache entry was written");

	/*
	 * Swap Alice's and Bob's commits in the entry (and any names it
	 * holds), then recompute its checksum as anyone can.
	 */
	ck_assert_int_eq(tu_sh(p.dir,
		"f='%s' && sed -i -e 's/%s/SWAPTMP/g' -e 's/%s/%s/g' "
		"-e 's/SWAPTMP/%s/g' -e 's/Alice/Mallory/g' \"$f\" && "
		"head -n -1 \"$f\" > .git/forged && "
		"printf 'end %%s\\n' \"$(sha256sum .git/forged | cut -c1-64)\" "
		">> .git/forged && mv .git/forged \"$f\"",
		entry, alice, bob, alice, bob), 0);

	tu_cairn(&r, p.dir, "plan", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(!tu_contains(r.out, "Mallory"), "%s", r.out);
	tu_result_dispose(&r);

	/*
	 * The entry cairn wrote is sealed with this user's key (kept outside
	 * the repository): forge again and seal with a key of one's own, as
	 * whoever handed over the repository could.  Not ours: ignored.
	 */
	free(entry);
	entry = cache_entry(&p);
	ck_assert_msg(entry && *entry, "no cache entry was rewritten");
	ck_assert_int_eq(tu_sh(p.dir, "tail -n 1 '%s' | grep -q '^mac '",
			       entry), 0);
	ck_assert_int_eq(tu_sh(p.dir,
		"f='%s' && sed -i -e 's/%s/SWAPTMP/g' -e 's/%s/%s/g' "
		"-e 's/SWAPTMP/%s/g' \"$f\" && "
		"head -n -1 \"$f\" > .git/forged && "
		"python3 -c 'import hmac,sys; d=open(sys.argv[1],\"rb\").read(); "
		"print(\"mac \" + hmac.new(b\"guessed-key\", d, \"sha256\")"
		".hexdigest())' .git/forged >> .git/forged && "
		"mv .git/forged \"$f\"",
		entry, alice, bob, alice, bob), 0);
	tu_cairn(&r, p.dir, "-v", "plan", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "Alice") && tu_contains(r.out, "Bob"),
		      "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	snprintf(sql, sizeof(sql), "SELECT author_name || ' ' || commit_sha "
		 "FROM cairn.migrations WHERE version = '1'");
	{
		char want[128];

		snprintf(want, sizeof(want), "Alice %s", alice);
		assert_q(&p, sql, want);
		snprintf(sql, sizeof(sql), "SELECT author_name || ' ' || "
			 "commit_sha FROM cairn.migrations WHERE version = '2'");
		snprintf(want, sizeof(want), "Bob %s", bob);
		assert_q(&p, sql, want);
	}
	free(entry);
	free(alice);
	free(bob);
	project_dispose(&p);
}
END_TEST

START_TEST(test_cache_fifo_symlink_and_umask)
{
	project p;
	tu_result r;
	char *alice, *bob, *entry, *outside, *listing, *mode;
	const char *bin = tu_cairn_bin();

	three_authors(&p, &alice, &bob);
	tu_cairn(&r, p.dir, "plan", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	entry = cache_entry(&p);
	ck_assert_msg(entry && *entry, "no cache entry was written");

	/* a FIFO in place of the entry: plan must not block on it */
	ck_assert_int_eq(tu_sh(p.dir, "rm -f '%s' && mkfifo '%s'", entry,
			       entry), 0);
	{
		const char *argv[] = { "timeout", "60", bin, "plan", NULL };

		tu_run(&r, p.dir, argv, NULL, NULL);
		ck_assert_msg(r.status == 0, "status %d: %s%s", r.status,
			      r.out, r.err);
		ck_assert_msg(tu_contains(r.out, "Alice"), "%s", r.out);
		tu_result_dispose(&r);
	}

	/* a symlinked .git/cairn: nothing is written through it */
	outside = tu_mkdtemp();
	ck_assert_int_eq(tu_sh(p.dir, "rm -rf .git/cairn && ln -s '%s' "
				      ".git/cairn", outside), 0);
	tu_cairn(&r, p.dir, "plan", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "Alice"), "%s", r.out);
	tu_result_dispose(&r);
	listing = tu_sh_out(outside, "ls -A");
	ck_assert_msg(listing && !*listing, "written through the link: %s",
		      listing);
	free(listing);

	/* under umask 000 the directory and its entries stay private */
	ck_assert_int_eq(tu_sh(p.dir, "rm -f .git/cairn"), 0);
	{
		const char *argv[] = { "sh", "-c", "umask 000 && exec \"$0\" plan",
				       bin, NULL };

		tu_run(&r, p.dir, argv, NULL, NULL);
		ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
		tu_result_dispose(&r);
	}
	mode = tu_sh_out(p.dir, "stat -c %%a .git/cairn");
	ck_assert_msg(mode && !strcmp(mode, "700"), "mode %s", mode);
	free(mode);
	mode = tu_sh_out(p.dir, "stat -c %%a .git/cairn/provenance-* | "
				"sort -u");
	ck_assert_msg(mode && !strcmp(mode, "600"), "entry mode %s", mode);
	free(mode);

	tu_rmrf(outside);
	free(outside);
	free(entry);
	free(alice);
	free(bob);
	project_dispose(&p);
}
END_TEST

/* ---- item 20: paths that leave the repository ------------------------- */

START_TEST(test_worktree_symlinks_refused)
{
	project p;
	tu_result r;
	char *outside;

	project_init(&p);
	free(commit_as(&p, "Init", 1699990000, "init\n"));
	outside = tu_mkdtemp();
	tu_write(outside, "migrations/0001_evil.up.sql",
		 "CREATE TABLE evil (x int);\n");

	/* an ancestor of migrations_dir is a link out of the repository */
	ck_assert_int_eq(tu_sh(p.dir, "ln -s '%s' db", outside), 0);
	tu_cairn(&r, p.dir, "--worktree", "migrate", "up", NULL);
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "symbolic link"), "%s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "--worktree", "validate", NULL);
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	/* migrations_dir itself is the link */
	ck_assert_int_eq(tu_sh(p.dir, "rm db && mkdir db && ln -s '%s/migrations' "
				      "db/migrations", outside), 0);
	tu_cairn(&r, p.dir, "--worktree", "migrate", "up", NULL);
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "symbolic link"), "%s", r.err);
	tu_result_dispose(&r);
	{
		char *v = q(&p, "SELECT count(*) FROM pg_tables "
				"WHERE tablename = 'evil'");

		ck_assert_str_eq(v, "0");
		free(v);
	}
	tu_rmrf(outside);
	free(outside);
	project_dispose(&p);
}
END_TEST

static void hex_to_raw(unsigned char *out, const char *hex)
{
	for (int i = 0; i < 20; i++) {
		unsigned v;

		ck_assert(sscanf(hex + 2 * i, "%2x", &v) == 1);
		out[i] = (unsigned char)v;
	}
}

START_TEST(test_tree_entry_with_slash_refused)
{
	project p;
	tu_result r;
	unsigned char tree[256];
	size_t n = 0;
	char *blob, *sub, *root, *sha;
	const char *names[] = { "0001_a.up.sql", "sub/0002_evil.up.sql" };

	project_init(&p);
	add_migration(&p, "0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(commit_as(&p, "Init", 1699990000, "init\n"));
	blob = tu_sh_out(p.dir, "git rev-parse HEAD:db/migrations/0001_a.up.sql");
	for (int i = 0; i < 2; i++) {
		int k = snprintf((char *)tree + n, sizeof(tree) - n,
				 "100644 %s", names[i]);

		n += (size_t)k + 1; /* keep the NUL */
		hex_to_raw(tree + n, blob);
		n += 20;
	}
	tu_write_bytes(p.dir, ".git/raw-object", tree, n);
	sub = tu_sh_out(p.dir, "git hash-object -t tree --literally -w "
			       ".git/raw-object");
	root = tu_sh_out(p.dir,
		"d=$(printf '040000 tree %s\\tmigrations\\n' | git mktree) && "
		"(git ls-tree HEAD | grep -v '\tdb$'; "
		"printf '040000 tree %%s\\tdb\\n' \"$d\") | git mktree", sub);
	sha = tu_sh_out(p.dir, "git commit-tree %s -p HEAD -m evil", root);
	ck_assert_int_eq(tu_sh(p.dir, "git update-ref HEAD %s", sha), 0);

	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "sub/0002_evil.up.sql"), "%s%s",
		      r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status != 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	{
		char *v = q(&p, "SELECT count(*) FROM pg_tables "
				"WHERE tablename IN ('a', 'evil')");

		ck_assert_str_eq(v, "0");
		free(v);
	}
	free(blob);
	free(sub);
	free(root);
	free(sha);
	project_dispose(&p);
}
END_TEST

/* ---- item 22: a migrations_dir that is not there ---------------------- */

START_TEST(test_missing_migrations_dir_reported)
{
	project p;
	tu_result r;

	project_init_dir(&p, "db/migratons");
	add_migration(&p, "0001_a.up.sql", "CREATE TABLE a (x int);\n");
	free(commit_as(&p, "Init", 1699990000, "init\n"));

	tu_cairn(&r, p.dir, "validate", NULL);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out,
		      r.err);
	ck_assert_msg(tu_contains(r.out, "db/migratons") ||
		      tu_contains(r.err, "db/migratons"), "%s%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "does not exist") ||
		      tu_contains(r.err, "does not exist"), "%s%s", r.out,
		      r.err);
	tu_result_dispose(&r);

	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out,
		      r.err);
	ck_assert_msg(tu_contains(r.out, "db/migratons") ||
		      tu_contains(r.err, "db/migratons"), "%s%s", r.out, r.err);
	ck_assert_msg(!tu_contains(r.out, "0 applied"), "%s", r.out);
	tu_result_dispose(&r);

	tu_cairn(&r, p.dir, "status", NULL);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out,
		      r.err);
	ck_assert_msg(tu_contains(r.err, "db/migratons"), "%s", r.err);
	tu_result_dispose(&r);

	/* the working tree is checked alike */
	tu_cairn(&r, p.dir, "--worktree", "validate", NULL);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out,
		      r.err);
	tu_result_dispose(&r);

	/* lint and migrate down say so too */
	tu_cairn(&r, p.dir, "lint", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.err, "db/migratons"),
		      "status %d: %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "migrate", "down", "--steps", "1", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.err, "db/migratons") &&
		      tu_contains(r.err, "does not exist"),
		      "status %d: %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hostile_git");
	TCase *tc = tcase_create("repos");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_author_decoded_from_commit_encoding);
	tcase_add_test(tc, test_malformed_author_degrades);
	tcase_add_test(tc, test_forged_cache_changes_no_answer);
	tcase_add_test(tc, test_cache_fifo_symlink_and_umask);
	tcase_add_test(tc, test_worktree_symlinks_refused);
	tcase_add_test(tc, test_tree_entry_with_slash_refused);
	tcase_add_test(tc, test_missing_migrations_dir_reported);
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
