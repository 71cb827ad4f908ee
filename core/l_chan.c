/*
 * l_chan.c: a buffered, line-oriented unix-socket channel with a
 * deadline on every operation: the transport under the QMP and guest
 * agent clients (lua/proto/qmpconn.lua, lua/proto/qga.lua) and the console relay.
 * Lines are bounded: what the peer sends is not trusted to end.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "nvq.h"

#define CHAN_MT		"nvq.chan"
#define LINE_MAX_DEF	(1024 * 1024)

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0
#endif

struct chan {
	int	 fd;
	char	*buf;
	size_t	 off, len, cap;		/* unread bytes: buf[off, off+len) */
};

static struct chan *
checkchan(lua_State *L)
{
	struct chan *c = luaL_checkudata(L, 1, CHAN_MT);

	if (c->fd == -1)
		luaL_error(L, "attempt to use a closed channel");
	return c;
}

static void
chan_release(struct chan *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
	c->off = c->len = c->cap = 0;
}

/* Waits for events on fd; 1 ready, 0 deadline passed, -1 error. */
static int
wait_fd(int fd, short events, double deadline)
{
	struct pollfd pfd;
	int n;

	pfd.fd = fd;
	pfd.events = events;
	while ((n = poll(&pfd, 1, nvq_poll_ms(deadline))) == -1 &&
	    errno == EINTR)
		continue;
	return n;
}

static int
push_status(lua_State *L, const char *status)
{
	lua_pushnil(L);
	lua_pushstring(L, status);
	return 2;
}

/*
 * connect(path, deadline) -> chan | nil, msg, errno
 * errno is a name ("ECONNREFUSED", "EAGAIN", "ENOENT", ...) where it is
 * known, else a number: NetBSD refuses a full listen queue at once where
 * Linux makes the caller wait, and the caller tells the two apart.
 */
static int
l_connect(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	double deadline = nvq_checkdeadline(L, 2);
	struct sockaddr_un sun;
	struct chan *c;
	socklen_t len;
	int err;

	c = lua_newuserdatauv(L, sizeof(*c), 0);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	luaL_setmetatable(L, CHAN_MT);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	strcpy(sun.sun_path, path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		goto fail;
	fcntl(c->fd, F_SETFD, FD_CLOEXEC);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	/* EAGAIN on a unix socket: the listen queue is full (a stopped
	 * QEMU accepts nothing), not "in progress": try again until the
	 * deadline. */
	while (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS)
			goto inprogress;
		if (errno != EAGAIN)
			goto fail;
		if (nvq_now() >= deadline) {
			errno = ETIMEDOUT;
			goto fail;
		}
		nvq_nap(0.005);
	}
	return 1;
inprogress:
	if (wait_fd(c->fd, POLLOUT, deadline) <= 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		goto fail;
	if (err == 0)
		return 1;
	errno = err;
fail:
	err = errno;
	chan_release(c);
	nvq_fail(L, path, err);
	lua_pop(L, 1);
	nvq_pusherrname(L, err);
	return 3;
}

/* c:send(data, deadline) -> true | nil, "timeout" | nil, msg */
static int
l_send(lua_State *L)
{
	struct chan *c = checkchan(L);
	size_t len, done = 0;
	const char *data = luaL_checklstring(L, 2, &len);
	double deadline = nvq_checkdeadline(L, 3);
	ssize_t n;

	while (done < len) {
		n = send(c->fd, data + done, len - done, MSG_NOSIGNAL);
		if (n >= 0) {
			done += n;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return nvq_fail(L, "send", errno);
		if (wait_fd(c->fd, POLLOUT, deadline) == 0)
			return push_status(L, "timeout");
	}
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * c:sendfd(fd, data, deadline) -> true | nil, msg: data's first byte
 * carries a copy of descriptor fd (SCM_RIGHTS), the rest is sent as
 * send() does.  QEMU's QMP getfd takes the descriptor that came with
 * the command's bytes: a file handed over this way is written by QEMU
 * itself, with no pipe and no process in between.
 */
static int
l_sendfd(lua_State *L)
{
	struct chan *c = checkchan(L);
	int fd = (int)luaL_checkinteger(L, 2);
	size_t len;
	const char *data = luaL_checklstring(L, 3, &len);
	double deadline = nvq_checkdeadline(L, 4);
	/* NetBSD's CMSG_SPACE calls a function (__cmsg_alignbytes): not a
	 * constant, so the buffer is sized generously and checked. */
	union {
		struct cmsghdr	hdr;
		char		buf[64];
	} cm;
	struct cmsghdr *cmsg;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;

	luaL_argcheck(L, len > 0, 3, "nothing to send the descriptor with");
	if (CMSG_SPACE(sizeof(int)) > sizeof(cm.buf))
		return luaL_error(L, "sendfd: control buffer too small");
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)data;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	while ((n = sendmsg(c->fd, &msg, MSG_NOSIGNAL)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			return nvq_fail(L, "sendmsg", errno);
		if (wait_fd(c->fd, POLLOUT, deadline) == 0)
			return push_status(L, "timeout");
	}
	/* The rest, as a plain send: the descriptor has gone. */
	lua_settop(L, 4);
	lua_pushlstring(L, data + 1, len - 1);
	lua_replace(L, 2);
	lua_pushvalue(L, 4);
	lua_replace(L, 3);
	lua_settop(L, 3);
	return len > 1 ? l_send(L) : (lua_pushboolean(L, 1), 1);
}

/* Reads what is there into the buffer: 1 data, 0 timeout, -1 EOF/error. */
static int
fill(struct chan *c, double deadline, size_t limit)
{
	ssize_t n;
	int r;

	if (c->off > 0 && c->len > 0)
		memmove(c->buf, c->buf + c->off, c->len);
	c->off = 0;
	if (c->cap - c->len < 4096) {
		size_t ncap = c->cap ? c->cap * 2 : 8192;
		char *nbuf;

		if (ncap > limit + 8192)
			ncap = limit + 8192;
		if (ncap <= c->cap || (nbuf = realloc(c->buf, ncap)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		c->buf = nbuf;
		c->cap = ncap;
	}
	for (;;) {
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += n;
			return 1;
		}
		if (n == 0) {
			errno = 0;
			return -1;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if ((r = wait_fd(c->fd, POLLIN, deadline)) <= 0)
			return r;
	}
}

static int
fill_status(lua_State *L, int r)
{
	if (r == 0)
		return push_status(L, "timeout");
	if (errno == 0)
		return push_status(L, "eof");
	return nvq_fail(L, "read", errno);
}

/* c:readline(deadline [, maxlen]) -> line | nil, "timeout"|"eof"|"too long" */
static int
l_readline(lua_State *L)
{
	struct chan *c = checkchan(L);
	double deadline = nvq_checkdeadline(L, 2);
	size_t max = (size_t)luaL_optinteger(L, 3, LINE_MAX_DEF), n;
	char *nl;
	int r;

	for (;;) {
		nl = c->len ? memchr(c->buf + c->off, '\n', c->len) : NULL;
		if (nl != NULL) {
			n = nl - (c->buf + c->off);
			if (n > max)
				return push_status(L, "too long");
			lua_pushlstring(L, c->buf + c->off,
			    n > 0 && nl[-1] == '\r' ? n - 1 : n);
			c->off += n + 1;
			c->len -= n + 1;
			return 1;
		}
		if (c->len > max)
			return push_status(L, "too long");
		if ((r = fill(c, deadline, max)) <= 0)
			return fill_status(L, r);
	}
}

/* c:skipto(byte, deadline) -> true | nil, "timeout"|"eof": drops input
 * up to and including the byte (the agent's 0xFF resync marker). */
static int
l_skipto(lua_State *L)
{
	struct chan *c = checkchan(L);
	int byte = (int)luaL_checkinteger(L, 2);
	double deadline = nvq_checkdeadline(L, 3);
	char *p;
	int r, filled = 0;

	for (;;) {
		p = c->len ? memchr(c->buf + c->off, byte, c->len) : NULL;
		if (p != NULL) {
			size_t n = p - (c->buf + c->off) + 1;

			c->off += n;
			c->len -= n;
			lua_pushboolean(L, 1);
			return 1;
		}
		c->off = c->len = 0;
		/* A peer sending without pause never lets fill() wait:
		 * the deadline is checked here too. */
		if (filled && nvq_now() >= deadline)
			return push_status(L, "timeout");
		if ((r = fill(c, deadline, LINE_MAX_DEF)) <= 0)
			return fill_status(L, r);
		filled = 1;
	}
}

/* c:read(deadline [, max]) -> bytes (at least one) | nil, status */
static int
l_read(lua_State *L)
{
	struct chan *c = checkchan(L);
	double deadline = nvq_checkdeadline(L, 2);
	size_t max = (size_t)luaL_optinteger(L, 3, 65536), n;
	int r;

	if (c->len == 0 && (r = fill(c, deadline, max)) <= 0)
		return fill_status(L, r);
	n = c->len < max ? c->len : max;
	lua_pushlstring(L, c->buf + c->off, n);
	c->off += n;
	c->len -= n;
	return 1;
}

static int
l_pending(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)checkchan(L)->len);
	return 1;
}

static int
l_fileno(lua_State *L)
{
	lua_pushinteger(L, checkchan(L)->fd);
	return 1;
}

static int
l_close(lua_State *L)
{
	chan_release(luaL_checkudata(L, 1, CHAN_MT));
	return 0;
}

/* poll({fd, ...}, deadline) -> {true|false, ...}: which can be read;
 * all false at the deadline or on a signal */
static int
l_poll(lua_State *L)
{
	struct pollfd *pfd;
	double deadline;
	int i, n;

	luaL_checktype(L, 1, LUA_TTABLE);
	deadline = nvq_checkdeadline(L, 2);
	n = (int)luaL_len(L, 1);
	luaL_argcheck(L, n >= 1 && n <= 4096, 1, "1 to 4096 descriptors");
	/* Scratch memory the collector owns: nothing to free on an error. */
	pfd = lua_newuserdatauv(L, n * sizeof(*pfd), 0);
	for (i = 0; i < n; i++) {
		lua_geti(L, 1, i + 1);
		pfd[i].fd = (int)luaL_checkinteger(L, -1);
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
		lua_pop(L, 1);
	}
	/* Only a bad descriptor or no memory makes poll fail: a caller's
	 * bug, raised as an error rather than a result it would index. */
	if (poll(pfd, n, nvq_poll_ms(deadline)) == -1 && errno != EINTR)
		return luaL_error(L, "poll: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (pfd[i].revents & POLLNVAL)
			return luaL_error(L, "poll: descriptor %d is not open",
			    pfd[i].fd);
	lua_createtable(L, n, 0);
	for (i = 0; i < n; i++) {
		lua_pushboolean(L, pfd[i].revents != 0);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static const luaL_Reg chan_methods[] = {
	{ "send", l_send },
	{ "sendfd", l_sendfd },
	{ "readline", l_readline },
	{ "skipto", l_skipto },
	{ "read", l_read },
	{ "pending", l_pending },
	{ "fileno", l_fileno },
	{ "close", l_close },
	{ NULL, NULL }
};

static const luaL_Reg chan_meta[] = {
	{ "__gc", l_close },
	{ "__close", l_close },
	{ "__index", NULL },
	{ NULL, NULL }
};

static int l_tcp_connect(lua_State *);

void
nvq_register_chan(lua_State *L)
{
	nvq_newclass(L, CHAN_MT, chan_meta, chan_methods);
	lua_pushcfunction(L, l_connect);
	lua_setfield(L, -2, "connect");
	lua_pushcfunction(L, l_poll);
	lua_setfield(L, -2, "poll");
	lua_pushcfunction(L, l_tcp_connect);
	lua_setfield(L, -2, "tcp_connect");
}

/*
 * One non-blocking connect to ai, waited for until the deadline: 0 and
 * c->fd set, or an errno.
 */
static int
tcp_try(struct chan *c, const struct addrinfo *ai, double deadline)
{
	socklen_t len;
	int fd, err;

	if ((fd = socket(ai->ai_family, ai->ai_socktype,
	    ai->ai_protocol)) == -1)
		return errno;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			err = ETIMEDOUT;
			goto fail;
		}
		len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0)
			goto fail;
		break;
	}
	c->fd = fd;
	return 0;
fail:
	close(fd);
	return err;
}

/*
 * tcp_connect(host, port, deadline) -> chan | nil, msg: a TCP connection
 * to the first address of host that takes it, as a channel like
 * connect's.  A numeric address (IPv4, or IPv6 without brackets) needs
 * no lookup; a name's lookup is bounded by the resolver's own timeouts,
 * which getaddrinfo offers no deadline to shorten.
 */
static int
l_tcp_connect(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	lua_Integer port = luaL_checkinteger(L, 2);
	double deadline = nvq_checkdeadline(L, 3);
	struct addrinfo hints, *res, *ai;
	struct chan *c;
	char serv[8];
	int gerr, err = ETIMEDOUT;

	luaL_argcheck(L, port >= 1 && port <= 65535, 2, "port 1 to 65535");
	c = lua_newuserdatauv(L, sizeof(*c), 0);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	luaL_setmetatable(L, CHAN_MT);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%d", (int)port);
	if ((gerr = getaddrinfo(host, serv, &hints, &res)) != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", host, gerr == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(gerr));
		return 2;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (nvq_now() >= deadline) {
			err = ETIMEDOUT;
			break;
		}
		if ((err = tcp_try(c, ai, deadline)) == 0)
			break;
	}
	freeaddrinfo(res);
	if (err == 0)
		return 1;
	lua_pushnil(L);
	lua_pushfstring(L, "%s port %d: %s", host, (int)port, strerror(err));
	lua_pushinteger(L, err);
	return 3;
}
