/*
 * migration_empty.c - telling an empty migration file (no statement at
 * all) from one that does something; see migration_empty.h.  The
 * statement splitter (util/sqlsplit.c) already drops comments, blanks and
 * bare semicolons, so a file is empty when it splits into nothing and
 * does not end inside a string or comment.
 */
#include "migration_empty.h"
#include "cairn/error.h"
#include "cairn/sqlsplit.h"

int cairn_migration__sql_is_empty(bool *out, const char *sql, size_t len)
{
	cairn_sql_statements st = CAIRN_SQL_STATEMENTS_INIT;

	*out = false;
	if (!sql)
		return 0;
	if (cairn_sql_split(&st, sql, len) < 0)
		return CAIRN_ERROR;
	*out = st.count == 0 && !st.unterminated;
	cairn_sql_statements_dispose(&st);
	return 0;
}

int cairn_migration__up_is_empty(bool *out, const cairn_migration *m)
{
	*out = false;
	if (!m->content_loaded || !m->up_sql ||
	    cairn_directives_allows(&m->up_directives, CAIRN_ALLOW_EMPTY))
		return 0;
	return cairn_migration__sql_is_empty(out, m->up_sql, m->up_len);
}

int cairn_migration__down_is_empty(bool *out, const cairn_migration *m)
{
	*out = false;
	if (!m->content_loaded || !m->down_sql ||
	    cairn_directives_allows(&m->down_directives, CAIRN_ALLOW_EMPTY))
		return 0;
	return cairn_migration__sql_is_empty(out, m->down_sql, m->down_len);
}

int cairn_migration__empty_findings(cairn_findings *out,
				    cairn_migration_set *set)
{
	size_t n = cairn_migration_set_count(set);

	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = cairn_migration_set_get(set, i);
		bool empty;

		if (!m->content_ok)
			continue; /* loading reported why */
		if (cairn_migration__up_is_empty(&empty, m) < 0)
			return CAIRN_ERROR;
		if (empty &&
		    cairn_findings_add(out, "empty-migration",
			CAIRN_SEVERITY_WARNING, m->up_path, 0, m->version,
			"write the change, or add '-- cairn: allow empty' if it is meant to do nothing",
			NULL, "migration %s_%s has no SQL statement: migrate refuses it",
			m->version_text, m->name) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}
