/*
 * l_sys.c: time, files and signals for Lua: the small primitives that
 * the io and os libraries lack (monotonic clock, sockets' and
 * directories' metadata, modes, signals by name).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/utsname.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nvq.h"

static const struct {
	const char	*name;
	int		 num;
} signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "KILL", SIGKILL }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
	{ "CONT", SIGCONT }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	{ NULL, 0 }
};

/*
 * Pushes nil, "message: strerror", errno: the io library's convention.
 * Where errno still holds the error, luaL_fileresult does the same.
 */
int
nvq_fail(lua_State *L, const char *what, int err)
{
	lua_pushnil(L);
	if (what != NULL)
		lua_pushfstring(L, "%s: %s", what, strerror(err));
	else
		lua_pushstring(L, strerror(err));
	lua_pushinteger(L, err);
	return 3;
}

/*
 * Pushes errno's symbolic name where callers need to tell errors apart
 * (the numbers differ between systems), else its number.
 */
void
nvq_pusherrname(lua_State *L, int err)
{
	static const struct {
		const char	*name;
		int		 num;
	} names[] = {
		{ "ECONNREFUSED", ECONNREFUSED }, { "EAGAIN", EAGAIN },
		{ "ENOENT", ENOENT }, { "ETIMEDOUT", ETIMEDOUT },
		{ "EACCES", EACCES }, { "EPERM", EPERM },
		{ "ECONNRESET", ECONNRESET }, { "ENOTSOCK", ENOTSOCK },
		{ "ENAMETOOLONG", ENAMETOOLONG },
		{ "EHOSTUNREACH", EHOSTUNREACH },
		{ "ENETUNREACH", ENETUNREACH },
		{ "EADDRNOTAVAIL", EADDRNOTAVAIL },
		{ NULL, 0 }
	};
	int i;

	for (i = 0; names[i].name != NULL; i++)
		if (names[i].num == err) {
			lua_pushstring(L, names[i].name);
			return;
		}
	lua_pushinteger(L, err);
}

/* A NaN or infinite deadline is a caller's bug (and would reach integer
 * casts): raised, not returned. */
double
nvq_checkdeadline(lua_State *L, int arg)
{
	double d = luaL_checknumber(L, arg);

	if (!isfinite(d))
		luaL_argerror(L, arg, "deadline is not finite");
	return d;
}

/* A userdata type: its metatable, with the methods as __index. */
void
nvq_newclass(lua_State *L, const char *name, const luaL_Reg *meta,
    const luaL_Reg *methods)
{
	luaL_newmetatable(L, name);
	luaL_setfuncs(L, meta, 0);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

static int
checksignal(lua_State *L, int arg)
{
	const char *s;
	int i;

	if (lua_type(L, arg) == LUA_TNUMBER)
		return (int)luaL_checkinteger(L, arg);
	s = luaL_checkstring(L, arg);
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; signames[i].name != NULL; i++)
		if (strcmp(signames[i].name, s) == 0)
			return signames[i].num;
	return luaL_argerror(L, arg, "unknown signal");
}

/* Modes are given as octal strings ("0700"): Lua has no octal literals. */
static mode_t
checkmode(lua_State *L, int arg)
{
	const char *s;
	char *end;
	long m;

	if (lua_type(L, arg) == LUA_TNUMBER)
		return (mode_t)luaL_checkinteger(L, arg);
	s = luaL_checkstring(L, arg);
	m = strtol(s, &end, 8);
	if (*s == '\0' || *end != '\0' || m < 0 || m > 07777)
		luaL_argerror(L, arg, "octal mode expected");
	return (mode_t)m;
}

static int
l_now(lua_State *L)
{
	lua_pushnumber(L, nvq_now());
	return 1;
}

static int
l_time(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	lua_pushnumber(L, ts.tv_sec + ts.tv_nsec / 1e9);
	return 1;
}

static int
l_sleep(lua_State *L)
{
	double s = luaL_checknumber(L, 1);

	luaL_argcheck(L, isfinite(s), 1, "not a finite duration");
	nvq_nap(s);
	return 0;
}

static int
l_getpid(lua_State *L)
{
	lua_pushinteger(L, getpid());
	return 1;
}

/* Whose rights this process acts with: host's checks depend on it. */
static int
l_geteuid(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)geteuid());
	return 1;
}

/*
 * setenv(name, value) / setenv(name, nil): unsets.  The programs a hook
 * runs learn through the environment which VM locks their caller holds.
 */
static int
l_setenv(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int r;

	if (lua_isnoneornil(L, 2))
		r = unsetenv(name);
	else
		r = setenv(name, luaL_checkstring(L, 2), 1);
	return luaL_fileresult(L, r == 0, name);
}

static int
l_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
	return 1;
}

static int
l_kill(lua_State *L)
{
	pid_t pid = (pid_t)luaL_checkinteger(L, 1);
	int sig = checksignal(L, 2);

	if (pid <= 0)
		return luaL_argerror(L, 1, "positive pid expected");
	return luaL_fileresult(L, kill(pid, sig) == 0, NULL);
}

static const char *
typename(mode_t m)
{
	if (S_ISREG(m))
		return "file";
	if (S_ISDIR(m))
		return "dir";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISLNK(m))
		return "link";
	if (S_ISCHR(m))
		return "char";
	if (S_ISBLK(m))
		return "block";
	if (S_ISFIFO(m))
		return "fifo";
	return "other";
}

/* The fields of a stat table, on top of the stack. */
static void
push_stat(lua_State *L, const struct stat *st)
{
	lua_createtable(L, 0, 8);
	lua_pushstring(L, typename(st->st_mode));
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, st->st_mode & 07777);
	lua_setfield(L, -2, "mode");
	lua_pushinteger(L, (lua_Integer)st->st_size);
	lua_setfield(L, -2, "size");
	lua_pushinteger(L, (lua_Integer)st->st_mtime);
	lua_setfield(L, -2, "mtime");
	lua_pushinteger(L, (lua_Integer)st->st_uid);
	lua_setfield(L, -2, "uid");
	lua_pushinteger(L, (lua_Integer)st->st_gid);
	lua_setfield(L, -2, "gid");
	lua_pushinteger(L, (lua_Integer)st->st_dev);
	lua_setfield(L, -2, "dev");
	lua_pushinteger(L, (lua_Integer)st->st_ino);
	lua_setfield(L, -2, "ino");
}

/* stat(path [, "l"]) -> {type, mode, size, mtime, uid, gid, dev, ino} |
 * nil, msg, errno */
static int
l_stat(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int link = lua_toboolean(L, 2);
	struct stat st;

	if ((link ? lstat(path, &st) : stat(path, &st)) == -1)
		return nvq_fail(L, path, errno);
	push_stat(L, &st);
	return 1;
}

/*
 * openfile(path) -> fd, stat of what was opened | nil, msg, errno
 * For user code: what is checked is what is then read (fstat of the
 * open file, never a second look by name).  Not through a symlink in
 * the last place, and never blocking on a FIFO put there.
 */
static int
l_openfile(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)) ==
	    -1)
		return nvq_fail(L, path, errno);
	if (fstat(fd, &st) == -1) {
		int e = errno;

		close(fd);
		return nvq_fail(L, path, e);
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	lua_pushinteger(L, fd);
	push_stat(L, &st);
	return 2;
}

/*
 * createfile(path, mode) -> fd | nil, msg, errno: a new file, for
 * writing, that did not exist (O_EXCL: never through a symlink or over
 * another's file).  The descriptor is the caller's to fdclose.
 */
static int
l_createfile(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *ms = luaL_checkstring(L, 2);
	char *end;
	long mode = strtol(ms, &end, 8);
	int fd;

	luaL_argcheck(L, *ms != '\0' && *end == '\0' && mode >= 0 &&
	    mode <= 0777, 2, "octal mode");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NOCTTY, (mode_t)mode)) == -1)
		return nvq_fail(L, path, errno);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	lua_pushinteger(L, fd);
	return 1;
}

/* fsync(fd) -> true | nil, msg, errno */
static int
l_fsync(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);

	if (fsync(fd) == -1)
		return nvq_fail(L, "fsync", errno);
	lua_pushboolean(L, 1);
	return 1;
}

/* fstat(fd) -> stat table (as stat's) | nil, msg, errno */
static int
l_fstat(lua_State *L)
{
	struct stat st;

	if (fstat((int)luaL_checkinteger(L, 1), &st) == -1)
		return nvq_fail(L, "fstat", errno);
	push_stat(L, &st);
	return 1;
}

/*
 * statvfs(path) -> { avail = bytes an unprivileged writer may still
 * use, free = bytes free for root, size = bytes } | nil, msg, errno
 */
static int
l_statvfs(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct statvfs sv;
	double f;

	if (statvfs(path, &sv) == -1)
		return nvq_fail(L, path, errno);
	f = sv.f_frsize ? (double)sv.f_frsize : (double)sv.f_bsize;
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, (lua_Integer)(f * (double)sv.f_bavail));
	lua_setfield(L, -2, "avail");
	lua_pushinteger(L, (lua_Integer)(f * (double)sv.f_bfree));
	lua_setfield(L, -2, "free");
	lua_pushinteger(L, (lua_Integer)(f * (double)sv.f_blocks));
	lua_setfield(L, -2, "size");
	return 1;
}

/* readlink(path) -> target | nil, msg, errno */
static int
l_readlink(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char buf[4096];
	ssize_t n;

	if ((n = readlink(path, buf, sizeof(buf))) == -1)
		return nvq_fail(L, path, errno);
	if ((size_t)n == sizeof(buf))
		return nvq_fail(L, path, ENAMETOOLONG);
	lua_pushlstring(L, buf, (size_t)n);
	return 1;
}

static int
l_access(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *how = luaL_optstring(L, 2, "");
	int mode = F_OK;

	if (strchr(how, 'r'))
		mode |= R_OK;
	if (strchr(how, 'w'))
		mode |= W_OK;
	if (strchr(how, 'x'))
		mode |= X_OK;
	lua_pushboolean(L, access(path, mode) == 0);
	return 1;
}

static int
l_mkdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);

	return luaL_fileresult(L, mkdir(path, checkmode(L, 2)) == 0, path);
}

static int
l_chmod(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);

	return luaL_fileresult(L, chmod(path, checkmode(L, 2)) == 0, path);
}

static int
l_umask(lua_State *L)
{
	lua_pushinteger(L, umask(checkmode(L, 1)));
	return 1;
}

/* link(old, new): fails with EEXIST if new exists, which makes it an
 * atomic "create only if absent" for a file written under another name. */
static int
l_link(lua_State *L)
{
	const char *from = luaL_checkstring(L, 1);
	const char *to = luaL_checkstring(L, 2);

	return luaL_fileresult(L, link(from, to) == 0, to);
}

static int
l_rmdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);

	return luaL_fileresult(L, rmdir(path) == 0, path);
}

/* realpath(path) -> absolute path, symlinks resolved | nil, msg, errno */
static int
l_realpath(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char *r;

	if ((r = realpath(path, NULL)) == NULL)
		return nvq_fail(L, path, errno);
	lua_pushstring(L, r);
	free(r);
	return 1;
}

/* readdir(path) -> sorted array of names without "." and ".." */
static int
l_readdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct dirent *de;
	lua_Integer n = 0;
	DIR *d;

	if ((d = opendir(path)) == NULL)
		return nvq_fail(L, path, errno);
	lua_newtable(L);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		lua_pushstring(L, de->d_name);
		lua_rawseti(L, -2, ++n);
	}
	closedir(d);
	lua_getglobal(L, "table");
	lua_getfield(L, -1, "sort");
	lua_pushvalue(L, -3);
	lua_call(L, 1, 0);
	lua_pop(L, 1);
	return 1;
}

static int
l_hostname(lua_State *L)
{
	char buf[256];

	if (gethostname(buf, sizeof(buf)) == -1)
		return nvq_fail(L, NULL, errno);
	buf[sizeof(buf) - 1] = '\0';
	lua_pushstring(L, buf);
	return 1;
}

/* uname() -> {sysname=, release=, machine=} */
static int
l_uname(lua_State *L)
{
	struct utsname u;

	if (uname(&u) == -1)
		return nvq_fail(L, "uname", errno);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, u.sysname);
	lua_setfield(L, -2, "sysname");
	lua_pushstring(L, u.release);
	lua_setfield(L, -2, "release");
	lua_pushstring(L, u.machine);
	lua_setfield(L, -2, "machine");
	return 1;
}

/* nvmm_probe() -> true, what it offers | false, why not */
static int
l_nvmm_probe(lua_State *L)
{
	char why[160];
	int ok = os_nvmm_probe(why, sizeof(why));

	lua_pushboolean(L, ok);
	lua_pushstring(L, why);
	return 2;
}

/*
 * ncpu() -> online CPUs, at least 1.  _SC_NPROCESSORS_ONLN is not
 * POSIX, but NetBSD and Linux both have it; without it, or when it
 * fails, 1 is the answer that overloads nothing.
 */
static int
l_ncpu(lua_State *L)
{
	long n = -1;

#ifdef _SC_NPROCESSORS_ONLN
	n = sysconf(_SC_NPROCESSORS_ONLN);
#endif
	lua_pushinteger(L, n >= 1 ? n : 1);
	return 1;
}

static const luaL_Reg sys_funcs[] = {
	{ "now", l_now },
	{ "time", l_time },
	{ "sleep", l_sleep },
	{ "getpid", l_getpid },
	{ "geteuid", l_geteuid },
	{ "setenv", l_setenv },
	{ "isatty", l_isatty },
	{ "kill", l_kill },
	{ "stat", l_stat },
	{ "openfile", l_openfile },
	{ "createfile", l_createfile },
	{ "fsync", l_fsync },
	{ "fstat", l_fstat },
	{ "statvfs", l_statvfs },
	{ "readlink", l_readlink },
	{ "access", l_access },
	{ "mkdir", l_mkdir },
	{ "chmod", l_chmod },
	{ "umask", l_umask },
	{ "rmdir", l_rmdir },
	{ "link", l_link },
	{ "realpath", l_realpath },
	{ "readdir", l_readdir },
	{ "hostname", l_hostname },
	{ "nvmm_probe", l_nvmm_probe },
	{ "uname", l_uname },
	{ "ncpu", l_ncpu },
	{ NULL, NULL }
};

void
nvq_register_sys(lua_State *L)
{
	luaL_setfuncs(L, sys_funcs, 0);
	/*
	 * The room for a unix socket's path, its terminating NUL included
	 * (104 on NetBSD, 108 on Linux): a run directory so deep that a
	 * VM's socket paths do not fit leaves QEMU unable to make them.
	 */
	lua_pushinteger(L,
	    (lua_Integer)sizeof(((struct sockaddr_un *)0)->sun_path));
	lua_setfield(L, -2, "SUN_PATH_MAX");
}
