# nvqctl: works with GNU make and BSD make (no conditionals, no pattern
# rules; "!=" is understood by both).

# The version is written once, in core/nvq.h.
VERSION!=	sed -n 's/^\#define NVQ_VERSION[^"]*"\(.*\)"/\1/p' core/nvq.h

# The install paths, named as pkgsrc names them, so that a package passes
# its own (see examples/pkgsrc/sysutils/nvqctl/Makefile).  The binary's
# default config and run directories are PKG_SYSCONFDIR and RUNDIR.
PREFIX?=	/usr/local
BINDIR?=	$(PREFIX)/sbin
MANDIR?=	$(PREFIX)/man
EXAMPLESDIR?=	$(PREFIX)/share/examples/nvqctl
SYSCONFDIR?=	$(PREFIX)/etc
PKG_SYSCONFDIR?= $(SYSCONFDIR)/nvqctl
VARBASE?=	/var
RUNDIR?=	$(VARBASE)/run/nvqctl
# Disks and saved states: persistent files of a third-party program
# belong under /var/db (hier(7)); VM_DIR in nvqctl.conf moves them.
VMDIR?=		$(VARBASE)/db/nvqctl
LOGFILE?=	$(VARBASE)/log/nvqctl.log

CC?=		cc
HOSTCC?=	$(CC)
PKG_CONFIG?=	pkg-config
# Optimisation and debugging information apart: BSD make's sys.mk sets
# CFLAGS (to -O2 on NetBSD) before this file is read, so a -g here would
# never reach a bmake build.  A package that strips sets CDEBUG= empty.
CFLAGS?=	-O2
CDEBUG?=	-g
WARNINGS=	-Wall -Wextra
# Debian calls the module lua5.4, pkgsrc lua-5.4.
LUA_PC!=	for m in lua5.4 lua-5.4 lua54; do \
		    if $(PKG_CONFIG) --exists $$m 2>/dev/null; then \
		    echo $$m; exit 0; fi; done; echo lua5.4
LUA_CFLAGS!=	$(PKG_CONFIG) --cflags $(LUA_PC) 2>/dev/null || true
LUA_LIBS!=	$(PKG_CONFIG) --libs $(LUA_PC) 2>/dev/null || echo -llua5.4
# pkgsrc's lua.pc gives -L$libdir with no run path, and NetBSD's ld.elf_so
# looks only in /usr/lib: without one neither core/mkembed (run during
# the build) nor the installed nvqctl could load liblua.  The system's
# own library directories need none.
LUA_RPATH!=	d=`$(PKG_CONFIG) --variable=libdir $(LUA_PC) 2>/dev/null`; \
		case "$$d" in ""|/lib|/lib64|/usr/lib|/usr/lib64|/usr/lib/*-linux-gnu) ;; \
		*) echo "-Wl,-rpath,$$d" ;; esac
LUA_LDFLAGS=	$(LUA_RPATH) $(LUA_LIBS)
OS!=		uname -s

# _NETBSD_SOURCE: NetBSD has no _DEFAULT_SOURCE, and under
# _POSIX_C_SOURCE alone its headers hide realpath, gethostname, kqueue,
# u_int and _SC_NPROCESSORS_ONLN (the CPU count would silently be 1).
NVQ_CFLAGS=	$(WARNINGS) -std=c99 -D_POSIX_C_SOURCE=200809L \
		-D_DEFAULT_SOURCE -D_NETBSD_SOURCE \
		$(LUA_CFLAGS)

LUASRCS!=	find lua policies -name '*.lua' | LC_ALL=C sort
OBJS=		core/clock.o core/interp.o core/embedded.o core/l_sys.o \
		core/l_proc.o core/l_lock.o core/l_chan.o core/l_term.o core/l_task.o \
		core/l_net.o core/l_limit.o \
		core/os_$(OS).o

all: nvqctl

.SUFFIXES: .c .o
.c.o:
	$(CC) $(CFLAGS) $(CDEBUG) $(NVQ_CFLAGS) $(CPPFLAGS) -c $< -o $@

nvqctl: core/main.o $(OBJS)
	$(CC) $(CDEBUG) $(LDFLAGS) -o $@ core/main.o $(OBJS) $(LUA_LDFLAGS) -lm

tests/luarun: tests/luarun.o $(OBJS)
	$(CC) $(CDEBUG) $(LDFLAGS) -o $@ tests/luarun.o $(OBJS) $(LUA_LDFLAGS) -lm

core/main.o tests/luarun.o $(OBJS): core/nvq.h
core/interp.o core/embedded.o: core/embed.h
core/interp.o: core/paths.h

# The default directories compiled in, rewritten only when they change,
# so that "make install PREFIX=..." after a plain "make" rebuilds what
# depends on them and nothing else.
core/paths.h: FORCE
	@printf '#define NVQ_CONFDIR "%s"\n#define NVQ_RUNDIR "%s"\n#define NVQ_VMDIR "%s"\n' \
	    '$(PKG_SYSCONFDIR)' '$(RUNDIR)' '$(VMDIR)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:

# examples/vm.conf is embedded too, as the module core.example_conf
# returning its text, so create needs no installed file.
EMBEDSRCS=	$(LUASRCS) core/example_conf.lua

core/example_conf.lua: examples/vm.conf
	(echo 'return [==['; cat examples/vm.conf; echo ']==]') > $@.tmp && \
	    mv $@.tmp $@

core/embedded.c: core/mkembed $(EMBEDSRCS)
	core/mkembed $(EMBEDSRCS) > $@.tmp && mv $@.tmp $@

core/mkembed: core/mkembed.c
	$(HOSTCC) $(WARNINGS) $(LUA_CFLAGS) -o $@ core/mkembed.c $(LUA_LDFLAGS)

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
	sh tests/bench/remote.sh

# What make install puts where.  The lists are the package's PLIST too:
# tests/cli/install.t checks the two agree.  Paths may hold blanks, not
# quotes.  Files that name a directory get the installed one written in
# by SUBST: the rc.d script and the systemd unit their nvqctl, the man
# pages and nvqctl.conf the config, run and log paths.
EX_PLAIN=	examples/vm.conf policies/shutdown.lua policies/boot.lua \
		policies/network.lua
EX_HOOKS=	examples/hooks/tap-bridge.lua examples/hooks/qcow2-snapshot.lua \
		examples/hooks/logger.lua
EX_POLICIES=	examples/policies/boot-sequential.lua \
		examples/policies/acpi-then-quit.lua
SUBST=		sed -e 's|@BINDIR@|$(BINDIR)|g' \
		    -e 's|/usr/local/sbin/nvqctl|$(BINDIR)/nvqctl|g' \
		    -e 's|/usr/local/etc/nvqctl|$(PKG_SYSCONFDIR)|g' \
		    -e 's|/usr/local/share/examples/nvqctl|$(EXAMPLESDIR)|g' \
		    -e 's|/var/run/nvqctl|$(RUNDIR)|g' \
		    -e 's|/var/db/nvqctl|$(VMDIR)|g' \
		    -e 's|/var/log/nvqctl\.log|$(LOGFILE)|g'
# Every directory install makes, deepest first (uninstall's order).
EX_DIRS=	"$(DESTDIR)$(EXAMPLESDIR)/ansible/library" \
		"$(DESTDIR)$(EXAMPLESDIR)/ansible" \
		"$(DESTDIR)$(EXAMPLESDIR)/rc.d" "$(DESTDIR)$(EXAMPLESDIR)/systemd" \
		"$(DESTDIR)$(EXAMPLESDIR)/hooks" "$(DESTDIR)$(EXAMPLESDIR)/policies" \
		"$(DESTDIR)$(EXAMPLESDIR)/logrotate" "$(DESTDIR)$(EXAMPLESDIR)"
SHARED_DIRS=	"$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man5" \
		"$(DESTDIR)$(MANDIR)/man7" "$(DESTDIR)$(MANDIR)/man8"

install: nvqctl
	mkdir -p $(SHARED_DIRS) $(EX_DIRS)
	install -m 755 nvqctl "$(DESTDIR)$(BINDIR)/nvqctl"
	$(SUBST) doc/nvqctl.8 > "$(DESTDIR)$(MANDIR)/man8/nvqctl.8"
	$(SUBST) doc/nvqctl.conf.5 > "$(DESTDIR)$(MANDIR)/man5/nvqctl.conf.5"
	$(SUBST) doc/nvqctl-lua.7 > "$(DESTDIR)$(MANDIR)/man7/nvqctl-lua.7"
	install -m 644 $(EX_PLAIN) "$(DESTDIR)$(EXAMPLESDIR)/"
	install -m 644 $(EX_HOOKS) "$(DESTDIR)$(EXAMPLESDIR)/hooks/"
	install -m 644 $(EX_POLICIES) "$(DESTDIR)$(EXAMPLESDIR)/policies/"
	install -m 644 examples/ansible/playbook.yml \
	    "$(DESTDIR)$(EXAMPLESDIR)/ansible/"
	$(SUBST) examples/ansible/README > \
	    "$(DESTDIR)$(EXAMPLESDIR)/ansible/README"
	$(SUBST) examples/ansible/library/nvqctl_vm.py > \
	    "$(DESTDIR)$(EXAMPLESDIR)/ansible/library/nvqctl_vm.py"
	$(SUBST) examples/nvqctl.conf > "$(DESTDIR)$(EXAMPLESDIR)/nvqctl.conf"
	$(SUBST) examples/newsyslog.conf > \
	    "$(DESTDIR)$(EXAMPLESDIR)/newsyslog.conf"
	$(SUBST) examples/logrotate/nvqctl > \
	    "$(DESTDIR)$(EXAMPLESDIR)/logrotate/nvqctl"
	$(SUBST) rc.d/nvqctl > "$(DESTDIR)$(EXAMPLESDIR)/rc.d/nvqctl"
	$(SUBST) examples/systemd/nvqctl.service > \
	    "$(DESTDIR)$(EXAMPLESDIR)/systemd/nvqctl.service"
	cd "$(DESTDIR)$(EXAMPLESDIR)" && chmod 644 nvqctl.conf \
	    newsyslog.conf logrotate/nvqctl systemd/nvqctl.service \
	    ansible/README ansible/library/nvqctl_vm.py && \
	    chmod 755 rc.d/nvqctl
	cd "$(DESTDIR)$(MANDIR)" && chmod 644 man5/nvqctl.conf.5 \
	    man7/nvqctl-lua.7 man8/nvqctl.8

# Removes exactly what install put there.  nvqctl's own directories go
# when empty; the shared ones (sbin, man/man8, ...) and their parents
# only under a DESTDIR, where install may have made them: on a live
# system an empty /usr/local/sbin may well have been there before.
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/nvqctl" \
	    "$(DESTDIR)$(MANDIR)/man8/nvqctl.8" \
	    "$(DESTDIR)$(MANDIR)/man5/nvqctl.conf.5" \
	    "$(DESTDIR)$(MANDIR)/man7/nvqctl-lua.7"
	cd "$(DESTDIR)$(EXAMPLESDIR)" 2>/dev/null && rm -f vm.conf \
	    shutdown.lua boot.lua network.lua nvqctl.conf newsyslog.conf \
	    logrotate/nvqctl rc.d/nvqctl systemd/nvqctl.service \
	    hooks/tap-bridge.lua hooks/qcow2-snapshot.lua hooks/logger.lua \
	    policies/boot-sequential.lua policies/acpi-then-quit.lua \
	    ansible/playbook.yml ansible/README \
	    ansible/library/nvqctl_vm.py || true
	for d in $(EX_DIRS); do rmdir "$$d" 2>/dev/null || true; done
	if [ -n "$(DESTDIR)" ]; then \
	    for d in $(SHARED_DIRS) "$(DESTDIR)$(EXAMPLESDIR)"; do \
	    while [ "$$d" != "$(DESTDIR)" ] && { [ ! -e "$$d" ] || \
	    rmdir "$$d" 2>/dev/null; }; do d=$${d%/*}; done; done; fi

# make dist: nvqctl-VERSION.tar.gz of the committed tree, without the
# pkgsrc description (whose distinfo records the tarball's checksums).
# The same tree always gives the same bytes: the archive is made from a
# commit of the tree less examples/pkgsrc, with fixed metadata, dated by
# the newest entry of CHANGES (so a new distinfo changes nothing in it).
# Refused when files git knows about differ from HEAD: they would not
# be in it.
DISTNAME=	nvqctl-$(VERSION)
DISTINFO=	examples/pkgsrc/sysutils/nvqctl/distinfo
dist:
	@git diff --quiet HEAD -- . ':(exclude)examples/pkgsrc' || { \
	    echo "make dist: uncommitted changes; the tarball is made" \
	    "from HEAD and would not hold them:" >&2; \
	    git status --short -- . ':(exclude)examples/pkgsrc' >&2; exit 1; }
	@date=`sed -n 's/^[0-9.]* (\([0-9-]*\)).*/\1/p' CHANGES | sed 1q`; \
	    test -n "$$date" || { echo "make dist: no dated entry in CHANGES" >&2; exit 1; }; \
	    idx=`mktemp "$${TMPDIR:-/tmp}/nvqdist.XXXXXX"` && \
	    tree=`GIT_INDEX_FILE=$$idx; export GIT_INDEX_FILE; \
	    git read-tree HEAD && git rm -r -q --cached examples/pkgsrc && \
	    git write-tree`; rm -f "$$idx"; test -n "$$tree" && \
	    c=`echo $(DISTNAME) | GIT_AUTHOR_NAME=nvqctl GIT_AUTHOR_EMAIL=nvqctl \
	    GIT_COMMITTER_NAME=nvqctl GIT_COMMITTER_EMAIL=nvqctl \
	    GIT_AUTHOR_DATE="$${date}T00:00:00Z" \
	    GIT_COMMITTER_DATE="$${date}T00:00:00Z" git commit-tree $$tree` && \
	    git archive --format=tar --prefix=$(DISTNAME)/ $$c | \
	    gzip -9n > $(DISTNAME).tar.gz.tmp && \
	    mv $(DISTNAME).tar.gz.tmp $(DISTNAME).tar.gz && \
	    echo "$(DISTNAME).tar.gz"

# make distinfo: the pkgsrc distinfo for that tarball (pkgsrc's own
# "make makesum" writes the same three lines).
distinfo: dist
	sh examples/pkgsrc/mkdistinfo.sh $(DISTNAME).tar.gz > $(DISTINFO).tmp
	mv $(DISTINFO).tmp $(DISTINFO)

clean:
	rm -f nvqctl tests/luarun core/*.o tests/*.o core/mkembed \
	    core/embedded.c core/embedded.c.tmp core/example_conf.lua \
	    core/paths.h core/paths.h.tmp

.PHONY: all check check-sanitize demo bench install uninstall dist \
	distinfo clean
