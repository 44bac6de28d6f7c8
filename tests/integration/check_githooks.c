/*
 * check_githooks.c - the git hook shims as a user meets them: real
 * repositories, a bare "remote" on disk, and real `git push`, `git pull`,
 * `git pull --rebase` and `git checkout` running the hooks that
 * `cairn githooks install` put in place (src/cli/cmd_githooks.c,
 * src/cli/cmd_githook.c, src/prepush_*.c, src/range.c).
 *
 * Each test makes its own remote and clones under a fresh directory and
 * removes them at the end.  The shims find the binary under test through
 * CAIRN_BIN (tests/run exports it).  Covered: the installed shims are the
 * files in githooks/; installing twice changes nothing; pushes of an
 * edited already-pushed migration are rejected naming the file and the
 * commit, good pushes (and annotated tags) pass, new branches are checked
 * against what the remote has, deletions pass, a force-push over commits this clone never
 * fetched is handled; a user's own pre-push hook keeps running with the
 * same input and its failure still fails the push, and uninstall puts it
 * back; core.hooksPath and linked worktrees; no cairn / CAIRN_SKIP;
 * the drift check against githooks.pre_push.environment's database, and
 * the one-line note when that database does not answer;
 * post-merge listing and applying new migrations to a real database;
 * post-checkout warning about applied migrations the branch lacks;
 * `git pull --rebase` reporting through post-rewrite.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static const char *const hooks[] = { "pre-push", "post-merge",
				     "post-checkout", "post-rewrite" };

#define ADA "Ada Lovelace", "ada@example.com"
#define BOB "Bob Builder", "bob@example.com"

struct world {
	char *top;    /* holds everything below */
	char *remote; /* bare repository */
	char *a;      /* the clone with the hooks installed */
};

/* Runs a shell command (written by the test) in dir, capturing output. */
static void sh(tu_result *r, const char *dir, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sh(tu_result *r, const char *dir, const char *fmt, ...)
{
	const char *argv[4] = { "/bin/sh", "-c", NULL, NULL };
	va_list ap;
	char *cmd;

	va_start(ap, fmt);
	ck_assert(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	argv[2] = cmd;
	tu_run(r, dir, argv, NULL, NULL);
	free(cmd);
}

static char *path2(const char *a, const char *b)
{
	char *p;

	ck_assert(asprintf(&p, "%s/%s", a, b) >= 0);
	return p;
}

static void commit_file(const char *dir, const char *rel, const char *text,
			const char *who, const char *email, long when,
			const char *msg)
{
	tu_write(dir, rel, text);
	free(tu_git_commit(dir, who, email, when, msg));
}

static void identity(const char *dir)
{
	ck_assert_int_eq(tu_sh(dir, "git config user.name 'Test User' && "
				    "git config user.email test@example.com && "
				    "git config commit.gpgsign false && "
				    "git config pull.rebase false"), 0);
}

/* A remote with 0001 on main, and clone a with the hooks installed. */
static void world_init(struct world *w, bool install)
{
	tu_result r;

	w->top = tu_mkdtemp();
	w->remote = path2(w->top, "remote.git");
	w->a = path2(w->top, "a");
	ck_assert_int_eq(tu_sh(w->top, "git init -q --bare -b main remote.git && "
				       "git init -q -b main a"), 0);
	identity(w->a);
	ck_assert_int_eq(tu_sh(w->a, "git remote add origin ../remote.git"), 0);
	commit_file(w->a, "db/migrations/0001_users.up.sql",
		    "CREATE TABLE users (id int);\n", ADA, 1700000000,
		    "Add users");
	ck_assert_int_eq(tu_sh(w->a, "git push -q origin main"), 0);
	if (install) {
		tu_cairn(&r, w->a, "githooks", "install", NULL);
		ck_assert_msg(r.status == 0, "%s", r.err);
		tu_result_dispose(&r);
	}
}

/* A second clone of the remote, without hooks. */
static char *clone_b(struct world *w)
{
	char *b = path2(w->top, "b");

	ck_assert_int_eq(tu_sh(w->top, "git clone -q remote.git b"), 0);
	identity(b);
	return b;
}

static void world_free(struct world *w)
{
	tu_rmrf(w->top);
	free(w->top);
	free(w->remote);
	free(w->a);
}

static char *remote_head(struct world *w, const char *ref)
{
	return tu_sh_out(w->remote, "git rev-parse --verify -q %s || true",
			 ref);
}

/* ---- install ------------------------------------------------------------ */

START_TEST(test_installed_shims_are_the_source_files)
{
	struct world w;
	const char *src = getenv("CAIRN_SRCDIR");

	ck_assert_msg(src != NULL, "CAIRN_SRCDIR is not set (run through tests/run)");
	world_init(&w, true);
	for (size_t i = 0; i < 4; i++) {
		char *rel, *installed, *dir, *source;
		struct stat st;

		ck_assert(asprintf(&rel, ".git/hooks/%s", hooks[i]) >= 0);
		installed = tu_read(w.a, rel);
		dir = path2(src, "githooks");
		source = tu_read(dir, hooks[i]);
		ck_assert_msg(installed && source, "%s", hooks[i]);
		ck_assert_msg(!strcmp(installed, source),
			      "githooks/%s differs from what install writes",
			      hooks[i]);
		ck_assert(tu_contains(installed, "\n# cairn-githook v1\n"));
		free(rel);
		rel = path2(w.a, ".git/hooks");
		free(dir);
		dir = path2(rel, hooks[i]);
		ck_assert_int_eq(stat(dir, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0755);
		free(rel);
		free(dir);
		free(installed);
		free(source);
	}
	world_free(&w);
}
END_TEST

static long long mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL +
	       st->st_mtim.tv_nsec;
}

/* What the clock-past condition compares. */
struct clock_probe {
	const char *dir;   /* its entries' times */
	char *probe;       /* a file elsewhere, touched to read the clock */
};

/* The newest modification time of dir and of its entries. */
static long long newest_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	long long newest = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		char *p = path2(dir, e->d_name);

		if (lstat(p, &st) == 0 && mtime_ns(&st) > newest)
			newest = mtime_ns(&st);
		free(p);
	}
	closedir(d);
	return newest;
}

/* A file touched now gets a time later than anything in the dir. */
static bool clock_past(void *payload)
{
	struct clock_probe *c = payload;
	struct stat st;
	int fd = open(c->probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(futimens(fd, NULL), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	return mtime_ns(&st) > newest_in(c->dir);
}

START_TEST(test_install_twice_changes_nothing)
{
	struct world w;
	struct clock_probe probe;
	char *before, *after, *hooks_dir;
	tu_result r;

	world_init(&w, true);
	before = tu_sh_out(w.a, "ls -la --time-style=full-iso .git/hooks && "
				"cat .git/hooks/pre-push | sha256sum");
	/* so that a rewrite, even of the same bytes, would show */
	probe.dir = hooks_dir = path2(w.a, ".git/hooks");
	probe.probe = path2(w.top, "clock-probe");
	ck_assert_msg(tu_wait_until(clock_past, &probe, TU_WAIT_MS),
		      "the file system clock never moved");
	free(hooks_dir);
	free(probe.probe);
	tu_cairn(&r, w.a, "githooks", "install", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(tu_contains(r.out, "pre-push       already installed"),
		      "%s", r.out);
	tu_result_dispose(&r);
	after = tu_sh_out(w.a, "ls -la --time-style=full-iso .git/hooks && "
			       "cat .git/hooks/pre-push | sha256sum");
	ck_assert_str_eq(before, after);
	tu_cairn(&r, w.a, "githooks", "status", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert(tu_contains(r.out, "post-rewrite   installed"));
	tu_result_dispose(&r);
	free(before);
	free(after);
	world_free(&w);
}
END_TEST

/* ---- pre-push ----------------------------------------------------------- */

START_TEST(test_push_of_edited_migration_is_rejected)
{
	struct world w;
	char *before, *after, *edit;
	tu_result r;

	world_init(&w, true);
	before = remote_head(&w, "main");
	tu_write(w.a, "db/migrations/0001_users.up.sql",
		 "CREATE TABLE users (id bigint);\n");
	edit = tu_git_commit(w.a, BOB, 1700000100, "Widen users.id");
	commit_file(w.a, "db/migrations/0002_orders.up.sql",
		    "CREATE TABLE orders (id int);\n", BOB, 1700000200,
		    "Add orders");
	sh(&r, w.a, "git push origin main");
	ck_assert_msg(r.status != 0, "push passed: %s", r.err);
	ck_assert_msg(tu_contains(r.err, "db/migrations/0001_users.up.sql"),
		      "%s", r.err);
	ck_assert(tu_contains(r.err, "edited-after-push"));
	/* the commit that edited it, by short sha and summary */
	ck_assert_msg(tu_contains(r.err, "Widen users.id"), "%s", r.err);
	{
		char short_sha[13];

		snprintf(short_sha, sizeof(short_sha), "%.12s", edit);
		ck_assert(tu_contains(r.err, short_sha));
	}
	ck_assert(tu_contains(r.err, "push rejected"));
	tu_result_dispose(&r);
	after = remote_head(&w, "main");
	ck_assert_str_eq(before, after);

	/* CAIRN_SKIP lets it through, saying so */
	sh(&r, w.a, "CAIRN_SKIP=1 git push origin main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(tu_contains(r.err, "skipping the pre-push check"));
	tu_result_dispose(&r);
	free(before);
	free(after);
	free(edit);
	world_free(&w);
}
END_TEST

START_TEST(test_push_of_good_migration_passes)
{
	struct world w;
	char *head, *remote;
	tu_result r;

	world_init(&w, true);
	commit_file(w.a, "db/migrations/0002_orders.up.sql",
		    "CREATE TABLE orders (id int);\n", BOB, 1700000100,
		    "Add orders");
	commit_file(w.a, "README", "docs\n", BOB, 1700000200, "docs");
	sh(&r, w.a, "git push origin main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(!tu_contains(r.err, "error"));
	tu_result_dispose(&r);
	head = tu_sh_out(w.a, "git rev-parse HEAD");
	remote = remote_head(&w, "main");
	ck_assert_str_eq(head, remote);

	/* annotated tags name tag objects: peeled to their commits */
	commit_file(w.a, "db/migrations/0003_items.up.sql",
		    "CREATE TABLE items (id int);\n", BOB, 1700000300,
		    "Add items");
	sh(&r, w.a, "git tag -a -m 'release 1' v1 HEAD~1 && "
		    "git tag -a -m 'release 2' v2 && git push origin main v1 v2");
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	free(remote);
	remote = remote_head(&w, "v2^{commit}");
	free(head);
	head = tu_sh_out(w.a, "git rev-parse HEAD");
	ck_assert_str_eq(head, remote);
	free(head);
	free(remote);
	world_free(&w);
}
END_TEST

START_TEST(test_bad_name_and_out_of_order_are_rejected)
{
	struct world w;
	tu_result r;

	world_init(&w, true);
	commit_file(w.a, "db/migrations/0005_later.up.sql",
		    "CREATE TABLE later (id int);\n", ADA, 1700000100, "later");
	ck_assert_int_eq(tu_sh(w.a, "git push -q origin main"), 0);
	commit_file(w.a, "db/migrations/0003_early.up.sql",
		    "CREATE TABLE early (id int);\n", BOB, 1700000200,
		    "Add early");
	commit_file(w.a, "db/migrations/notes.txt", "hello\n", BOB,
		    1700000300, "Add notes");
	sh(&r, w.a, "git push origin main");
	ck_assert(r.status != 0);
	ck_assert_msg(tu_contains(r.err, "out-of-order"), "%s", r.err);
	ck_assert(tu_contains(r.err, "0003_early.up.sql"));
	ck_assert(tu_contains(r.err, "bad-name"));
	ck_assert(tu_contains(r.err, "Add notes"));
	tu_result_dispose(&r);
	world_free(&w);
}
END_TEST

START_TEST(test_lint_errors_of_new_migrations_are_rejected)
{
	struct world w;
	tu_result r;

	world_init(&w, true);
	commit_file(w.a, "db/migrations/0002_drop.up.sql",
		    "DROP TABLE users;\n", BOB, 1700000100, "Drop users");
	sh(&r, w.a, "git push origin main");
	ck_assert_msg(r.status != 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "lint/destructive"), "%s", r.err);
	ck_assert(tu_contains(r.err, "Drop users"));
	tu_result_dispose(&r);
	world_free(&w);
}
END_TEST

START_TEST(test_new_branch_is_checked_against_the_remote)
{
	struct world w;
	char *sha;
	tu_result r;

	world_init(&w, true);
	/* a new branch with a good migration pushes */
	ck_assert_int_eq(tu_sh(w.a, "git checkout -q -b feature/x"), 0);
	commit_file(w.a, "db/migrations/0002_orders.up.sql",
		    "CREATE TABLE orders (id int);\n", BOB, 1700000100,
		    "Add orders");
	sh(&r, w.a, "git push origin feature/x");
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	sha = remote_head(&w, "feature/x");
	ck_assert(*sha);
	free(sha);

	/* a new branch that edits what main pushed is rejected */
	ck_assert_int_eq(tu_sh(w.a, "git checkout -q -b edit main"), 0);
	commit_file(w.a, "db/migrations/0001_users.up.sql",
		    "CREATE TABLE users (id bigint);\n", BOB, 1700000200,
		    "Edit users on a branch");
	sh(&r, w.a, "git push origin edit");
	ck_assert_msg(r.status != 0, "%s", r.err);
	ck_assert(tu_contains(r.err, "edited-after-push"));
	ck_assert(tu_contains(r.err, "Edit users on a branch"));
	tu_result_dispose(&r);
	sha = remote_head(&w, "edit");
	ck_assert_str_eq(sha, "");
	free(sha);

	/* deleting a branch pushes */
	sh(&r, w.a, "git push origin --delete feature/x");
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	sha = remote_head(&w, "feature/x");
	ck_assert_str_eq(sha, "");
	free(sha);
	world_free(&w);
}
END_TEST

START_TEST(test_force_push_over_unfetched_commits)
{
	struct world w;
	char *b, *head, *remote;
	tu_result r;

	world_init(&w, true);
	/* another clone pushes a commit this one never fetches */
	b = clone_b(&w);
	commit_file(b, "db/migrations/0002_theirs.up.sql",
		    "CREATE TABLE theirs (id int);\n", BOB, 1700000100,
		    "Their migration");
	ck_assert_int_eq(tu_sh(b, "git push -q origin main"), 0);

	/* an edit of what we pushed earlier is still caught */
	tu_write(w.a, "db/migrations/0001_users.up.sql",
		 "CREATE TABLE users (id bigint);\n");
	free(tu_git_commit(w.a, ADA, 1700000200, "Rewrite users"));
	sh(&r, w.a, "git push -f origin main");
	ck_assert_msg(r.status != 0, "%s", r.err);
	ck_assert(tu_contains(r.err, "edited-after-push"));
	ck_assert(tu_contains(r.err, "does not have"));
	tu_result_dispose(&r);

	/* a clean force-push goes through */
	ck_assert_int_eq(tu_sh(w.a, "git reset -q --hard HEAD~1"), 0);
	commit_file(w.a, "db/migrations/0003_ours.up.sql",
		    "CREATE TABLE ours (id int);\n", ADA, 1700000300,
		    "Our migration");
	sh(&r, w.a, "git push -f origin main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	head = tu_sh_out(w.a, "git rev-parse HEAD");
	remote = remote_head(&w, "main");
	ck_assert_str_eq(head, remote);
	free(head);
	free(remote);
	tu_rmrf(b);
	free(b);
	world_free(&w);
}
END_TEST

START_TEST(test_user_pre_push_hook_is_chained)
{
	struct world w;
	char *marker, *hook, *restored;
	tu_result r;
	static const char user_hook[] =
		"#!/bin/sh\n"
		"# the user's own hook\n"
		"echo \"args: $1 $2\" >> \"$(git rev-parse --git-dir)/../marker\"\n"
		"cat >> \"$(git rev-parse --git-dir)/../marker\"\n"
		"[ -f \"$(git rev-parse --git-dir)/../fail\" ] && exit 1\n"
		"exit 0\n";

	world_init(&w, false);
	tu_write(w.a, ".git/hooks/pre-push", user_hook);
	ck_assert_int_eq(tu_sh(w.a, "chmod +x .git/hooks/pre-push && "
				    "echo marker >> .git/info/exclude && "
				    "echo fail >> .git/info/exclude"), 0);
	tu_cairn(&r, w.a, "githooks", "install", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(tu_contains(r.out, "chaining"));
	tu_result_dispose(&r);
	tu_cairn(&r, w.a, "githooks", "status", NULL);
	ck_assert(tu_contains(r.out, "pre-push       installed, chaining pre-push.cairn-chained"));
	tu_result_dispose(&r);

	/* both run, each with the same input */
	commit_file(w.a, "db/migrations/0002_orders.up.sql",
		    "CREATE TABLE orders (id int);\n", BOB, 1700000100,
		    "Add orders");
	sh(&r, w.a, "git push origin main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	marker = tu_read(w.a, "marker");
	ck_assert_msg(marker && tu_contains(marker, "args: origin ../remote.git"),
		      "%s", marker ? marker : "(none)");
	ck_assert(tu_contains(marker, "refs/heads/main "));
	free(marker);

	/* cairn's check still sees the input after the user's hook read it */
	tu_write(w.a, "db/migrations/0002_orders.up.sql",
		 "CREATE TABLE orders (id bigint);\n");
	free(tu_git_commit(w.a, BOB, 1700000200, "Edit orders"));
	sh(&r, w.a, "git push origin main");
	ck_assert(r.status != 0);
	ck_assert_msg(tu_contains(r.err, "edited-after-push"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(tu_sh(w.a, "git reset -q --hard HEAD~1"), 0);

	/* the user's hook failing fails the push */
	tu_write(w.a, "fail", "");
	commit_file(w.a, "db/migrations/0003_items.up.sql",
		    "CREATE TABLE items (id int);\n", BOB, 1700000300,
		    "Add items");
	sh(&r, w.a, "git push origin main");
	ck_assert_msg(r.status != 0, "%s", r.err);
	tu_result_dispose(&r);
	{
		char *fail = path2(w.a, "fail");

		unlink(fail);
		free(fail);
	}

	/* uninstall restores the user's hook as it was */
	tu_cairn(&r, w.a, "githooks", "uninstall", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	restored = tu_read(w.a, ".git/hooks/pre-push");
	ck_assert(restored != NULL);
	ck_assert_str_eq(restored, user_hook);
	hook = tu_read(w.a, ".git/hooks/pre-push.cairn-chained");
	ck_assert(hook == NULL);
	ck_assert(tu_read(w.a, ".git/hooks/post-merge") == NULL);
	free(restored);
	world_free(&w);
}
END_TEST

START_TEST(test_install_refuses_when_chained_name_is_taken)
{
	struct world w;
	tu_result r;

	world_init(&w, false);
	tu_write(w.a, ".git/hooks/pre-push", "#!/bin/sh\nexit 0\n");
	tu_write(w.a, ".git/hooks/pre-push.cairn-chained", "#!/bin/sh\nexit 0\n");
	tu_cairn(&r, w.a, "githooks", "install", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "already exists"), "%s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, w.a, "githooks", "status", NULL);
	ck_assert(tu_contains(r.out, "pre-push       foreign hook (not cairn)"));
	ck_assert(tu_contains(r.out, "post-merge     installed"));
	tu_result_dispose(&r);
	world_free(&w);
}
END_TEST

START_TEST(test_core_hooks_path)
{
	struct world w;
	char *gitpath, *dir, *f;
	tu_result r;

	world_init(&w, false);
	ck_assert_int_eq(tu_sh(w.a, "git config core.hooksPath .githooks"), 0);
	tu_cairn(&r, w.a, "githooks", "install", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	gitpath = tu_sh_out(w.a, "cd db && git rev-parse --path-format=absolute --git-path hooks");
	dir = path2(w.a, ".githooks");
	ck_assert_str_eq(gitpath, dir);
	f = tu_read(dir, "pre-push");
	ck_assert(f && tu_contains(f, "cairn-githook"));
	free(f);
	ck_assert(tu_read(w.a, ".git/hooks/pre-push") == NULL);

	/* run from a subdirectory: the same directory */
	tu_cairn(&r, dir, "githooks", "status", NULL);
	ck_assert(tu_contains(r.out, dir));
	ck_assert(tu_contains(r.out, "pre-push       installed"));
	tu_result_dispose(&r);

	/* and git runs them */
	ck_assert_int_eq(tu_sh(w.a, "echo .githooks >> .git/info/exclude"), 0);
	tu_write(w.a, "db/migrations/0001_users.up.sql",
		 "CREATE TABLE users (id bigint);\n");
	free(tu_git_commit(w.a, BOB, 1700000100, "Edit users"));
	sh(&r, w.a, "git push origin main");
	ck_assert(r.status != 0);
	ck_assert_msg(tu_contains(r.err, "edited-after-push"), "%s", r.err);
	tu_result_dispose(&r);
	free(gitpath);
	free(dir);
	world_free(&w);
}
END_TEST

START_TEST(test_linked_worktree)
{
	struct world w;
	char *wt, *gitpath, *f;
	tu_result r;

	world_init(&w, false);
	ck_assert_int_eq(tu_sh(w.a, "git worktree add -q ../wt -b wtbranch"), 0);
	wt = path2(w.top, "wt");
	tu_cairn(&r, wt, "githooks", "install", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	/* the common directory's hooks, as git says */
	gitpath = tu_sh_out(wt, "git rev-parse --path-format=absolute --git-path hooks");
	f = tu_read(gitpath, "pre-push");
	ck_assert_msg(f && tu_contains(f, "cairn-githook"), "%s", gitpath);
	free(f);
	tu_write(wt, "db/migrations/0001_users.up.sql",
		 "CREATE TABLE users (id bigint);\n");
	/* tu_git_commit wants a .git directory; a worktree has a file */
	ck_assert_int_eq(tu_sh(wt, "git commit -qam 'Edit users in a worktree'"), 0);
	sh(&r, wt, "git push origin wtbranch");
	ck_assert(r.status != 0);
	ck_assert_msg(tu_contains(r.err, "Edit users in a worktree"), "%s", r.err);
	tu_result_dispose(&r);
	free(gitpath);
	free(wt);
	world_free(&w);
}
END_TEST

START_TEST(test_missing_cairn_lets_git_go_on)
{
	struct world w;
	tu_result r;

	world_init(&w, true);
	tu_write(w.a, "db/migrations/0001_users.up.sql",
		 "CREATE TABLE users (id bigint);\n");
	free(tu_git_commit(w.a, BOB, 1700000100, "Edit users"));
	sh(&r, w.a, "CAIRN_BIN= PATH=/usr/bin:/bin git push origin main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "cairn: not found; skipping the pre-push check (set CAIRN_BIN or install cairn)"),
		      "%s", r.err);
	tu_result_dispose(&r);
	world_free(&w);
}
END_TEST

START_TEST(test_malformed_input_fails_clearly)
{
	struct world w;
	tu_result r;
	const char *const env[] = { NULL };

	world_init(&w, false);
	tu_cairn_env(&r, w.a, env, "refs/heads/main abc refs/heads/main def\n",
		     "githook", "pre-push", "origin", "x", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "line 1"), "%s", r.err);
	tu_result_dispose(&r);
	world_free(&w);
}
END_TEST


static void write_prepush_config(const char *dir, const char *url)
{
	char *text;

	ck_assert(asprintf(&text,
			   "environments:\n"
			   "  production:\n"
			   "    database_url: \"%s\"\n"
			   "githooks:\n"
			   "  pre_push: { environment: production }\n",
			   url) >= 0);
	tu_write(dir, "cairn.yaml", text);
	free(text);
	ck_assert_int_eq(tu_sh(dir, "grep -qx cairn.yaml .git/info/exclude || "
				    "echo cairn.yaml >> .git/info/exclude"), 0);
}

START_TEST(test_pre_push_checks_drift_when_the_database_answers)
{
	struct world w;
	char *url;
	tu_result r;

	world_init(&w, true);
	url = tu_db_create("githooks_drift");
	write_prepush_config(w.a, url);
	/* cairn.yaml is local (not committed): say so, as a deployer would */
	tu_cairn(&r, w.a, "--config", "cairn.yaml", "--env", "production",
		 "migrate", "up", "--yes", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	/* someone changed what production recorded for 0001 */
	ck_assert_int_eq(tu_db_exec(url, "ALTER TABLE cairn.migrations DISABLE TRIGGER USER; "
					 "UPDATE cairn.migrations SET checksum = repeat('0', 64), up_blob = NULL "
					 "WHERE version = '1'"), 0);
	commit_file(w.a, "db/migrations/0002_orders.up.sql",
		    "CREATE TABLE orders (id int);\n", BOB, 1700000100,
		    "Add orders");
	sh(&r, w.a, "git push origin main");
	ck_assert_msg(r.status != 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "[drift]"), "%s", r.err);
	ck_assert(tu_contains(r.err, "applied to production"));
	tu_result_dispose(&r);

	/* a database that does not answer: one note, and the push goes on */
	write_prepush_config(w.a, "postgresql:///nodb?host=/nonexistent&connect_timeout=1");
	sh(&r, w.a, "git push origin main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "cairn: note: production database not reachable; skipped the drift check"),
		      "%s", r.err);
	tu_result_dispose(&r);
	free(url);
	world_free(&w);
}
END_TEST

/* ---- post-merge, post-checkout, post-rewrite ----------------------------- */

static void write_config(const char *dir, const char *url, bool apply)
{
	char *text;

	ck_assert(asprintf(&text,
			   "environments:\n"
			   "  development:\n"
			   "    database_url: \"%s\"\n"
			   "%s",
			   url, apply ? "githooks:\n  post_merge: { apply: development }\n" : "") >= 0);
	tu_write(dir, "cairn.yaml", text);
	free(text);
	ck_assert_int_eq(tu_sh(dir, "echo cairn.yaml >> .git/info/exclude"), 0);
}

START_TEST(test_post_merge_lists_and_applies)
{
	struct world w;
	char *b, *url, *v;
	tu_result r;

	world_init(&w, true);
	url = tu_db_create("githooks_merge");
	write_config(w.a, url, true);
	b = clone_b(&w);
	commit_file(b, "db/migrations/0002_orders.up.sql",
		    "CREATE TABLE orders (id int);\n", BOB, 1700000100,
		    "Add orders");
	ck_assert_int_eq(tu_sh(b, "git push -q origin main"), 0);

	sh(&r, w.a, "git pull origin main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "brought 1 new migration"), "%s", r.err);
	ck_assert(tu_contains(r.err, "0002_orders"));
	ck_assert(tu_contains(r.err, "Bob Builder <bob@example.com>"));
	tu_result_dispose(&r);
	v = tu_db_value(url, "SELECT string_agg(version::text, ',' ORDER BY version) FROM cairn.migrations");
	ck_assert_msg(v && !strcmp(v, "1,2"), "%s", v ? v : "(null)");
	free(v);
	free(url);
	tu_rmrf(b);
	free(b);
	world_free(&w);
}
END_TEST

START_TEST(test_post_merge_lists_without_apply)
{
	struct world w;
	char *b;
	tu_result r;

	world_init(&w, true);
	b = clone_b(&w);
	commit_file(b, "db/migrations/0002_orders.up.sql",
		    "CREATE TABLE orders (id int);\n", BOB, 1700000100,
		    "Add orders");
	ck_assert_int_eq(tu_sh(b, "git push -q origin main"), 0);
	sh(&r, w.a, "git pull origin main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "0002_orders"), "%s", r.err);
	ck_assert(tu_contains(r.err, "cairn migrate up"));
	tu_result_dispose(&r);
	tu_rmrf(b);
	free(b);
	world_free(&w);
}
END_TEST

START_TEST(test_post_checkout_warns_about_applied_migrations)
{
	struct world w;
	char *url;
	tu_result r;

	world_init(&w, true);
	url = tu_db_create("githooks_checkout");
	write_config(w.a, url, false);
	ck_assert_int_eq(tu_sh(w.a, "git checkout -q -b feature"), 0);
	commit_file(w.a, "db/migrations/0002_feature.up.sql",
		    "CREATE TABLE feature (id int);\n", BOB, 1700000100,
		    "Add feature");
	/* cairn.yaml is local (not committed): say so */
	tu_cairn(&r, w.a, "--config", "cairn.yaml", "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);

	sh(&r, w.a, "git checkout main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "does not have"), "%s", r.err);
	ck_assert(tu_contains(r.err, "2_feature"));
	ck_assert(tu_contains(r.err, "migrate down --to 1"));
	tu_result_dispose(&r);

	/* going back brings 0002 again, and nothing is missing there */
	sh(&r, w.a, "git checkout feature");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(tu_contains(r.err, "0002_feature"));
	ck_assert(!tu_contains(r.err, "does not have"));
	tu_result_dispose(&r);
	free(url);
	world_free(&w);
}
END_TEST

START_TEST(test_pull_rebase_reports_through_post_rewrite)
{
	struct world w;
	char *b;
	tu_result r;

	world_init(&w, true);
	b = clone_b(&w);
	commit_file(b, "db/migrations/0002_theirs.up.sql",
		    "CREATE TABLE theirs (id int);\n", BOB, 1700000100,
		    "Their migration");
	ck_assert_int_eq(tu_sh(b, "git push -q origin main"), 0);
	commit_file(w.a, "db/migrations/0003_ours.up.sql",
		    "CREATE TABLE ours (id int);\n", ADA, 1700000200,
		    "Our migration");
	sh(&r, w.a, "git pull --rebase origin main");
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(tu_contains(r.err, "the rebase brought 1 new migration"),
		      "%s", r.err);
	ck_assert(tu_contains(r.err, "0002_theirs"));
	ck_assert(tu_contains(r.err, "Bob Builder"));
	ck_assert(!tu_contains(r.err, "0003_ours "));
	tu_result_dispose(&r);
	tu_rmrf(b);
	free(b);
	world_free(&w);
}
END_TEST

static Suite *githooks_suite(void)
{
	Suite *s = suite_create("githooks");
	TCase *tc = tcase_create("githooks");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_installed_shims_are_the_source_files);
	tcase_add_test(tc, test_install_twice_changes_nothing);
	tcase_add_test(tc, test_push_of_edited_migration_is_rejected);
	tcase_add_test(tc, test_push_of_good_migration_passes);
	tcase_add_test(tc, test_bad_name_and_out_of_order_are_rejected);
	tcase_add_test(tc, test_lint_errors_of_new_migrations_are_rejected);
	tcase_add_test(tc, test_new_branch_is_checked_against_the_remote);
	tcase_add_test(tc, test_force_push_over_unfetched_commits);
	tcase_add_test(tc, test_user_pre_push_hook_is_chained);
	tcase_add_test(tc, test_install_refuses_when_chained_name_is_taken);
	tcase_add_test(tc, test_core_hooks_path);
	tcase_add_test(tc, test_linked_worktree);
	tcase_add_test(tc, test_missing_cairn_lets_git_go_on);
	tcase_add_test(tc, test_malformed_input_fails_clearly);
	tcase_add_test(tc, test_pre_push_checks_drift_when_the_database_answers);
	tcase_add_test(tc, test_post_merge_lists_and_applies);
	tcase_add_test(tc, test_post_merge_lists_without_apply);
	tcase_add_test(tc, test_post_checkout_warns_about_applied_migrations);
	tcase_add_test(tc, test_pull_rebase_reports_through_post_rewrite);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(githooks_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
