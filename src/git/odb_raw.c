/*
 * git/odb_raw.c - reading objects (git/odb.h): libgit2, with a reader of
 * raw objects straight from the repository's pack files in front of it.
 *
 * Why the raw reader exists.  The provenance walk (src/provenance_*.c)
 * reads one version of the migrations tree per commit that touched it:
 * 10,000 versions of a tree that grows to 10,000 entries.  Such trees
 * are stored as chains of deltas, and libgit2 1.5 keeps at most 16 MB of
 * delta bases and drops all of them when that fills, so walking history
 * against the direction of the chains re-applies whole chains again and
 * again (git fast-import writes chains that run forward in time; `git
 * gc` writes them backward).  On such fast-import-style packs the cache
 * thrashes: cold provenance on a 100,000-commit repository took 2.1-3.8 s
 * through libgit2 and about 1.2 s with this reader.  Here every object
 * produced while resolving a chain is kept in an LRU (of a size the
 * caller picks) keyed by its place in the pack, so each version is built
 * once, from its neighbour, whichever way the chains run.
 *
 * How it stays correct.  It never changes an answer, only how fast it
 * comes: anything it does not handle goes to libgit2 (loose objects,
 * alternates, packs it cannot use, any doubt at all).  It reads sha1
 * repositories only: the object format is checked when the reader is
 * opened, and for any other the packs are left alone (see git/odb.h).
 * Pack files are mapped read-only; every offset, size and delta
 * instruction is checked against the mapping before it is used, and a
 * malformed or unsupported pack sends the read to libgit2, which reports
 * it properly.  Objects are not re-hashed on reading, as git itself does
 * not.  Objects are inflated with zlib, linked directly (see README,
 * Dependencies).
 */
#include <dirent.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "git/git.h"
#include "git/odb.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/util.h"

#define RAW_BUCKETS 4096
#define RAW_MAX_OBJECT ((size_t)1 << 30)
#define RAW_MAX_PACKS 256
#define RAW_OIDSZ 20

struct pack {
	unsigned char *idx;
	size_t idxlen;
	unsigned char *data;
	size_t len;
	uint32_t n;
	const unsigned char *oids;
	const unsigned char *off32;
	const unsigned char *off64;
	size_t n64;
};

struct rawstep {
	size_t pack;
	uint64_t off;
	uint64_t data_off;
	size_t size;
};

struct cairn_git_odb {
	git_odb *odb;
	struct pack *packs;
	size_t npacks, apacks;

	z_stream z; /* one inflate stream, reset for every object */

	cairn_git_obj *buckets[RAW_BUCKETS];
	cairn_git_obj *head, *tail; /* most recently used first */
	size_t cached, budget;

	struct rawstep *steps;
	size_t asteps;
	unsigned char *scratch;
	size_t ascratch;

	size_t stat_packed, stat_fallback;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void unmap(void *p, size_t len)
{
	if (p && len)
		munmap(p, len);
}

static int map_file(unsigned char **out, size_t *len, const char *path)
{
	struct stat st;
	void *p;
	int fd;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	*out = p;
	*len = (size_t)st.st_size;
	return 0;
}

/* Maps one .idx (version 2) and its .pack; false when unusable. */
static bool pack_open(struct pack *p, const char *idxpath)
{
	cairn_buf packpath = CAIRN_BUF_INIT;
	size_t need, i;
	uint32_t prev = 0;

	memset(p, 0, sizeof(*p));
	if (map_file(&p->idx, &p->idxlen, idxpath) < 0)
		goto fail;
	if (p->idxlen < 8 + 1024 + 2 * RAW_OIDSZ ||
	    memcmp(p->idx, "\377tOc", 4) != 0 || be32(p->idx + 4) != 2)
		goto fail;
	for (i = 0; i < 256; i++) {
		uint32_t v = be32(p->idx + 8 + 4 * i);

		if (v < prev)
			goto fail;
		prev = v;
	}
	p->n = prev;
	need = 8 + 1024 + (size_t)p->n * (RAW_OIDSZ + 8) + 2 * RAW_OIDSZ;
	if (p->idxlen < need || (p->idxlen - need) % 8 != 0)
		goto fail;
	p->oids = p->idx + 8 + 1024;
	p->off32 = p->oids + (size_t)p->n * (RAW_OIDSZ + 4);
	p->off64 = p->off32 + (size_t)p->n * 4;
	p->n64 = (p->idxlen - need) / 8;
	if (cairn_buf_put(&packpath, idxpath, strlen(idxpath) - 4) < 0 ||
	    cairn_buf_puts(&packpath, ".pack") < 0 ||
	    map_file(&p->data, &p->len, packpath.ptr) < 0)
		goto fail;
	if (p->len < 12 + RAW_OIDSZ || memcmp(p->data, "PACK", 4) != 0 ||
	    (be32(p->data + 4) != 2 && be32(p->data + 4) != 3) ||
	    be32(p->data + 8) != p->n)
		goto fail;
	cairn_buf_dispose(&packpath);
	return true;
fail:
	cairn_error_clear();
	cairn_buf_dispose(&packpath);
	unmap(p->idx, p->idxlen);
	unmap(p->data, p->len);
	memset(p, 0, sizeof(*p));
	return false;
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/*
 * Looks an id up in the index.  Ids are uniformly distributed, so an
 * interpolation on their first eight bytes lands next to the entry in a
 * probe or two (a plain binary search costs a cache miss per step on a
 * large index).
 */
static bool pack_find(const struct pack *p, const unsigned char *raw,
		      uint64_t *off)
{
	const unsigned char *fan = p->idx + 8;
	uint32_t lo = raw[0] ? be32(fan + 4 * (raw[0] - 1)) : 0;
	uint32_t hi = be32(fan + 4 * raw[0]);
	uint64_t want = be64(raw);

	while (lo < hi) {
		uint64_t klo = be64(p->oids + (size_t)lo * RAW_OIDSZ);
		uint64_t khi = be64(p->oids + (size_t)(hi - 1) * RAW_OIDSZ);
		uint32_t mid;
		int c;

		if (want < klo || want > khi)
			return false;
		if (hi - lo > 16 && khi > klo)
			mid = lo + (uint32_t)((double)(want - klo) /
					      (double)(khi - klo) *
					      (double)(hi - 1 - lo));
		else
			mid = lo + (hi - lo) / 2;
		c = memcmp(p->oids + (size_t)mid * RAW_OIDSZ, raw, RAW_OIDSZ);
		if (c == 0) {
			uint32_t o = be32(p->off32 + (size_t)mid * 4);
			uint64_t v = o;

			if (o & 0x80000000u) {
				o &= 0x7fffffffu;
				if (o >= p->n64)
					return false;
				v = be64(p->off64 + (size_t)o * 8);
			}
			if (v < 12 || v >= p->len - RAW_OIDSZ)
				return false;
			*off = v;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void load_packs(cairn_git_odb *db, const char *commondir)
{
	cairn_buf dir = CAIRN_BUF_INIT, path = CAIRN_BUF_INIT;
	struct dirent *de;
	DIR *d;

	if (cairn_buf_printf(&dir, "%sobjects/pack", commondir) < 0)
		goto out;
	d = opendir(dir.ptr);
	if (!d)
		goto out;
	while ((de = readdir(d)) != NULL && db->npacks < RAW_MAX_PACKS) {
		size_t n = strlen(de->d_name);
		struct pack p;

		if (n < 5 || strcmp(de->d_name + n - 4, ".idx") != 0)
			continue;
		cairn_buf_clear(&path);
		if (cairn_buf_printf(&path, "%s/%s", dir.ptr, de->d_name) < 0)
			break;
		if (!pack_open(&p, path.ptr))
			continue;
		if (cairn__grow_array((void **)&db->packs, &db->apacks,
				      db->npacks + 1, sizeof(p)) < 0) {
			unmap(p.idx, p.idxlen);
			unmap(p.data, p.len);
			break;
		}
		db->packs[db->npacks++] = p;
	}
	closedir(d);
out:
	cairn_error_clear();
	cairn_buf_dispose(&dir);
	cairn_buf_dispose(&path);
}

int cairn_git__object_format(char *out, size_t n, const char *commondir)
{
	cairn_buf path = CAIRN_BUF_INIT;
	git_config *cfg = NULL;
	git_buf fmt = { NULL, 0, 0 };
	int32_t version = 0;
	int rc = 0;

	snprintf(out, n, "sha1");
	if (cairn_buf_printf(&path, "%sconfig", commondir) < 0)
		return CAIRN_ERROR;
	if (access(path.ptr, F_OK) != 0)
		goto out; /* no configuration: git's defaults */
	if (git_config_open_ondisk(&cfg, path.ptr) < 0) {
		rc = cairn_git__error("cannot read the configuration '%s'",
				       path.ptr);
		goto out;
	}
	if (git_config_get_int32(&version, cfg,
				 "core.repositoryformatversion") < 0)
		version = 0;
	/* extensions mean something from format version 1 on, as in git */
	if (version >= 1 &&
	    git_config_get_string_buf(&fmt, cfg,
				      "extensions.objectformat") == 0)
		snprintf(out, n, "%s", fmt.ptr);
	git_error_clear();
out:
	git_buf_dispose(&fmt);
	git_config_free(cfg);
	cairn_buf_dispose(&path);
	return rc;
}

/*
 * Whether this libgit2 reads repositories of another object format than
 * sha1 (libgit2 1.5 does not; later ones may, built for it).
 */
static bool libgit2_reads_other_formats(void)
{
#ifdef GIT_OID_SHA256
	return true;
#else
	return false;
#endif
}

/*
 * The raw reader reads sha1 only: for any other object format it steps
 * aside, and libgit2 answers if it can.  Returns whether the packs may
 * be read raw, or CAIRN_ERROR when nothing here can read the objects.
 */
static int check_format(bool *raw_ok, const char *commondir,
			const char *shown)
{
	char fmt[32];

	*raw_ok = false;
	if (cairn_git__object_format(fmt, sizeof(fmt), commondir) < 0)
		return CAIRN_ERROR;
	if (!strcmp(fmt, "sha1")) {
		*raw_ok = true;
		return 0;
	}
	if (libgit2_reads_other_formats())
		return 0;
	cairn_error__set(CAIRN_ERRCLASS_GIT,
			 "cannot read the objects of '%s': its object format "
			 "is '%s', and cairn reads sha1 repositories only",
			 shown, fmt);
	cairn_error__detail("extensions.objectformat is '%s' in %sconfig.",
			    fmt, commondir);
	cairn_error__hint("use a sha1 repository (git init "
			  "--object-format=sha1), or a libgit2 built with "
			  "sha256 support");
	return CAIRN_ERROR;
}

int cairn_git__odb_new(cairn_git_odb **out, git_repository *git,
		       const char *shown, size_t cache_budget,
		       cairn_git_odb_mode mode)
{
	const char *commondir = git_repository_commondir(git);
	cairn_git_odb *db;
	bool raw_ok;

	*out = NULL;
	if (check_format(&raw_ok, commondir, shown) < 0)
		return CAIRN_ERROR;
	db = cairn__calloc(1, sizeof(*db));
	if (!db)
		return CAIRN_ERROR;
	if (git_repository_odb(&db->odb, git) < 0) {
		free(db);
		return cairn_git__error("cannot open the object database of "
					"'%s'", shown);
	}
	db->budget = cache_budget;
	/*
	 * Without an inflate stream (out of memory) no pack is used and
	 * every read goes to libgit2; inflateEnd() accepts the failed
	 * stream, which zlib leaves with no state.
	 */
	if (inflateInit2(&db->z, 15) == Z_OK && raw_ok &&
	    mode == CAIRN_GIT_ODB_FAST)
		load_packs(db, commondir);
	*out = db;
	return 0;
}

int cairn_git__odb_read_type(cairn_git_obj **out, cairn_git_odb *db,
			     const git_oid *id, git_object_t want)
{
	char hex[GIT_OID_HEXSZ + 1];
	int rc;

	rc = cairn_git__odb_read(out, db, id);
	if (rc < 0)
		return rc;
	if ((*out)->type == want)
		return 0;
	cairn_git__obj_free(*out);
	*out = NULL;
	git_oid_tostr(hex, sizeof(hex), id);
	return cairn_error__set(CAIRN_ERRCLASS_GIT,
				"cannot read object %s: not a %s", hex,
				git_object_type2string(want));
}

static void raw_release(cairn_git_obj *o)
{
	if (!o || --o->refs)
		return;
	git_odb_object_free(o->gobj);
	free(o->buf);
	free(o);
}

void cairn_git__obj_free(cairn_git_obj *obj)
{
	raw_release(obj);
}

void cairn_git__odb_free(cairn_git_odb *db)
{
	cairn_git_obj *o, *next;
	size_t i;

	if (!db)
		return;
	for (o = db->head; o; o = next) {
		next = o->next;
		raw_release(o);
	}
	for (i = 0; i < db->npacks; i++) {
		unmap(db->packs[i].idx, db->packs[i].idxlen);
		unmap(db->packs[i].data, db->packs[i].len);
	}
	free(db->packs);
	inflateEnd(&db->z);
	free(db->steps);
	free(db->scratch);
	git_odb_free(db->odb);
	free(db);
}

void cairn_git__odb_stats(const cairn_git_odb *db, size_t *packed,
			      size_t *fallback)
{
	*packed = db->stat_packed;
	*fallback = db->stat_fallback;
}

/* ---- the cache of built objects ---- */

static uint64_t raw_key(size_t pack, uint64_t off)
{
	return (uint64_t)(pack + 1) << 48 | off;
}

static size_t bucket_of(uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 52) &
	       (RAW_BUCKETS - 1);
}

static void lru_unlink(cairn_git_odb *db, cairn_git_obj *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else
		db->head = o->next;
	if (o->next)
		o->next->prev = o->prev;
	else
		db->tail = o->prev;
	o->prev = o->next = NULL;
}

static void lru_front(cairn_git_odb *db, cairn_git_obj *o)
{
	o->next = db->head;
	o->prev = NULL;
	if (db->head)
		db->head->prev = o;
	db->head = o;
	if (!db->tail)
		db->tail = o;
}

static cairn_git_obj *cache_get(cairn_git_odb *db, uint64_t key)
{
	cairn_git_obj *o = db->buckets[bucket_of(key)];

	while (o && o->key != key)
		o = o->hnext;
	if (!o)
		return NULL;
	lru_unlink(db, o);
	lru_front(db, o);
	o->refs++;
	return o;
}

static void cache_evict(cairn_git_odb *db, cairn_git_obj *o)
{
	cairn_git_obj **pp = &db->buckets[bucket_of(o->key)];

	while (*pp && *pp != o)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = o->hnext;
	lru_unlink(db, o);
	db->cached -= o->len;
	o->cached = false;
	raw_release(o);
}

static void cache_put(cairn_git_odb *db, cairn_git_obj *o, uint64_t key)
{
	size_t b = bucket_of(key);

	if (!db->budget || o->len > db->budget / 4 || o->cached)
		return;
	o->key = key;
	o->cached = true;
	o->refs++;
	o->hnext = db->buckets[b];
	db->buckets[b] = o;
	lru_front(db, o);
	db->cached += o->len;
	while (db->cached > db->budget && db->tail && db->tail != o)
		cache_evict(db, db->tail);
}

/* ---- reading packs ---- */

static cairn_git_obj *raw_new(git_object_t type, unsigned char *buf,
			     size_t len)
{
	cairn_git_obj *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->type = type;
	o->buf = buf;
	o->data = buf;
	o->len = len;
	o->refs = 1;
	return o;
}

/* Parses the object header at off; false when it is malformed. */
static bool obj_header(const struct pack *p, uint64_t off, int *type,
		       size_t *size, uint64_t *data_off, uint64_t *base_off,
		       const unsigned char **base_oid)
{
	const unsigned char *d = p->data;
	uint64_t end = p->len - RAW_OIDSZ, pos = off, sz;
	unsigned shift = 4;
	unsigned char c;

	if (pos >= end)
		return false;
	c = d[pos++];
	*type = (c >> 4) & 7;
	sz = c & 15;
	while (c & 0x80) {
		if (pos >= end || shift > 56)
			return false;
		c = d[pos++];
		sz += (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	}
	if (sz > RAW_MAX_OBJECT)
		return false;
	*size = (size_t)sz;
	if (*type == GIT_OBJECT_OFS_DELTA) {
		uint64_t ofs;

		if (pos >= end)
			return false;
		c = d[pos++];
		ofs = c & 127;
		while (c & 128) {
			if (pos >= end || ofs > (UINT64_MAX >> 8))
				return false;
			c = d[pos++];
			ofs = ((ofs + 1) << 7) + (c & 127);
		}
		if (ofs == 0 || ofs > off)
			return false;
		*base_off = off - ofs;
	} else if (*type == GIT_OBJECT_REF_DELTA) {
		if (end - pos < RAW_OIDSZ)
			return false;
		*base_oid = d + pos;
		pos += RAW_OIDSZ;
	} else if (*type < GIT_OBJECT_COMMIT || *type > GIT_OBJECT_TAG) {
		return false;
	}
	*data_off = pos;
	return true;
}

/* Inflates exactly size bytes at data_off into out (size + 1 bytes). */
static bool inflate_at(cairn_git_odb *db, const struct pack *p,
		       uint64_t data_off, size_t size, unsigned char *out)
{
	uint64_t avail = p->len - RAW_OIDSZ - data_off;
	int rc;

	if (inflateReset(&db->z) != Z_OK)
		return false;
	db->z.next_in = p->data + data_off;
	db->z.avail_in = avail > UINT32_MAX ? UINT32_MAX : (uInt)avail;
	db->z.next_out = out;
	db->z.avail_out = (uInt)size + 1;
	rc = inflate(&db->z, Z_FINISH);
	out[size] = '\0';
	return rc == Z_STREAM_END && db->z.total_out == size;
}

static bool delta_varint(const unsigned char **p, const unsigned char *end,
			 size_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	unsigned char c;

	do {
		if (*p >= end || shift > 56)
			return false;
		c = *(*p)++;
		v |= (uint64_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	if (v > RAW_MAX_OBJECT)
		return false;
	*out = (size_t)v;
	return true;
}

/*
 * Applies a git delta to base; NULL when the delta is malformed.  *head
 * and *tail receive how many leading and trailing bytes the result copies
 * unchanged from the same place in the base (a lower bound).
 */
static unsigned char *apply_delta(const cairn_git_obj *base,
				  const unsigned char *d, size_t dlen,
				  size_t *outlen, size_t *head, size_t *tail)
{
	const unsigned char *end = d + dlen;
	size_t src, dst, pos = 0, last_off = 0, last_n = 0;
	bool in_head = true, last_copy = false;
	unsigned char *out;

	*head = *tail = 0;
	if (!delta_varint(&d, end, &src) || src != base->len ||
	    !delta_varint(&d, end, &dst))
		return NULL;
	out = malloc(dst + 1);
	if (!out)
		return NULL;
	while (d < end) {
		unsigned char c = *d++;

		if (c & 0x80) {
			size_t off = 0, n = 0;
			int i;

			for (i = 0; i < 4; i++)
				if (c & (1u << i)) {
					if (d >= end)
						goto bad;
					off |= (size_t)*d++ << (8 * i);
				}
			for (i = 0; i < 3; i++)
				if (c & (0x10u << i)) {
					if (d >= end)
						goto bad;
					n |= (size_t)*d++ << (8 * i);
				}
			if (n == 0)
				n = 0x10000;
			if (off > base->len || n > base->len - off ||
			    n > dst - pos)
				goto bad;
			memcpy(out + pos, base->data + off, n);
			if (in_head && off == pos)
				*head = pos + n;
			else
				in_head = false;
			pos += n;
			last_copy = true;
			last_off = off;
			last_n = n;
		} else if (c) {
			if (c > (size_t)(end - d) || c > dst - pos)
				goto bad;
			memcpy(out + pos, d, c);
			d += c;
			pos += c;
			in_head = false;
			last_copy = false;
		} else {
			goto bad;
		}
	}
	if (pos != dst)
		goto bad;
	if (last_copy && last_off + last_n == base->len)
		*tail = last_n;
	out[dst] = '\0';
	*outlen = dst;
	return out;
bad:
	free(out);
	return NULL;
}

static bool find_packed(const cairn_git_odb *db, const unsigned char *raw,
			size_t *pack, uint64_t *off)
{
	size_t i;

	for (i = 0; i < db->npacks; i++)
		if (pack_find(&db->packs[i], raw, off)) {
			*pack = i;
			return true;
		}
	return false;
}

/*
 * Builds the object at (pack, off): walks the delta chain down to a
 * cached object or a whole one, then applies the deltas back up, keeping
 * every result.  Returns NULL when anything looks wrong (the caller then
 * asks libgit2).
 */
static cairn_git_obj *read_packed(cairn_git_odb *db, size_t pack, uint64_t off)
{
	cairn_git_obj *base = NULL;
	size_t nsteps = 0;

	for (;;) {
		const struct pack *p = &db->packs[pack];
		const unsigned char *base_oid = NULL;
		uint64_t data_off, base_off = 0;
		unsigned char *buf;
		size_t size;
		int type;

		base = cache_get(db, raw_key(pack, off));
		if (base)
			break;
		if (!obj_header(p, off, &type, &size, &data_off, &base_off,
				&base_oid))
			return NULL;
		if (type == GIT_OBJECT_OFS_DELTA ||
		    type == GIT_OBJECT_REF_DELTA) {
			if (nsteps >= 10000 ||
			    cairn__grow_array((void **)&db->steps, &db->asteps,
					      nsteps + 1,
					      sizeof(*db->steps)) < 0) {
				cairn_error_clear();
				return NULL;
			}
			db->steps[nsteps].pack = pack;
			db->steps[nsteps].off = off;
			db->steps[nsteps].data_off = data_off;
			db->steps[nsteps].size = size;
			nsteps++;
			if (type == GIT_OBJECT_REF_DELTA) {
				if (!find_packed(db, base_oid, &pack, &off))
					return NULL;
			} else {
				off = base_off;
			}
			continue;
		}
		buf = malloc(size + 1);
		if (!buf)
			return NULL;
		if (!inflate_at(db, p, data_off, size, buf)) {
			free(buf);
			return NULL;
		}
		base = raw_new((git_object_t)type, buf, size);
		if (!base) {
			free(buf);
			return NULL;
		}
		base->key = raw_key(pack, off);
		if (nsteps || type != GIT_OBJECT_COMMIT)
			cache_put(db, base, base->key);
		break;
	}
	while (nsteps) {
		const struct rawstep *s = &db->steps[--nsteps];
		cairn_git_obj *obj;
		unsigned char *buf;
		size_t len, head, tail;

		if (s->size + 1 > db->ascratch) {
			unsigned char *n = realloc(db->scratch, s->size + 1);

			if (!n)
				goto fail;
			db->scratch = n;
			db->ascratch = s->size + 1;
		}
		if (!inflate_at(db, &db->packs[s->pack], s->data_off, s->size,
				db->scratch))
			goto fail;
		buf = apply_delta(base, db->scratch, s->size, &len, &head,
				  &tail);
		if (!buf)
			goto fail;
		obj = raw_new(base->type, buf, len);
		if (!obj) {
			free(buf);
			goto fail;
		}
		obj->base_key = base->key;
		obj->same_head = head;
		obj->same_tail = tail;
		obj->key = raw_key(s->pack, s->off);
		raw_release(base);
		base = obj;
		cache_put(db, base, base->key);
	}
	return base;
fail:
	raw_release(base);
	return NULL;
}

int cairn_git__odb_read(cairn_git_obj **out, cairn_git_odb *db,
			    const git_oid *id)
{
	git_odb_object *gobj = NULL;
	cairn_git_obj *o;
	uint64_t off;
	size_t pack;
	int rc;

	*out = NULL;
	if (find_packed(db, id->id, &pack, &off)) {
		o = read_packed(db, pack, off);
		if (o) {
			db->stat_packed++;
			*out = o;
			return 0;
		}
	}
	db->stat_fallback++;
	rc = git_odb_read(&gobj, db->odb, id);
	if (rc < 0) {
		char hex[GIT_OID_HEXSZ + 1];

		git_oid_tostr(hex, sizeof(hex), id);
		cairn_git__error("cannot read object %s", hex);
		return rc == GIT_ENOTFOUND ? CAIRN_ENOTFOUND : CAIRN_ERROR;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		git_odb_object_free(gobj);
		return cairn_error__oom();
	}
	o->gobj = gobj;
	o->data = git_odb_object_data(gobj);
	o->len = git_odb_object_size(gobj);
	o->type = git_odb_object_type(gobj);
	o->refs = 1;
	*out = o;
	return 0;
}

