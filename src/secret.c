/*
 * secret.c - known secrets, scrubbing, and redacting libpq's messages
 * about connection strings (secret.h).
 *
 * Finding the password of a connection string: PQconninfoParse() when
 * libpq can parse it (URL or key=value; it also percent-decodes).  When
 * it cannot - the very case where libpq's error echoes part of the string
 * - the string is searched by hand the way libpq reads it: a URL's user
 * info runs from "://" to the last '@' before the query and the password
 * follows its first ':'; "password=" in a URL query runs to the next
 * '&'; in key=value form the value follows "password =" and is either
 * '...'-quoted (backslash escapes) or runs to the next blank.  Both the
 * raw and the percent-decoded spellings are masked.
 *
 * Scrubbing is a plain left-to-right search for each value, longest
 * first so that a value containing another is masked whole.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "util/error.h"
#include "secret.h"

/* Shortest value the redaction of a libpq message still masks. */
#define MESSAGE_MIN_LEN 2

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..len) with valid %XX sequences decoded; NULL on out of memory. */
static char *percent_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0 && (hi || lo)) {
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Adds s[0..len) and its percent-decoded spelling. */
static int add_span(cairn_secrets *s, const char *p, size_t len)
{
	char *raw, *dec;
	int rc;

	if (!len)
		return 0;
	raw = cairn__strndup(p, len);
	dec = percent_decode(p, len);
	rc = raw && dec && cairn_secrets__add(s, raw) == 0 &&
			     cairn_secrets__add(s, dec) == 0
		 ? 0
		 : CAIRN_ERROR;
	if (raw)
		memset(raw, 0, len);
	if (dec)
		memset(dec, 0, strlen(dec));
	free(raw);
	free(dec);
	return rc;
}

int cairn_secrets__add(cairn_secrets *s, const char *value)
{
	if (!value || !*value || cairn_strvec_contains(&s->values, value))
		return 0;
	return cairn_strvec_push(&s->values, value);
}

/* "scheme://" at the start of url: the offset after it, else 0. */
static size_t scheme_end(const char *url)
{
	size_t i = 0;

	while ((url[i] >= 'a' && url[i] <= 'z') ||
	       (url[i] >= 'A' && url[i] <= 'Z') ||
	       (url[i] >= '0' && url[i] <= '9') || url[i] == '+' ||
	       url[i] == '-' || url[i] == '.')
		i++;
	if (i && !strncmp(url + i, "://", 3))
		return i + 3;
	return 0;
}

/* The password of a URL's user info: *at and *len, or false. */
static bool userinfo_password(const char *url, const char **at, size_t *len)
{
	size_t start = scheme_end(url), end, i;
	const char *colon = NULL, *last_at = NULL;

	if (!start)
		return false;
	end = start + strcspn(url + start, "?#");
	for (i = start; i < end; i++)
		if (url[i] == '@')
			last_at = url + i;
	if (!last_at)
		return false;
	colon = memchr(url + start, ':', (size_t)(last_at - (url + start)));
	if (!colon)
		return false;
	*at = colon + 1;
	*len = (size_t)(last_at - *at);
	return true;
}

/* Every "password=" value of a URL query: added to s. */
static int add_query_passwords(cairn_secrets *s, const char *url)
{
	const char *q = strchr(url, '?');

	while (q && *q) {
		q++;
		if (!strncmp(q, "password=", 9)) {
			const char *v = q + 9;

			if (add_span(s, v, strcspn(v, "&#")) < 0)
				return CAIRN_ERROR;
		}
		q = strchr(q, '&');
	}
	return 0;
}

/* The value of "password = ..." in key=value text, as libpq reads it. */
static int add_keyword_passwords(cairn_secrets *s, const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "password")) != NULL) {
		const char *v = p + 8;
		cairn_buf val = CAIRN_BUF_INIT;
		int rc = 0;

		p = v;
		while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
			v++;
		if (*v == '\'') {
			for (v++; *v && *v != '\'' && rc == 0; v++) {
				if (*v == '\\' && v[1])
					v++;
				rc = cairn_buf_putc(&val, *v);
			}
		} else {
			rc = cairn_buf_put(&val, v, strcspn(v, " \t\r\n"));
		}
		if (rc == 0)
			rc = add_span(s, val.ptr, val.size);
		if (val.size)
			memset(val.ptr, 0, val.size);
		cairn_buf_dispose(&val);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The password by hand, for text libpq cannot parse. */
static int add_by_hand(cairn_secrets *s, const char *text)
{
	const char *at;
	size_t len;

	if (userinfo_password(text, &at, &len) && add_span(s, at, len) < 0)
		return CAIRN_ERROR;
	if (scheme_end(text))
		return add_query_passwords(s, text);
	return add_keyword_passwords(s, text);
}

int cairn_secrets__add_from_url(cairn_secrets *s, const char *url)
{
	PQconninfoOption *opts = NULL, *o;
	char *err = NULL;
	size_t start;
	int rc = 0;

	if (!url || !*url)
		return 0;
	start = scheme_end(url);
	/* libpq parses its own schemes and key=value strings */
	if (!start || !strncmp(url, "postgres", 8))
		opts = PQconninfoParse(url, &err);
	PQfreemem(err);
	for (o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			rc = cairn_secrets__add(s, o->val);
	PQconninfoFree(opts);
	if (rc == 0)
		rc = add_by_hand(s, url);
	return rc;
}

int cairn_secrets__merge(cairn_secrets *s, const cairn_secrets *other)
{
	size_t i;

	for (i = 0; i < other->values.count; i++)
		if (cairn_secrets__add(s, other->values.items[i]) < 0)
			return CAIRN_ERROR;
	return 0;
}

void cairn_secrets__dispose(cairn_secrets *s)
{
	size_t i;

	for (i = 0; i < s->values.count; i++)
		memset(s->values.items[i], 0, strlen(s->values.items[i]));
	cairn_strvec_dispose(&s->values);
}

bool cairn_secrets__found_in(const cairn_secrets *s, const char *text)
{
	size_t i;

	for (i = 0; i < s->values.count; i++) {
		const char *v = s->values.items[i];

		if (!strcmp(text, v) ||
		    (strlen(v) >= CAIRN_SECRET_MIN_LEN && strstr(text, v)))
			return true;
	}
	return false;
}

/* Masks every value of at least min bytes in b, longest first. */
static int scrub_min(const cairn_secrets *s, cairn_buf *b, size_t min)
{
	bool *done = NULL;
	size_t i, n = s->values.count;
	int rc = 0;

	if (!n || !b->size)
		return 0;
	if (!(done = cairn__calloc(n, sizeof(*done))))
		return CAIRN_ERROR;
	for (;;) {
		const char *v = NULL;
		size_t best = 0, vlen;
		cairn_buf out = CAIRN_BUF_INIT;
		const char *p, *hit;

		for (i = 0; i < n; i++)
			if (!done[i] && strlen(s->values.items[i]) >= min &&
			    (!v || strlen(s->values.items[i]) > strlen(v))) {
				v = s->values.items[i];
				best = i;
			}
		if (!v)
			break;
		done[best] = true;
		vlen = strlen(v);
		if (!strstr(b->ptr, v))
			continue;
		out.max = b->max;
		for (p = b->ptr; (hit = strstr(p, v)) != NULL; p = hit + vlen)
			if ((rc = cairn_buf_put(&out, p, (size_t)(hit - p))) < 0 ||
			    (rc = cairn_buf_puts(&out, CAIRN_SECRET_MASK)) < 0)
				break;
		if (rc == 0)
			rc = cairn_buf_put(&out, p, b->size - (size_t)(p - b->ptr));
		if (rc == 0) {
			memset(b->ptr, 0, b->size);
			cairn_buf_dispose(b);
			*b = out;
		} else {
			cairn_buf_dispose(&out);
			break;
		}
	}
	free(done);
	return rc;
}

int cairn_secrets__scrub(const cairn_secrets *s, cairn_buf *b)
{
	return scrub_min(s, b, CAIRN_SECRET_MIN_LEN);
}

bool cairn_secret__has_password(const char *value)
{
	cairn_secrets s = CAIRN_SECRETS_INIT;
	const char *at;
	size_t len;
	bool found;

	if (userinfo_password(value, &at, &len) && len)
		return true;
	if (!strstr(value, "password"))
		return false;
	if (add_by_hand(&s, value) < 0) {
		cairn_secrets__dispose(&s);
		return true; /* out of memory: err on the safe side */
	}
	found = s.values.count > 0;
	cairn_secrets__dispose(&s);
	return found;
}

/* True when word[0..len) is one of libpq's connection keywords. */
static bool is_keyword(const char *word, size_t len)
{
	PQconninfoOption *opts = PQconndefaults(), *o;
	bool found = false;

	for (o = opts; o && o->keyword && !found; o++)
		found = strlen(o->keyword) == len &&
			!strncmp(o->keyword, word, len);
	PQconninfoFree(opts);
	return found;
}

/* Masks each "quoted" part of msg that is not a keyword or one char. */
static int mask_quoted(cairn_buf *out, const char *msg)
{
	const char *p = msg, *open, *close;

	while ((open = strchr(p, '"')) != NULL &&
	       (close = strchr(open + 1, '"')) != NULL) {
		size_t len = (size_t)(close - open - 1);
		bool keep = len <= 1 || is_keyword(open + 1, len);

		if (cairn_buf_put(out, p, (size_t)(open + 1 - p)) < 0 ||
		    cairn_buf_put(out, keep ? open + 1 : CAIRN_SECRET_MASK,
				  keep ? len : strlen(CAIRN_SECRET_MASK)) < 0 ||
		    cairn_buf_putc(out, '"') < 0)
			return CAIRN_ERROR;
		p = close + 1;
	}
	return cairn_buf_puts(out, p);
}

/* True when libpq can parse conninfo (its messages then quote hosts). */
static bool parses(const char *conninfo)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);

	PQfreemem(err);
	PQconninfoFree(opts);
	return opts != NULL;
}

int cairn_secret__redact_message(char **out, const char *msg,
				 const char *conninfo)
{
	cairn_secrets s = CAIRN_SECRETS_INIT;
	cairn_buf b = CAIRN_BUF_INIT;
	int rc;

	*out = NULL;
	if (conninfo && parses(conninfo))
		rc = cairn_buf_puts(&b, msg ? msg : "");
	else
		rc = mask_quoted(&b, msg ? msg : "");
	if (rc == 0 && conninfo)
		rc = cairn_secrets__add_from_url(&s, conninfo);
	if (rc == 0)
		rc = scrub_min(&s, &b, MESSAGE_MIN_LEN);
	cairn_secrets__dispose(&s);
	if (rc == 0 && !(*out = cairn_buf_detach(&b)))
		rc = cairn_error__oom();
	cairn_buf_dispose(&b);
	return rc;
}
