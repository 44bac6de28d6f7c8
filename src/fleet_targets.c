/*
 * fleet_targets.c - an environment's targets as one list, whatever their
 * source: the `targets:` list of cairn.yaml (copied), a `targets_file`
 * or the output of a `targets_command` (run without a shell, bounded in
 * time and output).  Lines of a file or of the output are
 * "name url [schema]"; blank lines and '#' comments are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/fleet.h"
#include "fleet_config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/spawn.h"
#include "util/util.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_OUTPUT ((size_t)1024 * 1024)
#define MAX_TARGETS 100000

void cairn_fleet_targets_free(cairn_target *t, size_t count)
{
	for (size_t i = 0; t && i < count; i++)
		cairn_fleet__target_dispose(&t[i]);
	free(t);
}

struct list {
	cairn_target *v;
	size_t n, alloc;
};

static int push_target(struct list *l, const char *name, const char *url,
		       const char *schema, unsigned line)
{
	cairn_target *t;

	if (l->n >= MAX_TARGETS)
		return cairn_error__set(CAIRN_ERRCLASS_NOMEMORY,
					"more than %d targets", MAX_TARGETS);
	if (cairn__grow_array((void **)&l->v, &l->alloc, l->n + 1,
			      sizeof(*l->v)) < 0)
		return CAIRN_ERROR;
	t = &l->v[l->n];
	memset(t, 0, sizeof(*t));
	t->name = cairn__strdup(name);
	t->database_url = cairn__strdup(url);
	t->schema = schema ? cairn__strdup(schema) : NULL;
	t->line = line;
	l->n++;
	if (!t->name || !t->database_url || (schema && !t->schema))
		return CAIRN_ERROR;
	return 0;
}

/* Splits a line into at most 4 fields in place; returns how many. */
static size_t fields(char *s, char *f[4])
{
	size_t n = 0;

	while (*s && n < 4) {
		s += strspn(s, " \t\r");
		if (!*s)
			break;
		f[n++] = s;
		s += strcspn(s, " \t\r");
		if (*s)
			*s++ = '\0';
	}
	return n;
}

/*
 * A name or schema field that is wrong; one that may be a URL (fields
 * in the wrong order) is not quoted, since it may hold a password.
 */
static int bad_field(const char *what, unsigned lineno, const char *kind,
		     const char *field)
{
	if (!cairn_fleet__may_be_url(field))
		return cairn_error__set(CAIRN_ERRCLASS_CONFIG, "%s:%u: invalid %s '%.40s'",
					what, lineno, kind, field);
	cairn_error__set(CAIRN_ERRCLASS_CONFIG, "%s:%u: invalid %s: it looks like a URL or connection string",
			 what, lineno, kind);
	cairn_error_set_hint("a line is 'name url [schema]'");
	return CAIRN_ERROR;
}

static int parse_line(struct list *l, char *line, const char *what,
		      unsigned lineno)
{
	char *f[4];
	size_t n = fields(line, f);

	if (!n || f[0][0] == '#')
		return 0;
	if (n < 2 || n > 3) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG, "%s:%u: expected 'name url [schema]', got %zu field%s",
				 what, lineno, n, n == 1 ? "" : "s");
		return CAIRN_ERROR;
	}
	if (!cairn_fleet__valid_name(f[0]))
		return bad_field(what, lineno, "target name", f[0]);
	if (n == 3 && !cairn_fleet__valid_schema(f[2]))
		return bad_field(what, lineno, "schema name", f[2]);
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, f[0]))
			return cairn_error__set(CAIRN_ERRCLASS_CONFIG, "%s:%u: target '%s' is listed twice (first on line %u)",
						what, lineno, f[0], l->v[i].line);
	return push_target(l, f[0], f[1], n == 3 ? f[2] : NULL, lineno);
}

static int parse_text(struct list *l, char *text, size_t len, const char *what)
{
	unsigned lineno = 0;
	char *p = text, *end = text + len;

	if (memchr(text, '\0', len))
		return cairn_error__set(CAIRN_ERRCLASS_CONFIG, "%s: the target list holds a NUL byte", what);
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl)
			*nl = '\0';
		if (parse_line(l, p, what, ++lineno) < 0)
			return CAIRN_ERROR;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int from_file(struct list *l, const char *path,
		     const cairn_fleet_targets_options *o, size_t max)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int dirfd = AT_FDCWD, rc;

	if (o->workdir && path[0] != '/') {
		dirfd = cairn__file_open_at(AT_FDCWD, o->workdir,
					    O_RDONLY | O_DIRECTORY, 0, 0);
		if (dirfd < 0)
			return cairn_error__set(CAIRN_ERRCLASS_OS, "cannot open '%s': %s",
						o->workdir, strerror(errno));
	}
	rc = cairn__file_read(dirfd, path, CAIRN_FILE_REGULAR, max, &b);
	if (dirfd != AT_FDCWD)
		close(dirfd);
	if (rc < 0) {
		cairn_buf_dispose(&b);
		return cairn_error__set(CAIRN_ERRCLASS_CONFIG, "cannot read targets_file '%s': %s",
					path, strerror(errno));
	}
	rc = cairn_buf_check(&b);
	if (rc == 0)
		rc = parse_text(l, b.ptr, b.size, path);
	cairn_buf_dispose(&b);
	return rc;
}

static int from_command(struct list *l, char *const *argv,
			const cairn_fleet_targets_options *o, size_t max)
{
	cairn_spawn_options so = CAIRN_SPAWN_OPTIONS_INIT;
	cairn_spawn_result r;
	int rc;

	so.argv = (const char *const *)argv;
	so.cwd = o->workdir;
	so.timeout_ms = o->command_timeout_ms ? o->command_timeout_ms :
						DEFAULT_TIMEOUT_MS;
	so.max_output = max;
	if (cairn_spawn_run(&r, &so) < 0) {
		cairn_spawn_result_dispose(&r);
		return CAIRN_ERROR;
	}
	if (r.message || r.out_truncated) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG, "targets_command failed: %s",
				 r.message ? r.message : "its output is over the limit");
		if (r.err.size && !cairn_buf_failed(&r.err))
			cairn_error_set_detail("%.500s", r.err.ptr);
		cairn_spawn_result_dispose(&r);
		return CAIRN_ERROR;
	}
	rc = cairn_buf_check(&r.out);
	if (rc == 0)
		rc = parse_text(l, r.out.ptr, r.out.size, "targets_command output");
	cairn_spawn_result_dispose(&r);
	return rc;
}

static int copy_list(struct list *l, const cairn_environment *env)
{
	for (size_t i = 0; i < env->targets_count; i++) {
		const cairn_target *t = &env->targets[i];

		if (!*t->database_url)
			return cairn_error__set(CAIRN_ERRCLASS_CONFIG, "target '%s' (line %u) has an empty database_url",
						t->name, t->line);
		if (push_target(l, t->name, t->database_url, t->schema,
				t->line) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

int cairn_fleet_targets(cairn_target **out, size_t *count,
			const cairn_environment *env,
			const cairn_fleet_targets_options *opts)
{
	cairn_fleet_targets_options o = CAIRN_FLEET_TARGETS_OPTIONS_INIT;
	struct list l = { NULL, 0, 0 };
	size_t max;
	int rc;

	*out = NULL;
	*count = 0;
	if (opts)
		o = *opts;
	max = o.max_output ? o.max_output : DEFAULT_MAX_OUTPUT;
	if (env->targets_file)
		rc = from_file(&l, env->targets_file, &o, max);
	else if (env->targets_command)
		rc = from_command(&l, env->targets_command, &o, max);
	else
		rc = copy_list(&l, env);
	if (rc == 0 && !l.n) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG, "environment '%s' has no targets", env->name);
		cairn_error_set_hint("list them under 'targets:', or give 'targets_file:' or 'targets_command:' in the environment");
		rc = CAIRN_ERROR;
	}
	if (rc < 0) {
		cairn_fleet_targets_free(l.v, l.n);
		return CAIRN_ERROR;
	}
	*out = l.v;
	*count = l.n;
	return 0;
}
