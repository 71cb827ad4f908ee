#!/bin/sh
# Every rung of the shutdown ladder, each against a real QEMU booting the
# test guest: the rung that ended the VM is asserted from stop's output.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

# stop_case NAME AGENT SWITCHES WANT-RUNG [stop arguments...]
stop_case() {
	_n=$1 _a=$2 _s=$3 _want=$4
	shift 4
	guest_vm "$_n" "$_a" $_s
	run "$NVQCTL" start "$_n"
	is "$RC" 0 "$_n: start exits 0"
	wait_ready "$_n" || diag "$_n: guest shell did not answer"
	_pid=$(qemu_pid "$_n")
	run "$NVQCTL" stop "$@" "$_n"
	is "$RC" 0 "$_n: stop exits 0"
	is "$(rung "$OUT")" "$_want" "$_n: ended by the $_want rung"
	gone "$_pid"
	ok $? "$_n: QEMU process $_pid is gone"
	[ ! -e "$NVQCTL_RUNDIR/$_n/qemu.pid" ] && [ ! -e "$NVQCTL_RUNDIR/$_n/monitor.sock" ]
	ok $? "$_n: no runtime files left"
	[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"
}

stop_case isa isa-serial "" agent
stop_case vio virtio-serial "" agent
stop_case acpi no "" acpi
stop_case hang isa-serial nvq.hangagent acpi
like "$OUT" "*guest agent did not answer*" "hang: says the agent did not answer"

# No ACPI, no agent: the timeout leaves the VM running, exit non-zero.
guest_vm deaf no nvq.noacpi
"$NVQCTL" start deaf >/dev/null && wait_ready deaf
pid=$(qemu_pid deaf)
t0=$(date +%s)
run "$NVQCTL" stop deaf 3
is "$RC" 1 "deaf: stop times out with exit 1"
like "$ERR" "*still running after 3s*left running*" "deaf: says it left the VM running"
kill -0 "$pid" 2>/dev/null
ok $? "deaf: QEMU still runs after the timeout"
run "$NVQCTL" status deaf
like "$OUT" "*deaf is running*" "deaf: status says running"

# --force goes on to QMP quit.
run "$NVQCTL" stop --force deaf 2
is "$RC" 0 "deaf: stop --force exits 0"
is "$(rung "$OUT")" quit "deaf: --force ends it with QMP quit"
gone "$pid"
ok $? "deaf: QEMU gone"

# A QEMU stopped with SIGSTOP answers nothing and only dies to SIGKILL.
guest_vm frozen no nvq.noacpi
"$NVQCTL" start frozen >/dev/null
pid=$(qemu_pid frozen)
kill -STOP "$pid"
run "$NVQCTL" stop --force frozen 2
is "$RC" 0 "frozen: stop --force exits 0"
is "$(rung "$OUT")" sigkill "frozen: ended by SIGKILL"
like "$OUT" "*forcing: SIGTERM*" "frozen: tried SIGTERM before SIGKILL"
gone "$pid"
ok $? "frozen: QEMU gone"

# stop right after start: the guest is still booting and misses the first
# button press; the ladder presses again at each progress line.
guest_vm early no
"$NVQCTL" start early >/dev/null
pid=$(qemu_pid early)
run "$NVQCTL" stop early 40
is "$RC" 0 "early: stop during boot exits 0"
is "$(rung "$OUT")" acpi "early: ended by ACPI"
like "$OUT" "*
waiting for early: 10s/40s
early: pressed the ACPI power button again*" "early: progress line, then a second press"
gone "$pid"
ok $? "early: QEMU gone"
