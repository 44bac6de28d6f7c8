/*
 * webhook_queue.c - asynchronous webhook deliveries (see webhook.h).
 *
 * One queue serves every async webhook hook of a pipeline.  Firing such
 * a hook builds the delivery (body, id) in the caller's thread, appends
 * it to the queue's incoming list under the lock and pokes the worker
 * with curl_multi_wakeup(): a few microseconds, no network.
 *
 * The worker is one thread, started on the first delivery, that owns a
 * curl multi handle (up to CAIRN_WEBHOOK_MAX_CONNECTIONS connections at
 * once, so a burst of deliveries to one receiver runs in parallel rather
 * than one after another).  Its loop: take the incoming deliveries and
 * start their first attempt; start retries whose backoff has passed;
 * curl_multi_perform(); for every finished transfer ask
 * cairn_webhook__attempt_verdict() whether it is done, worth a retry
 * (then it waits in a list private to the worker until it is due) or
 * failed; then curl_multi_poll() until there is network activity, a retry
 * falls due or a wakeup.  All signals are blocked in the worker, so the
 * program's SIGINT handling is not disturbed.
 *
 * A delivery that ends leaves a small record (hook, target as shown,
 * outcome, a scrubbed reason) for cairn_webhook__queue_collect() and is
 * freed; `pending` counts deliveries pushed and not yet ended, and the
 * condition variable wakes waiters when it drops to zero.  Every
 * delivery ends by itself - attempts, timeouts and backoff are bounded -
 * so waiting is bounded too.
 *
 * Lifetime: each async hook holds a reference.  A hook's free_payload
 * first waits for the queue (the deliveries point at targets, and some
 * may be its own), then drops its reference; the last reference stops
 * the thread and frees the multi handle and unread records.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/util.h"
#include "webhook.h"

/* How many failures cairn_webhook__queue_collect() describes. */
#define DETAIL_FAILURES 5

typedef struct {
	char *hook;
	char *target;
	char *message;       /* NULL when ok (or out of memory) */
	const char *event;   /* static */
	char id[40];
	bool ok;
	int http_status;
	unsigned attempts;
	int64_t duration_ms;
	cairn_on_failure on_failure;
} record;

struct cairn_webhook_queue {
	pthread_mutex_t lock;
	pthread_cond_t idle;        /* pending dropped to zero */
	unsigned refs;
	bool started;
	bool stopping;
	pthread_t thread;
	CURLM *multi;
	cairn_webhook_delivery *incoming;
	cairn_webhook_delivery **incoming_tail;
	size_t pending;
	record *done;
	size_t done_count, done_alloc;
};

int cairn_webhook__queue_new(cairn_webhook_queue **out)
{
	cairn_webhook_queue *q;

	*out = NULL;
	q = cairn__calloc(1, sizeof(*q));
	if (!q)
		return CAIRN_ERROR;
	q->multi = curl_multi_init();
	if (!q->multi) {
		free(q);
		return cairn_error__oom();
	}
	curl_multi_setopt(q->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)CAIRN_WEBHOOK_MAX_CONNECTIONS);
	curl_multi_setopt(q->multi, CURLMOPT_MAXCONNECTS,
			  (long)CAIRN_WEBHOOK_MAX_CONNECTIONS);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->idle, NULL);
	q->refs = 1;
	q->incoming_tail = &q->incoming;
	*out = q;
	return 0;
}

void cairn_webhook__queue_ref(cairn_webhook_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->refs++;
	pthread_mutex_unlock(&q->lock);
}

static void record_dispose(record *r)
{
	free(r->hook);
	free(r->target);
	free(r->message);
}

/* Ends a delivery: leaves its record and frees it.  Worker thread. */
static void finish(cairn_webhook_queue *q, cairn_webhook_delivery *d,
		   cairn_webhook_verdict v, const char *why)
{
	const cairn_webhook_target *t = d->target;
	cairn_buf msg = CAIRN_BUF_INIT;
	record r;

	memset(&r, 0, sizeof(r));
	r.ok = v == CAIRN_WEBHOOK_DONE;
	r.hook = strdup(t->name);
	r.target = strdup(t->shown);
	r.event = d->event;
	memcpy(r.id, d->id, sizeof(r.id));
	r.http_status = (int)d->http_status;
	r.attempts = d->attempts;
	r.duration_ms = cairn__now_ms() - d->queued_ms;
	r.on_failure = t->on_failure;
	if (!r.ok) {
		if (why)
			cairn_buf_puts(&msg, why);
		else if (cairn_webhook__reason(&msg, d) == 0 &&
			 d->attempts > 1)
			cairn_buf_printf(&msg, " (after %u attempts)",
					 d->attempts);
		r.message = cairn_buf_detach(&msg);
	}
	if (d->easy)
		curl_multi_remove_handle(q->multi, d->easy);
	cairn_webhook__delivery_free(d);

	pthread_mutex_lock(&q->lock);
	if (cairn__grow_array((void **)&q->done, &q->done_alloc,
			      q->done_count + 1, sizeof(record)) == 0)
		q->done[q->done_count++] = r;
	else
		record_dispose(&r);
	if (--q->pending == 0)
		pthread_cond_broadcast(&q->idle);
	pthread_mutex_unlock(&q->lock);
	cairn_error_clear();
}

/* Starts the next attempt of d; false when it could not (d is ended). */
static bool start(cairn_webhook_queue *q, cairn_webhook_delivery *d)
{
	if (!d->easy)
		d->easy = curl_easy_init();
	if (!d->easy || cairn_webhook__attempt_setup(d, d->easy) < 0 ||
	    curl_multi_add_handle(q->multi, d->easy) != CURLM_OK) {
		finish(q, d, CAIRN_WEBHOOK_GIVE_UP,
		       "cannot start the request: out of memory");
		return false;
	}
	return true;
}

/* The transfers that ended: retry (into *waiting) or finish. */
static void reap(cairn_webhook_queue *q, cairn_webhook_delivery **waiting)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(q->multi, &left))) {
		cairn_webhook_delivery *d = NULL;
		cairn_webhook_verdict v;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				  (char **)&d);
		v = cairn_webhook__attempt_verdict(d, msg->easy_handle,
						   msg->data.result);
		curl_multi_remove_handle(q->multi, d->easy);
		if (v == CAIRN_WEBHOOK_RETRY && cairn_webhook__may_retry(d)) {
			d->due_ms = cairn__now_ms() +
				(int64_t)cairn_webhook__backoff_ms(d->attempts);
			d->next = *waiting;
			*waiting = d;
			continue;
		}
		finish(q, d, v, NULL);
	}
}

/* Starts the waiting retries that are due. */
static void start_due(cairn_webhook_queue *q, cairn_webhook_delivery **waiting)
{
	cairn_webhook_delivery **pp = waiting;
	int64_t now = cairn__now_ms();

	while (*pp) {
		cairn_webhook_delivery *d = *pp;

		if (d->due_ms > now) {
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		d->next = NULL;
		start(q, d);
	}
}

/* Milliseconds until the first waiting retry is due (at most 1 s). */
static int next_due(const cairn_webhook_delivery *waiting)
{
	int64_t now = cairn__now_ms(), next = 1000;

	for (; waiting; waiting = waiting->next)
		if (waiting->due_ms - now < next)
			next = waiting->due_ms - now;
	return next < 0 ? 0 : (int)next;
}

static void *worker(void *arg)
{
	cairn_webhook_queue *q = arg;
	cairn_webhook_delivery *waiting = NULL;

	for (;;) {
		cairn_webhook_delivery *fresh;
		int running = 0;
		bool stop;

		pthread_mutex_lock(&q->lock);
		fresh = q->incoming;
		q->incoming = NULL;
		q->incoming_tail = &q->incoming;
		stop = q->stopping;
		pthread_mutex_unlock(&q->lock);
		while (fresh) {
			cairn_webhook_delivery *d = fresh;

			fresh = d->next;
			d->next = NULL;
			start(q, d);
		}
		start_due(q, &waiting);
		curl_multi_perform(q->multi, &running);
		reap(q, &waiting);
		/* stopping is only asked for once nothing is pending */
		if (stop && !running && !waiting)
			break;
		/* returns early on activity, curl's own timers or a wakeup */
		curl_multi_poll(q->multi, NULL, 0, next_due(waiting), NULL);
	}
	return NULL;
}

/* Starts the worker with every signal blocked in it. */
static int start_worker(cairn_webhook_queue *q)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&q->thread, NULL, worker, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot start the webhook thread: %s",
					strerror(err));
	q->started = true;
	return 0;
}

int cairn_webhook__queue_push(cairn_webhook_queue *q,
			      cairn_webhook_delivery *d)
{
	pthread_mutex_lock(&q->lock);
	if (!q->started && start_worker(q) < 0) {
		pthread_mutex_unlock(&q->lock);
		return CAIRN_ERROR;
	}
	d->next = NULL;
	*q->incoming_tail = d;
	q->incoming_tail = &d->next;
	q->pending++;
	pthread_mutex_unlock(&q->lock);
	curl_multi_wakeup(q->multi);
	return 0;
}

void cairn_webhook__queue_wait(cairn_webhook_queue *q)
{
	pthread_mutex_lock(&q->lock);
	while (q->pending)
		pthread_cond_wait(&q->idle, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

void cairn_webhook__queue_collect(cairn_webhook_queue *q,
				  cairn_webhook_report_fn report,
				  void *payload, size_t *total,
				  size_t *failed, cairn_buf *detail)
{
	record *done;
	size_t n, i;

	pthread_mutex_lock(&q->lock);
	while (q->pending)
		pthread_cond_wait(&q->idle, &q->lock);
	done = q->done;
	n = q->done_count;
	q->done = NULL;
	q->done_count = q->done_alloc = 0;
	pthread_mutex_unlock(&q->lock);

	for (i = 0; i < n; i++) {
		record *r = &done[i];
		cairn_webhook_result res;

		res.hook = r->hook ? r->hook : "webhook";
		res.event = r->event;
		res.target = r->target ? r->target : "";
		res.delivery = r->id;
		res.ok = r->ok;
		res.http_status = r->http_status;
		res.attempts = r->attempts;
		res.duration_ms = r->duration_ms;
		res.message = r->ok ? NULL :
			r->message ? r->message : "failed";
		res.on_failure = r->on_failure;
		if (report)
			report(&res, payload);
		(*total)++;
		if (!r->ok && r->on_failure != CAIRN_ON_FAILURE_IGNORE) {
			if (++*failed <= DETAIL_FAILURES)
				cairn_buf_printf(detail,
					"%swebhook '%s' at %s to %s: %s",
					detail->size ? "\n" : "", res.hook,
					res.event, res.target, res.message);
		}
		record_dispose(r);
	}
	free(done);
}

void cairn_webhook__queue_unref(cairn_webhook_queue *q)
{
	bool last;

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	last = --q->refs == 0;
	pthread_mutex_unlock(&q->lock);
	if (!last)
		return;
	cairn_webhook__queue_wait(q);
	if (q->started) {
		pthread_mutex_lock(&q->lock);
		q->stopping = true;
		pthread_mutex_unlock(&q->lock);
		curl_multi_wakeup(q->multi);
		pthread_join(q->thread, NULL);
	}
	curl_multi_cleanup(q->multi);
	for (size_t i = 0; i < q->done_count; i++)
		record_dispose(&q->done[i]);
	free(q->done);
	pthread_cond_destroy(&q->idle);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
