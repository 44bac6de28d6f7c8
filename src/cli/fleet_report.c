/*
 * fleet_report.c - what a fleet run (cmd_fleet.c) shows.
 *
 * On a terminal (stdout a tty, text format), a line per target as it
 * finishes and a status line under them, redrawn as targets start and
 * finish ("4/24 done, 8 running, 1 failed"); elsewhere nothing until the
 * end.  Then the summary: a table per kind of command, one JSON object
 * (--format json) or a JUnit report (--format junit, one test case per
 * target, a <failure> with the error of a target that failed, <skipped>
 * for one that did not run).  Target names and errors come from outside
 * (cairn.yaml, a targets command, a server's message): they are escaped
 * on the terminal (control characters) and in XML (markup and control
 * characters), and JSON escapes them itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_int.h"
#include "report.h"

const char *fleet_kind_name(enum cli_fleet_kind k)
{
	switch (k) {
	case CLI_FLEET_MIGRATE: return "migrate up";
	case CLI_FLEET_STATUS: return "status";
	case CLI_FLEET_VALIDATE: return "validate";
	case CLI_FLEET_AUDIT_VERIFY: return "audit verify";
	case CLI_FLEET_AUDIT_ANCHOR: return "audit anchor";
	}
	return "?";
}

const char *fleet_outcome_name(cairn_fleet_outcome o)
{
	return o == CAIRN_FLEET_OK ? "ok" :
	       o == CAIRN_FLEET_FAILED ? "failed" : "not started";
}

/*
 * status: how many migrations of the revision the target lacks (pending
 * ones and failed no-transaction ones: neither is applied).
 */
static long behind(const struct fleet_job *j)
{
	return j->pending + j->failed;
}

/* ---- live lines --------------------------------------------------------- */

/* The status line under the finished targets (mutex held). */
static void footer(struct fleet *f)
{
	size_t nf = f->nfailed;

	printf("\r\033[K%s: %zu/%zu done, %zu running", fleet_kind_name(f->kind),
	       f->finished, f->count, f->running);
	if (nf)
		printf(", %zu failed", nf);
	fflush(stdout);
}

void fleet_live_start(struct fleet *f, size_t idx)
{
	(void)idx;
	if (!f->live)
		return;
	pthread_mutex_lock(&f->mu);
	f->running++;
	footer(f);
	pthread_mutex_unlock(&f->mu);
}

/* What a finished target's line says after its name. */
static void done_text(const struct fleet *f, const struct fleet_job *j,
		      bool ok, char *out, size_t len)
{
	cli_quoted q = CLI_QUOTED_INIT;

	if (!ok)
		snprintf(out, len, "failed: %s", cli_q(&q, j->error ? j->error : "?"));
	else if (f->kind == CLI_FLEET_STATUS && j->ahead)
		snprintf(out, len, "%ld behind, %ld ahead", behind(j), j->ahead);
	else if (f->kind == CLI_FLEET_STATUS)
		snprintf(out, len, "%ld behind", behind(j));
	else if (f->kind == CLI_FLEET_VALIDATE)
		snprintf(out, len, "ok, %ld warning%s", j->warnings,
			 j->warnings == 1 ? "" : "s");
	else if (f->kind == CLI_FLEET_MIGRATE)
		snprintf(out, len, "applied %ld", j->applied);
	else
		snprintf(out, len, "ok, %ld rows", j->rows);
	cli_quoted_release(&q);
}

void fleet_live_done(struct fleet *f, size_t idx, bool ok)
{
	struct fleet_job *j = &f->jobs[idx];
	cli_quoted q = CLI_QUOTED_INIT;
	char text[600];

	pthread_mutex_lock(&f->mu);
	f->finished++;
	if (!f->live) {
		pthread_mutex_unlock(&f->mu);
		return;
	}
	f->running--;
	f->nfailed += !ok;
	done_text(f, j, ok, text, sizeof(text));
	printf("\r\033[K[%zu/%zu] %s: %s (%lld ms)\n", f->finished, f->count,
	       cli_q(&q, f->targets[idx].name), text, (long long)j->ms);
	cli_quoted_release(&q);
	footer(f);
	pthread_mutex_unlock(&f->mu);
}

void fleet_busy(struct fleet *f, size_t idx)
{
	cli_quoted q = CLI_QUOTED_INIT;

	pthread_mutex_lock(&f->mu);
	if (f->live)
		f->running--;
	if (!f->nbusy++) {
		if (f->live)
			printf("\r\033[K");
		fprintf(stderr, "cairn: the server of target %s has no connection slot free "
			"(SQLSTATE 53300): it runs again later, and fewer targets run at a time\n",
			cli_q(&q, f->targets[idx].name));
	}
	cli_quoted_release(&q);
	if (f->live)
		footer(f);
	pthread_mutex_unlock(&f->mu);
}

void fleet_live_end(struct fleet *f)
{
	if (!f->live)
		return;
	printf("\r\033[K");
	fflush(stdout);
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *target_json(const struct fleet *f, size_t i)
{
	const struct fleet_job *j = &f->jobs[i];
	cairn_fleet_outcome o = f->out[i];
	json_t *t = json_object();

	json_object_set_new(t, "target", cli_json_str(f->targets[i].name));
	json_object_set_new(t, "status", json_string(o == CAIRN_FLEET_NOT_STARTED ?
						 "not_started" : fleet_outcome_name(o)));
	json_object_set_new(t, "schema", cli_json_str_or_null(f->targets[i].schema));
	switch (f->kind) {
	case CLI_FLEET_STATUS:
		json_object_set_new(t, "highest_applied", *j->highest ? cli_json_str(j->highest) : json_null());
		json_object_set_new(t, "behind", j->have_json ? json_integer(behind(j)) : json_null());
		json_object_set_new(t, "ahead", j->have_json ? json_integer(j->ahead) : json_null());
		/* fall through */
	case CLI_FLEET_MIGRATE:
		json_object_set_new(t, "applied", json_integer(j->applied));
		json_object_set_new(t, "pending", j->have_json ? json_integer(j->pending) : json_null());
		json_object_set_new(t, "failed", json_integer(j->failed));
		break;
	case CLI_FLEET_VALIDATE:
		json_object_set_new(t, "errors", json_integer(j->errors));
		json_object_set_new(t, "warnings", json_integer(j->warnings));
		break;
	case CLI_FLEET_AUDIT_VERIFY:
	case CLI_FLEET_AUDIT_ANCHOR:
		json_object_set_new(t, "rows", j->have_json ? json_integer(j->rows) : json_null());
		break;
	}
	json_object_set_new(t, "duration_ms", json_integer(j->ms));
	if (f->kind == CLI_FLEET_MIGRATE)
		json_object_set_new(t, "target_run_id", cli_json_str_or_null(j->child_run_id));
	json_object_set_new(t, "error", cli_json_str_or_null(j->error));
	return t;
}

json_t *fleet_targets_json(const struct fleet *f)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < f->count; i++)
		json_array_append_new(list, target_json(f, i));
	return list;
}

static void print_json(const struct fleet *f, bool ok)
{
	json_t *o = json_object(), *failed = json_array(), *skipped = json_array();

	json_object_set_new(o, "ok", json_boolean(ok));
	json_object_set_new(o, "command", json_string(fleet_kind_name(f->kind)));
	json_object_set_new(o, "run_id", json_string(f->run_id));
	json_object_set_new(o, "environment", cli_json_str(f->env->name));
	json_object_set_new(o, "duration_ms", json_integer(f->ms));
	json_object_set_new(o, "targets", fleet_targets_json(f));
	for (size_t i = 0; i < f->count; i++) {
		if (f->out[i] == CAIRN_FLEET_FAILED)
			json_array_append_new(failed, cli_json_str(f->targets[i].name));
		else if (f->out[i] == CAIRN_FLEET_NOT_STARTED)
			json_array_append_new(skipped, cli_json_str(f->targets[i].name));
	}
	json_object_set_new(o, "failed_targets", failed);
	json_object_set_new(o, "not_started", skipped);
	json_object_set_new(o, "busy_retries", json_integer((json_int_t)f->nbusy));
	cli_print_json(o);
	json_decref(o);
}

/* ---- JUnit -------------------------------------------------------------- */

/* What a target's <system-out> says: the counts of its command. */
static void junit_counts(const struct fleet *f, const struct fleet_job *j,
			 char *out, size_t len)
{
	switch (f->kind) {
	case CLI_FLEET_MIGRATE:
	case CLI_FLEET_STATUS:
		snprintf(out, len, "applied %ld, pending %ld, failed %ld",
			 j->applied, j->pending, j->failed);
		break;
	case CLI_FLEET_VALIDATE:
		snprintf(out, len, "errors %ld, warnings %ld", j->errors,
			 j->warnings);
		break;
	default:
		snprintf(out, len, "rows %ld", j->rows);
	}
}

static void junit_case(const struct fleet *f, size_t i, const char *cls)
{
	const struct fleet_job *j = &f->jobs[i];
	char *name = cli_xml_escape(f->targets[i].name);
	char *err = f->out[i] == CAIRN_FLEET_FAILED ?
		    cli_xml_escape(j->error ? j->error : "failed") : NULL;
	char counts[160];

	printf("    <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\">\n",
	       cls, name ? name : "?", (double)j->ms / 1000.0);
	if (f->out[i] == CAIRN_FLEET_FAILED)
		printf("      <failure message=\"%s\" type=\"failed\">%s</failure>\n",
		       err ? err : "?", err ? err : "?");
	else if (f->out[i] == CAIRN_FLEET_NOT_STARTED)
		printf("      <skipped message=\"not started\"/>\n");
	if (j->ran) {
		junit_counts(f, j, counts, sizeof(counts));
		printf("      <system-out>%s</system-out>\n", counts);
	}
	printf("    </testcase>\n");
	free(name);
	free(err);
}

static void print_junit(const struct fleet *f)
{
	size_t nfail = 0, nskip = 0;
	char *env = cli_xml_escape(f->env->name), *cls = NULL;

	for (size_t i = 0; i < f->count; i++) {
		nfail += f->out[i] == CAIRN_FLEET_FAILED;
		nskip += f->out[i] == CAIRN_FLEET_NOT_STARTED;
	}
	if (asprintf(&cls, "cairn.%s.%s", f->kind == CLI_FLEET_MIGRATE ? "migrate" :
		     f->kind == CLI_FLEET_STATUS ? "status" :
		     f->kind == CLI_FLEET_VALIDATE ? "validate" :
		     f->kind == CLI_FLEET_AUDIT_VERIFY ? "audit_verify" : "audit_anchor",
		     env ? env : "?") < 0)
		cls = NULL;
	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<testsuites name=\"cairn\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n"
	       "  <testsuite name=\"cairn %s --all-targets (%s)\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
	       f->count, nfail, nskip, (double)f->ms / 1000.0,
	       fleet_kind_name(f->kind), env ? env : "?", f->count, nfail,
	       nskip, (double)f->ms / 1000.0);
	for (size_t i = 0; i < f->count; i++)
		junit_case(f, i, cls ? cls : "cairn");
	printf("  </testsuite>\n</testsuites>\n");
	free(env);
	free(cls);
}

/* ---- text --------------------------------------------------------------- */

/* The widest escaped target name (at least "target"). */
static int name_width(const struct fleet *f)
{
	int w = 6;

	for (size_t i = 0; i < f->count; i++) {
		char *q = cli_quote_path(f->targets[i].name);

		if (q && (int)strlen(q) > w)
			w = (int)strlen(q);
		free(q);
	}
	return w;
}

static void dur(const struct fleet_job *j, char *out, size_t len)
{
	if (j->ran)
		snprintf(out, len, "%lld ms", (long long)j->ms);
	else
		snprintf(out, len, "-");
}

/* One row: name, status, the kind's columns, duration, error. */
static void table_row(const struct fleet *f, size_t i, int w)
{
	const struct fleet_job *j = &f->jobs[i];
	cli_quoted q = CLI_QUOTED_INIT;
	const char *name = cli_q(&q, f->targets[i].name);
	const char *st = fleet_outcome_name(f->out[i]);
	const char *err = j->error ? cli_q(&q, j->error) : "";
	char a[24] = "-", b[24] = "-", d[24];

	dur(j, d, sizeof(d));
	if (j->have_json)
		snprintf(a, sizeof(a), "%ld", j->pending);
	switch (f->kind) {
	case CLI_FLEET_MIGRATE:
		printf("%-*s  %-11s  %7ld  %7s  %6ld  %9s  %s\n", w, name, st,
		       j->applied, a, j->failed, d, err);
		break;
	case CLI_FLEET_STATUS:
		if (j->have_json) {
			snprintf(a, sizeof(a), "%ld", behind(j));
			snprintf(b, sizeof(b), "%ld", j->ahead);
		}
		/* the highest version may be a database's text: escaped */
		printf("%-*s  %-11s  %-20s  %7s  %6s  %s\n", w, name, st,
		       *j->highest ? cli_q(&q, j->highest) : "-", a, b, err);
		break;
	case CLI_FLEET_VALIDATE:
		printf("%-*s  %-11s  %6ld  %8ld  %9s  %s\n", w, name, st,
		       j->errors, j->warnings, d, err);
		break;
	default:
		if (j->have_json)
			snprintf(a, sizeof(a), "%ld", j->rows);
		printf("%-*s  %-11s  %6s  %9s  %s\n", w, name, st, a, d, err);
	}
	cli_quoted_release(&q);
}

static void print_table(const struct fleet *f)
{
	int w = name_width(f);

	switch (f->kind) {
	case CLI_FLEET_MIGRATE:
		printf("%-*s  %-11s  %7s  %7s  %6s  %9s  %s\n", w, "target", "status",
		       "applied", "pending", "failed", "duration", "error");
		break;
	case CLI_FLEET_STATUS:
		printf("%-*s  %-11s  %-20s  %7s  %6s  %s\n", w, "target", "status",
		       "highest applied", "behind", "ahead", "error");
		break;
	case CLI_FLEET_VALIDATE:
		printf("%-*s  %-11s  %6s  %8s  %9s  %s\n", w, "target", "status",
		       "errors", "warnings", "duration", "error");
		break;
	default:
		printf("%-*s  %-11s  %6s  %9s  %s\n", w, "target", "status",
		       "rows", "duration", "error");
	}
	for (size_t i = 0; i < f->count; i++)
		table_row(f, i, w);
}

void fleet_print(struct fleet *f, bool ok)
{
	if (f->cli->format == CLI_FORMAT_JSON)
		print_json(f, ok);
	else if (f->cli->format == CLI_FORMAT_JUNIT)
		print_junit(f);
	else
		print_table(f);
	fflush(stdout);
}
