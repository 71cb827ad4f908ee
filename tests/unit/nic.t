#!/bin/sh
# nic.t: net/nic.lua, derived MACs and the QEMU options of NICs;
# the cases are in nic.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    "$top/tests/luarun" "$top/tests/unit/nic.lua"
