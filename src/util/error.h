/*
 * error.h (internal) - helpers the library uses to set its error object.
 *
 * cairn_error__set() is cairn_error_set() under the internal name; the
 * save/restore pair keeps an error alive across clean-up code that may
 * itself call into functions that set errors (a ROLLBACK after a failed
 * statement, say).
 */
#ifndef CAIRN_SRC_ERROR_H
#define CAIRN_SRC_ERROR_H

#include <stdarg.h>

#include "cairn/error.h"

#define cairn_error__set cairn_error_set
#define cairn_error__detail cairn_error_set_detail
#define cairn_error__hint cairn_error_set_hint

typedef struct {
	bool set;
	cairn_error_class klass;
	char *message;
	char *detail;
	char *hint;
	char sqlstate[6];
} cairn_error_saved;

int cairn_error__vset(cairn_error_class klass, const char *fmt, va_list ap);

/* Sets an out-of-memory error and returns CAIRN_ERROR. */
int cairn_error__oom(void);

/* Changes the class of the error that is set. */
void cairn_error__set_class(cairn_error_class klass);

int cairn_error__save(cairn_error_saved *out);
void cairn_error__restore(cairn_error_saved *saved);
void cairn_error__saved_dispose(cairn_error_saved *saved);

#endif
