#!/bin/sh
# remote.t: -H's pieces (remote/ssh, remote/fanout, remote/merge,
# base/hosts, jsonout.decode) against a fake ssh; the real sshd is in
# tests/integ/remote.t.  The cases are in remote.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp TMPDIR=$tmp \
    "$top/tests/luarun" "$top/tests/unit/remote.lua"
