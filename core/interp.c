/*
 * interp.c: the Lua state nvqctl runs in.
 *
 * The Lua sources are compiled into the binary so a copied nvqctl works
 * on its own.  require finds only those: a user's policy or hook in the
 * config directory is loaded by lua/ulua/runner.lua, which checks the file's
 * permissions and gives it its own environment and time limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "embed.h"
#include "nvq.h"
#include "paths.h"	/* NVQ_CONFDIR, NVQ_RUNDIR, NVQ_VMDIR: by make */

static const struct nvq_embedded *
find_embedded(const char *name)
{
	const struct nvq_embedded *e;

	for (e = nvq_embedded; e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static int
load_embedded(lua_State *L, const struct nvq_embedded *e)
{
	/* Bytecode from mkembed: its chunk name is already "@path". */
	if (luaL_loadbufferx(L, (const char *)e->src, e->len, e->path,
	    "b") != LUA_OK)
		return lua_error(L);
	lua_pushstring(L, e->path);
	return 2;
}

/* package.searchers entry: the built-in modules. */
static int
search_builtin(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const struct nvq_embedded *e;

	if ((e = find_embedded(name)) == NULL) {
		lua_pushfstring(L, "no built-in module '%s'", name);
		return 1;
	}
	return load_embedded(L, e);
}

/*
 * builtin(name) -> chunk, path, source text | nil
 * The built-in module's compiled chunk, not yet run, for a caller that
 * runs it in an environment of its own; the text only for policies.
 */
static int
l_builtin(lua_State *L)
{
	const struct nvq_embedded *e = find_embedded(luaL_checkstring(L, 1));

	if (e == NULL) {
		lua_pushnil(L);
		return 1;
	}
	load_embedded(L, e);
	if (e->text != NULL)
		lua_pushlstring(L, e->text, e->textlen);
	else
		lua_pushnil(L);
	return 3;
}

/* builtins(prefix) -> the built-in module names under prefix, without it */
static int
l_builtins(lua_State *L)
{
	const char *prefix = luaL_checkstring(L, 1);
	const struct nvq_embedded *e;
	size_t n = strlen(prefix);
	lua_Integer i = 0;

	lua_newtable(L);
	for (e = nvq_embedded; e->name != NULL; e++)
		if (strncmp(e->name, prefix, n) == 0) {
			lua_pushstring(L, e->name + n);
			lua_rawseti(L, -2, ++i);
		}
	return 1;
}

static void
install_searcher(lua_State *L)
{
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "searchers");
	/* Shift the file searchers up: ours runs right after preload. */
	for (lua_Integer i = luaL_len(L, -1); i >= 2; i--) {
		lua_geti(L, -1, i);
		lua_seti(L, -2, i + 1);
	}
	lua_pushcfunction(L, search_builtin);
	lua_seti(L, -2, 2);
	lua_pop(L, 2);
}

static int
open_core(lua_State *L)
{
	lua_newtable(L);
	nvq_register_sys(L);
	nvq_register_proc(L);
	nvq_register_lock(L);
	nvq_register_chan(L);
	nvq_register_term(L);
	nvq_register_task(L);
	nvq_register_net(L);
	nvq_register_limit(L);
	lua_pushcfunction(L, l_builtin);
	lua_setfield(L, -2, "builtin");
	lua_pushcfunction(L, l_builtins);
	lua_setfield(L, -2, "builtins");
	lua_pushliteral(L, NVQ_VERSION);
	lua_setfield(L, -2, "VERSION");
	lua_pushliteral(L, LUA_RELEASE);	/* the headers': "Lua 5.4.6" */
	lua_setfield(L, -2, "LUA_RELEASE");
	lua_pushliteral(L, NVQ_CONFDIR);
	lua_setfield(L, -2, "CONFDIR");
	lua_pushliteral(L, NVQ_RUNDIR);
	lua_setfield(L, -2, "RUNDIR");
	lua_pushliteral(L, NVQ_VMDIR);
	lua_setfield(L, -2, "VMDIR");
	return 1;
}

/*
 * nvqctl runs as root, often in whatever directory root happens to be
 * in: Lua's default "./?.lua" and "./?.so" would let a file there named
 * cjson.lua or cjson.so run as root.  Only absolute search entries are
 * kept (the built-in modules are found before any of them anyway).
 */
static void
absolute_only(lua_State *L, const char *field)
{
	luaL_Buffer b;
	const char *p, *e;

	lua_getfield(L, -1, field);
	p = lua_tostring(L, -1);
	luaL_buffinit(L, &b);
	while (p != NULL && *p != '\0') {
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		if (*p == '/') {
			if (luaL_bufflen(&b) > 0)
				luaL_addchar(&b, ';');
			luaL_addlstring(&b, p, e - p);
		}
		p = *e == ';' ? e + 1 : e;
	}
	luaL_pushresult(&b);
	lua_setfield(L, -3, field);
	lua_pop(L, 1);
}

lua_State *
nvq_newstate(void)
{
	lua_State *L = luaL_newstate();

	if (L == NULL)
		return NULL;
	luaL_openlibs(L);
	luaL_requiref(L, "nvq.core", open_core, 0);
	lua_pop(L, 1);
	install_searcher(L);
	lua_getglobal(L, "package");
	absolute_only(L, "path");
	absolute_only(L, "cpath");
	lua_pop(L, 1);
	return L;
}

static int
traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (msg == NULL && !lua_isnoneornil(L, 1))
		msg = luaL_tolstring(L, 1, NULL);
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* lua_pcall with a traceback; on error the message is left on the stack. */
int
nvq_pcall(lua_State *L, int nargs, int nres)
{
	int base = lua_gettop(L) - nargs;
	int rc;

	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	rc = lua_pcall(L, nargs, nres, base);
	lua_remove(L, base);
	return rc;
}
