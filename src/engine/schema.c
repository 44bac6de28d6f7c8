/*
 * schema.c - creating and upgrading cairn's tables (include/cairn/schema.h).
 *
 * The objects are written as SQL templates with @name@ placeholders that
 * expand to the quoted schema identifier, literals and keys computed
 * here, so no unquoted name is ever pasted into SQL.  steps[i] takes the
 * schema from version i to version i + 1; a future cairn appends steps
 * and bumps CAIRN_SCHEMA_VERSION, never edits an old step.
 *
 * cairn_schema_ensure() is called at the start of every command that
 * writes to the database (under the deploy lock), so the common case must
 * be cheap: outside a transaction block it reads schema_version directly
 * (one round trip) and takes "no such schema" or "no such table" for
 * version 0, which is safe because the failed statement was its own
 * implicit transaction.  Inside a transaction block a failed statement
 * would abort the caller's work, so it asks the catalog first (two round
 * trips).  When the version is missing or old, the steps run in a
 * transaction that first takes pg_advisory_xact_lock on a key derived
 * from the schema name and reads the version again under the lock: of
 * two concurrent first runs, one creates everything and the other finds
 * it done.
 *
 * Commands that only read (status, validate, plan, audit log|verify, dry
 * runs, the git hooks) call cairn_schema_exists() instead, which reads the
 * version the same way and never writes: where the tables are absent they
 * report an empty history, and they work on a read-only target.
 *
 * Lock keys are the first 63 bits of SHA-256("cairn:<purpose>:<schema>"),
 * computed here rather than with hashtext() so they do not depend on the
 * server version.  The audit chain's key is written into the trigger
 * function as a constant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cairn/schema.h"
#include "db.h"
#include "util/error.h"
#include "util/util.h"

/* What the @name@ placeholders expand to. */
struct vars {
	const char *schema; /* quoted identifier */
	char chain_key[24]; /* decimal */
	cairn_buf seq;	    /* "cairn".audit_id_seq, pasted as a literal */
};

/*
 * The chain trigger: lock the chain, then number and link the row, so
 * ids follow lock order and each row links to the one committed before
 * it.  Under READ COMMITTED each statement of a plpgsql function takes a
 * new snapshot, so the SELECT after the lock sees the row of whoever held
 * it last; under REPEATABLE READ it would not, hence the refusal.
 */
static const char chain_body[] =
    "DECLARE\n"
    "\tlast_hash text;\n"
    "BEGIN\n"
    "\tIF current_setting('transaction_isolation') <> 'read committed' THEN\n"
    "\t\tRAISE EXCEPTION 'cannot append to cairn''s audit trail in a % transaction',\n"
    "\t\t\tcurrent_setting('transaction_isolation')\n"
    "\t\t\tUSING HINT = 'audit rows are chained in commit order; write them in a read committed transaction';\n"
    "\tEND IF;\n"
    "\tPERFORM pg_advisory_xact_lock(@chain_key@);\n"
    "\tNEW.id := nextval(@seq@);\n"
    "\tSELECT a.hash INTO last_hash FROM @schema@.audit AS a\n"
    "\t\tORDER BY a.id DESC LIMIT 1;\n"
    "\tNEW.prev_hash := coalesce(last_hash, repeat('0', 64));\n"
    "\tSELECT encode(sha256(convert_to(@canonical@, 'UTF8')), 'hex')\n"
    "\t\tINTO NEW.hash FROM (SELECT NEW.*) AS r;\n"
    "\tRETURN NEW;\n"
    "END";

static const char reject_body[] =
    "BEGIN\n"
    "\tRAISE EXCEPTION 'cairn''s audit trail %.% is append-only: % is not allowed',\n"
    "\t\tquote_ident(TG_TABLE_SCHEMA), quote_ident(TG_TABLE_NAME), TG_OP\n"
    "\t\tUSING ERRCODE = 'insufficient_privilege',\n"
    "\t\tHINT = 'audit rows are evidence; record a correction as a new row';\n"
    "END";

/* Version 0 -> 1: everything. */
static const char step1[] =
    "CREATE SCHEMA IF NOT EXISTS @schema@;\n"
    "CREATE TABLE @schema@.schema_version (\n"
    "\tversion int NOT NULL,\n"
    "\tcairn_version text NOT NULL,\n"
    "\tupgraded_at timestamptz NOT NULL DEFAULT now()\n"
    ");\n"
    "CREATE UNIQUE INDEX schema_version_one_row\n"
    "\tON @schema@.schema_version ((true));\n"
    "CREATE TABLE @schema@.migrations (\n"
    "\tversion numeric(20,0) PRIMARY KEY,\n"
    "\tname text NOT NULL,\n"
    "\tchecksum text NOT NULL,\n"
    "\tup_blob text,\n"
    "\tdown_blob text,\n"
    "\tno_transaction boolean NOT NULL DEFAULT false,\n"
    "\tstatus text NOT NULL\n"
    "\t\tCHECK (status IN ('running', 'applied', 'failed')),\n"
    "\tcommit_sha text,\n"
    "\tauthor_name text,\n"
    "\tauthor_email text,\n"
    "\tauthored_at timestamptz,\n"
    "\tdeploy_rev text,\n"
    "\tdeploy_ref text,\n"
    "\tapplied_by text,\n"
    "\tapplied_at timestamptz NOT NULL DEFAULT now(),\n"
    "\tduration_ms bigint,\n"
    "\tcairn_version text,\n"
    "\terror text\n"
    ");\n"
    "CREATE SEQUENCE @schema@.audit_id_seq;\n"
    "CREATE TABLE @schema@.audit (\n"
    "\tid bigint PRIMARY KEY,\n"
    "\tat timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
    "\trun_id text NOT NULL,\n"
    "\tenvironment text,\n"
    "\tevent text NOT NULL,\n"
    "\tversion numeric(20,0),\n"
    "\tname text,\n"
    "\tcommit_sha text,\n"
    "\tauthor text,\n"
    "\tactor text,\n"
    "\tdeploy_rev text,\n"
    "\toutcome text NOT NULL,\n"
    "\tdetail jsonb NOT NULL DEFAULT '{}',\n"
    "\tprev_hash text NOT NULL,\n"
    "\thash text NOT NULL\n"
    ");\n"
    "ALTER SEQUENCE @schema@.audit_id_seq OWNED BY @schema@.audit.id;\n"
    "CREATE FUNCTION @schema@.audit_chain() RETURNS trigger\n"
    "\tLANGUAGE plpgsql SET search_path = pg_catalog, pg_temp\n"
    "\tAS @chain_body@;\n"
    "CREATE FUNCTION @schema@.audit_reject() RETURNS trigger\n"
    "\tLANGUAGE plpgsql SET search_path = pg_catalog, pg_temp\n"
    "\tAS @reject_body@;\n"
    "CREATE TRIGGER audit_chain BEFORE INSERT ON @schema@.audit\n"
    "\tFOR EACH ROW EXECUTE FUNCTION @schema@.audit_chain();\n"
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE\n"
    "\tON @schema@.audit\n"
    "\tFOR EACH ROW EXECUTE FUNCTION @schema@.audit_reject();\n"
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON @schema@.audit\n"
    "\tFOR EACH STATEMENT EXECUTE FUNCTION @schema@.audit_reject();\n"
    "COMMENT ON TABLE @schema@.migrations IS\n"
    "\t'migrations cairn applied or tried to apply';\n"
    "COMMENT ON TABLE @schema@.audit IS\n"
    "\t'cairn''s audit trail: append-only and hash-chained; check it with cairn audit verify';\n"
    "COMMENT ON TABLE @schema@.schema_version IS\n"
    "\t'the version of cairn''s own tables (one row)'";

/*
 * Version 1 -> 2: the keyed chain.  audit.mac holds
 * hex(HMAC-SHA256(key, "cairn-audit-mac:v1:" || hash)), written by cairn
 * with a key the database never sees (cairn_audit_seal).  The
 * append-only trigger lets an UPDATE through only when it sets mac from
 * NULL and changes nothing else; the chain's canonical form (and so
 * every existing hash) is unchanged.
 */
static const char reject_body_v2[] =
    "BEGIN\n"
    "\tIF TG_OP = 'UPDATE' THEN\n"
    "\t\tIF OLD.mac IS NULL AND NEW.mac IS NOT NULL\n"
    "\t\t   AND (to_jsonb(OLD) - 'mac') = (to_jsonb(NEW) - 'mac') THEN\n"
    "\t\t\tRETURN NEW;\n"
    "\t\tEND IF;\n"
    "\tEND IF;\n"
    "\tRAISE EXCEPTION 'cairn''s audit trail %.% is append-only: % is not allowed',\n"
    "\t\tquote_ident(TG_TABLE_SCHEMA), quote_ident(TG_TABLE_NAME), TG_OP\n"
    "\t\tUSING ERRCODE = 'insufficient_privilege',\n"
    "\t\tHINT = 'audit rows are evidence; record a correction as a new row';\n"
    "END";

static const char step2[] =
    "ALTER TABLE @schema@.audit ADD COLUMN mac text;\n"
    "COMMENT ON COLUMN @schema@.audit.mac IS\n"
    "\t'HMAC-SHA256 of the row''s hash under a key kept outside the database (audit.secret_env)';\n"
    "CREATE OR REPLACE FUNCTION @schema@.audit_reject() RETURNS trigger\n"
    "\tLANGUAGE plpgsql SET search_path = pg_catalog, pg_temp\n"
    "\tAS @reject_body_v2@";

/*
 * Version 2 -> 3: versions as text, so dotted (1.2.3) and per-directory
 * (billing/3) versions fit.  version::text of a numeric(20,0) is its
 * digits without leading zeros, exactly what cairn normalizes a whole
 * number to, so every existing row keeps its version's text; and the
 * chain's canonical form already hashed version::text, so every hash
 * of the audit trail stays what it was.  ALTER COLUMN ... TYPE rewrites
 * the table without firing the append-only row triggers.  Nothing may
 * ORDER BY these columns: text order is not version order.
 */
static const char step3[] =
    "ALTER TABLE @schema@.migrations\n"
    "\tALTER COLUMN version TYPE text USING version::text;\n"
    "ALTER TABLE @schema@.audit\n"
    "\tALTER COLUMN version TYPE text USING version::text";

/*
 * Version 3 -> 4: repeatable migrations (include/cairn/repeatable.h).
 * One row per name, replaced each time the file is applied again; it
 * names no other table's column, so it holds whatever type versions
 * have.
 */
static const char step4[] =
    "CREATE TABLE @schema@.repeatables (\n"
    "\tname text PRIMARY KEY,\n"
    "\tchecksum text NOT NULL,\n"
    "\tblob text,\n"
    "\tfile text,\n"
    "\tno_transaction boolean NOT NULL DEFAULT false,\n"
    "\tcommit_sha text,\n"
    "\tauthor_name text,\n"
    "\tauthor_email text,\n"
    "\tauthored_at timestamptz,\n"
    "\tdeploy_rev text,\n"
    "\tdeploy_ref text,\n"
    "\tapplied_by text,\n"
    "\tapplied_at timestamptz NOT NULL DEFAULT now(),\n"
    "\tduration_ms bigint,\n"
    "\trun_id text,\n"
    "\tcairn_version text,\n"
    "\timported_checksum text\n"
    ");\n"
    "COMMENT ON TABLE @schema@.repeatables IS\n"
    "\t'repeatable migrations cairn applied: the checksum of the file last applied'";

static const char *const steps[CAIRN_SCHEMA_VERSION] = {step1, step2, step3, step4};

/* The first 63 bits of SHA-256("cairn:<purpose>:<schema>"). */
static int lock_key(int64_t *out, const char *purpose, const char *schema)
{
	cairn_buf b = CAIRN_BUF_INIT;
	char hex[65];
	uint64_t u = 0;
	int rc = CAIRN_ERROR;

	if (cairn_buf_printf(&b, "cairn:%s:%s", purpose, schema) < 0 ||
	    cairn__sha256_hex(hex, b.ptr, b.size) < 0)
		goto out;
	for (int i = 0; i < 16; i++) {
		char c = hex[i];

		u = u << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	*out = (int64_t)(u >> 1);
	rc = 0;
out:
	cairn_buf_dispose(&b);
	return rc;
}

static int vars_init(struct vars *v, cairn_db *db)
{
	int64_t key;

	memset(v, 0, sizeof(*v));
	cairn_buf_init(&v->seq, 0);
	v->schema = cairn_db__schema_ident(db);
	if (lock_key(&key, "audit-chain", cairn_db_schema(db)) < 0)
		return CAIRN_ERROR;
	snprintf(v->chain_key, sizeof(v->chain_key), "%lld", (long long)key);
	if (cairn_buf_printf(&v->seq, "%s.audit_id_seq", v->schema) < 0)
		return CAIRN_ERROR;
	return 0;
}

static int expand(cairn_buf *out, const char *tmpl, struct vars *v);

static int put_var(cairn_buf *out, const char *name, size_t len, struct vars *v)
{
	cairn_buf body = CAIRN_BUF_INIT;
	const char *tmpl = NULL;
	int rc;

#define IS(s) (len == sizeof(s) - 1 && !memcmp(name, s, len))
	if (IS("schema"))
		return cairn_buf_puts(out, v->schema);
	if (IS("seq"))
		return cairn_db__literal(out, v->seq.ptr);
	if (IS("chain_key"))
		return cairn_buf_puts(out, v->chain_key);
	if (IS("canonical"))
		return cairn_buf_puts(out, cairn_audit__canonical_sql);
	if (IS("chain_body"))
		tmpl = chain_body;
	else if (IS("reject_body"))
		tmpl = reject_body;
	else if (IS("reject_body_v2"))
		tmpl = reject_body_v2;
#undef IS
	if (!tmpl)
		return cairn_error__set(
		    CAIRN_ERRCLASS_USAGE,
		    "unknown placeholder '@%.*s@' in cairn's schema", (int)len,
		    name);
	/* a function body, expanded then quoted as one literal */
	rc = expand(&body, tmpl, v);
	if (!rc)
		rc = cairn_db__literal(out, body.ptr);
	cairn_buf_dispose(&body);
	return rc;
}

static int expand(cairn_buf *out, const char *tmpl, struct vars *v)
{
	const char *p = tmpl, *at, *end;

	while ((at = strchr(p, '@')) && (end = strchr(at + 1, '@'))) {
		if (cairn_buf_put(out, p, (size_t)(at - p)) < 0 ||
		    put_var(out, at + 1, (size_t)(end - at - 1), v) < 0)
			return CAIRN_ERROR;
		p = end + 1;
	}
	return cairn_buf_puts(out, p);
}

static const char *sqlstate_of(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

/*
 * Runs sql; on failure sets the error with `what` and returns
 * CAIRN_ERROR.  *out (optional) receives the result.
 */
static int run(cairn_db *db, PGresult **out, const char *sql, const char *what)
{
	PGresult *res = cairn_db__exec(db, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (out)
		*out = NULL;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		cairn_db__error(db, res, what);
		PQclear(res);
		return CAIRN_ERROR;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}

/* Reads version and cairn_version from a result of zero or one row. */
static int read_row(int *version, char **by, const PGresult *res,
		    const char *schema)
{
	const char *s;
	char *end;
	long n;

	*version = 0;
	if (PQntuples(res) == 0)
		return cairn_error__set(
		    CAIRN_ERRCLASS_SQL,
		    "cairn's schema '%s' is damaged: its schema_version table has no row",
		    schema);
	s = PQgetvalue(res, 0, 0);
	n = strtol(s, &end, 10);
	if (*end || n < 1 || n > 1000000)
		return cairn_error__set(
		    CAIRN_ERRCLASS_SQL,
		    "cairn's schema '%s' is damaged: its schema_version says '%s'",
		    schema, s);
	*version = (int)n;
	if (by) {
		*by = cairn__strdup(PQgetvalue(res, 0, 1));
		if (!*by)
			return CAIRN_ERROR;
	}
	return 0;
}

static int cant_read(cairn_db *db, const PGresult *res)
{
	cairn_buf what = CAIRN_BUF_INIT;

	cairn_buf_printf(&what,
			 "cannot read the version of cairn's schema '%s'",
			 cairn_db_schema(db));
	cairn_db__error(
	    db, res,
	    what.size ? what.ptr : "cannot read the version of cairn's schema");
	cairn_buf_dispose(&what);
	return CAIRN_ERROR;
}

/*
 * Version by reading schema_version directly: one round trip, but a
 * missing table is an error statement, so only outside a transaction.
 */
static int version_direct(int *out, char **by, cairn_db *db)
{
	cairn_buf sql = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	const char *st;
	int rc = CAIRN_ERROR;

	*out = 0;
	if (cairn_buf_printf(
		&sql, "SELECT version, cairn_version FROM %s.schema_version",
		cairn_db__schema_ident(db)) < 0)
		goto out;
	res = cairn_db__exec(db, sql.ptr);
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
		rc = read_row(out, by, res, cairn_db_schema(db));
		goto out;
	}
	st = sqlstate_of(res);
	/* undefined_table, invalid_schema_name: not created yet */
	if (!strcmp(st, "42P01") || !strcmp(st, "3F000")) {
		rc = 0;
		goto out;
	}
	cant_read(db, res);
out:
	PQclear(res);
	cairn_buf_dispose(&sql);
	return rc;
}

/* Version through the catalog: never fails for a missing table. */
static int version_catalog(int *out, char **by, cairn_db *db)
{
	cairn_buf sql = CAIRN_BUF_INIT, name = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	int rc = CAIRN_ERROR;

	*out = 0;
	if (cairn_buf_printf(&name, "%s.schema_version",
			     cairn_db__schema_ident(db)) < 0 ||
	    cairn_buf_puts(&sql, "SELECT to_regclass(") < 0 ||
	    cairn_db__literal(&sql, name.ptr) < 0 ||
	    cairn_buf_puts(&sql, ") IS NOT NULL") < 0)
		goto out;
	if (!(res = cairn_db__exec(db, sql.ptr)) ||
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		cant_read(db, res);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t")) {
		rc = 0;
		goto out;
	}
	PQclear(res);
	res = NULL;
	cairn_buf_clear(&sql);
	if (cairn_buf_printf(&sql, "SELECT version, cairn_version FROM %s",
			     name.ptr) < 0)
		goto out;
	if (!(res = cairn_db__exec(db, sql.ptr)) ||
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		cant_read(db, res);
		goto out;
	}
	rc = read_row(out, by, res, cairn_db_schema(db));
out:
	PQclear(res);
	cairn_buf_dispose(&sql);
	cairn_buf_dispose(&name);
	return rc;
}

static int too_new(cairn_db *db, int version, const char *by)
{
	cairn_error__set(
	    CAIRN_ERRCLASS_SQL,
	    "cairn's schema '%s' is at version %d, newer than this cairn understands",
	    cairn_db_schema(db), version);
	cairn_error__detail(
	    "This is cairn %s, which knows schema version %d; the schema was last upgraded by cairn %s.",
	    CAIRN_VERSION, CAIRN_SCHEMA_VERSION, by ? by : "(unknown)");
	if (by)
		cairn_error__hint("use cairn %s or newer with this database",
				  by);
	else
		cairn_error__hint("use a newer cairn with this database");
	return CAIRN_ERROR;
}

/* Runs the steps from version `from` and records the new version. */
static int upgrade(cairn_db *db, int from)
{
	struct vars v;
	cairn_buf sql = CAIRN_BUF_INIT, what = CAIRN_BUF_INIT;
	int rc = CAIRN_ERROR;

	if (vars_init(&v, db) < 0)
		goto out;
	for (int i = from; i < CAIRN_SCHEMA_VERSION; i++) {
		if (expand(&sql, steps[i], &v) < 0 ||
		    cairn_buf_puts(&sql, ";\n") < 0)
			goto out;
	}
	if (cairn_buf_printf(
		&sql,
		"UPDATE %s.schema_version SET version = %d, cairn_version = ",
		v.schema, CAIRN_SCHEMA_VERSION) < 0 ||
	    cairn_db__literal(&sql, CAIRN_VERSION) < 0 ||
	    cairn_buf_printf(
		&sql,
		", upgraded_at = now();\n"
		"INSERT INTO %s.schema_version (version, cairn_version) SELECT %d, ",
		v.schema, CAIRN_SCHEMA_VERSION) < 0 ||
	    cairn_db__literal(&sql, CAIRN_VERSION) < 0 ||
	    cairn_buf_printf(
		&sql, " WHERE NOT EXISTS (SELECT FROM %s.schema_version)",
		v.schema) < 0)
		goto out;
	if (from == 0)
		rc =
		    cairn_buf_printf(&what, "cannot create cairn's schema '%s'",
				     cairn_db_schema(db));
	else
		rc = cairn_buf_printf(
		    &what,
		    "cannot upgrade cairn's schema '%s' from version %d to %d",
		    cairn_db_schema(db), from, CAIRN_SCHEMA_VERSION);
	if (rc < 0)
		goto out;
	rc = run(db, NULL, sql.ptr, what.ptr);
out:
	cairn_buf_dispose(&v.seq);
	cairn_buf_dispose(&sql);
	cairn_buf_dispose(&what);
	return rc;
}

/* Under the schema lock: check again, then create or upgrade. */
static int ensure_locked(cairn_db *db)
{
	char lock[96];
	int64_t key;
	int version;
	char *by = NULL;
	int rc = CAIRN_ERROR;

	if (lock_key(&key, "schema", cairn_db_schema(db)) < 0)
		goto out;
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%lld)",
		 (long long)key);
	if (run(db, NULL, lock, "cannot lock cairn's schema for set-up") < 0 ||
	    version_catalog(&version, &by, db) < 0)
		goto out;
	if (version > CAIRN_SCHEMA_VERSION) {
		rc = too_new(db, version, by);
		goto out;
	}
	rc = version < CAIRN_SCHEMA_VERSION ? upgrade(db, version) : 0;
out:
	free(by);
	return rc;
}

/*
 * The version in the database, read the cheapest way the connection's
 * state allows (see the top of the file); a version newer than this
 * cairn is an error.  `what` starts the message when the current
 * transaction has failed.
 */
static int version_checked(int *version, cairn_db *db, const char *what)
{
	PGTransactionStatusType ts = PQtransactionStatus(cairn_db__conn(db));
	char *by = NULL;
	int rc;

	*version = 0;
	if (ts == PQTRANS_INERROR)
		return cairn_error__set(
		    CAIRN_ERRCLASS_USAGE,
		    "%s cairn's schema '%s': the current transaction has failed",
		    what, cairn_db_schema(db));
	if (ts == PQTRANS_IDLE)
		rc = version_direct(version, &by, db);
	else
		rc = version_catalog(version, &by, db);
	if (rc == 0 && *version > CAIRN_SCHEMA_VERSION)
		rc = too_new(db, *version, by);
	free(by);
	return rc;
}

int cairn_schema_exists(bool *out, cairn_db *db)
{
	int version;

	*out = false;
	if (version_checked(&version, db, "cannot read") < 0)
		return CAIRN_ERROR;
	*out = version > 0;
	return 0;
}

int cairn_schema_ensure(cairn_db *db)
{
	PGconn *conn = cairn_db__conn(db);
	PGTransactionStatusType ts = PQtransactionStatus(conn);
	int version, rc;

	if ((rc = version_checked(&version, db, "cannot set up")) < 0)
		return rc;
	if (version == CAIRN_SCHEMA_VERSION)
		goto out;
	if (ts != PQTRANS_IDLE) {
		/* joins the caller's transaction */
		rc = ensure_locked(db);
		goto out;
	}
	if ((rc = run(db, NULL, "BEGIN", "cannot set up cairn's schema")) < 0)
		goto out;
	rc = ensure_locked(db);
	if (rc == 0) {
		rc = run(db, NULL, "COMMIT", "cannot set up cairn's schema");
		goto out;
	}
	/* the first failure stays reported */
	{
		cairn_error_saved s;

		cairn_error__save(&s);
		PQclear(cairn_db__exec(db, "ROLLBACK"));
		cairn_error__restore(&s);
	}
out:
	return rc;
}

int cairn_schema_version(int *out, cairn_db *db)
{
	PGTransactionStatusType ts = PQtransactionStatus(cairn_db__conn(db));

	*out = 0;
	if (ts == PQTRANS_INERROR)
		return cairn_error__set(
		    CAIRN_ERRCLASS_USAGE,
		    "cannot read the version of cairn's schema '%s': the current transaction has failed",
		    cairn_db_schema(db));
	return version_catalog(out, NULL, db);
}
