/*
 * schema.h - the database objects cairn keeps in its schema.
 *
 * cairn keeps its tables in one schema per database ("cairn" unless
 * configured otherwise, see cairn_db_options.schema).  They are created
 * by cairn_schema_ensure() on the first run that writes (migrate, repair)
 * and carry a version number so a later cairn can upgrade them in place.
 * Commands that only read never create them: cairn_schema_exists() says
 * whether there is anything to read.  Everything below lives in that
 * schema; the names are part of cairn's contract (psql users, dashboards
 * and reports read them).
 *
 * schema_version - exactly one row (a unique index on (true) keeps it so)
 *   version        int not null           CAIRN_SCHEMA_VERSION once ensured
 *   cairn_version  text not null          the cairn that created/upgraded it
 *   upgraded_at    timestamptz not null default now()
 *
 * migrations - one row per migration cairn applied or tried to
 *   version        text primary key       normalized: "0042" is stored as
 *                                         "42", "1.2.0" as "1.2", "0/01" as
 *                                         "0/1" (numeric(20,0) before
 *                                         version 3); never ordered by
 *                                         SQL: cairn_version_compare()
 *   name           text not null
 *   checksum       text not null          SHA-256 of the up file, hex
 *   up_blob        text                   git blob id of the up file
 *   down_blob      text                   git blob id of the down file
 *   no_transaction boolean not null default false
 *   status         text not null          'running' | 'applied' | 'failed'
 *   commit_sha     text                   commit that introduced the file
 *   author_name    text
 *   author_email   text
 *   authored_at    timestamptz
 *   deploy_rev     text                   commit deployed from (or worktree)
 *   deploy_ref     text
 *   applied_by     text                   the actor
 *   applied_at     timestamptz not null default now()
 *   duration_ms    bigint
 *   cairn_version  text
 *   error          text                   the failure, for 'failed' rows
 *
 * audit - the append-only, hash-chained audit trail
 *   id             bigint primary key     assigned by the chain trigger
 *   at             timestamptz not null default clock_timestamp()
 *   run_id         text not null
 *   environment    text
 *   event          text not null          a pipeline event or a command
 *   version        text                   NULL when about no migration
 *                                         (numeric(20,0) before version 3;
 *                                         version::text is the same text,
 *                                         so the chain's hashes hold)
 *   name           text
 *   commit_sha     text
 *   author         text
 *   actor          text
 *   deploy_rev     text
 *   outcome        text not null
 *   detail         jsonb not null default '{}'
 *   prev_hash      text not null          the previous row's hash
 *   hash           text not null          see below
 *   mac            text                   (version 2) HMAC of hash under
 *                                         audit.secret_env's key, or NULL
 * with the sequence audit_id_seq and these triggers:
 *   audit_chain        BEFORE INSERT, each row: takes a transaction-level
 *                      advisory lock on the chain, then sets id from
 *                      audit_id_seq, prev_hash from the row with the
 *                      highest id (64 zeros for the first row) and hash
 *                      (see include/cairn/audit.h for the canonical form);
 *                      values the inserter gave for those are ignored.
 *                      Refuses to chain outside READ COMMITTED, where it
 *                      could not see rows committed after its snapshot.
 *   audit_append_only  BEFORE UPDATE OR DELETE, each row: refuses,
 *                      except (version 2) an UPDATE that only sets mac
 *                      where it was NULL (cairn_audit_seal).
 *   audit_no_truncate  BEFORE TRUNCATE: refuses.
 * and the functions audit_chain() and audit_reject() behind them.
 *
 * repeatables - (version 4) one row per repeatable migration applied;
 *   see include/cairn/repeatable.h for its columns.
 */
#ifndef CAIRN_SCHEMA_H
#define CAIRN_SCHEMA_H

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the schema this cairn creates and understands. */
#define CAIRN_SCHEMA_VERSION 4

/*
 * Makes sure cairn's schema exists at CAIRN_SCHEMA_VERSION.
 *
 * When it does, this costs one round trip (a read of schema_version).
 * Otherwise the objects are created or upgraded in a transaction that
 * holds an advisory lock derived from the schema name and checks the
 * version again once it has the lock, so concurrent first runs do not
 * collide.  Outside a transaction block the work gets its own
 * transaction; inside one it joins the caller's (and is undone if the
 * caller rolls back).  A schema newer than this cairn is an error: an
 * older cairn must not write into tables it does not understand.
 */
CAIRN_EXTERN(int) cairn_schema_ensure(cairn_db *db);

/*
 * Whether cairn's tables exist (*out), for commands that only read: where
 * they do not, the history is empty.  Never writes, so it works on a
 * read-only target; costs one round trip outside a transaction block.
 * A schema newer than this cairn is an error, as in cairn_schema_ensure().
 */
CAIRN_EXTERN(int) cairn_schema_exists(bool *out, cairn_db *db);

/*
 * The version of cairn's schema in the database, 0 when it does not
 * exist (yet).  Never creates anything.
 */
CAIRN_EXTERN(int) cairn_schema_version(int *out, cairn_db *db);

#ifdef __cplusplus
}
#endif

#endif
