#!/bin/sh
# conffuzz.t: a seeded, bounded fuzz test of the config parser; the cases
# are in conffuzz.lua (NVQ_FUZZ_SEED=n repeats a run).
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    "$top/tests/luarun" "$top/tests/unit/conffuzz.lua"
