/*
 * repeatable_report.c - repeatable migrations in `cairn status` and
 * `cairn plan` (include/cairn/repeatable.h): one line (or JSON object)
 * per repeatable with its state, and the lookup of a plan label.
 *
 * States: current (applied with the file's checksum), pending (never
 * applied), changed (the next `migrate up` applies it again), deleted
 * (recorded, no file at the revision: cairn never drops what it made).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/repeatable.h"
#include "cli.h"
#include "repeatable_report.h"
#include "report.h"

#define SUFFIX " (repeatable)"

cairn_migration *cli_plan_label_find(cairn_migration_set *set,
				     const char *label)
{
	size_t n = strlen(label), k = strlen(SUFFIX);
	const char *us;
	char buf[300];

	if (n > k && !strcmp(label + n - k, SUFFIX)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(n - k), label);
		return cairn_migration_set_find_repeatable(set, buf);
	}
	us = strchr(label, '_');
	snprintf(buf, sizeof(buf), "%.*s",
		 (int)(us ? (size_t)(us - label) : 0), label);
	return cairn_migration_set_find(set, buf);
}

static const char *color_of(cairn_repeatable_state s)
{
	switch (s) {
	case CAIRN_REPEATABLE_CURRENT:
		return "32";
	case CAIRN_REPEATABLE_NEW:
	case CAIRN_REPEATABLE_CHANGED:
		return "33";
	default:
		return "1;31";
	}
}

static json_t *entry_json(const cairn_repeatable_entry *e)
{
	const cairn_migration *m = e->migration;
	const cairn_repeatable_row *w = e->row;
	json_t *o = json_object();

	json_object_set_new(o, "name", cli_json_str(m ? m->name : w->name));
	json_object_set_new(o, "state",
			    json_string(cairn_repeatable_state_name(e->state)));
	json_object_set_new(o, "file", cli_json_str_or_null(m ? m->up_path : NULL));
	json_object_set_new(o, "checksum", cli_json_str_or_null(
		m && m->content_loaded && m->content_ok ? m->checksum : NULL));
	json_object_set_new(o, "applied_checksum",
			    cli_json_str_or_null(w ? w->checksum : NULL));
	if (w) {
		json_object_set_new(o, "commit", cli_json_str_or_null(
			*w->commit_sha ? w->commit_sha : NULL));
		json_object_set_new(o, "author_name", cli_json_str(w->author_name));
		json_object_set_new(o, "author_email", cli_json_str(w->author_email));
		json_object_set_new(o, "applied_at", cli_json_str(w->applied_at));
		json_object_set_new(o, "applied_by", cli_json_str(w->applied_by));
		json_object_set_new(o, "duration_ms", json_integer(w->duration_ms));
	}
	return o;
}

static void entry_text(struct cli *cli, const cairn_repeatable_entry *e)
{
	const cairn_migration *m = e->migration;
	const cairn_repeatable_row *w = e->row;
	cli_quoted q = CLI_QUOTED_INIT;

	printf("  %s%-8s%s %-6s %-32s %-10.10s  %-24s",
	       cli_color(cli, stdout, color_of(e->state)),
	       cairn_repeatable_state_name(e->state), cli_reset(cli, stdout),
	       "R", cli_q(&q, m ? m->name : w->name),
	       cli_q(&q, w ? w->commit_sha : ""),
	       cli_q(&q, w ? w->author_name : ""));
	if (w)
		printf("  %s", cli_q(&q, w->applied_at));
	putchar('\n');
	cli_quoted_release(&q);
}

int cli_status_repeatables(struct cli *cli, cairn_migration_set *set,
			   cairn_db *db, json_t *root)
{
	cairn_repeatable_status st;
	size_t counts[4] = { 0 };
	json_t *arr;

	if (cairn_repeatable_status_load(&st, set, db) < 0)
		return cli_report_error(cli);
	for (size_t i = 0; i < st.count; i++)
		counts[st.items[i].state]++;
	if (root) {
		arr = json_array();
		for (size_t i = 0; i < st.count; i++)
			json_array_append_new(arr, entry_json(&st.items[i]));
		json_object_set_new(root, "repeatables", arr);
	} else if (st.count) {
		for (size_t i = 0; i < st.count; i++)
			entry_text(cli, &st.items[i]);
		printf("repeatable: %zu current, %zu pending, %zu changed",
		       counts[CAIRN_REPEATABLE_CURRENT],
		       counts[CAIRN_REPEATABLE_NEW],
		       counts[CAIRN_REPEATABLE_CHANGED]);
		if (counts[CAIRN_REPEATABLE_DELETED])
			printf(", %zu deleted", counts[CAIRN_REPEATABLE_DELETED]);
		putchar('\n');
		if (counts[CAIRN_REPEATABLE_DELETED])
			cli_hintf(cli, "a deleted repeatable's objects stay in the database: drop them in a versioned migration if they must go");
	}
	cairn_repeatable_status_dispose(&st);
	return 0;
}

/* ---- cairn import flyway ---------------------------------------------- */

/* "applied" (recorded, or would be), "pending" or "missing" (no file). */
static const char *imported_state(const cairn_imported_repeatable *x)
{
	if (!x->migration)
		return "missing";
	return x->applied ? "applied" : "pending";
}

static json_t *imported_json(const cairn_imported_repeatable *x)
{
	json_t *o = json_object();

	json_object_set_new(o, "script", cli_json_str(x->script));
	json_object_set_new(o, "name", x->migration ?
			    cli_json_str(x->migration->name) : json_null());
	json_object_set_new(o, "file", x->migration ?
			    cli_json_str(x->migration->up_path) : json_null());
	json_object_set_new(o, "state", json_string(imported_state(x)));
	json_object_set_new(o, "flyway_checksum", x->has_checksum ?
			    json_integer(x->flyway_checksum) : json_null());
	json_object_set_new(o, "file_checksum", x->migration ?
			    json_integer(x->file_checksum) : json_null());
	json_object_set_new(o, "installed_by",
			    cli_json_str_or_null(x->installed_by));
	json_object_set_new(o, "installed_on",
			    cli_json_str_or_null(x->installed_on));
	return o;
}

int cli_import_repeatables_json(struct cli *cli, cairn_migration_set *set,
				cairn_db *db, json_t **out)
{
	cairn_imported_repeatables list;

	*out = NULL;
	if (cairn_import_flyway_repeatables(&list, set, db) < 0)
		return cli_report_error(cli);
	*out = json_array();
	for (size_t i = 0; i < list.count; i++)
		json_array_append_new(*out, imported_json(&list.items[i]));
	cairn_imported_repeatables_dispose(&list);
	return 0;
}

int cli_import_repeatables(struct cli *cli, cairn_migration_set *set,
			   cairn_db *db, bool dry_run)
{
	cairn_imported_repeatables list;

	if (cli->format == CLI_FORMAT_JSON || cli->verbosity < 0)
		return 0;
	if (cairn_import_flyway_repeatables(&list, set, db) < 0)
		return cli_report_error(cli);
	if (list.count)
		printf("%s %zu repeatable migration%s from flyway:\n",
		       dry_run ? "would take over" : "took over", list.count,
		       list.count == 1 ? "" : "s");
	for (size_t i = 0; i < list.count; i++) {
		const cairn_imported_repeatable *x = &list.items[i];
		cli_quoted q = CLI_QUOTED_INIT;

		printf("  %-22s -> ", cli_q(&q, x->script));
		if (!x->migration)
			printf("no such file at this revision: ignored\n");
		else if (x->applied)
			printf("%s (repeatable): checksum %d matches, %s as applied\n",
			       cli_q(&q, x->migration->name), (int)x->flyway_checksum,
			       dry_run ? "would be recorded" : "recorded");
		else if (!x->has_checksum)
			printf("%s (repeatable): Flyway's history holds no checksum that can match the file (NULL, or not a 32-bit number), %s pending: the next 'cairn migrate up' applies it\n",
			       cli_q(&q, x->migration->name), dry_run ? "would stay" : "left");
		else
			printf("%s (repeatable): the file changed since Flyway ran it (checksum %d, file %d), %s pending: the next 'cairn migrate up' applies it\n",
			       cli_q(&q, x->migration->name), (int)x->flyway_checksum,
			       (int)x->file_checksum, dry_run ? "would stay" : "left");
		cli_quoted_release(&q);
	}
	cairn_imported_repeatables_dispose(&list);
	return 0;
}
