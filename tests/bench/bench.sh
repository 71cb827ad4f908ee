#!/bin/sh
# bench.sh [RUNS]: nvqctl's performance figures, as medians over RUNS
# (default 7) runs, against real QEMU processes booting the test guest.
# Prints figures; asserts nothing (targets are in the README).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-7}
sh "$top/tests/guest/build.sh" >/dev/null
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqbench.XXXXXX")
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run
export NVQCTL_CONFDIR NVQCTL_RUNDIR
cleanup() {
	for p in "$NVQCTL_RUNDIR"/*/qemu.pid; do
		[ -f "$p" ] && kill -CONT "$(cat "$p")" 2>/dev/null &&
		    kill -KILL "$(cat "$p")" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
# Phases run in separate processes: the query phases' child rusage then
# holds only nvqctl processes that spawn nothing, so their peak RSS is
# nvqctl's own (starting a VM would count QEMU's).
for phase in lifecycle setup3 query3 setup5 query5; do
	"$top/tests/luarun" "$top/tests/bench/bench.lua" $phase "$runs" "$top"
done
# One call of a hook and of a policy (a child each), list of 50 VMs.
"$top/tests/luarun" "$top/tests/bench/ulua.lua" 100 "$top"
# startall/stopall of ten guests: one run (each step boots ten guests).
"$top/tests/luarun" "$top/tests/bench/orch.lua" "$top"
# create (20G qcow2), clone --linked, snapshot create of a stopped VM:
# no guest, 10 runs each (their own config directory).
NVQCTL_CONFDIR=$tmp/disks "$top/tests/luarun" "$top/tests/bench/disks.lua" 10 "$top"
# save and restore of a 1 GiB guest holding 400 MB of random data.
sh "$top/tests/bench/save.sh" 5
# Bridge NICs: start cost, taps and descriptors after 50 cycles.
sh "$top/tests/bench/net.sh" 10
# The cloud-init seed: build and unchanged-start cost.
sh "$top/tests/bench/seed.sh" 21
