/*
 * abi_future.c - a test plugin that declares a plugin API version newer
 * than the host's (tests/integration/check_plugin_abi.c).  cairn must
 * refuse it before running any of its code: its init, if ever called,
 * creates the file named by $CAIRN_ABI_TEST_LOG.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cairn/plugin.h>

CAIRN_PLUGIN_EXPORT const unsigned int cairn_plugin_api_version =
	CAIRN_PLUGIN_API_VERSION + 1;

int cairn_plugin_init(const cairn_plugin_api *api)
{
	const char *log = getenv("CAIRN_ABI_TEST_LOG");
	FILE *f = log ? fopen(log, "a") : NULL;

	(void)api;
	if (f) {
		fputs("future init ran\n", f);
		fclose(f);
	}
	return 0;
}
