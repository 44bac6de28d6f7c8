/*
 * audit.h (internal) - what the engine and schema.c use of the audit
 * trail: the SQL text of one audit insert, to paste into a batch with
 * the migration's own statements, and the canonical-form expression the
 * chain trigger and verification share.
 */
#ifndef CAIRN_SRC_AUDIT_H
#define CAIRN_SRC_AUDIT_H

#include "util/attrs.h"

#include "util/buf.h"
#include "cairn/audit.h"

/*
 * The canonical text of an audit row as one SQL expression over a row
 * aliased `r` (columns r.prev_hash, r.id, r.at, ...), of type text.  The
 * chain trigger (schema.c) hashes it for new rows; cairn_audit_verify()
 * selects it for stored ones.  Changing it breaks every existing chain.
 */
extern const char cairn_audit__canonical_sql[];

/* to_char(r.at ...) giving ISO 8601 UTC with microseconds. */
#define CAIRN_AUDIT__AT_SQL                                                    \
	"to_char(r.at AT TIME ZONE 'UTC', "                                    \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/*
 * Appends to out one statement, without a trailing semicolon:
 *   INSERT INTO <schema>.audit (...) VALUES (...)
 * with every value a literal.  detail is '<detail_json>'::jsonb, or
 * ('<detail_json>'::jsonb || (<detail_sql_expr>)) when detail_sql_expr
 * (an SQL expression of type jsonb, trusted text written by cairn) is
 * not NULL, so values known only inside the batch (a duration, say) can
 * join the detail.  The row is checked first (required fields, version
 * digits, detail a JSON object): a bad row fails here, not in the batch.
 */
CAIRN_WARN_UNUSED int cairn_audit__sql(cairn_buf *out, cairn_db *db, const cairn_audit_row *row,
		     const char *detail_sql_expr);

/*
 * hex(HMAC-SHA256(key, "cairn-audit-mac:v1:" || hash)): a row's MAC in
 * the keyed chain.
 */
CAIRN_WARN_UNUSED int cairn_audit__mac(char out[65], const void *key, size_t key_len,
		     const char *hash);

#endif
