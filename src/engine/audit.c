/*
 * audit.c - writing, reading and verifying cairn's audit trail
 * (include/cairn/audit.h).
 *
 * Writing is plain SQL: cairn_audit__sql() builds one INSERT with every
 * value a literal, which the engine pastes into the batch that runs a
 * migration (so the row commits or rolls back with it) and
 * cairn_audit_append() runs on its own.  The database does the rest: the
 * chain trigger (schema.c) takes the chain lock, numbers the row, links
 * it to the previous one and hashes cairn_audit__canonical_sql below.
 * Rows are checked here before any SQL is built, so a bad row cannot
 * fail a migration's batch half-way.
 *
 * Verification trusts nothing stored in the database but the rows: the
 * canonical text comes from the expression compiled into this file (not
 * from the trigger function, which whoever edits rows could replace too),
 * the hash is recomputed with libcrypto, and the rows stream through
 * libpq's single-row mode so a million rows take constant memory.  Each
 * row must (a) link to the hash of the row before it (the first to 64
 * zeros) and (b) hash to its stored hash.  (a) is checked first, so a
 * deleted row or swapped ids read as a broken link and an edited field as
 * a bad hash.  After the first failure the rest are only counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "cairn/schema.h"
#include "db.h"
#include "util/error.h"
#include "util/util.h"
#include "version_check.h"

const char cairn_audit__canonical_sql[] =
    "(jsonb_build_array(r.prev_hash, r.id, " CAIRN_AUDIT__AT_SQL ", "
    "r.run_id, r.environment, r.event, r.version::text, r.name, "
    "r.commit_sha, r.author, r.actor, r.deploy_rev, r.outcome, "
    "r.detail)::text)";

static int check_row(const cairn_audit_row *row)
{
	json_t *j;
	json_error_t jerr;
	bool object;

	if (!row->run_id || !row->event || !row->outcome)
		return cairn_error__set(
		    CAIRN_ERRCLASS_USAGE,
		    "an audit row needs a run id, an event and an outcome");
	if (row->version && !cairn__version_valid(row->version))
		return cairn_error__set(
		    CAIRN_ERRCLASS_USAGE,
		    "invalid migration version '%s' for an audit row: expected numbers of 1 to 20 digits joined by '.', with an optional directory in front",
		    row->version);
	if (!row->detail_json)
		return 0;
	j = json_loads(row->detail_json, 0, &jerr);
	object = j && json_is_object(j);
	json_decref(j);
	if (!object) {
		cairn_error__set(
		    CAIRN_ERRCLASS_USAGE,
		    "the detail of an audit row is not a JSON object");
		if (j)
			cairn_error__detail("It is a JSON array.");
		else
			cairn_error__detail("Invalid JSON: %s.", jerr.text);
		return CAIRN_ERROR;
	}
	return 0;
}

static int put_insert(cairn_buf *out, cairn_db *db, const cairn_audit_row *row,
		      const char *detail_sql_expr)
{
	const char *const text[] = {
	    row->name,	row->commit_sha, row->author,
	    row->actor, row->deploy_rev, row->outcome,
	};

	if (cairn_buf_printf(
		out,
		"INSERT INTO %s.audit (run_id, environment, event, "
		"version, name, commit_sha, author, actor, "
		"deploy_rev, outcome, detail) VALUES (",
		cairn_db__schema_ident(db)) < 0 ||
	    cairn_db__literal(out, row->run_id) < 0 ||
	    cairn_buf_puts(out, ", ") < 0 ||
	    cairn_db__literal_or_null(out, row->environment) < 0 ||
	    cairn_buf_puts(out, ", ") < 0 ||
	    cairn_db__literal(out, row->event) < 0 ||
	    cairn_buf_puts(out, ", ") < 0)
		return CAIRN_ERROR;
	if (row->version) {
		/* normalized, as the numeric column did before: "0042" is 42 */
		char *v = cairn__version_normalize(row->version,
						   strlen(row->version));
		int rc = v ? cairn_db__literal(out, v) : CAIRN_ERROR;

		free(v);
		if (rc < 0)
			return CAIRN_ERROR;
	} else if (cairn_buf_puts(out, "NULL") < 0) {
		return CAIRN_ERROR;
	}
	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(text); i++)
		if (cairn_buf_puts(out, ", ") < 0 ||
		    cairn_db__literal_or_null(out, text[i]) < 0)
			return CAIRN_ERROR;
	if (cairn_buf_puts(out, detail_sql_expr ? ", (" : ", ") < 0 ||
	    cairn_db__literal(out, row->detail_json ? row->detail_json : "{}") <
		0 ||
	    cairn_buf_puts(out, "::jsonb") < 0)
		return CAIRN_ERROR;
	if (detail_sql_expr &&
	    cairn_buf_printf(out, " || (%s))", detail_sql_expr) < 0)
		return CAIRN_ERROR;
	return cairn_buf_putc(out, ')');
}

int cairn_audit__sql(cairn_buf *out, cairn_db *db, const cairn_audit_row *row,
		     const char *detail_sql_expr)
{
	size_t start = out->size;

	if (check_row(row) < 0)
		return CAIRN_ERROR;
	if (put_insert(out, db, row, detail_sql_expr) < 0) {
		cairn_buf_truncate(out, start); /* no half statement */
		return CAIRN_ERROR;
	}
	return 0;
}

int cairn_audit_append(cairn_db *db, const cairn_audit_row *row)
{
	cairn_buf sql = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	int rc = CAIRN_ERROR;

	if (cairn_audit__sql(&sql, db, row, NULL) < 0)
		goto out;
	res = cairn_db__exec(db, sql.ptr);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		cairn_db__error(db, res, "cannot append to the audit trail");
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	cairn_buf_dispose(&sql);
	return rc;
}

/* A copy of column c of row i, NULL for SQL NULL; false on OOM. */
static bool take(char **out, const PGresult *res, int i, int c)
{
	if (PQgetisnull(res, i, c)) {
		*out = NULL;
		return true;
	}
	*out = cairn__strdup(PQgetvalue(res, i, c));
	return *out != NULL;
}

#define LIST_COLUMNS                                                           \
	"r.id, " CAIRN_AUDIT__AT_SQL " AS at, r.run_id, r.environment, "       \
	"r.event, r.version::text AS version, r.name, r.commit_sha, "          \
	"r.author, r.actor, r.deploy_rev, r.outcome, "                         \
	"r.detail::text AS detail, r.prev_hash, r.hash, "                      \
	"to_jsonb(r)->>'mac' AS mac" /* NULL before schema version 2 */

int cairn_audit_list(cairn_audit_entry **out, size_t *count, cairn_db *db,
		     const char *since, size_t limit)
{
	cairn_buf sql = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	cairn_audit_entry *e = NULL;
	const char *params[1] = {since};
	size_t n = 0;
	int rc = CAIRN_ERROR;

	*out = NULL;
	*count = 0;
	if (limit && cairn_buf_puts(&sql, "SELECT * FROM (") < 0)
		goto out;
	if (cairn_buf_printf(&sql, "SELECT " LIST_COLUMNS " FROM %s.audit AS r",
			     cairn_db__schema_ident(db)) < 0 ||
	    (since &&
	     cairn_buf_puts(&sql, " WHERE r.at >= $1::timestamptz") < 0))
		goto out;
	if (limit) {
		unsigned long long l = limit > INT64_MAX ? INT64_MAX : limit;

		if (cairn_buf_printf(
			&sql,
			" ORDER BY r.id DESC LIMIT %llu) AS t ORDER BY t.id",
			l) < 0)
			goto out;
	} else if (cairn_buf_puts(&sql, " ORDER BY r.id") < 0) {
		goto out;
	}
	res = cairn_db__exec_params(db, sql.ptr, since ? 1 : 0,
				    since ? params : NULL);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		cairn_db__error(db, res, "cannot read the audit trail");
		goto out;
	}
	if (PQntuples(res) == 0) {
		rc = 0;
		goto out;
	}
	e = cairn__calloc((size_t)PQntuples(res), sizeof(*e));
	if (!e)
		goto out;
	for (int i = 0; i < PQntuples(res); i++, n++) {
		cairn_audit_entry *x = &e[i];

		x->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		if (!take(&x->at, res, i, 1) || !take(&x->run_id, res, i, 2) ||
		    !take(&x->environment, res, i, 3) ||
		    !take(&x->event, res, i, 4) ||
		    !take(&x->version, res, i, 5) ||
		    !take(&x->name, res, i, 6) ||
		    !take(&x->commit_sha, res, i, 7) ||
		    !take(&x->author, res, i, 8) ||
		    !take(&x->actor, res, i, 9) ||
		    !take(&x->deploy_rev, res, i, 10) ||
		    !take(&x->outcome, res, i, 11) ||
		    !take(&x->detail, res, i, 12) ||
		    !take(&x->prev_hash, res, i, 13) ||
		    !take(&x->hash, res, i, 14) ||
		    !take(&x->mac, res, i, 15)) {
			n++;
			goto out;
		}
	}
	*out = e;
	*count = n;
	e = NULL;
	rc = 0;
out:
	cairn_audit_entries_free(e, n);
	PQclear(res);
	cairn_buf_dispose(&sql);
	return rc;
}

void cairn_audit_entries_free(cairn_audit_entry *e, size_t count)
{
	if (!e)
		return;
	for (size_t i = 0; i < count; i++) {
		free(e[i].at);
		free(e[i].run_id);
		free(e[i].environment);
		free(e[i].event);
		free(e[i].version);
		free(e[i].name);
		free(e[i].commit_sha);
		free(e[i].author);
		free(e[i].actor);
		free(e[i].deploy_rev);
		free(e[i].outcome);
		free(e[i].detail);
		free(e[i].prev_hash);
		free(e[i].hash);
		free(e[i].mac);
	}
	free(e);
}

/* The text a row's MAC is computed over, before the hash. */
#define MAC_PREFIX "cairn-audit-mac:v1:"

int cairn_audit__mac(char out[65], const void *key, size_t key_len,
		     const char *hash)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int rc;

	if (cairn_buf_printf(&b, MAC_PREFIX "%s", hash) < 0)
		return CAIRN_ERROR;
	rc = cairn__hmac_sha256_hex(out, key, key_len, b.ptr, b.size);
	cairn_buf_dispose(&b);
	return rc;
}

/*
 * Whether <schema>.audit has the mac column: schema version 2 added it
 * (a read-only verify may meet an older schema it must not upgrade).
 */
static int has_mac_column(bool *out, cairn_db *db)
{
	int version;

	*out = false;
	if (cairn_schema_version(&version, db) < 0)
		return CAIRN_ERROR;
	*out = version >= 2;
	return 0;
}

struct verify {
	cairn_audit_verify_result *r;
	const cairn_audit_verify_options *o;
	cairn_buf last; /* hash of the previous row */
	int64_t last_id;
	int64_t mac_id;	      /* the last row with a MAC, 0 for none */
	int64_t unsealed_id;  /* the first row without a MAC, 0 for none */
	int64_t mac_bad_id;   /* the row a MAC problem is about, if not this one */
	bool anchor_seen;     /* the anchored row was read */
	bool anchor_hash_ok;  /* ... with the anchored hash */
	bool anchor_mac_ok;   /* ... and the anchored MAC */
};

/* The chain link and hash of one row; why gets what is wrong. */
static int check_link(struct verify *v, cairn_buf *why, const PGresult *res,
		      int i, int64_t id)
{
	const char *prev = PQgetvalue(res, i, 1);
	const char *hash = PQgetvalue(res, i, 2);
	char want[65];

	if (strcmp(prev, v->last.ptr)) {
		if (v->r->rows == 0)
			return cairn_buf_printf(
			    why,
			    "row %lld is the first row but does not start the chain: the rows before it were deleted",
			    (long long)id);
		return cairn_buf_printf(
		    why,
		    "row %lld does not follow row %lld: a row before it was deleted, the rows were reordered, or row %lld was rewritten with a recomputed hash",
		    (long long)id, (long long)v->last_id, (long long)v->last_id);
	}
	if (cairn__sha256_hex(want, PQgetvalue(res, i, 3),
			      (size_t)PQgetlength(res, i, 3)) < 0)
		return CAIRN_ERROR;
	if (strcmp(want, hash))
		return cairn_buf_printf(
		    why, "row %lld was edited: its hash does not match its contents",
		    (long long)id);
	return 0;
}

/* The MAC of one row, when a key was given. */
static int check_mac(struct verify *v, cairn_buf *why, const PGresult *res,
		     int i, int64_t id)
{
	const char *hash = PQgetvalue(res, i, 2);
	char want[65];

	if (!v->o || !v->o->key)
		return 0;
	if (PQgetisnull(res, i, 4)) {
		if (!v->mac_id) {
			/* fine only if no row after it has a MAC either */
			if (!v->unsealed_id)
				v->unsealed_id = id;
			return 0;
		}
		return cairn_buf_printf(
		    why,
		    "row %lld has no MAC, though row %lld before it has one: its MAC was removed, or it was written without the key",
		    (long long)id, (long long)v->mac_id);
	}
	if (v->unsealed_id) {
		/* the first keyed run seals every row before it */
		v->mac_id = id;
		v->mac_bad_id = v->unsealed_id;
		return cairn_buf_printf(
		    why,
		    "row %lld has no MAC, though row %lld after it has one: its MAC was removed (the first keyed run seals every row before it)",
		    (long long)v->unsealed_id, (long long)id);
	}
	if (cairn_audit__mac(want, v->o->key, v->o->key_len, hash) < 0)
		return CAIRN_ERROR;
	if (strcmp(want, PQgetvalue(res, i, 4)))
		return cairn_buf_printf(
		    why,
		    "row %lld's MAC does not match its hash: the row, or one before it, was rewritten by someone without the key (or the key is not the one the rows were sealed with)",
		    (long long)id);
	v->r->macs++;
	v->mac_id = id;
	return 0;
}

/* Notes what the anchored row looks like now. */
static void see_anchor(struct verify *v, const PGresult *res, int i, int64_t id)
{
	const cairn_audit_anchor *a = v->o ? v->o->anchor : NULL;
	const char *mac = PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);

	if (!a || id != a->last_id)
		return;
	v->anchor_seen = true;
	v->anchor_hash_ok = a->last_hash && !strcmp(a->last_hash, PQgetvalue(res, i, 2));
	v->anchor_mac_ok = !a->last_mac || (mac && !strcmp(a->last_mac, mac));
}

/* Moves a non-empty why into *reason (the first failure wins). */
static int keep_first(char **reason, int64_t *bad_id, cairn_buf *why,
		      int64_t id)
{
	if (!why->size)
		return 0;
	*bad_id = id;
	*reason = cairn_buf_detach(why);
	return *reason ? 0 : cairn_error__oom();
}

/*
 * Checks row i of res: its link and hash (r->reason at the first
 * failure), and its MAC (r->mac_reason at the first failure).
 */
static int verify_row(struct verify *v, const PGresult *res, int i)
{
	cairn_audit_verify_result *r = v->r;
	int64_t id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	cairn_buf why = CAIRN_BUF_INIT;
	int rc = 0;

	see_anchor(v, res, i, id);
	if (!r->reason &&
	    (check_link(v, &why, res, i, id) < 0 ||
	     keep_first(&r->reason, &r->first_bad_id, &why, id) < 0))
		rc = CAIRN_ERROR;
	cairn_buf_clear(&why);
	if (rc == 0 && !r->mac_reason &&
	    (check_mac(v, &why, res, i, id) < 0 ||
	     keep_first(&r->mac_reason, &r->mac_bad_id, &why, id) < 0))
		rc = CAIRN_ERROR;
	if (r->mac_reason && v->mac_bad_id) {
		r->mac_bad_id = v->mac_bad_id;
		v->mac_bad_id = 0;
	}
	cairn_buf_dispose(&why);
	if (rc < 0)
		return rc;
	r->rows++;
	v->last_id = id;
	cairn_buf_clear(&v->last);
	return cairn_buf_puts(&v->last, PQgetvalue(res, i, 2));
}

/* Streams every row through verify_row. */
static int verify_stream(struct verify *v, cairn_db *db, bool mac_column)
{
	PGconn *conn = cairn_db__conn(db);
	cairn_buf sql = CAIRN_BUF_INIT;
	PGresult *res;
	const char *what = "cannot verify the audit trail";
	int rc = 0;

	if (cairn_buf_printf(
		&sql,
		"SELECT r.id, r.prev_hash, r.hash, %s, %s FROM %s.audit AS r ORDER BY r.id",
		cairn_audit__canonical_sql, mac_column ? "r.mac" : "NULL::text",
		cairn_db__schema_ident(db)) < 0)
		return CAIRN_ERROR;
	if (!PQsendQuery(conn, sql.ptr)) {
		rc = cairn_db__error(db, NULL, what);
		goto out;
	}
	PQsetSingleRowMode(conn);
	/* read every result, even after a failure: leave the connection idle */
	while ((res = cairn_db__next_result(db))) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) {
			/* TUPLES_OK ends the stream with no rows, or holds
			 * them all if single-row mode was refused */
			for (int i = 0; i < PQntuples(res) && rc == 0; i++)
				if (verify_row(v, res, i) < 0)
					rc = CAIRN_ERROR;
		} else if (rc == 0) {
			rc = cairn_db__error(db, res, what);
		}
		PQclear(res);
	}
	if (rc == 0 && !cairn_db_is_ok(db))
		rc = cairn_db__error(db, NULL, what);
out:
	cairn_buf_dispose(&sql);
	return rc;
}

/* What the latest anchor says against what the table holds. */
static int check_anchor(struct verify *v)
{
	const cairn_audit_anchor *a = v->o->anchor;
	cairn_audit_verify_result *r = v->r;
	cairn_buf why = CAIRN_BUF_INIT;
	const char *at = a->at ? a->at : "(unknown time)";

	r->anchored = true;
	if (a->rows && a->last_id && !v->anchor_seen)
		cairn_buf_printf(&why,
				 "row %lld, the newest row when the anchor was taken at %s, is gone: rows were deleted",
				 (long long)a->last_id, at);
	else if (a->rows && a->last_id && !v->anchor_hash_ok)
		cairn_buf_printf(&why,
				 "row %lld no longer has the hash anchored at %s: a row at or before it was edited and the chain recomputed",
				 (long long)a->last_id, at);
	else if (a->rows && a->last_id && !v->anchor_mac_ok)
		cairn_buf_printf(&why,
				 "row %lld no longer has the MAC anchored at %s: its MAC was removed or replaced",
				 (long long)a->last_id, at);
	else if (r->rows < a->rows)
		cairn_buf_printf(&why,
				 "the trail has %zu rows, fewer than the %llu anchored at %s: rows were deleted",
				 r->rows, (unsigned long long)a->rows, at);
	if (!why.size)
		return 0;
	r->anchor_reason = cairn_buf_detach(&why);
	return r->anchor_reason ? 0 : cairn_error__oom();
}

/*
 * Two "<version>_<name>" labels in version order.  A version holds no
 * '_' once normalized, so the first '_' ends it.
 */
static int label_cmp(const void *pa, const void *pb)
{
	const char *a = *(char *const *)pa, *b = *(char *const *)pb;
	size_t la = strcspn(a, "_"), lb = strcspn(b, "_");
	char va[256], vb[256];
	int c;

	snprintf(va, sizeof(va), "%.*s", (int)la, a);
	snprintf(vb, sizeof(vb), "%.*s", (int)lb, b);
	c = cairn__version_cmp(va, vb);
	return c ? c : strcmp(a, b);
}

/*
 * Applied tracking rows with no audit row saying so: for each, an audit
 * row of the same version with outcome applied, repaired, baselined or
 * imported must exist after its latest rolled_back row (if any).
 */
static int check_tracking(cairn_audit_verify_result *r, cairn_db *db,
			  int version)
{
	const char *s = cairn_db__schema_ident(db);
	cairn_buf sql = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	int rc = CAIRN_ERROR;

	/* no tracking table yet (a read-only verify may not create it) */
	if (version < 1)
		return 0;
	if (cairn_buf_printf(
		&sql,
		"SELECT m.version::text, m.version::text || '_' || m.name FROM %s.migrations AS m "
		"WHERE m.status = 'applied' AND NOT EXISTS ("
		"SELECT FROM %s.audit AS a WHERE a.version = m.version "
		"AND a.outcome IN ('applied', 'repaired', 'baselined', 'imported') "
		"AND a.id > coalesce(("
		"SELECT max(b.id) FROM %s.audit AS b WHERE b.version = m.version "
		"AND b.outcome = 'rolled_back'), 0))",
		s, s, s) < 0)
		goto out;
	res = cairn_db__exec(db, sql.ptr);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		cairn_db__error(db, res, "cannot compare the tracking table with the audit trail");
		goto out;
	}
	if (PQntuples(res)) {
		r->untracked = cairn__calloc((size_t)PQntuples(res), sizeof(char *));
		if (!r->untracked)
			goto out;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		r->untracked[i] = cairn__strdup(PQgetvalue(res, i, 1));
		if (!r->untracked[i])
			goto out;
		r->untracked_count++;
	}
	/* in cairn's version order, which text order is not ("10" < "9") */
	if (r->untracked_count > 1)
		qsort(r->untracked, r->untracked_count, sizeof(char *),
		      label_cmp);
	rc = 0;
out:
	PQclear(res);
	cairn_buf_dispose(&sql);
	return rc;
}

int cairn_audit_verify_with(cairn_audit_verify_result *out, cairn_db *db,
			    const cairn_audit_verify_options *o)
{
	struct verify v;
	int version, rc = CAIRN_ERROR;

	memset(out, 0, sizeof(*out));
	memset(&v, 0, sizeof(v));
	v.r = out;
	v.o = o;
	cairn_buf_init(&v.last, 0);
	if (o && cairn__version_check(o->version,
				      CAIRN_AUDIT_VERIFY_OPTIONS_VERSION,
				      "cairn_audit_verify_options") < 0)
		goto out;
	/*
	 * No tables (a read-only verify never creates them): an empty
	 * chain, which still fails against an anchor that records rows.
	 * The mac column came with schema version 2.
	 */
	if (cairn_buf_puts(&v.last, CAIRN_AUDIT_GENESIS) < 0 ||
	    cairn_schema_version(&version, db) < 0 ||
	    (version >= 1 && verify_stream(&v, db, version >= 2) < 0))
		goto out;
	if (o && o->key && out->rows && !v.mac_id && !out->mac_reason) {
		out->mac_reason = cairn__strdup(
		    o->anchor && o->anchor->last_mac ?
		    "no row carries a MAC, but the anchor records one: the trail was keyed before and its MACs were removed" :
		    "no row carries a MAC: the trail was never sealed with a key, or its MACs were removed");
		if (!out->mac_reason)
			goto out;
	}
	if (o && o->anchor && check_anchor(&v) < 0)
		goto out;
	if (o && o->check_tracking && check_tracking(out, db, version) < 0)
		goto out;
	out->ok = !out->reason && !out->mac_reason && !out->anchor_reason &&
		  !out->untracked_count;
	out->last_hash = cairn_buf_detach(&v.last);
	rc = out->last_hash ? 0 : cairn_error__oom();
out:
	cairn_buf_dispose(&v.last);
	return rc;
}

int cairn_audit_verify(cairn_audit_verify_result *out, cairn_db *db)
{
	return cairn_audit_verify_with(out, db, NULL);
}

void cairn_audit_verify_result_dispose(cairn_audit_verify_result *r)
{
	if (!r)
		return;
	free(r->reason);
	free(r->last_hash);
	free(r->anchor_reason);
	free(r->mac_reason);
	for (size_t i = 0; i < r->untracked_count; i++)
		free(r->untracked[i]);
	free(r->untracked);
	memset(r, 0, sizeof(*r));
}

/* Rows sealed per UPDATE. */
#define SEAL_BATCH 1000

/*
 * Sets the MACs of rows [from, to) of res (id, hash) in one UPDATE: the
 * ids and MACs travel as two array parameters (digits and hex only).
 */
static int seal_batch(cairn_db *db, const char *update, const PGresult *res,
		      int from, int to, const void *key, size_t key_len)
{
	cairn_buf ids = CAIRN_BUF_INIT, macs = CAIRN_BUF_INIT;
	const char *params[2];
	PGresult *u = NULL;
	int rc = CAIRN_ERROR;

	if (cairn_buf_putc(&ids, '{') < 0 || cairn_buf_putc(&macs, '{') < 0)
		goto out;
	for (int i = from; i < to; i++) {
		char mac[65];

		if (cairn_audit__mac(mac, key, key_len, PQgetvalue(res, i, 1)) < 0 ||
		    cairn_buf_printf(&ids, "%s%s", i > from ? "," : "",
				     PQgetvalue(res, i, 0)) < 0 ||
		    cairn_buf_printf(&macs, "%s%s", i > from ? "," : "", mac) < 0)
			goto out;
	}
	if (cairn_buf_putc(&ids, '}') < 0 || cairn_buf_putc(&macs, '}') < 0)
		goto out;
	params[0] = ids.ptr;
	params[1] = macs.ptr;
	u = cairn_db__exec_params(db, update, 2, params);
	if (!u || PQresultStatus(u) != PGRES_COMMAND_OK) {
		cairn_db__error(db, u, "cannot seal the audit rows of the run");
		goto out;
	}
	rc = 0;
out:
	PQclear(u);
	cairn_buf_dispose(&ids);
	cairn_buf_dispose(&macs);
	return rc;
}

int cairn_audit_seal(size_t *sealed, cairn_db *db, const char *run_id,
		     int64_t after_id, const void *key, size_t key_len)
{
	const char *s = cairn_db__schema_ident(db);
	cairn_buf sel = CAIRN_BUF_INIT, upd = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	char after[24];
	const char *params[2] = {run_id, after};
	int rc = CAIRN_ERROR;

	if (sealed)
		*sealed = 0;
	snprintf(after, sizeof(after), "%lld", (long long)after_id);
	if (cairn_buf_printf(&sel,
			     "SELECT id, hash FROM %s.audit WHERE ($1::text IS NULL "
			     "OR run_id = $1) AND id > $2::bigint AND mac IS NULL "
			     "ORDER BY id", s) < 0 ||
	    cairn_buf_printf(&upd,
			     "UPDATE %s.audit AS a SET mac = v.mac FROM "
			     "unnest($1::bigint[], $2::text[]) AS v(id, mac) "
			     "WHERE a.id = v.id AND a.mac IS NULL", s) < 0)
		goto out;
	res = cairn_db__exec_params(db, sel.ptr, 2, params);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		cairn_db__error(db, res, "cannot seal the audit rows of the run");
		goto out;
	}
	for (int i = 0; i < PQntuples(res); i += SEAL_BATCH) {
		int to = PQntuples(res) - i > SEAL_BATCH ? i + SEAL_BATCH :
							   PQntuples(res);

		if (seal_batch(db, upd.ptr, res, i, to, key, key_len) < 0)
			goto out;
		if (sealed)
			*sealed += (size_t)(to - i);
	}
	rc = 0;
out:
	PQclear(res);
	cairn_buf_dispose(&sel);
	cairn_buf_dispose(&upd);
	return rc;
}

int cairn_audit_head(cairn_audit_anchor *out, cairn_db *db)
{
	const char *s = cairn_db__schema_ident(db);
	cairn_buf sql = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	bool mac_column;
	int rc = CAIRN_ERROR;

	memset(out, 0, sizeof(*out));
	if (has_mac_column(&mac_column, db) < 0 ||
	    cairn_buf_printf(
		&sql,
		"SELECT (SELECT count(*) FROM %s.audit), h.id, h.hash, h.mac "
		"FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT a.id, a.hash, %s AS mac "
		"FROM %s.audit AS a ORDER BY a.id DESC LIMIT 1) AS h ON true",
		s, mac_column ? "a.mac" : "NULL::text", s) < 0)
		goto out;
	res = cairn_db__exec(db, sql.ptr);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		cairn_db__error(db, res, "cannot read the head of the audit trail");
		goto out;
	}
	out->rows = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	out->last_id = PQgetisnull(res, 0, 1) ? 0 : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (!take(&out->last_hash, res, 0, 2) || !take(&out->last_mac, res, 0, 3))
		goto out;
	if (!out->last_hash && !(out->last_hash = cairn__strdup(CAIRN_AUDIT_GENESIS)))
		goto out;
	out->schema = cairn__strdup(cairn_db_schema(db));
	out->database = cairn__strdup(cairn_db_description(db));
	if (!out->schema || !out->database)
		goto out;
	rc = 0;
out:
	PQclear(res);
	cairn_buf_dispose(&sql);
	return rc;
}

int cairn_audit_check_anchors(char **reason, cairn_db *db,
			      const cairn_audit_anchor *a, size_t count)
{
	cairn_buf sql = CAIRN_BUF_INIT, ids = CAIRN_BUF_INIT, why = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	const char *params[1];
	int rc = CAIRN_ERROR;

	*reason = NULL;
	/* newest first: each anchor against the one before it in time */
	for (size_t i = 0; i + 1 < count; i++) {
		const cairn_audit_anchor *n = &a[i], *o = &a[i + 1];

		if (n->rows < o->rows || n->last_id < o->last_id) {
			if (cairn_buf_printf(&why,
				"the anchor %.12s (%s) records %llu rows up to row %lld, less than the anchor before it, %.12s (%s), with %llu rows up to row %lld: rows were deleted before it was taken",
				n->commit, n->at ? n->at : "?",
				(unsigned long long)n->rows, (long long)n->last_id,
				o->commit, o->at ? o->at : "?",
				(unsigned long long)o->rows, (long long)o->last_id) < 0)
				goto out;
			goto found;
		}
	}
	/* anchors only grow (above): when the newest names no row, none
	 * does, and there is nothing to read (maybe not even a table) */
	if (!count || !a[0].rows || !a[0].last_id) {
		rc = 0;
		goto out;
	}
	if (cairn_buf_putc(&ids, '{') < 0)
		goto out;
	for (size_t i = 0; i < count; i++)
		if (cairn_buf_printf(&ids, "%s%lld", i ? "," : "",
				     (long long)a[i].last_id) < 0)
			goto out;
	if (cairn_buf_putc(&ids, '}') < 0 ||
	    cairn_buf_printf(&sql, "SELECT id, hash FROM %s.audit WHERE id = ANY($1::bigint[])",
			     cairn_db__schema_ident(db)) < 0)
		goto out;
	params[0] = ids.ptr;
	res = cairn_db__exec_params(db, sql.ptr, 1, params);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		cairn_db__error(db, res, "cannot check the audit anchors");
		goto out;
	}
	/* oldest first: the earliest anchor that no longer holds */
	for (size_t k = count; k-- > 0;) {
		const cairn_audit_anchor *x = &a[k];
		const char *hash = NULL;

		if (!x->rows || !x->last_id)
			continue;
		for (int i = 0; i < PQntuples(res); i++)
			if (strtoll(PQgetvalue(res, i, 0), NULL, 10) == x->last_id)
				hash = PQgetvalue(res, i, 1);
		if (!hash) {
			if (cairn_buf_printf(&why,
				"row %lld, the newest row when the anchor %.12s was taken at %s, is gone: rows were deleted",
				(long long)x->last_id, x->commit, x->at ? x->at : "?") < 0)
				goto out;
			goto found;
		}
		if (!x->last_hash || strcmp(hash, x->last_hash)) {
			if (cairn_buf_printf(&why,
				"row %lld no longer has the hash anchored by %.12s at %s: a row at or before it was edited and the chain recomputed",
				(long long)x->last_id, x->commit, x->at ? x->at : "?") < 0)
				goto out;
			goto found;
		}
	}
	rc = 0;
	goto out;
found:
	*reason = cairn_buf_detach(&why);
	rc = *reason ? 0 : cairn_error__oom();
out:
	PQclear(res);
	cairn_buf_dispose(&sql);
	cairn_buf_dispose(&ids);
	cairn_buf_dispose(&why);
	return rc;
}

int cairn_audit_seal_check(char **reason, cairn_db *db, const char *run_id,
			   int64_t after_id, bool anchor_has_mac)
{
	const char *s = cairn_db__schema_ident(db);
	cairn_buf sql = CAIRN_BUF_INIT, why = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	char after[24];
	const char *params[2] = {run_id, after};
	int64_t unsealed, sealed;
	int rc = CAIRN_ERROR;

	*reason = NULL;
	snprintf(after, sizeof(after), "%lld", (long long)after_id);
	/* the run's rows begin at cut; without rows, nothing is the run's */
	if (cairn_buf_printf(&sql,
		"WITH c AS (SELECT CASE WHEN $1::text IS NULL THEN $2::bigint + 1 "
		"ELSE coalesce((SELECT min(id) FROM %s.audit WHERE run_id = $1), "
		"(SELECT coalesce(max(id), 0) + 1 FROM %s.audit)) END AS cut) "
		"SELECT (SELECT min(a.id) FROM %s.audit AS a, c WHERE a.mac IS NULL "
		"AND a.id < c.cut), (SELECT max(id) FROM %s.audit WHERE mac IS NOT NULL)",
		s, s, s, s) < 0)
		goto out;
	res = cairn_db__exec_params(db, sql.ptr, 2, params);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		cairn_db__error(db, res, "cannot check the audit trail before sealing it");
		goto out;
	}
	unsealed = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	sealed = PQgetisnull(res, 0, 1) ? 0 : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (!unsealed || (!sealed && !anchor_has_mac)) {
		rc = 0;
		goto out;
	}
	if (sealed) {
		if (cairn_buf_printf(&why,
			"row %lld, older than this run, has no MAC, though row %lld has one: its MAC was removed, or it was written without the key",
			(long long)unsealed, (long long)sealed) < 0)
			goto out;
	} else if (cairn_buf_printf(&why,
			"row %lld, older than this run, has no MAC and no row has one, but the latest anchor records a MAC: the trail was keyed before and its MACs were removed",
			(long long)unsealed) < 0) {
		goto out;
	}
	*reason = cairn_buf_detach(&why);
	rc = *reason ? 0 : cairn_error__oom();
out:
	PQclear(res);
	cairn_buf_dispose(&sql);
	cairn_buf_dispose(&why);
	return rc;
}
