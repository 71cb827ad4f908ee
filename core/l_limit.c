/*
 * l_limit.c: the hard limits of a child running user Lua (lua/ulua/):
 * a cap on the memory its interpreter may allocate, and a lifeline that
 * ends it when its parent is gone or its deadline long past.  The parent
 * holds the deadline and kills the child's group; these bound the child
 * where the parent no longer can (killed with SIGKILL, stopped).
 */
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nvq.h"

/*
 * The memory cap is an allocator limit, not RLIMIT_AS: it counts what
 * the interpreter holds (strings, tables, buffers) exactly, on every
 * platform alike; a failed allocation is Lua's own "not enough memory"
 * error, with the state intact to report it; and the programs user code
 * runs (qemu-img, ifconfig) do not inherit a cap meant for Lua.  One
 * interpreter per process: the state is static.
 */
static struct {
	lua_Alloc	 f;
	void		*ud;
	size_t		 used;
	size_t		 limit;
} cap;

static void *
capped(void *ud, void *ptr, size_t osize, size_t nsize)
{
	size_t old = ptr != NULL ? osize : 0;
	void *p;

	(void)ud;
	if (nsize > old && cap.limit > 0 && cap.used + (nsize - old) >
	    cap.limit)
		return NULL;
	p = cap.f(cap.ud, ptr, osize, nsize);
	if (p == NULL && nsize > 0)
		return NULL;
	cap.used = cap.used - old + nsize;
	return p;
}

/*
 * memcap(bytes): from now on the interpreter may hold at most bytes more
 * than it does now; memcap() lifts the cap.
 */
static int
l_memcap(lua_State *L)
{
	lua_Integer more = luaL_optinteger(L, 1, 0);
	luaL_argcheck(L, more >= 0, 1, "non-negative size expected");
	if (cap.f == NULL) {
		cap.f = lua_getallocf(L, &cap.ud);
		cap.used = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 +
		    (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
		lua_setallocf(L, capped, NULL);
	}
	cap.limit = more > 0 ? cap.used + (size_t)more : 0;
	return 0;
}

static pid_t lifeline_parent;
static double lifeline_deadline;

/*
 * Every tick: the parent gone (we were reparented) or the deadline past
 * ends the program user code runs and our whole group.  Only
 * async-signal-safe calls (getppid, clock_gettime, kill).
 */
static void
lifeline_tick(int sig)
{
	(void)sig;
	if (getppid() == lifeline_parent && nvq_now() < lifeline_deadline)
		return;
	nvq_task_kill();
	kill(0, SIGKILL);
	_exit(1);
}

/*
 * lifeline(deadline): in a child just forked, in a group of its own.
 * SA_RESTART, so the tick does not interrupt the reads and opens of the
 * code the child runs; the waits of nvq.core retry EINTR.
 */
static int
l_lifeline(lua_State *L)
{
	double deadline = nvq_checkdeadline(L, 1);
	struct sigaction sa;
	struct itimerval it;

	lifeline_parent = getppid();
	lifeline_deadline = deadline;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lifeline_tick;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		return nvq_fail(L, "sigaction", errno);
	memset(&it, 0, sizeof(it));
	it.it_interval.tv_usec = 200000;
	it.it_value.tv_usec = 200000;
	if (setitimer(ITIMER_REAL, &it, NULL) == -1)
		return nvq_fail(L, "setitimer", errno);
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg limit_funcs[] = {
	{ "memcap", l_memcap },
	{ "lifeline", l_lifeline },
	{ NULL, NULL }
};

void
nvq_register_limit(lua_State *L)
{
	luaL_setfuncs(L, limit_funcs, 0);
}
