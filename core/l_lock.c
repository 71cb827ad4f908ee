/*
 * l_lock.c: a per-VM lock so that two nvqctl commands on one VM never
 * interleave.  An fcntl(2) lock dies with its process, so a killed
 * nvqctl never leaves a VM locked.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nvq.h"

#define LOCK_MT	"nvq.lock"

struct lock {
	int	fd;
};

static int
try_lock(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

/* lock(path, deadline) -> lock | nil, "timeout" | nil, msg, errno */
static int
l_lock(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	double deadline = nvq_checkdeadline(L, 2), nap = 0.001;
	struct lock *lk;

	/* Made closed first: an error below leaves nothing to leak. */
	lk = lua_newuserdatauv(L, sizeof(*lk), 0);
	lk->fd = -1;
	luaL_setmetatable(L, LOCK_MT);
	if ((lk->fd = open(path, O_RDWR | O_CREAT, 0600)) == -1)
		return nvq_fail(L, path, errno);
	fcntl(lk->fd, F_SETFD, FD_CLOEXEC);
	while (try_lock(lk->fd) == -1) {
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return nvq_fail(L, path, errno);
		if (nvq_now() >= deadline) {
			close(lk->fd);
			lk->fd = -1;
			lua_pushnil(L);
			lua_pushliteral(L, "timeout");
			return 2;
		}
		nvq_nap(nap);
		if (nap < 0.025)
			nap *= 2;
	}
	return 1;
}

static int
l_unlock(lua_State *L)
{
	struct lock *lk = luaL_checkudata(L, 1, LOCK_MT);

	if (lk->fd != -1) {
		close(lk->fd);
		lk->fd = -1;
	}
	return 0;
}

static const luaL_Reg lock_methods[] = {
	{ "unlock", l_unlock },
	{ NULL, NULL }
};

static const luaL_Reg lock_meta[] = {
	{ "__gc", l_unlock },
	{ "__close", l_unlock },
	{ "__index", NULL },
	{ NULL, NULL }
};

void
nvq_register_lock(lua_State *L)
{
	nvq_newclass(L, LOCK_MT, lock_meta, lock_methods);
	lua_pushcfunction(L, l_lock);
	lua_setfield(L, -2, "lock");
}
