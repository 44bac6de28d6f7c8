/*
 * http_receiver.c - a scriptable HTTP/1.1 server for tests; see
 * http_receiver.h.
 *
 * Threads: the acceptor polls the listening socket and a stop pipe;
 * each accepted connection gets a thread that reads requests
 * (Content-Length bodies; chunked bodies are decoded too), records them,
 * takes its answer from the script, waits the answer's delay and writes
 * it, and loops while the client keeps the connection alive.  Every wait
 * also polls the stop pipe, which tu_http_stop() makes readable for good,
 * so stopping never waits for a delay or a held connection.
 *
 * One mutex guards the script, the request list and the thread list; a
 * condition variable wakes tu_http_wait().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_receiver.h"

/* Largest request head and body accepted. */
#define HEAD_MAX (64 * 1024)
#define BODY_MAX (16 * 1024 * 1024)

typedef struct {
	int status;
	int delay_ms;
	char *body;
} answer;

typedef struct conn conn;

struct tu_http_receiver {
	int listen_fd;
	int stop_pipe[2];
	int port;
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	answer *script;
	size_t script_count, script_alloc, script_next;
	answer fallback;
	tu_http_request **requests;
	size_t request_count, request_alloc;
	size_t answered;
	conn **conns;
	size_t conn_count, conn_alloc;
};

struct conn {
	tu_http_receiver *r;
	int fd;
	pthread_t thread;
	char *buf;        /* bytes read and not yet consumed */
	size_t len, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "http_receiver: %s: %s\n", what, strerror(errno));
	abort();
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("realloc");
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		die("malloc");
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

int64_t tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits for fd to be readable for up to timeout_ms (-1: forever).
 * Returns 1 readable, 0 timed out, -1 stopping.
 */
static int wait_readable(tu_http_receiver *r, int fd, int timeout_ms)
{
	struct pollfd p[2];
	int64_t end = timeout_ms < 0 ? 0 : tu_now_ms() + timeout_ms;

	for (;;) {
		int left = timeout_ms < 0 ? -1 : (int)(end - tu_now_ms());
		int n;

		if (timeout_ms >= 0 && left < 0)
			left = 0;
		p[0].fd = r->stop_pipe[0];
		p[0].events = POLLIN;
		p[1].fd = fd;
		p[1].events = POLLIN;
		n = poll(p, fd >= 0 ? 2 : 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (p[0].revents)
			return -1;
		if (n == 0)
			return 0;
		return 1;
	}
}

/* Reads more bytes into c->buf; 0 on EOF, -1 on error or stop. */
static ssize_t fill(conn *c)
{
	ssize_t n;

	if (wait_readable(c->r, c->fd, -1) < 0)
		return -1;
	if (c->cap - c->len < 4096) {
		c->cap = c->cap ? c->cap * 2 : 8192;
		c->buf = xrealloc(c->buf, c->cap);
	}
	do
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

static void consume(conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

static char *find_crlf(conn *c, size_t from)
{
	for (size_t i = from; i + 1 < c->len; i++)
		if (c->buf[i] == '\r' && c->buf[i + 1] == '\n')
			return c->buf + i;
	return NULL;
}

/* Ensures n bytes are buffered; false on EOF/stop. */
static int need(conn *c, size_t n)
{
	while (c->len < n)
		if (fill(c) <= 0)
			return 0;
	return 1;
}

static void request_free(tu_http_request *q)
{
	if (!q)
		return;
	free(q->method);
	free(q->target);
	for (size_t i = 0; i < q->header_count; i++) {
		free(q->headers[i].name);
		free(q->headers[i].value);
	}
	free(q->headers);
	free(q->body);
	free(q);
}

const char *tu_http_header(const tu_http_request *req, const char *name)
{
	for (size_t i = 0; req && i < req->header_count; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

static void append_body(tu_http_request *q, const char *data, size_t n)
{
	q->body = xrealloc(q->body, q->body_len + n + 1);
	memcpy(q->body + q->body_len, data, n);
	q->body_len += n;
	q->body[q->body_len] = '\0';
}

/* Reads a chunked body; 1 ok, 0 on EOF/stop/garbage. */
static int read_chunked(conn *c, tu_http_request *q)
{
	for (;;) {
		char *eol, *end;
		unsigned long size;

		while (!(eol = find_crlf(c, 0)))
			if (c->len > HEAD_MAX || fill(c) <= 0)
				return 0;
		size = strtoul(c->buf, &end, 16);
		if (end == c->buf || size > BODY_MAX)
			return 0;
		consume(c, (size_t)(eol - c->buf) + 2);
		if (size == 0) {
			/* trailers until an empty line */
			for (;;) {
				while (!(eol = find_crlf(c, 0)))
					if (fill(c) <= 0)
						return 0;
				if (eol == c->buf) {
					consume(c, 2);
					return 1;
				}
				consume(c, (size_t)(eol - c->buf) + 2);
			}
		}
		if (!need(c, size + 2))
			return 0;
		append_body(q, c->buf, size);
		consume(c, size + 2);
	}
}

/* Reads one request; NULL on EOF, error or stop. */
static tu_http_request *read_request(conn *c, int *keep_alive)
{
	tu_http_request *q;
	char *head_end, *line, *eol, *sp1, *sp2;
	const char *v;
	size_t head_len;

	for (;;) {
		head_end = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) :
					 NULL;
		if (head_end)
			break;
		if (c->len > HEAD_MAX || fill(c) <= 0)
			return NULL;
	}
	head_len = (size_t)(head_end - c->buf) + 4;
	q = calloc(1, sizeof(*q));
	if (!q)
		die("calloc");
	q->body = xstrndup("", 0);
	line = c->buf;
	eol = memmem(line, head_len, "\r\n", 2);
	sp1 = memchr(line, ' ', (size_t)(eol - line));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2) {
		request_free(q);
		return NULL;
	}
	q->method = xstrndup(line, (size_t)(sp1 - line));
	q->target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	for (line = eol + 2; line < head_end; line = eol + 2) {
		char *colon;
		size_t vs;

		eol = memmem(line, (size_t)(head_end + 2 - line), "\r\n", 2);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon)
			continue;
		vs = (size_t)(colon + 1 - line);
		while (line + vs < eol && (line[vs] == ' ' || line[vs] == '\t'))
			vs++;
		q->headers = xrealloc(q->headers, (q->header_count + 1) *
					sizeof(*q->headers));
		q->headers[q->header_count].name =
			xstrndup(line, (size_t)(colon - line));
		q->headers[q->header_count].value =
			xstrndup(line + vs, (size_t)(eol - line) - vs);
		q->header_count++;
	}
	consume(c, head_len);
	v = tu_http_header(q, "Transfer-Encoding");
	if (v && strcasestr(v, "chunked")) {
		if (!read_chunked(c, q)) {
			request_free(q);
			return NULL;
		}
	} else if ((v = tu_http_header(q, "Content-Length"))) {
		size_t n = strtoul(v, NULL, 10);

		if (n > BODY_MAX || !need(c, n)) {
			request_free(q);
			return NULL;
		}
		append_body(q, c->buf, n);
		consume(c, n);
	}
	v = tu_http_header(q, "Connection");
	*keep_alive = !(v && !strcasecmp(v, "close"));
	q->received_ms = tu_now_ms();
	return q;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Records q and picks its answer (copied into *a). */
static void record(tu_http_receiver *r, tu_http_request *q, answer *a)
{
	pthread_mutex_lock(&r->lock);
	if (r->request_count == r->request_alloc) {
		r->request_alloc = r->request_alloc ? r->request_alloc * 2 : 16;
		r->requests = xrealloc(r->requests, r->request_alloc *
				       sizeof(*r->requests));
	}
	r->requests[r->request_count++] = q;
	if (r->script_next < r->script_count)
		*a = r->script[r->script_next++];
	else
		*a = r->fallback;
	a->body = xstrndup(a->body ? a->body : "",
			   a->body ? strlen(a->body) : 0);
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static void *serve(void *arg)
{
	conn *c = arg;
	tu_http_receiver *r = c->r;

	for (;;) {
		tu_http_request *q;
		char head[256];
		int keep = 1, n;
		answer a;

		q = read_request(c, &keep);
		if (!q)
			break;
		record(r, q, &a);
		if (a.status == TU_HTTP_NEVER) {
			/* hold on until the client leaves or we stop */
			char sink[512];

			free(a.body);
			while (wait_readable(r, c->fd, -1) > 0 &&
			       read(c->fd, sink, sizeof(sink)) > 0)
				;
			break;
		}
		if (a.delay_ms > 0 && wait_readable(r, -1, a.delay_ms) < 0) {
			free(a.body);
			break;
		}
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			     "Content-Length: %zu\r\n%s\r\n", a.status,
			     reason(a.status), strlen(a.body),
			     keep ? "" : "Connection: close\r\n");
		/* counted first: the client may see the answer before we
		 * get back from writing it */
		pthread_mutex_lock(&r->lock);
		r->answered++;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
		if (write_all(c->fd, head, (size_t)n) < 0 ||
		    write_all(c->fd, a.body, strlen(a.body)) < 0) {
			free(a.body);
			break;
		}
		free(a.body);
		if (!keep)
			break;
	}
	close(c->fd);
	c->fd = -1;
	return NULL;
}

static void *acceptor(void *arg)
{
	tu_http_receiver *r = arg;

	for (;;) {
		conn *c;
		int fd, one = 1;

		if (wait_readable(r, r->listen_fd, -1) < 0)
			break;
		fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c)
			die("calloc");
		c->r = r;
		c->fd = fd;
		pthread_mutex_lock(&r->lock);
		if (r->conn_count == r->conn_alloc) {
			r->conn_alloc = r->conn_alloc ? r->conn_alloc * 2 : 16;
			r->conns = xrealloc(r->conns, r->conn_alloc *
					    sizeof(*r->conns));
		}
		r->conns[r->conn_count++] = c;
		if (pthread_create(&c->thread, NULL, serve, c) != 0)
			die("pthread_create");
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

tu_http_receiver *tu_http_start(void)
{
	tu_http_receiver *r = calloc(1, sizeof(*r));
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int one = 1;

	if (!r)
		die("calloc");
	r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0)
		die("socket");
	setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	if (bind(r->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(r->listen_fd, 1024) < 0)
		die("listen");
	if (getsockname(r->listen_fd, (struct sockaddr *)&sa, &len) < 0)
		die("getsockname");
	r->port = ntohs(sa.sin_port);
	if (pipe2(r->stop_pipe, O_CLOEXEC) < 0)
		die("pipe");
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->fallback.status = 200;
	r->fallback.body = xstrndup("ok", 2);
	if (pthread_create(&r->acceptor, NULL, acceptor, r) != 0)
		die("pthread_create");
	return r;
}

void tu_http_stop(tu_http_receiver *r)
{
	size_t i;

	if (!r)
		return;
	if (write(r->stop_pipe[1], "x", 1) != 1)
		die("write");
	pthread_join(r->acceptor, NULL);
	/* no new connections now; the list is stable */
	for (i = 0; i < r->conn_count; i++) {
		pthread_join(r->conns[i]->thread, NULL);
		free(r->conns[i]->buf);
		free(r->conns[i]);
	}
	free(r->conns);
	close(r->listen_fd);
	close(r->stop_pipe[0]);
	close(r->stop_pipe[1]);
	for (i = 0; i < r->request_count; i++)
		request_free(r->requests[i]);
	free(r->requests);
	for (i = 0; i < r->script_count; i++)
		free(r->script[i].body);
	free(r->script);
	free(r->fallback.body);
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int tu_http_port(const tu_http_receiver *r)
{
	return r->port;
}

char *tu_http_url(const tu_http_receiver *r, const char *path)
{
	size_t n = strlen(path) + 64;
	char *s = malloc(n);

	if (!s)
		die("malloc");
	snprintf(s, n, "http://127.0.0.1:%d%s", r->port, path);
	return s;
}

void tu_http_push(tu_http_receiver *r, int status, int delay_ms,
		  const char *body)
{
	pthread_mutex_lock(&r->lock);
	if (r->script_count == r->script_alloc) {
		r->script_alloc = r->script_alloc ? r->script_alloc * 2 : 8;
		r->script = xrealloc(r->script, r->script_alloc *
				     sizeof(*r->script));
	}
	r->script[r->script_count].status = status;
	r->script[r->script_count].delay_ms = delay_ms;
	r->script[r->script_count].body =
		xstrndup(body ? body : "", body ? strlen(body) : 0);
	r->script_count++;
	pthread_mutex_unlock(&r->lock);
}

void tu_http_set_default(tu_http_receiver *r, int status, int delay_ms,
			 const char *body)
{
	pthread_mutex_lock(&r->lock);
	free(r->fallback.body);
	r->fallback.status = status;
	r->fallback.delay_ms = delay_ms;
	r->fallback.body = xstrndup(body ? body : "", body ? strlen(body) : 0);
	pthread_mutex_unlock(&r->lock);
}

size_t tu_http_count(tu_http_receiver *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->request_count;
	pthread_mutex_unlock(&r->lock);
	return n;
}

size_t tu_http_answered(tu_http_receiver *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->answered;
	pthread_mutex_unlock(&r->lock);
	return n;
}

size_t tu_http_wait(tu_http_receiver *r, size_t n, int timeout_ms)
{
	struct timespec deadline;
	size_t got;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	while (r->request_count < n &&
	       pthread_cond_timedwait(&r->changed, &r->lock, &deadline) == 0)
		;
	got = r->request_count;
	pthread_mutex_unlock(&r->lock);
	return got;
}

const tu_http_request *tu_http_request_at(tu_http_receiver *r, size_t i)
{
	const tu_http_request *q = NULL;

	pthread_mutex_lock(&r->lock);
	if (i < r->request_count)
		q = r->requests[i];
	pthread_mutex_unlock(&r->lock);
	return q;
}
