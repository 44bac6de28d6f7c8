/*
 * check_plugin.c - the plugin hook kind with real shared objects.
 *
 * The example plugin (examples/plugin/example_plugin.c) must have been
 * built with `make plugins`; it is found as $CAIRN_BUILD/plugins/
 * example_plugin.so (tests/run exports CAIRN_BUILD; default "build").
 * The other plugins - one built for another API version, one that does
 * not declare a version, one whose init fails, one that registers an
 * object hook - are written and compiled with cc by the tests themselves
 * in a temporary directory, against the headers in $CAIRN_SRCDIR/include.
 *
 * Plugins are loaded with cairn_hook__register_plugin(), as pipeline_build.c
 * does for `plugin:` entries.  C hooks registered before and after the
 * plugin share its log file, so the log shows the order of the calls.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/hook.h"
#include "cairn/plugin.h"
#include "hook_kinds_ext.h"
#include "testutil.h"

static cairn_pipeline *pl;
static char *tmp;
static char logpath[600];
static cairn_migration mig;

static const char *build_dir(void)
{
	const char *b = getenv("CAIRN_BUILD");

	return b && *b ? b : "build";
}

static const char *src_dir(void)
{
	const char *s = getenv("CAIRN_SRCDIR");

	return s && *s ? s : ".";
}

static void setup(void)
{
	cairn_error_clear();
	tmp = tu_mkdtemp();
	snprintf(logpath, sizeof(logpath), "%s/events.log", tmp);
	setenv("CAIRN_EXAMPLE_PLUGIN_LOG", logpath, 1);
	memset(&mig, 0, sizeof(mig));
	mig.version = (char *)"1";
	mig.version_text = (char *)"0001";
	mig.name = (char *)"create_users";
	mig.subdir = (char *)"";
	mig.up_path = (char *)"db/migrations/0001_create_users.up.sql";
	ck_assert_int_eq(cairn_pipeline_new(&pl), 0);
}

static void teardown(void)
{
	cairn_pipeline_free(pl);
	pl = NULL;
	unsetenv("CAIRN_EXAMPLE_PLUGIN_LOG");
	tu_rmrf(tmp);
	free(tmp);
	tmp = NULL;
	cairn_error_clear();
}

static cairn_hook_spec make_spec(const char *plugin, const char *symbol)
{
	cairn_hook_spec s;

	memset(&s, 0, sizeof(s));
	s.event = CAIRN_EVENT_POST_COMPLETE;
	s.kind = CAIRN_HOOK_PLUGIN;
	s.name = (char *)"plugin:example";
	s.on_failure = CAIRN_ON_FAILURE_ABORT;
	s.timeout_ms = 30000;
	s.plugin = (char *)plugin;
	s.symbol = (char *)symbol;
	return s;
}

/* The example plugin's path; fails the test when it was not built. */
static const char *example_path(char *buf, size_t n)
{
	snprintf(buf, n, "%s/plugins/example_plugin.so", build_dir());
	ck_assert_msg(access(buf, R_OK) == 0,
		      "%s is missing: run `make plugins` first", buf);
	return buf;
}

/* A C hook that logs "<tag> <event>" to the plugin's log. */
static int c_hook(const cairn_hook_context *ctx, void *payload)
{
	FILE *f = fopen(logpath, "a");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s %s\n", (const char *)payload,
		cairn_event_name(ctx->event));
	fclose(f);
	return 0;
}

static void add_c_hooks(const char *tag)
{
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++) {
		cairn_hook h = CAIRN_HOOK_INIT;

		h.name = tag;
		h.event = (cairn_event)ev;
		h.fn = c_hook;
		h.payload = (void *)tag;
		ck_assert_int_eq(cairn_pipeline_add(pl, &h, NULL), 0);
	}
}

static void fire(cairn_event ev, const cairn_migration *m)
{
	cairn_hook_context c;

	memset(&c, 0, sizeof(c));
	c.version = 1;
	c.event = ev;
	c.environment = "test";
	c.run_id = "r1";
	c.direction = "up";
	c.migration = m;
	c.status = "applied";
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
}

/* Compiles tmp/<name>.c (written from src) into tmp/<name>.so. */
static void build_plugin(const char *name, const char *src)
{
	char file[128];

	snprintf(file, sizeof(file), "%s.c", name);
	tu_write(tmp, file, src);
	ck_assert_int_eq(tu_sh(tmp, "cc -std=gnu11 -Wall -Werror -shared -fPIC "
			       "-I'%s/include' -o %s.so %s.c", src_dir(),
			       name, name), 0);
}

static char *plugin_file(const char *name)
{
	char *p = malloc(strlen(tmp) + strlen(name) + 8);

	snprintf(p, strlen(tmp) + strlen(name) + 8, "%s/%s.so", tmp, name);
	return p;
}

START_TEST(test_example_in_order)
{
	char path[600];
	cairn_hook_spec s = make_spec(example_path(path, sizeof(path)), NULL);
	const cairn_hook *h;
	char *log;

	add_c_hooks("before");
	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, NULL), 0);
	add_c_hooks("after");
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++)
		ck_assert_uint_eq(cairn_pipeline_count(pl, (cairn_event)ev), 3);
	h = cairn_pipeline_get(pl, CAIRN_EVENT_PRE_EXECUTE, 1);
	ck_assert_str_eq(h->name, "plugin:example");
	ck_assert_str_eq(h->kind, "plugin");

	fire(CAIRN_EVENT_PRE_VALIDATE, NULL);
	fire(CAIRN_EVENT_PRE_EXECUTE, &mig);
	fire(CAIRN_EVENT_POST_EXECUTE, &mig);
	fire(CAIRN_EVENT_POST_COMPLETE, NULL);
	log = tu_read(tmp, "events.log");
	ck_assert_ptr_nonnull(log);
	ck_assert_str_eq(log,
		"before pre_validate\n"
		"pre_validate -\n"
		"after pre_validate\n"
		"before pre_execute\n"
		"pre_execute 0001_create_users\n"
		"after pre_execute\n"
		"before post_execute\n"
		"post_execute 0001_create_users\n"
		"after post_execute\n"
		"before post_complete\n"
		"post_complete -\n"
		"after post_complete\n");
	free(log);

	/* removing the plugin's hooks one by one unloads it at the end */
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++) {
		h = cairn_pipeline_get(pl, (cairn_event)ev, 1);
		ck_assert_str_eq(h->kind, "plugin");
	}
	cairn_pipeline_clear(pl);
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_PRE_EXECUTE), 0);
}
END_TEST

START_TEST(test_relative_to_workdir)
{
	cairn_hook_spec s = make_spec("plugins/example_plugin.so",
				      "cairn_plugin_init");
	char path[600];
	char *log;

	example_path(path, sizeof(path));
	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, build_dir()), 0);
	fire(CAIRN_EVENT_ON_ERROR, &mig);
	log = tu_read(tmp, "events.log");
	ck_assert_str_eq(log, "on_error 0001_create_users\n");
	free(log);

	/* two loads of one file are two independent registrations */
	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, build_dir()), 0);
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_ON_ERROR), 2);
}
END_TEST

START_TEST(test_example_without_log_registers_nothing)
{
	char path[600];
	cairn_hook_spec s = make_spec(example_path(path, sizeof(path)), NULL);

	unsetenv("CAIRN_EXAMPLE_PLUGIN_LOG");
	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, NULL), 0);
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++)
		ck_assert_uint_eq(cairn_pipeline_count(pl, (cairn_event)ev), 0);
}
END_TEST

START_TEST(test_version_mismatch_refused)
{
	char *file;
	cairn_hook_spec s;
	const cairn_error *e;

	build_plugin("wrong",
		"#include <stdio.h>\n"
		"#include <cairn/plugin.h>\n"
		"CAIRN_PLUGIN_EXPORT const unsigned int "
		"cairn_plugin_api_version = 999;\n"
		"int cairn_plugin_init(const cairn_plugin_api *api)\n"
		"{\n"
		"\tFILE *f = fopen(\"init-called\", \"w\");\n"
		"\t(void)api;\n"
		"\tif (f) fclose(f);\n"
		"\treturn 0;\n"
		"}\n");
	file = plugin_file("wrong");
	s = make_spec(file, NULL);
	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, NULL),
			 CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert_msg(tu_contains(e->message, "wrong.so") &&
		      tu_contains(e->message, "plugin API version 999") &&
		      tu_contains(e->message, "is not supported (1..3)"),
		      "message: %s", e->message);
	ck_assert(tu_contains(e->hint, "rebuild"));
	/* no code of the plugin ran */
	ck_assert_ptr_null(tu_read(tmp, "init-called"));
	ck_assert_int_ne(access("init-called", F_OK), 0);
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_POST_COMPLETE),
			  0);
	free(file);
}
END_TEST

START_TEST(test_missing_version_refused)
{
	char *file;
	cairn_hook_spec s;
	const cairn_error *e;

	build_plugin("nover",
		"#include <cairn/plugin.h>\n"
		"int cairn_plugin_init(const cairn_plugin_api *api)\n"
		"{\n"
		"\t(void)api;\n"
		"\treturn 0;\n"
		"}\n");
	file = plugin_file("nover");
	s = make_spec(file, NULL);
	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, NULL),
			 CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert_msg(tu_contains(e->message, "nover.so") &&
		      tu_contains(e->message, "does not say which plugin API"),
		      "message: %s", e->message);
	ck_assert(tu_contains(e->detail, "cairn_plugin_api_version"));
	ck_assert(tu_contains(e->hint, "CAIRN_PLUGIN_DECLARE_API_VERSION"));
	ck_assert(tu_contains(e->hint, "version 3"));
	free(file);
}
END_TEST

START_TEST(test_missing_init_refused)
{
	char path[600];
	cairn_hook_spec s = make_spec(example_path(path, sizeof(path)),
				      "no_such_init");
	const cairn_error *e;

	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, NULL),
			 CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert(tu_contains(e->message, "no init function 'no_such_init'"));
	ck_assert(tu_contains(e->detail, "no_such_init"));
	ck_assert(tu_contains(e->hint, "symbol:"));
}
END_TEST

START_TEST(test_missing_file_refused)
{
	cairn_hook_spec s = make_spec("plugins/nope.so", NULL);
	const cairn_error *e;

	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, tmp),
			 CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert(tu_contains(e->message, "cannot load plugin "
				          "'plugins/nope.so'"));
	ck_assert_msg(tu_contains(e->detail, "No such file"), "%s",
		      e->detail);

	/* a bare name is never looked up on the library path */
	s.plugin = (char *)"libc.so.6";
	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, tmp),
			 CAIRN_ERROR);
}
END_TEST

START_TEST(test_failed_init_is_undone)
{
	char *file;
	cairn_hook_spec s;
	const cairn_error *e;
	char *freed;

	build_plugin("failing",
		"#include <stdio.h>\n"
		"#include <stdlib.h>\n"
		"#include <string.h>\n"
		"#include <cairn/plugin.h>\n"
		"CAIRN_PLUGIN_DECLARE_API_VERSION;\n"
		"static int run(const cairn_hook_context *c, void *p)\n"
		"{ (void)c; (void)p; return 0; }\n"
		"static void bye(void *p)\n"
		"{\n"
		"\tFILE *f = fopen(p, \"w\");\n"
		"\tif (f) { fputs(\"freed\\n\", f); fclose(f); }\n"
		"\tfree(p);\n"
		"}\n"
		"int cairn_plugin_init(const cairn_plugin_api *api)\n"
		"{\n"
		"\tcairn_hook h = CAIRN_HOOK_INIT;\n"
		"\th.name = \"half\";\n"
		"\th.event = CAIRN_EVENT_PRE_EXECUTE;\n"
		"\th.fn = run;\n"
		"\th.payload = strdup(getenv(\"CAIRN_EXAMPLE_PLUGIN_LOG\"));\n"
		"\th.free_payload = bye;\n"
		"\tif (api->add_hook(api->pipeline, &h, NULL)) return -1;\n"
		"\treturn api->set_error(CAIRN_ERRCLASS_HOOK,\n"
		"\t\t\"needs a license key\");\n"
		"}\n");
	file = plugin_file("failing");
	s = make_spec(file, NULL);
	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, NULL),
			 CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert_msg(tu_contains(e->message, "plugin '") &&
		      tu_contains(e->message, "failing.so' failed to set up: "
				  "needs a license key"), "%s", e->message);
	/* its hook was removed (its free_payload ran) */
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_PRE_EXECUTE),
			  0);
	freed = tu_read(tmp, "events.log");
	ck_assert_ptr_nonnull(freed);
	ck_assert_str_eq(freed, "freed\n");
	free(freed);
	free(file);
}
END_TEST

START_TEST(test_object_hooks)
{
	char *file, *log;
	cairn_hook_spec s;

	build_plugin("obj",
		"#include <stdio.h>\n"
		"#include <stdlib.h>\n"
		"#include <string.h>\n"
		"#include <cairn/plugin.h>\n"
		"CAIRN_PLUGIN_DECLARE_API_VERSION;\n"
		"static const char *(*name)(cairn_event);\n"
		"static int note(const cairn_hook_context *c, void *p)\n"
		"{\n"
		"\tFILE *f = fopen(p, \"a\");\n"
		"\tif (!f) return -1;\n"
		"\tfprintf(f, \"obj %s\\n\", name(c->event));\n"
		"\treturn fclose(f);\n"
		"}\n"
		"int cairn_plugin_init(const cairn_plugin_api *api)\n"
		"{\n"
		"\tcairn_hook_object o = CAIRN_HOOK_OBJECT_INIT;\n"
		"\tif (api->api_version != CAIRN_PLUGIN_API_VERSION)\n"
		"\t\treturn -1;\n"
		"\tname = api->event_name;\n"
		"\to.name = \"obj\";\n"
		"\to.before = note;\n"
		"\to.after = note;\n"
		"\to.payload = strdup(getenv(\"CAIRN_EXAMPLE_PLUGIN_LOG\"));\n"
		"\to.free_payload = free;\n"
		"\treturn api->add_object(api->pipeline, &o, NULL);\n"
		"}\n");
	file = plugin_file("obj");
	s = make_spec(file, NULL);
	add_c_hooks("c");
	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, NULL), 0);
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_PRE_EXECUTE),
			  2);
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_ON_ERROR), 1);
	fire(CAIRN_EVENT_PRE_EXECUTE, &mig);
	fire(CAIRN_EVENT_POST_ROLLBACK, &mig);
	log = tu_read(tmp, "events.log");
	ck_assert_str_eq(log, "c pre_execute\nobj pre_execute\n"
			      "c post_rollback\nobj post_rollback\n");
	free(log);
	free(file);
	/* teardown frees the pipeline: free() runs, then dlclose */
}
END_TEST

static Suite *plugin_suite(void)
{
	Suite *s = suite_create("plugin");
	TCase *tc = tcase_create("plugin");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_example_in_order);
	tcase_add_test(tc, test_relative_to_workdir);
	tcase_add_test(tc, test_example_without_log_registers_nothing);
	tcase_add_test(tc, test_version_mismatch_refused);
	tcase_add_test(tc, test_missing_version_refused);
	tcase_add_test(tc, test_missing_init_refused);
	tcase_add_test(tc, test_missing_file_refused);
	tcase_add_test(tc, test_failed_init_is_undone);
	tcase_add_test(tc, test_object_hooks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(plugin_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
