#!/bin/sh
# ready.t: readiness conditions against fake serial consoles and local
# TCP ports (readypeer.pl); the cases are in ready.lua.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqunit.XXXXXX") || exit 1
perl "$top/tests/unit/readypeer.pl" "$tmp" >"$tmp/peer.out" &
peer=$!
trap 'kill $peer 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
until grep -q tcp "$tmp/peer.out" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $peer 2>/dev/null; then
		echo "Bail out! the fake peers did not start"
		exit 1
	fi
	sleep 0.05
done
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run TESTTMP=$tmp \
    LUARUN="$top/tests/luarun" "$top/tests/luarun" \
    "$top/tests/unit/ready.lua" $(sed -n 's/^tcp //p' "$tmp/peer.out")
