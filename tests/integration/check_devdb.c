/*
 * check_devdb.c - the built-in development database on a real PostgreSQL
 * (src/devdb_*.c).
 *
 * Every repository directory lives under one base directory made by main()
 * (under /tmp, mode 0755, so the postgres user can reach it) and is listed
 * in <base>/workdirs.  Each test's teardown stops what it started; after
 * the run main() stops every listed cluster again and removes everything,
 * so a failed, crashed or timed-out test never leaves a server behind.
 */
#include <check.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/devdb.h"
#include "cairn/error.h"
#include "testutil.h"

static char *base;

/* Makes <base>/<name> (0755) and lists it for the final sweep. */
static char *new_workdir(const char *parent, const char *name)
{
	char *dir, *list;
	FILE *f;

	ck_assert(asprintf(&dir, "%s/%s", parent, name) > 0);
	ck_assert_msg(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir,
		      strerror(errno));
	chmod(dir, 0755);
	ck_assert(asprintf(&list, "%s/workdirs", base) > 0);
	f = fopen(list, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", dir);
	fclose(f);
	free(list);
	return dir;
}

/* Stops the cluster of workdir and removes it, wherever it lives. */
static void destroy(const char *workdir)
{
	cairn_devdb_options o = CAIRN_DEVDB_OPTIONS_INIT;
	char *cairn_dir, *loc;

	o.repo_workdir = workdir;
	if (cairn_devdb_stop(&o) < 0)
		fprintf(stderr, "check_devdb: stop '%s': %s\n", workdir,
			cairn_error_last()->message);
	if (asprintf(&cairn_dir, "%s/.cairn", workdir) < 0)
		abort();
	loc = tu_read(cairn_dir, "pg-location");
	if (loc) {
		loc[strcspn(loc, "\n")] = '\0';
		if (!strncmp(loc, "/tmp/cairn-devdb-", 17))
			tu_rmrf(loc);
		free(loc);
	}
	tu_rmrf(workdir);
	free(cairn_dir);
}

/* Workdirs of the running test, torn down by the checked fixture. */
static char *mine[8];
static size_t nmine;

static char *workdir_for_test(const char *parent, const char *name)
{
	char *d = new_workdir(parent, name);

	ck_assert_uint_lt(nmine, 8);
	mine[nmine++] = d;
	return d;
}

static void setup(void)
{
	nmine = 0;
}

static void teardown(void)
{
	/* last first: a repository before the directory holding it */
	while (nmine > 0) {
		nmine--;
		destroy(mine[nmine]);
		free(mine[nmine]);
	}
}

static char *pct(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			*o++ = (char)c;
		else
			o += snprintf(o, 4, "%%%02X", c);
	}
	*o = '\0';
	return out;
}

static char *url_for(const char *dir)
{
	char *enc = pct(dir), *url;

	ck_assert(asprintf(&url, "postgresql:///postgres?host=%s&user=postgres",
			   enc) > 0);
	free(enc);
	return url;
}

/* Connects to url and runs sql; returns the first value (caller frees). */
static char *query(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;
	char *v;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect %s: %s", url,
		      PQerrorMessage(c));
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
		      PQerrorMessage(c));
	v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return v;
}

static const char *errmsg(void)
{
	const cairn_error *e = cairn_error_last();

	return e ? e->message : "(no error)";
}

START_TEST(test_lifecycle)
{
	/* a space and a quote: URL encoding and postgresql.conf quoting */
	char *wd = workdir_for_test(base, "repo with space's");
	cairn_devdb_options o = CAIRN_DEVDB_OPTIONS_INIT;
	char *url = NULL, *url2 = NULL, *surl = NULL, *dir = NULL, *v;
	char *want_dir, *want_url, *ignore;
	bool running = true;

	o.repo_workdir = wd;
	ck_assert(asprintf(&want_dir, "%s/.cairn/pg", wd) > 0);
	want_url = url_for(want_dir);

	/* before anything exists */
	ck_assert_int_eq(cairn_devdb_status(&running, &surl, &dir, &o), 0);
	ck_assert(!running);
	ck_assert_ptr_null(surl);
	ck_assert_ptr_null(dir);
	ck_assert_int_eq(cairn_devdb_url(&surl, &o), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_devdb_stop(&o), 0);

	ck_assert_msg(cairn_devdb_start(&url, &o) == 0, "start: %s", errmsg());
	ck_assert_str_eq(url, want_url);
	v = query(url, "SELECT 1");
	ck_assert_str_eq(v, "1");
	free(v);
	v = query(url, "SHOW listen_addresses");
	ck_assert_str_eq(v, ""); /* no TCP port */
	free(v);
	v = query(url, "SHOW server_encoding");
	ck_assert_str_eq(v, "UTF8");
	free(v);

	ignore = tu_read(wd, ".cairn/.gitignore");
	ck_assert_ptr_nonnull(ignore);
	ck_assert_str_eq(ignore, "*\n");
	free(ignore);
	ck_assert_ptr_null(tu_read(wd, ".cairn/pg-location"));

	ck_assert_int_eq(cairn_devdb_status(&running, &surl, &dir, &o), 0);
	ck_assert(running);
	ck_assert_str_eq(surl, want_url);
	ck_assert_str_eq(dir, want_dir);
	free(surl);
	free(dir);
	surl = dir = NULL;

	/* starting a running server: a no-op with the same URL */
	ck_assert_msg(cairn_devdb_start(&url2, &o) == 0, "start: %s", errmsg());
	ck_assert_str_eq(url2, url);
	free(url2);
	url2 = NULL;
	ck_assert_int_eq(cairn_devdb_url(&url2, &o), 0);
	ck_assert_str_eq(url2, url);
	free(url2);
	url2 = NULL;
	ck_assert_int_eq(cairn_devdb_start(NULL, &o), 0);

	/* stop, and stop again */
	ck_assert_msg(cairn_devdb_stop(&o) == 0, "stop: %s", errmsg());
	ck_assert_int_eq(cairn_devdb_status(&running, NULL, NULL, &o), 0);
	ck_assert(!running);
	ck_assert_int_eq(cairn_devdb_stop(&o), 0);
	ck_assert_int_eq(cairn_devdb_url(&url2, &o), 0); /* still created */
	ck_assert_str_eq(url2, url);
	free(url2);
	url2 = NULL;

	/* a warm start keeps the data */
	ck_assert_msg(cairn_devdb_start(&url2, &o) == 0, "start: %s", errmsg());
	ck_assert_str_eq(url2, url);
	ck_assert_int_eq(cairn_devdb_status(&running, NULL, NULL, &o), 0);
	ck_assert(running);
	ck_assert_int_eq(cairn_devdb_stop(&o), 0);

	free(url);
	free(url2);
	free(want_url);
	free(want_dir);
}
END_TEST

START_TEST(test_start_failure_is_explained)
{
	char *wd = workdir_for_test(base, "broken");
	cairn_devdb_options o = CAIRN_DEVDB_OPTIONS_INIT;
	const cairn_error *e;
	char *url = NULL, *conf, *orig;

	o.repo_workdir = wd;
	ck_assert_msg(cairn_devdb_start(&url, &o) == 0, "start: %s", errmsg());
	ck_assert_int_eq(cairn_devdb_stop(&o), 0);

	/* a setting the server rejects */
	ck_assert(asprintf(&conf, "%s/.cairn/pg/data", wd) > 0);
	orig = tu_read(conf, "postgresql.conf");
	ck_assert_ptr_nonnull(orig);
	ck_assert_int_eq(tu_sh(conf, "echo \"shared_buffers = 'lots'\" "
				     ">> postgresql.conf"),
			 0);
	ck_assert_int_ne(cairn_devdb_start(NULL, &o), 0);
	e = cairn_error_last();
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_DB);
	ck_assert_str_eq(e->message, "cannot start the development database");
	ck_assert_msg(tu_contains(e->detail, "shared_buffers"), "detail: %s",
		      e->detail ? e->detail : "(none)");
	ck_assert_ptr_nonnull(e->hint);
	ck_assert(tu_contains(e->hint, "server.log"));

	/* fixed, it starts again */
	tu_write(conf, "postgresql.conf", orig);
	ck_assert_msg(cairn_devdb_start(NULL, &o) == 0, "start: %s", errmsg());
	free(orig);
	free(conf);
	free(url);
}
END_TEST

/* Checks a cluster recorded in .cairn/pg-location, and returns it. */
static char *check_fallback(const char *wd)
{
	cairn_devdb_options o = CAIRN_DEVDB_OPTIONS_INIT;
	char *url = NULL, *want, *loc, *dir = NULL, *v;
	bool running = false;
	struct stat st;

	o.repo_workdir = wd;
	ck_assert_msg(cairn_devdb_start(&url, &o) == 0, "start: %s", errmsg());
	loc = tu_read(wd, ".cairn/pg-location");
	ck_assert_msg(loc != NULL, "no .cairn/pg-location");
	loc[strcspn(loc, "\n")] = '\0';
	ck_assert_msg(!strncmp(loc, "/tmp/cairn-devdb-", 17), "%s", loc);
	ck_assert_int_eq(stat(loc, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");

		ck_assert_ptr_nonnull(pw);
		ck_assert_int_eq(st.st_uid, pw->pw_uid);
	} else {
		ck_assert_int_eq(st.st_uid, geteuid());
	}
	want = url_for(loc);
	ck_assert_str_eq(url, want);
	v = query(url, "SELECT 1");
	ck_assert_str_eq(v, "1");
	free(v);
	ck_assert_int_eq(cairn_devdb_status(&running, NULL, &dir, &o), 0);
	ck_assert(running);
	ck_assert_str_eq(dir, loc);
	free(dir);

	/* later calls find it again, stopped or running */
	ck_assert_int_eq(cairn_devdb_stop(&o), 0);
	ck_assert_int_eq(cairn_devdb_status(&running, NULL, NULL, &o), 0);
	ck_assert(!running);
	free(url);
	ck_assert_msg(cairn_devdb_start(&url, &o) == 0, "start: %s", errmsg());
	ck_assert_str_eq(url, want);
	ck_assert_int_eq(cairn_devdb_stop(&o), 0);
	free(url);
	free(want);
	return loc;
}

START_TEST(test_fallback_closed_directory)
{
	const char *closed, *wd;
	char *loc;

	if (geteuid() != 0) {
		fprintf(stderr, "check_devdb: not root; the closed-directory "
				"fallback is only exercised as root\n");
		return;
	}
	/* a repository the postgres user cannot reach: <base>/closed is 0700 */
	closed = workdir_for_test(base, "closed");
	ck_assert_int_eq(chmod(closed, 0700), 0);
	wd = workdir_for_test(closed, "repo");
	loc = check_fallback(wd);
	ck_assert_ptr_null(tu_read(wd, ".cairn/pg/data/PG_VERSION"));
	free(loc);
}
END_TEST

START_TEST(test_fallback_long_socket_path)
{
	/* <dir>/.s.PGSQL.5432 would not fit in a unix socket address */
	char name[101], *wd, *loc;

	memset(name, 'l', 100);
	name[100] = '\0';
	wd = workdir_for_test(base, name);
	loc = check_fallback(wd);
	free(loc);
}
END_TEST

START_TEST(test_bad_options)
{
	cairn_devdb_options o = CAIRN_DEVDB_OPTIONS_INIT;
	char *wd = workdir_for_test(base, "opts");
	char *url = NULL;

	ck_assert_int_eq(cairn_devdb_start(&url, &o), CAIRN_ERROR);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_USAGE);
	o.repo_workdir = "/nonexistent/cairn/repo";
	ck_assert_int_eq(cairn_devdb_start(&url, &o), CAIRN_ERROR);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_OS);
	ck_assert(tu_contains(errmsg(), "/nonexistent/cairn/repo"));
	o.version = 99;
	ck_assert_int_eq(cairn_devdb_stop(&o), CAIRN_ERROR);

	o.version = CAIRN_DEVDB_OPTIONS_VERSION;
	o.repo_workdir = wd;
	o.pg_bindir = "/nonexistent/bin";
	ck_assert_int_eq(cairn_devdb_start(&url, &o), CAIRN_ERROR);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_DB);
	ck_assert_str_eq(errmsg(), "cannot start the development database");
	ck_assert(tu_contains(cairn_error_last()->detail, "/nonexistent/bin"));
	ck_assert_ptr_null(url);
}
END_TEST

static Suite *devdb_suite(void)
{
	Suite *s = suite_create("devdb");
	TCase *tc = tcase_create("devdb");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_start_failure_is_explained);
	tcase_add_test(tc, test_fallback_closed_directory);
	tcase_add_test(tc, test_fallback_long_socket_path);
	tcase_add_test(tc, test_bad_options);
	suite_add_tcase(s, tc);
	return s;
}

/* Stops and removes whatever a test left behind, newest first. */
static void sweep(void)
{
	char *text = tu_read(base, "workdirs"), *p;
	size_t n;

	n = text ? strlen(text) : 0;
	while (n > 0) {
		text[n - 1] = '\0'; /* the newline ending the last line */
		p = strrchr(text, '\n');
		p = p ? p + 1 : text;
		if (*p && access(p, F_OK) == 0)
			destroy(p);
		n = (size_t)(p - text);
	}
	free(text);
	tu_rmrf(base);
}

int main(void)
{
	char tmpl[] = "/tmp/cairn-devdb-test-XXXXXX";
	SRunner *sr;
	int failed;

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	chmod(tmpl, 0755);
	base = tmpl;
	sr = srunner_create(devdb_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sweep();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
