/*
 * l_task.c: child processes of nvqctl itself, for the boot orchestrator
 * (lua/boot/orch.lua).  Each VM task runs in a forked copy of the
 * interpreter, so the start and stop code (its lock, its policy, its
 * deadlines) runs unchanged and one VM's trouble cannot reach another;
 * the child reports over a pipe that the parent polls (core.poll).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nvq.h"

#define READ_MAX	65536

/*
 * fork() -> pid in the parent, 0 in the child | nil, msg, errno
 * Buffered output is flushed first: a child would otherwise write the
 * parent's pending lines a second time.
 */
static pid_t fork_parent;	/* who forked this process, for task_init */

static int
l_fork(lua_State *L)
{
	pid_t pid;

	nvq_childwait();
	fork_parent = getpid();
	fflush(NULL);
	if ((pid = fork()) == -1)
		return nvq_fail(L, "fork", errno);
	lua_pushinteger(L, pid);
	return 1;
}

/* pipe() -> rfd, wfd | nil, msg, errno: close-on-exec, so QEMU and the
 * hooks a child runs never hold a report pipe open; the read end does
 * not block. */
static int
l_pipe(lua_State *L)
{
	int fd[2];

	if (pipe(fd) == -1)
		return nvq_fail(L, "pipe", errno);
	fcntl(fd[0], F_SETFD, FD_CLOEXEC);
	fcntl(fd[1], F_SETFD, FD_CLOEXEC);
	fcntl(fd[0], F_SETFL, fcntl(fd[0], F_GETFL) | O_NONBLOCK);
	lua_pushinteger(L, fd[0]);
	lua_pushinteger(L, fd[1]);
	return 2;
}

/* fdread(fd) -> bytes | "" at EOF | nil, "again" | nil, msg, errno */
static int
l_fdread(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	char buf[4096];
	luaL_Buffer b;
	ssize_t n;
	size_t got = 0;

	luaL_buffinit(L, &b);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			luaL_addlstring(&b, buf, n);
			if ((got += n) >= READ_MAX)
				break;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (got > 0)
				break;
			lua_pushnil(L);
			lua_pushliteral(L, "again");
			return 2;
		}
		return nvq_fail(L, "read", errno);
	}
	luaL_pushresult(&b);
	return 1;
}

static int
l_fdclose(lua_State *L)
{
	return luaL_fileresult(L, close((int)luaL_checkinteger(L, 1)) == 0,
	    NULL);
}

/*
 * waitpid(pid) -> nil while it runs | {status=n} | {signal=n}
 * Never blocks: the orchestrator waits on the report pipes instead.
 */
static int
l_waitpid(lua_State *L)
{
	pid_t pid = (pid_t)luaL_checkinteger(L, 1);
	pid_t r;
	int st;

	luaL_argcheck(L, pid > 0, 1, "positive pid expected");
	while ((r = waitpid(pid, &st, WNOHANG)) == -1 && errno == EINTR)
		continue;
	if (r == -1)
		return nvq_fail(L, "waitpid", errno);
	if (r == 0) {
		lua_pushnil(L);
		return 1;
	}
	lua_createtable(L, 0, 1);
	if (WIFEXITED(st)) {
		lua_pushinteger(L, WEXITSTATUS(st));
		lua_setfield(L, -2, "status");
	} else {
		lua_pushinteger(L, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		lua_setfield(L, -2, "signal");
	}
	return 1;
}

/*
 * task_init(): in a task just forked: a process group of its own, so
 * that what it runs can be killed with it, SIGTERM ending it along
 * with the program it is running (nvq_task_signals), and the same
 * SIGTERM when the process that forked it dies, however it died --
 * unless outlive is true (work a command leaves to finish after it).
 */
static int
l_task_init(lua_State *L)
{
	int outlive = lua_toboolean(L, 1);

	setpgid(0, 0);
	nvq_task_signals();
	if (!outlive)
		os_parent_death(fork_parent);
	return 0;
}

/* killpg(pgid) -> true | nil, msg, errno: SIGKILL to a task's process
 * group (what it runs outside a group of its own). */
static int
l_killpg(lua_State *L)
{
	pid_t pg = (pid_t)luaL_checkinteger(L, 1);

	if (pg <= 1)
		return luaL_argerror(L, 1, "process group above 1 expected");
	return luaL_fileresult(L, kill(-pg, SIGKILL) == 0, NULL);
}

/* _exit(code): ends a child without running the parent's atexit work
 * or closing the interpreter it shares a copy of. */
static int
l__exit(lua_State *L)
{
	int code = (int)luaL_optinteger(L, 1, 0);

	fflush(NULL);
	_exit(code);
	return 0;
}

/* dup2(from, to) -> true | nil, msg, errno: in a child running user
 * code, its standard output made standard error. */
static int
l_dup2(lua_State *L)
{
	int from = (int)luaL_checkinteger(L, 1);
	int to = (int)luaL_checkinteger(L, 2);

	return luaL_fileresult(L, dup2(from, to) != -1, NULL);
}

static const luaL_Reg task_funcs[] = {
	{ "fork", l_fork },
	{ "pipe", l_pipe },
	{ "fdread", l_fdread },
	{ "fdclose", l_fdclose },
	{ "waitpid", l_waitpid },
	{ "_exit", l__exit },
	{ "task_init", l_task_init },
	{ "killpg", l_killpg },
	{ "dup2", l_dup2 },
	{ NULL, NULL }
};

void
nvq_register_task(lua_State *L)
{
	luaL_setfuncs(L, task_funcs, 0);
}
