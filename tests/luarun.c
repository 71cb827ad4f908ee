/*
 * luarun: runs a Lua test script (a file, or "-" for standard input) in
 * the same interpreter nvqctl uses, with nvq.core and the built-in
 * modules loaded, so unit tests exercise exactly what ships.
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "../core/nvq.h"

int
main(int argc, char *argv[])
{
	const char *file;
	lua_State *L;
	int i, rc;

	if (argc < 2) {
		fputs("usage: luarun script.lua|- [arg ...]\n", stderr);
		return 2;
	}
	if ((L = nvq_newstate()) == NULL)
		return 1;
	lua_createtable(L, argc, 0);
	for (i = 1; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - 1);
	}
	lua_setglobal(L, "arg");
	file = strcmp(argv[1], "-") == 0 ? NULL : argv[1];
	if (luaL_loadfile(L, file) != LUA_OK || nvq_pcall(L, 0, 1) != LUA_OK) {
		fprintf(stderr, "luarun: %s\n", lua_tostring(L, -1));
		lua_close(L);
		return 1;
	}
	rc = (int)luaL_optinteger(L, -1, 0);
	lua_close(L);
	return rc;
}
