/*
 * webhook_target.c - what a webhook hook posts where, checked once at
 * registration (see webhook.h).
 *
 * The URL is parsed with libcurl's URL API and must be http or https.  It
 * is kept whole for requests but never shown: messages use `shown`,
 * scheme://host[:port]/ followed by "…" when the URL has a path or query
 * (webhook URLs such as Slack's carry their credential in the path).
 * Everything that must not reach a message - the URL, its path (and each
 * of its segments), query (and each pair and value), fragment, user name
 * and password, the secret and the values of the hook's headers (an
 * Authorization token) - goes into a list of
 * sensitive strings; cairn_webhook__scrub() replaces any of them found in
 * text that came from elsewhere (curl's error text, a receiver's answer)
 * by "…" before it is put into a message.
 *
 * The secret is read from the environment variable named by secret_env
 * now, so that a missing variable is a configuration error before
 * anything runs, and is wiped from memory when the target is freed.
 *
 * curl_global_init() is not thread-safe; it runs once per process under
 * pthread_once from here, at registration, before any thread of ours
 * exists.  It is never undone (other code in the process may use curl).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "util/util.h"
#include "webhook.h"

/* Sensitive strings shorter than this are not scrubbed (too common). */
#define MIN_SCRUB_LEN 4

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int cairn_webhook__global_init(void)
{
	if (pthread_once(&global_once, global_init) != 0 ||
	    global_rc != CURLE_OK)
		return cairn_error__set(CAIRN_ERRCLASS_OS,
					"cannot initialise libcurl: %s",
					curl_easy_strerror(global_rc));
	return 0;
}

static void free_strings(char **list)
{
	if (!list)
		return;
	for (size_t i = 0; list[i]; i++)
		free(list[i]);
	free(list);
}

void cairn_webhook__target_free(cairn_webhook_target *t)
{
	if (!t)
		return;
	free(t->name);
	if (t->url) {
		memset(t->url, 0, strlen(t->url));
		free(t->url);
	}
	free(t->shown);
	if (t->sensitive) {
		for (size_t i = 0; t->sensitive[i]; i++)
			memset(t->sensitive[i], 0, strlen(t->sensitive[i]));
		free_strings(t->sensitive);
	}
	if (t->secret) {
		memset(t->secret, 0, t->secret_len);
		free(t->secret);
	}
	for (size_t i = 0; i < t->headers_count; i++) {
		free(t->headers[i].key);
		free(t->headers[i].value);
	}
	free(t->headers);
	free(t);
}

static int cmp_longest_first(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Adds s to the sensitive list (copied) when it is long enough. */
static int add_sensitive(cairn_strvec *v, const char *s, size_t min)
{
	if (!s || strlen(s) < min || cairn_strvec_contains(v, s))
		return 0;
	return cairn_strvec_push(v, s);
}

/* Adds each piece of s between separators in seps. */
static int add_pieces(cairn_strvec *v, const char *s, const char *seps)
{
	while (*s) {
		size_t n = strcspn(s, seps);
		char *piece = cairn__strndup(s, n);
		int rc;

		if (!piece)
			return CAIRN_ERROR;
		rc = add_sensitive(v, piece, MIN_SCRUB_LEN);
		free(piece);
		if (rc < 0)
			return CAIRN_ERROR;
		s += n;
		s += strspn(s, seps);
	}
	return 0;
}

/* One part of a parsed URL, or NULL when absent. */
static char *url_part(CURLU *u, CURLUPart part)
{
	char *s = NULL;

	if (curl_url_get(u, part, &s, 0) != CURLUE_OK)
		return NULL;
	return s;
}

static int url_error(const cairn_webhook_target *t, const char *why)
{
	cairn_error__set(CAIRN_ERRCLASS_CONFIG,
			 "webhook hook '%s' has an invalid URL: %s", t->name,
			 why);
	cairn_error__hint("write the receiver's URL as http://host/path or "
			  "https://host/path");
	return CAIRN_ERROR;
}

/* Parses t->url into t->shown and the URL's sensitive parts. */
static int parse_url(cairn_webhook_target *t, cairn_strvec *sensitive)
{
	static const CURLUPart secret_parts[] = {
		CURLUPART_PATH, CURLUPART_QUERY, CURLUPART_FRAGMENT,
		CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS,
	};
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *query = NULL;
	cairn_buf shown = CAIRN_BUF_INIT;
	CURLUcode uc;
	CURLU *u;
	int rc = CAIRN_ERROR;

	if (!*t->url) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "webhook hook '%s' has an empty URL", t->name);
		cairn_error__hint("if the URL comes from ${VARIABLE}, set "
				  "that variable");
		return CAIRN_ERROR;
	}
	u = curl_url();
	if (!u)
		return cairn_error__oom();
	uc = curl_url_set(u, CURLUPART_URL, t->url, 0);
	if (uc != CURLUE_OK) {
		url_error(t, curl_url_strerror(uc));
		goto out;
	}
	scheme = url_part(u, CURLUPART_SCHEME);
	host = url_part(u, CURLUPART_HOST);
	port = url_part(u, CURLUPART_PORT);
	path = url_part(u, CURLUPART_PATH);
	query = url_part(u, CURLUPART_QUERY);
	if (!scheme || (strcasecmp(scheme, "http") &&
			strcasecmp(scheme, "https"))) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "webhook hook '%s' must use http or https, "
				 "not '%s'", t->name,
				 scheme ? scheme : "(none)");
		goto out;
	}
	if (!host || !*host) {
		url_error(t, "it names no host");
		goto out;
	}
	if (cairn_buf_printf(&shown, "%s://%s", scheme, host) < 0 ||
	    (port && cairn_buf_printf(&shown, ":%s", port) < 0) ||
	    cairn_buf_puts(&shown, (path && strcmp(path, "/")) || query ?
			   "/…" : "/") < 0)
		goto out;
	t->shown = cairn_buf_detach(&shown);
	if (!t->shown)
		goto out;
	if (add_sensitive(sensitive, t->url, 1) < 0)
		goto out;
	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(secret_parts); i++) {
		char *s = url_part(u, secret_parts[i]);
		int r = 0;

		if (s) {
			r = add_sensitive(sensitive, s,
					  secret_parts[i] == CURLUPART_PATH ?
					  2 : MIN_SCRUB_LEN);
			/* each path segment, query pair and value alone */
			if (r == 0 && secret_parts[i] == CURLUPART_PATH)
				r = add_pieces(sensitive, s, "/");
			if (r == 0 && secret_parts[i] == CURLUPART_QUERY)
				r = add_pieces(sensitive, s, "&=;");
			if (r == 0 && secret_parts[i] == CURLUPART_QUERY)
				r = add_pieces(sensitive, s, "&;");
			curl_free(s);
		}
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	cairn_buf_dispose(&shown);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

static int read_secret(cairn_webhook_target *t, const cairn_hook_spec *spec,
		       cairn_strvec *sensitive)
{
	const char *v;

	if (!spec->secret_env || !*spec->secret_env)
		return 0;
	v = getenv(spec->secret_env);
	if (!v || !*v) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "webhook hook '%s' needs environment variable "
				 "'%s' (its secret_env), which is %s",
				 t->name, spec->secret_env,
				 v ? "empty" : "not set");
		cairn_error__hint("export %s with the secret the receiver "
				  "checks signatures with, or remove "
				  "secret_env from the hook",
				  spec->secret_env);
		return CAIRN_ERROR;
	}
	t->secret_len = strlen(v);
	t->secret = cairn__strdup(v);
	if (!t->secret || add_sensitive(sensitive, v, 1) < 0)
		return CAIRN_ERROR;
	return 0;
}

/* Headers cairn sets itself and a configuration may not. */
static bool reserved_header(const char *name)
{
	static const char *const reserved[] = {
		"X-Cairn-Event", "X-Cairn-Delivery", "X-Cairn-Attempt",
		"X-Cairn-Timestamp", "X-Cairn-Signature", "Content-Length",
		"Transfer-Encoding", "Expect", NULL,
	};

	for (size_t i = 0; reserved[i]; i++)
		if (!strcasecmp(name, reserved[i]))
			return true;
	return false;
}

static int copy_headers(cairn_webhook_target *t, const cairn_hook_spec *spec,
			cairn_strvec *sensitive)
{
	size_t i;

	if (!spec->headers_count)
		return 0;
	t->headers = cairn__calloc(spec->headers_count, sizeof(*t->headers));
	if (!t->headers)
		return CAIRN_ERROR;
	for (i = 0; i < spec->headers_count; i++) {
		const cairn_kv *kv = &spec->headers[i];
		const char *value = kv->value ? kv->value : "";

		if (!kv->key || !*kv->key || strpbrk(kv->key, ":\r\n \t") ||
		    strpbrk(value, "\r\n")) {
			cairn_error__set(CAIRN_ERRCLASS_CONFIG,
					 "webhook hook '%s' has a malformed "
					 "header '%s'", t->name,
					 kv->key ? kv->key : "");
			return CAIRN_ERROR;
		}
		if (reserved_header(kv->key)) {
			cairn_error__set(CAIRN_ERRCLASS_CONFIG,
					 "webhook hook '%s' cannot set header "
					 "'%s': cairn sets it", t->name,
					 kv->key);
			return CAIRN_ERROR;
		}
		if (!strcasecmp(kv->key, "User-Agent"))
			t->user_agent_set = true;
		if (!strcasecmp(kv->key, "Content-Type"))
			t->content_type_set = true;
		t->headers[i].key = cairn__strdup(kv->key);
		t->headers[i].value = cairn__strdup(value);
		t->headers_count = i + 1;
		if (!t->headers[i].key || !t->headers[i].value ||
		    add_sensitive(sensitive, value, MIN_SCRUB_LEN) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

int cairn_webhook__target_new(cairn_webhook_target **out,
			      const cairn_hook_spec *spec)
{
	cairn_strvec sensitive = CAIRN_STRVEC_INIT;
	cairn_webhook_target *t;
	int rc = CAIRN_ERROR;

	*out = NULL;
	t = cairn__calloc(1, sizeof(*t));
	if (!t)
		return CAIRN_ERROR;
	t->name = cairn__strdup(spec->name ? spec->name : "webhook");
	t->url = cairn__strdup(spec->url ? spec->url : "");
	if (!t->name || !t->url)
		goto out;
	t->format = spec->format;
	t->retries = spec->retries;
	t->connect_timeout_ms = spec->connect_timeout_ms ?
		spec->connect_timeout_ms : 5000;
	t->timeout_ms = spec->timeout_ms ? spec->timeout_ms : 30000;
	t->async = spec->async;
	t->on_failure = spec->on_failure;
	if (parse_url(t, &sensitive) < 0 ||
	    read_secret(t, spec, &sensitive) < 0 ||
	    copy_headers(t, spec, &sensitive) < 0)
		goto out;
	/* a strvec with items is NULL-terminated; an empty one has none */
	if (sensitive.count)
		qsort(sensitive.items, sensitive.count, sizeof(char *),
		      cmp_longest_first);
	else if (!(sensitive.items = cairn__calloc(1, sizeof(char *))))
		goto out;
	t->sensitive = sensitive.items;
	memset(&sensitive, 0, sizeof(sensitive));
	*out = t;
	t = NULL;
	rc = 0;
out:
	for (size_t i = 0; i < sensitive.count; i++)
		if (sensitive.items[i])
			memset(sensitive.items[i], 0,
			       strlen(sensitive.items[i]));
	cairn_strvec_dispose(&sensitive);
	cairn_webhook__target_free(t);
	return rc;
}

/*
 * The length of the UTF-8 character at s (at most len bytes): 1 for
 * ASCII, 2-4 for a valid sequence, 0 for a byte that starts none.
 */
static size_t utf8_len(const char *s, size_t len)
{
	unsigned char c = (unsigned char)s[0];
	size_t n, bad;

	if (c < 0x80)
		return 1;
	n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
	if (!n || n > len || !cairn__utf8_valid(s, n, &bad))
		return 0;
	return n;
}

int cairn_webhook__scrub(cairn_buf *out, const cairn_webhook_target *t,
			 const char *text, size_t len)
{
	size_t i = 0, n;
	unsigned char c;

	while (i < len) {
		bool hit = false;

		for (size_t k = 0; t->sensitive && t->sensitive[k]; k++) {
			size_t sl = strlen(t->sensitive[k]);

			if (sl && sl <= len - i &&
			    !memcmp(text + i, t->sensitive[k], sl)) {
				if (cairn_buf_puts(out, "…") < 0)
					return CAIRN_ERROR;
				i += sl;
				hit = true;
				break;
			}
		}
		if (hit)
			continue;
		n = utf8_len(text + i, len - i);
		if (n > 1) {
			if (cairn_buf_put(out, text + i, n) < 0)
				return CAIRN_ERROR;
			i += n;
			continue;
		}
		c = (unsigned char)text[i];
		if (cairn_buf_putc(out, n == 0 ? '?' :
				   c < 0x20 || c == 0x7f ? ' ' :
				   (char)c) < 0)
			return CAIRN_ERROR;
		i++;
	}
	return 0;
}
