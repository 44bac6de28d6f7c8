/*
 * config.c - cairn.yaml: loading, checking, defaults and freeing (the
 * public API of include/cairn/config.h).
 *
 * Loading reads the whole file (at most CAIRN_CONFIG_MAX_SIZE bytes),
 * builds a YAML tree (yaml_tree.c: libyaml, no aliases, no duplicate
 * keys, one document) and walks it into a cairn_config.  The walk starts
 * from the defaults and lets each key override them.  `environments` is
 * read first, whatever its place in the file, so that later sections
 * (hooks' only.environments, githooks) can check the names they use;
 * the implicit `development` environment is added before that check.
 * Hooks are read in file order: events as they appear under `hooks:`,
 * hooks in list order (hook_spec.c reads each one).
 *
 * Values go through config_read.c, which expands ${VAR} and reports
 * every mistake as "FILE:LINE:COL: what" with class CAIRN_ERRCLASS_CONFIG.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "cairn/config.h"
#include "cairn/migration.h"
#include "hook_spec.h"
#include "config_read.h"
#include "fleet_config.h"
#include "util/error.h"
#include "util/util.h"
#include "version_check.h"
#include "util/yaml_tree.h"
#include "config_lint.h"

#define CAIRN_CONFIG_MAX_SIZE ((size_t)1024 * 1024)
#define DEFAULT_MIGRATIONS_DIR "db/migrations"
#define DEFAULT_SCHEMA "cairn"
#define DEFAULT_ENVIRONMENT "development"
#define MAX_SCHEMA_LEN 63 /* PostgreSQL's NAMEDATALEN - 1 */

static const char *const top_keys[] = {
	"migrations_dir", "schema", "ignore", "environments", "hooks",
	"githooks", "metadata", "shadow_database_url", "audit", "lint",
	"layout", "dialect", "versions", NULL,
};

static const char *const audit_keys[] = {
	"anchor", "anchor_file", "secret_env", NULL,
};

static const char *const env_keys[] = {
	"database_url", "allowed_refs", "require_clean_tree", "confirm",
	"allow_out_of_order", "require_down", "lock_timeout", "metadata",
	"direct_database_url",
	/* two lock timeouts, retries, statement_timeout: README, Production */
	"deploy_lock_timeout", "statement_lock_timeout", "statement_timeout",
	"lock_retries", "lock_retry_delay",
	"baseline_on_migrate",
	/* fleets: src/fleet_config.c */
	"targets", "targets_file", "targets_command",
	"server_answer_timeout", /* README, Production */
	NULL,
};

static const char *const githook_keys[] = {
	"pre_push", "post_merge", "post_checkout", NULL,
};

struct parse {
	cairn_cfg_ctx c;
	cairn_config *cfg;
	size_t env_alloc;
	size_t hooks_alloc;
	size_t warnings_alloc;
	const char **env_names; /* NULL-terminated, borrowed from cfg */
};

static void environment_dispose(cairn_environment *env)
{
	free(env->name);
	free(env->database_url);
	free(env->direct_database_url);
	free(env->baseline_on_migrate);
	cairn_cfg__strv_free(env->allowed_refs, env->allowed_refs_count);
	cairn_cfg__kv_free(env->metadata, env->metadata_count);
	cairn_cfg__fleet_dispose(env);
}

void cairn_config_free(cairn_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->migrations_dir);
	free(cfg->dialect);
	free(cfg->schema);
	cairn_cfg__strv_free(cfg->ignore, cfg->ignore_count);
	free(cfg->shadow_database_url);
	for (i = 0; i < cfg->environments_count; i++)
		environment_dispose(&cfg->environments[i]);
	free(cfg->environments);
	for (i = 0; i < cfg->hooks_count; i++)
		cairn_config__hook_dispose(&cfg->hooks[i]);
	free(cfg->hooks);
	cairn_cfg__kv_free(cfg->metadata, cfg->metadata_count);
	free(cfg->pre_push_environment);
	free(cfg->post_merge_apply);
	free(cfg->post_checkout_environment);
	free(cfg->audit_anchor_file);
	free(cfg->audit_secret_env);
	cairn_cfg__strv_free(cfg->warnings, cfg->warnings_count);
	cairn_config__lint_dispose(cfg);
	free(cfg);
}

const cairn_environment *cairn_config_environment(const cairn_config *cfg,
						  const char *name)
{
	size_t i;

	if (!cfg || !name)
		return NULL;
	for (i = 0; i < cfg->environments_count; i++)
		if (!strcmp(cfg->environments[i].name, name))
			return &cfg->environments[i];
	return NULL;
}

/* Appends an environment called name (a copy) with default settings. */
static cairn_environment *add_environment(struct parse *p, const char *name,
					  unsigned line)
{
	cairn_config *cfg = p->cfg;
	cairn_environment *env;

	if (cairn__grow_array((void **)&cfg->environments, &p->env_alloc,
			      cfg->environments_count + 1,
			      sizeof(*cfg->environments)) < 0)
		return NULL;
	env = &cfg->environments[cfg->environments_count];
	memset(env, 0, sizeof(*env));
	env->name = cairn__strdup(name);
	if (!env->name)
		return NULL;
	env->line = line;
	cfg->environments_count++;
	return env;
}

static cairn_config *new_config(struct parse *p)
{
	cairn_config *cfg = cairn__calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	p->cfg = cfg;
	cfg->migrations_dir = cairn__strdup(DEFAULT_MIGRATIONS_DIR);
	cfg->schema = cairn__strdup(DEFAULT_SCHEMA);
	if (!cfg->migrations_dir || !cfg->schema) {
		cairn_config_free(cfg);
		p->cfg = NULL;
		return NULL;
	}
	return cfg;
}

int cairn_config_default(cairn_config **out)
{
	struct parse p;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	if (!new_config(&p))
		return CAIRN_ERROR;
	if (!add_environment(&p, DEFAULT_ENVIRONMENT, 0)) {
		cairn_config_free(p.cfg);
		return CAIRN_ERROR;
	}
	*out = p.cfg;
	return 0;
}

static bool valid_env_name(const char *s)
{
	size_t i;

	if (!*s)
		return false;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i])))
			return false;
	return true;
}

/* Keeps a "FILE:LINE:COL: text" warning for the program to show. */
static int add_warning(struct parse *p, const cairn_yaml_node *at,
		       const char *text)
{
	cairn_config *cfg = p->cfg;
	char *w = NULL;

	if (asprintf(&w, "%s:%u:%u: %s", p->c.file, at->line, at->column,
		     text) < 0)
		return cairn_error__oom();
	if (cairn__grow_array((void **)&cfg->warnings, &p->warnings_alloc,
			      cfg->warnings_count + 1,
			      sizeof(*cfg->warnings)) < 0) {
		free(w);
		return CAIRN_ERROR;
	}
	cfg->warnings[cfg->warnings_count++] = w;
	return 0;
}

/* The key of env's map called name, or NULL. */
static const cairn_yaml_node *env_key(const cairn_yaml_node *v,
				      const char *name)
{
	for (size_t i = 0; v->kind == CAIRN_YAML_MAPPING && i < v->count; i++)
		if (!strcmp(v->pairs[i].key->text, name))
			return v->pairs[i].key;
	return NULL;
}

/*
 * `lock_timeout:` is the deploy lock's wait, as before issue 11; it
 * still works, with a warning, and may not be given with its new name.
 */
static int read_deprecated_lock_timeout(struct parse *p,
					cairn_environment *env,
					const cairn_yaml_pair *e,
					const cairn_yaml_node *v)
{
	if (env_key(v, "deploy_lock_timeout")) {
		cairn_cfg__error(&p->c, e->key, "give 'deploy_lock_timeout' or "
				 "the deprecated 'lock_timeout', not both");
		cairn_error__hint("remove 'lock_timeout' (it meant the deploy "
				  "lock's wait; 'statement_lock_timeout' bounds "
				  "each migration statement's lock wait)");
		return CAIRN_ERROR;
	}
	if (cairn_cfg__duration(&env->lock_timeout_ms, &p->c, e, true) < 0)
		return CAIRN_ERROR;
	return add_warning(p, e->key,
		"'lock_timeout' is deprecated: it is the wait for the deploy "
		"lock; write 'deploy_lock_timeout' ('statement_lock_timeout' "
		"bounds each migration statement's wait for a table lock)");
}

/* The keys of issue 11: deploy lock, statement lock wait, retries. */
static int read_statement_bound(struct parse *p, cairn_environment *env,
				const cairn_yaml_pair *e)
{
	const cairn_cfg_ctx *c = &p->c;
	const char *k = e->key->text;
	unsigned n;

	if (!strcmp(k, "deploy_lock_timeout"))
		return cairn_cfg__duration(&env->lock_timeout_ms, c, e, true);
	if (!strcmp(k, "statement_timeout"))
		return cairn_cfg__duration(&env->statement_timeout_ms, c, e,
					   true);
	if (!strcmp(k, "lock_retry_delay"))
		return cairn_cfg__duration(&env->lock_retry_delay_ms, c, e,
					   false);
	if (!strcmp(k, "statement_lock_timeout")) {
		uint64_t ms = UINT64_MAX; /* stays when the value is empty */

		if (cairn_cfg__duration(&ms, c, e, true) < 0)
			return CAIRN_ERROR;
		/* 0 written: cairn leaves the server's setting alone */
		if (ms != UINT64_MAX)
			env->statement_lock_timeout_ms = ms ? ms :
				CAIRN_CONFIG_TIMEOUT_OFF;
		return 0;
	}
	n = UINT_MAX; /* stays when the value is empty */
	if (cairn_cfg__uint(&n, c, e, 0, 100) < 0) /* lock_retries */
		return CAIRN_ERROR;
	if (n != UINT_MAX)
		env->lock_tries = n + 1;
	return 0;
}

static int read_environment_body(struct parse *p, cairn_environment *env,
				 const cairn_yaml_pair *kv)
{
	const cairn_cfg_ctx *c = &p->c;
	const cairn_yaml_node *v = kv->value;
	size_t i;
	int rc;

	if (!cairn_yaml__is_null(v) && v->kind != CAIRN_YAML_MAPPING) {
		cairn_cfg__error(c, v, "expected a map for environment "
				 "'%.40s', got %s", env->name,
				 cairn_yaml__describe(v));
		cairn_error__hint("write '%s: {}' for an environment with no "
				  "settings", env->name);
		return CAIRN_ERROR;
	}
	for (i = 0; v->kind == CAIRN_YAML_MAPPING && i < v->count; i++) {
		const cairn_yaml_pair *e = &v->pairs[i];

		switch (cairn_cfg__lookup(env_keys, e->key->text)) {
		case 0:
			rc = cairn_cfg__string(&env->database_url, c, e, 0);
			break;
		case 1:
			rc = cairn_cfg__string_list(&env->allowed_refs,
						    &env->allowed_refs_count,
						    c, e);
			break;
		case 2:
			rc = cairn_cfg__bool(&env->require_clean_tree, c, e);
			break;
		case 3:
			rc = cairn_cfg__bool(&env->confirm, c, e);
			break;
		case 4:
			rc = cairn_cfg__bool(&env->allow_out_of_order, c, e);
			break;
		case 5:
			rc = cairn_cfg__bool(&env->require_down, c, e);
			break;
		case 6:
			rc = read_deprecated_lock_timeout(p, env, e, v);
			break;
		case 7:
			rc = cairn_cfg__kv_map(&env->metadata,
					       &env->metadata_count, c, e);
			break;
		case 8:
			rc = cairn_cfg__string(&env->direct_database_url, c, e,
					       0);
			break;
		case 9: case 10: case 11: case 12: case 13:
			rc = read_statement_bound(p, env, e);
			break;
		case 18:
			rc = cairn_cfg__duration(&env->server_answer_timeout_ms,
						 c, e, false);
			break;
		case 14:
			rc = cairn_cfg__string(&env->baseline_on_migrate, c, e,
					       0);
			if (rc == 0 &&
			    !cairn_version_is_valid(env->baseline_on_migrate)) {
				cairn_cfg__error(c, e->value,
						 "baseline_on_migrate needs a migration version, not '%.40s'",
						 env->baseline_on_migrate);
				rc = CAIRN_ERROR;
			}
			break;
		case 15: case 16: case 17: /* targets* */
			rc = cairn_cfg__fleet_key(env, c, e,
				cairn_cfg__lookup(env_keys, e->key->text) - 15);
			break;
		default:
			cairn_cfg__unknown_key(c, e->key, "in environment",
					       env_keys);
			return CAIRN_ERROR;
		}
		if (rc < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static int read_environments(struct parse *p, const cairn_yaml_pair *kv)
{
	const cairn_yaml_node *v = kv->value;
	cairn_environment *env;
	size_t i;
	int rc = cairn_cfg__want_map(&p->c, kv);

	if (rc <= 0)
		return rc;
	for (i = 0; i < v->count; i++) {
		const cairn_yaml_pair *e = &v->pairs[i];

		if (!valid_env_name(e->key->text)) {
			cairn_cfg__error(&p->c, e->key,
					 "invalid environment name '%.40s'",
					 e->key->text);
			cairn_error__hint("use letters, digits, '_', '.' and "
					  "'-'");
			return CAIRN_ERROR;
		}
		env = add_environment(p, e->key->text, e->key->line);
		if (!env || read_environment_body(p, env, e) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

/* The environments that exist, for checking names that refer to them. */
static int collect_env_names(struct parse *p)
{
	const cairn_config *cfg = p->cfg;
	size_t i;

	if (!cairn_config_environment(cfg, DEFAULT_ENVIRONMENT) &&
	    !add_environment(p, DEFAULT_ENVIRONMENT, 0))
		return CAIRN_ERROR;
	p->env_names = cairn__calloc(cfg->environments_count + 1,
				     sizeof(*p->env_names));
	if (!p->env_names)
		return CAIRN_ERROR;
	for (i = 0; i < cfg->environments_count; i++)
		p->env_names[i] = cfg->environments[i].name;
	return 0;
}

static int read_env_ref(struct parse *p, char **out,
			const cairn_yaml_pair *kv, const char *path)
{
	if (cairn_cfg__string(out, &p->c, kv, CAIRN_CFG_REQUIRED) < 0)
		return CAIRN_ERROR;
	if (!*out || cairn_cfg__lookup(p->env_names, *out) >= 0)
		return 0;
	cairn_cfg__error(&p->c, kv->value, "unknown environment '%.40s' in "
			 "'%s'", *out, path);
	cairn_cfg__suggest(*out, p->env_names, "environments");
	return CAIRN_ERROR;
}

/* githooks.<hook>: a map with the single key `want`. */
static int read_githook(struct parse *p, const cairn_yaml_pair *kv,
			const char *want, char **out)
{
	const char *const keys[] = { want, NULL };
	const cairn_yaml_node *v = kv->value;
	char where[64], path[64];
	size_t i;
	int rc = cairn_cfg__want_map(&p->c, kv);

	if (rc <= 0) {
		if (rc < 0)
			cairn_error__hint("write '%s: { %s: NAME }'",
					  kv->key->text, want);
		return rc;
	}
	snprintf(where, sizeof(where), "in 'githooks.%s'", kv->key->text);
	snprintf(path, sizeof(path), "githooks.%s.%s", kv->key->text, want);
	for (i = 0; i < v->count; i++) {
		const cairn_yaml_pair *g = &v->pairs[i];

		if (strcmp(g->key->text, want))
			return cairn_cfg__unknown_key(&p->c, g->key, where,
						      keys);
		if (read_env_ref(p, out, g, path) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static int read_githooks(struct parse *p, const cairn_yaml_pair *kv)
{
	const cairn_yaml_node *v = kv->value;
	size_t i;
	int rc = cairn_cfg__want_map(&p->c, kv);

	if (rc <= 0)
		return rc;
	for (i = 0; i < v->count; i++) {
		const cairn_yaml_pair *g = &v->pairs[i];

		switch (cairn_cfg__lookup(githook_keys, g->key->text)) {
		case 0:
			rc = read_githook(p, g, "environment",
					  &p->cfg->pre_push_environment);
			break;
		case 1:
			rc = read_githook(p, g, "apply",
					  &p->cfg->post_merge_apply);
			break;
		case 2:
			rc = read_githook(p, g, "environment",
					  &p->cfg->post_checkout_environment);
			break;
		default:
			return cairn_cfg__unknown_key(&p->c, g->key,
						      "in 'githooks'",
						      githook_keys);
		}
		if (rc < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static int read_hook_list(struct parse *p, cairn_event event,
			  const cairn_yaml_pair *kv)
{
	cairn_config *cfg = p->cfg;
	const cairn_yaml_node *v = kv->value;
	size_t i;

	if (cairn_yaml__is_null(v))
		return 0;
	if (v->kind != CAIRN_YAML_SEQUENCE) {
		cairn_cfg__error(&p->c, v, "expected a list of hooks for '%s', "
				 "got %s", kv->key->text,
				 cairn_yaml__describe(v));
		cairn_error__hint("write each hook as a list item: "
				  "'- builtin: log'");
		return CAIRN_ERROR;
	}
	for (i = 0; i < v->count; i++) {
		if (cairn__grow_array((void **)&cfg->hooks, &p->hooks_alloc,
				      cfg->hooks_count + 1,
				      sizeof(*cfg->hooks)) < 0)
			return CAIRN_ERROR;
		if (cairn_config__hook_parse(&cfg->hooks[cfg->hooks_count],
					     &p->c, event, v->items[i],
					     p->env_names) < 0)
			return CAIRN_ERROR;
		cfg->hooks_count++;
	}
	return 0;
}

static int read_hooks(struct parse *p, const cairn_yaml_pair *kv)
{
	const char *event_names[CAIRN_EVENT__COUNT + 1] = { NULL };
	const cairn_yaml_node *v = kv->value;
	cairn_event event;
	size_t i;
	int rc = cairn_cfg__want_map(&p->c, kv);

	if (rc < 0)
		cairn_error__hint("write one event per key, each with a list "
				  "of hooks: 'pre_validate: [{builtin: "
				  "db-reachable}]'");
	if (rc <= 0)
		return rc;
	for (i = 0; i < CAIRN_EVENT__COUNT; i++)
		event_names[i] = cairn_event_name((cairn_event)i);
	for (i = 0; i < v->count; i++) {
		const cairn_yaml_pair *h = &v->pairs[i];

		if (cairn_event_from_name(&event, h->key->text) < 0) {
			cairn_cfg__error(&p->c, h->key, "unknown event '%.40s' "
					 "in 'hooks'", h->key->text);
			cairn_cfg__suggest(h->key->text, event_names,
					   "events");
			return CAIRN_ERROR;
		}
		if (read_hook_list(p, event, h) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static int read_migrations_dir(struct parse *p, const cairn_yaml_pair *kv)
{
	char **dir = &p->cfg->migrations_dir;
	const char *s, *why = NULL;
	size_t n;

	if (cairn_cfg__string(dir, &p->c, kv, CAIRN_CFG_REQUIRED) < 0)
		return CAIRN_ERROR;
	n = strlen(*dir);
	while (n > 1 && (*dir)[n - 1] == '/')
		(*dir)[--n] = '\0';
	if (!n)
		why = "is empty";
	else if ((*dir)[0] == '/')
		why = "must be relative to the repository root";
	for (s = *dir; !why && s; s = strchr(s, '/')) {
		s += *s == '/';
		if (!strncmp(s, "..", 2) && (s[2] == '/' || !s[2]))
			why = "may not contain '..'";
	}
	if (!why)
		return 0;
	cairn_cfg__error(&p->c, kv->value, "migrations_dir '%.40s' %s", *dir,
			 why);
	cairn_error__hint("give a path inside the repository, such as "
			  "'db/migrations'");
	return CAIRN_ERROR;
}

static int read_schema(struct parse *p, const cairn_yaml_pair *kv)
{
	const char *s;
	size_t i;

	if (cairn_cfg__string(&p->cfg->schema, &p->c, kv,
			      CAIRN_CFG_REQUIRED) < 0)
		return CAIRN_ERROR;
	s = p->cfg->schema;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		      (i && s[i] >= '0' && s[i] <= '9')))
			break;
	if (i && !s[i] && i <= MAX_SCHEMA_LEN)
		return 0;
	cairn_cfg__error(&p->c, kv->value, "invalid schema name '%.40s'", s);
	cairn_error__hint("use lowercase letters, digits and '_', starting "
			  "with a letter or '_', at most %d characters",
			  MAX_SCHEMA_LEN);
	return CAIRN_ERROR;
}

/* layout: cairn | golang-migrate | dbmate | flyway (migration.h) */
static int read_layout(struct parse *p, const cairn_yaml_pair *kv)
{
	char *name = NULL;
	cairn_layout l;

	if (cairn_cfg__string(&name, &p->c, kv, CAIRN_CFG_REQUIRED) < 0)
		return CAIRN_ERROR;
	if (!cairn_layout_parse(name, &l)) {
		cairn_cfg__error(&p->c, kv->value, "unknown layout '%.40s'",
				 name);
		cairn_error__hint("layouts: cairn, golang-migrate, dbmate, "
				  "flyway");
		free(name);
		return CAIRN_ERROR;
	}
	free(name);
	/* keeps the flag of a versions: key read before it */
	p->cfg->layout = (int)l | (p->cfg->layout & CAIRN_LAYOUT_PER_DIRECTORY);
	return 0;
}

/*
 * versions: global | per-directory.  Carried as a flag of the layout
 * (CAIRN_LAYOUT_PER_DIRECTORY, migration.h), so everything that reads
 * migrations with the configured layout numbers them the same way.
 */
static int read_versions(struct parse *p, const cairn_yaml_pair *kv)
{
	char *name = NULL;
	bool per_directory;

	if (cairn_cfg__string(&name, &p->c, kv, CAIRN_CFG_REQUIRED) < 0)
		return CAIRN_ERROR;
	if (!cairn_versions_parse(name, &per_directory)) {
		cairn_cfg__error(&p->c, kv->value,
				 "unknown versions setting '%.40s'", name);
		cairn_error__hint("versions: global (one sequence for the "
				  "whole migrations directory) or "
				  "per-directory (each subdirectory its own)");
		free(name);
		return CAIRN_ERROR;
	}
	free(name);
	if (per_directory)
		p->cfg->layout |= CAIRN_LAYOUT_PER_DIRECTORY;
	else
		p->cfg->layout &= ~CAIRN_LAYOUT_PER_DIRECTORY;
	return 0;
}

/* dialect: the infix of files for this database (`x.postgres.up.sql`) */
static int read_dialect(struct parse *p, const cairn_yaml_pair *kv)
{
	const char *s;

	if (cairn_cfg__string(&p->cfg->dialect, &p->c, kv,
			      CAIRN_CFG_REQUIRED) < 0)
		return CAIRN_ERROR;
	for (s = p->cfg->dialect; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			break;
	if (!*s && s != p->cfg->dialect)
		return 0;
	cairn_cfg__error(&p->c, kv->value, "invalid dialect '%.40s'",
			 p->cfg->dialect);
	cairn_error__hint("a dialect is lowercase letters and digits, as in "
			  "the file names: 'dialect: postgres' selects "
			  "x.postgres.up.sql");
	return CAIRN_ERROR;
}

/* audit: { anchor: BOOL, anchor_file: PATH, secret_env: NAME } */
static int read_audit(struct parse *p, const cairn_yaml_pair *kv)
{
	cairn_config *cfg = p->cfg;
	const cairn_yaml_node *v = kv->value;
	int rc = cairn_cfg__want_map(&p->c, kv);

	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < v->count; i++) {
		const cairn_yaml_pair *a = &v->pairs[i];

		switch (cairn_cfg__lookup(audit_keys, a->key->text)) {
		case 0:
			rc = cairn_cfg__bool(&cfg->audit_anchor, &p->c, a);
			break;
		case 1:
			rc = cairn_cfg__string(&cfg->audit_anchor_file, &p->c,
					       a, CAIRN_CFG_REQUIRED);
			break;
		case 2:
			rc = cairn_cfg__string(&cfg->audit_secret_env, &p->c,
					       a, CAIRN_CFG_REQUIRED);
			if (rc == 0 &&
			    !cairn_cfg__is_identifier(cfg->audit_secret_env)) {
				cairn_cfg__error(&p->c, a->value,
						 "invalid variable name '%.40s' for 'audit.secret_env'",
						 cfg->audit_secret_env);
				cairn_error__hint("name the environment variable that holds the key, e.g. 'secret_env: CAIRN_AUDIT_KEY'");
				rc = CAIRN_ERROR;
			}
			break;
		default:
			return cairn_cfg__unknown_key(&p->c, a->key,
						      "in 'audit'", audit_keys);
		}
		if (rc < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

static int read_top_key(struct parse *p, const cairn_yaml_pair *kv)
{
	cairn_config *cfg = p->cfg;

	switch (cairn_cfg__lookup(top_keys, kv->key->text)) {
	case 0:
		return read_migrations_dir(p, kv);
	case 1:
		return read_schema(p, kv);
	case 2:
		return cairn_cfg__string_list(&cfg->ignore, &cfg->ignore_count,
					      &p->c, kv);
	case 3:
		return 0; /* read first, by read_root */
	case 4:
		return read_hooks(p, kv);
	case 5:
		return read_githooks(p, kv);
	case 6:
		return cairn_cfg__kv_map(&cfg->metadata, &cfg->metadata_count,
					 &p->c, kv);
	case 7:
		return cairn_cfg__string(&cfg->shadow_database_url, &p->c, kv,
					 0);
	case 8:
		return read_audit(p, kv);
	case 9:
		return cairn_config__read_lint(&p->c, p->cfg, kv);
	case 10:
		return read_layout(p, kv);
	case 11:
		return read_dialect(p, kv);
	case 12:
		return read_versions(p, kv);
	default:
		return cairn_cfg__unknown_key(&p->c, kv->key,
					      "at the top level", top_keys);
	}
}

static int read_root(struct parse *p, const cairn_yaml_node *root)
{
	size_t i;

	if (root && !cairn_yaml__is_null(root) &&
	    root->kind != CAIRN_YAML_MAPPING) {
		cairn_cfg__error(&p->c, root, "expected a map at the top "
				 "level, got %s", cairn_yaml__describe(root));
		cairn_error__hint("start with 'migrations_dir: db/migrations'");
		return CAIRN_ERROR;
	}
	if (root && root->kind == CAIRN_YAML_MAPPING) {
		for (i = 0; i < root->count; i++)
			if (!strcmp(root->pairs[i].key->text, "environments") &&
			    read_environments(p, &root->pairs[i]) < 0)
				return CAIRN_ERROR;
	}
	if (collect_env_names(p) < 0)
		return CAIRN_ERROR;
	for (i = 0; root && root->kind == CAIRN_YAML_MAPPING &&
		    i < root->count; i++)
		if (read_top_key(p, &root->pairs[i]) < 0)
			return CAIRN_ERROR;
	return 0;
}

int cairn_config_parse(cairn_config **out, const char *name,
		       const char *text, size_t len,
		       const cairn_config_options *opts)
{
	struct parse p;
	cairn_yaml_node *root = NULL;
	int rc = CAIRN_ERROR;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.c.file = name ? name : "cairn.yaml";
	CAIRN__CHECK_VERSION(opts, CAIRN_CONFIG_OPTIONS_VERSION,
			     "cairn_config_options");
	if (opts) {
		p.c.getenv_fn = opts->getenv_fn;
		p.c.payload = opts->payload;
	}
	if (len > CAIRN_CONFIG_MAX_SIZE) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "%s: file is larger than 1 MiB", p.c.file);
		cairn_error__hint("a cairn.yaml needs a few kilobytes; is this "
				  "the right file?");
		return CAIRN_ERROR;
	}
	if (!text) {
		text = "";
		len = 0;
	}
	if (cairn_yaml__parse(&root, p.c.file, text, len) < 0)
		return CAIRN_ERROR;
	if (!new_config(&p))
		goto out;
	if (read_root(&p, root) < 0)
		goto out;
	*out = p.cfg;
	p.cfg = NULL;
	rc = 0;
out:
	cairn_config_free(p.cfg);
	free(p.env_names);
	cairn_yaml__free(root);
	return rc;
}

/* Reads at most CAIRN_CONFIG_MAX_SIZE bytes of path into b. */
static int read_file(cairn_buf *b, const char *path)
{
	if (cairn__file_read(AT_FDCWD, path, 0, CAIRN_CONFIG_MAX_SIZE, b) == 0)
		return 0;
	if (errno == ENOENT || errno == ENOTDIR) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "config file '%s' not found", path);
		cairn_error__hint("run 'cairn init' to create one, or pass "
				  "--config FILE");
		return CAIRN_ENOTFOUND;
	}
	if (errno == EISDIR)
		return cairn_error__set(CAIRN_ERRCLASS_CONFIG,
					"'%s' is a directory", path);
	if (errno == EFBIG) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "%s: file is larger than 1 MiB", path);
		cairn_error__hint("a cairn.yaml needs a few kilobytes; is this "
				  "the right file?");
		return CAIRN_ERROR;
	}
	return cairn_error__set(CAIRN_ERRCLASS_CONFIG, "cannot read '%s': %s",
				path, strerror(errno));
}

int cairn_config_load(cairn_config **out, const char *path,
		      const cairn_config_options *opts)
{
	cairn_buf b;
	int rc;

	*out = NULL;
	if (!path)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"no configuration file given");
	cairn_buf_init(&b, CAIRN_CONFIG_MAX_SIZE);
	rc = read_file(&b, path);
	if (rc == 0)
		rc = cairn_config_parse(out, path, b.ptr, b.size, opts);
	cairn_buf_dispose(&b);
	if (rc == 0) {
		(*out)->path = cairn__strdup(path);
		if (!(*out)->path) {
			cairn_config_free(*out);
			*out = NULL;
			rc = CAIRN_ERROR;
		}
	}
	return rc;
}
