/*
 * check_terminal.c - terminal manners of the cairn program, with and
 * without a pseudo-terminal.
 *
 *  - colour only when the stream is a terminal, and never with NO_COLOR,
 *    TERM=dumb or --no-color;
 *  - the progress bar of `migrate` only on a terminal, one plain line per
 *    migration elsewhere;
 *  - -q silences notes and progress, keeps errors;
 *  - a confirmation prompt only when standard input is a terminal: an
 *    environment with `confirm: true` and no --yes exits 2 without one;
 *  - errors as "cairn: <message>" with a "HINT:" line.
 *
 * The pseudo-terminal comes from script(1) (util-linux): `script -qec CMD
 * /dev/null` runs CMD with a pty as its standard input, output and error,
 * copies what CMD writes to its own standard output and exits with CMD's
 * status; whatever we write to script's standard input is typed into the
 * pty.  tests/run exports NO_COLOR=1, so the pty runs go through
 * `env -u NO_COLOR TERM=xterm` unless a test wants otherwise.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static bool have_script(void)
{
	return tu_sh(NULL, "command -v script >/dev/null 2>&1") == 0;
}

/*
 * Runs the shell command cmd under a pty in dir; env_args are extra
 * arguments for env(1) ("-u", "X", "K=V", ...; NULL-terminated).  The
 * output of both streams is in r->out.
 */
static void pty_run(tu_result *r, const char *dir, const char *const *env_args,
		    const char *stdin_data, const char *cmd)
{
	const char *argv[32];
	size_t n = 0;

	argv[n++] = "env";
	for (size_t i = 0; env_args && env_args[i] && n < 26; i++)
		argv[n++] = env_args[i];
	argv[n++] = "script";
	argv[n++] = "-qec";
	argv[n++] = cmd;
	argv[n++] = "/dev/null";
	argv[n] = NULL;
	tu_run(r, dir, argv, NULL, stdin_data);
}

static const char *const colour_env[] = { "-u", "NO_COLOR", "TERM=xterm",
					  NULL };

/* A repository with three migrations and a fresh database for it. */
struct fixture {
	char *repo;
	char *url;
	char *db_arg; /* "--db=URL" */
};

static void fixture_init(struct fixture *f, const char *config)
{
	f->repo = tu_git_repo();
	tu_write(f->repo, "db/migrations/0001_one.up.sql",
		 "CREATE TABLE term_one (id int);\n");
	tu_write(f->repo, "db/migrations/0002_two.up.sql",
		 "CREATE TABLE term_two (id int);\n");
	tu_write(f->repo, "db/migrations/0003_three.up.sql",
		 "CREATE TABLE term_three (id int);\n");
	if (config)
		tu_write(f->repo, "cairn.yaml", config);
	free(tu_git_commit(f->repo, "Terry Term", "terry@example.com",
			   1714564800, "three tables"));
	f->url = tu_db_create("term");
	ck_assert_ptr_nonnull(f->url);
	ck_assert(asprintf(&f->db_arg, "--db=%s", f->url) > 0);
}

static void fixture_dispose(struct fixture *f)
{
	tu_rmrf(f->repo);
	free(f->repo);
	free(f->url);
	free(f->db_arg);
}

static int tables_applied(const char *url)
{
	char *v = tu_db_value(url, "SELECT count(*) FROM pg_tables "
				   "WHERE tablename LIKE 'term\\_%'");
	int n = v ? atoi(v) : -1;

	free(v);
	return n;
}

/* The shell command "'CAIRN_BIN' args" (args are the test's own text). */
static char *cairn_cmd(const char *args)
{
	char *s;

	ck_assert(asprintf(&s, "'%s' %s", tu_cairn_bin(), args) > 0);
	return s;
}

START_TEST(test_colour_only_on_a_terminal)
{
	tu_result r;
	char *cmd = cairn_cmd("no-such-command");

	if (!have_script()) {
		fprintf(stderr, "check_terminal: no script(1); skipped\n");
		free(cmd);
		return;
	}
	/* a terminal: the "cairn: " prefix is bold red, the hint cyan */
	pty_run(&r, NULL, colour_env, NULL, cmd);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.out, "\033[1;31mcairn: "), "out: %s", r.out);
	ck_assert_msg(tu_contains(r.out, "HINT: "), "out: %s", r.out);
	tu_result_dispose(&r);

	/* no terminal, even with colour allowed: plain text */
	{
		const char *argv[] = { "env", "-u", "NO_COLOR", "TERM=xterm",
				       tu_cairn_bin(), "no-such-command", NULL };

		tu_run(&r, NULL, argv, NULL, NULL);
	}
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "cairn: 'no-such-command' is not a cairn command"),
		      "err: %s", r.err);
	ck_assert_msg(tu_contains(r.err, "HINT: "), "err: %s", r.err);
	ck_assert_msg(!tu_contains(r.err, "\033["), "err: %s", r.err);
	tu_result_dispose(&r);
	free(cmd);
}
END_TEST

START_TEST(test_no_color_term_dumb_and_flag_turn_colour_off)
{
	const char *no_color[] = { "NO_COLOR=1", "TERM=xterm", NULL };
	const char *dumb[] = { "-u", "NO_COLOR", "TERM=dumb", NULL };
	const char *const *envs[] = { no_color, dumb, colour_env };
	char *plain = cairn_cmd("no-such-command");
	char *flag = cairn_cmd("--no-color no-such-command");
	const char *cmds[] = { plain, plain, flag };
	tu_result r;

	if (!have_script()) {
		free(plain);
		free(flag);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		pty_run(&r, NULL, envs[i], NULL, cmds[i]);
		ck_assert_int_eq(r.status, 2);
		ck_assert_msg(tu_contains(r.out, "cairn: 'no-such-command'"),
			      "case %zu: %s", i, r.out);
		ck_assert_msg(!tu_contains(r.out, "\033["),
			      "case %zu has escape codes: %s", i, r.out);
		tu_result_dispose(&r);
	}
	free(plain);
	free(flag);
}
END_TEST

START_TEST(test_progress_bar_only_on_a_terminal)
{
	struct fixture f, g;
	tu_result r;
	char *args, *cmd;

	if (!have_script())
		return;
	fixture_init(&f, NULL);
	fixture_init(&g, NULL);

	/* a terminal: a bar redrawn in place, with count and name */
	ck_assert(asprintf(&args, "'%s' migrate up", f.db_arg) > 0);
	cmd = cairn_cmd(args);
	pty_run(&r, f.repo, colour_env, NULL, cmd);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.out);
	ck_assert_msg(tu_contains(r.out, "\r\033[K["), "out: %s", r.out);
	ck_assert_msg(tu_contains(r.out, "3/3 0003_three"), "out: %s", r.out);
	ck_assert_msg(!tu_contains(r.out, "cairn: applying"), "out: %s", r.out);
	ck_assert_msg(tu_contains(r.out, "applied 3 migrations"), "out: %s",
		      r.out);
	ck_assert_int_eq(tables_applied(f.url), 3);
	tu_result_dispose(&r);
	free(cmd);
	free(args);

	/* no terminal: one line per migration, no control sequences */
	{
		const char *argv[] = { "env", "-u", "NO_COLOR", "TERM=xterm",
				       tu_cairn_bin(), g.db_arg, "migrate",
				       "up", NULL };

		tu_run(&r, g.repo, argv, NULL, NULL);
	}
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_msg(tu_contains(r.err, "cairn: applying 0001_one\n"), "err: %s",
		      r.err);
	ck_assert_msg(tu_contains(r.err, "cairn: applying 0003_three\n"),
		      "err: %s", r.err);
	ck_assert_msg(!tu_contains(r.err, "\033["), "err: %s", r.err);
	ck_assert_msg(!tu_contains(r.err, "\r"), "err: %s", r.err);
	ck_assert_msg(tu_contains(r.out, "applied 3 migrations"), "out: %s",
		      r.out);
	ck_assert_int_eq(tables_applied(g.url), 3);
	tu_result_dispose(&r);
	fixture_dispose(&f);
	fixture_dispose(&g);
}
END_TEST

START_TEST(test_quiet_silences_notes_and_progress)
{
	struct fixture f, g;
	tu_result r;
	char *args, *cmd;

	fixture_init(&f, NULL);

	/* without -q, validate with no database to reach says so in a note */
	tu_cairn(&r, f.repo, "validate", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(tu_contains(r.err, "cairn: "), "err: %s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, f.repo, "-q", "validate", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(r.err[0] == '\0', "-q validate printed: %s", r.err);
	tu_result_dispose(&r);

	/* -q migrate: nothing on either stream, the work still done */
	tu_cairn(&r, f.repo, "-q", f.db_arg, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_msg(r.err[0] == '\0', "-q migrate printed: %s", r.err);
	ck_assert_msg(r.out[0] == '\0', "-q migrate printed: %s", r.out);
	ck_assert_int_eq(tables_applied(f.url), 3);
	tu_result_dispose(&r);

	/* -q keeps errors */
	tu_cairn(&r, f.repo, "-q", "no-such-command", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tu_contains(r.err, "cairn: "), "err: %s", r.err);
	tu_result_dispose(&r);

	/* and on a terminal, -q draws no progress bar */
	if (have_script()) {
		fixture_init(&g, NULL);
		ck_assert(asprintf(&args, "-q '%s' migrate up", g.db_arg) > 0);
		cmd = cairn_cmd(args);
		pty_run(&r, g.repo, colour_env, NULL, cmd);
		ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.out);
		ck_assert_msg(!tu_contains(r.out, "3/3"), "out: %s", r.out);
		ck_assert_msg(!tu_contains(r.out, "applied 3"), "out: %s", r.out);
		ck_assert_int_eq(tables_applied(g.url), 3);
		tu_result_dispose(&r);
		free(cmd);
		free(args);
		fixture_dispose(&g);
	}
	fixture_dispose(&f);
}
END_TEST

#define CONFIRM_CONFIG                                                   \
	"environments:\n"                                                \
	"  staging:\n"                                                   \
	"    confirm: true\n"

START_TEST(test_prompt_only_when_stdin_is_a_terminal)
{
	struct fixture f, g;
	tu_result r;
	char *args, *cmd;

	fixture_init(&f, CONFIRM_CONFIG);

	/* no terminal, no --yes: exit 2, a hint, nothing applied */
	tu_cairn(&r, f.repo, "--env", "staging", f.db_arg, "migrate", "up",
		 NULL);
	ck_assert_msg(r.status == 2, "status %d: %s", r.status, r.err);
	ck_assert_msg(tu_contains(r.err, "needs confirmation"), "err: %s",
		      r.err);
	ck_assert_msg(tu_contains(r.err, "--yes"), "err: %s", r.err);
	ck_assert_msg(!tu_contains(r.err, "[y/N]"), "err: %s", r.err);
	ck_assert_int_eq(tables_applied(f.url), 0);
	tu_result_dispose(&r);

	if (have_script()) {
		ck_assert(asprintf(&args, "--env staging '%s' migrate up",
				   f.db_arg) > 0);
		cmd = cairn_cmd(args);

		/* a terminal: cairn asks; "n" changes nothing, exit 1 */
		pty_run(&r, f.repo, colour_env, "n\n", cmd);
		ck_assert_msg(r.status == 1, "status %d: %s", r.status, r.out);
		ck_assert_msg(tu_contains(r.out, "apply 3 migrations on staging"),
			      "out: %s", r.out);
		ck_assert_msg(tu_contains(r.out, "[y/N]"), "out: %s", r.out);
		ck_assert_msg(tu_contains(r.out, "nothing was changed"),
			      "out: %s", r.out);
		ck_assert_int_eq(tables_applied(f.url), 0);
		tu_result_dispose(&r);

		/* "y" applies */
		pty_run(&r, f.repo, colour_env, "y\n", cmd);
		ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.out);
		ck_assert_msg(tu_contains(r.out, "applied 3 migrations"),
			      "out: %s", r.out);
		ck_assert_int_eq(tables_applied(f.url), 3);
		tu_result_dispose(&r);
		free(cmd);
		free(args);
	}

	/* no terminal with --yes: no question, applied */
	fixture_init(&g, CONFIRM_CONFIG);
	tu_cairn(&r, g.repo, "--env", "staging", g.db_arg, "migrate", "up",
		 "--yes", NULL);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_msg(!tu_contains(r.err, "[y/N]"), "err: %s", r.err);
	ck_assert_int_eq(tables_applied(g.url), 3);
	tu_result_dispose(&r);
	fixture_dispose(&f);
	fixture_dispose(&g);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("terminal");
	TCase *tc = tcase_create("terminal");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_colour_only_on_a_terminal);
	tcase_add_test(tc, test_no_color_term_dumb_and_flag_turn_colour_off);
	tcase_add_test(tc, test_progress_bar_only_on_a_terminal);
	tcase_add_test(tc, test_quiet_silences_notes_and_progress);
	tcase_add_test(tc, test_prompt_only_when_stdin_is_a_terminal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	if (!tu_db_url()) {
		fprintf(stderr, "check_terminal: CAIRN_TEST_DB_URL is not set "
				"(run through tests/run)\n");
		return EXIT_FAILURE;
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
