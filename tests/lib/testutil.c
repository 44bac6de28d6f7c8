/*
 * testutil.c - helpers for the Check suites; see testutil.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "testutil.h"

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "testutil: %s: %s\n", what, strerror(errno));
	abort();
}

char *tu_mkdtemp(void)
{
	char tmpl[] = "/tmp/cairn-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (!d)
		die("mkdtemp");
	chmod(d, 0755);
	return strdup(d);
}

void tu_rmrf(const char *path)
{
	const char *argv[] = { "rm", "-rf", path, NULL };
	tu_result r;

	if (!path || !*path || !strcmp(path, "/"))
		return;
	tu_run(&r, "/", argv, NULL, NULL);
	tu_result_dispose(&r);
}

static void mkparents(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
}

void tu_write_bytes(const char *dir, const char *rel, const void *data,
		    size_t len)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, rel) < 0)
		die("asprintf");
	mkparents(path);
	f = fopen(path, "wb");
	if (!f)
		die(path);
	if (len && fwrite(data, 1, len, f) != len)
		die("fwrite");
	fclose(f);
	free(path);
}

void tu_write(const char *dir, const char *rel, const char *content)
{
	tu_write_bytes(dir, rel, content, strlen(content));
}

char *tu_read(const char *dir, const char *rel)
{
	char *path, *buf = NULL;
	size_t size = 0;
	FILE *f, *m;
	char chunk[4096];
	size_t n;

	if (asprintf(&path, "%s/%s", dir, rel) < 0)
		die("asprintf");
	f = fopen(path, "rb");
	free(path);
	if (!f)
		return NULL;
	m = open_memstream(&buf, &size);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

static char *vfmt(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		die("vasprintf");
	return s;
}

int tu_sh(const char *dir, const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	tu_result r;
	int status;
	const char *argv[4] = { "/bin/sh", "-c", NULL, NULL };

	va_start(ap, fmt);
	cmd = vfmt(fmt, ap);
	va_end(ap);
	argv[2] = cmd;
	tu_run(&r, dir, argv, NULL, NULL);
	if (r.status != 0)
		fprintf(stderr, "tu_sh: '%s' exited %d\n%s%s", cmd, r.status,
			r.out, r.err);
	status = r.status;
	tu_result_dispose(&r);
	free(cmd);
	return status;
}

char *tu_sh_out(const char *dir, const char *fmt, ...)
{
	va_list ap;
	char *cmd, *out;
	tu_result r;
	size_t n;
	const char *argv[4] = { "/bin/sh", "-c", NULL, NULL };

	va_start(ap, fmt);
	cmd = vfmt(fmt, ap);
	va_end(ap);
	argv[2] = cmd;
	tu_run(&r, dir, argv, NULL, NULL);
	if (r.status != 0)
		fprintf(stderr, "tu_sh_out: '%s' exited %d\n%s", cmd,
			r.status, r.err);
	out = r.out;
	r.out = NULL;
	tu_result_dispose(&r);
	free(cmd);
	n = strlen(out);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	return out;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	char *p = realloc(*buf, *len + n + 1);

	if (!p)
		die("realloc");
	memcpy(p + *len, data, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
}

void tu_run(tu_result *r, const char *dir, const char *const *argv,
	    const char *const *env, const char *stdin_data)
{
	int in[2], out[2], err[2];
	pid_t pid;
	size_t outlen = 0, errlen = 0, inoff = 0, inlen;
	int status;
	struct pollfd fds[3];

	memset(r, 0, sizeof(*r));
	r->out = strdup("");
	r->err = strdup("");
	if (pipe(in) || pipe(out) || pipe(err))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]);
		close(out[0]); close(out[1]);
		close(err[0]); close(err[1]);
		if (dir && chdir(dir) < 0)
			_exit(126);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	inlen = stdin_data ? strlen(stdin_data) : 0;
	if (!inlen) {
		close(in[1]);
		in[1] = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	fds[0].fd = out[0];
	fds[1].fd = err[0];
	fds[2].fd = in[1];
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		char chunk[65536];
		ssize_t n;

		fds[0].events = fds[1].events = POLLIN;
		fds[2].events = POLLOUT;
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(fds[2].fd, stdin_data + inoff, inlen - inoff);
			if (n > 0)
				inoff += (size_t)n;
			if (n < 0 || inoff == inlen) {
				close(fds[2].fd);
				fds[2].fd = -1;
			}
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
			} else if (i == 0) {
				append(&r->out, &outlen, chunk, (size_t)n);
			} else {
				append(&r->err, &errlen, chunk, (size_t)n);
			}
		}
	}
	if (fds[2].fd >= 0)
		close(fds[2].fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (WIFEXITED(status))
		r->status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		r->status = 128 + WTERMSIG(status);
}

const char *tu_cairn_bin(void)
{
	const char *b = getenv("CAIRN_BIN");

	return b ? b : "build/cairn";
}

pid_t tu_cairn_start(const char *dir, const char *outdir,
		     const char *const *env, const char *const *args)
{
	char out[1024], err[1024];
	const char *argv[32];
	size_t n = 0;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/stdout", outdir);
	snprintf(err, sizeof(err), "%s/stderr", outdir);
	argv[n++] = tu_cairn_bin();
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		if (o < 0 || e < 0 || chdir(dir) < 0 ||
		    dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void cairn_va(tu_result *r, const char *dir, const char *const *env,
		     const char *stdin_data, va_list ap)
{
	const char *argv[64];
	size_t n = 0;
	const char *a;

	argv[n++] = tu_cairn_bin();
	while ((a = va_arg(ap, const char *)) != NULL && n < 63)
		argv[n++] = a;
	argv[n] = NULL;
	tu_run(r, dir, argv, env, stdin_data);
}

void tu_cairn(tu_result *r, const char *dir, ...)
{
	va_list ap;

	va_start(ap, dir);
	cairn_va(r, dir, NULL, NULL, ap);
	va_end(ap);
}

void tu_cairn_env(tu_result *r, const char *dir, const char *const *env,
		  const char *stdin_data, ...)
{
	va_list ap;

	va_start(ap, stdin_data);
	cairn_va(r, dir, env, stdin_data, ap);
	va_end(ap);
}

void tu_result_dispose(tu_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

char *tu_git_repo(void)
{
	char *d = tu_mkdtemp();

	if (tu_sh(d, "git init -q -b main . && git config user.name 'Test User' "
		     "&& git config user.email test@example.com "
		     "&& git config commit.gpgsign false") != 0)
		abort();
	return d;
}

char *tu_git_commit(const char *dir, const char *name, const char *email,
		    long when, const char *msg)
{
	char *path;
	FILE *f;
	int rc;

	/* the message goes through a file: no quoting problems */
	if (asprintf(&path, "%s/.git/cairn-test-msg", dir) < 0)
		die("asprintf");
	f = fopen(path, "w");
	if (!f)
		die(path);
	fputs(msg, f);
	fclose(f);
	{
		char *an, *ae, *ad;
		const char *env[7];

		if (asprintf(&an, "GIT_AUTHOR_NAME=%s", name) < 0 ||
		    asprintf(&ae, "GIT_AUTHOR_EMAIL=%s", email) < 0 ||
		    asprintf(&ad, "GIT_AUTHOR_DATE=@%ld +0000", when) < 0)
			die("asprintf");
		char *cn, *ce, *cd;
		if (asprintf(&cn, "GIT_COMMITTER_NAME=%s", name) < 0 ||
		    asprintf(&ce, "GIT_COMMITTER_EMAIL=%s", email) < 0 ||
		    asprintf(&cd, "GIT_COMMITTER_DATE=@%ld +0000", when) < 0)
			die("asprintf");
		env[0] = an; env[1] = ae; env[2] = ad;
		env[3] = cn; env[4] = ce; env[5] = cd; env[6] = NULL;
		const char *add[] = { "git", "add", "-A", NULL };
		const char *commit[] = { "git", "commit", "-q", "--allow-empty",
					 "-F", path, NULL };
		tu_result r;

		tu_run(&r, dir, add, NULL, NULL);
		rc = r.status;
		tu_result_dispose(&r);
		if (rc == 0) {
			tu_run(&r, dir, commit, env, NULL);
			rc = r.status;
			if (rc)
				fprintf(stderr, "git commit: %s", r.err);
			tu_result_dispose(&r);
		}
		/* putenv in the child only: these strings can go now */
		free(an); free(ae); free(ad); free(cn); free(ce); free(cd);
	}
	unlink(path);
	free(path);
	if (rc != 0)
		abort();
	return tu_sh_out(dir, "git rev-parse HEAD");
}

const char *tu_db_url(void)
{
	return getenv("CAIRN_TEST_DB_URL");
}

bool tu_contains(const char *haystack, const char *needle)
{
	return haystack && needle && strstr(haystack, needle) != NULL;
}

static PGconn *connect_or_die(const char *url)
{
	PGconn *c = PQconnectdb(url);

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "testutil: cannot connect: %s",
			PQerrorMessage(c));
		abort();
	}
	PQsetNoticeProcessor(c, NULL, NULL);
	return c;
}

char *tu_db_value(const char *url, const char *sql)
{
	PGconn *c = connect_or_die(url);
	PGresult *r = PQexec(c, sql);
	char *v = NULL;

	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
			v = strdup(PQgetvalue(r, 0, 0));
	} else if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "tu_db_value: %s: %s", sql,
			PQresultErrorMessage(r));
	}
	PQclear(r);
	PQfinish(c);
	return v;
}

int tu_db_exec(const char *url, const char *sql)
{
	PGconn *c = connect_or_die(url);
	PGresult *r = PQexec(c, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "tu_db_exec: %s: %s", sql,
			PQresultErrorMessage(r));
		rc = -1;
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool tu_wait_until(tu_cond_fn cond, void *payload, int timeout_ms)
{
	long long end = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	useconds_t pause = 1000;

	for (;;) {
		if (cond(payload))
			return true;
		if (mono_ms() >= end)
			return false;
		usleep(pause);
		if (pause < 50000)
			pause *= 2;
	}
}

/* One query polled on one connection (tu_db_wait and friends). */
struct db_poll {
	PGconn *conn;
	const char *sql;
	int nparams;
	const char *const *params;
	bool failed;
};

static bool db_poll_true(void *payload)
{
	struct db_poll *p = payload;
	PGresult *r;
	bool yes = false;

	if (p->failed)
		return true; /* ends the wait; the caller sees failed */
	r = PQexecParams(p->conn, p->sql, p->nparams, NULL, p->params, NULL,
			 NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		yes = PQntuples(r) > 0 && !strcmp(PQgetvalue(r, 0, 0), "t");
	else {
		fprintf(stderr, "tu_db_wait: %s: %s", p->sql,
			PQresultErrorMessage(r));
		p->failed = true;
		yes = true;
	}
	PQclear(r);
	return yes;
}

static bool db_poll(const char *url, const char *sql, int nparams,
		    const char *const *params, int timeout_ms)
{
	struct db_poll p = { connect_or_die(url), sql, nparams, params, false };
	bool ok = tu_wait_until(db_poll_true, &p, timeout_ms) && !p.failed;

	PQfinish(p.conn);
	return ok;
}

bool tu_db_wait(const char *url, const char *sql, int timeout_ms)
{
	return db_poll(url, sql, 0, NULL, timeout_ms);
}

bool tu_db_wait_backend(const char *url, int pid, const char *wait_event_type,
			bool gone, int timeout_ms)
{
	char pidtxt[24];
	const char *params[2] = { pidtxt, wait_event_type };

	snprintf(pidtxt, sizeof(pidtxt), "%d", pid);
	if (gone)
		return db_poll(url,
			       "SELECT count(*) = 0 FROM pg_stat_activity "
			       "WHERE pid = $1::int",
			       1, params, timeout_ms);
	return db_poll(url,
		       "SELECT count(*) > 0 FROM pg_stat_activity "
		       "WHERE pid = $1::int AND ($2::text IS NULL OR "
		       "wait_event_type = $2::text)",
		       2, params, timeout_ms);
}

char *tu_db_create(const char *prefix)
{
	static int counter;
	const char *base = tu_db_url();
	char name[64], sql[128], *url;
	const char *q;

	if (!base) {
		fprintf(stderr, "testutil: CAIRN_TEST_DB_URL is not set (run through tests/run)\n");
		abort();
	}
	snprintf(name, sizeof(name), "%s_%d_%d", prefix, (int)getpid(),
		 ++counter);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (tu_db_exec(base, sql) < 0)
		abort();
	/* the test server's URL is postgresql:///postgres?host=...&user=... */
	q = strchr(base, '?');
	if (asprintf(&url, "postgresql:///%s%s", name, q ? q : "") < 0)
		abort();
	return url;
}
