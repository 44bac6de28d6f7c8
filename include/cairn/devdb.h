/*
 * devdb.h - the built-in development database.
 *
 * With no database_url for `development`, cairn runs a private PostgreSQL
 * cluster for the repository: created once (initdb), started on demand
 * (pg_ctl), listening on a unix socket only (no TCP port), trusting local
 * connections.  It lives in <workdir>/.cairn/pg/:
 *
 *     data/          the cluster (PGDATA)
 *     server.log     the server's log
 *     .s.PGSQL.5432  the socket
 *
 * As root the server runs as the `postgres` system user.  When that user
 * cannot reach <workdir>/.cairn/pg (a repository under /root, mode 700),
 * or when the socket path would be too long for the system (107 bytes),
 * the cluster lives in a private directory /tmp/cairn-devdb-XXXXXX
 * instead and <workdir>/.cairn/pg-location records where.
 * <workdir>/.cairn/.gitignore keeps all of it out of git.
 *
 * URLs have the form postgresql:///postgres?host=<socket dir, percent-
 * encoded>&user=postgres.  Server binaries come from options.pg_bindir,
 * else `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin
 * that holds initdb.
 *
 * .cairn/ may come from a commit, and cairn may run as root, so nothing
 * in it is followed: a .cairn, .cairn/pg or file in them that is a
 * symbolic link, and a cluster directory that is not owned by the
 * server's user with mode 0700, are refused by start, stop, status and
 * url alike ("refusing to use '...' for the development database: it is
 * a symbolic link"), and left as they are.
 *
 * Failures to create, start or stop the server have class
 * CAIRN_ERRCLASS_DB, a primary message such as "cannot start the
 * development database", the last lines of the server's log (or of
 * initdb's output) as detail, and a hint.  Nothing is printed.
 */
#ifndef CAIRN_DEVDB_H
#define CAIRN_DEVDB_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_DEVDB_OPTIONS_VERSION 1

typedef struct {
	unsigned version;
	/* The repository's work tree, where .cairn/ lives.  Required. */
	const char *repo_workdir;
	/* Directory holding initdb and pg_ctl; NULL: look for them. */
	const char *pg_bindir;
	/* How long start waits for the server to accept connections. */
	uint64_t start_timeout_ms;
} cairn_devdb_options;

#define CAIRN_DEVDB_OPTIONS_INIT                                               \
	{                                                                      \
		CAIRN_DEVDB_OPTIONS_VERSION, NULL, NULL, 60000                 \
	}

/*
 * Creates the cluster if needed and starts it if it is not running;
 * starting a running server is a no-op.  *url_out (may be NULL) receives
 * the URL; caller frees.
 */
CAIRN_EXTERN(int)
cairn_devdb_start(char **url_out, const cairn_devdb_options *opts);

/*
 * Stops the server (pg_ctl stop -m fast).  Stopping a server that is not
 * running, or that was never created, is a no-op.  The cluster is kept.
 */
CAIRN_EXTERN(int) cairn_devdb_stop(const cairn_devdb_options *opts);

/*
 * Whether the server is running.  *url_out and *dir_out (each may be a
 * NULL pointer) receive the URL and the cluster directory, or NULL when
 * no cluster has been created; caller frees.
 */
CAIRN_EXTERN(int)
cairn_devdb_status(bool *running, char **url_out, char **dir_out,
		   const cairn_devdb_options *opts);

/*
 * The URL of the cluster, running or not.  Returns CAIRN_ENOTFOUND when
 * it has not been created yet.  Caller frees *url_out.
 */
CAIRN_EXTERN(int)
cairn_devdb_url(char **url_out, const cairn_devdb_options *opts);

#ifdef __cplusplus
}
#endif

#endif
