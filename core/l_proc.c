/*
 * l_proc.c: processes for Lua.  run() executes an argv with no shell
 * and captures what the child prints (QEMU's start-up errors must reach
 * the user even with -daemonize); wait_exit() returns as soon as a
 * process is gone; alive() reads liveness from QEMU's pidfile lock.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nvq.h"

#define CAPTURE_MAX	(1024 * 1024)	/* bytes kept per stream */
/* Not PASS_MAX: NetBSD's <limits.h> has one (via <math.h>). */
#define DRAIN_PER_PASS	(64 * 1024)	/* bytes read per stream per pass */
#define DRAIN_MAX	(2 * 1024 * 1024) /* bound on a last drain, against
					   * a writer that never pauses */
#define KILL_WAIT	5.0		/* seconds for SIGKILL to work */

struct sink {
	int	 fd;		/* read end, -1 once at EOF */
	char	*buf;
	size_t	 len, cap;
};

/* The process group of the program run() waits for now, so that a task
 * told to end (task_init) takes it along. */
static volatile sig_atomic_t run_pgid;

#define KEEP_MAX	16

struct child {
	pid_t		pid;
	int		status;
	int		pgroup;	/* leads its own process group */
	int		keep[KEEP_MAX];	/* descriptors passed on to it */
	int		nkeep;
	struct sink	out, err;
};

/* The last resort where no kernel event tells us about an exit. */
int
nvq_poll_exit(pid_t pid, double deadline)
{
	double nap = 0.002;

	for (;;) {
		if (os_pid_gone(pid))
			return 1;
		if (nvq_now() >= deadline)
			return 0;
		nvq_nap(nap);
		if (nap < 0.02)
			nap *= 2;
	}
}

static int
checkfdmode(lua_State *L, int opts, const char *field, const char *def)
{
	static const char *const modes[] = { "inherit", "null", "capture",
	    NULL };
	int m;

	lua_getfield(L, opts, field);
	m = luaL_checkoption(L, -1, def, modes);
	lua_pop(L, 1);
	return m;
}

/* waitpid(2), retried when a signal interrupts it. */
static pid_t
reap(pid_t pid, int *status, int flags)
{
	pid_t r;

	while ((r = waitpid(pid, status, flags)) == -1 && errno == EINTR)
		continue;
	return r;
}

static void
sink_close(struct sink *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

/*
 * One read(2) on the non-blocking pipe: the bytes read (kept up to
 * CAPTURE_MAX, the rest dropped so the child never blocks on a full
 * pipe), 0 at EOF or on an error (the sink is closed then), -1 when
 * nothing is there now.
 */
static ssize_t
sink_read(struct sink *s)
{
	char tmp[4096];
	size_t keep;
	ssize_t n;

	if (s->fd == -1)
		return 0;
	while ((n = read(s->fd, tmp, sizeof(tmp))) == -1 && errno == EINTR)
		continue;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n <= 0) {
		sink_close(s);
		return 0;
	}
	if (s->len + n > s->cap && s->cap < CAPTURE_MAX) {
		size_t ncap = s->cap ? s->cap * 2 : 4096;
		char *nbuf;

		while (ncap < s->len + n && ncap < CAPTURE_MAX)
			ncap *= 2;
		if (ncap > CAPTURE_MAX)
			ncap = CAPTURE_MAX;
		if ((nbuf = realloc(s->buf, ncap)) != NULL) {
			s->buf = nbuf;
			s->cap = ncap;
		}
	}
	keep = s->cap - s->len < (size_t)n ? s->cap - s->len : (size_t)n;
	if (keep > 0)
		memcpy(s->buf + s->len, tmp, keep);
	s->len += keep;
	return n;
}

/* Reads what the pipe holds now, at most about max bytes: never waits. */
static void
sink_drain(struct sink *s, size_t max)
{
	size_t got = 0;
	ssize_t n;

	while (got < max && (n = sink_read(s)) > 0)
		got += n;
}

/*
 * Collects output until the child is reaped (1) or the deadline passes
 * (0); -1 if it was reaped by someone else (errno ECHILD).  Only
 * descriptors poll(2) reported are read, and they do not block, so the
 * deadline holds whatever the child does with its output.
 * EOF is not awaited once the child is gone: whatever it wrote is in the
 * pipe by then, and a process it left behind (QEMU's -daemonize child,
 * `sleep 4 &`) may keep the write end open for as long as it runs.
 */
static int
collect(struct child *c, int timed, double deadline)
{
	struct pollfd pfd[2];
	struct sink *s[2] = { &c->out, &c->err }, *ps[2];
	double nap = 0.001;
	int i, n, ms;
	pid_t r;

	for (;;) {
		if ((r = reap(c->pid, &c->status, WNOHANG)) == c->pid ||
		    (r == -1 && errno == ECHILD)) {
			for (i = 0; i < 2; i++) {
				sink_drain(s[i], DRAIN_MAX);
				sink_close(s[i]);
			}
			return r == c->pid ? 1 : -1;
		}
		if (timed && nvq_now() >= deadline)
			return 0;
		for (i = n = 0; i < 2; i++) {
			if (s[i]->fd == -1)
				continue;
			ps[n] = s[i];
			pfd[n].fd = s[i]->fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
		if (n == 0) {
			/* Nothing left to read: sleep on the exit itself. */
			os_wait_exit(c->pid, timed ? deadline :
			    nvq_now() + 86400);
			continue;
		}
		/*
		 * The exit gives no event among these descriptors (a daemon
		 * may hold the pipes): poll in growing steps for it.
		 */
		ms = (int)(nap * 1000);
		if (timed && nvq_poll_ms(deadline) < ms)
			ms = nvq_poll_ms(deadline);
		if (nap < 0.02)
			nap *= 2;
		if (poll(pfd, n, ms) == -1) {
			/* The child is not done: retry; the deadline holds. */
			if (errno != EINTR)
				nvq_nap(0.01);
			continue;
		}
		for (i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				sink_drain(ps[i], DRAIN_PER_PASS);
	}
}

/* Kills a child that outlived its deadline; 1 if it is reaped. */
static int
stop_child(struct child *c)
{
	double until;
	pid_t r;

	/* Not reaped, so the PID (and the group it leads) is still ours. */
	if (c->pgroup)
		kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	/* SIGKILL cannot be caught, but a process in an uninterruptible
	 * sleep ends only when that does: not waited for without bound. */
	until = nvq_now() + KILL_WAIT;
	for (;;) {
		if ((r = reap(c->pid, &c->status, WNOHANG)) == c->pid)
			return 1;
		if ((r == -1 && errno == ECHILD) || nvq_now() >= until)
			return 0;
		os_wait_exit(c->pid, until);
	}
}

/*
 * A SIGCHLD ignored by whoever started us stays ignored across exec,
 * and then the kernel reaps our children itself: their status would be
 * lost, and the PID of one reused before a kill at its deadline.
 * Reset before each fork (core.run and the orchestrator's tasks).
 */
/*
 * In an orchestrator task: SIGTERM ends it at once, and with it the
 * process group of a program it runs (a hook's, which leads a group of
 * its own), which a SIGKILL of the task's own group would not reach.
 */
static void
task_term(int sig)
{
	(void)sig;
	nvq_task_kill();
	_exit(1);
}

/* Ends the program a task or a user-code child waits for (its group). */
void
nvq_task_kill(void)
{
	if (run_pgid > 0)
		kill(-run_pgid, SIGKILL);
}

void
nvq_task_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = task_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
}

void
nvq_childwait(void)
{
	struct sigaction sa;

	if (sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGCHLD, &sa, NULL);
	}
}

static void
child_setup(int mode, int target, int pipefd[2])
{
	int fd;

	if (mode == 2) {
		dup2(pipefd[1], target);
		close(pipefd[0]);
		close(pipefd[1]);
	} else if (mode == 1 && (fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, target);
		close(fd);
	}
}

/* opt.keep: descriptors the program inherits, as a list of integers. */
static void
checkkeep(lua_State *L, int opt, struct child *c)
{
	lua_Integer fd;
	int i, n;

	if (lua_getfield(L, opt, "keep") == LUA_TNIL) {
		lua_pop(L, 1);
		return;
	}
	if (!lua_istable(L, -1))
		luaL_error(L, "run: keep is not a list of descriptors");
	n = (int)lua_rawlen(L, -1);
	if (n > KEEP_MAX)
		luaL_error(L, "run: more than %d descriptors to keep", KEEP_MAX);
	for (i = 0; i < n; i++) {
		lua_rawgeti(L, -1, i + 1);
		fd = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
		if (fd < 3 || fd > INT_MAX)
			luaL_error(L, "run: keep[%d] is not a descriptor above 2",
			    i + 1);
		c->keep[i] = (int)fd;
		lua_pop(L, 1);
	}
	c->nkeep = n;
	lua_pop(L, 1);
}

static int
start(struct child *c, char *const argv[], const int mode[3])
{
	int p[2][2] = { { -1, -1 }, { -1, -1 } }, exe[2] = { -1, -1 };
	int err = 0, i;
	ssize_t n;
	sigset_t term, omask;

	for (i = 0; i < 2; i++)
		if (mode[i + 1] == 2 && pipe(p[i]) == -1)
			goto fail;
	if (pipe(exe) == -1)
		goto fail;
	fcntl(exe[1], F_SETFD, FD_CLOEXEC);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &omask);
	if ((c->pid = fork()) == -1) {
		sigprocmask(SIG_SETMASK, &omask, NULL);
		goto fail;
	}
	if (c->pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigprocmask(SIG_SETMASK, &omask, NULL);
		if (c->pgroup)
			setpgid(0, 0);
		close(exe[0]);
		child_setup(mode[0] == 0 ? 0 : 1, 0, NULL);
		child_setup(mode[1], 1, p[0]);
		child_setup(mode[2], 2, p[1]);
		/* Everything nvqctl opens is close-on-exec; these alone
		 * (a tap for QEMU) go across. */
		for (i = 0; i < c->nkeep; i++)
			fcntl(c->keep[i], F_SETFD, 0);
		execvp(argv[0], argv);
		err = errno;
		(void)!write(exe[1], &err, sizeof(err));
		_exit(127);
	}
	/* Both sides set the group, so it exists whichever runs first;
	 * after the child's exec the parent's call fails, harmlessly. */
	if (c->pgroup) {
		setpgid(c->pid, c->pid);
		run_pgid = c->pid;
	}
	sigprocmask(SIG_SETMASK, &omask, NULL);
	close(exe[1]);
	c->out.fd = p[0][0];
	c->err.fd = p[1][0];
	for (i = 0; i < 2; i++) {
		if (p[i][1] != -1)
			close(p[i][1]);
		/* Ours alone: not passed on to other children, never
		 * blocking a read. */
		if (p[i][0] != -1) {
			fcntl(p[i][0], F_SETFD, FD_CLOEXEC);
			fcntl(p[i][0], F_SETFL,
			    fcntl(p[i][0], F_GETFL) | O_NONBLOCK);
		}
	}
	while ((n = read(exe[0], &err, sizeof(err))) == -1 && errno == EINTR)
		continue;
	close(exe[0]);
	if (n == sizeof(err)) {
		/* exec failed: the child is gone, so are its pipes. */
		reap(c->pid, NULL, 0);
		for (i = 0; i < 2; i++)
			if (p[i][0] != -1)
				close(p[i][0]);
		c->out.fd = c->err.fd = -1;
		return err;
	}
	return 0;
fail:
	err = errno;
	for (i = 0; i < 4; i++)
		if (p[i / 2][i % 2] != -1)
			close(p[i / 2][i % 2]);
	for (i = 0; i < 2; i++)
		if (exe[i] != -1)
			close(exe[i]);
	return err;
}

static void
push_result(lua_State *L, struct child *c, int done)
{
	lua_createtable(L, 0, 5);
	lua_pushinteger(L, c->pid);
	lua_setfield(L, -2, "pid");
	if (!done) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "timedout");
	} else if (WIFEXITED(c->status)) {
		lua_pushinteger(L, WEXITSTATUS(c->status));
		lua_setfield(L, -2, "status");
	} else if (WIFSIGNALED(c->status)) {
		lua_pushinteger(L, WTERMSIG(c->status));
		lua_setfield(L, -2, "signal");
	}
	lua_pushlstring(L, c->out.buf ? c->out.buf : "", c->out.len);
	lua_setfield(L, -2, "stdout");
	lua_pushlstring(L, c->err.buf ? c->err.buf : "", c->err.len);
	lua_setfield(L, -2, "stderr");
}

/*
 * run(argv, {stdin=, stdout=, stderr= "inherit"|"null"|"capture",
 *     deadline=, pgroup=, keep=}) -> {pid, status|signal|timedout, stdout,
 *     stderr}
 * argv holds strings only.  A child still running at the deadline is
 * killed with SIGKILL; with pgroup it runs in a process group of its own
 * and the whole group is killed (its children too).  A pgroup child is
 * not in the terminal's foreground group: it must not read the terminal
 * (it would stop), and ^C does not reach it.  keep lists descriptors
 * the program inherits (nvqctl's own are close-on-exec).  With no deadline (an
 * editor the user works in) the wait is the user's.
 */
static int
l_run(lua_State *L)
{
	struct child c;
	char **argv;
	int mode[3], n, i, err, done, timed;
	double deadline = 0;

	luaL_checktype(L, 1, LUA_TTABLE);
	if (lua_isnoneornil(L, 2))
		lua_newtable(L);
	else
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	memset(&c, 0, sizeof(c));
	c.out.fd = c.err.fd = -1;
	mode[0] = checkfdmode(L, 2, "stdin", "null");
	mode[1] = checkfdmode(L, 2, "stdout", "inherit");
	mode[2] = checkfdmode(L, 2, "stderr", "inherit");
	lua_getfield(L, 2, "deadline");
	if ((timed = !lua_isnil(L, -1))) {
		if (lua_type(L, -1) != LUA_TNUMBER)
			return luaL_error(L, "run: deadline is not a number");
		deadline = lua_tonumber(L, -1);
		if (!isfinite(deadline))
			return luaL_error(L, "run: deadline is not finite");
	}
	lua_getfield(L, 2, "pgroup");
	c.pgroup = lua_toboolean(L, -1);
	lua_pop(L, 2);
	checkkeep(L, 2, &c);
	n = (int)lua_rawlen(L, 1);
	luaL_argcheck(L, n > 0, 1, "empty argv");
	argv = lua_newuserdatauv(L, (n + 1) * sizeof(char *), 0);
	for (i = 0; i < n; i++) {
		/* Strings stored in the table only: a number converted
		 * here, or a string an __index made up, would be a new
		 * string that nothing references once popped. */
		if (lua_rawgeti(L, 1, i + 1) != LUA_TSTRING)
			return luaL_error(L, "run: argv[%d] is a %s, not a "
			    "string", i + 1, luaL_typename(L, -1));
		argv[i] = (char *)lua_tostring(L, -1);
		lua_pop(L, 1);	/* still referenced by the argv table */
	}
	argv[n] = NULL;
	nvq_childwait();
	if ((err = start(&c, argv, mode)) != 0) {
		run_pgid = 0;
		return nvq_fail(L, argv[0], err);
	}
	if ((done = collect(&c, timed, deadline)) == -1) {
		run_pgid = 0;
		free(c.out.buf);
		free(c.err.buf);
		return nvq_fail(L, "waitpid", ECHILD);
	}
	if (!done) {
		/* A child that ended on its own in the meantime is reported
		 * as it ended: only our SIGKILL means "timed out". */
		if (stop_child(&c))
			done = !(WIFSIGNALED(c.status) &&
			    WTERMSIG(c.status) == SIGKILL);
		for (i = 0; i < 2; i++)
			sink_drain(i ? &c.err : &c.out, DRAIN_MAX);
	}
	run_pgid = 0;
	sink_close(&c.out);
	sink_close(&c.err);
	push_result(L, &c, done);
	free(c.out.buf);
	free(c.err.buf);
	return 1;
}

/* wait_exit(pid, deadline) -> true once gone, false at the deadline */
static int
l_wait_exit(lua_State *L)
{
	pid_t pid = (pid_t)luaL_checkinteger(L, 1);
	double deadline = nvq_checkdeadline(L, 2);
	int r;

	if ((r = os_wait_exit(pid, deadline)) == -1)
		return nvq_fail(L, "wait", errno);
	lua_pushboolean(L, r);
	return 1;
}

static pid_t
read_pid(int fd)
{
	char buf[32];
	ssize_t n;
	long v;
	char *end;

	if ((n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return 0;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	return v > 0 && (*end == '\n' || *end == '\0') ? (pid_t)v : 0;
}

/*
 * alive(pidfile) -> pid | nil, "absent"|"stale", pid-in-file
 * A pidfile counts only while a process holds QEMU's write lock on it:
 * a file left by a killed QEMU, or naming a reused PID, is stale.
 */
static int
l_alive(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct flock fl;
	pid_t filepid;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1) {
		if (errno != ENOENT)
			return nvq_fail(L, path, errno);
		lua_pushnil(L);
		lua_pushliteral(L, "absent");
		return 2;
	}
	filepid = read_pid(fd);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == -1) {
		int e = errno;

		close(fd);
		return nvq_fail(L, path, e);
	}
	close(fd);
	if (fl.l_type == F_UNLCK) {
		lua_pushnil(L);
		lua_pushliteral(L, "stale");
		lua_pushinteger(L, filepid);
		return 3;
	}
	lua_pushinteger(L, fl.l_pid);
	return 1;
}

/* procstat(pid) -> {cpu=seconds, rss=bytes, start=epoch} | nil */
static int
l_procstat(lua_State *L)
{
	struct nvq_procstat ps;

	if (os_procstat((pid_t)luaL_checkinteger(L, 1), &ps) == -1)
		return nvq_fail(L, "procstat", errno);
	lua_createtable(L, 0, 3);
	lua_pushnumber(L, ps.cpu);
	lua_setfield(L, -2, "cpu");
	lua_pushinteger(L, ps.rss);
	lua_setfield(L, -2, "rss");
	lua_pushnumber(L, ps.start);
	lua_setfield(L, -2, "start");
	return 1;
}

/* rusage_children() -> {maxrss=bytes, user=s, system=s} of reaped children */
static int
l_rusage_children(lua_State *L)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
		return nvq_fail(L, "getrusage", errno);
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, (lua_Integer)ru.ru_maxrss * 1024);
	lua_setfield(L, -2, "maxrss");
	lua_pushnumber(L, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6);
	lua_setfield(L, -2, "user");
	lua_pushnumber(L, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	lua_setfield(L, -2, "system");
	return 1;
}

static const luaL_Reg proc_funcs[] = {
	{ "rusage_children", l_rusage_children },
	{ "run", l_run },
	{ "wait_exit", l_wait_exit },
	{ "alive", l_alive },
	{ "procstat", l_procstat },
	{ NULL, NULL }
};

void
nvq_register_proc(lua_State *L)
{
	luaL_setfuncs(L, proc_funcs, 0);
}
