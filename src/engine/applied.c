/*
 * applied.c - reading the tracking table and joining it with a migration
 * set (status).
 *
 * The rows are read with one query and kept in the libpq result: the
 * list's strings point into it, so 10,000 rows cost one array.  The
 * versions are text (schema version 3: dotted and per-directory
 * versions), whose order is not cairn's ("10" < "9"), so the list is
 * sorted here with cairn_version_compare, not by the server.  Reading
 * never writes: where cairn's tables do not exist the list is empty (a
 * run that writes creates them first, with cairn_schema_ensure()).  The join
 * is a merge of two sorted lists; drift is decided on git blob ids and
 * only when those differ is the file read and its SHA-256 compared.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/engine.h"
#include "cairn/schema.h"
#include "db.h"
#include "util/error.h"
#include "applied.h"
#include "util/util.h"

static int applied_cmp(const void *a, const void *b)
{
	return cairn__version_cmp(((const cairn_applied *)a)->version,
				  ((const cairn_applied *)b)->version);
}

/* Rows usually come back in insertion order, which is version order. */
static bool in_order(const cairn_applied_list *l)
{
	for (size_t i = 1; i < l->count; i++)
		if (applied_cmp(&l->items[i - 1], &l->items[i]) > 0)
			return false;
	return true;
}

/*
 * brief: only what deciding a run needs (version, name, checksum, blob,
 * status, error): a no-op `migrate up` over 10,000 applied migrations
 * then moves a fifth of the bytes and formats no timestamps.
 */
static int load(cairn_applied_list *out, cairn_db *db, bool brief,
		bool probe)
{
	cairn_buf sql = CAIRN_BUF_INIT;
	PGresult *res = NULL;
	bool exists;
	int n, rc = CAIRN_ERROR;

	memset(out, 0, sizeof(*out));
	exists = !probe;
	if (probe && cairn_schema_exists(&exists, db) < 0)
		return CAIRN_ERROR;
	if (!exists) {
		/* nothing applied yet: an empty history */
		out->items = cairn__calloc(1, sizeof(*out->items));
		return out->items ? 0 : CAIRN_ERROR;
	}
	if (brief)
		rc = cairn_buf_printf(&sql,
			"SELECT version::text, name, checksum, coalesce(up_blob, ''), "
			"status, coalesce(error, '') "
			"FROM %s.migrations m",
			cairn_db__schema_ident(db));
	else
		rc = cairn_buf_printf(&sql,
			"SELECT version::text, name, checksum, coalesce(up_blob, ''), "
			"status, coalesce(error, ''), "
			"coalesce(down_blob, ''), no_transaction, "
			"coalesce(commit_sha, ''), coalesce(author_name, ''), "
			"coalesce(author_email, ''), "
			"to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
			"coalesce(applied_by, ''), coalesce(deploy_rev, ''), "
			"coalesce(duration_ms, 0) "
			"FROM %s.migrations m",
			cairn_db__schema_ident(db));
	if (rc < 0)
		goto out;
	rc = CAIRN_ERROR;
	if (cairn_db__query(db, &res, sql.ptr, 0, NULL) < 0)
		goto out;
	n = PQntuples(res);
	out->items = cairn__calloc((size_t)n + 1, sizeof(*out->items));
	if (!out->items)
		goto out;
	for (int i = 0; i < n; i++) {
		cairn_applied *a = &out->items[i];

		a->version = PQgetvalue(res, i, 0);
		a->name = PQgetvalue(res, i, 1);
		a->checksum = PQgetvalue(res, i, 2);
		a->up_blob = PQgetvalue(res, i, 3);
		a->status = PQgetvalue(res, i, 4);
		a->error = PQgetvalue(res, i, 5);
		if (brief) {
			a->down_blob = a->commit_sha = a->author_name = "";
			a->author_email = a->applied_at = a->applied_by = "";
			a->deploy_rev = "";
			continue;
		}
		a->down_blob = PQgetvalue(res, i, 6);
		a->no_transaction = PQgetvalue(res, i, 7)[0] == 't';
		a->commit_sha = PQgetvalue(res, i, 8);
		a->author_name = PQgetvalue(res, i, 9);
		a->author_email = PQgetvalue(res, i, 10);
		a->applied_at = PQgetvalue(res, i, 11);
		a->applied_by = PQgetvalue(res, i, 12);
		a->deploy_rev = PQgetvalue(res, i, 13);
		a->duration_ms = strtoll(PQgetvalue(res, i, 14), NULL, 10);
	}
	out->count = (size_t)n;
	if (!in_order(out))
		qsort(out->items, out->count, sizeof(*out->items),
		      applied_cmp);
	out->result_ = res;
	res = NULL;
	rc = 0;
out:
	PQclear(res);
	cairn_buf_dispose(&sql);
	return rc;
}

int cairn_applied_load(cairn_applied_list *out, cairn_db *db)
{
	return load(out, db, false, true);
}

int cairn_applied_load_brief(cairn_applied_list *out, cairn_db *db)
{
	return load(out, db, true, true);
}

int cairn_applied__load_brief_known(cairn_applied_list *out, cairn_db *db)
{
	return load(out, db, true, false);
}

void cairn_applied_list_dispose(cairn_applied_list *list)
{
	free(list->items);
	if (list->result_)
		PQclear(list->result_);
	memset(list, 0, sizeof(*list));
}

const cairn_applied *cairn_applied_find(const cairn_applied_list *list,
					const char *version)
{
	size_t lo = 0, hi = list->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cairn__version_cmp(list->items[mid].version, version);

		if (!c)
			return &list->items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *cairn_state_name(cairn_state state)
{
	static const char *const names[] = {
		"applied", "pending", "drifted", "missing", "failed", "running",
	};

	if ((unsigned)state < CAIRN_ARRAY_SIZE(names))
		return names[state];
	return "unknown";
}

static int drifted(bool *out, cairn_migration_set *set, cairn_migration *m,
		   const cairn_applied *a)
{
	*out = false;
	if (m->up_blob[0] && a->up_blob[0] && !strcmp(m->up_blob, a->up_blob))
		return 0;
	if (cairn_migration_load_content(set, m) < 0)
		return CAIRN_ERROR;
	if (!m->content_loaded || !m->checksum[0])
		return 0;
	*out = strcmp(m->checksum, a->checksum) != 0;
	return 0;
}

int cairn_status_compute(cairn_status_entry **out, size_t *count,
			 cairn_migration_set *set,
			 const cairn_applied_list *applied)
{
	size_t ns = cairn_migration_set_count(set), na = applied->count;
	size_t i = 0, j = 0, n = 0;
	const char *max_applied = NULL;
	cairn_status_entry *e;

	*out = NULL;
	*count = 0;
	e = cairn__calloc(ns + na + 1, sizeof(*e));
	if (!e)
		return CAIRN_ERROR;
	for (size_t k = 0; k < na; k++)
		if (!max_applied || cairn__version_cmp(applied->items[k].version, max_applied) > 0)
			max_applied = applied->items[k].version;
	while (i < ns || j < na) {
		cairn_migration *m = i < ns ? cairn_migration_set_get(set, i) : NULL;
		const cairn_applied *a = j < na ? &applied->items[j] : NULL;
		int c = !m ? 1 : !a ? -1 : cairn__version_cmp(m->version, a->version);

		if (c < 0) {
			e[n].migration = m;
			e[n].state = CAIRN_STATE_PENDING;
			e[n].out_of_order = max_applied &&
				cairn__version_cmp(m->version, max_applied) < 0;
			i++;
		} else if (c > 0) {
			e[n].applied = a;
			e[n].state = !strcmp(a->status, "failed") ? CAIRN_STATE_FAILED :
				     !strcmp(a->status, "running") ? CAIRN_STATE_RUNNING :
				     CAIRN_STATE_MISSING;
			j++;
		} else {
			bool d = false;

			e[n].migration = m;
			e[n].applied = a;
			if (!strcmp(a->status, "failed")) {
				e[n].state = CAIRN_STATE_FAILED;
			} else if (!strcmp(a->status, "running")) {
				e[n].state = CAIRN_STATE_RUNNING;
			} else {
				if (drifted(&d, set, m, a) < 0) {
					free(e);
					return CAIRN_ERROR;
				}
				e[n].state = d ? CAIRN_STATE_DRIFTED : CAIRN_STATE_APPLIED;
			}
			i++;
			j++;
		}
		n++;
	}
	*out = e;
	*count = n;
	return 0;
}
