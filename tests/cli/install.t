#!/bin/sh
# install.t: make install as a package build runs it (built first, then
# installed into a DESTDIR with PREFIX=/usr/pkg): exactly the pkgsrc
# PLIST's files, nothing naming /usr/local, the rc.d script, unit and
# manuals naming /usr/pkg; make uninstall takes back exactly that; a
# PREFIX with a blank works.  GNU make and BSD make both, in a copy of
# the source tree so that the tree's own build is left alone.
. "$(dirname "$0")/../lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL

SRC="$TMP/src"
mkdir "$SRC"
(cd "$TOP" && tar cf - --exclude=./.git . ) | (cd "$SRC" && tar xf -)
(cd "$SRC" && make clean >/dev/null 2>&1)
PLIST="$SRC/examples/pkgsrc/sysutils/nvqctl/PLIST"
grep -v '^@' "$PLIST" | LC_ALL=C sort >"$TMP/plist"

# files DIR: the files under DIR, relative, sorted.
files() { (cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); }

(cd "$SRC" && make PREFIX=/usr/pkg nvqctl) >"$TMP/build.out" 2>&1
is "$?" 0 "make PREFIX=/usr/pkg builds"
for mk in make bmake; do
	command -v $mk >/dev/null 2>&1 || { diag "no $mk here"; continue; }
	d="$TMP/dest-$mk"
	mkdir "$d"
	(cd "$SRC" && $mk install DESTDIR="$d" PREFIX=/usr/pkg) \
	    >"$TMP/out" 2>&1
	is "$?" 0 "$mk install DESTDIR PREFIX=/usr/pkg"
	[ $? -eq 0 ] || sed 's/^/# /' "$TMP/out"
	files "$d/usr/pkg" >"$TMP/installed"
	cmp -s "$TMP/installed" "$TMP/plist"
	ok $? "$mk: the installed files are the PLIST's"
	[ $? -eq 0 ] || diff "$TMP/plist" "$TMP/installed" | sed 's/^/# /'
	is "$(grep -rl /usr/local "$d")" "" "$mk: nothing installed names /usr/local"
	ex="$d/usr/pkg/share/examples/nvqctl"
	grep -q '^_nvqctl_bin="/usr/pkg/sbin/nvqctl"$' "$ex/rc.d/nvqctl"
	ok $? "$mk: the rc.d script runs /usr/pkg/sbin/nvqctl"
	test -x "$ex/rc.d/nvqctl"
	ok $? "$mk: the rc.d script is executable"
	grep -q '^ExecStart=-/usr/pkg/sbin/nvqctl startall$' \
	    "$ex/systemd/nvqctl.service" &&
	    grep -q '^ExecStop=/usr/pkg/sbin/nvqctl stopall$' \
	    "$ex/systemd/nvqctl.service"
	ok $? "$mk: the systemd unit runs /usr/pkg/sbin/nvqctl"
	! grep -q '@[A-Z]*@' "$ex/rc.d/nvqctl" "$ex/systemd/nvqctl.service"
	ok $? "$mk: no placeholder left"
	m="$d/usr/pkg/man"
	grep -q '^\.It Pa /usr/pkg/etc/nvqctl/nvqctl.conf$' "$m/man8/nvqctl.8" &&
	    grep -q '^\.Pa /usr/pkg/share/examples/nvqctl/rc.d/ ,$' "$m/man8/nvqctl.8" &&
	    grep -q '^\.Pa /usr/pkg/etc/nvqctl/nvqctl.conf$' "$m/man5/nvqctl.conf.5"
	ok $? "$mk: the manuals name the /usr/pkg config and example paths"
	grep -q '/usr/pkg/etc/nvqctl' "$d/usr/pkg/sbin/nvqctl"
	ok $? "$mk: the binary's default config directory is /usr/pkg/etc/nvqctl"
	(cd "$SRC" && $mk uninstall DESTDIR="$d" PREFIX=/usr/pkg) \
	    >"$TMP/out" 2>&1
	is "$?" 0 "$mk uninstall DESTDIR PREFIX=/usr/pkg"
	is "$(cd "$d" && find . | LC_ALL=C sort | tr '\n' ' ')" ". " \
	    "$mk uninstall: only the directories that existed before are left"
done

# Another package's files, and the directories holding them, stay.  (An
# empty directory under a DESTDIR goes: uninstall cannot tell whether
# install made it.  Without DESTDIR no shared directory is removed.)
d="$TMP/dest-shared"
mkdir -p "$d/usr/pkg/man/man8" "$d/usr/pkg/sbin"
: >"$d/usr/pkg/man/man8/other.8"
: >"$d/usr/pkg/sbin/other"
(cd "$SRC" && make install DESTDIR="$d" PREFIX=/usr/pkg &&
    make uninstall DESTDIR="$d" PREFIX=/usr/pkg) >"$TMP/out" 2>&1
is "$?" 0 "install then uninstall over existing directories"
is "$(cd "$d" && find . | LC_ALL=C sort | tr '\n' ' ')" \
    ". ./usr ./usr/pkg ./usr/pkg/man ./usr/pkg/man/man8 ./usr/pkg/man/man8/other.8 ./usr/pkg/sbin ./usr/pkg/sbin/other " \
    "uninstall: another package's file and the directories that held it stay"

# A PREFIX with a blank (only core/interp.o is rebuilt for it).
d="$TMP/dest blank"
(cd "$SRC" && make PREFIX="/opt/my nvq" nvqctl &&
    make install DESTDIR="$d" PREFIX="/opt/my nvq") >"$TMP/out" 2>&1
is "$?" 0 "PREFIX with a blank: build and install"
[ $? -eq 0 ] || sed 's/^/# /' "$TMP/out"
grep -q '^_nvqctl_bin="/opt/my nvq/sbin/nvqctl"$' \
    "$d/opt/my nvq/share/examples/nvqctl/rc.d/nvqctl"
ok $? "PREFIX with a blank: the rc.d script's path is whole"
NVQCTL_CONFDIR= run "$d/opt/my nvq/sbin/nvqctl" host --json
like "$OUT" "*/opt/my nvq/etc/nvqctl*" \
    "PREFIX with a blank: the binary's config directory is whole"
(cd "$SRC" && make uninstall DESTDIR="$d" PREFIX="/opt/my nvq") >"$TMP/out" 2>&1
is "$(cd "$d" && find . | tr '\n' ' ')" ". " \
    "PREFIX with a blank: uninstall leaves nothing"
