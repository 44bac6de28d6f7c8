/*
 * version_check.h - one check for every versioned public struct.
 *
 * Public options structs (and the hook structs) carry a version field set
 * by their _INIT macro.  Like libgit2's GIT_ERROR_CHECK_VERSION, a
 * function that takes one accepts any version from 1 to the one this
 * library was built with, so a caller built against older headers keeps
 * working, and refuses 0 (a struct not initialized with its _INIT macro)
 * or a version newer than the library knows, with a usage error
 * "<name> version N is not supported (1..M)".
 */
#ifndef CAIRN_SRC_VERSION_CHECK_H
#define CAIRN_SRC_VERSION_CHECK_H

#include "cairn/error.h"

/* 0 when 1 <= version <= current; else sets the error, CAIRN_ERROR. */
int cairn__version_check(unsigned int version, unsigned int current,
			 const char *name) __attribute__((warn_unused_result));

/*
 * In a function returning int: returns CAIRN_ERROR when the struct s
 * (may be NULL: nothing to check) has a version outside 1..current.
 */
#define CAIRN__CHECK_VERSION(s, current, name)                              \
	do {                                                                \
		if ((s) && cairn__version_check((s)->version, (current),    \
						(name)) < 0)                \
			return CAIRN_ERROR;                                 \
	} while (0)

#endif
