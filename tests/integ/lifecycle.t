#!/bin/sh
# start, status, list, kill, reboot, restart against a real QEMU.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

guest_vm g1 virtio-serial
run "$NVQCTL" start g1
is "$RC" 0 "start exits 0"
start_err=$ERR
like "$OUT" "g1: started, pid [0-9]*" "start prints the pid"
pid=$(qemu_pid g1)
run "$NVQCTL" start g1
is "$RC" 3 "a second start exits 3 (nothing to do)"
like "$ERR" "*g1 is already running (pid $pid)*" "a second start says so"
is "$(qemu_pid g1)" "$pid" "and touched nothing"

# ACCEL=auto: the accelerator this host can run (here: tcg beside a
# kvm_pvm /dev/kvm), the reason on stderr, and status showing the one
# in use even after the file asks for another.
accel=$(echo 'print((require("qemu.accel").resolve("auto")))' | "$LUARUN" -)
run "$NVQCTL" status --json g1
like "$OUT" "*\"accel\":\"$accel\"*" "status --json: accel $accel"
if [ "$accel" = tcg ] && [ -e /dev/kvm ]; then
	like "$start_err" "*ACCEL=auto: /dev/kvm *: using tcg*" \
	    "start: auto passing over /dev/kvm says why"
	run "$NVQCTL" dryrun g1
	like "$ERR" "*ACCEL=auto: /dev/kvm *: using tcg*" \
	    "dryrun: auto passing over /dev/kvm says why"
else
	ok 0 "start: no /dev/kvm passed over here"
	ok 0 "dryrun: no /dev/kvm passed over here"
fi
cp "$NVQCTL_CONFDIR/vm/g1.conf" "$TMP/g1.conf"
sed 's/^ACCEL=auto/ACCEL=nvmm/' "$TMP/g1.conf" >"$NVQCTL_CONFDIR/vm/g1.conf"
run "$NVQCTL" list
like "$OUT" "*g1*running*$pid*$accel  \**" \
    "list: the accelerator in use, not the file's, marked as a pending change"
run "$NVQCTL" status g1
like "$OUT" "*accel:*$accel*" "status: the accelerator in use"
cp "$TMP/g1.conf" "$NVQCTL_CONFDIR/vm/g1.conf"

is "$(stat -c %a "$NVQCTL_RUNDIR/g1")" 700 "run directory is mode 0700"
is "$(stat -c %a "$NVQCTL_RUNDIR/g1/monitor.sock")" 600 "QMP socket is owner-only"
is "$(stat -c %a "$NVQCTL_RUNDIR/g1/qemu.pid")" 600 "pidfile is mode 0600"

run "$NVQCTL" status g1
like "$OUT" "g1 is running*pid:*$pid*" "status: running with the pid"
like "$OUT" "*monitor:*$NVQCTL_RUNDIR/g1/monitor.sock*" "status: names the QMP socket"
run "$NVQCTL" status --json g1
like "$OUT" '*"state":"running"*' "status --json: state"
like "$OUT" "*\"pid\":$pid*" "status --json: pid"

run "$NVQCTL" list
like "$OUT" "*g1*running*$pid*1*256M*tcg*" "list: g1 running, pid, vcpu, mem, accel"

# A user's monitor holds monitor.sock; nvqctl's own calls use control.sock.
sleep 20 | "$NVQCTL" monitor g1 >/dev/null 2>&1 &
mon=$!
sleep 1
run "$NVQCTL" status g1
like "$OUT" "g1 is running*" "status answers while a monitor is attached"
kill "$mon" 2>/dev/null
pkill -f "sleep 20" 2>/dev/null
wait "$mon" 2>/dev/null

# A paused VM shows QEMU's own state.
"$LUARUN" - <<LUA
local vm = require "vm.handle"
local config = require "conf.load"
local v = vm.open("g1", config.load("g1", "list"))
assert(v:qmp_call("stop"))
LUA
run "$NVQCTL" status g1
like "$OUT" "g1 is paused*" "status: paused after QMP stop"
"$LUARUN" - <<LUA
local vm = require "vm.handle"
local config = require "conf.load"
assert(vm.open("g1", config.load("g1", "list")):qmp_call("cont"))
LUA

# A SIGSTOPped QEMU does not answer QMP: unresponsive, not a hang.
wait_ready g1
kill -STOP "$pid"
t0=$(date +%s)
run "$NVQCTL" status g1
t1=$(date +%s)
like "$OUT" "g1 is unresponsive*" "status: unresponsive when QEMU is stopped"
[ $((t1 - t0)) -le 6 ]
ok $? "status returns within its bound ($((t1 - t0))s)"
kill -CONT "$pid"

# reboot through the agent: QEMU's RESET event proves it.
wait_ready g1
run "$NVQCTL" reboot g1
is "$RC" 0 "reboot exits 0"
like "$OUT" "*rebooted by agent after*" "reboot: the guest reset"
is "$(qemu_pid g1)" "$pid" "reboot keeps the same QEMU process"
wait_ready g1 ||  diag "guest did not come back after reboot"
run "$NVQCTL" reboot --hard g1
is "$RC" 0 "reboot --hard exits 0"
like "$OUT" "*reset (hard)*" "reboot --hard resets"

# kill: QMP quit ends it; the runtime files go.
run "$NVQCTL" kill g1
is "$RC" 0 "kill exits 0"
is "$(rung "$OUT")" quit "kill: QMP quit ended it"
like "$ERR" "*data*may be lost*" "kill warns about guest data"
gone "$pid"
ok $? "kill: QEMU gone"
[ ! -e "$NVQCTL_RUNDIR/g1/qemu.pid" ]
ok $? "kill: pidfile removed"
run "$NVQCTL" kill g1
is "$RC" 3 "kill of a stopped VM exits 3 (nothing to do)"
like "$ERR" "*g1 is not running*" "kill: says not running"
run "$NVQCTL" stop g1
is "$RC" 3 "stop of a stopped VM exits 3 (nothing to do)"

# reboot without an agent suggests --hard.
guest_vm g2 no
"$NVQCTL" start g2 >/dev/null
run "$NVQCTL" reboot g2
is "$RC" 1 "reboot without agent exits 1"
like "$ERR" "*no guest agent*reboot --hard*" "reboot without agent suggests --hard"

# kill of a SIGSTOPped QEMU falls through to SIGKILL.  Its config is
# broken meanwhile: kill needs none, and is the way out.
pid=$(qemu_pid g2)
kill -STOP "$pid"
cp "$NVQCTL_CONFDIR/vm/g2.conf" "$TMP/g2.conf"
echo NCPUS=2 >> "$NVQCTL_CONFDIR/vm/g2.conf"
run "$NVQCTL" kill g2
is "$(rung "$OUT")" sigkill "kill: a stopped QEMU dies to SIGKILL"
like "$ERR" "*NCPUS: unknown key*using the config g2 was started with*" \
    "kill: a config broken since the start is named, and kill goes on"
gone "$pid"
ok $? "kill: QEMU gone"
run "$NVQCTL" kill g2
is "$RC" 1 "kill: with a broken config and no VM, the config error stands"
like "$ERR" "*NCPUS: unknown key*" "kill: names the config error"
cp "$TMP/g2.conf" "$NVQCTL_CONFDIR/vm/g2.conf"

# restart: stop then start under one lock.
"$NVQCTL" start g2 >/dev/null
pid=$(qemu_pid g2)
wait_ready g2
run "$NVQCTL" restart g2
is "$RC" 0 "restart exits 0"
like "$OUT" "*stopped by acpi*started, pid*" "restart: stopped, then started"
[ "$(qemu_pid g2)" != "$pid" ]
ok $? "restart: a new QEMU process"

# A running VM whose config broke, then vanished, since it started is
# still listed, shown and stopped, with the config it was started with.
pid=$(qemu_pid g2)
wait_ready g2
echo 'DISKS="$(reboot)"' >> "$NVQCTL_CONFDIR/vm/g2.conf"
run "$NVQCTL" status g2
like "$OUT" "g2 is running*$pid*" "broken config: status still shows the VM"
like "$ERR" "*g2.conf:*DISKS*using the config g2 was started with*" \
    "broken config: status names the error and says what it uses"
rm "$NVQCTL_CONFDIR/vm/g2.conf"
run "$NVQCTL" list
like "$OUT" "*g2*running*$pid*" "deleted config: list still shows the running VM"
run "$NVQCTL" stop g2
is "$RC" 0 "deleted config: stop exits 0"
is "$(rung "$OUT")" acpi "deleted config: stopped by ACPI"
gone "$pid"
ok $? "deleted config: QEMU gone"
[ ! -e "$NVQCTL_RUNDIR/g2/started.conf" ]
ok $? "deleted config: the started copy goes with the VM"
cp "$TMP/g2.conf" "$NVQCTL_CONFDIR/vm/g2.conf"

# restart of a stopped VM just starts it.
run "$NVQCTL" restart g2
is "$RC" 0 "restart of a stopped VM: exit 0"
like "$OUT" "g2: started, pid*" "restart of a stopped VM: started"
pid=$(qemu_pid g2)
[ -n "$pid" ] && ! gone "$pid"
ok $? "restart of a stopped VM: QEMU runs"
"$NVQCTL" kill g2 >/dev/null 2>&1
