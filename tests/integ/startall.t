#!/bin/sh
# startall against real guests: --dry-run acts on nothing; QEMU start
# times follow BOOT_ORDER waves; a BOOT_AFTER dependant waits for its
# dependency's agent; a VM that cannot start gets its BOOT_REQUIRES
# dependant skipped while the rest start; a cycle is refused up front.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

echo "BOOT_PARALLEL=4" >"$NVQCTL_CONFDIR/nvqctl.conf"

# boot_vm NAME AGENT SWITCHES -- KEY=VALUE...: a 128 MiB test guest.
boot_vm() {
	_n=$1 _a=$2 _s=$3
	shift 3
	guest_vm "$_n" "$_a" $_s
	echo "MEMORY=128M" >>"$NVQCTL_CONFDIR/vm/$_n.conf"
	for _kv in "$@"; do
		echo "$_kv" >>"$NVQCTL_CONFDIR/vm/$_n.conf"
	done
}

# start_ticks NAME: the QEMU process's own start time (clock ticks
# since boot, from /proc), or nothing.
start_ticks() {
	_p=$(qemu_pid "$1")
	[ -n "$_p" ] && sed 's/^.*) //' "/proc/$_p/stat" | awk '{ print $20 }'
}

# Eight VMs in three waves; w2 waits for w1's agent within wave 10.
boot_vm w1 virtio-serial "" BOOT_ORDER=10 BOOT_READY=agent AUTOSTART=yes
boot_vm w2 no "" BOOT_ORDER=10 BOOT_AFTER=w1 AUTOSTART=yes
for n in m1 m2 m3; do boot_vm $n no "" BOOT_ORDER=20 AUTOSTART=yes; done
for n in l1 l2 l3; do boot_vm $n no "" BOOT_ORDER=30 AUTOSTART=yes; done

run "$NVQCTL" startall --dry-run
is "$RC" 0 "dry run: exit 0"
like "$OUT" "*wave 1 (BOOT_ORDER 10): w1 w2*wave 2 (BOOT_ORDER 20): m1 m2 m3*wave 3 (BOOT_ORDER 30): l1 l2 l3*" \
    "dry run: the three waves in order"
like "$OUT" "*w1: would start: ready when the guest agent answers (up to 120s)*" \
    "dry run: w1's readiness condition"
like "$OUT" "*w2: would start: ready when QMP answers; after w1*" \
    "dry run: what w2 waits for"
like "$OUT" "*worst case: 120s until the last VM is ready*" "dry run: worst case"
is "$(running_count)" 0 "dry run: no QEMU started"
[ ! -e "$NVQCTL_RUNDIR/w1/qemu.pid" ]
ok $? "dry run: no pidfile written"

run "$NVQCTL" startall
is "$RC" 0 "startall of 8 AUTOSTART VMs: exit 0"
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"
is "$(running_count)" 8 "all 8 QEMUs run"
for n in w1 w2 m1 m2 m3 l1 l2 l3; do
	eval "t_$n=\$(start_ticks $n)"
done
max() { _m=0; for _x; do [ "$_x" -gt "$_m" ] && _m=$_x; done; echo $_m; }
min() { _m=$1; for _x; do [ "$_x" -lt "$_m" ] && _m=$_x; done; echo $_m; }
w10=$(max "$t_w1" "$t_w2") w20lo=$(min "$t_m1" "$t_m2" "$t_m3")
w20=$(max "$t_m1" "$t_m2" "$t_m3") w30lo=$(min "$t_l1" "$t_l2" "$t_l3")
[ "$w10" -le "$w20lo" ]
ok $? "wave 20 started after all of wave 10 (ticks $w10 <= $w20lo)"
[ "$w20" -le "$w30lo" ]
ok $? "wave 30 started after all of wave 20 (ticks $w20 <= $w30lo)"
hz=$(getconf CLK_TCK)
# at NAME WHAT: the elapsed seconds on the progress line "NAME: WHAT".
at() { printf '%s\n' "$OUT" | sed -n "s/^\[ *\([0-9.]*\)s\] $1: $2.*/\1/p" | head -1; }
gap=$(awk -v a="$t_w1" -v b="$t_w2" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
wait1=$(awk -v s="$(at w1 started)" -v r="$(at w1 ready)" 'BEGIN { printf "%.2f", r - s }')
awk -v g="$gap" -v w="$wait1" 'BEGIN { exit !(w > 0.5 && g >= w - 0.3) }'
ok $? "w2's QEMU started ${gap}s after w1's, w1's agent answered ${wait1}s after its start"
ready_line=$(printf '%s\n' "$OUT" | grep -n 'w1: ready' | cut -d: -f1)
start_line=$(printf '%s\n' "$OUT" | grep -n 'w2: started' | cut -d: -f1)
[ -n "$ready_line" ] && [ -n "$start_line" ] && [ "$ready_line" -lt "$start_line" ]
ok $? "w2 started only after w1's agent answered"
like "$OUT" "*\[ *[0-9]*.[0-9]s\] m1: started, pid*" "progress lines carry elapsed time and name"
like "$OUT" "*VM*SECONDS*RESULT*w1 *ready*w2 *ready*l3 *ready*" "summary table"

run "$NVQCTL" startall --json m1 w1
is "$RC" 0 "startall of running VMs: exit 0"
like "$OUT" '*"name":"m1"*' "--json: m1 in the summary"
like "$OUT" '*"result":"already running"*' "--json: already running"
unlike "$OUT" '*wave*' "--json: progress lines are not on stdout"

run "$NVQCTL" stopall
is "$RC" 0 "stopall of the 8: exit 0"
is "$(running_count)" 0 "stopall: no QEMU left"
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"

# A broken QEMU argument: its BOOT_REQUIRES dependant is skipped, the
# others start, exit 1.
for n in w1 w2 m1 m2 m3 l1 l2 l3; do rm "$NVQCTL_CONFDIR/vm/$n.conf"; done
boot_vm bad no "" BOOT_ORDER=10 "EXTRA_ARGS=-no-such-option"
boot_vm needy no "" BOOT_ORDER=20 BOOT_REQUIRES=bad
boot_vm after no "" BOOT_ORDER=20 BOOT_AFTER=bad
boot_vm fine no "" BOOT_ORDER=20 'BOOT_READY="serial:NVQ-GUEST-READY"'
run "$NVQCTL" startall bad needy after fine
is "$RC" 1 "a VM that cannot start: exit 1"
like "$OUT" "*bad *failed: *QEMU failed to start*" "summary: bad failed, with QEMU's reason"
like "$OUT" "*needy *skipped: requires bad, which failed*" "summary: needy skipped because of bad"
like "$OUT" "*after *ready (started although bad failed)*" "summary: BOOT_AFTER dependant started anyway, and says so"
like "$OUT" "*fine *ready*" "summary: the unrelated VM is ready"
[ ! -e "$NVQCTL_RUNDIR/needy/qemu.pid" ]
ok $? "needy was not started"
is "$(running_count)" 2 "after and fine run"
like "$OUT" "*fine: ready*" "serial readiness seen from QEMU's start through startall"
# Already running: its console's past is gone, QMP stands for it.
run "$NVQCTL" startall fine
is "$RC" 0 "serial readiness of a VM already running: exit 0"
like "$OUT" "*cannot be seen on a VM already running*fine *already running*" \
    "serial readiness of a VM already running: QMP stands for it, said so"
"$NVQCTL" stopall >/dev/null 2>&1

run "$NVQCTL" startall nosuch
is "$RC" 1 "an unknown VM: exit 1"
like "$ERR" "*nosuch*" "an unknown VM: named"

# A cycle is refused before anything starts, naming it.
boot_vm cy1 no "" BOOT_AFTER=cy2
boot_vm cy2 no "" BOOT_REQUIRES=cy1
run "$NVQCTL" startall fine cy1
is "$RC" 1 "a cycle: exit 1"
like "$ERR" "*cy1 -> cy2 -> cy1*" "a cycle: named whole"
is "$(running_count)" 0 "a cycle: nothing started"
