#!/bin/sh
# hostcheck.t: the levels nvqctl host gives, with the accelerator facts
# and the effective uid injected (NetBSD's and other users' verdicts
# checked here); the cases are in hostcheck.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    "$top/tests/luarun" "$top/tests/unit/hostcheck.lua"
