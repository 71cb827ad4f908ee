#!/bin/sh
# save and restore with real guests under TCG: uptime goes on, a touched
# disk is refused, a save killed halfway loses nothing, no room and a
# migration blocker are refused before the pause, stopall/startall
# honour HOST_SHUTDOWN.  Five guests boot at once and are shared.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

VMS=$TMP/vms
echo "VM_DIR=$VMS" >"$NVQCTL_CONFDIR/nvqctl.conf"
SHM=/dev/shm/nvqtest-save-$$
MNT=
save_cleanup() {
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -f "$SHM"
	guest_cleanup
}
T_CLEANUP_HOOK=save_cleanup

dd if=/dev/zero of="$TMP/s1.img" bs=1024 count=1024 2>/dev/null
guest_vm s1 isa-serial
printf 'DISKS=%s:raw\nHOST_SHUTDOWN=save\n' "$TMP/s1.img" \
    >>"$NVQCTL_CONFDIR/vm/s1.conf"
guest_vm s2 isa-serial
echo HOST_SHUTDOWN=save >>"$NVQCTL_CONFDIR/vm/s2.conf"
guest_vm s3 isa-serial
echo HOST_SHUTDOWN=shutdown >>"$NVQCTL_CONFDIR/vm/s3.conf"
# ivshmem-plain (master=off by default) registers a real migration
# blocker in QEMU, as NVMM does: "peer mode".
guest_vm s4 isa-serial
sed -i "s|^EXTRA_ARGS=\"|EXTRA_ARGS=\"-object memory-backend-file,id=shm0,share=on,mem-path=$SHM,size=1M -device ivshmem-plain,memdev=shm0 |" \
    "$NVQCTL_CONFDIR/vm/s4.conf"
echo HOST_SHUTDOWN=save >>"$NVQCTL_CONFDIR/vm/s4.conf"
guest_vm big isa-serial nvq.fill=100
sed -i 's/^MEMORY=.*/MEMORY=1024M/' "$NVQCTL_CONFDIR/vm/big.conf"

# The hooks see a save (reason "saved") and a restore.
mkdir -p "$NVQCTL_CONFDIR/hooks"
cat >"$NVQCTL_CONFDIR/hooks/s1.lua" <<'LUA'
return {
	pre_stop = function(vm, ev) vm:log("HOOK pre_stop %s", tostring(ev.reason)) end,
	post_stop = function(vm, ev) vm:log("HOOK post_stop %s", tostring(ev.reason)) end,
	post_start = function(vm, ev) vm:log("HOOK post_start %s", tostring(ev.restored)) end,
}
LUA

for v in s1 s2 s3 s4 big; do "$NVQCTL" start $v >/dev/null 2>"$TMP/start-$v" & done
wait
for v in s1 s2 s3 s4 big; do
	wait_ready $v 180 >/dev/null 2>&1
	ok $? "$v: booted"
done

# The guest's uptime in whole seconds, from its serial console.
guest_uptime() {
	"$LUARUN" "$TOP/tests/integ/serial.lua" "$NVQCTL_RUNDIR/$1/serial.sock" \
	    run 30 'cut -d. -f1 /proc/uptime' | tr -dc 0-9
}
qstatus() {
	"$NVQCTL" qmp "$1" query-status 2>/dev/null |
	    sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p'
}

# --- a migration blocker: refused before the pause ---
run "$NVQCTL" save s4
is "$RC" 1 "blocker: save exits 1"
like "$ERR" "*s4: QEMU cannot save this VM:*ivshmem*" "blocker: QEMU's reason named"
is "$(qstatus s4)" running "blocker: the guest was never paused"
[ ! -e "$VMS/s4/state" ] && [ ! -e "$VMS/s4/state.part" ]
ok $? "blocker: no state file"

# --- no room: a 64 MiB tmpfs as the VM's directory, refused before pause ---
if [ "$(id -u)" = 0 ] && mkdir -p "$VMS/s2" &&
    mount -t tmpfs -o size=64m nvqtest "$VMS/s2" 2>/dev/null; then
	MNT=$VMS/s2
	run "$NVQCTL" save s2
	is "$RC" 1 "no room: save exits 1"
	like "$ERR" "*not enough room in $VMS/s2*" "no room: said, with the place"
	is "$(qstatus s2)" running "no room: the guest was never paused"
	[ -z "$(ls -A "$VMS/s2")" ]
	ok $? "no room: nothing written"
	umount "$MNT" && MNT=
else
	ok 0 "# SKIP no room: needs root to mount a tmpfs"
	ok 0 "# SKIP"; ok 0 "# SKIP"; ok 0 "# SKIP"
fi

# --- save, then start: the guest goes on where it was ---
sleep 2
u1=$(guest_uptime s1)
run "$NVQCTL" save s1
is "$RC" 0 "save: exit 0"
like "$OUT" "*s1: saved (*) after *s*" "save: says so, with the size"
like "$OUT$ERR" "*HOOK pre_stop saved*HOOK post_stop saved*" \
    "save: pre_stop and post_stop see reason saved"
[ -s "$VMS/s1/state" ] && [ -s "$VMS/s1/state.json" ] && [ ! -e "$VMS/s1/state.part" ]
ok $? "save: state and sidecar written, no part file left"
[ -z "$(qemu_pid s1)" ] || gone "$(qemu_pid s1)"
ok $? "save: QEMU has ended"
is "$(stat -c %a "$VMS/s1")" 700 "save: the VM's directory is 0700"
run "$NVQCTL" status s1
like "$OUT" "s1 is saved*" "status: saved"
run "$NVQCTL" list --json
like "$OUT" '*"name":"s1"*' "list --json: lists s1"
like "$("$NVQCTL" list)" "*s1*saved*" "list: saved"
sleep 3
run "$NVQCTL" start s1
is "$RC" 0 "restore: exit 0"
like "$OUT" "*s1: restored, pid*" "restore: says restored"
like "$OUT$ERR" "*HOOK post_start true*" "restore: post_start sees restored"
u2=$(guest_uptime s1)
diag "uptime before save: ${u1}s, after restore: ${u2}s"
[ -n "$u1" ] && [ -n "$u2" ] && [ "$u2" -ge "$u1" ] && [ "$u1" -ge 3 ]
ok $? "restore: the guest's uptime goes on ($u1 -> $u2), not from zero"
run "$NVQCTL" agent s1 guest-ping
is "$RC" 0 "restore: the agent answers"
[ ! -e "$VMS/s1/state" ] && [ ! -e "$VMS/s1/state.json" ]
ok $? "restore: the state is gone"

# --- a disk touched between save and start: refused, state kept ---
run "$NVQCTL" save s1
is "$RC" 0 "save again: exit 0"
touch -d @1000000000 "$TMP/s1.img"
run "$NVQCTL" start s1
is "$RC" 1 "touched disk: start exits 1"
like "$ERR" "*disk $TMP/s1.img changed since the save*start --fresh*" \
    "touched disk: names the disk and the fix"
[ -s "$VMS/s1/state" ] && [ -s "$VMS/s1/state.json" ] && [ -z "$(qemu_pid s1)" ]
ok $? "touched disk: state kept, nothing started"
run "$NVQCTL" start --fresh s1
is "$RC" 0 "start --fresh: exit 0"
like "$ERR" "*discarding its saved state*loses what was in its memory*" \
    "start --fresh: warns"
like "$OUT" "*s1: started, pid*" "start --fresh: a fresh boot"
like "$OUT$ERR" "*HOOK post_start false*" "start --fresh: post_start sees a boot"
[ ! -e "$VMS/s1/state" ]
ok $? "start --fresh: the state is gone"

# --- kill -9 of nvqctl halfway through a save of a 1 GiB guest ---
# NVQCTL_SAVE_BANDWIDTH (test-only) throttles QEMU's migration so that
# the save is still under way when it is killed.
NVQCTL_SAVE_BANDWIDTH=8000000 "$NVQCTL" save big >/dev/null 2>&1 &
saver=$!
n=0
while [ "$(stat -c %s "$VMS/big/state.part" 2>/dev/null || echo 0)" -lt 8000000 ] &&
    [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
is "$(qstatus big)" paused "kill -9: the guest is paused mid-save"
kill -9 $saver
wait $saver 2>/dev/null
[ -e "$VMS/big/state.part" ]
ok $? "kill -9: a partial state was left"
run "$NVQCTL" status big
like "$OUT" "big is running*" "kill -9: the next status finds it running"
like "$ERR" "*interrupted save was undone*" "kill -9: says what it undid"
[ ! -e "$VMS/big/state.part" ] && [ ! -e "$VMS/big/state" ]
ok $? "kill -9: no state file, partial or not"
is "$(qstatus big)" running "kill -9: QEMU says running"
run "$NVQCTL" save big
is "$RC" 0 "kill -9: a later save completes"
[ -s "$VMS/big/state" ] && [ ! -e "$VMS/big/state.part" ]
ok $? "kill -9: the later save's state is there"

# --- stopall: two saved, one shut down, one blocked falls to the ladder ---
run "$NVQCTL" stopall -n s1 s2 s3 s4
like "$OUT$ERR" "*s2: would save its state*" "stopall -n: save said"
like "$OUT$ERR" "*s4: would stop (HOST_SHUTDOWN=save, but QEMU cannot save it*" \
    "stopall -n: the blocked one said"
run "$NVQCTL" stopall --json s1 s2 s3 s4
is "$RC" 0 "stopall: exit 0"
printf '%s\n' "$OUT" >"$TMP/stop.json"
check_json() {	# FILE LUA-EXPR-ON-BY-NAME
	"$LUARUN" - "$1" "$2" <<'LUA'
local util = require "base.util"
local f = io.open(arg[1]):read("a")
local doc = util.json().decode(f)
local by = {}
for _, v in ipairs(doc.vms) do by[v.name] = v end
local ok = load("local by = ...; return " .. arg[2])(by)
if not ok then io.stderr:write(f, "\n") end
os.exit(ok and 0 or 1)
LUA
}
check_json "$TMP/stop.json" 'by.s1.outcome == "saved" and by.s2.outcome == "saved"'
ok $? "stopall --json: s1 and s2 saved"
check_json "$TMP/stop.json" 'by.s3.outcome == "stopped" and by.s3.fallback == nil or by.s3.fallback == require("base.util").json().null'
ok $? "stopall --json: s3 shut down"
check_json "$TMP/stop.json" 'by.s4.outcome == "stopped" and tostring(by.s4.fallback):find("save refused") ~= nil'
ok $? "stopall --json: s4 fell back to the ladder, saying why"
for v in s1 s2; do
	[ -s "$VMS/$v/state" ]
	ok $? "stopall: $v's state is on disk"
done
[ ! -e "$VMS/s3/state" ] && [ ! -e "$VMS/s4/state" ]
ok $? "stopall: no state for s3, s4"

run "$NVQCTL" startall --json s3 s4 s1 s2
is "$RC" 0 "startall: exit 0"
printf '%s\n' "$OUT" >"$TMP/start.json"
check_json "$TMP/start.json" 'by.s1.restored and by.s2.restored and not by.s3.restored and not by.s4.restored'
ok $? "startall --json: s1, s2 restored; s3, s4 booted"
like "$ERR" "*s1: restored*s3: started*" "startall: restores come first"
[ ! -e "$VMS/s1/state" ] && [ ! -e "$VMS/s2/state" ]
ok $? "startall: the states are gone"

# HOST_SHUTDOWN=hibernate: this guest cannot (no swap): the ladder.
echo HOST_SHUTDOWN=hibernate >>"$NVQCTL_CONFDIR/vm/s3.conf"
wait_ready s3 120 >/dev/null 2>&1
run "$NVQCTL" stopall s3
is "$RC" 0 "hibernate: stopall exit 0"
like "$OUT$ERR" "*s3*hibernate failed: the guest cannot hibernate*shutting it down instead*" \
    "hibernate: refused by the guest, said"
like "$OUT" "*s3 * stopped by *(hibernate failed*" "hibernate: summary says the ladder stopped it"
