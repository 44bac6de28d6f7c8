/*
 * applied.h (internal) - reading the tracking table when the caller
 * already knows cairn's tables exist (it just ensured or probed them),
 * so the existence probe of cairn_applied_load_brief() is not paid twice.
 */
#ifndef CAIRN_SRC_APPLIED_H
#define CAIRN_SRC_APPLIED_H

#include "util/attrs.h"
#include "cairn/engine.h"

/* cairn_applied_load_brief() without the probe: the tables must exist. */
CAIRN_WARN_UNUSED int cairn_applied__load_brief_known(cairn_applied_list *out,
						      cairn_db *db);

#endif
