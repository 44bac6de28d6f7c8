/*
 * check_fleet_slots.c - a fleet run never needs more connections than
 * the server gives it (README "Fleets"): when a target's server has no
 * connection slot free (SQLSTATE 53300, here a role's CONNECTION LIMIT
 * with every slot held by the test), the target is put back and runs
 * later with fewer targets at a time, instead of failing.  A real
 * server, real databases owned by a real limited role, a real
 * repository, and `cairn migrate up --all-targets` run in the
 * background while the test holds the slots.
 */

#include <check.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define NT 4
#define LIMIT 2

typedef struct {
	char *dir, *out;
	char role[64];
	char *admin[NT];  /* the databases, as the test's superuser */
	char *urls[NT];   /* the same, as the limited role */
} slots;

/* url with user=ROLE in place of its user parameter. */
static char *as_role(const char *url, const char *role)
{
	const char *u = strstr(url, "user=");
	char *s;

	if (u) {
		const char *end = strchr(u, '&');

		if (asprintf(&s, "%.*suser=%s%s", (int)(u - url), url, role,
			     end ? end : "") < 0)
			abort();
	} else if (asprintf(&s, "%s%suser=%s", url,
			    strchr(url, '?') ? "&" : "?", role) < 0) {
		abort();
	}
	return s;
}

static void slots_init(slots *s)
{
	char yaml[4096], line[512], sql[256];

	memset(s, 0, sizeof(*s));
	s->dir = tu_git_repo();
	s->out = tu_mkdtemp();
	snprintf(s->role, sizeof(s->role), "fleet_slots_%d", (int)getpid());
	snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN CONNECTION LIMIT %d",
		 s->role, LIMIT);
	ck_assert_int_eq(tu_db_exec(tu_db_url(), sql), 0);
	snprintf(yaml, sizeof(yaml), "environments:\n  prod:\n    targets:\n");
	for (int i = 0; i < NT; i++) {
		char *name;

		s->admin[i] = tu_db_create("fleetslots");
		name = tu_db_value(s->admin[i], "SELECT current_database()");
		snprintf(sql, sizeof(sql), "ALTER DATABASE %s OWNER TO %s", name, s->role);
		ck_assert_int_eq(tu_db_exec(s->admin[i], sql), 0);
		free(name);
		s->urls[i] = as_role(s->admin[i], s->role);
		snprintf(line, sizeof(line),
			 "      - { name: t%d, database_url: \"%s\" }\n", i + 1, s->urls[i]);
		strncat(yaml, line, sizeof(yaml) - strlen(yaml) - 1);
	}
	tu_write(s->dir, "cairn.yaml", yaml);
	tu_write(s->dir, "db/migrations/0001_users.up.sql", "CREATE TABLE users (id int);\n");
	tu_write(s->dir, "db/migrations/0002_orders.up.sql", "CREATE TABLE orders (id int);\n");
	free(tu_git_commit(s->dir, "Ann", "ann@example.com", 1700000000, "fleet"));
}

static void slots_dispose(slots *s)
{
	for (int i = 0; i < NT; i++) {
		free(s->admin[i]);
		free(s->urls[i]);
	}
	tu_rmrf(s->dir);
	tu_rmrf(s->out);
	free(s->dir);
	free(s->out);
}

/* Starts cairn ARGS in the repository, stdout and stderr into files. */
static pid_t start_cairn(const slots *s, const char *const *args)
{
	pid_t pid = tu_cairn_start(s->dir, s->out, NULL, args);

	ck_assert_int_ge(pid, 0);
	return pid;
}

static bool stderr_says_busy(void *payload)
{
	const slots *s = payload;
	char *e = tu_read(s->out, "stderr");
	bool yes = e && strstr(e, "no connection slot free");

	free(e);
	return yes;
}

static long count_in(const char *url, const char *sql)
{
	char *v = tu_db_value(url, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

START_TEST(test_busy_targets_wait_for_a_slot)
{
	static const char *const args[] = {
		"--env", "prod", "migrate", "up", "--all-targets", "--parallel", "4",
		"--format", "json", NULL,
	};
	slots s;
	PGconn *held[LIMIT];
	pid_t pid;
	int st = 0;
	char *out, *err;

	slots_init(&s);
	/* every slot the role has is taken */
	for (int i = 0; i < LIMIT; i++) {
		held[i] = PQconnectdb(s.urls[0]);
		ck_assert_msg(PQstatus(held[i]) == CONNECTION_OK, "%s", PQerrorMessage(held[i]));
	}
	pid = start_cairn(&s, args);
	ck_assert_msg(tu_wait_until(stderr_says_busy, &s, TU_WAIT_MS),
		      "no target was put back for want of a slot");
	for (int i = 0; i < LIMIT; i++)
		PQfinish(held[i]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	out = tu_read(s.out, "stdout");
	err = tu_read(s.out, "stderr");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d\n%s\n%s", st, out, err);
	ck_assert_msg(out && strstr(out, "\"busy_retries\"") && !strstr(out, "\"busy_retries\": 0"),
		      "%s", out);
	ck_assert_msg(strstr(out, "\"failed_targets\": []") && strstr(out, "\"not_started\": []"),
		      "%s", out);
	/* every target applied everything, exactly once */
	for (int i = 0; i < NT; i++) {
		ck_assert_int_eq(count_in(s.admin[i], "SELECT count(*) FROM cairn.migrations WHERE status = 'applied'"), 2);
		ck_assert_int_eq(count_in(s.admin[i], "SELECT count(*) FROM cairn.audit WHERE outcome = 'applied'"), 2);
	}
	free(out);
	free(err);
	slots_dispose(&s);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("fleet_slots");
	TCase *tc = tcase_create("slots");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_busy_targets_wait_for_a_slot);
	suite_add_tcase(su, tc);
	return su;
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
