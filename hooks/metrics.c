/*
 * metrics.c - the `metrics` built-in: counters over one run.
 *
 *   post_complete:
 *     - builtin: metrics
 *       metrics_file: /var/lib/node_exporter/cairn.prom   # optional
 *
 * Written against the public hook interface only, as a plugin would be.
 * Whatever event it is listed under, it needs to see every migration, so
 * its init registers one callback at each of pre_execute, pre_rollback,
 * post_execute, post_rollback, on_error and post_complete (with the
 * entry's name, on_failure and only: filters).  The six share one
 * payload, reference-counted: each registration holds a reference and
 * the pipeline's free_payload drops it, so removing any of them, in any
 * order, is safe.
 *
 * The counts say what the run committed, whatever order the hooks of an
 * event run in (a hook listed before metrics that fails stops the event
 * before metrics sees it).  Per migration, allocation-free after the
 * first sight of a directory:
 *   pre_execute,   started: it will run (its directory is counted here)
 *   pre_rollback
 *   post_execute   applied (failed when its status says "failed")
 *   post_rollback  rolled back (failed when its status says "failed")
 *   on_error       for a migration not already counted: applied (rolled
 *                  back, going down) when the engine's count of finished
 *                  migrations (ctx->done) grew since its pre event, so
 *                  its transaction committed (a hook failing after
 *                  COMMIT), else failed
 *   post_complete  migrations started but never counted: as many as
 *                  ctx->done grew since the last pre event are applied
 *                  (rolled back), the rest failed.  So a rolled-back
 *                  --single-transaction run counts every migration that
 *                  ran in its transaction as failed, and one whose
 *                  COMMIT went through counts them applied even when a
 *                  hook failed afterwards.
 * (Growth since a pre event, not ctx->done itself: with only: filters
 * metrics does not see every migration the engine counts.)
 * "failed" thus means "attempted and not committed".  Also kept: the
 * number per subdirectory ("" is "."), the sum and maximum of durations
 * (a migration's own, or from its pre event to on_error) and the five
 * slowest migrations.
 *
 * At post_complete it sends one line to the run's log:
 *
 *   metrics: 3 applied, 0 failed, 0 rolled back, success 100.0%,
 *   41 ms total, slowest 0003_add_index 20 ms
 *
 * and, with metrics_file, writes the Prometheus text format (to a
 * temporary file in the same directory, then rename(2), so a scraper
 * never reads half a file):
 *
 *   cairn_migrations_total{environment,outcome}          counter
 *   cairn_migration_duration_seconds_sum/_count{environment}  summary
 *   cairn_migration_duration_max_seconds{environment}    gauge
 *   cairn_migrations_by_directory{environment,directory} gauge
 *   cairn_run_success_ratio{environment}                 gauge
 *   cairn_last_run_timestamp_seconds{environment}        gauge
 *
 * The success ratio is (applied + rolled back) / total, 1 when nothing
 * ran.  The summary's count is the number of migrations with a known
 * duration.  The counters are reset after post_complete, ready for the next
 * run on the same pipeline.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builtins.h"
#include "cairn/hook.h"

#define SLOWEST 5

typedef struct {
	char label[128];   /* "0003_add_index" */
	int64_t ms;
} slow_entry;

typedef struct {
	char *name;
	uint64_t count;
} dir_count;

typedef struct {
	int refs;
	int (*set_error)(cairn_error_class klass, const char *fmt, ...);
	void (*log)(const cairn_hook_context *ctx, const char *source,
		    const char *text);
	char *name;
	char *file;        /* metrics_file, resolved; NULL: none */

	uint64_t total, applied, failed, rolled_back;
	uint64_t started;   /* pre_execute/pre_rollback seen */
	uint64_t timed;     /* durations noted */
	int64_t dur_sum, dur_max;
	dir_count *dirs;
	size_t dirs_count, dirs_alloc;
	slow_entry slow[SLOWEST];
	size_t slow_count;
	const cairn_migration *last_counted; /* compared, never read */
	const cairn_migration *last_started; /* likewise */
	int64_t started_ms;  /* when last_started's pre event came */
	size_t done_at_start; /* ctx->done then */
} metrics;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void metrics_release(void *payload)
{
	metrics *m = payload;
	size_t i;

	if (!m || --m->refs > 0)
		return;
	for (i = 0; i < m->dirs_count; i++)
		free(m->dirs[i].name);
	free(m->dirs);
	free(m->name);
	free(m->file);
	free(m);
}

static void reset(metrics *m)
{
	size_t i;

	for (i = 0; i < m->dirs_count; i++)
		free(m->dirs[i].name);
	m->dirs_count = 0;
	m->total = m->applied = m->failed = m->rolled_back = 0;
	m->started = m->timed = 0;
	m->dur_sum = m->dur_max = 0;
	m->slow_count = 0;
	m->last_counted = m->last_started = NULL;
	m->started_ms = 0;
	m->done_at_start = 0;
}

static int count_dir(metrics *m, const char *subdir)
{
	const char *d = subdir && *subdir ? subdir : ".";
	size_t i;

	for (i = 0; i < m->dirs_count; i++) {
		if (!strcmp(m->dirs[i].name, d)) {
			m->dirs[i].count++;
			return 0;
		}
	}
	if (m->dirs_count == m->dirs_alloc) {
		size_t n = m->dirs_alloc ? m->dirs_alloc * 2 : 4;
		dir_count *p = realloc(m->dirs, n * sizeof(*p));

		if (!p)
			return m->set_error(CAIRN_ERRCLASS_NOMEMORY,
					    "out of memory");
		m->dirs = p;
		m->dirs_alloc = n;
	}
	m->dirs[m->dirs_count].name = strdup(d);
	if (!m->dirs[m->dirs_count].name)
		return m->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	m->dirs[m->dirs_count++].count = 1;
	return 0;
}

static void note_duration(metrics *m, const cairn_migration *mig, int64_t ms)
{
	size_t pos;

	m->timed++;
	m->dur_sum += ms;
	if (ms > m->dur_max)
		m->dur_max = ms;
	if (m->slow_count == SLOWEST && ms <= m->slow[SLOWEST - 1].ms)
		return;
	pos = m->slow_count < SLOWEST ? m->slow_count++ : SLOWEST - 1;
	while (pos > 0 && m->slow[pos - 1].ms < ms) {
		m->slow[pos] = m->slow[pos - 1];
		pos--;
	}
	m->slow[pos].ms = ms;
	snprintf(m->slow[pos].label, sizeof(m->slow[pos].label), "%s_%s",
		 mig->version_text ? mig->version_text : "?",
		 mig->name ? mig->name : "?");
}

/*
 * Counts ctx's migration in bucket, with duration ms.  Its directory was
 * counted at its pre event when a started migration is still uncounted
 * (outcomes come in the order the migrations started).
 */
static int count(metrics *m, const cairn_hook_context *ctx, uint64_t *bucket,
		 int64_t ms)
{
	bool dir_done = m->started > m->total;

	m->total++;
	(*bucket)++;
	m->last_counted = ctx->migration;
	note_duration(m, ctx->migration, ms > 0 ? ms : 0);
	return dir_done ? 0 : count_dir(m, ctx->migration->subdir);
}

static bool status_is(const cairn_hook_context *ctx, const char *s)
{
	return ctx->status && !strcmp(ctx->status, s);
}

static bool going_down(const cairn_hook_context *ctx)
{
	return ctx->direction && !strcmp(ctx->direction, "down");
}

/* Where a committed migration of this run is counted. */
static uint64_t *committed_bucket(metrics *m, const cairn_hook_context *ctx)
{
	return going_down(ctx) ? &m->rolled_back : &m->applied;
}

/* Migrations the engine finished (committed) since the last pre event. */
static uint64_t committed_since_start(const metrics *m,
				      const cairn_hook_context *ctx)
{
	return ctx->done > m->done_at_start ? ctx->done - m->done_at_start
					    : 0;
}

static int on_pre(const cairn_hook_context *ctx, void *payload)
{
	metrics *m = payload;

	if (!ctx->migration)
		return 0;
	m->started++;
	m->last_started = ctx->migration;
	m->started_ms = now_ms();
	m->done_at_start = ctx->done;
	return count_dir(m, ctx->migration->subdir);
}

static int on_post_execute(const cairn_hook_context *ctx, void *payload)
{
	metrics *m = payload;

	if (!ctx->migration)
		return 0;
	return count(m, ctx, status_is(ctx, "failed") ? &m->failed
						      : &m->applied,
		     ctx->duration_ms);
}

static int on_post_rollback(const cairn_hook_context *ctx, void *payload)
{
	metrics *m = payload;

	if (!ctx->migration)
		return 0;
	return count(m, ctx, status_is(ctx, "failed") ? &m->failed
						      : &m->rolled_back,
		     ctx->duration_ms);
}

static int on_error(const cairn_hook_context *ctx, void *payload)
{
	metrics *m = payload;
	bool committed;
	int64_t ms;

	if (!ctx->migration || ctx->migration == m->last_counted)
		return 0;
	if (ctx->migration == m->last_started) {
		committed = committed_since_start(m, ctx) > 0;
		/* ctx->duration_ms is the run's: time it from its pre event */
		ms = now_ms() - m->started_ms;
	} else {
		/* its pre event never reached us (a hook before us vetoed) */
		committed = false;
		ms = ctx->duration_ms;
	}
	committed = committed || status_is(ctx, "applied") ||
		    status_is(ctx, "rolled_back");
	return count(m, ctx, committed ? committed_bucket(m, ctx) : &m->failed,
		     ms);
}

/*
 * Migrations that started and were never counted (their post events did
 * not reach metrics): as many as the engine finished since the last pre
 * event committed, the rest failed.  Their durations are unknown.
 */
static void settle_started(metrics *m, const cairn_hook_context *ctx)
{
	uint64_t left, committed;

	if (m->started <= m->total)
		return;
	left = m->started - m->total;
	committed = committed_since_start(m, ctx);
	if (committed > left)
		committed = left;
	*committed_bucket(m, ctx) += committed;
	m->failed += left - committed;
	m->total += left;
}

static double success_ratio(const metrics *m)
{
	if (!m->total)
		return 1.0;
	return (double)(m->applied + m->rolled_back) / (double)m->total;
}

/* Writes s as a Prometheus label value: escaped, valid UTF-8. */
static void put_label(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t n = 0, k;

		if (*p == '\\' || *p == '"') {
			fputc('\\', f);
			fputc(*p++, f);
			continue;
		}
		if (*p == '\n') {
			fputs("\\n", f);
			p++;
			continue;
		}
		if (*p < 0x80) {
			fputc(*p++, f);
			continue;
		}
		if ((*p & 0xE0) == 0xC0 && *p >= 0xC2)
			n = 1;
		else if ((*p & 0xF0) == 0xE0)
			n = 2;
		else if ((*p & 0xF8) == 0xF0 && *p <= 0xF4)
			n = 3;
		for (k = 1; n && k <= n; k++)
			if ((p[k] & 0xC0) != 0x80)
				n = 0;
		/* reject overlong 3/4-byte forms, surrogates, > U+10FFFF */
		if (n == 2 && ((*p == 0xE0 && p[1] < 0xA0) ||
			       (*p == 0xED && p[1] >= 0xA0)))
			n = 0;
		if (n == 3 && ((*p == 0xF0 && p[1] < 0x90) ||
			       (*p == 0xF4 && p[1] >= 0x90)))
			n = 0;
		if (!n) {
			fputs("\xEF\xBF\xBD", f); /* U+FFFD */
			p++;
			continue;
		}
		fwrite(p, 1, n + 1, f);
		p += n + 1;
	}
}

static void put_env(FILE *f, const char *env)
{
	fputs("environment=\"", f);
	put_label(f, env);
	fputc('"', f);
}

static void write_prom(FILE *f, const metrics *m, const char *env)
{
	static const char *const outcomes[] = { "applied", "failed",
						"rolled_back" };
	const uint64_t values[] = { m->applied, m->failed, m->rolled_back };
	size_t i;

	fputs("# HELP cairn_migrations_total Migrations cairn handled in its "
	      "last run, by outcome.\n"
	      "# TYPE cairn_migrations_total counter\n", f);
	for (i = 0; i < 3; i++) {
		fputs("cairn_migrations_total{", f);
		put_env(f, env);
		fprintf(f, ",outcome=\"%s\"} %llu\n", outcomes[i],
			(unsigned long long)values[i]);
	}
	fputs("# HELP cairn_migration_duration_seconds Time spent running "
	      "migrations in the last run.\n"
	      "# TYPE cairn_migration_duration_seconds summary\n"
	      "cairn_migration_duration_seconds_sum{", f);
	put_env(f, env);
	fprintf(f, "} %.3f\ncairn_migration_duration_seconds_count{",
		(double)m->dur_sum / 1000.0);
	put_env(f, env);
	fprintf(f, "} %llu\n", (unsigned long long)m->timed);
	fputs("# HELP cairn_migration_duration_max_seconds The slowest "
	      "migration of the last run.\n"
	      "# TYPE cairn_migration_duration_max_seconds gauge\n"
	      "cairn_migration_duration_max_seconds{", f);
	put_env(f, env);
	fprintf(f, "} %.3f\n", (double)m->dur_max / 1000.0);
	fputs("# HELP cairn_migrations_by_directory Migrations handled in the "
	      "last run, by subdirectory of the migrations directory.\n"
	      "# TYPE cairn_migrations_by_directory gauge\n", f);
	for (i = 0; i < m->dirs_count; i++) {
		fputs("cairn_migrations_by_directory{", f);
		put_env(f, env);
		fputs(",directory=\"", f);
		put_label(f, m->dirs[i].name);
		fprintf(f, "\"} %llu\n", (unsigned long long)m->dirs[i].count);
	}
	fputs("# HELP cairn_run_success_ratio Share of the last run's "
	      "migrations that succeeded (1 when none ran).\n"
	      "# TYPE cairn_run_success_ratio gauge\n"
	      "cairn_run_success_ratio{", f);
	put_env(f, env);
	fprintf(f, "} %.4f\n", success_ratio(m));
	fputs("# HELP cairn_last_run_timestamp_seconds When the last run "
	      "finished, in seconds since the epoch.\n"
	      "# TYPE cairn_last_run_timestamp_seconds gauge\n"
	      "cairn_last_run_timestamp_seconds{", f);
	put_env(f, env);
	fprintf(f, "} %lld\n", (long long)time(NULL));
}

static int write_file(const metrics *m, const char *env)
{
	size_t len = strlen(m->file) + 32;
	char *tmp = malloc(len);
	FILE *f;
	int err;

	struct stat st;
	int fd;

	if (!tmp)
		return m->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	/*
	 * The file is replaced by rename(2): never do that to something that
	 * is not a regular file (metrics_file: /dev/null run as root would
	 * otherwise replace the device node).
	 */
	if (lstat(m->file, &st) == 0 && !S_ISREG(st.st_mode)) {
		free(tmp);
		return m->set_error(CAIRN_ERRCLASS_CONFIG,
				    "metrics: '%s' is not a regular file; refusing to replace it",
				    m->file);
	}
	snprintf(tmp, len, "%s.tmp.%ld", m->file, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f && fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (!f) {
		err = errno;
		free(tmp);
		return m->set_error(CAIRN_ERRCLASS_OS,
				    "metrics: cannot write '%s': %s", m->file,
				    strerror(err));
	}
	write_prom(f, m, env);
	if (ferror(f) | fclose(f)) {
		err = errno;
		unlink(tmp);
		free(tmp);
		return m->set_error(CAIRN_ERRCLASS_OS,
				    "metrics: cannot write '%s': %s", m->file,
				    strerror(err));
	}
	if (rename(tmp, m->file) < 0) {
		err = errno;
		m->set_error(CAIRN_ERRCLASS_OS,
			     "metrics: cannot rename '%s' to '%s': %s", tmp,
			     m->file, strerror(err));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static int on_post_complete(const cairn_hook_context *ctx, void *payload)
{
	metrics *m = payload;
	char line[512];
	int n, rc = 0;

	settle_started(m, ctx);
	n = snprintf(line, sizeof(line),
		     "metrics: %llu applied, %llu failed, %llu rolled back, "
		     "success %.1f%%, %lld ms total",
		     (unsigned long long)m->applied,
		     (unsigned long long)m->failed,
		     (unsigned long long)m->rolled_back,
		     success_ratio(m) * 100.0, (long long)m->dur_sum);
	if (m->slow_count && n > 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n,
			 ", slowest %s %lld ms", m->slow[0].label,
			 (long long)m->slow[0].ms);
	m->log(ctx, m->name, line);
	if (m->file)
		rc = write_file(m, ctx->environment);
	reset(m);
	return rc;
}

static char *resolve(const char *path, const char *workdir)
{
	size_t pl = strlen(path), wl;
	char *out;

	if (path[0] == '/' || !workdir || !*workdir)
		return strdup(path);
	wl = strlen(workdir);
	out = malloc(wl + pl + 2);
	if (!out)
		return NULL;
	memcpy(out, workdir, wl);
	if (workdir[wl - 1] != '/')
		out[wl++] = '/';
	memcpy(out + wl, path, pl + 1);
	return out;
}

int cairn_builtin_metrics_init(const cairn_plugin_api *api)
{
	static const struct {
		cairn_event event;
		cairn_hook_fn fn;
		const char *description;
	} slots[] = {
		{ CAIRN_EVENT_PRE_EXECUTE, on_pre,
		  "notes migrations about to be applied" },
		{ CAIRN_EVENT_PRE_ROLLBACK, on_pre,
		  "notes migrations about to be rolled back" },
		{ CAIRN_EVENT_POST_EXECUTE, on_post_execute,
		  "counts applied migrations" },
		{ CAIRN_EVENT_POST_ROLLBACK, on_post_rollback,
		  "counts rolled-back migrations" },
		{ CAIRN_EVENT_ON_ERROR, on_error, "counts failed migrations" },
		{ CAIRN_EVENT_POST_COMPLETE, on_post_complete,
		  "reports the run's metrics" },
	};
	const char *file = api->option(api, "metrics_file");
	metrics *m;
	size_t i;
	int rc = 0;

	if (api->api_version < CAIRN_PLUGIN_API_VERSION || !api->spec)
		return api->set_error(CAIRN_ERRCLASS_USAGE,
				      "metrics: unsupported plugin API");
	m = calloc(1, sizeof(*m));
	if (!m)
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	m->refs = 1; /* ours, dropped at the end of init */
	m->set_error = api->set_error;
	m->log = api->log;
	m->name = strdup(api->spec->name ? api->spec->name
					 : "builtin:metrics");
	if (file && *file)
		m->file = resolve(file, api->option(api, "workdir"));
	if (!m->name || (file && *file && !m->file)) {
		metrics_release(m);
		return api->set_error(CAIRN_ERRCLASS_NOMEMORY, "out of memory");
	}
	for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		cairn_hook hook;

		api->hook_from_spec(&hook, api->spec);
		hook.kind = "builtin";
		hook.event = slots[i].event;
		hook.description = slots[i].description;
		hook.fn = slots[i].fn;
		hook.payload = m;
		hook.free_payload = metrics_release;
		m->refs++;
		if (api->add_hook(api->pipeline, &hook, NULL) != 0) {
			m->refs--;
			rc = -1;
			break;
		}
	}
	metrics_release(m);
	return rc;
}
