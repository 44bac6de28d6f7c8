/*
 * lint_history.c - what a run of migrations has done so far, as lint
 * sees it: the relations and indexes it created (new: nobody uses them
 * yet, they hold no rows), the tables it emptied (TRUNCATE, DELETE
 * without WHERE: no rows to rewrite or scan), the tables on which it
 * validated a constraint and the constraints it added NOT VALID.
 *
 * Names come from the parse tree, so they are already folded the way
 * PostgreSQL folds them (unquoted lower case, quoted as written).  A name
 * without a schema matches the same name in any schema, and the other
 * way round: without a database the search path is unknown, and
 * assuming it agrees keeps lint quiet about the common unqualified case.
 * The list is small (the tables of a few migrations): a linear search.
 */
#include <stdlib.h>
#include <string.h>

#include "lint_internal.h"
#include "util/error.h"
#include "util/util.h"

static bool same(const lint_name *n, const char *schema, const char *name)
{
	if (strcmp(n->name, name))
		return false;
	return !n->schema || !schema || !strcmp(n->schema, schema);
}

unsigned cairn_lint__flags_name(const lint_history *h, const char *schema,
				const char *name)
{
	unsigned flags = 0;

	if (!h || !name)
		return 0;
	for (size_t i = 0; i < h->count; i++)
		if (same(&h->items[i], schema, name))
			flags |= h->items[i].flags;
	return flags;
}

unsigned cairn_lint__flags(const lint_history *h, json_t *rv)
{
	return cairn_lint__flags_name(h, cairn_pg_str(rv, "schemaname"),
				      cairn_pg_str(rv, "relname"));
}

int cairn_lint__mark(lint_history *h, const char *schema, const char *name,
		     unsigned flags)
{
	lint_name *n;

	if (!name)
		return 0;
	for (size_t i = 0; i < h->count; i++) {
		n = &h->items[i];
		if (!strcmp(n->name, name) &&
		    ((!n->schema && !schema) ||
		     (n->schema && schema && !strcmp(n->schema, schema)))) {
			n->flags |= flags;
			return 0;
		}
	}
	if (cairn__grow_array((void **)&h->items, &h->alloc, h->count + 1,
			      sizeof(*h->items)) < 0)
		return CAIRN_ERROR;
	n = &h->items[h->count];
	n->name = cairn__strdup(name);
	n->schema = schema ? cairn__strdup(schema) : NULL;
	n->flags = flags;
	if (!n->name || (schema && !n->schema)) {
		free(n->name);
		free(n->schema);
		return cairn_error__oom();
	}
	h->count++;
	return 0;
}

static int mark_rv(lint_history *h, json_t *rv, unsigned flags)
{
	return cairn_lint__mark(h, cairn_pg_str(rv, "schemaname"),
				cairn_pg_str(rv, "relname"), flags);
}

void cairn_lint__history_dispose(lint_history *h)
{
	for (size_t i = 0; i < h->count; i++) {
		free(h->items[i].name);
		free(h->items[i].schema);
	}
	free(h->items);
	memset(h, 0, sizeof(*h));
}

static int record_alter(lint_history *h, json_t *s)
{
	json_t *rv = cairn_pg_get(s, "relation");
	size_t n = cairn_pg_len(s, "cmds");

	for (size_t i = 0; i < n; i++) {
		json_t *cmd = cairn_pg_node_is(cairn_pg_at(s, "cmds", i),
					       "AlterTableCmd");
		const char *sub = cairn_pg_str(cmd, "subtype");
		json_t *con = cairn_pg_node_is(cairn_pg_get(cmd, "def"),
					       "Constraint");
		int rc = 0;

		if (!sub)
			continue;
		if (!strcmp(sub, "AT_ValidateConstraint")) {
			rc = mark_rv(h, rv, H_CHECKED);
		} else if (!strcmp(sub, "AT_AddConstraint") && con) {
			const char *type = cairn_pg_str(con, "contype");

			if (cairn_pg_bool(con, "skip_validation"))
				rc = cairn_lint__mark(
					h, NULL, cairn_pg_str(con, "conname"),
					H_NOT_VALID);
			else if (type && !strcmp(type, "CONSTR_CHECK"))
				rc = mark_rv(h, rv, H_CHECKED);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int record_rename(lint_history *h, json_t *s)
{
	json_t *rv = cairn_pg_get(s, "relation");
	const char *type = cairn_pg_str(s, "renameType");
	unsigned flags;

	if (!type || (strcmp(type, "OBJECT_TABLE") &&
		      strcmp(type, "OBJECT_INDEX")))
		return 0;
	flags = cairn_lint__flags(h, rv);
	if (!flags)
		return 0;
	return cairn_lint__mark(h, cairn_pg_str(rv, "schemaname"),
				cairn_pg_str(s, "newname"), flags);
}

int cairn_lint__record(lint_history *h, const cairn_pg_stmt *st)
{
	json_t *s = st->node;
	const char *t = st->type;

	if (!strcmp(t, "CreateStmt"))
		return mark_rv(h, cairn_pg_get(s, "relation"), H_NEW);
	if (!strcmp(t, "CreateTableAsStmt"))
		return mark_rv(h, cairn_pg_get(cairn_pg_get(s, "into"), "rel"),
			       H_NEW);
	if (!strcmp(t, "SelectStmt") && cairn_pg_get(s, "intoClause"))
		return mark_rv(h,
			       cairn_pg_get(cairn_pg_get(s, "intoClause"),
					    "rel"),
			       H_NEW);
	if (!strcmp(t, "IndexStmt")) {
		json_t *rv = cairn_pg_get(s, "relation");

		return cairn_lint__mark(h, cairn_pg_str(rv, "schemaname"),
					cairn_pg_str(s, "idxname"),
					H_NEW | H_INDEX);
	}
	if (!strcmp(t, "TruncateStmt")) {
		size_t n = cairn_pg_len(s, "relations");

		for (size_t i = 0; i < n; i++)
			if (mark_rv(h, cairn_pg_node_is(
					       cairn_pg_at(s, "relations", i),
					       "RangeVar"),
				    H_EMPTY) < 0)
				return CAIRN_ERROR;
		return 0;
	}
	if (!strcmp(t, "DeleteStmt") && !cairn_pg_get(s, "whereClause"))
		return mark_rv(h, cairn_pg_get(s, "relation"), H_EMPTY);
	if (!strcmp(t, "AlterTableStmt"))
		return record_alter(h, s);
	if (!strcmp(t, "RenameStmt"))
		return record_rename(h, s);
	return 0;
}
