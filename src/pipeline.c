/*
 * pipeline.c - registration and dispatch of hooks (include/cairn/hook.h).
 *
 * The pipeline keeps one ordered array of entries per event.  An entry is
 * a private copy of a cairn_hook (strings and filter lists duplicated) and
 * the id it was registered under; an object hook becomes up to five
 * entries that share one id, and only the first owns the payload.
 *
 * Dispatch (cairn_pipeline_fire) walks the event's array in order, skips
 * entries of the other transaction phase and entries whose only: filters
 * reject the context, calls the callback, times it, tells the observer,
 * and applies on_failure.  It allocates nothing on the success path, so an
 * in-process hook costs a function call, two clock reads and the filter
 * test.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/hook.h"
#include "util/error.h"
#include "util/util.h"
#include "version_check.h"

typedef struct {
	cairn_hook hook;   /* strings point into owned copies below */
	int id;
	bool owns_payload;
	char *name, *kind, *description;
	char **envs, **globs;
} entry;

typedef struct {
	entry *items;
	size_t count, alloc;
} entry_list;

struct cairn_pipeline {
	entry_list events[CAIRN_EVENT__COUNT];
	int next_id;
	cairn_hook_observer observer;
	void *observer_payload;
};

int cairn_pipeline_new(cairn_pipeline **out)
{
	cairn_pipeline *p = cairn__calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return CAIRN_ERROR;
	p->next_id = 1;
	*out = p;
	return 0;
}

static char **copy_list(const char *const *src, bool *oom)
{
	size_t n = 0, i;
	char **dst;

	if (!src)
		return NULL;
	while (src[n])
		n++;
	dst = calloc(n + 1, sizeof(*dst));
	if (!dst) {
		*oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		dst[i] = strdup(src[i]);
		if (!dst[i])
			*oom = true;
	}
	return dst;
}

static void free_list(char **list)
{
	if (!list)
		return;
	for (size_t i = 0; list[i]; i++)
		free(list[i]);
	free(list);
}

static void entry_dispose(entry *e)
{
	if (e->owns_payload && e->hook.free_payload)
		e->hook.free_payload(e->hook.payload);
	free(e->name);
	free(e->kind);
	free(e->description);
	free_list(e->envs);
	free_list(e->globs);
}

static int push_entry(cairn_pipeline *p, const cairn_hook *hook, int id,
		      bool owns_payload)
{
	entry_list *list;
	entry e;
	bool oom = false;

	if ((unsigned)hook->event >= CAIRN_EVENT__COUNT)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
			"cannot register hook '%s': unknown event %d",
			hook->name ? hook->name : "?", (int)hook->event);
	if (!hook->fn)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
			"cannot register hook '%s': it has no callback",
			hook->name ? hook->name : "?");
	memset(&e, 0, sizeof(e));
	e.hook = *hook;
	e.id = id;
	e.owns_payload = owns_payload;
	e.name = strdup(hook->name ? hook->name : "hook");
	e.kind = strdup(hook->kind ? hook->kind : "c");
	if (hook->description)
		e.description = strdup(hook->description);
	e.envs = copy_list(hook->only_environments, &oom);
	e.globs = copy_list(hook->only_migrations, &oom);
	if (oom || !e.name || !e.kind ||
	    (hook->description && !e.description)) {
		e.owns_payload = false;
		entry_dispose(&e);
		return cairn_error__oom();
	}
	e.hook.name = e.name;
	e.hook.kind = e.kind;
	e.hook.description = e.description;
	e.hook.only_environments = (const char *const *)e.envs;
	e.hook.only_migrations = (const char *const *)e.globs;

	list = &p->events[hook->event];
	if (cairn__grow_array((void **)&list->items, &list->alloc,
			      list->count + 1, sizeof(entry)) < 0) {
		e.owns_payload = false;
		entry_dispose(&e);
		return CAIRN_ERROR;
	}
	list->items[list->count++] = e;
	return 0;
}

int cairn_pipeline_add(cairn_pipeline *p, const cairn_hook *hook, int *id_out)
{
	int id = p->next_id;

	CAIRN__CHECK_VERSION(hook, CAIRN_HOOK_VERSION, "cairn_hook");
	if (push_entry(p, hook, id, true) < 0)
		return CAIRN_ERROR;
	p->next_id++;
	if (id_out)
		*id_out = id;
	return 0;
}

int cairn_pipeline_add_object(cairn_pipeline *p, const cairn_hook_object *obj,
			      int *id_out)
{
	static const struct {
		size_t offset;
		cairn_event event;
	} slots[] = {
		{ offsetof(cairn_hook_object, before), CAIRN_EVENT_PRE_EXECUTE },
		{ offsetof(cairn_hook_object, before), CAIRN_EVENT_PRE_ROLLBACK },
		{ offsetof(cairn_hook_object, after), CAIRN_EVENT_POST_EXECUTE },
		{ offsetof(cairn_hook_object, after), CAIRN_EVENT_POST_ROLLBACK },
		{ offsetof(cairn_hook_object, on_error), CAIRN_EVENT_ON_ERROR },
	};
	int id = p->next_id;
	bool owner = true;
	size_t i;

	CAIRN__CHECK_VERSION(obj, CAIRN_HOOK_VERSION, "cairn_hook_object");
	for (i = 0; i < CAIRN_ARRAY_SIZE(slots); i++) {
		cairn_hook_fn fn;
		cairn_hook h = CAIRN_HOOK_INIT;

		memcpy(&fn, (const char *)obj + slots[i].offset, sizeof(fn));
		if (!fn)
			continue;
		h.name = obj->name;
		h.kind = "object";
		h.event = slots[i].event;
		h.fn = fn;
		h.payload = obj->payload;
		h.free_payload = obj->free_payload;
		h.on_failure = obj->on_failure;
		if (push_entry(p, &h, id, owner) < 0) {
			/* leave the caller's payload alone on failure */
			for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++)
				for (size_t k = 0; k < p->events[ev].count; k++)
					if (p->events[ev].items[k].id == id)
						p->events[ev].items[k].owns_payload = false;
			cairn_pipeline_remove(p, id);
			return CAIRN_ERROR;
		}
		owner = false;
	}
	if (owner)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
			"cannot register hook object '%s': it has no callbacks",
			obj->name ? obj->name : "?");
	p->next_id++;
	if (id_out)
		*id_out = id;
	return 0;
}

int cairn_pipeline_remove(cairn_pipeline *p, int id)
{
	bool found = false;

	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++) {
		entry_list *list = &p->events[ev];
		size_t i = 0;

		while (i < list->count) {
			if (list->items[i].id != id) {
				i++;
				continue;
			}
			entry_dispose(&list->items[i]);
			memmove(&list->items[i], &list->items[i + 1],
				(list->count - i - 1) * sizeof(entry));
			list->count--;
			found = true;
		}
	}
	return found ? 0 : CAIRN_ENOTFOUND;
}

void cairn_pipeline_clear(cairn_pipeline *p)
{
	for (unsigned ev = 0; ev < CAIRN_EVENT__COUNT; ev++) {
		entry_list *list = &p->events[ev];

		for (size_t i = 0; i < list->count; i++)
			entry_dispose(&list->items[i]);
		free(list->items);
		memset(list, 0, sizeof(*list));
	}
}

void cairn_pipeline_free(cairn_pipeline *p)
{
	if (!p)
		return;
	cairn_pipeline_clear(p);
	free(p);
}

size_t cairn_pipeline_count(const cairn_pipeline *p, cairn_event event)
{
	if ((unsigned)event >= CAIRN_EVENT__COUNT)
		return 0;
	return p->events[event].count;
}

const cairn_hook *cairn_pipeline_get(const cairn_pipeline *p,
				     cairn_event event, size_t i)
{
	if ((unsigned)event >= CAIRN_EVENT__COUNT ||
	    i >= p->events[event].count)
		return NULL;
	return &p->events[event].items[i].hook;
}

void cairn_pipeline_set_observer(cairn_pipeline *p, cairn_hook_observer fn,
				 void *payload)
{
	p->observer = fn;
	p->observer_payload = payload;
}

static bool glob_matches(const char *glob, const cairn_migration *m)
{
	char full[512];
	const char *base;

	snprintf(full, sizeof(full), "%s_%s", m->version_text, m->name);
	if (!fnmatch(glob, full, 0) || !fnmatch(glob, m->name, 0) ||
	    !fnmatch(glob, m->version, 0) ||
	    !fnmatch(glob, m->version_text, 0))
		return true;
	if (m->up_path) {
		base = strrchr(m->up_path, '/');
		base = base ? base + 1 : m->up_path;
		if (!fnmatch(glob, base, 0) || !fnmatch(glob, m->up_path, 0))
			return true;
	}
	return false;
}

bool cairn_hook_matches(const cairn_hook *hook, const cairn_hook_context *ctx)
{
	size_t i;

	if (hook->only_environments && hook->only_environments[0]) {
		bool ok = false;

		for (i = 0; hook->only_environments[i]; i++)
			if (ctx->environment &&
			    !strcmp(hook->only_environments[i], ctx->environment))
				ok = true;
		if (!ok)
			return false;
	}
	if (ctx->migration && hook->only_migrations &&
	    hook->only_migrations[0]) {
		for (i = 0; hook->only_migrations[i]; i++)
			if (glob_matches(hook->only_migrations[i],
					 ctx->migration))
				return true;
		return false;
	}
	return true;
}

static void veto_error(const cairn_hook *hook, const cairn_hook_context *ctx)
{
	cairn_error_saved saved;
	char what[300] = "";

	cairn_error__save(&saved);
	if (ctx->migration)
		snprintf(what, sizeof(what), " of %s_%s",
			 ctx->migration->version_text, ctx->migration->name);
	cairn_error__set(CAIRN_ERRCLASS_HOOK, "hook '%s' failed at %s%s: %s",
			 hook->name, cairn_event_name(ctx->event), what,
			 saved.message ? saved.message : "it returned an error");
	if (saved.detail)
		cairn_error__detail("%s", saved.detail);
	if (saved.sqlstate[0])
		cairn_error_set_sqlstate(saved.sqlstate);
	if (saved.hint)
		cairn_error__hint("%s", saved.hint);
	else if (hook->on_failure == CAIRN_ON_FAILURE_ABORT)
		cairn_error__hint("set on_failure: warn on the hook to report its failures without stopping");
	cairn_error__saved_dispose(&saved);
}

int cairn_pipeline_fire(cairn_pipeline *p, const cairn_hook_context *ctx,
			cairn_fire_phase phase, size_t *warnings)
{
	entry_list *list;
	size_t i;

	if ((unsigned)ctx->event >= CAIRN_EVENT__COUNT)
		return cairn_error__set(CAIRN_ERRCLASS_USAGE,
					"cannot fire unknown event %d",
					(int)ctx->event);
	list = &p->events[ctx->event];
	for (i = 0; i < list->count; i++) {
		const cairn_hook *h = &list->items[i].hook;
		cairn_hook_outcome oc;
		int64_t t0;
		int rc;

		if ((phase == CAIRN_FIRE_OUTSIDE_TX && h->in_transaction) ||
		    (phase == CAIRN_FIRE_INSIDE_TX && !h->in_transaction))
			continue;
		memset(&oc, 0, sizeof(oc));
		oc.hook = h;
		oc.ctx = ctx;
		if (!cairn_hook_matches(h, ctx)) {
			oc.skipped = true;
			if (p->observer)
				p->observer(&oc, p->observer_payload);
			continue;
		}
		cairn_error_clear();
		t0 = cairn__now_us();
		rc = h->fn(ctx, h->payload);
		oc.duration_us = cairn__now_us() - t0;
		oc.rc = rc;
		if (rc != 0 && !cairn_error_last())
			cairn_error__set(CAIRN_ERRCLASS_HOOK,
					 "hook returned %d", rc);
		oc.error = rc ? cairn_error_last() : NULL;
		if (p->observer)
			p->observer(&oc, p->observer_payload);
		if (rc == 0)
			continue;
		switch (h->on_failure) {
		case CAIRN_ON_FAILURE_ABORT:
			if (cairn_event_may_veto(ctx->event)) {
				veto_error(h, ctx);
				return CAIRN_EVETO;
			}
			if (warnings)
				(*warnings)++;
			break;
		case CAIRN_ON_FAILURE_WARN:
			if (warnings)
				(*warnings)++;
			break;
		case CAIRN_ON_FAILURE_IGNORE:
			break;
		}
		cairn_error_clear();
	}
	return 0;
}
