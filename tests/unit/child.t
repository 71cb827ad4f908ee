#!/bin/sh
# child.t: base/child.lua, the one mechanism for nvqctl's children;
# the cases are in child.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    "$top/tests/luarun" "$top/tests/unit/child.lua"
