/*
 * fuzz_lint.c - fuzz target for PostgreSQL's parser over a migration
 * file (src/pgparse.c) and the lint rules on its tree (src/lint*.c).
 *
 * Built with -DCAIRN_LIBFUZZER and -fsanitize=fuzzer it is a libFuzzer
 * target (make fuzz); built plainly it runs the same checks on every file
 * named on its command line.  Text with a NUL byte is refused by the
 * parser (checked) and skipped.
 *
 * Besides "does not crash", it checks what pgparse.h promises:
 *  - a syntax error has a message, an offset inside the text and no
 *    statements;
 *  - statements lie inside the text, in order, without overlap, each
 *    starting at the line and column cairn_pg_position() gives;
 *  - linting the text as an up file (every style rule on) succeeds and
 *    every finding names the file and a line of the text.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/lint.h"
#include "cairn/migration.h"
#include "pgparse.h"

static unsigned lines_of(const char *sql, size_t len)
{
	unsigned n = 1;

	for (size_t i = 0; i < len; i++)
		n += sql[i] == '\n';
	return n;
}

static void check_parse(const char *sql, size_t len)
{
	cairn_pg_file f = CAIRN_PG_FILE_INIT;
	size_t prev_end = 0;

	if (cairn_pg_parse(&f, sql, len) < 0)
		abort();
	if (f.error && (!*f.error || f.error_offset > len || f.count))
		abort();
	for (size_t i = 0; i < f.count; i++) {
		const cairn_pg_stmt *s = &f.items[i];
		unsigned line, col;

		if (s->offset < prev_end || s->offset + s->length > len ||
		    !s->type)
			abort();
		cairn_pg_position(sql, len, s->offset, &line, &col);
		if (line != s->line || col != s->column)
			abort();
		prev_end = s->offset + s->length;
	}
	cairn_pg_file_dispose(&f);
}

static void check_lint(char *sql, size_t len)
{
	static const char *const style[] = { "prefer-bigint",
					     "prefer-timestamptz",
					     "prefer-text" };
	cairn_lint_options o = CAIRN_LINT_OPTIONS_INIT;
	cairn_findings out = CAIRN_FINDINGS_INIT;
	cairn_migration m;
	unsigned lines = lines_of(sql, len);

	memset(&m, 0, sizeof(m));
	m.version = "1";
	m.version_text = "1";
	m.name = "fuzz";
	m.subdir = "";
	m.up_path = "fuzz.up.sql";
	m.content_loaded = m.content_ok = true;
	m.up_sql = sql;
	m.up_len = len;
	o.enable = style;
	o.enable_count = 3;
	if (cairn_lint_migration(&out, &m, &o) < 0)
		abort();
	for (size_t i = 0; i < out.count; i++)
		if (!out.items[i].file || out.items[i].line < 1 ||
		    out.items[i].line > lines)
			abort();
	cairn_findings_dispose(&out);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	/* the parser needs a NUL at sql[len] and no NUL before it */
	char *sql = malloc(size + 1);
	cairn_pg_file f = CAIRN_PG_FILE_INIT;

	if (!sql)
		return 0;
	memcpy(sql, data, size);
	sql[size] = '\0';
	if (memchr(sql, '\0', size)) {
		if (cairn_pg_parse(&f, sql, size) == 0)
			abort();
	} else {
		check_parse(sql, size);
		check_lint(sql, size);
	}
	free(sql);
	return 0;
}

#include "fuzz_main.h"
