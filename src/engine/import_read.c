/*
 * import_read.c - reading other tools' history tables, as those tools
 * write them, for `cairn import` (import.c matches what is read here to
 * the migrations at the revision).  Nothing here writes.
 *
 *   golang-migrate  schema_migrations(version bigint, dirty boolean): one
 *                   row, the version reached; dirty refuses.
 *   dbmate          schema_migrations(version varchar): one row per
 *                   applied migration, no who or when.
 *   Flyway          flyway_schema_history: one row per run of a script
 *                   (installed_rank order); failed rows (success false)
 *                   refuse; a BASELINE row covers the versions at or
 *                   below it; undo rows (and rows a repair marked
 *                   DELETE) cancel the version's earlier row; repeatable
 *                   scripts (no version) are import_repeatable.c's;
 *                   dotted versions (1.2.3) match the flyway layout's
 *                   V1.2.3__ files.
 *   Sqitch          sqitch.changes: the changes deployed now (a revert
 *                   deletes the row), named, with committer and time;
 *                   one project only.
 *
 * The tables are found the way the tools find them: unqualified names
 * through the search path, Sqitch's in its `sqitch` schema.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adopt.h"
#include "util/util.h"

#define ISO_UTC(col) \
	"to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Does the relation exist (through the search path)? */
static int relation_exists(bool *out, cairn_db *db, const char *name)
{
	const char *params[1] = { name };
	PGresult *res = NULL;

	if (cairn_db__query(db, &res, "SELECT to_regclass($1) IS NOT NULL", 1,
			    params) < 0)
		return CAIRN_ERROR;
	*out = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	return 0;
}

static int has_column(bool *out, cairn_db *db, const char *rel,
		      const char *column)
{
	const char *params[2] = { rel, column };
	PGresult *res = NULL;

	if (cairn_db__query(db, &res,
			    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute "
			    "WHERE attrelid = to_regclass($1) AND attname = $2 "
			    "AND NOT attisdropped AND attnum > 0)", 2, params) < 0)
		return CAIRN_ERROR;
	*out = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	return 0;
}

/* Refuses when the table is absent; *found says whether to go on. */
static int need_table(bool *found, cairn_db *db, const char *rel,
		      const char *tool, cairn_adopt_result *out)
{
	char hint[300];

	if (relation_exists(found, db, rel) < 0)
		return CAIRN_ERROR;
	if (*found)
		return 0;
	snprintf(hint, sizeof(hint),
		 "connect to the database %s manages (--db, --env), or check that its schema is on the search path",
		 tool);
	return adopt__refuse(out, "no-history", NULL, hint,
			     "there is no %s table: this database has no %s history",
			     rel, tool);
}

static const char *val(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int adopt__read_golang_migrate(adopt_history *h, cairn_db *db,
			       cairn_adopt_result *out)
{
	PGresult *res = NULL;
	bool found, dirty_col;
	int rc;

	if ((rc = need_table(&found, db, "schema_migrations", "golang-migrate",
			     out)) < 0 || !found)
		return rc;
	if (has_column(&dirty_col, db, "schema_migrations", "dirty") < 0)
		return CAIRN_ERROR;
	if (!dirty_col)
		return adopt__refuse(out, "wrong-tool", NULL,
				     "a schema_migrations table without 'dirty' is dbmate's: run 'cairn import dbmate'",
				     "schema_migrations has no 'dirty' column: golang-migrate did not make it");
	if (cairn_db__query(db, &res,
			    "SELECT version::text, dirty FROM schema_migrations "
			    "ORDER BY version DESC", 0, NULL) < 0)
		return CAIRN_ERROR;
	if (PQntuples(res) > 1) {
		rc = adopt__refuse(out, "bad-history", NULL, NULL,
				   "schema_migrations holds %d rows; golang-migrate keeps exactly one",
				   PQntuples(res));
	} else if (PQntuples(res) == 1) {
		const char *v = PQgetvalue(res, 0, 0);

		if (!strcmp(PQgetvalue(res, 0, 1), "t")) {
			char hint[200];

			snprintf(hint, sizeof(hint),
				 "check what version %s left behind, repair the database by hand, then 'migrate force' the version that is really applied and import again",
				 v);
			rc = adopt__refuse(out, "dirty", NULL, hint,
					   "golang-migrate's version %s is dirty: a migration failed halfway",
					   v);
		} else if (v[0] != '-') {  /* -1: nothing applied */
			h->upto = adopt__version(v);
			h->upto_key = cairn__strdup(v);
			h->upto_listed = true;
			if (!h->upto || !h->upto_key)
				rc = h->upto ? CAIRN_ERROR :
				     adopt__refuse(out, "bad-version", NULL, NULL,
						   "golang-migrate's version '%s' is not a cairn version",
						   v);
		}
	}
	PQclear(res);
	return rc;
}

int adopt__read_dbmate(adopt_history *h, cairn_db *db, cairn_adopt_result *out)
{
	PGresult *res = NULL;
	bool found, dirty_col;
	int rc;

	if ((rc = need_table(&found, db, "schema_migrations", "dbmate", out)) < 0 ||
	    !found)
		return rc;
	if (has_column(&dirty_col, db, "schema_migrations", "dirty") < 0)
		return CAIRN_ERROR;
	if (dirty_col)
		return adopt__refuse(out, "wrong-tool", NULL,
				     "run 'cairn import golang-migrate'",
				     "schema_migrations has a 'dirty' column: golang-migrate made it, not dbmate");
	if (cairn_db__query(db, &res,
			    "SELECT version::text FROM schema_migrations "
			    "ORDER BY version", 0, NULL) < 0)
		return CAIRN_ERROR;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		const char *v = PQgetvalue(res, i, 0);
		char *norm = adopt__version(v);

		if (!norm)
			rc = adopt__refuse(out, "bad-version", NULL, NULL,
					   "dbmate's version '%s' is not a cairn version (1 to 20 digits)",
					   v);
		else
			rc = adopt__record(h, v, NULL, NULL);
		free(norm);
	}
	PQclear(res);
	return rc;
}

/* Drops the record of key (an undo or a deleted row cancels it). */
static void forget(adopt_history *h, const char *key)
{
	char *v = adopt__version(key);

	for (size_t i = 0; v && i < h->count; i++) {
		char *w = adopt__version(h->items[i].key);
		bool same = w && !strcmp(v, w);

		free(w);
		if (!same)
			continue;
		free(h->items[i].key);
		free(h->items[i].who);
		free(h->items[i].when);
		h->items[i] = h->items[--h->count];
		break;
	}
	free(v);
}

/* One row of flyway_schema_history (columns as selected below). */
static int flyway_row(adopt_history *h, PGresult *res, int i,
		      cairn_adopt_result *out)
{
	const char *version = val(res, i, 1), *type = PQgetvalue(res, i, 2);
	const char *script = PQgetvalue(res, i, 3), *who = val(res, i, 4);
	const char *when = val(res, i, 5);
	bool success = !strcmp(PQgetvalue(res, i, 6), "t");
	char *v;

	if (!strcmp(type, "SCHEMA"))
		return 0;
	if (!success)
		return adopt__refuse(out, "failed", NULL,
				     "repair the database and Flyway's history (flyway repair) first",
				     "Flyway's history records a failed run of '%s' (version %s)",
				     script, version ? version : "none");
	if (!version)
		return 0; /* a repeatable: import_repeatable.c */
	v = adopt__version(version);
	if (!v)
		return adopt__refuse(out, "needs-layout", NULL,
				     "cairn reads versions made of numbers joined by '.' (1.2.3) or '_' (1_2_3)",
				     "Flyway version '%s' (%s) is not one cairn can read",
				     version, script);
	if (!strcmp(type, "BASELINE")) {
		free(h->upto);
		free(h->upto_key);
		h->upto = v;
		h->upto_key = cairn__strdup(version);
		h->upto_listed = false;
		return h->upto_key ? 0 : cairn_error__oom();
	}
	free(v);
	if (!strncmp(type, "UNDO_", 5) || !strcmp(type, "DELETE")) {
		forget(h, version);
		return 0;
	}
	return adopt__record(h, version, who, when);
}

int adopt__read_flyway(adopt_history *h, cairn_db *db, cairn_adopt_result *out)
{
	PGresult *res = NULL;
	bool found;
	int rc;

	if ((rc = need_table(&found, db, "flyway_schema_history", "Flyway",
			     out)) < 0 || !found)
		return rc;
	if (cairn_db__query(db, &res,
			    "SELECT installed_rank, version, type, script, "
			    "installed_by, " ISO_UTC("installed_on::timestamptz")
			    ", success FROM flyway_schema_history "
			    "ORDER BY installed_rank", 0, NULL) < 0)
		return CAIRN_ERROR;
	for (int i = 0; i < PQntuples(res) && rc >= 0; i++)
		rc = flyway_row(h, res, i, out);
	PQclear(res);
	return rc;
}

int adopt__read_sqitch(adopt_history *h, cairn_db *db, cairn_adopt_result *out)
{
	PGresult *res = NULL;
	bool found;
	int rc;

	if ((rc = need_table(&found, db, "sqitch.changes", "Sqitch", out)) < 0 ||
	    !found)
		return rc;
	h->by_name = true;
	if (cairn_db__query(db, &res,
			    "SELECT string_agg(DISTINCT project, ', '), "
			    "count(DISTINCT project) FROM sqitch.changes", 0,
			    NULL) < 0)
		return CAIRN_ERROR;
	if (strtol(PQgetvalue(res, 0, 1), NULL, 10) > 1)
		rc = adopt__refuse(out, "projects", NULL,
				   "import one Sqitch project per database",
				   "sqitch.changes holds several projects (%s)",
				   PQgetvalue(res, 0, 0));
	PQclear(res);
	if (rc)
		return rc;
	if (cairn_db__query(db, &res,
			    "SELECT change, committer_name || ' <' || "
			    "committer_email || '>', " ISO_UTC("committed_at")
			    " FROM sqitch.changes ORDER BY committed_at, change_id",
			    0, NULL) < 0)
		return CAIRN_ERROR;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = adopt__record(h, PQgetvalue(res, i, 0), val(res, i, 1),
				   val(res, i, 2));
	PQclear(res);
	return rc;
}
