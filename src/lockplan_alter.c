/*
 * lockplan_alter.c - the locks of ALTER TABLE (and ALTER INDEX, ALTER
 * MATERIALIZED VIEW, ...), subcommand by subcommand, and whether a
 * default expression is volatile.
 *
 * PostgreSQL takes, for the whole statement, the strongest lock any of
 * its subcommands needs (AlterTableGetLockLevel in PostgreSQL 15's
 * tablecmds.c, documented per subcommand in the ALTER TABLE page):
 * ACCESS EXCLUSIVE unless noted below.  Whether the table is rewritten
 * or scanned comes from the same page: a volatile default, a stored
 * generated column, a type change, SET LOGGED/UNLOGGED, SET TABLESPACE
 * and SET ACCESS METHOD rewrite; SET NOT NULL and constraints added
 * without NOT VALID scan.  cairn_lp__add() merges the subcommands of one
 * table into one target: the strongest mode, the strongest rewrite, and
 * every subcommand's description in `why`.
 */
#include <stdio.h>
#include <string.h>

#include "lockplan_internal.h"
#include "util/util.h"

/* -- volatility of a default ----------------------------------------- */

static bool in_list(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

static cairn_lock_rewrite func_volatility(json_t *f)
{
	static const char *const volatile_funcs[] = {
		"random", "gen_random_uuid", "uuid_generate_v1",
		"uuid_generate_v1mc", "uuid_generate_v4", "clock_timestamp",
		"timeofday", "nextval", "setval", "txid_current",
		"pg_current_xact_id", "random_normal", NULL
	};
	/* stable or immutable: evaluated once for the whole ALTER */
	static const char *const fixed_funcs[] = {
		"now", "statement_timestamp", "transaction_timestamp",
		"current_setting", "lower", "upper", "length", "concat",
		"coalesce", "to_timestamp", "to_date", "make_date",
		"make_interval", "jsonb_build_object", "json_build_object",
		"jsonb_build_array", "json_build_array", "array_fill", NULL
	};
	json_t *names = json_object_get(f, "funcname");
	const char *name = cairn_lp__sval(json_array_get(names,
						json_array_size(names) - 1));
	cairn_lock_rewrite worst = CAIRN_LOCK_REWRITE_NO;
	size_t i;
	json_t *a;

	if (!name)
		return CAIRN_LOCK_REWRITE_MAYBE;
	if (in_list(name, volatile_funcs))
		return CAIRN_LOCK_REWRITE_YES;
	if (!in_list(name, fixed_funcs))
		return CAIRN_LOCK_REWRITE_MAYBE;
	json_array_foreach(json_object_get(f, "args"), i, a) {
		cairn_lock_rewrite r = cairn_lp__volatility(a);

		if (r > worst)
			worst = r;
	}
	return worst;
}

static cairn_lock_rewrite list_volatility(json_t *list)
{
	cairn_lock_rewrite worst = CAIRN_LOCK_REWRITE_NO;
	size_t i;
	json_t *e;

	json_array_foreach(cairn_lp__items(list), i, e) {
		cairn_lock_rewrite r = cairn_lp__volatility(e);

		if (r > worst)
			worst = r;
	}
	return worst;
}

cairn_lock_rewrite cairn_lp__volatility(json_t *expr)
{
	json_t *b;
	const char *t = cairn_lp__type(expr, &b);
	cairn_lock_rewrite l, r;

	if (!t)
		return expr ? CAIRN_LOCK_REWRITE_MAYBE : CAIRN_LOCK_REWRITE_NO;
	if (!strcmp(t, "A_Const") || !strcmp(t, "SQLValueFunction"))
		return CAIRN_LOCK_REWRITE_NO;
	if (!strcmp(t, "TypeCast") || !strcmp(t, "CollateClause"))
		return cairn_lp__volatility(json_object_get(b, "arg"));
	if (!strcmp(t, "FuncCall"))
		return func_volatility(b);
	if (!strcmp(t, "A_Expr")) {
		l = cairn_lp__volatility(json_object_get(b, "lexpr"));
		r = cairn_lp__volatility(json_object_get(b, "rexpr"));
		return l > r ? l : r;
	}
	if (!strcmp(t, "A_ArrayExpr"))
		return list_volatility(json_object_get(b, "elements"));
	if (!strcmp(t, "CoalesceExpr") || !strcmp(t, "MinMaxExpr") ||
	    !strcmp(t, "BoolExpr"))
		return list_volatility(json_object_get(b, "args"));
	return CAIRN_LOCK_REWRITE_MAYBE;
}

/* -- subcommands ----------------------------------------------------- */

/* What one subcommand does to the statement's table. */
typedef struct {
	cairn_lock_mode mode;
	cairn_lock_rewrite rewrite;
	bool scans;
	char why[160];
} effect;

static bool is_serial(json_t *type_name)
{
	static const char *const serials[] = {
		"serial", "serial4", "bigserial", "serial8", "smallserial",
		"serial2", NULL
	};
	json_t *names = json_object_get(type_name, "names");
	const char *last = cairn_lp__sval(json_array_get(names,
						json_array_size(names) - 1));

	return json_array_size(names) == 1 && last && in_list(last, serials);
}

static const char *contype(json_t *con)
{
	const char *t = cairn_lp__str(con, "contype");

	return t ? t : "";
}

/* A foreign key also locks the table it references. */
static int references(lp_ctx *c, json_t *con, bool validated)
{
	return cairn_lp__add_rangevar(c, json_object_get(con, "pktable"), false,
				      CAIRN_LOCK_SHARE_ROW_EXCLUSIVE,
				      CAIRN_LOCK_REWRITE_NO, false,
				      validated ? "referenced by a new foreign key" :
						  "referenced by a new foreign key (NOT VALID)");
}

static int add_column(lp_ctx *c, json_t *col, effect *e)
{
	const char *name = cairn_lp__str(col, "colname");
	const char *note = NULL;
	size_t i;
	json_t *k;

	e->mode = CAIRN_LOCK_ACCESS_EXCLUSIVE;
	if (is_serial(json_object_get(col, "typeName"))) {
		e->rewrite = CAIRN_LOCK_REWRITE_YES;
		note = "serial: fills every row from a sequence";
	}
	json_array_foreach(json_object_get(col, "constraints"), i, k) {
		json_t *con = cairn_lp__as(k, "Constraint");
		const char *t = contype(con);

		if (!strcmp(t, "CONSTR_DEFAULT")) {
			cairn_lock_rewrite r = cairn_lp__volatility(
				json_object_get(con, "raw_expr"));

			if (r > e->rewrite) {
				e->rewrite = r;
				note = r == CAIRN_LOCK_REWRITE_YES ?
					       "volatile default" :
					       "default of unknown volatility";
			}
		} else if (!strcmp(t, "CONSTR_IDENTITY")) {
			e->rewrite = CAIRN_LOCK_REWRITE_YES;
			note = "identity: fills every row from a sequence";
		} else if (!strcmp(t, "CONSTR_GENERATED")) {
			e->rewrite = CAIRN_LOCK_REWRITE_YES;
			note = "stored generated column";
		} else if (!strcmp(t, "CONSTR_CHECK") ||
			   !strcmp(t, "CONSTR_PRIMARY") ||
			   !strcmp(t, "CONSTR_UNIQUE")) {
			e->scans = true;
		} else if (!strcmp(t, "CONSTR_FOREIGN")) {
			e->scans = true;
			if (references(c, con, true))
				return -1;
		}
	}
	snprintf(e->why, sizeof(e->why), "ADD COLUMN %s%s%s%s",
		 name ? name : "", note ? " (" : "", note ? note : "",
		 note ? ")" : "");
	return 0;
}

static void alter_type(json_t *cmd, effect *e)
{
	json_t *def = cairn_lp__as(json_object_get(cmd, "def"), "ColumnDef");
	json_t *names = json_object_get(json_object_get(def, "typeName"), "names");
	const char *to = cairn_lp__sval(json_array_get(names,
					     json_array_size(names) - 1));
	bool text_like = to && (!strcmp(to, "text") || !strcmp(to, "varchar") ||
				!strcmp(to, "numeric") || !strcmp(to, "varbit"));

	e->mode = CAIRN_LOCK_ACCESS_EXCLUSIVE;
	/*
	 * A change the server can prove binary-coercible (varchar(n) to a
	 * longer varchar or to text, numeric to a wider numeric) keeps the
	 * rows; the text alone cannot tell, so those are "maybe".
	 */
	e->rewrite = text_like && !json_object_get(def, "raw_default") ?
			     CAIRN_LOCK_REWRITE_MAYBE : CAIRN_LOCK_REWRITE_YES;
	snprintf(e->why, sizeof(e->why), "ALTER COLUMN %s TYPE%s%s",
		 cairn_lp__str(cmd, "name") ? cairn_lp__str(cmd, "name") : "",
		 to ? " " : "", to ? to : "");
}

static int add_constraint(lp_ctx *c, json_t *cmd, effect *e)
{
	json_t *con = cairn_lp__as(json_object_get(cmd, "def"), "Constraint");
	const char *t = contype(con);
	bool not_valid = cairn_lp__bool(con, "skip_validation");
	const char *word = !strcmp(t, "CONSTR_FOREIGN") ? "FOREIGN KEY" :
			   !strcmp(t, "CONSTR_CHECK") ? "CHECK" :
			   !strcmp(t, "CONSTR_PRIMARY") ? "PRIMARY KEY" :
			   !strcmp(t, "CONSTR_UNIQUE") ? "UNIQUE" :
			   !strcmp(t, "CONSTR_EXCLUSION") ? "EXCLUDE" : "CONSTRAINT";
	bool using_index = cairn_lp__str(con, "indexname") != NULL;

	e->mode = CAIRN_LOCK_ACCESS_EXCLUSIVE;
	if (!strcmp(t, "CONSTR_FOREIGN")) {
		/* triggers on both tables: as strong as CREATE TRIGGER */
		e->mode = CAIRN_LOCK_SHARE_ROW_EXCLUSIVE;
		if (references(c, con, !not_valid))
			return -1;
	}
	if (!strcmp(t, "CONSTR_FOREIGN") || !strcmp(t, "CONSTR_CHECK"))
		e->scans = !not_valid;
	else
		e->scans = !using_index; /* builds the index under the lock */
	snprintf(e->why, sizeof(e->why), "ADD %s%s%s", word,
		 not_valid ? " NOT VALID" : "",
		 using_index ? " USING INDEX" :
		 e->scans && strcmp(t, "CONSTR_FOREIGN") &&
		 strcmp(t, "CONSTR_CHECK") ? " (builds an index)" : "");
	return 0;
}

/* SET (...) storage parameters: most take SHARE UPDATE EXCLUSIVE. */
static cairn_lock_mode reloptions_mode(json_t *def)
{
	static const char *const light[] = {
		"fillfactor", "parallel_workers", "toast_tuple_target",
		"vacuum_index_cleanup", "vacuum_truncate",
		"log_autovacuum_min_duration", NULL
	};
	size_t i;
	json_t *o;

	json_array_foreach(cairn_lp__items(def), i, o) {
		json_t *d = cairn_lp__as(o, "DefElem");
		const char *name = cairn_lp__str(d, "defname");
		const char *ns = cairn_lp__str(d, "defnamespace");

		if (!name)
			return CAIRN_LOCK_ACCESS_EXCLUSIVE;
		if (ns && !strcmp(ns, "toast"))
			continue;
		if (!in_list(name, light) && strncmp(name, "autovacuum_", 11))
			return CAIRN_LOCK_ACCESS_EXCLUSIVE;
	}
	return CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE;
}

static int partition_cmd(lp_ctx *c, json_t *cmd, bool attach, effect *e)
{
	json_t *pc = cairn_lp__as(json_object_get(cmd, "def"), "PartitionCmd");
	bool conc = cairn_lp__bool(pc, "concurrent");

	if (attach) {
		e->mode = CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE;
		snprintf(e->why, sizeof(e->why), "ATTACH PARTITION");
		/* the partition: ACCESS EXCLUSIVE, scanned for its bound */
		return cairn_lp__add_rangevar(c, json_object_get(pc, "name"),
					      false, CAIRN_LOCK_ACCESS_EXCLUSIVE,
					      CAIRN_LOCK_REWRITE_NO, true,
					      "being attached (scanned unless a CHECK proves its bound)");
	}
	e->mode = conc ? CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE :
			 CAIRN_LOCK_ACCESS_EXCLUSIVE;
	snprintf(e->why, sizeof(e->why), "DETACH PARTITION%s",
		 conc ? " CONCURRENTLY" : "");
	if (conc)
		c->st->no_transaction = true;
	return cairn_lp__add_rangevar(c, json_object_get(pc, "name"), false,
				      e->mode, CAIRN_LOCK_REWRITE_NO, false,
				      "being detached");
}

typedef struct {
	const char *subtype;
	cairn_lock_mode mode;
	cairn_lock_rewrite rewrite;
	bool scans;
	const char *why;  /* "%s" takes the subcommand's name field */
} simple_cmd;

static const simple_cmd simple_cmds[] = {
	{ "AT_SetNotNull", CAIRN_LOCK_ACCESS_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO, true,
	  "ALTER COLUMN %s SET NOT NULL" },
	{ "AT_DropNotNull", CAIRN_LOCK_ACCESS_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO, false,
	  "ALTER COLUMN %s DROP NOT NULL" },
	{ "AT_DropColumn", CAIRN_LOCK_ACCESS_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO, false,
	  "DROP COLUMN %s" },
	{ "AT_DropConstraint", CAIRN_LOCK_ACCESS_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
	  false, "DROP CONSTRAINT %s" },
	{ "AT_ValidateConstraint", CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE,
	  CAIRN_LOCK_REWRITE_NO, true, "VALIDATE CONSTRAINT %s" },
	{ "AT_SetStatistics", CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE,
	  CAIRN_LOCK_REWRITE_NO, false, "ALTER COLUMN %s SET STATISTICS" },
	{ "AT_SetOptions", CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
	  false, "ALTER COLUMN %s SET (...)" },
	{ "AT_ResetOptions", CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE,
	  CAIRN_LOCK_REWRITE_NO, false, "ALTER COLUMN %s RESET (...)" },
	{ "AT_ClusterOn", CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
	  false, "CLUSTER ON %s" },
	{ "AT_DropCluster", CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
	  false, "SET WITHOUT CLUSTER%s" },
	{ "AT_DetachPartitionFinalize", CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE,
	  CAIRN_LOCK_REWRITE_NO, false, "DETACH PARTITION FINALIZE%s" },
	{ "AT_SetLogged", CAIRN_LOCK_ACCESS_EXCLUSIVE, CAIRN_LOCK_REWRITE_YES, false,
	  "SET LOGGED%s" },
	{ "AT_SetUnLogged", CAIRN_LOCK_ACCESS_EXCLUSIVE, CAIRN_LOCK_REWRITE_YES,
	  false, "SET UNLOGGED%s" },
	{ "AT_SetTableSpace", CAIRN_LOCK_ACCESS_EXCLUSIVE, CAIRN_LOCK_REWRITE_YES,
	  false, "SET TABLESPACE %s" },
	{ "AT_SetAccessMethod", CAIRN_LOCK_ACCESS_EXCLUSIVE, CAIRN_LOCK_REWRITE_YES,
	  false, "SET ACCESS METHOD %s" },
	{ "AT_EnableTrig", CAIRN_LOCK_SHARE_ROW_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
	  false, "ENABLE TRIGGER %s" },
	{ "AT_EnableAlwaysTrig", CAIRN_LOCK_SHARE_ROW_EXCLUSIVE,
	  CAIRN_LOCK_REWRITE_NO, false, "ENABLE ALWAYS TRIGGER %s" },
	{ "AT_EnableReplicaTrig", CAIRN_LOCK_SHARE_ROW_EXCLUSIVE,
	  CAIRN_LOCK_REWRITE_NO, false, "ENABLE REPLICA TRIGGER %s" },
	{ "AT_EnableTrigAll", CAIRN_LOCK_SHARE_ROW_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
	  false, "ENABLE TRIGGER ALL%s" },
	{ "AT_EnableTrigUser", CAIRN_LOCK_SHARE_ROW_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
	  false, "ENABLE TRIGGER USER%s" },
	{ "AT_DisableTrig", CAIRN_LOCK_SHARE_ROW_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
	  false, "DISABLE TRIGGER %s" },
	{ "AT_DisableTrigAll", CAIRN_LOCK_SHARE_ROW_EXCLUSIVE,
	  CAIRN_LOCK_REWRITE_NO, false, "DISABLE TRIGGER ALL%s" },
	{ "AT_DisableTrigUser", CAIRN_LOCK_SHARE_ROW_EXCLUSIVE,
	  CAIRN_LOCK_REWRITE_NO, false, "DISABLE TRIGGER USER%s" },
	{ NULL, CAIRN_LOCK_NONE, CAIRN_LOCK_REWRITE_NO, false, NULL }
};

/* "AT_ChangeOwner" -> "CHANGE OWNER": for subcommands without a rule */
static void generic_why(const char *subtype, effect *e)
{
	size_t o = 0;

	if (!strncmp(subtype, "AT_", 3))
		subtype += 3;
	for (size_t i = 0; subtype[i] && o + 2 < sizeof(e->why); i++) {
		char ch = subtype[i];

		if (i && ch >= 'A' && ch <= 'Z')
			e->why[o++] = ' ';
		e->why[o++] = (char)(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
	}
	e->why[o] = '\0';
}

static int subcommand(lp_ctx *c, json_t *cmd, effect *e)
{
	const char *st = cairn_lp__str(cmd, "subtype");
	const char *name = cairn_lp__str(cmd, "name");

	memset(e, 0, sizeof(*e));
	if (!st)
		st = "";
	for (const simple_cmd *s = simple_cmds; s->subtype; s++) {
		if (strcmp(s->subtype, st))
			continue;
		e->mode = s->mode;
		e->rewrite = s->rewrite;
		e->scans = s->scans;
		snprintf(e->why, sizeof(e->why), s->why, name ? name : "");
		return 0;
	}
	if (!strcmp(st, "AT_AddColumn"))
		return add_column(c, cairn_lp__as(json_object_get(cmd, "def"),
						  "ColumnDef"), e);
	if (!strcmp(st, "AT_AlterColumnType")) {
		alter_type(cmd, e);
		return 0;
	}
	if (!strcmp(st, "AT_AddConstraint"))
		return add_constraint(c, cmd, e);
	if (!strcmp(st, "AT_ColumnDefault")) {
		/* only the catalog changes: rows keep their values */
		e->mode = CAIRN_LOCK_ACCESS_EXCLUSIVE;
		snprintf(e->why, sizeof(e->why), "ALTER COLUMN %s %s DEFAULT",
			 name ? name : "",
			 json_object_get(cmd, "def") ? "SET" : "DROP");
		return 0;
	}
	if (!strcmp(st, "AT_SetRelOptions") || !strcmp(st, "AT_ResetRelOptions")) {
		e->mode = reloptions_mode(json_object_get(cmd, "def"));
		snprintf(e->why, sizeof(e->why), "%s (...)",
			 st[3] == 'S' ? "SET" : "RESET");
		return 0;
	}
	if (!strcmp(st, "AT_AttachPartition") || !strcmp(st, "AT_DetachPartition"))
		return partition_cmd(c, cmd, st[3] == 'A', e);
	/* everything else: ACCESS EXCLUSIVE, as the manual says */
	e->mode = CAIRN_LOCK_ACCESS_EXCLUSIVE;
	generic_why(st, e);
	return 0;
}

static const char *alter_kind(const char *objtype)
{
	if (!objtype || !strcmp(objtype, "OBJECT_TABLE"))
		return "ALTER TABLE";
	if (!strcmp(objtype, "OBJECT_INDEX"))
		return "ALTER INDEX";
	if (!strcmp(objtype, "OBJECT_MATVIEW"))
		return "ALTER MATERIALIZED VIEW";
	if (!strcmp(objtype, "OBJECT_VIEW"))
		return "ALTER VIEW";
	if (!strcmp(objtype, "OBJECT_SEQUENCE"))
		return "ALTER SEQUENCE";
	if (!strcmp(objtype, "OBJECT_FOREIGN_TABLE"))
		return "ALTER FOREIGN TABLE";
	return "ALTER TABLE";
}

int cairn_lp__alter_table(lp_ctx *c, json_t *stmt)
{
	const char *objtype = cairn_lp__str(stmt, "objtype");
	bool index = objtype && !strcmp(objtype, "OBJECT_INDEX");
	json_t *rel = json_object_get(stmt, "relation");
	size_t i;
	json_t *k;
	effect e;

	c->st->kind = cairn__strdup(alter_kind(objtype));
	if (!c->st->kind)
		return -1;
	/* the altered table first, before any table a foreign key names */
	if (cairn_lp__add_rangevar(c, rel, index, CAIRN_LOCK_NONE,
				   CAIRN_LOCK_REWRITE_NO, false, NULL) < 0)
		return -1;
	json_array_foreach(json_object_get(stmt, "cmds"), i, k) {
		json_t *cmd = cairn_lp__as(k, "AlterTableCmd");

		if (!cmd)
			continue;
		if (subcommand(c, cmd, &e) < 0 ||
		    cairn_lp__add_rangevar(c, rel, index, e.mode, e.rewrite,
					   e.scans, e.why) < 0)
			return -1;
	}
	return 0;
}
