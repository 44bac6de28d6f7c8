/*
 * lint.c - lint rules for migration up files (include/cairn/lint.h).
 *
 * A file is split into statements (cairn_sql_split) and each statement
 * into tokens (cairn_sql_tokenize), so strings, dollar-quoted bodies and
 * comments can never look like SQL.  Each rule is a function that looks
 * at the tokens of one statement: keywords are matched on upper-cased
 * WORD tokens at fixed places ("CREATE [UNIQUE] INDEX [CONCURRENTLY]"),
 * names are read as qualified names (schema.table, "Quoted") and folded
 * the way PostgreSQL folds them.  The file's own history matters: tables
 * created by an earlier statement of the same file are remembered, and
 * indexing, dropping or adding NOT NULL columns to them is not reported,
 * since they are new and empty.  File-level rules (unterminated,
 * no-transaction-multiple) look at the split result.
 *
 * A rule is skipped when the file says `-- cairn: allow <rule>` or the
 * caller disabled it.  Findings carry the rule's severity, the file, the
 * line of the statement, the migration's version, a message naming the
 * statement and a hint that says how to fix it or how to say it is
 * intended.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "cairn/lint.h"
#include "cairn/sqlsplit.h"
#include "util/error.h"
#include "util/util.h"
#include "version_check.h"

enum {
	R_DESTRUCTIVE = 0,
	R_TX_CONTROL,
	R_NEEDS_NO_TX,
	R_NO_TX_MULTIPLE,
	R_UNTERMINATED,
	R_INDEX,
	R_NOT_NULL,
	R__COUNT
};

static const cairn_lint_rule rules[R__COUNT] = {
	{ "destructive", "lint/destructive", CAIRN_SEVERITY_ERROR,
	  "DROP TABLE, DROP COLUMN, DROP SCHEMA, DROP DATABASE or TRUNCATE "
	  "(loses data)" },
	{ "transaction-control", "lint/transaction-control",
	  CAIRN_SEVERITY_ERROR,
	  "BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ... in a migration (cairn "
	  "manages transactions)" },
	{ "needs-no-transaction", "lint/needs-no-transaction",
	  CAIRN_SEVERITY_ERROR,
	  "a statement that cannot run in a transaction block (CREATE INDEX "
	  "CONCURRENTLY, VACUUM, ...) without '-- cairn: no-transaction'" },
	{ "no-transaction-multiple", "lint/no-transaction-multiple",
	  CAIRN_SEVERITY_ERROR,
	  "a '-- cairn: no-transaction' file with more than one statement" },
	{ "unterminated", "lint/unterminated", CAIRN_SEVERITY_ERROR,
	  "the file ends inside a string, quoted identifier, dollar quote or "
	  "comment" },
	{ "index-not-concurrent", "lint/index-not-concurrent",
	  CAIRN_SEVERITY_WARNING,
	  "CREATE INDEX without CONCURRENTLY on a table that existed before "
	  "the migration" },
	{ "not-null-without-default", "lint/not-null-without-default",
	  CAIRN_SEVERITY_WARNING,
	  "ADD COLUMN ... NOT NULL without DEFAULT on a table that existed "
	  "before the migration" },
};

static const char *const hints[R__COUNT] = {
	"add '-- cairn: allow destructive' at the top of the file if the "
	"data loss is intended",
	"remove it: cairn runs each migration in a transaction of its own "
	"(or none, with '-- cairn: no-transaction')",
	"put the statement alone in a migration that starts with "
	"'-- cairn: no-transaction'",
	"split it into one migration per statement: each statement of a "
	"no-transaction migration commits on its own, so a failure leaves "
	"the ones before it applied",
	"close it: everything after the opening quote or comment is read as "
	"part of it",
	"use CREATE INDEX CONCURRENTLY in a migration of its own with "
	"'-- cairn: no-transaction', or add '-- cairn: allow "
	"index-not-concurrent' if the table is small",
	"add a DEFAULT, or add the column as nullable, backfill it and then "
	"SET NOT NULL; add '-- cairn: allow not-null-without-default' if the "
	"table is always empty",
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

/* --- the state of one file ---------------------------------------------- */

typedef struct {
	char *schema; /* NULL when the name was not qualified */
	char *name;
} relname;

typedef struct {
	const cairn_migration *m;
	const cairn_lint_options *opts;
	cairn_findings *out;
	bool enabled[R__COUNT];
	const char *stmt;      /* the statement's text */
	unsigned line;         /* its line */
	cairn_sql_tokens tk;   /* its tokens */
	relname *created;      /* tables created earlier in the file */
	size_t created_count;
	size_t created_alloc;
} lint_file;

static int report(lint_file *lf, int rule, unsigned line, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));

static int report(lint_file *lf, int rule, unsigned line, const char *fmt,
		  ...)
{
	cairn_buf msg = CAIRN_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cairn_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = cairn_findings_add(lf->out, rules[rule].code,
					rules[rule].severity, lf->m->up_path,
					line, lf->m->version, hints[rule],
					NULL, "%s", msg.ptr);
	cairn_buf_dispose(&msg);
	return rc;
}

/* --- token helpers ------------------------------------------------------ */

static bool kw(const lint_file *lf, size_t i, const char *word)
{
	return cairn_sql_token_is(&lf->tk, i, word);
}

static bool op(const lint_file *lf, size_t i, const char *s)
{
	return i < lf->tk.count && lf->tk.items[i].kind == CAIRN_SQL_TOKEN_OP &&
	       !strcmp(lf->tk.items[i].text, s);
}

static bool is_name(const lint_file *lf, size_t i)
{
	return i < lf->tk.count &&
	       (lf->tk.items[i].kind == CAIRN_SQL_TOKEN_WORD ||
		lf->tk.items[i].kind == CAIRN_SQL_TOKEN_IDENT);
}

/* Skips "IF EXISTS" or "IF NOT EXISTS" at i. */
static size_t skip_if_exists(const lint_file *lf, size_t i)
{
	if (kw(lf, i, "IF") && kw(lf, i + 1, "EXISTS"))
		return i + 2;
	if (kw(lf, i, "IF") && kw(lf, i + 1, "NOT") && kw(lf, i + 2, "EXISTS"))
		return i + 3;
	return i;
}

/* Skips a parenthesized group starting at i (which is "("). */
static size_t skip_parens(const lint_file *lf, size_t i)
{
	unsigned depth = 0;

	for (; i < lf->tk.count; i++) {
		if (op(lf, i, "(") || op(lf, i, "["))
			depth++;
		else if ((op(lf, i, ")") || op(lf, i, "]")) && depth &&
			 --depth == 0)
			return i + 1;
	}
	return i;
}

/*
 * A qualified name at i: name or schema.name (of a longer chain, the
 * last two parts).  Returns the index after it, i when there is none.
 * out (may be NULL) receives the folded parts: unquoted words in lower
 * case, quoted identifiers as written.
 */
static size_t parse_name(const lint_file *lf, size_t i, relname *out)
{
	size_t j = i, last = i, prev = (size_t)-1;

	if (!is_name(lf, i))
		return i;
	while (op(lf, j + 1, ".") && is_name(lf, j + 2)) {
		prev = j;
		j += 2;
	}
	last = j;
	if (out) {
		const cairn_sql_token *t[2] = {
			prev == (size_t)-1 ? NULL : &lf->tk.items[prev],
			&lf->tk.items[last],
		};
		char *parts[2] = { NULL, NULL };

		for (int k = 0; k < 2; k++) {
			if (!t[k])
				continue;
			parts[k] = cairn__strdup(t[k]->text);
			if (parts[k] && t[k]->kind == CAIRN_SQL_TOKEN_WORD)
				for (char *p = parts[k]; *p; p++)
					if (*p >= 'A' && *p <= 'Z')
						*p = (char)(*p - 'A' + 'a');
		}
		if (t[0] && !parts[0]) {
			free(parts[1]); /* out of memory: no name at all */
			parts[1] = NULL;
		}
		out->schema = parts[0];
		out->name = parts[1];
	}
	return last + 1;
}

static void relname_dispose(relname *r)
{
	free(r->schema);
	free(r->name);
	r->schema = r->name = NULL;
}

/* Whether the file created the table named r before this statement. */
static bool created_here(const lint_file *lf, const relname *r)
{
	if (!r->name)
		return false;
	for (size_t i = 0; i < lf->created_count; i++) {
		const relname *c = &lf->created[i];

		if (strcmp(c->name, r->name))
			continue;
		/* unqualified on either side: assume the search path agrees */
		if (!c->schema || !r->schema || !strcmp(c->schema, r->schema))
			return true;
	}
	return false;
}

/*
 * The source text of tokens [from, to) as written, for messages: at most
 * 200 bytes, cut at a character boundary.
 */
static void source_of(const lint_file *lf, size_t from, size_t to,
		      const char **text, int *len)
{
	size_t a, b;

	*text = "";
	*len = 0;
	if (from >= to || to > lf->tk.count)
		return;
	a = lf->tk.items[from].offset;
	b = lf->tk.items[to - 1].offset + lf->tk.items[to - 1].length;
	if (b - a > 200) {
		b = a + 200;
		while (b > a && ((unsigned char)lf->stmt[b] & 0xC0) == 0x80)
			b--;
	}
	*text = lf->stmt + a;
	*len = (int)(b - a);
}

/*
 * Reads a comma-separated list of table names at i (DROP TABLE a, b).
 * *end receives the index after the list; *all_new whether every table
 * in it was created earlier in the file.
 */
static int parse_name_list(const lint_file *lf, size_t i, size_t *end,
			   bool *all_new, size_t *count)
{
	*all_new = true;
	*count = 0;
	for (;;) {
		relname r = { NULL, NULL };
		size_t j;

		if (kw(lf, i, "ONLY"))
			i++;
		j = parse_name(lf, i, &r);
		if (j == i) {
			*all_new = false;
			break;
		}
		if (!r.name) {
			relname_dispose(&r);
			return cairn_error__oom();
		}
		if (!created_here(lf, &r))
			*all_new = false;
		relname_dispose(&r);
		(*count)++;
		i = j;
		if (op(lf, i, "*"))
			i++;
		if (!op(lf, i, ","))
			break;
		i++;
	}
	*end = i;
	return 0;
}

/*
 * "ALTER TABLE [IF EXISTS] [ONLY] name [*]": returns the index of the
 * first action, 0 when the statement is not an ALTER TABLE.  *table
 * receives the name's range.
 */
static size_t alter_table(const lint_file *lf, relname *table, size_t *name_at)
{
	size_t i, j;

	if (!kw(lf, 0, "ALTER") || !kw(lf, 1, "TABLE"))
		return 0;
	i = skip_if_exists(lf, 2);
	if (kw(lf, i, "ONLY"))
		i++;
	*name_at = i;
	j = parse_name(lf, i, table);
	if (j == i)
		return 0;
	if (op(lf, j, "*"))
		j++;
	return j;
}

/* The end of the ALTER TABLE action starting at i (its comma or the end). */
static size_t action_end(const lint_file *lf, size_t i)
{
	while (i < lf->tk.count && !op(lf, i, ",")) {
		if (op(lf, i, "(") || op(lf, i, "["))
			i = skip_parens(lf, i);
		else
			i++;
	}
	return i;
}

/* --- rules on one statement --------------------------------------------- */

static int check_transaction_control(lint_file *lf)
{
	const char *what = cairn_sql_transaction_control(&lf->tk);

	if (!what)
		return 0;
	return report(lf, R_TX_CONTROL, lf->line,
		      "%s controls the transaction, which cairn manages itself",
		      what);
}

static int check_needs_no_transaction(lint_file *lf)
{
	const char *what = NULL;
	size_t i, n = lf->tk.count;

	if (lf->m->up_directives.no_transaction)
		return 0;
	if (kw(lf, 0, "CREATE")) {
		i = kw(lf, 1, "UNIQUE") ? 2 : 1;
		if (kw(lf, i, "INDEX") && kw(lf, i + 1, "CONCURRENTLY"))
			what = "CREATE INDEX CONCURRENTLY";
		else if (kw(lf, 1, "DATABASE"))
			what = "CREATE DATABASE";
		else if (kw(lf, 1, "TABLESPACE"))
			what = "CREATE TABLESPACE";
	} else if (kw(lf, 0, "DROP")) {
		if (kw(lf, 1, "INDEX") && kw(lf, 2, "CONCURRENTLY"))
			what = "DROP INDEX CONCURRENTLY";
		else if (kw(lf, 1, "DATABASE"))
			what = "DROP DATABASE";
		else if (kw(lf, 1, "TABLESPACE"))
			what = "DROP TABLESPACE";
	} else if (kw(lf, 0, "REINDEX")) {
		/* CONCURRENTLY after the target or in the option list */
		for (i = 1; i < n && !what; i++)
			if (kw(lf, i, "CONCURRENTLY"))
				what = "REINDEX CONCURRENTLY";
		i = op(lf, 1, "(") ? skip_parens(lf, 1) : 1;
		if (!what && kw(lf, i, "SCHEMA"))
			what = "REINDEX SCHEMA";
		else if (!what && kw(lf, i, "DATABASE"))
			what = "REINDEX DATABASE";
		else if (!what && kw(lf, i, "SYSTEM"))
			what = "REINDEX SYSTEM";
	} else if (kw(lf, 0, "VACUUM")) {
		what = "VACUUM";
	} else if (kw(lf, 0, "ALTER") && kw(lf, 1, "SYSTEM")) {
		what = "ALTER SYSTEM";
	} else if (kw(lf, 0, "ALTER") && kw(lf, 1, "DATABASE")) {
		for (i = 2; i + 1 < n && !what; i++)
			if (kw(lf, i, "SET") && kw(lf, i + 1, "TABLESPACE"))
				what = "ALTER DATABASE ... SET TABLESPACE";
	} else if (kw(lf, 0, "ALTER") && kw(lf, 1, "TABLE")) {
		bool detach = false;

		for (i = 2; i < n && !what; i++) {
			if (kw(lf, i, "DETACH") && kw(lf, i + 1, "PARTITION"))
				detach = true;
			else if (detach && kw(lf, i, "CONCURRENTLY"))
				what = "ALTER TABLE ... DETACH PARTITION ... "
				       "CONCURRENTLY";
		}
	} else if (kw(lf, 0, "CLUSTER")) {
		i = 1;
		if (op(lf, i, "("))
			i = skip_parens(lf, i);
		if (kw(lf, i, "VERBOSE"))
			i++;
		if (i >= n)
			what = "CLUSTER without a table";
	}
	if (!what)
		return 0;
	return report(lf, R_NEEDS_NO_TX, lf->line,
		      "%s cannot run inside a transaction block", what);
}

static int check_destructive(lint_file *lf)
{
	const char *src;
	size_t i, end, name_at, count;
	bool all_new;
	int len, rc = 0;

	if (kw(lf, 0, "DROP") && kw(lf, 1, "TABLE")) {
		i = skip_if_exists(lf, 2);
		if (parse_name_list(lf, i, &end, &all_new, &count) < 0)
			return CAIRN_ERROR;
		if (all_new)
			return 0;
		source_of(lf, i, end, &src, &len);
		return report(lf, R_DESTRUCTIVE, lf->line,
			      count > 1 ? "DROP TABLE %.*s deletes the tables "
					  "and their data"
					: "DROP TABLE %.*s deletes the table "
					  "and its data",
			      len, src);
	}
	if (kw(lf, 0, "DROP") &&
	    (kw(lf, 1, "SCHEMA") || kw(lf, 1, "DATABASE"))) {
		bool schema = kw(lf, 1, "SCHEMA");

		i = skip_if_exists(lf, 2);
		end = i;
		while (end < lf->tk.count && !kw(lf, end, "CASCADE") &&
		       !kw(lf, end, "RESTRICT") && !kw(lf, end, "WITH") &&
		       !op(lf, end, "("))
			end++;
		source_of(lf, i, end, &src, &len);
		return report(lf, R_DESTRUCTIVE, lf->line,
			      schema ? "DROP SCHEMA %.*s deletes the schema "
				       "and everything in it"
				     : "DROP DATABASE %.*s deletes the whole "
				       "database",
			      len, src);
	}
	if (kw(lf, 0, "TRUNCATE")) {
		i = kw(lf, 1, "TABLE") ? 2 : 1;
		if (parse_name_list(lf, i, &end, &all_new, &count) < 0)
			return CAIRN_ERROR;
		if (all_new)
			return 0;
		source_of(lf, i, end, &src, &len);
		return report(lf, R_DESTRUCTIVE, lf->line,
			      "TRUNCATE %.*s deletes every row", len, src);
	}
	{
		relname table = { NULL, NULL };
		size_t a = alter_table(lf, &table, &name_at);
		const char *tsrc;
		int tlen;

		if (!a) {
			relname_dispose(&table);
			return 0;
		}
		if (!table.name) {
			relname_dispose(&table);
			return cairn_error__oom();
		}
		if (created_here(lf, &table)) {
			relname_dispose(&table);
			return 0;
		}
		relname_dispose(&table);
		source_of(lf, name_at, parse_name(lf, name_at, NULL), &tsrc,
			  &tlen);
		for (i = a; i < lf->tk.count && rc == 0; i++) {
			size_t col;

			end = action_end(lf, i);
			/* DROP [COLUMN] [IF EXISTS] col; not DROP CONSTRAINT */
			if (kw(lf, i, "DROP") && !kw(lf, i + 1, "CONSTRAINT")) {
				col = i + 1;
				if (kw(lf, col, "COLUMN"))
					col++;
				col = skip_if_exists(lf, col);
				source_of(lf, col, col + 1, &src, &len);
				rc = report(lf, R_DESTRUCTIVE, lf->line,
					    "ALTER TABLE %.*s DROP COLUMN %.*s "
					    "deletes the column and its data",
					    tlen, tsrc, len, src);
			}
			i = end;
		}
	}
	return rc;
}

static int check_index(lint_file *lf)
{
	relname table = { NULL, NULL };
	const char *src;
	size_t i, j;
	int len, rc = 0;

	if (!kw(lf, 0, "CREATE"))
		return 0;
	i = kw(lf, 1, "UNIQUE") ? 2 : 1;
	if (!kw(lf, i, "INDEX") || kw(lf, i + 1, "CONCURRENTLY"))
		return 0;
	i = skip_if_exists(lf, i + 1);
	if (!kw(lf, i, "ON"))
		i = parse_name(lf, i, NULL); /* the index's name */
	if (!kw(lf, i, "ON"))
		return 0;
	i++;
	if (kw(lf, i, "ONLY"))
		i++;
	j = parse_name(lf, i, &table);
	if (j == i)
		return 0;
	if (!table.name)
		return cairn_error__oom();
	if (!created_here(lf, &table)) {
		source_of(lf, i, j, &src, &len);
		rc = report(lf, R_INDEX, lf->line,
			    "CREATE INDEX on %.*s without CONCURRENTLY blocks "
			    "writes to the table while the index is built",
			    len, src);
	}
	relname_dispose(&table);
	return rc;
}

static bool serial_type(const lint_file *lf, size_t i)
{
	static const char *const serials[] = {
		"SERIAL", "BIGSERIAL", "SMALLSERIAL",
		"SERIAL2", "SERIAL4", "SERIAL8",
	};

	for (size_t k = 0; k < CAIRN_ARRAY_SIZE(serials); k++)
		if (kw(lf, i, serials[k]))
			return true;
	return false;
}

static int check_not_null(lint_file *lf)
{
	static const char *const constraints[] = {
		"CONSTRAINT", "PRIMARY", "UNIQUE",
		"FOREIGN", "CHECK", "EXCLUDE",
	};
	relname table = { NULL, NULL };
	size_t a, i, name_at, end;
	const char *tsrc;
	int tlen, rc = 0;

	a = alter_table(lf, &table, &name_at);
	if (!a || !table.name || created_here(lf, &table)) {
		bool oom = a && !table.name;

		relname_dispose(&table);
		return oom ? cairn_error__oom() : 0;
	}
	relname_dispose(&table);
	source_of(lf, name_at, parse_name(lf, name_at, NULL), &tsrc, &tlen);
	for (i = a; i < lf->tk.count && rc == 0; i = end) {
		bool not_null = false, has_default = false, skip = false;
		size_t col, k;

		end = action_end(lf, i);
		if (end < lf->tk.count)
			end++; /* past the comma */
		if (!kw(lf, i, "ADD"))
			continue;
		col = i + 1;
		for (k = 0; k < CAIRN_ARRAY_SIZE(constraints); k++)
			if (kw(lf, col, constraints[k]))
				skip = true;
		if (skip)
			continue;
		if (kw(lf, col, "COLUMN"))
			col++;
		col = skip_if_exists(lf, col);
		if (!is_name(lf, col))
			continue;
		if (serial_type(lf, col + 1))
			continue;
		for (k = col + 1; k < end; k++) {
			if (op(lf, k, "(") || op(lf, k, "[")) {
				k = skip_parens(lf, k) - 1;
				continue;
			}
			if (kw(lf, k, "NOT") && kw(lf, k + 1, "NULL"))
				not_null = true;
			else if (kw(lf, k, "DEFAULT") || kw(lf, k, "GENERATED"))
				has_default = true;
		}
		if (not_null && !has_default) {
			const char *src;
			int len;

			source_of(lf, col, col + 1, &src, &len);
			rc = report(lf, R_NOT_NULL, lf->line,
				    "ALTER TABLE %.*s ADD COLUMN %.*s ... NOT "
				    "NULL without a DEFAULT fails when the "
				    "table has rows",
				    tlen, tsrc, len, src);
		}
	}
	return rc;
}

/* Remembers the table a CREATE TABLE or CREATE MATERIALIZED VIEW makes. */
static int record_created(lint_file *lf)
{
	relname r = { NULL, NULL };
	size_t i = 1;

	if (!kw(lf, 0, "CREATE"))
		return 0;
	if (kw(lf, i, "GLOBAL") || kw(lf, i, "LOCAL"))
		i++;
	if (kw(lf, i, "TEMP") || kw(lf, i, "TEMPORARY") ||
	    kw(lf, i, "UNLOGGED"))
		i++;
	if (kw(lf, i, "TABLE"))
		i++;
	else if (kw(lf, i, "MATERIALIZED") && kw(lf, i + 1, "VIEW"))
		i += 2;
	else
		return 0;
	/* IF NOT EXISTS: the table may be an old one, with rows */
	if (skip_if_exists(lf, i) != i)
		return 0;
	if (parse_name(lf, i, &r) == i)
		return 0;
	if (!r.name ||
	    cairn__grow_array((void **)&lf->created, &lf->created_alloc,
			      lf->created_count + 1, sizeof(r)) < 0) {
		relname_dispose(&r);
		return cairn_error__oom();
	}
	lf->created[lf->created_count++] = r;
	return 0;
}

/* --- files and sets ----------------------------------------------------- */

static bool disabled(const cairn_lint_options *opts, const char *name)
{
	if (!opts)
		return false;
	for (size_t i = 0; i < opts->disable_count; i++)
		if (opts->disable[i] && !strcmp(bare(opts->disable[i]), name))
			return true;
	return false;
}

static int lint_statement(lint_file *lf)
{
	if (lf->enabled[R_TX_CONTROL] && check_transaction_control(lf) < 0)
		return CAIRN_ERROR;
	if (lf->enabled[R_NEEDS_NO_TX] && check_needs_no_transaction(lf) < 0)
		return CAIRN_ERROR;
	if (lf->enabled[R_DESTRUCTIVE] && check_destructive(lf) < 0)
		return CAIRN_ERROR;
	if (lf->enabled[R_INDEX] && check_index(lf) < 0)
		return CAIRN_ERROR;
	if (lf->enabled[R_NOT_NULL] && check_not_null(lf) < 0)
		return CAIRN_ERROR;
	return record_created(lf);
}

int cairn_lint_migration(cairn_findings *out, const cairn_migration *m,
			 const cairn_lint_options *opts)
{
	cairn_sql_statements st = CAIRN_SQL_STATEMENTS_INIT;
	const cairn_directives *d;
	lint_file lf;
	size_t i;
	int rc = 0;

	CAIRN__CHECK_VERSION(opts, CAIRN_LINT_OPTIONS_VERSION,
			     "cairn_lint_options");
	if (!m || !m->content_loaded || !m->up_sql)
		return 0;
	/* not text: loading reported it, and its "statements" mean nothing */
	if (memchr(m->up_sql, '\0', m->up_len) ||
	    !cairn__utf8_valid(m->up_sql, m->up_len, &i))
		return 0;
	memset(&lf, 0, sizeof(lf));
	lf.m = m;
	lf.opts = opts;
	lf.out = out;
	d = &m->up_directives;
	for (i = 0; i < R__COUNT; i++)
		lf.enabled[i] = !cairn_directives_allows(d, rules[i].name) &&
				!disabled(opts, rules[i].name);

	if ((rc = cairn_sql_split(&st, m->up_sql, m->up_len)) < 0)
		goto out;
	if (st.unterminated && lf.enabled[R_UNTERMINATED] &&
	    (rc = report(&lf, R_UNTERMINATED, st.unterminated_line,
			 "the file ends inside a %s that starts on line %u",
			 st.unterminated_what, st.unterminated_line)) < 0)
		goto out;
	if (d->no_transaction && st.count > 1 &&
	    lf.enabled[R_NO_TX_MULTIPLE] &&
	    (rc = report(&lf, R_NO_TX_MULTIPLE, st.items[1].line,
			 "the no-transaction migration has %zu statements; "
			 "it may hold only one",
			 st.count)) < 0)
		goto out;
	for (i = 0; i < st.count; i++) {
		const cairn_sql_statement *s = &st.items[i];

		lf.stmt = m->up_sql + s->offset;
		lf.line = s->line;
		rc = cairn_sql_tokenize(&lf.tk, lf.stmt, s->length, s->line);
		if (rc < 0 || (lf.tk.count && (rc = lint_statement(&lf)) < 0))
			goto out;
	}
out:
	for (i = 0; i < lf.created_count; i++)
		relname_dispose(&lf.created[i]);
	free(lf.created);
	cairn_sql_tokens_dispose(&lf.tk);
	cairn_sql_statements_dispose(&st);
	return rc < 0 ? CAIRN_ERROR : 0;
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
	return 0;
}
