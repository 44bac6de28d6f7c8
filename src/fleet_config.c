/*
 * fleet_config.c - reads an environment's fleet: `targets:` (a list of
 * { name, database_url, schema }), `targets_file:` or `targets_command:`
 * (README "Fleets").  Only one source per environment; names are unique
 * and checked, schemas follow the rules of the top-level `schema:`.
 * Errors name FILE:LINE:COL like every other key.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet_config.h"
#include "util/error.h"
#include "util/util.h"

#define MAX_NAME_LEN 63

static const char *const target_keys[] = {
	"name", "database_url", "schema", NULL,
};

/*
 * A name is also the last part of its audit anchor's git ref
 * (refs/cairn/audit/ENV@NAME), so what git refuses in a ref is refused
 * here: "..", a trailing '.' and a trailing ".lock".
 */
bool cairn_fleet__valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > MAX_NAME_LEN || strstr(s, "..") || s[n - 1] == '.' ||
	    (n >= 5 && !strcmp(s + n - 5, ".lock")))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_.-") == n;
}

bool cairn_fleet__may_be_url(const char *s)
{
	return strpbrk(s, ":@=/") != NULL;
}

bool cairn_fleet__valid_schema(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		      (i && s[i] >= '0' && s[i] <= '9')))
			return false;
	return i > 0 && i <= MAX_NAME_LEN;
}

void cairn_fleet__target_dispose(cairn_target *t)
{
	free(t->name);
	free(t->database_url);
	free(t->schema);
	memset(t, 0, sizeof(*t));
}

void cairn_cfg__fleet_dispose(cairn_environment *env)
{
	for (size_t i = 0; i < env->targets_count; i++)
		cairn_fleet__target_dispose(&env->targets[i]);
	free(env->targets);
	free(env->targets_file);
	cairn_cfg__strv_free(env->targets_command, env->targets_command_count);
}

static int read_target_key(cairn_target *t, const cairn_cfg_ctx *c,
			   const cairn_yaml_pair *e)
{
	switch (cairn_cfg__lookup(target_keys, e->key->text)) {
	case 0:
		if (cairn_cfg__string(&t->name, c, e, CAIRN_CFG_REQUIRED) < 0)
			return CAIRN_ERROR;
		if (!cairn_fleet__valid_name(t->name)) {
			if (cairn_fleet__may_be_url(t->name))
				cairn_cfg__error(c, e->value, "invalid target name: it looks like a URL or connection string");
			else
				cairn_cfg__error(c, e->value, "invalid target name '%.40s'", t->name);
			cairn_error__hint("use letters, digits, '_', '.' and '-' (no '..', no '.' or '.lock' at the end), at most %d characters",
					  MAX_NAME_LEN);
			return CAIRN_ERROR;
		}
		return 0;
	case 1:
		return cairn_cfg__string(&t->database_url, c, e,
					 CAIRN_CFG_REQUIRED);
	case 2:
		if (cairn_cfg__string(&t->schema, c, e, CAIRN_CFG_REQUIRED) < 0)
			return CAIRN_ERROR;
		if (!cairn_fleet__valid_schema(t->schema)) {
			cairn_cfg__error(c, e->value, "invalid schema name '%.40s'", t->schema);
			cairn_error__hint("use lowercase letters, digits and '_', starting with a letter or '_', at most %d characters",
					  MAX_NAME_LEN);
			return CAIRN_ERROR;
		}
		return 0;
	default:
		return cairn_cfg__unknown_key(c, e->key, "in target", target_keys);
	}
}

static int read_target(cairn_target *t, const cairn_cfg_ctx *c,
		       const cairn_yaml_node *n)
{
	t->line = n->line;
	if (n->kind != CAIRN_YAML_MAPPING)
		return cairn_cfg__error(c, n, "expected a map for a target, got %s",
					cairn_yaml__describe(n));
	for (size_t i = 0; i < n->count; i++)
		if (read_target_key(t, c, &n->pairs[i]) < 0)
			return CAIRN_ERROR;
	if (!t->name)
		return cairn_cfg__error(c, n, "a target needs a name");
	if (!t->database_url)
		return cairn_cfg__error(c, n, "target '%s' needs a database_url",
					t->name);
	return 0;
}

static int read_targets(cairn_environment *env, const cairn_cfg_ctx *c,
			const cairn_yaml_pair *kv)
{
	const cairn_yaml_node *v = kv->value;
	int rc = cairn_cfg__want_list(c, kv);

	if (rc <= 0)
		return rc;
	env->targets = cairn__calloc(v->count ? v->count : 1,
				     sizeof(*env->targets));
	if (!env->targets)
		return CAIRN_ERROR;
	for (size_t i = 0; i < v->count; i++) {
		env->targets_count++;
		if (read_target(&env->targets[i], c, v->items[i]) < 0)
			return CAIRN_ERROR;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(env->targets[j].name, env->targets[i].name))
				return cairn_cfg__error(c, v->items[i],
							"target '%s' is listed twice (first at line %u)",
							env->targets[i].name,
							env->targets[j].line);
	}
	return 0;
}

int cairn_cfg__fleet_key(cairn_environment *env, const cairn_cfg_ctx *c,
			 const cairn_yaml_pair *kv, int which)
{
	int rc;

	if (env->targets_line) {
		cairn_cfg__error(c, kv->key, "environment '%.40s' has its targets from line %u already",
				 env->name, env->targets_line);
		cairn_error__hint("use one of targets, targets_file and targets_command");
		return CAIRN_ERROR;
	}
	if (which == 0)
		rc = read_targets(env, c, kv);
	else if (which == 1)
		rc = cairn_cfg__string(&env->targets_file, c, kv,
				       CAIRN_CFG_REQUIRED);
	else
		rc = cairn_cfg__string_list(&env->targets_command,
					    &env->targets_command_count, c, kv);
	if (rc == 0 && which == 2 && !env->targets_command_count)
		rc = cairn_cfg__error(c, kv->value, "targets_command needs a program");
	if (rc == 0)
		env->targets_line = kv->key->line;
	return rc;
}
