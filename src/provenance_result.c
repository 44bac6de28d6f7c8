/*
 * provenance_result.c - the answers of a provenance computation: commit
 * records, and migrations filled from the walk or from a cache entry;
 * see src/provenance_walk.h.
 *
 * Commit records (author, time, summary) are looked up through libgit2
 * once per commit and kept in struct infos, which also takes the records
 * a cache entry carries, so a commit named by many migrations is read
 * once.  cairn_prov__use_cache() fills the migrations from the entry of
 * the start commit; cairn_prov__fill_from_ancestor() gives the tracks a
 * limited walk left open the answer of an ancestor's entry where it can
 * be trusted; cairn_prov__write_cache() stores a complete answer through
 * src/provenance_cache.c; cairn_prov__fill_from_track() turns a track
 * into a migration's provenance.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "migration_internal.h"
#include "provenance_walk.h"
#include "repo_internal.h"
#include "util.h"

/* The commit info of id, looked up once per call. */
static int info_get(const cairn_commit_info **out, struct infos *in,
		    struct walk *w, const git_oid *id)
{
	git_commit *c = NULL;
	uint32_t i;
	int rc;

	if (cairn_oidmap__get(&in->index, id, &i)) {
		*out = &in->items[i];
		return 0;
	}
	if (git_commit_lookup(&c, w->git, id) < 0)
		return cairn_repo__error("cannot read commit %s",
					 git_oid_tostr_s(id));
	rc = cairn__grow_array((void **)&in->items, &in->alloc, in->count + 1,
			       sizeof(*in->items));
	if (rc == 0)
		rc = cairn_repo__commit_info_fill(&in->items[in->count], c);
	git_commit_free(c);
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

/* Adds a commit known from a cache entry, unless it is known already. */
static int info_seed(struct infos *in, const cairn_provcache_commit *k)
{
	cairn_commit_info src, *dst;
	git_oid id;
	uint32_t i;

	if (git_oid_fromstr(&id, k->sha) < 0)
		return cairn_repo__error("cannot parse a cached id");
	if (cairn_oidmap__get(&in->index, &id, &i))
		return 0;
	if (cairn__grow_array((void **)&in->items, &in->alloc, in->count + 1,
			      sizeof(*in->items)) < 0)
		return CAIRN_ERROR;
	memset(&src, 0, sizeof(src));
	git_oid_tostr(src.sha, sizeof(src.sha), &id);
	src.author_name = (char *)k->name;
	src.author_email = (char *)k->email;
	src.summary = (char *)k->summary;
	src.author_time = k->time;
	src.author_offset = k->offset;
	dst = &in->items[in->count];
	if (cairn_commit_info_copy(dst, &src) < 0)
		return CAIRN_ERROR;
	if (cairn_oidmap__put(&in->index, &id, (uint32_t)in->count) < 0) {
		cairn_commit_info_dispose(dst);
		return CAIRN_ERROR;
	}
	in->count++;
	return 0;
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

static int fill_from_cache(cairn_migration *m, const cairn_provcache *c,
			   const cairn_provcache_file *f)
{
	const cairn_provcache_commit *k[2];
	cairn_commit_info *dst[2] = { &m->introduced, &m->changed };
	int i;

	k[0] = &c->commits[f->intro];
	k[1] = &c->commits[f->changed];
	for (i = 0; i < 2; i++) {
		cairn_commit_info src;

		memset(&src, 0, sizeof(src));
		memcpy(src.sha, k[i]->sha, 40);
		src.sha[40] = '\0';
		src.author_name = (char *)k[i]->name;
		src.author_email = (char *)k[i]->email;
		src.summary = (char *)k[i]->summary;
		src.author_time = k[i]->time;
		src.author_offset = k[i]->offset;
		if (set_info(dst[i], &src) < 0)
			return CAIRN_ERROR;
	}
	m->has_provenance = true;
	return 0;
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
 * another blob: the entry is then not used at all.
 */
int cairn_prov__use_cache(cairn_migration_set *set, cairn_migration **want,
			  size_t nwant, const cairn_provcache *c,
			  bool *complete)
{
	const cairn_provcache_file **found;
	size_t i;
	int rc = 0;

	*complete = false;
	found = cairn__calloc(nwant, sizeof(*found));
	if (!found)
		return CAIRN_ERROR;
	for (i = 0; i < nwant; i++) {
		found[i] = cairn_provcache__find(
			c, cairn_migration__rel_up(set, want[i]));
		if (set->worktree)
			continue;
		if (!found[i] || found[i]->intro < 0 ||
		    strcmp(found[i]->blob, want[i]->up_blob) != 0)
			goto out;
	}
	*complete = true;
	for (i = 0; i < nwant && rc == 0; i++) {
		cairn_prov__clear_provenance(want[i]);
		if (found[i] && found[i]->intro >= 0)
			rc = fill_from_cache(want[i], c, found[i]);
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
	for (i = 0; i < in->count; i++) {
		commits[i].sha = in->items[i].sha;
		commits[i].name = in->items[i].author_name;
		commits[i].email = in->items[i].author_email;
		commits[i].summary = in->items[i].summary;
		commits[i].time = in->items[i].author_time;
		commits[i].offset = in->items[i].author_offset;
	}
	rc = cairn_provcache__write(cachedir, w->dir, commit, commits,
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
int cairn_prov__fill_from_ancestor(struct walk *w, struct infos *in,
				   const cairn_provcache *c, uint32_t hidden,
				   bool *refill)
{
	size_t i, j;
	int rc;

	*refill = false;
	for (i = 0; i < w->ntracks; i++) {
		struct track *t = &w->tracks[i];
		const cairn_provcache_file *f;
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
			rc = cairn_prov__reset_track(t);
			if (rc < 0)
				return rc;
			t->active = true;
			*refill = true;
			continue;
		}
		rc = info_seed(in, &c->commits[f->intro]);
		if (rc == 0 && !t->has_changed)
			rc = info_seed(in, &c->commits[f->changed]);
		if (rc < 0)
			return rc;
		if (git_oid_fromstr(&t->intro, c->commits[f->intro].sha) < 0)
			return cairn_repo__error("cannot parse a cached id");
		if (!t->has_changed &&
		    git_oid_fromstr(&t->changed,
				    c->commits[f->changed].sha) < 0)
			return cairn_repo__error("cannot parse a cached id");
		t->has_changed = true;
		t->has_intro = true;
	}
	return 0;
}
