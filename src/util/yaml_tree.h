/*
 * yaml_tree.h (internal) - a small YAML document tree for cairn.yaml.
 *
 * cairn_yaml__parse() runs libyaml's event parser over a buffer and builds
 * a tree of scalars, sequences and mappings, each node keeping the line and
 * column (1-based) where it starts, so that every later complaint can say
 * "cairn.yaml:12:7: ...".  The tree is deliberately stricter than YAML:
 *
 *  - aliases (`*name`) are refused, so a file cannot expand itself into
 *    gigabytes (the "billion laughs"); anchors alone are harmless;
 *  - mapping keys must be scalars and may appear only once per mapping;
 *  - a file holds at most one document;
 *  - scalars may not contain NUL bytes (they become C strings);
 *  - nesting depth and the number of nodes are bounded.
 *
 * Errors are set with class CAIRN_ERRCLASS_CONFIG and a message of the form
 * "NAME:LINE:COL: what"; libyaml's own problem text is passed through for
 * malformed input.  Tags are refused ("NAME:LINE:COL: unsupported YAML
 * tag '!!binary'"), except the one a node has anyway: !!str on a scalar
 * (which then is never null), !!seq on a list, !!map on a map.  Values
 * are not interpreted here
 * (no booleans or numbers): that is the reader's job (config_read.h).
 */
#ifndef CAIRN_SRC_YAML_TREE_H
#define CAIRN_SRC_YAML_TREE_H

#include "attrs.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	CAIRN_YAML_SCALAR = 0,
	CAIRN_YAML_SEQUENCE,
	CAIRN_YAML_MAPPING
} cairn_yaml_kind;

typedef enum {
	CAIRN_YAML_PLAIN = 0,   /* unquoted */
	CAIRN_YAML_SINGLE_QUOTED,
	CAIRN_YAML_DOUBLE_QUOTED,
	CAIRN_YAML_BLOCK        /* `|` or `>` */
} cairn_yaml_style;

typedef struct cairn_yaml_node cairn_yaml_node;

typedef struct cairn_yaml_pair {
	cairn_yaml_node *key;   /* always a scalar */
	cairn_yaml_node *value;
} cairn_yaml_pair;

struct cairn_yaml_node {
	cairn_yaml_kind kind;
	unsigned line;          /* 1-based */
	unsigned column;        /* 1-based, in characters */

	/* scalar: NUL-terminated text of len bytes */
	char *text;
	size_t len;
	cairn_yaml_style style;
	bool explicit_str;      /* tagged !!str: a string, never null */

	/* sequence: items[count]; mapping: pairs[count], in file order */
	cairn_yaml_node **items;
	cairn_yaml_pair *pairs;
	size_t count;
	size_t alloc;
};

/* Limits; a cairn.yaml needs nowhere near these. */
#define CAIRN_YAML_MAX_DEPTH 32
#define CAIRN_YAML_MAX_NODES 100000

/*
 * Parses text (len bytes) into *out.  `name` is used in messages.  An empty
 * stream (no document at all) gives *out == NULL and returns 0.
 */
CAIRN_WARN_UNUSED int cairn_yaml__parse(cairn_yaml_node **out, const char *name,
		      const char *text, size_t len);
void cairn_yaml__free(cairn_yaml_node *node);

/* True for a plain scalar spelled "", "~", "null", "Null" or "NULL". */
bool cairn_yaml__is_null(const cairn_yaml_node *node);

/*
 * A printable copy of s for messages: at most CAIRN_YAML_SNIPPET_MAX bytes
 * (cut on a UTF-8 boundary, "..." appended), control characters as '?',
 * so that quoting the file's text cannot break a message or a terminal.
 */
#define CAIRN_YAML_SNIPPET_MAX 40
#define CAIRN_YAML_SNIPPET_SIZE (CAIRN_YAML_SNIPPET_MAX + 4)
void cairn_yaml__snippet(char out[CAIRN_YAML_SNIPPET_SIZE], const char *s);

/* "a string", "a list", "a map" or "an empty value", for messages. */
const char *cairn_yaml__describe(const cairn_yaml_node *node);

#endif
