/*
 * fuzz_filename.c - fuzz target for migration file names
 * (cairn_migration_parse_filename in src/migration.c).
 *
 * Built with -DCAIRN_LIBFUZZER and -fsanitize=fuzzer it is a libFuzzer
 * target; built plainly it is a small program that runs the same check
 * on every file named on its command line (a corpus, a crash to replay):
 *
 *	cc -Iinclude -Isrc tests/fuzz/fuzz_filename.c build/libcairn.a \
 *	   $(pkg-config --libs libgit2 libcrypto)
 *
 * Besides "does not crash", it checks what a successful parse promises:
 * the parts lie inside the name, the version is 1-20 digits followed by
 * '_', the name is [A-Za-z0-9_.-]+ (not starting or ending with '.')
 * and the rest is .up.sql or .down.sql.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/migration.h"

static void check(const char *base, size_t len)
{
	size_t vlen = 0, nlen = 0, i;
	const char *name = NULL;
	bool down = false;

	if (!cairn_migration_parse_filename(base, &vlen, &name, &nlen, &down))
		return;
	if (vlen < 1 || vlen > 20 || base[vlen] != '_' ||
	    name != base + vlen + 1 || nlen < 1 || vlen + 1 + nlen > len)
		abort();
	for (i = 0; i < vlen; i++)
		if (base[i] < '0' || base[i] > '9')
			abort();
	for (i = 0; i < nlen; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			abort();
	}
	if (name[0] == '.' || name[nlen - 1] == '.')
		abort();
	if (strcmp(name + nlen, down ? ".down.sql" : ".up.sql") != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *base = malloc(size + 1);

	if (!base)
		return 0;
	memcpy(base, data, size);
	base[size] = '\0';
	/* a file name ends at its first NUL, as it does on disk */
	check(base, strlen(base));
	free(base);
	return 0;
}

#include "fuzz_main.h"
