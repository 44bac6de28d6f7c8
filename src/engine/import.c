/*
 * import.c - `cairn import TOOL`: take over a database another tool
 * built, from that tool's own history table (read by import_read.c).
 *
 * The history is matched to the migrations at the revision:
 *
 *   - by version for golang-migrate, dbmate and Flyway (their versions
 *     read as cairn's: numbers, dotted for Flyway's 1.2.3, leading zeros
 *     and trailing .0 parts ignored as Flyway does), by change name
 *     for Sqitch (which has no versions: the change `users` is the
 *     migration `<version>_users`);
 *   - golang-migrate keeps one row, the version reached: every migration
 *     at or below it is applied; a Flyway baseline marker means the
 *     same for the migrations at or below its version;
 *   - refused, listing them, when the history names migrations the
 *     repository lacks, or when the repository has migrations below the
 *     last one applied that the history skipped (a gap: cairn would
 *     otherwise either never apply them or apply them out of order).
 *
 * Migrations above the history are left pending for `migrate up`.
 */
#include <stdlib.h>
#include <string.h>

#include "adopt.h"
#include "repeatable.h"
#include "util/util.h"

static const struct {
	const char *name;
	adopt_reader read;
} tools[] = {
	{ "golang-migrate", adopt__read_golang_migrate },
	{ "dbmate", adopt__read_dbmate },
	{ "flyway", adopt__read_flyway },
	{ "sqitch", adopt__read_sqitch },
};

const char *const *cairn_import_tools(void)
{
	static const char *const names[] = {
		"golang-migrate", "dbmate", "flyway", "sqitch", NULL,
	};

	return names;
}

char *adopt__version(const char *text)
{
	if (!cairn__version_valid(text))
		return NULL;
	return cairn__version_normalize(text, strlen(text));
}

int adopt__record(adopt_history *h, const char *key, const char *who,
		  const char *when)
{
	adopt_record *rec;

	if (h->count == h->alloc) {
		size_t na = h->alloc ? h->alloc * 2 : 64;
		adopt_record *grown = realloc(h->items, na * sizeof(*grown));

		if (!grown)
			return cairn_error__oom();
		h->items = grown;
		h->alloc = na;
	}
	rec = &h->items[h->count];
	rec->key = cairn__strdup(key);
	rec->who = who ? cairn__strdup(who) : NULL;
	rec->when = when ? cairn__strdup(when) : NULL;
	h->count++;
	if (!rec->key || (who && !rec->who) || (when && !rec->when))
		return cairn_error__oom();
	return 0;
}

void adopt__history_dispose(adopt_history *h)
{
	for (size_t i = 0; i < h->count; i++) {
		free(h->items[i].key);
		free(h->items[i].who);
		free(h->items[i].when);
	}
	free(h->items);
	free(h->upto);
	free(h->upto_key);
	memset(h, 0, sizeof(*h));
}

/* The migration a record names, or NULL. */
static cairn_migration *find(const cairn_migration_set *set,
			     const adopt_history *h, const adopt_record *rec,
			     bool *ambiguous)
{
	cairn_migration *found = NULL;
	size_t n = cairn_migration_set_count(set);
	char *v;

	*ambiguous = false;
	if (!h->by_name) {
		v = adopt__version(rec->key);
		found = v ? cairn_migration_set_find(set, v) : NULL;
		free(v);
		return found;
	}
	for (size_t i = 0; i < n; i++) {
		cairn_migration *m = cairn_migration_set_get(set, i);

		if (strcmp(m->name, rec->key))
			continue;
		if (found)
			*ambiguous = true;
		found = m;
	}
	return found;
}

/*
 * Which migration each record is (in *of, indexed like the set), or
 * findings for records the repository lacks.
 */
static int match(const cairn_migration_set *set, const adopt_history *h,
		 const adopt_record **of, cairn_adopt_result *out)
{
	size_t n = cairn_migration_set_count(set);
	int rc = 0;

	for (size_t k = 0; k < h->count && rc == 0; k++) {
		const adopt_record *rec = &h->items[k];
		bool ambiguous;
		cairn_migration *m = find(set, h, rec, &ambiguous);

		if (ambiguous) {
			rc = adopt__refuse(out, "ambiguous", NULL,
					   "give the migrations distinct names",
					   "the history's change '%s' matches more than one migration at this revision",
					   rec->key);
			continue;
		}
		if (!m) {
			rc = adopt__refuse(out, "not-in-repository", NULL,
					   "check out the revision that has every migration the database ran (--rev)",
					   "the history names %s '%s', which this revision lacks",
					   h->by_name ? "change" : "version", rec->key);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (cairn_migration_set_get(set, i) != m)
				continue;
			if (of[i])
				rc = adopt__refuse(out, "duplicate", m->version, NULL,
						   "the history names migration %s_%s twice",
						   m->version_text, m->name);
			of[i] = rec;
		}
	}
	return rc;
}

/*
 * Index just past the last migration the history covers (0: none), and
 * findings for the gaps below it.
 */
static int plan_entries(const cairn_migration_set *set, const adopt_history *h,
			const adopt_record **of, cairn_adopt_result *out)
{
	size_t n = cairn_migration_set_count(set), last = 0;

	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = cairn_migration_set_get(set, i);

		if (of[i] || (h->upto && cairn__version_cmp(m->version, h->upto) <= 0))
			last = i + 1;
	}
	for (size_t i = 0; i < last; i++) {
		const cairn_migration *m = cairn_migration_set_get(set, i);
		const adopt_record *rec = of[i];
		bool implied = h->upto && cairn__version_cmp(m->version, h->upto) <= 0;
		int rc;

		if (!rec && !implied) {
			rc = adopt__refuse(out, "gap", m->version,
					   "apply it with the other tool first, or take it out of the repository if it was never meant to run",
					   "migration %s_%s is below the last migration the history applied, but the history skipped it",
					   m->version_text, m->name);
		} else {
			rc = adopt__add(out, m->version, m->name,
					rec ? rec->key : NULL,
					rec ? rec->who : NULL,
					rec ? rec->when : NULL);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int plan(run *r, const cairn_adopt_options *a, cairn_adopt_result *out)
{
	const cairn_migration_set *set = r->o->set;
	adopt_history h;
	const adopt_record **of = NULL;
	adopt_reader read = NULL;
	int rc;

	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (!strcmp(tools[i].name, a->tool))
			read = tools[i].read;
	if (!read)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"cairn cannot import from '%s'", a->tool);
	if ((rc = read(&h, r->o->db, out)) < 0 || out->findings.count)
		goto out;
	if (h.upto && h.upto_listed && !cairn_migration_set_find(set, h.upto)) {
		rc = adopt__refuse(out, "not-in-repository", h.upto,
				   "check out the revision that has every migration the database ran (--rev)",
				   "the history names version %s, which this revision lacks",
				   h.upto_key ? h.upto_key : h.upto);
		goto out;
	}
	of = cairn__calloc(cairn_migration_set_count(set) + 1, sizeof(*of));
	if (!of) {
		rc = CAIRN_ERROR;
		goto out;
	}
	if ((rc = match(set, &h, of, out)) < 0 || out->findings.count)
		goto out;
	rc = plan_entries(set, &h, of, out);
out:
	free(of);
	adopt__history_dispose(&h);
	return rc;
}

int cairn_import(cairn_adopt_result *out, const cairn_run_options *o,
		 const cairn_adopt_options *a)
{
	if (!a || !a->tool)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"import needs the name of a tool");
	if (adopt__run(out, o, a, "import", "imported", plan) < 0)
		return CAIRN_ERROR;
	/* Flyway's repeatables (import_repeatable.c) */
	return strcmp(a->tool, "flyway") ? 0 : import__flyway_repeatables(out, o);
}
