/*
 * oidmap.c - a map from git object ids to 32-bit values; see
 * src/oidmap.h.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "oidmap.h"

static size_t oid_hash(const git_oid *id)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h;
}

static int oidmap_grow(struct cairn_oidmap *m)
{
	struct cairn_oidmap n;
	size_t i;

	n.cap = m->cap ? m->cap * 2 : 1024;
	n.count = 0;
	n.keys = malloc(n.cap * sizeof(*n.keys));
	n.vals = malloc(n.cap * sizeof(*n.vals));
	n.used = calloc(n.cap, 1);
	if (!n.keys || !n.vals || !n.used) {
		free(n.keys);
		free(n.vals);
		free(n.used);
		return cairn_error__oom();
	}
	for (i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->used[i])
			continue;
		j = oid_hash(&m->keys[i]) & (n.cap - 1);
		while (n.used[j])
			j = (j + 1) & (n.cap - 1);
		n.used[j] = 1;
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
		n.count++;
	}
	free(m->keys);
	free(m->vals);
	free(m->used);
	*m = n;
	return 0;
}

bool cairn_oidmap__get(const struct cairn_oidmap *m, const git_oid *id,
		       uint32_t *out)
{
	size_t j;

	if (!m->cap)
		return false;
	j = oid_hash(id) & (m->cap - 1);
	while (m->used[j]) {
		if (!memcmp(m->keys[j].id, id->id, GIT_OID_RAWSZ)) {
			*out = m->vals[j];
			return true;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return false;
}

int cairn_oidmap__put(struct cairn_oidmap *m, const git_oid *id, uint32_t v)
{
	size_t j;

	if ((m->count + 1) * 2 > m->cap && oidmap_grow(m) < 0)
		return CAIRN_ERROR;
	j = oid_hash(id) & (m->cap - 1);
	while (m->used[j]) {
		if (!memcmp(m->keys[j].id, id->id, GIT_OID_RAWSZ)) {
			m->vals[j] = v;
			return 0;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->used[j] = 1;
	m->keys[j] = *id;
	m->vals[j] = v;
	m->count++;
	return 0;
}

void cairn_oidmap__dispose(struct cairn_oidmap *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	memset(m, 0, sizeof(*m));
}
