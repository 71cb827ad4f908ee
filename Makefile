# nvqctl: works with GNU make and BSD make (no conditionals, no pattern
# rules; "!=" is understood by both).

PREFIX?=	/usr/local
BINDIR?=	$(PREFIX)/sbin
MANDIR?=	$(PREFIX)/man
EXAMPLESDIR?=	$(PREFIX)/share/examples/nvqctl
CONFDIR?=	$(PREFIX)/etc/nvqctl
RUNDIR?=	/var/run/nvqctl

CC?=		cc
HOSTCC?=	$(CC)
PKG_CONFIG?=	pkg-config
CFLAGS?=	-O2 -g
WARNINGS=	-Wall -Wextra
# Debian calls the module lua5.4, pkgsrc lua-5.4.
LUA_PC!=	for m in lua5.4 lua-5.4 lua54; do \
		    if $(PKG_CONFIG) --exists $$m 2>/dev/null; then \
		    echo $$m; exit 0; fi; done; echo lua5.4
LUA_CFLAGS!=	$(PKG_CONFIG) --cflags $(LUA_PC) 2>/dev/null || true
LUA_LIBS!=	$(PKG_CONFIG) --libs $(LUA_PC) 2>/dev/null || echo -llua5.4
OS!=		uname -s

NVQ_CFLAGS=	$(WARNINGS) -std=c99 -D_POSIX_C_SOURCE=200809L \
		-D_DEFAULT_SOURCE -D_NETBSD_SOURCE \
		-DNVQ_CONFDIR=\"$(CONFDIR)\" -DNVQ_RUNDIR=\"$(RUNDIR)\" \
		$(LUA_CFLAGS)

LUASRCS!=	find lua policies -name '*.lua' | LC_ALL=C sort
OBJS=		core/clock.o core/interp.o core/embedded.o core/l_sys.o \
		core/l_proc.o core/l_lock.o core/l_chan.o core/l_term.o core/l_task.o \
		core/l_limit.o core/os_$(OS).o

all: nvqctl

.SUFFIXES: .c .o
.c.o:
	$(CC) $(CFLAGS) $(NVQ_CFLAGS) $(CPPFLAGS) -c $< -o $@

nvqctl: core/main.o $(OBJS)
	$(CC) $(LDFLAGS) -o $@ core/main.o $(OBJS) $(LUA_LIBS) -lm

tests/luarun: tests/luarun.o $(OBJS)
	$(CC) $(LDFLAGS) -o $@ tests/luarun.o $(OBJS) $(LUA_LIBS) -lm

core/main.o tests/luarun.o $(OBJS): core/nvq.h
core/interp.o core/embedded.o: core/embed.h

# examples/vm.conf is embedded too, as the module core.example_conf
# returning its text, so create needs no installed file.
EMBEDSRCS=	$(LUASRCS) core/example_conf.lua

core/example_conf.lua: examples/vm.conf
	(echo 'return [==['; cat examples/vm.conf; echo ']==]') > $@.tmp && \
	    mv $@.tmp $@

core/embedded.c: core/mkembed $(EMBEDSRCS)
	core/mkembed $(EMBEDSRCS) > $@.tmp && mv $@.tmp $@

core/mkembed: core/mkembed.c
	$(HOSTCC) $(WARNINGS) $(LUA_CFLAGS) -o $@ core/mkembed.c $(LUA_LIBS)

# The dependencies are checked first, in a new make, so that the
# pkg-config lines above see a freshly installed Lua.
check:
	sh tests/deps.sh check
	$(MAKE) nvqctl tests/luarun
	prove -f tests/unit/*.t tests/cli/*.t tests/integ/*.t

# The same tests but the integration ones beyond lifecycle.t, against a
# build with AddressSanitizer and UndefinedBehaviorSanitizer (gcc or
# clang: CC=clang needs its runtime, libclang-rt-14-dev on Debian 12).
# A build of its own: objects are cleaned before and after, whatever the
# result, so a later plain build never links instrumented objects.
SANITIZE=	-fsanitize=address,undefined -fno-omit-frame-pointer
check-sanitize:
	sh tests/deps.sh check
	$(MAKE) clean
	$(MAKE) CFLAGS="-O1 -g $(SANITIZE)" LDFLAGS="$(SANITIZE)" \
	    nvqctl tests/luarun
	sh tests/sanitize.sh; rc=$$?; $(MAKE) clean >/dev/null; exit $$rc

demo:
	sh tests/deps.sh demo
	$(MAKE) nvqctl
	sh tests/demo.sh

bench: nvqctl tests/luarun
	sh tests/bench/bench.sh

# The rc.d script and the systemd unit get the installed path of nvqctl
# in place of @BINDIR@.
install: nvqctl
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(EXAMPLESDIR)/rc.d $(DESTDIR)$(EXAMPLESDIR)/systemd \
	    $(DESTDIR)$(CONFDIR)/vm $(DESTDIR)$(EXAMPLESDIR)/policies
	install -m 755 nvqctl $(DESTDIR)$(BINDIR)/nvqctl
	install -m 644 doc/nvqctl.8 $(DESTDIR)$(MANDIR)/man8/nvqctl.8
	install -m 644 examples/vm.conf examples/nvqctl.conf \
	    policies/shutdown.lua policies/boot.lua $(DESTDIR)$(EXAMPLESDIR)/
	install -m 644 examples/policies/boot-sequential.lua \
	    $(DESTDIR)$(EXAMPLESDIR)/policies/
	sed 's|@BINDIR@|$(BINDIR)|g' rc.d/nvqctl > \
	    $(DESTDIR)$(EXAMPLESDIR)/rc.d/nvqctl
	chmod 755 $(DESTDIR)$(EXAMPLESDIR)/rc.d/nvqctl
	sed 's|@BINDIR@|$(BINDIR)|g' examples/systemd/nvqctl.service > \
	    $(DESTDIR)$(EXAMPLESDIR)/systemd/nvqctl.service
	chmod 644 $(DESTDIR)$(EXAMPLESDIR)/systemd/nvqctl.service
	mkdir -p $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(EXAMPLESDIR)/hooks \
	    $(DESTDIR)$(EXAMPLESDIR)/policies
	install -m 644 doc/nvqctl-lua.7 $(DESTDIR)$(MANDIR)/man7/nvqctl-lua.7
	install -m 644 examples/hooks/tap-bridge.lua \
	    examples/hooks/qcow2-snapshot.lua examples/hooks/logger.lua \
	    $(DESTDIR)$(EXAMPLESDIR)/hooks/
	install -m 644 examples/policies/acpi-then-quit.lua \
	    $(DESTDIR)$(EXAMPLESDIR)/policies/

clean:
	rm -f nvqctl tests/luarun core/*.o tests/*.o core/mkembed \
	    core/embedded.c core/embedded.c.tmp core/example_conf.lua

.PHONY: all check check-sanitize demo bench install clean
