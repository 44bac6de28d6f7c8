/*
 * webhook.h - webhook hooks: what a receiver gets, and waiting for the
 * asynchronous deliveries at the end of a run.
 *
 * A webhook hook (`webhook: URL` in cairn.yaml) POSTs one document per
 * event it fires for: the hook context as JSON (cairn_hook_context_to_json)
 * or, with `format: slack`, a Slack message ({"text", "blocks"}).  Every
 * request carries
 *
 *   Content-Type: application/json
 *   User-Agent: cairn/<version>
 *   X-Cairn-Event: <event name>          ("post_complete", ...)
 *   X-Cairn-Delivery: <unique id>        (a UUID; the same on every retry
 *                                         of one delivery: dedupe on it)
 *   X-Cairn-Attempt: <n>                 (1 for the first try)
 *
 * and the `headers:` of the hook.  With `secret_env: NAME` the secret is
 * the value of the environment variable NAME and each attempt also has
 *
 *   X-Cairn-Timestamp: <unix seconds when the attempt was made>
 *   X-Cairn-Signature: sha256=<hex>
 *
 * where <hex> is the lowercase hex HMAC-SHA256, keyed with the secret's
 * bytes, of the SIGNED STRING:
 *
 *   <X-Cairn-Timestamp value> "." <request body, byte for byte>
 *
 * e.g. "1714564800.{\"event\":\"post_complete\",...}".  To verify: take
 * the raw body before parsing it, compute the HMAC of timestamp "." body,
 * compare in constant time, and reject timestamps too far from your
 * clock (five minutes, say) to stop replays.
 *
 * Synchronous webhooks deliver inside the hook call (retries included) and
 * fail the hook like any other kind.  `async: true` webhooks only queue
 * the delivery and return at once; a background thread sends queued
 * deliveries concurrently (curl multi).  The run must then wait for them
 * before it ends: call cairn_webhooks_await() after the last event of the
 * run.  cairn_pipeline_free() waits too (no delivery is ever cut short by
 * the program ending), but the outcomes are then dropped unreported.
 * An async delivery's failure happens after its event has returned, so it
 * can never veto anything: on_failure abort acts as warn.
 *
 * URLs are never shown whole: messages name the receiver as
 * scheme://host[:port]/… without path, query or user info, and never the
 * secret or header values.
 */
#ifndef CAIRN_WEBHOOK_H
#define CAIRN_WEBHOOK_H

#include "common.h"
#include "config.h"
#include "hook.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How one asynchronous delivery ended. */
typedef struct cairn_webhook_result {
	const char *hook;       /* the hook's name */
	const char *event;      /* the event it was queued at */
	const char *target;     /* "https://hooks.example.com/…" */
	const char *delivery;   /* its X-Cairn-Delivery id */
	bool ok;                /* the receiver answered 2xx */
	int http_status;        /* the last answer's status; 0 when none */
	unsigned attempts;
	int64_t duration_ms;    /* from queueing to the outcome */
	const char *message;    /* why it failed (one line); NULL when ok */
	cairn_on_failure on_failure; /* as configured (abort acts as warn) */
} cairn_webhook_result;

/* Gets every finished delivery; the result is valid during the call. */
typedef void (*cairn_webhook_report_fn)(const cairn_webhook_result *result,
					void *payload);

/*
 * Waits until every asynchronous webhook delivery queued by the hooks of
 * p has ended (each is bounded by its timeout, retries and backoff), then
 * calls report (may be NULL) once per delivery that ended since the last
 * call, in the order they ended.  Returns 0 when all of them succeeded or
 * failed with on_failure: ignore; else CAIRN_ERROR with an error of class
 * CAIRN_ERRCLASS_HOOK ("2 of 100 async webhook deliveries failed", the
 * first failures as the detail), which callers report as a warning: the
 * run's outcome is already decided.  Does nothing without async webhooks.
 */
CAIRN_EXTERN(int) cairn_webhooks_await(cairn_pipeline *p,
				       cairn_webhook_report_fn report,
				       void *payload);

#ifdef __cplusplus
}
#endif

#endif
