#!/bin/sh
# deps.sh [build|check|demo]: makes sure what that target needs is
# installed.  On Debian, as root, missing packages are installed with
# apt-get; elsewhere the command to run is printed.
set -u
what=${1:-check}

debs="gcc make pkg-config liblua5.4-dev lua-cjson"
# pkgconf: NetBSD's base has no pkg-config and lua54 does not pull it in;
# without it the build would take the base system's <lua.h>.
pkgs="pkgconf lua54 lua54-cjson"
case $what in
check|demo)
	debs="$debs qemu-system-x86 qemu-guest-agent busybox-static perl"
	pkgs="$pkgs qemu"
	;;
esac
# -H and the Ansible module are tested against a real sshd.
[ "$what" = check ] && debs="$debs tmux mandoc openssh-server ansible-core" &&
    pkgs="$pkgs tmux"

if [ "$(uname -s)" != Linux ] || ! command -v dpkg-query >/dev/null 2>&1
then
	# NetBSD and others: say what to install; the build will tell the rest.
	if ! command -v pkg-config >/dev/null 2>&1 ||
	    { ! pkg-config --exists lua-5.4 2>/dev/null &&
	    ! pkg-config --exists lua5.4 2>/dev/null; }; then
		echo "deps: install the dependencies first: pkgin install $pkgs" \
		    "(or pkg_add them)" >&2
		exit 1
	fi
	exit 0
fi

missing=
for p in $debs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages; run: apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends $missing >/dev/null ||
    { apt-get update -q >/dev/null &&
    apt-get install -y -q --no-install-recommends $missing >/dev/null; }
