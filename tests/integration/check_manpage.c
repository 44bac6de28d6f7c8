/*
 * check_manpage.c - doc/cairn.1 agrees with the program and renders.
 *
 *  - COMMANDS has one `.SS` per command of `cairn --help`, in the same
 *    order;
 *  - each command's synopsis (its usage text up to the first blank line,
 *    `cairn help COMMAND`) appears in its section, and so does every
 *    --option its usage text names;
 *  - GLOBAL OPTIONS names every option of `cairn --help`, EXIT STATUS
 *    every exit code it lists;
 *  - CONFIGURATION names every key the configuration parser knows (read
 *    from the key tables of src/config.c and src/hook_spec.c), and HOOKS
 *    every event (cairn_event_name) and every builtin hook;
 *  - groff (and man, when installed) render the page without warnings.
 *
 * The page is compared as text: a small roff-to-text pass drops requests
 * and comments, keeps the words of font macros (.B, .BR, ...) and
 * replaces the escapes the page uses (\fB, \-, \(aq, ...).
 */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/event.h"
#include "testutil.h"

static char *page;       /* doc/cairn.1 */
static const char *src;  /* the source tree */

/* ------------------------------------------------------------------ */
/* roff to text                                                        */

static void append(char **buf, size_t *len, const char *s, size_t n)
{
	char *p = realloc(*buf, *len + n + 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p + *len, s, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
}

/* Replaces the escapes of one line; appends the text and a space. */
static void unescape(char **buf, size_t *len, const char *s, size_t n)
{
	static const struct {
		const char *esc, *text;
	} map[] = {
		{ "\\fB", "" }, { "\\fI", "" }, { "\\fR", "" }, { "\\fP", "" },
		{ "\\-", "-" }, { "\\(aq", "'" }, { "\\(lq", "\"" },
		{ "\\(rq", "\"" }, { "\\(bv", "|" }, { "\\(em", "--" },
		{ "\\e", "\\" }, { "\\&", "" }, { "\\%", "" }, { "\\ ", " " },
	};

	for (size_t i = 0; i < n;) {
		size_t k;

		if (s[i] == '\\') {
			for (k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
				size_t el = strlen(map[k].esc);

				if (i + el <= n && !memcmp(s + i, map[k].esc, el)) {
					append(buf, len, map[k].text,
					       strlen(map[k].text));
					i += el;
					break;
				}
			}
			if (k < sizeof(map) / sizeof(map[0]))
				continue;
		}
		append(buf, len, s + i, 1);
		i++;
	}
	append(buf, len, " ", 1);
}

/* The words of a macro's arguments ("a b" counts as one), joined. */
static void macro_args(char **buf, size_t *len, const char *s, bool alternate)
{
	char word[1024];

	while (*s) {
		size_t w = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (*s == '"') {
			s++;
			while (*s && *s != '"' && w < sizeof(word) - 1)
				word[w++] = *s++;
			if (*s == '"')
				s++;
		} else {
			while (*s && *s != ' ' && *s != '\t' &&
			       w < sizeof(word) - 1)
				word[w++] = *s++;
		}
		word[w] = '\0';
		unescape(buf, len, word, w);
		/* .BR and friends join their arguments without a space */
		if (alternate && *len)
			(*len)--;
	}
	if (alternate)
		append(buf, len, " ", 1);
}

/*
 * Text of the lines [from, to) of the page, whitespace collapsed.  Caller
 * frees.
 */
static char *roff_text(const char *from, const char *to)
{
	char *buf = NULL, *out;
	size_t len = 0, o = 0;
	const char *line = from;

	append(&buf, &len, "", 0);
	while (line < to) {
		const char *nl = memchr(line, '\n', (size_t)(to - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(to - line);
		char copy[4096];

		if (n >= sizeof(copy))
			n = sizeof(copy) - 1;
		memcpy(copy, line, n);
		copy[n] = '\0';
		if (copy[0] == '.' || copy[0] == '\'') {
			char macro[8] = "";
			size_t m = 0;
			const char *rest = copy + 1;

			while (*rest && !isspace((unsigned char)*rest) && m < 7)
				macro[m++] = *rest++;
			macro[m] = '\0';
			if (!strcmp(macro, "B") || !strcmp(macro, "I") ||
			    !strcmp(macro, "SS") || !strcmp(macro, "SH"))
				macro_args(&buf, &len, rest, false);
			else if (strlen(macro) == 2 && strchr("BIR", macro[0]) &&
				 strchr("BIR", macro[1]))
				macro_args(&buf, &len, rest, true);
			/* other requests (.TP, .PP, .nf, comments) carry no text */
		} else {
			unescape(&buf, &len, copy, n);
		}
		line = nl ? nl + 1 : to;
	}
	/* collapse whitespace */
	out = malloc(len + 1);
	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < len; i++) {
		if (isspace((unsigned char)buf[i])) {
			if (o && out[o - 1] != ' ')
				out[o++] = ' ';
		} else {
			out[o++] = buf[i];
		}
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	free(buf);
	return out;
}

/* Collapses whitespace in place. */
static void squeeze(char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i]; i++) {
		if (isspace((unsigned char)s[i])) {
			if (o && s[o - 1] != ' ')
				s[o++] = ' ';
		} else {
			s[o++] = s[i];
		}
	}
	while (o && s[o - 1] == ' ')
		o--;
	s[o] = '\0';
}

/*
 * Removes git-style "   or: " at the start of usage lines, so a usage
 * printed either way compares with the page's synopsis.
 */
static void drop_or_prefixes(char *s)
{
	for (char *line = s; line && *line;) {
		char *p = line + strspn(line, " ");

		if (!strncmp(p, "or: ", 4))
			memset(p, ' ', 3);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

/* Start of the line ".SH NAME" (or the end of the page). */
static const char *section(const char *name)
{
	char want[64];
	const char *p = page;

	snprintf(want, sizeof(want), ".SH %s\n", name);
	for (;;) {
		p = strstr(p, want);
		if (!p)
			return NULL;
		if (p == page || p[-1] == '\n')
			return p;
		p++;
	}
}

/* End of the section starting at p: the next line starting with ".SH". */
static const char *section_end(const char *p)
{
	const char *q = strstr(p + 1, "\n.SH ");

	return q ? q + 1 : p + strlen(p);
}

/* Text of a whole .SH section.  Caller frees. */
static char *section_text(const char *name)
{
	const char *s = section(name);

	ck_assert_msg(s != NULL, "no section %s in doc/cairn.1", name);
	return roff_text(s, section_end(s));
}

/* ------------------------------------------------------------------ */
/* the program's side                                                  */

/* The command names of `cairn --help`, in order (NULL-terminated). */
static char **help_commands(void)
{
	tu_result r;
	char **names = calloc(64, sizeof(*names));
	const char *p;
	size_t n = 0;

	tu_cairn(&r, NULL, "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	p = strstr(r.out, "\nCommands:\n");
	ck_assert_msg(p != NULL, "no 'Commands:' in --help:\n%s", r.out);
	p += strlen("\nCommands:\n");
	while (*p == ' ' && n < 63) {
		const char *w = p + strspn(p, " ");
		size_t wl = strcspn(w, " \n");

		names[n++] = strndup(w, wl);
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	tu_result_dispose(&r);
	ck_assert_uint_gt(n, 5);
	return names;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Each distinct "--word" in text (NULL-terminated).  Caller frees. */
static char **long_options(const char *text)
{
	char **opts = calloc(256, sizeof(*opts));
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, "--")) && n < 255;) {
		size_t l = 2;
		bool seen = false;

		if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-')) {
			p += 2;
			continue;
		}
		while (isalnum((unsigned char)p[l]) || p[l] == '-')
			l++;
		if (l == 2 || !isalpha((unsigned char)p[2])) {
			p += l;
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (strlen(opts[i]) == l && !strncmp(opts[i], p, l))
				seen = true;
		if (!seen)
			opts[n++] = strndup(p, l);
		p += l;
	}
	return opts;
}

/*
 * The quoted strings of `static const char *const NAME[] = { ... };` in
 * the source file rel.  Caller frees.
 */
static char **c_string_table(const char *rel, const char *name)
{
	char *text = tu_read(src, rel), want[128], **items;
	const char *p, *end;
	size_t n = 0;

	ck_assert_msg(text != NULL, "cannot read %s", rel);
	snprintf(want, sizeof(want), " %s[] = {", name);
	p = strstr(text, want);
	ck_assert_msg(p != NULL, "no table '%s' in %s", name, rel);
	end = strstr(p, "};");
	ck_assert_ptr_nonnull(end);
	items = calloc(128, sizeof(*items));
	for (p = strchr(p, '{'); p < end && n < 127; p++) {
		if (*p == '"') {
			const char *q = strchr(p + 1, '"');

			items[n++] = strndup(p + 1, (size_t)(q - p - 1));
			p = q;
		}
	}
	free(text);
	ck_assert_uint_gt(n, 0);
	return items;
}

/* ------------------------------------------------------------------ */

START_TEST(test_commands_match_help)
{
	char **cmds = help_commands();
	const char *s = section("COMMANDS"), *end, *p;
	size_t i = 0;

	ck_assert_msg(s != NULL, "no COMMANDS section");
	end = section_end(s);
	for (p = strstr(s, "\n.SS "); p && p < end; p = strstr(p + 1, "\n.SS ")) {
		const char *nl = strchr(p + 1, '\n');
		char *name = roff_text(p + 1, nl ? nl : end);

		ck_assert_msg(cmds[i] != NULL,
			      "the man page has command '%s', --help does not",
			      name);
		ck_assert_msg(!strcmp(name, cmds[i]),
			      "command %zu: the man page has '%s', --help has '%s'",
			      i + 1, name, cmds[i]);
		free(name);
		i++;
	}
	ck_assert_msg(cmds[i] == NULL, "--help has '%s', the man page does not",
		      cmds[i]);
	strv_free(cmds);
}
END_TEST

/* Text of the `.SS name` subsection of COMMANDS.  Caller frees. */
static char *command_section(const char *name)
{
	const char *s = section("COMMANDS"), *end, *p;

	ck_assert_ptr_nonnull(s);
	end = section_end(s);
	for (p = strstr(s, "\n.SS "); p && p < end; p = strstr(p + 1, "\n.SS ")) {
		const char *nl = strchr(p + 1, '\n');
		char *got = roff_text(p + 1, nl ? nl : end);
		bool match = !strcmp(got, name);

		free(got);
		if (match) {
			const char *next = strstr(p + 1, "\n.SS ");

			if (!next || next > end)
				next = end;
			return roff_text(p + 1, next);
		}
	}
	ck_abort_msg("no section for command '%s'", name);
	return NULL;
}

START_TEST(test_synopses_and_options_match_usage)
{
	char **cmds = help_commands();

	for (size_t i = 0; cmds[i]; i++) {
		tu_result r;
		char *text = command_section(cmds[i]), *synopsis, *blank;
		char **opts;

		tu_cairn(&r, NULL, "help", cmds[i], NULL);
		ck_assert_int_eq(r.status, 0);
		ck_assert_msg(!strncmp(r.out, "usage: ", 7), "help %s: %s",
			      cmds[i], r.out);
		synopsis = strdup(r.out + 7);
		blank = strstr(synopsis, "\n\n");
		if (blank)
			*blank = '\0';
		drop_or_prefixes(synopsis);
		squeeze(synopsis);
		ck_assert_msg(tu_contains(text, synopsis),
			      "the man page's '%s' lacks the synopsis\n  %s\nit says\n  %s",
			      cmds[i], synopsis, text);
		opts = long_options(r.out);
		for (size_t k = 0; opts[k]; k++)
			ck_assert_msg(tu_contains(text, opts[k]),
				      "the man page's '%s' does not describe %s",
				      cmds[i], opts[k]);
		strv_free(opts);
		free(synopsis);
		free(text);
		tu_result_dispose(&r);
	}
	strv_free(cmds);
}
END_TEST

START_TEST(test_global_options_and_exit_codes)
{
	tu_result r;
	char *global = section_text("GLOBAL OPTIONS");
	char *synopsis = section_text("SYNOPSIS");
	char *exits = section_text("EXIT STATUS");
	char **opts;
	const char *p;

	tu_cairn(&r, NULL, "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	opts = long_options(r.out);
	for (size_t k = 0; opts[k]; k++)
		ck_assert_msg(tu_contains(global, opts[k]),
			      "GLOBAL OPTIONS does not describe %s", opts[k]);
	for (const char *s = "Cqvh"; *s; s++) {
		char with_arg[4] = { '-', *s, ' ', '\0' };
		char with_long[4] = { '-', *s, ',', '\0' };

		ck_assert_msg(tu_contains(global, with_arg) ||
			      tu_contains(global, with_long),
			      "GLOBAL OPTIONS does not describe -%c", *s);
	}
	ck_assert(tu_contains(synopsis, "--no-color"));
	tu_result_dispose(&r);

	/* the page's header names the version the program prints */
	tu_cairn(&r, NULL, "version", NULL);
	ck_assert_int_eq(r.status, 0);
	r.out[strcspn(r.out, "\n")] = '\0';
	{
		char want[128];

		snprintf(want, sizeof(want), "\"%s\"", r.out);
		ck_assert_msg(tu_contains(page, want),
			      ".TH of doc/cairn.1 does not say %s", want);
	}
	tu_result_dispose(&r);
	tu_cairn(&r, NULL, "--help", NULL);

	/* "Exit codes: 0 ok; 1 ...; 130 interrupted." */
	p = strstr(r.out, "Exit codes:");
	ck_assert_ptr_nonnull(p);
	for (p += 11; *p;) {
		char code[16];
		size_t n = 0;

		while (*p && !isdigit((unsigned char)*p))
			p++;
		while (isdigit((unsigned char)*p) && n < 15)
			code[n++] = *p++;
		code[n] = '\0';
		if (!n)
			break;
		{
			char want[24];

			/* each code starts an entry: "... 4 deploy lock ..." */
			snprintf(want, sizeof(want), " %s ", code);
			ck_assert_msg(tu_contains(exits, want),
				      "EXIT STATUS does not list %s", code);
		}
		p = strchr(p, ';');
		if (!p)
			break;
	}
	strv_free(opts);
	free(global);
	free(synopsis);
	free(exits);
	tu_result_dispose(&r);
}
END_TEST

START_TEST(test_configuration_keys_events_and_builtins)
{
	char *config = section_text("CONFIGURATION");
	char *hooks = section_text("HOOKS");
	static const struct {
		const char *file, *table;
	} tables[] = {
		{ "src/config.c", "top_keys" },
		{ "src/config.c", "env_keys" },
		{ "src/config.c", "githook_keys" },
		{ "src/hook_spec.c", "key_names" },
		{ "src/hook_spec.c", "only_keys" },
	};

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char **keys = c_string_table(tables[t].file, tables[t].table);

		for (size_t k = 0; keys[k]; k++)
			ck_assert_msg(tu_contains(config, keys[k]),
				      "CONFIGURATION does not describe '%s' (%s in %s)",
				      keys[k], tables[t].table, tables[t].file);
		strv_free(keys);
	}
	{
		char **names = c_string_table("src/hook_spec.c",
					      "builtin_names");

		for (size_t k = 0; names[k]; k++)
			ck_assert_msg(tu_contains(hooks, names[k]),
				      "HOOKS does not describe builtin '%s'",
				      names[k]);
		strv_free(names);
	}
	for (int e = 0; e < (int)CAIRN_EVENT__COUNT; e++)
		ck_assert_msg(tu_contains(hooks, cairn_event_name((cairn_event)e)),
			      "HOOKS does not describe event '%s'",
			      cairn_event_name((cairn_event)e));
	free(config);
	free(hooks);
}
END_TEST

START_TEST(test_renders_without_warnings)
{
	tu_result r;
	bool any = false;

	if (tu_sh(NULL, "command -v groff >/dev/null 2>&1") == 0) {
		const char *argv[] = { "sh", "-c",
				       "groff -t -man -Tutf8 -ww -z \"$CAIRN_SRCDIR/doc/cairn.1\"",
				       NULL };

		tu_run(&r, NULL, argv, NULL, NULL);
		ck_assert_msg(r.status == 0 && r.err[0] == '\0',
			      "groff (%d): %s", r.status, r.err);
		tu_result_dispose(&r);
		any = true;
	}
	if (tu_sh(NULL, "command -v man >/dev/null 2>&1") == 0) {
		const char *argv[] = { "sh", "-c",
				       "MANWIDTH=80 man -l --warnings \"$CAIRN_SRCDIR/doc/cairn.1\" >/dev/null",
				       NULL };

		tu_run(&r, NULL, argv, NULL, NULL);
		ck_assert_msg(r.status == 0 && r.err[0] == '\0',
			      "man -l (%d): %s", r.status, r.err);
		tu_result_dispose(&r);
		any = true;
	}
	if (!any)
		fprintf(stderr, "check_manpage: neither groff nor man is "
				"installed; rendering not checked\n");
	/* the page is roff, and says so where man looks */
	ck_assert(!strncmp(page, "'\\\" t\n", 6) || !strncmp(page, ".TH", 3) ||
		  !strncmp(page, ".\\\"", 3));
	ck_assert(tu_contains(page, "\n.TH CAIRN 1 "));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("manpage");
	TCase *tc = tcase_create("manpage");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_commands_match_help);
	tcase_add_test(tc, test_synopses_and_options_match_usage);
	tcase_add_test(tc, test_global_options_and_exit_codes);
	tcase_add_test(tc, test_configuration_keys_events_and_builtins);
	tcase_add_test(tc, test_renders_without_warnings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	src = getenv("CAIRN_SRCDIR");
	if (!src)
		src = ".";
	page = tu_read(src, "doc/cairn.1");
	if (!page) {
		fprintf(stderr, "check_manpage: cannot read %s/doc/cairn.1\n",
			src);
		return EXIT_FAILURE;
	}
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(page);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
