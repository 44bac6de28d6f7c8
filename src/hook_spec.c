/*
 * hook_spec.c - parses one hook of cairn.yaml; see hook_spec.h.
 *
 * The table `keys` lists every hook key with the kinds it applies to.  A
 * hook is read in three passes over its map: (1) every key must be in the
 * table (else "unknown key" with a did-you-mean), (2) exactly one kind key
 * must be present, which fixes the kind, (3) each key must apply to that
 * kind and its value is read.  Builtin-specific keys (metrics_file, path,
 * refs) are then checked against the builtin's name, and defaults and the
 * generated name are filled in last.
 */
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "hook_spec.h"
#include "util/error.h"
#include "util/util.h"

#define K(kind) (1u << (kind))
#define K_ALL 0x1fu

/* Everything a hook may hold, in the order `valid keys:` hints list it. */
static const struct hook_key {
	const char *name;
	unsigned kinds;
	bool is_kind; /* the key that gives the hook its kind */
} keys[] = {
	{ "name", K_ALL, false },
	{ "run", K(CAIRN_HOOK_EXEC), true },
	{ "sql", K(CAIRN_HOOK_SQL), true },
	{ "sql_file", K(CAIRN_HOOK_SQL), true },
	{ "webhook", K(CAIRN_HOOK_WEBHOOK), true },
	{ "builtin", K(CAIRN_HOOK_BUILTIN), true },
	{ "plugin", K(CAIRN_HOOK_PLUGIN), true },
	{ "on_failure", K_ALL, false },
	{ "timeout", K_ALL, false },
	{ "only", K_ALL, false },
	{ "expect", K(CAIRN_HOOK_SQL), false },
	{ "format", K(CAIRN_HOOK_WEBHOOK), false },
	{ "secret_env", K(CAIRN_HOOK_WEBHOOK), false },
	{ "retries", K(CAIRN_HOOK_WEBHOOK), false },
	{ "async", K(CAIRN_HOOK_WEBHOOK), false },
	{ "headers", K(CAIRN_HOOK_WEBHOOK), false },
	{ "connect_timeout", K(CAIRN_HOOK_WEBHOOK), false },
	{ "metrics_file", K(CAIRN_HOOK_BUILTIN), false },
	{ "path", K(CAIRN_HOOK_BUILTIN), false },
	{ "refs", K(CAIRN_HOOK_BUILTIN), false },
	{ "symbol", K(CAIRN_HOOK_PLUGIN), false },
};

static const char *const key_names[] = {
	"name", "run", "sql", "sql_file", "webhook", "builtin", "plugin",
	"on_failure", "timeout", "only", "expect", "format", "secret_env",
	"retries", "async", "headers", "connect_timeout", "metrics_file",
	"path", "refs", "symbol", NULL,
};

static const char *const kind_list =
	"run, sql, sql_file, webhook, builtin, plugin";

/* The hooks shipped in hooks/; the names are part of the config format. */
static const char *const builtin_names[] = {
	"log", "metrics", "audit-file", "require-clean-tree", "allowed-refs",
	"db-reachable", "lint", NULL,
};

/* Keys that only one (or two) builtins read. */
static const struct {
	const char *key;
	const char *builtins[3];
	const char *says; /* for "'path' only applies to ..." */
} builtin_keys[] = {
	{ "metrics_file", { "metrics", NULL, NULL }, "the metrics builtin" },
	{ "path", { "log", "audit-file", NULL },
	  "the log and audit-file builtins" },
	{ "refs", { "allowed-refs", NULL, NULL }, "the allowed-refs builtin" },
};

static const char *const on_failure_names[] = {
	"abort", "warn", "ignore", NULL,
};
static const char *const format_names[] = { "json", "slack", NULL };
static const char *const expect_names[] = { "0", "empty", "true", NULL };
static const char *const only_keys[] = { "environments", "migrations", NULL };

const char *cairn_hook_kind_name(cairn_hook_kind kind)
{
	static const char *const names[] = {
		"exec", "sql", "webhook", "builtin", "plugin",
	};

	if ((unsigned)kind >= CAIRN_ARRAY_SIZE(names))
		return NULL;
	return names[kind];
}

const char *cairn_on_failure_name(cairn_on_failure f)
{
	if ((unsigned)f >= CAIRN_ARRAY_SIZE(on_failure_names) - 1)
		return NULL;
	return on_failure_names[f];
}

static const struct hook_key *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < CAIRN_ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

void cairn_config__hook_dispose(cairn_hook_spec *h)
{
	if (!h)
		return;
	free(h->name);
	cairn_cfg__strv_free(h->only_environments, h->only_environments_count);
	cairn_cfg__strv_free(h->only_migrations, h->only_migrations_count);
	cairn_cfg__strv_free(h->argv, h->argc);
	free(h->shell);
	free(h->sql);
	free(h->sql_file);
	free(h->url);
	free(h->secret_env);
	cairn_cfg__kv_free(h->headers, h->headers_count);
	free(h->builtin);
	free(h->metrics_file);
	free(h->path);
	cairn_cfg__strv_free(h->refs, h->refs_count);
	free(h->plugin);
	free(h->symbol);
	memset(h, 0, sizeof(*h));
}

/* `run:` is a list (argv, no shell) or a string (for /bin/sh -c). */
static int read_run(cairn_hook_spec *h, const cairn_cfg_ctx *c,
		    const cairn_yaml_pair *kv)
{
	const cairn_yaml_node *v = kv->value;
	size_t i;

	if (v->kind == CAIRN_YAML_MAPPING)
		return cairn_cfg__error(c, v, "expected a list or a string "
					"for 'run', got a map");
	if (v->kind == CAIRN_YAML_SCALAR) {
		if (cairn_cfg__string(&h->shell, c, kv, CAIRN_CFG_REQUIRED) < 0)
			return CAIRN_ERROR;
		/* unlike a URL, an empty command cannot wait until later */
		if (!h->shell[strspn(h->shell, " \t\n")])
			return cairn_cfg__error(c, v, "'run' is empty after "
						"expanding variables");
		return 0;
	}
	if (!v->count) {
		cairn_cfg__error(c, v, "empty value for 'run'");
		cairn_error__hint("give the program and its arguments: "
				  "run: [path/to/program, --flag]");
		return CAIRN_ERROR;
	}
	h->argv = cairn__calloc(v->count + 1, sizeof(*h->argv));
	if (!h->argv)
		return CAIRN_ERROR;
	for (i = 0; i < v->count; i++) {
		const cairn_yaml_node *item = v->items[i];

		if (cairn_yaml__is_null(item) || (!i && !item->len))
			return cairn_cfg__error(c, item, "empty item in 'run'");
		if (cairn_cfg__expand_node(&h->argv[i], c, item, "run") < 0)
			return CAIRN_ERROR;
		h->argc = i + 1;
		if (!i && !*h->argv[0])
			return cairn_cfg__error(c, item, "the program in 'run' "
						"is empty after expanding "
						"variables");
	}
	return 0;
}

/* True for a character allowed in an HTTP header name (RFC 9110 token). */
static bool is_tchar(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int read_headers(cairn_hook_spec *h, const cairn_cfg_ctx *c,
			const cairn_yaml_pair *kv)
{
	size_t i, j;

	if (cairn_cfg__kv_map(&h->headers, &h->headers_count, c, kv) < 0)
		return CAIRN_ERROR;
	/* kv_map keeps the order of the map, so pairs[i] is headers[i] */
	for (i = 0; i < h->headers_count; i++) {
		const cairn_yaml_pair *p = &kv->value->pairs[i];

		for (j = 0; h->headers[i].key[j]; j++)
			if (!is_tchar(h->headers[i].key[j]))
				return cairn_cfg__error(c, p->key,
					"invalid header name '%.40s'",
					h->headers[i].key);
		if (strpbrk(h->headers[i].value, "\r\n"))
			return cairn_cfg__error(c, p->value,
				"header '%.40s' contains a line break",
				h->headers[i].key);
	}
	return 0;
}

/* Checks each name in list against the environments. */
static int check_env_refs(const cairn_cfg_ctx *c, const cairn_yaml_node *list,
			  char **names, size_t count,
			  const char *const *env_names)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (cairn_cfg__lookup(env_names, names[i]) >= 0)
			continue;
		cairn_cfg__error(c, list->items[i], "unknown environment "
				 "'%.40s' in 'only.environments'", names[i]);
		cairn_cfg__suggest(names[i], env_names, "environments");
		return CAIRN_ERROR;
	}
	return 0;
}

static int read_only(cairn_hook_spec *h, const cairn_cfg_ctx *c,
		     const cairn_yaml_pair *kv, const char *const *env_names)
{
	const cairn_yaml_node *v = kv->value;
	size_t i;
	int rc = cairn_cfg__want_map(c, kv);

	if (rc <= 0)
		return rc;
	for (i = 0; i < v->count; i++) {
		const cairn_yaml_pair *p = &v->pairs[i];

		switch (cairn_cfg__lookup(only_keys, p->key->text)) {
		case 0:
			if (cairn_cfg__string_list(&h->only_environments,
						   &h->only_environments_count,
						   c, p) < 0 ||
			    check_env_refs(c, p->value, h->only_environments,
					   h->only_environments_count,
					   env_names) < 0)
				return CAIRN_ERROR;
			break;
		case 1:
			if (cairn_cfg__string_list(&h->only_migrations,
						   &h->only_migrations_count,
						   c, p) < 0)
				return CAIRN_ERROR;
			break;
		default:
			return cairn_cfg__unknown_key(c, p->key, "in 'only'",
						      only_keys);
		}
	}
	return 0;
}

static int read_identifier(char **out, const cairn_cfg_ctx *c,
			   const cairn_yaml_pair *kv, const char *what)
{
	if (cairn_cfg__string(out, c, kv, CAIRN_CFG_REQUIRED) < 0)
		return CAIRN_ERROR;
	if (*out && !cairn_cfg__is_identifier(*out)) {
		cairn_cfg__error(c, kv->value, "invalid %s '%.40s' for '%s'",
				 what, *out, kv->key->text);
		cairn_error__hint("use letters, digits and '_', not starting "
				  "with a digit");
		return CAIRN_ERROR;
	}
	return 0;
}

/* Reads the value of one key known to apply to h->kind. */
static int read_key(cairn_hook_spec *h, const cairn_cfg_ctx *c,
		    const cairn_yaml_pair *kv, const char *const *env_names)
{
	const char *k = kv->key->text;
	int i;

	if (!strcmp(k, "name"))
		return cairn_cfg__string(&h->name, c, kv, CAIRN_CFG_REQUIRED);
	if (!strcmp(k, "run"))
		return read_run(h, c, kv);
	if (!strcmp(k, "sql"))
		return cairn_cfg__string(&h->sql, c, kv, CAIRN_CFG_REQUIRED);
	if (!strcmp(k, "sql_file"))
		return cairn_cfg__string(&h->sql_file, c, kv,
					 CAIRN_CFG_REQUIRED);
	if (!strcmp(k, "webhook"))
		return cairn_cfg__string(&h->url, c, kv, CAIRN_CFG_REQUIRED);
	if (!strcmp(k, "builtin")) {
		if (cairn_cfg__string(&h->builtin, c, kv,
				      CAIRN_CFG_REQUIRED) < 0)
			return CAIRN_ERROR;
		if (cairn_cfg__lookup(builtin_names, h->builtin) >= 0)
			return 0;
		cairn_cfg__error(c, kv->value, "unknown builtin hook '%.40s'",
				 h->builtin);
		cairn_cfg__suggest(h->builtin, builtin_names, "builtins");
		return CAIRN_ERROR;
	}
	if (!strcmp(k, "plugin"))
		return cairn_cfg__string(&h->plugin, c, kv, CAIRN_CFG_REQUIRED);
	if (!strcmp(k, "on_failure")) {
		i = (int)h->on_failure;
		if (cairn_cfg__enum(&i, c, kv, on_failure_names, "values") < 0)
			return CAIRN_ERROR;
		h->on_failure = (cairn_on_failure)i;
		return 0;
	}
	if (!strcmp(k, "timeout"))
		return cairn_cfg__duration(&h->timeout_ms, c, kv, false);
	if (!strcmp(k, "only"))
		return read_only(h, c, kv, env_names);
	if (!strcmp(k, "expect")) {
		i = -1;
		if (cairn_cfg__enum(&i, c, kv, expect_names, "values") < 0)
			return CAIRN_ERROR;
		if (i >= 0)
			h->expect = (cairn_sql_expect)(i + 1);
		return 0;
	}
	if (!strcmp(k, "format")) {
		i = (int)h->format;
		if (cairn_cfg__enum(&i, c, kv, format_names, "formats") < 0)
			return CAIRN_ERROR;
		h->format = (cairn_webhook_format)i;
		return 0;
	}
	if (!strcmp(k, "secret_env"))
		return read_identifier(&h->secret_env, c, kv,
				       "environment variable name");
	if (!strcmp(k, "retries"))
		return cairn_cfg__uint(&h->retries, c, kv, 0,
				       CAIRN_HOOK_MAX_RETRIES);
	if (!strcmp(k, "async"))
		return cairn_cfg__bool(&h->async, c, kv);
	if (!strcmp(k, "headers"))
		return read_headers(h, c, kv);
	if (!strcmp(k, "connect_timeout"))
		return cairn_cfg__duration(&h->connect_timeout_ms, c, kv,
					   false);
	if (!strcmp(k, "metrics_file"))
		return cairn_cfg__string(&h->metrics_file, c, kv,
					 CAIRN_CFG_REQUIRED);
	if (!strcmp(k, "path"))
		return cairn_cfg__string(&h->path, c, kv, CAIRN_CFG_REQUIRED);
	if (!strcmp(k, "refs"))
		return cairn_cfg__string_list(&h->refs, &h->refs_count, c, kv);
	if (!strcmp(k, "symbol"))
		return read_identifier(&h->symbol, c, kv, "symbol");
	return cairn_cfg__unknown_key(c, kv->key, "in hook", key_names);
}

/* Refuses metrics_file/path/refs on a builtin that does not read them. */
static int check_builtin_keys(const cairn_hook_spec *h,
			      const cairn_cfg_ctx *c,
			      const cairn_yaml_node *node)
{
	size_t i, j, k;

	for (i = 0; i < node->count; i++) {
		const cairn_yaml_node *key = node->pairs[i].key;

		for (j = 0; j < CAIRN_ARRAY_SIZE(builtin_keys); j++) {
			bool ok = false;

			if (strcmp(key->text, builtin_keys[j].key))
				continue;
			for (k = 0; k < 3 && builtin_keys[j].builtins[k]; k++)
				if (!strcmp(h->builtin,
					    builtin_keys[j].builtins[k]))
					ok = true;
			if (!ok)
				return cairn_cfg__error(c, key, "'%s' only "
					"applies to %s", key->text,
					builtin_keys[j].says);
		}
	}
	return 0;
}

static const char *base_name(const char *path, size_t *len)
{
	const char *end = path + strlen(path), *p;

	while (end > path && end[-1] == '/')
		end--;
	p = end;
	while (p > path && p[-1] != '/')
		p--;
	*len = (size_t)(end - p);
	return p;
}

/* The host of a URL: no scheme, user, password, port, path or query. */
static const char *url_host(const char *url, size_t *len)
{
	const char *p = strstr(url, "://"), *end, *q;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	for (q = end; q > p; q--) {
		if (q[-1] == '@') {
			p = q;
			break;
		}
	}
	if (*p == '[') {
		q = memchr(p, ']', (size_t)(end - p));
		if (q)
			end = q + 1;
	} else {
		q = memchr(p, ':', (size_t)(end - p));
		if (q)
			end = q;
	}
	*len = (size_t)(end - p);
	return p;
}

static int default_name(cairn_hook_spec *h)
{
	cairn_buf b = CAIRN_BUF_INIT;
	const char *s = NULL;
	size_t n = 0;
	char *first = NULL;
	int rc;

	switch (h->kind) {
	case CAIRN_HOOK_EXEC:
		if (h->argv) {
			s = base_name(h->argv[0], &n);
		} else {
			const char *w = h->shell + strspn(h->shell, " \t\n");

			first = cairn__strndup(w, strcspn(w, " \t\n;&|<>"));
			if (!first)
				return CAIRN_ERROR;
			s = base_name(first, &n);
		}
		rc = cairn_buf_puts(&b, "exec");
		break;
	case CAIRN_HOOK_SQL:
		if (h->sql_file)
			s = base_name(h->sql_file, &n);
		rc = cairn_buf_puts(&b, "sql");
		break;
	case CAIRN_HOOK_WEBHOOK:
		s = url_host(h->url, &n);
		rc = cairn_buf_puts(&b, "webhook");
		break;
	case CAIRN_HOOK_BUILTIN:
		s = h->builtin;
		n = strlen(s);
		rc = cairn_buf_puts(&b, "builtin");
		break;
	default:
		s = base_name(h->plugin, &n);
		rc = cairn_buf_puts(&b, "plugin");
		break;
	}
	if (rc == 0 && n)
		rc = cairn_buf_printf(&b, ":%.*s", (int)n, s);
	free(first);
	if (rc < 0) {
		cairn_buf_dispose(&b);
		return CAIRN_ERROR;
	}
	free(h->name);
	h->name = cairn_buf_detach(&b);
	return h->name ? 0 : cairn_error__oom();
}

/* Pass 1 and 2: all keys known, exactly one kind key.  Sets h->kind. */
static int find_kind(cairn_hook_spec *h, const cairn_cfg_ctx *c,
		     const cairn_yaml_node *node)
{
	const cairn_yaml_node *kind_key = NULL;
	size_t i;

	for (i = 0; i < node->count; i++) {
		const cairn_yaml_node *key = node->pairs[i].key;
		const struct hook_key *hk = find_key(key->text);
		unsigned kind;

		if (!hk)
			return cairn_cfg__unknown_key(c, key, "in hook",
						      key_names);
		if (!hk->is_kind)
			continue;
		if (kind_key) {
			cairn_cfg__error(c, key, "hook has both '%s' and '%s'",
					 kind_key->text, key->text);
			cairn_error__hint("give each hook exactly one of %s",
					  kind_list);
			return CAIRN_ERROR;
		}
		kind_key = key;
		for (kind = 0; !(hk->kinds & K(kind)); kind++)
			;
		h->kind = (cairn_hook_kind)kind;
	}
	if (!kind_key) {
		cairn_cfg__error(c, node, "hook has none of %s", kind_list);
		cairn_error__hint("give each hook exactly one of them, e.g. "
				  "'- builtin: log'");
		return CAIRN_ERROR;
	}
	return 0;
}

int cairn_config__hook_parse(cairn_hook_spec *out, const cairn_cfg_ctx *c,
			     cairn_event event, const cairn_yaml_node *node,
			     const char *const *env_names)
{
	cairn_hook_spec *h = out;
	size_t i;

	memset(h, 0, sizeof(*h));
	h->event = event;
	h->on_failure = CAIRN_ON_FAILURE_ABORT;
	h->timeout_ms = CAIRN_HOOK_DEFAULT_TIMEOUT_MS;
	h->retries = CAIRN_HOOK_DEFAULT_RETRIES;
	h->connect_timeout_ms = CAIRN_HOOK_DEFAULT_CONNECT_TIMEOUT_MS;
	h->line = node->line;
	h->column = node->column;

	if (node->kind != CAIRN_YAML_MAPPING) {
		cairn_cfg__error(c, node, "expected a map for a hook under "
				 "'%s', got %s", cairn_event_name(event),
				 cairn_yaml__describe(node));
		cairn_error__hint("write a hook as '- builtin: log' or "
				  "'- run: [program, arg]'");
		return CAIRN_ERROR;
	}
	if (find_kind(h, c, node) < 0)
		goto fail;
	for (i = 0; i < node->count; i++) {
		const cairn_yaml_pair *kv = &node->pairs[i];
		const struct hook_key *hk = find_key(kv->key->text);

		if (!(hk->kinds & K(h->kind))) {
			unsigned kind;

			for (kind = 0; !(hk->kinds & K(kind)); kind++)
				;
			cairn_cfg__error(c, kv->key, "'%s' only applies to "
					 "%s hooks", kv->key->text,
					 cairn_hook_kind_name(
						 (cairn_hook_kind)kind));
			cairn_error__hint("this is %s %s hook; remove '%s'",
				h->kind == CAIRN_HOOK_EXEC ? "an" : "a",
				cairn_hook_kind_name(h->kind), kv->key->text);
			goto fail;
		}
		if (read_key(h, c, kv, env_names) < 0)
			goto fail;
	}
	if (h->kind == CAIRN_HOOK_BUILTIN &&
	    check_builtin_keys(h, c, node) < 0)
		goto fail;
	if (h->kind == CAIRN_HOOK_PLUGIN && !h->symbol) {
		h->symbol = cairn__strdup(CAIRN_HOOK_DEFAULT_SYMBOL);
		if (!h->symbol)
			goto fail;
	}
	if ((!h->name || !*h->name) && default_name(h) < 0)
		goto fail;
	return 0;
fail:
	cairn_config__hook_dispose(h);
	return CAIRN_ERROR;
}
