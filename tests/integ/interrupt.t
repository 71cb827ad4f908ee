#!/bin/sh
# SIGINT or SIGTERM to startall: its tasks, the boot policy's process
# and the programs they run end at once (within 1 s), the VMs stay as
# they are (one started keeps running), the summary so far is printed,
# exit 1; no task is left holding a VM's console.lock.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

echo "BOOT_PARALLEL=1" >"$NVQCTL_CONFDIR/nvqctl.conf"
for n in i1 i2 i3 i4; do
	guest_vm $n virtio-serial
	printf 'MEMORY=128M\nBOOT_READY=agent\n' >>"$NVQCTL_CONFDIR/vm/$n.conf"
done
guest_vm sv isa-serial
printf 'MEMORY=128M\nBOOT_READY=serial:never-printed\nBOOT_READY_TIMEOUT=60\n' \
    >>"$NVQCTL_CONFDIR/vm/sv.conf"

# ours: how many processes of "nvqctl startall" run (the command, the
# boot policy's process, the tasks: all forks of it).
ours() { ps -eo args | grep -c "^$NVQCTL startall"; }
# await FILE PATTERN SECONDS: until FILE holds a line matching PATTERN.
await() {
	_i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ $_i -ge $(($3 * 10)) ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
# gone_within SECONDS: until no process of startall is left; echoes
# how long that took.
gone_within() {
	_t0=$(now)
	while [ "$(ours)" -gt 0 ]; do
		[ "$(secs "$_t0" "$(now)" | cut -d. -f1)" -ge "$1" ] && break
		sleep 0.02
	done
	secs "$_t0" "$(now)"
}

# The shell ignores SIGINT for a command in the background (and
# nvqctl leaves it so): as from a terminal, it is not ignored here.
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' "$NVQCTL" startall i1 i2 i3 i4 >"$TMP/int.out" 2>"$TMP/int.err" &
spid=$!
await "$TMP/int.out" "i1: ready" 90
ok $? "startall of four: the first is ready"
await "$TMP/int.out" "i2: starting\|i2: started" 10
kill -INT $spid
t=$(gone_within 5)
wait $spid
rc=$?
awk -v t="$t" 'BEGIN { exit !(t <= 1) }'
ok $? "SIGINT: every process of startall gone after ${t}s (bound 1s)"
is "$rc" 1 "SIGINT: exit 1"
kill -0 "$(qemu_pid i1)" 2>/dev/null
ok $? "SIGINT: the VM already started still runs"
like "$(cat "$TMP/int.err")" "*interrupted by SIGINT*" "SIGINT: said so"
like "$(cat "$TMP/int.out")" "*VM *SECONDS *RESULT*i1 *ready*" \
    "SIGINT: the summary so far, i1 ready"
unlike "$(cat "$TMP/int.out")" "*i3: start*" "SIGINT: nothing more was started"
[ "$rc" -eq 1 ] || diag "$(cat "$TMP/int.out")" "$(cat "$TMP/int.err")"
sleep 3
is "$(ours)" 0 "SIGINT: no process of startall came back"
unlike "$(ls "$NVQCTL_RUNDIR")" "*i3*" "SIGINT: i3 never started"

# SIGTERM while a task waits for sv's serial text (holding console.lock).
cat >"$TMP/lockprobe.lua" <<'LUA'
local core = require "nvq.core"
io.write(core.lock(arg[1], core.now() + 0.5) and "free" or "held", "\n")
LUA
"$NVQCTL" startall sv >"$TMP/sv.out" 2>"$TMP/sv.err" &
spid=$!
await "$TMP/sv.out" "sv: started" 60
ok $? "sv started, waiting for a serial text that never comes"
sleep 1
is "$("$LUARUN" "$TMP/lockprobe.lua" "$NVQCTL_RUNDIR/sv/console.lock")" held \
    "the readiness watcher holds sv's console.lock"
kill -TERM $spid
t=$(gone_within 5)
wait $spid
is "$?" 1 "SIGTERM: exit 1"
awk -v t="$t" 'BEGIN { exit !(t <= 1) }'
ok $? "SIGTERM: every process of startall gone after ${t}s (bound 1s)"
is "$("$LUARUN" "$TMP/lockprobe.lua" "$NVQCTL_RUNDIR/sv/console.lock")" free \
    "SIGTERM: no task left holding console.lock"
kill -0 "$(qemu_pid sv)" 2>/dev/null
ok $? "SIGTERM: sv still runs"

# SIGKILL, which nothing can catch: the boot policy's process and the
# tasks still end with it (a parent-death signal; Linux only).
if [ "$(uname -s)" = Linux ]; then
	"$NVQCTL" startall i3 >"$TMP/k.out" 2>&1 &
	spid=$!
	await "$TMP/k.out" "i3: started" 60
	kill -KILL $spid
	t=$(gone_within 5)
	awk -v t="$t" 'BEGIN { exit !(t <= 1) }'
	ok $? "SIGKILL: every process of startall gone after ${t}s (bound 1s)"
fi

# SIGINT to stopall while a guest ignores its ACPI button: the stop
# task ends, the VM is not forced, exit 1, and no hook phase follows.
guest_vm deaf no nvq.noacpi
echo "MEMORY=128M" >>"$NVQCTL_CONFDIR/vm/deaf.conf"
mkdir -p "$NVQCTL_CONFDIR/hooks"
cat >"$NVQCTL_CONFDIR/hooks/all.lua" <<LUA
return { shutdown_end = function()
	local f = assert(io.open("$TMP/shutdown_end", "w")); f:close()
end }
LUA
"$NVQCTL" start deaf >/dev/null 2>&1
dpid=$(qemu_pid deaf)
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' "$NVQCTL" stopall --timeout 30 deaf \
    >"$TMP/so.out" 2>"$TMP/so.err" &
spid=$!
await "$TMP/so.out" "deaf:" 10
sleep 1
kill -INT $spid
t0=$(now)
wait $spid
rc=$?
while [ "$(ps -eo args | grep -c "^$NVQCTL stopall")" -gt 0 ] &&
    [ "$(secs "$t0" "$(now)" | cut -d. -f1)" -lt 5 ]; do sleep 0.02; done
t=$(secs "$t0" "$(now)")
is "$rc" 1 "SIGINT to stopall: exit 1"
awk -v t="$t" 'BEGIN { exit !(t <= 1) }'
ok $? "SIGINT to stopall: every process of it gone after ${t}s (bound 1s)"
kill -0 "$dpid" 2>/dev/null
ok $? "SIGINT to stopall: the VM it was stopping still runs (not forced)"
unlike "$(cat "$TMP/so.out")" "*forc*" "SIGINT to stopall: nothing forced"
[ ! -e "$TMP/shutdown_end" ]
ok $? "SIGINT to stopall: no shutdown_end hook after it"
