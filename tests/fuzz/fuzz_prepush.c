/*
 * fuzz_prepush.c - fuzz target for git's hook input parsers:
 * cairn_prepush_parse() (pre-push's "<local ref> <local sha> <remote ref>
 * <remote sha>" lines) and cairn_rewrite_parse() (post-rewrite's "<old>
 * <new>" lines), both in src/prepush_input.c.
 *
 * Every input must either parse, giving updates whose ids are 40 or 64
 * lowercase hex digits of equal length and whose refs are non-empty and
 * free of spaces and control characters, or fail with an error that
 * names a line; never crash, leak or read out of bounds.
 *
 * With libFuzzer (clang):
 *   clang -DCAIRN_LIBFUZZER -fsanitize=fuzzer,address,undefined \
 *     -std=c11 -D_GNU_SOURCE -Iinclude -Isrc \
 *     $(pkg-config --cflags libpq) tests/fuzz/fuzz_prepush.c src/?*.c \
 *     hooks/?*.c $(pkg-config --libs libgit2 libpq yaml-0.1 libcurl \
 *     jansson libcrypto) -ldl -lm -lpthread -o fuzz_prepush
 *   ./fuzz_prepush -max_len=20000 corpus/
 * Without it, main() below runs the target once over each file named on
 * the command line (a corpus replay, or a regression check), so the file
 * also builds with a plain cc.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/prepush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_id(const char *id, size_t want)
{
	size_t n = strlen(id);

	if (n != 40 && n != 64)
		abort();
	if (want && n != want)
		abort();
	if (strspn(id, "0123456789abcdef") != n)
		abort();
}

static void check_ref(const char *ref)
{
	if (!*ref || strchr(ref, ' '))
		abort();
	for (; *ref; ref++)
		if ((unsigned char)*ref < 0x20 || *ref == 0x7f)
			abort();
}

static void check_failure(void)
{
	const cairn_error *e = cairn_error_last();

	/* a failure always explains itself and names the line */
	if (!e || !e->message || !strstr(e->message, "on line "))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_push_updates u = CAIRN_PUSH_UPDATES_INIT;
	cairn_rewrites r = CAIRN_REWRITES_INIT;
	size_t i;

	if (cairn_prepush_parse(&u, (const char *)data, size) == 0) {
		for (i = 0; i < u.count; i++) {
			check_ref(u.items[i].local_ref);
			check_ref(u.items[i].remote_ref);
			check_id(u.items[i].local_sha, 0);
			check_id(u.items[i].remote_sha,
				 strlen(u.items[i].local_sha));
			if (u.items[i].line == 0)
				abort();
		}
	} else {
		check_failure();
	}
	cairn_push_updates_dispose(&u);
	cairn_error_clear();

	if (cairn_rewrite_parse(&r, (const char *)data, size) == 0) {
		for (i = 0; i < r.count; i++) {
			check_id(r.items[i].old_sha, 0);
			check_id(r.items[i].new_sha, 0);
		}
	} else {
		check_failure();
	}
	cairn_rewrites_dispose(&r);
	cairn_error_clear();
	return 0;
}

#include "fuzz_main.h"
