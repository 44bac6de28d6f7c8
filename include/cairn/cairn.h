/*
 * cairn.h - the umbrella header of libcairn: includes every public
 * header.  Programs may include just the ones they use instead.
 */
#ifndef CAIRN_CAIRN_H
#define CAIRN_CAIRN_H

#include "adopt.h"
#include "audit.h"
#include "common.h"
#include "config.h"
#include "db.h"
#include "devdb.h"
#include "engine.h"
#include "error.h"
#include "event.h"
#include "finding.h"
#include "fleet.h"
#include "hook.h"
#include "hooks_config.h"
#include "lint.h"
#include "lockplan.h"
#include "migration.h"
#include "plugin.h"
#include "prepush.h"
#include "range.h"
#include "refs.h"
#include "repeatable.h"
#include "repo.h"
#include "schema.h"
#include "sqlsplit.h"
#include "validate.h"
#include "webhook.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
