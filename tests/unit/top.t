#!/bin/sh
# top.t: top's pieces without QEMU (tap counters, rates, text, JSON); the
# cases are in top.lua.  tests/integ/top.t runs it against real guests.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    "$top/tests/luarun" "$top/tests/unit/top.lua"
