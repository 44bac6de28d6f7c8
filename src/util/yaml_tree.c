/*
 * yaml_tree.c - builds the document tree of yaml_tree.h from libyaml events.
 *
 * We use the event API rather than yaml_parser_load() because the loader
 * resolves aliases into shared nodes: walking such a document visits the
 * same subtree again and again, which is how the "billion laughs" attack
 * works.  With events we see each alias as it comes and refuse it.
 *
 * build() is called with the event that starts a node already read; it
 * reads the rest of that node's events, recursing for children (depth is
 * bounded by CAIRN_YAML_MAX_DEPTH, so recursion is safe).  Every event is
 * deleted by the function that read it.  After a mapping is complete its
 * keys are sorted (a copy of the pair pointers) to find duplicates in
 * O(n log n); the later of two equal keys is reported.
 *
 * libyaml marks are 0-based; the tree stores them 1-based.  Reader errors
 * (bad UTF-8, control characters) carry a byte offset instead of a mark,
 * which we turn into a line and column by counting through the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "error.h"
#include "util.h"
#include "yaml_tree.h"

struct builder {
	yaml_parser_t parser;
	const char *name;
	const char *text;
	size_t len;
	size_t nodes;
};

static int build(struct builder *b, yaml_event_t *ev, unsigned depth,
		 cairn_yaml_node **out);

static unsigned to_u(size_t v)
{
	return v >= (size_t)0xffffffffu ? 0xffffffffu : (unsigned)v;
}

static int error_at(struct builder *b, const yaml_mark_t *mark,
		    const char *what)
{
	return cairn_error__set(CAIRN_ERRCLASS_CONFIG, "%s:%u:%u: %s",
				b->name, to_u(mark->line) + 1,
				to_u(mark->column) + 1, what);
}

/* Line and column (1-based, columns in characters) of a byte offset. */
static void offset_position(const char *text, size_t len, size_t off,
			    unsigned *line, unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int syntax_error(struct builder *b)
{
	yaml_parser_t *p = &b->parser;
	const char *problem = p->problem ? p->problem : "cannot parse";
	unsigned line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return cairn_error__set(CAIRN_ERRCLASS_CONFIG,
			"%s: out of memory while parsing YAML", b->name);
	if (p->error == YAML_READER_ERROR) {
		offset_position(b->text, b->len, p->problem_offset, &line,
				&col);
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				 "%s:%u:%u: invalid YAML: %s", b->name, line,
				 col, problem);
		if (p->problem_value != -1)
			cairn_error__detail("The offending byte is 0x%02X at "
					    "offset %zu.",
					    (unsigned)p->problem_value & 0xffu,
					    p->problem_offset);
		cairn_error__hint("cairn.yaml must be UTF-8 text");
		return CAIRN_ERROR;
	}
	cairn_error__set(CAIRN_ERRCLASS_CONFIG, "%s:%u:%u: invalid YAML: %s",
			 b->name, to_u(p->problem_mark.line) + 1,
			 to_u(p->problem_mark.column) + 1, problem);
	if (p->context)
		cairn_error__detail("The problem was found %s at line %u, "
				    "column %u.", p->context,
				    to_u(p->context_mark.line) + 1,
				    to_u(p->context_mark.column) + 1);
	return CAIRN_ERROR;
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev))
		return syntax_error(b);
	return 0;
}

void cairn_yaml__free(cairn_yaml_node *node)
{
	size_t i;

	if (!node)
		return;
	if (node->kind == CAIRN_YAML_SEQUENCE) {
		for (i = 0; i < node->count; i++)
			cairn_yaml__free(node->items[i]);
	} else if (node->kind == CAIRN_YAML_MAPPING) {
		for (i = 0; i < node->count; i++) {
			cairn_yaml__free(node->pairs[i].key);
			cairn_yaml__free(node->pairs[i].value);
		}
	}
	free(node->items);
	free(node->pairs);
	free(node->text);
	free(node);
}

static cairn_yaml_node *new_node(struct builder *b, cairn_yaml_kind kind,
				 const yaml_event_t *ev)
{
	cairn_yaml_node *n;

	if (++b->nodes > CAIRN_YAML_MAX_NODES) {
		error_at(b, &ev->start_mark, "too many values in one file");
		cairn_error__detail("The limit is %d values.",
				    CAIRN_YAML_MAX_NODES);
		return NULL;
	}
	n = cairn__calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = kind;
	n->line = to_u(ev->start_mark.line) + 1;
	n->column = to_u(ev->start_mark.column) + 1;
	return n;
}

static int build_scalar(struct builder *b, yaml_event_t *ev,
			cairn_yaml_node **out)
{
	const char *value = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	cairn_yaml_node *n;

	if (memchr(value, '\0', len))
		return error_at(b, &ev->start_mark,
				"value contains a NUL character");
	n = new_node(b, CAIRN_YAML_SCALAR, ev);
	if (!n)
		return CAIRN_ERROR;
	n->text = cairn__strndup(value, len);
	if (!n->text) {
		free(n);
		return CAIRN_ERROR;
	}
	n->len = len;
	n->explicit_str = ev->data.scalar.tag != NULL; /* !!str: check_tag */
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		n->style = CAIRN_YAML_SINGLE_QUOTED;
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		n->style = CAIRN_YAML_DOUBLE_QUOTED;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		n->style = CAIRN_YAML_BLOCK;
		break;
	default:
		n->style = CAIRN_YAML_PLAIN;
		break;
	}
	*out = n;
	return 0;
}

static int build_sequence(struct builder *b, cairn_yaml_node *n,
			  unsigned depth)
{
	yaml_event_t ev;
	cairn_yaml_node *child;

	for (;;) {
		if (next_event(b, &ev) < 0)
			return CAIRN_ERROR;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (cairn__grow_array((void **)&n->items, &n->alloc,
				      n->count + 1, sizeof(*n->items)) < 0) {
			yaml_event_delete(&ev);
			return CAIRN_ERROR;
		}
		if (build(b, &ev, depth + 1, &child) < 0)
			return CAIRN_ERROR;
		n->items[n->count++] = child;
	}
}

void cairn_yaml__snippet(char out[CAIRN_YAML_SNIPPET_SIZE], const char *s)
{
	size_t i = 0, n = strlen(s);

	if (n > CAIRN_YAML_SNIPPET_MAX) {
		n = CAIRN_YAML_SNIPPET_MAX;
		/* do not cut a UTF-8 sequence in half */
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (n < strlen(s)) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static int cmp_pairs(const void *pa, const void *pb)
{
	const cairn_yaml_pair *a = *(const cairn_yaml_pair *const *)pa;
	const cairn_yaml_pair *b = *(const cairn_yaml_pair *const *)pb;
	int c = strcmp(a->key->text, b->key->text);

	if (c)
		return c;
	/* equal keys: keep file order, so the later one comes second */
	return a < b ? -1 : a > b;
}

static int check_duplicates(struct builder *b, const cairn_yaml_node *n)
{
	const cairn_yaml_pair **sorted;
	const cairn_yaml_pair *first = NULL, *dup = NULL;
	char shown[CAIRN_YAML_SNIPPET_SIZE];
	size_t i;

	if (n->count < 2)
		return 0;
	sorted = cairn__calloc(n->count, sizeof(*sorted));
	if (!sorted)
		return CAIRN_ERROR;
	for (i = 0; i < n->count; i++)
		sorted[i] = &n->pairs[i];
	qsort(sorted, n->count, sizeof(*sorted), cmp_pairs);
	/*
	 * Equal keys sit together in file order, so the second of a group is
	 * that key's first repeat; report the repeat that comes first.
	 */
	for (i = 1; i < n->count; i++) {
		if (strcmp(sorted[i - 1]->key->text, sorted[i]->key->text))
			continue;
		if (!dup || sorted[i] < dup) {
			dup = sorted[i];
			first = sorted[i - 1];
		}
	}
	free(sorted);
	if (!dup)
		return 0;
	cairn_yaml__snippet(shown, dup->key->text);
	cairn_error__set(CAIRN_ERRCLASS_CONFIG, "%s:%u:%u: duplicate key '%s'",
			 b->name, dup->key->line, dup->key->column, shown);
	cairn_error__detail("'%s' is already set at line %u, column %u.",
			    shown, first->key->line, first->key->column);
	cairn_error__hint("remove one of them");
	return CAIRN_ERROR;
}

static int build_mapping(struct builder *b, cairn_yaml_node *n,
			 unsigned depth)
{
	yaml_event_t ev;
	cairn_yaml_pair *pair;

	for (;;) {
		if (next_event(b, &ev) < 0)
			return CAIRN_ERROR;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return check_duplicates(b, n);
		}
		if (ev.type != YAML_SCALAR_EVENT &&
		    ev.type != YAML_ALIAS_EVENT) {
			error_at(b, &ev.start_mark,
				 "a key must be a plain string, not a list "
				 "or a map");
			yaml_event_delete(&ev);
			return CAIRN_ERROR;
		}
		if (cairn__grow_array((void **)&n->pairs, &n->alloc,
				      n->count + 1, sizeof(*n->pairs)) < 0) {
			yaml_event_delete(&ev);
			return CAIRN_ERROR;
		}
		pair = &n->pairs[n->count];
		if (build(b, &ev, depth + 1, &pair->key) < 0)
			return CAIRN_ERROR;
		/* count the pair now so a failure below frees the key */
		pair->value = NULL;
		n->count++;
		if (next_event(b, &ev) < 0)
			return CAIRN_ERROR;
		if (build(b, &ev, depth + 1, &pair->value) < 0)
			return CAIRN_ERROR;
	}
}

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

/* The event's tag (NULL when it has none) and the tag it may carry. */
static const char *event_tag(const yaml_event_t *ev, const char **allowed)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		*allowed = YAML_TAG_PREFIX "str";
		return (const char *)ev->data.scalar.tag;
	case YAML_SEQUENCE_START_EVENT:
		*allowed = YAML_TAG_PREFIX "seq";
		return (const char *)ev->data.sequence_start.tag;
	case YAML_MAPPING_START_EVENT:
		*allowed = YAML_TAG_PREFIX "map";
		return (const char *)ev->data.mapping_start.tag;
	default:
		*allowed = NULL;
		return NULL;
	}
}

/*
 * Refuses a tag that could change what a value means (!!binary, !!int,
 * !custom, the non-specific '!').  Only the tag a node has anyway is
 * accepted: !!str on a scalar, !!seq on a list, !!map on a map.
 */
static int check_tag(struct builder *b, const yaml_event_t *ev)
{
	char shown[CAIRN_YAML_SNIPPET_SIZE], msg[128];
	const char *allowed, *tag = event_tag(ev, &allowed);

	if (!tag || (allowed && !strcmp(tag, allowed)))
		return 0;
	if (!strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX))) {
		char short_tag[64];

		snprintf(short_tag, sizeof(short_tag), "!!%s",
			 tag + strlen(YAML_TAG_PREFIX));
		cairn_yaml__snippet(shown, short_tag);
	} else {
		cairn_yaml__snippet(shown, tag);
	}
	snprintf(msg, sizeof(msg), "unsupported YAML tag '%s'", shown);
	error_at(b, &ev->start_mark, msg);
	cairn_error__detail("cairn.yaml values are read as written; a tag "
			    "would change their meaning, and cairn does not "
			    "apply it.");
	cairn_error__hint("remove the tag (quote the value if it must stay "
			  "a string)");
	return CAIRN_ERROR;
}

/* Takes ownership of *ev (always deleted). */
static int build(struct builder *b, yaml_event_t *ev, unsigned depth,
		 cairn_yaml_node **out)
{
	cairn_yaml_node *n = NULL;
	int rc = CAIRN_ERROR;

	*out = NULL;
	if (depth > CAIRN_YAML_MAX_DEPTH) {
		error_at(b, &ev->start_mark, "values are nested too deeply");
		cairn_error__detail("The limit is %d levels.",
				    CAIRN_YAML_MAX_DEPTH);
		goto out;
	}
	if (check_tag(b, ev) < 0)
		goto out;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		rc = build_scalar(b, ev, out);
		goto out;
	case YAML_ALIAS_EVENT:
		error_at(b, &ev->start_mark,
			 "YAML aliases ('*name') are not supported");
		cairn_error__hint("write the value out in full; aliases are "
				  "refused so that a small file cannot expand "
				  "into a huge one");
		goto out;
	case YAML_SEQUENCE_START_EVENT:
		n = new_node(b, CAIRN_YAML_SEQUENCE, ev);
		if (!n)
			goto out;
		yaml_event_delete(ev);
		rc = build_sequence(b, n, depth);
		break;
	case YAML_MAPPING_START_EVENT:
		n = new_node(b, CAIRN_YAML_MAPPING, ev);
		if (!n)
			goto out;
		yaml_event_delete(ev);
		rc = build_mapping(b, n, depth);
		break;
	default:
		error_at(b, &ev->start_mark, "invalid YAML: unexpected event");
		goto out;
	}
	if (rc < 0)
		cairn_yaml__free(n);
	else
		*out = n;
	return rc;
out:
	yaml_event_delete(ev);
	return rc;
}

/* Reads one event and fails unless it has the wanted type. */
static int expect_event(struct builder *b, yaml_event_type_t type,
			yaml_event_t *ev)
{
	if (next_event(b, ev) < 0)
		return CAIRN_ERROR;
	if (ev->type == type)
		return 0;
	if (ev->type == YAML_DOCUMENT_START_EVENT) {
		error_at(b, &ev->start_mark,
			 "more than one YAML document in the file");
		cairn_error__hint("cairn.yaml holds a single document; remove "
				  "the '---' line and what follows it");
	} else {
		error_at(b, &ev->start_mark, "invalid YAML: unexpected event");
	}
	yaml_event_delete(ev);
	return CAIRN_ERROR;
}

int cairn_yaml__parse(cairn_yaml_node **out, const char *name,
		      const char *text, size_t len)
{
	struct builder b;
	yaml_event_t ev;
	cairn_yaml_node *root = NULL;
	int rc = CAIRN_ERROR;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	b.name = name;
	b.text = text;
	b.len = len;
	if (!yaml_parser_initialize(&b.parser))
		return cairn_error__oom();
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)text,
				     len);

	if (expect_event(&b, YAML_STREAM_START_EVENT, &ev) < 0)
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&b, &ev) < 0)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		rc = 0;
		goto out;
	}
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		error_at(&b, &ev.start_mark,
			 "invalid YAML: expected a document");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	if (next_event(&b, &ev) < 0)
		goto out;
	if (build(&b, &ev, 0, &root) < 0)
		goto out;
	if (expect_event(&b, YAML_DOCUMENT_END_EVENT, &ev) < 0)
		goto out;
	yaml_event_delete(&ev);
	if (expect_event(&b, YAML_STREAM_END_EVENT, &ev) < 0)
		goto out;
	yaml_event_delete(&ev);
	*out = root;
	root = NULL;
	rc = 0;
out:
	cairn_yaml__free(root);
	yaml_parser_delete(&b.parser);
	return rc;
}

bool cairn_yaml__is_null(const cairn_yaml_node *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (!node || node->kind != CAIRN_YAML_SCALAR ||
	    node->style != CAIRN_YAML_PLAIN || node->explicit_str)
		return false;
	for (i = 0; i < CAIRN_ARRAY_SIZE(nulls); i++)
		if (!strcmp(node->text, nulls[i]))
			return true;
	return false;
}

const char *cairn_yaml__describe(const cairn_yaml_node *node)
{
	if (!node || cairn_yaml__is_null(node))
		return "an empty value";
	switch (node->kind) {
	case CAIRN_YAML_SEQUENCE:
		return "a list";
	case CAIRN_YAML_MAPPING:
		return "a map";
	default:
		return "a string";
	}
}
