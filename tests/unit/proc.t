#!/bin/sh
# proc.t: core.run and the deadline checks of the C core, against real
# child processes (sh, sleep, head); the cases are in proc.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    LUARUN="$top/tests/luarun" "$top/tests/luarun" "$top/tests/unit/proc.lua"
