#!/bin/sh
# The example boot policy installed as the override: startall and
# stopall act on one VM at a time with its fixed delay, where the
# built-in policy would start the whole wave at once.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

echo "BOOT_PARALLEL=8" >"$NVQCTL_CONFDIR/nvqctl.conf"
mkdir -p "$NVQCTL_CONFDIR/policies"
sed 's/^local DELAY = 5/local DELAY = 3/' \
    "$TOP/examples/policies/boot-sequential.lua" \
    >"$NVQCTL_CONFDIR/policies/boot.lua"
grep -q '^local DELAY = 3' "$NVQCTL_CONFDIR/policies/boot.lua"
ok $? "the example policy installed, with a 3 s delay"

for n in q1 q2 q3; do
	guest_vm $n virtio-serial
	printf 'MEMORY=128M\nBOOT_READY=agent\n' >>"$NVQCTL_CONFDIR/vm/$n.conf"
done

start_ticks() {
	sed 's/^.*) //' "/proc/$(qemu_pid "$1")/stat" | awk '{ print $20 }'
}
# at NAME WHAT OUTPUT: the elapsed seconds on the line "NAME: WHAT".
at() { printf '%s\n' "$3" | sed -n "s/^\[ *\([0-9.]*\)s\] $1: $2.*/\1/p" | head -1; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

run "$NVQCTL" startall q1 q2 q3
is "$RC" 0 "sequential startall: exit 0"
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"
hz=$(getconf CLK_TCK)
t1=$(start_ticks q1) t2=$(start_ticks q2) t3=$(start_ticks q3)
[ $((t2 - t1)) -ge $((3 * hz)) ] && [ $((t3 - t2)) -ge $((3 * hz)) ]
ok $? "QEMUs started at least 3 s apart ($(((t2 - t1) * 100 / hz))/100, $(((t3 - t2) * 100 / hz))/100 s)"
r1=$(at q1 ready "$OUT") s2=$(at q2 started "$OUT")
r2=$(at q2 ready "$OUT") s3=$(at q3 started "$OUT")
ge "$s2" "$(awk -v r="$r1" 'BEGIN { print r + 3 }')" &&
    ge "$s3" "$(awk -v r="$r2" 'BEGIN { print r + 3 }')"
ok $? "each VM started 3 s after the previous one was ready ($r1 -> $s2, $r2 -> $s3)"

run "$NVQCTL" stopall
is "$RC" 0 "sequential stopall: exit 0"
e3=$(at q3 "stopped by" "$OUT") e2=$(at q2 "stopped by" "$OUT")
e1=$(at q1 "stopped by" "$OUT")
ge "$e2" "$(awk -v r="$e3" 'BEGIN { print r + 3 }')" &&
    ge "$e1" "$(awk -v r="$e2" 'BEGIN { print r + 3 }')"
ok $? "stopped in reverse, one at a time, 3 s apart ($e3, $e2, $e1)"
like "$OUT" "*q3 *stopped by agent*q2 *stopped by agent*q1 *stopped by agent*" \
    "summary in stop order"

run "$NVQCTL" startall --dry-run q1 q2 q3
like "$OUT" "*q1: would start*q2: would start*q3: would start*worst case: 366s*" \
    "the dry run follows the override (3 x 120 s + 2 x 3 s)"
