/*
 * config_lint.c - the `lint:` section of cairn.yaml.
 *
 *   lint:
 *     disable: [rename-column]          # rules off everywhere
 *     enable: [prefer-bigint]           # style rules on
 *     allow:                            # accepted in one migration
 *       "0042": [destructive]
 *     severity:                         # error | warning | notice | off
 *       index-not-concurrent: error
 *
 * Rule names are checked against the rule table (a misspelled rule is a
 * configuration error with a suggestion, not a silently ignored line);
 * "all" is accepted in allow lists.  allow is stored flat, one (version,
 * rule) pair per rule, so lint needs no nested lists.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/lint.h"
#include "config_lint.h"
#include "util/error.h"
#include "util/util.h"

static const char *const lint_keys[] = {
	"disable", "enable", "allow", "severity", NULL,
};

static const char *const severities[] = {
	"error", "warning", "notice", "off", NULL,
};

static int check_rule(const cairn_cfg_ctx *c, const cairn_yaml_node *at,
		      const char *name, bool all_ok)
{
	if ((all_ok && !strcmp(name, "all")) || cairn_lint_rule_find(name))
		return 0;
	cairn_cfg__error(c, at, "unknown lint rule '%.40s'", name);
	cairn_error__hint("cairn lint --list-rules names them");
	return CAIRN_ERROR;
}

static int rule_list(char ***out, size_t *count, const cairn_cfg_ctx *c,
		     const cairn_yaml_pair *kv)
{
	if (cairn_cfg__string_list(out, count, c, kv) < 0)
		return CAIRN_ERROR;
	for (size_t i = 0; i < *count; i++)
		if (check_rule(c, kv->value->items[i], (*out)[i], false) < 0)
			return CAIRN_ERROR;
	return 0;
}

static int add_pair(cairn_kv **v, size_t *count, size_t *alloc,
		    const char *key, const char *value)
{
	cairn_kv *p;

	if (cairn__grow_array((void **)v, alloc, *count + 1, sizeof(**v)) < 0)
		return CAIRN_ERROR;
	p = &(*v)[*count];
	p->key = cairn__strdup(key);
	p->value = cairn__strdup(value);
	if (!p->key || !p->value) {
		free(p->key);
		free(p->value);
		return CAIRN_ERROR;
	}
	(*count)++;
	return 0;
}

/* allow: { "VERSION": [rule, ...] } or { "VERSION": rule } */
static int read_allow(const cairn_cfg_ctx *c, cairn_config *cfg,
		      const cairn_yaml_pair *kv)
{
	const cairn_yaml_node *v = kv->value;
	size_t alloc = cfg->lint_allow_count;
	int rc = cairn_cfg__want_map(c, kv);

	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < v->count; i++) {
		const cairn_yaml_pair *p = &v->pairs[i];
		const cairn_yaml_node *val = p->value;
		size_t n = val->kind == CAIRN_YAML_SEQUENCE ? val->count : 1;

		if (val->kind == CAIRN_YAML_MAPPING || !p->key->len) {
			return cairn_cfg__error(c, val,
				"expected 'VERSION: [rule, ...]' in 'lint.allow'");
		}
		for (size_t k = 0; k < n; k++) {
			const cairn_yaml_node *item =
				val->kind == CAIRN_YAML_SEQUENCE ? val->items[k]
								 : val;

			if (item->kind != CAIRN_YAML_SCALAR || !item->len)
				return cairn_cfg__error(c, item,
					"expected a rule name in 'lint.allow'");
			if (check_rule(c, item, item->text, true) < 0 ||
			    add_pair(&cfg->lint_allow, &cfg->lint_allow_count,
				     &alloc, p->key->text, item->text) < 0)
				return CAIRN_ERROR;
		}
	}
	return 0;
}

/* severity: { rule: error|warning|notice|off } */
static int read_severity(const cairn_cfg_ctx *c, cairn_config *cfg,
			 const cairn_yaml_pair *kv)
{
	size_t i;

	if (cairn_cfg__kv_map(&cfg->lint_severity, &cfg->lint_severity_count,
			      c, kv) < 0)
		return CAIRN_ERROR;
	for (i = 0; i < cfg->lint_severity_count; i++) {
		const cairn_kv *p = &cfg->lint_severity[i];

		if (check_rule(c, kv->value->pairs[i].key, p->key, false) < 0)
			return CAIRN_ERROR;
		if (cairn_cfg__lookup(severities, p->value) < 0) {
			cairn_cfg__error(c, kv->value->pairs[i].value,
					 "unknown severity '%.40s' for lint rule '%s'",
					 p->value, p->key);
			cairn_cfg__suggest(p->value, severities, "severities");
			return CAIRN_ERROR;
		}
	}
	return 0;
}

int cairn_config__read_lint(const cairn_cfg_ctx *c, cairn_config *cfg,
			    const cairn_yaml_pair *kv)
{
	const cairn_yaml_node *v = kv->value;
	int rc = cairn_cfg__want_map(c, kv);

	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < v->count; i++) {
		const cairn_yaml_pair *a = &v->pairs[i];

		switch (cairn_cfg__lookup(lint_keys, a->key->text)) {
		case 0:
			rc = rule_list(&cfg->lint_disable,
				       &cfg->lint_disable_count, c, a);
			break;
		case 1:
			rc = rule_list(&cfg->lint_enable,
				       &cfg->lint_enable_count, c, a);
			break;
		case 2:
			rc = read_allow(c, cfg, a);
			break;
		case 3:
			rc = read_severity(c, cfg, a);
			break;
		default:
			return cairn_cfg__unknown_key(c, a->key, "in 'lint'",
						      lint_keys);
		}
		if (rc < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

void cairn_config__lint_dispose(cairn_config *cfg)
{
	cairn_cfg__strv_free(cfg->lint_disable, cfg->lint_disable_count);
	cairn_cfg__strv_free(cfg->lint_enable, cfg->lint_enable_count);
	cairn_cfg__kv_free(cfg->lint_allow, cfg->lint_allow_count);
	cairn_cfg__kv_free(cfg->lint_severity, cfg->lint_severity_count);
}
