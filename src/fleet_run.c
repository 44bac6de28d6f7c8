/*
 * fleet_run.c - the scheduler of a fleet run (include/cairn/fleet.h):
 * up to `parallel` worker threads take the next target from a shared
 * counter and call the caller's function on it.  With a canary the
 * targets run in two waves, and the second starts only when the whole
 * first succeeded; a failure stops new targets unless keep_going.  The
 * scheduler holds no connection: each call does its own work.
 *
 * A target whose server had no connection slot free (the call returns
 * CAIRN_FLEET_BUSY) goes to a retry queue served once no new target is
 * left, and the worker that saw it ends unless it is the last one: the
 * run settles at the parallelism the servers allow instead of failing
 * targets.  The last worker, with only busy targets left, waits a
 * little longer before each retry.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/fleet.h"
#include "util/error.h"
#include "util/util.h"

#define DEFAULT_PARALLEL 4
#define MAX_PARALLEL 256

struct wave {
	const cairn_fleet_options *o;
	cairn_fleet_outcome *outcomes;
	pthread_mutex_t mu;
	size_t next, end;
	size_t *retry, nretry;    /* busy targets, served after the new ones */
	unsigned *busy;           /* busy answers per target */
	unsigned active;          /* workers still running */
	bool stop;
	bool failed;
};

/* The next target to run, or false when the wave is over or stopped. */
static bool take(struct wave *w, size_t *idx)
{
	bool ok;

	pthread_mutex_lock(&w->mu);
	ok = !w->stop && (w->nretry || w->next < w->end) &&
	     !(w->o->cancel && *w->o->cancel);
	if (ok)
		*idx = w->next < w->end ? w->next++ : w->retry[--w->nretry];
	pthread_mutex_unlock(&w->mu);
	return ok;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *worker(void *arg)
{
	struct wave *w = arg;
	size_t idx;

	while (take(w, &idx)) {
		int rc = w->o->fn(idx, w->o->payload);

		pthread_mutex_lock(&w->mu);
		if (rc == CAIRN_FLEET_BUSY &&
		    ++w->busy[idx] < CAIRN_FLEET_BUSY_TRIES) {
			unsigned tries = w->busy[idx];
			bool idle;

			w->retry[w->nretry++] = idx;
			if (w->active > 1) {
				w->active--;
				pthread_mutex_unlock(&w->mu);
				return NULL;
			}
			idle = w->next >= w->end; /* only busy ones left */
			pthread_mutex_unlock(&w->mu);
			if (idle)
				pause_ms(100u << (tries < 5 ? tries : 5));
			continue;
		}
		w->outcomes[idx] = rc == 0 ? CAIRN_FLEET_OK : CAIRN_FLEET_FAILED;
		if (rc != 0) {
			w->failed = true;
			if (!w->o->keep_going)
				w->stop = true;
		}
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

/* Runs targets [begin, end); *failed says whether one failed. */
static int run_wave(const cairn_fleet_options *o, cairn_fleet_outcome *out,
		    size_t begin, size_t end, bool *failed)
{
	struct wave w;
	pthread_t th[MAX_PARALLEL];
	size_t n = o->parallel ? o->parallel : DEFAULT_PARALLEL, started = 0;
	int rc = 0;

	if (n > MAX_PARALLEL)
		n = MAX_PARALLEL;
	if (n > end - begin)
		n = end - begin;
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.outcomes = out;
	w.next = begin;
	w.end = end;
	w.retry = calloc(end - begin + 1, sizeof(*w.retry));
	w.busy = calloc(end + 1, sizeof(*w.busy));
	if (!w.retry || !w.busy) {
		free(w.retry);
		free(w.busy);
		return cairn_error__oom();
	}
	pthread_mutex_init(&w.mu, NULL);
	w.active = (unsigned)n;
	for (; started < n; started++) {
		int e = pthread_create(&th[started], NULL, worker, &w);

		if (e) {
			rc = cairn_error__set(CAIRN_ERRCLASS_OS, "cannot start a fleet worker: %s",
					      strerror(e));
			break;
		}
	}
	if (started == 0 && n > 0) {
		pthread_mutex_destroy(&w.mu);
		free(w.retry);
		free(w.busy);
		return CAIRN_ERROR;
	}
	if (rc < 0) {
		cairn_error_clear(); /* fewer workers still finish the wave */
		pthread_mutex_lock(&w.mu);
		w.active -= (unsigned)(n - started);
		pthread_mutex_unlock(&w.mu);
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&w.mu);
	free(w.retry);
	free(w.busy);
	*failed = w.failed;
	return 0;
}

int cairn_fleet_run(cairn_fleet_outcome *outcomes,
		    const cairn_fleet_options *opts)
{
	size_t canary;
	bool failed = false;

	if (!opts || !opts->version ||
	    opts->version > CAIRN_FLEET_OPTIONS_VERSION || !opts->fn)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE, "cairn_fleet_run: bad options");
	for (size_t i = 0; i < opts->count; i++)
		outcomes[i] = CAIRN_FLEET_NOT_STARTED;
	if (!opts->count)
		return 0;
	canary = opts->canary < opts->count ? opts->canary : 0;
	if (canary) {
		if (run_wave(opts, outcomes, 0, canary, &failed) < 0)
			return CAIRN_ERROR;
		if (failed)
			return 0; /* the canaries decide for the rest */
	}
	if (!opts->keep_going && failed)
		return 0;
	return run_wave(opts, outcomes, canary, opts->count, &failed);
}
