/*
 * webhook.h (internal) - the parts of the webhook hook kind and how they
 * fit together.
 *
 *   webhook_target.c  what a hook posts where: the URL (checked, and a
 *                     redacted form for messages), the secret, headers,
 *                     timeouts and retries; scrubbing of messages;
 *                     libcurl's one-time global set-up
 *   webhook_body.c    the document posted: the context JSON, or a Slack
 *                     message
 *   webhook_deliver.c one delivery: its body, id and curl set-up per
 *                     attempt (headers, signature), the verdict on an
 *                     attempt (done, retry, give up), the backoff, and
 *                     the synchronous send-and-retry loop
 *   webhook_queue.c   asynchronous deliveries: a background thread that
 *                     owns a curl multi handle and a queue
 *   hook_webhook.c    the hook kind itself: registration from a spec,
 *                     the hook callbacks, cairn_webhooks_await()
 *
 * A target is immutable after registration and outlives every delivery
 * made for it (a hook's payload waits for its queue before freeing it).
 */
#ifndef CAIRN_SRC_WEBHOOK_H
#define CAIRN_SRC_WEBHOOK_H

#include "util/attrs.h"

#include <signal.h>

#include <curl/curl.h>

#include "util/buf.h"
#include "cairn/hook.h"
#include "cairn/webhook.h"

/* Backoff before retry n (1-based): 200 ms, 400 ms, 800 ms, ... capped. */
#define CAIRN_WEBHOOK_BACKOFF_MS 200
#define CAIRN_WEBHOOK_BACKOFF_MAX_MS 5000
/* How much of a receiver's answer is kept for messages. */
#define CAIRN_WEBHOOK_ANSWER_MAX 512
/* Concurrent connections of the async queue. */
#define CAIRN_WEBHOOK_MAX_CONNECTIONS 128

typedef struct cairn_webhook_target {
	char *name;              /* the hook's name */
	char *url;               /* the whole URL: never shown */
	char *shown;             /* "https://host:port/…" */
	char **sensitive;        /* NULL-terminated: what messages must not
				  * contain (URL, path, query, user info,
				  * secret, header values), longest first */
	char *secret;            /* HMAC key, or NULL */
	size_t secret_len;
	cairn_kv *headers;       /* the hook's `headers:` */
	size_t headers_count;
	bool user_agent_set;     /* headers: overrides User-Agent */
	bool content_type_set;   /* ... or Content-Type */
	cairn_webhook_format format;
	unsigned retries;
	uint64_t connect_timeout_ms;
	uint64_t timeout_ms;     /* per attempt */
	bool async;
	cairn_on_failure on_failure;
} cairn_webhook_target;

/* curl_global_init, once per process; 0 or CAIRN_ERROR. */
CAIRN_WARN_UNUSED int cairn_webhook__global_init(void);

/*
 * Builds a target from a spec: checks the URL (http or https), reads the
 * secret from the environment variable spec->secret_env, copies headers.
 * Errors are CAIRN_ERRCLASS_CONFIG and never quote the URL.
 */
CAIRN_WARN_UNUSED int cairn_webhook__target_new(cairn_webhook_target **out,
			      const cairn_hook_spec *spec);
void cairn_webhook__target_free(cairn_webhook_target *t);

/*
 * Appends text (len bytes) to out as one printable line of valid UTF-8:
 * every sensitive string of t replaced by "…", control bytes by spaces,
 * bytes that are not UTF-8 by '?'.
 */
CAIRN_WARN_UNUSED int cairn_webhook__scrub(cairn_buf *out, const cairn_webhook_target *t,
			 const char *text, size_t len);

/* The document to post for ctx in format fmt.  Caller frees *out. */
CAIRN_WARN_UNUSED int cairn_webhook__body(char **out, cairn_webhook_format fmt,
			const cairn_hook_context *ctx);

typedef enum {
	CAIRN_WEBHOOK_DONE = 0,  /* 2xx */
	CAIRN_WEBHOOK_RETRY,     /* connection error, timeout, 5xx */
	CAIRN_WEBHOOK_GIVE_UP    /* 4xx, other answers, permanent errors */
} cairn_webhook_verdict;

typedef struct cairn_webhook_delivery cairn_webhook_delivery;

struct cairn_webhook_delivery {
	const cairn_webhook_target *target;
	char *body;
	size_t body_len;
	const char *event;       /* static: cairn_event_name() */
	char id[40];             /* X-Cairn-Delivery */
	int64_t queued_ms;
	unsigned attempts;       /* made so far */
	struct curl_slist *headers;  /* of the current attempt */
	char errbuf[CURL_ERROR_SIZE];
	cairn_buf answer;        /* first bytes of the last answer */
	CURLcode code;           /* of the last attempt */
	long http_status;        /* of the last attempt; 0: none */
	volatile sig_atomic_t *cancel; /* sync: the run's interrupt flag */

	/* used by the queue only */
	CURL *easy;
	int64_t due_ms;          /* when the next attempt may start */
	cairn_webhook_delivery *next;
};

/* A delivery of ctx to t (body built now: ctx is valid only now). */
CAIRN_WARN_UNUSED int cairn_webhook__delivery_new(cairn_webhook_delivery **out,
				const cairn_webhook_target *t,
				const cairn_hook_context *ctx);
void cairn_webhook__delivery_free(cairn_webhook_delivery *d);

/*
 * Sets easy up for the next attempt of d (counts it): URL, body, headers
 * with a fresh timestamp and signature, timeouts.  Uses no cairn error
 * (it runs on the queue's thread too); -1 when out of memory.
 */
CAIRN_WARN_UNUSED int cairn_webhook__attempt_setup(cairn_webhook_delivery *d, CURL *easy);

/* Records the outcome of an attempt and says what to do next. */
cairn_webhook_verdict cairn_webhook__attempt_verdict(
	cairn_webhook_delivery *d, CURL *easy, CURLcode code);

/* True when d may be tried again after a RETRY verdict. */
bool cairn_webhook__may_retry(const cairn_webhook_delivery *d);

uint64_t cairn_webhook__backoff_ms(unsigned attempt);

/*
 * Why the last attempt failed, one scrubbed line: "HTTP 500 (the
 * receiver said: ...)", "Connection refused ...".
 */
CAIRN_WARN_UNUSED int cairn_webhook__reason(cairn_buf *out, const cairn_webhook_delivery *d);

/*
 * Delivers d now on easy, retrying as the target says and logging
 * retries to ctx's log.  0, or CAIRN_ERROR with the hook's error set.
 */
CAIRN_WARN_UNUSED int cairn_webhook__deliver(cairn_webhook_delivery *d, CURL *easy,
			   const cairn_hook_context *ctx);

/* webhook_queue.c */
typedef struct cairn_webhook_queue cairn_webhook_queue;

CAIRN_WARN_UNUSED int cairn_webhook__queue_new(cairn_webhook_queue **out);
void cairn_webhook__queue_ref(cairn_webhook_queue *q);
/* Drops a reference; the last one waits for the queue, stops its thread. */
void cairn_webhook__queue_unref(cairn_webhook_queue *q);
/*
 * Hands d over to the queue (which frees it), starting the thread on
 * first use.  On failure d is still the caller's.
 */
CAIRN_WARN_UNUSED int cairn_webhook__queue_push(cairn_webhook_queue *q,
			      cairn_webhook_delivery *d);
/* Waits until every delivery pushed so far has ended. */
void cairn_webhook__queue_wait(cairn_webhook_queue *q);
/*
 * Waits, then reports the deliveries that ended since the last call.
 * Adds to *total and *failed (failed: not ok and not on_failure ignore);
 * describes up to a few failures in detail.
 */
void cairn_webhook__queue_collect(cairn_webhook_queue *q,
				  cairn_webhook_report_fn report,
				  void *payload, size_t *total,
				  size_t *failed, cairn_buf *detail);

#endif
