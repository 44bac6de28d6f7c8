/*
 * check_audit_anchor.c - audit anchors, the keyed chain and the tracking
 * check of `cairn audit verify` (issue 9, item 12), end to end: the real
 * cairn binary, real git repositories made here, a fresh database per
 * test on tests/run's throwaway server (where the tests are superuser,
 * as an attacker with the database would be).
 *
 * Each tampering test first shows what the plain hash chain cannot see,
 * then that the new check does: deleting the newest rows (caught by the
 * anchor), editing a row and recomputing the whole chain in SQL (caught
 * by the anchor's hash, and without an anchor by the keyed chain's MACs),
 * removing MACs, and a tracking row written without its audit row.  An
 * untouched trail passes every check.  Also: anchors are commits on
 * refs/cairn/audit/<env> chained by parent, audit.anchor anchors after
 * each migrate, audit.anchor_file appends and refuses a symbolic link, a
 * configured but unset key stops migrate, and a version 1 schema is
 * upgraded with the append-only rule relaxed only for filling a NULL mac.
 * Review holes of item 12: no anchor (manual or after a run) over rows
 * deleted since the last anchor, verify checks the whole anchor history,
 * and a keyed run does not seal a trail whose MACs were removed; the
 * first keyed run on a never-keyed trail seals it all.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/schema.h"
#include "engine/audit.h"
#include "testutil.h"

#define KEY_VAR "CAIRN_TEST_AUDIT_KEY"

typedef struct {
	char *dir;
	char *url;
} project;

static void project_init(project *p, const char *audit_yaml,
			 const char *hooks_yaml)
{
	char yaml[8192];

	p->url = tu_db_create("anch");
	p->dir = tu_git_repo();
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "%s"
		 "hooks:\n%s",
		 p->url, audit_yaml ? audit_yaml : "",
		 hooks_yaml ? hooks_yaml : "  pre_validate: []\n");
	tu_write(p->dir, "cairn.yaml", yaml);
	tu_write(p->dir, ".gitignore", "anchors.jsonl\n");
}

static void project_dispose(project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

static void add_migrations(project *p, int from, int to)
{
	char path[128], sql[128];

	for (int v = from; v <= to; v++) {
		snprintf(path, sizeof(path), "db/migrations/%04d_t%d.up.sql", v, v);
		snprintf(sql, sizeof(sql), "CREATE TABLE t%d (x int);\n", v);
		tu_write(p->dir, path, sql);
	}
	free(tu_git_commit(p->dir, "Ann Author", "ann@example.com", 1700000000,
			   "migrations"));
}

static const char *const with_key[] = { KEY_VAR "=s3cret-key", NULL };

static void cairn_ok(project *p, const char *const *env, const char *a,
		     const char *b)
{
	tu_result r;

	tu_cairn_env(&r, p->dir, env, NULL, a, b, NULL);
	ck_assert_msg(r.status == 0, "cairn %s %s: %d\n%s%s", a, b ? b : "",
		      r.status, r.out, r.err);
	tu_result_dispose(&r);
}

static void cairn_ok3(project *p, const char *const *env, const char *a,
		      const char *b, const char *c)
{
	tu_result r;

	tu_cairn_env(&r, p->dir, env, NULL, a, b, c, NULL);
	ck_assert_msg(r.status == 0, "cairn %s %s %s: %d\n%s%s", a, b, c,
		      r.status, r.out, r.err);
	tu_result_dispose(&r);
}

/* `cairn audit verify --format json`; returns its exit status. */
static int verify_json(project *p, const char *const *env, char **out)
{
	tu_result r;
	int st;

	tu_cairn_env(&r, p->dir, env, NULL, "--format", "json", "audit",
		     "verify", NULL);
	st = r.status;
	*out = r.out;
	r.out = NULL;
	tu_result_dispose(&r);
	return st;
}

static long count_of(project *p, const char *sql)
{
	char *v = tu_db_value(p->url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* Runs sql as a superuser with every trigger off, as an attacker would. */
static void tamper(project *p, const char *sql)
{
	char *all = NULL;

	ck_assert(asprintf(&all, "SET session_replication_role = replica; %s",
			   sql) > 0);
	ck_assert_msg(tu_db_exec(p->url, all) == 0, "%s", all);
	free(all);
}

/* Rewrites every prev_hash and hash in id order: the chain recomputed. */
static void recompute_chain(project *p)
{
	char *sql = NULL;

	ck_assert(asprintf(&sql,
		"DO $$ DECLARE x record; prev text := repeat('0', 64); BEGIN "
		"FOR x IN SELECT id FROM cairn.audit ORDER BY id LOOP "
		"UPDATE cairn.audit SET prev_hash = prev WHERE id = x.id; "
		"UPDATE cairn.audit AS t SET hash = (SELECT "
		"encode(sha256(convert_to(%s, 'UTF8')), 'hex') FROM cairn.audit "
		"AS r WHERE r.id = x.id) WHERE t.id = x.id RETURNING t.hash "
		"INTO prev; END LOOP; END $$",
		cairn_audit__canonical_sql) > 0);
	tamper(p, sql);
	free(sql);
}

START_TEST(test_untouched_trail_passes_and_anchors_chain)
{
	project p;
	char *out, *first, *parent, *blob;

	project_init(&p, NULL, NULL);
	add_migrations(&p, 1, 3);
	cairn_ok(&p, NULL, "migrate", "up");
	cairn_ok(&p, NULL, "audit", "anchor");
	first = tu_sh_out(p.dir, "git rev-parse refs/cairn/audit/development");
	blob = tu_sh_out(p.dir, "git show refs/cairn/audit/development:anchor.json");
	ck_assert_msg(tu_contains(blob, "\"rows\":3") &&
		      tu_contains(blob, "\"environment\":\"development\"") &&
		      !tu_contains(blob, "password"), "%s", blob);
	free(blob);
	blob = tu_sh_out(p.dir, "git log -1 --format=%%an refs/cairn/audit/development");
	ck_assert_msg(blob && *blob, "anchor commit without author");
	free(blob);

	add_migrations(&p, 4, 4);
	cairn_ok(&p, NULL, "migrate", "up");
	cairn_ok(&p, NULL, "audit", "anchor");
	parent = tu_sh_out(p.dir, "git rev-parse refs/cairn/audit/development^");
	ck_assert_str_eq(parent, first);

	ck_assert_int_eq(verify_json(&p, NULL, &out), 0);
	ck_assert_msg(tu_contains(out, "\"ok\": true") &&
		      tu_contains(out, "\"rows\": 4") &&
		      tu_contains(out, "\"untracked\": []"), "%s", out);
	free(out);
	free(first);
	free(parent);
	project_dispose(&p);
}
END_TEST

START_TEST(test_deleted_newest_rows_fail_against_anchor)
{
	project p;
	char *out;

	/* each run ends with a hook_warned row: no migration's own row */
	project_init(&p, NULL, "  post_complete:\n"
			       "    - { run: [\"false\"], on_failure: warn, name: noisy }\n");
	add_migrations(&p, 1, 2);
	cairn_ok(&p, NULL, "migrate", "up");
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'hook_warned'"), 1);

	/* without an anchor, dropping the newest row goes unseen */
	tamper(&p, "DELETE FROM cairn.audit WHERE id = (SELECT max(id) FROM cairn.audit)");
	ck_assert_int_eq(verify_json(&p, NULL, &out), 0);
	free(out);

	add_migrations(&p, 3, 3);
	cairn_ok(&p, NULL, "migrate", "up");
	cairn_ok(&p, NULL, "audit", "anchor");
	tamper(&p, "DELETE FROM cairn.audit WHERE id = (SELECT max(id) FROM cairn.audit)");
	ck_assert_int_eq(verify_json(&p, NULL, &out), 1);
	ck_assert_msg(tu_contains(out, "\"reason\": null") &&
		      tu_contains(out, "is gone: rows were deleted"), "%s", out);
	free(out);
	project_dispose(&p);
}
END_TEST

START_TEST(test_recomputed_chain_fails_against_anchor)
{
	project p;
	tu_result r;
	char *out;

	project_init(&p, NULL, NULL);
	add_migrations(&p, 1, 3);
	cairn_ok(&p, NULL, "migrate", "up");
	cairn_ok(&p, NULL, "audit", "anchor");

	tamper(&p, "UPDATE cairn.audit SET actor = 'Mallory <m@example.com>' WHERE id = 1");
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.err, "row 1 was edited"), "%s", r.err);
	tu_result_dispose(&r);

	/* the chain recomputed: it holds again, the anchor does not */
	recompute_chain(&p);
	ck_assert_int_eq(verify_json(&p, NULL, &out), 1);
	ck_assert_msg(tu_contains(out, "\"reason\": null") &&
		      tu_contains(out, "no longer has the hash anchored"), "%s", out);
	free(out);
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.err, "does not match its anchor"),
		      "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_keyed_chain_detects_recompute_without_anchor)
{
	project p;
	tu_result r;
	char *out;

	project_init(&p, "audit:\n  secret_env: " KEY_VAR "\n", NULL);
	add_migrations(&p, 1, 3);

	/* a keyed chain without its key: migrate refuses to start */
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 2 && tu_contains(r.err, KEY_VAR), "%d %s", r.status, r.err);
	tu_result_dispose(&r);

	cairn_ok(&p, with_key, "migrate", "up");
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE mac IS NULL"), 0);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE mac ~ '^[0-9a-f]{64}$'"), 3);
	ck_assert_int_eq(verify_json(&p, with_key, &out), 0);
	ck_assert_msg(tu_contains(out, "\"macs_checked\": 3"), "%s", out);
	free(out);
	{
		/* an export carries the MACs, for an off-site copy */
		tu_result e;

		tu_cairn(&e, p.dir, "audit", "export", NULL);
		ck_assert_msg(e.status == 0 && tu_contains(e.out, "\"mac\":\""),
			      "%s%s", e.out, e.err);
		tu_result_dispose(&e);
	}

	/* the wrong key fails */
	{
		const char *const wrong[] = { KEY_VAR "=not-the-key", NULL };

		ck_assert_int_eq(verify_json(&p, wrong, &out), 1);
		ck_assert_msg(tu_contains(out, "MAC does not match"), "%s", out);
		free(out);
	}

	/* edit and recompute: the chain holds, the MACs do not */
	tamper(&p, "UPDATE cairn.audit SET actor = 'Mallory <m@example.com>' WHERE id = 2");
	recompute_chain(&p);
	ck_assert_int_eq(verify_json(&p, NULL, &out), 2); /* key unset */
	free(out);
	ck_assert_int_eq(verify_json(&p, with_key, &out), 1);
	ck_assert_msg(tu_contains(out, "row 2's MAC does not match") &&
		      tu_contains(out, "\"mac_bad_id\": 2") &&
		      tu_contains(out, "\"reason\": null"), "%s", out);
	free(out);
	project_dispose(&p);
}
END_TEST

START_TEST(test_removed_macs_are_detected)
{
	project p;
	char *out;

	project_init(&p, "audit:\n  secret_env: " KEY_VAR "\n", NULL);
	add_migrations(&p, 1, 3);
	cairn_ok(&p, with_key, "migrate", "up");
	/* repair's row is sealed too */
	tu_write(p.dir, "db/migrations/0001_t1.up.sql", "CREATE TABLE t1 (x bigint);\n");
	free(tu_git_commit(p.dir, "Ann Author", "ann@example.com", 1700000000, "edit"));
	cairn_ok3(&p, with_key, "repair", "--accept", "1");
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE outcome = 'repaired' AND mac IS NOT NULL"), 1);
	ck_assert_int_eq(verify_json(&p, with_key, &out), 0);
	free(out);
	tamper(&p, "UPDATE cairn.audit SET mac = NULL WHERE id = 3");
	ck_assert_int_eq(verify_json(&p, with_key, &out), 1);
	ck_assert_msg(tu_contains(out, "row 3 has no MAC"), "%s", out);
	free(out);
	tamper(&p, "UPDATE cairn.audit SET mac = NULL");
	ck_assert_int_eq(verify_json(&p, with_key, &out), 1);
	ck_assert_msg(tu_contains(out, "no row carries a MAC"), "%s", out);
	free(out);
	project_dispose(&p);
}
END_TEST

START_TEST(test_tracking_row_without_audit_row_fails)
{
	project p;
	tu_result r;
	char *out;

	project_init(&p, NULL, NULL);
	add_migrations(&p, 1, 2);
	cairn_ok(&p, NULL, "migrate", "up");
	/* a migration "applied" by hand: no audit row says so */
	ck_assert_int_eq(tu_db_exec(p.url,
		"INSERT INTO cairn.migrations (version, name, checksum, status) "
		"VALUES (99, 'ghost', 'x', 'applied')"), 0);
	ck_assert_int_eq(verify_json(&p, NULL, &out), 1);
	ck_assert_msg(tu_contains(out, "\"99_ghost\"") &&
		      tu_contains(out, "\"reason\": null"), "%s", out);
	free(out);
	tu_cairn(&r, p.dir, "audit", "verify", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.err, "99_ghost"), "%s", r.err);
	tu_result_dispose(&r);
	project_dispose(&p);
}
END_TEST

START_TEST(test_migrate_anchors_and_appends_file)
{
	project p;
	tu_result r;
	char *n, *lines;

	project_init(&p, "audit:\n  anchor: true\n  anchor_file: anchors.jsonl\n", NULL);
	add_migrations(&p, 1, 2);
	cairn_ok(&p, NULL, "migrate", "up");
	add_migrations(&p, 3, 3);
	cairn_ok(&p, NULL, "migrate", "up");
	n = tu_sh_out(p.dir, "git rev-list --count refs/cairn/audit/development");
	ck_assert_str_eq(n, "2");
	free(n);
	lines = tu_read(p.dir, "anchors.jsonl");
	ck_assert_msg(lines && tu_contains(lines, "\"rows\":3") &&
		      tu_contains(lines, "\"rows\":2"), "%s", lines ? lines : "(none)");
	free(lines);

	/* a symbolic link as anchor file is refused */
	unlink("/tmp/cairn-anchor-target-never");
	ck_assert_int_eq(tu_sh(p.dir, "rm anchors.jsonl && ln -s /tmp/cairn-anchor-target-never anchors.jsonl"), 0);
	tu_cairn(&r, p.dir, "audit", "anchor", NULL);
	ck_assert_msg(r.status != 0 && tu_contains(r.err, "symbolic link"), "%d %s", r.status, r.err);
	tu_result_dispose(&r);
	ck_assert_int_ne(access("/tmp/cairn-anchor-target-never", F_OK), 0);
	project_dispose(&p);
}
END_TEST

static const char old_reject[] =
	"CREATE OR REPLACE FUNCTION cairn.audit_reject() RETURNS trigger "
	"LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'append-only'; END$$";

START_TEST(test_schema_upgrade_from_version_1)
{
	project p;
	char *out;

	project_init(&p, NULL, NULL);
	add_migrations(&p, 1, 1);
	cairn_ok(&p, NULL, "migrate", "up");
	/* back to what cairn with schema version 1 left */
	ck_assert_int_eq(tu_db_exec(p.url, "ALTER TABLE cairn.audit DROP COLUMN mac"), 0);
	ck_assert_int_eq(tu_db_exec(p.url, old_reject), 0);
	ck_assert_int_eq(tu_db_exec(p.url, "DROP TABLE cairn.repeatables"), 0);
	ck_assert_int_eq(tu_db_exec(p.url, "UPDATE cairn.schema_version SET version = 1"), 0);

	add_migrations(&p, 2, 2);
	cairn_ok(&p, NULL, "migrate", "up");
	ck_assert_int_eq(count_of(&p, "SELECT version FROM cairn.schema_version"), CAIRN_SCHEMA_VERSION);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE mac IS NULL"), 2);
	ck_assert_int_eq(verify_json(&p, NULL, &out), 0);
	free(out);
	/* the only UPDATE allowed: a NULL mac set once, nothing else */
	ck_assert_int_ne(tu_db_exec(p.url, "UPDATE cairn.audit SET mac = 'a', actor = 'x' WHERE id = 1"), 0);
	ck_assert_int_eq(tu_db_exec(p.url, "UPDATE cairn.audit SET mac = 'a' WHERE id = 1"), 0);
	ck_assert_int_ne(tu_db_exec(p.url, "UPDATE cairn.audit SET mac = 'b' WHERE id = 1"), 0);
	ck_assert_int_ne(tu_db_exec(p.url, "DELETE FROM cairn.audit"), 0);
	project_dispose(&p);
}
END_TEST


static int ref_count(project *p)
{
	char *n = tu_sh_out(p->dir, "git rev-list --count refs/cairn/audit/development");
	int v = n ? atoi(n) : -1;

	free(n);
	return v;
}

/*
 * Issue 9 item 12, hole B: rows deleted after an anchor must not be
 * laundered by the next anchor, manual or after a run; and verify checks
 * every anchor in the ref's history, so an anchor written over the gap
 * by a cairn that did not check cannot launder it either.
 */
START_TEST(test_anchor_refused_after_deletion)
{
	project p;
	tu_result r;
	char *out, *head, *cmd = NULL;

	project_init(&p, "audit:\n  anchor: true\n", NULL);
	add_migrations(&p, 1, 2);
	cairn_ok(&p, NULL, "migrate", "up");
	ck_assert_int_eq(ref_count(&p), 1);
	tamper(&p, "DELETE FROM cairn.audit WHERE id > 1; "
		   "DELETE FROM cairn.migrations WHERE version = '2'; DROP TABLE t2");
	ck_assert_int_eq(verify_json(&p, NULL, &out), 1);
	free(out);

	/* a manual anchor is refused */
	tu_cairn(&r, p.dir, "audit", "anchor", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.err, "refusing to anchor") &&
		      tu_contains(r.err, "DETAIL:") && tu_contains(r.err, "is gone") &&
		      tu_contains(r.err, "HINT:") &&
		      tu_contains(r.err, "git log refs/cairn/audit/development"),
		      "%d %s", r.status, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(ref_count(&p), 1);

	/* so is the anchor after a run, which stays applied and audited */
	add_migrations(&p, 3, 3);
	tu_cairn(&r, p.dir, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.err, "refusing to anchor"),
		      "%d %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(ref_count(&p), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations WHERE version = '3' AND status = 'applied'"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE version = '3' AND outcome = 'applied'"), 1);
	ck_assert_int_eq(verify_json(&p, NULL, &out), 1);
	free(out);

	/* an anchor over the gap, as an older cairn wrote it: verify walks
	 * the history and still finds the first anchor's row gone */
	head = tu_db_value(p.url, "SELECT format('{\"environment\":\"development\",\"format\":1,"
			   "\"last_hash\":\"%s\",\"last_id\":%s,\"last_mac\":null,\"rows\":%s}', "
			   "hash, id, (SELECT count(*) FROM cairn.audit)) FROM cairn.audit "
			   "ORDER BY id DESC LIMIT 1");
	ck_assert_ptr_nonnull(head);
	tu_write(p.dir, "anchor.json", head);
	ck_assert(asprintf(&cmd,
		"b=$(git hash-object -w anchor.json) && rm anchor.json && "
		"t=$(printf '100644 blob %%s\\tanchor.json\\n' $b | git mktree) && "
		"c=$(git commit-tree $t -p refs/cairn/audit/development -m laundered) && "
		"git update-ref refs/cairn/audit/development $c") > 0);
	ck_assert_int_eq(tu_sh(p.dir, "%s", cmd), 0);
	ck_assert_int_eq(ref_count(&p), 2);
	ck_assert_int_eq(verify_json(&p, NULL, &out), 1);
	ck_assert_msg(tu_contains(out, "is gone: rows were deleted"), "%s", out);
	free(out);
	free(cmd);
	free(head);
	project_dispose(&p);
}
END_TEST

/*
 * An anchor counting fewer rows than the one before it is a regression,
 * though the latest anchor alone holds (its row is still there).
 */
START_TEST(test_anchor_history_regression_fails)
{
	project p;
	char *out, *json;

	project_init(&p, NULL, NULL);
	add_migrations(&p, 1, 3);
	cairn_ok(&p, NULL, "migrate", "up");
	cairn_ok(&p, NULL, "audit", "anchor");
	json = tu_db_value(p.url, "SELECT format('{\"environment\":\"development\",\"format\":1,"
			   "\"last_hash\":\"%s\",\"last_id\":2,\"last_mac\":null,\"rows\":2}', "
			   "hash) FROM cairn.audit WHERE id = 2");
	ck_assert_ptr_nonnull(json);
	tu_write(p.dir, "anchor.json", json);
	ck_assert_int_eq(tu_sh(p.dir,
		"b=$(git hash-object -w anchor.json) && rm anchor.json && "
		"t=$(printf '100644 blob %%s\\tanchor.json\\n' $b | git mktree) && "
		"c=$(git commit-tree $t -p refs/cairn/audit/development -m two) && "
		"git update-ref refs/cairn/audit/development $c"), 0);
	ck_assert_int_eq(verify_json(&p, NULL, &out), 1);
	ck_assert_msg(tu_contains(out, "less than the anchor before it"), "%s", out);
	free(out);
	free(json);
	project_dispose(&p);
}
END_TEST

/*
 * Hole C: a keyed trail whose MACs were removed (after the chain was
 * recomputed) must not be sealed by the next run, whose MACs would vouch
 * for it; verify rejects it too.  Both with an anchor recording a MAC
 * and with some MACs left.
 */
START_TEST(test_seal_refused_after_macs_removed)
{
	project p;
	tu_result r;
	char *out;

	project_init(&p, "audit:\n  secret_env: " KEY_VAR "\n", NULL);
	add_migrations(&p, 1, 2);
	cairn_ok(&p, with_key, "migrate", "up");
	cairn_ok(&p, with_key, "audit", "anchor");
	tamper(&p, "UPDATE cairn.audit SET actor = 'Mallory <m@example.com>' WHERE id = 2");
	recompute_chain(&p);
	tamper(&p, "UPDATE cairn.audit SET mac = NULL");
	ck_assert_int_eq(verify_json(&p, with_key, &out), 1);
	ck_assert_msg(tu_contains(out, "but the anchor records one"), "%s", out);
	free(out);

	add_migrations(&p, 3, 3);
	tu_cairn_env(&r, p.dir, with_key, NULL, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.err, "refusing to seal") &&
		      tu_contains(r.err, "latest anchor records a MAC"),
		      "%d %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.migrations WHERE version = '3' AND status = 'applied'"), 1);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE mac IS NOT NULL"), 0);
	ck_assert_int_eq(verify_json(&p, with_key, &out), 1);
	free(out);
	project_dispose(&p);

	/* no anchor: the oldest MAC removed, a later one left */
	project_init(&p, "audit:\n  secret_env: " KEY_VAR "\n", NULL);
	add_migrations(&p, 1, 2);
	cairn_ok(&p, with_key, "migrate", "up");
	tamper(&p, "UPDATE cairn.audit SET mac = NULL WHERE id = 1");
	ck_assert_int_eq(verify_json(&p, with_key, &out), 1);
	ck_assert_msg(tu_contains(out, "row 1 has no MAC, though row 2 after it has one") &&
		      tu_contains(out, "\"mac_bad_id\": 1"), "%s", out);
	free(out);
	add_migrations(&p, 3, 3);
	tu_cairn_env(&r, p.dir, with_key, NULL, "migrate", "up", NULL);
	ck_assert_msg(r.status == 1 && tu_contains(r.err, "refusing to seal"),
		      "%d %s%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE mac IS NULL"), 2);
	ck_assert_int_eq(verify_json(&p, with_key, &out), 1);
	free(out);
	project_dispose(&p);
}
END_TEST

/* The legitimate case: the first keyed run on a trail never keyed. */
START_TEST(test_first_keyed_run_seals_whole_trail)
{
	project p;
	char yaml[4096], *out;

	project_init(&p, NULL, NULL);
	add_migrations(&p, 1, 2);
	cairn_ok(&p, NULL, "migrate", "up");
	cairn_ok(&p, NULL, "audit", "anchor"); /* an anchor without a MAC */
	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "audit:\n  secret_env: " KEY_VAR "\n  anchor: true\n"
		 "hooks:\n  pre_validate: []\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	add_migrations(&p, 3, 3);
	cairn_ok(&p, with_key, "migrate", "up");
	ck_assert_int_eq(count_of(&p, "SELECT count(*) FROM cairn.audit WHERE mac IS NULL"), 0);
	ck_assert_int_eq(verify_json(&p, with_key, &out), 0);
	free(out);
	add_migrations(&p, 4, 4);
	cairn_ok(&p, with_key, "migrate", "up");
	ck_assert_int_eq(verify_json(&p, with_key, &out), 0);
	ck_assert_msg(tu_contains(out, "\"macs_checked\": 4"), "%s", out);
	free(out);
	project_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("audit_anchor");
	TCase *tc = tcase_create("anchor");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_untouched_trail_passes_and_anchors_chain);
	tcase_add_test(tc, test_deleted_newest_rows_fail_against_anchor);
	tcase_add_test(tc, test_recomputed_chain_fails_against_anchor);
	tcase_add_test(tc, test_keyed_chain_detects_recompute_without_anchor);
	tcase_add_test(tc, test_removed_macs_are_detected);
	tcase_add_test(tc, test_tracking_row_without_audit_row_fails);
	tcase_add_test(tc, test_migrate_anchors_and_appends_file);
	tcase_add_test(tc, test_schema_upgrade_from_version_1);
	tcase_add_test(tc, test_anchor_refused_after_deletion);
	tcase_add_test(tc, test_anchor_history_regression_fails);
	tcase_add_test(tc, test_seal_refused_after_macs_removed);
	tcase_add_test(tc, test_first_keyed_run_seals_whole_trail);
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
