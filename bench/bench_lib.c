/*
 * bench_lib.c - in-process measurements for scripts/bench, linked against
 * build/libcairn.a and written against the public headers only.
 *
 *   bench_lib dispatch N
 *       Registers one trivial hook (it increments a counter) at
 *       post_execute and fires N events through cairn_pipeline_fire().
 *       Baseline: the same callback called N times directly through a
 *       function pointer the compiler cannot see through.  Each loop runs
 *       5 times; the median is printed:
 *           dispatch_ns <ns per fired event>
 *           direct_ns <ns per direct call>
 *
 *   bench_lib provenance REPO [REV]
 *       Lists the migrations at REV (default HEAD) and then computes
 *       provenance (introduced_by / last changed) for all of them with
 *       cairn_migration_set_provenance(set, repo, NULL, 0); the caller
 *       decides cold or warm by removing <gitdir>/cairn/ or not.
 *           load_ms <listing the migrations>
 *           provenance_ms <the provenance call alone>
 *           migrations <count>  resolved <count with an introducing commit>
 *
 *   bench_lib prepush REPO OLD NEW
 *       What the pre-push hook does for one update "refs/heads/main NEW
 *       refs/heads/main OLD": cairn_prepush_parse, cairn_prepush_check and
 *       cairn_prepush_blame.  Used while `cairn githook pre-push` is not
 *       built, to still see the library's cost.
 *           prepush_ms <parse + check + blame>
 *           touched <migrations new or changed>  errors <findings>
 *
 * Times are wall-clock (CLOCK_MONOTONIC).  Exit status 0 on success, 1
 * when cairn reports an error (printed to stderr), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/error.h"
#include "cairn/hook.h"
#include "cairn/migration.h"
#include "cairn/prepush.h"
#include "cairn/repo.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ms(void)
{
	return now_ns() / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int fail(const char *what)
{
	const cairn_error *e = cairn_error_last();

	fprintf(stderr, "bench_lib: %s: %s\n", what,
		e ? e->message : "unknown error");
	if (e && e->detail)
		fprintf(stderr, "DETAIL: %s\n", e->detail);
	return 1;
}

/* ---- dispatch ---------------------------------------------------------- */

static int trivial_hook(const cairn_hook_context *ctx, void *payload)
{
	(void)ctx;
	(*(volatile unsigned long *)payload)++;
	return 0;
}

/* The compiler must not inline the baseline call. */
static cairn_hook_fn volatile direct_fn = trivial_hook;

#define REPEAT 5

static int cmd_dispatch(long n)
{
	cairn_pipeline *p = NULL;
	cairn_hook hook = CAIRN_HOOK_INIT;
	cairn_hook_context ctx;
	unsigned long counter = 0;
	double disp[REPEAT], direct[REPEAT];
	int rc = 0;

	if (cairn_pipeline_new(&p) < 0)
		return fail("cairn_pipeline_new");
	hook.name = "bench";
	hook.kind = "builtin";
	hook.event = CAIRN_EVENT_POST_EXECUTE;
	hook.fn = trivial_hook;
	hook.payload = &counter;
	if (cairn_pipeline_add(p, &hook, NULL) < 0) {
		rc = fail("cairn_pipeline_add");
		goto out;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = 1;
	ctx.event = CAIRN_EVENT_POST_EXECUTE;
	ctx.environment = "bench";
	ctx.run_id = "00000000-0000-0000-0000-000000000000";
	ctx.direction = "up";
	ctx.status = "applied";
	ctx.deploy_rev = "";
	ctx.deploy_ref = "";
	ctx.actor = "bench <bench@example.com>";
	ctx.database = "bench";

	for (int r = 0; r < REPEAT; r++) {
		double t0 = now_ns();

		for (long i = 0; i < n; i++) {
			if (cairn_pipeline_fire(p, &ctx, CAIRN_FIRE_ALL,
						NULL) != 0) {
				rc = fail("cairn_pipeline_fire");
				goto out;
			}
		}
		disp[r] = (now_ns() - t0) / (double)n;

		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			cairn_hook_fn fn = direct_fn;

			if (fn(&ctx, &counter) != 0) {
				rc = 1;
				goto out;
			}
		}
		direct[r] = (now_ns() - t0) / (double)n;
	}
	if (counter != (unsigned long)(2 * REPEAT) * (unsigned long)n) {
		fprintf(stderr, "bench_lib: the hook ran %lu times, expected %lu\n",
			counter, (unsigned long)(2 * REPEAT) * (unsigned long)n);
		rc = 1;
		goto out;
	}
	printf("dispatch_ns %.2f\n", median(disp, REPEAT));
	printf("direct_ns %.2f\n", median(direct, REPEAT));
out:
	cairn_pipeline_free(p);
	return rc;
}

/* ---- provenance -------------------------------------------------------- */

static int cmd_provenance(const char *path, const char *rev)
{
	cairn_repo *repo = NULL;
	cairn_migration_set *set = NULL;
	cairn_load_options lo = CAIRN_LOAD_OPTIONS_INIT;
	double t0, t1, t2;
	size_t n, resolved = 0;
	int rc = 0;

	if (cairn_repo_open(&repo, path) < 0)
		return fail("cannot open the repository");
	lo.rev = rev;
	t0 = now_ms();
	if (cairn_migration_set_load(&set, repo, &lo) < 0) {
		rc = fail("cairn_migration_set_load");
		goto out;
	}
	t1 = now_ms();
	if (cairn_migration_set_provenance(set, repo, NULL, 0) < 0) {
		rc = fail("cairn_migration_set_provenance");
		goto out;
	}
	t2 = now_ms();
	n = cairn_migration_set_count(set);
	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = cairn_migration_set_get(set, i);

		if (m->has_provenance && m->introduced.sha[0])
			resolved++;
	}
	printf("load_ms %.3f\n", t1 - t0);
	printf("provenance_ms %.3f\n", t2 - t1);
	printf("migrations %zu\n", n);
	printf("resolved %zu\n", resolved);
out:
	cairn_migration_set_free(set);
	cairn_repo_free(repo);
	return rc;
}

/* ---- pre-push ---------------------------------------------------------- */

static int cmd_prepush(const char *path, const char *old, const char *new)
{
	cairn_repo *repo = NULL;
	cairn_push_updates ups = CAIRN_PUSH_UPDATES_INIT;
	cairn_prepush_result res;
	cairn_prepush_options po = CAIRN_PREPUSH_OPTIONS_INIT;
	char line[512];
	bool have_res = false;
	double t0, t1;
	int rc = 0, len;

	memset(&res, 0, sizeof(res));
	if (cairn_repo_open(&repo, path) < 0)
		return fail("cannot open the repository");
	len = snprintf(line, sizeof(line),
		       "refs/heads/main %s refs/heads/main %s\n", new, old);
	if (len < 0 || (size_t)len >= sizeof(line)) {
		rc = 2;
		goto out;
	}
	po.remote = "origin";
	t0 = now_ms();
	if (cairn_prepush_parse(&ups, line, (size_t)len) < 0) {
		rc = fail("cairn_prepush_parse");
		goto out;
	}
	if (ups.count != 1) {
		fprintf(stderr, "bench_lib: parsed %zu updates\n", ups.count);
		rc = 1;
		goto out;
	}
	if (cairn_prepush_check(&res, repo, &ups.items[0], &po) < 0) {
		rc = fail("cairn_prepush_check");
		goto out;
	}
	have_res = true;
	if (cairn_prepush_blame(&res, repo, &po) < 0) {
		rc = fail("cairn_prepush_blame");
		goto out;
	}
	t1 = now_ms();
	printf("prepush_ms %.3f\n", t1 - t0);
	printf("touched %zu\n", res.touched_count);
	printf("errors %zu\n",
	       cairn_findings_count(&res.findings, CAIRN_SEVERITY_ERROR));
out:
	if (have_res)
		cairn_prepush_result_dispose(&res);
	cairn_push_updates_dispose(&ups);
	cairn_repo_free(repo);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "dispatch")) {
		long n = strtol(argv[2], NULL, 10);

		if (n <= 0)
			return 2;
		return cmd_dispatch(n);
	}
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "provenance"))
		return cmd_provenance(argv[2], argc == 4 ? argv[3] : "HEAD");
	if (argc == 5 && !strcmp(argv[1], "prepush"))
		return cmd_prepush(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: bench_lib dispatch N | provenance REPO [REV] | prepush REPO OLD NEW\n");
	return 2;
}
