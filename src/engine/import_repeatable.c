/*
 * import_repeatable.c - `cairn import flyway` for repeatable migrations:
 * the rows of flyway_schema_history with no version (type SQL) are
 * Flyway's repeatables, each run of one a row of its own.
 *
 * For each script the latest successful run counts.  It is matched to
 * the repeatable of the same file name at the revision (R__<name>.sql;
 * or by Flyway's description, its name with '_' read as ' ').  When the
 * checksum Flyway recorded equals Flyway's checksum of the file
 * (cairn_flyway_checksum), what the database holds is that file: it is
 * recorded in <schema>.repeatables as applied, with Flyway's who and
 * when, and one audit row (event import, outcome imported, detail with
 * repeatable, the checksum, Flyway's checksum).  Otherwise the file
 * changed since Flyway ran it: nothing is recorded, so the next
 * `migrate up` applies it, as Flyway would have.  A script with no file
 * at the revision is left alone.
 *
 * The versioned import (import.c, adopt.c) commits first; these rows
 * follow in a transaction of their own under the deploy lock, with the
 * same run id.  Should that transaction fail, the repeatables simply
 * stay pending: applying one again is what a repeatable is for.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "applied.h"
#include "cairn/schema.h"
#include "repeatable.h"
#include "util/util.h"

int32_t cairn_flyway_checksum(const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	uLong crc = crc32(0L, Z_NULL, 0);
	size_t i = 0, start;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3; /* the byte order mark of the first line */
	while (i < len) {
		start = i;
		while (i < len && p[i] != '\n' && p[i] != '\r')
			i++;
		if (i > start)
			crc = crc32(crc, p + start, (uInt)(i - start));
		while (i < len && (p[i] == '\n' || p[i] == '\r'))
			i++; /* terminators; the empty lines add nothing */
	}
	return (int32_t)(uint32_t)crc;
}

void cairn_imported_repeatables_dispose(cairn_imported_repeatables *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		cairn_imported_repeatable *x = &list->items[i];

		free(x->script);
		free(x->description);
		free(x->installed_by);
		free(x->installed_on);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The repeatable of the set a Flyway script is. */
static cairn_migration *match(cairn_migration_set *set, const char *script,
			      const char *description)
{
	size_t n = cairn_migration_set_repeatable_count(set);

	for (size_t i = 0; i < n; i++) {
		cairn_migration *m = cairn_migration_set_repeatable(set, i);

		if (!strcmp(base_of(m->up_path), base_of(script)))
			return m;
	}
	for (size_t i = 0; description && i < n; i++) {
		cairn_migration *m = cairn_migration_set_repeatable(set, i);
		size_t k = 0;

		for (; m->name[k] && description[k]; k++)
			if (m->name[k] != description[k] &&
			    !(m->name[k] == '_' && description[k] == ' '))
				break;
		if (!m->name[k] && !description[k])
			return m;
	}
	return NULL;
}

static const char *val(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* The entry for script (a later run replaces an earlier one). */
static cairn_imported_repeatable *slot(cairn_imported_repeatables *out,
				       const char *script)
{
	cairn_imported_repeatable *grown;

	for (size_t i = 0; i < out->count; i++)
		if (!strcmp(out->items[i].script, script))
			return &out->items[i];
	grown = realloc(out->items, (out->count + 1) * sizeof(*grown));
	if (!grown) {
		cairn_error__oom();
		return NULL;
	}
	out->items = grown;
	grown = &out->items[out->count++];
	memset(grown, 0, sizeof(*grown));
	grown->script = cairn__strdup(script);
	return grown->script ? grown : NULL;
}

/*
 * Flyway's checksum is a 32-bit int; a history whose column holds
 * something else (a wider number, text) has no checksum that can match.
 */
static bool checksum_of(const char *text, int32_t *out)
{
	char *end;
	long long v;

	if (!text || !*text)
		return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

static int take_row(cairn_imported_repeatables *out, PGresult *res, int i)
{
	const char *script = PQgetvalue(res, i, 0), *sum = val(res, i, 2);
	const char *who = val(res, i, 3), *when = val(res, i, 4);
	cairn_imported_repeatable *x = slot(out, script);

	if (!x)
		return CAIRN_ERROR;
	free(x->description);
	free(x->installed_by);
	free(x->installed_on);
	x->description = cairn__strdup(PQgetvalue(res, i, 1));
	x->installed_by = who ? cairn__strdup(who) : NULL;
	x->installed_on = when ? cairn__strdup(when) : NULL;
	x->flyway_checksum = 0;
	x->has_checksum = checksum_of(sum, &x->flyway_checksum);
	if (!x->description || (who && !x->installed_by) ||
	    (when && !x->installed_on))
		return cairn_error__oom();
	return 0;
}

static int read_history(cairn_imported_repeatables *out, cairn_db *db)
{
	PGresult *res = NULL;
	const char *rel[1] = { "flyway_schema_history" };
	int rc;

	if ((rc = cairn_db__query(db, &res,
				  "SELECT to_regclass($1) IS NOT NULL", 1,
				  rel)) < 0)
		return rc;
	rc = strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	res = NULL;
	if (rc)
		return 0; /* no history: nothing to take over */
	if ((rc = cairn_db__query(db, &res,
		"SELECT script, description, checksum::text, installed_by, "
		"to_char(installed_on AT TIME ZONE 'UTC', "
		"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
		"FROM flyway_schema_history "
		"WHERE version IS NULL AND type = 'SQL' AND success "
		"ORDER BY installed_rank", 0, NULL)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = take_row(out, res, i);
	PQclear(res);
	return rc;
}

int cairn_import_flyway_repeatables(cairn_imported_repeatables *out,
				    cairn_migration_set *set, cairn_db *db)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = read_history(out, db);
	for (size_t i = 0; i < out->count && rc == 0; i++) {
		cairn_imported_repeatable *x = &out->items[i];
		cairn_migration *m = match(set, x->script, x->description);

		if (!m)
			continue;
		if ((rc = cairn_migration_load_content(set, m)) < 0)
			break;
		x->migration = m;
		if (!m->content_ok)
			continue; /* the set's findings say why */
		x->file_checksum = cairn_flyway_checksum(m->up_sql, m->up_len);
		x->applied = x->has_checksum &&
			     x->file_checksum == x->flyway_checksum;
	}
	if (rc < 0)
		cairn_imported_repeatables_dispose(out);
	return rc;
}

/* ---- recording -------------------------------------------------------- */

static char *detail_of(const cairn_imported_repeatable *x)
{
	json_t *j = json_pack("{s:s, s:s, s:i}", "tool", "flyway",
			      "tool_script", x->script, "tool_checksum",
			      (int)x->flyway_checksum);
	char *s;

	if (j && x->installed_by)
		json_object_set_new(j, "installed_by",
				    json_string(x->installed_by));
	if (j && x->installed_on)
		json_object_set_new(j, "installed_on",
				    json_string(x->installed_on));
	s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return s;
}

static int row_sql(run *r, cairn_buf *b, const cairn_imported_repeatable *x)
{
	repeatable_row w;
	char who[300], sum[16];
	char *extra;
	int rc;

	snprintf(who, sizeof(who), "%s (flyway)",
		 x->installed_by ? x->installed_by : "unknown");
	snprintf(sum, sizeof(sum), "%d", (int)x->flyway_checksum);
	memset(&w, 0, sizeof(w));
	w.m = x->migration;
	w.applied_by = who;
	w.applied_at = x->installed_on;
	w.duration_sql = "NULL";
	w.deploy_rev = r->ctx.deploy_rev;
	w.deploy_ref = r->o->deploy_ref;
	w.run_id = r->r->run_id;
	w.imported_checksum = sum;
	repeatable__row_sql(b, r->o->db, &w);
	cairn_buf_puts(b, ";\n");
	if (!(extra = detail_of(x)))
		return cairn_error__oom();
	rc = run__audit_sql(r, b, "import", x->migration, NULL, NULL,
			    "imported", extra, NULL);
	cairn_buf_puts(b, ";\n");
	free(extra);
	return rc;
}

/* Under the lock: the rows of the repeatables that match, one commit. */
static int record(run *r, const cairn_imported_repeatables *list)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int rc = 0;

	cairn_buf_puts(&b, RUN_BEGIN ";\n");
	for (size_t i = 0; i < list->count && rc == 0; i++) {
		const cairn_imported_repeatable *x = &list->items[i];

		if (!x->applied)
			continue;
		if ((rc = cairn_repeatable_provenance(r->o->set, r->o->repo,
						      x->migration)) == 0)
			rc = row_sql(r, &b, x);
	}
	rc = run__commit_batch(r, &b, rc);
	cairn_buf_dispose(&b);
	return rc;
}

static bool any_applied(const cairn_imported_repeatables *list)
{
	for (size_t i = 0; i < list->count; i++)
		if (list->items[i].applied)
			return true;
	return false;
}

int import__flyway_repeatables(const cairn_adopt_result *done,
			       const cairn_run_options *o)
{
	cairn_imported_repeatables list;
	cairn_run_options quiet = *o;
	cairn_run_result res;
	run r;
	int rc;

	if (o->dry_run || !o->db)
		return 0;
	quiet.pipeline = NULL; /* nothing runs: no hooks fire */
	if ((rc = run__init(&r, &quiet, &res, "import")) < 0)
		goto out_run;
	memcpy(res.run_id, done->run_id, sizeof(res.run_id));
	if ((rc = cairn_lock_acquire(o->db, o->lock_timeout_ms, o->lock_wait,
				     o->payload, o->cancel)) < 0)
		goto out_run;
	r.locked = true;
	if ((rc = cairn_schema_ensure(o->db)) == 0 &&
	    (rc = cairn_import_flyway_repeatables(&list, o->set, o->db)) == 0) {
		if (any_applied(&list))
			rc = record(&r, &list);
		cairn_imported_repeatables_dispose(&list);
	}
	if (cairn_db_is_ok(o->db)) {
		cairn_error_saved s;

		cairn_error__save(&s);
		cairn_lock_release(o->db);
		cairn_error__restore(&s);
	}
	r.locked = false;
out_run:
	run__dispose(&r);
	cairn_run_result_dispose(&res);
	return rc;
}
