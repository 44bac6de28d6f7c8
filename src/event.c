/*
 * event.c - names and properties of the pipeline's events.
 */
#include <string.h>

#include "cairn/error.h"
#include "cairn/event.h"

static const char *const names[CAIRN_EVENT__COUNT] = {
	"pre_validate", "post_validate", "pre_execute", "post_execute",
	"post_complete", "pre_rollback", "post_rollback", "on_error",
};

const char *cairn_event_name(cairn_event event)
{
	if ((unsigned)event >= CAIRN_EVENT__COUNT)
		return NULL;
	return names[event];
}

int cairn_event_from_name(cairn_event *out, const char *name)
{
	for (unsigned i = 0; i < CAIRN_EVENT__COUNT; i++) {
		if (!strcmp(names[i], name)) {
			*out = (cairn_event)i;
			return 0;
		}
	}
	return CAIRN_ENOTFOUND;
}

bool cairn_event_may_veto(cairn_event event)
{
	return event != CAIRN_EVENT_POST_COMPLETE &&
	       event != CAIRN_EVENT_ON_ERROR;
}

bool cairn_event_is_per_migration(cairn_event event)
{
	return event == CAIRN_EVENT_PRE_EXECUTE ||
	       event == CAIRN_EVENT_POST_EXECUTE ||
	       event == CAIRN_EVENT_PRE_ROLLBACK ||
	       event == CAIRN_EVENT_POST_ROLLBACK;
}
