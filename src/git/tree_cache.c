/*
 * git/tree_cache.c - a small LRU of trees (git/tree.h), so a walk that
 * reads a tree as one commit's "old" side reuses it as its parent's "new"
 * side, together with the entry offsets the diff computed for it.
 * Objects come through the object reader (git/odb.h).
 */
#include <stdlib.h>
#include <string.h>

#include "git/tree.h"
#include "util/error.h"

void cairn_git__trees_init(cairn_git_trees *c, cairn_git_odb *db)
{
	memset(c, 0, sizeof(*c));
	c->db = db;
	c->empty.is_static = true;
	c->empty.offs = c->empty_offs;
	c->empty.data = (const unsigned char *)"";
}

void cairn_git__trees_dispose(cairn_git_trees *c)
{
	size_t i;

	for (i = 0; i < CAIRN_GIT_TREE_CACHE; i++)
		cairn_git__tree_put(c->lru[i]);
	memset(c->lru, 0, sizeof(c->lru));
}

void cairn_git__tree_put(cairn_git_tree *t)
{
	if (!t || t->is_static || --t->refs)
		return;
	cairn_git__obj_free(t->obj);
	free(t->offs);
	free(t);
}

int cairn_git__trees_get(cairn_git_tree **out, cairn_git_trees *c,
			 const git_oid *id)
{
	cairn_git_obj *obj = NULL;
	cairn_git_tree *t;
	size_t i, victim = 0;
	int rc;

	if (git_oid_is_zero(id)) {
		*out = &c->empty;
		return 0;
	}
	for (i = 0; i < CAIRN_GIT_TREE_CACHE; i++) {
		t = c->lru[i];
		if (!t) {
			victim = i;
			break;
		}
		if (git_oid_equal(&t->oid, id)) {
			t->used = ++c->clock;
			t->refs++;
			*out = t;
			return 0;
		}
		if (t->used < c->lru[victim]->used)
			victim = i;
	}
	rc = cairn_git__odb_read_type(&obj, c->db, id, GIT_OBJECT_TREE);
	if (rc < 0)
		return rc;
	t = calloc(1, sizeof(*t));
	if (!t) {
		cairn_git__obj_free(obj);
		return cairn_error__oom();
	}
	t->oid = *id;
	t->obj = obj;
	t->data = obj->data;
	t->len = obj->len;
	t->refs = 2;
	t->used = ++c->clock;
	cairn_git__tree_put(c->lru[victim]);
	c->lru[victim] = t;
	*out = t;
	return 0;
}
