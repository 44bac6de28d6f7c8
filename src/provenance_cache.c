/*
 * provenance_cache.c - the provenance cache under <commondir>/cairn/.
 *
 * One file per (migrations directory, commit), named
 * provenance-<dirkey>-<commit>; the directory comes with the naming of
 * its files when that is not the default (see provenance_internal.h).
 * The format is line-based text so that a warm read of 10,000 migrations
 * is one read(2), one SHA-256 and one pass that splits lines in place
 * (no allocation per line):
 *
 *	cairn-provenance 2
 *	commit <sha>
 *	dir <dir>
 *	commits <N>
 *	<sha>
 *	... N lines
 *	files <M>
 *	<blob> TAB <introduced> TAB <changed> TAB <path> TAB <intro path>
 *	... M lines (introduced/changed index the commit lines; -1: none;
 *	intro path is empty unless the file was renamed since)
 *	end <SHA-256 of every byte before this line>    (unsealed)
 *	mac <HMAC-SHA256 of those bytes under the user's key>  (sealed)
 *
 * Paths escape backslash, tab, newline, carriage return and other
 * control bytes (\\, \t, \n, \r, \xNN).  A file that fails any check -
 * missing, truncated, another version, a bad checksum, a different
 * commit or directory - is treated as absent.
 *
 * A plain checksum only catches damage: anyone who can write the
 * directory can recompute it.  So an entry holds claims, never answers:
 * the commits are bare ids (authors, dates and summaries are always read
 * from the commit objects, which are content-addressed), and every claim
 * "commit C introduced path P" of an unsealed entry is checked against
 * the object database before it is used (src/provenance_result.c).  An
 * entry sealed with this user's key (provenance_key.c, kept outside the
 * repository) can only have been written by this user's cairn, so its
 * claims are used as written: that keeps a warm lookup of every
 * migration one read and one HMAC.  An entry sealed with another key (a
 * repository copied from elsewhere) is treated as absent.  The files themselves are
 * handled as hostile too: the directory is opened relative to the git
 * directory with O_NOFOLLOW (a symlinked cairn/ is refused, never
 * written through), created 0700, entries are opened with
 * O_NOFOLLOW|O_NONBLOCK and used only when fstat(2) says they are
 * regular files (a FIFO cannot block a read) owned by us and writable by
 * nobody else, and written 0600 through
 * a temporary file renamed into place, so readers never see a
 * half-written entry.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "provenance_internal.h"
#include "util/util.h"

#define MAGIC "cairn-provenance 2"
#define MAX_CACHE_FILE ((size_t)512 * 1024 * 1024)

static int dirkey(char out[17], const char *dir)
{
	char hex[65];

	if (cairn__sha256_hex(hex, dir, strlen(dir)) < 0)
		return CAIRN_ERROR;
	memcpy(out, hex, 16);
	out[16] = '\0';
	return 0;
}

static int entry_name(cairn_buf *out, const char *dir, const char *commit)
{
	char key[17];

	if (dirkey(key, dir) < 0)
		return CAIRN_ERROR;
	return cairn_buf_printf(out, "provenance-%s-%s", key, commit);
}

/*
 * Opens the cache directory: its parent normally (the git directory may
 * be reached through links, as git allows), the last component with
 * O_NOFOLLOW.  With create, makes it (0700) when absent and takes group
 * and other permissions away from one we own.  -1 when it cannot be
 * used; errno tells why.
 */
static int open_cachedir(const char *cachedir, bool create)
{
	const char *slash = strrchr(cachedir, '/');
	cairn_buf parent = CAIRN_BUF_INIT;
	struct stat st;
	int pfd, fd = -1;

	if (!slash || !slash[1]) {
		errno = EINVAL;
		return -1;
	}
	if (cairn_buf_put(&parent, cachedir,
			  slash == cachedir ? 1 : (size_t)(slash - cachedir)) < 0) {
		cairn_error_clear();
		errno = ENOMEM;
		return -1;
	}
	pfd = open(parent.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cairn_buf_dispose(&parent);
	if (pfd < 0)
		return -1;
	if (create && mkdirat(pfd, slash + 1, 0700) < 0 && errno != EEXIST)
		goto out;
	fd = openat(pfd, slash + 1,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		errno = EPERM;
		goto fail;
	}
	if (create && (st.st_mode & 077) && fchmod(fd, 0700) < 0)
		goto fail;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	fd = -1;
out:
	close(pfd);
	return fd;
}

/* ---- reading ---------------------------------------------------------- */

static const unsigned char hexdigit[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
};

static bool is_hex(const char *s, size_t n)
{
	unsigned bad = 0;
	size_t i;

	for (i = 0; i < n; i++)
		bad |= hexdigit[(unsigned char)s[i]] ^ 1u;
	return !bad;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Unescapes [s, e) in place and NUL-terminates; false when malformed. */
static bool unescape(char *s, char *e)
{
	char *w = s;

	while (s < e) {
		if (*s != '\\') {
			*w++ = *s++;
			continue;
		}
		if (e - s < 2)
			return false;
		switch (s[1]) {
		case '\\': *w++ = '\\'; s += 2; break;
		case 't': *w++ = '\t'; s += 2; break;
		case 'n': *w++ = '\n'; s += 2; break;
		case 'r': *w++ = '\r'; s += 2; break;
		case 'x': {
			int hi, lo;

			if (e - s < 4)
				return false;
			hi = hexval(s[2]);
			lo = hexval(s[3]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			*w++ = (char)(hi * 16 + lo);
			s += 4;
			break;
		}
		default:
			return false;
		}
	}
	*w = '\0';
	return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (uint64_t)INT64_MAX / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

struct cursor {
	char *p;
	char *end;
};

/* The next line, NUL-terminated in place (without its '\n'). */
static char *next_line(struct cursor *c)
{
	char *s = c->p, *nl;

	if (s >= c->end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(c->end - s));
	if (!nl)
		return NULL;
	*nl = '\0';
	c->p = nl + 1;
	return s;
}

/* Splits line at tabs into exactly n fields, unescaping each. */
static bool fields(char *line, char **f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *t = i + 1 < n ? strchr(line, '\t') : NULL;
		char *e = t ? t : line + strlen(line);

		if (i + 1 < n && !t)
			return false;
		if (i + 1 == n && strchr(line, '\t'))
			return false;
		if (!unescape(line, e))
			return false;
		f[i] = line;
		line = t ? t + 1 : e;
	}
	return true;
}

static bool header(struct cursor *c, const char *key, char **value)
{
	char *l = next_line(c);
	size_t n = strlen(key);

	if (!l || strncmp(l, key, n) != 0 || l[n] != ' ')
		return false;
	*value = l + n + 1;
	return true;
}

static bool parse_count(const char *s, size_t *out, size_t max)
{
	int64_t v;

	if (!parse_i64(s, &v) || v < 0 || (uint64_t)v > max)
		return false;
	*out = (size_t)v;
	return true;
}

static uint32_t hash_path(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static bool index_paths(cairn_provcache *c)
{
	size_t i, n = 16;

	while (n < c->nfiles * 2)
		n *= 2;
	c->buckets = calloc(n, sizeof(*c->buckets));
	c->chain = calloc(c->nfiles ? c->nfiles : 1, sizeof(*c->chain));
	if (!c->buckets || !c->chain)
		return false;
	c->nbuckets = n;
	for (i = 0; i < c->nfiles; i++) {
		uint32_t b = hash_path(c->files[i].path) & (uint32_t)(n - 1);

		c->chain[i] = c->buckets[b];
		c->buckets[b] = (uint32_t)i + 1;
	}
	return true;
}

bool cairn_provcache__parse(cairn_provcache *c, const char *dir,
			    const char *commit)
{
	struct cursor cur;
	char *l, *v, *f[5], hex[65];
	size_t i, endpos;

	/*
	 * The last line closes the file: "end <SHA-256>\n" (unsealed) or
	 * "mac <HMAC-SHA256 under this user's key>\n" (sealed).
	 */
	c->sealed = false;
	if (c->len < 70 || c->data[c->len - 1] != '\n')
		return false;
	endpos = c->len - 69;
	if ((endpos && c->data[endpos - 1] != '\n') ||
	    !is_hex(c->data + endpos + 4, 64))
		return false;
	if (memcmp(c->data + endpos, "end ", 4) == 0) {
		if (cairn__sha256_hex(hex, c->data, endpos) < 0) {
			cairn_error_clear();
			return false;
		}
	} else if (memcmp(c->data + endpos, "mac ", 4) == 0 && c->has_key) {
		if (cairn__hmac_sha256_hex(hex, c->key, sizeof(c->key),
					   c->data, endpos) < 0) {
			cairn_error_clear();
			return false;
		}
		c->sealed = true;
	} else {
		return false; /* sealed with a key we do not have */
	}
	if (memcmp(hex, c->data + endpos + 4, 64) != 0) {
		c->sealed = false;
		return false;
	}
	cur.p = c->data;
	cur.end = c->data + endpos;

	l = next_line(&cur);
	if (!l || strcmp(l, MAGIC) != 0)
		return false;
	if (!header(&cur, "commit", &v) || strcmp(v, commit) != 0)
		return false;
	if (!header(&cur, "dir", &v) || !unescape(v, v + strlen(v)) ||
	    strcmp(v, dir) != 0)
		return false;
	if (!header(&cur, "commits", &v) ||
	    !parse_count(v, &c->ncommits, c->len / 8))
		return false;
	c->commits = calloc(c->ncommits ? c->ncommits : 1,
			    sizeof(*c->commits));
	if (!c->commits)
		return false;
	for (i = 0; i < c->ncommits; i++) {
		l = next_line(&cur);
		if (!l || strlen(l) != 40 || !is_hex(l, 40))
			return false;
		c->commits[i].sha = l;
	}
	if (!header(&cur, "files", &v) ||
	    !parse_count(v, &c->nfiles, c->len / 8))
		return false;
	c->files = calloc(c->nfiles ? c->nfiles : 1, sizeof(*c->files));
	if (!c->files)
		return false;
	for (i = 0; i < c->nfiles; i++) {
		cairn_provcache_file *fl = &c->files[i];
		int64_t a, b;

		l = next_line(&cur);
		if (!l || !fields(l, f, 5))
			return false;
		if (strlen(f[0]) != 40 || !is_hex(f[0], 40) ||
		    !parse_i64(f[1], &a) || !parse_i64(f[2], &b) ||
		    a < -1 || b < -1 || a >= (int64_t)c->ncommits ||
		    b >= (int64_t)c->ncommits || (a < 0) != (b < 0) ||
		    !*f[3])
			return false;
		fl->blob = f[0];
		fl->intro = (int32_t)a;
		fl->changed = (int32_t)b;
		fl->path = f[3];
		fl->intro_path = f[4];
	}
	if (cur.p != cur.end)
		return false;
	return index_paths(c);
}

int cairn_provcache__load(cairn_provcache *out, const char *cachedir,
			  const char *dir, const char *commit)
{
	cairn_buf name = CAIRN_BUF_INIT;
	struct stat st;
	int dfd = -1, fd = -1, rc = CAIRN_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	if (entry_name(&name, dir, commit) < 0) {
		cairn_error_clear();
		goto out;
	}
	dfd = open_cachedir(cachedir, false);
	if (dfd < 0)
		goto out;
	fd = openat(dfd, name.ptr,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	/* a regular file we wrote: ours and writable by nobody else */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_size <= 0 || (uint64_t)st.st_size > MAX_CACHE_FILE)
		goto out;
	out->len = (size_t)st.st_size;
	out->data = malloc(out->len + 1);
	if (!out->data)
		goto out;
	if (cairn__read_exact(fd, out->data, out->len) < 0)
		goto out;
	out->data[out->len] = '\0';
	out->has_key = cairn_provcache__key(out->key);
	if (cairn_provcache__parse(out, dir, commit))
		rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	cairn_buf_dispose(&name);
	if (rc < 0)
		cairn_provcache__dispose(out);
	return rc;
}

const cairn_provcache_file *cairn_provcache__find(const cairn_provcache *c,
						  const char *path)
{
	uint32_t i;

	if (!c->nbuckets)
		return NULL;
	i = c->buckets[hash_path(path) & (uint32_t)(c->nbuckets - 1)];
	while (i) {
		const cairn_provcache_file *f = &c->files[i - 1];

		if (!strcmp(f->path, path))
			return f;
		i = c->chain[i - 1];
	}
	return NULL;
}

void cairn_provcache__dispose(cairn_provcache *c)
{
	free(c->data);
	free(c->commits);
	free(c->files);
	free(c->buckets);
	free(c->chain);
	memset(c, 0, sizeof(*c));
}

/* ---- listing ---------------------------------------------------------- */

struct cand {
	char *sha;
	struct timespec mtime;
};

static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->mtime.tv_sec != b->mtime.tv_sec)
		return a->mtime.tv_sec > b->mtime.tv_sec ? -1 : 1;
	if (a->mtime.tv_nsec != b->mtime.tv_nsec)
		return a->mtime.tv_nsec > b->mtime.tv_nsec ? -1 : 1;
	return strcmp(a->sha, b->sha);
}

/* Entries for dir in the directory dfd, newest first; caller frees. */
static int list_entries(struct cand **out, size_t *count, int dfd,
			const char *dir)
{
	char key[17], prefix[64];
	struct cand *c = NULL;
	size_t n = 0, alloc = 0, plen;
	struct dirent *de;
	DIR *d;
	int fd;

	*out = NULL;
	*count = 0;
	if (dirkey(key, dir) < 0)
		return CAIRN_ERROR;
	plen = (size_t)snprintf(prefix, sizeof(prefix), "provenance-%s-", key);
	fd = dup(dfd);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		const char *sha = de->d_name + plen;

		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    strlen(sha) != 40 || !is_hex(sha, 40))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (cairn__grow_array((void **)&c, &alloc, n + 1,
				      sizeof(*c)) < 0)
			break;
		c[n].sha = cairn__strdup(sha);
		if (!c[n].sha)
			break;
		c[n].mtime = st.st_mtim;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(c, n, sizeof(*c), cand_cmp);
	*out = c;
	*count = n;
	return 0;
}

int cairn_provcache__candidates(cairn_strvec *out, const char *cachedir,
				const char *dir, size_t max)
{
	struct cand *c;
	size_t n, i;
	int rc;

	int dfd = open_cachedir(cachedir, false);

	if (dfd < 0)
		return 0;
	rc = list_entries(&c, &n, dfd, dir);
	close(dfd);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (rc == 0 && out->count < max)
			rc = cairn_strvec_push_owned(out, c[i].sha);
		else
			free(c[i].sha);
	}
	free(c);
	return rc;
}

/* ---- writing ---------------------------------------------------------- */

static int put_escaped(cairn_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	int rc = 0;

	for (; *s && rc == 0; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[4] = { '\\', 0, 0, 0 };
		size_t n = 2;

		if (ch >= 0x20 && ch != 0x7f && ch != '\\')
			continue;
		if (s > run)
			rc = cairn_buf_put(b, run, (size_t)(s - run));
		run = s + 1;
		switch (ch) {
		case '\\': esc[1] = '\\'; break;
		case '\t': esc[1] = 't'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		default:
			esc[1] = 'x';
			esc[2] = hex[ch >> 4];
			esc[3] = hex[ch & 15];
			n = 4;
		}
		if (rc == 0)
			rc = cairn_buf_put(b, esc, n);
	}
	if (rc == 0 && s > run)
		rc = cairn_buf_put(b, run, (size_t)(s - run));
	return rc;
}

static int render(cairn_buf *b, const char *dir, const char *commit,
		  const cairn_provcache_commit *commits, size_t ncommits,
		  const cairn_provcache_file *files, size_t nfiles)
{
	unsigned char key[CAIRN_PROVCACHE_KEYLEN];
	bool sealed = cairn_provcache__key(key);
	char hex[65];
	size_t i;
	int rc;

	rc = cairn_buf_printf(b, MAGIC "\ncommit %s\ndir ", commit);
	if (rc == 0)
		rc = put_escaped(b, dir);
	if (rc == 0)
		rc = cairn_buf_printf(b, "\ncommits %zu\n", ncommits);
	for (i = 0; i < ncommits && rc == 0; i++)
		rc = cairn_buf_printf(b, "%.40s\n", commits[i].sha);
	if (rc == 0)
		rc = cairn_buf_printf(b, "files %zu\n", nfiles);
	for (i = 0; i < nfiles && rc == 0; i++) {
		const cairn_provcache_file *f = &files[i];

		rc = cairn_buf_printf(b, "%s\t%d\t%d\t", f->blob,
				      (int)f->intro, (int)f->changed);
		if (rc == 0)
			rc = put_escaped(b, f->path);
		if (rc == 0)
			rc = cairn_buf_putc(b, '\t');
		if (rc == 0 && f->intro_path)
			rc = put_escaped(b, f->intro_path);
		if (rc == 0)
			rc = cairn_buf_putc(b, '\n');
	}
	if (rc == 0)
		rc = sealed ? cairn__hmac_sha256_hex(hex, key, sizeof(key),
						     b->ptr, b->size)
			    : cairn__sha256_hex(hex, b->ptr, b->size);
	if (rc == 0)
		rc = cairn_buf_printf(b, "%s %s\n", sealed ? "mac" : "end", hex);
	memset(key, 0, sizeof(key));
	return rc;
}

static void prune(int dfd, const char *dir)
{
	struct cand *c;
	size_t n, i;
	char key[17];

	if (list_entries(&c, &n, dfd, dir) < 0 || dirkey(key, dir) < 0) {
		cairn_error_clear();
		return;
	}
	for (i = 0; i < n; i++) {
		if (i >= CAIRN_PROVCACHE_KEEP) {
			cairn_buf p = CAIRN_BUF_INIT;

			if (cairn_buf_printf(&p, "provenance-%s-%s", key,
					     c[i].sha) == 0)
				unlinkat(dfd, p.ptr, 0);
			cairn_buf_dispose(&p);
		}
		free(c[i].sha);
	}
	free(c);
}

static int os_error(const char *what, const char *dir, const char *name)
{
	return cairn_error__set(CAIRN_ERRCLASS_OS, "cannot %s '%s/%s': %s",
				what, dir, name, strerror(errno));
}

int cairn_provcache__write(const char *cachedir, const char *dir,
			   const char *commit,
			   const cairn_provcache_commit *commits,
			   size_t ncommits, const cairn_provcache_file *files,
			   size_t nfiles)
{
	cairn_buf body = CAIRN_BUF_INIT;
	cairn_buf dst = CAIRN_BUF_INIT;
	int dfd = -1, rc;

	rc = render(&body, dir, commit, commits, ncommits, files, nfiles);
	if (rc < 0)
		goto out;
	dfd = open_cachedir(cachedir, true);
	if (dfd < 0) {
		rc = cairn_error__set(CAIRN_ERRCLASS_OS,
				      "cannot use '%s': %s", cachedir,
				      strerror(errno));
		goto out;
	}
	rc = entry_name(&dst, dir, commit);
	if (rc < 0)
		goto out;
	if (cairn__file_replace(dfd, dst.ptr, body.ptr, body.size, 0600, 0) < 0) {
		rc = os_error("write", cachedir, dst.ptr);
		goto out;
	}
	prune(dfd, dir);
out:
	if (dfd >= 0)
		close(dfd);
	cairn_buf_dispose(&body);
	cairn_buf_dispose(&dst);
	return rc;
}
