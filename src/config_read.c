/*
 * config_read.c - typed readers over the YAML tree; see config_read.h.
 *
 * Every reader follows the same steps: empty value -> keep the default
 * (or complain when the key needs a value); wrong node kind -> "expected a
 * list for 'ignore', got a map"; scalar -> expand ${VAR} -> convert.
 * Values quoted back in messages are cut to a few dozen characters and
 * control characters are escaped (cairn__escape_text), so a message
 * stays one short line.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/config_expand.h"
#include "config_read.h"
#include "util/error.h"
#include "util/util.h"

static int verror_at(const cairn_cfg_ctx *c, unsigned line, unsigned column,
		     const char *fmt, va_list ap)
{
	cairn_buf msg = CAIRN_BUF_INIT;
	char *safe;

	if (cairn_buf_vprintf(&msg, fmt, ap) < 0)
		return CAIRN_ERROR;
	/* the message quotes the file: keep it one printable line */
	safe = cairn__escape_text(msg.ptr, msg.size, 0);
	cairn_buf_dispose(&msg);
	if (!safe)
		return CAIRN_ERROR;
	cairn_error__set(CAIRN_ERRCLASS_CONFIG, "%s:%u:%u: %s", c->file, line,
			 column, safe);
	free(safe);
	return CAIRN_ERROR;
}

int cairn_cfg__error_at(const cairn_cfg_ctx *c, unsigned line,
			unsigned column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(c, line, column, fmt, ap);
	va_end(ap);
	return CAIRN_ERROR;
}

int cairn_cfg__error(const cairn_cfg_ctx *c, const cairn_yaml_node *at,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror_at(c, at ? at->line : 1, at ? at->column : 1, fmt, ap);
	va_end(ap);
	return CAIRN_ERROR;
}

int cairn_cfg__lookup(const char *const *list, const char *name)
{
	int i;

	for (i = 0; list[i]; i++)
		if (!strcmp(list[i], name))
			return i;
	return -1;
}

void cairn_cfg__suggest(const char *got, const char *const *known,
			const char *what)
{
	cairn_buf list = CAIRN_BUF_INIT;
	const char *best = NULL;
	size_t best_d = 3, i; /* suggest at distance 2 or less */

	for (i = 0; known[i]; i++) {
		size_t d = cairn__edit_distance(got, known[i]);

		if (d < best_d && d < strlen(known[i])) {
			best = known[i];
			best_d = d;
		}
	}
	if (best) {
		cairn_error__hint("did you mean '%s'?", best);
		return;
	}
	for (i = 0; known[i]; i++)
		if (cairn_buf_printf(&list, "%s%s", i ? ", " : "",
				     known[i]) < 0)
			break;
	if (list.size)
		cairn_error__hint("valid %s: %s", what, list.ptr);
	cairn_buf_dispose(&list);
}

int cairn_cfg__unknown_key(const cairn_cfg_ctx *c, const cairn_yaml_node *key,
			   const char *where, const char *const *known)
{
	char s[CAIRN_YAML_SNIPPET_SIZE];

	cairn_yaml__snippet(s, key->text);
	cairn_cfg__error(c, key, "unknown key '%s' %s", s, where);
	cairn_cfg__suggest(key->text, known, "keys");
	return CAIRN_ERROR;
}

static int want_kind(const cairn_cfg_ctx *c, const cairn_yaml_pair *kv,
		     cairn_yaml_kind kind, const char *kind_name)
{
	if (cairn_yaml__is_null(kv->value))
		return 0;
	if (kv->value->kind == kind)
		return 1;
	return cairn_cfg__error(c, kv->value, "expected %s for '%s', got %s",
				kind_name, kv->key->text,
				cairn_yaml__describe(kv->value));
}

int cairn_cfg__want_map(const cairn_cfg_ctx *c, const cairn_yaml_pair *kv)
{
	return want_kind(c, kv, CAIRN_YAML_MAPPING, "a map");
}

int cairn_cfg__want_list(const cairn_cfg_ctx *c, const cairn_yaml_pair *kv)
{
	int rc = want_kind(c, kv, CAIRN_YAML_SEQUENCE, "a list");

	if (rc < 0)
		cairn_error__hint("write %s: [a, b], or one '- item' per line",
				  kv->key->text);
	return rc;
}

int cairn_cfg__expand_node(char **out, const cairn_cfg_ctx *c,
			   const cairn_yaml_node *n, const char *what)
{
	cairn_expand_problem p;
	unsigned line = n->line, column = n->column;
	size_t i;

	*out = NULL;
	if (n->kind != CAIRN_YAML_SCALAR)
		return cairn_cfg__error(c, n, "expected a string for '%.40s', "
					"got %s", what,
					cairn_yaml__describe(n));
	if (cairn_config__expand(out, &p, n->text, c->getenv_fn,
				 c->payload) == 0)
		return 0;
	/* place the problem exactly when the text maps onto the source */
	if (n->style != CAIRN_YAML_BLOCK &&
	    !memchr(n->text, '\n', p.offset)) {
		if (n->style != CAIRN_YAML_PLAIN)
			column++;
		for (i = 0; i < p.offset; i++)
			if (((unsigned char)n->text[i] & 0xc0) != 0x80)
				column++;
	}
	cairn_cfg__error_at(c, line, column, "%s in '%.40s'", p.what, what);
	if (p.hint)
		cairn_error__hint("%s", p.hint);
	return CAIRN_ERROR;
}

static bool empty_value(const cairn_yaml_node *v)
{
	return cairn_yaml__is_null(v) ||
	       (v->kind == CAIRN_YAML_SCALAR && v->len == 0);
}

/* Expands kv's scalar value; 1 = *out set, 0 = empty (null), -1 error. */
static int scalar(char **out, const cairn_cfg_ctx *c,
		  const cairn_yaml_pair *kv, unsigned flags)
{
	const cairn_yaml_node *v = kv->value;

	*out = NULL;
	if ((flags & CAIRN_CFG_REQUIRED) && empty_value(v)) {
		cairn_cfg__error(c, v, "empty value for '%s'", kv->key->text);
		cairn_error__hint("give '%s' a value or remove the key",
				  kv->key->text);
		return CAIRN_ERROR;
	}
	if (cairn_yaml__is_null(v))
		return 0;
	if (cairn_cfg__expand_node(out, c, v, kv->key->text) < 0)
		return CAIRN_ERROR;
	return 1;
}

int cairn_cfg__string(char **out, const cairn_cfg_ctx *c,
		      const cairn_yaml_pair *kv, unsigned flags)
{
	char *s;
	int rc = scalar(&s, c, kv, flags);

	if (rc <= 0)
		return rc;
	free(*out);
	*out = s;
	return 0;
}

int cairn_cfg__bool(bool *out, const cairn_cfg_ctx *c,
		    const cairn_yaml_pair *kv)
{
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };
	char *s, shown[CAIRN_YAML_SNIPPET_SIZE];
	int rc = scalar(&s, c, kv, 0);

	if (rc <= 0)
		return rc;
	if (cairn_cfg__lookup(yes, s) >= 0) {
		*out = true;
	} else if (cairn_cfg__lookup(no, s) >= 0) {
		*out = false;
	} else {
		cairn_yaml__snippet(shown, s);
		cairn_cfg__error(c, kv->value,
				 "expected true or false for '%s', got '%s'",
				 kv->key->text, shown);
		rc = CAIRN_ERROR;
	}
	free(s);
	return rc < 0 ? rc : 0;
}

int cairn_cfg__uint(unsigned *out, const cairn_cfg_ctx *c,
		    const cairn_yaml_pair *kv, unsigned min, unsigned max)
{
	char *s, shown[CAIRN_YAML_SNIPPET_SIZE];
	uint64_t v = 0;
	size_t i;
	int rc = scalar(&s, c, kv, 0);

	if (rc <= 0)
		return rc;
	for (i = 0; s[i] >= '0' && s[i] <= '9' && v <= max; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (!i || s[i] || v < min || v > max) {
		cairn_yaml__snippet(shown, s);
		cairn_cfg__error(c, kv->value, "expected a whole number from "
				 "%u to %u for '%s', got '%s'", min, max,
				 kv->key->text, shown);
		free(s);
		return CAIRN_ERROR;
	}
	*out = (unsigned)v;
	free(s);
	return 0;
}

int cairn_cfg__duration(uint64_t *out, const cairn_cfg_ctx *c,
			const cairn_yaml_pair *kv, bool allow_zero)
{
	char *s, shown[CAIRN_YAML_SNIPPET_SIZE];
	uint64_t ms;
	int rc = scalar(&s, c, kv, 0);

	if (rc <= 0)
		return rc;
	if (cairn__parse_duration_ms(s, &ms) < 0 || (!ms && !allow_zero)) {
		cairn_yaml__snippet(shown, s);
		cairn_cfg__error(c, kv->value, "invalid duration '%s' for "
				 "'%s'", shown, kv->key->text);
		cairn_error__hint("write a positive number with a unit: 500ms, "
				  "10s, 5min, 1h (a bare number is "
				  "milliseconds)");
		free(s);
		return CAIRN_ERROR;
	}
	*out = ms;
	free(s);
	return 0;
}

int cairn_cfg__enum(int *out, const cairn_cfg_ctx *c,
		    const cairn_yaml_pair *kv, const char *const *names,
		    const char *what)
{
	char *s, shown[CAIRN_YAML_SNIPPET_SIZE];
	int i, rc = scalar(&s, c, kv, 0);

	if (rc <= 0)
		return rc;
	i = cairn_cfg__lookup(names, s);
	if (i < 0) {
		cairn_yaml__snippet(shown, s);
		cairn_cfg__error(c, kv->value, "invalid value '%s' for '%s'",
				 shown, kv->key->text);
		cairn_cfg__suggest(s, names, what);
		free(s);
		return CAIRN_ERROR;
	}
	*out = i;
	free(s);
	return 0;
}

void cairn_cfg__strv_free(char **v, size_t count)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < count; i++)
		free(v[i]);
	free(v);
}

void cairn_cfg__kv_free(cairn_kv *kv, size_t count)
{
	size_t i;

	if (!kv)
		return;
	for (i = 0; i < count; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int cairn_cfg__string_list(char ***out, size_t *count,
			   const cairn_cfg_ctx *c, const cairn_yaml_pair *kv)
{
	const cairn_yaml_node *v = kv->value;
	char **items;
	size_t i;
	int rc = cairn_cfg__want_list(c, kv);

	if (rc <= 0)
		return rc;
	items = cairn__calloc(v->count + 1, sizeof(*items));
	if (!items)
		return CAIRN_ERROR;
	for (i = 0; i < v->count; i++) {
		if (empty_value(v->items[i])) {
			cairn_cfg__error(c, v->items[i], "empty item in '%s'",
					 kv->key->text);
			goto fail;
		}
		if (cairn_cfg__expand_node(&items[i], c, v->items[i],
					   kv->key->text) < 0)
			goto fail;
	}
	cairn_cfg__strv_free(*out, *count);
	*out = items;
	*count = v->count;
	return 0;
fail:
	cairn_cfg__strv_free(items, v->count);
	return CAIRN_ERROR;
}

int cairn_cfg__kv_map(cairn_kv **out, size_t *count, const cairn_cfg_ctx *c,
		      const cairn_yaml_pair *kv)
{
	const cairn_yaml_node *v = kv->value;
	cairn_kv *items;
	size_t i;
	int rc = cairn_cfg__want_map(c, kv);

	if (rc <= 0)
		return rc;
	items = cairn__calloc(v->count, sizeof(*items));
	if (!items)
		return CAIRN_ERROR;
	for (i = 0; i < v->count; i++) {
		const cairn_yaml_pair *p = &v->pairs[i];

		if (!p->key->len) {
			cairn_cfg__error(c, p->key, "empty key in '%s'",
					 kv->key->text);
			goto fail;
		}
		items[i].key = cairn__strdup(p->key->text);
		if (!items[i].key)
			goto fail;
		if (cairn_yaml__is_null(p->value))
			items[i].value = cairn__strdup("");
		else if (cairn_cfg__expand_node(&items[i].value, c, p->value,
						p->key->text) < 0)
			goto fail;
		if (!items[i].value)
			goto fail;
	}
	cairn_cfg__kv_free(*out, *count);
	*out = items;
	*count = v->count;
	return 0;
fail:
	cairn_cfg__kv_free(items, v->count);
	return CAIRN_ERROR;
}

bool cairn_cfg__is_identifier(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= 'A' && s[0] <= 'Z') ||
		    (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}
