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
 * first 16 hex digits of the SHA-256 of the normalized directory.
 */
#ifndef CAIRN_SRC_PROVENANCE_INTERNAL_H
#define CAIRN_SRC_PROVENANCE_INTERNAL_H

#include <stdint.h>

#include "cairn/common.h"
#include "util.h"

/* How many entries are kept per migrations directory. */
#define CAIRN_PROVCACHE_KEEP 8

typedef struct cairn_provcache_commit {
	const char *sha;
	const char *name;
	const char *email;
	const char *summary;
	int64_t time;
	int offset;
} cairn_provcache_commit;

typedef struct cairn_provcache_file {
	const char *path;     /* relative to the migrations directory */
	const char *blob;     /* hex */
	int32_t intro;        /* index into commits, -1 for none */
	int32_t changed;
} cairn_provcache_file;

/* A loaded entry; its strings point into data. */
typedef struct cairn_provcache {
	char *data;
	size_t len;
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
 * truncated, of another format version, failing its checksum).
 */
int cairn_provcache__load(cairn_provcache *out, const char *cachedir,
			  const char *dir, const char *commit);
const cairn_provcache_file *cairn_provcache__find(const cairn_provcache *c,
						  const char *path);
void cairn_provcache__dispose(cairn_provcache *c);

/* Commits with an entry for dir, most recently written first. */
int cairn_provcache__candidates(cairn_strvec *out, const char *cachedir,
				const char *dir, size_t max);

/*
 * Writes the entry for (dir, commit) atomically (temporary file and
 * rename), creating cachedir, and drops the oldest entries beyond
 * CAIRN_PROVCACHE_KEEP.  Returns 0 or CAIRN_ERROR; callers ignore
 * failures, a cache is only an optimization.
 */
int cairn_provcache__write(const char *cachedir, const char *dir,
			   const char *commit,
			   const cairn_provcache_commit *commits,
			   size_t ncommits, const cairn_provcache_file *files,
			   size_t nfiles);

#endif
