/*
 * pgchild.c - server processes started by a test; see pgchild.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pgchild.h"
#include "testutil.h"

static const struct passwd *server_user(void)
{
	return getuid() == 0 ? getpwnam("postgres") : NULL;
}

void tu_child_own(const char *path)
{
	const struct passwd *pw = server_user();

	if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
		fprintf(stderr, "pgchild: chown %s: %s\n", path, strerror(errno));
}

/* In the child: become the server user, then ask to die with the parent. */
static void child_setup(pid_t parent, int death_sig, int logfd)
{
	const struct passwd *pw = server_user();

	if (getuid() == 0 && !pw)
		_exit(126);
	if (pw && (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0))
		_exit(126);
	/* after setuid: a change of credentials clears the death signal */
	if (prctl(PR_SET_PDEATHSIG, death_sig) < 0 || getppid() != parent)
		_exit(126);
	dup2(logfd, 1);
	dup2(logfd, 2);
	if (logfd > 2)
		close(logfd);
	setpgid(0, 0);
}

pid_t tu_child_start(const char *const *argv, const char *log_path,
		     int death_sig)
{
	pid_t parent = getpid(), pid;
	int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			 0644);

	if (logfd < 0) {
		fprintf(stderr, "pgchild: %s: %s\n", log_path, strerror(errno));
		return -1;
	}
	tu_child_own(log_path);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		child_setup(parent, death_sig, logfd);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(logfd);
	if (pid < 0)
		fprintf(stderr, "pgchild: fork: %s\n", strerror(errno));
	return pid;
}

static bool reaped(pid_t pid)
{
	int st;
	pid_t r = waitpid(pid, &st, WNOHANG);

	if (r == pid)
		return true;
	/* not our child (any more): gone when it cannot be signalled */
	return r < 0 && errno == ECHILD && kill(pid, 0) < 0;
}

static bool reaped_cond(void *payload)
{
	return reaped(*(pid_t *)payload);
}

void tu_child_stop(pid_t pid, int sig, int timeout_ms)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, sig);
	if (!tu_wait_until(reaped_cond, &pid, timeout_ms)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
}

char *tu_pg_bindir(void)
{
	char *b = tu_sh_out("/", "b=$(pg_config --bindir 2>/dev/null); "
			    "if [ -x \"$b/initdb\" ]; then echo \"$b\"; else "
			    "ls -d /usr/lib/postgresql/*/bin | sort -t/ -k5 -n | tail -n 1; fi");

	if (!b || !*b) {
		fprintf(stderr, "pgchild: no PostgreSQL server binaries found\n");
		abort();
	}
	return b;
}

static bool ready_cond(void *payload)
{
	return PQping((const char *)payload) == PQPING_OK;
}

bool tu_pg_wait_ready(const char *conninfo, int timeout_ms)
{
	return tu_wait_until(ready_cond, (void *)conninfo, timeout_ms);
}
