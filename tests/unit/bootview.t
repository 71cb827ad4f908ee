#!/bin/sh
# bootview.t: the boot policy against the real API (no VM): the times it
# passes are cut to its limit, and it sees read-only VMs; the cases are
# in bootview.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/etc/policies" "$tmp/run"
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    "$top/tests/luarun" "$top/tests/unit/bootview.lua"
