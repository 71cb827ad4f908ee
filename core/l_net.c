/*
 * l_net.c: what networking needs from the kernel.  C opens; which
 * bridge a tap joins, its MTU and VLAN are the network policy's
 * (policies/network.lua).
 */
#include <errno.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nvq.h"

#define TAPNAME_MAX	64

/*
 * tap_open() -> fd, name | nil, msg, errno
 * A tap that lives only while a descriptor to it is open; the
 * descriptor is close-on-exec (core.run's keep passes it to QEMU).
 */
static int
l_tap_open(lua_State *L)
{
	char name[TAPNAME_MAX];
	int fd;

	if ((fd = os_tap_open(name, sizeof(name))) == -1)
		return nvq_fail(L, "tap", errno);
	lua_pushinteger(L, fd);
	lua_pushstring(L, name);
	return 2;
}

static const luaL_Reg net_funcs[] = {
	{ "tap_open", l_tap_open },
	{ NULL, NULL }
};

void
nvq_register_net(lua_State *L)
{
	luaL_setfuncs(L, net_funcs, 0);
}
