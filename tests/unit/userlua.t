#!/bin/sh
# userlua.t: running user Lua (environment, limits, errors, permissions);
# the cases are in userlua.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    LUARUN="$top/tests/luarun" \
    "$top/tests/luarun" "$top/tests/unit/userlua.lua"
