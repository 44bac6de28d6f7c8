/*
 * error.h - how cairn reports what went wrong.
 *
 * Every function that can fail returns an int: 0 on success, a negative
 * cairn_error_code on failure.  The explanation lives in a per-thread error
 * object read with cairn_error_last(): a one-line lowercase primary message
 * that quotes its subject, an optional detail (the facts: the server's own
 * message, the statement, the commit), an optional hint (what to do), and a
 * class that tells the caller which kind of failure it was (the command
 * line turns classes into exit codes).
 */
#ifndef CAIRN_ERROR_H
#define CAIRN_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	CAIRN_OK = 0,
	CAIRN_ERROR = -1,       /* generic failure; see the error object */
	CAIRN_ENOTFOUND = -3,   /* the thing asked for does not exist */
	CAIRN_ELOCKED = -4,     /* a lock could not be taken in time */
	CAIRN_EVETO = -5,       /* a hook refused */
	CAIRN_EINTERRUPTED = -6 /* a signal asked us to stop */
} cairn_error_code;

typedef enum {
	CAIRN_ERRCLASS_NONE = 0,
	CAIRN_ERRCLASS_OS,         /* a system call failed */
	CAIRN_ERRCLASS_NOMEMORY,   /* out of memory or over a size limit */
	CAIRN_ERRCLASS_USAGE,      /* the caller asked for something invalid */
	CAIRN_ERRCLASS_CONFIG,     /* cairn.yaml is wrong */
	CAIRN_ERRCLASS_GIT,        /* not a repository, unknown revision, ... */
	CAIRN_ERRCLASS_DB,         /* the database cannot be reached */
	CAIRN_ERRCLASS_SQL,        /* a statement failed */
	CAIRN_ERRCLASS_LOCK,       /* the deploy lock was not acquired */
	CAIRN_ERRCLASS_VALIDATION, /* migrations did not pass the checks */
	CAIRN_ERRCLASS_HOOK,       /* a hook failed or vetoed */
	CAIRN_ERRCLASS_INTERRUPTED /* SIGINT or SIGTERM */
} cairn_error_class;

typedef struct cairn_error {
	cairn_error_class klass;
	const char *message; /* never NULL when an error is set */
	const char *detail;  /* NULL when there is none */
	const char *hint;    /* NULL when there is none */
	const char *sqlstate; /* NULL unless the server gave one */
} cairn_error;

/*
 * The last error set on this thread, or NULL when none is.  The pointer
 * stays valid until the next cairn call on this thread.
 */
CAIRN_EXTERN(const cairn_error *) cairn_error_last(void);

/* Forgets the last error of this thread. */
CAIRN_EXTERN(void) cairn_error_clear(void);

/* The name of an error class ("git", "config", ...). */
CAIRN_EXTERN(const char *) cairn_error_class_name(cairn_error_class klass);

/*
 * Sets the error of this thread.  Callers outside the library use it from
 * hooks and plugins to explain a failure.  Returns CAIRN_ERROR.
 */
CAIRN_EXTERN(int) cairn_error_set(cairn_error_class klass, const char *fmt, ...)
	CAIRN_FORMAT_PRINTF(2, 3);

/* Adds a detail or hint to the error that is set (no-op when none is). */
CAIRN_EXTERN(void) cairn_error_set_detail(const char *fmt, ...)
	CAIRN_FORMAT_PRINTF(1, 2);
CAIRN_EXTERN(void) cairn_error_set_hint(const char *fmt, ...)
	CAIRN_FORMAT_PRINTF(1, 2);
CAIRN_EXTERN(void) cairn_error_set_sqlstate(const char *sqlstate);

#ifdef __cplusplus
}
#endif

#endif
