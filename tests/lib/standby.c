/*
 * standby.c - a primary and a hot standby of it; see standby.h.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgchild.h"
#include "standby.h"
#include "testutil.h"

static char *url_in(const char *dir, const char *dbname)
{
	char *url;

	if (asprintf(&url, "host=%s dbname=%s user=postgres", dir, dbname) < 0)
		abort();
	return url;
}

char *tu_standby_primary_url(const tu_standby *s, const char *dbname)
{
	return url_in(s->primary_dir, dbname);
}

char *tu_standby_url(const tu_standby *s, const char *dbname)
{
	return url_in(s->standby_dir, dbname);
}

/* Runs a server binary as the server user (runuser as root). */
static int as_server(const char *dir, const char *cmd)
{
	if (getuid() == 0)
		return tu_sh(dir, "runuser -u postgres -- %s", cmd);
	return tu_sh(dir, "%s", cmd);
}

/* postgres -D dir/data in the foreground, as a child. */
static pid_t start_server(const char *bindir, const char *dir)
{
	char bin[512], data[512], log[512];
	const char *argv[4];
	pid_t pid;
	char *url;
	bool ok;

	snprintf(bin, sizeof(bin), "%s/postgres", bindir);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(log, sizeof(log), "%s/server.log", dir);
	argv[0] = bin;
	argv[1] = "-D";
	argv[2] = data;
	argv[3] = NULL;
	/* SIGINT: a fast shutdown */
	pid = tu_child_start(argv, log, SIGINT);
	if (pid < 0)
		return -1;
	url = url_in(dir, "postgres");
	ok = tu_pg_wait_ready(url, TU_WAIT_MS);
	free(url);
	if (!ok) {
		fprintf(stderr, "tu_standby: the server in %s did not start:\n", dir);
		tu_sh(dir, "tail -n 20 server.log >&2");
		tu_child_stop(pid, SIGQUIT, TU_WAIT_MS);
		return -1;
	}
	return pid;
}

/* Settings both servers share: sockets only, in their own directory. */
static void append_conf(const char *dir)
{
	tu_sh(dir, "printf \"%%s\\n\" \"listen_addresses = ''\" "
	      "\"unix_socket_directories = '%s'\" \"fsync = off\" "
	      "\"max_connections = 40\" \"shared_buffers = 16MB\" "
	      ">> data/postgresql.conf", dir);
}

static bool make_primary(tu_standby *s, const char *bindir)
{
	char cmd[1024];

	s->primary_dir = tu_mkdtemp();
	tu_child_own(s->primary_dir);
	snprintf(cmd, sizeof(cmd),
		 "%s/initdb -D %s/data -U postgres --auth=trust -E UTF8 "
		 "--locale=C.UTF-8 -N >%s/initdb.log 2>&1",
		 bindir, s->primary_dir, s->primary_dir);
	if (as_server(s->primary_dir, cmd) != 0) {
		fprintf(stderr, "tu_standby: initdb failed\n");
		return false;
	}
	append_conf(s->primary_dir);
	s->primary_pid = start_server(bindir, s->primary_dir);
	return s->primary_pid > 0;
}

static bool make_standby(tu_standby *s, const char *bindir)
{
	char cmd[1024];
	char *url;
	bool ok;

	s->standby_dir = tu_mkdtemp();
	tu_child_own(s->standby_dir);
	snprintf(cmd, sizeof(cmd),
		 "%s/pg_basebackup -h %s -U postgres -D %s/data -R -X stream",
		 bindir, s->primary_dir, s->standby_dir);
	if (as_server(s->standby_dir, cmd) != 0) {
		fprintf(stderr, "tu_standby: pg_basebackup failed\n");
		return false;
	}
	append_conf(s->standby_dir);
	s->standby_pid = start_server(bindir, s->standby_dir);
	if (s->standby_pid <= 0)
		return false;
	url = tu_standby_url(s, "postgres");
	ok = tu_db_wait(url, "SELECT pg_is_in_recovery()", TU_WAIT_MS);
	free(url);
	return ok;
}

bool tu_standby_start(tu_standby *s)
{
	char *bindir = tu_pg_bindir();
	bool ok;

	memset(s, 0, sizeof(*s));
	ok = make_primary(s, bindir) && make_standby(s, bindir);
	free(bindir);
	return ok;
}

bool tu_standby_catch_up(const tu_standby *s, int timeout_ms)
{
	char *purl = tu_standby_primary_url(s, "postgres");
	char *surl = tu_standby_url(s, "postgres");
	char *lsn = tu_db_value(purl, "SELECT pg_current_wal_lsn()");
	char sql[256];
	bool ok;

	if (!lsn)
		abort();
	snprintf(sql, sizeof(sql),
		 "SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn", lsn);
	ok = tu_db_wait(surl, sql, timeout_ms);
	free(lsn);
	free(purl);
	free(surl);
	return ok;
}

static void stop_one(pid_t *pid, char **dir)
{
	tu_child_stop(*pid, SIGINT, TU_WAIT_MS);
	*pid = 0;
	if (*dir)
		tu_rmrf(*dir);
	free(*dir);
	*dir = NULL;
}

void tu_standby_stop(tu_standby *s)
{
	stop_one(&s->standby_pid, &s->standby_dir);
	stop_one(&s->primary_pid, &s->primary_dir);
}
