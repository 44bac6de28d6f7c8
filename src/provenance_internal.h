/*
 * provenance_internal.h - the on-disk provenance cache, shared between
 * the files that compute provenance (src/provenance.c reads entries,
 * src/provenance_result.c uses and writes them) and
 * src/provenance_cache.c (which stores them).
 *
 * An entry holds the complete answer for one commit and one migrations
 * directory: every up file under the directory at that commit, its blob,
 * and the commits that introduced and last changed it.  Entries live in
 * <commondir>/cairn/ as provenance-<dirkey>-<commit>, where dirkey is the
 * first 16 hex digits of the SHA-256 of the normalized directory.  The
 * "dir" these functions take is that directory, followed by the naming
 * of its files when that is not cairn's default (cache_scope() in
 * src/provenance.c), since the answer depends on it.
 */
#ifndef CAIRN_SRC_PROVENANCE_INTERNAL_H
#define CAIRN_SRC_PROVENANCE_INTERNAL_H

#include "util/attrs.h"

#include <stdbool.h>
#include <stdint.h>

#include "cairn/common.h"
#include "util/util.h"

/* How many entries are kept per migrations directory. */
#define CAIRN_PROVCACHE_KEEP 8

/*
 * A commit an entry names: only its id.  Who wrote it and when is always
 * read from the commit object, never from the cache.
 */
typedef struct cairn_provcache_commit {
	const char *sha;
} cairn_provcache_commit;

typedef struct cairn_provcache_file {
	const char *path;     /* relative to the migrations directory */
	const char *intro_path; /* at the introducing commit ("": path) */
	const char *blob;     /* hex */
	int32_t intro;        /* index into commits, -1 for none */
	int32_t changed;
} cairn_provcache_file;

#define CAIRN_PROVCACHE_KEYLEN 32

/* A loaded entry; its strings point into data. */
typedef struct cairn_provcache {
	char *data;
	size_t len;
	/*
	 * The user's sealing key (provenance_key.c), set before parsing.
	 * sealed: the entry carried a valid HMAC under it, so only this
	 * user can have written it and its claims hold as written; an
	 * unsealed entry's claims are each checked before use.
	 */
	bool has_key;
	unsigned char key[CAIRN_PROVCACHE_KEYLEN];
	bool sealed;
	cairn_provcache_commit *commits;
	size_t ncommits;
	cairn_provcache_file *files;
	size_t nfiles;
	uint32_t *buckets;    /* file index + 1; 0 is empty */
	uint32_t *chain;
	size_t nbuckets;
} cairn_provcache;

/*
 * Loads the entry for (dir, commit).  Returns 0, or CAIRN_ENOTFOUND with
 * no error set when there is none or it cannot be trusted (unreadable,
 * not a regular file, truncated, of another format version, failing its
 * checksum).  What it claims must still be checked before use.
 */
CAIRN_WARN_UNUSED int cairn_provcache__load(cairn_provcache *out, const char *cachedir,
			  const char *dir, const char *commit);
/*
 * Parses an entry held in c->data (c->len bytes, NUL-terminated) that
 * claims to be for (dir, commit); false when it is not a valid entry.
 * cairn_provcache__load() reads the file and calls this; the fuzz target
 * tests/fuzz/fuzz_provcache.c calls it directly.
 */
bool cairn_provcache__parse(cairn_provcache *c, const char *dir,
			    const char *commit);
const cairn_provcache_file *cairn_provcache__find(const cairn_provcache *c,
						  const char *path);
void cairn_provcache__dispose(cairn_provcache *c);

/*
 * This user's cache-sealing key (created on first use under
 * $XDG_CACHE_HOME/cairn or ~/.cache/cairn); false when there is none to
 * be had, and then entries are written unsealed.
 */
bool cairn_provcache__key(unsigned char key[CAIRN_PROVCACHE_KEYLEN]);

/* Commits with an entry for dir, most recently written first. */
CAIRN_WARN_UNUSED int cairn_provcache__candidates(cairn_strvec *out, const char *cachedir,
				const char *dir, size_t max);

/*
 * Writes the entry for (dir, commit) atomically (temporary file and
 * rename), creating cachedir, and drops the oldest entries beyond
 * CAIRN_PROVCACHE_KEEP.  Returns 0 or CAIRN_ERROR; callers ignore
 * failures, a cache is only an optimization.
 */
CAIRN_WARN_UNUSED int cairn_provcache__write(const char *cachedir, const char *dir,
			   const char *commit,
			   const cairn_provcache_commit *commits,
			   size_t ncommits, const cairn_provcache_file *files,
			   size_t nfiles);

#endif
