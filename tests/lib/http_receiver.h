/*
 * http_receiver.h - a real HTTP/1.1 server on 127.0.0.1 for tests of
 * things that send HTTP requests (webhooks).
 *
 * tu_http_start() listens on an OS-chosen port and serves from background
 * threads (one to accept, one per connection, keep-alive supported), so
 * many requests can be in flight at once.  Every request is recorded
 * whole - method, target, headers, body - before it is answered.  What it
 * answers is scripted: each request takes the next entry pushed with
 * tu_http_push() (status, delay before answering, body), or the default
 * (tu_http_set_default; initially 200 at once with body "ok") when none
 * is left.  Status TU_HTTP_NEVER holds the connection open without ever
 * answering, until the client gives up or the receiver stops.
 *
 * Helpers abort() on set-up failures: a test cannot go on without its
 * receiver.  Requests returned by tu_http_request_at() are owned by the
 * receiver and valid until tu_http_stop().
 */
#ifndef CAIRN_HTTP_RECEIVER_H
#define CAIRN_HTTP_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#define TU_HTTP_NEVER 0

typedef struct tu_http_field {
	char *name;
	char *value;
} tu_http_field;

typedef struct tu_http_request {
	char *method;
	char *target;            /* path and query, as sent */
	tu_http_field *headers; /* in the order sent */
	size_t header_count;
	char *body;              /* NUL-terminated */
	size_t body_len;
	int64_t received_ms;     /* monotonic clock, when fully read */
} tu_http_request;

typedef struct tu_http_receiver tu_http_receiver;

tu_http_receiver *tu_http_start(void);
/* Stops serving (held connections are closed) and frees everything. */
void tu_http_stop(tu_http_receiver *r);

int tu_http_port(const tu_http_receiver *r);
/* "http://127.0.0.1:<port><path>"; caller frees. */
char *tu_http_url(const tu_http_receiver *r, const char *path);

/* Appends an answer to the script (body may be NULL: empty). */
void tu_http_push(tu_http_receiver *r, int status, int delay_ms,
		  const char *body);
/* The answer when the script is empty. */
void tu_http_set_default(tu_http_receiver *r, int status, int delay_ms,
			 const char *body);

/* Requests received so far. */
size_t tu_http_count(tu_http_receiver *r);
/* Waits until n requests arrived or timeout_ms passed; the count. */
size_t tu_http_wait(tu_http_receiver *r, size_t n, int timeout_ms);
/* Answers sent so far (counted just before each is written). */
size_t tu_http_answered(tu_http_receiver *r);
/* Request i (0-based, in the order received), or NULL. */
const tu_http_request *tu_http_request_at(tu_http_receiver *r, size_t i);
/* A header's value (case-insensitive name), or NULL. */
const char *tu_http_header(const tu_http_request *req, const char *name);

/* Milliseconds from the monotonic clock. */
int64_t tu_now_ms(void);

#endif
