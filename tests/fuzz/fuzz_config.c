/*
 * fuzz_config.c - fuzz target for the cairn.yaml parser.
 *
 * Feeds arbitrary bytes to cairn_config_parse() and frees whatever comes
 * back; the parser must never crash, leak or read out of bounds, whatever
 * the input (malformed YAML, aliases, deep nesting, bad UTF-8, NULs).
 * Variables expand through a fixed fake environment so runs do not depend
 * on the caller's.
 *
 * With libFuzzer (clang):
 *   clang -DCAIRN_LIBFUZZER -fsanitize=fuzzer,address,undefined \
 *     -Iinclude -Isrc tests/fuzz/fuzz_config.c src/config*.c \
 *     src/util/[a-z]*.c src/event.c \
 *     -lyaml -lcrypto -o fuzz_config
 *   ./fuzz_config -max_len=4096 corpus/
 * Without it, main() below runs the target once over each file named on
 * the command line (a corpus replay, or a regression check), so the file
 * also builds with a plain cc.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/config.h"
#include "cairn/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fake_getenv(const char *name, void *payload)
{
	(void)payload;
	if (!strcmp(name, "HOME"))
		return "/home/fuzz";
	if (!strcmp(name, "LONG"))
		return "0123456789012345678901234567890123456789";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_config_options opts = CAIRN_CONFIG_OPTIONS_INIT;
	cairn_config *cfg = NULL;

	opts.getenv_fn = fake_getenv;
	if (cairn_config_parse(&cfg, "fuzz.yaml", (const char *)data, size,
			       &opts) == 0)
		cairn_config_free(cfg);
	else if (!cairn_error_last() || !cairn_error_last()->message)
		abort(); /* a failure must always explain itself */
	cairn_error_clear();
	return 0;
}

#include "fuzz_main.h"
