#!/bin/sh
# stopall never skips the clean ladder: VMs whose BOOT_AFTER form a
# cycle, and VMs under a boot policy that raises, are each stopped by
# their agent through their own shutdown policy (pre_stop runs), not
# forced at once; a boot policy stuck in a C call costs at most the
# deadline (+10 s) and leaves no QEMU.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

HK="$NVQCTL_CONFDIR/hooks"
LOG="$TMP/phases.log"
mkdir -p "$HK" "$NVQCTL_CONFDIR/policies"
export LOG
cat >"$HK/all.lua" <<'LUA'
return { pre_stop = function(vm, ev)
	local f = assert(io.open(os.getenv("LOG"), "a"))
	f:write("pre_stop ", vm.name, "\n")
	f:close()
end }
LUA
guest_vm ca virtio-serial
guest_vm cb isa-serial
printf 'MEMORY=128M\nBOOT_AFTER=cb\n' >>"$NVQCTL_CONFDIR/vm/ca.conf"
printf 'MEMORY=128M\nBOOT_AFTER=ca\n' >>"$NVQCTL_CONFDIR/vm/cb.conf"

# result NAME: the summary's result for NAME.
result() { printf '%s\n' "$OUT" | sed -n "s/^$1  *[0-9.-]*  //p"; }
# up: starts ca and cb at once and waits until both guests answer.
up() {
	"$NVQCTL" start ca >"$TMP/sa.out" 2>"$TMP/sa.err" &
	"$NVQCTL" start cb >"$TMP/sb.out" 2>"$TMP/sb.err" &
	wait
	wait_ready ca >/dev/null && wait_ready cb >/dev/null
}
# clean WHAT: ca and cb stopped by their agents, pre_stop ran for each.
clean() {
	is "$(result ca)/$(result cb)" "stopped by agent/stopped by agent" \
	    "$1: ca and cb each stopped by its agent"
	unlike "$OUT" "*forc*" "$1: nothing forced"
	is "$(sort "$LOG" | tr '\n' ' ')" "pre_stop ca pre_stop cb " \
	    "$1: pre_stop ran for both"
	is "$(running_count)" 0 "$1: no QEMU left"
}

up
ok $? "ca and cb up, BOOT_AFTER each other"
is "$(cat "$TMP/sa.err")" "nvqctl: warning: ca: BOOT_AFTER/BOOT_REQUIRES cycle: ca -> cb -> ca (startall refuses it; stopall stops these VMs together)" \
    "start of a VM in a cycle: one line of warning"
kill -0 "$(qemu_pid ca)" 2>/dev/null && kill -0 "$(qemu_pid cb)" 2>/dev/null
ok $? "start of a VM in a cycle: started all the same"

run "$NVQCTL" stopall --dry-run --timeout 20
like "$OUT" "*cb ca wait for one another*cb: would stop through its shutdown policy*ca: would stop through its shutdown policy*" \
    "cycle, --dry-run: plans a clean stop of both, together"
unlike "$OUT" "*would force*" "cycle, --dry-run: plans no forcing"

: >"$LOG"
run "$NVQCTL" stopall --timeout 20
is "$RC" 0 "cycle: stopall exit 0"
clean "cycle"
[ "$RC" -eq 0 ] || diag "$OUT" "$ERR"

# A boot policy whose stopall raises: reported with its file and line,
# the built-in policy stops the VMs cleanly in the time left.
cat >"$NVQCTL_CONFDIR/policies/boot.lua" <<'LUA'
return { stopall = function(api, vms, opt)
	error("no stopall today")
end }
LUA
up
: >"$LOG"
run "$NVQCTL" stopall --timeout 20
is "$RC" 1 "a boot policy that raises: exit 1"
like "$ERR" "*policies/boot.lua:2: no stopall today*" \
    "a boot policy that raises: reported with file:line"
like "$OUT" "*the built-in boot policy stops * in the 2[0-9]s left*" \
    "a boot policy that raises: the built-in one takes over"
clean "raising policy"
[ "$RC" -eq 1 ] || diag "$OUT" "$ERR"

# A boot policy stuck in a C call (opening a FIFO nobody writes): the
# deadline holds, the built-in policy forces what is left at it, and
# nothing of stopall is left behind.
mkfifo "$TMP/fifo"
cat >"$NVQCTL_CONFDIR/policies/boot.lua" <<LUA
return { stopall = function(api, vms, opt)
	io.open("$TMP/fifo", "r")
end }
LUA
echo "HOST_SHUTDOWN_TIMEOUT=20" >"$NVQCTL_CONFDIR/nvqctl.conf"
up
t0=$(now)
run timeout 60 "$NVQCTL" stopall
t=$(secs "$t0" "$(now)")
awk -v t="$t" 'BEGIN { exit !(t <= 30) }'
ok $? "a policy stuck in a C call: stopall returned after ${t}s (deadline 20s, bound 30s)"
is "$(running_count)" 0 "a policy stuck in a C call: no QEMU left"
like "$ERR" "*the boot policy*did not finish by its limit*" \
    "a policy stuck in a C call: said so"
is "$(ps -eo args | grep -c "^$NVQCTL stopall")" 0 \
    "a policy stuck in a C call: no process of stopall left"
[ "$RC" -eq 1 ] || diag "$OUT" "$ERR"
