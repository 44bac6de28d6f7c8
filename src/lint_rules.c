/*
 * lint_rules.c - the lint rules, on PostgreSQL's parse tree.
 *
 * cairn_lint__statement() looks at the statement's node type and calls
 * the checks for that kind of statement; each check reads the fields of
 * the raw parse tree (pg_query's JSON, see pgparse.h) and reports through
 * cairn_lint__report(), which applies suppression.  After the checks the
 * statement is recorded in the run's history (lint_history.c), so what
 * it creates or empties counts for the statements after it.
 *
 * How history is used: a relation created in this run (H_NEW) is never
 * reported by a rule about locks, rewrites, renames or drops: nobody
 * uses it yet.  A table with no rows (H_NEW or H_EMPTY: truncated or
 * deleted from just before) is not reported by rules about rewrites and
 * scans, which cost nothing on an empty table.
 *
 * Danger is decided per statement kind here; the exact lock each
 * statement takes is the lock module's business (src/lockplan*.c).
 */
#include <stdio.h>
#include <string.h>

#include "lint_internal.h"
#include "util/error.h"
#include "util/util.h"

#define NAME_MAX_LEN 256

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

/* "schema.table" (or "table") of a RangeVar, in buf. */
static const char *rv_name(json_t *rv, char *buf, size_t size)
{
	const char *schema = cairn_pg_str(rv, "schemaname");
	const char *rel = cairn_pg_str(rv, "relname");

	snprintf(buf, size, "%s%s%s", schema ? schema : "", schema ? "." : "",
		 rel ? rel : "?");
	return buf;
}

static bool is_new(const lint_file *lf, json_t *rv)
{
	return cairn_lint__flags(lf->hist, rv) & H_NEW;
}

static bool no_rows(const lint_file *lf, json_t *rv)
{
	return cairn_lint__flags(lf->hist, rv) & (H_NEW | H_EMPTY);
}

/* Whether a DefElem list (options, params) names defname. */
static bool has_option(json_t *obj, const char *key, const char *defname)
{
	size_t n = cairn_pg_len(obj, key);

	for (size_t i = 0; i < n; i++)
		if (is(cairn_pg_str(cairn_pg_node_is(cairn_pg_at(obj, key, i),
						     "DefElem"),
				    "defname"),
		       defname))
			return true;
	return false;
}

/* --- transaction control and statements that need no transaction -------- */

static int check_transaction(lint_file *lf)
{
	static const struct {
		const char *kind, *what;
	} kinds[] = {
		{ "TRANS_STMT_BEGIN", "BEGIN" },
		{ "TRANS_STMT_START", "START TRANSACTION" },
		{ "TRANS_STMT_COMMIT", "COMMIT" },
		{ "TRANS_STMT_ROLLBACK", "ROLLBACK" },
		{ "TRANS_STMT_SAVEPOINT", "SAVEPOINT" },
		{ "TRANS_STMT_RELEASE", "RELEASE SAVEPOINT" },
		{ "TRANS_STMT_ROLLBACK_TO", "ROLLBACK TO SAVEPOINT" },
		{ "TRANS_STMT_PREPARE", "PREPARE TRANSACTION" },
		{ "TRANS_STMT_COMMIT_PREPARED", "COMMIT PREPARED" },
		{ "TRANS_STMT_ROLLBACK_PREPARED", "ROLLBACK PREPARED" },
	};
	const char *kind = cairn_pg_str(lf->st->node, "kind");
	const char *what = "a transaction statement";

	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(kinds); i++)
		if (is(kind, kinds[i].kind))
			what = kinds[i].what;
	return cairn_lint__report(lf, R_TX_CONTROL,
		"%s controls the transaction, which cairn manages itself",
		what);
}

static int no_tx(lint_file *lf, const char *what)
{
	if (!lf->transactional)
		return 0;
	return cairn_lint__report(lf, R_NEEDS_NO_TX,
				  "%s cannot run inside a transaction block",
				  what);
}

/* --- indexes ------------------------------------------------------------ */

static int check_index(lint_file *lf)
{
	json_t *s = lf->st->node, *rv = cairn_pg_get(s, "relation");
	char name[NAME_MAX_LEN];

	if (cairn_pg_bool(s, "concurrent"))
		return no_tx(lf, "CREATE INDEX CONCURRENTLY");
	if (is_new(lf, rv))
		return 0;
	return cairn_lint__report(lf, R_INDEX,
		"CREATE INDEX on %s without CONCURRENTLY blocks writes to the table while the index is built",
		rv_name(rv, name, sizeof(name)));
}

static int check_reindex(lint_file *lf)
{
	json_t *s = lf->st->node, *rv = cairn_pg_get(s, "relation");
	const char *kind = cairn_pg_str(s, "kind");
	bool conc = has_option(s, "params", "concurrently");
	char name[NAME_MAX_LEN];
	int rc = 0;

	if (conc)
		rc = no_tx(lf, "REINDEX CONCURRENTLY");
	else if (is(kind, "REINDEX_OBJECT_SCHEMA"))
		rc = no_tx(lf, "REINDEX SCHEMA");
	else if (is(kind, "REINDEX_OBJECT_DATABASE"))
		rc = no_tx(lf, "REINDEX DATABASE");
	else if (is(kind, "REINDEX_OBJECT_SYSTEM"))
		rc = no_tx(lf, "REINDEX SYSTEM");
	if (rc < 0 || conc || (rv && is_new(lf, rv)))
		return rc;
	if (rv)
		rv_name(rv, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s",
			 cairn_pg_str(s, "name") ? cairn_pg_str(s, "name")
						 : "everything");
	return cairn_lint__report(lf, R_REINDEX,
		"REINDEX of %s without CONCURRENTLY blocks writes to the table and reads through the index until it ends",
		name);
}

/* --- DROP --------------------------------------------------------------- */

/* The schema and name of one object of a DropStmt (a List of Strings). */
static void drop_object(json_t *obj, const char **schema, const char **name)
{
	json_t *items = cairn_pg_get(cairn_pg_node_is(obj, "List"), "items");
	size_t n = json_array_size(items);

	*schema = *name = NULL;
	if (!n) {
		*name = cairn_pg_str(cairn_pg_node_is(obj, "String"), "sval");
		return;
	}
	*name = cairn_pg_str(cairn_pg_node_is(json_array_get(items, n - 1),
					      "String"),
			     "sval");
	if (n >= 2)
		*schema = cairn_pg_str(
			cairn_pg_node_is(json_array_get(items, n - 2),
					 "String"),
			"sval");
}

/* The objects of a DropStmt joined with ", " in buf; whether all are new. */
static bool drop_names(const lint_file *lf, json_t *s, char *buf, size_t size,
		       size_t *count)
{
	size_t n = cairn_pg_len(s, "objects"), used = 0;
	bool all_new = true;

	buf[0] = '\0';
	*count = n;
	for (size_t i = 0; i < n; i++) {
		const char *schema, *name;
		int w;

		drop_object(cairn_pg_at(s, "objects", i), &schema, &name);
		if (!name)
			continue;
		if (!(cairn_lint__flags_name(lf->hist, schema, name) & H_NEW))
			all_new = false;
		w = snprintf(buf + used, size - used, "%s%s%s%s",
			     i ? ", " : "", schema ? schema : "",
			     schema ? "." : "", name);
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
	}
	return all_new;
}

static int check_drop(lint_file *lf)
{
	json_t *s = lf->st->node;
	const char *type = cairn_pg_str(s, "removeType");
	char names[NAME_MAX_LEN * 2];
	size_t count;
	bool all_new = drop_names(lf, s, names, sizeof(names), &count);

	if (is(type, "OBJECT_INDEX")) {
		if (cairn_pg_bool(s, "concurrent"))
			return no_tx(lf, "DROP INDEX CONCURRENTLY");
		if (all_new)
			return 0;
		return cairn_lint__report(lf, R_DROP_INDEX,
			"DROP INDEX %s without CONCURRENTLY locks its table against reads and writes",
			names);
	}
	if (is(type, "OBJECT_TABLE") && !all_new)
		return cairn_lint__report(lf, R_DESTRUCTIVE,
			count > 1 ? "DROP TABLE %s deletes the tables and their data"
				  : "DROP TABLE %s deletes the table and its data",
			names);
	if (is(type, "OBJECT_SCHEMA"))
		return cairn_lint__report(lf, R_DESTRUCTIVE,
			"DROP SCHEMA %s deletes the schema and everything in it",
			names);
	return 0;
}

static int check_dropdb(lint_file *lf)
{
	if (cairn_lint__report(lf, R_DESTRUCTIVE,
			       "DROP DATABASE %s deletes the whole database",
			       cairn_pg_str(lf->st->node, "dbname")) < 0)
		return CAIRN_ERROR;
	return no_tx(lf, "DROP DATABASE");
}

static int check_truncate(lint_file *lf)
{
	json_t *s = lf->st->node;
	size_t n = cairn_pg_len(s, "relations"), used = 0;
	char names[NAME_MAX_LEN * 2], one[NAME_MAX_LEN];
	bool all_new = true;

	names[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		json_t *rv = cairn_pg_node_is(cairn_pg_at(s, "relations", i),
					     "RangeVar");
		int w;

		if (!is_new(lf, rv))
			all_new = false;
		w = snprintf(names + used, sizeof(names) - used, "%s%s",
			     i ? ", " : "", rv_name(rv, one, sizeof(one)));
		if (w < 0 || (size_t)w >= sizeof(names) - used)
			break;
		used += (size_t)w;
	}
	if (all_new)
		return 0;
	return cairn_lint__report(lf, R_DESTRUCTIVE,
				  "TRUNCATE %s deletes every row", names);
}

/* --- column definitions ------------------------------------------------- */

typedef struct {
	bool not_null, has_default, identity, generated, fk, check, unique;
	bool primary;
	json_t *default_expr;
} column_facts;

static void column_constraints(json_t *col, column_facts *f)
{
	size_t n = cairn_pg_len(col, "constraints");

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		json_t *c = cairn_pg_node_is(cairn_pg_at(col, "constraints", i),
					     "Constraint");
		const char *t = cairn_pg_str(c, "contype");

		if (is(t, "CONSTR_NOTNULL"))
			f->not_null = true;
		else if (is(t, "CONSTR_DEFAULT")) {
			f->has_default = true;
			f->default_expr = cairn_pg_get(c, "raw_expr");
		} else if (is(t, "CONSTR_IDENTITY"))
			f->identity = true;
		else if (is(t, "CONSTR_GENERATED"))
			f->generated = true;
		else if (is(t, "CONSTR_FOREIGN"))
			f->fk = true;
		else if (is(t, "CONSTR_CHECK"))
			f->check = true;
		else if (is(t, "CONSTR_UNIQUE") || is(t, "CONSTR_PRIMARY") ||
			 is(t, "CONSTR_EXCLUSION")) {
			f->unique = true;
			f->primary |= is(t, "CONSTR_PRIMARY");
		}
	}
}

static const char *type_name(json_t *col)
{
	return cairn_pg_last_name(
		cairn_pg_get(cairn_pg_get(col, "typeName"), "names"));
}

static bool is_serial(const char *t)
{
	static const char *const serials[] = {
		"serial", "bigserial", "smallserial",
		"serial2", "serial4", "serial8",
	};

	for (size_t i = 0; t && i < CAIRN_ARRAY_SIZE(serials); i++)
		if (!strcmp(t, serials[i]))
			return true;
	return false;
}

/*
 * Functions known not to be volatile that defaults commonly use; any
 * other function call is taken as volatile, as PostgreSQL does for a
 * function declared without a volatility.
 */
static bool stable_function(const char *f)
{
	static const char *const known[] = {
		"now", "statement_timestamp", "transaction_timestamp",
		"current_date", "lower", "upper", "length", "concat",
		"coalesce", "jsonb_build_object", "json_build_object",
		"jsonb_build_array", "json_build_array", "to_jsonb",
		"array_fill", "make_interval", "make_date", "date_trunc",
		"to_timestamp", "to_date", "abs", "round", "trim", "btrim",
		"md5", "timezone", "int4", "int8", "text", "numeric",
	};

	for (size_t i = 0; f && i < CAIRN_ARRAY_SIZE(known); i++)
		if (!strcmp(f, known[i]))
			return true;
	return false;
}

/* The first volatile function called in an expression tree, or NULL. */
static const char *volatile_call(json_t *e)
{
	const char *key, *found = NULL;
	json_t *v;
	size_t i;

	if (json_is_array(e)) {
		json_array_foreach (e, i, v)
			if ((found = volatile_call(v)))
				return found;
		return NULL;
	}
	if (!json_is_object(e))
		return NULL;
	json_object_foreach (e, key, v) {
		if (!strcmp(key, "FuncCall")) {
			const char *f = cairn_pg_last_name(
				cairn_pg_get(v, "funcname"));

			if (!stable_function(f))
				return f ? f : "a function";
		}
		if ((found = volatile_call(v)))
			return found;
	}
	return NULL;
}

static int style_column(lint_file *lf, json_t *col, bool key)
{
	json_t *tn = cairn_pg_get(col, "typeName");
	const char *t = type_name(col), *c = cairn_pg_str(col, "colname");
	column_facts f;

	column_constraints(col, &f);
	key = key || f.primary;
	if (is(t, "serial") || is(t, "serial4") || is(t, "smallserial") ||
	    is(t, "serial2") ||
	    (key && (is(t, "int4") || is(t, "int2")))) {
		if (cairn_lint__report(lf, R_BIGINT,
				       "column %s is a 32-bit or smaller key (%s)",
				       c ? c : "?", t) < 0)
			return CAIRN_ERROR;
	}
	if (is(t, "timestamp") &&
	    cairn_lint__report(lf, R_TIMESTAMPTZ,
			       "column %s is timestamp without time zone",
			       c ? c : "?") < 0)
		return CAIRN_ERROR;
	if ((is(t, "varchar") && cairn_pg_len(tn, "typmods")) ||
	    is(t, "bpchar")) {
		if (cairn_lint__report(lf, R_TEXT, "column %s is %s(n)",
				       c ? c : "?",
				       is(t, "bpchar") ? "char" : "varchar") < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

/* Whether column c is named in a table-level PRIMARY KEY of a CreateStmt. */
static bool in_primary_key(json_t *s, const char *c)
{
	size_t n = cairn_pg_len(s, "tableElts");

	for (size_t i = 0; c && i < n; i++) {
		json_t *con = cairn_pg_node_is(cairn_pg_at(s, "tableElts", i),
					       "Constraint");
		size_t k = cairn_pg_len(con, "keys");

		if (!is(cairn_pg_str(con, "contype"), "CONSTR_PRIMARY"))
			continue;
		for (size_t j = 0; j < k; j++)
			if (is(cairn_pg_str(cairn_pg_node_is(
					cairn_pg_at(con, "keys", j), "String"),
					"sval"),
			       c))
				return true;
	}
	return false;
}

static int check_create(lint_file *lf)
{
	json_t *s = lf->st->node;
	size_t n = cairn_pg_len(s, "tableElts");

	for (size_t i = 0; i < n; i++) {
		json_t *col = cairn_pg_node_is(cairn_pg_at(s, "tableElts", i),
					       "ColumnDef");

		if (col && style_column(lf, col,
					in_primary_key(s, cairn_pg_str(
						col, "colname"))) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

/* --- ALTER TABLE -------------------------------------------------------- */

static int add_column(lint_file *lf, json_t *rv, const char *table,
		      json_t *col)
{
	const char *c = cairn_pg_str(col, "colname"), *t = type_name(col);
	const char *vol;
	column_facts f;

	if (style_column(lf, col, false) < 0)
		return CAIRN_ERROR;
	if (no_rows(lf, rv))
		return 0;
	column_constraints(col, &f);
	if (f.not_null && !f.has_default && !f.identity && !f.generated &&
	    !is_serial(t) &&
	    cairn_lint__report(lf, R_NOT_NULL,
		"ALTER TABLE %s ADD COLUMN %s ... NOT NULL without a DEFAULT fails when the table has rows",
		table, c) < 0)
		return CAIRN_ERROR;
	if (f.has_default && (vol = volatile_call(f.default_expr)) &&
	    cairn_lint__report(lf, R_VOLATILE_DEFAULT,
		"ALTER TABLE %s ADD COLUMN %s with the volatile default %s() rewrites the table",
		table, c, vol) < 0)
		return CAIRN_ERROR;
	if ((is_serial(t) || f.identity || f.generated) &&
	    cairn_lint__report(lf, R_ADD_COLUMN_REWRITE,
		"ALTER TABLE %s ADD COLUMN %s %s rewrites the table",
		table, c,
		is_serial(t) ? t : f.identity ? "GENERATED ... AS IDENTITY"
					      : "GENERATED ... STORED") < 0)
		return CAIRN_ERROR;
	if ((f.fk || f.check) &&
	    cairn_lint__report(lf, R_NOT_VALID,
		"ALTER TABLE %s ADD COLUMN %s with a %s checks every row under a lock that blocks writes",
		table, c, f.fk ? "REFERENCES constraint" : "CHECK constraint") < 0)
		return CAIRN_ERROR;
	if (f.unique &&
	    cairn_lint__report(lf, R_UNIQUE,
		"ALTER TABLE %s ADD COLUMN %s with a UNIQUE or PRIMARY KEY constraint builds its index under an ACCESS EXCLUSIVE lock",
		table, c) < 0)
		return CAIRN_ERROR;
	return 0;
}

static int add_constraint(lint_file *lf, json_t *rv, const char *table,
			  json_t *con)
{
	const char *t = cairn_pg_str(con, "contype");
	const char *name = cairn_pg_str(con, "conname");

	if (no_rows(lf, rv))
		return 0;
	if ((is(t, "CONSTR_FOREIGN") || is(t, "CONSTR_CHECK")) &&
	    !cairn_pg_bool(con, "skip_validation"))
		return cairn_lint__report(lf, R_NOT_VALID,
			"ALTER TABLE %s ADD %s%s%s without NOT VALID checks every row under a lock that blocks writes",
			table, is(t, "CONSTR_FOREIGN") ? "FOREIGN KEY" : "CHECK",
			name ? " " : "", name ? name : "");
	if ((is(t, "CONSTR_UNIQUE") || is(t, "CONSTR_PRIMARY")) &&
	    !cairn_pg_str(con, "indexname"))
		return cairn_lint__report(lf, R_UNIQUE,
			"ALTER TABLE %s ADD %s builds its index under an ACCESS EXCLUSIVE lock",
			table, is(t, "CONSTR_UNIQUE") ? "UNIQUE" : "PRIMARY KEY");
	if (is(t, "CONSTR_EXCLUSION"))
		return cairn_lint__report(lf, R_UNIQUE,
			"ALTER TABLE %s ADD EXCLUDE builds its index under an ACCESS EXCLUSIVE lock",
			table);
	return 0;
}

static int alter_cmd(lint_file *lf, json_t *rv, const char *table,
		     json_t *cmd)
{
	const char *sub = cairn_pg_str(cmd, "subtype");
	const char *col = cairn_pg_str(cmd, "name");
	json_t *def = cairn_pg_get(cmd, "def");
	unsigned flags = cairn_lint__flags(lf->hist, rv);
	bool rows = !(flags & (H_NEW | H_EMPTY));

	if (is(sub, "AT_AddColumn"))
		return add_column(lf, rv, table,
				  cairn_pg_node_is(def, "ColumnDef"));
	if (is(sub, "AT_AddConstraint"))
		return add_constraint(lf, rv, table,
				      cairn_pg_node_is(def, "Constraint"));
	if (is(sub, "AT_DropColumn") && !(flags & H_NEW))
		return cairn_lint__report(lf, R_DESTRUCTIVE,
			"ALTER TABLE %s DROP COLUMN %s deletes the column and its data",
			table, col);
	if (is(sub, "AT_AlterColumnType") && rows)
		return cairn_lint__report(lf, R_COLUMN_TYPE,
			"ALTER TABLE %s ALTER COLUMN %s TYPE rewrites the table under an ACCESS EXCLUSIVE lock",
			table, col);
	if (is(sub, "AT_SetNotNull") && rows && !(flags & H_CHECKED))
		return cairn_lint__report(lf, R_SET_NOT_NULL,
			"ALTER TABLE %s ALTER COLUMN %s SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock",
			table, col);
	if (is(sub, "AT_ValidateConstraint") && lf->transactional &&
	    (cairn_lint__flags_name(lf->hist, NULL, col) & H_NOT_VALID))
		return cairn_lint__report(lf, R_VALIDATE_SAME_TX,
			"ALTER TABLE %s VALIDATE CONSTRAINT %s runs in the transaction that added it NOT VALID",
			table, col);
	if ((is(sub, "AT_SetLogged") || is(sub, "AT_SetUnLogged")) && rows)
		return cairn_lint__report(lf, R_SET_LOGGED,
			"ALTER TABLE %s SET %s rewrites the table under an ACCESS EXCLUSIVE lock",
			table, is(sub, "AT_SetLogged") ? "LOGGED" : "UNLOGGED");
	if (is(sub, "AT_DetachPartition") &&
	    cairn_pg_bool(cairn_pg_node_is(def, "PartitionCmd"), "concurrent"))
		return no_tx(lf, "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY");
	return 0;
}

static int check_alter_table(lint_file *lf)
{
	json_t *s = lf->st->node, *rv = cairn_pg_get(s, "relation");
	const char *objtype = cairn_pg_str(s, "objtype");
	size_t n = cairn_pg_len(s, "cmds");
	char table[NAME_MAX_LEN];

	if (objtype && strcmp(objtype, "OBJECT_TABLE"))
		return 0;
	rv_name(rv, table, sizeof(table));
	for (size_t i = 0; i < n; i++) {
		json_t *cmd = cairn_pg_node_is(cairn_pg_at(s, "cmds", i),
					       "AlterTableCmd");

		if (cmd && alter_cmd(lf, rv, table, cmd) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static int check_rename(lint_file *lf)
{
	json_t *s = lf->st->node, *rv = cairn_pg_get(s, "relation");
	const char *type = cairn_pg_str(s, "renameType");
	char table[NAME_MAX_LEN];

	if (!rv || is_new(lf, rv))
		return 0;
	rv_name(rv, table, sizeof(table));
	if (is(type, "OBJECT_COLUMN") &&
	    is(cairn_pg_str(s, "relationType"), "OBJECT_TABLE"))
		return cairn_lint__report(lf, R_RENAME_COLUMN,
			"ALTER TABLE %s RENAME COLUMN %s TO %s breaks the running application's queries",
			table, cairn_pg_str(s, "subname"),
			cairn_pg_str(s, "newname"));
	if (is(type, "OBJECT_TABLE"))
		return cairn_lint__report(lf, R_RENAME_TABLE,
			"ALTER TABLE %s RENAME TO %s breaks the running application's queries",
			table, cairn_pg_str(s, "newname"));
	return 0;
}

/* --- other statements --------------------------------------------------- */

static int check_vacuum(lint_file *lf)
{
	json_t *s = lf->st->node;

	if (!cairn_pg_bool(s, "is_vacuumcmd"))
		return 0; /* ANALYZE */
	if (no_tx(lf, "VACUUM") < 0)
		return CAIRN_ERROR;
	if (has_option(s, "options", "full"))
		return cairn_lint__report(lf, R_VACUUM_FULL,
			"VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock");
	return 0;
}

static int check_cluster(lint_file *lf)
{
	json_t *rv = cairn_pg_get(lf->st->node, "relation");
	char table[NAME_MAX_LEN];

	if (!rv) {
		if (no_tx(lf, "CLUSTER without a table") < 0)
			return CAIRN_ERROR;
		return cairn_lint__report(lf, R_CLUSTER,
			"CLUSTER rewrites every clustered table under an ACCESS EXCLUSIVE lock");
	}
	if (no_rows(lf, rv))
		return 0;
	return cairn_lint__report(lf, R_CLUSTER,
		"CLUSTER %s rewrites the table under an ACCESS EXCLUSIVE lock",
		rv_name(rv, table, sizeof(table)));
}

static int check_lock(lint_file *lf)
{
	json_t *s = lf->st->node;
	size_t n = cairn_pg_len(s, "relations");
	char table[NAME_MAX_LEN];

	for (size_t i = 0; i < n; i++) {
		json_t *rv = cairn_pg_node_is(cairn_pg_at(s, "relations", i),
					     "RangeVar");

		if (!is_new(lf, rv))
			return cairn_lint__report(lf, R_LOCK_TABLE,
				"LOCK TABLE %s holds the lock until the migration ends",
				rv_name(rv, table, sizeof(table)));
	}
	return 0;
}

static int check_enum(lint_file *lf)
{
	json_t *s = lf->st->node;
	char type[NAME_MAX_LEN];

	/* ADD VALUE has a newVal; RENAME VALUE an oldVal too */
	if (!cairn_pg_str(s, "newVal") || cairn_pg_str(s, "oldVal") ||
	    !lf->transactional ||
	    lf->index + 1 >= lf->count)
		return 0;
	cairn_pg_names_join(cairn_pg_get(s, "typeName"), type, sizeof(type));
	return cairn_lint__report(lf, R_ENUM_VALUE,
		"ALTER TYPE %s ADD VALUE '%s' is followed by other statements in the same transaction, which cannot use the new value",
		type, cairn_pg_str(s, "newVal"));
}

/* Whether a WHERE clause restricts rows by value (not only IS NULL). */
static bool restricting(json_t *e)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(e)) {
		json_array_foreach (e, i, v)
			if (restricting(v))
				return true;
		return false;
	}
	if (!json_is_object(e))
		return false;
	json_object_foreach (e, key, v) {
		if (!strcmp(key, "A_Expr") || !strcmp(key, "SubLink") ||
		    !strcmp(key, "FuncCall"))
			return true;
		if (restricting(v))
			return true;
	}
	return false;
}

static int check_backfill(lint_file *lf)
{
	json_t *s = lf->st->node, *rv = cairn_pg_get(s, "relation");
	json_t *where = cairn_pg_get(s, "whereClause");
	char table[NAME_MAX_LEN];

	if (no_rows(lf, rv) || (where && restricting(where)))
		return 0;
	return cairn_lint__report(lf, R_BACKFILL,
		"%s %s %s every row in one transaction",
		is(lf->st->type, "UpdateStmt") ? "UPDATE" : "DELETE FROM",
		rv_name(rv, table, sizeof(table)),
		where ? "without a restricting WHERE touches" : "touches");
}

static int check_alter_database(lint_file *lf)
{
	if (has_option(lf->st->node, "options", "tablespace"))
		return no_tx(lf, "ALTER DATABASE ... SET TABLESPACE");
	return 0;
}

static int dispatch(lint_file *lf)
{
	static const struct {
		const char *type;
		int (*check)(lint_file *lf);
		const char *no_tx; /* or: the statement needs no transaction */
	} kinds[] = {
		{ "TransactionStmt", check_transaction, NULL },
		{ "IndexStmt", check_index, NULL },
		{ "ReindexStmt", check_reindex, NULL },
		{ "DropStmt", check_drop, NULL },
		{ "DropdbStmt", check_dropdb, NULL },
		{ "TruncateStmt", check_truncate, NULL },
		{ "CreateStmt", check_create, NULL },
		{ "AlterTableStmt", check_alter_table, NULL },
		{ "RenameStmt", check_rename, NULL },
		{ "VacuumStmt", check_vacuum, NULL },
		{ "ClusterStmt", check_cluster, NULL },
		{ "LockStmt", check_lock, NULL },
		{ "AlterEnumStmt", check_enum, NULL },
		{ "UpdateStmt", check_backfill, NULL },
		{ "DeleteStmt", check_backfill, NULL },
		{ "AlterDatabaseStmt", check_alter_database, NULL },
		{ "CreatedbStmt", NULL, "CREATE DATABASE" },
		{ "CreateTableSpaceStmt", NULL, "CREATE TABLESPACE" },
		{ "DropTableSpaceStmt", NULL, "DROP TABLESPACE" },
		{ "AlterSystemStmt", NULL, "ALTER SYSTEM" },
	};

	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(kinds); i++) {
		if (strcmp(lf->st->type, kinds[i].type))
			continue;
		return kinds[i].check ? kinds[i].check(lf)
				      : no_tx(lf, kinds[i].no_tx);
	}
	return 0;
}

int cairn_lint__statement(lint_file *lf)
{
	if (dispatch(lf) < 0)
		return CAIRN_ERROR;
	return cairn_lint__record(lf->hist, lf->st);
}
