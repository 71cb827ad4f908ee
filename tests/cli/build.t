#!/bin/sh
# build.t: the NetBSD build fixes, checked on any host.  The link lines
# carry a run path for Lua's libdir when pkg-config reports one (a fake
# pkg-config answering as pkgsrc's lua54 does); -g reaches the compiler
# under BSD make (whose sys.mk sets CFLAGS first); the C core compiles
# with NetBSD's legacy PASS_MAX defined (it comes with <math.h> there);
# the NetBSD dependency line names pkgconf.
. "$(dirname "$0")/../lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL

SRC="$TMP/src"
mkdir "$SRC"
(cd "$TOP" && tar cf - --exclude=./.git . ) | (cd "$SRC" && tar xf -)
(cd "$SRC" && make clean >/dev/null 2>&1)

mkdir "$TMP/bin"
cat >"$TMP/bin/pkg-config" <<'SH'
#!/bin/sh
# pkgsrc's lua-5.4.pc, as pkgconf reports it.
case "$*" in
"--exists lua-5.4") exit 0 ;;
"--exists "*) exit 1 ;;
"--cflags lua-5.4") echo "-I/usr/pkg/include/lua-5.4" ;;
"--libs lua-5.4") echo "-L/usr/pkg/lib -llua5.4" ;;
"--variable=libdir lua-5.4") echo "${FAKE_LIBDIR-/usr/pkg/lib}" ;;
*) exit 1 ;;
esac
SH
chmod +x "$TMP/bin/pkg-config"

for mk in make bmake; do
	command -v $mk >/dev/null 2>&1 || { diag "no $mk here"; continue; }
	(cd "$SRC" && $mk -n PKG_CONFIG="$TMP/bin/pkg-config" nvqctl) \
	    >"$TMP/n.out" 2>&1
	grep -- '-o core/mkembed ' "$TMP/n.out" >"$TMP/mkembed"
	grep -- '-o nvqctl ' "$TMP/n.out" >"$TMP/link"
	like "$(cat "$TMP/mkembed")" "*-Wl,-rpath,/usr/pkg/lib*-llua5.4*" \
	    "$mk: core/mkembed, run during the build, gets Lua's run path"
	like "$(cat "$TMP/link")" "*-Wl,-rpath,/usr/pkg/lib*-L/usr/pkg/lib -llua5.4*" \
	    "$mk: nvqctl's link line has Lua's run path"
	FAKE_LIBDIR=/usr/lib run sh -c "cd '$SRC' && $mk -n PKG_CONFIG='$TMP/bin/pkg-config' nvqctl"
	unlike "$OUT" "*rpath*" "$mk: no run path for the system's /usr/lib"
	FAKE_LIBDIR= run sh -c "cd '$SRC' && $mk -n PKG_CONFIG='$TMP/bin/pkg-config' nvqctl"
	unlike "$OUT" "*rpath*" "$mk: no run path when pkg-config reports no libdir"
	# DBG=-O2: what NetBSD's sys.mk sets, and so CFLAGS (Debian's bmake
	# sets DBG=-g instead).
	(cd "$SRC" && $mk -n DBG=-O2 core/clock.o) >"$TMP/cc.out" 2>&1
	like " $(cat "$TMP/cc.out") " "* -g *" \
	    "$mk: the compiler gets -g (with sys.mk's DBG=-O2, as on NetBSD)"
done

# NetBSD 10's <limits.h>, reached through <math.h>, defines PASS_MAX.
printf '#define PASS_MAX 128\n' >"$TMP/netbsd-limits.h"
printf 'pv:\n\t@echo $(LUA_CFLAGS)\n' >"$TMP/pv.mk"
luacf=$(cd "$SRC" && make -s -f Makefile -f "$TMP/pv.mk" pv)
rm -f "$SRC/core/paths.h"; : >"$SRC/core/paths.h"	# -D below instead
for f in "$SRC"/core/*.c; do
	case $f in */os_NetBSD.c|*/mkembed.c) continue ;; esac
	${CC:-cc} -fsyntax-only -Werror -Wall -Wextra -std=c99 \
	    -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -D_NETBSD_SOURCE \
	    -include "$TMP/netbsd-limits.h" $luacf -I"$SRC/core" \
	    -DNVQ_CONFDIR='"x"' -DNVQ_RUNDIR='"x"' -DNVQ_VMDIR='"x"' "$f" 2>"$TMP/cc.err" ||
	    { echo "${f##*/}: $(head -n 3 "$TMP/cc.err")"; }
done >"$TMP/passmax"
is "$(cat "$TMP/passmax")" "" \
    "the C core compiles with -Werror where <limits.h> defines PASS_MAX"

# On NetBSD (here: a uname that says so) with no usable pkg-config, the
# dependency line names pkgconf; so does the README's.
mkdir "$TMP/netbsd"
printf '#!/bin/sh\necho NetBSD\n' >"$TMP/netbsd/uname"
printf '#!/bin/sh\nexit 1\n' >"$TMP/netbsd/pkg-config"
chmod +x "$TMP/netbsd/uname" "$TMP/netbsd/pkg-config"
PATH="$TMP/netbsd:$PATH" run sh "$TOP/tests/deps.sh" build
is "$RC" 1 "deps.sh on NetBSD without Lua's pkg-config: exit 1"
like "$ERR" "*pkgin install pkgconf lua54 lua54-cjson*" \
    "deps.sh on NetBSD: the pkgin line names pkgconf"
grep -q 'pkgin install pkgconf lua54 lua54-cjson' "$TOP/README.md"
ok $? "README: the pkgin line names pkgconf"
