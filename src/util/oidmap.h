/*
 * oidmap.h (internal) - a map from git object ids to 32-bit values
 * (indexes into the caller's arrays), used by the provenance walk to
 * find its commit nodes, subtrees and commit records by id.
 *
 * Open addressing with linear probing over a power-of-two table that
 * doubles when half full.  Ids are SHA-1 hashes already, so their leading
 * bytes serve as the hash.  A zeroed struct is an empty map.
 */
#ifndef CAIRN_SRC_OIDMAP_H
#define CAIRN_SRC_OIDMAP_H

#include "attrs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>

struct cairn_oidmap {
	git_oid *keys;
	uint32_t *vals;
	uint8_t *used;
	size_t cap;
	size_t count;
};

/* Whether id is in the map; its value goes to *out. */
bool cairn_oidmap__get(const struct cairn_oidmap *m, const git_oid *id,
		       uint32_t *out);
/* Sets id's value (adding it or replacing it); 0 or CAIRN_ERROR. */
CAIRN_WARN_UNUSED int cairn_oidmap__put(struct cairn_oidmap *m, const git_oid *id, uint32_t v);
/* Frees the table and leaves an empty map. */
void cairn_oidmap__dispose(struct cairn_oidmap *m);

#endif
