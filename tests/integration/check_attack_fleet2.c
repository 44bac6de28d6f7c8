/*
 * check_attack_fleet2.c - fleets (README "Fleets") against hostile
 * target lists, misbehaving servers and a dying fleet process: target
 * passwords never reach a hook (fleet-level or another target's) nor
 * any output; a target list with its fields in the wrong order does not
 * echo a URL; target names an audit anchor cannot use are refused;
 * `status --all-targets` on a target ahead of the revision, with a failed
 * migration, and with an answer of several MB; a server that accepts and
 * never answers; Ctrl-C while a child waits for a deploy lock; kill -9 of
 * the fleet process.  Real databases on the test server, a real
 * repository, the real cairn binary.
 */

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "testutil.h"

#define PW1 "Xq7pW0rdZz1"
#define PW2 "Yk3sEcr3tQ2"

typedef struct {
	char *dir;
	char *out;
	char *url;
} proj;

static void proj_init(proj *p)
{
	p->url = tu_db_create("atkfl2");
	p->dir = tu_git_repo();
	p->out = tu_mkdtemp();
}

static void proj_dispose(proj *p)
{
	tu_rmrf(p->dir);
	tu_rmrf(p->out);
	free(p->dir);
	free(p->out);
	free(p->url);
}

static long count_in(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

static void assert_no_pw(const char *what, const char *text)
{
	ck_assert_msg(!tu_contains(text, PW1) && !tu_contains(text, PW2),
		      "a password in %s: %s", what, text ? text : "");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts cairn ARGS in dir with extra env, stdout and stderr into files. */
static pid_t start_cairn(const char *dir, const char *outdir,
			 const char *const *env, const char *const *args)
{
	pid_t pid = tu_cairn_start(dir, outdir, env, args);

	ck_assert_int_ge(pid, 0);
	return pid;
}

/* ------------------------------------------------------------------ */

/*
 * Two targets whose passwords come from ${FLEET_PW1} and ${FLEET_PW2}
 * (t1 reachable, `gone` not).  Before the fix the targets' URLs were not
 * among the configuration's known secrets: the fleet-level hooks got
 * FLEET_PW1 and FLEET_PW2 in their environment, and t1's own hooks got
 * FLEET_PW2 (another target's password).
 */
START_TEST(test_target_passwords_stay_out)
{
	static const char *const env[] = {
		"FLEET_PW1=" PW1, "FLEET_PW2=" PW2, NULL,
	};
	proj p;
	tu_result r;
	char yaml[4096];
	char *s;

	proj_init(&p);
	snprintf(yaml, sizeof(yaml),
		 "environments:\n"
		 "  prod:\n"
		 "    targets:\n"
		 "      - { name: t1, database_url: \"%s&password=${FLEET_PW1}\" }\n"
		 "      - { name: gone, database_url: \"postgresql://someone:${FLEET_PW2}@/nodb?host=/nonexistent\" }\n"
		 "hooks:\n"
		 "  pre_validate:\n"
		 "    - run: [sh, -c, \"env > %s/pre.env\"]\n"
		 "  post_execute:\n"
		 "    - run: [sh, -c, \"env >> %s/child.env; echo leak $FLEET_PW1 $FLEET_PW2\"]\n"
		 "  post_complete:\n"
		 "    - run: [sh, -c, \"env > %s/post.env; cat > %s/post.json\"]\n",
		 p.url, p.out, p.out, p.out, p.out);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "one"));
	tu_cairn_env(&r, p.dir, env, NULL, "--env", "prod", "--format", "json",
		     "migrate", "up", "--all-targets", "--keep-going", NULL);
	ck_assert_msg(r.status == 1, "%d\n%s\n%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "\"target\": \"gone\""), "%s", r.out);
	assert_no_pw("stdout", r.out);
	assert_no_pw("stderr", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_in(p.url, "SELECT count(*) FROM cairn.migrations"), 1);
	s = tu_read(p.out, "pre.env");
	ck_assert_ptr_nonnull(s);
	ck_assert(tu_contains(s, "CAIRN_EVENT=pre_validate"));
	assert_no_pw("pre_validate's environment", s);
	free(s);
	s = tu_read(p.out, "child.env");
	ck_assert_ptr_nonnull(s);
	ck_assert(tu_contains(s, "CAIRN_EVENT=post_execute"));
	assert_no_pw("t1's post_execute environment", s);
	ck_assert(!tu_contains(s, "CAIRN_FLEET_"));
	free(s);
	s = tu_read(p.out, "post.env");
	ck_assert_ptr_nonnull(s);
	assert_no_pw("post_complete's environment", s);
	free(s);
	s = tu_read(p.out, "post.json");
	ck_assert_msg(tu_contains(s, "fleet_summary"), "%s", s ? s : "");
	assert_no_pw("post_complete's context", s);
	free(s);
	/* the text table and JUnit too */
	tu_cairn_env(&r, p.dir, env, NULL, "--env", "prod", "migrate", "up",
		     "--all-targets", "--keep-going", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.out, "gone"), "%s", r.out);
	assert_no_pw("stdout", r.out);
	assert_no_pw("stderr", r.err);
	tu_result_dispose(&r);
	tu_cairn_env(&r, p.dir, env, NULL, "--env", "prod", "--format", "junit",
		     "status", "--all-targets", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(tu_contains(r.out, "<failure "));
	assert_no_pw("stdout", r.out);
	assert_no_pw("stderr", r.err);
	tu_result_dispose(&r);
	proj_dispose(&p);
}
END_TEST

/*
 * A target list with a line's fields in the wrong order: the field taken
 * for the name (or the schema) is a URL with a password.  Before the fix
 * the error quoted its first 40 bytes, the password with them.
 */
START_TEST(test_swapped_fields_do_not_echo_a_url)
{
	static const char *const lines[] = {
		"postgresql://app:" PW1 "@db.example/x t1\n",
		"t1 tenant_1 postgresql://app:" PW1 "@db.example/x\n",
	};
	proj p;
	tu_result r;

	proj_init(&p);
	tu_write(p.dir, "cairn.yaml", "environments:\n  prod:\n    targets_file: fleet.txt\n");
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "one"));
	for (size_t i = 0; i < 2; i++) {
		tu_write(p.dir, "fleet.txt", lines[i]);
		tu_cairn(&r, p.dir, "--env", "prod", "status", "--all-targets", NULL);
		ck_assert_msg(r.status == 2, "%d\n%s\n%s", r.status, r.out, r.err);
		ck_assert_msg(tu_contains(r.err, "fleet.txt:1: invalid"), "%s", r.err);
		ck_assert_msg(tu_contains(r.err, "looks like a URL"), "%s", r.err);
		assert_no_pw("stderr", r.err);
		tu_result_dispose(&r);
	}
	/* in cairn.yaml (read from the work tree here) */
	tu_write(p.dir, "cairn.yaml", "environments:\n  yml:\n    targets:\n"
		 "      - { name: \"postgres://app:" PW1 "@h/x\", database_url: \"postgres://h/x\" }\n");
	tu_cairn(&r, p.dir, "--worktree", "--env", "yml", "status", "--all-targets", NULL);
	ck_assert_msg(r.status == 2, "%d\n%s\n%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "invalid target name"), "%s", r.err);
	assert_no_pw("stderr", r.err);
	tu_result_dispose(&r);
	proj_dispose(&p);
}
END_TEST

/*
 * A target's name ends its audit anchor's ref (refs/cairn/audit/ENV@NAME):
 * names git refuses in a ref ("..", a trailing '.' or ".lock") were
 * accepted, and `audit anchor --all-targets` failed for those targets
 * after the fact.  Now the target list is refused up front.
 */
START_TEST(test_names_an_anchor_cannot_use)
{
	static const char *const bad[] = { "eu..1", "eu-1.", "eu-1.lock" };
	proj p;
	tu_result r;
	char yaml[1024], line[256];

	proj_init(&p);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	tu_write(p.dir, "cairn.yaml", "environments: {}\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "one"));
	for (size_t i = 0; i < 3; i++) {
		snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n"
			 "      - { name: \"%s\", database_url: \"%s\" }\n", bad[i], p.url);
		tu_write(p.dir, "cairn.yaml", yaml);
		tu_cairn(&r, p.dir, "--worktree", "--env", "prod", "migrate", "up",
			 "--all-targets", NULL);
		tu_result_dispose(&r);
		tu_cairn(&r, p.dir, "--worktree", "--env", "prod", "audit", "anchor",
			 "--all-targets", NULL);
		ck_assert_msg(r.status == 2 && tu_contains(r.err, "invalid target name"),
			      "%s: %d\n%s\n%s", bad[i], r.status, r.out, r.err);
		tu_result_dispose(&r);
		tu_write(p.dir, "cairn.yaml", "environments:\n  file:\n    targets_file: fleet.txt\n");
		snprintf(line, sizeof(line), "%s %s\n", bad[i], p.url);
		tu_write(p.dir, "fleet.txt", line);
		tu_cairn(&r, p.dir, "--worktree", "--env", "file", "audit", "anchor",
			 "--all-targets", NULL);
		ck_assert_msg(r.status == 2 && tu_contains(r.err, "fleet.txt:1: invalid target name"),
			      "%s: %d\n%s\n%s", bad[i], r.status, r.out, r.err);
		tu_result_dispose(&r);
	}
	/* a dot inside a name stays fine */
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n"
		 "      - { name: eu.1, database_url: \"%s\" }\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_cairn(&r, p.dir, "--worktree", "--env", "prod", "migrate", "up",
		 "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%d\n%s\n%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "--worktree", "--env", "prod", "audit", "anchor",
		 "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%d\n%s\n%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	proj_dispose(&p);
}
END_TEST

/*
 * status --all-targets: t1 has applied 0001..0003 and the revision asked
 * for has only 0001 (t1 is ahead); t2 has a no-transaction 0002 that
 * failed.  Before the fix the highest applied version of t1 was 0001
 * (only migrations of the revision counted) with no word of it being
 * ahead, and t2 was 1 behind (its failed 0002 not counted).
 */
START_TEST(test_status_ahead_and_failed)
{
	proj p;
	tu_result r;
	char yaml[2048], *first, *url2 = tu_db_create("atkfl2");

	proj_init(&p);
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n"
		 "      - { name: t1, database_url: \"%s\" }\n"
		 "      - { name: t2, database_url: \"%s\" }\n", p.url, url2);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	first = tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "one");
	tu_write(p.dir, "db/migrations/0002_b.up.sql",
		 "-- cairn: no-transaction\nCREATE TABLE b (id int);\n");
	tu_write(p.dir, "db/migrations/0003_c.up.sql", "CREATE TABLE c (id int);\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000100, "three"));
	ck_assert_int_eq(tu_db_exec(url2, "CREATE TABLE b (x int)"), 0);
	tu_cairn(&r, p.dir, "--env", "prod", "migrate", "up", "--all-targets",
		 "--keep-going", NULL);
	ck_assert_msg(r.status == 1, "%d\n%s\n%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_in(url2, "SELECT count(*) FROM cairn.migrations WHERE status = 'failed'"), 1);
	/* at the revision of 0001 only */
	tu_cairn(&r, p.dir, "--env", "prod", "--rev", first, "--format", "json",
		 "status", "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%d\n%s\n%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "\"highest_applied\": \"3\"") ||
		      tu_contains(r.out, "\"highest_applied\": \"0003\""), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "\"ahead\": 2"), "%s", r.out);
	tu_result_dispose(&r);
	/* at HEAD: t2 lacks 0002 (failed) and 0003 */
	tu_cairn(&r, p.dir, "--env", "prod", "--format", "json", "status",
		 "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%d\n%s\n%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.out, "\"behind\": 2"), "%s", r.out);
	ck_assert_msg(tu_contains(r.out, "\"behind\": 0"), "%s", r.out);
	tu_result_dispose(&r);
	tu_cairn(&r, p.dir, "--env", "prod", "--rev", first, "status",
		 "--all-targets", NULL);
	ck_assert_msg(r.status == 0 && tu_contains(r.out, "ahead"), "%s\n%s", r.out, r.err);
	tu_result_dispose(&r);
	free(first);
	free(url2);
	proj_dispose(&p);
}
END_TEST

#define NBIG 5000

/*
 * A revision of 5,000 migrations: a target's `status --format json` is
 * about 2 MB.  Before the fix the child's answer was cut at 1 MiB, could
 * not be read, and the target still said "ok" with no counts (behind:
 * null); a child that answers nothing readable is now a failure too.
 */
START_TEST(test_status_large_answer)
{
	proj p;
	tu_result r;
	char yaml[1024], path[256], name[80];

	proj_init(&p);
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n"
		 "      - { name: t1, database_url: \"%s\" }\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	memset(name, 'x', 60);
	name[60] = '\0';
	for (int i = 1; i <= NBIG; i++) {
		snprintf(path, sizeof(path), "db/migrations/%05d_%s.up.sql", i, name);
		tu_write(p.dir, path, "SELECT 1;\n");
	}
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "many"));
	tu_cairn(&r, p.dir, "--env", "prod", "--format", "json", "status",
		 "--all-targets", NULL);
	ck_assert_msg(r.status == 0, "%d\n%s", r.status, r.err);
	ck_assert_msg(tu_contains(r.out, "\"behind\": 5000"), "%s", r.out);
	tu_result_dispose(&r);
	proj_dispose(&p);
}
END_TEST

/* A listening socket nobody accepts or answers on (the kernel queues). */
static int silent_tcp(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int silent_unix(const char *dir)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/.s.PGSQL.5999", dir);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

/*
 * Two targets behind servers that accept connections and never say a
 * word (TCP and a unix socket) and one real one: the run ends, bounded
 * by the connect timeout (PGCONNECT_TIMEOUT=2 here; 10 s by default),
 * the two fail and the real one is migrated (verified behaviour).  The
 * error says why: before the fix it was only "cannot connect to the
 * database" for every unreachable target, the child's DETAIL dropped.
 */
START_TEST(test_silent_servers_are_bounded)
{
	static const char *const env[] = {
		"PGCONNECT_TIMEOUT=2", "FLEET_PW1=" PW1, NULL,
	};
	proj p;
	tu_result r;
	char yaml[2048];
	int port, tfd, ufd;
	int64_t t0;

	proj_init(&p);
	tfd = silent_tcp(&port);
	ufd = silent_unix(p.out);
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n"
		 "      - { name: quiet-tcp, database_url: \"postgresql://app:${FLEET_PW1}@127.0.0.1:%d/x\" }\n"
		 "      - { name: quiet-unix, database_url: \"postgresql://app:${FLEET_PW1}@/x?host=%s&port=5999\" }\n"
		 "      - { name: real, database_url: \"%s\" }\n", port, p.out, p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "one"));
	t0 = now_ms();
	tu_cairn_env(&r, p.dir, env, NULL, "--env", "prod", "--format", "json",
		     "migrate", "up", "--all-targets", "--keep-going", "--parallel", "3", NULL);
	ck_assert_msg(now_ms() - t0 < 20000, "took %lld ms", (long long)(now_ms() - t0));
	ck_assert_msg(r.status == 1, "%d\n%s\n%s", r.status, r.out, r.err);
	ck_assert_msg(tu_contains(r.err, "2 of 3 targets failed"), "%s", r.err);
	/* why, in libpq's words (was: "cannot connect to the database") */
	ck_assert_msg(tu_contains(r.out, "timeout expired"), "%s", r.out);
	assert_no_pw("stdout", r.out);
	assert_no_pw("stderr", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(count_in(p.url, "SELECT count(*) FROM cairn.migrations"), 1);
	t0 = now_ms();
	tu_cairn_env(&r, p.dir, env, NULL, "--env", "prod", "status", "--all-targets", NULL);
	ck_assert_msg(now_ms() - t0 < 20000, "took %lld ms", (long long)(now_ms() - t0));
	ck_assert_msg(r.status == 1, "%d\n%s\n%s", r.status, r.out, r.err);
	tu_result_dispose(&r);
	close(tfd);
	close(ufd);
	proj_dispose(&p);
}
END_TEST

/* The deploy lock's key for schema cairn (engine/lock.c: FNV-1a). */
static long long deploy_key(void)
{
	const char *s = "cairn.deploy:cairn";
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (long long)(int64_t)h;
}

static PGconn *hold_deploy_lock(const char *url)
{
	PGconn *c = PQconnectdb(url);
	char sql[128];
	PGresult *res;

	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)", deploy_key());
	res = PQexec(c, sql);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	return c;
}

/*
 * Ctrl-C while the fleet's child waits for a deploy lock another session
 * holds: the fleet ends at once with 130 (not after the 60 s lock
 * timeout), the child is gone, nothing applied.  Verified behaviour.
 */
START_TEST(test_sigint_while_waiting_for_the_lock)
{
	static const char *const args[] = {
		"--env", "prod", "migrate", "up", "--all-targets", NULL,
	};
	proj p;
	PGconn *holder;
	char yaml[1024], *err;
	pid_t pid;
	int st;
	int64_t t0;

	proj_init(&p);
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n"
		 "      - { name: t1, database_url: \"%s\" }\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_write(p.dir, "db/migrations/0001_a.up.sql", "CREATE TABLE a (id int);\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "one"));
	holder = hold_deploy_lock(p.url);
	pid = start_cairn(p.dir, p.out, NULL, args);
	ck_assert_msg(tu_db_wait(p.url,
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%pg_try_advisory_lock%' "
		"AND pid <> pg_backend_pid()", TU_WAIT_MS), "the child never waited for the lock");
	t0 = now_ms();
	kill(pid, SIGINT);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	err = tu_read(p.out, "stderr");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "%d: %s", st, err ? err : "");
	ck_assert_msg(now_ms() - t0 < 15000, "took %lld ms", (long long)(now_ms() - t0));
	free(err);
	ck_assert(tu_db_wait(p.url,
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE '%pg_try_advisory_lock%' "
		"AND pid <> pg_backend_pid()", TU_WAIT_MS));
	PQfinish(holder);
	ck_assert_int_eq(count_in(p.url, "SELECT count(*) FROM pg_tables WHERE tablename = 'a'"), 0);
	proj_dispose(&p);
}
END_TEST

/*
 * kill -9 of the fleet process while its child runs a 60 s migration:
 * before the fix the child went on unattended (its migration committed a
 * minute later, nobody to see it); now it gets SIGTERM when the fleet
 * dies and stops as on Ctrl-C: the statement cancelled, nothing applied,
 * no lock left, an `interrupted` audit row.  The kernel sends one SIGTERM
 * per thread of the dying fleet; before the child ignored the repeats, the
 * second ended it at once, as a second Ctrl-C does, without its audit row
 * (this test failed so in a CI run and again when the fix was taken out).
 */
START_TEST(test_children_stop_when_the_fleet_dies)
{
	static const char *const args[] = {
		"--env", "prod", "migrate", "up", "--all-targets", NULL,
	};
	proj p;
	char yaml[1024];
	pid_t pid;
	int st;

	proj_init(&p);
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n"
		 "      - { name: t1, database_url: \"%s\" }\n", p.url);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_write(p.dir, "db/migrations/0001_a.up.sql",
		 "CREATE TABLE a (id int);\nSELECT pg_sleep(60);\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "one"));
	pid = start_cairn(p.dir, p.out, NULL, args);
	ck_assert_msg(tu_db_wait(p.url,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE state = 'active' "
		"AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()", TU_WAIT_MS),
		"the child never started its migration");
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(tu_db_wait(p.url,
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' "
		"AND pid <> pg_backend_pid()", 15000),
		"the child went on after its fleet died");
	/* its session ends (after its audit row): no lock, nothing applied,
	 * the interruption audited */
	ck_assert(tu_db_wait(p.url,
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database() "
		"AND pid <> pg_backend_pid()", TU_WAIT_MS));
	ck_assert_int_eq(count_in(p.url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
		"(SELECT oid FROM pg_database WHERE datname = current_database())"), 0);
	ck_assert_int_eq(count_in(p.url, "SELECT count(*) FROM pg_tables WHERE tablename = 'a'"), 0);
	ck_assert_int_eq(count_in(p.url, "SELECT count(*) FROM cairn.migrations"), 0);
	ck_assert_int_ge(count_in(p.url, "SELECT count(*) FROM cairn.audit WHERE outcome = 'interrupted'"), 1);
	proj_dispose(&p);
}
END_TEST

/*
 * The branch moves while the fleet runs (--parallel 1): t1's migration
 * waits on a lock the test holds, the test commits 0002, then lets t1
 * go.  Before the fix t2's child resolved HEAD anew and applied 0002,
 * which the fleet's run (and its pre_validate/post_validate) never saw;
 * now every child runs the commit the fleet started with, and refuses
 * when HEAD names another.
 */
START_TEST(test_revision_moved_mid_run)
{
	static const char *const args[] = {
		"--env", "prod", "--format", "json", "migrate", "up",
		"--all-targets", "--parallel", "1", NULL,
	};
	proj p;
	PGconn *holder;
	PGresult *res;
	char yaml[1024], *url2 = tu_db_create("atkfl2"), *out, *err;
	pid_t pid;
	int st;

	proj_init(&p);
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n"
		 "      - { name: t1, database_url: \"%s\" }\n"
		 "      - { name: t2, database_url: \"%s\" }\n", p.url, url2);
	tu_write(p.dir, "cairn.yaml", yaml);
	tu_write(p.dir, "db/migrations/0001_a.up.sql",
		 "SELECT pg_advisory_xact_lock(4242);\nCREATE TABLE a (id int);\n");
	free(tu_git_commit(p.dir, "Ann", "ann@example.com", 1700000000, "one"));
	holder = PQconnectdb(p.url);
	ck_assert_int_eq(PQstatus(holder), CONNECTION_OK);
	res = PQexec(holder, "SELECT pg_advisory_lock(4242)");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	pid = start_cairn(p.dir, p.out, NULL, args);
	ck_assert_msg(tu_db_wait(p.url,
		"SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
		TU_WAIT_MS), "t1 never waited");
	tu_write(p.dir, "db/migrations/0002_b.up.sql", "CREATE TABLE b (id int);\n");
	free(tu_git_commit(p.dir, "Bob", "bob@example.com", 1700000100, "two"));
	PQfinish(holder);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	out = tu_read(p.out, "stdout");
	err = tu_read(p.out, "stderr");
	ck_assert_int_eq(count_in(p.url, "SELECT count(*) FROM cairn.migrations"), 1);
	/* t2 got nothing the fleet did not start with */
	ck_assert_msg(count_in(url2, "SELECT count(*) FROM pg_tables WHERE tablename = 'b'") == 0,
		      "%s\n%s", out, err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%d\n%s\n%s", st, out, err);
	ck_assert_msg(tu_contains(out, "moved during the fleet run"), "%s\n%s", out, err);
	free(out);
	free(err);
	free(url2);
	proj_dispose(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("attack_fleet2");
	TCase *tc = tcase_create("attack_fleet2");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_target_passwords_stay_out);
	tcase_add_test(tc, test_swapped_fields_do_not_echo_a_url);
	tcase_add_test(tc, test_names_an_anchor_cannot_use);
	tcase_add_test(tc, test_status_ahead_and_failed);
	tcase_add_test(tc, test_status_large_answer);
	tcase_add_test(tc, test_silent_servers_are_bounded);
	tcase_add_test(tc, test_sigint_while_waiting_for_the_lock);
	tcase_add_test(tc, test_children_stop_when_the_fleet_dies);
	tcase_add_test(tc, test_revision_moved_mid_run);
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
