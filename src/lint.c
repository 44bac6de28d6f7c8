/*
 * lint.c - lint rules for migration up files (include/cairn/lint.h):
 * the rule table, the options, suppression, and the walk over files and
 * sets.  The rules themselves are in lint_rules.c, the run's memory of
 * created and emptied tables in lint_history.c.
 *
 * A file is parsed by PostgreSQL's grammar (pgparse.c).  A file the
 * grammar rejects gives one finding (lint/unterminated when a string,
 * identifier, dollar quote or comment is left open, else syntax-error)
 * and no rule runs on it.  Otherwise the history of the run is prepared
 * (the earlier pending migrations are parsed and recorded, without
 * findings), and each statement goes through every rule and is then
 * recorded, so a later statement knows the tables an earlier one
 * created or emptied.
 *
 * Whether a finding is reported is decided in one place,
 * cairn_lint__report(): the rule must be enabled (not disabled, not
 * "off", a style rule only when enabled), not allowed by the file's
 * directive, by the configuration for this version, or by a
 * `-- cairn: allow RULE` comment on the lines right above the statement.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/repeatable.h"
#include "lint_internal.h"
#include "lockplan_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/util.h"
#include "version_check.h"

#define EXCL "ACCESS EXCLUSIVE on the table"

static const cairn_lint_rule rules[R__COUNT] = {
	{ "destructive", "lint/destructive", CAIRN_SEVERITY_ERROR,
	  "DROP TABLE, DROP COLUMN, DROP SCHEMA, DROP DATABASE or TRUNCATE "
	  "(loses data)",
	  EXCL,
	  "DROP TABLE, ALTER TABLE ... DROP COLUMN, DROP SCHEMA, DROP "
	  "DATABASE and TRUNCATE delete data that no later migration can "
	  "bring back, and the running application still reads the dropped "
	  "objects until it is redeployed.  Each takes an ACCESS EXCLUSIVE "
	  "lock on the table.  Tables created earlier in the same run are "
	  "not reported.",
	  "stop using the object in the application first, then drop it in "
	  "a later release; add '-- cairn: allow destructive' above the "
	  "statement if the data loss is intended",
	  false },
	{ "transaction-control", "lint/transaction-control",
	  CAIRN_SEVERITY_ERROR,
	  "BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ... in a migration (cairn "
	  "manages transactions)",
	  "",
	  "cairn runs each migration in a transaction of its own and records "
	  "it in the same transaction.  A COMMIT inside the file would end "
	  "that transaction half way, so a later failure leaves the "
	  "migration half applied and unrecorded; a BEGIN only warns, a "
	  "ROLLBACK throws the work away.",
	  "remove it: cairn runs each migration in a transaction of its own "
	  "(or none, with '-- cairn: no-transaction')",
	  false },
	{ "needs-no-transaction", "lint/needs-no-transaction",
	  CAIRN_SEVERITY_ERROR,
	  "a statement that cannot run in a transaction block (CREATE INDEX "
	  "CONCURRENTLY, VACUUM, ...) without '-- cairn: no-transaction'",
	  "",
	  "CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM, "
	  "CREATE/DROP DATABASE and TABLESPACE, ALTER SYSTEM and DETACH "
	  "PARTITION CONCURRENTLY refuse to run inside a transaction block; "
	  "the server rejects the migration when it runs.",
	  "put the statement alone in a migration that starts with "
	  "'-- cairn: no-transaction'",
	  false },
	{ "no-transaction-multiple", "lint/no-transaction-multiple",
	  CAIRN_SEVERITY_ERROR,
	  "a '-- cairn: no-transaction' file with more than one statement",
	  "",
	  "Each statement of a no-transaction migration commits on its own. "
	  "When the second one fails, the first stays applied while the "
	  "migration is not recorded, and running it again fails on the "
	  "first statement.",
	  "split it into one migration per statement: each statement of a "
	  "no-transaction migration commits on its own, so a failure leaves "
	  "the ones before it applied",
	  false },
	{ "unterminated", "lint/unterminated", CAIRN_SEVERITY_ERROR,
	  "the file ends inside a string, quoted identifier, dollar quote or "
	  "comment",
	  "",
	  "Everything after an opening quote, dollar quote or /* is read as "
	  "part of it up to the end of the file, so the statements after it "
	  "are never run as SQL.",
	  "close it: everything after the opening quote or comment is read as "
	  "part of it",
	  false },
	{ "index-not-concurrent", "lint/index-not-concurrent",
	  CAIRN_SEVERITY_WARNING,
	  "CREATE INDEX without CONCURRENTLY on a table that existed before "
	  "the migration",
	  "SHARE on the table (blocks writes)",
	  "CREATE INDEX takes a SHARE lock on the table for as long as the "
	  "build takes: every INSERT, UPDATE and DELETE waits, minutes on a "
	  "large table.  CREATE INDEX CONCURRENTLY takes SHARE UPDATE "
	  "EXCLUSIVE, which lets writes go on.",
	  "use CREATE INDEX CONCURRENTLY in a migration of its own with "
	  "'-- cairn: no-transaction', or add '-- cairn: allow "
	  "index-not-concurrent' if the table is small",
	  false },
	{ "not-null-without-default", "lint/not-null-without-default",
	  CAIRN_SEVERITY_WARNING,
	  "ADD COLUMN ... NOT NULL without DEFAULT on a table that existed "
	  "before the migration",
	  EXCL,
	  "A new column is NULL in every existing row, so NOT NULL without "
	  "a DEFAULT fails as soon as the table has a row: the migration "
	  "works on an empty development database and fails in production.",
	  "add a DEFAULT, or add the column as nullable, backfill it and then "
	  "SET NOT NULL; add '-- cairn: allow not-null-without-default' if the "
	  "table is always empty",
	  false },
	{ "drop-index-not-concurrent", "lint/drop-index-not-concurrent",
	  CAIRN_SEVERITY_WARNING,
	  "DROP INDEX without CONCURRENTLY",
	  EXCL,
	  "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table: "
	  "while it waits for running queries, every new read and write of "
	  "the table queues behind it.  DROP INDEX CONCURRENTLY waits "
	  "without blocking them.",
	  "use DROP INDEX CONCURRENTLY in a migration of its own with "
	  "'-- cairn: no-transaction'",
	  false },
	{ "reindex-not-concurrent", "lint/reindex-not-concurrent",
	  CAIRN_SEVERITY_WARNING,
	  "REINDEX without CONCURRENTLY",
	  "SHARE on the table, ACCESS EXCLUSIVE on the index",
	  "REINDEX blocks writes to the table and every query that would use "
	  "the index until the rebuild ends.  REINDEX CONCURRENTLY (PostgreSQL "
	  "12 and later) builds a new index beside the old one without "
	  "blocking them.",
	  "use REINDEX ... CONCURRENTLY in a migration of its own with "
	  "'-- cairn: no-transaction'",
	  false },
	{ "alter-column-type", "lint/alter-column-type",
	  CAIRN_SEVERITY_WARNING,
	  "ALTER COLUMN ... TYPE on a table that existed before the migration",
	  EXCL ", rewrite",
	  "Changing a column's type rewrites the whole table and rebuilds "
	  "its indexes under an ACCESS EXCLUSIVE lock (unless the old type "
	  "converts binary-compatibly, like varchar(n) to text): reads and "
	  "writes stop for the duration, and the running application may "
	  "not handle the new type.",
	  "add a new column of the new type, write to both, backfill in "
	  "batches, switch the readers, then drop the old column",
	  false },
	{ "rename-column", "lint/rename-column", CAIRN_SEVERITY_WARNING,
	  "RENAME COLUMN on a table that existed before the migration",
	  EXCL,
	  "The application that is running while the migration runs still "
	  "uses the old name: its queries fail from the moment the rename "
	  "commits until the new version is deployed everywhere.",
	  "add the new column, write to both, move readers, then drop the "
	  "old one; or use a view with the old name during the switch",
	  false },
	{ "rename-table", "lint/rename-table", CAIRN_SEVERITY_WARNING,
	  "ALTER TABLE ... RENAME TO on a table that existed before the "
	  "migration",
	  EXCL,
	  "The application that is running while the migration runs still "
	  "uses the old table name: its queries fail from the moment the "
	  "rename commits until the new version is deployed everywhere.",
	  "rename in steps: create a view with the new name, move the "
	  "application, then rename and keep a view with the old name until "
	  "nothing uses it",
	  false },
	{ "constraint-not-valid", "lint/constraint-not-valid",
	  CAIRN_SEVERITY_WARNING,
	  "ADD FOREIGN KEY or CHECK without NOT VALID on an existing table",
	  "SHARE ROW EXCLUSIVE (foreign key, on both tables) or " EXCL,
	  "Adding a foreign key or a CHECK constraint checks every existing "
	  "row while holding a lock that blocks writes (a foreign key also "
	  "locks the referenced table).  With NOT VALID only new rows are "
	  "checked; a later VALIDATE CONSTRAINT checks the old ones under "
	  "SHARE UPDATE EXCLUSIVE, which lets reads and writes go on.",
	  "add it with NOT VALID, then run ALTER TABLE ... VALIDATE "
	  "CONSTRAINT in a later migration",
	  false },
	{ "validate-same-transaction", "lint/validate-same-transaction",
	  CAIRN_SEVERITY_WARNING,
	  "VALIDATE CONSTRAINT in the same transaction that added the "
	  "constraint NOT VALID",
	  EXCL " (held from the ADD)",
	  "NOT VALID exists so that the lock of ADD CONSTRAINT is short.  "
	  "Validating in the same transaction keeps that lock while every "
	  "row is checked, which is what NOT VALID was meant to avoid.",
	  "move the VALIDATE CONSTRAINT to a later migration",
	  false },
	{ "set-not-null", "lint/set-not-null", CAIRN_SEVERITY_WARNING,
	  "ALTER COLUMN ... SET NOT NULL without a validated CHECK "
	  "constraint",
	  EXCL ", full scan",
	  "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock "
	  "to prove there is no NULL.  Since PostgreSQL 12 the scan is "
	  "skipped when a validated CHECK (col IS NOT NULL) constraint "
	  "already proves it.",
	  "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it in "
	  "a later migration, then SET NOT NULL and drop the CHECK",
	  false },
	{ "unique-without-index", "lint/unique-without-index",
	  CAIRN_SEVERITY_WARNING,
	  "ADD UNIQUE, PRIMARY KEY or EXCLUDE on an existing table without "
	  "USING INDEX",
	  EXCL,
	  "Adding a UNIQUE, PRIMARY KEY or EXCLUDE constraint builds its "
	  "index while holding an ACCESS EXCLUSIVE lock: no reads, no "
	  "writes for the whole build.  A PRIMARY KEY also sets its columns "
	  "NOT NULL, scanning the table.",
	  "CREATE UNIQUE INDEX CONCURRENTLY first (no-transaction "
	  "migration), then ALTER TABLE ... ADD CONSTRAINT ... UNIQUE (or "
	  "PRIMARY KEY) USING INDEX",
	  false },
	{ "volatile-default", "lint/volatile-default",
	  CAIRN_SEVERITY_WARNING,
	  "ADD COLUMN with a volatile DEFAULT (random(), gen_random_uuid(), "
	  "clock_timestamp(), ...)",
	  EXCL ", rewrite",
	  "Since PostgreSQL 11 a new column with a constant or stable "
	  "default (0, 'x', now()) is added without touching the rows.  A "
	  "volatile default must be computed for each row, so the table is "
	  "rewritten under an ACCESS EXCLUSIVE lock.",
	  "add the column without the default (or with a constant one), set "
	  "the default with ALTER COLUMN ... SET DEFAULT, and backfill the "
	  "old rows in batches",
	  false },
	{ "add-column-rewrite", "lint/add-column-rewrite",
	  CAIRN_SEVERITY_WARNING,
	  "ADD COLUMN serial, identity or GENERATED ... STORED on an existing "
	  "table",
	  EXCL ", rewrite",
	  "A serial or identity column takes a new value from a sequence for "
	  "every existing row, and a stored generated column computes one: "
	  "the table is rewritten under an ACCESS EXCLUSIVE lock.",
	  "add a plain nullable column, attach the sequence as its default, "
	  "backfill in batches, then add the constraints",
	  false },
	{ "enum-value-in-transaction", "lint/enum-value-in-transaction",
	  CAIRN_SEVERITY_WARNING,
	  "ALTER TYPE ... ADD VALUE followed by other statements in the same "
	  "transaction",
	  "",
	  "A value added to an enum type inside a transaction block cannot "
	  "be used until the transaction commits (\"unsafe use of new "
	  "value\"): a statement after it in the same migration that uses "
	  "the value fails.",
	  "put ALTER TYPE ... ADD VALUE in a migration of its own",
	  false },
	{ "vacuum-full", "lint/vacuum-full", CAIRN_SEVERITY_WARNING,
	  "VACUUM FULL", EXCL ", rewrite",
	  "VACUUM FULL writes a new copy of the table under an ACCESS "
	  "EXCLUSIVE lock: no reads, no writes until it ends, and it needs "
	  "disk for a second copy.",
	  "use plain VACUUM, or pg_repack / pg_squeeze to compact the table "
	  "online",
	  false },
	{ "cluster", "lint/cluster", CAIRN_SEVERITY_WARNING,
	  "CLUSTER", EXCL ", rewrite",
	  "CLUSTER rewrites the table in index order under an ACCESS "
	  "EXCLUSIVE lock: no reads, no writes until it ends.",
	  "use pg_repack to reorder the table online, or run CLUSTER in a "
	  "maintenance window outside the migrations",
	  false },
	{ "set-logged", "lint/set-logged", CAIRN_SEVERITY_WARNING,
	  "ALTER TABLE ... SET LOGGED or SET UNLOGGED", EXCL ", rewrite",
	  "SET LOGGED and SET UNLOGGED rewrite the table (and write it all "
	  "to the WAL for LOGGED) under an ACCESS EXCLUSIVE lock.  An "
	  "unlogged table is also emptied after a crash and is not "
	  "replicated.",
	  "create the table with the persistence it needs, or switch it in a "
	  "maintenance window",
	  false },
	{ "lock-table", "lint/lock-table", CAIRN_SEVERITY_WARNING,
	  "an explicit LOCK TABLE",
	  "as written (ACCESS EXCLUSIVE by default), until the end of the "
	  "migration",
	  "LOCK TABLE holds its lock (ACCESS EXCLUSIVE unless a mode is "
	  "given) until the migration's transaction ends, blocking every "
	  "query of the table meanwhile; while it waits for the lock, new "
	  "queries queue behind it.",
	  "remove it and let each statement take the lock it needs; if the "
	  "lock is really needed, keep the migration short and set a "
	  "lock-timeout",
	  false },
	{ "unbatched-backfill", "lint/unbatched-backfill",
	  CAIRN_SEVERITY_WARNING,
	  "UPDATE or DELETE of a whole existing table in one statement",
	  "ROW EXCLUSIVE, and a row lock on every row changed",
	  "An UPDATE or DELETE without a restricting WHERE touches every row "
	  "in one transaction: it locks all of them until commit, bloats the "
	  "table and its indexes, and holds back vacuum and replicas.",
	  "backfill in batches (WHERE id BETWEEN ... or a LIMIT subquery), "
	  "each in its own transaction, outside the schema migration",
	  false },
	{ "prefer-bigint", "lint/prefer-bigint", CAIRN_SEVERITY_NOTICE,
	  "an int, smallint or serial key column (style)", "",
	  "A 32-bit key runs out at about 2.1 billion rows, and changing the "
	  "type of a key column later rewrites the table and every table "
	  "that references it.",
	  "use bigint, with GENERATED ALWAYS AS IDENTITY instead of serial",
	  true },
	{ "prefer-timestamptz", "lint/prefer-timestamptz",
	  CAIRN_SEVERITY_NOTICE,
	  "a timestamp column without time zone (style)", "",
	  "timestamp without time zone stores a wall-clock reading with no "
	  "zone: the same instant reads differently depending on the "
	  "session's setting, and daylight saving makes it ambiguous.",
	  "use timestamptz (timestamp with time zone)", true },
	{ "prefer-text", "lint/prefer-text", CAIRN_SEVERITY_NOTICE,
	  "a varchar(n) or char(n) column (style)", "",
	  "In PostgreSQL varchar(n) is not faster than text, char(n) pads "
	  "with blanks, and raising n later takes an ACCESS EXCLUSIVE lock "
	  "(a rewrite for char).",
	  "use text, with a CHECK (length(col) <= n) constraint if a limit "
	  "is needed",
	  true },
};

const cairn_lint_rule *cairn_lint_rules(size_t *count)
{
	if (count)
		*count = R__COUNT;
	return rules;
}

static const char *bare(const char *name)
{
	return strncmp(name, "lint/", 5) == 0 ? name + 5 : name;
}

const cairn_lint_rule *cairn_lint_rule_find(const char *name)
{
	if (!name)
		return NULL;
	name = bare(name);
	for (size_t i = 0; i < R__COUNT; i++)
		if (!strcmp(rules[i].name, name))
			return &rules[i];
	return NULL;
}

void cairn_lint_options_from_config(cairn_lint_options *opts,
				    const cairn_config *cfg)
{
	if (!opts || !cfg)
		return;
	opts->disable = (const char *const *)cfg->lint_disable;
	opts->disable_count = cfg->lint_disable_count;
	opts->enable = (const char *const *)cfg->lint_enable;
	opts->enable_count = cfg->lint_enable_count;
	opts->allow = cfg->lint_allow;
	opts->allow_count = cfg->lint_allow_count;
	opts->severity = cfg->lint_severity;
	opts->severity_count = cfg->lint_severity_count;
}

/* --- options ------------------------------------------------------------ */

/* A copy of opts as the current version (an older caller's is shorter). */
static void options_current(cairn_lint_options *o,
			    const cairn_lint_options *opts)
{
	cairn_lint_options init = CAIRN_LINT_OPTIONS_INIT;

	*o = init;
	if (!opts)
		return;
	o->disable = opts->disable;
	o->disable_count = opts->disable_count;
	if (opts->version >= 2)
		*o = *opts;
}

static bool in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && !strcmp(bare(list[i]), name))
			return true;
	return false;
}

/*
 * Whether an allow: key names m's version: compared in the version
 * order, so that any spelling of one version matches ("0042" and "42",
 * "1.2.0", "1.2" and "1_2").  A repeatable has no version.
 */
static bool version_matches(const cairn_migration *m, const char *v)
{
	if (!m->version[0])
		return false;
	if (!strcmp(v, m->version) ||
	    (m->version_text && !strcmp(v, m->version_text)))
		return true;
	return cairn__version_valid(v) && cairn__version_valid(m->version) &&
	       cairn__version_cmp(v, m->version) == 0;
}

static void configure(lint_file *lf, const cairn_lint_options *o)
{
	for (size_t i = 0; i < R__COUNT; i++) {
		const char *name = rules[i].name;
		bool on = !rules[i].style ||
			  in_list(o->enable, o->enable_count, name);

		lf->severity[i] = rules[i].severity;
		if (in_list(o->disable, o->disable_count, name) ||
		    cairn_directives_allows(&lf->m->up_directives, name))
			on = false;
		for (size_t k = 0; k < o->severity_count; k++) {
			const cairn_kv *kv = &o->severity[k];

			if (!kv->key || !kv->value ||
			    strcmp(bare(kv->key), name))
				continue;
			if (!strcmp(kv->value, "off"))
				on = false;
			else if (!strcmp(kv->value, "error"))
				lf->severity[i] = CAIRN_SEVERITY_ERROR;
			else if (!strcmp(kv->value, "warning"))
				lf->severity[i] = CAIRN_SEVERITY_WARNING;
			else if (!strcmp(kv->value, "notice"))
				lf->severity[i] = CAIRN_SEVERITY_NOTICE;
		}
		for (size_t k = 0; k < o->allow_count && lf->m->version; k++) {
			const cairn_kv *kv = &o->allow[k];

			if (kv->key && kv->value &&
			    version_matches(lf->m, kv->key) &&
			    (!strcmp(kv->value, "all") ||
			     !strcmp(bare(kv->value), name)))
				on = false;
		}
		lf->enabled[i] = on;
	}
}

/* --- statement-level directives ----------------------------------------- */

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Whether "cairn: allow a, b" (the text after "--") allows rule. */
static bool comment_allows(const char *p, const char *end, const char *rule)
{
	size_t rl = strlen(rule);

	while (p < end && blank(*p))
		p++;
	if (end - p < 6 || strncmp(p, "cairn:", 6))
		return false;
	p += 6;
	while (p < end && blank(*p))
		p++;
	if (end - p < 5 || strncmp(p, "allow", 5))
		return false;
	p += 5;
	while (p < end) {
		const char *w;

		while (p < end && (blank(*p) || *p == ','))
			p++;
		w = p;
		while (p < end && !blank(*p) && *p != ',')
			p++;
		if (p - w >= 5 && !strncmp(w, "lint/", 5))
			w += 5;
		if ((size_t)(p - w) == 3 && !strncmp(w, "all", 3))
			return true;
		if ((size_t)(p - w) == rl && !strncmp(w, rule, rl))
			return true;
	}
	return false;
}

/*
 * Whether one of the `--` comment lines right above the line where the
 * statement starts says `cairn: allow RULE`.
 */
static bool statement_allows(const lint_file *lf, const char *rule)
{
	const char *s = lf->sql;
	size_t line_start = lf->st->offset;

	while (line_start > 0 && s[line_start - 1] != '\n')
		line_start--;
	while (line_start > 0) {
		size_t prev = line_start - 1, a, e = prev;

		while (prev > 0 && s[prev - 1] != '\n')
			prev--;
		a = prev;
		while (a < e && blank(s[a]))
			a++;
		if (e - a < 2 || s[a] != '-' || s[a + 1] != '-')
			return false;
		if (comment_allows(s + a + 2, s + e, rule))
			return true;
		line_start = prev;
	}
	return false;
}

/* --- reporting ---------------------------------------------------------- */

int cairn_lint__report(lint_file *lf, int rule, const char *fmt, ...)
{
	cairn_buf msg = CAIRN_BUF_INIT;
	va_list ap;
	int rc;

	if (!lf->enabled[rule] || statement_allows(lf, rules[rule].name))
		return 0;
	va_start(ap, fmt);
	rc = cairn_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = cairn_findings_add(lf->out, rules[rule].code,
					lf->severity[rule], lf->m->up_path,
					lf->st ? lf->st->line : 1,
					lf->m->version, rules[rule].hint, NULL,
					"%s", msg.ptr);
	cairn_buf_dispose(&msg);
	return rc < 0 ? CAIRN_ERROR : 0;
}

/* --- syntax errors ------------------------------------------------------ */

static const char *unterminated_what(const char *msg)
{
	static const struct {
		const char *prefix, *what;
	} kinds[] = {
		{ "unterminated quoted identifier", "quoted identifier" },
		{ "unterminated dollar-quoted string", "dollar-quoted string" },
		{ "unterminated /* comment", "comment" },
		{ "unterminated", "string" },
	};

	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(kinds); i++)
		if (!strncmp(msg, kinds[i].prefix, strlen(kinds[i].prefix)))
			return kinds[i].what;
	return NULL;
}

/* The psql meta-command at off ("\set"), for the message. */
static int meta_command(const char *sql, size_t len, size_t off)
{
	size_t e = off + 1;

	if (off >= len || sql[off] != '\\')
		return 0;
	while (e < len && e - off < 32 &&
	       ((sql[e] >= 'a' && sql[e] <= 'z') ||
		(sql[e] >= 'A' && sql[e] <= 'Z') || sql[e] == '!' ||
		sql[e] == '?'))
		e++;
	return (int)(e - off);
}

static int syntax_finding(cairn_findings *out, const cairn_migration *m,
			  const char *path, const char *sql, size_t len,
			  const cairn_pg_file *pf)
{
	int meta = meta_command(sql, len, pf->error_offset);

	if (meta)
		return cairn_findings_add(out, "syntax-error",
			CAIRN_SEVERITY_ERROR, path, pf->error_line, m->version,
			"cairn sends the file to the server, not to psql: write the SQL the meta-command stands for",
			NULL,
			"psql meta-command '%.*s' at line %u, column %u is not SQL",
			meta, sql + pf->error_offset, pf->error_line,
			pf->error_column);
	return cairn_findings_add(out, "syntax-error", CAIRN_SEVERITY_ERROR,
		path, pf->error_line, m->version,
		"fix the statement; PostgreSQL's own parser rejects it",
		NULL, "%s (line %u, column %u)", pf->error, pf->error_line,
		pf->error_column);
}

static bool is_text(const char *sql, size_t len)
{
	size_t bad;

	return sql && !memchr(sql, '\0', len) &&
	       cairn__utf8_valid(sql, len, &bad);
}

int cairn_lint_syntax(cairn_findings *out, const cairn_migration *m)
{
	const char *texts[2], *paths[2];
	size_t lens[2];

	if (!m || !m->content_loaded)
		return 0;
	texts[0] = m->up_sql;
	lens[0] = m->up_len;
	paths[0] = m->up_path;
	texts[1] = m->down_sql;
	lens[1] = m->down_len;
	paths[1] = m->down_path;
	for (int i = 0; i < 2; i++) {
		cairn_pg_file pf = CAIRN_PG_FILE_INIT;
		int rc;

		if (!paths[i] || !is_text(texts[i], lens[i]))
			continue;
		if (cairn_pg_parse(&pf, texts[i], lens[i]) < 0)
			return CAIRN_ERROR;
		rc = pf.error ? syntax_finding(out, m, paths[i], texts[i],
					       lens[i], &pf)
			      : 0;
		cairn_pg_file_dispose(&pf);
		if (rc < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

/* --- files and sets ----------------------------------------------------- */

/* The history of the earlier migrations of the run. */
static int record_earlier(lint_history *h, const cairn_lint_options *o)
{
	for (size_t i = 0; i < o->earlier_count; i++) {
		const cairn_migration *e = o->earlier[i];
		cairn_pg_file pf = CAIRN_PG_FILE_INIT;
		int rc = 0;

		if (!e || !e->content_loaded || !is_text(e->up_sql, e->up_len))
			continue;
		if (cairn_pg_parse(&pf, e->up_sql, e->up_len) < 0)
			return CAIRN_ERROR;
		for (size_t k = 0; k < pf.count && rc == 0; k++)
			rc = cairn_lint__record(h, &pf.items[k]);
		cairn_pg_file_dispose(&pf);
		if (rc < 0)
			return CAIRN_ERROR;
	}
	/* another migration's NOT VALID was committed before this one */
	for (size_t i = 0; i < h->count; i++)
		h->items[i].flags &= ~(unsigned)H_NOT_VALID;
	return 0;
}

static int file_findings(lint_file *lf, const cairn_pg_file *pf,
			 const cairn_lint_options *o)
{
	const char *what;

	if (pf->error) {
		what = unterminated_what(pf->error);
		if (what) {
			cairn_pg_stmt at = { NULL, NULL, pf->error_offset, 0,
					     pf->error_line,
					     pf->error_column };
			int rc;

			lf->st = &at;
			rc = cairn_lint__report(lf, R_UNTERMINATED,
				"the file ends inside a %s that starts on line %u",
				what, pf->error_line);
			lf->st = NULL;
			return rc;
		}
		if (o->skip_syntax)
			return 0;
		return syntax_finding(lf->out, lf->m, lf->m->up_path, lf->sql,
				      lf->len, pf);
	}
	if (!lf->transactional && pf->count > 1) {
		lf->st = &pf->items[1];
		if (cairn_lint__report(lf, R_NO_TX_MULTIPLE,
			"the no-transaction migration has %zu statements; it may hold only one",
			pf->count) < 0)
			return CAIRN_ERROR;
		lf->st = NULL;
	}
	return 0;
}

/* The lock plan of m's up file from the parse the lint made (pf). */
static int fill_locks(cairn_lock_plan *locks, const cairn_pg_file *pf)
{
	if (!locks)
		return 0;
	return cairn_lp__plan_parsed(locks, pf) < 0 ? cairn_error__oom() : 0;
}

static int not_text_locks(cairn_lock_plan *locks)
{
	if (!locks)
		return 0;
	cairn_lock_plan_dispose(locks);
	locks->error = cairn__strdup("the up file could not be read as text");
	return locks->error ? 0 : cairn_error__oom();
}

int cairn_lint_migration_locks(cairn_findings *out, const cairn_migration *m,
			       const cairn_lint_options *opts,
			       cairn_lock_plan *locks)
{
	cairn_pg_file pf = CAIRN_PG_FILE_INIT;
	cairn_lint_options o;
	lint_history hist = { NULL, 0, 0 };
	lint_file lf;
	int rc = 0;

	CAIRN__CHECK_VERSION(opts, CAIRN_LINT_OPTIONS_VERSION,
			     "cairn_lint_options");
	if (locks)
		cairn_lock_plan_dispose(locks);
	if (!m || !m->content_loaded || !m->up_sql)
		return not_text_locks(locks);
	/* not text: loading reported it, and its "statements" mean nothing */
	if (!is_text(m->up_sql, m->up_len))
		return not_text_locks(locks);
	options_current(&o, opts);
	memset(&lf, 0, sizeof(lf));
	lf.m = m;
	lf.out = out;
	lf.sql = m->up_sql;
	lf.len = m->up_len;
	lf.hist = &hist;
	lf.transactional = !m->up_directives.no_transaction;
	configure(&lf, &o);
	if ((rc = cairn_pg_parse(&pf, m->up_sql, m->up_len)) < 0)
		goto out;
	if ((rc = fill_locks(locks, &pf)) < 0)
		goto out;
	if ((rc = file_findings(&lf, &pf, &o)) < 0 || pf.error)
		goto out;
	if ((rc = record_earlier(&hist, &o)) < 0)
		goto out;
	lf.count = pf.count;
	for (size_t i = 0; i < pf.count && rc == 0; i++) {
		lf.st = &pf.items[i];
		lf.index = i;
		rc = cairn_lint__statement(&lf);
	}
out:
	cairn_lint__history_dispose(&hist);
	cairn_pg_file_dispose(&pf);
	return rc < 0 ? CAIRN_ERROR : 0;
}

int cairn_lint_migration(cairn_findings *out, const cairn_migration *m,
			 const cairn_lint_options *opts)
{
	return cairn_lint_migration_locks(out, m, opts, NULL);
}

int cairn_lint_set(cairn_findings *out, cairn_migration_set *set,
		   const cairn_lint_options *opts)
{
	size_t i, n = cairn_migration_set_count(set);

	CAIRN__CHECK_VERSION(opts, CAIRN_LINT_OPTIONS_VERSION,
			     "cairn_lint_options");
	if (cairn_migration_set_load_contents(set) < 0)
		return CAIRN_ERROR;
	for (i = 0; i < n; i++)
		if (cairn_lint_migration(out, cairn_migration_set_get(set, i),
					 opts) < 0)
			return CAIRN_ERROR;
	/* repeatable migrations (include/cairn/repeatable.h) too */
	if (cairn_repeatable_load_contents(set) < 0)
		return CAIRN_ERROR;
	n = cairn_migration_set_repeatable_count(set);
	for (i = 0; i < n; i++)
		if (cairn_lint_migration(out,
					 cairn_migration_set_repeatable(set, i),
					 opts) < 0)
			return CAIRN_ERROR;
	return 0;
}
