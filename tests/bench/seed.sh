#!/bin/sh
# seed.sh [RUNS]: the cloud-init seed's build time (tests/bench/seed.lua)
# in a directory of its own, removed on the way out.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run BENCHTMP=$tmp \
    "$top/tests/luarun" "$top/tests/bench/seed.lua" "${1:-21}"
