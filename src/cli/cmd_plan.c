/*
 * cmd_plan.c - `cairn plan [A..B]`.
 *
 * With a range: the migrations added, changed and removed between two
 * revisions, each with the commit and author that brought it (provenance
 * is computed only for those migrations, and the history walk stops as
 * soon as they are all found).  Text, json, or markdown release notes.
 * Files at B that validate rejects (and no run would apply) are listed
 * as invalid, with the reason, before the migrations.
 * Repeatable migrations added, changed (another blob) or removed in the
 * range follow the versioned ones, marked "R" (text), "repeatable": true
 * (json) or in their own list (markdown); each changed one is applied
 * again by the next `migrate up`.
 * Without a range: what `migrate up` would apply (plan_db.c).
 *
 * --locks adds, under each added or changed migration (each pending one
 * without a range), its statements with the locks they take
 * (plan_locks.c).  With a range no database is needed; when the
 * environment's database can be reached (and --no-db is not given), the
 * tables' sizes and sessions come from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/repeatable.h"
#include "cli.h"
#include "commands.h"
#include "dbopen.h"
#include "plan.h"
#include "report.h"

typedef struct {
	cairn_migration *m;       /* in B, or in A for removed ones */
	const char *change;       /* added | changed | removed */
	bool has_locks;           /* --locks, and not removed */
	bool locks_with_db;       /* the lock plan has figures from a database */
	cairn_lock_plan locks;
} plan_item;

static json_t *commit_json(const cairn_commit_info *c)
{
	char date[64];

	if (!c->sha[0])
		return json_null();
	cli_format_time(date, sizeof(date), c->author_time, c->author_offset);
	return json_pack("{s:s, s:o, s:o, s:s, s:I, s:o}", "sha", c->sha,
			 "author_name", cli_json_str(c->author_name),
			 "author_email", cli_json_str(c->author_email),
			 "date", date, "timestamp", (json_int_t)c->author_time,
			 "summary", cli_json_str(c->summary));
}

/* A markdown table cell: escaped for a terminal, '|' and newlines too. */
static void md_cell(const char *text)
{
	char *safe = cli_quote_path(text ? text : "");

	for (const char *s = safe; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", stdout);
		else if (*s == '\n' || *s == '\r')
			putchar(' ');
		else
			putchar(*s);
	}
	free(safe);
}

/* The repeatables of a range plan, as a markdown list of their own. */
static void print_markdown_repeatables(const plan_item *items, size_t n)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = items[i].m;

		if (!m->repeatable)
			continue;
		if (!any)
			puts("**Repeatable migrations (applied again by the next `migrate up` when added or changed):**\n");
		any = true;
		printf("- %s `", items[i].change);
		md_cell(m->name);
		fputs("`", stdout);
		if (strcmp(items[i].change, "removed") && m->has_provenance &&
		    m->changed.sha[0]) {
			printf(" in `%.12s` by ", m->changed.sha);
			md_cell(m->changed.author_name);
		}
		putchar('\n');
	}
	if (any)
		putchar('\n');
}

static void print_markdown(struct cli *cli, const char *a, const char *b,
			   const cairn_migration_set *sb, plan_item *items,
			   size_t n)
{
	size_t added = 0, other = 0;

	for (size_t i = 0; i < n; i++)
		if (items[i].m->repeatable)
			continue;
		else if (!strcmp(items[i].change, "added"))
			added++;
		else
			other++;
	fputs("## Database migrations: ", stdout);
	md_cell(a);
	fputs(" → ", stdout);
	md_cell(b);
	fputs("\n\n", stdout);
	if (cli_invalid_count(sb)) {
		puts("**Invalid files (validate rejects them; no run applies them):**\n");
		cli_print_invalid(cli, sb, true);
		putchar('\n');
	}
	if (!n) {
		puts("No migrations changed between these revisions.");
		return;
	}
	printf("%zu new migration%s.\n\n", added, added == 1 ? "" : "s");
	if (added) {
		puts("| Version | Migration | Author | Commit | Date |");
		puts("|---|---|---|---|---|");
		for (size_t i = 0; i < n; i++) {
			const cairn_migration *m = items[i].m;
			char date[64] = "";

			if (strcmp(items[i].change, "added") || m->repeatable)
				continue;
			if (m->has_provenance && m->introduced.sha[0])
				cli_format_time(date, sizeof(date),
						m->introduced.author_time,
						m->introduced.author_offset);
			date[10] = '\0';
			printf("| %s | ", m->version_text);
			md_cell(m->name);
			fputs(" | ", stdout);
			md_cell(m->has_provenance ? m->introduced.author_name : "");
			printf(" | `%.12s` | %s |\n",
			       m->has_provenance ? m->introduced.sha : "", date);
		}
		putchar('\n');
	}
	if (other) {
		puts("**Attention: migrations changed or removed after they were released:**\n");
		for (size_t i = 0; i < n; i++) {
			const cairn_migration *m = items[i].m;

			if (!strcmp(items[i].change, "added") || m->repeatable)
				continue;
			printf("- %s `%s_", items[i].change, m->version_text);
			md_cell(m->name);
			fputs("`", stdout);
			if (!strcmp(items[i].change, "changed") &&
			    m->has_provenance && m->changed.sha[0]) {
				printf(" in `%.12s` by ", m->changed.sha);
				md_cell(m->changed.author_name);
			}
			putchar('\n');
		}
		putchar('\n');
	}
	print_markdown_repeatables(items, n);
	for (size_t i = 0; i < n; i++) {
		if (!items[i].has_locks)
			continue;
		printf("### Locks of %s ", items[i].m->repeatable ? "R" :
		       items[i].m->version_text);
		md_cell(items[i].m->name);
		putchar('\n');
		cli_locks_print(cli, &items[i].locks,
					items[i].locks_with_db);
	}
}

static void print_text(struct cli *cli, const char *a, const char *b,
		       const cairn_migration_set *sb, plan_item *items,
		       size_t n)
{
	cli_quoted qr = CLI_QUOTED_INIT;

	if (cli_invalid_count(sb)) {
		printf("invalid files at %s (validate rejects them; no run applies them):\n",
		       cli_q(&qr, b));
		cli_print_invalid(cli, sb, false);
		cli_quoted_release(&qr);
	}
	if (!n) {
		if (cli->verbosity >= 0)
			printf("no migrations changed between %s and %s\n",
			       cli_q(&qr, a), cli_q(&qr, b));
		cli_quoted_release(&qr);
		return;
	}
	printf("migrations in %s..%s:\n", cli_q(&qr, a), cli_q(&qr, b));
	cli_quoted_release(&qr);
	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = items[i].m;
		const cairn_commit_info *c = !strcmp(items[i].change, "changed") ?
			&m->changed : &m->introduced;
		char date[64] = "";
		cli_quoted q = CLI_QUOTED_INIT;

		if (m->has_provenance && c->sha[0])
			cli_format_time(date, sizeof(date), c->author_time,
					c->author_offset);
		printf("  %-8s %-6s %-30s", items[i].change,
		       m->repeatable ? "R" : m->version_text,
		       cli_q(&q, m->name));
		if (m->has_provenance && c->sha[0])
			printf(" %.10s  %s <%s>  %s", c->sha,
			       cli_q(&q, c->author_name),
			       cli_q(&q, c->author_email), date);
		putchar('\n');
		cli_quoted_release(&q);
		if (items[i].has_locks)
			cli_locks_print(cli, &items[i].locks,
					items[i].locks_with_db);
	}
}

static int print_json_plan(struct cli *cli, const char *a, const char *ca,
			   const char *b, const cairn_migration_set *sb,
			   plan_item *items, size_t n)
{
	json_t *root = json_object(), *arr = json_array();
	int rc;

	(void)cli;
	json_object_set_new(root, "from", json_pack("{s:s, s:s}", "rev", a,
						    "commit", ca));
	json_object_set_new(root, "to", json_pack("{s:s, s:s}", "rev", b,
						  "commit",
						  cairn_migration_set_commit(sb)));
	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = items[i].m;
		json_t *o = json_object();

		json_object_set_new(o, "version", json_string(m->version));
		json_object_set_new(o, "version_text", json_string(m->version_text));
		json_object_set_new(o, "repeatable", json_boolean(m->repeatable));
		json_object_set_new(o, "name", cli_json_str(m->name));
		json_object_set_new(o, "file", cli_json_str(m->up_path));
		json_object_set_new(o, "change", json_string(items[i].change));
		json_object_set_new(o, "introduced", m->has_provenance ?
				    commit_json(&m->introduced) : json_null());
		json_object_set_new(o, "changed", m->has_provenance ?
				    commit_json(&m->changed) : json_null());
		if (items[i].has_locks)
			json_object_set_new(o, "locks",
					    cli_locks_json(&items[i].locks,
							   items[i].locks_with_db));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "migrations", arr);
	json_object_set_new(root, "invalid", cli_invalid_json(sb));
	rc = cli_print_json(root);
	json_decref(root);
	return rc;
}

/*
 * The lock plans of the added and changed migrations, with figures from
 * the environment's database when it can be reached (never started or
 * created for this: a range needs no database).
 */
static int range_locks(struct cli *cli, const struct plan_opts *po,
		       cairn_migration_set *sb, plan_item *items, size_t n)
{
	cairn_db *db = NULL;
	char *why = NULL;
	int rc = 0;

	if (!po->no_db && (rc = cli_open_db_optional(cli, &db, &why)))
		return rc;
	if (why)
		cli_notef(cli, "no table sizes: %s", why);
	free(why);
	for (size_t i = 0; i < n && !rc; i++) {
		if (!strcmp(items[i].change, "removed"))
			continue;
		items[i].has_locks = true;
		items[i].locks_with_db = db != NULL;
		rc = cli_locks_analyse(cli, sb, items[i].m, db, &items[i].locks);
	}
	cairn_db_free(db);
	return rc;
}

/*
 * Appends to items the repeatables of sb that sa lacks or has with
 * another blob (with the commit that last changed them), then those of
 * sa that sb lacks.  items has room for all of both sets.
 */
static int range_repeatables(cairn_repo *repo, cairn_migration_set *sa,
			     cairn_migration_set *sb, plan_item *items,
			     size_t *n)
{
	size_t ra = cairn_migration_set_repeatable_count(sa);
	size_t rb = cairn_migration_set_repeatable_count(sb);

	for (size_t i = 0; i < rb; i++) {
		cairn_migration *m = cairn_migration_set_repeatable(sb, i);
		cairn_migration *old = cairn_migration_set_find_repeatable(sa,
								m->name);

		if (old && !strcmp(old->up_blob, m->up_blob))
			continue;
		if (cairn_repeatable_provenance(sb, repo, m) < 0)
			return -1;
		items[*n].m = m;
		items[(*n)++].change = old ? "changed" : "added";
	}
	for (size_t i = 0; i < ra; i++) {
		cairn_migration *m = cairn_migration_set_repeatable(sa, i);

		if (cairn_migration_set_find_repeatable(sb, m->name))
			continue;
		items[*n].m = m;
		items[(*n)++].change = "removed";
	}
	return 0;
}

static int plan_range(struct cli *cli, const struct plan_opts *po,
		      const char *range)
{
	const char *dots = strstr(range, "..");
	cairn_migration_set *sa = NULL, *sb = NULL;
	plan_item *items = NULL;
	const char **versions = NULL;
	size_t n = 0, nv = 0, na, nb;
	char *a = NULL, *b = NULL;
	cairn_repo *repo = NULL;
	int rc;

	if (!dots || dots[2] == '.') {
		cli_errorf(cli, "bad range '%s'", range);
		cli_hintf(cli, "write A..B, e.g. v1.0..v1.1 or main..HEAD");
		return CLI_EXIT_USAGE;
	}
	a = strndup(range, (size_t)(dots - range));
	b = strdup(dots[2] ? dots + 2 : cli->rev);
	if (!a || !b) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (!*a) {
		cli_errorf(cli, "bad range '%s': the start is missing", range);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((rc = cli_repo(cli, &repo)) ||
	    (rc = cli_load_set(cli, a, false, &sa)) ||
	    (rc = cli_load_set(cli, b, false, &sb)))
		goto out;
	na = cairn_migration_set_count(sa);
	nb = cairn_migration_set_count(sb);
	items = calloc(na + nb + cairn_migration_set_repeatable_count(sa) +
		       cairn_migration_set_repeatable_count(sb) + 1,
		       sizeof(*items));
	versions = calloc(nb + 1, sizeof(*versions));
	if (!items || !versions) {
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < nb; i++) {
		cairn_migration *m = cairn_migration_set_get(sb, i);
		cairn_migration *old = cairn_migration_set_find(sa, m->version);

		if (old && !strcmp(old->up_blob, m->up_blob))
			continue;
		items[n].m = m;
		items[n++].change = old ? "changed" : "added";
		versions[nv++] = m->version;
	}
	for (size_t i = 0; i < na; i++) {
		cairn_migration *m = cairn_migration_set_get(sa, i);

		if (cairn_migration_set_find(sb, m->version))
			continue;
		items[n].m = m;
		items[n++].change = "removed";
	}
	if (nv && cairn_migration_set_provenance(sb, repo, versions, nv) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	if (range_repeatables(repo, sa, sb, items, &n) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	cli_warn_malformed_authors(cli, sb);
	if (po->locks && (rc = range_locks(cli, po, sb, items, n)))
		goto out;
	switch (cli->format) {
	case CLI_FORMAT_JSON:
		rc = print_json_plan(cli, a, cairn_migration_set_commit(sa), b,
				     sb, items, n);
		break;
	case CLI_FORMAT_MARKDOWN:
		print_markdown(cli, a, b, sb, items, n);
		rc = 0;
		break;
	case CLI_FORMAT_TEXT:
		print_text(cli, a, b, sb, items, n);
		rc = 0;
		break;
	default:
		rc = cli_usage_error(cli, cli_find_command("plan"),
				     "plan writes text, json or markdown");
	}
out:
	for (size_t i = 0; items && i < n; i++)
		cairn_lock_plan_dispose(&items[i].locks);
	free(items);
	free(versions);
	cairn_migration_set_free(sa);
	cairn_migration_set_free(sb);
	free(a);
	free(b);
	return rc;
}

enum { OPT_LOCKS = 1, OPT_NO_DB };

static int plan_option(struct cli *cli, int c, const char *arg, void *payload)
{
	struct plan_opts *po = payload;

	(void)cli;
	(void)arg;
	if (c == OPT_LOCKS)
		po->locks = true;
	else if (c == OPT_NO_DB)
		po->no_db = true;
	return 0;
}

int cmd_plan(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "locks", no_argument, NULL, OPT_LOCKS },
		{ "no-db", no_argument, NULL, OPT_NO_DB },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd = cli_find_command("plan");
	struct plan_opts po = { false, false };
	int rc, first;

	rc = cli_parse_options(cli, cmd, argc, argv, opts, "", plan_option,
			       &po, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (argc - first > 1)
		return cli_usage_error(cli, cmd, "too many arguments");
	if (argc - first == 1)
		return plan_range(cli, &po, argv[first]);
	if (po.no_db && !po.locks)
		return cli_usage_error(cli, cmd,
			"--no-db without a range needs --locks (which migrations are pending is the database's answer)");
	return cli_plan_db(cli, &po);
}
