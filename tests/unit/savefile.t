#!/bin/sh
# savefile.t: what a restore checks against a saved state (disks, argv),
# and the core primitives a save uses; the cases are in savefile.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/etc/vm"
echo "VM_DIR=$tmp/vms" >"$tmp/etc/nvqctl.conf"
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    "$top/tests/luarun" "$top/tests/unit/savefile.lua"
