/*
 * spawn.c - running programs without a shell; see spawn.h for the contract.
 *
 * How it works (the shape of git's run-command.c):
 *
 *  1. Before fork, everything the child needs is prepared in the parent:
 *     the environment array, the list of paths to try for argv[0] (the
 *     PATH search is done here, so the child only calls execve on
 *     ready-made strings), the pipes and /dev/null.  Every descriptor we
 *     create is close-on-exec and numbered 3 or above, so the child's
 *     dup2() onto 0, 1 and 2 can never clobber one of them.
 *
 *  2. All signals are blocked around fork().  The child, which only makes
 *     async-signal-safe calls, resets every signal disposition to the
 *     default and unblocks everything (a parent that ignores SIGPIPE or
 *     blocks SIGINT must not pass that on), becomes a process-group leader,
 *     wires its standard descriptors, marks every other inherited
 *     descriptor close-on-exec, changes directory and tries execve on each
 *     prepared path.  If that fails it writes {stage, errno} into a
 *     close-on-exec pipe and _exit()s; the parent reads that pipe until
 *     EOF, which arrives either with the report or at the successful exec.
 *
 *  3. The parent poll()s the stdin write end and both output read ends at
 *     once (all non-blocking), so a child that writes a lot before reading
 *     its input cannot deadlock with us.  Output beyond the cap is read and
 *     thrown away.  SIGPIPE is blocked for the duration of the call; a
 *     SIGPIPE our own write raised is consumed before the mask is restored,
 *     so a child that exits without reading stdin costs nothing.
 *
 *  4. Deadlines: when the timeout passes (or *cancel becomes non-zero),
 *     SIGTERM goes to the child's process group, SIGKILL follows after the
 *     grace period.  After SIGKILL we read for at most one more second:
 *     a process that escaped the group (setsid) and keeps our pipes open
 *     must not hold us forever.  Without a timeout we read until EOF, as
 *     git does.  Finally the child is reaped; while a deadline is pending
 *     that wait polls a pidfd (a short sleep back-off where the kernel
 *     has none) instead of blocking in waitpid().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "spawn.h"

extern char **environ;

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define CANCEL_POLL_MS 50
#define GIVEUP_AFTER_KILL_MS 1000
#define CHUNK 65536

enum child_stage { STAGE_CHDIR = 1, STAGE_EXEC = 2 };

struct child_report {
	int stage;
	int err;
};

/* Everything the child needs, ready before fork. */
struct prep {
	char *const *argv;
	char *const *envp;
	cairn_strvec envv;  /* owns envp when we built it */
	cairn_strvec paths; /* candidates for argv[0] */
	const char *cwd;
	bool new_pg;
	bool inherit_output;
	bool merge_stderr;
	int in_fd;  /* child's stdin: pipe read end or /dev/null */
	int out_fd; /* child's stdout: pipe write end, or -1 */
	int err_fd; /* child's stderr: pipe write end, or -1 */
	int report_fd;
	const int *keep_fds; /* stay open in the child */
	size_t keep_fds_count;
};

/* Timers and flags of one run. */
struct run {
	pid_t pid;
	bool new_pg;
	volatile sig_atomic_t *cancel;
	int64_t deadline; /* 0: none */
	uint64_t grace_ms;
	bool term_sent, kill_sent;
	int64_t kill_at, giveup_at;
	bool timed_out, cancelled;
};

static size_t key_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : strlen(entry);
}

static bool same_key(const char *a, const char *b)
{
	size_t n = key_len(a);

	return n == key_len(b) && !memcmp(a, b, n);
}

static bool key_in(const char *const *list, const char *entry)
{
	size_t i;

	for (i = 0; list && list[i]; i++)
		if (same_key(list[i], entry))
			return true;
	return false;
}

int cairn_spawn_env_build(cairn_strvec *out, const char *const *base,
			  const char *const *add)
{
	size_t i;

	if (!base)
		base = (const char *const *)environ;
	for (i = 0; base && base[i]; i++) {
		if (key_in(add, base[i]))
			continue;
		if (cairn_strvec_push(out, base[i]) < 0)
			return CAIRN_ERROR;
	}
	for (i = 0; add && add[i]; i++) {
		/* a later entry for the same key wins; a bare key unsets */
		if (!strchr(add[i], '=') || key_in(add + i + 1, add[i]))
			continue;
		if (cairn_strvec_push(out, add[i]) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static const char *env_get(char *const *envp, const char *key)
{
	size_t n = strlen(key), i;

	for (i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], key, n) && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

/*
 * The paths execve will try for prog, in order.  For a PATH search only
 * existing regular files are kept (as git's locate_in_PATH does), so a
 * PATH entry we may not search reads as "not found", not "permission
 * denied".  Relative entries are kept when the child changes directory:
 * they only make sense from there.
 */
static int find_candidates(cairn_strvec *out, const char *prog,
			   char *const *envp, const char *cwd)
{
	struct stat st;
	const char *path, *p, *end;
	cairn_buf b = CAIRN_BUF_INIT;
	int rc = 0;

	if (strchr(prog, '/'))
		return cairn_strvec_push(out, prog);
	path = env_get(envp, "PATH");
	if (!path)
		path = DEFAULT_PATH;
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		cairn_buf_clear(&b);
		if (end == p)
			rc = cairn_buf_puts(&b, "./"); /* empty entry: "." */
		else
			rc = cairn_buf_put(&b, p, (size_t)(end - p));
		if (!rc && b.ptr[b.size - 1] != '/')
			rc = cairn_buf_putc(&b, '/');
		if (!rc)
			rc = cairn_buf_puts(&b, prog);
		if (!rc && ((cwd && b.ptr[0] != '/') ||
			    (stat(b.ptr, &st) == 0 && S_ISREG(st.st_mode))))
			rc = cairn_strvec_push(out, b.ptr);
		if (rc < 0 || !*end)
			break;
	}
	cairn_buf_dispose(&b);
	return rc;
}

/* Makes fd close-on-exec and at least 3; returns the new fd or -1. */
static int move_high(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0) {
		fds[0] = fds[1] = -1;
		return -1;
	}
	fds[0] = move_high(fds[0]);
	fds[1] = move_high(fds[1]);
	if (fds[0] < 0 || fds[1] < 0)
		return -1;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/*
 * The child, between fork and exec: async-signal-safe calls only (no
 * malloc, no stdio, no locks).
 */
static void __attribute__((noreturn)) child(const struct prep *p)
{
	struct sigaction sa;
	struct child_report rep;
	sigset_t none;
	size_t i;
	int err = ENOENT;
	bool eacces = false;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* EINVAL for KILL/STOP: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (p->new_pg)
		setpgid(0, 0);
	dup2(p->in_fd, 0);
	if (!p->inherit_output) {
		dup2(p->out_fd, 1);
		dup2(p->merge_stderr ? p->out_fd : p->err_fd, 2);
	} else if (p->merge_stderr) {
		dup2(1, 2);
	}
	/* nothing else we hold (database sockets, lock files) leaks in */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	for (i = 0; i < p->keep_fds_count; i++)
		fcntl(p->keep_fds[i], F_SETFD, 0);

	rep.stage = STAGE_CHDIR;
	if (p->cwd && chdir(p->cwd) < 0) {
		rep.err = errno;
		goto report;
	}
	rep.stage = STAGE_EXEC;
	for (i = 0; i < p->paths.count; i++) {
		execve(p->paths.items[i], p->argv, p->envp);
		/* the same rules as execvp: keep looking past these */
		switch (errno) {
		case EACCES:
			eacces = true;
			/* fall through */
		case ENOENT:
		case ENOTDIR:
		case ESTALE:
		case ENODEV:
		case ETIMEDOUT:
			continue;
		default:
			err = errno;
			break;
		}
		break;
	}
	if (i == p->paths.count && eacces)
		err = EACCES;
	rep.err = err;
report:
	while (write(p->report_fd, &rep, sizeof(rep)) < 0 && errno == EINTR)
		;
	_exit(rep.err == ENOENT ? 127 : 126);
}

static void send_signal(struct run *r, int sig)
{
	if (r->new_pg)
		kill(-r->pid, sig);
	else
		kill(r->pid, sig);
}

/* Moves the stop sequence along; called whenever we wake up. */
static void check_stop(struct run *r, int64_t now)
{
	if (!r->term_sent) {
		bool cancel = r->cancel && *r->cancel;
		bool expired = r->deadline && now >= r->deadline;

		if (!cancel && !expired)
			return;
		r->cancelled = cancel;
		r->timed_out = !cancel;
		r->term_sent = true;
		if (r->grace_ms) {
			send_signal(r, SIGTERM);
			r->kill_at = now + (int64_t)r->grace_ms;
			return;
		}
	} else if (r->kill_sent || now < r->kill_at) {
		return;
	}
	send_signal(r, SIGKILL);
	r->kill_sent = true;
	r->giveup_at = now + GIVEUP_AFTER_KILL_MS;
}

/* Milliseconds until check_stop() has something to do; -1: never. */
static int next_wakeup(const struct run *r, int64_t now)
{
	int64_t t = -1;

	if (!r->term_sent && r->deadline)
		t = r->deadline - now;
	else if (r->term_sent && !r->kill_sent)
		t = r->kill_at - now;
	else if (r->kill_sent)
		t = r->giveup_at - now;
	if (r->cancel && !r->term_sent && (t < 0 || t > CANCEL_POLL_MS))
		t = CANCEL_POLL_MS;
	if (t < -1)
		t = 0;
	if (t > 60000)
		t = 60000;
	return (int)t;
}

static void capture(cairn_buf *b, bool *truncated, const char *data, size_t n)
{
	size_t room = b->max - b->size;

	if (n > room) {
		*truncated = true;
		n = room;
	}
	if (n && cairn_buf_put(b, data, n) < 0) {
		/* out of memory: keep what we have, drop the rest */
		cairn_error_clear();
		*truncated = true;
	}
}

/* Reads the pipes and feeds stdin until both outputs are at EOF. */
static int pump(struct run *r, cairn_spawn_result *res, const char *prog,
		int *in_fd, int *out_fd, int *err_fd, const char *in_data,
		size_t in_len, bool *got_epipe)
{
	size_t in_off = 0;
	char *chunk = malloc(CHUNK);

	if (!chunk)
		return cairn_error__oom();
	if (*in_fd >= 0 && in_len == 0)
		close_fd(in_fd);
	while (*in_fd >= 0 || *out_fd >= 0 || *err_fd >= 0) {
		struct pollfd pfd[3];
		int n, i;
		int64_t now = cairn__now_ms();

		check_stop(r, now);
		if (r->kill_sent && now >= r->giveup_at)
			break;
		pfd[0].fd = *in_fd;
		pfd[0].events = POLLOUT;
		pfd[1].fd = *out_fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = *err_fd;
		pfd[2].events = POLLIN;
		n = poll(pfd, 3, next_wakeup(r, now));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(chunk);
			return cairn_error__set(CAIRN_ERRCLASS_OS,
						"cannot wait for '%s': %s",
						prog, strerror(errno));
		}
		if (*in_fd >= 0 && pfd[0].revents) {
			size_t want = in_len - in_off;
			ssize_t w;

			if (want > CHUNK)
				want = CHUNK;
			w = write(*in_fd, in_data + in_off, want);
			if (w > 0)
				in_off += (size_t)w;
			else if (w < 0 && errno == EPIPE)
				*got_epipe = true;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
			    in_off == in_len)
				close_fd(in_fd);
		}
		for (i = 1; i < 3; i++) {
			int *fd = i == 1 ? out_fd : err_fd;
			ssize_t got;

			if (*fd < 0 || !pfd[i].revents)
				continue;
			got = read(*fd, chunk, CHUNK);
			if (got > 0) {
				if (i == 1)
					capture(&res->out, &res->out_truncated,
						chunk, (size_t)got);
				else
					capture(&res->err, &res->err_truncated,
						chunk, (size_t)got);
			} else if (got == 0 ||
				   (errno != EAGAIN && errno != EINTR)) {
				close_fd(fd);
			}
		}
	}
	free(chunk);
	return 0;
}

/*
 * Reaps the child, still enforcing the deadline while it lingers.  With
 * a deadline pending we wait on a pidfd (readable when the child exits),
 * or, on kernels without pidfd_open, sleep with a short back-off.
 */
static int reap(struct run *r, int *status)
{
	int64_t sleep_ms = 1;
	int pidfd = -1;

#ifdef SYS_pidfd_open
	if ((r->deadline || r->cancel) && !r->kill_sent)
		pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
#endif
	for (;;) {
		bool timed = (r->deadline || r->cancel) && !r->kill_sent;
		pid_t w = waitpid(r->pid, status, timed ? WNOHANG : 0);
		int64_t now, delay = sleep_ms;
		int next;

		if (w == r->pid)
			break;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close_fd(&pidfd);
			return -1;
		}
		now = cairn__now_ms();
		check_stop(r, now);
		next = next_wakeup(r, now);
		if (pidfd >= 0) {
			struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

			poll(&pfd, 1, next);
			continue;
		}
		if (next >= 0 && next < delay)
			delay = next;
		{
			struct timespec ts = {(time_t)(delay / 1000),
					      (long)(delay % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
		sleep_ms = sleep_ms * 2 > CANCEL_POLL_MS ? CANCEL_POLL_MS
							 : sleep_ms * 2;
	}
	close_fd(&pidfd);
	return 0;
}

static int set_message(cairn_spawn_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int set_message(cairn_spawn_result *res, const char *fmt, ...)
{
	cairn_buf b = CAIRN_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cairn_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	free(res->message);
	res->message = cairn_buf_detach(&b);
	return res->message ? 0 : cairn_error__oom();
}

static int describe(cairn_spawn_result *res, const cairn_spawn_options *o,
		    int64_t timeout_ms)
{
	const char *prog = o->argv[0];

	if (res->timed_out)
		return set_message(res, "'%s' timed out after %lld ms", prog,
				   (long long)timeout_ms);
	if (res->cancelled)
		return set_message(res, "'%s' was cancelled", prog);
	if (res->status > 128)
		return set_message(res, "'%s' was killed by signal %d (%s)",
				   prog, res->status - 128,
				   strsignal(res->status - 128));
	if (res->status != 0)
		return set_message(res, "'%s' exited with status %d", prog,
				   res->status);
	return 0;
}

static void prep_dispose(struct prep *p)
{
	cairn_strvec_dispose(&p->envv);
	cairn_strvec_dispose(&p->paths);
}

int cairn_spawn_run(cairn_spawn_result *out, const cairn_spawn_options *o)
{
	static char *const empty_env[] = {NULL};
	struct prep p;
	struct run r;
	struct child_report rep;
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
	int err_pipe[2] = {-1, -1}, rep_pipe[2] = {-1, -1};
	int null_fd = -1, status = 0, rc = CAIRN_ERROR;
	sigset_t all, old, run_mask, pending;
	bool masked = false, epipe = false, pipe_was_pending = false;
	size_t cap, in_len = 0, i;
	ssize_t got;
	int64_t start;

	memset(out, 0, sizeof(*out));
	out->status = -1;
	cairn_buf_init(&out->out, CAIRN_SPAWN_DEFAULT_MAX_OUTPUT);
	cairn_buf_init(&out->err, CAIRN_SPAWN_DEFAULT_MAX_OUTPUT);
	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	p.in_fd = p.out_fd = p.err_fd = p.report_fd = -1;

	if (!o || o->version != CAIRN_SPAWN_OPTIONS_VERSION)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"unsupported spawn options version");
	if (!o->argv || !o->argv[0] || !o->argv[0][0])
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"no program to run");
	cap = o->max_output ? o->max_output : CAIRN_SPAWN_DEFAULT_MAX_OUTPUT;
	out->out.max = out->err.max = cap;
	if (o->stdin_data)
		in_len = o->stdin_len ? o->stdin_len : strlen(o->stdin_data);
	for (i = 0; i < o->keep_fds_count; i++)
		if (o->keep_fds[i] < 3)
			return cairn_error__set(CAIRN_ERRCLASS_USAGE,
						"cairn_spawn_run: a kept "
						"descriptor must be 3 or above");

	/* 1. everything the child needs, before fork */
	p.argv = (char *const *)o->argv;
	if (!o->env && !o->env_add) {
		p.envp = environ;
	} else {
		if (cairn_spawn_env_build(
			&p.envv, o->env ? o->env : (const char *const *)environ,
			o->env_add) < 0)
			goto out;
		p.envp = p.envv.count ? p.envv.items : empty_env;
	}
	if (find_candidates(&p.paths, o->argv[0], p.envp, o->cwd) < 0)
		goto out;
	p.cwd = o->cwd;
	p.new_pg = o->new_process_group;
	p.inherit_output = o->inherit_output;
	p.merge_stderr = o->merge_stderr;
	p.keep_fds = o->keep_fds;
	p.keep_fds_count = o->keep_fds_count;

	if (o->stdin_data) {
		if (make_pipe(in_pipe) < 0)
			goto out_os;
		p.in_fd = in_pipe[0];
	} else {
		null_fd = move_high(open("/dev/null", O_RDONLY | O_CLOEXEC));
		if (null_fd < 0)
			goto out_os;
		p.in_fd = null_fd;
	}
	if (!o->inherit_output) {
		if (make_pipe(out_pipe) < 0)
			goto out_os;
		p.out_fd = out_pipe[1];
		if (!o->merge_stderr) {
			if (make_pipe(err_pipe) < 0)
				goto out_os;
			p.err_fd = err_pipe[1];
		}
	}
	if (make_pipe(rep_pipe) < 0)
		goto out_os;
	p.report_fd = rep_pipe[1];

	/* 2. fork with every signal blocked */
	sigpending(&pending);
	pipe_was_pending = sigismember(&pending, SIGPIPE);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	masked = true;
	start = cairn__now_ms();
	r.pid = fork();
	if (r.pid == 0)
		child(&p);
	if (r.pid < 0)
		goto out_os;
	run_mask = old;
	sigaddset(&run_mask, SIGPIPE);
	pthread_sigmask(SIG_SETMASK, &run_mask, NULL);

	if (o->new_process_group)
		setpgid(r.pid, r.pid); /* the child does it too; no race */
	close_fd(&in_pipe[0]);
	close_fd(&null_fd);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[1]);
	close_fd(&rep_pipe[1]);

	do {
		got = read(rep_pipe[0], &rep, sizeof(rep));
	} while (got < 0 && errno == EINTR);
	if (got == (ssize_t)sizeof(rep)) {
		while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR)
			;
		out->duration_ms = cairn__now_ms() - start;
		out->exec_failed = true;
		out->exec_errno = rep.err;
		out->status = rep.err == ENOENT ? 127 : 126;
		if (rep.stage == STAGE_CHDIR)
			rc = set_message(out, "cannot run '%s' in '%s': %s",
					 o->argv[0], o->cwd, strerror(rep.err));
		else
			rc = set_message(out, "cannot run '%s': %s", o->argv[0],
					 strerror(rep.err));
		goto out;
	}

	/* 3. feed and drain */
	r.new_pg = o->new_process_group;
	r.cancel = o->cancel;
	r.grace_ms = o->kill_grace_ms;
	if (o->timeout_ms)
		r.deadline = start + (int64_t)o->timeout_ms;
	if (in_pipe[1] >= 0)
		set_nonblock(in_pipe[1]);
	if (out_pipe[0] >= 0)
		set_nonblock(out_pipe[0]);
	if (err_pipe[0] >= 0)
		set_nonblock(err_pipe[0]);
	if (pump(&r, out, o->argv[0], &in_pipe[1], &out_pipe[0], &err_pipe[0],
		 o->stdin_data, in_len, &epipe) < 0) {
		send_signal(&r, SIGKILL);
		while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR)
			;
		goto out;
	}
	close_fd(&in_pipe[1]);
	close_fd(&out_pipe[0]);
	close_fd(&err_pipe[0]);

	/* 4. reap */
	if (reap(&r, &status) < 0) {
		/* SIGCHLD ignored by the host program: status unknown */
		out->status = -1;
	} else if (WIFEXITED(status)) {
		out->status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		out->status = 128 + WTERMSIG(status);
	}
	out->duration_ms = cairn__now_ms() - start;
	out->timed_out = r.timed_out;
	out->cancelled = r.cancelled;
	rc = describe(out, o, (int64_t)o->timeout_ms);
	if (!rc && r.cancelled) {
		cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
				 "'%s' was cancelled", o->argv[0]);
		rc = CAIRN_EINTERRUPTED;
	}
	goto out;

out_os:
	rc = cairn_error__set(CAIRN_ERRCLASS_OS, "cannot run '%s': %s",
			      o->argv[0], strerror(errno));
out:
	close_fd(&in_pipe[0]);
	close_fd(&in_pipe[1]);
	close_fd(&out_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[0]);
	close_fd(&err_pipe[1]);
	close_fd(&rep_pipe[0]);
	close_fd(&rep_pipe[1]);
	close_fd(&null_fd);
	if (masked) {
		if (epipe && !pipe_was_pending) {
			sigset_t pipe_set;
			struct timespec zero = {0, 0};

			sigemptyset(&pipe_set);
			sigaddset(&pipe_set, SIGPIPE);
			sigpending(&pending);
			if (sigismember(&pending, SIGPIPE))
				sigtimedwait(&pipe_set, NULL, &zero);
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	prep_dispose(&p);
	return rc;
}

void cairn_spawn_result_dispose(cairn_spawn_result *r)
{
	if (!r)
		return;
	free(r->message);
	r->message = NULL;
	cairn_buf_dispose(&r->out);
	cairn_buf_dispose(&r->err);
}
