#!/bin/sh
# shutdown.t: vm:signal against real processes holding (or not) a
# pidfile lock, and the rung policies/shutdown.lua reports when a VM
# exits by itself between forced rungs; the cases are in shutdown.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    LUARUN="$top/tests/luarun" \
    "$top/tests/luarun" "$top/tests/unit/shutdown.lua"
