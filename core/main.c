/*
 * main.c: nvqctl's entry point.  Everything past argv handling is the
 * built-in Lua module "main"; C only hosts it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nvq.h"

/*
 * With descriptor 0, 1 or 2 closed by the caller, the next file opened
 * would take its place: a QMP socket read as the monitor's input, progress
 * lines written into the VM's lock file.  /dev/null fills the gaps.
 */
static void
std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		continue;
	if (fd > 2)
		close(fd);
}

int
main(int argc, char *argv[])
{
	lua_State *L;
	int i, rc;

	std_fds();
	if ((L = nvq_newstate()) == NULL) {
		fputs("nvqctl: cannot create the Lua state\n", stderr);
		return 1;
	}
	lua_getglobal(L, "require");
	lua_pushliteral(L, "main");
	if (nvq_pcall(L, 1, 1) != LUA_OK)
		goto fail;
	lua_getfield(L, -1, "main");
	lua_createtable(L, argc, 0);
	for (i = 1; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i);
	}
	if (nvq_pcall(L, 1, 1) != LUA_OK)
		goto fail;
	rc = (int)luaL_optinteger(L, -1, 0);
	lua_close(L);
	return rc;
fail:
	fprintf(stderr, "nvqctl: internal error: %s\n", lua_tostring(L, -1));
	lua_close(L);
	return 1;
}
