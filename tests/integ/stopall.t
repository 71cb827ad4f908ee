#!/bin/sh
# stopall against real guests: VMs of a wave stop at once (6 take at
# most 1.5 times the slowest single stop); one deadline for the whole
# stopall, after which a guest that ignores ACPI and a SIGSTOPped QEMU
# are forced at once and nothing is left; HOST_SHUTDOWN_FORCE=no leaves
# them and says so.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

echo "BOOT_PARALLEL=8" >"$NVQCTL_CONFDIR/nvqctl.conf"

boot_vm() {
	_n=$1 _a=$2 _s=$3
	shift 3
	guest_vm "$_n" "$_a" $_s
	echo "MEMORY=128M" >>"$NVQCTL_CONFDIR/vm/$_n.conf"
	for _kv in "$@"; do
		echo "$_kv" >>"$NVQCTL_CONFDIR/vm/$_n.conf"
	done
}

six="s1 s2 s3 s4 s5 s6"
for n in $six; do boot_vm $n virtio-serial "" BOOT_READY=agent; done
run "$NVQCTL" startall $six
is "$RC" 0 "six guests up, agents answering"

slowest=0
for n in $six; do
	t0=$(now)
	"$NVQCTL" stop $n >/dev/null 2>&1
	t=$(secs "$t0" "$(now)")
	slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
done
diag "slowest single stop: ${slowest}s"
run "$NVQCTL" startall $six
is "$RC" 0 "six guests up again"
t0=$(now)
run "$NVQCTL" stopall
t=$(secs "$t0" "$(now)")
is "$RC" 0 "stopall of six: exit 0"
is "$(running_count)" 0 "stopall of six: no QEMU left"
like "$OUT" "*s6 *stopped by agent*s1 *stopped by agent*" "summary: each stopped by its agent"
awk -v t="$t" -v s="$slowest" 'BEGIN { exit !(t <= 1.5 * s + 0.5) }'
ok $? "stopall of six took ${t}s, slowest single stop ${slowest}s (bound 1.5x + 0.5s)"

# One deadline: a guest that ignores ACPI and has no agent, and a QEMU
# that is SIGSTOPped, are forced; the others stop cleanly.
for n in $six; do rm "$NVQCTL_CONFDIR/vm/$n.conf"; done
echo "HOST_SHUTDOWN_TIMEOUT=15" >>"$NVQCTL_CONFDIR/nvqctl.conf"
boot_vm deaf no nvq.noacpi
boot_vm frozen no ""
boot_vm ok1 virtio-serial "" BOOT_READY=agent
boot_vm ok2 isa-serial "" BOOT_READY=agent
run "$NVQCTL" startall deaf frozen ok1 ok2
is "$RC" 0 "four guests up"
fpid=$(qemu_pid frozen)
dpid=$(qemu_pid deaf)
kill -STOP "$fpid"
t0=$(now)
# A manual stop of deaf meanwhile waits for stopall's task on it.
(sleep 2; "$NVQCTL" stop deaf 5 >"$TMP/manual.out" 2>&1; echo $? >"$TMP/manual.rc") &
run "$NVQCTL" stopall
t=$(secs "$t0" "$(now)")
wait
is "$RC" 0 "deadline: exit 0 (forced VMs count as stopped)"
awk -v t="$t" 'BEGIN { exit !(t <= 25) }'
ok $? "deadline 15s: stopall returned after ${t}s (bound 25s)"
is "$(running_count)" 0 "deadline: no QEMU left"
gone "$fpid" && gone "$dpid"
ok $? "deadline: the frozen and the deaf QEMU processes are gone"
like "$OUT" "*deaf *stopped by * (forced)*" "summary: deaf forced"
like "$OUT" "*frozen *stopped by sigkill (forced)*" "summary: frozen ended by SIGKILL, forced"
for n in ok1 ok2; do
	is "$(printf '%s\n' "$OUT" | sed -n "s/^$n  *[0-9.]*  //p")" \
	    "stopped by agent" "summary: $n stopped cleanly by its agent"
done
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"
manual=$(cat "$TMP/manual.out")
like "$manual" "*waiting for another nvqctl command*deaf is not running*" \
    "a manual stop during stopall waited for the VM's lock, then found it stopped"
unlike "$manual" "*ACPI*" "the manual stop never acted on the VM"
is "$(cat "$TMP/manual.rc")" 3 "the manual stop: exit 3 (not running: nothing to do)"

# Another command holds ok1's lock all along: its stop task gives up,
# but at the deadline the VM is forced all the same (HOST_SHUTDOWN_FORCE
# is yes): no QEMU is left running.
"$NVQCTL" start ok1 >/dev/null 2>&1
opid=$(qemu_pid ok1)
cat >"$TMP/holdlock.lua" <<'LUA'
local core = require "nvq.core"
local lk = assert(core.lock(arg[1], core.now() + 5))
io.stdout:write("holding\n"); io.stdout:flush()
core.sleep(tonumber(arg[2]))
LUA
"$LUARUN" "$TMP/holdlock.lua" "$NVQCTL_RUNDIR/ok1/lock" 40 >"$TMP/hold.out" &
hpid=$!
i=0; while [ ! -s "$TMP/hold.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(now)
run "$NVQCTL" stopall --timeout 6 ok1
t=$(secs "$t0" "$(now)")
gone "$opid"
ok $? "lock held by another command: ok1's QEMU forced all the same"
is "$RC" 0 "lock held: exit 0 (forced)"
like "$OUT" "*ok1 *stopped by * (forced)*" "lock held: summary says forced"
awk -v t="$t" 'BEGIN { exit !(t <= 25) }'
ok $? "lock held: stopall returned after ${t}s (bound 25s)"
kill "$hpid" 2>/dev/null
wait "$hpid" 2>/dev/null
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"

# HOST_SHUTDOWN_FORCE=no: left running, said so, exit 1.
echo "HOST_SHUTDOWN_FORCE=no" >>"$NVQCTL_CONFDIR/nvqctl.conf"
"$NVQCTL" start deaf >/dev/null 2>&1
dpid=$(qemu_pid deaf)
t0=$(now)
run "$NVQCTL" stopall --timeout 6 --json
t=$(secs "$t0" "$(now)")
is "$RC" 1 "HOST_SHUTDOWN_FORCE=no: exit 1"
like "$OUT" '*"name":"deaf"*' "--json: deaf in the summary"
like "$OUT" '*"result":"left running: *' "--json: deaf left running"
like "$OUT" '*"ok":false*' "--json: not ok"
kill -0 "$dpid"
ok $? "HOST_SHUTDOWN_FORCE=no: deaf's QEMU still runs"
awk -v t="$t" 'BEGIN { exit !(t <= 12) }'
ok $? "HOST_SHUTDOWN_FORCE=no: returned after ${t}s of a 6s deadline"
run "$NVQCTL" stopall --dry-run
is "$RC" 0 "stopall --dry-run: exit 0"
like "$OUT" "*deaf: would stop through its shutdown policy (up to 10s)*worst case: 10s of the 15s deadline*" \
    "stopall --dry-run: the plan against the deadline"
kill -0 "$dpid"
ok $? "stopall --dry-run: deaf still runs"
