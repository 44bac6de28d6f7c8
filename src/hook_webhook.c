/*
 * hook_webhook.c - the webhook hook kind: `webhook: URL` in cairn.yaml
 * (include/cairn/webhook.h is the user-facing contract, webhook.h the map
 * of the parts).
 *
 * Registration (cairn_hook__register_webhook) checks everything that can
 * be checked without the network - the URL, the secret's variable, the
 * headers - so a bad entry stops cairn before anything runs, and turns
 * the spec into one pipeline hook whose payload owns the target.
 *
 * A synchronous hook delivers inside the hook call on a curl easy handle
 * the payload keeps (connections are reused from one event to the next)
 * and returns the outcome like any hook: its on_failure decides.
 *
 * An async hook hands the delivery to the pipeline's queue and returns 0
 * at once.  There is one queue per pipeline, shared by its async hooks:
 * registration looks for an async webhook already in the pipeline (by its
 * callback) and takes a reference on its queue.  cairn_webhooks_await()
 * finds the queues the same way, waits for them and reports what ended.
 * Freeing the hook (cairn_pipeline_free) waits for its queue too, so no
 * delivery is cut short; only what the await would have reported is
 * lost.  A failed async delivery cannot veto: its event is long over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "hook_kinds_ext.h"
#include "util/util.h"
#include "webhook.h"

typedef struct {
	cairn_webhook_target *target;
	CURL *easy;                 /* sync: made on first use, reused */
	cairn_webhook_queue *queue; /* async */
} webhook_hook;

static void webhook_hook_free(void *payload)
{
	webhook_hook *h = payload;

	if (!h)
		return;
	if (h->queue) {
		/* deliveries in flight may point at h->target */
		cairn_webhook__queue_wait(h->queue);
		cairn_webhook__queue_unref(h->queue);
	}
	if (h->easy)
		curl_easy_cleanup(h->easy);
	cairn_webhook__target_free(h->target);
	free(h);
}

static int webhook_sync(const cairn_hook_context *ctx, void *payload)
{
	webhook_hook *h = payload;
	cairn_webhook_delivery *d = NULL;
	int rc;

	if (!h->easy && !(h->easy = curl_easy_init()))
		return cairn_error__oom();
	if (cairn_webhook__delivery_new(&d, h->target, ctx) < 0)
		return CAIRN_ERROR;
	rc = cairn_webhook__deliver(d, h->easy, ctx);
	cairn_webhook__delivery_free(d);
	return rc;
}

static int webhook_async(const cairn_hook_context *ctx, void *payload)
{
	webhook_hook *h = payload;
	cairn_webhook_delivery *d = NULL;

	if (cairn_webhook__delivery_new(&d, h->target, ctx) < 0)
		return CAIRN_ERROR;
	if (cairn_webhook__queue_push(h->queue, d) < 0) {
		cairn_webhook__delivery_free(d);
		return CAIRN_ERROR;
	}
	return 0;
}

/* Calls fn for each async webhook hook of p. */
static void each_async(cairn_pipeline *p,
		       void (*fn)(webhook_hook *h, void *payload),
		       void *payload)
{
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++) {
		size_t n = cairn_pipeline_count(p, (cairn_event)ev);

		for (size_t i = 0; i < n; i++) {
			const cairn_hook *hk =
				cairn_pipeline_get(p, (cairn_event)ev, i);

			if (hk && hk->fn == webhook_async)
				fn(hk->payload, payload);
		}
	}
}

static void first_queue(webhook_hook *h, void *payload)
{
	cairn_webhook_queue **q = payload;

	if (!*q)
		*q = h->queue;
}

static int describe(cairn_buf *b, const cairn_webhook_target *t)
{
	return cairn_buf_printf(b, "POST %s (%s%s%s)", t->shown,
				t->format == CAIRN_WEBHOOK_SLACK ? "slack" :
								   "json",
				t->async ? ", async" : "",
				t->secret ? ", signed" : "");
}

int cairn_hook__register_webhook(cairn_pipeline *p,
				 const cairn_hook_spec *spec,
				 const char *workdir)
{
	cairn_hook hook;
	cairn_buf desc = CAIRN_BUF_INIT;
	webhook_hook *h;
	int rc = CAIRN_ERROR;

	(void)workdir;
	if (cairn_webhook__global_init() < 0)
		return CAIRN_ERROR;
	h = cairn__calloc(1, sizeof(*h));
	if (!h)
		return CAIRN_ERROR;
	if (cairn_webhook__target_new(&h->target, spec) < 0 ||
	    describe(&desc, h->target) < 0)
		goto out;
	if (h->target->async) {
		each_async(p, first_queue, &h->queue);
		if (h->queue)
			cairn_webhook__queue_ref(h->queue);
		else if (cairn_webhook__queue_new(&h->queue) < 0)
			goto out;
	}
	cairn_hook_from_spec(&hook, spec);
	hook.name = h->target->name;
	hook.kind = "webhook";
	hook.description = desc.ptr;
	hook.fn = h->target->async ? webhook_async : webhook_sync;
	hook.payload = h;
	hook.free_payload = webhook_hook_free;
	if (cairn_pipeline_add(p, &hook, NULL) < 0)
		goto out;
	h = NULL;
	rc = 0;
out:
	webhook_hook_free(h);
	cairn_buf_dispose(&desc);
	return rc;
}

typedef struct {
	cairn_webhook_queue **seen;
	size_t count, alloc;
	bool oom;
} queue_list;

static void add_queue(webhook_hook *h, void *payload)
{
	queue_list *l = payload;

	for (size_t i = 0; i < l->count; i++)
		if (l->seen[i] == h->queue)
			return;
	if (cairn__grow_array((void **)&l->seen, &l->alloc, l->count + 1,
			      sizeof(*l->seen)) < 0) {
		l->oom = true;
		return;
	}
	l->seen[l->count++] = h->queue;
}

int cairn_webhooks_await(cairn_pipeline *p, cairn_webhook_report_fn report,
			 void *payload)
{
	queue_list l = { NULL, 0, 0, false };
	cairn_buf detail = CAIRN_BUF_INIT;
	size_t total = 0, failed = 0;
	int rc = 0;

	if (!p)
		return 0;
	each_async(p, add_queue, &l);
	if (l.oom) {
		free(l.seen);
		return cairn_error__oom();
	}
	for (size_t i = 0; i < l.count; i++)
		cairn_webhook__queue_collect(l.seen[i], report, payload,
					     &total, &failed, &detail);
	if (failed) {
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "%zu of %zu async webhook deliveries failed",
				 failed, total);
		if (failed > 5)
			cairn_buf_printf(&detail, "\nand %zu more",
					 failed - 5);
		if (detail.size)
			cairn_error__detail("%s", detail.ptr);
		cairn_error__hint("async webhooks run after their event and "
				  "cannot stop a run; check the receivers");
		rc = CAIRN_ERROR;
	}
	cairn_buf_dispose(&detail);
	free(l.seen);
	return rc;
}
