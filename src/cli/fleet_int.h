/*
 * fleet_int.h (cli, internal) - what cmd_fleet.c (running the targets'
 * children, the fleet-level hook events) and fleet_report.c (the live
 * lines on a terminal, the summary table, JSON and JUnit) share: one
 * fleet run's state.  A job's fields are written by the worker that runs
 * its target and read by the reports once every worker is done; the
 * counters of the live lines are guarded by the mutex.
 */
#ifndef CAIRN_CLI_FLEET_INT_H
#define CAIRN_CLI_FLEET_INT_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>

#include "cairn/fleet.h"
#include "fleet.h"

#define FLEET_MAX_ARGS 96

struct fleet_job {
	bool ran;                 /* the child ran (whatever it said) */
	bool have_json;           /* and its JSON answer was read */
	long applied, pending, failed; /* migrations */
	long errors, warnings;    /* validate: findings */
	long rows;                /* audit verify|anchor: rows */
	long ahead;               /* status: applied, not at the revision */
	char highest[256];        /* status: the highest applied version */
	int64_t ms;
	char *error;              /* untrusted: escape on every output */
	char *child_run_id;
};

struct fleet {
	struct cli *cli;
	enum cli_fleet_kind kind;
	const cairn_environment *env;
	cairn_target *targets;
	size_t count;
	struct fleet_job *jobs;
	cairn_fleet_outcome *out;
	const char *argv[FLEET_MAX_ARGS];
	size_t argc;              /* argv before "--fleet-target NAME" */
	char exe[PATH_MAX];
	char run_id[40];
	char commit[CAIRN_OID_HEXSZ]; /* --rev resolved once ("": --worktree) */
	char meta_run[64];
	volatile sig_atomic_t *cancel;
	pthread_mutex_t mu;
	size_t finished, running, nfailed;
	size_t nbusy;             /* tries a server had no slot for */
	bool live;                /* stdout is a terminal: live lines */
	int64_t started_ms, ms;   /* the whole run */
};

/* "migrate up", "status", "validate", "audit verify", "audit anchor" */
const char *fleet_kind_name(enum cli_fleet_kind k);
/* "ok", "failed", "not started" */
const char *fleet_outcome_name(cairn_fleet_outcome o);

/* Live lines (only when f->live): a target started, finished; the end. */
void fleet_live_start(struct fleet *f, size_t idx);
void fleet_live_done(struct fleet *f, size_t idx, bool ok);
/* A target put back because its server had no connection slot free. */
void fleet_busy(struct fleet *f, size_t idx);
void fleet_live_end(struct fleet *f);

/* The per-target results as a JSON array (the summary's "targets"). */
json_t *fleet_targets_json(const struct fleet *f);

/* The summary in the chosen format (text table, json, junit). */
void fleet_print(struct fleet *f, bool ok);

#endif
