/*
 * plan_locks.c - `cairn plan --locks`: each statement of a migration
 * with the locks it takes, on which tables, whether it rewrites or scans
 * them, and, with a database, each table's size and how many sessions
 * are using it now.  The analysis is the library's (cairn/lockplan.h);
 * this file only prints it, as text, markdown or JSON.
 *
 * Text, under the migration's line:
 *
 *     line 3  ALTER TABLE
 *             rewrites orders (41 GB, 3 sessions) under ACCESS EXCLUSIVE:
 *             ADD COLUMN total (volatile default)
 *
 * Names and reasons come from the migration file: they are escaped like
 * everything else from outside (cli_q).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "report.h"

int cli_locks_analyse(struct cli *cli, cairn_migration_set *set,
		      cairn_migration *m, cairn_db *db, cairn_lock_plan *out)
{
	if (!m->content_loaded && cairn_migration_load_content(set, m) < 0)
		return cli_report_error(cli);
	if (!m->up_sql) {
		cairn_lock_plan_dispose(out);
		out->error = strdup("the up file could not be read as text");
		return out->error ? 0 : CLI_EXIT_FAIL;
	}
	if (cairn_lock_plan_sql(out, m->up_sql, m->up_len) < 0)
		return cli_report_error(cli);
	if (db && cairn_lock_plan_stats(out, db) < 0)
		return cli_report_error(cli);
	return 0;
}

static const char *verb(const cairn_lock_target *t)
{
	if (t->rewrite == CAIRN_LOCK_REWRITE_YES)
		return "rewrites";
	if (t->rewrite == CAIRN_LOCK_REWRITE_MAYBE)
		return "may rewrite";
	if (t->scans)
		return "scans";
	return "locks";
}

/* "orders" or "s.orders", escaped; caller frees. */
static char *display_name(const cairn_lock_target *t)
{
	char *raw, *q;

	if (asprintf(&raw, "%s%s%s", t->schema ? t->schema : "",
		     t->schema ? "." : "", t->name) < 0)
		return NULL;
	q = cli_quote_path(raw);
	free(raw);
	return q;
}

/* "(41 GB, 3 sessions)", "(new in this migration)", ... into out. */
static void figures(char *out, size_t n, const cairn_lock_target *t,
		    bool with_db)
{
	char size[64];

	*out = '\0';
	if (t->created) {
		snprintf(out, n, "(new in this migration)");
		return;
	}
	if (!with_db)
		return;
	if (!t->has_stats) {
		snprintf(out, n, "(not in the database)");
		return;
	}
	if (t->size_bytes < 0)
		snprintf(size, sizeof(size), "size unknown: held by another session");
	else
		snprintf(size, sizeof(size), "%s", t->size_text ? t->size_text : "?");
	snprintf(out, n, "(%s, %lld session%s)", size, (long long)t->sessions,
		 t->sessions == 1 ? "" : "s");
}

static void print_target(const cairn_lock_target *t, bool with_db)
{
	char fig[128];
	char *name = display_name(t);
	cli_quoted q = CLI_QUOTED_INIT;

	figures(fig, sizeof(fig), t, with_db);
	printf("              %s %s%s%s%s%s%s under %s", verb(t),
	       t->is_index ? "index " : "", name ? name : "?",
	       t->is_index && t->table ? " on " : "",
	       t->is_index && t->table ? cli_q(&q, t->table) : "",
	       *fig ? " " : "", fig, cairn_lock_mode_name(t->mode));
	if (t->why)
		printf(": %s", cli_q(&q, t->why));
	putchar('\n');
	cli_quoted_release(&q);
	free(name);
}

static void print_text(const cairn_lock_plan *p, bool with_db)
{
	if (p->error) {
		cli_quoted q = CLI_QUOTED_INIT;

		printf("    cannot analyse: %s", cli_q(&q, p->error));
		if (p->error_line)
			printf(" (line %u, column %u)", p->error_line,
			       p->error_column);
		putchar('\n');
		cli_quoted_release(&q);
		return;
	}
	for (size_t i = 0; i < p->count; i++) {
		const cairn_lock_statement *st = &p->items[i];

		printf("    line %-4u %s%s", st->line, st->kind ? st->kind : "?",
		       st->no_transaction ? " (outside a transaction)" : "");
		if (!st->analysed)
			fputs(": locks not known from the text (it runs code or "
			      "acts on tables it does not name)", stdout);
		else if (!st->target_count)
			fputs(": no lock on an existing table", stdout);
		putchar('\n');
		for (size_t j = 0; j < st->target_count; j++)
			if (st->targets[j].mode != CAIRN_LOCK_NONE)
				print_target(&st->targets[j], with_db);
	}
}

/* A markdown cell: escaped, '|' and newlines neutralised. */
static void md_cell(const char *text)
{
	char *safe = cli_quote_path(text ? text : "");

	for (const char *s = safe; s && *s; s++)
		if (*s == '|')
			fputs("\\|", stdout);
		else
			putchar(*s);
	free(safe);
}

static void print_markdown(const cairn_lock_plan *p, bool with_db)
{
	if (p->error) {
		fputs("\nCannot analyse: ", stdout);
		md_cell(p->error);
		printf(" (line %u)\n\n", p->error_line);
		return;
	}
	puts("\n| Line | Statement | Table | Lock | Rewrite | Size | Sessions |");
	puts("|---|---|---|---|---|---|---|");
	for (size_t i = 0; i < p->count; i++) {
		const cairn_lock_statement *st = &p->items[i];
		bool any = false;

		for (size_t j = 0; j < st->target_count; j++) {
			const cairn_lock_target *t = &st->targets[j];
			char *name;

			if (t->mode == CAIRN_LOCK_NONE)
				continue;
			any = true;
			name = display_name(t);
			printf("| %u | ", st->line);
			md_cell(st->kind);
			fputs(" | ", stdout);
			md_cell(name);
			printf(" | %s | %s%s | ", cairn_lock_mode_name(t->mode),
			       cairn_lock_rewrite_name(t->rewrite),
			       t->scans && t->rewrite == CAIRN_LOCK_REWRITE_NO ?
				       " (scans)" : "");
			if (with_db && t->has_stats && t->size_text)
				md_cell(t->size_text);
			printf(" | ");
			if (with_db && t->has_stats)
				printf("%lld", (long long)t->sessions);
			puts(" |");
			free(name);
		}
		if (!any) {
			printf("| %u | ", st->line);
			md_cell(st->kind);
			printf(" | | %s | | | |\n",
			       st->analysed ? "none" : "unknown");
		}
	}
	putchar('\n');
}

void cli_locks_print(struct cli *cli, const cairn_lock_plan *p, bool with_db)
{
	if (cli->format == CLI_FORMAT_MARKDOWN)
		print_markdown(p, with_db);
	else
		print_text(p, with_db);
}

static json_t *target_json(const cairn_lock_target *t, bool with_db)
{
	json_t *o = json_object();
	bool figs = with_db && t->has_stats;

	json_object_set_new(o, "schema", cli_json_str_or_null(t->schema));
	json_object_set_new(o, "name", cli_json_str(t->name));
	json_object_set_new(o, "index", json_boolean(t->is_index));
	json_object_set_new(o, "lock", json_string(cairn_lock_mode_name(t->mode)));
	json_object_set_new(o, "rewrite", json_string(cairn_lock_rewrite_name(t->rewrite)));
	json_object_set_new(o, "scans", json_boolean(t->scans));
	json_object_set_new(o, "created", json_boolean(t->created));
	json_object_set_new(o, "why", cli_json_str_or_null(t->why));
	json_object_set_new(o, "exists", !with_db || t->created ? json_null() :
				     json_boolean(t->has_stats));
	json_object_set_new(o, "size_bytes", figs && t->size_bytes >= 0 ?
				     json_integer((json_int_t)t->size_bytes) :
				     json_null());
	json_object_set_new(o, "size", figs ? cli_json_str_or_null(t->size_text) :
					      json_null());
	json_object_set_new(o, "sessions", figs ?
				     json_integer((json_int_t)t->sessions) :
				     json_null());
	json_object_set_new(o, "table", cli_json_str_or_null(t->table));
	return o;
}

/* The statement's strongest lock and rewrite over its tables. */
static void statement_summary(json_t *o, const cairn_lock_statement *st)
{
	cairn_lock_mode mode = CAIRN_LOCK_NONE;
	cairn_lock_rewrite rw = CAIRN_LOCK_REWRITE_NO;

	for (size_t j = 0; j < st->target_count; j++) {
		const cairn_lock_target *t = &st->targets[j];

		if (t->mode > mode)
			mode = t->mode;
		if (t->rewrite > rw)
			rw = t->rewrite;
	}
	json_object_set_new(o, "lock", mode == CAIRN_LOCK_NONE ? json_null() :
				       json_string(cairn_lock_mode_name(mode)));
	json_object_set_new(o, "rewrite", json_string(cairn_lock_rewrite_name(rw)));
}

json_t *cli_locks_json(const cairn_lock_plan *p, bool with_db)
{
	json_t *root = json_object(), *stmts = json_array();

	for (size_t i = 0; i < p->count; i++) {
		const cairn_lock_statement *st = &p->items[i];
		json_t *o = json_object(), *tables = json_array();

		json_object_set_new(o, "line", json_integer(st->line));
		json_object_set_new(o, "kind", cli_json_str(st->kind));
		statement_summary(o, st);
		json_object_set_new(o, "analysed", json_boolean(st->analysed));
		json_object_set_new(o, "no_transaction",
				    json_boolean(st->no_transaction));
		for (size_t j = 0; j < st->target_count; j++)
			if (st->targets[j].mode != CAIRN_LOCK_NONE)
				json_array_append_new(tables,
					target_json(&st->targets[j], with_db));
		json_object_set_new(o, "tables", tables);
		json_array_append_new(stmts, o);
	}
	json_object_set_new(root, "statements", stmts);
	json_object_set_new(root, "error", p->error ?
			    json_pack("{s:o, s:I, s:I}", "message",
				      cli_json_str(p->error), "line",
				      (json_int_t)p->error_line, "column",
				      (json_int_t)p->error_column) :
			    json_null());
	return root;
}
