/*
 * event.h - the events of the hook pipeline.
 *
 * The names are part of the contract: they appear in cairn.yaml, JSON
 * output, logs and the C API, always spelled as cairn_event_name() gives.
 */
#ifndef CAIRN_EVENT_H
#define CAIRN_EVENT_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	CAIRN_EVENT_PRE_VALIDATE = 0,
	CAIRN_EVENT_POST_VALIDATE,
	CAIRN_EVENT_PRE_EXECUTE,
	CAIRN_EVENT_POST_EXECUTE,
	CAIRN_EVENT_POST_COMPLETE,
	CAIRN_EVENT_PRE_ROLLBACK,
	CAIRN_EVENT_POST_ROLLBACK,
	CAIRN_EVENT_ON_ERROR,
	CAIRN_EVENT__COUNT
} cairn_event;

/* "pre_validate", ...; NULL for an out-of-range value. */
CAIRN_EXTERN(const char *) cairn_event_name(cairn_event event);
/* Parses a name; returns 0 or CAIRN_ENOTFOUND (no error set). */
CAIRN_EXTERN(int) cairn_event_from_name(cairn_event *out, const char *name);
/* True for events that may stop the run when a hook fails. */
CAIRN_EXTERN(bool) cairn_event_may_veto(cairn_event event);
/* True for per-migration events (pre/post_execute, pre/post_rollback). */
CAIRN_EXTERN(bool) cairn_event_is_per_migration(cairn_event event);

#ifdef __cplusplus
}
#endif

#endif
