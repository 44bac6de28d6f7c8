/*
 * check_prepush.c - unit tests for git's hook input parsers
 * (cairn_prepush_parse, cairn_rewrite_parse in src/prepush_input.c) and
 * for the range walk that names the commits of a push (src/range.c).
 *
 * The parsers are tested both ways at every boundary: SHA-1 and SHA-256
 * ids (upper and lower case), zero ids, CRLF line ends, a last line
 * without LF, empty lines; and rejected with the right line number:
 * wrong field counts, double spaces, short/long/non-hex ids, ids of
 * different lengths, NUL bytes, lines over the limit (and a line exactly
 * at it).  The check and range tests build real repositories with the git
 * program: the fast path for plain additions, the general path for
 * problems (with the commits blame names), and the base of a new ref.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/prepush.h"
#include "cairn/range.h"
#include "cairn/repo.h"
#include "testutil.h"

#define SHA1_A "1111111111111111111111111111111111111111"
#define SHA1_B "abcdefabcdefabcdefabcdefabcdefabcdefabcd"
#define ZERO40 "0000000000000000000000000000000000000000"
#define SHA256_A \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ZERO64 \
	"0000000000000000000000000000000000000000000000000000000000000000"

static const char *errmsg(void)
{
	const cairn_error *e = cairn_error_last();

	return e ? e->message : "(no error)";
}

static int parse(cairn_push_updates *u, const char *text)
{
	return cairn_prepush_parse(u, text, strlen(text));
}

/* Parsing must fail, and the message must name the line and contain what. */
static void parse_fails(const char *text, size_t len, unsigned line,
			const char *what)
{
	cairn_push_updates u = CAIRN_PUSH_UPDATES_INIT;
	char needle[32];

	ck_assert_int_lt(cairn_prepush_parse(&u, text, len), 0);
	snprintf(needle, sizeof(needle), "on line %u:", line);
	ck_assert_msg(tu_contains(errmsg(), needle), "%s", errmsg());
	ck_assert_msg(tu_contains(errmsg(), what), "%s", errmsg());
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_USAGE);
	cairn_push_updates_dispose(&u);
}

START_TEST(test_parse_sha1)
{
	cairn_push_updates u = CAIRN_PUSH_UPDATES_INIT;

	ck_assert_int_eq(parse(&u, "refs/heads/main " SHA1_A
				   " refs/heads/main " SHA1_B "\n"), 0);
	ck_assert_int_eq(u.count, 1);
	ck_assert_str_eq(u.items[0].local_ref, "refs/heads/main");
	ck_assert_str_eq(u.items[0].local_sha, SHA1_A);
	ck_assert_str_eq(u.items[0].remote_ref, "refs/heads/main");
	ck_assert_str_eq(u.items[0].remote_sha, SHA1_B);
	ck_assert_uint_eq(u.items[0].line, 1);
	ck_assert(!cairn_oid_hex_is_zero(u.items[0].local_sha));
	cairn_push_updates_dispose(&u);
}
END_TEST

START_TEST(test_parse_sha256_and_uppercase)
{
	cairn_push_updates u = CAIRN_PUSH_UPDATES_INIT;

	ck_assert_int_eq(parse(&u, "refs/heads/x "
				   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
				   " refs/heads/x " ZERO64 "\n"), 0);
	ck_assert_int_eq(u.count, 1);
	ck_assert_str_eq(u.items[0].local_sha, SHA256_A);
	ck_assert(cairn_oid_hex_is_zero(u.items[0].remote_sha));
	cairn_push_updates_dispose(&u);
}
END_TEST

START_TEST(test_parse_zero_ids_delete_and_create)
{
	cairn_push_updates u = CAIRN_PUSH_UPDATES_INIT;

	ck_assert_int_eq(parse(&u,
		"(delete) " ZERO40 " refs/heads/old " SHA1_A "\n"
		"refs/heads/new " SHA1_B " refs/heads/new " ZERO40 "\n"), 0);
	ck_assert_int_eq(u.count, 2);
	ck_assert_str_eq(u.items[0].local_ref, "(delete)");
	ck_assert(cairn_oid_hex_is_zero(u.items[0].local_sha));
	ck_assert(cairn_oid_hex_is_zero(u.items[1].remote_sha));
	ck_assert_uint_eq(u.items[1].line, 2);
	cairn_push_updates_dispose(&u);
	ck_assert(cairn_oid_hex_is_zero(""));
	ck_assert(cairn_oid_hex_is_zero(NULL));
}
END_TEST

START_TEST(test_parse_crlf_empty_lines_and_no_final_newline)
{
	cairn_push_updates u = CAIRN_PUSH_UPDATES_INIT;

	ck_assert_int_eq(parse(&u,
		"\r\n"
		"refs/heads/a " SHA1_A " refs/heads/a " SHA1_B "\r\n"
		"\n"
		"refs/heads/b " SHA1_B " refs/heads/b " SHA1_A), 0);
	ck_assert_int_eq(u.count, 2);
	ck_assert_str_eq(u.items[0].remote_sha, SHA1_B);
	ck_assert_uint_eq(u.items[0].line, 2);
	ck_assert_str_eq(u.items[1].remote_sha, SHA1_A);
	ck_assert_uint_eq(u.items[1].line, 4);
	cairn_push_updates_dispose(&u);

	/* nothing at all is no update, not an error */
	ck_assert_int_eq(parse(&u, ""), 0);
	ck_assert_int_eq(u.count, 0);
	cairn_push_updates_dispose(&u);
}
END_TEST

START_TEST(test_parse_malformed_lines)
{
	static const char good[] = "refs/heads/a " SHA1_A " refs/heads/a "
				   SHA1_B "\n";
	char buf[512];

	/* too few / too many fields */
	snprintf(buf, sizeof(buf), "%srefs/heads/a " SHA1_A "\n", good);
	parse_fails(buf, strlen(buf), 2, "expected 4 fields");
	snprintf(buf, sizeof(buf), "%s%s x y\n", good, "refs/heads/a " SHA1_A
		 " refs/heads/a " SHA1_B);
	parse_fails(buf, strlen(buf), 2, "found more");
	/* a double space makes an empty field */
	snprintf(buf, sizeof(buf), "refs/heads/a  " SHA1_A " refs/heads/a "
		 SHA1_B "\n");
	parse_fails(buf, strlen(buf), 1, "single spaces");
	/* a trailing space too */
	snprintf(buf, sizeof(buf), "refs/heads/a " SHA1_A " refs/heads/a "
		 SHA1_B " \n");
	parse_fails(buf, strlen(buf), 1, "expected 4 fields");
	/* not an id: short, long, not hex; the field is quoted */
	snprintf(buf, sizeof(buf), "%s%s", good,
		 "refs/heads/a abc refs/heads/a " SHA1_B "\n");
	parse_fails(buf, strlen(buf), 2, "'abc' is not an object id");
	snprintf(buf, sizeof(buf), "refs/heads/a " SHA1_A "1 refs/heads/a "
		 SHA1_B "1\n");
	parse_fails(buf, strlen(buf), 1, "is not an object id");
	snprintf(buf, sizeof(buf), "refs/heads/a " SHA1_A " refs/heads/a "
		 "g111111111111111111111111111111111111111\n");
	parse_fails(buf, strlen(buf), 1, "is not an object id");
	/* SHA-1 next to SHA-256 */
	snprintf(buf, sizeof(buf), "refs/heads/a " SHA1_A " refs/heads/a "
		 SHA256_A "\n");
	parse_fails(buf, strlen(buf), 1, "differ in length");
	/* a NUL byte */
	memcpy(buf, good, sizeof(good));
	buf[3] = '\0';
	parse_fails(buf, sizeof(good) - 1, 1, "NUL");
	/* control bytes are escaped in the message */
	snprintf(buf, sizeof(buf), "refs/heads/a \033[31m refs/heads/a "
		 SHA1_B "\n");
	parse_fails(buf, strlen(buf), 1, "\\x1b[31m");
	/* and refuse a ref name (a CR inside a line is not a line end) */
	snprintf(buf, sizeof(buf), "refs/heads/a\rb " SHA1_A " refs/heads/a "
		 SHA1_B "\n");
	parse_fails(buf, strlen(buf), 1, "'refs/heads/a\\rb' is not a ref name");
	snprintf(buf, sizeof(buf), "refs/heads/a " SHA1_A " refs/\001 "
		 SHA1_B "\n");
	parse_fails(buf, strlen(buf), 1, "is not a ref name");
}
END_TEST

START_TEST(test_parse_long_lines)
{
	cairn_push_updates u = CAIRN_PUSH_UPDATES_INIT;
	size_t fixed = strlen(" " SHA1_A " refs/heads/a " SHA1_B);
	size_t reflen = CAIRN_PREPUSH_MAX_LINE - fixed;
	size_t len = reflen + fixed;
	char *line = malloc(len + 64);
	char *huge;

	/* exactly at the limit: accepted, even with a CR after it */
	memset(line, 'r', reflen);
	memcpy(line + reflen, " " SHA1_A " refs/heads/a " SHA1_B "\r\n", fixed + 2);
	ck_assert_int_eq(cairn_prepush_parse(&u, line, len + 2), 0);
	ck_assert_int_eq(u.count, 1);
	ck_assert_uint_eq(strlen(u.items[0].local_ref), reflen);
	cairn_push_updates_dispose(&u);

	/* one byte more: refused, with the line number */
	memset(line, 'r', reflen + 1);
	memcpy(line + reflen + 1, " " SHA1_A " refs/heads/a " SHA1_B "\n",
	       fixed + 1);
	parse_fails(line, len + 2, 1, "longer than");

	/* a very long line with no newline at all (a runaway writer) */
	huge = malloc(4 * 1024 * 1024);
	memset(huge, 'x', 4 * 1024 * 1024);
	parse_fails(huge, 4 * 1024 * 1024, 1, "longer than");
	free(huge);
	free(line);
}
END_TEST

START_TEST(test_rewrite_parse)
{
	cairn_rewrites r = CAIRN_REWRITES_INIT;
	const char *text = SHA1_A " " SHA1_B "\n" SHA1_B " " SHA1_A
			   " extra info here\r\n";

	ck_assert_int_eq(cairn_rewrite_parse(&r, text, strlen(text)), 0);
	ck_assert_int_eq(r.count, 2);
	ck_assert_str_eq(r.items[0].old_sha, SHA1_A);
	ck_assert_str_eq(r.items[1].new_sha, SHA1_A);
	cairn_rewrites_dispose(&r);

	text = SHA1_A "\n";
	ck_assert_int_lt(cairn_rewrite_parse(&r, text, strlen(text)), 0);
	ck_assert(tu_contains(errmsg(), "post-rewrite input on line 1"));
	cairn_rewrites_dispose(&r);
	text = SHA1_A " nothex\n";
	ck_assert_int_lt(cairn_rewrite_parse(&r, text, strlen(text)), 0);
	ck_assert(tu_contains(errmsg(), "'nothex'"));
	cairn_rewrites_dispose(&r);
}
END_TEST

/* ---- range ------------------------------------------------------------- */

START_TEST(test_range_names_the_commits)
{
	char *d = tu_git_repo(), *base, *add, *edit, *merge;
	cairn_range_options ro = CAIRN_RANGE_OPTIONS_INIT;
	cairn_range range = CAIRN_RANGE_INIT;
	const cairn_range_file *f;
	const char *hide[1];
	cairn_repo *repo;

	tu_write(d, "db/migrations/0001_a.up.sql", "a\n");
	tu_write(d, "db/migrations/0002_b.up.sql", "b\n");
	base = tu_git_commit(d, "A", "a@x", 1700000000, "base");
	tu_write(d, "db/migrations/sub/0003_c.up.sql", "c\n");
	add = tu_git_commit(d, "A", "a@x", 1700000100, "add c");
	tu_write(d, "other.txt", "not a migration\n");
	free(tu_git_commit(d, "A", "a@x", 1700000150, "other"));
	ck_assert_int_eq(tu_sh(d, "git checkout -q -b side HEAD~2"), 0);
	tu_write(d, "db/migrations/0001_a.up.sql", "a edited\n");
	edit = tu_git_commit(d, "B", "b@x", 1700000200, "edit a");
	ck_assert_int_eq(tu_sh(d, "git checkout -q main && git rm -q db/migrations/0002_b.up.sql && "
				  "GIT_COMMITTER_DATE='@1700000250 +0000' git commit -qm 'drop b' && "
				  "GIT_COMMITTER_DATE='@1700000300 +0000' git merge -q --no-ff -m merge side"), 0);
	merge = tu_sh_out(d, "git rev-parse HEAD");

	ck_assert_int_eq(cairn_repo_open(&repo, d), 0);
	hide[0] = base;
	ro.hide = hide;
	ro.hide_count = 1;
	ck_assert_msg(cairn_range_changes(&range, repo, "HEAD", &ro) == 0, "%s",
		      errmsg());
	ck_assert_int_eq(range.commits, 5);
	ck_assert_int_eq(range.count, 3);
	f = cairn_range_find(&range, "db/migrations/sub/0003_c.up.sql");
	ck_assert(f != NULL);
	ck_assert_str_eq(f->first, add);
	ck_assert_int_eq(f->first_kind, CAIRN_RANGE_ADDED);
	/* the merge brought the edit: attributed to the side commit */
	f = cairn_range_find(&range, "db/migrations/0001_a.up.sql");
	ck_assert(f != NULL);
	ck_assert_str_eq(f->first, edit);
	ck_assert_str_eq(f->last, edit);
	ck_assert_int_eq(f->first_kind, CAIRN_RANGE_MODIFIED);
	f = cairn_range_find(&range, "db/migrations/0002_b.up.sql");
	ck_assert(f != NULL);
	ck_assert_int_eq(f->last_kind, CAIRN_RANGE_DELETED);
	ck_assert(cairn_range_find(&range, "other.txt") == NULL);
	cairn_range_dispose(&range);

	/* without a hidden base, from the root */
	ro.hide_count = 0;
	ck_assert_int_eq(cairn_range_changes(&range, repo, "HEAD", &ro), 0);
	f = cairn_range_find(&range, "db/migrations/0001_a.up.sql");
	ck_assert_str_eq(f->first, base);
	ck_assert_int_eq(f->first_kind, CAIRN_RANGE_ADDED);
	ck_assert_uint_eq(f->commits, 2);
	cairn_range_dispose(&range);

	/* an unknown revision */
	hide[0] = "no-such-rev";
	ro.hide_count = 1;
	ck_assert_int_eq(cairn_range_changes(&range, repo, "HEAD", &ro),
			 CAIRN_ENOTFOUND);
	cairn_repo_free(repo);
	free(base);
	free(add);
	free(edit);
	free(merge);
	tu_rmrf(d);
	free(d);
}
END_TEST


/* ---- the pre-push check ------------------------------------------------ */

static void update_for(cairn_push_update *u, const char *local,
		       const char *remote)
{
	memset(u, 0, sizeof(*u));
	u->local_ref = (char *)"refs/heads/main";
	u->remote_ref = (char *)"refs/heads/main";
	snprintf(u->local_sha, sizeof(u->local_sha), "%s", local);
	snprintf(u->remote_sha, sizeof(u->remote_sha), "%s", remote);
}

static bool has_code(const cairn_prepush_result *r, const char *code,
		     const char *file)
{
	for (size_t i = 0; i < r->findings.count; i++)
		if (!strcmp(r->findings.items[i].code, code) &&
		    (!file || (r->findings.items[i].file &&
			       !strcmp(r->findings.items[i].file, file))))
			return true;
	return false;
}

/* A repository with 0001 and 0002 at `base`. */
static char *base_repo(char **base)
{
	char *d = tu_git_repo();

	tu_write(d, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(d, "db/migrations/0002_b.up.sql", "CREATE TABLE b (id int);\n");
	tu_write(d, "db/migrations/0002_b.down.sql", "DROP TABLE b;\n");
	*base = tu_git_commit(d, "A", "a@x", 1700000000, "base");
	return d;
}

START_TEST(test_check_additions_take_the_fast_path)
{
	cairn_prepush_options o = CAIRN_PREPUSH_OPTIONS_INIT;
	cairn_prepush_result r;
	cairn_push_update u;
	cairn_repo *repo;
	char *base, *d = base_repo(&base), *tip;

	tu_write(d, "db/migrations/0010_c.up.sql", "CREATE TABLE c (id int);\n");
	tu_write(d, "db/migrations/0010_c.down.sql", "DROP TABLE c;\n");
	tu_write(d, "db/migrations/billing/0011_d.up.sql",
		 "CREATE TABLE d (id int);\n");
	free(tu_git_commit(d, "B", "b@x", 1700000100, "c"));
	tu_write(d, "README", "not a migration\n");
	tip = tu_git_commit(d, "B", "b@x", 1700000200, "readme");
	ck_assert_int_eq(cairn_repo_open(&repo, d), 0);
	update_for(&u, tip, base);
	ck_assert_msg(cairn_prepush_check(&r, repo, &u, &o) == 0, "%s", errmsg());
	ck_assert_int_eq(r.base_kind, CAIRN_PREPUSH_REMOTE);
	ck_assert(r.partial);
	ck_assert(!r.unchanged);
	ck_assert_int_eq(r.touched_count, 2);
	ck_assert_str_eq(r.touched[0]->version, "10");
	ck_assert_str_eq(r.touched[0]->down_path, "db/migrations/0010_c.down.sql");
	ck_assert_str_eq(r.touched[1]->subdir, "billing");
	ck_assert(r.touched[1]->content_loaded);
	ck_assert_int_eq(r.findings.count, 0);
	cairn_prepush_result_dispose(&r);

	/* with require_down the one without a down file is reported */
	o.require_down = true;
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), 0);
	ck_assert(has_code(&r, "missing-down",
			   "db/migrations/billing/0011_d.up.sql"));
	ck_assert_int_eq(r.findings.count, 1);
	cairn_prepush_result_dispose(&r);

	/* nothing below the directory changed */
	update_for(&u, tip, tip);
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), 0);
	ck_assert(r.unchanged);
	ck_assert_int_eq(r.touched_count, 0);
	cairn_prepush_result_dispose(&r);

	/* a deletion checks nothing */
	update_for(&u, ZERO40, tip);
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), 0);
	ck_assert_int_eq(r.base_kind, CAIRN_PREPUSH_DELETE);
	ck_assert(r.set == NULL);
	cairn_prepush_result_dispose(&r);
	cairn_repo_free(repo);
	free(base);
	free(tip);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_check_problems_take_the_general_path)
{
	cairn_prepush_options o = CAIRN_PREPUSH_OPTIONS_INIT;
	cairn_prepush_result r;
	cairn_push_update u;
	cairn_repo *repo;
	char *base, *d = base_repo(&base), *edit, *tip;

	tu_write(d, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id bigint);\n");
	edit = tu_git_commit(d, "B", "b@x", 1700000100, "edit a");
	ck_assert_int_eq(tu_sh(d, "git rm -q db/migrations/0002_b.down.sql"), 0);
	tu_write(d, "db/migrations/0000_early.up.sql", "SELECT 1;\n");
	tu_write(d, "db/migrations/notes.txt", "x\n");
	tu_write(d, "db/migrations/0009_bad.up.sql", "-- cairn: bogus\nSELECT 1;\n");
	tip = tu_git_commit(d, "B", "b@x", 1700000200, "more");
	ck_assert_int_eq(cairn_repo_open(&repo, d), 0);
	update_for(&u, tip, base);
	ck_assert_msg(cairn_prepush_check(&r, repo, &u, &o) == 0, "%s", errmsg());
	ck_assert(!r.partial);
	ck_assert(has_code(&r, "edited-after-push", "db/migrations/0001_a.up.sql"));
	ck_assert(has_code(&r, "out-of-order", "db/migrations/0000_early.up.sql"));
	ck_assert(has_code(&r, "bad-name", "db/migrations/notes.txt"));
	ck_assert(has_code(&r, "unknown-directive", NULL));
	/* 0002's down file went away: 0002 is touched (a changed migration) */
	ck_assert_int_eq(r.touched_count, 4);
	ck_assert_int_eq(cairn_prepush_blame(&r, repo, &o), 0);
	for (size_t i = 0; i < r.findings.count; i++) {
		const cairn_finding *f = &r.findings.items[i];

		ck_assert_msg(f->commit != NULL, "%s has no commit", f->code);
		if (!strcmp(f->code, "edited-after-push"))
			ck_assert_str_eq(f->commit, edit);
		else
			ck_assert_str_eq(f->commit, tip);
	}
	cairn_prepush_result_dispose(&r);

	/* out-of-order allowed: a warning */
	o.allow_out_of_order = true;
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), 0);
	for (size_t i = 0; i < r.findings.count; i++)
		if (!strcmp(r.findings.items[i].code, "out-of-order"))
			ck_assert_int_eq(r.findings.items[i].severity,
					 CAIRN_SEVERITY_WARNING);
	cairn_prepush_result_dispose(&r);
	cairn_repo_free(repo);
	free(base);
	free(edit);
	free(tip);
	tu_rmrf(d);
	free(d);
}
END_TEST

START_TEST(test_check_base_of_a_new_ref)
{
	cairn_prepush_options o = CAIRN_PREPUSH_OPTIONS_INIT;
	cairn_prepush_result r;
	cairn_push_update u;
	cairn_repo *repo;
	char *base, *d = base_repo(&base), *tip;

	tu_write(d, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id bigint);\n");
	tip = tu_git_commit(d, "B", "b@x", 1700000100, "edit a");
	ck_assert_int_eq(cairn_repo_open(&repo, d), 0);
	o.remote = "origin";

	/* nothing known of the remote: static checks only */
	update_for(&u, tip, ZERO40);
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), 0);
	ck_assert_int_eq(r.base_kind, CAIRN_PREPUSH_NO_BASE);
	ck_assert_int_eq(r.touched_count, 2);
	ck_assert_int_eq(r.findings.count, 0);
	cairn_prepush_result_dispose(&r);

	/* the remote-tracking ref bounds the new ref */
	ck_assert_int_eq(tu_sh(d, "git update-ref refs/remotes/origin/main %s && "
				  "git symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main",
				  base), 0);
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), 0);
	ck_assert_int_eq(r.base_kind, CAIRN_PREPUSH_TRACKING);
	ck_assert_str_eq(r.base, base);
	ck_assert(!r.remote_unknown);
	ck_assert(has_code(&r, "edited-after-push", "db/migrations/0001_a.up.sql"));
	cairn_prepush_result_dispose(&r);

	/* the remote is at a commit we never fetched */
	update_for(&u, tip, SHA1_B);
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), 0);
	ck_assert(r.remote_unknown);
	ck_assert_str_eq(r.base, base);
	cairn_prepush_result_dispose(&r);

	/* another remote's refs do not count */
	o.remote = "upstream";
	update_for(&u, tip, ZERO40);
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), 0);
	ck_assert_int_eq(r.base_kind, CAIRN_PREPUSH_NO_BASE);
	cairn_prepush_result_dispose(&r);

	/* a commit the remote already has */
	o.remote = "origin";
	update_for(&u, base, ZERO40);
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), 0);
	ck_assert_int_eq(r.base_kind, CAIRN_PREPUSH_TRACKING);
	ck_assert(r.unchanged);
	cairn_prepush_result_dispose(&r);

	/* git pushing a commit this repository does not have */
	update_for(&u, SHA1_A, ZERO40);
	ck_assert_int_eq(cairn_prepush_check(&r, repo, &u, &o), CAIRN_ENOTFOUND);
	cairn_repo_free(repo);
	free(base);
	free(tip);
	tu_rmrf(d);
	free(d);
}
END_TEST

static Suite *prepush_suite(void)
{
	Suite *s = suite_create("prepush");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_sha1);
	tcase_add_test(tc, test_parse_sha256_and_uppercase);
	tcase_add_test(tc, test_parse_zero_ids_delete_and_create);
	tcase_add_test(tc, test_parse_crlf_empty_lines_and_no_final_newline);
	tcase_add_test(tc, test_parse_malformed_lines);
	tcase_add_test(tc, test_parse_long_lines);
	tcase_add_test(tc, test_rewrite_parse);
	suite_add_tcase(s, tc);
	tc = tcase_create("check");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_check_additions_take_the_fast_path);
	tcase_add_test(tc, test_check_problems_take_the_general_path);
	tcase_add_test(tc, test_check_base_of_a_new_ref);
	suite_add_tcase(s, tc);
	tc = tcase_create("range");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_range_names_the_commits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(prepush_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
