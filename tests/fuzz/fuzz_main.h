/*
 * fuzz_main.h - the plain-program side of every fuzz target.
 *
 * Built with -DCAIRN_LIBFUZZER and -fsanitize=fuzzer, a target is a
 * libFuzzer target and this header adds nothing.  Built plainly, this
 * main() runs LLVMFuzzerTestOneInput() on every file named on the command
 * line (a corpus, a crash to replay), so targets compile and run without
 * clang.  Include it once, after the target's LLVMFuzzerTestOneInput.
 */
#ifndef CAIRN_FUZZ_MAIN_H
#define CAIRN_FUZZ_MAIN_H

#ifndef CAIRN_LIBFUZZER
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int fuzz_run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, alloc = 0, n;

	if (!f) {
		perror(path);
		return 1;
	}
	for (;;) {
		if (alloc - len < 65536) {
			unsigned char *p = realloc(buf, alloc + 65536);

			if (!p) {
				fclose(f);
				free(buf);
				return 1;
			}
			buf = p;
			alloc += 65536;
		}
		n = fread(buf + len, 1, alloc - len, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		rc |= fuzz_run_file(argv[i]);
	return rc;
}
#endif

#endif
