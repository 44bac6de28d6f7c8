/*
 * provenance_result.c - the answers of a provenance computation: commit
 * records, and migrations filled from the walk or from a cache entry;
 * see src/provenance_walk.h.
 *
 * Commit records (author, time, summary) are read from the commit
 * objects (src/repo.c decodes them), once per commit, and kept in struct
 * infos, so a commit named by many migrations is read once; a cache
 * entry only names commits.  cairn_prov__use_cache() fills the
 * migrations from the entry of the start commit;
 * cairn_prov__fill_from_ancestor() gives the tracks a limited walk left
 * open the answer of an ancestor's entry; both first check each claim
 * they use against the object database (verify_claim);
 * cairn_prov__write_cache() stores a complete answer through
 * src/provenance_cache.c; cairn_prov__fill_from_track() turns a track
 * into a migration's provenance.
 */
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "migration_internal.h"
#include "provenance_walk.h"
#include "repo_internal.h"
#include "util/util.h"

/* The commit info of id, looked up once per call. */
static int info_get(const cairn_commit_info **out, struct infos *in,
		    struct walk *w, const git_oid *id)
{
	cairn_git_obj *c = NULL;
	uint32_t i;
	int rc;

	if (cairn_oidmap__get(&in->index, id, &i)) {
		*out = &in->items[i];
		return 0;
	}
	rc = cairn_git__odb_read_type(&c, w->odb, id, GIT_OBJECT_COMMIT);
	if (rc == 0)
		rc = cairn__grow_array((void **)&in->items, &in->alloc,
				       in->count + 1, sizeof(*in->items));
	if (rc == 0)
		rc = cairn_repo__commit_info_raw(&in->items[in->count], id,
						 c->data, c->len);
	cairn_git__obj_free(c);
	if (rc < 0)
		return rc;
	rc = cairn_oidmap__put(&in->index, id, (uint32_t)in->count);
	if (rc < 0) {
		cairn_commit_info_dispose(&in->items[in->count]);
		return rc;
	}
	*out = &in->items[in->count++];
	return 0;
}

void cairn_prov__infos_dispose(struct infos *in)
{
	size_t i;

	for (i = 0; i < in->count; i++)
		cairn_commit_info_dispose(&in->items[i]);
	free(in->items);
	cairn_oidmap__dispose(&in->index);
}

static int set_info(cairn_commit_info *dst, const cairn_commit_info *src)
{
	cairn_commit_info tmp;

	if (cairn_commit_info_copy(&tmp, src) < 0)
		return CAIRN_ERROR;
	cairn_commit_info_dispose(dst);
	*dst = tmp;
	return 0;
}

/*
 * Checks an entry's claim against the object database: intro has path
 * and none of its parents has it (it introduced the file), and changed
 * has path with a blob that every parent has not (it changed the file).
 * *ok is false when a claim does not hold; the entry is then not used
 * for this file.  Object lookups only, no diff: a cache entry may make
 * an answer faster, never different.
 */
static int verify_claim(bool *ok, struct walk *w, const char *intro_path,
			const char *path, const git_oid *intro,
			const git_oid *changed)
{
	const git_oid *claim[2] = { intro, changed };
	const char *at[2] = { intro_path, path };
	int k, rc;

	*ok = false;
	for (k = 0; k < 2; k++) {
		git_oid blob, pblob;
		uint32_t c, i, n;

		if (k == 1 && git_oid_equal(intro, changed))
			break;
		rc = cairn_git__graph_node(&c, &w->g, claim[k]);
		if (rc == 0)
			rc = cairn_prov__blob_at(&blob, w, c, at[k]);
		if (rc == CAIRN_ENOTFOUND) {
			/* not a commit of this repository */
			cairn_error_clear();
			return 0;
		}
		if (rc < 0)
			return rc;
		if (git_oid_is_zero(&blob))
			return 0;
		n = w->g.nodes[c].nparents;
		for (i = 0; i < n; i++) {
			uint32_t p = w->g.pool[w->g.nodes[c].parents + i];

			rc = cairn_prov__blob_at(&pblob, w, p, at[k]);
			if (rc < 0)
				return rc;
			if (k == 0 ? !git_oid_is_zero(&pblob)
				   : git_oid_equal(&pblob, &blob))
				return 0;
		}
	}
	*ok = true;
	return 0;
}

static const char *intro_path(const cairn_provcache_file *f)
{
	return f->intro_path && *f->intro_path ? f->intro_path : f->path;
}

static int claim_ids(git_oid *intro, git_oid *changed,
		     const cairn_provcache *c, const cairn_provcache_file *f)
{
	if (git_oid_fromstr(intro, c->commits[f->intro].sha) < 0 ||
	    git_oid_fromstr(changed, c->commits[f->changed].sha) < 0)
		return cairn_repo__error("cannot parse a cached id");
	return 0;
}

static int fill_from_cache(cairn_migration *m, struct infos *in,
			   struct walk *w, const cairn_provcache *c,
			   const cairn_provcache_file *f)
{
	const cairn_commit_info *ci;
	git_oid id[2];
	int rc;

	rc = claim_ids(&id[0], &id[1], c, f);
	if (rc == 0)
		rc = info_get(&ci, in, w, &id[0]);
	if (rc == 0)
		rc = set_info(&m->introduced, ci);
	if (rc == 0)
		rc = info_get(&ci, in, w, &id[1]);
	if (rc == 0)
		rc = set_info(&m->changed, ci);
	if (rc == 0)
		m->has_provenance = true;
	return rc;
}

void cairn_prov__clear_provenance(cairn_migration *m)
{
	cairn_commit_info_dispose(&m->introduced);
	cairn_commit_info_dispose(&m->changed);
	m->has_provenance = false;
}

/*
 * Fills the migrations from a cache entry.  *complete is false when a
 * migration that the entry should know (git mode) is missing or has
 * another blob, or when one of its claims does not hold: the entry is
 * then not used at all.
 */
int cairn_prov__use_cache(cairn_migration_set *set, cairn_migration **want,
			  size_t nwant, const cairn_provcache *c,
			  struct walk *w, struct infos *in, bool *complete)
{
	const cairn_provcache_file **found;
	size_t i;
	int rc = 0;

	*complete = false;
	found = cairn__calloc(nwant, sizeof(*found));
	if (!found)
		return CAIRN_ERROR;
	for (i = 0; i < nwant && rc == 0; i++) {
		git_oid intro, changed;
		bool ok;

		found[i] = cairn_provcache__find(
			c, cairn_migration__rel_up(set, want[i]));
		if (!set->worktree &&
		    (!found[i] || found[i]->intro < 0 ||
		     strcmp(found[i]->blob, want[i]->up_blob) != 0))
			goto out;
		if (!found[i] || found[i]->intro < 0)
			continue;
		rc = claim_ids(&intro, &changed, c, found[i]);
		ok = true; /* a sealed entry is ours as written */
		if (rc == 0 && !c->sealed)
			rc = verify_claim(&ok, w, intro_path(found[i]),
					  found[i]->path, &intro, &changed);
		if (rc == 0 && !ok)
			goto out;
	}
	if (rc < 0)
		goto out;
	*complete = true;
	for (i = 0; i < nwant && rc == 0; i++) {
		cairn_prov__clear_provenance(want[i]);
		if (found[i] && found[i]->intro >= 0)
			rc = fill_from_cache(want[i], in, w, c, found[i]);
	}
out:
	free(found);
	return rc;
}

/* Writes the complete result of the walk as the entry of commit. */
int cairn_prov__write_cache(struct walk *w, struct infos *in,
			    const char *cachedir, const char *commit)
{
	cairn_provcache_commit *commits = NULL;
	cairn_provcache_file *files = NULL;
	char (*blobs)[GIT_OID_HEXSZ + 1] = NULL;
	size_t i;
	int rc = 0;

	files = calloc(w->ntracks ? w->ntracks : 1, sizeof(*files));
	blobs = calloc(w->ntracks ? w->ntracks : 1, sizeof(*blobs));
	if (!files || !blobs) {
		rc = CAIRN_ERROR;
		goto out;
	}
	for (i = 0; i < w->ntracks && rc == 0; i++) {
		const struct track *t = &w->tracks[i];
		const cairn_commit_info *ci;
		uint32_t a, b;

		files[i].path = t->orig;
		files[i].intro_path = strcmp(t->path, t->orig) ? t->path : "";
		git_oid_tostr(blobs[i], sizeof(blobs[i]), &t->blob);
		files[i].blob = blobs[i];
		files[i].intro = files[i].changed = -1;
		if (!t->has_intro)
			continue;
		rc = info_get(&ci, in, w, &t->intro);
		if (rc == 0)
			rc = info_get(&ci, in, w, &t->changed);
		if (rc < 0)
			break;
		cairn_oidmap__get(&in->index, &t->intro, &a);
		cairn_oidmap__get(&in->index, &t->changed, &b);
		files[i].intro = (int32_t)a;
		files[i].changed = (int32_t)b;
	}
	if (rc < 0)
		goto out;
	commits = calloc(in->count ? in->count : 1, sizeof(*commits));
	if (!commits) {
		rc = CAIRN_ERROR;
		goto out;
	}
	for (i = 0; i < in->count; i++)
		commits[i].sha = in->items[i].sha;
	rc = cairn_provcache__write(cachedir, w->scope, commit, commits,
				    in->count, files, w->ntracks);
out:
	free(commits);
	free(files);
	free(blobs);
	return rc;
}

int cairn_prov__fill_from_track(cairn_migration *m, struct infos *in,
				struct walk *w, const struct track *t)
{
	const cairn_commit_info *ci;
	int rc;

	cairn_prov__clear_provenance(m);
	if (!t || !t->has_intro)
		return 0;
	rc = info_get(&ci, in, w, &t->intro);
	if (rc == 0)
		rc = set_info(&m->introduced, ci);
	if (rc == 0)
		rc = info_get(&ci, in, w, t->has_changed ? &t->changed
							 : &t->intro);
	if (rc == 0)
		rc = set_info(&m->changed, ci);
	if (rc == 0)
		m->has_provenance = true;
	return rc;
}

int cairn_prov__track_cmp(const void *pa, const void *pb)
{
	return strcmp(((const struct track *)pa)->orig,
		      ((const struct track *)pb)->orig);
}

const struct track *cairn_prov__find_track(const struct walk *w,
					   const char *orig)
{
	size_t lo = 0, hi = w->ntracks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->tracks[mid].orig, orig);

		if (c == 0)
			return &w->tracks[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Gives the tracks the walk left unresolved B's answer, where B's entry
 * can be trusted for them; the others are marked active for a full walk.
 * Sets *refill when some are.
 */
int cairn_prov__fill_from_ancestor(struct walk *w,
				   const cairn_provcache *c, uint32_t hidden,
				   bool *refill)
{
	size_t i, j;
	int rc;

	*refill = false;
	for (i = 0; i < w->ntracks; i++) {
		struct track *t = &w->tracks[i];
		const cairn_provcache_file *f;
		git_oid intro, changed;
		bool ok;

		t->active = false;
		if (t->has_intro)
			continue;
		f = cairn_provcache__find(c, t->path);
		ok = f && f->intro >= 0;
		for (j = 0; ok && j < w->nboundary; j++) {
			git_oid blob;
			char hex[GIT_OID_HEXSZ + 1];

			if (w->boundary[j] == hidden)
				continue;
			rc = cairn_prov__blob_at(&blob, w, w->boundary[j],
						 t->path);
			if (rc < 0)
				return rc;
			git_oid_tostr(hex, sizeof(hex), &blob);
			if (!git_oid_is_zero(&blob) && strcmp(hex, f->blob))
				ok = false;
		}
		if (!ok) {
			rc = cairn_prov__reset_track(w, t);
			if (rc < 0)
				return rc;
			t->active = true;
			*refill = true;
			continue;
		}
		rc = claim_ids(&intro, &changed, c, f);
		ok = true; /* a sealed entry is ours as written */
		if (rc == 0 && !c->sealed)
			rc = verify_claim(&ok, w, intro_path(f), f->path,
					  &intro, &changed);
		if (rc < 0)
			return rc;
		if (!ok) {
			rc = cairn_prov__reset_track(w, t);
			if (rc < 0)
				return rc;
			t->active = true;
			*refill = true;
			continue;
		}
		if (strcmp(intro_path(f), t->path) != 0) {
			/* followed to where it was introduced */
			char *p = cairn__strdup(intro_path(f));

			if (!p)
				return CAIRN_ERROR;
			free(t->path);
			t->path = p;
		}
		t->intro = intro;
		if (!t->has_changed)
			t->changed = changed;
		t->has_changed = true;
		t->has_intro = true;
	}
	return 0;
}
