/*
 * prepush_base.c - finding the base of a ref the remote does not have
 * (or has at a commit we do not know): what a pushed branch is compared
 * with when git gives no remote id.
 *
 * The walk starts from the pushed commit with every remote-tracking ref
 * of the remote hidden (libgit2's revwalk stops where their histories
 * begin); the parents of walked commits that were not walked themselves
 * are the boundary, the newest commits the remote is known to have.  Of
 * several boundaries the one holding the most migrations (counted from
 * tree entries, src/prepush_scan.c) wins, then the newest.  The hidden
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
 * The base of a ref the remote does not have (or has at a commit we do
 * not know): the boundary of the remote-tracking refs' history.
 */
int cairn_prepush__tracking_base(cairn_prepush_result *r, cairn_repo *repo,
				 const cairn_push_update *u,
				 const cairn_prepush_options *opts,
				 const char *dir)
{
	git_repository *git = cairn_repo__git(repo);
	struct oids tips = { NULL, 0, 0 }, walked = { NULL, 0, 0 };
	struct oids boundary = { NULL, 0, 0 };
	git_revwalk *rw = NULL;
	git_oid id;
	size_t i, best_count = 0;
	int64_t best_time = 0;
	int rc;

	r->base_kind = CAIRN_PREPUSH_NO_BASE;
	if ((rc = tracking_tips(&tips, repo, opts->remote)) < 0 || !tips.count)
		goto out;
	if ((rc = set_hidden(r, &tips)) < 0)
		goto out;
	if (git_revwalk_new(&rw, git) < 0 ||
	    git_oid_fromstr(&id, u->local_sha) < 0 ||
	    git_revwalk_push(rw, &id) < 0) {
		rc = cairn_repo__error("cannot walk from %s", u->local_sha);
		goto out;
	}
	for (i = 0; i < tips.count; i++) {
		if (git_revwalk_hide(rw, &tips.items[i]) < 0) {
			rc = cairn_repo__error("cannot walk the history of "
					       "remote '%s'", opts->remote);
			goto out;
		}
	}
	while ((rc = git_revwalk_next(&id, rw)) == 0)
		if ((rc = oids_add(&walked, &id)) < 0)
			goto out;
	if (rc != GIT_ITEROVER) {
		rc = cairn_repo__error("cannot walk from %s", u->local_sha);
		goto out;
	}
	git_error_clear();
	rc = 0;
	if (!walked.count) {
		/* the remote already has the pushed commit */
		r->base_kind = CAIRN_PREPUSH_TRACKING;
		snprintf(r->base, sizeof(r->base), "%s", u->local_sha);
		goto out;
	}
	qsort(walked.items, walked.count, sizeof(*walked.items), oid_cmp);
	for (i = 0; i < walked.count; i++) {
		git_commit *c = NULL;
		unsigned k, np;

		if (git_commit_lookup(&c, git, &walked.items[i]) < 0) {
			rc = cairn_repo__error("cannot read commit %s",
				git_oid_tostr_s(&walked.items[i]));
			goto out;
		}
		np = git_commit_parentcount(c);
		for (k = 0; k < np && rc == 0; k++) {
			const git_oid *p = git_commit_parent_id(c, k);
			size_t j;
			bool dup = false;

			if (oids_has_sorted(&walked, p))
				continue;
			for (j = 0; j < boundary.count && !dup; j++)
				dup = git_oid_equal(&boundary.items[j], p);
			if (!dup)
				rc = oids_add(&boundary, p);
		}
		git_commit_free(c);
		if (rc < 0)
			goto out;
	}
	/*
	 * several boundaries: the one with the most migrations (counted from
	 * tree entries), then the newest
	 */
	for (i = 0; i < boundary.count; i++) {
		struct vmax v = { "", 0, true };
		git_commit *c = NULL;
		char hex[CAIRN_OID_HEXSZ];
		int64_t when = 0;

		git_oid_tostr(hex, sizeof(hex), &boundary.items[i]);
		if (git_commit_lookup(&c, git, &boundary.items[i]) < 0) {
			git_error_clear();
			continue; /* the edge of a shallow clone */
		}
		when = git_commit_time(c);
		git_commit_free(c);
		if (boundary.count > 1 &&
		    (rc = cairn_prepush__versions_at(&v, repo, hex, dir,
						     opts)) < 0)
			goto out;
		if (!r->base[0] || v.count > best_count ||
		    (v.count == best_count && when > best_time)) {
			best_count = v.count;
			best_time = when;
			snprintf(r->base, sizeof(r->base), "%s", hex);
		}
	}
	if (r->base[0])
		r->base_kind = CAIRN_PREPUSH_TRACKING;
out:
	git_revwalk_free(rw);
	free(tips.items);
	free(walked.items);
	free(boundary.items);
	return rc;
}
