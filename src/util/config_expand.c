/*
 * config_expand.c - ${VAR} and ${VAR:-default} expansion; see
 * config_expand.h for the syntax.
 *
 * One left-to-right pass copies text into a bounded cairn_buf.  At "${"
 * the name is read; for ":-" the matching '}' is found by counting nested
 * "${" (and skipping "$$"), and the default is expanded recursively only
 * when it is needed.  The recursion depth is bounded, and so is the size of
 * the result (CAIRN_EXPAND_MAX_SIZE), so a hostile file or environment
 * cannot make the expansion run away.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config_expand.h"
#include "error.h"

#define MAX_NAME 255

struct expander {
	cairn_getenv_fn getenv_fn;
	void *payload;
	const char *start;        /* the whole input, for offsets */
	cairn_expand_problem *problem;
};

static int fail(struct expander *x, const char *at, const char *what,
		const char *hint)
{
	x->problem->offset = (size_t)(at - x->start);
	x->problem->what = what;
	x->problem->hint = hint;
	return -1;
}

static const char *lookup(struct expander *x, const char *name)
{
	if (x->getenv_fn)
		return x->getenv_fn(name, x->payload);
	return getenv(name);
}

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Finds the '}' that closes a default starting at p; NULL if none. */
static const char *closing_brace(const char *p, const char *end)
{
	unsigned level = 0;

	while (p < end) {
		if (*p == '$' && p + 1 < end && (p[1] == '$' || p[1] == '{')) {
			if (p[1] == '{')
				level++;
			p += 2;
			continue;
		}
		if (*p == '}') {
			if (!level)
				return p;
			level--;
		}
		p++;
	}
	return NULL;
}

static int put(struct expander *x, cairn_buf *out, const char *at,
	       const void *data, size_t len)
{
	if (cairn_buf_put(out, data, len) < 0)
		return fail(x, at, "value too long after expanding variables",
			    "the limit is 1 MiB per value");
	return 0;
}

static int expand(struct expander *x, cairn_buf *out, const char *p,
		  const char *end, unsigned depth)
{
	static const char *const syntax_hint =
		"write ${NAME} or ${NAME:-default}; write $$ for a literal $";

	if (depth > CAIRN_EXPAND_MAX_DEPTH)
		return fail(x, p, "defaults of ${...} nested too deeply",
			    NULL);
	while (p < end) {
		const char *dollar = memchr(p, '$', (size_t)(end - p));
		const char *name, *q, *value, *close;
		char buf[MAX_NAME + 1];
		size_t n;

		if (!dollar)
			return put(x, out, p, p, (size_t)(end - p));
		if (put(x, out, p, p, (size_t)(dollar - p)) < 0)
			return -1;
		p = dollar;
		if (p + 1 < end && p[1] == '$') {
			if (put(x, out, p, "$", 1) < 0)
				return -1;
			p += 2;
			continue;
		}
		if (p + 1 >= end || p[1] != '{') {
			if (put(x, out, p, "$", 1) < 0)
				return -1;
			p++;
			continue;
		}
		name = p + 2;
		for (q = name; q < end && is_name_char(*q); q++)
			;
		if (q >= end)
			return fail(x, p, "unterminated '${'",
				    "close it with '}'; write $$ for a "
				    "literal $");
		n = (size_t)(q - name);
		if (!n || !is_name_start(*name))
			return fail(x, p, "invalid variable name in '${...}'",
				    syntax_hint);
		if (n > MAX_NAME)
			return fail(x, p, "variable name too long", NULL);
		memcpy(buf, name, n);
		buf[n] = '\0';
		value = lookup(x, buf);
		if (*q == '}') {
			if (value && put(x, out, p, value, strlen(value)) < 0)
				return -1;
			p = q + 1;
			continue;
		}
		if (*q != ':' || q + 1 >= end || q[1] != '-') {
			if (!closing_brace(q, end))
				return fail(x, p, "unterminated '${'",
					    "close it with '}'; write $$ for "
					    "a literal $");
			return fail(x, p, "invalid variable reference",
				    syntax_hint);
		}
		close = closing_brace(q + 2, end);
		if (!close)
			return fail(x, p, "unterminated '${'",
				    "close it with '}'; write $$ for a "
				    "literal $");
		if (value && *value) {
			if (put(x, out, p, value, strlen(value)) < 0)
				return -1;
		} else if (expand(x, out, q + 2, close, depth + 1) < 0) {
			return -1;
		}
		p = close + 1;
	}
	return 0;
}

int cairn_config__expand(char **out, cairn_expand_problem *problem,
			 const char *s, cairn_getenv_fn getenv_fn,
			 void *payload)
{
	struct expander x = { getenv_fn, payload, s, problem };
	cairn_buf b;
	size_t len = strlen(s);

	*out = NULL;
	memset(problem, 0, sizeof(*problem));
	if (!memchr(s, '$', len)) {
		*out = strdup(s);
		if (!*out)
			return fail(&x, s, "out of memory", NULL);
		return 0;
	}
	cairn_buf_init(&b, CAIRN_EXPAND_MAX_SIZE);
	if (expand(&x, &b, s, s + len, 0) < 0) {
		cairn_buf_dispose(&b);
		return -1;
	}
	*out = cairn_buf_detach(&b);
	if (!*out)
		return fail(&x, s, "out of memory", NULL);
	return 0;
}
