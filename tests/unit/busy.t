#!/bin/sh
# busy.t: a QEMU that refuses connects while it holds its pidfile lock
# (NetBSD's answer for a full listen queue) is tried again until the
# deadline, by vm:qmp and by qmpbatch; a dead one is given up on at
# once.  The cases are in busy.lua, the peer is lateqmp.pl.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    LUARUN="$top/tests/luarun" PEER="$top/tests/unit/lateqmp.pl" \
    "$top/tests/luarun" "$top/tests/unit/busy.lua"
