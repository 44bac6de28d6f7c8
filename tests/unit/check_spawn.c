/*
 * check_spawn.c - tests for src/util/spawn.c: running programs without a shell.
 *
 * Exit codes and signals, captured and capped output, large input and
 * output at once (no deadlock), timeouts that take grandchildren with
 * them, cancellation, SIGPIPE from a child that does not read, the
 * environment and working directory, programs that cannot be run, and
 * arguments full of shell syntax that must arrive as plain data.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/spawn.h"
#include "testutil.h"

static char *tmp;

static void setup(void)
{
	tmp = tu_mkdtemp();
}

static void teardown(void)
{
	tu_rmrf(tmp);
	free(tmp);
	tmp = NULL;
}

static void run_ok(cairn_spawn_result *r, const cairn_spawn_options *o)
{
	int rc = cairn_spawn_run(r, o);

	ck_assert_msg(rc == 0, "cairn_spawn_run: %d %s", rc,
		      cairn_error_last() ? cairn_error_last()->message : "");
}

static bool file_exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/* True once pid is gone or a zombie (a container's init may not reap). */
static bool pid_gone(pid_t pid)
{
	int i;

	for (i = 0; i < 200; i++) {
		char path[64], buf[512], *paren;
		FILE *f;
		size_t n;

		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (!f)
			return true;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		paren = strrchr(buf, ')');
		if (paren && paren[1] == ' ' && paren[2] == 'Z')
			return true;
		usleep(10000);
	}
	return false;
}

START_TEST(test_exit_codes)
{
	const char *argv3[] = {"/bin/sh", "-c", "exit 3", NULL};
	const char *argv0[] = {"true", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	o.argv = argv3;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 3);
	ck_assert(!r.exec_failed && !r.timed_out && !r.cancelled);
	ck_assert_str_eq(r.message, "'/bin/sh' exited with status 3");
	cairn_spawn_result_dispose(&r);

	o.argv = argv0;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_null(r.message);
	ck_assert_uint_eq(r.out.size, 0);
	ck_assert_str_eq(r.out.ptr, "");
	cairn_spawn_result_dispose(&r);
	cairn_spawn_result_dispose(&r); /* twice is harmless */
}
END_TEST

START_TEST(test_signal_status)
{
	const char *argv[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	o.argv = argv;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 128 + 9);
	ck_assert(!r.timed_out);
	ck_assert(tu_contains(r.message, "killed by signal 9"));
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_capture)
{
	const char *argv[] = {
	    "/bin/sh", "-c",
	    "printf 'one\\n'; printf 'two\\n' >&2; printf 'three\\n'", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	o.argv = argv;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out.ptr, "one\nthree\n");
	ck_assert_str_eq(r.err.ptr, "two\n");
	ck_assert(!r.out_truncated && !r.err_truncated);
	cairn_spawn_result_dispose(&r);

	o.merge_stderr = true;
	run_ok(&r, &o);
	ck_assert_str_eq(r.out.ptr, "one\ntwo\nthree\n");
	ck_assert_str_eq(r.err.ptr, "");
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_large_output_capped)
{
	/* 10 MB on each stream at once, 1 MiB kept of each */
	const char *argv[] = {"/bin/sh", "-c",
			      "head -c 10000000 /dev/zero & "
			      "head -c 10000000 /dev/zero >&2; wait",
			      NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	o.argv = argv;
	o.timeout_ms = 20000;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	ck_assert(!r.timed_out);
	ck_assert_uint_eq(r.out.size, CAIRN_SPAWN_DEFAULT_MAX_OUTPUT);
	ck_assert_uint_eq(r.err.size, CAIRN_SPAWN_DEFAULT_MAX_OUTPUT);
	ck_assert(r.out_truncated && r.err_truncated);
	ck_assert_int_eq(r.out.ptr[r.out.size], '\0');
	cairn_spawn_result_dispose(&r);

	/* a small explicit cap */
	o.max_output = 10;
	run_ok(&r, &o);
	ck_assert_uint_eq(r.out.size, 10);
	ck_assert(r.out_truncated);
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_large_stdin_and_output)
{
	/* cat echoes 8 MB while we are still writing: poll must interleave */
	size_t n = 8 * 1024 * 1024, i;
	char *data = malloc(n + 1);
	const char *argv[] = {"cat", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	ck_assert_ptr_nonnull(data);
	for (i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	data[n] = '\0';
	o.argv = argv;
	o.stdin_data = data;
	o.stdin_len = n;
	o.max_output = 16 * 1024 * 1024;
	o.timeout_ms = 20000;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	ck_assert(!r.timed_out && !r.out_truncated);
	ck_assert_uint_eq(r.out.size, n);
	ck_assert(memcmp(r.out.ptr, data, n) == 0);
	cairn_spawn_result_dispose(&r);

	/* stdin_len 0: strlen */
	o.stdin_data = "hello\n";
	o.stdin_len = 0;
	run_ok(&r, &o);
	ck_assert_str_eq(r.out.ptr, "hello\n");
	cairn_spawn_result_dispose(&r);
	free(data);
}
END_TEST

START_TEST(test_stdin_not_read)
{
	/* the child exits at once; our writes hit EPIPE, not SIGPIPE */
	size_t n = 4 * 1024 * 1024;
	char *data = malloc(n);
	const char *argv[] = {"true", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	sigset_t pending, mask;
	struct sigaction sa, before;

	ck_assert_ptr_nonnull(data);
	memset(data, 'x', n);
	sigaction(SIGPIPE, NULL, &before);
	o.argv = argv;
	o.stdin_data = data;
	o.stdin_len = n;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	cairn_spawn_result_dispose(&r);
	free(data);

	sigpending(&pending);
	ck_assert(!sigismember(&pending, SIGPIPE));
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	ck_assert(!sigismember(&mask, SIGPIPE));
	sigaction(SIGPIPE, NULL, &sa);
	ck_assert(sa.sa_handler == before.sa_handler); /* left alone */
}
END_TEST

START_TEST(test_no_stdin_is_dev_null)
{
	const char *argv[] = {"cat", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	o.argv = argv;
	o.timeout_ms = 5000;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	ck_assert(!r.timed_out);
	ck_assert_str_eq(r.out.ptr, "");
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_timeout)
{
	const char *argv[] = {"sleep", "30", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	o.argv = argv;
	o.timeout_ms = 300;
	run_ok(&r, &o);
	ck_assert(r.timed_out);
	ck_assert(!r.cancelled);
	ck_assert_int_eq(r.status, 128 + SIGTERM);
	ck_assert_msg(r.duration_ms >= 250 && r.duration_ms < 2000,
		      "duration %lld", (long long)r.duration_ms);
	ck_assert_str_eq(r.message, "'sleep' timed out after 300 ms");
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_timeout_after_closing_output)
{
	/* no pipes left to wait on: the deadline holds while reaping */
	const char *argv[] = {"/bin/sh", "-c",
			      "echo bye; exec >&- 2>&-; sleep 30", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	o.argv = argv;
	o.timeout_ms = 300;
	run_ok(&r, &o);
	ck_assert(r.timed_out);
	ck_assert_str_eq(r.out.ptr, "bye\n");
	ck_assert_int_eq(r.status, 128 + SIGTERM);
	ck_assert_msg(r.duration_ms >= 250 && r.duration_ms < 2000,
		      "duration %lld", (long long)r.duration_ms);
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_timeout_kills_grandchild)
{
	/* the background sleep keeps our stdout open: only a group kill
	 * ends the run on time */
	const char *argv[] = {"/bin/sh", "-c", "sleep 30 & echo $!; sleep 30",
			      NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	long gc;

	o.argv = argv;
	o.timeout_ms = 300;
	run_ok(&r, &o);
	ck_assert(r.timed_out);
	ck_assert_msg(r.duration_ms < 2000, "duration %lld",
		      (long long)r.duration_ms);
	gc = strtol(r.out.ptr, NULL, 10);
	ck_assert_msg(gc > 1, "grandchild pid '%s'", r.out.ptr);
	ck_assert_msg(pid_gone((pid_t)gc), "grandchild %ld still alive", gc);
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_timeout_sigkill_after_grace)
{
	/* the whole group ignores SIGTERM: SIGKILL after the grace */
	const char *argv[] = {"/bin/sh", "-c", "trap '' TERM; sleep 30", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	o.argv = argv;
	o.timeout_ms = 200;
	o.kill_grace_ms = 300;
	run_ok(&r, &o);
	ck_assert(r.timed_out);
	ck_assert_int_eq(r.status, 128 + SIGKILL);
	ck_assert_msg(r.duration_ms >= 450 && r.duration_ms < 2500,
		      "duration %lld", (long long)r.duration_ms);
	cairn_spawn_result_dispose(&r);

	/* grace 0: SIGKILL at once */
	o.kill_grace_ms = 0;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 128 + SIGKILL);
	ck_assert_msg(r.duration_ms < 1500, "duration %lld",
		      (long long)r.duration_ms);
	cairn_spawn_result_dispose(&r);
}
END_TEST

static volatile sig_atomic_t cancel_flag;

static void *set_cancel_later(void *arg)
{
	struct timespec ts = {0, 200 * 1000000L};

	(void)arg;
	nanosleep(&ts, NULL);
	cancel_flag = 1;
	return NULL;
}

START_TEST(test_cancel)
{
	const char *argv[] = {"sleep", "30", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	pthread_t th;
	int rc;

	cancel_flag = 0;
	o.argv = argv;
	o.cancel = &cancel_flag;
	ck_assert_int_eq(pthread_create(&th, NULL, set_cancel_later, NULL), 0);
	rc = cairn_spawn_run(&r, &o);
	pthread_join(th, NULL);
	ck_assert_int_eq(rc, CAIRN_EINTERRUPTED);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_INTERRUPTED);
	ck_assert(r.cancelled && !r.timed_out);
	ck_assert_int_eq(r.status, 128 + SIGTERM);
	ck_assert_msg(r.duration_ms < 2000, "duration %lld",
		      (long long)r.duration_ms);
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_env_add)
{
	const char *argv[] = {
	    "/bin/sh", "-c",
	    "printf '%s|%s|%s' \"$CAIRN_SPAWN_T\" \"${HOME-unset}\" "
	    "\"$CAIRN_SPAWN_U\"",
	    NULL};
	const char *add[] = {"CAIRN_SPAWN_T=a b $(x)", "HOME",
			     "CAIRN_SPAWN_U=1", "CAIRN_SPAWN_U=2", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	setenv("CAIRN_SPAWN_U", "0", 1);
	o.argv = argv;
	o.env_add = add;
	run_ok(&r, &o);
	ck_assert_str_eq(r.out.ptr, "a b $(x)|unset|2");
	cairn_spawn_result_dispose(&r);
	unsetenv("CAIRN_SPAWN_U");
}
END_TEST

START_TEST(test_env_full)
{
	/* no PATH in the child's environment: the default PATH finds env */
	const char *argv[] = {"env", NULL};
	const char *env[] = {"A=1", "B=two words", NULL};
	const char *add[] = {"C=3", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	o.argv = argv;
	o.env = env;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out.ptr, "A=1\nB=two words\n");
	cairn_spawn_result_dispose(&r);

	o.env_add = add;
	run_ok(&r, &o);
	ck_assert_str_eq(r.out.ptr, "A=1\nB=two words\nC=3\n");
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_env_build)
{
	const char *base[] = {"A=1", "B=2", "C=3", NULL};
	const char *add[] = {"B=x", "C", "D=4", "D=5", NULL};
	cairn_strvec v = CAIRN_STRVEC_INIT;

	ck_assert_int_eq(cairn_spawn_env_build(&v, base, add), 0);
	ck_assert_uint_eq(v.count, 3);
	ck_assert_str_eq(v.items[0], "A=1");
	ck_assert_str_eq(v.items[1], "B=x");
	ck_assert_str_eq(v.items[2], "D=5");
	ck_assert_ptr_null(v.items[3]);
	cairn_strvec_dispose(&v);

	/* NULL base: our own environment */
	setenv("CAIRN_SPAWN_BUILD", "yes", 1);
	ck_assert_int_eq(cairn_spawn_env_build(&v, NULL, NULL), 0);
	ck_assert(cairn_strvec_contains(&v, "CAIRN_SPAWN_BUILD=yes"));
	cairn_strvec_dispose(&v);
	unsetenv("CAIRN_SPAWN_BUILD");
}
END_TEST

START_TEST(test_cwd)
{
	const char *argv[] = {"pwd", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	char *want, *missing;

	ck_assert(asprintf(&want, "%s\n", tmp) > 0);
	o.argv = argv;
	o.cwd = tmp;
	run_ok(&r, &o);
	ck_assert_str_eq(r.out.ptr, want);
	cairn_spawn_result_dispose(&r);

	ck_assert(asprintf(&missing, "%s/nope", tmp) > 0);
	o.cwd = missing;
	run_ok(&r, &o);
	ck_assert(r.exec_failed);
	ck_assert_int_eq(r.status, 127);
	ck_assert_int_eq(r.exec_errno, ENOENT);
	ck_assert_msg(tu_contains(r.message, "cannot run 'pwd' in '") &&
			  tu_contains(r.message, "No such file or directory"),
		      "%s", r.message);
	cairn_spawn_result_dispose(&r);
	free(missing);
	free(want);
}
END_TEST

START_TEST(test_missing_program)
{
	const char *argv[] = {"cairn-no-such-program", "x", NULL};
	const char *argv2[] = {"./not-executable", NULL};
	const char *argv3[] = {"/nonexistent/dir/prog", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	cairn_error_clear();
	o.argv = argv;
	run_ok(&r, &o);
	ck_assert(r.exec_failed);
	ck_assert_int_eq(r.status, 127);
	ck_assert_int_eq(r.exec_errno, ENOENT);
	ck_assert_str_eq(r.message, "cannot run 'cairn-no-such-program': "
				    "No such file or directory");
	ck_assert_ptr_null(cairn_error_last());
	cairn_spawn_result_dispose(&r);

	tu_write(tmp, "not-executable", "#!/bin/sh\necho hi\n");
	o.argv = argv2;
	o.cwd = tmp;
	run_ok(&r, &o);
	ck_assert(r.exec_failed);
	ck_assert_int_eq(r.status, 126);
	ck_assert_int_eq(r.exec_errno, EACCES);
	ck_assert(tu_contains(r.message, "Permission denied"));
	cairn_spawn_result_dispose(&r);

	o.argv = argv3;
	run_ok(&r, &o);
	ck_assert(r.exec_failed);
	ck_assert_int_eq(r.status, 127);
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_path_search)
{
	/* PATH of the child's environment, in order, skipping entries that
	 * are missing or hold a non-executable file of that name */
	const char *argv[] = {"cairn-test-prog", NULL};
	const char *add[] = {NULL, NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	char path[4096], *env_path;

	tu_write(tmp, "bin0/cairn-test-prog", "#!/bin/sh\necho zero\n");
	tu_write(tmp, "bin1/cairn-test-prog", "#!/bin/sh\necho one\n");
	tu_write(tmp, "bin2/cairn-test-prog", "#!/bin/sh\necho two\n");
	snprintf(path, sizeof(path), "%s/bin1/cairn-test-prog", tmp);
	ck_assert_int_eq(chmod(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bin2/cairn-test-prog", tmp);
	ck_assert_int_eq(chmod(path, 0755), 0);
	ck_assert(asprintf(&env_path, "PATH=%s/missing:%s/bin0:%s/bin1:%s/bin2",
			   tmp, tmp, tmp, tmp) > 0);
	add[0] = env_path;
	o.argv = argv;
	o.env_add = add;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out.ptr, "one\n");
	cairn_spawn_result_dispose(&r);

	/* only the non-executable one: permission denied, 126 */
	snprintf(env_path, strlen(env_path) + 1, "PATH=%s/bin0", tmp);
	run_ok(&r, &o);
	ck_assert(r.exec_failed);
	ck_assert_int_eq(r.status, 126);
	ck_assert_int_eq(r.exec_errno, EACCES);
	cairn_spawn_result_dispose(&r);
	free(env_path);
}
END_TEST

START_TEST(test_relative_program_in_cwd)
{
	const char *argv[] = {"./hook", "arg", NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	char path[4096];

	tu_write(tmp, "hook", "#!/bin/sh\necho \"ran $1\"\n");
	snprintf(path, sizeof(path), "%s/hook", tmp);
	ck_assert_int_eq(chmod(path, 0755), 0);
	o.argv = argv;
	o.cwd = tmp;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out.ptr, "ran arg\n");
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_metacharacters_are_data)
{
	const char *argv[] = {"printf",		"[%s]\\n",
			      "$(touch made1)", "`touch made2`",
			      "; touch made3",	"a && touch made4 | x",
			      "> made5",	"'\"quoted\"'",
			      "line1\nline2",	"*",
			      "$HOME",		NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	int i;

	o.argv = argv;
	o.cwd = tmp;
	run_ok(&r, &o);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out.ptr,
			 "[$(touch made1)]\n[`touch made2`]\n[; touch made3]\n"
			 "[a && touch made4 | x]\n[> made5]\n['\"quoted\"']\n"
			 "[line1\nline2]\n[*]\n[$HOME]\n");
	for (i = 1; i <= 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "made%d", i);
		ck_assert_msg(!file_exists(tmp, name), "%s was created", name);
	}
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_fds_not_inherited)
{
	/* a descriptor we opened without O_CLOEXEC must not reach hooks */
	int fd = open("/dev/null", O_RDONLY);
	char script[128];
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	ck_assert_int_ge(fd, 3);
	snprintf(script, sizeof(script),
		 "if [ -e /proc/$$/fd/%d ]; then echo leaked; fi", fd);
	o.argv = argv;
	run_ok(&r, &o);
	ck_assert_str_eq(r.out.ptr, "");
	cairn_spawn_result_dispose(&r);
	close(fd);
}
END_TEST

START_TEST(test_signals_reset_in_child)
{
	/*
	 * We ignore SIGTERM and block SIGUSR1: the child must not.  Only
	 * signals 1-16 are compared (the low 4 hex digits): glibc reserves
	 * real-time signals, and a parent such as make, CI or a sanitizer
	 * runtime may pass those on ignored, out of anyone's reach.
	 */
	const char *argv[] = {"/bin/sh", "-c",
			      "awk '/^Sig(Ign|Blk)/ { print $1 \"\\t\" substr($2, 13) }' /proc/self/status",
			      NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	struct sigaction sa, old_sa;
	sigset_t set, old_set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGTERM, &sa, &old_sa);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &old_set);
	o.argv = argv;
	run_ok(&r, &o);
	sigaction(SIGTERM, &old_sa, NULL);
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);
	ck_assert_str_eq(r.out.ptr, "SigBlk:\t0000\n"
				    "SigIgn:\t0000\n");
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_inherit_output)
{
	const char *argv[] = {"/bin/sh", "-c", "echo to-out; echo to-err >&2",
			      NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	int saved = dup(1), fd;
	char path[4096], *got;

	snprintf(path, sizeof(path), "%s/captured", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	dup2(fd, 1);
	o.argv = argv;
	o.inherit_output = true;
	o.merge_stderr = true;
	o.stdin_data = "ignored";
	run_ok(&r, &o);
	dup2(saved, 1);
	close(saved);
	close(fd);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out.ptr, "");
	got = tu_read(tmp, "captured");
	ck_assert_str_eq(got, "to-out\nto-err\n");
	free(got);
	cairn_spawn_result_dispose(&r);
}
END_TEST

START_TEST(test_bad_options)
{
	const char *empty[] = {NULL};
	cairn_spawn_options o = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;

	ck_assert_int_eq(cairn_spawn_run(&r, &o), CAIRN_ERROR);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_USAGE);
	cairn_spawn_result_dispose(&r);
	o.argv = empty;
	ck_assert_int_eq(cairn_spawn_run(&r, &o), CAIRN_ERROR);
	cairn_spawn_result_dispose(&r);
	o.version = 0;
	ck_assert_int_eq(cairn_spawn_run(&r, &o), CAIRN_ERROR);
	cairn_spawn_result_dispose(&r);
	cairn_error_clear();
}
END_TEST

static Suite *spawn_suite(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc = tcase_create("spawn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_signal_status);
	tcase_add_test(tc, test_capture);
	tcase_add_test(tc, test_large_output_capped);
	tcase_add_test(tc, test_large_stdin_and_output);
	tcase_add_test(tc, test_stdin_not_read);
	tcase_add_test(tc, test_no_stdin_is_dev_null);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_timeout_after_closing_output);
	tcase_add_test(tc, test_timeout_kills_grandchild);
	tcase_add_test(tc, test_timeout_sigkill_after_grace);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_env_add);
	tcase_add_test(tc, test_env_full);
	tcase_add_test(tc, test_env_build);
	tcase_add_test(tc, test_cwd);
	tcase_add_test(tc, test_missing_program);
	tcase_add_test(tc, test_path_search);
	tcase_add_test(tc, test_relative_program_in_cwd);
	tcase_add_test(tc, test_metacharacters_are_data);
	tcase_add_test(tc, test_fds_not_inherited);
	tcase_add_test(tc, test_signals_reset_in_child);
	tcase_add_test(tc, test_inherit_output);
	tcase_add_test(tc, test_bad_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(spawn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
