/*
 * check_fileio.c - unit tests for whole-file reads and writes
 * (src/util/fileio.c): the size bound (exactly max is read, one byte more
 * fails with EFBIG and nothing is read past it), O_NOFOLLOW and
 * regular-only reads (a planted link or FIFO is refused without hanging),
 * and replacement by a temporary file and rename (a link at the name is
 * replaced, never written through; a failure leaves the old file and no
 * temporary file; the exact mode and an owner are applied).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "util/buf.h"
#include "util/fileio.h"

static char dir[] = "/tmp/cairn-fileio-XXXXXX";
static int dfd = -1;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", "/tmp/cairn-fileio-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
}

static void teardown(void)
{
	char cmd[128];

	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(cairn__write_all(fd, text, strlen(text)), 0);
	close(fd);
}

/* How many entries the directory holds (not . and ..). */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

START_TEST(test_read_bound)
{
	cairn_buf b = CAIRN_BUF_INIT;

	put("f", "0123456789");
	ck_assert_int_eq(cairn__file_read(dfd, "f", 0, 10, &b), 0);
	ck_assert_str_eq(b.ptr, "0123456789");
	cairn_buf_dispose(&b);

	/* fstat says too big: refused before reading */
	ck_assert_int_eq(cairn__file_read(dfd, "f", 0, 9, &b), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_uint_eq(b.size, 0);
	cairn_buf_dispose(&b);

	/* empty file */
	put("e", "");
	ck_assert_int_eq(cairn__file_read(dfd, "e", 0, 0, &b), 0);
	ck_assert_uint_eq(b.size, 0);
	ck_assert_str_eq(b.ptr, "");
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_fd_read_bound_on_a_pipe)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int p[2];

	/* a pipe has no size: the bound is found while reading */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(cairn__write_all(p[1], "abcdef", 6), 0);
	close(p[1]);
	ck_assert_int_eq(cairn__fd_read_all(p[0], 4, &b), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_str_eq(b.ptr, "abcd");
	close(p[0]);
	cairn_buf_dispose(&b);

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(cairn__write_all(p[1], "abcd", 4), 0);
	close(p[1]);
	ck_assert_int_eq(cairn__fd_read_all(p[0], 4, &b), 0);
	ck_assert_str_eq(b.ptr, "abcd");
	close(p[0]);
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_read_large_appends)
{
	cairn_buf b = CAIRN_BUF_INIT;
	size_t n = 200000, i;
	char *big = malloc(n + 1);
	int fd;

	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	fd = openat(dfd, "big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_eq(cairn__write_all(fd, big, n), 0);
	close(fd);
	ck_assert_int_eq(cairn_buf_puts(&b, "head:"), 0);
	ck_assert_int_eq(cairn__file_read(dfd, "big", 0, n, &b), 0);
	ck_assert_uint_eq(b.size, n + 5);
	ck_assert(memcmp(b.ptr + 5, big, n) == 0);
	cairn_buf_dispose(&b);
	free(big);
}
END_TEST

START_TEST(test_nofollow_and_regular)
{
	cairn_buf b = CAIRN_BUF_INIT;

	put("target", "secret");
	ck_assert_int_eq(symlinkat("target", dfd, "link"), 0);
	ck_assert_int_eq(cairn__file_read(dfd, "link", 0, 100, &b), 0);
	ck_assert_str_eq(b.ptr, "secret");
	cairn_buf_dispose(&b);
	ck_assert_int_eq(cairn__file_read(dfd, "link", CAIRN_FILE_NOFOLLOW,
					  100, &b), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_uint_eq(b.size, 0);

	/* a FIFO: refused at once, never waited on */
	ck_assert_int_eq(mkfifoat(dfd, "fifo", 0600), 0);
	ck_assert_int_eq(cairn__file_read(dfd, "fifo", CAIRN_FILE_REGULAR,
					  100, &b), -1);
	ck_assert_int_eq(errno, EINVAL);

	ck_assert_int_eq(mkdirat(dfd, "sub", 0700), 0);
	ck_assert_int_eq(cairn__file_read(dfd, "sub", 0, 100, &b), -1);
	ck_assert_int_eq(errno, EISDIR);
	ck_assert_int_eq(cairn__file_read(dfd, "absent", 0, 100, &b), -1);
	ck_assert_int_eq(errno, ENOENT);
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_replace_is_atomic_and_never_through_a_link)
{
	cairn_buf b = CAIRN_BUF_INIT;
	struct stat st;

	put("victim", "keep me");
	ck_assert_int_eq(symlinkat("victim", dfd, "out"), 0);
	ck_assert_int_eq(cairn__file_replace(dfd, "out", "new", 3, 0600, 0), 0);
	/* the link was replaced; its target is untouched */
	ck_assert_int_eq(fstatat(dfd, "out", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(cairn__file_read(dfd, "victim", 0, 100, &b), 0);
	ck_assert_str_eq(b.ptr, "keep me");
	cairn_buf_clear(&b);
	ck_assert_int_eq(cairn__file_read(dfd, "out", 0, 100, &b), 0);
	ck_assert_str_eq(b.ptr, "new");
	cairn_buf_dispose(&b);
	ck_assert_int_eq(entries(), 2); /* victim, out: no temporary left */
}
END_TEST

START_TEST(test_replace_failure_leaves_the_old_file)
{
	cairn_buf b = CAIRN_BUF_INIT;

	/* a directory at the name: rename fails, the temp file goes */
	ck_assert_int_eq(mkdirat(dfd, "d", 0700), 0);
	put("d/x", "in the way");
	ck_assert_int_eq(cairn__file_replace(dfd, "d", "data", 4, 0600,
					     CAIRN_FILE_SYNC), -1);
	ck_assert_int_eq(entries(), 1);
	ck_assert_int_eq(cairn__file_read(dfd, "d/x", 0, 100, &b), 0);
	ck_assert_str_eq(b.ptr, "in the way");
	cairn_buf_dispose(&b);
}
END_TEST

START_TEST(test_replace_exact_mode)
{
	struct stat st;
	mode_t old = umask(077);

	ck_assert_int_eq(cairn__file_replace(dfd, "masked", "x", 1, 0755, 0),
			 0);
	ck_assert_int_eq(fstatat(dfd, "masked", &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(cairn__file_replace(dfd, "exact", "x", 1, 0755,
					     CAIRN_FILE_EXACT_MODE), 0);
	ck_assert_int_eq(fstatat(dfd, "exact", &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0755);
	umask(old);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fileio");
	TCase *tc = tcase_create("fileio");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_read_bound);
	tcase_add_test(tc, test_fd_read_bound_on_a_pipe);
	tcase_add_test(tc, test_read_large_appends);
	tcase_add_test(tc, test_nofollow_and_regular);
	tcase_add_test(tc, test_replace_is_atomic_and_never_through_a_link);
	tcase_add_test(tc, test_replace_failure_leaves_the_old_file);
	tcase_add_test(tc, test_replace_exact_mode);
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
