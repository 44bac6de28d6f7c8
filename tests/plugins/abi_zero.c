/*
 * abi_zero.c - a test plugin that declares plugin API version 0, which
 * no cairn provides (tests/integration/check_plugin_abi.c).
 */
#include <cairn/plugin.h>

CAIRN_PLUGIN_EXPORT const unsigned int cairn_plugin_api_version = 0;

int cairn_plugin_init(const cairn_plugin_api *api)
{
	(void)api;
	return 0;
}
