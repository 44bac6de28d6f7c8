/*
 * check_devdb_hostile.c - the development database against a hostile
 * repository (issue 9, item 14), run as root when the tests are (they
 * are in CI): a committed .cairn/pg or .cairn that is a symbolic link to
 * a root-owned directory, a committed cluster directory that is not the
 * server's, and symbolic links planted in an existing cluster in place
 * of postgresql.conf and cairn.conf.
 *
 * Each time cairn must refuse with a clear error, and the target must
 * stay exactly as it was: owner, mode and contents.  Targets live in a
 * "victim" directory of their own, 0755 and owned by whoever runs the
 * tests (root in CI), like /etc would be.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/devdb.h"
#include "cairn/error.h"
#include "testutil.h"

static char *base;   /* 0755, so the postgres user can reach below it */
static char *work;   /* this test's repository work dir */
static char *victim; /* what a link points at */

static const char *errmsg(void)
{
	const cairn_error *e = cairn_error_last();

	return e && e->message ? e->message : "(no error)";
}

static char *path_in(const char *dir, const char *rel)
{
	char *p;

	ck_assert(asprintf(&p, "%s/%s", dir, rel) > 0);
	return p;
}

/* A fresh 0755 directory under base (unique across forked tests). */
static char *fresh_dir(const char *prefix)
{
	char *p = path_in(base, prefix);

	ck_assert_ptr_nonnull(mkdtemp(p));
	ck_assert_int_eq(chmod(p, 0755), 0);
	return p;
}

static void setup(void)
{
	work = fresh_dir("repo-XXXXXX");
	victim = fresh_dir("victim-XXXXXX");
	tu_write(victim, "keep", "precious\n");
	cairn_error_clear();
}

static void teardown(void)
{
	cairn_devdb_options o = CAIRN_DEVDB_OPTIONS_INIT;

	o.repo_workdir = work;
	if (cairn_devdb_stop(&o) < 0)
		cairn_error_clear(); /* a refused layout: nothing runs */
	tu_rmrf(work);
	tu_rmrf(victim);
	free(work);
	free(victim);
}

/* The victim directory: owner, mode and the one file, as set up. */
static void assert_victim_untouched(void)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	size_t n = 0;
	char *text;

	ck_assert_int_eq(lstat(victim, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_uid, geteuid());
	ck_assert_int_eq(st.st_mode & 07777, 0755);
	d = opendir(victim);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		ck_assert_msg(!strcmp(e->d_name, "keep"),
			      "'%s' appeared in the victim directory",
			      e->d_name);
		n++;
	}
	closedir(d);
	ck_assert_uint_eq(n, 1);
	text = tu_read(victim, "keep");
	ck_assert_str_eq(text, "precious\n");
	free(text);
}

/* Every entry point refuses, naming a link. */
static void assert_all_refuse(const char *what)
{
	cairn_devdb_options o = CAIRN_DEVDB_OPTIONS_INIT;
	char *url = NULL, *dir = NULL;
	bool running = true;

	o.repo_workdir = work;
	if (cairn_devdb_start(&url, &o) == 0) {
		cairn_devdb_stop(&o); /* leave no server behind, then fail */
		ck_abort_msg("start accepted the layout (%s)", url);
	}
	ck_assert_ptr_null(url);
	ck_assert_msg(tu_contains(errmsg(), what) &&
			      tu_contains(errmsg(), "refusing"),
		      "start: %s", errmsg());
	ck_assert_int_lt(cairn_devdb_status(&running, &url, &dir, &o), 0);
	ck_assert_msg(tu_contains(errmsg(), what), "status: %s", errmsg());
	ck_assert(!running);
	ck_assert_ptr_null(dir);
	ck_assert_int_eq(cairn_devdb_url(&url, &o), CAIRN_ERROR);
	ck_assert_msg(tu_contains(errmsg(), what), "url: %s", errmsg());
	ck_assert_int_lt(cairn_devdb_stop(&o), 0);
	ck_assert_msg(tu_contains(errmsg(), what), "stop: %s", errmsg());
}

START_TEST(test_pg_symlink_refused)
{
	char *cairn = path_in(work, ".cairn"), *link = path_in(cairn, "pg");

	ck_assert_int_eq(mkdir(cairn, 0755), 0);
	ck_assert_int_eq(symlink(victim, link), 0);
	assert_all_refuse("symbolic link");
	assert_victim_untouched();

	/* the program says so too, and exits non-zero */
	{
		tu_result r;

		ck_assert_int_eq(tu_sh(work, "git init -q ."), 0);
		tu_cairn(&r, work, "dev-db", "start", NULL);
		ck_assert_int_ne(r.status, 0);
		ck_assert_msg(tu_contains(r.err, "refusing to use") &&
				      tu_contains(r.err, ".cairn/pg") &&
				      tu_contains(r.err, "symbolic link"),
			      "%s", r.err);
		tu_result_dispose(&r);
	}
	assert_victim_untouched();
	free(link);
	free(cairn);
}
END_TEST

START_TEST(test_cairn_dir_symlink_refused)
{
	char *link = path_in(work, ".cairn");

	ck_assert_int_eq(symlink(victim, link), 0);
	assert_all_refuse("symbolic link");
	assert_victim_untouched(); /* no devdb.lock, .gitignore or pg/ */
	free(link);
}
END_TEST

/*
 * A committed directory that looks like a cluster but is not the
 * server's (root's, 0755): status, url and stop refused it no more than
 * start used to; now all of them refuse it, and it is left alone.
 */
START_TEST(test_foreign_cluster_dir_refused)
{
	char *pg = path_in(work, ".cairn/pg");
	struct stat before, after;

	tu_write(work, ".cairn/pg/data/PG_VERSION", "16\n");
	ck_assert_int_eq(chmod(pg, 0755), 0);
	ck_assert_int_eq(stat(pg, &before), 0);
	if (geteuid() != 0) {
		/* our own 0755 directory: the mode alone disqualifies it */
		ck_assert_int_eq(before.st_uid, geteuid());
	}
	assert_all_refuse("mode 0755");
	ck_assert_int_eq(stat(pg, &after), 0);
	ck_assert_int_eq(after.st_uid, before.st_uid);
	ck_assert_int_eq(after.st_mode, before.st_mode);
	free(pg);
}
END_TEST

/* Replaces dir/rel by a symbolic link to target. */
static void plant_link(const char *dir, const char *rel, const char *target)
{
	char *p = path_in(dir, rel);

	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(symlink(target, p), 0);
	free(p);
}

START_TEST(test_conf_symlinks_refused)
{
	cairn_devdb_options o = CAIRN_DEVDB_OPTIONS_INIT;
	char *url = NULL, *pg = path_in(work, ".cairn/pg"), *conf, *text;
	char *main_target = path_in(victim, "keep");
	char *cairn_target = path_in(victim, "keep");
	struct stat st, vst;

	o.repo_workdir = work;
	ck_assert_msg(cairn_devdb_start(&url, &o) == 0, "start: %s", errmsg());
	ck_assert_msg(cairn_devdb_stop(&o) == 0, "stop: %s", errmsg());
	free(url);
	url = NULL;

	/* postgresql.conf and cairn.conf become links to the victim */
	plant_link(pg, "data/postgresql.conf", main_target);
	plant_link(pg, "data/cairn.conf", cairn_target);
	ck_assert_int_eq(stat(main_target, &vst), 0);

	ck_assert_int_lt(cairn_devdb_start(&url, &o), 0);
	ck_assert_ptr_null(url);
	ck_assert_msg(tu_contains(errmsg(), "postgresql.conf") &&
			      tu_contains(errmsg(), "symbolic link"),
		      "%s", errmsg());
	assert_victim_untouched();
	ck_assert_int_eq(stat(main_target, &st), 0);
	ck_assert_int_eq(st.st_size, vst.st_size);
	ck_assert_int_eq(st.st_mode, vst.st_mode);
	ck_assert_int_eq(st.st_uid, vst.st_uid);
	/* cairn.conf was replaced by a file of cairn's, not written through */
	conf = path_in(pg, "data/cairn.conf");
	ck_assert_int_eq(lstat(conf, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	text = tu_read(pg, "data/cairn.conf");
	ck_assert(tu_contains(text, "unix_socket_directories"));
	free(text);
	free(conf);
	free(main_target);
	free(cairn_target);
	free(pg);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("devdb_hostile");
	TCase *tc = tcase_create("devdb_hostile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_pg_symlink_refused);
	tcase_add_test(tc, test_cairn_dir_symlink_refused);
	tcase_add_test(tc, test_foreign_cluster_dir_refused);
	tcase_add_test(tc, test_conf_symlinks_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	char tmpl[] = "/tmp/cairn-devdb-hostile-XXXXXX";
	SRunner *sr;
	int failed;

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	chmod(tmpl, 0755);
	base = tmpl;
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tu_rmrf(base);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
