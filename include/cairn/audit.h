/*
 * audit.h - cairn's tamper-evident audit trail.
 *
 * Every row of <schema>.audit (see include/cairn/schema.h) carries the
 * hash of the row before it and its own hash, computed by a trigger in
 * the database while it holds a lock on the chain:
 *
 *   hash = hex(SHA-256(UTF-8 bytes of canonical))
 *   canonical = the text of the jsonb value
 *     jsonb_build_array(prev_hash, id,
 *       to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
 *       run_id, environment, event, version::text, name, commit_sha,
 *       author, actor, deploy_rev, outcome, detail)::text
 *
 * e.g. ["000...000", 1, "2024-05-01T12:00:00.123456Z", "r1", "production",
 * "post_execute", "42", "add_users", "9fceb02...", "Ann <ann@x>",
 * "Bob <bob@y>", "9fceb02...", "applied", {"duration_ms": 12}]
 * (jsonb's text form is canonical: one space after ',' and ':', keys of
 * objects sorted, no duplicates).  The first row's prev_hash is 64 zeros.
 *
 * cairn_audit_verify() reads the rows in id order, computes the same
 * canonical text with the same SQL expression, hashes it itself and
 * checks each row's hash and its link to the row before, so an edited,
 * deleted or reordered row, or a forged hash, is found and named.  The
 * last row can be removed without breaking the chain: keep the last hash
 * somewhere else (a release note, a log) to detect that too.
 */
#ifndef CAIRN_AUDIT_H
#define CAIRN_AUDIT_H

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The prev_hash of the first row. */
#define CAIRN_AUDIT_GENESIS                                                    \
	"0000000000000000000000000000000000000000000000000000000000000000"

/*
 * A row to append.  run_id, event and outcome are required; the rest may
 * be NULL.  version is a migration version (1-20 digits) or NULL when
 * the row is about no migration.  detail_json is a JSON object's text,
 * or NULL for {}.
 */
typedef struct cairn_audit_row {
	const char *run_id, *environment, *event, *version, *name, *commit_sha,
	    *author, *actor, *deploy_rev, *outcome;
	const char *detail_json;
} cairn_audit_row;

/*
 * Appends one row in its own (implicit) transaction, or in the caller's
 * when one is open.  cairn_schema_ensure() must have run.
 */
CAIRN_EXTERN(int) cairn_audit_append(cairn_db *db, const cairn_audit_row *row);

/* A row as read back; NULL members were SQL NULL. */
typedef struct cairn_audit_entry {
	int64_t id;
	char *at; /* ISO 8601 UTC, microseconds: 2024-05-01T12:00:00.123456Z */
	char *run_id, *environment, *event, *version, *name, *commit_sha,
	    *author, *actor, *deploy_rev, *outcome;
	char *detail; /* JSON text */
	char *prev_hash, *hash;
} cairn_audit_entry;

/*
 * Reads audit rows in id order (oldest first) into a new array *out of
 * *count entries (NULL and 0 when there are none).  since, when not
 * NULL, is timestamptz text ("2024-05-01", "2024-05-01 12:00+02") and
 * keeps rows at or after it; limit, when not 0, keeps the newest limit
 * rows of those, still returned oldest first.
 */
CAIRN_EXTERN(int)
cairn_audit_list(cairn_audit_entry **out, size_t *count, cairn_db *db,
		 const char *since, size_t limit);
/* Frees what cairn_audit_list() returned; accepts NULL. */
CAIRN_EXTERN(void) cairn_audit_entries_free(cairn_audit_entry *e, size_t count);

typedef struct cairn_audit_verify_result {
	bool ok;	      /* the whole chain holds */
	size_t rows;	      /* rows read */
	int64_t first_bad_id; /* 0 when ok */
	/*
	 * NULL when ok, else what is wrong with first_bad_id, e.g. "row 17
	 * was edited: its hash does not match its contents".
	 */
	char *reason;
	/* hash of the last row (CAIRN_AUDIT_GENESIS when there are none) */
	char *last_hash;
} cairn_audit_verify_result;

/*
 * Checks the whole chain, streaming the rows (memory does not grow with
 * the table).  Returns 0 when the check ran, whatever it found (see
 * out->ok), and an error only when it could not run.  Dispose *out
 * either way.
 */
CAIRN_EXTERN(int)
cairn_audit_verify(cairn_audit_verify_result *out, cairn_db *db);
CAIRN_EXTERN(void)
cairn_audit_verify_result_dispose(cairn_audit_verify_result *r);

#ifdef __cplusplus
}
#endif

#endif
