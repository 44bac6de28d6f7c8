/*
 * finding.c - lists of validation findings; see include/cairn/finding.h.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/finding.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/util.h"

int cairn_findings_add(cairn_findings *list, const char *code,
		       cairn_severity severity, const char *file,
		       unsigned line, const char *version, const char *hint,
		       const char *commit, const char *fmt, ...)
{
	cairn_buf msg = CAIRN_BUF_INIT;
	cairn_finding *f;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cairn_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	if (cairn__grow_array((void **)&list->items, &list->alloc,
			      list->count + 1, sizeof(*f)) < 0) {
		cairn_buf_dispose(&msg);
		return CAIRN_ERROR;
	}
	f = &list->items[list->count];
	memset(f, 0, sizeof(*f));
	f->code = cairn__strdup(code);
	f->severity = severity;
	f->file = cairn__strdup(file);
	f->line = line;
	f->version = cairn__strdup(version);
	f->hint = cairn__strdup(hint);
	f->commit = cairn__strdup(commit);
	f->message = cairn_buf_detach(&msg);
	if (!f->code || !f->message || (file && !f->file) ||
	    (version && !f->version) || (hint && !f->hint) ||
	    (commit && !f->commit)) {
		list->count++;
		return cairn_error__oom();
	}
	list->count++;
	return 0;
}

static int strcmp_null(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int finding_cmp(const void *pa, const void *pb)
{
	const cairn_finding *a = pa, *b = pb;
	int c = strcmp_null(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->severity != b->severity)
		return a->severity < b->severity ? -1 : 1;
	return strcmp_null(a->code, b->code);
}

void cairn_findings_sort(cairn_findings *list)
{
	if (list->count > 1)
		qsort(list->items, list->count, sizeof(*list->items),
		      finding_cmp);
}

size_t cairn_findings_count(const cairn_findings *list,
			    cairn_severity severity)
{
	size_t i, n = 0;

	for (i = 0; i < list->count; i++)
		if (list->items[i].severity == severity)
			n++;
	return n;
}

void cairn_findings_dispose(cairn_findings *list)
{
	size_t i;

	for (i = 0; i < list->count; i++) {
		cairn_finding *f = &list->items[i];

		free(f->code);
		free(f->file);
		free(f->version);
		free(f->message);
		free(f->hint);
		free(f->commit);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

const char *cairn_severity_name(cairn_severity severity)
{
	switch (severity) {
	case CAIRN_SEVERITY_ERROR:
		return "error";
	case CAIRN_SEVERITY_WARNING:
		return "warning";
	case CAIRN_SEVERITY_NOTICE:
		return "notice";
	}
	return "error";
}
