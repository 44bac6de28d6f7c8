/*
 * pgbouncer.c - a pgbouncer in front of the test server; see pgbouncer.h.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pgbouncer.h"
#include "pgchild.h"
#include "testutil.h"

/* host, port and user of the test server, from CAIRN_TEST_DB_URL */
static bool server_of(char **host, char **port, char **user)
{
	PQconninfoOption *opts = PQconninfoParse(tu_db_url() ? tu_db_url() : "",
						 NULL);

	*host = *port = *user = NULL;
	if (!opts)
		return false;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		const char *v = o->val && *o->val ? o->val : NULL;

		if (!strcmp(o->keyword, "host") && v)
			*host = strdup(v);
		else if (!strcmp(o->keyword, "port") && v)
			*port = strdup(v);
		else if (!strcmp(o->keyword, "user") && v)
			*user = strdup(v);
	}
	PQconninfoFree(opts);
	if (!*port)
		*port = strdup("5432");
	if (!*user)
		*user = strdup("postgres");
	return *host != NULL;
}

static void write_config(const tu_pgbouncer *pb, const char *mode,
			 const char *host, const char *port, const char *user)
{
	char ini[4096];

	snprintf(ini, sizeof(ini),
		 "[databases]\n"
		 "* = host=%s port=%s user=%s\n"
		 "[pgbouncer]\n"
		 "listen_port = %d\n"
		 "unix_socket_dir = %s\n"
		 "auth_type = any\n"
		 "pool_mode = %s\n"
		 "default_pool_size = 20\n"
		 "max_client_conn = 200\n"
		 "logfile = %s/pgbouncer.log\n",
		 host, port, user, pb->port, pb->dir, mode, pb->dir);
	tu_write(pb->dir, "pgbouncer.ini", ini);
}

bool tu_pgbouncer_start(tu_pgbouncer *pb, const char *mode)
{
	char *host, *port, *user, ini[512], log[512], *url;
	const char *argv[3];
	bool ok;

	memset(pb, 0, sizeof(*pb));
	if (access(TU_PGBOUNCER_BIN, X_OK) < 0) {
		fprintf(stderr, "tu_pgbouncer_start: %s is missing (scripts/install-deps installs pgbouncer)\n",
			TU_PGBOUNCER_BIN);
		return false;
	}
	if (!server_of(&host, &port, &user)) {
		fprintf(stderr, "tu_pgbouncer_start: no host in CAIRN_TEST_DB_URL\n");
		return false;
	}
	pb->dir = tu_mkdtemp();
	pb->port = 6432;
	tu_child_own(pb->dir);
	write_config(pb, mode, host, port, user);
	free(host);
	free(port);
	free(user);
	snprintf(ini, sizeof(ini), "%s/pgbouncer.ini", pb->dir);
	snprintf(log, sizeof(log), "%s/stderr.log", pb->dir);
	argv[0] = TU_PGBOUNCER_BIN;
	argv[1] = ini;
	argv[2] = NULL;
	pb->pid = tu_child_start(argv, log, SIGTERM);
	if (pb->pid < 0)
		return false;
	url = tu_pgbouncer_url(pb, "postgres");
	ok = tu_pg_wait_ready(url, TU_WAIT_MS);
	free(url);
	if (!ok) {
		fprintf(stderr, "tu_pgbouncer_start: pgbouncer (%s) did not start; its log:\n",
			mode);
		tu_sh(pb->dir, "cat pgbouncer.log stderr.log >&2");
	}
	return ok;
}

char *tu_pgbouncer_url(const tu_pgbouncer *pb, const char *dbname)
{
	char *url;

	if (asprintf(&url, "host=%s port=%d dbname=%s user=postgres", pb->dir,
		     pb->port, dbname) < 0)
		abort();
	return url;
}

char *tu_db_name(const char *url)
{
	const char *p = strstr(url, ":///");
	size_t n;
	char *name;

	if (!p)
		abort();
	p += 4;
	n = strcspn(p, "?");
	name = strndup(p, n);
	if (!name)
		abort();
	return name;
}

void tu_pgbouncer_stop(tu_pgbouncer *pb)
{
	/* SIGINT: pgbouncer's "safe shutdown" waits for clients; SIGTERM does not */
	tu_child_stop(pb->pid, SIGTERM, TU_WAIT_MS);
	pb->pid = 0;
	if (pb->dir)
		tu_rmrf(pb->dir);
	free(pb->dir);
	pb->dir = NULL;
}
