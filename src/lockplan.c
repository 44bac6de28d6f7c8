/*
 * lockplan.c - the lock analysis of a SQL text (cairn/lockplan.h):
 * parsing with libpg_query, one cairn_lock_statement per parsed
 * statement, and the classification of every statement but ALTER TABLE
 * (lockplan_alter.c).
 *
 * The text is parsed once by pgparse.c (cairn_pg_parse: the tree as JSON,
 * each statement with the offset and line of its first token); the lint
 * hands its own parse to cairn_lp__plan_parsed() so a file is parsed
 * once for both.  The statements are classified in order, and every
 * relation a statement creates (CREATE TABLE, CREATE INDEX, CREATE
 * MATERIALIZED VIEW, CREATE TABLE AS) is remembered, so a later
 * statement on it is marked `created`.  Lock levels are PostgreSQL 15's:
 * see the table in the header.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lockplan_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/util.h"

static const char *const mode_names[] = {
	"", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE",
	"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
	"EXCLUSIVE", "ACCESS EXCLUSIVE"
};

const char *cairn_lock_mode_name(cairn_lock_mode mode)
{
	if ((unsigned)mode >= CAIRN_ARRAY_SIZE(mode_names))
		return "";
	return mode_names[mode];
}

const char *cairn_lock_rewrite_name(cairn_lock_rewrite r)
{
	return r == CAIRN_LOCK_REWRITE_YES ? "yes" :
	       r == CAIRN_LOCK_REWRITE_MAYBE ? "maybe" : "no";
}

/* -- reading the tree ------------------------------------------------ */

const char *cairn_lp__type(json_t *node, json_t **body)
{
	const char *key;
	json_t *value;

	if (body)
		*body = NULL;
	if (!json_is_object(node) || json_object_size(node) != 1)
		return NULL;
	json_object_foreach(node, key, value) {
		if (body)
			*body = value;
		return key;
	}
	return NULL;
}

json_t *cairn_lp__as(json_t *node, const char *type)
{
	json_t *body;
	const char *t = cairn_lp__type(node, &body);

	return t && !strcmp(t, type) ? body : NULL;
}

const char *cairn_lp__str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool cairn_lp__bool(json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

const char *cairn_lp__sval(json_t *node)
{
	return cairn_lp__str(cairn_lp__as(node, "String"), "sval");
}

json_t *cairn_lp__items(json_t *node)
{
	json_t *list;

	if (json_is_array(node))
		return node;
	list = cairn_lp__as(node, "List");
	return json_is_array(json_object_get(list, "items")) ?
		       json_object_get(list, "items") : NULL;
}

/* -- targets --------------------------------------------------------- */

static bool same_schema(const char *a, const char *b)
{
	/* an unqualified name may be either: match on the name alone */
	return !a || !*a || !b || !*b || !strcmp(a, b);
}

static bool is_created(lp_ctx *c, const char *schema, const char *name)
{
	for (size_t i = 0; i < c->created_count; i++)
		if (!strcmp(c->created_name[i], name) &&
		    same_schema(c->created_schema[i], schema))
			return true;
	return false;
}

static int note_created(lp_ctx *c, const char *schema, const char *name)
{
	size_t alloc;
	char *s, *n;

	if (!name)
		return 0;
	alloc = c->created_alloc;
	if (cairn__grow_array((void **)&c->created_schema, &alloc,
			      c->created_count + 1, sizeof(char *)) < 0 ||
	    cairn__grow_array((void **)&c->created_name, &c->created_alloc,
			      c->created_count + 1, sizeof(char *)) < 0)
		return -1;
	s = cairn__strdup(schema ? schema : "");
	n = cairn__strdup(name);
	if (!s || !n) {
		free(s);
		free(n);
		return -1;
	}
	c->created_schema[c->created_count] = s;
	c->created_name[c->created_count++] = n;
	return 0;
}

static int created_rangevar(lp_ctx *c, json_t *rv)
{
	json_t *w = cairn_lp__as(rv, "RangeVar");

	if (w)
		rv = w;
	return note_created(c, cairn_lp__str(rv, "schemaname"),
			    cairn_lp__str(rv, "relname"));
}

static int append_why(char **why, const char *more)
{
	char *s;

	if (!more || !*more)
		return 0;
	if (!*why) {
		*why = cairn__strdup(more);
		return *why ? 0 : -1;
	}
	if (asprintf(&s, "%s, %s", *why, more) < 0)
		return cairn_error__oom();
	free(*why);
	*why = s;
	return 0;
}

static cairn_lock_target *find_target(cairn_lock_statement *st,
				      const char *schema, const char *name)
{
	for (size_t i = 0; i < st->target_count; i++) {
		cairn_lock_target *t = &st->targets[i];

		if (!strcmp(t->name, name) &&
		    !strcmp(t->schema ? t->schema : "", schema ? schema : ""))
			return t;
	}
	return NULL;
}

static cairn_lock_target *new_target(lp_ctx *c, const char *schema,
				     const char *name, bool is_index)
{
	cairn_lock_statement *st = c->st;
	size_t alloc = st->target_count;
	cairn_lock_target *t;

	if (cairn__grow_array((void **)&st->targets, &alloc,
			      st->target_count + 1, sizeof(*t)) < 0)
		return NULL;
	t = &st->targets[st->target_count];
	memset(t, 0, sizeof(*t));
	t->name = cairn__strdup(name);
	t->schema = schema ? cairn__strdup(schema) : NULL;
	if (!t->name || (schema && !t->schema)) {
		free(t->name);
		free(t->schema);
		return NULL;
	}
	t->is_index = is_index;
	t->created = is_created(c, schema, name);
	st->target_count++;
	return t;
}

int cairn_lp__add(lp_ctx *c, const char *schema, const char *name,
		  bool is_index, cairn_lock_mode mode, cairn_lock_rewrite rewrite,
		  bool scans, const char *why)
{
	cairn_lock_target *t;

	if (!name || !*name)
		return 0;
	t = find_target(c->st, schema, name);
	if (!t && !(t = new_target(c, schema, name, is_index)))
		return -1;
	if (mode > t->mode)
		t->mode = mode;
	if (rewrite > t->rewrite)
		t->rewrite = rewrite;
	t->scans = t->scans || scans;
	return append_why(&t->why, why);
}

int cairn_lp__add_rangevar(lp_ctx *c, json_t *rv, bool is_index,
			   cairn_lock_mode mode, cairn_lock_rewrite rewrite,
			   bool scans, const char *why)
{
	json_t *w = cairn_lp__as(rv, "RangeVar");

	if (w)
		rv = w;
	return cairn_lp__add(c, cairn_lp__str(rv, "schemaname"),
			     cairn_lp__str(rv, "relname"), is_index, mode,
			     rewrite, scans, why);
}

/*
 * A qualified name given as a list of String nodes ([schema,] name),
 * without its last `drop` elements (DROP TRIGGER's list ends with the
 * trigger's name, after its table's).
 */
static int add_names(lp_ctx *c, json_t *list, size_t drop, bool is_index,
		     cairn_lock_mode mode, cairn_lock_rewrite rewrite, bool scans,
		     const char *why)
{
	json_t *items = cairn_lp__items(list);
	size_t n = json_array_size(items);
	const char *schema = NULL, *name;

	if (n <= drop)
		return 0;
	n -= drop;
	name = cairn_lp__sval(json_array_get(items, n - 1));
	if (n >= 2)
		schema = cairn_lp__sval(json_array_get(items, n - 2));
	return cairn_lp__add(c, schema, name, is_index, mode, rewrite, scans,
			     why);
}

/* -- statements ------------------------------------------------------ */

static int set_kind(lp_ctx *c, const char *kind)
{
	free(c->st->kind);
	c->st->kind = cairn__strdup(kind);
	return c->st->kind ? 0 : -1;
}

static bool has_option(json_t *options, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(cairn_lp__items(options), i, o) {
		const char *d = cairn_lp__str(cairn_lp__as(o, "DefElem"),
					      "defname");

		if (d && !strcmp(d, name))
			return true;
	}
	return false;
}

static int index_stmt(lp_ctx *c, json_t *s)
{
	bool conc = cairn_lp__bool(s, "concurrent");
	json_t *rel = json_object_get(s, "relation");

	c->st->no_transaction = conc;
	if (set_kind(c, conc ? "CREATE INDEX CONCURRENTLY" : "CREATE INDEX") ||
	    cairn_lp__add_rangevar(c, rel, false,
				   conc ? CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE :
					  CAIRN_LOCK_SHARE,
				   CAIRN_LOCK_REWRITE_NO, true, "builds an index"))
		return -1;
	return note_created(c, cairn_lp__str(rel, "schemaname"),
			    cairn_lp__str(s, "idxname"));
}

static const char *object_word(const char *objtype)
{
	static const struct { const char *type, *word; } words[] = {
		{ "OBJECT_TABLE", "TABLE" }, { "OBJECT_INDEX", "INDEX" },
		{ "OBJECT_VIEW", "VIEW" }, { "OBJECT_MATVIEW", "MATERIALIZED VIEW" },
		{ "OBJECT_SEQUENCE", "SEQUENCE" },
		{ "OBJECT_FOREIGN_TABLE", "FOREIGN TABLE" },
		{ "OBJECT_TRIGGER", "TRIGGER" }, { "OBJECT_RULE", "RULE" },
		{ "OBJECT_POLICY", "POLICY" }, { "OBJECT_SCHEMA", "SCHEMA" },
		{ "OBJECT_COLUMN", "COLUMN" }, { "OBJECT_TYPE", "TYPE" },
		{ "OBJECT_FUNCTION", "FUNCTION" }, { "OBJECT_TABCONSTRAINT", "CONSTRAINT" },
		{ "OBJECT_EXTENSION", "EXTENSION" }, { "OBJECT_DOMAIN", "DOMAIN" },
	};

	for (size_t i = 0; objtype && i < CAIRN_ARRAY_SIZE(words); i++)
		if (!strcmp(words[i].type, objtype))
			return words[i].word;
	return NULL;
}

static int drop_stmt(lp_ctx *c, json_t *s)
{
	const char *type = cairn_lp__str(s, "removeType");
	const char *word = object_word(type);
	bool conc = cairn_lp__bool(s, "concurrent");
	size_t drop = 0, i;
	bool is_index = false, relation = true;
	cairn_lock_mode mode = CAIRN_LOCK_ACCESS_EXCLUSIVE;
	json_t *o;
	char kind[64];

	snprintf(kind, sizeof(kind), "DROP %s%s", word ? word : "",
		 conc ? " CONCURRENTLY" : "");
	if (set_kind(c, word ? kind : "DROP"))
		return -1;
	if (!type)
		return 0;
	if (!strcmp(type, "OBJECT_INDEX")) {
		is_index = true;
		c->st->no_transaction = conc;
		if (conc)
			mode = CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE;
	} else if (!strcmp(type, "OBJECT_TRIGGER") ||
		   !strcmp(type, "OBJECT_RULE") ||
		   !strcmp(type, "OBJECT_POLICY")) {
		drop = 1; /* [schema,] table, name */
	} else if (strcmp(type, "OBJECT_TABLE") && strcmp(type, "OBJECT_VIEW") &&
		   strcmp(type, "OBJECT_MATVIEW") &&
		   strcmp(type, "OBJECT_SEQUENCE") &&
		   strcmp(type, "OBJECT_FOREIGN_TABLE")) {
		relation = false;
		/* CASCADE may drop tables the text does not name */
		if (!strcmp(type, "OBJECT_SCHEMA") ||
		    !strcmp(cairn_lp__str(s, "behavior") ?
				    cairn_lp__str(s, "behavior") : "",
			    "DROP_CASCADE"))
			c->st->analysed = false;
	}
	if (!relation)
		return 0;
	json_array_foreach(json_object_get(s, "objects"), i, o)
		if (add_names(c, o, drop, is_index, mode, CAIRN_LOCK_REWRITE_NO,
			      false, drop ? kind : NULL))
			return -1;
	return 0;
}

static int rename_stmt(lp_ctx *c, json_t *s)
{
	const char *type = cairn_lp__str(s, "renameType");
	const char *word = object_word(type);
	bool index = type && !strcmp(type, "OBJECT_INDEX");
	char kind[64], why[64];

	snprintf(kind, sizeof(kind), "ALTER %s RENAME",
		 word && strcmp(word, "COLUMN") && strcmp(word, "CONSTRAINT") &&
		 strcmp(word, "TRIGGER") && strcmp(word, "POLICY") ?
			 word : "TABLE");
	snprintf(why, sizeof(why), "RENAME %s", word ? word : "");
	if (set_kind(c, kind))
		return -1;
	/* renaming an index takes SHARE UPDATE EXCLUSIVE since PostgreSQL 12 */
	return cairn_lp__add_rangevar(c, json_object_get(s, "relation"), index,
				      index ? CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE :
					      CAIRN_LOCK_ACCESS_EXCLUSIVE,
				      CAIRN_LOCK_REWRITE_NO, false, why);
}

static int create_stmt(lp_ctx *c, json_t *s)
{
	bool partition = json_object_get(s, "partbound") != NULL;
	size_t i, j;
	json_t *e;

	if (set_kind(c, partition ? "CREATE TABLE PARTITION OF" : "CREATE TABLE"))
		return -1;
	/* PARTITION OF locks the parent ACCESS EXCLUSIVE, INHERITS less */
	json_array_foreach(json_object_get(s, "inhRelations"), i, e)
		if (cairn_lp__add_rangevar(c, e, false,
					   partition ? CAIRN_LOCK_ACCESS_EXCLUSIVE :
						       CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE,
					   CAIRN_LOCK_REWRITE_NO, false,
					   partition ? "new partition" :
						       "new child table"))
			return -1;
	/* a foreign key adds triggers to the referenced table */
	json_array_foreach(json_object_get(s, "tableElts"), i, e) {
		json_t *col = cairn_lp__as(e, "ColumnDef");
		json_t *cons = col ? json_object_get(col, "constraints") : NULL;
		json_t *k;

		if (!col) {
			cons = json_array();
			json_array_append(cons, e);
		} else {
			json_incref(cons);
		}
		json_array_foreach(cons, j, k) {
			json_t *con = cairn_lp__as(k, "Constraint");
			const char *t = cairn_lp__str(con, "contype");

			if (t && !strcmp(t, "CONSTR_FOREIGN") &&
			    cairn_lp__add_rangevar(c, json_object_get(con, "pktable"),
						   false,
						   CAIRN_LOCK_SHARE_ROW_EXCLUSIVE,
						   CAIRN_LOCK_REWRITE_NO, false,
						   "referenced by a new foreign key")) {
				json_decref(cons);
				return -1;
			}
		}
		json_decref(cons);
	}
	return created_rangevar(c, json_object_get(s, "relation"));
}

static int vacuum_stmt(lp_ctx *c, json_t *s)
{
	bool vacuum = cairn_lp__bool(s, "is_vacuumcmd");
	bool full = vacuum && has_option(json_object_get(s, "options"), "full");
	size_t i;
	json_t *r;

	c->st->no_transaction = vacuum;
	if (set_kind(c, full ? "VACUUM FULL" : vacuum ? "VACUUM" : "ANALYZE"))
		return -1;
	if (!json_array_size(json_object_get(s, "rels")))
		c->st->analysed = false; /* every table of the database */
	json_array_foreach(json_object_get(s, "rels"), i, r) {
		json_t *vr = cairn_lp__as(r, "VacuumRelation");

		if (cairn_lp__add_rangevar(c, json_object_get(vr, "relation"),
					   false,
					   full ? CAIRN_LOCK_ACCESS_EXCLUSIVE :
						  CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE,
					   full ? CAIRN_LOCK_REWRITE_YES : CAIRN_LOCK_REWRITE_NO,
					   true, NULL))
			return -1;
	}
	return 0;
}

static int reindex_stmt(lp_ctx *c, json_t *s)
{
	const char *k = cairn_lp__str(s, "kind");
	bool conc = has_option(json_object_get(s, "params"), "concurrently");
	bool index = k && !strcmp(k, "REINDEX_OBJECT_INDEX");
	bool table = k && !strcmp(k, "REINDEX_OBJECT_TABLE");
	cairn_lock_mode mode;

	c->st->no_transaction = conc || !(index || table);
	if (set_kind(c, conc ? "REINDEX CONCURRENTLY" : "REINDEX"))
		return -1;
	if (!index && !table) {
		c->st->analysed = false; /* SCHEMA, DATABASE, SYSTEM: every table */
		return 0;
	}
	/*
	 * REINDEX locks out writes (SHARE on the table) and, on the index
	 * being rebuilt, everything (ACCESS EXCLUSIVE); CONCURRENTLY takes
	 * SHARE UPDATE EXCLUSIVE.
	 */
	mode = conc ? CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE :
	       index ? CAIRN_LOCK_ACCESS_EXCLUSIVE : CAIRN_LOCK_SHARE;
	return cairn_lp__add_rangevar(c, json_object_get(s, "relation"), index,
				      mode, CAIRN_LOCK_REWRITE_NO, true,
				      index && !conc ?
					      "its table is locked SHARE" : NULL);
}

static int lock_stmt(lp_ctx *c, json_t *s)
{
	json_int_t m = json_integer_value(json_object_get(s, "mode"));
	size_t i;
	json_t *r;

	if (m < CAIRN_LOCK_ACCESS_SHARE || m > CAIRN_LOCK_ACCESS_EXCLUSIVE)
		m = CAIRN_LOCK_ACCESS_EXCLUSIVE;
	if (set_kind(c, "LOCK TABLE"))
		return -1;
	json_array_foreach(json_object_get(s, "relations"), i, r)
		if (cairn_lp__add_rangevar(c, r, false, (cairn_lock_mode)m,
					   CAIRN_LOCK_REWRITE_NO, false, NULL))
			return -1;
	return 0;
}

static int rangevars(lp_ctx *c, json_t *list, cairn_lock_mode mode,
		     cairn_lock_rewrite rewrite, bool scans, const char *why)
{
	size_t i;
	json_t *r;

	json_array_foreach(list, i, r)
		if (cairn_lp__add_rangevar(c, r, false, mode, rewrite, scans, why))
			return -1;
	return 0;
}

static int dml_stmt(lp_ctx *c, const char *type, json_t *s)
{
	bool every = (!strcmp(type, "UpdateStmt") || !strcmp(type, "DeleteStmt")) &&
		     !json_object_get(s, "whereClause");
	const char *kind = !strcmp(type, "InsertStmt") ? "INSERT" :
			   !strcmp(type, "UpdateStmt") ? "UPDATE" :
			   !strcmp(type, "DeleteStmt") ? "DELETE" : "MERGE";

	if (set_kind(c, kind))
		return -1;
	return cairn_lp__add_rangevar(c, json_object_get(s, "relation"), false,
				      CAIRN_LOCK_ROW_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
				      every, every ? "every row" : NULL);
}

static int comment_stmt(lp_ctx *c, json_t *s)
{
	const char *t = cairn_lp__str(s, "objtype");

	if (set_kind(c, "COMMENT ON"))
		return -1;
	if (!t)
		return 0;
	if (!strcmp(t, "OBJECT_TABLE") || !strcmp(t, "OBJECT_VIEW") ||
	    !strcmp(t, "OBJECT_MATVIEW") || !strcmp(t, "OBJECT_INDEX") ||
	    !strcmp(t, "OBJECT_SEQUENCE"))
		return add_names(c, json_object_get(s, "object"), 0,
				 !strcmp(t, "OBJECT_INDEX"),
				 CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE,
				 CAIRN_LOCK_REWRITE_NO, false, NULL);
	if (!strcmp(t, "OBJECT_COLUMN"))
		return add_names(c, json_object_get(s, "object"), 1, false,
				 CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE,
				 CAIRN_LOCK_REWRITE_NO, false, NULL);
	return 0;
}

/* Whether the tree under node calls a function not in `known`. */
static bool calls_unknown_function(json_t *node)
{
	static const char *const known[] = {
		"count", "sum", "min", "max", "avg", "now", "coalesce",
		"lower", "upper", "length", "current_setting", "set_config",
		"format", "concat", "array_agg", "string_agg", NULL
	};
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(node)) {
		json_array_foreach(node, i, v)
			if (calls_unknown_function(v))
				return true;
		return false;
	}
	if (!json_is_object(node))
		return false;
	json_object_foreach(node, key, v) {
		if (!strcmp(key, "FuncCall")) {
			json_t *names = json_object_get(v, "funcname");
			const char *f = cairn_lp__sval(json_array_get(names,
						json_array_size(names) - 1));
			bool found = false;

			for (i = 0; f && known[i] && !found; i++)
				found = !strcmp(f, known[i]);
			if (!found)
				return true;
		}
		if (calls_unknown_function(v))
			return true;
	}
	return false;
}

/* The relations of a FROM list (joins included; not subqueries). */
static int from_items(lp_ctx *c, json_t *list)
{
	size_t i;
	json_t *e, *b;

	json_array_foreach(list, i, e) {
		const char *t = cairn_lp__type(e, &b);
		json_t *pair;

		if (!t)
			continue;
		if (!strcmp(t, "RangeVar") &&
		    cairn_lp__add_rangevar(c, e, false, CAIRN_LOCK_ACCESS_SHARE,
					   CAIRN_LOCK_REWRITE_NO, false, NULL))
			return -1;
		if (!strcmp(t, "JoinExpr")) {
			pair = json_pack("[OO]", json_object_get(b, "larg"),
					 json_object_get(b, "rarg"));
			if (!pair)
				return cairn_error__oom();
			if (from_items(c, pair)) {
				json_decref(pair);
				return -1;
			}
			json_decref(pair);
		}
	}
	return 0;
}

/*
 * SELECT: ACCESS SHARE on what it reads; a function it calls may do
 * anything (a backfill, a lock of its own), so then the statement is
 * not analysed.
 */
static int select_stmt(lp_ctx *c, json_t *s)
{
	if (set_kind(c, "SELECT"))
		return -1;
	if (calls_unknown_function(s))
		c->st->analysed = false;
	return from_items(c, json_object_get(s, "fromClause"));
}

/* Statements that run code: the locks it takes are not in the text. */
static bool runs_code(const char *type)
{
	return !strcmp(type, "DoStmt") || !strcmp(type, "CallStmt");
}

/* A readable kind for statements without a rule: "CreateFunctionStmt"
 * becomes "CREATE FUNCTION". */
static int generic_kind(lp_ctx *c, const char *type)
{
	cairn_buf b = CAIRN_BUF_INIT;
	size_t n = strlen(type);

	if (n > 4 && !strcmp(type + n - 4, "Stmt"))
		n -= 4;
	for (size_t i = 0; i < n; i++) {
		if (i && type[i] >= 'A' && type[i] <= 'Z' &&
		    type[i - 1] >= 'a' && type[i - 1] <= 'z')
			cairn_buf_putc(&b, ' ');
		cairn_buf_putc(&b, (char)(type[i] >= 'a' && type[i] <= 'z' ?
						  type[i] - 'a' + 'A' : type[i]));
	}
	free(c->st->kind);
	c->st->kind = cairn_buf_detach(&b);
	return c->st->kind ? 0 : -1;
}

static int other_stmt(lp_ctx *c, const char *type, json_t *s)
{
	if (!strcmp(type, "CreateTrigStmt"))
		return set_kind(c, "CREATE TRIGGER") ? -1 :
		       cairn_lp__add_rangevar(c, json_object_get(s, "relation"),
					      false, CAIRN_LOCK_SHARE_ROW_EXCLUSIVE,
					      CAIRN_LOCK_REWRITE_NO, false, NULL);
	if (!strcmp(type, "TruncateStmt"))
		return set_kind(c, "TRUNCATE") ? -1 :
		       rangevars(c, json_object_get(s, "relations"),
				 CAIRN_LOCK_ACCESS_EXCLUSIVE, CAIRN_LOCK_REWRITE_NO,
				 false, NULL);
	if (!strcmp(type, "ClusterStmt")) {
		c->st->no_transaction = !json_object_get(s, "relation");
		c->st->analysed = !c->st->no_transaction;
		return set_kind(c, "CLUSTER") ? -1 :
		       cairn_lp__add_rangevar(c, json_object_get(s, "relation"),
					      false, CAIRN_LOCK_ACCESS_EXCLUSIVE,
					      CAIRN_LOCK_REWRITE_YES, true, NULL);
	}
	if (!strcmp(type, "RefreshMatViewStmt")) {
		bool conc = cairn_lp__bool(s, "concurrent");

		return set_kind(c, conc ? "REFRESH MATERIALIZED VIEW CONCURRENTLY" :
				       "REFRESH MATERIALIZED VIEW") ? -1 :
		       cairn_lp__add_rangevar(c, json_object_get(s, "relation"),
					      false,
					      conc ? CAIRN_LOCK_EXCLUSIVE :
						     CAIRN_LOCK_ACCESS_EXCLUSIVE,
					      conc ? CAIRN_LOCK_REWRITE_NO :
						     CAIRN_LOCK_REWRITE_YES,
					      true, NULL);
	}
	if (!strcmp(type, "CreatePolicyStmt") || !strcmp(type, "AlterPolicyStmt"))
		return set_kind(c, type[0] == 'C' ? "CREATE POLICY" :
						    "ALTER POLICY") ? -1 :
		       cairn_lp__add_rangevar(c, json_object_get(s, "table"),
					      false, CAIRN_LOCK_ACCESS_EXCLUSIVE,
					      CAIRN_LOCK_REWRITE_NO, false, NULL);
	if (!strcmp(type, "RuleStmt"))
		return set_kind(c, "CREATE RULE") ? -1 :
		       cairn_lp__add_rangevar(c, json_object_get(s, "relation"),
					      false, CAIRN_LOCK_ACCESS_EXCLUSIVE,
					      CAIRN_LOCK_REWRITE_NO, false, NULL);
	if (!strcmp(type, "CreateStatsStmt"))
		return set_kind(c, "CREATE STATISTICS") ? -1 :
		       rangevars(c, json_object_get(s, "relations"),
				 CAIRN_LOCK_SHARE_UPDATE_EXCLUSIVE,
				 CAIRN_LOCK_REWRITE_NO, false, NULL);
	if (!strcmp(type, "CopyStmt")) {
		bool from = cairn_lp__bool(s, "is_from");

		return set_kind(c, from ? "COPY FROM" : "COPY TO") ? -1 :
		       cairn_lp__add_rangevar(c, json_object_get(s, "relation"),
					      false,
					      from ? CAIRN_LOCK_ROW_EXCLUSIVE :
						     CAIRN_LOCK_ACCESS_SHARE,
					      CAIRN_LOCK_REWRITE_NO, !from, NULL);
	}
	if (!strcmp(type, "CreateTableAsStmt")) {
		json_t *into = json_object_get(s, "into");
		const char *ot = cairn_lp__str(s, "objtype");

		return set_kind(c, ot && !strcmp(ot, "OBJECT_MATVIEW") ?
					   "CREATE MATERIALIZED VIEW" :
					   "CREATE TABLE AS") ? -1 :
		       created_rangevar(c, json_object_get(into, "rel"));
	}
	if (runs_code(type))
		c->st->analysed = false;
	return generic_kind(c, type);
}

static int classify(lp_ctx *c, const char *type, json_t *s)
{
	c->st->analysed = true;
	if (!strcmp(type, "AlterTableStmt"))
		return cairn_lp__alter_table(c, s);
	if (!strcmp(type, "IndexStmt"))
		return index_stmt(c, s);
	if (!strcmp(type, "DropStmt"))
		return drop_stmt(c, s);
	if (!strcmp(type, "RenameStmt"))
		return rename_stmt(c, s);
	if (!strcmp(type, "CreateStmt"))
		return create_stmt(c, s);
	if (!strcmp(type, "VacuumStmt"))
		return vacuum_stmt(c, s);
	if (!strcmp(type, "ReindexStmt"))
		return reindex_stmt(c, s);
	if (!strcmp(type, "LockStmt"))
		return lock_stmt(c, s);
	if (!strcmp(type, "InsertStmt") || !strcmp(type, "UpdateStmt") ||
	    !strcmp(type, "DeleteStmt") || !strcmp(type, "MergeStmt"))
		return dml_stmt(c, type, s);
	if (!strcmp(type, "CommentStmt"))
		return comment_stmt(c, s);
	if (!strcmp(type, "SelectStmt"))
		return select_stmt(c, s);
	return other_stmt(c, type, s);
}

/* -- the statements of a parsed text --------------------------------- */

static int add_statement(lp_ctx *c, const cairn_pg_stmt *ps)
{
	cairn_lock_plan *p = c->plan;
	size_t alloc = p->count;

	if (cairn__grow_array((void **)&p->items, &alloc, p->count + 1,
			      sizeof(*p->items)) < 0)
		return -1;
	c->st = &p->items[p->count++];
	memset(c->st, 0, sizeof(*c->st));
	c->st->offset = ps->offset;
	c->st->line = ps->line;
	if (!ps->node || !ps->type || !*ps->type) {
		/* too deeply nested for the JSON reader: not known */
		if (set_kind(c, "?"))
			return -1;
		c->st->analysed = false;
		return 0;
	}
	return classify(c, ps->type, ps->node);
}

int cairn_lp__plan_parsed(cairn_lock_plan *out, const cairn_pg_file *f)
{
	lp_ctx c;
	int rc = 0;

	cairn_lock_plan_dispose(out);
	if (f->error) {
		out->error = cairn__strdup(f->error);
		out->error_line = f->error_line;
		out->error_column = f->error_column;
		return out->error ? 0 : -1;
	}
	memset(&c, 0, sizeof(c));
	c.plan = out;
	for (size_t i = 0; i < f->count && rc == 0; i++)
		rc = add_statement(&c, &f->items[i]);
	for (size_t i = 0; i < c.created_count; i++) {
		free(c.created_schema[i]);
		free(c.created_name[i]);
	}
	free(c.created_schema);
	free(c.created_name);
	if (rc < 0)
		cairn_lock_plan_dispose(out);
	return rc < 0 ? -1 : 0;
}

int cairn_lock_plan_sql(cairn_lock_plan *out, const char *sql, size_t len)
{
	cairn_pg_file f = CAIRN_PG_FILE_INIT;
	char *text;
	int rc;

	cairn_lock_plan_dispose(out);
	/* the parser reads a C string: the text up to a NUL byte */
	if (!(text = cairn__strndup(sql, len)))
		return -1;
	rc = cairn_pg_parse(&f, text, strlen(text)) < 0
		     ? -1
		     : cairn_lp__plan_parsed(out, &f);
	cairn_pg_file_dispose(&f);
	free(text);
	return rc;
}

void cairn_lock_plan_dispose(cairn_lock_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->count; i++) {
		cairn_lock_statement *st = &plan->items[i];

		for (size_t j = 0; j < st->target_count; j++) {
			cairn_lock_target *t = &st->targets[j];

			free(t->schema);
			free(t->name);
			free(t->why);
			free(t->size_text);
			free(t->table);
		}
		free(st->targets);
		free(st->kind);
	}
	free(plan->items);
	free(plan->error);
	memset(plan, 0, sizeof(*plan));
}
