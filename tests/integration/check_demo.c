/*
 * check_demo.c - `make demo` cannot rot: runs scripts/demo, as `make demo`
 * does, and checks that it succeeds, shows every step, and leaves nothing
 * behind.
 *
 * The demo runs with TMPDIR set to a directory of this test's own (mode
 * 0755, so the development database's server, which runs as `postgres`
 * under root, can reach it), so that afterwards the test can tell that the
 * demo removed its sandbox and that no process (PostgreSQL server, webhook
 * receiver) still runs from it.  CAIRN_BIN comes from tests/run, so the
 * demo exercises the binary under test (also under `make asan`).
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/* Lines the demo must print: one per step, and what proves the step. */
static const char *const expected[] = {
	"A sample project: a shop's database, written by three people",
	"$ cairn githooks install",
	"$ git push origin main v1 v2",
	"$ cairn validate",
	"$ cairn plan v1..v2 --format markdown",
	"| 0005 |",
	"Carol Chen",
	"$ cairn hooks list",
	"customers-have-emails",
	"$ cairn migrate up",
	"[exec:announce] applied 0003_seed_customers",
	"metrics: 5 applied",
	"check-data-integrity:",
	"applied 5 migrations on development",
	"receiver: POST /cairn",
	"signature ok",
	"$ cairn migrate up --worktree",
	"customers in the database: still 3",
	"$ cairn status",
	"5 applied, 0 pending",
	"$ cairn audit log",
	"$ cairn audit verify",
	"edited-after-push",
	"$ git revert --no-edit HEAD",
	"$ cairn new add_order_note",
	"$ cairn migrate down --steps 1",
	"rolled back 0006_add_order_note",
	"5 applied, 1 pending",
	"$ cairn dev-db stop",
	"Every step did what it said.",
};

/* Number of entries in dir (without . and ..), or -1. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/*
 * Pid of a process whose command line mentions needle, or 0.  Our own
 * process and its parent are not considered.
 */
static long process_mentioning(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char path[300], buf[8192];
		long pid = strtol(e->d_name, NULL, 10);
		size_t n;
		FILE *f;

		if (pid <= 0 || pid == (long)getpid() || pid == (long)getppid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[n] = '\0';
		if (strstr(buf, needle))
			found = pid;
	}
	closedir(d);
	return found;
}

START_TEST(test_demo_runs_end_to_end)
{
	char *base = tu_mkdtemp();
	char *script, *tmpdir;
	const char *src = getenv("CAIRN_SRCDIR");
	const char *argv[3];
	const char *env[3];
	tu_result r;
	time_t t0 = time(NULL);
	long pid;
	int left;

	ck_assert_ptr_nonnull(src);
	ck_assert(asprintf(&script, "%s/scripts/demo", src) > 0);
	ck_assert(asprintf(&tmpdir, "TMPDIR=%s", base) > 0);
	argv[0] = script;
	argv[1] = NULL;
	env[0] = tmpdir;
	env[1] = "DEMO_KEEP=0";
	env[2] = NULL;
	tu_run(&r, base, argv, env, NULL);
	fprintf(stderr, "check_demo: scripts/demo took %ld s\n",
		(long)(time(NULL) - t0));
	/* what the demo left behind, before any assertion can stop us */
	left = count_entries(base);
	pid = process_mentioning(base);
	if (pid)
		kill((pid_t)pid, SIGKILL);
	tu_rmrf(base);
	if (r.status != 0)
		fprintf(stderr, "--- demo stdout ---\n%s\n--- demo stderr ---\n%s\n",
			r.out, r.err);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(!tu_contains(r.err, "FAILED"), "stderr: %s", r.err);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		ck_assert_msg(tu_contains(r.out, expected[i]),
			      "the demo did not print '%s':\n%s", expected[i],
			      r.out);
	/* plain output when stdout is not a terminal */
	ck_assert_msg(!tu_contains(r.out, "\033["), "escape codes in:\n%s",
		      r.out);

	/* nothing left behind: no sandbox, no server, no receiver */
	ck_assert_int_eq(left, 0);
	ck_assert_msg(pid == 0, "process %ld still ran from %s", pid, base);

	tu_result_dispose(&r);
	free(base);
	free(script);
	free(tmpdir);
}
END_TEST

/*
 * The libpq variables for a test database URL of the form
 * postgresql:///NAME?host=PERCENT-ENCODED-DIR&user=USER, as cairn hands
 * them to exec hooks.  env receives three "K=V" strings; caller frees.
 */
static void pg_env_for(char *env[3], const char *url)
{
	const char *db = strstr(url, ":///"), *q = strchr(url, '?');
	const char *h = strstr(url, "host="), *u = strstr(url, "user=");
	char host[512];
	size_t o = 0;

	ck_assert(db && q && h && u);
	db += 4;
	for (h += 5; *h && *h != '&' && o < sizeof(host) - 1; h++) {
		if (*h == '%' && h[1] && h[2]) {
			char hex[3] = { h[1], h[2], '\0' };

			host[o++] = (char)strtol(hex, NULL, 16);
			h += 2;
		} else {
			host[o++] = *h;
		}
	}
	host[o] = '\0';
	ck_assert(asprintf(&env[0], "PGHOST=%s", host) > 0);
	ck_assert(asprintf(&env[1], "PGDATABASE=%.*s", (int)(q - db), db) > 0);
	ck_assert(asprintf(&env[2], "PGUSER=%.*s", (int)strcspn(u + 5, "&"),
			   u + 5) > 0);
}

/* The example configurations pass cairn's parser and pipeline builder. */
START_TEST(test_example_configs_parse)
{
	const char *src = getenv("CAIRN_SRCDIR");
	const char *env[] = {
		"STAGING_DATABASE_URL=postgresql://staging.db.internal/billing",
		"PROD_DATABASE_URL=postgresql://prod.db.internal/billing",
		"SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0/B0/X",
		"DEMO_WEBHOOK_URL=http://127.0.0.1:9/cairn",
		/* the pipeline is built: webhooks need their secrets */
		"CAIRN_WEBHOOK_SECRET=example",
		"DEMO_WEBHOOK_SECRET=example",
		NULL,
	};
	static const struct {
		const char *file, *hook;
	} configs[] = {
		{ "examples/cairn.yaml", "no-orphan-invoices" },
		{ "examples/demo/cairn.yaml", "customers-have-emails" },
	};
	char *repo = tu_git_repo();

	ck_assert_ptr_nonnull(src);
	/* hooks list builds the pipeline: the sql_file it names must exist */
	tu_write(repo, "db/checks/currencies_present.sql", "SELECT 0;\n");
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		char *path;
		tu_result r;

		ck_assert(asprintf(&path, "%s/%s", src, configs[i].file) > 0);
		tu_cairn_env(&r, repo, env, NULL, "--config", path, "hooks",
			     "list", NULL);
		ck_assert_msg(r.status == 0, "%s: status %d: %s",
			      configs[i].file, r.status, r.err);
		ck_assert_msg(tu_contains(r.out, configs[i].hook), "%s: %s",
			      configs[i].file, r.out);
		tu_result_dispose(&r);
		free(path);
	}
	tu_rmrf(repo);
	free(repo);
}
END_TEST

/* examples/hooks/ work as cairn runs them: psql through PG* only. */
START_TEST(test_example_hooks)
{
	const char *src = getenv("CAIRN_SRCDIR");
	char *url = tu_db_create("examples"), *pg[3], *integrity, *cache;
	char *dir = tu_mkdtemp();
	const char *env[6];
	const char *argv[4];
	tu_result r;

	ck_assert_ptr_nonnull(src);
	pg_env_for(pg, url);
	ck_assert(asprintf(&integrity, "%s/examples/hooks/check-data-integrity",
			   src) > 0);
	ck_assert(asprintf(&cache, "%s/examples/hooks/rebuild-cache", src) > 0);
	env[0] = pg[0];
	env[1] = pg[1];
	env[2] = pg[2];
	env[3] = "CAIRN_EVENT=post_complete";
	env[4] = "CAIRN_RUN_ID=3f1c2a9e-demo";
	env[5] = NULL;
	ck_assert_int_eq(tu_db_exec(url,
		"CREATE TABLE accounts (id int PRIMARY KEY, email text);"
		"INSERT INTO accounts VALUES (1, 'a@example.com'), (2, 'b@example.com');"
		"CREATE MATERIALIZED VIEW account_count AS SELECT count(*) AS n FROM accounts;"
		"CREATE MATERIALIZED VIEW account_ids AS SELECT id FROM accounts;"
		"CREATE UNIQUE INDEX ON account_ids (id);"), 0);
	tu_write(dir, "checks/emails.sql",
		 "SELECT id FROM accounts WHERE email NOT LIKE '%@%';\n");

	/* all well: exit 0, a summary line */
	argv[0] = integrity;
	argv[1] = "checks";
	argv[2] = NULL;
	tu_run(&r, dir, argv, env, NULL);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "3 checks passed"), "out: %s", r.out);
	tu_result_dispose(&r);

	/* a bad row and a constraint never validated: exit 1, both named */
	ck_assert_int_eq(tu_db_exec(url,
		"INSERT INTO accounts VALUES (3, 'broken');"
		"ALTER TABLE accounts ADD CONSTRAINT positive_id "
		"CHECK (id > 0) NOT VALID;"), 0);
	tu_run(&r, dir, argv, env, NULL);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "checks/emails.sql: 1 row(s)"), "out: %s",
		      r.out);
	ck_assert_msg(tu_contains(r.out, "positive_id"), "out: %s", r.out);
	ck_assert_msg(tu_contains(r.err, "2 of 3 checks failed"), "err: %s",
		      r.err);
	tu_result_dispose(&r);

	/* rebuild-cache refreshes both views (one concurrently) and notifies */
	argv[0] = cache;
	argv[1] = NULL;
	tu_run(&r, dir, argv, env, NULL);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "refreshed 2 materialized view(s)"),
		      "out: %s", r.out);
	tu_result_dispose(&r);
	{
		char *n = tu_db_value(url, "SELECT n FROM account_count");

		ck_assert_str_eq(n, "3");
		free(n);
	}
	argv[1] = "--fast";
	argv[2] = NULL;
	tu_run(&r, dir, argv, env, NULL);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "--fast"), "out: %s", r.out);
	tu_result_dispose(&r);

	for (int i = 0; i < 3; i++)
		free(pg[i]);
	tu_rmrf(dir);
	free(dir);
	free(url);
	free(integrity);
	free(cache);
}
END_TEST

/* A step that does not do what it says stops the demo with an error. */
START_TEST(test_demo_fails_without_cairn)
{
	char *base = tu_mkdtemp();
	char *script, *tmpdir;
	const char *src = getenv("CAIRN_SRCDIR");
	const char *argv[2];
	const char *env[3];
	tu_result r;
	int left;

	ck_assert_ptr_nonnull(src);
	ck_assert(asprintf(&script, "%s/scripts/demo", src) > 0);
	ck_assert(asprintf(&tmpdir, "TMPDIR=%s", base) > 0);
	argv[0] = script;
	argv[1] = NULL;
	env[0] = tmpdir;
	env[1] = "CAIRN_BIN=/nonexistent/cairn";
	env[2] = NULL;
	tu_run(&r, base, argv, env, NULL);
	left = count_entries(base);
	tu_rmrf(base);
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(tu_contains(r.err, "demo: FAILED"), "stderr: %s", r.err);
	ck_assert_int_eq(left, 0);
	tu_result_dispose(&r);
	free(base);
	free(script);
	free(tmpdir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("demo");
	TCase *tc = tcase_create("demo");

	/* the demo itself must finish in a minute; allow for slow machines
	 * and sanitizer builds */
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_example_configs_parse);
	tcase_add_test(tc, test_example_hooks);
	tcase_add_test(tc, test_demo_fails_without_cairn);
	tcase_add_test(tc, test_demo_runs_end_to_end);
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
