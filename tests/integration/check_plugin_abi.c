/*
 * check_plugin_abi.c - the plugin ABI and the versioned public structs.
 *
 *  - plugins: one built for plugin API version 1 (tests/plugins/abi_v1.c,
 *    reading the table through the frozen version-1 layout) still loads
 *    and runs; one declaring a newer version (abi_future.c) or version 0
 *    (abi_zero.c) is refused before any of its code runs; the example
 *    plugin refuses, cleanly, a table too small for what it uses
 *    (CAIRN_PLUGIN_API_HAS) and works with the full one;
 *  - api->resolve_path: below the work tree, never above it;
 *  - options structs: version 0 and current+1 are refused by every
 *    function that takes one, with "NAME version N is not supported
 *    (1..M)"; version 1 is accepted;
 *  - the public headers: compiled as C89 -pedantic and, when g++ is
 *    installed, as C++ (whose object must call the unmangled names);
 *  - the cairn binary exports nothing of the library (nm -D);
 *  - the built-ins in hooks/ reach the library only through the table:
 *    compiled alone, they leave no cairn_ symbol undefined.
 *
 * The test plugins are built by `make plugins` into
 * $CAIRN_BUILD/tests/plugins/ (tests/run exports CAIRN_BUILD).
 */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/cairn.h"
#include "hook_kinds_ext.h"
#include "testutil.h"

static cairn_pipeline *pl;
static char *tmp;
static char logpath[600];

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
	snprintf(logpath, sizeof(logpath), "%s/abi.log", tmp);
	setenv("CAIRN_ABI_TEST_LOG", logpath, 1);
	ck_assert_int_eq(cairn_pipeline_new(&pl), 0);
}

static void teardown(void)
{
	cairn_pipeline_free(pl);
	pl = NULL;
	unsetenv("CAIRN_ABI_TEST_LOG");
	unsetenv("CAIRN_EXAMPLE_PLUGIN_LOG");
	tu_rmrf(tmp);
	free(tmp);
	tmp = NULL;
	cairn_error_clear();
}

/* $CAIRN_BUILD/<rel>, which must exist (built by make plugins). */
static const char *built(char *buf, size_t n, const char *rel)
{
	snprintf(buf, n, "%s/%s", build_dir(), rel);
	ck_assert_msg(access(buf, R_OK) == 0,
		      "%s is missing: run `make plugins` first", buf);
	return buf;
}

static cairn_hook_spec make_spec(const char *plugin)
{
	cairn_hook_spec s;

	memset(&s, 0, sizeof(s));
	s.event = CAIRN_EVENT_POST_COMPLETE;
	s.kind = CAIRN_HOOK_PLUGIN;
	s.name = (char *)"plugin:abi";
	s.on_failure = CAIRN_ON_FAILURE_ABORT;
	s.timeout_ms = 30000;
	s.plugin = (char *)plugin;
	return s;
}

static void fire(cairn_event ev)
{
	cairn_hook_context c;

	memset(&c, 0, sizeof(c));
	c.version = 1;
	c.event = ev;
	c.environment = "test";
	c.run_id = "r1";
	c.direction = "up";
	ck_assert_int_eq(cairn_pipeline_fire(pl, &c, CAIRN_FIRE_ALL, NULL), 0);
}

START_TEST(test_v1_plugin_still_loads)
{
	char path[600];
	cairn_hook_spec s = make_spec(built(path, sizeof(path),
					    "tests/plugins/abi_v1.so"));
	char *log;

	ck_assert_msg(cairn_hook__register_plugin(pl, &s, NULL) == 0,
		      "refused: %s", cairn_error_last()->message);
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_POST_COMPLETE),
			  1);
	fire(CAIRN_EVENT_POST_COMPLETE);
	log = tu_read(tmp, "abi.log");
	/* it saw the version it declared, not the host's */
	ck_assert_str_eq(log, "v1 post_complete 1\n");
	free(log);
}
END_TEST

static void check_refused(const char *so, unsigned version)
{
	char path[600], want[80];
	cairn_hook_spec s = make_spec(built(path, sizeof(path), so));
	const cairn_error *e;

	ck_assert_int_eq(cairn_hook__register_plugin(pl, &s, NULL),
			 CAIRN_ERROR);
	e = cairn_error_last();
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_CONFIG);
	snprintf(want, sizeof(want),
		 "plugin API version %u is not supported (1..%u)", version,
		 CAIRN_PLUGIN_API_VERSION);
	ck_assert_msg(tu_contains(e->message, want) &&
		      tu_contains(e->message, so),
		      "message: %s", e->message);
	ck_assert(tu_contains(e->hint, "rebuild the plugin"));
	/* none of its code ran, nothing registered */
	ck_assert_int_ne(access(logpath, F_OK), 0);
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++)
		ck_assert_uint_eq(cairn_pipeline_count(pl, (cairn_event)ev), 0);
}

START_TEST(test_newer_plugin_refused)
{
	check_refused("tests/plugins/abi_future.so",
		      CAIRN_PLUGIN_API_VERSION + 1);
}
END_TEST

START_TEST(test_version_zero_plugin_refused)
{
	check_refused("tests/plugins/abi_zero.so", 0);
}
END_TEST

/* The example plugin's init, called directly with a table we shape. */
static int call_example(cairn_plugin_api *api, void **handle)
{
	char path[600];
	void *sym;
	cairn_plugin_init_fn init;

	*handle = dlopen(built(path, sizeof(path),
			       "plugins/example_plugin.so"),
			 RTLD_NOW | RTLD_LOCAL);
	ck_assert_ptr_nonnull(*handle);
	sym = dlsym(*handle, CAIRN_PLUGIN_DEFAULT_SYMBOL);
	ck_assert_ptr_nonnull(sym);
	memcpy(&init, &sym, sizeof(init));
	return init(api);
}

START_TEST(test_table_size_is_honoured)
{
	cairn_plugin_api api;
	cairn_kv opt = { (char *)"workdir", tmp };
	void *handle;
	char *log;

	setenv("CAIRN_EXAMPLE_PLUGIN_LOG", "events.log", 1);
	cairn_plugin_api_init(&api, pl, NULL, &opt, 1);
	ck_assert_uint_eq(api.size, sizeof(cairn_plugin_api));
	ck_assert(CAIRN_PLUGIN_API_HAS(&api, severity_name));
	ck_assert(CAIRN_PLUGIN_API_HAS(&api, event_name));

	/* a host whose table ends before resolve_path: refused cleanly */
	api.size = offsetof(cairn_plugin_api, resolve_path);
	ck_assert(!CAIRN_PLUGIN_API_HAS(&api, resolve_path));
	ck_assert(CAIRN_PLUGIN_API_HAS(&api, hook_from_spec));
	ck_assert_int_ne(call_example(&api, &handle), 0);
	ck_assert(tu_contains(cairn_error_last()->message,
			      "needs plugin API 2 or later"));
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_PRE_EXECUTE),
			  0);

	/* the full table: a relative log name lands below the workdir */
	api.size = sizeof(cairn_plugin_api);
	ck_assert_int_eq(call_example(&api, &handle), 0);
	ck_assert_uint_eq(cairn_pipeline_count(pl, CAIRN_EVENT_PRE_VALIDATE),
			  1);
	fire(CAIRN_EVENT_PRE_VALIDATE);
	log = tu_read(tmp, "events.log");
	ck_assert_ptr_nonnull(log);
	ck_assert_str_eq(log, "pre_validate -\n");
	free(log);
	/* the hooks' free_payload lives in the plugin: free them first */
	cairn_pipeline_clear(pl);
	dlclose(handle);
	dlclose(handle);
}
END_TEST

START_TEST(test_resolve_path)
{
	cairn_plugin_api api;
	cairn_kv opt = { (char *)"workdir", (char *)"/srv/repo/" };
	char *out = NULL;

	cairn_plugin_api_init(&api, pl, NULL, &opt, 1);
	ck_assert_int_eq(api.resolve_path(&out, &api, "logs/a.jsonl"), 0);
	ck_assert_str_eq(out, "/srv/repo/logs/a.jsonl");
	free(out);
	ck_assert_int_eq(api.resolve_path(&out, &api, "/var/log/x"), 0);
	ck_assert_str_eq(out, "/var/log/x");
	free(out);
	ck_assert_int_eq(api.resolve_path(&out, &api, "a..b/c"), 0);
	free(out);
	ck_assert_int_eq(api.resolve_path(&out, &api, "logs/../../etc/x"),
			 CAIRN_ERROR);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(cairn_error_last()->klass, CAIRN_ERRCLASS_CONFIG);
	ck_assert(tu_contains(cairn_error_last()->message,
			      "leaves the work tree"));
	ck_assert_int_eq(api.resolve_path(&out, &api, ".."), CAIRN_ERROR);
	ck_assert_int_eq(api.resolve_path(&out, &api, ""), CAIRN_ERROR);
}
END_TEST

/* The last call failed with "<name> version <v> is not supported". */
static void refused(int rc, const char *name, unsigned v)
{
	char want[120];
	const cairn_error *e = cairn_error_last();

	snprintf(want, sizeof(want), "%s version %u is not supported (1..",
		 name, v);
	ck_assert_int_eq(rc, CAIRN_ERROR);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->klass, CAIRN_ERRCLASS_USAGE);
	ck_assert_msg(tu_contains(e->message, want), "%s: %s", want,
		      e->message);
	ck_assert_ptr_nonnull(e->hint);
	cairn_error_clear();
}

/* Bad versions for one struct: 0 and one past what the library knows. */
#define BAD_VERSIONS(cur) { 0u, (cur) + 1u }

START_TEST(test_options_versions_refused)
{
	static const char yaml[] = "environments:\n  dev: {}\n";
	cairn_config *cfg = NULL;
	cairn_findings fs = CAIRN_FINDINGS_INIT;
	cairn_migration_set *set = NULL;
	cairn_range range = CAIRN_RANGE_INIT;
	cairn_prepush_result pr;
	cairn_run_result rr;
	cairn_db *db = NULL;
	char *url = NULL;

	/* version 1 is accepted (the config parses) */
	{
		cairn_config_options o = CAIRN_CONFIG_OPTIONS_INIT;

		ck_assert_int_eq(cairn_config_parse(&cfg, "c.yaml", yaml,
						    strlen(yaml), &o), 0);
	}
	for (int i = 0; i < 2; i++) {
		cairn_config_options co = CAIRN_CONFIG_OPTIONS_INIT;
		cairn_db_options dbo = CAIRN_DB_OPTIONS_INIT;
		cairn_devdb_options ddo = CAIRN_DEVDB_OPTIONS_INIT;
		cairn_hooks_build_options hbo = CAIRN_HOOKS_BUILD_OPTIONS_INIT;
		cairn_lint_options lo = CAIRN_LINT_OPTIONS_INIT;
		cairn_load_options ldo = CAIRN_LOAD_OPTIONS_INIT;
		cairn_prepush_options ppo = CAIRN_PREPUSH_OPTIONS_INIT;
		cairn_range_options ro = CAIRN_RANGE_OPTIONS_INIT;
		cairn_validate_options vo = CAIRN_VALIDATE_OPTIONS_INIT;
		cairn_run_options rno = CAIRN_RUN_OPTIONS_INIT;
		cairn_hook h = CAIRN_HOOK_INIT;
		cairn_hook_object ob = CAIRN_HOOK_OBJECT_INIT;
		cairn_push_update u;
		cairn_config *c2 = NULL;
		const unsigned cfgv[] = BAD_VERSIONS(CAIRN_CONFIG_OPTIONS_VERSION);
		const unsigned dbv[] = BAD_VERSIONS(CAIRN_DB_OPTIONS_VERSION);
		const unsigned ddv[] = BAD_VERSIONS(CAIRN_DEVDB_OPTIONS_VERSION);
		const unsigned hbv[] =
			BAD_VERSIONS(CAIRN_HOOKS_BUILD_OPTIONS_VERSION);
		const unsigned lv[] = BAD_VERSIONS(CAIRN_LINT_OPTIONS_VERSION);
		const unsigned ldv[] = BAD_VERSIONS(CAIRN_LOAD_OPTIONS_VERSION);
		const unsigned ppv[] =
			BAD_VERSIONS(CAIRN_PREPUSH_OPTIONS_VERSION);
		const unsigned rv[] = BAD_VERSIONS(CAIRN_RANGE_OPTIONS_VERSION);
		const unsigned vv[] =
			BAD_VERSIONS(CAIRN_VALIDATE_OPTIONS_VERSION);
		const unsigned rnv[] = BAD_VERSIONS(CAIRN_RUN_OPTIONS_VERSION);
		const unsigned hv[] = BAD_VERSIONS(CAIRN_HOOK_VERSION);
		const unsigned avv[] =
			BAD_VERSIONS(CAIRN_AUDIT_VERIFY_OPTIONS_VERSION);
		cairn_audit_verify_options avo =
			CAIRN_AUDIT_VERIFY_OPTIONS_INIT;
		cairn_audit_verify_result avr;

		co.version = cfgv[i];
		refused(cairn_config_parse(&c2, "c.yaml", yaml, strlen(yaml),
					   &co), "cairn_config_options",
			cfgv[i]);
		dbo.version = dbv[i];
		dbo.conninfo = "host=/nonexistent dbname=x";
		refused(cairn_db_connect(&db, &dbo), "cairn_db_options", dbv[i]);
		ddo.version = ddv[i];
		ddo.repo_workdir = tmp;
		refused(cairn_devdb_url(&url, &ddo), "cairn_devdb_options",
			ddv[i]);
		refused(cairn_devdb_stop(&ddo), "cairn_devdb_options", ddv[i]);
		hbo.version = hbv[i];
		refused(cairn_hooks_build(pl, cfg, &hbo),
			"cairn_hooks_build_options", hbv[i]);
		lo.version = lv[i];
		refused(cairn_lint_migration(&fs, NULL, &lo),
			"cairn_lint_options", lv[i]);
		refused(cairn_lint_set(&fs, NULL, &lo), "cairn_lint_options",
			lv[i]);
		ldo.version = ldv[i];
		refused(cairn_migration_set_load(&set, NULL, &ldo),
			"cairn_load_options", ldv[i]);
		ppo.version = ppv[i];
		memset(&u, 0, sizeof(u));
		refused(cairn_prepush_check(&pr, NULL, &u, &ppo),
			"cairn_prepush_options", ppv[i]);
		memset(&pr, 0, sizeof(pr));
		refused(cairn_prepush_blame(&pr, NULL, &ppo),
			"cairn_prepush_options", ppv[i]);
		refused(cairn_prepush_check_applied(&pr, NULL, &ppo, NULL,
						    "dev"),
			"cairn_prepush_options", ppv[i]);
		ro.version = rv[i];
		refused(cairn_range_changes(&range, NULL, "HEAD", &ro),
			"cairn_range_options", rv[i]);
		refused(cairn_range_diff(&range, NULL, "HEAD~1", "HEAD", &ro),
			"cairn_range_options", rv[i]);
		vo.version = vv[i];
		refused(cairn_validate_run(&fs, NULL, &vo),
			"cairn_validate_options", vv[i]);
		rno.version = rnv[i];
		refused(cairn_migrate_up(&rr, &rno), "cairn_run_options",
			rnv[i]);
		cairn_run_result_dispose(&rr);
		refused(cairn_migrate_down(&rr, &rno), "cairn_run_options",
			rnv[i]);
		cairn_run_result_dispose(&rr);
		refused(cairn_repair_accept(&rno, "1"), "cairn_run_options",
			rnv[i]);
		refused(cairn_repair_resolve(&rno, "1"), "cairn_run_options",
			rnv[i]);
		avo.version = avv[i];
		refused(cairn_audit_verify_with(&avr, NULL, &avo),
			"cairn_audit_verify_options", avv[i]);
		cairn_audit_verify_result_dispose(&avr);
		h.version = hv[i];
		h.name = "h";
		h.fn = NULL;
		refused(cairn_pipeline_add(pl, &h, NULL), "cairn_hook", hv[i]);
		ob.version = hv[i];
		refused(cairn_pipeline_add_object(pl, &ob, NULL),
			"cairn_hook_object", hv[i]);
	}
	ck_assert_ptr_null(db);
	ck_assert_ptr_null(url);
	ck_assert_ptr_null(set);
	ck_assert_uint_eq(fs.count, 0);
	cairn_config_free(cfg);
}
END_TEST

/* Every public header alone, with the given compiler command. */
static void compile_headers(const char *cmd, const char *ext,
			    const char *body)
{
	char *list = tu_sh_out(tmp, "cd '%s/include/cairn' && ls *.h",
			       src_dir());
	char *p = list;

	ck_assert_ptr_nonnull(list);
	while (p && *p) {
		char *nl = strchr(p, '\n');
		char file[64], src[512];

		if (nl)
			*nl = '\0';
		snprintf(file, sizeof(file), "h.%s", ext);
		snprintf(src, sizeof(src), "#include <cairn/%s>\n%s", p, body);
		tu_write(tmp, file, src);
		ck_assert_msg(tu_sh(tmp, "%s -I'%s/include' -c -o h.o %s", cmd,
				    src_dir(), file) == 0,
			      "%s does not compile with: %s", p, cmd);
		p = nl ? nl + 1 : NULL;
	}
	free(list);
}

START_TEST(test_headers_c89_pedantic)
{
	compile_headers("cc -std=c89 -pedantic -Wall -Wextra -Werror", "c",
			"int cairn_test_unit(void);\n"
			"int cairn_test_unit(void) { return 0; }\n");
}
END_TEST

START_TEST(test_headers_cplusplus)
{
	char *sym;

	if (tu_sh(tmp, "command -v g++ >/dev/null") != 0) {
		fprintf(stderr, "check_plugin_abi: g++ is not installed; "
			"the C++ header test is skipped\n");
		return;
	}
	compile_headers("g++ -std=c++11 -pedantic -Wall -Wextra -Werror",
			"cpp", "int main() { return cairn_version() ? 0 : 1; }\n");
	/* extern "C": the C++ object calls the C name, not a mangled one */
	tu_write(tmp, "all.cpp", "#include <cairn/cairn.h>\n"
		 "int main() { return cairn_version() ? 0 : 1; }\n");
	ck_assert_int_eq(tu_sh(tmp, "g++ -std=c++11 -I'%s/include' -c -o all.o "
			       "all.cpp", src_dir()), 0);
	sym = tu_sh_out(tmp, "nm -u all.o | grep cairn_version");
	ck_assert_ptr_nonnull(sym);
	ck_assert_msg(tu_contains(sym, " cairn_version") &&
		      !tu_contains(sym, "_Z"), "undefined: %s", sym);
	free(sym);
}
END_TEST

START_TEST(test_binary_exports_no_internals)
{
	static const char *const internal[] = {
		"cairn", "git_", "PQ", "json_", "yaml_", "curl_", "EVP_",
	};
	char *out = tu_sh_out(tmp, "nm -D --defined-only '%s' | "
			      "awk '{print $NF}'", tu_cairn_bin());
	char *p = out;

	/* never empty: the C library's copy-relocated stdout and friends */
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(*out, "nm -D printed nothing for %s", tu_cairn_bin());
	while (p && *p) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		for (size_t i = 0; i < sizeof(internal) / sizeof(*internal);
		     i++)
			ck_assert_msg(strncmp(p, internal[i],
					      strlen(internal[i])) != 0,
				      "%s exports %s", tu_cairn_bin(), p);
		p = nl ? nl + 1 : NULL;
	}
	free(out);
}
END_TEST

/*
 * The objects of hooks/ linked together (ld -r) leave no cairn_ symbol
 * undefined: what they call of cairn comes through the table.
 */
START_TEST(test_builtins_use_only_the_table)
{
	char *out;

	ck_assert_int_eq(tu_sh(tmp, "mkdir -p o && for f in '%s'/hooks/*.c; do "
			       "cc -std=c11 -D_GNU_SOURCE -I'%s/include' -c "
			       "-o o/$(basename \"$f\" .c).o \"$f\" || exit 1; "
			       "done && ld -r -o builtins.o o/*.o", src_dir(),
			       src_dir()), 0);
	out = tu_sh_out(tmp, "nm -u builtins.o | awk '{print $2}' | "
			"grep '^cairn_' || true");
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(!*out, "built-ins call the library directly:\n%s",
		      out);
	free(out);
}
END_TEST

static Suite *abi_suite(void)
{
	Suite *s = suite_create("plugin_abi");
	TCase *tc = tcase_create("plugin_abi");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_v1_plugin_still_loads);
	tcase_add_test(tc, test_newer_plugin_refused);
	tcase_add_test(tc, test_version_zero_plugin_refused);
	tcase_add_test(tc, test_table_size_is_honoured);
	tcase_add_test(tc, test_resolve_path);
	tcase_add_test(tc, test_options_versions_refused);
	tcase_add_test(tc, test_headers_c89_pedantic);
	tcase_add_test(tc, test_headers_cplusplus);
	tcase_add_test(tc, test_binary_exports_no_internals);
	tcase_add_test(tc, test_builtins_use_only_the_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(abi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
