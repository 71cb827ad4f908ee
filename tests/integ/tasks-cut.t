#!/bin/sh
# post_stop under stopall gets the stopall deadline (a slow hook program
# is killed at it, none outlives stopall), a VM that was not running is
# not reported as forced, and a post_stop cut off with its runner
# (run.firing left behind) runs again at the next command; a task still
# at work when the boot policy returns is ended with the hook program
# it runs.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/guest.sh"

HK="$NVQCTL_CONFDIR/hooks"
LOG="$TMP/phases.log"
mkdir -p "$HK"
export LOG
guest_vm web no
echo "HOOK_TIMEOUT=30" >>"$NVQCTL_CONFDIR/vm/web.conf"
cat >"$HK/web.lua" <<'LUA'
local core = require "nvq.core"
local function rec(s)
	local f = assert(io.open(os.getenv("LOG"), "a"))
	f:write(s, "\n")
	f:close()
end
return { post_stop = function(vm, ev)
	rec("begin " .. ev.reason .. " " .. ev.context)
	core.run({ "sleep", "27.0417" })
	rec("end")
end }
LUA
sleepers() { ps -eo args | grep -c '^sleep 27\.0417$'; }

# A QEMU run that ended unseen: its marker is there, QEMU is not.
mkdir -p "$NVQCTL_RUNDIR/web"
echo 1 >"$NVQCTL_RUNDIR/web/run.pending"
t0=$(now)
run "$NVQCTL" stopall --timeout 2 web
t=$(secs "$t0" "$(now)")
awk -v t="$t" 'BEGIN { exit !(t <= 10) }'
ok $? "stopall --timeout 2: returned after ${t}s (bound 10s)"
is "$(sleepers)" 0 "the post_stop hook's program did not outlive stopall"
unlike "$OUT" "*forced*" "a VM that was not running is not reported forced"
like "$OUT" "*web *not running*" "summary: web not running"
like "$(tr '\n' ';' <"$LOG")" "begin exited host-shutdown;*end;" \
    "post_stop ran to its end within the deadline"
[ -e "$NVQCTL_RUNDIR/web/run.firing" ]
ok $((!$?)) "post_stop finished: no run.firing left"

# post_stop cut off with its runner: the next command runs it again.
: >"$LOG"
printf '999999999\tacpi\n' >"$NVQCTL_RUNDIR/web/run.firing"
cat >"$HK/web.lua" <<'LUA'
return { post_stop = function(vm, ev)
	local f = assert(io.open(os.getenv("LOG"), "a"))
	f:write("again ", ev.reason, "\n")
	f:close()
end }
LUA
run "$NVQCTL" list
is "$(cat "$LOG")" "again acpi" "an interrupted post_stop runs again, with its reason"
[ -e "$NVQCTL_RUNDIR/web/run.firing" ]
ok $((!$?)) "run again: run.firing gone"
run "$NVQCTL" list
is "$(cat "$LOG")" "again acpi" "and only once"

# A policy that returns with a task still in its pre_start hook: the
# task and the hook's program end with startall.
mkdir -p "$NVQCTL_CONFDIR/policies"
cat >"$NVQCTL_CONFDIR/policies/boot.lua" <<'LUA'
return { startall = function(api, vms)
	api.start(vms[1])
	api.sleep_until(api.now() + 2)
end }
LUA
cat >"$HK/web.lua" <<'LUA'
local core = require "nvq.core"
return { pre_start = function() core.run({ "sleep", "27.0418" }) end }
LUA
rm -f "$NVQCTL_RUNDIR/web/run.pending"
run "$NVQCTL" startall web
is "$(ps -eo args | grep -c '^sleep 27\.0418$')" 0 \
    "startall: the hook program of a task left by the policy is gone"
[ -z "$(qemu_pid web)" ]
ok $? "startall: the VM was never started"
