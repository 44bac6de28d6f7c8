/*
 * report.c - findings in text, json, junit, github and gitlab formats.
 *
 * JUnit: one testsuite, one testcase per check per migration (the checks
 * are groups of finding codes: filename, content, directives, down,
 * history, database, lint); a testcase fails with every finding of its
 * group as the failure text.  GitHub: one `::error file=..,line=..::msg`
 * line per finding, escaped as the workflow-command syntax requires, and a
 * markdown table appended to $GITHUB_STEP_SUMMARY when that is set.
 * GitLab: a Code Quality report whose fingerprints hash the code, file,
 * version and message, so they stay stable across runs.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/repeatable.h"
#include "report.h"
#include "util/util.h"

/*
 * What was checked: "3 migrations", or "3 migrations and 2 repeatables"
 * when the set has repeatable migrations (they are checked too).
 */
static void checked_text(char *out, size_t size, const cairn_migration_set *set)
{
	size_t n = set ? cairn_migration_set_count(set) : 0;
	size_t r = set ? cairn_migration_set_repeatable_count(set) : 0;

	if (r)
		snprintf(out, size, "%zu migration%s and %zu repeatable%s", n,
			 n == 1 ? "" : "s", r, r == 1 ? "" : "s");
	else
		snprintf(out, size, "%zu migration%s", n, n == 1 ? "" : "s");
}

json_t *cli_json_str(const char *s)
{
	json_t *j;
	char *q;

	if (!s)
		return json_string("");
	j = json_string(s);
	if (j)
		return j;
	q = cli_quote_path(s);
	j = json_string(q ? q : "");
	free(q);
	return j;
}

json_t *cli_json_str_or_null(const char *s)
{
	return s ? cli_json_str(s) : json_null();
}

static const char *check_of(const char *code)
{
	static const struct {
		const char *code, *check;
	} map[] = {
		{ "bad-name", "filename" }, { "duplicate-version", "filename" },
		{ "missing-up", "filename" }, { "symlink", "filename" },
		{ "submodule", "filename" }, { "too-large", "content" },
		{ "binary", "content" }, { "not-utf8", "content" },
		{ "unreadable", "content" }, { "unknown-directive", "directives" },
		{ "bad-directive", "directives" }, { "missing-down", "down" },
		{ "edited-after-push", "history" },
		{ "deleted-after-push", "history" },
		{ "renamed-after-push", "history" },
		{ "out-of-order", "history" }, { "drift", "database" },
		{ "missing", "database" }, { "failed", "database" },
		{ "shadow", "shadow" },
	};

	if (!strncmp(code, "lint/", 5))
		return "lint";
	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(map); i++)
		if (!strcmp(map[i].code, code))
			return map[i].check;
	return "other";
}

static const char *const junit_checks[] = {
	"filename", "content", "directives", "down", "history", "database",
	"lint", "shadow", "other",
};

/*
 * XML 1.0 text or attribute value.  The text is escaped for a terminal
 * first (cairn__escape_text: control characters and bytes that are not
 * UTF-8 become \xNN; so do U+FFFE and U+FFFF, which XML does not
 * allow), so the result is always well-formed UTF-8 XML,
 * whatever a file name or a server message holds.
 */
char *cli_xml_escape(const char *s)
{
	char *safe = cli_quote_text(s ? s : "");
	size_t len, o = 0;
	char *q;

	if (!safe)
		return NULL;
	len = strlen(safe);
	q = malloc(len * 6 + 1);
	if (!q) {
		free(safe);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;

		switch (safe[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		}
		/* U+FFFE, U+FFFF: valid UTF-8, not XML 1.0 characters */
		if ((unsigned char)safe[i] == 0xef && i + 2 < len &&
		    (unsigned char)safe[i + 1] == 0xbf &&
		    ((unsigned char)safe[i + 2] | 1) == 0xbf) {
			rep = (unsigned char)safe[i + 2] == 0xbe ?
			      "\\xef\\xbf\\xbe" : "\\xef\\xbf\\xbf";
			i += 2;
		}
		if (rep) {
			memcpy(q + o, rep, strlen(rep));
			o += strlen(rep);
		} else {
			q[o++] = safe[i];
		}
	}
	q[o] = '\0';
	free(safe);
	return q;
}

/*
 * A GitHub workflow command's message or property: control characters
 * are escaped as for a terminal (newlines kept, then encoded as %0A as
 * the syntax wants), so a message cannot end the command early or start
 * another one, nor reach a log viewer as escape sequences.
 */
char *cli_github_escape(const char *s, bool property)
{
	char *safe = cli_quote_text(s ? s : "");
	size_t len, o = 0;
	char *q;

	if (!safe)
		return NULL;
	len = strlen(safe);
	q = malloc(len * 3 + 1);
	if (!q) {
		free(safe);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		char c = safe[i];
		const char *rep = NULL;

		if (c == '%')
			rep = "%25";
		else if (c == '\n')
			rep = "%0A";
		else if (property && c == ':')
			rep = "%3A";
		else if (property && c == ',')
			rep = "%2C";
		if (rep) {
			memcpy(q + o, rep, 3);
			o += 3;
		} else {
			q[o++] = c;
		}
	}
	q[o] = '\0';
	free(safe);
	return q;
}

static int print_text(struct cli *cli, const char *what,
		      const cairn_findings *fs, const cairn_migration_set *set)
{
	size_t errors = cairn_findings_count(fs, CAIRN_SEVERITY_ERROR);
	size_t warnings = cairn_findings_count(fs, CAIRN_SEVERITY_WARNING);

	for (size_t i = 0; i < fs->count; i++) {
		const cairn_finding *f = &fs->items[i];
		char *file = cli_quote_path(f->file ? f->file : "");
		cli_quoted q = CLI_QUOTED_INIT;
		const char *color = f->severity == CAIRN_SEVERITY_ERROR ? "1;31" :
				    f->severity == CAIRN_SEVERITY_WARNING ? "1;33" : "36";

		if (f->file && f->line)
			printf("%s:%u: ", file, f->line);
		else if (f->file)
			printf("%s: ", file);
		printf("%s%s%s: %s [%s]\n", cli_color(cli, stdout, color),
		       cairn_severity_name(f->severity), cli_reset(cli, stdout),
		       cli_q(&q, f->message), f->code);
		if (f->commit)
			printf("  commit: %.12s\n", f->commit);
		if (f->hint)
			printf("  hint: %s\n", cli_q(&q, f->hint));
		cli_quoted_release(&q);
		free(file);
	}
	if (cli->verbosity >= 0 || errors) {
		char checked[96];

		checked_text(checked, sizeof(checked), set);
		fprintf(stderr, "cairn: %s: %s checked, %zu error%s, %zu warning%s\n",
			what, checked, errors, errors == 1 ? "" : "s",
			warnings, warnings == 1 ? "" : "s");
	}
	return 0;
}

json_t *cli_finding_json(const cairn_finding *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "code", json_string(f->code));
	json_object_set_new(o, "severity",
			    json_string(cairn_severity_name(f->severity)));
	json_object_set_new(o, "file", cli_json_str_or_null(f->file));
	json_object_set_new(o, "line", f->line ? json_integer(f->line) : json_null());
	json_object_set_new(o, "version", cli_json_str_or_null(f->version));
	json_object_set_new(o, "message", cli_json_str(f->message));
	json_object_set_new(o, "hint", cli_json_str_or_null(f->hint));
	json_object_set_new(o, "commit", cli_json_str_or_null(f->commit));
	return o;
}

json_t *cli_findings_json(const cairn_findings *fs,
			  const cairn_migration_set *set)
{
	json_t *root = json_object(), *arr = json_array();
	size_t errors = cairn_findings_count(fs, CAIRN_SEVERITY_ERROR);

	for (size_t i = 0; i < fs->count; i++)
		json_array_append_new(arr, cli_finding_json(&fs->items[i]));
	json_object_set_new(root, "ok", json_boolean(errors == 0));
	json_object_set_new(root, "checked",
			    json_integer(set ? (json_int_t)cairn_migration_set_count(set) : 0));
	json_object_set_new(root, "checked_repeatables",
			    json_integer(set ? (json_int_t)cairn_migration_set_repeatable_count(set) : 0));
	json_object_set_new(root, "errors", json_integer((json_int_t)errors));
	json_object_set_new(root, "warnings",
			    json_integer((json_int_t)cairn_findings_count(fs, CAIRN_SEVERITY_WARNING)));
	json_object_set_new(root, "findings", arr);
	return root;
}

static int print_json(const cairn_findings *fs, const cairn_migration_set *set)
{
	json_t *root = cli_findings_json(fs, set);
	int rc = cli_print_json(root);

	json_decref(root);
	return rc;
}

static bool finding_in(const cairn_finding *f, const char *file,
		       const char *version, const char *check)
{
	if (strcmp(check_of(f->code), check))
		return false;
	if (version && f->version)
		return !strcmp(version, f->version);
	return f->file && file && !strcmp(f->file, file);
}

static void junit_case(FILE *out, const char *classname, const char *check,
		       const cairn_findings *fs, const char *file,
		       const char *version, size_t *failures)
{
	char *cls = cli_xml_escape(classname);
	size_t nfail = 0;

	fprintf(out, "    <testcase classname=\"%s\" name=\"%s\"", cls ? cls : "", check);
	for (size_t i = 0; i < fs->count; i++) {
		const cairn_finding *f = &fs->items[i];

		if (f->severity != CAIRN_SEVERITY_ERROR ||
		    !finding_in(f, file, version, check))
			continue;
		if (!nfail++)
			fputs(">\n", out);
		{
			char *msg = cli_xml_escape(f->message);
			char *fl = cli_xml_escape(f->file ? f->file : "");

			fprintf(out, "      <failure type=\"%s\" message=\"%s\">",
				f->code, msg ? msg : "");
			if (f->line)
				fprintf(out, "%s:%u: ", fl ? fl : "", f->line);
			else if (f->file)
				fprintf(out, "%s: ", fl ? fl : "");
			fprintf(out, "%s</failure>\n", msg ? msg : "");
			free(msg);
			free(fl);
		}
	}
	if (nfail) {
		fputs("    </testcase>\n", out);
		(*failures)++;
	} else {
		fputs("/>\n", out);
	}
	free(cls);
}

static int print_junit(const char *what, const cairn_findings *fs,
		       const cairn_migration_set *set)
{
	size_t n = set ? cairn_migration_set_count(set) : 0;
	size_t failures = 0, tests = 0;
	char *body = NULL;
	size_t bodylen = 0;
	FILE *out = open_memstream(&body, &bodylen);

	if (!out)
		return CLI_EXIT_FAIL;
	for (size_t i = 0; i < n; i++) {
		cairn_migration *m = cairn_migration_set_get(set, i);

		for (size_t c = 0; c < CAIRN_ARRAY_SIZE(junit_checks); c++) {
			junit_case(out, m->up_path, junit_checks[c], fs,
				   m->up_path, m->version, &failures);
			tests++;
		}
	}
	/* findings about files that are not migrations */
	for (size_t i = 0; i < fs->count; i++) {
		const cairn_finding *f = &fs->items[i];
		bool seen = false;

		if (f->version && set && cairn_migration_set_find(set, f->version))
			continue;
		for (size_t k = 0; k < i; k++)
			if (!fs->items[k].version && fs->items[k].file && f->file &&
			    !strcmp(fs->items[k].file, f->file) &&
			    !strcmp(check_of(fs->items[k].code), check_of(f->code)))
				seen = true;
		if (seen || f->severity != CAIRN_SEVERITY_ERROR)
			continue;
		junit_case(out, f->file ? f->file : "(repository)",
			   check_of(f->code), fs, f->file, NULL, &failures);
		tests++;
	}
	fclose(out);
	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<testsuites name=\"cairn\" tests=\"%zu\" failures=\"%zu\">\n"
	       "  <testsuite name=\"cairn %s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n%s"
	       "  </testsuite>\n</testsuites>\n",
	       tests, failures, what, tests, failures, body ? body : "");
	free(body);
	return 0;
}

static int print_github(const cairn_findings *fs,
			const cairn_migration_set *set)
{
	const char *summary = getenv("GITHUB_STEP_SUMMARY");
	size_t errors = cairn_findings_count(fs, CAIRN_SEVERITY_ERROR);

	for (size_t i = 0; i < fs->count; i++) {
		const cairn_finding *f = &fs->items[i];
		char *file = cli_github_escape(f->file ? f->file : "", true);
		char *title = cli_github_escape(f->code, true);
		char *msg = cli_github_escape(f->message, false);
		const char *level = f->severity == CAIRN_SEVERITY_ERROR ? "error" :
				    f->severity == CAIRN_SEVERITY_WARNING ? "warning" : "notice";

		printf("::%s ", level);
		if (f->file)
			printf("file=%s,", file);
		if (f->line)
			printf("line=%u,", f->line);
		printf("title=cairn %s::%s\n", title, msg);
		free(file);
		free(title);
		free(msg);
	}
	if (summary && *summary) {
		FILE *s = fopen(summary, "a");

		if (s) {
			char checked[96];

			checked_text(checked, sizeof(checked), set);
			fprintf(s, "### cairn validate: %s\n\n",
				errors ? "failed" : "passed");
			fprintf(s, "%s checked, %zu errors, %zu warnings.\n\n",
				checked, errors,
				cairn_findings_count(fs, CAIRN_SEVERITY_WARNING));
			if (fs->count) {
				fputs("| Severity | File | Line | Check | Message |\n|---|---|---|---|---|\n", s);
				for (size_t i = 0; i < fs->count; i++) {
					const cairn_finding *f = &fs->items[i];
					char *file = cli_quote_path(f->file ? f->file : "");
					char *msg = cli_quote_path(f->message);

					fprintf(s, "| %s | `%s` | %u | %s | ",
						cairn_severity_name(f->severity),
						file ? file : "", f->line, f->code);
					for (const char *p = msg ? msg : ""; *p; p++)
						fputs(*p == '|' ? "\\|" : *p == '\n' ? " " :
						      (char[2]){ *p, 0 }, s);
					fputs(" |\n", s);
					free(file);
					free(msg);
				}
				fputc('\n', s);
			}
			fclose(s);
		}
	}
	return 0;
}

static int print_gitlab(const cairn_findings *fs)
{
	json_t *arr = json_array();
	int rc;

	for (size_t i = 0; i < fs->count; i++) {
		const cairn_finding *f = &fs->items[i];
		json_t *o = json_object(), *loc = json_object(),
		       *lines = json_object();
		char *key = NULL, fp[65];
		const char *sev = f->severity == CAIRN_SEVERITY_ERROR ? "major" :
				  f->severity == CAIRN_SEVERITY_WARNING ? "minor" : "info";

		if (asprintf(&key, "%s\n%s\n%s\n%s", f->code,
			     f->file ? f->file : "", f->version ? f->version : "",
			     f->message) < 0)
			key = NULL;
		cairn_sha256_hex(fp, key ? key : "", key ? strlen(key) : 0);
		free(key);
		json_object_set_new(o, "description", cli_json_str(f->message));
		json_object_set_new(o, "check_name", json_string(f->code));
		json_object_set_new(o, "fingerprint", json_string(fp));
		json_object_set_new(o, "severity", json_string(sev));
		json_object_set_new(loc, "path", cli_json_str(f->file ? f->file : "."));
		json_object_set_new(lines, "begin", json_integer(f->line ? f->line : 1));
		json_object_set_new(loc, "lines", lines);
		json_object_set_new(o, "location", loc);
		json_array_append_new(arr, o);
	}
	rc = cli_print_json(arr);
	json_decref(arr);
	return rc;
}

size_t cli_invalid_count(const cairn_migration_set *set)
{
	return cairn_findings_count(cairn_migration_set_findings(set),
				    CAIRN_SEVERITY_ERROR);
}

json_t *cli_invalid_json(const cairn_migration_set *set)
{
	const cairn_findings *fs = cairn_migration_set_findings(set);
	json_t *arr = json_array();

	for (size_t i = 0; fs && i < fs->count; i++)
		if (fs->items[i].severity == CAIRN_SEVERITY_ERROR)
			json_array_append_new(arr, cli_finding_json(&fs->items[i]));
	return arr;
}

void cli_print_invalid(struct cli *cli, const cairn_migration_set *set,
		       bool markdown)
{
	const cairn_findings *fs = cairn_migration_set_findings(set);

	for (size_t i = 0; fs && i < fs->count; i++) {
		const cairn_finding *f = &fs->items[i];
		cli_quoted q = CLI_QUOTED_INIT;

		if (f->severity != CAIRN_SEVERITY_ERROR)
			continue;
		if (markdown) {
			/* the file in a code span: no backquote inside */
			char *file = cli_quote_path(f->file ? f->file : "");
			char *msg = cli_quote_path(f->message);

			for (char *p = file; p && *p; p++)
				if (*p == '`')
					*p = '\'';
			fputs("- invalid `", stdout);
			fputs(file ? file : "", stdout);
			fputs("`: ", stdout);
			for (const char *p = msg ? msg : ""; *p; p++)
				fputs(*p == '|' ? "\\|" : (char[2]){ *p, 0 },
				      stdout);
			printf(" (%s)\n", f->code);
			free(file);
			free(msg);
			continue;
		}
		printf("  %sinvalid%s  %-6s %s: %s [%s]\n",
		       cli_color(cli, stdout, "1;31"), cli_reset(cli, stdout),
		       f->version ? cli_q(&q, f->version) : "-",
		       cli_q(&q, f->file ? f->file : "(repository)"),
		       cli_q(&q, f->message), f->code);
		cli_quoted_release(&q);
	}
}

int cli_print_findings(struct cli *cli, const char *what,
		       const cairn_findings *findings,
		       const cairn_migration_set *set)
{
	switch (cli->format) {
	case CLI_FORMAT_JSON:
		return print_json(findings, set);
	case CLI_FORMAT_JUNIT:
		return print_junit(what, findings, set);
	case CLI_FORMAT_GITHUB:
		return print_github(findings, set);
	case CLI_FORMAT_GITLAB:
		return print_gitlab(findings);
	default:
		return print_text(cli, what, findings, set);
	}
}

void cli_warn_malformed_authors(struct cli *cli,
				const cairn_migration_set *set)
{
	size_t n = cairn_migration_set_count(set);
	const char *last = "";

	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = cairn_migration_set_get(set, i);
		const cairn_commit_info *c[2];

		if (!m || !m->has_provenance)
			continue;
		c[0] = &m->introduced;
		c[1] = &m->changed;
		for (size_t k = 0; k < 2; k++) {
			/* one warning per commit (repeats are adjacent) */
			if (!c[k]->malformed_author || !c[k]->sha[0] ||
			    !strcmp(c[k]->sha, last))
				continue;
			last = c[k]->sha;
			cli_warnf(cli, "commit %.12s has a malformed author line; its author is shown as written: %s",
				  c[k]->sha, c[k]->author_name ? c[k]->author_name : "");
		}
	}
}
