/*
 * check_fleet_ops.c - fleets beyond `migrate up` (README "Fleets"):
 * `validate`, `audit verify` and `audit anchor` with --all-targets; the
 * pipeline at fleet level (pre_validate and post_validate once per run,
 * per-migration events per target, one post_complete with the summary
 * and the fleet's run id); the live lines on a terminal (a real pty)
 * and none elsewhere; --format junit with hostile text in an error; two
 * dozen databases with a failing one, with and without --keep-going and
 * --canary; several tenants' schemas in one database; SIGTERM in the
 * middle of a run.  Every fleet here is made of real databases on the
 * test server and a real git repository.
 */

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define MAXT 24

typedef struct {
	char *dir;   /* the repository */
	char *out;   /* a scratch directory outside it */
	char *urls[MAXT];
	size_t n;
} fleet;

static long count_in(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/*
 * n databases (or, with tenants, n schemas of one database), the
 * migrations given, and an environment `prod` listing the targets
 * t01..tNN, with `extra` appended to cairn.yaml (hooks).
 */
static void fleet_make(fleet *f, size_t n, bool tenants, const char *extra,
		       const char *const *migrations)
{
	char yaml[16384], line[600];

	memset(f, 0, sizeof(*f));
	ck_assert_uint_le(n, MAXT);
	f->n = n;
	f->dir = tu_git_repo();
	f->out = tu_mkdtemp();
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n");
	for (size_t i = 0; i < n; i++) {
		f->urls[i] = tenants && i ? strdup(f->urls[0]) : tu_db_create("fleetops");
		if (tenants)
			snprintf(line, sizeof(line),
				 "      - { name: t%02zu, database_url: \"%s\", schema: tenant_%02zu }\n",
				 i + 1, f->urls[i], i + 1);
		else
			snprintf(line, sizeof(line),
				 "      - { name: t%02zu, database_url: \"%s\" }\n",
				 i + 1, f->urls[i]);
		strncat(yaml, line, sizeof(yaml) - strlen(yaml) - 1);
	}
	if (extra)
		strncat(yaml, extra, sizeof(yaml) - strlen(yaml) - 1);
	tu_write(f->dir, "cairn.yaml", yaml);
	for (size_t i = 0; migrations[i]; i += 2)
		tu_write(f->dir, migrations[i], migrations[i + 1]);
	free(tu_git_commit(f->dir, "Ann", "ann@example.com", 1700000000, "fleet"));
}

static const char *const three[] = {
	"db/migrations/0001_users.up.sql", "CREATE TABLE users (id int);\n",
	"db/migrations/0002_orders.up.sql", "CREATE TABLE orders (id int);\n",
	"db/migrations/0003_items.up.sql", "CREATE TABLE items (id int);\n",
	NULL,
};

static void fleet_init(fleet *f, size_t n)
{
	fleet_make(f, n, false, NULL, three);
}

static void fleet_dispose(fleet *f)
{
	tu_rmrf(f->dir);
	tu_rmrf(f->out);
	free(f->dir);
	free(f->out);
	for (size_t i = 0; i < f->n; i++)
		free(f->urls[i]);
}

static long applied_in(const fleet *f, size_t i)
{
	return count_in(f->urls[i], "SELECT count(*) FROM cairn.migrations WHERE status = 'applied'");
}

/* Outcome of a JSON summary for target name: "ok", "failed", "not_started". */
static bool target_is(const char *json, const char *name, const char *status)
{
	char want[128];
	const char *p;

	snprintf(want, sizeof(want), "\"target\": \"%s\"", name);
	p = strstr(json, want);
	ck_assert_msg(p != NULL, "no %s in %s", name, json);
	snprintf(want, sizeof(want), "\"status\": \"%s\"", status);
	p = strstr(p, "\"status\"");
	return p && !strncmp(p, want, strlen(want));
}

static void migrate_all(fleet *f)
{
	tu_result r;

	tu_cairn(&r, f->dir, "--env", "prod", "migrate", "up", "--all-targets",
		 "--parallel", "4", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	tu_result_dispose(&r);
}

/* How many lines of text hold needle. */
static size_t lines_with(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, len);

		n += strstr(line, needle) != NULL;
		free(line);
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

/* ------------------------------------------------------------------ */

START_TEST(test_validate_all_targets)
{
	fleet f;
	tu_result r;

	fleet_init(&f, 6);
	migrate_all(&f);
	tu_cairn(&r, f.dir, "--env", "prod", "validate", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "warnings"), "%s", r.out);
	ck_assert_int_eq(lines_with(r.out, " ok "), 6);
	tu_result_dispose(&r);
	/* t03's tracking row no longer matches its file: drift there only */
	ck_assert_int_eq(tu_db_exec(f.urls[2], "UPDATE cairn.migrations SET checksum = repeat('0', 64), up_blob = repeat('0', 40) WHERE version = '2'"), 0);
	/* the stop rule of migrate: no new target after the failure */
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "validate",
		 "--all-targets", "--parallel", "1", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(target_is(r.out, "t03", "failed"), "%s", r.out);
	ck_assert(target_is(r.out, "t02", "ok"));
	ck_assert(target_is(r.out, "t04", "not_started"));
	ck_assert_msg(tu_contains(r.out, "drift: migration 0002_orders"), "%s", r.out);
	tu_result_dispose(&r);
	/* --keep-going: every target is checked, the failure listed */
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "validate",
		 "--all-targets", "--parallel", "2", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(target_is(r.out, "t03", "failed"), "%s", r.out);
	ck_assert(target_is(r.out, "t01", "ok"));
	ck_assert(target_is(r.out, "t06", "ok"));
	ck_assert_msg(tu_contains(r.err, "1 of 6 targets failed: t03"), "%s", r.err);
	tu_result_dispose(&r);
	/* --no-db reaches the children: no database, no drift */
	tu_cairn(&r, f.dir, "--env", "prod", "validate", "--all-targets", "--no-db", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	tu_result_dispose(&r);
	/* the fleet options go with --all-targets only */
	tu_cairn(&r, f.dir, "--env", "prod", "validate", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	fleet_dispose(&f);
}
END_TEST

START_TEST(test_audit_verify_and_anchor_all_targets)
{
	fleet f;
	tu_result r;
	char *refs;

	fleet_init(&f, 5);
	migrate_all(&f);
	tu_cairn(&r, f.dir, "--env", "prod", "audit", "anchor", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	tu_result_dispose(&r);
	/* each target's chain has its own anchor ref */
	refs = tu_sh_out(f.dir, "git for-each-ref --format='%%(refname)' refs/cairn/audit/");
	ck_assert_ptr_nonnull(refs);
	ck_assert_int_eq(lines_with(refs, "refs/cairn/audit/prod@t"), 5);
	ck_assert_msg(tu_contains(refs, "refs/cairn/audit/prod@t04"), "%s", refs);
	free(refs);
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "audit", "verify",
		 "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	ck_assert(target_is(r.out, "t05", "ok"));
	tu_result_dispose(&r);
	/* the newest row of t02 goes: its anchor says so, the others hold */
	ck_assert_int_eq(tu_db_exec(f.urls[1],
		"ALTER TABLE cairn.audit DISABLE TRIGGER USER; "
		"DELETE FROM cairn.audit WHERE id = (SELECT max(id) FROM cairn.audit); "
		"ALTER TABLE cairn.audit ENABLE TRIGGER USER"), 0);
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "audit", "verify",
		 "--all-targets", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(target_is(r.out, "t02", "failed"), "%s", r.out);
	ck_assert(target_is(r.out, "t01", "ok"));
	ck_assert(target_is(r.out, "t05", "ok"));
	ck_assert_msg(tu_contains(r.err, "1 of 5 targets failed: t02"), "%s", r.err);
	tu_result_dispose(&r);
	/* and anchoring over it is refused, for t02 only */
	tu_cairn(&r, f.dir, "--env", "prod", "audit", "anchor", "--all-targets",
		 "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "targets failed: t02"), "%s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, f.dir, "--env", "prod", "audit", "log", "--all-targets", NULL);
	ck_assert_int_eq(r.status, 2);
	tu_result_dispose(&r);
	fleet_dispose(&f);
}
END_TEST

/* hooks that note each event, its run id and post_complete's summary */
static char *event_hooks(const char *out, bool veto)
{
	char *s = NULL;

	ck_assert_int_ge(asprintf(&s,
		"hooks:\n"
		"  pre_validate:\n"
		"    - run: [sh, -c, 'echo \"$CAIRN_EVENT $CAIRN_RUN_ID\" >> %s/events; exit %d']\n"
		"  post_validate:\n"
		"    - run: [sh, -c, 'echo \"$CAIRN_EVENT $CAIRN_RUN_ID\" >> %s/events']\n"
		"  post_execute:\n"
		"    - run: [sh, -c, 'echo \"$CAIRN_EVENT $CAIRN_MIGRATION_VERSION\" >> %s/events']\n"
		"  post_complete:\n"
		"    - run: [sh, -c, 'echo \"$CAIRN_EVENT $CAIRN_RUN_ID $CAIRN_STATUS\" >> %s/events; cat > %s/complete.json']\n",
		out, veto ? 1 : 0, out, out, out, out), 0);
	return s;
}

/* cairn.yaml's targets, then the hooks (without committing). */
static void set_hooks(fleet *f, bool veto)
{
	char *yaml = tu_read(f->dir, "cairn.yaml"), *cut, *hooks, *all = NULL;

	ck_assert_ptr_nonnull(yaml);
	if ((cut = strstr(yaml, "hooks:")))
		*cut = '\0';
	hooks = event_hooks(f->out, veto);
	ck_assert_int_ge(asprintf(&all, "%s%s", yaml, hooks), 0);
	tu_write(f->dir, "cairn.yaml", all);
	free(all);
	free(hooks);
	free(yaml);
	free(tu_git_commit(f->dir, "Ann", "ann@example.com", 1700000050, "hooks"));
}

START_TEST(test_events_once_per_fleet)
{
	fleet f;
	tu_result r;
	char *events, *complete, line[200];
	const char *p;
	char id[64];

	fleet_make(&f, 4, false, NULL, three);
	set_hooks(&f, false);
	/* t02 fails at 0002 (its table is there): the summary says so */
	ck_assert_int_eq(tu_db_exec(f.urls[1], "CREATE TABLE orders (x int)"), 0);
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "migrate", "up",
		 "--all-targets", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	p = strstr(r.out, "\"run_id\": \"");
	ck_assert_ptr_nonnull(p);
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(p + 11, "\""), p + 11);
	tu_result_dispose(&r);
	events = tu_read(f.out, "events");
	ck_assert_ptr_nonnull(events);
	/* once per run, with the fleet's run id */
	snprintf(line, sizeof(line), "pre_validate %s\n", id);
	ck_assert_msg(lines_with(events, "pre_validate") == 1 && tu_contains(events, line),
		      "%s", events);
	snprintf(line, sizeof(line), "post_validate %s\n", id);
	ck_assert_msg(lines_with(events, "post_validate") == 1 && tu_contains(events, line),
		      "%s", events);
	snprintf(line, sizeof(line), "post_complete %s failed\n", id);
	ck_assert_msg(lines_with(events, "post_complete") == 1 && tu_contains(events, line),
		      "%s", events);
	/* per migration, per target: 3 x 3 applied + 1 on t02 */
	ck_assert_msg(lines_with(events, "post_execute") == 10, "%s", events);
	free(events);
	complete = tu_read(f.out, "complete.json");
	ck_assert_ptr_nonnull(complete);
	ck_assert_msg(tu_contains(complete, "fleet_summary"), "%s", complete);
	ck_assert_msg(tu_contains(complete, "\"fleet_failed\": \"t02\"") ||
		      tu_contains(complete, "\"fleet_failed\":\"t02\""), "%s", complete);
	ck_assert(tu_contains(complete, "\\\"target\\\":\\\"t04\\\""));
	ck_assert(tu_contains(complete, "\\\"applied\\\":3"));
	free(complete);
	/* the targets' audit rows carry the same id */
	snprintf(line, sizeof(line),
		 "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied' AND detail->'metadata'->>'fleet_run' = '%s'",
		 id);
	ck_assert_int_eq(count_in(f.urls[0], line), 3);
	ck_assert_int_eq(count_in(f.urls[3], line), 3);
	ck_assert_int_eq(count_in(f.urls[1], line), 1);
	/* a pre_validate veto: no target is touched */
	set_hooks(&f, true);
	tu_write(f.dir, "db/migrations/0004_more.up.sql", "CREATE TABLE more (id int);\n");
	free(tu_git_commit(f.dir, "Ann", "ann@example.com", 1700000100, "veto"));
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "no target was started"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(applied_in(&f, 0), 3);
	ck_assert_int_eq(count_in(f.urls[0], "SELECT count(*) FROM pg_tables WHERE tablename = 'more'"), 0);
	fleet_dispose(&f);
}
END_TEST

START_TEST(test_database_hooks_stay_with_targets)
{
	static const char *const hooks =
		"hooks:\n"
		"  pre_validate:\n"
		"    - builtin: db-reachable\n"
		"  post_validate:\n"
		"    - sql: \"SELECT count(*) FROM pg_tables WHERE tablename = 'frozen'\"\n"
		"      expect: 0\n";
	fleet f;
	tu_result r;

	fleet_make(&f, 4, false, hooks, three);
	/* the sql gate vetoes on t03 only: its own database answers */
	ck_assert_int_eq(tu_db_exec(f.urls[2], "CREATE TABLE frozen (x int)"), 0);
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "migrate", "up",
		 "--all-targets", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(target_is(r.out, "t03", "failed"), "%s\n%s", r.out, r.err);
	ck_assert(target_is(r.out, "t01", "ok"));
	ck_assert(target_is(r.out, "t04", "ok"));
	tu_result_dispose(&r);
	ck_assert_int_eq(applied_in(&f, 0), 3);
	ck_assert_int_le(applied_in(&f, 2), 0);
	ck_assert_int_eq(count_in(f.urls[2], "SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), 0);
	fleet_dispose(&f);
}
END_TEST

START_TEST(test_junit_escapes_hostile_errors)
{
	static const char *const migs[] = {
		"db/migrations/0001_users.up.sql", "CREATE TABLE users (id int);\n",
		"db/migrations/0002_trap.up.sql",
		"DO $$ BEGIN IF to_regclass('trap') IS NOT NULL THEN "
		"RAISE EXCEPTION 'bad <tag> & \"dq\" ''sq'' %', chr(27) || '[31mred'; "
		"END IF; END $$;\n",
		NULL,
	};
	fleet f;
	tu_result r;

	fleet_make(&f, 3, false, NULL, migs);
	ck_assert_int_eq(tu_db_exec(f.urls[1], "CREATE TABLE trap (x int)"), 0);
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "junit", "migrate", "up",
		 "--all-targets", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "<testsuites"), "%s", r.out);
	ck_assert_int_eq(lines_with(r.out, "<testcase "), 3);
	ck_assert_int_eq(lines_with(r.out, "<failure "), 1);
	ck_assert_msg(tu_contains(r.out, "bad &lt;tag&gt; &amp; &quot;dq&quot; &apos;sq&apos;"),
		      "%s", r.out);
	ck_assert_msg(!strchr(r.out, '\033'), "raw ESC in %s", r.out);
	ck_assert(tu_contains(r.out, "\\x1b[31mred"));
	ck_assert(!strchr(r.err, '\033'));
	tu_write(f.out, "junit.xml", r.out);
	tu_result_dispose(&r);
	/* well-formed: an XML parser reads it (when python3 is there) */
	if (tu_sh(f.out, "command -v python3 >/dev/null") == 0)
		ck_assert_int_eq(tu_sh(f.out, "python3 -c 'import sys, xml.dom.minidom as m; "
				       "d = m.parse(\"junit.xml\"); "
				       "sys.exit(0 if len(d.getElementsByTagName(\"testcase\")) == 3 else 1)'"), 0);
	/* the table on a terminal and the messages: escaped too */
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(!strchr(r.out, '\033') && !strchr(r.err, '\033'));
	ck_assert_msg(tu_contains(r.out, "\\x1b[31mred"), "%s", r.out);
	tu_result_dispose(&r);
	fleet_dispose(&f);
}
END_TEST

/* Runs cairn on a pty in dir; returns everything it wrote and its status. */
static char *run_on_pty(const char *dir, const char *const *args, int *status)
{
	int master;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *argv[32];
		size_t n = 0;

		argv[n++] = tu_cairn_bin();
		for (size_t i = 0; args[i] && n < 31; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		if (chdir(dir) < 0)
			_exit(126);
		execv(tu_cairn_bin(), (char *const *)argv);
		_exit(127);
	}
	for (;;) {
		ssize_t k;

		if (len + 4096 > cap)
			buf = realloc(buf, cap *= 2);
		k = read(master, buf + len, cap - len - 1);
		if (k <= 0)
			break; /* EIO once the child closed the pty */
		len += (size_t)k;
	}
	buf[len] = '\0';
	close(master);
	ck_assert_int_eq(waitpid(pid, status, 0), pid);
	return buf;
}

START_TEST(test_live_lines_only_on_a_terminal)
{
	static const char *const args[] = {
		"--env", "prod", "migrate", "up", "--all-targets", "--parallel", "2", NULL,
	};
	fleet f;
	tu_result r;
	char *out;
	int st;

	fleet_init(&f, 4);
	out = run_on_pty(f.dir, args, &st);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%d: %s", st, out);
	/* a line per target as it finishes, and the status line redrawn */
	ck_assert_msg(tu_contains(out, "[1/4] t0") && tu_contains(out, "[4/4] t0"), "%s", out);
	ck_assert_msg(tu_contains(out, "applied 3"), "%s", out);
	ck_assert(tu_contains(out, "\r\033[K"));
	ck_assert(tu_contains(out, "migrate up: 4/4 done"));
	ck_assert(tu_contains(out, "duration")); /* then the table */
	free(out);
	for (size_t i = 0; i < f.n; i++)
		ck_assert_int_eq(applied_in(&f, i), 3);
	/* not a terminal: the table only, no progress, no escape sequences */
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(!tu_contains(r.out, "[1/4]") && !tu_contains(r.err, "[1/4]"));
	ck_assert(!strchr(r.out, '\033') && !strchr(r.err, '\033'));
	ck_assert(tu_contains(r.out, "duration"));
	tu_result_dispose(&r);
	fleet_dispose(&f);
}
END_TEST

START_TEST(test_two_dozen_databases)
{
	fleet f;
	tu_result r;

	fleet_init(&f, 24);
	/* t07 fails at 0002: with --keep-going the 23 others finish */
	ck_assert_int_eq(tu_db_exec(f.urls[6], "CREATE TABLE orders (x int)"), 0);
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "migrate", "up",
		 "--all-targets", "--parallel", "6", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(target_is(r.out, "t07", "failed"), "%s", r.out);
	ck_assert(target_is(r.out, "t24", "ok"));
	ck_assert_msg(tu_contains(r.err, "1 of 24 targets failed: t07"), "%s", r.err);
	tu_result_dispose(&r);
	for (size_t i = 0; i < f.n; i++)
		ck_assert_int_eq(applied_in(&f, i), i == 6 ? 1 : 3);
	/* status of the 24: all but t07 up to date */
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "status",
		 "--all-targets", "--parallel", "8", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_int_eq(lines_with(r.out, "\"behind\": 0"), 23);
	tu_result_dispose(&r);
	/* fix t07; a fourth migration and a canary wave of 3 that fails on
	 * t02 (which has the new table already): nothing beyond the wave */
	ck_assert_int_eq(tu_db_exec(f.urls[6], "DROP TABLE orders; DELETE FROM cairn.migrations WHERE status = 'failed'"), 0);
	ck_assert_int_eq(tu_db_exec(f.urls[1], "CREATE TABLE more (x int)"), 0);
	tu_write(f.dir, "db/migrations/0004_more.up.sql", "CREATE TABLE more (id int);\n");
	free(tu_git_commit(f.dir, "Ann", "ann@example.com", 1700000100, "four"));
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "migrate", "up",
		 "--all-targets", "--parallel", "8", "--canary", "3", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(target_is(r.out, "t02", "failed"), "%s", r.out);
	ck_assert(target_is(r.out, "t04", "not_started"));
	ck_assert(target_is(r.out, "t24", "not_started"));
	tu_result_dispose(&r);
	ck_assert_int_eq(applied_in(&f, 0), 4);
	ck_assert_int_eq(applied_in(&f, 3), 3);
	ck_assert_int_eq(applied_in(&f, 23), 3);
	/* without --keep-going, one worker: the run stops at t02 */
	tu_cairn(&r, f.dir, "--env", "prod", "--format", "json", "migrate", "up",
		 "--all-targets", "--parallel", "1", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(target_is(r.out, "t01", "ok"));
	ck_assert(target_is(r.out, "t02", "failed"));
	ck_assert(target_is(r.out, "t03", "not_started"));
	tu_result_dispose(&r);
	ck_assert_int_eq(applied_in(&f, 2), 4); /* the canary run did t03 */
	ck_assert_int_eq(applied_in(&f, 3), 3);
	/* after fixing t02, the rest of the fleet catches up */
	ck_assert_int_eq(tu_db_exec(f.urls[1], "DROP TABLE more; DELETE FROM cairn.migrations WHERE status = 'failed'"), 0);
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets",
		 "--parallel", "8", NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	tu_result_dispose(&r);
	for (size_t i = 0; i < f.n; i++)
		ck_assert_int_eq(applied_in(&f, i), 4);
	fleet_dispose(&f);
}
END_TEST

START_TEST(test_tenant_schemas_in_one_database)
{
	fleet f;
	tu_result r;
	char sql[256];

	fleet_make(&f, 8, true, NULL, three);
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets",
		 "--parallel", "4", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	tu_result_dispose(&r);
	for (size_t i = 0; i < f.n; i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM tenant_%02zu.migrations WHERE status = 'applied'", i + 1);
		ck_assert_int_eq(count_in(f.urls[0], sql), 3);
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM pg_tables WHERE schemaname = 'tenant_%02zu' AND tablename IN ('users','orders','items')",
			 i + 1);
		ck_assert_int_eq(count_in(f.urls[0], sql), 3);
	}
	ck_assert_int_eq(count_in(f.urls[0], "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 0);
	/* each tenant is validated, verified and anchored on its own */
	tu_cairn(&r, f.dir, "--env", "prod", "validate", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(tu_db_exec(f.urls[0], "UPDATE tenant_05.migrations SET checksum = repeat('0', 64), up_blob = repeat('0', 40) WHERE version = '1'"), 0);
	tu_cairn(&r, f.dir, "--env", "prod", "validate", "--all-targets",
		 "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "1 of 8 targets failed: t05"), "%s", r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, f.dir, "--env", "prod", "audit", "verify", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	tu_result_dispose(&r);
	fleet_dispose(&f);
}
END_TEST

START_TEST(test_sigterm_mid_run)
{
	static const char *const slow[] = {
		"db/migrations/0001_users.up.sql", "CREATE TABLE users (id int);\n",
		"db/migrations/0002_orders.up.sql",
		"CREATE TABLE orders (id int);\nSELECT pg_sleep(60);\n",
		"db/migrations/0003_items.up.sql", "CREATE TABLE items (id int);\n",
		NULL,
	};
	fleet f;
	pid_t pid;
	int st;
	char out[512];
	tu_result r;

	fleet_make(&f, 6, false, NULL, slow);
	snprintf(out, sizeof(out), "%s/run.out", f.out);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chdir(f.dir) < 0 || !freopen(out, "w", stdout))
			_exit(126);
		dup2(1, 2);
		execl(tu_cairn_bin(), tu_cairn_bin(), "--env", "prod", "migrate", "up",
		      "--all-targets", "--parallel", "3", (char *)NULL);
		_exit(127);
	}
	/* three targets are inside 0002, with 0001 committed */
	ck_assert_msg(tu_db_wait(f.urls[0],
		"SELECT count(*) = 3 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
		60000), "three targets never reached 0002");
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 130) {
		char *o = tu_read(f.out, "run.out");

		ck_abort_msg("status %d: %s", st, o ? o : "");
	}
	ck_assert(tu_db_wait(f.urls[0],
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
		30000));
	for (size_t i = 0; i < f.n; i++) {
		bool has = count_in(f.urls[i], "SELECT count(*) FROM pg_namespace WHERE nspname = 'cairn'") == 1;

		/* no lock left behind, nothing half-applied */
		ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"), 0);
		ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM pg_tables WHERE tablename = 'orders'"), 0);
		if (i < 3) {
			ck_assert(has);
			ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM cairn.migrations WHERE status <> 'applied'"), 0);
			ck_assert_int_eq(applied_in(&f, i), 1);
			ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), 1);
			ck_assert_int_eq(count_in(f.urls[i], "SELECT count(*) FROM cairn.audit WHERE outcome = 'interrupted'"), 1);
		} else {
			ck_assert(!has); /* never started */
		}
	}
	/* the next run finishes every target (without the sleep) */
	tu_write(f.dir, "db/migrations/0002_orders.up.sql", "CREATE TABLE orders (id int);\n");
	free(tu_git_commit(f.dir, "Ann", "ann@example.com", 1700000100, "fast"));
	tu_cairn(&r, f.dir, "--env", "prod", "migrate", "up", "--all-targets",
		 "--parallel", "3", NULL);
	ck_assert_msg(r.status == 0, "%s\n%s", r.out, r.err);
	tu_result_dispose(&r);
	for (size_t i = 0; i < f.n; i++)
		ck_assert_int_eq(applied_in(&f, i), 3);
	fleet_dispose(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fleet_ops");
	TCase *tc = tcase_create("fleet_ops");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_validate_all_targets);
	tcase_add_test(tc, test_audit_verify_and_anchor_all_targets);
	tcase_add_test(tc, test_events_once_per_fleet);
	tcase_add_test(tc, test_database_hooks_stay_with_targets);
	tcase_add_test(tc, test_junit_escapes_hostile_errors);
	tcase_add_test(tc, test_live_lines_only_on_a_terminal);
	tcase_add_test(tc, test_two_dozen_databases);
	tcase_add_test(tc, test_tenant_schemas_in_one_database);
	tcase_add_test(tc, test_sigterm_mid_run);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
