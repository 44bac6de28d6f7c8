/*
 * lockwait.c - a migration statement waiting for a table lock: the
 * timeouts it runs with, who blocks it, and the retries (run.h; README
 * "Production").
 *
 * Timeouts.  Every migration statement runs with a lock_timeout (the
 * file's `-- cairn: lock-timeout=`, else the environment's
 * statement_lock_timeout, else the one a role or database sets, else
 * 5 s) and, when one is set, a
 * statement_timeout (directive, else environment; none by default).  A
 * transactional migration gets them by SET LOCAL in the message that
 * opens its transaction, so they cost no round trip and end with it.
 *
 * Watching.  While a batch runs, run__next_result() waits for the answer
 * with poll(2) instead of blocking in libpq.  A batch still running
 * after a short while (a quarter of a second, or a third of a short lock
 * timeout) makes it ask, on the monitor connection (db.c), which
 * sessions pg_blocking_pids() names for cairn's backend, joined with
 * pg_stat_activity; again every second (or third of the timeout) while
 * it runs.  Nothing is asked of a batch that answers quickly, so an
 * unblocked migration pays nothing but the poll.  The last blockers seen
 * are told to the caller once per try (CAIRN_LOCK_WAITING) and kept for
 * the audit row and on_error hooks: by the time the server cancels the
 * statement, cairn's backend no longer waits and pg_blocking_pids() would
 * name nobody.  Their queries are cut to 200 characters with every
 * literal (strings, dollar-quoted strings, numbers) replaced by '?' and
 * comments dropped (lockwait_sql.c).
 *
 * Silence.  When the monitor sees cairn's backend still waiting for a
 * lock well past its lock_timeout (pg_locks.waitstart, PostgreSQL 14
 * and later), the server's timers are not firing (a stopped backend): cairn closes the connection and the run fails with exit 3
 * instead of hanging (server_silent).
 *
 * Retries.  A lock timeout (SQLSTATE 55P03) rolls back a transactional
 * migration whole; the engine tries it again after a pause that starts
 * at lock_retry_delay (1 s), doubles each time up to 30 s and carries
 * +/- 25% jitter, up to lock_tries tries (5).  Each try that gave up is
 * an audit row (outcome lock_retry) with the blockers.  A blocker that
 * commits during a try lets the migration through at once; one that
 * commits during a pause, at the end of the pause: at most one backoff
 * step.  Under --single-transaction the try is the whole transaction
 * (migrate_up.c): a lock timeout in any migration rolls back all of
 * them and they run again from the first, with the same tries, pauses
 * and audit rows (marked single_transaction).  A no-transaction file
 * (never in a single transaction) is retried statement by statement: a
 * statement that failed alone was rolled back alone, so it may run
 * again, except the CONCURRENTLY forms that commit part of their work
 * (CREATE INDEX CONCURRENTLY leaves an INVALID index: dropped first, then
 * retried; REINDEX/DETACH ... CONCURRENTLY are not retried; which is
 * which: lockwait_sql.c).
 */
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "run.h"
#include "util/util.h"

#define DEFAULT_LOCK_TIMEOUT_MS 5000
#define DEFAULT_TRIES 5
#define DEFAULT_DELAY_MS 1000
#define MAX_DELAY_MS 30000
#define QUERY_CHARS 200
#define MAX_BLOCKERS 10
/* how long the monitor may take to answer */
#define MONITOR_TIMEOUT_MS 5000

/* --- timeouts ------------------------------------------------------------ */

const cairn_directives *run__directives(const run *r,
					const cairn_migration *m)
{
	return !strcmp(r->direction, "down") ? &m->down_directives :
					       &m->up_directives;
}

void run__timeouts(const run *r, const cairn_directives *d,
		   uint64_t *lock_ms, uint64_t *statement_ms)
{
	bool v3 = r->o->version >= 3;
	uint64_t lk = v3 ? r->o->statement_lock_timeout_ms : 0;
	uint64_t st = v3 ? r->o->statement_timeout_ms : 0;

	if (d && d->lock_timeout_ms)
		lk = d->lock_timeout_ms;
	else if (lk == CAIRN_TIMEOUT_OFF)
		lk = 0;
	else if (!lk && r->o->db &&
		 cairn_db__server_lock_timeout_ms(r->o->db))
		lk = 0; /* a role's or database's lock_timeout stays */
	else if (!lk)
		lk = DEFAULT_LOCK_TIMEOUT_MS;
	if (d && d->statement_timeout_ms)
		st = d->statement_timeout_ms;
	else if (st == CAIRN_TIMEOUT_OFF)
		st = 0;
	*lock_ms = lk;
	*statement_ms = st;
}

unsigned run__add_timeouts(const run *r, cairn_buf *b,
			   const cairn_directives *d, bool local,
			   size_t *count)
{
	uint64_t lk, st;
	unsigned set = 0;

	run__timeouts(r, d, &lk, &st);
	if (st) {
		cairn_buf_printf(b, "SET %sstatement_timeout = '%llums';\n",
				 local ? "LOCAL " : "",
				 (unsigned long long)st);
		(*count)++;
		set |= RUN_SET_STATEMENT_TIMEOUT;
	}
	if (lk) {
		cairn_buf_printf(b, "SET %slock_timeout = '%llums';\n",
				 local ? "LOCAL " : "",
				 (unsigned long long)lk);
		(*count)++;
		set |= RUN_SET_LOCK_TIMEOUT;
	}
	return set;
}

unsigned run__lock_tries(const run *r)
{
	if (r->o->version >= 3 && r->o->lock_tries)
		return r->o->lock_tries;
	return DEFAULT_TRIES;
}

static uint64_t retry_delay(const run *r)
{
	if (r->o->version >= 3 && r->o->lock_retry_delay_ms)
		return r->o->lock_retry_delay_ms;
	return DEFAULT_DELAY_MS;
}

/* The lock_timeout in force for m: cairn's, else the session's. */
static uint64_t current_lock_timeout(const run *r, const cairn_migration *m)
{
	uint64_t lk, st;

	run__timeouts(r, m ? run__directives(r, m) : NULL, &lk, &st);
	if (!lk && r->o->db)
		lk = cairn_db__server_lock_timeout_ms(r->o->db);
	return lk;
}

/* --- who blocks ---------------------------------------------------------- */

void run__blockers_dispose(run_blockers *b)
{
	for (size_t i = 0; i < b->count; i++) {
		free((char *)b->items[i].user);
		free((char *)b->items[i].application_name);
		free((char *)b->items[i].client_addr);
		free((char *)b->items[i].state);
		free((char *)b->items[i].query);
	}
	free(b->items);
	b->items = NULL;
	b->count = 0;
}

/* The last column: how long cairn's backend has waited for its lock
 * (pg_locks.waitstart, PostgreSQL 14 and later), or -1. */
#define BLOCKERS_SQL(mywait)                                                 \
	"SELECT a.pid, coalesce(a.usename::text, ''), "                      \
	"coalesce(a.application_name, ''), "                                 \
	"coalesce(host(a.client_addr), ''), coalesce(a.state, ''), "         \
	"coalesce((extract(epoch from clock_timestamp() - a.xact_start) "   \
	"* 1000)::bigint, -1), coalesce(a.query, ''), " mywait " "           \
	"FROM pg_stat_activity a "                                           \
	"WHERE a.pid = ANY (pg_blocking_pids($1::int)) "                     \
	"ORDER BY a.xact_start NULLS LAST, a.pid LIMIT 10"
#define MY_WAIT_SQL                                                          \
	"coalesce((SELECT (extract(epoch from clock_timestamp() - "          \
	"min(l.waitstart)) * 1000)::bigint FROM pg_locks l "                 \
	"WHERE l.pid = $1::int AND NOT l.granted), -1)"

/*
 * Asks who blocks cairn's backend; false when the monitor cannot say.
 * *my_wait: how long the backend has waited for its lock (ms, -1 when
 * unknown).
 */
static bool query_blockers(run *r, run_blockers *out, int64_t *my_wait)
{
	PGconn *conn = cairn_db__conn(r->o->db);
	char pid[24];
	const char *params[1] = { pid };
	PGresult *res;
	int n;

	memset(out, 0, sizeof(*out));
	*my_wait = -1;
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(conn));
	if (cairn_db__monitor_query(r->o->db, &res,
				    PQserverVersion(conn) >= 140000 ?
				    BLOCKERS_SQL(MY_WAIT_SQL) :
				    BLOCKERS_SQL("-1::bigint"), 1, params,
				    MONITOR_TIMEOUT_MS) < 0)
		return false;
	n = PQntuples(res);
	if (n)
		*my_wait = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
	out->items = n ? calloc((size_t)n, sizeof(*out->items)) : NULL;
	for (int i = 0; out->items && i < n && i < MAX_BLOCKERS; i++) {
		cairn_blocker *b = &out->items[out->count++];
		cairn_buf q = CAIRN_BUF_INIT;

		b->pid = (int)strtol(PQgetvalue(res, i, 0), NULL, 10);
		b->user = strdup(PQgetvalue(res, i, 1));
		b->application_name = strdup(PQgetvalue(res, i, 2));
		b->client_addr = strdup(PQgetvalue(res, i, 3));
		b->state = strdup(PQgetvalue(res, i, 4));
		b->xact_age_ms = strtoll(PQgetvalue(res, i, 5), NULL, 10);
		if (run__redact_query(&q, PQgetvalue(res, i, 6), QUERY_CHARS) < 0)
			cairn_error_clear();
		b->query = q.ptr && !cairn_buf_failed(&q) ?
			   cairn_buf_detach(&q) : strdup("");
		cairn_buf_dispose(&q);
		if (!b->user || !b->application_name || !b->client_addr ||
		    !b->state || !b->query) {
			run__blockers_dispose(out);
			break;
		}
	}
	PQclear(res);
	return true;
}

static char *blockers_json_text(const run_blockers *b)
{
	json_t *a = json_array();
	char *txt;

	for (size_t i = 0; a && i < b->count; i++) {
		const cairn_blocker *x = &b->items[i];

		json_array_append_new(a, json_pack(
			"{s:i, s:s, s:s, s:s, s:s, s:I, s:s}",
			"pid", x->pid, "user", x->user,
			"application_name", x->application_name,
			"client_addr", x->client_addr, "state", x->state,
			"xact_age_ms", (json_int_t)x->xact_age_ms,
			"query", x->query));
	}
	txt = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return txt;
}

static void report(run *r, cairn_lock_phase phase, unsigned attempt,
		   int64_t retry_in_ms, const char *reason)
{
	cairn_lock_report rep;

	if (r->o->version < 3 || !r->o->lock_report || !r->lw.m)
		return;
	memset(&rep, 0, sizeof(rep));
	rep.phase = phase;
	rep.migration = r->lw.m;
	rep.attempt = attempt;
	rep.attempts = run__lock_tries(r);
	rep.lock_timeout_ms = current_lock_timeout(r, r->lw.m);
	rep.waited_ms = cairn__now_ms() - r->lw.t0;
	rep.retry_in_ms = retry_in_ms;
	rep.blockers = r->lw.seen.items;
	rep.blocker_count = r->lw.seen.count;
	rep.reason = reason;
	r->o->lock_report(&rep, r->o->payload);
}

/* The pause before the first check, and between checks. */
static int64_t check_step(const run *r, bool first)
{
	uint64_t lk = current_lock_timeout(r, r->lw.m);
	int64_t step = first ? 250 : 1000;

	if (lk && (int64_t)lk / 3 < step)
		step = (int64_t)lk / 3;
	return step < 20 ? 20 : step;
}

void run__lockwait_begin(run *r, const cairn_migration *m)
{
	if (r->lw.m != m) {
		run__blockers_dispose(&r->lw.seen);
		r->lw.m = m;
		r->lw.attempt = r->lw.whole_try ? r->lw.whole_try : 1;
		r->lw.t0 = cairn__now_ms();
		r->lw.reported = false;
	}
	r->lw.silent = NULL;
	r->lw.next_check = cairn__now_ms() + check_step(r, true);
}

/*
 * A server that does not end a lock wait at its lock_timeout (a stopped
 * backend: its timers never fire) is silent: cairn closes the
 * connection, so the run fails (exit 3) instead of hanging, and the
 * backend, if it ever runs again, finds its client gone and cannot
 * commit.  The wait is measured by the server (pg_locks.waitstart);
 * grace: the timeout again, at least 5 s.
 */
static bool server_silent(run *r, int64_t waited)
{
	uint64_t lk = current_lock_timeout(r, r->lw.m);

	if (!lk || waited < 0 ||
	    waited <= (int64_t)(lk + (lk > 5000 ? lk : 5000)))
		return false;
	r->lw.silent = "the server did not end the statement's wait for a lock at its lock_timeout (is the backend stopped?)";
	r->lw.silent_ms = waited;
	shutdown(PQsocket(cairn_db__conn(r->o->db)), SHUT_RDWR);
	return true;
}

/* Asks who blocks; tells the caller the first time in a try. */
static void check_wait(run *r)
{
	run_blockers now;
	int64_t my_wait;

	if (!query_blockers(r, &now, &my_wait)) {
		r->lw.next_check = 0; /* no monitor: stop asking */
		return;
	}
	r->lw.next_check = cairn__now_ms() + check_step(r, false);
	if (server_silent(r, my_wait)) {
		run__blockers_dispose(&now);
		r->lw.next_check = 0;
		return;
	}
	if (!now.count)
		return;
	run__blockers_dispose(&r->lw.seen);
	r->lw.seen = now;
	if (!r->lw.reported) {
		r->lw.reported = true;
		report(r, CAIRN_LOCK_WAITING, r->lw.attempt, 0, NULL);
	}
}

PGresult *run__next_result(run *r)
{
	PGconn *conn = cairn_db__conn(r->o->db);

	while (PQisBusy(conn)) {
		struct pollfd p;
		int64_t wait = -1;

		if (r->lw.next_check) {
			wait = r->lw.next_check - cairn__now_ms();
			if (wait <= 0) {
				check_wait(r);
				continue;
			}
		}
		p.fd = PQsocket(conn);
		p.events = POLLIN;
		p.revents = 0;
		if (p.fd < 0)
			break;
		if (poll(&p, 1, wait > INT32_MAX ? INT32_MAX : (int)wait) < 0)
			continue; /* a signal: the cancel request is on its way */
		if (p.revents && !PQconsumeInput(conn))
			break; /* PQgetResult reports the broken connection */
	}
	return PQgetResult(conn);
}

/* --- retrying ------------------------------------------------------------ */

/*
 * The current error is a lock timeout whose work was rolled back: a
 * transactional file must not have ended cairn's transaction before it
 * (then part of it may be committed); a no-transaction statement always
 * ends outside a transaction.
 */
static bool is_lock_timeout(const run *r, const cairn_migration *m)
{
	const cairn_error *e = cairn_error_last();
	bool no_tx = run__directives(r, m)->no_transaction;

	return e && e->klass == CAIRN_ERRCLASS_SQL && e->sqlstate &&
	       !strcmp(e->sqlstate, "55P03") &&
	       (no_tx || !r->batch_ended_tx) && cairn_db_is_ok(r->o->db);
}

/* The pause before try attempt+1: delay * 2^(attempt-1), jittered. */
static int64_t backoff_ms(const run *r, unsigned attempt)
{
	uint64_t d = retry_delay(r);
	uint64_t rnd = ((uint64_t)cairn__now_us() << 16) ^ (uint64_t)getpid();

	for (unsigned i = 1; i < attempt && d < MAX_DELAY_MS; i++)
		d *= 2;
	if (d > MAX_DELAY_MS)
		d = MAX_DELAY_MS;
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	/* d +/- 25% */
	return (int64_t)(d - d / 4 + (d / 2 ? rnd % (d / 2 + 1) : 0));
}

/* Sleeps ms, or until the run is cancelled. */
static void pause_for(run *r, int64_t ms)
{
	int64_t end = cairn__now_ms() + ms;

	while (!run__cancelled(r)) {
		int64_t left = end - cairn__now_ms();
		struct timespec ts;

		if (left <= 0)
			break;
		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		(void)nanosleep(&ts, NULL);
	}
}

/* The lock_retry audit row of a try that gave up. */
static void audit_try(run *r, const cairn_migration *m, unsigned attempt,
		      unsigned tries, int64_t retry_in, const char *blockers)
{
	json_t *o = json_object(), *b = NULL;
	const cairn_error *e = cairn_error_last();
	char *extra;

	json_object_set_new(o, "attempt", json_integer(attempt));
	json_object_set_new(o, "attempts", json_integer(tries));
	json_object_set_new(o, "lock_timeout_ms",
			    json_integer((json_int_t)current_lock_timeout(r, m)));
	json_object_set_new(o, "waited_ms",
			    json_integer(cairn__now_ms() - r->lw.t0));
	json_object_set_new(o, "retry_in_ms",
			    retry_in >= 0 ? json_integer(retry_in) : json_null());
	if (r->lw.whole_try) /* the try was of the whole transaction */
		json_object_set_new(o, "single_transaction", json_true());
	if (e && e->message)
		json_object_set_new(o, "error", json_string(e->message));
	if (blockers && (b = json_loads(blockers, 0, NULL)))
		json_object_set_new(o, "blockers", b);
	else
		json_object_set_new(o, "blockers", json_array());
	extra = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (extra && run__audit_now(r, "on_error", m, "lock_retry", extra) < 0)
		cairn_error_clear(); /* logged by run__audit_now */
	free(extra);
}

/* "pid 42 (app, user u, 10.0.0.5, idle in transaction, transaction open
 * 12.3 s): SELECT ..." for each blocker, one per line. */
static void describe_blockers(cairn_buf *d, const run_blockers *b)
{
	for (size_t i = 0; i < b->count; i++) {
		const cairn_blocker *x = &b->items[i];

		cairn_buf_printf(d, "%spid %d (%s, user %s, %s, %s",
				 i ? "\n" : "", x->pid,
				 *x->application_name ? x->application_name :
							"no application_name",
				 *x->user ? x->user : "?",
				 *x->client_addr ? x->client_addr : "local",
				 *x->state ? x->state : "state unknown");
		if (x->xact_age_ms >= 0)
			cairn_buf_printf(d, ", transaction open %.1f s",
					 (double)x->xact_age_ms / 1000.0);
		cairn_buf_printf(d, "): %s", x->query);
	}
}

/* The error of a migration that gave up: the blockers, what to do. */
static void give_up_error(run *r, unsigned attempt, const char *why_unsafe)
{
	cairn_error_saved s;
	cairn_buf d = CAIRN_BUF_INIT;
	uint64_t lk = current_lock_timeout(r, r->lw.m);

	cairn_error__save(&s);
	if (s.detail)
		cairn_buf_printf(&d, "%s\n", s.detail);
	if (why_unsafe)
		cairn_buf_printf(&d, "Not retried, because %s.\n", why_unsafe);
	else
		cairn_buf_printf(&d, "Gave up after %u tr%s", attempt,
				 attempt == 1 ? "y" : "ies");
	if (!why_unsafe && lk)
		cairn_buf_printf(&d, " of %llu ms each (lock_timeout).\n",
				 (unsigned long long)lk);
	else if (!why_unsafe)
		cairn_buf_puts(&d, ".\n");
	if (r->lw.seen.count) {
		cairn_buf_puts(&d, "Blocked by:\n");
		describe_blockers(&d, &r->lw.seen);
	} else {
		cairn_buf_puts(&d, "The blocking session was not seen in time.");
	}
	cairn_error__restore(&s);
	if (!cairn_buf_failed(&d))
		cairn_error__detail("%s", d.ptr);
	cairn_error__hint("end or wait for the blocking session, or run the migration at a quieter time; statement_lock_timeout and lock_retries set how long cairn waits (the longer each wait, the longer other queries on the table queue behind it)");
	cairn_buf_dispose(&d);
}

bool run__lock_retry(run *r, const cairn_migration *m, unsigned attempt,
		     bool safe, const char *why_unsafe)
{
	unsigned tries = run__lock_tries(r);
	bool again;
	int64_t pause = -1;
	char *bj;

	if (!is_lock_timeout(r, m))
		return false;
	again = safe && attempt < tries && !run__cancelled(r);
	if (again)
		pause = backoff_ms(r, attempt);
	bj = blockers_json_text(&r->lw.seen);
	audit_try(r, m, attempt, tries, pause, bj);
	if (!again) {
		report(r, CAIRN_LOCK_GIVING_UP, attempt, 0, why_unsafe);
		free(r->blockers_json);
		r->blockers_json = bj;
		give_up_error(r, attempt, safe ? NULL : why_unsafe);
		return false;
	}
	free(bj);
	report(r, CAIRN_LOCK_RETRYING, attempt, pause, NULL);
	pause_for(r, pause);
	if (run__cancelled(r)) {
		char label[300];

		run__label(label, sizeof(label), m);
		cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
			"interrupted while waiting to retry migration %s; its last try was rolled back",
			label);
		return false;
	}
	cairn_error_clear();
	/* the next try starts afresh: its own wait, its own blockers */
	run__blockers_dispose(&r->lw.seen);
	r->lw.attempt = attempt + 1;
	r->lw.t0 = cairn__now_ms();
	r->lw.reported = false;
	return true;
}

/* --- no-transaction statements ------------------------------------------- */

int run__drop_invalid_index(run *r, const cairn_migration *m,
			    const char *file, const char *index,
			    const char *table)
{
	const char *params[2] = { index, table };
	PGresult *res = NULL;
	cairn_buf b = CAIRN_BUF_INIT;
	int rc;

	if (cairn_db__query(r->o->db, &res,
		"SELECT format('%I.%I', n.nspname, c.relname) "
		"FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
		"JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relname = $1 AND NOT i.indisvalid "
		"AND i.indrelid = to_regclass($2)", 2, params) < 0)
		return CAIRN_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0; /* nothing was left behind */
	}
	cairn_buf_printf(&b, "DROP INDEX CONCURRENTLY IF EXISTS %s",
			 PQgetvalue(res, 0, 0));
	PQclear(res);
	if (r->o->log_fn) {
		char line[512];

		snprintf(line, sizeof(line),
			 "dropping the INVALID index %s left by the timed-out try",
			 index);
		r->o->log_fn("cairn", line, r->o->payload);
	}
	rc = run__send(r, &b, m, file, NULL, 0, 0, 0);
	cairn_buf_dispose(&b);
	return rc;
}
