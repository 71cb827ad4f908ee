/*
 * l_term.c: terminals, raw descriptors and signals for the interactive
 * commands (console, monitor, top).  A raw-mode handle restores the
 * terminal when closed, collected, or when the caller sees a caught
 * signal: every way out must leave the user a working terminal.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nvq.h"

#define TTY_MT	"nvq.tty"

struct tty {
	int		fd;
	int		active;
	struct termios	saved;
};

static volatile sig_atomic_t caught_sig;

/* The signals catch_signals() takes, by the names caught() gives back. */
static const struct {
	const char	*name;
	int		 sig;
} known[] = {
	{ "INT", SIGINT }, { "TERM", SIGTERM }, { "HUP", SIGHUP },
	{ "QUIT", SIGQUIT }, { "WINCH", SIGWINCH }, { "PIPE", SIGPIPE },
	{ NULL, 0 }
};

static void
on_signal(int sig)
{
	caught_sig = sig;
}

static int
tty_restore(lua_State *L)
{
	struct tty *t = luaL_checkudata(L, 1, TTY_MT);

	if (t->active) {
		tcsetattr(t->fd, TCSAFLUSH, &t->saved);
		t->active = 0;
	}
	return 0;
}

/*
 * tty_raw(fd [, "raw"|"cbreak"]) -> handle | nil, msg
 * raw: no echo, no line editing, no signals from keys, no output
 * processing (the console relay); cbreak: keys one at a time without
 * echo, signals and output processing kept (top's "q").
 */
static int
l_tty_raw(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	int cbreak = strcmp(luaL_optstring(L, 2, "raw"), "cbreak") == 0;
	struct termios tio;
	struct tty *t;

	t = lua_newuserdatauv(L, sizeof(*t), 0);
	t->fd = fd;
	t->active = 0;
	luaL_setmetatable(L, TTY_MT);
	if (tcgetattr(fd, &t->saved) == -1)
		return nvq_fail(L, "tcgetattr", errno);
	tio = t->saved;
	tio.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
	if (!cbreak) {
		tio.c_lflag &= ~ISIG;
		tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
		    IGNCR | ICRNL | IXON);
		tio.c_oflag &= ~OPOST;
		tio.c_cflag &= ~(CSIZE | PARENB);
		tio.c_cflag |= CS8;
	}
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSAFLUSH, &tio) == -1)
		return nvq_fail(L, "tcsetattr", errno);
	t->active = 1;
	return 1;
}

/* tty_size(fd) -> rows, cols | nil */
static int
l_tty_size(lua_State *L)
{
	struct winsize ws;

	if (ioctl((int)luaL_checkinteger(L, 1), TIOCGWINSZ, &ws) == -1)
		return nvq_fail(L, "TIOCGWINSZ", errno);
	if (ws.ws_row == 0)
		return nvq_fail(L, "TIOCGWINSZ", ENOTTY);
	lua_pushinteger(L, ws.ws_row);
	lua_pushinteger(L, ws.ws_col);
	return 2;
}

/* read_fd(fd [, max]) -> bytes | "" at EOF | nil, msg (EINTR: nil, "EINTR") */
static int
l_read_fd(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	size_t max = (size_t)luaL_optinteger(L, 2, 4096);
	luaL_Buffer b;
	char *p;
	ssize_t n;

	p = luaL_buffinitsize(L, &b, max);
	if ((n = read(fd, p, max)) == -1) {
		if (errno == EINTR || errno == EAGAIN) {
			lua_pushnil(L);
			lua_pushstring(L, errno == EINTR ? "EINTR" : "EAGAIN");
			return 2;
		}
		return nvq_fail(L, "read", errno);
	}
	luaL_pushresultsize(&b, n);
	return 1;
}

/* write_fd(fd, data) -> true | nil, msg: all of it, retrying EINTR */
static int
l_write_fd(lua_State *L)
{
	int fd = (int)luaL_checkinteger(L, 1);
	size_t len, done = 0;
	const char *s = luaL_checklstring(L, 2, &len);
	ssize_t n;

	while (done < len) {
		if ((n = write(fd, s + done, len - done)) == -1) {
			if (errno == EAGAIN) {
				/* A non-blocking descriptor: wait, don't spin. */
				struct pollfd pfd = { fd, POLLOUT, 0 };

				poll(&pfd, 1, 1000);
				continue;
			}
			if (errno == EINTR)
				continue;
			return nvq_fail(L, "write", errno);
		}
		done += n;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * catch_signals({"INT", "TERM", ...}): from now on those signals only
 * set a flag that caught() returns, so a loop can clean up and leave.
 * A signal ignored by whoever started us stays ignored: the shell does
 * that to SIGINT for a command it runs in the background.
 */
static int
l_catch_signals(lua_State *L)
{
	struct sigaction sa, old;
	int i, n;

	luaL_checktype(L, 1, LUA_TTABLE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	n = (int)luaL_len(L, 1);
	for (i = 1; i <= n; i++) {
		const char *name;
		int k;

		lua_geti(L, 1, i);
		name = luaL_checkstring(L, -1);
		for (k = 0; known[k].name != NULL; k++)
			if (strcmp(known[k].name, name) == 0)
				break;
		if (known[k].name == NULL)
			return luaL_error(L, "cannot catch signal %s", name);
		if (sigaction(known[k].sig, NULL, &old) == -1 ||
		    old.sa_handler != SIG_IGN)
			sigaction(known[k].sig, &sa, NULL);
		lua_pop(L, 1);
	}
	return 0;
}

/* caught() -> signal name | nil; clears the flag */
static int
l_caught(lua_State *L)
{
	int sig = caught_sig, k;

	caught_sig = 0;
	for (k = 0; known[k].name != NULL; k++)
		if (known[k].sig == sig) {
			lua_pushstring(L, known[k].name);
			return 1;
		}
	return 0;
}

static const luaL_Reg tty_methods[] = {
	{ "restore", tty_restore },
	{ NULL, NULL }
};

static const luaL_Reg tty_meta[] = {
	{ "__gc", tty_restore },
	{ "__close", tty_restore },
	{ "__index", NULL },
	{ NULL, NULL }
};

static const luaL_Reg term_funcs[] = {
	{ "tty_raw", l_tty_raw },
	{ "tty_size", l_tty_size },
	{ "read_fd", l_read_fd },
	{ "write_fd", l_write_fd },
	{ "catch_signals", l_catch_signals },
	{ "caught", l_caught },
	{ NULL, NULL }
};

void
nvq_register_term(lua_State *L)
{
	nvq_newclass(L, TTY_MT, tty_meta, tty_methods);
	luaL_setfuncs(L, term_funcs, 0);
}
