/*
 * provenance_tree.c - the raw trees the provenance walk reads; see
 * src/provenance_walk.h.
 *
 * Objects come through cairn_rawodb (src/rawodb.c).  Trees are kept in a
 * small LRU of LRU_SIZE entries (struct ctree, counted references), so a
 * tree read as one commit's "old" side is reused as its parent's "new"
 * side, and the entry offsets the diff computed for it stay with it.
 * Lookups read a tree sequentially (struct rtree).
 */
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "provenance_walk.h"
#include "util/util.h"

int cairn_prov__read_object(cairn_rawobj **out, struct walk *w,
			    const git_oid *id, git_object_t want)
{
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	rc = cairn_repo__rawodb_read(out, w->raw, id);
	if (rc < 0)
		return rc;
	if ((*out)->type == want)
		return 0;
	cairn_repo__rawobj_free(*out);
	*out = NULL;
	git_oid_tostr(hex, sizeof(hex), id);
	return cairn_error__set(CAIRN_ERRCLASS_GIT,
				"cannot read object %s: not a %s", hex,
				git_object_type2string(want));
}

void cairn_prov__ctree_put(struct ctree *t)
{
	if (!t || t->is_static || --t->refs)
		return;
	cairn_repo__rawobj_free(t->obj);
	free(t->offs);
	free(t);
}

/* A tree from the LRU (or read); *out is a new reference. */
int cairn_prov__tree_get(struct ctree **out, struct walk *w,
			 const git_oid *id)
{
	cairn_rawobj *obj = NULL;
	struct ctree *t;
	size_t i, victim = 0;
	int rc;

	if (git_oid_is_zero(id)) {
		*out = &w->empty;
		return 0;
	}
	for (i = 0; i < LRU_SIZE; i++) {
		t = w->lru[i];
		if (!t) {
			victim = i;
			break;
		}
		if (git_oid_equal(&t->oid, id)) {
			t->used = ++w->lru_clock;
			t->refs++;
			*out = t;
			return 0;
		}
		if (t->used < w->lru[victim]->used)
			victim = i;
	}
	rc = cairn_prov__read_object(&obj, w, id, GIT_OBJECT_TREE);
	if (rc < 0)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t) {
		cairn_repo__rawobj_free(obj);
		return cairn_error__oom();
	}
	t->oid = *id;
	t->obj = obj;
	t->data = obj->data;
	t->len = obj->len;
	t->refs = 2;
	t->used = ++w->lru_clock;
	cairn_prov__ctree_put(w->lru[victim]);
	w->lru[victim] = t;
	*out = t;
	return 0;
}

int cairn_prov__rtree_open(struct rtree *t, struct walk *w,
			   const git_oid *id)
{
	int rc;

	memset(t, 0, sizeof(*t));
	rc = cairn_prov__tree_get(&t->t, w, id);
	if (rc < 0)
		return rc;
	t->p = t->t->data;
	t->end = t->p + t->t->len;
	return 0;
}

void cairn_prov__rtree_close(struct rtree *t)
{
	cairn_prov__ctree_put(t->t);
	memset(t, 0, sizeof(*t));
}

/* 1: an entry, 0: the end, CAIRN_ERROR: a corrupt tree. */
int cairn_prov__rtree_next(struct rtree *t, cairn_tree_entry *e)
{
	if (!t->p || t->p >= t->end)
		return 0;
	if (parse_entry(t->p, t->end, e, &t->p) < 0) {
		t->p = t->end;
		return CAIRN_ERROR;
	}
	return 1;
}

/* Finds the child `name` of a raw tree; zero when absent or no tree. */
int cairn_prov__tree_child(git_oid *out, struct walk *w, const git_oid *tree,
			   const char *name)
{
	struct rtree t;
	cairn_tree_entry e;
	size_t n = strlen(name);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cairn_prov__rtree_open(&t, w, tree);
	while (rc == 0) {
		int more = cairn_prov__rtree_next(&t, &e);

		if (more <= 0) {
			rc = more;
			break;
		}
		if (e.len == n && !memcmp(e.name, name, n)) {
			if (is_tree(e.mode))
				git_oid_fromraw(out, e.id);
			break;
		}
	}
	cairn_prov__rtree_close(&t);
	return rc;
}
