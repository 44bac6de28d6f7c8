/*
 * check_newuser.c - issue 5's acceptance, tried as a new user would: one
 * cairn.yaml with a Slack-format async webhook to a local receiver (signed
 * with a secret), the example plugin, require-clean-tree and lint.
 * `cairn migrate up` delivers signed webhooks, the plugin sees every
 * event, a dirty tree is refused, and a DROP TABLE migration is stopped by
 * lint until it carries `-- cairn: allow destructive`.
 */
#include <check.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_receiver.h"
#include "testutil.h"

static void hex(char *out, const unsigned char *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

START_TEST(test_new_user_pipeline)
{
	tu_http_receiver *rx = tu_http_start();
	char *d = tu_git_repo();
	char *url = tu_db_create("newuser");
	char *hook_url = tu_http_url(rx, "/hooks/deploys");
	char yaml[4096], plugin[1024], logenv[1100], *log;
	const char *env[] = { "CAIRN_TEST_SECRET=s3cr3t", logenv, NULL };
	tu_result r;
	size_t n;

	snprintf(plugin, sizeof(plugin), "%s/plugins/example_plugin.so",
		 getenv("CAIRN_BUILD"));
	snprintf(logenv, sizeof(logenv), "CAIRN_EXAMPLE_PLUGIN_LOG=%s/plugin.log", d);
	snprintf(yaml, sizeof(yaml),
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n"
		 "hooks:\n"
		 "  pre_validate:\n"
		 "    - builtin: require-clean-tree\n"
		 "  pre_execute:\n"
		 "    - builtin: lint\n"
		 "  post_execute:\n"
		 "    - webhook: %s\n"
		 "      format: slack\n"
		 "      async: true\n"
		 "      secret_env: CAIRN_TEST_SECRET\n"
		 "      on_failure: warn\n"
		 "  post_complete:\n"
		 "    - plugin: %s\n",
		 url, hook_url, plugin);
	tu_write(d, "cairn.yaml", yaml);
	tu_write(d, ".gitignore", "plugin.log\n");
	tu_write(d, "db/migrations/0001_users.up.sql", "CREATE TABLE users (id int);\n");
	tu_write(d, "db/migrations/0002_old.up.sql", "CREATE TABLE old (id int);\n");
	free(tu_git_commit(d, "Ann Author", "ann@example.com", 1700000000, "start"));

	tu_cairn_env(&r, d, env, NULL, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);

	/* two signed Slack messages arrived (awaited before cairn exited) */
	n = tu_http_count(rx);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		const tu_http_request *q = tu_http_request_at(rx, i);
		const char *sig = tu_http_header(q, "X-Cairn-Signature");
		const char *ts = tu_http_header(q, "X-Cairn-Timestamp");
		unsigned char mac[32];
		unsigned maclen = 0;
		char *signed_text, want[80] = "sha256=";

		ck_assert_ptr_nonnull(sig);
		ck_assert_ptr_nonnull(ts);
		ck_assert(asprintf(&signed_text, "%s.%s", ts, q->body) >= 0);
		HMAC(EVP_sha256(), "s3cr3t", 6, (unsigned char *)signed_text,
		     strlen(signed_text), mac, &maclen);
		hex(want + 7, mac, maclen);
		ck_assert_str_eq(sig, want);
		ck_assert_msg(tu_contains(q->body, "\"blocks\"") &&
			      tu_contains(q->body, "\"text\""), "%s", q->body);
		free(signed_text);
	}

	/* the plugin saw every event, in order */
	log = tu_read(d, "plugin.log");
	ck_assert_msg(log && tu_contains(log, "post_complete"), "%s", log ? log : "(none)");
	free(log);

	/* a dirty tree is refused before anything runs */
	tu_write(d, "db/migrations/0001_users.up.sql", "CREATE TABLE users (id bigint);\n");
	tu_cairn_env(&r, d, env, NULL, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "0001_users"), "%s", r.err);
	tu_result_dispose(&r);
	ck_assert_int_eq(tu_sh(d, "git checkout -q -- ."), 0);

	/* DROP TABLE is stopped by lint ... */
	tu_write(d, "db/migrations/0003_drop_old.up.sql", "DROP TABLE old;\n");
	free(tu_git_commit(d, "Bob", "bob@example.com", 1700000100, "drop"));
	tu_cairn_env(&r, d, env, NULL, "migrate", "up", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(tu_contains(r.err, "destructive"), "%s", r.err);
	tu_result_dispose(&r);
	{
		char *v = tu_db_value(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'old'");

		ck_assert_str_eq(v, "1");
		free(v);
	}
	/* ... until it says so */
	tu_write(d, "db/migrations/0003_drop_old.up.sql",
		 "-- cairn: allow destructive\nDROP TABLE old;\n");
	free(tu_git_commit(d, "Bob", "bob@example.com", 1700000200, "allow"));
	tu_cairn_env(&r, d, env, NULL, "migrate", "up", NULL);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	tu_result_dispose(&r);
	{
		char *v = tu_db_value(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'old'");

		ck_assert_str_eq(v, "0");
		free(v);
	}
	log = tu_read(d, "plugin.log");
	ck_assert_msg(tu_contains(log, "pre_validate") && tu_contains(log, "pre_execute") &&
		      tu_contains(log, "post_execute") && tu_contains(log, "on_error"),
		      "%s", log);
	free(log);
	free(hook_url);
	free(url);
	tu_http_stop(rx);
	tu_rmrf(d);
	free(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("newuser");
	TCase *tc = tcase_create("pipeline");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_new_user_pipeline);
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
