/*
 * provenance_cache.c - the provenance cache under <commondir>/cairn/.
 *
 * One file per (migrations directory, commit), named
 * provenance-<dirkey>-<commit>.  The format is line-based text so that a
 * warm read of 10,000 migrations is one read(2), one SHA-256 and one
 * pass that splits lines in place (no allocation per line):
 *
 *	cairn-provenance 1
 *	commit <sha>
 *	dir <dir>
 *	commits <N>
 *	<sha> TAB <time> TAB <offset> TAB <name> TAB <email> TAB <summary>
 *	... N lines
 *	files <M>
 *	<blob> TAB <introduced> TAB <changed> TAB <path>
 *	... M lines (introduced/changed index the commit lines; -1: none)
 *	end <SHA-256 of every byte before this line>
 *
 * Text fields escape backslash, tab, newline, carriage return and other
 * control bytes (\\, \t, \n, \r, \xNN), so any path or author name fits
 * on its line.  A file that fails any check - missing, truncated, another
 * version, a bad checksum, a different commit or directory - is treated
 * as absent: the cache can make an answer faster, never different.
 * Writers write a temporary file and rename it into place, so readers
 * never see a half-written entry.
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

#include "buf.h"
#include "error.h"
#include "provenance_internal.h"

#define MAGIC "cairn-provenance 1"
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

static int entry_path(cairn_buf *out, const char *cachedir, const char *dir,
		      const char *commit)
{
	char key[17];

	if (dirkey(key, dir) < 0)
		return CAIRN_ERROR;
	return cairn_buf_printf(out, "%s/provenance-%s-%s", cachedir, key,
				commit);
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

static bool parse(cairn_provcache *c, const char *dir, const char *commit)
{
	struct cursor cur;
	char *l, *v, *f[6], hex[65];
	size_t i, endpos;

	/* the checksum line closes the file: "end <64 hex>\n" */
	if (c->len < 70 || c->data[c->len - 1] != '\n')
		return false;
	endpos = c->len - 69;
	if (memcmp(c->data + endpos, "end ", 4) != 0 ||
	    (endpos && c->data[endpos - 1] != '\n') ||
	    !is_hex(c->data + endpos + 4, 64))
		return false;
	if (cairn__sha256_hex(hex, c->data, endpos) < 0) {
		cairn_error_clear();
		return false;
	}
	if (memcmp(hex, c->data + endpos + 4, 64) != 0)
		return false;
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
		cairn_provcache_commit *k = &c->commits[i];
		int64_t off;

		l = next_line(&cur);
		if (!l || !fields(l, f, 6))
			return false;
		if (strlen(f[0]) != 40 || !is_hex(f[0], 40) ||
		    !parse_i64(f[1], &k->time) || !parse_i64(f[2], &off) ||
		    off < -24 * 60 || off > 24 * 60)
			return false;
		k->sha = f[0];
		k->offset = (int)off;
		k->name = f[3];
		k->email = f[4];
		k->summary = f[5];
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
		if (!l || !fields(l, f, 4))
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
	}
	if (cur.p != cur.end)
		return false;
	return index_paths(c);
}

int cairn_provcache__load(cairn_provcache *out, const char *cachedir,
			  const char *dir, const char *commit)
{
	cairn_buf path = CAIRN_BUF_INIT;
	struct stat st;
	size_t got = 0;
	int fd = -1, rc = CAIRN_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	if (entry_path(&path, cachedir, dir, commit) < 0) {
		cairn_error_clear();
		goto out;
	}
	fd = open(path.ptr, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || (uint64_t)st.st_size > MAX_CACHE_FILE)
		goto out;
	out->len = (size_t)st.st_size;
	out->data = malloc(out->len + 1);
	if (!out->data)
		goto out;
	while (got < out->len) {
		ssize_t n = read(fd, out->data + got, out->len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	out->data[out->len] = '\0';
	if (parse(out, dir, commit))
		rc = 0;
out:
	if (fd >= 0)
		close(fd);
	cairn_buf_dispose(&path);
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

/* Entries for dir, newest first; caller frees the shas and the array. */
static int list_entries(struct cand **out, size_t *count,
			const char *cachedir, const char *dir)
{
	char key[17], prefix[64];
	struct cand *c = NULL;
	size_t n = 0, alloc = 0, plen;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*count = 0;
	if (dirkey(key, dir) < 0)
		return CAIRN_ERROR;
	plen = (size_t)snprintf(prefix, sizeof(prefix), "provenance-%s-", key);
	d = opendir(cachedir);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		cairn_buf p = CAIRN_BUF_INIT;
		struct stat st;
		const char *sha = de->d_name + plen;

		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    strlen(sha) != 40 || !is_hex(sha, 40))
			continue;
		if (cairn_buf_printf(&p, "%s/%s", cachedir, de->d_name) < 0 ||
		    stat(p.ptr, &st) < 0) {
			cairn_buf_dispose(&p);
			continue;
		}
		cairn_buf_dispose(&p);
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

	rc = list_entries(&c, &n, cachedir, dir);
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
	char hex[65];
	size_t i;
	int rc;

	rc = cairn_buf_printf(b, MAGIC "\ncommit %s\ndir ", commit);
	if (rc == 0)
		rc = put_escaped(b, dir);
	if (rc == 0)
		rc = cairn_buf_printf(b, "\ncommits %zu\n", ncommits);
	for (i = 0; i < ncommits && rc == 0; i++) {
		const cairn_provcache_commit *k = &commits[i];

		rc = cairn_buf_printf(b, "%s\t%lld\t%d\t", k->sha,
				      (long long)k->time, k->offset);
		if (rc == 0)
			rc = put_escaped(b, k->name ? k->name : "");
		if (rc == 0)
			rc = cairn_buf_putc(b, '\t');
		if (rc == 0)
			rc = put_escaped(b, k->email ? k->email : "");
		if (rc == 0)
			rc = cairn_buf_putc(b, '\t');
		if (rc == 0)
			rc = put_escaped(b, k->summary ? k->summary : "");
		if (rc == 0)
			rc = cairn_buf_putc(b, '\n');
	}
	if (rc == 0)
		rc = cairn_buf_printf(b, "files %zu\n", nfiles);
	for (i = 0; i < nfiles && rc == 0; i++) {
		const cairn_provcache_file *f = &files[i];

		rc = cairn_buf_printf(b, "%s\t%d\t%d\t", f->blob,
				      (int)f->intro, (int)f->changed);
		if (rc == 0)
			rc = put_escaped(b, f->path);
		if (rc == 0)
			rc = cairn_buf_putc(b, '\n');
	}
	if (rc == 0)
		rc = cairn__sha256_hex(hex, b->ptr, b->size);
	if (rc == 0)
		rc = cairn_buf_printf(b, "end %s\n", hex);
	return rc;
}

static void prune(const char *cachedir, const char *dir)
{
	struct cand *c;
	size_t n, i;
	char key[17];

	if (list_entries(&c, &n, cachedir, dir) < 0 || dirkey(key, dir) < 0)
		return;
	for (i = 0; i < n; i++) {
		if (i >= CAIRN_PROVCACHE_KEEP) {
			cairn_buf p = CAIRN_BUF_INIT;

			if (cairn_buf_printf(&p, "%s/provenance-%s-%s",
					     cachedir, key, c[i].sha) == 0)
				unlink(p.ptr);
			cairn_buf_dispose(&p);
		}
		free(c[i].sha);
	}
	free(c);
}

int cairn_provcache__write(const char *cachedir, const char *dir,
			   const char *commit,
			   const cairn_provcache_commit *commits,
			   size_t ncommits, const cairn_provcache_file *files,
			   size_t nfiles)
{
	cairn_buf body = CAIRN_BUF_INIT, tmp = CAIRN_BUF_INIT;
	cairn_buf dst = CAIRN_BUF_INIT;
	size_t off = 0;
	int fd = -1, rc;

	rc = render(&body, dir, commit, commits, ncommits, files, nfiles);
	if (rc < 0)
		goto out;
	if (mkdir(cachedir, 0777) < 0 && errno != EEXIST) {
		rc = cairn_error__set(CAIRN_ERRCLASS_OS,
				      "cannot create '%s': %s", cachedir,
				      strerror(errno));
		goto out;
	}
	rc = cairn_buf_printf(&tmp, "%s/.tmp-provenance-%ld-%lld", cachedir,
			      (long)getpid(), (long long)cairn__now_us());
	if (rc == 0)
		rc = entry_path(&dst, cachedir, dir, commit);
	if (rc < 0)
		goto out;
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		rc = cairn_error__set(CAIRN_ERRCLASS_OS,
				      "cannot create '%s': %s", tmp.ptr,
				      strerror(errno));
		goto out;
	}
	while (off < body.size) {
		ssize_t n = write(fd, body.ptr + off, body.size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = cairn_error__set(CAIRN_ERRCLASS_OS,
					      "cannot write '%s': %s", tmp.ptr,
					      strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = cairn_error__set(CAIRN_ERRCLASS_OS,
				      "cannot write '%s': %s", tmp.ptr,
				      strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp.ptr, dst.ptr) < 0) {
		rc = cairn_error__set(CAIRN_ERRCLASS_OS,
				      "cannot rename '%s': %s", tmp.ptr,
				      strerror(errno));
		goto out;
	}
	prune(cachedir, dir);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp.size)
		unlink(tmp.ptr);
	cairn_buf_dispose(&body);
	cairn_buf_dispose(&tmp);
	cairn_buf_dispose(&dst);
	return rc;
}
