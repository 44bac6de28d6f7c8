/*
 * db.c - connecting to PostgreSQL and running statements (libpq).
 *
 * The connection is opened with PQconnectdbParams so a URL or a key=value
 * string works, with libpq's own defaults (PG* variables, ~/.pgpass,
 * service files) filling the rest.  Right after connecting, the session
 * is put in a known state: standard_conforming_strings on,
 * client_encoding UTF8, and an application_name that tells other
 * sessions who holds the deploy lock.
 *
 * The statement that sets standard_conforming_strings also reads what a
 * deploy must know about the server before any hook fires, so that
 * knowing it costs no round trip of its own: whether the server is a
 * standby in recovery, whether new transactions default to read-only,
 * and the pid of the backend that answered.  That pid differs from the
 * one libpq was given at login (BackendKeyData) when a pooler stands in
 * between, since a pooler hands out its own cancel keys; the deploy lock
 * then checks whether the pooler keeps a backend for the session
 * (engine/pooler.c).
 *
 * Dead or silent peers: unless the connection string says
 * otherwise (its keys come after cairn's in the parameter list, so they
 * win), connections use TCP keepalives (idle 30 s, every 10 s, 3
 * probes), tcp_user_timeout 60 s (data the peer never acknowledges ends
 * the connection) and connect_timeout 10 s (or PGCONNECT_TIMEOUT).  On
 * a server >= 14 the session sets client_connection_check_interval, in
 * the message that sets standard_conforming_strings (no extra round
 * trip), so a backend whose cairn died (kill -9) while a statement runs
 * or waits for a lock notices within seconds and is ended instead of
 * going on to commit.
 *
 * Silent servers: every statement cairn sends of its own (the deploy
 * lock's tries, schema creation, tracking and audit writes, status
 * reads) goes through cairn_db__exec*(), which sends it asynchronously
 * and polls the socket with a deadline (answer_timeout: 60 s by default,
 * `server_answer_timeout:` in cairn.yaml).  A backend that stops
 * answering while the kernel still acknowledges its packets (SIGSTOP, a
 * hung server) defeats keepalives and tcp_user_timeout; the deadline
 * does not: the connection is shut down (the backend, if it ever runs
 * again, finds its client gone and its transaction rolls back) and the
 * error is class DB (exit 3).  No PQcancel: against a server that does
 * not answer, its connect would be one more unbounded wait.
 *
 * The monitor: a second connection, opened the first time a migration
 * statement seems stuck, through which the engine asks who blocks it
 * (engine/lockwait.c).  Its queries are bounded on the client side: a
 * server that does not answer in time closes the monitor, not the run.
 *
 * Errors never carry a password: descriptions are built from PQuser,
 * PQhost, PQport and PQdb, and libpq's messages, which quote a string
 * they cannot parse, go through cairn_secret__redact_message().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "db.h"
#include "util/error.h"
#include "secret.h"
#include "util/util.h"
#include "version_check.h"

/* How often a backend checks that cairn is still there (server >= 14). */
#define CHECK_INTERVAL "2s"
/* lock_timeout in milliseconds, as the session starts */
#define LOCK_TIMEOUT_SQL \
	"SELECT setting FROM pg_settings WHERE name = 'lock_timeout'"

struct cairn_db {
	PGconn *conn;
	PGconn *monitor;     /* NULL until first needed */
	bool monitor_failed; /* do not try again */
	uint64_t server_lock_timeout_ms; /* the session's at connect */
	PGcancel *cancel;
	char *schema;
	char *schema_ident;
	char *description;
	int server_pid;   /* pg_backend_pid() at connect time */
	bool in_recovery; /* pg_is_in_recovery() */
	bool read_only;   /* transaction_read_only of a new transaction */
	uint64_t answer_timeout_ms; /* cairn's own statements; 0: default */
	bool unanswered;  /* a statement outwaited it: conn is closed */
};

static void notice_ignore(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int cairn_db_redact(char **out, const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	cairn_buf b = CAIRN_BUF_INIT;

	*out = NULL;
	if (!conninfo || !*conninfo) {
		*out = cairn__strdup("(libpq defaults)");
		return *out ? 0 : CAIRN_ERROR;
	}
	opts = PQconninfoParse(conninfo, &err);
	if (!opts) {
		PQfreemem(err);
		*out = cairn__strdup("(unparsable connection string)");
		return *out ? 0 : CAIRN_ERROR;
	}
	for (o = opts; o->keyword; o++) {
		if (!o->val || !*o->val)
			continue;
		if (b.size)
			cairn_buf_putc(&b, ' ');
		if (!strcmp(o->keyword, "password"))
			cairn_buf_printf(&b, "%s=********", o->keyword);
		else
			cairn_buf_printf(&b, "%s=%s", o->keyword, o->val);
	}
	PQconninfoFree(opts);
	*out = cairn_buf_detach(&b);
	return *out ? 0 : CAIRN_ERROR;
}

static void append_value(cairn_buf *b, const char *v)
{
	cairn_buf_putc(b, '\'');
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			cairn_buf_putc(b, '\\');
		cairn_buf_putc(b, *v);
	}
	cairn_buf_putc(b, '\'');
}

int cairn_db_conninfo_with_dbname(char **out, const char *conninfo,
				  const char *dbname)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	cairn_buf b = CAIRN_BUF_INIT;

	*out = NULL;
	opts = PQconninfoParse(conninfo ? conninfo : "", &err);
	if (!opts) {
		char *red = NULL; /* libpq's message may quote the password */

		cairn_error__set(CAIRN_ERRCLASS_USAGE,
				 "cannot parse the connection string");
		if (err && cairn_secret__redact_message(&red, err, conninfo) == 0)
			cairn_error__detail("%s", red);
		free(red);
		PQfreemem(err);
		return CAIRN_ERROR;
	}
	for (o = opts; o->keyword; o++) {
		if (!strcmp(o->keyword, "dbname") || !o->val || !*o->val)
			continue;
		cairn_buf_printf(&b, "%s=", o->keyword);
		append_value(&b, o->val);
		cairn_buf_putc(&b, ' ');
	}
	cairn_buf_puts(&b, "dbname=");
	append_value(&b, dbname);
	PQconninfoFree(opts);
	*out = cairn_buf_detach(&b);
	return *out ? 0 : cairn_error__oom();
}

/*
 * The parameters cairn puts before the caller's connection string (which
 * may override each): keepalives, tcp_user_timeout, connect_timeout.
 */
static int liveness_params(const char **keys, const char **vals,
			   char timeout[32], uint64_t ms, bool ms_given)
{
	static const char *const k[] = {
		"keepalives", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout",
	};
	static const char *const v[] = { "1", "30", "10", "3", "60000" };
	int n = 0;

	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(k); i++) {
		keys[n] = k[i];
		vals[n++] = v[i];
	}
	/* PGCONNECT_TIMEOUT is the user's; an explicit option wins */
	if (ms_given || !getenv("PGCONNECT_TIMEOUT") ||
	    !*getenv("PGCONNECT_TIMEOUT")) {
		snprintf(timeout, 32, "%llu",
			 (unsigned long long)((ms + 999) / 1000));
		keys[n] = "connect_timeout";
		vals[n++] = timeout;
	}
	return n;
}

/*
 * The first statement of a session: sets standard_conforming_strings
 * (and, on servers >= 14, client_connection_check_interval) and reads
 * what a deploy must know before any hook fires (see the top): the
 * backend's pid, whether the server accepts writes, and the lock_timeout
 * the session starts with (a role's or database's), which migrations
 * keep when cairn.yaml sets none (engine/lockwait.c).  One round trip.
 */
static int session_setup(cairn_db *db)
{
	PGresult *res = NULL;
	bool check = PQserverVersion(db->conn) >= 140000;
	int rc;

	rc = cairn_db__query(db, &res, check ?
		"SELECT set_config('standard_conforming_strings', 'on', false), "
		"set_config('client_connection_check_interval', '"
		CHECK_INTERVAL "', false), pg_backend_pid(), "
		"pg_is_in_recovery(), current_setting('transaction_read_only'), "
		"(" LOCK_TIMEOUT_SQL ")" :
		"SELECT set_config('standard_conforming_strings', 'on', false), "
		"NULL, pg_backend_pid(), "
		"pg_is_in_recovery(), current_setting('transaction_read_only'), "
		"(" LOCK_TIMEOUT_SQL ")", 0, NULL);
	if (rc == 0 && PQntuples(res) == 1 && PQnfields(res) == 6) {
		db->server_pid = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);
		db->in_recovery = !strcmp(PQgetvalue(res, 0, 3), "t");
		db->read_only = !strcmp(PQgetvalue(res, 0, 4), "on");
		db->server_lock_timeout_ms =
			strtoull(PQgetvalue(res, 0, 5), NULL, 10);
	}
	PQclear(res);
	return rc;
}

uint64_t cairn_db__server_lock_timeout_ms(const cairn_db *db)
{
	return db->server_lock_timeout_ms;
}

int cairn_db_connect(cairn_db **out, const cairn_db_options *opts)
{
	const char *keys[12], *vals[12];
	char timeout[32];
	cairn_db *db;
	cairn_buf b = CAIRN_BUF_INIT;
	const char *schema = opts && opts->schema ? opts->schema : "cairn";
	/* answer_timeout_ms came with version 2; a version-1 struct ends
	 * before it */
	uint64_t answer = opts && opts->version >= 2 ?
				  opts->answer_timeout_ms : 0;
	uint64_t ms = opts && opts->connect_timeout_ms ?
			      opts->connect_timeout_ms : 10000;
	int n = 0;

	*out = NULL;
	CAIRN__CHECK_VERSION(opts, CAIRN_DB_OPTIONS_VERSION, "cairn_db_options");
	db = cairn__calloc(1, sizeof(*db));
	if (!db)
		return CAIRN_ERROR;
	db->answer_timeout_ms = answer;
	n = liveness_params(keys, vals, timeout, ms,
			    opts && opts->connect_timeout_ms);
	keys[n] = "application_name";
	vals[n++] = opts && opts->application_name ? opts->application_name
						   : "cairn";
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	if (opts && opts->conninfo && *opts->conninfo) {
		keys[n] = "dbname";
		vals[n++] = opts->conninfo;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	/* expand_dbname: a URL or key=value string in dbname is expanded */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn) {
		free(db);
		return cairn_error__oom();
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		char *red = NULL, *msg = NULL;
		size_t len;

		/* a parse error quotes the string, password included */
		if (cairn_secret__redact_message(&msg, PQerrorMessage(db->conn),
						 opts ? opts->conninfo : NULL) < 0) {
			cairn_db_free(db);
			return CAIRN_ERROR;
		}
		len = strlen(msg);

		while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			len--;
		cairn_db_redact(&red, opts ? opts->conninfo : NULL);
		cairn_error__set(CAIRN_ERRCLASS_DB,
				 "cannot connect to the database");
		cairn_error__detail("%.*s (connection: %s)", (int)len, msg,
				    red ? red : "?");
		cairn_error__hint("check the environment's database_url, --db, DATABASE_URL or the PG* variables; is the server running?");
		free(red);
		free(msg);
		cairn_db_free(db);
		return CAIRN_ERROR;
	}
	PQsetNoticeProcessor(db->conn, notice_ignore, NULL);
	db->cancel = PQgetCancel(db->conn);
	db->schema = cairn__strdup(schema);
	{
		char *id = PQescapeIdentifier(db->conn, schema, strlen(schema));

		db->schema_ident = id ? cairn__strdup(id) : NULL;
		PQfreemem(id);
	}
	cairn_buf_printf(&b, "%s@%s", PQuser(db->conn), PQhost(db->conn));
	if (PQport(db->conn) && *PQport(db->conn))
		cairn_buf_printf(&b, ":%s", PQport(db->conn));
	cairn_buf_printf(&b, "/%s", PQdb(db->conn));
	db->description = cairn_buf_detach(&b);
	if (!db->schema || !db->schema_ident || !db->description) {
		cairn_db_free(db);
		return cairn_error__oom();
	}
	if (session_setup(db) < 0) {
		cairn_db_free(db);
		return CAIRN_ERROR;
	}
	*out = db;
	return 0;
}

void cairn_db_free(cairn_db *db)
{
	if (!db)
		return;
	if (db->cancel)
		PQfreeCancel(db->cancel);
	if (db->monitor)
		PQfinish(db->monitor);
	if (db->conn)
		PQfinish(db->conn);
	free(db->schema);
	free(db->schema_ident);
	free(db->description);
	free(db);
}

const char *cairn_db_description(const cairn_db *db)
{
	return db->description;
}

const char *cairn_db_schema(const cairn_db *db)
{
	return db->schema;
}

PGconn *cairn_db__conn(cairn_db *db)
{
	return db->conn;
}

const char *cairn_db__schema_ident(const cairn_db *db)
{
	return db->schema_ident;
}

void cairn_db_cancel(cairn_db *db)
{
	char errbuf[256];

	if (db && db->cancel)
		PQcancel(db->cancel, errbuf, (int)sizeof(errbuf));
}

int cairn_db__server_pid(const cairn_db *db)
{
	return db->server_pid;
}

bool cairn_db__behind_pooler(cairn_db *db)
{
	return db->server_pid && PQbackendPID(db->conn) != db->server_pid;
}

int cairn_db_check_writable(cairn_db *db, const char *what)
{
	if (db->in_recovery) {
		cairn_error__set(CAIRN_ERRCLASS_DB,
				 "cannot %s: the database is a standby server",
				 what);
		cairn_error__detail("%s is in recovery (pg_is_in_recovery() is true): it replays another server's changes and accepts no writes. Nothing was run and no hook fired.",
				    db->description);
		cairn_error__hint("point cairn at the primary (the environment's direct_database_url or database_url, or --db); with several hosts in one URL, add target_session_attrs=read-write");
		return CAIRN_ERROR;
	}
	if (db->read_only) {
		cairn_error__set(CAIRN_ERRCLASS_DB,
				 "cannot %s: the database is read-only",
				 what);
		cairn_error__detail("New transactions on %s are read-only (default_transaction_read_only is on for the server, this database or this role). Nothing was run and no hook fired.",
				    db->description);
		cairn_error__hint("connect as a role, or to a server, that may write; or turn default_transaction_read_only off where it was set");
		return CAIRN_ERROR;
	}
	return 0;
}

bool cairn_db_is_ok(const cairn_db *db)
{
	return db && db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

int cairn_db__error(cairn_db *db, const PGresult *res, const char *what)
{
	const char *msg, *state, *detail, *hint, *pos;
	size_t len;

	if (db->unanswered)
		return cairn_db__unanswered_error(db, what);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		msg = PQerrorMessage(db->conn);
		len = strlen(msg);
		while (len && msg[len - 1] == '\n')
			len--;
		cairn_error__set(CAIRN_ERRCLASS_DB,
				 "%s: the connection to the database was lost",
				 what);
		cairn_error__detail("%.*s", (int)len, msg);
		cairn_error__hint("check that the server is running, then run the command again; nothing half-applied was committed");
		return CAIRN_ERROR;
	}
	if (!res) {
		msg = PQerrorMessage(db->conn);
		len = strlen(msg);
		while (len && msg[len - 1] == '\n')
			len--;
		cairn_error__set(CAIRN_ERRCLASS_SQL, "%s: %.*s", what,
				 (int)len, msg);
		return CAIRN_ERROR;
	}
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	(void)pos;
	cairn_error__set(CAIRN_ERRCLASS_SQL, "%s: %s", what,
			 msg ? msg : PQresultErrorMessage(res));
	if (detail)
		cairn_error__detail("%s", detail);
	if (hint)
		cairn_error__hint("%s", hint);
	if (state)
		cairn_error_set_sqlstate(state);
	return CAIRN_ERROR;
}

/* --- statements with a deadline ------------------------------------------ */

int cairn_db__unanswered_error(const cairn_db *db, const char *what)
{
	cairn_error__set(CAIRN_ERRCLASS_DB,
			 "%s: the server did not answer within %llu s",
			 what, (unsigned long long)
			 ((cairn_db__answer_timeout_ms(db) + 999) / 1000));
	cairn_error__detail("cairn closed the connection: a backend that runs again finds its client gone and rolls back what it had not committed (run 'cairn status' to see what was)");
	cairn_error__hint("check the server (a stopped or hung backend, an overloaded host), then run the command again; raise server_answer_timeout if the server is only slow");
	return CAIRN_ERROR;
}

#define ANSWER_TIMEOUT_MS 60000

void cairn_db__set_answer_timeout(cairn_db *db, uint64_t ms)
{
	db->answer_timeout_ms = ms;
}

uint64_t cairn_db__answer_timeout_ms(const cairn_db *db)
{
	return db->answer_timeout_ms ? db->answer_timeout_ms
				     : ANSWER_TIMEOUT_MS;
}

/*
 * Waits until conn's answer is in; false only when the deadline passed.
 * A broken connection counts as in (PQgetResult reports it), and a
 * signal (the interrupt handler's PQcancel) does not end the wait.
 */
static bool answer_in_time(PGconn *conn, int64_t deadline)
{
	while (PQisBusy(conn)) {
		struct pollfd p = { PQsocket(conn), POLLIN, 0 };
		int64_t left = deadline - cairn__now_ms();

		if (left <= 0)
			return false;
		if (p.fd < 0)
			return true;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return true;
		}
		if (p.revents && !PQconsumeInput(conn))
			return true;
	}
	return true;
}

bool cairn_db__conn_answer_in_time(PGconn *conn, int64_t deadline)
{
	return answer_in_time(conn, deadline);
}

/* Flushes what libpq still buffers to send (a long statement). */
static bool flush_until(PGconn *conn, int64_t deadline)
{
	int rc;

	while ((rc = PQflush(conn)) == 1) {
		struct pollfd p = { PQsocket(conn), POLLIN | POLLOUT, 0 };
		int64_t left = deadline - cairn__now_ms();

		if (left <= 0)
			return false;
		if (p.fd < 0 || (poll(&p, 1, (int)left) < 0 && errno != EINTR))
			return true; /* PQgetResult reports the broken link */
		if ((p.revents & POLLIN) && !PQconsumeInput(conn))
			return true; /* PQgetResult reports the broken link */
	}
	return rc == 0 || PQstatus(conn) != CONNECTION_OK;
}

/* The deadline passed: the connection is closed, the error set. */
static PGresult *unanswered(cairn_db *db, PGresult *last)
{
	PQclear(last);
	db->unanswered = true;
	shutdown(PQsocket(db->conn), SHUT_RDWR);
	(void)PQconsumeInput(db->conn); /* libpq sees the end: BAD */
	cairn_db__error(db, NULL, "a statement of cairn's own");
	return NULL;
}

/*
 * Reads the results of what was sent as PQexec does: the last one is
 * kept (a multi-statement string; the server stops at an error, so an
 * error is the last), COPY states and a lost connection end the loop.
 */
static PGresult *read_results(cairn_db *db, int64_t deadline)
{
	PGresult *res, *last = NULL;

	for (;;) {
		if (!answer_in_time(db->conn, deadline))
			return unanswered(db, last);
		if (!(res = PQgetResult(db->conn)))
			break;
		PQclear(last);
		last = res;
		if (PQresultStatus(res) == PGRES_COPY_IN ||
		    PQresultStatus(res) == PGRES_COPY_OUT ||
		    PQresultStatus(res) == PGRES_COPY_BOTH ||
		    PQstatus(db->conn) != CONNECTION_OK)
			break;
	}
	return last;
}

static PGresult *exec_bounded(cairn_db *db, const char *sql, int nparams,
			      const char *const *params)
{
	int64_t deadline = cairn__now_ms() +
			   (int64_t)cairn_db__answer_timeout_ms(db);
	int sent;

	if (db->unanswered || PQstatus(db->conn) != CONNECTION_OK)
		return NULL;
	sent = nparams ? PQsendQueryParams(db->conn, sql, nparams, NULL,
					   params, NULL, NULL, 0)
		       : PQsendQuery(db->conn, sql);
	if (!sent)
		return NULL;
	if (!flush_until(db->conn, deadline))
		return unanswered(db, NULL);
	return read_results(db, deadline);
}

PGresult *cairn_db__next_result(cairn_db *db)
{
	int64_t deadline = cairn__now_ms() +
			   (int64_t)cairn_db__answer_timeout_ms(db);

	if (db->unanswered)
		return NULL;
	if (!answer_in_time(db->conn, deadline))
		return unanswered(db, NULL);
	return PQgetResult(db->conn);
}

PGresult *cairn_db__exec(cairn_db *db, const char *sql)
{
	return exec_bounded(db, sql, 0, NULL);
}

PGresult *cairn_db__exec_params(cairn_db *db, const char *sql, int nparams,
				const char *const *params)
{
	return exec_bounded(db, sql, nparams, params);
}

int cairn_db__query(cairn_db *db, PGresult **out, const char *sql,
		    int nparams, const char *const *params)
{
	PGresult *res;
	ExecStatusType st;

	if (out)
		*out = NULL;
	res = exec_bounded(db, sql, nparams, params);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		cairn_db__error(db, res, "query failed");
		PQclear(res);
		return CAIRN_ERROR;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}

int cairn_db_exec(cairn_db *db, const char *sql)
{
	return cairn_db__query(db, NULL, sql, 0, NULL);
}

/*
 * A literal that reads the same whatever standard_conforming_strings
 * says (a migration may switch it off for the session): text without a
 * backslash is '...' with quotes doubled, which both settings read
 * alike; text with one is E'...' with backslashes doubled too, which is
 * always read with escapes.  This is the form PQescapeLiteral produces;
 * it is built here because the callers assemble batches without the
 * connection at hand, and it passes any byte through (the server, not
 * the quoting, judges the encoding).
 */
int cairn_db__literal(cairn_buf *b, const char *s)
{
	bool esc = strchr(s, '\\') != NULL;

	if (esc)
		cairn_buf_puts(b, " E"); /* the space: never glued to a word */
	cairn_buf_putc(b, '\'');
	for (;;) {
		size_t n = strcspn(s, esc ? "'\\" : "'");

		cairn_buf_put(b, s, n);
		if (!s[n])
			break;
		cairn_buf_putc(b, s[n]);
		cairn_buf_putc(b, s[n]);
		s += n + 1;
	}
	cairn_buf_putc(b, '\'');
	return cairn_buf_check(b);
}

int cairn_db__literal_or_null(cairn_buf *b, const char *s)
{
	if (!s)
		return cairn_buf_puts(b, "NULL");
	return cairn_db__literal(b, s);
}

/* --- the monitor connection ---------------------------------------------- */

/* The same connection parameters, with its own application_name. */
static PGconn *monitor_connect(cairn_db *db)
{
	PQconninfoOption *info = PQconninfo(db->conn), *o;
	const char *keys[64], *vals[64];
	const char *app0 = PQparameterStatus(db->conn, "application_name");
	char app[128];
	int n = 0;
	PGconn *c;

	if (!info)
		return NULL;
	/* says whose monitor it is; not "cairn ...", which names deployers */
	snprintf(app, sizeof(app), "cairn-monitor: %.100s",
		 app0 ? app0 : "cairn");
	for (o = info; o->keyword && n < 62; o++) {
		if (!o->val || !strcmp(o->keyword, "application_name"))
			continue;
		keys[n] = o->keyword;
		vals[n++] = o->val;
	}
	keys[n] = "application_name";
	vals[n++] = app;
	keys[n] = NULL;
	vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 0);
	PQconninfoFree(info);
	if (c && PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		c = NULL;
	}
	if (c)
		PQsetNoticeProcessor(c, notice_ignore, NULL);
	return c;
}

int cairn_db__monitor_query(cairn_db *db, PGresult **out, const char *sql,
			    int nparams, const char *const *params,
			    uint64_t timeout_ms)
{
	PGresult *res, *last = NULL;
	int64_t deadline = cairn__now_ms() + (int64_t)timeout_ms;

	*out = NULL;
	if (db->monitor_failed)
		return CAIRN_ERROR;
	if (!db->monitor && !(db->monitor = monitor_connect(db))) {
		db->monitor_failed = true;
		return CAIRN_ERROR;
	}
	if (!PQsendQueryParams(db->monitor, sql, nparams, NULL, params, NULL,
			       NULL, 0))
		goto broken;
	while (answer_in_time(db->monitor, deadline) &&
	       (res = PQgetResult(db->monitor)) != NULL) {
		PQclear(last);
		last = res;
	}
	if (PQisBusy(db->monitor) || PQstatus(db->monitor) != CONNECTION_OK) {
		PQclear(last);
		goto broken;
	}
	if (!last || PQresultStatus(last) != PGRES_TUPLES_OK) {
		PQclear(last);
		return CAIRN_ERROR;
	}
	*out = last;
	return 0;
broken:
	/* a monitor that does not answer is closed, never waited for */
	PQfinish(db->monitor);
	db->monitor = NULL;
	db->monitor_failed = true;
	return CAIRN_ERROR;
}
