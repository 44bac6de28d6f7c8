/*
 * check_webhook.c - the webhook hook kind against a real HTTP server.
 *
 * Each test starts tests/lib/http_receiver on 127.0.0.1 (an OS-chosen
 * port), scripts its answers, registers a webhook hook in a fresh
 * pipeline with cairn_hook__register_webhook() - as pipeline_build.c does
 * for `webhook:` entries - fires events at it and checks what arrived:
 * payload fields, the Slack shape, the HMAC signature (recomputed here
 * with OpenSSL over the documented string), headers, retries and their
 * bounds, async deliveries and their reporting, and that no message ever
 * shows a URL path, query, user info or the secret.
 *
 * Timing assertions leave generous slack and are scaled up under
 * valgrind.
 */
#include <check.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "cairn/hook.h"
#include "cairn/webhook.h"
#include "hook_kinds_ext.h"
#include "http_receiver.h"
#include "engine/session.h"
#include "testutil.h"

#define SECRET_VAR "CAIRN_TEST_WEBHOOK_SECRET"
#define SECRET "s3cr3t-Signing-Key"

static tu_http_receiver *rx;
static cairn_pipeline *pl;
static cairn_migration mig;
static cairn_kv meta[] = { { (char *)"ticket", (char *)"OPS-7" } };
static char logbuf[8192];

/* Timing slack: valgrind runs everything many times slower. */
static int64_t slow(int64_t ms)
{
	return RUNNING_ON_VALGRIND ? ms * 10 : ms;
}

static void log_line(const char *source, const char *text, void *payload)
{
	size_t n = strlen(logbuf);

	(void)payload;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s: %s\n", source, text);
}

static void setup(void)
{
	memset(&mig, 0, sizeof(mig));
	mig.version = (char *)"42";
	mig.version_text = (char *)"0042";
	mig.name = (char *)"create_users";
	mig.subdir = (char *)"";
	mig.up_path = (char *)"db/migrations/0042_create_users.up.sql";
	memcpy(mig.checksum, "ab12", 5);
	mig.has_provenance = true;
	memcpy(mig.introduced.sha, "abcdef1234567890abcdef1234567890abcdef12",
	       41);
	mig.introduced.author_name = (char *)"Ada & <Co>";
	mig.introduced.author_email = (char *)"ada@example.com";
	mig.introduced.author_time = 1714564800;
	logbuf[0] = '\0';
	cairn_error_clear();
	rx = tu_http_start();
	ck_assert_int_eq(cairn_pipeline_new(&pl), 0);
	setenv(SECRET_VAR, SECRET, 1);
}

static void teardown(void)
{
	cairn_pipeline_free(pl);
	pl = NULL;
	tu_http_stop(rx);
	rx = NULL;
	unsetenv(SECRET_VAR);
	cairn_error_clear();
}

static cairn_hook_context make_ctx(cairn_event ev, const cairn_migration *m)
{
	cairn_hook_context c;

	memset(&c, 0, sizeof(c));
	c.version = 1;
	c.event = ev;
	c.environment = "production";
	c.run_id = "run-1";
	c.direction = "up";
	c.migration = m;
	c.status = "applied";
	c.duration_ms = 123;
	c.metadata = meta;
	c.metadata_count = 1;
	c.deploy_rev = "fedcba9876543210fedcba9876543210fedcba98";
	c.deploy_ref = "refs/heads/main";
	c.actor = "Dev <dev@example.com>";
	c.database = "app@localhost:5432/app";
	c.planned = 3;
	c.done = 1;
	c.log_fn = log_line;
	return c;
}

static cairn_hook_spec make_spec(char *url)
{
	cairn_hook_spec s;

	memset(&s, 0, sizeof(s));
	s.event = CAIRN_EVENT_POST_EXECUTE;
	s.kind = CAIRN_HOOK_WEBHOOK;
	s.name = (char *)"notify";
	s.on_failure = CAIRN_ON_FAILURE_ABORT;
	s.timeout_ms = 5000;
	s.url = url;
	s.format = CAIRN_WEBHOOK_JSON;
	s.retries = 3;
	s.connect_timeout_ms = 5000;
	s.line = 1;
	s.column = 1;
	return s;
}

/* Fires ev once; returns the pipeline's answer. */
static int fire(cairn_event ev, const cairn_migration *m)
{
	cairn_hook_context c = make_ctx(ev, m);

	return cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL);
}

static json_t *body_json(const tu_http_request *q)
{
	json_error_t e;
	json_t *j = json_loadb(q->body, q->body_len, 0, &e);

	ck_assert_msg(j != NULL, "body is not JSON: %s", e.text);
	return j;
}

static const char *jget(json_t *o, const char *path)
{
	char key[64];
	const char *dot;
	json_t *v = o;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		v = json_object_get(v, key);
		path = dot + 1;
	}
	v = json_object_get(v, path);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool any_contains(const cairn_error *e, const char *needle)
{
	return tu_contains(e->message, needle) ||
	       tu_contains(e->detail, needle) || tu_contains(e->hint, needle);
}

START_TEST(test_payload_fields)
{
	char *url = tu_http_url(rx, "/hook");
	cairn_hook_spec s = make_spec(url);
	const tu_http_request *q;
	const char *id;
	json_t *j;

	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
	ck_assert_uint_eq(tu_http_count(rx), 1);
	q = tu_http_request_at(rx, 0);
	ck_assert_str_eq(q->method, "POST");
	ck_assert_str_eq(q->target, "/hook");
	ck_assert_str_eq(tu_http_header(q, "Content-Type"),
			 "application/json");
	ck_assert_str_eq(tu_http_header(q, "User-Agent"),
			 "cairn/" CAIRN_VERSION);
	ck_assert_str_eq(tu_http_header(q, "X-Cairn-Event"), "post_execute");
	ck_assert_str_eq(tu_http_header(q, "X-Cairn-Attempt"), "1");
	id = tu_http_header(q, "X-Cairn-Delivery");
	ck_assert_ptr_nonnull(id);
	ck_assert_uint_eq(strlen(id), 36);
	ck_assert_ptr_null(tu_http_header(q, "X-Cairn-Signature"));
	ck_assert_ptr_null(tu_http_header(q, "Expect"));

	j = body_json(q);
	ck_assert_str_eq(jget(j, "event"), "post_execute");
	ck_assert_str_eq(jget(j, "environment"), "production");
	ck_assert_str_eq(jget(j, "run_id"), "run-1");
	ck_assert_str_eq(jget(j, "status"), "applied");
	ck_assert_str_eq(jget(j, "migration.version"), "42");
	ck_assert_str_eq(jget(j, "migration.name"), "create_users");
	ck_assert_str_eq(jget(j, "migration.introduced_by.author_name"),
			 "Ada & <Co>");
	ck_assert_str_eq(jget(j, "metadata.ticket"), "OPS-7");
	ck_assert_str_eq(jget(j, "actor"), "Dev <dev@example.com>");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "duration_ms")),
			 123);
	json_decref(j);

	/* a second event reuses the hook; a new delivery id */
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
	ck_assert_uint_eq(tu_http_count(rx), 2);
	ck_assert_str_ne(tu_http_header(tu_http_request_at(rx, 1),
					"X-Cairn-Delivery"), id);
	free(url);
}
END_TEST

/* The mrkdwn text of field i of the fields block. */
static const char *slack_field(json_t *j, size_t i)
{
	json_t *blocks = json_object_get(j, "blocks");
	json_t *fields = json_object_get(json_array_get(blocks, 1), "fields");
	json_t *f = json_array_get(fields, i);

	ck_assert_str_eq(json_string_value(json_object_get(f, "type")),
			 "mrkdwn");
	return json_string_value(json_object_get(f, "text"));
}

START_TEST(test_slack_format)
{
	char *url = tu_http_url(rx, "/services/T0/B0/x");
	cairn_hook_spec s = make_spec(url);
	cairn_hook_context c;
	cairn_error err = { CAIRN_ERRCLASS_SQL, "relation \"users\" exists",
			    NULL, NULL, "42P07" };
	json_t *j, *blocks;
	const char *text;

	s.format = CAIRN_WEBHOOK_SLACK;
	s.event = CAIRN_EVENT_POST_EXECUTE;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
	ck_assert_uint_eq(tu_http_count(rx), 1);
	j = body_json(tu_http_request_at(rx, 0));
	text = jget(j, "text");
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strchr(text, '\n'));
	ck_assert(tu_contains(text, "post_execute"));
	ck_assert(tu_contains(text, "[production]"));
	ck_assert(tu_contains(text, "0042_create_users: applied in 123 ms"));
	blocks = json_object_get(j, "blocks");
	ck_assert(json_is_array(blocks));
	ck_assert_uint_eq(json_array_size(blocks), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
		json_array_get(blocks, 0), "type")), "section");
	ck_assert_str_eq(slack_field(j, 0), "*Environment*\nproduction");
	ck_assert_str_eq(slack_field(j, 1), "*Migration*\n0042_create_users");
	/* Slack's control characters are escaped */
	ck_assert_str_eq(slack_field(j, 2), "*Author*\nAda &amp; &lt;Co&gt;");
	ck_assert_str_eq(slack_field(j, 3), "*Commit*\n`abcdef1`");
	ck_assert_str_eq(slack_field(j, 4), "*Outcome*\napplied");
	ck_assert_str_eq(slack_field(j, 5), "*Duration*\n123 ms");
	json_decref(j);

	/* a run-level event with an error: an error block, no migration */
	cairn_pipeline_clear(pl);
	s.event = CAIRN_EVENT_POST_COMPLETE;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);
	c.status = "failed";
	c.duration_ms = 2500;
	c.failed = 1;
	c.error = &err;
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	ck_assert_uint_eq(tu_http_count(rx), 2);
	j = body_json(tu_http_request_at(rx, 1));
	text = jget(j, "text");
	ck_assert(tu_contains(text, "post_complete"));
	ck_assert(tu_contains(text, "run failed, 1 of 3 migrations in 2.5 s"));
	ck_assert(tu_contains(text, "relation \"users\" exists"));
	ck_assert_str_eq(slack_field(j, 1),
			 "*Migration*\n1 of 3 done, some failed");
	ck_assert_str_eq(slack_field(j, 3), "*Commit*\n`fedcba9`");
	ck_assert_str_eq(slack_field(j, 4), "*Outcome*\nfailed");
	blocks = json_object_get(j, "blocks");
	ck_assert_uint_eq(json_array_size(blocks), 3);
	ck_assert(tu_contains(json_string_value(json_object_get(
		json_object_get(json_array_get(blocks, 2), "text"), "text")),
		"*Error*"));
	json_decref(j);
	free(url);
}
END_TEST

START_TEST(test_hmac_signature)
{
	char *url = tu_http_url(rx, "/signed");
	cairn_hook_spec s = make_spec(url);
	const tu_http_request *q;
	const char *ts, *sig;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1], *msg;
	size_t msglen;
	long long t;

	s.secret_env = (char *)SECRET_VAR;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
	q = tu_http_request_at(rx, 0);
	ck_assert_ptr_nonnull(q);
	ts = tu_http_header(q, "X-Cairn-Timestamp");
	sig = tu_http_header(q, "X-Cairn-Signature");
	ck_assert_ptr_nonnull(ts);
	ck_assert_ptr_nonnull(sig);
	t = strtoll(ts, NULL, 10);
	ck_assert(llabs(t - (long long)time(NULL)) < 60);

	/* the documented signed string: "<timestamp>.<body>" */
	msglen = strlen(ts) + 1 + q->body_len;
	msg = malloc(msglen);
	memcpy(msg, ts, strlen(ts));
	msg[strlen(ts)] = '.';
	memcpy(msg + strlen(ts) + 1, q->body, q->body_len);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
				   (unsigned char *)msg, msglen, md, &mdlen));
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ck_assert_uint_eq(strlen(sig), 7 + 64);
	ck_assert(!strncmp(sig, "sha256=", 7));
	ck_assert_str_eq(sig + 7, hex);
	/* and a wrong key does not verify */
	HMAC(EVP_sha256(), "other", 5, (unsigned char *)msg, msglen, md,
	     &mdlen);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ck_assert_str_ne(sig + 7, hex);
	free(msg);
	free(url);
}
END_TEST

START_TEST(test_headers)
{
	char *url = tu_http_url(rx, "/h");
	cairn_kv hdrs[] = {
		{ (char *)"Authorization", (char *)"Bearer tok-123456789" },
		{ (char *)"X-Team", (char *)"db team" },
		{ (char *)"User-Agent", (char *)"custom-agent/1" },
		{ (char *)"X-Empty", (char *)"" },
	};
	cairn_hook_spec s = make_spec(url);
	const tu_http_request *q;
	const cairn_hook *h;

	s.headers = hdrs;
	s.headers_count = 4;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	h = cairn_pipeline_get(pl, CAIRN_EVENT_POST_EXECUTE, 0);
	ck_assert_str_eq(h->kind, "webhook");
	ck_assert_ptr_nonnull(h->description);
	ck_assert(!tu_contains(h->description, "tok-123456789"));
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
	q = tu_http_request_at(rx, 0);
	ck_assert_str_eq(tu_http_header(q, "Authorization"),
			 "Bearer tok-123456789");
	ck_assert_str_eq(tu_http_header(q, "X-Team"), "db team");
	ck_assert_str_eq(tu_http_header(q, "User-Agent"), "custom-agent/1");
	ck_assert_str_eq(tu_http_header(q, "X-Empty"), "");
	ck_assert_str_eq(tu_http_header(q, "Content-Type"),
			 "application/json");

	/* headers cairn owns cannot be set */
	hdrs[0].key = (char *)"X-Cairn-Signature";
	ck_assert_int_ne(cairn_hook__register_webhook(pl, &s, NULL), 0);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert(tu_contains(cairn_error_last()->message,
			      "X-Cairn-Signature"));
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_POST_EXECUTE),
			  1);
	free(url);
}
END_TEST

START_TEST(test_retry_500_then_200)
{
	char *url = tu_http_url(rx, "/flaky");
	cairn_hook_spec s = make_spec(url);
	const tu_http_request *a, *b;
	int64_t t0;

	tu_http_push(rx, 500, 0, "oops");
	tu_http_push(rx, 200, 0, "ok");
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	t0 = tu_now_ms();
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
	/* one backoff of 200 ms between the two attempts */
	ck_assert_int_ge(tu_now_ms() - t0, 180);
	ck_assert_uint_eq(tu_http_count(rx), 2);
	a = tu_http_request_at(rx, 0);
	b = tu_http_request_at(rx, 1);
	ck_assert_str_eq(tu_http_header(a, "X-Cairn-Delivery"),
			 tu_http_header(b, "X-Cairn-Delivery"));
	ck_assert_str_eq(tu_http_header(b, "X-Cairn-Attempt"), "2");
	ck_assert_str_eq(a->body, b->body);
	ck_assert_msg(tu_contains(logbuf, "attempt 1 of 4") &&
		      tu_contains(logbuf, "HTTP 500") &&
		      tu_contains(logbuf, "retrying in 200 ms"),
		      "log: %s", logbuf);
	ck_assert(!tu_contains(logbuf, "/flaky"));
	free(url);
}
END_TEST

START_TEST(test_no_retry_on_400)
{
	char *url = tu_http_url(rx, "/strict");
	cairn_hook_spec s = make_spec(url);
	const cairn_error *e;

	tu_http_push(rx, 400, 0, "invalid_payload");
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), CAIRN_EVETO);
	e = cairn_error_last();
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_HOOK);
	ck_assert_msg(tu_contains(e->message, "was refused: HTTP 400"),
		      "message: %s", e->message);
	ck_assert(tu_contains(e->detail, "invalid_payload"));
	/*
	 * A synchronous hook makes all its attempts before fire() returns
	 * (a retry would have come after a 200 ms backoff, within it), and
	 * the receiver records a request before answering it: the count is
	 * final now.
	 */
	ck_assert_uint_eq(tu_http_count(rx), 1);

	/* a 3xx is not followed and not retried either */
	cairn_error_clear();
	tu_http_push(rx, 301, 0, NULL);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), CAIRN_EVETO);
	ck_assert(tu_contains(cairn_error_last()->message, "HTTP 301"));
	ck_assert_uint_eq(tu_http_count(rx), 2);

	/* what the receiver said is shown as one line of valid UTF-8 */
	cairn_error_clear();
	tu_http_push(rx, 422, 0, "caf\xc3\xa9 \xff\x01" "end\n");
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), CAIRN_EVETO);
	ck_assert_str_eq(cairn_error_last()->detail,
			 "The receiver said: caf\xc3\xa9 ? end");
	free(url);
}
END_TEST

START_TEST(test_never_answers_is_bounded)
{
	char *url = tu_http_url(rx, "/black-hole");
	cairn_hook_spec s = make_spec(url);
	int64_t t0, took, bound;

	tu_http_set_default(rx, TU_HTTP_NEVER, 0, NULL);
	s.timeout_ms = 300;
	s.retries = 2;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	t0 = tu_now_ms();
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), CAIRN_EVETO);
	took = tu_now_ms() - t0;
	/* 3 attempts of 300 ms, backoffs of 200 + 400 ms */
	bound = 300 * 3 + 200 + 400;
	ck_assert_msg(took >= bound - 50, "took %lld ms", (long long)took);
	ck_assert_msg(took < bound + slow(1000), "took %lld ms",
		      (long long)took);
	ck_assert_uint_eq(tu_http_count(rx), 3);
	ck_assert_msg(tu_contains(cairn_error_last()->message,
				  "failed after 3 attempts"),
		      "%s", cairn_error_last()->message);
	ck_assert(tu_contains(cairn_error_last()->message, "timed out"));
	free(url);
}
END_TEST

static volatile sig_atomic_t cancel_flag;

/* As the CLI does: a signal handler raises the session's cancel flag. */
static void on_alarm(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

START_TEST(test_sync_interrupted)
{
	char *url = tu_http_url(rx, "/stuck");
	cairn_hook_spec s = make_spec(url);
	struct cairn_session session;
	struct sigaction sa, old;
	struct itimerval it;
	cairn_hook_context c;
	int64_t t0, took;

	tu_http_set_default(rx, TU_HTTP_NEVER, 0, NULL);
	s.timeout_ms = 10000;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	memset(&session, 0, sizeof(session));
	cancel_flag = 0;
	session.cancel = &cancel_flag;
	c = make_ctx(CAIRN_EVENT_POST_EXECUTE, &mig);
	c.session = &session;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, &old), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 300 * 1000;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	t0 = tu_now_ms();
	ck_assert_int_ne(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	took = tu_now_ms() - t0;
	sigaction(SIGALRM, &old, NULL);
	ck_assert(cancel_flag);
	ck_assert_msg(took < slow(1500), "took %lld ms", (long long)took);
	ck_assert(tu_contains(cairn_error_last()->message, "interrupted"));
	ck_assert_uint_eq(tu_http_count(rx), 1);
	free(url);
}
END_TEST

/* A port on 127.0.0.1 where nothing listens. */
static int dead_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

START_TEST(test_connection_refused_retried)
{
	char url[200];
	cairn_hook_spec s = make_spec(url);
	int64_t t0, took;

	snprintf(url, sizeof(url),
		 "http://127.0.0.1:%d/services/T0/SECRETPATH?token=QUERYSECRET",
		 dead_port());
	s.retries = 2;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	t0 = tu_now_ms();
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), CAIRN_EVETO);
	took = tu_now_ms() - t0;
	ck_assert_msg(took >= 550 && took < slow(2000), "took %lld",
		      (long long)took);
	ck_assert(tu_contains(cairn_error_last()->message,
			      "failed after 3 attempts"));
	ck_assert(!any_contains(cairn_error_last(), "SECRETPATH"));
	ck_assert(!any_contains(cairn_error_last(), "QUERYSECRET"));
	ck_assert(!tu_contains(logbuf, "SECRETPATH"));
}
END_TEST

START_TEST(test_secrets_never_in_messages)
{
	char path[300], *url, answer[400];
	const char *leaks[] = { "SECRETPATH", "QUERYSECRET", "pw-hidden",
				"robot", SECRET, "tok-987654321", NULL };
	cairn_kv hdrs[] = {
		{ (char *)"Authorization", (char *)"Bearer tok-987654321" },
	};
	cairn_hook_spec s;
	const cairn_error *e;
	const cairn_hook *h;

	/* user info, path and query all carry credentials */
	snprintf(path, sizeof(path), "http://robot:pw-hidden@127.0.0.1:%d"
		 "/hooks/T000/SECRETPATH?token=QUERYSECRET", tu_http_port(rx));
	url = strdup(path);
	s = make_spec(url);
	s.secret_env = (char *)SECRET_VAR;
	s.headers = hdrs;
	s.headers_count = 1;
	s.retries = 1;
	/* a receiver that echoes everything back */
	snprintf(answer, sizeof(answer), "you sent /hooks/T000/SECRETPATH"
		 "?token=QUERYSECRET as robot:pw-hidden signed with %s and "
		 "Bearer tok-987654321", SECRET);
	tu_http_push(rx, 500, 0, answer);
	tu_http_push(rx, 403, 0, answer);
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	h = cairn_pipeline_get(pl, CAIRN_EVENT_POST_EXECUTE, 0);
	ck_assert_ptr_nonnull(h);
	ck_assert_msg(tu_contains(h->description, "http://127.0.0.1:") &&
		      tu_contains(h->description, "/…"),
		      "%s", h->description);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), CAIRN_EVETO);
	ck_assert_uint_eq(tu_http_count(rx), 2);
	/* the request did carry them */
	ck_assert_str_eq(tu_http_request_at(rx, 0)->target,
			 "/hooks/T000/SECRETPATH?token=QUERYSECRET");
	e = cairn_error_last();
	ck_assert(tu_contains(e->message, "HTTP 403"));
	ck_assert(tu_contains(e->detail, "you sent"));
	for (size_t i = 0; leaks[i]; i++) {
		ck_assert_msg(!any_contains(e, leaks[i]),
			      "'%s' leaked: %s / %s", leaks[i], e->message,
			      e->detail ? e->detail : "");
		ck_assert_msg(!tu_contains(logbuf, leaks[i]),
			      "'%s' leaked into the log: %s", leaks[i],
			      logbuf);
		ck_assert(!tu_contains(h->description, leaks[i]));
	}
	free(url);
}
END_TEST

START_TEST(test_config_errors)
{
	char *url = tu_http_url(rx, "/x/SECRETPATH?q=QUERYSECRET");
	char bad[] = "ftp://example.com/SECRETPATH";
	char junk[] = "http://exa mple.com:99999/SECRETPATH";
	char empty[] = "";
	cairn_hook_spec s = make_spec(url);
	const cairn_error *e;

	/* secret_env names a variable that is not set */
	s.secret_env = (char *)"CAIRN_TEST_NO_SUCH_SECRET";
	unsetenv("CAIRN_TEST_NO_SUCH_SECRET");
	ck_assert_int_ne(cairn_hook__register_webhook(pl, &s, NULL), 0);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert(tu_contains(e->message, "CAIRN_TEST_NO_SUCH_SECRET"));
	ck_assert(tu_contains(e->message, "not set"));
	ck_assert(tu_contains(e->message, "'notify'"));
	ck_assert_ptr_nonnull(e->hint);
	s.secret_env = NULL;

	s.url = bad;
	ck_assert_int_ne(cairn_hook__register_webhook(pl, &s, NULL), 0);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert(!any_contains(e, "SECRETPATH"));

	s.url = junk;
	ck_assert_int_ne(cairn_hook__register_webhook(pl, &s, NULL), 0);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert(tu_contains(e->message, "invalid URL"));
	ck_assert(!any_contains(e, "SECRETPATH"));

	s.url = empty;
	ck_assert_int_ne(cairn_hook__register_webhook(pl, &s, NULL), 0);
	ck_assert(tu_contains(cairn_error_last()->message, "empty URL"));

	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_POST_EXECUTE),
			  0);
	free(url);
}
END_TEST

typedef struct {
	size_t count, ok, failed;
	int last_status;
	unsigned max_attempts;
	char messages[2048];
} report_log;

static void on_report(const cairn_webhook_result *r, void *payload)
{
	report_log *l = payload;
	size_t n = strlen(l->messages);

	l->count++;
	if (r->ok)
		l->ok++;
	else
		l->failed++;
	l->last_status = r->http_status;
	if (r->attempts > l->max_attempts)
		l->max_attempts = r->attempts;
	ck_assert_uint_eq(strlen(r->delivery), 36);
	snprintf(l->messages + n, sizeof(l->messages) - n, "%s|%s|%s|%s\n",
		 r->hook, r->event, r->target, r->message ? r->message : "");
}

/* Fires n async deliveries; returns how long the fire calls took. */
static int64_t fire_async(size_t n)
{
	int64_t spent = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t t = tu_now_ms();

		ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
		spent += tu_now_ms() - t;
	}
	return spent;
}

START_TEST(test_async_concurrent)
{
	char *url = tu_http_url(rx, "/slow");
	cairn_hook_spec s = make_spec(url);
	report_log rl;
	int64_t t0, fired, total;

	memset(&rl, 0, sizeof(rl));
	tu_http_set_default(rx, 200, 200, "ok");
	s.async = true;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	t0 = tu_now_ms();
	fired = fire_async(50);
	ck_assert_int_eq(cairn_webhooks_await(pl, on_report, &rl), 0);
	total = tu_now_ms() - t0;
	fprintf(stderr, "check_webhook: 50 async deliveries to a 200 ms "
		"receiver: fire calls %lld ms, all done in %lld ms\n",
		(long long)fired, (long long)total);
	ck_assert_msg(fired < slow(100), "fire calls took %lld ms",
		      (long long)fired);
	ck_assert_msg(total < slow(2000), "took %lld ms", (long long)total);
	ck_assert_msg(total >= 200, "took %lld ms", (long long)total);
	ck_assert_uint_eq(tu_http_count(rx), 50);
	ck_assert_uint_eq(tu_http_answered(rx), 50);
	ck_assert_uint_eq(rl.count, 50);
	ck_assert_uint_eq(rl.ok, 50);
	ck_assert_int_eq(rl.last_status, 200);
	/* a second await has nothing left to report */
	memset(&rl, 0, sizeof(rl));
	ck_assert_int_eq(cairn_webhooks_await(pl, on_report, &rl), 0);
	ck_assert_uint_eq(rl.count, 0);
	free(url);
}
END_TEST

START_TEST(test_async_100_measure)
{
	char *url = tu_http_url(rx, "/bench");
	cairn_hook_spec s = make_spec(url);
	int64_t t0, fired, total;

	tu_http_set_default(rx, 200, 200, "ok");
	s.async = true;
	s.format = CAIRN_WEBHOOK_SLACK;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	t0 = tu_now_ms();
	fired = fire_async(100);
	ck_assert_int_eq(cairn_webhooks_await(pl, NULL, NULL), 0);
	total = tu_now_ms() - t0;
	fprintf(stderr, "check_webhook: 100 async deliveries to a 200 ms "
		"receiver: fire calls %lld ms, all done in %lld ms (adds "
		"%lld ms after the last event)\n", (long long)fired,
		(long long)total, (long long)(total - fired));
	ck_assert_uint_eq(tu_http_answered(rx), 100);
	ck_assert_msg(total < slow(2000), "took %lld ms", (long long)total);
	free(url);
}
END_TEST

START_TEST(test_async_failures_reported)
{
	char *url = tu_http_url(rx, "/a/SECRETPATH?k=QUERYSECRET");
	cairn_hook_spec s = make_spec(url);
	report_log rl;
	const cairn_error *e;

	memset(&rl, 0, sizeof(rl));
	tu_http_push(rx, 503, 0, "busy");  /* retried: then ok */
	tu_http_push(rx, 200, 0, "ok");
	tu_http_push(rx, 400, 0, "bad QUERYSECRET"); /* fails at once */
	s.async = true;
	s.secret_env = (char *)SECRET_VAR;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
	ck_assert_uint_eq(tu_http_wait(rx, 2, 5000), 2);
	/* abort cannot veto an async delivery: the fire returned 0 */
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
	ck_assert_int_eq(cairn_webhooks_await(pl, on_report, &rl),
			 CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_HOOK);
	ck_assert_str_eq(e->message, "1 of 2 async webhook deliveries failed");
	ck_assert_msg(tu_contains(e->detail, "webhook 'notify' at "
				  "post_execute") &&
		      tu_contains(e->detail, "HTTP 400"), "%s", e->detail);
	ck_assert_uint_eq(rl.count, 2);
	ck_assert_uint_eq(rl.ok, 1);
	ck_assert_uint_eq(rl.failed, 1);
	ck_assert_uint_eq(rl.max_attempts, 2);
	ck_assert_uint_eq(tu_http_count(rx), 3);
	ck_assert(!any_contains(e, "SECRETPATH"));
	ck_assert(!any_contains(e, "QUERYSECRET"));
	ck_assert(!any_contains(e, SECRET));
	ck_assert(!tu_contains(rl.messages, "SECRETPATH"));
	ck_assert(!tu_contains(rl.messages, "QUERYSECRET"));
	ck_assert(tu_contains(rl.messages, "bad …"));

	/* on_failure ignore: reported, but not an error */
	cairn_pipeline_clear(pl);
	cairn_error_clear();
	memset(&rl, 0, sizeof(rl));
	s.on_failure = CAIRN_ON_FAILURE_IGNORE;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	tu_http_push(rx, 404, 0, NULL);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, &mig), 0);
	ck_assert_int_eq(cairn_webhooks_await(pl, on_report, &rl), 0);
	ck_assert_uint_eq(rl.failed, 1);
	free(url);
}
END_TEST

START_TEST(test_async_free_waits)
{
	char *url = tu_http_url(rx, "/later");
	cairn_hook_spec s = make_spec(url);
	cairn_hook_spec s2;
	int64_t t0;

	tu_http_set_default(rx, 200, 300, "ok");
	s.async = true;
	s2 = s;
	s2.name = (char *)"second";
	s2.event = CAIRN_EVENT_POST_COMPLETE;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s2, NULL), 0);
	fire_async(3);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_COMPLETE, NULL), 0);
	t0 = tu_now_ms();
	/* no await: freeing the pipeline still delivers everything */
	cairn_pipeline_free(pl);
	pl = NULL;
	ck_assert_int_ge(tu_now_ms() - t0, 200);
	ck_assert_uint_eq(tu_http_answered(rx), 4);
	free(url);
}
END_TEST

START_TEST(test_async_never_answers_bounded)
{
	char *url = tu_http_url(rx, "/void");
	cairn_hook_spec s = make_spec(url);
	report_log rl;
	int64_t t0, took;

	memset(&rl, 0, sizeof(rl));
	tu_http_set_default(rx, TU_HTTP_NEVER, 0, NULL);
	s.async = true;
	s.timeout_ms = 300;
	s.retries = 1;
	ck_assert_int_eq(cairn_hook__register_webhook(pl, &s, NULL), 0);
	t0 = tu_now_ms();
	fire_async(10);
	ck_assert_int_eq(cairn_webhooks_await(pl, on_report, &rl),
			 CAIRN_ERROR);
	took = tu_now_ms() - t0;
	/* all ten in parallel: 2 x 300 ms + 200 ms backoff */
	ck_assert_msg(took >= 750 && took < 800 + slow(1000), "took %lld",
		      (long long)took);
	ck_assert_uint_eq(rl.failed, 10);
	/* under valgrind an attempt may time out before it was sent */
	if (RUNNING_ON_VALGRIND)
		ck_assert_uint_le(tu_http_count(rx), 20);
	else
		ck_assert_uint_eq(tu_http_count(rx), 20);
	ck_assert(tu_contains(cairn_error_last()->message,
			      "10 of 10 async webhook deliveries failed"));
	ck_assert(tu_contains(cairn_error_last()->detail, "and 5 more"));
	free(url);
}
END_TEST

static Suite *webhook_suite(void)
{
	Suite *s = suite_create("webhook");
	TCase *tc = tcase_create("webhook");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, RUNNING_ON_VALGRIND ? 300 : 30);
	tcase_add_test(tc, test_payload_fields);
	tcase_add_test(tc, test_slack_format);
	tcase_add_test(tc, test_hmac_signature);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_retry_500_then_200);
	tcase_add_test(tc, test_no_retry_on_400);
	tcase_add_test(tc, test_never_answers_is_bounded);
	tcase_add_test(tc, test_connection_refused_retried);
	tcase_add_test(tc, test_sync_interrupted);
	tcase_add_test(tc, test_secrets_never_in_messages);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_async_concurrent);
	tcase_add_test(tc, test_async_100_measure);
	tcase_add_test(tc, test_async_failures_reported);
	tcase_add_test(tc, test_async_free_waits);
	tcase_add_test(tc, test_async_never_answers_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	/* requests to 127.0.0.1 must not go through a developer's proxy */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	sr = srunner_create(webhook_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
