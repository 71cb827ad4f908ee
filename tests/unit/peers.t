#!/bin/sh
# peers.t: the QMP and agent clients against misbehaving fake peers
# (fakepeer.pl), and fuzzed with seeded random streams; the cases are in
# peers.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
# The fuzz seed: given, or new each run (printed by peers.lua).
seed=${NVQ_FUZZ_SEED:-$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')}
perl "$top/tests/unit/fakepeer.pl" "$tmp" "$seed" >"$tmp/peer.out" &
peer=$!
trap 'kill $peer 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
until grep -q ready "$tmp/peer.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $peer 2>/dev/null; then
		echo "Bail out! the fake peers did not start"
		exit 1
	fi
	sleep 0.05
done
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp NVQ_FUZZ_SEED=$seed \
    "$top/tests/luarun" "$top/tests/unit/peers.lua"
