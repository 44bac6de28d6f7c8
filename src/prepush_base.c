/*
 * prepush_base.c - finding the base of a ref the remote does not have
 * (or has at a commit we do not know): what a pushed branch is compared
 * with when git gives no remote id.
 *
 * The walk starts from the pushed commit with every remote-tracking ref
 * of the remote hidden (the one history walk of the git object layer,
 * src/git/walk.c, stops where their histories begin); the parents of
 * walked commits that were not walked themselves are the boundary, the
 * newest commits the remote is known to have.  Of several boundaries
 * the one holding the most migrations (counted from tree entries,
 * src/prepush_scan.c) wins, then the newest.  The hidden
 * tips are kept in the result, so blame walks no further than the push.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "prepush_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "repo_internal.h"
#include "util/util.h"

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

struct oids {
	git_oid *items;
	size_t count, alloc;
};

static int oids_add(struct oids *v, const git_oid *id)
{
	if (cairn__grow_array((void **)&v->items, &v->alloc, v->count + 1,
			      sizeof(*v->items)) < 0)
		return CAIRN_ERROR;
	git_oid_cpy(&v->items[v->count++], id);
	return 0;
}

static bool oids_has_sorted(const struct oids *v, const git_oid *id)
{
	return v->count &&
	       bsearch(id, v->items, v->count, sizeof(*id), oid_cmp) != NULL;
}

/* refs/remotes/<remote>/ as a glob, with the remote's name escaped. */
static int tracking_glob(cairn_buf *out, const char *remote)
{
	const char *p;

	if (cairn_buf_puts(out, "refs/remotes/") < 0)
		return CAIRN_ERROR;
	for (p = remote; *p; p++) {
		if (strchr("*?[]\\", *p) && cairn_buf_putc(out, '\\') < 0)
			return CAIRN_ERROR;
		if (cairn_buf_putc(out, *p) < 0)
			return CAIRN_ERROR;
	}
	return cairn_buf_puts(out, "/*");
}

/* The commits the remote-tracking refs of remote point at. */
static int tracking_tips(struct oids *out, cairn_repo *repo,
			 const char *remote)
{
	git_repository *git = cairn_repo__git(repo);
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	cairn_buf glob = CAIRN_BUF_INIT;
	int rc;

	if (!remote || !*remote)
		return 0;
	if (tracking_glob(&glob, remote) < 0)
		return CAIRN_ERROR;
	if (git_reference_iterator_glob_new(&it, git, glob.ptr) < 0) {
		rc = cairn_repo__error("cannot list the refs of remote '%s'",
				       remote);
		goto out;
	}
	while ((rc = git_reference_next(&ref, it)) == 0) {
		git_object *obj = NULL;

		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
		    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0) {
			rc = oids_add(out, git_object_id(obj));
			git_object_free(obj);
			if (rc < 0) {
				git_reference_free(ref);
				goto out;
			}
		}
		git_error_clear();
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = cairn_repo__error("cannot list the refs of remote '%s'",
				       remote);
		goto out;
	}
	git_error_clear();
	rc = 0;
out:
	git_reference_iterator_free(it);
	cairn_buf_dispose(&glob);
	return rc;
}

static int set_hidden(cairn_prepush_result *r, const struct oids *tips)
{
	size_t i;

	r->hidden = cairn__calloc(tips->count + 1, sizeof(*r->hidden));
	if (!r->hidden)
		return CAIRN_ERROR;
	for (i = 0; i < tips->count; i++) {
		r->hidden[i] = cairn__calloc(1, GIT_OID_HEXSZ + 1);
		if (!r->hidden[i])
			return CAIRN_ERROR;
		git_oid_tostr(r->hidden[i], GIT_OID_HEXSZ + 1,
			      &tips->items[i]);
		r->hidden_count++;
	}
	return 0;
}

/*
 * The commits of the pushed commit's history the remote-tracking tips
 * do not reach (the one history walk, src/git/walk.c), by id, sorted;
 * commits beyond the edge of a shallow clone are left out.
 */
static int walk_new(struct oids *walked, cairn_git_graph *g,
		    const cairn_push_update *u, const struct oids *tips)
{
	uint32_t start, *hidden = NULL, *list = NULL;
	size_t n = 0, i;
	git_oid id;
	int rc;

	if (git_oid_fromstr(&id, u->local_sha) < 0)
		return cairn_repo__error("cannot walk from %s", u->local_sha);
	if ((rc = cairn_git__graph_node(&start, g, &id)) < 0)
		return rc;
	hidden = cairn__calloc(tips->count + 1, sizeof(*hidden));
	if (!hidden)
		return CAIRN_ERROR;
	for (i = 0; i < tips->count && rc == 0; i++)
		rc = cairn_git__graph_node(&hidden[i], g, &tips->items[i]);
	if (rc == 0)
		rc = cairn_git__graph_range(g, start, hidden, tips->count,
					    &list, &n);
	for (i = 0; i < n && rc == 0; i++)
		if (!(g->nodes[list[i]].flags & CAIRN_GIT_MISSING))
			rc = oids_add(walked, &g->nodes[list[i]].oid);
	if (rc < 0)
		cairn_error__detail("Walking from %s.", u->local_sha);
	else if (walked->count)
		qsort(walked->items, walked->count, sizeof(*walked->items),
		      oid_cmp);
	free(hidden);
	free(list);
	return rc;
}

/*
 * The parents of walked commits that were not walked themselves, in
 * the order of the walked commits' ids.
 */
static int boundary_of(struct oids *boundary, cairn_git_graph *g,
		       const struct oids *walked)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < walked->count && rc == 0; i++) {
		uint32_t x, k;

		rc = cairn_git__graph_node(&x, g, &walked->items[i]);
		for (k = 0; rc == 0 && k < g->nodes[x].nparents; k++) {
			const git_oid *p =
				&g->nodes[cairn_git__graph_parent(g, x, k)].oid;
			size_t j;
			bool dup = false;

			if (oids_has_sorted(walked, p))
				continue;
			for (j = 0; j < boundary->count && !dup; j++)
				dup = git_oid_equal(&boundary->items[j], p);
			if (!dup)
				rc = oids_add(boundary, p);
		}
	}
	return rc;
}

/*
 * The base of a ref the remote does not have (or has at a commit we do
 * not know): the boundary of the remote-tracking refs' history.
 */
int cairn_prepush__tracking_base(cairn_prepush_result *r, cairn_repo *repo,
				 const cairn_push_update *u,
				 const cairn_prepush_options *opts,
				 const char *dir)
{
	struct oids tips = { NULL, 0, 0 }, walked = { NULL, 0, 0 };
	struct oids boundary = { NULL, 0, 0 };
	cairn_git_odb *odb = NULL;
	cairn_git_graph g;
	size_t i, best_count = 0;
	int64_t best_time = 0;
	int rc;

	r->base_kind = CAIRN_PREPUSH_NO_BASE;
	memset(&g, 0, sizeof(g));
	if ((rc = tracking_tips(&tips, repo, opts->remote)) < 0 || !tips.count)
		goto out;
	if ((rc = set_hidden(r, &tips)) < 0 ||
	    (rc = cairn_git__odb_new(&odb, repo->git, repo->path, 0, CAIRN_GIT_ODB_FAST)) < 0)
		goto out;
	cairn_git__graph_init(&g, odb,
			      git_repository_is_shallow(
				      cairn_repo__git(repo)) == 1);
	if ((rc = walk_new(&walked, &g, u, &tips)) < 0)
		goto out;
	if (!walked.count) {
		/* the remote already has the pushed commit */
		r->base_kind = CAIRN_PREPUSH_TRACKING;
		snprintf(r->base, sizeof(r->base), "%s", u->local_sha);
		goto out;
	}
	if ((rc = boundary_of(&boundary, &g, &walked)) < 0)
		goto out;
	/*
	 * several boundaries: the one with the most migrations (counted from
	 * tree entries), then the newest
	 */
	for (i = 0; i < boundary.count; i++) {
		struct vmax v = { "", 0, true };
		char hex[CAIRN_OID_HEXSZ];
		uint32_t b;

		git_oid_tostr(hex, sizeof(hex), &boundary.items[i]);
		rc = cairn_git__graph_node(&b, &g, &boundary.items[i]);
		if (rc < 0)
			goto out;
		rc = cairn_git__graph_parse(&g, b);
		if (rc == CAIRN_ENOTFOUND ||
		    (rc == 0 && (g.nodes[b].flags & CAIRN_GIT_MISSING))) {
			cairn_error_clear();
			rc = 0;
			continue; /* the edge of a shallow clone */
		}
		if (rc < 0)
			goto out;
		if (boundary.count > 1 &&
		    (rc = cairn_prepush__versions_at(&v, repo, hex, dir,
						     opts)) < 0)
			goto out;
		if (!r->base[0] || v.count > best_count ||
		    (v.count == best_count && g.nodes[b].time > best_time)) {
			best_count = v.count;
			best_time = g.nodes[b].time;
			snprintf(r->base, sizeof(r->base), "%s", hex);
		}
	}
	if (r->base[0])
		r->base_kind = CAIRN_PREPUSH_TRACKING;
out:
	cairn_git__graph_dispose(&g);
	cairn_git__odb_free(odb);
	free(tips.items);
	free(walked.items);
	free(boundary.items);
	return rc;
}
