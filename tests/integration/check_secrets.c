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

/* --- 16: the environment of an exec hook ---------------------------------- */

START_TEST(test_exec_hook_env_scrubbed)
{
	project p;
	tu_result r;
	char *env, *db, *want_db;

	project_init(&p,
		     "  post_validate:\n"
		     "    - run: [\"/bin/sh\", \"-c\", \"env > env.txt; "
		     "psql -XAtc 'select current_database()' > db.txt 2>&1\"]\n"
		     "  pre_rollback:\n"
		     "    - webhook: http://127.0.0.1:9/never\n"
		     "      secret_env: WEBHOOK_SECRET\n"
		     "audit:\n"
		     "  secret_env: AUDIT_KEY_VAR\n");
	{
		const char *extra[] = {
			"PGPASSWORD=" PASSWORD,
			"AUDIT_KEY_VAR=audit-key-0123456789",
			"OTHER_URL=https://deploy:hunter2-xyz@example.com/x",
			"PW_ONLY=" PASSWORD,
			"KEEP_ME=hello",
			NULL,
		};
		char dbvar[4096];
		const char *envv[8] = { dbvar, "WEBHOOK_SECRET=" WEBHOOK_SECRET };
		size_t n = 2;

		snprintf(dbvar, sizeof(dbvar), "SEC_TEST_DB=%s", p.pw_url);
		for (size_t i = 0; extra[i]; i++)
			envv[n++] = extra[i];
		envv[n] = NULL;
		tu_cairn_env(&r, p.dir, envv, NULL, "migrate", "up", NULL);
	}
	ck_assert_msg(r.status == 0, "%d\n%s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);

	env = tu_read(p.dir, "env.txt");
	ck_assert_ptr_nonnull(env);
	ck_assert_msg(!tu_contains(env, PASSWORD), "%s", env);
	ck_assert_msg(!tu_contains(env, WEBHOOK_SECRET), "%s", env);
	ck_assert_msg(!tu_contains(env, "hunter2"), "%s", env);
	ck_assert(!tu_contains(env, "SEC_TEST_DB="));
	ck_assert(!tu_contains(env, "WEBHOOK_SECRET="));
	ck_assert(!tu_contains(env, "PGPASSWORD="));
	ck_assert(!tu_contains(env, "OTHER_URL="));
	ck_assert(!tu_contains(env, "PW_ONLY="));
	ck_assert(!tu_contains(env, "AUDIT_KEY_VAR="));
	ck_assert_msg(!tu_contains(env, "audit-key-0123456789"), "%s", env);
	/* the rest is inherited, and cairn's own PG* variables are set */
	ck_assert(tu_contains(env, "\nKEEP_ME=hello\n"));
	ck_assert(tu_contains(env, "\nPGHOST="));
	ck_assert(tu_contains(env, "\nPGDATABASE="));
	ck_assert(tu_contains(env, "\nPGPASSFILE=/dev/fd/"));
	ck_assert(tu_contains(env, "\nCAIRN_HOOK_NAME="));
	/* psql in the hook reaches the database cairn migrates */
	db = tu_read(p.dir, "db.txt");
	want_db = tu_db_value(p.url, "SELECT current_database() || E'\\n'");
	ck_assert_ptr_nonnull(db);
	ck_assert_str_eq(db, want_db);
	free(db);
	free(want_db);
	free(env);
	project_dispose(&p);
}
END_TEST

/* --- 17a: libpq's parse errors ------------------------------------------- */

START_TEST(test_malformed_conninfo_redacted)
{
	static const struct {
		const char *conninfo;
		const char *secrets[3]; /* none may appear in any output */
	} cases[] = {
		{ "postgresql://app:S3cr3t%ZZ@localhost/app",
		  { "S3cr3t", NULL } },
		{ "postgres://app:Pa55%2word@db.example.com:5432/app",
		  { "Pa55", "word", NULL } },
		{ "postgresql://localhost/app?user=app&password=Hunt%er22",
		  { "Hunt", "er22", NULL } },
		{ "postgresql://app:Sw0rdf1sh@[::1/app",
		  { "Sw0rdf1sh", NULL } },
		{ "postgresql://app:Sp ace42pw@localhost/app",
		  { "Sp", "ace42pw", NULL } },
		{ "host=localhost password=Open Sesame99 dbname=app",
		  { "Open", "Sesame99", NULL } },
		{ "host=localhost password = 'Quo\\'ted77' bogus=1",
		  { "Quo", "ted77", NULL } },
		{ "host=localhost password=Kn0ck%ZZ dbname",
		  { "Kn0ck", NULL } },
		{ "password=Tr0ub4dor user",
		  { "Tr0ub4dor", NULL } },
	};
	project p;
	size_t i, k;

	project_init(&p, "  {}\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static const char *const cmds[][2] = {
			{ "migrate", "up" }, { "status", NULL },
		};

		for (size_t c = 0; c < 2; c++) {
			tu_result r;
			const char *env[] = { "SEC_TEST_DB=", NULL };

			if (cmds[c][1])
				tu_cairn_env(&r, p.dir, env, NULL, cmds[c][0],
					     cmds[c][1], "--db",
					     cases[i].conninfo, NULL);
			else
				tu_cairn_env(&r, p.dir, env, NULL, cmds[c][0],
					     "--db", cases[i].conninfo, NULL);
			ck_assert_msg(r.status != 0, "%s accepted %s",
				      cmds[c][0], cases[i].conninfo);
			for (k = 0; cases[i].secrets[k]; k++)
				ck_assert_msg(!tu_contains(r.out,
							   cases[i].secrets[k]) &&
						      !tu_contains(r.err,
							   cases[i].secrets[k]),
					      "%s: '%s' leaked:\n%s%s",
					      cmds[c][0], cases[i].secrets[k],
					      r.out, r.err);
			/* it got as far as connecting, and says so */
			ck_assert_msg(tu_contains(r.err, "cannot connect to "
							 "the database"),
				      "%s%s", r.out, r.err);
			tu_result_dispose(&r);
		}
	}
	project_dispose(&p);
}
END_TEST

/* --- 17b: hook output scrubbed ------------------------------------------- */

START_TEST(test_hook_output_scrubbed)
{
	project p;
	tu_result r;
	char *log, *audit;

	project_init(&p,
		     "  post_validate:\n"
		     "    - builtin: log\n"
		     "      path: cairn-log.jsonl\n"
		     "  pre_execute:\n"
		     "    - run: [\"/bin/sh\", \"-c\", \"cat leak.txt; "
		     "cat leak.txt >&2; exit 3\"]\n"
		     "      name: leaky\n"
		     "  on_error:\n"
		     "    - builtin: log\n"
		     "      path: cairn-log.jsonl\n"
		     "  pre_rollback:\n"
		     "    - webhook: http://127.0.0.1:9/never\n"
		     "      secret_env: WEBHOOK_SECRET\n");
	/* a hook that prints a file holding the secrets */
	tu_write(p.dir, "leak.txt",
		 "password is " PASSWORD " and token " WEBHOOK_SECRET "\n");
	run_cairn(&r, &p, NULL, "migrate", "up");
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(tu_contains(r.err, "leaky"), "%s", r.err);
	ck_assert_msg(tu_contains(r.out, "password is ********") ||
			      tu_contains(r.err, "password is ********"),
		      "%s%s", r.out, r.err);
	ck_assert_msg(!tu_contains(r.out, PASSWORD) &&
			      !tu_contains(r.err, PASSWORD),
		      "%s%s", r.out, r.err);
	ck_assert(!tu_contains(r.out, WEBHOOK_SECRET) &&
		  !tu_contains(r.err, WEBHOOK_SECRET));
	tu_result_dispose(&r);

	log = tu_read(p.dir, "cairn-log.jsonl");
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(!tu_contains(log, PASSWORD), "%s", log);
	ck_assert_msg(!tu_contains(log, WEBHOOK_SECRET), "%s", log);
	free(log);
	audit = tu_db_value(p.url, "SELECT coalesce(string_agg(a::text, "
				   "E'\\n'), '') FROM cairn.audit a");
	ck_assert_ptr_nonnull(audit);
	ck_assert_msg(!tu_contains(audit, PASSWORD), "%s", audit);
	ck_assert_msg(!tu_contains(audit, WEBHOOK_SECRET), "%s", audit);
	free(audit);
	project_dispose(&p);
}
END_TEST

/* --- 17c: no password file left behind ----------------------------------- */

/* Polls for dir/rel to exist, up to 60 s. */
static bool wait_for_file(const char *dir, const char *rel)
{
	char path[4096];
	struct timespec ts = { 0, 20 * 1000000L };

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (int i = 0; i < 3000; i++) {
		if (access(path, F_OK) == 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static size_t entries_in(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

START_TEST(test_passfile_survives_no_kill9)
{
	project p;
	char *tmp, *passfile, *hookpid, dbvar[4096], tmpvar[4096];
	pid_t pid;
	int status;

	project_init(&p,
		     "  post_validate:\n"
		     "    - run: [\"/bin/sh\", \"-c\", \"printf %s "
		     "\\\"$PGPASSFILE\\\" > passfile.txt; cat \\\"$PGPASSFILE\\\""
		     " > pass.txt; echo $$$$ > hook.tmp; mv hook.tmp hook.pid; "
		     "exec sleep 60\"]\n"
		     "      timeout: 120s\n");
	tmp = tu_mkdtemp();
	snprintf(dbvar, sizeof(dbvar), "%s", p.pw_url);
	snprintf(tmpvar, sizeof(tmpvar), "%s", tmp);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chdir(p.dir) < 0)
			_exit(126);
		setenv("SEC_TEST_DB", dbvar, 1);
		setenv("TMPDIR", tmpvar, 1);
		execl(tu_cairn_bin(), "cairn", "-q", "migrate", "up",
		      (char *)NULL);
		_exit(127);
	}
	ck_assert_msg(wait_for_file(p.dir, "hook.pid"), "the hook never ran");
	/* the hook could read the password while cairn lived */
	ck_assert(wait_for_file(p.dir, "pass.txt"));
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	hookpid = tu_read(p.dir, "hook.pid");
	ck_assert_ptr_nonnull(hookpid);
	{
		pid_t hp = (pid_t)strtol(hookpid, NULL, 10);

		ck_assert_int_gt(hp, 1);
		kill(-hp, SIGKILL); /* the hook leads a group of its own */
	}
	free(hookpid);

	passfile = tu_read(p.dir, "passfile.txt");
	ck_assert_ptr_nonnull(passfile);
	ck_assert_msg(!strncmp(passfile, "/dev/fd/", 8), "%s", passfile);
	free(passfile);
	/* nothing under $TMPDIR, nor a cairn-pgpass file under /tmp */
	ck_assert_uint_eq(entries_in(tmp), 0);
	{
		char *left = tu_sh_out(p.dir, "find /tmp -maxdepth 1 -name "
					      "'cairn-pgpass-*' -newer %s/"
					      "cairn.yaml | wc -l",
				       p.dir);

		ck_assert_str_eq(left, "0");
		free(left);
	}
	tu_rmrf(tmp);
	free(tmp);
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
	tcase_add_test(tc, test_exec_hook_env_scrubbed);
	tcase_add_test(tc, test_malformed_conninfo_redacted);
	tcase_add_test(tc, test_hook_output_scrubbed);
	tcase_add_test(tc, test_passfile_survives_no_kill9);
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
