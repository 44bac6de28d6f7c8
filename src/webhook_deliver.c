/*
 * webhook_deliver.c - one webhook delivery: its request, the verdict on
 * each attempt, and the synchronous send-and-retry loop (see webhook.h).
 *
 * A delivery is made when its hook fires: the body is built then, since
 * the context is valid only during the call, together with a random
 * delivery id (a UUID, sent as X-Cairn-Delivery on every attempt so a
 * receiver can drop duplicates).  Each attempt re-sets the curl handle
 * (curl_easy_reset keeps its live connections, so consecutive deliveries
 * of one hook reuse a connection) and builds the headers anew: the
 * timestamp and signature are those of the moment of the attempt.
 *
 * The signed string (include/cairn/webhook.h, for receivers) is
 *
 *     <X-Cairn-Timestamp value> "." <body>
 *
 * i.e. the decimal Unix time, one full stop, then the request body byte
 * for byte; X-Cairn-Signature is "sha256=" and the lowercase hex
 * HMAC-SHA256 of it under the secret.
 *
 * Verdicts: a 2xx answer is done; a connection failure, a timeout, a
 * broken transfer or a 5xx answer is worth another attempt; anything else
 * (4xx, 3xx: redirects are not followed, a bad certificate, ...) gives up
 * at once.  There are at most 1 + retries attempts, each bounded by
 * connect_timeout_ms (connecting) and timeout_ms (the whole attempt), and
 * attempt n+1 starts backoff(n) = 200 ms * 2^(n-1) (capped at 5 s) after
 * attempt n ended; so a delivery ends within
 * (retries + 1) * timeout + sum of the backoffs.
 *
 * Nothing here puts a URL path, query, user info, header value or secret
 * into a message: the receiver is named by target->shown and any text
 * from curl or from the receiver goes through cairn_webhook__scrub().
 * Functions used on the queue's thread set no cairn error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "engine/session.h"
#include "util/util.h"
#include "webhook.h"

/* How much of an answer goes into a message. */
#define ANSWER_SHOWN 200

static void make_id(char out[40])
{
	static unsigned long counter;
	unsigned char r[16];
	char hex[33];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* no entropy: unique enough within this process */
		unsigned long long x = (unsigned long long)cairn__now_us() ^
				       ((unsigned long long)getpid() << 40);
		unsigned long c = __atomic_add_fetch(&counter, 1,
						     __ATOMIC_RELAXED);

		memcpy(r, &x, 8);
		memcpy(r + 8, &c, sizeof(c) < 8 ? sizeof(c) : 8);
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* variant 1 */
	cairn__hex(hex, r, 16);
	snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		 hex + 12, hex + 16, hex + 20);
}

int cairn_webhook__delivery_new(cairn_webhook_delivery **out,
				const cairn_webhook_target *t,
				const cairn_hook_context *ctx)
{
	cairn_webhook_delivery *d;

	*out = NULL;
	d = cairn__calloc(1, sizeof(*d));
	if (!d)
		return CAIRN_ERROR;
	d->target = t;
	d->event = cairn_event_name(ctx->event);
	if (!d->event)
		d->event = "unknown";
	d->queued_ms = cairn__now_ms();
	cairn_buf_init(&d->answer, CAIRN_WEBHOOK_ANSWER_MAX);
	make_id(d->id);
	if (cairn_webhook__body(&d->body, t->format, ctx) < 0) {
		cairn_webhook__delivery_free(d);
		return CAIRN_ERROR;
	}
	d->body_len = strlen(d->body);
	*out = d;
	return 0;
}

void cairn_webhook__delivery_free(cairn_webhook_delivery *d)
{
	if (!d)
		return;
	free(d->body);
	curl_slist_free_all(d->headers);
	cairn_buf_dispose(&d->answer);
	if (d->easy)
		curl_easy_cleanup(d->easy);
	free(d);
}

/* Keeps the first CAIRN_WEBHOOK_ANSWER_MAX bytes of the answer. */
static size_t on_answer(char *data, size_t size, size_t n, void *payload)
{
	cairn_webhook_delivery *d = payload;
	size_t len = size * n, room = d->answer.max - d->answer.size;

	if (room)
		cairn_buf_put(&d->answer, data, len < room ? len : room);
	return len;
}

/* Stops a synchronous transfer when the run is being interrupted. */
static int on_progress(void *payload, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	const cairn_webhook_delivery *d = payload;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return d->cancel && *d->cancel ? 1 : 0;
}

/* Appends one "Name: value" header line to d->headers. */
static int add_header(cairn_webhook_delivery *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_header(cairn_webhook_delivery *d, const char *fmt, ...)
{
	cairn_buf b = CAIRN_BUF_INIT;
	struct curl_slist *l;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cairn_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	l = curl_slist_append(d->headers, b.ptr);
	cairn_buf_dispose(&b);
	if (!l)
		return -1;
	d->headers = l;
	return 0;
}

static int add_signature(cairn_webhook_delivery *d)
{
	const cairn_webhook_target *t = d->target;
	cairn_buf msg = CAIRN_BUF_INIT;
	char hex[65];
	long long now = (long long)time(NULL);
	int rc = -1;

	if (cairn_buf_printf(&msg, "%lld.", now) < 0 ||
	    cairn_buf_put(&msg, d->body, d->body_len) < 0 ||
	    cairn__hmac_sha256_hex(hex, t->secret, t->secret_len, msg.ptr,
				   msg.size) < 0)
		goto out;
	if (add_header(d, "X-Cairn-Timestamp: %lld", now) < 0 ||
	    add_header(d, "X-Cairn-Signature: sha256=%s", hex) < 0)
		goto out;
	rc = 0;
out:
	cairn_buf_dispose(&msg);
	return rc;
}

static int build_headers(cairn_webhook_delivery *d)
{
	const cairn_webhook_target *t = d->target;

	curl_slist_free_all(d->headers);
	d->headers = NULL;
	if ((!t->content_type_set &&
	     add_header(d, "Content-Type: application/json") < 0) ||
	    (!t->user_agent_set &&
	     add_header(d, "User-Agent: cairn/%s", CAIRN_VERSION) < 0) ||
	    /* no "100 Continue" round trip before larger bodies */
	    add_header(d, "Expect:") < 0 ||
	    add_header(d, "X-Cairn-Event: %s", d->event) < 0 ||
	    add_header(d, "X-Cairn-Delivery: %s", d->id) < 0 ||
	    add_header(d, "X-Cairn-Attempt: %u", d->attempts) < 0)
		return -1;
	if (t->secret && add_signature(d) < 0)
		return -1;
	for (size_t i = 0; i < t->headers_count; i++) {
		const cairn_kv *h = &t->headers[i];

		/* "Name;" is curl's way to send a header with no value */
		int rc = *h->value ?
			add_header(d, "%s: %s", h->key, h->value) :
			add_header(d, "%s;", h->key);

		if (rc < 0)
			return -1;
	}
	return 0;
}

int cairn_webhook__attempt_setup(cairn_webhook_delivery *d, CURL *easy)
{
	const cairn_webhook_target *t = d->target;
	CURLcode c = CURLE_OK;

	d->attempts++;
	d->errbuf[0] = '\0';
	d->code = CURLE_OK;
	d->http_status = 0;
	cairn_buf_clear(&d->answer);
	if (build_headers(d) < 0)
		return -1;
	curl_easy_reset(easy);
#define SET(opt, val) do { if (c == CURLE_OK) \
		c = curl_easy_setopt(easy, opt, val); } while (0)
	SET(CURLOPT_URL, t->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, d->body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body_len);
	SET(CURLOPT_HTTPHEADER, d->headers);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)t->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
	SET(CURLOPT_WRITEFUNCTION, on_answer);
	SET(CURLOPT_WRITEDATA, d);
	SET(CURLOPT_ERRORBUFFER, d->errbuf);
	SET(CURLOPT_PRIVATE, d);
	if (d->cancel) {
		SET(CURLOPT_XFERINFOFUNCTION, on_progress);
		SET(CURLOPT_XFERINFODATA, d);
		SET(CURLOPT_NOPROGRESS, 0L);
	}
#undef SET
	return c == CURLE_OK ? 0 : -1;
}

static bool retryable(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

cairn_webhook_verdict cairn_webhook__attempt_verdict(
	cairn_webhook_delivery *d, CURL *easy, CURLcode code)
{
	long status = 0;

	d->code = code;
	if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		status = 0;
	d->http_status = status;
	if (code == CURLE_OK) {
		if (status >= 200 && status < 300)
			return CAIRN_WEBHOOK_DONE;
		return status >= 500 ? CAIRN_WEBHOOK_RETRY :
				       CAIRN_WEBHOOK_GIVE_UP;
	}
	if (code == CURLE_ABORTED_BY_CALLBACK)
		return CAIRN_WEBHOOK_GIVE_UP;
	return retryable(code) ? CAIRN_WEBHOOK_RETRY : CAIRN_WEBHOOK_GIVE_UP;
}

bool cairn_webhook__may_retry(const cairn_webhook_delivery *d)
{
	return d->attempts <= d->target->retries &&
	       !(d->cancel && *d->cancel);
}

uint64_t cairn_webhook__backoff_ms(unsigned attempt)
{
	uint64_t ms = CAIRN_WEBHOOK_BACKOFF_MS;

	while (attempt-- > 1 && ms < CAIRN_WEBHOOK_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < CAIRN_WEBHOOK_BACKOFF_MAX_MS ? ms :
						   CAIRN_WEBHOOK_BACKOFF_MAX_MS;
}

/* The first line of the answer, scrubbed, cut to ANSWER_SHOWN bytes. */
static int answer_text(cairn_buf *out, const cairn_webhook_delivery *d)
{
	const char *a = d->answer.ptr;
	size_t len = d->answer.size;

	while (len && (*a == ' ' || *a == '\n' || *a == '\r' || *a == '\t')) {
		a++;
		len--;
	}
	if (len > ANSWER_SHOWN)
		len = ANSWER_SHOWN;
	/* whole UTF-8 characters only */
	while (len && len < d->answer.size &&
	       ((unsigned char)a[len] & 0xC0) == 0x80)
		len--;
	while (len && (a[len - 1] == ' ' || a[len - 1] == '\n' ||
		       a[len - 1] == '\r'))
		len--;
	return cairn_webhook__scrub(out, d->target, a, len);
}

static int reason_text(cairn_buf *out, const cairn_webhook_delivery *d,
		       bool with_answer)
{
	const char *e;

	if (d->code == CURLE_OK) {
		if (cairn_buf_printf(out, "HTTP %ld", d->http_status) < 0)
			return CAIRN_ERROR;
		if (!with_answer || !d->answer.size)
			return 0;
		if (cairn_buf_puts(out, " (the receiver said: ") < 0 ||
		    answer_text(out, d) < 0 || cairn_buf_putc(out, ')') < 0)
			return CAIRN_ERROR;
		return 0;
	}
	if (d->code == CURLE_ABORTED_BY_CALLBACK)
		return cairn_buf_puts(out, "interrupted");
	e = d->errbuf[0] ? d->errbuf : curl_easy_strerror(d->code);
	return cairn_webhook__scrub(out, d->target, e, strlen(e));
}

int cairn_webhook__reason(cairn_buf *out, const cairn_webhook_delivery *d)
{
	return reason_text(out, d, true);
}

/* Sleeps ms milliseconds; false when interrupted by *cancel. */
static bool nap(uint64_t ms, volatile sig_atomic_t *cancel)
{
	int64_t end = cairn__now_ms() + (int64_t)ms;

	for (;;) {
		int64_t left = end - cairn__now_ms();
		struct timespec ts;

		if (cancel && *cancel)
			return false;
		if (left <= 0)
			return true;
		if (left > 50)
			left = 50;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			if (cancel && *cancel)
				return false;
	}
}

static void log_retry(const cairn_hook_context *ctx,
		      const cairn_webhook_delivery *d, uint64_t wait)
{
	cairn_buf b = CAIRN_BUF_INIT;

	if (cairn_buf_printf(&b, "attempt %u of %u to %s failed (",
			     d->attempts, d->target->retries + 1,
			     d->target->shown) == 0 &&
	    reason_text(&b, d, false) == 0 &&
	    cairn_buf_printf(&b, "); retrying in %llu ms",
			     (unsigned long long)wait) == 0)
		cairn_hook_log(ctx, d->target->name, b.ptr);
	cairn_buf_dispose(&b);
}

static int fail(const cairn_webhook_delivery *d, cairn_webhook_verdict v)
{
	const cairn_webhook_target *t = d->target;
	cairn_buf why = CAIRN_BUF_INIT, said = CAIRN_BUF_INIT;

	if (d->code == CURLE_ABORTED_BY_CALLBACK ||
	    (d->cancel && *d->cancel)) {
		cairn_error__set(CAIRN_ERRCLASS_INTERRUPTED,
				 "webhook '%s' to %s was interrupted",
				 t->name, t->shown);
		return CAIRN_EINTERRUPTED;
	}
	if (reason_text(&why, d, false) < 0 || answer_text(&said, d) < 0) {
		cairn_buf_dispose(&why);
		cairn_buf_dispose(&said);
		return cairn_error__oom();
	}
	if (v == CAIRN_WEBHOOK_GIVE_UP && d->code == CURLE_OK &&
	    d->http_status >= 400 && d->http_status < 500) {
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "webhook '%s' to %s was refused: %s",
				 t->name, t->shown, why.ptr);
		cairn_error__hint("4xx answers are not retried: check the "
				  "hook's URL, headers and secret");
	} else if (d->attempts > 1) {
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "webhook '%s' to %s failed after %u "
				 "attempts: %s", t->name, t->shown,
				 d->attempts, why.ptr);
	} else {
		cairn_error__set(CAIRN_ERRCLASS_HOOK,
				 "webhook '%s' to %s failed: %s", t->name,
				 t->shown, why.ptr);
	}
	if (said.size)
		cairn_error__detail("The receiver said: %s", said.ptr);
	cairn_buf_dispose(&why);
	cairn_buf_dispose(&said);
	return CAIRN_ERROR;
}

int cairn_webhook__deliver(cairn_webhook_delivery *d, CURL *easy,
			   const cairn_hook_context *ctx)
{
	cairn_webhook_verdict v;

	d->cancel = ctx->session ? ctx->session->cancel : NULL;
	for (;;) {
		uint64_t wait;

		if (cairn_webhook__attempt_setup(d, easy) < 0)
			return cairn_error__oom();
		v = cairn_webhook__attempt_verdict(d, easy,
						   curl_easy_perform(easy));
		if (v == CAIRN_WEBHOOK_DONE)
			return 0;
		if (v == CAIRN_WEBHOOK_GIVE_UP || !cairn_webhook__may_retry(d))
			break;
		wait = cairn_webhook__backoff_ms(d->attempts);
		log_retry(ctx, d, wait);
		if (!nap(wait, d->cancel))
			break;
	}
	return fail(d, v);
}
