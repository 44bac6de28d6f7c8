/*
 * check_layering.c - scripts/check-layering (run by `make check`) passes
 * on the tree, and fails, naming the file and line, on a copy of the tree
 * with one include that breaks each of its rules: util reaching above
 * util, the library reaching into the CLI, a built-in hook reaching into
 * src/, the object layer reaching into the engine, a header that is gone.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *src;

/* A copy of src/, include/ and hooks/ in a fresh directory. */
static char *copy_tree(void)
{
	char *dir = tu_mkdtemp();

	ck_assert_int_eq(tu_sh(dir, "cp -R '%s/src' '%s/include' '%s/hooks' .",
			       src, src, src), 0);
	return dir;
}

/* check-layering's exit status on root, its output in *out. */
static int layering(const char *root, char **out)
{
	char *o = tu_sh_out(root, "'%s/scripts/check-layering' . ; echo \"rc=$?\"",
			    src);

	ck_assert_ptr_nonnull(o);
	*out = o;
	return strstr(o, "rc=0") ? 0 : 1;
}

START_TEST(test_tree_follows_layering)
{
	char *out = NULL;
	char *o = tu_sh_out(src, "scripts/check-layering; echo \"rc=$?\"");

	ck_assert_ptr_nonnull(o);
	out = o;
	ck_assert_msg(strstr(out, "rc=0") != NULL, "%s", out);
	ck_assert(tu_contains(out, "includes follow the layering"));
	free(out);
}
END_TEST

static const struct breach {
	const char *file;     /* appended to */
	const char *include;  /* the bad line */
	const char *says;     /* in the report */
} breaches[] = {
	{ "src/util/buf.c", "#include \"engine/run.h\"",
	  "util includes only util" },
	{ "src/util/util.h", "#include \"db.h\"", "util includes only util" },
	{ "src/db.c", "#include \"cli/cli.h\"", "only the CLI includes src/cli/" },
	{ "src/engine/run.c", "#include \"cli/commands.h\"",
	  "only the CLI includes src/cli/" },
	{ "hooks/log.c", "#include \"util/buf.h\"",
	  "hooks include only the public headers" },
	{ "src/lint.c", "#include \"no_such_header.h\"",
	  "is not a header of this tree" },
};

START_TEST(test_each_breach_fails)
{
	const struct breach *b = &breaches[_i];
	char *dir = copy_tree();
	char *out = NULL;
	char line[256];

	ck_assert_int_eq(tu_sh(dir, "printf '%%s\\n' '%s' >> '%s'", b->include,
			       b->file), 0);
	ck_assert_int_eq(layering(dir, &out), 1);
	snprintf(line, sizeof line, "%s:", b->file);
	ck_assert_msg(tu_contains(out, line), "%s not named: %s", b->file, out);
	ck_assert_msg(tu_contains(out, b->says), "expected '%s': %s", b->says,
		      out);
	free(out);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_git_layer_stays_below_engine)
{
	char *dir = copy_tree();
	char *out = NULL;

	ck_assert_int_eq(tu_sh(dir, "mkdir -p src/git && "
				    "printf '#include \"engine/run.h\"\\n' > src/git/x.c"),
			 0);
	ck_assert_int_eq(layering(dir, &out), 1);
	ck_assert(tu_contains(out, "src/git/x.c:1:"));
	ck_assert(tu_contains(out, "git includes only util, git"));
	free(out);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("layering");
	TCase *tc = tcase_create("layering");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tree_follows_layering);
	tcase_add_loop_test(tc, test_each_breach_fails, 0,
			    (int)(sizeof breaches / sizeof breaches[0]));
	tcase_add_test(tc, test_git_layer_stays_below_engine);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	src = getenv("CAIRN_SRCDIR");
	if (!src)
		src = ".";
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
