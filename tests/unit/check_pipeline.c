/*
 * check_pipeline.c - tests for the hook pipeline (src/pipeline.c) and the
 * in-process parts around it: the context document and CAIRN_*
 * environment (src/hook_context.c), the plugin API table, and building a
 * pipeline from cairn.yaml (src/pipeline_build.c).
 *
 * Hooks here are C callbacks that record what they saw in a small trace
 * string ("a,b,c"), so each test states the order and the outcome it
 * expects.  Nothing here runs a program or needs a database; exec and sql
 * hooks are covered by tests/integration/check_hooks.c.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/hook.h"
#include "cairn/hooks_config.h"
#include "util/error.h"
#include "hook_kinds.h"
#include "testutil.h"
#include "util/util.h"

static char trace[512];
static int freed;

static void trace_add(const char *s)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, "%s%s", n ? "," : "", s);
}

/* Records its payload (a name) and succeeds. */
static int rec_ok(const cairn_hook_context *ctx, void *payload)
{
	(void)ctx;
	trace_add(payload);
	return 0;
}

/* Records its payload and fails with a message. */
static int rec_fail(const cairn_hook_context *ctx, void *payload)
{
	(void)ctx;
	trace_add(payload);
	return cairn_error_set(CAIRN_ERRCLASS_HOOK, "%s said no",
			       (const char *)payload);
}

/* Fails without setting an error. */
static int rec_fail_silent(const cairn_hook_context *ctx, void *payload)
{
	(void)ctx;
	trace_add(payload);
	return 7;
}

static cairn_pipeline *pl;

static size_t n_hooks(cairn_event ev)
{
	return cairn_pipeline_count(pl, ev);
}

static const cairn_hook *hook_at(cairn_event ev, size_t i)
{
	return cairn_pipeline_get(pl, ev, i);
}

static void count_free(void *payload)
{
	(void)payload;
	freed++;
}

static void setup(void)
{
	trace[0] = '\0';
	freed = 0;
	cairn_error_clear();
	ck_assert_int_eq(cairn_pipeline_new(&pl), 0);
}

static void teardown(void)
{
	cairn_pipeline_free(pl);
	pl = NULL;
	cairn_error_clear();
}

static int add(cairn_event ev, const char *name, cairn_hook_fn fn,
	       cairn_on_failure of)
{
	cairn_hook h = CAIRN_HOOK_INIT;
	int id = 0;

	h.name = name;
	h.event = ev;
	h.fn = fn;
	h.payload = (void *)name;
	h.on_failure = of;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, &id), 0);
	return id;
}

static cairn_migration make_mig(const char *vtext, const char *v,
				const char *name, const char *path)
{
	cairn_migration m;

	memset(&m, 0, sizeof(m));
	m.version_text = (char *)vtext;
	m.version = (char *)v;
	m.name = (char *)name;
	m.subdir = (char *)"";
	m.up_path = (char *)path;
	return m;
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
	c.deploy_rev = "abc";
	c.deploy_ref = "refs/heads/main";
	c.actor = "Dev <dev@example.com>";
	c.database = "app@localhost:5432/app";
	return c;
}

static int fire(cairn_event ev, const cairn_migration *m, size_t *warnings)
{
	cairn_hook_context c = make_ctx(ev, m);

	return cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, warnings);
}

/* ------------------------------------------------------------------ */

START_TEST(test_order)
{
	add(CAIRN_EVENT_POST_EXECUTE, "a", rec_ok, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_PRE_EXECUTE, "x", rec_ok, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_POST_EXECUTE, "b", rec_ok, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_POST_EXECUTE, "c", rec_ok, CAIRN_ON_FAILURE_ABORT);

	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_EXECUTE), 3);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_PRE_EXECUTE), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_ON_ERROR), 0);
	ck_assert_str_eq(hook_at(CAIRN_EVENT_POST_EXECUTE, 1)->name,
			 "b");
	ck_assert_ptr_null(hook_at(CAIRN_EVENT_POST_EXECUTE, 3));
	ck_assert_ptr_null(cairn_pipeline_get(pl, (cairn_event)99, 0));

	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, NULL, NULL), 0);
	ck_assert_str_eq(trace, "a,b,c");
	trace[0] = '\0';
	ck_assert_int_eq(fire(CAIRN_EVENT_PRE_EXECUTE, NULL, NULL), 0);
	ck_assert_str_eq(trace, "x");
	trace[0] = '\0';
	ck_assert_int_eq(fire(CAIRN_EVENT_ON_ERROR, NULL, NULL), 0);
	ck_assert_str_eq(trace, "");
}
END_TEST

START_TEST(test_add_copies_strings)
{
	char name[8] = "tmp";
	cairn_hook h = CAIRN_HOOK_INIT;
	const char *envs[] = { "production", NULL };

	h.name = name;
	h.event = CAIRN_EVENT_POST_COMPLETE;
	h.fn = rec_ok;
	h.payload = "p";
	h.only_environments = envs;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);
	name[0] = 'X';
	envs[0] = "staging";
	ck_assert_str_eq(hook_at(CAIRN_EVENT_POST_COMPLETE, 0)->name,
			 "tmp");
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_COMPLETE, NULL, NULL), 0);
	ck_assert_str_eq(trace, "p");
}
END_TEST

START_TEST(test_add_rejects)
{
	cairn_hook h = CAIRN_HOOK_INIT;

	h.name = "nofn";
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), CAIRN_ERROR);
	ck_assert(tu_contains(cairn_error_last()->message, "no callback"));
	h.fn = rec_ok;
	h.event = (cairn_event)42;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), CAIRN_ERROR);
	ck_assert(tu_contains(cairn_error_last()->message, "unknown event"));
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++)
		ck_assert_uint_eq(cairn_pipeline_count(pl, (cairn_event)ev), 0);
}
END_TEST

START_TEST(test_remove_and_clear)
{
	cairn_hook h = CAIRN_HOOK_INIT;
	int a, b, c;

	a = add(CAIRN_EVENT_POST_EXECUTE, "a", rec_ok, CAIRN_ON_FAILURE_ABORT);
	h.name = "b";
	h.event = CAIRN_EVENT_POST_EXECUTE;
	h.fn = rec_ok;
	h.payload = "b";
	h.free_payload = count_free;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, &b), 0);
	c = add(CAIRN_EVENT_POST_EXECUTE, "c", rec_ok, CAIRN_ON_FAILURE_ABORT);
	ck_assert_int_ne(a, b);
	ck_assert_int_ne(b, c);

	ck_assert_int_eq(cairn_pipeline_remove(pl, b), 0);
	ck_assert_int_eq(freed, 1);
	ck_assert_int_eq(cairn_pipeline_remove(pl, b), CAIRN_ENOTFOUND);
	ck_assert_int_eq(cairn_pipeline_remove(pl, 12345), CAIRN_ENOTFOUND);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, NULL, NULL), 0);
	ck_assert_str_eq(trace, "a,c");

	/* ids are not reused after a removal */
	ck_assert_int_ne(add(CAIRN_EVENT_ON_ERROR, "d", rec_ok,
			     CAIRN_ON_FAILURE_ABORT), b);

	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);
	cairn_pipeline_clear(pl);
	ck_assert_int_eq(freed, 2);
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++)
		ck_assert_uint_eq(cairn_pipeline_count(pl, (cairn_event)ev), 0);
	trace[0] = '\0';
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, NULL, NULL), 0);
	ck_assert_str_eq(trace, "");
	/* usable again after clear */
	add(CAIRN_EVENT_POST_EXECUTE, "e", rec_ok, CAIRN_ON_FAILURE_ABORT);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_EXECUTE, NULL, NULL), 0);
	ck_assert_str_eq(trace, "e");
}
END_TEST

START_TEST(test_free_calls_free_payload)
{
	cairn_hook h = CAIRN_HOOK_INIT;

	h.name = "x";
	h.event = CAIRN_EVENT_PRE_VALIDATE;
	h.fn = rec_ok;
	h.free_payload = count_free;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);
	cairn_pipeline_free(pl);
	pl = NULL;
	ck_assert_int_eq(freed, 2);
	cairn_pipeline_free(NULL);
}
END_TEST

/* Object hooks: one payload, three callbacks, five events. */
static int obj_before(const cairn_hook_context *ctx, void *payload)
{
	(void)payload;
	trace_add(ctx->event == CAIRN_EVENT_PRE_EXECUTE ? "before-up"
							: "before-down");
	return 0;
}

static int obj_after(const cairn_hook_context *ctx, void *payload)
{
	(void)payload;
	trace_add(ctx->event == CAIRN_EVENT_POST_EXECUTE ? "after-up"
							 : "after-down");
	return 0;
}

static int obj_error(const cairn_hook_context *ctx, void *payload)
{
	(void)ctx;
	(void)payload;
	trace_add("error");
	return 0;
}

START_TEST(test_object_hooks)
{
	cairn_hook_object o = CAIRN_HOOK_OBJECT_INIT;
	int id;

	o.name = "obj";
	o.before = obj_before;
	o.after = obj_after;
	o.on_error = obj_error;
	o.free_payload = count_free;
	add(CAIRN_EVENT_PRE_EXECUTE, "first", rec_ok, CAIRN_ON_FAILURE_ABORT);
	ck_assert_int_eq(cairn_pipeline_add_object(pl, &o, &id), 0);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_PRE_EXECUTE), 2);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_PRE_ROLLBACK), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_EXECUTE), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_ROLLBACK), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_ON_ERROR), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_COMPLETE), 0);
	ck_assert_str_eq(hook_at(CAIRN_EVENT_ON_ERROR, 0)->kind,
			 "object");

	fire(CAIRN_EVENT_PRE_EXECUTE, NULL, NULL);
	fire(CAIRN_EVENT_POST_EXECUTE, NULL, NULL);
	fire(CAIRN_EVENT_PRE_ROLLBACK, NULL, NULL);
	fire(CAIRN_EVENT_POST_ROLLBACK, NULL, NULL);
	fire(CAIRN_EVENT_ON_ERROR, NULL, NULL);
	ck_assert_str_eq(trace, "first,before-up,after-up,before-down,"
				"after-down,error");

	/* one id removes every callback, and the payload is freed once */
	ck_assert_int_eq(cairn_pipeline_remove(pl, id), 0);
	ck_assert_int_eq(freed, 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_PRE_EXECUTE), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_ON_ERROR), 0);

	/* an object with only `after` */
	o.before = NULL;
	o.on_error = NULL;
	ck_assert_int_eq(cairn_pipeline_add_object(pl, &o, NULL), 0);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_EXECUTE), 1);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_PRE_ROLLBACK), 0);
	cairn_pipeline_clear(pl);
	ck_assert_int_eq(freed, 2);

	/* and one with nothing at all is refused */
	o.after = NULL;
	ck_assert_int_eq(cairn_pipeline_add_object(pl, &o, NULL), CAIRN_ERROR);
	ck_assert(tu_contains(cairn_error_last()->message, "no callbacks"));
	ck_assert_int_eq(freed, 2);
}
END_TEST

START_TEST(test_abort_vetoes)
{
	cairn_migration m = make_mig("0001", "1", "create_users",
				     "db/migrations/0001_create_users.up.sql");
	size_t warnings = 0;
	const cairn_error *e;

	add(CAIRN_EVENT_PRE_EXECUTE, "a", rec_ok, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_PRE_EXECUTE, "gate", rec_fail, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_PRE_EXECUTE, "c", rec_ok, CAIRN_ON_FAILURE_ABORT);
	ck_assert_int_eq(fire(CAIRN_EVENT_PRE_EXECUTE, &m, &warnings),
			 CAIRN_EVETO);
	ck_assert_str_eq(trace, "a,gate");
	ck_assert_uint_eq(warnings, 0);
	e = cairn_error_last();
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_HOOK);
	ck_assert_str_eq(e->message, "hook 'gate' failed at pre_execute of "
				     "0001_create_users: gate said no");
	ck_assert_ptr_nonnull(e->hint);
	ck_assert(tu_contains(e->hint, "on_failure: warn"));
}
END_TEST

START_TEST(test_abort_silent_failure_still_named)
{
	add(CAIRN_EVENT_PRE_VALIDATE, "quiet", rec_fail_silent,
	    CAIRN_ON_FAILURE_ABORT);
	ck_assert_int_eq(fire(CAIRN_EVENT_PRE_VALIDATE, NULL, NULL),
			 CAIRN_EVETO);
	ck_assert(tu_contains(cairn_error_last()->message,
			      "hook 'quiet' failed at pre_validate"));
	ck_assert(tu_contains(cairn_error_last()->message, "returned 7"));
}
END_TEST

START_TEST(test_abort_at_non_veto_event)
{
	size_t warnings = 0;

	add(CAIRN_EVENT_POST_COMPLETE, "a", rec_fail, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_POST_COMPLETE, "b", rec_ok, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_ON_ERROR, "e", rec_fail, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_ON_ERROR, "f", rec_ok, CAIRN_ON_FAILURE_ABORT);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_COMPLETE, NULL, &warnings), 0);
	ck_assert_int_eq(fire(CAIRN_EVENT_ON_ERROR, NULL, &warnings), 0);
	ck_assert_str_eq(trace, "a,b,e,f");
	ck_assert_uint_eq(warnings, 2);
	ck_assert_ptr_null(cairn_error_last());
}
END_TEST

START_TEST(test_warn_and_ignore)
{
	size_t warnings = 0;

	add(CAIRN_EVENT_PRE_EXECUTE, "w", rec_fail, CAIRN_ON_FAILURE_WARN);
	add(CAIRN_EVENT_PRE_EXECUTE, "i", rec_fail, CAIRN_ON_FAILURE_IGNORE);
	add(CAIRN_EVENT_PRE_EXECUTE, "ok", rec_ok, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_POST_COMPLETE, "w2", rec_fail, CAIRN_ON_FAILURE_WARN);
	add(CAIRN_EVENT_POST_COMPLETE, "i2", rec_fail, CAIRN_ON_FAILURE_IGNORE);
	ck_assert_int_eq(fire(CAIRN_EVENT_PRE_EXECUTE, NULL, &warnings), 0);
	ck_assert_str_eq(trace, "w,i,ok");
	ck_assert_uint_eq(warnings, 1);
	ck_assert_int_eq(fire(CAIRN_EVENT_POST_COMPLETE, NULL, &warnings), 0);
	ck_assert_uint_eq(warnings, 2);
	/* a NULL warnings counter is fine */
	ck_assert_int_eq(fire(CAIRN_EVENT_PRE_EXECUTE, NULL, NULL), 0);
}
END_TEST

START_TEST(test_only_environments)
{
	cairn_hook h = CAIRN_HOOK_INIT;
	const char *envs[] = { "staging", "production", NULL };
	const char *none[] = { NULL };
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);

	h.name = "prod";
	h.event = CAIRN_EVENT_POST_COMPLETE;
	h.fn = rec_ok;
	h.payload = "prod";
	h.only_environments = envs;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);
	h.name = h.payload = "all";
	h.only_environments = none; /* empty list: every environment */
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);

	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	ck_assert_str_eq(trace, "prod,all");
	trace[0] = '\0';
	c.environment = "development";
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	ck_assert_str_eq(trace, "all");
	trace[0] = '\0';
	c.environment = NULL;
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
	ck_assert_str_eq(trace, "all");
}
END_TEST

START_TEST(test_only_migrations)
{
	cairn_hook h = CAIRN_HOOK_INIT;
	const char *globs[] = { "*users*", "0042_*", NULL };
	const char *paths[] = { "db/migrations/billing/*", NULL };
	cairn_migration users = make_mig("0001", "1", "create_users",
					 "db/migrations/0001_create_users.up.sql");
	cairn_migration orders = make_mig("0002", "2", "orders",
					  "db/migrations/0002_orders.up.sql");
	cairn_migration v42 = make_mig("0042", "42", "x",
				       "db/migrations/0042_x.up.sql");
	cairn_migration bill = make_mig("0003", "3", "invoices",
					"db/migrations/billing/0003_invoices.up.sql");
	const cairn_hook *h2;
	cairn_hook_context c;

	h.name = h.payload = "g";
	h.event = CAIRN_EVENT_POST_EXECUTE;
	h.fn = rec_ok;
	h.only_migrations = globs;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);
	h.name = h.payload = "p";
	h.only_migrations = paths;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);

	fire(CAIRN_EVENT_POST_EXECUTE, &users, NULL);
	ck_assert_str_eq(trace, "g");
	trace[0] = '\0';
	fire(CAIRN_EVENT_POST_EXECUTE, &orders, NULL);
	ck_assert_str_eq(trace, "");
	fire(CAIRN_EVENT_POST_EXECUTE, &v42, NULL);
	ck_assert_str_eq(trace, "g");
	trace[0] = '\0';
	fire(CAIRN_EVENT_POST_EXECUTE, &bill, NULL);
	ck_assert_str_eq(trace, "p");
	trace[0] = '\0';
	/* a run-level context (no migration) passes migration filters */
	fire(CAIRN_EVENT_POST_EXECUTE, NULL, NULL);
	ck_assert_str_eq(trace, "g,p");

	c = make_ctx(CAIRN_EVENT_POST_EXECUTE, &orders);
	h2 = hook_at(CAIRN_EVENT_POST_EXECUTE, 0);
	ck_assert(!cairn_hook_matches(h2, &c));
	c.migration = &users;
	ck_assert(cairn_hook_matches(h2, &c));
}
END_TEST

START_TEST(test_transaction_phases)
{
	cairn_hook h = CAIRN_HOOK_INIT;
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_EXECUTE, NULL);

	add(CAIRN_EVENT_POST_EXECUTE, "out1", rec_ok, CAIRN_ON_FAILURE_ABORT);
	h.name = h.payload = "in";
	h.event = CAIRN_EVENT_POST_EXECUTE;
	h.fn = rec_ok;
	h.in_transaction = true;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);
	add(CAIRN_EVENT_POST_EXECUTE, "out2", rec_ok, CAIRN_ON_FAILURE_ABORT);

	cairn_pipeline_fire(pl, &c, CAIRN_FIRE_INSIDE_TX, NULL);
	ck_assert_str_eq(trace, "in");
	trace[0] = '\0';
	cairn_pipeline_fire(pl, &c, CAIRN_FIRE_OUTSIDE_TX, NULL);
	ck_assert_str_eq(trace, "out1,out2");
	trace[0] = '\0';
	cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL);
	ck_assert_str_eq(trace, "out1,in,out2");
}
END_TEST

/* The observer writes "name:rc:skipped:message;" for each outcome. */
static char seen[1024];

static void observer(const cairn_hook_outcome *oc, void *payload)
{
	size_t n = strlen(seen);

	ck_assert_ptr_eq(payload, seen);
	ck_assert_ptr_nonnull(oc->ctx);
	ck_assert(oc->duration_us >= 0);
	snprintf(seen + n, sizeof(seen) - n, "%s:%d:%d:%s;", oc->hook->name,
		 oc->rc != 0, oc->skipped,
		 oc->error ? oc->error->message : "-");
}

START_TEST(test_observer)
{
	cairn_hook h = CAIRN_HOOK_INIT;
	const char *envs[] = { "staging", NULL };

	seen[0] = '\0';
	cairn_pipeline_set_observer(pl, observer, seen);
	add(CAIRN_EVENT_PRE_EXECUTE, "ok", rec_ok, CAIRN_ON_FAILURE_ABORT);
	h.name = h.payload = "skip";
	h.event = CAIRN_EVENT_PRE_EXECUTE;
	h.fn = rec_ok;
	h.only_environments = envs;
	ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);
	add(CAIRN_EVENT_PRE_EXECUTE, "warned", rec_fail, CAIRN_ON_FAILURE_WARN);
	add(CAIRN_EVENT_PRE_EXECUTE, "veto", rec_fail, CAIRN_ON_FAILURE_ABORT);
	add(CAIRN_EVENT_PRE_EXECUTE, "never", rec_ok, CAIRN_ON_FAILURE_ABORT);

	ck_assert_int_eq(fire(CAIRN_EVENT_PRE_EXECUTE, NULL, NULL),
			 CAIRN_EVETO);
	ck_assert_str_eq(seen, "ok:0:0:-;skip:0:1:-;warned:1:0:warned said no;"
			       "veto:1:0:veto said no;");
	ck_assert_str_eq(trace, "ok,warned,veto");

	cairn_pipeline_set_observer(pl, NULL, NULL);
	seen[0] = '\0';
	fire(CAIRN_EVENT_PRE_EXECUTE, NULL, NULL);
	ck_assert_str_eq(seen, "");
}
END_TEST

START_TEST(test_fire_unknown_event)
{
	cairn_hook_context c = make_ctx((cairn_event)77, NULL);

	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL),
			 CAIRN_ERROR);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The context document and environment                               */

START_TEST(test_context_json)
{
	cairn_migration m = make_mig("0003", "3", "add_index",
				     "db/migrations/sub/0003_add_index.up.sql");
	cairn_kv meta[] = { { (char *)"ticket", (char *)"OPS-1" },
			    { (char *)"team", (char *)"db" } };
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_EXECUTE, &m);
	json_t *root, *mig, *intro;
	json_error_t jerr;
	char *json = NULL;

	m.subdir = (char *)"sub";
	memcpy(m.checksum, "abcd", 5);
	m.has_provenance = true;
	memcpy(m.introduced.sha, "1111111111111111111111111111111111111111", 41);
	m.introduced.author_name = (char *)"Ada";
	m.introduced.author_email = (char *)"ada@example.com";
	m.introduced.author_time = 1700000000;
	c.metadata = meta;
	c.metadata_count = 2;
	c.duration_ms = 41;
	c.planned = 3;
	c.done = 2;
	c.dry_run = true;

	ck_assert_int_eq(cairn_hook_context_to_json(&json, &c), 0);
	root = json_loads(json, 0, &jerr);
	ck_assert_msg(root != NULL, "bad JSON: %s", jerr.text);
	ck_assert_str_eq(json_string_value(json_object_get(root, "event")),
			 "post_execute");
	ck_assert_str_eq(json_string_value(json_object_get(root, "environment")),
			 "production");
	ck_assert_str_eq(json_string_value(json_object_get(root, "run_id")),
			 "run-1");
	ck_assert_str_eq(json_string_value(json_object_get(root, "direction")),
			 "up");
	ck_assert_str_eq(json_string_value(json_object_get(root, "status")),
			 "applied");
	ck_assert_int_eq(json_integer_value(json_object_get(root, "duration_ms")),
			 41);
	ck_assert(json_is_null(json_object_get(root, "error")));
	ck_assert_str_eq(json_string_value(json_object_get(
		json_object_get(root, "metadata"), "ticket")), "OPS-1");
	ck_assert_str_eq(json_string_value(json_object_get(root, "deploy_ref")),
			 "refs/heads/main");
	ck_assert_str_eq(json_string_value(json_object_get(root, "actor")),
			 "Dev <dev@example.com>");
	ck_assert_str_eq(json_string_value(json_object_get(root, "database")),
			 "app@localhost:5432/app");
	ck_assert_int_eq(json_integer_value(json_object_get(root, "planned")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "done")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "failed")), 0);
	ck_assert(json_is_true(json_object_get(root, "dry_run")));

	mig = json_object_get(root, "migration");
	ck_assert(json_is_object(mig));
	ck_assert_str_eq(json_string_value(json_object_get(mig, "version")), "3");
	ck_assert_str_eq(json_string_value(json_object_get(mig, "version_text")),
			 "0003");
	ck_assert_str_eq(json_string_value(json_object_get(mig, "name")),
			 "add_index");
	ck_assert_str_eq(json_string_value(json_object_get(mig, "file")),
			 "db/migrations/sub/0003_add_index.up.sql");
	ck_assert_str_eq(json_string_value(json_object_get(mig, "checksum")),
			 "abcd");
	ck_assert_str_eq(json_string_value(json_object_get(mig, "subdir")), "sub");
	intro = json_object_get(mig, "introduced_by");
	ck_assert_str_eq(json_string_value(json_object_get(intro, "author_name")),
			 "Ada");
	ck_assert_str_eq(json_string_value(json_object_get(intro, "authored_at")),
			 "2023-11-14T22:13:20Z");
	ck_assert(json_is_null(json_object_get(mig, "last_changed_by")));
	json_decref(root);
	free(json);
}
END_TEST

START_TEST(test_context_json_run_level_and_error)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_ON_ERROR, NULL);
	json_t *root, *err;
	char *json = NULL;

	cairn_error_set(CAIRN_ERRCLASS_SQL, "relation \"x\" does not exist");
	cairn_error_set_detail("the statement was: SELECT 1 FROM x");
	cairn_error_set_sqlstate("42P01");
	c.error = cairn_error_last();
	c.status = "failed";
	c.deploy_ref = NULL;
	ck_assert_int_eq(cairn_hook_context_to_json(&json, &c), 0);
	root = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_is_null(json_object_get(root, "migration")));
	ck_assert(json_is_null(json_object_get(root, "deploy_ref")));
	err = json_object_get(root, "error");
	ck_assert_str_eq(json_string_value(json_object_get(err, "message")),
			 "relation \"x\" does not exist");
	ck_assert_str_eq(json_string_value(json_object_get(err, "detail")),
			 "the statement was: SELECT 1 FROM x");
	ck_assert(json_is_null(json_object_get(err, "hint")));
	ck_assert_str_eq(json_string_value(json_object_get(err, "sqlstate")),
			 "42P01");
	ck_assert(json_is_object(json_object_get(root, "metadata")));
	json_decref(root);
	free(json);
}
END_TEST

START_TEST(test_context_json_bad_utf8)
{
	cairn_migration m = make_mig("0001", "1", "caf\xe9_\xff",
				     "db/migrations/0001_caf\xe9.up.sql");
	cairn_kv meta[] = { { (char *)"k\xc3", (char *)"v\x80" } };
	cairn_hook_context c = make_ctx(CAIRN_EVENT_PRE_EXECUTE, &m);
	json_t *root, *mig;
	char *json = NULL;

	m.has_provenance = true;
	memcpy(m.introduced.sha, "22", 3);
	m.introduced.author_name = (char *)"J\xf6rg \"quoted\"\nnewline";
	m.introduced.author_email = (char *)"\xc3\x28@example.com";
	c.metadata = meta;
	c.metadata_count = 1;
	c.actor = "Zo\xc3\xab <zoe@example.com>"; /* valid UTF-8 stays */
	ck_assert_int_eq(cairn_hook_context_to_json(&json, &c), 0);
	root = json_loads(json, 0, NULL);
	ck_assert_msg(root != NULL, "not valid JSON: %s", json);
	mig = json_object_get(root, "migration");
	ck_assert_str_eq(json_string_value(json_object_get(mig, "name")),
			 "caf\\xE9_\\xFF");
	ck_assert_str_eq(json_string_value(json_object_get(mig, "file")),
			 "db/migrations/0001_caf\\xE9.up.sql");
	ck_assert_str_eq(json_string_value(json_object_get(
		json_object_get(mig, "introduced_by"), "author_name")),
		"J\\xF6rg \"quoted\"\nnewline");
	ck_assert_str_eq(json_string_value(json_object_get(
		json_object_get(mig, "introduced_by"), "author_email")),
		"\\xC3(@example.com");
	ck_assert_str_eq(json_string_value(json_object_get(
		json_object_get(root, "metadata"), "k\\xC3")), "v\\x80");
	ck_assert_str_eq(json_string_value(json_object_get(root, "actor")),
			 "Zo\xc3\xab <zoe@example.com>");
	json_decref(root);
	free(json);
}
END_TEST

static const char *env_get(const cairn_strvec *v, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < v->count; i++)
		if (!strncmp(v->items[i], key, kl) && v->items[i][kl] == '=')
			return v->items[i] + kl + 1;
	return NULL;
}

START_TEST(test_context_env)
{
	cairn_migration m = make_mig("0007", "7", "x",
				     "db/migrations/0007_x.up.sql");
	cairn_kv meta[] = { { (char *)"ticket-id", (char *)"OPS 1" },
			    { (char *)"a.b", (char *)"$(touch nope)" } };
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_ROLLBACK, &m);
	cairn_strvec env = CAIRN_STRVEC_INIT;

	m.down_path = (char *)"db/migrations/0007_x.down.sql";
	m.has_provenance = true;
	memcpy(m.introduced.sha, "cafe", 5);
	m.introduced.author_name = (char *)"A; rm -rf x";
	m.introduced.author_email = (char *)"a@b";
	c.direction = "down";
	c.status = "rolled_back";
	c.duration_ms = 12;
	c.metadata = meta;
	c.metadata_count = 2;
	ck_assert_int_eq(cairn_hook__env(&env, &c), 0);
	ck_assert_str_eq(env_get(&env, "CAIRN_EVENT"), "post_rollback");
	ck_assert_str_eq(env_get(&env, "CAIRN_ENV"), "production");
	ck_assert_str_eq(env_get(&env, "CAIRN_RUN_ID"), "run-1");
	ck_assert_str_eq(env_get(&env, "CAIRN_DIRECTION"), "down");
	ck_assert_str_eq(env_get(&env, "CAIRN_MIGRATION_VERSION"), "7");
	ck_assert_str_eq(env_get(&env, "CAIRN_MIGRATION_NAME"), "x");
	ck_assert_str_eq(env_get(&env, "CAIRN_MIGRATION_FILE"),
			 "db/migrations/0007_x.down.sql");
	ck_assert_str_eq(env_get(&env, "CAIRN_MIGRATION_CHECKSUM"), "");
	ck_assert_str_eq(env_get(&env, "CAIRN_COMMIT"), "cafe");
	ck_assert_str_eq(env_get(&env, "CAIRN_AUTHOR_NAME"), "A; rm -rf x");
	ck_assert_str_eq(env_get(&env, "CAIRN_AUTHOR_EMAIL"), "a@b");
	ck_assert_str_eq(env_get(&env, "CAIRN_STATUS"), "rolled_back");
	ck_assert_str_eq(env_get(&env, "CAIRN_DURATION_MS"), "12");
	ck_assert_str_eq(env_get(&env, "CAIRN_ERROR"), "");
	ck_assert_str_eq(env_get(&env, "CAIRN_DEPLOY_REV"), "abc");
	ck_assert_str_eq(env_get(&env, "CAIRN_DEPLOY_REF"), "refs/heads/main");
	ck_assert_str_eq(env_get(&env, "CAIRN_ACTOR"), "Dev <dev@example.com>");
	ck_assert_str_eq(env_get(&env, "CAIRN_DRY_RUN"), "0");
	ck_assert_str_eq(env_get(&env, "CAIRN_META_TICKET_ID"), "OPS 1");
	ck_assert_str_eq(env_get(&env, "CAIRN_META_A_B"), "$(touch nope)");
	ck_assert_ptr_null(env.items[env.count]);
	cairn_strvec_dispose(&env);

	/* run level: migration variables exist and are empty */
	c = make_ctx(CAIRN_EVENT_PRE_VALIDATE, NULL);
	ck_assert_int_eq(cairn_hook__env(&env, &c), 0);
	ck_assert_str_eq(env_get(&env, "CAIRN_MIGRATION_NAME"), "");
	ck_assert_str_eq(env_get(&env, "CAIRN_COMMIT"), "");
	cairn_strvec_dispose(&env);
}
END_TEST

START_TEST(test_hook_log)
{
	cairn_hook_context c = make_ctx(CAIRN_EVENT_POST_COMPLETE, NULL);

	/* no log function: nothing happens */
	cairn_hook_log(&c, "x", "text");
	cairn_hook_log(NULL, "x", "text");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Plugin API and building from configuration                         */

static int fake_init_calls;
static char fake_opts[256];

static int fake_init(const cairn_plugin_api *api)
{
	cairn_hook h;
	const char *keys[] = { "metrics_file", "path", "refs", "workdir" };

	fake_init_calls++;
	ck_assert_uint_eq(api->api_version, CAIRN_PLUGIN_API_VERSION);
	ck_assert_str_eq(api->cairn_version, CAIRN_VERSION);
	ck_assert_ptr_nonnull(api->spec);
	fake_opts[0] = '\0';
	for (size_t i = 0; i < 4; i++) {
		const char *v = cairn_plugin_option(api, keys[i]);
		size_t n = strlen(fake_opts);

		snprintf(fake_opts + n, sizeof(fake_opts) - n, "%s=%s;",
			 keys[i], v ? v : "-");
	}
	ck_assert_ptr_null(cairn_plugin_option(api, "nope"));
	ck_assert_str_eq(api->event_name(CAIRN_EVENT_ON_ERROR), "on_error");
	cairn_hook_from_spec(&h, api->spec);
	h.fn = rec_ok;
	h.payload = "fake";
	return api->add_hook(api->pipeline, &h, NULL);
}

static int failing_init(const cairn_plugin_api *api)
{
	return api->set_error(CAIRN_ERRCLASS_HOOK, "no %s today", "luck");
}

static const cairn_builtin fake_builtins[] = {
	{ "log", "fake log", fake_init },
	{ "allowed-refs", "fake refs", fake_init },
	{ "lint", "fails", failing_init },
};

static cairn_config *parse(const char *yaml)
{
	cairn_config *cfg = NULL;
	int rc = cairn_config_parse(&cfg, "cairn.yaml", yaml, strlen(yaml),
				    NULL);

	ck_assert_msg(rc == 0, "config: %s", cairn_error_last() ?
		      cairn_error_last()->message : "?");
	return cfg;
}

static int build(const char *yaml, const char *workdir)
{
	cairn_hooks_build_options o = CAIRN_HOOKS_BUILD_OPTIONS_INIT;
	cairn_config *cfg = parse(yaml);
	int rc;

	o.builtins = fake_builtins;
	o.builtins_count = CAIRN_ARRAY_SIZE(fake_builtins);
	o.workdir = workdir;
	rc = cairn_hooks_build(pl, cfg, &o);
	cairn_config_free(cfg);
	return rc;
}

START_TEST(test_build_from_config)
{
	char *dir = tu_mkdtemp();
	const cairn_hook *h;

	tu_write(dir, "checks/users.sql", "SELECT count(*) FROM users");
	fake_init_calls = 0;
	ck_assert_int_eq(build(
		"environments:\n"
		"  production: {}\n"
		"hooks:\n"
		"  post_execute:\n"
		"    - sql: SELECT 1\n"
		"      name: one\n"
		"      expect: true\n"
		"    - run: [bin/tool, --fast]\n"
		"      on_failure: warn\n"
		"      timeout: 10s\n"
		"      only: { environments: [production], migrations: ['*users*'] }\n"
		"    - sql_file: checks/users.sql\n"
		"      expect: 0\n"
		"    - run: \"echo hi\"\n"
		"  on_error:\n"
		"    - builtin: log\n"
		"      path: logs/x.jsonl\n"
		"      on_failure: ignore\n"
		"    - builtin: allowed-refs\n"
		"      refs: [refs/heads/main, refs/tags/v*]\n", dir), 0);
	ck_assert_int_eq(fake_init_calls, 2);

	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_EXECUTE), 4);
	h = hook_at(CAIRN_EVENT_POST_EXECUTE, 0);
	ck_assert_str_eq(h->name, "one");
	ck_assert_str_eq(h->kind, "sql");
	ck_assert(h->in_transaction);
	h = hook_at(CAIRN_EVENT_POST_EXECUTE, 1);
	ck_assert_str_eq(h->kind, "exec");
	ck_assert(!h->in_transaction);
	ck_assert_int_eq(h->on_failure, CAIRN_ON_FAILURE_WARN);
	ck_assert_uint_eq(h->timeout_ms, 10000);
	ck_assert_str_eq(h->only_environments[0], "production");
	ck_assert_ptr_null(h->only_environments[1]);
	ck_assert_str_eq(h->only_migrations[0], "*users*");
	h = hook_at(CAIRN_EVENT_POST_EXECUTE, 2);
	ck_assert_str_eq(h->kind, "sql");
	ck_assert_ptr_null(h->only_environments);
	h = hook_at(CAIRN_EVENT_POST_EXECUTE, 3);
	ck_assert_str_eq(h->kind, "exec");

	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_ON_ERROR), 2);
	h = hook_at(CAIRN_EVENT_ON_ERROR, 0);
	ck_assert_str_eq(h->name, "builtin:log");
	ck_assert_str_eq(h->kind, "builtin");
	ck_assert_int_eq(h->on_failure, CAIRN_ON_FAILURE_IGNORE);
	/* the last init saw allowed-refs' options */
	ck_assert(tu_contains(fake_opts,
			      "refs=refs/heads/main,refs/tags/v*;"));
	ck_assert(tu_contains(fake_opts, "path=-;"));
	ck_assert(tu_contains(fake_opts, "workdir="));
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_build_builtin_options)
{
	ck_assert_int_eq(build("hooks:\n"
			       "  on_error:\n"
			       "    - builtin: log\n"
			       "      path: out.jsonl\n", "/srv/repo"), 0);
	ck_assert_str_eq(fake_opts, "metrics_file=-;path=out.jsonl;refs=-;"
				    "workdir=/srv/repo;");
	ck_assert_int_eq(build("hooks:\n"
			       "  on_error:\n"
			       "    - builtin: log\n", NULL), 0);
	ck_assert_str_eq(fake_opts, "metrics_file=-;path=-;refs=-;workdir=-;");
}
END_TEST

START_TEST(test_build_unknown_builtin)
{
	const cairn_error *e;

	ck_assert_int_eq(build("hooks:\n"
			       "  post_complete:\n"
			       "    - builtin: log\n"
			       "    - builtin: metrics\n", NULL), CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert_str_eq(e->message, "cairn.yaml:4:7: unknown builtin 'metrics'");
	ck_assert_str_eq(e->hint, "known builtins: log, allowed-refs, lint");
}
END_TEST

START_TEST(test_build_failing_builtin)
{
	const cairn_error *e;

	ck_assert_int_eq(build("hooks:\n"
			       "  pre_validate:\n"
			       "    - builtin: lint\n", NULL), CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert_str_eq(e->message, "cairn.yaml:3:7: cannot set up builtin "
				     "'lint': no luck today");
}
END_TEST

START_TEST(test_build_missing_sql_file)
{
	char *dir = tu_mkdtemp();
	const cairn_error *e;

	ck_assert_int_eq(build("hooks:\n"
			       "  post_execute:\n"
			       "    - sql_file: checks/missing.sql\n", dir),
			 CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert_msg(tu_contains(e->message, "cairn.yaml:3:7: cannot read "
				  "sql_file 'checks/missing.sql'"), "%s",
		      e->message);
	ck_assert(tu_contains(e->message, "No such file"));
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_EXECUTE), 0);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_build_webhook_and_plugin_kinds)
{
	/* a webhook registers one hook at its event */
	ck_assert_int_eq(build("hooks:\n"
			       "  post_complete:\n"
			       "    - webhook: https://example.com/x\n", NULL), 0);
	ck_assert_uint_eq(n_hooks(CAIRN_EVENT_POST_COMPLETE), 1);
	/* a plugin that is not there is a configuration error at its place */
	ck_assert_int_eq(build("hooks:\n"
			       "  post_complete:\n"
			       "    - plugin: ./no-such-plugin.so\n", NULL),
			 CAIRN_ERROR);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert_msg(tu_contains(cairn_error_last()->message, "cairn.yaml:3:7: "),
		      "%s", cairn_error_last()->message);
}
END_TEST

START_TEST(test_build_options_version)
{
	cairn_hooks_build_options o = CAIRN_HOOKS_BUILD_OPTIONS_INIT;
	cairn_config *cfg = parse("hooks: {}\n");

	ck_assert_int_eq(cairn_hooks_build(pl, cfg, NULL), 0);
	o.version = 99;
	ck_assert_int_eq(cairn_hooks_build(pl, cfg, &o), CAIRN_ERROR);
	cairn_config_free(cfg);
}
END_TEST

START_TEST(test_hook_from_spec)
{
	cairn_config *cfg = parse(
		"environments:\n"
		"  staging: {}\n"
		"hooks:\n"
		"  pre_rollback:\n"
		"    - run: [x]\n"
		"      name: gate\n"
		"      on_failure: warn\n"
		"      timeout: 500ms\n"
		"      only: { environments: [staging] }\n");
	cairn_hook h;

	cairn_hook_from_spec(&h, &cfg->hooks[0]);
	ck_assert_str_eq(h.name, "gate");
	ck_assert_str_eq(h.kind, "exec");
	ck_assert_int_eq(h.event, CAIRN_EVENT_PRE_ROLLBACK);
	ck_assert_int_eq(h.on_failure, CAIRN_ON_FAILURE_WARN);
	ck_assert_uint_eq(h.timeout_ms, 500);
	ck_assert_str_eq(h.only_environments[0], "staging");
	ck_assert_ptr_null(h.only_environments[1]);
	ck_assert_ptr_null(h.only_migrations);
	ck_assert_ptr_null(h.fn);
	ck_assert_uint_eq(h.version, CAIRN_HOOK_VERSION);
	cairn_config_free(cfg);
}
END_TEST

static Suite *pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("dispatch");
	TCase *tj = tcase_create("context");
	TCase *tb = tcase_create("build");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_add_copies_strings);
	tcase_add_test(tc, test_add_rejects);
	tcase_add_test(tc, test_remove_and_clear);
	tcase_add_test(tc, test_free_calls_free_payload);
	tcase_add_test(tc, test_object_hooks);
	tcase_add_test(tc, test_abort_vetoes);
	tcase_add_test(tc, test_abort_silent_failure_still_named);
	tcase_add_test(tc, test_abort_at_non_veto_event);
	tcase_add_test(tc, test_warn_and_ignore);
	tcase_add_test(tc, test_only_environments);
	tcase_add_test(tc, test_only_migrations);
	tcase_add_test(tc, test_transaction_phases);
	tcase_add_test(tc, test_observer);
	tcase_add_test(tc, test_fire_unknown_event);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tj, setup, teardown);
	tcase_add_test(tj, test_context_json);
	tcase_add_test(tj, test_context_json_run_level_and_error);
	tcase_add_test(tj, test_context_json_bad_utf8);
	tcase_add_test(tj, test_context_env);
	tcase_add_test(tj, test_hook_log);
	suite_add_tcase(s, tj);

	tcase_add_checked_fixture(tb, setup, teardown);
	tcase_add_test(tb, test_build_from_config);
	tcase_add_test(tb, test_build_builtin_options);
	tcase_add_test(tb, test_build_unknown_builtin);
	tcase_add_test(tb, test_build_failing_builtin);
	tcase_add_test(tb, test_build_missing_sql_file);
	tcase_add_test(tb, test_build_webhook_and_plugin_kinds);
	tcase_add_test(tb, test_build_options_version);
	tcase_add_test(tb, test_hook_from_spec);
	suite_add_tcase(s, tb);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pipeline_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
