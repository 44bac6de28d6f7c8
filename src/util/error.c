/*
 * error.c - the per-thread error object of include/cairn/error.h.
 *
 * Each thread owns one error slot.  Setting an error replaces the whole
 * slot (message, detail, hint, sqlstate); adding a detail or hint only
 * fills that part.  Strings are formatted into heap memory owned by the
 * slot; on allocation failure the slot falls back to a static message so
 * a caller always finds something to print.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "error.h"

struct slot {
	cairn_error pub;
	char *message;
	char *detail;
	char *hint;
	char sqlstate[6];
	bool set;
};

static _Thread_local struct slot slot;

static char *vformat(const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	char *s;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

void cairn_error_clear(void)
{
	free(slot.message);
	free(slot.detail);
	free(slot.hint);
	memset(&slot, 0, sizeof(slot));
}

const cairn_error *cairn_error_last(void)
{
	if (!slot.set)
		return NULL;
	slot.pub.message = slot.message ? slot.message : "out of memory";
	slot.pub.detail = slot.detail;
	slot.pub.hint = slot.hint;
	slot.pub.sqlstate = slot.sqlstate[0] ? slot.sqlstate : NULL;
	return &slot.pub;
}

int cairn_error__vset(cairn_error_class klass, const char *fmt, va_list ap)
{
	char *msg = vformat(fmt, ap);

	cairn_error_clear();
	slot.set = true;
	slot.pub.klass = msg ? klass : CAIRN_ERRCLASS_NOMEMORY;
	slot.message = msg;
	return CAIRN_ERROR;
}

int cairn_error_set(cairn_error_class klass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cairn_error__vset(klass, fmt, ap);
	va_end(ap);
	return CAIRN_ERROR;
}

int cairn_error__oom(void)
{
	cairn_error_clear();
	slot.set = true;
	slot.pub.klass = CAIRN_ERRCLASS_NOMEMORY;
	return CAIRN_ERROR;
}

static void set_part(char **part, const char *fmt, va_list ap)
{
	char *s;

	if (!slot.set)
		return;
	s = vformat(fmt, ap);
	if (!s)
		return;
	free(*part);
	*part = s;
}

void cairn_error_set_detail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_part(&slot.detail, fmt, ap);
	va_end(ap);
}

void cairn_error_set_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_part(&slot.hint, fmt, ap);
	va_end(ap);
}

void cairn_error_set_sqlstate(const char *sqlstate)
{
	if (!slot.set)
		return;
	snprintf(slot.sqlstate, sizeof(slot.sqlstate), "%s",
		 sqlstate ? sqlstate : "");
}

void cairn_error__set_class(cairn_error_class klass)
{
	if (slot.set)
		slot.pub.klass = klass;
}

int cairn_error__save(cairn_error_saved *out)
{
	const cairn_error *e = cairn_error_last();

	memset(out, 0, sizeof(*out));
	if (!e)
		return 0;
	out->set = true;
	out->klass = e->klass;
	out->message = slot.message ? strdup(slot.message) : NULL;
	out->detail = slot.detail ? strdup(slot.detail) : NULL;
	out->hint = slot.hint ? strdup(slot.hint) : NULL;
	memcpy(out->sqlstate, slot.sqlstate, sizeof(out->sqlstate));
	return 0;
}

void cairn_error__restore(cairn_error_saved *saved)
{
	cairn_error_clear();
	if (saved->set) {
		slot.set = true;
		slot.pub.klass = saved->klass;
		slot.message = saved->message;
		slot.detail = saved->detail;
		slot.hint = saved->hint;
		memcpy(slot.sqlstate, saved->sqlstate, sizeof(slot.sqlstate));
	} else {
		free(saved->message);
		free(saved->detail);
		free(saved->hint);
	}
	memset(saved, 0, sizeof(*saved));
}

void cairn_error__saved_dispose(cairn_error_saved *saved)
{
	free(saved->message);
	free(saved->detail);
	free(saved->hint);
	memset(saved, 0, sizeof(*saved));
}

const char *cairn_error_class_name(cairn_error_class klass)
{
	static const char *const names[] = {
		"none", "os", "nomemory", "usage", "config", "git",
		"db", "sql", "lock", "validation", "hook", "interrupted",
	};

	if ((size_t)klass < sizeof(names) / sizeof(names[0]))
		return names[klass];
	return "unknown";
}

const char *cairn_version(void)
{
	return CAIRN_VERSION;
}
