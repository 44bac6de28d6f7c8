/*
 * version_check.c - the version check of public structs
 * (src/version_check.h).
 */
#include "version_check.h"

#include "util/error.h"

int cairn__version_check(unsigned int version, unsigned int current,
			 const char *name)
{
	if (version >= 1 && version <= current)
		return 0;
	cairn_error__set(CAIRN_ERRCLASS_USAGE,
			 "%s version %u is not supported (1..%u)", name,
			 version, current);
	if (version == 0)
		cairn_error__hint("initialize the struct with its _INIT "
				  "macro from <cairn/...h>");
	else
		cairn_error__hint("the caller was built against newer cairn "
				  "headers than this library %s; rebuild it "
				  "against this library's headers",
				  CAIRN_VERSION);
	return CAIRN_ERROR;
}
