/*
 * directive.c - the `-- cairn:` directives at the top of a migration file.
 *
 * A migration may start with comment lines that tell cairn how to run it:
 *
 *	-- cairn: no-transaction
 *	-- cairn: statement-timeout=5min
 *	-- cairn: lock-timeout=10s
 *	-- cairn: allow destructive, lint/index-concurrently
 *
 * The scan reads lines from the top of the file: blank lines and other
 * `--` comments are skipped, a line whose comment text starts with
 * `cairn:` holds exactly one directive, and the first line that is not a
 * comment (the first SQL) ends the scan, so a `-- cairn:` line further
 * down is ordinary SQL commentary.  A UTF-8 byte order mark at the very
 * start is ignored.
 *
 * Durations use cairn__parse_duration_ms() ("500ms", "10s", "5min", "1h";
 * a bare number is milliseconds).  `allow` takes rule names made of
 * [a-z0-9/-], separated by commas and/or blanks; `allow all` allows every
 * rule.  A rule may be written with or without its "lint/" prefix.
 *
 * Nothing here fails on bad input: unknown directives and bad values
 * become findings ("unknown-directive", "bad-directive") that name the
 * file and line, and parsing goes on.  Only running out of memory is an
 * error.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/migration.h"
#include "util/buf.h"
#include "util/error.h"
#include "migration_internal.h"
#include "util/util.h"

#define KNOWN_HINT                                                     \
	"known directives: no-transaction, statement-timeout=DURATION, " \
	"lock-timeout=DURATION, allow RULE[, RULE...]"

static const char *const known[] = {
	"no-transaction", "statement-timeout", "lock-timeout", "allow",
};

struct scan {
	cairn_directives *out;
	cairn_strvec allow;
	const char *file;
	cairn_findings *findings;
	unsigned line;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

static bool is_rule_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '/';
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && (is_blank((*e)[-1]) || (*e)[-1] == '\r'))
		(*e)--;
}

/* Adds a finding whose message is prefix + quoted text + suffix. */
static int add(struct scan *sc, const char *code, const char *hint,
	       const char *prefix, const char *text, size_t len,
	       const char *suffix)
{
	cairn_buf q = CAIRN_BUF_INIT;
	int rc;

	if (!sc->findings)
		return 0;
	rc = cairn_migration__quote(&q, text ? text : "", text ? len : 0);
	if (rc == 0)
		rc = cairn_findings_add(sc->findings, code,
					CAIRN_SEVERITY_ERROR, sc->file,
					sc->line, NULL, hint, NULL, "%s%s%s",
					prefix, q.ptr, suffix);
	cairn_buf_dispose(&q);
	return rc;
}

static int set_timeout(struct scan *sc, const char *key, size_t keylen,
		       const char *v, const char *e, char **text,
		       uint64_t *ms)
{
	char *value;
	uint64_t n;

	while (v < e && is_blank(*v))
		v++;
	if (v == e || *v != '=') {
		return add(sc, "bad-directive",
			   "write it as statement-timeout=5min or "
			   "lock-timeout=10s",
			   "directive '", key, keylen,
			   "' needs a value after '='");
	}
	v++;
	while (v < e && is_blank(*v))
		v++;
	if (v == e)
		return add(sc, "bad-directive",
			   "durations look like 500ms, 10s, 5min or 1h",
			   "directive '", key, keylen, "' has an empty value");
	value = cairn__strndup(v, (size_t)(e - v));
	if (!value)
		return CAIRN_ERROR;
	if (memchr(v, '\0', (size_t)(e - v)) ||
	    cairn__parse_duration_ms(value, &n) < 0) {
		free(value);
		return add(sc, "bad-directive",
			   "durations look like 500ms, 10s, 5min or 1h",
			   "invalid duration '", v, (size_t)(e - v), "'");
	}
	free(*text);
	*text = value;
	*ms = n;
	return 0;
}

static int parse_allow(struct scan *sc, const char *v, const char *e)
{
	size_t tokens = 0;

	while (v < e) {
		const char *t;
		char *rule;

		while (v < e && (is_blank(*v) || *v == ','))
			v++;
		if (v == e)
			break;
		t = v;
		while (v < e && !is_blank(*v) && *v != ',')
			v++;
		tokens++;
		for (const char *c = t; c < v; c++) {
			if (!is_rule_char(*c))
				return add(sc, "bad-directive",
					   "rule names are made of a-z, 0-9, "
					   "'-' and '/', as in "
					   "'allow destructive'",
					   "invalid rule name '", t,
					   (size_t)(v - t), "' in 'allow'");
		}
		rule = cairn__strndup(t, (size_t)(v - t));
		if (!rule)
			return CAIRN_ERROR;
		if (cairn_strvec_contains(&sc->allow, rule)) {
			free(rule);
			continue;
		}
		if (cairn_strvec_push_owned(&sc->allow, rule) < 0)
			return CAIRN_ERROR;
	}
	if (tokens == 0)
		return add(sc, "bad-directive",
			   "name the rules to allow, as in "
			   "'allow destructive' or 'allow all'",
			   "directive '", "allow", 5,
			   "' needs at least one rule name");
	return 0;
}

static int unknown(struct scan *sc, const char *key, size_t keylen)
{
	cairn_buf hint = CAIRN_BUF_INIT;
	const char *best = NULL;
	size_t bestd = 3, i;
	char *k;
	int rc;

	k = cairn__strndup(key, keylen);
	if (!k)
		return CAIRN_ERROR;
	for (i = 0; i < CAIRN_ARRAY_SIZE(known); i++) {
		size_t d = cairn__edit_distance(k, known[i]);

		if (d < bestd) {
			bestd = d;
			best = known[i];
		}
	}
	free(k);
	if (best)
		rc = cairn_buf_printf(&hint, "did you mean '%s'? ", best);
	else
		rc = 0;
	if (rc == 0)
		rc = cairn_buf_puts(&hint, KNOWN_HINT);
	if (rc == 0)
		rc = add(sc, "unknown-directive", hint.ptr,
			 "unknown cairn directive '", key, keylen, "'");
	cairn_buf_dispose(&hint);
	return rc;
}

/* One directive: the text after "cairn:", trimmed. */
static int directive(struct scan *sc, const char *s, const char *e)
{
	const char *k = s;
	size_t klen;

	if (s == e)
		return add(sc, "bad-directive", KNOWN_HINT,
			   "empty cairn directive", NULL, 0, "");
	while (k < e && *k != '=' && !is_blank(*k) && *k != ',')
		k++;
	klen = (size_t)(k - s);
	if (klen == 14 && !memcmp(s, "no-transaction", 14)) {
		const char *r = k;

		while (r < e && is_blank(*r))
			r++;
		if (r != e)
			return add(sc, "bad-directive", KNOWN_HINT,
				   "directive 'no-transaction' takes no "
				   "value, found '", r, (size_t)(e - r), "'");
		sc->out->no_transaction = true;
		return 0;
	}
	if (klen == 17 && !memcmp(s, "statement-timeout", 17))
		return set_timeout(sc, s, klen, k, e,
				   &sc->out->statement_timeout,
				   &sc->out->statement_timeout_ms);
	if (klen == 12 && !memcmp(s, "lock-timeout", 12))
		return set_timeout(sc, s, klen, k, e, &sc->out->lock_timeout,
				   &sc->out->lock_timeout_ms);
	if (klen == 5 && !memcmp(s, "allow", 5) && (k == e || is_blank(*k)))
		return parse_allow(sc, k, e);
	return unknown(sc, s, klen);
}

int cairn_directives_parse(cairn_directives *out, const char *sql,
			   size_t len, const char *file,
			   cairn_findings *findings)
{
	struct scan sc;
	const char *p = sql, *end = sql + len;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&sc, 0, sizeof(sc));
	sc.out = out;
	sc.file = file;
	sc.findings = findings;
	if (!sql)
		return 0;
	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = eol ? eol : end;

		sc.line++;
		p = eol ? eol + 1 : end;
		trim(&s, &e);
		if (s == e)
			continue;
		if (e - s < 2 || s[0] != '-' || s[1] != '-')
			break;
		s += 2;
		while (s < e && is_blank(*s))
			s++;
		if (e - s < 6 || memcmp(s, "cairn:", 6) != 0)
			continue;
		s += 6;
		trim(&s, &e);
		rc = directive(&sc, s, e);
		if (rc < 0)
			goto out;
	}
	if (sc.allow.count) {
		out->allow = sc.allow.items;
		out->allow_count = sc.allow.count;
		sc.allow.items = NULL;
		sc.allow.count = sc.allow.alloc = 0;
	}
out:
	cairn_strvec_dispose(&sc.allow);
	if (rc < 0)
		cairn_directives_dispose(out);
	return rc;
}

void cairn_directives_dispose(cairn_directives *d)
{
	size_t i;

	if (!d)
		return;
	free(d->statement_timeout);
	free(d->lock_timeout);
	for (i = 0; i < d->allow_count; i++)
		free(d->allow[i]);
	free(d->allow);
	memset(d, 0, sizeof(*d));
}

static const char *strip_lint(const char *rule)
{
	return strncmp(rule, "lint/", 5) == 0 ? rule + 5 : rule;
}

bool cairn_directives_allows(const cairn_directives *d, const char *rule)
{
	size_t i;

	if (!d || !rule)
		return false;
	rule = strip_lint(rule);
	for (i = 0; i < d->allow_count; i++) {
		const char *a = d->allow[i];

		if (!strcmp(a, "all") || !strcmp(strip_lint(a), rule))
			return true;
	}
	return false;
}
