/*
 * fuzz_provcache.c - fuzz target for the provenance cache reader
 * (cairn_provcache__parse() in src/provenance_cache.c).
 *
 * The input is the body of an entry; the target appends the closing
 * "end <SHA-256>" line itself, as anyone who can write .git/cairn/ can,
 * so the fuzzer reaches the parser instead of stopping at the checksum.
 * The commit and directory the entry is asked for are taken from its
 * own "commit" and "dir" lines when present, so matching entries get
 * through too.
 *
 * Every input must either be refused or parse into an entry whose
 * commit ids are 40 hex digits, whose file indexes lie inside the
 * commit table (or are -1 together), whose strings lie inside the
 * buffer, and in which every file is found again by its path; never
 * crash, leak or read out of bounds.  Build with libFuzzer through
 * `make fuzz`; built plainly, main() in fuzz_main.h replays files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "provenance_internal.h"
#include "util/util.h"

/* The value of the line starting with key (copied), or a default. */
static char *line_value(const uint8_t *data, size_t size, const char *key,
			const char *dflt)
{
	size_t n = strlen(key), i = 0;

	while (i < size) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - data) : size;

		if (end - i > n && !memcmp(data + i, key, n)) {
			char *v = malloc(end - i - n + 1);

			if (!v)
				abort();
			memcpy(v, data + i + n, end - i - n);
			v[end - i - n] = '\0';
			return v;
		}
		i = end + 1;
	}
	return strdup(dflt);
}

static bool in_buf(const cairn_provcache *c, const char *s)
{
	return s >= c->data && s + strlen(s) < c->data + c->len + 1;
}

static void check(const cairn_provcache *c)
{
	size_t i;

	for (i = 0; i < c->ncommits; i++)
		if (!in_buf(c, c->commits[i].sha) ||
		    strlen(c->commits[i].sha) != 40)
			abort();
	for (i = 0; i < c->nfiles; i++) {
		const cairn_provcache_file *f = &c->files[i];
		const cairn_provcache_file *g;

		if (!in_buf(c, f->path) || !in_buf(c, f->blob) ||
		    !in_buf(c, f->intro_path) || !*f->path ||
		    strlen(f->blob) != 40)
			abort();
		if (f->intro < -1 || f->changed < -1 ||
		    f->intro >= (int32_t)c->ncommits ||
		    f->changed >= (int32_t)c->ncommits ||
		    (f->intro < 0) != (f->changed < 0))
			abort();
		g = cairn_provcache__find(c, f->path);
		if (!g || strcmp(g->path, f->path) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_provcache c;
	char hex[65], *commit, *dir;

	if (size > 1 << 20)
		return 0;
	memset(&c, 0, sizeof(c));
	c.len = size + 69;
	c.data = malloc(c.len + 1);
	if (!c.data)
		abort();
	memcpy(c.data, data, size);
	if (cairn__sha256_hex(hex, data, size) < 0)
		abort();
	snprintf(c.data + size, 70, "end %s\n", hex);
	commit = line_value(data, size, "commit ", "0000000000000000000000000000000000000000");
	dir = line_value(data, size, "dir ", "db/migrations");
	if (!commit || !dir)
		abort();
	if (cairn_provcache__parse(&c, dir, commit))
		check(&c);
	cairn_provcache__dispose(&c);
	cairn_error_clear();
	free(commit);
	free(dir);
	return 0;
}

#include "fuzz_main.h"
