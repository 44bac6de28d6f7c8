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
 * deleted or reordered row, or a forged hash, is found and named.
 *
 * The chain alone cannot catch whoever can write the table and
 * recompute it (deleting the newest rows, or editing a row and
 * rehashing everything after it in SQL).  Two things can:
 *
 *  - anchors: cairn_audit_head() reads the chain's head (row count, last
 *    id and hash), cairn_audit_anchor_commit() records it outside the
 *    database as a commit on refs/cairn/audit/<environment> (a tree with
 *    one anchor.json; each anchor's parent is the previous one), and
 *    verification checks the table against the latest anchor;
 *  - a keyed chain: cairn_audit_seal() writes into each row's `mac`
 *    column hex(HMAC-SHA256(key, hash)), computed here with a key that
 *    never reaches the database.  Since a row's hash covers every row
 *    before it, a MAC vouches for the whole chain up to its row.
 *
 * doc/audit.md says exactly what each mode detects and what it does not.
 */
#ifndef CAIRN_AUDIT_H
#define CAIRN_AUDIT_H

#include "common.h"
#include "db.h"
#include "engine.h"
#include "finding.h"
#include "repo.h"

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
	char *mac; /* the keyed chain's MAC, NULL when the row has none */
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

/*
 * The head of the chain as an anchor records it.  All strings are owned
 * (cairn_audit_anchor_dispose frees them); NULL when unknown.
 */
typedef struct cairn_audit_anchor {
	char *environment;  /* the environment it anchors */
	char *schema;	    /* cairn's schema */
	char *database;	    /* user@host:port/dbname, never a password */
	uint64_t rows;	    /* rows in the table */
	int64_t last_id;    /* id of the newest row, 0 when there is none */
	char *last_hash;    /* its hash (CAIRN_AUDIT_GENESIS when none) */
	char *last_mac;	    /* its MAC, NULL when it has none */
	char *at;	    /* when the anchor was taken, ISO 8601 UTC */
	char *actor;	    /* who took it */
	char commit[41];    /* the anchor's commit, "" when not written */
} cairn_audit_anchor;

/*
 * Reads the head of the chain (count, newest row) in one statement and
 * fills out's rows, last_id, last_hash, last_mac, schema and database
 * (environment, at and actor are the caller's to set).
 */
CAIRN_EXTERN(int) cairn_audit_head(cairn_audit_anchor *out, cairn_db *db);

/*
 * Records a as a new commit on refs/cairn/audit/<a->environment>: a tree
 * holding anchor.json (cairn_audit_anchor_json), the previous anchor
 * commit as parent, author and committer parsed from a->actor ("Name
 * <email>"); sets a->at when NULL and fills a->commit.  The ref moves
 * only from the commit it was read at, so two anchors at once cannot
 * lose one.
 */
CAIRN_EXTERN(int)
cairn_audit_anchor_commit(cairn_audit_anchor *a, cairn_repo *repo);

/*
 * Appends a's JSON as one line to path, opened O_APPEND|O_NOFOLLOW
 * (created 0600): a symbolic link or anything but a regular file is
 * refused.
 */
CAIRN_EXTERN(int)
cairn_audit_anchor_append_file(const cairn_audit_anchor *a, const char *path);

/*
 * Reads the latest anchor of environment from the repository.  *found is
 * false (and out empty) when there is none yet.
 */
CAIRN_EXTERN(int)
cairn_audit_anchor_latest(cairn_audit_anchor *out, bool *found,
			  cairn_repo *repo, const char *environment);

/*
 * Reads every anchor of environment, newest first, following the first
 * parent of each anchor commit (at most 100000).  *count is 0 when there
 * is none yet.  Free with cairn_audit_anchors_free.
 */
CAIRN_EXTERN(int)
cairn_audit_anchor_history(cairn_audit_anchor **out, size_t *count,
			   cairn_repo *repo, const char *environment);
CAIRN_EXTERN(void)
cairn_audit_anchors_free(cairn_audit_anchor *a, size_t count);

/*
 * Checks the table against a whole anchor history (newest first, as
 * cairn_audit_anchor_history reads it): no anchor counts fewer rows or
 * an older last row than the anchor before it, and every anchored row
 * is still in the table with the anchored hash.  *reason is NULL when
 * it all holds, else what is wrong (caller frees).
 */
CAIRN_EXTERN(int)
cairn_audit_check_anchors(char **reason, cairn_db *db,
			  const cairn_audit_anchor *a, size_t count);

/*
 * Whether a keyed run may seal: *reason is NULL when no row older than
 * the run (of run_id, or with an id up to after_id when run_id is NULL)
 * lacks a MAC, or when none does while no row has a MAC and
 * anchor_has_mac is false (a trail never keyed before: the first keyed
 * run seals it all).  Else *reason says why sealing would vouch for a
 * trail verify rejects (caller frees).
 */
CAIRN_EXTERN(int)
cairn_audit_seal_check(char **reason, cairn_db *db, const char *run_id,
		       int64_t after_id, bool anchor_has_mac);

/* a as a JSON object's text, keys sorted; caller frees.  NULL on OOM. */
CAIRN_EXTERN(char *) cairn_audit_anchor_json(const cairn_audit_anchor *a);
CAIRN_EXTERN(void) cairn_audit_anchor_dispose(cairn_audit_anchor *a);

/*
 * Writes the MAC of every row that has none yet, of run_id (when not
 * NULL) and with an id above after_id:
 * hex(HMAC-SHA256(key, "cairn-audit-mac:v1:" || hash)).  The append-only
 * trigger lets a row's mac go from NULL to a value once and nothing else
 * change.  *sealed (may be NULL) gets the number of rows sealed.  Seal
 * only rows this process just wrote: sealing older unsealed rows would
 * vouch for whatever someone left there.
 */
CAIRN_EXTERN(int)
cairn_audit_seal(size_t *sealed, cairn_db *db, const char *run_id,
		 int64_t after_id, const void *key, size_t key_len);

/*
 * Records that a migrate run was refused before it started (a guard of
 * the environment, or validation): one row, event pre_validate, outcome
 * `refused`, detail {"refused_by": check, "error": {"message": reason},
 * "findings": [...]}.  Creates cairn's schema when absent; takes no
 * deploy lock (the chain trigger locks the chain for the insert).  The
 * row's run id is copied to run_id (may be NULL).  o->db is required.
 */
CAIRN_EXTERN(int)
cairn_audit_refusal(char run_id[40], const cairn_run_options *o,
		    const char *direction, const char *check,
		    const char *reason, const cairn_findings *findings);

typedef struct cairn_audit_verify_result {
	bool ok;	      /* the whole chain holds, and every check below */
	size_t rows;	      /* rows read */
	int64_t first_bad_id; /* 0 when the chain holds */
	/*
	 * NULL when the chain holds, else what is wrong with first_bad_id,
	 * e.g. "row 17 was edited: its hash does not match its contents".
	 */
	char *reason;
	/* hash of the last row (CAIRN_AUDIT_GENESIS when there are none) */
	char *last_hash;
	/* --- since options version 1 --- */
	size_t macs;	      /* rows whose MAC was checked */
	bool anchored;	      /* an anchor was checked */
	char *anchor_reason;  /* NULL when the anchor holds */
	/* applied tracking rows with no audit row saying so: "42_name" */
	char **untracked;
	size_t untracked_count;
	/*
	 * With a key: NULL when every MAC holds, else the first problem
	 * ("row 17's MAC does not match its hash: ..."), about mac_bad_id
	 * (0 when it is about no single row).
	 */
	char *mac_reason;
	int64_t mac_bad_id;
} cairn_audit_verify_result;

typedef struct cairn_audit_verify_options {
	unsigned int version;
	/* the chain's key: MACs are checked; NULL: they are counted only */
	const void *key;
	size_t key_len;
	/* the latest anchor to check the table against, or NULL */
	const cairn_audit_anchor *anchor;
	/* check every applied tracking row has its audit row */
	bool check_tracking;
} cairn_audit_verify_options;

#define CAIRN_AUDIT_VERIFY_OPTIONS_VERSION 1
#define CAIRN_AUDIT_VERIFY_OPTIONS_INIT                                        \
	{ .version = CAIRN_AUDIT_VERIFY_OPTIONS_VERSION }

/*
 * Checks the whole chain, streaming the rows (memory does not grow with
 * the table).  Returns 0 when the check ran, whatever it found (see
 * out->ok), and an error only when it could not run.  Dispose *out
 * either way.  cairn_audit_verify is cairn_audit_verify_with(out, db,
 * NULL): the chain alone.
 */
CAIRN_EXTERN(int)
cairn_audit_verify(cairn_audit_verify_result *out, cairn_db *db);
CAIRN_EXTERN(int)
cairn_audit_verify_with(cairn_audit_verify_result *out, cairn_db *db,
			const cairn_audit_verify_options *o);
CAIRN_EXTERN(void)
cairn_audit_verify_result_dispose(cairn_audit_verify_result *r);

#ifdef __cplusplus
}
#endif

#endif
