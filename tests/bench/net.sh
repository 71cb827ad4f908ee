#!/bin/sh
# net.sh RUNS: bench of bridge NICs (tests/bench/net.lua) in a network
# namespace and on a bridge of its own, both removed on the way out.
# Needs root and ip(8); says why and does nothing otherwise.
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-10}
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "bridge NICs: skipped (needs root and ip)"
	exit 0
fi
ns=nvqb$$ br=nvqbb$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqbench.XXXXXX")
cleanup() {
	for p in "$tmp"/run/*/qemu.pid; do
		[ -f "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null
	done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/etc/vm"
ip netns add "$ns" && ip netns exec "$ns" ip link add "$br" type bridge &&
    ip netns exec "$ns" ip link set "$br" up || exit 1
NVQCTL_CONFDIR=$tmp/etc NVQCTL_RUNDIR=$tmp/run \
    ip netns exec "$ns" "$top/tests/luarun" "$top/tests/bench/net.lua" \
    "$runs" "$top" "$br" 2>&1 >/dev/null | grep -v 'warning: killing'
